"""County progress against the annual plan: rates, ranks and flags for the weekly dispatch and monthly bulletin.

Definitions used throughout (the bulletin's 周调度、月通报):

* **Reporting unit** — a compound with a ``zone_code`` belongs to that function zone (Z01 济宁高新区 …,
  the ``units`` table: ``analytics.units``); every other compound to its county. Counties come first in the
  official order (districts, county-level cities, counties: ``analytics.units.unit_order``), then zones,
  then one city-total row (``unit_code`` 370800).
  With ``include_zones=False`` zone compounds count in their county.
* **Planned figures** — the plan year's batch: the compounds whose ``compounds.plan_year`` is the plan
  year, summed per unit (count, households, floor area m², planned investment 万元): the compound list's
  own totals. The ``annual_plans`` table is not used.
* **Targets** — the task the year's ``annual_targets`` row sets for the unit (compounds, households, floor
  area, investment), independent of the list; the city's is its 370800 row, or the sum of the units' rows
  when it has none (with ``include_zones=False`` a zone's target counts in the county its compounds lie in).
  Rates are measured against the target; a measure without a target falls back to the list's figure. A
  target differing from the list (compounds exactly, households and floor area beyond
  ``settings.TARGET_MISMATCH_TOLERANCE``) is flagged (``target_mismatch``), never replaced.
* **Status at a date** — ``progress_reports`` holds weekly snapshots keyed by (report_date, compound_id).
  A compound's status at a date is its latest report on or before that date (so a compound missing from
  one week's snapshot keeps its last reported status); a compound never reported counts as 未开工 with
  no investment done and no outcomes.
* **Counts are cumulative** — 已立项 (``approved``) counts 已立项, 已开工 and 已完工; 已开工 (``started``) counts
  已开工 and 已完工; 已完工 (``completed``) counts 已完工.
* **Rates** are fractions (1 = 100 %), against the target (else the list): 开工率 by compounds
  ``started / target_compounds`` and by households ``started_households / target_households``; 完工率
  ``completed / target_compounds``; 投资完成率 ``invest_done_wan / target_investment_wan``. Above 1 when
  more is done than the task asks (a list beyond its target); NaN when the denominator is 0.
"""

from __future__ import annotations

import logging
import math
from datetime import date, timedelta
from typing import Literal, NamedTuple, cast, get_args

import duckdb
import numpy as np
import pandas as pd

from analytics import settings
from analytics import units as units_mod
from analytics._sql import scalar
from analytics.checks import check_connection, check_date
from analytics.errors import DataError, InputError

log = logging.getLogger(__name__)

RankBy = Literal["start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate"]
RANK_BY: tuple[str, ...] = get_args(RankBy)

CITY_CODE = "370800"
CITY_NAME = ("济宁市", "Jining City")
REPORT_WEEKDAY = 4  # Friday: the weekly dispatch reports the week ending on Friday
APPROVED_STATUSES = ("已立项", "已开工", "已完工")
STARTED_STATUSES = ("已开工", "已完工")
COMPLETED_STATUSES = ("已完工",)
RATE_COLUMNS = ("start_rate_compounds", "completion_rate", "invest_rate")
OUTCOME_COUNTS = ("elevators_added", "parking_spaces", "chargers", "facilities_added")
# Rates are compared after rounding to this many decimals, so float noise never splits a tie.
_RATE_DECIMALS = 12

COLUMNS = [
    "unit_code", "name", "name_en", "kind",
    "planned_compounds", "planned_households", "planned_floor_area_m2", "planned_invest_wan",
    "target_compounds", "target_households", "target_floor_area_m2", "target_investment_wan", "target_mismatch",
    "approved", "started", "completed",
    "started_households", "completed_households", "started_floor_area_m2", "completed_floor_area_m2",
    "start_rate_compounds", "start_rate_households", "completion_rate",
    "invest_done_wan", "invest_rate",
    "start_rate_compounds_chg_week", "completion_rate_chg_week", "invest_rate_chg_week",
    "start_rate_compounds_chg_month", "completion_rate_chg_month", "invest_rate_chg_month",
    "rank", "rank_chg_week", "below_city_average", "bottom_three", "top_three",
    "elevators_added", "parking_spaces", "chargers", "facilities_added", "pipes_km",
]
SERIES_COLUMNS = [
    "report_date", "started", "completed", "planned_compounds", "start_rate_compounds", "completion_rate",
    "invest_rate", "approved", "started_households", "start_rate_households", "invest_done_wan",
]
BEHIND_COLUMNS = [
    "compound_id", "name", "county_code", "unit_code", "status", "planned_start_date",
    "planned_completion_date", "days_late", "reason", "last_report_date",
]
STATUS_COLUMNS = ["compound_id", "status", "invest_done_wan", "last_report_date"]

