"""The weekly dispatch and monthly bulletin (周调度、月通报).

Which report an issue is made from and its number (``issues``), the office's settings (``office``), the
figures (``facts``), what an issue says (``compose``) and its layouts: Word (``docx``), PDF (``pdf``)
and the page's preview (``html``), all from the same blocks. The names below are the public entry points.
"""

from analytics.services.bulletin.compose import (
    DEMO_MARK,
    INDICATOR_NAMES,
    NO_TASK,
    OFFICE,
    SECTION_TITLES,
    SMALL_MARK,
    Block,
    Bulletin,
    ChartImage,
    Column,
    Table,
    build_bulletin,
    change_text,
    choose_rank_by,
    compose,
    date_text,
    evaluate,
    gather,
    money_order_lines,
    money_text,
)
from analytics.services.bulletin.docx import to_docx
from analytics.services.bulletin.facts import Facts
from analytics.services.bulletin.html import to_html
from analytics.services.bulletin.issues import Issue, issue_for, register
from analytics.services.bulletin.office import OfficeSettings
from analytics.services.bulletin.pdf import PdfFonts, to_pdf, wrap_cjk

__all__ = [
    "DEMO_MARK",
    "INDICATOR_NAMES",
    "NO_TASK",
    "OFFICE",
    "SECTION_TITLES",
    "SMALL_MARK",
    "Block",
    "Bulletin",
    "ChartImage",
    "Column",
    "Facts",
    "Issue",
    "OfficeSettings",
    "PdfFonts",
    "Table",
    "build_bulletin",
    "change_text",
    "choose_rank_by",
    "compose",
    "date_text",
    "evaluate",
    "gather",
    "issue_for",
    "money_order_lines",
    "money_text",
    "register",
    "to_docx",
    "to_html",
    "to_pdf",
    "wrap_cjk",
]
