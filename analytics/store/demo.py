"""Seeded demo dataset (演示数据) for Jining, calibrated to the 2020 plan, and the same generator at any scale.

``generate(seed)`` returns every table of the schema as frames (geometries in EPSG:4326):

* compounds for plan years 2020–2026 (``settings.DEMO_FIRST_YEAR`` .. ``settings.DEMO_YEAR``); the 2020
  batch totals 68 compounds, 26,000 households and 2,280,000 m² of floor area, 2020–2025 together
  16,900,000 m² (``YEAR_TARGETS``); and a candidate pool (储备库) of ``settings.DEMO_CANDIDATES`` compounds
  without a plan year, built on or before 2005 (some on or before 2000), grouped in a few communities per
  street so next year's list can be built from them;
* buildings per compound whose households and floor area add up to the compound's;
* idle / low-efficiency parcels, vacant buildings and scattered plots around the urban areas;
* existing facilities of every type, dense in some places and missing in others;
* weekly progress reports for every plan year, up to the demo's today (:func:`demo_as_of`, the last Friday
  on or before ``settings.DEMO_TODAY``): each year's season runs from its plan (:func:`plan_issued`) through
  approvals in spring, starts from about April, completions by the year's end; counties differ in pace, so
  the current year is mid-flight with some counties behind; funding by source, annual plans;
* the programme's tables from ``analytics.store.demo_programme``: annual targets, projects, money flows,
  after-care and supervision findings.

``generate_synthetic(seed, n_compounds=..., n_parcels=..., n_facilities=...)`` uses the same placement and
attribute code on a lattice of synthetic cities, for benchmarks at national scale.

Placement works on a 250 m grid in EPSG:4548: each cell holds at most one compound or parcel, drawn
inside the cell with a margin, so no two shapes overlap by construction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from analytics import settings
from analytics.store import demo_city, demo_programme

log = logging.getLogger(__name__)

CELL_M = 250.0
MARGIN_M = 5.0
MAX_TILT_DEG = 10.0
MAX_SITE_M2 = ((CELL_M - 2 * MARGIN_M) / (np.cos(np.radians(MAX_TILT_DEG)) + np.sin(np.radians(MAX_TILT_DEG)))) ** 2

# Plan year -> (compounds, floor area m², households or None). 2020 from the plan; the rest sum to
# 16.9 million m² in all (Jining 2022 reported 217 compounds and 3.51 million m²).
YEAR_TARGETS: dict[int, tuple[int, float, int | None]] = {
    2020: (68, 2_280_000.0, 26_000),
    2021: (180, 2_900_000.0, None),
    2022: (217, 3_510_000.0, None),
    2023: (200, 3_200_000.0, None),
    2024: (170, 2_800_000.0, None),
    2025: (140, 2_210_000.0, None),
    2026: (150, 2_450_000.0, None),
}
# The candidate pool: mean floor area per compound (m²) and the share built on or before 2000.
CANDIDATE_MEAN_AREA_M2 = 14_000.0
CANDIDATE_PRE_2000_SHARE = 0.4
CANDIDATE_COMMUNITIES_PER_STREET = 3
# Largest compound (m²): its site, at most 2.5 times smaller, fits a grid cell at any aspect and tilt.
MAX_FLOOR_AREA_M2 = 60_000.0
# Parcels per compound of the 2020–2025 batches (the candidates and the current year add none).
PARCELS_PER_COMPOUND = 1.9

# Share of the city's compounds per county and each county's pace (>1 ahead of plan, <1 behind).
COUNTY_WEIGHT = {
    "370811": 0.30, "370812": 0.09, "370826": 0.05, "370827": 0.05, "370828": 0.06, "370829": 0.06,
    "370830": 0.06, "370831": 0.05, "370832": 0.07, "370881": 0.08, "370883": 0.13,
}
COUNTY_PACE = {
    "370811": 1.15, "370812": 1.05, "370826": 0.70, "370827": 0.85, "370828": 1.00, "370829": 0.75,
    "370830": 1.10, "370831": 0.65, "370832": 0.90, "370881": 1.20, "370883": 1.00,
}
# How well served each county's compounds are by existing facilities (0..1).
COUNTY_SERVICE = {
    "370811": 0.9, "370812": 0.7, "370826": 0.35, "370827": 0.5, "370828": 0.6, "370829": 0.4,
    "370830": 0.65, "370831": 0.3, "370832": 0.5, "370881": 0.8, "370883": 0.75,
}
URBAN_RADIUS_M = {"370811": 6500.0, "370883": 4500.0, "370812": 4000.0, "370881": 4000.0}
DEFAULT_URBAN_RADIUS_M = 3500.0

STREETS = {
    "370811": ["古槐街道", "越河街道", "济阳街道", "阜桥街道", "南苑街道", "观音阁街道", "仙营街道", "金城街道", "许庄街道", "柳行街道"],
    "370812": ["鼓楼街道", "酒仙桥街道", "龙桥街道", "兴隆庄街道"],
    "370826": ["夏镇街道", "昭阳街道", "傅村街道"],
    "370827": ["谷亭街道", "滨湖街道"],
    "370828": ["金乡街道", "高河街道", "王丕街道"],
    "370829": ["嘉祥街道", "卧龙山街道"],
    "370830": ["汶上街道", "中都街道"],
    "370831": ["泗河街道", "济河街道"],
    "370832": ["梁山街道", "水泊街道"],
    "370881": ["鲁城街道", "书院街道", "时庄街道"],
    "370883": ["钢山街道", "千泉街道", "凫山街道"],
}
NAME_PREFIXES = (
    "建设", "红星", "光明", "幸福", "和平", "东方", "育才", "文化", "税务", "供电", "机械厂", "棉纺厂", "煤矿",
    "粮食局", "交通局", "人民医院", "一中", "北湖", "运河", "古槐", "琵琶山", "太白", "仙营", "济安", "电业",
    "邮电", "化肥厂", "造纸厂", "农机", "水利", "林业", "商业局", "物资局", "纺织", "印刷厂", "粮站", "食品厂",
    "财政局", "教育", "卫生局", "公安", "工商", "建材", "铁路", "百货", "五金", "车站", "新华", "胜利", "团结",
    "向阳", "朝阳", "东风", "前进", "友谊", "解放", "工人", "益民", "惠民", "安居", "金桥", "银河", "翠园",
)
NAME_SUFFIXES = ("小区", "宿舍", "家属院", "新村", "花园", "公寓", "住宅区")
NAME_QUALIFIERS = ("", "", "", "东", "西", "南", "北", "一", "二", "三", "老")
COMMUNITY_WORDS = ("园丁", "北门", "东门", "南关", "西关", "北关", "东关", "新建", "建华", "康乐", "和谐", "红旗", "金宇")
FACILITY_SHORT = {
    "elderly_care": "老年服务站", "kindergarten": "幼儿园", "clinic": "社区卫生服务站", "service_station": "社区综合服务站",
    "market": "综合超市", "parking": "停车场", "sports": "健身广场", "ev_charging": "充电站",
    "childcare": "托育中心", "culture": "文化活动室", "meal": "老年助餐点", "housekeeping": "家政服务站",
    "convenience": "便利店", "toilet": "公厕", "parcel_lockers": "快递驿站",
}
# Share of compounds that have each facility type nearby, before the county's service level.
FACILITY_RATE = {
    "elderly_care": 0.35, "kindergarten": 0.5, "clinic": 0.45, "service_station": 0.4,
    "market": 0.6, "parking": 0.5, "sports": 0.3, "ev_charging": 0.25,
    "childcare": 0.2, "culture": 0.35, "meal": 0.25, "housekeeping": 0.3, "convenience": 0.7, "toilet": 0.4,
    "parcel_lockers": 0.55,
}
FACILITY_AREA_M2 = {
    "elderly_care": (350, 1500), "kindergarten": (1200, 4500), "clinic": (120, 600), "service_station": (600, 1200),
    "market": (300, 3000), "parking": (800, 6000), "sports": (200, 3000), "ev_charging": (50, 400),
    "childcare": (200, 800), "culture": (250, 1200), "meal": (100, 400), "housekeeping": (40, 200),
    "convenience": (50, 300), "toilet": (30, 80), "parcel_lockers": (10, 60),
}
PARCEL_TYPE_P = {"闲置用地": 0.30, "低效用地": 0.25, "空置房屋": 0.25, "零星地块": 0.20}
PARCEL_AREA_M2 = {"闲置用地": (1_000, 20_000), "低效用地": (2_000, 20_000), "空置房屋": (200, 3_000), "零星地块": (100, 2_000)}
LAND_USES = ("工业", "仓储", "商业", "住宅", "公共管理", "其他")
FUNDING_MEAN_SHARE = {
    "central_subsidy": 0.10, "central_budget": 0.25, "provincial": 0.05, "local_fiscal": 0.12,
    "special_bonds": 0.33, "residents": 0.06, "utilities": 0.04, "owner_units": 0.03, "social_capital": 0.02,
}
# Compounds (by position in the id order of the FUNDING_MISMATCH_YEAR batch) whose funding parts deliberately
# miss the total.
FUNDING_MISMATCH_FACTOR = (0.95, 1.04, 0.90)
FUNDING_MISMATCH_YEAR = 2020
# The 2020 plan was issued on 2020-06-20 (济宁市老旧小区改造工作实施方案); later years' tasks in February.
PLAN_ISSUED = {2020: date(2020, 6, 20)}
PLAN_ISSUED_MMDD = (2, 20)


@dataclass(frozen=True)
class City:
    """An urban area to place objects in: code, centre (EPSG:4548 metres), radius, container polygon."""

    code: str
    x: float
    y: float
    radius_m: float
    container: shapely.Geometry


def _to_metric() -> Transformer:
    return Transformer.from_crs(settings.STORAGE_CRS, settings.ANALYSIS_CRS, always_xy=True)


def plan_issued(year: int) -> date:
    """The day plan year ``year``'s list and task were issued (no weekly report comes before it)."""
    return PLAN_ISSUED.get(year, date(year, *PLAN_ISSUED_MMDD))


