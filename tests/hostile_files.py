"""Crafted uploads that try to exhaust the server, built at test time (a few KB to a few MB each).

Each builder makes the smallest file that reproduces one attack on the parsers: an XLSX whose sheet
claims a huge dimension or holds a cell in the last column, one whose rows reach far columns (rows ×
columns), one with millions of shared strings or cell formats, a CSV of commas, a zip whose members
expand far beyond the upload limit while each stays under the expansion-ratio limit, a GeoPackage whose
layer is a recursive SQL view, and an XLSX whose sheet XML is broken.
"""

from __future__ import annotations

import io
import random
import re
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import openpyxl
import pyogrio
import shapely

MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------- XLSX
def _rewrite_member(xlsx: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                data = change(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def _column_a_workbook(rows: int, *, header: list[str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if header:
        sheet.append(header)
    for i in range(rows):
        sheet.append([i + 1])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def xlsx_declared_dimension(rows: int = 10_000, dimension: str = "A1:XFD10000", *,
                            header: list[str] | None = None) -> bytes:
    """``rows`` rows with one number in column A, but the sheet's ``<dimension>`` claims ``dimension``.

    openpyxl's read-only reader pads every row to the declared width (16,384 columns for ``XFD``), so
    10,000 one-cell rows become 164 million cells unless the declared dimension is ignored.
    """
    data = _column_a_workbook(rows, header=header)
    return _rewrite_member(data, "xl/worksheets/sheet1.xml",
                           lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), xml))


def xlsx_last_column(rows: int = 10_000) -> bytes:
    """``rows`` rows each holding one value in column A and one in the last column (XFD), true dimension."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for i in range(1, rows + 1):
        sheet.cell(i, 1, i)
        sheet.cell(i, 16_384, i)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def xlsx_broken_sheet_xml() -> bytes:
    """A workbook whose sheet XML is cut off in the middle of a tag (a damaged file)."""
    data = _column_a_workbook(50, header=["小区编号", "状态"])
    return _rewrite_member(data, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])


def _replace_sheet_data(xlsx: bytes, rows_xml: bytes) -> bytes:
    """``xlsx`` with the first sheet's rows replaced by ``rows_xml``; its declared dimension stays ``A1:A1``
    (without one, openpyxl scans the whole sheet as it opens the workbook)."""
    def change(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:A1"/>', xml)
        return re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>", lambda _: b"<sheetData>" + rows_xml + b"</sheetData>",
                      xml, flags=re.S)
    return _rewrite_member(xlsx, "xl/worksheets/sheet1.xml", change)


def xlsx_far_column(rows: int = 200_000, column: int = 500) -> bytes:
    """``rows`` rows holding a number in column A and one in column ``column`` — within the row and column
    limits each, but 100 million cells padded (about 2 MB zipped for the defaults)."""
    letters = openpyxl.utils.get_column_letter(column).encode()
    body = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="%s%d"><v>1</v></c></row>' % (i, i, i, letters, i)
                    for i in range(1, rows + 1))
    return _replace_sheet_data(_column_a_workbook(1), body)


def xlsx_shared_strings(texts: list[str], *, unused: int = 0, prefix: str = "") -> bytes:
    """A workbook whose column A holds ``texts`` through a shared-string table, which lists ``unused``
    further distinct texts that no cell uses (openpyxl still reads every one when it opens the file).

    ``prefix`` writes the table's elements with that namespace prefix (``x:si``), as some producers do.
    """
    tag = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    items = [f"<{tag}si><{tag}t>{escape(t)}</{tag}t></{tag}si>".encode() for t in texts]
    items += [b"<%ssi><%st>%x</%st></%ssi>" % (tag.encode(), tag.encode(), i, tag.encode(), tag.encode())
              for i in range(unused)]
    table = (f'<?xml version="1.0" encoding="UTF-8"?><{tag}sst {ns} count="{len(items)}" '
             f'uniqueCount="{len(items)}">').encode() + b"".join(items) + f"</{tag}sst>".encode()
    body = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (i + 1, i + 1, i) for i in range(len(texts)))
    data = _replace_sheet_data(_column_a_workbook(1), body)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == "[Content_Types].xml":
                member = member.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            target.writestr(info.filename, member)
        target.writestr("xl/sharedStrings.xml", table)
    return out.getvalue()


def xlsx_many_styles(formats: int = 300_000) -> bytes:
    """A one-cell workbook whose styles list ``formats`` cell formats (Excel allows 64,000), varied so the
    part stays under the zip expansion-ratio limit: openpyxl builds objects for each as it opens the file."""
    rng = random.Random(1)
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0"/>' % rng.randrange(50)
                   for _ in range(formats))
    return _rewrite_member(_column_a_workbook(1), "xl/styles.xml", lambda xml: re.sub(
        rb"<cellXfs.*?</cellXfs>", lambda _: b'<cellXfs count="%d">' % formats + xfs + b"</cellXfs>", xml, flags=re.S))


def csv_of_commas(rows: int = 90_000, columns: int = 500) -> bytes:
    """A CSV of ``rows`` lines, each one value and ``columns`` - 1 empty fields (45 MB for the defaults)."""
    return (b"1" + b"," * (columns - 1) + b"\n") * rows


# -------------------------------------------------------------------------------------------------- zip
def _deflate_repeated(block: bytes, repeat: int) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``block * repeat`` built from one compressed copy of ``block``.

    After a full flush the compressor starts afresh, so every further copy compresses to the same
    bytes; the stream is built without compressing (or holding) the expanded data. Returns the stream,
    the CRC-32 and the expanded size.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = unit * repeat + packer.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(repeat):
        crc = zlib.crc32(block, crc)
    return stream, crc, len(block) * repeat


def zip_of_raw(members: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A zip archive from already deflated members ``{name: (stream, crc32, size)}``."""
    out = io.BytesIO()
    central = []
    for name, (stream, crc, size) in members.items():
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream), size,
                              len(encoded), 0) + encoded)
        out.write(stream)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(stream),
                                   size, len(encoded), 0, 0, 0, 0, 0o100644 << 16, offset) + encoded)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start,
                          start, 0))
    return out.getvalue()


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)


