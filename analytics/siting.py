"""Facility siting on idle land: the maximal covering location problem (MCLP) solved with PuLP and CBC.

For one facility type, choose ``k`` candidate parcels that maximise the households newly brought within
the type's service distance. Compounds already within that distance of an existing facility of the type
count as covered and are not demand. A compound is covered by a parcel when their edge-to-edge distance
is at most the service distance (metres, EPSG:4548) — the same rule as the living-circle audit — or, with
``metric="walk"``, their walking distance along the streets of a road graph (``analytics.network``).

The model is narrowed before it is built: candidates are the parcels that meet the type's minimum area
and reach at least one uncovered compound; demand is the uncovered compounds some candidate reaches.
Compounds reached by exactly the same candidates are merged into one demand row (households summed) and
candidates that reach exactly the same compounds are merged into one (the smallest parcel id stands for
them); neither changes the optimum. The greedy answer (repeatedly take the parcel that adds the most
households) is computed first, given to CBC as its starting solution, and returned beside the optimum.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
from scipy import sparse

from analytics import settings
from analytics._spatial import pairs_within_distance
from analytics.checks import (
    check_distance_m,
    check_gdf,
    check_range,
    check_same_crs,
    check_unique_ids,
    drop_missing_geometries,
)
from analytics.errors import InputError
from analytics.idle_land import filter_parcels
from analytics.network import WalkGraph, check_metric, metric_name, walk_positions

log = logging.getLogger(__name__)

MAX_K = 200
"""Most parcels one call may choose."""
MAX_TIME_LIMIT_S = 600
"""Longest solver time limit accepted (s)."""
MAX_MODEL_CELLS = 3_000_000
"""Largest (demand rows × candidate parcels) model after narrowing: beyond it the solver may take minutes."""


@dataclass(frozen=True)
class SitingResult:
    """What :func:`site_facilities` found.

    Attributes
    ----------
    chosen
        GeoDataFrame of the parcels the solver chose: ``parcel_id``, ``households_gained`` (households of
        newly covered compounds whose nearest chosen parcel this is), ``compounds_gained``, the parcels'
        other columns and geometry; most households first. Parcels that add nobody are left out, so there
        may be fewer than ``k`` rows (when fewer parcels already cover every household within reach).
    greedy
        The same for the greedy answer.
    households_covered_before
        Households within the service distance of an existing facility of the type.
    households_covered_after
        Households covered once the chosen parcels are built (before + gained).
    households_total
        Households of all compounds given.
    gaining
        Compounds newly covered by ``chosen``: ``compound_id``, ``households``, ``parcel_id`` (nearest
        chosen parcel; ties to the smallest id), ``distance_m`` (edge to edge, metres).
    optimal
        True when ``chosen`` is proven optimal.
    time_limit_hit
        True when the solver stopped at ``time_limit_s``; ``chosen`` is then the best solution it found
        (never worse than ``greedy``, which it started from).
    solve_seconds
        Wall time spent in the solver (s).
    greedy_households_after
        Households covered with the greedy parcels instead.
    n_candidates, n_demand
        Candidate parcels and uncovered compounds within reach, before merging identical ones.
    facility_type, k, service_distance_m, min_area_m2
        The options used.
    metric
        ``"straight"`` or ``"walk"``: how distances were measured.
    """

    chosen: gpd.GeoDataFrame
    greedy: gpd.GeoDataFrame
    households_covered_before: int
    households_covered_after: int
    households_total: int
    gaining: pd.DataFrame
    optimal: bool
    time_limit_hit: bool
    solve_seconds: float
    greedy_households_after: int
    n_candidates: int
    n_demand: int
    facility_type: str
    k: int
    service_distance_m: float
    min_area_m2: float
    metric: str = "straight"


# ----------------------------------------------------------------------------------------------- checks
def _check_options(facility_type: object, k: object, time_limit_s: object) -> None:
    if facility_type not in settings.FACILITY_TYPES:
        raise InputError(
            f"`facility_type` was {facility_type!r} but must be one of {tuple(settings.FACILITY_TYPES)!r}."
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InputError(f"`k` was {k!r} but must be a whole number of parcels between 1 and {MAX_K}.")
    check_range(k, "k", 1, MAX_K)
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, int | float | np.integer | np.floating):
        raise InputError(f"`time_limit_s` was {time_limit_s!r} but must be a number of seconds.")
    if not 0 < time_limit_s <= MAX_TIME_LIMIT_S:
        raise InputError(f"`time_limit_s` was {time_limit_s!r} but must be more than 0 and at most {MAX_TIME_LIMIT_S}.")


def _households(compounds: pd.DataFrame) -> np.ndarray:
    hh = pd.to_numeric(compounds["households"], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(hh) | (hh < 0)
    if bad.any():
        first = compounds["id"].iloc[int(np.flatnonzero(bad)[0])]
        raise InputError(f"`compounds` has a missing or negative `households` value (compound {first!r}).")
    return hh


# ----------------------------------------------------------------------------------------------- solvers
def greedy_cover(coverage: sparse.csc_matrix, weights: np.ndarray, k: int) -> list[int]:
    """Columns picked one at a time, each adding the most uncovered weight (ties: lowest column).

    Stops early when no column adds anything. ``coverage`` is demand × candidates (1 = covers).
    """
    uncovered = np.asarray(weights, dtype=float).copy()
    picked: list[int] = []
    coverage_t = coverage.T.tocsr()
    for _ in range(k):
        gains = coverage_t @ uncovered
        if picked:
            gains[picked] = -1.0
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        picked.append(best)
        uncovered[coverage[:, best].indices] = 0.0
    return picked


def covered_weight(coverage: sparse.csc_matrix, weights: np.ndarray, columns: list[int]) -> float:
    """Total weight of the rows covered by at least one of ``columns``."""
    if not columns:
        return 0.0
    hit = np.asarray(coverage[:, columns].sum(axis=1)).ravel() > 0
    return float(np.asarray(weights)[hit].sum())


def solve_mclp(
    coverage: sparse.csc_matrix, weights: np.ndarray, k: int, *, start: list[int], time_limit_s: float
) -> tuple[list[int] | None, bool, bool, float]:
    """Solve the MCLP on CBC (through PuLP), starting from the columns ``start``.

    The model of Church & ReVelle (1974), as ``spopt.locate.MCLP`` states it: choose exactly ``k`` columns
    ``x_j``, a row ``y_i`` counts only when some chosen column covers it, maximise the covered weight. It is
    built from the sparse coverage (one term per covering pair), not from a dense cost matrix.
    Returns ``(columns or None, optimal, time_limit_hit, seconds)``; ``None`` when CBC stopped at the
    time limit before it had any solution.
    """
    rows_csr = coverage.tocsr()
    n_rows, n_cols = coverage.shape
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{j}", cat=pulp.LpBinary) for j in range(n_cols)]
    y = [pulp.LpVariable(f"y_{i}", cat=pulp.LpBinary) for i in range(n_rows)]
    problem += pulp.LpAffineExpression(list(zip(y, np.asarray(weights, dtype=float).tolist())))
    problem += pulp.LpAffineExpression([(var, 1) for var in x]) == k, "facilities"
    for i in range(n_rows):
        covering = rows_csr.indices[rows_csr.indptr[i]:rows_csr.indptr[i + 1]]
        problem += pulp.LpAffineExpression([(x[j], 1) for j in covering] + [(y[i], -1)]) >= 0, f"cover_{i}"
    chosen = set(start)
    covered = np.asarray(coverage[:, start].sum(axis=1)).ravel() > 0 if start else np.zeros(n_rows, dtype=bool)
    for j, var in enumerate(x):
        var.setInitialValue(1 if j in chosen else 0)
    for i, var in enumerate(y):
        var.setInitialValue(1 if covered[i] else 0)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=float(time_limit_s), warmStart=bool(start))
    began = time.perf_counter()
    problem.solve(solver)
    seconds = time.perf_counter() - began
    status = problem.sol_status
    if status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):  # no solution when CBC stopped
        return None, False, True, seconds
    optimal = status == pulp.LpSolutionOptimal
    time_limit_hit = status == pulp.LpSolutionIntegerFeasible
    columns = [j for j, var in enumerate(x) if (var.value() or 0) > 0.5]
    return columns, optimal, time_limit_hit, seconds


# ----------------------------------------------------------------------------------------------- model
def _merge_identical(keys_rows: np.ndarray, keys_cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ids for rows by the set of columns they hold (rows with equal sets share a group)."""
    if len(keys_rows) == 0:
        return np.full(n_rows, -1, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.lexsort((keys_cols, keys_rows))
    rows, cols = keys_rows[order], keys_cols[order]
    bounds = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1], True])
    signature: dict[bytes, int] = {}
    group = np.full(n_rows, -1, dtype=np.int64)
    representative: list[int] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        key = cols[a:b].tobytes()
        g = signature.setdefault(key, len(signature))
        if g == len(representative):
            representative.append(rows[a])
        group[rows[a]] = g
    return group, np.array(representative, dtype=np.int64)


