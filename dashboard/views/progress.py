"""The county progress page (县区进度): cached progress loaders, the ranking and outputs tables, KPI cards,
the plan-vs-actual and weekly figures' data, and the compounds behind schedule."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import progress, units
from analytics.progress import CITY_CODE
from analytics.services.bulletin import issues, office
from dashboard import state
from dashboard.formatting import arrow, fmt_pct, join_names, percent, reasons_text, status_name, unit_name
from dashboard.handout import Handout, table_of
from dashboard.labels import current_lang, labelled, t
from dashboard.ui import Kpi, data_source


# ----------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=64)
def _county_progress(as_of: date, rank_by: str, all_units: bool, version: int) -> pd.DataFrame:
    cursor = state.cursor()
    frame = progress.county_progress(cursor, as_of=as_of, rank_by=rank_by)  # type: ignore[arg-type]
    if not all_units:
        return frame
    return progress.with_units_without_task(frame, units.units(cursor, year=frame.attrs["plan_year"]))


def county_progress(*, as_of: date, rank_by: str = "start_rate_compounds", all_units: bool = False) -> pd.DataFrame:
    """``analytics.progress.county_progress`` for the report on or before ``as_of`` (plan year = its year).

    With ``all_units`` every unit active that year is listed, one without a task (无年度任务) with no
    figures, as in the bulletin.
    """
    return _county_progress(as_of, rank_by, all_units, state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _weekly_series(plan_year: int, unit_code: str | None, until: date | None, version: int) -> pd.DataFrame:
    series = progress.weekly_series(state.cursor(), plan_year=plan_year, unit_code=unit_code)
    if until is not None:
        series = series[pd.to_datetime(series["report_date"]).dt.date <= until].reset_index(drop=True)
    return series


def weekly_series(*, plan_year: int, unit_code: str | None = None, until: date | None = None) -> pd.DataFrame:
    """``analytics.progress.weekly_series`` for the city (``unit_code=None``) or one county / zone, up to the
    report date ``until`` (the page's as-of date) when given."""
    return _weekly_series(plan_year, unit_code, until, state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _behind_schedule(as_of: date, unit_code: str | None, version: int) -> pd.DataFrame:
    return progress.behind_schedule(state.cursor(), as_of=as_of, unit_code=unit_code)


def behind_schedule(*, as_of: date, unit_code: str | None = None) -> pd.DataFrame:
    """``analytics.progress.behind_schedule`` as of ``as_of`` for the city or one county / zone."""
    return _behind_schedule(as_of, unit_code, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _bulletin_issue(as_of: date, kind: str, version: int) -> issues.Issue:
    cursor = state.cursor()
    return issues.issue_for(cursor, as_of=as_of, kind=kind, office=office.load(cursor))  # type: ignore[arg-type]


def bulletin_date(as_of: date, *, kind: str) -> tuple[date, int, bool]:
    """The report date, issue number (第N期) and interim flag of the dispatch / bulletin on ``as_of``.

    ``analytics.services.bulletin.issues.issue_for``: ``"week"`` the latest report on or before ``as_of``;
    ``"month"`` the last report of the latest month complete on ``as_of`` (the current month, flagged
    interim, before any month is complete); numbered in the office's series.
    """
    issue = _bulletin_issue(as_of, kind, state.data_version())
    return issue.report_date, issue.issue, issue.interim


# ------------------------------------------------------------------------------------------------ display
RANK_INDICATORS = ("start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate")


PERIODS = ("week", "month")


ORDERS = ("official", "rank")


FLAGS = ("top_three", "bottom_three", "below_city_average")


def _ordered(frame: pd.DataFrame, order: str) -> pd.DataFrame:
    """Units in the official order or by rank (ties in the official order, as in the bulletin), the city last."""
    if order == "rank":
        return progress.ranking_order(frame)
    return pd.concat([frame[frame.kind != "city"], frame[frame.kind == "city"]])


def progress_ranking(frame: pd.DataFrame, *, period: str, order: str) -> pd.DataFrame:
    """The ranking table of ``county_progress``: rank, ▲▼ changes for ``period``, flags; labelled columns.

    ``order`` ``"official"`` keeps the official county order (function zones after them); ``"rank"`` sorts
    by rank. The city-total row stays last either way.
    """
    rows = _ordered(frame, order)
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
            t("progress.flag.no_task") if row["kind"] != "city" and row["planned_compounds"] == 0
            else join_names(t(f"progress.flag.{name}") for name in FLAGS if bool(row[name]))
            for _, row in rows.iterrows()
        ],
    })
    if period != "week":
        out = out.drop(columns="rank_chg")
    return labelled(out, "progress.col")