def demo_as_of(today: date | None = None) -> date:
    """The demo's today: the last Friday on or before ``today`` (default ``settings.DEMO_TODAY``)."""
    day = settings.DEMO_TODAY if today is None else today
    return day - timedelta(days=(day.weekday() - 4) % 7)


def report_dates(year: int = settings.DEMO_YEAR) -> list[date]:
    """Fridays of plan year ``year``'s weekly dispatch.

    From the first Friday after its plan was issued and in March or later, to the last Friday of December or
    the demo's today, whichever comes first.
    """
    day = max(date(year, 3, 1), plan_issued(year) + timedelta(days=1))
    day += timedelta(days=(4 - day.weekday()) % 7)
    end = min(date(year, 12, 31), demo_as_of())
    out = []
    while day <= end:
        out.append(day)
        day += timedelta(days=7)
    return out


# ----------------------------------------------------------------------------------------------- geometry
def _cells(city: City) -> np.ndarray:
    """Centres (n, 2) of the grid cells of ``city`` whose centre lies in its disc and container."""
    n = int(np.ceil(city.radius_m / CELL_M))
    offsets = (np.arange(-n, n + 1) + 0.5) * CELL_M
    xx, yy = np.meshgrid(city.x + offsets, city.y + offsets)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    d = np.hypot(pts[:, 0] - city.x, pts[:, 1] - city.y)
    pts = pts[d <= city.radius_m]
    inside = shapely.contains_xy(city.container, pts[:, 0], pts[:, 1])
    return pts[inside]


