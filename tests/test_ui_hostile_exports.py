"""Hostile questionnaires on the Exports page: a located refusal, never an exception.

First a few cells broken in the demo template's own XML (on the page's demo database); then
every file of the bad-questionnaire corpus (`tests/data/bad_questionnaires/cases.yaml`),
uploaded on the page against a copy of the corpus's database: the page lists exactly the
case's problems (sheet, cell, problem), offers no "Apply all" and changes nothing.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service
from test_service_exports import CASES, CAT, _expected, corpus, corpus_db, corpus_files, dump  # noqa: F401 - fixtures
from test_ui_exports import PAGE, XLSX, run
from ui_harness import errors, page

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


# --- the whole corpus on the page ------------------------------------------------------

CORPUS_OFFICER = {"username": "officer", "role": "officer", "display_name": "Officer"}
_LOCATED = re.compile(r"^(\w+)!([A-Z]{1,3}\d+): (.*)$", re.S)


def _rows_of(problems: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for p in problems:
        m = _LOCATED.match(p)
        out.append((m.group(1), m.group(2), m.group(3)) if m else ("", "", p))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_every_bad_file_is_refused_on_the_exports_page(
    corpus_db,  # noqa: F811
    corpus_files,  # noqa: F811
    case,
    tmp_path,
    monkeypatch,
):
    path = tmp_path / "riskmap.sqlite"
    shutil.copyfile(corpus_db, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("RISKMAP_DATABASE_URL", url)
    with Service.open(url, catalogue=CAT) as svc:
        before = dump(svc)
    at = page(PAGE, None, cycle=corpus.CYCLE, user=dict(CORPUS_OFFICER)).run()
    name = case["file"].replace(".xlsm", ".xlsx")  # the uploader takes .xlsx names only
    at.file_uploader[0].upload(name, corpus_files[case["file"]], XLSX)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    expected = _expected(case["errors"])
    assert any(f"{name}: {len(expected)} problem(s)" in e for e in errors(at)), errors(at)
    shown = at.dataframe[0].value
    assert list(zip(shown["sheet"], shown["cell"], shown["problem"], strict=True)) == _rows_of(
        expected
    )
    assert "Apply all" not in [b.label for b in at.button]
    with Service.open(url, catalogue=CAT) as svc:
        assert dump(svc) == before
