"""Money out of order named in the bulletin's 三、资金支付 and on the progress page: known answers on a tiny database.

The database (``bulletin_fixtures.build_reports``): compounds 小区0, 小区1, 小区2 of 任城区 in the 2020 plan,
reported weekly. Money, 万元 (planned: 100 each; 小区2 50 from each of its two sources):

| compound | source        | allocated | received | paid   | named?                                        |
|----------|---------------|-----------|----------|--------|-----------------------------------------------|
| 小区0    | local_fiscal  | 100       | 80       | 92.35  | yes: paid above received by 12.35             |
| 小区1    | central_subs. | 100       | 100      | 101    | no: 1 % above, within the tolerance           |
| 小区2    | local_fiscal  | 50        | 60       | 30     | yes: received above allocated by 10           |
| 小区2    | special_bonds | 40        | 46       | 0      | yes, with the row above: 16 over two sources  |
| 明年小区 | local_fiscal  | –         | –        | 7      | no: a 2021 compound, not in a 2020 bulletin   |
"""

from __future__ import annotations

import io
import re
from datetime import date

import docx
import pandas as pd
import pypdf
import pytest

from analytics import funding
from analytics.errors import InputError
from analytics.services import bulletin
from analytics.services.bulletin import facts
from dashboard import export
from tests.bulletin_fixtures import build_reports, hand_issue, hand_progress
from tests.test_bulletin import body_texts, flat_text, texts

WEEK = date(2020, 6, 26)
HAS_CJK_FONT = export.find_cjk_font("sans") is not None
NAMED = [  # one unit: its largest excess first
    "经核查，截至2020年6月26日，全市2020年度及以前年度改造项目有2处资金拨付顺序异常：",
    "1.任城区2020年度小区2到位资金超过下达资金16.00万元（市县财政资金、专项债券），请核实资金到位凭证。",
    "2.任城区2020年度小区0已支付资金超过到位资金12.35万元（市县财政资金），请核实拨付凭证。",
]


@pytest.fixture
def money(mem_con):
    build_reports(mem_con, [date(2020, 6, 19), WEEK])
    mem_con.execute("""INSERT INTO compounds (id, name, county_code, built_year, households, floor_area_m2, plan_year,
                       invest_planned_wan, geom) VALUES ('N1', '明年小区', '370811', 1990, 10, 900, 2021, 50,
                       ST_GeomFromText('POINT (116.6 35.4)'))""")
    rows = [
        ("C0", "local_fiscal", "allocated", 100.0), ("C0", "local_fiscal", "received", 80.0),
        ("C0", "local_fiscal", "paid", 50.0), ("C0", "local_fiscal", "paid", 42.35),
        ("C1", "central_subsidy", "allocated", 100.0), ("C1", "central_subsidy", "received", 100.0),
        ("C1", "central_subsidy", "paid", 101.0),
        ("C2", "local_fiscal", "allocated", 50.0), ("C2", "local_fiscal", "received", 60.0),
        ("C2", "local_fiscal", "paid", 30.0), ("C2", "special_bonds", "allocated", 40.0),
        ("C2", "special_bonds", "received", 46.0), ("N1", "local_fiscal", "paid", 7.0),
    ]
    planned = [("C0", "local_fiscal", 100.0), ("C1", "central_subsidy", 100.0), ("C2", "local_fiscal", 50.0),
               ("C2", "special_bonds", 50.0)]
    mem_con.executemany("INSERT INTO funding (compound_id, source, amount_wan) VALUES (?, ?, ?)", planned)
    for i, (cid, source, stage, amount) in enumerate(rows):
        mem_con.execute("INSERT INTO fund_flows (id, flow_date, compound_id, source, stage, amount_wan) "
                        "VALUES (?, DATE '2020-06-10', ?, ?, ?, ?)", [f"f{i}", cid, source, stage, amount])
    return mem_con


def test_cases_out_of_order_are_named_with_the_excess(money):
    got = funding.flow_order_problems(money, as_of=WEEK)
    assert list(got.columns) == funding.ORDER_PROBLEM_COLUMNS
    assert got[["compound_id", "check", "later_wan", "earlier_wan", "excess_wan"]].values.tolist() == [
        ["C2", "received_over_allocated", 106.0, 90.0, 16.0],  # the largest excess of the unit first
        ["C0", "paid_over_received", 92.35, 80.0, 12.35],
        ["N1", "paid_over_received", 7.0, 0.0, 7.0],
    ]
    assert got["sources"].tolist() == [("local_fiscal", "special_bonds"), ("local_fiscal",), ("local_fiscal",)]
    assert got["plan_year"].tolist() == [2020, 2020, 2021] and got["compound_name"].tolist() == ["小区2", "小区0", "明年小区"]
    in_2020 = facts.money_order(money, plan_year=2020, report_date=WEEK)  # the 2021 compound is not this year's
    assert in_2020["compound_id"].tolist() == ["C2", "C0"]
    assert funding.flow_order_problems(money, as_of=date(2020, 6, 9)).empty  # before any movement


