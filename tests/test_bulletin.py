"""The 周调度/月通报: every sentence and table from hand-built figures, the office's rules, DOCX/PDF/HTML read back.

The demo-data tests (comparison dates, numbers, figures equal to ``county_progress``) and the command line
are in ``test_bulletin_demo.py``; numbering and the register in ``test_bulletin_issues.py``.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from html.parser import HTMLParser

import docx
import pandas as pd
import pypdf
import pytest
from docx.oxml.ns import qn
from PIL import Image

from analytics.errors import InputError
from analytics.services import bulletin
from analytics.services.bulletin import html as bulletin_html
from analytics.services.bulletin import layout
from analytics.services.bulletin.docx import CELL_PADDING_PT, TEXT_WIDTH_PT, table_layout
from analytics.services.bulletin.facts import Facts
from analytics.services.bulletin.office import OfficeSettings
from dashboard import export
from tests.bulletin_fixtures import (
    hand_behind,
    hand_findings,
    hand_issue,
    hand_payments,
    hand_previous,
    hand_progress,
)

HAS_CJK_FONT = export.find_cjk_font("sans") is not None


def hand_facts(**changes) -> Facts:
    options = {"progress": hand_progress(), "behind": hand_behind(), "previous": hand_previous(),
               "payments": hand_payments(), "findings": hand_findings()}
    options.update(changes)
    return Facts(**options)


def hand_bulletin(*, office: OfficeSettings | None = None, issue=None, is_demo: bool = True, **facts) -> bulletin.Bulletin:
    return bulletin.compose(hand_facts(**facts), issue or hand_issue(), rank_by="start_rate_compounds", is_demo=is_demo,
                            office=office or OfficeSettings())


def texts(blocks) -> list[str]:
    return [b.full_text for b in blocks if b.kind == "paragraph"]


# ----------------------------------------------------------------------------------- the office's form
def test_header_and_five_sections_in_the_offices_form():
    b = hand_bulletin()
    assert b.full_title == "济宁市老旧小区改造工作周调度（2020年第17期）"
    assert b.doc_number == "济旧改指办〔2020〕17号"
    assert b.period_text == "2020年6月20日至2020年6月26日"
    assert b.headings == ["一、总体进展", "二、各县（市、区）进展排名", "三、资金支付", "四、存在问题", "五、下步工作要求"]
    assert b.distribution_lines == [
        "报：市委、市政府有关领导同志，市老旧小区改造工作指挥部领导同志。",
        "送：市委督查室，市政府督查室。",
        "发：各县（市、区）人民政府，济宁高新区、太白湖新区、济宁经济技术开发区、曲阜文化建设示范区管委会"
        "（推进办公室），市老旧小区改造工作指挥部各成员单位。",
    ]
    assert b.printed_line == "济宁市老旧小区改造工作指挥部办公室    2020年6月26日印发"
    office = OfficeSettings(doc_prefix="济旧改办", distribution=(("抄送", "市住房城乡建设局。"),))
    other = hand_bulletin(office=office, issue=hand_issue(doc_number="济旧改办〔2020〕17号"))
    assert other.doc_number == "济旧改办〔2020〕17号" and other.distribution_lines == ["抄送：市住房城乡建设局。"]


def test_overview_gives_households_floor_area_and_the_weeks_new_starts():
    assert texts(hand_bulletin().section("一、总体进展")) == [
        "截至2020年6月26日，全市2020年度计划改造老旧小区26个、1.03万户、建筑面积90.1万平方米，计划总投资2,600.00万元。",
        "已立项26个；已开工20个、7700户、67.4万平方米，开工率76.9%（按户数74.8%），较上周提高11.5个百分点；"
        "已完工3个、1200户、10.5万平方米，完工率11.5%，较上周提高3.8个百分点；累计完成投资570.00万元，"
        "投资完成率21.9%，较上周提高1.9个百分点。",
        "本周（2020年6月19日以来）新增开工3个小区、1150户，新增完工1个小区、600户。",
        "累计加装电梯3部，新增停车位40个、充电设施12个、养老托育等服务设施2处，改造各类管网4.2公里。",
    ]
    first = hand_bulletin(progress=hand_progress(first_issue=True), previous=None,
                          issue=hand_issue(issue=1, previous_date=None))
    overview = texts(first.section("一、总体进展"))
    assert "较上周" not in overview[1] and overview[2] == "本期为2020年度首次统计，无上期数据可比。"


def test_ranking_text_table_and_evaluation_use_one_order():
    b = hand_bulletin()
    section = b.section("二、各县（市、区）进展排名")
    assert texts(section)[0] == (
        "按开工率排名，兖州区（100.0%）、太白湖新区（100.0%）、任城区（80.0%）位列前三，鱼台县（75.0%）、"
        "微山县（40.0%）排名靠后；鱼台县、微山县共2个单位开工率低于全市平均水平（76.9%）。"
    )
    (table,) = [blk.table for blk in section if blk.kind == "table"]
    assert table.caption == "表1  各县（市、区）老旧小区改造进展排名"
    assert table.headers == ["排名", "县（市、区）", "小区（个）", "户数（户）", "小区（个）", "户数（户）", "开工率（%）",
                             "小区（个）", "户数（户）", "完工率（%）", "百分点", "名次"]
    assert [c.group for c in table.columns] == [None, None, "年度任务", "年度任务", "已开工", "已开工", "已开工",
                                                "已完工", "已完工", "已完工", "开工率较上周\n变化", "开工率较上周\n变化"]
    assert list(table.rows) == [
        ("1", "兖州区", "5", "2000", "5", "2000", "100.0", "1", "400", "20.0", "+0.0", "—"),
        ("1", "太白湖新区※", "2", "700", "2", "700", "100.0", "0", "0", "0.0", "+0.0", "—"),
        ("3", "任城区", "10", "4000", "8", "3000", "80.0", "2", "800", "20.0", "+10.0", "—"),
        ("4", "鱼台县", "4", "1600", "3", "1200", "75.0", "0", "0", "0.0", "+50.0", "↑1"),
        ("5", "微山县", "5", "2000", "2", "800", "40.0", "0", "0", "0.0", "+0.0", "↓1"),
        ("—", "济宁经济技术开发区", "无年度任务", "", "", "", "", "", "", "", "", ""),
        ("—", "全市", "26", "10300", "20", "7700", "76.9", "3", "1200", "11.5", "+11.5", "—"),
    ]
    assert table.spans == {5: 2} and table.bold_rows == frozenset({6})
    assert table.note == ("注：按开工率排名，并列者名次相同，按行政区划顺序排列；变化为与上周相比；"
                          "※年度任务不足3个小区的单位，比率仅供参考。")
    assert b.praised == ("兖州区", "太白湖新区", "任城区")
    assert b.criticised == ("鱼台县", "微山县")  # 任城区 is third from the bottom but also in the top three
    assert texts(section)[1:] == [
        "（一）通报表扬。对开工率位列全市前三的兖州区（100.0%）、太白湖新区（100.0%）、任城区（80.0%）予以通报表扬。",
        "（二）通报批评。对开工率排名后三位、进展缓慢的鱼台县（75.0%）、微山县（40.0%）予以通报批评。"
        "请以上单位认真查找原因，倒排工期、挂图作战，确保完成年度目标任务。",
    ]
    assert b.rule == "按开工率排名，前三名通报表扬，后三名通报批评"
    # the small-unit mark follows the setting
    plain = hand_bulletin(office=OfficeSettings(small_unit_compounds=2))
    assert all("※" not in row[1] for row in plain.tables[0].rows) and "※" not in plain.tables[0].note


@pytest.mark.parametrize(
    ("office", "praised", "criticised", "rule"),
    [
        (OfficeSettings(praise_top_n=1, criticise_bottom_n=1), ["370812", "Z02"], ["370826"],
         "按开工率排名，第一名通报表扬，末位通报批评"),
        # 鱼台县 is 1.9 points below the city's 76.9 %, 微山县 36.9: only 微山县 is 10 points or more below
        (OfficeSettings(praise_top_n=0, criticise_bottom_n=0, criticise_below_average_pp=10), [], ["370826"],
         "按开工率排名，不作通报表扬，低于全市平均10个百分点及以上的通报批评"),
        (OfficeSettings(praise_top_n=2, criticise_bottom_n=0, criticise_below_average_pp=1.9), ["370812", "Z02"],
         ["370827", "370826"], "按开工率排名，前二名通报表扬，低于全市平均1.9个百分点及以上的通报批评"),
        (OfficeSettings(praise_top_n=5, criticise_bottom_n=5), ["370812", "Z02", "370811", "370827"], ["370826"],
         "按开工率排名，前五名通报表扬，后五名通报批评"),
    ],
)
def test_evaluation_rule_from_settings(office, praised, criticised, rule):
    progress = hand_progress()
    units = progress[progress["kind"] != "city"]
    got = bulletin.evaluate(units, rank_by="start_rate_compounds", city_value=20 / 26, office=office)
    assert got == (praised, criticised)  # top 5 of 5 leaves out the worst (微山县): nobody is praised for last place
    assert office.rule_text("开工率") == rule


def test_evaluation_when_everyone_ties_names_nobody():
    progress = hand_progress()
    units = progress[progress["kind"] != "city"].assign(start_rate_compounds=0.5, rank=1.0)
    assert bulletin.evaluate(units, rank_by="start_rate_compounds", city_value=0.5, office=OfficeSettings()) == ([], [])
    b = hand_bulletin(progress=pd.concat([units, progress[progress["kind"] == "city"]]))
    assert b.praised == () and b.criticised == ()
    assert texts(b.section("二、各县（市、区）进展排名"))[1:] == [
        "（一）通报表扬。本期无符合表扬条件的单位，不作通报表扬。", "（二）通报批评。各单位开工率相当，本期不作通报批评。"]


def test_two_tables_rank_counties_and_zones_each_on_their_own():
    b = hand_bulletin(office=OfficeSettings(ranking_tables="two"))
    county, zone = b.tables[:2]
    assert county.caption == "表1  县（市、区）老旧小区改造进展排名" and zone.caption == "表2  功能区老旧小区改造进展排名"
    assert [(r[0], r[1]) for r in county.rows] == [("1", "兖州区"), ("2", "任城区"), ("3", "鱼台县"), ("4", "微山县"),
                                                  ("—", "全市")]
    assert [(r[0], r[1]) for r in zone.rows] == [("1", "太白湖新区※"), ("—", "济宁经济技术开发区")]
    assert zone.rows[1][2] == "无年度任务"
    assert texts(b.section("二、各县（市、区）进展排名"))[0].startswith(
        "县（市、区）中，按开工率排名，兖州区（100.0%）、任城区（80.0%）、鱼台县（75.0%）位列前三，微山县（40.0%）排名靠后；"
        "功能区中，按开工率排名，太白湖新区（100.0%）位列第一")
    # four counties: the top three are praised (鱼台县 too), 微山县 is criticised; a zone ranked alone is neither
    assert b.praised == ("兖州区", "任城区", "鱼台县") and b.criticised == ("微山县",)


def test_payments_problems_and_requirements_are_written_from_the_figures():
    b = hand_bulletin()
    pay = b.section("三、资金支付")
    assert texts(pay) == [
        "截至2020年6月26日，全市2020年度改造项目累计下达资金1,050.00万元、到位850.00万元、已支付270.00万元，"
        "资金支付率10.4%，同期投资完成率21.9%；本周新增支付70.00万元。"]
    (table,) = [blk.table for blk in pay if blk.kind == "table"]
    assert table.rows[0] == ("任城区", "1,000.00", "600.00", "500.00", "100.00", "10.0", "40.0")
    assert table.rows[-1] == ("全市", "2,600.00", "1,050.00", "850.00", "270.00", "10.4", "21.9")
    assert len(table.rows) == 6  # five units with money, then the city; the unit without a task has none
    assert texts(b.section("四、存在问题")) == [
        "（一）部分单位进度低于全市平均。鱼台县（75.0%）、微山县（40.0%）共2个单位开工率低于全市平均水平（76.9%），"
        "其中微山县低于全市平均36.9个百分点。",
        "（二）部分项目进度滞后。全市共有2个小区未按计划节点推进，其中2个超过计划开工日期仍未开工、1个超过计划完工日期"
        "仍未完工，分布在任城区（1个）、微山县（1个）；滞后时间最长的是任城区甲小区（35天）。",
        "（三）督导发现问题整改超期。截至2020年6月26日，督导发现问题尚有2个未整改销号，其中1个已超过整改期限：微山县1个；"
        "超期最长的是微山县“施工现场围挡缺失”（质量安全，超期10天）。",
        "（四）资金支付滞后于工程进度。任城区（支付率10.0%、投资完成率40.0%）资金支付率低于投资完成率20个百分点以上，"
        "存在资金拨付不及时的问题。",
    ]
    behind = [blk.table for blk in b.section("四、存在问题") if blk.kind == "table"][0]
    assert behind.caption == "表3  进度滞后项目"
    assert list(behind.rows) == [
        ("1", "任城区", "甲小区", "未开工", "2020-05-22", "2020-06-01", "35",
         "计划开工日期已过仍未开工；计划完工日期已过仍未完工"),
        ("2", "微山县", "乙小区", "已立项", "2020-06-06", "2020-11-30", "20", "计划开工日期已过仍未开工"),
    ]
    assert texts(b.section("五、下步工作要求")) == [
        "（一）加快滞后项目进度。任城区（1个）、微山县（1个）要对超过计划开工日期仍未开工的小区倒排工期，于下期周调度"
        "（2020年7月3日）前全部开工；任城区（1个）要对超过计划完工日期仍未完工的小区制定赶工计划，于下期周调度"
        "（2020年7月3日）前报送完工时间表。",
        "（二）追赶全市平均进度。鱼台县、微山县要对照年度任务查找差距，力争于下期周调度（2020年7月3日）前开工率达到"
        "全市平均水平（76.9%）。",
        "（三）限期整改督导问题。微山县（1个）要对超过整改期限的督导问题逐项整改，于下期周调度（2020年7月3日）前完成整改并销号。",
        "（四）加快资金拨付。任城区要加快资金拨付，于下期周调度（2020年7月3日）前将资金支付进度提高到与工程进度相匹配。",
        "（五）落实整改责任。被通报批评的鱼台县、微山县要于2020年7月3日前向市老旧小区改造工作指挥部办公室书面报告原因及整改措施。",
        "（六）确保完成年度任务。各县（市、区）要对照2020年度目标任务，确保剩余6个小区于2020年12月31日前全部开工、"
        "23个小区于2020年12月31日前全部完工。",
    ]


def test_sections_without_problems_or_money_say_so():
    progress = hand_progress()
    level = progress.assign(start_rate_compounds=1.0, rank=progress["rank"].where(progress["kind"] == "city", 1.0))
    level.loc[level["unit_code"] == "Z03", ["start_rate_compounds", "rank"]] = float("nan")
    b = hand_bulletin(progress=level, behind=hand_behind().iloc[0:0], payments=None, findings=hand_findings().iloc[0:0])
    assert texts(b.section("三、资金支付")) == [
        "截至2020年6月26日，2020年度改造项目尚无资金下达、到位和支付记录，请各县（市、区）及时报送资金拨付情况。"]
    assert texts(b.section("四、存在问题")) == [
        "本期各单位进展均不低于全市平均水平，无滞后项目、超期未整改问题和资金支付明显滞后的情况。"]
    assert [t.split("。")[0] for t in texts(b.section("五、下步工作要求"))] == ["（一）确保完成年度任务"]


def test_compose_rejects_bad_input():
    with pytest.raises(InputError, match=r"`progress` lacks the columns \['rank'"):
        hand_bulletin(progress=hand_progress().drop(columns=["rank"]))
    with pytest.raises(InputError, match="`kind` was 'year'"):
        hand_bulletin(issue=hand_issue(kind="year"))
    with pytest.raises(InputError, match="`rank_by` was 'speed'"):
        bulletin.compose(hand_facts(), hand_issue(), rank_by="speed", is_demo=False)
    with pytest.raises(InputError, match="no city-total row"):
        hand_bulletin(progress=hand_progress().iloc[:4])


def test_wording_helpers():
    assert bulletin.change_text(0.00049, "较上周") == "与上周持平"
    assert bulletin.change_text(-0.0351, "较上月") == "较上月下降3.5个百分点"
    assert bulletin.money_text(12345.678) == "1.23亿元" and bulletin.money_text(987.6) == "987.60万元"


# ------------------------------------------------------------------------------------ column widths
def cell_widths_fit(table: bulletin.Table, widths: list[float], measure, padding: float) -> list[str]:
    """Cells (and header lines) wider than their column: the things that would break."""
    problems = []
    for i, row in enumerate(table.rows):
        stop = table.spans.get(i, len(row))
        for j, text in enumerate(row[:stop]):
            if not table.columns[j].wrap and measure(text) + padding > widths[j] + 1e-6:
                problems.append(text)
    return problems


def test_column_widths_come_from_the_content_and_fill_the_text_width():
    b = hand_bulletin()
    for table in b.tables:
        size, widths = table_layout(table)
        measure = lambda text, s=size: layout.word_width_pt(text, s)  # noqa: E731
        assert sum(widths) == pytest.approx(TEXT_WIDTH_PT)
        assert cell_widths_fit(table, widths, measure, CELL_PADDING_PT) == []
        for column, width in zip(table.columns, widths):
            assert width >= max(measure(line) for line in column.label.split("\n")) + CELL_PADDING_PT - 1e-6
    # 五号 where a table fits; the ranking with 济宁经济技术开发区 on one line takes 小五
    assert [table_layout(t)[0] for t in b.tables] == [9.0, 10.5, 10.5]
    ranking = b.tables[0]
    size, widths = table_layout(ranking)
    # the unit column is the widest of the ranking (济宁经济技术开发区 on one line), 排名 and 名次 the narrowest
    assert widths[1] == max(widths) and widths[0] == min(widths[:2] + widths[2:])


def test_column_widths_known_answer_and_no_fit():
    table = bulletin.Table((bulletin.Column("名称"), bulletin.Column("数量\n（个）")),
                           (("甲乙丙丁", "12"), ("甲", "123456")))
    one_em = len  # every character one unit wide
    # needs: col 0 = max(4 + 1, 2 + 1) = 5; col 1 = max(6 + 1, 3 + 1) = 7; spare 12 - 12 = 0
    assert layout.column_widths(table, measure=one_em, available=12, padding=1) == [5, 7]
    # spare width shared in proportion: 24 = 5 * 2 + 7 * 2
    assert layout.column_widths(table, measure=one_em, available=24, padding=1) == [10, 14]
    assert layout.column_widths(table, measure=one_em, available=11, padding=1) is None  # "123456" never breaks
    # a header may break between characters (never inside "（个）") when nothing else fits
    narrow = bulletin.Table((bulletin.Column("开工小区数量"), bulletin.Column("甲")), (("1", "2"),))
    assert layout.column_widths(narrow, measure=one_em, available=9, padding=1) == pytest.approx([7, 2])
    assert layout.narrowest_header("开工率\n（%）", one_em) == 3
    assert layout.word_width_pt("13,837.42", 10) == pytest.approx((7 * 0.5 + 2 * 0.25) * 10)
    assert layout.word_width_pt("县（市、区）", 9) == 6 * 9


# ------------------------------------------------------------------------------ the files, read back
def tiny_png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 240), colour).save(out, "PNG")
    return out.getvalue()


def docx_table_cells(table) -> list[list[str]]:
    """Rows of a Word table as text, each merged cell once, in its first row (python-docx repeats a merged
    cell in every grid column and row it covers)."""
    out, seen = [], []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):
                continue
            seen.append(cell._tc)
            cells.append(cell.text)
        out.append(cells)
    return out


def header_cells(table: bulletin.Table) -> list[list[str]]:
    """The header rows as a reader sees them: a group's label once over its columns, a column without a group
    once over both rows."""
    if not table.has_groups:
        return [[c.label for c in table.columns]]
    top, bottom, previous = [], [], None
    for column in table.columns:
        if column.group is None:
            top.append(column.label)
        else:
            if column.group != previous:
                top.append(column.group)
            bottom.append(column.label)
        previous = column.group
    return [top, bottom]


def body_texts(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text]


def test_docx_reads_back_with_every_section_fonts_and_fixed_tables():
    b = hand_bulletin()
    document = docx.Document(io.BytesIO(bulletin.to_docx(b, charts=[bulletin.ChartImage("图表甲", tiny_png())])))
    got = body_texts(document)
    assert got[:5] == ["济宁市老旧小区改造工作周调度", "（2020年第17期）", "济旧改指办〔2020〕17号",
                       "济宁市老旧小区改造工作指挥部办公室\t2020年6月26日", bulletin.DEMO_MARK]
    assert bulletin.DEMO_MARK in document.sections[0].header.paragraphs[0].text
    expected = [blk.full_text for blk in b.blocks if blk.kind in ("heading", "paragraph")]
    in_order = [t for t in got if t in expected]
    assert in_order == expected  # every heading and paragraph, in the document's order
    assert got[-4:] == [*b.distribution_lines, b.printed_line]
    assert "图1  图表甲" in got and len(document.inline_shapes) == 1
    assert len(document.tables) == len(b.tables) == 3
    for spec, table in zip(b.tables, document.tables):
        cells = docx_table_cells(table)
        n_header = 2 if spec.has_groups else 1
        body = [[c for c in row] for row in cells[n_header:]]
        for i, row in enumerate(spec.rows):
            start = spec.spans.get(i)
            assert body[i] == (list(row) if start is None else list(row[:start + 1]))
        assert cells[:n_header] == header_cells(spec)
        # fixed layout with the widths in the grid, the table and every cell
        tbl = table._tbl
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        grid = [int(c.get(qn("w:w"))) for c in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert int(tbl.tblPr.find(qn("w:tblW")).get(qn("w:w"))) == sum(grid)
        _size, widths = table_layout(spec)
        assert grid == [round(w * 20) for w in widths]
        first = table.rows[n_header]._tr.findall(qn("w:tc"))
        assert int(first[0].find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) == grid[0]
    ranking = docx_table_cells(document.tables[0])
    assert ranking[0][:4] == ["排名", "县（市、区）", "年度任务", "已开工"]
    assert ranking[1][:3] == ["小区\n（个）", "户数\n（户）", "小区\n（个）"]
    assert ranking[-2][:3] == ["—", "济宁经济技术开发区", "无年度任务"]  # one merged cell to the row's end
    runs = [r for p in document.paragraphs for r in p.runs if r.text]
    east_asian = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
    assert east_asian <= {"方正小标宋简体", "黑体", "仿宋", "宋体", "楷体"} and {"仿宋", "楷体", "黑体"} <= east_asian
    leads = [p for p in document.paragraphs if p.text.startswith("（一）通报表扬。")]
    assert [r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in leads[0].runs] == ["楷体", "仿宋"]
    font_table = next(p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
    assert '<w:font w:name="仿宋"><w:altName w:val="FangSong"/><w:charset w:val="86"/>' in font_table.blob.decode()
    assert round(document.sections[0].page_width.mm) == 210 and round(document.sections[0].page_height.mm) == 297
    assert document.core_properties.title == b.full_title


def test_docx_without_demo_has_no_mark():
    document = docx.Document(io.BytesIO(bulletin.to_docx(hand_bulletin(is_demo=False))))
    assert not any(bulletin.DEMO_MARK in p.text for p in document.paragraphs)
    assert not any(bulletin.DEMO_MARK in p.text for p in document.sections[0].header.paragraphs)


def _to_unicode(font) -> dict[bytes, str]:
    """A Type0 font's ToUnicode map: 2-byte code -> text (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[bytes.fromhex(code)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, start in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code.to_bytes(2, "big")] = chr(int(start, 16) + k)
    return out


