"""The 周调度/月通报: sentences from the figures, tables equal to county_progress, DOCX/PDF read back, the command."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date

import docx
import numpy as np
import pandas as pd
import pypdf
import pytest
from docx.oxml.ns import qn
from PIL import Image

from analytics import progress
from analytics.errors import DataError, InputError
from analytics.services import bulletin
from dashboard import export
from scripts import bulletin as bulletin_cli

WEEK = date(2020, 6, 26)
MONTH = date(2020, 9, 30)
HAS_EXPORT = export.preflight().ok


# --------------------------------------------------------------------- a hand-built period, known answers


def hand_progress(*, first_issue: bool = False) -> pd.DataFrame:
    rows = [
        # unit, name, planned, households, started, started_hh, completed, invest plan, done, rank, chg, rank_chg
        ("370811", "任城区", 10, 4000, 8, 3000, 2, 1000.0, 400.0, 2, 0.10, 1),
        ("370812", "兖州区", 5, 2000, 5, 2000, 1, 500.0, 100.0, 1, 0.00, 0),
        ("370826", "微山县", 5, 2000, 2, 800, 0, 500.0, 50.0, 4, 0.00, -2),
        ("370827", "鱼台县", 4, 1600, 3, 1200, 0, 400.0, 0.0, 3, 0.25, 1),
    ]
    frame = pd.DataFrame(rows, columns=[
        "unit_code", "name", "planned_compounds", "planned_households", "started", "started_households",
        "completed", "planned_invest_wan", "invest_done_wan", "rank", "start_rate_compounds_chg_week",
        "rank_chg_week"])
    frame["kind"] = "county"
    city = {"unit_code": "370800", "name": "济宁市", "kind": "city", "rank": np.nan, "rank_chg_week": np.nan,
            "start_rate_compounds_chg_week": np.nan if first_issue else 0.05}
    for col in ("planned_compounds", "planned_households", "started", "started_households", "completed",
                "planned_invest_wan", "invest_done_wan"):
        city[col] = frame[col].sum()
    frame = pd.concat([frame, pd.DataFrame([city])], ignore_index=True)
    frame["name_en"] = frame["name"]
    frame["planned_floor_area_m2"] = frame["planned_households"] * 87.5
    frame["approved"] = frame["planned_compounds"]
    frame["start_rate_compounds"] = frame["started"] / frame["planned_compounds"]
    frame["start_rate_households"] = frame["started_households"] / frame["planned_households"]
    frame["completion_rate"] = frame["completed"] / frame["planned_compounds"]
    frame["invest_rate"] = frame["invest_done_wan"] / frame["planned_invest_wan"]
    frame["completion_rate_chg_week"] = [0.0] * 4 + [np.nan if first_issue else 0.0]
    frame["invest_rate_chg_week"] = [0.01] * 4 + [np.nan if first_issue else -0.01]
    for col in ("start_rate_compounds", "completion_rate", "invest_rate"):
        frame[f"{col}_chg_month"] = np.nan
    city_rate = frame.loc[4, "start_rate_compounds"]
    frame["below_city_average"] = [False, False, True, False, False]
    assert frame.loc[2, "start_rate_compounds"] < city_rate
    frame["top_three"] = [True, True, False, True, False]
    frame["bottom_three"] = [True, False, True, True, False]
    for col, value in (("elevators_added", 3), ("parking_spaces", 40), ("chargers", 12), ("facilities_added", 2),
                       ("pipes_km", 4.25)):
        frame[col] = [value] * 5
    return frame


def hand_behind() -> pd.DataFrame:
    return pd.DataFrame({
        "compound_id": ["370826-2020-001", "370811-2020-004"], "name": ["乙小区", "甲小区"],
        "county_code": ["370826", "370811"], "unit_code": ["370826", "370811"], "status": ["已立项", "未开工"],
        "planned_start_date": pd.to_datetime(["2020-06-06", "2020-05-22"]),
        "planned_completion_date": pd.to_datetime(["2020-11-30", "2020-06-01"]),
        "days_late": [20, 35], "reason": ["start_overdue", "start_overdue;completion_overdue"],
        "last_report_date": pd.to_datetime(["2020-06-26", "2020-06-26"]),
    })


def hand_bulletin(**kwargs) -> bulletin.Bulletin:
    options = {"kind": "week", "as_of": WEEK, "report_date": WEEK, "previous_date": date(2020, 6, 19), "issue": 17,
               "rank_by": "start_rate_compounds", "is_demo": True}
    options.update(kwargs)
    frame = options.pop("progress", None)
    return bulletin.compose(hand_progress() if frame is None else frame, hand_behind(), **options)


def test_summary_sentences_are_written_from_the_figures():
    b = hand_bulletin()
    assert b.full_title == "济宁市老旧小区改造工作周调度（2020年第17期）"
    assert b.period_text == "2020年6月20日至2020年6月26日"
    assert b.summary[0] == (
        "截至2020年6月26日，全市2020年度计划改造老旧小区24个、0.96万户、建筑面积84.0万平方米，计划总投资"
        "2,400.00万元。已立项24个；已开工18个、7000户，开工率75.0%（按户数72.9%），较上周提高5.0个百分点；"
        "已完工3个，完工率12.5%，与上周持平；累计完成投资550.00万元，投资完成率22.9%，较上周下降1.0个百分点。"
    )
    assert b.summary[1] == ("累计加装电梯3部，新增停车位40个、充电设施12个、养老托育等服务设施2处，"
                            "改造各类管网4.2公里。")
    assert b.summary[2] == (
        "按开工率排名，兖州区（100.0%）、任城区（80.0%）、鱼台县（75.0%）位列前三；微山县（40.0%）排名后三位；"
        "微山县共1个县（市、区）开工率低于全市平均水平（75.0%）。"
    )


def test_praise_and_criticism_name_top_and_bottom():
    b = hand_bulletin()
    assert b.praised == ["任城区", "兖州区", "鱼台县"]
    assert b.criticised == ["微山县"]  # 任城区 and 鱼台县 are in the bottom three of four but also in the top three
    assert b.praise == "对开工率位列全市前三的兖州区（100.0%）、任城区（80.0%）、鱼台县（75.0%）予以通报表扬。"
    assert b.criticism.startswith("对开工率排名全市后三位、进展缓慢的微山县（40.0%）予以通报批评，")


def test_ranking_rows_and_behind_rows():
    b = hand_bulletin()
    rows = bulletin.ranking_rows(b.progress, kind="week", rank_by=b.rank_by)
    assert [r[1] for r in rows] == ["兖州区", "任城区", "鱼台县", "微山县", "全市"]
    assert rows[1] == ["2", "任城区", "10", "8", "80.0", "2", "20.0", "400.00", "40.0", "+10.0", "↑1"]
    assert rows[3][-1] == "↓2" and rows[0][-1] == "—"
    assert rows[4] == ["—", "全市", "24", "18", "75.0", "3", "12.5", "550.00", "22.9", "+5.0", "—"]
    assert bulletin.ranking_headers("week", "start_rate_compounds")[-2:] == ["开工率较上周变化（百分点）", "排名变化"]
    names = dict(zip(b.progress["unit_code"], b.progress["name"]))
    assert bulletin.behind_rows(b.behind, names) == [
        ["1", "任城区", "甲小区", "未开工", "2020-05-22", "2020-06-01", "35",
         "计划开工日期已过仍未开工；计划完工日期已过仍未完工"],
        ["2", "微山县", "乙小区", "已立项", "2020-06-06", "2020-11-30", "20", "计划开工日期已过仍未开工"],
    ]
    assert b.behind_summary == ("全市共有2个小区未按计划节点推进，其中2个超过计划开工日期仍未开工、1个超过计划完工日期"
                                "仍未完工；滞后时间最长的是任城区甲小区（35天）。请有关县（市、区）督促加快推进，按期完成。")


def test_first_issue_and_empty_behind():
    b = bulletin.compose(hand_progress(first_issue=True), hand_behind().iloc[0:0], kind="week", as_of=WEEK,
                         report_date=WEEK, previous_date=None, issue=1, rank_by="start_rate_compounds", is_demo=False)
    assert "较上周" not in b.summary[0] and b.summary[0].endswith("（本期为2020年度首次统计，无上期数据可比。）")
    assert b.behind_summary == "全市计划内小区均按计划节点推进，无滞后项目。"
    assert bulletin.change_text(0.00049, "较上周") == "与上周持平"
    assert bulletin.money_text(12345.678) == "1.23亿元" and bulletin.money_text(987.6) == "987.60万元"


def test_compose_rejects_bad_input():
    with pytest.raises(InputError, match=r"`progress` lacks the columns \['rank'"):
        hand_bulletin(progress=hand_progress().drop(columns=["rank"]))
    with pytest.raises(InputError, match="`kind` was 'year'"):
        hand_bulletin(kind="year")
    with pytest.raises(InputError, match="`rank_by` was 'speed'"):
        hand_bulletin(rank_by="speed")
    with pytest.raises(InputError, match="no city-total row"):
        hand_bulletin(progress=hand_progress().iloc[:4])


# ---------------------------------------------------------------------------------- layout, read back


def tiny_png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 240), colour).save(out, "PNG")
    return out.getvalue()


def test_docx_reads_back_with_east_asian_fonts_and_demo_mark():
    b = hand_bulletin()
    document = docx.Document(io.BytesIO(bulletin.to_docx(b, charts=[bulletin.ChartImage("图表甲", tiny_png())])))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "济宁市老旧小区改造工作周调度" and texts[1] == "（2020年第17期）"
    assert texts[2] == "济宁市老旧小区改造工作指挥部办公室\t2020年6月26日"
    assert bulletin.DEMO_MARK in texts and bulletin.DEMO_MARK in document.sections[0].header.paragraphs[0].text
    for sentence in b.summary:
        assert sentence in texts
    assert f"（一）通报表扬。{b.praise}" in texts and f"（二）通报批评。{b.criticism}" in texts
    assert "图1  图表甲" in texts and len(document.inline_shapes) == 1
    ranking, behind = document.tables
    assert [c.text for c in ranking.rows[0].cells] == bulletin.ranking_headers("week", "start_rate_compounds")
    assert [[c.text for c in row.cells] for row in ranking.rows[1:]] == bulletin.ranking_rows(
        b.progress, kind="week", rank_by=b.rank_by)
    assert len(behind.rows) == 3
    # every run names its East Asian font; the font table declares them with the GB2312 charset
    east_asian = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in document.paragraphs for r in p.runs if r.text}
    assert east_asian <= {"方正小标宋简体", "黑体", "仿宋", "宋体"} and "仿宋" in east_asian
    table_fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for c in ranking.rows[1].cells
                   for p in c.paragraphs for r in p.runs}
    assert table_fonts == {"宋体"}
    font_table = next(p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
    assert '<w:font w:name="仿宋"><w:altName w:val="FangSong"/><w:charset w:val="86"/>' in font_table.blob.decode()
    assert round(document.sections[0].page_width.mm) == 210 and round(document.sections[0].page_height.mm) == 297
    assert document.core_properties.title == b.full_title


def test_docx_without_demo_has_no_mark():
    document = docx.Document(io.BytesIO(bulletin.to_docx(hand_bulletin(is_demo=False))))
    assert not any(bulletin.DEMO_MARK in p.text for p in document.paragraphs)
    assert not document.sections[0].header.paragraphs or not any(
        bulletin.DEMO_MARK in p.text for p in document.sections[0].header.paragraphs)


def flat_text(pdf: pypdf.PdfReader) -> str:
    """All text, whitespace removed. pypdf pads each glyph of fpdf2's CID-keyed CFF fonts with a space or NUL
    (it measures glyphs by code rather than through the embedded encoding CMap); the text itself comes
    from the font's ToUnicode map, so the characters are exact."""
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in pdf.pages))


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