# Reason codes of ``behind_schedule`` -> (Chinese, English), for display.
BEHIND_REASONS: dict[str, tuple[str, str]] = {
    "start_overdue": ("计划开工日期已过仍未开工", "Planned start date passed, not started"),
    "completion_overdue": ("计划完工日期已过仍未完工", "Planned completion date passed, not completed"),
}

# A compound's state at a date: its latest weekly report on or before the date (ASOF join); never reported
# means 未开工 with nothing invested and no outcomes. Reads a relation ``grid`` with ``snapshot_date`` and the
# compound's ``id`` (any other columns pass through). The one definition of "status at a date".
_STATUS_AT_SQL = """
    SELECT g.*, coalesce(r.status, '未开工') AS status, coalesce(r.invest_done_wan, 0.0) AS invest_done_wan,
           r.report_date AS last_report_date, r.elevators_added, r.parking_spaces, r.chargers,
           r.facilities_added, r.pipes_km
    FROM grid g
    ASOF LEFT JOIN progress_reports r ON r.compound_id = g.id AND r.report_date <= g.snapshot_date
"""

# One row per (snapshot date, unit) plus a city total per snapshot date; parameters $zones, $plan_year, $dates.
_SNAPSHOT_SQL = f"""
WITH plan AS (
    SELECT id, households, floor_area_m2, invest_planned_wan,
           CASE WHEN $zones AND zone_code IS NOT NULL THEN zone_code ELSE county_code END AS unit_code,
           CASE WHEN $zones AND zone_code IS NOT NULL THEN 'zone' ELSE 'county' END AS kind
    FROM compounds
    WHERE plan_year = $plan_year
),
grid AS (
    SELECT * FROM (SELECT unnest($dates::DATE[]) AS snapshot_date) CROSS JOIN plan
),
latest AS ({_STATUS_AT_SQL}),
agg AS (
    SELECT snapshot_date,
           CASE WHEN grouping(unit_code) = 1 THEN '{CITY_CODE}' ELSE unit_code END AS unit_code,
           CASE WHEN grouping(unit_code) = 1 THEN 'city' ELSE any_value(kind) END AS kind,
           count(*)::BIGINT AS planned_compounds,
           coalesce(sum(households), 0)::BIGINT AS planned_households,
           coalesce(sum(floor_area_m2), 0)::DOUBLE AS planned_floor_area_m2,
           coalesce(sum(invest_planned_wan), 0)::DOUBLE AS planned_invest_wan,
           count(*) FILTER (WHERE status IN {APPROVED_STATUSES})::BIGINT AS approved,
           count(*) FILTER (WHERE status IN {STARTED_STATUSES})::BIGINT AS started,
           count(*) FILTER (WHERE status IN {COMPLETED_STATUSES})::BIGINT AS completed,
           coalesce(sum(households) FILTER (WHERE status IN {STARTED_STATUSES}), 0)::BIGINT AS started_households,
           coalesce(sum(households) FILTER (WHERE status IN {COMPLETED_STATUSES}), 0)::BIGINT AS completed_households,
           coalesce(sum(floor_area_m2) FILTER (WHERE status IN {STARTED_STATUSES}), 0)::DOUBLE
               AS started_floor_area_m2,
           coalesce(sum(floor_area_m2) FILTER (WHERE status IN {COMPLETED_STATUSES}), 0)::DOUBLE
               AS completed_floor_area_m2,
           coalesce(sum(invest_done_wan), 0)::DOUBLE AS invest_done_wan,
           sum(elevators_added)::BIGINT AS elevators_added,
           sum(parking_spaces)::BIGINT AS parking_spaces,
           sum(chargers)::BIGINT AS chargers,
           sum(facilities_added)::BIGINT AS facilities_added,
           sum(pipes_km)::DOUBLE AS pipes_km
    FROM latest
    GROUP BY GROUPING SETS ((snapshot_date, unit_code), (snapshot_date))
)
SELECT * FROM agg ORDER BY snapshot_date, unit_code
"""
TARGET_COLUMNS = ("target_compounds", "target_households", "target_floor_area_m2", "target_investment_wan")
# target column -> the list's column it stands beside
_TARGET_OF = {"target_compounds": "planned_compounds", "target_households": "planned_households",
              "target_floor_area_m2": "planned_floor_area_m2", "target_investment_wan": "planned_invest_wan"}


class ReferenceDates(NamedTuple):
    """The report dates a progress table is computed from (``None`` where no report exists)."""

    report: date
    week: date | None
    month: date | None


