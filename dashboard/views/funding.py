"""The funding & elevators page (资金与电梯): cached funding and elevator loaders, cards, tables and figures,
and the elevator cost-sharing calculator's tables."""

from __future__ import annotations

import warnings

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import elevators, funding, settings
from dashboard import state
from dashboard.formatting import fmt_int, fmt_pct, fmt_wan, percent, share_of, source_name, unit_name
from dashboard.labels import has, labelled, t
from dashboard.ui import Kpi


# ----------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=32)
def _funding_mix(plan_year: int | None, version: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    con = state.cursor()
    by_county = funding.funding_by_source(con, by=("county_code",), plan_year=plan_year)
    city = funding.funding_by_source(con, by=(), plan_year=plan_year)
    return by_county, city, funding.funding_wide(by_county)


def funding_mix(*, plan_year: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``analytics.funding.funding_by_source`` per county (long), city-wide (long) and per county (wide, from
    ``funding_wide``), for one plan year or all (``None``)."""
    return _funding_mix(plan_year, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _funding_mismatches(tolerance: float, plan_year: int | None, version: str) -> pd.DataFrame:
    return funding.funding_mismatches(state.cursor(), tolerance=tolerance, plan_year=plan_year)


def funding_mismatches(*, tolerance: float, plan_year: int | None = None) -> pd.DataFrame:
    """``analytics.funding.funding_mismatches`` (``tolerance`` a fraction, e.g. 0.01 for ±1 %)."""
    return _funding_mismatches(float(tolerance), plan_year, state.data_version())


@st.cache_data(show_spinner=False, max_entries=16)
def _elevator_candidates(county_code: str | None, version: str) -> pd.DataFrame:
    compounds = state.layer("compounds", crs=None)
    buildings = state.layer("buildings", crs=None)
    if county_code is not None:
        compounds = compounds[compounds["county_code"] == county_code]
        buildings = buildings[buildings["compound_id"].isin(compounds["id"])]
    return elevators.elevator_candidates(buildings, compounds)


def elevator_candidates(*, county_code: str | None = None) -> pd.DataFrame:
    """``analytics.elevators.elevator_candidates`` over the stored buildings, city-wide or of one county."""
    return _elevator_candidates(county_code, state.data_version())


@st.cache_data(show_spinner=False, max_entries=128)
def share_costs(
    floors: int,
    households_per_floor: int,
    *,
    cost_wan: float,
    subsidy_wan: float,
    preset: str,
    custom: tuple[float, ...] | None = None,
    custom_kind: str = "share",
    areas_m2: tuple[float, ...] | None = None,
) -> pd.DataFrame:
    """``analytics.elevators.share_costs`` for one unit; ``custom`` lists the values of floors 1…``floors``.

    A custom share table that does not add up to 100 % is scaled by the analysis; the page says so itself,
    so the analysis's warning is not repeated here.
    """
    table = {floor: value for floor, value in enumerate(custom, start=1)} if custom is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return elevators.share_costs(
            floors, households_per_floor, cost_wan=cost_wan, subsidy_wan=subsidy_wan, preset=preset,
            custom=table, custom_kind=custom_kind, floor_area_m2=list(areas_m2) if areas_m2 else None,
        )


# ---------------------------------------------------------------------------------------------- funding
MEASURES = ("amount", "share")


CENTRAL_SOURCES = ("central_subsidy", "central_budget")


def year_name(year: object) -> str:
    """A plan year for display, or "all years"."""
    return t("funding.year.all") if year == "all" else str(year)


def funding_kpis(city: pd.DataFrame) -> list[Kpi]:
    """City-wide cards: funding total, planned investment, largest source, central share."""
    if city.empty:
        return []
    total = float(city["total_wan"].iloc[0])
    top = city.loc[city["amount_wan"].idxmax()]
    central = float(city.loc[city["source"].isin(CENTRAL_SOURCES), "amount_wan"].sum())
    return [
        Kpi(t("funding.kpi.total"), fmt_wan(total)),
        Kpi(t("funding.kpi.planned"), fmt_wan(city["invest_planned_wan"].iloc[0])),
        Kpi(t("funding.kpi.top_source", source=source_name(top["source"])), fmt_pct(top["share"])),
        Kpi(t("funding.kpi.central"), share_of(central, total)),
    ]


def funding_figure(by_county: pd.DataFrame, *, measure: str) -> tuple[go.Figure, pd.DataFrame]:
    """Stacked bars per county (official order), one segment per source: 万元 or % of the county's total."""
    counties = list(dict.fromkeys(by_county["county_code"]))
    names = [unit_name(c) for c in counties]
    fig = go.Figure()
    for code in dict.fromkeys(by_county["source"]):
        part = by_county[by_county["source"] == code].set_index("county_code").reindex(counties)
        y = part["amount_wan"] if measure == "amount" else part["share"] * 100
        fig.add_trace(go.Bar(x=names, y=y.to_numpy(), name=source_name(code)))
    fig.update_layout(
        barmode="stack", yaxis_title=t("funding.measure.amount") if measure == "amount" else t("funding.measure.share"),
    )
    return fig, funding_long_table(by_county)


def legend_right(fig: go.Figure) -> go.Figure:
    """Move a long legend to the right of the plot (after styling), so it does not cover the title lines."""
    fig.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                              "traceorder": "reversed"})
    return fig