@pytest.mark.skipif(export.find_cjk_font("sans") is None, reason="needs fonts-noto-cjk")
def test_pdf_reads_back_and_embeds_a_cjk_font():
    b = hand_bulletin()
    data = bulletin.to_pdf(b, fonts=export.bulletin_pdf_fonts(), charts=[bulletin.ChartImage("图表甲", tiny_png())])
    pdf = pypdf.PdfReader(io.BytesIO(data))
    text = flat_text(pdf)
    for part in (b.title, b.issue_text, b.office, bulletin.DEMO_MARK, *b.summary, b.praise, "图1图表甲"):
        assert re.sub(r"\s+", "", part) in text
    for row in bulletin.ranking_rows(b.progress, kind="week", rank_by=b.rank_by):
        assert "".join(row) in text
    fonts = cjk_fonts_embedded(pdf)
    assert any("NotoSerifCJK" in f for f in fonts) and any("NotoSansCJK" in f for f in fonts), fonts
    assert pdf.metadata.title == b.full_title


# ------------------------------------------------------------------------------ the demo data, for real


@pytest.fixture(scope="module")
def week_issue(demo_con) -> bulletin.Bulletin:
    return bulletin.build_bulletin(demo_con, as_of=WEEK, kind="week")


def test_bulletin_numbers_equal_county_progress(demo_con, week_issue):
    cp = progress.county_progress(demo_con, as_of=WEEK)
    periods = progress.report_periods(demo_con)
    assert week_issue.report_date == WEEK
    assert week_issue.issue == int(periods.loc[periods.report_date == WEEK, "issue_week"].iloc[0])
    assert week_issue.rank_by == "start_rate_compounds"  # compounds are still to start in June
    rows = {r[1]: r for r in bulletin.ranking_rows(week_issue.progress, kind="week", rank_by=week_issue.rank_by)}
    assert len(rows) == len(cp)
    for _, unit in cp.iterrows():
        row = rows["全市" if unit["kind"] == "city" else unit["name"]]
        assert row[0] == ("—" if unit["kind"] == "city" else str(int(unit["rank"])))
        assert row[2:9] == [str(unit["planned_compounds"]), str(unit["started"]),
                            f"{unit['start_rate_compounds'] * 100:.1f}", str(unit["completed"]),
                            f"{unit['completion_rate'] * 100:.1f}", f"{unit['invest_done_wan']:,.2f}",
                            f"{unit['invest_rate'] * 100:.1f}"]
        assert row[9] == f"{unit['start_rate_compounds_chg_week'] * 100:+.1f}"
    city = cp[cp.kind == "city"].iloc[0]
    assert f"已开工{city['started']}个" in week_issue.summary[0]
    assert f"开工率{city['start_rate_compounds'] * 100:.1f}%" in week_issue.summary[0]
    assert f"投资完成率{city['invest_rate'] * 100:.1f}%" in week_issue.summary[0]
    assert f"较上周提高{city['start_rate_compounds_chg_week'] * 100:.1f}个百分点" in week_issue.summary[0]
    assert week_issue.praised == list(cp[cp.top_three & (cp.kind != "city")]["name"])
    assert set(week_issue.criticised) == set(cp[cp.bottom_three & ~cp.top_three]["name"])
    behind = progress.behind_schedule(demo_con, as_of=WEEK)
    names = dict(zip(cp["unit_code"], cp["name"]))
    assert [r[2] for r in bulletin.behind_rows(week_issue.behind, names)] == list(behind["name"])
    assert f"全市共有{len(behind)}个小区未按计划节点推进" in week_issue.behind_summary
    assert week_issue.is_demo


