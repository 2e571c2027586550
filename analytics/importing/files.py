"""Read an uploaded file safely: size and zip checks, shapefile sets, attribute encodings, GIS and tabular formats.

Every failure raises ``ImportRejected`` with a one-sentence English message and a ``kind`` the page turns
into a label; nothing here writes anywhere but a private temporary folder that is removed afterwards.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import sqlite3
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
from openpyxl.packaging.manifest import Manifest
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS
from openpyxl.xml.functions import fromstring
from pyproj import CRS

from analytics import settings
from analytics.errors import ImportRejected

log = logging.getLogger(__name__)

Format = Literal["geojson", "gpkg", "shapefile", "csv", "xlsx"]
MB = 1024 * 1024
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SQLITE_MAGIC = b"SQLite format 3\x00"
_GB_NAMES = {"GBK", "CP936", "936", "ANSI936", "GB2312", "GB18030", "EUCCN", "MS936", "WINDOWS936"}
_UTF8_NAMES = {"UTF8", "65001", "UTF8SIG"}


@dataclass
class RawTable:
    """What was read from an upload, before field mapping.

    ``attributes`` holds the source columns of a GIS file (one row per feature) and ``geometry`` its shapes
    in the file's coordinates (``file_crs`` or ``None`` when the file declares none). A CSV or XLSX file
    gives ``grid`` instead: every cell as read, no header chosen yet (the field mapping finds it).
    """

    format: Format
    attributes: pd.DataFrame | None = None
    geometry: gpd.GeoSeries | None = None
    file_crs: CRS | None = None
    grid: pd.DataFrame | None = None
    encoding: str | None = None
    encoding_source: str | None = None  # "cpg", "detected", "declared" or "format"
    layers: list[str] = field(default_factory=list)
    layer: str | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- encodings
def codec_for(name: str) -> tuple[str, str, str]:
    """Python codec, GDAL encoding name and display label for an encoding name as found in a ``.cpg``.

    ``GBK``/``CP936``/``936``/``GB2312`` all read as GB18030 (a superset); ``65001`` and ``UTF8`` as UTF-8.
    """
    key = re.sub(r"[\s_\-]", "", str(name)).upper()
    if key.startswith("ANSI"):
        key = key[4:]
    if key in _GB_NAMES:
        return "gb18030", "GB18030", "GBK"
    if key in _UTF8_NAMES:
        return "utf-8", "UTF-8", "UTF-8"
    candidate = f"cp{key}" if key.isdigit() else str(name).strip()
    try:
        info = codecs.lookup(candidate)
    except LookupError:
        raise ImportRejected(
            f"The encoding {str(name)!r} is not known; use UTF-8 or GBK.", kind="encoding"
        ) from None
    return info.name, info.name.upper(), info.name.upper()


def _decode_cut(chunk: bytes, codec: str) -> str:
    """Decode strictly, allowing one multi-byte character cut off at the very end.

    Fixed-width DBF fields and 10-byte field names cut UTF-8 and GBK text mid-character.
    """
    try:
        return chunk.decode(codec)
    except UnicodeDecodeError as exc:
        cut_short = "end of data" in exc.reason or "incomplete" in exc.reason
        if cut_short and exc.end >= len(chunk) and exc.start >= len(chunk) - 3:
            return chunk[:exc.start].decode(codec)
        raise


def _decodes(chunks: list[bytes], codec: str) -> bool:
    """True if every chunk decodes strictly (allowing a character cut off at the end)."""
    try:
        for chunk in chunks:
            _decode_cut(chunk, codec)
    except UnicodeDecodeError:
        return False
    return True


def _repair_field_names(dbf: bytes, codec: str) -> bytes:
    """The DBF with field names cut mid-character trimmed to whole characters (GDAL refuses them)."""
    out = bytearray(dbf)
    header_len = int.from_bytes(dbf[8:10], "little")
    pos = 32
    while pos + 32 <= min(header_len, len(dbf)) and dbf[pos] != 0x0D:
        raw = dbf[pos:pos + 11].split(b"\0")[0]
        fixed = _decode_cut(raw, codec).encode(codec)
        out[pos:pos + 11] = fixed.ljust(11, b"\0")
        pos += 32
    return bytes(out)


def sniff_encoding(chunks: list[bytes]) -> tuple[str, str, str] | None:
    """UTF-8 if every chunk is valid UTF-8, else GBK if valid GB18030, else ``None``."""
    if _decodes(chunks, "utf-8"):
        return "utf-8", "UTF-8", "UTF-8"
    if _decodes(chunks, "gb18030"):
        return "gb18030", "GB18030", "GBK"
    return None


def decode_text(data: bytes, file_name: str, *, encoding: str | None = None) -> tuple[str, str, str]:
    """Decode a text file: the declared ``encoding``, else a BOM, else UTF-8, else GBK.

    Returns ``(text, label, source)`` where ``source`` is ``"declared"`` or ``"detected"``.
    """
    if encoding:
        codec, _, label = codec_for(encoding)
        try:
            return data.decode(codec).lstrip("\ufeff"), label, "declared"
        except UnicodeDecodeError as exc:
            raise ImportRejected(
                f"`encoding` was {encoding!r} but {file_name!r} is not valid {label} (byte {exc.start}); "
                "choose another encoding or let it be detected.",
                kind="encoding",
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8", "detected"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff"), "UTF-16", "detected"
        except UnicodeDecodeError:
            pass
    for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return data.decode(codec), label, "detected"
        except UnicodeDecodeError:
            continue
    raise ImportRejected(
        f"{file_name!r} is neither UTF-8 nor GBK text; save it as UTF-8 (or GBK) and upload it again.",
        kind="encoding",
    )


# ----------------------------------------------------------------------------------------------- limits
def check_size(data: bytes, file_name: str, *, max_mb: float | None = None) -> None:
    """Refuse an empty upload or one larger than ``settings.UPLOAD_MAX_MB`` (checked again here, in code)."""
    max_mb = settings.UPLOAD_MAX_MB if max_mb is None else max_mb
    if len(data) == 0:
        raise ImportRejected(f"{file_name!r} is empty (0 bytes); choose the file again.", kind="empty")
    if len(data) > max_mb * MB:
        raise ImportRejected(
            f"{file_name!r} is {len(data) / MB:.1f} MB but uploads are limited to {max_mb} MB; "
            "split the file or remove unused columns.",
            kind="too_large",
        )


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the archive author saw it (GBK names of Chinese zip tools decoded)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def open_zip(data: bytes, file_name: str, *, max_total_mb: float | None = None) -> zipfile.ZipFile:
    """Open ``data`` as a zip archive and check every member before anything is extracted.

    Refused: not a zip or truncated; more than ``settings.ZIP_MAX_MEMBERS`` members; more than
    ``max_total_mb`` (default ``settings.ZIP_MAX_TOTAL_MB``, near the upload limit) uncompressed in
    total; a member larger than ``settings.ZIP_RATIO_MIN_MB`` that expands more than
    ``settings.ZIP_MAX_RATIO`` times; absolute or ``..`` paths; symbolic links; encrypted members.
    """
    max_total_mb = settings.ZIP_MAX_TOTAL_MB if max_total_mb is None else max_total_mb
    if not data.startswith(ZIP_MAGIC):
        raise ImportRejected(f"{file_name!r} is not a zip archive (it does not start like one).", kind="unreadable")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise ImportRejected(
            f"{file_name!r} is not a readable zip archive ({exc}); it may be truncated — create it again.",
            kind="unreadable",
        ) from None
    if len(infos) > settings.ZIP_MAX_MEMBERS:
        raise ImportRejected(
            f"{file_name!r} holds {len(infos)} files but at most {settings.ZIP_MAX_MEMBERS} are accepted; "
            "zip only the layer to import.",
            kind="zip_unsafe",
        )
    total = sum(info.file_size for info in infos)
    if total > max_total_mb * MB:
        raise ImportRejected(
            f"{file_name!r} would expand to {total / MB:.0f} MB but at most {max_total_mb:g} MB "
            "are accepted; split the data into smaller files.",
            kind="zip_unsafe",
        )
    for info in infos:
        name = info.filename
        parts = re.split(r"[\\/]+", name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise ImportRejected(
                f"{file_name!r} contains the unsafe path {_member_name(info)!r} (absolute or with '..'); "
                "nothing was extracted.",
                kind="zip_unsafe",
            )
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            raise ImportRejected(
                f"{file_name!r} contains the symbolic link {_member_name(info)!r}; links are not accepted.",
                kind="zip_unsafe",
            )
        if info.flag_bits & 0x1:
            raise ImportRejected(
                f"{file_name!r} contains the encrypted file {_member_name(info)!r}; zip it without a password.",
                kind="zip_unsafe",
            )
        if info.file_size > settings.ZIP_RATIO_MIN_MB * MB and info.file_size > settings.ZIP_MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise ImportRejected(
                f"{file_name!r} member {_member_name(info)!r} expands {info.file_size / max(info.compress_size, 1):.0f} "
                f"times (limit {settings.ZIP_MAX_RATIO}); it looks like a zip bomb and was not extracted.",
                kind="zip_unsafe",
            )
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_name: str) -> bytes:
    """Read one checked member, never more bytes than its header declares (a lying header is refused)."""
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(MB):
                out += chunk
                if len(out) > info.file_size:
                    raise ImportRejected(
                        f"{file_name!r} member {_member_name(info)!r} is larger than its header says; "
                        "the archive was not extracted.",
                        kind="zip_unsafe",
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ImportRejected(
            f"{file_name!r} member {_member_name(info)!r} could not be extracted ({exc}); "
            "the archive is truncated or corrupt — create it again.",
            kind="unreadable",
        ) from None
    return bytes(out)


# ------------------------------------------------------------------------------------------- shapefiles
def _shapefile_sets(archive: zipfile.ZipFile) -> dict[str, dict[str, zipfile.ZipInfo]]:
    """Members grouped by folder and stem: ``{"folder/name": {".shp": info, ".dbf": info, ...}}``."""
    sets: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = _member_name(info).replace("\\", "/")
        path = PurePosixPath(name)
        if path.parts and (path.parts[0] == "__MACOSX" or path.name.startswith(".")):
            continue
        ext = path.suffix.lower()
        if ext in SHAPEFILE_PARTS:
            stem = str(path.with_suffix(""))
            sets.setdefault(stem, {})[ext] = info
    return {stem: parts for stem, parts in sorted(sets.items()) if ".shp" in parts}


def _dbf_chunks(data: bytes, file_name: str) -> list[bytes]:
    """Field names and character values of a dBASE file, as raw bytes (for encoding detection)."""
    if len(data) < 33:
        raise ImportRejected(f"The .dbf in {file_name!r} is truncated ({len(data)} bytes).", kind="unreadable")
    n_records = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    fields, pos = [], 32
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        fields.append((data[pos:pos + 11].split(b"\0")[0], chr(data[pos + 11]), data[pos + 16]))
        pos += 32
    if header_len + n_records * record_len > len(data):
        raise ImportRejected(
            f"The .dbf in {file_name!r} is truncated: its header announces {n_records} records but the file "
            "is too short; export the layer again.",
            kind="unreadable",
        )
    chunks = [name for name, _, _ in fields]
    slices, offset = [], 1
    for _, ftype, width in fields:
        if ftype == "C":
            slices.append((offset, offset + width))
        offset += width
    for i in range(min(n_records, 50_000)):
        record = data[header_len + i * record_len: header_len + (i + 1) * record_len]
        chunks += [record[a:b].rstrip(b" \0") for a, b in slices]
    return [c for c in chunks if c]


def _check_shp_length(data: bytes, file_name: str) -> None:
    """The .shp header states the file length (16-bit words); a shorter file was cut off."""
    if len(data) < 100 or int.from_bytes(data[0:4], "big") != 9994:
        raise ImportRejected(f"The .shp in {file_name!r} is not a valid shapefile (bad header).", kind="unreadable")
    declared = int.from_bytes(data[24:28], "big") * 2
    if len(data) < declared:
        raise ImportRejected(
            f"The .shp in {file_name!r} is truncated ({len(data)} of {declared} bytes); export the layer again.",
            kind="unreadable",
        )


def _shapefile_encoding(dbf: bytes, cpg: bytes | None, file_name: str, *, encoding: str | None) -> tuple[str, str, str]:
    """(GDAL encoding, display label, source) for a shapefile's attributes; checked against the bytes."""
    chunks = _dbf_chunks(dbf, file_name)
    if encoding:
        codec, gdal, label = codec_for(encoding)
        if not _decodes(chunks, codec):
            raise ImportRejected(
                f"`encoding` was {encoding!r} but the attributes of {file_name!r} are not valid {label}; "
                "choose another encoding or let it be detected.",
                kind="encoding",
            )
        return gdal, label, "declared"
    if cpg is not None and cpg.strip():
        declared = cpg.decode("ascii", errors="replace").strip()
        codec, gdal, label = codec_for(declared)
        if not _decodes(chunks, codec):
            raise ImportRejected(
                f"The .cpg of {file_name!r} says {declared!r} but the attributes are not valid {label}; "
                "fix or remove the .cpg, or choose the encoding.",
                kind="encoding",
            )
        return gdal, label, "cpg"
    found = sniff_encoding(chunks)
    if found is None:
        raise ImportRejected(
            f"The attributes of {file_name!r} are neither UTF-8 nor GBK; add a .cpg file naming the encoding "
            "or choose it.",
            kind="encoding",
        )
    return found[1], found[2], "detected"


