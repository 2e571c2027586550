"""The weekly report's payments and findings sheets (资金支付, 督导问题): written into the template, read back.

``payments_rows(con, unit, day)`` lists, per compound of the unit's template (and project of the unit) and
funding source, the plan, the money allocated, received and paid up to the week before, and what this
unit reported for the week; the editor fills this week's amounts (本周下达 / 本周到位 / 本周支付, 万元).
Each non-zero amount becomes one ``fund_flows`` row dated the report's Friday, with an id made of unit,
week, compound or project, source and stage, so a re-upload of the week replaces it.

``findings_rows(con, unit)`` lists the unit's open supervision findings; the editor changes their status
(交办 → 整改中 → 已销号, with the closing date) and adds findings of their own below. A changed status
updates the stored finding; a new row becomes a finding of the unit.

``read_sheets`` reads both sheets of an uploaded workbook and checks them (row report as everywhere);
``write_sheets`` stores them inside the report's transaction. A workbook without these sheets (the
template before they existed) is read without them, and the preview says what is missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics import cells, settings
from analytics.importing import records
from analytics.importing.fields import Field, find_header, header_columns, match_columns
from analytics.importing.validate import Problems, check_bounds, convert_column, is_blank, text_value
from analytics.store import insert_frame

PAY_SHEET = "资金支付"
FIND_SHEET = "督导问题"
BLANK_ROWS = 20  # unlocked rows below the pre-filled ones, for rows the unit adds
STAGES = tuple(settings.FLOW_STAGES)  # allocated, received, paid
_UNIT_OF = "coalesce(c.zone_code, c.county_code)"

# (field, Chinese header, English header, editable) in sheet order.
PAY_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("compound_id", "小区编号", "Compound ID", False),
    ("project_id", "项目编号", "Project ID", False),
    ("name", "名称", "Name", False),
    ("source", "资金来源", "Source", False),
    ("planned_wan", "计划资金（万元）", "Planned (10k yuan)", False),
    ("allocated_to_date", "此前累计下达（万元）", "Allocated before (10k yuan)", False),
    ("received_to_date", "此前累计到位（万元）", "Received before (10k yuan)", False),
    ("paid_to_date", "此前累计支付（万元）", "Paid before (10k yuan)", False),
    ("allocated_week", "本周下达（万元）", "Allocated this week (10k yuan)", True),
    ("received_week", "本周到位（万元）", "Received this week (10k yuan)", True),
    ("paid_week", "本周支付（万元）", "Paid this week (10k yuan)", True),
    ("document", "文号/凭证号", "Document", True),
)
PAY_FIELDS: tuple[Field, ...] = (
    Field("compound_id", "str", ("小区编号", "compound_id", "compoundid")),
    Field("project_id", "str", ("项目编号", "project_id", "projectid")),
    Field("source", "enum", ("资金来源", "source")),
    Field("allocated_week", "float", ("本周下达", "allocated_week", "allocatedthisweek"), low=0, high=10_000_000,
          unit="wan"),
    Field("received_week", "float", ("本周到位", "received_week", "receivedthisweek"), low=0, high=10_000_000,
          unit="wan"),
    Field("paid_week", "float", ("本周支付", "本周拨付", "paid_week", "paidthisweek"), low=0, high=10_000_000,
          unit="wan"),
    Field("document", "str", ("文号/凭证号", "文号", "凭证号", "document")),
)
FIND_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("id", "问题编号", "Finding ID", False),
    ("found_date", "发现日期", "Found on", False),
    ("compound_id", "小区编号", "Compound ID", False),
    ("category", "问题类别", "Category", False),
    ("description", "问题描述", "Description", False),
    ("deadline", "整改时限", "Deadline", False),
    ("status", "整改状态", "Status", True),
    ("closed_date", "销号日期", "Closed on", True),
    ("note", "备注", "Note", True),
)
FIND_FIELDS: tuple[Field, ...] = (
    Field("id", "str", ("问题编号", "id")),
    Field("found_date", "date", ("发现日期", "found_date")),
    Field("compound_id", "str", ("小区编号", "compound_id")),
    Field("category", "enum", ("问题类别", "category")),
    Field("description", "str", ("问题描述", "description")),
    Field("deadline", "date", ("整改时限", "deadline")),
    Field("status", "enum", ("整改状态", "status")),
    Field("closed_date", "date", ("销号日期", "closed_date")),
    Field("note", "str", ("备注", "note")),
)
SHEET_PROBLEM_CODES: tuple[str, ...] = ("sheet_missing", "finding_of_other_unit", "amount_without_source")


def flow_prefix(unit: str, day: date) -> str:
    """The id prefix of the money flows a unit's weekly report of ``day`` stored."""
    return f"WR-{unit}-{day.isoformat()}-"


