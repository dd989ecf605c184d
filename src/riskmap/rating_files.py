"""The CSV form of an assessment (units, risk ratings, control ratings), checked whole.

An officer prepares these files in any spreadsheet, so they carry every mistake a
spreadsheet allows: a likelihood of 9, a maturity of -2, a blank, "maybe" for applicable,
the same rating twice, a unit that is not in the units file, a risk the catalogue does not
rate in that kind of unit. Scoring such files would print a register that looks right and
is not. So nothing is scored unless all three files are correct, and every problem comes
back at once, each naming file, line and column (`RatingFilesRejected.problems`).

Pure: `check_rating_files` takes the files' names and bytes (the caller reads them) and
the catalogue, whose method declares the scales and whose risks and controls say where
they apply (`riskmap.rules`).

Files (comma-separated, UTF-8, header on line 1; header names trimmed, any case; other
columns are ignored):

- units: `unit_code, unit, unit_type[, region]`
- risk ratings: `unit_code, risk_id, applicable, likelihood, impact`
- control ratings: `unit_code, control_id, applicable, maturity[, evidence]`

The unit's column was `unit_id` before; a file with that old header is still read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmap import rules
from riskmap.catalogue import Catalogue
from riskmap.catalogue.models import Scale
from riskmap.problems import Problem

UNIT_COLUMNS = ("unit_code", "unit", "unit_type")
RISK_COLUMNS = ("unit_code", "risk_id", "applicable", "likelihood", "impact")
CONTROL_COLUMNS = ("unit_code", "control_id", "applicable", "maturity")
_OPTIONAL = {"units": ("region",), "risk": (), "control": ("evidence",)}
# An old header read under its new name: `unit_id` was the code's column before it became
# `unit_code` (kept for files written before; to be dropped in a later version).
OLD_HEADERS = {"unit_id": "unit_code"}
_COLUMNS = {"units": UNIT_COLUMNS, "risk": RISK_COLUMNS, "control": CONTROL_COLUMNS}
_YES = {"true", "yes", "y", "1"}
_NO = {"false", "no", "n", "0"}
LINE = "_line"


def header_help(kind: str) -> str:
    """The header a file of `kind` ("units", "risk", "control") needs, as help shows it:
    "unit_code, unit, unit_type[, region]" (optional columns in brackets)."""
    optional = "".join(f"[, {c}]" for c in _OPTIONAL[kind])
    return ", ".join(_COLUMNS[kind]) + optional


@dataclass(frozen=True)
class RatingFile:
    name: str  # as problems name it: the path the person typed
    data: bytes


@dataclass(frozen=True)
class RatingInputs:
    """The three frames the scoring and planning cores take, typed.

    units: unit_code, unit, unit_type, region (str; region "" when absent);
    risk_ratings: unit_code, risk_id (str), applicable (bool), likelihood, impact (int);
    control_ratings: unit_code, control_id (str), applicable (bool), maturity (int),
    evidence (str, "" when the column is absent or the cell blank).
    """

    units: pd.DataFrame
    risk_ratings: pd.DataFrame
    control_ratings: pd.DataFrame


class RatingFilesRejected(ValueError):
    """The files have problems: nothing may be scored. `problems` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the rating files")


def check_rating_files(
    units: RatingFile, risk_ratings: RatingFile, control_ratings: RatingFile, catalogue: Catalogue
) -> RatingInputs:
    """The files as typed frames, or `RatingFilesRejected` listing every problem."""
    problems: list[Problem] = []
    u = _Table.read(units, UNIT_COLUMNS, _OPTIONAL["units"], problems)
    r = _Table.read(risk_ratings, RISK_COLUMNS, _OPTIONAL["risk"], problems)
    c = _Table.read(control_ratings, CONTROL_COLUMNS, _OPTIONAL["control"], problems)
    unit_types: pd.Series | None = None
    if u is not None:
        unit_types = _check_units(u, catalogue)
    m = catalogue.method
    if r is not None:
        _check_ratings(
            r, rules.RISK, "risk_id", [("likelihood", m.likelihood), ("impact", m.impact)],
            unit_types, units.name, catalogue,
        )  # fmt: skip
    if c is not None:
        _check_ratings(
            c, rules.CONTROL, "control_id", [("maturity", m.maturity)],
            unit_types, units.name, catalogue,
        )  # fmt: skip
    for table in (u, r, c):
        if table is not None:
            problems.extend(table.sorted_problems())
    if problems:
        raise RatingFilesRejected(problems)
    assert u is not None and r is not None and c is not None
    return RatingInputs(
        units=u.out(["unit_code", "unit", "unit_type", "region"]),
        risk_ratings=r.out(list(RISK_COLUMNS)),
        control_ratings=c.out([*CONTROL_COLUMNS, "evidence"]),
    )


