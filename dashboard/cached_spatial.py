"""Cached calls into the spatial analyses (idle land, living circle, siting, clusters) and the frames pages show.

Each public function takes a page's inputs, adds :func:`dashboard.state.data_version` to the cache key and
calls the pure function in ``analytics`` once; reruns with the same view are cache hits and any write to
the database makes them recompute. The ``*_table`` helpers turn analysis results into the labelled tables
a page displays (joins with the layers' attributes, names in the user's language): display work only, no
analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import clusters, idle_land, living_circle, progress, settings, siting
from dashboard import state
from dashboard.labels import current_lang, t
from dashboard.maps import HIGHLIGHT, category_label, county_label, facility_label, fmt_int, fmt_pct

CACHE = {"show_spinner": False, "max_entries": 32}


def _each(values, label) -> list[str]:
    """``label(v)`` for every value, computing each distinct value's label once."""
    done: dict = {}
    return [done[v] if v in done else done.setdefault(v, label(v)) for v in values]


def _county(frame: gpd.GeoDataFrame, county_code: str | None) -> gpd.GeoDataFrame:
    return frame if not county_code else frame[frame["county_code"] == county_code]


# ------------------------------------------------------------------------------------------- compounds
@st.cache_data(**CACHE)
def _plan_compounds(as_of: date, plan_year: int, version: int) -> gpd.GeoDataFrame:
    compounds = state.layer("compounds")
    status = progress.compound_status(state.cursor(), as_of=as_of, plan_year=plan_year)
    plan = compounds[compounds["plan_year"] == plan_year].drop(columns=["status", "invest_done_wan"])
    plan = plan.merge(status[["compound_id", "status", "invest_done_wan"]].rename(columns={"compound_id": "id"}),
                      on="id", how="left")
    plan["unit_code"] = plan["zone_code"].where(plan["zone_code"].notna(), plan["county_code"])
    return plan


def plan_compounds(*, as_of: date, plan_year: int) -> gpd.GeoDataFrame:
    """The plan year's compounds (EPSG:4548) with their status and investment done at ``as_of``.

    Status from ``analytics.progress.compound_status``: the latest weekly report on or before ``as_of``;
    never reported means 未开工. ``unit_code`` is the reporting unit (function zone where the compound has one, else county).
    """
    return _plan_compounds(as_of, plan_year, state.data_version())


def compounds_of_unit(compounds: gpd.GeoDataFrame, unit_code: str | None) -> gpd.GeoDataFrame:
    """The compounds reported under ``unit_code`` (all when ``None`` or empty)."""
    return compounds if not unit_code else compounds[compounds["unit_code"] == unit_code]


