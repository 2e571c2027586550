"""The bulletin as a Word document (Word, WPS and LibreOffice alike): GB/T 9704 page, official fonts, demo mark.

Fonts by role: title 方正小标宋简体, section headings 黑体, the (一) lead-ins 楷体, body 仿宋 (三号), tables
宋体 with 黑体 headers, numbers Times New Roman; each set as the run's East Asian font and declared in the
font table with the GB2312 charset, so a machine without one substitutes a close face. Tables have a
fixed layout with explicit widths in the grid, every cell and the table (``layout``: from their
content, so a unit name stays on one line and a number is never broken); their header rows repeat on
every page and no row splits across pages.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from analytics.services.bulletin import layout
from analytics.services.bulletin.compose import DEMO_MARK, Block, Bulletin, ChartImage, Table, date_text

log = logging.getLogger(__name__)

# Word fonts: East Asian face per role, with the names Word/WPS know them by on Windows.
DOCX_FONTS: dict[str, tuple[str, str]] = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S"),
    "heading": ("黑体", "SimHei"),
    "lead": ("楷体", "KaiTi"),
    "body": ("仿宋", "FangSong"),
    "table": ("宋体", "SimSun"),
}
DOCX_LATIN_FONT = "Times New Roman"
RED = "C0392B"
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_PT = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) / 25.4 * 72
CELL_MARGIN_TWIPS = 45  # about 0.8 mm left and right of a cell's text
CELL_PADDING_PT = 2 * CELL_MARGIN_TWIPS / 20 + 1.0  # both margins, plus the borders and a little room
TABLE_SIZES_PT = (10.5, 9.0, 8.0, 7.5)  # 五号, 小五, then smaller only when a table needs it
BODY_PT, LINE_PT = 16, 28


def _set_run_font(run, role: str, size_pt: float, *, bold: bool = False, color: str | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    east_asian = DOCX_FONTS[role][0]
    run.font.name = DOCX_LATIN_FONT
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hAnsi"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hint"), "eastAsia")


def _paragraph(container, *, align: str | None = None, indent_pt: float = 0, line_pt: float | None = LINE_PT,
               space_after_pt: float = 0, space_before_pt: float = 0, keep_with_next: bool = False):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    if line_pt:
        fmt.line_spacing = Pt(line_pt)
    fmt.space_after = Pt(space_after_pt)
    fmt.space_before = Pt(space_before_pt)
    if indent_pt:
        fmt.first_line_indent = Pt(indent_pt)
    if align:
        fmt.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    if keep_with_next:
        fmt.keep_with_next = True
    return paragraph


def _add_text(container, text: str, role: str, size_pt: float, *, bold: bool = False, color: str | None = None,
              align: str | None = None, indent: bool = False, space_after_pt: float = 0, line_pt: float | None = LINE_PT,
              keep_with_next: bool = False):
    paragraph = _paragraph(container, align=align, indent_pt=size_pt * 2 if indent else 0, line_pt=line_pt,
                           space_after_pt=space_after_pt, keep_with_next=keep_with_next)
    _set_run_font(paragraph.add_run(text), role, size_pt, bold=bold, color=color)
    return paragraph


def _border(paragraph, side: str, *, size: int, color: str = "000000") -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


def _register_docx_fonts(document) -> None:
    """Declare the East Asian fonts in fontTable.xml with the GB2312 charset and their Windows names."""
    from lxml import etree

    part = next((p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.fromstring(part.blob)
    known = {f.get(f"{{{ns}}}name") for f in root.findall(f"{{{ns}}}font")}
    for name, alt in DOCX_FONTS.values():
        if name in known:
            continue
        font = etree.SubElement(root, f"{{{ns}}}font", {f"{{{ns}}}name": name})
        etree.SubElement(font, f"{{{ns}}}altName", {f"{{{ns}}}val": alt})
        etree.SubElement(font, f"{{{ns}}}charset", {f"{{{ns}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{ns}}}family", {f"{{{ns}}}val": "modern" if name == "仿宋" else "auto"})
        etree.SubElement(font, f"{{{ns}}}pitch", {f"{{{ns}}}val": "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_field(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    _set_run_font(paragraph.add_run("— "), "body", 14)
    run = paragraph.add_run()
    _set_run_font(run, "body", 14)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    _set_run_font(paragraph.add_run(" —"), "body", 14)


# ------------------------------------------------------------------------------------------- tables
def table_layout(table: Table) -> tuple[float, list[float]]:
    """The font size (pt) and column widths (pt) a table is set in: the largest size at which it fits."""
    size, widths = layout.fit(table, measure_at=lambda s: lambda text: layout.word_width_pt(text, s),
                              available=TEXT_WIDTH_PT, padding=CELL_PADDING_PT, sizes=TABLE_SIZES_PT)
    if layout.column_widths(table, measure=lambda t: layout.word_width_pt(t, size), available=TEXT_WIDTH_PT,
                            padding=CELL_PADDING_PT) is None:
        log.warning("table %r does not fit the page even at %.1f pt; its cells will wrap", table.caption, size)
    return size, widths


def _xml(tag: str, **attrs: str):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _fix_table(docx_table, widths_pt: Sequence[float]) -> None:
    """Fixed layout, the table's width, cell margins and the grid, in twips (what Word, WPS and LibreOffice read)."""
    from docx.oxml.ns import qn
    from docx.shared import Twips

    docx_table.autofit = False  # w:tblLayout w:type="fixed"
    twips = [round(w * 20) for w in widths_pt]
    tbl_pr = docx_table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    tbl_pr.append(_xml("w:tblW", w=str(sum(twips)), type="dxa"))
    margins = _xml("w:tblCellMar")
    for side in ("left", "right"):
        margins.append(_xml(f"w:{side}", w=str(CELL_MARGIN_TWIPS), type="dxa"))
    tbl_pr.append(margins)
    for column, width in zip(docx_table.columns, twips):
        column.width = Twips(width)
    for row in docx_table.rows:
        row._tr.get_or_add_trPr().append(_xml("w:cantSplit"))
        for cell, width in zip(row.cells, twips):
            cell.width = Twips(width)


