"""XLSX and CSV exports: Chinese headers with units, frozen header, number formats, official county order."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from analytics import progress, settings
from dashboard import tables

AS_OF = date(2026, 11, 27)  # the demo's today: the current year mid-flight, compounds behind
OFFICIAL = [*settings.COUNTY_ORDER, *settings.FUNCTION_ZONES, "370800"]


@pytest.fixture(scope="module")
def county_table(demo_con) -> pd.DataFrame:
    return progress.county_progress(demo_con, as_of=AS_OF)


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _header_index(ws, header: str) -> int:
    headers = [c.value for c in ws[1]]
    assert header in headers, headers
    return headers.index(header) + 1


def test_xlsx_county_progress_headers_units_order_formats(county_table):
    shuffled = county_table.sample(frac=1, random_state=7)
    assert list(shuffled["unit_code"]) != list(county_table["unit_code"])
    wb = _open(tables.xlsx_bytes({"县区进度": shuffled}, lang="zh"))
    ws = wb["县区进度"]
    assert ws.freeze_panes == "A2"
    assert ws.cell(1, 1).font.bold
    # counties in the official order, zones after them, the city row last — whatever order came in
    codes = [ws.cell(r, _header_index(ws, "单位代码")).value for r in range(2, ws.max_row + 1)]
    assert codes == [c for c in OFFICIAL if c in set(codes)]
    assert codes[-1] == "370800" and codes[0] == "370811"
    # units in the header, rates as percentages with one decimal, money with two
    rate_col = _header_index(ws, "开工率（按小区，%）")
    hh_col = _header_index(ws, "计划户数（户）")
    money_col = _header_index(ws, "完成投资（万元）")
    area_col = _header_index(ws, "计划建筑面积（平方米）")
    chg_col = _header_index(ws, "开工率较上周变化（百分点）")
    assert ws.cell(2, rate_col).number_format == "0.0"
    assert ws.cell(2, money_col).number_format == "#,##0.00"
    assert ws.cell(2, hh_col).number_format == "#,##0"
    assert ws.cell(2, chg_col).number_format == "+0.0;-0.0;0.0"
    by_code = county_table.set_index("unit_code")
    for r in range(2, ws.max_row + 1):
        row = by_code.loc[ws.cell(r, 1).value]
        assert ws.cell(r, rate_col).value == pytest.approx(row["start_rate_compounds"] * 100)
        assert ws.cell(r, money_col).value == pytest.approx(row["invest_done_wan"])
        assert ws.cell(r, hh_col).value == row["planned_households"]
        assert ws.cell(r, area_col).value == pytest.approx(row["planned_floor_area_m2"])
    city = by_code.loc["370800"]
    assert ws.cell(ws.max_row, rate_col).value == pytest.approx(city["start_rate_compounds"] * 100)
    # booleans read as 是/否
    flag_col = _header_index(ws, "低于全市平均")
    assert {ws.cell(r, flag_col).value for r in range(2, ws.max_row + 1)} <= {"是", "否"}


def test_xlsx_several_sheets_and_notes(county_table, demo_con):
    behind = progress.behind_schedule(demo_con, as_of=AS_OF)
    data = tables.xlsx_bytes({"进度": county_table, "滞后": behind}, notes={"数据来源": "演示数据"}, lang="zh")
    wb = _open(data)
    assert wb.sheetnames == ["进度", "滞后", "说明"]
    ws = wb["滞后"]
    assert ws.max_row == len(behind) + 1
    days = _header_index(ws, "滞后时间（天）")
    assert [ws.cell(r, days).value for r in range(2, ws.max_row + 1)] == list(behind["days_late"])
    start = _header_index(ws, "计划开工日期")
    assert ws.cell(2, start).number_format == "yyyy-mm-dd"
    assert ws.cell(2, start).value.date() == behind["planned_start_date"].iloc[0].date()
    assert [c.value for c in wb["说明"][1]] == ["数据来源", "演示数据"]


def test_csv_has_bom_and_display_headers(county_table):
    data = tables.csv_bytes(county_table, lang="zh")
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"单位代码": str})
    assert "开工率（按小区，%）" in back.columns and "名称" in back.columns
    assert list(back["名称"]) == list(county_table["name"])
    assert back["开工率（按小区，%）"].tolist() == pytest.approx((county_table["start_rate_compounds"] * 100).tolist())


def test_multi_row_per_county_keeps_its_order_and_gets_county_names():
    frame = pd.DataFrame({
        "id": ["c3", "c1", "c2"], "county_code": ["370883", "370811", "370883"],
        "households": [120, 80, 300], "willingness_pct": [91.5, 80.0, 66.25], "has_elevator": [True, False, True],
        "missing_types": [["clinic", "market"], [], ["parking"]],
    })
    shown, formats = tables.display_frame(frame, lang="zh")
    assert list(shown["编号"]) == ["c3", "c1", "c2"]  # a ranked list is not re-sorted
    assert list(shown["县区"]) == ["邹城市", "任城区", "邹城市"]
    assert list(shown["户数（户）"]) == [120, 80, 300]
    assert list(shown["居民改造意愿（%）"]) == [91.5, 80.0, 66.25]  # already a percentage: not scaled
    assert list(shown["有无电梯"]) == ["是", "否", "是"]
    assert list(shown["缺失设施"]) == ["clinic、market", "", "parking"]
    assert formats[list(shown.columns).index("户数（户）")] == "#,##0"


def test_columns_pick_order_and_rename(county_table):
    shown, _ = tables.display_frame(county_table, columns=["name", "started"], lang="zh")
    assert list(shown.columns) == ["名称", "已开工"]
    renamed, _ = tables.display_frame(county_table, columns={"started": "开工数", "name": "单位"}, lang="zh")
    assert list(renamed.columns) == ["开工数", "单位"]
    assert list(renamed["单位"]) == list(county_table["name"])


def test_english_headers(county_table):
    shown, _ = tables.display_frame(county_table, columns=["name", "start_rate_compounds", "invest_done_wan"], lang="en")
    assert list(shown.columns) == ["Name", "Start rate (compounds, %)", "Investment done (10,000 yuan)"]


def test_empty_frame_and_sheet_names():
    empty = pd.DataFrame({"county_code": pd.Series(dtype=str), "households": pd.Series(dtype="int64")})
    wb = _open(tables.xlsx_bytes({"a/b:c?": empty, "A/B:C?": empty}, lang="zh"))
    assert wb.sheetnames == ["数据", "数据_2"]  # names a sheet cannot have: short names, the titles inside
    ws = wb["数据"]
    assert ws.cell(1, 1).value == "a/b:c?" and wb["数据_2"].cell(1, 1).value == "A/B:C?"
    assert ws.max_row == 2 and [c.value for c in ws[2]] == ["县区代码", "县区", "户数（户）"]
    long = _open(tables.xlsx_bytes(pd.DataFrame({"x": [1]}), sheet="很长的工作表名称" * 5))
    assert long.sheetnames == ["数据"] and long.worksheets[0].cell(1, 1).value == "很长的工作表名称" * 5


def test_geometry_column_is_dropped(demo_layers):
    compounds = demo_layers["compounds"].head(3)
    shown, _ = tables.display_frame(compounds, lang="zh")
    assert "geometry" not in shown.columns and "编号" in shown.columns


def test_a_phone_shows_the_key_columns_of_a_table_first():
    from dashboard.downloads import key_columns

    # a compound's code gives way to its name; then the first columns
    assert key_columns(["小区编号", "小区名称", "县区", "户数", "状态"]) == ["小区名称", "县区", "户数"]
    # without a name column the code is what names the row
    assert key_columns(["小区编号", "县区", "户数", "状态"]) == ["小区编号", "县区", "户数"]
    assert key_columns(["排名", "县区"]) == ["排名", "县区"]


def test_missing_values_are_empty_cells_in_xlsx_and_csv():
    """pd.NA (nullable integers, strings), NaT and NaN are written as empty cells, never refused."""
    frame = pd.DataFrame({
        "rank": pd.array([1, None], dtype="Int64"),
        "name": pd.array(["甲小区", None], dtype="string"),
        "planned_start_date": [pd.Timestamp("2020-11-17"), pd.NaT],
        "invest_done_wan": pd.array([12.5, None], dtype="Float64"),
        "note": ["x", pd.NA],
    })
    ws = _open(tables.xlsx_bytes({"表": frame}, lang="zh"))["表"]
    assert [c.value for c in ws[3]] == [None] * 5
    assert ws.cell(2, 1).value == 1 and ws.cell(2, 2).value == "甲小区"
    assert ws.cell(2, 4).value == pytest.approx(12.5)
    text = tables.csv_bytes(frame, lang="zh").decode("utf-8-sig")
    assert text.split("\r\n")[2] == ",,,,"
