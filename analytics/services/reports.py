"""Weekly reports (周调度) of the reporting units: a pre-filled XLSX template per unit and week, and its upload.

A reporting unit is a county or a function zone (``analytics.units``); a zone's compounds are its own (a
county reports its compounds outside any zone). The ``county_code`` arguments below name the unit — a
county's national code or a zone's unit code (Z01 …); only the unit's own editors may submit for it.

``report_template`` writes the unit's compounds for the week — the plan year's batch plus earlier
batches not yet completed — pre-filled with their latest reported state; units fill status, dates,
investment and outputs. ``prepare_report`` reads a filled template and validates it against the stored
compounds (nothing stored); ``submit_report`` stores it as the week's snapshot in ``progress_reports``
(each row with the compound's county and the reporting ``unit_code``): a re-upload of the same week and
unit replaces the earlier rows, which move to ``progress_reports_history``. The unit's compounds take the
reported status when the week is the unit's latest. Progress pages and the bulletin read
``progress_reports`` and see the rows at once.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics import cells, settings, units
from analytics._sql import scalar
from analytics.errors import ImportRejected, InputError
from analytics.importing import write
from analytics.importing.fields import Field, find_header, header_columns, match_columns
from analytics.importing.files import check_size, load_workbook, sheet_rows, visible_sheets
from analytics.importing.validate import Problems, check_bounds, convert_column, is_blank
from analytics.progress import city_as_of
from analytics.services import report_sheets
from analytics.services.auth import User, require
from analytics.store import audit, insert_frame

log = logging.getLogger(__name__)

TEMPLATE_MARKER = "jiugai-weekly-report"
TEMPLATE_VERSION = 2  # 2: the payments (资金支付) and findings (督导问题) sheets
SHEET = "周报"
META_SHEET = "_meta"
HEADER_ROW = 4  # 1-based row of the column headers in the template
SOURCE_LABEL = "county report"
STATUS_RANK = {status: i for i, status in enumerate(settings.STATUSES)}

# (field, Chinese header, English header, editable) in template order.
COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("compound_id", "小区编号", "Compound ID", False),
    ("name", "小区名称", "Name", False),
    ("street", "街道", "Street", False),
    ("plan_year", "计划年度", "Plan year", False),
    ("households", "户数", "Households", False),
    ("invest_planned_wan", "计划投资（万元）", "Planned investment (10k yuan)", False),
    ("status", "状态", "Status", True),
    ("approved_date", "立项日期", "Approved on", True),
    ("start_date", "开工日期", "Started on", True),
    ("completion_date", "完工日期", "Completed on", True),
    ("invest_done_wan", "累计完成投资（万元）", "Investment done, cumulative (10k yuan)", True),
    ("elevators_added", "加装电梯（部）", "Elevators added", True),
    ("parking_spaces", "新增停车位（个）", "Parking spaces added", True),
    ("chargers", "新增充电桩（个）", "Chargers added", True),
    ("facilities_added", "新增服务设施（处）", "Service facilities added", True),
    ("pipes_km", "改造管网（公里）", "Pipes renewed (km)", True),
)
REPORT_FIELDS: tuple[Field, ...] = (
    Field("compound_id", "str", ("小区编号", "小区代码", "编号", "compound_id", "compoundid", "id"), required=True),
    Field("status", "enum", ("状态", "进展", "改造状态", "项目状态", "status"), required=True),
    Field("approved_date", "date", ("立项日期", "立项时间", "approved_date", "approvedon")),
    Field("start_date", "date", ("开工日期", "开工时间", "start_date", "startedon")),
    Field("completion_date", "date", ("完工日期", "竣工日期", "完工时间", "completion_date", "completedon")),
    Field("invest_done_wan", "float", ("累计完成投资", "完成投资", "已完成投资", "invest_done_wan"), low=0,
          high=10_000_000, unit="wan"),
    Field("elevators_added", "int", ("加装电梯", "加装电梯数", "elevators_added"), low=0, high=10_000),
    Field("parking_spaces", "int", ("新增停车位", "停车位", "parking_spaces"), low=0, high=1_000_000),
    Field("chargers", "int", ("新增充电桩", "充电桩", "chargers"), low=0, high=1_000_000),
    Field("facilities_added", "int", ("新增服务设施", "服务设施", "facilities_added"), low=0, high=10_000),
    Field("pipes_km", "float", ("改造管网", "管网", "pipes_km"), low=0, high=100_000),
)
CUMULATIVE = ("invest_done_wan", "elevators_added", "parking_spaces", "chargers", "facilities_added", "pipes_km")
REPORT_PROBLEM_CODES: tuple[str, ...] = (
    "unknown_compound", "other_county", "missing_compound", "future_date", "status_regressed", "decreased",
)


@dataclass
class ReportPreview:
    """A validated weekly report, not yet stored.

    ``rows`` has the ``progress_reports`` columns plus ``_row`` (sheet row) and ``_valid``; ``problems``
    the row-level report (``row, field, code, problem, value, severity``); ``replaces`` the number of rows
    already stored for this county and week (a submit replaces them, keeping them in the history).
    """

    county_code: str
    report_date: date
    file_name: str
    file_sha256: str
    rows: pd.DataFrame
    problems: pd.DataFrame
    replaces: int
    from_template: bool
    sheets: report_sheets.SheetsPreview = field(default_factory=report_sheets.SheetsPreview)

    @property
    def missing(self) -> tuple[str, ...]:
        """Parts the workbook lacks (``"payments"``, ``"findings"``): an older template, read without them."""
        return self.sheets.missing

    @property
    def n_rows(self) -> int:
        """Compound rows in the report."""
        return len(self.rows)

    @property
    def n_errors(self) -> int:
        """Errors in the row report."""
        return int((self.problems["severity"] == "error").sum()) if len(self.problems) else 0


@dataclass(frozen=True)
class ReportResult:
    """What ``submit_report`` stored: ``import_id`` is its audit id (undo pops it like an import)."""

    import_id: int
    county_code: str
    report_date: date
    rows_written: int
    rows_replaced: int
    compounds_updated: int


# ------------------------------------------------------------------------------------------- helpers
def report_friday(day: date) -> date:
    """The Friday of ``day``'s week (Monday–Sunday): the date a weekly report is keyed on."""
    if not isinstance(day, date):
        raise InputError(f"`report_date` was {day!r} but must be a date.")
    if isinstance(day, datetime):
        day = day.date()
    return day - timedelta(days=day.weekday()) + timedelta(days=4)


