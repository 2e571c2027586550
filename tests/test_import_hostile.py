"""The corpus of bad files: each is refused with its own clear message and nothing stored changes."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analytics import settings, store
from analytics.errors import ImportRejected, PermissionDenied
from analytics.importing import importer
from analytics.importing.fields import TABLE_KINDS
from analytics.services import backup
from tests import hostile_files
from tests.import_corpus import (
    ADMIN,
    EDITOR_RENCHENG,
    VIEWER,
    all_tables,
    attribute_table,
    compounds_4548,
    csv_bytes,
    encrypted_flag,
    geojson_bytes,
    gpkg_bytes,
    shapefile_zip,
    xlsx_bytes,
    zip_of,
)


def _shp_parts() -> dict[str, bytes]:
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(shapefile_zip(compounds_4548())))
    return {info.filename: archive.read(info) for info in archive.infolist()}


def _truncated(blob: bytes) -> bytes:
    return blob[: len(blob) // 2]


def _latin1_gdf() -> gpd.GeoDataFrame:
    gdf = compounds_4548()
    gdf["小区名称"] = ["ÿÿ小区", "ÿÿ", "ÿ€"]
    return gdf.rename(columns={c: f"f{i}" for i, c in enumerate(gdf.columns) if c != "geometry"})


def _big_zeros() -> bytes:
    return zip_of({"layer.shp": b"\0" * (5 * 1024 * 1024), "layer.shx": b"", "layer.dbf": b""})


def _lying_size() -> bytes:
    """A shapefile zip whose central directory understates the first member's (the .dbf's) size."""
    data = bytearray(shapefile_zip(compounds_4548()))
    entry = data.find(b"PK\x01\x02")
    data[entry + 24: entry + 28] = (10).to_bytes(4, "little")
    return bytes(data)


def _wrong_prj_geojson() -> bytes:
    doc = json.loads(compounds_4548().to_json())  # metre coordinates...
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}  # ...declared as degrees
    return json.dumps(doc, ensure_ascii=False).encode()


def _shapefile_prj_4326_metres() -> bytes:
    return shapefile_zip(compounds_4548().set_crs(4326, allow_override=True), prj=True)


def _gpkg_without_geometry() -> bytes:
    import tempfile
    from pathlib import Path

    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.gpkg"
        pyogrio.write_dataframe(pd.DataFrame({"a": [1, 2]}), path, layer="plain", driver="GPKG")
        return path.read_bytes()


def _table(coords: list[tuple[float, float]]) -> bytes:
    frame = attribute_table("lonlat").iloc[: len(coords)].copy()
    frame["经度"] = [c[0] for c in coords]
    frame["纬度"] = [c[1] for c in coords]
    return csv_bytes(frame)


def _with(**changes) -> bytes:
    frame = attribute_table("lonlat")
    for column, values in changes.items():
        frame[column] = values
    return csv_bytes(frame)


def _lines_parcels() -> bytes:
    gdf = gpd.GeoDataFrame({"地块编号": ["P1"], "地块类型": ["闲置用地"]},
                           geometry=[shapely.LineString([(480000, 3918000), (480100, 3918100)])], crs=4548)
    return gpkg_bytes(gdf, layer="parcels")


# name -> (builder of (bytes, file name), prepare options, settings to patch, message regex, error kind)
BAD = {
    "empty_file": (lambda: (b"", "compounds.csv"), {}, {}, r"is empty \(0 bytes\)", "empty"),
    "too_large": (lambda: (csv_bytes(attribute_table("lonlat")), "big.csv"), {}, {"UPLOAD_MAX_MB": 0.0001},
                  r"uploads are limited to 0.0001 MB", "too_large"),
    "word_document": (lambda: (b"PK\x03\x04word", "plan.docx"), {}, {}, r"has the extension '.docx'", "format"),
    "bare_shp": (lambda: (b"\0" * 100, "layer.shp"), {}, {}, r"one part of a shapefile", "format"),
    "old_xls": (lambda: (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xls"), {}, {},
                r"old Excel 97–2003 \(.xls\)", "unreadable"),
    "not_a_zip": (lambda: (b"this is not a zip", "data.zip"), {}, {}, r"is not a zip archive", "unreadable"),
    "truncated_zip": (lambda: (_truncated(shapefile_zip(compounds_4548())), "cut.zip"), {}, {},
                      r"is not a readable zip archive .*truncated", "unreadable"),
    "dotdot_path": (lambda: (zip_of({"../../evil.shp": b"x"}), "evil.zip"), {}, {},
                    r"unsafe path '\.\./\.\./evil\.shp'", "zip_unsafe"),
    "absolute_path": (lambda: (zip_of({"/etc/cron.d/x.shp": b"x"}), "abs.zip"), {}, {},
                      r"unsafe path '/etc/cron\.d/x\.shp'", "zip_unsafe"),
    "drive_letter_path": (lambda: (zip_of({"C:/windows/x.shp": b"x"}), "win.zip"), {}, {},
                          r"unsafe path 'C:/windows/x\.shp'", "zip_unsafe"),
    "symlink_member": (lambda: (zip_of({"layer.shp": b"/etc/passwd"}, symlinks=("layer.shp",)), "link.zip"), {}, {},
                       r"symbolic link 'layer\.shp'", "zip_unsafe"),
    "zip_bomb_ratio": (lambda: (_big_zeros(), "bomb.zip"), {}, {}, r"expands \d+ times \(limit 200\)", "zip_unsafe"),
    "too_many_members": (lambda: (zip_of({f"f{i}.txt": b"x" for i in range(6)}), "many.zip"), {},
                         {"ZIP_MAX_MEMBERS": 5}, r"holds 6 files but at most 5", "zip_unsafe"),
    "too_large_uncompressed": (lambda: (shapefile_zip(compounds_4548()), "huge.zip"), {}, {"ZIP_MAX_TOTAL_MB": 0.0001},
                               r"would expand to .* but at most 0.0001 MB", "zip_unsafe"),
    "encrypted_member": (lambda: (encrypted_flag(shapefile_zip(compounds_4548())), "locked.zip"), {}, {},
                         r"encrypted file", "zip_unsafe"),
    # zipfile stops at the declared size, so the check of the content's CRC is what refuses it
    "member_larger_than_header": (lambda: (_lying_size(), "lying.zip"), {}, {},
                                  r"member '老旧小区\.dbf' could not be extracted \(Bad CRC-32", "unreadable"),
    "zip_without_shapefile": (lambda: (zip_of({"readme.txt": b"hello"}), "docs.zip"), {}, {},
                              r"contains no shapefile \(\.shp\)", "no_geometry"),
    "shapefile_without_dbf": (lambda: (shapefile_zip(compounds_4548(), drop=(".dbf",)), "nodbf.zip"), {}, {},
                              r"lacks its \.dbf file", "unreadable"),
    "shapefile_without_shx": (lambda: (shapefile_zip(compounds_4548(), drop=(".shx",)), "noshx.zip"), {}, {},
                              r"lacks its \.shx file", "unreadable"),
    "truncated_shp": (lambda: (shapefile_zip(compounds_4548(), mutate={".shp": _truncated}), "cutshp.zip"), {}, {},
                      r"The \.shp in 'cutshp\.zip' is truncated", "unreadable"),
    "bad_shp_header": (lambda: (shapefile_zip(compounds_4548(), mutate={".shp": lambda b: b"\0" * 8 + b[8:]}),
                                "badshp.zip"), {}, {}, r"not a valid shapefile \(bad header\)", "unreadable"),
    "truncated_dbf": (lambda: (shapefile_zip(compounds_4548(), mutate={".dbf": lambda b: b[:-200]}), "cutdbf.zip"),
                      {}, {}, r"The \.dbf in 'cutdbf\.zip' is truncated", "unreadable"),
    "cpg_says_utf8_but_gbk": (lambda: (shapefile_zip(compounds_4548(), encoding="GBK", cpg="UTF-8"), "liar.zip"),
                              {}, {}, r"\.cpg of 'liar\.zip' says 'UTF-8' but the attributes are not valid UTF-8",
                              "encoding"),
    "cpg_unknown_encoding": (lambda: (shapefile_zip(compounds_4548(), cpg="KLINGON-8"), "odd.zip"), {}, {},
                             r"encoding 'KLINGON-8' is not known", "encoding"),
    "declared_utf8_for_gbk": (lambda: (shapefile_zip(compounds_4548(), encoding="GBK"), "gbk.zip"),
                              {"encoding": "UTF-8"}, {}, r"`encoding` was 'UTF-8' but the attributes", "encoding"),
    "dbf_neither_utf8_nor_gbk": (lambda: (shapefile_zip(_latin1_gdf(), encoding="latin1"), "latin.zip"), {}, {},
                                 r"neither UTF-8 nor GBK; add a \.cpg", "encoding"),
    "csv_neither_utf8_nor_gbk": (lambda: ("名称,经度,纬度\n".encode() + b"\xff\x80,116.5,35.4\n", "bad.csv"), {}, {},
                                 r"'bad\.csv' is neither UTF-8 nor GBK text", "encoding"),
    "geojson_truncated": (lambda: (_truncated(geojson_bytes(compounds_4548())), "cut.geojson"), {}, {},
                          r"is not valid JSON .* it may be truncated", "unreadable"),
    "geojson_no_features": (lambda: (b'{"type": "FeatureCollection", "features": []}', "none.geojson"), {}, {},
                            r"'none\.geojson' has no features", "empty"),
    "geojson_null_geometries": (lambda: (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"小区名称": "甲"}, "geometry": None}]}).encode(), "nulls.geojson"), {}, {},
        r"has no usable geometry in any row", "no_geometry"),
    "json_nested_too_deeply": (lambda: (b"[" * 200_000 + b"]" * 200_000, "deep.geojson"), {}, {},
                               r"'deep\.geojson' is nested too deeply to be GeoJSON", "unreadable"),
    "json_not_geojson": (lambda: (b"[1, 2, 3]", "list.json"), {}, {}, r"not a GeoJSON FeatureCollection \(type 'list'\)",
                         "unreadable"),
    "gpkg_not_sqlite": (lambda: (b"GPKG? no." * 20, "fake.gpkg"), {}, {}, r"is not a GeoPackage", "unreadable"),
    "gpkg_truncated": (lambda: (gpkg_bytes(compounds_4548())[:2048], "cut.gpkg"), {}, {},
                       r"'cut\.gpkg' could not be (opened as a GeoPackage|read)", "unreadable"),
    "gpkg_without_geometry": (lambda: (_gpkg_without_geometry(), "table.gpkg"), {}, {},
                              r"has no layer with geometry", "no_geometry"),
    "xlsx_not_a_workbook": (lambda: (zip_of({"hello.txt": b"hi"}), "fake.xlsx"), {}, {},
                            r"could not be read as an Excel workbook", "unreadable"),
    "xlsx_garbage": (lambda: (b"PK\x03\x04" + b"\x00" * 300, "junk.xlsx"), {}, {},
                     r"is not a readable zip archive", "unreadable"),
    "xlsx_empty_sheet": (lambda: (xlsx_bytes(pd.DataFrame()), "blank.xlsx"), {}, {}, r"is empty", "empty"),
    "csv_header_only": (lambda: ("小区名称,户数,经度,纬度\n".encode(), "header.csv"), {}, {},
                        r"has a header but no data rows", "empty"),
    "csv_without_coordinates": (lambda: (csv_bytes(attribute_table("lonlat").drop(columns=["经度", "纬度"])),
                                         "nocoords.csv"), {}, {}, r"has no coordinate columns", "no_geometry"),
    "coordinates_in_beijing": (lambda: (_table([(116.40, 39.90), (116.41, 39.91)]), "beijing.csv"), {}, {},
                               r"are not degrees or CGCS2000 Gauss-Krüger metres inside Jining", "crs"),
    "web_mercator_metres": (lambda: (_table([(12_980_000.0, 4_215_000.0), (12_981_000.0, 4_216_000.0)]),
                                     "mercator.csv"), {}, {}, r"not degrees or CGCS2000 Gauss-Krüger", "crs"),
    "geojson_says_4326_holds_metres": (lambda: (_wrong_prj_geojson(), "liar.geojson"), {}, {},
                                       r"file says EPSG:4326 but its coordinates .* look like EPSG:4548", "crs"),
    "shapefile_prj_4326_holds_metres": (lambda: (_shapefile_prj_4326_metres(), "liar.zip"), {}, {},
                                        r"file says EPSG:4326 but its coordinates .* look like EPSG:4548", "crs"),
    "declared_unknown_crs": (lambda: (csv_bytes(attribute_table("lonlat")), "c.csv"), {"crs": "EPSG:99999"}, {},
                             r"`crs` was 'EPSG:99999'", "crs"),
    "unknown_layer": (lambda: (gpkg_bytes(compounds_4548()), "c.gpkg"), {"layer": "nope"}, {},
                      r"`layer` was 'nope'", "mapping"),
    "mapping_unknown_column": (lambda: (csv_bytes(attribute_table("lonlat")), "c.csv"),
                               {"mapping": {"households": "人口"}}, {}, r"`mapping` names columns \['人口'\]", "mapping"),
    "mapping_column_twice": (lambda: (csv_bytes(attribute_table("lonlat")), "c.csv"),
                             {"mapping": {"households": "户数", "n_buildings": "户数"}}, {},
                             r"uses the column\(s\) \['户数'\] for more than one field", "mapping"),
    "required_field_missing": (lambda: (csv_bytes(attribute_table("lonlat").drop(columns=["户数"])), "nohh.csv"), {}, {},
                               r"required field\(s\) \['households'\] are not mapped", "mapping"),
    "too_many_rows": (lambda: (csv_bytes(attribute_table("lonlat")), "rows.csv"), {}, {"IMPORT_MAX_ROWS": 1},
                      r"has more than 1 rows", "too_large"),
    "too_many_columns": (lambda: (csv_bytes(attribute_table("lonlat")), "cols.csv"), {}, {"IMPORT_MAX_COLUMNS": 5},
                         r"has 9 columns but at most 5", "too_large"),
    "negative_households_bad_year": (lambda: (_with(户数=[-5, 80, 200], 建成年代=["九十年代", 1998, 2003]), "bad.csv"), {},
                                     {}, r"has 1 row\(s\) with errors", "validation"),
    "duplicate_ids": (lambda: (_with(小区编号=["A", "A", "B"]), "dup.csv"), {}, {}, r"has 2 row\(s\) with errors",
                      "validation"),
    "unknown_county_names": (lambda: (_with(所属县区=["火星区", "370899", "邹城市"]), "county.csv"), {}, {},
                             r"has 2 row\(s\) with errors", "validation"),
    "outside_jining": (lambda: (_table([(118.3, 36.3), (118.35, 36.31), (118.4, 36.32)]), "far.csv"), {}, {},
                       r"has 3 row\(s\) with errors", "validation"),
    "willingness_over_100": (lambda: (_with(改造意愿=[85, 120, 90]), "will.csv"), {}, {},
                             r"has 1 row\(s\) with errors", "validation"),
    "completion_before_start": (lambda: (_with(开工日期=["2021-05-01"] * 3, 完工日期=["2021-03-01", None, None]),
                                         "dates.csv"), {}, {}, r"has 1 row\(s\) with errors", "validation"),
    "parcels_as_lines": (lambda: (_lines_parcels(), "lines.gpkg"), {"kind": "parcels"}, {},
                         r"has 1 row\(s\) with errors", "validation"),
}



def _plain(**columns) -> bytes:
    return csv_bytes(pd.DataFrame(columns))


TARGET = dict(年度=[2026], 县区=["任城区"], 小区数=[10], 户数=[2000])
FLOW = dict(日期=["2021-05-01"], 小区编号=["JN-NONE"], 资金来源=["中央补助"], 环节=["下达"], 金额=[10])
FINDING = dict(发现日期=["2021-05-01"], 县区=["任城区"], 问题类别=["质量"], 问题描述=["外墙脱落"], 整改状态=["交办"])

# The programme's tables (plain tables, refused row by row or as a whole, never half stored).
BAD.update({
    "targets_as_shapefile": (lambda: (shapefile_zip(compounds_4548()), "targets.zip"), {"kind": "annual_targets"}, {},
                             r"annual_targets is a plain table: upload it as CSV or XLSX", "format"),
    "targets_as_geojson": (lambda: (geojson_bytes(compounds_4548()), "t.geojson"), {"kind": "annual_targets"}, {},
                           r"upload it as CSV or XLSX", "format"),
    "targets_unknown_units": (lambda: (_plain(**{**TARGET, "年度": [2026, 2026], "县区": ["火星区", "370899"],
                                                 "小区数": [1, 2], "户数": [1, 2]}), "t.csv"),
                              {"kind": "annual_targets"}, {}, r"has 2 row\(s\) with errors", "validation"),
    "targets_year_in_words": (lambda: (_plain(**{**TARGET, "年度": ["明年"]}), "t.csv"), {"kind": "annual_targets"}, {},
                              r"has 1 row\(s\) with errors", "validation"),
    "targets_key_twice": (lambda: (_plain(**{k: v * 2 for k, v in TARGET.items()}), "t.csv"),
                          {"kind": "annual_targets"}, {}, r"has 2 row\(s\) with errors", "validation"),
    "targets_negative_households": (lambda: (_plain(**{**TARGET, "户数": [-5]}), "t.csv"), {"kind": "annual_targets"},
                                    {}, r"has 1 row\(s\) with errors", "validation"),
    "targets_without_unit_column": (lambda: (_plain(年度=[2026], 小区数=[3]), "t.csv"), {"kind": "annual_targets"}, {},
                                    r"required field\(s\) \['unit_code'\] are not mapped", "mapping"),
    "projects_unknown_compound": (lambda: (_plain(项目编号=["XM-1"], 项目名称=["甲"], 县区=["任城区"],
                                                  包含小区=["NOPE-1、NOPE-2"]), "p.csv"), {"kind": "projects"}, {},
                                  r"has 1 row\(s\) with errors", "validation"),
    "projects_unknown_delivery_model": (lambda: (_plain(项目编号=["XM-1"], 项目名称=["甲"], 县区=["任城区"],
                                                        实施方式=["私下发包"]), "p.csv"), {"kind": "projects"}, {},
                                        r"has 1 row\(s\) with errors", "validation"),
    "flows_negative_amount": (lambda: (_plain(**{**FLOW, "金额": [-10]}), "f.csv"), {"kind": "fund_flows"}, {},
                              r"has 1 row\(s\) with errors", "validation"),
    "flows_unknown_stage": (lambda: (_plain(**{**FLOW, "环节": ["挪用"]}), "f.csv"), {"kind": "fund_flows"}, {},
                            r"has 1 row\(s\) with errors", "validation"),
    "flows_unknown_source": (lambda: (_plain(**{**FLOW, "资金来源": ["小金库"]}), "f.csv"), {"kind": "fund_flows"}, {},
                             r"has 1 row\(s\) with errors", "validation"),
    "flows_dated_in_the_future": (lambda: (_plain(**{**FLOW, "日期": ["2099-01-01"]}), "f.csv"), {"kind": "fund_flows"},
                                  {}, r"has 1 row\(s\) with errors", "validation"),
    "flows_without_compound_or_project": (lambda: (_plain(**{k: v for k, v in FLOW.items() if k != "小区编号"}),
                                                   "f.csv"), {"kind": "fund_flows"}, {},
                                          r"\['compound_id or project_id'\] are not mapped", "mapping"),
    "flows_xlsx_garbage": (lambda: (b"PK\x03\x04" + b"\x00" * 300, "f.xlsx"), {"kind": "fund_flows"}, {},
                           r"is not a readable zip archive", "unreadable"),
    "aftercare_unknown_mode": (lambda: (_plain(小区编号=["JN-NONE"], 物业管理模式=["随便管管"]), "a.csv"),
                               {"kind": "aftercare"}, {}, r"has 1 row\(s\) with errors", "validation"),
    "aftercare_satisfaction_150": (lambda: (_plain(小区编号=["JN-NONE"], **{"满意度（%）": [150]}), "a.csv"),
                                   {"kind": "aftercare"}, {}, r"has 1 row\(s\) with errors", "validation"),
    "findings_unknown_status": (lambda: (_plain(**{**FINDING, "整改状态": ["已解决"]}), "d.csv"), {"kind": "findings"},
                                {}, r"has 1 row\(s\) with errors", "validation"),
    "findings_deadline_before_found": (lambda: (_plain(**FINDING, 整改时限=["2021-04-01"]), "d.csv"),
                                       {"kind": "findings"}, {}, r"has 1 row\(s\) with errors", "validation"),
    "findings_header_only": (lambda: ("发现日期,县区,问题类别,问题描述,整改状态\n".encode(), "d.csv"),
                             {"kind": "findings"}, {}, r"has a header but no data rows", "empty"),
    "findings_broken_sheet_xml": (lambda: (hostile_files.xlsx_broken_sheet_xml(), "broken.xlsx"),
                                  {"kind": "findings"}, {}, r"'broken\.xlsx'.*damaged", "unreadable"),
    "flows_csv_of_commas": (lambda: (hostile_files.csv_of_commas(rows=50, columns=20), "commas.csv"),
                            {"kind": "fund_flows"}, {"IMPORT_MAX_CELLS": 100}, r"more than 100 cells", "too_large"),
    "findings_neither_utf8_nor_gbk": (lambda: ("发现日期,问题描述\n".encode() + b"\xff\x80,x\n", "d.csv"),
                                      {"kind": "findings"}, {}, r"'d\.csv' is neither UTF-8 nor GBK text", "encoding"),
})

EXPECTED_CODES = {
    "negative_households_bad_year": {"out_of_range", "not_a_number"},
    "duplicate_ids": {"duplicate_id"},
    "unknown_county_names": {"unknown_county"},
    "outside_jining": {"outside_jining"},
    "willingness_over_100": {"out_of_range"},
    "completion_before_start": {"date_order"},
    "parcels_as_lines": {"wrong_geometry"},
    "targets_unknown_units": {"unknown_unit"},
    "targets_year_in_words": {"not_a_number"},
    "targets_key_twice": {"duplicate_id"},
    "targets_negative_households": {"out_of_range"},
    "projects_unknown_compound": {"unknown_compound"},
    "projects_unknown_delivery_model": {"unknown_value"},
    "flows_negative_amount": {"out_of_range"},
    "flows_unknown_stage": {"unknown_value"},
    "flows_unknown_source": {"unknown_value"},
    "flows_dated_in_the_future": {"future_date"},
    "aftercare_unknown_mode": {"unknown_value", "unknown_compound"},
    "aftercare_satisfaction_150": {"out_of_range"},
    "findings_unknown_status": {"unknown_value"},
    "findings_deadline_before_found": {"date_order"},
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = store.connect(store.build_demo_database(tmp_path_factory.mktemp("hostile") / "demo.duckdb"))
    yield connection
    connection.close()


def test_corpus_is_large_enough():
    assert len(BAD) >= 30


@pytest.mark.parametrize("name", list(BAD))
def test_bad_file_is_refused_and_nothing_changes(name, con, monkeypatch):
    build, options, patches, message, kind = BAD[name]
    options = dict(options)
    target = options.pop("kind", "compounds")
    for key, value in patches.items():
        monkeypatch.setattr(settings, key, value)
    data, file_name = build()
    if target in TABLE_KINDS:
        options["con"] = con
    before = backup.table_checksums(con, all_tables(con))
    with pytest.raises(ImportRejected, match=message) as caught:
        importer.commit(con, importer.prepare(data, file_name, kind=target, user=ADMIN, **options), user=ADMIN)
    assert caught.value.kind == kind
    if name in EXPECTED_CODES:
        assert {p["code"] for p in caught.value.problems} >= EXPECTED_CODES[name]
        assert all(p["severity"] == "error" for p in caught.value.problems)
    assert backup.table_checksums(con, all_tables(con)) == before


def test_bad_rows_are_reported_row_by_row():
    """The row-level report names the source row (CSV line: header is line 1), field, problem and value."""
    preview = importer.prepare(_with(户数=[-5, 80, 200], 建成年代=["九十年代", 1998, 2003]), "bad.csv",
                               kind="compounds", user=ADMIN)
    errors = preview.problems[preview.problems.severity == "error"]
    assert errors[["row", "field", "code", "value"]].values.tolist() == [
        [2, "built_year", "not_a_number", "九十年代"],
        [2, "households", "out_of_range", "-5"],
    ]
    assert preview.n_valid == 2 and preview.rows["_valid"].tolist() == [False, True, True]


def test_valid_rows_only(con):
    """With ``only_valid`` the two good rows land and the bad one is counted as rejected; undo restores."""
    data = _with(户数=[-5, 80, 200])
    before = backup.table_checksums(con, ("compounds", "annual_plans"))
    result = importer.commit(con, importer.prepare(data, "bad.csv", kind="compounds", user=ADMIN), user=ADMIN, only_valid=True)
    assert (result.rows_written, result.rows_rejected) == (2, 1)
    assert con.execute("SELECT list(id ORDER BY id) FROM compounds").fetchone()[0] == ["JN-002", "JN-003"]
    importer.undo_last_import(con, user=ADMIN)
    assert backup.table_checksums(con, ("compounds", "annual_plans")) == before


@pytest.mark.parametrize("user, message", [
    (None, r"Signing in is required to import"),
    (VIEWER, r"User 'leader' \(role 'viewer'\) may not import"),
    (EDITOR_RENCHENG, r"User 'rencheng' \(role 'county_editor'\) may not import"),
])
def test_import_needs_permission(user, message, con):
    preview = importer.prepare(csv_bytes(attribute_table("lonlat")), "ok.csv", kind="compounds", user=ADMIN)
    data_tables = tuple(t for t in all_tables(con) if t != "audit_log")
    before = backup.table_checksums(con, data_tables)
    last_id = con.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    with pytest.raises(PermissionDenied, match=message):
        importer.commit(con, preview, user=user)
    with pytest.raises(PermissionDenied, match=message.replace("import", "undo")):
        importer.undo_last_import(con, user=user)
    assert backup.table_checksums(con, data_tables) == before
    # both refusals are in the audit log, with who was refused what
    refused = con.execute("SELECT username, detail FROM audit_log WHERE id > ? ORDER BY id", [last_id]).fetchall()
    assert [(name, json.loads(detail)["permission"]) for name, detail in refused] == [
        (user.username if user else None, "import"), (user.username if user else None, "undo")]


def test_append_refuses_stored_ids(con):
    data = csv_bytes(attribute_table("lonlat"))
    importer.commit(con, importer.prepare(data, "first.csv", kind="compounds", user=ADMIN), user=ADMIN, mode="append")
    before = backup.table_checksums(con, all_tables(con))
    with pytest.raises(ImportRejected, match=r"3 id\(s\) of 'again\.csv' are already stored \(e\.g\. 'JN-001'\)") as caught:
        importer.commit(con, importer.prepare(data, "again.csv", kind="compounds", user=ADMIN), user=ADMIN, mode="append")
    assert caught.value.kind == "conflict" and [p["row"] for p in caught.value.problems] == [2, 3, 4]
    with pytest.raises(ImportRejected, match=r"Every id of 'again\.csv' is already stored"):
        importer.commit(con, importer.prepare(data, "again.csv", kind="compounds", user=ADMIN), user=ADMIN, mode="append",
                        only_valid=True)
    assert backup.table_checksums(con, all_tables(con)) == before
    importer.undo_last_import(con, user=ADMIN)


def test_unknown_mode_and_kind(con):
    preview = importer.prepare(csv_bytes(attribute_table("lonlat")), "ok.csv", kind="compounds", user=ADMIN)
    with pytest.raises(ValueError, match=r"`mode` was 'merge' but must be one of \('append', 'replace'\)"):
        importer.commit(con, preview, user=ADMIN, mode="merge")
    with pytest.raises(ValueError, match=r"`kind` was 'lakes' but must be one of"):
        importer.prepare(b"x", "x.csv", kind="lakes", user=ADMIN)
