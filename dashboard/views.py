"""Display tables and plotly figures for the progress, priority and funding pages.

Built from the frames ``analytics`` returns: columns renamed to labels in the user's language, county and
status names translated, rates shown in per cent, changes as ▲▼ arrows; plus the casts that read a view
back from the URL. Pure functions of their inputs and the current language; no analysis happens here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import elevators, settings
from analytics import progress as progress_mod
from analytics.progress import CITY_CODE
from dashboard import charts, state
from dashboard.labels import current_lang, has, t

# ----------------------------------------------------------------------------------------------- shared


def unit_name(code: str | None) -> str:
    """Name of a county, function zone or the city (``None`` / 370800) in the user's language."""
    en = current_lang() == "en"
    if code is None or code == CITY_CODE:
        return t("common.city_total")
    if code in settings.COUNTIES:
        zh_name, en_name, *_ = settings.COUNTIES[code]
        return en_name if en else zh_name
    if code in settings.FUNCTION_ZONES:
        zh_name, en_name = settings.FUNCTION_ZONES[code]
        return en_name if en else zh_name
    return str(code)


def status_name(status: str | None) -> str:
    """A compound status (未开工 / 已立项 / 已开工 / 已完工) in the user's language."""
    return t(f"status.{status}") if isinstance(status, str) and status else ""


def arrow(change: float | None, *, digits: int = 1, scale: float = 1.0) -> str:
    """``▲ 2.5`` / ``▼ 1.0`` / ``— 0.0`` for a change (times ``scale``); empty when there is none (NaN)."""
    if change is None or (isinstance(change, float) and math.isnan(change)) or pd.isna(change):
        return ""
    value = round(float(change) * scale, digits)
    if value > 0:
        return f"▲ {value:.{digits}f}"
    if value < 0:
        return f"▼ {abs(value):.{digits}f}"
    return f"— {0:.{digits}f}"


def percent(fraction: pd.Series) -> pd.Series:
    """Fractions 0–1 as per cent rounded to 0.1 (NaN stays NaN)."""
    return (fraction.astype(float) * 100).round(1)


def styled(fig: go.Figure, *, title: str, unit: str | None = None, as_of: date | None = None,
           data_chart: bool = True) -> go.Figure:
    """``fig`` in the bulletin style (title, unit, as-of date; source line and demo mark for charts of stored
    data, ``data_chart=False`` for a calculation that does not come from the database)."""
    if not data_chart:
        return charts.style_figure(fig, title=title, unit=unit, as_of=as_of)
    demo = state.is_demo()
    source = t("common.demo_footer") if demo else t("sidebar.own_data")
    return charts.style_figure(fig, title=title, unit=unit, as_of=as_of, source=source, demo=demo)


