"""The renewal-clusters page (成片改造): the cached cluster search, cards, tables, labels, the components chart."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import clusters
from dashboard import state
from dashboard.formatting import (
    category_label,
    each,
    facility_label,
    join_names,
    share_of,
    status_name,
    unit_name,
)
from dashboard.labels import t
from dashboard.maps import HIGHLIGHT
from dashboard.ui import Kpi
from dashboard.views._common import CACHE, of_county, rows_by_id

CLUSTER_COMPONENTS = ("households", "idle_land", "gaps", "willingness")


COMPONENT_COLORS = {"households": "#1f4e79", "idle_land": "#d9822b", "gaps": "#c0392b", "willingness": "#2e8b57"}


@dataclass(frozen=True)
class Clusters:
    """Result of the clusters view: ``find_clusters`` output and the compounds it was run on."""

    clusters: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    weights: dict[str, float]
    barriers: bool  # members joined only where the line between them crosses no stored barrier


@st.cache_data(**CACHE)
def _clusters(
    gap_m: float, same_county: bool, max_extent_m: float | None, min_size: int, county_code: str | None,
    weights: tuple[tuple[str, float], ...], barriers: bool, version: str,
) -> Clusters:
    compounds = of_county(state.layer("compounds"), county_code)
    stored = state.layer("barriers") if barriers else None
    found = clusters.find_clusters(
        compounds, gap_m=gap_m, same_county=same_county, max_extent_m=max_extent_m, min_size=min_size,
        parcels=state.layer("parcels"), facilities=state.layer("facilities"), weights=dict(weights),
        barriers=stored if stored is not None and len(stored) else None,
    )
    return Clusters(found, compounds, dict(weights), barriers)


def find_clusters(
    *, gap_m: float, same_county: bool, max_extent_m: float | None, min_size: int, county_code: str | None,
    weights: dict[str, float], barriers: bool = False,
) -> Clusters:
    """``analytics.clusters.find_clusters`` on the county's compounds (or the city's) with parcels and facilities;
    with ``barriers`` the stored rivers, railways and expressways keep compounds on either side apart."""
    return _clusters(float(gap_m), bool(same_county), float(max_extent_m) if max_extent_m else None, int(min_size),
                     county_code or None, tuple((k, float(weights[k])) for k in CLUSTER_COMPONENTS), bool(barriers),
                     state.data_version())


def has_barriers() -> bool:
    """Whether any barrier (river, railway, expressway) is stored."""
    return len(state.layer("barriers")) > 0


def rule_text(view: Clusters, gap_m: float) -> str:
    """How members were joined: the straight gap, and whether no barrier may lie between them."""
    rule = t("clusters.rule", gap=f"{gap_m:g}")
    return f"{rule}；{t('clusters.rule.barriers')}" if view.barriers else rule


def file_suffix(view: Clusters, gap_m: float) -> str:
    """``gap150m`` or ``gap150m_nobarrier``: the rule in the downloads' file names."""
    return f"gap{gap_m:g}m" + ("_nobarrier" if view.barriers else "")


def _counties_text(codes: list[str]) -> str:
    return join_names(unit_name(c) for c in codes)


def _types_text(types: list[str]) -> str:
    return join_names(facility_label(v) for v in types)


def cluster_kpis(view: Clusters) -> list[Kpi]:
    """Cards: clusters, compounds and households in them, the largest cluster."""
    found, n = view.clusters, len(view.compounds)
    in_clusters = int(found["n_compounds"].sum()) if len(found) else 0
    return [
        Kpi(t("clusters.kpi.clusters"), f"{len(found):,}"),
        Kpi(t("clusters.kpi.compounds"), f"{in_clusters:,}",
            help=t("clusters.kpi.compounds_help", n=f"{n:,}", share=share_of(in_clusters, n))),
        Kpi(t("clusters.kpi.households"), f"{int(found['households'].sum()) if len(found) else 0:,}"),
        Kpi(t("clusters.kpi.largest"), f"{int(found['n_compounds'].max()) if len(found) else 0:,}"),
    ]


def cluster_table(view: Clusters) -> pd.DataFrame:
    """The clusters, best score first, with their figures and score components."""
    found = view.clusters
    years = [f"{int(a)}–{int(b)}" if a != b else f"{int(a)}" for a, b in zip(found["built_year_min"], found["built_year_max"])]
    out = {
        t("clusters.col.cluster_id"): found["cluster_id"].to_numpy(),
        t("clusters.col.county"): [_counties_text(c) for c in found["county_codes"]],
        t("clusters.col.n_compounds"): found["n_compounds"].to_numpy(),
        t("clusters.col.households"): found["households"].to_numpy(),
        t("clusters.col.floor_area_m2"): found["floor_area_m2"].round(0).to_numpy(),
        t("clusters.col.built_years"): years,
        t("clusters.col.tiers"): [join_names(category_label("tier", v) for v in tiers) for tiers in found["tiers"]],
        t("clusters.col.idle_area_m2"): found["idle_area_m2"].astype(float).round(0).to_numpy(),
        t("clusters.col.shared_gaps"): [_types_text(g) for g in found["shared_gaps"]],
        t("clusters.col.willingness_pct"): found["willingness_pct"].astype(float).round(1).to_numpy(),
        t("clusters.col.extent_m"): found["extent_m"].astype(float).round(0).to_numpy(),
    }
    for column in ("score", "score_households", "score_idle_land", "score_gaps", "score_willingness"):
        out[t(f"clusters.col.{column}")] = found[column].astype(float).round(3).to_numpy()
    return pd.DataFrame(out)


