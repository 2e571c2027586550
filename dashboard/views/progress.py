"""The county progress page (县区进度): cached progress loaders, the ranking and outputs tables, KPI cards,
the plan-vs-actual and weekly figures' data, and the compounds behind schedule."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import aftercare, funding, programme, progress, units
from analytics.progress import CITY_CODE
from analytics.services.bulletin import facts as bulletin_facts
from analytics.services.bulletin import issues, money_order_lines, office
from dashboard import state
from dashboard.formatting import (
    MISSING,
    arrow,
    fmt_int,
    fmt_pct,
    fmt_wan,
    is_missing,
    join_names,
    percent,
    reasons_text,
    share_of,
    source_name,
    status_name,
    unit_name,
)
from dashboard.handout import Handout, table_of
from dashboard.labels import current_lang, has, labelled, t
from dashboard.ui import Kpi, data_source
from dashboard.views import overview


# ----------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=64)
def _county_progress(as_of: date, rank_by: str, all_units: bool, version: str) -> pd.DataFrame:
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
def _weekly_series(plan_year: int, unit_code: str | None, until: date | None, version: str) -> pd.DataFrame:
    series = progress.weekly_series(state.cursor(), plan_year=plan_year, unit_code=unit_code)
    if until is not None:
        series = series[pd.to_datetime(series["report_date"]).dt.date <= until].reset_index(drop=True)
    return series


def weekly_series(*, plan_year: int, unit_code: str | None = None, until: date | None = None) -> pd.DataFrame:
    """``analytics.progress.weekly_series`` for the city (``unit_code=None``) or one county / zone, up to the
    report date ``until`` (the page's as-of date) when given."""
    return _weekly_series(plan_year, unit_code, until, state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _behind_schedule(as_of: date, unit_code: str | None, version: str) -> pd.DataFrame:
    return progress.behind_schedule(state.cursor(), as_of=as_of, unit_code=unit_code)


def behind_schedule(*, as_of: date, unit_code: str | None = None) -> pd.DataFrame:
    """``analytics.progress.behind_schedule`` as of ``as_of`` for the city or one county / zone."""
    return _behind_schedule(as_of, unit_code, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _bulletin_issue(as_of: date, kind: str, version: str) -> issues.Issue:
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


def progress_kpis(frame: pd.DataFrame, *, period: str, unit_code: str | None = None) -> list[Kpi]:
    """KPI cards of one unit (``unit_code``; the city total by default) from its ``county_progress`` row.

    Started and completed compounds against the year's target, stated as on the overview's cards
    (``overview.card_figures``: "目标 152 个", "清单 150 个 · 目标 152 个", or the list where no target is
    stored); the three rates are ``county_progress``'s, measured against the same target.
    """
    row = overview.progress_row(frame, unit_code)
    task = overview.card_figures(row).compounds
    note = overview.task_note(task, "count")
    unit = unit_name(row.unit_code)

    def delta(column: str) -> str | None:
        change = row[f"{column}_chg_{period}"]
        return None if pd.isna(change) else t("progress.kpi.delta_pp", value=float(change) * 100)

    return [
        Kpi(t("progress.kpi.started", unit=unit), fmt_int(row.started), note, plain_delta=True),
        Kpi(t("progress.kpi.completed", unit=unit), fmt_int(row.completed), note, plain_delta=True),
        Kpi(t("progress.kpi.start_rate"), fmt_pct(row.start_rate_compounds), delta("start_rate_compounds")),
        Kpi(t("progress.kpi.completion_rate"), fmt_pct(row.completion_rate), delta("completion_rate")),
        Kpi(t("progress.kpi.invest_rate"), fmt_pct(row.invest_rate), delta("invest_rate")),
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


# ------------------------------------------------------------------- projects, money, after-care, findings
@st.cache_data(show_spinner=False, max_entries=32)
def _project_progress(as_of: date, plan_year: int | None, version: str) -> pd.DataFrame:
    return programme.project_progress(state.cursor(), as_of=as_of, plan_year=plan_year)


def project_progress(*, as_of: date, plan_year: int | None = None) -> pd.DataFrame:
    """``analytics.programme.project_progress`` on ``as_of`` (projects of ``plan_year``, or all)."""
    return _project_progress(as_of, plan_year, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _money_flow(as_of: date, by: tuple[str, ...], plan_year: int | None, version: str) -> pd.DataFrame:
    return funding.money_flow(state.cursor(), as_of=as_of, by=by, plan_year=plan_year)


def money_flow(*, as_of: date, by: tuple[str, ...], plan_year: int | None = None) -> pd.DataFrame:
    """``analytics.funding.money_flow`` up to ``as_of`` grouped ``by``, for ``plan_year`` (or every year)."""
    return _money_flow(as_of, tuple(by), plan_year, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _aftercare(as_of: date, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    cursor = state.cursor()
    return aftercare.aftercare_summary(cursor, as_of=as_of), aftercare.completed_compounds(cursor, as_of=as_of)


def aftercare_on(*, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``analytics.aftercare.aftercare_summary`` and ``completed_compounds`` on ``as_of``."""
    return _aftercare(as_of, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _findings(as_of: date, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    cursor = state.cursor()
    return aftercare.open_findings(cursor, as_of=as_of), aftercare.findings_summary(cursor, as_of=as_of)


def findings_on(*, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``analytics.aftercare.open_findings`` and ``findings_summary`` on ``as_of``."""
    return _findings(as_of, state.data_version())


def of_unit(frame: pd.DataFrame, unit_code: str) -> pd.DataFrame:
    """The rows of one county / zone (``unit_code`` column); every row for the city (370800)."""
    return frame if unit_code == CITY_CODE else frame[frame["unit_code"] == unit_code]


def _label(prefix: str, value: object) -> str:
    """The label ``{prefix}.{value}``, or the value as stored (missing: the missing marker)."""
    if is_missing(value):
        return MISSING
    return t(f"{prefix}.{value}") if has(f"{prefix}.{value}") else str(value)


def projects_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``project_progress`` rows with names of units and delivery models, money (万元) and rates (%); labelled."""
    out = pd.DataFrame({
        "project_id": frame["project_id"], "project": frame["name"], "year": frame["year"],
        "unit": [unit_name(c) for c in frame["unit_code"]], "street": frame["street"],
        "delivery_model": [_label("followup.delivery", m) for m in frame["delivery_model"]],
        "contractor": frame["contractor"], "compounds": frame["compounds"], "households": frame["households"],
        "started": frame["started"], "completed": frame["completed"],
        "invest_planned_wan": frame["invest_planned_wan"].round(2), "invest_done_wan": frame["invest_done_wan"].round(2),
        "paid_wan": frame["paid_wan"].round(2), "invest_rate": percent(frame["invest_rate"]),
        "payment_rate": percent(frame["payment_rate"]),
    })
    return labelled(out, "followup.col")


def _order_problems(row: pd.Series) -> str:
    checks = [name for name in funding.FLOW_ORDER_CHECKS if bool(row[name])]
    return join_names(t(f"followup.order.{name}") for name in checks)


def money_table(flow: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """``money_flow`` grouped by one ``key`` (``unit_code`` or ``source``) with the four stages (万元), the
    rates (%) and the ordering problems named; a city row is added for ``unit_code``; labelled."""
    rows = flow
    if key == "unit_code" and not flow.empty:
        sums = flow[["planned_wan", "invest_planned_wan", "allocated_wan", "received_wan", "paid_wan"]].sum()
        city = {**sums.to_dict(), "unit_code": CITY_CODE}
        rows = pd.concat([flow, pd.DataFrame([city])], ignore_index=True)
        plan = rows["planned_wan"].where(rows["planned_wan"] > 0)
        rows["payment_rate"] = rows["paid_wan"] / plan
        rows["received_rate"] = rows["received_wan"] / plan
        for name in funding.FLOW_ORDER_CHECKS:
            rows[name] = rows[name].fillna(False).astype(bool)
    name = [unit_name(c) for c in rows[key]] if key == "unit_code" else [
        MISSING if is_missing(s) else source_name(s) for s in rows[key]]
    out = pd.DataFrame({
        "unit" if key == "unit_code" else "source": name,
        "planned_wan": rows["planned_wan"].round(2), "allocated_wan": rows["allocated_wan"].round(2),
        "received_wan": rows["received_wan"].round(2), "paid_wan": rows["paid_wan"].round(2),
        "received_rate": percent(rows["received_rate"]), "payment_rate": percent(rows["payment_rate"]),
        "order_problems": [_order_problems(row) for _, row in rows.iterrows()],
    })
    return labelled(out, "followup.col")


def money_figure(flow: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """Grouped bars per unit: planned, allocated, received and paid (万元), official order."""
    units = flow[flow["unit_code"].notna()]
    names = [unit_name(c) for c in units["unit_code"]]
    fig = go.Figure()
    for col in ("planned_wan", "allocated_wan", "received_wan", "paid_wan"):
        fig.add_trace(go.Bar(x=names, y=units[col].round(2), name=t(f"followup.col.{col}")))
    fig.update_layout(barmode="group", yaxis_title=t("followup.unit.wan"))
    return fig, money_table(units, key="unit_code")


def money_kpis(flow: pd.DataFrame) -> list[Kpi]:
    """City cards: planned, allocated, received, paid and the payment rate (支付率)."""
    sums = flow[["planned_wan", "allocated_wan", "received_wan", "paid_wan"]].sum()
    planned = float(sums["planned_wan"])
    return [
        Kpi(t("followup.kpi.planned"), fmt_wan(planned)),
        Kpi(t("followup.kpi.allocated"), fmt_wan(sums["allocated_wan"])),
        Kpi(t("followup.kpi.received"), fmt_wan(sums["received_wan"])),
        Kpi(t("followup.kpi.paid"), fmt_wan(sums["paid_wan"])),
        Kpi(t("followup.kpi.payment_rate"), share_of(float(sums["paid_wan"]), planned)),
    ]


@st.cache_data(show_spinner=False, max_entries=32)
def _money_order(report_date: date, plan_year: int, version: str) -> pd.DataFrame:
    return bulletin_facts.money_order(state.cursor(), plan_year=plan_year, report_date=report_date)


def money_order(*, report_date: date, plan_year: int) -> pd.DataFrame:
    """Money out of order up to ``report_date``, of ``plan_year`` and the years before it: what the bulletin's
    三、资金支付 names (``analytics.services.bulletin.facts.money_order``)."""
    return _money_order(report_date, plan_year, state.data_version())


def money_problem_lines(problems: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """The bulletin's sentences for ``problems`` (one per case, units in ranking order) in the user's language."""
    names = {c: unit_name(c) for c in problems["unit_code"].dropna().unique()}
    return money_order_lines(problems, frame, lang=current_lang(), unit_names=names)  # type: ignore[arg-type]


def money_problems_table(problems: pd.DataFrame) -> pd.DataFrame:
    """``money_order`` as a table: unit, plan year, compound (or project), which stage exceeds which, by how
    much (万元) and the sources concerned; labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in problems["unit_code"]],
        "year": problems["plan_year"].astype("Int64"),
        "compound_id": [MISSING if is_missing(c) else c for c in problems["compound_id"]],
        "compound_or_project": [  # money booked on a project: the project
            (MISSING if is_missing(p) else p) if is_missing(cid) else (MISSING if is_missing(c) else c)
            for cid, c, p in zip(problems["compound_id"], problems["compound_name"], problems["project_name"])],
        "order_problems": [t(f"followup.order.{c}") for c in problems["check"]],
        "later_wan": problems["later_wan"].astype(float).round(2),
        "earlier_wan": problems["earlier_wan"].astype(float).round(2),
        "excess_wan": problems["excess_wan"].astype(float).round(2),
        "sources": [join_names(source_name(s) for s in sources) for sources in problems["sources"]],
    })
    return labelled(out, "followup.col")


def aftercare_kpis(summary: pd.DataFrame) -> list[Kpi]:
    """City cards: completed compounds, 长效管理 established (share), satisfaction."""
    city = summary[summary["unit_code"] == CITY_CODE].iloc[0]
    return [
        Kpi(t("followup.kpi.completed"), fmt_int(city["completed"])),
        Kpi(t("followup.kpi.established"), fmt_pct(city["established_share"]),
            t("followup.kpi.of_completed", n=fmt_int(city["established"]), m=fmt_int(city["completed"])),
            plain_delta=True),
        Kpi(t("followup.kpi.missing"), fmt_int(city["completed"] - city["with_record"])),
        Kpi(t("followup.kpi.satisfaction"),
            MISSING if is_missing(city["satisfaction_pct"]) else f"{float(city['satisfaction_pct']):.1f}%"),
    ]


def aftercare_table(summary: pd.DataFrame) -> pd.DataFrame:
    """``aftercare_summary`` per unit and the city: counts, the share established (%), modes, satisfaction; labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in summary["unit_code"]], "completed": summary["completed"],
        "with_record": summary["with_record"], "established": summary["established"],
        "established_share": percent(summary["established_share"]),
        **{col: summary[col] for col in aftercare.MODE_COLUMNS},
        "surveyed": summary["surveyed"], "satisfaction_pct": summary["satisfaction_pct"].astype(float).round(1),
    })
    return labelled(out, "followup.col")


def modes_figure(summary: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """Stacked bars per unit: completed compounds by property management mode after completion."""
    units = summary[summary["unit_code"] != CITY_CODE]
    names = [unit_name(c) for c in units["unit_code"]]
    fig = go.Figure()
    for col in aftercare.MODE_COLUMNS:
        fig.add_trace(go.Bar(x=names, y=units[col], name=t(f"followup.col.{col}")))
    fig.update_layout(barmode="stack", yaxis_title=t("followup.unit.compounds"))
    return fig, aftercare_table(summary)


def aftercare_missing_table(done: pd.DataFrame) -> pd.DataFrame:
    """Completed compounds whose 长效管理 is not established (no after-care row, or not yet)."""
    rows = done[~done["established"]]
    out = pd.DataFrame({
        "compound_id": rows["compound_id"], "compound": rows["name"],
        "unit": [unit_name(c) for c in rows["unit_code"]], "completed_on": rows["completed_on"].dt.date,
        "mgmt_mode": [_label("followup.mode", m) if not is_missing(m) else t("followup.not_entered")
                      for m in rows["mgmt_mode"]],
    })
    return labelled(out, "followup.col")


def findings_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Open findings, the longest overdue first, with the overdue ones marked; labelled."""
    out = pd.DataFrame({
        "finding_id": frame["id"], "unit": [unit_name(c) for c in frame["unit_code"]],
        "compound_id": [MISSING if is_missing(c) else c for c in frame["compound_id"]],
        "category": [_label("followup.category", c) for c in frame["category"]],
        "description": frame["description"], "found_date": frame["found_date"].dt.date,
        "deadline": frame["deadline"].dt.date,
        "finding_status": [_label("followup.fstatus", s) for s in frame["status"]],
        "overdue": [t("followup.overdue_days", n=int(d)) if flag else "" for d, flag in
                    zip(frame["days_overdue"], frame["overdue"])],
    })
    return labelled(out, "followup.col")


def findings_summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """``findings_summary`` per unit and the city; labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in summary["unit_code"]], "found": summary["found"], "open": summary["open"],
        "overdue_count": summary["overdue"], "closed": summary["closed"],
    })
    return labelled(out, "followup.col")
