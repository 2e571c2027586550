"""The weekly dispatch and monthly bulletin (周调度、月通报).

What an issue says (``compose``) and its layout as DOCX (``docx``) and PDF (``pdf``). The names below
are the public entry points.
"""

from analytics.services.bulletin.compose import (
    BEHIND_HEADERS,
    DEMO_MARK,
    OFFICE,
    Bulletin,
    ChartImage,
    behind_rows,
    build_bulletin,
    change_text,
    choose_rank_by,
    compose,
    date_text,
    money_text,
    ranking_headers,
    ranking_rows,
)
from analytics.services.bulletin.docx import to_docx
from analytics.services.bulletin.pdf import PdfFonts, to_pdf, wrap_cjk

__all__ = [
    "BEHIND_HEADERS",
    "DEMO_MARK",
    "OFFICE",
    "Bulletin",
    "ChartImage",
    "PdfFonts",
    "behind_rows",
    "build_bulletin",
    "change_text",
    "choose_rank_by",
    "compose",
    "date_text",
    "money_text",
    "ranking_headers",
    "ranking_rows",
    "to_docx",
    "to_pdf",
    "wrap_cjk",
]