def _rectangles(centres: np.ndarray, areas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tilted rectangles of ``areas`` m², each placed at random inside the cell centred at ``centres``."""
    n = len(areas)
    aspect = rng.uniform(1.0, 1.8, n)
    tilt = np.radians(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG, n))
    w = np.sqrt(areas * aspect)
    h = areas / w
    cos, sin = np.abs(np.cos(tilt)), np.abs(np.sin(tilt))
    bw, bh = w * cos + h * sin, w * sin + h * cos
    room = CELL_M - 2 * MARGIN_M
    shrink = np.minimum(1.0, room / np.maximum(bw, bh))
    w, h, bw, bh = w * shrink, h * shrink, bw * shrink, bh * shrink
    cx = centres[:, 0] + rng.uniform(-1, 1, n) * (room - bw) / 2
    cy = centres[:, 1] + rng.uniform(-1, 1, n) * (room - bh) / 2
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)
    local_x = corners[None, :, 0] * (w[:, None] / 2)
    local_y = corners[None, :, 1] * (h[:, None] / 2)
    ct, st = np.cos(tilt)[:, None], np.sin(tilt)[:, None]
    xs = cx[:, None] + local_x * ct - local_y * st
    ys = cy[:, None] + local_x * st + local_y * ct
    return shapely.polygons(np.stack([xs, ys], axis=-1))


def _pick(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` cells drawn without replacement with probability proportional to ``weights``."""
    k = min(k, int((weights > 0).sum()))
    if k <= 0:
        return np.array([], dtype=int)
    keys = rng.random(len(weights)) ** (1.0 / np.maximum(weights, 1e-12))
    keys[weights <= 0] = -1
    return np.argsort(-keys)[:k]


def _place_city(
    city: City, site_areas: np.ndarray, parcel_areas: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place compounds and parcels in ``city``; returns (compound polygons, parcel polygons, free cell centres).

    Compounds favour the centre; parcels the middle ring and patches around it. Shapes that fall outside
    the container polygon are dropped and replaced from further cells.
    """
    cells = _cells(city)
    d = np.hypot(cells[:, 0] - city.x, cells[:, 1] - city.y) / city.radius_m
    taken = np.zeros(len(cells), dtype=bool)

    def place(weights: np.ndarray, areas: np.ndarray) -> np.ndarray:
        need = len(areas)
        out = np.empty(need, dtype=object)
        todo = np.arange(need)  # shapes still to place; one dropped is tried again with its own area
        weights = weights.copy()
        while len(todo):
            weights[taken] = 0
            picked = _pick(weights, int(len(todo) * 1.25) + 2, rng)
            if len(picked) == 0:
                raise ValueError(f"City {city.code} has no room for {need} shapes; raise its radius.")
            now = todo[: len(picked)]
            picked = picked[: len(now)]
            polys = _rectangles(cells[picked], areas[now], rng)
            ok = shapely.contains(city.container, polys)
            taken[picked] = True
            out[now[ok]] = polys[ok]
            todo = np.sort(np.concatenate([now[~ok], todo[len(now):]]))
        return out

    compound_w = np.exp(-3.0 * d) * (1 + 0.3 * rng.random(len(cells)))
    compounds = place(compound_w, site_areas)
    patch = 0.5 + np.sin(cells[:, 0] / 900.0 + rng.uniform(0, 6)) * np.cos(cells[:, 1] / 1100.0 + rng.uniform(0, 6))
    parcel_w = np.exp(-((d - 0.6) ** 2) / 0.08) * np.clip(patch, 0.05, None)
    parcels = place(parcel_w, parcel_areas) if len(parcel_areas) else np.array([], dtype=object)
    return compounds, parcels, cells[~taken]


# ----------------------------------------------------------------------------------------------- attributes
def _names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` unique, plausible compound names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = (
            rng.choice(NAME_PREFIXES) + rng.choice(NAME_QUALIFIERS) + rng.choice(NAME_SUFFIXES)
        )
        if name in seen:
            name = f"{name[:-2]}{len(names) % 9 + 1}号{name[-2:]}" if len(seen) > 2000 else None
        if name and name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _lognormal_clipped(mean: float, sigma: float, low: float, high: float, n: int, rng) -> np.ndarray:
    mu = np.log(mean) - sigma**2 / 2
    return np.clip(rng.lognormal(mu, sigma, n), low, high)


def _allocate_counties(n: int, rng: np.random.Generator, *, min_each: int = 0) -> np.ndarray:
    codes = np.array(tuple(settings.COUNTIES))  # code order, so the demo's draws never depend on the display order
    weights = np.array([COUNTY_WEIGHT[c] for c in codes])
    counts = np.full(len(codes), min_each)
    counts += rng.multinomial(n - counts.sum(), weights / weights.sum())
    return rng.permutation(np.repeat(codes, counts))


def _compound_attributes(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Jining compounds (no geometry yet) and their buildings, calibrated to ``YEAR_TARGETS``.

    Every plan year of ``YEAR_TARGETS`` (each county at least two compounds from the current year on, so
    every county reports), then the candidate pool (``plan_year`` missing, ids ``<county>-R-<n>``).
    """
    rows = []
    batches: list[tuple[int | None, int, float]] = [(y, n, area) for y, (n, area, _) in YEAR_TARGETS.items()]
    batches.append((None, settings.DEMO_CANDIDATES, CANDIDATE_MEAN_AREA_M2 * settings.DEMO_CANDIDATES))
    for year, n, area_target in batches:
        min_each = 2 if year in (2020, settings.DEMO_YEAR) else 0
        counties = _allocate_counties(n, rng, min_each=min_each)
        floor_area = _lognormal_clipped(area_target / n, 0.45, 3_000, MAX_FLOOR_AREA_M2, n, rng)
        pre_2000 = CANDIDATE_PRE_2000_SHARE if year is None else 0.9 if year <= 2021 else 0.55
        built = np.where(
            rng.random(n) < pre_2000,
            rng.integers(1975, 2001, n),
            rng.integers(2001, 2006, n),
        )
        for i in range(n):
            rows.append({"plan_year": year, "county_code": counties[i], "floor_area_m2": floor_area[i], "built_year": int(built[i])})
    comp = pd.DataFrame(rows)
    comp["plan_year"] = comp.plan_year.astype("float64")  # NaN for candidates (Int64 when written)
    comp = comp.sort_values(["plan_year", "county_code"], kind="stable", na_position="last").reset_index(drop=True)
    counter: dict[tuple[object, str], int] = {}
    ids = []
    for year, code in zip(comp.plan_year, comp.county_code):
        key = ("R" if pd.isna(year) else int(year), code)
        counter[key] = counter.get(key, 0) + 1
        ids.append(f"{code}-{key[0]}-{counter[key]:03d}")
    comp.insert(0, "id", ids)
    n = len(comp)
    comp["area_per_household_m2"] = np.clip(rng.normal(88, 12, n), 55, 130)

    # buildings: floors, units (单元) and 2 households per floor; households follow exactly
    b_rows = []
    for _, c in comp.iterrows():
        households_target = c.floor_area_m2 / c.area_per_household_m2
        n_b = int(np.clip(round(c.floor_area_m2 / 3200), 1, 30))
        floors = rng.choice([3, 4, 5, 6, 7, 8, 11], size=n_b, p=[0.05, 0.12, 0.30, 0.38, 0.08, 0.04, 0.03])
        for j in range(n_b):
            f = int(floors[j])
            units = max(1, int(round(households_target / n_b / (2 * f))))
            b_rows.append({"compound_id": c.id, "county_code": c.county_code, "floors": f, "units": units,
                           "households_per_floor": 2, "built_year": c.built_year, "seq": j + 1})
    bld = pd.DataFrame(b_rows)
    bld["households"] = bld.floors * bld.units * bld.households_per_floor

    # calibrate each batch that has a household target by adding / removing units on random buildings
    for year, (_, _, hh_target) in YEAR_TARGETS.items():
        if hh_target is None:
            continue
        in_year = bld.compound_id.isin(comp.id[comp.plan_year == year]).to_numpy()
        idx = np.flatnonzero(in_year)
        total = int(bld.households[in_year].sum())
        while abs(total - hh_target) > 8:
            k = rng.choice(idx)
            step = int(bld.at[k, "floors"] * bld.at[k, "households_per_floor"])
            if total < hh_target:
                bld.at[k, "units"] += 1
                total += step
            elif bld.at[k, "units"] > 1:
                bld.at[k, "units"] -= 1
                total -= step
            bld.at[k, "households"] = bld.at[k, "floors"] * bld.at[k, "units"] * bld.at[k, "households_per_floor"]
        _settle_households(bld, idx, hh_target - total)
    bld["has_elevator"] = (bld.floors >= 8) | (rng.random(len(bld)) < 0.02) & (bld.floors >= 5)
    hh = bld.groupby("compound_id").households.sum()
    comp["households"] = comp.id.map(hh).astype(int)

    # floor area: households × area per household, scaled per batch to hit the batch's floor-area target
    comp["floor_area_m2"] = comp.households * comp.area_per_household_m2
    for year, (_, area_target, _) in YEAR_TARGETS.items():
        sel = comp.plan_year == year
        comp.loc[sel, "area_per_household_m2"] *= area_target / comp.floor_area_m2[sel].sum()
    comp["floor_area_m2"] = (comp.households * comp.area_per_household_m2).round(0)
    for year, (_, area_target, _) in YEAR_TARGETS.items():  # the rounding's few m² on the batch's largest compound
        largest = comp.floor_area_m2.where(comp.plan_year == year).idxmax()
        comp.loc[largest, "floor_area_m2"] += area_target - comp.floor_area_m2[comp.plan_year == year].sum()
    bld["floor_area_m2"] = (bld.households * bld.compound_id.map(comp.set_index("id").area_per_household_m2)).round(1)
    agg = bld.groupby("compound_id").agg(n_buildings=("seq", "size"), max_floors=("floors", "max"), has_elevator=("has_elevator", "any"))
    comp = comp.join(agg, on="id")
    bld["id"] = bld.compound_id + "-B" + bld.seq.map("{:02d}".format)
    return comp, bld.drop(columns=["seq"])


def _settle_households(bld: pd.DataFrame, idx: np.ndarray, diff: int) -> None:
    """Change the households of buildings ``idx`` by exactly ``diff`` (even, small).

    One unit (单元) added or removed, or one added and another removed, on the first buildings whose floors
    make that difference.
    """
    if diff == 0:
        return
    steps = (bld.floors * bld.households_per_floor).to_numpy()
    units = bld.units.to_numpy()
    add: dict[int, int] = {}
    remove: dict[int, int] = {}
    for k in idx:
        add.setdefault(int(steps[k]), int(k))
        if units[k] > 1:
            remove.setdefault(int(steps[k]), int(k))
    if diff in add:
        changes = [(add[diff], 1)]
    elif -diff in remove:
        changes = [(remove[-diff], -1)]
    else:
        pair = next(((a, b) for sa, a in add.items() for sb, b in remove.items() if sa - sb == diff and a != b), None)
        if pair is None:
            raise ValueError(f"No unit change makes the batch's households change by {diff}.")
        changes = [(pair[0], 1), (pair[1], -1)]
    for k, change in changes:
        bld.at[k, "units"] += change
        bld.at[k, "households"] = bld.at[k, "floors"] * bld.at[k, "units"] * bld.at[k, "households_per_floor"]


def _programme_fields(comp: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Names, streets, tiers, items, investment, residents' figures and flags."""
    n = len(comp)
    comp = comp.copy()
    comp["name"] = _names(n, rng)
    comp["street"] = [rng.choice(STREETS[c]) for c in comp.county_code]
    comp["community"] = [rng.choice(COMMUNITY_WORDS) + "社区" for _ in range(n)]
    comp["tier"] = rng.choice(settings.TIERS, size=n, p=[0.5, 0.35, 0.15])
    items = []
    for tier in comp.tier:
        chosen = list(settings.TIER_ITEMS["基础类"])
        for upper in settings.TIERS[1: settings.TIERS.index(tier) + 1]:
            pool = settings.TIER_ITEMS[upper]
            chosen += list(rng.choice(pool, size=max(2, len(pool) // 2), replace=False))
        items.append("、".join(chosen))
    comp["items"] = items
    cost = comp.tier.map(settings.UNIT_COST_YUAN_PER_M2) * rng.uniform(0.85, 1.15, n)
    comp["invest_planned_wan"] = (comp.floor_area_m2 * cost / 10_000).round(2)
    comp["willingness_pct"] = np.clip(rng.normal(85, 10, n), 45, 100).round(1)
    comp["contributing_pct"] = np.clip(rng.normal(55, 20, n), 5, 100).round(1)
    comp["procedures_complete"] = rng.random(n) < np.where(comp.plan_year <= 2021, 0.95, 0.5)
    comp["property_mgmt"] = rng.random(n) < 0.45
    comp["demolition_planned"] = False
    late = np.flatnonzero(comp.plan_year.to_numpy() >= 2023)
    comp.loc[rng.choice(late, size=5, replace=False), "demolition_planned"] = True
    # candidates: a few communities per street (so neighbours can be let as one package), fewer procedures
    # done, willingness more spread; the pool holds some compounds due for demolition (never eligible)
    candidates = np.flatnonzero(comp.plan_year.isna().to_numpy())
    communities = {
        (code, street): [w + "社区" for w in rng.choice(COMMUNITY_WORDS, CANDIDATE_COMMUNITIES_PER_STREET, replace=False)]
        for code, streets in STREETS.items() for street in streets
    }
    comp.loc[comp.index[candidates], "community"] = [
        rng.choice(communities[(c, s)]) for c, s in zip(comp.county_code.iloc[candidates], comp.street.iloc[candidates])
    ]
    comp.loc[comp.index[candidates], "procedures_complete"] = rng.random(len(candidates)) < 0.35
    comp.loc[comp.index[candidates], "willingness_pct"] = np.clip(rng.normal(78, 14, len(candidates)), 35, 100).round(1)
    comp.loc[comp.index[rng.choice(candidates, size=4, replace=False)], "demolition_planned"] = True
    return comp


def _schedule(comp: pd.DataFrame, rng: np.random.Generator, as_of: date) -> pd.DataFrame:
    """Planned and actual dates per compound (actual ones unknown after ``as_of`` stay empty).

    A plan year's season: approvals (立项) from its plan's issue to about May, planned starts from about
    April, planned completions before Christmas; actual starts and durations follow the county's pace.
    A batch of an earlier year than ``as_of``'s is finished by the last weekly report of its year (the
    slow ones in a December rush); in the current year the slow counties are still at work and some of
    their compounds months late to start. Candidates (no plan year) have no dates.
    """
    comp = comp.copy()
    n = len(comp)
    planned = comp.plan_year.notna().to_numpy()
    pace = comp.county_code.map(COUNTY_PACE).to_numpy()
    year = comp.plan_year.fillna(settings.DEMO_YEAR).astype(int)
    issued = pd.Series(pd.to_datetime([plan_issued(y) for y in year]), index=comp.index)
    year_end = pd.to_datetime(year.astype(str) + "-12-20")
    first_2020 = (year == 2020).to_numpy()  # the plan came in June: a short season
    approved = issued + pd.to_timedelta(np.where(first_2020, rng.integers(5, 35, n), rng.integers(10, 80, n)), unit="D")
    april = pd.to_datetime(year.astype(str) + "-04-01")
    planned_start = approved + pd.to_timedelta(rng.integers(20, 50, n), unit="D")
    planned_start = planned_start.where(planned_start >= april, april + pd.to_timedelta(rng.integers(0, 21, n), unit="D"))
    planned_days = np.where(first_2020, rng.integers(90, 130, n), rng.integers(140, 200, n))
    planned_end = planned_start + pd.to_timedelta(planned_days, unit="D")
    planned_end = planned_end.where(planned_end <= year_end, year_end)
    delay = rng.normal(0, 12, n) + (1 - pace) * 90
    # this year, some compounds of the slow counties are stuck (procedures, residents): months late
    stuck = (year == as_of.year).to_numpy() & (rng.random(n) < (1 - pace) * 0.8)
    delay = delay + np.where(stuck, rng.integers(150, 260, n), 0)
    start = planned_start + pd.to_timedelta(np.round(delay), unit="D")
    start = start.where(start >= approved + pd.Timedelta(days=7), approved + pd.Timedelta(days=7))  # 立项 before 开工
    start = start.where(start >= april, april + pd.to_timedelta(rng.integers(0, 14, n), unit="D"))  # the season
    duration = (planned_end - planned_start).dt.days.to_numpy() / pace * rng.uniform(0.85, 1.15, n)
    end = start + pd.to_timedelta(np.round(duration), unit="D")
    # earlier years: done by the year's last report (a December rush for the slow), at least a month's work
    last_of = {y: report_dates(y)[-1] if y < as_of.year else date(y, 12, 31) for y in set(year)}
    last_report = pd.Series(pd.to_datetime([last_of[y] for y in year]), index=comp.index)
    rush = last_report - pd.to_timedelta(rng.integers(0, 22, n), unit="D")
    late = (year < as_of.year).to_numpy() & (end > last_report).to_numpy()
    end = end.where(~late, rush.where(rush >= start + pd.Timedelta(days=30), last_report))
    start = start.where(start <= end - pd.Timedelta(days=7), end - pd.Timedelta(days=7))
    start = start.where(start >= approved + pd.Timedelta(days=1), approved + pd.Timedelta(days=1))
    never = pd.Timestamp.max.normalize()
    approved, start, end, planned_start, planned_end = (
        d.where(planned, pd.NaT) for d in (approved, start, end, planned_start, planned_end))
    ts = pd.Timestamp(as_of)
    comp["approved_date"] = approved.where(approved <= ts).dt.date
    comp["start_date"] = start.where(start <= ts).dt.date
    comp["completion_date"] = end.where(end <= ts).dt.date
    comp["planned_start_date"] = planned_start.dt.date
    comp["planned_completion_date"] = planned_end.dt.date
    comp["_start_all"], comp["_end_all"] = start.fillna(never).dt.date, end.fillna(never).dt.date
    comp["status"] = _status_at(comp, as_of)
    return comp


def _status_at(frame: pd.DataFrame, day: date) -> np.ndarray:
    approved = frame.approved_date.map(lambda d: d is not None and pd.notna(d) and d <= day).to_numpy(bool)
    started = frame._start_all.map(lambda d: d <= day).to_numpy(bool) & approved
    done = frame._end_all.map(lambda d: d <= day).to_numpy(bool) & started
    return np.select([done, started, approved], ["已完工", "已开工", "已立项"], "未开工")


def _progress_reports(comp: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly snapshots of every plan year's batch (:func:`report_dates`).

    Returns (reports, compounds with their investment done at their latest report).
    """
    frames = []
    for year in YEAR_TARGETS:
        frames += _batch_reports(comp[comp.plan_year == year], report_dates(year), rng)
    reports = pd.concat(frames, ignore_index=True)
    reports["submitted_at"] = pd.to_datetime(reports.report_date) + pd.Timedelta(hours=17)
    last = reports.sort_values("report_date").groupby("compound_id").invest_done_wan.last()
    comp = comp.copy()
    comp["invest_done_wan"] = comp.id.map(last).fillna(0.0)
    return reports, comp


def _batch_reports(batch: pd.DataFrame, dates: list[date], rng: np.random.Generator) -> list[pd.DataFrame]:
    """One batch's weekly snapshots on ``dates`` (every compound on every date, date by date)."""
    final_share = rng.uniform(0.93, 1.0, len(batch))
    has = {item: batch["items"].str.contains(item).to_numpy() for item in ("加装电梯", "停车场", "充电设施")}
    if not dates or batch.empty:
        return []
    w, n = len(dates), len(batch)
    days = np.array(dates, dtype="datetime64[D]")[:, None]
    approved = pd.to_datetime(batch.approved_date).to_numpy(dtype="datetime64[D]")[None, :]
    start = np.array(list(batch._start_all), dtype="datetime64[D]")[None, :]
    end = np.array(list(batch._end_all), dtype="datetime64[D]")[None, :]
    is_approved = ~np.isnat(approved) & (approved <= days)
    started = is_approved & (start <= days)
    done = started & (end <= days)
    status = np.select([done, started, is_approved], ["已完工", "已开工", "已立项"], "未开工")
    span = np.maximum((end - start).astype("int64"), 1)
    frac = np.where(started, np.clip((days - start).astype("int64") / span, 0, 1), 0.0)
    elevator_candidates = ((batch.max_floors >= 4) & ~batch.has_elevator.astype(bool)).to_numpy()

    def per_compound(values: object) -> np.ndarray:
        return np.broadcast_to(np.asarray(values)[None, :], (w, n))

    def dates_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return pd.to_datetime(np.where(mask, np.broadcast_to(values, (w, n)), np.datetime64("NaT")).ravel()).date

    frame = pd.DataFrame({
        "report_date": np.repeat(np.array(dates, dtype=object), n),
        "compound_id": per_compound(batch.id).ravel(),
        "county_code": per_compound(batch.county_code).ravel(),
        "status": status.ravel(),
        "approved_date": dates_where(is_approved, approved),
        "start_date": dates_where(started, start),
        "completion_date": dates_where(done, end),
        "invest_done_wan": (per_compound(batch.invest_planned_wan.to_numpy() * final_share) * frac).round(2).ravel(),
        "elevators_added": np.floor(frac * per_compound(batch.n_buildings * 0.4 * (has["加装电梯"] & elevator_candidates))).astype(int).ravel(),
        "parking_spaces": np.floor(frac * per_compound(batch.households * 0.15 * has["停车场"])).astype(int).ravel(),
        "chargers": np.floor(frac * per_compound(batch.households * 0.05 * has["充电设施"])).astype(int).ravel(),
        "facilities_added": np.floor(frac * per_compound((batch.tier == "提升类") * 2)).astype(int).ravel(),
        "pipes_km": (frac * per_compound(batch.floor_area_m2 / 25_000)).round(2).ravel(),
        "source": "demo",
        "submitted_by": "demo",
    })
    for col in ("approved_date", "start_date", "completion_date"):
        frame[col] = frame[col].where(frame[col].notna(), None)
    return [frame]


def _funding(comp: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Funding parts per planned compound summing to its planned investment (a few deliberately do not)."""
    sources = list(FUNDING_MEAN_SHARE)
    mean = np.array([FUNDING_MEAN_SHARE[s] for s in sources])
    rows = []
    planned = comp[comp.plan_year.notna()]
    mismatched = comp.id[comp.plan_year == FUNDING_MISMATCH_YEAR].iloc[[3, 17, 41]].tolist()
    for cid, total in zip(planned.id, planned.invest_planned_wan):
        shares = rng.dirichlet(mean * 40)
        shares[(mean < 0.07) & (rng.random(len(sources)) < 0.4)] = 0
        shares /= shares.sum()
        if cid in mismatched:
            total = total * FUNDING_MISMATCH_FACTOR[mismatched.index(cid)]
        amounts = np.round(shares * total, 2)
        nz = np.flatnonzero(amounts)
        amounts[nz[-1]] = round(total - amounts[nz[:-1]].sum(), 2)
        rows += [{"compound_id": cid, "source": s, "amount_wan": float(a)} for s, a in zip(sources, amounts) if a > 0]
    return pd.DataFrame(rows)


def _facilities(comp_geo: gpd.GeoDataFrame, cities: dict[str, City], rng: np.random.Generator, *, scale: float = 1.0) -> gpd.GeoDataFrame:
    """Existing facilities near some compounds: central and well-served counties get more."""
    rows = []
    centroids = comp_geo.geometry.centroid
    for code, group in comp_geo.groupby("county_code"):
        city = cities[code]
        cx, cy = centroids[group.index].x.to_numpy(), centroids[group.index].y.to_numpy()
        d = np.hypot(cx - city.x, cy - city.y) / city.radius_m
        service = COUNTY_SERVICE.get(code, 0.6)
        for ftype, rate in FACILITY_RATE.items():
            k = int(round(rate * service * len(group) * 0.7 * scale))
            if k == 0:
                continue
            picked = _pick(np.exp(-2.5 * d), k, rng)
            angle = rng.uniform(0, 2 * np.pi, len(picked))
            dist = rng.uniform(60, 450, len(picked))
            xs, ys = cx[picked] + dist * np.cos(angle), cy[picked] + dist * np.sin(angle)
            lo, hi = FACILITY_AREA_M2[ftype]
            for x, y, cid in zip(xs, ys, group.id.to_numpy()[picked]):
                rows.append({"county_code": code, "facility_type": ftype, "x": x, "y": y,
                             "floor_area_m2": float(round(rng.uniform(lo, hi), -1)),
                             "near": cid})
    fac = pd.DataFrame(rows)
    geom = shapely.points(fac.x.to_numpy(), fac.y.to_numpy())
    inside = np.ones(len(fac), dtype=bool)
    for code, city in cities.items():
        sel = (fac.county_code == code).to_numpy()
        inside[sel] = shapely.contains(city.container, geom[sel])
    fac, geom = fac[inside].reset_index(drop=True), geom[inside]
    fac["id"] = [f"F{i + 1:06d}" for i in range(len(fac))]
    return gpd.GeoDataFrame(fac.drop(columns=["x", "y"]), geometry=geom, crs=settings.ANALYSIS_CRS)


def _parcel_frame(polys: list, codes: list[str], rng: np.random.Generator, types: np.ndarray) -> gpd.GeoDataFrame:
    own_p = {"闲置用地": [0.6, 0.2, 0.15, 0.05], "低效用地": [0.3, 0.1, 0.5, 0.1],
             "空置房屋": [0.35, 0.05, 0.3, 0.3], "零星地块": [0.6, 0.3, 0.05, 0.05]}
    n = len(polys)
    gdf = gpd.GeoDataFrame(
        {"id": [f"P{i + 1:07d}" for i in range(n)], "county_code": codes, "parcel_type": types},
        geometry=list(polys), crs=settings.ANALYSIS_CRS,
    )
    gdf["area_m2"] = gdf.geometry.area.round(1)
    gdf["ownership"] = [rng.choice(settings.OWNERSHIP_TYPES, p=own_p[t]) for t in types]
    gdf["land_use"] = rng.choice(LAND_USES, size=n)
    return gdf


def _parcel_sizes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    types = rng.choice(list(PARCEL_TYPE_P), size=n, p=list(PARCEL_TYPE_P.values()))
    areas = np.empty(n)
    for t, (lo, hi) in PARCEL_AREA_M2.items():
        sel = types == t
        areas[sel] = np.exp(rng.uniform(np.log(lo), np.log(hi), sel.sum()))
    return types, areas


def _jining_cities() -> dict[str, City]:
    counties = gpd.read_file(settings.COUNTIES_GEOJSON).to_crs(settings.ANALYSIS_CRS)
    fwd = _to_metric()
    cities = {}
    for code, (_, _, lon, lat) in settings.COUNTIES.items():
        x, y = fwd.transform(lon, lat)
        container = counties.loc[counties.code == code].geometry.iloc[0].buffer(-50)
        cities[code] = City(code, x, y, URBAN_RADIUS_M.get(code, DEFAULT_URBAN_RADIUS_M), container)
    return cities


def _site_areas(comp: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    ratio = rng.uniform(1.0, 2.5, len(comp))
    ratio = np.clip(np.maximum(ratio, comp.floor_area_m2.to_numpy() / (MAX_SITE_M2 * 0.98)), 1.0, 2.5)
    return comp.floor_area_m2.to_numpy() / ratio


def _building_footprints(comp_geo: gpd.GeoDataFrame, bld: pd.DataFrame) -> list:
    """Slab footprints laid out in rows inside each compound's rectangle."""
    geoms = {}
    for cid, group in bld.groupby("compound_id", sort=False):
        poly = comp_geo.geometry[cid]
        rect = poly.minimum_rotated_rectangle
        xy = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = xy[1] - xy[0], xy[3] - xy[0]
        n = len(group)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        for k, (bid, floors, area) in enumerate(zip(group.id, group.floors, group.floor_area_m2)):
            r, c = divmod(k, cols)
            u0, v0 = (c + 0.15) / cols, (r + 0.2) / rows
            du, dv = 0.7 / cols, 0.45 / rows
            foot = area / floors
            cell_area = np.linalg.norm(e1) * du * np.linalg.norm(e2) * dv
            shrink = min(1.0, np.sqrt(foot / cell_area)) if cell_area > 0 else 1.0
            du, dv = du * shrink, dv * shrink
            pts = [xy[0] + e1 * u + e2 * v for u, v in ((u0, v0), (u0 + du, v0), (u0 + du, v0 + dv), (u0, v0 + dv))]
            geoms[bid] = shapely.Polygon(pts)
    return [geoms[b] for b in bld.id]


def generate(seed: int = settings.DEMO_SEED) -> dict[str, pd.DataFrame]:
    """Every table of the demo dataset for ``seed``; geometries in EPSG:4326. Deterministic."""
    rng = np.random.default_rng(seed)
    as_of = demo_as_of()
    cities = _jining_cities()
    comp, bld = _compound_attributes(rng)
    comp = _programme_fields(comp, rng)
    comp = _schedule(comp, rng, as_of)
    reports, comp = _progress_reports(comp, rng)
    funding = _funding(comp, rng)

    site = _site_areas(comp, rng)
    n_parcels = int(round(comp.plan_year.between(2020, settings.GOAL_YEARS[1]).sum() * PARCELS_PER_COMPOUND))
    parcel_codes = _allocate_counties(n_parcels, rng)
    ptypes, pareas = _parcel_sizes(n_parcels, rng)
    comp_geom = np.empty(len(comp), dtype=object)
    parcel_polys, parcel_cc, parcel_types = [], [], []
    for code, city in cities.items():
        ci = np.flatnonzero(comp.county_code.to_numpy() == code)
        pi = np.flatnonzero(parcel_codes == code)
        cpolys, ppolys, _ = _place_city(city, site[ci], pareas[pi], rng)
        comp_geom[ci] = cpolys
        parcel_polys += list(ppolys)
        parcel_cc += [code] * len(ppolys)
        parcel_types += list(ptypes[pi])
    comp_geo = gpd.GeoDataFrame(comp, geometry=list(comp_geom), crs=settings.ANALYSIS_CRS).set_index("id", drop=False)
    comp_geo["zone_code"] = _zones(comp_geo, cities["370811"])
    # a zone's compounds are reported by the zone, the others by their county
    reports["unit_code"] = reports.compound_id.map(comp_geo["zone_code"]).fillna(reports.county_code)
    bld_geo = gpd.GeoDataFrame(bld, geometry=_building_footprints(comp_geo, bld), crs=settings.ANALYSIS_CRS)
    parcels = _parcel_frame(parcel_polys, parcel_cc, rng, np.array(parcel_types))
    facilities = _facilities(comp_geo, cities, rng)
    streets = comp_geo.street.to_dict()
    facilities["name"] = [
        f"{streets[near]}{FACILITY_SHORT[ftype]}{i % 7 + 1}号"
        for i, (near, ftype) in enumerate(zip(facilities.near, facilities.facility_type))
    ]
    facilities = facilities.drop(columns=["near"])
    programme = _programme_tables(comp_geo, funding, np.random.default_rng([seed, 14]), as_of)
    comp_geo["project_id"] = programme.pop("project_id")

    counties = gpd.read_file(settings.COUNTIES_GEOJSON)
    counties = gpd.GeoDataFrame({
        "id": counties.code, "county_code": counties.code, "name": counties.name,
        "name_en": counties.code.map(lambda c: settings.COUNTIES[c][1]),
        "seat_lon": counties.code.map(lambda c: settings.COUNTIES[c][2]),
        "seat_lat": counties.code.map(lambda c: settings.COUNTIES[c][3]),
    }, geometry=counties.geometry, crs=settings.STORAGE_CRS)
    plans = comp.groupby(["plan_year", "county_code"]).agg(
        compounds=("id", "size"), households=("households", "sum"), floor_area_m2=("floor_area_m2", "sum"),
        invest_planned_wan=("invest_planned_wan", "sum")).reset_index()
    plans["plan_year"] = plans.plan_year.astype(int)
    info = pd.DataFrame({"key": ["source", "is_demo", "seed", "as_of", "demo_year"],
                         "value": ["demo", "true", str(seed), as_of.isoformat(), str(settings.DEMO_YEAR)]})
    compounds = comp_geo.reset_index(drop=True).drop(
        columns=["area_per_household_m2", "_start_all", "_end_all"]).to_crs(settings.STORAGE_CRS)
    compounds["plan_year"] = compounds.plan_year.astype("Int64")
    log.info("demo: %d compounds (%d candidates), %d buildings, %d parcels, %d facilities, %d reports, "
             "%d money flows", len(compounds), compounds.plan_year.isna().sum(), len(bld_geo), len(parcels),
             len(facilities), len(reports), len(programme["fund_flows"]))
    return {
        "counties": counties,
        "compounds": compounds,
        "buildings": bld_geo.to_crs(settings.STORAGE_CRS),
        "parcels": parcels.to_crs(settings.STORAGE_CRS),
        "facilities": facilities.to_crs(settings.STORAGE_CRS),
        "progress_reports": reports,
        "funding": funding,
        "annual_plans": plans,
        **programme,
        "dataset_info": info,
        **demo_city.demo_network(cities.values(), seed, block_m=CELL_M, occupied=[comp_geo, parcels]),
    }


def _programme_tables(comp: pd.DataFrame, funding: pd.DataFrame, rng: np.random.Generator,
                      today: date) -> dict[str, pd.DataFrame]:
    """Targets, projects, money flows, after-care and findings (``demo_programme``).

    Also ``project_id``: each compound's project (an array in the same dict, in ``comp``'s order).
    """
    comp = comp.reset_index(drop=True)
    issued = {year: plan_issued(year) for year in YEAR_TARGETS}
    project_frame, project_of = demo_programme.projects(comp, rng)
    flows = demo_programme.fund_flows(comp, funding, rng, today)
    flows["project_id"] = flows.compound_id.map(dict(zip(comp.id, project_of)))
    return {
        "annual_targets": demo_programme.annual_targets(comp, issued),
        "projects": project_frame,
        "fund_flows": flows,
        "aftercare": demo_programme.aftercare(comp, rng, today),
        "findings": demo_programme.findings(comp, project_of, rng, today),
        "project_id": project_of.to_numpy(),
    }


def _zones(comp_geo: gpd.GeoDataFrame, rencheng: City) -> pd.Series:
    """Function zones inside 任城区's urban area: 高新区 to the east, 太白湖新区 to the south."""
    c = comp_geo.geometry.centroid
    dx, dy = c.x - rencheng.x, c.y - rencheng.y
    zone = pd.Series(None, index=comp_geo.index, dtype=object)
    ren = comp_geo.county_code == "370811"
    zone[ren & (dx > 3000)] = "Z01"  # 济宁高新区
    zone[ren & (dy < -3000) & (dx <= 3000)] = "Z02"  # 太白湖新区
    return zone


def generate_synthetic(
    seed: int = settings.DEMO_SEED, *, n_compounds: int, n_parcels: int, n_facilities: int
) -> dict[str, gpd.GeoDataFrame]:
    """Compounds, parcels and facilities at any scale, in EPSG:4548, on a lattice of synthetic cities.

    Each city holds about 1,000 compounds, with parcels and facilities in the same proportion as the
    requested totals; county codes are ``9xxxxx``. Attributes use the demo's distributions.
    """
    rng = np.random.default_rng(seed)
    per_city = 1_000
    n_cities = max(1, int(np.ceil(n_compounds / per_city)))
    side = int(np.ceil(np.sqrt(n_cities)))
    parcels_per_city = int(np.ceil(n_parcels / n_cities))
    cells_needed = (per_city + parcels_per_city) * 1.6
    radius = float(np.sqrt(cells_needed * CELL_M**2 / np.pi)) + 2 * CELL_M
    spacing = 2 * radius + 2_000
    comp_parts, parcel_parts, fac_parts = [], [], []
    remaining_c, remaining_p, remaining_f = n_compounds, n_parcels, n_facilities
    for k in range(n_cities):
        code = f"9{k:05d}"
        x = 500_000 + (k % side - side / 2) * spacing
        y = 3_900_000 + (k // side - side / 2) * spacing
        city = City(code, x, y, radius, shapely.Point(x, y).buffer(radius + CELL_M, quad_segs=32))
        nc = min(per_city, remaining_c)
        np_ = min(parcels_per_city, remaining_p)
        nf = int(round(remaining_f / (n_cities - k)))
        remaining_c, remaining_p, remaining_f = remaining_c - nc, remaining_p - np_, remaining_f - nf
        fa = _lognormal_clipped(16_000, 0.45, 3_000, 95_000, nc, rng)
        frame = pd.DataFrame({"floor_area_m2": fa})
        ptypes, pareas = _parcel_sizes(np_, rng)
        cpolys, ppolys, free = _place_city(city, _site_areas(frame, rng), pareas, rng)
        comp_parts.append(pd.DataFrame({"county_code": code, "floor_area_m2": fa, "geometry": cpolys}))
        parcel_parts.append(pd.DataFrame({"county_code": code, "parcel_type": ptypes, "geometry": ppolys}))
        cent = shapely.centroid(cpolys)
        near = rng.integers(0, len(cent), nf)
        ang, dist = rng.uniform(0, 2 * np.pi, nf), rng.uniform(60, 450, nf)
        pts = shapely.points(shapely.get_x(cent[near]) + dist * np.cos(ang), shapely.get_y(cent[near]) + dist * np.sin(ang))
        fac_parts.append(pd.DataFrame({"county_code": code, "facility_type": rng.choice(list(FACILITY_RATE), nf), "geometry": pts}))
    comp = gpd.GeoDataFrame(pd.concat(comp_parts, ignore_index=True), geometry="geometry", crs=settings.ANALYSIS_CRS)
    n = len(comp)
    comp.insert(0, "id", [f"S{i + 1:07d}" for i in range(n)])
    comp["households"] = np.maximum(1, (comp.floor_area_m2 / np.clip(rng.normal(88, 12, n), 55, 130)).round()).astype(int)
    comp["built_year"] = rng.integers(1975, 2006, n)
    comp["plan_year"] = rng.integers(2020, 2026, n)
    comp["willingness_pct"] = np.clip(rng.normal(85, 10, n), 45, 100).round(1)
    comp["contributing_pct"] = np.clip(rng.normal(55, 20, n), 5, 100).round(1)
    comp["procedures_complete"] = rng.random(n) < 0.7
    comp["demolition_planned"] = rng.random(n) < 0.01
    comp["max_floors"] = rng.choice([4, 5, 6, 7], n)
    comp["has_elevator"] = rng.random(n) < 0.05
    comp["status"] = rng.choice(settings.STATUSES, n)
    parcels = gpd.GeoDataFrame(pd.concat(parcel_parts, ignore_index=True), geometry="geometry", crs=settings.ANALYSIS_CRS)
    parcels.insert(0, "id", [f"P{i + 1:07d}" for i in range(len(parcels))])
    parcels["area_m2"] = parcels.geometry.area
    parcels["ownership"] = rng.choice(settings.OWNERSHIP_TYPES, len(parcels))
    facilities = gpd.GeoDataFrame(pd.concat(fac_parts, ignore_index=True), geometry="geometry", crs=settings.ANALYSIS_CRS)
    facilities.insert(0, "id", [f"F{i + 1:07d}" for i in range(len(facilities))])
    return {"compounds": comp, "parcels": parcels, "facilities": facilities}
