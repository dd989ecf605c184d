"""A cycle read and scored once per data version of its own, for every reader in the process.

Overview's key figures and glance, the heat maps, the top missing controls, the register
and its roll-ups, calibration and the plan's preview of the same cycle share one read (the
lean frames: no editor's fields) and one score; a save in the cycle in view leaves the
previous cycle's scores memoised. What a reader gets is a copy, so none can change what
another sees.
"""

from __future__ import annotations

import weakref

import pandas as pd
from sqlalchemy import func, select

from riskmap.scoring import score
from riskmap.service import frames
from riskmap.service.core import Tx
from riskmap.store.models import AuditEvent, Cycle

# A cycle read and scored once per data version of its own: Overview's key figures and
# maps (and the heat maps, top missing controls) of the same cycle share one read and one
# score, and a save in the cycle in view leaves the previous cycle's scores memoised.
# Keyed on the engine (weakly: the memo goes with it), the cycle, its status and lock, the
# cycle's data version (`cycle_data_version`), the catalogue version, the day evidence is
# judged on (`frames.as_of`) and the units the reader may see; callers get copies, so none
# can change what another sees.
_SCORED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SCORED_PER_ENGINE = 4


def forget_scored() -> None:
    """Drop every memoised scored cycle (the benchmark's cold runs; tests)."""
    _SCORED.clear()


def _copies(reg: pd.DataFrame, f: frames.CycleFrames) -> tuple[pd.DataFrame, frames.CycleFrames]:
    return reg.copy(), frames.CycleFrames(
        units=f.units.copy(),
        risk_ratings=f.risk_ratings.copy(),
        control_ratings=f.control_ratings.copy(),
        incidents=f.incidents.copy(),
    )


def cycle_data_version(tx: Tx, cyc: Cycle) -> tuple[int, int]:
    """What moves with every change that can alter `cyc`'s scores: the latest audit event
    of the cycle itself (its ratings, evidence, actions, status) and the latest event of no
    cycle (units, the organisation, users, restores). Events of another cycle, such as the
    saves in the cycle after it, leave it where it is."""
    latest = func.max(AuditEvent.id)
    own = tx.session.scalar(select(latest).where(AuditEvent.cycle_id == cyc.id))
    general = tx.session.scalar(select(latest).where(AuditEvent.cycle_id.is_(None)))
    return int(own or 0), int(general or 0)


def scored(tx: Tx, cyc: Cycle) -> tuple[pd.DataFrame, frames.CycleFrames]:
    """(register, lean frames) of `cyc` as the reader may see them, from the memo when
    nothing that moves its scores has changed since."""
    engine = tx.session.get_bind()
    key = (
        cyc.id,
        cyc.status,
        cyc.locked_at,
        cycle_data_version(tx, cyc),
        tx.catalogue.version,
        frames.as_of(cyc),
        tx.visible_codes,
    )
    memo = _SCORED.setdefault(engine, {})
    if key not in memo:
        f = frames.cycle_frames(tx.session, cyc, lean=True)
        memo[key] = (score(f.risk_ratings, f.control_ratings, f.units, tx.catalogue), f)
        while len(memo) > _SCORED_PER_ENGINE:
            memo.pop(next(iter(memo)))
    return _copies(*memo[key])
