"""After completion: long-term management (长效管理), its mode, residents' satisfaction, and supervision findings.

Definitions:

* **Completed** — a compound whose status on ``as_of`` is 已完工, as ``analytics.progress`` takes it (its latest
  weekly report on or before the date), in any plan year.
* **Established** — its ``aftercare`` row says the long-term management mechanism is established
  (``mgmt_established``) on or before ``as_of`` (or without a date).
* **Satisfaction** — ``satisfaction_pct`` of surveys dated on or before ``as_of`` (or undated), averaged
  weighted by households.
* **Open finding** — found on or before ``as_of`` and not closed by then (closed: ``closed_date`` on or
  before ``as_of``, or status 已销号 without a date); **overdue** when its deadline is before ``as_of``.

Reporting unit: the compound's function zone, else its county; the city row is ``settings.CITY_UNIT_CODE``.
Shares are fractions 0–1 (NaN when nothing is completed); satisfaction in per cent.
"""

from __future__ import annotations

import logging
from datetime import date

import duckdb
import pandas as pd

from analytics import settings
from analytics import units as units_mod
from analytics.checks import check_connection, check_date

log = logging.getLogger(__name__)

CITY_CODE = settings.CITY_UNIT_CODE
# Management modes as stored (``settings.MGMT_MODES``) -> code used in column names; no row: ``missing``.
MODE_CODES: dict[str, str] = {"专业物业": "professional", "社区托管": "community", "业主自治": "owners", "无": "none"}
MODE_COLUMNS = [f"mode_{code}" for code in (*MODE_CODES.values(), "missing")]
SUMMARY_COLUMNS = [
    "unit_code", "completed", "with_record", "established", "established_share", *MODE_COLUMNS, "surveyed",
    "satisfaction_pct",
]
COMPOUND_COLUMNS = [
    "compound_id", "name", "unit_code", "plan_year", "households", "completed_on", "has_record", "accepted_date",
    "mgmt_mode",
    "established", "mgmt_established_date", "satisfaction_pct",
]
FINDING_COLUMNS = [
    "id", "unit_code", "compound_id", "project_id", "category", "description", "found_date", "deadline", "status",
    "days_overdue", "overdue",
]
FINDING_SUMMARY_COLUMNS = ["unit_code", "found", "open", "overdue", "closed"]