def report_date_bounds(con: duckdb.DuckDBPyConnection, *, today: date | None = None) -> tuple[date, date]:
    """The first and last Friday a weekly report may be dated.

    From the first plan year's first Friday to the coming Friday (today when it is a Friday). A report dated further ahead would claim a week that has not happened; one before the first plan
    year reports on a programme that did not exist. Without any plan year there is no lower bound.
    """
    today = date.today() if today is None else today
    coming = today + timedelta(days=(4 - today.weekday()) % 7)
    first_year = scalar(con, "SELECT min(plan_year) FROM compounds WHERE plan_year IS NOT NULL")
    if first_year is None:  # no plan yet: nothing to report on, and no lower bound to apply
        return date.min, coming
    new_year = date(int(first_year), 1, 1)
    return new_year + timedelta(days=(4 - new_year.weekday()) % 7), coming


def check_report_date(con: duckdb.DuckDBPyConnection, report_date: date, *, today: date | None = None) -> date:
    """The Friday of ``report_date``'s week, if a weekly report may be dated then (``report_date_bounds``)."""
    friday = report_friday(report_date)
    first, last = report_date_bounds(con, today=today)
    if not first <= friday <= last:
        since = f"between {first.isoformat()} (the first plan year) and" if first > date.min else "no later than"
        raise InputError(
            f"`report_date` was {friday.isoformat()} but a weekly report must be dated {since} "
            f"{last.isoformat()} (the coming Friday); choose the report's own week.",
            code="report.date_out_of_range", date=friday.isoformat(), last=last.isoformat(),
        )
    return friday


def _check_county(con: duckdb.DuckDBPyConnection, county_code: str) -> str:
    """The reporting unit's code when it names a unit (county or zone); else ``InputError``."""
    return units.check_unit(con, county_code)


def _unit_names(con: duckdb.DuckDBPyConnection, code: str) -> tuple[str, str]:
    return units.names(con).get(code, (code, code))


_UNIT_OF = "coalesce(c.zone_code, c.county_code)"  # the unit a compound reports in


