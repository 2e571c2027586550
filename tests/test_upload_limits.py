"""Crafted uploads meant to exhaust the server are refused in seconds with bounded memory, and only for
users who may upload at all.

Each attack runs in a fresh process (``tests.memory_probe``) that stops itself when the call uses more
than 300 MB above its baseline or runs too long, so a regression fails fast instead of eating the
machine. The crafted files are built at test time (``tests.hostile_files``).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from analytics import settings
from analytics.errors import ImportRejected, PermissionDenied
from analytics.importing import files, importer
from analytics.services import reports
from tests import hostile_files
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, EDITOR_ZOUCHENG, VIEWER, attribute_table, csv_bytes
from tests.memory_probe import run_bounded

EXTRA_MB = 300
SECONDS = 10


def _probe(tmp_path, data: bytes, call: str, **limits):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    setup = (
        "from datetime import date\n"
        "from analytics import store\n"
        "from analytics.services import reports\n"
        "from analytics.importing import files\n"
        "from tests.import_corpus import ADMIN, EDITOR_RENCHENG\n"
        f"data = open({str(path)!r}, 'rb').read()\n"
        "con = store.connect(':memory:')\n"
    )
    return run_bounded(setup, call, max_extra_mb=limits.get("max_extra_mb", EXTRA_MB),
                       max_seconds=limits.get("max_seconds", SECONDS))


def _bounded(probe) -> None:
    assert probe.outcome != "stopped", f"{probe.message} after {probe.seconds} s, {probe.extra_mb} MB"
    assert probe.extra_mb < EXTRA_MB
    assert probe.seconds < SECONDS


# ------------------------------------------------------------------------------------------------- XLSX
def test_xlsx_declared_dimension_is_ignored(tmp_path):
    """10,000 one-cell rows under a dimension of A1:XFD10000: read as one column, not 164 million cells."""
    probe = _probe(tmp_path, hostile_files.xlsx_declared_dimension(),
                   "files.read_upload(data, 'claims.xlsx').grid.shape")
    _bounded(probe)
    assert probe.outcome == "returned"
    assert probe.value == "(10000, 1)"


def test_weekly_report_with_declared_dimension_is_refused_quickly(tmp_path):
    """The weekly-report path (no blank-row filter) reads the same file in bounded memory and refuses it."""
    probe = _probe(tmp_path, hostile_files.xlsx_declared_dimension(),
                   "reports.prepare_report(con, data, 'claims.xlsx', county_code='370811', "
                   "report_date=date(2020, 12, 25), user=EDITOR_RENCHENG)")
    _bounded(probe)
    assert (probe.outcome, probe.error, probe.kind) == ("raised", "ImportRejected", "mapping")


def test_xlsx_cell_beyond_the_column_limit_is_refused_while_reading(tmp_path):
    probe = _probe(tmp_path, hostile_files.xlsx_last_column(),
                   "files.read_upload(data, 'wide.xlsx')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "too_large")
    assert "16384 columns" in probe.message and f"at most {settings.IMPORT_MAX_COLUMNS}" in probe.message


def test_xlsx_row_limit_applies_while_reading(monkeypatch):
    monkeypatch.setattr(settings, "IMPORT_MAX_ROWS", 100)
    with pytest.raises(ImportRejected, match=r"more than 100 rows") as caught:
        files.read_upload(hostile_files.xlsx_declared_dimension(rows=500, dimension="A1:A500"), "rows.xlsx")
    assert caught.value.kind == "too_large"


def test_xlsx_gaps_keep_sheet_row_numbers():
    """Ignoring the dimension must not shift rows: a blank row 2 keeps row 3 as the sheet's row 3."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "小区编号", "户数"
    sheet["A3"], sheet["B3"] = "JN-1", 12
    buf = io.BytesIO()
    workbook.save(buf)
    loaded = files.load_workbook(buf.getvalue(), "gap.xlsx")
    assert files.sheet_rows(loaded, loaded.sheetnames[0], "gap.xlsx") == [("小区编号", "户数"), (), ("JN-1", 12)]


