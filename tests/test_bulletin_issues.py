"""Which report an issue is made from, what it compares with, its number and 文号, the register, the office's
settings, and the money and findings the bulletin reads — each on a hand-built database with known answers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest

from analytics.errors import DataError, InputError, PermissionDenied
from analytics.services.auth import User
from analytics.services.bulletin import facts, issues, office
from analytics.services.bulletin.office import OfficeSettings
from tests.bulletin_fixtures import build_reports, fridays

ADMIN = User("admin", "admin")
VIEWER = User("viewer", "viewer")
DEFAULT = OfficeSettings()


@pytest.fixture
def weekly(mem_con):
    """Reports every Friday of 2020 from 6 March to 25 December (43 reports)."""
    build_reports(mem_con, fridays(date(2020, 3, 6), date(2020, 12, 25)))
    return mem_con


def test_weekly_issue_compares_with_the_previous_week_and_counts_from_the_first_report(weekly):
    got = issues.issue_for(weekly, as_of=date(2020, 6, 26), kind="week", office=DEFAULT)
    assert (got.report_date, got.previous_date, got.period_start) == (date(2020, 6, 26), date(2020, 6, 19),
                                                                     date(2020, 6, 20))
    assert (got.issue, got.doc_number, got.registered) == (17, "济旧改指办〔2020〕17号", False)  # 6 March is 第1期
    sunday = issues.issue_for(weekly, as_of=date(2020, 6, 28), kind="week", office=DEFAULT)
    assert (sunday.report_date, sunday.issue) == (date(2020, 6, 26), 17)
    first = issues.issue_for(weekly, as_of=date(2020, 3, 6), kind="week", office=DEFAULT)
    assert (first.issue, first.previous_date) == (1, None)


def test_monthly_issue_is_the_latest_complete_month_compared_with_the_month_before(weekly):
    november = issues.issue_for(weekly, as_of=date(2020, 11, 30), kind="month", office=DEFAULT)
    assert (november.report_date, november.previous_date, november.period_start) == (
        date(2020, 11, 27), date(2020, 10, 30), date(2020, 11, 1))
    assert (november.issue, november.interim) == (9, False)  # March is 第1期
    # 27 November is November's last Friday: from that day the November bulletin is made
    assert issues.issue_for(weekly, as_of=date(2020, 11, 27), kind="month", office=DEFAULT).report_date == date(2020, 11, 27)
    october = issues.issue_for(weekly, as_of=date(2020, 11, 26), kind="month", office=DEFAULT)
    assert (october.report_date, october.previous_date, october.issue) == (date(2020, 10, 30), date(2020, 9, 25), 8)
    interim = issues.issue_for(weekly, as_of=date(2020, 3, 20), kind="month", office=DEFAULT)
    assert (interim.report_date, interim.previous_date, interim.issue, interim.interim) == (
        date(2020, 3, 20), None, 1, True)
    assert issues.last_friday(2020, 11) == date(2020, 11, 27) and issues.last_friday(2020, 12) == date(2020, 12, 25)
    assert issues.last_friday(2021, 4) == date(2021, 4, 30)


def test_a_missing_week_is_not_counted(mem_con):
    dates = [d for d in fridays(date(2020, 3, 6), date(2020, 7, 3)) if d != date(2020, 5, 1)]
    build_reports(mem_con, dates)
    got = issues.issue_for(mem_con, as_of=date(2020, 6, 26), kind="week", office=DEFAULT)
    assert got.issue == 16
    after_gap = issues.issue_for(mem_con, as_of=date(2020, 5, 8), kind="week", office=DEFAULT)
    assert (after_gap.issue, after_gap.previous_date) == (9, date(2020, 4, 24))  # the week before has no report


def test_series_start_from_the_offices_settings(weekly):
    start = replace(DEFAULT, series_start={2020: (date(2020, 6, 26), 7)}, doc_prefix="济旧改办")
    got = issues.issue_for(weekly, as_of=date(2020, 7, 3), kind="week", office=start)
    assert (got.issue, got.doc_number) == (2, "济旧改办〔2020〕2号")
    assert issues.issue_for(weekly, as_of=date(2020, 7, 31), kind="month", office=start).issue == 1
    with pytest.raises(DataError, match="weekly series of 2020 starts with the report of 2020-06-26"):
        issues.issue_for(weekly, as_of=date(2020, 6, 19), kind="week", office=start)
    with pytest.raises(DataError, match="monthly series of 2020 starts in month 7"):
        issues.issue_for(weekly, as_of=date(2020, 6, 30), kind="month", office=start)


def test_a_remade_issue_keeps_its_number_and_doc_number(weekly):
    made = issues.register(weekly, issues.issue_for(weekly, as_of=date(2020, 6, 26), kind="week", office=DEFAULT),
                           user=ADMIN, now=datetime(2020, 6, 26, 17, 0))
    assert (made.issue, made.registered) == (17, True)
    renumbered = replace(DEFAULT, series_start={2020: (date(2020, 5, 1), 5)}, doc_prefix="济旧改办")
    assert issues.issue_for(weekly, as_of=date(2020, 7, 3), kind="week", office=renumbered).issue == 10
    again = issues.issue_for(weekly, as_of=date(2020, 6, 26), kind="week", office=renumbered)
    assert (again.issue, again.doc_number, again.registered) == (17, "济旧改指办〔2020〕17号", True)
    issues.register(weekly, again, user=VIEWER, now=datetime(2020, 6, 29, 9, 0))
    row = weekly.execute("SELECT issue, first_made_at, made_at, made_by FROM bulletins").fetchall()
    assert row == [(17, datetime(2020, 6, 26, 17, 0), datetime(2020, 6, 29, 9, 0), "viewer")]
    # a monthly issue is one per month: made mid-way through and again at the month's end, one number
    interim = issues.register(weekly, issues.issue_for(weekly, as_of=date(2020, 3, 20), kind="month", office=DEFAULT))
    final = issues.issue_for(weekly, as_of=date(2020, 3, 31), kind="month", office=replace(DEFAULT, doc_prefix="X"))
    assert (interim.issue, final.issue, final.doc_number, final.report_date) == (1, 1, "济旧改指办〔2020〕1号",
                                                                                 date(2020, 3, 27))


def test_a_number_already_held_by_another_period_is_not_given_twice(weekly):
    issues.register(weekly, issues.issue_for(weekly, as_of=date(2020, 6, 26), kind="week", office=DEFAULT))
    shifted = replace(DEFAULT, series_start={2020: (date(2020, 3, 13), 3)})
    # the rule gives 3 July number 17 (16 reports from 13 March), which 26 June holds: it gets 17 + 1
    got = issues.issue_for(weekly, as_of=date(2020, 7, 3), kind="week", office=shifted)
    assert (got.issue, got.doc_number) == (18, "济旧改指办〔2020〕18号")


def test_issue_errors(mem_con, weekly):
    with pytest.raises(InputError, match="`kind` was 'year'"):
        issues.issue_for(weekly, as_of=date(2020, 6, 26), kind="year", office=DEFAULT)
    with pytest.raises(InputError, match="`as_of` was '2020-06-26'"):
        issues.issue_for(weekly, as_of="2020-06-26", kind="week", office=DEFAULT)
    with pytest.raises(DataError, match="no progress report on or before `as_of` 2020-03-01"):
        issues.issue_for(weekly, as_of=date(2020, 3, 1), kind="week", office=DEFAULT)


# -------------------------------------------------------------------------------- the office's settings
def test_settings_default_save_load_and_audit(mem_con):
    assert office.load(mem_con) == DEFAULT
    changed = replace(DEFAULT, doc_prefix="济旧改办", praise_top_n=2, criticise_below_average_pp=15.0,
                      distribution=(("报", "市政府。"), ("发", "各县（市、区）人民政府，曲阜文化建设示范区管委会。")),
                      series_start={2021: (date(2021, 1, 8), 1)}, ranking_tables="two", small_unit_compounds=5)
    office.save(mem_con, changed, user=ADMIN)
    assert office.load(mem_con) == changed
    keys = [r[0] for r in mem_con.execute("SELECT key FROM office_settings ORDER BY key").fetchall()]
    assert keys == ["criticise_below_average_pp", "distribution", "doc_prefix", "praise_top_n", "ranking_tables",
                    "series_start", "small_unit_compounds"]  # only what differs from the defaults
    action, user, detail = mem_con.execute("SELECT action, username, detail FROM audit_log").fetchone()
    assert (action, user, json.loads(detail)["series_start"]) == ("office_settings", "admin", {"2021": ["2021-01-08", 1]})
    office.save(mem_con, DEFAULT, user=ADMIN)  # back to the defaults: nothing kept
    assert mem_con.execute("SELECT count(*) FROM office_settings").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"doc_prefix": ""}, "`doc_prefix` was ''"),
        ({"doc_prefix": "济〔改"}, "without brackets"),
        ({"distribution": (("抄", "市政府。"),)}, "each entry must be \\(label, recipients\\)"),
        ({"distribution": (("报", "市政府\n市委"),)}, "recipients on one line"),
        ({"series_start": {2020: (date(2020, 6, 25), 7)}}, "must be \\(a Friday of 2020, a month 1–12\\)"),
        ({"series_start": {2020: (date(2021, 1, 8), 1)}}, "a Friday of 2020"),
        ({"praise_top_n": 11}, "`praise_top_n` was 11"),
        ({"criticise_below_average_pp": 0}, "`criticise_below_average_pp` was 0"),
        ({"ranking_tables": "three"}, "`ranking_tables` was 'three'"),
        ({"payment_gap_pp": -5}, "`payment_gap_pp` was -5"),
    ],
)
def test_unusable_settings_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        office.check(replace(DEFAULT, **changes))


def test_an_unusable_setting_stores_nothing(mem_con):
    with pytest.raises(InputError, match="`doc_prefix` was ''"):
        office.save(mem_con, replace(DEFAULT, doc_prefix="", praise_top_n=1), user=ADMIN)
    assert mem_con.execute("SELECT count(*) FROM office_settings").fetchone()[0] == 0
    assert mem_con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_only_an_administrator_changes_the_settings(mem_con):
    for user in (None, VIEWER, User("ed", "county_editor", "370811")):
        with pytest.raises(PermissionDenied):
            office.save(mem_con, replace(DEFAULT, doc_prefix="X"), user=user)
    assert mem_con.execute("SELECT count(*) FROM office_settings").fetchone()[0] == 0


def test_an_unreadable_stored_value_falls_back_to_the_default(mem_con):
    mem_con.execute("INSERT INTO office_settings VALUES ('praise_top_n', 'not json', now(), 'x'), "
                    "('doc_prefix', '\"济旧改办\"', now(), 'x'), ('retired_key', '1', now(), 'x')")
    assert office.load(mem_con) == replace(DEFAULT, doc_prefix="济旧改办")


# ------------------------------------------------------------------------------------ money, findings
@pytest.fixture
def money(mem_con):
    build_reports(mem_con, [date(2020, 6, 19), date(2020, 6, 26)])  # C0..C2 of 任城区, 100 万元 planned each
    mem_con.execute("""INSERT INTO compounds (id, name, county_code, built_year, households, floor_area_m2, plan_year,
                       invest_planned_wan, geom) VALUES ('N1', '明年小区', '370811', 1990, 10, 900, 2021, 50,
                       ST_GeomFromText('POINT (116.6 35.4)'))""")
    mem_con.execute("INSERT INTO projects (id, name, year, unit_code) VALUES ('P1', '任城片区', 2020, '370811')")
    rows = [
        ("f1", date(2020, 4, 1), "C0", None, "allocated", 100.0), ("f2", date(2020, 4, 10), "C0", None, "received", 80.0),
        ("f3", date(2020, 6, 10), "C0", None, "paid", 30.0), ("f4", date(2020, 6, 24), "C0", None, "paid", 20.0),
        ("f5", date(2020, 7, 1), "C1", None, "paid", 10.0),  # after the report: not counted
        ("f6", date(2020, 6, 20), None, "P1", "paid", 5.0),  # booked on the project
        ("f7", date(2020, 6, 1), "N1", None, "paid", 7.0),  # a compound of the 2021 plan
    ]
    for fid, day, cid, pid, stage, amount in rows:
        mem_con.execute("INSERT INTO fund_flows (id, flow_date, compound_id, project_id, source, stage, amount_wan) "
                        "VALUES (?, ?, ?, ?, 'local_fiscal', ?, ?)", [fid, day, cid, pid, stage, amount])
    return mem_con


def test_payments_per_unit_known_answer(money):
    got = facts.payments(money, plan_year=2020, report_date=date(2020, 6, 26), previous_date=date(2020, 6, 19))
    assert list(got.columns) == facts.PAYMENT_COLUMNS
    assert got["unit_code"].tolist() == ["370811", "370800"]
    unit = got.iloc[0]
    assert (unit.planned_invest_wan, unit.allocated_wan, unit.received_wan, unit.paid_wan, unit.paid_in_period_wan) == (
        300.0, 100.0, 80.0, 55.0, 25.0)
    assert unit.payment_rate == pytest.approx(55 / 300)
    assert got.iloc[1].drop("unit_code").tolist() == unit.drop("unit_code").tolist()
    first = facts.payments(money, plan_year=2020, report_date=date(2020, 6, 26), previous_date=None)
    assert first.iloc[0].paid_in_period_wan == 55.0
    assert facts.payments(money, plan_year=2020, report_date=date(2020, 3, 31), previous_date=None) is None


def test_open_and_overdue_findings_on_the_report_date(mem_con):
    rows = [
        ("F1", date(2020, 6, 1), date(2020, 6, 16), "整改中", None),  # 10 days overdue on 26 June
        ("F2", date(2020, 6, 20), date(2020, 7, 10), "交办", None),  # open, not yet due
        ("F3", date(2020, 6, 1), date(2020, 6, 10), "已销号", date(2020, 6, 15)),  # closed before the report
        ("F4", date(2020, 6, 1), date(2020, 6, 20), "已销号", date(2020, 6, 30)),  # closed after it: open then
        ("F5", date(2020, 6, 30), date(2020, 7, 30), "交办", None),  # found after the report
        ("F6", date(2020, 5, 1), date(2020, 5, 10), "已销号", None),  # closed, date not recorded
    ]
    for fid, found, deadline, status, closed in rows:
        mem_con.execute("INSERT INTO findings (id, found_date, unit_code, category, description, deadline, status, "
                        "closed_date) VALUES (?, ?, '370811', '开工', '问题', ?, ?, ?)", [fid, found, deadline, status, closed])
    got = facts.open_findings(mem_con, report_date=date(2020, 6, 26))
    assert got["id"].tolist() == ["F1", "F4", "F2"]
    assert got["days_overdue"].tolist() == [10, 6, -14]
    assert facts.open_findings(mem_con, report_date=date(2020, 4, 1)).empty


def test_findings_without_deadline_are_open_but_never_overdue(mem_con):
    mem_con.execute("INSERT INTO findings (id, found_date, unit_code, category, description, status) "
                    "VALUES ('F9', DATE '2020-06-01', '370811', '其他', '问题', '交办')")
    got = facts.open_findings(mem_con, report_date=date(2020, 6, 26))
    assert got["id"].tolist() == ["F9"] and pd.isna(got["days_overdue"].iloc[0])
    assert pd.isna(got["deadline"].iloc[0])
