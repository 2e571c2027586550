"""Small UI pieces every page uses: page header, error display, demo marks."""

from __future__ import annotations

import logging

import streamlit as st

from analytics.errors import DatabaseLocked, JiugaiError
from dashboard import state
from dashboard.labels import t

log = logging.getLogger(__name__)


def show_error(exc: Exception) -> None:
    """Show ``exc`` as a message in the user's language; never a traceback."""
    if isinstance(exc, DatabaseLocked):
        st.error(t("common.db_locked"))
    elif isinstance(exc, JiugaiError):
        st.error(t("common.error", msg=str(exc)))
    else:
        log.exception("unexpected error on a page")
        st.error(t("common.error", msg=type(exc).__name__))


def page_header(title_key: str, caption: str | None = None) -> None:
    """Page title, with the demo-data mark when the data is demo data."""
    st.title(t(title_key))
    if caption:
        st.caption(caption)


def source_footer() -> str:
    """Footer line for charts and exports: data source and as-of date (and the demo mark)."""
    info = state.info()
    source = t("common.demo_footer") if state.is_demo() else t("sidebar.own_data")
    return f"{t('sidebar.source')}: {source} · {t('sidebar.as_of')}: {info.get('as_of', '')}"
