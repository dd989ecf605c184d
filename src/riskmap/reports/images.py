"""Plotly figures as pictures, by plotly's static image export (kaleido).

kaleido 1.x drives a Chrome or Chromium installed on the machine. It looks for one on its
own; on Debian the browser is `/usr/bin/chromium`, which is named to it through
`BROWSER_PATH` when nothing else is set (CI installs Debian's `chromium`). `available()`
says whether a picture can be made here, for the tests that need one.
"""

from __future__ import annotations

import os
import shutil
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def _point_at_browser() -> None:
    if os.environ.get("BROWSER_PATH"):
        return
    for path in CANDIDATES:
        if os.path.exists(path):
            os.environ["BROWSER_PATH"] = path
            return


@cache
def available() -> bool:
    """True when kaleido is installed and a Chromium it can drive is found."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    _point_at_browser()
    path = os.environ.get("BROWSER_PATH")
    return bool((path and os.path.exists(path)) or shutil.which("chromium"))


def picture(
    fig: go.Figure, *, width: int, height: int, fmt: str = "png", scale: float = 2
) -> bytes:
    """`fig` drawn at `width` x `height` CSS pixels, `scale` times as many dots (PNG or SVG)."""
    _point_at_browser()
    return pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)
