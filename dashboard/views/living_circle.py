"""The living-circle & siting page (生活圈与选址): the cached audit and siting runs, cards, tables, the coverage
heatmap and the maps' frames."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import living_circle, network, settings, siting
from dashboard import maps, state
from dashboard.formatting import category_label, each, facility_label, fmt_m, join_names, share_of, unit_name
from dashboard.labels import t
from dashboard.ui import Kpi
from dashboard.views._common import CACHE, of_county, rows_by_id

# --------------------------------------------------------------------------------------------- the audit
TIER_COLORS: dict[str, str] = {"5min": "#1A9850", "10min": "#A6D96A", "15min": "#FDAE61", "none": "#D73027"}


@dataclass(frozen=True)
class LivingCircle:
    """The living-circle audit of one view: every facility type for the compounds of the county (or city)."""

    access: pd.DataFrame  # analytics.living_circle.facility_access, all types
    compounds: gpd.GeoDataFrame  # compounds audited (EPSG:4548)
    metric: str  # "walk" or "straight": how access measured the distances


def graph_for(metric: str) -> network.WalkGraph | None:
    """The stored roads' walking graph for ``metric="walk"`` (cached per data version), else ``None``."""
    return state.walk_graph() if metric == "walk" else None


@st.cache_data(**CACHE)
def _living(county_code: str | None, metric: str, version: str) -> LivingCircle:
    compounds = of_county(state.layer("compounds"), county_code)
    access = living_circle.facility_access(compounds, state.layer("facilities"), metric=metric,
                                           graph=graph_for(metric))
    return LivingCircle(access, compounds, str(access.attrs["metric"]))


def living(*, county_code: str | None = None, metric: str = "straight") -> LivingCircle:
    """``analytics.living_circle.facility_access`` for all types, the county's compounds (or the city's),
    measured by ``metric`` ("walk" along the stored roads, or "straight")."""
    return _living(county_code or None, metric, state.data_version())


def metric_short(metric: str) -> str:
    """"步行" / "直线": the metric as it is named in card titles, column headers and legends."""
    return t(f"common.metric_short.{metric}")


def tier_m(tier: str) -> float:
    """The walking distance of a living-circle tier (m)."""
    return float(settings.LIVING_CIRCLE_TIERS_M[tier])


def coverage(lc: LivingCircle, tier: str) -> pd.DataFrame:
    """``coverage_by_county`` with every type required within ``tier``'s distance."""
    return living_circle.coverage_by_county(lc.access, lc.compounds, required_m=tier_m(tier))


def living_kpis(lc: LivingCircle, facility_type: str, tier: str) -> list[Kpi]:
    """Share of households with ``facility_type`` within each tier, and compounds lacking it within ``tier``."""
    cards = []
    for name in settings.LIVING_CIRCLE_TIERS_M:
        cov = coverage(lc, name)
        cov = cov[cov["facility_type"] == facility_type]
        covered, total = int(cov["households_covered"].sum()), int(cov["households"].sum())
        cards.append(Kpi(
            t("living.kpi.covered", tier=t(f"living.tier_short.{name}"), metric=metric_short(lc.metric)),
            share_of(covered, total),
            help=t("living.kpi.covered_help", covered=f"{covered:,}", total=f"{total:,}"),
        ))
    lacking = lacking_ids(lc, facility_type, tier)
    cards.append(Kpi(t("living.kpi.lacking", tier=t(f"living.tier_short.{tier}"), metric=metric_short(lc.metric)),
                     f"{len(lacking):,}"))
    return cards


def lacking_ids(lc: LivingCircle, facility_type: str, tier: str) -> list[str]:
    """Compounds without ``facility_type`` within ``tier`` (``facility_gaps``), largest households first."""
    gaps = living_circle.facility_gaps(lc.access, required_m=tier_m(tier))
    ids = gaps.loc[[facility_type in m for m in gaps["missing_types"]], "compound_id"]
    compounds = rows_by_id(lc.compounds, ids)
    return compounds.sort_values(["households", "id"], ascending=[False, True])["id"].tolist()


def lacking_by_county(lc: LivingCircle, facility_type: str, tier: str, counties: gpd.GeoDataFrame) -> pd.Series:
    """Compounds without ``facility_type`` within ``tier`` per county (every county, by code)."""
    return maps.county_counts(rows_by_id(lc.compounds, lacking_ids(lc, facility_type, tier)), counties)