class _Table:
    """One file's rows as text, the problems found in it, and the values parsed so far."""

    def __init__(self, name: str, frame: pd.DataFrame, columns: list[str]):
        self.name = name
        self.frame = frame  # str cells, stripped; LINE: the line each row starts on
        self.columns = columns  # the header's order, for sorting problems
        self.problems: list[Problem] = []
        self.values: dict[str, pd.Series] = {}

    @classmethod
    def read(
        cls, file: RatingFile, required: tuple[str, ...], optional: tuple[str, ...], out: list
    ) -> _Table | None:
        """The file's rows, or None (problems in `out`) when it cannot be checked row by row."""

        def refuse(message: str, row: int = 0, column: str = "") -> None:
            out.append(Problem(row, column, message, file=file.name, row_name="line"))

        try:
            text = file.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            refuse("is not UTF-8 text: save it as CSV UTF-8")
            return None
        reader = csv.reader(io.StringIO(text, newline=""))
        rows: list[tuple[int, list[str]]] = []
        start = 1
        try:
            for cells in reader:
                rows.append((start, [c.strip() for c in cells]))
                start = reader.line_num + 1
        except csv.Error as exc:
            refuse(f"cannot be read as CSV: {exc}", reader.line_num)
            return None
        if not rows or not any(rows[0][1]):
            refuse("is empty: the first line must be the header " + ", ".join(required))
            return None
        header = [OLD_HEADERS.get(h.lower(), h.lower()) for h in rows[0][1]]
        missing = [c for c in required if c not in header]
        for col in missing:
            refuse("this column is missing from the header", 1, col)
        twice = sorted({h for h in header if h and header.count(h) > 1})
        for col in twice:
            refuse("this column appears more than once in the header", 1, col)
        if missing or twice:
            return None
        wanted = [c for c in (*required, *optional) if c in header]
        at = {c: header.index(c) for c in wanted}
        body: list[list[str]] = []
        lines: list[int] = []
        for line, cells in rows[1:]:
            if not any(cells):
                continue  # a blank line
            if len(cells) > len(header) and any(cells[len(header) :]):
                refuse(
                    f"{len(cells)} values on this line, but the header has {len(header)} columns",
                    line,
                )
                continue
            body.append([cells[at[c]] if at[c] < len(cells) else "" for c in wanted])
            lines.append(line)
        frame = pd.DataFrame(body, columns=wanted, dtype=object)
        for col in optional:
            if col not in frame.columns:
                frame[col] = ""
        frame[LINE] = np.asarray(lines, dtype=int)
        return cls(file.name, frame, wanted)

    def add(self, mask: pd.Series, column: str, messages: pd.Series | str) -> None:
        """A problem on every row of `mask`, in `column`."""
        if not mask.any():
            return
        lines = self.frame.loc[mask, LINE]
        texts = (
            [messages] * len(lines)
            if isinstance(messages, str)
            else list(messages[mask].astype(str))
        )
        self.problems.extend(
            Problem(int(n), column, t, file=self.name, row_name="line")
            for n, t in zip(lines, texts, strict=True)
        )

    def sorted_problems(self) -> list[Problem]:
        order = {c: i for i, c in enumerate(self.columns)}
        return sorted(self.problems, key=lambda p: (p.row, order.get(p.column, len(order))))

    def required_text(self, column: str) -> pd.Series:
        """The column's text; a blank cell is a problem."""
        text = self.frame[column]
        self.add(text == "", column, "must not be empty")
        return text

    def duplicates(self, keys: list[str], column: str, what) -> None:
        """Rows repeating an earlier row's `keys`: each names the line it repeats."""
        subset = self.frame.loc[(self.frame[keys] != "").all(axis=1), keys]
        repeated = subset.duplicated(keep="first")
        if not repeated.any():
            return
        first = subset[~repeated]
        first_line = dict(
            zip(map(tuple, first.to_numpy()), self.frame.loc[first.index, LINE], strict=True)
        )
        messages = pd.Series("", index=self.frame.index, dtype=object)
        for i in repeated[repeated].index:
            key = tuple(self.frame.loc[i, keys])
            messages[i] = f"{what(*key)} is already on line {first_line[key]}"
        self.add(messages != "", column, messages)

    def out(self, columns: list[str]) -> pd.DataFrame:
        frame = self.frame.reset_index(drop=True)
        result = pd.DataFrame({c: frame[c].astype(str) for c in columns if c in frame})
        for c, values in self.values.items():
            result[c] = values.reset_index(drop=True)
        return result[columns]


