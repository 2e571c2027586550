"""The programme over all its years (十四五 / 全周期): each year's batch against its target and the five-year goal.

Definitions:

* **Reporting unit** — a compound's function zone (``zone_code``) when it has one, else its county, as in
  ``analytics.progress``; the city row has unit code ``settings.CITY_UNIT_CODE`` (370800).
* **Planned** — the compounds whose ``plan_year`` is the year (the compound list). **Target** — the year's
  ``annual_targets`` row of the unit; the city's target is its 370800 row, or the sum of the units' rows
  when it has none. A list differing from its target is flagged (``target_mismatch``), never replaced.
* **Started / completed** — status on ``as_of`` as ``analytics.progress`` takes it: the compound's latest
  weekly report on or before the date (never reported: 未开工). Counts are cumulative (completed ones are
  started too).
* **Five-year goal** — ``settings.PLAN_TOTAL_2025_FLOOR_AREA_M2`` (16.9 million m²) for the plan years
  ``settings.GOAL_YEARS`` (2020–2025). It is the city's: for one unit the goal is the sum of the unit's own
  floor-area targets (``annual_targets``) over the goal years (NaN when it has none).
* **Stock tiers** — the plan renovates compounds built on or before 2000 first
  (``settings.FIRST_TIER_BUILT_ON_OR_BEFORE``), then those of 2001–2005
  (``settings.ELIGIBLE_BUILT_ON_OR_BEFORE``); compounds planned for demolition are not in the stock.
* **Candidate pool (储备库)** — compounds without a plan year.

Areas in m², money in 万元, shares and rates as fractions 0–1 (NaN when the denominator is 0 or missing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from analytics import funding, settings
from analytics import units as units_mod
from analytics.checks import check_connection, check_date
from analytics.errors import InputError

log = logging.getLogger(__name__)

CITY_CODE = settings.CITY_UNIT_CODE
COMPLETED = "已完工"
STARTED = ("已开工", "已完工")

YEAR_COLUMNS = [
    "year", "unit_code", "planned_compounds", "planned_households", "planned_floor_area_m2", "planned_invest_wan",
    "started", "completed", "started_households", "completed_households", "started_floor_area_m2",
    "completed_floor_area_m2", "target_compounds", "target_households", "target_floor_area_m2",
    "target_investment_wan", "target_mismatch", "start_rate", "completion_rate", "area_done_of_target",
]
CUMULATIVE_COLUMNS = [
    "unit_code", "planned_compounds", "planned_households", "planned_floor_area_m2", "completed",
    "completed_households", "completed_floor_area_m2", "area_done_share", "share_of_city_done",
]
TRAJECTORY_COLUMNS = [
    "year", "snapshot_date", "planned_compounds", "planned_households", "planned_floor_area_m2", "completed",
    "completed_households", "completed_floor_area_m2", "goal_floor_area_m2", "planned_of_goal", "done_of_goal",
]
STOCK_COLUMNS = [
    "tier", "unit_code", "stock_compounds", "stock_households", "stock_floor_area_m2", "done_compounds",
    "done_floor_area_m2", "planned_compounds", "planned_floor_area_m2", "pool_compounds", "pool_floor_area_m2",
    "remaining_compounds", "remaining_floor_area_m2", "done_share",
]
POOL_COLUMNS = [
    "unit_code", "compounds", "households", "floor_area_m2", "eligible", "first_tier", "second_tier",
    "not_eligible",
]
# Stock tiers: code -> (Chinese, English).
TIERS: dict[str, tuple[str, str]] = {
    "first": ("2000年底前建成", "Built by end-2000"),
    "second": ("2001—2005年建成", "Built 2001–2005"),
}


@dataclass(frozen=True)
class Programme:
    """The programme on one date (see the module docstring for every definition).

    Attributes
    ----------
    years
        One row per (plan year, unit) with planned compounds or a target, plus a city row per year
        (``YEAR_COLUMNS``): the list's figures, started/completed on ``as_of``, the target's figures
        (NaN without a target), ``target_mismatch`` (the list differs from the target: compounds
        exactly, households and floor area beyond ``settings.TARGET_MISMATCH_TOLERANCE``),
        ``start_rate`` / ``completion_rate`` (started / completed ÷ planned compounds) and
        ``area_done_of_target`` (completed floor area ÷ target floor area; may exceed 1).
    cumulative
        Per unit over the plan years up to ``as_of``'s year, plus the city row (``CUMULATIVE_COLUMNS``):
        ``area_done_share`` completed ÷ planned floor area, ``share_of_city_done`` the unit's part of the
        city's completed floor area.
    trajectory
        The city per calendar year (``TRAJECTORY_COLUMNS``): plan years up to the year, and what of them
        was completed at the year's end (``as_of`` for the current year), against the five-year goal.
    goal
        ``goal_floor_area_m2``, the goal years, the floor area planned and completed in them, their shares of
        the goal, and the remainder to plan.
    stock
        Per tier (first: built by 2000, second: 2001–2005) and unit plus a city row per tier
        (``STOCK_COLUMNS``): the stock, done (completed on ``as_of``), planned and not done, in the pool,
        remaining (stock − done) and ``done_share`` (done ÷ stock floor area).
    pool
        The candidate pool per unit plus the city row (``POOL_COLUMNS``): compounds, households, floor
        area, ``eligible`` (built by 2005, not for demolition), of which ``first_tier`` / ``second_tier``;
        ``not_eligible`` the rest.
    as_of
        The date.
    unit_code
        The unit ``trajectory`` and ``goal`` are of: ``CITY_CODE`` for the city (the five-year goal), else a
        county or zone (the sum of its targets). ``years``, ``cumulative``, ``stock`` and ``pool`` always
        hold every unit and the city; a page showing one unit takes its rows.
    """

    years: pd.DataFrame
    cumulative: pd.DataFrame
    trajectory: pd.DataFrame
    goal: dict[str, float]
    stock: pd.DataFrame
    pool: pd.DataFrame
    as_of: date
    unit_code: str = CITY_CODE


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = pd.to_numeric(den, errors="coerce").astype("float64")
    return (pd.to_numeric(num, errors="coerce").astype("float64") / den.where(den != 0)).astype("float64")


def _compounds_on(con: duckdb.DuckDBPyConnection, dates: list[date]) -> pd.DataFrame:
    """Every compound with its unit and its status on each of ``dates`` (long: one row per compound × date)."""
    frame = con.execute(
        """
        WITH c AS (
            SELECT id, plan_year, CASE WHEN zone_code IS NOT NULL THEN zone_code ELSE county_code END AS unit_code,
                   households, floor_area_m2, coalesce(invest_planned_wan, 0) AS invest_planned_wan, built_year,
                   coalesce(demolition_planned, false) AS demolition_planned
            FROM compounds
        ),
        grid AS (SELECT * FROM (SELECT unnest($dates::DATE[]) AS snapshot_date) CROSS JOIN c)
        SELECT g.*, coalesce(r.status, '未开工') AS status
        FROM grid g
        ASOF LEFT JOIN progress_reports r ON r.compound_id = g.id AND r.report_date <= g.snapshot_date
        """,
        {"dates": sorted(set(dates))},
    ).fetchdf()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    frame["plan_year"] = frame["plan_year"].astype("Int64")
    frame["households"] = frame["households"].astype("int64")
    frame["started"] = frame["status"].isin(STARTED)
    frame["completed"] = frame["status"].eq(COMPLETED)
    return frame


def _with_city(frame: pd.DataFrame, keys: list[str], sums: list[str]) -> pd.DataFrame:
    """``frame`` plus one city row per value of ``keys`` (the sums of ``sums``)."""
    if frame.empty:
        return frame
    city = frame.groupby(keys, as_index=False)[sums].sum() if keys else frame[sums].sum().to_frame().T
    city["unit_code"] = CITY_CODE
    return pd.concat([frame, city], ignore_index=True)


def _order(frame: pd.DataFrame, order: list[str], keys: list[str]) -> pd.DataFrame:
    pos = {code: i for i, code in enumerate([*order, CITY_CODE])}
    rank = frame["unit_code"].map(lambda c: (pos.get(c, len(pos) - 1), c) if c != CITY_CODE else (len(pos), c))
    sort = frame[keys].assign(_unit=rank) if keys else pd.DataFrame({"_unit": rank})
    return frame.loc[sort.sort_values([*keys, "_unit"]).index].reset_index(drop=True)


def _targets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``annual_targets`` with the city's row made up from the units' where it has none."""
    targets = con.execute(
        "SELECT year, unit_code, compounds AS target_compounds, households AS target_households, "
        "floor_area_m2 AS target_floor_area_m2, investment_wan AS target_investment_wan FROM annual_targets"
    ).fetchdf()
    cols = ["target_compounds", "target_households", "target_floor_area_m2", "target_investment_wan"]
    for col in cols:
        targets[col] = targets[col].astype("float64")
    units = targets[targets["unit_code"] != CITY_CODE]
    have_city = set(targets.loc[targets["unit_code"] == CITY_CODE, "year"])
    made = units[~units["year"].isin(have_city)].groupby("year", as_index=False)[cols].sum(min_count=1)
    made["unit_code"] = CITY_CODE
    return pd.concat([targets, made], ignore_index=True)


