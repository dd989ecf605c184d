"""The one-page briefing as a PDF (A4, portrait), made with fpdf2 and kaleido.

From a `service.briefing.Briefing`: the cycle and its approval, the method and catalogue
version, the key figures with their change against the last cycle (an arrow up or down,
coloured by whether the change is good news; a zero change is neutral), the heat map of
unit types x risks (worst unit and units per band, `charts.group_heatmap`) and the
trafficking chain (`charts.chain_chart`) as pictures drawn by plotly's static export, the
ten highest residual risks with their units, the plan in brief and the open calibration
flags. Everything fits one page: tables are cut to their rows, names to their cells.

Text someone typed goes into the PDF as text (fpdf2 writes it as a string, never as markup
or an operator). A Unicode font (DejaVu Sans, Debian `fonts-dejavu-core`) is used when
installed; otherwise the core Helvetica, with characters outside Latin-1 replaced.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pandas as pd
from fpdf import FPDF

from riskmap import vocabulary
from riskmap.catalogue import Catalogue
from riskmap.charts import chain_chart, group_heatmap, shorten
from riskmap.figures import rounded_change
from riskmap.reports.images import picture

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
PAGE_W, MARGIN = 210.0, 12.0
WIDTH = PAGE_W - 2 * MARGIN
WORSE, BETTER, SAME = (189, 0, 38), (44, 123, 182), (110, 110, 110)
KEY_FIGURES = [
    ("units_assessed", "Units assessed", None, 0),
    ("units_critical", "Units with a critical risk", True, 0),
    ("mean_residual", "Mean residual risk", True, 2),
    ("n_critical", "Risks critical", True, 0),
    ("n_high", "Risks high", True, 0),
    ("actions_open", "Actions open", None, 0),
    ("actions_overdue", "Actions overdue", True, 0),
    ("actions_done", "Actions done", False, 0),
]


class _Page(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.unicode = os.path.exists(f"{FONT_DIR}/DejaVuSans.ttf")
        if self.unicode:
            self.add_font("body", "", f"{FONT_DIR}/DejaVuSans.ttf")
            self.add_font("body", "B", f"{FONT_DIR}/DejaVuSans-Bold.ttf")
        self.family = "body" if self.unicode else "helvetica"

    def text_of(self, value: Any) -> str:
        text = " ".join(str(value).split())
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False, color=(0, 0, 0)) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def line_at(self, y: float, text: str, size: float, bold=False, color=(0, 0, 0)) -> None:
        self.font(size, bold, color)
        self.set_xy(MARGIN, y)
        self.cell(WIDTH, size * 0.45, self.text_of(text))

    def heading(self, x: float, y: float, w: float, text: str) -> None:
        self.font(9.5, True, (30, 30, 30))
        self.set_xy(x, y)
        self.cell(w, 5, self.text_of(text))


def _arrow(change: float | None, lower_is_better: bool | None, decimals: int, unicode: bool):
    """The change in words and its colour: "▲ +2" red when it is bad news, "= 0" grey."""
    if change is None:
        return "no earlier cycle", SAME
    c = float(rounded_change(change)) if decimals else round(float(change))
    if c == 0:
        return "= no change", SAME
    up = c > 0
    mark = ("▲" if up else "▼") if unicode else ("up" if up else "down")
    text = f"{mark} {c:+.{decimals}f}"
    if lower_is_better is None:
        return text, SAME
    return text, (WORSE if up == lower_is_better else BETTER)


def _figures(pdf: _Page, b, y: float) -> float:
    now, change = b.figures["figures"], b.figures["change"]
    has_previous = b.figures["previous"] is not None
    w = WIDTH / len(KEY_FIGURES)
    for k, (key, label, lower, decimals) in enumerate(KEY_FIGURES):
        x = MARGIN + k * w
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x + 0.5, y, w - 1, 17)
        pdf.font(6.5, False, (70, 70, 70))
        pdf.set_xy(x + 1, y + 0.8)
        pdf.multi_cell(w - 2, 2.8, pdf.text_of(label), align="C")
        value = now.get(key, 0)
        pdf.font(12, True)
        pdf.set_xy(x + 1, y + 6.8)
        pdf.cell(w - 2, 5, f"{value:.{decimals}f}" if decimals else f"{int(value)}", align="C")
        text, color = _arrow(
            change.get(key) if has_previous else None, lower, decimals, pdf.unicode
        )
        pdf.font(6.5, True, color)
        pdf.set_xy(x + 1, y + 12.3)
        pdf.cell(w - 2, 3.5, pdf.text_of(text), align="C")
    pdf.set_text_color(0, 0, 0)
    return y + 19


def _image(pdf: _Page, fig, x: float, y: float, w: float, px: tuple[int, int]) -> float:
    png = picture(fig, width=px[0], height=px[1], fmt="png", scale=2)
    h = w * px[1] / px[0]
    pdf.image(io.BytesIO(png), x=x, y=y, w=w, h=h)
    return y + h


def _table(pdf: _Page, x: float, y: float, widths, header, rows, size: float = 6.8) -> float:
    pdf.set_xy(x, y)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        line_height=size * 0.55,
        text_align="LEFT",
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=True,
    ) as table:
        pdf.font(size, True)
        row = table.row()
        for h in header:
            row.cell(pdf.text_of(h))
        pdf.font(size)
        for values in rows:
            row = table.row()
            for v in values:
                row.cell(pdf.text_of(v))
    return pdf.get_y()


def briefing_document(b, catalogue: Catalogue) -> bytes:
    """The briefing `b` as the bytes of a one-page A4 PDF."""
    pdf = _Page()
    pdf.add_page()
    pdf.set_title(f"Briefing, cycle {b.cycle}")
    pdf.set_author(pdf.text_of(b.organisation))
    status = vocabulary.cycle_status_label(b.status)
    pdf.line_at(MARGIN, "Briefing: corruption risks that enable trafficking in persons", 14, True)
    pdf.line_at(MARGIN + 7.5, f"{shorten(b.organisation, 60)}, cycle {b.cycle}", 10.5, True)
    pdf.line_at(MARGIN + 12.8, f"Status: {status}, {b.approval}", 9)
    against = f"against cycle {b.previous}" if b.previous else "no earlier cycle to compare"
    pdf.line_at(
        MARGIN + 17.3,
        f"Method {b.method}; catalogue version {b.catalogue_version[:12]}; "
        f"prepared on {b.today.isoformat()}; arrows {against}.",
        7.5,
        color=(90, 90, 90),
    )
    y = _figures(pdf, b, MARGIN + 21.5)

    pdf.heading(MARGIN, y, WIDTH, "Where the risk is: unit types x risk scenarios (worst unit)")
    fig = group_heatmap(b.register, catalogue, "unit_type", title=" ")
    fig.update_layout(margin={"t": 150, "b": 30}, title=None)
    y = _image(pdf, fig, MARGIN, y + 5, WIDTH, (1150, 560))

    pdf.heading(MARGIN, y, WIDTH, "The trafficking chain: the worst exposed unit at each stage")
    chain = chain_chart(b.chain, catalogue, title=" ")
    chain.update_layout(title=None, margin={"t": 40, "b": 0, "l": 10, "r": 10})
    y = _image(pdf, chain, MARGIN, y + 5, WIDTH, (940, 215))

    left_w, gap = 112.0, 4.0
    right_x, right_w = MARGIN + left_w + gap, WIDTH - left_w - gap
    pdf.heading(MARGIN, y + 1, left_w, f"The {len(b.top_risks)} highest residual risks")
    names = {band.id: band.name for band in catalogue.method.bands}
    rows = [
        (
            shorten(r.unit, 28, middle=True),
            f"{r.risk_id} {shorten(r.risk, 22)}",
            f"{r.residual:.2f}",
            names.get(r.residual_band, r.residual_band),
        )
        for r in b.top_risks.itertuples(index=False)
    ]
    _table(pdf, MARGIN, y + 6, (42, 45, 12, 13), ("Unit", "Risk", "Score", "Band"), rows)

    p = b.plan
    pdf.heading(right_x, y + 1, right_w, "The plan in brief")
    pdf.font(7)
    lines = [
        f"Budget: {p['effort_days']:,.0f} person-days, {p['cost']:,.0f} {p['currency']}",
        f"Actions: {p['actions']} ({p['actions_open']} open, {p['actions_done']} done)",
        f"Overdue: {p['actions_overdue']} open actions past their due date",
    ]
    pdf.set_xy(right_x, y + 6)
    for line in lines:
        pdf.set_x(right_x)
        pdf.cell(right_w, 3.6, pdf.text_of(line), new_x="LMARGIN", new_y="NEXT")
    deadlines = [(d.deadline, int(d.actions), f"{d.effort_days:,.0f}") for d in _head(b.deadlines)]
    end = _table(
        pdf, right_x, pdf.get_y() + 1, (26, 18, 26), ("Deadline", "Actions", "Days"), deadlines
    )
    pdf.heading(right_x, end + 2, right_w, "Open calibration flags")
    flags = b.flags
    counts = flags["flag"].value_counts() if len(flags) else pd.Series(dtype=int)
    words = ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"
    pdf.font(7)
    pdf.set_xy(right_x, end + 7)
    pdf.multi_cell(right_w, 3.4, pdf.text_of(f"{len(flags)} flags ({words}): ratings to check."))
    for f in flags.head(3).itertuples(index=False):
        pdf.set_x(right_x)
        pdf.multi_cell(right_w, 3.2, pdf.text_of(f"{f.unit_code} {f.risk_id}: {f.flag}"))
    return bytes(pdf.output())


def _head(frame: pd.DataFrame, n: int = 6):
    """The first rows that fit the box (the rest summed on a last row)."""
    if len(frame) <= n:
        return list(frame.itertuples(index=False))
    rest = frame.iloc[n - 1 :]
    tail = pd.DataFrame(
        {
            "deadline": ["later"],
            "actions": [rest["actions"].sum()],
            "effort_days": [rest["effort_days"].sum()],
        }
    )
    return list(pd.concat([frame.iloc[: n - 1], tail]).itertuples(index=False))
