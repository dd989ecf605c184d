"""Evidence items: officers add and supersede them in a draft cycle, every reader lists and
downloads them, nobody deletes them.

An item answers one entry of the control's catalogue checklist (`Control.evidence`) and
is either a file (kept by its SHA-256 in the evidence store, `riskmap.evidence_files`) or
a reference to a document that cannot leave its registry. Every upload is checked by its
content before a byte is stored; every change, and every download, is an audit event.
A file is written to the store before the row is committed: if the transaction then
fails, the store holds a file no item names (harmless, content-addressed), never an item
without its file.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath, PureWindowsPath

import pandas as pd
from sqlalchemy import select

from riskmap import audit, texts
from riskmap.evidence_files import EvidenceStore, FileRefused, media_type, status, store_dir
from riskmap.service import frames
from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import NotFound, ValidationError
from riskmap.store.models import ControlRating, Cycle, EvidenceItem, RiskRating, Unit


def evidence_store(tx: Tx) -> EvidenceStore:
    """The store beside this service's database (or `$RISKMAP_EVIDENCE_DIR`)."""
    return EvidenceStore(store_dir(tx.svc.engine.url))


def _checklist(tx: Tx, control_id: str | None, entry: int | str | None) -> str:
    """The checklist entry's text: given by its number (1 = the first) or its text."""
    if control_id is None:  # a risk rating's justification: no catalogue checklist
        return texts.checked("checklist_entry", str(entry or "").strip())
    checklist = list(tx.catalogue.control_by_id[control_id].evidence)
    if entry is None or entry == "":
        raise ValidationError(
            "checklist entry",
            f"name the entry of {control_id}'s checklist this answers (1-{len(checklist)})",
        )
    if isinstance(entry, int) or str(entry).strip().isdigit():
        n = int(entry)
        if not 1 <= n <= len(checklist):
            raise ValidationError(
                "checklist entry", f"{control_id} has entries 1-{len(checklist)}, got {n}"
            )
        return checklist[n - 1]
    if str(entry).strip() not in checklist:
        raise ValidationError(
            "checklist entry", f"{str(entry)[:80]!r} is not on {control_id}'s checklist"
        )
    return str(entry).strip()


def _file_name(name: str) -> str:
    """The last part of the name a user gave (a path is not ours to follow), as data."""
    base = PureWindowsPath(PurePosixPath(str(name or "")).name).name.strip()
    if not base:
        raise ValidationError("file name", "give the file's name")
    problem = texts.text_problem("file name", base, 255)
    if problem:
        raise ValidationError("file name", problem)
    return base


def _new_item(
    tx: Tx,
    cyc: Cycle,
    unit: Unit,
    control_id: str | None,
    risk_id: str | None,
    *,
    checklist_entry: int | str | None,
    data: bytes | None,
    file_name: str,
    reference: str,
    valid_until: date | None,
) -> EvidenceItem:
    """Check everything an item says, then keep its file and add its row (not flushed)."""
    if valid_until is not None and not isinstance(valid_until, date):
        raise ValidationError("valid until", "give a date (YYYY-MM-DD)")
    if valid_until is not None and valid_until < date.today():
        raise ValidationError("valid until", f"{valid_until} has passed: the item would be expired")
    entry = _checklist(tx, control_id, checklist_entry)
    reference = str(reference or "").strip()
    if (data is None) == (not reference):
        raise ValidationError(
            "evidence", "give either a file or a reference (document number, register, location)"
        )
    item = EvidenceItem(
        cycle_id=cyc.id,
        unit_id=unit.id,
        control_id=control_id,
        risk_id=risk_id,
        checklist_entry=entry,
        reference=texts.checked("reference", reference) if reference else "",
        added_by=tx.who,
        valid_until=valid_until,
    )
    if data is None:
        item.kind = "reference"
    else:
        name = _file_name(file_name)
        try:
            kind = media_type(bytes(data))
        except FileRefused as exc:
            raise ValidationError(f"evidence file {name!r}", str(exc)) from None
        item.kind, item.file_name, item.media_type = "file", name, kind
        item.size = len(data)
        item.sha256 = evidence_store(tx).put(bytes(data))
    tx.session.add(item)
    return item


