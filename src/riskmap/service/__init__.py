"""Use cases of riskmap: every page, command and test changes data through these functions.

Each use case is called as ``use_case(svc, actor, ...)``: `svc` is a `Service` (a database
and the catalogue in force), `actor` the acting user's name (or the `User` returned by
`authenticate`, or the system actor `CLI_ADMIN`). Each runs in one transaction, checks the
actor's role (`PermissionDenied`), refuses changes to a locked cycle (`CycleLocked`),
refuses stale saves (`ConflictError`) and writes an audit event with every change.

The package is lazy (PEP 562): `service.score_x` imports the module that defines it on
first use, so a command imports only the use cases it runs (`riskmap score --cycle` does
not load openpyxl, fpdf or alembic's whole script machinery for the Excel and PDF use
cases it never calls). `USE_CASES`, the role matrix, imports every module first so that
it is always whole.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# module -> the public names it gives this package (the one list: __all__ is built from it)
_HOMES: dict[str, tuple[str, ...]] = {
    "riskmap.service.accounts": (
        "OIDC_SIGN_IN",
        "active_account",
        "organisation_info",
        "provision_oidc_user",
    ),
    "riskmap.service.assess_reads": ("UnitSummary", "next_unit", "unit_progress", "unit_summary"),
    "riskmap.service.briefing": ("Briefing", "briefing", "briefing_pdf"),
    "riskmap.service.core": ("CLI_ADMIN", "ROLES", "USE_CASES", "Actor", "Service"),
    "riskmap.service.cycles": (
        "approve_cycle",
        "comment",
        "comments",
        "get_cycle",
        "list_cycles",
        "lock_cycle",
        "reopen_cycle",
        "start_cycle",
        "submit_cycle",
    ),
    "riskmap.service.errors": (
        "ConflictError",
        "CycleLocked",
        "DomainError",
        "FourEyesViolation",
        "NotFound",
        "OutOfScope",
        "PermissionDenied",
        "ValidationError",
        "WorkflowError",
    ),
    "riskmap.service.evidence": (
        "add_evidence",
        "evidence_file",
        "evidence_items",
        "supersede_evidence",
        "verify_evidence",
    ),
    "riskmap.service.exports": ("cycle_snapshot", "export_workbook", "questionnaire_template"),
    "riskmap.service.frames": ("CycleFrames",),
    "riskmap.service.history": ("cycle_history",),
    "riskmap.service.import_plan": (
        "ImportPlan",
        "ImportPlanOutdated",
        "ImportResult",
        "QuestionnaireRejected",
    ),
    "riskmap.service.imports": ("ImportRejected", "check_unit_import", "import_units"),
    "riskmap.service.incidents": ("incidents", "record_incident"),
    "riskmap.service.overview": (
        "CycleMap",
        "cycle_map",
        "cycle_register",
        "data_version",
        "key_figures",
        "preview_plan",
        "top_missing",
    ),
    "riskmap.service.plans": ("actions", "add_action", "build_plan", "update_action"),
    "riskmap.service.questionnaire_import": (
        "apply_questionnaire",
        "check_questionnaire",
        "import_questionnaire",
    ),
    "riskmap.service.questionnaire_parts": ("TemplateParts", "template_parts", "template_units"),
    "riskmap.service.ratings": (
        "confirm_ratings",
        "control_ratings",
        "rate_control",
        "rate_risk",
        "risk_ratings",
    ),
    "riskmap.service.reads": (
        "Trend",
        "aggregations",
        "audit_anchor",
        "audit_trail",
        "calibration",
        "cycle_frames",
        "method_sensitivity",
        "register",
        "take_checkpoint",
        "trend",
        "verify_audit",
    ),
    "riskmap.service.scoping": ("ScopeView", "my_scope", "set_scope"),
    "riskmap.service.unit_profile": ("UnitProfile", "unit_profile"),
    "riskmap.service.units": (
        "add_unit",
        "edit_unit",
        "list_units",
        "move_unit",
        "retire_unit",
        "set_up_organisation",
    ),
    "riskmap.service.users": (
        "add_user",
        "authenticate",
        "disable_user",
        "enable_user",
        "list_users",
        "set_role",
        "sign_in_hold",
    ),
    "riskmap.store.engine": ("database_url",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = list(_HOME_OF)


def _load_all() -> None:
    for module in _HOMES:
        importlib.import_module(module)


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "USE_CASES":
        _load_all()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """Keeps a use case named like its module (`briefing`, `incidents`) a function.

    Importing a submodule binds it on the package (`riskmap.service.briefing = <module>`);
    eagerly, the package's own `from ... import briefing` then rebound the function. Lazily,
    the submodule may be imported first from anywhere, so the binding is refused here.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _HOME_OF.get(name, "").startswith(
            "riskmap.service."
        ):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
