"""Cached reads for the manager's pages (overview, heat maps, plan, trends, audit trail).

`read(name, *args, **kwargs)` runs a read use case as the signed-in user through
`st.cache_data`, keyed on the database, the user, the arguments (the cycle label among
them) and the data version (`riskmap.service.data_version`: the id of the latest audit
event, which every change moves). A change made anywhere (another session, the command
line) is therefore seen at the next run, and repeated runs over unchanged data reuse the
result; `state.after_write()` still clears everything after a write from this server.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

import riskmap.service as service_cases
from riskmap.catalogue import Catalogue
from riskmap.store.engine import database_url
from riskmap.ui import state

CACHE_TTL_SECONDS = 900


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _read(url: str, username: str, name: str, version: int, args: tuple, kwargs: tuple) -> Any:
    del url, version  # part of the cache key only
    return getattr(service_cases, name)(state.service(), username, *args, **dict(kwargs))


def data_version() -> int:
    """The current data version (not cached: one small query)."""
    return service_cases.data_version(state.service(), state.actor())


def read(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run the read use case `name` as the signed-in user, cached on the data version."""
    key = tuple(sorted(kwargs.items()))
    return _read(database_url(), state.actor(), name, data_version(), tuple(args), key)


def catalogue() -> Catalogue:
    return state.service().catalogue