def template_compounds(
    con: duckdb.DuckDBPyConnection,
    county_code: str,
    report_date: date,
    *,
    plan_year: int | None = None,
) -> pd.DataFrame:
    """The compounds a county reports on for the week, with their latest state on or before it.

    The plan year's batch (default ``report_date.year``) plus earlier batches not completed by then.
    Columns: those of ``COLUMNS`` (state from the latest report on or before ``report_date``, else from
    ``compounds``; outputs 0 when never reported), ordered by plan year and id.
    """
    county_code = _check_county(con, county_code)
    report_date = report_friday(report_date)
    plan_year = report_date.year if plan_year is None else int(plan_year)
    # Without a report by then, a compound's state as of the report date: its dates up to that day and the
    # status they mean (a list holding the year's later dates must not pre-fill the future).
    frame = con.execute(
        f"""WITH latest AS (
               SELECT * FROM progress_reports WHERE report_date <= $d
               QUALIFY row_number() OVER (PARTITION BY compound_id ORDER BY report_date DESC) = 1),
           state_then AS (
               SELECT c.*,
                      CASE WHEN c.approved_date <= $d THEN c.approved_date END AS approved_then,
                      CASE WHEN c.start_date <= $d THEN c.start_date END AS start_then,
                      CASE WHEN c.completion_date <= $d THEN c.completion_date END AS completion_then,
                      CASE WHEN c.completion_date <= $d THEN '已完工' WHEN c.start_date <= $d THEN '已开工'
                           WHEN c.approved_date <= $d THEN '已立项'
                           WHEN coalesce(c.approved_date, c.start_date, c.completion_date) IS NOT NULL THEN '未开工'
                           ELSE c.status END AS status_then,
                      CASE WHEN c.start_date > $d THEN 0 ELSE c.invest_done_wan END AS invest_then
               FROM compounds c)
           SELECT c.id AS compound_id, c.name, c.street, c.plan_year, c.households, c.invest_planned_wan,
                  coalesce(r.status, c.status_then) AS status,
                  CASE WHEN r.compound_id IS NULL THEN c.approved_then ELSE r.approved_date END AS approved_date,
                  CASE WHEN r.compound_id IS NULL THEN c.start_then ELSE r.start_date END AS start_date,
                  CASE WHEN r.compound_id IS NULL THEN c.completion_then ELSE r.completion_date END AS completion_date,
                  coalesce(r.invest_done_wan, c.invest_then, 0) AS invest_done_wan,
                  coalesce(r.elevators_added, 0) AS elevators_added, coalesce(r.parking_spaces, 0) AS parking_spaces,
                  coalesce(r.chargers, 0) AS chargers, coalesce(r.facilities_added, 0) AS facilities_added,
                  coalesce(r.pipes_km, 0) AS pipes_km
           FROM state_then c LEFT JOIN latest r ON r.compound_id = c.id
           WHERE {_UNIT_OF} = $unit AND (c.plan_year = $year
                 OR (c.plan_year < $year AND coalesce(r.status, c.status_then) <> '已完工'))
           ORDER BY c.plan_year, c.id""",
        {"d": report_date, "unit": county_code, "year": plan_year},
    ).fetchdf()
    for col in ("approved_date", "start_date", "completion_date"):
        frame[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[col]]
    return frame


