"""The streamed workbook: rows leave memory as they are appended and read back the same.

A sheet of many rows keeps at most a flush's worth of rows as text (the rest is in its
temporary file), the file openpyxl reads back holds every row's values in order, text
with XML's special characters survives, and the fast helpers give what pandas' own
`to_dict("records")` and `itertuples` give.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from riskmap.reports import stream
from riskmap.reports.cells import Cell
from riskmap.reports.stream import Book
from row_writers import records, rows_of


def test_a_long_sheet_is_spooled_not_held_and_reads_back_whole():
    book = Book()
    sheet = book.sheet("Long", [10, 30, 10])
    n = stream._FLUSH_ROWS * 3 + 17
    held = 0
    for i in range(n):
        sheet.append([f"U-{i % 50}", f"text <{i}> & 'more'\r", i * 0.5])
        held = max(held, len(sheet._parts))
    sheet.append([Cell("C2*2", "f", 0)])
    assert held < stream._FLUSH_ROWS  # never the whole sheet as text
    assert sheet._spool is not None and sheet.size() > 0
    data = book.save()
    assert sheet._spool is None  # the temporary file is gone after writing
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert xml.count(b"<row ") == n + 1
    assert f'<dimension ref="A1:C{n + 1}"/>'.encode() in xml
    ws = load_workbook(io.BytesIO(data))["Long"]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == n + 1
    assert rows[0] == ("U-0", "text <0> & 'more'\r", 0)
    assert rows[n - 1] == (f"U-{(n - 1) % 50}", f"text <{n - 1}> & 'more'\r", (n - 1) * 0.5)
    assert rows[n][0] == "=C2*2"


def test_escape_is_xml_escaping():
    for text in ["plain", "a<b", "x & y > z", "line\r\nnext", "&amp; already", ""]:
        expected = (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("\r", "&#13;")
        )
        assert stream._escape(text) == expected


def test_records_and_rows_of_give_what_pandas_gives():
    n = 500
    frame = pd.DataFrame(
        {
            "code": [f"U-{i % 7}" for i in range(n)],
            "count": np.arange(n),
            "share": np.where(np.arange(n) % 3 == 0, np.nan, np.arange(n) / 7),
            "note": [None if i % 2 else "x" for i in range(n)],
            "flag": np.arange(n) % 2 == 0,
        }
    )
    fast, slow = records(frame), frame.to_dict("records")
    assert len(fast) == len(slow) == n
    for a, b in zip(fast, slow, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            x, y = a[key], b[key]
            assert type(x) is type(y), key
            assert x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)), key
    cols = ["code", "count", "flag"]
    assert list(rows_of(frame, cols)) == list(frame[cols].itertuples(index=False, name=None))
