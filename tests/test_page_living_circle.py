"""生活圈与选址 Living circle & siting: cards, tables and chart equal ``analytics.living_circle`` and
``analytics.siting`` for the same inputs."""

from __future__ import annotations

import base64

import numpy as np
import plotly.io as pio
import pytest

from analytics import living_circle, settings, siting
from tests.page_helpers import open_page, rerun, table_with

PAGE = "pages/living_circle.py"


def decode(array) -> np.ndarray:
    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        shape = array.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")]) if shape else data
    return np.asarray(array, dtype=float)


def audit(layers, county: str | None = None):
    compounds = layers["compounds"] if county is None else layers["compounds"][layers["compounds"].county_code == county]
    return compounds, living_circle.facility_access(compounds, layers["facilities"])


def test_default_audit_equals_living_circle(demo_layers):
    at = open_page(PAGE)
    compounds, access = audit(demo_layers)
    shares = []
    for metres in (300, 500, 1000):
        cov = living_circle.coverage_by_county(access, compounds, required_m=metres)
        cov = cov[cov.facility_type == "elderly_care"]
        shares.append(f"{cov.households_covered.sum() / cov.households.sum() * 100:.1f}%")
    gaps = living_circle.facility_gaps(access, required_m=300)
    lacking = gaps[[("elderly_care" in m) for m in gaps.missing_types]]
    assert [m.value for m in at.metric] == [*shares, f"{len(lacking):,}"]

    table = table_with(at, "缺少设施类型数")
    assert set(table["小区编号"]) == set(lacking.compound_id)
    assert table["户数"].is_monotonic_decreasing
    nearest = access[access.facility_type == "elderly_care"].set_index("compound_id").nearest_m
    assert table["最近设施距离（m）"].tolist() == pytest.approx(nearest.loc[table["小区编号"]].round(1).tolist())
    n_missing = gaps.set_index("compound_id").n_missing
    assert table["缺少设施类型数"].tolist() == n_missing.loc[table["小区编号"]].tolist()
    assert (table["最近设施距离（m）"] > 300).all()


def test_county_type_and_tier(demo_layers):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("370883")
    at.selectbox(key="ftype").set_value("market")
    at.radio(key="tier").set_value("10min")
    rerun(at)
    assert at.query_params["ftype"] == "market" and at.query_params["tier"] == "10min"
    compounds, access = audit(demo_layers, "370883")
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


def test_siting_runs_on_the_button_and_equals_site_facilities(demo_layers):
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
                                    time_limit_s=10)
    cards = {m.label: m.value for m in at.metric}
    assert cards["选址前覆盖户数"] == f"{result.households_covered_before:,}"
    assert cards["选址后覆盖户数"] == f"{result.households_covered_after:,}"
    assert cards["新增覆盖户数"] == f"{result.households_covered_after - result.households_covered_before:,}"
    assert result.optimal and cards["求解结果"] == "最优解"
    assert result.households_covered_after > result.households_covered_before

    chosen, greedy = [d.value for d in at.dataframe if "新增覆盖小区数" in d.value.columns]  # greedy: in the expander
    assert greedy["地块编号"].tolist() == result.greedy.parcel_id.tolist()
    assert chosen["地块编号"].tolist() == result.chosen.parcel_id.tolist()
    assert chosen["新增覆盖户数"].tolist() == result.chosen.households_gained.tolist()
    gaining = table_with(at, "距离（m）")
    assert sorted(gaining["小区编号"]) == sorted(result.gaining.compound_id)
    assert gaining["户数"].sum() == result.households_covered_after - result.households_covered_before
    assert at.query_params["site"] == "True"

    at.slider(key="k").set_value(4)  # new inputs: the old result is not shown for them
    rerun(at)
    assert len(at.metric) == 4 and at.query_params["site"] == "False"


def test_a_link_with_a_result_reopens_it(demo_layers):
    query = {"county": "370829", "ftype": "elderly_care", "k": "2", "service": "300", "site_min_area": "350",
             "time_limit": "10", "site": "True"}
    at = open_page(PAGE, query=query)
    compounds = demo_layers["compounds"][demo_layers["compounds"].county_code == "370829"]
    result = siting.site_facilities(compounds, demo_layers["parcels"], demo_layers["facilities"],
                                    facility_type="elderly_care", k=2)
    cards = {m.label: m.value for m in at.metric}
    assert cards["选址后覆盖户数"] == f"{result.households_covered_after:,}"


def test_english():
    at = open_page(PAGE, session={"lang": "en"})
    assert at.metric[0].label == "Households within 5 min"
    table = table_with(at, "Types missing")
    assert table["Living circle"].isin(["10 min", "15 min", "Beyond"]).all()
