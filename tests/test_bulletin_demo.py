"""The 周调度/月通报 on the demo data: comparison dates, numbers, figures equal to ``county_progress``, every
section in every issue, the command line, the button, the files as LibreOffice reads them, the charts'
value labels as drawn."""

from __future__ import annotations

import calendar
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import docx
import pandas as pd
import pypdf
import pytest
from PIL import ImageFont

from analytics import progress, settings
from analytics.errors import DataError, InputError
from analytics.services import bulletin
from analytics.store import demo_programme
from dashboard import charts, export
from scripts import bulletin as bulletin_cli
from tests.page_helpers import use_copy
from tests.test_bulletin import flat_text

WEEK = date(2026, 6, 26)  # the current plan year, mid-season (its 17th weekly report)
HAS_EXPORT = export.preflight().ok
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def november(demo_con) -> bulletin.Bulletin:
    return bulletin.build_bulletin(demo_con, as_of=date(2026, 11, 30), kind="month")


@pytest.fixture(scope="module")
def week_issue(demo_con) -> bulletin.Bulletin:
    return bulletin.build_bulletin(demo_con, as_of=WEEK, kind="week")


def test_november_bulletin_compares_with_the_last_report_of_october(november):
    assert (november.report_date, november.previous_date) == (date(2026, 11, 27), date(2026, 10, 30))
    assert november.period_text == "2026年11月1日至2026年11月27日"
    assert november.full_title == "济宁市老旧小区改造工作月通报（2026年第9期）"  # the year's reports start in March
    assert november.doc_number == "济旧改指办〔2026〕9号"
    overview = [b.full_text for b in november.section("一、总体进展")]
    assert overview[2].startswith("本月（2026年10月30日以来）新增开工")


def test_weekly_dispatch_compares_with_the_week_before(week_issue):
    assert (week_issue.report_date, week_issue.previous_date, week_issue.number) == (WEEK, date(2026, 6, 19), 17)
    assert week_issue.rank_by == "start_rate_compounds"  # compounds are still to start in June


@pytest.mark.parametrize("kind", ["week", "month"])
def test_ranking_table_equals_county_progress(demo_con, week_issue, november, kind):
    issue = week_issue if kind == "week" else november
    cp = progress.county_progress(demo_con, as_of=issue.report_date, rank_by=issue.rank_by)
    before = progress.county_progress(demo_con, as_of=issue.previous_date, rank_by=issue.rank_by)
    table = issue.tables[0]
    ordered = progress.ranking_order(cp)
    rows = {r[1].rstrip(bulletin.SMALL_MARK): r for r in table.rows if r[2] != bulletin.NO_TASK}
    assert list(rows) == [*ordered["name"].iloc[:-1], "全市"]
    # the zone without a 2026 task is listed, not dropped, before the city row
    assert [r[1] for r in table.rows if r[2] == bulletin.NO_TASK] == ["济宁经济技术开发区"]
    prev = before.set_index("unit_code")
    for _, unit in ordered.iterrows():
        row = rows["全市" if unit["kind"] == "city" else unit["name"]]
        assert row[0] == ("—" if unit["kind"] == "city" else str(int(unit["rank"])))
        assert row[2:10] == (str(unit["planned_compounds"]), str(unit["planned_households"]), str(unit["started"]),
                             str(unit["started_households"]), f"{unit['start_rate_compounds'] * 100:.1f}",
                             str(unit["completed"]), str(unit["completed_households"]),
                             f"{unit['completion_rate'] * 100:.1f}")
        change = unit[f"{issue.rank_by}_chg_{kind}"]
        assert row[10] == f"{change * 100:+.1f}"
        assert change == pytest.approx(unit[issue.rank_by] - prev.at[unit["unit_code"], issue.rank_by])
    city = cp[cp.kind == "city"].iloc[0]
    overview = " ".join(b.full_text for b in issue.section("一、总体进展"))
    assert f"已开工{city['started']}个、{city['started_households']}户" in overview
    assert f"投资完成率{city['invest_rate'] * 100:.1f}%" in overview
    behind = progress.behind_schedule(demo_con, as_of=issue.report_date)
    assert f"全市共有{len(behind)}个小区未按计划节点推进" in " ".join(b.full_text for b in issue.section("四、存在问题"))


