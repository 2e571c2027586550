"""Demo programme tables (演示数据): annual targets, projects, money flows, after-care and supervision findings.

Made from the demo's compounds (``analytics.store.demo``) with their dates as of the demo's today:

* ``annual_targets`` — per plan year and reporting unit (county, or function zone for its own compounds)
  the list's totals (floor area rounded to 100 m²), plus a city row (370800) adding them up (floor area
  rounded to 10,000 m²; 2020: the plan's 68 / 26,000 / 2,280,000 m²); in the places of
  ``TARGET_CHANGES`` the task differs from the list (the list short of it, or beyond it);
* ``projects`` — every planned compound in a project: most alone (单独实施), some neighbours on one
  street let as one package (打包 / 成片捆绑 / 工程总承包) of two to five compounds;
* ``fund_flows`` — per compound and funding source: allocated (下达) after approval, received (到位) in
  two parts, paid (支付) after the start, after completion and the rest a year later, so money lags the
  works; a few payments deliberately exceed the money received (``FLOW_ANOMALIES``);
* ``aftercare`` — for completed compounds: acceptance, property management, the long-term mechanism and
  residents' satisfaction; some completed compounds have no after-care yet;
* ``findings`` — supervision findings over the last years, most closed (已销号), a few open and some of
  those past their deadline.

Everything is deterministic for a seed; nothing here places geometry.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics import settings

TARGET_SOURCE = "市老旧小区改造工作指挥部年度任务（演示数据）"
# (year, unit, measure) -> the task as a factor of the list's figure, or (for compounds) a number added.
TARGET_CHANGES: dict[tuple[int, str, str], float] = {
    (2021, "370811", "floor_area_m2"): 1.08,   # 任城区: task above the list
    (2023, "370883", "compounds"): 3,          # 邹城市: three compounds more than listed
    (2024, "370881", "households"): 0.85,      # 曲阜市: the list goes beyond the task
    (2026, "370829", "floor_area_m2"): 1.10,   # 嘉祥县: behind, and the task above the list
    (2026, "370829", "compounds"): 2,
    (2026, "370826", "households"): 0.90,      # 微山县: the list beyond the task
}
TARGET_NOTES = {
    (2021, "370811"): "省下达任务调增，名单待补充",
    (2023, "370883"): "任务含3个待确认小区",
    (2024, "370881"): "名单超额申报",
    (2026, "370829"): "任务调增，名单待补充",
    (2026, "370826"): "名单超额申报",
}
CONTRACTORS = (
    "济宁城建工程（演示）", "鲁南建设集团（演示）", "运河市政工程（演示）", "泗河建工（演示）", "微湖建设（演示）",
    "孔孟建安（演示）", "太白建设工程（演示）", "兖州建工（演示）", "邹鲁市政（演示）", "梁山建设（演示）",
)
PACKAGE_MODELS = ("打包", "成片捆绑", "工程总承包")
PACKAGE_SHARE = 0.3  # share of (unit, street) groups of two or more compounds let as one package
# Payments deliberately above the money received: (plan year, position in that year's id order).
FLOW_ANOMALIES: tuple[tuple[int, int], ...] = ((2024, 7), (2025, 30))
RETENTION_SHARE = 0.03  # 质保金: held back after the final payment
AFTERCARE_MISSING_SHARE = 0.07
MGMT_MODE_P = (0.45, 0.30, 0.15, 0.10)  # settings.MGMT_MODES
FINDING_TEXT = {
    "立项": "立项手续不全，施工图审查未完成", "开工": "计划开工日期已过仍未进场施工",
    "竣工": "已完工小区未组织竣工验收", "改造内容": "雨污分流改造内容未按方案实施",
    "资金支付": "工程款拨付滞后，未按合同节点支付", "长效管理": "改造后未建立物业管理长效机制",
    "质量安全": "外墙保温施工存在质量隐患", "其他": "居民意见未及时回应",
}


def unit_of(comp: pd.DataFrame) -> pd.Series:
    """Each compound's reporting unit: its function zone when it has one, else its county."""
    zone = comp["zone_code"] if "zone_code" in comp.columns else pd.Series(None, index=comp.index, dtype=object)
    return zone.where(zone.notna(), comp["county_code"]).astype(str)


def _days(rng: np.random.Generator, low: int, high: int, n: int) -> pd.TimedeltaIndex:
    return pd.to_timedelta(rng.integers(low, high, n), unit="D")


