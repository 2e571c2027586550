"""Tiny hand-built GeoDataFrames in EPSG:4548 whose answers can be checked with a ruler.

All coordinates are metres relative to ``(X0, Y0)``, a point inside Jining; shapes are axis-aligned
boxes (``box(x0, y0, x1, y1)``) or points, so every distance below is plain arithmetic. Each builder
returns fresh frames, so a test may modify what it gets.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity

CRS = 4548
X0, Y0 = 500_000.0, 3_900_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """An axis-aligned rectangle with corners relative to ``(X0, Y0)``."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def point(x: float, y: float) -> shapely.Point:
    """A point relative to ``(X0, Y0)``."""
    return shapely.Point(X0 + x, Y0 + y)


def frame(rows: list[dict], *, crs: int = CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame from dicts that each hold a ``geometry``."""
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


# ----------------------------------------------------------------------------------------------- idle land
def idle_compounds() -> gpd.GeoDataFrame:
    """Three 100 m × 100 m compounds: C1 and C2 in 任城区 (1 km apart), C3 in 兖州区 2 km north of C1."""
    return frame([
        {"id": "C1", "county_code": "370811", "households": 200, "geometry": box(0, 0, 100, 100)},
        {"id": "C2", "county_code": "370811", "households": 300, "geometry": box(1000, 0, 1100, 100)},
        {"id": "C3", "county_code": "370812", "households": 150, "geometry": box(0, 2000, 100, 2100)},
    ])


def idle_parcels() -> gpd.GeoDataFrame:
    """Six parcels with known distances to the compounds of :func:`idle_compounds`.

    ======  ======================  ==========  ============  ========  ====================================
    parcel  shape                   type        ownership     area m²   within 500 m of (distance m)
    ======  ======================  ==========  ============  ========  ====================================
    P1      box(150, 0, 250, 100)   闲置用地     国有          10,000    C1 (50)
    P2      box(100, 100, 130, 130) 零星地块     集体             900    C1 (0: touches its corner)
    P3      box(400, 400, 430, 430) 空置房屋     企业             900    C1 (√(300²+300²) = 424.264)
    P4      box(1400, 0, 1500, 100) 低效用地     机关事业单位   10,000    C2 (300)
    P5      box(5000, 5000, ...)    闲置用地     国有          10,000    none (> 3,000 m from all)
    P6      box(0, 2600, 100, 2700) 闲置用地     企业          10,000    C3 (500 exactly)
    ======  ======================  ==========  ============  ========  ====================================
    """
    rows = [
        ("P1", box(150, 0, 250, 100), "闲置用地", "国有"),
        ("P2", box(100, 100, 130, 130), "零星地块", "集体"),
        ("P3", box(400, 400, 430, 430), "空置房屋", "企业"),
        ("P4", box(1400, 0, 1500, 100), "低效用地", "机关事业单位"),
        ("P5", box(5000, 5000, 5100, 5100), "闲置用地", "国有"),
        ("P6", box(0, 2600, 100, 2700), "闲置用地", "企业"),
    ]
    gdf = frame([
        {"id": pid, "county_code": "370811", "parcel_type": t, "ownership": o, "geometry": g}
        for pid, g, t, o in rows
    ])
    gdf["area_m2"] = gdf.geometry.area
    return gdf


IDLE_PAIRS_500 = {("C1", "P1"): 50.0, ("C1", "P2"): 0.0, ("C1", "P3"): float(np.hypot(300, 300)),
                  ("C2", "P4"): 300.0, ("C3", "P6"): 500.0}
"""Every compound–parcel pair of the idle-land layout within 500 m, with its distance in metres."""


def random_layout(seed: int, *, n_compounds: int = 25, n_parcels: int = 60, extent_m: float = 3000.0):
    """Random compounds and parcels (boxes, tilted rectangles, triangles, L-shapes, multipolygons)."""
    rng = np.random.default_rng(seed)

    def shape(k: int) -> shapely.Geometry:
        x, y = rng.uniform(0, extent_m, 2)
        w, h = rng.uniform(10, 150, 2)
        kind = k % 5
        if kind == 0:
            return box(x, y, x + w, y + h)
        if kind == 1:
            return shapely.affinity.rotate(box(x, y, x + w, y + h), rng.uniform(0, 90))
        if kind == 2:
            return shapely.Polygon([(X0 + x, Y0 + y), (X0 + x + w, Y0 + y), (X0 + x, Y0 + y + h)])
        if kind == 3:
            return shapely.union(box(x, y, x + w, y + 20), box(x, y, x + 20, y + h))
        return shapely.MultiPolygon([box(x, y, x + w / 2, y + h / 2), box(x + w, y + h, x + 1.5 * w, y + 1.5 * h)])

    compounds = frame([
        {"id": f"C{k:02d}", "county_code": "370811" if k % 2 else "370812",
         "households": int(rng.integers(50, 800)), "geometry": shape(k)}
        for k in range(n_compounds)
    ])
    parcels = frame([
        {"id": f"P{k:03d}", "parcel_type": ("闲置用地", "低效用地", "空置房屋", "零星地块")[k % 4],
         "ownership": ("国有", "集体", "企业", "机关事业单位")[(k // 4) % 4], "geometry": shape(k + 1)}
        for k in range(n_parcels)
    ])
    parcels["area_m2"] = parcels.geometry.area
    return compounds, parcels


# ----------------------------------------------------------------------------------------------- living circle
def circle_compounds() -> gpd.GeoDataFrame:
    """The idle-land compounds (C1, C2 in 370811 with 200 and 300 households; C3 in 370812 with 150)."""
    return idle_compounds()


def circle_facilities() -> gpd.GeoDataFrame:
    """Two clinics and a market; no elderly care at all.

    ====  =========  ============  =====================================================================
    id    type       at            edge-to-edge distance (m) to C1 / C2 / C3
    ====  =========  ============  =====================================================================
    F1    clinic     (50, 50)      0 (inside C1) / 950 / 1,950
    F2    clinic     (1050, 450)   √(950² + 350²) ≈ 1,012.4 / 350 / √(950² + 1550²) ≈ 1,818.0
    F3    market     (300, 100)    200 / 700 / √(200² + 1900²) ≈ 1,910.5
    ====  =========  ============  =====================================================================

    Nearest per compound: clinic C1 0 (F1, 5min), C2 350 (F2, 10min), C3 1,818.0 (F2, no tier);
    market C1 200 (5min), C2 700 (15min), C3 1,910.5 (no tier); elderly_care none anywhere.
    """
    return frame([
        {"id": "F1", "facility_type": "clinic", "geometry": point(50, 50)},
        {"id": "F2", "facility_type": "clinic", "geometry": point(1050, 450)},
        {"id": "F3", "facility_type": "market", "geometry": point(300, 100)},
    ])


# ----------------------------------------------------------------------------------------------- siting
def siting_layout() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A row of compounds where greedy siting is beaten by the optimum (clinics: 300 m, ≥ 120 m²).

    Compounds (50 m squares on the x axis): S1 at x 0–50 (300 households), S2 at 400–450 (400),
    S3 at 800–850 (400), S4 at 1200–1250 (300), S5 at 2000–2050 (500, already within 50 m of clinic F1).
    Parcels (20 m squares, 400 m², unless said):

    ====  ===========  ======================================================
    id    x            within 300 m of (edge to edge, m)
    ====  ===========  ======================================================
    PL    225–245      S1 (175), S2 (155)                 → 700 households
    PM    625–645      S2 (175), S3 (155)                 → 800 households
    PR    1025–1045    S3 (175), S4 (155)                 → 700 households
    PR2   1025–1045    same as PR, 10 m higher (identical coverage)
    PS    1300–1305    S4 (50) but only 25 m² (< 120 m²: not a candidate)
    PX    2100–2120    S5 only (already covered: not a candidate)
    ====  ===========  ======================================================

    k = 2: greedy takes PM (800) then PL or PR (+300) = 1,100 new households; the optimum PL + PR
    covers all four, 1,400. Before 500, total 1,900; optimum after 1,900, greedy after 1,600.
    """
    compounds = frame([
        {"id": f"S{n + 1}", "county_code": "370811", "households": hh, "geometry": box(x, 0, x + 50, 50)}
        for n, (x, hh) in enumerate([(0, 300), (400, 400), (800, 400), (1200, 300), (2000, 500)])
    ])
    parcels = frame([
        {"id": "PL", "geometry": box(225, 0, 245, 20)},
        {"id": "PM", "geometry": box(625, 0, 645, 20)},
        {"id": "PR", "geometry": box(1025, 0, 1045, 20)},
        {"id": "PR2", "geometry": box(1025, 10, 1045, 30)},
        {"id": "PS", "geometry": box(1300, 0, 1305, 5)},
        {"id": "PX", "geometry": box(2100, 0, 2120, 20)},
    ])
    parcels["parcel_type"] = "闲置用地"
    parcels["area_m2"] = parcels.geometry.area
    facilities = frame([{"id": "F1", "facility_type": "clinic", "geometry": point(2025, 100)}])
    return compounds, parcels, facilities


def random_siting(seed: int, *, n_compounds: int = 14, n_parcels: int = 9, n_facilities: int = 3):
    """A small random siting instance (compounds, parcels, clinics) in a 1.5 km square."""
    rng = np.random.default_rng(seed)
    compounds = frame([
        {"id": f"C{n:02d}", "households": int(rng.integers(20, 900)),
         "geometry": box(x, y, x + rng.uniform(30, 120), y + rng.uniform(30, 120))}
        for n, (x, y) in enumerate(rng.uniform(0, 1500, (n_compounds, 2)))
    ])
    parcels = frame([
        {"id": f"P{n:02d}", "geometry": box(x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 40))}
        for n, (x, y) in enumerate(rng.uniform(0, 1500, (n_parcels, 2)))
    ])
    parcels["area_m2"] = parcels.geometry.area
    facilities = frame([
        {"id": f"F{n}", "facility_type": ("clinic", "market")[n % 2], "geometry": point(x, y)}
        for n, (x, y) in enumerate(rng.uniform(0, 1500, (n_facilities, 2)))
    ])
    return compounds, parcels, facilities