def test_november_bulletin_names_the_two_planted_payments_above_receipts(demo_con, november):
    """The demo's two compounds paid more than received (``FLOW_ANOMALIES``, 2024 and 2025 batches) are named in
    三、资金支付 with the excess summed from the movements themselves, in the Word and PDF files alike."""
    rows = []
    for year, k in demo_programme.FLOW_ANOMALIES:
        cid = sorted(r[0] for r in demo_con.execute("SELECT id FROM compounds WHERE plan_year = ?", [year]).fetchall())[k]
        name, unit, unit_name = demo_con.execute(
            "SELECT c.name, u.unit_code, u.name FROM compounds c JOIN units u ON u.unit_code = "
            "coalesce(c.zone_code, c.county_code) WHERE c.id = ?", [cid]).fetchone()
        per_source = demo_con.execute(
            "SELECT source, sum(amount_wan) FILTER (WHERE stage = 'paid') AS paid, "
            "coalesce(sum(amount_wan) FILTER (WHERE stage = 'received'), 0) AS received FROM fund_flows "
            "WHERE compound_id = ? AND flow_date <= ? GROUP BY source", [cid, november.report_date]).fetchdf()
        over = per_source[per_source["paid"] > per_source["received"] * (1 + settings.FLOW_TOLERANCE)]
        sources = [settings.FUNDING_SOURCES[s][0] for s in settings.FUNDING_SOURCES if s in set(over["source"])]
        which = "、".join(sources) if len(sources) <= 3 else f"{sources[0]}等{len(sources)}个资金渠道"
        excess = round(float((over["paid"] - over["received"]).sum()), 2)
        assert excess > 0
        rows.append((unit, f"{unit_name}{year}年度{name}已支付资金超过到位资金{excess:,.2f}万元（{which}），请核实拨付凭证。"))
    ranked = list(progress.ranking_order(november.progress)["unit_code"])
    expected = [f"{i}.{text}" for i, (_unit, text) in
                enumerate(sorted(rows, key=lambda r: ranked.index(r[0])), start=1)]
    section = [b.full_text for b in november.section("三、资金支付") if b.kind == "paragraph"]
    assert section[1:] == ["经核查，截至2026年11月27日，全市2026年度及以前年度改造项目有2处资金拨付顺序异常：", *expected]
    units = [u for u, _text in sorted(rows, key=lambda r: ranked.index(r[0]))]
    names = dict(zip(november.progress["unit_code"], november.progress["name"]))
    asked = [b.full_text for b in november.section("五、下步工作要求") if "核实资金拨付记录" in b.full_text]
    assert len(asked) == 1 and f"核实资金拨付记录。{'、'.join(names[u] for u in units)}要" in asked[0]
    document = [p.text for p in docx.Document(io.BytesIO(bulletin.to_docx(november))).paragraphs]
    assert all(line in document for line in expected)
    if export.find_cjk_font("sans") is not None:
        text = flat_text(pypdf.PdfReader(io.BytesIO(bulletin.to_pdf(november, fonts=export.bulletin_pdf_fonts()))))
        assert all(re.sub(r"\s+", "", line) in text for line in expected)


def test_every_issue_of_the_demo_has_every_section(demo_con):
    months = [date(2026, m, calendar.monthrange(2026, m)[1]) for m in range(3, 12)]  # to the demo's today
    weeks = [date(2026, 3, 6), date(2026, 11, 27)]
    seen = set()
    for kind, days in (("month", months), ("week", weeks)):
        for day in days:
            issue = bulletin.build_bulletin(demo_con, as_of=day, kind=kind)
            assert issue.headings == list(bulletin.SECTION_TITLES), (kind, day)
            assert issue.distribution_lines and issue.tables[0].rows[-1][1] == "全市"
            seen.add((kind, issue.number))
            if kind == "month" and issue.previous_date is not None:
                assert issue.previous_date.month == (issue.report_date.month - 2) % 12 + 1
    assert {n for k, n in seen if k == "month"} == set(range(1, 10))  # March (第1期) to November (第9期)
    assert {n for k, n in seen if k == "week"} == {1, 39}


def test_build_bulletin_errors(demo_con):
    with pytest.raises(InputError, match="`rank_by` was 'fastest'"):
        bulletin.build_bulletin(demo_con, as_of=WEEK, kind="week", rank_by="fastest")
    with pytest.raises(DataError, match="no progress report on or before `as_of` 2020-01-03"):
        bulletin.build_bulletin(demo_con, as_of=date(2020, 1, 3), kind="week")


