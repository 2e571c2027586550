"""County progress: a hand-computed table on a tiny database, ties, flags, series, delays, issue numbers."""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import progress, store
from analytics.errors import DataError, InputError

D1, D2, D3 = date(2020, 5, 1), date(2020, 5, 29), date(2020, 6, 5)

# id, county, zone, plan year, households, floor area m², planned investment 万元, planned start, planned completion
COMPOUNDS = [
    ("A1", "370811", None, 2020, 100, 8_000.0, 200.0, date(2020, 4, 1), date(2020, 6, 1)),
    ("A2", "370811", None, 2020, 300, 24_000.0, 600.0, date(2020, 5, 1), date(2020, 6, 1)),
    ("Z1", "370811", "Z01", 2020, 200, 16_000.0, 400.0, date(2020, 4, 1), date(2020, 12, 1)),
    ("B1", "370812", None, 2020, 150, 12_000.0, 300.0, date(2020, 4, 1), date(2020, 9, 1)),
    ("B2", "370812", None, 2020, 50, 4_000.0, 100.0, date(2020, 5, 1), date(2020, 9, 1)),
    ("C1", "370883", None, 2020, 400, 30_000.0, 800.0, date(2020, 5, 20), date(2020, 11, 30)),
    ("C2", "370883", None, 2020, 100, 9_000.0, 200.0, date(2020, 5, 15), date(2020, 6, 1)),
    ("N1", "370883", None, 2020, 10, 900.0, 20.0, None, None),
    ("D1", "370811", None, 2021, 999, 99_000.0, 999.0, date(2020, 1, 1), date(2020, 2, 1)),
]
# report date, compound, status, invest done 万元, elevators, parking, chargers, facilities, pipes km.
# C2 and N1 never report (count as 未开工); B2 is missing from the last report (carried forward);
# D1 belongs to the 2021 plan and must never count in 2020.
REPORTS = [
    (D1, "A1", "已立项", 0.0, 0, 0, 0, 0, 0.0),
    (D1, "A2", "未开工", 0.0, 0, 0, 0, 0, 0.0),
    (D1, "Z1", "已开工", 50.0, 0, 0, 0, 0, 0.0),
    (D1, "B1", "已开工", 30.0, 0, 0, 0, 0, 0.0),
    (D1, "B2", "已立项", 0.0, 0, 0, 0, 0, 0.0),
    (D1, "C1", "未开工", 0.0, 0, 0, 0, 0, 0.0),
    (D1, "D1", "已开工", 99.0, 9, 9, 9, 9, 9.0),
    (D2, "A1", "已开工", 20.0, 0, 0, 0, 0, 0.0),
    (D2, "A2", "已立项", 0.0, 0, 0, 0, 0, 0.0),
    (D2, "Z1", "已开工", 100.0, 0, 0, 0, 0, 0.0),
    (D2, "B1", "已开工", 90.0, 0, 0, 0, 0, 0.0),
    (D2, "B2", "已开工", 10.0, 1, 2, 1, 0, 0.125),
    (D2, "C1", "已立项", 0.0, 0, 0, 0, 0, 0.0),
    (D3, "A1", "已完工", 200.0, 2, 10, 3, 1, 0.5),
    (D3, "A2", "已开工", 60.0, 0, 5, 0, 0, 0.25),
    (D3, "Z1", "已开工", 150.0, 1, 0, 2, 0, 1.0),
    (D3, "B1", "已完工", 300.0, 1, 20, 4, 1, 0.75),
    (D3, "C1", "已开工", 80.0, 0, 8, 0, 0, 0.5),
    (D3, "D1", "已完工", 999.0, 9, 9, 9, 9, 9.0),
]


