"""Small UI pieces every page uses: page header, error display, KPI cards, chart style, URL-bound widgets."""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import plotly.graph_objects as go
import streamlit as st

from analytics.errors import DatabaseLocked, ImportRejected, JiugaiError
from analytics.importing.write import disk_full_error, is_disk_full
from dashboard import charts, shell, state
from dashboard.formatting import join_names, unit_name
from dashboard.labels import has, t

log = logging.getLogger(__name__)
T = TypeVar("T")


# How a parameter of an error is shown, by its name (other values as they are; lists are listed).
_PARAM_NAMES: dict[str, Callable[[Any], str]] = {
    "permission": lambda v: t(f"error.action.{v}") if has(f"error.action.{v}") else str(v),
    "role": lambda v: t(f"auth.role.{v}") if has(f"auth.role.{v}") else str(v),
    "preset": lambda v: t(f"funding.preset.{v}") if has(f"funding.preset.{v}") else str(v),
    "county_code": unit_name,
    "measure": lambda v: t(f"plan.measure.{v}") if has(f"plan.measure.{v}") else str(v),
    "slides": lambda v: t(f"present.slide.{v}") if has(f"present.slide.{v}") else str(v),
    "setting": lambda v: t(f"plan.setting.{v}") if has(f"plan.setting.{v}") else str(v),
    "column": lambda v: next((t(k) for k in (f"data.field.{v}", f"plan.col.{v}") if has(k)), str(v)),
    "tier": lambda v: t(f"tier.{v}") if has(f"tier.{v}") else str(v),
}


def _param(name: str, value: object) -> object:
    shown = _PARAM_NAMES.get(name)
    if isinstance(value, list | tuple):
        return literal(join_names(shown(v) if shown else str(v) for v in value))
    value = shown(value) if shown else value
    return literal(value) if isinstance(value, str) else value


# Markdown that changes what text shows: links and images ([]()!), emphasis and code (*_~`), HTML (<>),
# maths ($), tables (|), headings (#), escapes (\\); a colon before a letter starts Streamlit's
# :emoji: and :colour[…] directives, and one before // a bare link. Dates, numbers and times keep their characters.
_MARKDOWN_SIGN = re.compile(r"([\\`*_\[\]()<>!~$|#]|:(?=[A-Za-z]|//))")


def literal(text: object) -> str:
    """``text`` as Streamlit Markdown that shows exactly these characters, on one line.

    File names, column names, sheet names and values come from uploads; written into a caption, message
    or ``st.write`` as they are, ``[点此](http://…)`` would be a link and ``![](http://…)`` an image fetched
    from another server. Everything that shows such text goes through this.
    """
    return _MARKDOWN_SIGN.sub(r"\\\1", " ".join(str(text).splitlines()))


def error_text(exc: JiugaiError) -> str:
    """What the user reads for a domain error: the label of its code in their language, filled with its
    parameters (a code without a label: its class's label; the English message goes to the log)."""
    params = {name: _param(name, value) for name, value in exc.params.items()}
    detail = literal(str(exc))  # the English message quotes file and column names as uploaded
    if has(f"error.{exc.code}"):
        return t(f"error.{exc.code}", detail=detail, **params)
    if isinstance(exc, ImportRejected):
        kind = f"data.kind.{exc.kind}" if has(f"data.kind.{exc.kind}") else "data.kind.invalid"
        return t("data.refused", kind=t(kind), detail=detail)
    log.warning("no label for error code %r: %s", exc.code, exc)
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if code and has(f"error.{code}"):
            return t(f"error.{code}", detail=detail)
    return t("error.error")


def show_error(exc: Exception) -> None:
    """Show ``exc`` as a message in the user's language; never a traceback (unexpected errors are logged,
    a full disk is named as such)."""
    if isinstance(exc, ImportRejected | DatabaseLocked):
        st.error(error_text(exc))  # complete sentences of their own
    elif isinstance(exc, JiugaiError):
        st.error(t("common.error", msg=error_text(exc)))
    elif is_disk_full(exc):  # a write outside the import's transaction helper, or a temporary file
        disk_full_error(exc, what="a page's action")
        st.error(t("common.error", msg=t("error.store.disk_full")))
    else:
        log.exception("unexpected error on a page")
        st.error(t("common.error", msg=type(exc).__name__))


