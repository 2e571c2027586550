"""Fill-in workbooks (导入模板) for the programme's tables: what the office fills and uploads on the data page.

``template_workbook(con, kind)`` writes three sheets: ``填报`` (the header row the import recognises, in
Chinese with the English name under it, drop-down lists for the enumerated columns; fill below it),
``示例`` (two example rows naming stored units and compounds, so that importing the example sheet itself
works) and ``说明`` (each column: required or not, unit, allowed values).
"""

from __future__ import annotations

import io

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics import cells, settings
from analytics._sql import scalar
from analytics.errors import InputError
from analytics.importing.fields import TABLE_KINDS, fields_for

FILL_SHEET, EXAMPLE_SHEET, HELP_SHEET = "填报", "示例", "说明"

# Per table: (field, Chinese header, English header, what it holds) in template order.
HEADERS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "annual_targets": (
        ("year", "年度", "Year", "目标年度，如 2026"),
        ("unit_code", "县区", "Unit", "县市区或功能区的名称或代码；全市目标填“全市”或 370800"),
        ("compounds", "小区数", "Compounds", "改造小区个数"),
        ("households", "户数", "Households", "涉及户数"),
        ("floor_area_m2", "建筑面积（㎡）", "Floor area (m²)", "平方米；表头写“万㎡”则按万平方米读取"),
        ("investment_wan", "计划投资（万元）", "Investment (10k yuan)", "万元；表头写“元”则按元读取"),
        ("issued_date", "下达日期", "Issued on", "日期，如 2026-03-01"),
        ("source", "文件依据", "Source", "下达目标的文件及文号"),
        ("note", "备注", "Note", ""),
    ),
    "projects": (
        ("id", "项目编号", "Project ID", "唯一编号"),
        ("name", "项目名称", "Name", ""),
        ("year", "年度", "Year", "计划年度"),
        ("unit_code", "县区", "Unit", "县市区或功能区"),
        ("street", "街道", "Street", ""),
        ("community", "社区", "Community", ""),
        ("delivery_model", "实施方式", "Delivery model", "、".join(settings.DELIVERY_MODELS)),
        ("contractor", "施工单位", "Contractor", "施工单位或工程总承包单位"),
        ("invest_planned_wan", "计划投资（万元）", "Planned investment (10k yuan)", "万元"),
        ("compound_ids", "包含小区编号", "Compound IDs", "本项目包含的小区编号，多个用“、”分隔"),
        ("note", "备注", "Note", ""),
    ),
    "fund_flows": (
        ("id", "资金编号", "ID", "可留空，系统按内容生成"),
        ("flow_date", "日期", "Date", "下达、到位或支付的日期"),
        ("compound_id", "小区编号", "Compound ID", "小区编号与项目编号至少填一个"),
        ("project_id", "项目编号", "Project ID", "整个项目的资金填项目编号"),
        ("source", "资金来源", "Source", "、".join(zh for zh, _ in settings.FUNDING_SOURCES.values())),
        ("stage", "环节", "Stage", "、".join(zh for zh, _ in settings.FLOW_STAGES.values())),
        ("amount_wan", "金额（万元）", "Amount (10k yuan)", "万元，不小于 0"),
        ("document", "文号", "Document", "文号或凭证号"),
        ("note", "备注", "Note", ""),
    ),
    "aftercare": (
        ("compound_id", "小区编号", "Compound ID", "已完工的小区"),
        ("accepted_date", "竣工验收日期", "Accepted on", ""),
        ("mgmt_mode", "物业管理模式", "Management mode", "、".join(settings.MGMT_MODES)),
        ("mgmt_established", "长效管理机制", "Mechanism established", "是 / 否"),
        ("mgmt_established_date", "长效机制建立日期", "Established on", ""),
        ("satisfaction_pct", "满意度（%）", "Satisfaction (%)", "0–100"),
        ("survey_date", "调查日期", "Survey date", "问效于民调查日期"),
        ("note", "备注", "Note", ""),
    ),
    "findings": (
        ("id", "问题编号", "ID", "可留空，系统按内容生成"),
        ("found_date", "发现日期", "Found on", ""),
        ("unit_code", "县区", "Unit", "责任县市区或功能区；留空时按小区确定"),
        ("compound_id", "小区编号", "Compound ID", ""),
        ("project_id", "项目编号", "Project ID", ""),
        ("category", "问题类别", "Category", "、".join(settings.FINDING_CATEGORIES)),
        ("description", "问题描述", "Description", ""),
        ("deadline", "整改时限", "Deadline", ""),
        ("status", "整改状态", "Status", "、".join(settings.FINDING_STATUSES)),
        ("closed_date", "销号日期", "Closed on", "状态为已销号时填写"),
        ("found_by", "督导组", "Found by", ""),
        ("note", "备注", "Note", ""),
    ),
}
# Drop-down lists: field -> the values offered (the stored Chinese words).
_LISTS: dict[str, tuple[str, ...]] = {
    "delivery_model": settings.DELIVERY_MODELS,
    "source": tuple(zh for zh, _ in settings.FUNDING_SOURCES.values()),
    "stage": tuple(zh for zh, _ in settings.FLOW_STAGES.values()),
    "mgmt_mode": settings.MGMT_MODES,
    "category": settings.FINDING_CATEGORIES,
    "mgmt_established": ("是", "否"),
}


