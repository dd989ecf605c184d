"""Helpers shared by the manager's pages (overview, heat maps, plan, trends, audit trail).

Reads go through `riskmap.ui.state.read`, cached on the data version (the id of the latest
audit event, which every change moves), so a change made anywhere is seen at the next run.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from riskmap.catalogue import Catalogue
from riskmap.service import DomainError
from riskmap.ui import state

# One cached reader for every page: riskmap.ui.state's, keyed on the data version.
read = state.read
data_version = state.data_version


def catalogue() -> Catalogue:
    """The catalogue in force (the service's, loaded once per process)."""
    return state.service().catalogue


def open_cycle_page(
    roles: tuple[str, ...], title: str, *reads: str | tuple[str, dict[str, Any]]
) -> tuple[str, Catalogue, tuple[Any, ...]] | None:
    """The start every manager's page of one cycle makes: the role checked, the cycle in
    view, the catalogue, the title, then each named read of that cycle. A domain error from
    a read is shown in an officer's words and gives None (the page stops drawing), so no
    page shows half its reads.

    A read is a use case's name, or `(name, options)` for its keyword arguments.
    `(cycle, catalogue, results)`, the results in the order of `reads`.
    """
    state.require(*roles)
    cycle = state.require_cycle()
    cat = catalogue()
    st.title(title)
    try:
        results = tuple(
            read(r, cycle) if isinstance(r, str) else read(r[0], cycle, **r[1]) for r in reads
        )
    except DomainError as exc:
        state.show_error(exc)
        return None
    return cycle, cat, results