# ------------------------------------------------------------------------------------------- template
def payments_rows(con: duckdb.DuckDBPyConnection, unit: str, day: date, compound_ids: list[str]) -> pd.DataFrame:
    """The payments sheet's rows (columns ``PAY_COLUMNS``).

    One per compound of the template (and project of the unit) and funding source: the plan, the money
    before the week, and this unit's report of the week.
    """
    monday = day - timedelta(days=4)
    prefix = flow_prefix(unit, day)
    flows = con.execute(
        """SELECT compound_id, project_id, source, stage, amount_wan, flow_date, id FROM fund_flows
           WHERE flow_date <= ? AND (compound_id IN (SELECT unnest(?)) OR project_id IN
                 (SELECT id FROM projects WHERE unit_code = ?))""", [day, compound_ids, unit]).fetchdf()
    week = flows[flows["id"].str.startswith(prefix)]
    before = flows[(~flows["id"].str.startswith(prefix)) & (pd.to_datetime(flows["flow_date"]) < pd.Timestamp(monday))]
    planned = con.execute("SELECT compound_id, source, amount_wan FROM funding WHERE compound_id IN (SELECT unnest(?))",
                          [compound_ids]).fetchdf()
    names = dict(con.execute("SELECT id, name FROM compounds WHERE id IN (SELECT unnest(?))", [compound_ids]).fetchall())
    projects = dict(con.execute("SELECT id, name FROM projects WHERE unit_code = ? ORDER BY id", [unit]).fetchall())
    keys: list[tuple[str | None, str | None, str]] = []
    for compound in compound_ids:
        sources = set(planned.loc[planned["compound_id"] == compound, "source"]) | set(
            flows.loc[flows["compound_id"] == compound, "source"])
        keys += [(compound, None, s) for s in settings.FUNDING_SOURCES if s in sources]
    for project in projects:
        sources = set(flows.loc[flows["project_id"] == project, "source"])
        keys += [(None, project, s) for s in settings.FUNDING_SOURCES if s in sources]

    def total(frame: pd.DataFrame, cid: str | None, pid: str | None, source: str, stage: str) -> float:
        mask = (frame["source"] == source) & (frame["stage"] == stage)
        mask &= (frame["compound_id"] == cid) if cid is not None else (frame["project_id"] == pid) & frame["compound_id"].isna()
        return round(float(frame.loc[mask, "amount_wan"].sum()), 4)

    out = []
    for cid, pid, source in keys:
        plan = planned.loc[(planned["compound_id"] == cid) & (planned["source"] == source), "amount_wan"]
        record: dict[str, object] = {
            "compound_id": cid, "project_id": pid, "name": names.get(cid) if cid else projects.get(pid),
            "source": settings.FUNDING_SOURCES[source][0],
            "planned_wan": float(plan.iloc[0]) if len(plan) else None,
        }
        for stage in STAGES:
            record[f"{stage}_to_date"] = total(before, cid, pid, source, stage)
            week_amount = total(week, cid, pid, source, stage)
            record[f"{stage}_week"] = week_amount or None
        out.append(record)
    return pd.DataFrame(out, columns=[c[0] for c in PAY_COLUMNS])


def findings_rows(con: duckdb.DuckDBPyConnection, unit: str, day: date) -> pd.DataFrame:
    """The unit's findings found by ``day`` and not closed (已销号), oldest first (columns ``FIND_COLUMNS``)."""
    frame = con.execute(
        """SELECT id, found_date, compound_id, category, description, deadline, status, closed_date, note
           FROM findings WHERE unit_code = ? AND status <> ? AND found_date <= ? ORDER BY found_date, id""",
        [unit, settings.FINDING_CLOSED, day]).fetchdf()
    for col in ("found_date", "deadline", "closed_date"):
        frame[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[col]]
    return frame