def shapefile_zip_expanding(total_mb: int = 480, *, spacing: int = 512) -> bytes:
    """A zipped shapefile whose .shp expands to ``total_mb`` MB, each MB only ~148 times smaller.

    The .shp is zeros with a random byte every ``spacing`` bytes: about 3.2 MB zipped for 480 MB, under
    an expansion-ratio limit of 200 for every member — only a limit on the total catches it.
    """
    rng = random.Random(1)
    block = bytearray(MB)
    for i in range(0, MB, spacing):
        block[i] = rng.randrange(256)
    members = {
        "layer.shp": _deflate_repeated(bytes(block), total_mb),
        "layer.shx": _deflated(b"\0" * 100),
        "layer.dbf": _deflated(b"\x03" + b"\0" * 31 + b"\r"),
    }
    return zip_of_raw(members)


# --------------------------------------------------------------------------------------------- GeoPackage
def gpkg_recursive_view(rows: int = 2_000_000) -> bytes:
    """A GeoPackage whose first feature layer is a view: a recursive query making ``rows`` points.

    96 KB on disk; reading the layer runs the query. A real table (``base``, one point) is there too.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.gpkg"
        base = gpd.GeoDataFrame({"name": ["p"]}, geometry=[shapely.Point(116.59, 35.41)], crs=4326)
        pyogrio.write_dataframe(base, path, layer="base", driver="GPKG")
        con = sqlite3.connect(path)
        try:
            con.executescript(f"""
                CREATE VIEW bomb AS
                    WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {int(rows)})
                    SELECT n AS fid, 'x' || n AS name, (SELECT geom FROM base LIMIT 1) AS geom FROM c;
                INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
                    VALUES ('bomb', 'features', 'bomb', 4326);
                INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
                    VALUES ('bomb', 'geom', 'POINT', 4326, 0, 0);
            """)
            con.commit()
        finally:
            con.close()
        return path.read_bytes()
