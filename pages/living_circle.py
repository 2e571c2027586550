"""生活圈与选址 Living circle & siting: which compounds lack a facility type within each walking tier, coverage
by county, and where on idle land new facilities would bring the most households within reach.

Distances are walked along the stored road network (or straight lines, by choice or when none is stored;
every card, column, legend and file name says which). Audit: ``analytics.living_circle`` (cached) → cards,
a map of compounds by the tier of their nearest facility (with a chosen compound's 5/10/15-minute walking
isochrones and the facilities inside them), the compounds lacking it, those within reach only as the crow
flies, a county × type coverage heatmap. Siting: ``analytics.siting`` runs when the button is pressed (with
a spinner) → before/after coverage, the solver's status, the proposed parcels on the map, and the
compounds that gain.
"""

from __future__ import annotations

import streamlit as st

from analytics import settings
from dashboard import maps, state, ui, urlstate
from dashboard.downloads import map_downloads, show_chart, show_table
from dashboard.formatting import facility_label, fmt_int, fmt_m, unit_name
from dashboard.labels import t
from dashboard.views import living_circle as page

COUNTIES = ["", *settings.COUNTY_ORDER]
TYPES = list(settings.FACILITY_TYPES)
TIERS = list(settings.LIVING_CIRCLE_TIERS_M)
TIME_LIMITS_S = [5, 10, 30, 60]

ui.page_header("page.living_circle", t("living.caption"))


def reset_siting_options() -> None:
    """A new facility type brings its own service distance and minimum parcel area."""
    spec = settings.FACILITY_TYPES[st.session_state["ftype"]]
    st.session_state["service"] = int(spec["service_distance_m"])
    st.session_state["site_min_area"] = int(spec["min_area_m2"])


county = ui.bind_choice("county", "", COUNTIES)
ftype = ui.bind_choice("ftype", "elderly_care", TYPES)
tier = ui.bind_choice("tier", "5min", TIERS)
spec = settings.FACILITY_TYPES[ftype]
k = ui.bind_number("k", 5, low=1, high=20)
service = ui.bind_number("service", int(spec["service_distance_m"]), low=50, high=3000)
site_min_area = ui.bind_number("site_min_area", int(spec["min_area_m2"]), low=0, high=20_000)
time_limit = ui.bind_choice("time_limit", 10, TIME_LIMITS_S, cast=int)

top = st.columns([1, 1.3, 2])
top[0].selectbox(t("living.county"), COUNTIES, key="county",
                 format_func=lambda c: unit_name(c) if c else t("common.all_counties"))
top[1].selectbox(t("living.ftype"), TYPES, key="ftype", format_func=facility_label,
                 on_change=reset_siting_options)
top[2].radio(t("living.tier"), TIERS, key="tier", horizontal=True, format_func=lambda v: t(f"living.tier.{v}"))
urlstate.sync("county", "ftype", "tier")
metric = ui.distance_metric()

lc = ui.attempt(page.living, county_code=county or None, metric=metric)
short = page.metric_short(lc.metric)

type_name = facility_label(ftype)
tier_name = t(f"living.tier.{tier}")
ui.metric_cards(page.living_kpis(lc, ftype, tier))

# ------------------------------------------------------------------------------------------ the audit map
view = page.living_map(lc, ftype, county_code=county or None)
iso_labels = page.compound_labels(lc)
iso_id = ui.bind_choice("iso", "", list(iso_labels))
iso = None


def on_map_click() -> None:
    """A click on a compound (walking) shows its isochrones."""
    clicked = maps.clicked("living_map", layer="compounds")
    if lc.metric == "walk" and clicked in iso_labels:
        st.session_state["iso"] = clicked


if lc.metric == "walk":
    st.selectbox(t("living.iso.compound"), list(iso_labels), key="iso", format_func=iso_labels.get,
                 help=t("living.iso.help"))
    urlstate.sync("iso")
    if iso_id:
        iso = ui.attempt(page.isochrones, iso_id)
facilities = view.facilities if iso is None else page.with_reached(view.facilities, iso)
focus = iso.areas if iso is not None else (view.compounds if county else None)
m = maps.base_map(focus, max_zoom=16 if iso is not None else 15)
maps.add_counties(m, state.layer("counties"), selected=county or None)
maps.add_compounds(
    m, view.compounds, color_by="tier_met", palette=page.TIER_COLORS,
    labels={v: t(f"living.tier.{v}") for v in page.TIER_COLORS}, legend_title=t("living.map_legend", metric=short),
    fields=[*maps.compound_fields()[:3], ("nearest_m", t("living.col.nearest_m", metric=short), fmt_m)],
)
if iso is not None:
    page.add_isochrones(m, iso)
maps.add_facilities(m, facilities)
if not county and iso is None:  # the whole city: compounds lacking the type counted per county until zoomed in
    maps.add_county_summary(m, state.layer("counties"), page.lacking_by_county(lc, ftype, tier, state.layer("counties")),
                            legend=t("living.summary", type=type_name, tier=tier_name), themes=("compounds", "facilities"))
st.subheader(t("living.map", type=type_name))
maps.render(m, key="living_map", returned_objects=["last_active_drawing"] if lc.metric == "walk" else (),
            on_change=on_map_click)
map_downloads(m, f"living_circle_{ftype}_{lc.metric}", key="living-map",
              title=f"{t('living.map', type=type_name)}（{short}）")
