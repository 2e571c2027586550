"""The idle-land page (闲置用地): the cached pair search and summaries, cards, tables, the map's frames."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from analytics import idle_land
from dashboard import maps, state
from dashboard.formatting import category_label, each, unit_name
from dashboard.labels import t
from dashboard.ui import Kpi
from dashboard.views._common import CACHE, of_county, rows_by_id


@dataclass(frozen=True)
class IdleLand:
    """Result of the idle-land view: the pairs and both summaries, for the filtered parcels."""

    pairs: pd.DataFrame  # compound_id, parcel_id, distance_m
    reach: pd.DataFrame  # per parcel: parcel_id, n_compounds, households_within, compound_ids, nearest_m
    compound_area: pd.DataFrame  # per compound: compound_id, n_parcels, idle_area_m2, nearest_m
    parcels: gpd.GeoDataFrame  # the parcels passing the filters (EPSG:4548)
    compounds: gpd.GeoDataFrame  # the compounds considered (EPSG:4548)
    metric: str  # "walk" or "straight": how the pairs' distances were measured


@st.cache_data(**CACHE)
def _idle(
    max_distance_m: float, parcel_types: tuple[str, ...] | None, min_area_m2: float | None,
    ownership: tuple[str, ...] | None, county_code: str | None, metric: str, version: str,
) -> IdleLand:
    compounds = state.layer("compounds")
    parcels = state.layer("parcels")
    pairs = idle_land.parcels_within(
        compounds, parcels, max_distance_m=max_distance_m, parcel_types=parcel_types, min_area_m2=min_area_m2,
        ownership=ownership, county_code=county_code, metric=metric,
        graph=state.walk_graph() if metric == "walk" else None,
    )
    chosen = idle_land.filter_parcels(parcels, parcel_types=parcel_types, min_area_m2=min_area_m2, ownership=ownership)
    reach = idle_land.parcel_reach(pairs, compounds, chosen)
    area = idle_land.compound_idle_area(pairs, chosen)
    return IdleLand(pairs, reach, area, chosen, of_county(compounds, county_code), str(pairs.attrs["metric"]))


def idle(
    *,
    max_distance_m: float,
    parcel_types: list[str] | None = None,
    min_area_m2: float | None = None,
    ownership: list[str] | None = None,
    county_code: str | None = None,
    metric: str = "straight",
) -> IdleLand:
    """``analytics.idle_land.parcels_within`` and its summaries for the page's filters, by ``metric`` (cached)."""
    return _idle(
        float(max_distance_m), tuple(parcel_types) if parcel_types else None,
        float(min_area_m2) if min_area_m2 else None, tuple(ownership) if ownership else None,
        county_code or None, metric, state.data_version(),
    )


def default_metric() -> str:
    """``"walk"`` when a road network is stored, else ``"straight"`` (what the idle-land page opens with)."""
    return "walk" if state.walk_graph() is not None else "straight"


def metric_short(result: IdleLand) -> str:
    """"步行" / "直线": how the result measured, as card titles, columns and the legend name it."""
    return t(f"common.metric_short.{result.metric}")


def reachable(result: IdleLand) -> pd.DataFrame:
    """The per-parcel summary of the parcels with at least one compound within reach, best first."""
    return result.reach[result.reach["n_compounds"] > 0]


def idle_kpis(result: IdleLand) -> list[Kpi]:
    """Cards: parcels within reach, their area, compounds with land nearby and their households."""
    reach = reachable(result)
    area = rows_by_id(result.parcels, reach["parcel_id"])["area_m2"].sum() if len(reach) else 0.0
    served = result.compounds[result.compounds["id"].isin(result.compound_area["compound_id"])]
    return [
        Kpi(t("idle.kpi.parcels", metric=metric_short(result)), f"{len(reach):,}",
            help=t("idle.kpi.parcels_help", n=f"{len(result.parcels):,}")),
        Kpi(t("idle.kpi.area"), f"{area / 1e4:,.2f}"),
        Kpi(t("idle.kpi.compounds", metric=metric_short(result)), f"{len(served):,}",
            help=t("idle.kpi.compounds_help", n=f"{len(result.compounds):,}")),
        Kpi(t("idle.kpi.households"), f"{int(served['households'].sum()):,}"),
    ]


def idle_parcel_table(result: IdleLand) -> pd.DataFrame:
    """Parcels within reach ranked by households within reach (ties share a rank), with their attributes."""
    reach = reachable(result)
    parcels = rows_by_id(result.parcels, reach["parcel_id"])
    return pd.DataFrame({
        t("idle.col.rank"): reach["households_within"].rank(method="min", ascending=False).astype("int64").to_numpy(),
        t("idle.col.parcel_id"): reach["parcel_id"].to_numpy(),
        t("idle.col.parcel_type"): each(parcels["parcel_type"], lambda v: category_label("parcel_type", v)),
        t("idle.col.area_m2"): parcels["area_m2"].round(0).to_numpy(),
        t("idle.col.ownership"): each(parcels["ownership"], lambda v: category_label("ownership", v)),
        t("idle.col.land_use"): each(parcels["land_use"], lambda v: category_label("land_use", v)),
        t("col.county"): each(parcels["county_code"], unit_name),
        t("idle.col.n_compounds"): reach["n_compounds"].to_numpy(),
        t("idle.col.households_within"): reach["households_within"].to_numpy(),
        t("idle.col.nearest_m", metric=metric_short(result)): reach["nearest_m"].round(1).to_numpy(),
    })


