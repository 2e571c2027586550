"""Writing imports: replace and append, compounds' dependent rows, parcels and facilities, undo and history."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analytics import settings, store
from analytics.errors import DataError
from analytics.importing import importer
from analytics.services import backup
from analytics.store import demo
from tests.import_corpus import (
    ADMIN,
    TO_METRIC,
    attribute_table,
    copy_database,
    csv_bytes,
    gpkg_bytes,
    xlsx_bytes,
)

DEMO_COMPOUNDS = sum(n for n, _, _ in demo.YEAR_TARGETS.values()) + settings.DEMO_CANDIDATES  # 1,125 + 340


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return store.build_demo_database(tmp_path_factory.mktemp("commit") / "demo.duckdb")


@pytest.fixture
def con(template, tmp_path):
    connection = store.connect(copy_database(template, tmp_path / "db.duckdb"))
    yield connection
    connection.close()


def _rows(con, table: str) -> list[tuple]:
    """Every row, geometry as WKB hex, sorted: an exact picture of the table."""
    columns = [c for c in store.table_columns(con, table) if c != "geom"]
    geom = ", ST_AsHEXWKB(geom)" if "geom" in store.table_columns(con, table) else ""
    order = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"SELECT {order}{geom} FROM {table} ORDER BY {order}").fetchall()


def test_replace_then_undo_restores_exact_rows(con):
    tables = ("compounds", "buildings", "funding", "progress_reports", "annual_plans", "dataset_info")
    before = {t: _rows(con, t) for t in tables}
    preview = importer.prepare(csv_bytes(attribute_table("lonlat")), "real.csv", kind="compounds", user=ADMIN)
    impact = importer.stored_impact(con, preview)
    assert impact["stored_rows"] == DEMO_COMPOUNDS and impact["ids_already_stored"] == 0
    assert impact["replace_removes_progress_reports"] == len(before["progress_reports"])
    result = importer.commit(con, preview, user=ADMIN, mode="replace")
    # Demo rows of compounds no longer present are removed with them; plans follow the new compounds.
    assert result.removed == {"buildings": len(before["buildings"]), "funding": len(before["funding"]),
                              "progress_reports": len(before["progress_reports"])}
    assert con.execute("SELECT count(*) FROM compounds").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM buildings").fetchone()[0] == 0
    assert con.execute(
        "SELECT plan_year, county_code, compounds, households, floor_area_m2 FROM annual_plans ORDER BY 1, 2"
    ).fetchall() == [(2021, "370811", 1, 120, 10_000.0), (2021, "370883", 1, 80, 7_000.0),
                     (2022, "370881", 1, 200, 18_000.0)]
    assert store.dataset_info(con)["is_demo"] == "false"

    undo = importer.undo_last_import(con, user=ADMIN)
    assert undo.undone_import_id == result.import_id and undo.action == "import"
    assert {t: _rows(con, t) for t in tables} == before
    assert store.dataset_info(con)["is_demo"] == "true"
    with pytest.raises(DataError, match=r"There is no import to undo\."):
        importer.undo_last_import(con, user=ADMIN)


def test_append_adds_and_undo_removes(con):
    before = _rows(con, "compounds")
    plans_before = _rows(con, "annual_plans")
    preview = importer.prepare(xlsx_bytes(attribute_table("xy_swapped")), "more.xlsx", kind="compounds", user=ADMIN)
    result = importer.commit(con, preview, user=ADMIN, mode="append")
    assert result.removed == {} and result.rows_written == 3
    assert con.execute("SELECT count(*) FROM compounds").fetchone()[0] == DEMO_COMPOUNDS + 3
    # 2021 plan of 任城 gained one compound of 120 households.
    demo_2021 = dict(((y, c), n) for y, c, n, *_ in plans_before)
    assert con.execute("SELECT compounds FROM annual_plans WHERE plan_year = 2021 AND county_code = '370811'"
                       ).fetchone()[0] == demo_2021[(2021, "370811")] + 1
    undo = importer.undo_last_import(con, user=ADMIN)
    assert _rows(con, "compounds") == before and _rows(con, "annual_plans") == plans_before
    # what the undo changed: the 3 appended compounds go, nothing of the demo's comes back
    assert undo.changes["compounds"] == (3, 0)
    assert undo.restored["compounds"] == len(before)  # the snapshot held every row


def test_undo_is_newest_first_and_recorded(con):
    """Two imports, two undos: each undo returns to the state before its import; all four are in the log."""
    start = _rows(con, "compounds")
    first = importer.commit(con, importer.prepare(csv_bytes(attribute_table("lonlat")), "a.csv",
                                                  kind="compounds", user=ADMIN), user=ADMIN)
    after_first = _rows(con, "compounds")
    frame = attribute_table("lonlat")
    frame["户数"] = [1000, 1000, 1000]
    frame["建筑面积"] = [90_000.0, 90_000.0, 90_000.0]
    second = importer.commit(con, importer.prepare(csv_bytes(frame), "b.csv", kind="compounds", user=ADMIN), user=ADMIN)
    assert importer.undo_candidate(con)["import_id"] == second.import_id
    assert importer.undo_last_import(con, user=ADMIN).undone_import_id == second.import_id
    assert _rows(con, "compounds") == after_first
    assert importer.undo_last_import(con, user=ADMIN).undone_import_id == first.import_id
    assert _rows(con, "compounds") == start
    history = importer.import_history(con)
    assert history["action"].tolist()[:4] == ["undo", "undo", "import", "import"]
    assert history["file_name"].tolist()[:4] == ["a.csv", "b.csv", "b.csv", "a.csv"]
    undone = history[history.action == "import"].set_index("file_name")["undone_by"]
    assert undone.notna().all()
    assert history.loc[history.action == "import", "file_sha256"].str.len().eq(64).all()


def test_undo_depth(con, monkeypatch):
    monkeypatch.setattr(settings, "UNDO_DEPTH", 2)
    data = csv_bytes(attribute_table("lonlat"))
    ids = [importer.commit(con, importer.prepare(data, f"{i}.csv", kind="compounds", user=ADMIN), user=ADMIN).import_id
           for i in range(3)]
    assert con.execute("SELECT count(DISTINCT import_id) FROM undo_compounds").fetchone()[0] == 2
    importer.undo_last_import(con, user=ADMIN)
    importer.undo_last_import(con, user=ADMIN)
    assert importer.undo_candidate(con) is None
    with pytest.raises(DataError, match=rf"Import {ids[0]} \('0\.csv'\) is older than the last 2 writes"):
        importer.undo_last_import(con, user=ADMIN)


def test_parcels_area_from_polygons_and_types(con):
    """Parcel areas come from the polygons (EPSG:4548) when not given; type names map to the enums."""
    x, y = TO_METRIC.transform(116.590, 35.415)  # 任城区 seat
    gdf = gpd.GeoDataFrame({
        "地块编号": ["P-1", "P-2"], "资源类型": ["闲置土地", "空置楼宇"], "权属": ["国有", "企业"],
        "现状用途": ["工业用地", "火星用途"],
    }, geometry=[shapely.box(x, y, x + 50, y + 40), shapely.box(x + 200, y, x + 230, y + 30)], crs=4548)
    preview = importer.prepare(gpkg_bytes(gdf, layer="parcels"), "parcels.gpkg", kind="parcels", user=ADMIN)
    assert [round(a) for a in preview.rows["area_m2"]] == [2000, 900]
    assert preview.rows["parcel_type"].tolist() == ["闲置用地", "空置房屋"]
    assert preview.rows["county_code"].tolist() == ["370811", "370811"]
    codes = preview.problems.set_index("code")
    assert "area_from_geometry" in codes.index and codes.loc["unknown_value", "value"] == "火星用途"
    result = importer.commit(con, preview, user=ADMIN, only_valid=True)
    assert (result.rows_written, result.rows_rejected) == (1, 1)
    assert con.execute("SELECT id, parcel_type, ownership, land_use, round(area_m2) FROM parcels").fetchall() == [
        ("P-1", "闲置用地", "国有", "工业", 2000.0)]


def test_facilities_points_and_types(con):
    """Facility types by code, Chinese or English name; polygons become points with a warning."""
    frame = pd.DataFrame({
        "设施名称": ["古槐日间照料中心", "任城幼儿园", "社区卫生服务站", "健身广场"],
        "设施类型": ["日间照料", "幼儿园", "clinic", "Sports ground"],
        "经度": [116.590, 116.591, 116.592, 116.593], "纬度": [35.415, 35.416, 35.417, 35.418],
    })
    preview = importer.prepare(csv_bytes(frame), "facilities.csv", kind="facilities", user=ADMIN)
    assert preview.rows["facility_type"].tolist() == ["elderly_care", "kindergarten", "clinic", "sports"]
    assert preview.rows["id"].tolist() == ["370811-F00002", "370811-F00003", "370811-F00004", "370811-F00005"]
    assert preview.n_valid == 4
    # No county column: every county comes from the location, said once for the file.
    notes = preview.problems[preview.problems.code == "county_from_location"]
    assert len(notes) == 1 and notes.row.isna().all() and notes.severity.eq("warning").all()
    importer.commit(con, preview, user=ADMIN, mode="append")
    assert con.execute("SELECT count(*) FROM facilities WHERE id LIKE '370811-F0000%'").fetchone()[0] == 4


def test_rejected_commit_leaves_no_trace(con):
    """A refusal inside the transaction (ids clash in append) leaves tables, audit log and undo stack as they were."""
    tables = ("compounds", "audit_log", "import_batches", "undo_compounds", "dataset_info")
    before = backup.table_checksums(con, tables)
    frame = attribute_table("lonlat")
    frame["小区编号"] = ["370811-2020-001", "NEW-1", "NEW-2"]  # the first id is a demo compound
    with pytest.raises(ValueError, match=r"1 id\(s\) of 'clash\.csv' are already stored"):
        importer.commit(con, importer.prepare(csv_bytes(frame), "clash.csv", kind="compounds", user=ADMIN), user=ADMIN,
                        mode="append")
    assert backup.table_checksums(con, tables) == before


def test_conflicting_concurrent_write_stores_nothing(con):
    """Another session holding uncommitted changes to the same rows: the import is refused, nothing stored."""
    other = con.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("DELETE FROM compounds WHERE id = (SELECT min(id) FROM compounds)")
    tables = ("compounds", "audit_log", "import_batches", "undo_compounds")
    before = backup.table_checksums(con, tables)
    preview = importer.prepare(csv_bytes(attribute_table("lonlat")), "a.csv", kind="compounds", user=ADMIN)
    with pytest.raises(DataError, match=r"Another write to the same data was in progress, so nothing was stored"):
        importer.commit(con, preview, user=ADMIN)
    other.execute("ROLLBACK")
    assert backup.table_checksums(con, tables) == before
