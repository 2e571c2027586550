"""Backups: exports of the whole database and consistent snapshots of its file, and their restore.

Exports are GeoParquet or GeoPackage, plus an XLSX workbook.

``export_backup`` writes one zip: ``manifest.json`` (schema version, row counts, checksums, SHA-256 of
every file), the tables as GeoParquet files (``tables/<name>.parquet``, geometry in EPSG:4326 / OGC:CRS84)
or one GeoPackage (``jiugai.gpkg``, a layer per table), and ``jiugai.xlsx`` (every table, a sheet each,
geometry as a representative lon/lat and WKT, for reading in Excel). ``restore_backup`` checks such a zip
and replaces the data tables with its contents in one transaction.

``snapshot`` copies the open database to a new DuckDB file inside one transaction (``ATTACH`` +
``COPY FROM DATABASE``), so the copy is consistent even while others write; ``restore_snapshot`` puts a
snapshot's data tables back into the open database the same way. Run ``python -m scripts.backup --help``
for the command line (scheduled snapshots, restores with the dashboard stopped).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely
from openpyxl.cell import WriteOnlyCell

from analytics import cells, settings
from analytics._sql import scalar
from analytics.errors import ImportRejected, InputError
from analytics.importing import write
from analytics.importing.files import check_size, gpkg_tables, open_zip, read_member
from analytics.services.auth import User, require
from analytics.store import audit
from analytics.store.schema import LATEST_VERSION, current_version, tables_at

log = logging.getLogger(__name__)

BackupFormat = Literal["geoparquet", "gpkg"]
FORMATS: tuple[str, ...] = ("geoparquet", "gpkg")
MARKER = "jiugai-backup"
BACKUP_VERSION = 1
# Restored from a backup, in this order; audit_log is exported for the record but never overwritten.
DATA_TABLES: tuple[str, ...] = (
    "counties", "compounds", "buildings", "parcels", "facilities", "progress_reports", "progress_reports_history",
    "funding", "annual_plans", "annual_targets", "projects", "fund_flows", "aftercare", "findings", "dataset_info",
    "bulletins", "office_settings", "presentation_slides", "roads", "barriers",
)
EXPORT_TABLES: tuple[str, ...] = DATA_TABLES + ("audit_log",)
CLI_RESTORE_MAX_MB = 500  # size limit of a backup zip restored on the command line
XLSX_MAX_ROWS = 1_048_575
XLSX_MAX_CELL = 32_000


@dataclass(frozen=True)
class RestoreResult:
    """What a restore replaced: rows per table, the audit id, and the backup's own facts."""

    audit_id: int
    rows: dict[str, int]
    schema_version: int
    created_at: str | None


