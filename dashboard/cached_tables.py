"""Cached calls into the progress, priority, funding and elevator analyses, keyed on the data version.

Each public function takes the page's inputs, adds :func:`dashboard.state.data_version` to the cache key
and calls the pure function in ``analytics`` once; reruns with the same view are cache hits and any write
to the database (every write is logged in ``audit_log``) makes them recompute.
"""

from __future__ import annotations

import warnings
from datetime import date

import pandas as pd
import streamlit as st

from analytics import elevators, funding, priority, progress
from dashboard import state

# -------------------------------------------------------------------------------------------- progress


@st.cache_data(show_spinner=False, max_entries=64)
def _county_progress(as_of: date, rank_by: str, version: int) -> pd.DataFrame:
    return progress.county_progress(state.cursor(), as_of=as_of, rank_by=rank_by)


def county_progress(*, as_of: date, rank_by: str = "start_rate_compounds") -> pd.DataFrame:
    """``analytics.progress.county_progress`` for the report on or before ``as_of`` (plan year = its year)."""
    return _county_progress(as_of, rank_by, state.data_version())


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


@st.cache_data(show_spinner=False, max_entries=8)
def _report_periods(version: int) -> pd.DataFrame:
    return progress.report_periods(state.cursor())


def report_periods() -> pd.DataFrame:
    """``analytics.progress.report_periods``: every report date with its weekly and monthly issue numbers."""
    return _report_periods(state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _bulletin_issue(as_of: date, kind: str, version: int):
    from analytics.services.bulletin import issues, office

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


def dataset_as_of() -> date | None:
    """The loaded dataset's as-of date (``dataset_info``), if it has one."""
    value = state.info().get("as_of")
    return date.fromisoformat(value) if value else None


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


# ---------------------------------------------------------------------------------------------- funding


@st.cache_data(show_spinner=False, max_entries=32)
def _funding_mix(plan_year: int | None, version: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    con = state.cursor()
    by_county = funding.funding_by_source(con, by=("county_code",), plan_year=plan_year)
    city = funding.funding_by_source(con, by=(), plan_year=plan_year)
    return by_county, city, funding.funding_wide(by_county)


def funding_mix(*, plan_year: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``analytics.funding.funding_by_source`` per county (long), city-wide (long) and per county (wide, from
    ``funding_wide``), for one plan year or all (``None``)."""
    return _funding_mix(plan_year, state.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _funding_mismatches(tolerance: float, plan_year: int | None, version: int) -> pd.DataFrame:
    return funding.funding_mismatches(state.cursor(), tolerance=tolerance, plan_year=plan_year)


def funding_mismatches(*, tolerance: float, plan_year: int | None = None) -> pd.DataFrame:
    """``analytics.funding.funding_mismatches`` (``tolerance`` a fraction, e.g. 0.01 for ±1 %)."""
    return _funding_mismatches(float(tolerance), plan_year, state.data_version())


# -------------------------------------------------------------------------------------------- elevators


@st.cache_data(show_spinner=False, max_entries=16)
def _elevator_candidates(county_code: str | None, version: int) -> pd.DataFrame:
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