def unit_compounds_table(compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plan compounds of a unit as a labelled table (status at the as-of date)."""
    frame = compounds.sort_values(["status", "id"], key=lambda s: s.map(_status_order) if s.name == "status" else s)
    return pd.DataFrame({
        t("col.id"): frame["id"].to_numpy(),
        t("col.name"): frame["name"].to_numpy(),
        t("col.county"): _each(frame["unit_code"], county_label),
        t("col.households"): frame["households"].to_numpy(),
        t("col.floor_area_m2"): frame["floor_area_m2"].round(0).to_numpy(),
        t("col.status"): _each(frame["status"], lambda v: category_label("status", v)),
        t("overview.col.planned_completion"): frame["planned_completion_date"].to_numpy(),
        t("overview.col.invest_done_wan"): frame["invest_done_wan"].round(2).to_numpy(),
    })


def _status_order(status: str) -> int:
    return -settings.STATUSES.index(status) if status in settings.STATUSES else 1


# ------------------------------------------------------------------------------------------- idle land
@dataclass(frozen=True)
class IdleLand:
    """Result of the idle-land view: the pairs and both summaries, for the filtered parcels."""

    pairs: pd.DataFrame  # compound_id, parcel_id, distance_m
    reach: pd.DataFrame  # per parcel: parcel_id, n_compounds, households_within, compound_ids, nearest_m
    compound_area: pd.DataFrame  # per compound: compound_id, n_parcels, idle_area_m2, nearest_m
    parcels: gpd.GeoDataFrame  # the parcels passing the filters (EPSG:4548)
    compounds: gpd.GeoDataFrame  # the compounds considered (EPSG:4548)


@st.cache_data(**CACHE)
def _idle(
    max_distance_m: float, parcel_types: tuple[str, ...] | None, min_area_m2: float | None,
    ownership: tuple[str, ...] | None, county_code: str | None, version: int,
) -> IdleLand:
    compounds = state.layer("compounds")
    parcels = state.layer("parcels")
    pairs = idle_land.parcels_within(
        compounds, parcels, max_distance_m=max_distance_m, parcel_types=parcel_types, min_area_m2=min_area_m2,
        ownership=ownership, county_code=county_code,
    )
    chosen = idle_land.filter_parcels(parcels, parcel_types=parcel_types, min_area_m2=min_area_m2, ownership=ownership)
    reach = idle_land.parcel_reach(pairs, compounds, chosen)
    area = idle_land.compound_idle_area(pairs, chosen)
    return IdleLand(pairs, reach, area, chosen, _county(compounds, county_code))


def idle(
    *,
    max_distance_m: float,
    parcel_types: list[str] | None = None,
    min_area_m2: float | None = None,
    ownership: list[str] | None = None,
    county_code: str | None = None,
) -> IdleLand:
    """``analytics.idle_land.parcels_within`` and its summaries for the page's filters (cached)."""
    return _idle(
        float(max_distance_m), tuple(parcel_types) if parcel_types else None,
        float(min_area_m2) if min_area_m2 else None, tuple(ownership) if ownership else None,
        county_code or None, state.data_version(),
    )


# -------------------------------------------------------------------------------------------- overview
OVERVIEW_INDICATORS: dict[str, str] = {
    # column of analytics.progress.county_progress -> "rate" (fraction 0–1) or "count"
    "completion_rate": "rate",
    "start_rate_compounds": "rate",
    "start_rate_households": "rate",
    "invest_rate": "rate",
    "planned_compounds": "count",
    "planned_households": "count",
    "started": "count",
    "completed": "count",
}


@dataclass(frozen=True)
class Kpi:
    """One KPI card: label, value text, change text (or None) and help text."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    plain_delta: bool = False  # a grey note under the value (no arrow, no colour) instead of a change


def _delta_week(value: object) -> str | None:
    return None if pd.isna(value) else t("overview.kpi.delta_week", value=float(value) * 100)


def overview_kpis(row: pd.Series) -> list[Kpi]:
    """The six cards of the overview for one ``county_progress`` row (a unit or the city total)."""
    weekly = t("overview.kpi.delta_help")
    invest = t("overview.kpi.invest_help", done=f"{row.invest_done_wan:,.2f}", planned=f"{row.planned_invest_wan:,.2f}")
    return [
        Kpi(t("overview.kpi.compounds"), f"{int(row.started):,}",
            t("overview.kpi.plan_compounds", n=f"{int(row.planned_compounds):,}"),
            help=t("overview.kpi.completed_help", completed=int(row.completed), planned=int(row.planned_compounds)),
            plain_delta=True),
        Kpi(t("overview.kpi.households"), f"{int(row.started_households):,}",
            t("overview.kpi.plan_households", n=f"{int(row.planned_households):,}"), plain_delta=True),
        Kpi(t("overview.kpi.floor_area"), f"{row.planned_floor_area_m2 / 1e4:,.2f}", help=t("overview.kpi.area_help")),
        Kpi(t("overview.kpi.start_rate"), fmt_rate(row.start_rate_compounds),
            _delta_week(row.start_rate_compounds_chg_week), help=weekly),
        Kpi(t("overview.kpi.completion_rate"), fmt_rate(row.completion_rate), _delta_week(row.completion_rate_chg_week),
            help=weekly),
        Kpi(t("overview.kpi.invest_rate"), fmt_rate(row.invest_rate), _delta_week(row.invest_rate_chg_week),
            help=f"{invest} {weekly}"),
    ]


def fmt_rate(value: object) -> str:
    """A fraction 0–1 as ``63.2%`` (``—`` when missing)."""
    return "—" if pd.isna(value) else f"{float(value) * 100:.1f}%"


def progress_row(progress: pd.DataFrame, unit_code: str | None) -> pd.Series:
    """The row of ``unit_code`` in a ``county_progress`` frame, or the city-total row."""
    rows = progress[progress["unit_code"] == unit_code] if unit_code else progress.iloc[0:0]
    if rows.empty:
        rows = progress[progress["kind"] == "city"]
    return rows.iloc[0]


def indicator_values(progress: pd.DataFrame, indicator: str) -> pd.Series:
    """``indicator`` per county (index ``unit_code``), for the choropleth; zones and the city left out."""
    counties = progress[progress["kind"] == "county"]
    return pd.Series(counties[indicator].astype(float).to_numpy(), index=counties["unit_code"].to_numpy())


def indicator_format(indicator: str):
    """The tooltip/legend formatter of ``indicator`` (per cent for rates, integers for counts)."""
    return fmt_pct if OVERVIEW_INDICATORS[indicator] == "rate" else fmt_int


def ranking_figure(progress: pd.DataFrame, indicator: str, *, selected: str | None = None):
    """Horizontal bars of ``indicator`` per county and zone, best on top, the city value as a dashed line.

    Returns the figure and the labelled data it draws (for the downloads). ``selected`` is drawn in the
    highlight colour.
    """
    rate = OVERVIEW_INDICATORS[indicator] == "rate"
    units = progress[progress["kind"] != "city"].copy()
    units["_value"] = units[indicator].astype(float) * (100 if rate else 1)
    units = units.sort_values(["_value", "unit_code"], ascending=[True, False], na_position="first")
    names = _each(units["unit_code"], county_label)
    colors = [HIGHLIGHT if c == selected else "#1f4e79" for c in units["unit_code"]]
    text = [("—" if pd.isna(v) else (f"{v:.1f}%" if rate else f"{v:,.0f}")) for v in units["_value"]]
    fig = go.Figure(go.Bar(x=units["_value"], y=names, orientation="h", marker_color=colors, text=text,
                           textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>"))
    city = progress_row(progress, None)[indicator]
    if not pd.isna(city) and rate:
        value = float(city) * 100
        fig.add_vline(x=value, line_dash="dash", line_color="#7f7f7f",
                      annotation_text=t("overview.city_line", value=f"{value:.1f}%"), annotation_position="top")
    fig.update_layout(height=max(320, 34 * len(units) + 140), showlegend=False)
    if rate:
        fig.update_xaxes(range=[0, 112], ticksuffix="%")
    ranked = units.iloc[::-1]
    data = pd.DataFrame({
        t("overview.col.rank"): ranked["_value"].rank(method="min", ascending=False).astype("Int64").to_numpy(),
        t("overview.col.unit"): _each(ranked["unit_code"], county_label),
        t(f"overview.ind.{indicator}"): ranked["_value"].round(2).to_numpy(),
    })
    return fig, data


def unit_codes(progress: pd.DataFrame) -> list[str]:
    """The county and zone codes of a ``county_progress`` frame, in its (official) order."""
    return progress.loc[progress["kind"] != "city", "unit_code"].tolist()


def county_of_unit(unit_code: str | None, compounds: gpd.GeoDataFrame) -> str | None:
    """The county a unit lies in: itself for a county; for a function zone, the county of most of its compounds."""
    if not unit_code:
        return None
    if unit_code in settings.COUNTIES:
        return unit_code
    counties = compounds.loc[compounds["unit_code"] == unit_code, "county_code"]
    return str(counties.mode().iloc[0]) if len(counties) else None


def indicator_unit(indicator: str) -> str:
    """The unit shown beside an overview indicator."""
    if OVERVIEW_INDICATORS[indicator] == "rate":
        return t("overview.unit_pct")
    return t("overview.unit_households") if indicator == "planned_households" else t("overview.unit_count")


def plan_line(row: pd.Series) -> str:
    """One sentence with the annual plan's figures for a ``county_progress`` row."""
    return t(
        "overview.plan_line", compounds=f"{int(row.planned_compounds):,}", households=f"{int(row.planned_households):,}",
        area=f"{row.planned_floor_area_m2 / 1e4:,.2f}", invest=f"{row.planned_invest_wan:,.2f}",
    )


def _pick(frame: pd.DataFrame, ids: pd.Series | list) -> pd.DataFrame:
    """Rows of ``frame`` (by ``id``) in the order of ``ids``."""
    return frame.set_index("id").loc[list(ids)].reset_index()


def reachable(result: IdleLand) -> pd.DataFrame:
    """The per-parcel summary of the parcels with at least one compound within reach, best first."""
    return result.reach[result.reach["n_compounds"] > 0]


def idle_kpis(result: IdleLand) -> list[Kpi]:
    """Cards: parcels within reach, their area, compounds with land nearby and their households."""
    reach = reachable(result)
    area = _pick(result.parcels, reach["parcel_id"])["area_m2"].sum() if len(reach) else 0.0
    served = result.compounds[result.compounds["id"].isin(result.compound_area["compound_id"])]
    return [
        Kpi(t("idle.kpi.parcels"), f"{len(reach):,}", help=t("idle.kpi.parcels_help", n=f"{len(result.parcels):,}")),
        Kpi(t("idle.kpi.area"), f"{area / 1e4:,.2f}"),
        Kpi(t("idle.kpi.compounds"), f"{len(served):,}", help=t("idle.kpi.compounds_help", n=f"{len(result.compounds):,}")),
        Kpi(t("idle.kpi.households"), f"{int(served['households'].sum()):,}"),
    ]


def idle_parcel_table(result: IdleLand) -> pd.DataFrame:
    """Parcels within reach ranked by households within reach (ties share a rank), with their attributes."""
    reach = reachable(result)
    parcels = _pick(result.parcels, reach["parcel_id"])
    return pd.DataFrame({
        t("idle.col.rank"): reach["households_within"].rank(method="min", ascending=False).astype("int64").to_numpy(),
        t("idle.col.parcel_id"): reach["parcel_id"].to_numpy(),
        t("idle.col.parcel_type"): _each(parcels["parcel_type"], lambda v: category_label("parcel_type", v)),
        t("idle.col.area_m2"): parcels["area_m2"].round(0).to_numpy(),
        t("idle.col.ownership"): _each(parcels["ownership"], lambda v: category_label("ownership", v)),
        t("idle.col.land_use"): _each(parcels["land_use"], lambda v: category_label("land_use", v)),
        t("col.county"): _each(parcels["county_code"], county_label),
        t("idle.col.n_compounds"): reach["n_compounds"].to_numpy(),
        t("idle.col.households_within"): reach["households_within"].to_numpy(),
        t("idle.col.nearest_m"): reach["nearest_m"].round(1).to_numpy(),
    })


def idle_parcel_labels(result: IdleLand) -> dict[str, str]:
    """``{parcel_id: "P-… · 闲置用地 · 1,234 m² · 850 户"}`` for the parcel selector, ``""`` → "(none)"."""
    reach = reachable(result)
    parcels = _pick(result.parcels, reach["parcel_id"])
    labels = {"": t("idle.parcel_none")}
    template = t("idle.parcel_option")  # formatted below: one label lookup, not one per parcel
    kinds = _each(parcels["parcel_type"], lambda v: category_label("parcel_type", v))
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
    compounds = _pick(result.compounds, pairs["compound_id"])
    return pd.DataFrame({
        t("idle.col.compound_id"): pairs["compound_id"].to_numpy(),
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): _each(compounds["county_code"], county_label),
        t("col.households"): compounds["households"].to_numpy(),
        t("col.built_year"): compounds["built_year"].to_numpy(),
        t("idle.col.distance_m"): pairs["distance_m"].round(1).to_numpy(),
    })