def _read_gis(path: Path, file_name: str, *, layer: str | None = None, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a GIS file with pyogrio; any reader error becomes ``ImportRejected``.

    The feature and column counts are checked first (rows, columns and cells, see ``settings``) and at
    most ``settings.IMPORT_MAX_ROWS`` + 1 features are read, so a layer of millions of features or of
    200,000 features with 255 columns is refused without being loaded.
    """
    errors = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
              pyogrio.errors.GeometryError, pyogrio.errors.CRSError, UnicodeDecodeError, RuntimeError,
              ValueError, OSError)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            info = pyogrio.read_info(path, layer=layer, encoding=encoding)
            count, width = info.get("features", -1), len(info.get("fields", ()))
            if count is not None and count > settings.IMPORT_MAX_ROWS:
                raise ImportRejected(
                    f"{file_name!r} has {count:,} features, more than {settings.IMPORT_MAX_ROWS:,}; split it into "
                    "smaller files.",
                    kind="too_large",
                )
            if width > settings.IMPORT_MAX_COLUMNS:
                raise ImportRejected(
                    f"{file_name!r} has {width} columns but at most {settings.IMPORT_MAX_COLUMNS} are accepted.",
                    kind="too_large",
                )
            if count is not None and count * width > settings.IMPORT_MAX_CELLS:
                raise ImportRejected(
                    f"{file_name!r} has {count:,} features of {width} columns: more than "
                    f"{settings.IMPORT_MAX_CELLS:,} cells; delete the unused columns or split it into smaller files.",
                    kind="too_large",
                )
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding,
                                           max_features=settings.IMPORT_MAX_ROWS + 1)
        except ImportRejected:
            raise
        except errors as exc:
            detail = str(exc).split("\n")[0][:200]
            raise ImportRejected(
                f"{file_name!r} could not be read ({detail}); it may be truncated or not what its name says.",
                kind="unreadable",
            ) from None
    for warning in caught:
        log.info("reading %s: %s", file_name, warning.message)
    return frame


def _read_shapefile_zip(data: bytes, file_name: str, *, layer: str | None, encoding: str | None) -> RawTable:
    archive = open_zip(data, file_name)
    sets = _shapefile_sets(archive)
    if not sets:
        names = [_member_name(i) for i in archive.infolist()][:5]
        raise ImportRejected(
            f"{file_name!r} contains no shapefile (.shp); it holds {names!r} — zip the .shp, .shx, .dbf and .prj.",
            kind="no_geometry",
        )
    layers = list(sets)
    chosen = layer if layer is not None else layers[0]
    if chosen not in sets:
        raise ImportRejected(f"`layer` was {chosen!r} but {file_name!r} holds {layers!r}.", kind="mapping")
    parts = sets[chosen]
    for needed in (".shx", ".dbf"):
        if needed not in parts:
            raise ImportRejected(
                f"The shapefile {chosen!r} in {file_name!r} lacks its {needed} file; zip all its parts together.",
                kind="unreadable",
            )
    content = {ext: read_member(archive, info, file_name) for ext, info in parts.items()}
    _check_shp_length(content[".shp"], file_name)
    gdal_encoding, label, source = _shapefile_encoding(
        content[".dbf"], content.get(".cpg"), file_name, encoding=encoding
    )
    content[".dbf"] = _repair_field_names(content[".dbf"], codec_for(gdal_encoding)[0])
    with tempfile.TemporaryDirectory(prefix="jiugai-import-") as tmp:
        for ext, blob in content.items():
            if ext != ".cpg":
                (Path(tmp) / f"layer{ext}").write_bytes(blob)
        gdf = _read_gis(Path(tmp) / "layer.shp", file_name, encoding=gdal_encoding)
    return RawTable(
        format="shapefile", attributes=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
        geometry=gdf.geometry, file_crs=gdf.crs, encoding=label, encoding_source=source,
        layers=layers, layer=chosen,
    )


# ------------------------------------------------------------------------------------- GeoJSON, GeoPackage
def _read_geojson(data: bytes, file_name: str, *, encoding: str | None) -> RawTable:
    text, label, source = decode_text(data, file_name, encoding=encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"{file_name!r} is not valid JSON ({exc.msg} at line {exc.lineno}); it may be truncated.",
            kind="unreadable",
        ) from None
    except RecursionError:
        raise ImportRejected(f"{file_name!r} is nested too deeply to be GeoJSON.", kind="unreadable") from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ImportRejected(
            f"{file_name!r} is JSON but not a GeoJSON FeatureCollection (type {found!r}).", kind="unreadable"
        )
    if doc["type"] == "FeatureCollection" and not doc.get("features"):
        raise ImportRejected(f"{file_name!r} has no features.", kind="empty")
    with tempfile.TemporaryDirectory(prefix="jiugai-import-") as tmp:
        path = Path(tmp) / "upload.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        gdf = _read_gis(path, file_name)
    # RFC 7946 GeoJSON has no CRS member and is always WGS84 by definition; files written by older tools
    # with projected coordinates and no member are common, so a missing member means "detect".
    file_crs = gdf.crs if "crs" in doc else None
    return RawTable(
        format="geojson", attributes=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), geometry=gdf.geometry,
        file_crs=file_crs, encoding=label, encoding_source=source,
    )


def gpkg_tables(path: Path, file_name: str) -> set[str]:
    """Names of the GeoPackage's real tables (not views, triggers or virtual tables).

    A layer that is a view runs its SQL when read — a recursive one produces millions of rows from a few
    bytes — so only tables are read. The file is opened read-only and nothing in it is executed.
    """
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'")
            return {str(name) for (name,) in rows.fetchall()}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ImportRejected(
            f"{file_name!r} could not be opened as a GeoPackage ({str(exc)[:160]}); it may be truncated.",
            kind="unreadable",
        ) from None


def _read_gpkg(data: bytes, file_name: str, *, layer: str | None) -> RawTable:
    if not data.startswith(SQLITE_MAGIC):
        raise ImportRejected(f"{file_name!r} is not a GeoPackage (it is not an SQLite file).", kind="unreadable")
    with tempfile.TemporaryDirectory(prefix="jiugai-import-") as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        tables = gpkg_tables(path, file_name)
        try:
            listed = pyogrio.list_layers(path)
        except (pyogrio.errors.DataSourceError, RuntimeError, OSError) as exc:
            raise ImportRejected(
                f"{file_name!r} could not be opened as a GeoPackage ({str(exc)[:160]}); it may be truncated.",
                kind="unreadable",
            ) from None
        layered = [str(name) for name, gtype in listed if gtype is not None]
        spatial = [name for name in layered if name in tables]
        if layer is not None and layer in layered and layer not in tables:
            raise ImportRejected(
                f"The layer {layer!r} of {file_name!r} is a view (a stored query), not a table; export it as a "
                "table (in QGIS: Export → Save Features As) and upload that file.",
                kind="unsafe",
            )
        if not spatial:
            raise ImportRejected(f"{file_name!r} has no layer with geometry.", kind="no_geometry")
        chosen = layer if layer is not None else spatial[0]
        if chosen not in spatial:
            raise ImportRejected(f"`layer` was {chosen!r} but {file_name!r} holds {spatial!r}.", kind="mapping")
        gdf = _read_gis(path, file_name, layer=chosen)
    return RawTable(
        format="gpkg", attributes=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), geometry=gdf.geometry,
        file_crs=gdf.crs, encoding="UTF-8", encoding_source="format", layers=spatial, layer=chosen,
    )


# -------------------------------------------------------------------------------------------- CSV, XLSX
def _first_line(text: str) -> str:
    """The first line of ``text`` that is not blank (``""`` if none), without splitting the whole text."""
    return next((m.group() for m in re.finditer(r"[^\r\n]+", text) if m.group().strip()), "")


def _sniff_delimiter(text: str) -> str:
    first = _first_line(text)
    counts = {sep: first.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _check_csv_shape(text: str, sep: str, file_name: str) -> None:
    """Refuse a CSV text too wide or with too many cells before it is parsed.

    The limits are ``settings.IMPORT_MAX_COLUMNS`` and ``settings.IMPORT_MAX_CELLS``: the table is as wide
    as its first row (a longer row is a parse error) and at most as long as its lines; 45 MB of commas
    would otherwise become 45 million cells (about 1 GB).
    """
    first = _first_line(text)
    try:
        width = len(next(csv.reader([first], delimiter=sep), []))
    except csv.Error:  # e.g. a quote left open: the parser refuses it below
        width = first.count(sep) + 1
    if width > settings.IMPORT_MAX_COLUMNS:
        raise ImportRejected(
            f"{file_name!r} has {width} columns but at most {settings.IMPORT_MAX_COLUMNS} are accepted.",
            kind="too_large",
        )
    breaks = max(text.count("\n"), text.count("\r"))  # LF, CRLF or (old) CR line ends
    lines = min(breaks + (0 if text.endswith(("\n", "\r")) else 1), settings.IMPORT_MAX_ROWS + 21)
    if lines * width > settings.IMPORT_MAX_CELLS:
        raise ImportRejected(
            f"{file_name!r} has {lines:,} lines of {width} columns: more than {settings.IMPORT_MAX_CELLS:,} cells; "
            "delete the unused columns or split it into smaller files.",
            kind="too_large",
        )


def _read_csv(data: bytes, file_name: str, *, encoding: str | None) -> RawTable:
    text, label, source = decode_text(data, file_name, encoding=encoding)
    if not text.strip():
        raise ImportRejected(f"{file_name!r} has no rows.", kind="empty")
    sep = _sniff_delimiter(text)
    _check_csv_shape(text, sep, file_name)
    try:
        grid = pd.read_csv(
            io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
            skip_blank_lines=True, nrows=settings.IMPORT_MAX_ROWS + 20, engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ImportRejected(
            f"{file_name!r} is not a well-formed CSV table ({str(exc).strip()[:160]}).", kind="unreadable"
        ) from None
    return RawTable(format="csv", grid=grid.replace("", None), encoding=label, encoding_source=source)


# An element <si> (any namespace prefix) of a shared-string table: each is one text openpyxl keeps in memory.
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?si[\s/>]")


def _count_shared_strings(archive: zipfile.ZipFile, part: str, limit: int) -> int:
    """How many texts the shared-string table ``part`` holds, streamed; stops counting once above ``limit``.

    Counts every ``<si`` tag (at least as many as openpyxl reads), a megabyte at a time: a tag starts at
    ``<`` and holds no other, so the text after the last ``<`` of a block is carried to the next one.
    """
    count, carry = 0, b""
    with archive.open(part) as source:
        while chunk := source.read(MB):
            block = carry + chunk
            cut = block.rfind(b"<")
            if cut == -1:
                carry = b""
            elif cut == 0 and len(block) < 64:
                carry = block  # a tag cut short: decided with the next block
            elif cut == 0:
                count += 1 if _SHARED_STRING.match(block) else 0
                carry = b""
            else:
                count += len(_SHARED_STRING.findall(block, 0, cut))
                carry = block[cut:]
            if count > limit:
                return count
    return count + (1 if carry and _SHARED_STRING.match(carry) else 0)


def check_workbook_parts(archive: zipfile.ZipFile, file_name: str) -> None:
    """Refuse a workbook whose parts would cost more memory to open than the table it holds.

    openpyxl reads every part but the sheets in full as it opens a workbook, each XML element becoming
    Python objects: a 2 MB file whose styles list 1.3 million cell formats took 2.2 GB, one whose
    shared-string table holds 4.4 million texts 670 MB and minutes. The sheets are streamed later
    (:func:`sheet_rows`, with its own limits) and may be large; the shared-string table may hold at most
    ``settings.XLSX_MAX_SHARED_STRINGS`` texts; all other parts together may expand to at most
    ``settings.XLSX_MAX_OTHER_PARTS_MB`` (Excel's own limit of 64,000 cell formats fits). Which parts are
    sheets and which the shared strings is read the way openpyxl reads it (the package manifest and the
    workbook's relationships), so no part escapes by its name.
    """
    sizes = {info.filename: info.file_size for info in archive.infolist()}
    cap = settings.XLSX_MAX_OTHER_PARTS_MB * MB

    def too_large(total: int) -> ImportRejected:
        return ImportRejected(
            f"The parts of {file_name!r} other than its sheets expand to {total / MB:.0f} MB but at most "
            f"{settings.XLSX_MAX_OTHER_PARTS_MB:g} MB are accepted (styles, names, pictures); copy the table alone "
            "into a new workbook (values only) and upload that.",
            kind="too_large",
        )

    first = [ARC_CONTENT_TYPES]
    try:
        if sizes.get(ARC_CONTENT_TYPES, 0) > cap:
            raise too_large(sizes[ARC_CONTENT_TYPES])
        manifest = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
        workbook = _find_workbook_part(manifest).PartName[1:]
        relations = get_rels_path(workbook)
        first += [workbook, relations]
        if sum(sizes.get(part, 0) for part in first) > cap:
            raise too_large(sum(sizes.get(part, 0) for part in first))
        related = list(get_dependents(archive, relations)) if relations in sizes else []
        strings_part = manifest.find(SHARED_STRINGS)
    except (KeyError, ValueError, TypeError, OSError, ParseError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportRejected(
            f"{file_name!r} could not be read as an Excel workbook ({type(exc).__name__}); "
            "open it in Excel or WPS and save it as .xlsx again.",
            kind="unreadable",
        ) from None
    strings = strings_part.PartName[1:] if strings_part is not None else None
    other = {r.target for r in related if not r.Type.endswith("/worksheet")}
    sheets = {r.target for r in related if r.Type.endswith("/worksheet")}
    sheets -= other | {ARC_CONTENT_TYPES, ARC_STYLE, workbook, relations, strings}
    rest = sum(size for part, size in sizes.items() if part not in sheets and part != strings)
    if rest > cap:
        raise too_large(rest)
    if strings in sizes and _count_shared_strings(archive, strings, settings.XLSX_MAX_SHARED_STRINGS) > \
            settings.XLSX_MAX_SHARED_STRINGS:
        raise ImportRejected(
            f"{file_name!r} holds more than {settings.XLSX_MAX_SHARED_STRINGS:,} distinct texts; split it into "
            "smaller files.",
            kind="too_large",
        )


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that is not scanned for its size as it is opened.

    openpyxl's read-only sheet reads its declared dimension when opened, and a sheet without one is parsed
    to its end right there — 90 MB of sheet XML cost a minute before any limit of :func:`sheet_rows`
    applied. Nothing here uses the size (``sheet_rows`` streams the sheet with its own limits).
    """

    def _get_size(self) -> None:
        return None


class _WorkbookReader(ExcelReader):
    """openpyxl's reader in read-only mode, opening the sheets as :class:`_UnsizedSheet` (chart sheets as before)."""

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def load_workbook(data: bytes, file_name: str) -> openpyxl.Workbook:
    """Open an XLSX upload read-only after the zip checks (an XLSX file is a zip archive of XML parts)."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRejected(
            f"{file_name!r} is an old Excel 97–2003 (.xls) workbook; save it as .xlsx and upload it again.",
            kind="unreadable",
        )
    check_workbook_parts(open_zip(data, file_name), file_name)
    try:
        reader = _WorkbookReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
        return reader.wb
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError,
            zlib.error) as exc:
        raise ImportRejected(
            f"{file_name!r} could not be read as an Excel workbook ({type(exc).__name__}); "
            "open it in Excel or WPS and save it as .xlsx again.",
            kind="unreadable",
        ) from None
    except ParseError:
        raise ImportRejected(
            f"{file_name!r} is damaged: part of the workbook is not well-formed XML; open it in Excel or WPS and "
            "save it as .xlsx again.",
            kind="unreadable",
        ) from None


def _is_blank_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sheet_rows(
    workbook: openpyxl.Workbook,
    sheet: str,
    file_name: str,
    *,
    max_rows: int | None = None,
    max_columns: int | None = None,
    max_cells: int | None = None,
) -> list[tuple]:
    """Every row of ``sheet`` as a tuple of its cell values, up to its last value (blank rows as ``()``).

    The sheet's declared dimension is ignored (it can claim 16,384 columns for a handful of cells) and
    the limits apply while reading: a value beyond column ``max_columns`` (default
    ``settings.IMPORT_MAX_COLUMNS``) or in a row after ``max_rows`` (default ``settings.IMPORT_MAX_ROWS``
    + 20, room for title rows) refuses the file at once, and so does a sheet whose rows so far times its
    widest row so far exceed ``max_cells`` (default ``settings.IMPORT_MAX_CELLS``; both limits alone would
    let 2 MB of sheet XML — a value in column 500 of 200,000 rows — become 100 million cells). Row ``i``
    of the result is the sheet's row ``i + 1``.
    """
    max_rows = settings.IMPORT_MAX_ROWS + 20 if max_rows is None else max_rows
    max_columns = settings.IMPORT_MAX_COLUMNS if max_columns is None else max_columns
    max_cells = settings.IMPORT_MAX_CELLS if max_cells is None else max_cells
    worksheet = workbook[sheet]
    rows: list[tuple] = []
    widest = 0
    try:
        # The read-only worksheet's own iterator pads every row to the declared dimension; its parser
        # (the same one, used directly) yields only the cells the file holds.
        with worksheet._get_source() as source:
            parser = WorkSheetParser(source, worksheet._shared_strings, data_only=workbook.data_only,
                                     epoch=workbook.epoch, date_formats=workbook._date_formats,
                                     timedelta_formats=workbook._timedelta_formats)
            for index, cells in parser.parse():
                values = {c["column"]: c["value"] for c in cells if not _is_blank_value(c["value"])}
                if not values:
                    continue
                width = max(values)
                if width > max_columns:
                    raise ImportRejected(
                        f"Sheet {sheet!r} of {file_name!r} has a value in column {width} (row {index}): it has "
                        f"{width} columns but at most {max_columns} are accepted; delete the unused columns.",
                        kind="too_large",
                    )
                if index > max_rows:
                    raise ImportRejected(
                        f"Sheet {sheet!r} of {file_name!r} has values in row {index}: more than "
                        f"{settings.IMPORT_MAX_ROWS:,} rows; split it into smaller files.",
                        kind="too_large",
                    )
                widest = max(widest, width)
                if index * widest > max_cells:
                    raise ImportRejected(
                        f"Sheet {sheet!r} of {file_name!r} reaches row {index} and column {widest}: more than "
                        f"{max_cells:,} cells; delete the unused rows and columns or split it into smaller files.",
                        kind="too_large",
                    )
                rows.extend(() for _ in range(index - 1 - len(rows)))
                padded: list[object] = [None] * width
                for column, value in values.items():
                    padded[column - 1] = value
                rows.append(tuple(padded))
    except ImportRejected:
        raise
    except ParseError:
        raise ImportRejected(
            f"Sheet {sheet!r} of {file_name!r} is damaged (its XML is not well-formed); open the workbook in "
            "Excel or WPS and save it as .xlsx again.",
            kind="unreadable",
        ) from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, zlib.error, EOFError) as exc:
        raise ImportRejected(
            f"Sheet {sheet!r} of {file_name!r} could not be read ({type(exc).__name__}); save the workbook again.",
            kind="unreadable",
        ) from None
    return rows


def visible_sheets(workbook: openpyxl.Workbook) -> list[str]:
    """Names of the workbook's visible sheets, in order."""
    return [ws.title for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]


def _read_xlsx(data: bytes, file_name: str, *, layer: str | None) -> RawTable:
    workbook = load_workbook(data, file_name)
    try:
        sheets = visible_sheets(workbook)
        if not sheets:
            raise ImportRejected(f"{file_name!r} has no visible sheet.", kind="empty")
        chosen = layer if layer is not None else sheets[0]
        if chosen not in workbook.sheetnames:
            raise ImportRejected(f"`layer` was {chosen!r} but {file_name!r} has the sheets {sheets!r}.", kind="mapping")
        rows = sheet_rows(workbook, chosen, file_name)
    finally:
        workbook.close()
    rows = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
    if not rows:
        raise ImportRejected(f"Sheet {chosen!r} of {file_name!r} is empty.", kind="empty")
    width = max(len(r) for r in rows)
    cells = np.full((len(rows), width), None, dtype=object)  # filled in place: one copy of the table, not three
    for i, row in enumerate(rows):
        cells[i, : len(row)] = row
    grid = pd.DataFrame(cells, dtype=object, copy=False)
    return RawTable(format="xlsx", grid=grid, encoding=None, encoding_source="format", layers=sheets, layer=chosen)


# ------------------------------------------------------------------------------------------------ entry
def detect_format(data: bytes, file_name: str) -> Format:
    """The upload's format from its extension, checked against its first bytes."""
    ext = Path(file_name).suffix.lower()
    if ext == ".zip":
        return "shapefile"
    if ext in (".geojson", ".json"):
        return "geojson"
    if ext == ".gpkg":
        return "gpkg"
    if ext in (".csv", ".txt"):
        return "csv"
    if ext in (".xlsx", ".xlsm", ".xls"):
        return "xlsx"
    if ext in (".shp", ".dbf", ".shx", ".prj"):
        raise ImportRejected(
            f"{file_name!r} is one part of a shapefile; zip the .shp, .shx, .dbf, .prj (and .cpg) together and "
            "upload the .zip.",
            kind="format",
        )
    raise ImportRejected(
        f"{file_name!r} has the extension {ext or '(none)'!r}; accepted are .zip (shapefile), .geojson, .gpkg, "
        ".csv and .xlsx.",
        kind="format",
    )


def read_upload(
    data: bytes,
    file_name: str,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read an uploaded file after the size, format and (for zips) archive checks.

    Parameters
    ----------
    data
        The file's bytes.
    file_name
        Its name as uploaded; the extension decides the format (.zip shapefile, .geojson/.json, .gpkg,
        .csv, .xlsx).
    layer
        Shapefile (``folder/stem``), GeoPackage layer or XLSX sheet to read; default the first.
    encoding
        Attribute/text encoding to use instead of the ``.cpg`` or detection (e.g. ``"GBK"``, ``"UTF-8"``).
    """
    check_size(data, file_name)
    fmt = detect_format(data, file_name)
    if fmt == "shapefile":
        raw = _read_shapefile_zip(data, file_name, layer=layer, encoding=encoding)
    elif fmt == "geojson":
        raw = _read_geojson(data, file_name, encoding=encoding)
    elif fmt == "gpkg":
        raw = _read_gpkg(data, file_name, layer=layer)
    elif fmt == "csv":
        raw = _read_csv(data, file_name, encoding=encoding)
    else:
        raw = _read_xlsx(data, file_name, layer=layer)
    table = raw.grid if raw.grid is not None else raw.attributes
    n_rows, n_cols = table.shape if table is not None else (0, 0)
    if n_rows == 0:
        raise ImportRejected(f"{file_name!r} has no rows.", kind="empty")
    if n_rows > settings.IMPORT_MAX_ROWS + (20 if raw.grid is not None else 0):
        raise ImportRejected(
            f"{file_name!r} has more than {settings.IMPORT_MAX_ROWS:,} rows; split it into smaller files.",
            kind="too_large",
        )
    if n_cols > settings.IMPORT_MAX_COLUMNS:
        raise ImportRejected(
            f"{file_name!r} has {n_cols} columns but at most {settings.IMPORT_MAX_COLUMNS} are accepted.",
            kind="too_large",
        )
    log.info("read %s: %s, %d rows, encoding %s", file_name, fmt, n_rows, raw.encoding)
    return raw