# ----------------------------------------------------------------------------------------------- targets
def annual_targets(comp: pd.DataFrame, issued: dict[int, date]) -> pd.DataFrame:
    """The task per plan year and unit, and the city's (370800), as issued on ``issued[year]``."""
    planned = comp[comp["plan_year"].notna()].assign(unit_code=unit_of(comp), year=comp["plan_year"])
    rows = planned.groupby(["year", "unit_code"]).agg(
        compounds=("id", "size"), households=("households", "sum"), floor_area_m2=("floor_area_m2", "sum"),
        investment_wan=("invest_planned_wan", "sum")).reset_index()
    rows["year"] = rows["year"].astype(int)
    rows["floor_area_m2"] = rows["floor_area_m2"].round(-2)
    rows["households"] = rows["households"].astype(int)  # exact: a rate of the whole list is 100 %, not 100.1 %
    rows["investment_wan"] = rows["investment_wan"].round(2)
    rows["note"] = None
    for (year, unit, measure), change in TARGET_CHANGES.items():
        at = (rows["year"] == year) & (rows["unit_code"] == unit)
        if measure == "compounds":
            rows.loc[at, measure] = rows.loc[at, measure] + int(change)
        else:
            rows.loc[at, measure] = (rows.loc[at, measure] * change).round(-2 if measure == "floor_area_m2" else 0)
        rows.loc[at, "note"] = TARGET_NOTES[(year, unit)]
    city = rows.groupby("year").agg(compounds=("compounds", "sum"), households=("households", "sum"),
                                    floor_area_m2=("floor_area_m2", "sum"), investment_wan=("investment_wan", "sum"))
    city = city.reset_index().assign(unit_code=settings.CITY_UNIT_CODE, note=None)
    city["floor_area_m2"] = city["floor_area_m2"].round(-4)
    city["investment_wan"] = city["investment_wan"].round(2)
    first = city["year"] == 2020
    for measure, value in settings.PLAN_2020.items():
        city.loc[first, measure] = value
    city.loc[first, "note"] = "济宁市老旧小区改造工作实施方案（2020-06-20）"
    out = pd.concat([rows, city], ignore_index=True)
    out["households"] = out["households"].astype(int)
    out["issued_date"] = out["year"].map(issued)
    out["source"] = TARGET_SOURCE
    return out[["year", "unit_code", "compounds", "households", "floor_area_m2", "investment_wan", "issued_date",
                "source", "note"]].sort_values(["year", "unit_code"]).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- projects