def _rated(tx: Tx, cyc: Cycle, unit: Unit, control_id: str | None, risk_id: str | None) -> None:
    """The item belongs to an existing rating of the cycle: one control or one risk."""
    if (control_id is None) == (risk_id is None):
        raise ValidationError("evidence", "name either a control or a risk, not both")
    if control_id is not None:
        model, column, key = ControlRating, ControlRating.control_id, control_id
    else:
        model, column, key = RiskRating, RiskRating.risk_id, risk_id
    found = tx.session.scalar(
        select(model.id).where(model.cycle_id == cyc.id, model.unit_id == unit.id, column == key)
    )
    if found is None:
        raise NotFound(f"unit {unit.code} has no rating of {key} in cycle {cyc.label}")


def _shown(item: EvidenceItem, unit: str) -> dict:
    return {**snapshot(item), "unit": unit}


def checklist_entry(tx: Tx, control_id: str, entry: int | str) -> str:
    """The text of the entry of `control_id`'s checklist an item answers (by number, 1 =
    the first, or by text), or `ValidationError`: the rule of every item, also for the
    references a questionnaire brings."""
    return _checklist(tx, control_id, entry)


def new_reference(
    tx: Tx, cyc: Cycle, unit: Unit, control_id: str, entry: int | str, reference: str
) -> EvidenceItem:
    """A reference item of a control rating, checked as `add_evidence` checks one (added to
    the session, not flushed: an import adds many, then flushes once)."""
    return _new_item(
        tx, cyc, unit, control_id, None, checklist_entry=entry, data=None, file_name="",
        reference=reference, valid_until=None,
    )  # fmt: skip


def added_event(item: EvidenceItem, unit: str) -> audit.Entry:
    """The audit event of an item added (after its row is flushed)."""
    return audit.Entry(
        "evidence.add", "evidence_item", item.id, after=_shown(item, unit), cycle_id=item.cycle_id
    )


@use_case("officer")
def add_evidence(
    tx: Tx,
    cycle: str,
    unit: str,
    *,
    control_id: str | None = None,
    risk_id: str | None = None,
    checklist_entry: int | str | None = None,
    data: bytes | None = None,
    file_name: str = "",
    reference: str = "",
    valid_until: date | None = None,
) -> dict:
    """Add a file or a reference to a rating of a draft cycle."""
    cyc = tx.cycle(cycle)
    tx.writable(cyc, "draft")
    u = tx.unit(unit)
    _rated(tx, cyc, u, control_id, risk_id)
    item = _new_item(
        tx, cyc, u, control_id, risk_id, checklist_entry=checklist_entry, data=data,
        file_name=file_name, reference=reference, valid_until=valid_until,
    )  # fmt: skip
    tx.session.flush()
    event = added_event(item, unit)
    audit.record_many(tx.session, actor=tx.who, entries=[event])
    return event.after


@use_case("officer")
def supersede_evidence(
    tx: Tx,
    item_id: int,
    *,
    reason: str,
    checklist_entry: int | str | None = None,
    data: bytes | None = None,
    file_name: str = "",
    reference: str = "",
    valid_until: date | None = None,
) -> dict:
    """Replace an item by a new one; the old one stays, naming its successor."""
    old = tx.session.get(EvidenceItem, int(item_id))
    if old is None:
        raise NotFound(f"no evidence item {item_id}")
    tx.guard(tx.session.get(Unit, old.unit_id).code)
    if old.superseded_by is not None:
        raise ValidationError(
            "evidence item", f"item {old.id} was already superseded by item {old.superseded_by}"
        )
    if not str(reason or "").strip():
        raise ValidationError("reason", "say why the item is superseded")
    cyc = tx.session.get(Cycle, old.cycle_id)
    tx.writable(cyc, "draft")
    u = tx.session.get(Unit, old.unit_id)
    entry = checklist_entry if checklist_entry not in (None, "") else old.checklist_entry
    new = _new_item(
        tx, cyc, u, old.control_id, old.risk_id, checklist_entry=entry, data=data,
        file_name=file_name, reference=reference, valid_until=valid_until,
    )  # fmt: skip
    tx.session.flush()
    before = _shown(old, u.code)
    old.superseded_by = new.id
    tx.session.flush()
    tx.audit("evidence.add", "evidence_item", new.id, after=_shown(new, u.code), cycle_id=cyc.id)
    tx.audit(
        "evidence.supersede", "evidence_item", old.id, before=before,
        after=_shown(old, u.code), reason=str(reason).strip(), cycle_id=cyc.id,
    )  # fmt: skip
    return _shown(new, u.code)


