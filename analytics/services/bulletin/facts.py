"""What one issue is written from, read from the store.

Progress now and at the comparison report, compounds behind schedule, money paid, open supervision findings.

Money (三、资金支付): ``fund_flows`` of the plan year's compounds (or of its projects, for money booked on a
project) up to the report date, per reporting unit and stage (下达 allocated, 到位 received, 支付 paid);
the **payment rate** is money paid ÷ planned investment, set beside the investment completion rate (works
done ÷ planned investment) so that a unit paying far behind its works shows. Findings (督导发现问题) are
those open on the report date (found on or before it, not closed by then); **overdue** when their deadline
is before the report date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from analytics import settings

PAYMENT_COLUMNS = ["unit_code", "planned_invest_wan", "allocated_wan", "received_wan", "paid_wan",
                   "paid_in_period_wan", "payment_rate"]
FINDING_COLUMNS = ["id", "unit_code", "compound_id", "category", "description", "found_date", "deadline",
                   "days_overdue"]


@dataclass(frozen=True)
class Facts:
    """The figures behind one issue (every sentence and table of the document comes from these).

    ``progress`` is ``county_progress`` at the report (ranked by ``rank_by``), ``previous`` the same at the
    comparison report (None for a first issue); ``payments`` one row per unit with money flows (None when
    the year has none), plus a city row (``unit_code`` 370800); ``findings`` the open findings.
    """

    progress: pd.DataFrame
    behind: pd.DataFrame
    previous: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))
    series: pd.DataFrame | None = None


_UNIT_OF_COMPOUND = "CASE WHEN c.zone_code IS NOT NULL THEN c.zone_code ELSE c.county_code END"


def payments(con: duckdb.DuckDBPyConnection, *, plan_year: int, report_date: date,
             previous_date: date | None) -> pd.DataFrame | None:
    """Money allocated, received and paid up to ``report_date`` per unit and for the city (万元).

    Returns
    -------
    DataFrame or None
        ``PAYMENT_COLUMNS``: ``paid_in_period_wan`` is paid after ``previous_date`` (all paid when None);
        ``payment_rate`` paid ÷ planned investment (NaN without a plan). Units with planned compounds but
        no flows have zeros. None when the plan year has no money flows at all.
    """
    frame = con.execute(
        f"""
        WITH plan AS (
            SELECT {_UNIT_OF_COMPOUND} AS unit_code, c.id, c.project_id, c.invest_planned_wan
            FROM compounds c WHERE c.plan_year = $year
        ),
        flows AS (
            SELECT coalesce(p.unit_code, pr.unit_code) AS unit_code, f.stage, f.amount_wan, f.flow_date
            FROM fund_flows f
            LEFT JOIN plan p ON p.id = f.compound_id
            LEFT JOIN projects pr ON f.compound_id IS NULL AND pr.id = f.project_id
                 AND (pr.year = $year OR pr.id IN (SELECT project_id FROM plan))
            WHERE f.flow_date <= $report AND (p.id IS NOT NULL OR pr.id IS NOT NULL)
        ),
        planned AS (SELECT unit_code, sum(invest_planned_wan) AS planned_invest_wan FROM plan GROUP BY 1),
        moved AS (
            SELECT unit_code,
                   sum(amount_wan) FILTER (WHERE stage = 'allocated') AS allocated_wan,
                   sum(amount_wan) FILTER (WHERE stage = 'received') AS received_wan,
                   sum(amount_wan) FILTER (WHERE stage = 'paid') AS paid_wan,
                   sum(amount_wan) FILTER (WHERE stage = 'paid' AND ($previous IS NULL OR flow_date > $previous))
                       AS paid_in_period_wan,
                   count(*) AS n
            FROM flows GROUP BY 1
        )
        SELECT coalesce(p.unit_code, m.unit_code) AS unit_code, coalesce(p.planned_invest_wan, 0) AS planned_invest_wan,
               coalesce(allocated_wan, 0) AS allocated_wan, coalesce(received_wan, 0) AS received_wan,
               coalesce(paid_wan, 0) AS paid_wan, coalesce(paid_in_period_wan, 0) AS paid_in_period_wan,
               coalesce(n, 0) AS n
        FROM planned p FULL JOIN moved m ON m.unit_code = p.unit_code
        """,
        {"year": int(plan_year), "report": report_date, "previous": previous_date},
    ).fetchdf()
    if frame.empty or int(frame["n"].sum()) == 0:
        return None
    city = frame.drop(columns="unit_code").sum().to_dict()
    city["unit_code"] = settings.CITY_UNIT_CODE
    frame = pd.concat([frame, pd.DataFrame([city])], ignore_index=True)
    for col in ("planned_invest_wan", "allocated_wan", "received_wan", "paid_wan", "paid_in_period_wan"):
        frame[col] = frame[col].astype(float)
    frame["payment_rate"] = frame["paid_wan"] / frame["planned_invest_wan"].where(frame["planned_invest_wan"] > 0)
    return frame[PAYMENT_COLUMNS]


def open_findings(con: duckdb.DuckDBPyConnection, *, report_date: date) -> pd.DataFrame:
    """Supervision findings open on ``report_date``, the longest overdue first.

    ``days_overdue`` is days since the deadline (≤ 0 or NaN: not overdue, or no deadline).
    """
    frame = con.execute(
        """SELECT id, unit_code, compound_id, category, description, found_date, deadline,
                  CASE WHEN deadline IS NOT NULL THEN date_diff('day', deadline, $report) END AS days_overdue
           FROM findings
           WHERE found_date <= $report
             AND NOT (coalesce(closed_date <= $report, false)
                      OR (closed_date IS NULL AND status = $closed))
           ORDER BY days_overdue DESC NULLS LAST, found_date, id""",
        {"report": report_date, "closed": settings.FINDING_CLOSED},
    ).fetchdf()
    for col in ("found_date", "deadline"):
        frame[col] = pd.to_datetime(frame[col])
    return frame[FINDING_COLUMNS]