def _order(frame: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    pos = {code: i for i, code in enumerate(units_mod.unit_order(con))}
    key = frame["unit_code"].map(lambda c: (c == CITY_CODE, pos.get(c, len(pos)), str(c)))
    return frame.loc[key.sort_values().index].reset_index(drop=True)


def completed_compounds(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Every compound completed on ``as_of`` with its after-care as known on that date.

    Returns
    -------
    DataFrame
        ``COMPOUND_COLUMNS``: ``completed_on`` the first report saying 已完工 (on or before ``as_of``);
        ``has_record`` (an ``aftercare`` row exists), ``accepted_date`` (竣工验收), ``mgmt_mode`` (None without an after-care row), ``established`` (bool, as
        defined in the module docstring), ``mgmt_established_date``, ``satisfaction_pct`` (NaN when not
        surveyed by ``as_of``). Units in the official order, then by id.
    """
    check_connection(con)
    as_of = check_date(as_of)
    frame = con.execute(
        """
        WITH status AS (
            SELECT c.id, c.name, c.plan_year, c.households,
                   CASE WHEN c.zone_code IS NOT NULL THEN c.zone_code ELSE c.county_code END AS unit_code,
                   (SELECT r.status FROM progress_reports r WHERE r.compound_id = c.id AND r.report_date <= $as_of
                    ORDER BY r.report_date DESC LIMIT 1) AS status,
                   (SELECT min(r.report_date) FROM progress_reports r WHERE r.compound_id = c.id
                    AND r.report_date <= $as_of AND r.status = '已完工') AS completed_on
            FROM compounds c
        )
        SELECT s.id AS compound_id, s.name, s.unit_code, s.plan_year, s.households, s.completed_on,
               a.compound_id IS NOT NULL AS has_record, a.accepted_date, a.mgmt_mode,
               coalesce(a.mgmt_established AND coalesce(a.mgmt_established_date <= $as_of, true), false) AS established,
               a.mgmt_established_date,
               CASE WHEN coalesce(a.survey_date <= $as_of, true) THEN a.satisfaction_pct END AS satisfaction_pct
        FROM status s LEFT JOIN aftercare a ON a.compound_id = s.id
        WHERE s.status = '已完工'
        ORDER BY s.id
        """,
        {"as_of": as_of},
    ).fetchdf()
    for col in ("completed_on", "accepted_date", "mgmt_established_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["plan_year"] = frame["plan_year"].astype("Int64")
    frame["satisfaction_pct"] = frame["satisfaction_pct"].astype("float64")
    for col in ("established", "has_record"):
        frame[col] = frame[col].astype(bool)
    return _order(frame, con)[COMPOUND_COLUMNS] if not frame.empty else frame.reindex(columns=COMPOUND_COLUMNS)


def aftercare_summary(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Per unit and for the city: completed compounds, after-care recorded, 长效管理 established, modes, satisfaction.

    Returns
    -------
    DataFrame
        ``SUMMARY_COLUMNS``, one row per unit with a completed compound plus the city row (empty when
        nothing is completed): ``completed``, ``with_record`` (an after-care row), ``established`` and
        ``established_share`` (÷ completed), the mode mix as counts (``mode_professional`` 专业物业,
        ``mode_community`` 社区托管, ``mode_owners`` 业主自治, ``mode_none`` 无, ``mode_missing`` not
        entered), ``surveyed`` (compounds with a satisfaction figure) and ``satisfaction_pct`` (household-
        weighted mean, %; NaN when none surveyed).
    """
    done = completed_compounds(con, as_of=as_of)
    if done.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    mode = done["mgmt_mode"].map(MODE_CODES).fillna("missing")
    surveyed = done["satisfaction_pct"].notna()
    parts = pd.DataFrame({
        "unit_code": done["unit_code"], "completed": 1, "with_record": done["has_record"].astype(int),
        "established": done["established"].astype(int),
        **{col: (mode == col.removeprefix("mode_")).astype(int) for col in MODE_COLUMNS},
        "surveyed": surveyed.astype(int),
        "_weight": done["households"].where(surveyed, 0).astype(float),
        "_weighted": (done["satisfaction_pct"] * done["households"]).where(surveyed, 0.0),
    })
    sums = [c for c in parts.columns if c != "unit_code"]
    per = parts.groupby("unit_code", as_index=False)[sums].sum()
    city = per[sums].sum().to_frame().T.assign(unit_code=CITY_CODE)
    out = pd.concat([per, city], ignore_index=True)
    for col in ("completed", "with_record", "established", *MODE_COLUMNS, "surveyed"):
        out[col] = out[col].astype("int64")
    out["established_share"] = out["established"] / out["completed"]
    out["satisfaction_pct"] = (out["_weighted"] / out["_weight"].where(out["_weight"] > 0)).astype("float64")
    log.info("after-care on %s: %d completed, %d established", as_of, int(city["completed"].iloc[0]),
             int(city["established"].iloc[0]))
    return _order(out, con)[SUMMARY_COLUMNS]


_OPEN_SQL = """
SELECT id, unit_code, compound_id, project_id, category, description, found_date, deadline, status,
       CASE WHEN deadline IS NOT NULL THEN date_diff('day', deadline, $as_of) END AS days_overdue
FROM findings
WHERE found_date <= $as_of
  AND NOT (coalesce(closed_date <= $as_of, false) OR (closed_date IS NULL AND status = $closed))
ORDER BY days_overdue DESC NULLS LAST, found_date, id
"""


def open_findings(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Supervision findings open on ``as_of``, the longest overdue first.

    Returns
    -------
    DataFrame
        ``FINDING_COLUMNS``: ``status`` as stored (a finding closed after ``as_of`` shows its later status),
        ``days_overdue`` days since the deadline (≤ 0: not yet due; NaN: no deadline), ``overdue``
        (``days_overdue`` > 0, i.e. the deadline is before ``as_of``).
    """
    check_connection(con)
    as_of = check_date(as_of)
    frame = con.execute(_OPEN_SQL, {"as_of": as_of, "closed": settings.FINDING_CLOSED}).fetchdf()
    for col in ("found_date", "deadline"):
        frame[col] = pd.to_datetime(frame[col])
    frame["days_overdue"] = frame["days_overdue"].astype("float64")
    frame["overdue"] = (frame["days_overdue"] > 0).to_numpy(dtype=bool)
    return frame[FINDING_COLUMNS]


def findings_summary(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Per unit and for the city: findings found by ``as_of``, of them open, overdue and closed.

    Returns
    -------
    DataFrame
        ``FINDING_SUMMARY_COLUMNS``, one row per unit with a finding plus the city row (empty when none).
    """
    check_connection(con)
    as_of = check_date(as_of)
    found = con.execute("SELECT id, unit_code FROM findings WHERE found_date <= ?", [as_of]).fetchdf()
    if found.empty:
        return pd.DataFrame(columns=FINDING_SUMMARY_COLUMNS)
    still = open_findings(con, as_of=as_of).set_index("id")
    found["open"] = found["id"].isin(still.index).astype(int)
    found["overdue"] = found["id"].map(still["overdue"]).fillna(False).astype(int)
    found["found"] = 1
    found["closed"] = 1 - found["open"]
    sums = ["found", "open", "overdue", "closed"]
    per = found.groupby("unit_code", as_index=False)[sums].sum()
    out = pd.concat([per, per[sums].sum().to_frame().T.assign(unit_code=CITY_CODE)], ignore_index=True)
    for col in sums:
        out[col] = out[col].astype("int64")
    return _order(out, con)[FINDING_SUMMARY_COLUMNS]

