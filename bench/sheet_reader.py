"""openpyxl's read-only cell reader against riskmap's strict sheet reader (`sheet_rows`).

Both read the Risks and Controls sheets of one questionnaire template (the corpus's
fixture, read 200 times); prints microseconds per cell. `sheet_rows` is kept because it is
the faster of the two and because it names the cell of every malformed value.

    PYTHONPATH=src:tests .venv/bin/python bench/sheet_reader.py
"""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook

import make_bad_questionnaires as corpus
from riskmap.catalogue import load_catalogue
from riskmap.reports import sheet_rows

ROUNDS = 200


def main() -> None:
    data = corpus.good_template(load_catalogue())
    timings = {}
    for name in ("openpyxl read-only", "sheet_rows"):
        cells = 0
        start = time.perf_counter()
        for _ in range(ROUNDS):
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
        print(f"{name:20} {us:6.2f} us a cell (workbook opening included)")


if __name__ == "__main__":
    main()
