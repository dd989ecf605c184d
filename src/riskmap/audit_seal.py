"""How an audit event is sealed: its canonical JSON and its HMAC-SHA256 (pure).

Apart from `riskmap.audit` (which re-exports every name) to keep each module small.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import math
import numbers
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

# --- canonical forms -------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data: dates and datetimes become ISO strings, Decimals floats.

    Aware datetimes are converted to UTC; tuples and sets become lists; mapping keys
    become strings. Non-finite floats become the strings "nan", "inf", "-inf".
    Raises TypeError for anything else that JSON cannot carry.
    """
    kind = type(value)  # the exact common types first: an import seals thousands of rows
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is dict:
        return {str(k): json_safe(v) for k, v in value.items()}
    if kind is float:
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, (float, Decimal, numbers.Real)):
        f = float(value)
        return f if math.isfinite(f) else str(f)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, pandas Series
    if callable(tolist):
        plain = tolist()
        if type(plain) is not type(value):
            return json_safe(plain)
    raise TypeError(f"cannot record a {type(value).__name__} in the audit log: {value!r}")


_CANONICAL = {
    "sort_keys": True,
    "separators": (",", ":"),
    "ensure_ascii": False,
    "allow_nan": False,
}


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, **_CANONICAL)


def _canonical_encoder() -> Callable[[Any], str]:
    """`canonical_json` for many small values: the C encoder made once, not per value.

    `json.dumps` builds an encoder for every call, which was most of the time of a backup's
    80,000 rows; this calls the same C encoder with the same settings (no circular-reference
    check: rows are plain data). Falls back to a reused `JSONEncoder` without the C module."""
    make = json.encoder.c_make_encoder
    if make is None:  # pragma: no cover - CPython always has _json
        return json.JSONEncoder(**_CANONICAL).encode

    def _refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    encode = make(None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    return lambda value: "".join(encode(value, 0))


canonical_json_many = _canonical_encoder()
"""`canonical_json`, faster on many small values (a backup's rows); the same text."""


def _utc(at: datetime) -> datetime:
    # SQLite hands timestamps back naive; riskmap always stores them in UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    cycle_id: int | None,
    before: Any,
    after: Any,
    reason: str,
    prev_hash: str,
    key: bytes | None = None,
) -> str:
    """The seal (hex) of an event's content, id excluded: HMAC-SHA256 under `key` of its
    canonical JSON; with no key, its plain SHA-256 (the trail before it was keyed)."""
    content = {
        "at": _iso(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "cycle_id": cycle_id,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    message = canonical_json(content).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