def _write_cell(cell, text: str, *, role: str, size_pt: float, align: str, bold: bool = False,
                no_wrap: bool = False) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    paragraph = cell.paragraphs[0]
    for run in list(paragraph.runs):
        run._r.getparent().remove(run._r)
    fmt = paragraph.paragraph_format
    fmt.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}.get(
        align, WD_ALIGN_PARAGRAPH.CENTER)
    fmt.line_spacing = Pt(round(size_pt * 1.3, 1))
    fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(0)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if text:
        _set_run_font(paragraph.add_run(text), role, size_pt, bold=bold)
    if no_wrap:
        cell._tc.get_or_add_tcPr().append(_xml("w:noWrap"))


def _docx_table(document, table: Table) -> None:
    size, widths = table_layout(table)
    n = len(table.columns)
    n_header = 2 if table.has_groups else 1
    docx_table = document.add_table(rows=n_header + len(table.rows), cols=n)
    docx_table.style = "Table Grid"
    from docx.enum.table import WD_TABLE_ALIGNMENT

    docx_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fix_table(docx_table, widths)
    for r in range(n_header):
        docx_table.rows[r]._tr.get_or_add_trPr().append(_xml("w:tblHeader", val="true"))
    # header: a group label over its columns, a column without a group over both header rows
    j = 0
    while j < n:
        column = table.columns[j]
        if n_header == 2 and column.group:
            k = j
            while k + 1 < n and table.columns[k + 1].group == column.group:
                k += 1
            top = docx_table.cell(0, j).merge(docx_table.cell(0, k)) if k > j else docx_table.cell(0, j)
            _write_cell(top, column.group, role="heading", size_pt=size, align="center")
            for m in range(j, k + 1):
                _write_cell(docx_table.cell(1, m), table.columns[m].label, role="heading", size_pt=size,
                            align="center")
            j = k + 1
            continue
        cell = docx_table.cell(0, j).merge(docx_table.cell(1, j)) if n_header == 2 else docx_table.cell(0, j)
        _write_cell(cell, column.label, role="heading", size_pt=size, align="center")
        j += 1
    for i, values in enumerate(table.rows):
        r = n_header + i
        start = table.spans.get(i)
        bold = i in table.bold_rows
        for j, (column, text) in enumerate(zip(table.columns, values)):
            if start is not None and j > start:
                break
            cell = docx_table.cell(r, j)
            if start is not None and j == start:
                cell = cell.merge(docx_table.cell(r, n - 1))
            _write_cell(cell, text, role="table", size_pt=size, align=column.align, bold=bold,
                        no_wrap=not column.wrap)


