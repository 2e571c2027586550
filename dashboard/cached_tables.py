"""Cached calls into the progress, priority, funding and elevator analyses, keyed on the data version.

Each public function takes the page's inputs, adds :func:`dashboard.state.data_version` to the cache key
and calls the pure function in ``analytics`` once; reruns with the same view are cache hits and any write
to the database (every write is logged in ``audit_log``) makes them recompute.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import priority, progress
from dashboard import state

# -------------------------------------------------------------------------------------------- progress


@st.cache_data(show_spinner=False, max_entries=64)
def _county_progress(as_of: date, rank_by: str, version: int) -> pd.DataFrame:
    return progress.county_progress(state.cursor(), as_of=as_of, rank_by=rank_by)


def county_progress(*, as_of: date, rank_by: str = "start_rate_compounds") -> pd.DataFrame:
    """``analytics.progress.county_progress`` for the report on or before ``as_of`` (plan year = its year)."""
    return _county_progress(as_of, rank_by, state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _weekly_series(plan_year: int, unit_code: str | None, version: int) -> pd.DataFrame:
    return progress.weekly_series(state.cursor(), plan_year=plan_year, unit_code=unit_code)


def weekly_series(*, plan_year: int, unit_code: str | None = None) -> pd.DataFrame:
    """``analytics.progress.weekly_series`` for the city (``unit_code=None``) or one county / zone."""
    return _weekly_series(plan_year, unit_code, state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _behind_schedule(as_of: date, unit_code: str | None, version: int) -> pd.DataFrame:
    return progress.behind_schedule(state.cursor(), as_of=as_of, unit_code=unit_code)


def behind_schedule(*, as_of: date, unit_code: str | None = None) -> pd.DataFrame:
    """``analytics.progress.behind_schedule`` as of ``as_of`` for the city or one county / zone."""
    return _behind_schedule(as_of, unit_code, state.data_version())


@st.cache_data(show_spinner=False, max_entries=8)
def _report_periods(version: int) -> pd.DataFrame:
    return progress.report_periods(state.cursor())


def report_periods() -> pd.DataFrame:
    """``analytics.progress.report_periods``: every report date with its weekly and monthly issue numbers."""
    return _report_periods(state.data_version())


def bulletin_date(as_of: date, *, kind: str) -> tuple[date, int, bool]:
    """The report date, issue number (第N期) and interim flag of the latest dispatch / bulletin on ``as_of``.

    ``"week"``: the latest report on or before ``as_of``, numbered among its year's reports. ``"month"``:
    the month-end report (the last of its month) latest on or before ``as_of``, numbered by its month;
    when no month has ended yet, ``as_of`` itself, flagged interim.
    """
    periods = report_periods()
    known = periods[periods.report_date <= as_of]
    if kind == "month":
        month_ends = known[known.is_month_last]
        if len(month_ends) == 0:
            return as_of, progress.issue_number(as_of, kind="month"), True
        day = month_ends.report_date.iloc[-1]
        return day, progress.issue_number(day, kind="month"), False
    day = known.report_date.iloc[-1] if len(known) else as_of
    return day, progress.issue_number(day, kind="week", report_dates=periods.report_date.tolist()), False


def as_of_or_latest(chosen: date | None) -> date | None:
    """``chosen`` (the sidebar's as-of date), or the latest stored report date; ``None`` without reports."""
    if chosen is not None:
        return chosen
    dates = state.report_dates()
    return dates[-1] if dates else None


# -------------------------------------------------------------------------------------------- priority


@st.cache_data(show_spinner=False, max_entries=8)
def _plan_years(version: int) -> list[int]:
    years = state.layer("compounds", crs=None)["plan_year"].dropna().astype(int).unique()
    return sorted(int(y) for y in years)


def plan_years() -> list[int]:
    """The plan years (annual batches) the stored compounds belong to, oldest first."""
    return _plan_years(state.data_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _priority_scores(
    weights: tuple[tuple[str, float], ...],
    as_of_year: int,
    plan_years: tuple[int, ...],
    counties: tuple[str, ...],
    statuses: tuple[str, ...],
    version: int,
) -> priority.PriorityResult | None:
    compounds = state.layer("compounds", crs=None)
    chosen = compounds[
        compounds["plan_year"].isin(plan_years)
        & compounds["county_code"].isin(counties)
        & compounds["status"].isin(statuses)
    ]
    if chosen.empty:
        return None
    return priority.priority_scores(chosen, weights=dict(weights), as_of_year=as_of_year)


def priority_scores(
    *,
    weights: dict[str, float],
    as_of_year: int,
    plan_years: list[int],
    counties: list[str],
    statuses: list[str],
) -> priority.PriorityResult | None:
    """``analytics.priority.priority_scores`` over the stored compounds of the chosen plan years, counties
    and statuses (scores are relative to that selection); ``None`` when the selection holds no compound."""
    return _priority_scores(
        tuple(sorted(weights.items())), as_of_year, tuple(sorted(plan_years)), tuple(sorted(counties)),
        tuple(sorted(statuses)), state.data_version(),
    )
