"""Project priority page (项目生成): the ranking it shows equals ``analytics.priority`` for the same inputs."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

from analytics import priority, settings, store
from tests.page_helpers import assert_clean, open_page, plotly_values, table_with

PAGE = "pages/priority.py"
AS_OF_YEAR = settings.DEMO_TODAY.year  # the page scores building ages to the year of its as-of date (the demo's today)
ALL_STATUSES = ["未开工", "已立项", "已开工", "已完工"]  # the demo's 2021–2022 batches are done by now


@pytest.fixture(scope="module")
def compounds(demo_con):
    return store.read_layer(demo_con, "compounds", crs=None)


def test_weights_and_filters_rank_as_the_analysis_does(compounds):
    at = open_page(PAGE)
    at.slider(key="w_age").set_value(60)
    at.slider(key="w_benefit").set_value(0)
    at.multiselect(key="prio_years").set_value([2021, 2022])
    at.multiselect(key="prio_counties").set_value(["370811", "370883"])
    at.multiselect(key="prio_statuses").set_value(ALL_STATUSES)
    at.slider(key="top_n").set_value(10)
    at.run()
    assert_clean(at)
    assert at.query_params["w_age"] == "60"
    assert at.query_params["prio_counties"] == "370811,370883"

    chosen = compounds[compounds.plan_year.isin([2021, 2022]) & compounds.county_code.isin(["370811", "370883"])]
    weights = {"age": 60, "willingness": 15, "contributing": 20, "procedures": 20, "benefit": 0}
    expected = priority.priority_scores(chosen, weights=weights, as_of_year=AS_OF_YEAR).ranked

    metrics = {m.label: m.value for m in at.metric}
    assert metrics["符合条件的小区"] == str(len(expected))
    assert metrics["最高得分"] == f"{expected.score.iloc[0]:.3f}"
    assert any("房龄 52%" in c.value and "受益户数 0%" in c.value for c in at.caption)  # 60 / 115

    shown = table_with(at, "总分")
    assert shown["小区编号"].tolist() == expected.id.tolist()
    assert shown["名次"].tolist() == expected["rank"].tolist()
    assert shown["总分"].tolist() == pytest.approx(expected.score.tolist())
    assert shown["房龄得分"].tolist() == pytest.approx(expected.c_age.tolist())
    assert shown["受益（加权）"].tolist() == pytest.approx([0.0] * len(expected))
    assert set(shown["县区"]) == {"任城区", "邹城市"}

    fig = pio.from_json(at.get("plotly_chart")[0].proto.spec)
    age = next(tr for tr in fig.data if tr.name == "房龄")
    assert len(plotly_values(age.x)) == 10
    assert plotly_values(age.x) == pytest.approx(expected.part_age.head(10).tolist())
    assert sum(np.array(plotly_values(tr.x)) for tr in fig.data).tolist() == pytest.approx(expected.score.head(10).tolist())


def test_ineligible_compounds_are_listed_with_their_reasons(compounds):
    at = open_page(PAGE)
    at.multiselect(key="prio_statuses").set_value(ALL_STATUSES).run()
    chosen = compounds[compounds.plan_year.notna()]  # the page lists compounds of plan years
    expected = priority.priority_scores(chosen, as_of_year=AS_OF_YEAR).ineligible
    demolition = int(chosen.demolition_planned.fillna(False).astype(bool).sum())
    assert len(expected) == demolition > 0  # the demo's compounds planned for demolition
    shown = table_with(at, "不符合原因")
    assert shown["小区编号"].tolist() == expected.id.tolist()
    assert set(shown["不符合原因"]) == {"已列入征收拆除计划"}
    assert {m.label: m.value for m in at.metric}["不符合条件的小区"] == str(demolition)


def test_all_weights_zero_asks_for_one_above_zero():
    at = open_page(PAGE)
    for name in priority.COMPONENTS:
        at.slider(key=f"w_{name}").set_value(0)
    at.run()
    assert_clean(at)
    assert "至少一项权重须大于 0。" in [w.value for w in at.warning]
    assert not at.dataframe


def test_an_empty_selection_says_so():
    at = open_page(PAGE)
    at.multiselect(key="prio_statuses").set_value([]).run()
    assert_clean(at)
    assert [i.value for i in at.info] == ["当前条件下没有数据。"]