# ------------------------------------------------------------------------------------------ document
def _block(document, block: Block, charts: Sequence[ChartImage]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    if block.kind == "heading":
        _add_text(document, block.text, "heading", BODY_PT, indent=True, keep_with_next=True)
    elif block.kind == "paragraph":
        paragraph = _paragraph(document, indent_pt=BODY_PT * 2)
        if block.lead:
            _set_run_font(paragraph.add_run(block.lead), "lead", BODY_PT)
        _set_run_font(paragraph.add_run(block.text), "body", BODY_PT)
    elif block.kind == "table" and block.table is not None:
        table = block.table
        if table.caption:
            _add_text(document, table.caption, "heading", 12, align="CENTER", line_pt=22, keep_with_next=True)
        _docx_table(document, table)
        if table.note:
            _add_text(document, table.note, "body", 10.5, line_pt=18, space_after_pt=6)
    elif block.kind == "charts":
        for i, chart in enumerate(charts, start=1):
            paragraph = _paragraph(document, align="CENTER", line_pt=None, keep_with_next=True)
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
            _add_text(document, f"图{i}  {chart.caption}", "heading", 10.5, align="CENTER", line_pt=18, space_after_pt=6)


def _distribution(document, bulletin: Bulletin) -> None:
    """版记: 报/送/发 lines between rules, then the office and the date it issued the document."""
    _add_text(document, "", "body", 14, line_pt=LINE_PT)
    lines = bulletin.distribution_lines
    for i, text in enumerate(lines):
        paragraph = _add_text(document, text, "body", 14, line_pt=24)
        paragraph.paragraph_format.left_indent = None
        if i == 0:
            _border(paragraph, "top", size=12)
        _border(paragraph, "bottom", size=4)
    printed = _add_text(document, bulletin.printed_line, "body", 14, line_pt=24)
    if not lines:
        _border(printed, "top", size=12)
    _border(printed, "bottom", size=12)


def to_docx(bulletin: Bulletin, *, charts: Sequence[ChartImage] = ()) -> bytes:
    """The bulletin as a Word document: GB/T 9704 page and fonts, fixed-layout tables, the demo mark on every page."""
    import docx
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    _register_docx_fonts(document)
    normal = document.styles["Normal"]
    normal.font.name = DOCX_LATIN_FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_FONTS["body"][0])
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    props = document.core_properties
    props.title = bulletin.full_title
    props.author = bulletin.office
    props.subject = bulletin.period_text
    props.keywords = "演示数据" if bulletin.is_demo else "老旧小区改造"

    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    if bulletin.is_demo:
        mark = section.header.paragraphs[0]
        mark.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _set_run_font(mark.add_run(DEMO_MARK), "heading", 10.5, color=RED)
    footer = section.footer.paragraphs[0]
    footer.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_field(footer)

    _add_text(document, bulletin.title, "title", 22, bold=True, color=RED, align="CENTER", line_pt=36)
    _add_text(document, bulletin.issue_text, "body", BODY_PT, align="CENTER")
    _add_text(document, bulletin.doc_number, "body", BODY_PT, align="CENTER", space_after_pt=6)
    issuer = _paragraph(document, line_pt=LINE_PT)
    issuer.paragraph_format.tab_stops.add_tab_stop(Mm(PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]),
                                                   alignment=2)  # right tab at the text width
    _set_run_font(issuer.add_run(f"{bulletin.office}\t{date_text(bulletin.date)}"), "body", 14)
    _border(issuer, "bottom", size=18, color=RED)
    if bulletin.is_demo:
        _add_text(document, DEMO_MARK, "heading", 12, color=RED, align="CENTER", line_pt=24)
    _add_text(document, f"统计周期：{bulletin.period_text}", "body", 14, align="CENTER", space_after_pt=6)
    for block in bulletin.blocks:
        _block(document, block, charts)
    _distribution(document, bulletin)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