def _reduced_model(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_cols: int
) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray]:
    """Coverage pairs (row, col) → a smaller model with the same optimum.

    Columns covering the same rows are merged (the lowest column stands for them); then rows covered by
    the same columns are merged (weights summed). Returns the 0/1 coverage matrix (merged rows × kept
    columns), the merged weights and the original index of each kept column.
    """
    _, kept = _merge_identical(cols, rows, n_cols)
    new_col = np.full(n_cols, -1, dtype=np.int64)
    new_col[kept] = np.arange(len(kept))
    on_kept = new_col[cols] >= 0
    rows, cols = rows[on_kept], new_col[cols[on_kept]]
    row_group, _ = _merge_identical(rows, cols, len(weights))
    n_groups = int(row_group.max()) + 1 if len(row_group) else 0
    merged = np.bincount(row_group, weights=weights, minlength=n_groups) if n_groups else np.zeros(0)
    coverage = sparse.csc_matrix((np.ones(len(rows)), (row_group[rows], cols)), shape=(n_groups, len(kept)))
    coverage.sum_duplicates()
    coverage.data[:] = 1.0
    return coverage, merged, kept


def _attribute(
    pairs: pd.DataFrame, chosen_ids: list[str], parcel_rank: dict[str, int]
) -> pd.DataFrame:
    """Newly covered compounds and the nearest chosen parcel of each (ties: smallest parcel id)."""
    hit = pairs[pairs["parcel_id"].isin(chosen_ids)]
    hit = hit.assign(_rank=hit["parcel_id"].map(parcel_rank)).sort_values(["compound_id", "distance_m", "_rank"])
    first = hit.drop_duplicates("compound_id")
    out = first[["compound_id", "households", "parcel_id", "distance_m"]].reset_index(drop=True)
    out["households"] = out["households"].round().astype("int64")
    return out


