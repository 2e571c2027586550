"""Builders for the import tests: good and bad files made in memory at test time, with known contents.

Three compounds sit 200 m north-east of three county seats (任城, 邹城, 曲阜), as 100 m × 80 m rectangles in
EPSG:4548; every builder writes the same attributes (Chinese column names, as planners' files have them),
so each good format must import to the same rows.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from analytics import settings
from analytics.services.auth import User

ADMIN = User("admin", "admin")
VIEWER = User("leader", "viewer")
EDITOR_RENCHENG = User("rencheng", "county_editor", "370811")
EDITOR_ZOUCHENG = User("zoucheng", "county_editor", "370883")

SEATS = {"370811": (116.590, 35.415), "370883": (116.961, 35.406), "370881": (116.986, 35.593)}
TO_METRIC = Transformer.from_crs(4326, 4548, always_xy=True)
TO_WGS = Transformer.from_crs(4548, 4326, always_xy=True)


def centres_4548() -> list[tuple[float, float]]:
    """Rectangle centres: each seat moved 200 m east and 200 m north, in EPSG:4548 metres."""
    out = []
    for lon, lat in SEATS.values():
        x, y = TO_METRIC.transform(lon, lat)
        out.append((x + 200.0, y + 200.0))
    return out


def expected_centroids_wgs84() -> list[tuple[float, float]]:
    """The rectangles' centroids in WGS84 degrees (what the database must hold after any good import)."""
    return [TO_WGS.transform(x, y) for x, y in centres_4548()]


def compounds_4548() -> gpd.GeoDataFrame:
    """The three compounds with planners' Chinese column names, in EPSG:4548."""
    boxes = [shapely.box(x - 50, y - 40, x + 50, y + 40) for x, y in centres_4548()]
    return gpd.GeoDataFrame({
        "小区编号": ["JN-001", "JN-002", "JN-003"],
        "小区名称": ["古槐路小区", "铁山路宿舍", "鲁城家属院"],
        "所属县区": ["任城区", "邹城市", "曲阜"],
        "建成年代": [1995, 1998, 2003],
        "户数": [120, 80, 200],
        "建筑面积": [10_000.0, 7_000.0, 18_000.0],
        "计划年度": [2021, 2021, 2022],
    }, geometry=boxes, crs=4548)


def attribute_table(coords: str) -> pd.DataFrame:
    """The compounds as a plain table with coordinate columns of the centres.

    ``coords``: ``"lonlat"`` (经度/纬度, WGS84), ``"xy_swapped"`` (survey style: X = northing, Y = easting,
    EPSG:4548), ``"zone39"`` (X/Y with the zone prefix 39 on eastings, EPSG:4527), ``"gcj02"`` (经度/纬度 in
    GCJ-02, i.e. WGS84 shifted as Amap would).
    """
    frame = pd.DataFrame(compounds_4548().drop(columns="geometry"))
    centres = centres_4548()
    if coords in ("lonlat", "gcj02"):
        lonlat = [TO_WGS.transform(x, y) for x, y in centres]
        if coords == "gcj02":
            from analytics.coords import wgs84_to_gcj02

            lonlat = [tuple(float(v) for v in wgs84_to_gcj02(lon, lat)) for lon, lat in lonlat]
        frame["经度"] = [round(p[0], 8) for p in lonlat]
        frame["纬度"] = [round(p[1], 8) for p in lonlat]
    elif coords == "xy_swapped":
        frame["X"] = [round(y, 3) for _, y in centres]
        frame["Y"] = [round(x, 3) for x, _ in centres]
    elif coords == "zone39":
        frame["X"] = [round(x + 39_000_000, 3) for x, _ in centres]
        frame["Y"] = [round(y, 3) for _, y in centres]
    else:
        raise ValueError(coords)
    return frame


# ------------------------------------------------------------------------------------------- file makers
def _write_shapefile(gdf: gpd.GeoDataFrame, folder: Path, *, encoding: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(gdf, folder / "layer.shp", encoding=encoding)


def shapefile_zip(
    gdf: gpd.GeoDataFrame,
    *,
    encoding: str = "GBK",
    prj: bool = False,
    cpg: str | None = None,
    folder: str = "",
    stem: str = "老旧小区",
    drop: tuple[str, ...] = (),
    mutate: dict[str, callable] | None = None,
) -> bytes:
    """A zipped shapefile of ``gdf``: attributes in ``encoding``; ``.prj`` only if ``prj``; a ``.cpg``
    holding ``cpg`` if given (GDAL's own ``.cpg`` is never kept); members under ``folder``; parts in
    ``drop`` left out; ``mutate`` maps an extension to a function changing that part's bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        _write_shapefile(gdf if prj else gdf.set_crs(None, allow_override=True), Path(tmp), encoding=encoding)
        parts = {Path(f).suffix.lower(): (Path(tmp) / f).read_bytes() for f in os.listdir(tmp)}
    parts.pop(".cpg", None)
    if not prj:
        parts.pop(".prj", None)
    if cpg is not None:
        parts[".cpg"] = cpg.encode("ascii")
    for ext, change in (mutate or {}).items():
        parts[ext] = change(parts[ext])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext, blob in sorted(parts.items()):
            if ext not in drop:
                archive.writestr(f"{folder}{stem}{ext}", blob)
    return buf.getvalue()


def geojson_bytes(gdf: gpd.GeoDataFrame, *, crs_member: bool = False) -> bytes:
    """RFC 7946 GeoJSON (WGS84, no ``crs`` member) unless ``crs_member``: then the legacy member naming the
    frame's own CRS and its own coordinates."""
    if not crs_member:
        return gdf.to_crs(4326).to_json().encode("utf-8")
    doc = json.loads(gdf.to_json())
    doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{gdf.crs.to_epsg()}"}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def gpkg_bytes(gdf: gpd.GeoDataFrame, *, layer: str = "compounds") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.gpkg"
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
        return path.read_bytes()


def csv_bytes(frame: pd.DataFrame, *, encoding: str = "utf-8-sig") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def xlsx_bytes(frame: pd.DataFrame, *, title: str | None = None, sheet: str = "Sheet1") -> bytes:
    """An XLSX of ``frame``; with ``title`` a merged title row above the header (as county tables have)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(list(frame.columns))
    for record in frame.itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in record])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_of(members: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> bytes:
    """A zip with ``members`` (name -> bytes) stored verbatim; names in ``symlinks`` marked as links."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (0o120777 << 16)
            archive.writestr(info, blob)
    return buf.getvalue()


def encrypted_flag(data: bytes) -> bytes:
    """``data`` (a zip) with every member's 'encrypted' flag set in the central directory."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        out[pos + 8] |= 0x01
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def all_tables(con) -> tuple[str, ...]:
    """Every base table of the database (to prove a refused import changed none)."""
    return tuple(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall())


def copy_database(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    return target


def county_polygons() -> gpd.GeoDataFrame:
    return gpd.read_file(settings.COUNTIES_GEOJSON)
