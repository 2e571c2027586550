"""生活圈与选址 Living circle & siting: cards, tables, chart and isochrones equal ``analytics.living_circle``,
``analytics.siting`` and ``analytics.network`` for the same inputs, walking along the demo's streets by default."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.io as pio
import pytest

from analytics import living_circle, network, settings, siting, store
from analytics.store.audit import record
from tests.page_helpers import open_page, rerun, table_with, use_copy

PAGE = "pages/living_circle.py"


def decode(array) -> np.ndarray:
    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        shape = array.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")]) if shape else data
    return np.asarray(array, dtype=float)


def audit(layers, county: str | None = None, graph=None):
    compounds = layers["compounds"] if county is None else layers["compounds"][layers["compounds"].county_code == county]
    metric = "straight" if graph is None else "walk"
    return compounds, living_circle.facility_access(compounds, layers["facilities"], metric=metric, graph=graph)


def map_script(at, k: int = 0) -> str:
    return json.loads(at.get("component_instance")[k].proto.json_args)["script"]


def on_map(text: str, at, k: int = 0) -> bool:
    """``text`` is drawn on the map: as it is, or as the escaped text of a legend."""
    script = map_script(at, k)
    return text in script or json.dumps(text)[1:-1] in script


def test_default_audit_walks_and_equals_living_circle(demo_layers, demo_graph):
    at = open_page(PAGE)
    assert at.radio(key="metric").value == "walk"
    compounds, access = audit(demo_layers, graph=demo_graph)
    shares = []
    for metres in (300, 500, 1000):
        cov = living_circle.coverage_by_county(access, compounds, required_m=metres)
        cov = cov[cov.facility_type == "elderly_care"]
        shares.append(f"{cov.households_covered.sum() / cov.households.sum() * 100:.1f}%")
    gaps = living_circle.facility_gaps(access, required_m=300)
    lacking = gaps[[("elderly_care" in m) for m in gaps.missing_types]]
    assert [m.value for m in at.metric] == [*shares, f"{len(lacking):,}"]
    assert [m.label for m in at.metric][0] == "5分钟内覆盖户数占比（步行）"
    assert all("（步行）" in m.label or "，步行）" in m.label for m in at.metric)

    table = table_with(at, "缺少设施类型数")
    assert set(table["小区编号"]) == set(lacking.compound_id)
    assert table["户数"].is_monotonic_decreasing
    nearest = access[access.facility_type == "elderly_care"].set_index("compound_id").nearest_m
    column = "最近设施距离（步行，m）"
    assert table[column].fillna(-1).tolist() == pytest.approx(nearest.loc[table["小区编号"]].round(1).fillna(-1).tolist())
    n_missing = gaps.set_index("compound_id").n_missing
    assert table["缺少设施类型数"].tolist() == n_missing.loc[table["小区编号"]].tolist()
    assert (table[column].fillna(np.inf) > 300).all()
    assert on_map("最近设施在（步行）", at)

    # the compounds within reach only as the crow flies
    only = living_circle.straight_not_walk(access, required_m=300)
    only = only[[("elderly_care" in m) for m in only.straight_only_types]]
    assert len(only) > 0
    shown = table_with(at, "直线覆盖但步行不可达的设施")
    assert sorted(shown["小区编号"]) == sorted(only.compound_id)
    assert (shown["直线距离（m）"] <= 300).all() and (shown["步行距离（m）"].fillna(np.inf) > 300).all()


def test_straight_metric_on_choice(demo_layers):
    at = open_page(PAGE)
    at.radio(key="metric").set_value("straight")
    rerun(at)
    assert at.query_params["metric"] == "straight"
    compounds, access = audit(demo_layers)
    gaps = living_circle.facility_gaps(access, required_m=300)
    lacking = gaps[[("elderly_care" in m) for m in gaps.missing_types]]
    assert at.metric[3].value == f"{len(lacking):,}" and at.metric[3].label.endswith("直线）")
    table = table_with(at, "最近设施距离（直线，m）")
    assert set(table["小区编号"]) == set(lacking.compound_id)
    assert not [d for d in at.dataframe if "直线覆盖但步行不可达的设施" in d.value.columns]
    assert on_map("最近设施在（直线）", at)


def test_isochrones_of_a_compound(demo_layers, demo_graph):
    at = open_page(PAGE)
    compound = demo_layers["compounds"].iloc[0]
    at.selectbox(key="iso").set_value(compound.id)
    rerun(at)
    assert at.query_params["iso"] == compound.id
    origin = demo_layers["compounds"].iloc[[0]]
    pairs = network.walk_pairs(demo_graph, origin, demo_layers["facilities"], max_m=1000)
    table = table_with(at, "设施编号")
    assert table["设施编号"].tolist() == pairs.destination_id.tolist()
    assert table["步行距离（m）"].tolist() == pytest.approx(pairs.distance_m.round(1).tolist())
    assert len(pairs) > 0
    reached = demo_layers["facilities"].set_index("id").loc[pairs.destination_id, "facility_type"].to_numpy()
    cards = {m.label: m.value for m in at.metric}
    for name, metres in settings.LIVING_CIRCLE_TIERS_M.items():
        n = len(set(reached[pairs.distance_m.to_numpy() <= metres]))
        assert cards[f"{name[:-3]}分钟步行可达设施类型"] == f"{n} / {len(settings.FACILITY_TYPES)}"
    for label in ("5分钟步行范围", "10分钟步行范围", "15分钟步行范围", "步行等时圈", "道路"):
        assert on_map(label, at), label
    iso = network.isochrones(demo_graph, origin)
    assert iso.geometry.iloc[0].within(iso.geometry.iloc[2].buffer(1e-6))  # 5 minutes inside 15


def test_no_road_network_means_straight_lines_and_says_so(demo_db_path, demo_layers, tmp_path, monkeypatch):
    path = use_copy(demo_db_path, tmp_path / "noroads.duckdb", monkeypatch)
    con = store.connect(path)
    con.execute("DELETE FROM roads")
    con.execute("DELETE FROM barriers")
    record(con, username="test", action="import", table_name="roads")  # a new data version
    con.close()
    at = open_page(PAGE)
    assert "metric" not in [r.key for r in at.radio]
    assert any("尚未导入道路网络" in i.value for i in at.info)
    compounds, access = audit(demo_layers)
    gaps = living_circle.facility_gaps(access, required_m=300)
    assert at.metric[3].value == f"{sum('elderly_care' in m for m in gaps.missing_types):,}"
    assert at.metric[3].label.endswith("直线）")


def test_county_type_and_tier(demo_layers, demo_graph):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("370883")
    at.selectbox(key="ftype").set_value("market")
    at.radio(key="tier").set_value("10min")
    rerun(at)
    assert at.query_params["ftype"] == "market" and at.query_params["tier"] == "10min"
    compounds, access = audit(demo_layers, "370883", demo_graph)
    gaps = living_circle.facility_gaps(access, required_m=500)
    lacking = gaps[[("market" in m) for m in gaps.missing_types]]
    table = table_with(at, "缺少设施类型数")
    assert sorted(table["小区编号"]) == sorted(lacking.compound_id)
    assert set(table["县区"]) <= {"邹城市"}

    cov = living_circle.coverage_by_county(access, compounds, required_m=500)
    heat = pio.from_json(at.get("plotly_chart")[0].proto.spec).data[0]
    assert list(heat.y) == ["邹城市"]
    assert list(heat.x) == [settings.FACILITY_TYPES[c]["zh"] for c in cov.facility_type]
    assert decode(heat.z).ravel().tolist() == pytest.approx((cov.share * 100).round(1).tolist())


def test_new_type_resets_siting_options():
    at = open_page(PAGE)
    at.selectbox(key="ftype").set_value("kindergarten")
    rerun(at)
    assert at.number_input(key="service").value == 300
    assert at.number_input(key="site_min_area").value == 3500


def test_siting_runs_on_the_button_and_equals_site_facilities(demo_layers, demo_graph):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("370811")
    at.selectbox(key="ftype").set_value("clinic")
    at.slider(key="k").set_value(3)
    rerun(at)
    assert len(at.metric) == 4  # the audit only: siting waits for the button
    assert any("运行选址" in c.value for c in at.caption)

    at.button(key="site_run").click()
    rerun(at)
    compounds = demo_layers["compounds"][demo_layers["compounds"].county_code == "370811"]
    result = siting.site_facilities(compounds, demo_layers["parcels"], demo_layers["facilities"],
                                    facility_type="clinic", k=3, service_distance_m=300, min_area_m2=120,
                                    time_limit_s=10, metric="walk", graph=demo_graph)
    cards = {m.label: m.value for m in at.metric}
    assert cards["选址前覆盖户数（步行）"] == f"{result.households_covered_before:,}"
    assert cards["选址后覆盖户数（步行）"] == f"{result.households_covered_after:,}"
    assert cards["新增覆盖户数（步行）"] == f"{result.households_covered_after - result.households_covered_before:,}"
    assert result.optimal and cards["求解结果"] == "最优解"
    assert result.households_covered_after > result.households_covered_before

    chosen, greedy = [d.value for d in at.dataframe if "新增覆盖小区数" in d.value.columns]  # greedy: in the expander
    assert greedy["地块编号"].tolist() == result.greedy.parcel_id.tolist()
    assert chosen["地块编号"].tolist() == result.chosen.parcel_id.tolist()
    assert chosen["新增覆盖户数"].tolist() == result.chosen.households_gained.tolist()
    gaining = table_with(at, "距离（步行，m）")
    assert sorted(gaining["小区编号"]) == sorted(result.gaining.compound_id)
    assert gaining["户数"].sum() == result.households_covered_after - result.households_covered_before
    assert at.query_params["site"] == "True"

    at.slider(key="k").set_value(4)  # new inputs: the old result is not shown for them
    rerun(at)
    assert len(at.metric) == 4 and at.query_params["site"] == "False"


def test_a_link_with_a_result_reopens_it(demo_layers, demo_graph):
    query = {"county": "370829", "ftype": "elderly_care", "k": "2", "service": "300", "site_min_area": "350",
             "time_limit": "10", "site": "True"}
    at = open_page(PAGE, query=query)
    compounds = demo_layers["compounds"][demo_layers["compounds"].county_code == "370829"]
    result = siting.site_facilities(compounds, demo_layers["parcels"], demo_layers["facilities"],
                                    facility_type="elderly_care", k=2, metric="walk", graph=demo_graph)
    cards = {m.label: m.value for m in at.metric}
    assert cards["选址后覆盖户数（步行）"] == f"{result.households_covered_after:,}"


def test_english():
    at = open_page(PAGE, session={"lang": "en"})
    assert at.metric[0].label == "Households within 5 min (walking)"
    table = table_with(at, "Types missing")
    assert table["Living circle"].isin(["10 min", "15 min", "Beyond"]).all()
