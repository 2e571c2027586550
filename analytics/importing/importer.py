"""Import compounds, parcels, facilities, roads and barriers from the files planners have: prepare, then commit.

``prepare`` reads an upload (zipped shapefile in GBK or UTF-8, GeoJSON, GeoPackage, CSV or XLSX with
coordinate columns), decides its CRS (from the file, declared, or detected from the coordinate ranges)
and attribute encoding, proposes the field mapping and validates every row — and stores nothing. The
returned ``Preview`` says what was assumed. ``commit`` writes the valid rows in one transaction (replace
or append), records the import in the audit log and keeps the previous state so that
``undo_last_import`` can put it back. Both write functions check the acting user's permission first.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics._sql import scalar
from analytics.errors import DataError, ImportRejected, InputError
from analytics.importing import records, write
from analytics.importing.crs import CRSChoice, choose_crs, representative_xy, to_storage
from analytics.importing.fields import (
    KEYS,
    KINDS,
    TABLE_KINDS,
    Kind,
    check_mapping,
    fields_for,
    find_header_row,
    header_columns,
    propose_mapping,
)
from analytics.importing.files import RawTable, read_upload
from analytics.importing.validate import is_blank, parse_number, validate
from analytics.services.auth import User, require
from analytics.store import audit, insert_frame, table_columns

log = logging.getLogger(__name__)

Mode = Literal["replace", "append"]
MODES: tuple[str, ...] = ("append", "replace")  # append first: what a form offers by default deletes nothing
# Tables whose rows refer to compounds: replacing compounds removes the rows of compounds no longer there.
COMPOUND_DEPENDENTS: tuple[str, ...] = ("buildings", "funding", "progress_reports")
IMPORT_ACTIONS: tuple[str, ...] = ("import", "report", "undo", "restore", "restore_snapshot", "adopt_plan")


@dataclass
class Preview:
    """What ``prepare`` found: nothing is stored until ``commit``.

    Attributes
    ----------
    kind, file_name, file_sha256, file_size
        The target table and the uploaded file (SHA-256 hex digest, bytes).
    format, layers, layer
        ``"shapefile"``, ``"geojson"``, ``"gpkg"``, ``"csv"`` or ``"xlsx"``; the layers/sheets found and
        the one read.
    encoding, encoding_source
        Attribute encoding used (``"GBK"``, ``"UTF-8"``…) and how it was decided (``"cpg"``,
        ``"detected"``, ``"declared"``, ``"format"``).
    crs
        The source CRS and how it was decided (``CRSChoice``); ``None`` when the mapping lacks coordinates.
    columns, mapping, header_row
        Source columns, target field -> source column, and for CSV/XLSX the 1-based header row.
    rows
        Typed table rows (a GeoDataFrame in EPSG:4326 for the spatial tables) with ``_row`` (source row
        number: the sheet/CSV line, or the feature number) and ``_valid``.
    problems
        Row-level report: ``row, field, code, problem, value, severity``.
    error
        Set when the file cannot be imported as mapped (a required field or the coordinates not mapped);
        the mapping can be changed and ``prepare`` called again.
    """

    kind: Kind
    file_name: str
    file_sha256: str
    file_size: int
    format: str
    layers: list[str]
    layer: str | None
    encoding: str | None
    encoding_source: str | None
    crs: CRSChoice | None
    columns: list[str]
    mapping: dict[str, str | None]
    header_row: int | None
    rows: pd.DataFrame
    problems: pd.DataFrame
    error: ImportRejected | None = None
    fields: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows read from the file."""
        return len(self.rows)

    @property
    def n_valid(self) -> int:
        """Rows that passed every check."""
        return int(self.rows["_valid"].sum()) if len(self.rows) else 0

    @property
    def n_invalid(self) -> int:
        """Rows with at least one error."""
        return self.n_rows - self.n_valid

    @property
    def n_warnings(self) -> int:
        """Warnings in the row report."""
        return int((self.problems["severity"] == "warning").sum()) if len(self.problems) else 0

    @property
    def ignored_columns(self) -> list[str]:
        """Columns of the file that no field is mapped to."""
        used = {c for c in self.mapping.values() if c}
        return [c for c in self.columns if c not in used]


