"""Hostile questionnaires on the Exports page: a located refusal, never an exception.

The cells are broken in the demo template's own XML (the corpus's builders work on the
corpus's hand-made cycle; these on the page's demo database), and the page must list the
problem with its sheet and cell, offer no "Apply all" and change nothing.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from test_ui_exports import XLSX, run
from ui_harness import errors

RISKS = "xl/worksheets/sheet2.xml"


def _broken(template: bytes, cell: str, replacement: str) -> bytes:
    """The template with the Risks sheet's `cell` element replaced by `replacement`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == RISKS:
                pattern = rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)'.encode()
                data, n = re.subn(pattern, replacement.encode(), data, count=1)
                assert n == 1
            zout.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("cell", "replacement", "problem"),
    [
        ("K2", '<c r="K2" t="s"><v>-1</v></c>', "the cell points at shared string '-1'"),
        ("G2", '<c r="G2"><v>abc</v></c>', "a number cell holds 'abc', which is not a number"),
        ("G2", '<c r="G2"><v>NaN</v></c>', "a number cell holds 'NaN', which is not a number"),
    ],
)
def test_a_malformed_cell_is_refused_at_its_cell(ui_db, cell, replacement, problem):
    with ui_db.service() as svc:
        template = s.questionnaire_template(svc, CLI_ADMIN, "2026", units=["BC-001"])
        events = len(s.audit_trail(svc, CLI_ADMIN))
    at = run("officer")
    at.file_uploader[0].upload("hostile.xlsx", _broken(template, cell, replacement), XLSX)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("hostile.xlsx: 1 problem(s)" in e for e in errors(at)), errors(at)
    shown = at.dataframe[0].value
    assert list(zip(shown["sheet"], shown["cell"], strict=True)) == [("Risks", cell)]
    assert shown["problem"].iloc[0].startswith(problem)
    assert "Apply all" not in [b.label for b in at.button]
    with ui_db.service() as svc:
        assert len(s.audit_trail(svc, CLI_ADMIN)) == events