def projects(comp: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """Projects of the planned compounds and each compound's project id (NaN for candidates)."""
    planned = comp[comp["plan_year"].notna()].assign(unit_code=unit_of(comp))
    planned = planned.sort_values(["plan_year", "unit_code", "street", "id"], kind="stable")
    rows, project_of = [], {}
    count: dict[tuple[int, str], int] = {}
    for (year, unit, street), members in planned.groupby(["plan_year", "unit_code", "street"], sort=False):
        year = int(year)
        records = members[["id", "name", "community", "invest_planned_wan"]].to_numpy().tolist()
        chunks: list[list[list]] = []
        if len(records) >= 2 and rng.random() < PACKAGE_SHARE:
            size = min(len(records), int(rng.integers(2, 6)))
            chunks.append(records[:size])
            records = records[size:]
        chunks += [[r] for r in records]
        for chunk in chunks:
            k = count[(year, unit)] = count.get((year, unit), 0) + 1
            pid = f"XM{year}-{unit}-{k:03d}"
            single = len(chunk) == 1
            communities = {r[2] for r in chunk}
            rows.append({
                "id": pid,
                "name": f"{chunk[0][1]}改造项目" if single else f"{street}{year}年老旧小区改造片区项目（{len(chunk)}个小区）",
                "year": year, "unit_code": unit, "street": street,
                "community": chunk[0][2] if len(communities) == 1 else None,
                "delivery_model": "单独实施" if single else str(rng.choice(PACKAGE_MODELS)),
                "contractor": str(rng.choice(CONTRACTORS)),
                "invest_planned_wan": round(float(sum(r[3] for r in chunk)), 2),
                "note": None,
            })
            project_of.update(dict.fromkeys((r[0] for r in chunk), pid))
    return pd.DataFrame(rows), comp["id"].map(project_of)


# ----------------------------------------------------------------------------------------------- money
def fund_flows(comp: pd.DataFrame, funding: pd.DataFrame, rng: np.random.Generator, today: date) -> pd.DataFrame:
    """Money allocated, received and paid per compound and source up to ``today`` (lagging the works).

    Allocated: the planned amount, 15–75 days after approval (专项债 in the year's bond batches). Received:
    60 % 10–45 days later, the rest 60–200 days later (专项债 a month slower). Paid: 30 % after the start,
    up to 85 % after completion, the rest but the retention (``RETENTION_SHARE``) about a year after
    completion; a payment never comes before the money it spends is received, except ``FLOW_ANOMALIES``.
    """
    c = comp.set_index("id")
    f = funding.merge(c[["plan_year", "approved_date", "_start_all", "_end_all"]], left_on="compound_id",
                      right_index=True)
    n = len(f)
    approved = pd.to_datetime(f["approved_date"])
    start = pd.to_datetime(f["_start_all"].map(lambda d: d if d.year < 2200 else None))
    end = pd.to_datetime(f["_end_all"].map(lambda d: d if d.year < 2200 else None))
    bonds = (f["source"] == "special_bonds").to_numpy()
    slow = pd.to_timedelta(np.where(bonds, 30, 0), unit="D")
    allocated = approved + _days(rng, 15, 75, n)
    received_1 = allocated + _days(rng, 10, 45, n) + slow
    received_2 = allocated + _days(rng, 60, 200, n) + slow
    # a payment waits for its works (no start, no first payment) and for the money it spends
    paid_1 = (start + _days(rng, 30, 75, n)).where(lambda d: d.isna() | (d >= received_1 + pd.Timedelta(days=3)),
                                                   received_1 + pd.Timedelta(days=3))
    paid_2 = (end + _days(rng, 20, 90, n)).where(lambda d: d.isna() | (d >= received_2 + pd.Timedelta(days=3)),
                                                 received_2 + pd.Timedelta(days=3))
    paid_3 = end + _days(rng, 330, 400, n)
    paid_3 = paid_3.where(paid_3 >= paid_2 + pd.Timedelta(days=30), paid_2 + pd.Timedelta(days=30))
    amount = f["amount_wan"].to_numpy()

    def part(low: float, high: float) -> np.ndarray:
        """The amount between two cumulative shares, rounded so the parts add up to the rounded whole."""
        return np.round(amount * high, 2) - np.round(amount * low, 2)

    year = f["plan_year"].astype(int).to_numpy()
    batch = np.where(bonds, "专项债券", "资金")
    stages = [
        ("allocated", allocated, amount,
         [f"济财建〔{y}〕{10 + k % 40}号" if b == "资金" else f"{y}年第{1 + k % 3}批专项债券"
          for k, (y, b) in enumerate(zip(year, batch))]),
        ("received", received_1, part(0, 0.6), None),
        ("received", received_2, part(0.6, 1), None),
        ("paid", paid_1, part(0, 0.3), None),
        ("paid", paid_2, part(0.3, 0.85), None),
        ("paid", paid_3, part(0.85, 1 - RETENTION_SHARE), None),
    ]
    anomalies = set()
    for y, k in FLOW_ANOMALIES:
        ids = sorted(comp.loc[comp["plan_year"] == y, "id"])
        anomalies.add(ids[k])
    frames = []
    ts = pd.Timestamp(today)
    for tranche, (stage, when, value, document) in enumerate(stages):
        frames.append(pd.DataFrame({
            "flow_date": when.to_numpy(), "compound_id": f["compound_id"].to_numpy(), "project_id": None,
            "source": f["source"].to_numpy(), "stage": stage, "amount_wan": np.round(value, 2),
            "document": document, "tranche": tranche,
        }))
    out = pd.concat(frames, ignore_index=True)
    # the planted errors: the completion payment (tranche 4) of each source doubled, more paid than received
    odd = out["compound_id"].isin(anomalies) & (out["tranche"] == 4)
    out.loc[odd, "amount_wan"] = (out.loc[odd, "amount_wan"] * 2).round(2)
    out = out[out["flow_date"].notna() & (out["flow_date"] <= ts) & (out["amount_wan"] > 0)].drop(columns="tranche")
    out["flow_date"] = out["flow_date"].dt.date
    out["note"] = None
    out["submitted_by"] = "demo"
    out["submitted_at"] = pd.to_datetime(out["flow_date"]) + pd.Timedelta(hours=17)
    out = out.sort_values(["flow_date", "compound_id", "source", "stage"], kind="stable").reset_index(drop=True)
    out.insert(0, "id", [f"FF{i + 1:06d}" for i in range(len(out))])
    return out


# ----------------------------------------------------------------------------------------------- after-care
def aftercare(comp: pd.DataFrame, rng: np.random.Generator, today: date) -> pd.DataFrame:
    """After-care of the completed compounds (some have none yet)."""
    done = comp[comp["completion_date"].notna()]
    done = done[rng.random(len(done)) >= AFTERCARE_MISSING_SHARE]
    n = len(done)
    ts = pd.Timestamp(today)
    completed = pd.to_datetime(done["completion_date"])
    accepted = completed + _days(rng, 7, 45, n)
    accepted = accepted.where(accepted <= ts)
    mode = rng.choice(settings.MGMT_MODES, n, p=MGMT_MODE_P)
    settled = accepted + _days(rng, 20, 150, n)
    established = (mode != "无") & (rng.random(n) < 0.88) & (settled <= ts).to_numpy()
    surveyed = accepted + _days(rng, 30, 90, n)
    has_survey = (surveyed <= ts).to_numpy()
    satisfaction = np.clip(rng.normal(92, 4.5, n), 65, 100).round(1)
    return pd.DataFrame({
        "compound_id": done["id"].to_numpy(),
        "accepted_date": accepted.dt.date.to_numpy(),
        "mgmt_mode": [m if ok else None for m, ok in zip(mode, accepted.notna())],
        "mgmt_established": pd.Series(established, dtype="boolean").where(accepted.notna().to_numpy()).to_numpy(),
        "mgmt_established_date": settled.where(established).dt.date.to_numpy(),
        "satisfaction_pct": np.where(has_survey, satisfaction, np.nan),
        "survey_date": surveyed.where(has_survey).dt.date.to_numpy(),
        "note": None,
        "submitted_by": "demo",
        "submitted_at": (accepted.fillna(completed) + pd.Timedelta(hours=17)).to_numpy(),
    })


# ----------------------------------------------------------------------------------------------- findings
def findings(comp: pd.DataFrame, project_of: pd.Series, rng: np.random.Generator, today: date,
             *, n_closed: int = 22, n_open: int = 8, n_overdue: int = 4) -> pd.DataFrame:
    """Supervision findings over the last years of the programme.

    ``n_closed`` closed, ``n_open`` still open on ``today`` (the first ``n_overdue`` of them past their deadline).
    """
    started = comp[comp["approved_date"].notna()].assign(unit_code=unit_of(comp), project_id=project_of)
    latest = started["plan_year"].max()  # the current year, or the latest with approvals
    recent = started[started["plan_year"] >= latest - 2]
    current = started[started["plan_year"] == latest]
    n_closed, n_open = min(n_closed, len(recent)), min(n_open, len(current))
    rows = []
    picks = list(rng.choice(len(recent), n_closed, replace=False)) + list(rng.choice(len(current), n_open, replace=False))
    for k, pos in enumerate(picks):
        is_open = k >= n_closed
        c = (current if is_open else recent).iloc[pos]
        category = str(rng.choice(settings.FINDING_CATEGORIES))
        if is_open:
            overdue = k - n_closed < n_overdue
            found = today - timedelta(days=int(rng.integers(40, 90) if overdue else rng.integers(3, 20)))
            deadline = found + timedelta(days=int(rng.integers(15, 30)))
            status = "整改中" if rng.random() < 0.6 else "交办"
            closed = None
        else:
            year_start = date(int(c["plan_year"]), 4, 1)
            found = year_start + timedelta(days=int(rng.integers(0, 240)))
            found = min(found, today - timedelta(days=60))
            deadline = found + timedelta(days=int(rng.integers(15, 30)))
            closed = found + timedelta(days=int(rng.integers(7, 40)))
            status = settings.FINDING_CLOSED
        rows.append({
            "found_date": found, "unit_code": c["unit_code"], "compound_id": c["id"], "project_id": c["project_id"],
            "category": category, "description": f"{c['name']}：{FINDING_TEXT[category]}", "deadline": deadline,
            "status": status, "closed_date": closed, "found_by": "市老旧小区改造工作指挥部督导组", "note": None,
            "submitted_by": "demo",
        })
    out = pd.DataFrame(rows).sort_values(["found_date", "compound_id"], kind="stable").reset_index(drop=True)
    out.insert(0, "id", [f"DD{d.year}-{i + 1:03d}" for i, d in enumerate(out["found_date"])])
    out["submitted_at"] = pd.to_datetime(out["found_date"]) + pd.Timedelta(hours=17)
    return out