def cluster_labels(view: Clusters) -> dict[int, str]:
    """``{cluster_id: "第 1 名 · 8 个小区 · 1,760 户 · 兖州区"}`` for the selector; 0 → "(none)"."""
    labels = {0: t("clusters.cluster_none")}
    for row in view.clusters.itertuples():
        labels[int(row.cluster_id)] = t("clusters.cluster_option", id=int(row.cluster_id), n=int(row.n_compounds),
                                        households=f"{int(row.households):,}", county=_counties_text(row.county_codes))
    return labels


def _cluster(view: Clusters, cluster_id: int) -> pd.Series:
    return view.clusters.set_index("cluster_id").loc[cluster_id]


def cluster_selected_kpis(view: Clusters, cluster_id: int) -> list[Kpi]:
    """Cards for one cluster."""
    row = _cluster(view, cluster_id)
    return [
        Kpi(t("clusters.sel.compounds"), f"{int(row['n_compounds']):,}"),
        Kpi(t("clusters.sel.households"), f"{int(row['households']):,}"),
        Kpi(t("clusters.sel.floor_area"), f"{row['floor_area_m2'] / 1e4:,.2f}"),
        Kpi(t("clusters.sel.idle_area"), f"{row['idle_area_m2']:,.0f}"),
        Kpi(t("clusters.sel.willingness"), f"{row['willingness_pct']:.1f}%"),
        Kpi(t("clusters.sel.score"), f"{row['score']:.3f}"),
    ]


def cluster_gaps_text(view: Clusters, cluster_id: int) -> str:
    """One sentence naming the facility types the cluster's compounds lack together."""
    gaps = _cluster(view, cluster_id)["shared_gaps"]
    return t("clusters.sel.gaps", gaps=_types_text(gaps)) if len(gaps) else t("clusters.sel.no_gaps")


def cluster_members(view: Clusters, cluster_id: int) -> gpd.GeoDataFrame:
    """The member compounds of a cluster (EPSG:4548)."""
    return rows_by_id(view.compounds, _cluster(view, cluster_id)["member_ids"]).set_crs(view.compounds.crs)


def cluster_members_table(view: Clusters, cluster_id: int) -> pd.DataFrame:
    """A cluster's compounds with the figures that went into its score."""
    members = cluster_members(view, cluster_id)
    return pd.DataFrame({
        t("col.id"): members["id"].to_numpy(),
        t("col.name"): members["name"].to_numpy(),
        t("col.county"): each(members["county_code"], unit_name),
        t("col.households"): members["households"].to_numpy(),
        t("col.floor_area_m2"): members["floor_area_m2"].round(0).to_numpy(),
        t("col.built_year"): members["built_year"].to_numpy(),
        t("col.plan_year"): members["plan_year"].to_numpy(),
        t("col.status"): each(members["status"], status_name),
        t("col.tier"): each(members["tier"], lambda v: category_label("tier", v)),
        t("clusters.col.willingness"): members["willingness_pct"].round(1).to_numpy(),
    })


def components_figure(view: Clusters, *, top: int = 15, selected: int | None = None) -> tuple[go.Figure, pd.DataFrame]:
    """Stacked horizontal bars of each cluster's weighted score parts (the bars add up to its score)."""
    total = sum(view.weights.values())
    head = view.clusters.head(top).iloc[::-1]
    names = [t("clusters.cluster_option", id=int(r.cluster_id), n=int(r.n_compounds),
               households=f"{int(r.households):,}", county=_counties_text(r.county_codes)) for r in head.itertuples()]
    fig = go.Figure()
    data = {t("clusters.col.cluster_id"): head["cluster_id"].to_numpy()[::-1]}
    for part in CLUSTER_COMPONENTS:
        weighted = head[f"score_{part}"].astype(float).fillna(0.0).to_numpy() * view.weights[part] / total
        fig.add_bar(y=names, x=weighted, orientation="h", name=t(f"clusters.w.{part}"),
                    marker_color=COMPONENT_COLORS[part], hovertemplate="%{y}: %{x:.3f}<extra></extra>")
        data[t(f"clusters.w.{part}")] = weighted.round(4)[::-1]
    data[t("clusters.col.score")] = head["score"].astype(float).round(4).to_numpy()[::-1]
    fig.update_layout(barmode="stack", height=max(320, 30 * len(head) + 160))
    if selected in set(head["cluster_id"]):
        label = names[list(head["cluster_id"]).index(selected)]
        fig.update_yaxes(tickfont={"color": "#1a1a1a"})
        fig.add_annotation(x=0, y=label, text="▶", showarrow=False, xanchor="right", xshift=-4,
                           font={"color": HIGHLIGHT, "size": 14})
    return fig, pd.DataFrame(data)


def cluster_compounds(view: Clusters) -> gpd.GeoDataFrame:
    """The compounds in view with ``in_cluster`` = "yes" / "no"."""
    members = {m for ids in view.clusters["member_ids"] for m in ids} if len(view.clusters) else set()
    return view.compounds.assign(in_cluster=view.compounds["id"].isin(members).map({True: "yes", False: "no"}))


