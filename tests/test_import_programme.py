"""The programme's tables in and out of the two-step import: the candidate pool (compounds without a plan
year), annual targets, projects, money flows, after-care and supervision findings — known rows stored,
row reports pinned, undo back to the exact rows."""

from __future__ import annotations

import pytest

from analytics import store
from analytics.importing import importer
from tests.import_corpus import ADMIN, attribute_table, csv_bytes, xlsx_bytes


@pytest.fixture
def con():
    connection = store.connect(":memory:")
    yield connection
    connection.close()


def _rows(con, table: str, columns: str) -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()


# ------------------------------------------------------------------------------------------ candidates
def test_inventory_without_plan_year_column_is_a_candidate_pool(con):
    """A county's inventory without a plan-year column is accepted: every compound is a candidate."""
    frame = attribute_table("lonlat").drop(columns=["计划年度"])
    preview = importer.prepare(csv_bytes(frame), "储备库.csv", kind="compounds", user=ADMIN)
    assert preview.n_valid == 3 and preview.error is None
    notes = preview.problems[preview.problems.code == "candidates"]
    assert notes[["field", "value", "severity"]].values.tolist() == [["plan_year", "3", "warning"]]
    assert notes["row"].isna().all()
    importer.commit(con, preview, user=ADMIN)
    assert _rows(con, "compounds", "id, plan_year, households") == [
        ("JN-001", None, 120), ("JN-002", None, 80), ("JN-003", None, 200)]
    assert con.execute("SELECT count(*) FROM annual_plans").fetchone()[0] == 0  # in no year's plan


def test_empty_plan_years_are_candidates_beside_planned_ones(con):
    frame = attribute_table("lonlat")
    frame["计划年度"] = [2021, None, ""]
    preview = importer.prepare(xlsx_bytes(frame), "inventory.xlsx", kind="compounds", user=ADMIN)
    assert preview.n_invalid == 0
    assert preview.problems.loc[preview.problems.code == "candidates", "value"].tolist() == ["2"]
    importer.commit(con, preview, user=ADMIN)
    assert _rows(con, "compounds", "id, plan_year") == [("JN-001", 2021), ("JN-002", None), ("JN-003", None)]
    assert _rows(con, "annual_plans", "plan_year, county_code, compounds, households") == [(2021, "370811", 1, 120)]
    importer.undo_last_import(con, user=ADMIN)
    assert con.execute("SELECT count(*) FROM compounds").fetchone()[0] == 0


def test_a_bad_plan_year_is_still_an_error_not_a_candidate(con):
    frame = attribute_table("lonlat")
    frame["计划年度"] = [2021, "明年", 1890]
    preview = importer.prepare(csv_bytes(frame), "bad.csv", kind="compounds", user=ADMIN)
    errors = preview.problems[preview.problems.severity == "error"]
    assert errors[["row", "field", "code"]].values.tolist() == [
        [3, "plan_year", "not_a_number"], [4, "plan_year", "out_of_range"]]
    assert "candidates" not in set(preview.problems.code)


# ------------------------------------------------------------------------------- the programme's tables
import json  # noqa: E402
from datetime import date  # noqa: E402

import pandas as pd  # noqa: E402

from analytics.errors import ImportRejected, PermissionDenied  # noqa: E402
from analytics.services import backup  # noqa: E402
from tests.import_corpus import EDITOR_RENCHENG, VIEWER, all_tables  # noqa: E402


@pytest.fixture
def listed(con):
    """Three compounds (JN-001 任城 2021, completed 2021-11-30; JN-002 邹城 2021; JN-003 曲阜 2022)."""
    importer.commit(con, importer.prepare(csv_bytes(attribute_table("lonlat")), "c.csv", kind="compounds",
                                          user=ADMIN), user=ADMIN)
    con.execute("UPDATE compounds SET status = '已完工', completion_date = DATE '2021-11-30' WHERE id = 'JN-001'")
    return con


def _exact(con, table: str) -> list[tuple]:
    columns = [c for c in store.table_columns(con, table) if c not in ("submitted_at", "geom")]
    order = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"SELECT {order} FROM {table} ORDER BY {order}").fetchall()


def _report(preview, *columns: str) -> list[list]:
    frame = preview.problems.copy()
    frame["row"] = frame["row"].astype(object).where(frame["row"].notna(), None)
    return frame[list(columns or ("row", "field", "code", "severity"))].values.tolist()


TARGETS = pd.DataFrame({
    "年度": [2021, 2021, 2022, 2021], "县区": ["任城区", "370883", "曲阜市", "全市"], "小区数": [1, 2, 1, 3],
    "户数": [120, 80, None, 200], "建筑面积（万㎡）": [1.0, 0.7, 1.8, 1.7], "计划投资（万元）": [500, 300, 900, 800],
    "下达日期": ["2021-03-01"] * 4, "文件依据": ["济政办字〔2021〕1号"] * 4,
})


