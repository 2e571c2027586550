"""Plan builder (项目生成): next year's renovation list chosen from the candidate pool under a budget and targets.

The 2020 implementation plan makes a year's list from the buildings' condition, the share of households
paying in, the expected benefit and how complete the procedures are, within the city's fiscal capacity
(财政承受能力); disputed projects wait until residents agree, and at equal conditions the most willing
compounds go first. Adjacent compounds are renewed together (成片) and may be let as one package by street
or community. This module turns that into an integer programme solved exactly with CBC (through PuLP).

Eligibility (each failing candidate is listed with every rule it fails, never dropped silently)
    built on or before ``settings.ELIGIBLE_BUILT_ON_OR_BEFORE`` (2005-12-31); not planned for demolition;
    residents' willingness ≥ ``min_willingness`` (share of households, default 2/3); not marked
    ``disputed``; not already in an earlier plan year (``plan_year`` < ``year``) nor started or finished
    (``status`` 已开工 / 已完工). Columns the rules need but the frame lacks are not checked.

Value of a compound
    ``objective="score"``: its priority score (``analytics.priority.priority_scores`` over the eligible
    candidates with ``weights``, age measured at ``year``; 0–1); ``objective="households"``: its
    households. The plan maximises the total value of the chosen compounds.

Bundles (成片 / 打包)
    A bundle is a group of candidates that may be taken as one unit: then all its eligible members are
    chosen, their cost falls by the bundle's ``saving_pct`` (an assumption, default
    ``settings.PLAN_BUNDLE_SAVING_PCT`` = 5 %) and their value rises by its ``bonus_pct`` (shared
    facilities on idle land in reach; see :func:`bundles_from_clusters`). With ``bundle_rule="optional"``
    members may also be chosen singly at full cost; with ``"whole"`` a bundle's members are all chosen or
    none. Either way a bundle taken is never split. Ineligible members leave their bundle; a bundle left
    with fewer than two members is dropped.

Reporting units
    Per-unit figures (targets, budget caps, fair shares, totals) are per reporting unit, as the annual
    targets and progress count them: a compound in a function zone (``zone_code``, Z01 …) counts in its
    zone, every other one in its county (:func:`unit_codes`). "County" below means such a unit.

Constraints
    net cost (after bundle savings) ≤ ``budget_wan`` and ≤ each county's ``county_budget_wan``; each
    target (households, floor area, compounds; city-wide or per county) is a minimum; each county with
    eligible candidates spends at least ``min_county_share`` × its proportional share of the budget (its
    share of the eligible candidates' cost; 0 turns this off). ``first_tier_first`` ("2000年前建成的优先")
    makes the objective lexicographic: first the most value from compounds built on or before
    ``settings.FIRST_TIER_BUILT_ON_OR_BEFORE`` (2000-12-31), then, without losing any of it, the most
    value in total.

Narrowing before the model is built
    ineligible candidates and those that alone (after the largest saving open to them) cost more than the
    budget or their county's budget are set aside with their reason; bundles are cut to eligible members.

Infeasible minimums
    When the targets and fair shares cannot all be met, a second model with a slack on each minimum finds
    the smallest total relative shortfall; each minimum still short is reported with what is reachable
    and by how much it is missed, and the plan returned meets the others and reaches those as far as it can.

Greedy comparison
    The ranking's own answer: go down the ranking (score, or households, best first; pre-2000 first when
    asked) and take each compound (a ``"whole"`` bundle as one) that still fits the budgets. It ignores
    minimums and savings; a bundle it happens to take whole gets the saving afterwards. When it meets
    every minimum it is CBC's starting solution, so the optimum is never worse.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from numbers import Real
from pathlib import Path
from typing import Literal, cast

import duckdb
import numpy as np
import pandas as pd
import pulp

from analytics import priority, settings
from analytics.checks import check_frame
from analytics.errors import InputError

log = logging.getLogger(__name__)

Objective = Literal["score", "households"]
BundleRule = Literal["optional", "whole"]

MEASURES: tuple[str, ...] = ("compounds", "households", "floor_area_m2")
"""Target measures (minimums)."""
REQUIRED = ("id", "name", "county_code", "built_year", "households", "floor_area_m2", "cost_wan",
            "willingness_pct", "contributing_pct", "procedures_complete", "demolition_planned")
CARRIED = ("zone_code", "street", "community", "n_buildings", "tier", "items", "plan_year", "status", "cost_estimated")
MAX_TIME_LIMIT_S = 600
"""Longest solver time limit accepted (s)."""
MAX_SAVING_PCT = 50.0
MAX_BONUS_PCT = 100.0
STARTED_STATUSES = ("已开工", "已完工")

# Why a candidate is in or out (``reason`` of ``Plan.chosen`` / ``Plan.rejected``; the labels, filled with the row's
# ``detail``, are ``plan.reason.<code>`` in dashboard/labels/plan.py).
INELIGIBLE_REASONS: tuple[str, ...] = (
    "built_after_cutoff", "built_year_missing", "demolition_planned", "willingness_missing", "willingness_below_min",
    "disputed", "already_planned", "already_started",
)
LEFT_OUT_REASONS: tuple[str, ...] = (
    "too_expensive", "budget", "county_budget", "bundle_budget", "no_value", "not_reached",
)
CHOSEN_REASONS: tuple[str, ...] = ("needed_for_target", "needed_for_fair_share", "bundle", "ranking", "optimiser")
STATUSES: tuple[str, ...] = ("optimal", "time_limit", "infeasible")

_TOL = 1e-6
_OBJ_TOL = 1e-9


@dataclass(frozen=True)
class Plan:
    """What :func:`build_plan` found.

    Attributes
    ----------
    chosen
        The list, best first: ``id, name, county_code, unit_code`` (reporting unit: :func:`unit_codes`;
        and ``zone_code, street, community, n_buildings, tier, items, plan_year, status`` when given),
        ``built_year, first_tier`` (built ≤ 2000), ``households, floor_area_m2, cost_wan`` (full cost, 万元),
        ``saving_wan`` (bundle saving), ``net_cost_wan``, ``score`` (priority, 0–1), ``rank`` (priority rank
        among the eligible), ``value`` (its share of the objective, bundle bonus included), ``value_per_wan``,
        ``bundle_id, bundle_name`` (None when taken singly), ``in_greedy`` (the ranking took it too),
        ``reason`` (one of ``CHOSEN_REASONS``: why it is in), ``detail`` (dict of the reason's parameters).
    rejected
        Every other candidate: the same columns (cost and values as given), ``eligible`` and ``reason`` (the
        ``INELIGIBLE_REASONS`` failed, joined by ``";"``, or one of ``LEFT_OUT_REASONS``: the binding
        constraint), ``detail``.
    totals
        One row per reporting unit with candidates, targets or a budget, then the city (``settings.CITY_UNIT_CODE``):
        ``unit_code``, chosen ``compounds, households, floor_area_m2, cost_wan, saving_wan, net_cost_wan``;
        ``budget_wan`` (NaN = none), ``fair_share_wan`` (minimum spend), ``target_<measure>`` (NaN = none),
        ``short_<measure>`` and ``short_fair_share_wan`` (shortfall when infeasible, else 0); the eligible pool ``pool_compounds,
        pool_households, pool_floor_area_m2, pool_cost_wan``; the greedy answer's ``greedy_compounds,
        greedy_households, greedy_floor_area_m2, greedy_net_cost_wan``.
    status
        ``"optimal"``, ``"time_limit"`` (best found; ``gap`` says how far from optimal it may be) or
        ``"infeasible"`` (some minimum cannot be met; see ``shortfalls``).
    gap
        Relative gap (bound − value) ÷ bound of the last solve; 0 when optimal, None when unknown.
    shortfalls
        Minimums that cannot be met: ``kind`` (``"target"`` / ``"fair_share"``), ``unit_code``,
        ``measure`` (``compounds``, ``households``, ``floor_area_m2`` or ``net_cost_wan``), ``required``,
        ``reachable``, ``short_by``. Empty unless ``status == "infeasible"``.
    greedy
        The ranking's answer, same columns as ``chosen`` (``reason`` ``"ranking"``).
    bundles
        ``bundle_id, name, basis, n_members, n_eligible, taken, greedy_taken, net_cost_wan, saving_wan,
        bonus_pct, saving_pct, dropped`` (reason code when it could not be used, else "").
    objective_value, first_tier_value
        Total value of ``chosen`` and the part from pre-2000 compounds.
    greedy_value, greedy_first_tier_value
        The same for ``greedy``.
    greedy_meets_minimums
        True when the greedy answer meets every target and fair share.
    bound
        Best bound on the objective CBC proved (None when unknown).
    solve_seconds
        Wall time in CBC (s), all stages.
    n_candidates, n_eligible, n_model
        Candidates given, eligible ones, and those left in the model after narrowing.
    options
        The options used (budget, targets, weights, …), for display and the audit log.
    """

    chosen: pd.DataFrame
    rejected: pd.DataFrame
    totals: pd.DataFrame
    status: str
    gap: float | None
    shortfalls: pd.DataFrame
    greedy: pd.DataFrame
    bundles: pd.DataFrame
    objective_value: float
    first_tier_value: float
    greedy_value: float
    greedy_first_tier_value: float
    greedy_meets_minimums: bool
    bound: float | None
    solve_seconds: float
    n_candidates: int
    n_eligible: int
    n_model: int
    options: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- helpers
def _number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(float(value))


def _unit_name(code: str) -> str:
    if code == settings.CITY_UNIT_CODE:
        return "全市"
    return settings.COUNTIES.get(code, settings.FUNCTION_ZONES.get(code, (code,)))[0]


def unit_codes(compounds: pd.DataFrame) -> pd.Series:
    """Each compound's reporting unit: its function zone (``zone_code``) when it has one, else its county.

    The unit the annual targets, progress and bulletins count it in (``analytics.progress``).
    """
    county = compounds["county_code"].astype(str)
    if "zone_code" not in compounds.columns:
        return county.rename("unit_code")
    zone = compounds["zone_code"]
    in_zone = zone.notna() & (zone.astype(str).str.strip() != "")
    return county.where(~in_zone, zone.astype(str)).rename("unit_code")


def first_tier_mask(built_year: pd.Series) -> pd.Series:
    """True for compounds built on or before ``settings.FIRST_TIER_BUILT_ON_OR_BEFORE`` (2000)."""
    return pd.to_numeric(built_year, errors="coerce").le(settings.FIRST_TIER_BUILT_ON_OR_BEFORE.year).fillna(False)


def estimate_costs(
    candidates: pd.DataFrame,
    *,
    unit_cost_yuan_per_m2: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Candidates with ``cost_wan``: the planned investment where known, else floor area × unit cost of the tier.

    Parameters
    ----------
    candidates
        Frame with ``floor_area_m2`` (m²), optionally ``invest_planned_wan`` (万元) and ``tier`` (基础类 /
        完善类 / 提升类; missing or unknown counts as 完善类).
    unit_cost_yuan_per_m2
        Tier → 元/m²; default ``settings.UNIT_COST_YUAN_PER_M2`` (soft: 260 / 340 / 430).

    Returns
    -------
    DataFrame
        A copy with ``cost_wan`` (万元, two decimals) and ``cost_estimated`` (True where it was estimated).
    """
    check_frame(candidates, "candidates", required=["floor_area_m2"])
    costs = dict(settings.UNIT_COST_YUAN_PER_M2 if unit_cost_yuan_per_m2 is None else unit_cost_yuan_per_m2)
    for tier, value in costs.items():
        if not _number(value) or value <= 0:
            raise InputError(f"`unit_cost_yuan_per_m2[{tier!r}]` was {value!r} but must be a number of 元/m² above 0.",
                             code="plan.unit_cost", tier=str(tier), value=value)
    default = costs.get("完善类", float(np.mean(list(costs.values()))) if costs else float("nan"))
    out = candidates.copy()
    tier = out["tier"] if "tier" in out.columns else pd.Series(None, index=out.index, dtype=object)
    rate = tier.map(costs).astype("float64").fillna(default)
    area = pd.to_numeric(out["floor_area_m2"], errors="coerce")
    estimate = (area * rate / 10_000).round(2)
    planned = pd.to_numeric(out["invest_planned_wan"], errors="coerce") if "invest_planned_wan" in out.columns \
        else pd.Series(np.nan, index=out.index)
    known = planned.notna() & (planned > 0)
    out["cost_wan"] = planned.where(known, estimate)
    out["cost_estimated"] = ~known & estimate.notna()
    return out


def bundles_from_clusters(
    clusters: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    saving_pct: float = settings.PLAN_BUNDLE_SAVING_PCT,
    facility_bonus_pct: float = settings.PLAN_FACILITY_BONUS_PCT,
) -> pd.DataFrame:
    """Bundles from :func:`analytics.clusters.find_clusters`: each cluster one area (片区).

    A cluster gets ``facility_bonus_pct`` when its idle land in reach (``idle_area_m2``) is at least the
    smallest minimum area (``settings.FACILITY_TYPES``) of a facility type half its members lack
    (``shared_gaps``): a shared facility could be built there.

    Returns
    -------
    DataFrame
        ``bundle_id`` ("C1", …), ``name`` ("<street>片区1" with the members' most frequent street when
        ``candidates`` has ``id`` and ``street``, else "片区1"), ``member_ids``, ``saving_pct``,
        ``bonus_pct``, ``basis`` ("cluster"), ``shared_gaps``, ``idle_area_m2``.
    """
    check_frame(clusters, "clusters", required=["cluster_id", "member_ids"])
    _check_pct(saving_pct, "saving_pct", MAX_SAVING_PCT)
    _check_pct(facility_bonus_pct, "facility_bonus_pct", MAX_BONUS_PCT)
    street_of: dict[str, str] = {}
    if candidates is not None and {"id", "street"} <= set(candidates.columns):
        street_of = {str(k): v for k, v in zip(candidates["id"], candidates["street"]) if isinstance(v, str)}
    rows = []
    for _, c in clusters.iterrows():
        gaps = list(c["shared_gaps"]) if "shared_gaps" in clusters.columns and c["shared_gaps"] is not None else []
        idle = float(c["idle_area_m2"]) if "idle_area_m2" in clusters.columns and pd.notna(c["idle_area_m2"]) else 0.0
        fits = [settings.FACILITY_TYPES[g]["min_area_m2"] for g in gaps if g in settings.FACILITY_TYPES]
        bonus = facility_bonus_pct if fits and idle >= min(fits) else 0.0
        streets = pd.Series([street_of.get(str(m)) for m in c["member_ids"]], dtype=object).dropna()
        street = streets.value_counts(sort=False).idxmax() if len(streets) else ""  # ties: the first member's
        rows.append({"bundle_id": f"C{int(c['cluster_id'])}", "name": f"{street}片区{int(c['cluster_id'])}",
                     "member_ids": list(c["member_ids"]), "saving_pct": float(saving_pct), "bonus_pct": float(bonus),
                     "basis": "cluster", "shared_gaps": gaps, "idle_area_m2": idle})
    columns = ["bundle_id", "name", "member_ids", "saving_pct", "bonus_pct", "basis", "shared_gaps", "idle_area_m2"]
    return pd.DataFrame(rows, columns=columns)


def bundles_by_area(
    candidates: pd.DataFrame,
    *,
    by: Literal["street", "community"] = "street",
    saving_pct: float = settings.PLAN_BUNDLE_SAVING_PCT,
) -> pd.DataFrame:
    """Bundles of the candidates sharing a street (街道) or community (社区) within a reporting unit; two or more each.

    The unit is the county, or the function zone of a compound in one (:func:`unit_codes`).

    Returns
    -------
    DataFrame
        ``bundle_id`` ("<unit>:<street>[:<community>]"), ``name`` (the street, or street and community),
        ``member_ids`` (input order), ``saving_pct``, ``bonus_pct`` (0), ``basis`` (``by``).
    """
    if by not in ("street", "community"):
        raise InputError(f"`by` was {by!r} but must be 'street' or 'community'.")
    keys = ["unit_code", "street"] + (["community"] if by == "community" else [])
    check_frame(candidates, "candidates", required=["id", "county_code", *keys[1:]])
    _check_pct(saving_pct, "saving_pct", MAX_SAVING_PCT)
    frame = candidates[["id", *keys[1:]]].assign(unit_code=unit_codes(candidates))[["id", *keys]].dropna(subset=keys)
    frame = frame[(frame[keys[1:]].astype(str).apply(lambda s: s.str.strip()) != "").all(axis=1)]
    rows = []
    for key, group in frame.groupby(keys, sort=True):
        if len(group) < 2:
            continue
        rows.append({"bundle_id": ":".join(map(str, key)), "name": "".join(map(str, key[1:])),
                     "member_ids": group["id"].tolist(), "saving_pct": float(saving_pct), "bonus_pct": 0.0,
                     "basis": by})
    return pd.DataFrame(rows, columns=["bundle_id", "name", "member_ids", "saving_pct", "bonus_pct", "basis"])


def pool_of(compounds: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """The compounds that may enter plan year ``year`` (储备库): no plan year, or ``year`` or later.

    Returns those rows (same frame type and CRS) with ``cost_wan`` and ``cost_estimated`` from
    :func:`estimate_costs`; ineligible ones stay in (``build_plan`` lists them with their reasons).
    """
    check_frame(compounds, "compounds", required=["id", "plan_year", "floor_area_m2"])
    plan_year = pd.to_numeric(compounds["plan_year"], errors="coerce")
    return estimate_costs(compounds[plan_year.isna() | (plan_year >= year)].reset_index(drop=True))


def candidate_pool(con: duckdb.DuckDBPyConnection, *, year: int) -> pd.DataFrame:
    """:func:`pool_of` the stored compounds (GeoDataFrame, EPSG:4548)."""
    from analytics import store

    return pool_of(store.read_layer(con, "compounds"), year=year)


PLAN_TABLE_COLUMNS = ["seq", "unit_code", "project_name", "name", "built_year", "n_buildings", "households",
                      "floor_area_m2", "tier", "items", "invest_wan", "planned_start", "planned_completion"]
"""Columns of the 年度改造计划表: 序号, 县市区, 项目名称, 小区名称, 建成年代, 楼栋数, 户数, 建筑面积 (m²), 改造类型,
主要改造内容, 估算投资 (万元), 计划开工, 计划竣工."""


def tier_content(tier: object) -> str:
    """The main renovation content (主要改造内容) a tier stands for, in the plan's words.

    Each tier includes the ones before it; empty for an unknown tier.
    """
    if tier not in settings.TIER_ITEMS:
        return ""
    before = settings.TIERS[: settings.TIERS.index(tier)]
    prefix = f"{'、'.join(before)}内容及" if before else ""
    return prefix + "、".join(settings.TIER_ITEMS[tier])


def plan_table(plan: Plan, *, year: int) -> pd.DataFrame:
    """The chosen list in the office's layout (年度改造计划表), reporting units in the official order.

    One row per compound: ``seq`` (1, 2, …), ``unit_code`` (县市区: the county, or the function zone of a
    compound in one), ``project_name`` (the bundle's "<name>老旧小区改造
    项目（成片）", else "<compound>老旧小区改造项目"), ``name``, ``built_year``, ``n_buildings``, ``households``,
    ``floor_area_m2`` (m²), ``tier``, ``items`` (as given, else the tier's content), ``invest_wan`` (net
    estimated investment, 万元), ``planned_start`` / ``planned_completion`` (dates in ``year`` from
    ``settings.PLAN_START_MMDD`` / ``PLAN_COMPLETION_MMDD``). Members of one bundle are listed together.
    """
    chosen = plan.chosen
    order = {code: k for k, code in enumerate(settings.UNIT_ORDER)}
    bundled = chosen["bundle_id"].map(lambda b: isinstance(b, str))
    frame = pd.DataFrame({
        "unit_code": chosen["unit_code"].astype(str),
        "project_name": np.where(bundled, chosen["bundle_name"].astype(str) + "老旧小区改造项目（成片）",
                                 chosen["name"].astype(str) + "老旧小区改造项目"),
        "name": chosen["name"],
        "built_year": chosen["built_year"].astype("Int64"),
        "n_buildings": chosen["n_buildings"].astype("Int64") if "n_buildings" in chosen.columns
        else pd.array([pd.NA] * len(chosen), dtype="Int64"),
        "households": chosen["households"].astype("int64"),
        "floor_area_m2": chosen["floor_area_m2"].astype(float),
        "tier": chosen["tier"] if "tier" in chosen.columns else None,
        "items": [it if isinstance(it, str) and it.strip() else tier_content(tr) for it, tr in
                  zip(chosen["items"] if "items" in chosen.columns else [None] * len(chosen),
                      chosen["tier"] if "tier" in chosen.columns else [None] * len(chosen))],
        "invest_wan": chosen["net_cost_wan"].astype(float).round(2),
        "planned_start": date(year, *settings.PLAN_START_MMDD),
        "planned_completion": date(year, *settings.PLAN_COMPLETION_MMDD),
        "_county": chosen["unit_code"].map(order).fillna(len(order)),
        "_project": np.where(bundled, chosen["bundle_id"].astype(str), "~" + chosen["id"].astype(str)),
        "_rank": chosen["rank"].astype("float64").fillna(np.inf),
    })
    first_rank = frame.groupby("_project")["_rank"].transform("min")
    frame = frame.assign(_first=first_rank).sort_values(["_county", "_first", "_project", "_rank"], kind="stable")
    frame.insert(0, "seq", np.arange(1, len(frame) + 1))
    return frame[PLAN_TABLE_COLUMNS].reset_index(drop=True)


COMPARED = ("compounds", "households", "floor_area_m2", "net_cost_wan", "counties")


def compare_plans(plans: Mapping[str, Plan]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scenarios side by side: what each plan reaches and how it differs from the first.

    Parameters
    ----------
    plans
        Scenario name → plan (the first is the reference), e.g. ``{"3亿": a, "4亿": b}``.

    Returns
    -------
    summary
        One row per scenario: ``scenario``, ``status``, ``budget_wan``, ``compounds``, ``households``,
        ``floor_area_m2``, ``net_cost_wan``, ``counties`` (reporting units with at least one compound
        chosen), ``value``, ``d_<measure>`` (difference to the first scenario) for each of those five,
        ``added`` / ``dropped`` (compounds chosen here but not in the first / in the first but not here),
        ``counties_added`` / ``counties_dropped`` (unit codes, lists).
    by_county
        One row per scenario and reporting unit with chosen compounds: ``scenario, unit_code, compounds,
        households, floor_area_m2, net_cost_wan``.
    """
    if not isinstance(plans, Mapping) or not plans:
        raise InputError("`plans` must be a non-empty dict of scenario name → Plan.")
    for name, plan in plans.items():
        if not isinstance(plan, Plan):
            raise InputError(f"`plans[{name!r}]` was a {type(plan).__name__} but must be a Plan.")
    rows: list[dict[str, object]] = []
    county_rows: list[dict[str, object]] = []
    first = next(iter(plans.values()))
    first_ids, first_counties = set(first.chosen["id"]), set(first.chosen["unit_code"].astype(str))
    first_city = first.totals[first.totals["unit_code"] == settings.CITY_UNIT_CODE].iloc[0]
    reference = {"compounds": float(first_city["compounds"]), "households": float(first_city["households"]),
                 "floor_area_m2": float(first_city["floor_area_m2"]),
                 "net_cost_wan": float(first_city["net_cost_wan"]), "counties": float(len(first_counties))}
    for name, plan in plans.items():
        city = plan.totals[plan.totals["unit_code"] == settings.CITY_UNIT_CODE].iloc[0]
        ids = set(plan.chosen["id"])
        counties = set(plan.chosen["unit_code"].astype(str))
        figures = {"compounds": float(city["compounds"]), "households": float(city["households"]),
                   "floor_area_m2": float(city["floor_area_m2"]), "net_cost_wan": float(city["net_cost_wan"]),
                   "counties": float(len(counties))}
        rows.append({
            "scenario": name, "status": plan.status, "budget_wan": float(city["budget_wan"]),
            "compounds": int(figures["compounds"]), "households": figures["households"],
            "floor_area_m2": figures["floor_area_m2"], "net_cost_wan": figures["net_cost_wan"],
            "counties": len(counties), "value": plan.objective_value,
            **{f"d_{m}": figures[m] - reference[m] for m in COMPARED},
            "added": len(ids - first_ids), "dropped": len(first_ids - ids),
            "counties_added": sorted(counties - first_counties), "counties_dropped": sorted(first_counties - counties),
        })
        units = plan.totals[(plan.totals["unit_code"] != settings.CITY_UNIT_CODE) & (plan.totals["compounds"] > 0)]
        for _, u in units.iterrows():
            county_rows.append({"scenario": name, "unit_code": u["unit_code"], "compounds": int(u["compounds"]),
                                "households": float(u["households"]), "floor_area_m2": float(u["floor_area_m2"]),
                                "net_cost_wan": float(u["net_cost_wan"])})
    by_county = pd.DataFrame(county_rows, columns=["scenario", "unit_code", "compounds", "households",
                                                   "floor_area_m2", "net_cost_wan"])
    return pd.DataFrame(rows), by_county


# ----------------------------------------------------------------------------------------------- checks
def _check_pct(value: object, name: str, high: float, *, bundle_id: str = "") -> float:
    """``value`` as a float if it is a percentage in 0–``high`` (``name``: the option, or a bundle's column)."""
    if not isinstance(value, Real) or not _number(value) or not 0 <= float(value) <= high:
        where = f"bundles.{name}[{bundle_id!r}]" if bundle_id else name
        raise InputError(f"`{where}` was {value!r} but must be a percentage between 0 and {high:g}.",
                         code="plan.percentage", setting=name, value=value, high=high,
                         bundle_id=bundle_id)
    return float(value)


def _check_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    check_frame(candidates, "candidates", required=REQUIRED)
    if candidates.empty:
        raise InputError("`candidates` is empty; there is nothing to plan — add compounds to the candidate pool "
                         "(compounds without a plan year) first.", code="plan.empty_pool")
    frame = pd.DataFrame(candidates).drop(columns=[c for c in ("geometry", "geom") if c in candidates.columns])
    frame["id"] = frame["id"].astype(str)
    if frame["id"].duplicated().any():
        first = str(frame.loc[frame["id"].duplicated(), "id"].iloc[0])
        raise InputError(f"`candidates` has duplicate id {first!r}; ids must be unique.", code="plan.duplicate_id",
                         compound_id=first)
    frame["county_code"] = frame["county_code"].astype(str)
    frame["unit_code"] = unit_codes(frame)
    for col in ("built_year", "households", "floor_area_m2", "cost_wan", "willingness_pct", "contributing_pct"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            raise InputError(f"`candidates.{col}` has non-numeric value {frame.loc[bad, col].iloc[0]!r} "
                             f"(compound {frame.loc[bad, 'id'].iloc[0]!r}); use numbers.", code="plan.not_a_number",
                             column=col, value=str(frame.loc[bad, col].iloc[0]),
                             compound_id=str(frame.loc[bad, "id"].iloc[0]))
        frame[col] = values.astype("float64")
    missing = frame["cost_wan"].isna()
    if missing.any():
        raise InputError(
            f"`candidates.cost_wan` is missing for {int(missing.sum())} compound(s), e.g. {frame.loc[missing, 'id'].iloc[0]!r}; "
            "fill in the estimated investment (万元) or estimate it from floor area with `estimate_costs`.",
            code="plan.cost_missing", n=int(missing.sum()), compound_id=str(frame.loc[missing, "id"].iloc[0]),
        )
    bad = frame["cost_wan"].notna() & ~(frame["cost_wan"] > 0)
    if bad.any():
        i = bad.idxmax()
        raise InputError(f"`candidates.cost_wan` was {float(frame.at[i, 'cost_wan'])!r} for {frame.at[i, 'id']!r} "
                         "but must be above 0.", code="plan.cost_not_positive", value=float(frame.at[i, "cost_wan"]),
                         compound_id=str(frame.at[i, "id"]))
    for col in ("households", "floor_area_m2"):
        bad = frame[col].notna() & ~(frame[col] >= 0)
        if bad.any():
            i = bad.idxmax()
            raise InputError(f"`candidates.{col}` was {float(frame.at[i, col])!r} for {frame.at[i, 'id']!r} "
                             "but must be ≥ 0.", code="plan.negative", column=col, value=float(frame.at[i, col]),
                             compound_id=str(frame.at[i, "id"]))
        if frame[col].isna().any():
            i = frame[col].isna().idxmax()
            raise InputError(f"`candidates.{col}` is missing for {frame.at[i, 'id']!r}; fill it in first.",
                             code="plan.value_missing", column=col, compound_id=str(frame.at[i, "id"]))
    for col in ("willingness_pct", "contributing_pct"):
        out = ~frame[col].between(0, 100) & frame[col].notna()
        if out.any():
            i = out.idxmax()
            raise InputError(f"`candidates.{col}` was {float(frame.at[i, col])!r} for {frame.at[i, 'id']!r} "
                             "but must be between 0 and 100 (%).", code="plan.share_range", column=col,
                             value=float(frame.at[i, col]), compound_id=str(frame.at[i, "id"]))
    return frame.reset_index(drop=True)


def _check_options(budget_wan: float, min_willingness: float, objective: str, time_limit_s: float, year: int,
                   min_county_share: float, bundle_rule: str, first_tier_first: bool) -> None:
    if not _number(budget_wan) or budget_wan <= 0:
        raise InputError(f"`budget_wan` was {budget_wan!r} but must be a number of 万元 above 0.", code="plan.budget",
                         budget=budget_wan)
    if not _number(min_willingness) or not 0 <= min_willingness <= 1:
        raise InputError(f"`min_willingness` was {min_willingness!r} but must be a share between 0 and 1 "
                         "(2/3 = two thirds of households).", code="plan.min_willingness", value=min_willingness)
    if objective not in ("score", "households"):
        raise InputError(f"`objective` was {objective!r} but must be 'score' or 'households'.")
    if not _number(time_limit_s) or not 0 < time_limit_s <= MAX_TIME_LIMIT_S:
        raise InputError(f"`time_limit_s` was {time_limit_s!r} but must be more than 0 and at most "
                         f"{MAX_TIME_LIMIT_S} seconds.", code="plan.time_limit", value=time_limit_s,
                         high=MAX_TIME_LIMIT_S)
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 2006 <= year <= 2100:
        raise InputError(f"`year` was {year!r} but must be a plan year between 2006 and 2100.", code="plan.year",
                         year=year)
    if not _number(min_county_share) or not 0 <= min_county_share <= 1:
        raise InputError(f"`min_county_share` was {min_county_share!r} but must be a share between 0 and 1.",
                         code="plan.fair_share", value=min_county_share)
    if bundle_rule not in ("optional", "whole"):
        raise InputError(f"`bundle_rule` was {bundle_rule!r} but must be 'optional' or 'whole'.")
    if not isinstance(first_tier_first, bool):
        raise InputError(f"`first_tier_first` was {first_tier_first!r} but must be True or False.")


def _check_targets(targets: object) -> dict[str, dict[str, float]]:
    """``targets`` → {unit_code: {measure: minimum}} (city-wide under ``settings.CITY_UNIT_CODE``)."""
    if targets is None:
        return {}
    if isinstance(targets, pd.DataFrame):
        check_frame(targets, "targets", required=["unit_code"])
        codes = targets["unit_code"].astype(str)
        if codes.duplicated().any():
            twice = str(codes[codes.duplicated()].iloc[0])
            raise InputError(f"`targets` has two rows for unit {twice!r}; keep one.", code="plan.target_twice",
                             county_code=twice)
        rows = {code: {m: targets.iloc[k][m] for m in MEASURES if m in targets.columns}
                for k, code in enumerate(codes)}
    elif isinstance(targets, Mapping):
        rows = {settings.CITY_UNIT_CODE: dict(targets)}
    else:
        raise InputError(f"`targets` was a {type(targets).__name__} but must be a dict such as "
                         "{'households': 20000} or a frame with `unit_code` and target columns.")
    out: dict[str, dict[str, float]] = {}
    for code, row in rows.items():
        unknown = [k for k in row if k not in MEASURES]
        if unknown:
            raise InputError(f"`targets` has unknown measure(s) {unknown!r}; use {list(MEASURES)!r}.",
                             code="plan.target_measure", names=[str(k) for k in unknown], measure=list(MEASURES))
        clean = {}
        for measure, value in row.items():
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                continue
            if not _number(value) or value < 0:
                raise InputError(f"The {measure} target of {code} was {value!r} but must be a number ≥ 0.",
                                 code="plan.target_negative", measure=measure, county_code=code, value=value)
            if value > 0:
                clean[measure] = float(value)
        if clean:
            out[code] = clean
    return out


def _check_county_budgets(county_budget_wan: object) -> dict[str, float]:
    if county_budget_wan is None:
        return {}
    if not isinstance(county_budget_wan, Mapping):
        raise InputError(f"`county_budget_wan` was a {type(county_budget_wan).__name__} but must be a dict "
                         "such as {'370811': 8000}.")
    out = {}
    for code, value in county_budget_wan.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if not _number(value) or value <= 0:
            raise InputError(f"`county_budget_wan[{code!r}]` was {value!r} but must be a number of 万元 above 0.",
                             code="plan.county_budget", county_code=str(code), value=value)
        out[str(code)] = float(value)
    return out


def _check_bundles(bundles: pd.DataFrame | None, ids: set[str]) -> pd.DataFrame:
    columns = ["bundle_id", "name", "member_ids", "saving_pct", "bonus_pct", "basis"]
    if bundles is None:
        return pd.DataFrame(columns=columns)
    check_frame(bundles, "bundles", required=["bundle_id", "member_ids"])
    frame = bundles.copy()
    frame["bundle_id"] = frame["bundle_id"].astype(str)
    if frame["bundle_id"].duplicated().any():
        twice = str(frame.loc[frame["bundle_id"].duplicated(), "bundle_id"].iloc[0])
        raise InputError(f"`bundles` has duplicate bundle_id {twice!r}.", code="plan.bundle_twice", bundle_id=twice)
    if "name" not in frame.columns:
        frame["name"] = frame["bundle_id"]
    frame["name"] = frame["name"].where(frame["name"].notna(), frame["bundle_id"]).astype(str)
    if "saving_pct" not in frame.columns:
        frame["saving_pct"] = settings.PLAN_BUNDLE_SAVING_PCT
    if "bonus_pct" not in frame.columns:
        frame["bonus_pct"] = 0.0
    if "basis" not in frame.columns:
        frame["basis"] = "given"
    seen: dict[str, str] = {}
    members = []
    for _, b in frame.iterrows():
        _check_pct(b["saving_pct"], "saving_pct", MAX_SAVING_PCT, bundle_id=b["bundle_id"])
        _check_pct(b["bonus_pct"], "bonus_pct", MAX_BONUS_PCT, bundle_id=b["bundle_id"])
        raw = b["member_ids"]
        if isinstance(raw, str) or not isinstance(raw, Iterable):
            raise InputError(f"`bundles.member_ids` of {b['bundle_id']!r} was {raw!r} but must be a list of "
                             "candidate ids.", code="plan.bundle_members", bundle_id=b["bundle_id"])
        ids_b = [str(m) for m in raw]
        if not ids_b:
            raise InputError(f"`bundles.member_ids` of {b['bundle_id']!r} is empty; a bundle needs members.",
                             code="plan.bundle_members", bundle_id=b["bundle_id"])
        for m in ids_b:
            if m not in ids:
                raise InputError(f"Bundle {b['bundle_id']!r} lists {m!r}, which is not among the candidates; "
                                 "build bundles from the same candidate pool.", code="plan.bundle_stranger",
                                 bundle_id=b["bundle_id"], compound_id=m)
            if m in seen:
                raise InputError(f"Compound {m!r} is in two bundles ({seen[m]!r} and {b['bundle_id']!r}); "
                                 "a compound may belong to one bundle only.", code="plan.bundle_overlap",
                                 compound_id=m, bundles=[seen[m], b["bundle_id"]])
            seen[m] = b["bundle_id"]
        members.append(ids_b)
    frame["member_ids"] = members
    frame["saving_pct"] = frame["saving_pct"].astype(float)
    frame["bonus_pct"] = frame["bonus_pct"].astype(float)
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- eligibility
def _join(flags: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    out = pd.Series("", index=index, dtype=object)
    for code, flag in flags.items():
        flag = flag.fillna(False).astype(bool)
        out = out.where(~flag, out + np.where(out != "", ";", "") + code)
    return out


def _eligibility(frame: pd.DataFrame, *, min_willingness: float, year: int) -> tuple[pd.Series, pd.Series]:
    """Reason codes per candidate ("" = eligible) and the parameters their labels need."""
    built = frame["built_year"]
    will = frame["willingness_pct"]
    flags = {
        "built_after_cutoff": built > settings.ELIGIBLE_BUILT_ON_OR_BEFORE.year,
        "built_year_missing": built.isna(),
        "demolition_planned": frame["demolition_planned"].astype("boolean").fillna(False).astype(bool),
        "willingness_missing": will.isna(),
        "willingness_below_min": will.notna() & (will / 100.0 < min_willingness - 1e-9),
    }
    if "disputed" in frame.columns:
        flags["disputed"] = frame["disputed"].astype("boolean").fillna(False).astype(bool)
    plan_year = pd.to_numeric(frame["plan_year"], errors="coerce") if "plan_year" in frame.columns \
        else pd.Series(np.nan, index=frame.index)
    flags["already_planned"] = plan_year < year
    status = frame["status"] if "status" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    flags["already_started"] = status.isin(STARTED_STATUSES)
    reason = _join(flags, frame.index)
    detail = [
        {"willingness_pct": None if pd.isna(w) else float(w), "min_pct": 100.0 * min_willingness,
         "built_year": None if pd.isna(b) else int(b),
         "plan_year": None if pd.isna(p) else int(p), "status": s if isinstance(s, str) else None}
        for w, b, p, s in zip(will, built, plan_year, status)
    ]
    return reason, pd.Series(detail, index=frame.index, dtype=object)


# ----------------------------------------------------------------------------------------------- the instance
@dataclass
class _Min:
    kind: str            # "target" or "fair_share"
    unit_code: str
    measure: str         # a MEASURE or "net_cost_wan"
    rhs: float
    x_coef: np.ndarray   # per model item
    y_coef: np.ndarray   # per bundle


@dataclass
class _Instance:
    cost: np.ndarray
    value: np.ndarray
    first: np.ndarray
    county: np.ndarray               # reporting unit (county or zone) per item
    members: list[np.ndarray]        # item positions per bundle
    saving: np.ndarray               # fraction per bundle
    bonus: np.ndarray                # fraction per bundle
    whole: bool
    budget: float
    caps: dict[str, float]
    mins: list[_Min]
    lexicographic: bool

    @property
    def n(self) -> int:
        return len(self.cost)

    def bundle_cost(self) -> np.ndarray:
        return np.array([self.cost[m].sum() for m in self.members])

    def bundle_value(self, mask: np.ndarray | None = None) -> np.ndarray:
        v = self.value if mask is None else np.where(mask, self.value, 0.0)
        return np.array([v[m].sum() for m in self.members])

    def spend(self, x: np.ndarray, y: np.ndarray, county: str | None = None) -> float:
        inside = np.ones(self.n, dtype=bool) if county is None else self.county == county
        saved = sum(self.saving[b] * self.cost[m][inside[m]].sum() for b, m in enumerate(self.members) if y[b])
        return float(self.cost[x & inside].sum() - saved)

    def objective(self, x: np.ndarray, y: np.ndarray, *, first_only: bool = False) -> float:
        mask = self.first if first_only else np.ones(self.n, dtype=bool)
        bonus = (self.bonus * self.bundle_value(mask))[y].sum() if len(y) else 0.0
        return float(self.value[x & mask].sum() + bonus)

    def lhs(self, k: _Min, x: np.ndarray, y: np.ndarray) -> float:
        return float(k.x_coef[x].sum() + (k.y_coef[y].sum() if len(y) else 0.0))

    def meets_minimums(self, x: np.ndarray, y: np.ndarray, rhs: list[float] | None = None) -> bool:
        rhs = [k.rhs for k in self.mins] if rhs is None else rhs
        return all(self.lhs(k, x, y) >= r - _TOL * max(1.0, abs(r)) for k, r in zip(self.mins, rhs))


def _min_constraints(model: pd.DataFrame, inst_members: list[np.ndarray], saving: np.ndarray,
                     targets: dict[str, dict[str, float]], fair: dict[str, float]) -> list[_Min]:
    county = model["unit_code"].to_numpy(dtype=object)
    cost = model["cost_wan"].to_numpy(dtype=float)
    measure_values = {"compounds": np.ones(len(model)), "households": model["households"].to_numpy(dtype=float),
                      "floor_area_m2": model["floor_area_m2"].to_numpy(dtype=float)}
    mins = []
    no_y = np.zeros(len(inst_members))
    for code, row in targets.items():
        inside = np.ones(len(model), dtype=bool) if code == settings.CITY_UNIT_CODE else county == code
        for measure, rhs in row.items():
            mins.append(_Min("target", code, measure, rhs, np.where(inside, measure_values[measure], 0.0), no_y))
    for code, rhs in fair.items():
        inside = county == code
        y_coef = np.array([-saving[b] * cost[m][inside[m]].sum() for b, m in enumerate(inst_members)])
        mins.append(_Min("fair_share", code, "net_cost_wan", rhs, np.where(inside, cost, 0.0), y_coef))
    return mins


# ----------------------------------------------------------------------------------------------- greedy
def _greedy(inst: _Instance, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Go down ``order`` (item positions) taking whatever fits; a ``whole`` bundle goes as one unit."""
    x = np.zeros(inst.n, dtype=bool)
    y = np.zeros(len(inst.members), dtype=bool)
    bundle_of = np.full(inst.n, -1)
    for b, m in enumerate(inst.members):
        bundle_of[m] = b
    remaining = inst.budget
    county_left = dict(inst.caps)
    for i in order:
        if x[i]:
            continue
        b = bundle_of[i]
        if inst.whole and b >= 0:
            unit, share = inst.members[b], 1.0 - inst.saving[b]
        else:
            unit, share = np.array([i]), 1.0
        cost = float(inst.cost[unit].sum() * share)
        if cost > remaining + _TOL:
            continue
        by_county = pd.Series(inst.cost[unit] * share).groupby(inst.county[unit]).sum()
        if any(code in county_left and amount > county_left[code] + _TOL for code, amount in by_county.items()):
            continue
        x[unit] = True
        if inst.whole and b >= 0:
            y[b] = True
        remaining -= cost
        for code, amount in by_county.items():
            if code in county_left:
                county_left[code] -= amount
    for b, m in enumerate(inst.members):  # a bundle the ranking took whole gets its saving and bonus
        y[b] = y[b] or bool(x[m].all())
    return x, y


# ----------------------------------------------------------------------------------------------- CBC
@dataclass
class _Solved:
    status: str                      # "optimal", "time_limit", "infeasible", "no_solution"
    x: np.ndarray | None
    y: np.ndarray | None
    slack: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float


_BEST_POSSIBLE = re.compile(r"best possible (-?[0-9.eE+-]+)")
_CBC_OPTIONS: list[str] = []  # extra CBC options (tests stop the search early with "maxNodes 0")


def _solve(
    inst: _Instance,
    *,
    goal: Literal["total", "first", "elastic"],
    rhs: list[float],
    time_limit_s: float,
    first_floor: float | None = None,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Solved:
    """Build and solve one model with CBC; ``goal`` picks the objective (see the module docstring)."""
    n, nb = inst.n, len(inst.members)
    sense = pulp.LpMinimize if goal == "elastic" else pulp.LpMaximize
    prob = pulp.LpProblem("plan", sense)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(n)]
    y = [pulp.LpVariable(f"y{b}", cat=pulp.LpBinary) for b in range(nb)]
    all_items = np.ones(n, dtype=bool)

    def value_expr(mask: np.ndarray) -> pulp.LpAffineExpression:
        terms = [(x[i], float(inst.value[i])) for i in np.flatnonzero(mask) if inst.value[i] != 0]
        bonus = inst.bonus * inst.bundle_value(mask)
        terms += [(y[b], float(bonus[b])) for b in range(nb) if bonus[b] != 0]
        return pulp.LpAffineExpression(terms)

    saved = inst.saving * inst.bundle_cost()
    spend_terms = [(x[i], float(inst.cost[i])) for i in range(n)] + [(y[b], -float(saved[b])) for b in range(nb)]
    prob += pulp.LpAffineExpression(spend_terms) <= inst.budget, "budget"
    for code, cap in inst.caps.items():
        inside = inst.county == code
        if not inside.any():
            continue
        terms = [(x[i], float(inst.cost[i])) for i in np.flatnonzero(inside)]
        terms += [(y[b], -float(inst.saving[b] * inst.cost[m][inside[m]].sum())) for b, m in enumerate(inst.members)
                  if inside[m].any() and inst.saving[b] > 0]
        prob += pulp.LpAffineExpression(terms) <= cap, f"cap_{code}"
    for b, m in enumerate(inst.members):
        for i in m:
            if inst.whole:
                prob += x[i] - y[b] == 0, f"whole_{b}_{i}"
            else:
                prob += y[b] - x[i] <= 0, f"link_{b}_{i}"
    slacks = []
    for k, (mk, r) in enumerate(zip(inst.mins, rhs)):
        terms = [(x[i], float(mk.x_coef[i])) for i in np.flatnonzero(mk.x_coef)]
        terms += [(y[b], float(mk.y_coef[b])) for b in np.flatnonzero(mk.y_coef)]
        if goal == "elastic":
            s = pulp.LpVariable(f"s{k}", lowBound=0)
            slacks.append(s)
            terms.append((s, 1.0))
        prob += pulp.LpAffineExpression(terms) >= r, f"min_{k}"
    if goal == "elastic":
        prob += pulp.LpAffineExpression([(s, 1.0 / max(r, _TOL)) for s, r in zip(slacks, rhs)])
    elif goal == "first":
        prob += value_expr(inst.first)
    else:
        prob += value_expr(all_items)
        if first_floor is not None:
            prob += value_expr(inst.first) >= first_floor, "first_tier_floor"
    if start is not None:
        for i in range(n):
            x[i].setInitialValue(int(start[0][i]))
        for b in range(nb):
            y[b].setInitialValue(int(start[1][b]))
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jiugai-plan-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(0.5, float(time_limit_s)), gapRel=1e-9,
                                   warmStart=start is not None, logPath=str(log_path), keepFiles=False,
                                   options=list(_CBC_OPTIONS))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pulp warns about spaces in names it never sees here
            prob.solve(solver)
        log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    seconds = time.perf_counter() - began
    sol = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return _Solved("infeasible", None, None, None, None, None, seconds)
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return _Solved("no_solution", None, None, None, None, None, seconds)
    xv = np.array([(v.varValue or 0) > 0.5 for v in x], dtype=bool)
    yv = np.array([(v.varValue or 0) > 0.5 for v in y], dtype=bool)
    sv = np.array([max(0.0, s.varValue or 0.0) for s in slacks]) if goal == "elastic" else None
    objective = float(pulp.value(prob.objective) or 0.0)
    optimal = sol == pulp.LpSolutionOptimal
    bound = objective if optimal else None
    if not optimal:
        found = _BEST_POSSIBLE.findall(log_text)
        if found:
            bp = abs(float(found[-1]))  # CBC minimises the negated objective of a maximisation
            bound = max(bp, objective) if sense == pulp.LpMaximize else min(bp, objective)
    return _Solved("optimal" if optimal else "time_limit", xv, yv, sv, objective, bound, seconds)


# ----------------------------------------------------------------------------------------------- main
def build_plan(
    candidates: pd.DataFrame,
    *,
    budget_wan: float,
    targets: Mapping[str, float] | pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    min_willingness: float = settings.PLAN_MIN_WILLINGNESS,
    bundles: pd.DataFrame | None = None,
    objective: Objective = "score",
    time_limit_s: float = settings.PLAN_TIME_LIMIT_S,
    year: int | None = None,
    county_budget_wan: Mapping[str, float] | None = None,
    min_county_share: float = settings.PLAN_FAIR_SHARE,
    first_tier_first: bool = False,
    bundle_rule: BundleRule = "optional",
) -> Plan:
    """Choose next year's renovation list from the candidate pool (see the module docstring for the rules).

    Parameters
    ----------
    candidates
        (Geo)DataFrame, one row per compound: ``id, name, county_code, built_year, households,
        floor_area_m2`` (m²), ``cost_wan`` (estimated investment, 万元, > 0; see :func:`estimate_costs`),
        ``willingness_pct`` (% of households agreeing), ``contributing_pct`` (%), ``procedures_complete``,
        ``demolition_planned``; optionally ``zone_code`` (its function zone: the reporting unit), ``street,
        community, n_buildings, tier, items, plan_year, status, disputed, cost_estimated``.
    budget_wan
        Money available for the year, 万元, > 0.
    targets
        Minimums: a dict ``{"households": …, "floor_area_m2": …, "compounds": …}`` for the city, or a frame
        with ``unit_code`` (a reporting unit: county or function zone, or ``settings.CITY_UNIT_CODE`` for the
        city) and any of those columns
        (NaN = none; other columns such as ``year`` or ``investment_wan`` are ignored).
    weights
        Priority weights (``analytics.priority.normalise_weights``); default the priority page's defaults.
    min_willingness
        Smallest share of households agreeing (0–1); default 2/3.
    bundles
        Areas that may be taken as one unit: ``bundle_id, member_ids`` (list of candidate ids), optionally
        ``name``, ``saving_pct`` (default 5), ``bonus_pct`` (default 0), ``basis``; see
        :func:`bundles_from_clusters`, :func:`bundles_by_area`. A compound may be in one bundle only.
    objective
        ``"score"`` (total priority score) or ``"households"`` (households reached).
    time_limit_s
        CBC wall-time limit for all stages together, more than 0 and at most 600 s.
    year
        The plan year (ages are measured at it; earlier plan years are not candidates); default next year.
    county_budget_wan
        Optional cap per reporting unit (county or zone code), 万元.
    min_county_share
        Each reporting unit with eligible candidates spends at least this share (0–1) of its proportional share
        of the budget; 0 turns fairness off.
    first_tier_first
        Compounds built on or before 2000 first ("2000年前建成的优先"; lexicographic objective).
    bundle_rule
        ``"optional"`` (members may also be chosen singly) or ``"whole"`` (all members or none).

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Not a frame, missing columns or values (including ``cost_wan``), duplicate ids, an empty pool, a
        budget ≤ 0, all weights 0, a target larger than the eligible pool, malformed bundles or options.
    """
    started = time.perf_counter()
    year = date.today().year + 1 if year is None else year
    frame = _check_candidates(candidates)
    _check_options(budget_wan, min_willingness, objective, time_limit_s, year, min_county_share, bundle_rule,
                   first_tier_first)
    w = priority.normalise_weights(weights)
    target_rows = _check_targets(targets)
    caps = _check_county_budgets(county_budget_wan)
    bundle_frame = _check_bundles(bundles, set(frame["id"]))
    budget = float(budget_wan)
    deadline = time.perf_counter() + float(time_limit_s)

    # 1. eligibility and priority scores
    reason, detail = _eligibility(frame, min_willingness=float(min_willingness), year=int(year))
    eligible = frame[reason == ""].copy()
    frame["score"] = np.nan
    frame["rank"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    if len(eligible):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # missing inputs count as 0, shown on the priority page
            ranked = priority.priority_scores(eligible, weights=w, as_of_year=int(year)).ranked
        frame = frame.drop(columns=["score", "rank"]).merge(ranked[["id", "score", "rank"]], on="id", how="left")
        frame["rank"] = frame["rank"].astype("Int64")
    frame["first_tier"] = first_tier_mask(frame["built_year"]).to_numpy(bool)
    frame["value"] = frame["score"] if objective == "score" else frame["households"]
    frame["value"] = frame["value"].fillna(0.0).astype(float)
    is_eligible = (reason == "").to_numpy()

    # 2. targets must fit inside the eligible pool
    pool = frame[is_eligible]
    for code, row in target_rows.items():
        inside = pool if code == settings.CITY_UNIT_CODE else pool[pool["unit_code"] == code]
        have = {"compounds": float(len(inside)), "households": float(inside["households"].sum()),
                "floor_area_m2": float(inside["floor_area_m2"].sum())}
        for measure, rhs in row.items():
            if rhs > have[measure] + _TOL:
                raise InputError(
                    f"The {measure} target of {rhs:,.0f} for {code} ({_unit_name(code)}) is larger than its pool "
                    f"of eligible candidates ({have[measure]:,.0f}); lower the target or add candidates.",
                    code="plan.target_above_pool", measure=measure, county_code=code, target=rhs,
                    pool=have[measure],
                )

    # 3. bundles cut to eligible members
    pos_of = {cid: k for k, cid in enumerate(frame["id"])}
    bundle_frame["n_members"] = [len(m) for m in bundle_frame["member_ids"]]
    eligible_members = [[pos_of[m] for m in ms if is_eligible[pos_of[m]]] for ms in bundle_frame["member_ids"]]
    bundle_frame["n_eligible"] = [len(m) for m in eligible_members]
    bundle_frame["dropped"] = np.where(bundle_frame["n_eligible"] < 2, "too_few_eligible", "")
    bundle_of = np.full(len(frame), -1)
    for b, ms in enumerate(eligible_members):
        if bundle_frame.at[b, "dropped"] == "":
            bundle_of[ms] = b

    # 4. narrowing: what cannot fit even alone
    cost = frame["cost_wan"].to_numpy(float)
    codes = frame["unit_code"].to_numpy(dtype=object)
    limit = np.array([min(budget, caps.get(c, math.inf)) for c in codes])
    saving_open = np.array([bundle_frame.at[b, "saving_pct"] / 100 if b >= 0 else 0.0 for b in bundle_of])
    alone = cost * (1 - saving_open)
    too_expensive = is_eligible & (alone > limit + _TOL)
    if bundle_rule == "whole":  # a bundle goes whole or not at all: one member out of reach keeps all out
        for b, ms in enumerate(eligible_members):
            if bundle_frame.at[b, "dropped"] == "":
                whole_cost = cost[ms].sum() * (1 - bundle_frame.at[b, "saving_pct"] / 100)
                if whole_cost > budget + _TOL or too_expensive[ms].any():
                    alone[ms] = np.maximum(alone[ms], whole_cost)
                    limit[ms] = np.minimum(limit[ms], budget) if whole_cost > budget + _TOL else limit[ms]
                    too_expensive[ms] = True
                    bundle_frame.at[b, "dropped"] = "too_expensive"
    in_model = is_eligible & ~too_expensive
    for b, ms in enumerate(eligible_members):
        if bundle_frame.at[b, "dropped"] == "":
            kept = [m for m in ms if in_model[m]]
            if len(kept) < 2:
                bundle_frame.at[b, "dropped"] = "too_few_eligible"
            eligible_members[b] = kept
    active = [b for b in range(len(bundle_frame)) if bundle_frame.at[b, "dropped"] == ""]
    model_pos = np.flatnonzero(in_model)
    index_in_model = np.full(len(frame), -1)
    index_in_model[model_pos] = np.arange(len(model_pos))
    model = frame.iloc[model_pos].reset_index(drop=True)
    members = [index_in_model[eligible_members[b]] for b in active]
    saving = np.array([bundle_frame.at[b, "saving_pct"] / 100 for b in active], dtype=float)
    bonus = np.array([bundle_frame.at[b, "bonus_pct"] / 100 for b in active], dtype=float)

    # 5. fair shares: of the budget, in proportion to each unit's eligible cost
    pool_cost = pool.groupby("unit_code")["cost_wan"].sum()
    fair: dict[str, float] = {}
    if min_county_share > 0 and pool_cost.sum() > 0:
        base = min(budget, float(pool_cost.sum()))
        fair = {c: float(min_county_share) * base * float(v) / float(pool_cost.sum()) for c, v in pool_cost.items()}
    mins = _min_constraints(model, members, saving, target_rows, fair)
    inst = _Instance(
        cost=model["cost_wan"].to_numpy(float), value=model["value"].to_numpy(float),
        first=model["first_tier"].to_numpy(bool), county=model["unit_code"].to_numpy(dtype=object),
        members=members, saving=saving, bonus=bonus, whole=bundle_rule == "whole", budget=budget, caps=caps,
        mins=mins, lexicographic=bool(first_tier_first),
    )

    # 6. greedy, then the exact model
    order = _ranking_order(model, objective=objective, first_tier_first=first_tier_first)
    gx, gy = _greedy(inst, order)
    greedy_ok = inst.meets_minimums(gx, gy)
    solved = _optimise(inst, greedy=(gx, gy) if greedy_ok else None, deadline=deadline)
    x, y = solved.x, solved.y

    # 7. results
    greedy_frame = _chosen_frame(frame, model_pos, inst, gx, gy, active, bundle_frame, in_greedy=gx)
    greedy_frame["reason"] = "ranking"
    greedy_frame["detail"] = [{"rank": _rank_value(r)} for r in greedy_frame["rank"]]
    chosen = _chosen_frame(frame, model_pos, inst, x, y, active, bundle_frame, in_greedy=gx)
    _why_chosen(chosen, inst, x, y, solved.rhs, model_pos, frame, bundle_frame)
    rejected = _rejected_frame(frame, reason, detail, too_expensive, limit, alone, model_pos, inst, x, y, gx,
                               active, bundle_frame, solved.status)
    bundle_out = _bundles_frame(bundle_frame, active, inst, y, gy)
    shortfalls = pd.DataFrame(solved.shortfalls,
                              columns=["kind", "unit_code", "measure", "required", "reachable", "short_by"])
    totals = _totals(frame, is_eligible, model_pos, inst, x, y, gx, gy, budget, caps, fair, target_rows, shortfalls)
    plan = Plan(
        chosen=chosen, rejected=rejected, totals=totals, status=solved.status, gap=solved.gap,
        shortfalls=shortfalls, greedy=greedy_frame, bundles=bundle_out,
        objective_value=inst.objective(x, y), first_tier_value=inst.objective(x, y, first_only=True),
        greedy_value=inst.objective(gx, gy), greedy_first_tier_value=inst.objective(gx, gy, first_only=True),
        greedy_meets_minimums=bool(greedy_ok), bound=solved.bound, solve_seconds=solved.seconds,
        n_candidates=len(frame), n_eligible=int(is_eligible.sum()), n_model=inst.n,
        options={"year": int(year), "budget_wan": budget, "targets": target_rows, "weights": w,
                 "min_willingness": float(min_willingness), "objective": objective,
                 "time_limit_s": float(time_limit_s), "county_budget_wan": caps,
                 "min_county_share": float(min_county_share), "first_tier_first": bool(first_tier_first),
                 "bundle_rule": bundle_rule, "n_bundles": len(bundle_frame)},
    )
    log.info(
        "build_plan %d: %d candidates, %d eligible, %d in the model, %d bundles; chose %d (value %.4f, greedy "
        "%.4f), status %s, gap %s, CBC %.2f s, total %.2f s",
        year, plan.n_candidates, plan.n_eligible, plan.n_model, len(active), len(chosen), plan.objective_value,
        plan.greedy_value, plan.status, plan.gap, plan.solve_seconds, time.perf_counter() - started,
    )
    return plan


def _rank_value(rank: object) -> int | None:
    return None if rank is None or pd.isna(rank) else int(cast(int, rank))


def _ranking_order(model: pd.DataFrame, *, objective: str, first_tier_first: bool) -> np.ndarray:
    """Item positions in the ranking's order (pre-2000 first when asked)."""
    keys = pd.DataFrame({
        "first": ~model["first_tier"].to_numpy(bool) if first_tier_first else False,
        "households": -model["households"].to_numpy(float) if objective == "households" else 0.0,
        "rank": model["rank"].astype("float64").fillna(np.inf).to_numpy(),
        "id": model["id"].to_numpy(dtype=object),
    })
    return keys.sort_values(["first", "households", "rank", "id"], kind="stable").index.to_numpy()


Answer = tuple[np.ndarray, np.ndarray]
"""A plan as the model sees it: chosen items (bool per item) and bundles taken whole (bool per bundle)."""


@dataclass
class _Outcome:
    """What :func:`_optimise` found: the answer, its status and gap, and the minimums it meets."""

    x: np.ndarray
    y: np.ndarray
    status: str = "optimal"
    gap: float | None = 0.0
    bound: float | None = 0.0
    seconds: float = 0.0
    shortfalls: list[tuple[str, str, str, float, float, float]] = field(default_factory=list)
    rhs: list[float] = field(default_factory=list)


def _answer(solved: _Solved) -> Answer:
    assert solved.x is not None and solved.y is not None
    return solved.x, solved.y


def _optimise(inst: _Instance, *, greedy: Answer | None, deadline: float) -> _Outcome:
    """Solve (lexicographically when asked); on infeasible minimums, relax them as little as possible."""
    rhs = [k.rhs for k in inst.mins]
    empty: Answer = (np.zeros(inst.n, dtype=bool), np.zeros(len(inst.members), dtype=bool))
    out = _Outcome(*empty, rhs=rhs)
    if inst.n == 0:
        short = [k for k, r in zip(inst.mins, rhs) if r > _TOL]
        if short:
            out.status = "infeasible"
            out.shortfalls = [(k.kind, k.unit_code, k.measure, k.rhs, 0.0, k.rhs) for k in short]
            out.rhs = [0.0] * len(rhs)
        return out

    def left() -> float:
        return max(0.0, deadline - time.perf_counter())

    def run(rhs_now: list[float], start: Answer | None) -> tuple[str, _Solved | None]:
        """("optimal" | "time_limit" | "infeasible" | "no_solution", the answer with the gap to report)."""
        first_floor, stage1 = None, None
        if inst.lexicographic and inst.first.any():
            stage1 = _solve(inst, goal="first", rhs=rhs_now, time_limit_s=left(), start=start)
            out.seconds += stage1.seconds
            if stage1.x is None or stage1.objective is None:
                return stage1.status, None
            first_floor = stage1.objective - _OBJ_TOL * max(1.0, abs(stage1.objective))
            start = _answer(stage1)
        # the second stage always runs (CBC gets at least its minimum time), starting from the first's answer
        stage2 = _solve(inst, goal="total", rhs=rhs_now, time_limit_s=left(), first_floor=first_floor, start=start)
        out.seconds += stage2.seconds
        if stage2.x is None:
            if stage1 is None:
                return stage2.status, None
            stage2 = stage1
        if stage1 is not None and stage1.status != "optimal":  # the first-tier value is the one not proven
            return "time_limit", _Solved("time_limit", stage2.x, stage2.y, None, stage1.objective, stage1.bound,
                                         stage2.seconds)
        return stage2.status, stage2

    status, solved = run(rhs, greedy)
    infeasible = status == "infeasible"
    fallback = greedy
    if infeasible:
        elastic = _solve(inst, goal="elastic", rhs=rhs, time_limit_s=left())
        out.seconds += elastic.seconds
        found = _answer(elastic) if elastic.x is not None else None
        slack = elastic.slack if elastic.slack is not None else np.array(rhs, dtype=float)
        relaxed = []
        for k, r, s in zip(inst.mins, rhs, slack):
            if s > _TOL * max(1.0, r):
                reachable = inst.lhs(k, *found) if found is not None else 0.0
                out.shortfalls.append((k.kind, k.unit_code, k.measure, r, reachable, r - reachable))
                relaxed.append(reachable - _TOL * max(1.0, r))
            else:
                relaxed.append(r)
        out.rhs = relaxed
        fallback = found
        status, solved = run(relaxed, fallback)
    if solved is None:  # nothing found in time: the best answer known stands
        out.x, out.y = fallback if fallback is not None else empty
        out.gap, out.bound, out.status = None, None, "infeasible" if infeasible else "time_limit"
        return out
    best = _answer(solved)
    if fallback is not None and _better(inst, fallback, best):  # CBC never should, but keep the better one
        best = fallback
    out.x, out.y = best
    if status == "optimal":
        out.gap, out.bound = 0.0, inst.objective(*best)
    elif solved.bound is not None and solved.objective is not None:
        out.bound = solved.bound
        out.gap = max(0.0, solved.bound - solved.objective) / max(abs(solved.bound), _OBJ_TOL)
    else:
        out.gap, out.bound = None, None
    out.status = "infeasible" if infeasible else status
    return out


def _better(inst: _Instance, a: Answer, b: Answer) -> bool:
    """True when ``a`` is strictly better than ``b`` (first-tier value first when lexicographic)."""
    key_a = (inst.objective(*a, first_only=True) if inst.lexicographic else 0.0, inst.objective(*a))
    key_b = (inst.objective(*b, first_only=True) if inst.lexicographic else 0.0, inst.objective(*b))
    tol = _OBJ_TOL * max(1.0, abs(key_b[1]))
    if key_a[0] > key_b[0] + tol:
        return True
    return abs(key_a[0] - key_b[0]) <= tol and key_a[1] > key_b[1] + tol


# ----------------------------------------------------------------------------------------------- outputs
_OUT_COLUMNS = ["id", "name", "county_code", "zone_code", "unit_code", "street", "community", "n_buildings", "tier",
                "items", "plan_year", "status", "cost_estimated", "built_year", "first_tier", "households",
                "floor_area_m2", "cost_wan", "saving_wan", "net_cost_wan", "score", "rank", "value", "value_per_wan",
                "bundle_id", "bundle_name", "in_greedy", "reason", "detail"]


def _base(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[[c for c in _OUT_COLUMNS if c in frame.columns]].copy()
    out["built_year"] = out["built_year"].astype("Int64")
    return out


def _chosen_frame(frame: pd.DataFrame, model_pos: np.ndarray, inst: _Instance, x: np.ndarray, y: np.ndarray,
                  active: list[int], bundle_frame: pd.DataFrame, *, in_greedy: np.ndarray) -> pd.DataFrame:
    rows = frame.iloc[model_pos[x]].copy()
    item = np.flatnonzero(x)
    bundle_of = np.full(inst.n, -1)
    for b, m in enumerate(inst.members):
        if y[b]:
            bundle_of[m] = b
    b_here = bundle_of[item]
    saving = np.where(b_here >= 0, inst.saving[np.maximum(b_here, 0)] if len(inst.saving) else 0.0, 0.0)
    bonus = np.where(b_here >= 0, inst.bonus[np.maximum(b_here, 0)] if len(inst.bonus) else 0.0, 0.0)
    rows["saving_wan"] = (rows["cost_wan"].to_numpy() * saving).round(4)
    rows["net_cost_wan"] = rows["cost_wan"].to_numpy() - rows["saving_wan"].to_numpy()
    rows["value"] = rows["value"].to_numpy() * (1 + bonus)
    rows["value_per_wan"] = rows["value"] / rows["net_cost_wan"]
    rows["bundle_id"] = [bundle_frame.at[active[b], "bundle_id"] if b >= 0 else None for b in b_here]
    rows["bundle_name"] = [bundle_frame.at[active[b], "name"] if b >= 0 else None for b in b_here]
    rows["in_greedy"] = in_greedy[item]
    rows["reason"] = ""
    rows["detail"] = [{} for _ in range(len(rows))]
    out = _base(rows)
    out = out.sort_values(["rank", "id"], kind="stable", na_position="last").reset_index(drop=True)
    return out


def _why_chosen(chosen: pd.DataFrame, inst: _Instance, x: np.ndarray, y: np.ndarray, rhs: list[float],
                model_pos: np.ndarray, frame: pd.DataFrame, bundle_frame: pd.DataFrame) -> None:
    """Fill ``reason``/``detail`` of the chosen: needed for a minimum, with its area, by rank, or by the optimiser."""
    if chosen.empty:
        return
    position = {cid: k for k, cid in enumerate(frame["id"].to_numpy()[model_pos])}
    slack = [inst.lhs(k, x, y) - r for k, r in zip(inst.mins, rhs)]
    reasons: list[str] = []
    details: list[dict[str, object]] = []
    for _, row in chosen.iterrows():
        i = position[row["id"]]
        needed = [k for k, s in zip(inst.mins, slack) if k.x_coef[i] > 0 and k.x_coef[i] > s + _TOL * max(1.0, abs(s))]
        rank = _rank_value(row["rank"])
        if needed:
            k = needed[0]
            code = "needed_for_target" if k.kind == "target" else "needed_for_fair_share"
            reasons.append(code)
            details.append({"unit_code": k.unit_code, "measure": k.measure, "rank": rank})
        elif isinstance(row["bundle_id"], str):
            b = list(bundle_frame["bundle_id"]).index(row["bundle_id"])
            reasons.append("bundle")
            details.append({"bundle_id": row["bundle_id"], "bundle_name": row["bundle_name"],
                            "saving_pct": float(bundle_frame.at[b, "saving_pct"]), "rank": rank})
        elif row["in_greedy"]:
            reasons.append("ranking")
            details.append({"rank": rank})
        else:
            reasons.append("optimiser")
            details.append({"rank": rank})
    chosen["reason"] = reasons
    chosen["detail"] = details


def _rejected_frame(frame: pd.DataFrame, reason: pd.Series, detail: pd.Series, too_expensive: np.ndarray,
                    limit: np.ndarray, alone: np.ndarray, model_pos: np.ndarray, inst: _Instance, x: np.ndarray,
                    y: np.ndarray, gx: np.ndarray, active: list[int], bundle_frame: pd.DataFrame,
                    status: str) -> pd.DataFrame:
    chosen_pos = set(model_pos[x].tolist())
    rows = frame[[k not in chosen_pos for k in range(len(frame))]].copy()
    rows["eligible"] = (reason[rows.index] == "").to_numpy()
    in_greedy = np.zeros(len(frame), dtype=bool)
    in_greedy[model_pos[gx]] = True
    remaining = inst.budget - inst.spend(x, y)
    county_left = {c: cap - inst.spend(x, y, c) for c, cap in inst.caps.items()}
    model_index = {p: k for k, p in enumerate(model_pos)}
    whole_bundle = {}
    if inst.whole:
        for b, m in enumerate(inst.members):
            for i in m:
                whole_bundle[i] = b
    codes: list[str] = []
    details: list[dict[str, object]] = []
    for k in rows.index:
        base = dict(detail[k])
        if reason[k]:
            codes.append(reason[k])
            details.append(base)
            continue
        cost = float(frame.at[k, "cost_wan"])
        county = frame.at[k, "unit_code"]
        if too_expensive[k]:
            codes.append("too_expensive")
            details.append({"cost_wan": float(alone[k]), "limit_wan": float(limit[k])})
            continue
        i = model_index[k]
        if i in whole_bundle:
            b = whole_bundle[i]
            need = float(inst.cost[inst.members[b]].sum() * (1 - inst.saving[b]))
            if need > remaining + _TOL:
                codes.append("bundle_budget")
                details.append({"bundle_name": bundle_frame.at[active[b], "name"], "cost_wan": need,
                                "remaining_wan": max(0.0, remaining), "short_wan": need - remaining})
                continue
            cost = need
        if cost > remaining + _TOL:
            codes.append("budget")
            details.append({"cost_wan": cost, "remaining_wan": max(0.0, remaining), "short_wan": cost - remaining})
        elif county in county_left and cost > county_left[county] + _TOL:
            codes.append("county_budget")
            details.append({"unit_code": county, "cost_wan": cost, "remaining_wan": max(0.0, county_left[county]),
                            "short_wan": cost - county_left[county]})
        elif inst.value[i] <= 0:
            codes.append("no_value")
            details.append({})
        else:
            codes.append("not_reached")
            details.append({"status": status})
    rows["saving_wan"] = 0.0
    rows["net_cost_wan"] = rows["cost_wan"]
    rows["value_per_wan"] = rows["value"] / rows["cost_wan"]
    rows["bundle_id"] = None
    rows["bundle_name"] = None
    rows["in_greedy"] = in_greedy[rows.index]
    rows["reason"] = codes
    rows["detail"] = details
    out = _base(rows)
    out.insert(out.columns.get_loc("reason"), "eligible", rows["eligible"].to_numpy())
    out["_order"] = np.where(out["eligible"], 0, 1)
    out = out.sort_values(["_order", "rank", "id"], kind="stable", na_position="last").drop(columns="_order")
    return out.reset_index(drop=True)


def _bundles_frame(bundle_frame: pd.DataFrame, active: list[int], inst: _Instance, y: np.ndarray,
                   gy: np.ndarray) -> pd.DataFrame:
    out = bundle_frame.copy()
    out["taken"] = False
    out["greedy_taken"] = False
    out["net_cost_wan"] = np.nan
    out["saving_wan"] = np.nan
    for b, row_b in enumerate(active):
        full = float(inst.cost[inst.members[b]].sum())
        out.at[row_b, "taken"] = bool(y[b])
        out.at[row_b, "greedy_taken"] = bool(gy[b])
        out.at[row_b, "saving_wan"] = full * inst.saving[b]
        out.at[row_b, "net_cost_wan"] = full * (1 - inst.saving[b])
    columns = ["bundle_id", "name", "basis", "n_members", "n_eligible", "taken", "greedy_taken", "net_cost_wan",
               "saving_wan", "saving_pct", "bonus_pct", "dropped"]
    return out[columns]


def _totals(frame: pd.DataFrame, is_eligible: np.ndarray, model_pos: np.ndarray, inst: _Instance, x: np.ndarray,
            y: np.ndarray, gx: np.ndarray, gy: np.ndarray, budget: float, caps: dict[str, float],
            fair: dict[str, float], targets: dict[str, dict[str, float]], shortfalls: pd.DataFrame) -> pd.DataFrame:
    units = set(frame["unit_code"]) | set(caps) | {c for c in targets if c != settings.CITY_UNIT_CODE}
    order = [c for c in settings.UNIT_ORDER if c in units] + sorted(units - set(settings.UNIT_ORDER))
    model = frame.iloc[model_pos]
    pool = frame[is_eligible]

    def sums(sel: pd.DataFrame, xs: np.ndarray, ys: np.ndarray, unit: str | None) -> dict:
        inside = sel if unit is None else sel[sel["unit_code"] == unit]
        full = float(inside["cost_wan"].sum())
        net = inst.spend(xs, ys, unit)
        return {"compounds": len(inside), "households": float(inside["households"].sum()),
                "floor_area_m2": float(inside["floor_area_m2"].sum()), "cost_wan": full, "net_cost_wan": net}

    rows = []
    for unit in [*order, settings.CITY_UNIT_CODE]:
        code = None if unit == settings.CITY_UNIT_CODE else unit
        mine = sums(model[x], x, y, code)
        greedy = sums(model[gx], gx, gy, code)
        pool_u = pool if code is None else pool[pool["unit_code"] == code]
        row = {"unit_code": unit, **{k: mine[k] for k in ("compounds", "households", "floor_area_m2", "cost_wan")},
               "saving_wan": mine["cost_wan"] - mine["net_cost_wan"], "net_cost_wan": mine["net_cost_wan"],
               "budget_wan": budget if code is None else caps.get(unit, np.nan),
               "fair_share_wan": sum(fair.values()) if code is None and fair else fair.get(unit, np.nan)
               if code is not None else np.nan}
        for measure in (*MEASURES, "net_cost_wan"):
            if measure != "net_cost_wan":
                row[f"target_{measure}"] = targets.get(unit, {}).get(measure, np.nan)
            hit = shortfalls[(shortfalls["unit_code"] == unit) & (shortfalls["measure"] == measure)]
            name = "short_fair_share_wan" if measure == "net_cost_wan" else f"short_{measure}"
            row[name] = float(hit["short_by"].sum()) if len(hit) else 0.0
        row.update({"pool_compounds": len(pool_u), "pool_households": float(pool_u["households"].sum()),
                    "pool_floor_area_m2": float(pool_u["floor_area_m2"].sum()),
                    "pool_cost_wan": float(pool_u["cost_wan"].sum()),
                    "greedy_compounds": greedy["compounds"], "greedy_households": greedy["households"],
                    "greedy_floor_area_m2": greedy["floor_area_m2"], "greedy_net_cost_wan": greedy["net_cost_wan"]})
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.astype({"compounds": "int64", "pool_compounds": "int64", "greedy_compounds": "int64"})
