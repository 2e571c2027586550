"""Validate the programme's plain tables (annual targets, projects, money flows, after-care, findings).

``references(con)`` reads what rows may refer to (reporting units, compounds, projects, the compound list's
totals, money already stored); ``validate_records(attributes, mapping, kind, row_numbers=..., refs=...)``
returns the typed rows (``_row``, ``_valid``) and the row-level report, like
``analytics.importing.validate.validate`` does for the spatial tables. Errors make a row invalid: a value
that is not of its type or out of its bounds, a required value missing, a unit, compound or project that
is not stored, a key twice in the file, a date after today (a deadline excepted) or before another it must
follow. Warnings flag what may be right but needs a look: a target that differs from the compound list's
total, money paid beyond what was received or received beyond what was allocated (beyond
``settings.FLOW_TOLERANCE``), after-care of a compound not completed, a closed finding without a date.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from analytics import settings
from analytics.importing.fields import KEYS, fields_for, normalise
from analytics.importing.validate import (
    Problems,
    check_bounds,
    check_required_mapped,
    convert_column,
    is_blank,
    required_values,
    text_value,
)

RECORD_PROBLEM_CODES: tuple[str, ...] = (
    "unknown_unit", "unknown_compound", "unknown_project", "other_unit", "future_date", "target_mismatch",
    "target_empty", "flow_order", "flow_over_plan", "not_completed", "mgmt_dates", "closed_without_date",
    "closed_date_open", "compound_in_two_projects", "project_without_compounds", "compound_not_in_project",
    "id_generated", "duplicate_id", "required",
)
_ID_PREFIX = {"fund_flows": "FF", "findings": "FD"}
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class References:
    """What imported rows may refer to, read from the database once per ``prepare``.

    Attributes
    ----------
    units
        Normalised name or code of a reporting unit -> unit code (with the city, 370800, for targets).
    compounds
        Compound id -> (reporting unit, status, completion date, plan year, project id).
    projects
        Stored project id -> reporting unit.
    list_totals
        (year, unit) -> (compounds, households, floor area m², planned investment 万元) of the compound
        list; the city (370800) sums every unit.
    flows
        Stored money flows: ``id, compound_id, project_id, source, stage, amount_wan, flow_date``.
    planned
        (compound id, source) -> planned amount (``funding``), 万元.
    today
        The date after which nothing may be dated (a deadline excepted).
    """

    units: dict[str, str] = field(default_factory=dict)
    compounds: dict[str, tuple] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)
    list_totals: dict[tuple[int, str], tuple] = field(default_factory=dict)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    planned: dict[tuple[str, str], float] = field(default_factory=dict)
    today: date = field(default_factory=date.today)


def references(con: duckdb.DuckDBPyConnection, *, today: date | None = None) -> References:
    """The stored units, compounds, projects, list totals and money flows rows may refer to."""
    unit_names: dict[str, str] = {}
    for code, name, en, short, national in con.execute(
            "SELECT unit_code, name, name_en, short_name, national_code FROM units").fetchall():
        for value in (code, name, en, short, national, f"济宁市{name}"):
            if value:
                unit_names.setdefault(normalise(value), code)
    for value in (settings.CITY_UNIT_CODE, "济宁市", "济宁", "全市", "市级", "Jining", "city"):
        unit_names.setdefault(normalise(value), settings.CITY_UNIT_CODE)
    compounds = {cid: (unit, status, None if pd.isna(done) else pd.Timestamp(done).date(),
                       None if pd.isna(year) else int(year), project)
                 for cid, unit, status, done, year, project in con.execute(
                     """SELECT id, coalesce(zone_code, county_code), status, completion_date, plan_year, project_id
                        FROM compounds""").fetchall()}
    totals: dict[tuple[int, str], tuple] = {}
    for year, unit, n, households, area, invest in con.execute(
            """SELECT plan_year, coalesce(unit, ?), count(*), sum(households), sum(floor_area_m2),
                      sum(invest_planned_wan)
               FROM (SELECT plan_year, coalesce(zone_code, county_code) AS unit, households, floor_area_m2,
                            invest_planned_wan FROM compounds WHERE plan_year IS NOT NULL)
               GROUP BY GROUPING SETS ((plan_year, unit), (plan_year))""",
            [settings.CITY_UNIT_CODE]).fetchall():
        totals[(int(year), str(unit))] = (int(n), households, area, invest)
    return References(
        units=unit_names,
        compounds=compounds,
        projects=dict(con.execute("SELECT id, unit_code FROM projects").fetchall()),
        list_totals=totals,
        flows=con.execute(
            "SELECT id, compound_id, project_id, source, stage, amount_wan, flow_date FROM fund_flows").fetchdf(),
        planned={(c, s): float(a) for c, s, a in con.execute(
            "SELECT compound_id, source, amount_wan FROM funding").fetchall()},
        today=date.today() if today is None else today,
    )


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and not pd.isna(value)


def validate_records(
    attributes: pd.DataFrame,
    mapping: dict[str, str | None],
    kind: str,
    *,
    row_numbers: np.ndarray,
    refs: References,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows of table ``kind`` from the mapped source ``attributes``, and the row-level report.

    Returns ``(rows, problems)``: ``rows`` has the table's columns that could be filled (projects also
    ``compound_ids``, a list), ``_row`` (source row number) and ``_valid``; ``problems`` is ``row, field,
    code, problem, value, severity``.

    Raises
    ------
    ImportRejected
        ``kind="mapping"`` when a required field is not mapped (money flows need a compound or a project
        column; findings a unit or a compound column).
    """
    fields = list(fields_for(kind, tabular=True))
    either = {"fund_flows": ("compound_id", "project_id"), "findings": ("unit_code", "compound_id")}.get(kind, ())
    check_required_mapped(fields, mapping, either=either)
    problems = Problems()
    rows = np.asarray(row_numbers)
    attributes = attributes.reset_index(drop=True)
    out = pd.DataFrame(index=pd.RangeIndex(len(attributes)))
    for f in fields:
        source = mapping.get(f.name)
        if source is None:
            out[f.name] = [[] for _ in range(len(out))] if f.type == "ids" else None
            continue
        if f.type == "unit":
            out[f.name] = _units(attributes[source], rows, refs, kind, problems)
        elif f.type == "ids":
            out[f.name] = [[] if is_blank(v) else [p for p in _LIST_SPLIT.split(text_value(v)) if p]
                           for v in attributes[source].tolist()]
        else:
            column = convert_column(f, attributes[source], source, rows, kind, problems)
            out[f.name] = check_bounds(f, column, rows, problems)
    required_values(fields, out, attributes, mapping, rows, problems)
    for name in ("compound_id", "project_id"):
        if name in out:
            _references(out, name, rows, refs, problems)
    {"annual_targets": _targets, "projects": _projects, "fund_flows": _flows, "aftercare": _aftercare,
     "findings": _findings}[kind](out, rows, refs, problems)
    _dates(out, kind, rows, refs, problems)
    _keys(out, kind, rows, problems)
    out["_row"] = rows
    report = problems.frame()
    bad = set(report.loc[(report.severity == "error") & report.row.notna(), "row"].astype(int))
    out["_valid"] = ~out["_row"].isin(bad)
    return out, report