# ------------------------------------------------------------------------------------------ command
@pytest.fixture(scope="module")
def db_copy(demo_db_path, tmp_path_factory):
    target = tmp_path_factory.mktemp("bulletin") / "copy.duckdb"
    shutil.copy(demo_db_path, target)
    return target


def test_command_writes_docx_and_pdf_and_registers_the_issue(db_copy, tmp_path):
    out = tmp_path / "out" / "周调度.docx"
    assert bulletin_cli.main(["--kind", "week", "--date", "2026-06-26", "--out", str(out), "--db", str(db_copy),
                              "--no-charts"]) == 0
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert texts[:3] == ["济宁市老旧小区改造工作周调度", "（2026年第17期）", "济旧改指办〔2026〕17号"]
    from analytics import store

    con = store.connect(db_copy)
    try:
        assert con.execute("SELECT kind, period, issue FROM bulletins").fetchall() == [("week", WEEK, 17)]
    finally:
        con.close()
    if export.find_cjk_font("sans") is not None:
        pdf_out = tmp_path / "月通报.pdf"
        assert bulletin_cli.main(["--kind", "month", "--date", "2026-09-30", "--out", str(pdf_out), "--db",
                                  str(db_copy), "--no-charts"]) == 0
        assert "济宁市老旧小区改造工作月通报（2026年第7期）" in flat_text(pypdf.PdfReader(str(pdf_out)))


def test_command_rejects_bad_arguments(db_copy, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "2026-06-26", "--out", str(tmp_path / "x.txt")])
    assert stop.value.code == 2 and "must end in .docx or .pdf" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "26/06/2020", "--out", str(tmp_path / "x.docx")])
    assert stop.value.code == 2 and "must be a date like 2020-06-26" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        bulletin_cli.main(["--kind", "week", "--date", "2026-06-26", "--out", str(tmp_path / "x.docx"),
                           "--db", str(tmp_path / "none.duckdb")])
    assert stop.value.code == 2 and "no such database file" in capsys.readouterr().err
    assert bulletin_cli.main(["--kind", "week", "--date", "2019-05-01", "--out", str(tmp_path / "x.docx"),
                              "--db", str(db_copy), "--no-charts"]) == 1
    assert not (tmp_path / "x.docx").exists()


# ---------------------------------------------------------------------------------------------- button
BUTTON_APP = """
from datetime import date
from dashboard import bulletin_ui
bulletin_ui.bulletin_panel(as_of={as_of}, kind="week")
"""