def lacking_table(lc: LivingCircle, facility_type: str, tier: str) -> pd.DataFrame:
    """The compounds lacking ``facility_type`` within ``tier``: nearest one, and every type they lack there."""
    ids = lacking_ids(lc, facility_type, tier)
    gaps = living_circle.facility_gaps(lc.access, required_m=tier_m(tier)).set_index("compound_id").loc[ids]
    access = lc.access[lc.access["facility_type"] == facility_type].set_index("compound_id").loc[ids]
    compounds = rows_by_id(lc.compounds, ids)
    return pd.DataFrame({
        t("living.col.compound_id"): ids,
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): each(compounds["county_code"], unit_name),
        t("col.households"): compounds["households"].to_numpy(),
        t("living.col.nearest_m", metric=metric_short(lc.metric)): access["nearest_m"].round(1).to_numpy(),
        t("living.col.nearest_facility_id"): access["nearest_facility_id"].to_numpy(),
        t("living.col.tier"): [t(f"living.tier_short.{v}") if isinstance(v, str) else t("living.tier_short.none")
                               for v in access["tier"]],
        t("living.col.n_missing"): gaps["n_missing"].to_numpy(),
        t("living.col.missing_types"): [join_names(facility_label(v) for v in m) for m in gaps["missing_types"]],
    })


def coverage_table(lc: LivingCircle, tier: str) -> pd.DataFrame:
    """``coverage_by_county`` for ``tier`` as a labelled table (share in per cent)."""
    cov = coverage(lc, tier)
    return pd.DataFrame({
        t("col.county"): each(cov["county_code"], unit_name),
        t("living.col.facility_type"): each(cov["facility_type"], facility_label),
        t("living.col.households"): cov["households"].to_numpy(),
        t("living.col.households_covered"): cov["households_covered"].to_numpy(),
        t("living.col.share"): (cov["share"] * 100).round(1).to_numpy(),
        t("living.col.compounds"): cov["compounds"].to_numpy(),
        t("living.col.compounds_covered"): cov["compounds_covered"].to_numpy(),
    })


def coverage_figure(lc: LivingCircle, tier: str, *, highlight_type: str | None = None) -> go.Figure:
    """Heatmap of the share of households covered within ``tier``: counties × facility types (per cent)."""
    cov = coverage(lc, tier)
    counties = list(dict.fromkeys(cov["county_code"]))
    types = list(dict.fromkeys(cov["facility_type"]))
    grid = cov.pivot(index="county_code", columns="facility_type", values="share").reindex(index=counties, columns=types)
    z = (grid.to_numpy(dtype=float) * 100).round(1)
    fig = go.Figure(go.Heatmap(
        z=z, x=each(types, facility_label), y=each(counties, unit_name), zmin=0, zmax=100,
        colorscale="RdYlGn", text=[[("" if pd.isna(v) else f"{v:.0f}") for v in row] for row in z],
        texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{z:.1f}%<extra></extra>",
        colorbar={"ticksuffix": "%"},
    ))
    fig.update_yaxes(autorange="reversed")
    if highlight_type in types:
        i = types.index(highlight_type)
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=-0.5, y1=len(counties) - 0.5,
                      line={"color": maps.HIGHLIGHT, "width": 3})
    fig.update_layout(height=max(300, 40 * len(counties) + 160))
    return fig


@dataclass(frozen=True)
class LivingMap:
    """What the living-circle map draws for one facility type."""

    compounds: gpd.GeoDataFrame  # with ``tier_met`` in 5min / 10min / 15min / none
    facilities: gpd.GeoDataFrame  # facilities of the type in view


def living_map(lc: LivingCircle, facility_type: str, *, county_code: str | None) -> LivingMap:
    """Compounds coloured by the tier of their nearest ``facility_type``; the facilities of that type in view."""
    access = lc.access[lc.access["facility_type"] == facility_type].set_index("compound_id")
    tiers = access["tier"].reindex(lc.compounds["id"]).fillna("none").to_numpy()
    nearest_m = access["nearest_m"].reindex(lc.compounds["id"]).to_numpy()
    compounds = lc.compounds.assign(tier_met=tiers, nearest_m=nearest_m)
    facilities = state.layer("facilities")
    facilities = facilities[facilities["facility_type"] == facility_type]
    if county_code:
        near = set(access["nearest_facility_id"].dropna())
        facilities = facilities[(facilities["county_code"] == county_code) | facilities["id"].isin(near)]
    return LivingMap(compounds, facilities)


