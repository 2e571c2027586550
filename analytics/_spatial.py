"""Spatial machinery the analyses share: exact edge-to-edge pairs within a distance, and parcel areas.

Pairs are found with a spatial index: an STR tree over one side is queried with the other side's
bounding boxes grown by the distance, and only those candidates get the exact geometric distance
(``shapely.distance``) — no Python loop over pairs and no all-pairs matrix. On large inputs the work runs
in chunks on threads (GEOS releases the GIL while it measures distances). Private to ``analytics``:
idle land, clusters, siting and the living circle call it; pages call those.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics.errors import InputError

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