def build(con) -> None:
    rows = []
    for i, (cid, county, zone, year, hh, area, inv, p_start, p_end) in enumerate(COMPOUNDS):
        rows.append({"id": cid, "name": f"小区{cid}", "county_code": county, "zone_code": zone, "plan_year": year,
                     "built_year": 1995, "households": hh, "floor_area_m2": area, "invest_planned_wan": inv,
                     "planned_start_date": p_start, "planned_completion_date": p_end, "status": "未开工",
                     "geometry": shapely.box(500_000 + 300 * i, 3_900_000, 500_100 + 300 * i, 3_900_100)})
    compounds = gpd.GeoDataFrame(rows, geometry="geometry", crs=4548)
    county = {c[0]: c[1] for c in COMPOUNDS}
    reports = pd.DataFrame(REPORTS, columns=["report_date", "compound_id", "status", "invest_done_wan", "elevators_added",
                                             "parking_spaces", "chargers", "facilities_added", "pipes_km"])
    reports["county_code"] = reports.compound_id.map(county)
    store.insert_frame(con, "compounds", compounds)
    store.insert_frame(con, "progress_reports", reports)


@pytest.fixture
def tiny(mem_con):
    build(mem_con)
    return mem_con


NAN = np.nan
# Hand-computed for as_of = 2020-06-05 (report D3; the previous week's report: D2; the last report of the
# previous month, May: D2 as well, so the month's changes equal the week's).
EXPECTED = pd.DataFrame(
    [
        # unit, name, name_en, kind, planned n/hh/area/invest, targets n/hh/area/invest (none stored), mismatch,
        # approved, started, completed, started hh, completed hh, started area, completed area
        ["370811", "任城区", "Rencheng", "county", 2, 400, 32_000.0, 800.0, NAN, NAN, NAN, NAN, False,
         2, 2, 1, 400, 100, 32_000.0, 8_000.0,
         # start rate, start rate hh, completion, invest done, invest rate
         1.0, 1.0, 0.5, 260.0, 260 / 800,
         # chg week: start, completion, invest; chg month: start, completion, invest
         0.5, 0.5, 260 / 800 - 20 / 800, 0.5, 0.5, 260 / 800 - 20 / 800,
         # rank, rank chg week, below avg, bottom 3, top 3, elevators, parking, chargers, facilities, pipes
         1.0, 2.0, False, False, True, 2, 15, 3, 1, 0.75],
        ["370812", "兖州区", "Yanzhou", "county", 2, 200, 16_000.0, 400.0, NAN, NAN, NAN, NAN, False,
         2, 2, 1, 200, 150, 16_000.0, 12_000.0,
         1.0, 1.0, 0.5, 310.0, 310 / 400,
         0.0, 0.5, 310 / 400 - 100 / 400, 0.0, 0.5, 310 / 400 - 100 / 400,
         1.0, 0.0, False, False, True, 2, 22, 5, 1, 0.875],
        ["370883", "邹城市", "Zoucheng", "county", 3, 510, 39_900.0, 1020.0, NAN, NAN, NAN, NAN, False,
         1, 1, 0, 400, 0, 30_000.0, 0.0,
         1 / 3, 400 / 510, 0.0, 80.0, 80 / 1020,
         1 / 3, 0.0, 80 / 1020, 1 / 3, 0.0, 80 / 1020,
         4.0, 0.0, True, True, False, 0, 8, 0, 0, 0.5],
        ["Z01", "济宁高新区", "Jining Hi-tech Zone", "zone", 1, 200, 16_000.0, 400.0, NAN, NAN, NAN, NAN, False,
         1, 1, 0, 200, 0, 16_000.0, 0.0,
         1.0, 1.0, 0.0, 150.0, 150 / 400,
         0.0, 0.0, 150 / 400 - 100 / 400, 0.0, 0.0, 150 / 400 - 100 / 400,
         1.0, 0.0, False, False, True, 1, 0, 2, 0, 1.0],
        ["370800", "济宁市", "Jining City", "city", 8, 1310, 103_900.0, 2620.0, NAN, NAN, NAN, NAN, False,
         6, 6, 2, 1200, 250, 94_000.0, 20_000.0,
         6 / 8, 1200 / 1310, 2 / 8, 800.0, 800 / 2620,
         6 / 8 - 4 / 8, 2 / 8, 800 / 2620 - 220 / 2620, 6 / 8 - 4 / 8, 2 / 8, 800 / 2620 - 220 / 2620,
         NAN, NAN, False, False, False, 5, 45, 10, 2, 3.125],
    ],
    columns=progress.COLUMNS,
)


