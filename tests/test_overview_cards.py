"""The overview's KPI cards (dashboard/views/overview.py): the year's target and what is done against it, the
compound list's total beside a target it differs from, the list alone where no target is stored."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.views import overview

NAN = math.nan


def row(**given: object) -> pd.Series:
    """A ``county_progress`` row: a list of 10 compounds, 1,000 households, 80,000 m², 3,000 万元, of which 6
    started (600 households, 48,000 m²), 3 completed (30,000 m²), 1,500 万元 invested; targets from ``given``."""
    base: dict[str, object] = {
        "unit_code": "370811", "kind": "county",
        "planned_compounds": 10, "planned_households": 1000, "planned_floor_area_m2": 80_000.0,
        "planned_invest_wan": 3000.0,
        "target_compounds": NAN, "target_households": NAN, "target_floor_area_m2": NAN, "target_investment_wan": NAN,
        "started": 6, "started_households": 600, "completed": 3, "started_floor_area_m2": 48_000.0,
        "completed_floor_area_m2": 30_000.0, "invest_done_wan": 1500.0,
        "start_rate_compounds": NAN, "completion_rate": NAN, "invest_rate": NAN,
        "start_rate_compounds_chg_week": 0.05, "completion_rate_chg_week": NAN, "invest_rate_chg_week": 0.0,
    }
    base.update(given)
    return pd.Series(base)


def cards(r: pd.Series) -> list[tuple[str, str, str | None]]:
    return [(k.label, k.value, k.delta) for k in overview.overview_kpis(r)]


def test_a_target_above_the_list_is_stated_beside_it_and_rates_above_100_percent_are_shown():
    # the target asks for 5 compounds, the list has 10 and 6 started: 120 % started, as the analysis measures it
    r = row(target_compounds=5.0, target_households=1000.0, target_floor_area_m2=90_000.0, target_investment_wan=3000.0,
            start_rate_compounds=6 / 5, completion_rate=3 / 5, invest_rate=0.5)
    assert cards(r) == [
        ("已开工小区（个）", "6", "清单 10 个 · 目标 5 个"),
        ("已开工户数（户）", "600", "目标 1,000 户"),
        ("目标建筑面积（万m²）", "9.00", "计划清单 8.00 万m²"),
        ("开工率", "120.0%", "+5.0 个百分点"),
        ("完工率", "60.0%", None),
        ("投资完成率", "50.0%", "+0.0 个百分点"),
    ]
    helps = [k.help for k in overview.overview_kpis(r)]
    assert helps[3].startswith("已开工 6 个 ÷ 目标 5 个") and helps[4].startswith("已完工 3 个 ÷ 目标 5 个")
    assert helps[5].startswith("已完成投资 1,500.00 万元 ÷ 目标 3,000.00 万元")
    assert overview.plan_line(r) == ("年度目标：5 个小区、1,000 户、9.00 万平方米，投资 3,000.00 万元；计划清单与目标不一致："
                                     "10 个小区、1,000 户、8.00 万平方米，投资 3,000.00 万元")


def test_no_target_stored_falls_back_to_the_list_and_says_so():
    r = row(start_rate_compounds=0.6, completion_rate=0.3, invest_rate=0.5)
    assert cards(r)[:3] == [
        ("已开工小区（个）", "6", "无下达目标，按计划清单 10 个"),
        ("已开工户数（户）", "600", "无下达目标，按计划清单 1,000 户"),
        ("计划建筑面积（万m²）", "8.00", "无下达目标，按计划清单 8.00 万m²"),
    ]
    assert overview.overview_kpis(r)[4].help.startswith("已完工 3 个 ÷ 计划清单 10 个（无下达目标）")
    assert overview.plan_line(r) == "无下达目标，按计划清单：10 个小区、1,000 户、8.00 万平方米，计划投资 3,000.00 万元"


def test_a_target_equal_to_the_list_and_a_measure_without_target():
    # households have no target (a partial row): that card falls back, the others read the target
    r = row(target_compounds=10.0, target_floor_area_m2=80_000.0, target_investment_wan=3000.0,
            start_rate_compounds=0.6, completion_rate=0.3, invest_rate=0.5)
    assert cards(r)[:3] == [
        ("已开工小区（个）", "6", "目标 10 个"),
        ("已开工户数（户）", "600", "无下达目标，按计划清单 1,000 户"),
        ("目标建筑面积（万m²）", "8.00", "与计划清单一致"),
    ]
    assert overview.plan_line(r) == "年度目标：10 个小区、— 户、8.00 万平方米，投资 3,000.00 万元（计划清单与目标一致）"


def test_a_difference_too_small_to_show_is_not_called_one():
    task = overview.Task(target=80_004.0, listed=79_998.0, fmt=overview.fmt_area_wan_m2)  # both read 8.00 万m²
    assert not task.differs and task.basis == 80_004.0
    assert overview.Task(target=None, listed=12.0, fmt=overview.fmt_int).basis == 12.0


def test_english(monkeypatch):
    monkeypatch.setattr("dashboard.labels.current_lang", lambda: "en")
    r = row(target_compounds=12.0, target_households=1000.0, target_floor_area_m2=80_000.0, target_investment_wan=3000.0,
            start_rate_compounds=0.5, completion_rate=0.25, invest_rate=0.5)
    assert cards(r)[:3] == [
        ("Compounds started", "6", "list 10 · target 12"),
        ("Households started", "600", "target 1,000 households"),
        ("Target floor area (10,000 m²)", "8.00", "same as the plan list"),
    ]
    assert cards(row(start_rate_compounds=0.6, completion_rate=0.3, invest_rate=0.5))[0][2] == "no target set; plan list 10"


def test_the_ranking_draws_a_rate_above_100_percent_whole():
    progress = pd.DataFrame({"unit_code": ["370811", "370812", "370800"], "kind": ["county", "county", "city"],
                             "completion_rate": [1.5, 0.5, 1.0]})
    fig, data = overview.ranking_figure(progress, "completion_rate")
    assert list(fig.data[0].x) == [50.0, 150.0]
    assert fig.layout.xaxis.range[1] >= 150.0 * 1.05  # the bar and its text inside the axis
    assert list(data.iloc[:, 2]) == [150.0, 50.0]
    fig, _ = overview.ranking_figure(progress.assign(completion_rate=[0.9, 0.5, 0.7]), "completion_rate")
    assert tuple(fig.layout.xaxis.range) == (0, 112)
