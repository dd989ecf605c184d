"""Need-to-know in a real browser: an officer limited to region North is told what they
see, picks only North's units on Assess, and a link to another unit shows the refusal,
never that unit's record."""

from __future__ import annotations

import pytest
from assess_helpers import on_screen

from conftest import wait_for_app
from riskmap import service as s
from riskmap.service import CLI_ADMIN, Service

pytestmark = pytest.mark.browser
PASSWORD = "north-officer-password"


@pytest.fixture
def north_officer(demo_site) -> tuple[str, list[str], list[str]]:
    """A new officer (other tests' users untouched) limited to region North."""
    name = "north.officer"
    with Service.open(demo_site.url, upgrade=False) as svc:
        if name not in set(s.list_users(svc, CLI_ADMIN)["username"]):
            s.add_user(svc, CLI_ADMIN, name, "officer", PASSWORD)
        s.set_scope(svc, CLI_ADMIN, name, regions=["North"])
        units = s.list_units(svc, CLI_ADMIN)
    north = sorted(units.loc[units["region"] == "North", "code"])
    others = sorted(units.loc[units["region"] != "North", "code"])
    return name, north, others


def test_a_scoped_officer_sees_and_opens_their_units_only(page, sign_in, north_officer):
    name, north, others = north_officer
    sign_in(page, name, PASSWORD)
    page.get_by_role("heading", name="Assess").wait_for()
    page.get_by_text(
        f"You see {len(north)} of {len(north) + len(others)} units: region North"
    ).first.wait_for()
    box = page.get_by_test_id("stSelectbox").filter(has_text="Unit").first
    box.locator("input").click()
    options = [o.split(" · ")[0] for o in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    assert options == north

    other = others[0]
    page.goto(f"/assess?unit={other}&step=risks")
    wait_for_app(page)
    page.get_by_text(f"unit {other}: outside their scope (region North)").first.wait_for()
    assert on_screen(page)["unit"] in north  # the page went on at their own unit
    assert page.get_by_text(f"Unit {other}: ratings").count() == 0


def _cycle_page(page) -> None:
    page.goto("/cycle")
    wait_for_app(page)
    page.get_by_role("heading", name="Cycle").first.wait_for()


def test_submitting_the_cycle_is_offered_to_a_whole_ministry_officer(page, sign_in):
    sign_in(page, "demo.officer")
    _cycle_page(page)
    page.get_by_role("button", name="Submit for review").wait_for()


def test_a_scoped_officer_is_not_offered_to_submit_the_ministrys_cycle(
    page, sign_in, north_officer
):
    """Submitting acts on the whole ministry: the service refuses a scoped officer, and the
    page does not offer what would be refused."""
    name, _, _ = north_officer
    sign_in(page, name, PASSWORD)
    _cycle_page(page)
    page.get_by_text("You see").first.wait_for()
    assert page.get_by_role("button", name="Submit for review").count() == 0
