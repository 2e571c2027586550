"""Programme page (十四五 / 全周期): the figures it shows equal ``analytics.programme.programme_summary``."""

from __future__ import annotations

import plotly.io as pio
import pytest

from analytics import programme, progress
from tests.page_helpers import assert_clean, chart_title, open_page, plotly_values, table_with

PAGE = "pages/programme.py"


@pytest.fixture(scope="module")
def shown():
    return open_page(PAGE)


@pytest.fixture(scope="module")
def expected(demo_con):
    return programme.programme_summary(demo_con, as_of=progress.city_as_of(demo_con))


def _figure(at, title):
    for chart in at.get("plotly_chart"):
        fig = pio.from_json(chart.proto.spec)
        if title in chart_title(fig):
            return fig
    raise AssertionError(f"no chart titled {title!r}")


def test_cards_equal_the_summary(shown, expected):
    assert_clean(shown)
    cards = {m.label: m.value for m in shown.metric}
    goal = expected.goal
    assert cards["“十四五”目标（2020–2025，万m²）"] == "1,690.00"
    assert cards["已列入计划（2020–2025，万m²）"] == f"{goal['planned_floor_area_m2'] / 1e4:,.2f}"
    assert cards["已完工（2020–2025，万m²）"] == f"{goal['completed_floor_area_m2'] / 1e4:,.2f}"
    last = expected.trajectory.iloc[-1]
    assert cards["已完工 / 计划小区（累计）"] == f"{int(last.completed):,} / {int(last.planned_compounds):,}"


def test_trajectory_chart_and_table(shown, expected):
    fig = _figure(shown, "累计计划与完工建筑面积")
    bars = {tr.name: tr for tr in fig.data}
    assert list(bars["累计计划面积（万m²）"].x) == [str(y) for y in expected.trajectory.year]
    assert plotly_values(bars["累计计划面积（万m²）"].y) == pytest.approx(
        (expected.trajectory.planned_floor_area_m2 / 1e4).round(2).tolist())
    assert plotly_values(bars["累计完工面积（万m²）"].y) == pytest.approx(
        (expected.trajectory.completed_floor_area_m2 / 1e4).round(2).tolist())
    assert set(plotly_values(bars["“十四五”目标（万m²）"].y)) == {1690.0}


def test_years_against_targets(shown, expected):
    city = expected.years[expected.years.unit_code == "370800"]
    fig = _figure(shown, "逐年目标、计划与完工建筑面积")
    planned = next(tr for tr in fig.data if tr.name == "计划面积（万m²）")
    assert list(planned.x) == [str(y) for y in city.year]
    assert plotly_values(planned.y) == pytest.approx((city.planned_floor_area_m2 / 1e4).round(2).tolist())
    table = table_with(shown, "目标核对")
    assert len(table) == len(expected.years)
    assert table["计划小区数"].tolist() == expected.years.planned_compounds.tolist()
    assert table["已完工"].tolist() == expected.years.completed.tolist()
    assert (table["目标核对"] != "").tolist() == expected.years.target_mismatch.tolist()


def test_units_stock_and_pool(shown, expected):
    cum = expected.cumulative[expected.cumulative.unit_code != "370800"]
    fig = _figure(shown, "各县区累计完工面积占计划比例")
    assert plotly_values(fig.data[0].x) == pytest.approx((cum.area_done_share * 100).round(1).tolist(), nan_ok=True)
    stock = table_with(shown, "尚未改造小区")
    assert stock["尚未改造小区"].tolist() == expected.stock.remaining_compounds.tolist()
    assert stock["已改造比例（%）"].tolist() == pytest.approx((expected.stock.done_share * 100).round(1).tolist(),
                                                           nan_ok=True)
    if not expected.pool.empty:
        pool = table_with(shown, "符合改造条件")
        assert pool["储备库小区"].tolist() == expected.pool.compounds.tolist()


def test_english(demo_con, expected):
    at = open_page(PAGE, session={"lang": "en"})
    assert {m.label for m in at.metric} >= {"Five-year goal (2020–2025, 10k m²)", "Planned (2020–2025, 10k m²)"}


