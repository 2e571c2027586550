"""County progress page (县区进度): the figures it shows equal ``analytics.progress`` for the same view."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from analytics import progress
from analytics import units as units_mod
from analytics.services import bulletin
from analytics.services.bulletin import choose_rank_by
from tests.page_helpers import chart_title, open_page, plotly_values, rerun, table_with, without_reports

PAGE = "pages/progress.py"


def chart_titled(at: AppTest, words: str):
    """The chart whose title holds ``words``: a page draws a chart's title above it (``charts.for_screen``),
    the bulletin's preview inside it."""
    figs = [pio.from_json(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [chart_title(f) for f in figs]
    found = [f for f, title in zip(figs, titles) if words in title]
    assert len(found) == 1, titles
    return found[0]


def arrow_value(text: str) -> float:
    """``▲ 2.5`` -> 2.5, ``▼ 1.0`` -> -1.0, ``— 0.0`` -> 0.0, empty -> NaN."""
    if not text:
        return np.nan
    sign = {"▲": 1.0, "▼": -1.0, "—": 0.0}[text[0]]
    return sign * float(text[1:].strip())


def test_month_view_ranked_by_investment_shows_county_progress(demo_con):
    # mid-November: the latest monthly bulletin is October's (last report 2026-10-30)
    at = open_page(PAGE, session={"as_of": "2026-11-13"})
    at.radio(key="period").set_value("month")
    at.selectbox(key="rank_by").set_value("invest_rate")
    at.radio(key="order").set_value("rank")
    rerun(at, as_of="2026-11-13")

    expected = progress.with_units_without_task(  # every unit of the year: one without a task is listed too
        progress.county_progress(demo_con, as_of=date(2026, 10, 30), rank_by="invest_rate"),
        units_mod.units(demo_con, year=2026))
    city = expected[expected.kind == "city"].iloc[0]
    units = progress.ranking_order(expected).iloc[:-1]  # ties in the official order, as in the bulletin
    ranked = units[units["rank"].notna()]

    # the year's monthly series starts in March: October is 第8期
    assert any("2026年第8期月通报" in c.value and "2026-10-30" in c.value for c in at.caption)
    metrics = {m.label: m for m in at.metric}
    assert metrics["投资完成率"].value == f"{city.invest_rate * 100:.1f}%"
    assert metrics["投资完成率"].delta == f"{city.invest_rate_chg_month * 100:+.1f} 个百分点"
    assert metrics["完工率"].value == f"{city.completion_rate * 100:.1f}%"
    assert metrics["全市已开工小区（个）"].value == f"{city.started:,}"

    shown = table_with(at, "投资完成率变化")  # the ranking (the projects table has 投资完成率 too)
    assert "名次变化" not in shown.columns  # rank change is a weekly figure
    assert shown["县区 / 功能区"].tolist() == [*units.name, "全市"]
    assert shown["排名"].iloc[:len(ranked)].tolist() == ranked["rank"].astype(int).tolist()
    assert shown["排名"].iloc[len(ranked):].isna().all()  # the units without a task and the city
    no_task = shown.loc[shown["标记"] == "无年度任务", "县区 / 功能区"].tolist()
    assert no_task == ["济宁经济技术开发区"]  # the one zone without compounds in 2026
    rows = pd.concat([units, expected[expected.kind == "city"]])
    assert shown["投资完成率（%）"].tolist() == pytest.approx((rows.invest_rate * 100).round(1).tolist(), nan_ok=True)
    assert shown["已开工"].tolist() == rows.started.tolist()
    assert [arrow_value(v) for v in shown["投资完成率变化"]] == pytest.approx(
        (rows.invest_rate_chg_month * 100).round(1).tolist(), nan_ok=True
    )
    bottom = shown.loc[shown["标记"].str.contains("后三名"), "县区 / 功能区"].tolist()
    assert bottom == units.loc[units.bottom_three, "name"].tolist()
    assert len(bottom) >= 3

    # the city's weekly trend stops at the bulletin's report date
    series = progress.weekly_series(demo_con, plan_year=2026)
    series = series[pd.to_datetime(series.report_date).dt.date <= date(2026, 10, 30)]
    started = next(tr for tr in chart_titled(at, "全市累计开工、完工小区数（2026年计划）").data if tr.name == "累计开工（个）")
    assert plotly_values(started.y) == series.started.tolist()
    assert at.button(key="bulletin-make-month").label.startswith("生成月通报")
    figures_equal_the_bulletins(at, demo_con, as_of=date(2026, 11, 13), kind="month", rank_by="invest_rate")


def figures_equal_the_bulletins(at: AppTest, con, *, as_of: date, kind: str, rank_by: str) -> None:
    """The page's ranking table and the bulletin of the same period give the same figures, unit by unit."""
    issue = bulletin.build_bulletin(con, as_of=as_of, kind=kind, rank_by=rank_by)
    table = issue.tables[0]
    shown = table_with(at, "计划户数").set_index("县区 / 功能区")
    headers = ["计划小区数", "计划户数", "已开工", "已开工户数", "开工率（%）", "已完工", "已完工户数", "完工率（%）"]
    change = {"invest_rate": "投资完成率变化", "completion_rate": "完工率变化",
              "start_rate_compounds": "开工率变化"}[rank_by]
    assert len(table.rows) == len(shown)
    for i, row in enumerate(table.rows):
        page_row = shown.loc[row[1].rstrip(bulletin.SMALL_MARK)]
        if i in table.spans:  # 无年度任务: no figures on either
            assert row[2] == bulletin.NO_TASK and page_row["标记"] == "无年度任务" and page_row["计划小区数"] == 0
            continue
        assert [float(v) for v in page_row[headers]] == pytest.approx([float(v) for v in row[2:10]]), row[1]
        assert arrow_value(page_row[change]) == pytest.approx(float(row[-2]), abs=0.051), row[1]
        if row[1] != "全市":
            assert int(page_row["排名"]) == int(row[0])
    assert any(issue.full_title in c.value for c in at.caption)  # the panel names the same issue


def test_week_view_unit_selector_shows_its_series_and_delays(demo_con):
    as_of = demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]  # the default week
    at = open_page(PAGE)
    assert at.radio(key="period").value == "week"
    at.selectbox(key="unit").set_value("370826")  # 微山县, the slowest county of the demo
    rerun(at)
    assert at.query_params["unit"] == "370826"

    rank_by = choose_rank_by(progress.county_progress(demo_con, as_of=as_of))  # the page's default ranking
    expected = progress.with_units_without_task(progress.county_progress(demo_con, as_of=as_of, rank_by=rank_by),
                                                units_mod.units(demo_con, year=as_of.year))
    shown = table_with(at, "名次变化")
    assert [arrow_value(v) for v in shown["名次变化"].iloc[:-1]] == pytest.approx(
        expected.rank_chg_week.iloc[:-1].tolist(), nan_ok=True
    )
    assert [arrow_value(v) for v in shown["完工率变化"]] == pytest.approx(
        (expected.completion_rate_chg_week * 100).round(1).tolist(), nan_ok=True
    )

    behind = progress.behind_schedule(demo_con, as_of=as_of, unit_code="370826")
    assert len(behind) > 0
    late = table_with(at, "滞后天数")
    assert late["小区编号"].tolist() == behind.compound_id.tolist()
    assert late["滞后天数"].tolist() == behind.days_late.tolist()
    assert set(late["县区 / 功能区"]) == {"微山县"}
    assert any(m.value == f"滞后项目 {len(behind)} 个" for m in at.markdown)

    series = progress.weekly_series(demo_con, plan_year=as_of.year, unit_code="370826")
    fig = chart_titled(at, "微山县")
    started = next(tr for tr in fig.data if tr.name == "累计开工（个）")
    assert plotly_values(started.y) == series.started.tolist()
    completed = next(tr for tr in fig.data if tr.name == "累计完工（个）")
    assert plotly_values(completed.y) == series.completed.tolist()


def test_english_toggle_translates_counties_and_headers(demo_con):
    at = open_page(PAGE, session={"lang": "en"})
    shown = table_with(at, "Rank")
    assert shown["County / zone"].iloc[0] == "Rencheng"
    assert shown["County / zone"].iloc[-1] == "City total"
    assert "Completion rate (%)" in shown.columns


@pytest.fixture
def no_reports_db(tmp_path, monkeypatch):
    yield from without_reports(tmp_path / "no_reports.duckdb", monkeypatch)


def test_without_reports_the_page_says_what_to_do(no_reports_db):
    at = open_page(PAGE)
    assert [i.value for i in at.info] == ["还没有进度报告（progress_reports 为空），请先在“数据管理”中导入或填报周报。"]
    assert not at.dataframe


def test_month_view_before_the_first_month_end_is_interim_without_changes(demo_con):
    at = open_page(PAGE, session={"as_of": "2026-03-13"})
    at.radio(key="period").set_value("month")
    rerun(at, as_of="2026-03-13")
    captions = [c.value for c in at.caption]
    assert "截至所选日期尚无月末报告，显示当期进度。" in captions
    assert any("2026年第1期月通报" in c and "2026-03-13" in c for c in captions)
    expected = progress.county_progress(demo_con, as_of=date(2026, 3, 13), rank_by="start_rate_compounds")
    assert expected.start_rate_compounds_chg_month.isna().all()  # no report a month earlier
    city = expected[expected.kind == "city"].iloc[0]
    card = {m.label: m for m in at.metric}["开工率（按小区）"]
    assert card.value == f"{city.start_rate_compounds * 100:.1f}%"
    assert not card.delta
    shown = table_with(at, "开工率变化")
    assert set(shown["开工率变化"]) == {""}


def test_started_and_completed_cards_read_against_the_target(demo_con):
    # 2026: the city's target (annual_targets) is 152 compounds, its list 150; 嘉祥县's target was raised above its list
    as_of = date(2026, 11, 13)
    targets = dict(demo_con.execute(
        "SELECT unit_code, compounds FROM annual_targets WHERE year = 2026 AND unit_code IN ('370800', '370829')"
    ).fetchall())
    listed = demo_con.execute("SELECT count(*) FROM compounds WHERE plan_year = 2026").fetchone()[0]
    assert (listed, targets["370800"]) == (150, 152)
    report = demo_con.execute("SELECT max(report_date) FROM progress_reports WHERE report_date <= ?",
                              [as_of]).fetchone()[0]
    expected = progress.county_progress(demo_con, as_of=report)

    at = open_page(PAGE, session={"as_of": as_of.isoformat()})
    city = expected[expected.kind == "city"].iloc[0]
    cards = {m.label: m for m in at.metric}
    assert cards["全市已开工小区（个）"].value == f"{city.started:,}"
    assert cards["全市已完工小区（个）"].value == f"{city.completed:,}"
    assert cards["全市已开工小区（个）"].delta == "清单 150 个 · 目标 152 个"
    assert cards["全市已完工小区（个）"].delta == "清单 150 个 · 目标 152 个"
    assert cards["开工率（按小区）"].value == f"{city.started / 152 * 100:.1f}%"  # the rate is against the target

    at.selectbox(key="unit").set_value("370829")  # 嘉祥县: its target is larger than its list
    rerun(at, as_of=as_of.isoformat())
    county = expected[expected.unit_code == "370829"].iloc[0]
    assert county["name"] == "嘉祥县" and int(county.planned_compounds) < targets["370829"]
    cards = {m.label: m for m in at.metric}
    assert cards["嘉祥县已开工小区（个）"].value == f"{county.started:,}"
    assert cards["嘉祥县已开工小区（个）"].delta == (
        f"清单 {int(county.planned_compounds)} 个 · 目标 {targets['370829']} 个")
    assert cards["完工率"].value == f"{county.completed / targets['370829'] * 100:.1f}%"


def test_english_cards_state_the_target(demo_con):
    at = open_page(PAGE, session={"lang": "en", "as_of": "2026-11-13"})
    cards = {m.label: m for m in at.metric}
    assert cards["Compounds started, City total"].delta == "list 150 · target 152"
