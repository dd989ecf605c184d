"""What the browser tests of the walk-through read off the screen and the database.

`on_screen(page)` is the place as the officer sees it (the unit named in the unit's
progress bar, the step checked, the record named in the open form); `in_address(page)`
the place in the address bar; `ratings(url)` the database's ratings of cycle 2026.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pandas as pd
from playwright.sync_api import Error as PlaywrightError

from conftest import wait_for_app
from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service

STEP_NAMES = {
    "1. Unit": "unit",
    "2. Risks": "risks",
    "3. Controls": "controls",
    "4. Summary": "summary",
}


def on_screen(page) -> dict[str, str | None]:
    """Unit, step and the record of the open form, read from what the page shows."""
    bar = page.get_by_text(re.compile(r"^Unit [A-Z]+-\d+: ratings")).first.inner_text()
    unit = re.match(r"Unit ([A-Z]+-\d+):", bar).group(1)
    checked = page.locator("[data-testid='stRadio'] label:has(input:checked)").first
    step = STEP_NAMES.get(checked.inner_text().strip())
    form = page.get_by_text(re.compile(r"^Rating of (risk|control) \S+ for unit \S+, cycle"))
    record = None
    if form.count():
        m = re.match(r"Rating of (\w+) (\S+) for unit (\S+),", form.first.inner_text())
        record = {"kind": m.group(1), "id": m.group(2), "unit": m.group(3)}
    box = picked(page, "Unit")
    assert box.startswith(f"{unit} · "), f"the unit box shows {box!r}, the page unit {unit}"
    done, total = re.search(rf"Unit {re.escape(unit)}: ratings: (\d+) of (\d+)", bar).groups()
    mark = "✓" if done == total else f"{done}/{total}"
    assert box.endswith(f" · {mark}"), f"stale unit label {box!r} ({done} of {total})"
    return {"unit": unit, "step": step, "record": record}


def picked(page, label: str) -> str:
    """The text the selectbox labelled `label` shows as chosen."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    return box.locator("input").input_value()


def in_address(page) -> dict[str, str]:
    query = parse_qs(urlparse(page.url).query)
    return {k: v[0] for k, v in query.items()}


def ratings(url: str) -> pd.DataFrame:
    """Every risk rating of cycle 2026, indexed by (unit, risk)."""
    with Service.open(url, upgrade=False) as svc:
        frame = s.risk_ratings(svc, CLI_ADMIN, "2026")
    return frame.set_index(["unit_code", "risk_id"])


def pick(page, label: str, option: str) -> None:
    """Choose the option starting with `option` in the selectbox labelled `label`."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    field = box.locator("input")
    field.click()
    field.fill(option)  # filters the list down to the option (the list may be long)
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    wait_for_app(page)


def step(page, name: str) -> None:
    page.get_by_test_id("stRadio").first.get_by_text(name, exact=True).click()
    wait_for_app(page)


def choose_level(page, scale: str, level: int, attempts: int = 5) -> None:
    """Tick `level` on `scale`'s radio. A rerun started by the previous widget may redraw
    the group under the click (Playwright's `check` then says the click "did not change
    its state"): wait for the run to end, click the option, look whether it stuck, and
    fail only if the level never sticks."""
    for attempt in range(attempts):
        wait_for_app(page)
        group = page.get_by_test_id("stRadio").filter(has_text=f"{scale}:").first
        radio = group.get_by_role("radio", name=re.compile(f"^{level} "))
        if radio.is_checked():
            return
        try:
            radio.click(force=True, timeout=5000)
        except PlaywrightError:
            if attempt == attempts - 1:
                raise
        wait_for_app(page)
        if radio.is_checked():
            return
    raise AssertionError(f"{scale} {level} could not be ticked in {attempts} attempts")


def type_text(page, text: str) -> None:
    """Type `text` into the open form's text box and commit it (as leaving it would)."""
    box = page.get_by_test_id("stTextArea").locator("textarea").first
    box.fill(text)
    box.press("Control+Enter")
    wait_for_app(page)