def attempt(action: Callable[..., T], /, *args: object, stop: bool = True, **kwargs: object) -> T | None:
    """``action(*args, **kwargs)``; if it raises, show the error (:func:`show_error`) and stop the page.

    With ``stop=False`` the page goes on and ``None`` is returned instead, for a part of a page that can
    fail on its own (one tab, one chart). A spinner with the time taken shows while ``action`` runs for more
    than half a second (a first visit, a new filter), never for a quick one (a cached result).
    """
    try:
        with st.spinner(t("common.working"), show_time=True):
            return action(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
        show_error(exc)
        if stop:
            st.stop()
        return None


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
    the same key) falls back to ``default`` before the widget is created. A value that is one of them is set
    again by key: Streamlit forgets a widget's value when a page without that widget runs, or when a widget
    with other options takes the key, so a county chosen on one page would otherwise open the next as the
    whole city.
    """
    from dashboard import urlstate

    options = list(options)
    if key in st.session_state:
        value = st.session_state[key]
        st.session_state[key] = value if value in options else default
    return urlstate.bind(key, default, options=options, cast=cast)


METRICS: tuple[str, ...] = ("walk", "straight")
"""Distance metrics a page offers: along the streets (步行距离) or as the crow flies (直线距离)."""


def distance_metric(key: str = "metric") -> str:
    """The page's distance metric, ``"walk"`` or ``"straight"``, chosen by the user (URL-bound).

    With a road network stored the choice is offered, walking first; without one distances are straight
    lines and a note says so (and how to get walking distances).
    """
    from dashboard import urlstate

    if attempt(state.walk_graph, stop=False) is None:  # an unusable stored network is shown as an error
        if state.layer("roads").empty:
            st.info(t("common.metric.no_roads"), icon=":material/straighten:")
        return "straight"
    metric = bind_choice(key, "walk", METRICS)
    st.radio(t("common.metric"), METRICS, key=key, horizontal=True, format_func=lambda m: t(f"common.metric.{m}"),
             help=t("common.metric.help"))
    urlstate.sync(key)
    return str(metric)


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


# ----------------------------------------------------------------------------------------------- phones
PHONE_MAX_PX = 640
"""Screens up to this width (CSS pixels) get the phone layout; Streamlit stacks columns below it too."""
PHONE_CARDS_PER_ROW = 2
KPI_KEY = "jiugai-kpis"
# A phone presents itself with "Mobi" in its User-Agent (Android and iOS browsers, WeChat's included);
# tablets do not, and have the width of a small screen.
_PHONE_AGENT = re.compile(r"Mobi|iPhone|Android.+Mobile", re.IGNORECASE)

PAGE_CSS = f"""<style>
.jiugai-chart-head {{ padding-right: 7.5rem; }}
.jiugai-chart-title {{ font-weight: 700; font-size: 1.2rem; line-height: 1.35; color: #1a1a1a; }}
.jiugai-chart-meta {{ display: flex; flex-wrap: wrap; align-items: center; gap: 0.2rem 0.75rem; margin-top: 0.15rem; }}
.jiugai-chart-sub {{ color: {charts.NEUTRAL}; font-size: 0.85rem; }}
.jiugai-chart-demo {{ color: {charts.BAD}; border: 1px solid {charts.BAD}; padding: 0 0.35rem; font-size: 0.8rem;
    font-weight: 700; white-space: nowrap; }}
.jiugai-chart-source {{ color: {charts.NEUTRAL}; font-size: 0.8rem; margin-top: -0.6rem; }}
[class*="st-key-{KPI_KEY}"] [data-testid="stMetricDelta"],
[class*="st-key-{KPI_KEY}"] [data-testid="stMetricDelta"] * {{
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
    overflow-wrap: break-word; word-break: keep-all; text-wrap: balance; min-width: 0; }}  /* a note wraps at spaces */
@media (max-width: {PHONE_MAX_PX}px) {{
    [class*="st-key-{KPI_KEY}"] [data-testid="stHorizontalBlock"] {{ flex-flow: row wrap !important; gap: 0.5rem !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stColumn"] {{
        flex: 1 1 calc(50% - 0.25rem) !important; width: calc(50% - 0.25rem) !important;
        min-width: calc(50% - 0.25rem) !important; max-width: calc(50% - 0.25rem) !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stMetric"] {{ padding: 0.45rem 0.6rem !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stMetricValue"] {{ font-size: 1.4rem !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stMetricLabel"] p {{ font-size: 0.8rem !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stMetricLabel"] * {{
        white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
    [class*="st-key-{KPI_KEY}"] [data-testid="stMetricDelta"] {{ font-size: 0.75rem !important; }}
    .jiugai-chart-head {{ padding-right: 0; }}
}}
</style>"""
"""Layout every page shares: the frame around charts (``charts.for_screen``) and compact KPI cards on phones."""


def page_css() -> None:
    """Add :data:`PAGE_CSS` to the page (a style element only: it takes no room)."""
    st.html(PAGE_CSS)


def is_phone() -> bool:
    """Whether this session's browser is a phone's (by its User-Agent; False outside a browser session)."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # noqa: BLE001 - no request headers outside a browser session (page tests, scripts)
        return False
    return bool(_PHONE_AGENT.search(agent))


@dataclass(frozen=True)
class Kpi:
    """One KPI card: label, value text, change text (or None) and help text."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    plain_delta: bool = False  # a grey note under the value (no arrow, no colour) instead of a change


def metric_cards(cards: Iterable[Kpi], *, columns: int | None = None) -> None:
    """Show KPI cards with borders, ``columns`` per row (all in one row by default; two on a phone).

    On a narrow screen the cards are compact and two to a row (:data:`PAGE_CSS`), so that what follows
    them — the overview's map — is not screens further down.
    """
    cards = list(cards)
    per_row = PHONE_CARDS_PER_ROW if is_phone() else (columns or len(cards))
    block = zlib.crc32("|".join(card.label for card in cards).encode("utf-8"))  # the same key in every rerun
    with st.container(key=f"{KPI_KEY}-{block:08x}"):
        for start in range(0, len(cards), per_row):
            for slot, card in zip(st.columns(per_row), cards[start:start + per_row]):
                delta, plain = card.delta, card.plain_delta
                if delta is not None and not plain and _zero_change(delta):
                    delta, plain = _ZERO_SIGN.sub("", delta, count=1), True  # no change: no sign, arrow or colour
                slot.metric(card.label, card.value, delta, help=card.help, border=True,
                            delta_color="off" if plain else "normal",
                            delta_arrow="off" if plain else "auto")


_ZERO_SIGN = re.compile(r"^\s*[+\-−]\s*")
_LEADING_NUMBER = re.compile(r"^\s*[+\-−]?\s*(\d[\d,]*(?:\.\d+)?)")


def _zero_change(delta: str) -> bool:
    """True when a change text starts with a number that shows as zero ("+0.0 个百分点", "-0", "0.00%")."""
    match = _LEADING_NUMBER.match(delta)
    return bool(match) and float(match.group(1).replace(",", "")) == 0


def bind_multi(key: str, default: list, options) -> list:
    """:func:`dashboard.urlstate.bind` for a multiselect: a comma-separated list in the URL, unknown values dropped."""
    from dashboard import urlstate

    options = list(options)
    current = st.session_state.get(key)
    if key in st.session_state and (not isinstance(current, list) or any(v not in options for v in current)):
        st.session_state[key] = [v for v in current if v in options] if isinstance(current, list) else list(default)
    return urlstate.bind(key, list(default), cast=urlstate.list_of(options))


def bind_number(key: str, default: float, *, low: float, high: float, cast=int, clamp: bool = True) -> float:
    """:func:`dashboard.urlstate.bind` for a slider or number input: a URL value outside ``low``–``high`` is clamped.

    With ``clamp=False`` a value out of range is kept as given (a typed number, a link's): the page refuses
    it with a message saying the range, instead of silently computing with another number.
    """
    from dashboard import urlstate

    value = urlstate.bind(key, default, cast=cast)
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = default
    clamped = cast(min(max(value, low), high)) if clamp else cast(value)
    if clamped != st.session_state[key]:
        st.session_state[key] = clamped
        urlstate.sync(key)
    return clamped