def test_county_progress_matches_hand_computed_table(tiny):
    got = progress.county_progress(tiny, as_of=D3)
    assert list(got.columns) == progress.COLUMNS
    expected = EXPECTED.astype({c: "Int64" for c in progress.OUTCOME_COUNTS})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12, atol=1e-12)
    assert got.attrs["report_date"] == D3 and got.attrs["week_date"] == D2 and got.attrs["month_date"] == D2


def test_rates_are_measured_against_the_annual_targets(tiny):
    # The year's tasks, set apart from the list: 兖州 2 compounds (as listed), 250 households (list 200),
    # 250 万元 (list 400); the city 5 compounds (list 8) and 1,000 households (list 1,310); 邹城 a target row
    # without households (its rate keeps the list's); 任城 and the zone none.
    tiny.execute("""INSERT INTO annual_targets (year, unit_code, compounds, households, floor_area_m2, investment_wan)
                    VALUES (2020, '370812', 2, 250, 16000, 250), (2020, '370800', 5, 1000, NULL, NULL),
                           (2020, '370883', 3, NULL, 39900, 1020), (2021, '370812', 99, 9999, 1, 1)""")
    got = progress.county_progress(tiny, as_of=D3).set_index("unit_code")
    yz, city, zc, rc = got.loc["370812"], got.loc["370800"], got.loc["370883"], got.loc["370811"]
    # the list's own totals stay beside the targets
    assert (yz.planned_compounds, yz.planned_households, yz.planned_invest_wan) == (2, 200, 400.0)
    assert (yz.target_compounds, yz.target_households, yz.target_investment_wan) == (2, 250, 250.0)
    assert yz.start_rate_households == 200 / 250 and yz.invest_rate == 310 / 250 == 1.24  # above 100 %, kept
    assert yz.start_rate_compounds == 1.0 and yz.completion_rate == 0.5 and yz.target_mismatch  # households differ
    # the city: its own row (not the units' sum), a rate above 100 % shown as such
    assert (city.target_compounds, city.target_households) == (5, 1000) and city.planned_compounds == 8
    assert city.start_rate_compounds == 6 / 5 == 1.2 and city.start_rate_households == 1200 / 1000 == 1.2
    assert city.completion_rate == 2 / 5 and city.target_mismatch
    assert np.isnan(city.target_floor_area_m2)
    assert city.invest_rate == 800 / 2620  # no investment target for the city: the list's
    # a unit whose target equals its list is not flagged; a measure without a target uses the list's
    assert not zc.target_mismatch and zc.start_rate_households == 400 / 510
    assert np.isnan(rc.target_compounds) and not rc.target_mismatch and rc.start_rate_compounds == 1.0
    # ranks and the city average follow the rates measured against the targets
    assert got.loc["370812", "rank"] == 1.0 and got.loc["370883", "below_city_average"]
    # the year's targets only; ``year`` is ``plan_year`` by another name
    pd.testing.assert_frame_equal(progress.county_progress(tiny, as_of=D3, year=2020),
                                  progress.county_progress(tiny, as_of=D3, plan_year=2020))
    with pytest.raises(InputError, match="`year` was 2021 and `plan_year` 2020"):
        progress.county_progress(tiny, as_of=D3, year=2021, plan_year=2020)
    # the city's target made up from the units' rows when it has none
    tiny.execute("DELETE FROM annual_targets WHERE unit_code = '370800'")
    city = progress.county_progress(tiny, as_of=D3).set_index("unit_code").loc["370800"]
    assert (city.target_compounds, city.target_households) == (5, 250)  # 兖州 2 + 邹城 3; households: 兖州 only
    assert city.start_rate_compounds == 6 / 5


