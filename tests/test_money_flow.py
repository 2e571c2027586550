"""Money flow 计划 → 下达 → 到位 → 支付: known answers on a hand-built store (tests/programme_fixtures.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import funding, store
from analytics.errors import InputError
from tests.programme_fixtures import AS_OF, build_money

STAGES = ["planned_wan", "allocated_wan", "received_wan", "paid_wan"]


@pytest.fixture
def money(mem_con):
    build_money(mem_con)
    return mem_con


def _keyed(frame, by):
    return {tuple(None if pd.isna(v) else v for v in key): row for key, row in
            zip(frame[by].itertuples(index=False, name=None), frame.to_dict("records"))}


def test_by_source_and_unit(money):
    got = funding.money_flow(money, as_of=AS_OF)
    assert list(got.columns) == ["source", "unit_code", *funding.FLOW_COLUMNS]
    keys = list(zip(got["source"], got["unit_code"].where(got["unit_code"].notna(), None)))
    assert keys == [("central_subsidy", "370811"), ("central_subsidy", "370812"), ("provincial", "Z01"),
                    ("local_fiscal", "370811"), ("local_fiscal", "370812"), ("special_bonds", "Z01"),
                    ("residents", None)]
    rows = _keyed(got, ["source", "unit_code"])
    cs = rows[("central_subsidy", "370811")]
    assert [cs[c] for c in STAGES] == [100.0, 100.0, 100.0, 60.0] and cs["payment_rate"] == 0.6
    over = rows[("central_subsidy", "370812")]  # 330 allocated against 300 planned; the receipt is later
    assert [over[c] for c in STAGES] == [300.0, 330.0, 0.0, 0.0]
    assert over["allocated_over_planned"] and not over["order_ok"]
    lf = rows[("local_fiscal", "370811")]  # the project's 100 paid counts in its unit
    assert [lf[c] for c in STAGES] == [800.0, 800.0, 450.0, 260.0] and lf["n_flows"] == 6
    assert lf["payment_rate"] == pytest.approx(260 / 800) and lf["paid_of_received"] == pytest.approx(260 / 450)
    assert lf["order_ok"]
    zone_project = rows[("provincial", "Z01")]  # booked on the zone's project, nothing planned from it
    assert [zone_project[c] for c in STAGES] == [0.0, 10.0, 0.0, 0.0] and zone_project["allocated_over_planned"]
    idle = rows[("local_fiscal", "370812")]
    assert [idle[c] for c in STAGES] == [600.0, 0.0, 0.0, 0.0] and idle["n_flows"] == 0 and idle["order_ok"]
    orphan = rows[("residents", None)]  # a movement of an unknown compound is kept, not dropped
    assert orphan["paid_wan"] == 5.0 and np.isnan(orphan["payment_rate"])
    assert orphan["paid_over_received"]
    assert got["invest_planned_wan"].isna().all()  # investment has no source


def test_each_compound_and_source_checked_on_its_own(money):
    got = funding.money_flow(money, as_of=AS_OF, by=("compound_id", "source"))
    rows = _keyed(got, ["compound_id", "source"])
    a1 = rows[("A1", "local_fiscal")]
    assert [a1[c] for c in STAGES] == [200.0, 200.0, 150.0, 160.0]
    assert a1["paid_over_received"] and not a1["received_over_allocated"] and not a1["order_ok"]
    assert rows[(None, "local_fiscal")]["paid_wan"] == 100.0  # booked on a project
    flagged = got.loc[~got["order_ok"], ["compound_id", "source"]].fillna("-").to_numpy().tolist()
    assert sorted(flagged) == [["-", "local_fiscal"], ["-", "provincial"], ["A1", "local_fiscal"],
                               ["B1", "central_subsidy"], ["X9", "residents"]]


def test_within_tolerance_is_not_flagged(money):
    money.execute("UPDATE fund_flows SET amount_wan = 151.5 WHERE id = 'a6'")  # 1 % above 150
    got = _keyed(funding.money_flow(money, as_of=AS_OF, by=("compound_id", "source")), ["compound_id", "source"])
    assert got[("A1", "local_fiscal")]["order_ok"]
    money.execute("UPDATE fund_flows SET amount_wan = 151.6 WHERE id = 'a6'")
    got = _keyed(funding.money_flow(money, as_of=AS_OF, by=("compound_id", "source")), ["compound_id", "source"])
    assert got[("A1", "local_fiscal")]["paid_over_received"]


def test_by_unit_for_one_plan_year_with_investment(money):
    got = funding.money_flow(money, as_of=AS_OF, by=("unit_code",), plan_year=2020)
    rows = _keyed(got, ["unit_code"])
    assert list(rows) == [("370811",), ("Z01",)]
    ren = rows[("370811",)]
    assert [ren[c] for c in STAGES] == [900.0, 900.0, 550.0, 320.0] and ren["invest_planned_wan"] == 900.0
    zone = rows[("Z01",)]  # the zone project's 10 allocated counts in the zone
    assert [zone[c] for c in STAGES] == [150.0, 160.0, 150.0, 150.0] and zone["invest_planned_wan"] == 150.0
    assert zone["allocated_over_planned"]
    early = _keyed(funding.money_flow(money, as_of=date(2020, 12, 31), by=("unit_code",), plan_year=2020), ["unit_code"])
    assert early[("Z01",)]["n_flows"] == 0 and early[("Z01",)]["paid_wan"] == 0.0


def test_county_of_a_zone_project_and_its_year(money):
    got = _keyed(funding.money_flow(money, as_of=AS_OF, by=("county_code", "plan_year")), ["county_code", "plan_year"])
    ren = got[("370811", 2020)]  # A1, A2, Z1 and both projects' movements
    assert [ren[c] for c in STAGES] == [1_050.0, 1_060.0, 700.0, 470.0]
    assert ren["invest_planned_wan"] == 1_050.0
    assert got[("370812", 2022)]["invest_planned_wan"] == 1_200.0 and got[("370812", 2022)]["planned_wan"] == 0.0


def test_city_total(money):
    city = funding.money_flow(money, as_of=AS_OF, by=()).iloc[0]  # investment: every planned compound, F1 too
    assert [city[c] for c in STAGES] == [1_950.0, 1_390.0, 700.0, 475.0]
    assert city["invest_planned_wan"] == 3_180.0 and city["n_flows"] == 15
    assert city["payment_rate"] == pytest.approx(475 / 1_950)


def test_empty_store(mem_con):
    got = funding.money_flow(mem_con, as_of=AS_OF)
    assert got.empty and list(got.columns) == ["source", "unit_code", *funding.FLOW_COLUMNS]


def test_bad_arguments(money):
    with pytest.raises(InputError, match=r"`by` has unknown column\(s\) \['county'\]; use any of \('source', "):
        funding.money_flow(money, as_of=AS_OF, by=("county",))
    with pytest.raises(InputError, match=r"`by` was 'source' but must be a tuple of column names from \('source', "):
        funding.money_flow(money, as_of=AS_OF, by="source")
    with pytest.raises(InputError, match=r"`by` was \('source', 'source'\) but names a column twice"):
        funding.money_flow(money, as_of=AS_OF, by=("source", "source"))
    with pytest.raises(InputError, match="`as_of`"):
        funding.money_flow(money, as_of="2022-06-30")
    with pytest.raises(InputError, match="`tolerance`"):
        funding.money_flow(money, as_of=AS_OF, tolerance=1.5)
    with pytest.raises(InputError, match="`plan_year`"):
        funding.money_flow(money, as_of=AS_OF, plan_year="2020")


def test_order_problems_one_row_per_compound_or_project_and_check(money):
    got = funding.flow_order_problems(money, as_of=AS_OF)
    assert list(got.columns) == funding.ORDER_PROBLEM_COLUMNS
    rows = got[["unit_code", "plan_year", "project_id", "compound_id", "check", "later_wan", "earlier_wan",
                "excess_wan", "sources"]].astype(object).where(got.notna(), None).values.tolist()
    assert rows == [
        ["370811", 2020, "PR1", "A1", "paid_over_received", 160.0, 150.0, 10.0, ("local_fiscal",)],
        ["370812", 2021, None, "B1", "allocated_over_planned", 330.0, 300.0, 30.0, ("central_subsidy",)],
        # booked on the zone's project: nothing planned from that source in the whole project
        ["Z01", 2020, "PRZ", None, "allocated_over_planned", 10.0, 0.0, 10.0, ("provincial",)],
        [None, None, None, "X9", "paid_over_received", 5.0, 0.0, 5.0, ("residents",)],  # no such compound: last
    ]
    # PR1's own payment (100 of local_fiscal) is within the 450 its compounds received: not a case
    assert got["project_name"].tolist()[:3] == ["任城片区", None, "高新区片区"]
    assert got["compound_name"].tolist() == ["小区A1", "小区B1", None, None]
    money.execute("UPDATE fund_flows SET amount_wan = 351.0 WHERE id = 'a9'")  # 450 received, 160 + 351 paid in PR1
    got = funding.flow_order_problems(money, as_of=AS_OF)
    pr1 = got[(got["project_id"] == "PR1") & got["compound_id"].isna()].iloc[0]
    assert (pr1["later_wan"], pr1["earlier_wan"], pr1["excess_wan"]) == (511.0, 450.0, 61.0)
    assert funding.flow_order_problems(money, as_of=AS_OF, plan_year=2021)["compound_id"].tolist() == ["B1"]


def test_order_problems_within_tolerance_and_empty(money):
    money.execute("UPDATE fund_flows SET amount_wan = 151.5 WHERE id = 'a6'")  # 1 % above 150
    assert "A1" not in funding.flow_order_problems(money, as_of=AS_OF)["compound_id"].tolist()
    empty = store.connect(":memory:")
    try:
        got = funding.flow_order_problems(empty, as_of=AS_OF)
    finally:
        empty.close()
    assert got.empty and list(got.columns) == funding.ORDER_PROBLEM_COLUMNS
