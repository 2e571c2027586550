"""Renewal cluster candidates (成片改造): compounds close enough to renew together, described and scored.

Rule: two compounds are neighbours when their boundaries are at most ``gap_m`` metres apart (edge to
edge, EPSG:4548); a cluster is a connected group of neighbours, so A–B–C belong together when A–B and
B–C are neighbours even if A and C are far apart. ``same_county`` only links compounds of one county;
with ``barriers`` (rivers, railways, expressways) two compounds are neighbours only if the shortest line
between them crosses none, so a cluster never spans a river even where a bridge is near.

Extent rule (``max_extent_m``): a cluster's extent is the diagonal of the bounding box of its members'
shapes, so a cluster within the limit fits in a circle of diameter ``max_extent_m`` (pass 2,000 m for a
15-minute living circle of 1,000 m radius). A cluster beyond it is cut in two across the longer side of
its bounding box at the median member centroid (members sorted by centroid, first half / second half);
each half is split again into its own gap-connected groups, and cutting repeats until every group fits
or is a single compound (one compound larger than the limit stays as it is).

Score (0–1): a weighted mean of four components, each 0–1:

* ``score_households`` — households in the cluster ÷ the largest cluster's households;
* ``score_idle_land`` — idle area within ``reach_m`` of any member ÷ the largest such area (needs
  ``parcels``);
* ``score_gaps`` — household-gaps a shared facility could close (for each shared gap type, the
  households of the members lacking it, summed) ÷ the largest such figure (needs ``facilities``);
* ``score_willingness`` — the members' residents' willingness (households-weighted mean of
  ``willingness_pct``) ÷ 100.

Weights default to equal (``DEFAULT_WEIGHTS``), are normalised to sum to 1, and a component without
data (no ``parcels`` / no ``facilities``) gets weight 0, its score column NaN.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from analytics import settings
from analytics._spatial import pairs_within_distance, parcel_area_m2
from analytics.checks import (
    check_distance_m,
    check_gdf,
    check_range,
    check_same_crs,
    check_unique_ids,
    drop_missing_geometries,
)
from analytics.errors import InputError
from analytics.network import lines_crossing

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS: dict[str, float] = {"households": 0.25, "idle_land": 0.25, "gaps": 0.25, "willingness": 0.25}
"""Weights of the score components (normalised to sum to 1)."""
SHARED_GAP_SHARE = 0.5
"""A facility type is a shared gap when at least this share of the members (and at least two) lack it."""
MAX_EXTENT_LIMIT_M = 50_000

COLUMNS = [
    "cluster_id", "member_ids", "n_compounds", "households", "floor_area_m2", "built_year_min",
    "built_year_max", "tiers", "idle_area_m2", "shared_gaps", "willingness_pct", "score", "score_households",
    "score_idle_land", "score_gaps", "score_willingness", "county_codes", "extent_m",
]


# ----------------------------------------------------------------------------------------------- checks
def check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Score weights: known keys only, numbers ≥ 0, not all 0; missing keys get 0. ``None`` → defaults."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(weights, Mapping):
        raise InputError(f"`weights` was {weights!r} but must be a mapping such as {DEFAULT_WEIGHTS!r}.")
    unknown = [k for k in weights if k not in DEFAULT_WEIGHTS]
    if unknown:
        raise InputError(f"`weights` has the key {unknown[0]!r}; known keys are {tuple(DEFAULT_WEIGHTS)!r}.")
    out = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
                or not np.isfinite(value) or value < 0:
            raise InputError(f"`weights[{key!r}]` was {value!r} but must be a number ≥ 0.")
        out[key] = float(value)
    if sum(out.values()) <= 0:
        raise InputError(f"`weights` was {dict(weights)!r} but at least one weight must be above 0.", code="weights_zero")
    return out


def _check_min_size(min_size: object) -> int:
    if isinstance(min_size, bool) or not isinstance(min_size, int | np.integer):
        raise InputError(f"`min_size` was {min_size!r} but must be a whole number of compounds ≥ 1.")
    check_range(min_size, "min_size", 1, float("inf"))
    return int(min_size)


# ----------------------------------------------------------------------------------------------- grouping
def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """Positions per label value (labels ≥ 0), each sorted, in order of the label values."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    return np.split(order, cuts) if len(order) else []