def idle_compound_table(result: IdleLand) -> pd.DataFrame:
    """Per compound with land nearby: parcels, area and nearest distance, most area first."""
    area = result.compound_area.sort_values(["idle_area_m2", "compound_id"], ascending=[False, True])
    compounds = _pick(result.compounds, area["compound_id"])
    return pd.DataFrame({
        t("idle.col.compound_id"): area["compound_id"].to_numpy(),
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): _each(compounds["county_code"], county_label),
        t("col.households"): compounds["households"].to_numpy(),
        t("idle.col.n_parcels"): area["n_parcels"].to_numpy(),
        t("idle.col.idle_area_m2"): area["idle_area_m2"].round(0).to_numpy(),
        t("idle.col.nearest_m"): area["nearest_m"].round(1).to_numpy(),
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


def idle_focus(view: IdleMap, *, county_code: str | None) -> gpd.GeoSeries | None:
    """What the map opens on: the selected parcel with the compounds it serves, else the county, else the city."""
    if len(view.selected_parcel):
        both = pd.concat([view.selected_parcel.geometry, view.selected_compounds.geometry])
        return gpd.GeoSeries(both, crs=view.selected_parcel.crs)
    return view.compounds.geometry if county_code else None


# --------------------------------------------------------------------------------------- living circle
TIER_COLORS: dict[str, str] = {"5min": "#1A9850", "10min": "#A6D96A", "15min": "#FDAE61", "none": "#D73027"}


@dataclass(frozen=True)
class LivingCircle:
    """The living-circle audit of one view: every facility type for the compounds of the county (or city)."""

    access: pd.DataFrame  # analytics.living_circle.facility_access, all types
    compounds: gpd.GeoDataFrame  # compounds audited (EPSG:4548)


@st.cache_data(**CACHE)
def _living(county_code: str | None, version: int) -> LivingCircle:
    compounds = _county(state.layer("compounds"), county_code)
    access = living_circle.facility_access(compounds, state.layer("facilities"))
    return LivingCircle(access, compounds)


def living(*, county_code: str | None = None) -> LivingCircle:
    """``analytics.living_circle.facility_access`` for all types, the county's compounds (or the city's)."""
    return _living(county_code or None, state.data_version())


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
            t("living.kpi.covered", tier=t(f"living.tier_short.{name}")), fmt_rate(covered / total if total else float("nan")),
            help=t("living.kpi.covered_help", covered=f"{covered:,}", total=f"{total:,}"),
        ))
    lacking = lacking_ids(lc, facility_type, tier)
    cards.append(Kpi(t("living.kpi.lacking", tier=t(f"living.tier_short.{tier}")), f"{len(lacking):,}"))
    return cards


