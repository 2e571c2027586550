"""The bulletin as an A4 PDF with the CJK fonts embedded, and line breaking for Chinese text."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.services.bulletin.compose import (
    BEHIND_HEADERS,
    DEMO_MARK,
    MAX_BEHIND_ROWS,
    Bulletin,
    ChartImage,
    behind_rows,
    date_text,
    ranking_headers,
    ranking_note,
    ranking_rows,
)

# Line breaking for Chinese text (GB/T 15834 punctuation rules, simplified): these may not start a line …
NO_LINE_START = set("，。、；：？！）》」』】〕…—％%,.;:?!)]}·")
# … and these may not end one.
NO_LINE_END = set("（《「『【〔([{")
_UNBREAKABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.,:%+\-/]*|.", re.DOTALL)


def wrap_cjk(text: str, width: float, measure, *, first_indent: float = 0.0) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (``measure(s)`` gives a string's width).

    Numbers and Latin words stay whole ("2.60万户" never splits inside "2.60"), closing punctuation never
    starts a line and opening punctuation never ends one (it moves with its neighbour).
    """
    units: list[str] = []
    for token in _UNBREAKABLE.findall(text):
        if units and (token[0] in NO_LINE_START or units[-1][-1] in NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    lines, current, limit = [], "", width - first_indent
    for unit in units:
        if current and measure(current + unit) > limit:
            lines.append(current)
            current, limit = unit, width
        else:
            current += unit
    if current:
        lines.append(current)
    return lines


def _unit_on_own_line(header: str) -> str:
    r""""开工率（%）" -> "开工率\n（%）": a narrow header cell breaks before the unit, not inside its brackets."""
    i = header.find("（")
    return f"{header[:i]}\n{header[i:]}" if i > 1 else header


@dataclass(frozen=True)
class PdfFonts:
    """Font files for the PDF: ``regular`` for text, ``bold`` for titles and headings; (path, face index)."""

    regular: tuple[Path, int]
    bold: tuple[Path, int] | None = None


def to_pdf(bulletin: Bulletin, *, fonts: PdfFonts, charts: Sequence[ChartImage] = (),
           max_behind_rows: int = MAX_BEHIND_ROWS) -> bytes:
    """The bulletin as an A4 PDF with the CJK font(s) embedded (subset), charts as images.

    ``fonts`` name font files covering Chinese (e.g. Noto Serif CJK SC for text, Noto Sans CJK SC Bold
    for headings; a .ttc face index selects the Simplified Chinese face).
    """
    from fpdf import FPDF, FontFace

    office, demo = bulletin.office, bulletin.is_demo

    class _Doc(FPDF):
        def header(self):
            if demo:
                self.set_font("cjk", "B", 9)
                self.set_text_color(192, 57, 43)
                self.set_y(18)
                self.cell(0, 6, DEMO_MARK, align="R")
                self.set_text_color(0, 0, 0)
            self.set_xy(self.l_margin, self.t_margin)

        def footer(self):
            self.set_y(-25)
            self.set_font("cjk", "", 11)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    regular_path, regular_index = fonts.regular
    bold_path, bold_index = fonts.bold or fonts.regular
    pdf.add_font("cjk", "", str(regular_path), collection_font_number=regular_index)
    pdf.add_font("cjk", "B", str(bold_path), collection_font_number=bold_index)
    pdf.set_margins(28, 30, 26)
    pdf.set_auto_page_break(True, margin=30)
    pdf.set_title(bulletin.full_title)
    pdf.set_author(office)
    pdf.set_subject(bulletin.period_text)
    pdf.set_lang("zh-CN")
    pdf.set_creator(office)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", "B", 15)
        pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str, size: float = 14, line: float = 8.5) -> None:
        pdf.set_font("cjk", "", size)
        indent = 2 * pdf.get_string_width("\u3000")
        for i, text_line in enumerate(wrap_cjk(text, pdf.epw, pdf.get_string_width, first_indent=indent)):
            pdf.set_x(pdf.l_margin + (indent if i == 0 else 0))
            pdf.cell(0, line, text_line, new_x="LMARGIN", new_y="NEXT")

    def table(headers, rows, widths, size=8.5) -> None:
        pdf.set_font("cjk", "", size)
        with pdf.table(col_widths=widths, text_align="CENTER", line_height=size * 0.55,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                       first_row_as_headings=True, repeat_headings=1) as tbl:
            for values in [[_unit_on_own_line(h) for h in headers], *rows]:
                row = tbl.row()
                for value in values:
                    row.cell(value)

    pdf.set_font("cjk", "B", 21)
    pdf.set_text_color(192, 57, 43)
    pdf.multi_cell(0, 12, bulletin.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 15)
    pdf.multi_cell(0, 9, bulletin.issue_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", "", 12)
    pdf.cell(pdf.epw / 2, 7, office)
    pdf.cell(pdf.epw / 2, 7, date_text(bulletin.as_of), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(192, 57, 43)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.l_margin + pdf.epw, pdf.get_y() + 1)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(4)
    if demo:
        pdf.set_font("cjk", "B", 11)
        pdf.set_text_color(192, 57, 43)
        pdf.multi_cell(0, 7, DEMO_MARK, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 12)
    pdf.multi_cell(0, 7, f"统计周期：{bulletin.period_text}", align="C", new_x="LMARGIN", new_y="NEXT")

    heading("一、总体进展")
    for sentence in bulletin.summary:
        paragraph(sentence)

    heading("二、各县（市、区）进展排名")
    headers = ranking_headers(bulletin.kind, bulletin.rank_by)
    widths = [9, 24, 11, 11, 12, 11, 12, 18, 14, 20, 14][: len(headers)]
    table(headers, ranking_rows(bulletin.progress, kind=bulletin.kind, rank_by=bulletin.rank_by), widths)
    pdf.set_font("cjk", "", 9)
    pdf.multi_cell(0, 5.5, ranking_note(bulletin), new_x="LMARGIN", new_y="NEXT")
    for i, chart in enumerate(charts, start=1):
        pdf.ln(2)
        pdf.image(io.BytesIO(chart.png), w=pdf.epw)
        pdf.set_font("cjk", "B", 10)
        pdf.multi_cell(0, 6, f"图{i}  {chart.caption}", align="C", new_x="LMARGIN", new_y="NEXT")

    heading("三、督导评价")
    paragraph(f"（一）通报表扬。{bulletin.praise}")
    paragraph(f"（二）通报批评。{bulletin.criticism}")

    heading("四、进度滞后项目")
    paragraph(bulletin.behind_summary)
    names = dict(zip(bulletin.progress["unit_code"], bulletin.progress["name"]))
    behind = behind_rows(bulletin.behind, names, max_rows=max_behind_rows)
    if behind:
        table(BEHIND_HEADERS, behind, [9, 20, 26, 12, 19, 19, 12, 39])
        if len(bulletin.behind) > len(behind):
            pdf.set_font("cjk", "", 9)
            pdf.multi_cell(0, 5.5, f"注：另有{len(bulletin.behind) - len(behind)}个滞后小区未列出，详见平台明细。",
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