# ----------------------------------------------------------------------------------------------- clusters
def cluster_layout() -> gpd.GeoDataFrame:
    """Eight 100 m × 100 m compounds: a chain, two pairs across a county border and a lone one.

    * chain A (0–100) – B (180–280) – C (360–460) on y 0–100, 任城区: gaps A–B 80, B–C 80, A–C 260 m;
    * D1 (0–100), D2 (150–250) in 任城区 and E1 (300–400), E2 (450–550) in 兖州区 on y 1000–1100:
      each neighbour 50 m apart, so D2–E1 (50 m) links the pairs across the border;
    * L at (5000, 5000), alone.

    ===  =========  ========  ============  =========  ======
    id   households  built   willingness  tier        county
    ===  =========  ========  ============  =========  ======
    A    100        1985     90            基础类      370811
    B    200        1990     80            提升类      370811
    C    300        1998     70            基础类      370811
    D1   400        2001     90            完善类      370811
    D2   100        1995     60            完善类      370811
    E1   250        1980     50            基础类      370812
    E2   250        2003     70            基础类      370812
    L    50         1970     95            基础类      370811
    ===  =========  ========  ============  =========  ======

    Floor area is 80 m² per household.
    """
    rows = [
        ("A", (0, 0), 100, 1985, 90, "基础类", "370811"),
        ("B", (180, 0), 200, 1990, 80, "提升类", "370811"),
        ("C", (360, 0), 300, 1998, 70, "基础类", "370811"),
        ("D1", (0, 1000), 400, 2001, 90, "完善类", "370811"),
        ("D2", (150, 1000), 100, 1995, 60, "完善类", "370811"),
        ("E1", (300, 1000), 250, 1980, 50, "基础类", "370812"),
        ("E2", (450, 1000), 250, 2003, 70, "基础类", "370812"),
        ("L", (5000, 5000), 50, 1970, 95, "基础类", "370811"),
    ]
    return frame([
        {"id": cid, "county_code": county, "households": hh, "floor_area_m2": 80.0 * hh, "built_year": year,
         "willingness_pct": float(will), "tier": tier, "geometry": box(x, y, x + 100, y + 100)}
        for cid, (x, y), hh, year, will, tier, county in rows
    ])


