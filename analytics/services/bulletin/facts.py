"""What one issue is written from, read from the store.

Progress now and at the comparison report, compounds behind schedule, money paid and money out of order, open
supervision findings.

Money (三、资金支付): ``analytics.funding.money_flow`` of the plan year's compounds (and of its projects, for
money booked on a project) up to the report date, per reporting unit and stage (下达 allocated, 到位 received,
支付 paid);
the **payment rate** is money paid ÷ planned investment, set beside the investment completion rate (works
done ÷ planned investment) so that a unit paying far behind its works shows. **Money out of order** (a stage
above the one before it: paid above received, …) is read for the plan year and the years before it.
Findings (督导发现问题) are those open on the report date (found on or before it, not closed by then);
**overdue** when their deadline is before the report date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from analytics import aftercare, funding, settings

PAYMENT_COLUMNS = ["unit_code", "planned_invest_wan", "allocated_wan", "received_wan", "paid_wan",
                   "paid_in_period_wan", "payment_rate"]
FINDING_COLUMNS = ["id", "unit_code", "compound_id", "category", "description", "found_date", "deadline",
                   "days_overdue"]


@dataclass(frozen=True)
class Facts:
    """The figures behind one issue (every sentence and table of the document comes from these).

    ``progress`` is ``county_progress`` at the report (ranked by ``rank_by``), ``previous`` the same at the
    comparison report (None for a first issue); ``payments`` one row per unit with money flows (None when
    the year has none), plus a city row (``unit_code`` 370800); ``findings`` the open findings;
    ``money_order`` the money out of order (``money_order``; None when not checked).
    """

    progress: pd.DataFrame
    behind: pd.DataFrame
    previous: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))
    series: pd.DataFrame | None = None
    money_order: pd.DataFrame | None = None


def payments(con: duckdb.DuckDBPyConnection, *, plan_year: int, report_date: date,
             previous_date: date | None) -> pd.DataFrame | None:
    """Money allocated, received and paid up to ``report_date`` per unit and for the city (万元).

    The sums are ``analytics.funding.money_flow`` by unit for the plan year (money booked on a project counts
    in the project's unit).

    Returns
    -------
    DataFrame or None
        ``PAYMENT_COLUMNS``: ``paid_in_period_wan`` is paid after ``previous_date`` (all paid when None);
        ``payment_rate`` paid ÷ planned investment (NaN without a plan). Units with planned compounds but
        no flows have zeros. None when the plan year has no money flows at all.
    """
    now = funding.money_flow(con, as_of=report_date, by=("unit_code",), plan_year=int(plan_year))
    if now.empty or int(now["n_flows"].sum()) == 0:
        return None
    frame = pd.DataFrame({
        "unit_code": now["unit_code"], "planned_invest_wan": now["invest_planned_wan"].fillna(0.0),
        "allocated_wan": now["allocated_wan"], "received_wan": now["received_wan"], "paid_wan": now["paid_wan"],
    })
    frame["paid_in_period_wan"] = frame["paid_wan"]
    if previous_date is not None:
        before = funding.money_flow(con, as_of=previous_date, by=("unit_code",), plan_year=int(plan_year))
        paid_before = frame["unit_code"].map(before.set_index("unit_code")["paid_wan"]).fillna(0.0)
        frame["paid_in_period_wan"] = (frame["paid_wan"] - paid_before).round(6)
    city = frame.drop(columns="unit_code").sum().to_dict()
    city["unit_code"] = settings.CITY_UNIT_CODE
    frame = pd.concat([frame, pd.DataFrame([city])], ignore_index=True)
    for col in ("planned_invest_wan", "allocated_wan", "received_wan", "paid_wan", "paid_in_period_wan"):
        frame[col] = frame[col].astype(float)
    frame["payment_rate"] = frame["paid_wan"] / frame["planned_invest_wan"].where(frame["planned_invest_wan"] > 0)
    return frame[PAYMENT_COLUMNS]


def money_order(con: duckdb.DuckDBPyConnection, *, plan_year: int, report_date: date) -> pd.DataFrame:
    """Money out of order up to ``report_date`` of the plan year and the years before it.

    ``analytics.funding.flow_order_problems``: a payment above the money received stays a problem until its
    record is corrected, whatever the batch. Movements of an unknown compound or project (no year) are kept.
    """
    problems = funding.flow_order_problems(con, as_of=report_date)
    keep = problems["plan_year"].isna() | (problems["plan_year"] <= int(plan_year))
    return problems[keep.astype(bool)].reset_index(drop=True)


def open_findings(con: duckdb.DuckDBPyConnection, *, report_date: date) -> pd.DataFrame:
    """Supervision findings open on ``report_date``, the longest overdue first (``analytics.aftercare.open_findings``).

    ``days_overdue`` is days since the deadline (≤ 0 or NaN: not overdue, or no deadline).
    """
    return aftercare.open_findings(con, as_of=report_date)[FINDING_COLUMNS]
