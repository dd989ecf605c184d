"""openpyxl's read-only cell reader against riskmap's strict sheet reader (`sheet_rows`).

Both read the Risks and Controls sheets of a questionnaire template: the corpus's fixture
(2 units, read 200 times) and the same cycle with its units copied 400 times (800 units,
read once); prints microseconds per cell, the workbook's opening included. `sheet_rows` is
kept because it names the cell of every malformed value (and is the faster of the two).

    PYTHONPATH=src:tests .venv/bin/python bench/sheet_reader.py
"""

from __future__ import annotations

import dataclasses
import io
import sys
import time
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

# The corpus's fixture lives with the tests (also when `make bench` discovers this module).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import make_bad_questionnaires as corpus  # noqa: E402
from riskmap.catalogue import load_catalogue
from riskmap.reports import questionnaire_template, sheet_rows

ROUNDS = 200
COPIES = 400


def _national(catalogue) -> bytes:
    """The fixture's cycle with every unit copied COPIES times (new ids and codes)."""
    snap = corpus.fixture_snapshot(catalogue)

    def copies(frame: pd.DataFrame, code: bool = False) -> pd.DataFrame:
        parts = []
        for i in range(COPIES):
            part = frame.assign(unit_code=frame["unit_code"] + f"-{i}")
            if code:
                part = part.assign(code=part["code"] + f"-{i}")
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    big = dataclasses.replace(
        snap,
        units=copies(snap.units, code=True),
        risk_ratings=copies(snap.risk_ratings),
        control_ratings=copies(snap.control_ratings),
    )
    return questionnaire_template(big, catalogue)


def main() -> None:
    catalogue = load_catalogue()
    for label, data, rounds in (
        ("2 units", corpus.good_template(catalogue), ROUNDS),
        (f"{2 * COPIES} units", _national(catalogue), 1),
    ):
        _compare(label, data, rounds)


def _compare(label: str, data: bytes, rounds: int) -> None:
    timings = {}
    for name in ("openpyxl read-only", "sheet_rows"):
        cells = 0
        start = time.perf_counter()
        for _ in range(rounds):
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            for sheet in ("Risks", "Controls"):
                if name == "sheet_rows":
                    cells += sum(len(c) for _, c in sheet_rows.rows(wb[sheet]))
                else:
                    for row in wb[sheet].iter_rows(values_only=True):
                        cells += sum(v is not None for v in row)
            wb.close()
        timings[name] = (time.perf_counter() - start) / cells * 1e6
    for name, us in timings.items():
        print(f"{label:10} {name:20} {us:6.2f} us a cell (workbook opening included)")


if __name__ == "__main__":
    main()
