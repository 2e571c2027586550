"""The bulletin as an A4 PDF with the CJK fonts embedded, line breaking for Chinese text, tables sized to content."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.services.bulletin import layout
from analytics.services.bulletin.compose import DEMO_MARK, Bulletin, ChartImage, Table, date_text

log = logging.getLogger(__name__)

# Line breaking for Chinese text (GB/T 15834 punctuation rules, simplified): these may not start a line …
NO_LINE_START = set("，。、；：？！）》」』】〕…—％%,.;:?!)]}·")
# … and these may not end one.
NO_LINE_END = set("（《「『【〔([{")
_UNBREAKABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.,:%+\-/]*|.", re.DOTALL)
MARGINS_MM = {"left": 28, "top": 30, "right": 26}
TABLE_SIZES_PT = (10.5, 9.0, 8.0, 7.5)
CELL_PADDING_MM = 1.0  # left and right of a cell's text
RED = (192, 57, 43)


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
    lines: list[str] = []
    current, limit = "", width - first_indent
    for unit in units:
        if current and measure(current + unit) > limit:
            lines.append(current)
            current, limit = unit, width
        else:
            current += unit
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class PdfFonts:
    """Font files for the PDF: ``regular`` for text, ``bold`` for titles and headings; (path, face index)."""

    regular: tuple[Path, int]
    bold: tuple[Path, int] | None = None


def to_pdf(bulletin: Bulletin, *, fonts: PdfFonts, charts: Sequence[ChartImage] = ()) -> bytes:
    """The bulletin as an A4 PDF with the CJK font(s) embedded (subset), charts as images.

    ``fonts`` name font files covering Chinese (e.g. Noto Serif CJK SC for text, Noto Sans CJK SC Bold
    for headings; a .ttc face index selects the Simplified Chinese face). Tables take their column
    widths from their content (``layout``) at the largest size that fits, as in the Word file.
    """
    pdf = _document(bulletin, fonts)
    _masthead(pdf, bulletin)
    for block in bulletin.blocks:
        if block.kind == "heading":
            _heading(pdf, block.text)
        elif block.kind == "paragraph":
            _paragraph(pdf, block.text, block.lead)
        elif block.kind == "table" and block.table is not None:
            _table(pdf, block.table)
        elif block.kind == "charts":
            _charts(pdf, charts)
    _colophon(pdf, bulletin)
    return bytes(pdf.output())


def _document(bulletin: Bulletin, fonts: PdfFonts):
    """An empty A4 page with the fonts registered, the margins, the running demo mark and page numbers."""
    from fpdf import FPDF

    demo = bulletin.is_demo

    class _Doc(FPDF):
        def header(self) -> None:
            if demo:
                self.set_font("cjk", "B", 9)
                self.set_text_color(*RED)
                self.set_y(18)
                self.cell(0, 6, DEMO_MARK, align="R")
                self.set_text_color(0, 0, 0)
            self.set_xy(self.l_margin, self.t_margin)

        def footer(self) -> None:
            self.set_y(-25)
            self.set_font("cjk", "", 11)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    regular_path, regular_index = fonts.regular
    bold_path, bold_index = fonts.bold or fonts.regular
    pdf.add_font("cjk", "", str(regular_path), collection_font_number=regular_index)
    pdf.add_font("cjk", "B", str(bold_path), collection_font_number=bold_index)
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, margin=30)
    pdf.set_title(bulletin.full_title)
    pdf.set_author(bulletin.office)
    pdf.set_subject(bulletin.period_text)
    pdf.set_lang("zh-CN")
    pdf.set_creator(bulletin.office)
    pdf.add_page()
    return pdf


def _masthead(pdf, bulletin: Bulletin) -> None:
    """The red title, issue and document numbers, office and date over a red rule, demo mark, period."""
    pdf.set_font("cjk", "B", 21)
    pdf.set_text_color(*RED)
    pdf.multi_cell(0, 12, bulletin.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 15)
    pdf.multi_cell(0, 9, bulletin.issue_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 9, bulletin.doc_number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("cjk", "", 12)
    pdf.cell(pdf.epw / 2, 7, bulletin.office)
    pdf.cell(pdf.epw / 2, 7, date_text(bulletin.date), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.l_margin + pdf.epw, pdf.get_y() + 1)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(4)
    if bulletin.is_demo:
        pdf.set_font("cjk", "B", 11)
        pdf.set_text_color(*RED)
        pdf.multi_cell(0, 7, DEMO_MARK, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 12)
    pdf.multi_cell(0, 7, f"统计周期：{bulletin.period_text}", align="C", new_x="LMARGIN", new_y="NEXT")


def _heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("cjk", "B", 15)
    pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf, text: str, lead: str = "", size: float = 14, line: float = 8.5) -> None:
    """A paragraph indented by two characters, its lead-in (if any) set bold, broken by ``wrap_cjk``."""
    indent = 2 * size / 72 * 25.4  # two characters
    pdf.set_font("cjk", "", size)
    # the lead-in is set bold; measure the whole line with the lead's width taken into account
    lead_extra = 0.0
    if lead:
        pdf.set_font("cjk", "B", size)
        lead_width = pdf.get_string_width(lead)
        pdf.set_font("cjk", "", size)
        lead_extra = lead_width - pdf.get_string_width(lead)
    lines = wrap_cjk(lead + text, pdf.epw, pdf.get_string_width, first_indent=indent + lead_extra)
    for i, text_line in enumerate(lines):
        pdf.set_x(pdf.l_margin + (indent if i == 0 else 0))
        if i == 0 and lead and text_line.startswith(lead):
            pdf.set_font("cjk", "B", size)
            pdf.cell(pdf.get_string_width(lead), line, lead)
            pdf.set_font("cjk", "", size)
            pdf.cell(0, line, text_line[len(lead):], new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(0, line, text_line, new_x="LMARGIN", new_y="NEXT")


def _table(pdf, spec: Table) -> None:
    """A table at the largest size whose content-sized columns fit the page, caption above, note below."""
    from fpdf import FontFace

    if spec.caption:
        pdf.ln(1)
        pdf.set_font("cjk", "B", 11)
        pdf.multi_cell(0, 7, spec.caption, align="C", new_x="LMARGIN", new_y="NEXT")

    def measure_at(size: float):
        def measure(text: str) -> float:
            pdf.set_font("cjk", "B", size)  # bold is the wider face: headers and the city row
            return pdf.get_string_width(text)
        return measure

    size, widths = layout.fit(spec, measure_at=measure_at, available=pdf.epw, padding=2 * CELL_PADDING_MM + 0.4,
                              sizes=TABLE_SIZES_PT)
    pdf.set_font("cjk", "", size)
    with pdf.table(col_widths=widths, width=min(sum(widths), pdf.epw), text_align=[c.align.upper() for c in spec.columns],
                   line_height=size * 0.5, padding=(0.8, CELL_PADDING_MM),
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                   num_heading_rows=2 if spec.has_groups else 1, repeat_headings=1) as tbl:
        _table_header(tbl, spec)
        n = len(spec.columns)
        for i, values in enumerate(spec.rows):
            row = tbl.row(style=FontFace(emphasis="BOLD") if i in spec.bold_rows else None)
            start = spec.spans.get(i)
            for j, text in enumerate(values):
                if start is not None and j > start:
                    break
                if start is not None and j == start:
                    row.cell(text, align="CENTER", colspan=n - start)
                else:
                    row.cell(text)
    if spec.note:
        pdf.set_font("cjk", "", 9)
        pdf.multi_cell(0, 5.5, spec.note, new_x="LMARGIN", new_y="NEXT")


def _table_header(tbl, spec: Table) -> None:
    """One header row, or two where columns are grouped (the group spans its columns, others span both rows)."""
    columns, n = spec.columns, len(spec.columns)
    if not spec.has_groups:
        header = tbl.row()
        for column in columns:
            header.cell(column.label, align="CENTER")
        return
    top, bottom = tbl.row(), tbl.row()
    j = 0
    while j < n:
        column = columns[j]
        if column.group:
            k = j
            while k + 1 < n and columns[k + 1].group == column.group:
                k += 1
            top.cell(column.group, align="CENTER", colspan=k - j + 1)
            for m in range(j, k + 1):
                bottom.cell(columns[m].label, align="CENTER")
            j = k + 1
        else:
            top.cell(column.label, align="CENTER", rowspan=2)
            j += 1


def _charts(pdf, charts: Sequence[ChartImage]) -> None:
    for i, chart in enumerate(charts, start=1):
        pdf.ln(2)
        pdf.image(io.BytesIO(chart.png), w=pdf.epw)
        pdf.set_font("cjk", "B", 10)
        pdf.multi_cell(0, 6, f"图{i}  {chart.caption}", align="C", new_x="LMARGIN", new_y="NEXT")


def _colophon(pdf, bulletin: Bulletin) -> None:
    """版记: rules around the distribution lines and the office's printed line."""
    pdf.ln(6)
    pdf.set_font("cjk", "", 12)
    pdf.set_line_width(0.5)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.set_line_width(0.2)
    for text in bulletin.distribution_lines:
        for line in wrap_cjk(text, pdf.epw, pdf.get_string_width):
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.cell(0, 7, bulletin.printed_line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.5)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
