"""The data page (数据管理) in the running app: preview before storing, refusals, import, undo, weekly report."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.services import auth, reports
from dashboard.labels import t
from tests.import_corpus import attribute_table, compounds_4548, csv_bytes, shapefile_zip, zip_of
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


def _uploaders(at: AppTest) -> list[str]:
    return sorted(str(u.key) for u in at.get("file_uploader"))


def test_signed_out_gets_no_uploader_at_all(db):
    """Nothing can be sent to the server to parse: no import, report or restore uploader."""
    at = _page(db)
    assert "未登录" in _texts(at)
    assert _uploaders(at) == []
    assert t("data.upload_needs.import") in _texts(at) and t("data.upload_needs.backup") in _texts(at)
    assert at.get("download_button")  # the weekly template is still there to download


def test_county_editor_gets_only_their_countys_report_uploader(db):
    at = _page(db, "rencheng")
    assert _uploaders(at) == ["report_file_0"]
    at.selectbox(key="report_county").set_value("370883").run()
    assert _uploaders(at) == []
    assert t("data.upload_needs.report", county="邹城市") in _texts(at)


def test_names_from_uploads_are_shown_as_plain_text(db):
    """Column and file names that are Markdown (a link, an image from another server) show as typed."""
    at = _page(db, "admin1")
    frame = attribute_table("lonlat")
    frame["[点此领奖](http://evil.example/prize)"] = 1
    frame["![](http://evil.example/pixel.png)"] = 2
    at.file_uploader(key="data_file_0").set_value(("ok.csv", csv_bytes(frame), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ignored = next(c.value for c in at.caption if c.value.startswith("未使用的列"))
    assert r"\[点此领奖\]\(http\://evil.example/prize\)" in ignored
    assert r"\!\[\]\(http\://evil.example/pixel.png\)" in ignored
    at.file_uploader(key="data_file_0").set_value(("[坏文件](http://evil.example).csv", b"", "text/csv")).run()
    shown = [e.value for e in at.error]
    assert shown and all("](http" not in text for text in shown)
    assert any(r"\[坏文件\]\(http\://evil.example\).csv" in text for text in shown), shown
    everything = [m.value for block in (at.caption, at.markdown, at.info, at.error, at.warning, at.success)
                  for m in block]
    assert not any(re.search(r"(?<!\\)\]\((?!\))", text) for text in everything)  # no live link or image


def test_admin_imports_and_undoes(db):
    demo_compounds = _count(db, "SELECT count(*) FROM compounds")  # the demo's, before any import
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP))
    at.run()
    at.radio(key="data_mode").set_value("replace").run()
    at.checkbox(key="data_replace_ok").check().run()
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("写入 3 条" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM compounds") == 3
    assert "最近一次：导入 · 老旧小区 · 小区.zip · admin1" in _texts(at)
    at.button(key="data_undo").click().run()
    assert any("已撤销：小区.zip" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM compounds") == demo_compounds


def test_a_markdown_file_name_stays_plain_through_import_and_undo(db):
    demo_compounds = _count(db, "SELECT count(*) FROM compounds")  # the demo's, before any import
    at = _page(db, "admin1")
    name = "![](http://evil.example/pixel.png).zip"
    at.file_uploader(key="data_file_0").set_value((name, shapefile_zip(compounds_4548()), ZIP)).run()
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    plain = r"\!\[\]\(http\://evil.example/pixel.png\).zip"
    assert plain in _texts(at)  # 最近一次：导入 · … · <file> · admin1
    at.button(key="data_undo").click().run()
    assert any(f"已撤销：{plain}" in s.value for s in at.success), [s.value for s in at.success]
    assert _count(db, "SELECT count(*) FROM compounds") == demo_compounds


def test_hostile_file_shows_kind_and_detail(db):
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("evil.zip", zip_of({"../../x.shp": b"x"}), ZIP))
    at.run()
    assert not at.exception
    assert any(e.value.startswith("压缩包不安全：") and "unsafe path" in e.value for e in at.error)


def _rencheng_template(db):
    """任城区's weekly template for 2021-01-08 as a workbook, as the editor downloads it."""
    con = store.connect(db)
    try:
        template = reports.report_template(con, "370811", date(2021, 1, 8))
    finally:
        con.close()
    return openpyxl.load_workbook(io.BytesIO(template))