def _sheet(wb, title: str, columns, frame: pd.DataFrame, intro: str) -> tuple:
    ws = wb.create_sheet(title)
    ws.cell(1, 1, intro)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.cell(1, 1).alignment = Alignment(wrap_text=True)
    ws.row_dimensions[1].height = 48
    locked_fill, header_fill = PatternFill("solid", fgColor="E7E6E6"), PatternFill("solid", fgColor="BDD7EE")
    for c, (_, zh, en, editable) in enumerate(columns, start=1):
        cell = ws.cell(2, c, f"{zh}\n{en}")
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = header_fill if editable else locked_fill
        ws.column_dimensions[get_column_letter(c)].width = max(12, len(zh) * 2 + 4)
    ws.row_dimensions[2].height = 34
    for r, record in enumerate(frame.to_dict("records"), start=3):
        for c, (name, _, _, editable) in enumerate(columns, start=1):
            cell = cells.as_text(ws.cell(r, c, cells.excel_value(record.get(name))))  # missing: empty cell
            cell.protection = Protection(locked=not editable)
            if not editable:
                cell.fill = locked_fill
            if name in ("found_date", "deadline", "closed_date"):
                cell.number_format = "yyyy-mm-dd"
            elif name.endswith(("_wan", "_to_date", "_week")):
                cell.number_format = "0.00"
    first_blank = 3 + len(frame)
    for r in range(first_blank, first_blank + BLANK_ROWS):  # rows the unit adds: every cell open
        for c in range(1, len(columns) + 1):
            ws.cell(r, c).protection = Protection(locked=False)
    ws.freeze_panes = ws.cell(3, 1)
    ws.protection.sheet = True
    return ws, first_blank + BLANK_ROWS - 1


def write_sheets(wb, con: duckdb.DuckDBPyConnection, unit: str, day: date, compound_ids: list[str]) -> None:
    """Add the payments and findings sheets to the weekly template ``wb``."""
    pay = payments_rows(con, unit, day, compound_ids)
    ws, last = _sheet(wb, PAY_SHEET, PAY_COLUMNS, pay,
                      "本周资金：在“本周下达/本周到位/本周支付”列填写本周发生额（万元，不是累计数）；灰色列为截至上周的累计，"
                      "请勿修改。整个项目的资金可在下方空行填写项目编号和资金来源。 Money this week: fill this week's amounts "
                      "(10k yuan, not cumulative); grey columns are the totals before this week.")
    sources = DataValidation(type="list", formula1='"' + ",".join(zh for zh, _ in settings.FUNDING_SOURCES.values()) + '"',
                             allow_blank=True, showErrorMessage=True)
    sources.add(f"D3:D{last}")
    amounts = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                             showErrorMessage=True, error="须为不小于0的数 / must be a number ≥ 0")
    amounts.add(f"I3:K{last}")
    for validation in (sources, amounts):
        ws.add_data_validation(validation)
    found = findings_rows(con, unit, day)
    ws, last = _sheet(wb, FIND_SHEET, FIND_COLUMNS, found,
                      "督导发现问题：更新已交办问题的整改状态（已销号须填销号日期）；新发现的问题在下方空行填写（问题编号可留空）。 "
                      "Findings: update the status of open findings (已销号 needs its closing date); add new findings "
                      "in the empty rows below (the id may stay blank).")
    statuses = DataValidation(type="list", formula1='"' + ",".join(settings.FINDING_STATUSES) + '"', allow_blank=True,
                              showErrorMessage=True)
    statuses.add(f"G3:G{last}")
    categories = DataValidation(type="list", formula1='"' + ",".join(settings.FINDING_CATEGORIES) + '"',
                                allow_blank=True, showErrorMessage=True)
    categories.add(f"D3:D{last}")
    for validation in (statuses, categories):
        ws.add_data_validation(validation)


# -------------------------------------------------------------------------------------------- reading
@dataclass
class SheetsPreview:
    """What the payments and findings sheets of an upload hold, checked.

    ``flows`` are the ``fund_flows`` rows to store (they replace the unit's flows of the week);
    ``finding_updates`` the stored findings whose status, closing date or note changed (``id, status,
    closed_date, note``); ``new_findings`` the findings to add; ``missing`` the sheets the workbook lacks
    (``"payments"``, ``"findings"``).
    """

    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    finding_updates: pd.DataFrame = field(default_factory=pd.DataFrame)
    new_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: tuple[str, ...] = ()

    def counts(self) -> dict[str, object]:
        """What storing these sheets writes, for the write log."""
        return {"flows": len(self.flows), "findings_changed": len(self.finding_updates),
                "findings_new": len(self.new_findings), "missing_sheets": list(self.missing)}


def _table(grid_rows: list[tuple], fields: tuple[Field, ...]) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """(body, mapping, sheet row numbers) of a sheet's rows below its recognised header."""
    width = max((len(r) for r in grid_rows), default=0)
    grid = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in grid_rows], dtype=object)
    if grid.empty:
        return pd.DataFrame(), {f.name: None for f in fields}, np.array([], dtype=int)
    header = find_header(grid, fields)
    columns = header_columns(list(grid.iloc[header]))
    mapping = match_columns(columns, fields)
    body = grid.iloc[header + 1:].copy()
    body.columns = columns
    used = [c for c in mapping.values() if c]
    if used and len(body):
        body = body[[not all(is_blank(v) for v in row) for row in body[used].itertuples(index=False)]]
    return body, mapping, body.index.to_numpy() + 1