# ------------------------------------------------------------------------------------------ template
def report_template(
    con: duckdb.DuckDBPyConnection,
    county_code: str,
    report_date: date,
    *,
    plan_year: int | None = None,
) -> bytes:
    """The county's weekly report template for the week of ``report_date`` as XLSX bytes.

    Sheet ``周报``: title, report date and instructions, then one row per compound of
    ``template_compounds`` — grey columns are locked (id, name, plan figures), the rest are editable
    (status from a drop-down list, dates, cumulative investment in 万元 and outputs). A hidden sheet
    ``_meta`` records county, week and plan year so that an upload for another county or week is refused.
    """
    from analytics.services.bulletin import issues, office

    county_code = _check_county(con, county_code)
    report_date = report_friday(report_date)
    plan_year = report_date.year if plan_year is None else int(plan_year)
    rows = template_compounds(con, county_code, report_date, plan_year=plan_year)
    zh_name, en_name = _unit_names(con, county_code)
    issue = issues.week_number(con, report_date, office.load(con))

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    n_cols = len(COLUMNS)
    ws.cell(1, 1, f"济宁市老旧小区改造周调度报表 — {zh_name}（{county_code}） / Weekly report — {en_name}")
    issue_text = f"（{report_date.year}年第{issue}期）" if issue is not None else ""
    ws.cell(2, 1, f"报告日期 Report date: {report_date.isoformat()}{issue_text}  计划年度 Plan year: {plan_year}")
    ws.cell(3, 1, "灰色列请勿修改；状态请从下拉列表选择；日期格式 2020-05-01；投资单位万元；各项数量为累计值。 "
                  "Do not edit grey columns; pick the status from the list; dates as 2020-05-01; money in 10k yuan; "
                  "quantities are cumulative.")
    for r in (1, 2, 3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n_cols)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(3, 1).alignment = Alignment(wrap_text=True)
    ws.row_dimensions[3].height = 32
    locked_fill = PatternFill("solid", fgColor="E7E6E6")
    header_fill = PatternFill("solid", fgColor="BDD7EE")
    for c, (_, zh, en, editable) in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, c, f"{zh}\n{en}")
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = header_fill if editable else locked_fill
        ws.column_dimensions[get_column_letter(c)].width = max(12, len(zh) * 2 + 4)
    ws.row_dimensions[HEADER_ROW].height = 34
    ws.cell(HEADER_ROW, 7).comment = Comment("未开工 / 已立项 / 已开工 / 已完工", "jiugai")
    first = HEADER_ROW + 1
    for r, record in enumerate(rows.to_dict("records"), start=first):
        for c, (name, _, _, editable) in enumerate(COLUMNS, start=1):
            value = record.get(name)
            cell = cells.as_text(ws.cell(r, c, cells.excel_value(value)))  # missing values: empty cells  # a stored name stays text, never a formula
            cell.protection = Protection(locked=not editable)
            if not editable:
                cell.fill = locked_fill
            if name.endswith("_date"):
                cell.number_format = "yyyy-mm-dd"
            elif name in ("invest_done_wan", "invest_planned_wan", "pipes_km"):
                cell.number_format = "0.00"
    last = max(first, first + len(rows) - 1)
    status_list = DataValidation(type="list", formula1='"' + ",".join(settings.STATUSES) + '"', allow_blank=False,
                                 showErrorMessage=True, error="请选择：" + "、".join(settings.STATUSES))
    status_list.add(f"G{first}:G{last}")
    dates = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)",
                           formula2=f"DATE({report_date.year},{report_date.month},{report_date.day})",
                           showErrorMessage=True, error="日期须在报告日期之前 / on or before the report date")
    dates.add(f"H{first}:J{last}")
    numbers = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                             error="须为不小于0的数 / must be a number ≥ 0")
    numbers.add(f"K{first}:P{last}")
    for validation in (status_list, dates, numbers):
        ws.add_data_validation(validation)
    ws.freeze_panes = ws.cell(first, 3)
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False

    report_sheets.write_sheets(wb, con, county_code, report_date, rows["compound_id"].tolist())
    meta = wb.create_sheet(META_SHEET)
    for r, (key, value) in enumerate((
        ("template", TEMPLATE_MARKER), ("version", TEMPLATE_VERSION), ("county_code", county_code),
        ("unit_code", county_code),
        ("report_date", report_date.isoformat()), ("plan_year", plan_year),
        ("generated_at", datetime.now().isoformat(timespec="seconds")), ("compounds", len(rows)),
    ), start=1):
        cells.as_text(meta.cell(r, 1, key))
        cells.as_text(meta.cell(r, 2, value))
    meta.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    log.info("report template %s %s: %d compounds", county_code, report_date, len(rows))
    return buf.getvalue()


# ------------------------------------------------------------------------------------------- reading
def _meta(workbook, file_name: str) -> dict[str, str]:
    if META_SHEET not in workbook.sheetnames:
        return {}
    rows = sheet_rows(workbook, META_SHEET, file_name)
    return {str(r[0]): str(r[1]) for r in rows if r and r[0] is not None and len(r) > 1 and r[1] is not None}


