"""Residual risk from ratings: the pure scoring core (no I/O, no Streamlit).

The rule (docs/methodology.md has it with a worked example; the decision record
docs/decisions/0001-residual-method.md argues it): every control that the catalogue links to
a risk scenario and applies to the unit's type earns a *credit* for its maturity (0 for
"not in place" up to 1 for "leading", from the method file), counted only up to the
method's evidence level when no evidence is recorded. The risk's *coverage* is the
strength-weighted mean of those credits (a risk's key controls weigh more); the likelihood
falls by `max_reduction x coverage`. A mean, not a product, so that many weak controls
never add up to strong assurance: ten paper controls cover a risk exactly as well as one.
Impact is not reduced. Every input is vectorised over frames so a national ministry of
1,000 units scores in milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap.catalogue import Catalogue

UNIT_COLUMNS = ["unit_code", "unit", "unit_type"]
RISK_RATING_COLUMNS = ["unit_code", "risk_id", "applicable", "likelihood", "impact"]
# `evidence` is optional: absent or blank means no evidence recorded.
CONTROL_RATING_COLUMNS = ["unit_code", "control_id", "applicable", "maturity"]
# The register's columns, named once: who (the unit), what (the scenario), the score before
# controls; the charts, the pages and the workbook list theirs from these.
SCENARIO_COLUMNS = ["risk_id", "risk", "stage"]
INHERENT_COLUMNS = ["likelihood", "impact", "inherent"]
SCORE_COLUMNS = [
    *UNIT_COLUMNS,
    "region",
    *SCENARIO_COLUMNS,
    *INHERENT_COLUMNS,
    "coverage",
    "reduction",
    "residual_likelihood",
    "residual",
    "inherent_band",
    "residual_band",
    "controls",
    "unevidenced",
]
LINK_COLUMNS = [
    "unit_code",
    "risk_id",
    "control_id",
    "strength",
    "key",
    "weight",
    "applicable",
    "rated",
    "maturity",
    "evidenced",
    "credited",
    "credit",
]

Values = np.ndarray | pd.Series  # a column of numbers, as an array or a frame's column
_MITIGATION_CACHE: dict[str, pd.DataFrame] = {}
_TYPE_LINK_CACHE: dict[str, pd.DataFrame] = {}
_BLOCK_CACHE: dict[str, tuple] = {}


def require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Fail early, naming the frame and the missing columns, instead of a KeyError later."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; has {list(frame.columns)}")


def key_controls(catalogue: Catalogue) -> set[tuple[str, str]]:
    """(risk, control) pairs the catalogue names as the risk's key controls."""
    return {(r.id, c) for r in catalogue.risks for c in getattr(r, "key_controls", ())}


def mitigation_frame(catalogue: Catalogue) -> pd.DataFrame:
    """One row per (control, risk) the catalogue links, with its strength and weight.

    The structure is cached per catalogue version; the weights are read from the method on
    every call, so a method moved for a sensitivity run is never scored with stale numbers.
    """
    cached = _MITIGATION_CACHE.get(catalogue.version)
    if cached is None:
        keys = key_controls(catalogue)
        rows = [
            (c.id, r, s, (r, c.id) in keys, c.principle)
            for c in catalogue.controls
            for r, s in c.mitigates.items()
        ]
        cached = pd.DataFrame(
            rows, columns=["control_id", "risk_id", "strength", "key", "principle"]
        )
        _MITIGATION_CACHE[catalogue.version] = cached
    return cached.assign(weight=link_weights(cached, catalogue))