def flat_text(pdf: pypdf.PdfReader) -> str:
    """All text, whitespace removed, read through each font's ToUnicode map from the content streams.

    (pypdf's own extraction mis-reads fpdf2's CID fonts once a subset has more than 255 glyphs.)
    """
    from pypdf.generic import ContentStream

    out = []
    for page in pdf.pages:
        fonts = {name: _to_unicode(f.get_object()) for name, f in (page["/Resources"].get("/Font") or {}).items()}
        current: dict[bytes, str] = {}
        for operands, op in ContentStream(page.get_contents(), pdf).operations:
            if op == b"Tf":
                current = fonts.get(operands[0], {})
            elif op in (b"Tj", b"TJ"):
                for item in (operands[0] if op == b"TJ" else [operands[0]]):
                    raw = getattr(item, "original_bytes", None)
                    if raw is None:
                        continue
                    out.append("".join(current.get(raw[i:i + 2], "") for i in range(0, len(raw), 2)))
    return re.sub(r"\s+", "", "".join(out))


def cjk_fonts_embedded(pdf: pypdf.PdfReader) -> set[str]:
    names = set()
    for page in pdf.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", []):
                desc = desc.get_object()
                descriptor = desc["/FontDescriptor"].get_object()
                if "/FontFile3" in descriptor or "/FontFile2" in descriptor:
                    names.add(str(desc["/BaseFont"]))
    return {n for n in names if "CJK" in n}


