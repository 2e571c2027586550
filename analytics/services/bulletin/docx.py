"""The bulletin as a Word document (opens in Word and WPS): GB/T 9704 page, official fonts, demo mark."""

from __future__ import annotations

import io
from collections.abc import Sequence

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

# Word fonts: East Asian face per role, with the names Word/WPS know them by on Windows (fontTable
# entries with the GB2312 charset let Word and WPS substitute a close face where one is missing).
DOCX_FONTS: dict[str, tuple[str, str]] = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S"),
    "heading": ("黑体", "SimHei"),
    "body": ("仿宋", "FangSong"),
    "table": ("宋体", "SimSun"),
}
DOCX_LATIN_FONT = "Times New Roman"


def _set_run_font(run, role: str, size_pt: float, *, bold: bool = False, color: str | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    east_asian = DOCX_FONTS[role][0]
    run.font.name = DOCX_LATIN_FONT
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hAnsi"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hint"), "eastAsia")


def _add_text(container, text: str, role: str, size_pt: float, *, bold: bool = False, color: str | None = None,
              align: str | None = None, indent: bool = False, space_after_pt: float = 0, line_pt: float | None = 28):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    if line_pt:
        fmt.line_spacing = Pt(line_pt)
    fmt.space_after = Pt(space_after_pt)
    fmt.space_before = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size_pt * 2)
    if align:
        fmt.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    _set_run_font(paragraph.add_run(text), role, size_pt, bold=bold, color=color)
    return paragraph


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


def _docx_table(document, headers: Sequence[str], rows: Sequence[Sequence[str]], *, size_pt: float,
                widths_mm: Sequence[float]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = table.rows[0]
    tr_pr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for cell, text in zip(header_row.cells, headers):
        cell.paragraphs[0].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_run_font(cell.paragraphs[0].add_run(text), "heading", size_pt)
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.line_spacing = Pt(size_pt * 1.3)
            _set_run_font(paragraph.add_run(text), "table", size_pt)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)


def to_docx(bulletin: Bulletin, *, charts: Sequence[ChartImage] = (), max_behind_rows: int = MAX_BEHIND_ROWS) -> bytes:
    """The bulletin as a Word document (opens in Word and WPS), GB/T 9704 page and fonts.

    Fonts: title 方正小标宋简体, headings 黑体, body 仿宋 (三号), tables 宋体, numbers Times New Roman,
    each set as the run's East Asian font and declared in the font table with its GB2312 charset so a
    machine without one substitutes a close face. Demo data: a red mark in every page header and under
    the title.
    """
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
    normal.font.size = Pt(16)
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
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    if bulletin.is_demo:
        mark = section.header.paragraphs[0]
        mark.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _set_run_font(mark.add_run(DEMO_MARK), "heading", 10.5, color="C0392B")
    footer = section.footer.paragraphs[0]
    footer.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_field(footer)

    _add_text(document, bulletin.title, "title", 22, bold=True, color="C0392B", align="CENTER", line_pt=36)
    _add_text(document, bulletin.issue_text, "body", 16, align="CENTER", line_pt=28, space_after_pt=6)
    issuer = document.add_paragraph()
    issuer.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)  # right tab at the text width
    _set_run_font(issuer.add_run(f"{bulletin.office}\t{date_text(bulletin.as_of)}"), "body", 14)
    rule = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", "C0392B")):
        bottom.set(qn(f"w:{key}"), value)
    rule.append(bottom)
    issuer._p.get_or_add_pPr().append(rule)
    if bulletin.is_demo:
        _add_text(document, DEMO_MARK, "heading", 12, color="C0392B", align="CENTER", line_pt=24)
    _add_text(document, f"统计周期：{bulletin.period_text}", "body", 14, align="CENTER", line_pt=28, space_after_pt=6)

    _add_text(document, "一、总体进展", "heading", 16)
    for sentence in bulletin.summary:
        _add_text(document, sentence, "body", 16, indent=True)

    _add_text(document, "二、各县（市、区）进展排名", "heading", 16)
    headers = ranking_headers(bulletin.kind, bulletin.rank_by)
    rows = ranking_rows(bulletin.progress, kind=bulletin.kind, rank_by=bulletin.rank_by)
    widths = [10, 26, 13, 12, 13, 12, 13, 19, 14, 14, 10][: len(headers)]
    _docx_table(document, headers, rows, size_pt=9, widths_mm=widths)
    _add_text(document, ranking_note(bulletin), "body", 10.5, line_pt=18)
    for i, chart in enumerate(charts, start=1):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
        _add_text(document, f"图{i}  {chart.caption}", "heading", 10.5, align="CENTER", line_pt=18, space_after_pt=6)

    _add_text(document, "三、督导评价", "heading", 16)
    _add_text(document, f"（一）通报表扬。{bulletin.praise}", "body", 16, indent=True)
    _add_text(document, f"（二）通报批评。{bulletin.criticism}", "body", 16, indent=True)

    _add_text(document, "四、进度滞后项目", "heading", 16)
    _add_text(document, bulletin.behind_summary, "body", 16, indent=True)
    names = dict(zip(bulletin.progress["unit_code"], bulletin.progress["name"]))
    behind = behind_rows(bulletin.behind, names, max_rows=max_behind_rows)
    if behind:
        _docx_table(document, BEHIND_HEADERS, behind, size_pt=9, widths_mm=[9, 20, 26, 14, 20, 20, 12, 35])
        if len(bulletin.behind) > len(behind):
            _add_text(document, f"注：另有{len(bulletin.behind) - len(behind)}个滞后小区未列出，详见平台明细。",
                      "body", 10.5, line_pt=18)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
