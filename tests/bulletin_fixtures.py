"""Hand-built periods for the bulletin tests: frames whose every figure is written here, and a tiny database.

The period: week of 2020-06-26 (issue 17), compared with 2020-06-19. Units, in the official order:
任城区, 兖州区, 微山县, 鱼台县 (counties), 太白湖新区 (a zone with 2 compounds: a small unit) and
济宁经济技术开发区 (a zone without a task this year).

| unit     | task n / hh | started n / hh now (before) | completed n / hh now (before) | invest plan / done (before) |
|----------|-------------|-----------------------------|-------------------------------|-----------------------------|
| 任城区   | 10 / 4000   | 8 / 3000 (7 / 2650)         | 2 / 800 (1 / 200)             | 1000 / 400 (380)            |
| 兖州区   | 5 / 2000    | 5 / 2000 (5 / 2000)         | 1 / 400 (1 / 400)             | 500 / 100 (90)              |
| 微山县   | 5 / 2000    | 2 / 800 (2 / 800)           | 0 / 0                         | 500 / 50 (40)               |
| 鱼台县   | 4 / 1600    | 3 / 1200 (1 / 400)          | 0 / 0                         | 400 / 0 (0)                 |
| 太白湖新区 | 2 / 700   | 2 / 700 (2 / 700)           | 0 / 0                         | 200 / 20 (10)               |
| city     | 26 / 10300  | 20 / 7700 (17 / 6550)       | 3 / 1200 (2 / 600)            | 2600 / 570 (520)            |

Start rates now: 兖州区 and 太白湖新区 100 % (rank 1), 任城区 80 % (3), 鱼台县 75 % (4), 微山县 40 % (5),
city 20/26 = 76.9 %. A week before: 鱼台县 25 % (rank 5) and 微山县 40 % (rank 4), the rest as now.
Floor area is 87.5 m² per household throughout.
"""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import progress, store
from analytics.services.bulletin.issues import Issue

WEEK = date(2020, 6, 26)
PREVIOUS = date(2020, 6, 19)
M2_PER_HOUSEHOLD = 87.5

UNITS = [
    # code, name, kind, task n, task hh, started n, hh, completed n, hh, invest plan, done
    ("370811", "任城区", "county", 10, 4000, 8, 3000, 2, 800, 1000.0, 400.0),
    ("370812", "兖州区", "county", 5, 2000, 5, 2000, 1, 400, 500.0, 100.0),
    ("370826", "微山县", "county", 5, 2000, 2, 800, 0, 0, 500.0, 50.0),
    ("370827", "鱼台县", "county", 4, 1600, 3, 1200, 0, 0, 400.0, 0.0),
    ("Z02", "太白湖新区", "zone", 2, 700, 2, 700, 0, 0, 200.0, 20.0),
]
BEFORE = {  # started n, hh, completed n, hh, invest done a week before
    "370811": (7, 2650, 1, 200, 380.0), "370812": (5, 2000, 1, 400, 90.0), "370826": (2, 800, 0, 0, 40.0),
    "370827": (1, 400, 0, 0, 0.0), "Z02": (2, 700, 0, 0, 10.0),
}
NO_TASK = ("Z03", "济宁经济技术开发区", "zone")


def _frame(rows: list[dict], *, rank_by: str = "start_rate_compounds") -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    units = frame["kind"] != "city"
    city = {c: frame.loc[units, c].sum() for c in (
        "planned_compounds", "planned_households", "started", "started_households", "completed",
        "completed_households", "planned_invest_wan", "invest_done_wan")}
    frame = pd.concat([frame, pd.DataFrame([{"unit_code": "370800", "name": "济宁市", "kind": "city", **city}])],
                      ignore_index=True)
    frame["name_en"] = frame["name"]
    frame["approved"] = frame["planned_compounds"]
    for what in ("planned", "started", "completed"):
        frame[f"{what}_floor_area_m2"] = frame[f"{what}_households"] * M2_PER_HOUSEHOLD
    task = frame["planned_compounds"].where(frame["planned_compounds"] > 0)
    frame["start_rate_compounds"] = frame["started"] / task
    frame["start_rate_households"] = frame["started_households"] / frame["planned_households"].where(task.notna())
    frame["completion_rate"] = frame["completed"] / task
    frame["invest_rate"] = frame["invest_done_wan"] / frame["planned_invest_wan"].where(task.notna())
    frame["rank"] = progress.rank_values(frame[rank_by].where(frame["kind"] != "city"))
    for col, value in (("elevators_added", 3), ("parking_spaces", 40), ("chargers", 12), ("facilities_added", 2),
                       ("pipes_km", 4.25)):
        frame[col] = value
    return frame


def _rows(*, before: bool, with_no_task: bool) -> list[dict]:
    rows = []
    for code, name, kind, n, hh, s, shh, c, chh, plan, done in UNITS:
        if before:
            s, shh, c, chh, done = BEFORE[code]
        rows.append({"unit_code": code, "name": name, "kind": kind, "planned_compounds": n, "planned_households": hh,
                     "started": s, "started_households": shh, "completed": c, "completed_households": chh,
                     "planned_invest_wan": plan, "invest_done_wan": done})
    if with_no_task:
        code, name, kind = NO_TASK
        rows.append({"unit_code": code, "name": name, "kind": kind, "planned_compounds": 0, "planned_households": 0,
                     "started": 0, "started_households": 0, "completed": 0, "completed_households": 0,
                     "planned_invest_wan": 0.0, "invest_done_wan": 0.0})
    return rows