def _mismatch(frame: pd.DataFrame) -> pd.Series:
    tol = settings.TARGET_MISMATCH_TOLERANCE
    flags = frame["target_compounds"].notna() & (frame["target_compounds"] != frame["planned_compounds"])
    for planned, target in (("planned_households", "target_households"),
                            ("planned_floor_area_m2", "target_floor_area_m2")):
        t = frame[target]
        flags |= t.notna() & ((frame[planned] - t).abs() > tol * t.abs())
    return flags


def _years(status: pd.DataFrame, targets: pd.DataFrame, last_year: int) -> pd.DataFrame:
    planned = status[status["plan_year"].notna() & (status["plan_year"] <= last_year)].copy()
    planned["year"] = planned["plan_year"].astype("int64")
    for what in ("started", "completed"):
        planned[f"{what}_households"] = planned["households"].where(planned[what], 0)
        planned[f"{what}_floor_area_m2"] = planned["floor_area_m2"].where(planned[what], 0.0)
    sums = ["planned_compounds", "planned_households", "planned_floor_area_m2", "planned_invest_wan", "started",
            "completed", "started_households", "completed_households", "started_floor_area_m2",
            "completed_floor_area_m2"]
    per = planned.assign(planned_compounds=1, planned_households=planned["households"],
                         planned_floor_area_m2=planned["floor_area_m2"],
                         planned_invest_wan=planned["invest_planned_wan"],
                         started=planned["started"].astype("int64"), completed=planned["completed"].astype("int64"))
    per = per.groupby(["year", "unit_code"], as_index=False)[sums].sum()
    per = _with_city(per, ["year"], sums)
    targets = targets[targets["year"] <= last_year]
    out = per.merge(targets, on=["year", "unit_code"], how="outer")
    for col in sums:
        out[col] = out[col].fillna(0)
    for col in ("planned_compounds", "planned_households", "started", "completed", "started_households",
                "completed_households"):
        out[col] = out[col].astype("int64")
    for col in ("planned_floor_area_m2", "planned_invest_wan", "started_floor_area_m2", "completed_floor_area_m2"):
        out[col] = out[col].astype("float64")
    out["year"] = out["year"].astype("int64")
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in YEAR_COLUMNS})
    # A year with targets but no list still needs its city row (from the targets, zero planned).
    out["target_mismatch"] = _mismatch(out)
    out["start_rate"] = _ratio(out["started"], out["planned_compounds"])
    out["completion_rate"] = _ratio(out["completed"], out["planned_compounds"])
    out["area_done_of_target"] = _ratio(out["completed_floor_area_m2"], out["target_floor_area_m2"])
    return out[YEAR_COLUMNS]


