"""County weekly reports: template → fill → upload → stored snapshot seen by county_progress; re-upload, undo, rights."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from analytics import progress, settings, store
from analytics.errors import DataError, ImportRejected, InputError, PermissionDenied
from analytics.importing import importer
from analytics.services import auth, backup, reports
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, EDITOR_ZOUCHENG, VIEWER, all_tables, copy_database

WEEK = date(2021, 1, 8)  # a Friday after the last report of 2020 (2020-12-25): no 2021 reports yet
RENCHENG = "370811"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """The demo as it stood on ``WEEK`` (its today set to that day): the 2020 batch done, 2021 not yet reported."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "DEMO_TODAY", WEEK)
        return store.build_demo_database(tmp_path_factory.mktemp("reports") / "demo.duckdb")


@pytest.fixture
def con(template_db, tmp_path):
    connection = store.connect(copy_database(template_db, tmp_path / "db.duckdb"))
    yield connection
    connection.close()


def _fill(template: bytes, changes: dict[str, dict[str, object]], *, drop: tuple[str, ...] = (),
          extra: list[list[object]] | None = None) -> bytes:
    """The template with cells changed by compound id and field (as a county clerk would fill it)."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[reports.SHEET]
    fields = [f for f, *_ in reports.COLUMNS]
    for row in range(reports.HEADER_ROW + 1, ws.max_row + 1):
        cid = ws.cell(row, 1).value
        for field, value in changes.get(cid, {}).items():
            ws.cell(row, fields.index(field) + 1, value)
    for row in sorted((r for r in range(reports.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value in drop),
                      reverse=True):
        ws.delete_rows(row)
    for values in extra or []:
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _batch(con, county: str = RENCHENG, year: int = 2021) -> list[str]:
    """The unit's compounds of ``year``: a zone's compounds are the zone's, not their county's."""
    return [r[0] for r in con.execute(
        "SELECT id FROM compounds WHERE coalesce(zone_code, county_code) = ? AND plan_year = ? ORDER BY id",
        [county, year]).fetchall()]


def test_report_friday():
    assert reports.report_friday(date(2021, 1, 4)) == WEEK  # Monday
    assert reports.report_friday(date(2021, 1, 10)) == WEEK  # Sunday
    assert reports.report_friday(WEEK) == WEEK
    with pytest.raises(InputError, match=r"`report_date` was '2021-01-08' but must be a date"):
        reports.report_friday("2021-01-08")


def test_template_is_prefilled_locked_and_marked(con):
    data = reports.report_template(con, RENCHENG, date(2021, 1, 6))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[reports.SHEET]
    ids = [ws.cell(r, 1).value for r in range(reports.HEADER_ROW + 1, ws.max_row + 1)]
    # The 2021 batch of 任城 (the whole 2020 batch was completed by the demo's last report).
    assert ids == _batch(con)
    assert ws.cell(reports.HEADER_ROW, 7).value == "状态\nStatus"
    assert ws.protection.sheet is True
    assert ws.cell(reports.HEADER_ROW + 1, 1).protection.locked is True
    assert ws.cell(reports.HEADER_ROW + 1, 7).protection.locked is False
    # Pre-filled with the compound's stored state (no 2021 report yet).
    assert ws.cell(reports.HEADER_ROW + 1, 7).value == con.execute(
        "SELECT status FROM compounds WHERE id = ?", [ids[0]]).fetchone()[0]
    assert any('"未开工,已立项,已开工,已完工"' == v.formula1 for v in ws.data_validations.dataValidation)
    meta = wb[reports.META_SHEET]
    assert meta.sheet_state == "hidden"
    assert {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, 8)}["report_date"] == WEEK.isoformat()
    assert "2021年第1期" in ws.cell(2, 1).value  # the first report of 2021 opens its weekly series


def test_round_trip_is_seen_by_county_progress(con):
    first, second, *rest = _batch(con)
    with pytest.raises(DataError):
        progress.county_progress(con, as_of=WEEK, plan_year=2021)
    filled = _fill(reports.report_template(con, RENCHENG, WEEK), {
        first: {"status": "已开工", "approved_date": date(2020, 12, 1), "start_date": date(2021, 1, 4),
                "invest_done_wan": 120.5, "parking_spaces": 12},
        second: {"status": "已立项", "approved_date": "2021-01-05"},
    })
    preview = reports.prepare_report(con, filled, "任城周报.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    assert preview.n_errors == 0 and preview.n_rows == len(rest) + 2 and preview.replaces == 0
    result = reports.submit_report(con, preview, user=EDITOR_RENCHENG)
    assert (result.rows_written, result.rows_replaced) == (len(rest) + 2, 0)

    rows = preview.rows
    table = progress.county_progress(con, as_of=WEEK, plan_year=2021).set_index("unit_code")  # zones report apart
    row = table.loc[RENCHENG]
    assert row.planned_compounds == len(rest) + 2
    assert row.approved == rows.status.isin(["已立项", "已开工", "已完工"]).sum() >= 2
    assert row.started == rows.status.isin(["已开工", "已完工"]).sum() >= 1
    assert row.invest_done_wan == pytest.approx(rows.invest_done_wan.astype(float).sum())
    stored = con.execute("SELECT status, start_date, source, submitted_by FROM progress_reports "
                         "WHERE compound_id = ? AND report_date = ?", [first, WEEK]).fetchone()
    assert stored == ("已开工", date(2021, 1, 4), "county report", "rencheng")
    # The week is 任城's latest, so its compounds take the reported state.
    assert con.execute("SELECT status, invest_done_wan FROM compounds WHERE id = ?", [first]).fetchone() == (
        "已开工", 120.5)
    # The city's date is the week every county has reached, not 任城's alone.
    city = progress.city_as_of(con)
    assert city is not None and city <= WEEK
    assert store.dataset_info(con)["as_of"] == city.isoformat()


def test_reupload_replaces_with_history_and_undo(con):
    first, *_ = _batch(con)
    template = reports.report_template(con, RENCHENG, WEEK)
    one = _fill(template, {first: {"status": "已立项", "approved_date": date(2021, 1, 4)}})
    reports.submit_report(con, reports.prepare_report(con, one, "v1.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN),
                          user=EDITOR_RENCHENG)
    after_first = con.execute("SELECT * FROM progress_reports WHERE report_date = ? ORDER BY compound_id",
                              [WEEK]).fetchdf()
    two = _fill(template, {first: {"status": "已开工", "approved_date": date(2021, 1, 4),
                                   "start_date": date(2021, 1, 6)}})
    preview = reports.prepare_report(con, two, "v2.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    assert preview.replaces == len(after_first)
    result = reports.submit_report(con, preview, user=ADMIN)
    assert result.rows_replaced == len(after_first)
    assert con.execute("SELECT status FROM progress_reports WHERE compound_id = ? AND report_date = ?",
                       [first, WEEK]).fetchone()[0] == "已开工"
    history = reports.report_history(con, county_code=RENCHENG, report_date=WEEK)
    assert len(history) == len(after_first)
    assert set(history.replaced_by) == {"admin"} and set(history.replaced_by_import) == {result.import_id}
    assert history.set_index("compound_id").loc[first, "status"] == "已立项"

    undo = importer.undo_last_import(con, user=ADMIN)
    assert undo.action == "report"
    restored = con.execute("SELECT * FROM progress_reports WHERE report_date = ? ORDER BY compound_id",
                           [WEEK]).fetchdf()
    pd.testing.assert_frame_equal(restored, after_first)
    assert reports.report_history(con).empty
    assert con.execute("SELECT status FROM compounds WHERE id = ?", [first]).fetchone()[0] == "已立项"


@pytest.mark.parametrize("user, message", [
    (EDITOR_ZOUCHENG, r"User 'zoucheng' may write only for unit '370883', not '370811'"),
    (VIEWER, r"User 'leader' \(role 'viewer'\) may not submit report"),
    (None, r"Signing in is required to submit report"),
])
def test_only_own_county(con, user, message):
    """A county editor cannot store another county's report even by calling the write function directly."""
    data = reports.report_template(con, RENCHENG, WEEK)
    preview = reports.prepare_report(con, data, "t.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    data_tables = tuple(t for t in all_tables(con) if t != "audit_log")  # refusals are logged there
    before = backup.table_checksums(con, data_tables)
    with pytest.raises(PermissionDenied, match=message):
        reports.submit_report(con, preview, user=user)
    preview.county_code = "370883"  # forging the county cannot help: the rows are 任城's
    if user is EDITOR_ZOUCHENG:
        with pytest.raises(ImportRejected):
            reports.submit_report(con, preview, user=user)
    assert backup.table_checksums(con, data_tables) == before


def test_forged_rows_refused_at_write(con):
    """Rows of another county slipped into a preview for one's own county are refused at the write."""
    data = reports.report_template(con, RENCHENG, WEEK)
    preview = reports.prepare_report(con, data, "t.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    preview.county_code = "370883"
    before = backup.table_checksums(con, all_tables(con))
    with pytest.raises(ImportRejected, match=r"rows of compounds outside unit 370883"):
        reports.submit_report(con, preview, user=EDITOR_ZOUCHENG)
    assert backup.table_checksums(con, all_tables(con)) == before


def test_wrong_template_is_refused(con):
    data = reports.report_template(con, RENCHENG, WEEK)
    with pytest.raises(ImportRejected, match=r"is the template of unit 370811 for 2021-01-08, but unit 370883"):
        reports.prepare_report(con, data, "t.xlsx", county_code="370883", report_date=WEEK, user=ADMIN)
    with pytest.raises(ImportRejected, match=r"but unit 370811 and 2021-01-15 were chosen"):
        reports.prepare_report(con, data, "t.xlsx", county_code=RENCHENG, report_date=date(2021, 1, 15), user=ADMIN)


def test_not_a_report(con):
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "户数"])
    wb.active.append(["甲", 1])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ImportRejected, match=r"has no 小区编号 \(compound id\) and 状态 \(status\) columns") as caught:
        reports.prepare_report(con, buf.getvalue(), "other.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    assert caught.value.kind == "mapping"
    with pytest.raises(ImportRejected, match=r"is empty \(0 bytes\)"):
        reports.prepare_report(con, b"", "none.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)


def test_row_errors_are_reported(con):
    first, second, third, fourth, *_ = _batch(con)
    other = _batch(con, "370883")[0]
    filled = _fill(reports.report_template(con, RENCHENG, WEEK), {
        first: {"status": "差不多了"},
        second: {"status": "已完工", "start_date": date(2021, 1, 2)},
        third: {"status": "已开工", "start_date": date(2021, 2, 1)},
        fourth: {"parking_spaces": -3},
    }, drop=(_batch(con)[4],), extra=[["NO-SUCH-ID", None, None, None, None, None, "未开工"],
                                      [other, None, None, None, None, None, "未开工"]])
    preview = reports.prepare_report(con, filled, "bad.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    errors = preview.problems[preview.problems.severity == "error"]
    found = {(cid, code) for cid, code in zip(errors["value"], errors["code"])}
    assert ("差不多了", "unknown_value") in found
    assert ("已完工", "status_dates") in found  # no completion date
    assert ("2021-02-01", "future_date") in found
    assert ("-3", "out_of_range") in found
    assert ("NO-SUCH-ID", "unknown_compound") in found
    assert (other, "other_county") in found
    assert (_batch(con)[4], "missing_compound") in found
    with pytest.raises(ImportRejected, match=r"'bad\.xlsx' has \d+ error\(s\)"):
        reports.submit_report(con, preview, user=ADMIN)


def test_plain_workbook_without_meta_is_accepted(con):
    """A county that copies the rows into its own workbook (no hidden sheet) can still upload."""
    ids = _batch(con)
    frame = pd.DataFrame({"小区编号": ids, "状态": ["未开工"] * len(ids), "累计完成投资（万元）": [0] * len(ids)})
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    preview = reports.prepare_report(con, buf.getvalue(), "own.xlsx", county_code=RENCHENG, report_date=WEEK, user=ADMIN)
    assert preview.from_template is False and preview.n_errors == 0
    assert reports.submit_report(con, preview, user=EDITOR_RENCHENG).rows_written == len(ids)
    demo_weeks = con.execute("SELECT count(DISTINCT report_date) FROM progress_reports WHERE source = 'demo'"
                             ).fetchone()[0]
    weeks = reports.submitted_reports(con, county_code=RENCHENG)
    assert len(weeks) == demo_weeks + 1 and weeks.iloc[0].tolist()[:3] == [pd.Timestamp(WEEK), RENCHENG, len(ids)]


EDITOR_GAOXIN = auth.User("gaoxin", "county_editor", "Z01")  # 济宁高新区's editor


def test_a_zone_reports_its_own_compounds_and_not_a_countys(con):
    zone, rencheng = _batch(con, "Z01"), _batch(con)
    in_zone = {cid for (cid,) in con.execute("SELECT id FROM compounds WHERE zone_code = 'Z01' AND plan_year = 2021").fetchall()}
    assert len(zone) >= 2 and set(zone) == in_zone and not set(zone) & set(rencheng)  # the zone's compounds are its own
    assert reports.template_compounds(con, "Z01", WEEK)["compound_id"].tolist() == zone
    assert not set(zone) & set(reports.template_compounds(con, RENCHENG, WEEK)["compound_id"])
    auth.create_user(con, "gaoxin", "editor-password-3", role="county_editor", county_code="Z01",
                     actor=auth.User("cli:root", "admin"))
    template = reports.report_template(con, "Z01", WEEK)
    sheet = openpyxl.load_workbook(io.BytesIO(template))[reports.SHEET]
    assert sheet.cell(1, 1).value.startswith("济宁市老旧小区改造周调度报表 — 济宁高新区（Z01）")
    filled = _fill(template, {zone[0]: {"status": "已立项", "approved_date": date(2021, 1, 5)}})
    with pytest.raises(PermissionDenied, match=r"'gaoxin' may write only for unit 'Z01', not '370811'"):
        reports.prepare_report(con, filled, "高新区周报.xlsx", county_code=RENCHENG, report_date=WEEK, user=EDITOR_GAOXIN)
    with pytest.raises(PermissionDenied, match=r"'rencheng' may write only for unit '370811', not 'Z01'"):
        reports.prepare_report(con, filled, "高新区周报.xlsx", county_code="Z01", report_date=WEEK, user=EDITOR_RENCHENG)
    preview = reports.prepare_report(con, filled, "高新区周报.xlsx", county_code="Z01", report_date=WEEK,
                                     user=EDITOR_GAOXIN)
    assert preview.n_errors == 0 and preview.n_rows == len(zone)
    result = reports.submit_report(con, preview, user=EDITOR_GAOXIN)
    assert (result.county_code, result.rows_written) == ("Z01", len(zone))
    stored = con.execute("SELECT DISTINCT unit_code, county_code FROM progress_reports WHERE report_date = ?",
                         [WEEK]).fetchall()
    assert stored == [("Z01", "370811")]  # the zone's rows, in the county the compounds lie in
    table = progress.county_progress(con, as_of=WEEK, plan_year=2021).set_index("unit_code")
    approved = int(preview.rows.status.isin(["已立项", "已开工", "已完工"]).sum())
    assert (table.loc["Z01", "approved"], table.loc["Z01", "planned_compounds"]) == (approved, len(zone)) and approved >= 1
    assert reports.submitted_reports(con, county_code="Z01")["unit_code"].tolist()[0] == "Z01"
    # a county editor's upload of the zone's template for the county is refused as a mismatch
    with pytest.raises(ImportRejected, match=r"is the template of unit Z01 for 2021-01-08, but unit 370811"):
        reports.prepare_report(con, filled, "x.xlsx", county_code=RENCHENG, report_date=WEEK, user=EDITOR_RENCHENG)
