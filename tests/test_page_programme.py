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