def _cumulative(years: pd.DataFrame) -> pd.DataFrame:
    sums = ["planned_compounds", "planned_households", "planned_floor_area_m2", "completed", "completed_households",
            "completed_floor_area_m2"]
    out = years.groupby("unit_code", as_index=False)[sums].sum()
    out["area_done_share"] = _ratio(out["completed_floor_area_m2"], out["planned_floor_area_m2"])
    city_done = out.loc[out["unit_code"] == CITY_CODE, "completed_floor_area_m2"]
    total = float(city_done.iloc[0]) if len(city_done) else 0.0
    out["share_of_city_done"] = out["completed_floor_area_m2"] / total if total else np.nan
    return out[CUMULATIVE_COLUMNS]


def _trajectory(status: pd.DataFrame, first_year: int, as_of: date, goal: float) -> pd.DataFrame:
    rows = []
    for year in range(first_year, as_of.year + 1):
        day = min(date(year, 12, 31), as_of)
        part = status[(status["snapshot_date"] == day) & status["plan_year"].notna() & (status["plan_year"] <= year)]
        done = part[part["completed"]]
        rows.append({
            "year": year, "snapshot_date": day, "planned_compounds": len(part),
            "planned_households": int(part["households"].sum()),
            "planned_floor_area_m2": float(part["floor_area_m2"].sum()), "completed": len(done),
            "completed_households": int(done["households"].sum()),
            "completed_floor_area_m2": float(done["floor_area_m2"].sum()), "goal_floor_area_m2": goal,
        })
    out = pd.DataFrame(rows, columns=TRAJECTORY_COLUMNS[:-2])
    goal_or_nan = goal if goal > 0 else np.nan
    out["planned_of_goal"] = (out["planned_floor_area_m2"] / goal_or_nan).astype("float64")
    out["done_of_goal"] = (out["completed_floor_area_m2"] / goal_or_nan).astype("float64")
    return out[TRAJECTORY_COLUMNS]