def test_county_editor_submits_weekly_report(db):
    demo_compounds = _count(db, "SELECT count(*) FROM compounds")  # the demo's, before any report
    at = _page(db, "rencheng")
    assert at.selectbox(key="report_county").value == "370811"
    at.date_input(key="report_week").set_value(date(2021, 1, 6)).run()
    assert "报告日期：2021-01-08" in _texts(at)
    wb = _rencheng_template(db)
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
    # Importing files is for administrators only: the editor has no import uploader.
    assert "data_file_0" not in _uploaders(at)
    assert _count(db, "SELECT count(*) FROM compounds") == demo_compounds


def test_admin_imports_annual_targets_with_the_template_and_undoes(db):
    """A programme table: the template is offered, the file previewed and stored, and undone."""
    import pandas as pd

    from tests.import_corpus import xlsx_bytes

    at = _page(db, "admin1")
    at.selectbox(key="data_kind").set_value("annual_targets").run()
    assert not at.exception
    assert t("data.table_hint") in _texts(at)
    assert "data_template_annual_targets" in [str(b.key) for b in at.get("download_button")]
    before = _count(db, "SELECT count(*) FROM annual_targets")
    frame = pd.DataFrame({"年度": [2019, 2019], "县区": ["任城区", "全市"], "小区数": [7, 70],
                          "建筑面积（万㎡）": [20, 230]})
    at.file_uploader(key="data_file_0").set_value(("2019目标.xlsx", xlsx_bytes(frame), XLSX)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.radio(key="data_mode").value == "append"
    at.radio(key="data_mode").set_value("replace").run()
    assert t("data.impact.replace_years", stored=0, years="2019") in _texts(at)
    assert "data_replace_ok" not in [c.key for c in at.checkbox]  # nothing stored for 2019: nothing to confirm
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("写入 2 条" in s.value for s in at.success)
    con = store.connect(db)
    try:
        assert con.execute("SELECT unit_code, compounds, floor_area_m2 FROM annual_targets WHERE year = 2019 "
                           "ORDER BY 1").fetchall() == [("370800", 70, 2_300_000.0), ("370811", 7, 200_000.0)]
    finally:
        con.close()
    at.button(key="data_undo").click().run()
    assert _count(db, "SELECT count(*) FROM annual_targets") == before


def test_admin_edits_a_years_targets_on_the_page(db):
    """The editor lists the city and every unit of the year; saving writes through the import (logged, undoable)."""
    import pandas as pd

    from analytics.importing import importer
    from dashboard.views import data as view

    con = store.connect(db)
    try:  # a stored target (with its date and source): shown, and saving it unchanged changes nothing
        con.execute("DELETE FROM annual_targets WHERE year = 2020")
        con.execute("INSERT INTO annual_targets VALUES (2020, '370811', 5, 1200, 98000.5, 4500.25, DATE '2020-03-01', "
                    "'济政办字〔2020〕1号', NULL)")
    finally:
        con.close()
    at = _page(db, "admin1")
    at.selectbox(key="data_kind").set_value("annual_targets").run()
    at.selectbox(key="targets_year").set_value(2020).run()
    assert not at.exception and t("data.targets.caption") in _texts(at)
    before = _count(db, "SELECT count(*) FROM annual_targets")
    at.button(key="targets_save").click().run()
    assert t("data.targets.unchanged") in _texts(at)
    assert _count(db, "SELECT count(*) FROM annual_targets") == before

    con = store.connect(db)
    try:
        admin = auth.User("admin1", "admin")
        columns = ["unit_code", *view.TARGET_COLUMNS]
        original = pd.DataFrame([["370800", None, None, None, None, None, None, None],
                                 ["370811", None, None, None, None, None, None, None]], columns=columns)
        edited = original.copy()
        edited.loc[1, ["compounds", "floor_area_m2", "source"]] = [12, 300_000.0, "页面录入"]
        kept = con.execute("SELECT * FROM annual_targets WHERE year <> 2031 ORDER BY ALL").fetchall()
        assert view.save_targets(con, 2031, original, original, user=admin) is None
        done = view.save_targets(con, 2031, edited, original, user=admin)
        assert done.rows_written == 1
        assert con.execute("SELECT year, unit_code, compounds, floor_area_m2, source FROM annual_targets "
                           "WHERE year = 2031").fetchall() == [(2031, "370811", 12, 300_000.0, "页面录入")]
        assert con.execute("SELECT action, table_name, username FROM audit_log ORDER BY id DESC LIMIT 1"
                           ).fetchone() == ("import", "annual_targets", "admin1")
        bad = edited.copy()
        bad.loc[1, "compounds"] = -3
        refused = view.save_targets(con, 2031, bad, edited, user=admin)
        assert refused.problems[["field", "code"]].values.tolist() == [["compounds", "out_of_range"]]
        importer.undo_last_import(con, user=admin)
        assert con.execute("SELECT * FROM annual_targets WHERE year <> 2031 ORDER BY ALL").fetchall() == kept
        assert con.execute("SELECT count(*) FROM annual_targets WHERE year = 2031").fetchone()[0] == 0
    finally:
        con.close()


def test_admin_imports_a_road_network_in_place_of_the_demos(db):
    from tests import geo_fixtures as gf
    from tests.import_corpus import geojson_bytes

    at = _page(db, "admin1")
    at.selectbox(key="data_kind").set_value("roads").run()
    assert "道路中心线须为线要素" in _texts(at)
    at.file_uploader(key="data_file_0").set_value(("道路.geojson", geojson_bytes(gf.river_roads()),
                                                   "application/geo+json")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.radio(key="data_mode").set_value("replace").run()
    assert "演示数据中的 11 条阻隔（河流）一并移除" in _texts(at)
    assert "阻隔（河流、铁路、快速路） 11 条" in " ".join(w.value for w in at.warning)
    at.checkbox(key="data_replace_ok").check().run()
    at.button(key="data_confirm").click().run()
    assert any("写入 3 条" in s.value for s in at.success)
    assert _count(db, "SELECT count(*) FROM roads") == 3 and _count(db, "SELECT count(*) FROM barriers") == 0
    at.button(key="data_undo").click().run()
    assert _count(db, "SELECT count(*) FROM barriers") == 11 and _count(db, "SELECT count(*) FROM roads") > 30_000


def _counts(db: Path) -> dict[str, int]:
    return {table: _count(db, f"SELECT count(*) FROM {table}")
            for table in ("compounds", "buildings", "funding", "progress_reports")}


def test_import_appends_by_default_and_deletes_nothing(db):
    """The default 写入方式 adds the file's rows; nothing stored is deleted, and the message says so."""
    before = _counts(db)
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP)).run()
    assert at.radio(key="data_mode").value == "append"
    assert not any("将删除" in w.value for w in at.warning)  # no deletion to confirm
    assert "data_replace_ok" not in [c.key for c in at.checkbox]
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = _counts(db)
    assert after == {**before, "compounds": before["compounds"] + 3}
    notice = " ".join(s.value for s in at.success)
    assert "已追加 3 条到“老旧小区”" in notice and "未删除任何数据" in notice and "撤销" in notice, notice