# ----------------------------------------------------------------------------------------------- checks
def _check_plan_year(con: duckdb.DuckDBPyConnection, plan_year: object, as_of: date | None) -> int:
    if plan_year is None:
        if as_of is None:
            raise InputError("`plan_year` was None but must be a year such as 2020.")
        plan_year = as_of.year
    if isinstance(plan_year, bool) or not isinstance(plan_year, int | np.integer):
        raise InputError(f"`plan_year` was {plan_year!r} but must be a whole year such as 2020.")
    plan_year = int(plan_year)
    if not 1990 <= plan_year <= 2100:
        raise InputError(f"`plan_year` was {plan_year!r} but must be between 1990 and 2100.")
    years = [r[0] for r in con.execute("SELECT DISTINCT plan_year FROM compounds ORDER BY 1").fetchall()]
    if plan_year not in years:
        raise DataError(
            f"No compounds are planned for `plan_year` {plan_year!r}; the data has plan years {years!r} — "
            "choose one of them.",
            code="progress.no_plan", plan_year=plan_year, years=years,
        )
    return plan_year


def _check_rank_by(rank_by: object) -> RankBy:
    if rank_by not in RANK_BY:
        raise InputError(f"`rank_by` was {rank_by!r} but must be one of {RANK_BY!r}.")
    return cast("RankBy", rank_by)


def _check_unit_code(unit_code: object, known: list[str]) -> str | None:
    if unit_code is None:
        return None
    if unit_code == CITY_CODE:
        return None
    if unit_code not in known:
        raise InputError(
            f"`unit_code` was {unit_code!r} but the plan has no compounds in it; known units are {known!r}."
        )
    return str(unit_code)


# ----------------------------------------------------------------------------------------------- dates
def _end_of_previous_month(day: date) -> date:
    """The last day of the month before ``day``'s (2020-11-27 -> 2020-10-31)."""
    return day.replace(day=1) - timedelta(days=1)


def _latest_report_on_or_before(con: duckdb.DuckDBPyConnection, plan_year: int, day: date) -> date | None:
    day_or_none: date | None = scalar(
        con,
        "SELECT max(r.report_date) FROM progress_reports r JOIN compounds c ON c.id = r.compound_id "
        "WHERE c.plan_year = ? AND r.report_date <= ?",
        [plan_year, day],
    )
    return day_or_none


def city_as_of(
    con: duckdb.DuckDBPyConnection,
    *,
    share: float | None = None,
    on_or_before: date | None = None,
) -> date | None:
    """The city's as-of date: the latest report date that all (or ``share`` of) the counties have reached.

    The units are the reporting units (counties, and function zones for their own compounds) with
    compounds in an annual plan (every one of them submits the weekly report). A county has reached a date when its latest stored report is on or after it, so the result
    is the ``k``-th latest of the counties' latest report dates, ``k = ceil(share × counties)``: one
    county reporting ahead (or a report dated far ahead) never moves the city's view. While fewer
    counties than that have reported at all (a programme's first weeks), it is the earliest latest date
    among those that have, so the city never runs ahead of any county that reports.

    Every view that opens "on the latest week" and ``dataset_info.as_of`` use this one rule.

    Parameters
    ----------
    share
        Fraction of the counties, 0 < share ≤ 1; default ``settings.CITY_AS_OF_SHARE`` (1: all of them).
    on_or_before
        Consider only reports dated on or before this day (default: all).

    Returns
    -------
    date or None
        ``None`` when no report is stored (on or before ``on_or_before``).
    """
    check_connection(con)
    share = settings.CITY_AS_OF_SHARE if share is None else share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise InputError(f"`share` was {share!r} but must be a fraction with 0 < share <= 1, e.g. 1 or 0.9.")
    limit = check_date(on_or_before, "on_or_before") if on_or_before is not None else date.max
    rows = con.execute(
        """WITH units AS (SELECT DISTINCT coalesce(zone_code, county_code) AS unit_code FROM compounds
                          WHERE plan_year IS NOT NULL),
                reported AS (SELECT coalesce(c.zone_code, c.county_code) AS unit_code, r.report_date
                             FROM progress_reports r JOIN compounds c ON c.id = r.compound_id
                             WHERE r.report_date <= ?)
           SELECT u.unit_code, max(r.report_date) AS latest
           FROM units u LEFT JOIN reported r ON r.unit_code = u.unit_code
           GROUP BY u.unit_code""",
        [limit],
    ).fetchall()
    latest = sorted((day for _, day in rows if day is not None), reverse=True)
    if not latest:
        return None
    needed = max(1, math.ceil(share * len(rows) - 1e-9))
    return latest[needed - 1] if len(latest) >= needed else latest[-1]