def _convert(body: pd.DataFrame, mapping: dict, fields: tuple[Field, ...], rows: np.ndarray, kind: str,
             problems: Problems, sheet: str) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(body)))
    body = body.reset_index(drop=True)
    for spec in fields:
        source = mapping.get(spec.name)
        if source is None:
            out[spec.name] = None
            continue
        sub = Problems()
        column = convert_column(spec, body[source], source, rows, kind, sub)
        out[spec.name] = check_bounds(spec, column, rows, sub)
        for p in sub.rows:
            problems.add(p["row"], f"{sheet}.{p['field']}", p["code"], p["problem"], p["value"], severity=p["severity"])
    return out


def read_payments(con: duckdb.DuckDBPyConnection, grid_rows: list[tuple], unit: str, day: date,
                  user: str, problems: Problems) -> pd.DataFrame:
    """The ``fund_flows`` rows of the payments sheet (one per non-zero amount), checked."""
    body, mapping, rows = _table(grid_rows, PAY_FIELDS)
    if body.empty:
        return pd.DataFrame()
    out = _convert(body, mapping, PAY_FIELDS, rows, "fund_flows", problems, "payments")
    refs = records.references(con, today=day)
    prefix = flow_prefix(unit, day)
    if len(refs.flows):  # the money up to the report's Friday, without this unit's own report of the week
        stored = refs.flows
        refs.flows = stored[~stored["id"].str.startswith(prefix) & (pd.to_datetime(stored["flow_date"]) <= pd.Timestamp(day))]
    flows = []
    for i, record in enumerate(out.to_dict("records")):
        row = int(rows[i])
        amounts = {stage: record[f"{stage}_week"] for stage in STAGES}
        if not any(v for v in amounts.values() if v is not None):
            continue
        cid, pid = record["compound_id"], record["project_id"]
        if cid is None and pid is None:
            problems.add(row, "payments.compound_id", "required", "Money needs a compound or a project id.")
            continue
        if cid is not None and refs.compounds.get(cid, (None,))[0] != unit:
            code = "unknown_compound" if cid not in refs.compounds else "other_unit"
            problems.add(row, "payments.compound_id", code, f"{cid} is not a compound of unit {unit}.", cid)
            continue
        if cid is None and refs.projects.get(pid) != unit:
            code = "unknown_project" if pid not in refs.projects else "other_unit"
            problems.add(row, "payments.project_id", code, f"{pid} is not a project of unit {unit}.", pid)
            continue
        if record["source"] is None:
            problems.add(row, "payments.source", "amount_without_source", "An amount needs its funding source.")
            continue
        target = cid if cid is not None else f"P-{pid}"
        for stage, amount in amounts.items():
            if amount:
                flows.append({"id": f"{prefix}{target}-{record['source']}-{stage}", "flow_date": day,
                              "compound_id": cid, "project_id": None if cid is not None else pid,
                              "source": record["source"], "stage": stage, "amount_wan": float(amount),
                              "document": record["document"], "note": "周报", "_row": row})
    frame = pd.DataFrame(flows)
    if frame.empty:
        return frame
    for k in np.flatnonzero(frame["id"].duplicated(keep=False).to_numpy()):
        problems.add(int(frame["_row"].iat[k]), "payments.source", "duplicate_id",
                     "The same compound (or project) and source appear twice.", frame["source"].iat[k])
    order = Problems()
    records._flows(frame.drop(columns=["_row"]).reset_index(drop=True), frame["_row"].to_numpy(), refs, order)
    for p in order.rows:
        problems.add(p["row"], f"payments.{p['field']}", p["code"], p["problem"], p["value"], severity=p["severity"])
    frame["submitted_by"] = user
    return frame


