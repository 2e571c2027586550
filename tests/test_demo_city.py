"""Demo street networks: bridges only on main streets, dead ends and larger blocks, one connected city."""

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