def reference_dates(con: duckdb.DuckDBPyConnection, *, as_of: date, plan_year: int | None = None) -> ReferenceDates:
    """The report dates behind ``county_progress(con, as_of=as_of)``: current, previous week, previous month.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The bulletin's date.
    plan_year
        Annual plan batch; default ``as_of.year``.

    Returns
    -------
    ReferenceDates
        ``report``: the latest report date on or before ``as_of`` among the plan year's compounds;
        ``week``: the previous week's report, the latest on or before ``report`` − 7 days (what a weekly
        dispatch compares with); ``month``: the last report of the month before ``report``'s month (what
        a monthly bulletin compares with: the November bulletin with the last report of October);
        ``None`` where there is none.

    Raises
    ------
    DataError
        No report on or before ``as_of`` (or none for the plan year's compounds).
    """
    check_connection(con)
    as_of = check_date(as_of)
    plan_year = _check_plan_year(con, plan_year, as_of)
    report = _latest_report_on_or_before(con, plan_year, as_of)
    if report is None:
        first = scalar(con, "SELECT min(report_date) FROM progress_reports")
        if first is None:
            raise DataError(f"There is no progress report at all, so nothing is known on `as_of` {as_of}; import reports first.",
                            code="progress.no_reports", as_of=as_of)
        if first > as_of:
            raise DataError(
                f"There is no progress report on or before `as_of` {as_of}; the first report is dated {first} — "
                "choose a later date.",
                code="progress.before_first_report", as_of=as_of, first=first,
            )
        raise DataError(
            f"There is no progress report for the compounds of `plan_year` {plan_year} on or before `as_of` "
            f"{as_of}; choose a later date or another plan year.",
            code="progress.no_report_for_plan", as_of=as_of, plan_year=plan_year,
        )
    week = _latest_report_on_or_before(con, plan_year, report - timedelta(days=7))
    month = _latest_report_on_or_before(con, plan_year, _end_of_previous_month(report))
    return ReferenceDates(report, week, month)


# ----------------------------------------------------------------------------------------------- core
def _snapshots(con: duckdb.DuckDBPyConnection, *, plan_year: int, dates: list[date], include_zones: bool) -> pd.DataFrame:
    """Per (snapshot_date, unit_code) plus city totals: plan figures, cumulative counts, rates, outcomes."""
    frame = con.execute(
        _SNAPSHOT_SQL, {"zones": bool(include_zones), "plan_year": plan_year, "dates": sorted(set(dates))}
    ).fetchdf()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    for col in ("planned_compounds", "planned_households", "approved", "started", "completed", "started_households",
                "completed_households"):
        frame[col] = frame[col].astype("int64")
    for col in OUTCOME_COUNTS:
        frame[col] = frame[col].astype("Int64")
    targets = _unit_targets(con, plan_year=plan_year, include_zones=include_zones)
    frame = frame.join(targets, on="unit_code")
    basis = {t: frame[t].fillna(frame[planned].astype("float64")) for t, planned in _TARGET_OF.items()}

    def rate(done: str, target: str) -> pd.Series:
        denominator = basis[target].where(basis[target] != 0)
        return frame[done].astype("float64") / denominator

    frame["start_rate_compounds"] = rate("started", "target_compounds")
    frame["start_rate_households"] = rate("started_households", "target_households")
    frame["completion_rate"] = rate("completed", "target_compounds")
    frame["invest_rate"] = rate("invest_done_wan", "target_investment_wan")
    frame["target_mismatch"] = target_mismatch(frame)
    return frame


def target_mismatch(frame: pd.DataFrame) -> pd.Series:
    """True where a unit's target differs from its list (a missing target never differs).

    Compounds exactly; households and floor area by more than ``settings.TARGET_MISMATCH_TOLERANCE`` of the target.
    """
    tol = settings.TARGET_MISMATCH_TOLERANCE
    flags = frame["target_compounds"].notna() & (frame["target_compounds"] != frame["planned_compounds"])
    for target in ("target_households", "target_floor_area_m2"):
        t, planned = frame[target], frame[_TARGET_OF[target]]
        flags |= t.notna() & ((planned - t).abs() > tol * t.abs())
    return flags.astype(bool)


def _unit_targets(con: duckdb.DuckDBPyConnection, *, plan_year: int, include_zones: bool) -> pd.DataFrame:
    """The year's targets per reporting unit and the city (index ``unit_code``; NaN where none is set).

    With ``include_zones=False`` a zone's target is added to the county most of its compounds of the year lie
    in. The city's target is its 370800 row, or the sum of the units' rows when it has none.
    """
    rows = con.execute(
        "SELECT unit_code, compounds, households, floor_area_m2, investment_wan FROM annual_targets WHERE year = ?",
        [plan_year]).fetchdf()
    rows.columns = ["unit_code", *TARGET_COLUMNS]
    rows[list(TARGET_COLUMNS)] = rows[list(TARGET_COLUMNS)].astype("float64")
    city = rows[rows["unit_code"] == CITY_CODE].set_index("unit_code")
    units = rows[rows["unit_code"] != CITY_CODE]
    if not include_zones:
        county_of = dict(con.execute(
            "SELECT zone_code, mode(county_code) FROM compounds WHERE plan_year = ? AND zone_code IS NOT NULL "
            "GROUP BY zone_code", [plan_year]).fetchall())
        units = units.assign(unit_code=units["unit_code"].map(lambda c: county_of.get(c, c)))
    per_unit = units.groupby("unit_code")[list(TARGET_COLUMNS)].sum(min_count=1)
    made = city[list(TARGET_COLUMNS)] if len(city) else per_unit.sum(min_count=1).to_frame(CITY_CODE).T
    return pd.concat([per_unit, made])