def test_trajectory_in_households(expected):
    at = open_page(PAGE)
    at.radio(key="prog_measure").set_value("households").run()
    assert_clean(at)
    assert at.query_params["prog_measure"] == "households"
    fig = _figure(at, "累计计划与完工户数")
    bars = {tr.name: tr for tr in fig.data}
    assert set(bars) == {"累计计划户数", "累计完工户数"}  # no goal line: the goal is in m²
    assert plotly_values(bars["累计完工户数"].y) == expected.trajectory.completed_households.tolist()


# ------------------------------------------------------------------------ one county (the shared county filter)
RENCHENG = "370811"


@pytest.fixture(scope="module")
def rencheng(demo_con):
    """任城区 on the demo's latest week, straight from the tables: its compounds with their status, its targets."""
    as_of = demo_con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
    compounds = demo_con.execute(
        """
        WITH latest AS (
            SELECT compound_id, arg_max(status, report_date) AS status FROM progress_reports
            WHERE report_date <= ? GROUP BY compound_id
        )
        SELECT c.id, c.plan_year, c.built_year, c.floor_area_m2, coalesce(c.demolition_planned, false) AS demolish,
               coalesce(l.status, '未开工') AS status
        FROM compounds c LEFT JOIN latest l ON l.compound_id = c.id
        WHERE coalesce(c.zone_code, c.county_code) = ?
        """, [as_of, RENCHENG]).fetchdf()
    targets = demo_con.execute("SELECT year, floor_area_m2 FROM annual_targets WHERE unit_code = ? ORDER BY year",
                               [RENCHENG]).fetchdf()
    return as_of, compounds, targets


@pytest.fixture(scope="module")
def shown_rencheng():
    return open_page(PAGE, query={"county": RENCHENG})  # a link with the county in it


def _wan(value) -> str:
    return f"{value / 1e4:,.2f}"


def test_a_county_shows_its_own_targets_not_the_citys_goal(shown_rencheng, rencheng):
    as_of, compounds, targets = rencheng
    at = shown_rencheng
    assert at.selectbox(key="county").value == RENCHENG and at.query_params["county"] == RENCHENG
    cards = {m.label: m.value for m in at.metric}
    goal_years = targets[targets.year.between(2020, 2025)]
    assert "“十四五”目标（2020–2025，万m²）" not in cards
    assert cards["年度目标合计（2020–2025，万m²）"] == _wan(goal_years.floor_area_m2.sum())
    in_goal = compounds[compounds.plan_year.between(2020, 2025)]
    assert cards["已列入计划（2020–2025，万m²）"] == _wan(in_goal.floor_area_m2.sum())
    assert cards["已完工（2020–2025，万m²）"] == _wan(in_goal[in_goal.status == "已完工"].floor_area_m2.sum())
    planned = compounds[compounds.plan_year <= as_of.year]
    assert cards["已完工 / 计划小区（累计）"] == f"{(planned.status == '已完工').sum():,} / {len(planned):,}"
    note = next(c.value for c in at.caption if "全市目标" in c.value)
    assert "任城区" in note and f"{len(goal_years)}个年度" in note and "1,690.00" in note