if iso is not None:
    st.markdown(f"**{t('living.iso')} · {ui.literal(iso_labels[iso_id])}**")
    ui.metric_cards(page.isochrone_kpis(iso))
    st.markdown(f"**{t('living.iso.facilities')}**")
    show_table(page.isochrone_table(iso), f"living_circle_isochrones_{iso_id}_walk", key="living-iso")

st.subheader(t("living.lacking", tier=tier_name, type=type_name))
lacking = page.lacking_table(lc, ftype, tier)
if lacking.empty:
    st.success(t("living.none_lacking"))
else:
    show_table(lacking, f"living_circle_lacking_{ftype}_{tier}_{lc.metric}", key="living-lacking")

if lc.metric == "walk":
    st.subheader(t("living.straight_only", tier=tier_name, type=type_name))
    only = page.straight_only_table(lc, ftype, tier)
    if only.empty:
        st.success(t("living.straight_only_none"))
    else:
        st.caption(t("living.straight_only_caption", n=f"{len(only):,}", tier=tier_name, type=type_name))
        show_table(only, f"living_circle_straight_not_walk_{ftype}_{tier}", key="living-straight-only")

st.subheader(t("living.coverage", tier=tier_name))
fig = page.coverage_figure(lc, tier, highlight_type=ftype)
ui.styled(fig, title=f"{t('living.coverage_title', tier=tier_name)}（{short}）", unit="%")
show_chart(fig, page.coverage_table(lc, tier), f"living_circle_coverage_{tier}_{lc.metric}", key="living-coverage")

# ------------------------------------------------------------------------------------------------ siting
st.divider()
st.subheader(t("living.siting"))
scope = unit_name(county) if county else t("common.all_counties")
st.caption(t("living.siting_caption", type=type_name, scope=scope))
row = st.columns([2, 1.2, 1.2, 1, 1], vertical_alignment="bottom")
row[0].slider(t("living.k"), 1, 20, key="k")
row[1].number_input(t("living.service"), 50, 3000, step=50, key="service")
row[2].number_input(t("living.site_min_area"), 0, 20_000, step=50, key="site_min_area")
row[3].selectbox(t("living.time_limit"), TIME_LIMITS_S, key="time_limit")
run = row[4].button(t("living.run"), key="site_run", type="primary")
urlstate.sync("k", "service", "site_min_area", "time_limit")

inputs = (ftype, st.session_state["k"], st.session_state["service"], st.session_state["site_min_area"],
          county, st.session_state["time_limit"], lc.metric)
shown = urlstate.bind("site", False, cast=lambda s: s == "True")
if run or (shown and "site_inputs" not in st.session_state):  # the button, or a link that showed a result
    st.session_state["site_inputs"] = inputs
st.session_state["site"] = st.session_state.get("site_inputs") == inputs
urlstate.sync("site")
if not st.session_state["site"]:
    st.caption(t("living.run_hint"))
    st.stop()

with st.spinner(t("living.running")):
    result = ui.attempt(page.site, facility_type=ftype, k=inputs[1], service_distance_m=inputs[2],
                        min_area_m2=inputs[3], county_code=county or None, time_limit_s=inputs[5], metric=lc.metric)

ui.metric_cards(page.siting_kpis(result))
if result.chosen.empty:
    st.info(t("living.no_sites"))
    st.stop()

sited = page.siting_compounds(result, lc)
chosen = page.numbered_sites(result.chosen)
m = maps.base_map(result.chosen, max_zoom=15, padding_px=40)  # badges at the edge stay whole
maps.add_counties(m, state.layer("counties"), selected=county or None)
maps.add_compounds(
    m, sited, color_by="coverage",
    palette={"covered": "#1A9850", "gaining": "#2F80ED", "uncovered": "#D73027"},
    labels={v: t(f"living.siting_map.{v}") for v in ("covered", "gaining", "uncovered")},
    legend_title=t("living.siting_map.legend"),
)
maps.add_facilities(m, view.facilities)
maps.add_sites(
    m, chosen, number_column="site_no", id_column="parcel_id", name=t("living.chosen"),
    legend=t("living.sites_legend"),
    fields=[("site_no", t("living.col.site_no")), ("parcel_id", t("living.col.parcel_id")),
            ("households_gained", t("living.col.households_gained"), fmt_int)],
)
map_col, list_col = st.columns([2.3, 1])
with map_col:
    maps.render(m, key="siting_map")
with list_col.container(key="siting-list"):
    st.markdown(f"**{t('living.chosen')}**")
    st.dataframe(page.sites_list(chosen), hide_index=True)
name = f"siting_{ftype}_k{inputs[1]}_{result.metric}"
map_downloads(m, name, key="siting-map",
              title=f"{t('living.siting_title', type=type_name, k=inputs[1])}（{page.metric_short(result.metric)}）")

st.markdown(f"**{t('living.chosen')}**")
show_table(page.sites_table(chosen), f"{name}_parcels", key="siting-chosen")
st.markdown(f"**{t('living.gaining')}**")
show_table(page.gaining_table(result, lc.compounds), f"{name}_gaining", key="siting-gaining")
with st.expander(t("living.greedy")):
    show_table(page.sites_table(result.greedy), f"{name}_greedy", key="siting-greedy")