def _chosen_frame(parcels: gpd.GeoDataFrame, gaining: pd.DataFrame) -> gpd.GeoDataFrame:
    households = gaining.groupby("parcel_id")["households"].sum()
    n_compounds = gaining.groupby("parcel_id").size()
    rows = parcels[parcels["id"].isin(households.index)]
    out = pd.DataFrame({
        "parcel_id": rows["id"].to_numpy(dtype=object),
        "households_gained": households.reindex(rows["id"].to_numpy()).to_numpy(dtype=np.int64),
        "compounds_gained": n_compounds.reindex(rows["id"].to_numpy()).to_numpy(dtype=np.int64),
    }, index=rows.index)
    out = pd.concat([out, rows.drop(columns=["id"])], axis=1)
    out = out.sort_values(["households_gained", "parcel_id"], ascending=[False, True], kind="stable")
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=parcels.geometry.name, crs=parcels.crs)


@dataclass(frozen=True)
class _Model:
    """The reduced coverage model of one siting run and how its columns map back to parcel ids."""

    coverage: sparse.csc_matrix  # demand rows × candidate columns (1 = within reach)
    weights: np.ndarray  # households per demand row
    rep_ids: list  # parcel id standing for each column
    parcel_rank: dict  # parcel id -> rank among the candidates (id order), for stable ties
    n_candidates: int  # candidate parcels reaching an uncovered compound
    n_demand: int  # uncovered compounds reached by a candidate


