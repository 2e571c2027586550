"""Printed handouts (dashboard/handout.py): what the page says, the paper it is printed on, the picture of the
map, fonts that travel with the file and text that copies as written."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from dashboard import export, handout
from dashboard.ui import Kpi

needs_chromium = pytest.mark.skipif(not export.preflight().ok, reason="Chromium or the CJK fonts are missing")

HANDOUT = handout.Handout(
    title="济宁市老旧小区改造工作总览",
    meta=["2020年度改造计划 · 截至 2020-12-25", "数据来源：演示数据"],
    demo_mark="演示数据（非真实统计）",
    kpis=[Kpi("已开工小区（个）", "68", "计划 68 个"), Kpi("完工率", "63.2%", "+2.9 个百分点")],
    tables=[("各县区完工率排名", handout.Table(["名次", "县区", "完工率"],
                                           [["1", "鱼台县", "100.0%"], ["2", "老城区<b>", "50.0%"], ["", "全市", "63.2%"]],
                                           numeric=frozenset({0, 2}), bold=frozenset({2}), marked=frozenset({0})))],
    footer="济宁市老旧小区改造工作指挥部办公室",
)


def test_table_of_formats_like_the_page():
    frame = pd.DataFrame({"名次": pd.array([1, None], dtype="Int64"), "县区": ["任城区", "全市"],
                          "户数": pd.array([4900, 26000], dtype="Int64"), "率": [97.54, 88.7], "万元": [14094.844, 1.0]})
    table = handout.table_of(frame, decimals={"万元": 2}, bold=[1])
    assert table.rows == [["1", "任城区", "4,900", "97.5", "14,094.84"], ["—", "全市", "26,000", "88.7", "1.00"]]
    assert table.numeric == frozenset({0, 2, 3, 4}) and table.bold == frozenset({1})


def test_page_html_escapes_and_sizes_for_the_paper():
    page = handout.page_html(HANDOUT, paper="A3")
    assert "@page { size: 420mm 297mm;" in page and "font-size: 12.0pt" in page
    assert "老城区&lt;b&gt;" in page and "<b>" not in page.split("<body>")[1]
    assert "<tr class='marked'><td class='num'>1</td><td class=''>鱼台县</td>" in page
    assert "<tr class='bold'>" in page and "<img" not in page
    assert "<img alt='map' src='data:image/png;base64," in handout.page_html(HANDOUT, paper="A4", map_png=b"\x89PNG")


@needs_chromium
@pytest.mark.parametrize(("paper", "size_pt"), [("A4", (841.9, 595.3)), ("A3", (1190.6, 841.9))])
def test_printed_page_is_landscape_paper_with_fonts_and_text_as_written(paper, size_pt):
    data = handout.pdf(HANDOUT, paper=paper)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size_pt, abs=1.0)
    text = reader.pages[0].extract_text()
    for line in ("济宁市老旧小区改造工作总览", "2020年度改造计划 · 截至 2020-12-25", "演示数据（非真实统计）",
                 "已开工小区（个）", "68", "63.2%", "1 鱼台县 100.0%", "全市 63.2%"):
        assert line in text, line
    assert not re.search("[\u2e80-\u2fdf]", text)  # ideographs, not the radicals that share their glyphs
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    names = {str(f["/FontDescriptor"].get_object()["/FontName"]).split("+")[-1] for f in fonts}
    assert names <= {"NotoSansCJKsc-Regular", "NotoSansCJKsc-Bold"}, names
    assert all(f["/Subtype"] == "/Type3" and len(f["/CharProcs"]) > 0 or "/FontFile2" in f["/FontDescriptor"]
               or "/FontFile3" in f["/FontDescriptor"] for f in fonts)


def test_radicals_map_back_to_the_ideographs_that_share_their_glyphs():
    mapping = handout._radical_to_ideograph("NotoSansCJKsc-Regular")
    if not mapping:
        pytest.skip("Noto Sans CJK SC is not installed")
    assert mapping[0x2F7C] == ord("老") and mapping[0x2EE5] == ord("鱼") and mapping[0x2F3E] == ord("户")
    cmap = b"1 beginbfchar\n<07> <2F7C>\nendbfchar\n1 beginbfrange\n<08> <09> <4E00>\nendbfrange"
    assert handout._cmap_entries(cmap) == {7: "\u2f7c", 8: "一", 9: "丁"}