def test_replace_names_what_it_deletes_and_waits_for_confirmation(db):
    before = _counts(db)
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP)).run()
    at.radio(key="data_mode").set_value("replace").run()
    warning = " ".join(w.value for w in at.warning)
    for text in (f"老旧小区 {before['compounds']:,} 条", f"楼栋 {before['buildings']:,} 条",
                 f"资金 {before['funding']:,} 条", f"县区周报 {before['progress_reports']:,} 条"):
        assert text in warning, (text, warning)
    assert at.button(key="data_confirm").disabled  # not before the deletion is confirmed
    assert _counts(db) == before
    at.checkbox(key="data_replace_ok").check().run()
    assert not at.button(key="data_confirm").disabled
    at.button(key="data_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _counts(db) == {"compounds": 3, "buildings": 0, "funding": 0, "progress_reports": 0}
    notice = " ".join(s.value for s in at.success)
    assert f"删除了老旧小区 {before['compounds']:,} 条" in notice, notice
    assert f"楼栋 {before['buildings']:,} 条" in notice and f"县区周报 {before['progress_reports']:,} 条" in notice
    assert "写入 3 条" in notice and "撤销" in notice
    # the undo says per table what it took away and put back
    at.button(key="data_undo").click().run()
    notice = " ".join(s.value for s in at.success)
    assert f"老旧小区：移除 3 条，恢复 {before['compounds']:,} 条" in notice, notice
    assert f"楼栋：恢复 {before['buildings']:,} 条" in notice, notice
    assert _counts(db) == before


def test_undoing_an_append_says_only_the_appended_rows_go(db):
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP)).run()
    at.button(key="data_confirm").click().run()
    at.button(key="data_undo").click().run()
    notice = " ".join(s.value for s in at.success)
    assert "老旧小区：移除 3 条" in notice and "恢复" not in notice.split("老旧小区：移除 3 条")[1][:4], notice
    assert "1,046" not in notice and "1046" not in notice