def _model(di: np.ndarray, pj: np.ndarray, demand_households: np.ndarray, candidate_ids: np.ndarray) -> _Model:
    """The reduced model from the (demand position, candidate position) pairs within reach.

    Only candidates reaching some demand become columns (in id order), only demand reached by some
    candidate becomes rows; identical columns and rows are merged (:func:`_reduced_model`).
    """
    cand_pos = np.unique(pj)  # parcels that reach at least one uncovered compound
    reached = np.unique(di)
    cand_ids = candidate_ids[cand_pos]
    by_id = np.argsort(cand_ids.astype(str), kind="stable")
    cand_pos, cand_ids = cand_pos[by_id], cand_ids[by_id]
    col_of = np.full(len(candidate_ids), -1, dtype=np.int64)
    col_of[cand_pos] = np.arange(len(cand_pos))
    row_of = np.full(len(demand_households), -1, dtype=np.int64)
    row_of[reached] = np.arange(len(reached))
    coverage, weights, rep_cols = _reduced_model(row_of[di], col_of[pj], demand_households[reached], len(cand_pos))
    n_rows, n_cols = coverage.shape
    if n_rows * n_cols > MAX_MODEL_CELLS:
        raise InputError(
            f"The siting model has {n_rows:,} demand rows × {n_cols:,} candidate parcels, more than "
            f"{MAX_MODEL_CELLS:,} cells; choose one county or raise `min_area_m2`.",
            code="siting.too_large", rows=n_rows, columns=n_cols,
        )
    return _Model(coverage, weights, list(cand_ids[rep_cols]), {pid: n for n, pid in enumerate(cand_ids)},
                  len(cand_pos), len(reached))


def _choose(model: _Model, k: int, time_limit_s: float) -> tuple[list[int], list[int], bool, bool, float]:
    """Columns chosen: the greedy cover, then the exact model started from it when it can do better.

    Returns the chosen columns, the greedy columns, whether the choice is proven optimal, whether the time
    limit stopped the solver, and the solver's seconds.
    """
    coverage, weights = model.coverage, model.weights
    n_cols = coverage.shape[1]
    p = min(k, n_cols)
    greedy_cols = greedy_cover(coverage, weights, p) if p else []
    greedy_value = covered_weight(coverage, weights, greedy_cols)
    if greedy_value >= weights.sum() or p == n_cols:
        return (greedy_cols if greedy_value >= weights.sum() else list(range(n_cols))), greedy_cols, True, False, 0.0
    solved, optimal, time_limit_hit, seconds = solve_mclp(coverage, weights, p, start=greedy_cols,
                                                          time_limit_s=time_limit_s)
    if solved is None or covered_weight(coverage, weights, solved) < greedy_value:
        return greedy_cols, greedy_cols, False, time_limit_hit, seconds
    return solved, greedy_cols, optimal, time_limit_hit, seconds