def _unit_names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    names = {code: (zh, en) for code, (zh, en, *_rest) in settings.COUNTIES.items()}
    for code, zh, en in con.execute("SELECT county_code, name, name_en FROM counties").fetchall():
        names.setdefault(code, (zh, en if en is not None else zh))
    names.update(settings.FUNCTION_ZONES)
    names.update(units_mod.names(con))  # the units table (an administrator's units and names) wins
    names[CITY_CODE] = CITY_NAME
    return names


def _unit_order(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Counties, then zones, each in the official ``order`` (units not in it by code after them), the city last."""
    position = {c: i for i, c in enumerate(order)}
    kind_pos = {"county": 0, "zone": 1, "city": 2}

    def key(row: pd.Series) -> tuple[int, int, str]:
        return (kind_pos[row.kind], position.get(row.unit_code, len(position)), str(row.unit_code))

    ranked = sorted(range(len(frame)), key=lambda i: key(frame.iloc[i]))
    return frame.iloc[ranked].reset_index(drop=True)


def with_units_without_task(frame: pd.DataFrame, active: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``county_progress`` frame) with a row for every unit of ``active`` it lacks.

    Such a unit has no task in the year: planned figures and counts 0, rates NaN, no rank, no flag, so it
    is listed (as 无年度任务) rather than left out. Units follow ``active``'s order (the official one), the
    city row last. ``active`` is ``analytics.units.units(con, year=...)`` (without its zones when the
    frame folds zones into their counties).
    """
    have = set(frame["unit_code"])
    missing = active[~active["unit_code"].isin(have)]
    if missing.empty:
        return frame
    rows = []
    for _, unit in missing.iterrows():
        row: dict[str, object] = {c: np.nan for c in frame.columns}
        row.update({"unit_code": unit["unit_code"], "name": unit["name"], "name_en": unit["name_en"] or unit["name"],
                    "kind": unit["kind"], "below_city_average": False, "bottom_three": False, "top_three": False,
                    "target_mismatch": False})
        for col in ("planned_compounds", "planned_households", "approved", "started", "completed",
                    "started_households", "completed_households"):
            row[col] = 0
        for col in ("planned_floor_area_m2", "planned_invest_wan", "started_floor_area_m2",
                    "completed_floor_area_m2", "invest_done_wan"):
            row[col] = 0.0
        for col in OUTCOME_COUNTS:
            row[col] = pd.NA
        rows.append(row)
    out = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())],
                    ignore_index=True)
    order = {c: i for i, c in enumerate(active["unit_code"])}
    units = out[out["kind"] != "city"]
    units = units.iloc[sorted(range(len(units)), key=lambda i: (order.get(units["unit_code"].iloc[i], len(order)), i))]
    result = pd.concat([units, out[out["kind"] == "city"]], ignore_index=True)
    result.attrs.update(frame.attrs)
    return result


def _rank_and_flags(values: pd.Series) -> pd.DataFrame:
    """Rank (1 = highest, ties share the best place: "min" method) and top/bottom-three flags.

    NaN values get no rank and no flag. ``top_three``: rank ≤ 3, unless tied at the worst value;
    ``bottom_three``: fewer than three units strictly worse, unless tied at the best value (so when every
    unit is equal nobody is flagged, and a county tied for first is never "bottom three").
    """
    v = values.astype("float64").round(_RATE_DECIMALS)
    rank = v.rank(method="min", ascending=False)
    rank_from_bottom = v.rank(method="min", ascending=True)
    best, worst = v.max(), v.min()
    top = (rank <= 3) & (v > worst)
    bottom = (rank_from_bottom <= 3) & (v < best)
    return pd.DataFrame({"rank": rank, "top_three": top.fillna(False).astype(bool),
                         "bottom_three": bottom.fillna(False).astype(bool)}, index=values.index)


def rank_values(values: pd.Series) -> pd.Series:
    """Ranks of ``values`` (1 = highest; ties share the best place, the "min" method; NaN: no rank).

    Values are compared after rounding away float noise, as ``county_progress`` ranks.
    """
    return values.astype("float64").round(_RATE_DECIMALS).rank(method="min", ascending=False)


