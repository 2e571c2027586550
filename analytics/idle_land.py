"""Idle land (存量资源) near compounds: exact edge-to-edge compound–parcel pairs within a distance, and summaries.

Every distance is the exact minimum distance between the real shapes (``shapely.distance``, edge to edge,
0 when they touch or overlap), in metres in the inputs' metric CRS (EPSG:4548). Pairs are found with a
spatial index: an STR tree over one side is queried with the other side's bounding boxes grown by the
distance, and only those candidates get the exact geometric distance — no Python loop over pairs and
no all-pairs matrix. On large inputs the work runs in chunks on threads (GEOS releases the GIL while it
measures distances).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics.checks import check_frame, check_gdf, check_range, check_same_crs
from analytics.errors import InputError

if TYPE_CHECKING:
    from analytics.network import WalkGraph

log = logging.getLogger(__name__)

MAX_DISTANCE_LIMIT_M = 3000
"""Largest ``max_distance_m`` accepted by :func:`parcels_within` (m)."""

_CHUNK = 4096  # left-hand geometries per index query; bounds memory and feeds the threads
_THREADS_FROM = 8192  # below this many left-hand geometries one thread is faster


def worker_count() -> int:
    """Threads to use for GEOS work: the CPUs this process may run on, at most 4."""
    try:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, min(4, os.cpu_count() or 1))


def pairs_within_distance(
    left: np.ndarray | gpd.GeoSeries,
    right: np.ndarray | gpd.GeoSeries,
    max_distance_m: float,
    *,
    alongside: Callable[[], object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of geometries within ``max_distance_m`` of each other, with the exact distance.

    Parameters
    ----------
    left, right
        Shapely geometries (arrays or GeoSeries) in one metric CRS (EPSG:4548); missing or empty
        geometries never pair.
    max_distance_m
        Largest edge-to-edge distance in metres (inclusive: ``distance <= max_distance_m``), ≥ 0.
    alongside
        Work for the calling thread while the distance threads run (e.g. input checks whose answer is
        not needed to start); an exception it raises stops the workers and propagates.

    Returns
    -------
    (i, j, distance_m)
        Positions into ``left`` and ``right`` (int64) and ``shapely.distance(left[i], right[j])`` in
        metres (float64), ordered by ``i`` (the order of ``right`` within one ``i`` is unspecified).
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    d = float(max_distance_m)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(left) == 0 or len(right) == 0:
        if alongside is not None:
            alongside()
        return empty
    tree = shapely.STRtree(right)
    bounds = shapely.bounds(left)

    def chunk(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = bounds[start: start + _CHUNK]
        env = shapely.box(b[:, 0] - d, b[:, 1] - d, b[:, 2] + d, b[:, 3] + d)  # NaN bounds give no box
        ci, cj = tree.query(env)
        ci = ci + start
        dist = shapely.distance(left[ci], right[cj])
        keep = dist <= d
        return ci[keep], cj[keep], dist[keep]

    starts = range(0, len(left), _CHUNK)
    workers = worker_count()
    if len(left) >= _THREADS_FROM and workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(chunk, s) for s in starts]
            try:
                if alongside is not None:
                    alongside()  # GIL-bound checks overlap with the GIL-free distances
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            parts = [future.result() for future in futures]
    else:
        if alongside is not None:
            alongside()
        parts = [chunk(s) for s in starts]
    # the index answers in input order of ``left``; chunks are concatenated in that order
    i = np.concatenate([p[0] for p in parts]).astype(np.int64, copy=False)
    j = np.concatenate([p[1] for p in parts]).astype(np.int64, copy=False)
    dist = np.concatenate([p[2] for p in parts]).astype(np.float64, copy=False)
    return i, j, dist


# ----------------------------------------------------------------------------------------------- checks
def check_unique_ids(frame: pd.DataFrame, name: str, column: str = "id") -> None:
    """Raise ``InputError`` if ``frame[column]`` has duplicates or missing values."""
    ids = pd.Index(frame[column])
    if ids.hasnans:
        raise InputError(f"`{name}` has {int(ids.isna().sum())} row(s) without `{column}`; every row needs one.")
    if not ids.is_unique:
        raise InputError(
            f"`{name}` has duplicate `{column}` values such as {ids[ids.duplicated()][0]!r}; they must be unique."
        )


def check_distance_m(value: object, name: str, *, high: float = MAX_DISTANCE_LIMIT_M, low: float = 0) -> float:
    """Return ``value`` as a float after checking it is a number between ``low`` and ``high`` metres."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"`{name}` was {value!r} but must be a number of metres between {low:g} and {high:g}.")
    check_range(value, name, low, high)
    return float(value)