def prepare_report(
    con: duckdb.DuckDBPyConnection,
    data: bytes,
    file_name: str,
    *,
    county_code: str,
    report_date: date,
    user: User | None,
    today: date | None = None,
) -> ReportPreview:
    """Read and validate a filled weekly report for ``county_code`` and the week of ``report_date``.

    ``user`` must be allowed to submit the county's report; that is checked before the file is read
    (nobody without the permission can make the server parse a workbook). ``report_date`` must lie
    between the first plan year and the coming Friday (``report_date_bounds``; ``today`` defaults to
    the current date).

    Errors (the report cannot be stored): an id that is not one of the county's compounds, a duplicate
    id, a compound of the template missing, an unknown status, an unreadable or negative figure, a date
    after the report date or out of order, 已开工/已完工 without a start date, 已完工 without a completion
    date. Warnings: status going backwards or cumulative figures falling since the previous report,
    investment above plan, 已立项 without an approval date.

    Raises
    ------
    PermissionDenied
        ``user`` may not submit reports for ``county_code`` (checked first).
    InputError
        ``report_date`` is after the coming Friday or before the first plan year.
    ImportRejected
        The file is unusable (size, not an XLSX, unsafe zip), is the template of another county or week
        (``kind="mismatch"``), or has no report table (``kind="mapping"``) or no rows (``kind="empty"``).
    """
    user = require(user, "submit_report", county_code=str(county_code), con=con)
    county_code = _check_county(con, county_code)
    report_date = check_report_date(con, report_date, today=today)
    check_size(data, file_name)
    workbook = load_workbook(data, file_name)
    try:
        meta = _meta(workbook, file_name)
        sheets = visible_sheets(workbook)
        sheet = SHEET if SHEET in sheets else (sheets[0] if sheets else None)
        if sheet is None:
            raise ImportRejected(f"{file_name!r} has no visible sheet.", kind="empty")
        grid_rows = sheet_rows(workbook, sheet, file_name)
        extra = {name: sheet_rows(workbook, name, file_name) if name in sheets else None
                 for name in (report_sheets.PAY_SHEET, report_sheets.FIND_SHEET)}
    finally:
        workbook.close()
    if meta:
        if meta.get("template") != TEMPLATE_MARKER:
            raise ImportRejected(f"{file_name!r} has a `_meta` sheet but is not a weekly report template.",
                                 kind="mismatch")
        meta_unit = meta.get("unit_code", meta.get("county_code"))
        if meta_unit != county_code or meta.get("report_date") != report_date.isoformat():
            raise ImportRejected(
                f"{file_name!r} is the template of unit {meta_unit} for "
                f"{meta.get('report_date')}, but unit {county_code} and {report_date.isoformat()} were chosen; "
                "choose the matching unit and week or download the right template.",
                kind="mismatch",
            )
    if not grid_rows:
        raise ImportRejected(f"Sheet {sheet!r} of {file_name!r} is empty.", kind="empty")
    width = max(len(r) for r in grid_rows)
    grid = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in grid_rows], dtype=object)
    header = find_header(grid, REPORT_FIELDS)
    columns = header_columns(list(grid.iloc[header]))
    mapping = match_columns(columns, REPORT_FIELDS)
    if mapping["compound_id"] is None or mapping["status"] is None:
        raise ImportRejected(
            f"{file_name!r} has no 小区编号 (compound id) and 状态 (status) columns; use the weekly report template.",
            kind="mapping",
        )
    body = grid.iloc[header + 1:]
    body.columns = columns
    id_column = body[mapping["compound_id"]]
    body = body[[not is_blank(v) for v in id_column]] if len(body) else body
    if body.empty:
        raise ImportRejected(f"{file_name!r} has a report table but no compound rows.", kind="empty")
    sheet_rows_no = body.index.to_numpy() + 1
    problems = Problems()
    out = pd.DataFrame(index=pd.RangeIndex(len(body)))
    body = body.reset_index(drop=True)
    for spec in REPORT_FIELDS:
        source = mapping.get(spec.name)
        if source is None:
            out[spec.name] = None
            continue
        column = convert_column(spec, body[source], source, sheet_rows_no, "compounds", problems)
        out[spec.name] = check_bounds(spec, column, sheet_rows_no, problems)
    for i in np.flatnonzero(out["status"].isna().to_numpy()):
        if is_blank(body[mapping["status"]].iat[i]):
            problems.add(int(sheet_rows_no[i]), "status", "required", "`status` is required but empty.")
    _check_rows(con, out, sheet_rows_no, county_code, report_date, problems)
    report = problems.frame()
    bad = set(report.loc[(report.severity == "error") & report.row.notna(), "row"].astype(int))
    out["report_date"] = report_date
    counties = dict(con.execute("SELECT id, county_code FROM compounds").fetchall())
    out["county_code"] = [counties.get(cid, county_code) for cid in out["compound_id"]]
    out["unit_code"] = county_code
    out["_row"] = sheet_rows_no
    out["_valid"] = ~out["_row"].isin(bad)
    extras = _read_sheets(con, extra, county_code, report_date, user.username, problems)
    report = problems.frame()
    replaces = write.count_rows(con, "progress_reports",
                                {"report_date": report_date.isoformat(), "unit_code": county_code})
    log.info("prepared weekly report %s for %s %s: %d rows, %d problems", file_name, county_code, report_date,
             len(out), len(report))
    return ReportPreview(county_code, report_date, file_name, hashlib.sha256(data).hexdigest(), out, report,
                         replaces, bool(meta), extras)