def _unit_goal(targets: pd.DataFrame, unit_code: str) -> tuple[float, int]:
    """The goal of ``unit_code`` (m²) and the number of goal years it has a floor-area target for.

    The city's goal is the five-year goal; a unit's is the sum of its targets over the goal years (NaN without).
    """
    first, last = settings.GOAL_YEARS
    rows = targets[(targets["unit_code"] == unit_code) & targets["year"].between(first, last)
                   & targets["target_floor_area_m2"].notna()]
    if unit_code == CITY_CODE:
        return float(settings.PLAN_TOTAL_2025_FLOOR_AREA_M2), int(rows["year"].nunique())
    return (float(rows["target_floor_area_m2"].sum()) if len(rows) else np.nan), int(rows["year"].nunique())


def _goal(status: pd.DataFrame, goal: float, target_years: int) -> dict[str, float]:
    first, last = settings.GOAL_YEARS
    part = status[status["plan_year"].notna() & status["plan_year"].between(first, last)]
    planned = float(part["floor_area_m2"].sum())
    done = float(part.loc[part["completed"], "floor_area_m2"].sum())
    share = (lambda value: value / goal) if goal > 0 else (lambda value: np.nan)
    return {"goal_floor_area_m2": goal, "first_year": float(first), "last_year": float(last),
            "target_years": float(target_years), "planned_floor_area_m2": planned, "completed_floor_area_m2": done,
            "planned_of_goal": share(planned), "done_of_goal": share(done),
            "left_to_plan_m2": max(goal - planned, 0.0) if goal > 0 else np.nan}


def _tier(built_year: pd.Series) -> pd.Series:
    first = settings.FIRST_TIER_BUILT_ON_OR_BEFORE.year
    eligible = settings.ELIGIBLE_BUILT_ON_OR_BEFORE.year
    built = pd.to_numeric(built_year, errors="coerce")
    return pd.Series(np.select([built <= first, built <= eligible], ["first", "second"], default=""),
                     index=built_year.index)