def ranking_order(frame: pd.DataFrame, *, rank: str = "rank") -> pd.DataFrame:
    """Units in rank order, tied and unranked units in the frame's own order, the city row last.

    ``frame`` is a ``county_progress`` frame (its own order is the official one). The one ordering of a
    ranking: the bulletin's text, its tables and the progress page all list units through it, so ties
    read the same everywhere.
    """
    units = frame[frame["kind"] != "city"]
    units = units.iloc[np.argsort(units[rank].to_numpy(dtype=float, na_value=np.inf), kind="stable")]
    return pd.concat([units, frame[frame["kind"] == "city"]])


def county_progress(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    plan_year: int | None = None,
    rank_by: RankBy = "start_rate_compounds",
    include_zones: bool = True,
    year: int | None = None,
) -> pd.DataFrame:
    """Progress of each county (and function zone) against its annual target, ranked, with a city total row.

    Parameters
    ----------
    con
        Open project database (tables ``compounds``, ``progress_reports``, ``counties``).
    as_of
        The bulletin's date; the latest weekly report on or before it is used (see the module docstring
        for how a compound's status at a date is taken).
    plan_year
        Annual plan batch whose compounds are the task (``compounds.plan_year``); default ``as_of.year``.
    year
        The same as ``plan_year`` (either may be given; both only when equal).
    rank_by
        The indicator counties are ranked by: ``"start_rate_compounds"`` (开工率 by compounds),
        ``"start_rate_households"`` (开工率 by households), ``"completion_rate"`` (完工率) or
        ``"invest_rate"`` (投资完成率).
    include_zones
        Report function zones as their own rows (``True``) or inside their counties (``False``).

    Returns
    -------
    DataFrame
        One row per unit with planned compounds in the plan year — counties (official order), then zones,
        then the city total (``kind`` "city", ``unit_code`` 370800). Columns (see ``COLUMNS``):
        ``planned_compounds``, ``planned_households``, ``planned_floor_area_m2`` (m²), ``planned_invest_wan``
        (万元): the compound list's totals; ``target_compounds``, ``target_households``, ``target_floor_area_m2``,
        ``target_investment_wan``: the year's ``annual_targets`` (NaN where none), ``target_mismatch`` (the
        target differs from the list; see the module docstring); cumulative ``approved``, ``started``,
        ``completed``, their households (``started_households``, ``completed_households``) and floor area
        (``started_floor_area_m2``, ``completed_floor_area_m2``); rates as fractions against the target (1 =
        100 %, above 1 allowed); ``invest_done_wan`` (万元, cumulative); ``*_chg_week`` / ``*_chg_month``: the rate now
        minus the rate at the previous week's report / the last report of the previous month (see
        ``reference_dates``)
        (fraction points, NaN when there is no such report); ``rank`` by ``rank_by`` (1 = best, ties share
        a rank, NaN for the city row and for units whose rate is NaN); ``rank_chg_week`` (the rank a week
        earlier minus the rank now: positive = moved up); ``below_city_average`` (the unit's ``rank_by``
        rate is below the city-wide rate, i.e. the city row's value, not the mean of units);
        ``top_three`` / ``bottom_three`` (see ``_rank_and_flags``); outcome sums of the cumulative reported
        figures ``elevators_added``, ``parking_spaces``, ``chargers``, ``facilities_added`` (counts,
        nullable: NA when no report has the figure) and ``pipes_km`` (km). The report dates used are in
        ``frame.attrs["report_date"]``, ``["week_date"]``, ``["month_date"]`` and ``["plan_year"]``.

    Raises
    ------
    InputError
        ``con`` is not a DuckDB connection; ``as_of`` not a date; ``rank_by`` unknown; ``plan_year`` not a year.
    DataError
        No compounds in ``plan_year``; no progress report on or before ``as_of``.
    """
    check_connection(con)
    as_of = check_date(as_of)
    rank_by = _check_rank_by(rank_by)
    if year is not None and plan_year is not None and year != plan_year:
        raise InputError(f"`year` was {year!r} and `plan_year` {plan_year!r}; give one of them (they are the same).")
    plan_year = _check_plan_year(con, plan_year if plan_year is not None else year, as_of)
    dates = reference_dates(con, as_of=as_of, plan_year=plan_year)
    wanted = [d for d in dates if d is not None]
    snaps = _snapshots(con, plan_year=plan_year, dates=wanted, include_zones=include_zones)

    now = _unit_order(snaps[snaps.snapshot_date == dates.report].drop(columns="snapshot_date"), units_mod.unit_order(con))
    names = _unit_names(con)
    now.insert(1, "name", [names.get(c, (c, c))[0] for c in now.unit_code])
    now.insert(2, "name_en", [names.get(c, (c, c))[1] for c in now.unit_code])

    units = now.kind != "city"
    for label, day in (("week", dates.week), ("month", dates.month)):
        if day is None:
            for col in RATE_COLUMNS:
                now[f"{col}_chg_{label}"] = np.nan
            continue
        before = snaps[snaps.snapshot_date == day].set_index("unit_code")
        for col in RATE_COLUMNS:
            now[f"{col}_chg_{label}"] = now[col].to_numpy() - now.unit_code.map(before[col]).to_numpy(dtype=float)

    flags = _rank_and_flags(now.loc[units, rank_by])
    now["rank"] = flags["rank"].reindex(now.index)
    now["top_three"] = flags["top_three"].reindex(now.index, fill_value=False)
    now["bottom_three"] = flags["bottom_three"].reindex(now.index, fill_value=False)
    if dates.week is None:
        now["rank_chg_week"] = np.nan
    else:
        before = snaps[snaps.snapshot_date == dates.week].set_index("unit_code")
        before = before[before.kind != "city"]
        prev_rank = _rank_and_flags(before[rank_by])["rank"]
        now["rank_chg_week"] = now.unit_code.map(prev_rank).to_numpy(dtype=float) - now["rank"].to_numpy()
    city_value = float(now.loc[~units, rank_by].iloc[0])
    value = now[rank_by].astype("float64").round(_RATE_DECIMALS)
    now["below_city_average"] = units & (value < round(city_value, _RATE_DECIMALS))

    out = now[COLUMNS].reset_index(drop=True)
    out.attrs.update({"report_date": dates.report, "week_date": dates.week, "month_date": dates.month,
                      "plan_year": plan_year, "rank_by": rank_by})
    log.info("county progress %s (plan %d, report %s): %d units", as_of, plan_year, dates.report, len(out) - 1)
    return out


