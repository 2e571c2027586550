"""Demo city geometry (演示数据): street networks with a river for each urban area, at any scale.

Two generators. :func:`block_streets` draws the demo's own streets around what the demo has placed: the
demo lays compounds and parcels out in square cells (``analytics.store.demo.CELL_M`` = 250 m), so streets
run along every cell edge — every second one a 次干路, every fourth a 主干路 (about 1 km apart, as in
Chinese county seats) — and never cross a compound or parcel, which therefore fill blocks facing
streets. Empty cells are cut by local streets (both ways, one way, or a cul-de-sac; some stay whole, like a
park or a school), and a few local pieces along cell edges are missing (larger blocks). A canalised river
follows cell edges across each city; only 主干路 and 次干路 cross it (bridges), local streets stop short
of its banks. :func:`city_streets` is a free-standing perturbed lattice of any density (synthetic sets
for benchmarks). Everything is synthetic and marked demo wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings

LOCAL_SPACING_M = 140.0
"""Distance between neighbouring streets (m)."""
SECONDARY_EVERY = 3
ARTERIAL_EVERY = 6
DROP_SHARE = 0.12
"""Share of local street pieces left out (two blocks become one)."""
CUL_DE_SAC_SHARE = 0.05
"""Share of local street pieces that stop halfway."""
RIVER_CLEARANCE_M = 25.0
"""Local streets keep this far from the river; only 主干路 and 次干路 bridge it."""
ROAD_CLASSES = ("主干路", "次干路", "支路", "步行道", "其他")


@dataclass(frozen=True)
class Streets:
    """A city's streets (lines, their class) and its river (a line)."""

    lines: np.ndarray
    road_class: np.ndarray
    river: shapely.LineString


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], amplitude_m: float) -> np.ndarray:
    """Offsets that vary slowly across the lattice (sum of two low-frequency waves and a little jitter)."""
    k, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    out = np.zeros(shape)
    for _ in range(2):
        fk, fj, phase = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0, 2 * np.pi)
        out += np.sin(fk * k + fj * j + phase)
    return amplitude_m * out / 2 + rng.normal(0, amplitude_m / 10, shape)


def _river(x: float, y: float, radius_m: float, angle: float, rng: np.random.Generator) -> shapely.LineString:
    """A meandering line across the city, through a point near its centre."""
    s = np.linspace(-1.3 * radius_m, 1.3 * radius_m, 200)
    offset = rng.uniform(-0.3, 0.3) * radius_m
    wave = 0.08 * radius_m * np.sin(s / (0.35 * radius_m) + rng.uniform(0, 2 * np.pi))
    u, v = s, offset + wave
    turn = angle + rng.uniform(np.pi / 5, np.pi / 3)
    c, t = np.cos(turn), np.sin(turn)
    return shapely.LineString(np.column_stack([x + u * c - v * t, y + u * t + v * c]))


