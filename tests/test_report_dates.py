"""One county cannot move the city's view: report dates are bounded and the city's as-of date is the week
every county has reached (``analytics.progress.city_as_of``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import progress, settings, store
from analytics.errors import InputError
from analytics.services import reports
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, copy_database
from tests.page_helpers import APP, open_page

FRIDAYS = [date(2020, 12, 4), date(2020, 12, 11), date(2020, 12, 18)]


def _compound(con, cid: str, county: str, plan_year: int | None) -> None:
    con.execute(
        """INSERT INTO compounds (id, name, county_code, built_year, households, floor_area_m2, plan_year, geom)
           VALUES (?, ?, ?, 1995, 100, 8000, ?, ST_Point(116.6, 35.4))""", [cid, cid, county, plan_year])


def _report(con, day: date, cid: str, county: str) -> None:
    con.execute("INSERT INTO progress_reports (report_date, compound_id, county_code, status) VALUES (?, ?, ?, '已开工')",
                [day, cid, county])


@pytest.fixture
def three_counties(mem_con):
    """任城 reported three Fridays, 兖州 two, 微山 one; 鱼台 has only a candidate compound (no plan year)."""
    for cid, county in (("A", "370811"), ("B", "370812"), ("C", "370826")):
        _compound(mem_con, cid, county, 2020)
    _compound(mem_con, "D", "370827", None)
    for day in FRIDAYS:
        _report(mem_con, day, "A", "370811")
    for day in FRIDAYS[:2]:
        _report(mem_con, day, "B", "370812")
    _report(mem_con, FRIDAYS[0], "C", "370826")
    return mem_con


# --------------------------------------------------------------------------------------------- the rule
def test_city_as_of_is_the_week_every_county_has_reached(three_counties):
    assert progress.city_as_of(three_counties) == FRIDAYS[0]
    assert progress.city_as_of(three_counties, share=2 / 3) == FRIDAYS[1]
    assert progress.city_as_of(three_counties, share=0.5) == FRIDAYS[1]  # 2 of 3 needed
    assert progress.city_as_of(three_counties, share=1 / 3) == FRIDAYS[2]
    assert progress.city_as_of(three_counties, on_or_before=FRIDAYS[0] - timedelta(days=1)) is None


def test_a_county_far_ahead_does_not_move_it(three_counties):
    _report(three_counties, date(2099, 12, 25), "A", "370811")
    assert progress.city_as_of(three_counties) == FRIDAYS[0]


def test_before_every_county_has_reported_it_follows_the_slowest_that_has(three_counties):
    three_counties.execute("DELETE FROM progress_reports WHERE county_code = '370826'")
    assert progress.city_as_of(three_counties) == FRIDAYS[1]  # 微山 never reported: 兖州's latest
    three_counties.execute("DELETE FROM progress_reports")
    assert progress.city_as_of(three_counties) is None


def test_the_share_comes_from_the_settings(three_counties, monkeypatch):
    monkeypatch.setattr(settings, "CITY_AS_OF_SHARE", 2 / 3)
    assert progress.city_as_of(three_counties) == FRIDAYS[1]


@pytest.mark.parametrize("share", [0, -0.5, 1.5, True, "all"])
def test_bad_share(three_counties, share):
    with pytest.raises(InputError, match=r"`share` was .* but must be a fraction with 0 < share <= 1"):
        progress.city_as_of(three_counties, share=share)


# ------------------------------------------------------------------------------------------ report dates
def test_report_dates_are_bounded(three_counties):
    today = date(2020, 12, 15)  # a Tuesday: the coming Friday is 18 December
    assert reports.report_date_bounds(three_counties, today=today) == (date(2020, 1, 3), date(2020, 12, 18))
    assert reports.check_report_date(three_counties, date(2020, 12, 17), today=today) == date(2020, 12, 18)
    with pytest.raises(InputError, match=r"`report_date` was 2020-12-25 but a weekly report must be dated between "
                                         r"2020-01-03 \(the first plan year\) and 2020-12-18 \(the coming Friday\)"):
        reports.check_report_date(three_counties, date(2020, 12, 25), today=today)
    with pytest.raises(InputError, match="2019-12-27"):
        reports.check_report_date(three_counties, date(2019, 12, 27), today=today)
    friday = date(2020, 12, 18)
    assert reports.report_date_bounds(three_counties, today=friday)[1] == friday  # on a Friday: that Friday


@pytest.fixture
def demo_copy(demo_db_path, tmp_path, monkeypatch):
    path = copy_database(demo_db_path, tmp_path / "dates.duckdb")
    con = store.connect(path)
    yield path, con
    con.close()


def _filled_report(con, county: str, day: date, *, today: date, user=EDITOR_RENCHENG):
    template = reports.report_template(con, county, day)
    return reports.prepare_report(con, template, "周报.xlsx", county_code=county, report_date=day, user=user,
                                  today=today)


def test_a_report_dated_far_ahead_is_refused(demo_copy):
    _, con = demo_copy
    latest = con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    today = latest + timedelta(days=4)
    before = con.execute("SELECT count(*) FROM progress_reports").fetchone()[0]
    with pytest.raises(InputError, match=r"`report_date` was 2099-12-25 .* \(the coming Friday\)"):
        _filled_report(con, "370811", date(2099, 12, 25), today=today)
    # a preview forged for that date is refused at the write too
    preview = _filled_report(con, "370811", latest, today=today)
    preview.report_date = date(2099, 12, 25)
    with pytest.raises(InputError, match="2099-12-25"):
        reports.submit_report(con, preview, user=ADMIN, today=today)
    assert con.execute("SELECT count(*) FROM progress_reports").fetchone()[0] == before


def test_one_county_reporting_ahead_leaves_the_citys_date_and_the_overview(demo_copy, monkeypatch):
    path, con = demo_copy
    latest = con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    assert progress.city_as_of(con) == latest  # every demo county reported the same weeks
    ahead = latest + timedelta(days=7)  # next week's Friday, allowed on that day
    preview = _filled_report(con, "370811", ahead, today=ahead)
    assert preview.n_errors == 0, preview.problems
    reports.submit_report(con, preview, user=EDITOR_RENCHENG, today=ahead)
    assert con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0] == ahead
    assert progress.city_as_of(con) == latest
    assert dict(con.execute("SELECT key, value FROM dataset_info").fetchall())["as_of"] == latest.isoformat()
    con.execute("CHECKPOINT")

    monkeypatch.setattr(settings, "DB_PATH", path)
    st.cache_data.clear()
    try:
        at = open_page("pages/overview.py")
        assert at.session_state["as_of"] == latest.isoformat()
        assert any(latest.isoformat() in c.value for c in at.caption)
        assert not any(ahead.isoformat() in c.value for c in at.caption)
        # the sidebar lists the week reported ahead, opens on the city's week, and returns to it from another year
        front = AppTest.from_file(str(APP), default_timeout=120)
        front.run()
        assert front.selectbox(key="as_of").options[:2] == [ahead.isoformat(), latest.isoformat()]
        assert front.selectbox(key="as_of").value == latest.isoformat()
        front.selectbox(key="as_of_year").set_value(latest.year - 1).run()
        front.selectbox(key="as_of_year").set_value(latest.year).run()
        assert not front.exception and front.selectbox(key="as_of").value == latest.isoformat()
    finally:
        st.cache_data.clear()