def lacking_ids(lc: LivingCircle, facility_type: str, tier: str) -> list[str]:
    """Compounds without ``facility_type`` within ``tier`` (``facility_gaps``), largest households first."""
    gaps = living_circle.facility_gaps(lc.access, required_m=tier_m(tier))
    ids = gaps.loc[[facility_type in m for m in gaps["missing_types"]], "compound_id"]
    compounds = _pick(lc.compounds, ids)
    return compounds.sort_values(["households", "id"], ascending=[False, True])["id"].tolist()


def lacking_table(lc: LivingCircle, facility_type: str, tier: str) -> pd.DataFrame:
    """The compounds lacking ``facility_type`` within ``tier``: nearest one, and every type they lack there."""
    ids = lacking_ids(lc, facility_type, tier)
    gaps = living_circle.facility_gaps(lc.access, required_m=tier_m(tier)).set_index("compound_id").loc[ids]
    access = lc.access[lc.access["facility_type"] == facility_type].set_index("compound_id").loc[ids]
    compounds = _pick(lc.compounds, ids)
    sep = "、" if current_lang() == "zh" else ", "
    return pd.DataFrame({
        t("living.col.compound_id"): ids,
        t("col.name"): compounds["name"].to_numpy(),
        t("col.county"): _each(compounds["county_code"], county_label),
        t("col.households"): compounds["households"].to_numpy(),
        t("living.col.nearest_m"): access["nearest_m"].round(1).to_numpy(),
        t("living.col.nearest_facility_id"): access["nearest_facility_id"].to_numpy(),
        t("living.col.tier"): [t(f"living.tier_short.{v}") if isinstance(v, str) else t("living.tier_short.none")
                               for v in access["tier"]],
        t("living.col.n_missing"): gaps["n_missing"].to_numpy(),
        t("living.col.missing_types"): [sep.join(facility_label(v) for v in m) for m in gaps["missing_types"]],
    })


