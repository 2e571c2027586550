"""The store: offline spatial extension, schema migrations, layer reading, atomic demo build."""

from __future__ import annotations

import socket

import duckdb
import pytest

from analytics import settings, store
from analytics.errors import DatabaseLocked, InputError
from analytics.store import schema


def test_spatial_extension_loads_with_network_cut(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is cut in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    con = store.connect(":memory:")
    assert con.execute("SELECT ST_Distance(ST_Point(0, 0), ST_Point(3, 4))").fetchone()[0] == 5.0
    loaded = con.execute(
        "SELECT loaded, install_path FROM duckdb_extensions() WHERE extension_name = 'spatial'"
    ).fetchone()
    assert loaded[0] is True


def test_extension_file_comes_from_the_pip_package():
    path = store.spatial_extension_path()
    assert path.name == "spatial.duckdb_extension"
    assert "duckdb_extension_spatial" in str(path)
    assert "v1.5.5" in str(path)


def test_new_database_gets_latest_schema(mem_con):
    assert schema.current_version(mem_con) == schema.LATEST_VERSION
    tables = {r[0] for r in mem_con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name in ("counties", "compounds", "buildings", "parcels", "facilities", "progress_reports",
                 "funding", "annual_plans", "audit_log", "schema_version", "annual_targets", "projects",
                 "fund_flows", "aftercare", "findings"):
        assert name in tables


def test_migrate_is_idempotent_and_records_versions(mem_con):
    assert schema.migrate(mem_con) == schema.LATEST_VERSION
    versions = [r[0] for r in mem_con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == [m[0] for m in schema.MIGRATIONS]


def test_failed_migration_rolls_back(mem_con, monkeypatch):
    bad = (schema.LATEST_VERSION + 1, "broken", ["CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"])
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, bad])
    with pytest.raises(duckdb.ParserException):
        schema.migrate(mem_con)
    assert schema.current_version(mem_con) == schema.LATEST_VERSION
    tables = {r[0] for r in mem_con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "half_done" not in tables


def test_pending_migration_applies_to_existing_database(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    con = store.connect(":memory:")
    con.close()
    con = duckdb.connect(str(path))
    store.load_spatial(con)
    schema.migrate(con)
    con.execute("INSERT INTO annual_plans VALUES (2020, '370811', 1, 2, 3.0, 4.0)")
    con.close()
    extra = (schema.LATEST_VERSION + 1, "add a note column", ["ALTER TABLE annual_plans ADD COLUMN note VARCHAR"])
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    con = store.connect(path)
    assert schema.current_version(con) == schema.LATEST_VERSION + 1
    assert con.execute("SELECT compounds, note FROM annual_plans").fetchall() == [(1, None)]
    con.close()


def test_version_3_database_migrates_to_the_programme_schema_keeping_its_rows(tmp_path, monkeypatch):
    path = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(path))
    store.load_spatial(con)
    monkeypatch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] <= 3])
    assert schema.migrate(con) == 3
    con.execute(
        "INSERT INTO compounds (id, name, county_code, built_year, households, floor_area_m2, plan_year, geom) "
        "VALUES ('A', '甲小区', '370811', 1990, 100, 8000.0, 2021, ST_GeomFromText('POINT (116.6 35.4)'))"
    )
    con.execute("INSERT INTO undo_compounds (import_id, id, plan_year) VALUES (7, 'A', 2021)")
    con.close()
    monkeypatch.undo()
    con = store.connect(path)
    assert schema.current_version(con) == schema.LATEST_VERSION
    assert con.execute("SELECT id, plan_year, project_id FROM compounds").fetchall() == [("A", 2021, None)]
    assert con.execute("SELECT import_id, id, project_id FROM undo_compounds").fetchall() == [(7, "A", None)]
    # a candidate (储备库) has no plan year
    con.execute(
        "INSERT INTO compounds (id, name, county_code, built_year, households, floor_area_m2, geom) "
        "VALUES ('B', '乙小区', '370811', 1995, 80, 6000.0, ST_GeomFromText('POINT (116.6 35.4)'))"
    )
    assert con.execute("SELECT plan_year FROM compounds WHERE id = 'B'").fetchone() == (None,)
    for table in ("annual_targets", "projects", "fund_flows", "aftercare", "findings"):
        columns = store.table_columns(con, table)
        assert store.table_columns(con, f"undo_{table}") == ["import_id", *columns]
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    con.close()


def test_read_layer_contract(demo_con):
    for name in store.LAYERS:
        gdf = store.read_layer(demo_con, name)
        assert gdf.crs.to_epsg() == settings.ANALYSIS_CRS
        assert {"id", "county_code", "geometry"} <= set(gdf.columns)
        assert gdf.id.is_unique and len(gdf) > 0
    wgs = store.read_layer(demo_con, "counties", crs=None)
    assert wgs.crs.to_epsg() == 4326
    one = store.read_layer(demo_con, "compounds", county_code="370831")
    assert set(one.county_code) == {"370831"}