def _shown(text: pd.Series) -> pd.Series:
    """Cells as messages show them: numbers as typed, text in quotes, blanks in words."""
    numeric = pd.to_numeric(text, errors="coerce").notna()
    quoted = '"' + text.str.slice(0, 60) + '"'
    return quoted.where(~numeric, text).where(text != "", "an empty cell")


def _applicable(table: _Table) -> None:
    word = table.frame["applicable"].str.lower()
    known = word.isin(_YES | _NO)
    table.add(
        ~known,
        "applicable",
        "applicable must be true or false (yes/no, 1/0), got " + _shown(table.frame["applicable"]),
    )
    table.values["applicable"] = word.isin(_YES)


def _level(table: _Table, column: str, scale: Scale) -> None:
    text = table.frame[column]
    ok = rules.on_scale(text, scale)
    table.add(~ok, column, f"{column} must be {rules.scale_range(scale)}, got " + _shown(text))
    table.values[column] = pd.to_numeric(text, errors="coerce").where(ok, 0).astype(int)


def _check_units(table: _Table, catalogue: Catalogue) -> pd.Series:
    """Check the units file; unit id -> unit type (as typed) of every unit it lists."""
    f = table.frame
    if len(f) == 0:
        table.problems.append(
            Problem(0, "", "has no units: one line per unit after the header", file=table.name)
        )
    table.required_text("unit_code")
    table.required_text("unit")
    known_type = f["unit_type"].isin(list(catalogue.unit_type_by_id))
    types = ", ".join(catalogue.unit_type_by_id)
    table.add(
        ~known_type,
        "unit_type",
        "unknown unit type " + _shown(f["unit_type"]) + f" (the catalogue has: {types})",
    )
    table.duplicates(["unit_code"], "unit_code", lambda u: f"unit {u}")
    listed = f[f["unit_code"] != ""].drop_duplicates("unit_code")
    return listed.set_index("unit_code")["unit_type"]


def _check_ratings(
    table: _Table,
    kind: str,
    item_column: str,
    levels: list[tuple[str, Scale]],
    unit_types: pd.Series | None,
    units_file: str,
    catalogue: Catalogue,
) -> None:
    f = table.frame
    unit_id = table.required_text("unit_code")
    item = table.required_text(item_column)
    if unit_types is not None:
        listed = unit_id.isin(unit_types.index)
        table.add(
            ~listed & (unit_id != ""),
            "unit_code",
            "unit " + _shown(unit_id) + f" is not in the units file {units_file}",
        )
    known = item.isin(list(rules.catalogue_items(catalogue, kind)))
    table.add(~known & (item != ""), item_column, f"unknown {kind} " + _shown(item))
    if unit_types is not None:
        unit_type = unit_id.map(unit_types).fillna("")
        typed = unit_type.isin(list(catalogue.unit_type_by_id)) & known
        fits = rules.applies(item, unit_type, catalogue, kind)
        items = rules.catalogue_items(catalogue, kind)
        where = item.map(lambda i: rules.where_rated(items[i]) if i in items else "")
        table.add(
            typed & ~fits,
            item_column,
            f"{kind} "
            + item
            + " does not apply to unit "
            + unit_id
            + " (a unit of type "
            + unit_type
            + "): the catalogue rates it in units of type "
            + where,
        )
    _applicable(table)
    for column, scale in levels:
        _level(table, column, scale)
    if "evidence" in f.columns:
        table.values["evidence"] = f["evidence"].astype(str)
    table.duplicates(["unit_code", item_column], item_column, lambda u, i: f"unit {u}, {kind} {i}")
