"""A small table looked up over a long text column, at once.

`Series.map(dict)` on pandas' Arrow-backed text calls back into Python for every row: at
10,000 units the planner's band and control look-ups over half a million rows were a third
of a plan. Here the few keys are found by one hash look-up of the column and the values
taken by position.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def looked_up(values: pd.Series, table: Mapping) -> pd.Series:
    """`values.map(table)`: the same values, dtype and index (NaN where a key is missing),
    for a table whose values are of one kind (numbers, texts, dates)."""
    if not len(values) or not table:
        return values.map(table)
    answers = pd.Series(list(table.values()))
    at = pd.Index(list(table.keys())).get_indexer(values)
    out = answers.reindex(at)  # -1 is no label: NaN, in the dtype map() would give
    return pd.Series(out.to_numpy(), index=values.index, name=values.name, dtype=out.dtype)
