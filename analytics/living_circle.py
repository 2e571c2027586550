"""Living-circle audit (GB 50180-2018): nearest facility per compound and type, tiers met, gaps, coverage.

Two metrics (``metric``): ``"straight"`` measures edge to edge from the compound's boundary to the
facility (0 when the facility lies inside the compound), straight-line metres in the inputs' metric CRS
(EPSG:4548); ``"walk"`` measures along the streets of a road graph (``analytics.network``: links to the
streets, through the compound's gates where known, plus the walk between them), which is never shorter.
The standard's tiers are walking distances, so walking is used whenever a road graph is given. Tiers
default to ``settings.LIVING_CIRCLE_TIERS_M`` (5 / 10 / 15 minutes = 300 / 500 / 1,000 m); the distance a
type must be within to count as "served" defaults to its ``service_distance_m`` in
``settings.FACILITY_TYPES``. Every access table says in ``attrs["metric"]`` which metric made it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics._spatial import worker_count
from analytics.checks import (
    as_choices,
    check_distance_m,
    check_frame,
    check_gdf,
    check_same_crs,
    check_unique_ids,
    drop_missing_geometries,
)
from analytics.errors import InputError
from analytics.network import WalkGraph, _nearest_walks, check_metric, metric_name

log = logging.getLogger(__name__)

ACCESS_COLUMNS = ["compound_id", "facility_type", "nearest_m", "nearest_facility_id", "tier"]
_CHUNK = 16_384  # compounds per nearest-facility query; (type, chunk) tasks run on threads
_THREADS_FROM = 20_000  # compound × type rows below which one thread is faster


# ----------------------------------------------------------------------------------------------- options
def check_tiers(tiers_m: Mapping[str, float] | None) -> dict[str, float]:
    """Tiers as ``{name: metres}`` sorted by distance; ``None`` → ``settings.LIVING_CIRCLE_TIERS_M``."""
    if tiers_m is None:
        tiers_m = settings.LIVING_CIRCLE_TIERS_M
    if not isinstance(tiers_m, Mapping) or not tiers_m:
        raise InputError(f"`tiers_m` was {tiers_m!r} but must be a non-empty mapping such as {{'5min': 300}}.")
    out = {}
    for name, metres in tiers_m.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"`tiers_m` has the tier name {name!r}; names must be non-empty strings.")
        out[name] = check_distance_m(metres, f"tiers_m[{name!r}]", low=1)
    values = list(out.values())
    if len(set(values)) != len(values):
        raise InputError(f"`tiers_m` was {dict(tiers_m)!r} but each tier needs its own distance.")
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def check_facility_types(facility_types: str | Iterable[str] | None) -> list[str]:
    """Facility type codes, validated against ``settings.FACILITY_TYPES``; ``None`` → all, in that order."""
    chosen = as_choices(facility_types, "facility_types", settings.FACILITY_TYPES)
    if chosen is None:
        return list(settings.FACILITY_TYPES)
    return list(dict.fromkeys(chosen))


def required_distances(types: Iterable[str], required_m: float | Mapping[str, float] | None) -> dict[str, float]:
    """Metres each type must be within to count as served.

    ``None`` → each type's ``service_distance_m`` from ``settings.FACILITY_TYPES``; a number → that for
    every type; a mapping → its value for the types it names, the default for the others.
    """
    types = list(types)
    defaults = {t: float(settings.FACILITY_TYPES[t]["service_distance_m"]) for t in types if t in settings.FACILITY_TYPES}
    unknown = [t for t in types if t not in settings.FACILITY_TYPES]
    if unknown:
        raise InputError(f"`access` has the facility type {unknown[0]!r}, not one of {tuple(settings.FACILITY_TYPES)!r}.")
    if required_m is None:
        return defaults
    if isinstance(required_m, Mapping):
        as_choices(list(required_m), "required_m", settings.FACILITY_TYPES)
        return {t: check_distance_m(required_m[t], f"required_m[{t!r}]") if t in required_m else defaults[t] for t in types}
    value = check_distance_m(required_m, "required_m")
    return dict.fromkeys(types, value)


# ----------------------------------------------------------------------------------------------- nearest
class _NearestIndex:
    """An STR tree over facilities that answers "nearest facility, ties to the smallest id"."""

    def __init__(self, facilities: gpd.GeoDataFrame):
        self.by_id = np.argsort(facilities["id"].to_numpy(dtype=str), kind="stable")
        geoms = np.asarray(facilities.geometry.values, dtype=object)[self.by_id]
        self.tree = shapely.STRtree(geoms) if len(geoms) else None

    def nearest(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position (into the facilities given) of the nearest one per geometry and the distance (m).

        ``(-1, nan)`` where there are no facilities.
        """
        n = len(geoms)
        pos = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        if n == 0 or self.tree is None:
            return pos, dist
        (ci, fj), d = self.tree.query_nearest(geoms, return_distance=True, all_matches=True)
        order = np.lexsort((fj, ci))
        ci, fj, d = ci[order], fj[order], d[order]
        first = np.flatnonzero(np.r_[True, ci[1:] != ci[:-1]])
        pos[ci[first]] = self.by_id[fj[first]]
        dist[ci[first]] = d[first]
        return pos, dist


