"""WGS84 ↔ GCJ-02 ("Mars" coordinates used by Gaode/Amap tiles and geocoders): points, arrays and geometries.

GCJ-02 is WGS84 plus a deterministic, non-linear offset (≈ 500 m east-north-east in Jining). The forward
formula is the public reverse-engineered one (Krasovsky ellipsoid constants ``a = 6378245.0``,
``ee = 0.00669342162296594323``) that reproduces Gaode's own conversion to well under a metre. There is no
closed-form inverse: :func:`gcj02_to_wgs84` iterates the forward formula (fixed point on the offset) until
the round trip agrees to ``tolerance_deg``, which is millimetres. Points outside mainland China's rough
bounding box are returned unchanged, as Gaode does.

Every function takes and returns longitude first (x, y), in degrees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike

from analytics.errors import CRSError, InputError

log = logging.getLogger(__name__)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, m
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
# Rough mainland bounding box outside which no offset is applied (lon/lat degrees).
CHINA_LON_DEG = (72.004, 137.8347)
CHINA_LAT_DEG = (0.8293, 55.8271)



def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        raise InputError(f"`lon` has shape {x.shape!r} but `lat` has {y.shape!r}; pass arrays of the same shape.")
    return x, y


def _shape(value: np.ndarray, scalar: bool) -> np.ndarray | float:
    return float(value[0]) if scalar else value


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray | bool:
    """Whether each point lies inside the rough mainland box where the GCJ-02 offset applies."""
    x, y = _arrays(lon, lat)
    inside = (x >= CHINA_LON_DEG[0]) & (x <= CHINA_LON_DEG[1]) & (y >= CHINA_LAT_DEG[0]) & (y <= CHINA_LAT_DEG[1])
    return bool(inside) if inside.ndim == 0 else inside


def _offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees (d lon, d lat) at WGS84 points ``x``, ``y`` (all inside China)."""
    u, v = x - 105.0, y - 35.0
    d_lat = (
        -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * np.sqrt(np.abs(u))
        + (20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * np.sqrt(np.abs(u))
        + (20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Shift WGS84 lon/lat (degrees) to GCJ-02 for drawing on Gaode tiles.

    Parameters
    ----------
    lon, lat
        WGS84 (≈ CGCS2000) longitude and latitude in degrees; scalars or arrays of one shape.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees, floats for scalar input. Points outside China (see :func:`in_china`) and NaN
        coordinates are returned unchanged.
    """
    x, y = _arrays(lon, lat)
    scalar = x.ndim == 0
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    shift = np.asarray(in_china(x, y)) & np.isfinite(x) & np.isfinite(y)
    gx, gy = x.copy(), y.copy()
    if shift.any():
        d_lon, d_lat = _offset(x[shift], y[shift])
        gx[shift] += d_lon
        gy[shift] += d_lat
    return _shape(gx, scalar), _shape(gy, scalar)


def gcj02_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tolerance_deg: float = 1e-10,
    max_iterations: int = 30,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Convert GCJ-02 lon/lat (degrees, e.g. from Gaode's geocoder or a survey on Gaode tiles) back to WGS84.

    Iterates ``wgs ← wgs − (wgs84_to_gcj02(wgs) − gcj)`` from ``wgs = gcj``; the offset field is smooth,
    so this converges in a handful of steps to well below a millimetre.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees; scalars or arrays of one shape.
    tolerance_deg
        Stop when every point's round trip agrees to this many degrees (1e-10° ≈ 0.01 mm).
    max_iterations
        Upper bound on the iterations (the usual count is 3–6).

    Returns
    -------
    (lon, lat)
        WGS84 degrees, floats for scalar input; points outside China and NaN coordinates unchanged.
    """
    if not tolerance_deg > 0:
        raise InputError(f"`tolerance_deg` was {tolerance_deg!r} but must be > 0.")
    if max_iterations < 1:
        raise InputError(f"`max_iterations` was {max_iterations!r} but must be ≥ 1.")
    gx, gy = _arrays(lon, lat)
    scalar = gx.ndim == 0
    gx, gy = np.atleast_1d(gx), np.atleast_1d(gy)
    wx, wy = gx.copy(), gy.copy()
    for _ in range(max_iterations):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = np.nan_to_num(fx - gx), np.nan_to_num(fy - gy)
        wx, wy = wx - ex, wy - ey
        if max(np.abs(ex).max(initial=0.0), np.abs(ey).max(initial=0.0)) < tolerance_deg:
            break
    return _shape(wx, scalar), _shape(wy, scalar)


def _check_geographic(gdf: object, name: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(f"`{name}` was a {type(gdf).__name__} but must be a GeoDataFrame or GeoSeries.")
    if gdf.crs is None:
        raise CRSError(f"`{name}` has no CRS; set it (e.g. `set_crs(4326)`) first.")
    if not gdf.crs.is_geographic:
        raise CRSError(
            f"`{name}` has CRS EPSG:{gdf.crs.to_epsg()} but lon/lat degrees are needed — call `to_crs(4326)` first."
        )


def _transform(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    func: Callable[..., tuple[Any, Any]],
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    geoms = np.asarray(gdf.geometry.values if isinstance(gdf, gpd.GeoDataFrame) else gdf.values, dtype=object)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(geoms, apply)
    if isinstance(gdf, gpd.GeoDataFrame):
        return gdf.set_geometry(gpd.GeoSeries(moved, index=gdf.index, crs=gdf.crs), crs=gdf.crs)
    return gpd.GeoSeries(moved, index=gdf.index, crs=gdf.crs, name=gdf.name)


def geometries_to_gcj02(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """A copy of ``gdf`` (lon/lat, EPSG:4326 or 4490) with every vertex shifted to GCJ-02 for Gaode tiles.

    The CRS label stays the input's: GCJ-02 has no EPSG code, so the result is for display only.
    """
    _check_geographic(gdf, "gdf")
    return _transform(gdf, wgs84_to_gcj02)


def geometries_from_gcj02(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """A copy of ``gdf`` whose lon/lat vertices are GCJ-02, converted to WGS84 (see :func:`gcj02_to_wgs84`)."""
    _check_geographic(gdf, "gdf")
    return _transform(gdf, gcj02_to_wgs84)
