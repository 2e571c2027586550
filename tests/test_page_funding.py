"""Funding & elevators page (资金与电梯): the figures it shows equal ``analytics.funding`` / ``analytics.elevators``."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from analytics import elevators, funding, store
from tests.page_helpers import assert_clean, open_page, plotly_values, table_with

PAGE = "pages/funding.py"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_funding_mix_for_one_year_as_shares(demo_con):
    at = open_page(PAGE)
    assert_clean(at)
    at.selectbox(key="fund_year").set_value(2020)
    at.radio(key="measure").set_value("share").run()
    assert_clean(at)
    assert at.query_params["fund_year"] == "2020"

    by_county = funding.funding_by_source(demo_con, by=("county_code",), plan_year=2020)
    city = funding.funding_by_source(demo_con, by=(), plan_year=2020)
    assert metrics(at)["资金合计（万元）"] == f"{city.total_wan.iloc[0]:,.2f}"
    assert metrics(at)["计划投资（万元）"] == f"{city.invest_planned_wan.iloc[0]:,.2f}"

    fig = pio.from_json(at.get("plotly_chart")[0].proto.spec)
    bonds = next(tr for tr in fig.data if tr.name == "专项债券")
    expected = by_county[by_county.source == "special_bonds"]
    # the city's order: districts, county-level cities, counties
    assert list(bonds.x) == ["任城区", "兖州区", "曲阜市", "邹城市", "微山县", "鱼台县", "金乡县", "嘉祥县", "汶上县",
                             "泗水县", "梁山县"]
    assert plotly_values(bonds.y) == pytest.approx((expected.share * 100).tolist())
    total = sum(np.array(plotly_values(tr.y)) for tr in fig.data)
    assert total.tolist() == pytest.approx([100.0] * 11)  # each county's shares add up to 100 %

    wide = funding.funding_wide(by_county)
    shown = table_with(at, "资金合计（万元）")
    assert shown["资金合计（万元）"].tolist() == pytest.approx(wide.total_wan.round(2).tolist())
    assert shown["计划投资（万元）"].tolist() == pytest.approx(wide.invest_planned_wan.round(2).tolist())
    assert shown["居民出资"].tolist() == pytest.approx(wide.residents.round(2).tolist())


def test_mismatches_follow_the_tolerance(demo_con):
    at = open_page(PAGE)
    expected = funding.funding_mismatches(demo_con, tolerance=0.01)
    assert len(expected) == 3  # the demo's three deliberate mismatches (−10 %, +4 %, −5 %)
    shown = table_with(at, "差额比例（%）")
    assert shown["小区编号"].tolist() == expected.compound_id.tolist()
    assert shown["差额（万元）"].tolist() == pytest.approx(expected.diff_wan.round(2).tolist())
    assert set(shown["问题"]) == {"各渠道资金之和与计划投资不符"}

    at.number_input(key="tolerance").set_value(6.0).run()
    assert_clean(at)
    expected = funding.funding_mismatches(demo_con, tolerance=0.06)
    assert len(expected) == 1
    assert table_with(at, "差额比例（%）")["小区编号"].tolist() == expected.compound_id.tolist()


def test_elevator_candidates_of_one_county(demo_con):
    at = open_page(PAGE)
    at.selectbox(key="elev_county").set_value("370881").run()
    assert_clean(at)
    compounds = store.read_layer(demo_con, "compounds", crs=None, county_code="370881")
    buildings = store.read_layer(demo_con, "buildings", crs=None, county_code="370881")
    expected = elevators.elevator_candidates(buildings, compounds)
    shown = table_with(at, "3 层及以上户数")
    assert shown["小区编号"].tolist() == expected.compound_id.tolist()
    assert shown["3 层及以上户数"].tolist() == expected.households_above_second.tolist()
    assert set(shown["县区"]) == {"曲阜市"}
    assert metrics(at)["需加装电梯（部）"] == f"{int(expected.candidate_units.sum()):,}"
    assert metrics(at)["3 层及以上住户"] == f"{int(expected.households_above_second.sum()):,}"


def test_calculator_shanghai_shares_add_up_to_cost_minus_subsidy():
    at = open_page(PAGE)
    at.number_input(key="floors").set_value(5).run()  # the subsidy follows the floors: 18 万元 for 5 floors
    assert at.number_input(key="subsidy").value == 18.0
    at.number_input(key="hpf").set_value(3)
    at.number_input(key="cost").set_value(41.5)
    at.radio(key="preset").set_value("shanghai").run()
    assert_clean(at)

    expected = elevators.share_costs(5, 3, cost_wan=41.5, subsidy_wan=18.0, preset="shanghai")
    assert metrics(at)["居民出资（元）"] == "235,000.00"
    assert metrics(at)["各户合计（元）"] == "235,000.00"
    per_floor = table_with(at, "本层合计（元）")
    by_floor = expected.groupby("floor")["floor_total_yuan"].first()
    assert per_floor["本层合计（元）"].iloc[:-1].tolist() == pytest.approx(by_floor.sort_index(ascending=False).tolist())
    assert per_floor["本层合计（元）"].iloc[-1] == pytest.approx(235_000.00)
    per_household = table_with(at, "出资（元）")
    assert sorted(per_household["出资（元）"]) == pytest.approx(sorted(expected.amount_yuan))
    assert round(per_household["出资（元）"].sum(), 2) == 235_000.00
    assert at.query_params["preset"] == "shanghai"


def test_custom_table_from_the_link():
    at = open_page(PAGE, query={"preset": "custom", "floors": "6", "hpf": "2", "custom": "0,0,10,20,30,40"})
    assert_clean(at)
    expected = elevators.share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="custom",
                                     custom={1: 0, 2: 0, 3: 10, 4: 20, 5: 30, 6: 40})
    per_floor = table_with(at, "本层合计（元）")
    assert per_floor["楼层"].tolist() == ["6 层", "5 层", "4 层", "3 层", "2 层", "1 层", "合计"]
    assert per_floor["本层合计（元）"].tolist() == pytest.approx(
        [*expected.groupby("floor")["floor_total_yuan"].first().sort_index(ascending=False), 250_000.0]
    )
    assert per_floor["本层合计（元）"].tolist()[:4] == pytest.approx([100_000.0, 75_000.0, 50_000.0, 25_000.0])


def test_custom_table_that_nobody_pays_gives_a_clear_message():
    at = open_page(PAGE, query={"preset": "custom", "floors": "4", "custom": "0,0,0,0"}, clean=False)
    assert not at.exception
    assert [e.value for e in at.error] == ["出错了：自定义表各层数值均为 0，至少一层须出资。"]
    assert not [d for d in at.dataframe if "本层合计（元）" in d.value.columns]


def test_a_preset_on_a_tall_building_suggests_another_rule():
    at = open_page(PAGE, query={"preset": "hangzhou", "floors": "9"}, clean=False)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "出错了：杭州方案只规定了 1–6 层，本单元有 9 层；请改用“系数×面积”或自定义表。"
    ]
    at.radio(key="preset").set_value("coefficient").run()
    assert_clean(at)
    expected = elevators.share_costs(9, 2, cost_wan=45.0, subsidy_wan=20.0, preset="coefficient",
                                     floor_area_m2=[80.0, 80.0])
    assert table_with(at, "本层合计（元）")["本层合计（元）"].iloc[0] == pytest.approx(
        expected.loc[expected.floor == 9, "floor_total_yuan"].iloc[0]
    )


def test_custom_shares_not_adding_up_are_scaled_and_said_so():
    at = open_page(PAGE, query={"preset": "custom", "floors": "6", "hpf": "1", "custom": "0,0,10,20,30,30"})
    assert_clean(at)
    assert [i.value for i in at.info] == ["自定义份额合计为 90%，已按比例换算为 100%。"]
    with pytest.warns(UserWarning, match="scaled to 100"):
        expected = elevators.share_costs(6, 1, cost_wan=45.0, subsidy_wan=20.0, preset="custom",
                                         custom={1: 0, 2: 0, 3: 10, 4: 20, 5: 30, 6: 30})
    shown = table_with(at, "出资（元）")
    assert shown["出资（元）"].tolist() == pytest.approx(expected.sort_values("floor", ascending=False).amount_yuan.tolist())
    assert round(shown["出资（元）"].sum(), 2) == 250_000.00


def test_english_names_sources_and_counties(demo_con):
    at = open_page(PAGE, session={"lang": "en"})
    city = table_with(at, "Source")
    assert city["Source"].tolist()[:2] == ["Central subsidy", "Central budget investment"]
    assert table_with(at, "Candidate buildings")["County"].iloc[0] in {
        "Rencheng", "Yanzhou", "Weishan", "Yutai", "Jinxiang", "Jiaxiang", "Wenshang", "Sishui", "Liangshan", "Qufu",
        "Zoucheng",
    }


def test_subsidy_above_cost_is_refused_with_a_message():
    at = open_page(PAGE)
    at.number_input(key="cost").set_value(15.0).run()  # below the 20 万元 subsidy of a six-floor unit
    assert not at.exception
    assert [e.value for e in at.error] == ["出错了：政府补贴（20 万元）不能超过电梯总费用（15 万元）。"]
    assert not [d for d in at.dataframe if "本层合计（元）" in d.value.columns]


def _calculator_shown(at: AppTest) -> bool:
    return bool([d for d in at.dataframe if "本层合计（元）" in d.value.columns]) or "总费用（元）" in metrics(at)


@pytest.mark.parametrize("key, value, message", [
    ("floors", 0, "楼层数须在 2–40 层之间（输入的是 0）"),
    ("hpf", 0, "每层户数须在 1–20 户之间（输入的是 0）"),
    ("cost", -5.0, "电梯总费用须在 0–10,000 万元之间（输入的是 -5）"),
    ("cost", 99_999_999.0, "电梯总费用须在 0–10,000 万元之间（输入的是 99,999,999）"),
    ("subsidy", -5.0, "政府补贴须在 0–10,000 万元之间（输入的是 -5）"),
])
def test_calculator_refuses_out_of_range_input_and_hides_old_results(key, value, message):
    """Invalid input: the results of the last valid input go, a message says what is allowed; nothing clamped."""
    at = open_page(PAGE)
    assert _calculator_shown(at)
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"出错了：{message}。"]
    assert not _calculator_shown(at)  # no stale figures
    assert at.number_input(key=key).value == value  # refused, not silently reduced
    at.number_input(key=key).set_value(4 if key in ("floors", "hpf") else 20.0).run()
    assert_clean(at)
    assert _calculator_shown(at)
