"""Helpers shared by the manager's pages (overview, heat maps, plan, trends, audit trail).

Reads go through `riskmap.ui.state.read`, cached on the data version (the id of the latest
audit event, which every change moves), so a change made anywhere is seen at the next run.
"""

from __future__ import annotations

from riskmap.catalogue import Catalogue
from riskmap.ui import state

# One cached reader for every page: riskmap.ui.state's, keyed on the data version.
read = state.read
data_version = state.data_version


def catalogue() -> Catalogue:
    return state.service().catalogue
