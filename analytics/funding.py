"""Multi-channel funding (多渠道资金): amounts and shares by source per county and year, and compounds whose parts miss the total.

Sources are the codes of ``settings.FUNDING_SOURCES`` (central_subsidy 中央补助资金, central_budget 中央预算内投资,
provincial 省级资金, local_fiscal 市县财政资金, special_bonds 专项债券, residents 居民出资, utilities 专营单位,
owner_units 原产权单位, social_capital 社会资本); a code found in the data but not in settings is kept and
listed after them. Money is in 万元 (10,000 yuan) throughout; shares are fractions 0–1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from numbers import Real

import duckdb
import numpy as np
import pandas as pd

from analytics import settings
from analytics import units as units_mod
from analytics.checks import check_connection, check_date, check_frame
from analytics.errors import InputError

log = logging.getLogger(__name__)

GROUP_COLUMNS: dict[str, str] = {
    # allowed ``by`` entries -> column of ``compounds``
    "county_code": "county_code", "zone_code": "zone_code", "plan_year": "plan_year", "tier": "tier",
    "compound_id": "id",
}
BREAKDOWN_COLUMNS = ["source", "source_zh", "source_en", "amount_wan", "share", "total_wan", "invest_planned_wan"]
MISMATCH_COLUMNS = [
    "compound_id", "name", "county_code", "plan_year", "invest_planned_wan", "parts_wan", "diff_wan", "diff_share",
    "n_sources", "problem",
]
# Problem codes of ``funding_mismatches`` -> (Chinese, English), for display.
MISMATCH_PROBLEMS: dict[str, tuple[str, str]] = {
    "parts_differ": ("各渠道资金之和与计划投资不符", "Funding parts do not add up to the planned investment"),
    "no_funding": ("未填报资金来源", "No funding sources entered"),
    "no_planned_investment": ("有资金来源但无计划投资", "Funding entered but no planned investment"),
    "unknown_compound": ("资金记录对应的小区不存在", "Funding rows for a compound that does not exist"),
}
# Differences smaller than this are rounding noise, never a mismatch (万元; 0.01 yuan).
_SLACK_WAN = 1e-6
# Sums are rounded to 0.01 yuan (6 decimals of 万元) so float noise never shows as a gap.
_ROUND_DECIMALS = 6


def _check_by(by: object, allowed: Sequence[str] = tuple(GROUP_COLUMNS)) -> list[str]:
    """``by`` as a list: a tuple (or list) of distinct names out of ``allowed``."""
    if isinstance(by, str) or not isinstance(by, Sequence):
        raise InputError(f"`by` was {by!r} but must be a tuple of column names from {tuple(allowed)!r}.")
    unknown = [b for b in by if b not in allowed]
    if unknown:
        raise InputError(f"`by` has unknown column(s) {unknown!r}; use any of {tuple(allowed)!r}.")
    if len(set(by)) != len(by):
        raise InputError(f"`by` was {tuple(by)!r} but names a column twice.")
    return list(by)


def _filters(plan_year: int | None, county_code: str | None) -> tuple[str, dict]:
    """SQL condition on compounds ``c`` and its named parameters.

    Planned compounds only: candidates of the pool have no plan and no funding yet.
    """
    where: list[str] = ["c.plan_year IS NOT NULL"]
    params: dict[str, object] = {}
    if plan_year is not None:
        if isinstance(plan_year, bool) or not isinstance(plan_year, int | np.integer):
            raise InputError(f"`plan_year` was {plan_year!r} but must be a whole year such as 2020, or None.")
        where.append("c.plan_year = $plan_year")
        params["plan_year"] = int(plan_year)
    if county_code is not None:
        if not isinstance(county_code, str):
            raise InputError(f"`county_code` was {county_code!r} but must be a county code string such as '370811'.")
        where.append("c.county_code = $county_code")
        params["county_code"] = county_code
    return " AND ".join(where), params


def _source_order(sources: list[str]) -> list[str]:
    known = [s for s in settings.FUNDING_SOURCES]
    return known + sorted(s for s in set(sources) if s not in settings.FUNDING_SOURCES)


def _group_sort_key(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counties in the official order, zones in theirs, everything else ascending."""
    keys = frame[by].copy()
    if "county_code" in by:
        pos = {c: i for i, c in enumerate(settings.COUNTY_ORDER)}
        keys["county_code"] = frame["county_code"].map(lambda c: (pos.get(c, len(pos)), str(c)))
    if "zone_code" in by:
        pos = {c: i for i, c in enumerate(settings.FUNCTION_ZONES)}
        keys["zone_code"] = frame["zone_code"].map(lambda c: (c is None or c != c, pos.get(c, len(pos)), str(c)))
    return keys