def site_facilities(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    facility_type: str,
    k: int,
    service_distance_m: float | None = None,
    min_area_m2: float | None = None,
    time_limit_s: float = 10,
    metric: Literal["straight", "walk"] | None = None,
    graph: WalkGraph | None = None,
    gates: gpd.GeoDataFrame | None = None,
) -> SitingResult:
    """Choose ``k`` idle parcels for new facilities of one type so that most households gain one nearby.

    Parameters
    ----------
    compounds
        Compounds with unique ``id`` and ``households``; metric CRS (EPSG:4548).
    parcels
        Candidate parcels with unique ``id`` (``area_m2`` or geometry for the area); same CRS.
    facilities
        Existing facilities with ``id`` and ``facility_type``; same CRS. Those of ``facility_type``
        count as already covering.
    facility_type
        A code of ``settings.FACILITY_TYPES`` (e.g. elderly_care, kindergarten, clinic, market).
    k
        Parcels to choose, 1–200.
    service_distance_m
        Edge-to-edge metres within which a facility covers a compound, 0–3,000; default the type's
        ``service_distance_m`` (300 m for most, 500 m for market and sports).
    min_area_m2
        Smallest usable parcel, m²; default the type's ``min_area_m2`` (e.g. clinic 120, kindergarten 3,500).
    time_limit_s
        CBC time limit in seconds (wall time), more than 0 and at most 600.
    metric
        ``"straight"`` (edge to edge) or ``"walk"`` (along the streets of ``graph``: a parcel covers the
        compounds within the service distance on foot); ``None`` walks when ``graph`` is given.
    graph
        Road graph from ``analytics.network.walk_graph`` (same CRS); needed for ``"walk"``.
    gates
        Compound gates (points with ``compound_id``) for ``"walk"``.

    Returns
    -------
    SitingResult
        Chosen and greedy parcels, households covered before / after / total, the compounds that gain,
        and whether the answer is proven optimal or the time limit was hit.

    Raises
    ------
    InputError
        Bad frames or options, or a model too large to build (narrow to a county).
    CRSError
        No CRS, a geographic CRS, or different CRSs.
    """
    check_gdf(compounds, "compounds", required=["id", "households"])
    check_gdf(parcels, "parcels", required=["id"])
    check_gdf(facilities, "facilities", required=["id", "facility_type"])
    check_same_crs(("compounds", compounds), ("parcels", parcels), ("facilities", facilities))
    _check_options(facility_type, k, time_limit_s)
    walk = check_metric(metric, graph)
    chosen_metric = metric_name(walk)
    spec = settings.FACILITY_TYPES[facility_type]
    d = check_distance_m(spec["service_distance_m"] if service_distance_m is None else service_distance_m,
                         "service_distance_m")
    min_area_value = spec["min_area_m2"] if min_area_m2 is None else min_area_m2
    candidates = filter_parcels(parcels, min_area_m2=min_area_value)  # validates the value
    min_area = float(min_area_value)
    for name, frame in (("compounds", compounds), ("parcels", parcels), ("facilities", facilities)):
        check_unique_ids(frame, name)
    compounds = drop_missing_geometries(compounds, "compounds")
    candidates = drop_missing_geometries(candidates, "parcels")
    facilities = drop_missing_geometries(facilities, "facilities")
    households = _households(compounds)
    started = time.perf_counter()

    # 1. compounds already covered by an existing facility of the type
    existing = facilities[facilities["facility_type"].to_numpy() == facility_type]

    def within(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if walk is not None:
            return walk_positions(walk, left, right, d, gates=gates, depth=2)
        return pairs_within_distance(left.geometry.values, right.geometry.values, d)

    ci, _, _ = within(compounds, existing)
    covered = np.zeros(len(compounds), dtype=bool)
    covered[ci] = True
    before = float(households[covered].sum())
    total = float(households.sum())

    # 2. uncovered compounds with households × candidate parcels within reach
    demand_pos = np.flatnonzero(~covered & (households > 0))
    di, pj, dist = within(compounds.iloc[demand_pos], candidates)
    pairs = pd.DataFrame({
        "compound_id": compounds["id"].to_numpy(dtype=object)[demand_pos[di]],
        "households": households[demand_pos[di]],
        "parcel_id": candidates["id"].to_numpy(dtype=object)[pj],
        "distance_m": dist,
    })

    # 3. reduced model: identical candidates merged (smallest id stands for them), identical demand merged
    model = _model(di, pj, households[demand_pos], candidates["id"].to_numpy(dtype=object))

    # 4. greedy, then the exact model started from it
    best_cols, greedy_cols, optimal, time_limit_hit, seconds = _choose(model, int(k), time_limit_s)
    rep_ids, parcel_rank = model.rep_ids, model.parcel_rank
    chosen_ids = [rep_ids[j] for j in best_cols]
    greedy_ids = [rep_ids[j] for j in greedy_cols]

    gaining = _attribute(pairs, chosen_ids, parcel_rank)
    gaining_greedy = _attribute(pairs, greedy_ids, parcel_rank)
    after = before + float(gaining["households"].sum())
    result = SitingResult(
        chosen=_chosen_frame(parcels, gaining),
        greedy=_chosen_frame(parcels, gaining_greedy),
        households_covered_before=int(round(before)),
        households_covered_after=int(round(after)),
        households_total=int(round(total)),
        gaining=gaining,
        optimal=bool(optimal),
        time_limit_hit=bool(time_limit_hit),
        solve_seconds=float(seconds),
        greedy_households_after=int(round(before + float(gaining_greedy["households"].sum()))),
        n_candidates=model.n_candidates,
        n_demand=model.n_demand,
        facility_type=facility_type,
        k=int(k),
        service_distance_m=d,
        min_area_m2=min_area,
        metric=chosen_metric,
    )
    log.info(
        "site_facilities %s k=%d: %d candidates, %d demand compounds (%d×%d model), covered %d → %d "
        "(greedy %d) of %d households, optimal=%s, time limit hit=%s, %.2f s",
        facility_type, k, model.n_candidates, model.n_demand, *model.coverage.shape, result.households_covered_before,
        result.households_covered_after, result.greedy_households_after, result.households_total,
        result.optimal, result.time_limit_hit, time.perf_counter() - started,
    )
    return result
