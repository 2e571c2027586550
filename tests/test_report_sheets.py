"""The weekly report's payments (资金支付) and findings (督导问题) sheets: pre-filled, filled, stored, undone;
older templates without them still accepted with a note of what is missing."""

from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
import pytest

from analytics import store
from analytics.errors import ImportRejected
from analytics.importing import importer
from analytics.services import backup, report_sheets, reports
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, all_tables, attribute_table, csv_bytes

WEEK = date(2021, 4, 9)
RENCHENG = "370811"


@pytest.fixture
def con():
    """JN-001 (任城, 2021) with planned money and earlier flows; findings of 任城 and 邹城."""
    connection = store.connect(":memory:")
    importer.commit(connection, importer.prepare(csv_bytes(attribute_table("lonlat")), "c.csv", kind="compounds",
                                                 user=ADMIN), user=ADMIN)
    connection.execute("""INSERT INTO funding VALUES ('JN-001', 'central_subsidy', 100), ('JN-001', 'residents', 10),
                          ('JN-002', 'central_subsidy', 50)""")
    connection.execute("""INSERT INTO fund_flows (id, flow_date, compound_id, source, stage, amount_wan) VALUES
                          ('a', DATE '2021-03-01', 'JN-001', 'central_subsidy', 'allocated', 100),
                          ('b', DATE '2021-03-05', 'JN-001', 'central_subsidy', 'received', 60),
                          ('c', DATE '2021-04-07', 'JN-001', 'central_subsidy', 'paid', 5)""")
    connection.execute("""INSERT INTO findings (id, found_date, unit_code, compound_id, category, description, deadline,
                                                status, closed_date) VALUES
                          ('D1', DATE '2021-03-10', '370811', 'JN-001', '质量安全', '外墙脱落', DATE '2021-04-10', '交办', NULL),
                          ('D2', DATE '2021-03-11', '370883', 'JN-002', '资金支付', '拨付滞后', DATE '2021-04-10', '整改中', NULL),
                          ('D3', DATE '2021-02-01', '370811', NULL, '其他', '已解决的', NULL, '已销号', DATE '2021-02-20')""")
    yield connection
    connection.close()


def _sheet(data: bytes, name: str) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [row for row in wb[name].iter_rows(min_row=3, values_only=True) if any(v is not None for v in row)]


