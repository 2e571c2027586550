"""The shared input checks raise one clear sentence for each kind of bad input."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analytics.checks import check_connection, check_date, check_frame, check_gdf, check_range, check_same_crs
from analytics.errors import CRSError, InputError


def gdf(crs):
    return gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(0, 0)], crs=crs)


def test_check_gdf_accepts_metric_frame():
    check_gdf(gdf(4548), "compounds")


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (pd.DataFrame({"id": [1]}), InputError, "`compounds` was a DataFrame but must be a GeoDataFrame"),
        (gdf(None), CRSError, "`compounds` has no CRS"),
        (gdf(4326), CRSError, "`compounds` has CRS EPSG:4326; distances need a metric CRS"),
        (gdf(4548).drop(columns="id"), InputError, r"lacks the column\(s\) \['id'\]"),
    ],
)
def test_check_gdf_rejects(value, error, match):
    with pytest.raises(error, match=match):
        check_gdf(value, "compounds")


def test_empty_rejected_only_when_asked():
    empty = gdf(4548).iloc[:0]
    check_gdf(empty, "parcels")
    with pytest.raises(InputError, match="`parcels` is empty"):
        check_gdf(empty, "parcels", allow_empty=False)
    with pytest.raises(InputError, match="`x` is empty"):
        check_frame(pd.DataFrame({"a": []}), "x", allow_empty=False)


def test_same_crs_and_range():
    with pytest.raises(CRSError, match="`parcels` has CRS EPSG:3857 but `compounds` has EPSG:4548"):
        check_same_crs(("compounds", gdf(4548)), ("parcels", gdf(3857)))
    with pytest.raises(InputError, match="`max_distance_m` was -5 but must be between 0 and 3000"):
        check_range(-5, "max_distance_m", 0, 3000)


def test_connection_and_date():
    check_connection(duckdb.connect())
    with pytest.raises(InputError, match=r"`con` was a str but must be a DuckDB connection"):
        check_connection("data/jiugai.duckdb")
    assert check_date(date(2020, 12, 25)) == date(2020, 12, 25)
    assert check_date(datetime(2020, 12, 25, 17, 30)) == date(2020, 12, 25)
    with pytest.raises(InputError, match=r"`as_of` was '2020-12-25' but must be a datetime.date"):
        check_date("2020-12-25")
    with pytest.raises(InputError, match=r"`on_or_before` was None but must be a datetime.date"):
        check_date(None, "on_or_before")
