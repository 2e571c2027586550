"""Progress page, follow-up part: projects, money paid, after-care and findings equal the analyses on the same store.

The store is a copy of the demo with a project, money movements (one compound paid more than it received),
after-care rows and supervision findings (one overdue) added for the page's plan year.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest
import streamlit as st

from analytics import aftercare, funding, programme, progress, store
from analytics import units as units_mod
from analytics.services import bulletin
from analytics.services.bulletin import facts
from tests.page_helpers import open_page, use_copy

PAGE = "pages/progress.py"


@pytest.fixture(scope="module")
def followup_db(demo_db_path, demo_con, tmp_path_factory):
    """The demo plus a project, money, after-care and findings; returns (path, as_of, plan year)."""
    path = tmp_path_factory.mktemp("followup") / "followup.duckdb"
    as_of = progress.city_as_of(demo_con)
    shutil.copy(demo_db_path, path)
    con = store.connect(path)
    try:
        year = as_of.year
        status = progress.compound_status(con, as_of=as_of, plan_year=year)
        done = status[status["status"] == "已完工"]["compound_id"].tolist()
        ids = status["compound_id"].tolist()
        first, second, third = ids[0], ids[1], ids[2]
        con.execute("INSERT INTO projects (id, name, year, unit_code, delivery_model) "
                    "SELECT 'T-P1', '测试片区', ?, coalesce(zone_code, county_code), '打包' FROM compounds WHERE id = ?",
                    [year, first])
        con.execute("UPDATE compounds SET project_id = 'T-P1' WHERE id IN (?, ?)", [first, second])
        day = as_of - timedelta(days=30)
        flows = [("T-f1", first, "local_fiscal", "allocated", 100.0), ("T-f2", first, "local_fiscal", "received", 80.0),
                 ("T-f3", first, "local_fiscal", "paid", 50.0), ("T-f4", third, "special_bonds", "received", 10.0),
                 ("T-f5", third, "special_bonds", "paid", 40.0)]  # paid more than received: flagged
        for fid, cid, source, stage, amount in flows:
            con.execute("INSERT INTO fund_flows (id, flow_date, compound_id, source, stage, amount_wan) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [fid, day, cid, source, stage, amount])
        for cid, mode, established in ((done[0], "专业物业", True), (done[1], "业主自治", False)):
            con.execute("INSERT OR REPLACE INTO aftercare (compound_id, mgmt_mode, mgmt_established, satisfaction_pct) "
                        "VALUES (?, ?, ?, 90)", [cid, mode, established])
        for fid, deadline in (("T-F1", as_of - timedelta(days=5)), ("T-F2", as_of + timedelta(days=20))):
            con.execute("INSERT INTO findings (id, found_date, unit_code, compound_id, category, description, deadline, "
                        "status) VALUES (?, ?, '370811', ?, '资金支付', '拨付滞后', ?, '整改中')",
                        [fid, as_of - timedelta(days=40), first, deadline])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path, as_of, year


@pytest.fixture
def shown(followup_db, tmp_path, monkeypatch):
    path, as_of, year = followup_db
    use_copy(path, tmp_path / "page.duckdb", monkeypatch)
    st.cache_data.clear()
    at = open_page(PAGE)
    yield at, store.connect(tmp_path / "page.duckdb"), as_of, year  # the app's own configuration
    st.cache_data.clear()


def expected_third(con, as_of, year) -> str:
    """The third compound of the year (the fixture's paid-more-than-received one)."""
    return progress.compound_status(con, as_of=as_of, plan_year=year)["compound_id"].tolist()[2]


def table_having(at, *columns: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_projects_money_aftercare_findings(shown):
    at, con, as_of, year = shown
    projects = programme.project_progress(con, as_of=as_of, plan_year=year)
    table = table_having(at, "项目编号")
    assert table["项目编号"].tolist() == projects["project_id"].tolist()
    row = table[table["项目编号"] == "T-P1"].iloc[0]
    expected = projects.set_index("project_id").loc["T-P1"]
    assert (row["小区数"], row["已开工"], row["已完工"]) == (2, expected.started, expected.completed)
    assert row["支付（万元）"] == pytest.approx(expected.paid_wan) and expected.paid_wan >= 50.0

    flow = funding.money_flow(con, as_of=as_of, by=("unit_code",), plan_year=year)
    units = table_having(at, "县区 / 功能区", "到位率（%）")
    assert units["支付（万元）"].tolist()[:-1] == pytest.approx(flow["paid_wan"].round(2).tolist())
    assert units["支付（万元）"].iloc[-1] == pytest.approx(round(flow["paid_wan"].sum(), 2))  # the city row
    cards = {m.label: m.value for m in at.metric}
    assert cards["已支付（万元）"] == f"{flow['paid_wan'].sum():,.2f}"
    # money out of order: the bulletin's sentences and a table, this year's and earlier years' money
    problems = table_having(at, "超出金额（万元）", "小区编号")
    expected = facts.money_order(con, plan_year=year, report_date=as_of)
    assert problems["小区编号"].tolist() == expected["compound_id"].tolist()
    assert problems["超出金额（万元）"].tolist() == pytest.approx(expected["excess_wan"].round(2).tolist())
    frame = progress.with_units_without_task(progress.county_progress(con, as_of=as_of, rank_by="start_rate_compounds"),
                                             units_mod.units(con, year=year))
    lines = bulletin.money_order_lines(expected, frame)
    listed = "\n".join(m.value for m in at.markdown)
    assert all(f"- {line}" in listed for line in lines)
    third = con.execute("SELECT name FROM compounds WHERE id = ?", [expected_third(con, as_of, year)]).fetchone()[0]
    assert any(f"{year}年度{third}已支付资金超过到位资金" in line for line in lines)  # the added 40 paid against 10
    assert set(expected["plan_year"]) >= {2024, 2025, year}  # the demo's planted cases of earlier years too

    summary = aftercare.aftercare_summary(con, as_of=as_of)
    city = summary.set_index("unit_code").loc["370800"]
    shown_after = table_having(at, "建立比例（%）")
    assert shown_after["已完工"].tolist() == summary["completed"].tolist()
    assert shown_after["已建立长效管理"].tolist() == summary["established"].tolist()
    assert cards["已建立长效管理"] == f"{city.established_share * 100:.1f}%"

    still_open = aftercare.open_findings(con, as_of=as_of)
    findings = table_having(at, "问题编号")
    assert findings["问题编号"].tolist() == still_open["id"].tolist()
    marked = findings.set_index("问题编号")["超期"]
    assert marked["T-F1"] == "超期 5 天" and marked["T-F2"] == ""


def test_in_english(followup_db, tmp_path, monkeypatch):
    path, _as_of, _year = followup_db
    use_copy(path, tmp_path / "page.duckdb", monkeypatch)
    st.cache_data.clear()
    try:
        at = open_page(PAGE, session={"lang": "en"})
        assert table_having(at, "Finding ID")["Overdue"].str.endswith("days overdue").any()
        assert "Payment rate" in {m.label for m in at.metric}
        listed = [m.value for m in at.markdown if m.value.startswith("- ")]
        assert listed and all("exceeds" in line and "(10k yuan)" in line for line in listed)
        assert "Excess (10k yuan)" in table_having(at, "Compound / project").columns
    finally:
        st.cache_data.clear()


def test_lists_follow_the_chosen_county(shown):
    at, con, as_of, _year = shown
    unit = "370883"  # 邹城市: none of the added findings is there
    at.selectbox(key="unit").set_value(unit).run()
    assert not at.exception and not at.error
    expected = aftercare.open_findings(con, as_of=as_of)
    expected = expected[expected["unit_code"] == unit]
    found = [d.value for d in at.dataframe if "问题编号" in d.value.columns]
    assert [f["问题编号"].tolist() for f in found] == ([expected["id"].tolist()] if len(expected) else [])
    at.selectbox(key="unit").set_value("370811").run()
    shown_ids = table_having(at, "问题编号")["问题编号"].tolist()
    assert {"T-F1", "T-F2"} <= set(shown_ids)
    assert set(table_having(at, "问题编号")["县区 / 功能区"]) == {"任城区"}