def test_annual_targets_stored_exactly_and_never_replace_the_lists_totals(listed):
    con = listed
    con.execute("INSERT INTO annual_targets (year, unit_code, compounds) VALUES (2020, '370811', 9)")
    plans = _exact(con, "annual_plans")
    before = _exact(con, "annual_targets")
    preview = importer.prepare(xlsx_bytes(TARGETS), "目标任务.xlsx", kind="annual_targets", user=ADMIN, con=con)
    assert preview.mapping["floor_area_m2"] == "建筑面积（万㎡）" and preview.n_invalid == 0
    # 邹城 lists one compound for 2021 and the city two: the targets of 2 and 3 are flagged, and kept
    assert _report(preview, "row", "field", "code", "value") == [
        [3, "compounds", "target_mismatch", "2 / 1"], [5, "compounds", "target_mismatch", "3 / 2"]]
    assert importer.stored_impact(con, preview) == {"stored_rows": 0, "ids_already_stored": 0}
    result = importer.commit(con, preview, user=ADMIN, mode="replace")
    assert (result.rows_written, result.rows_rejected) == (4, 0)
    # replace touches only the file's years: the 2020 target stays
    assert _exact(con, "annual_targets") == [
        (2020, "370811", 9, None, None, None, None, None, None),
        (2021, "370800", 3, 200, 17_000.0, 800.0, date(2021, 3, 1), "济政办字〔2021〕1号", None),
        (2021, "370811", 1, 120, 10_000.0, 500.0, date(2021, 3, 1), "济政办字〔2021〕1号", None),
        (2021, "370883", 2, 80, 7_000.0, 300.0, date(2021, 3, 1), "济政办字〔2021〕1号", None),
        (2022, "370881", 1, None, 18_000.0, 900.0, date(2021, 3, 1), "济政办字〔2021〕1号", None),
    ]
    assert _exact(con, "annual_plans") == plans  # the list's totals are its own
    importer.undo_last_import(con, user=ADMIN)
    assert _exact(con, "annual_targets") == before


def test_projects_group_compounds_and_undo_unlinks_them(listed):
    con = listed
    frame = pd.DataFrame({"项目编号": ["XM-1", "XM-2"], "项目名称": ["古槐片区", "铁山路"], "年度": [2021, 2021],
                          "县区": ["任城区", "邹城市"], "实施方式": ["成片捆绑", "EPC"], "施工单位": ["甲公司", "乙公司"],
                          "包含小区": ["JN-001、JN-003", "JN-002"]})
    preview = importer.prepare(csv_bytes(frame), "projects.csv", kind="projects", user=ADMIN, con=con)
    assert _report(preview, "row", "field", "code", "value") == [[2, "compound_ids", "other_unit", "JN-003"]]
    frame["包含小区"] = ["JN-001", "JN-002"]
    compounds_before = _exact(con, "compounds")
    importer.commit(con, importer.prepare(csv_bytes(frame), "projects.csv", kind="projects", user=ADMIN, con=con),
                    user=ADMIN)
    assert _exact(con, "projects") == [
        ("XM-1", "古槐片区", 2021, "370811", None, None, "成片捆绑", "甲公司", None, None),
        ("XM-2", "铁山路", 2021, "370883", None, None, "工程总承包", "乙公司", None, None)]
    assert con.execute("SELECT id, project_id FROM compounds ORDER BY id").fetchall() == [
        ("JN-001", "XM-1"), ("JN-002", "XM-2"), ("JN-003", None)]
    importer.undo_last_import(con, user=ADMIN)
    assert _exact(con, "projects") == [] and _exact(con, "compounds") == compounds_before


FLOWS = pd.DataFrame({
    "日期": ["2021-04-01", "2021-05-01", "2021-06-01", "2021-07-01", "2021-07-02"],
    "小区编号": ["JN-001", "JN-001", "JN-001", None, "JN-002"], "项目编号": [None, None, None, "XM-2", None],
    "资金来源": ["中央补助", "中央补助资金", "central_subsidy", "专项债", "居民出资"],
    "环节": ["下达", "到位", "拨付", "下达", "支付"], "金额（元）": [1_000_000, 800_000, 900_000, 500_000, 100_000],
    "文号": ["a", "b", "c", "d", "e"],
})