def _read_sheets(con: duckdb.DuckDBPyConnection, extra: dict[str, list | None], unit: str, day: date, username: str,
                 problems: Problems) -> report_sheets.SheetsPreview:
    """The payments and findings sheets, checked into ``problems`` (rows numbered in their own sheet).

    A sheet the workbook lacks is noted once: an older template is still accepted.
    """
    missing = []
    flows = updates = new = pd.DataFrame()
    pay_rows, find_rows = extra[report_sheets.PAY_SHEET], extra[report_sheets.FIND_SHEET]
    if pay_rows is None:
        missing.append("payments")
        problems.add(None, "payments", "sheet_missing",
                     f"The workbook has no {report_sheets.PAY_SHEET} sheet (an older template): no money is reported "
                     "this week; download this week's template to report it.", severity="warning")
    else:
        flows = report_sheets.read_payments(con, pay_rows, unit, day, username, problems)
    if find_rows is None:
        missing.append("findings")
        problems.add(None, "findings", "sheet_missing",
                     f"The workbook has no {report_sheets.FIND_SHEET} sheet (an older template): no supervision "
                     "finding is reported this week; download this week's template to report them.",
                     severity="warning")
    else:
        updates, new = report_sheets.read_findings(con, find_rows, unit, day, problems)
    return report_sheets.SheetsPreview(flows, updates, new, tuple(missing))


def _check_rows(con: duckdb.DuckDBPyConnection, out: pd.DataFrame, rows: np.ndarray, county_code: str,
                report_date: date, problems: Problems) -> None:
    """Check ids against the stored compounds, dates against the report date, figures against the last report."""
    known = dict(con.execute(f"SELECT id, {_UNIT_OF} FROM compounds c").fetchall())
    planned = dict(con.execute(f"SELECT id, invest_planned_wan FROM compounds c WHERE {_UNIT_OF} = ?",
                               [county_code]).fetchall())
    expected = set(template_compounds(con, county_code, report_date)["compound_id"])
    previous = con.execute(
        f"""SELECT r.* FROM progress_reports r JOIN compounds c ON c.id = r.compound_id
           WHERE r.report_date < ? AND {_UNIT_OF} = ?
           QUALIFY row_number() OVER (PARTITION BY r.compound_id ORDER BY r.report_date DESC) = 1""",
        [report_date, county_code],
    ).fetchdf().set_index("compound_id")
    ids = out["compound_id"]
    duplicated = ids.notna() & ids.duplicated(keep=False)
    for i, cid in enumerate(ids.tolist()):
        row = int(rows[i])
        if cid is None:
            continue
        if duplicated.iat[i]:
            problems.add(row, "compound_id", "duplicate_id", "The compound appears more than once.", cid)
        if cid not in known:
            problems.add(row, "compound_id", "unknown_compound", "No stored compound has this id.", cid)
            continue
        if known[cid] != county_code:
            problems.add(row, "compound_id", "other_county",
                         f"The compound belongs to unit {known[cid]}, not {county_code}.", cid)
            continue
        status = out["status"].iat[i]
        dates = {c: out[c].iat[i] for c in ("approved_date", "start_date", "completion_date")}
        for name, value in dates.items():
            if value is not None and value > report_date:
                problems.add(row, name, "future_date", f"`{name}` is after the report date {report_date}.", value)
        start, done = dates["start_date"], dates["completion_date"]
        if start is not None and done is not None and done < start:
            problems.add(row, "completion_date", "date_order", "The completion date is before the start date.",
                         f"{start} / {done}")
        if dates["approved_date"] is not None and any(d is not None and d < dates["approved_date"]
                                                      for d in (start, done)):
            problems.add(row, "approved_date", "date_order", "Approved (立项) after the start or completion date.",
                         dates["approved_date"], severity="warning")
        if status in ("已开工", "已完工") and dates["start_date"] is None:
            problems.add(row, "start_date", "status_dates", f"Status {status} needs a start date (开工日期).", status)
        if status == "已完工" and dates["completion_date"] is None:
            problems.add(row, "completion_date", "status_dates", "Status 已完工 needs a completion date (完工日期).",
                         status)
        if status in ("已立项", "已开工", "已完工") and dates["approved_date"] is None:
            problems.add(row, "approved_date", "status_dates", f"Status {status} but no approval date (立项日期).",
                         status, severity="warning")
        invest, plan = out["invest_done_wan"].iat[i], planned.get(cid)
        if invest is not None and plan is not None and pd.notna(plan) and invest > plan * 1.05:
            problems.add(row, "invest_done_wan", "invest_exceeds_plan",
                         f"Investment done {invest:g} exceeds the planned {plan:g} 万元.", invest, severity="warning")
        if cid in previous.index:
            before = previous.loc[cid]
            if status is not None and STATUS_RANK.get(status, 0) < STATUS_RANK.get(before["status"], 0):
                problems.add(row, "status", "status_regressed",
                             f"Status went back from {before['status']} ({before['report_date'].date()}).", status,
                             severity="warning")
            for name in CUMULATIVE:
                value = out[name].iat[i]
                if value is not None and pd.notna(before[name]) and value < before[name] - 1e-9:
                    problems.add(row, name, "decreased",
                                 f"Cumulative `{name}` fell from {before[name]:g} to {value:g}.", value,
                                 severity="warning")
    for cid in sorted(expected - set(ids.dropna())):
        problems.add(None, "compound_id", "missing_compound",
                     "A compound of the county's template has no row; every compound must be reported.", cid)