def link_weights(links: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Weight of each link in its risk's coverage: strength weight, times k for key controls."""
    method = catalogue.method
    weight = links["strength"].map(method.strengths).to_numpy(dtype=float)
    return weight * np.where(links["key"].to_numpy(dtype=bool), method.rule.key_control_weight, 1)


def _type_links(catalogue: Catalogue) -> pd.DataFrame:
    """(unit type, risk, control) for every control the catalogue applies to a type and links
    to a risk of that type: the controls whose credit makes up the risk's coverage there."""
    cached = _TYPE_LINK_CACHE.get(catalogue.version)
    if cached is not None:
        return cached
    applies = pd.DataFrame(
        [(c.id, t) for c in catalogue.controls for t in c.unit_types],
        columns=["control_id", "unit_type"],
    )
    risk_types = pd.DataFrame(
        [(r.id, t) for r in catalogue.risks for t in r.unit_types], columns=["risk_id", "unit_type"]
    )
    structure = mitigation_frame(catalogue).drop(columns=["weight", "principle"])
    out = structure.merge(applies, on="control_id").merge(risk_types, on=["risk_id", "unit_type"])
    # Sorted by control within each (type, risk): merged onto pairs sorted by unit and risk,
    # the links come out in register order, so nothing downstream needs to sort them.
    cached = out.sort_values(["unit_type", "risk_id", "control_id"], ignore_index=True)[
        ["unit_type", "risk_id", "control_id", "strength", "key"]
    ]
    _TYPE_LINK_CACHE[catalogue.version] = cached
    return cached


def has_evidence(control_ratings: pd.DataFrame) -> np.ndarray:
    """True where a rating records evidence (a non-blank `evidence`; no column: none)."""
    if "evidence" not in control_ratings.columns:
        return np.zeros(len(control_ratings), dtype=bool)
    text = control_ratings["evidence"].fillna("").astype(str).str.strip()
    return (text != "").to_numpy()


def credited_maturity(
    maturity: np.ndarray, evidenced: np.ndarray, catalogue: Catalogue
) -> np.ndarray:
    """The maturity the rule counts: a level above the evidence level needs evidence."""
    cap = catalogue.method.rule.evidence_required_above
    m = np.asarray(maturity, dtype=int)
    return np.where(np.asarray(evidenced, dtype=bool) | (m <= cap), m, cap)


def credit_of(levels: np.ndarray, catalogue: Catalogue) -> np.ndarray:
    """Credit of each maturity level, from the method's table."""
    credit = catalogue.method.rule.credit
    lo = min(credit)
    table = np.array([credit[m] for m in sorted(credit)], dtype=float)
    return table[np.asarray(levels, dtype=int) - lo]


def band_ids(
    catalogue: Catalogue,
    scores: np.ndarray | pd.Series,
    likelihood: np.ndarray | pd.Series | None = None,
    impact: np.ndarray | pd.Series | None = None,
) -> np.ndarray:
    """Band id of each score: the declared matrix cell where there is one, else thresholds.

    A residual likelihood between two levels is placed at the nearest level (halves up) to
    read the matrix. Without likelihood and impact (a roll-up's maximum, say) only the
    thresholds apply.
    """
    ids = np.array([b.id for b in catalogue.method.bands], dtype=object)
    return ids[band_positions(catalogue, scores, likelihood, impact)]


def band_positions(
    catalogue: Catalogue,
    scores: Values,
    likelihood: Values | None = None,
    impact: Values | None = None,
) -> np.ndarray:
    """`band_ids` as positions in the method's band list (the planner's inner loop weighs
    bands by position, without a text per cell)."""
    method = catalogue.method
    bands = method.bands
    mins = np.array([b.min for b in bands], dtype=float)
    idx = np.searchsorted(mins, np.asarray(scores, dtype=float), side="right") - 1
    out = np.clip(idx, 0, len(bands) - 1)
    matrix = method.band_matrix
    if matrix is None or likelihood is None or impact is None or not len(out):
        return out
    l_levels = sorted(method.likelihood.levels)
    i_levels = sorted(method.impact.levels)
    grid = _matrix_positions(catalogue, l_levels)
    lev = np.floor(np.asarray(likelihood, dtype=float) + 0.5).astype(int)
    row = np.clip(lev, l_levels[0], l_levels[-1]) - l_levels[0]
    col = np.clip(np.asarray(impact, dtype=int), i_levels[0], i_levels[-1]) - i_levels[0]
    declared = grid[row, col]
    return np.where(declared >= 0, declared, out)


def _matrix_positions(catalogue: Catalogue, l_levels: list[int]) -> np.ndarray:
    """The declared band matrix as band positions (-1 where a cell declares none)."""
    method = catalogue.method
    at = {b.id: i for i, b in enumerate(method.bands)}
    rows = [list(method.band_matrix[level]) for level in l_levels]
    return np.array([[-1 if c is None else at[c] for c in r] for r in rows], dtype=np.int64)


def residual_likelihood(
    likelihood: np.ndarray, coverage: np.ndarray, catalogue: Catalogue
) -> tuple[np.ndarray, np.ndarray]:
    """(reduction, residual likelihood) from the coverage of the risk's controls."""
    reduction = catalogue.method.rule.max_reduction * np.asarray(coverage, dtype=float)
    return reduction, np.asarray(likelihood, dtype=float) * (1.0 - reduction)


def _type_link_blocks(catalogue: Catalogue) -> tuple[pd.MultiIndex, np.ndarray, np.ndarray]:
    """The (unit type, risk) blocks of `_type_links` (sorted by both): each block's key,
    first row and length, so a pair finds its linked controls by position."""
    cached = _BLOCK_CACHE.get(catalogue.version)
    if cached is None:
        tl = _type_links(catalogue)
        pair = tl[["unit_type", "risk_id"]]
        starts = np.flatnonzero(pair.ne(pair.shift()).any(axis=1).to_numpy()).astype(np.int64)
        counts = np.diff(np.r_[starts, len(tl)]).astype(np.int64)
        blocks = pd.MultiIndex.from_frame(tl.loc[starts, ["unit_type", "risk_id"]])
        cached = _BLOCK_CACHE[catalogue.version] = (blocks, starts, counts)
    return cached


def _rating_rows(control_ratings: pd.DataFrame, units: pd.Index, controls: pd.Index) -> np.ndarray:
    """A dense unit x control table of the row in `control_ratings` rating it (-1: none);
    the last row wins where a (unit, control) is rated twice, as `drop_duplicates(keep=
    "last")` would have it."""
    table = np.full(len(units) * len(controls), -1, dtype=np.int64)
    u = units.get_indexer(control_ratings["unit_code"])
    c = controls.get_indexer(control_ratings["control_id"])
    known = np.flatnonzero((u >= 0) & (c >= 0))
    np.maximum.at(table, u[known] * len(controls) + c[known], known)
    return table.reshape(len(units), len(controls))


def _edges(
    pairs: pd.DataFrame, control_ratings: pd.DataFrame, catalogue: Catalogue
) -> dict[str, np.ndarray]:
    """Every (pair, linked control) by position: `pair` (row of `pairs`), `link` (row of
    `_type_links`), and the unit's rating of the control, found in a dense unit x control
    table instead of merges on text keys (at 10,000 units the merges and the text copies
    they made were three quarters of scoring). Edges come in pair order and, within a
    pair, by control: the order the merge of the pairs onto the type links gave."""
    tl = _type_links(catalogue)
    blocks, starts, counts = _type_link_blocks(catalogue)
    block = blocks.get_indexer(pd.MultiIndex.from_arrays([pairs["unit_type"], pairs["risk_id"]]))
    found = block >= 0
    per_pair = np.where(found, counts[block], 0) if len(blocks) else np.zeros(len(pairs), int)
    per_pair = per_pair.astype(np.int64)
    pair = np.repeat(np.arange(len(pairs), dtype=np.int64), per_pair)
    first = np.where(found, starts[block], 0) if len(blocks) else per_pair
    offset = np.arange(len(pair), dtype=np.int64) - np.repeat(
        np.cumsum(per_pair) - per_pair, per_pair
    )
    link = np.repeat(first, per_pair) + offset
    controls = pd.Index(tl["control_id"].unique())
    units = pd.Index(pairs["unit_code"].unique())
    table = _rating_rows(control_ratings, units, controls)
    unit_at = units.get_indexer(pairs["unit_code"])
    control_at = controls.get_indexer(tl["control_id"])
    row = table[unit_at[pair], control_at[link]] if len(pair) else np.zeros(0, dtype=np.int64)
    rated = row >= 0
    take = np.where(rated, row, 0)

    def rating(values: np.ndarray, missing) -> np.ndarray:
        return np.where(rated, values[take], missing) if len(values) else np.full(len(row), missing)

    stated = control_ratings["applicable"]
    stated = stated.where(stated.notna(), True).to_numpy(dtype=object)  # blank: it applies
    applicable = rating(stated, True).astype(bool)
    maturity = rating(control_ratings["maturity"].fillna(0).to_numpy(dtype=float), 0).astype(int)
    evidenced = rating(has_evidence(control_ratings), False).astype(bool)
    credited = credited_maturity(maturity, evidenced, catalogue)
    credit = credit_of(credited, catalogue)
    values = (pair, link, applicable, rated, maturity, evidenced, credited, credit)
    return dict(zip(("pair", "link", *LINK_COLUMNS[6:]), values, strict=True))


def links(
    pairs: pd.DataFrame,
    control_ratings: pd.DataFrame,
    catalogue: Catalogue,
    include_not_applicable: bool = False,
) -> pd.DataFrame:
    """Every control counted in the coverage of each (unit, risk) of `pairs` (LINK_COLUMNS).

    `pairs` has unit_code, risk_id and unit_type. A linked control the unit has not rated
    counts at maturity 0 (`rated` False): a missing rating never raises the coverage. One
    rated "does not apply" leaves the risk's coverage altogether (kept, with `applicable`
    False, when `include_not_applicable`: the workbook shows it).
    """
    require_columns(control_ratings, CONTROL_RATING_COLUMNS, "control ratings")
    e = _edges(pairs, control_ratings, catalogue)
    keep = np.arange(len(e["pair"])) if include_not_applicable else np.flatnonzero(e["applicable"])
    pair, link = e["pair"][keep], e["link"][keep]
    tl = _type_links(catalogue)
    # The weight on the catalogue's few hundred links, carried by position: the same
    # numbers as weighing the million edges of a national ministry one by one, at once.
    weight = link_weights(tl, catalogue)
    out = pd.DataFrame(
        {
            "unit_code": pairs["unit_code"].array.take(pair),
            "risk_id": pairs["risk_id"].array.take(pair),
            "control_id": tl["control_id"].array.take(link),
            "strength": tl["strength"].array.take(link),
            "key": tl["key"].to_numpy(dtype=bool)[link],
            "weight": weight[link],
            **{name: e[name][keep] for name in LINK_COLUMNS[6:]},
        }
    )
    return out


def contributions(
    control_ratings: pd.DataFrame, units: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """Which rated control earns credit on which risk in which unit (credited maturity > 0)."""
    require_columns(units, UNIT_COLUMNS, "units")
    risk_types = pd.DataFrame(
        [(r.id, t) for r in catalogue.risks for t in r.unit_types], columns=["risk_id", "unit_type"]
    )
    pairs = units[["unit_code", "unit_type"]].merge(risk_types, on="unit_type")
    out = links(pairs, control_ratings, catalogue)
    return out[out["credited"] > 0].reset_index(drop=True)


def coverage_by_pair(edges: dict[str, np.ndarray], n: int, catalogue: Catalogue) -> pd.DataFrame:
    """Per pair position 0..n-1: coverage, the crediting controls and those claimed without
    evidence, from `_edges` (in pair order), by position: no frame of the links is built."""
    keep = edges["applicable"]
    p, link = edges["pair"][keep], edges["link"][keep]
    tl = _type_links(catalogue)
    weight = link_weights(tl, catalogue)[link]
    total = np.bincount(p, weights=weight, minlength=n)
    share = np.bincount(p, weights=weight * edges["credit"][keep], minlength=n)
    coverage = np.divide(share, total, out=np.zeros(n), where=total > 0)
    out = pd.DataFrame({"coverage": coverage})
    credited = edges["credited"][keep]
    ids = tl["control_id"].to_numpy(dtype=object)[link]
    for column, hit in (
        ("controls", credited > 0),
        ("unevidenced", edges["maturity"][keep] > credited),
    ):
        out[column] = _names_per_pair(ids[hit], p[hit], n)
    return out


def _names_per_pair(ids: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """Per pair position 0..n-1: its `ids` joined by ";" in edge order ("" for none).

    Edges come in pair order, so each pair's ids are one run, summed in one C loop
    (`np.add.reduceat`): a groupby sum of strings was half of scoring at 10,000 units.
    """
    out = np.full(n, "", dtype=object)
    if not len(p):
        return out
    if np.any(p[1:] < p[:-1]):  # not in pair order: the general way
        names = (pd.Series(ids, dtype=object) + ";").groupby(p, sort=False).sum()
        out[names.index.to_numpy()] = names.str[:-1].to_numpy(dtype=object)
        return out
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    joined = np.add.reduceat(ids + ";", starts)
    out[p[starts]] = [name[:-1] for name in joined]
    return out


def score(
    risk_ratings: pd.DataFrame,
    control_ratings: pd.DataFrame,
    units: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Inherent and residual risk of every applicable unit x risk (columns: SCORE_COLUMNS)."""
    require_columns(risk_ratings, RISK_RATING_COLUMNS, "risk ratings")
    require_columns(units, UNIT_COLUMNS, "units")
    units = units if "region" in units.columns else units.assign(region="")
    rr = risk_ratings.loc[
        risk_ratings["applicable"].astype(bool), ["unit_code", "risk_id", "likelihood", "impact"]
    ]
    rr = rr.merge(units[["unit_code", "unit", "unit_type", "region"]], on="unit_code", how="inner")
    # Only the pairs the catalogue applies: a risk of another unit type is no cell of the map.
    risk_meta = pd.DataFrame(
        [(r.id, t, r.title, r.stage) for r in catalogue.risks for t in r.unit_types],
        columns=["risk_id", "unit_type", "risk", "stage"],
    )
    rr = rr.merge(risk_meta, on=["risk_id", "unit_type"], how="inner")
    rr = rr.sort_values(["unit_code", "risk_id"], ignore_index=True)
    require_columns(control_ratings, CONTROL_RATING_COLUMNS, "control ratings")
    per_pair = coverage_by_pair(_edges(rr, control_ratings, catalogue), len(rr), catalogue)
    rr["coverage"], rr["controls"], rr["unevidenced"] = (
        per_pair["coverage"].to_numpy(),
        per_pair["controls"].to_numpy(),
        per_pair["unevidenced"].to_numpy(),
    )
    coverage = rr["coverage"].to_numpy(dtype=float)
    likelihood = rr["likelihood"].to_numpy(dtype=float)
    impact = rr["impact"].to_numpy(dtype=float)
    reduction, res_l = residual_likelihood(likelihood, coverage, catalogue)
    rr["inherent"] = likelihood * impact
    rr["coverage"] = coverage
    rr["reduction"] = reduction
    rr["residual_likelihood"] = res_l
    rr["residual"] = res_l * impact
    rr["inherent_band"] = band_ids(catalogue, rr["inherent"], likelihood, impact)
    rr["residual_band"] = band_ids(catalogue, rr["residual"], res_l, impact)
    rr["likelihood"] = rr["likelihood"].astype(int)
    rr["impact"] = rr["impact"].astype(int)
    return rr[SCORE_COLUMNS].sort_values(["unit_code", "risk_id"], ignore_index=True)