def _offered(kind: str, name: str) -> tuple[str, ...]:
    """The values a column's drop-down list offers (none for a free column)."""
    return settings.FINDING_STATUSES if kind == "findings" and name == "status" else _LISTS.get(name, ())


def _examples(con: duckdb.DuckDBPyConnection, kind: str) -> list[dict[str, object]]:
    """Two example rows naming stored units, compounds and projects (where there are any)."""
    units = [r[0] for r in con.execute("SELECT name FROM units ORDER BY sort_order LIMIT 2").fetchall()] or ["任城区"]
    compounds = con.execute(
        """SELECT c.id, u.name FROM compounds c LEFT JOIN units u ON u.unit_code = coalesce(c.zone_code, c.county_code)
           ORDER BY (c.status = '已完工') DESC, c.id LIMIT 2""").fetchall() or [("JN-001", units[0])]
    project = con.execute("SELECT id FROM projects ORDER BY id LIMIT 1").fetchone()
    cid, unit = compounds[0]
    cid2 = compounds[-1][0]
    year = max(2020, int(scalar(con, "SELECT coalesce(max(plan_year), 2020) FROM compounds")))
    if kind == "annual_targets":
        return [{"year": year, "unit_code": units[0], "compounds": 12, "households": 3200, "floor_area_m2": 280_000,
                 "investment_wan": 12_000, "issued_date": f"{year}-03-01", "source": "（下达文件及文号）"},
                {"year": year, "unit_code": "全市", "compounds": 120, "households": 30_000,
                 "floor_area_m2": 2_500_000, "investment_wan": 100_000, "issued_date": f"{year}-03-01"}]
    if kind == "projects":
        return [{"id": f"XM-{year}-001", "name": "（街道）片区老旧小区改造项目", "year": year, "unit_code": unit,
                 "delivery_model": "成片捆绑", "contractor": "（施工单位）", "invest_planned_wan": 1500,
                 "compound_ids": cid}]
    if kind == "fund_flows":
        return [{"flow_date": f"{year}-04-10", "compound_id": cid, "source": "中央补助资金", "stage": "下达",
                 "amount_wan": 300, "document": "（文号）"},
                {"flow_date": f"{year}-05-20", "compound_id": cid, "project_id": project[0] if project else None,
                 "source": "中央补助资金", "stage": "到位", "amount_wan": 300, "document": "（凭证号）"}]
    if kind == "aftercare":
        return [{"compound_id": cid, "accepted_date": f"{year}-12-10", "mgmt_mode": "专业物业", "mgmt_established": "是",
                 "mgmt_established_date": f"{year}-12-20", "satisfaction_pct": 95, "survey_date": f"{year}-12-28"}]
    return [{"found_date": f"{year}-06-01", "unit_code": unit, "compound_id": cid, "category": "质量安全",
             "description": "（发现的问题）", "deadline": f"{year}-06-30", "status": "交办", "found_by": "市指挥部办公室督导组"},
            {"found_date": f"{year}-05-01", "compound_id": cid2, "category": "资金支付", "description": "（发现的问题）",
             "deadline": f"{year}-05-31", "status": "已销号", "closed_date": f"{year}-05-25"}]


def template_workbook(con: duckdb.DuckDBPyConnection, kind: str) -> bytes:
    """The fill-in workbook of programme table ``kind`` as XLSX bytes (sheets 填报, 示例, 说明)."""
    if kind not in TABLE_KINDS:
        raise InputError(f"`kind` was {kind!r} but must be one of {TABLE_KINDS!r}.")
    headers = HEADERS[kind]
    required = {f.name for f in fields_for(kind, tabular=True) if f.required}
    wb = Workbook()
    fill = wb.active
    fill.title = FILL_SHEET
    example = wb.create_sheet(EXAMPLE_SHEET)
    bold, blue = Font(bold=True), PatternFill("solid", fgColor="BDD7EE")
    for sheet in (fill, example):
        for c, (name, zh, en, _) in enumerate(headers, start=1):
            cell = sheet.cell(1, c, f"{zh}{' *' if name in required else ''}\n{en}")
            cell.font, cell.fill = bold, blue
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            sheet.column_dimensions[get_column_letter(c)].width = max(12, len(zh) * 2 + 6)
        sheet.row_dimensions[1].height = 34
        sheet.freeze_panes = "A2"
    for c, (name, *_) in enumerate(headers, start=1):
        values = _offered(kind, name)
        if values:
            listed = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                    showErrorMessage=True, error="请从列表选择：" + "、".join(values))
            listed.add(f"{get_column_letter(c)}2:{get_column_letter(c)}2000")
            fill.add_data_validation(listed)
    for r, record in enumerate(_examples(con, kind), start=2):
        for c, (name, *_) in enumerate(headers, start=1):
            cells.as_text(example.cell(r, c, record.get(name)))
    notes = wb.create_sheet(HELP_SHEET)
    notes.append(["列 Column", "必填 Required", "说明 Meaning", "可选值 Allowed values"])
    for name, zh, en, meaning in headers:
        notes.append([f"{zh} / {en}", "是" if name in required else "", meaning, "、".join(_offered(kind, name))])
    for col, width in zip("ABCD", (28, 10, 50, 60)):
        notes.column_dimensions[col].width = width
    for cell in notes[1]:
        cell.font = bold
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
