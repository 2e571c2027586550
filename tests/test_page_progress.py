"""County progress page (县区进度): the figures it shows equal ``analytics.progress`` for the same view."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import progress, settings, store

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/progress.py"


def open_page(**sidebar) -> AppTest:
    """The app, switched to the page; ``sidebar`` sets the sidebar's session values (``lang``, ``as_of``)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(PAGE)
    return rerun(at, **sidebar)


def rerun(at: AppTest, **sidebar) -> AppTest:
    """Run again with the sidebar's values set first.

    Because the repository has a ``pages/`` folder, AppTest runs only the page script after
    ``switch_page`` (not app.py), so the sidebar's widget values do not survive a rerun on their own.
    """
    for key, value in sidebar.items():
        at.session_state[key] = value
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page that has ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def chart_titled(at: AppTest, words: str):
    figs = [pio.from_json(c.proto.spec) for c in at.get("plotly_chart")]
    found = [f for f in figs if words in str(f.layout.title.text)]
    assert len(found) == 1, [f.layout.title.text for f in figs]
    return found[0]


def values(array) -> list:
    """A plotly trace array as a list (plotly serialises numeric arrays as base64 ``bdata``)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def arrow_value(text: str) -> float:
    """``▲ 2.5`` -> 2.5, ``▼ 1.0`` -> -1.0, ``— 0.0`` -> 0.0, empty -> NaN."""
    if not text:
        return np.nan
    sign = {"▲": 1.0, "▼": -1.0, "—": 0.0}[text[0]]
    return sign * float(text[1:].strip())


def test_month_view_ranked_by_investment_shows_county_progress(demo_con):
    # mid-November: the latest monthly bulletin is October's (last report 2020-10-30)
    at = open_page(as_of="2020-11-13")
    at.radio(key="period").set_value("month")
    at.selectbox(key="rank_by").set_value("invest_rate")
    at.radio(key="order").set_value("rank")
    rerun(at, as_of="2020-11-13")

    expected = progress.county_progress(demo_con, as_of=date(2020, 10, 30), rank_by="invest_rate")
    city = expected[expected.kind == "city"].iloc[0]
    units = expected[expected.kind != "city"].sort_values(["rank", "unit_code"], kind="stable")

    assert any("2020年第10期月通报" in c.value and "2020-10-30" in c.value for c in at.caption)
    metrics = {m.label: m for m in at.metric}
    assert metrics["投资完成率"].value == f"{city.invest_rate * 100:.1f}%"
    assert metrics["投资完成率"].delta == f"{city.invest_rate_chg_month * 100:+.1f} 个百分点"
    assert metrics["完工率"].value == f"{city.completion_rate * 100:.1f}%"
    assert metrics["已开工 / 计划小区"].value == f"{city.started} / {city.planned_compounds}"

    shown = table_with(at, "投资完成率（%）")
    assert "名次变化" not in shown.columns  # rank change is a weekly figure
    assert shown["县区 / 功能区"].tolist() == [*units.name, "全市"]
    assert shown["排名"].iloc[:-1].tolist() == units["rank"].astype(int).tolist()
    assert pd.isna(shown["排名"].iloc[-1])
    rows = pd.concat([units, expected[expected.kind == "city"]])
    assert shown["投资完成率（%）"].tolist() == pytest.approx((rows.invest_rate * 100).round(1).tolist())
    assert shown["已开工"].tolist() == rows.started.tolist()
    assert [arrow_value(v) for v in shown["投资完成率变化"]] == pytest.approx(
        (rows.invest_rate_chg_month * 100).round(1).tolist(), nan_ok=True
    )
    bottom = shown.loc[shown["标记"].str.contains("后三名"), "县区 / 功能区"].tolist()
    assert bottom == units.loc[units.bottom_three, "name"].tolist()
    assert len(bottom) >= 3

    # the city's weekly trend stops at the bulletin's report date
    series = progress.weekly_series(demo_con, plan_year=2020)
    series = series[pd.to_datetime(series.report_date).dt.date <= date(2020, 10, 30)]
    started = next(tr for tr in chart_titled(at, "全市").data if tr.name == "累计开工（个）")
    assert values(started.y) == series.started.tolist()
    assert at.button(key="bulletin-make-month").label.startswith("生成月通报")


def test_week_view_unit_selector_shows_its_series_and_delays(demo_con):
    at = open_page()
    assert at.radio(key="period").value == "week"
    at.selectbox(key="unit").set_value("370826")  # 微山县, the slowest county of the demo
    rerun(at)
    as_of = date(2020, 12, 25)
    assert at.query_params["unit"] == "370826"

    expected = progress.county_progress(demo_con, as_of=as_of, rank_by="completion_rate")
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

    series = progress.weekly_series(demo_con, plan_year=2020, unit_code="370826")
    fig = chart_titled(at, "微山县")
    started = next(tr for tr in fig.data if tr.name == "累计开工（个）")
    assert values(started.y) == series.started.tolist()
    completed = next(tr for tr in fig.data if tr.name == "累计完工（个）")
    assert values(completed.y) == series.completed.tolist()


def test_english_toggle_translates_counties_and_headers(demo_con):
    at = open_page(lang="en")
    shown = table_with(at, "Rank")
    assert shown["County / zone"].iloc[0] == "Rencheng"
    assert shown["County / zone"].iloc[-1] == "City total"
    assert "Completion rate (%)" in shown.columns


@pytest.fixture
def no_reports_db(tmp_path, monkeypatch):
    path = tmp_path / "no_reports.duckdb"
    con = store.connect(path)
    con.execute("DELETE FROM progress_reports")
    con.close()
    monkeypatch.setattr(settings, "DB_PATH", path)
    st.cache_data.clear()  # cached tables are keyed on the data version, which both databases share
    yield path
    st.cache_data.clear()


def test_without_reports_the_page_says_what_to_do(no_reports_db):
    at = open_page()
    assert [i.value for i in at.info] == ["还没有进度报告（progress_reports 为空），请先在“数据管理”中导入或填报周报。"]
    assert not at.dataframe


def test_month_view_before_the_first_month_end_is_interim_without_changes(demo_con):
    at = open_page(as_of="2020-03-13")
    at.radio(key="period").set_value("month")
    rerun(at, as_of="2020-03-13")
    captions = [c.value for c in at.caption]
    assert "截至所选日期尚无月末报告，显示当期进度。" in captions
    assert any("2020年第3期月通报" in c and "2020-03-13" in c for c in captions)
    expected = progress.county_progress(demo_con, as_of=date(2020, 3, 13), rank_by="start_rate_compounds")
    assert expected.start_rate_compounds_chg_month.isna().all()  # no report a month earlier
    city = expected[expected.kind == "city"].iloc[0]
    card = {m.label: m for m in at.metric}["开工率（按小区）"]
    assert card.value == f"{city.start_rate_compounds * 100:.1f}%"
    assert not card.delta
    shown = table_with(at, "开工率变化")
    assert set(shown["开工率变化"]) == {""}
