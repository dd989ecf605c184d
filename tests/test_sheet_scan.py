"""The fast sheet scan (`reports.sheet_scan`) reads exactly what the strict reader reads.

Each case is a Risks sheet written by hand: `sheet_rows.rows` (the scan, falling back to
the strict reader where the sheet is not plain) must give the same rows, or the same
refusal, as the strict reader alone, at the usual chunk size and at chunks of a few bytes
(markers, rows and characters cut across chunks); and a plain sheet must really be read
by the scan, a sheet that is not plain by the strict reader from where the scan stopped.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from make_bad_questionnaires import RISKS_PART, good_template, rezip
from riskmap.reports import sheet_rows, sheet_scan
from riskmap.reports.sheet_rows import SheetDamaged

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
HEAD = f'{DECLARATION}<worksheet {MAIN}><dimension ref="A1:R6"/>'
PREFIXES = 'xmlns:x14ac="urn:x14ac" xmlns:q2="urn:q2"'
HEAD_X = f'{DECLARATION}<worksheet {MAIN} {PREFIXES}><dimension ref="A1:R6"/>'
ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Unit code</t></is></c><c r="B1" s="5" t="s">'
    '<v>1</v></c></row><row r="2" spans="1:5"><c r="A2" t="inlineStr"><is><t>U1</t></is></c>'
    '<c r="G2" s="6"><v>4</v></c><c r="H2"><f>G2&amp;"x"</f><v /></c><c r="K2" s="7"/></row>'
)


def _sheet(body: str, head: str = HEAD, tail: str = "<pageMargins/></worksheet>") -> str:
    return (
        f"{head}{body}{tail}"
        if "<sheetData" in body
        else f"{head}<sheetData>{body}</sheetData>{tail}"
    )


# Each: (name, sheet XML, whether the scan reads it whole).
CASES = [
    ("plain", _sheet(ROWS), True),
    ("no declaration", _sheet(ROWS, head=f"<worksheet {MAIN} xmlns:r='x'>"), False),
    ("other prefixes on the root", _sheet(ROWS, head=f'<worksheet {MAIN} xmlns:x14ac="y">'), True),
    (
        "pretty printed",
        _sheet(ROWS.replace("<c ", "\n  <c ").replace("</row>", "\n</row>\n")),
        True,
    ),
    (
        "entities",
        _sheet(ROWS.replace("U1", "a &amp; b &lt;&#10;&#x41;&#65;&quot;&apos;&gt;")),
        True,
    ),
    ("long character reference", _sheet(ROWS.replace("U1", "&#x00000041;")), True),
    ("entity in a number", _sheet(ROWS.replace("<v>4</v>", "<v>&#52;</v>")), True),
    ("empty value", _sheet(ROWS.replace("<v>4</v>", "<v></v>")), True),
    ("self-closed value", _sheet(ROWS.replace("<v>4</v>", "<v/>")), True),
    ("empty row", _sheet(ROWS + '<row r="3"/><row r="5" ht="3"></row>'), True),
    ("no sheetData rows", _sheet("<sheetData/>"), True),
    (
        "types",
        _sheet(
            ROWS.replace(
                '<c r="K2" s="7"/>',
                (
                    '<c r="K2" t="b"><v>1</v></c><c r="L2" t="str"><v>x</v></c>'
                    '<c r="M2" t="e"><v>#N/A</v></c><c r="N2" t="n"><v>2.5e3</v></c>'
                    '<c r="O2" t="d"><v>2024-01-01</v></c>'
                ),
            )
        ),
        True,
    ),
    ("shared formula", _sheet(ROWS.replace('<f>G2&amp;"x"</f>', '<f t="shared" si="0"/>')), True),
    ("formula with a value", _sheet(ROWS.replace("<v />", "<v>3</v>")), True),
    (
        "inline string without is",
        _sheet(ROWS.replace('<c r="K2" s="7"/>', '<c r="K2" t="inlineStr"/>')),
        True,
    ),
    ("is in a number cell", _sheet(ROWS.replace("<v>4</v>", "<v>4</v><is><t>x</t></is>")), True),
    (
        "preserved space",
        _sheet(ROWS.replace("<t>U1</t>", '<t xml:space="preserve"> U1 </t>')),
        True,
    ),
    ("type before style", _sheet(ROWS.replace('s="5" t="s"', 't="s" s="5"')), True),
    ("type twice", _sheet(ROWS.replace('s="5" t="s"', 't="s" s="5" t="n"')), False),
    ("single quotes", _sheet(ROWS.replace('s="6"', "s='6'")), False),
    ("tab between attributes", _sheet(ROWS.replace(' s="6"', '\ts="6"')), False),
    ("rich text", _sheet(ROWS.replace("<t>U1</t>", "<r><t>U</t></r><r><rPr/><t>1</t></r>")), False),
    ("phonetic run", _sheet(ROWS.replace("<t>U1</t>", "<t>U1</t><rPh><t>u</t></rPh>")), False),
    (
        "comment in a row",
        _sheet(ROWS.replace('<c r="G2"', '<!-- <c r="Z2"><v>9</v></c> --><c r="G2"')),
        False,
    ),
    (
        "comment before",
        _sheet(ROWS, head=f'<worksheet {MAIN}><!-- <sheetData><row r="1"> -->'),
        False,
    ),
    ("CDATA", _sheet(ROWS.replace("<v>4</v>", "<v><![CDATA[4]]></v>")), False),
    ("processing instruction", _sheet(ROWS.replace("</row>", "<?x y?></row>", 1)), False),
    ("carriage return", _sheet(ROWS.replace("U1", "U\r\n1")), False),
    ("character reference of a return", _sheet(ROWS.replace("U1", "U&#13;1")), True),
    (
        "other namespace on a row",
        _sheet(ROWS.replace('<row r="2"', '<row xmlns="urn:x" r="2"')),
        False,
    ),
    ("namespace on a cell", _sheet(ROWS.replace('<c r="G2"', '<c xmlns:q="urn:q" r="G2"')), False),
    ("other default namespace", _sheet(ROWS, head='<worksheet xmlns="urn:x">'), False),
    (
        "prefixed root",
        _sheet(ROWS, head='<x:worksheet xmlns:x="urn:x">', tail="</x:worksheet>"),
        False,
    ),
    (
        "row after sheetData",
        _sheet(ROWS, tail='<row r="9"><c r="A9"><v>1</v></c></row></worksheet>'),
        False,
    ),
    (
        "prefixed row after",
        _sheet(
            ROWS,
            tail=(
                '<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="9">'
                '<x:c r="A9"><x:v>1</x:v></x:c></x:row></worksheet>'
            ),
        ),
        False,
    ),
    (
        "row before sheetData",
        _sheet(ROWS, head=HEAD + '<row r="1"><c r="A1"><v>7</v></c></row>'),
        False,
    ),
    ("unbound prefix after", _sheet(ROWS, tail="<q:x/></worksheet>"), False),
    ("row without number", _sheet(ROWS.replace('<row r="2" spans="1:5">', "<row>")), False),
    ("cell without reference", _sheet(ROWS.replace('<c r="G2" s="6">', '<c s="6">')), False),
    ("cell of row 02", _sheet(ROWS.replace('r="G2"', 'r="G02"')), False),
    ("rows downwards", _sheet(ROWS.replace('<row r="2"', '<row r="1"')), False),
    ("row number word", _sheet(ROWS.replace('<row r="2"', '<row r="two"')), False),
    ("cell in another row", _sheet(ROWS.replace('r="G2"', 'r="G9"')), False),
    ("column past XFD", _sheet(ROWS.replace('r="G2"', 'r="XFE2"')), False),
    ("shared string out of range", _sheet(ROWS.replace("<v>1</v>", "<v>99999</v>")), False),
    ("shared string -1", _sheet(ROWS.replace("<v>1</v>", "<v>-1</v>")), False),
    ("number abc", _sheet(ROWS.replace("<v>4</v>", "<v>abc</v>")), False),
    ("number NaN", _sheet(ROWS.replace("<v>4</v>", "<v>NaN</v>")), False),
    (
        "bad true/false",
        _sheet(ROWS.replace('<c r="K2" s="7"/>', '<c r="K2" t="b"><v>2</v></c>')),
        False,
    ),
    ("unclosed tag", _sheet(ROWS.replace("<v>4</v></c>", "<v>4</c>")), False),
    ("duplicate attribute", _sheet(ROWS.replace('s="6"', 's="6" s="7"')), False),
    ("NUL reference", _sheet(ROWS.replace("U1", "a&#0;b")), False),
    ("raw NUL", _sheet(ROWS.replace("U1", "a\x00b")), False),
    ("undefined entity", _sheet(ROWS.replace("U1", "&nbsp;")), False),
    (
        "DOCTYPE late",
        _sheet(
            ROWS.replace("</row>", "</row><!-- " + "x" * 3000 + " -->", 1),
            tail="<!DOCTYPE x></worksheet>",
        ),
        False,
    ),
    ("never closed", _sheet(ROWS, tail=""), False),
    ("junk text between cells", _sheet(ROWS.replace('<c r="G2"', 'junk<c r="G2"')), False),
    (
        "non-breaking space between cells",
        _sheet(ROWS.replace('<c r="G2"', '\u00a0<c r="G2"')),
        False,
    ),
    ("another element in a cell", _sheet(ROWS.replace("<v>4</v>", "<v>4</v><extLst/>")), False),
    (
        "text not UTF-8",
        _sheet(
            ROWS.replace("U1", "café"),
            head=(f'<?xml version="1.0" encoding="ISO-8859-1"?><worksheet {MAIN}>'),
        ),
        False,
    ),
    ("sheetData with attributes", _sheet(ROWS, head=HEAD + '<sheetData x="1">'), False),
    # What expat refuses inside sheetData (the scan stops there), and what it takes.
    ("control character", _sheet(ROWS.replace("U1", "U\x011")), False),
    ("U+FFFF", _sheet(ROWS.replace("U1", "U\uffff1")), False),
    ("reference to a control character", _sheet(ROWS.replace("U1", "&#1;")), False),
    ("reference to U+FFFE", _sheet(ROWS.replace("U1", "&#xFFFE;")), False),
    ("reference past Unicode", _sheet(ROWS.replace("U1", "&#1114112;")), False),
    ("bare ampersand", _sheet(ROWS.replace("U1", "a & b")), False),
    ("]]> in text", _sheet(ROWS.replace("U1", "a]]>b")), False),
    ("> in text", _sheet(ROWS.replace("U1", "a>b")), True),
    (
        "bad reference in a value not read",
        _sheet(
            ROWS.replace('<c r="A2" t="inlineStr"><is>', '<c r="A2" t="inlineStr"><v>&#1;</v><is>')
        ),
        False,
    ),
    (
        "duplicate attribute on a row",
        _sheet(ROWS.replace('spans="1:5"', 'spans="1:5" spans="1"')),
        False,
    ),
    ("duplicate r on a row", _sheet(ROWS.replace('spans="1:5"', 'r="2"')), False),
    (
        "duplicate attribute in a formula",
        _sheet(ROWS.replace("<f>", '<f t="shared" t="x">')),
        False,
    ),
    ("style twice", _sheet(ROWS.replace('<c r="G2" s="6">', '<c r="G2" s="6" s="6">')), False),
    (
        "declared prefix on a row",
        _sheet(ROWS.replace('spans="1:5"', 'x14ac:dyDescent="0.25"'), head=HEAD_X),
        True,
    ),
    (
        "declared prefix on a cell",
        _sheet(ROWS.replace('<c r="G2" s="6">', '<c r="G2" s="6" x14ac:x="1">'), head=HEAD_X),
        True,
    ),
    (
        "undeclared prefix on a row",
        _sheet(ROWS.replace('spans="1:5"', 'q:x="1"'), head=HEAD_X),
        False,
    ),
    (
        "one local name, two prefixes",
        _sheet(ROWS.replace('spans="1:5"', 'x14ac:a="1" q2:a="2"'), head=HEAD_X),
        True,
    ),
    ("attribute name starting with a digit", _sheet(ROWS.replace('spans="1:5"', '1x="1"')), False),
    ("attribute name not ASCII", _sheet(ROWS.replace('spans="1:5"', '\u00e9="1"')), True),
    (
        "attribute after the type",
        _sheet(ROWS.replace('<c r="G2" s="6">', '<c r="G2" t="n" s="6" cm="1">')),
        True,
    ),
]


def _workbook(xml: str) -> bytes:
    encoding = "latin-1" if "ISO-8859-1" in xml else "utf-8"
    return rezip(_good(), replace={RISKS_PART: xml.encode(encoding)})


_GOOD: list[bytes] = []


def _good() -> bytes:
    if not _GOOD:
        from riskmap.catalogue import load_catalogue

        _GOOD.append(good_template(load_catalogue()))
    return _GOOD[0]


def _outcome(read, ws) -> list | str:
    try:
        return list(read(ws))
    except SheetDamaged as exc:
        return f"SheetDamaged: {exc}"


def _scanned(ws) -> tuple[int, bool]:
    """How many rows the scan gave, and whether it read the sheet whole."""
    given = []
    with ws.parent._archive.open(ws._worksheet_path) as source:
        try:
            for row in sheet_scan.scan(
                source, ws._shared_strings, sheet_rows._CHUNK, sheet_rows._MARKERS, 64
            ):
                given.append(row)
        except sheet_scan.NotPlain:
            return len(given), False
    return len(given), True


@pytest.mark.parametrize("chunk", [sheet_rows._CHUNK, 7])
@pytest.mark.parametrize(("name", "xml", "plain"), CASES, ids=[c[0] for c in CASES])
def test_the_scan_reads_what_the_strict_reader_reads(monkeypatch, name, xml, plain, chunk):
    monkeypatch.setattr(sheet_rows, "_CHUNK", chunk)
    wb = load_workbook(io.BytesIO(_workbook(xml)), read_only=True, data_only=False)
    try:
        ws = wb["Risks"]
        with sheet_rows.collector_paused():
            strict = _outcome(sheet_rows._strict_rows, ws)
            both = _outcome(sheet_rows.rows, ws)
            _, whole = _scanned(ws)
    finally:
        wb.close()
    assert both == strict, name
    assert whole is plain, name


def test_a_plain_sheet_is_read_by_the_scan_and_values_are_decoded():
    wb = load_workbook(io.BytesIO(_workbook(CASES[4][1])), read_only=True, data_only=False)
    try:
        ws = wb["Risks"]
        rows = dict(sheet_rows.rows(ws))
        assert _scanned(ws) == (2, True)
    finally:
        wb.close()
    shared = ws._shared_strings
    assert rows[1] == {1: ("Unit code", False), 2: (shared[1], False)}
    assert rows[2] == {
        1: ("a & b <\nAA\"'>", False),
        7: (4, False),
        8: ('=G2&"x"', True),
    }


def test_the_strict_reader_goes_on_from_the_row_the_scan_reached():
    """A sheet plain up to its third row: the scan gives two rows, the strict reader the
    rest, and the refusal after them is the strict reader's, naming row 3."""
    rows = ROWS + '<row r="3"><c r="A3"><v>abc</v></c></row>'
    wb = load_workbook(io.BytesIO(_workbook(_sheet(rows))), read_only=True, data_only=False)
    try:
        ws = wb["Risks"]
        assert _scanned(ws) == (2, False)
        given = []
        with pytest.raises(SheetDamaged, match=r"Risks!A3: a number cell holds 'abc'"):
            for row in sheet_rows.rows(ws):
                given.append(row[0])
    finally:
        wb.close()
    assert given == [1, 2]


def test_the_good_template_and_a_filled_file_are_plain():
    """What riskmap writes, and what openpyxl saves after an officer's edits (the corpus's
    files), take the fast way: else the scan would be dead code behind its fallback."""
    from make_bad_questionnaires import edit

    for data in (_good(), edit(_good(), {("Risks", "G2"): 5, ("Risks", "K2"): "why & how"})):
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            for ws in wb.worksheets:
                assert _scanned(ws)[1], ws.title
        finally:
            wb.close()
    with zipfile.ZipFile(io.BytesIO(_good())) as z:
        assert b"<sheetData>" in z.read(RISKS_PART)
