"""The programme page (十四五 / 全周期): the cached programme summary, KPI cards, figures and tables of every plan
year against its target and the five-year goal, per unit, the pre-2000 stock and the candidate pool — of the city
or of the one county or zone chosen (whose goal is the sum of its own targets, not the city's five-year goal)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import programme, settings
from analytics.programme import CITY_CODE, Programme
from dashboard import state
from dashboard.formatting import fmt_area_wan_m2, fmt_int, fmt_pct, percent, unit_name
from dashboard.labels import labelled, t
from dashboard.maps import HIGHLIGHT
from dashboard.ui import Kpi


# ----------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=16)
def _summary(as_of: date, unit_code: str | None, version: str) -> Programme:
    return programme.programme_summary(state.cursor(), as_of=as_of, unit_code=unit_code)


def programme_summary(*, as_of: date, unit_code: str | None = None) -> Programme:
    """``analytics.programme.programme_summary`` on ``as_of``, of the city or of ``unit_code``."""
    return _summary(as_of, unit_code or None, state.data_version())


def unit_options() -> list[str]:
    """The choices of the page's county filter: ``""`` (the whole city), then counties and zones, official order."""
    return ["", *state.unit_codes()]


def is_city(summary: Programme) -> bool:
    """Whether ``summary`` is of the whole city (its goal the five-year goal) rather than of one unit."""
    return summary.unit_code == CITY_CODE


def of_unit(frame: pd.DataFrame, summary: Programme) -> pd.DataFrame:
    """The rows of ``frame`` (a per-unit table of ``summary``) of the unit shown: the city's rows for the city."""
    return frame[frame["unit_code"] == summary.unit_code]


def rows_shown(frame: pd.DataFrame, summary: Programme) -> pd.DataFrame:
    """The rows a table shows: every unit and the city for the city, the unit's own rows for one unit."""
    return frame if is_city(summary) else of_unit(frame, summary)


def goal_note(summary: Programme) -> str | None:
    """For one unit, the sentence saying its goal is the sum of its own targets (the five-year goal is the city's)."""
    if is_city(summary):
        return None
    goal = summary.goal
    years = f"{int(goal['first_year'])}–{int(goal['last_year'])}"
    city_goal = fmt_area_wan_m2(settings.PLAN_TOTAL_2025_FLOOR_AREA_M2)
    if not goal["target_years"]:
        return t("programme.unit_goal.none", unit=unit_name(summary.unit_code), years=years, city_goal=city_goal)
    return t("programme.unit_goal.note", unit=unit_name(summary.unit_code), years=years,
             n=int(goal["target_years"]), city_goal=city_goal)


def _wan_m2(values: pd.Series) -> pd.Series:
    """m² as 万 m², two decimals (table cells and chart values)."""
    return (values.astype(float) / 1e4).round(2)


# ---------------------------------------------------------------------------------------------- cards
def goal_kpis(summary: Programme) -> list[Kpi]:
    """The five-year goal (for one unit: the sum of its targets), planned and completed floor area against it,
    compounds and households done, the stock built by 2000 renovated."""
    goal = summary.goal
    traj = summary.trajectory.iloc[-1] if not summary.trajectory.empty else None
    years = f"{int(goal['first_year'])}–{int(goal['last_year'])}"
    goal_label = "programme.kpi.goal" if is_city(summary) else "programme.kpi.goal_unit"
    cards = [
        Kpi(t(goal_label, years=years), fmt_area_wan_m2(goal["goal_floor_area_m2"])),
        Kpi(t("programme.kpi.planned", years=years), fmt_area_wan_m2(goal["planned_floor_area_m2"]),
            t("programme.kpi.of_goal", pct=fmt_pct(goal["planned_of_goal"])), plain_delta=True),
        Kpi(t("programme.kpi.done", years=years), fmt_area_wan_m2(goal["completed_floor_area_m2"]),
            t("programme.kpi.of_goal", pct=fmt_pct(goal["done_of_goal"])), plain_delta=True),
    ]
    if traj is not None:
        cards += [
            Kpi(t("programme.kpi.compounds"), f"{fmt_int(traj['completed'])} / {fmt_int(traj['planned_compounds'])}"),
            Kpi(t("programme.kpi.households"),
                f"{fmt_int(traj['completed_households'])} / {fmt_int(traj['planned_households'])}"),
        ]
    first = of_unit(summary.stock[summary.stock["tier"] == "first"], summary)
    if not first.empty:
        cards.append(Kpi(t("programme.kpi.first_tier"), fmt_pct(first["done_share"].iloc[0]),
                         t("programme.kpi.remaining", n=fmt_int(first["remaining_compounds"].iloc[0])),
                         plain_delta=True))
    return cards


