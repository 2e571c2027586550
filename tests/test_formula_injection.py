"""Text that a spreadsheet would run as a formula leaves every download as text.

A compound named ``=HYPERLINK(...)`` is accepted by the importer (it is a valid name); it, file names and
validation values then reach tables, workbooks, backups and report templates. Every writer must store
such text as text: XLSX without a formula element (the characters kept exactly), CSV with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import pandas as pd
import pytest

from analytics import cells
from analytics.importing import importer
from analytics.services import backup, reports
from dashboard import downloads, tables
from tests.import_corpus import ADMIN, attribute_table, copy_database, csv_bytes

HOSTILE = [
    '=HYPERLINK("http://evil.example/x","点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]
BENIGN = ["古槐路小区", "JN-001", "a=b", "2020-12-25"]


def _formulas(xlsx: bytes) -> list[str]:
    """Every cell formula in the workbook's sheets (``<f>`` elements inside the sheet data)."""
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    found = []
    for name in archive.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            found += re.findall(rb"<f[ >][^<]*", archive.read(name))
    return [f.decode() for f in found]


def _xlsx_texts(xlsx: bytes) -> set[str]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    return {c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def _frame() -> pd.DataFrame:
    values = HOSTILE + BENIGN
    return pd.DataFrame({"name": values, "households": range(len(values)), HOSTILE[0]: values})


@pytest.mark.parametrize("value", HOSTILE)
def test_the_rule(value):
    assert cells.looks_like_formula(value)
    assert cells.csv_value(value) == "'" + value


@pytest.mark.parametrize("value", [*BENIGN, "", None, 5, -5.0])
def test_the_rule_leaves_the_rest(value):
    assert not cells.looks_like_formula(value)
    assert cells.csv_value(value) == value


@pytest.mark.parametrize("make", [
    lambda df: tables.xlsx_bytes({"表": df}, notes={"=source": HOSTILE[0]}),
    lambda df: downloads.xlsx_bytes(df),
], ids=["tables.xlsx_bytes", "downloads.xlsx_bytes"])
def test_table_workbooks_hold_no_formula(make):
    data = make(_frame())
    assert _formulas(data) == []
    assert set(HOSTILE[:1] + HOSTILE[1:]) <= _xlsx_texts(data) | {v.replace("\r", "\n") for v in HOSTILE}


@pytest.mark.parametrize("make", [tables.csv_bytes, downloads.csv_bytes], ids=["tables", "downloads"])
def test_table_csv_marks_formula_text(make):
    rows = list(csv.reader(io.StringIO(make(_frame()).decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[-1] == "'" + HOSTILE[0]
    names = [r[0] for r in body]
    assert names == ["'" + v for v in HOSTILE] + BENIGN
    assert [r[1] for r in body] == [str(i) for i in range(len(HOSTILE) + len(BENIGN))]  # numbers untouched


@pytest.fixture
def hostile_db(demo_db_path, tmp_path):
    """A copy of the demo database holding, after a real import, compounds with formula-like names."""
    from analytics import store

    con = store.connect(copy_database(demo_db_path, tmp_path / "hostile.duckdb"))
    frame = attribute_table("lonlat")
    frame["小区名称"] = HOSTILE[:3]
    frame["所属县区"] = ["任城区"] * 3
    frame["计划年度"] = [2020] * 3
    preview = importer.prepare(csv_bytes(frame), "=HYPERLINK(文件).csv", kind="compounds", user=ADMIN)
    assert preview.n_invalid == 0, preview.problems
    importer.commit(con, preview, user=ADMIN, mode="append")
    yield con
    con.close()


def test_backup_workbook_holds_no_formula(hostile_db):
    archive = zipfile.ZipFile(io.BytesIO(backup.export_backup(hostile_db, user=ADMIN)))
    workbook = archive.read("jiugai.xlsx")
    assert _formulas(workbook) == []
    texts = _xlsx_texts(workbook)
    assert set(HOSTILE[:3]) <= texts  # compound names
    assert "=HYPERLINK(文件).csv" in texts  # the upload's file name, in the audit log sheet


def test_weekly_report_template_holds_no_formula(hostile_db):
    template = reports.report_template(hostile_db, "370811", date(2020, 12, 25))
    assert _formulas(template) == []
    assert set(HOSTILE[:3]) <= _xlsx_texts(template)
