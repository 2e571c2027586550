"""闲置用地 Idle land: the cards and tables equal ``analytics.idle_land`` for the same filters, walking along the
demo's streets by default."""

from __future__ import annotations

import pytest

from analytics import idle_land
from tests.page_helpers import open_page, rerun, table_with

PAGE = "pages/idle_land.py"


def expected(layers, graph=None, **options):
    compounds, parcels = layers["compounds"], layers["parcels"]
    pairs = idle_land.parcels_within(compounds, parcels, metric="straight" if graph is None else "walk", graph=graph,
                                     **options)
    chosen = idle_land.filter_parcels(parcels, **{k: v for k, v in options.items()
                                                  if k in ("parcel_types", "min_area_m2", "ownership")})
    reach = idle_land.parcel_reach(pairs, compounds, chosen)
    return pairs, reach[reach.n_compounds > 0], idle_land.compound_idle_area(pairs, chosen)


def test_default_view_is_500_m_on_foot_over_the_city(demo_layers, demo_graph):
    at = open_page(PAGE)
    assert at.slider(key="distance").value == 500 and at.radio(key="metric").value == "walk"
    pairs, reach, per_compound = expected(demo_layers, demo_graph, max_distance_m=500)
    straight = expected(demo_layers, max_distance_m=500)[1]
    assert len(reach) < len(straight)  # on foot fewer parcels are within 500 m
    assert len(reach) > 100  # the demo's leftover land lies around the urban areas
    served = demo_layers["compounds"][demo_layers["compounds"].id.isin(per_compound.compound_id)]
    assert [m.value for m in at.metric] == [
        f"{len(reach):,}",
        f"{demo_layers['parcels'].set_index('id').loc[reach.parcel_id, 'area_m2'].sum() / 1e4:,.2f}",
        f"{len(served):,}",
        f"{served.households.sum():,}",
    ]
    table = table_with(at, "可服务户数")
    assert table["地块编号"].tolist() == reach.parcel_id.tolist()
    assert table["可服务户数"].tolist() == reach.households_within.tolist()
    assert table["可服务户数"].is_monotonic_decreasing
    assert at.metric[0].label == "可达地块（个，步行）"
    assert table["最近距离（步行，m）"].tolist() == pytest.approx(reach.nearest_m.round(1).tolist())


def test_straight_lines_on_choice(demo_layers):
    at = open_page(PAGE)
    at.radio(key="metric").set_value("straight")
    rerun(at)
    assert at.query_params["metric"] == "straight"
    pairs, reach, per_compound = expected(demo_layers, max_distance_m=500)
    assert at.metric[0].value == f"{len(reach):,}" and at.metric[0].label == "可达地块（个，直线）"
    table = table_with(at, "可服务户数")
    assert table["地块编号"].tolist() == reach.parcel_id.tolist()
    assert table["最近距离（直线，m）"].tolist() == pytest.approx(reach.nearest_m.round(1).tolist())


def test_filters_and_selected_parcel(demo_layers, demo_graph):
    at = open_page(PAGE)
    at.slider(key="distance").set_value(1000)
    at.multiselect(key="ptype").set_value(["闲置用地", "空置房屋"])
    at.number_input(key="min_area").set_value(2000)
    at.selectbox(key="county").set_value("370883")  # 邹城市
    rerun(at)
    assert at.query_params["ptype"] == "闲置用地,空置房屋"
    assert at.query_params["distance"] == "1000"

    options = dict(max_distance_m=1000, parcel_types=["闲置用地", "空置房屋"], min_area_m2=2000.0, county_code="370883")
    pairs, reach, per_compound = expected(demo_layers, demo_graph, **options)
    assert len(reach) > 0
    table = table_with(at, "可服务户数")
    assert table["地块编号"].tolist() == reach.parcel_id.tolist()
    assert set(table["地块类型"]) <= {"闲置用地", "空置房屋"}
    assert (table["面积（m²）"] >= 2000).all()
    assert at.metric[2].value == f"{len(per_compound):,}"

    top = reach.parcel_id.iloc[0]
    at.selectbox(key="parcel").set_value(top)
    rerun(at)
    assert at.query_params["parcel"] == top
    served = pairs[pairs.parcel_id == top].sort_values(["distance_m", "compound_id"])
    shown = table_with(at, "距离（步行，m）")
    assert shown["小区编号"].tolist() == served.compound_id.tolist()
    assert shown["距离（步行，m）"].tolist() == pytest.approx(served.distance_m.round(1).tolist())
    assert set(shown["县区"]) == {"邹城市"}
    assert at.metric[-1].value == f"{int(reach.households_within.iloc[0]):,}"


def test_zero_distance_finds_nothing_and_says_so(demo_layers):
    at = open_page(PAGE, session={"distance": 0})
    pairs, reach, _ = expected(demo_layers, max_distance_m=0)
    assert pairs.empty  # the demo's parcels never touch a compound
    assert [m.value for m in at.metric][0] == "0"
    assert [i.value for i in at.info] == ["当前条件下没有地块在距离范围内，可放宽距离或筛选条件。"]
    assert not at.dataframe


def test_bad_url_values_fall_back(demo_layers):
    at = open_page(PAGE, query={"distance": "99999", "ptype": "闲置用地,<bogus>", "county": "999999", "min_area": "x"})
    assert at.slider(key="distance").value == 3000
    assert at.multiselect(key="ptype").value == ["闲置用地"]
    assert at.selectbox(key="county").value == ""
    assert at.number_input(key="min_area").value == 0


def test_english(demo_layers):
    at = open_page(PAGE, session={"lang": "en"})
    table = table_with(at, "Households within reach")
    assert set(table["Parcel type"]) <= {"Idle land", "Low-efficiency land", "Vacant building", "Scattered plot"}
    assert at.metric[0].label == "Parcels within reach (walking)"
