"""Backups restore exactly; snapshots are consistent copies of the open database; damaged backups are refused."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import openpyxl
import pytest

from analytics import store
from analytics.errors import ImportRejected, InputError, PermissionDenied
from analytics.importing import importer
from analytics.services import backup
from analytics.store import audit
from scripts import backup as backup_cli
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, attribute_table, copy_database, csv_bytes

DEMO_COMPOUNDS = 1465  # the seeded demo: 1,125 compounds in plan years 2020–2026 and 340 candidates


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return store.build_demo_database(tmp_path_factory.mktemp("backup") / "demo.duckdb")


@pytest.fixture
def con(template, tmp_path):
    connection = store.connect(copy_database(template, tmp_path / "db.duckdb"))
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def good_backup(template, tmp_path_factory):
    """One GeoParquet backup of the demo database, shared by the tests that only read it."""
    connection = store.connect(copy_database(template, tmp_path_factory.mktemp("good") / "db.duckdb"))
    try:
        return backup.export_backup(connection, user=ADMIN)
    finally:
        connection.close()


def _rezip(data: bytes, change) -> bytes:
    """The backup zip with ``change(name, blob) -> blob | None`` applied to each member (None drops it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            blob = change(info.filename, source.read(info))
            if blob is not None:
                archive.writestr(info.filename, blob)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["geoparquet", "gpkg"])
def test_export_restore_round_trip(con, fmt):
    before = backup.table_checksums(con)
    stored = con.execute("SELECT count(*) FROM compounds").fetchone()[0]  # the demo's
    data = backup.export_backup(con, fmt=fmt, user=ADMIN)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["tables"]["compounds"]["rows"] == stored > 0 and manifest["data_format"] == fmt
    assert manifest["created_by"] == "admin" and "users" not in manifest["tables"]
    # Change the data, then restore: every data table is back exactly.
    importer.commit(con, importer.prepare(csv_bytes(attribute_table("lonlat")), "x.csv", kind="compounds", user=ADMIN),
                    user=ADMIN)
    assert backup.table_checksums(con) != before
    result = backup.restore_backup(con, data, user=ADMIN, file_name=f"backup.{fmt}.zip")
    assert backup.table_checksums(con) == before
    assert result.rows["compounds"] == stored
    log = audit.read_log(con)
    assert log.iloc[0]["action"] == "restore" and log.iloc[0]["mode"] == fmt
    # The undo history no longer applies after a restore.
    assert importer.undo_candidate(con) is None