# ------------------------------------------------------------------------------------------- columns
def _units(values: pd.Series, rows: np.ndarray, refs: References, kind: str, problems: Problems) -> list:
    out: list[object] = []
    for i, value in enumerate(values.tolist()):
        code = None if is_blank(value) else refs.units.get(normalise(text_value(value)))
        if code == settings.CITY_UNIT_CODE and kind != "annual_targets":
            code = None  # only a target may be the whole city's
        if code is None and not is_blank(value):
            allowed = "a county or function zone" + (" or 370800 (the city)" if kind == "annual_targets" else "")
            problems.add(int(rows[i]), "unit_code", "unknown_unit", f"Not a reporting unit: expected {allowed}.", value)
        out.append(code)
    return out


def _references(out: pd.DataFrame, name: str, rows: np.ndarray, refs: References, problems: Problems) -> None:
    known = refs.compounds if name == "compound_id" else refs.projects
    code = "unknown_compound" if name == "compound_id" else "unknown_project"
    what = "compound" if name == "compound_id" else "project"
    for i, value in enumerate(out[name].tolist()):
        if _known(value) and value not in known:
            problems.add(int(rows[i]), name, code, f"No stored {what} has this id.", value)


def _dates(out: pd.DataFrame, kind: str, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """Nothing happened after today (a finding's deadline may lie ahead)."""
    for f in fields_for(kind, tabular=True):
        if f.type != "date" or f.name == "deadline":
            continue
        for i, value in enumerate(out[f.name].tolist()):
            if _known(value) and value > refs.today:
                problems.add(int(rows[i]), f.name, "future_date", f"`{f.name}` is after today ({refs.today}).", value)


def _keys(out: pd.DataFrame, kind: str, rows: np.ndarray, problems: Problems) -> None:
    """Each key once in the file; a money flow or finding without an id gets one made from its content."""
    key = KEYS[kind]
    if kind in _ID_PREFIX:
        blank = out["id"].isna()
        if blank.any():
            made = []
            for record in out.drop(columns=["id"]).to_dict("records"):
                text = "|".join(f"{k}={record[k]}" for k in sorted(record))
                made.append(f"{_ID_PREFIX[kind]}-{hashlib.sha256(text.encode()).hexdigest()[:12]}")
            out["id"] = out["id"].where(~blank, pd.Series(made, index=out.index))
            problems.add(None, "id", "id_generated",
                         f"{int(blank.sum())} row(s) without an id got one made from their content.",
                         int(blank.sum()), severity="warning")
    complete = out[list(key)].notna().all(axis=1)
    dup = complete & out[list(key)].astype(str).duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        value = " / ".join(str(out[k].iat[i]) for k in key)
        problems.add(int(rows[i]), key[-1], "duplicate_id", "The same key appears more than once in the file.", value)


# -------------------------------------------------------------------------------------------- tables
def _targets(out: pd.DataFrame, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """A target names at least one figure; one differing from the compound list's total is flagged."""
    figures = ("compounds", "households", "floor_area_m2", "investment_wan")
    tolerance = settings.TARGET_MISMATCH_TOLERANCE
    for i, record in enumerate(out[["year", "unit_code", *figures]].to_dict("records")):
        row = int(rows[i])
        if not any(_known(record[f]) for f in figures):
            problems.add(row, "compounds", "target_empty", "The target gives no figure (compounds, households, "
                         "floor area or investment).")
            continue
        if not (_known(record["year"]) and _known(record["unit_code"])):
            continue
        listed = refs.list_totals.get((int(record["year"]), str(record["unit_code"])))
        if listed is None:
            continue
        for name, have in zip(figures, listed):
            target = record[name]
            if not (_known(target) and _known(have)):
                continue
            differs = target != have if name == "compounds" else abs(target - have) > tolerance * max(abs(have), 1e-9)
            if differs:
                problems.add(row, name, "target_mismatch",
                             f"The target {target:g} differs from the compound list's total {have:g}; both are "
                             "kept and shown side by side.", f"{target:g} / {have:g}", severity="warning")


def _projects(out: pd.DataFrame, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """Listed compounds are stored, in one project each, of the project's unit."""
    seen: dict[str, int] = {}
    for i, (pid, unit, ids) in enumerate(zip(out["id"], out["unit_code"], out["compound_ids"])):
        row = int(rows[i])
        for cid in ids:
            if cid not in refs.compounds:
                problems.add(row, "compound_ids", "unknown_compound", "No stored compound has this id.", cid)
                continue
            if cid in seen and seen[cid] != row:
                problems.add(row, "compound_ids", "compound_in_two_projects",
                             f"The compound is listed in the project of row {seen[cid]} too.", cid)
            seen.setdefault(cid, row)
            if _known(unit) and refs.compounds[cid][0] != unit:
                problems.add(row, "compound_ids", "other_unit",
                             f"The compound belongs to unit {refs.compounds[cid][0]}, not {unit}.", cid)
        stored_members = any(c[4] == pid for c in refs.compounds.values())
        if _known(pid) and not ids and not stored_members:
            problems.add(row, "compound_ids", "project_without_compounds",
                         "No compound belongs to the project yet (list them, or give compounds its id).", pid,
                         severity="warning")


def _flows(out: pd.DataFrame, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """A movement names a compound or a project; running totals keep paid ≤ received ≤ allocated ≤ planned.

    The running totals add the file's rows to the stored ones (ids in the file counted once), in date order
    per compound or project and source; the first row where an order is broken beyond
    ``settings.FLOW_TOLERANCE`` is flagged.
    """
    for k in np.flatnonzero((out["compound_id"].isna() & out["project_id"].isna()).to_numpy()):
        problems.add(int(rows[k]), "compound_id", "required", "A money flow needs a compound or a project.")
    for i, (cid, pid) in enumerate(zip(out["compound_id"], out["project_id"])):
        if _known(cid) and _known(pid) and cid in refs.compounds and pid in refs.projects:
            if refs.compounds[cid][4] != pid:
                problems.add(int(rows[i]), "project_id", "compound_not_in_project",
                             f"Compound {cid} is not a compound of project {pid}.", pid, severity="warning")
    ok = out["amount_wan"].notna() & out["stage"].notna() & out["source"].notna() & out["flow_date"].notna()
    mine = out[ok].assign(_row=rows[ok.to_numpy()])
    stored = refs.flows[~refs.flows["id"].isin(out["id"].dropna())] if len(refs.flows) else refs.flows
    tol = settings.FLOW_TOLERANCE
    for (target, source), group in mine.groupby(
            [mine["compound_id"].fillna("P:" + mine["project_id"].fillna("")), "source"], sort=False):
        earlier = stored[((stored["compound_id"] == target) | ("P:" + stored["project_id"].fillna("") == target))
                         & (stored["source"] == source)] if len(stored) else stored
        sums = {stage: float(earlier.loc[earlier["stage"] == stage, "amount_wan"].sum()) if len(earlier) else 0.0
                for stage in settings.FLOW_STAGES}
        order = group.sort_values(["flow_date", "_row"], kind="stable")
        flagged: set[object] = set()
        planned = refs.planned.get((target, source))
        for record in order.to_dict("records"):
            sums[record["stage"]] += float(record["amount_wan"])
            row = int(record["_row"])
            pairs = (("paid", "received"), ("received", "allocated"))
            for later, before in pairs:
                if (later, before) not in flagged and sums[later] > sums[before] * (1 + tol) + 1e-9:
                    flagged.add((later, before))
                    problems.add(row, "amount_wan", "flow_order",
                                 f"By {record['flow_date']} {later} {sums[later]:g} 万元 exceeds {before} "
                                 f"{sums[before]:g} 万元 for {target.removeprefix('P:')} ({source}).",
                                 record["amount_wan"], severity="warning")
            if planned is not None and "plan" not in flagged and sums["allocated"] > planned * (1 + tol) + 1e-9:
                flagged.add("plan")
                problems.add(row, "amount_wan", "flow_over_plan",
                             f"Allocated {sums['allocated']:g} 万元 exceeds the planned {planned:g} 万元 "
                             f"for {target} ({source}).", record["amount_wan"], severity="warning")


def _aftercare(out: pd.DataFrame, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """After-care of a completed compound; the mechanism's flag, date and mode agree."""
    for i, record in enumerate(out.to_dict("records")):
        row = int(rows[i])
        compound = refs.compounds.get(record["compound_id"]) if _known(record["compound_id"]) else None
        if compound is not None and compound[1] != "已完工":
            problems.add(row, "compound_id", "not_completed",
                         f"The compound's status is {compound[1]}, not 已完工.", record["compound_id"],
                         severity="warning")
        accepted = record["accepted_date"]
        if compound is not None and _known(accepted) and compound[2] is not None and accepted < compound[2]:
            problems.add(row, "accepted_date", "date_order",
                         f"Accepted (竣工验收) before the completion date {compound[2]}.", accepted, severity="warning")
        for name in ("mgmt_established_date", "survey_date"):
            if _known(accepted) and _known(record[name]) and record[name] < accepted:
                problems.add(row, name, "date_order", f"`{name}` is before the acceptance date {accepted}.",
                             record[name], severity="warning")
        established, since, mode = record["mgmt_established"], record["mgmt_established_date"], record["mgmt_mode"]
        if (established is True and not _known(since)) or (established is False and _known(since)) or (
                established is True and mode == "无"):
            problems.add(row, "mgmt_established", "mgmt_dates",
                         "The long-term mechanism's flag, date and management mode disagree.",
                         f"{established} / {since} / {mode}", severity="warning")


def _findings(out: pd.DataFrame, rows: np.ndarray, refs: References, problems: Problems) -> None:
    """A finding's unit (from its compound when not given), its deadline after it, closed with a date."""
    units = out["unit_code"].tolist()
    for i, record in enumerate(out.to_dict("records")):
        row = int(rows[i])
        compound = refs.compounds.get(record["compound_id"]) if _known(record["compound_id"]) else None
        if not _known(record["unit_code"]):
            if compound is not None:
                units[i] = compound[0]
            elif not _known(record["compound_id"]):
                problems.add(row, "unit_code", "required", "A finding needs its unit or its compound.")
        elif compound is not None and compound[0] != record["unit_code"]:
            problems.add(row, "unit_code", "other_unit",
                         f"The compound belongs to unit {compound[0]}, not {record['unit_code']}.",
                         record["unit_code"])
        found, deadline, closed = record["found_date"], record["deadline"], record["closed_date"]
        if _known(found) and _known(deadline) and deadline < found:
            problems.add(row, "deadline", "date_order", "The deadline is before the date the problem was found.",
                         f"{found} / {deadline}")
        if _known(found) and _known(closed) and closed < found:
            problems.add(row, "closed_date", "date_order", "Closed before the problem was found.", f"{found} / {closed}")
        if record["status"] == settings.FINDING_CLOSED and not _known(closed):
            problems.add(row, "closed_date", "closed_without_date", "Status 已销号 but no closing date (销号日期).",
                         record["status"], severity="warning")
        if _known(record["status"]) and record["status"] != settings.FINDING_CLOSED and _known(closed):
            problems.add(row, "closed_date", "closed_date_open",
                         f"A closing date but status {record['status']}, not 已销号.", closed, severity="warning")
    out["unit_code"] = pd.Series(units, index=out.index, dtype=object)
