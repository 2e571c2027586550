"""十四五 / 全周期 The programme: every plan year from 2020 against its target and the five-year goal of about 16.9
million m², each county's cumulative progress, the pre-2000 stock done and remaining, and the candidate pool.

The county chosen here (or on another page: the choice is shared, and kept in the link as ``county=``) narrows
the page to that county or zone; its goal is then the sum of its own annual targets, the five-year goal being
the city's."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import sidebar, state, ui, urlstate
from dashboard.downloads import show_chart, show_table
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import programme as page

ui.page_header("page.programme", t("programme.caption"))

as_of = state.as_of_or_latest(sidebar.as_of()) or date.today()  # without reports nothing is started yet
units = page.unit_options()
unit = ui.bind_choice("county", "", units)
st.selectbox(t("programme.unit"), units, key="county",
             format_func=lambda c: unit_name(c) if c else t("common.all_counties"))
urlstate.sync("county")
summary = ui.attempt(page.programme_summary, as_of=as_of, unit_code=unit or None)
st.caption(t("programme.as_of", as_of=as_of.isoformat()))
if summary.years.empty:
    st.info(t("programme.none"))
    st.stop()

ui.metric_cards(page.goal_kpis(summary), columns=3)
if note := page.goal_note(summary):
    st.caption(note)
tag = f"{unit}_{as_of}" if unit else f"{as_of}"  # in file names: the unit shown and the date
goal_tab, years_tab, units_tab, stock_tab, pool_tab = st.tabs([
    t("programme.tab.goal"), t("programme.tab.years"), t("programme.tab.units"), t("programme.tab.stock"),
    t("programme.tab.pool"),
])

with goal_tab:
    measure = ui.bind_choice("prog_measure", "floor_area", page.MEASURES)
    st.radio(t("programme.measure"), page.MEASURES, key="prog_measure", horizontal=True,
             format_func=lambda m: t(f"programme.measure.{m}"))
    fig, data = page.trajectory_figure(summary, measure=measure)
    ui.styled(fig, title=t("programme.trajectory.title", measure=t(f"programme.measure.{measure}")),
              unit=t(f"programme.unit.{measure}"), as_of=as_of)
    show_chart(fig, data, f"programme_trajectory_{measure}_{tag}", key="programme-trajectory")
    show_table(data, f"programme_cumulative_{tag}", key="programme-trajectory-table")

with years_tab:
    st.caption(t("programme.years.caption"))
    fig, data = page.years_figure(summary)
    ui.styled(fig, title=t("programme.years.title"), unit=t("programme.unit.wan_m2"), as_of=as_of)
    show_chart(fig, data, f"programme_years_{tag}", key="programme-years")
    with st.expander(t("programme.years.by_unit")):
        show_table(page.years_table(page.rows_shown(summary.years, summary)), f"programme_years_by_unit_{tag}",
                   key="programme-years-units")

with units_tab:
    fig, data = page.units_figure(summary)
    ui.styled(fig, title=t("programme.units.title"), unit=t("programme.unit.pct"), as_of=as_of)
    show_chart(fig, data, f"programme_units_{tag}", key="programme-units")
    show_table(data, f"programme_by_unit_{tag}", key="programme-units-table")

with stock_tab:
    st.caption(t("programme.stock.caption"))
    fig, data = page.stock_figure(summary)
    ui.styled(fig, title=t("programme.stock.title"), unit=t("programme.unit.wan_m2"), as_of=as_of)
    show_chart(fig, data, f"programme_stock_{tag}", key="programme-stock")
    show_table(data, f"programme_stock_by_unit_{tag}", key="programme-stock-table")

with pool_tab:
    st.caption(t("programme.pool.caption"))
    if page.rows_shown(summary.pool, summary).empty:
        st.info(t("common.no_data"))
    else:
        fig, data = page.pool_figure(summary)
        ui.styled(fig, title=t("programme.pool.title"), unit=t("programme.unit.compounds"), as_of=as_of)
        show_chart(fig, data, f"programme_pool_{tag}", key="programme-pool")
        show_table(data, f"programme_pool_by_unit_{tag}", key="programme-pool-table")
