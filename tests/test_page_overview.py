"""总览 Overview: the KPI cards, the ranking and the compound table equal the analyses for the same view."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import progress, store
from tests.page_helpers import (
    open_page,
    plotly_values,
    rerun,
    table_with,
    task_note,
    use_copy,
    without_reports,
    year_task,
)

PAGE = "pages/overview.py"
END_2020 = date(2020, 12, 25)  # the last weekly report of 2020


@pytest.fixture(scope="module")
def latest(demo_con) -> date:
    """The latest week of the data, read straight from the stored reports (every unit reports every week)."""
    return demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]


def expected_cards(row: pd.Series) -> list[str]:
    """The six cards' values for a ``county_progress`` row: the floor area is the year's target (the list's
    total where no target is stored)."""
    area = row.planned_floor_area_m2 if pd.isna(row.target_floor_area_m2) else row.target_floor_area_m2
    return [
        f"{int(row.started):,}",
        f"{int(row.started_households):,}",
        f"{area / 1e4:,.2f}",
        f"{row.start_rate_compounds * 100:.1f}%",
        f"{row.completion_rate * 100:.1f}%",
        f"{row.invest_rate * 100:.1f}%",
    ]


def ranking_chart(at: AppTest):
    charts = [pio.from_json(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 1
    return charts[0]


def statuses_at(con, as_of: date, ids: list[str]) -> dict[str, str]:
    """Each compound's status in its latest report on or before ``as_of`` (never reported: 未开工)."""
    rows = con.execute(
        "SELECT compound_id, status, report_date FROM progress_reports WHERE report_date <= ?", [as_of]
    ).fetchdf()
    latest = rows.sort_values("report_date").groupby("compound_id").last()["status"]
    return {i: latest.get(i, "未开工") for i in ids}


def test_opens_on_the_current_year_and_the_latest_week(demo_con, latest):
    at = open_page(PAGE)
    assert at.session_state["as_of"] == latest.isoformat()
    frame = progress.county_progress(demo_con, as_of=latest)
    assert frame.attrs["plan_year"] == latest.year
    city = frame[frame.kind == "city"].iloc[0]
    planned = demo_con.execute("SELECT count(*), sum(households) FROM compounds WHERE plan_year = ?",
                               [latest.year]).fetchone()
    assert [m.value for m in at.metric] == expected_cards(city)
    # the year's targets (annual_targets), the list's totals beside them where they differ: the demo's 2026 list
    # has 150 compounds against a target of 152
    task = year_task(demo_con, latest.year)
    assert task["compounds"] == (152.0, planned[0]) and planned[0] == 150 and city.target_mismatch
    assert at.metric[0].delta == "清单 150 个 · 目标 152 个"
    assert at.metric[1].delta == task_note(*task["households"], "户")
    assert at.metric[2].label == "目标建筑面积（万m²）"
    assert at.metric[2].value == f"{task['floor_area_m2'][0] / 1e4:,.2f}"
    ids = demo_con.execute("SELECT id FROM compounds WHERE plan_year = ?", [latest.year]).fetchdf()["id"].tolist()
    statuses = statuses_at(demo_con, latest, ids).values()
    started = sum(s in ("已开工", "已完工") for s in statuses)
    completed = sum(s == "已完工" for s in statuses)
    assert at.metric[0].value == f"{started:,}"
    assert at.metric[3].value == f"{started / 152 * 100:.1f}%"  # against the target, not the list's 150
    assert at.metric[4].value == f"{completed / 152 * 100:.1f}%"
    assert any(c.value.startswith("年度目标：152 个小区") and "计划清单与目标不一致：150 个小区" in c.value
               for c in at.caption)
    assert any(f"{latest.year}年度" in c.value and f"截至 {latest.isoformat()}" in c.value and "演示数据" in c.value
               for c in at.caption)
    assert len(table_with(at, "编号")) == planned[0]