def city_streets(
    x: float,
    y: float,
    radius_m: float,
    rng: np.random.Generator,
    *,
    local_spacing_m: float = LOCAL_SPACING_M,
    container: shapely.Geometry | None = None,
) -> Streets:
    """Streets and river of one city centred at ``(x, y)`` (EPSG:4548 metres) within ``radius_m``.

    ``container`` (a polygon) trims the streets further, e.g. to the county's boundary.
    """
    s = float(local_spacing_m)
    n = int(np.ceil(radius_m / s)) + 1
    idx = np.arange(-n, n + 1)
    m = len(idx)
    angle = np.radians(rng.uniform(-20, 20))
    c, t = np.cos(angle), np.sin(angle)
    # lattice point (k, j): k counts the streets running along v, j those along u
    du = _smooth_noise(rng, (m, m), 0.12 * s)
    dv = _smooth_noise(rng, (m, m), 0.12 * s)
    uu = idx[:, None] * s + du
    vv = idx[None, :] * s + dv
    px = x + uu * c - vv * t
    py = y + uu * t + vv * c

    def street_class(i: np.ndarray) -> np.ndarray:
        return np.where(i % ARTERIAL_EVERY == 0, 0, np.where(i % SECONDARY_EVERY == 0, 1, 2))

    # pieces between neighbouring lattice points: along v (fixed k) and along u (fixed j)
    k1, j1 = np.meshgrid(np.arange(m), np.arange(m - 1), indexing="ij")
    a_v = np.stack([px[k1, j1], py[k1, j1]], -1).reshape(-1, 2)
    b_v = np.stack([px[k1, j1 + 1], py[k1, j1 + 1]], -1).reshape(-1, 2)
    cls_v = street_class(idx[k1]).ravel()
    k2, j2 = np.meshgrid(np.arange(m - 1), np.arange(m), indexing="ij")
    a_u = np.stack([px[k2, j2], py[k2, j2]], -1).reshape(-1, 2)
    b_u = np.stack([px[k2 + 1, j2], py[k2 + 1, j2]], -1).reshape(-1, 2)
    cls_u = street_class(idx[j2]).ravel()
    a, b, cls = np.concatenate([a_v, a_u]), np.concatenate([b_v, b_u]), np.concatenate([cls_v, cls_u])

    # irregular blocks: some local pieces missing, some cut to a dead end
    local = cls == 2
    roll = rng.random(len(cls))
    keep = ~(local & (roll < DROP_SHARE))
    dead_end = local & (roll >= DROP_SHARE) & (roll < DROP_SHARE + CUL_DE_SAC_SHARE)
    b = np.where(dead_end[:, None], (a + b) / 2, b)
    a, b, cls = a[keep], b[keep], cls[keep]

    # inside the city disc (and container)
    mid = (a + b) / 2
    inside = np.hypot(mid[:, 0] - x, mid[:, 1] - y) <= radius_m
    a, b, cls = a[inside], b[inside], cls[inside]
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    if container is not None:
        ok = shapely.contains(container, lines)
        lines, cls = lines[ok], cls[ok]

    # the river: only 主干路 and 次干路 cross it; local streets stop short of it
    river = _river(x, y, radius_m, angle, rng)
    near_river = shapely.dwithin(lines, river, RIVER_CLEARANCE_M) & (cls == 2)
    lines, cls = lines[~near_river], cls[~near_river]
    return Streets(lines=lines, road_class=np.array(ROAD_CLASSES[:3], dtype=object)[cls], river=river)


