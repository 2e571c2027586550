"""The bulletin on the progress page: who is praised and criticised (by the office's rule) and a preview of the
issue before it is made, then one click for 周调度/月通报 as Word and PDF downloads."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

import streamlit as st

from analytics.services import bulletin as bulletin_mod
from analytics.services.bulletin import html as bulletin_html
from analytics.services.bulletin import office as office_mod
from dashboard import auth_ui, export, state, ui
from dashboard.charts import resolve_lang
from dashboard.labels import t

log = logging.getLogger(__name__)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@st.cache_data(show_spinner=False, max_entries=16)
def _bulletin(kind: str, as_of: date, rank_by: str | None, version: str) -> bulletin_mod.Bulletin:
    cursor = state.cursor()
    return bulletin_mod.build_bulletin(cursor, as_of=as_of, kind=kind, rank_by=rank_by,  # type: ignore[arg-type]
                                       office=office_mod.load(cursor))


def issue_of(*, as_of: date, kind: Literal["week", "month"], rank_by: str | None = None) -> bulletin_mod.Bulletin:
    """The issue of ``kind`` on ``as_of`` as it would be made now (cached until the data change; not registered)."""
    return _bulletin(kind, as_of, rank_by, state.data_version())


def _files(kind: str, as_of: date, rank_by: str | None, lang: str, version: str) -> dict:
    files = export.bulletin_files(state.cursor(), as_of=as_of, kind=kind, lang=lang,  # type: ignore[arg-type]
                                  rank_by=rank_by, user=auth_ui.current_user())
    return {"stem": files.file_stem, "title": files.bulletin.full_title, "docx": files.docx, "pdf": files.pdf,
            "notes": list(files.notes)}


def evaluation(issue: bulletin_mod.Bulletin) -> None:
    """The 督导评价 of the issue before it is made: the rule in force and the units it names."""
    none = t("export.bulletin.nobody")
    st.markdown(t("export.bulletin.rule", rule=issue.rule))
    st.markdown(t("export.bulletin.praised", names="、".join(issue.praised) or none))
    st.markdown(t("export.bulletin.criticised", names="、".join(issue.criticised) or none))


def preview(issue: bulletin_mod.Bulletin) -> None:
    """The issue as it will be printed: header, sections and tables as in the files, the charts between."""
    before, after = bulletin_html.html_parts(issue)
    st.html(before)
    for title, fig in export.bulletin_figures(issue, lang="zh"):
        st.plotly_chart(fig, key=f"bulletin-preview-{issue.kind}-{title}")
    st.html(after)


def bulletin_panel(*, as_of: date | None, kind: Literal["week", "month"], rank_by: str | None = None) -> None:
    """The issue of this period: its number and period, the 督导评价 it will carry, a preview, and the button
    that writes it (both files, cached per date, kind, indicator, language and data version; the issue is
    entered in the register so a re-made one keeps its number). Anything left out of the files (charts
    without Chromium, the PDF without a CJK font) is said in a warning naming the package to install.
    """
    if as_of is None:
        st.info(t("export.bulletin.no_date"))
        return
    try:
        issue = issue_of(as_of=as_of, kind=kind, rank_by=rank_by)
    except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
        ui.show_error(exc)
        return
    previous = bulletin_mod.date_text(issue.previous_date) if issue.previous_date else t("export.bulletin.no_previous")
    st.caption(t("export.bulletin.issue", title=issue.full_title, doc=issue.doc_number, period=issue.period_text,
                 previous=previous))
    evaluation(issue)
    with st.expander(t("export.bulletin.preview")):
        preview(issue)
    bulletin_button(as_of=as_of, kind=kind, rank_by=rank_by)


def bulletin_button(*, as_of: date | None, kind: Literal["week", "month"], rank_by: str | None = None) -> None:
    """A button that writes this period's 周调度 (``kind="week"``) or 月通报 (``"month"``) for ``as_of``."""
    if as_of is None:
        st.info(t("export.bulletin.no_date"))
        return
    lang = resolve_lang(None)
    slot = f"_bulletin_{kind}"
    wanted = (kind, as_of, rank_by, lang, state.data_version())
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
