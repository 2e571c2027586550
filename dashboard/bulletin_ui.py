"""The one-click bulletin on the progress page: 周调度/月通报 for the chosen date as Word and PDF downloads."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

import streamlit as st

from dashboard import export, state, ui
from dashboard.charts import resolve_lang
from dashboard.labels import t

log = logging.getLogger(__name__)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@st.cache_data(show_spinner=False, max_entries=16)
def _files(kind: str, as_of: date, lang: str, version: int) -> dict:
    files = export.bulletin_files(state.cursor(), as_of=as_of, kind=kind, lang=lang)
    return {"stem": files.file_stem, "title": files.bulletin.full_title, "docx": files.docx, "pdf": files.pdf,
            "notes": list(files.notes)}


def bulletin_button(*, as_of: date | None, kind: Literal["week", "month"]) -> None:
    """A button that writes this period's 周调度 (``kind="week"``) or 月通报 (``"month"``) for ``as_of``.

    One click builds both files (cached per date, kind, language and data version); the Word and PDF
    download buttons then stay on the page. Anything left out (charts without Chromium, the PDF without
    a CJK font) is said in a warning naming the package to install; errors show as a message.
    """
    if as_of is None:
        st.info(t("export.bulletin.no_date"))
        return
    lang = resolve_lang(None)
    slot = f"_bulletin_{kind}"
    wanted = (kind, as_of, lang, state.data_version())
    if st.button(t(f"export.bulletin.make.{kind}"), key=f"bulletin-make-{kind}", icon=":material/description:"):
        with st.spinner(t("export.bulletin.working")):
            files = ui.attempt(_files, *wanted, stop=False)
        if files is None:
            return
        st.session_state[slot] = (wanted, files)
    made = st.session_state.get(slot)
    if not made or made[0] != wanted:
        return
    files = made[1]
    st.caption(files["title"])
    for note in files["notes"]:
        st.warning(note)
    if files["docx"]:  # stacked, not in columns: the button usually sits in a narrow column already
        st.download_button(t("export.bulletin.docx"), files["docx"], f"{files['stem']}.docx",
                           DOCX_MIME, key=f"bulletin-docx-{kind}", icon=":material/download:", on_click="ignore")
    if files["pdf"]:
        st.download_button(t("export.bulletin.pdf"), files["pdf"], f"{files['stem']}.pdf", "application/pdf",
                           key=f"bulletin-pdf-{kind}", icon=":material/download:", on_click="ignore")
