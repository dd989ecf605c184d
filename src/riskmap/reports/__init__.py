"""Excel in and out: the auditor's workbook, the questionnaire template and its parser.

The reports work on a `CycleSnapshot` (no database): the service builds it and hands it in.

- `export_workbook(snapshot, catalogue) -> bytes`: the auditor's workbook (.xlsx).
- `questionnaire_template(snapshot, catalogue, unit_ids=None) -> bytes`: the template.
- `parse_questionnaire(data, snapshot, catalogue, filename) -> ParsedAnswers`: the changes
  in a filled-in template, or `QuestionnaireError` listing every problem.
- `check_upload(data) -> list[str]`: reasons to refuse an uploaded .xlsx (size, type,
  macros, encryption, zip bombs), used by the parser and usable for any upload.

The package is lazy (PEP 562): a name is imported from its module on first use, so code
that needs only the upload checks (`safety`, e.g. the evidence store and backups) does not
load openpyxl and pandas with the workbook.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES: dict[str, tuple[str, ...]] = {
    "riskmap.reports.questionnaire": ("questionnaire_template",),
    # Apart from the template's writer: an import does not load it.
    "riskmap.reports.questionnaire_layout": ("ParsedAnswers", "QuestionnaireError"),
    "riskmap.reports.questionnaire_parse": ("parse_questionnaire",),
    "riskmap.reports.safety": ("MAX_UPLOAD_BYTES", "check_upload"),
    "riskmap.reports.snapshot": ("CycleSnapshot",),
    "riskmap.reports.workbook": ("SHEETS", "export_workbook"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