def test_targets_of_zones_count_in_their_county_without_zone_rows(tiny):
    tiny.execute("""INSERT INTO annual_targets (year, unit_code, compounds, households)
                    VALUES (2020, '370811', 2, 400), (2020, 'Z01', 2, 200)""")
    folded = progress.county_progress(tiny, as_of=D3, include_zones=False).set_index("unit_code")
    assert (folded.loc["370811", "target_compounds"], folded.loc["370811", "planned_compounds"]) == (4, 3)
    assert folded.loc["370811", "start_rate_compounds"] == 3 / 4 and folded.loc["370811", "target_mismatch"]
    apart = progress.county_progress(tiny, as_of=D3).set_index("unit_code")
    assert apart.loc["Z01", "start_rate_compounds"] == 1 / 2 and not apart.loc["370811", "target_mismatch"]
    # the weekly series measures against the same targets
    series = progress.weekly_series(tiny, plan_year=2020, unit_code="Z01")
    assert series.start_rate_compounds.tolist() == [0.5, 0.5, 0.5]


def test_as_of_between_reports_uses_the_latest_report_before_it(tiny):
    # Thursday 2020-06-11: report D3; the week before D3 (05-29 or earlier) -> D2; the last report of May -> D2.
    got = progress.county_progress(tiny, as_of=date(2020, 6, 11))
    pd.testing.assert_frame_equal(got, progress.county_progress(tiny, as_of=D3))
    assert progress.reference_dates(tiny, as_of=datetime(2020, 6, 11, 9, 30)) == (D3, D2, D2)


def test_changes_compare_with_the_previous_weeks_report_and_the_previous_months_last_report(tiny):
    # D2 (Friday 29 May): the week before -> D1 (1 May); the month before May has no report.
    assert progress.reference_dates(tiny, as_of=D2) == (D2, D1, None)
    # Saturday 13 June, no report on 12 June: still D3, compared with the week before D3 (D2), never with D3.
    assert progress.reference_dates(tiny, as_of=date(2020, 6, 13)) == (D3, D2, D2)
    # 31 July, long after the last report: D3 still compares with the report of the week before it.
    assert progress.reference_dates(tiny, as_of=date(2020, 7, 31)) == (D3, D2, D2)
    later = progress.county_progress(tiny, as_of=date(2020, 7, 31))
    assert later.attrs["week_date"] == D2 and later["start_rate_compounds_chg_week"].iloc[-1] == pytest.approx(2 / 8)


def test_ranking_order_puts_ties_in_the_official_order_and_the_city_last(tiny):
    got = progress.county_progress(tiny, as_of=D3)
    # ranks: 任城区 1, 兖州区 1, 济宁高新区 1, 邹城市 4 (start rate); the frame's order is the official one
    assert list(progress.ranking_order(got)["unit_code"]) == ["370811", "370812", "Z01", "370883", "370800"]
    swapped = got.iloc[[1, 0, 2, 3, 4]]  # 兖州区 first in the frame: ties follow the frame
    assert list(progress.ranking_order(swapped)["unit_code"]) == ["370812", "370811", "Z01", "370883", "370800"]
    unranked = got.assign(rank=[2.0, np.nan, 1.0, 3.0, np.nan])
    assert list(progress.ranking_order(unranked)["unit_code"]) == ["370883", "370811", "Z01", "370812", "370800"]
    # 0.1 + 0.2 and 0.3 differ by float noise only: a tie, not two ranks
    ranks = progress.rank_values(pd.Series([0.5, 1 / 3, 0.5, np.nan, 1.0, 0.1 + 0.2, 0.3]))
    assert ranks.fillna(-1).tolist() == [2.0, 4.0, 2.0, -1.0, 1.0, 5.0, 5.0]