def test_xlsx_rows_times_columns_is_capped_while_reading(tmp_path):
    """200,000 rows reaching column 500 are each within the row and column limits, but 100 million cells
    (over 3 GB) once read: refused at the cell limit, while reading."""
    probe = _probe(tmp_path, hostile_files.xlsx_far_column(), "files.read_upload(data, 'far.xlsx')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "too_large")
    assert f"more than {settings.IMPORT_MAX_CELLS:,} cells" in probe.message and "column 500" in probe.message


def test_xlsx_at_the_cell_limit_is_read(monkeypatch):
    monkeypatch.setattr(settings, "IMPORT_MAX_CELLS", 300)
    grid = files.read_upload(hostile_files.xlsx_far_column(rows=30, column=10), "ok.xlsx").grid
    assert grid.shape == (30, 10)
    assert grid.iloc[29, 0] == 30 and grid.iloc[29, 9] == 1 and grid.iloc[29, 1:9].isna().all()
    with pytest.raises(ImportRejected, match="reaches row 31 and column 10: more than 300 cells"):
        files.read_upload(hostile_files.xlsx_far_column(rows=31, column=10), "big.xlsx")


def test_xlsx_with_millions_of_shared_strings_is_refused_before_opening(tmp_path):
    """A 3 MB workbook listing 1.2 million unused texts: openpyxl reads all of them as it opens the file
    (4.4 million took 160 s and 670 MB); the table is counted first."""
    data = hostile_files.xlsx_shared_strings(["小区名称", "古槐路小区"], unused=1_200_000)
    probe = _probe(tmp_path, data, "files.read_upload(data, 'texts.xlsx')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "too_large")
    assert f"more than {settings.XLSX_MAX_SHARED_STRINGS:,} distinct texts" in probe.message
    assert probe.seconds < 5


@pytest.mark.parametrize("prefix", ["", "x"], ids=["plain", "prefixed"])
def test_shared_strings_are_counted_exactly_across_blocks(prefix):
    data = hostile_files.xlsx_shared_strings(["a", "b", "c"], unused=300_000, prefix=prefix)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.getinfo("xl/sharedStrings.xml").file_size > 3 * files.MB  # several blocks
    assert files._count_shared_strings(archive, "xl/sharedStrings.xml", 10**9) == 300_003


@pytest.mark.parametrize("prefix", ["", "x"], ids=["plain", "prefixed"])
def test_workbook_with_shared_strings_is_read(prefix, monkeypatch):
    monkeypatch.setattr(settings, "XLSX_MAX_SHARED_STRINGS", 5)
    data = hostile_files.xlsx_shared_strings(["小区名称", "古槐路小区", "<b> & 'c'"], unused=2, prefix=prefix)
    assert files.read_upload(data, "ok.xlsx").grid[0].tolist() == ["小区名称", "古槐路小区", "<b> & 'c'"]
    with pytest.raises(ImportRejected, match="more than 5 distinct texts"):
        files.read_upload(hostile_files.xlsx_shared_strings(["a"], unused=5, prefix=prefix), "many.xlsx")


def test_xlsx_with_a_million_cell_formats_is_refused_before_opening(tmp_path):
    """Half a MB listing 300,000 cell formats (Excel allows 64,000): openpyxl would build objects for each
    (1.3 million took 2.2 GB)."""
    probe = _probe(tmp_path, hostile_files.xlsx_many_styles(), "files.read_upload(data, 'styles.xlsx')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "too_large")
    assert f"at most {settings.XLSX_MAX_OTHER_PARTS_MB} MB" in probe.message
    assert probe.seconds < 2


def test_weekly_report_with_far_columns_is_refused_quickly(tmp_path):
    probe = _probe(tmp_path, hostile_files.xlsx_far_column(),
                   "reports.prepare_report(con, data, 'far.xlsx', county_code='370811', "
                   "report_date=date(2020, 12, 25), user=EDITOR_RENCHENG)")
    _bounded(probe)
    assert (probe.outcome, probe.error) == ("raised", "ImportRejected")


# -------------------------------------------------------------------------------------------------- CSV
def test_csv_of_commas_is_refused_before_parsing(tmp_path):
    """45 MB of commas (under the upload limit) are 45 million cells, about 1 GB once parsed."""
    data = hostile_files.csv_of_commas()
    assert len(data) < settings.UPLOAD_MAX_MB * files.MB
    probe = _probe(tmp_path, data, "files.read_upload(data, 'commas.csv')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "too_large")
    assert f"more than {settings.IMPORT_MAX_CELLS:,} cells" in probe.message
    assert probe.seconds < 2


def test_csv_wider_than_the_column_limit_is_refused_before_parsing(monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("the CSV was parsed")

    monkeypatch.setattr(files.pd, "read_csv", must_not_parse)
    with pytest.raises(ImportRejected, match=f"501 columns but at most {settings.IMPORT_MAX_COLUMNS}"):
        files.read_upload(hostile_files.csv_of_commas(rows=3, columns=501), "wide.csv")
    with pytest.raises(ImportRejected, match="more than 100 cells"):
        monkeypatch.setattr(settings, "IMPORT_MAX_CELLS", 100)
        files.read_upload(b"\r\n\r\n" + hostile_files.csv_of_commas(rows=11, columns=10), "long.csv")


def test_csv_at_the_cell_limit_is_read(monkeypatch):
    monkeypatch.setattr(settings, "IMPORT_MAX_CELLS", 110)
    grid = files.read_upload('名称,"a,b",c\n'.encode() + b"1,2,3\n" * 35, "ok.csv").grid
    assert grid.shape == (36, 3) and grid.iloc[0].tolist() == ["名称", "a,b", "c"]


# ----------------------------------------------------------------------------------------- GIS formats
def test_gis_layer_with_too_many_cells_is_refused_before_reading(monkeypatch):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({f"f{i}": range(10) for i in range(12)},
                             geometry=[shapely.Point(116.5, 35.4)] * 10, crs=4326)
    data = frame.to_json(drop_id=True).encode()
    assert files.read_upload(data, "ok.geojson").attributes.shape == (10, 12)
    monkeypatch.setattr(settings, "IMPORT_MAX_CELLS", 100)

    def must_not_read(*args, **kwargs):
        raise AssertionError("the layer was read")

    monkeypatch.setattr(files.pyogrio, "read_dataframe", must_not_read)
    with pytest.raises(ImportRejected, match="10 features of 12 columns: more than 100 cells") as caught:
        files.read_upload(data, "wide.geojson")
    assert caught.value.kind == "too_large"
    monkeypatch.setattr(settings, "IMPORT_MAX_COLUMNS", 11)
    with pytest.raises(ImportRejected, match="12 columns but at most 11"):
        files.read_upload(data, "wide.geojson")


def test_a_sheet_without_a_dimension_is_not_scanned_when_opened(monkeypatch):
    """openpyxl parses a sheet without a declared dimension to its end as it opens the workbook (90 MB of
    sheet XML: a minute before any limit applied); the sheets are only read, with the limits, by
    ``sheet_rows``."""
    import re

    from openpyxl.worksheet._reader import WorkSheetParser

    data = hostile_files._rewrite_member(hostile_files._column_a_workbook(30, header=["小区编号"]),
                                         "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml))
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")

    def scanned(self):
        raise AssertionError("the whole sheet was parsed to find its size")

    monkeypatch.setattr(WorkSheetParser, "parse_dimensions", scanned)
    grid = files.read_upload(data, "no-dimension.xlsx").grid
    assert grid.shape == (31, 1) and grid.iloc[0, 0] == "小区编号" and grid.iloc[30, 0] == 30


def test_broken_sheet_xml_is_a_clear_refusal():
    data = hostile_files.xlsx_broken_sheet_xml()
    with pytest.raises(ImportRejected, match=r"'broken.xlsx'.*damaged.*save it as \.xlsx again") as caught:
        files.read_upload(data, "broken.xlsx")
    assert caught.value.kind == "unreadable"


def test_broken_sheet_xml_in_a_weekly_report_is_a_clear_refusal(mem_con):
    with pytest.raises(ImportRejected, match=r"damaged") as caught:
        reports.prepare_report(mem_con, hostile_files.xlsx_broken_sheet_xml(), "broken.xlsx", county_code="370811",
                               report_date=date(2020, 12, 25), user=EDITOR_RENCHENG)
    assert caught.value.kind == "unreadable"


# -------------------------------------------------------------------------------------------------- zip
def test_zip_expanding_far_beyond_the_upload_limit_is_refused_before_extraction(tmp_path):
    data = hostile_files.shapefile_zip_expanding(480)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    # every member passes the ratio limit: only the cap on the total catches this archive
    assert all(i.file_size <= settings.ZIP_MAX_RATIO * i.compress_size for i in infos)
    assert len(data) < settings.UPLOAD_MAX_MB * files.MB
    probe = _probe(tmp_path, data, "files.read_upload(data, 'bomb.zip')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "zip_unsafe")
    assert f"at most {settings.ZIP_MAX_TOTAL_MB} MB" in probe.message
    assert probe.seconds < 2


def test_zip_total_cap_is_near_the_upload_limit():
    assert settings.UPLOAD_MAX_MB <= settings.ZIP_MAX_TOTAL_MB <= 3 * settings.UPLOAD_MAX_MB


def test_backup_restore_keeps_its_own_cap():
    """A backup restored on the command line may be larger than an upload: ``open_zip`` takes a cap."""
    data = hostile_files.shapefile_zip_expanding(120)
    with pytest.raises(ImportRejected, match="at most"):
        files.open_zip(data, "big.zip")
    assert files.open_zip(data, "big.zip", max_total_mb=200).infolist()[0].file_size == 120 * files.MB


# ------------------------------------------------------------------------------------------- GeoPackage
def test_geopackage_view_layer_is_refused_before_it_runs(tmp_path):
    probe = _probe(tmp_path, hostile_files.gpkg_recursive_view(), "files.read_upload(data, 'v.gpkg', layer='bomb')")
    _bounded(probe)
    assert (probe.outcome, probe.kind) == ("raised", "unsafe")
    assert "view" in probe.message
    assert probe.seconds < 2


def test_geopackage_views_are_not_offered_as_layers():
    raw = files.read_upload(hostile_files.gpkg_recursive_view(rows=10), "v.gpkg")
    assert raw.layers == ["base"] and raw.layer == "base" and len(raw.attributes) == 1


# ----------------------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("user", [None, VIEWER, EDITOR_RENCHENG], ids=["signed-out", "viewer", "editor"])
def test_prepare_refuses_without_the_import_permission_before_reading(user, monkeypatch):
    def must_not_read(*args, **kwargs):
        raise AssertionError("the upload was read without the import permission")

    monkeypatch.setattr(importer, "read_upload", must_not_read)
    with pytest.raises(PermissionDenied, match="import"):
        importer.prepare(hostile_files.xlsx_declared_dimension(), "claims.xlsx", kind="compounds", user=user)


def test_prepare_reads_for_an_administrator():
    preview = importer.prepare(csv_bytes(attribute_table("lonlat")), "ok.csv", kind="compounds", user=ADMIN)
    assert preview.n_rows == 3


@pytest.mark.parametrize("user", [None, VIEWER, EDITOR_ZOUCHENG], ids=["signed-out", "viewer", "other-county"])
def test_prepare_report_refuses_without_the_permission_before_reading(user, mem_con, monkeypatch):
    def must_not_read(*args, **kwargs):
        raise AssertionError("the report was read without the permission")

    monkeypatch.setattr(reports, "load_workbook", must_not_read)
    with pytest.raises(PermissionDenied, match="submit report|370811"):
        reports.prepare_report(mem_con, hostile_files.xlsx_declared_dimension(), "r.xlsx", county_code="370811",
                               report_date=date(2020, 12, 25), user=user)