def hand_previous(*, with_no_task: bool = True, rank_by: str = "start_rate_compounds") -> pd.DataFrame:
    """The period a week before (``county_progress`` columns)."""
    return _frame(_rows(before=True, with_no_task=with_no_task), rank_by=rank_by)


def hand_progress(*, with_no_task: bool = True, first_issue: bool = False,
                  rank_by: str = "start_rate_compounds") -> pd.DataFrame:
    """The period now, its changes against ``hand_previous`` (NaN for a first issue)."""
    now = _frame(_rows(before=False, with_no_task=with_no_task), rank_by=rank_by)
    before = hand_previous(with_no_task=with_no_task, rank_by=rank_by).set_index("unit_code")
    for col in ("start_rate_compounds", "completion_rate", "invest_rate"):
        change = now[col] - now["unit_code"].map(before[col])
        now[f"{col}_chg_week"] = np.nan if first_issue else change
        now[f"{col}_chg_month"] = np.nan
    return now


def hand_behind() -> pd.DataFrame:
    """Two compounds behind schedule on 2020-06-26."""
    return pd.DataFrame({
        "compound_id": ["370826-2020-001", "370811-2020-004"], "name": ["乙小区", "甲小区"],
        "county_code": ["370826", "370811"], "unit_code": ["370826", "370811"], "status": ["已立项", "未开工"],
        "planned_start_date": pd.to_datetime(["2020-06-06", "2020-05-22"]),
        "planned_completion_date": pd.to_datetime(["2020-11-30", "2020-06-01"]),
        "days_late": [20, 35], "reason": ["start_overdue", "start_overdue;completion_overdue"],
        "last_report_date": pd.to_datetime(["2020-06-26", "2020-06-26"]),
    })


def hand_payments() -> pd.DataFrame:
    """Money per unit: 任城区 has paid 10 % of its plan against 40 % of works done (30 points behind)."""
    rows = [
        ("370811", 1000.0, 600.0, 500.0, 100.0, 40.0), ("370812", 500.0, 300.0, 200.0, 100.0, 0.0),
        ("370826", 500.0, 100.0, 100.0, 50.0, 10.0), ("370827", 400.0, 0.0, 0.0, 0.0, 0.0),
        ("Z02", 200.0, 50.0, 50.0, 20.0, 20.0),
    ]
    frame = pd.DataFrame(rows, columns=["unit_code", "planned_invest_wan", "allocated_wan", "received_wan", "paid_wan",
                                        "paid_in_period_wan"])
    city = frame.drop(columns="unit_code").sum().to_dict()
    frame = pd.concat([frame, pd.DataFrame([{"unit_code": "370800", **city}])], ignore_index=True)
    frame["payment_rate"] = frame["paid_wan"] / frame["planned_invest_wan"]
    return frame


def hand_findings() -> pd.DataFrame:
    """Open findings on 2020-06-26: one of 微山县's is 10 days past its deadline, 任城区's is not yet due."""
    return pd.DataFrame({
        "id": ["F2", "F1"], "unit_code": ["370826", "370811"], "compound_id": [None, "370811-2020-004"],
        "category": ["质量安全", "开工"], "description": ["施工现场围挡缺失", "未办理施工许可"],
        "found_date": pd.to_datetime(["2020-06-01", "2020-06-20"]),
        "deadline": pd.to_datetime(["2020-06-16", "2020-07-10"]), "days_overdue": [10.0, -14.0],
    })


def hand_issue(**changes) -> Issue:
    """Issue 17 of the 2020 weekly series, made from the report of 2020-06-26."""
    options = {"kind": "week", "year": 2020, "issue": 17, "doc_number": "济旧改指办〔2020〕17号", "report_date": WEEK,
               "previous_date": PREVIOUS, "period_start": WEEK - timedelta(days=6), "period": WEEK, "plan_year": 2020}
    options.update(changes)
    return Issue(**options)


# ------------------------------------------------------------------------------------- a tiny database
def build_reports(con, dates: list[date], *, compounds: int = 3, plan_year: int = 2020) -> None:
    """``compounds`` compounds of 任城区 in ``plan_year``, each reported 已开工 on every date of ``dates``."""
    rows = []
    for i in range(compounds):
        rows.append({"id": f"C{i}", "name": f"小区{i}", "county_code": "370811", "zone_code": None,
                     "plan_year": plan_year, "built_year": 1995, "households": 100, "floor_area_m2": 8_000.0,
                     "invest_planned_wan": 100.0, "status": "已开工",
                     "geometry": shapely.box(500_000 + 300 * i, 3_900_000, 500_100 + 300 * i, 3_900_100)})
    store.insert_frame(con, "compounds", gpd.GeoDataFrame(rows, geometry="geometry", crs=4548))
    reports = pd.DataFrame([{"report_date": d, "compound_id": f"C{i}", "county_code": "370811", "status": "已开工",
                             "invest_done_wan": 10.0} for d in dates for i in range(compounds)])
    store.insert_frame(con, "progress_reports", reports)


def fridays(first: date, last: date) -> list[date]:
    """Every Friday from ``first`` (a Friday) to ``last``."""
    out, day = [], first
    while day <= last:
        out.append(day)
        day += timedelta(days=7)
    return out
