"""The shared sidebar: language, basemap, data source badge and as-of date; state mirrored in the URL.

The as-of date is chosen in two steps: a year (``as_of_year``), then one of that year's report weeks (``as_of``,
latest first). The week is in the URL as ``week=``; the year always follows the week (a link with
``week=2021-05-07`` opens 2021 and that week), and choosing another year selects its latest week.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import _internals, auth_ui, state
from dashboard.labels import t
from dashboard.maps import BASEMAPS


def _from_url(key: str, allowed: list[str], default: str) -> str:
    value = st.query_params.get(key)
    return value if value in allowed else default


def init_from_url() -> None:
    """Take ``lang`` and ``basemap`` from the URL on a session's first run (app.py calls this before it names
    the pages, so a link with ``?lang=en`` opens with English navigation)."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = _from_url("lang", ["zh", "en"], "zh")
    if "basemap" not in st.session_state:
        st.session_state["basemap"] = _from_url("basemap", list(BASEMAPS), "none")


def _keep_choices() -> None:
    """On a language switch, every choice on the page stays: each select widget's value is set again by its key.

    Streamlit remembers a choice by its label; read here, before the page runs in the new language, the
    values are still the codes behind the old labels (setting them re-sends them with the new labels).
    """
    for key in _internals.option_widget_keys():
        if key == "lang":
            continue
        value = st.session_state.get(key)
        if value is None or isinstance(value, str | bool | int | float) or (
                isinstance(value, list) and all(isinstance(v, str | bool | int | float) for v in value)):
            st.session_state[key] = value


def _default_week(weeks: list[str], city: date | None) -> str:
    """The week a list of report weeks opens on: the city's as-of date when it is among them (the latest week
    every county has reported), else the latest of them."""
    return city.isoformat() if city is not None and city.isoformat() in weeks else max(weeks)


def weeks_of(year: int, dates: list[date]) -> list[str]:
    """The report weeks of ``year`` among ``dates``, ISO dates, latest first (the week selector's options)."""
    return sorted((d.isoformat() for d in dates if d.year == year), reverse=True)


def _year_changed() -> None:
    """Another year was chosen: select its latest week (for the city's current year, the city's as-of week)."""
    year = st.session_state["as_of_year"]
    weeks = weeks_of(year, state.report_dates())
    if weeks:
        st.session_state["as_of"] = _default_week(weeks, state.city_as_of())


def _as_of_selector(dates: list[date]) -> None:
    """Year, then week: ``as_of_year`` and ``as_of`` kept in step (the year is always the chosen week's)."""
    iso = [d.isoformat() for d in dates]
    if st.session_state.get("as_of") not in iso:
        # by default the week every county has reported, never one county's latest
        st.session_state["as_of"] = _from_url("week", iso, _default_week(iso, state.city_as_of()))
    week = st.session_state["as_of"]
    years = sorted({d.year for d in dates}, reverse=True)
    # Both set again by key: the week list's options change with the year, which makes it a new widget.
    st.session_state["as_of_year"] = int(week[:4])
    st.session_state["as_of"] = week
    st.selectbox(t("sidebar.as_of_year"), years, key="as_of_year", on_change=_year_changed,
                 format_func=lambda y: t("sidebar.year_item", year=y))
    st.selectbox(t("sidebar.as_of"), weeks_of(int(week[:4]), dates), key="as_of")


def render() -> None:
    """Draw the sidebar and keep ``lang``, ``basemap`` and ``as_of`` in ``st.session_state`` and the URL."""
    init_from_url()
    with st.sidebar:
        st.radio(
            t("sidebar.language"), ["zh", "en"], key="lang", horizontal=True, on_change=_keep_choices,
            format_func=lambda code: "中文" if code == "zh" else "English",
        )
        st.selectbox(t("sidebar.basemap"), BASEMAPS, key="basemap", format_func=lambda b: t(f"basemap.{b}"))
        dates = state.report_dates()
        if dates:
            _as_of_selector(dates)
        if state.is_demo():
            st.warning(t("sidebar.demo_badge"), icon=":material/science:")
        else:
            st.caption(f"{t('sidebar.source')}: {t('sidebar.own_data')}")
    st.query_params["lang"] = st.session_state["lang"]
    st.query_params["basemap"] = st.session_state["basemap"]
    if "as_of" in st.session_state:
        st.query_params["week"] = st.session_state["as_of"]
    auth_ui.sidebar_box()


def as_of() -> date | None:
    """The as-of date chosen in the sidebar (by default the city's: the latest week every county reported)."""
    value = st.session_state.get("as_of")
    return date.fromisoformat(value) if value else None