def test_money_flows_flag_paid_beyond_received(listed):
    con = listed
    con.execute("INSERT INTO projects (id, name, unit_code) VALUES ('XM-2', '铁山路', '370883')")
    preview = importer.prepare(xlsx_bytes(FLOWS), "资金.xlsx", kind="fund_flows", user=ADMIN, con=con)
    assert preview.n_invalid == 0
    assert _report(preview, "row", "code", "severity") == [
        [None, "id_generated", "warning"], [4, "flow_order", "warning"], [6, "flow_order", "warning"]]
    importer.commit(con, preview, user=ADMIN, mode="append")
    stored = con.execute("""SELECT flow_date, compound_id, project_id, source, stage, amount_wan, document,
                                   submitted_by FROM fund_flows ORDER BY flow_date""").fetchall()
    assert stored == [
        (date(2021, 4, 1), "JN-001", None, "central_subsidy", "allocated", 100.0, "a", "admin"),
        (date(2021, 5, 1), "JN-001", None, "central_subsidy", "received", 80.0, "b", "admin"),
        (date(2021, 6, 1), "JN-001", None, "central_subsidy", "paid", 90.0, "c", "admin"),
        (date(2021, 7, 1), None, "XM-2", "special_bonds", "allocated", 50.0, "d", "admin"),
        (date(2021, 7, 2), "JN-002", None, "residents", "paid", 10.0, "e", "admin")]
    # the same movements again: their ids (made from the content) are stored, so appending is refused
    before = backup.table_checksums(con, all_tables(con))
    with pytest.raises(ImportRejected, match=r"5 id\(s\) of 'again\.xlsx' are already stored") as caught:
        importer.commit(con, importer.prepare(xlsx_bytes(FLOWS), "again.xlsx", kind="fund_flows", user=ADMIN,
                                              con=con), user=ADMIN, mode="append")
    assert caught.value.kind == "conflict"
    assert backup.table_checksums(con, all_tables(con)) == before
    # a later receipt clears the flag: the stored movements count in the running totals
    more = pd.DataFrame({"日期": ["2021-08-01"], "小区编号": ["JN-001"], "资金来源": ["中央补助"], "环节": ["到位"],
                         "金额": [20], "文号": ["f"]})
    assert _report(importer.prepare(csv_bytes(more), "more.csv", kind="fund_flows", user=ADMIN, con=con),
                   "code") == [["id_generated"]]


def test_aftercare_and_findings_known_rows(listed):
    con = listed
    aftercare = pd.DataFrame({
        "小区编号": ["JN-001", "JN-002"], "竣工验收日期": ["2021-12-10", "2021-12-01"], "物业管理模式": ["物业公司", "无"],
        "长效管理机制": ["是", "否"], "长效机制建立日期": ["2021-12-20", None], "满意度（%）": [96, 80],
        "调查日期": ["2022-01-05", "2022-01-05"]})
    preview = importer.prepare(csv_bytes(aftercare), "长效管理.csv", kind="aftercare", user=ADMIN, con=con)
    assert _report(preview, "row", "code", "value") == [[3, "not_completed", "JN-002"]]
    importer.commit(con, preview, user=ADMIN)
    assert _exact(con, "aftercare") == [
        ("JN-001", date(2021, 12, 10), "专业物业", True, date(2021, 12, 20), 96.0, date(2022, 1, 5), None, "admin"),
        ("JN-002", date(2021, 12, 1), "无", False, None, 80.0, date(2022, 1, 5), None, "admin")]

    findings = pd.DataFrame({
        "问题编号": ["D1", "D2", "D3"], "发现日期": ["2021-06-01", "2021-07-01", "2021-08-01"],
        "县区": [None, "曲阜", "邹城市"], "小区编号": ["JN-001", None, "JN-002"], "问题类别": ["质量", "资金支付", "其他"],
        "问题描述": ["外墙脱落", "资金拨付滞后", "楼道杂物"], "整改时限": ["2021-06-30", "2021-07-15", "2021-09-01"],
        "整改状态": ["已销号", "整改中", "交办"], "销号日期": ["2021-06-25", None, None]})
    preview = importer.prepare(xlsx_bytes(findings), "督导问题.xlsx", kind="findings", user=ADMIN, con=con)
    assert preview.problems.empty
    importer.commit(con, preview, user=ADMIN)
    assert con.execute("SELECT id, unit_code, compound_id, category, status, deadline, closed_date FROM findings "
                       "ORDER BY id").fetchall() == [
        ("D1", "370811", "JN-001", "质量安全", "已销号", date(2021, 6, 30), date(2021, 6, 25)),
        ("D2", "370881", None, "资金支付", "整改中", date(2021, 7, 15), None),
        ("D3", "370883", "JN-002", "其他", "交办", date(2021, 9, 1), None)]
    importer.undo_last_import(con, user=ADMIN)
    importer.undo_last_import(con, user=ADMIN)
    assert _exact(con, "findings") == [] and _exact(con, "aftercare") == []


