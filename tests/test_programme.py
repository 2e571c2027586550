"""The programme summary: known answers on a hand-built store (tests/programme_fixtures.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from analytics import programme, settings
from analytics.errors import InputError
from tests.programme_fixtures import AS_OF, build_programme


@pytest.fixture
def built(mem_con):
    build_programme(mem_con)
    return programme.programme_summary(mem_con, as_of=AS_OF)


def _row(frame, **keys):
    mask = np.ones(len(frame), dtype=bool)
    for col, value in keys.items():
        mask &= (frame[col] == value).to_numpy()
    assert mask.sum() == 1, keys
    return frame[mask].iloc[0]


def test_years_rows_and_order(built):
    years = built.years
    assert list(years.columns) == programme.YEAR_COLUMNS
    assert list(zip(years["year"], years["unit_code"])) == [
        (2020, "370811"), (2020, "Z01"), (2020, "370800"), (2021, "370812"), (2021, "370800"),
        (2022, "370812"), (2022, "370800")]  # 2027 is after the date


def test_year_2020_against_targets(built):
    ren = _row(built.years, year=2020, unit_code="370811")
    assert (ren.planned_compounds, ren.planned_households, ren.planned_floor_area_m2) == (2, 300, 30_000.0)
    assert (ren.started, ren.completed, ren.completed_floor_area_m2) == (2, 1, 10_000.0)
    assert (ren.target_compounds, ren.target_floor_area_m2) == (2, 30_000.0)
    assert not ren.target_mismatch
    assert ren.completion_rate == 0.5 and ren.area_done_of_target == pytest.approx(1 / 3)
    zone = _row(built.years, year=2020, unit_code="Z01")  # completed in 2021, before the date
    assert (zone.completed, zone.completed_floor_area_m2) == (1, 5_000.0)
    assert zone.target_mismatch and zone.area_done_of_target == pytest.approx(5_000 / 6_000)
    city = _row(built.years, year=2020, unit_code="370800")
    assert (city.planned_compounds, city.planned_households, city.planned_floor_area_m2) == (3, 350, 35_000.0)
    assert (city.started, city.completed, city.completed_households, city.completed_floor_area_m2) == (3, 2, 150, 15_000.0)
    # No 370800 row for 2020: the city's target is the units' sum, 36,000 m², 2.8 % above the list.
    assert (city.target_compounds, city.target_households, city.target_floor_area_m2) == (3, 350, 36_000.0)
    assert city.target_mismatch


def test_rates_above_target_are_shown_as_they_are(built):
    row = _row(built.years, year=2021, unit_code="370812")
    assert row.area_done_of_target == pytest.approx(1.2) and row.target_mismatch
    assert _row(built.years, year=2021, unit_code="370800").area_done_of_target == pytest.approx(1.2)


def test_city_target_row_is_used_when_stored(built):
    city = _row(built.years, year=2022, unit_code="370800")
    assert (city.target_compounds, city.target_floor_area_m2) == (2, 50_000.0)
    assert city.target_mismatch  # one compound listed, two assigned
    assert city.started == 0  # B2's report is dated after the date
    assert not _row(built.years, year=2022, unit_code="370812").target_mismatch


def test_cumulative_per_unit(built):
    cum = built.cumulative.set_index("unit_code")
    assert list(cum.index) == ["370811", "370812", "Z01", "370800"]
    assert cum.loc["370812", ["planned_compounds", "planned_floor_area_m2", "completed", "completed_floor_area_m2"]
                   ].tolist() == [2, 70_000.0, 1, 30_000.0]
    assert cum.loc["370812", "area_done_share"] == pytest.approx(3 / 7)
    assert cum.loc["370800", ["planned_compounds", "planned_households", "completed", "completed_households"]
                   ].tolist() == [5, 1_050, 3, 450]
    assert cum.loc["370811", "share_of_city_done"] == pytest.approx(10_000 / 45_000)
    assert cum.loc["370800", "share_of_city_done"] == 1.0


def test_trajectory_at_each_year_end(built):
    traj = built.trajectory
    assert traj["year"].tolist() == [2020, 2021, 2022]
    assert traj["snapshot_date"].tolist() == [date(2020, 12, 31), date(2021, 12, 31), AS_OF]
    assert traj["planned_compounds"].tolist() == [3, 4, 5]
    assert traj["planned_floor_area_m2"].tolist() == [35_000.0, 65_000.0, 105_000.0]
    assert traj["completed"].tolist() == [1, 3, 3]  # Z1 was finished in 2021
    assert traj["completed_floor_area_m2"].tolist() == [10_000.0, 45_000.0, 45_000.0]
    assert traj["done_of_goal"].iloc[-1] == pytest.approx(45_000 / settings.PLAN_TOTAL_2025_FLOOR_AREA_M2)


def test_goal(built):
    goal = built.goal
    assert goal["goal_floor_area_m2"] == 16_900_000
    assert goal["planned_floor_area_m2"] == 105_000.0 and goal["completed_floor_area_m2"] == 45_000.0
    assert goal["left_to_plan_m2"] == 16_900_000 - 105_000


def test_one_unit_against_its_own_targets(mem_con):
    """For a county the trajectory is its compounds' and the goal the sum of its targets, not the city's goal."""
    build_programme(mem_con)
    rencheng = programme.programme_summary(mem_con, as_of=AS_OF, unit_code="370811")
    assert rencheng.unit_code == "370811"
    traj = rencheng.trajectory  # A1 A2 (2020); A1 completed in 2020, A2 never; Z1 is the zone's
    assert traj["planned_compounds"].tolist() == [2, 2, 2]
    assert traj["planned_floor_area_m2"].tolist() == [30_000.0, 30_000.0, 30_000.0]
    assert traj["completed_floor_area_m2"].tolist() == [10_000.0, 10_000.0, 10_000.0]
    assert set(traj["goal_floor_area_m2"]) == {30_000.0}  # its one target (2020)
    goal = rencheng.goal
    assert (goal["goal_floor_area_m2"], goal["target_years"]) == (30_000.0, 1.0)
    assert (goal["planned_floor_area_m2"], goal["completed_floor_area_m2"]) == (30_000.0, 10_000.0)
    assert goal["done_of_goal"] == pytest.approx(1 / 3) and goal["left_to_plan_m2"] == 0.0

    yanzhou = programme.programme_summary(mem_con, as_of=AS_OF, unit_code="370812")
    assert yanzhou.goal["goal_floor_area_m2"] == 65_000.0 and yanzhou.goal["target_years"] == 2.0  # 2021 + 2022
    assert yanzhou.trajectory["completed"].tolist() == [0, 1, 1]  # B1 in 2021
    assert yanzhou.goal["planned_of_goal"] == pytest.approx(70_000 / 65_000)  # above 100 %: shown as it is

    zone = programme.programme_summary(mem_con, as_of=AS_OF, unit_code="Z01")
    assert zone.trajectory["completed"].tolist() == [0, 1, 1]  # Z1 finished in 2021
    assert zone.goal["done_of_goal"] == pytest.approx(5_000 / 6_000)
    # the per-unit tables still hold every unit and the city
    assert set(zone.years["unit_code"]) == set(programme.programme_summary(mem_con, as_of=AS_OF).years["unit_code"])


def test_a_unit_without_targets_has_no_goal(mem_con):
    build_programme(mem_con)
    mem_con.execute("DELETE FROM annual_targets WHERE unit_code = '370811'")
    got = programme.programme_summary(mem_con, as_of=AS_OF, unit_code="370811")
    assert np.isnan(got.goal["goal_floor_area_m2"]) and got.goal["target_years"] == 0.0
    assert np.isnan(got.goal["done_of_goal"]) and got.trajectory["done_of_goal"].isna().all()
    assert got.goal["completed_floor_area_m2"] == 10_000.0
    city = programme.programme_summary(mem_con, as_of=AS_OF, unit_code="370800")
    assert city.unit_code == "370800" and city.goal["goal_floor_area_m2"] == 16_900_000


def test_pre_2000_stock_first_then_2001_2005(built):
    stock = built.stock
    assert list(zip(stock["tier"], stock["unit_code"])) == [
        ("first", "370811"), ("first", "370812"), ("first", "370800"),
        ("second", "370812"), ("second", "Z01"), ("second", "370800")]
    first = _row(stock, tier="first", unit_code="370800")  # A1 A2 B2 F1 P1; P4 is for demolition
    assert first[["stock_compounds", "stock_households", "stock_floor_area_m2"]].tolist() == [5, 790, 79_000.0]
    assert first[["done_compounds", "done_floor_area_m2", "planned_compounds", "planned_floor_area_m2"]
                 ].tolist() == [1, 10_000.0, 3, 61_000.0]
    assert first[["pool_compounds", "pool_floor_area_m2", "remaining_compounds", "remaining_floor_area_m2"]
                 ].tolist() == [1, 8_000.0, 4, 69_000.0]
    assert first.done_share == pytest.approx(10_000 / 79_000)
    second = _row(stock, tier="second", unit_code="370800")  # Z1 B1 done, P2 in the pool
    assert second[["stock_compounds", "done_compounds", "done_floor_area_m2", "remaining_floor_area_m2"]
                  ].tolist() == [3, 2, 35_000.0, 6_000.0]
    assert _row(stock, tier="second", unit_code="Z01").done_share == 1.0


def test_candidate_pool_by_unit(built):
    pool = built.pool.set_index("unit_code")
    assert list(pool.index) == ["370811", "370812", "370800"]
    assert pool.loc["370811"].tolist() == [2, 150, 15_000.0, 1, 1, 0, 1]
    assert pool.loc["370812"].tolist() == [2, 150, 15_000.0, 1, 0, 1, 1]
    assert pool.loc["370800"].tolist() == [4, 300, 30_000.0, 2, 1, 1, 2]


def test_an_empty_store_gives_empty_tables(mem_con):
    got = programme.programme_summary(mem_con, as_of=AS_OF)
    assert got.years.empty and got.cumulative.empty and got.stock.empty and got.pool.empty
    assert got.trajectory["completed"].tolist() == [0]
    assert got.goal["planned_floor_area_m2"] == 0.0


def test_bad_arguments(mem_con):
    with pytest.raises(InputError, match="`as_of`"):
        programme.programme_summary(mem_con, as_of="2022-06-30")
    with pytest.raises(InputError, match="`con`"):
        programme.programme_summary(None, as_of=AS_OF)
    with pytest.raises(InputError, match="`unit_code` was '370899'") as caught:
        programme.programme_summary(mem_con, as_of=AS_OF, unit_code="370899")
    assert caught.value.code == "units.unknown"


def test_project_progress(mem_con):
    from tests.programme_fixtures import build_money

    build_money(mem_con)
    got = programme.project_progress(mem_con, as_of=AS_OF)
    assert list(got.columns) == programme.PROJECT_COLUMNS
    assert got["project_id"].tolist() == ["PR1", "PRZ"]
    pr1 = got.iloc[0]  # A1 completed, A2 started; 100 paid on the project itself
    assert (pr1.year, pr1.compounds, pr1.households, pr1.floor_area_m2, pr1.started, pr1.completed) == (
        2020, 2, 300, 30_000.0, 2, 1)
    assert (pr1.invest_planned_wan, pr1.received_wan, pr1.paid_wan) == (900.0, 550.0, 320.0)
    assert pr1.payment_rate == pytest.approx(320 / 900)
    prz = got.iloc[1]  # no year of its own: its compound's
    assert (prz.year, prz.unit_code, prz.completed, prz.paid_wan) == (2020, "Z01", 1, 150.0)
    assert programme.project_progress(mem_con, as_of=AS_OF, plan_year=2021).empty
    early = programme.project_progress(mem_con, as_of=date(2020, 6, 30))
    assert early["started"].tolist() == [0, 0] and early["paid_wan"].tolist() == [0.0, 0.0]


def test_demo_programme(demo_con):
    """The demo's 2020 batch is the plan's 68 compounds, 26,000 households, 2.28 million m²; 2020–2025 ≈ 16.9 million m²."""
    from analytics import progress

    got = programme.programme_summary(demo_con, as_of=progress.city_as_of(demo_con))
    row = _row(got.years, year=2020, unit_code="370800")
    assert (row.planned_compounds, row.planned_households, row.planned_floor_area_m2) == (68, 26_000, 2_280_000.0)
    assert got.goal["planned_floor_area_m2"] == pytest.approx(settings.PLAN_TOTAL_2025_FLOOR_AREA_M2, rel=0.02)
    cum = got.cumulative.set_index("unit_code")
    units = cum.drop(index="370800")
    assert units["planned_floor_area_m2"].sum() == pytest.approx(cum.loc["370800", "planned_floor_area_m2"])
    assert units["share_of_city_done"].sum() == pytest.approx(1.0)