def _labelled(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return frame.rename(columns={c: t(f"{prefix}.{c}") for c in frame.columns})


def url_list(allowed: Sequence[object], *, item: Callable[[str], object] = str) -> Callable[[str], list]:
    """A ``urlstate.bind`` cast for a comma-separated list: items parsed with ``item``, unknown ones dropped."""
    def cast(raw: str) -> list:
        values = []
        for part in raw.split(","):
            try:
                value = item(part)
            except (TypeError, ValueError):
                continue
            if value in allowed and value not in values:
                values.append(value)
        return values

    return cast


# --------------------------------------------------------------------------------------------- progress

RANK_INDICATORS = ("start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate")
PERIODS = ("week", "month")
ORDERS = ("official", "rank")
FLAGS = ("top_three", "bottom_three", "below_city_average")


def progress_ranking(frame: pd.DataFrame, *, period: str, order: str) -> pd.DataFrame:
    """The ranking table of ``county_progress``: rank, ▲▼ changes for ``period``, flags; labelled columns.

    ``order`` ``"official"`` keeps the official county order (function zones after them); ``"rank"`` sorts
    by rank. The city-total row stays last either way.
    """
    rows = progress_mod.ranking_order(frame) if order == "rank" else pd.concat(
        [frame[frame.kind != "city"], frame[frame.kind == "city"]])
    sep = "、" if current_lang() == "zh" else ", "
    out = pd.DataFrame({
        "rank": rows["rank"].astype("Int64"),
        "rank_chg": [arrow(v, digits=0) for v in rows["rank_chg_week"]] if period == "week" else None,
        "unit": [unit_name(c) for c in rows.unit_code],
        "planned_compounds": rows.planned_compounds.astype("Int64"),
        "planned_households": rows.planned_households.astype("Int64"),
        "started": rows.started.astype("Int64"),
        "started_households": rows.started_households.astype("Int64"),
        "completed": rows.completed.astype("Int64"),
        "completed_households": rows.completed_households.astype("Int64"),
        "start_rate_compounds": percent(rows.start_rate_compounds),
        "start_chg": [arrow(v, scale=100) for v in rows[f"start_rate_compounds_chg_{period}"]],
        "completion_rate": percent(rows.completion_rate),
        "completion_chg": [arrow(v, scale=100) for v in rows[f"completion_rate_chg_{period}"]],
        "invest_done_wan": rows.invest_done_wan.astype(float).round(2),
        "invest_rate": percent(rows.invest_rate),
        "invest_chg": [arrow(v, scale=100) for v in rows[f"invest_rate_chg_{period}"]],
        "flags": [
            sep.join(t(f"progress.flag.{name}") for name in FLAGS if bool(row[name]))
            for _, row in rows.iterrows()
        ],
    })
    if period != "week":
        out = out.drop(columns="rank_chg")
    return _labelled(out, "progress.col")


def progress_column_config() -> dict[str, object]:
    """Number formats of the ranking and outputs tables: rates to 0.1 %, money to 0.01 万元."""
    rates = ("start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate")
    config = {t(f"progress.col.{c}"): st.column_config.NumberColumn(format="%.1f") for c in rates}
    config[t("progress.col.invest_done_wan")] = st.column_config.NumberColumn(format="%.2f")
    config[t("progress.col.pipes_km")] = st.column_config.NumberColumn(format="%.2f")
    return config


def progress_outputs(frame: pd.DataFrame, *, order: str) -> pd.DataFrame:
    """Cumulative outputs per unit (elevators, parking, chargers, facilities, pipes); labelled columns."""
    rows = progress_mod.ranking_order(frame) if order == "rank" else pd.concat(
        [frame[frame.kind != "city"], frame[frame.kind == "city"]])
    out = pd.DataFrame({"unit": [unit_name(c) for c in rows.unit_code]})
    for col in OUTPUT_COLUMNS:
        out[col] = rows[col].to_numpy()
    return _labelled(out, "progress.col")


OUTPUT_COLUMNS = ("elevators_added", "parking_spaces", "chargers", "facilities_added", "pipes_km")


def weekly_table(series: pd.DataFrame) -> pd.DataFrame:
    """The data of the weekly trend chart: cumulative counts, plan and rates (%) per report date; labelled."""
    data = pd.DataFrame({
        "report_date": series.report_date,
        "started": series.started, "completed": series.completed, "planned_compounds": series.planned_compounds,
        "start_rate_compounds": percent(series.start_rate_compounds),
        "completion_rate": percent(series.completion_rate),
        "invest_rate": percent(series.invest_rate),
    })
    return _labelled(data, "progress.col")


def plan_vs_actual_figure(frame: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """Grouped bars per county / zone: planned, started and completed compounds (official order)."""
    units = frame[frame.kind != "city"]
    names = [unit_name(c) for c in units.unit_code]
    fig = go.Figure()
    for col in ("planned_compounds", "started", "completed"):
        fig.add_trace(go.Bar(x=names, y=units[col], name=t(f"progress.col.{col}")))
    fig.update_layout(barmode="group", yaxis_title=t("progress.weekly.value"))
    data = pd.DataFrame({
        "unit": names,
        "planned_compounds": units.planned_compounds.to_numpy(),
        "started": units.started.to_numpy(),
        "completed": units.completed.to_numpy(),
        "start_rate_compounds": percent(units.start_rate_compounds).to_numpy(),
        "completion_rate": percent(units.completion_rate).to_numpy(),
    })
    return fig, _labelled(data, "progress.col")


def behind_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Compounds behind schedule with translated county, status and reason; labelled columns."""
    out = pd.DataFrame({
        "compound_id": frame.compound_id,
        "compound": frame.name,
        "unit": [unit_name(c) for c in frame.unit_code],
        "status": [status_name(s) for s in frame.status],
        "planned_start_date": pd.to_datetime(frame.planned_start_date).dt.date,
        "planned_completion_date": pd.to_datetime(frame.planned_completion_date).dt.date,
        "days_late": frame.days_late.astype("Int64"),
        "reason": [reason_name(r) for r in frame.reason],
    })
    return _labelled(out, "progress.col")


def reason_name(reason: str) -> str:
    """Behind-schedule reason codes (``start_overdue;completion_overdue``) in the user's language."""
    sep = "；" if current_lang() == "zh" else "; "
    return sep.join(t(f"progress.reason.{code}") if has(f"progress.reason.{code}") else code
                    for code in str(reason).split(";") if code)


def progress_kpis(frame: pd.DataFrame, *, period: str) -> list[tuple[str, str, str | None]]:
    """City-level KPI cards ``(label, value, delta)`` from the city row of ``county_progress``."""
    city = frame[frame.kind == "city"].iloc[0]
    planned = int(city.planned_compounds)

    def delta(column: str) -> str | None:
        change = city[f"{column}_chg_{period}"]
        return None if pd.isna(change) else t("progress.kpi.delta_pp", value=float(change) * 100)

    return [
        (t("progress.kpi.started"), f"{int(city.started)} / {planned}", None),
        (t("progress.kpi.completed"), f"{int(city.completed)} / {planned}", None),
        (t("progress.kpi.start_rate"), f"{city.start_rate_compounds * 100:.1f}%", delta("start_rate_compounds")),
        (t("progress.kpi.completion_rate"), f"{city.completion_rate * 100:.1f}%", delta("completion_rate")),
        (t("progress.kpi.invest_rate"), f"{city.invest_rate * 100:.1f}%", delta("invest_rate")),
    ]


def unit_options(frame: pd.DataFrame) -> list[str]:
    """The city code (370800) then the county / zone codes of a ``county_progress`` frame, in its order."""
    return [CITY_CODE, *frame.loc[frame.kind != "city", "unit_code"].tolist()]


# --------------------------------------------------------------------------------------------- priority

COMPONENTS = ("age", "willingness", "contributing", "procedures", "benefit")


def weight_shares(shares: dict[str, float]) -> str:
    """``房龄 25% · 居民意愿 15% · …`` for normalised weights."""
    return " · ".join(f"{t(f'priority.comp.{c}')} {shares[c] * 100:.0f}%" for c in COMPONENTS)


def priority_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """Ranked eligible compounds: rank, identity, inputs, components 0–1, weighted parts, score; labelled."""
    yes, no = t("priority.yes"), t("priority.no")
    out = pd.DataFrame({
        "rank": ranked["rank"].astype("int64"),
        "id": ranked["id"],
        "name": ranked["name"],
        "county": [unit_name(c) for c in ranked["county_code"]],
        "plan_year": ranked["plan_year"].astype("Int64"),
        "status": [status_name(s) for s in ranked["status"]],
        "built_year": ranked["built_year"],
        "age_years": ranked["age_years"],
        "households": ranked["households"],
        "willingness_pct": ranked["willingness_pct"],
        "contributing_pct": ranked["contributing_pct"],
        "procedures_complete": [yes if v is True or v == 1 else no for v in ranked["procedures_complete"]],
    })
    for col in (*(f"c_{c}" for c in COMPONENTS), *(f"part_{c}" for c in COMPONENTS), "score"):
        out[col] = ranked[col].astype(float).to_numpy()
    out["missing_inputs"] = [_missing(v) for v in ranked["missing_inputs"]]
    return _labelled(out, "priority.col")


def _missing(codes: str) -> str:
    sep = "、" if current_lang() == "zh" else ", "
    return sep.join(t(f"priority.missing.{c}") for c in str(codes).split(";") if c)


def priority_column_config() -> dict[str, object]:
    """Number formats for :func:`priority_table` (values keep full precision for the downloads)."""
    fmt = {f"c_{c}": "%.3f" for c in COMPONENTS} | {f"part_{c}": "%.3f" for c in COMPONENTS} | {"score": "%.3f"}
    config: dict[str, object] = {t(f"priority.col.{col}"): st.column_config.NumberColumn(format=f) for col, f in fmt.items()}
    config[t("priority.col.built_year")] = st.column_config.NumberColumn(format="%d")
    config[t("priority.col.plan_year")] = st.column_config.NumberColumn(format="%d")
    return config


def priority_figure(ranked: pd.DataFrame, *, top_n: int) -> tuple[go.Figure, pd.DataFrame]:
    """Horizontal stacked bars of the weighted components of the ``top_n`` best compounds (best on top)."""
    top = ranked.head(top_n)
    names = [f"{r}. {n}" for r, n in zip(top["rank"], top["name"])]
    fig = go.Figure()
    for comp in COMPONENTS:
        fig.add_trace(go.Bar(
            y=names, x=top[f"part_{comp}"], name=t(f"priority.comp.{comp}"), orientation="h",
            hovertemplate="%{y}: %{x:.3f}<extra>" + t(f"priority.comp.{comp}") + "</extra>",
        ))
    fig.update_layout(
        barmode="stack", xaxis_title=t("priority.chart.score"), height=max(360, 26 * len(top) + 160),
        yaxis={"autorange": "reversed"},
    )
    data = pd.DataFrame({"rank": top["rank"].to_numpy(), "id": top["id"].to_numpy(), "name": top["name"].to_numpy()})
    for comp in COMPONENTS:
        data[f"part_{comp}"] = top[f"part_{comp}"].to_numpy()
    data["score"] = top["score"].to_numpy()
    return fig, _labelled(data, "priority.col")


def ineligible_table(ineligible: pd.DataFrame) -> pd.DataFrame:
    """Ineligible compounds with the reasons in the user's language; labelled."""
    sep = "；" if current_lang() == "zh" else "; "
    out = pd.DataFrame({
        "id": ineligible["id"],
        "name": ineligible["name"],
        "county": [unit_name(c) for c in ineligible["county_code"]],
        "plan_year": ineligible["plan_year"].astype("Int64"),
        "status": [status_name(s) for s in ineligible["status"]],
        "built_year": ineligible["built_year"],
        "reason": [sep.join(t(f"priority.reason.{c}") for c in str(r).split(";") if c) for r in ineligible["reason"]],
    })
    return _labelled(out, "priority.col")


# ---------------------------------------------------------------------------------------------- funding

MEASURES = ("amount", "share")
CENTRAL_SOURCES = ("central_subsidy", "central_budget")


def source_name(code: str) -> str:
    """A funding source code in the user's language (``settings.FUNDING_SOURCES``; unknown codes as given)."""
    zh, en = settings.FUNDING_SOURCES.get(code, (code, code))
    return en if current_lang() == "en" else zh


def year_name(year: object) -> str:
    """A plan year for display, or "all years"."""
    return t("funding.year.all") if year == "all" else str(year)


def funding_kpis(city: pd.DataFrame) -> list[tuple[str, str]]:
    """City-wide cards ``(label, value)``: funding total, planned investment, largest source, central share."""
    if city.empty:
        return []
    total = float(city["total_wan"].iloc[0])
    top = city.loc[city["amount_wan"].idxmax()]
    central = float(city.loc[city["source"].isin(CENTRAL_SOURCES), "amount_wan"].sum())
    return [
        (t("funding.kpi.total"), f"{total:,.2f}"),
        (t("funding.kpi.planned"), f"{float(city['invest_planned_wan'].iloc[0]):,.2f}"),
        (t("funding.kpi.top_source", source=source_name(top["source"])), f"{top['share'] * 100:.1f}%"),
        (t("funding.kpi.central"), f"{central / total * 100:.1f}%" if total else "–"),
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
    return _labelled(out, "funding.col")


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
        "county": [unit_name(c) if isinstance(c, str) else "" for c in frame["county_code"]],
        "plan_year": frame["plan_year"].astype("Int64"),
        "invest_planned_wan": frame["invest_planned_wan"].astype(float).round(2),
        "parts_wan": frame["parts_wan"].astype(float).round(2),
        "diff_wan": frame["diff_wan"].astype(float).round(2),
        "diff_pct": percent(frame["diff_share"]),
        "n_sources": frame["n_sources"],
        "problem": [t(f"funding.problem.{p}") if has(f"funding.problem.{p}") else str(p) for p in frame["problem"]],
    })
    return _labelled(out, "funding.col")


# -------------------------------------------------------------------------------------------- elevators


def candidate_kpis(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """Cards ``(label, value)`` summing ``elevator_candidates``."""
    return [
        (t("funding.elev.kpi.compounds"), f"{len(frame):,}"),
        (t("funding.elev.kpi.buildings"), f"{int(frame['candidate_buildings'].sum()):,}"),
        (t("funding.elev.kpi.units"), f"{int(frame['candidate_units'].sum()):,}"),
        (t("funding.elev.kpi.households"), f"{int(frame['households_above_second'].sum()):,}"),
        (t("funding.elev.kpi.cost"), f"{float(frame['est_cost_wan'].sum()):,.1f}"),
        (t("funding.elev.kpi.subsidy"), f"{float(frame['est_subsidy_wan'].sum()):,.1f}"),
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
    return _labelled(out, "funding.col")


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


def calculator_problem(
    *,
    floors: int,
    cost_wan: float,
    subsidy_wan: float,
    preset: str,
    custom: list[float] | None,
    areas_m2: list[float] | None,
) -> str | None:
    """What is wrong with the calculator's inputs, in the user's language (``None`` when they are usable)."""
    if not cost_wan > 0:
        return t("funding.err.cost_zero")
    if subsidy_wan > cost_wan:
        return t("funding.err.subsidy_above_cost", subsidy=f"{subsidy_wan:g}", cost=f"{cost_wan:g}")
    if preset in settings.ELEVATOR_SHARE_PRESETS:
        if floors > elevators.PRESET_MAX_FLOORS:
            return t("funding.err.preset_floors", preset=t(f"funding.preset.{preset}"), floors=floors)
        if sum(settings.ELEVATOR_SHARE_PRESETS[preset].get(f, 0.0) for f in range(1, floors + 1)) == 0:
            return t("funding.err.nobody_pays", floors=floors)
    if preset == "coefficient" and all(elevators.coefficient(f) == 0 for f in range(1, floors + 1)):
        return t("funding.err.nobody_pays", floors=floors)
    if preset == "custom":
        values = list(custom or [])
        empty = [str(f) for f, v in enumerate(values, start=1) if v is None or pd.isna(v)]
        if empty or len(values) < floors:
            empty += [str(f) for f in range(len(values) + 1, floors + 1)]
            return t("funding.err.custom_empty", floors="、".join(empty))
        negative = [str(f) for f, v in enumerate(values, start=1) if v < 0]
        if negative:
            return t("funding.err.custom_negative", floors="、".join(negative))
        if sum(values) == 0:
            return t("funding.err.custom_zero")
    if areas_m2 is not None:
        bad = [str(i) for i, a in enumerate(areas_m2, start=1) if a is None or pd.isna(a) or not a > 0]
        if bad:
            return t("funding.err.areas", positions="、".join(bad))
    return None


def custom_scaled_note(custom: list[float] | None, kind: str) -> str | None:
    """A note when custom shares do not add up to 100 % (or 1) and are therefore scaled."""
    if custom is None or kind != "share":
        return None
    total = sum(custom)
    if abs(total - 100) < 1e-9 or abs(total - 1) < 1e-11:
        return None
    return t("funding.calc.scaled", total=f"{total:g}")


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
    return _labelled(pd.concat([out, total], ignore_index=True), "funding.col")


def household_table(shares: pd.DataFrame) -> pd.DataFrame:
    """One row per household (top floor first): floor, position, share %, amount in yuan; labelled."""
    rows = shares.sort_values(["floor", "household"], ascending=[False, True])
    out = pd.DataFrame({
        "floor": [t("funding.calc.floor_label", n=f) for f in rows["floor"]],
        "household": rows["household"].to_numpy(),
        "share_pct": (rows["share"] * 100).round(4).to_numpy(),
        "amount_yuan": rows["amount_yuan"].to_numpy(),
    })
    return _labelled(out, "funding.col")


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
