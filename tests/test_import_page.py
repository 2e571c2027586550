"""The data page (数据管理) in the running app: preview before storing, refusals, import, undo, weekly report."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.services import auth, reports
from tests.import_corpus import compounds_4548, shapefile_zip, zip_of
from tests.page_helpers import build_accounts_db, sign_in_session, use_copy

PAGE = Path(__file__).resolve().parent.parent / "pages" / "data.py"
CLI = auth.User("cli:test", "admin")
ZIP = "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def accounts_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("data-page") / "template.duckdb"
    return build_accounts_db(path, admin_password="admin-password-1", editor_password="editor-password-1", actor=CLI)


@pytest.fixture
def db(accounts_db, tmp_path, monkeypatch):
    return use_copy(accounts_db, tmp_path / "page.duckdb", monkeypatch)


def _page(db: Path, username: str | None = None) -> AppTest:
    at = sign_in_session(AppTest.from_file(str(PAGE), default_timeout=120), db, username)
    at.run()
    assert not at.exception, at.exception
    return at


def _count(db: Path, sql: str) -> int:
    con = store.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _texts(at: AppTest) -> str:
    return "\n".join([i.value for i in at.info] + [c.value for c in at.caption] + [m.value for m in at.markdown])


def test_signed_out_upload_is_refused_before_it_is_read(db):
    at = _page(db)
    assert "未登录" in _texts(at)
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP))
    at.run()
    assert not at.exception
    assert any("Signing in is required to import" in e.value for e in at.error)
    assert not at.metric  # nothing was read, so there is no preview
    assert _count(db, "SELECT count(*) FROM compounds") == 975


def test_admin_imports_and_undoes(db):
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP))
    at.run()
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已导入 3 条" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM compounds") == 3
    assert "最近一次：导入 · 老旧小区 · 小区.zip · admin1" in _texts(at)
    at.button(key="data_undo").click().run()
    assert any("已撤销：小区.zip" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM compounds") == 975


def test_hostile_file_shows_kind_and_detail(db):
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("evil.zip", zip_of({"../../x.shp": b"x"}), ZIP))
    at.run()
    assert not at.exception
    assert any(e.value.startswith("压缩包不安全：") and "unsafe path" in e.value for e in at.error)


def test_county_editor_submits_weekly_report(db):
    at = _page(db, "rencheng")
    assert at.selectbox(key="report_county").value == "370811"
    at.date_input(key="report_week").set_value(date(2021, 1, 6)).run()
    assert "报告日期：2021-01-08" in _texts(at)
    con = store.connect(db)
    try:
        template = reports.report_template(con, "370811", date(2021, 1, 8))
    finally:
        con.close()
    wb = openpyxl.load_workbook(io.BytesIO(template))
    wb[reports.SHEET].cell(reports.HEADER_ROW + 1, 7, "已立项")
    wb[reports.SHEET].cell(reports.HEADER_ROW + 1, 8, date(2021, 1, 5))
    buf = io.BytesIO()
    wb.save(buf)
    at.file_uploader(key="report_file_0").set_value(("任城周报.xlsx", buf.getvalue(), XLSX))
    at.run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="report_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已存入 任城区 2021-01-08 周报" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM progress_reports WHERE report_date = DATE '2021-01-08'") > 0
    # Importing files is for administrators only: the editor's upload is refused before it is read.
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP))
    at.run()
    assert any("may not import" in e.value for e in at.error)
    assert not at.metric
    assert _count(db, "SELECT count(*) FROM compounds") == 975