def read_findings(con: duckdb.DuckDBPyConnection, grid_rows: list[tuple], unit: str, day: date,
                  problems: Problems) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(status changes of stored findings, new findings) of the findings sheet, checked."""
    body, mapping, rows = _table(grid_rows, FIND_FIELDS)
    empty = pd.DataFrame()
    if body.empty:
        return empty, empty
    out = _convert(body, mapping, FIND_FIELDS, rows, "findings", problems, "findings")
    stored = con.execute("SELECT id, unit_code, status, closed_date, note, found_date FROM findings").fetchdf()
    stored = stored.set_index("id")
    compounds = dict(con.execute(f"SELECT id, {_UNIT_OF} FROM compounds c").fetchall())
    updates, new = [], []
    for i, record in enumerate(out.to_dict("records")):
        row = int(rows[i])
        fid = record["id"]
        known = fid is not None and fid in stored.index
        for name in ("closed_date",) if known else ("found_date", "closed_date"):  # a stored finding's date stands
            if record[name] is not None and record[name] > day:
                problems.add(row, f"findings.{name}", "future_date", f"`{name}` is after the report date {day}.",
                             record[name])
        if record["status"] == settings.FINDING_CLOSED and record["closed_date"] is None:
            problems.add(row, "findings.closed_date", "closed_without_date",
                         "Status 已销号 needs its closing date (销号日期).", record["status"])
        if known:
            before = stored.loc[fid]
            if before["unit_code"] != unit:
                problems.add(row, "findings.id", "finding_of_other_unit",
                             f"Finding {fid} belongs to unit {before['unit_code']}, not {unit}.", fid)
                continue
            closed = None if pd.isna(before["closed_date"]) else pd.Timestamp(before["closed_date"]).date()
            note = None if pd.isna(before["note"]) else before["note"]
            status = record["status"] or before["status"]
            if record["closed_date"] is not None and pd.notna(before["found_date"]) and \
                    record["closed_date"] < pd.Timestamp(before["found_date"]).date():
                problems.add(row, "findings.closed_date", "date_order", "Closed before the problem was found.",
                             record["closed_date"])
            if (status, record["closed_date"], record["note"]) != (before["status"], closed, note):
                updates.append({"id": fid, "status": status, "closed_date": record["closed_date"],
                                "note": record["note"], "_row": row})
            continue
        missing = [n for n in ("found_date", "category", "description") if record[n] is None]
        for name in missing:
            problems.add(row, f"findings.{name}", "required", f"A new finding needs `{name}`.")
        cid = record["compound_id"]
        if cid is not None and compounds.get(cid) != unit:
            problems.add(row, "findings.compound_id", "other_unit" if cid in compounds else "unknown_compound",
                         f"{cid} is not a compound of unit {unit}.", cid)
            continue
        if record["deadline"] is not None and record["found_date"] is not None and record["deadline"] < record["found_date"]:
            problems.add(row, "findings.deadline", "date_order", "The deadline is before the finding.",
                         record["deadline"])
        if missing:
            continue
        made = fid or "FD-" + hashlib.sha256(
            f"{unit}|{record['found_date']}|{cid}|{record['category']}|{record['description']}".encode()).hexdigest()[:12]
        new.append({"id": made, "found_date": record["found_date"], "unit_code": unit, "compound_id": cid,
                    "category": record["category"], "description": text_value(record["description"]),
                    "deadline": record["deadline"], "status": record["status"] or settings.FINDING_STATUSES[0],
                    "closed_date": record["closed_date"], "note": record["note"], "_row": row})
    return pd.DataFrame(updates), pd.DataFrame(new)


def store_sheets(con: duckdb.DuckDBPyConnection, sheets: SheetsPreview, unit: str, day: date, user: str) -> None:
    """Store the sheets inside the caller's transaction (the week's flows of the unit replaced)."""
    stamp = pd.Timestamp(datetime.now())
    if "payments" not in sheets.missing:  # a workbook with the sheet reports the whole week's money
        con.execute("DELETE FROM fund_flows WHERE starts_with(id, ?)", [flow_prefix(unit, day)])
    if len(sheets.flows):
        frame = sheets.flows.drop(columns=["_row"]).copy()
        frame["flow_date"] = pd.to_datetime(frame["flow_date"]).astype("datetime64[s]")
        frame["submitted_by"], frame["submitted_at"] = user, stamp
        insert_frame(con, "fund_flows", frame)
    for record in sheets.finding_updates.to_dict("records") if len(sheets.finding_updates) else []:
        con.execute("UPDATE findings SET status = ?, closed_date = ?, note = ?, submitted_by = ?, submitted_at = ? "
                    "WHERE id = ? AND unit_code = ?",
                    [record["status"], record["closed_date"], record["note"], user, stamp, record["id"], unit])
    if len(sheets.new_findings):
        frame = sheets.new_findings.drop(columns=["_row"]).copy()
        for col in ("found_date", "deadline", "closed_date"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
        frame["submitted_by"], frame["submitted_at"] = user, stamp
        con.execute("DELETE FROM findings WHERE id IN (SELECT unnest(?))", [frame["id"].tolist()])
        insert_frame(con, "findings", frame)
