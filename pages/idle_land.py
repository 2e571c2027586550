"""闲置用地 Idle land: parcels within reach of the compounds, ranked by the households they could serve.

Filters (distance, parcel type, area, ownership, county, walking or straight-line distance) →
``analytics.idle_land`` (cached) → a map of
compounds and parcels with the reachable ones highlighted, the ranked parcel table, and for a selected
parcel (chosen below or clicked on the map) the compounds it could serve.
"""

from __future__ import annotations

import streamlit as st

from analytics import settings
from dashboard import maps, state, ui, urlstate
from dashboard.downloads import map_downloads, show_table
from dashboard.formatting import category_label, unit_name
from dashboard.labels import t
from dashboard.views import idle_land as page

MAP_KEY = "idle_map"

ui.page_header("page.idle_land", t("idle.caption"))

counties = ["", *settings.COUNTY_ORDER]
county = ui.bind_choice("county", "", counties)
distance = ui.bind_number("distance", 500, low=0, high=settings.MAX_DISTANCE_LIMIT_M)
types = ui.bind_multi("ptype", [], settings.PARCEL_TYPES)
owners = ui.bind_multi("owner", [], settings.OWNERSHIP_TYPES)
min_area = ui.bind_number("min_area", 0, low=0, high=20_000)

top = st.columns([1.2, 2, 1.6, 1.6, 1])
top[0].selectbox(t("idle.county"), counties, key="county",
                 format_func=lambda c: unit_name(c) if c else t("common.all_counties"))
top[1].slider(t("idle.distance"), 0, settings.MAX_DISTANCE_LIMIT_M, step=50, key="distance", help=t("idle.distance_help"))
top[2].multiselect(t("idle.parcel_types"), settings.PARCEL_TYPES, key="ptype", placeholder=t("idle.all"),
                   format_func=lambda v: category_label("parcel_type", v))
top[3].multiselect(t("idle.ownership"), settings.OWNERSHIP_TYPES, key="owner", placeholder=t("idle.all"),
                   format_func=lambda v: category_label("ownership", v))
top[4].number_input(t("idle.min_area"), 0, 20_000, step=100, key="min_area")
urlstate.sync("county", "distance", "ptype", "owner", "min_area")
metric = ui.distance_metric()

result = ui.attempt(page.idle, max_distance_m=st.session_state["distance"],
                    parcel_types=st.session_state["ptype"] or None, min_area_m2=st.session_state["min_area"] or None,
                    ownership=st.session_state["owner"] or None, county_code=st.session_state["county"] or None,
                    metric=metric)
short = page.metric_short(result)

ui.metric_cards(page.idle_kpis(result))
ranked = page.reachable(result)["parcel_id"].tolist()
parcel = ui.bind_choice("parcel", "", ["", *ranked])


def on_map_click() -> None:
    """A click on a parcel within reach selects it."""
    clicked = maps.clicked(MAP_KEY, layer="parcels")
    if clicked in ranked:
        st.session_state["parcel"] = clicked


view = page.idle_map(result, county_code=county or None, parcel_id=parcel or None)
m = maps.base_map(page.idle_focus(view, county_code=county or None), max_zoom=16)
maps.add_counties(m, state.layer("counties"), selected=county or None)
maps.add_parcels(m, view.parcels, highlight_ids=view.reachable_ids)
maps.add_compounds(m, view.compounds, color_by="reach", palette={"yes": "#27AE60", "no": "#95A5A6"},
                   labels={"yes": t("idle.reach.yes"), "no": t("idle.reach.no")}, legend_title=t("idle.reach.legend", metric=short, distance=distance))
if parcel:
    maps.add_selection(m, view.selected_compounds, fields=maps.compound_fields(), color="#1F4E79")
    maps.add_selection(m, view.selected_parcel, fields=[("id", t("col.id"))])
elif not county:  # the whole city: parcels within reach counted per county until zoomed in
    maps.add_county_summary(m, state.layer("counties"), page.reachable_by_county(view, state.layer("counties")),
                            legend=t("idle.summary"), themes=("parcels", "compounds"))
st.subheader(t("idle.map"))
st.caption(t("idle.map_hint"))
maps.render(m, key=MAP_KEY, returned_objects=["last_active_drawing"], on_change=on_map_click)
map_downloads(m, f"idle_land_map_{distance}m_{result.metric}", key="idle-map",
              title=t("idle.map_title", distance=distance, metric=short))

if not ranked:
    st.info(t("idle.none"))
    st.stop()

st.subheader(t("idle.ranking"))
parcel_labels = page.idle_parcel_labels(result)
st.selectbox(t("idle.parcel"), ["", *ranked], key="parcel", format_func=parcel_labels.get)
urlstate.sync("parcel")
if parcel:
    st.markdown(f"**{t('idle.selected', id=ui.literal(parcel))}**")
    ui.metric_cards(page.idle_selected_kpis(result, parcel))
    show_table(page.idle_served_table(result, parcel), f"idle_land_parcel_{parcel}_{result.metric}",
               key="idle-served")
show_table(page.idle_parcel_table(result), f"idle_land_parcels_{distance}m_{result.metric}", key="idle-parcels")

with st.expander(t("idle.by_compound")):
    show_table(page.idle_compound_table(result), f"idle_land_compounds_{distance}m_{result.metric}",
               key="idle-compounds")