def test_first_report_has_no_week_or_month_change(tiny):
    got = progress.county_progress(tiny, as_of=D1)
    for col in [c for c in progress.COLUMNS if "_chg_" in c] + ["rank_chg_week"]:
        assert got[col].isna().all(), col
    # 2020-05-01: A1 approved, Z1 and B1 started; D1 (2021 plan) is ignored.
    city = got.iloc[-1]
    assert (city.approved, city.started, city.completed, city.invest_done_wan) == (4, 2, 0, 80.0)


def test_ties_share_a_rank_under_each_indicator(tiny):
    got = progress.county_progress(tiny, as_of=D3, rank_by="completion_rate").set_index("unit_code")
    # completion: 任城 0.5, 兖州 0.5 (tied first), 邹城 0, 高新区 0 (tied third).
    assert got["rank"].drop("370800").to_dict() == {"370811": 1.0, "370812": 1.0, "370883": 3.0, "Z01": 3.0}
    assert got.top_three.drop("370800").to_dict() == {"370811": True, "370812": True, "370883": False, "Z01": False}
    assert got.bottom_three.drop("370800").to_dict() == {"370811": False, "370812": False, "370883": True, "Z01": True}
    invest = progress.county_progress(tiny, as_of=D3, rank_by="invest_rate").set_index("unit_code")
    # 兖州 0.775 > 高新区 0.375 > 任城 0.325 > 邹城 0.078; city 0.305.
    assert invest["rank"].drop("370800").to_dict() == {"370811": 3.0, "370812": 1.0, "370883": 4.0, "Z01": 2.0}
    assert invest.below_city_average.to_dict() == {
        "370811": False, "370812": False, "370883": True, "Z01": False, "370800": False}


def test_rank_flags_edge_cases():
    flags = progress._rank_and_flags(pd.Series([0.5, 0.5, 0.5, 0.5]))
    assert flags["rank"].tolist() == [1, 1, 1, 1]
    assert not flags.top_three.any() and not flags.bottom_three.any()  # nobody stands out
    flags = progress._rank_and_flags(pd.Series([1.0] * 11 + [0.9, 0.9]))
    assert flags.top_three.tolist() == [True] * 11 + [False, False]
    assert flags.bottom_three.tolist() == [False] * 11 + [True, True]
    flags = progress._rank_and_flags(pd.Series([0.5, 0.5] + [0.1] * 11))
    assert flags["rank"].tolist() == [1, 1] + [3] * 11
    assert flags.top_three.tolist() == [True, True] + [False] * 11
    assert flags.bottom_three.tolist() == [False, False] + [True] * 11
    values = pd.Series([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, np.nan])
    flags = progress._rank_and_flags(values)
    assert flags.top_three.tolist() == [True, True, True, False, False, False, False, False]
    assert flags.bottom_three.tolist() == [False, False, False, False, True, True, True, False]
    assert np.isnan(flags["rank"].iloc[-1])
    # float noise does not split a tie: 0.1 + 0.2 vs 0.3
    assert progress._rank_and_flags(pd.Series([0.1 + 0.2, 0.3]))["rank"].tolist() == [1, 1]


def test_zones_can_be_folded_into_their_county(tiny):
    got = progress.county_progress(tiny, as_of=D3, include_zones=False)
    assert got.unit_code.tolist() == ["370811", "370812", "370883", "370800"]
    ren = got.iloc[0]
    assert (ren.planned_compounds, ren.planned_households, ren.started, ren.completed) == (3, 600, 3, 1)
    assert ren.invest_done_wan == 410.0 and ren.elevators_added == 3
    pd.testing.assert_series_equal(got.iloc[-1, 4:17], EXPECTED.iloc[-1, 4:17], check_dtype=False, check_names=False)


