"""Walking graph, network distances and isochrones: hand-drawn streets, a networkx oracle, properties."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import network
from analytics.errors import CRSError, InputError
from analytics.network import isochrones, walk_distances, walk_graph, walk_pairs
from tests import geo_fixtures as gf
from tests.geo_fixtures import X0, Y0, line, point


def roads_frame(*lines: shapely.LineString, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"R{k}" for k in range(len(lines))], **columns}, geometry=list(lines), crs=gf.CRS)


def places(*geoms, prefix="P", **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"{prefix}{k}" for k in range(len(geoms))], **columns}, geometry=list(geoms),
                            crs=gf.CRS)


# ----------------------------------------------------------------------------------------------- the river
def test_river_with_one_bridge_straight_200_walking_900():
    graph = walk_graph(gf.river_roads(), gf.river())
    compounds, facilities = gf.river_compounds().iloc[[0]], gf.river_facilities()
    assert shapely.distance(compounds.geometry.iloc[0], facilities.geometry.iloc[0]) == pytest.approx(200)
    nearest = walk_distances(graph, compounds, facilities, max_m=2000, by="facility_type")
    assert nearest.to_dict("records") == [
        {"origin_id": "A", "facility_type": "clinic", "destination_id": "F", "distance_m": pytest.approx(900)}]
    pairs = walk_pairs(graph, compounds, facilities, max_m=2000)
    assert pairs.to_dict("records") == [{"origin_id": "A", "destination_id": "F", "distance_m": pytest.approx(900)}]
    # 899 m is not enough
    assert walk_pairs(graph, compounds, facilities, max_m=899).empty
    assert walk_distances(graph, compounds, facilities, max_m=899)["distance_m"].isna().all()


def test_graph_splits_the_banks_at_the_bridge():
    graph = walk_graph(gf.river_roads())
    # N and S each split at x = 350: 4 pieces, and the bridge
    assert (graph.n_nodes, graph.n_edges) == (6, 5)
    assert sorted(np.round(graph.length_m, 6)) == [100, 250, 250, 950, 950]
    assert graph.length_m.sum() == pytest.approx(1200 + 1200 + 100)
    assert graph.n_parts == 1


def test_a_link_never_crosses_a_barrier():
    # the south street runs 30 m south of the river, so from (0, 5) it is nearer (35 m) than the north one (45 m)
    roads = gf.river_roads()
    roads.loc[roads.id == "S", "geometry"] = line((-600, -30), (600, -30))
    roads.loc[roads.id == "B", "geometry"] = line((350, 50), (350, -30))
    origin = places(point(0, 5))
    clinic = places(point(0, -100), prefix="F")
    across = walk_distances(walk_graph(roads), origin, clinic, max_m=3000)
    assert across["distance_m"].iloc[0] == pytest.approx(35 + 70)  # straight over the water: wrong
    kept = walk_distances(walk_graph(roads, gf.river()), origin, clinic, max_m=3000)
    assert kept["distance_m"].iloc[0] == pytest.approx(45 + 350 + 80 + 350 + 70)


def test_a_place_with_no_street_on_its_side_has_no_walk_and_a_warning():
    roads = roads_frame(line((-600, -50), (600, -50)))  # the south street only
    graph = walk_graph(roads, gf.river())
    with pytest.warns(UserWarning, match=r"`origins` has 1 place\(s\) with no street within 500 m .*'P0'"):
        got = walk_distances(graph, places(point(0, 20)), places(point(0, -60), prefix="F"), max_m=3000)
    assert got["destination_id"].isna().all() and got["distance_m"].isna().all()


def test_unwalkable_roads_are_left_out_and_block_links():
    # a railway along y = 0 in the road layer (walkable = False) behaves like the river
    roads = pd.concat([gf.river_roads(), roads_frame(line((-1000, 0), (1000, 0)))], ignore_index=True)
    roads["walkable"] = [True, True, True, False]
    graph = walk_graph(roads)
    assert graph.n_edges == 5 and len(graph.barriers) == 1
    got = walk_distances(graph, gf.river_compounds().iloc[[0]], gf.river_facilities(), max_m=2000)
    assert got["distance_m"].iloc[0] == pytest.approx(900)


def test_gates_are_the_way_in_and_out():
    # a compound box(-50, 60, 50, 160) between N (y = 50) and a lane L at y = 200; its only gate faces L
    roads = pd.concat([gf.river_roads(), roads_frame(line((-600, 200), (600, 200)), line((600, 200), (600, 50)))],
                      ignore_index=True)
    graph = walk_graph(roads)
    compound = places(gf.box(-50, 60, 50, 160), prefix="C")
    clinic = places(point(0, -100), prefix="F")
    open_walk = walk_distances(graph, compound, clinic, max_m=5000)["distance_m"].iloc[0]
    assert open_walk == pytest.approx(10 + 350 + 100 + 350 + 50, abs=60)  # through the south side
    gates = gpd.GeoDataFrame({"compound_id": ["C0"]}, geometry=[point(0, 160)], crs=gf.CRS)
    gated = walk_distances(graph, compound, clinic, max_m=5000, gates=gates)["distance_m"].iloc[0]
    # 40 m to the lane, 600 m east, 150 m down to N, 250 m west to the bridge, 100 + 350 + 50 m
    assert gated == pytest.approx(40 + 600 + 150 + 250 + 100 + 350 + 50)
    # a gate 10 m outside the outline adds those 10 m
    gates.loc[0, "geometry"] = point(0, 170)
    assert walk_distances(graph, compound, clinic, max_m=5000, gates=gates)["distance_m"].iloc[0] == \
        pytest.approx(10 + 30 + 600 + 150 + 250 + 100 + 350 + 50)


def test_touching_shapes_are_zero_apart():
    graph = walk_graph(gf.river_roads())
    compound = places(gf.box(-50, 100, 50, 200), prefix="C")
    inside = places(point(0, 150), point(300, 300), prefix="F", facility_type=["clinic", "clinic"])
    got = walk_distances(graph, compound, inside, max_m=3000, by="facility_type")
    assert got[["destination_id", "distance_m"]].values.tolist() == [["F0", 0.0]]
    pairs = walk_pairs(graph, compound, inside, max_m=3000)
    assert pairs["destination_id"].tolist() == ["F0", "F1"] and pairs["distance_m"].iloc[0] == 0


# ----------------------------------------------------------------------------------------------- noding
def test_crossing_streets_meet_and_a_short_end_is_joined():
    # a cross, and a street ending 0.6 m short of the east–west one (a survey undershoot)
    roads = roads_frame(line((-100, 0), (100, 0)), line((0, -100), (0, 100)), line((50, 100), (50, 0.6)))
    graph = walk_graph(roads)
    # the cross: a centre and four ends; the short street's end joins the east arm at (50, 0)
    assert (graph.n_nodes, graph.n_edges) == (7, 6)
    a, b = places(point(50, 100)), places(point(-100, 0), prefix="F")
    assert walk_distances(graph, a, b, max_m=1000)["distance_m"].iloc[0] == pytest.approx(100 + 150, abs=0.7)
    # with no snapping the short end stays loose: the walk must go round nowhere, there is none
    loose = walk_graph(roads, snap_m=0)
    assert loose.n_parts == 2
    assert walk_distances(loose, a, b, max_m=1000)["distance_m"].isna().all()


def test_duplicate_and_overlapping_centre_lines_make_one_street():
    roads = roads_frame(line((0, 0), (200, 0)), line((0, 0), (200, 0)), line((100, 0), (300, 0)))
    graph = walk_graph(roads)
    assert graph.n_edges == 3 and graph.length_m.sum() == pytest.approx(300)


def test_multilines_and_vertices_shared_by_crossing_roads():
    multi = shapely.MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0 + 100, Y0), (X0 + 100, Y0 + 100)]])
    roads = roads_frame(multi, line((50, -50), (50, 50)))
    graph = walk_graph(roads)
    assert graph.n_edges == 5 and graph.n_parts == 1  # the cross splits both at (50, 0)
    assert set(np.round(graph.length_m, 6)) == {50, 100}


# ----------------------------------------------------------------------------------------------- oracle
def random_streets(seed: int, n_lines: int = 28, extent: float = 2000.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_lines):
        k = rng.integers(2, 5)
        pts = rng.uniform(0, extent, (k, 2))
        lines.append(shapely.LineString(pts + [X0, Y0]))
    return gpd.GeoDataFrame({"id": range(n_lines)}, geometry=lines, crs=gf.CRS)


def random_points(seed: int, n: int, prefix: str, extent: float = 2000.0, **columns) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, (n, 2)) + [X0, Y0]
    return places(*shapely.points(xy), prefix=prefix, **columns)


def oracle_graph(roads: gpd.GeoDataFrame, points: list[gpd.GeoDataFrame]) -> tuple[nx.Graph, list[list[tuple]]]:
    """An independent graph: GEOS noding (union), brute-force nearest piece, networkx edges.

    Returns the graph and, per frame of points, each point's node key.
    """
    noded = shapely.get_parts(shapely.union_all(roads.geometry.values))
    segs = []
    for part in noded:
        c = np.asarray(part.coords)
        segs += [(tuple(c[k]), tuple(c[k + 1])) for k in range(len(c) - 1)]
    seg_lines = shapely.linestrings([[a, b] for a, b in segs])
    on_seg: dict[int, list[tuple[float, tuple]]] = {}
    keys = []
    for frame in points:
        frame_keys = []
        for row, geom in enumerate(frame.geometry):
            dist = shapely.distance(geom, seg_lines)
            k = int(np.argmin(dist))
            pos = shapely.line_locate_point(seg_lines[k], geom)
            snap = shapely.line_interpolate_point(seg_lines[k], pos)
            key = ("place", id(frame), row)
            on_seg.setdefault(k, []).append((pos, ("snap", id(frame), row), snap))
            frame_keys.append((key, ("snap", id(frame), row), float(dist[k])))
        keys.append(frame_keys)
    g = nx.Graph()
    for k, (a, b) in enumerate(segs):
        chain = [(0.0, a, shapely.Point(a))] + sorted(on_seg.get(k, []), key=lambda x: x[0]) + \
            [(shapely.length(seg_lines[k]), b, shapely.Point(b))]
        for (_, n1, p1), (_, n2, p2) in zip(chain[:-1], chain[1:]):
            w = shapely.distance(p1, p2)
            if not g.has_edge(n1, n2) or g[n1][n2]["weight"] > w:
                g.add_edge(n1, n2, weight=w)
    for frame_keys in keys:
        for key, snap, dist in frame_keys:
            g.add_edge(key, snap, weight=dist)
    return g, keys


@pytest.mark.parametrize("seed", range(6))
def test_networkx_multi_source_dijkstra_agrees(seed):
    roads = random_streets(seed)
    origins = random_points(100 + seed, 15, "O")
    types = np.array(["a", "b", "c"])[np.random.default_rng(seed).integers(0, 3, 24)]
    facilities = random_points(200 + seed, 24, "F", facility_type=types)
    graph = walk_graph(roads, snap_m=0.001)
    ours = walk_distances(graph, origins, facilities, max_m=network.MAX_SEARCH_M, by="facility_type",
                          max_link_m=3000)
    ours = ours.set_index(["origin_id", "facility_type"])
    g, (o_keys, f_keys) = oracle_graph(roads, [origins, facilities])
    checked = 0
    for ftype in ("a", "b", "c"):
        sources = {f_keys[k][0] for k in np.flatnonzero(types == ftype)}
        lengths = nx.multi_source_dijkstra_path_length(g, sources, cutoff=network.MAX_SEARCH_M)
        for k, (key, _, _) in enumerate(o_keys):
            got = ours.loc[(f"O{k}", ftype)]
            if key in lengths:
                assert got["distance_m"] == pytest.approx(lengths[key], rel=1e-9, abs=1e-6), (ftype, k)
                # the facility named is one at that distance
                fk = f_keys[int(got["destination_id"][1:])][0]
                assert nx.dijkstra_path_length(g, key, fk) == pytest.approx(lengths[key], abs=1e-6)
                checked += 1
            else:
                assert np.isnan(got["distance_m"]) and got["destination_id"] is None
    assert checked > 10


@pytest.mark.parametrize("seed", range(3))
def test_pairs_agree_with_networkx_within_the_limit(seed):
    roads = random_streets(seed)
    origins, destinations = random_points(300 + seed, 8, "O"), random_points(400 + seed, 12, "D")
    graph = walk_graph(roads, snap_m=0.001)
    ours = walk_pairs(graph, origins, destinations, max_m=1500, max_link_m=3000)
    g, (o_keys, d_keys) = oracle_graph(roads, [origins, destinations])
    expected = {}
    for k, (key, _, _) in enumerate(o_keys):
        lengths = nx.single_source_dijkstra_path_length(g, key, cutoff=1500)
        for j, (dkey, _, _) in enumerate(d_keys):
            if dkey in lengths:
                expected[(f"O{k}", f"D{j}")] = lengths[dkey]
    got = {(o, d): v for o, d, v in ours.itertuples(index=False)}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-6)
    assert len(expected) > 5


# ----------------------------------------------------------------------------------------------- properties
@pytest.mark.parametrize("seed", range(8))
def test_walking_is_never_shorter_than_straight(seed):
    roads = random_streets(seed, n_lines=20)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, (12, 2)) + [X0, Y0]
    size = rng.uniform(20, 120, (12, 2))
    compounds = places(*shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size[:, 0], xy[:, 1] + size[:, 1]), prefix="C")
    facilities = random_points(500 + seed, 20, "F", facility_type=["x"] * 20)
    barriers = gpd.GeoDataFrame(geometry=[shapely.LineString(rng.uniform(0, 2000, (3, 2)) + [X0, Y0])], crs=gf.CRS)
    graph = walk_graph(roads, barriers)
    with _maybe_warns():
        pairs = walk_pairs(graph, compounds, facilities, max_m=3000, max_link_m=3000)
        nearest = walk_distances(graph, compounds, facilities, max_m=3000, max_link_m=3000, by="facility_type")
    straight = shapely.distance(
        compounds.set_index("id").geometry.loc[pairs.origin_id].values,
        facilities.set_index("id").geometry.loc[pairs.destination_id].values,
    )
    assert len(pairs) > 0
    assert (pairs["distance_m"].to_numpy() >= straight - 1e-6).all()
    found = nearest.dropna(subset=["destination_id"])
    straight_nearest = shapely.distance(
        compounds.set_index("id").geometry.loc[found.origin_id].values,
        facilities.set_index("id").geometry.loc[found.destination_id].values,
    )
    assert (found["distance_m"].to_numpy() >= straight_nearest - 1e-6).all()
    # and the nearest by walking is the smallest of the pairs
    best = pairs.groupby("origin_id")["distance_m"].min()
    assert found.set_index("origin_id")["distance_m"].to_dict() == pytest.approx(best.to_dict())


class _maybe_warns:
    """Random barriers may leave a place without a street on its side: that warning is allowed here."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.filterwarnings("ignore", message=".*no street within.*", category=UserWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


