"""Demo city geometry (演示数据): a plausible street network with a river for each urban area, at any scale.

Streets are a perturbed lattice in EPSG:4548 metres, turned by a few degrees per city: every
``local_spacing_m`` a street, every third one a 次干路 and every sixth a 主干路 (about 1 km apart, as in
Chinese county seats). Lattice points move by a smooth random offset so streets bend gently; crossing
streets share their vertex there. Some local street pieces are missing (larger blocks) and some stop
halfway (cul-de-sacs). A meandering river crosses each city; only 主干路 and 次干路 cross it (bridges),
local streets stop short of its banks. Everything is synthetic and marked demo wherever it is shown.
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


def demo_network(cities, seed: int) -> dict[str, gpd.GeoDataFrame]:
    """The demo's ``roads`` and ``barriers`` tables (EPSG:4326, as stored) for ``cities``; deterministic.

    Drawn from a generator of their own (``seed``), so the demo's other tables do not change with them.
    """
    roads, barriers = streets_for_cities(cities, np.random.default_rng(seed), crs=settings.ANALYSIS_CRS)
    return {"roads": roads.to_crs(settings.STORAGE_CRS), "barriers": barriers.to_crs(settings.STORAGE_CRS)}