def _stock(status: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    frame = status[~status["demolition_planned"]].copy()
    frame["tier"] = _tier(frame["built_year"])
    frame = frame[frame["tier"] != ""]
    in_pool = frame["plan_year"].isna()
    planned_open = ~in_pool & ~frame["completed"]
    frame = frame.assign(
        stock_compounds=1, stock_households=frame["households"], stock_floor_area_m2=frame["floor_area_m2"],
        done_compounds=frame["completed"].astype("int64"),
        done_floor_area_m2=frame["floor_area_m2"].where(frame["completed"], 0.0),
        planned_compounds=planned_open.astype("int64"),
        planned_floor_area_m2=frame["floor_area_m2"].where(planned_open, 0.0),
        pool_compounds=in_pool.astype("int64"), pool_floor_area_m2=frame["floor_area_m2"].where(in_pool, 0.0),
    )
    sums = STOCK_COLUMNS[2:11]
    out = frame.groupby(["tier", "unit_code"], as_index=False)[sums].sum()
    out = _with_city(out, ["tier"], sums)
    out["remaining_compounds"] = out["stock_compounds"] - out["done_compounds"]
    out["remaining_floor_area_m2"] = out["stock_floor_area_m2"] - out["done_floor_area_m2"]
    out["done_share"] = _ratio(out["done_floor_area_m2"], out["stock_floor_area_m2"])
    out["_t"] = out["tier"].map({"first": 0, "second": 1})
    out = _order(out, order, ["_t"]).drop(columns="_t") if not out.empty else out
    return out.reindex(columns=STOCK_COLUMNS)


def _pool(status: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    frame = status[status["plan_year"].isna()].copy()
    tier = _tier(frame["built_year"]).where(~frame["demolition_planned"], "")
    frame = frame.assign(compounds=1, eligible=(tier != "").astype("int64"),
                         first_tier=(tier == "first").astype("int64"), second_tier=(tier == "second").astype("int64"),
                         not_eligible=(tier == "").astype("int64"))
    sums = POOL_COLUMNS[1:]
    out = frame.groupby("unit_code", as_index=False)[sums].sum()
    out = _with_city(out, [], sums) if not out.empty else out
    for col in sums:
        out[col] = pd.to_numeric(out[col]).astype("float64" if col == "floor_area_m2" else "int64")
    return _order(out, order, []).reindex(columns=POOL_COLUMNS) if not out.empty else out.reindex(columns=POOL_COLUMNS)


def programme_summary(con: duckdb.DuckDBPyConnection, *, as_of: date, unit_code: str | None = None) -> Programme:
    """The programme on ``as_of``: every plan year up to ``as_of``'s year, the goal, the stock and the pool.

    Parameters
    ----------
    con
        Open project database (``compounds``, ``progress_reports``, ``annual_targets``, ``units``).
    as_of
        The date statuses are taken on (each compound's latest weekly report on or before it); plan years
        after its year are left out of ``years``, ``cumulative`` and ``trajectory``.
    unit_code
        A county or zone code: ``trajectory`` and ``goal`` are that unit's (its compounds; the goal the sum
        of its targets over the goal years). ``None`` (or 370800): the city's, against the five-year goal.

    Returns
    -------
    Programme
        See :class:`Programme`. Units are in the official order, the city row last.

    Raises
    ------
    InputError
        ``con`` is not a DuckDB connection, ``as_of`` not a date, or ``unit_code`` not a known unit.
    """
    check_connection(con)
    as_of = check_date(as_of)
    unit = _check_unit(con, unit_code)
    years_in_data = [int(r[0]) for r in con.execute(
        "SELECT plan_year FROM compounds WHERE plan_year IS NOT NULL UNION SELECT year FROM annual_targets"
    ).fetchall()]
    first_year = min([y for y in years_in_data if y <= as_of.year], default=as_of.year)
    dates = [min(date(y, 12, 31), as_of) for y in range(first_year, as_of.year + 1)]
    status = _compounds_on(con, dates)
    now = status[status["snapshot_date"] == as_of]
    order = units_mod.unit_order(con)

    targets = _targets(con)
    years = _years(now, targets, as_of.year)
    years = _order(years, order, ["year"]) if not years.empty else years
    cumulative = _cumulative(years) if not years.empty else pd.DataFrame(columns=CUMULATIVE_COLUMNS)
    cumulative = _order(cumulative, order, []) if not cumulative.empty else cumulative
    goal, target_years = _unit_goal(targets, unit)
    mine = status if unit == CITY_CODE else status[status["unit_code"] == unit]
    programme = Programme(
        years=years, cumulative=cumulative, trajectory=_trajectory(mine, first_year, as_of, goal),
        goal=_goal(mine[mine["snapshot_date"] == as_of], goal, target_years), stock=_stock(now, order),
        pool=_pool(now, order), as_of=as_of, unit_code=unit,
    )
    log.info("programme on %s (unit %s): %d plan years, %d candidates", as_of, unit, years["year"].nunique(),
             len(now[now["plan_year"].isna()]))
    return programme


def _check_unit(con: duckdb.DuckDBPyConnection, unit_code: object) -> str:
    """``unit_code`` checked against the known units (units table, compounds, targets); the city for ``None``."""
    if unit_code is None or unit_code == CITY_CODE:
        return CITY_CODE
    known = [str(r[0]) for r in con.execute(
        "SELECT unit_code FROM units UNION SELECT coalesce(zone_code, county_code) FROM compounds "
        "UNION SELECT unit_code FROM annual_targets ORDER BY 1"
    ).fetchall() if r[0] is not None]
    if not isinstance(unit_code, str) or unit_code not in known:
        raise InputError(f"`unit_code` was {unit_code!r} but must be a county or zone code of the programme "
                         f"({', '.join(known)}) or None for the city.", code="units.unknown",
                         unit=str(unit_code))
    return unit_code


PROJECT_COLUMNS = [
    "project_id", "name", "year", "unit_code", "street", "community", "delivery_model", "contractor", "compounds",
    "households", "floor_area_m2", "started", "completed", "invest_planned_wan", "invest_done_wan", "received_wan",
    "paid_wan", "invest_rate", "payment_rate",
]


def project_progress(con: duckdb.DuckDBPyConnection, *, as_of: date, plan_year: int | None = None) -> pd.DataFrame:
    """Each project (项目) on ``as_of``: its compounds, how many started and completed, investment and money paid.

    Parameters
    ----------
    con
        Open project database (``projects``, ``compounds.project_id``, ``progress_reports``, ``fund_flows``).
    as_of
        Statuses are each compound's latest weekly report on or before it; money moved up to it.
    plan_year
        Only projects of this year (a project without a year has its compounds' earliest plan year).

    Returns
    -------
    DataFrame
        ``PROJECT_COLUMNS``: ``year`` the project's year; ``compounds``, ``households``, ``floor_area_m2`` (m²)
        of its compounds; ``started`` / ``completed`` counts; ``invest_planned_wan`` the project's planned
        investment (its compounds' sum when the project gives none), ``invest_done_wan`` its compounds'
        reported investment done, ``received_wan`` / ``paid_wan`` money received and paid
        (``analytics.funding.money_flow`` by project, money booked on the project included), all 万元;
        ``invest_rate`` done ÷ planned, ``payment_rate`` paid ÷ planned (fractions, NaN without a plan).
        By year, units in the official order, then id.

    Raises
    ------
    InputError
        Bad ``con``, ``as_of`` or ``plan_year``.
    """
    check_connection(con)
    as_of = check_date(as_of)
    if plan_year is not None and (isinstance(plan_year, bool) or not isinstance(plan_year, int | np.integer)):
        raise InputError(f"`plan_year` was {plan_year!r} but must be a whole year such as 2020, or None.")
    frame = con.execute(
        """
        WITH grid AS (
            SELECT id, project_id, plan_year, households, floor_area_m2, invest_planned_wan,
                   $as_of::DATE AS snapshot_date
            FROM compounds WHERE project_id IS NOT NULL
        ),
        st AS (
            SELECT g.*, coalesce(r.status, '未开工') AS status, coalesce(r.invest_done_wan, 0) AS invest_done_wan
            FROM grid g ASOF LEFT JOIN progress_reports r ON r.compound_id = g.id AND r.report_date <= g.snapshot_date
        ),
        agg AS (
            SELECT project_id, count(*)::BIGINT AS compounds, sum(households)::BIGINT AS households,
                   sum(floor_area_m2)::DOUBLE AS floor_area_m2, min(plan_year) AS first_plan_year,
                   count(*) FILTER (WHERE status IN ('已开工', '已完工'))::BIGINT AS started,
                   count(*) FILTER (WHERE status = '已完工')::BIGINT AS completed,
                   sum(invest_planned_wan)::DOUBLE AS list_invest_wan, sum(invest_done_wan)::DOUBLE AS invest_done_wan
            FROM st GROUP BY project_id
        )
        SELECT p.id AS project_id, p.name, coalesce(p.year, a.first_plan_year) AS year, p.unit_code, p.street,
               p.community, p.delivery_model, p.contractor, coalesce(a.compounds, 0) AS compounds,
               coalesce(a.households, 0) AS households, coalesce(a.floor_area_m2, 0) AS floor_area_m2,
               coalesce(a.started, 0) AS started, coalesce(a.completed, 0) AS completed,
               coalesce(p.invest_planned_wan, a.list_invest_wan)::DOUBLE AS invest_planned_wan,
               coalesce(a.invest_done_wan, 0)::DOUBLE AS invest_done_wan
        FROM projects p LEFT JOIN agg a ON a.project_id = p.id
        """,
        {"as_of": as_of},
    ).fetchdf()
    if plan_year is not None:
        frame = frame[frame["year"] == int(plan_year)]
    money = funding.money_flow(con, as_of=as_of, by=("project_id",)).set_index("project_id")
    frame["received_wan"] = frame["project_id"].map(money["received_wan"]).fillna(0.0).astype("float64")
    frame["paid_wan"] = frame["project_id"].map(money["paid_wan"]).fillna(0.0).astype("float64")
    frame["year"] = frame["year"].astype("Int64")
    for col in ("compounds", "households", "started", "completed"):
        frame[col] = frame[col].astype("int64")
    frame["invest_rate"] = _ratio(frame["invest_done_wan"], frame["invest_planned_wan"])
    frame["payment_rate"] = _ratio(frame["paid_wan"], frame["invest_planned_wan"])
    if frame.empty:
        return frame.reindex(columns=PROJECT_COLUMNS)
    frame = _order(frame.assign(_y=frame["year"].fillna(9999)), units_mod.unit_order(con), ["_y"])
    return frame[PROJECT_COLUMNS]