def idle_parcel_labels(result: IdleLand) -> dict[str, str]:
    """``{parcel_id: "P-… · 闲置用地 · 1,234 m² · 850 户"}`` for the parcel selector, ``""`` → "(none)"."""
    reach = reachable(result)
    parcels = rows_by_id(result.parcels, reach["parcel_id"])
    labels = {"": t("idle.parcel_none")}
    template = t("idle.parcel_option")  # formatted below: one label lookup, not one per parcel
    kinds = each(parcels["parcel_type"], lambda v: category_label("parcel_type", v))
    for pid, kind, area, households in zip(reach["parcel_id"], kinds, parcels["area_m2"], reach["households_within"]):
        labels[pid] = template.format(id=pid, type=kind, area=f"{area:,.0f}", households=f"{int(households):,}")
    return labels


def idle_selected_kpis(result: IdleLand, parcel_id: str) -> list[Kpi]:
    """Cards for one parcel: type, area, compounds and households within reach."""
    row = result.reach.set_index("parcel_id").loc[parcel_id]
    parcel = result.parcels.set_index("id").loc[parcel_id]
    return [
        Kpi(t("idle.selected_kpi.type"), category_label("parcel_type", parcel["parcel_type"])),
        Kpi(t("idle.selected_kpi.area"), f"{parcel['area_m2']:,.0f}"),
        Kpi(t("idle.selected_kpi.compounds"), f"{int(row['n_compounds']):,}"),
        Kpi(t("idle.selected_kpi.households"), f"{int(row['households_within']):,}"),
    ]


def idle_served_table(result: IdleLand, parcel_id: str) -> pd.DataFrame:
    """The compounds ``parcel_id`` could serve, nearest first, with their distance."""
    pairs = result.pairs[result.pairs["parcel_id"] == parcel_id].sort_values(["distance_m", "compound_id"])
    compounds = rows_by_id(result.compounds, pairs["compound_id"])
    return pd.DataFrame({
        t("idle.col.compound_id"): pairs["compound_id"].to_numpy(),
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): each(compounds["county_code"], unit_name),
        t("col.households"): compounds["households"].to_numpy(),
        t("col.built_year"): compounds["built_year"].to_numpy(),
        t("idle.col.distance_m", metric=metric_short(result)): pairs["distance_m"].round(1).to_numpy(),
    })


def idle_compound_table(result: IdleLand) -> pd.DataFrame:
    """Per compound with land nearby: parcels, area and nearest distance, most area first."""
    area = result.compound_area.sort_values(["idle_area_m2", "compound_id"], ascending=[False, True])
    compounds = rows_by_id(result.compounds, area["compound_id"])
    return pd.DataFrame({
        t("idle.col.compound_id"): area["compound_id"].to_numpy(),
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): each(compounds["county_code"], unit_name),
        t("col.households"): compounds["households"].to_numpy(),
        t("idle.col.n_parcels"): area["n_parcels"].to_numpy(),
        t("idle.col.idle_area_m2"): area["idle_area_m2"].round(0).to_numpy(),
        t("idle.col.nearest_m", metric=metric_short(result)): area["nearest_m"].round(1).to_numpy(),
    })


@dataclass(frozen=True)
class IdleMap:
    """What the idle-land map draws."""

    compounds: gpd.GeoDataFrame  # with ``reach`` = "yes" / "no"
    parcels: gpd.GeoDataFrame  # parcels shown (in the county, or within reach of its compounds)
    reachable_ids: list[str]
    selected_parcel: gpd.GeoDataFrame
    selected_compounds: gpd.GeoDataFrame


def idle_map(result: IdleLand, *, county_code: str | None, parcel_id: str | None) -> IdleMap:
    """The frames of the idle-land map for the current view."""
    reach_ids = reachable(result)["parcel_id"].tolist()
    compounds = result.compounds.assign(
        reach=result.compounds["id"].isin(result.compound_area["compound_id"]).map({True: "yes", False: "no"})
    )
    parcels = result.parcels
    if county_code:
        parcels = parcels[(parcels["county_code"] == county_code) | parcels["id"].isin(reach_ids)]
    selected = parcels[parcels["id"] == parcel_id] if parcel_id else parcels.iloc[0:0]
    served = result.pairs.loc[result.pairs["parcel_id"] == parcel_id, "compound_id"] if parcel_id else []
    return IdleMap(compounds, parcels, reach_ids, selected, compounds[compounds["id"].isin(list(served))])


def reachable_by_county(view: IdleMap, counties: gpd.GeoDataFrame) -> pd.Series:
    """Parcels within reach per county (every county, by code)."""
    return maps.county_counts(view.parcels[view.parcels["id"].isin(view.reachable_ids)], counties)


def idle_focus(view: IdleMap, *, county_code: str | None) -> gpd.GeoSeries | None:
    """What the map opens on: the selected parcel with the compounds it serves, else the county, else the city."""
    if len(view.selected_parcel):
        both = pd.concat([view.selected_parcel.geometry, view.selected_compounds.geometry])
        return gpd.GeoSeries(both, crs=view.selected_parcel.crs)
    return view.compounds.geometry if county_code else None