def ranking_key_columns(rank_by: str) -> list[str]:
    """What a phone shows of the ranking at first: rank, unit and the indicator it is ranked by."""
    shown = rank_by if rank_by in ("start_rate_compounds", "completion_rate", "invest_rate") else "completion_rate"
    return [t("progress.col.rank"), t("progress.col.unit"), t(f"progress.col.{shown}")]


def progress_column_config() -> dict[str, object]:
    """Number formats of the ranking and outputs tables: rates to 0.1 %, money to 0.01 万元."""
    rates = ("start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate")
    config = {t(f"progress.col.{c}"): st.column_config.NumberColumn(format="%.1f") for c in rates}
    config[t("progress.col.invest_done_wan")] = st.column_config.NumberColumn(format="%.2f")
    config[t("progress.col.pipes_km")] = st.column_config.NumberColumn(format="%.2f")
    return config


OUTPUT_COLUMNS = ("elevators_added", "parking_spaces", "chargers", "facilities_added", "pipes_km")


def progress_outputs(frame: pd.DataFrame, *, order: str) -> pd.DataFrame:
    """Cumulative outputs per unit (elevators, parking, chargers, facilities, pipes); labelled columns."""
    rows = _ordered(frame, order)
    out = pd.DataFrame({"unit": [unit_name(c) for c in rows.unit_code]})
    for col in OUTPUT_COLUMNS:
        out[col] = rows[col].to_numpy()
    return labelled(out, "progress.col")


def weekly_table(series: pd.DataFrame) -> pd.DataFrame:
    """The data of the weekly trend chart: cumulative counts, plan and rates (%) per report date; labelled."""
    data = pd.DataFrame({
        "report_date": series.report_date,
        "started": series.started, "completed": series.completed, "planned_compounds": series.planned_compounds,
        "start_rate_compounds": percent(series.start_rate_compounds),
        "completion_rate": percent(series.completion_rate),
        "invest_rate": percent(series.invest_rate),
    })
    return labelled(data, "progress.col")


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
    return fig, labelled(data, "progress.col")


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
        "reason": [reasons_text(r, "progress.reason") for r in frame.reason],
    })
    return labelled(out, "progress.col")


def progress_kpis(frame: pd.DataFrame, *, period: str) -> list[Kpi]:
    """City-level KPI cards from the city row of ``county_progress``."""
    city = frame[frame.kind == "city"].iloc[0]
    planned = int(city.planned_compounds)

    def delta(column: str) -> str | None:
        change = city[f"{column}_chg_{period}"]
        return None if pd.isna(change) else t("progress.kpi.delta_pp", value=float(change) * 100)

    return [
        Kpi(t("progress.kpi.started"), f"{int(city.started)} / {planned}"),
        Kpi(t("progress.kpi.completed"), f"{int(city.completed)} / {planned}"),
        Kpi(t("progress.kpi.start_rate"), fmt_pct(city.start_rate_compounds), delta("start_rate_compounds")),
        Kpi(t("progress.kpi.completion_rate"), fmt_pct(city.completion_rate), delta("completion_rate")),
        Kpi(t("progress.kpi.invest_rate"), fmt_pct(city.invest_rate), delta("invest_rate")),
    ]


def unit_options(frame: pd.DataFrame) -> list[str]:
    """The city code (370800) then the county / zone codes with a task in a ``county_progress`` frame, in order."""
    return [CITY_CODE, *frame.loc[(frame.kind != "city") & (frame.planned_compounds > 0), "unit_code"].tolist()]




def ranking_handout(frame: pd.DataFrame, *, period: str, rank_by: str, issue_line: str) -> Handout:
    """The ranking's printed page: the city's cards and the ranking table by rank (the page's figures),
    with the issue, the indicator it is ranked by, the source and the demo mark."""
    table = progress_ranking(frame, period=period, order="rank")
    rates = [t(f"progress.col.{c}") for c in ("start_rate_compounds", "completion_rate", "invest_rate")]
    return Handout(
        title=t("handout.ranking_title"),
        meta=[issue_line, t("handout.ranked_by", indicator=t(f"progress.ind.{rank_by}")),
              t("export.chart.source", source=data_source())],
        demo_mark=t("export.chart.demo") if state.is_demo() else None,
        kpis=progress_kpis(frame, period=period),
        kpi_columns=5,
        tables=[(t("progress.ranking"), table_of(table, decimals={**dict.fromkeys(rates, 1),
                                                                  t("progress.col.invest_done_wan"): 2},
                                                  bold=[len(table) - 1]))],
        footer=t("handout.made", date=date.today().isoformat()),
        lang=current_lang(),
    )