# ------------------------------------------------------------------------------------------- checksums
def table_checksums(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, str]:
    """``"rows:hash"`` per table, order-independent (the sum of row hashes); equal tables give equal values.

    Hashes are DuckDB's and stable within one DuckDB version; compare only checksums made by the same
    version (``duckdb.__version__``).
    """
    out = {}
    for table in tables:
        count, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} t").fetchall()[0]
        out[table] = f"{count}:{total}"
    return out


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of the current database's ``table`` in order (attached databases ignored)."""
    return con.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = ? AND table_catalog = current_database() AND table_schema = 'main'
           ORDER BY ordinal_position""", [table]).fetchall()


def _spatial(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return any(name == "geom" for name, _ in _columns(con, table))


def _existing(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> list[str]:
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()").fetchall()}
    return [t for t in tables if t in present]


# ----------------------------------------------------------------------------------------------- export
def _frame(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame | gpd.GeoDataFrame:
    """A table as a (Geo)DataFrame, geometry in EPSG:4326."""
    if not _spatial(con, table):
        return con.execute(f"SELECT * FROM {table}").fetchdf()
    frame = con.execute(f"SELECT * EXCLUDE (geom), ST_AsWKB(geom) AS __wkb FROM {table}").fetchdf()
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("__wkb")])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.STORAGE_CRS)


def _cell(value: object) -> object:
    """A value openpyxl can write: NaN/NaT as blank, numpy scalars as Python, timestamps without zone."""
    return cells.excel_value(value)


def _xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """Every table on its own sheet; shapes as a representative lon/lat and WKT (blank if too long)."""
    workbook = openpyxl.Workbook(write_only=True)
    for name, frame in frames.items():
        sheet = pd.DataFrame(frame)
        if isinstance(frame, gpd.GeoDataFrame):
            geoms = frame.geometry
            points = geoms.representative_point()
            sheet = sheet.drop(columns=[frame.geometry.name])
            sheet["lon"] = points.x.round(6)
            sheet["lat"] = points.y.round(6)
            wkt = shapely.to_wkt(geoms.values, rounding_precision=6)
            sheet["wkt"] = [w if w is not None and len(w) <= XLSX_MAX_CELL else "" for w in wkt]
        ws = workbook.create_sheet(name[:31])
        ws.freeze_panes = "A2"

        def row(values, ws=ws) -> list:
            # text from uploads (names, file names) is written as text, never as a formula
            return [cells.as_text(WriteOnlyCell(ws, value=v)) if isinstance(v, str) else v for v in values]

        ws.append(row(str(c) for c in sheet.columns))
        for record in sheet.head(XLSX_MAX_ROWS).itertuples(index=False, name=None):
            ws.append(row(_cell(v) for v in record))
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def export_backup(
    con: duckdb.DuckDBPyConnection,
    *,
    user: User | None,
    fmt: BackupFormat = "geoparquet",
) -> bytes:
    """The whole database as one zip (see the module docstring); read inside one transaction.

    Parameters
    ----------
    fmt
        ``"geoparquet"`` (a GeoParquet/Parquet file per table; restores exactly) or ``"gpkg"`` (one
        GeoPackage, a layer per table, for desktop GIS; timestamps keep milliseconds).
    user
        Must hold the ``"backup"`` permission (the zip holds every table and the write log; accounts and
        sessions are never exported); recorded in the manifest.

    Raises
    ------
    PermissionDenied
        ``user`` may not make backups (checked first).
    """
    user = require(user, "backup", con=con)
    if fmt not in FORMATS:
        raise InputError(f"`fmt` was {fmt!r} but must be one of {FORMATS!r}.")
    tables = _existing(con, EXPORT_TABLES)
    files: dict[str, bytes] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        checksums = table_checksums(con, tuple(tables))
        frames = {table: _frame(con, table) for table in tables}
        with tempfile.TemporaryDirectory(prefix="jiugai-backup-") as tmp:
            if fmt == "geoparquet":
                for table in tables:
                    path = Path(tmp) / f"{table}.parquet"
                    con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(path)}' (FORMAT parquet)")
                    files[f"tables/{table}.parquet"] = path.read_bytes()
            else:
                path = Path(tmp) / "jiugai.gpkg"
                for table in tables:
                    _write_gpkg_layer(frames[table], path, table)
                files["jiugai.gpkg"] = path.read_bytes()
        version = current_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    files["jiugai.xlsx"] = _xlsx(frames)
    info = dict(con.execute("SELECT key, value FROM dataset_info").fetchall()) if "dataset_info" in tables else {}
    manifest = {
        "format": MARKER, "version": BACKUP_VERSION, "data_format": fmt, "schema_version": version,
        "duckdb_version": duckdb.__version__, "created_at": datetime.now().isoformat(timespec="seconds"),
        "created_by": user.username if user else None, "storage_crs": f"EPSG:{settings.STORAGE_CRS}",
        "dataset_info": info,
        "tables": {t: {"rows": len(frames[t]), "checksum": checksums[t]} for t in tables},
        "files": {name: hashlib.sha256(blob).hexdigest() for name, blob in files.items()},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name, blob in files.items():
            archive.writestr(name, blob)
    # Who took the whole database away, and when (a download of everything, not a change of data).
    audit.record(con, username=user.username, action="backup_export", mode=fmt, rows_written=0,
                 detail={"tables": {t: len(frames[t]) for t in tables}, "bytes": out.tell()})
    log.info("backup (%s): %d tables, %.1f MB", fmt, len(tables), out.tell() / 1e6)
    return out.getvalue()


def _sql_path(path: Path | str) -> str:
    return str(path).replace("'", "''")


def _write_gpkg_layer(frame: pd.DataFrame, path: Path, layer: str) -> None:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object and frame[col].map(lambda v: isinstance(v, (bytes, bytearray))).any():
            frame[col] = frame[col].map(lambda v: v.hex() if isinstance(v, (bytes, bytearray)) else v)
    kwargs = {}
    if isinstance(frame, gpd.GeoDataFrame) and frame.empty:
        kwargs["geometry_type"] = "Unknown"
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)


# ---------------------------------------------------------------------------------------------- restore
def _read_manifest(archive: zipfile.ZipFile, file_name: str) -> dict:
    names = {i.filename: i for i in archive.infolist()}
    if "manifest.json" not in names:
        raise ImportRejected(f"{file_name!r} has no manifest.json; it is not a backup of this dashboard.",
                             kind="unreadable")
    try:
        manifest = json.loads(read_member(archive, names["manifest.json"], file_name))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ImportRejected(f"The manifest of {file_name!r} is not valid JSON.", kind="unreadable") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MARKER:
        raise ImportRejected(f"{file_name!r} is not a backup of this dashboard.", kind="unreadable")
    if manifest.get("data_format") not in FORMATS:
        raise ImportRejected(f"{file_name!r} has the unknown data format {manifest.get('data_format')!r}.",
                             kind="unreadable")
    version = manifest.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ImportRejected(f"The manifest of {file_name!r} has no valid schema version ({version!r}); it is not a "
                             "backup of this dashboard.", kind="unreadable")
    if version > LATEST_VERSION:
        raise ImportRejected(
            f"{file_name!r} was made by a newer version (schema {manifest['schema_version']}, this one "
            f"{LATEST_VERSION}); update the dashboard first.",
            kind="mismatch",
        )
    for name, digest in manifest.get("files", {}).items():
        if name not in names:
            raise ImportRejected(f"{file_name!r} lacks the file {name!r} its manifest lists.", kind="unreadable")
        if hashlib.sha256(read_member(archive, names[name], file_name)).hexdigest() != digest:
            raise ImportRejected(f"{file_name!r}: {name!r} does not match its checksum; the backup is damaged.",
                                 kind="unreadable")
    return manifest


def _insert_select(con: duckdb.DuckDBPyConnection, table: str, source_sql: str, source_columns: list[str]) -> None:
    """``INSERT INTO table`` the columns it shares with the source, cast to the table's types."""
    types = dict(_columns(con, table))
    shared = [c for c in types if c in source_columns]
    select = []
    for col in shared:
        if col == "geom":
            select.append('"geom"::GEOMETRY')
        else:
            select.append(f'CAST("{col}" AS {types[col]})')
    con.execute(f"INSERT INTO {table} ({', '.join(chr(34) + c + chr(34) for c in shared)}) "
                f"SELECT {', '.join(select)} FROM {source_sql}")