def test_xlsx_in_backup_has_every_table(good_backup):
    xlsx = zipfile.ZipFile(io.BytesIO(good_backup)).read("jiugai.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)
    assert set(backup.EXPORT_TABLES) <= set(wb.sheetnames)
    rows = list(wb["compounds"].iter_rows(values_only=True))
    assert {"id", "lon", "lat", "wkt"} <= set(rows[0]) and len(rows) == 1 + DEMO_COMPOUNDS  # header + the demo's
    record = dict(zip(rows[0], rows[1]))
    assert 115.8 < record["lon"] < 117.7 and record["wkt"].startswith("POLYGON")


def test_restore_refusals_change_nothing(con, good_backup):
    good = good_backup
    before = backup.table_checksums(con)
    cases = {
        r"has no manifest\.json": _rezip(good, lambda n, b: None if n == "manifest.json" else b),
        r"'tables/compounds\.parquet' does not match its checksum": _rezip(
            good, lambda n, b: b[:-10] + b"0123456789" if n == "tables/compounds.parquet" else b),
        r"lacks the file 'jiugai\.xlsx' its manifest lists": _rezip(good, lambda n, b: None if n == "jiugai.xlsx" else b),
        r"was made by a newer version \(schema 99": _rezip(good, lambda n, b: json.dumps(
            {**json.loads(b), "schema_version": 99}).encode() if n == "manifest.json" else b),
        r"is not a backup of this dashboard": _rezip(good, lambda n, b: b'{"format": "other"}'
                                                     if n == "manifest.json" else b),
        r"is not a zip archive": b"not a zip at all",
    }
    for message, data in cases.items():
        with pytest.raises(ImportRejected, match=message):
            backup.restore_backup(con, data, user=ADMIN)
    with pytest.raises(PermissionDenied, match=r"may not backup"):
        backup.restore_backup(con, good, user=EDITOR_RENCHENG)
    with pytest.raises(PermissionDenied, match=r"Signing in is required to backup"):
        backup.restore_backup(con, good, user=None)
    with pytest.raises(PermissionDenied, match=r"Signing in is required to backup"):
        backup.export_backup(con, user=None)
    assert backup.table_checksums(con) == before


def test_restore_with_wrong_row_count_rolls_back(con, good_backup):
    """A manifest whose counts disagree with the files is caught after loading, and rolled back."""
    good = good_backup

    def lie(name, blob):
        if name != "manifest.json":
            return blob
        manifest = json.loads(blob)
        manifest["tables"]["parcels"]["rows"] += 1
        return json.dumps(manifest).encode()

    before = backup.table_checksums(con)
    with pytest.raises(ImportRejected, match=r"Table 'parcels' restored 1852 rows but the backup lists 1853"):
        backup.restore_backup(con, _rezip(good, lie), user=ADMIN)
    assert backup.table_checksums(con) == before


def test_snapshot_is_a_consistent_copy(con, tmp_path):
    before = backup.table_checksums(con)
    target = backup.snapshot(con, tmp_path / "snaps" / "jiugai-1.duckdb")
    assert target.exists() and not (tmp_path / "snaps" / "jiugai-1.duckdb.partial").exists()
    copy = store.connect(target, read_only=True)
    try:
        assert backup.table_checksums(copy) == before
        assert copy.execute("SELECT max(version) FROM schema_version").fetchone()[0] == \
            con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    finally:
        copy.close()
    with pytest.raises(InputError, match=r"already exists; choose a new file name"):
        backup.snapshot(con, target)


def test_snapshot_while_another_cursor_writes(con, tmp_path):
    """Writes running on another cursor during the snapshot land wholly before it or wholly after it."""
    writer = con.cursor()
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            writer.execute("BEGIN TRANSACTION")
            audit.record(writer, username="w", action="test")
            audit.record(writer, username="w", action="test")
            writer.execute("COMMIT")

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        paths = [backup.snapshot(con, tmp_path / f"s{i}.duckdb") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for path in paths:
        copy = store.connect(path, read_only=True)
        try:
            assert copy.execute("SELECT count(*) % 2 FROM audit_log WHERE action = 'test'").fetchone()[0] == 0
        finally:
            copy.close()


def test_restore_snapshot(con, tmp_path):
    before = backup.table_checksums(con)
    path = backup.snapshot(con, tmp_path / "s.duckdb")
    con.execute("DELETE FROM parcels")
    result = backup.restore_snapshot(con, path, user=ADMIN)
    assert result.rows["parcels"] == 1852 and backup.table_checksums(con) == before
    assert audit.read_log(con).iloc[0]["action"] == "restore_snapshot"
    with pytest.raises(PermissionDenied):
        backup.restore_snapshot(con, path, user=EDITOR_RENCHENG)
    with pytest.raises(ImportRejected, match=r"does not exist"):
        backup.restore_snapshot(con, tmp_path / "missing.duckdb", user=ADMIN)
    (tmp_path / "junk.duckdb").write_bytes(b"not a database" * 100)
    with pytest.raises(ImportRejected, match=r"'junk\.duckdb' is not a DuckDB database"):
        backup.restore_snapshot(con, tmp_path / "junk.duckdb", user=ADMIN)


@pytest.mark.slow
def test_command_line(template, tmp_path):
    db = copy_database(template, tmp_path / "cli.duckdb")
    backup_cli.main(["--db", str(db), "snapshot", str(tmp_path / "cli-snap.duckdb")])
    backup_cli.main(["--db", str(db), "export", str(tmp_path / "cli.zip"), "--format", "gpkg"])
    backup_cli.main(["--db", str(db), "restore", str(tmp_path / "cli.zip")])
    con = store.connect(db)
    try:
        assert audit.read_log(con).iloc[0]["action"] == "restore"
        assert audit.read_log(con).iloc[0]["username"].startswith("cli:")
    finally:
        con.close()


@pytest.mark.parametrize("dropped", ["funding", "progress_reports_history", "annual_targets"])
def test_restore_refuses_a_manifest_that_leaves_a_table_out(con, good_backup, dropped):
    """Restoring empties every data table first: a manifest without one of them would empty it for good."""

    def leave_out(name, blob):
        if name == f"tables/{dropped}.parquet":
            return None
        if name != "manifest.json":
            return blob
        manifest = json.loads(blob)
        del manifest["tables"][dropped]
        del manifest["files"][f"tables/{dropped}.parquet"]
        return json.dumps(manifest).encode()

    before = backup.table_checksums(con)
    with pytest.raises(ImportRejected, match=rf"does not list the tables \['{dropped}'\]; restoring it would empty "
                                             r"them") as caught:
        backup.restore_backup(con, _rezip(good_backup, leave_out), user=ADMIN)
    assert caught.value.kind == "incomplete"
    assert backup.table_checksums(con) == before


def test_tables_of_a_schema_version():
    from analytics.store.schema import LATEST_VERSION, tables_at

    assert {"compounds", "audit_log", "dataset_info"} <= tables_at(1)
    assert "users" not in tables_at(1) and "users" in tables_at(2)
    assert "progress_reports_history" not in tables_at(2) and "progress_reports_history" in tables_at(3)
    assert set(backup.DATA_TABLES) <= tables_at(LATEST_VERSION)


@pytest.fixture(scope="module")
def gpkg_backup(template, tmp_path_factory):
    """One GeoPackage backup of the demo database."""
    connection = store.connect(copy_database(template, tmp_path_factory.mktemp("gpkg") / "db.duckdb"))
    try:
        return backup.export_backup(connection, fmt="gpkg", user=ADMIN)
    finally:
        connection.close()


def _with_view(gpkg: bytes, table: str, tmp_path) -> bytes:
    """``gpkg`` with the layer ``table`` turned into a recursive view making two million rows."""
    import sqlite3

    path = tmp_path / "swap.gpkg"
    path.write_bytes(gpkg)
    con = sqlite3.connect(path)
    try:
        columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})").fetchall()]
        picked = ", ".join(f"(SELECT {c} FROM {table}_stored LIMIT 1) AS {c}" for c in columns if c != "fid")
        con.executescript(f"""
            ALTER TABLE {table} RENAME TO {table}_stored;
            UPDATE gpkg_contents SET table_name = '{table}_stored', identifier = '{table}_stored'
                WHERE table_name = '{table}';
            CREATE VIEW {table} AS
                WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000000)
                SELECT n AS fid, {picked} FROM c;
            INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('{table}', 'attributes', '{table}');
        """)
        con.commit()
    finally:
        con.close()
    return path.read_bytes()