def test_city_cards_equal_county_progress_and_the_2020_plan(demo_con):
    at = open_page(PAGE, session={"as_of": END_2020.isoformat()})  # back to 2020 in the sidebar
    frame = progress.county_progress(demo_con, as_of=END_2020)
    city = frame[frame.kind == "city"].iloc[0]
    assert [m.value for m in at.metric] == expected_cards(city)
    # the 2020 plan from the implementation plan: 68 compounds, 26,000 households, 228 万 m² (target = list)
    assert year_task(demo_con, 2020) == {"compounds": (68, 68), "households": (26_000, 26_000),
                                         "floor_area_m2": (2_280_000, 2_280_000)}
    assert at.metric[0].delta == "目标 68 个"
    assert at.metric[1].delta == "目标 26,000 户"
    assert at.metric[2].value == "228.00" and at.metric[2].delta == "与计划清单一致"
    assert at.metric[4].delta == f"{city.completion_rate_chg_week * 100:+.1f} 个百分点"
    assert any("截至 2020-12-25" in c.value and "演示数据" in c.value for c in at.caption)

    chart = ranking_chart(at)  # default indicator: completion rate, best on top
    units = frame[frame.kind != "city"]
    bars = chart.data[0]
    shown = dict(zip(bars.y, plotly_values(bars.x)))
    assert shown == pytest.approx(dict(zip(units.name, units.completion_rate * 100)))
    assert plotly_values(bars.x) == sorted(plotly_values(bars.x))  # horizontal bars: best drawn last = on top
    assert len(table_with(at, "编号")) == int(city.planned_compounds)


def test_choosing_a_county_filters_the_whole_page(demo_con, latest):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("370826")  # 微山县: behind this year, nothing completed yet
    rerun(at)
    assert at.query_params["county"] == "370826"

    frame = progress.county_progress(demo_con, as_of=latest)
    row = frame[frame.unit_code == "370826"].iloc[0]
    assert [m.value for m in at.metric] == expected_cards(row)
    assert at.metric[4].value == "0.0%"
    task = year_task(demo_con, latest.year, "370826")  # its list has more households than its target
    assert task["households"][0] is not None and task["households"][0] != task["households"][1]
    assert [m.delta for m in at.metric[:2]] == [task_note(*task["compounds"], "个"), task_note(*task["households"], "户")]
    assert at.metric[1].delta.startswith("清单 ")

    plan = demo_con.execute(
        "SELECT id FROM compounds WHERE plan_year = ? AND county_code = '370826' AND zone_code IS NULL ORDER BY id",
        [latest.year]).fetchdf()["id"].tolist()
    table = table_with(at, "编号")
    assert sorted(table["编号"]) == plan
    assert dict(zip(table["编号"], table["状态"])) == statuses_at(demo_con, latest, plan)

    bars = ranking_chart(at).data[0]
    colours = dict(zip(bars.y, bars.marker.color))
    assert colours["微山县"] == "#C0392B" and colours["任城区"] != "#C0392B"


def test_function_zone_and_earlier_week(demo_con):
    as_of = date(2020, 7, 3)
    at = open_page(PAGE, session={"as_of": as_of.isoformat()})
    at.selectbox(key="county").set_value("Z02")  # 太白湖新区 (a function zone)
    at.selectbox(key="indicator").set_value("invest_rate")
    rerun(at, as_of=as_of.isoformat())

    frame = progress.county_progress(demo_con, as_of=as_of)
    row = frame[frame.unit_code == "Z02"].iloc[0]
    assert [m.value for m in at.metric] == expected_cards(row)
    plan = demo_con.execute(
        "SELECT id FROM compounds WHERE plan_year = 2020 AND zone_code = 'Z02' ORDER BY id"
    ).fetchdf()["id"].tolist()
    table = table_with(at, "编号")
    assert dict(zip(table["编号"], table["状态"])) == statuses_at(demo_con, as_of, plan)

    bars = ranking_chart(at).data[0]
    units = frame[frame.kind != "city"]
    assert dict(zip(bars.y, plotly_values(bars.x))) == pytest.approx(dict(zip(units.name, units.invest_rate * 100)))


def test_meeting_mode_shows_only_cards_and_map():
    at = open_page(PAGE)
    at.toggle(key="meeting").set_value(True)
    rerun(at)
    assert at.query_params["meeting"] == "True"
    assert len(at.metric) == 6
    assert not at.dataframe and not at.get("plotly_chart") and not at.main.selectbox  # the sidebar is hidden by CSS
    assert not at.get("download_button")
    assert any("stSidebar" in m.value and "display: none" in m.value for m in at.markdown)
    assert at.title[0].value == "济宁市老旧小区改造工作总览"


def test_meeting_mode_names_the_selected_county_and_clears_it():
    """A county clicked on the map in meeting mode: the title names it, the selection shows and can be cleared."""
    at = open_page(PAGE, query={"meeting": "True"})
    rerun(at, county="370811")  # what a click on 任城区 sets
    assert at.title[0].value == "任城区老旧小区改造工作总览"
    assert "济宁市" not in at.title[0].value
    shown = [m.value for m in at.markdown if "任城区" in m.value]
    assert shown, "the selected county is not shown"
    at.button(key="meeting_clear_unit").click()
    rerun(at)
    assert at.session_state["county"] == ""
    assert at.title[0].value == "济宁市老旧小区改造工作总览"
    assert not [b for b in at.button if b.key == "meeting_clear_unit"]
    at.session_state["lang"] = "en"
    rerun(at, county="370811")
    assert at.title[0].value == "Rencheng old compound renovation — overview"