def straight_only_table(lc: LivingCircle, facility_type: str, tier: str) -> pd.DataFrame:
    """Compounds with ``facility_type`` within ``tier`` as the crow flies but not on foot (直线覆盖但步行不可达).

    Walking audits only (``living_circle.straight_not_walk``): the straight and walking distance to the
    nearest facility of the type, and every type the compound has within the tier only in a straight line;
    largest households first.
    """
    only = living_circle.straight_not_walk(lc.access, required_m=tier_m(tier))
    ids = only.loc[[facility_type in m for m in only["straight_only_types"]], "compound_id"]
    compounds = rows_by_id(lc.compounds, ids).sort_values(["households", "id"], ascending=[False, True])
    ids = compounds["id"].tolist()
    access = lc.access[lc.access["facility_type"] == facility_type].set_index("compound_id").loc[ids]
    only = only.set_index("compound_id").loc[ids]
    return pd.DataFrame({
        t("living.col.compound_id"): ids,
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): each(compounds["county_code"], unit_name),
        t("col.households"): compounds["households"].to_numpy(),
        t("living.col.straight_m"): access["straight_m"].round(1).to_numpy(),
        t("living.col.walk_m"): access["nearest_m"].round(1).to_numpy(),
        t("living.col.straight_only_types"): [join_names(facility_label(v) for v in m)
                                              for m in only["straight_only_types"]],
    })


ISOCHRONE_COLORS: dict[str, str] = {"5min": "#1A9850", "10min": "#FEE08B", "15min": "#F46D43"}


@dataclass(frozen=True)
class Isochrones:
    """A compound's walking areas and the facilities reached within each tier."""

    areas: gpd.GeoDataFrame  # network.isochrones: tier, distance_m, reached_m, geometry (largest first)
    facilities: gpd.GeoDataFrame  # facilities within the largest tier, with ``walk_m`` and ``tier``
    streets: gpd.GeoDataFrame  # street pieces and barriers around the largest area, ``kind`` street / barrier


@st.cache_data(**CACHE)
def _isochrones(compound_id: str, version: str) -> Isochrones:
    graph = state.walk_graph()
    if graph is None:
        raise ValueError("isochrones need a road network")
    compounds = state.layer("compounds")
    origin = compounds[compounds["id"] == compound_id]
    areas = network.isochrones(graph, origin)
    facilities = state.layer("facilities")
    top = float(max(settings.LIVING_CIRCLE_TIERS_M.values()))
    pairs = network.walk_pairs(graph, origin, facilities, max_m=top)
    reached = facilities.set_index("id").loc[pairs["destination_id"]].reset_index()
    reached["walk_m"] = pairs["distance_m"].to_numpy()
    reached["tier"] = living_circle.tier_of(reached["walk_m"].to_numpy(), settings.LIVING_CIRCLE_TIERS_M)
    around = areas.geometry.iloc[-1].envelope.buffer(100)
    edges = graph.edge_lines[graph.edge_tree.query(around, predicate="intersects")]
    water = state.layer("barriers")
    water = water.geometry.values[water.intersects(around).to_numpy()] if len(water) else []
    streets = gpd.GeoDataFrame(
        {"id": [f"s{k}" for k in range(len(edges))] + [f"b{k}" for k in range(len(water))],
         "kind": ["street"] * len(edges) + ["barrier"] * len(water)},
        geometry=[*edges, *water], crs=areas.crs)
    return Isochrones(areas.iloc[::-1].reset_index(drop=True), reached, streets)


def isochrones(compound_id: str) -> Isochrones:
    """``analytics.network.isochrones`` of one compound (5 / 10 / 15 minutes) and the facilities reached on foot."""
    return _isochrones(compound_id, state.data_version())


def compound_labels(lc: LivingCircle) -> dict[str, str]:
    """``{id: "id · name"}`` of the audited compounds, ``""`` → "(none)", for the isochrone selector."""
    labels = {"": t("living.iso.none")}
    labels.update({i: f"{i} · {n}" for i, n in zip(lc.compounds["id"], lc.compounds["name"])})
    return labels


