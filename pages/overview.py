"""总览 Overview: the annual plan's KPIs, a county choropleth with the compounds by status, the county ranking.

Clicking a county on the map (or choosing it above) filters the whole page to it. Meeting mode (会议模式)
keeps only the KPIs and the map, in large type, for a projector.
"""

from __future__ import annotations

import streamlit as st

from dashboard import handout, maps, shell, sidebar, state, ui, urlstate
from dashboard.downloads import map_downloads, show_chart, show_table
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import overview as page
from dashboard.views.progress import county_progress

MAP_KEY = "overview_map"

shell.ensure()
meeting = urlstate.bind("meeting", False, options=[True, False], cast=lambda s: s == "True")
if meeting:
    ui.meeting_mode_css()

title, switch = st.columns([5, 1], vertical_alignment="bottom")
heading = title.empty()  # named once the unit is known (meeting mode names the chosen county)
heading.title(t("overview.meeting_title") if meeting else t("page.overview"))
switch.toggle(t("overview.meeting"), key="meeting", help=t("overview.meeting_help"))
urlstate.sync("meeting")

as_of = state.as_of_or_latest(sidebar.as_of())
if as_of is None:
    st.info(t("overview.no_reports"))
    st.stop()

progress = ui.attempt(county_progress, as_of=as_of)
plan_year = int(progress.attrs["plan_year"])
compounds = ui.attempt(page.plan_compounds, as_of=as_of, plan_year=plan_year)
counties = state.layer("counties")

units = ["", *page.unit_codes(progress)]
unit = ui.bind_choice("county", "", units)
indicator = ui.bind_choice("indicator", "completion_rate", page.OVERVIEW_INDICATORS)


def on_map_click() -> None:
    """A click on a county selects it (a second click on the selected county shows the whole city)."""
    code = maps.clicked(MAP_KEY, layer="counties")
    if code in units:
        st.session_state["county"] = "" if code == st.session_state.get("county") else code


def clear_unit() -> None:
    st.session_state["county"] = ""


if meeting and unit:  # the selectors are hidden: the title names the choice, and a button takes it back
    heading.title(t("overview.meeting_title_unit", unit=unit_name(unit)))
    chosen, clear = st.columns([5, 1], vertical_alignment="center")
    chosen.markdown(t("overview.meeting_selected", unit=ui.literal(unit_name(unit))))
    clear.button(t("overview.meeting_clear"), key="meeting_clear_unit", on_click=clear_unit,
                 icon=":material/close:")
st.caption(t("overview.caption", plan_year=plan_year, as_of=as_of.isoformat(), source=ui.data_source()))
row = page.progress_row(progress, unit)
if not meeting:
    st.caption(page.plan_line(row))
    left, right = st.columns(2)
    left.selectbox(t("overview.unit"), units, key="county",
                   format_func=lambda c: unit_name(c) if c else t("common.all_counties"))
    right.selectbox(t("overview.indicator"), list(page.OVERVIEW_INDICATORS), key="indicator",
                    format_func=lambda i: t(f"overview.ind.{i}"))
urlstate.sync("county", "indicator")

shown = page.compounds_of_unit(compounds, unit)
selected_county = page.county_of_unit(unit, compounds)
m = maps.base_map(counties[counties["county_code"] == selected_county] if selected_county else counties)
maps.add_counties(
    m, counties, values=page.indicator_values(progress, indicator), value_label=t(f"overview.ind.{indicator}"),
    fmt=page.indicator_format(indicator), selected=selected_county, large=meeting, clickable=True,
    unit=page.indicator_unit(indicator), unbounded=page.zone_values(progress, indicator),
)
maps.add_compounds(m, shown, large=meeting, as_points="auto")  # dots for the city and a county, outlines up close

if meeting:  # the projector: cards on the left, the map filling the rest
    cards, map_slot = st.columns([1.15, 1.85])
    with cards:
        ui.metric_cards(page.overview_kpis(row), columns=2)
else:
    ui.metric_cards(page.overview_kpis(row), columns=3)
    st.caption(t("overview.map_hint") if not unit or unit == selected_county else t("overview.map_zone_note"))
    map_slot = st.container()
with map_slot:
    maps.render(m, key=MAP_KEY, returned_objects=["last_active_drawing"], height=640 if meeting else 560,
                on_change=on_map_click)
if meeting:
    st.stop()
map_downloads(m, f"overview_map_{as_of}", key="overview-map", title=t("overview.map_title", indicator=t(f"overview.ind.{indicator}")))
handout.buttons(page.overview_handout(progress, row, unit=unit, indicator=indicator, as_of=as_of),
                f"overview_{unit or 'city'}_{as_of}", key="overview-handout", folium_map=m)

st.subheader(t("overview.ranking"))
fig, data = page.ranking_figure(progress, indicator, selected=unit or None)
ui.styled(fig, title=t("overview.ranking_title", indicator=t(f"overview.ind.{indicator}")),
          unit=page.indicator_unit(indicator), as_of=as_of)
show_chart(fig, data, f"overview_ranking_{indicator}_{as_of}", key="overview-ranking")

st.subheader(t("overview.compounds") + (f" · {unit_name(unit)}" if unit else ""))
show_table(page.unit_compounds_table(shown), f"overview_compounds_{unit or 'city'}_{as_of}", key="overview-compounds")