def test_bad_arguments_raise(tiny):
    with pytest.raises(InputError, match=r"`as_of` was '2020-06-05' but must be a datetime.date"):
        progress.county_progress(tiny, as_of="2020-06-05")
    with pytest.raises(InputError, match=r"`rank_by` was 'speed' but must be one of"):
        progress.county_progress(tiny, as_of=D3, rank_by="speed")
    with pytest.raises(InputError, match=r"`plan_year` was '2020' but must be a whole year"):
        progress.county_progress(tiny, as_of=D3, plan_year="2020")
    with pytest.raises(InputError, match=r"`plan_year` was True but must be a whole year"):
        progress.county_progress(tiny, as_of=D3, plan_year=True)
    with pytest.raises(InputError, match=r"`plan_year` was 20 but must be between 1990 and 2100"):
        progress.county_progress(tiny, as_of=D3, plan_year=20)
    with pytest.raises(DataError, match=r"No compounds are planned for `plan_year` 2019; the data has plan years \[2020, 2021\]"):
        progress.county_progress(tiny, as_of=D3, plan_year=2019)
    with pytest.raises(DataError, match=r"no progress report on or before `as_of` 2020-04-30; the first report is dated 2020-05-01"):
        progress.county_progress(tiny, as_of=date(2020, 4, 30))
    with pytest.raises(InputError, match=r"`con` was a str but must be a DuckDB connection"):
        progress.county_progress("jiugai.duckdb", as_of=D3)


def test_plan_year_without_reports_is_a_data_error(tiny):
    tiny.execute("DELETE FROM progress_reports WHERE compound_id = 'D1'")
    with pytest.raises(DataError, match=r"no progress report for the compounds of `plan_year` 2021 on or before"):
        progress.county_progress(tiny, as_of=date(2021, 3, 1))


def test_empty_database_is_a_data_error(mem_con):
    with pytest.raises(DataError, match=r"No compounds are planned for `plan_year` 2020; the data has plan years \[\]"):
        progress.county_progress(mem_con, as_of=D3)


def test_weekly_series_hand_computed(tiny):
    city = progress.weekly_series(tiny, plan_year=2020)
    # started households: D1 Z1 200 + B1 150; D2 + A1 100 + B2 50; D3 + A2 300 + C1 400
    expected = pd.DataFrame({
        "report_date": [D1, D2, D3], "started": [2, 4, 6], "completed": [0, 0, 2], "planned_compounds": [8, 8, 8],
        "start_rate_compounds": [2 / 8, 4 / 8, 6 / 8], "completion_rate": [0, 0, 2 / 8],
        "invest_rate": [80 / 2620, 220 / 2620, 800 / 2620], "approved": [4, 6, 6],
        "started_households": [350, 500, 1200], "start_rate_households": [350 / 1310, 500 / 1310, 1200 / 1310],
        "invest_done_wan": [80.0, 220.0, 800.0],
    })
    pd.testing.assert_frame_equal(city, expected, check_dtype=False)
    yan = progress.weekly_series(tiny, plan_year=2020, unit_code="370812")
    assert yan.started.tolist() == [1, 2, 2] and yan.completed.tolist() == [0, 0, 1]
    assert yan.invest_rate.tolist() == [30 / 400, 100 / 400, 310 / 400]
    # every date equals the county table on that date
    for day, row in zip(city.report_date, city.itertuples()):
        table = progress.county_progress(tiny, as_of=day).iloc[-1]
        assert (table.started, table.completion_rate, table.invest_rate) == (row.started, row.completion_rate, row.invest_rate)


def test_weekly_series_errors_and_empty(tiny):
    with pytest.raises(InputError, match=r"`unit_code` was '370826' but the plan has no compounds in it"):
        progress.weekly_series(tiny, plan_year=2020, unit_code="370826")
    with pytest.raises(InputError, match=r"`unit_code` was 'Z01' but the plan has no compounds in it"):
        progress.weekly_series(tiny, plan_year=2020, unit_code="Z01", include_zones=False)
    tiny.execute("DELETE FROM progress_reports WHERE compound_id = 'D1'")
    empty = progress.weekly_series(tiny, plan_year=2021)
    assert empty.empty and list(empty.columns) == progress.SERIES_COLUMNS