def _replace_tables(con: duckdb.DuckDBPyConnection, load, tables: list[str]) -> dict[str, int]:
    """Empty every data table, then fill those in ``tables`` with ``load(table)``; returns rows per table."""
    rows = {}
    for table in reversed(_existing(con, DATA_TABLES)):
        con.execute(f"DELETE FROM {table}")
    for table in _existing(con, DATA_TABLES):
        if table in tables:
            load(table)
        rows[table] = write.count_rows(con, table)
    write.clear_batches(con)
    return rows


def restore_backup(
    con: duckdb.DuckDBPyConnection,
    data: bytes,
    *,
    user: User | None,
    file_name: str = "backup.zip",
    max_mb: float | None = None,
    max_total_mb: float | None = None,
) -> RestoreResult:
    """Replace the data tables with a backup made by ``export_backup``, in one transaction.

    ``max_mb`` is the size limit (default ``settings.UPLOAD_MAX_MB``, the upload limit) and
    ``max_total_mb`` the limit on what it expands to (default ``settings.ZIP_MAX_TOTAL_MB``). The zip is checked
    before anything changes: zip safety, manifest, schema version not newer than this
    one, SHA-256 of every file; after loading, row counts (and, for GeoParquet made by the same DuckDB
    version, checksums) must equal the manifest's or everything is rolled back. The audit log is kept
    (the restore is added to it); undo history is cleared.

    Raises
    ------
    PermissionDenied
        ``user`` may not restore backups (the ``"backup"`` permission; checked first).
    ImportRejected
        Not a backup, damaged, from a newer version, or not matching its manifest; nothing changed.
    """
    user = require(user, "backup", con=con)
    check_size(data, file_name, max_mb=max_mb)
    archive = open_zip(data, file_name, max_total_mb=max_total_mb)
    manifest = _read_manifest(archive, file_name)
    listed = {t: v for t, v in manifest.get("tables", {}).items() if t in DATA_TABLES}
    # Every data table is emptied and refilled from the backup: one its manifest leaves out would end
    # up empty, so the manifest must list every data table its schema version has.
    expected = [t for t in DATA_TABLES if t in tables_at(int(manifest["schema_version"]))]
    missing = [t for t in expected if t not in listed]
    if missing:
        raise ImportRejected(
            f"{file_name!r} was made at schema version {manifest['schema_version']} but its manifest does not list "
            f"the tables {missing!r}; restoring it would empty them, so nothing was changed.",
            kind="incomplete", tables=missing,
        )
    names = {i.filename: i for i in archive.infolist()}
    with tempfile.TemporaryDirectory(prefix="jiugai-restore-") as tmp:
        if manifest["data_format"] == "geoparquet":
            paths = {}
            for table in listed:
                member = f"tables/{table}.parquet"
                if member not in names:
                    raise ImportRejected(f"{file_name!r} lacks {member!r}.", kind="unreadable")
                paths[table] = Path(tmp) / f"{table}.parquet"
                paths[table].write_bytes(read_member(archive, names[member], file_name))

            def load(table: str) -> None:
                source = f"read_parquet('{_sql_path(paths[table])}')"
                cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
                _insert_select(con, table, source, cols)
        else:
            gpkg = Path(tmp) / "jiugai.gpkg"
            gpkg.write_bytes(read_member(archive, names["jiugai.gpkg"], file_name))
            stored = gpkg_tables(gpkg, file_name)

            def load(table: str) -> None:
                # A layer that is a view runs its query when read (a recursive one makes rows without end):
                # only stored tables are read, and no more rows than the manifest lists.
                if table not in stored:
                    raise ImportRejected(
                        f"The layer {table!r} of {file_name!r} is not a stored table (a view or missing); it is not "
                        "a backup made by this dashboard, and nothing was changed.",
                        kind="unsafe",
                    )
                listed_rows = listed[table].get("rows") if isinstance(listed[table], dict) else None
                limit = listed_rows + 1 if isinstance(listed_rows, int) and listed_rows >= 0 else None
                frame = pyogrio.read_dataframe(gpkg, layer=table, max_features=limit)
                if isinstance(frame, gpd.GeoDataFrame):
                    wkb = shapely.to_wkb(frame.geometry.values)
                    frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
                    frame["__wkb"] = wkb
                con.register("__restore", frame)
                try:
                    cols = list(frame.columns)
                    source = "(SELECT *, ST_GeomFromWKB(__wkb) AS geom FROM __restore)" if "__wkb" in cols else "__restore"
                    _insert_select(con, table, source, cols + (["geom"] if "__wkb" in cols else []))
                finally:
                    con.unregister("__restore")

        def work() -> RestoreResult:
            rows = _replace_tables(con, load, list(listed))
            for table, facts in listed.items():
                if rows.get(table) != facts["rows"]:
                    raise ImportRejected(
                        f"Table {table!r} restored {rows.get(table)} rows but the backup lists {facts['rows']}; "
                        "nothing was changed.", kind="unreadable")
            if manifest["data_format"] == "geoparquet" and manifest.get("duckdb_version") == duckdb.__version__:
                now = table_checksums(con, tuple(listed))
                bad = [t for t, facts in listed.items() if now[t] != facts["checksum"]]
                if bad:
                    raise ImportRejected(f"Tables {bad!r} do not match the backup's checksums; nothing was changed.",
                                         kind="unreadable")
            audit_id = audit.record(
                con, username=user.username, action="restore", file_name=file_name,
                file_sha256=hashlib.sha256(data).hexdigest(), mode=manifest["data_format"],
                rows_written=sum(rows.values()),
                detail={"created_at": manifest.get("created_at"), "schema_version": manifest.get("schema_version"),
                        "rows": rows},
            )
            return RestoreResult(audit_id, rows, int(manifest.get("schema_version", 0)), manifest.get("created_at"))

        result = write.in_transaction(con, work)
    log.info("restored backup %s: %s", file_name, result.rows)
    return result