def test_a_programme_table_refuses_a_map_file_in_the_users_language(db):
    at = _page(db, "admin1")
    at.selectbox(key="data_kind").set_value("findings").run()
    before = _count(db, "SELECT count(*) FROM findings")
    at.file_uploader(key="data_file_0").set_value(("问题.zip", shapefile_zip(compounds_4548()), ZIP)).run()
    assert not at.exception
    assert any(e.value.startswith("不支持的格式：") and "upload it as CSV or XLSX" in e.value for e in at.error)
    assert _count(db, "SELECT count(*) FROM findings") == before


def test_an_older_weekly_template_is_accepted_with_a_note(db):
    from analytics.services import report_sheets

    at = _page(db, "rencheng")
    at.date_input(key="report_week").set_value(date(2021, 1, 6)).run()
    wb = _rencheng_template(db)
    for sheet in (report_sheets.PAY_SHEET, report_sheets.FIND_SHEET):
        del wb[sheet]
    buf = io.BytesIO()
    wb.save(buf)
    at.file_uploader(key="report_file_0").set_value(("旧模板.xlsx", buf.getvalue(), XLSX)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert t("data.report.missing", parts="资金支付表、督导问题表") in [w.value for w in at.warning]


def _map_script(at: AppTest) -> str:
    import json

    scripts = [json.loads(c.proto.json_args).get("script", "") for c in at.get("component_instance")]
    scripts = [s for s in scripts if '"layer":"preview"' in s]
    assert len(scripts) == 1
    return scripts[0]


def test_preview_map_draws_the_files_outlines_in_their_counties(db):
    """Polygons stay polygons, the county outlines give context, the map opens on the file's extent (not
    closer than a district's streets)."""
    import json

    at = _page(db, "admin1")
    frame = compounds_4548()
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(frame), ZIP)).run()
    script = _map_script(at)
    features = re.findall(r'\{"type":"Feature","id":"[^"]*","properties":\{"layer":"(\w+)"[^{}]*\},'
                          r'"geometry":\{"type":"(\w+)"', script)
    assert sorted(kind for layer, kind in features if layer == "preview") == ["Polygon"] * 3
    assert len([1 for layer, _ in features if layer == "counties"]) == 11
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", script, re.S)
    (south, west), (north, east) = json.loads(fit.group(1))
    lon0, lat0, lon1, lat1 = frame.to_crs(4326).total_bounds
    assert (west, south, east, north) == pytest.approx((lon0, lat0, lon1, lat1), abs=1e-5)
    assert json.loads(fit.group(2))["maxZoom"] <= 14


def test_import_history_reads_in_chinese_with_short_fingerprints_and_blanks(db):
    at = _page(db, "admin1")
    at.file_uploader(key="data_file_0").set_value(("小区.zip", shapefile_zip(compounds_4548()), ZIP)).run()
    at.button(key="data_confirm").click().run()
    at.button(key="data_undo").click().run()
    history = next(d.value for d in at.dataframe if "文件指纹" in d.value.columns)
    assert "文件 SHA-256" not in history.columns
    undo, imported = history.iloc[0], history.iloc[1]
    assert (imported["操作"], imported["方式"], undo["操作"]) == ("导入", "追加", "撤销")
    con = store.connect(db)
    try:
        digest = con.execute("SELECT file_sha256 FROM audit_log WHERE action = 'import'").fetchone()[0]
    finally:
        con.close()
    assert imported["文件指纹"] == digest[:12]
    assert undo["文件指纹"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", str(imported["时间"]))
    assert "老旧小区：移除 3 条" in undo["详情"]
    assert (undo["写入"], imported["写入"]) == ("", "3")  # not the snapshot's 1,046 rows
    assert "格式 shapefile" in imported["详情"] and "编码 GBK" in imported["详情"]
    cells = [str(v) for v in history.to_numpy().ravel()]
    assert not [c for c in cells if c in ("None", "nan", "NaN", "<NA>", "NaT")], cells
    assert not any(c.startswith("{") for c in cells)  # no raw JSON