def test_row_report_of_bad_programme_rows(listed):
    con = listed
    findings = pd.DataFrame({
        "发现日期": ["2021-06-01", "2099-01-01", "2021-08-01"], "县区": ["任城区", "火星区", "任城区"],
        "小区编号": [None, None, "JN-002"], "问题类别": ["质量", "资金支付", "其他"], "问题描述": ["a", "b", "c"],
        "整改时限": ["2021-05-01", None, None], "整改状态": ["已解决", "整改中", "已销号"]})
    preview = importer.prepare(csv_bytes(findings), "bad.csv", kind="findings", user=ADMIN, con=con)
    assert _report(preview, "row", "field", "code", "severity") == [
        [None, "id", "id_generated", "warning"],
        [2, "deadline", "date_order", "error"], [2, "status", "unknown_value", "error"],
        [3, "found_date", "future_date", "error"], [3, "unit_code", "unknown_unit", "error"],
        [3, "unit_code", "required", "error"],
        [4, "closed_date", "closed_without_date", "warning"], [4, "unit_code", "other_unit", "error"]]
    assert preview.rows["_valid"].tolist() == [False, False, False]
    aftercare = pd.DataFrame({"小区编号": ["JN-001", "JN-404"], "物业管理模式": ["物业自理", "社区托管"],
                              "满意度（%）": [150, 90]})
    preview = importer.prepare(csv_bytes(aftercare), "bad.csv", kind="aftercare", user=ADMIN, con=con)
    assert _report(preview, "row", "field", "code") == [
        [2, "mgmt_mode", "unknown_value"], [2, "satisfaction_pct", "out_of_range"],
        [3, "compound_id", "unknown_compound"]]


@pytest.mark.parametrize("user, error", [(None, "Signing in is required"), (VIEWER, "role 'viewer'"),
                                         (EDITOR_RENCHENG, "role 'county_editor'")])
def test_programme_imports_need_the_import_permission(listed, user, error):
    con = listed
    with pytest.raises(PermissionDenied, match=error):
        importer.prepare(xlsx_bytes(TARGETS), "t.xlsx", kind="annual_targets", user=user, con=con)
    preview = importer.prepare(xlsx_bytes(TARGETS), "t.xlsx", kind="annual_targets", user=ADMIN, con=con)
    tables = tuple(t for t in all_tables(con) if t != "audit_log")
    before = backup.table_checksums(con, tables)
    with pytest.raises(PermissionDenied, match=error):
        importer.commit(con, preview, user=user)
    assert backup.table_checksums(con, tables) == before
    refused = con.execute("SELECT detail FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert json.loads(refused)["permission"] == "import"


@pytest.mark.parametrize("kind", ["annual_targets", "projects", "fund_flows", "aftercare", "findings"])
def test_template_example_sheet_imports(listed, kind):
    """The office's workbook: its header is recognised, and its example sheet imports as it stands."""
    from analytics.importing import templates

    con = listed
    con.execute("INSERT INTO projects (id, name, unit_code) VALUES ('XM-1', '古槐片区', '370811')")
    con.execute("UPDATE compounds SET project_id = 'XM-1' WHERE id = 'JN-001'")
    blob = templates.template_workbook(con, kind)
    preview = importer.prepare(blob, f"{kind}.xlsx", kind=kind, user=ADMIN, con=con, layer=templates.EXAMPLE_SHEET)
    assert preview.error is None and preview.n_invalid == 0, preview.problems
    assert {f for f, c in preview.mapping.items() if c} == {f for f, *_ in templates.HEADERS[kind]}
    importer.commit(con, preview, user=ADMIN, mode="append")
    with pytest.raises(ImportRejected, match="header but no data rows"):  # the fill sheet is empty until filled
        importer.prepare(blob, f"{kind}.xlsx", kind=kind, user=ADMIN, con=con)


def test_a_compounds_file_may_name_projects(con):
    con.execute("INSERT INTO projects (id, name, unit_code) VALUES ('XM-1', '古槐片区', '370811')")
    frame = attribute_table("lonlat")
    frame["所属项目"] = ["XM-1", "XM-404", None]
    preview = importer.prepare(csv_bytes(frame), "c.csv", kind="compounds", user=ADMIN, con=con)
    assert preview.mapping["project_id"] == "所属项目"
    assert [p for p in _report(preview, "row", "field", "code", "severity") if p[1] == "project_id"] == [
        [3, "project_id", "unknown_project", "warning"]]
    importer.commit(con, preview, user=ADMIN)
    assert _rows(con, "compounds", "id, project_id") == [("JN-001", "XM-1"), ("JN-002", "XM-404"), ("JN-003", None)]