def tier_of(distance_m: np.ndarray, tiers_m: Mapping[str, float]) -> np.ndarray:
    """Name of the smallest tier whose distance covers each value (``None`` beyond the largest or NaN)."""
    names = np.array(list(tiers_m) + [None], dtype=object)
    limits = np.array(list(tiers_m.values()), dtype=float)
    d = np.asarray(distance_m, dtype=float)
    code = np.searchsorted(limits, np.where(np.isnan(d), np.inf, d), side="left")
    return names[code]


def facility_access(
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    facility_types: str | Iterable[str] | None = None,
    tiers_m: Mapping[str, float] | None = None,
    metric: Literal["straight", "walk"] | None = None,
    graph: WalkGraph | None = None,
    gates: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Distance from each compound to the nearest existing facility of each type, and the tier it meets.

    Parameters
    ----------
    compounds
        Compound boundaries with a unique ``id``, metric CRS (EPSG:4548).
    facilities
        Existing facilities (points or polygons) with ``id`` and ``facility_type``; same CRS.
    facility_types
        Types to audit (codes of ``settings.FACILITY_TYPES``, e.g. elderly_care, kindergarten, clinic,
        market); ``None`` audits all of them.
    tiers_m
        ``{tier name: metres}``; default ``settings.LIVING_CIRCLE_TIERS_M`` =
        ``{"5min": 300, "10min": 500, "15min": 1000}`` (use 800 for the strict 15-minute value).
    metric
        ``"straight"`` or ``"walk"`` (along ``graph``); ``None`` walks when ``graph`` is given.
    graph
        Road graph from ``analytics.network.walk_graph``, same CRS; needed for ``"walk"``.
    gates
        Compound gates (points with ``compound_id``) for ``"walk"``: a gated compound is walked from its gates.

    Returns
    -------
    DataFrame
        One row per compound and type (compounds in input order, types in the order asked):
        ``compound_id``, ``facility_type``, ``nearest_m`` (metres to the nearest facility of that type:
        straight edge to edge at any distance, NaN when none of that type exists; or on foot, NaN when
        none lies within ``settings.WALK_SEARCH_M`` = 3,000 m or the compound has no street within reach),
        ``nearest_facility_id`` (None when none; straight ties go to the smallest id), ``tier`` (name of
        the smallest tier whose distance is ≥ ``nearest_m``, e.g. "5min"; None beyond the largest tier or
        when none exists); for ``"walk"`` also ``straight_m`` (the straight distance to the nearest
        facility of the type). ``attrs["metric"]`` is ``"straight"`` or ``"walk"``.

    Raises
    ------
    InputError
        Not GeoDataFrames, missing columns, duplicate ids, unknown facility types or bad tiers.
    CRSError
        No CRS, a geographic CRS, or different CRSs.
    """
    check_gdf(compounds, "compounds", required=["id"])
    check_gdf(facilities, "facilities", required=["id", "facility_type"])
    check_same_crs(("compounds", compounds), ("facilities", facilities))
    types = check_facility_types(facility_types)
    tiers = check_tiers(tiers_m)
    walk = check_metric(metric, graph)
    chosen_metric = metric_name(walk)
    check_unique_ids(compounds, "compounds")
    check_unique_ids(facilities, "facilities")
    compounds = drop_missing_geometries(compounds, "compounds")
    facilities = drop_missing_geometries(facilities, "facilities")

    start = time.perf_counter()
    n = len(compounds)
    fac_type = facilities["facility_type"].to_numpy(dtype=object)
    fac_ids = facilities["id"].to_numpy(dtype=object)
    tasks = [(t, s) for t in range(len(types)) for s in range(0, n, _CHUNK)]
    subsets = [np.flatnonzero(fac_type == ftype) for ftype in types]
    trees = [_NearestIndex(facilities.iloc[sub]) for sub in subsets]
    geoms = np.asarray(compounds.geometry.values, dtype=object)
    dist = np.full((n, len(types)), np.nan)
    ids = np.full((n, len(types)), None, dtype=object)

    def run(task: tuple[int, int]) -> None:
        t, s = task
        pos, d = trees[t].nearest(geoms[s: s + _CHUNK])
        found = pos >= 0
        dist[s: s + _CHUNK, t] = d
        ids[s: s + _CHUNK, t][found] = fac_ids[subsets[t][pos[found]]]

    workers = worker_count()
    if workers > 1 and n * len(types) >= _THREADS_FROM:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, tasks))
    else:
        for task in tasks:
            run(task)
    # compound-major layout: row = compound k, type t  →  k * len(types) + t
    flat_dist, flat_ids = dist.ravel(), ids.ravel()
    out = pd.DataFrame({
        "compound_id": compounds["id"].array.take(np.repeat(np.arange(n), len(types))),
        "facility_type": np.tile(np.array(types, dtype=object), n),
        "nearest_m": flat_dist,
        "nearest_facility_id": pd.Series(flat_ids, dtype=object),
        "tier": pd.Series(tier_of(flat_dist, tiers), dtype=object),
    })
    if walk is not None:
        out = _walk_access(out, compounds, facilities, types, tiers, walk, gates)
    out.attrs["metric"] = chosen_metric
    log.info(
        "facility_access (%s): %d compounds × %d types against %d facilities in %.2f s",
        chosen_metric, n, len(types), len(facilities), time.perf_counter() - start,
    )
    return out


def _walk_access(straight: pd.DataFrame, compounds: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                 types: list[str], tiers: dict[str, float], graph: WalkGraph,
                 gates: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """The straight access table with walking distances in ``nearest_m`` and the straight ones beside."""
    wanted = facilities[facilities["facility_type"].isin(types).to_numpy()]
    walked = _nearest_walks(graph, compounds, wanted, max_m=settings.WALK_SEARCH_M, by="facility_type",
                            gates=gates, max_link_m=None, depth=3)
    walked = walked.set_index(["origin_id", "facility_type"])
    key = pd.MultiIndex.from_arrays([straight["compound_id"], straight["facility_type"]])
    found = walked.reindex(key)
    dist = found["distance_m"].to_numpy(dtype=float)
    return pd.DataFrame({
        "compound_id": straight["compound_id"].to_numpy(dtype=object),
        "facility_type": straight["facility_type"].to_numpy(dtype=object),
        "nearest_m": dist,
        "nearest_facility_id": pd.Series(found["destination_id"].to_numpy(dtype=object), dtype=object),
        "tier": pd.Series(tier_of(dist, tiers), dtype=object),
        "straight_m": straight["nearest_m"].to_numpy(dtype=float),
    })


# ----------------------------------------------------------------------------------------------- summaries
def _check_access(access: object) -> None:
    check_frame(access, "access", required=["compound_id", "facility_type", "nearest_m"])


def _served(access: pd.DataFrame, required_m: float | Mapping[str, float] | None,
            column: str = "nearest_m") -> np.ndarray:
    codes, types = pd.factorize(access["facility_type"], sort=False)
    limit = required_distances(list(types), required_m)
    need = np.array([limit[t] for t in types], dtype=float)[codes]
    return access[column].to_numpy(dtype=float) <= need  # NaN (no facility) is never served


def _types_per_compound(access: pd.DataFrame, mask: np.ndarray, column: str, count: str) -> pd.DataFrame:
    """Per compound (order of ``access``) the list of types where ``mask`` holds, and how many."""
    codes, compound_ids = pd.factorize(access["compound_id"], sort=False)
    order = np.argsort(codes, kind="stable")
    hit_codes = codes[order][mask[order]]
    hit_types = access["facility_type"].to_numpy(dtype=object)[order][mask[order]]
    n_hit = np.bincount(hit_codes, minlength=len(compound_ids)).astype(np.int64)
    lists = np.split(hit_types, np.cumsum(n_hit)[:-1]) if len(compound_ids) else []
    return pd.DataFrame({
        "compound_id": np.asarray(compound_ids, dtype=object),
        column: pd.Series([part.tolist() for part in lists], dtype=object),
        count: n_hit,
    })


def facility_gaps(access: pd.DataFrame, *, required_m: float | Mapping[str, float] | None = None) -> pd.DataFrame:
    """Facility types each compound lacks within the required distance (from :func:`facility_access`).

    Parameters
    ----------
    access
        Output of :func:`facility_access`.
    required_m
        Metres a type must be within: ``None`` → each type's ``service_distance_m`` in
        ``settings.FACILITY_TYPES`` (e.g. clinic 300, market 500); a number → for every type; a mapping
        ``{type: metres}`` → for the types it names, the default for the others. 0–3,000 m.

    Returns
    -------
    DataFrame
        One row per compound (order of ``access``): ``compound_id``, ``missing_types`` (list of type
        codes, in the order of ``access``; empty when nothing is missing), ``n_missing``.
    """
    _check_access(access)
    return _types_per_compound(access, ~_served(access, required_m), "missing_types", "n_missing")


def straight_not_walk(access: pd.DataFrame, *, required_m: float | Mapping[str, float] | None = None) -> pd.DataFrame:
    """Types each compound has within reach as the crow flies but not on foot (直线覆盖但步行不可达).

    Parameters
    ----------
    access
        Output of :func:`facility_access` with ``metric="walk"`` (it has ``straight_m`` beside the walking
        ``nearest_m``).
    required_m
        As in :func:`facility_gaps`.

    Returns
    -------
    DataFrame
        One row per compound (order of ``access``): ``compound_id``, ``straight_only_types`` (list of type
        codes within the required distance in a straight line but not by walking), ``n_straight_only``.
    """
    _check_access(access)
    if "straight_m" not in access.columns:
        raise InputError("`access` has no `straight_m` column: it was measured in a straight line; "
                         "make it with `facility_access(..., metric='walk', graph=...)`.")
    only = _served(access, required_m, "straight_m") & ~_served(access, required_m)
    return _types_per_compound(access, only, "straight_only_types", "n_straight_only")


def coverage_by_county(
    access: pd.DataFrame,
    compounds: pd.DataFrame,
    *,
    required_m: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Households served within the required distance, per county and facility type.

    Parameters
    ----------
    access
        Output of :func:`facility_access`.
    compounds
        Compounds with ``id``, ``county_code`` and ``households`` (at least every compound in ``access``).
    required_m
        As in :func:`facility_gaps`.

    Returns
    -------
    DataFrame
        ``county_code``, ``facility_type``, ``households`` (of the audited compounds), ``households_covered``
        (those with a facility of the type within the required distance), ``share`` (covered ÷ households,
        0–1; NaN for a county without households), ``compounds``, ``compounds_covered``. Counties in the
        official order (others after, by code), types in the order of ``access``.
    """
    _check_access(access)
    check_frame(compounds, "compounds", required=["id", "county_code", "households"])
    check_unique_ids(compounds, "compounds")
    where = pd.Index(compounds["id"]).get_indexer(access["compound_id"])
    if (where < 0).any():
        raise InputError(
            f"`access` refers to compound {access['compound_id'].iloc[int(np.flatnonzero(where < 0)[0])]!r} that is "
            "not in `compounds`; pass the compounds the audit was made for."
        )
    frame = pd.DataFrame({
        "county_code": compounds["county_code"].astype(str).to_numpy(dtype=object)[where],
        "facility_type": access["facility_type"].to_numpy(dtype=object),
        "households": pd.to_numeric(compounds["households"]).to_numpy()[where],
        "served": _served(access, required_m),
    })
    frame["households_covered"] = np.where(frame["served"], frame["households"], 0)
    out = frame.groupby(["county_code", "facility_type"], sort=False).agg(
        households=("households", "sum"),
        households_covered=("households_covered", "sum"),
        compounds=("served", "size"),
        compounds_covered=("served", "sum"),
    ).reset_index()
    total = out["households"].to_numpy(dtype=float)
    out["share"] = np.divide(out["households_covered"].to_numpy(dtype=float), total,
                             out=np.full(len(out), np.nan), where=total > 0)
    county_rank = {c: k for k, c in enumerate(settings.COUNTY_ORDER)}
    type_rank = {t: k for k, t in enumerate(pd.unique(access["facility_type"]))}
    out = out.assign(
        _c=out["county_code"].map(lambda c: county_rank.get(c, len(county_rank))),
        _t=out["facility_type"].map(type_rank),
    ).sort_values(["_c", "county_code", "_t"], kind="stable")
    columns = ["county_code", "facility_type", "households", "households_covered", "share", "compounds", "compounds_covered"]
    return out[columns].reset_index(drop=True)

