"""成片改造 Renewal clusters: compounds close enough to renew together, outlined on the map and ranked.

Gap distance and constraints (county, same county, not across a barrier, largest extent, smallest size, score
weights) →
``analytics.clusters.find_clusters`` (cached) → cards, a map of cluster outlines with their members, the
score components of the best clusters, the ranked table, and for a selected cluster (chosen below or
clicked on the map) its figures and member compounds, with the map zoomed to it.
"""

from __future__ import annotations

import streamlit as st

from analytics import settings
from dashboard import maps, state, ui, urlstate
from dashboard.downloads import map_downloads, show_chart, show_table
from dashboard.formatting import fmt_int, unit_name
from dashboard.labels import t
from dashboard.views import clusters as page

MAP_KEY = "clusters_map"
COUNTIES = ["", *settings.COUNTY_ORDER]
WEIGHT_KEYS = {part: f"w_{part}" for part in page.CLUSTER_COMPONENTS}

ui.page_header("page.clusters", t("clusters.caption"))

county = ui.bind_choice("county", "", COUNTIES)
ui.bind_number("gap", settings.CLUSTER_GAP_M, low=0, high=500)
ui.bind_choice("same_county", True, [True, False], cast=lambda s: s == "True")
ui.bind_number("extent", 0, low=0, high=10_000)
ui.bind_number("min_size", 2, low=2, high=20)
ui.bind_choice("no_cross", False, [True, False], cast=lambda s: s == "True")
for key in WEIGHT_KEYS.values():
    ui.bind_number(key, 1.0, low=0.0, high=1.0, cast=float)

top = st.columns([1.2, 2, 1.2, 1.2, 1], vertical_alignment="bottom")
top[0].selectbox(t("clusters.county"), COUNTIES, key="county",
                 format_func=lambda c: unit_name(c) if c else t("common.all_counties"))
top[1].slider(t("clusters.gap"), 0, 500, step=10, key="gap", help=t("clusters.gap_help"))
top[2].number_input(t("clusters.max_extent"), 0, 10_000, step=250, key="extent", help=t("clusters.max_extent_help"))
top[3].number_input(t("clusters.min_size"), 2, 20, key="min_size")
top[4].checkbox(t("clusters.same_county"), key="same_county")
if page.has_barriers():
    st.checkbox(t("clusters.barriers"), key="no_cross", help=t("clusters.barriers_help"))
else:
    st.session_state["no_cross"] = False
    st.caption(t("clusters.no_barriers"))
with st.expander(t("clusters.weights")):
    st.caption(t("clusters.weights_help"))
    for slot, (part, key) in zip(st.columns(len(WEIGHT_KEYS)), WEIGHT_KEYS.items()):
        slot.slider(t(f"clusters.w.{part}"), 0.0, 1.0, step=0.05, key=key)
urlstate.sync("county", "gap", "extent", "min_size", "same_county", "no_cross", *WEIGHT_KEYS.values())

weights = {part: st.session_state[key] for part, key in WEIGHT_KEYS.items()}
if not any(weights.values()):  # as on 项目生成: say what to change rather than fail
    st.warning(t("clusters.weights_zero"))
    st.stop()
view = ui.attempt(
    page.find_clusters,
    gap_m=st.session_state["gap"], same_county=st.session_state["same_county"],
    max_extent_m=st.session_state["extent"] or None, min_size=st.session_state["min_size"],
    county_code=county or None, weights=weights,
    barriers=st.session_state["no_cross"],
)
rule = page.rule_text(view, st.session_state["gap"])
suffix = page.file_suffix(view, st.session_state["gap"])

ui.metric_cards(page.cluster_kpis(view))
st.caption(rule)
ids = [0, *view.clusters["cluster_id"].astype(int).tolist()]
cluster = ui.bind_choice("cluster", 0, ids, cast=int)


def on_map_click() -> None:
    """A click on a cluster outline selects it."""
    clicked = maps.clicked(MAP_KEY, layer="clusters")
    if clicked is not None and clicked.isdigit() and int(clicked) in ids:
        st.session_state["cluster"] = int(clicked)


members = page.cluster_members(view, cluster) if cluster else None
m = maps.base_map(members if cluster else (view.compounds if county else None), max_zoom=16)
maps.add_counties(m, state.layer("counties"), selected=county or None)
maps.add_compounds(m, page.cluster_compounds(view), color_by="in_cluster", palette={"yes": "#1B4F72", "no": "#BDC3C7"},
                   labels={"yes": t("clusters.in_cluster"), "no": t("clusters.alone")}, legend_title=t("clusters.legend", rule=rule))
maps.add_clusters(
    m, view.clusters, value_label=t("clusters.col.score"), fmt=lambda v: f"{float(v):.2f}",
    fields=[("cluster_id", t("clusters.col.cluster_id")), ("n_compounds", t("clusters.col.n_compounds")),
            ("households", t("clusters.col.households"), fmt_int),
            ("score", t("clusters.col.score"), lambda v: f"{float(v):.3f}")],
)
if cluster:
    maps.add_selection(m, view.clusters[view.clusters["cluster_id"] == cluster], id_column="cluster_id")
    maps.add_selection(m, members, fields=maps.compound_fields(), color="#C0392B")
elif not county:  # the whole city: clusters counted per county until zoomed in
    maps.add_county_summary(m, state.layer("counties"), maps.county_counts(view.clusters, state.layer("counties")),
                            legend=t("clusters.summary"), themes=("clusters", "compounds"))
st.subheader(t("clusters.map"))
st.caption(t("clusters.map_hint"))
maps.render(m, key=MAP_KEY, returned_objects=["last_active_drawing"], on_change=on_map_click)
map_downloads(m, f"clusters_{suffix}", key="clusters-map", title=t("clusters.map_title", rule=rule))

if view.clusters.empty:
    st.info(t("clusters.none"))
    st.stop()

labels = page.cluster_labels(view)
st.selectbox(t("clusters.cluster"), ids, key="cluster", format_func=labels.get)
urlstate.sync("cluster")
if cluster:
    st.markdown(f"**{t('clusters.selected', id=cluster)}** · {page.cluster_gaps_text(view, cluster)}")
    ui.metric_cards(page.cluster_selected_kpis(view, cluster))
    st.markdown(f"**{t('clusters.members')}**")
    show_table(page.cluster_members_table(view, cluster), f"cluster_{cluster}_members_{suffix}", key="cluster-members")

top_n = min(15, len(view.clusters))
st.subheader(t("clusters.components", n=top_n))
fig, data = page.components_figure(view, top=top_n, selected=cluster or None)
ui.styled(fig, title=t("clusters.components_title"), unit=t("clusters.score_unit"))
show_chart(fig, data, f"clusters_components_{suffix}", key="clusters-components")

st.subheader(t("clusters.ranking"))
show_table(page.cluster_table(view), f"clusters_{suffix}", key="clusters-table")
