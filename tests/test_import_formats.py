"""Good files in every accepted format import to the same known rows, with CRS and encoding told beforehand."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from analytics import store
from analytics.importing import importer
from tests.import_corpus import (
    ADMIN,
    attribute_table,
    compounds_4548,
    copy_database,
    csv_bytes,
    expected_centroids_wgs84,
    geojson_bytes,
    gpkg_bytes,
    shapefile_zip,
    xlsx_bytes,
)

GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return store.build_demo_database(tmp_path_factory.mktemp("formats") / "demo.duckdb")


@pytest.fixture
def con(template, tmp_path):
    connection = store.connect(copy_database(template, tmp_path / "db.duckdb"))
    yield connection
    connection.close()


# name -> (bytes builder, file name, prepare options, expected (epsg, crs source, swapped, encoding, enc source))
GOOD = {
    "gbk_shapefile_4548_no_prj_no_cpg": (
        lambda: shapefile_zip(compounds_4548(), encoding="GBK"), "老旧小区.zip", {},
        (4548, "detected", False, "GBK", "detected")),
    "utf8_shapefile_with_cpg_and_prj": (
        lambda: shapefile_zip(compounds_4548(), encoding="UTF-8", cpg="UTF-8", prj=True), "compounds.zip", {},
        (4548, "file", False, "UTF-8", "cpg")),
    "gbk_shapefile_cpg_936": (
        lambda: shapefile_zip(compounds_4548(), encoding="GBK", cpg="936"), "gbk936.zip", {},
        (4548, "detected", False, "GBK", "cpg")),
    "shapefile_in_subfolder": (
        lambda: shapefile_zip(compounds_4548(), folder="成果数据/2021年/"), "nested.zip", {},
        (4548, "detected", False, "GBK", "detected")),
    "geojson_wgs84": (
        lambda: geojson_bytes(compounds_4548()), "compounds.geojson", {},
        (4326, "detected", False, "UTF-8", "detected")),
    "geojson_crs_member_4548": (
        lambda: geojson_bytes(compounds_4548(), crs_member=True), "qgis.geojson", {},
        (4548, "file", False, "UTF-8", "detected")),
    "gpkg_4548": (
        lambda: gpkg_bytes(compounds_4548()), "compounds.gpkg", {},
        (4548, "file", False, "UTF-8", "format")),
    "csv_lonlat_utf8_bom": (
        lambda: csv_bytes(attribute_table("lonlat")), "compounds.csv", {},
        (4326, "detected", False, "UTF-8", "detected")),
    "xlsx_xy_swapped_with_title_row": (
        lambda: xlsx_bytes(attribute_table("xy_swapped"), title="2021年老旧小区改造计划表"), "survey.xlsx", {},
        (4548, "detected", True, None, "format")),
    "csv_zone39_gbk": (
        lambda: csv_bytes(attribute_table("zone39"), encoding="gbk"), "zone39.csv", {},
        (4527, "detected", False, "GBK", "detected")),
    "csv_gcj02_declared": (
        lambda: csv_bytes(attribute_table("gcj02")), "amap.csv", {"crs": "gcj02"},
        (4326, "declared", False, "UTF-8", "detected")),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_good_file_imports_known_rows(name, con):
    build, file_name, options, (epsg, crs_source, swapped, encoding, encoding_source) = GOOD[name]
    preview = importer.prepare(build(), file_name, kind="compounds", user=ADMIN, **options)
    # What was assumed is known before anything is stored.
    assert (preview.crs.epsg, preview.crs.source, preview.crs.swapped) == (epsg, crs_source, swapped)
    assert (preview.encoding, preview.encoding_source) == (encoding, encoding_source)
    # UTF-8 shapefiles cut Chinese field names to 10 bytes (小区名称 -> 小区名); they still map.
    cut = name.startswith("utf8_shapefile")
    assert preview.mapping["name"] == ("小区名" if cut else "小区名称")
    assert preview.mapping["households"] == "户数"
    assert preview.mapping["built_year"] == ("建成年" if cut else "建成年代")
    assert preview.mapping["floor_area_m2"] == ("建筑面" if cut else "建筑面积")
    assert preview.mapping["county_code"] == ("所属县" if cut else "所属县区")
    assert preview.n_rows == 3 and preview.n_valid == 3 and preview.error is None
    stored = con.execute("SELECT count(*) FROM compounds").fetchone()[0]  # the demo's, before the import
    assert importer.stored_impact(con, preview)["stored_rows"] == stored > 0

    result = importer.commit(con, preview, user=ADMIN, mode="replace")
    assert (result.rows_in, result.rows_written, result.rows_rejected) == (3, 3, 0)
    rows = con.execute(
        """SELECT id, name, county_code, built_year, households, floor_area_m2, plan_year, status,
                  ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM compounds ORDER BY id"""
    ).fetchall()
    assert [r[:8] for r in rows] == [
        ("JN-001", "古槐路小区", "370811", 1995, 120, 10_000.0, 2021, "未开工"),
        ("JN-002", "铁山路宿舍", "370883", 1998, 80, 7_000.0, 2021, "未开工"),
        ("JN-003", "鲁城家属院", "370881", 2003, 200, 18_000.0, 2022, "未开工"),
    ]
    for (_, *_rest, lon, lat), (want_lon, want_lat) in zip(rows, expected_centroids_wgs84()):
        _, _, metres = GEOD.inv(lon, lat, want_lon, want_lat)
        assert metres < 0.05, (name, metres)
    info = store.dataset_info(con)
    assert info["is_demo"] == "false" and info["source_compounds"] == file_name


def test_gcj02_matters(con):
    """Undeclared GCJ-02 degrees land about 500 m from the truth; declared, they are converted back."""
    data = csv_bytes(attribute_table("gcj02"))
    plain = importer.prepare(data, "amap.csv", kind="compounds", user=ADMIN)
    declared = importer.prepare(data, "amap.csv", kind="compounds", user=ADMIN, crs="gcj02")
    assert plain.crs.gcj02 is False and declared.crs.gcj02 is True
    want_lon, want_lat = expected_centroids_wgs84()[0]
    off = GEOD.inv(plain.rows.geometry.iloc[0].x, plain.rows.geometry.iloc[0].y, want_lon, want_lat)[2]
    on = GEOD.inv(declared.rows.geometry.iloc[0].x, declared.rows.geometry.iloc[0].y, want_lon, want_lat)[2]
    assert 300 < off < 800 and on < 0.01


def test_declared_crs_overrides_detection():
    """Declaring EPSG:4548 for the swapped survey table still swaps x/y (detected) but uses the declared CRS."""
    preview = importer.prepare(xlsx_bytes(attribute_table("xy_swapped")), "s.xlsx", kind="compounds", crs=4548, user=ADMIN)
    assert (preview.crs.epsg, preview.crs.source, preview.crs.swapped) == (4548, "declared", True)
    forced = importer.prepare(xlsx_bytes(attribute_table("xy_swapped")), "s.xlsx", kind="compounds", crs=4548,
                              swap_xy=False, user=ADMIN)
    # Not swapped, the northing is read as an easting: far outside Jining, every row refused.
    assert forced.n_valid == 0 and set(forced.problems.code) >= {"outside_jining"}


def test_remap_changes_one_field():
    """The mapping can be changed on screen: mapping households to another column changes the values."""
    frame = attribute_table("lonlat")
    frame["改造户数"] = [1, 2, 3]
    data = csv_bytes(frame)
    preview = importer.prepare(data, "c.csv", kind="compounds", user=ADMIN)
    assert preview.mapping["households"] == "户数"
    changed = importer.remap(preview, data, {"households": "改造户数"}, user=ADMIN)
    assert changed.rows["households"].tolist() == [1, 2, 3]
    assert "户数" in changed.ignored_columns


def test_units_in_headers_are_converted():
    """建筑面积（万㎡） is stored in m² and 计划投资（元） in 万元."""
    frame = attribute_table("lonlat").rename(columns={"建筑面积": "建筑面积（万㎡）"})
    frame["建筑面积（万㎡）"] = [1.0, 0.7, 1.8]
    frame["计划投资（元）"] = [3_000_000, 2_100_000, 5_400_000]
    preview = importer.prepare(xlsx_bytes(frame), "units.xlsx", kind="compounds", user=ADMIN)
    assert preview.rows["floor_area_m2"].tolist() == [10_000.0, 7_000.0, 18_000.0]
    assert np.allclose(preview.rows["invest_planned_wan"].astype(float), [300.0, 210.0, 540.0])


def test_two_shapefiles_in_one_zip_choose_layer():
    import io
    import zipfile

    first = zipfile.ZipFile(io.BytesIO(shapefile_zip(compounds_4548(), stem="a")))
    second = zipfile.ZipFile(io.BytesIO(shapefile_zip(compounds_4548().iloc[:1], stem="b")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for source in (first, second):
            for info in source.infolist():
                out.writestr(info, source.read(info))
    data = buf.getvalue()
    preview = importer.prepare(data, "two.zip", kind="compounds", user=ADMIN)
    assert preview.layers == ["a", "b"] and preview.layer == "a" and preview.n_rows == 3
    assert importer.prepare(data, "two.zip", kind="compounds", user=ADMIN, layer="b").n_rows == 1


def test_file_crs_without_epsg_code_and_other_datums(con):
    """A .prj with a local Transverse Mercator (no EPSG code) and one in Xi'an 1980 are taken from the file."""
    local = pyproj.CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=116.5 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m")
    gdf = compounds_4548().to_crs(local)
    preview = importer.prepare(shapefile_zip(gdf, prj=True), "local.zip", kind="compounds", user=ADMIN)
    assert preview.crs.epsg is None and preview.crs.source == "file" and preview.crs.wkt
    importer.commit(con, preview, user=ADMIN)
    rows = con.execute("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM compounds ORDER BY id").fetchall()
    for (lon, lat), (want_lon, want_lat) in zip(rows, expected_centroids_wgs84()):
        assert GEOD.inv(lon, lat, want_lon, want_lat)[2] < 0.05
    xian80 = importer.prepare(shapefile_zip(compounds_4548().to_crs(2384), prj=True), "xian80.zip", kind="compounds", user=ADMIN)
    assert (xian80.crs.epsg, xian80.crs.source, xian80.n_valid) == (2384, "file", 3)