def _extent(bounds: np.ndarray) -> float:
    return float(np.hypot(bounds[:, 2].max() - bounds[:, 0].min(), bounds[:, 3].max() - bounds[:, 1].min()))


def split_by_extent(
    groups: list[np.ndarray], adjacency: sparse.csr_matrix, bounds: np.ndarray, centres: np.ndarray,
    max_extent_m: float,
) -> list[np.ndarray]:
    """Cut groups whose bounding-box diagonal exceeds ``max_extent_m`` (see the module docstring)."""
    done: list[np.ndarray] = []
    todo = list(groups)
    while todo:
        members = todo.pop()
        b = bounds[members]
        if len(members) == 1 or _extent(b) <= max_extent_m:
            done.append(members)
            continue
        width, height = b[:, 2].max() - b[:, 0].min(), b[:, 3].max() - b[:, 1].min()
        axis = 0 if width >= height else 1
        order = members[np.argsort(centres[members, axis], kind="stable")]
        half = len(order) // 2
        for part in (order[:half], order[half:]):
            part = np.sort(part)
            _, labels = connected_components(adjacency[part][:, part], directed=False)
            todo.extend(part[g] for g in _groups(labels))
    return done


def cluster_labels(
    compounds: gpd.GeoDataFrame,
    *,
    gap_m: float,
    same_county: bool,
    max_extent_m: float | None,
    barriers: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster number per compound (input order), before ``min_size``; see the module docstring.

    ``barriers``: shapes (lines or polygons) no neighbour link may cross.
    """
    n = len(compounds)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    geoms = np.asarray(compounds.geometry.values, dtype=object)
    i, j, _ = pairs_within_distance(geoms, geoms, gap_m)
    keep = i < j
    if same_county:
        county, _ = pd.factorize(compounds["county_code"].astype(str))
        keep &= county[i] == county[j]
    i, j = i[keep], j[keep]
    if barriers is not None and len(barriers) and len(i):
        apart = ~lines_crossing(shapely.shortest_line(geoms[i], geoms[j]), barriers)
        i, j = i[apart], j[apart]
    adjacency = sparse.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n)).tocsr()
    adjacency = (adjacency + adjacency.T).tocsr()
    _, labels = connected_components(adjacency, directed=False)
    if max_extent_m is not None:
        labels = _apply_max_extent(labels, adjacency, geoms, max_extent_m)
    # number the clusters in the order of their first compound
    first_seen, _ = pd.factorize(labels, sort=False)
    return first_seen.astype(np.int64)


def _apply_max_extent(
    labels: np.ndarray, adjacency: sparse.csr_matrix, geoms: np.ndarray, max_extent_m: float
) -> np.ndarray:
    """Labels after cutting every oversized group (extents are computed for all groups at once)."""
    bounds = shapely.bounds(geoms)
    frame = pd.DataFrame(bounds, columns=["x0", "y0", "x1", "y1"]).assign(label=labels)
    box = frame.groupby("label").agg(x0=("x0", "min"), y0=("y0", "min"), x1=("x1", "max"), y1=("y1", "max"))
    extent = np.hypot(box.x1 - box.x0, box.y1 - box.y0)
    size = np.bincount(labels)
    oversized = extent.index.to_numpy()[(extent.to_numpy() > max_extent_m) & (size[extent.index] > 1)]
    if len(oversized) == 0:
        return labels
    centres = shapely.get_coordinates(shapely.centroid(geoms))
    positions = np.flatnonzero(np.isin(labels, oversized))
    groups = [positions[g] for g in _groups(labels[positions])]
    out = labels.copy()
    next_label = int(labels.max()) + 1
    for part in split_by_extent(groups, adjacency, bounds, centres, max_extent_m):
        out[part] = next_label
        next_label += 1
    return out


# ----------------------------------------------------------------------------------------------- attributes
def _idle_area(member_geoms: np.ndarray, member_cluster: np.ndarray, parcels: gpd.GeoDataFrame,
               n_clusters: int, reach_m: float) -> np.ndarray:
    """Area (m²) of the distinct parcels within ``reach_m`` of any member, per cluster."""
    area = parcel_area_m2(parcels).to_numpy(dtype=float)
    i, j, _ = pairs_within_distance(member_geoms, np.asarray(parcels.geometry.values, dtype=object), reach_m)
    cluster_parcel = np.unique(member_cluster[i] * np.int64(len(parcels) + 1) + j)
    cl, pj = np.divmod(cluster_parcel, len(parcels) + 1)
    return np.bincount(cl, weights=area[pj], minlength=n_clusters)


def _shared_gaps(member_geoms: np.ndarray, member_cluster: np.ndarray, member_households: np.ndarray,
                 facilities: gpd.GeoDataFrame, n_clusters: int) -> tuple[list[list[str]], np.ndarray]:
    """Shared gap types per cluster and the household-gaps they stand for (see ``SHARED_GAP_SHARE``)."""
    size = np.bincount(member_cluster, minlength=n_clusters)
    shared: list[list[str]] = [[] for _ in range(n_clusters)]
    gap_households = np.zeros(n_clusters)
    fac_type = facilities["facility_type"].to_numpy(dtype=object)
    fac_geoms = np.asarray(facilities.geometry.values, dtype=object)
    for ftype, spec in settings.FACILITY_TYPES.items():
        i, _, _ = pairs_within_distance(member_geoms, fac_geoms[fac_type == ftype], spec["service_distance_m"])
        lacking = np.ones(len(member_geoms), dtype=bool)
        lacking[i] = False
        n_lacking = np.bincount(member_cluster[lacking], minlength=n_clusters)
        hh_lacking = np.bincount(member_cluster[lacking], weights=member_households[lacking], minlength=n_clusters)
        is_shared = (n_lacking >= 2) & (n_lacking >= SHARED_GAP_SHARE * size)
        for c in np.flatnonzero(is_shared):
            shared[c].append(ftype)
        gap_households += np.where(is_shared, hh_lacking, 0.0)
    return shared, gap_households


def _hulls(member_geoms: np.ndarray, member_cluster: np.ndarray) -> np.ndarray:
    """Convex hull of the union of each cluster's members (polygon, EPSG of the input)."""
    coords, owner = shapely.get_coordinates(member_geoms, return_index=True)
    cluster = member_cluster[owner]
    order = np.argsort(cluster, kind="stable")
    points = shapely.points(coords[order])
    return shapely.convex_hull(shapely.multipoints(points, indices=cluster[order]))


def _relative(values: np.ndarray) -> np.ndarray:
    top = np.nanmax(values) if len(values) else 0.0
    return values / top if top > 0 else np.zeros(len(values))


def _empty(crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


class _Options(NamedTuple):
    """``find_clusters``' options after their checks."""

    gap_m: float
    reach_m: float
    max_extent_m: float | None
    min_size: int
    weights: dict[str, float]


def _check_inputs(
    compounds: object, parcels: object, facilities: object, *, gap_m: object, same_county: object,
    max_extent_m: object, min_size: object, reach_m: object, weights: Mapping[str, float] | None,
    barriers: object = None,
) -> _Options:
    """Every check of :func:`find_clusters`' frames and options, in the order its errors are documented."""
    required = ["id", "households", "floor_area_m2", "built_year", "willingness_pct"]
    check_gdf(compounds, "compounds", required=required + (["county_code"] if same_county else []))
    named = [("compounds", compounds)]
    if parcels is not None:
        check_gdf(parcels, "parcels", required=["id"])
        named.append(("parcels", parcels))
    if facilities is not None:
        check_gdf(facilities, "facilities", required=["id", "facility_type"])
        named.append(("facilities", facilities))
    if barriers is not None:
        check_gdf(barriers, "barriers", required=[])
    check_same_crs(*named, *([("barriers", barriers)] if barriers is not None else []))
    gap = check_distance_m(gap_m, "gap_m")
    reach = check_distance_m(reach_m, "reach_m")
    max_extent = None
    if max_extent_m is not None:
        max_extent = check_distance_m(max_extent_m, "max_extent_m", low=1, high=MAX_EXTENT_LIMIT_M)
    size_min = _check_min_size(min_size)
    w = check_weights(weights)
    if not isinstance(same_county, bool):
        raise InputError(f"`same_county` was {same_county!r} but must be True or False.")
    for name, frame in named:
        check_unique_ids(frame, name)
    return _Options(gap, reach, max_extent, size_min, w)


def _numbers(compounds: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """The compounds' numeric columns as float arrays; households must be present and ≥ 0."""
    numbers = {column: pd.to_numeric(compounds[column], errors="coerce").to_numpy(dtype=float)
               for column in ("households", "floor_area_m2", "built_year", "willingness_pct")}
    if np.isnan(numbers["households"]).any() or (numbers["households"] < 0).any():
        raise InputError("`compounds` has a missing or negative `households` value; fix it first.")
    return numbers


@dataclass(frozen=True)
class _Group:
    """The compounds in listed clusters: positions grouped by cluster, and each one's cluster number."""

    members: np.ndarray  # positions into compounds, grouped by cluster, input order inside
    member_cluster: np.ndarray  # cluster number 0…n-1 of each member
    n: int
    sizes: np.ndarray
    cuts: np.ndarray  # where np.split cuts the members into clusters
    geoms: np.ndarray


def _grouped(compounds: gpd.GeoDataFrame, labels: np.ndarray, min_size: int) -> _Group | None:
    """The clusters of ``min_size`` or more compounds (``None`` when there is none)."""
    size = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    listed = size[labels] >= min_size if len(labels) else np.zeros(0, dtype=bool)
    if not listed.any():
        return None
    members = np.flatnonzero(listed)
    members = members[np.argsort(labels[members], kind="stable")]
    _, member_cluster = np.unique(labels[members], return_inverse=True)
    sizes = np.bincount(member_cluster)
    return _Group(members, member_cluster, int(member_cluster.max()) + 1, sizes, np.cumsum(sizes)[:-1],
                  np.asarray(compounds.geometry.values, dtype=object)[members])


def _figures(compounds: gpd.GeoDataFrame, numbers: dict[str, np.ndarray], group: _Group) -> pd.DataFrame:
    """Per cluster: members, households, floor area, build years, tiers, willingness, counties, extent."""
    members, member_cluster, n, cuts = group.members, group.member_cluster, group.n, group.cuts

    def per_cluster(values: np.ndarray) -> np.ndarray:
        return np.bincount(member_cluster, weights=values[members], minlength=n)

    built = pd.Series(numbers["built_year"][members]).groupby(member_cluster)
    will = numbers["willingness_pct"][members]
    has_will = ~np.isnan(will)
    households = numbers["households"][members]
    will_weight = np.bincount(member_cluster[has_will], weights=households[has_will], minlength=n)
    will_sum = np.bincount(member_cluster[has_will], weights=(will * households)[has_will], minlength=n)
    bounds = pd.DataFrame(shapely.bounds(group.geoms)).groupby(member_cluster)
    low, high = bounds.min().to_numpy(), bounds.max().to_numpy()
    ids = compounds["id"].to_numpy(dtype=object)[members]
    if "tier" in compounds.columns:
        tier_rank = {t: k for k, t in enumerate(settings.TIERS)}
        tiers = [sorted({t for t in part if isinstance(t, str)}, key=lambda t: (tier_rank.get(t, 99), t))
                 for part in np.split(compounds["tier"].to_numpy(dtype=object)[members], cuts)]
    else:
        tiers = [[] for _ in range(n)]
    counties = compounds["county_code"].astype(str).to_numpy(dtype=object)[members] \
        if "county_code" in compounds.columns else np.full(len(members), None, dtype=object)
    return pd.DataFrame({
        "member_ids": [part.tolist() for part in np.split(ids, cuts)],
        "n_compounds": group.sizes.astype(np.int64),
        "households": per_cluster(numbers["households"]).round().astype(np.int64),
        "floor_area_m2": per_cluster(numbers["floor_area_m2"]),
        "built_year_min": built.min().to_numpy(),
        "built_year_max": built.max().to_numpy(),
        "tiers": tiers,
        "willingness_pct": np.divide(will_sum, will_weight, out=np.full(n, np.nan), where=will_weight > 0),
        "county_codes": [sorted({c for c in part if c is not None}) for part in np.split(counties, cuts)],
        "extent_m": np.hypot(high[:, 2] - low[:, 0], high[:, 3] - low[:, 1]),
        "_first": members[np.r_[0, cuts]],
        "_households": per_cluster(numbers["households"]),
    })


def _scores(figures: pd.DataFrame, *, idle: np.ndarray | None, gap_households: np.ndarray | None,
            weights: dict[str, float]) -> dict[str, np.ndarray]:
    """The score parts (0–1 relative to the best cluster; NaN without the data) and the weighted score."""
    n = len(figures)
    parts = {
        "households": _relative(figures["_households"].to_numpy(dtype=float)),
        "idle_land": _relative(idle) if idle is not None else np.full(n, np.nan),
        "gaps": _relative(gap_households) if gap_households is not None else np.full(n, np.nan),
        "willingness": np.nan_to_num(figures["willingness_pct"].to_numpy(dtype=float) / 100.0, nan=0.0),
    }
    used = {k: v for k, v in weights.items() if not (k == "idle_land" and idle is None)
            and not (k == "gaps" and gap_households is None)}
    total_weight = sum(used.values())
    if total_weight <= 0:
        raise InputError(
            f"`weights` {weights!r} put all weight on components without data; pass `parcels` / `facilities` or "
            "weigh households or willingness.",
            code="clusters.weights_without_data",
        )
    score = sum(used[k] * parts[k] for k in used) / total_weight
    return {"score": score, **{f"score_{k}": v for k, v in parts.items()}}


def find_clusters(
    compounds: gpd.GeoDataFrame,
    *,
    gap_m: float = settings.CLUSTER_GAP_M,
    same_county: bool = True,
    max_extent_m: float | None = None,
    min_size: int = 2,
    parcels: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    reach_m: float = 500,
    weights: Mapping[str, float] | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Groups of compounds close enough to renew together, with what they share and a score.

    Parameters
    ----------
    compounds
        Compounds with unique ``id``, ``households``, ``floor_area_m2``, ``built_year``,
        ``willingness_pct`` (0–100), ``county_code`` (when ``same_county``) and optionally ``tier``
        (基础类 / 完善类 / 提升类); metric CRS (EPSG:4548).
    gap_m
        Largest edge-to-edge gap (m, 0–3,000) between two compounds that are neighbours; default
        ``settings.CLUSTER_GAP_M`` (150 m).
    same_county
        Link only compounds of the same county (a cluster never crosses a county border).
    max_extent_m
        Largest bounding-box diagonal (m) of a cluster; larger ones are cut (module docstring). ``None``
        keeps clusters whole. 2,000 m fits a 15-minute living circle.
    min_size
        Smallest number of compounds a cluster must have to be listed (≥ 1).
    parcels
        Idle parcels (``id``, ``area_m2`` or geometry) for ``idle_area_m2``; ``None`` leaves it NaN.
    facilities
        Existing facilities (``id``, ``facility_type``) for ``shared_gaps``, judged against each type's
        ``service_distance_m`` in ``settings.FACILITY_TYPES``; ``None`` leaves them empty and unscored.
    reach_m
        Idle land counts when within this many metres (edge to edge) of any member, 0–3,000.
    weights
        Score weights ``{"households", "idle_land", "gaps", "willingness"}`` (any subset; ≥ 0; normalised).
    barriers
        Rivers, railways, expressways (lines or polygons, same CRS): compounds are neighbours only when
        the shortest line between them crosses none. ``None`` ignores barriers.

    Returns
    -------
    GeoDataFrame
        One row per cluster, best score first: ``cluster_id`` (1, 2, … in that order), ``member_ids``
        (list, input order), ``n_compounds``, ``households``, ``floor_area_m2`` (m²), ``built_year_min``,
        ``built_year_max``, ``tiers`` (list of the members' renovation tiers), ``idle_area_m2`` (m² of
        distinct parcels within ``reach_m``), ``shared_gaps`` (list of facility types lacked by at least
        half the members, and at least two), ``willingness_pct`` (households-weighted, %), ``score`` and
        ``score_households``, ``score_idle_land``, ``score_gaps``, ``score_willingness`` (all 0–1),
        ``county_codes`` (list), ``extent_m`` (bounding-box diagonal, m); geometry = convex hull of the
        members, same CRS as ``compounds``.

    Raises
    ------
    InputError
        Bad frames (columns, duplicate ids, households) or options.
    CRSError
        No CRS, a geographic CRS, or different CRSs.
    """
    options = _check_inputs(compounds, parcels, facilities, gap_m=gap_m, same_county=same_county,
                            max_extent_m=max_extent_m, min_size=min_size, reach_m=reach_m, weights=weights,
                            barriers=barriers)
    compounds = drop_missing_geometries(compounds, "compounds")
    if parcels is not None:
        parcels = drop_missing_geometries(parcels, "parcels")
    if facilities is not None:
        facilities = drop_missing_geometries(facilities, "facilities")
    numbers = _numbers(compounds)
    started = time.perf_counter()

    barrier_geoms = None
    if barriers is not None:
        barrier_geoms = np.asarray(barriers.geometry.values, dtype=object)
        barrier_geoms = barrier_geoms[~(shapely.is_missing(barrier_geoms) | shapely.is_empty(barrier_geoms))]
    labels = cluster_labels(compounds, gap_m=options.gap_m, same_county=same_county,
                            max_extent_m=options.max_extent_m, barriers=barrier_geoms)
    group = _grouped(compounds, labels, options.min_size)
    if group is None:
        log.info("find_clusters: no cluster of %d or more among %d compounds", options.min_size, len(compounds))
        return _empty(compounds.crs)
    out = _figures(compounds, numbers, group)
    idle = np.full(group.n, np.nan)
    if parcels is not None:
        idle = _idle_area(group.geoms, group.member_cluster, parcels, group.n, options.reach_m)
    shared: list[list[str]] = [[] for _ in range(group.n)]
    gap_households = np.full(group.n, np.nan)
    if facilities is not None:
        shared, gap_households = _shared_gaps(group.geoms, group.member_cluster,
                                              numbers["households"][group.members], facilities, group.n)
    out["idle_area_m2"] = idle
    out["shared_gaps"] = shared
    scores = _scores(out, idle=idle if parcels is not None else None,
                     gap_households=gap_households if facilities is not None else None, weights=options.weights)
    for name, values in scores.items():
        out[name] = values
    out = gpd.GeoDataFrame(out[COLUMNS[1:] + ["_first"]], geometry=_hulls(group.geoms, group.member_cluster),
                           crs=compounds.crs)
    out = out.sort_values(["score", "households", "_first"], ascending=[False, False, True], kind="stable")
    out.insert(0, "cluster_id", np.arange(1, group.n + 1, dtype=np.int64))
    out = out.drop(columns="_first").reset_index(drop=True)
    log.info(
        "find_clusters: %d clusters (%d compounds) from %d compounds, gap %g m, in %.2f s",
        group.n, len(group.members), len(compounds), options.gap_m, time.perf_counter() - started,
    )
    return out
