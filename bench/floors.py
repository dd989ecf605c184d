# ruff: noqa: E501
"""Floors for the command rows: the least a process must do for the same result.

Run as a script (`python bench/floors.py NAME DB [ARGS]`) by `bench/commands.py`, as a
subprocess timed exactly like the riskmap command beside it (start-up included). Nothing
here imports riskmap: only the standard library, PyYAML's C loader and numpy.

- start-up: `import click` (what any click console script pays);
- score: the catalogue's YAML on the C loader, the cycle's rows by plain SELECTs with
  sqlite3, the residual rule of method.yaml vectorised with numpy, the register as JSON;
- read: plain SELECTs of the rows a command reads (`SELECT *` of the tables), nothing done;
- verify: the audit events by a plain SELECT, one HMAC-SHA256 per event over its JSON;
- backup: every table by plain SELECTs, one `json.dumps` per row, written to a file;
- xlsx: the cycle's units and ratings by plain SELECTs written as a minimal .xlsx (shared
  nothing, inline strings, one sheet streamed into the zip at a time);
- parse: a questionnaire's sheets read with zipfile + ElementTree.iterparse (expat, C).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]


def _cycle_id(con: sqlite3.Connection, label: str) -> int:
    return con.execute("SELECT id FROM cycles WHERE label = ?", (label,)).fetchone()[0]


def score(db: str, label: str) -> None:
    import numpy as np
    import yaml

    def load(name: str):
        return yaml.load((ROOT / "controls_catalogue" / name).read_text(), Loader=yaml.CSafeLoader)

    method, risks, controls = load("method.yaml"), load("risks.yaml"), load("controls.yaml")
    rule = method["rule"]
    strengths = method["strengths"]
    credit = np.array([rule["credit"][k] for k in sorted(rule["credit"])], dtype=float)
    bands = sorted((b["min"], b["id"]) for b in method["bands"])
    risks_ = risks["risks"]
    controls_ = controls["controls"]
    r_ix = {r["id"]: i for i, r in enumerate(risks_)}
    c_ix = {c["id"]: i for i, c in enumerate(controls_)}
    weight = np.zeros((len(controls_), len(risks_)))
    for c in controls_:
        for rid, s in c["mitigates"].items():
            key = c["id"] in next(r for r in risks_ if r["id"] == rid).get("key_controls", [])
            weight[c_ix[c["id"]], r_ix[rid]] = strengths[s] * (
                rule["key_control_weight"] if key else 1
            )
    con = sqlite3.connect(db)
    cycle = _cycle_id(con, label)
    units = con.execute("SELECT id, code, name, unit_type, region FROM units").fetchall()
    u_ix = {u[0]: i for i, u in enumerate(units)}
    types = sorted({u[3] for u in units})
    applies_type = np.zeros((len(types), len(controls_)), dtype=bool)
    for c in controls_:
        for t in c["unit_types"]:
            if t in types:
                applies_type[types.index(t), c_ix[c["id"]]] = True
    unit_type = np.array([types.index(u[3]) for u in units])
    applies = applies_type[unit_type].copy()
    earned = np.zeros(applies.shape)
    rows = con.execute(
        "SELECT unit_id, control_id, applicable, maturity, evidence != '' FROM control_ratings "
        "WHERE cycle_id = ?",
        (cycle,),
    ).fetchall()
    if rows:
        cr = np.array([(u_ix[u], c_ix[c], a, m, e) for u, c, a, m, e in rows], dtype=np.int64)
        ui, ci = cr[:, 0], cr[:, 1]
        credited = np.where(
            cr[:, 4] == 1, cr[:, 3], np.minimum(cr[:, 3], rule["evidence_required_above"])
        )
        applies[ui, ci] &= cr[:, 2] == 1
        earned[ui, ci] = credit[credited]
    earned *= applies
    total = applies @ weight
    coverage = np.divide(earned @ weight, total, out=np.zeros_like(total), where=total > 0)
    rr = con.execute(
        "SELECT unit_id, risk_id, likelihood, impact FROM risk_ratings "
        "WHERE cycle_id = ? AND applicable",
        (cycle,),
    ).fetchall()
    u = np.array([u_ix[r[0]] for r in rr])
    k = np.array([r_ix[r[1]] for r in rr])
    lik = np.array([r[2] for r in rr], dtype=float)
    imp = np.array([r[3] for r in rr], dtype=float)
    reduction = rule["max_reduction"] * coverage[u, k]
    residual_l = lik * (1 - reduction)
    residual = residual_l * imp
    mins = np.array([b[0] for b in bands], dtype=float)
    band = np.searchsorted(mins, residual, side="right") - 1
    names = [b[1] for b in bands]
    out = [
        {
            "unit": units[ui][1],
            "risk": rr[i][1],
            "inherent": rr[i][2] * rr[i][3],
            "reduction": round(float(reduction[i]), 4),
            "residual_likelihood": round(float(residual_l[i]), 4),
            "residual": round(float(residual[i]), 4),
            "residual_band": names[band[i]],
        }
        for i, ui in enumerate(u.tolist())
    ]
    sys.stdout.write(json.dumps(out))


def read(db: str, *tables: str) -> None:
    con = sqlite3.connect(db)
    n = 0
    for t in tables:
        n += len(con.execute(f"SELECT * FROM {t}").fetchall())
    print(n)


def verify(db: str) -> None:
    con = sqlite3.connect(db)
    key = b"k" * 32
    head = b""
    n = 0
    for row in con.execute("SELECT * FROM audit_events ORDER BY id"):
        head = hmac.new(key, head + json.dumps(row, default=str).encode(), hashlib.sha256).digest()
        n += 1
    print(n, head.hex())


def backup(db: str, out: str) -> None:
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    with open(out, "w", encoding="utf-8") as fh:
        fh.write('{"tables": {')
        for i, t in enumerate(names):
            cur = con.execute(f'SELECT * FROM "{t}"')
            cols = [d[0] for d in cur.description]
            fh.write(("," if i else "") + json.dumps(t) + ": [\n")
            for j, row in enumerate(cur):
                fh.write(
                    ("," if j else "")
                    + json.dumps(dict(zip(cols, row, strict=True)), ensure_ascii=False)
                    + "\n"
                )
            fh.write("]")
        fh.write("}}\n")


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet(rows) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{_col(c)}{r}"
            if v is None:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode()


def xlsx(db: str, label: str, out: str) -> None:
    con = sqlite3.connect(db)
    cycle = _cycle_id(con, label)
    sheets = {
        "Units": "SELECT * FROM units",
        "Risks": f"SELECT * FROM risk_ratings WHERE cycle_id = {cycle}",
        "Controls": f"SELECT * FROM control_ratings WHERE cycle_id = {cycle}",
        "Actions": f"SELECT * FROM actions WHERE cycle_id = {cycle}",
    }
    ns = "http://schemas.openxmlformats.org/"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types xmlns="{ns}package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{ns}package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{ns}package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + "</Relationships>",
        )
        for i, sql in enumerate(sheets.values(), 1):
            cur = con.execute(sql)
            rows = [tuple(d[0] for d in cur.description), *cur]
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(rows))


def parse(path: str) -> None:
    import xml.etree.ElementTree as ET

    n = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                with z.open(name) as fh:
                    for _, el in ET.iterparse(fh):
                        if el.tag.endswith("}c"):
                            n += 1
                        el.clear()
    print(n)


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    if name == "startup":
        import click  # noqa: F401
    else:
        globals()[name](*args)