# ----------------------------------------------------------------------------------------------- isochrones
def test_isochrones_on_a_straight_street():
    # a place on the middle of a 2 km street: 300 m reaches 600 m of street
    graph = walk_graph(roads_frame(line((-1000, 0), (1000, 0))))
    origin = places(point(0, 0), prefix="C")
    iso = isochrones(graph, origin, buffer_m=40)
    assert iso["tier"].tolist() == ["5min", "10min", "15min"]
    assert iso["reached_m"].tolist() == pytest.approx([600, 1000, 2000])
    band = 600 * 80 + np.pi * 40**2
    assert iso.geometry.iloc[0].area == pytest.approx(band, rel=0.01)
    assert iso.geometry.iloc[0].bounds == pytest.approx((X0 - 340, Y0 - 40, X0 + 340, Y0 + 40), abs=0.5)
    # nested: each tier holds the nearer ones
    assert iso.geometry.iloc[1].contains(iso.geometry.iloc[0].buffer(-0.01))
    assert iso.geometry.iloc[2].contains(iso.geometry.iloc[1].buffer(-0.01))


def test_isochrone_stops_at_the_river_and_crosses_at_the_bridge():
    graph = walk_graph(gf.river_roads(), gf.river())
    iso = isochrones(graph, gf.river_compounds().iloc[[0]], tiers_m={"near": 400, "far": 600}, buffer_m=10)
    near, far = iso.geometry.tolist()
    assert not near.intersects(shapely.Point(X0 + 350, Y0 - 50))  # 50 + 350 = 400 reaches the bridge's north end
    assert near.intersects(shapely.Point(X0 + 349, Y0 + 50))
    assert far.intersects(shapely.Point(X0 + 350, Y0 - 50)) and far.intersects(shapely.Point(X0 + 250, Y0 - 50))
    assert not far.intersects(shapely.Point(X0 + 200, Y0 - 50))
    # 600 m: north street from x = -550 to 550, bridge 100 m, 100 m each way along the south street
    assert iso["reached_m"].tolist() == pytest.approx([(350 + 350), 1100 + 100 + 200])