def as_choices(value: object, name: str, allowed: Iterable[str]) -> list[str] | None:
    """``None`` → ``None``; a string or an iterable of strings → a list, each checked against ``allowed``."""
    if value is None:
        return None
    allowed = tuple(allowed)
    values = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else None
    if not values:
        raise InputError(f"`{name}` was {value!r} but must be one or more of {allowed!r} (or None for all).")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InputError(f"`{name}` had {unknown[0]!r} but must be one or more of {allowed!r}.")
    return values


def check_county_code(value: object, name: str = "county_code") -> str | None:
    """``None`` or a six-digit division code string (e.g. ``"370811"``)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 6 or not value.isdigit():
        raise InputError(f"`{name}` was {value!r} but must be a six-digit county code such as '370811'.")
    return value


def warn_missing_geometries(gdf: gpd.GeoDataFrame, name: str, *, stacklevel: int = 2) -> np.ndarray:
    """Mask of rows whose geometry is missing or empty; a ``UserWarning`` naming how many if any.

    ``stacklevel`` counts from the caller of this function (1 = that caller), as ``warnings.warn`` does.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        first = gdf["id"].iloc[int(np.flatnonzero(bad)[0])] if "id" in gdf.columns else int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"`{name}` has {int(bad.sum())} row(s) without geometry (e.g. {first!r}); they were left out.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return bad