def test_restore_refuses_a_geopackage_layer_that_is_a_view(con, gpkg_backup, tmp_path, monkeypatch):
    """A view runs its query when read (two million rows from a few bytes): refused before it is read."""
    import hashlib

    import pyogrio

    crafted = _with_view(zipfile.ZipFile(io.BytesIO(gpkg_backup)).read("jiugai.gpkg"), "funding", tmp_path)

    def swap(name, blob):  # the crafted file, listed with its own checksum as a made-up backup would be
        if name == "jiugai.gpkg":
            return crafted
        if name == "manifest.json":
            manifest = json.loads(blob)
            manifest["files"]["jiugai.gpkg"] = hashlib.sha256(crafted).hexdigest()
            return json.dumps(manifest).encode()
        return blob

    swapped = _rezip(gpkg_backup, swap)
    assert "funding" in {str(name) for name, _ in pyogrio.list_layers(tmp_path / "swap.gpkg")}  # GDAL offers the view
    read = []
    original = backup.pyogrio.read_dataframe

    def recorded(path, *, layer, **kwargs):
        assert layer != "funding", "the view was read"
        read.append(layer)
        return original(path, layer=layer, **kwargs)

    monkeypatch.setattr(backup.pyogrio, "read_dataframe", recorded)
    before = backup.table_checksums(con)
    with pytest.raises(ImportRejected, match=r"layer 'funding' of 'b.zip' is not a stored table") as caught:
        backup.restore_backup(con, swapped, user=ADMIN, file_name="b.zip")
    assert caught.value.kind == "unsafe"
    assert backup.table_checksums(con) == before