def with_reached(facilities: gpd.GeoDataFrame, iso: Isochrones) -> gpd.GeoDataFrame:
    """The map's facilities of the type with every facility reached on foot from the isochrones' compound."""
    extra = iso.facilities[~iso.facilities["id"].isin(facilities["id"])][facilities.columns]
    return pd.concat([facilities, extra], ignore_index=True) if len(extra) else facilities


def add_isochrones(m: maps.OfflineMap, iso: Isochrones) -> None:
    """The walking areas, largest first (smaller ones drawn on top), the streets and barriers around them, and a
    legend naming the metric."""
    for row in iso.areas.itertuples():
        area = gpd.GeoDataFrame({"id": [row.tier], "distance_m": [row.distance_m]}, geometry=[row.geometry],
                                crs=iso.areas.crs)
        maps.add_layer(m, area, layer="isochrones", name=t("living.iso.layer", tier=t(f"living.tier_short.{row.tier}")),
                       fields=[("distance_m", t("living.col.walk_m"), fmt_m)],
                       style=maps.Style(color=ISOCHRONE_COLORS[row.tier], weight=1, fill_opacity=0.3),
                       interactive=False)
    for kind, color, weight in (("street", "#7F8C8D", 1.5), ("barrier", "#2E86C1", 4.0)):
        lines = iso.streets[iso.streets["kind"] == kind]
        if len(lines):
            maps.add_layer(m, lines, layer=f"iso_{kind}", name=t(f"living.iso.{kind}"),
                           style=maps.Style(color=color, weight=weight, fill_opacity=0), simplify_m=0,
                           interactive=False)
    maps.add_legend(m, t("living.iso.legend"), [(ISOCHRONE_COLORS[n], t(f"living.tier.{n}"))
                                                 for n in settings.LIVING_CIRCLE_TIERS_M], position="bottomleft",
                    fill_opacity=0.3)


def isochrone_table(iso: Isochrones) -> pd.DataFrame:
    """The facilities reached from the compound on foot, nearest first, with their tier."""
    f = iso.facilities
    return pd.DataFrame({
        t("living.col.facility_id"): f["id"].to_numpy(),
        t("col.name"): f["name"].to_numpy(),
        t("living.col.facility_type"): each(f["facility_type"], facility_label),
        t("living.col.walk_m"): f["walk_m"].round(1).to_numpy(),
        t("living.col.tier"): [t(f"living.tier_short.{v}") for v in f["tier"]],
    })


def isochrone_kpis(iso: Isochrones) -> list[Kpi]:
    """Per tier: facility types reached on foot (of all types) and metres of street within it."""
    cards = []
    for name, limit in settings.LIVING_CIRCLE_TIERS_M.items():
        types = iso.facilities.loc[iso.facilities["walk_m"] <= limit, "facility_type"].nunique()
        street = float(iso.areas.set_index("tier").loc[name, "reached_m"])
        cards.append(Kpi(t("living.iso.kpi", tier=t(f"living.tier_short.{name}")),
                         f"{types} / {len(settings.FACILITY_TYPES)}",
                         help=t("living.iso.kpi_help", km=f"{street / 1000:,.1f}")))
    return cards


# ------------------------------------------------------------------------------------------------ siting
@st.cache_data(**CACHE)
def _siting(
    facility_type: str, k: int, service_distance_m: float, min_area_m2: float, county_code: str | None,
    time_limit_s: float, metric: str, version: str,
) -> siting.SitingResult:
    compounds = of_county(state.layer("compounds"), county_code)
    return siting.site_facilities(
        compounds, state.layer("parcels"), state.layer("facilities"), facility_type=facility_type, k=k,
        service_distance_m=service_distance_m, min_area_m2=min_area_m2, time_limit_s=time_limit_s,
        metric=metric, graph=graph_for(metric),
    )


def site(
    *, facility_type: str, k: int, service_distance_m: float, min_area_m2: float, county_code: str | None,
    time_limit_s: float = 10, metric: str = "straight",
) -> siting.SitingResult:
    """``analytics.siting.site_facilities`` for the county's compounds (or the city's), by ``metric``, cached."""
    return _siting(facility_type, int(k), float(service_distance_m), float(min_area_m2), county_code or None,
                   float(time_limit_s), metric, state.data_version())


