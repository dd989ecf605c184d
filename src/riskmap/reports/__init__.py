"""Excel in and out: the auditor's workbook, the questionnaire template and its parser.

The reports work on a `CycleSnapshot` (no database): the service builds it and hands it in.

- `export_workbook(snapshot, catalogue) -> bytes`: the auditor's workbook (.xlsx).
- `questionnaire_template(snapshot, catalogue, unit_ids=None) -> bytes`: the template.
- `parse_questionnaire(data, snapshot, catalogue, filename) -> ParsedAnswers`: the changes
  in a filled-in template, or `QuestionnaireError` listing every problem.
- `check_upload(data) -> list[str]`: reasons to refuse an uploaded .xlsx (size, type,
  macros, encryption, zip bombs), used by the parser and usable for any upload.
"""

from riskmap.reports.questionnaire import (
    ParsedAnswers,
    QuestionnaireError,
    parse_questionnaire,
    questionnaire_template,
)
from riskmap.reports.safety import MAX_UPLOAD_BYTES, check_upload
from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.workbook import SHEETS, export_workbook

__all__ = [
    "MAX_UPLOAD_BYTES",
    "SHEETS",
    "CycleSnapshot",
    "ParsedAnswers",
    "QuestionnaireError",
    "check_upload",
    "export_workbook",
    "parse_questionnaire",
    "questionnaire_template",
]