# ---------------------------------------------------------------------------------------------- figures
MEASURES = ("floor_area", "households", "compounds")
_TRAJECTORY_COLUMNS = {  # measure -> (planned, completed) columns of ``Programme.trajectory``
    "floor_area": ("planned_floor_area_m2", "completed_floor_area_m2"),
    "households": ("planned_households", "completed_households"),
    "compounds": ("planned_compounds", "completed"),
}


def trajectory_figure(summary: Programme, *, measure: str = "floor_area") -> tuple[go.Figure, pd.DataFrame]:
    """Cumulative planned and completed compounds, households or floor area (万 m²) at each year's end; for floor
    area the five-year goal (one unit's: the sum of its targets) is drawn as a line."""
    traj = summary.trajectory
    years = [str(y) for y in traj["year"]]
    planned, completed = _TRAJECTORY_COLUMNS[measure]
    scale = _wan_m2 if measure == "floor_area" else (lambda values: values)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=years, y=scale(traj[planned]), name=t(f"programme.trajectory.planned.{measure}")))
    fig.add_trace(go.Bar(x=years, y=scale(traj[completed]), name=t(f"programme.trajectory.completed.{measure}")))
    if measure == "floor_area" and traj["goal_floor_area_m2"].notna().any():
        fig.add_trace(go.Scatter(x=years, y=_wan_m2(traj["goal_floor_area_m2"]), mode="lines",
                                 name=t(_goal_column(summary)), line={"dash": "dash"}))
    fig.update_layout(barmode="group", yaxis_title=t(f"programme.unit.{measure}"))
    return fig, trajectory_table(summary)


def _goal_column(summary: Programme) -> str:
    return "programme.col.goal_area" if is_city(summary) else "programme.col.goal_area_unit"


def trajectory_table(summary: Programme) -> pd.DataFrame:
    """The trajectory per year: cumulative compounds, households and floor area planned and completed; labelled."""
    traj = summary.trajectory
    out = pd.DataFrame({
        "year": traj["year"], "snapshot_date": traj["snapshot_date"],
        "cum_planned_compounds": traj["planned_compounds"], "cum_completed_compounds": traj["completed"],
        "cum_planned_households": traj["planned_households"], "cum_completed_households": traj["completed_households"],
        "cum_planned_area": _wan_m2(traj["planned_floor_area_m2"]),
        "cum_completed_area": _wan_m2(traj["completed_floor_area_m2"]),
        "goal_area": _wan_m2(traj["goal_floor_area_m2"]), "done_of_goal": percent(traj["done_of_goal"]),
    })
    return labelled(out.rename(columns={"goal_area": _goal_column(summary).rsplit(".", 1)[1]}), "programme.col")


def years_figure(summary: Programme) -> tuple[go.Figure, pd.DataFrame]:
    """Per plan year (of the city or the unit shown): target, planned (the list) and completed floor area, 万 m²."""
    shown = of_unit(summary.years, summary)
    years = [str(y) for y in shown["year"]]
    fig = go.Figure()
    for col in ("target_floor_area_m2", "planned_floor_area_m2", "completed_floor_area_m2"):
        fig.add_trace(go.Bar(x=years, y=_wan_m2(shown[col]), name=t(f"programme.col.{col}")))
    fig.update_layout(barmode="group", yaxis_title=t("programme.unit.wan_m2"))
    return fig, years_table(shown)


def years_table(years: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``Programme.years``: the list, the target (万 m² for areas), done and the rates; labelled."""
    out = pd.DataFrame({
        "year": years["year"].to_numpy(), "unit": [unit_name(c) for c in years["unit_code"]],
        "target_compounds": years["target_compounds"].astype("Int64").to_numpy(),
        "planned_compounds": years["planned_compounds"].to_numpy(), "started": years["started"].to_numpy(),
        "completed": years["completed"].to_numpy(),
        "target_households": years["target_households"].astype("Int64").to_numpy(),
        "planned_households": years["planned_households"].to_numpy(),
        "completed_households": years["completed_households"].to_numpy(),
        "target_floor_area_m2": _wan_m2(years["target_floor_area_m2"]).to_numpy(),
        "planned_floor_area_m2": _wan_m2(years["planned_floor_area_m2"]).to_numpy(),
        "completed_floor_area_m2": _wan_m2(years["completed_floor_area_m2"]).to_numpy(),
        "completion_rate": percent(years["completion_rate"]).to_numpy(),
        "area_done_of_target": percent(years["area_done_of_target"]).to_numpy(),
        "target_mismatch": [t("programme.mismatch") if flag else "" for flag in years["target_mismatch"]],
    })
    return labelled(out, "programme.col")


def units_figure(summary: Programme) -> tuple[go.Figure, pd.DataFrame]:
    """Per unit: cumulative share of its planned floor area completed (%), horizontal bars in the official order;
    the unit shown (if one is) drawn in its own colour among the others."""
    units = summary.cumulative[summary.cumulative["unit_code"] != CITY_CODE]
    names = [unit_name(c) for c in units["unit_code"]]
    colors = None if is_city(summary) else [
        HIGHLIGHT if code == summary.unit_code else OTHER_COLOR for code in units["unit_code"]]
    fig = go.Figure(go.Bar(y=names, x=percent(units["area_done_share"]), orientation="h",
                           name=t("programme.col.area_done_share"), marker={"color": colors} if colors else None))
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis_title=t("programme.col.area_done_share"))
    return fig, cumulative_table(summary.cumulative)


def cumulative_table(cumulative: pd.DataFrame) -> pd.DataFrame:
    """``Programme.cumulative`` per unit and the city; labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in cumulative["unit_code"]],
        "planned_compounds": cumulative["planned_compounds"].to_numpy(), "completed": cumulative["completed"].to_numpy(),
        "planned_households": cumulative["planned_households"].to_numpy(),
        "completed_households": cumulative["completed_households"].to_numpy(),
        "planned_floor_area_m2": _wan_m2(cumulative["planned_floor_area_m2"]).to_numpy(),
        "completed_floor_area_m2": _wan_m2(cumulative["completed_floor_area_m2"]).to_numpy(),
        "area_done_share": percent(cumulative["area_done_share"]).to_numpy(),
        "share_of_city_done": percent(cumulative["share_of_city_done"]).to_numpy(),
    })
    return labelled(out, "programme.col")


