"""A hand-built programme: three plan years, a future one, candidates, targets, reports, money and after-care.

Every expected figure in ``test_programme.py``, ``test_money_flow.py`` and ``test_aftercare.py`` is worked
out by hand from these rows.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import shapely

from analytics import store

AS_OF = date(2022, 6, 30)
# id, county, zone, plan year, built year, households, floor area m², planned investment 万元, for demolition
COMPOUNDS = [
    ("A1", "370811", None, 2020, 1990, 100, 10_000.0, 300.0, False),
    ("A2", "370811", None, 2020, 1998, 200, 20_000.0, 600.0, False),
    ("Z1", "370811", "Z01", 2020, 2003, 50, 5_000.0, 150.0, False),
    ("B1", "370812", None, 2021, 2002, 300, 30_000.0, 900.0, False),
    ("B2", "370812", None, 2022, 1995, 400, 40_000.0, 1_200.0, False),
    ("F1", "370811", None, 2027, 1999, 10, 1_000.0, 30.0, False),  # planned for a later year
    ("P1", "370811", None, None, 1985, 80, 8_000.0, None, False),  # candidates (储备库)
    ("P2", "370812", None, None, 2004, 60, 6_000.0, None, False),
    ("P3", "370812", None, None, 2010, 90, 9_000.0, None, False),  # built after 2005: not eligible
    ("P4", "370811", None, None, 1990, 70, 7_000.0, None, True),  # to be demolished: not eligible
]
# report date, compound, status
REPORTS = [
    (date(2020, 11, 27), "A1", "已完工"), (date(2020, 11, 27), "A2", "已开工"), (date(2020, 11, 27), "Z1", "已开工"),
    (date(2021, 6, 4), "Z1", "已完工"), (date(2021, 10, 1), "B1", "已完工"),
    (date(2022, 7, 1), "B2", "已开工"),  # after AS_OF: not counted
]
# year, unit, compounds, households, floor area m², investment 万元
TARGETS = [
    (2020, "370811", 2, 300, 30_000.0, 900.0),  # equals the list
    (2020, "Z01", 1, 50, 6_000.0, 150.0),  # floor area 20 % above the list
    (2021, "370812", 1, 300, 25_000.0, 900.0),  # below the list: 120 % done
    (2022, "370800", 2, 500, 50_000.0, 1_500.0),  # the city's own row
    (2022, "370812", 1, 400, 40_000.0, 1_200.0),
]


def build_programme(con) -> None:
    """Write the rows above into an empty store."""
    rows = []
    for i, (cid, county, zone, year, built, hh, area, inv, demolish) in enumerate(COMPOUNDS):
        rows.append({"id": cid, "name": f"小区{cid}", "county_code": county, "zone_code": zone, "plan_year": year,
                     "built_year": built, "households": hh, "floor_area_m2": area, "invest_planned_wan": inv,
                     "demolition_planned": demolish, "status": "未开工",
                     "geometry": shapely.box(500_000 + 300 * i, 3_900_000, 500_100 + 300 * i, 3_900_100)})
    store.insert_frame(con, "compounds", gpd.GeoDataFrame(rows, geometry="geometry", crs=4548))
    county = {c[0]: c[1] for c in COMPOUNDS}
    reports = pd.DataFrame(REPORTS, columns=["report_date", "compound_id", "status"])
    reports["county_code"] = reports["compound_id"].map(county)
    store.insert_frame(con, "progress_reports", reports)
    targets = pd.DataFrame(TARGETS, columns=["year", "unit_code", "compounds", "households", "floor_area_m2",
                                             "investment_wan"])
    store.insert_frame(con, "annual_targets", targets)


# Money. Planned (funding) per compound and source, 万元; B2 has none.
FUNDING = [("A1", "central_subsidy", 100.0), ("A1", "local_fiscal", 200.0), ("A2", "local_fiscal", 600.0),
           ("Z1", "special_bonds", 150.0), ("B1", "central_subsidy", 300.0), ("B1", "local_fiscal", 600.0)]
# PR1 (2020, 任城区) bundles A1 and A2; PRZ (济宁高新区, no year of its own) holds Z1.
PROJECTS = [("PR1", "任城片区", 2020, "370811"), ("PRZ", "高新区片区", None, "Z01")]
MEMBERS = {"A1": "PR1", "A2": "PR1", "Z1": "PRZ"}
# id, date, compound, project, source, stage, 万元
FLOWS = [
    ("a1", date(2020, 5, 1), "A1", None, "central_subsidy", "allocated", 100.0),
    ("a2", date(2020, 6, 1), "A1", None, "central_subsidy", "received", 100.0),
    ("a3", date(2020, 9, 1), "A1", None, "central_subsidy", "paid", 60.0),
    ("a4", date(2020, 5, 1), "A1", None, "local_fiscal", "allocated", 200.0),
    ("a5", date(2020, 7, 1), "A1", None, "local_fiscal", "received", 150.0),
    ("a6", date(2020, 10, 1), "A1", None, "local_fiscal", "paid", 160.0),  # more than received
    ("a7", date(2020, 5, 1), "A2", None, "local_fiscal", "allocated", 600.0),
    ("a8", date(2020, 8, 1), "A2", None, "local_fiscal", "received", 300.0),
    ("a9", date(2020, 11, 1), None, "PR1", "local_fiscal", "paid", 100.0),  # booked on the project
    ("z1", date(2021, 3, 1), "Z1", None, "special_bonds", "allocated", 150.0),
    ("z2", date(2021, 4, 1), "Z1", None, "special_bonds", "received", 150.0),
    ("z3", date(2021, 5, 1), "Z1", None, "special_bonds", "paid", 150.0),
    ("z4", date(2021, 6, 1), None, "PRZ", "provincial", "allocated", 10.0),  # zone project: county of Z1
    ("b1", date(2021, 5, 1), "B1", None, "central_subsidy", "allocated", 330.0),  # 10 % above the plan
    ("b2", date(2022, 8, 1), "B1", None, "central_subsidy", "received", 330.0),  # after AS_OF
    ("o1", date(2021, 1, 1), "X9", None, "residents", "paid", 5.0),  # no such compound
]


def build_money(con) -> None:
    """``build_programme`` plus funding, projects and money flows."""
    build_programme(con)
    store.insert_frame(con, "funding", pd.DataFrame(FUNDING, columns=["compound_id", "source", "amount_wan"]))
    store.insert_frame(con, "projects", pd.DataFrame(PROJECTS, columns=["id", "name", "year", "unit_code"]))
    for cid, pid in MEMBERS.items():
        con.execute("UPDATE compounds SET project_id = ? WHERE id = ?", [pid, cid])
    store.insert_frame(con, "fund_flows", pd.DataFrame(
        FLOWS, columns=["id", "flow_date", "compound_id", "project_id", "source", "stage", "amount_wan"]))


# After-care: compound, accepted, mode, established, established on, satisfaction %, surveyed on. Completed on
# AS_OF: A1, Z1, B1. Z1's mechanism is established after AS_OF; B1 has no row; A2 is not completed.
AFTERCARE = [
    ("A1", date(2020, 12, 20), "专业物业", True, date(2021, 3, 1), 90.0, date(2021, 3, 15)),
    ("Z1", date(2021, 6, 20), "社区托管", True, date(2022, 9, 1), 80.0, date(2022, 5, 1)),
    ("A2", None, "业主自治", True, date(2021, 1, 1), 70.0, date(2021, 1, 1)),
]
# Findings: id, unit, found, deadline, status, closed on
FINDINGS = [
    ("F1", "370811", date(2022, 5, 1), date(2022, 6, 1), "整改中", None),  # 29 days overdue on AS_OF
    ("F2", "370812", date(2022, 6, 10), date(2022, 7, 10), "交办", None),  # open, not yet due
    ("F3", "Z01", date(2022, 3, 1), date(2022, 4, 1), "已销号", date(2022, 3, 20)),  # closed
    ("F4", "370811", date(2022, 6, 1), date(2022, 6, 15), "已销号", date(2022, 7, 5)),  # closed after AS_OF
    ("F5", "370812", date(2022, 7, 15), date(2022, 8, 1), "交办", None),  # found after AS_OF
    ("F6", "370811", date(2021, 1, 1), None, "交办", None),  # no deadline: open, never overdue
]


def build_aftercare(con) -> None:
    """``build_programme`` plus after-care rows and supervision findings."""
    build_programme(con)
    store.insert_frame(con, "aftercare", pd.DataFrame(AFTERCARE, columns=[
        "compound_id", "accepted_date", "mgmt_mode", "mgmt_established", "mgmt_established_date", "satisfaction_pct",
        "survey_date"]))
    rows = pd.DataFrame(FINDINGS, columns=["id", "unit_code", "found_date", "deadline", "status", "closed_date"])
    store.insert_frame(con, "findings", rows.assign(category="开工", description="问题"))