def weekly_series(
    con: duckdb.DuckDBPyConnection,
    *,
    plan_year: int,
    unit_code: str | None = None,
    include_zones: bool = True,
) -> pd.DataFrame:
    """The plan year's progress at every stored report date, for the city or one unit (trend charts).

    Parameters
    ----------
    con
        Open project database.
    plan_year
        Annual plan batch (``compounds.plan_year``).
    unit_code
        A county or zone code as in ``county_progress``'s ``unit_code``; ``None`` (or 370800) for the city.
    include_zones
        As in ``county_progress``: with ``True`` a county's series excludes its zone compounds.

    Returns
    -------
    DataFrame
        One row per report date on which any of the plan year's compounds reported, oldest first:
        ``report_date``, cumulative ``started`` / ``completed`` counts, ``planned_compounds``,
        ``start_rate_compounds``, ``completion_rate``, ``invest_rate`` (fractions 0–1), then ``approved``,
        ``started_households``, ``start_rate_households`` and ``invest_done_wan`` (万元). Each date's
        figures equal ``county_progress`` with ``as_of`` on that date. Empty (same columns) when the plan
        year's compounds have no reports.

    Raises
    ------
    InputError
        Bad ``con``, ``plan_year`` or a ``unit_code`` without compounds in the plan year.
    DataError
        No compounds in ``plan_year``.
    """
    check_connection(con)
    plan_year = _check_plan_year(con, plan_year, None)
    known = _known_units(con, plan_year, include_zones)
    unit_code = _check_unit_code(unit_code, known)
    dates = [r[0] for r in con.execute(
        "SELECT DISTINCT r.report_date FROM progress_reports r JOIN compounds c ON c.id = r.compound_id "
        "WHERE c.plan_year = ? ORDER BY 1", [plan_year]).fetchall()]
    if not dates:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in SERIES_COLUMNS}).astype({"report_date": "object"})
    snaps = _snapshots(con, plan_year=plan_year, dates=dates, include_zones=include_zones)
    snaps = snaps[snaps.unit_code == (unit_code or CITY_CODE)]
    out = snaps.rename(columns={"snapshot_date": "report_date"})[SERIES_COLUMNS]
    return out.sort_values("report_date").reset_index(drop=True)


def _known_units(con: duckdb.DuckDBPyConnection, plan_year: int, include_zones: bool) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT CASE WHEN ? AND zone_code IS NOT NULL THEN zone_code ELSE county_code END "
        "FROM compounds WHERE plan_year = ? ORDER BY 1",
        [bool(include_zones), plan_year],
    ).fetchall()
    return [r[0] for r in rows]