def funding_long_table(breakdown: pd.DataFrame) -> pd.DataFrame:
    """``funding_by_source`` rows with county and source names, amount (万元) and share (%); labelled."""
    out = pd.DataFrame({
        "source": [source_name(s) for s in breakdown["source"]],
        "amount_wan": breakdown["amount_wan"].round(2).to_numpy(),
        "share": percent(breakdown["share"]).to_numpy(),
    })
    if "county_code" in breakdown:
        out.insert(0, "county", [unit_name(c) for c in breakdown["county_code"]])
    return labelled(out, "funding.col")


def funding_county_table(wide: pd.DataFrame) -> pd.DataFrame:
    """``funding_wide`` per county: one 万元 column per source, total, planned, difference; labelled."""
    out = pd.DataFrame({"county": [unit_name(c) for c in wide["county_code"]]})
    for code in [c for c in wide.columns if c not in ("county_code", "total_wan", "invest_planned_wan", "gap_wan")]:
        out[source_name(code)] = wide[code].round(2).to_numpy()
    for col in ("total_wan", "invest_planned_wan", "gap_wan"):
        out[t(f"funding.col.{col}")] = wide[col].round(2).to_numpy()
    return out.rename(columns={"county": t("funding.col.county")})


def mismatch_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Compounds whose funding misses the planned investment, with translated county and problem; labelled."""
    out = pd.DataFrame({
        "compound_id": frame["compound_id"],
        "name": frame["name"],
        "county": [unit_name(c) for c in frame["county_code"]],
        "plan_year": frame["plan_year"].astype("Int64"),
        "invest_planned_wan": frame["invest_planned_wan"].astype(float).round(2),
        "parts_wan": frame["parts_wan"].astype(float).round(2),
        "diff_wan": frame["diff_wan"].astype(float).round(2),
        "diff_pct": percent(frame["diff_share"]),
        "n_sources": frame["n_sources"],
        "problem": [t(f"funding.problem.{p}") if has(f"funding.problem.{p}") else str(p) for p in frame["problem"]],
    })
    return labelled(out, "funding.col")


# -------------------------------------------------------------------------------------------- elevators
def candidate_kpis(frame: pd.DataFrame) -> list[Kpi]:
    """Cards summing ``elevator_candidates``."""
    return [
        Kpi(t("funding.elev.kpi.compounds"), fmt_int(len(frame))),
        Kpi(t("funding.elev.kpi.buildings"), fmt_int(frame["candidate_buildings"].sum())),
        Kpi(t("funding.elev.kpi.units"), fmt_int(frame["candidate_units"].sum())),
        Kpi(t("funding.elev.kpi.households"), fmt_int(frame["households_above_second"].sum())),
        Kpi(t("funding.elev.kpi.cost"), f"{float(frame['est_cost_wan'].sum()):,.1f}"),
        Kpi(t("funding.elev.kpi.subsidy"), f"{float(frame['est_subsidy_wan'].sum()):,.1f}"),
    ]


def candidates_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Elevator candidates per compound with county names and the building ids joined; labelled."""
    out = pd.DataFrame({
        "compound_id": frame["compound_id"],
        "name": frame["name"],
        "county": [unit_name(c) for c in frame["county_code"]],
    })
    for col in ("n_buildings", "candidate_buildings", "candidate_units", "households_candidate",
                "households_above_second", "est_cost_wan", "est_subsidy_wan"):
        out[col] = frame[col].to_numpy()
    out["building_ids"] = ["、".join(ids) for ids in frame["building_ids"]]
    return labelled(out, "funding.col")


# ------------------------------------------------------------------------------------ elevator calculator
CUSTOM_KINDS = ("share", "coefficient")


DEFAULT_AREA_M2 = 80.0