def test_panel_shows_the_evaluation_then_makes_the_files_saying_what_is_missing(demo_db_path, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    use_copy(demo_db_path, tmp_path / "panel.duckdb", monkeypatch)  # making an issue enters it in the register
    monkeypatch.setenv("JIUGAI_CHROMIUM", str(tmp_path / "no-chromium"))
    export.preflight(refresh=True)
    try:
        at = AppTest.from_string(BUTTON_APP.format(as_of="date(2026, 6, 26)"), default_timeout=90).run()
        assert not at.exception and not at.error
        assert [c.value for c in at.caption][0].startswith(
            "济宁市老旧小区改造工作周调度（2026年第17期） · 济旧改指办〔2026〕17号 · 统计周期 2026年6月20日至2026年6月26日"
            " · 对比 2026年6月19日")
        markdown = [m.value for m in at.markdown]
        assert "**督导评价规则**：按开工率排名，前三名通报表扬，后三名通报批评" in markdown
        assert any(m.startswith("**本期通报表扬**：") for m in markdown)
        assert not at.get("download_button")
        at.button(key="bulletin-make-week").click().run()
        assert not at.exception and not at.error
        assert [w.value for w in at.warning] == [
            "通报中未附图表：本机缺少系统软件包 chromium，无法导出图片（否则中文会显示为方框）。"
            "请安装：sudo apt-get install chromium"]
        assert [b.proto.label for b in at.get("download_button")] == ["下载 Word", "下载 PDF"]
    finally:
        monkeypatch.undo()
        export.preflight(refresh=True)
    empty = AppTest.from_string(BUTTON_APP.format(as_of="None"), default_timeout=30).run()
    assert [i.value for i in empty.info] == ["请先在侧栏选择截至日期。"] and not empty.button


@pytest.mark.slow
@pytest.mark.skipif(not HAS_EXPORT, reason="needs chromium and fonts-noto-cjk")
def test_bulletin_files_with_charts(db_copy):
    from analytics import store

    con = store.connect(db_copy)
    try:
        files = export.bulletin_files(con, as_of=WEEK, kind="week")
    finally:
        export.shutdown()
        con.close()
    assert files.notes == ()
    document = docx.Document(io.BytesIO(files.docx))
    assert len(document.inline_shapes) == 3
    text = flat_text(pypdf.PdfReader(io.BytesIO(files.pdf)))
    assert "图1各县区开工率、完工率" in text and "图3全市累计开工、完工小区数" in text
    assert sum(len(page.images) for page in pypdf.PdfReader(io.BytesIO(files.pdf)).pages) == 3


# ------------------------------------------------------------------------------ as an office reads it
@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (optional)")
def test_libreoffice_opens_the_docx_and_keeps_names_and_numbers_on_one_line(november, tmp_path):
    source = tmp_path / "november.docx"
    source.write_bytes(bulletin.to_docx(november))
    run = subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                         capture_output=True, text=True, timeout=240)
    out = tmp_path / "november.pdf"
    assert run.returncode == 0 and out.exists(), run.stderr
    lines = [line.strip() for page in pypdf.PdfReader(str(out)).pages for line in page.extract_text().splitlines()]
    # each row of the ranking table is one line: its unit name and every figure, in order, unbroken
    for row in november.tables[0].rows:
        cells = [c for c in row if c]
        pattern = r"\s*".join(re.escape(c) for c in cells)
        assert any(re.fullmatch(pattern, line) for line in lines), (cells, [ln for ln in lines if row[1] in ln])
    header = next(line for line in lines if line.startswith("排名"))
    assert "县（市、区）" in header


# ------------------------------------------------------------------------------------ chart labels
def _label_boxes(svg: bytes, font_path: str, font_index: int) -> list[tuple[float, float, float, float, str]]:
    """Boxes (x0, y0, x1, y1) of the bars' value labels as plotly placed them, text measured with the font."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    boxes = []
    for text in root.iterfind(".//s:text", ns):
        if "bartext" not in (text.get("class") or ""):
            continue
        size = float(re.search(r"font-size:\s*([\d.]+)px", text.get("style")).group(1))
        font = ImageFont.truetype(font_path, size=round(size * 10), index=font_index)
        width = font.getlength(text.text) / 10
        transform = text.get("transform") or ""
        tx, ty = (float(v) for v in re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", transform).groups())
        scale = float(re.search(r"scale\(([-\d.e]+)\)", transform).group(1)) if "scale(" in transform else 1.0
        rotated = re.search(r"rotate\((-?90)", transform) is not None
        w, h = width * scale, size * scale
        if rotated:  # upright text centred on its bar
            boxes.append((tx - h / 2, ty - w, tx + h / 2, ty, text.text))
        else:
            boxes.append((tx - w / 2, ty - h, tx + w / 2, ty, text.text))
    return boxes


@pytest.mark.slow
@pytest.mark.skipif(not HAS_EXPORT, reason="needs chromium and fonts-noto-cjk")
def test_bar_value_labels_never_collide_as_drawn(november):
    face = export.find_cjk_font("sans")
    figures = [charts.county_rates_chart(november.progress, lang="zh"),
               charts.invest_rate_chart(november.progress, lang="zh")]
    # 14 units all at 100.0: the tightest case
    crowded = november.progress.copy()
    extra = crowded[crowded.kind != "city"].head(3).assign(kind="zone", unit_code=["Z1", "Z2", "Z3"],
                                                          name=["甲区", "乙区", "丙区"])
    crowded = pd.concat([crowded.iloc[:-1], extra, crowded.iloc[-1:]], ignore_index=True)
    crowded[["start_rate_compounds", "completion_rate"]] = 1.0
    figures.append(charts.county_rates_chart(crowded, lang="zh"))
    try:
        svgs = export.figures_bytes([charts.style_figure(f, title="图", lang="zh") for f in figures], "svg")
    finally:
        export.shutdown()
    for svg in svgs:
        boxes = _label_boxes(svg, str(face.path), face.index)
        assert len(boxes) >= 12
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                overlap = min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
                assert not overlap, (a, b)
