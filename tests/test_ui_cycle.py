"""The cycle page: start, submit, approve by a second person, lock, reopen with a reason."""

from __future__ import annotations

import pytest

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from ui_harness import errors, page, texts

PAGE = "riskmap.ui.pages.cycle"


@pytest.mark.parametrize("role", ["officer", "manager", "admin"])
def test_renders_for_allowed_roles(ui_db, role):
    at = page(PAGE, role).run()
    assert not at.exception, at.exception
    assert not errors(at)
    assert at.subheader[0].value == "Cycle 2026: draft"
    history = at.dataframe[0].value
    assert "started the cycle" in set(history["action"])


def test_auditor_and_strangers_are_refused(ui_db):
    at = page(PAGE, "auditor").run()
    assert "not open to your role (auditor)" in errors(at)[0]
    assert not at.button
    at = page(PAGE, None).run()
    assert "Please sign in" in errors(at)[0]


def _confirm_all(db):
    with db.service() as svc:
        s.confirm_ratings(svc, "demo.officer", "2026")


def test_submit_approve_lock_with_four_eyes(ui_db):
    at = page(PAGE, "officer").run()
    assert at.button(key="cycle-submit").disabled  # ratings still unconfirmed
    _confirm_all(ui_db)
    at = page(PAGE, "officer").run()
    # Each step asks first, in a dialog; Cancel changes nothing.
    at.button(key="cycle-submit").click().run()
    assert "Submit cycle 2026 for review?" in texts(at)
    at.button(key="cycle-ask-no").click().run()
    assert at.subheader[0].value == "Cycle 2026: draft"
    at.button(key="cycle-submit").click().run()
    at.button(key="cycle-ask-yes").click().run()
    assert "Cycle 2026 submitted for review" in texts(at)
    assert at.subheader[0].value == "Cycle 2026: in review"

    # The officer cannot approve (no button); a manager who did not draft it can.
    assert not [b for b in at.button if b.key == "cycle-approve"]
    at = page(PAGE, "manager").run()
    at.button(key="cycle-approve").click().run()
    assert at.subheader[0].value == "Cycle 2026: in review"  # not before the confirmation
    at.button(key="cycle-ask-yes").click().run()
    assert not errors(at) and not at.warning, errors(at)
    assert at.subheader[0].value == "Cycle 2026: approved"
    at.button(key="cycle-lock").click().run()
    assert "Locking cannot be undone" in texts(at)
    assert at.subheader[0].value == "Cycle 2026: approved"
    at.button(key="cycle-ask-yes").click().run()
    assert at.subheader[0].value == "Cycle 2026: locked"
    with ui_db.service() as svc:
        info = s.get_cycle(svc, CLI_ADMIN, "2026")
        history = s.cycle_history(svc, CLI_ADMIN, "2026")
    assert info["status"] == "locked"
    assert info["submitted_by"] == "demo.officer" and info["approved_by"] == "demo.manager"
    shown = at.dataframe[0].value
    assert {"submitted it for review", "approved it", "locked it"} <= set(shown["action"])
    assert list(history["actor"].tail(3)) == ["demo.officer", "demo.manager", "demo.manager"]


def test_a_manager_who_submitted_may_not_approve(ui_db):
    _confirm_all(ui_db)
    with ui_db.service() as svc:
        s.add_user(svc, CLI_ADMIN, "m.two", "officer", "a-long-password")
        s.submit_cycle(svc, "m.two", "2026")
        s.set_role(svc, CLI_ADMIN, "m.two", "manager")
    at = page(PAGE, "manager").run()
    at.session_state["user"] = {"username": "m.two", "role": "manager", "display_name": "M"}
    at.run()
    assert at.button(key="cycle-approve").disabled
    assert "another manager approves it" in texts(at)


def test_reopen_needs_a_reason(ui_db):
    _confirm_all(ui_db)
    with ui_db.service() as svc:
        s.submit_cycle(svc, "demo.officer", "2026")
    at = page(PAGE, "manager").run()
    at.button(key="cycle-reopen").click().run()
    assert any("say why the cycle is reopened" in e for e in errors(at))
    at.text_input(key="cycle-reopen-reason").input("Border units need a second look")
    at.button(key="cycle-reopen").click().run()
    assert at.subheader[0].value == "Cycle 2026: draft"
    shown = at.dataframe[0].value
    reopened = shown[shown["action"] == "reopened it"]
    assert list(reopened["reason"]) == ["Border units need a second look"]


def test_officer_starts_a_new_cycle_from_the_last(ui_db):
    at = page(PAGE, "officer").run()
    at.text_input(key="cycle-new-label").input("2027")
    at.selectbox(key="cycle-new-from").select("2026")
    at.button(key="cycle-start").click().run()
    assert not errors(at), errors(at)
    assert at.session_state["cycle"] == "2027"
    assert at.subheader[0].value == "Cycle 2027: draft"
    assert "Started from cycle 2026" in texts(at)
    # A label already used is refused, in words.
    at.text_input(key="cycle-new-label").input("2026")
    at.button(key="cycle-start").click().run()
    assert any("already exists" in e for e in errors(at))


def test_comments_are_added_and_shown_as_text(ui_db):
    at = page(PAGE, "manager").run()
    at.text_area(key="cycle-comment").input("**Check** <script>alert(1)</script> BC-002")
    at.button(key="cycle-comment-add").click().run()
    assert "Comment added" in texts(at)
    assert any("<script>alert(1)</script>" in t.value for t in at.text)  # st.text: never markup