def preset_table(floors: int, kind: str) -> list[float]:
    """Starting values of the custom table: the Hangzhou shares in % (up to 6 floors) or the coefficients."""
    if kind == "share" and floors <= elevators.PRESET_MAX_FLOORS:
        shares = settings.ELEVATOR_SHARE_PRESETS["hangzhou"]
        return [round(shares.get(f, 0.0) * 100, 2) for f in range(1, floors + 1)]
    coefficients = [float(elevators.coefficient(f)) for f in range(1, floors + 1)]
    if kind == "coefficient":
        return coefficients
    total = sum(coefficients)
    return [round(c / total * 100, 2) for c in coefficients]


def custom_scaled_note(custom: list[float] | None, kind: str) -> str | None:
    """A note when custom shares do not add up to 100 % (or 1) and are therefore scaled."""
    if custom is None or kind != "share":
        return None
    total = sum(custom)
    if abs(total - 100) < 1e-9 or abs(total - 1) < 1e-11:
        return None
    return t("funding.calc.scaled", total=f"{total:g}")


def calculator_kpis(shares: pd.DataFrame) -> list[Kpi]:
    """Cards: the elevator's cost, the subsidy, the residents' part and the sum of what households pay (yuan)."""
    return [
        Kpi(t("funding.calc.kpi.cost"), f"{shares.attrs['cost_yuan']:,.2f}"),
        Kpi(t("funding.calc.kpi.subsidy"), f"{shares.attrs['subsidy_yuan']:,.2f}"),
        Kpi(t("funding.calc.kpi.residents"), f"{shares.attrs['residents_yuan']:,.2f}"),
        Kpi(t("funding.calc.kpi.sum"), f"{int(shares['amount_fen'].sum()) / 100:,.2f}"),
    ]


def floor_table(shares: pd.DataFrame) -> pd.DataFrame:
    """Per floor (top floor first) with a total row: households, floor share %, floor total and per household."""
    per_floor = elevators.shares_by_floor(shares).sort_values("floor", ascending=False)
    out = pd.DataFrame({
        "floor": [t("funding.calc.floor_label", n=f) for f in per_floor["floor"]],
        "households": per_floor["households"].to_numpy(),
        "floor_share": (per_floor["floor_share"] * 100).round(2).to_numpy(),
        "floor_total_yuan": per_floor["floor_total_yuan"].to_numpy(),
        "min_household_yuan": per_floor["min_household_yuan"].to_numpy(),
        "max_household_yuan": per_floor["max_household_yuan"].to_numpy(),
    })
    total = pd.DataFrame({
        "floor": [t("funding.calc.total_row")], "households": [int(per_floor["households"].sum())],
        "floor_share": [100.0], "floor_total_yuan": [int(shares["amount_fen"].sum()) / 100],
        "min_household_yuan": [float(shares["amount_yuan"].min())],
        "max_household_yuan": [float(shares["amount_yuan"].max())],
    })
    return labelled(pd.concat([out, total], ignore_index=True), "funding.col")


def household_table(shares: pd.DataFrame) -> pd.DataFrame:
    """One row per household (top floor first): floor, position, share %, amount in yuan; labelled."""
    rows = shares.sort_values(["floor", "household"], ascending=[False, True])
    out = pd.DataFrame({
        "floor": [t("funding.calc.floor_label", n=f) for f in rows["floor"]],
        "household": rows["household"].to_numpy(),
        "share_pct": (rows["share"] * 100).round(4).to_numpy(),
        "amount_yuan": rows["amount_yuan"].to_numpy(),
    })
    return labelled(out, "funding.col")


def money_column_config() -> dict[str, object]:
    """Two-decimal yuan columns for the calculator's tables."""
    return {t(f"funding.col.{c}"): st.column_config.NumberColumn(format="%.2f")
            for c in ("floor_total_yuan", "min_household_yuan", "max_household_yuan", "amount_yuan")}


def calculator_figure(shares: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """Bars of what each household pays (yuan), grouped by floor (floor 1 at the left)."""
    fig = go.Figure()
    for position in sorted(shares["household"].unique()):
        part = shares[shares["household"] == position]
        fig.add_trace(go.Bar(
            x=[t("funding.calc.floor_label", n=f) for f in part["floor"]], y=part["amount_yuan"],
            name=f"{t('funding.col.household')} {position}",
            text=[f"{v:,.2f}" for v in part["amount_yuan"]] if len(shares) <= 24 else None, textposition="outside",
        ))
    fig.update_layout(barmode="group", yaxis_title=t("funding.col.amount_yuan"), showlegend=shares["household"].nunique() > 1)
    return fig, household_table(shares)


