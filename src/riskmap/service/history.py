"""Who did what to a cycle, and when: its workflow steps and comments, for every reader.

The full audit trail (with before/after values of every rating) is for auditors and
administrators; this read gives officers and managers the cycle's own history: started,
submitted, approved, locked, reopened (with the reason), commented, confirmed.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import or_, select

from riskmap import scopes
from riskmap.service.core import READERS, Tx, json_value, use_case
from riskmap.store.models import AuditEvent

HISTORY_COLUMNS = ["at", "actor", "action", "reason"]
_ACTIONS = {
    "cycle.start": "started the cycle",
    "cycle.submit": "submitted it for review",
    "cycle.approve": "approved it",
    "cycle.lock": "locked it",
    "cycle.reopen": "reopened it",
    "cycle.comment": "commented",
    "ratings.confirm": "confirmed ratings as they stood",
    "plan.build": "built the remediation plan",
}


@use_case(*READERS)
def cycle_history(tx: Tx, label: str) -> pd.DataFrame:
    """The cycle's workflow events, oldest first: when, who, what, why (or the comment)."""
    cycle = tx.cycle(label)
    events = tx.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.cycle_id == cycle.id,
            or_(AuditEvent.entity.in_(("cycle", "comment")), AuditEvent.action == "plan.build"),
        )
        .order_by(AuditEvent.id)
    )
    rows = []
    codes = tx.visible_codes  # a scoped reader: not another unit's confirmations
    for e in events:
        if codes is not None and not scopes.event_visible(
            e.entity, e.entity_id, e.before, e.after, codes
        ):
            continue
        what = _ACTIONS.get(e.action, e.action.replace(".", " ").replace("_", " "))
        reason = e.reason or ""
        if e.action == "cycle.comment":
            reason = (e.after or {}).get("text", "")
        elif e.action == "ratings.confirm":
            after = e.after or {}
            unit = after.get("unit") or "all units"
            what = f"{what} ({unit}: {after.get('risk_ratings', 0)} risk, "
            what += f"{after.get('control_ratings', 0)} control ratings)"
        rows.append({"at": json_value(e.at), "actor": e.actor, "action": what, "reason": reason})
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)
