"""Need-to-know on the pages: a scoped officer's Assess page lists their units only, says
how many of the ministry's they see, and a link to another unit shows the service's
refusal, never that unit's record."""

from __future__ import annotations

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.ui.pages.assess import STEPS
from ui_harness import errors, page, texts

PAGE = "riskmap.ui.pages.assess"


def _scope_officer_to_north(db) -> tuple[list[str], int]:
    with db.service() as svc:
        s.set_scope(svc, CLI_ADMIN, "demo.officer", regions=["North"])
        north = list(s.list_units(svc, "demo.officer")["code"])
        total = len(s.list_units(svc, CLI_ADMIN))
    return north, total


def _unit_options(at) -> list[str]:
    picker = next(w for w in at.selectbox if w.label.startswith("Unit"))
    return [str(o).split(" · ")[0] for o in picker.options]


def test_a_scoped_officer_sees_their_units_only(ui_db):
    north, total = _scope_officer_to_north(ui_db)
    assert north and len(north) < total
    at = page(PAGE, "officer").run()
    assert not at.exception, at.exception
    assert _unit_options(at) == north
    assert f"You see {len(north)} of {total} units: region North" in texts(at)
    # unscoped, the same page lists every unit and shows no such line
    whole = page(PAGE, "manager").run()
    assert len(_unit_options(whole)) > len(north)
    assert "You see" not in texts(whole)


def test_a_link_to_another_unit_is_refused_not_shown(ui_db):
    north, _ = _scope_officer_to_north(ui_db)
    with ui_db.service() as svc:
        other = next(u for u in s.list_units(svc, CLI_ADMIN)["code"] if u not in north)
        other_name = s.list_units(svc, CLI_ADMIN).set_index("code").loc[other, "name"]
    at = page(PAGE, "officer")
    at.query_params.update({"unit": other, "step": STEPS[1]})
    at.run()
    assert not at.exception, at.exception
    refusal = f"unit {other}: outside their scope (region North)"
    assert any(refusal in e for e in errors(at)), (other, errors(at), at.query_params)
    shown = texts(at)
    assert other_name not in shown
    assert f"Unit {other}" not in shown
    # the page went on at one of the officer's own units, and the address bar says so
    picker = next(w for w in at.selectbox if w.label.startswith("Unit"))
    assert str(picker.value).split(" · ")[0] in north
    assert str(at.query_params["unit"]) in north


def _buttons(at) -> list[str]:
    return [b.label for b in at.button]


def test_a_scoped_officer_is_not_offered_the_ministry_wide_submit(ui_db):
    """Submitting the cycle is a step of the whole ministry: the page offers it only to an
    officer whose scope is the whole ministry (the service refuses the others)."""
    whole = page("riskmap.ui.pages.cycle", "officer").run()
    assert not whole.exception, whole.exception
    assert "Submit for review" in _buttons(whole)
    _scope_officer_to_north(ui_db)
    scoped = page("riskmap.ui.pages.cycle", "officer").run()
    assert not scoped.exception, scoped.exception
    assert "Submit for review" not in _buttons(scoped)
