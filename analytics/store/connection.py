"""The DuckDB store: open it (spatial extension loaded offline), read layers as GeoDataFrames, write frames."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

from analytics import settings
from analytics._sql import scalar
from analytics.errors import DatabaseLocked, InputError
from analytics.store.schema import current_version, migrate

log = logging.getLogger(__name__)

LAYERS = ("counties", "compounds", "buildings", "parcels", "facilities", "roads", "barriers")
SPATIAL_VERSION = "v1.5.5"


def spatial_extension_path() -> Path:
    """Path of the spatial extension file shipped inside the ``duckdb-extension-spatial`` pip package."""
    import duckdb_extension_spatial

    path = Path(duckdb_extension_spatial.__file__).parent / "extensions" / SPATIAL_VERSION / "spatial.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(
            f"The DuckDB spatial extension was not found at {path}; install `duckdb-extension-spatial==1.5.5`."
        )
    return path


def load_spatial(con: duckdb.DuckDBPyConnection) -> None:
    """Load the spatial extension from the pip package (never from the internet)."""
    con.execute(f"LOAD '{spatial_extension_path()}'")


def _raw_connect(path: Path | str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
    }
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLocked(
                f"The database file {str(path)!r} is in use by another process; close it (or stop the other "
                "dashboard) and try again."
            ) from exc
        raise
    load_spatial(con)
    return con


def connect(path: Path | str | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the project database with the spatial extension loaded.

    Parameters
    ----------
    path
        Database file; ``None`` means ``settings.DB_PATH`` (env ``JIUGAI_DB``). ``":memory:"`` gives an
        empty in-memory database with the schema applied. A missing file is built from the bundled
        county boundaries and the seeded demo dataset first (written to a temporary file and renamed, so
        an interrupted build never leaves a half database).
    read_only
        Open without write access (the schema is not migrated).
    """
    path = settings.DB_PATH if path is None else path
    if str(path) == ":memory:":
        con = _raw_connect(":memory:", read_only=False)
        migrate(con)
        return con
    path = Path(path)
    if not path.exists():
        build_demo_database(path)
    con = _raw_connect(path, read_only=read_only)
    if not read_only:
        before = current_version(con)
        migrate(con)
        if 0 < before < ROADS_VERSION:
            _add_demo_streets(con)
    return con


ROADS_VERSION = 9
"""Schema version that brought the ``roads`` and ``barriers`` tables."""


def _add_demo_streets(con: duckdb.DuckDBPyConnection) -> None:
    """Give a demo database from before the road tables the streets and river a fresh build has.

    Only while it still holds the demo (``is_demo``: nothing imported) and no roads; the streets are drawn
    around its stored compounds and parcels with its seed, as ``build_demo_database`` does.
    """
    from analytics.store import demo, demo_city

    info = dataset_info(con)
    if info.get("is_demo") != "true" or scalar(con, "SELECT count(*) FROM roads"):
        return
    occupied = [read_layer(con, "compounds"), read_layer(con, "parcels")]
    seed = int(info.get("seed", settings.DEMO_SEED))
    streets = demo_city.demo_network(demo._jining_cities().values(), seed, block_m=demo.CELL_M, occupied=occupied)
    write_dataset(con, streets)
    log.info("added the demo's streets (%d roads, %d barriers) to a database from before schema v%d",
             len(streets["roads"]), len(streets["barriers"]), ROADS_VERSION)


def build_demo_database(path: Path | str, *, seed: int = settings.DEMO_SEED) -> Path:
    """Create ``path`` holding the schema, the real counties and the demo dataset for ``seed``."""
    from analytics.store import demo

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".building", dir=path.parent)
    os.close(fd)
    os.unlink(tmp_name)
    try:
        con = _raw_connect(tmp_name, read_only=False)
        try:
            migrate(con)
            data = demo.generate(seed=seed)
            write_dataset(con, data)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp_name, path)
    finally:
        for leftover in (tmp_name, tmp_name + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    log.info("built demo database %s (seed %d)", path, seed)
    return path


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of ``table`` in schema order."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_catalog = current_database() AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Insert ``frame`` into ``table`` (columns matched by name; a GeoDataFrame's geometry goes to ``geom``).

    Geometries are converted to ``settings.STORAGE_CRS`` first. Runs inside the caller's transaction, if
    any. Returns the number of rows inserted.
    """
    if frame.empty:
        return 0
    columns = table_columns(con, table)
    data = pd.DataFrame(frame).copy()
    if isinstance(frame, gpd.GeoDataFrame):
        geo = frame.to_crs(settings.STORAGE_CRS) if frame.crs is not None else frame
        data = data.drop(columns=[frame.geometry.name])
        data["__wkb"] = shapely.to_wkb(geo.geometry.values)
    unknown = [c for c in data.columns if c not in columns and c != "__wkb"]
    if unknown:
        raise InputError(f"Columns {unknown!r} are not in table `{table}`; known columns are {columns!r}.")
    select = []
    for col in columns:
        if col == "geom" and "__wkb" in data.columns:
            select.append("ST_GeomFromWKB(__wkb) AS geom")
        elif col in data.columns:
            select.append(f'"{col}"')
    names = [c for c in columns if c in data.columns or (c == "geom" and "__wkb" in data.columns)]
    con.register("__insert_frame", data)
    try:
        con.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} FROM __insert_frame"
        )
    finally:
        con.unregister("__insert_frame")
    return len(data)


def write_dataset(con: duckdb.DuckDBPyConnection, data: dict[str, pd.DataFrame]) -> None:
    """Replace every table named in ``data`` with its frame, all in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in data.items():
            con.execute(f"DELETE FROM {table}")
            insert_frame(con, table, frame)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def read_layer(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    crs: int | str | None = settings.ANALYSIS_CRS,
    county_code: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a spatial table as a GeoDataFrame.

    Parameters
    ----------
    name
        One of ``"counties"``, ``"compounds"``, ``"buildings"``, ``"parcels"``, ``"facilities"``, ``"roads"``,
        ``"barriers"``.
    crs
        Output CRS; default EPSG:4548 (metres). ``None`` keeps the stored EPSG:4326.
    county_code
        Only rows of this county.

    Returns
    -------
    GeoDataFrame with ``id``, ``county_code``, the table's columns and a ``geometry`` column, ordered by id.
    """
    if name not in LAYERS:
        raise InputError(f"`name` was {name!r} but must be one of {LAYERS!r}.")
    where, params = "", []
    if county_code is not None:
        where, params = "WHERE county_code = ?", [county_code]
    frame = con.execute(
        f"SELECT * EXCLUDE (geom), ST_AsWKB(geom) AS __wkb FROM {name} {where} ORDER BY id", params
    ).fetchdf()
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("__wkb")])
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.STORAGE_CRS)
    if crs is not None and gdf.crs.to_epsg() != crs:
        gdf = gdf.to_crs(crs)
    return gdf


def dataset_info(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Key/value facts about the loaded dataset (source, seed, as-of date, is_demo)."""
    return dict(con.execute("SELECT key, value FROM dataset_info").fetchall())