def funding_by_source(
    con: duckdb.DuckDBPyConnection,
    *,
    by: Sequence[str] = ("county_code", "plan_year"),
    plan_year: int | None = None,
    county_code: str | None = None,
) -> pd.DataFrame:
    """Funding amounts and shares by source for each group of compounds (long form, one row per group × source).

    Parameters
    ----------
    con
        Open project database (tables ``compounds`` and ``funding``).
    by
        Grouping columns, any of ``"county_code"``, ``"zone_code"``, ``"plan_year"``, ``"tier"``,
        ``"compound_id"``; ``()`` gives one city-wide group.
    plan_year, county_code
        Only compounds of this plan year / county.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``source`` (code), ``source_zh``, ``source_en``, ``amount_wan`` (万元; 0 where
        the group has none from that source), ``share`` (amount ÷ the group's funding total, 0–1; NaN when
        the total is 0), ``total_wan`` (the group's funding total, 万元) and ``invest_planned_wan`` (the
        group's planned investment, 万元; compare with ``total_wan``). Every source appears in every group,
        in ``settings.FUNDING_SOURCES`` order; groups are sorted with counties in the official order. Only
        groups with compounds appear; funding rows whose compound is unknown are left out (see
        ``funding_mismatches``). Empty (same columns) when no compound matches.

    Raises
    ------
    InputError
        Bad ``con``, ``by``, ``plan_year`` or ``county_code``.
    """
    check_connection(con)
    by = _check_by(by)
    where, params = _filters(plan_year, county_code)
    select = ", ".join(f"c.{GROUP_COLUMNS[b]} AS {b}" for b in by)
    group_cols = ", ".join(f"c.{GROUP_COLUMNS[b]}" for b in by)
    group_by = f"GROUP BY {group_cols}" if by else ""
    lead = f"{select}, " if by else ""
    groups = con.execute(
        f"SELECT {lead}coalesce(sum(c.invest_planned_wan), 0)::DOUBLE AS invest_planned_wan, count(*) AS n "
        f"FROM compounds c WHERE {where} {group_by}",
        params,
    ).fetchdf()
    groups = groups[groups["n"] > 0].drop(columns="n")
    parts = con.execute(
        f"SELECT {lead}f.source, sum(f.amount_wan)::DOUBLE AS amount_wan "
        f"FROM funding f JOIN compounds c ON c.id = f.compound_id WHERE {where} "
        f"GROUP BY {group_cols + ', ' if by else ''}f.source",
        params,
    ).fetchdf()
    sources = _source_order(parts["source"].tolist())
    if groups.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in by + BREAKDOWN_COLUMNS})

    groups = groups.assign(_g=1)
    grid = groups.merge(pd.DataFrame({"source": sources, "_g": 1}), on="_g").drop(columns="_g")
    out = grid.merge(parts, on=by + ["source"], how="left") if by else grid.merge(parts, on="source", how="left")
    out["amount_wan"] = out["amount_wan"].fillna(0.0).round(_ROUND_DECIMALS)
    totals = out.groupby(by, dropna=False)["amount_wan"].transform("sum") if by else \
        pd.Series(out["amount_wan"].sum(), index=out.index)
    out["total_wan"] = totals.astype("float64").round(_ROUND_DECIMALS)
    out["invest_planned_wan"] = out["invest_planned_wan"].round(_ROUND_DECIMALS)
    out["share"] = (out["amount_wan"] / out["total_wan"].where(out["total_wan"] != 0)).astype("float64")
    out["source_zh"] = out["source"].map(lambda s: settings.FUNDING_SOURCES.get(s, (s, s))[0])
    out["source_en"] = out["source"].map(lambda s: settings.FUNDING_SOURCES.get(s, (s, s))[1])
    unknown = sorted(set(sources) - set(settings.FUNDING_SOURCES))
    if unknown:
        log.warning("funding has source codes not in settings.FUNDING_SOURCES: %s", unknown)

    order = _group_sort_key(out, by) if by else pd.DataFrame(index=out.index)
    order["_source"] = out["source"].map({s: i for i, s in enumerate(sources)})
    out = out.loc[order.sort_values(list(order.columns)).index]
    return out[by + BREAKDOWN_COLUMNS].reset_index(drop=True)