# -------------------------------------------------------------------------------------------- storing
def submit_report(
    con: duckdb.DuckDBPyConnection, preview: ReportPreview, *, user: User | None, today: date | None = None
) -> ReportResult:
    """Store a validated weekly report as the week's snapshot for its county, in one transaction.

    The rows already stored for the county and week move to ``progress_reports_history`` (a re-upload
    replaces them); the county's compounds take the reported status, dates and investment when the week is
    the latest reported for the county. ``dataset_info.as_of`` becomes the city's as-of date
    (``analytics.progress.city_as_of``), never simply this report's date. Recorded in the audit log;
    undoable with ``analytics.importing.importer.undo_last_import``.

    Raises
    ------
    PermissionDenied
        ``user`` may not submit reports for ``preview.county_code`` (checked first: county editors only
        for their own county).
    InputError
        The report date is out of bounds (``report_date_bounds``; checked again here).
    ImportRejected
        The report has errors; nothing was stored.
    """
    user = require(user, "submit_report", county_code=preview.county_code, con=con)
    if check_report_date(con, preview.report_date, today=today) != preview.report_date:
        raise InputError(f"`preview.report_date` was {preview.report_date!r} but must be a Friday; prepare it again.",
                         code="report.not_a_friday")
    if preview.n_errors:
        errors = preview.problems[preview.problems["severity"] == "error"]
        raise ImportRejected(
            f"{preview.file_name!r} has {preview.n_errors} error(s); fix them in the file and upload it again.",
            problems=errors.to_dict("records"), kind="validation",
        )
    county, day = preview.county_code, preview.report_date
    frame = preview.rows.drop(columns=["_row", "_valid"]).copy()
    for cols, field_type in ((("approved_date", "start_date", "completion_date"), "date"),
                             (("elevators_added", "parking_spaces", "chargers", "facilities_added"), "int"),
                             (("invest_done_wan", "pipes_km"), "float")):
        for col in cols:
            frame[col] = write.typed(frame[col], field_type)  # typed as the import types its columns
    frame["report_date"] = pd.Timestamp(day)
    frame["source"] = SOURCE_LABEL
    frame["submitted_by"] = user.username
    frame["submitted_at"] = pd.Timestamp(datetime.now())

    frame["unit_code"] = county
    zone_unit = units.kind_of(con, county) == "zone"

    def work() -> ReportResult:
        # Checked again at the point of writing: every row must be a compound of the unit being written.
        owners = dict(con.execute(f"SELECT id, {_UNIT_OF} FROM compounds c WHERE id IN (SELECT unnest(?))",
                                  [frame["compound_id"].tolist()]).fetchall())
        frame["county_code"] = frame["compound_id"].map(dict(con.execute(
            "SELECT id, county_code FROM compounds WHERE id IN (SELECT unnest(?))",
            [frame["compound_id"].tolist()]).fetchall()))
        outside = [cid for cid in frame["compound_id"] if owners.get(cid) != county]
        if outside:
            raise ImportRejected(
                f"The report holds {len(outside)} rows of compounds outside unit {county} (e.g. {outside[0]!r}); "
                "nothing was stored.",
                kind="validation",
            )
        where: dict[str, object] = {"report_date": day.isoformat(), "unit_code": county}
        replaced = write.count_rows(con, "progress_reports", where)
        import_id = audit.record(
            con, username=user.username, action="report", table_name="progress_reports",
            file_name=preview.file_name, file_sha256=preview.file_sha256, mode="replace" if replaced else "append",
            rows_in=preview.n_rows, rows_written=len(frame), rows_rejected=0,
            detail={"county_code": county, "report_date": day.isoformat(), "replaced_rows": replaced,
                    **preview.sheets.counts()},
        )
        own: dict[str, object] = {"zone_code": county} if zone_unit else {"county_code": county}
        write.start_batch(con, import_id, {"progress_reports": where, "compounds": own,
                                           "dataset_info": {}, "fund_flows": {}, "findings": {}},
                          username=user.username, action="report", table_name="progress_reports",
                          mode="replace" if replaced else "append", file_name=preview.file_name)
        con.execute(
            """INSERT INTO progress_reports_history BY NAME
               SELECT *, ? AS replaced_at, ? AS replaced_by, ? AS replaced_by_import
               FROM progress_reports WHERE report_date = ? AND unit_code = ?""",
            [datetime.now(), user.username, import_id, day, county],
        )
        con.execute("DELETE FROM progress_reports WHERE report_date = ? AND unit_code = ?", [day, county])
        insert_frame(con, "progress_reports", frame)
        report_sheets.store_sheets(con, preview.sheets, county, day, user.username)
        latest = scalar(con, "SELECT max(report_date) FROM progress_reports WHERE unit_code = ?", [county])
        updated = 0
        if latest is not None and latest <= day:
            con.register("__report_rows", frame)
            try:
                updated = scalar(
                    con,
                    """UPDATE compounds SET status = r.status, approved_date = r.approved_date,
                              start_date = r.start_date, completion_date = r.completion_date,
                              invest_done_wan = r.invest_done_wan
                       FROM __report_rows r WHERE compounds.id = r.compound_id"""
                )
            finally:
                con.unregister("__report_rows")
        info = {"source_progress_reports": SOURCE_LABEL}
        city = city_as_of(con)  # the date every county has reached, not this county's
        if city is not None:
            info["as_of"] = city.isoformat()
        write.set_info(con, info)
        return ReportResult(import_id, county, day, len(frame), replaced, int(updated))

    result = write.in_transaction(con, work)
    log.info("stored weekly report %s %s: %d rows (%d replaced)", county, day, result.rows_written,
             result.rows_replaced)
    return result


