"""WGS84 ↔ GCJ-02: published test vectors, round trips under half a metre, Jining's offset, geometries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

from analytics import settings
from analytics.coords import (
    gcj02_to_wgs84,
    geometries_from_gcj02,
    geometries_to_gcj02,
    in_china,
    wgs84_to_gcj02,
)
from analytics.errors import CRSError, InputError

GEOD = Geod(ellps="WGS84")

# The public eviltransform test vectors, (WGS84 lon, lat) -> (GCJ-02 lon, lat).
VECTORS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_forward_matches_published_vectors(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_inverse_recovers_published_vectors(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert metres(lon, lat, *wgs) < 0.01


def test_round_trip_error_below_half_a_metre_over_jining():
    lon0, lat0, lon1, lat1 = settings.JINING_BOUNDS_DEG
    lon, lat = np.meshgrid(np.linspace(lon0, lon1, 40), np.linspace(lat0, lat1, 40))
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon.ravel(), lat.ravel()))
    error = metres(lon.ravel(), lat.ravel(), back_lon, back_lat)
    assert error.max() < 0.5
    assert error.max() < 0.001  # the iteration actually converges to millimetres


def test_offset_in_jining_is_about_500_m_east():
    for code, (_, _, seat_lon, seat_lat) in settings.COUNTIES.items():
        lon, lat = wgs84_to_gcj02(seat_lon, seat_lat)
        azimuth, _, distance = GEOD.inv(seat_lon, seat_lat, lon, lat)
        assert 400 < distance < 650, code
        assert 60 < azimuth < 120, code  # east-ish
    # Rencheng's seat: 483 m at bearing 96°
    lon, lat = wgs84_to_gcj02(116.590, 35.415)
    assert metres(116.590, 35.415, lon, lat) == pytest.approx(483.1, abs=0.5)


def test_outside_china_and_nan_unchanged():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris
    assert gcj02_to_wgs84(139.767125, 35.681236) == (139.767125, 35.681236)  # Tokyo
    lon, lat = wgs84_to_gcj02(np.array([116.5, np.nan]), np.array([35.4, np.nan]))
    assert np.isnan(lon[1]) and np.isnan(lat[1]) and lon[0] != 116.5
    assert in_china(116.5, 35.4) is True
    assert in_china(2.35, 48.85) is False


def test_arrays_keep_their_shape_and_empty_works():
    lon, lat = wgs84_to_gcj02(np.full((2, 3), 116.5), np.full((2, 3), 35.4))
    assert lon.shape == (2, 3) and lat.shape == (2, 3)
    lon, lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == (0,) and lat.shape == (0,)


def test_bad_input_is_rejected():
    with pytest.raises(InputError, match=r"`lon` has shape \(2,\) but `lat` has \(3,\)"):
        wgs84_to_gcj02([116.5, 116.6], [35.1, 35.2, 35.3])
    with pytest.raises(InputError, match=r"`tolerance_deg` was 0 but must be > 0"):
        gcj02_to_wgs84(116.5, 35.4, tolerance_deg=0)
    with pytest.raises(InputError, match=r"`max_iterations` was 0"):
        gcj02_to_wgs84(116.5, 35.4, max_iterations=0)


def test_geometries_shift_every_vertex_and_back():
    square = Polygon([(116.58, 35.41), (116.59, 35.41), (116.59, 35.42), (116.58, 35.42)])
    gdf = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[square, Point(116.6, 35.4)], crs=4326)
    shifted = geometries_to_gcj02(gdf)
    assert shifted.crs == gdf.crs and list(shifted["id"]) == ["a", "b"]
    x0, y0 = wgs84_to_gcj02(116.58, 35.41)
    assert shifted.geometry.iloc[0].exterior.coords[0] == pytest.approx((x0, y0), abs=1e-12)
    assert gdf.geometry.iloc[0].exterior.coords[0] == (116.58, 35.41)  # input untouched
    back = geometries_from_gcj02(shifted.geometry)
    assert isinstance(back, gpd.GeoSeries)
    for before, after in zip(gdf.geometry, back):
        assert before.equals_exact(after, tolerance=1e-8)


def test_geometries_need_lon_lat():
    projected = gpd.GeoDataFrame(geometry=[Point(500000, 3900000)], crs=settings.ANALYSIS_CRS)
    with pytest.raises(CRSError, match=r"`gdf` has CRS EPSG:4548 but lon/lat degrees are needed"):
        geometries_to_gcj02(projected)
    with pytest.raises(CRSError, match=r"`gdf` has no CRS"):
        geometries_to_gcj02(gpd.GeoDataFrame(geometry=[Point(116, 35)]))
    with pytest.raises(InputError, match=r"`gdf` was a list"):
        geometries_from_gcj02([Point(116, 35)])