def funding_wide(breakdown: pd.DataFrame) -> pd.DataFrame:
    """One row per group, one 万元 column per source, from ``funding_by_source``'s long frame.

    Returns
    -------
    DataFrame
        The group columns, one column per source code (万元, in source order), ``total_wan``,
        ``invest_planned_wan`` and ``gap_wan`` = ``total_wan`` − ``invest_planned_wan`` (万元).
    """
    check_frame(breakdown, "breakdown", required=BREAKDOWN_COLUMNS)
    by = [c for c in breakdown.columns if c not in BREAKDOWN_COLUMNS]
    sources = list(dict.fromkeys(breakdown["source"]))
    if breakdown.empty:
        return pd.DataFrame(columns=by + sources + ["total_wan", "invest_planned_wan", "gap_wan"])
    rows = []
    groups = breakdown.groupby(by, dropna=False, sort=False) if by else [((), breakdown)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row.update(dict.fromkeys(sources, 0.0))
        row.update(part.groupby("source", sort=False)["amount_wan"].sum().to_dict())
        row["total_wan"] = part["total_wan"].iloc[0]
        row["invest_planned_wan"] = part["invest_planned_wan"].iloc[0]
        rows.append(row)
    wide = pd.DataFrame(rows, columns=by + sources + ["total_wan", "invest_planned_wan"])
    wide["gap_wan"] = (wide["total_wan"] - wide["invest_planned_wan"]).round(_ROUND_DECIMALS)
    return wide


def funding_mismatches(
    con: duckdb.DuckDBPyConnection,
    *,
    tolerance: float = settings.FUNDING_TOLERANCE,
    plan_year: int | None = None,
    county_code: str | None = None,
) -> pd.DataFrame:
    """Compounds whose funding parts do not add up to their planned investment within ``tolerance``.

    Parameters
    ----------
    con
        Open project database.
    tolerance
        Allowed relative difference, a fraction (default 0.01 = ±1 %): a compound is listed when
        |parts − planned| > tolerance × planned (differences under 0.01 yuan are ignored as rounding).
    plan_year, county_code
        Only compounds of this plan year / county (funding rows of unknown compounds are then left out).

    Returns
    -------
    DataFrame
        ``compound_id, name, county_code, plan_year, invest_planned_wan`` (万元), ``parts_wan`` (sum of the
        parts, 万元), ``diff_wan`` (parts − planned, 万元), ``diff_share`` (diff ÷ planned, a signed fraction;
        NaN without a planned investment), ``n_sources`` and ``problem``: ``"parts_differ"``,
        ``"no_funding"`` (planned investment but no funding rows), ``"no_planned_investment"`` (funding but
        no planned investment) or ``"unknown_compound"`` (funding rows whose compound is not in
        ``compounds``); labels in ``MISMATCH_PROBLEMS``. Sorted by |diff_wan| descending.

    Raises
    ------
    InputError
        Bad ``con``, ``tolerance`` (must be 0 ≤ tolerance < 1), ``plan_year`` or ``county_code``.
    """
    check_connection(con)
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not 0 <= tolerance < 1:
        raise InputError(f"`tolerance` was {tolerance!r} but must be a fraction 0 ≤ tolerance < 1, e.g. 0.01 for ±1 %.")
    where, params = _filters(plan_year, county_code)
    orphans = plan_year is None and county_code is None
    frame = con.execute(
        f"""
        WITH parts AS (
            SELECT compound_id, round(sum(amount_wan), 6)::DOUBLE AS parts_wan, count(*)::BIGINT AS n_sources
            FROM funding GROUP BY compound_id
        ),
        joined AS (
            SELECT c.id AS compound_id, c.name, c.county_code, c.plan_year, c.invest_planned_wan,
                   coalesce(p.parts_wan, 0) AS parts_wan, coalesce(p.n_sources, 0) AS n_sources
            FROM compounds c LEFT JOIN parts p ON p.compound_id = c.id
            WHERE {where}
            UNION ALL
            SELECT p.compound_id, NULL, NULL, NULL, NULL, p.parts_wan, p.n_sources
            FROM parts p
            WHERE $orphans AND p.compound_id NOT IN (SELECT id FROM compounds)
        )
        SELECT *, round(parts_wan - coalesce(invest_planned_wan, 0), 6) AS diff_wan,
               (parts_wan - invest_planned_wan) / nullif(invest_planned_wan, 0) AS diff_share,
               CASE
                   WHEN name IS NULL AND county_code IS NULL THEN 'unknown_compound'
                   WHEN coalesce(invest_planned_wan, 0) = 0 THEN
                       CASE WHEN parts_wan <> 0 THEN 'no_planned_investment' END
                   WHEN n_sources = 0 THEN 'no_funding'
                   WHEN abs(parts_wan - invest_planned_wan) > $tolerance * abs(invest_planned_wan) + $slack
                       THEN 'parts_differ'
               END AS problem
        FROM joined
        """,
        {**params, "orphans": orphans, "tolerance": float(tolerance), "slack": _SLACK_WAN},
    ).fetchdf()
    frame = frame[frame["problem"].notna()].copy()
    frame["n_sources"] = frame["n_sources"].astype("int64")
    frame["plan_year"] = frame["plan_year"].astype("Int64")
    frame = frame.reindex(frame["diff_wan"].abs().sort_values(ascending=False, kind="stable").index)
    log.info("funding mismatches (±%.2f %%): %d", tolerance * 100, len(frame))
    return frame[MISMATCH_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------- money flow
FLOW_GROUPS: tuple[str, ...] = ("source", "unit_code", "county_code", "plan_year", "project_id", "compound_id")
FLOW_COLUMNS = [
    "planned_wan", "invest_planned_wan", "allocated_wan", "received_wan", "paid_wan", "allocated_rate",
    "received_rate", "payment_rate", "paid_of_received", "n_flows", "allocated_over_planned",
    "received_over_allocated", "paid_over_received", "order_ok",
]
# Ordering checks of ``money_flow``: flag column -> (later stage, earlier stage, Chinese, English).
FLOW_ORDER_CHECKS: dict[str, tuple[str, str, str, str]] = {
    "allocated_over_planned": ("allocated_wan", "planned_wan", "下达资金超过计划", "Allocated more than planned"),
    "received_over_allocated": ("received_wan", "allocated_wan", "到位资金超过下达", "Received more than allocated"),
    "paid_over_received": ("paid_wan", "received_wan", "支付资金超过到位", "Paid more than received"),
}
_STAGE_COLUMNS = {"planned": "planned_wan", **{s: f"{s}_wan" for s in settings.FLOW_STAGES}}

# Each money movement up to $as_of with the compound (or project) it is booked on: plan year, unit, county,
# project. A movement booked on a project takes the project's year (else its compounds' earliest plan year),
# its unit and county (a zone project: its compounds' county). ``orphan``: neither is known.
_FLOWS_SQL = """
WITH c AS (
    SELECT id AS compound_id, project_id, plan_year, county_code,
           CASE WHEN zone_code IS NOT NULL THEN zone_code ELSE county_code END AS unit_code
    FROM compounds WHERE plan_year IS NOT NULL
),
members AS (
    SELECT project_id, min(plan_year) AS first_year, min(county_code) AS county_code
    FROM c WHERE project_id IS NOT NULL GROUP BY project_id
),
pj AS (
    SELECT p.id AS project_id, p.unit_code, coalesce(p.year, m.first_year) AS plan_year,
           CASE WHEN u.kind = 'zone' THEN m.county_code ELSE p.unit_code END AS county_code
    FROM projects p LEFT JOIN units u ON u.unit_code = p.unit_code LEFT JOIN members m ON m.project_id = p.id
)
SELECT f.source, f.stage, f.amount_wan::DOUBLE AS amount_wan, f.compound_id,
       coalesce(c.project_id, pj.project_id, f.project_id) AS project_id,
       coalesce(c.plan_year, pj.plan_year) AS plan_year,
       coalesce(c.unit_code, pj.unit_code) AS unit_code, coalesce(c.county_code, pj.county_code) AS county_code,
       (c.compound_id IS NULL AND pj.project_id IS NULL) AS orphan
FROM fund_flows f
LEFT JOIN c ON c.compound_id = f.compound_id
LEFT JOIN pj ON f.compound_id IS NULL AND pj.project_id = f.project_id
WHERE f.flow_date <= $as_of
"""
_PLANNED_SQL = """
SELECT c.id AS compound_id, c.project_id, c.plan_year, c.county_code,
       CASE WHEN c.zone_code IS NOT NULL THEN c.zone_code ELSE c.county_code END AS unit_code,
       coalesce(c.invest_planned_wan, 0)::DOUBLE AS invest_planned_wan
FROM compounds c WHERE c.plan_year IS NOT NULL
"""


def _order_flags(frame: pd.DataFrame, tolerance: float) -> None:
    """Set the ordering checks of ``FLOW_ORDER_CHECKS`` and ``order_ok`` on ``frame`` (in place).

    A check is True when the later stage exceeds the earlier one by more than ``tolerance`` of it (and more
    than rounding noise).
    """
    for flag, (later, earlier, _zh, _en) in FLOW_ORDER_CHECKS.items():
        frame[flag] = frame[later] > frame[earlier] * (1 + float(tolerance)) + _SLACK_WAN
    frame["order_ok"] = ~frame[list(FLOW_ORDER_CHECKS)].any(axis=1)


def _flow_order(frame: pd.DataFrame, by: list[str], unit_order: list[str]) -> pd.DataFrame:
    """Units in the official order, sources in ``settings.FUNDING_SOURCES`` order, the rest ascending; NULL last."""
    keys = pd.DataFrame(index=frame.index)
    sources = {s: i for i, s in enumerate(settings.FUNDING_SOURCES)}
    units = {u: i for i, u in enumerate(unit_order)}
    for col in by:
        values = frame[col]
        if col == "source":
            keys[col] = values.map(lambda s: (s is None or s != s, sources.get(s, len(sources)), str(s)))
        elif col in ("unit_code", "county_code"):
            keys[col] = values.map(lambda u: (u is None or u != u, units.get(u, len(units)), str(u)))
        else:
            keys[col] = values.map(lambda v: (v is None or v != v, str(v)))
    return frame.loc[keys.sort_values(by).index] if by else frame


def money_flow(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    by: Sequence[str] = ("source", "unit_code"),
    plan_year: int | None = None,
    tolerance: float = settings.FLOW_TOLERANCE,
) -> pd.DataFrame:
    """Money planned (计划), allocated (下达), received (到位) and paid (支付) up to ``as_of``, per group.

    Planned amounts are the ``funding`` rows of the compounds in an annual plan; movements are the
    ``fund_flows`` rows dated on or before ``as_of``. A movement booked on a project (no compound) counts in
    the project's plan year, unit and county, and has no ``compound_id``.

    Parameters
    ----------
    con
        Open project database.
    as_of
        Movements dated after it are left out.
    by
        Grouping, any of ``FLOW_GROUPS``: ``"source"`` (funding source code), ``"unit_code"`` (reporting unit:
        the function zone, else the county), ``"county_code"``, ``"plan_year"``, ``"project_id"``,
        ``"compound_id"``; ``()`` gives one city-wide row. ``("compound_id", "source")`` checks each
        compound's money on its own.
    plan_year
        Only the compounds (and project movements) of this plan year.
    tolerance
        Allowed relative excess of a stage over the one before it (default ``settings.FLOW_TOLERANCE``,
        ±1 %).

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``planned_wan``, ``allocated_wan``, ``received_wan``, ``paid_wan`` (万元,
        cumulative to ``as_of``); ``invest_planned_wan`` (the group's compounds' planned investment, 万元;
        NaN when ``by`` has ``"source"``, which investment does not have); ``allocated_rate``,
        ``received_rate``, ``payment_rate`` (支付率: each ÷ ``planned_wan``, fractions, NaN without a plan);
        ``paid_of_received`` (paid ÷ received); ``n_flows`` (movements counted); the ordering checks
        ``allocated_over_planned``, ``received_over_allocated``, ``paid_over_received`` (True when the later
        stage exceeds the earlier one by more than ``tolerance`` of it, labels in ``FLOW_ORDER_CHECKS``) and
        ``order_ok`` (none of them). One row per group with a plan, a compound (when ``by`` has no
        ``"source"``) or a movement; movements whose compound and project are both unknown form groups with
        empty keys (only without ``plan_year``), never dropped. Units in the official order, sources in
        ``settings.FUNDING_SOURCES`` order.

    Raises
    ------
    InputError
        Bad ``con``, ``as_of``, ``by``, ``plan_year`` or ``tolerance``.
    """
    check_connection(con)
    as_of = check_date(as_of)
    by = _check_by(by, FLOW_GROUPS)
    if plan_year is not None and (isinstance(plan_year, bool) or not isinstance(plan_year, int | np.integer)):
        raise InputError(f"`plan_year` was {plan_year!r} but must be a whole year such as 2020, or None.")
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not 0 <= tolerance < 1:
        raise InputError(f"`tolerance` was {tolerance!r} but must be a fraction 0 ≤ tolerance < 1, e.g. 0.01 for ±1 %.")

    lead = "".join(f"{b}, " for b in by)
    flows = con.execute(  # summed per group and stage in the database: one row each, however many movements
        f"SELECT {lead}stage, sum(amount_wan) AS amount_wan, count(*)::BIGINT AS n FROM ({_FLOWS_SQL}) f "
        "WHERE $plan_year::INTEGER IS NULL OR plan_year = $plan_year::INTEGER GROUP BY ALL",
        {"as_of": as_of, "plan_year": None if plan_year is None else int(plan_year)},
    ).fetchdf()
    compounds = con.execute(_PLANNED_SQL).fetchdf()
    planned = con.execute("SELECT compound_id, source, amount_wan::DOUBLE AS amount_wan FROM funding").fetchdf()
    planned = planned.merge(compounds, on="compound_id").assign(stage="planned", n=0)
    if plan_year is not None:
        compounds = compounds[compounds["plan_year"] == int(plan_year)]
        planned = planned[planned["plan_year"] == int(plan_year)]
    unknown = sorted(set(flows["stage"]) - set(settings.FLOW_STAGES))
    if unknown:
        log.warning("fund_flows has stage codes not in settings.FLOW_STAGES (left out): %s", unknown)
        flows = flows[flows["stage"].isin(list(settings.FLOW_STAGES))]

    moves = pd.concat([planned[by + ["stage", "amount_wan", "n"]], flows[by + ["stage", "amount_wan", "n"]]],
                      ignore_index=True)
    moves["n"] = moves["n"].astype("int64")
    moves["stage"] = moves["stage"].map(_STAGE_COLUMNS)
    stage_cols = list(_STAGE_COLUMNS.values())
    if by:
        sums = moves.groupby([*by, "stage"], dropna=False)["amount_wan"].sum().unstack("stage")
        sums = sums.reindex(columns=stage_cols)
        counts = moves.groupby(by, dropna=False)["n"].sum().rename("n_flows")
        out = sums.join(counts).reset_index() if not moves.empty else pd.DataFrame(columns=[*by, *stage_cols, "n_flows"])
    else:
        row = moves.groupby("stage")["amount_wan"].sum().reindex(stage_cols).to_dict()
        row["n_flows"] = int(moves["n"].sum())
        out = pd.DataFrame([row])
    if "source" in by:
        out["invest_planned_wan"] = np.nan
    else:
        invest = compounds.groupby(by, dropna=False)["invest_planned_wan"].sum() if by else \
            pd.Series([compounds["invest_planned_wan"].sum()])
        if by:
            out = out.merge(invest.reset_index(), on=by, how="outer")
        else:
            out["invest_planned_wan"] = float(invest.iloc[0])
    out = out.reindex(columns=by + FLOW_COLUMNS[:6] + ["n_flows"])
    for col in stage_cols:
        out[col] = out[col].fillna(0.0).astype("float64").round(_ROUND_DECIMALS)
    out["invest_planned_wan"] = out["invest_planned_wan"].astype("float64")
    out["n_flows"] = out["n_flows"].fillna(0).astype("int64")
    plan = out["planned_wan"].where(out["planned_wan"] > 0)
    out["allocated_rate"] = out["allocated_wan"] / plan
    out["received_rate"] = out["received_wan"] / plan
    out["payment_rate"] = out["paid_wan"] / plan
    out["paid_of_received"] = out["paid_wan"] / out["received_wan"].where(out["received_wan"] > 0)
    _order_flags(out, tolerance)
    for col in by:  # an unknown key is None (plan_year <NA>), never NaN
        out[col] = out[col].astype("Int64") if col == "plan_year" else out[col].astype(object).where(out[col].notna(), None)
    out = _flow_order(out, by, units_mod.unit_order(con))
    log.info("money flow on %s by %s: %d groups, %d out of order", as_of, by, len(out), int((~out["order_ok"]).sum()))
    return out[by + FLOW_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------------ money out of order
ORDER_PROBLEM_COLUMNS = [
    "unit_code", "plan_year", "project_id", "project_name", "compound_id", "compound_name", "check", "later_wan",
    "earlier_wan", "excess_wan", "sources",
]
_PROBLEM_KEYS = ["unit_code", "plan_year", "project_id", "compound_id"]


def flow_order_problems(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    plan_year: int | None = None,
    tolerance: float = settings.FLOW_TOLERANCE,
) -> pd.DataFrame:
    """Money out of order up to ``as_of``: which compound (or project) has a stage above the one before it, by how much.

    Money booked on a compound is checked on that compound, each funding source on its own (one source's
    money does not pay for another's). Money booked on a project (not on one of its compounds) is checked on
    the project as a whole: its own movements and its compounds', per source, so a project paying out what
    its compounds received is not flagged. The checks and ``tolerance`` are ``money_flow``'s.

    Parameters
    ----------
    con
        Open project database.
    as_of
        Movements dated after it are left out.
    plan_year
        Only the compounds (and project movements) of this plan year; default every year.
    tolerance
        Allowed relative excess of a stage over the one before it (default ``settings.FLOW_TOLERANCE``).

    Returns
    -------
    DataFrame
        One row per compound (or project movement) and check, ``ORDER_PROBLEM_COLUMNS``: ``unit_code``,
        ``plan_year``, ``project_id``, ``project_name`` (None when the project is unknown),
        ``compound_id`` (None for money booked on a project), ``compound_name`` (None when unknown),
        ``check`` (a key of ``FLOW_ORDER_CHECKS``), ``later_wan`` and ``earlier_wan`` (the two stages summed
        over the sources out of order, 万元), ``excess_wan`` (their difference, 万元) and ``sources`` (those
        sources, a tuple in ``settings.FUNDING_SOURCES`` order). Movements whose compound and project are both
        unknown keep their ids with ``unit_code`` None. Units in the official order (unknown last), then the
        largest excess first.

    Raises
    ------
    InputError
        Bad ``con``, ``as_of``, ``plan_year`` or ``tolerance``.
    """
    flow = money_flow(con, as_of=as_of, by=(*_PROBLEM_KEYS, "source"), plan_year=plan_year, tolerance=tolerance)
    stage_cols = list(_STAGE_COLUMNS.values())
    booked = flow["compound_id"].isna() & flow["project_id"].notna()
    if booked.any():  # a project's own movements: checked against the project's whole money
        whole = flow.groupby(["project_id", "source"])[stage_cols].sum()
        keys = pd.MultiIndex.from_frame(flow.loc[booked, ["project_id", "source"]])
        flow.loc[booked, stage_cols] = whole.loc[keys, stage_cols].to_numpy()
        _order_flags(flow, tolerance)
    sources = {s: i for i, s in enumerate(_source_order(flow["source"].dropna().tolist()))}
    parts = []
    for check, (later, earlier, _zh, _en) in FLOW_ORDER_CHECKS.items():
        bad = flow[flow[check]]
        parts.append(pd.DataFrame({
            **{k: bad[k] for k in _PROBLEM_KEYS}, "check": check, "source": bad["source"],
            "later_wan": bad[later], "earlier_wan": bad[earlier],
        }))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ORDER_PROBLEM_COLUMNS})
    rows["_source"] = rows["source"].map(lambda s: sources.get(s, len(sources)))
    rows = rows.sort_values("_source", kind="stable")
    group = [*_PROBLEM_KEYS, "check"]
    out = rows.groupby(group, dropna=False, sort=False).agg(
        later_wan=("later_wan", "sum"), earlier_wan=("earlier_wan", "sum"), sources=("source", tuple)).reset_index()
    out["later_wan"] = out["later_wan"].astype(float).round(_ROUND_DECIMALS)
    out["earlier_wan"] = out["earlier_wan"].astype(float).round(_ROUND_DECIMALS)
    out["excess_wan"] = (out["later_wan"] - out["earlier_wan"]).round(_ROUND_DECIMALS)
    compounds = dict(con.execute("SELECT id, name FROM compounds").fetchall())
    projects = dict(con.execute("SELECT id, name FROM projects").fetchall())
    out["compound_name"] = out["compound_id"].map(lambda c: None if c is None or c != c else compounds.get(c))
    out["project_name"] = out["project_id"].map(lambda p: None if p is None or p != p else projects.get(p))
    for col in ("unit_code", "project_id", "compound_id", "compound_name", "project_name"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["plan_year"] = out["plan_year"].astype("Int64")
    units = {u: i for i, u in enumerate(units_mod.unit_order(con))}
    checks = {c: i for i, c in enumerate(FLOW_ORDER_CHECKS)}
    key = pd.DataFrame({
        "unit": out["unit_code"].map(lambda u: (u is None, units.get(u, len(units)), str(u))),
        "excess": -out["excess_wan"], "id": (out["compound_id"].fillna(out["project_id"].fillna(""))).astype(str),
        "check": out["check"].map(checks),
    })
    out = out.loc[key.sort_values(list(key.columns), kind="stable").index]
    log.info("money out of order on %s: %d", as_of, len(out))
    return out[ORDER_PROBLEM_COLUMNS].reset_index(drop=True)