def test_a_countys_trajectory_and_years(shown_rencheng, rencheng):
    as_of, compounds, targets = rencheng
    fig = _figure(shown_rencheng, "累计计划与完工建筑面积")
    bars = {tr.name: tr for tr in fig.data}
    first = int(compounds.plan_year.min())
    assert list(bars["累计计划面积（万m²）"].x) == [str(y) for y in range(first, as_of.year + 1)]
    cum = [compounds[compounds.plan_year <= y].floor_area_m2.sum() / 1e4 for y in range(first, as_of.year + 1)]
    assert plotly_values(bars["累计计划面积（万m²）"].y) == pytest.approx([round(v, 2) for v in cum])
    goal = targets[targets.year.between(2020, 2025)].floor_area_m2.sum() / 1e4
    assert set(plotly_values(bars["年度目标合计（万m²）"].y)) == {round(goal, 2)}

    fig = _figure(shown_rencheng, "逐年目标、计划与完工建筑面积")
    traces = {tr.name: tr for tr in fig.data}
    years = sorted(int(y) for y in compounds.plan_year.dropna() if y <= as_of.year)
    years = sorted(set(years))
    assert list(traces["计划面积（万m²）"].x) == [str(y) for y in years]
    per_year = compounds.groupby("plan_year").floor_area_m2.sum()
    assert plotly_values(traces["计划面积（万m²）"].y) == pytest.approx([round(per_year[y] / 1e4, 2) for y in years])
    target = targets.set_index("year").floor_area_m2
    assert plotly_values(traces["目标面积（万m²）"].y) == pytest.approx([round(target[y] / 1e4, 2) for y in years])
    done = compounds[compounds.status == "已完工"].groupby("plan_year").floor_area_m2.sum()
    assert plotly_values(traces["完工面积（万m²）"].y) == pytest.approx(
        [round(done.get(y, 0.0) / 1e4, 2) for y in years])
    table = table_with(shown_rencheng, "目标核对")
    assert set(table["县区 / 功能区"]) == {"任城区"} and table["年度"].tolist() == years


def test_a_countys_stock_and_pool(shown_rencheng, rencheng):
    _, compounds, _ = rencheng
    stock = table_with(shown_rencheng, "尚未改造小区")
    eligible = compounds[~compounds.demolish]
    first = eligible[eligible.built_year <= 2000]
    second = eligible[eligible.built_year.between(2001, 2005)]
    assert stock["县区 / 功能区"].tolist() == ["任城区", "任城区"]
    assert stock["尚未改造小区"].tolist() == [(first.status != "已完工").sum(), (second.status != "已完工").sum()]
    pool = table_with(shown_rencheng, "符合改造条件")
    candidates = compounds[compounds.plan_year.isna()]
    assert pool["县区 / 功能区"].tolist() == ["任城区"]
    assert pool["储备库小区"].tolist() == [len(candidates)]
    assert pool["符合改造条件"].tolist() == [(~candidates.demolish & (candidates.built_year <= 2005)).sum()]
    units = _figure(shown_rencheng, "各县区累计完工面积占计划比例")  # every county still, 任城区 marked
    colors = units.data[0].marker.color
    assert len(units.data[0].y) > 1 and [c for c, name in zip(colors, units.data[0].y) if name == "任城区"] == [
        "#C0392B"] and colors.count("#C0392B") == 1


def test_choosing_a_county_and_back_to_the_city(expected):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("Z03").run()  # a zone with no compound and no target yet
    assert_clean(at)
    assert at.query_params["county"] == "Z03"
    cards = {m.label: m.value for m in at.metric}
    assert cards["年度目标合计（2020–2025，万m²）"] == "—"
    assert cards["已列入计划（2020–2025，万m²）"] == "0.00"
    assert any("没有2020–2025年的年度面积目标" in c.value for c in at.caption)
    at.selectbox(key="county").set_value("").run()
    assert_clean(at)
    cards = {m.label: m.value for m in at.metric}
    assert cards["“十四五”目标（2020–2025，万m²）"] == "1,690.00"
    assert cards["已完工（2020–2025，万m²）"] == f"{expected.goal['completed_floor_area_m2'] / 1e4:,.2f}"


def test_the_county_chosen_on_the_overview_carries_over():
    at = open_page("pages/overview.py")
    at.selectbox(key="county").set_value(RENCHENG).run()
    at.switch_page(PAGE)
    at.run()
    assert_clean(at)
    assert at.selectbox(key="county").value == RENCHENG and at.query_params["county"] == RENCHENG
    assert "年度目标合计（2020–2025，万m²）" in {m.label for m in at.metric}


def test_the_county_chosen_here_carries_to_the_overview():
    at = open_page(PAGE)
    at.selectbox(key="county").set_value(RENCHENG).run()
    at.switch_page("pages/overview.py")
    at.run()
    assert_clean(at)
    assert at.selectbox(key="county").value == RENCHENG and at.query_params["county"] == RENCHENG