def behind_schedule(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    plan_year: int | None = None,
    unit_code: str | None = None,
    include_zones: bool = True,
) -> pd.DataFrame:
    """Compounds of the plan behind their schedule on ``as_of``, the latest first.

    A compound is behind when its status at the report used by ``county_progress`` (latest on or before
    ``as_of``; never reported = 未开工) is not yet 已开工/已完工 although ``planned_start_date`` is before
    ``as_of`` (reason ``start_overdue``), or not yet 已完工 although ``planned_completion_date`` is before
    ``as_of`` (reason ``completion_overdue``). Compounds without planned dates are never behind.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The bulletin's date.
    plan_year
        Annual plan batch; default ``as_of.year``.
    unit_code
        Only this county or zone (``None`` or 370800: the whole city).
    include_zones
        As in ``county_progress`` (decides a compound's ``unit_code``).

    Returns
    -------
    DataFrame
        ``compound_id, name, county_code, unit_code, status, planned_start_date, planned_completion_date,
        days_late, reason, last_report_date``: ``days_late`` in days since the earliest missed planned date;
        ``reason`` is ``"start_overdue"``, ``"completion_overdue"`` or both joined by ``";"`` (labels in
        ``BEHIND_REASONS``); ``last_report_date`` NaT for a compound never reported. Sorted by
        ``days_late`` descending, then ``compound_id``.

    Raises
    ------
    InputError, DataError
        As ``county_progress`` (bad arguments; no report on or before ``as_of``); a ``unit_code`` with no
        compounds in the plan year.
    """
    check_connection(con)
    as_of = check_date(as_of)
    plan_year = _check_plan_year(con, plan_year, as_of)
    known = _known_units(con, plan_year, include_zones)
    unit_code = _check_unit_code(unit_code, known)
    report = reference_dates(con, as_of=as_of, plan_year=plan_year).report
    frame = con.execute(
        f"""
        WITH grid AS (
            SELECT id, name, county_code, planned_start_date, planned_completion_date,
                   $report::DATE AS snapshot_date,
                   CASE WHEN $zones AND zone_code IS NOT NULL THEN zone_code ELSE county_code END AS unit_code
            FROM compounds WHERE plan_year = $plan_year
        ),
        latest AS ({_STATUS_AT_SQL}),
        late AS (
            SELECT *,
                   status NOT IN {STARTED_STATUSES} AND planned_start_date < $as_of AS start_late,
                   status NOT IN {COMPLETED_STATUSES} AND planned_completion_date < $as_of AS completion_late
            FROM latest
        )
        SELECT id AS compound_id, name, county_code, unit_code, status, planned_start_date,
               planned_completion_date,
               greatest(CASE WHEN start_late THEN date_diff('day', planned_start_date, $as_of) END,
                        CASE WHEN completion_late THEN date_diff('day', planned_completion_date, $as_of) END
               )::BIGINT AS days_late,
               concat_ws(';', CASE WHEN start_late THEN 'start_overdue' END,
                              CASE WHEN completion_late THEN 'completion_overdue' END) AS reason,
               last_report_date
        FROM late
        WHERE (start_late OR completion_late) AND ($unit IS NULL OR unit_code = $unit)
        ORDER BY days_late DESC, compound_id
        """,
        {"report": report, "zones": bool(include_zones), "plan_year": plan_year, "as_of": as_of, "unit": unit_code},
    ).fetchdf()
    for col in ("planned_start_date", "planned_completion_date", "last_report_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["days_late"] = frame["days_late"].astype("int64")
    return frame[BEHIND_COLUMNS]


def compound_status(con: duckdb.DuckDBPyConnection, *, as_of: date, plan_year: int | None = None) -> pd.DataFrame:
    """Each compound of the plan year with its status and investment done on ``as_of``.

    The status at a date is the one ``county_progress`` counts (see the module docstring): the compound's
    latest weekly report on or before ``as_of``; a compound never reported is 未开工 with 0 万元 done.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The date.
    plan_year
        Annual plan batch (``compounds.plan_year``); default ``as_of.year``.

    Returns
    -------
    DataFrame
        ``compound_id``, ``status`` (one of ``settings.STATUSES``), ``invest_done_wan`` (万元, cumulative),
        ``last_report_date`` (NaT when never reported), one row per compound of the plan year, by id.

    Raises
    ------
    InputError
        ``con`` not a DuckDB connection, ``as_of`` not a date, ``plan_year`` not a year.
    DataError
        No compounds in ``plan_year``.
    """
    check_connection(con)
    as_of = check_date(as_of)
    plan_year = _check_plan_year(con, plan_year, as_of)
    frame = con.execute(
        f"""
        WITH grid AS (SELECT id, $as_of::DATE AS snapshot_date FROM compounds WHERE plan_year = $plan_year)
        SELECT id AS compound_id, status, invest_done_wan, last_report_date
        FROM ({_STATUS_AT_SQL})
        ORDER BY compound_id
        """,
        {"as_of": as_of, "plan_year": plan_year},
    ).fetchdf()
    frame["last_report_date"] = pd.to_datetime(frame["last_report_date"])
    return frame[STATUS_COLUMNS]