OTHER_COLOR = "#A9B8C9"  # the other units, beside the one shown (in the selection colour)
STOCK_PARTS = ("done_floor_area_m2", "planned_floor_area_m2", "pool_floor_area_m2")


def stock_figure(summary: Programme) -> tuple[go.Figure, pd.DataFrame]:
    """The stock of the city (or the unit shown) per tier (built by 2000, 2001–2005): done, planned and not done,
    in the pool (万 m²)."""
    shown = of_unit(summary.stock, summary)
    tiers = [t(f"programme.tier.{tier}") for tier in shown["tier"]]
    fig = go.Figure()
    for col in STOCK_PARTS:
        fig.add_trace(go.Bar(x=tiers, y=_wan_m2(shown[col]), name=t(f"programme.stock.{col}")))
    fig.update_layout(barmode="stack", yaxis_title=t("programme.unit.wan_m2"))
    return fig, stock_table(rows_shown(summary.stock, summary))


def stock_table(stock: pd.DataFrame) -> pd.DataFrame:
    """``Programme.stock`` per tier and unit; labelled."""
    out = pd.DataFrame({
        "tier": [t(f"programme.tier.{tier}") for tier in stock["tier"]],
        "unit": [unit_name(c) for c in stock["unit_code"]],
        "stock_compounds": stock["stock_compounds"].to_numpy(),
        "stock_floor_area_m2": _wan_m2(stock["stock_floor_area_m2"]).to_numpy(),
        "done_compounds": stock["done_compounds"].to_numpy(),
        "done_floor_area_m2": _wan_m2(stock["done_floor_area_m2"]).to_numpy(),
        "stock_planned_compounds": stock["planned_compounds"].to_numpy(),
        "pool_compounds": stock["pool_compounds"].to_numpy(),
        "remaining_compounds": stock["remaining_compounds"].to_numpy(),
        "remaining_floor_area_m2": _wan_m2(stock["remaining_floor_area_m2"]).to_numpy(),
        "done_share": percent(stock["done_share"]).to_numpy(),
    })
    return labelled(out, "programme.col")


POOL_PARTS = ("first_tier", "second_tier", "not_eligible")


def pool_figure(summary: Programme) -> tuple[go.Figure, pd.DataFrame]:
    """The candidate pool per unit (or of the unit shown): compounds built by 2000, 2001–2005, and not eligible
    (stacked)."""
    units = summary.pool[summary.pool["unit_code"] != CITY_CODE] if is_city(summary) else of_unit(summary.pool, summary)
    names = [unit_name(c) for c in units["unit_code"]]
    fig = go.Figure()
    for col in POOL_PARTS:
        fig.add_trace(go.Bar(x=names, y=units[col], name=t(f"programme.col.pool_{col}")))
    fig.update_layout(barmode="stack", yaxis_title=t("programme.unit.compounds"))
    return fig, pool_table(rows_shown(summary.pool, summary))


def pool_table(pool: pd.DataFrame) -> pd.DataFrame:
    """``Programme.pool`` per unit and the city; labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in pool["unit_code"]], "pool_compounds": pool["compounds"].to_numpy(),
        "pool_households": pool["households"].to_numpy(),
        "pool_floor_area_m2": _wan_m2(pool["floor_area_m2"]).to_numpy(),
        "pool_eligible": pool["eligible"].to_numpy(), "pool_first_tier": pool["first_tier"].to_numpy(),
        "pool_second_tier": pool["second_tier"].to_numpy(), "pool_not_eligible": pool["not_eligible"].to_numpy(),
    })
    return labelled(out, "programme.col")