def streets_for_cities(cities, rng: np.random.Generator, *, local_spacing_m: float = LOCAL_SPACING_M,
                       crs: int = 4548) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads and river barriers of several cities, as the road and barrier layers hold them (EPSG:4548).

    ``cities`` are objects with ``code``, ``x``, ``y``, ``radius_m`` and ``container``. Roads get ``id``,
    ``county_code``, ``road_class``, ``walkable``; barriers ``id``, ``county_code``, ``barrier_type``.
    """
    road_parts, river_rows = [], []
    for city in cities:
        streets = city_streets(city.x, city.y, city.radius_m, rng, local_spacing_m=local_spacing_m,
                               container=city.container)
        road_parts.append(pd.DataFrame({"county_code": city.code, "road_class": streets.road_class,
                                        "geometry": streets.lines}))
        river_rows.append({"county_code": city.code, "barrier_type": "河流", "geometry": streets.river})
    roads = gpd.GeoDataFrame(pd.concat(road_parts, ignore_index=True), geometry="geometry", crs=crs)
    roads.insert(0, "id", [f"R{k + 1:07d}" for k in range(len(roads))])
    roads["walkable"] = True
    rivers = gpd.GeoDataFrame(river_rows, geometry="geometry", crs=crs)
    rivers.insert(0, "id", [f"B{k + 1:04d}" for k in range(len(rivers))])
    return roads, rivers


def _grid_class(index: np.ndarray) -> np.ndarray:
    """Street class code of grid line ``index``: 0 主干路 every fourth, 1 次干路 every second, 2 支路 otherwise."""
    return np.where(index % 4 == 0, 0, np.where(index % 2 == 0, 1, 2))


def _grid_river(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A river on the grid's lines: node indices (i, j) from one side to the other, mostly straight, with steps.

    Returns the path's nodes as (k, 2) integer grid indices in (along, across) order and whether the river
    runs along the x axis (``True``) or the y axis.
    """
    along_x = bool(rng.random() < 0.5)
    across = int(rng.integers(-max(1, n // 3), max(1, n // 3) + 1))
    nodes = []
    for k in range(-n - 3, n + 4):
        nodes.append((k, across))
        if -n < k < n and rng.random() < 0.2:  # a bend: one cell sideways
            across += int(rng.choice([-1, 1]))
            nodes.append((k, across))
    return np.array(nodes, dtype=np.int64), np.array(along_x)


def block_streets(
    x: float,
    y: float,
    radius_m: float,
    rng: np.random.Generator,
    *,
    block_m: float,
    occupied: np.ndarray,
    container: shapely.Geometry | None = None,
) -> Streets:
    """Streets and river of one city whose compounds and parcels lie in square cells of ``block_m``.

    Cells are centred at ``(x + (i + ½)·block_m, y + (j + ½)·block_m)`` (EPSG:4548 metres); ``occupied`` are
    the shapes placed in them (each inside one cell), which no street and no river crosses.
    """
    b = float(block_m)
    n = int(np.ceil(radius_m / b)) + 1
    idx = np.arange(-n, n + 1)
    gx, gy = x + idx * b, y + idx * b
    # edges along the cells' sides: horizontal (i → i+1 on line j) and vertical (j → j+1 on line i)
    hi, hj = np.meshgrid(np.arange(len(idx) - 1), np.arange(len(idx)), indexing="ij")
    h_a = np.column_stack([gx[hi.ravel()], gy[hj.ravel()]])
    h_b = np.column_stack([gx[hi.ravel() + 1], gy[hj.ravel()]])
    vi, vj = np.meshgrid(np.arange(len(idx)), np.arange(len(idx) - 1), indexing="ij")
    v_a = np.column_stack([gx[vi.ravel()], gy[vj.ravel()]])
    v_b = np.column_stack([gx[vi.ravel()], gy[vj.ravel() + 1]])
    a, bb = np.concatenate([h_a, v_a]), np.concatenate([h_b, v_b])
    cls = np.concatenate([_grid_class(idx[hj.ravel()]), _grid_class(idx[vi.ravel()])])
    # grid keys of each side edge: (axis, i, j) of its first node, to find the river's edges
    keys = np.concatenate([np.column_stack([np.zeros(hi.size), hi.ravel(), hj.ravel()]),
                           np.column_stack([np.ones(vi.size), vi.ravel(), vj.ravel()])]).astype(np.int64)

    # a few local side pieces missing: two blocks become one
    drop = (cls == 2) & (rng.random(len(cls)) < 0.08)
    a, bb, cls, keys = a[~drop], bb[~drop], cls[~drop], keys[~drop]

    # empty cells get local streets through their middle
    ci, cj = np.meshgrid(np.arange(len(idx) - 1), np.arange(len(idx) - 1), indexing="ij")
    cx, cy = gx[ci.ravel()] + b / 2, gy[cj.ravel()] + b / 2
    cells = shapely.box(cx - b / 2 + 1, cy - b / 2 + 1, cx + b / 2 - 1, cy + b / 2 - 1)
    hit = np.zeros(len(cells), dtype=bool)
    if len(occupied):
        hit[np.unique(shapely.STRtree(cells).query(np.asarray(occupied, dtype=object), predicate="intersects")[1])] = True
    roll = rng.random(len(cells))
    side = rng.integers(0, 4, len(cells))
    mids_a, mids_b = [], []
    centre = np.column_stack([cx, cy])
    ends = [np.column_stack([cx - b / 2, cy]), np.column_stack([cx + b / 2, cy]),
            np.column_stack([cx, cy - b / 2]), np.column_stack([cx, cy + b / 2])]
    for k, end in enumerate(ends):
        both = roll < 0.45
        one_way = (roll >= 0.45) & (roll < 0.75) & ((side % 2 == 0) == (k < 2))
        cul_de_sac = (roll >= 0.75) & (roll < 0.85) & (side == k)
        use = ~hit & (both | one_way | cul_de_sac)
        mids_a.append(end[use])
        mids_b.append(centre[use])
    mid_a, mid_b = np.concatenate(mids_a), np.concatenate(mids_b)

    # the river along cell sides; the side edges it follows are no streets
    path, along_x = _grid_river(n, rng)
    if along_x:
        px, py = x + path[:, 0] * b, y + path[:, 1] * b
    else:
        px, py = x + path[:, 1] * b, y + path[:, 0] * b
    river = shapely.LineString(np.column_stack([px, py]))
    gi, gj = (path[:, 0], path[:, 1]) if along_x else (path[:, 1], path[:, 0])
    gi, gj = gi + n, gj + n
    first_i, first_j = np.minimum(gi[:-1], gi[1:]), np.minimum(gj[:-1], gj[1:])
    axis = (gi[:-1] == gi[1:]).astype(np.int64)  # 1: vertical (same i)
    m = len(idx) + 1

    def code(k0: np.ndarray, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
        return (k0 * m + k1) * m + k2

    in_grid = (first_i >= 0) & (first_j >= 0) & (np.maximum(gi[:-1], gi[1:]) < len(idx)) & \
        (np.maximum(gj[:-1], gj[1:]) < len(idx))
    on_river = np.isin(code(keys[:, 0], keys[:, 1], keys[:, 2]),
                       code(axis[in_grid], first_i[in_grid], first_j[in_grid]))
    a, bb, cls = a[~on_river], bb[~on_river], cls[~on_river]

    a = np.concatenate([a, mid_a])
    bb = np.concatenate([bb, mid_b])
    cls = np.concatenate([cls, np.full(len(mid_a), 2)])
    mid = (a + bb) / 2
    inside = np.hypot(mid[:, 0] - x, mid[:, 1] - y) <= radius_m + b / 2
    lines = shapely.linestrings(np.stack([a[inside], bb[inside]], axis=1))
    cls = cls[inside]
    if container is not None:
        ok = shapely.contains(container, lines)
        lines, cls = lines[ok], cls[ok]
    near_river = shapely.dwithin(lines, river, RIVER_CLEARANCE_M) & (cls == 2)
    lines, cls = lines[~near_river], cls[~near_river]
    return Streets(lines=lines, road_class=np.array(ROAD_CLASSES[:3], dtype=object)[cls], river=river)


def demo_network(cities, seed: int, *, block_m: float,
                 occupied: list[gpd.GeoDataFrame] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The demo's ``roads`` and ``barriers`` tables (EPSG:4326, as stored) for ``cities``; deterministic.

    ``cities`` have ``code``, ``x``, ``y``, ``radius_m`` and ``container``; ``occupied`` are frames (EPSG:4548,
    with ``county_code``) of the shapes placed in the cells of ``block_m`` that streets must go around. Drawn
    from a generator of its own (``seed``), so the demo's other tables do not change with it.
    """
    rng = np.random.default_rng(seed)
    shapes = pd.concat([f[["county_code", "geometry"]] for f in occupied or []], ignore_index=True) \
        if occupied else pd.DataFrame({"county_code": [], "geometry": []})
    road_parts, river_rows = [], []
    for city in cities:
        mine = shapes["geometry"].to_numpy()[(shapes["county_code"] == city.code).to_numpy()]
        streets = block_streets(city.x, city.y, city.radius_m, rng, block_m=block_m, occupied=mine,
                                container=city.container)
        road_parts.append(pd.DataFrame({"county_code": city.code, "road_class": streets.road_class,
                                        "geometry": streets.lines}))
        river_rows.append({"county_code": city.code, "barrier_type": "河流", "geometry": streets.river})
    roads = gpd.GeoDataFrame(pd.concat(road_parts, ignore_index=True), geometry="geometry", crs=settings.ANALYSIS_CRS)
    roads.insert(0, "id", [f"R{k + 1:07d}" for k in range(len(roads))])
    roads["walkable"] = True
    rivers = gpd.GeoDataFrame(river_rows, geometry="geometry", crs=settings.ANALYSIS_CRS)
    rivers.insert(0, "id", [f"B{k + 1:04d}" for k in range(len(rivers))])
    return {"roads": roads.to_crs(settings.STORAGE_CRS), "barriers": rivers.to_crs(settings.STORAGE_CRS)}
