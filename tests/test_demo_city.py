"""Demo street networks: bridges only on main streets, dead ends and larger blocks, one connected city; the
demo's streets run around the cells its compounds and parcels fill."""

from __future__ import annotations

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from analytics.network import walk_graph
from analytics.store import demo_city
from tests import geo_fixtures as gf


def streets(seed: int = 1, radius: float = 2500.0):
    return demo_city.city_streets(gf.X0, gf.Y0, radius, np.random.default_rng(seed))


def test_only_main_streets_cross_the_river():
    city = streets()
    crossing = shapely.intersects(city.lines, city.river)
    assert crossing.any()
    assert set(city.road_class[crossing]) <= {"主干路", "次干路"}
    local = city.road_class == "支路"
    assert shapely.distance(city.lines[local], city.river).min() >= demo_city.RIVER_CLEARANCE_M


def test_streets_form_a_lattice_with_gaps_and_dead_ends():
    city = streets()
    # pieces are about one spacing long (dead ends half of it)
    assert 0.8 * demo_city.LOCAL_SPACING_M < np.median(shapely.length(city.lines)) < 1.2 * demo_city.LOCAL_SPACING_M
    roads = gf.frame([{"id": k, "road_class": c, "geometry": g}
                      for k, (c, g) in enumerate(zip(city.road_class, city.lines))])
    graph = walk_graph(roads)
    degree = np.bincount(np.concatenate([graph.u, graph.v]))
    assert (degree == 1).sum() > 10  # cul-de-sacs (and the edge of the city)
    assert (degree == 4).mean() > 0.5  # mostly crossroads
    # nearly every street can be reached from every other, over the bridges
    matrix = sparse.coo_matrix((np.ones(graph.n_edges), (graph.u, graph.v)), shape=(graph.n_nodes,) * 2)
    _, part = connected_components(matrix, directed=False)
    assert np.bincount(part).max() > 0.97 * graph.n_nodes


def test_the_same_seed_gives_the_same_city():
    a, b = streets(7), streets(7)
    assert shapely.equals_exact(a.lines, b.lines).all() and a.river.equals(b.river)
    assert not shapely.equals_exact(streets(8).lines[:10], a.lines[:10]).all()


def blocks(seed: int = 3, occupied=None):
    occupied = [gf.box(10, 10, 200, 120), gf.box(-240, 260, -60, 490)] if occupied is None else occupied
    return demo_city.block_streets(gf.X0, gf.Y0, 1500.0, np.random.default_rng(seed), block_m=250.0,
                                   occupied=np.array(occupied, dtype=object)), occupied


def test_block_streets_run_along_cell_sides_around_what_is_placed():
    city, occupied = blocks()
    assert not shapely.intersects(city.lines[:, None], np.array(occupied)[None, :]).any()
    assert not shapely.intersects(city.river, np.array(occupied)).any()
    # the occupied cell (0, 0) has no street through its middle; its sides are streets (or the river)
    middle = shapely.box(gf.X0 + 20, gf.Y0 + 20, gf.X0 + 230, gf.Y0 + 230)
    assert not shapely.intersects(city.lines, middle).any()
    sides = shapely.union_all([*city.lines[shapely.dwithin(city.lines, middle, 30)], city.river])
    assert sides.length >= 3 * 250  # at most one side of the block left open
    # every side piece lies on the 250 m grid or halfway between (local streets through empty cells)
    xy = shapely.get_coordinates(city.lines)
    on = lambda v: np.isclose(np.mod(v + 1e-6, 125.0), 0, atol=1e-3)  # noqa: E731
    assert (on(xy[:, 0] - gf.X0) | on(xy[:, 1] - gf.Y0)).all()
    # classes by grid line: 主干路 every 1,000 m, 次干路 every 500 m
    arterial = city.lines[city.road_class == "主干路"]
    ends = shapely.get_coordinates(arterial)
    line_of = np.where(np.isclose(ends[0::2, 0], ends[1::2, 0]), ends[0::2, 0] - gf.X0, ends[0::2, 1] - gf.Y0)
    assert np.allclose(np.mod(line_of, 1000.0), 0, atol=1e-6)


def test_block_streets_cross_the_river_only_on_main_streets_and_stay_connected():
    city, _ = blocks()
    crossing = shapely.dwithin(city.lines, city.river, 1.0)
    assert crossing.any() and set(city.road_class[crossing]) <= {"主干路", "次干路"}
    roads = gf.frame([{"id": k, "geometry": g} for k, g in enumerate(city.lines)])
    graph = walk_graph(roads, gf.frame([{"id": "R", "geometry": city.river}]))
    matrix = sparse.coo_matrix((np.ones(graph.n_edges), (graph.u, graph.v)), shape=(graph.n_nodes,) * 2)
    _, part = connected_components(matrix, directed=False)
    assert np.bincount(part).max() > 0.95 * graph.n_nodes
    degree = np.bincount(np.concatenate([graph.u, graph.v]))
    assert (degree == 1).sum() > 5  # cul-de-sacs


def test_block_streets_are_deterministic():
    (a, _), (b, _) = blocks(5), blocks(5)
    assert shapely.equals_exact(a.lines, b.lines).all() and a.river.equals(b.river)
