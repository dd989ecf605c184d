"""Use cases of riskmap: every page, command and test changes data through these functions.

Each use case is called as ``use_case(svc, actor, ...)``: `svc` is a `Service` (a database
and the catalogue in force), `actor` the acting user's name (or the `User` returned by
`authenticate`, or the system actor `CLI_ADMIN`). Each runs in one transaction, checks the
actor's role (`PermissionDenied`), refuses changes to a locked cycle (`CycleLocked`),
refuses stale saves (`ConflictError`) and writes an audit event with every change.
"""

from riskmap.service.accounts import (
    OIDC_SIGN_IN,
    active_account,
    organisation_info,
    provision_oidc_user,
)
from riskmap.service.assess_reads import UnitSummary, next_unit, unit_progress, unit_summary
from riskmap.service.briefing import Briefing, briefing, briefing_pdf
from riskmap.service.core import CLI_ADMIN, ROLES, USE_CASES, Actor, Service
from riskmap.service.cycles import (
    approve_cycle,
    comment,
    comments,
    get_cycle,
    list_cycles,
    lock_cycle,
    reopen_cycle,
    start_cycle,
    submit_cycle,
)
from riskmap.service.errors import (
    ConflictError,
    CycleLocked,
    DomainError,
    FourEyesViolation,
    NotFound,
    OutOfScope,
    PermissionDenied,
    ValidationError,
    WorkflowError,
)
from riskmap.service.evidence import (
    add_evidence,
    evidence_file,
    evidence_items,
    supersede_evidence,
    verify_evidence,
)
from riskmap.service.exports import cycle_snapshot, export_workbook, questionnaire_template
from riskmap.service.frames import CycleFrames
from riskmap.service.history import cycle_history
from riskmap.service.import_plan import (
    ImportPlan,
    ImportPlanOutdated,
    ImportResult,
    QuestionnaireRejected,
)
from riskmap.service.imports import ImportRejected, check_unit_import, import_units
from riskmap.service.incidents import incidents, record_incident
from riskmap.service.overview import (
    CycleMap,
    cycle_map,
    data_version,
    key_figures,
    preview_plan,
    top_missing,
)
from riskmap.service.plans import actions, add_action, build_plan, update_action
from riskmap.service.questionnaire_import import (
    apply_questionnaire,
    check_questionnaire,
    import_questionnaire,
)
from riskmap.service.ratings import (
    confirm_ratings,
    control_ratings,
    rate_control,
    rate_risk,
    risk_ratings,
)
from riskmap.service.reads import (
    Trend,
    aggregations,
    audit_anchor,
    audit_trail,
    calibration,
    cycle_frames,
    method_sensitivity,
    register,
    take_checkpoint,
    trend,
    verify_audit,
)
from riskmap.service.scoping import ScopeView, my_scope, set_scope
from riskmap.service.unit_profile import UnitProfile, unit_profile
from riskmap.service.units import (
    add_unit,
    edit_unit,
    list_units,
    move_unit,
    retire_unit,
    set_up_organisation,
)
from riskmap.service.users import (
    add_user,
    authenticate,
    disable_user,
    enable_user,
    list_users,
    set_role,
    sign_in_hold,
)
from riskmap.store.engine import database_url

__all__ = [
    "database_url",
    "OIDC_SIGN_IN",
    "active_account",
    "organisation_info",
    "provision_oidc_user",
    "Briefing",
    "briefing",
    "briefing_pdf",
    "CLI_ADMIN",
    "ROLES",
    "USE_CASES",
    "Actor",
    "ConflictError",
    "CycleFrames",
    "CycleMap",
    "CycleLocked",
    "DomainError",
    "FourEyesViolation",
    "ImportPlan",
    "ImportPlanOutdated",
    "ImportResult",
    "ImportRejected",
    "NotFound",
    "OutOfScope",
    "PermissionDenied",
    "QuestionnaireRejected",
    "Service",
    "Trend",
    "UnitProfile",
    "UnitSummary",
    "method_sensitivity",
    "ValidationError",
    "WorkflowError",
    "actions",
    "add_action",
    "add_evidence",
    "evidence_file",
    "evidence_items",
    "supersede_evidence",
    "verify_evidence",
    "add_unit",
    "add_user",
    "aggregations",
    "approve_cycle",
    "audit_anchor",
    "audit_trail",
    "authenticate",
    "sign_in_hold",
    "build_plan",
    "calibration",
    "apply_questionnaire",
    "check_questionnaire",
    "check_unit_import",
    "comment",
    "comments",
    "confirm_ratings",
    "control_ratings",
    "cycle_frames",
    "cycle_history",
    "cycle_map",
    "cycle_snapshot",
    "data_version",
    "disable_user",
    "edit_unit",
    "enable_user",
    "export_workbook",
    "get_cycle",
    "import_units",
    "import_questionnaire",
    "incidents",
    "key_figures",
    "list_cycles",
    "list_units",
    "list_users",
    "lock_cycle",
    "move_unit",
    "next_unit",
    "preview_plan",
    "questionnaire_template",
    "rate_control",
    "rate_risk",
    "record_incident",
    "register",
    "reopen_cycle",
    "retire_unit",
    "risk_ratings",
    "set_role",
    "set_scope",
    "my_scope",
    "ScopeView",
    "set_up_organisation",
    "start_cycle",
    "submit_cycle",
    "top_missing",
    "trend",
    "unit_profile",
    "unit_progress",
    "unit_summary",
    "update_action",
    "verify_audit",
    "take_checkpoint",
]