ITEM_COLUMNS = [
    "id", "unit_code", "control_id", "risk_id", "kind", "checklist_entry", "file_name",
    "media_type", "size", "sha256", "reference", "added_by", "added_at", "valid_until",
    "superseded_by", "status",
]  # fmt: skip


def item_frame(tx: Tx, cyc: Cycle, unit: str | None, today: date, superseded: bool):
    e = EvidenceItem
    stmt = (
        select(Unit.code.label("unit_code"), *[c for c in e.__table__.c if c.key != "unit_id"])
        .join(Unit, Unit.id == e.unit_id)
        .where(e.cycle_id == cyc.id)
        .order_by(Unit.code, e.control_id, e.risk_id, e.id)
    )
    if unit is not None:
        stmt = stmt.where(Unit.code == unit)
    if not superseded:
        stmt = stmt.where(e.superseded_by.is_(None))
    frame = frames.visible(tx.session, pd.read_sql(stmt, tx.session.connection()))
    frame["valid_until"] = [
        None if pd.isna(v) else pd.Timestamp(v).date() for v in frame["valid_until"]
    ]
    frame["status"] = [status(v, today) for v in frame["valid_until"]]
    return frame[ITEM_COLUMNS]


@use_case(*READERS)
def evidence_items(
    tx: Tx,
    cycle: str,
    unit: str | None = None,
    *,
    today: date | None = None,
    include_superseded: bool = False,
) -> pd.DataFrame:
    """The items of a cycle (or one unit) with their status on `today`."""
    if unit is not None:
        tx.guard(unit)
    return item_frame(tx, tx.cycle(cycle), unit, today or date.today(), include_superseded)


@use_case(*READERS)
def evidence_file(tx: Tx, item_id: int) -> tuple[str, str, bytes]:
    """A file item's name, media type and bytes (checked against its hash); audited."""
    item = tx.session.get(EvidenceItem, int(item_id))
    if item is None or item.kind != "file" or item.sha256 is None:
        raise NotFound(f"no evidence file {item_id}")
    tx.guard(tx.session.get(Unit, item.unit_id).code)
    try:
        data = evidence_store(tx).read(item.sha256)
    except (OSError, ValueError) as exc:  # missing, changed, or a hash that is no hash
        raise ValidationError(f"evidence file {item.file_name!r}", str(exc)) from None
    tx.audit("evidence.download", "evidence_item", item.id, cycle_id=item.cycle_id)
    return str(item.file_name), str(item.media_type), data


@use_case(*READERS)
def verify_evidence(tx: Tx) -> pd.DataFrame:
    """Every stored file re-hashed: one row per file hash, `state` ok, changed or missing."""
    store = evidence_store(tx)
    stmt = select(EvidenceItem.sha256, EvidenceItem.id, EvidenceItem.file_name)
    stmt = stmt.where(EvidenceItem.sha256.is_not(None)).order_by(EvidenceItem.id)
    rows = tx.session.execute(tx.only_visible(stmt, EvidenceItem.unit_id)).all()
    seen: dict[str, dict] = {}
    for sha, item_id, name in rows:
        entry = seen.setdefault(sha, {"sha256": sha, "items": [], "file_names": []})
        entry["items"].append(item_id)
        entry["file_names"].append(name)
    for entry in seen.values():
        entry["state"] = store.check(entry["sha256"])
        entry["path"] = str(store.path(entry["sha256"]))
    return pd.DataFrame(
        list(seen.values()), columns=["sha256", "state", "items", "file_names", "path"]
    )