# ----------------------------------------------------------------------------------------------- checks
def test_bad_inputs_are_refused_with_a_clear_message():
    roads = gf.river_roads()
    with pytest.raises(InputError, match=r"`roads` has 1 shape\(s\) that are not lines .* 'P'"):
        walk_graph(pd.concat([roads, places(gf.box(0, 0, 10, 10), prefix="P").assign(id="P")]))
    with pytest.raises(InputError, match=r"`barriers` has 1 shape\(s\) that are not lines or polygons"):
        walk_graph(roads, places(point(0, 0)))
    with pytest.raises(InputError, match=r"`roads` has the `walkable` value 'maybe'"):
        walk_graph(roads.assign(walkable=["maybe", True, True]))
    with pytest.raises(InputError, match="no walkable line"):
        walk_graph(roads.assign(walkable=False))
    with pytest.raises(CRSError, match="distances need a metric CRS"):
        walk_graph(roads.to_crs(4326))
    with pytest.raises(CRSError, match=r"`barriers` has CRS EPSG:4326"):
        walk_graph(roads, gf.river().set_crs(4326, allow_override=True))
    graph = walk_graph(roads)
    compounds = gf.river_compounds()
    with pytest.raises(InputError, match=r"`graph` was a GeoDataFrame"):
        walk_distances(roads, compounds, gf.river_facilities(), max_m=100)
    with pytest.raises(InputError, match=r"`max_m` was -1"):
        walk_pairs(graph, compounds, gf.river_facilities(), max_m=-1)
    with pytest.raises(InputError, match=r"`max_m` was 9000 .* between 0 and 5000"):
        walk_pairs(graph, compounds, gf.river_facilities(), max_m=9000)
    with pytest.raises(CRSError, match=r"`destinations` has CRS EPSG:3857 but the road graph has EPSG:4548"):
        walk_pairs(graph, compounds, gf.river_facilities().to_crs(3857), max_m=100)
    with pytest.raises(InputError, match=r"`origin` has 2 rows but must have exactly one place"):
        isochrones(graph, compounds)
    with pytest.raises(InputError, match=r"`destinations` has duplicate `id`"):
        walk_pairs(graph, compounds, pd.concat([gf.river_facilities()] * 2), max_m=100)


def test_empty_inputs_give_empty_answers():
    graph = walk_graph(gf.river_roads())
    none = gf.river_facilities().iloc[:0]
    assert walk_pairs(graph, gf.river_compounds(), none, max_m=1000).empty
    got = walk_distances(graph, gf.river_compounds(), none, max_m=1000)
    assert got["origin_id"].tolist() == ["A", "A2"] and got["distance_m"].isna().all()
    assert walk_distances(graph, gf.river_compounds().iloc[:0], gf.river_facilities(), max_m=1000).empty
