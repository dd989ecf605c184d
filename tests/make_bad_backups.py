"""The corpus of damaged and edited backups, each with the exact refusal of `riskmap restore`.

Every case starts from the good backup of a small assessment (`tests/test_backup.py`'s
`populate`, plus the history `add_history` records: an auditor's account and the locking of
cycle 2024) and spoils it one way. `cases.yaml` in `tests/data/bad_backups/` says, for each
file, the exact stderr lines of `riskmap restore FILE --accept-edited` (`errors`), and
whether the plain `riskmap restore FILE` is refused by the digest first (`digest: edited`,
`missing` or `other key`). `tests/test_backup_corpus.py` builds the files and checks every
case, and that the target database is still empty after each refusal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riskmap import audit, keys
from riskmap.backup import digest
from riskmap.store.engine import make_engine, session_factory
from riskmap.store.models import Cycle, User

CORPUS = Path(__file__).resolve().parent / "data" / "bad_backups"
ATTACKER_KEY = keys.Keyring((keys.Key(keys.key_id(b"x" * 32), b"x" * 32),), "the attacker")


def add_history(url: str) -> None:
    """Audit events that fix who is what: an auditor added, cycle 2024 locked."""
    eng = make_engine(url)
    try:
        with session_factory(eng)() as s, s.begin():
            s.add(User(username="auditor", role="auditor", password_hash="x" * 40))
            audit.record(
                s, actor="cli:admin", action="user.add", entity="user", entity_id="auditor",
                after={"username": "auditor", "role": "auditor", "active": True},
            )  # fmt: skip
            cycle = s.query(Cycle).filter_by(label="2024").one()
            audit.record(
                s, actor="manager", action="cycle.lock", entity="cycle", entity_id="2024",
                before={"status": "approved"}, after={"status": "locked"}, cycle_id=cycle.id,
            )  # fmt: skip
    finally:
        eng.dispose()


def _row(data: dict, table: str, rid: int) -> dict:
    return next(r for r in data["tables"][table] if r["id"] == rid)


def _set(table: str, rid: int, **values: Any) -> Callable[[dict], dict]:
    def change(data: dict) -> dict:
        _row(data, table, rid).update(values)
        return data

    return change


def _drop(table: str, rid: int, field: str) -> Callable[[dict], dict]:
    def change(data: dict) -> dict:
        del _row(data, table, rid)[field]
        return data

    return change


def _top(**values: Any) -> Callable[[dict], dict]:
    def change(data: dict) -> dict:
        data.update(values)
        return data

    return change


def _duplicate_unit(data: dict) -> dict:
    _row(data, "units", 2)["id"] = 1
    return data


def _add_column(data: dict) -> dict:
    _row(data, "users", 1)["is_superuser"] = True
    return data


def _resealed_by_attacker(data: dict) -> dict:
    data = _set("risk_ratings", 1, likelihood=5)(data)
    data["digest"] = digest(data, ATTACKER_KEY)
    return data


def _no_digest(data: dict) -> dict:
    del data["digest"]
    return data


def _nan(data: dict) -> str:
    _row(data, "actions", 1)["reduction"] = float("nan")
    return json.dumps(data)  # Python writes NaN, which json.loads takes back


def _scope(kind: str, value: str) -> Callable[[dict], dict]:
    """A need-to-know scope entry added for user 2 (the officer)."""

    def change(data: dict) -> dict:
        row = {"id": 1, "user_id": 2, "kind": kind, "value": value}
        data["tables"].setdefault("user_scopes", []).append(row)
        return data

    return change


# name -> build(good backup) -> the edited backup (a dict), or the file's text or bytes.
Build = Callable[[dict], Any]
CASES: dict[str, Build] = {
    "01_not_json.json": lambda d: "this is not a backup\n",
    "02_not_utf8.json": lambda d: b"\xff\xfe{}",
    "03_nested_100000_deep.json": lambda d: "[" * 100_000 + "]" * 100_000,
    "04_not_a_backup.json": lambda d: {"tables": d["tables"]},
    "05_other_format_version.json": _top(format_version=7),
    "06_other_schema_revision.json": _top(schema_revision="9999"),
    "07_tables_not_a_mapping.json": _top(tables=[1, 2, 3]),
    "08_unknown_table.json": lambda d: {**d, "tables": {**d["tables"], "secrets": []}},
    "09_unknown_column.json": _add_column,
    "10_rows_not_a_list.json": lambda d: {**d, "tables": {**d["tables"], "units": {"a": 1}}},
    "11_digest_removed.json": _no_digest,
    "12_resealed_with_another_key.json": _resealed_by_attacker,
    "13_plausible_edit.json": _set("risk_ratings", 1, likelihood=5),
    "14_headcount_many.json": _set("units", 1, headcount="many"),
    "15_date_yesterday.json": _set("incidents", 1, occurred_on="yesterday"),
    "16_dangling_foreign_key.json": _set("risk_ratings", 1, unit_id=99),
    "17_duplicate_id.json": _duplicate_unit,
    "18_missing_name.json": _drop("units", 1, "name"),
    "19_likelihood_object.json": _set("risk_ratings", 1, likelihood={"value": 4}),
    "20_likelihood_99.json": _set("risk_ratings", 1, likelihood=99),
    "21_maturity_minus_7.json": _set("control_ratings", 1, maturity=-7),
    "22_role_superadmin.json": _set("users", 1, role="superadmin"),
    "23_auditor_promoted_to_admin.json": _set("users", 3, role="admin"),
    "24_locked_cycle_back_to_draft.json": _set("cycles", 1, status="draft", locked_at=None),
    "25_rating_of_an_unknown_risk.json": _set("risk_ratings", 1, risk_id="BOR-99"),
    "26_nul_in_a_justification.json": _set("risk_ratings", 1, justification="a\x00b"),
    "27_justification_1mb.json": _set("risk_ratings", 1, justification="x" * 1024 * 1024),
    "28_duplicate_username.json": _set("users", 2, username="officer"),
    "29_reduction_nan.json": _nan,
    "30_audit_event_edited.json": _set("audit_events", 2, reason="edited in the file"),
    "31_scope_of_an_unknown_kind.json": _scope("everything", "all"),
    "32_scope_of_a_missing_unit.json": _scope("unit", "NO-SUCH-UNIT"),
}


def build(name: str, good: dict) -> bytes:
    """The bytes of case `name`, made from a deep copy of the good backup."""
    made = CASES[name](copy.deepcopy(good))
    if isinstance(made, bytes):
        return made
    if isinstance(made, str):
        return made.encode("utf-8")
    return json.dumps(made, ensure_ascii=False).encode("utf-8")
