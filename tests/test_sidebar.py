"""The shared sidebar's as-of choice: a year, then that year's report weeks (latest first); ``week=`` in the URL."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import sidebar
from tests.page_helpers import APP, assert_clean


def front_door(query: dict | None = None) -> AppTest:
    """The app as a link opens it (the overview, with the sidebar)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    if query:
        at.query_params.update(query)
    at.run()
    assert_clean(at)
    return at


def report_weeks(con, year: int) -> list[str]:
    rows = con.execute("SELECT DISTINCT report_date FROM progress_reports WHERE year(report_date) = ? "
                       "ORDER BY report_date DESC", [year]).fetchall()
    return [r[0].isoformat() for r in rows]


def test_weeks_of_a_year_latest_first():
    dates = [date(2020, 12, 18), date(2021, 1, 8), date(2020, 12, 25), date(2021, 1, 1)]
    assert sidebar.weeks_of(2020, dates) == ["2020-12-25", "2020-12-18"]
    assert sidebar.weeks_of(2021, dates) == ["2021-01-08", "2021-01-01"]
    assert sidebar.weeks_of(2022, dates) == []


def test_opens_on_the_current_year_and_the_citys_week(demo_con):
    at = front_door()
    latest = demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    years = [r[0] for r in demo_con.execute(
        "SELECT DISTINCT year(report_date) AS y FROM progress_reports ORDER BY y DESC").fetchall()]
    assert at.selectbox(key="as_of_year").options == [f"{y}年" for y in years]
    assert at.selectbox(key="as_of_year").value == latest.year
    assert at.selectbox(key="as_of").value == latest.isoformat()
    assert at.selectbox(key="as_of").options == report_weeks(demo_con, latest.year)
    assert at.query_params["week"] == latest.isoformat()


def test_a_link_with_a_past_week_opens_that_year_and_week(demo_con):
    at = front_door({"week": "2021-05-07"})
    assert at.selectbox(key="as_of_year").value == 2021
    assert at.selectbox(key="as_of").value == "2021-05-07"
    assert at.selectbox(key="as_of").options == report_weeks(demo_con, 2021)  # that year's weeks only
    assert at.query_params["week"] == "2021-05-07"
    assert any("2021年度改造计划" in c.value and "截至 2021-05-07" in c.value for c in at.caption)


def test_a_week_that_is_no_report_week_opens_the_default(demo_con):
    latest = demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    for bad in ("2021-05-08", "1999-01-01", "x"):
        at = front_door({"week": bad})
        assert at.selectbox(key="as_of").value == latest.isoformat()
        assert at.query_params["week"] == latest.isoformat()


@pytest.mark.parametrize("year", [2020, 2023])
def test_choosing_a_year_selects_its_latest_week(demo_con, year):
    at = front_door()
    at.selectbox(key="as_of_year").set_value(year).run()
    assert_clean(at)
    weeks = report_weeks(demo_con, year)
    assert at.selectbox(key="as_of").options == weeks
    assert at.selectbox(key="as_of").value == weeks[0] and at.query_params["week"] == weeks[0]
    assert any(f"{year}年度改造计划" in c.value and f"截至 {weeks[0]}" in c.value for c in at.caption)


def test_a_week_then_another_year_then_the_language(demo_con):
    at = front_door({"week": "2021-05-07"})
    at.selectbox(key="as_of").set_value("2021-03-05").run()
    assert_clean(at)
    assert at.query_params["week"] == "2021-03-05" and at.selectbox(key="as_of_year").value == 2021
    latest = demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    at.selectbox(key="as_of_year").set_value(latest.year).run()  # back to the current year: the latest week
    assert at.selectbox(key="as_of").value == latest.isoformat()
    at.selectbox(key="as_of").set_value(report_weeks(demo_con, latest.year)[3]).run()
    at.radio(key="lang").set_value("en").run()  # the choice survives the language switch
    assert_clean(at)
    assert at.selectbox(key="as_of").value == report_weeks(demo_con, latest.year)[3]
    assert at.selectbox(key="as_of_year").options[0] == str(latest.year)