def test_month_bulletin_ranks_by_completion_once_all_started(demo_con):
    b = bulletin.build_bulletin(demo_con, as_of=MONTH, kind="month")
    cp = progress.county_progress(demo_con, as_of=MONTH, rank_by="completion_rate")
    assert b.full_title == "济宁市老旧小区改造工作月通报（2020年第9期）"
    assert b.period_start == date(2020, 9, 1) and b.period_end == b.report_date <= MONTH
    assert b.rank_by == "completion_rate" and b.summary[2].startswith("按完工率排名")
    city = cp[cp.kind == "city"].iloc[0]
    assert city["start_rate_compounds"] == 1
    assert f"完工率{city['completion_rate'] * 100:.1f}%" in b.summary[0]
    assert f"较上月提高{city['completion_rate_chg_month'] * 100:.1f}个百分点" in b.summary[0]
    assert bulletin.ranking_headers("month", b.rank_by)[-1] == "完工率较上月变化（百分点）"


def test_build_bulletin_errors(demo_con):
    with pytest.raises(InputError, match="`rank_by` was 'fastest'"):
        bulletin.build_bulletin(demo_con, as_of=WEEK, kind="week", rank_by="fastest")
    with pytest.raises(DataError, match="no progress report on or before `as_of` 2020-01-03"):
        bulletin.build_bulletin(demo_con, as_of=date(2020, 1, 3), kind="week")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_EXPORT, reason="needs chromium and fonts-noto-cjk")
