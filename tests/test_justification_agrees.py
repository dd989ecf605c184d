"""Issue 13's divergence, closed: the justification rule is the same through the service
(`rate_risk`), a questionnaire import and the Assess page.

The same change goes through each of the three ways, on three risks of one unit that are
at their baseline (last cycle's rating): raise the likelihood without saying why (refused,
nothing saved), raise it with a justification (saved), then set it back to the baseline
with the justification cleared (saved: back at the baseline nothing needs saying). After
every step the three ways must agree with each other, and the words of a refusal must be
the rule's own (`riskmap.rules.risk_justification_problem`), whichever way it came.
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskmap import rules
from riskmap import service as s
from riskmap.service import CLI_ADMIN
from test_service_exports import fill, sheet_rows
from ui_harness import errors, page

CYCLE = "2026"
UNIT = "BC-002"
OFFICER = "demo.officer"
WHY = "Two complaints at this post in 2025"
WAYS = ("service", "questionnaire", "page")


def _ratings(db) -> pd.DataFrame:
    with db.service() as svc:
        return s.risk_ratings(svc, CLI_ADMIN, CYCLE, unit=UNIT).set_index("risk_id")


def _at_baseline(db, top: int) -> list[str]:
    """Three applicable risks of the unit rated at their baseline, with room to rise."""
    rr = _ratings(db)
    ok = rr[
        rr["applicable"]
        & (rr["likelihood"] == rr["baseline_likelihood"])
        & (rr["impact"] == rr["baseline_impact"])
        & (rr["likelihood"] < top)
    ]
    assert len(ok) >= len(WAYS), "the demo unit needs three risks at their baseline"
    return list(ok.index[: len(WAYS)])


def _by_service(db, risk: str, likelihood: int, justification: str) -> str | None:
    version = int(_ratings(db).loc[risk, "version"])
    with db.service() as svc:
        try:
            s.rate_risk(
                svc, OFFICER, CYCLE, UNIT, risk, expected_version=version,
                likelihood=likelihood, justification=justification,
            )  # fmt: skip
        except s.ValidationError as exc:
            assert exc.field == "justification", exc  # refused at the justification
            return str(exc).removeprefix("justification: ")
    return None


def _by_questionnaire(db, risk: str, likelihood: int, justification: str) -> str | None:
    with db.service() as svc:
        template = s.questionnaire_template(svc, OFFICER, CYCLE, units=[UNIT])
        r = sheet_rows(template, "Risks")[(UNIT, risk)]
        cells = {("Risks", f"G{r}"): likelihood, ("Risks", f"K{r}"): justification or None}
        try:
            s.import_questionnaire(svc, OFFICER, CYCLE, fill(template, cells), "q.xlsx")
        except s.QuestionnaireRejected as exc:
            (problem,) = exc.problems
            # located at the justification cell, about the justification
            assert (problem.file, problem.cell, problem.field) == (
                "Risks",
                f"K{r}",
                "justification",
            )
            assert str(problem).startswith(f"Risks!K{r}: "), str(problem)
            return problem.message.removeprefix("justification: ")
    return None


def _by_page(db, risk: str, likelihood: int, justification: str) -> str | None:
    at = page("riskmap.ui.pages.assess", "officer", cycle=CYCLE)
    at.query_params.update({"unit": UNIT, "step": "risks", "risk": risk})
    at.run()
    p = f"r|{CYCLE}|{UNIT}|{risk}|"
    at.radio(key=f"{p}l").set_value(likelihood).run()
    at.text_area(key=f"{p}j").input(justification).run()
    # What the form says before the save is what the save will say.
    asked = "(required)" in at.text_area(key=f"{p}j").label
    at.button(key=f"{p}save").click().run()
    assert not at.exception, at.exception
    shown = errors(at)
    assert asked == (bool(shown) or bool(justification.strip())), (asked, shown)
    if not shown:
        return None
    (message,) = shown
    assert message.startswith("Justification: "), message  # shown at the justification
    return message.removeprefix("Justification: ")


@pytest.mark.parametrize("step", ["raise, unsaid", "raise, said", "back, cleared"])
def test_the_three_ways_agree_on_when_a_justification_is_needed(ui_db, step):
    with ui_db.service() as svc:
        top = max(svc.catalogue.method.likelihood.levels)
    risks = dict(zip(WAYS, _at_baseline(ui_db, top), strict=True))
    way = {"service": _by_service, "questionnaire": _by_questionnaire, "page": _by_page}
    before = _ratings(ui_db)
    if step == "back, cleared":  # first raise each with its reason, the service's way
        for risk in risks.values():
            assert _by_service(ui_db, risk, int(before.loc[risk, "likelihood"]) + 1, WHY) is None
    changes = {
        "raise, unsaid": (1, ""),
        "raise, said": (1, WHY),
        "back, cleared": (0, ""),
    }
    up, said = changes[step]

    outcomes = {}
    for name, risk in risks.items():
        base = int(before.loc[risk, "baseline_likelihood"])
        refused = way[name](ui_db, risk, base + up, said)
        saved = _ratings(ui_db).loc[risk]
        rule = rules.risk_justification_problem(
            risk_id=risk, unit=UNIT, applicable=True, likelihood=base + up,
            impact=int(saved["impact"]), justification=said,
            baseline=rules.Baseline(
                base, int(saved["baseline_impact"]), saved["baseline_source"]
            ),
        )  # fmt: skip
        assert refused == rule, name  # the rule's own words, or no refusal where it has none
        outcomes[name] = (
            refused is not None,
            int(saved["likelihood"]) - base,
            saved["justification"],
        )

    want = {
        "raise, unsaid": (True, 0, ""),  # refused: still at the baseline
        "raise, said": (False, 1, WHY),
        "back, cleared": (False, 0, ""),
    }[step]
    assert outcomes == dict.fromkeys(WAYS, want), outcomes