def test_english(demo_con):
    at = open_page(PAGE, session={"lang": "en"})
    assert [m.label for m in at.metric][3:] == ["Start rate", "Completion rate", "Investment rate"]
    table = table_with(at, "ID")
    assert set(table["Status"]) <= {"Not started", "Approved", "Under way", "Completed"}


def map_args(at: AppTest) -> dict:
    import json

    return json.loads(at.get("component_instance")[0].proto.json_args)


def test_basemaps_from_the_sidebar(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    at = open_page(PAGE)
    plain = map_args(at)
    assert "tileLayer" not in plain["script"] and "http" not in plain["script"]
    assert plain["js_links"] == ["/app/static/vendor/leaflet/leaflet.js", "/app/static/vendor/jquery/jquery.min.js"]

    rerun(at, basemap="tianditu")  # no key: say so, draw without tiles
    assert [i.value for i in at.info] == [
        "未配置天地图密钥：请在 .streamlit/secrets.toml 中设置 TIANDITU_KEY，或设置环境变量 TIANDITU_KEY。地图暂以无底图方式显示。"
    ]
    assert "tianditu" not in map_args(at)["script"]

    rerun(at, basemap="gaode")  # Gaode tiles, and the data shifted to GCJ-02 (≈ 500 m east)
    gaode = map_args(at)["script"]
    assert "is.autonavi.com" in gaode and not at.info
    lon = lambda script: float(re.search(r'"coordinates": ?\[\[\[([\d.]+), ?([\d.]+)\]', script).group(1))  # noqa: E731
    assert 0.003 < lon(gaode) - lon(plain["script"]) < 0.008  # ≈ 0.0053° of longitude at 35.4°N


@pytest.fixture
def no_reports_db(tmp_path, monkeypatch):
    yield from without_reports(tmp_path / "no_reports.duckdb", monkeypatch)


def test_without_reports_the_page_says_so(no_reports_db):
    at = open_page(PAGE)
    assert [i.value for i in at.info] == ["还没有任何进度周报，导入或填报后这里会显示进度。"]
    assert not at.metric and not at.get("component_instance")


@pytest.fixture
def no_targets_db(demo_db_path, tmp_path, monkeypatch):
    """A copy of the demo without the current year's targets, opened by the app."""
    path = use_copy(demo_db_path, tmp_path / "no_targets.duckdb", monkeypatch)
    con = store.connect(path)
    year = con.execute("SELECT year(max(report_date)) FROM progress_reports").fetchone()[0]
    con.execute("DELETE FROM annual_targets WHERE year = ?", [year])
    con.close()
    st.cache_data.clear()
    yield path
    st.cache_data.clear()


def test_a_year_without_targets_reads_the_list_and_the_slide_says_the_same(no_targets_db, latest):
    con = store.connect(no_targets_db)
    try:
        task = year_task(con, latest.year)
        ids = con.execute("SELECT id FROM compounds WHERE plan_year = ?", [latest.year]).fetchdf()["id"].tolist()
        completed = sum(s == "已完工" for s in statuses_at(con, latest, ids).values())
    finally:
        con.close()
    assert all(target is None for target, _ in task.values())
    listed = {name: n for name, (_, n) in task.items()}
    at = open_page(PAGE)
    assert at.metric[0].delta == f"无下达目标，按计划清单 {listed['compounds']:,.0f} 个"
    assert at.metric[1].delta == f"无下达目标，按计划清单 {listed['households']:,.0f} 户"
    assert (at.metric[2].label, at.metric[2].value) == ("计划建筑面积（万m²）", f"{listed['floor_area_m2'] / 1e4:,.2f}")
    assert at.metric[4].value == f"{completed / listed['compounds'] * 100:.1f}%"  # against the list
    assert any(c.value.startswith(f"无下达目标，按计划清单：{listed['compounds']:,.0f} 个小区") for c in at.caption)

    slide = open_page("pages/present.py", query={"slide": "overview"},
                      session={"as_of": latest.isoformat(), "slide": "overview"})
    assert [(m.label, m.value, m.delta) for m in slide.metric] == [(m.label, m.value, m.delta) for m in at.metric]
