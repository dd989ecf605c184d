"""Exports: the auditor's workbook, and the questionnaire officers fill in offline.

Each section is offered to the roles the service lets run it (`state.can`), and the service
checks again when it runs:

- the auditor's workbook of the cycle in view (every role): prepared on request (the export
  is recorded in the audit trail), then downloaded;
- a questionnaire template of a draft cycle, for every unit, a region, a unit type or chosen
  units (officer, administrator; `service.template_units` is the selection);
- a filled-in questionnaire (officer): uploaded, checked once in full (every problem listed
  with its sheet and cell, read from the service's `Problem`s), its changes previewed (unit,
  risk or control, field, before and after); the check's plan is kept in the session and
  "Apply all" saves exactly that plan, all at once, unless the cycle changed since the
  check (then the file is checked again and the officer sees why).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from riskmap import vocabulary
from riskmap.problems import Problem
from riskmap.service import (
    DomainError,
    ImportPlan,
    ImportPlanOutdated,
    ImportResult,
    QuestionnaireRejected,
    apply_questionnaire,
    check_questionnaire,
    export_workbook,
    questionnaire_template,
)
from riskmap.ui import registry, state
from riskmap.ui.widgets import download_prepared, escape_md, prepare_button, table

ROLES = registry.roles_of("exports")  # the registry is the one list
KEY = "exports-"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ss = st.session_state


def _workbook(cycle: str) -> None:
    st.subheader("The auditor's workbook")
    st.markdown(
        "Every sheet an auditor needs to recompute the cycle's scores in Excel or LibreOffice: "
        "the method, both heat maps, the register with live formulas, control ratings, the "
        "plan, incidents and the audit trail. Preparing it is recorded in the audit trail."
    )
    prepare_button(
        f"{KEY}workbook",
        cycle,
        "Prepare the workbook",
        "Writing the workbook...",
        lambda: state.write(export_workbook, cycle),
    )
    name = f"riskmap-{cycle}-auditor-workbook.xlsx"
    label = "Download the auditor's workbook"
    kept = download_prepared(f"{KEY}workbook", cycle, label, name, XLSX)
    if kept is None:
        return
    st.caption(
        f"Prepared at {kept['at']} ({len(kept['data']) / 1024:,.0f} KiB). Changes saved "
        "since are not in it: prepare it again to include them."
    )


def _draft_only(cycle: str, status: str, what: str) -> bool:
    if status == vocabulary.CycleStatus.DRAFT:
        return True
    st.info(
        f"Cycle {escape_md(cycle)} is {escape_md(vocabulary.cycle_status_label(status))}: "
        f"{what} only for a draft cycle.",
        icon=":material/lock:",
    )
    return False


def _template(cycle: str, status: str) -> None:
    st.subheader("Questionnaire template")
    st.markdown(
        "One row per risk and per control of each unit, with the current answers, drop-down "
        "levels and their meanings, for heads of unit to fill in offline. Upload it back "
        "below."
    )
    if not _draft_only(cycle, status, "questionnaires are made"):
        return
    units = state.read("list_units")
    names = dict(zip(units["code"], units["name"], strict=True))
    parts = state.read("template_parts", cycle)
    left, right = st.columns(2)
    region = left.selectbox(
        "Region",
        [None, *parts.regions],
        key=f"{KEY}template-region",
        format_func=lambda r: "Every region" if r is None else f"{r} ({parts.regions[r]} units)",
    )
    unit_type = right.selectbox(
        "Unit type",
        [None, *parts.unit_types],
        key=f"{KEY}template-unit-type",
        format_func=lambda t: (
            "Every unit type" if t is None else f"{t} ({parts.unit_types[t]} units)"
        ),
    )
    chosen = st.multiselect(
        "Units (none chosen: every unit of the region and unit type chosen)",
        list(names),
        key=f"{KEY}template-units",
        format_func=lambda c: f"{c}: {names.get(c, '')}",
        placeholder="Every unit",
    )
    st.caption(
        "A large ministry sends one questionnaire per region or unit type: each file then "
        "stays small enough to upload back."
    )
    prepare_button(
        f"{KEY}template",
        cycle,
        "Prepare the questionnaire",
        "Writing the questionnaire...",
        lambda: state.call(
            questionnaire_template,
            cycle,
            list(chosen) or None,
            region=region,
            unit_type=unit_type,
        ),
        name=_template_name(cycle, list(chosen), region, unit_type),
        which=_template_which(list(chosen), region, unit_type),
    )
    kept = download_prepared(f"{KEY}template", cycle, "Download the questionnaire", "", XLSX)
    if kept is None:
        return
    st.caption(
        f"Prepared at {kept['at']} for {escape_md(kept['which'])} "
        f"({len(kept['data']) / 1024:,.0f} KiB)."
    )


def _template_which(chosen: list[str], region: str | None, unit_type: str | None) -> str:
    """The units a template carries, in words (shown under its download)."""
    which = [", ".join(chosen)] if chosen else []
    which += [f"region {region}"] if region else []
    which += [f"unit type {unit_type}"] if unit_type else []
    return "; ".join(which) or "every unit"


def _template_name(cycle: str, chosen: list[str], region, unit_type) -> str:
    """A file name that says which part of the ministry the template is for."""
    which = ["-".join(chosen) if len(chosen) <= 3 else "units"] if chosen else []
    which += [str(x) for x in (region, unit_type) if x]
    safe = re.sub(r"[^\w.-]+", "_", "-".join(which) or "all")[:80]
    return f"riskmap-{cycle}-questionnaire-{safe}.xlsx"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table: sheet, cell, problem (sheet and cell empty for the whole file)."""
    rows = [(p.file if p.cell else "", p.cell, p.message if p.cell else str(p)) for p in problems]
    return pd.DataFrame(rows, columns=["sheet", "cell", "problem"])


