"""The shared sidebar: language, basemap, data source badge and as-of date; state mirrored in the URL."""

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
            iso = [d.isoformat() for d in dates]
            if "as_of" not in st.session_state:
                # by default the week every county has reported, never one county's latest
                city = state.city_as_of()
                st.session_state["as_of"] = _from_url("week", iso, city.isoformat() if city else iso[-1])
            st.selectbox(t("sidebar.as_of"), iso[::-1], key="as_of")
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
