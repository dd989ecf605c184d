"""The Evidence sheet, and what the Controls sheet shows of it.

One row per current evidence item of the cycle (file or reference), sorted by unit,
control, risk and item, so the items of one control rating are contiguous: the Controls
sheet shows each rating's number of valid items (status not expired, the rule of
`riskmap.evidence_files.status` as the service judged it) and links to the rating's
first row here. An auditor who received a file checks it against the `sha256` column.
Every name and reference a user typed is written as text (`riskmap.reports.cells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.reports.layout import Col, frame_sheet
from riskmap.reports.stream import Book, Sheet

EVIDENCE_SHEET = "Evidence"
EVIDENCE_COLUMNS = [
    Col("unit_code", 12), Col("control_id", 28), Col("risk_id", 12),
    Col("checklist_entry", 50, "wrap"), Col("kind", 10), Col("file_name", 30),
    Col("reference", 36, "wrap"), Col("media_type", 22), Col("size", 10),
    Col("sha256", 66), Col("added_by", 16), Col("added_at", 20), Col("valid_until", 12),
    Col("status", 10), Col("id", 8),
]  # fmt: skip
_ORDER = ["unit_code", "control_id", "risk_id", "id"]
LINK_COLUMNS = ["unit_code", "control_id", "valid_evidence_items", "evidence_row"]


def evidence_frame(evidence: pd.DataFrame) -> pd.DataFrame:
    """The sheet's rows in order, with `row` (the sheet row of each, after the header)."""
    out = evidence.copy()
    if out.empty or not set(_ORDER) <= set(out.columns):
        return out.assign(row=pd.Series(dtype="int64"))
    out = out.sort_values(_ORDER, na_position="last", kind="stable", ignore_index=True)
    if "added_at" in out.columns:  # Excel has no time zones
        added = pd.to_datetime(out["added_at"], utc=True)
        out["added_at"] = added.dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    out["row"] = np.arange(len(out)) + 2
    return out


def control_links(evidence: pd.DataFrame) -> pd.DataFrame:
    """Per (unit, control) with items: the number valid and the first Evidence row."""
    if evidence.empty or "row" not in evidence.columns or "status" not in evidence.columns:
        return pd.DataFrame(columns=LINK_COLUMNS)
    on_controls = evidence[evidence["control_id"].notna()]
    valid = on_controls["status"] != "expired"
    grouped = on_controls.assign(valid=valid).groupby(["unit_code", "control_id"], sort=False)
    out = grouped.agg(valid_evidence_items=("valid", "sum"), evidence_row=("row", "min"))
    return out.reset_index()[LINK_COLUMNS]


def location(row: int) -> str:
    """Where a link to Evidence row `row` points (column A of that row)."""
    return f"'{EVIDENCE_SHEET}'!A{int(row)}"


def write_evidence(book: Book, evidence: pd.DataFrame) -> Sheet:
    return frame_sheet(book, EVIDENCE_SHEET, evidence, EVIDENCE_COLUMNS, table="tbl_evidence")
