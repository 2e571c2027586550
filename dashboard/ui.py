"""Small UI pieces every page uses: page header, error display, KPI cards, chart style, URL-bound widgets."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import streamlit as st

from analytics.errors import DatabaseLocked, JiugaiError
from dashboard import charts, shell, state
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
    """Page title and caption; first makes sure the page runs inside the app shell."""
    shell.ensure()
    st.title(t(title_key))
    if caption:
        st.caption(caption)


def data_source() -> str:
    """Where the shown data comes from, for captions and chart source lines (the demo mark when it is demo data)."""
    return t("common.demo_footer") if state.is_demo() else t("sidebar.own_data")


def styled(fig: go.Figure, *, title: str, unit: str | None = None, as_of: date | None = None,
           data_chart: bool = True) -> go.Figure:
    """``fig`` in the bulletin style (title, unit, as-of date; source line and demo mark for charts of stored
    data, ``data_chart=False`` for a calculation that does not come from the database)."""
    if not data_chart:
        return charts.style_figure(fig, title=title, unit=unit, as_of=as_of)
    return charts.style_figure(fig, title=title, unit=unit, as_of=as_of, source=data_source(), demo=state.is_demo())


def bind_choice(key: str, default, options, *, cast=str) -> object:
    """:func:`dashboard.urlstate.bind` for a select widget, also resetting a stale session value.

    A value left in ``st.session_state[key]`` that is not one of ``options`` (e.g. from another page with
    the same key) falls back to ``default`` before the widget is created.
    """
    from dashboard import urlstate

    options = list(options)
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = default
    return urlstate.bind(key, default, options=options, cast=cast)


def meeting_mode_css() -> None:
    """Projector layout: no sidebar, header or toolbar; full width; large type for titles and KPI cards."""
    st.markdown(
        """
        <style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
        header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
        footer { display: none !important; }
        .block-container, [data-testid="stMainBlockContainer"] {
            padding-top: 1rem !important; padding-bottom: 0.5rem !important; max-width: 100% !important; }
        h1 { font-size: 2.6rem !important; }
        [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] p { font-size: 1.3rem !important; }
        [data-testid="stMetricValue"] { font-size: 2.8rem !important; }
        [data-testid="stMetricDelta"] { font-size: 1.25rem !important; }
        [data-testid="stCaptionContainer"] { font-size: 1.2rem !important; }
        </style>
        """,
        unsafe_allow_html=True,
    )


@dataclass(frozen=True)
class Kpi:
    """One KPI card: label, value text, change text (or None) and help text."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    plain_delta: bool = False  # a grey note under the value (no arrow, no colour) instead of a change


def metric_cards(cards: Iterable[Kpi], *, columns: int | None = None) -> None:
    """Show KPI cards with borders, ``columns`` per row (all in one row by default)."""
    cards = list(cards)
    per_row = columns or len(cards)
    for start in range(0, len(cards), per_row):
        for slot, card in zip(st.columns(per_row), cards[start:start + per_row]):
            slot.metric(card.label, card.value, card.delta, help=card.help, border=True,
                        delta_color="off" if card.plain_delta else "normal",
                        delta_arrow="off" if card.plain_delta else "auto")


def bind_multi(key: str, default: list, options) -> list:
    """:func:`dashboard.urlstate.bind` for a multiselect: a comma-separated list in the URL, unknown values dropped."""
    from dashboard import urlstate

    options = list(options)
    current = st.session_state.get(key)
    if key in st.session_state and (not isinstance(current, list) or any(v not in options for v in current)):
        st.session_state[key] = [v for v in current if v in options] if isinstance(current, list) else list(default)
    return urlstate.bind(key, list(default), cast=urlstate.list_of(options))


def bind_number(key: str, default: float, *, low: float, high: float, cast=int) -> float:
    """:func:`dashboard.urlstate.bind` for a slider or number input: a URL value outside ``low``–``high`` is clamped."""
    from dashboard import urlstate

    value = urlstate.bind(key, default, cast=cast)
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = default
    clamped = cast(min(max(value, low), high))
    if clamped != st.session_state[key]:
        st.session_state[key] = clamped
        urlstate.sync(key)
    return clamped
