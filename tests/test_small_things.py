"""The small things a new user trips over: metric map scales, no arrow or colour for a zero change, integer
legends without overlapping classes, ties named 并列, dates without midnight, short XLSX sheet names."""

from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import maps, tables


def test_map_scale_is_metric_only():
    m = maps.base_map(basemap="none", show_notice=False)
    html = m.get_root().render()
    assert re.search(r'L\.control\.scale\(\{[^)]*"imperial": false', html), re.findall(r"L\.control\.scale\([^)]*\)", html)
    assert "L.control.scale()" not in html


def _cards() -> None:
    from dashboard.ui import Kpi, metric_cards

    metric_cards([Kpi("开工率", "50.0%", "+0.0 个百分点"), Kpi("完工率", "40.0%", "-0.0 个百分点"),
                  Kpi("投资完成率", "30.0%", "+1.2 个百分点"), Kpi("名次", "3", "-2")])


def test_a_zero_change_has_no_arrow_no_colour_and_no_sign():
    at = AppTest.from_function(_cards)
    at.run()
    cards = {m.label: m for m in at.metric}
    for label in ("开工率", "完工率"):
        assert cards[label].delta == "0.0 个百分点"
        assert cards[label].proto.direction == cards[label].proto.NONE
        assert cards[label].proto.color == cards[label].proto.GRAY
    assert cards["投资完成率"].proto.direction == cards["投资完成率"].proto.UP
    assert cards["投资完成率"].proto.color == cards["投资完成率"].proto.GREEN
    assert cards["名次"].proto.direction == cards["名次"].proto.DOWN


def test_integer_legends_have_classes_that_do_not_overlap(demo_layers):
    counties = demo_layers["counties"]
    counts = pd.Series([4, 5, 6, 7, 8, 9, 9, 4, 6, 8, 5][: len(counties)], index=counties["county_code"])
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_counties(m, counties, values=counts, value_label="小区数", fmt=maps.fmt_int)
    legend = next(c for c in m._children.values() if isinstance(c, maps.Legend))
    labels = re.findall(r"(\d+)\s*–\s*(\d+)", legend.html)  # what the legend box shows
    classes = [(int(a), int(b)) for a, b in labels]
    assert classes == [(4, 5), (6, 7), (8, 9)], classes
    layer_colours = {}
    for value in counts:
        layer_colours.setdefault(value, set()).add(maps.class_color(value, maps.class_breaks(counts)))
    assert layer_colours[5] == layer_colours[4] and layer_colours[6] != layer_colours[5]
    assert maps.class_breaks([0.5, 10.0]) == pytest.approx([0.5, 2.4, 4.3, 6.2, 8.1, 10.0])  # rates: equal steps


def test_ties_in_the_top_three_are_named():
    import importlib

    compose = importlib.import_module("analytics.services.bulletin.compose")

    units = pd.DataFrame({"unit_code": ["a", "b", "c", "d", "e"], "name": ["甲区", "乙区", "丙区", "丁区", "戊区"],
                          "rank": [1, 2, 3, 3, 5], "start_rate_compounds": [0.9, 0.8, 0.7, 0.7, 0.5]})
    text = compose.top_text(units, rank_by="start_rate_compounds", n_top=3)
    assert text == "甲区（90.0%）、乙区（80.0%）、丙区（70.0%）、丁区（70.0%）位列前三（丙区、丁区并列第三）", text
    plain = compose.top_text(units.iloc[[0, 1, 2, 4]].assign(rank=[1, 2, 3, 4]), rank_by="start_rate_compounds",
                             n_top=3)
    assert plain == "甲区（90.0%）、乙区（80.0%）、丙区（70.0%）位列前三"


def test_table_dates_show_without_midnight():
    frame = pd.DataFrame({"日期": pd.to_datetime(["2020-11-17", "2020-11-20"]), "n": [1, 2],
                          "时间": pd.to_datetime(["2020-11-17 08:30", "2020-11-20 00:00"])})
    shown = tables.dates_only(frame)
    assert [str(v) for v in shown["日期"]] == ["2020-11-17", "2020-11-20"]
    assert shown["时间"].dtype == frame["时间"].dtype  # a time of day is kept


def test_xlsx_sheet_names_are_short_and_the_full_title_is_inside():
    frame = pd.DataFrame({"households": [1, 2]})
    title = "progress_behind_370811_2020-11-27"
    ws = openpyxl.load_workbook(io.BytesIO(tables.xlsx_bytes({title: frame}, lang="zh"))).worksheets[0]
    assert len(ws.title) <= 31 and "2020-11-2" not in ws.title or "2020-11-27" in ws.title
    assert ws.title == "数据"
    assert ws.cell(1, 1).value == title  # the full title on the sheet, above the table
    assert [c.value for c in ws[2]] == ["户数（户）"] and ws.cell(3, 1).value == 1
    assert ws.freeze_panes == "A3"
    short = openpyxl.load_workbook(io.BytesIO(tables.xlsx_bytes({"进度": frame}, lang="zh"))).worksheets[0]
    assert short.title == "进度" and short.cell(1, 1).value == "户数（户）"  # a name that fits stays as it is