def preview_frame(result: ImportResult) -> pd.DataFrame:
    """The changes as a reader checks them: unit, risk or control, field, before, after."""
    c = result.changes

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return pd.DataFrame(
        {
            "unit": c["unit_code"] + ": " + c["unit"].astype(str),
            "risk or control": c["kind"] + " " + c["item_id"] + ": " + c["item"].astype(str),
            "field": c["field"],
            "before": c["before"].map(text),
            "after": c["after"].map(text),
            "cell": c["cell"],
        },
        columns=["unit", "risk or control", "field", "before", "after", "cell"],
    )


def _check(cycle: str, upload: Any) -> ImportPlan | QuestionnaireRejected | DomainError:
    """The check of the uploaded file, kept for this file and cycle: the plan "Apply all"
    saves (the service refuses it if the cycle changed since), never parsed again."""
    signature = (upload.file_id, cycle)
    kept = ss.get(f"{KEY}check")
    if kept is not None and kept[0] == signature:
        return kept[1]
    try:
        with st.spinner(f"Checking {upload.name}..."):
            outcome: Any = state.call(check_questionnaire, cycle, upload.getvalue(), upload.name)
    except DomainError as exc:
        outcome = exc
    ss[f"{KEY}check"] = (signature, outcome)
    return outcome


def _refused(exc: QuestionnaireRejected, what: str) -> None:
    st.error(
        f"{escape_md(exc.filename)}: {len(exc.problems)} problem(s); {what}. Fix them "
        "(or download a new template) and upload the file again.",
        icon=":material/error:",
    )
    table(problems_frame(exc.problems))


def _apply(plan: ImportPlan) -> None:
    """Save the checked plan; if the cycle changed since the check, check the file again
    (next run) and say why."""
    ss.pop(f"{KEY}check", None)
    try:
        with st.spinner(f"Saving {plan.filename}..."):
            result = state.write(apply_questionnaire, plan)
    except ImportPlanOutdated as exc:
        ss[f"{KEY}outdated"] = str(exc)
        st.rerun()
    except DomainError as exc:
        state.show_error(exc, key=f"{KEY}apply")
        return
    state.flash(f"Saved {result.summary()}.")
    ss[f"{KEY}uploads"] = ss.get(f"{KEY}uploads", 0) + 1  # a new key empties the uploader
    st.rerun()


def _upload(cycle: str, status: str) -> None:
    st.subheader("Import a filled-in questionnaire")
    st.markdown(
        "Every row is checked first, against the file and against riskmap (a rating changed "
        "here since the template was made is not overwritten). Every problem is listed with "
        "its sheet and cell; nothing is saved unless the whole file is correct."
    )
    if not _draft_only(cycle, status, "answers are imported"):
        return
    upload = st.file_uploader(
        "Filled-in questionnaire (.xlsx)",
        type=["xlsx"],
        key=f"{KEY}file-{ss.get(f'{KEY}uploads', 0)}",
    )
    if upload is None:
        return
    outcome = _check(cycle, upload)
    outdated = ss.pop(f"{KEY}outdated", None)
    if outdated:
        st.error(escape_md(f"{outdated}. It was checked again: see below."), icon=":material/sync:")
    if isinstance(outcome, QuestionnaireRejected):
        _refused(outcome, "nothing can be saved")
        return
    if isinstance(outcome, DomainError):
        state.show_error(outcome, key=f"{KEY}check")
        return
    if outcome.nothing_to_save:
        st.info(
            f"{escape_md(upload.name)}: {outcome.rows_read} row(s) read; no answer differs from "
            "riskmap, so there is nothing to save.",
            icon=":material/info:",
        )
        return
    st.success(
        escape_md(
            f"{upload.name} is correct: {outcome.risk_ratings} risk rating(s) and "
            f"{outcome.control_ratings} control rating(s) of {len(outcome.units)} unit(s) "
            f"change ({len(outcome.changes)} field(s)"
            + (
                f", {outcome.evidence_items} new evidence reference(s)"
                if outcome.evidence_items
                else ""
            )
            + "). Check them, then apply them all."
        ),
        icon=":material/task_alt:",
    )
    table(preview_frame(outcome))
    if st.button("Apply all", type="primary", key=f"{KEY}apply", icon=":material/done_all:"):
        _apply(outcome)


def render() -> None:
    state.require(*ROLES)
    state.show_flash()
    st.title("Exports")
    cycle = state.require_cycle()
    try:
        status = state.read("get_cycle", cycle)["status"]
    except DomainError as exc:
        state.show_error(exc)
        return
    st.caption(f"Cycle {escape_md(cycle)} ({escape_md(vocabulary.cycle_status_label(status))}).")
    if state.can(export_workbook):
        _workbook(cycle)
    if state.can(questionnaire_template):
        st.divider()
        _template(cycle, status)
    if state.can(apply_questionnaire):
        st.divider()
        _upload(cycle, status)