def coverage_table(lc: LivingCircle, tier: str) -> pd.DataFrame:
    """``coverage_by_county`` for ``tier`` as a labelled table (share in per cent)."""
    cov = coverage(lc, tier)
    return pd.DataFrame({
        t("col.county"): _each(cov["county_code"], county_label),
        t("living.col.facility_type"): _each(cov["facility_type"], facility_label),
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
        z=z, x=_each(types, facility_label), y=_each(counties, county_label), zmin=0, zmax=100,
        colorscale="RdYlGn", text=[[("" if pd.isna(v) else f"{v:.0f}") for v in row] for row in z],
        texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{z:.1f}%<extra></extra>",
        colorbar={"ticksuffix": "%"},
    ))
    fig.update_yaxes(autorange="reversed")
    if highlight_type in types:
        i = types.index(highlight_type)
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=-0.5, y1=len(counties) - 0.5,
                      line={"color": HIGHLIGHT, "width": 3})
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


# ---------------------------------------------------------------------------------------------- siting
@st.cache_data(**CACHE)
def _siting(
    facility_type: str, k: int, service_distance_m: float, min_area_m2: float, county_code: str | None,
    time_limit_s: float, version: int,
) -> siting.SitingResult:
    compounds = _county(state.layer("compounds"), county_code)
    return siting.site_facilities(
        compounds, state.layer("parcels"), state.layer("facilities"), facility_type=facility_type, k=k,
        service_distance_m=service_distance_m, min_area_m2=min_area_m2, time_limit_s=time_limit_s,
    )