def drop_missing_geometries(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``gdf`` without rows whose geometry is missing or empty, with a ``UserWarning`` naming how many."""
    bad = warn_missing_geometries(gdf, name, stacklevel=3)
    return gdf[~bad] if bad.any() else gdf


def parcel_area_m2(parcels: pd.DataFrame) -> pd.Series:
    """Each parcel's area in m²: the ``area_m2`` column where given, else the geometry's area (metric CRS)."""
    geo_area = None
    if isinstance(parcels, gpd.GeoDataFrame) and parcels.geometry.name in parcels.columns:
        geo_area = pd.Series(shapely.area(np.asarray(parcels.geometry.values, dtype=object)), index=parcels.index)
    if "area_m2" in parcels.columns:
        area = pd.to_numeric(parcels["area_m2"], errors="coerce").astype(float)
        return area.fillna(geo_area) if geo_area is not None else area
    if geo_area is None:
        raise InputError("`parcels` has neither an `area_m2` column nor geometries to measure; add `area_m2`.")
    return geo_area


# ----------------------------------------------------------------------------------------------- pairs
def filter_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    parcel_types: str | Iterable[str] | None = None,
    min_area_m2: float | None = None,
    ownership: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Parcels of the given types and ownerships with at least ``min_area_m2`` m² (see :func:`parcel_area_m2`).

    ``parcel_types`` from ``settings.PARCEL_TYPES``, ``ownership`` from ``settings.OWNERSHIP_TYPES``; each a
    string, a list, or ``None`` for all. Options are validated; the input is not modified.
    """
    types = as_choices(parcel_types, "parcel_types", settings.PARCEL_TYPES)
    owners = as_choices(ownership, "ownership", settings.OWNERSHIP_TYPES)
    if min_area_m2 is not None:
        if isinstance(min_area_m2, bool) or not isinstance(min_area_m2, int | float | np.integer | np.floating):
            raise InputError(f"`min_area_m2` was {min_area_m2!r} but must be a number of m² ≥ 0.")
        check_range(min_area_m2, "min_area_m2", 0, float("inf"))
    for column, wanted in (("parcel_type", types), ("ownership", owners)):
        if wanted is not None and column not in parcels.columns:
            raise InputError(f"`parcels` lacks the column {column!r} needed to filter by it.")
    if types is None and owners is None and min_area_m2 is None:
        return parcels
    keep = np.ones(len(parcels), dtype=bool)
    if types is not None:
        keep &= parcels["parcel_type"].isin(types).to_numpy()
    if owners is not None:
        keep &= parcels["ownership"].isin(owners).to_numpy()
    if min_area_m2 is not None:
        keep &= (parcel_area_m2(parcels) >= float(min_area_m2)).to_numpy()
    return parcels[keep]


def parcels_within(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 500,
    parcel_types: str | Iterable[str] | None = None,
    min_area_m2: float | None = None,
    ownership: str | Iterable[str] | None = None,
    county_code: str | None = None,
    metric: Literal["straight", "walk"] | None = None,
    graph: WalkGraph | None = None,
    gates: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Every compound–parcel pair within ``max_distance_m``, with the exact edge-to-edge or walking distance.

    Parameters
    ----------
    compounds
        Compound boundaries with a unique ``id`` (and ``county_code`` when ``county_code`` is given), in a
        metric CRS (EPSG:4548).
    parcels
        Idle / low-efficiency parcels, vacant buildings and scattered plots with a unique ``id``; the
        columns ``parcel_type``, ``ownership`` and ``area_m2`` are needed only by their filters (area
        falls back to the geometry's area). Same CRS as ``compounds``.
    max_distance_m
        Largest edge-to-edge distance in metres, 0–3000 (0 keeps touching or overlapping pairs only).
    parcel_types
        Keep only these types (``settings.PARCEL_TYPES``: 闲置用地, 低效用地, 空置房屋, 零星地块); ``None`` all.
    min_area_m2
        Keep only parcels of at least this many m².
    ownership
        Keep only these ownerships (``settings.OWNERSHIP_TYPES``: 国有, 集体, 企业, 机关事业单位); ``None`` all.
    county_code
        Keep only the compounds of this county (six-digit code); parcels of any county within reach stay,
        since land across a county border can still serve the compound.
    metric
        ``"straight"`` (edge to edge) or ``"walk"`` (along the streets of ``graph``, see
        ``analytics.network``: a parcel "within 500 m" is then 500 m away on foot); ``None`` walks when
        ``graph`` is given.
    graph
        Road graph from ``analytics.network.walk_graph`` (same CRS); needed for ``"walk"``.
    gates
        Compound gates (points with ``compound_id``) for ``"walk"``.

    Returns
    -------
    DataFrame
        ``compound_id``, ``parcel_id``, ``distance_m`` (exact minimum distance between the compound and
        the parcel, metres, 0 when they touch or overlap; or the walking distance). One row per pair, in
        the compounds' input order. Empty (with these columns) when nothing is within reach.
        ``attrs["metric"]`` says which metric was used.

    Raises
    ------
    InputError
        Not GeoDataFrames, missing columns, duplicate ids, or an option out of range / not allowed.
    CRSError
        No CRS, a geographic CRS, or the two frames in different CRSs.
    """
    check_gdf(compounds, "compounds", required=["id"] + (["county_code"] if county_code is not None else []))
    check_gdf(parcels, "parcels", required=["id"])
    check_same_crs(("compounds", compounds), ("parcels", parcels))
    d = check_distance_m(max_distance_m, "max_distance_m")
    county = check_county_code(county_code)
    from analytics.network import check_metric, walk_positions  # network builds on this module's helpers

    chosen_metric = check_metric(metric, graph)
    chosen = filter_parcels(parcels, parcel_types=parcel_types, min_area_m2=min_area_m2, ownership=ownership)
    check_unique_ids(compounds, "compounds")
    if county is not None:
        compounds = compounds[compounds["county_code"].astype(str) == county]
    compounds = drop_missing_geometries(compounds, "compounds")

    def check_parcels() -> None:
        # parcels without geometry never enter the spatial index, so these checks can run alongside
        check_unique_ids(parcels, "parcels")
        warn_missing_geometries(chosen, "parcels", stacklevel=4)

    start = time.perf_counter()
    if chosen_metric == "walk":
        check_parcels()
        geoms = np.asarray(chosen.geometry.values, dtype=object)
        chosen = chosen[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]  # warned about just above
        i, j, dist = walk_positions(graph, compounds, chosen, d, gates=gates)
    else:
        i, j, dist = pairs_within_distance(compounds.geometry.values, chosen.geometry.values, d,
                                           alongside=check_parcels)
    out = pd.DataFrame({
        "compound_id": compounds["id"].array.take(i),
        "parcel_id": chosen["id"].array.take(j),
        "distance_m": dist,
    })
    out.attrs["metric"] = chosen_metric
    log.info(
        "parcels_within (%s): %d pairs within %g m between %d compounds and %d parcels in %.2f s",
        chosen_metric, len(out), d, len(compounds), len(chosen), time.perf_counter() - start,
    )
    return out


# ----------------------------------------------------------------------------------------------- summaries
def _check_pairs(pairs: object) -> None:
    check_frame(pairs, "pairs", required=["compound_id", "parcel_id", "distance_m"])


def _unknown(values: pd.Series, known: pd.Series, what: str, where: str) -> None:
    missing = values[~values.isin(known)]
    if len(missing):
        raise InputError(
            f"`pairs` refers to {what} {missing.iloc[0]!r} that is not in `{where}`; pass the same frames "
            "that made the pairs."
        )


def parcel_reach(pairs: pd.DataFrame, compounds: pd.DataFrame, parcels: pd.DataFrame) -> pd.DataFrame:
    """Per parcel: the compounds and households within reach (from :func:`parcels_within` pairs).

    Parameters
    ----------
    pairs
        Output of :func:`parcels_within`.
    compounds
        Compounds with ``id`` and ``households`` (every compound named in ``pairs``).
    parcels
        Parcels with ``id``; every parcel appears in the result, also those with no compound in reach.

    Returns
    -------
    DataFrame
        ``parcel_id``, ``n_compounds`` (compounds within reach), ``households_within`` (their households),
        ``compound_ids`` (list, nearest first), ``nearest_m`` (distance to the nearest compound, metres;
        NaN when none). Sorted by households within reach, most first, then ``parcel_id``.
    """
    _check_pairs(pairs)
    check_frame(compounds, "compounds", required=["id", "households"])
    check_frame(parcels, "parcels", required=["id"])
    check_unique_ids(compounds, "compounds")
    check_unique_ids(parcels, "parcels")
    _unknown(pairs["compound_id"], compounds["id"], "compound", "compounds")
    _unknown(pairs["parcel_id"], parcels["id"], "parcel", "parcels")
    households = pd.Series(pd.to_numeric(compounds["households"]).to_numpy(), index=compounds["id"].to_numpy())
    p = pairs[["parcel_id", "compound_id", "distance_m"]].sort_values(
        ["parcel_id", "distance_m", "compound_id"], kind="stable"
    )
    p = p.assign(households=households.reindex(p["compound_id"].to_numpy()).to_numpy())
    grouped = p.groupby("parcel_id", sort=False)
    agg = pd.DataFrame({
        "n_compounds": grouped.size(),
        "households_within": grouped["households"].sum(),
        "compound_ids": grouped["compound_id"].agg(list),
        "nearest_m": grouped["distance_m"].min(),
    })
    out = pd.DataFrame({"parcel_id": parcels["id"].to_numpy()}).join(agg, on="parcel_id")
    out["n_compounds"] = out["n_compounds"].fillna(0).astype("int64")
    out["households_within"] = out["households_within"].fillna(0).astype("int64")
    out["compound_ids"] = [ids if isinstance(ids, list) else [] for ids in out["compound_ids"]]
    out = out.sort_values(["households_within", "parcel_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[["parcel_id", "n_compounds", "households_within", "compound_ids", "nearest_m"]]


def compound_idle_area(pairs: pd.DataFrame, parcels: pd.DataFrame) -> pd.DataFrame:
    """Per compound: how many parcels and how much idle area lie within reach (from :func:`parcels_within`).

    Parameters
    ----------
    pairs
        Output of :func:`parcels_within`.
    parcels
        Parcels with ``id`` and ``area_m2`` or geometries (area per :func:`parcel_area_m2`).

    Returns
    -------
    DataFrame
        ``compound_id``, ``n_parcels``, ``idle_area_m2`` (total area of those parcels, m²), ``nearest_m``
        (distance to the nearest one, metres), one row per compound that has at least one parcel in
        reach, in the order of ``pairs``. Compounds with none are absent (reindex with 0 if needed).
    """
    _check_pairs(pairs)
    check_frame(parcels, "parcels", required=["id"])
    check_unique_ids(parcels, "parcels")
    _unknown(pairs["parcel_id"], parcels["id"], "parcel", "parcels")
    area = pd.Series(parcel_area_m2(parcels).to_numpy(), index=parcels["id"].to_numpy())
    p = pairs.assign(area_m2=area.reindex(pairs["parcel_id"].to_numpy()).to_numpy())
    grouped = p.groupby("compound_id", sort=False)
    out = pd.DataFrame({
        "n_parcels": grouped.size().astype("int64"),
        "idle_area_m2": grouped["area_m2"].sum(),
        "nearest_m": grouped["distance_m"].min(),
    })
    out.index.name = "compound_id"
    return out.reset_index()