def report_history(
    con: duckdb.DuckDBPyConnection,
    *,
    county_code: str | None = None,
    report_date: date | None = None,
) -> pd.DataFrame:
    """Weekly report rows replaced by re-uploads, newest replacement first.

    ``replaced_at``, ``replaced_by`` and ``replaced_by_import`` say when, by whom and by which upload.
    """
    where: list[str] = []
    params: list[object] = []
    if county_code is not None:
        where.append("unit_code = ?")
        params.append(_check_county(con, county_code))
    if report_date is not None:
        where.append("report_date = ?")
        params.append(report_friday(report_date))
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return con.execute(
        f"SELECT * FROM progress_reports_history {clause} ORDER BY replaced_at DESC, report_date, compound_id", params
    ).fetchdf()


def submitted_reports(con: duckdb.DuckDBPyConnection, *, county_code: str | None = None) -> pd.DataFrame:
    """One row per stored (report_date, unit), newest first.

    Columns: ``report_date, unit_code, n_compounds, source, submitted_by, submitted_at``.
    """
    where, params = ("WHERE unit_code = ?", [_check_county(con, county_code)]) if county_code else ("", [])
    return con.execute(
        f"""SELECT report_date, unit_code, count(*) AS n_compounds, any_value(source) AS source,
                   max(submitted_by) AS submitted_by, max(submitted_at) AS submitted_at
            FROM progress_reports {where} GROUP BY report_date, unit_code
            ORDER BY report_date DESC, unit_code""",
        params,
    ).fetchdf()