def site(
    *, facility_type: str, k: int, service_distance_m: float, min_area_m2: float, county_code: str | None,
    time_limit_s: float = 10,
) -> siting.SitingResult:
    """``analytics.siting.site_facilities`` for the county's compounds (or the city's), cached."""
    return _siting(facility_type, int(k), float(service_distance_m), float(min_area_m2), county_code or None,
                   float(time_limit_s), state.data_version())


def siting_kpis(result: siting.SitingResult) -> list[Kpi]:
    """Cards: households covered before and after, the gain, and how the solver ended."""
    total = result.households_total

    def share(n: int) -> str:
        return t("living.kpi.share", total=f"{total:,}", share=fmt_rate(n / total if total else float("nan")))

    gain = result.households_covered_after - result.households_covered_before
    if result.time_limit_hit:
        status = t("living.solver.time_limit")
    else:
        status = t("living.solver.optimal") if result.optimal else t("living.solver.not_optimal")
    return [
        Kpi(t("living.kpi.before"), f"{result.households_covered_before:,}", help=share(result.households_covered_before)),
        Kpi(t("living.kpi.after"), f"{result.households_covered_after:,}", help=share(result.households_covered_after)),
        Kpi(t("living.kpi.gain"), f"{gain:,}", help=share(gain)),
        Kpi(t("living.kpi.solver"), status, help=t(
            "living.solver.help", seconds=result.solve_seconds, candidates=f"{result.n_candidates:,}",
            demand=f"{result.n_demand:,}", greedy=f"{result.greedy_households_after:,}",
        )),
    ]


def sites_table(chosen: gpd.GeoDataFrame) -> pd.DataFrame:
    """Chosen (or greedy) parcels with what each brings."""
    return pd.DataFrame({
        t("living.col.parcel_id"): chosen["parcel_id"].to_numpy(),
        t("idle.col.parcel_type"): _each(chosen["parcel_type"], lambda v: category_label("parcel_type", v)),
        t("idle.col.area_m2"): chosen["area_m2"].round(0).to_numpy(),
        t("idle.col.ownership"): _each(chosen["ownership"], lambda v: category_label("ownership", v)),
        t("col.county"): _each(chosen["county_code"], county_label),
        t("living.col.households_gained"): chosen["households_gained"].to_numpy(),
        t("living.col.compounds_gained"): chosen["compounds_gained"].to_numpy(),
    })


