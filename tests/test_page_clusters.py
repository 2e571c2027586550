"""成片改造 Clusters: cards, ranked table and the selected cluster equal ``analytics.clusters.find_clusters``."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import clusters
from tests.page_helpers import open_page, rerun, table_with

PAGE = "pages/clusters.py"
EQUAL = {"households": 1.0, "idle_land": 1.0, "gaps": 1.0, "willingness": 1.0}


def expected(layers, county: str | None = None, **options) -> pd.DataFrame:
    compounds = layers["compounds"] if county is None else layers["compounds"][layers["compounds"].county_code == county]
    return clusters.find_clusters(compounds, parcels=layers["parcels"], facilities=layers["facilities"], **options)


def map_bounds(at: AppTest) -> list[list[float]]:
    """The ``fitBounds`` the (first) map opens on, [[south, west], [north, east]]."""
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    match = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", args["script"], re.S)
    return json.loads(match.group(1))


def test_default_view(demo_layers):
    at = open_page(PAGE)
    assert at.slider(key="gap").value == 150
    found = expected(demo_layers, gap_m=150, weights=EQUAL)
    assert [m.value for m in at.metric] == [
        f"{len(found):,}", f"{found.n_compounds.sum():,}", f"{found.households.sum():,}", f"{found.n_compounds.max():,}",
    ]
    assert found.n_compounds.max() >= 5  # the demo's 250 m grid makes real clusters at 150 m
    table = table_with(at, "综合评分")
    assert table["排名"].tolist() == found.cluster_id.tolist()
    assert table["户数"].tolist() == found.households.tolist()
    assert table["综合评分"].tolist() == pytest.approx(found.score.round(3).tolist())
    assert table["户数得分"].tolist() == pytest.approx(found.score_households.round(3).tolist())
    assert table["综合评分"].is_monotonic_decreasing


def test_constraints_and_weights(demo_layers):
    at = open_page(PAGE)
    at.selectbox(key="county").set_value("370811")
    at.slider(key="gap").set_value(250)
    at.number_input(key="extent").set_value(1000)
    at.number_input(key="min_size").set_value(3)
    for part in ("idle_land", "gaps", "willingness"):
        at.slider(key=f"w_{part}").set_value(0.0)
    rerun(at)
    assert at.query_params["w_gaps"] == "0.0" and at.query_params["extent"] == "1000"
    found = expected(demo_layers, "370811", gap_m=250, max_extent_m=1000, min_size=3,
                     weights={"households": 1.0, "idle_land": 0.0, "gaps": 0.0, "willingness": 0.0})
    assert len(found) > 0 and (found.n_compounds >= 3).all() and (found.extent_m <= 1000 + 1e-6).all()
    table = table_with(at, "综合评分")
    assert table["排名"].tolist() == found.cluster_id.tolist()
    assert table["综合评分"].tolist() == pytest.approx(table["户数得分"].tolist())  # only households weigh
    assert set(table["县区"]) == {"任城区"}


def test_selecting_a_cluster_zooms_to_it_and_lists_its_members(demo_layers):
    at = open_page(PAGE)
    at.selectbox(key="cluster").set_value(2)
    rerun(at)
    assert at.query_params["cluster"] == "2"
    found = expected(demo_layers, gap_m=150, weights=EQUAL)
    second = found[found.cluster_id == 2].iloc[0]
    members = table_with(at, "建成年份")
    assert members["编号"].tolist() == second.member_ids
    cards = [m.value for m in at.metric][4:]
    assert cards == [
        f"{second.n_compounds:,}", f"{second.households:,}", f"{second.floor_area_m2 / 1e4:,.2f}",
        f"{second.idle_area_m2:,.0f}", f"{second.willingness_pct:.1f}%", f"{second.score:.3f}",
    ]
    lon0, lat0, lon1, lat1 = (
        demo_layers["compounds"].set_index("id").loc[second.member_ids].to_crs(4326).total_bounds
    )
    (south, west), (north, east) = map_bounds(at)
    assert [south, west, north, east] == pytest.approx([lat0, lon0, lat1, lon1], abs=2e-6)


def test_map_is_offline_and_reruns_only_on_clicks():
    at = open_page(PAGE)
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    assert args["returned_objects"] == ["last_active_drawing"]
    assert all(link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"])
    assert not re.search(r"https?://", args["script"] + args["header"] + args["html"])


def test_no_cluster_says_so():
    at = open_page(PAGE, session={"gap": 0})
    assert [m.value for m in at.metric][0] == "0"
    assert [i.value for i in at.info] == ["当前条件下没有成片区域，可加大相邻间距或减少最少小区数。"]
    assert not at.dataframe


def test_english():
    at = open_page(PAGE, session={"lang": "en"})
    table = table_with(at, "Score")
    assert "Shared gaps" in table.columns
    assert np.isin(table["County"].iloc[:3], ["Rencheng", "Yanzhou", "Weishan", "Yutai", "Jinxiang", "Jiaxiang",
                                              "Wenshang", "Sishui", "Liangshan", "Qufu", "Zoucheng"]).all()


def test_members_not_across_a_barrier(demo_layers):
    at = open_page(PAGE)
    assert any(c.value == "相邻：边界直线间距 ≤ 150 米" for c in at.caption)
    at.checkbox(key="no_cross").check()
    rerun(at)
    assert at.query_params["no_cross"] == "True"
    found = expected(demo_layers, gap_m=150, weights=EQUAL, barriers=demo_layers["barriers"])
    across = expected(demo_layers, gap_m=150, weights=EQUAL)
    assert found.n_compounds.sum() < across.n_compounds.sum()  # the demo's rivers split some clusters
    assert [m.value for m in at.metric] == [
        f"{len(found):,}", f"{found.n_compounds.sum():,}", f"{found.households.sum():,}", f"{found.n_compounds.max():,}",
    ]
    table = table_with(at, "综合评分")
    assert table["户数"].tolist() == found.households.tolist()
    assert any(c.value == "相邻：边界直线间距 ≤ 150 米；不跨越河流、铁路、快速路" for c in at.caption)


@pytest.mark.parametrize("lang, words", [("zh", "至少一项权重须大于 0"), ("en", "At least one weight must be above 0")])
def test_all_zero_weights_get_a_warning_in_the_users_language(lang, words):
    """As on 项目生成: a warning saying what to change, no error box, no developer message."""
    at = open_page(PAGE, query={f"w_{part}": "0.0" for part in EQUAL}, session={"lang": lang})
    assert not at.error, [e.value for e in at.error]  # open_page checks this too
    warnings = [w.value for w in at.warning]
    assert any(words in w for w in warnings), warnings
    assert any(("评分权重" if lang == "zh" else "Score weights") in w for w in warnings), warnings
    assert not at.metric  # nothing is scored with no weight