def test_bulletin_files_with_charts(demo_con):
    try:
        files = export.bulletin_files(demo_con, as_of=WEEK, kind="week")
    finally:
        export.shutdown()
    assert files.notes == ()
    document = docx.Document(io.BytesIO(files.docx))
    assert len(document.inline_shapes) == 3
    pngs = [part.blob for part in document.part.related_parts.values() if part.content_type == "image/png"]
    sizes = {Image.open(io.BytesIO(png)).size for png in pngs}
    assert sizes == {(2 * 1000, 2 * 560)}
    pdf = pypdf.PdfReader(io.BytesIO(files.pdf))
    text = flat_text(pdf)
    assert "图1各县区开工率、完工率" in text and "图3全市累计开工、完工小区数" in text
    city = files.bulletin.progress.iloc[-1]
    assert f"开工率{city['start_rate_compounds'] * 100:.1f}%" in text
    assert cjk_fonts_embedded(pdf)
    images = sum(len(page.images) for page in pdf.pages)
    assert images == 3


# ------------------------------------------------------------------------------------------ command


@pytest.fixture(scope="module")
def db_copy(demo_db_path, tmp_path_factory):
    target = tmp_path_factory.mktemp("bulletin") / "copy.duckdb"
    shutil.copy(demo_db_path, target)
    return target