def _fill(data: bytes, *, pay: dict[int, dict[int, object]] | None = None,
          find: dict[int, dict[int, object]] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """The template with cells set (sheet row -> {column: value}) or sheets removed, as a clerk would."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for sheet, changes in ((report_sheets.PAY_SHEET, pay), (report_sheets.FIND_SHEET, find)):
        for row, cells in (changes or {}).items():
            for column, value in cells.items():
                wb[sheet].cell(row, column).value = value
    for sheet in drop:
        del wb[sheet]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _report(con, data: bytes, user=EDITOR_RENCHENG):
    preview = reports.prepare_report(con, data, "周报.xlsx", county_code=RENCHENG, report_date=WEEK, user=user)
    problems = preview.problems.copy()
    problems["row"] = problems["row"].astype(object).where(problems["row"].notna(), None)
    return preview, problems[["row", "field", "code", "severity"]].values.tolist()


def test_template_lists_money_before_the_week_and_open_findings(con):
    data = reports.report_template(con, RENCHENG, WEEK)
    # 2021-04-07 lies in the report's week: not "before"; the week's own report rows are none yet
    assert _sheet(data, report_sheets.PAY_SHEET) == [
        ("JN-001", None, "古槐路小区", "中央补助资金", 100, 100, 60, 0, None, None, None, None),
        ("JN-001", None, "古槐路小区", "居民出资", 10, 0, 0, 0, None, None, None, None)]
    assert [r[0] for r in _sheet(data, report_sheets.FIND_SHEET)] == ["D1"]  # open, of 任城
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb[report_sheets.PAY_SHEET].cell(3, 1).protection.locked is True
    assert wb[report_sheets.PAY_SHEET].cell(3, 11).protection.locked is False  # 本周支付
    assert wb[report_sheets.PAY_SHEET].cell(5, 1).protection.locked is False  # a row the unit adds
    assert dict(wb[reports.META_SHEET].iter_rows(values_only=True))["version"] == 2


def test_payments_and_findings_stored_replaced_on_reupload_and_undone(con):
    template = reports.report_template(con, RENCHENG, WEEK)
    before = {t: backup.table_checksums(con, (t,)) for t in ("fund_flows", "findings")}
    filled = _fill(template, pay={3: {10: 40, 11: 50, 12: "拨〔2021〕8号"}},
                   find={3: {7: "已销号", 8: date(2021, 4, 8)},
                         4: {2: date(2021, 4, 6), 3: "JN-001", 4: "长效管理", 5: "未建立物业管理", 6: date(2021, 5, 6),
                             7: "交办"}})
    preview, problems = _report(con, filled)
    assert problems == [] and preview.missing == ()
    assert preview.sheets.flows[["id", "stage", "amount_wan", "document"]].values.tolist() == [
        ["WR-370811-2021-04-09-JN-001-central_subsidy-received", "received", 40.0, "拨〔2021〕8号"],
        ["WR-370811-2021-04-09-JN-001-central_subsidy-paid", "paid", 50.0, "拨〔2021〕8号"]]
    result = reports.submit_report(con, preview, user=EDITOR_RENCHENG)
    assert con.execute("SELECT id, flow_date, compound_id, source, stage, amount_wan, submitted_by FROM fund_flows "
                       "WHERE starts_with(id, 'WR-') ORDER BY id").fetchall() == [
        ("WR-370811-2021-04-09-JN-001-central_subsidy-paid", WEEK, "JN-001", "central_subsidy", "paid", 50.0, "rencheng"),
        ("WR-370811-2021-04-09-JN-001-central_subsidy-received", WEEK, "JN-001", "central_subsidy", "received", 40.0,
         "rencheng")]
    assert con.execute("SELECT id, unit_code, compound_id, category, status, closed_date FROM findings "
                       "ORDER BY found_date").fetchall() == [
        ("D3", "370811", None, "其他", "已销号", date(2021, 2, 20)),
        ("D1", "370811", "JN-001", "质量安全", "已销号", date(2021, 4, 8)),
        ("D2", "370883", "JN-002", "资金支付", "整改中", None),
        (preview.sheets.new_findings["id"].iat[0], "370811", "JN-001", "长效管理", "交办", None)]
    detail = json.loads(con.execute("SELECT detail FROM audit_log WHERE id = ?", [result.import_id]).fetchone()[0])
    assert (detail["flows"], detail["findings_changed"], detail["findings_new"]) == (2, 1, 1)

    # The week again with other amounts: the week's money is replaced, not added
    again = _fill(reports.report_template(con, RENCHENG, WEEK), pay={3: {10: None, 11: 30}})
    assert _sheet(reports.report_template(con, RENCHENG, WEEK), report_sheets.PAY_SHEET)[0][8:11] == (None, 40, 50)
    preview, problems = _report(con, again)
    reports.submit_report(con, preview, user=EDITOR_RENCHENG)
    assert con.execute("SELECT stage, amount_wan FROM fund_flows WHERE starts_with(id, 'WR-')").fetchall() == [
        ("paid", 30.0)]
    importer.undo_last_import(con, user=ADMIN)
    importer.undo_last_import(con, user=ADMIN)
    assert {t: backup.table_checksums(con, (t,)) for t in ("fund_flows", "findings")} == before


def test_an_older_template_is_accepted_with_a_note_of_what_is_missing(con):
    old = _fill(reports.report_template(con, RENCHENG, WEEK), drop=(report_sheets.PAY_SHEET, report_sheets.FIND_SHEET))
    preview, problems = _report(con, old)
    assert preview.missing == ("payments", "findings")
    assert problems == [[None, "findings", "sheet_missing", "warning"], [None, "payments", "sheet_missing", "warning"]]
    flows = backup.table_checksums(con, ("fund_flows", "findings"))
    reports.submit_report(con, preview, user=EDITOR_RENCHENG)
    assert backup.table_checksums(con, ("fund_flows", "findings")) == flows
    assert con.execute("SELECT count(*) FROM progress_reports").fetchone()[0] == 1


def test_bad_payments_and_findings_are_refused_and_nothing_changes(con):
    template = reports.report_template(con, RENCHENG, WEEK)
    filled = _fill(template,
                   pay={3: {11: 200},  # paid 5 + 200 beyond received 60: flagged
                        5: {1: "JN-002", 4: "中央补助资金", 11: 10},  # 邹城's compound in 任城's report
                        6: {1: "JN-001", 11: 3}},  # an amount without its source
                   find={3: {7: "已销号"},  # closed without its date (the template asks for it)
                         4: {1: "D2", 7: "已销号", 8: date(2021, 4, 8)},  # 邹城's finding
                         5: {2: date(2021, 4, 30), 4: "其他", 5: "未来的问题"}})  # found after the report date
    preview, problems = _report(con, filled)
    sheet_problems = [p for p in problems if p[1].startswith(("payments", "findings"))]
    assert sheet_problems == [
        [3, "findings.closed_date", "closed_without_date", "error"],
        [3, "payments.amount_wan", "flow_order", "warning"],
        [4, "findings.id", "finding_of_other_unit", "error"],
        [5, "findings.found_date", "future_date", "error"],
        [5, "payments.compound_id", "other_unit", "error"],
        [6, "payments.source", "amount_without_source", "error"]]
    tables = tuple(t for t in all_tables(con) if t != "audit_log")
    before = backup.table_checksums(con, tables)
    with pytest.raises(ImportRejected, match=r"has 5 error\(s\)"):
        reports.submit_report(con, preview, user=EDITOR_RENCHENG)
    assert backup.table_checksums(con, tables) == before


def test_project_money_has_its_rows_and_can_be_added_below(con):
    """A project of the unit with money stored has its own rows; money for a project goes in an open row."""
    con.execute("INSERT INTO projects (id, name, unit_code) VALUES ('XM-1', '古槐片区', '370811'), "
                "('XM-9', '铁山片区', '370883')")
    con.execute("""INSERT INTO fund_flows (id, flow_date, project_id, source, stage, amount_wan) VALUES
                   ('p', DATE '2021-03-02', 'XM-1', 'special_bonds', 'allocated', 300)""")
    template = reports.report_template(con, RENCHENG, WEEK)
    rows = _sheet(template, report_sheets.PAY_SHEET)
    assert rows[-1] == (None, "XM-1", "古槐片区", "专项债券", None, 300, 0, 0, None, None, None, None)
    filled = _fill(template, pay={5: {10: 120}, 6: {2: "XM-1", 4: "专项债", 11: 200}, 7: {2: "XM-9", 4: "专项债", 9: 5}})
    preview, problems = _report(con, filled)
    assert [p for p in problems if p[1].startswith("payments")] == [
        [6, "payments.amount_wan", "flow_order", "warning"],  # paid 200 beyond received 120 for XM-1
        [7, "payments.project_id", "other_unit", "error"]]
    assert preview.sheets.flows[["id", "project_id", "stage", "amount_wan"]].values.tolist() == [
        ["WR-370811-2021-04-09-P-XM-1-special_bonds-received", "XM-1", "received", 120.0],
        ["WR-370811-2021-04-09-P-XM-1-special_bonds-paid", "XM-1", "paid", 200.0]]


def test_a_past_week_sees_neither_later_findings_nor_later_money(con):
    """A report for an earlier week lists the findings found by then and counts the money up to then."""
    con.execute("""INSERT INTO findings (id, found_date, unit_code, category, description, status) VALUES
                   ('D9', DATE '2021-06-01', '370811', '其他', '后来发现的', '交办')""")
    con.execute("""INSERT INTO fund_flows (id, flow_date, compound_id, source, stage, amount_wan) VALUES
                   ('later', DATE '2021-05-01', 'JN-001', 'central_subsidy', 'received', 500)""")
    template = reports.report_template(con, RENCHENG, WEEK)
    assert [r[0] for r in _sheet(template, report_sheets.FIND_SHEET)] == ["D1"]
    # paid 5 + 100 this week against received 60 by the report's Friday (the 500 of May not yet there)
    preview, problems = _report(con, _fill(template, pay={3: {11: 100}}))
    assert [p for p in problems if p[1].startswith("payments")] == [[3, "payments.amount_wan", "flow_order", "warning"]]
    assert preview.n_errors == 0


def test_sheet_rows_with_missing_values_are_empty_cells():
    """pd.NA and NaT (nullable columns read back from the database) are written as empty cells."""
    import openpyxl
    import pandas as pd

    from analytics.services import report_sheets

    frame = pd.DataFrame({"id": ["F1", "F2"], "amount_wan": pd.array([1.5, None], dtype="Float64"),
                          "flow_date": [pd.Timestamp("2020-11-20"), pd.NaT]})
    columns = [("id", "编号", "ID", False), ("amount_wan", "金额", "Amount", True), ("flow_date", "日期", "Date", True)]
    wb = openpyxl.Workbook()
    report_sheets._sheet(wb, "资金", columns, frame, "说明")
    ws = wb["资金"]
    assert [ws.cell(3, c).value for c in (1, 2)] == ["F1", 1.5]
    assert [ws.cell(4, c).value for c in (1, 2, 3)] == ["F2", None, None]


def test_a_past_weeks_template_shows_the_compound_as_it_was_then(con):
    """Without a report by then, the list's later dates are not pre-filled, and the status is what the
    dates up to the week mean (JN-001 is listed as completed on 2021-11-30)."""
    con.execute("UPDATE compounds SET status = '已完工', approved_date = DATE '2021-03-01', start_date = DATE "
                "'2021-05-01', completion_date = DATE '2021-11-30', invest_done_wan = 80 WHERE id = 'JN-001'")
    early = reports.template_compounds(con, RENCHENG, WEEK)
    assert early[["compound_id", "status", "approved_date", "start_date", "completion_date", "invest_done_wan"]
                 ].values.tolist() == [["JN-001", "已立项", date(2021, 3, 1), None, None, 0.0]]
    late = reports.template_compounds(con, RENCHENG, date(2021, 12, 10))
    assert late[["status", "start_date", "completion_date", "invest_done_wan"]].values.tolist() == [
        ["已完工", date(2021, 5, 1), date(2021, 11, 30), 80.0]]