def test_bulletin_names_each_case_in_docx_and_pdf(money):
    b = bulletin.build_bulletin(money, as_of=WEEK, kind="week")
    section = texts(b.section("三、资金支付"))
    assert section[1:] == NAMED
    assert not any("小区1" in t or "明年小区" in t for t in section)  # within the tolerance; another plan year
    assert [t for t in texts(b.section("五、下步工作要求")) if "核实资金拨付记录" in t] == [
        "（一）核实资金拨付记录。任城区要对资金拨付顺序异常的项目逐笔核实拨付凭证，于下期周调度（2020年7月3日）前"
        "更正有关记录或说明原因。"]
    document = body_texts(docx.Document(io.BytesIO(bulletin.to_docx(b))))
    assert [t for t in document if t in NAMED] == NAMED
    if HAS_CJK_FONT:
        text = flat_text(pypdf.PdfReader(io.BytesIO(bulletin.to_pdf(b, fonts=export.bulletin_pdf_fonts()))))
        for line in NAMED:
            assert re.sub(r"\s+", "", line) in text


def test_bulletin_says_when_no_money_is_out_of_order(money):
    money.execute("DELETE FROM fund_flows WHERE compound_id = 'C2' OR (compound_id = 'C0' AND amount_wan = 42.35)")
    b = bulletin.build_bulletin(money, as_of=WEEK, kind="week")
    assert texts(b.section("三、资金支付"))[1:] == [
        "经核查，截至2020年6月26日，全市2020年度及以前年度改造项目资金下达、到位、支付均未超过上一环节，资金拨付顺序正常。"]
    assert not any("核实资金拨付记录" in t for t in texts(b.section("五、下步工作要求")))


def test_more_cases_than_listed_are_counted():
    problems = pd.DataFrame([
        {"unit_code": "370811", "plan_year": 2020, "project_id": None, "project_name": None, "compound_id": f"C{i}",
         "compound_name": f"小区{i}", "check": "paid_over_received", "later_wan": 10.0 + i, "earlier_wan": 5.0,
         "excess_wan": 5.0 + i, "sources": ("local_fiscal",)} for i in range(3)])
    b = bulletin.compose(facts.Facts(progress=hand_progress(), behind=pd.DataFrame(), money_order=problems),
                         hand_issue(), rank_by="start_rate_compounds", is_demo=False, max_order_items=2)
    got = texts(b.section("三、资金支付"))
    assert got[1] == "经核查，截至2020年6月26日，全市2020年度及以前年度改造项目有3处资金拨付顺序异常："
    assert [t.split("已支付")[0] for t in got[2:4]] == ["1.任城区2020年度小区0", "2.任城区2020年度小区1"]
    assert len(got) == 5
    assert got[4] == "另有1处未列出，详见平台资金支付明细。"


def test_lines_follow_the_ranking_and_name_projects_and_unknown_records():
    # hand_progress ranks 兖州区 1, 任城区 3, 微山县 5; 济宁经济技术开发区 (Z03) has no task
    problems = pd.DataFrame([
        {"unit_code": "370826", "plan_year": 2020, "project_id": "P1", "project_name": "西区改造项目",
         "compound_id": None, "compound_name": None, "check": "allocated_over_planned", "later_wan": 110.0,
         "earlier_wan": 100.0, "excess_wan": 10.0, "sources": ("central_subsidy",)},
        {"unit_code": None, "plan_year": None, "project_id": None, "project_name": None, "compound_id": "X9",
         "compound_name": None, "check": "paid_over_received", "later_wan": 5.0, "earlier_wan": 0.0,
         "excess_wan": 5.0, "sources": ("residents",)},
        {"unit_code": "370812", "plan_year": 2019, "project_id": None, "project_name": None, "compound_id": "B1",
         "compound_name": "东小区", "check": "paid_over_received", "later_wan": 1234.5, "earlier_wan": 1000.0,
         "excess_wan": 234.5, "sources": ("central_subsidy", "central_budget", "provincial", "local_fiscal")},
    ])
    assert bulletin.money_order_lines(problems, hand_progress()) == [
        "兖州区2019年度东小区已支付资金超过到位资金234.50万元（中央补助资金等4个资金渠道），请核实拨付凭证。",
        "微山县2020年度西区改造项目下达资金超过计划资金10.00万元（中央补助资金），请核实资金下达文件。",
        "资金记录所列小区X9（小区名录中无此小区）已支付资金超过到位资金5.00万元（居民出资），请核实拨付凭证。",
    ]
    assert bulletin.money_order_lines(problems, hand_progress(), lang="en", unit_names={"370812": "Yanzhou",
                                                                                         "370826": "Weishan"}) == [
        "东小区 (Yanzhou, 2019 plan): paid exceeds received by 234.50 (10k yuan) in Central subsidy and 3 other "
        "sources; check the payment vouchers.",
        "project 西区改造项目 (Weishan, 2020 plan): allocated exceeds planned by 10.00 (10k yuan) in Central subsidy; "
        "check the allocation documents.",
        "compound X9 of the money records (not in the compound list): paid exceeds received by 5.00 (10k yuan) in "
        "Residents; check the payment vouchers.",
    ]
    with pytest.raises(InputError, match="`lang` was 'fr'"):
        bulletin.money_order_lines(problems, hand_progress(), lang="fr")  # type: ignore[arg-type]