def test_behind_schedule_hand_computed(tiny):
    got = progress.behind_schedule(tiny, as_of=D3)
    # C2 never reported: start 2020-05-15 and completion 2020-06-01 both missed -> 21 days late;
    # A2 started but not completed by 2020-06-01 -> 4 days. N1 has no planned dates: never late.
    assert got.compound_id.tolist() == ["C2", "A2"]
    assert got.days_late.tolist() == [21, 4]
    assert got.reason.tolist() == ["start_overdue;completion_overdue", "completion_overdue"]
    assert got.status.tolist() == ["未开工", "已开工"]
    assert pd.isna(got.last_report_date.iloc[0]) and got.last_report_date.iloc[1] == pd.Timestamp(D3)
    assert list(got.columns) == progress.BEHIND_COLUMNS
    # a week earlier (D2): A2 only approved (start 05-01 missed: 28 days), C1 approved (start 05-20: 9 days),
    # C2 start 05-15 (14 days); B2 started on time.
    earlier = progress.behind_schedule(tiny, as_of=D2)
    assert dict(zip(earlier.compound_id, earlier.days_late)) == {"A2": 28, "C2": 14, "C1": 9}
    assert progress.behind_schedule(tiny, as_of=D3, unit_code="370812").empty
    assert progress.behind_schedule(tiny, as_of=D3, unit_code="370883").compound_id.tolist() == ["C2"]


def test_compound_status_is_the_latest_report_on_or_before_the_date(tiny):
    """B2 skips the last report (its D2 state carries forward); C2 and N1 never report; D1 is another plan."""
    got = progress.compound_status(tiny, as_of=D3)
    assert list(got.columns) == progress.STATUS_COLUMNS
    assert dict(zip(got.compound_id, got.status)) == {
        "A1": "已完工", "A2": "已开工", "B1": "已完工", "B2": "已开工", "C1": "已开工", "C2": "未开工", "N1": "未开工",
        "Z1": "已开工",
    }
    assert dict(zip(got.compound_id, got.invest_done_wan)) == {
        "A1": 200.0, "A2": 60.0, "B1": 300.0, "B2": 10.0, "C1": 80.0, "C2": 0.0, "N1": 0.0, "Z1": 150.0,
    }
    last = dict(zip(got.compound_id, got.last_report_date))
    assert last["B2"] == pd.Timestamp(D2) and last["A1"] == pd.Timestamp(D3) and pd.isna(last["C2"])
    # the day before D2 is still D1's state; the counts agree with county_progress on the same date
    before = progress.compound_status(tiny, as_of=date(2020, 5, 28))
    assert dict(zip(before.compound_id, before.status))["A1"] == "已立项"
    city = progress.county_progress(tiny, as_of=D3).iloc[-1]
    assert (got.status.isin(progress.STARTED_STATUSES)).sum() == city.started
    assert got.invest_done_wan.sum() == pytest.approx(city.invest_done_wan)
    with pytest.raises(DataError, match="No compounds are planned for `plan_year` 2030"):
        progress.compound_status(tiny, as_of=D3, plan_year=2030)


def test_demo_city_row_matches_the_2020_plan(demo_con):
    got = progress.county_progress(demo_con, as_of=date(2020, 12, 25))
    city = got.iloc[-1]
    assert city.kind == "city" and city.planned_compounds == 68
    assert abs(city.planned_households - 26_000) <= 0.005 * 26_000
    assert abs(city.planned_floor_area_m2 - 2_280_000) <= 0.005 * 2_280_000
    counties = got[got.kind == "county"].unit_code.tolist()
    assert counties == list(progress.settings.COUNTY_ORDER)  # every county has 2020 compounds in the demo
    assert got[got.kind != "city"].planned_compounds.sum() == 68
    assert (got.started >= got.completed).all() and (got.approved >= got.started).all()
    rates = got[["start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate"]]
    assert ((rates >= 0) & (rates <= 1)).all().all()
    series = progress.weekly_series(demo_con, plan_year=2020)
    assert len(series) == 27 and series.started.is_monotonic_increasing  # 2020-06-26 (after the plan) .. 2020-12-25