def gaining_table(result: siting.SitingResult, compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """Compounds newly covered by the chosen parcels, with the parcel that serves them."""
    gaining = result.gaining.sort_values(["households", "compound_id"], ascending=[False, True])
    rows = _pick(compounds, gaining["compound_id"])
    return pd.DataFrame({
        t("living.col.compound_id"): gaining["compound_id"].to_numpy(),
        t("col.name"): rows["name"].to_numpy(),
        t("col.county"): _each(rows["county_code"], county_label),
        t("col.households"): gaining["households"].to_numpy(),
        t("living.col.parcel_id"): gaining["parcel_id"].to_numpy(),
        t("living.col.distance_m"): gaining["distance_m"].round(1).to_numpy(),
    })


def siting_compounds(result: siting.SitingResult, lc: LivingCircle) -> gpd.GeoDataFrame:
    """The audited compounds with ``coverage`` = covered (existing facility within the service distance),
    gaining (covered by a chosen parcel) or uncovered."""
    access = lc.access[lc.access["facility_type"] == result.facility_type].set_index("compound_id")
    near = access["nearest_m"].reindex(lc.compounds["id"]).to_numpy(dtype=float) <= result.service_distance_m
    gaining = lc.compounds["id"].isin(result.gaining["compound_id"]).to_numpy()
    status = pd.Series("uncovered", index=lc.compounds.index).mask(gaining, "gaining").mask(near, "covered")
    return lc.compounds.assign(coverage=status.to_numpy())


# -------------------------------------------------------------------------------------------- clusters
CLUSTER_COMPONENTS = ("households", "idle_land", "gaps", "willingness")
COMPONENT_COLORS = {"households": "#1f4e79", "idle_land": "#d9822b", "gaps": "#c0392b", "willingness": "#2e8b57"}


@dataclass(frozen=True)
class Clusters:
    """Result of the clusters view: ``find_clusters`` output and the compounds it was run on."""

    clusters: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    weights: dict[str, float]


@st.cache_data(**CACHE)
def _clusters(
    gap_m: float, same_county: bool, max_extent_m: float | None, min_size: int, county_code: str | None,
    weights: tuple[tuple[str, float], ...], version: int,
) -> Clusters:
    compounds = _county(state.layer("compounds"), county_code)
    found = clusters.find_clusters(
        compounds, gap_m=gap_m, same_county=same_county, max_extent_m=max_extent_m, min_size=min_size,
        parcels=state.layer("parcels"), facilities=state.layer("facilities"), weights=dict(weights),
    )
    return Clusters(found, compounds, dict(weights))


def find_clusters(
    *, gap_m: float, same_county: bool, max_extent_m: float | None, min_size: int, county_code: str | None,
    weights: dict[str, float],
) -> Clusters:
    """``analytics.clusters.find_clusters`` on the county's compounds (or the city's) with parcels and facilities."""
    return _clusters(float(gap_m), bool(same_county), float(max_extent_m) if max_extent_m else None, int(min_size),
                     county_code or None, tuple((k, float(weights[k])) for k in CLUSTER_COMPONENTS),
                     state.data_version())


def _counties_text(codes: list[str]) -> str:
    return "、".join(county_label(c) for c in codes) if current_lang() == "zh" else ", ".join(
        county_label(c) for c in codes)


def _types_text(types: list[str]) -> str:
    return ("、" if current_lang() == "zh" else ", ").join(facility_label(v) for v in types)


def cluster_kpis(view: Clusters) -> list[Kpi]:
    """Cards: clusters, compounds and households in them, the largest cluster."""
    found, n = view.clusters, len(view.compounds)
    in_clusters = int(found["n_compounds"].sum()) if len(found) else 0
    return [
        Kpi(t("clusters.kpi.clusters"), f"{len(found):,}"),
        Kpi(t("clusters.kpi.compounds"), f"{in_clusters:,}",
            help=t("clusters.kpi.compounds_help", n=f"{n:,}", share=fmt_rate(in_clusters / n if n else float("nan")))),
        Kpi(t("clusters.kpi.households"), f"{int(found['households'].sum()) if len(found) else 0:,}"),
        Kpi(t("clusters.kpi.largest"), f"{int(found['n_compounds'].max()) if len(found) else 0:,}"),
    ]


def cluster_table(view: Clusters) -> pd.DataFrame:
    """The clusters, best score first, with their figures and score components."""
    found = view.clusters
    years = [f"{int(a)}–{int(b)}" if a != b else f"{int(a)}" for a, b in zip(found["built_year_min"], found["built_year_max"])]
    sep = "、" if current_lang() == "zh" else ", "
    out = {
        t("clusters.col.cluster_id"): found["cluster_id"].to_numpy(),
        t("clusters.col.county"): [_counties_text(c) for c in found["county_codes"]],
        t("clusters.col.n_compounds"): found["n_compounds"].to_numpy(),
        t("clusters.col.households"): found["households"].to_numpy(),
        t("clusters.col.floor_area_m2"): found["floor_area_m2"].round(0).to_numpy(),
        t("clusters.col.built_years"): years,
        t("clusters.col.tiers"): [sep.join(category_label("tier", v) for v in tiers) for tiers in found["tiers"]],
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
    return _pick(view.compounds, _cluster(view, cluster_id)["member_ids"]).set_crs(view.compounds.crs)


def cluster_members_table(view: Clusters, cluster_id: int) -> pd.DataFrame:
    """A cluster's compounds with the figures that went into its score."""
    members = cluster_members(view, cluster_id)
    return pd.DataFrame({
        t("col.id"): members["id"].to_numpy(),
        t("col.name"): members["name"].to_numpy(),
        t("col.county"): _each(members["county_code"], county_label),
        t("col.households"): members["households"].to_numpy(),
        t("col.floor_area_m2"): members["floor_area_m2"].round(0).to_numpy(),
        t("col.built_year"): members["built_year"].to_numpy(),
        t("col.plan_year"): members["plan_year"].to_numpy(),
        t("col.status"): _each(members["status"], lambda v: category_label("status", v)),
        t("col.tier"): _each(members["tier"], lambda v: category_label("tier", v)),
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
