"""Excel in and out: the auditor's workbook, the questionnaire template and its parser.

The reports work on a `CycleSnapshot` (no database): the service builds it and hands it in.
"""

from riskmap.reports.snapshot import CycleSnapshot
from riskmap.reports.workbook import SHEETS, export_workbook

__all__ = ["SHEETS", "CycleSnapshot", "export_workbook"]