def test_command_writes_docx_and_pdf(db_copy, tmp_path):
    out = tmp_path / "out" / "周调度.docx"
    assert bulletin_cli.main(["--kind", "week", "--date", "2020-06-26", "--out", str(out), "--db", str(db_copy),
                              "--no-charts"]) == 0
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert texts[:2] == ["济宁市老旧小区改造工作周调度", "（2020年第17期）"]
    if export.find_cjk_font("sans") is not None:
        pdf_out = tmp_path / "月通报.pdf"
        assert bulletin_cli.main(["--kind", "month", "--date", "2020-09-30", "--out", str(pdf_out), "--db",
                                  str(db_copy), "--no-charts"]) == 0
        assert "济宁市老旧小区改造工作月通报" in flat_text(pypdf.PdfReader(str(pdf_out)))


def test_command_rejects_bad_arguments(db_copy, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "2020-06-26", "--out", str(tmp_path / "x.txt")])
    assert stop.value.code == 2 and "must end in .docx or .pdf" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "26/06/2020", "--out", str(tmp_path / "x.docx")])
    assert stop.value.code == 2 and "must be a date like 2020-06-26" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "2020-06-26", "--out", str(tmp_path / "x.docx"),
                           "--db", str(tmp_path / "none.duckdb")])
    assert stop.value.code == 2 and "no such database file" in capsys.readouterr().err
    assert bulletin_cli.main(["--kind", "week", "--date", "2019-05-01", "--out", str(tmp_path / "x.docx"),
                              "--db", str(db_copy), "--no-charts"]) == 1
    assert not (tmp_path / "x.docx").exists()


# ---------------------------------------------------------------------------------------------- button

BUTTON_APP = """
from datetime import date
from dashboard import bulletin_ui
bulletin_ui.bulletin_button(as_of={as_of}, kind="week")
"""


def test_button_says_which_package_is_missing_and_still_offers_the_documents(demo_db_path, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("JIUGAI_CHROMIUM", str(tmp_path / "no-chromium"))
    export.preflight(refresh=True)
    try:
        at = AppTest.from_string(BUTTON_APP.format(as_of="date(2020, 6, 26)"), default_timeout=60).run()
        assert not at.get("download_button")
        at.button(key="bulletin-make-week").click().run()
        assert not at.exception and not at.error
        assert [w.value for w in at.warning] == [
            "通报中未附图表：本机缺少系统软件包 chromium，无法导出图片（否则中文会显示为方框）。"
            "请安装：sudo apt-get install chromium"]
        assert [b.proto.label for b in at.get("download_button")] == ["下载 Word", "下载 PDF"]
        assert [c.value for c in at.caption] == ["济宁市老旧小区改造工作周调度（2020年第17期）"]
    finally:
        monkeypatch.undo()
        export.preflight(refresh=True)
    empty = AppTest.from_string(BUTTON_APP.format(as_of="None"), default_timeout=30).run()
    assert [i.value for i in empty.info] == ["请先在侧栏选择截至日期。"] and not empty.button


def test_wrap_cjk_keeps_numbers_whole_and_punctuation_attached():
    assert bulletin.wrap_cjk("截至2020年6月26日，全市", 5, len) == ["截至", "2020年", "6月26", "日，全市"]
    assert bulletin.wrap_cjk("甲乙（丙丁）。", 3, len) == ["甲乙", "（丙", "丁）。"]  # "（" never ends a line
    assert bulletin.wrap_cjk("开工率77.9%，", 4, len, first_indent=2) == ["开工", "率", "77.9%，"]
    assert bulletin.wrap_cjk("", 10, len) == []