@pytest.mark.skipif(not HAS_CJK_FONT, reason="needs fonts-noto-cjk")
def test_pdf_reads_back_with_every_section_and_embeds_a_cjk_font():
    b = hand_bulletin()
    data = bulletin.to_pdf(b, fonts=export.bulletin_pdf_fonts(), charts=[bulletin.ChartImage("图表甲", tiny_png())])
    pdf = pypdf.PdfReader(io.BytesIO(data))
    text = flat_text(pdf)
    assert text.count(bulletin.DEMO_MARK) == len(pdf.pages) + 1  # every page's header and under the title
    text = re.sub(r"—\d+—", "", text.replace(bulletin.DEMO_MARK, ""))  # running header and page numbers
    parts = [b.title, b.issue_text, b.doc_number, b.office, "图1图表甲", *b.distribution_lines,
             *[blk.full_text for blk in b.blocks if blk.kind in ("heading", "paragraph")]]
    for part in parts:
        assert re.sub(r"\s+", "", part) in text, part
    for table in b.tables:
        for i, row in enumerate(table.rows):
            stop = table.spans.get(i)
            assert "".join(row if stop is None else row[:stop + 1]) in text
    fonts = cjk_fonts_embedded(pdf)
    assert any("NotoSerifCJK" in f for f in fonts) and any("NotoSansCJK" in f for f in fonts), fonts
    assert pdf.metadata.title == b.full_title


