"""A randomised walk through Assess in a real browser (seeded, bounded to about a minute).

50 actions chosen among: select a unit, select a risk, edit (levels and justification),
save, next step, Back, reload. After every action the place on screen is consistent (the
open form belongs to the unit shown, the address bar names what the screen shows); after
every save the rating saved is exactly the one on screen, and no other rating changed.
"""

from __future__ import annotations

import os
import random
import re
import time

import pandas as pd
import pytest
from assess_helpers import choose_level, in_address, on_screen, pick, ratings, step

from conftest import wait_for_app

pytestmark = pytest.mark.browser

SEED = int(os.environ.get("RISKMAP_WALK_SEED", "20261203"))
ACTIONS = 50
BUDGET_SECONDS = 150  # the walk stops early rather than run long on a slow machine
COLS = ["applicable", "likelihood", "impact", "justification", "confirmed"]


def _consistent(page) -> dict:
    shown = on_screen(page)
    address = in_address(page)
    assert address.get("unit") == shown["unit"] and address.get("step") == shown["step"]
    record = shown["record"]
    if shown["step"] == "risks":
        assert record is not None and record["kind"] == "risk"
        assert record["unit"] == shown["unit"]
        assert address.get("risk") == record["id"]
    return shown


def _levels_on_screen(page) -> tuple[int, int] | None:
    values = []
    for scale in ("Likelihood", "Impact"):
        group = page.get_by_test_id("stRadio").filter(has_text=f"{scale}:")
        if not group.count():
            return None
        checked = group.first.locator("label:has(input:checked)").inner_text().strip()
        values.append(int(checked.split(" ", 1)[0]))
    return values[0], values[1]


def _others_unchanged(before: pd.DataFrame, after: pd.DataFrame, saved: tuple | None) -> None:
    keep = before.drop(index=[saved]) if saved is not None else before
    changed = (keep[COLS] != after.loc[keep.index, COLS]).any(axis=1)
    assert not changed.any(), f"ratings changed that were not saved: {list(keep.index[changed])}"


def test_randomised_walk(page, sign_in, demo_site):
    rnd = random.Random(SEED)
    sign_in(page, "demo.officer")
    db = ratings(demo_site.url)
    units = sorted(db.index.get_level_values(0).unique())
    start, done, saves = time.monotonic(), 0, 0
    for n in range(ACTIONS):
        if time.monotonic() - start > BUDGET_SECONDS:
            break
        shown = _consistent(page)
        action = rnd.choice(
            ["unit", "risk", "edit", "edit", "save", "save", "next", "back", "reload"]
        )
        if action in ("risk", "edit", "save") and shown["step"] != "risks":
            step(page, "2. Risks")
            shown = _consistent(page)
        if action == "unit":
            pick(page, "Unit", rnd.choice(units))
        elif action == "risk":
            current = ratings(demo_site.url).loc[shown["unit"]]
            risk_id = rnd.choice(list(current.index))
            mark = "✓" if current.loc[risk_id, "confirmed"] else "○"
            pick(page, "Risk scenario", f"{mark} {risk_id}")
            assert _consistent(page)["record"]["id"] == risk_id
        elif action == "edit" and _levels_on_screen(page) is not None:
            for scale in ("Likelihood", "Impact"):
                choose_level(page, scale, rnd.randint(1, 5))
            box = page.get_by_test_id("stTextArea").locator("textarea").first
            box.fill(f"Walk {SEED} step {n}: reviewed with the unit")
            box.press("Control+Enter")
            wait_for_app(page)
            assert _consistent(page) == shown  # an edit never moves the form
        elif action == "save" and _levels_on_screen(page) is not None:
            before = ratings(demo_site.url)
            record = shown["record"]
            levels = _levels_on_screen(page)
            text = page.get_by_test_id("stTextArea").locator("textarea").first.input_value()
            page.get_by_role("button", name="Save and confirm", exact=True).click()
            wait_for_app(page)
            after = ratings(demo_site.url)
            key = (record["unit"], record["id"])
            message = f"Saved and confirmed risk {record['id']} for unit {record['unit']}."
            if page.get_by_test_id("stToastText").filter(has_text=message).count():
                saves += 1
                row = after.loc[key]
                assert (int(row["likelihood"]), int(row["impact"])) == levels
                assert row["justification"] == text.strip() and bool(row["confirmed"])
                assert _consistent(page) == shown
                _others_unchanged(before, after, key)
            else:  # refused (e.g. a justification missing): nothing written
                _others_unchanged(before, after, None)
        elif action == "next":
            nxt = page.get_by_role("button", name=re.compile(r"^Next: "))
            if nxt.count():
                nxt.first.click()
                wait_for_app(page)
        elif action == "back":
            page.go_back()
            wait_for_app(page)
        elif action == "reload":
            page.reload()
            wait_for_app(page)
            page.get_by_role("button", name="Sign out").wait_for()
            assert _consistent(page)["unit"] == shown["unit"]
        done += 1
    _consistent(page)
    print(f"walk (seed {SEED}): {done} actions, {saves} saves checked against the database")
    assert done >= 30, f"only {done} actions in {BUDGET_SECONDS} s"
    assert saves >= 1, "the walk saved nothing: it tested no save"
