"""riskmap dashboard entry point (`make run` or `streamlit run app.py`).

Pages stay thin: they read through riskmap's cores and show. This first page presents the
catalogue in force; the assessment pages build on the store and service layers.
"""

from __future__ import annotations

import streamlit as st

from riskmap.ui.catalogue_page import render

st.set_page_config(page_title="riskmap", layout="wide")
render()