# ------------------------------------------------------------------------------- the page's preview
class _Text(HTMLParser):
    """Paragraph texts and table cells of the preview, in order."""

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self.cells: list[str] = []
        self._tag: str | None = None
        self._buf = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "h3", "td", "th"):
            self._tag, self._buf = tag, ""
        elif tag == "br":
            self._buf += "\n"

    def handle_endtag(self, tag):
        if tag == self._tag:
            (self.cells if tag in ("td", "th") else self.blocks).append(self._buf)
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            self._buf += data


def test_preview_shows_what_the_word_file_holds():
    b = hand_bulletin()
    before, after = bulletin_html.html_parts(b)
    parser = _Text()
    parser.feed(before + after)
    document = docx.Document(io.BytesIO(bulletin.to_docx(b)))
    # the same paragraphs in the same order (the Word file sets office and date apart with a tab)
    issuer = "济宁市老旧小区改造工作指挥部办公室\t2020年6月26日"  # the preview sets the two apart in one row
    assert [t for t in parser.blocks if t] == [t for t in body_texts(document) if t != issuer]
    word_cells = [c for table in document.tables for row in docx_table_cells(table) for c in row]
    assert parser.cells == word_cells
    assert "<script" not in before + after
    escaped = bulletin_html.to_html(replace(b, distribution=(("发", "<b>各县</b>"),)))
    assert "&lt;b&gt;各县&lt;/b&gt;" in escaped and "<b>各县</b>" not in escaped