# --------------------------------------------------------------------------------------------- snapshots
def snapshot(con: duckdb.DuckDBPyConnection, target_path: Path | str) -> Path:
    """Copy the open database to a new DuckDB file at ``target_path``, consistently, while it stays in use.

    Inside one transaction (``ATTACH`` a fresh file, ``COPY FROM DATABASE``, compare row counts), so
    writes by other connections either precede the copy entirely or are not in it. The copy is written
    next to the target and renamed into place, so a target path never holds a half-written file.

    Returns
    -------
    Path
        ``target_path``.
    """
    target = Path(target_path)
    if target.exists():
        raise InputError(f"`target_path` {str(target)!r} already exists; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    for leftover in (partial, Path(str(partial) + ".wal")):
        leftover.unlink(missing_ok=True)
    source = scalar(con, "SELECT current_database()")
    alias = "__jiugai_snapshot"
    con.execute(f"ATTACH '{_sql_path(partial)}' AS {alias}")
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f'COPY FROM DATABASE "{source}" TO {alias}')
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_type = 'BASE TABLE'",
                [source]).fetchall()]
            for table in tables:
                here = scalar(con, f'SELECT count(*) FROM "{source}".main."{table}"')
                there = scalar(con, f'SELECT count(*) FROM {alias}.main."{table}"')
                if here != there:
                    raise RuntimeError(f"snapshot of {table} has {there} rows, expected {here}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute(f"DETACH {alias}")
    try:
        os.replace(partial, target)
    finally:
        for leftover in (partial, Path(str(partial) + ".wal")):
            leftover.unlink(missing_ok=True)
    log.info("snapshot of %s written to %s (%d tables)", source, target, len(tables))
    return target


def restore_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_path: Path | str,
    *,
    user: User | None,
) -> RestoreResult:
    """Replace the data tables of the open database with those of a snapshot file, in one transaction.

    Accounts and the audit log stay as they are (the restore is recorded); undo history is cleared. To
    replace the whole file instead (accounts too), stop the dashboard and copy the snapshot over it.

    Raises
    ------
    PermissionDenied
        ``user`` may not restore (``"backup"``; checked first).
    ImportRejected
        The file is missing, not a DuckDB database of this dashboard, or from a newer schema.
    """
    user = require(user, "backup", con=con)
    path = Path(snapshot_path)
    if not path.is_file():
        raise ImportRejected(f"The snapshot {str(path)!r} does not exist.", kind="unreadable")
    alias = "__jiugai_restore"
    try:
        con.execute(f"ATTACH '{_sql_path(path)}' AS {alias} (READ_ONLY)")
    except duckdb.Error as exc:
        raise ImportRejected(f"{path.name!r} is not a DuckDB database ({str(exc)[:120]}).", kind="unreadable") from None
    try:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [alias]).fetchall()}
        if "schema_version" not in present or "compounds" not in present:
            raise ImportRejected(f"{path.name!r} is not a database of this dashboard.", kind="unreadable")
        version = scalar(con, f"SELECT max(version) FROM {alias}.main.schema_version") or 0
        if version > LATEST_VERSION:
            raise ImportRejected(
                f"{path.name!r} has schema version {version}, newer than this dashboard's {LATEST_VERSION}.",
                kind="mismatch")

        def load(table: str) -> None:
            cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {alias}.main.{table}").fetchall()]
            _insert_select(con, table, f"{alias}.main.{table}", cols)

        def work() -> RestoreResult:
            rows = _replace_tables(con, load, [t for t in DATA_TABLES if t in present])
            audit_id = audit.record(con, username=user.username, action="restore_snapshot", file_name=path.name,
                                    rows_written=sum(rows.values()), detail={"path": str(path), "rows": rows})
            return RestoreResult(audit_id, rows, int(version), None)

        result = write.in_transaction(con, work)
    finally:
        con.execute(f"DETACH {alias}")
    log.info("restored snapshot %s: %s", path, result.rows)
    return result