def row_of_compounds(n: int = 6, *, gap: float = 50.0) -> gpd.GeoDataFrame:
    """``n`` compounds X1… of 100 m × 100 m in a row, ``gap`` metres apart (X1 at x 0–100)."""
    return frame([
        {"id": f"X{k + 1}", "county_code": "370811", "households": 100, "floor_area_m2": 8000.0, "built_year": 1990,
         "willingness_pct": 80.0, "geometry": box(k * (100 + gap), 0, k * (100 + gap) + 100, 100)}
        for k in range(n)
    ])


def hook_layout() -> gpd.GeoDataFrame:
    """P1 (0–100), P2 (150–250), P3 (300–400) in a row on y 0–100 and Q above P2 (150–250, y 150–250).

    Gaps: P1–P2 50, P2–P3 50, P2–Q 50, Q–P3 √(50² + 50²) ≈ 70.7, P1–Q ≈ 70.7 m. Extent of all four:
    √(400² + 250²) ≈ 471.7 m.
    """
    shapes = {"P1": box(0, 0, 100, 100), "P2": box(150, 0, 250, 100), "P3": box(300, 0, 400, 100),
              "Q": box(150, 150, 250, 250)}
    return frame([
        {"id": cid, "county_code": "370811", "households": 100, "floor_area_m2": 8000.0, "built_year": 1990,
         "willingness_pct": 80.0, "geometry": g}
        for cid, g in shapes.items()
    ])