def test_read_layer_rejects_unknown_name(demo_con):
    with pytest.raises(InputError, match="`name` was 'users'"):
        store.read_layer(demo_con, "users")


def test_interrupted_build_leaves_no_file(tmp_path, monkeypatch):
    from analytics.store import demo

    def boom(seed):
        raise RuntimeError("killed half way")

    monkeypatch.setattr(demo, "generate", boom)
    target = tmp_path / "x.duckdb"
    with pytest.raises(RuntimeError):
        store.build_demo_database(target)
    assert list(tmp_path.iterdir()) == []


def test_connect_builds_missing_file(tmp_path):
    target = tmp_path / "fresh.duckdb"
    con = store.connect(target)
    assert con.execute("SELECT count(*) FROM compounds").fetchone()[0] > 0
    assert store.dataset_info(con)["is_demo"] == "true"
    con.close()


def test_locked_file_gives_clear_message(tmp_path):
    import subprocess
    import sys
    import textwrap

    target = tmp_path / "locked.duckdb"
    duckdb.connect(str(target)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(target)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLocked, match="in use by another process"):
            store.connect(target)
    finally:
        holder.stdin.close()
        holder.stdout.close()
        holder.wait(timeout=10)


def test_version_5_childcare_rows_become_kindergartens_unless_named_for_under_threes(tmp_path, monkeypatch):
    path = tmp_path / "v5.duckdb"
    con = duckdb.connect(str(path))
    store.load_spatial(con)
    monkeypatch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] <= 5])
    assert schema.migrate(con) == 5
    for fid, name in (("F1", "任城幼儿园"), ("F2", "古槐托育中心"), ("F3", None), ("F4", "阳光托儿所")):
        con.execute("INSERT INTO facilities (id, county_code, facility_type, name, geom) VALUES "
                    "(?, '370811', 'childcare', ?, ST_GeomFromText('POINT (116.6 35.4)'))", [fid, name])
    con.execute("INSERT INTO facilities (id, county_code, facility_type, geom) VALUES "
                "('F5', '370811', 'clinic', ST_GeomFromText('POINT (116.6 35.4)'))")
    con.execute("INSERT INTO undo_facilities (import_id, id, facility_type, name) VALUES (3, 'F1', 'childcare', '幼儿园')")
    con.close()
    monkeypatch.undo()
    con = store.connect(path)
    assert con.execute("SELECT id, facility_type FROM facilities ORDER BY id").fetchall() == [
        ("F1", "kindergarten"), ("F2", "childcare"), ("F3", "kindergarten"), ("F4", "childcare"), ("F5", "clinic")]
    assert con.execute("SELECT facility_type FROM undo_facilities").fetchall() == [("kindergarten",)]
    con.close()


def back_to_v8(con) -> None:
    """Make ``con`` the schema v8 database it was before the road tables (and later ones) came."""
    for table in sorted(schema.tables_at(schema.LATEST_VERSION) - schema.tables_at(8)):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM schema_version WHERE version > 8")


def test_a_demo_database_from_before_the_road_tables_gets_the_demos_streets(demo_con, demo_db_path, tmp_path):
    import shutil

    def picture(con, table):
        return con.execute(f"SELECT * EXCLUDE (geom), ST_AsHEXWKB(geom) FROM {table} ORDER BY id").fetchall()

    expected = {t: picture(demo_con, t) for t in ("roads", "barriers")}
    assert len(expected["roads"]) > 30_000
    old = tmp_path / "v8.duckdb"
    shutil.copy(demo_db_path, old)
    con = store.connect(old)
    back_to_v8(con)
    con.close()
    con = store.connect(old)
    try:
        assert schema.current_version(con) == schema.LATEST_VERSION
        assert {t: picture(con, t) for t in ("roads", "barriers")} == expected
    finally:
        con.close()
    # an imported (not demo) database stays without streets
    con = store.connect(old)
    back_to_v8(con)
    con.execute("UPDATE dataset_info SET value = 'false' WHERE key = 'is_demo'")
    con.close()
    con = store.connect(old)
    try:
        assert con.execute("SELECT count(*) FROM roads").fetchone()[0] == 0
    finally:
        con.close()


def test_the_data_stamp_tells_apart_states_that_share_an_audit_id(tmp_path):
    """A restored backup's next write takes an id the live database already had: the cache key must differ."""
    import shutil

    from analytics.store import audit

    live = tmp_path / "live.duckdb"
    con = store.connect(live)
    audit.record(con, username="a", action="import", table_name="compounds")
    con.close()
    shutil.copy(live, tmp_path / "backup.duckdb")
    con = store.connect(live)
    audit.record(con, username="a", action="import", table_name="parcels")
    live_version, live_stamp = audit.data_version(con), audit.data_stamp(con)
    con.close()
    restored = store.connect(tmp_path / "backup.duckdb")
    audit.record(restored, username="b", action="restore")
    assert audit.data_version(restored) == live_version  # the id alone repeats
    assert audit.data_stamp(restored) != live_stamp
    assert audit.data_stamp(restored).startswith(f"{live_version}@")
    restored.close()