def siting_kpis(result: siting.SitingResult) -> list[Kpi]:
    """Cards: households covered before and after, the gain, and how the solver ended."""
    total = result.households_total

    def share(n: int) -> str:
        return t("living.kpi.share", total=f"{total:,}", share=share_of(n, total))

    gain = result.households_covered_after - result.households_covered_before
    if result.time_limit_hit:
        status = t("living.solver.time_limit")
    else:
        status = t("living.solver.optimal") if result.optimal else t("living.solver.not_optimal")
    metric = metric_short(result.metric)
    return [
        Kpi(t("living.kpi.before", metric=metric), f"{result.households_covered_before:,}",
            help=share(result.households_covered_before)),
        Kpi(t("living.kpi.after", metric=metric), f"{result.households_covered_after:,}",
            help=share(result.households_covered_after)),
        Kpi(t("living.kpi.gain", metric=metric), f"{gain:,}", help=share(gain)),
        Kpi(t("living.kpi.solver"), status, help=t(
            "living.solver.help", seconds=result.solve_seconds, candidates=f"{result.n_candidates:,}",
            demand=f"{result.n_demand:,}", greedy=f"{result.greedy_households_after:,}",
        )),
    ]


def numbered_sites(chosen: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The chosen parcels numbered 1, 2, … by households gained (most first; ties by parcel id): ``site_no``."""
    ordered = chosen.sort_values(["households_gained", "parcel_id"], ascending=[False, True])
    return ordered.assign(site_no=range(1, len(ordered) + 1))


def sites_list(numbered: gpd.GeoDataFrame) -> pd.DataFrame:
    """The short list beside the siting map: number, parcel, county and households gained."""
    return pd.DataFrame({
        t("living.col.site_no"): numbered["site_no"].to_numpy(),
        t("living.col.parcel_id"): numbered["parcel_id"].to_numpy(),
        t("col.county"): each(numbered["county_code"], unit_name),
        t("living.col.households_gained"): numbered["households_gained"].to_numpy(),
    })


def sites_table(chosen: gpd.GeoDataFrame) -> pd.DataFrame:
    """Chosen (or greedy) parcels with what each brings (numbered first when ``site_no`` is there)."""
    number = {t("living.col.site_no"): chosen["site_no"].to_numpy()} if "site_no" in chosen.columns else {}
    return pd.DataFrame({
        **number,
        t("living.col.parcel_id"): chosen["parcel_id"].to_numpy(),
        t("idle.col.parcel_type"): each(chosen["parcel_type"], lambda v: category_label("parcel_type", v)),
        t("idle.col.area_m2"): chosen["area_m2"].round(0).to_numpy(),
        t("idle.col.ownership"): each(chosen["ownership"], lambda v: category_label("ownership", v)),
        t("col.county"): each(chosen["county_code"], unit_name),
        t("living.col.households_gained"): chosen["households_gained"].to_numpy(),
        t("living.col.compounds_gained"): chosen["compounds_gained"].to_numpy(),
    })


def gaining_table(result: siting.SitingResult, compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """Compounds newly covered by the chosen parcels, with the parcel that serves them."""
    gaining = result.gaining.sort_values(["households", "compound_id"], ascending=[False, True])
    rows = rows_by_id(compounds, gaining["compound_id"])
    return pd.DataFrame({
        t("living.col.compound_id"): gaining["compound_id"].to_numpy(),
        t("col.name"): rows["name"].to_numpy(),
        t("col.county"): each(rows["county_code"], unit_name),
        t("col.households"): gaining["households"].to_numpy(),
        t("living.col.parcel_id"): gaining["parcel_id"].to_numpy(),
        t("living.col.distance_m", metric=metric_short(result.metric)): gaining["distance_m"].round(1).to_numpy(),
    })


def siting_compounds(result: siting.SitingResult, lc: LivingCircle) -> gpd.GeoDataFrame:
    """The audited compounds with ``coverage`` = covered (existing facility within the service distance),
    gaining (covered by a chosen parcel) or uncovered."""
    access = lc.access[lc.access["facility_type"] == result.facility_type].set_index("compound_id")
    near = access["nearest_m"].reindex(lc.compounds["id"]).to_numpy(dtype=float) <= result.service_distance_m
    gaining = lc.compounds["id"].isin(result.gaining["compound_id"]).to_numpy()
    status = pd.Series("uncovered", index=lc.compounds.index).mask(gaining, "gaining").mask(near, "covered")
    return lc.compounds.assign(coverage=status.to_numpy())