# ----------------------------------------------------------------------------------------------- walking
def river_roads() -> gpd.GeoDataFrame:
    """Streets on both banks of a river (y = 0) joined by one bridge.

    N runs along the north bank at y = 50 and S along the south bank at y = -50, both from x = -600 to
    600; the bridge B crosses from (350, 50) to (350, -50), 100 m.
    """
    return frame([
        {"id": "N", "road_class": "次干路", "geometry": line((-600, 50), (600, 50))},
        {"id": "S", "road_class": "次干路", "geometry": line((-600, -50), (600, -50))},
        {"id": "B", "road_class": "支路", "geometry": line((350, 50), (350, -50))},
    ])


def river() -> gpd.GeoDataFrame:
    """The river of :func:`river_roads` as a barrier line along y = 0."""
    return frame([{"id": "R1", "geometry": line((-1000, 0), (1000, 0))}])


def river_compounds() -> gpd.GeoDataFrame:
    """A on the north bank and A2, its mirror image moved 100 m east, on the south bank.

    Each is a pentagon whose vertex nearest the river, (0, 100) and (100, -100), is its nearest point to its
    bank's street (50 m). A and A2 are √(100² + 200²) = 223.6 m apart across the water.
    """
    north = shapely.Polygon([(X0, Y0 + 100), (X0 + 40, Y0 + 130), (X0 + 40, Y0 + 160), (X0 - 40, Y0 + 160),
                             (X0 - 40, Y0 + 130)])
    south = shapely.affinity.translate(shapely.affinity.scale(north, yfact=-1, origin=(X0, Y0)), xoff=100)
    return frame([
        {"id": "A", "county_code": "370811", "households": 300, "floor_area_m2": 26_000.0, "built_year": 1995,
         "willingness_pct": 90.0, "geometry": north},
        {"id": "A2", "county_code": "370811", "households": 200, "floor_area_m2": 17_000.0, "built_year": 1998,
         "willingness_pct": 80.0, "geometry": south},
    ])


def river_facilities() -> gpd.GeoDataFrame:
    """A clinic F on the south bank at (0, -100): 200 m from compound A as the crow flies, 900 m on foot.

    Walk: 50 m from A to N, 350 m along N to the bridge, 100 m over it, 350 m back along S, 50 m to F.
    From A2: 100 m straight, 50 + 100 + 50 = 200 m on foot.
    """
    return frame([{"id": "F", "facility_type": "clinic", "geometry": point(0, -100)}])


def line(*points: tuple[float, float]) -> shapely.LineString:
    """A line through points relative to ``(X0, Y0)``."""
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in points])