@dataclass(frozen=True)
class ImportResult:
    """What ``commit`` wrote: ``import_id`` is its audit-log id (the key undo uses)."""

    import_id: int
    kind: str
    mode: str
    file_name: str
    rows_in: int
    rows_written: int
    rows_rejected: int
    removed: dict[str, int]
    replaced: int = 0
    """Rows of the table itself a replace deleted (0 for an append)."""


@dataclass(frozen=True)
class UndoResult:
    """What ``undo_last_import`` put back.

    ``restored`` is the size of each table's snapshot; ``changes`` per table ``(removed, restored)``: the rows
    the undo took away (the write had added or changed them) and the rows it put back.
    """

    undone_import_id: int
    audit_id: int
    action: str
    table_name: str
    file_name: str | None
    restored: dict[str, int]
    changes: dict[str, tuple[int, int]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- prepare
def _tabular_attributes(raw: RawTable, kind: str, file_name: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Header row chosen, blank rows dropped: (attributes, sheet row numbers, 1-based header row).

    Refused (``ImportRejected``) without a table, without data rows, or with more than
    ``settings.IMPORT_MAX_ROWS`` rows.
    """
    grid = raw.grid
    if grid is None:
        raise ImportRejected("The file holds no table.", kind="unreadable")
    header = find_header_row(grid, kind)
    body = grid.iloc[header + 1:]
    if len(body):
        blank = np.ones(len(body), dtype=bool)
        for col in body.columns:
            blank &= np.fromiter((is_blank(v) for v in body[col].tolist()), dtype=bool, count=len(body))
        body = body[~blank]
    if body.empty:
        raise ImportRejected("The table has a header but no data rows.", kind="empty")
    if len(body) > settings.IMPORT_MAX_ROWS:
        raise ImportRejected(
            f"{file_name!r} has more than {settings.IMPORT_MAX_ROWS:,} rows; split it into smaller files.",
            kind="too_large",
        )
    attributes = pd.DataFrame(body.to_numpy(), columns=header_columns(list(grid.iloc[header])))
    return attributes, body.index.to_numpy() + 1, header + 1


def _described(data: bytes, file_name: str, raw: RawTable, columns: list[str], kind: str,
               mapping: dict[str, str | None] | None, *, tabular: bool, header_row: int | None) -> dict[str, Any]:
    """What a preview says of the file, with the mapping chosen under ``"mapping"``.

    The chosen mapping is the proposal for ``columns`` with ``mapping`` (checked first) put over it.
    """
    chosen = propose_mapping(columns, kind, tabular=tabular)
    if mapping is not None:
        check_mapping(mapping, columns, kind, tabular=tabular)
        chosen.update(mapping)
    return dict(
        kind=kind, file_name=file_name, file_sha256=hashlib.sha256(data).hexdigest(), file_size=len(data),
        format=raw.format, layers=raw.layers, layer=raw.layer, encoding=raw.encoding,
        encoding_source=raw.encoding_source, columns=columns, mapping=chosen, header_row=header_row,
        fields=[f.name for f in fields_for(kind, tabular=tabular)],
    )


def _points(attributes: pd.DataFrame, mapping: dict[str, str | None]) -> gpd.GeoSeries:
    """Shapes of a CSV/XLSX table from its WKT column or its x/y columns (unparseable cells give no shape)."""
    if mapping.get("wkt"):
        texts = attributes[mapping["wkt"]]
        shapes = []
        for value in texts.tolist():
            try:
                shapes.append(None if is_blank(value) else shapely.from_wkt(str(value)))
            except shapely.errors.GEOSException:
                shapes.append(None)
        return gpd.GeoSeries(shapes)

    def number(value: object) -> float:
        try:
            return np.nan if is_blank(value) else parse_number(value)
        except (ValueError, TypeError):
            return np.nan

    x = np.array([number(v) for v in attributes[mapping["x"]].tolist()], dtype=float)
    y = np.array([number(v) for v in attributes[mapping["y"]].tolist()], dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    points = np.full(len(x), None, dtype=object)
    points[ok] = shapely.points(x[ok], y[ok])
    return gpd.GeoSeries(points)


def prepare(
    data: bytes,
    file_name: str,
    *,
    kind: Kind,
    user: User | None,
    mapping: dict[str, str | None] | None = None,
    crs: int | str | None = None,
    swap_xy: bool | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    zones: dict[str, tuple[str, ...]] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Preview:
    """Read, map and validate an upload for table ``kind``; nothing is stored.

    Parameters
    ----------
    data, file_name
        The upload's bytes and name (the extension decides the format).
    user
        Who uploads; must hold the ``"import"`` permission, checked before a byte of the file is read
        (parsing is the costly part, so nobody without the permission can make the server do it).
    kind
        ``"compounds"``, ``"parcels"``, ``"facilities"``, ``"roads"`` (lines only) or ``"barriers"`` (lines or
        polygons), or one of the programme's tables ``TABLE_KINDS`` (``"annual_targets"``, ``"projects"``,
        ``"fund_flows"``, ``"aftercare"``, ``"findings"``: CSV or XLSX, validated by ``analytics.importing.records``).
    mapping
        Target field -> source column (or ``None``), replacing the proposed mapping; fields left out keep
        the proposal.
    crs
        Declared source CRS: an EPSG code (4326, 4490, 4548, 4527, 4498, …) or ``"gcj02"`` (Amap/Gaode
        degrees, converted to WGS84). Default: the file's CRS, else detected from the coordinate ranges.
    swap_xy
        Force (``True``) or forbid (``False``) exchanging x and y; default detect.
    encoding
        Attribute/text encoding instead of the ``.cpg`` or detection (``"GBK"``, ``"UTF-8"``).
    layer
        Shapefile in the zip (``folder/name``), GeoPackage layer or XLSX sheet; default the first.
    zones
        The function zones a compound may name (``analytics.units.zones(con)``, so a zone an
        administrator added is known); default the zones of ``settings``.
    con
        The database the rows of a programme table refer to (units, compounds, projects, money already
        stored); required for those tables, read only.

    Raises
    ------
    PermissionDenied
        ``user`` may not import (checked first).
    ImportRejected
        The file is unusable: too large, empty, unsafe zip, unreadable, wrong encoding, no geometry, CRS
        not recognised (``kind`` says which).
    """
    user = require(user, "import")
    if kind not in KINDS:
        raise InputError(f"`kind` was {kind!r} but must be one of {KINDS!r}.")
    if kind in TABLE_KINDS:
        if con is None:
            raise InputError(f"`con` is needed to check the references of a {kind} import.")
        return _prepare_records(data, file_name, kind=kind, mapping=mapping, encoding=encoding, layer=layer,
                                refs=records.references(con))
    raw = read_upload(data, file_name, layer=layer, encoding=encoding)
    tabular = raw.grid is not None
    header_row = None
    if tabular:
        attributes, row_numbers, header_row = _tabular_attributes(raw, kind, file_name)
    else:
        if raw.attributes is None or raw.geometry is None:
            raise ImportRejected(f"{file_name!r} holds no features.", kind="unreadable")
        attributes = raw.attributes.reset_index(drop=True)
        row_numbers = np.arange(1, len(attributes) + 1)
    columns = [str(c) for c in attributes.columns]
    attributes.columns = columns
    base = _described(data, file_name, raw, columns, kind, mapping, tabular=tabular, header_row=header_row)
    chosen = base["mapping"]
    empty = gpd.GeoDataFrame({"_row": [], "_valid": []}, geometry=[], crs=settings.STORAGE_CRS)
    no_problems = pd.DataFrame(columns=["row", "field", "code", "problem", "value", "severity"])

    if tabular:
        if not chosen.get("wkt") and not (chosen.get("x") and chosen.get("y")):
            error = ImportRejected(
                f"{file_name!r} has no coordinate columns (lon/lat, X/Y or WKT) that could be recognised; "
                "map them to x and y.", kind="no_geometry")
            return Preview(crs=None, rows=empty, problems=no_problems, error=error, **base)
        geometry = _points(attributes, chosen)
    else:
        geometry = cast(gpd.GeoSeries, raw.geometry).reset_index(drop=True)
    present = ~(geometry.isna() | geometry.is_empty)
    if not present.any():
        raise ImportRejected(f"{file_name!r} has no usable geometry in any row.", kind="no_geometry")
    x, y = representative_xy(geometry)
    choice = choose_crs(x, y, file_crs=raw.file_crs, declared=crs, swap=swap_xy)
    stored = to_storage(geometry, choice)
    try:
        rows, problems = validate(attributes, stored, chosen, kind, row_numbers=row_numbers, tabular=tabular,
                                  zones=zones)
    except ImportRejected as exc:
        if exc.kind != "mapping":
            raise
        return Preview(crs=choice, rows=empty, problems=no_problems, error=exc, **base)
    if con is not None and kind == "compounds" and chosen.get("project_id"):
        problems = _unknown_projects(con, rows, problems)
    log.info("prepared %s for %s: %d rows, %d valid, CRS %s", file_name, kind, len(rows),
             int(rows["_valid"].sum()), choice.label)
    return Preview(crs=choice, rows=rows, problems=problems, **base)


def _unknown_projects(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """The row report with a warning for each compound naming a project not stored (it is stored as given)."""
    known = {r[0] for r in con.execute("SELECT id FROM projects").fetchall()}
    extra = [{"row": int(r), "field": "project_id", "code": "unknown_project",
              "problem": "No stored project has this id (the compound keeps it).", "value": str(p),
              "severity": "warning"}
             for r, p in zip(rows["_row"], rows["project_id"]) if p is not None and not pd.isna(p) and p not in known]
    if not extra:
        return problems
    out = pd.concat([problems, pd.DataFrame(extra)], ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    return out.sort_values(["row", "field"], na_position="first", kind="stable").reset_index(drop=True)


def _prepare_records(data: bytes, file_name: str, *, kind: str, mapping: dict[str, str | None] | None,
                     encoding: str | None, layer: str | None, refs: records.References) -> Preview:
    """``prepare`` for a programme table: a CSV or XLSX table, no locations."""
    if Path(file_name).suffix.lower() not in (".csv", ".xlsx"):
        raise ImportRejected(
            f"{file_name!r} has the extension {Path(file_name).suffix.lower()!r}, but {kind} is a plain table: "
            "upload it as CSV or XLSX (the template).", kind="format", table=kind)
    raw = read_upload(data, file_name, layer=layer, encoding=encoding)
    attributes, row_numbers, header_row = _tabular_attributes(raw, kind, file_name)
    columns = [str(c) for c in attributes.columns]
    attributes.columns = columns
    base = _described(data, file_name, raw, columns, kind, mapping, tabular=True, header_row=header_row)
    base["crs"] = None
    chosen = base["mapping"]
    try:
        rows, problems = records.validate_records(attributes, chosen, kind, row_numbers=row_numbers, refs=refs)
    except ImportRejected as exc:
        if exc.kind != "mapping":
            raise
        empty = pd.DataFrame({"_row": pd.Series([], dtype="int64"), "_valid": pd.Series([], dtype=bool)})
        no_problems = pd.DataFrame(columns=["row", "field", "code", "problem", "value", "severity"])
        return Preview(rows=empty, problems=no_problems, error=exc, **base)
    log.info("prepared %s for %s: %d rows, %d valid", file_name, kind, len(rows), int(rows["_valid"].sum()))
    return Preview(rows=rows, problems=problems, **base)


def remap(preview: Preview, data: bytes, mapping: dict[str, str | None], *, user: User | None,
          zones: dict[str, tuple[str, ...]] | None = None, con: duckdb.DuckDBPyConnection | None = None) -> Preview:
    """``prepare`` again with a changed mapping, keeping every other choice of ``preview``."""
    declared = None
    if preview.crs is not None and preview.crs.source == "declared":
        declared = "gcj02" if preview.crs.gcj02 else preview.crs.epsg
    return prepare(data, preview.file_name, kind=preview.kind, user=user, mapping=mapping, crs=declared,
                   encoding=preview.encoding if preview.encoding_source == "declared" else None,
                   layer=preview.layer, zones=zones, con=con)


# ----------------------------------------------------------------------------------------------- commit


def _table_rows(preview: Preview, rows: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows with only the table's columns, typed for DuckDB (dates as datetime64, nullable ints/floats)."""
    columns = set(table_columns(con, preview.kind))
    specs = {f.name: f for f in fields_for(preview.kind, tabular=False)}
    keep = [c for c in rows.columns if c in columns and c != "geom"]
    out = pd.DataFrame(index=rows.index)
    for name in keep:
        spec = specs.get(name)
        out[name] = write.typed(rows[name], spec.type if spec is not None else "text")
    if not isinstance(rows, gpd.GeoDataFrame):
        return out
    return gpd.GeoDataFrame(out, geometry=rows.geometry, crs=rows.crs)


def _stored_keys(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> pd.Series:
    """Whether each row's key (``KEYS[table]``) is already stored."""
    key = KEYS[table]
    if frame.empty:
        return pd.Series([], dtype=bool)
    stored = {tuple(str(v) for v in r) for r in con.execute(
        f"SELECT {', '.join(key)} FROM {table}").fetchall()}
    return pd.Series([tuple(str(v) for v in r) in stored for r in frame[list(key)].itertuples(index=False)],
                     index=frame.index, dtype=bool)


def _replaced_years(frame: pd.DataFrame) -> list[int]:
    """The years an annual-targets file replaces: those it holds (other years' targets stay)."""
    return sorted({int(y) for y in frame["year"].dropna()})


def stored_impact(con: duckdb.DuckDBPyConnection, preview: Preview) -> dict[str, int]:
    """What committing ``preview`` would touch: rows now stored, keys already stored, rows a replace removes.

    ``stored_rows`` are the rows a replace removes (for annual targets: the rows of the file's years).
    For compounds, the rows of other tables (buildings, funding, progress_reports) a replace would remove.
    """
    valid = preview.rows[preview.rows["_valid"]] if len(preview.rows) else preview.rows
    if valid.empty:
        return {"stored_rows": write.count_rows(con, preview.kind), "ids_already_stored": 0}
    stored_rows = write.count_rows(con, preview.kind)
    if preview.kind == "annual_targets":
        years = _replaced_years(valid)
        stored_rows = int(scalar(con, "SELECT count(*) FROM annual_targets WHERE list_contains(?, year)", [years]))
    out = {"stored_rows": stored_rows, "ids_already_stored": int(_stored_keys(con, preview.kind, valid).sum())}
    if preview.kind == "roads" and _demo_barriers(con):
        out["replace_removes_barriers"] = write.count_rows(con, "barriers")
    if preview.kind == "compounds":
        con.register("__incoming_ids", pd.DataFrame({"id": valid["id"].dropna().astype(str)}))
        try:
            for table in COMPOUND_DEPENDENTS:
                out[f"replace_removes_{table}"] = int(scalar(
                    con, f"SELECT count(*) FROM {table} WHERE compound_id NOT IN (SELECT id FROM __incoming_ids)"
                ))
        finally:
            con.unregister("__incoming_ids")
    return out


def _check_references(con: duckdb.DuckDBPyConnection, file_name: str, frame: pd.DataFrame,
                      rows: pd.DataFrame) -> None:
    """At the point of writing, every compound and project a row names is still stored."""
    checks = [("compound_id", "compounds"), ("project_id", "projects")]
    named = [(column, table, cid) for column, table in checks if column in frame
             for cid in frame[column].dropna().unique()]
    if "compound_ids" in rows:
        named += [("compound_ids", "compounds", cid) for ids in rows["compound_ids"] for cid in ids]
    stored = {table: {r[0] for r in con.execute(f"SELECT id FROM {table}").fetchall()} for _, table in checks}
    gone = [(column, cid) for column, table, cid in named if cid not in stored[table]]
    if gone:
        raise ImportRejected(
            f"{file_name!r} names {len(gone)} compound(s) or project(s) no longer stored (e.g. {gone[0][1]!r}); the "
            "data changed since the preview: prepare the file again.", kind="validation")


def _link_projects(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, *, replace: bool) -> dict[str, int]:
    """Compounds listed by the imported projects join them.

    After a replace, compounds of projects no longer stored belong to none; returns
    ``{"compounds_unlinked": n}`` then.
    """
    out = {}
    if replace:
        out["compounds_unlinked"] = int(scalar(
            con, "SELECT count(*) FROM compounds WHERE project_id IS NOT NULL AND project_id NOT IN "
                 "(SELECT id FROM projects)"))
        con.execute("UPDATE compounds SET project_id = NULL WHERE project_id NOT IN (SELECT id FROM projects)")
    links = [(cid, pid) for pid, ids in zip(rows["id"], rows["compound_ids"]) for cid in ids]
    if links:
        con.register("__links", pd.DataFrame(links, columns=["compound_id", "project_id"]))
        try:
            con.execute("UPDATE compounds SET project_id = l.project_id FROM __links l WHERE compounds.id = l.compound_id")
        finally:
            con.unregister("__links")
    return out


def _demo_barriers(con: duckdb.DuckDBPyConnection) -> bool:
    """True when barriers are stored and none was imported (they are the demo's, drawn for the demo's roads)."""
    imported = scalar(con, "SELECT count(*) FROM dataset_info WHERE key = 'source_barriers'")
    return not imported and write.count_rows(con, "barriers") > 0


def _rebuild_plans(con: duckdb.DuckDBPyConnection) -> None:
    """Annual plans follow the compounds: one row per plan year and county, summed.

    Candidates (no plan year) are in no year's plan.
    """
    con.execute("DELETE FROM annual_plans")
    con.execute(
        """INSERT INTO annual_plans (plan_year, county_code, compounds, households, floor_area_m2, invest_planned_wan)
           SELECT plan_year, county_code, count(*), sum(households), sum(floor_area_m2), sum(invest_planned_wan)
           FROM compounds WHERE plan_year IS NOT NULL GROUP BY plan_year, county_code"""
    )


def commit(
    con: duckdb.DuckDBPyConnection,
    preview: Preview,
    *,
    user: User | None,
    mode: Mode = "replace",
    only_valid: bool = False,
) -> ImportResult:
    """Write a prepared import in one transaction: it lands whole or not at all.

    Parameters
    ----------
    con
        The database to write.
    preview
        From ``prepare``.
    user
        The acting user; must hold the ``"import"`` permission (checked first).
    mode
        ``"replace"`` (the table's rows become the file's; for compounds, buildings, funding and weekly
        reports of compounds no longer present are removed; for roads, the demo's barriers are removed
        unless barriers were imported; for annual targets only the file's years are replaced; for projects,
        compounds of projects no longer present belong to none) or ``"append"`` (keys already stored are
        refused).
    only_valid
        Import the valid rows and skip rows with errors (and, in append mode, ids already stored);
        by default any error refuses the whole file.

    Raises
    ------
    PermissionDenied
        ``user`` may not import.
    ImportRejected
        The preview has errors (``problems`` holds them) or no valid rows; nothing was stored.
    """
    user = require(user, "import", con=con)
    if mode not in MODES:
        raise InputError(f"`mode` was {mode!r} but must be one of {MODES!r}.")
    if preview.error is not None:
        raise preview.error
    problems = preview.problems
    errors = problems[problems["severity"] == "error"] if len(problems) else problems
    if len(errors) and not only_valid:
        raise ImportRejected(
            f"{preview.file_name!r} has {preview.n_invalid} row(s) with errors ({len(errors)} problems); fix the "
            "file or import only the valid rows.",
            problems=errors.to_dict("records"), kind="validation",
        )
    rows = preview.rows[preview.rows["_valid"]]
    if rows.empty:
        raise ImportRejected(f"{preview.file_name!r} has no valid rows to import.",
                             problems=errors.to_dict("records"), kind="validation")
    table = preview.kind
    frame = _table_rows(preview, rows, con)

    key = KEYS[table]

    def work() -> ImportResult:
        nonlocal frame
        rejected = preview.n_invalid
        if mode == "append":
            clash = _stored_keys(con, table, frame)
            if clash.any() and not only_valid:
                clash_rows = rows.loc[clash, "_row"].tolist()
                keys = [" / ".join(str(v) for v in r) for r in frame.loc[clash, list(key)].itertuples(index=False)]
                raise ImportRejected(
                    f"{int(clash.sum())} id(s) of {preview.file_name!r} are already stored (e.g. "
                    f"{keys[0]!r}); choose replace, or import only the new rows.",
                    problems=[{"row": r, "field": key[-1], "code": "id_stored", "problem": "The id is already stored.",
                               "value": i, "severity": "error"}
                              for r, i in zip(clash_rows, keys)],
                    kind="conflict",
                )
            rejected += int(clash.sum())
            frame = frame[~clash]
            if frame.empty:
                raise ImportRejected(f"Every id of {preview.file_name!r} is already stored; nothing to append.",
                                     kind="conflict")
        if table in TABLE_KINDS:
            _check_references(con, preview.file_name, frame, rows)
        scope: write.Scope = {table: {}, "dataset_info": {}}
        if table == "projects":
            scope["compounds"] = {}  # compounds.project_id follows the projects
        # an imported road network replaces the demo's with its river: the demo's barriers go too
        drop_barriers = table == "roads" and mode == "replace" and _demo_barriers(con)
        if drop_barriers:
            scope["barriers"] = {}
        if table == "compounds":
            scope.update({"annual_plans": {}})
            if mode == "replace":
                scope.update({dep: {} for dep in COMPOUND_DEPENDENTS})
        import_id = audit.record(
            con, username=user.username, action="import", table_name=table, file_name=preview.file_name,
            file_sha256=preview.file_sha256, mode=mode, rows_in=preview.n_rows, rows_written=len(frame),
            rows_rejected=rejected,
            detail={"format": preview.format, "layer": preview.layer, "encoding": preview.encoding,
                    "crs": preview.crs.label if preview.crs else None,
                    "mapping": {k: v for k, v in preview.mapping.items() if v}},
        )
        write.start_batch(con, import_id, scope, username=user.username, action="import", table_name=table,
                          mode=mode, file_name=preview.file_name)
        replaced = 0
        if mode == "replace" and table == "annual_targets":
            replaced = int(scalar(con, "SELECT count(*) FROM annual_targets WHERE list_contains(?, year)",
                                  [_replaced_years(frame)]))
            con.execute("DELETE FROM annual_targets WHERE list_contains(?, year)", [_replaced_years(frame)])
        elif mode == "replace":
            replaced = write.count_rows(con, table)
            con.execute(f"DELETE FROM {table}")
        stamped = frame.copy()
        if "submitted_by" in table_columns(con, table):
            stamped["submitted_by"] = user.username
            stamped["submitted_at"] = pd.Timestamp(datetime.now())
        insert_frame(con, table, stamped)
        removed = {}
        if table == "projects":
            removed = _link_projects(con, rows.loc[frame.index], replace=mode == "replace")
        if drop_barriers:
            removed["barriers"] = write.count_rows(con, "barriers")
            con.execute("DELETE FROM barriers")
        if table == "compounds":
            if mode == "replace":
                for dep in COMPOUND_DEPENDENTS:
                    before = write.count_rows(con, dep)
                    con.execute(f"DELETE FROM {dep} WHERE compound_id NOT IN (SELECT id FROM compounds)")
                    removed[dep] = before - write.count_rows(con, dep)
            _rebuild_plans(con)
        write.set_info(con, {"is_demo": "false", "source": "imported", f"source_{table}": preview.file_name,
                             f"imported_{table}_at": datetime.now().isoformat(timespec="seconds")})
        return ImportResult(import_id, table, mode, preview.file_name, preview.n_rows, len(frame), rejected, removed,
                            replaced)

    result = write.in_transaction(con, work)
    log.info("imported %s into %s (%s): %d written, %d rejected", preview.file_name, table, mode,
             result.rows_written, result.rows_rejected)
    return result


# ------------------------------------------------------------------------------------------------- undo
def undo_candidate(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The write ``undo_last_import`` would undo, or ``None`` when there is nothing left to undo.

    Keys: ``import_id, action, table_name, file_name, logged_at, username``.
    """
    batch = write.latest_batch(con)
    if batch is None or batch["snapshot_dropped"]:
        return None
    return {k: batch[k] for k in ("import_id", "action", "table_name", "file_name", "logged_at", "username", "mode")}


def undo_last_import(con: duckdb.DuckDBPyConnection, *, user: User | None) -> UndoResult:
    """Undo the newest import or weekly report still standing: its tables return exactly to their previous rows.

    The undo is itself recorded in the audit log. Call again to undo the one before (up to
    ``settings.UNDO_DEPTH`` writes back).

    Raises
    ------
    PermissionDenied
        ``user`` may not undo.
    DataError
        Nothing to undo (or its snapshot is older than the undo depth).
    """
    user = require(user, "undo", con=con)

    def work() -> UndoResult:
        batch = write.latest_batch(con)
        if batch is None:
            raise DataError("There is no import to undo.")
        if batch["snapshot_dropped"]:
            raise DataError(
                f"Import {batch['import_id']} ({batch['file_name']!r}) is older than the last "
                f"{settings.UNDO_DEPTH} writes and can no longer be undone."
            )
        audit_id, restored, changes = write.undo_batch(con, batch, username=user.username)
        return UndoResult(batch["import_id"], audit_id, batch["action"], batch["table_name"], batch["file_name"],
                          restored, changes)

    result = write.in_transaction(con, work)
    log.info("undid import %d (%s)", result.undone_import_id, result.file_name)
    return result


def import_history(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> pd.DataFrame:
    """Every import, weekly report, undo and restore in the audit log, newest first.

    ``undone_by`` is the audit id of the undo for writes that were undone.
    """
    return con.execute(
        f"""SELECT a.id, a.logged_at, a.username, a.action, a.table_name, a.file_name, a.file_sha256, a.mode,
                   a.rows_in, a.rows_written, a.rows_rejected, b.undone_by, a.detail
            FROM audit_log a LEFT JOIN import_batches b ON b.import_id = a.id
            WHERE a.action IN ({', '.join('?' for _ in IMPORT_ACTIONS)})
            ORDER BY a.id DESC LIMIT ?""",
        [*IMPORT_ACTIONS, limit],
    ).fetchdf()


def dataset_status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per importable table: ``table, rows, source, imported_at``; weekly reports last.

    ``source`` is the file last imported, ``"demo"`` for demo rows, ``""`` when the table is empty.
    """
    info = dict(con.execute("SELECT key, value FROM dataset_info").fetchall())
    rows = []
    for table in (*KINDS, "progress_reports"):
        count = write.count_rows(con, table)
        # Rows no import has replaced come from the demo build.
        source = (info.get(f"source_{table}") or "demo") if count else ""
        rows.append({"table": table, "rows": count, "source": source,
                     "imported_at": info.get(f"imported_{table}_at", "")})
    return pd.DataFrame(rows)


def problems_for_download(preview: Preview) -> pd.DataFrame:
    """The validation report with the file name and source columns, ready for an XLSX download."""
    report = preview.problems.copy()
    report.insert(1, "column", report["field"].map(lambda f: preview.mapping.get(f) or ""))
    return report


__all__ = [
    "ImportResult", "Preview", "UndoResult", "commit", "dataset_status", "import_history", "prepare",
    "problems_for_download",
    "remap", "stored_impact", "undo_candidate", "undo_last_import",
]
