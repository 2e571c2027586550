"""Walking along streets: a graph from road centre-lines and barriers, network distances, isochrones.

Graph (:func:`walk_graph`)
    Road centre-lines in a metric CRS (EPSG:4548) are cut into straight pieces between their vertices;
    every piece is split where another road crosses or touches it, and points closer than ``snap_m``
    (road ends that stop just short of another road, vertices digitised twice) become one node. Edges
    are the pieces with their length in metres. Walking ignores one-way rules, so the graph is
    undirected. Roads marked ``walkable = False`` (expressways, railways) are left out and act as
    barriers.
Barriers
    Rivers, railways and expressways (lines or polygons). A walk crosses a barrier only along a road
    that crosses it — a bridge, an underpass, a level crossing — so every walkable road piece is kept
    (draw only roads people can walk; mark the others ``walkable = False``). Barriers remove every other
    edge: the link from a compound, gate, facility or parcel to the network may not cross one, and such
    a place is linked to the nearest edge on its own side instead.
Links
    A place is linked to the nearest point of the nearest edge within ``max_link_m`` (straight, from the
    nearest point of its shape); a compound with gates is linked through each gate instead, the gate's
    distance from the compound's outline added. A walk is link + streets + link, so it is never shorter
    than the straight edge-to-edge distance; two places whose shapes touch or overlap are 0 m apart.
Shortest paths
    ``scipy.sparse.csgraph.dijkstra`` on the graph with the links' end points inserted as nodes:
    :func:`walk_distances` finds each origin's nearest destination with one multi-source run per group
    of destinations (per facility type), :func:`walk_pairs` every pair within a distance with one bounded
    run per origin (or per destination, whichever side is smaller), :func:`isochrones` the streets
    reached from one compound within each living-circle tier.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from analytics import settings
from analytics._spatial import pairs_within_distance, worker_count
from analytics.checks import check_distance_m, check_gdf, check_unique_ids
from analytics.errors import CRSError, InputError

log = logging.getLogger(__name__)

MAX_SEARCH_M = 5_000
"""Largest ``max_m`` accepted by the distance functions (m)."""
_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_BARRIER_TYPES = (1, 2, 3, 5, 6, 7)  # lines, polygons, and collections of them
_PAIR_CELLS = 8_000_000  # distance-matrix cells per chunk of bounded runs (64 MB of float64)
_T_EPS = 1e-9  # positions along an edge this close to an end are that end
_EPS_M = 1e-6  # a walk this much over a limit (rounding of sums of lengths) is within it


def _beyond(limit_m: float) -> float:
    """A search limit just above ``limit_m``: scipy's dijkstra leaves a node exactly at its limit unreached."""
    return limit_m * (1 + 1e-9) + 2 * _EPS_M


def _starts(*keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal keys (arrays sorted by those keys)."""
    n = len(keys[0])
    out = np.ones(n, dtype=bool)
    if n > 1:
        out[1:] = np.logical_or.reduce([k[1:] != k[:-1] for k in keys])
    return out


# ----------------------------------------------------------------------------------------------- the graph
@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected street graph for walking (build it with :func:`walk_graph`).

    Attributes
    ----------
    xy
        Node coordinates, shape (n_nodes, 2), metres in ``crs``.
    u, v
        End nodes of each edge (int64); every edge is a straight piece from ``xy[u]`` to ``xy[v]``.
    length_m
        Edge lengths (m).
    road
        Row position (in the ``roads`` frame given) of the road each edge belongs to.
    crs
        The roads' CRS (metric).
    barriers
        Shapes no link may cross: the barriers given and the roads marked not walkable.
    """

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    road: np.ndarray
    crs: CRS
    barriers: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of street nodes."""
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        """Number of street edges."""
        return len(self.u)

    @cached_property
    def edge_lines(self) -> np.ndarray:
        """Each edge as a shapely LineString from ``xy[u]`` to ``xy[v]``."""
        return shapely.linestrings(np.stack([self.xy[self.u], self.xy[self.v]], axis=1))

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """An STR tree over :attr:`edge_lines`."""
        return shapely.STRtree(self.edge_lines)

    @cached_property
    def barrier_tree(self) -> shapely.STRtree | None:
        """An STR tree over :attr:`barriers` (``None`` without barriers)."""
        return shapely.STRtree(self.barriers) if len(self.barriers) else None

    @cached_property
    def n_parts(self) -> int:
        """Connected parts of the street graph (1 when every street can be reached from every other)."""
        n = self.n_nodes
        matrix = sparse.coo_matrix((np.ones(self.n_edges), (self.u, self.v)), shape=(n, n))
        return int(connected_components(matrix, directed=False)[0])

    def edges(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame: ``u``, ``v``, ``length_m``, ``road`` and the line."""
        return gpd.GeoDataFrame({"u": self.u, "v": self.v, "length_m": self.length_m, "road": self.road},
                                geometry=self.edge_lines, crs=self.crs)


def walk_graph(
    roads: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    *,
    snap_m: float = settings.WALK_SNAP_M,
) -> WalkGraph:
    """The walking graph of a road centre-line layer (see the module docstring).

    Parameters
    ----------
    roads
        Road centre-lines (LineString / MultiLineString) in a metric CRS (EPSG:4548). An optional
        boolean ``walkable`` column marks roads nobody may walk along (expressways, railways; missing
        values count as walkable); other columns (``road_class``, ``oneway``) are not needed.
    barriers
        Rivers, railways, expressways as lines or polygons in the same CRS; ``None`` for none.
    snap_m
        Points closer than this (m, 0–10) become one node: road ends that stop just short of another
        road are joined to it. 0 joins only exactly equal points.

    Returns
    -------
    WalkGraph

    Raises
    ------
    InputError
        Not GeoDataFrames, shapes that are not lines (roads) or neither lines nor polygons (barriers),
        an unusable ``walkable`` column, no walkable road, or ``snap_m`` out of range.
    CRSError
        No CRS, a geographic CRS, or different CRSs.
    """
    started = time.perf_counter()
    check_gdf(roads, "roads", required=[])
    tol = check_distance_m(snap_m, "snap_m", high=10)
    geoms = np.asarray(roads.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    _check_types(roads, geoms, present, _LINE_TYPES, "roads", "lines (LineString or MultiLineString)")
    walkable = present & _walkable(roads)
    blocked = [geoms[present & ~walkable]]
    if barriers is not None:
        check_gdf(barriers, "barriers", required=[])
        if barriers.crs != roads.crs:
            raise CRSError(
                f"`barriers` has CRS EPSG:{barriers.crs.to_epsg()} but `roads` has EPSG:{roads.crs.to_epsg()}; "
                "bring both to the same CRS (EPSG:4548) first."
            )
        b = np.asarray(barriers.geometry.values, dtype=object)
        b_present = ~(shapely.is_missing(b) | shapely.is_empty(b))
        _check_types(barriers, b, b_present, _BARRIER_TYPES, "barriers", "lines or polygons")
        blocked.append(b[b_present])
    rows = np.flatnonzero(walkable)
    a, b, seg_row, a_end, b_end = _segments(geoms[rows])
    if len(a) == 0:
        raise InputError("`roads` has no walkable line; import a road layer with centre-lines first.")
    u, v, length, edge_seg, xy = _node(a, b, a_end, b_end, tol)
    graph = WalkGraph(xy=xy, u=u, v=v, length_m=length, road=rows[seg_row[edge_seg]], crs=roads.crs,
                      barriers=np.concatenate(blocked).astype(object))
    log.info("walk_graph: %d roads → %d nodes, %d edges (%.0f km), %d barrier shapes in %.2f s",
             len(rows), graph.n_nodes, graph.n_edges, length.sum() / 1000, len(graph.barriers),
             time.perf_counter() - started)
    return graph


def _check_types(frame: gpd.GeoDataFrame, geoms: np.ndarray, present: np.ndarray, allowed: tuple[int, ...],
                 name: str, what: str) -> None:
    wrong = present & ~np.isin(shapely.get_type_id(geoms), allowed)
    if wrong.any():
        k = int(np.flatnonzero(wrong)[0])
        label = frame["id"].iloc[k] if "id" in frame.columns else k
        raise InputError(
            f"`{name}` has {int(wrong.sum())} shape(s) that are not {what}, e.g. {label!r} "
            f"({geoms[k].geom_type}); keep only {what}."
        )


def _walkable(roads: pd.DataFrame) -> np.ndarray:
    """``walkable`` as booleans (missing → True); True everywhere without the column."""
    if "walkable" not in roads.columns:
        return np.ones(len(roads), dtype=bool)
    values = roads["walkable"]
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.to_numpy(dtype=bool)
    known = values.notna().to_numpy()
    ok = values[known].map(lambda x: isinstance(x, bool | np.bool_) or x in (0, 1))
    if not ok.all():
        bad = values[known][~ok.to_numpy()].iloc[0]
        raise InputError(f"`roads` has the `walkable` value {bad!r}; use True / False (or leave it empty).")
    out = np.ones(len(roads), dtype=bool)
    out[known] = values[known].astype(bool).to_numpy()
    return out


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Straight pieces ``a → b`` of the lines, the line each comes from, and whether ``a`` / ``b`` end a line."""
    parts, part_row = shapely.get_parts(geoms, return_index=True)
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    kept = _starts(owner, coords[:, 0], coords[:, 1])  # drop a coordinate repeating the one before
    coords, owner = coords[kept], owner[kept]
    starts = _starts(owner)
    ends = np.ones(len(owner), dtype=bool)
    ends[:-1] = starts[1:]
    k = np.flatnonzero(~ends)  # every coordinate but the last of its part starts a piece
    return coords[k], coords[k + 1], part_row[owner[k]], starts[k], ends[k + 1]


def _crossings(a: np.ndarray, b: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where pieces meet: (piece, position 0–1 along it, point) for every split inside a piece.

    Two pieces that cross, touch, or come within ``tol`` of each other's ends are split at the meeting
    point (a piece is not split within ``tol`` of its own ends: the end joins the point instead).
    Collinear overlapping pieces are split at each other's ends.
    """
    lo, hi = np.minimum(a, b) - tol, np.maximum(a, b) + tol
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    i, j = shapely.STRtree(boxes).query(boxes)
    keep = i < j
    i, j = i[keep], j[keep]
    p, r = a[i], b[i] - a[i]
    q, s = a[j], b[j] - a[j]
    lr, ls = np.hypot(r[:, 0], r[:, 1]), np.hypot(s[:, 0], s[:, 1])
    qp = q - p
    rxs = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    qpxs = qp[:, 0] * s[:, 1] - qp[:, 1] * s[:, 0]
    qpxr = qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]
    parallel = np.abs(rxs) <= 1e-12 * lr * ls
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(parallel, np.nan, qpxs / rxs)
        w = np.where(parallel, np.nan, qpxr / rxs)
    ti, tj = tol / lr, tol / ls
    meet = ~parallel & (t >= -ti) & (t <= 1 + ti) & (w >= -tj) & (w <= 1 + tj)
    point = p + np.clip(t, 0, 1)[:, None] * r
    inner_i = meet & (t > ti) & (t < 1 - ti)
    inner_j = meet & (w > tj) & (w < 1 - tj)
    # a point inside one piece and at the end of the other: the end is the point (joined by snapping)
    point_j = np.where(inner_i[:, None], point, q + np.clip(w, 0, 1)[:, None] * s)
    pieces = [i[inner_i], j[inner_j]]
    positions = [t[inner_i], w[inner_j]]
    points = [point[inner_i], point_j[inner_j]]

    # collinear pieces (parallel and within tol of each other's line): split each at the other's ends
    near_line = parallel & (np.abs(qpxr) <= tol * lr)
    if near_line.any():
        for own, other_a, other_b, origin, direction, length in (
            (i, q, q + s, p, r, lr), (j, p, p + r, q, s, ls),
        ):
            for end in (other_a, other_b):
                pos = ((end - origin) * direction).sum(axis=1) / length**2
                inner = near_line & (pos > tol / length) & (pos < 1 - tol / length)
                pieces.append(own[inner])
                positions.append(pos[inner])
                points.append(origin[inner] + pos[inner, None] * direction[inner])
    return np.concatenate(pieces), np.concatenate(positions), np.concatenate(points)


def _node(a: np.ndarray, b: np.ndarray, a_end: np.ndarray, b_end: np.ndarray, tol: float) -> tuple[np.ndarray, ...]:
    """Split pieces at their crossings and number the points: edges (u, v, length, piece) and node coordinates."""
    n_seg = len(a)
    split_seg, split_t, split_xy = _crossings(a, b, tol)
    seg = np.concatenate([np.arange(n_seg), np.arange(n_seg), split_seg])
    pos = np.concatenate([np.zeros(n_seg), np.ones(n_seg), split_t])
    pts = np.concatenate([a, b, split_xy])

    # identical points are one node; then points within tol join unless they are the two ends of one piece
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    ordered = pts[order]
    new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    label = np.empty(len(pts), dtype=np.int64)
    label[order] = np.cumsum(new) - 1
    unique_xy = ordered[new]
    if tol > 0 and len(unique_xy) > 1:
        pairs = cKDTree(unique_xy).query_pairs(tol, output_type="ndarray")
        if len(pairs):
            own = np.sort(np.stack([label[:n_seg], label[n_seg:2 * n_seg]], axis=1), axis=1)
            m = len(unique_xy)
            own_keys = own[:, 0].astype(np.int64) * m + own[:, 1]
            pair_keys = pairs.min(axis=1).astype(np.int64) * m + pairs.max(axis=1)
            pairs = pairs[~np.isin(pair_keys, own_keys)]
        if len(pairs):
            m = len(unique_xy)
            join = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
            _, group = connected_components(join, directed=False)
            # each group takes the coordinates of its first point (lowest unique index)
            leader = np.full(group.max() + 1, m, dtype=np.int64)
            np.minimum.at(leader, group, np.arange(m))
            label = leader[group][label]

    # pieces between consecutive points along each piece
    order = np.lexsort((pos, seg))
    seg_sorted, node_sorted = seg[order], label[order]
    same = seg_sorted[1:] == seg_sorted[:-1]
    u, v, piece = node_sorted[:-1][same], node_sorted[1:][same], seg_sorted[:-1][same]
    keep = u != v
    u, v, piece = u[keep], v[keep], piece[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    length = np.hypot(*(unique_xy[hi] - unique_xy[lo]).T)
    # parallel pieces between the same two nodes: keep the shortest
    order = np.lexsort((length, hi, lo))
    lo, hi, length, piece = lo[order], hi[order], length[order], piece[order]
    first_of_pair = _starts(lo, hi)
    lo, hi, length, piece = lo[first_of_pair], hi[first_of_pair], length[first_of_pair], piece[first_of_pair]
    used, compact = np.unique(np.concatenate([lo, hi]), return_inverse=True)
    n_e = len(lo)
    return (compact[:n_e].astype(np.int64), compact[n_e:].astype(np.int64), length, piece, unique_xy[used])


# ----------------------------------------------------------------------------------------------- links
@dataclass(frozen=True)
class _Links:
    """Links of places to the graph: for each link its place, edge, position along the edge and length (m)."""

    owner: np.ndarray
    edge: np.ndarray
    t: np.ndarray
    link_m: np.ndarray

    start: np.ndarray  # (n, 2) where each link leaves its place (or gate)

    @staticmethod
    def concat(parts: list[_Links]) -> _Links:
        return _Links(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("owner", "edge", "t", "link_m", "start")))

    @staticmethod
    def empty() -> _Links:
        none = np.empty(0, dtype=np.int64)
        return _Links(none, none, np.empty(0), np.empty(0), np.empty((0, 2)))


def _crosses_barrier(graph: WalkGraph, lines: np.ndarray) -> np.ndarray:
    """Which links cross a barrier (touching one at an end is not crossing)."""
    return lines_crossing(lines, graph.barriers, graph.barrier_tree)


def lines_crossing(lines: np.ndarray, barriers: np.ndarray, tree: shapely.STRtree | None = None) -> np.ndarray:
    """Which of ``lines`` cross one of ``barriers`` (shapely arrays); touching one at an end is not crossing.

    A line of zero length (two shapes that touch) crosses nothing. ``tree``: an STR tree over ``barriers``
    if one is at hand.
    """
    lines = np.asarray(lines, dtype=object)
    out = np.zeros(len(lines), dtype=bool)
    if len(barriers) == 0 or len(lines) == 0:
        return out
    tree = shapely.STRtree(barriers) if tree is None else tree
    real = np.flatnonzero(shapely.length(lines) > 0)
    li, bi = tree.query(lines[real], predicate="intersects")
    crossing = ~shapely.touches(lines[real][li], np.asarray(barriers, dtype=object)[bi])
    out[real[li[crossing]]] = True
    return out


def _link_geoms(graph: WalkGraph, geoms: np.ndarray, max_link_m: float) -> tuple[np.ndarray, ...]:
    """Nearest edge of each shape within ``max_link_m`` whose link crosses no barrier.

    Returns positions (into ``geoms``) of the shapes linked, their edge, position along it, link length and
    the point where the link leaves the shape.
    """
    if len(geoms) == 0:
        none = np.empty(0, dtype=np.int64)
        return none, none, np.empty(0), np.empty(0), np.empty((0, 2))
    gi, ei = graph.edge_tree.query_nearest(geoms, max_distance=max_link_m, all_matches=False)
    lines = shapely.shortest_line(geoms[gi], graph.edge_lines[ei])
    blocked = _crosses_barrier(graph, lines)
    if blocked.any():
        # shapes whose nearest link crosses a barrier: every edge within reach, nearest unblocked one
        retry = gi[blocked]
        ri, rj = graph.edge_tree.query(geoms[retry], predicate="dwithin", distance=max_link_m)
        cand = shapely.shortest_line(geoms[retry[ri]], graph.edge_lines[rj])
        ok = ~_crosses_barrier(graph, cand)
        ri, rj, cand = ri[ok], rj[ok], cand[ok]
        order = np.lexsort((rj, shapely.length(cand), ri))
        ri, rj, cand = ri[order], rj[order], cand[order]
        first = _starts(ri)
        gi = np.concatenate([gi[~blocked], retry[ri[first]]])
        ei = np.concatenate([ei[~blocked], rj[first]])
        lines = np.concatenate([lines[~blocked], cand[first]])
    ends = shapely.get_point(lines, 1)
    t = shapely.line_locate_point(graph.edge_lines[ei], ends, normalized=True)
    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    return gi.astype(np.int64), ei.astype(np.int64), np.clip(t, 0.0, 1.0), shapely.length(lines), starts


def _links(
    graph: WalkGraph, places: gpd.GeoDataFrame, name: str, max_link_m: float, gates: gpd.GeoDataFrame | None = None,
    *, depth: int = 1,
) -> _Links:
    """Links of ``places`` to the graph, through their gates where ``gates`` lists some; warns about the unlinked.

    ``depth``: frames between the caller of this function and the user's code (where the warning points).
    """
    geoms = np.asarray(places.geometry.values, dtype=object)
    via_gate = np.zeros(len(places), dtype=bool)
    parts = []
    if gates is not None and len(gates):
        owner = pd.Index(places["id"]).get_indexer(gates["compound_id"])
        known = owner >= 0
        gate_geoms = np.asarray(gates.geometry.values, dtype=object)[known]
        owner = owner[known]
        via_gate[owner] = True
        gi, ei, t, link, start = _link_geoms(graph, gate_geoms, max_link_m)
        # from the compound's outline to the gate (0 when the gate lies on or inside it)
        link = link + shapely.distance(geoms[owner[gi]], gate_geoms[gi])
        parts.append(_Links(owner[gi], ei, t, link, start))
    rest = np.flatnonzero(~via_gate)
    gi, ei, t, link, start = _link_geoms(graph, geoms[rest], max_link_m)
    parts.append(_Links(rest[gi], ei, t, link, start))
    links = _Links.concat(parts)
    unlinked = np.ones(len(places), dtype=bool)
    unlinked[links.owner] = False
    if unlinked.any():
        first = places["id"].iloc[int(np.flatnonzero(unlinked)[0])]
        warnings.warn(
            f"`{name}` has {int(unlinked.sum())} place(s) with no street within {max_link_m:g} m on their side "
            f"of any barrier (e.g. {first!r}); they have no walking distance.",
            UserWarning, stacklevel=depth + 2,
        )
    return links


# ----------------------------------------------------------------------------------------------- the run graph
@dataclass(frozen=True)
class _RunGraph:
    """The street graph with link points inserted, one node per source place and one per target place."""

    matrix: sparse.csr_matrix
    xy: np.ndarray  # coordinates of the street nodes (originals, then inserted link points)
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray]  # street edges after insertion: (a, b, length)
    source_node: np.ndarray  # node of each source place
    target_node: np.ndarray  # node of each target place
    link_end: np.ndarray  # street node at the network end of each link (sources' links first)


def _min_edges(r: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop repeated (r, c) edges, keeping the lightest."""
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = _starts(r, c)
    return r[first], c[first], w[first]


def _run_graph(graph: WalkGraph, sources: _Links, n_sources: int, targets: _Links, n_targets: int) -> _RunGraph:
    """Directed graph for one run: streets both ways, source places → streets, streets → target places."""
    links = _Links.concat([sources, targets])
    base = graph.n_nodes
    e, t = links.edge, links.t
    at_u, at_v = t <= _T_EPS, t >= 1 - _T_EPS
    inner = ~(at_u | at_v)
    end = np.where(at_u, graph.u[e], graph.v[e])
    # one new node per distinct (edge, position) inside an edge
    keys = pd.MultiIndex.from_arrays([e[inner], t[inner]])
    codes, uniques = pd.factorize(keys, sort=True)
    end[inner] = base + codes
    new_edge = uniques.get_level_values(0).to_numpy(dtype=np.int64)
    new_t = uniques.get_level_values(1).to_numpy(dtype=float)
    new_xy = graph.xy[graph.u[new_edge]] + new_t[:, None] * (graph.xy[graph.v[new_edge]] - graph.xy[graph.u[new_edge]])
    xy = np.concatenate([graph.xy, new_xy])

    # split edges: the chain u → inserted points → v along each edge that received points
    split = np.unique(new_edge)
    whole = np.ones(graph.n_edges, dtype=bool)
    whole[split] = False
    chain_edge = np.concatenate([split, split, new_edge])
    chain_t = np.concatenate([np.zeros(len(split)), np.ones(len(split)), new_t])
    chain_node = np.concatenate([graph.u[split], graph.v[split], base + np.arange(len(new_edge))])
    order = np.lexsort((chain_t, chain_edge))
    chain_edge, chain_t, chain_node = chain_edge[order], chain_t[order], chain_node[order]
    same = chain_edge[1:] == chain_edge[:-1]
    pa = np.concatenate([graph.u[whole], chain_node[:-1][same]])
    pb = np.concatenate([graph.v[whole], chain_node[1:][same]])
    pw = np.concatenate([graph.length_m[whole], (np.diff(chain_t) * graph.length_m[chain_edge[:-1]])[same]])

    n_street = len(xy)
    source_node = n_street + np.arange(n_sources)
    target_node = n_street + n_sources + np.arange(n_targets)
    n_src_links = len(sources.owner)
    sr, sc, sw = _min_edges(source_node[sources.owner], end[:n_src_links], sources.link_m)
    tr, tc, tw = _min_edges(end[n_src_links:], target_node[targets.owner], targets.link_m)
    rows = np.concatenate([pa, pb, sr, tr])
    cols = np.concatenate([pb, pa, sc, tc])
    weights = np.concatenate([pw, pw, sw, tw])
    n = n_street + n_sources + n_targets
    matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
    return _RunGraph(matrix, xy, (pa, pb, pw), source_node, target_node, end)


# ----------------------------------------------------------------------------------------------- distances
METRICS = ("straight", "walk")


def check_metric(metric: object, graph: object) -> WalkGraph | None:
    """The road graph to measure along, or ``None`` to measure straight lines.

    ``metric=None`` walks when a road ``graph`` is given and measures straight lines otherwise;
    ``"walk"`` needs a :class:`WalkGraph`; ``"straight"`` ignores ``graph``. Name the result with
    :func:`metric_name`.
    """
    if metric is not None and metric not in METRICS:
        raise InputError(f"`metric` was {metric!r} but must be one of {METRICS!r} (or None to choose by `graph`).")
    if metric == "straight" or (metric is None and graph is None):
        return None
    if graph is None:
        raise InputError("`metric` was 'walk' but no `graph` was given; build one with `network.walk_graph(roads)`.")
    if not isinstance(graph, WalkGraph):
        raise InputError(f"`graph` was a {type(graph).__name__} but must be a WalkGraph from `walk_graph`.")
    return graph


def metric_name(walk: WalkGraph | None) -> Literal["straight", "walk"]:
    """``"walk"`` when distances run along ``walk`` (from :func:`check_metric`), else ``"straight"``."""
    return "straight" if walk is None else "walk"


def _check_query(graph: object, frames: list[tuple[str, gpd.GeoDataFrame, list[str]]], max_m: object,
                 max_link_m: object) -> tuple[float, float]:
    if not isinstance(graph, WalkGraph):
        raise InputError(f"`graph` was a {type(graph).__name__} but must be a WalkGraph from `walk_graph`.")
    for name, frame, required in frames:
        if frame is None:
            continue
        check_gdf(frame, name, required=required)
        if frame.crs != graph.crs:
            raise CRSError(
                f"`{name}` has CRS EPSG:{frame.crs.to_epsg()} but the road graph has EPSG:{graph.crs.to_epsg()}; "
                "bring both to the same CRS (EPSG:4548) first."
            )
        if name != "gates":
            check_unique_ids(frame, name)
    d = check_distance_m(max_m, "max_m", high=MAX_SEARCH_M)
    link = check_distance_m(settings.WALK_MAX_LINK_M if max_link_m is None else max_link_m, "max_link_m",
                            high=MAX_SEARCH_M)
    return d, link


def _present(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    return frame[~bad] if bad.any() else frame


def walk_distances(
    graph: WalkGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_m: float,
    by: str | None = None,
    gates: gpd.GeoDataFrame | None = None,
    max_link_m: float | None = None,
) -> pd.DataFrame:
    """Each origin's nearest destination by walking (per group of destinations), within ``max_m``.

    One multi-source shortest-path run per group (e.g. per facility type) from all its destinations at
    once, not one run per origin.

    Parameters
    ----------
    graph
        From :func:`walk_graph`.
    origins
        Places walked from (compounds) with a unique ``id``; polygons or points, the graph's CRS.
    destinations
        Places walked to (facilities) with a unique ``id`` (and the ``by`` column); the graph's CRS.
    max_m
        Longest walk (m, 0–5,000), links included.
    by
        Column of ``destinations`` whose groups each get their own nearest destination (e.g.
        ``"facility_type"``); ``None`` for one group.
    gates
        Gate points with the ``compound_id`` of the origin they open; origins with gates are linked
        through them only. ``None`` links every origin from its shape.
    max_link_m
        Longest straight link from a place (or gate) to the streets (m); default
        ``settings.WALK_MAX_LINK_M``.

    Returns
    -------
    DataFrame
        One row per origin (and group, groups in order of appearance): ``origin_id``, the ``by`` column,
        ``destination_id`` (None when nothing lies within ``max_m``), ``distance_m`` (NaN then).
        Origins without a street within ``max_link_m`` get NaN (with a warning).
    """
    return _nearest_walks(graph, origins, destinations, max_m=max_m, by=by, gates=gates, max_link_m=max_link_m,
                          depth=2)


def _nearest_walks(graph, origins, destinations, *, max_m, by, gates, max_link_m, depth: int) -> pd.DataFrame:
    """:func:`walk_distances`; warnings point ``depth`` frames above the caller of this function."""
    required = ["id"] + ([by] if by is not None else [])
    d, link = _check_query(graph, [("origins", origins, ["id"]), ("destinations", destinations, required),
                                   ("gates", gates, ["compound_id"])], max_m, max_link_m)
    started = time.perf_counter()
    origins, destinations = _present(origins), _present(destinations)
    n_o = len(origins)
    groups = (pd.Series(np.zeros(len(destinations), dtype=np.int64)), [None]) if by is None else \
        pd.factorize(destinations[by], sort=False)
    group_code = np.asarray(groups[0])
    names = list(groups[1])
    dest_links = _links(graph, destinations, "destinations", link, depth=depth)
    orig_links = _links(graph, origins, "origins", link, gates, depth=depth)
    run = _run_graph(graph, dest_links, len(destinations), orig_links, n_o)
    owner_of_node = np.full(run.matrix.shape[0], -1, dtype=np.int64)
    owner_of_node[run.source_node] = np.arange(len(destinations))
    # shapes that touch or overlap are 0 apart
    oi, dj, _ = pairs_within_distance(origins.geometry.values, destinations.geometry.values, 0.0)

    dist = np.full((n_o, len(names)), np.nan)
    nearest = np.full((n_o, len(names)), -1, dtype=np.int64)

    def one_group(g: int) -> None:
        members = np.flatnonzero(group_code == g)
        if len(members) == 0:
            return
        dd, _, src = dijkstra(run.matrix, directed=True, indices=run.source_node[members], min_only=True,
                              limit=_beyond(d), return_predecessors=True)
        at = dd[run.target_node]
        reached = np.isfinite(at) & (at <= d + _EPS_M)
        dist[reached, g] = at[reached]
        nearest[reached, g] = owner_of_node[src[run.target_node][reached]]
        touch = group_code[dj] == g
        if touch.any():
            ti, tj = oi[touch], dj[touch]
            order = np.lexsort((destinations["id"].to_numpy(dtype=str)[tj], ti))
            ti, tj = ti[order], tj[order]
            first = _starts(ti)
            dist[ti[first], g] = 0.0
            nearest[ti[first], g] = tj[first]

    workers = min(worker_count(), len(names))
    if workers > 1 and run.matrix.shape[0] * len(names) > 2_000_000:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one_group, range(len(names))))
    else:
        for g in range(len(names)):
            one_group(g)

    dest_ids = destinations["id"].to_numpy(dtype=object)
    flat = nearest.ravel()
    out = pd.DataFrame({"origin_id": origins["id"].array.take(np.repeat(np.arange(n_o), len(names)))})
    if by is not None:
        out[by] = np.tile(np.array(names, dtype=object), n_o)
    chosen = np.full(len(flat), None, dtype=object)
    chosen[flat >= 0] = dest_ids[flat[flat >= 0]]
    out["destination_id"] = pd.Series(chosen, dtype=object)
    out["distance_m"] = dist.ravel()
    log.info("walk_distances: %d origins × %d groups against %d destinations on %d nodes in %.2f s",
             n_o, len(names), len(destinations), run.matrix.shape[0], time.perf_counter() - started)
    return out


def walk_pairs(
    graph: WalkGraph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_m: float,
    gates: gpd.GeoDataFrame | None = None,
    max_link_m: float | None = None,
) -> pd.DataFrame:
    """Every origin–destination pair within ``max_m`` by walking, with the walking distance.

    One run bounded by ``max_m`` per place of the smaller side. Parameters as in :func:`walk_distances`.

    Returns
    -------
    DataFrame
        ``origin_id``, ``destination_id``, ``distance_m`` (m, links included; 0 when the shapes touch or
        overlap), ordered by origin (input order) then distance.
    """
    return _walk_pairs(graph, origins, destinations, max_m=max_m, gates=gates, max_link_m=max_link_m, depth=2)


def _walk_pairs(graph, origins, destinations, *, max_m, gates, max_link_m, depth: int) -> pd.DataFrame:
    """:func:`walk_pairs`; warnings point ``depth`` frames above the caller of this function."""
    d, link = _check_query(graph, [("origins", origins, ["id"]), ("destinations", destinations, ["id"]),
                                   ("gates", gates, ["compound_id"])], max_m, max_link_m)
    started = time.perf_counter()
    origins, destinations = _present(origins), _present(destinations)
    orig_links = _links(graph, origins, "origins", link, gates, depth=depth)
    dest_links = _links(graph, destinations, "destinations", link, depth=depth)
    from_origins = len(origins) <= len(destinations)
    if from_origins:
        run = _run_graph(graph, orig_links, len(origins), dest_links, len(destinations))
    else:
        run = _run_graph(graph, dest_links, len(destinations), orig_links, len(origins))
    n_src = len(run.source_node)
    chunk = max(1, _PAIR_CELLS // max(1, run.matrix.shape[0]))
    parts_s, parts_t, parts_d = [], [], []
    for start in range(0, n_src, chunk):
        idx = np.arange(start, min(start + chunk, n_src))
        dd = dijkstra(run.matrix, directed=True, indices=run.source_node[idx], limit=_beyond(d))
        block = dd[:, run.target_node]
        si, ti = np.nonzero(block <= d + _EPS_M)
        parts_s.append(idx[si])
        parts_t.append(ti)
        parts_d.append(block[si, ti])
    s = np.concatenate(parts_s) if parts_s else np.empty(0, dtype=np.int64)
    tt = np.concatenate(parts_t) if parts_t else np.empty(0, dtype=np.int64)
    dist = np.concatenate(parts_d) if parts_d else np.empty(0)
    oi, dj = (s, tt) if from_origins else (tt, s)
    # shapes that touch or overlap are 0 apart
    zi, zj, _ = pairs_within_distance(origins.geometry.values, destinations.geometry.values, 0.0)
    frame = pd.DataFrame({"o": np.concatenate([oi, zi]), "j": np.concatenate([dj, zj]),
                          "d": np.concatenate([dist, np.zeros(len(zi))])})
    frame = frame.sort_values(["o", "d", "j"], kind="stable").drop_duplicates(["o", "j"])
    out = pd.DataFrame({
        "origin_id": origins["id"].array.take(frame["o"].to_numpy()),
        "destination_id": destinations["id"].array.take(frame["j"].to_numpy()),
        "distance_m": frame["d"].to_numpy(dtype=float),
    })
    log.info("walk_pairs: %d pairs within %g m between %d origins and %d destinations (%d runs) in %.2f s",
             len(out), d, len(origins), len(destinations), n_src, time.perf_counter() - started)
    return out


def walk_positions(graph: WalkGraph, left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, max_m: float, *,
                   gates: gpd.GeoDataFrame | None = None, depth: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`walk_pairs` as positions, like ``pairs_within_distance``: ``(i, j, distance_m)`` ordered by ``i``.

    ``left`` and ``right`` need unique ``id`` values; ``depth`` as in :func:`_links`, counted from the caller.
    """
    pairs = _walk_pairs(graph, left, right, max_m=max_m, gates=gates, max_link_m=None, depth=depth + 2)
    i = pd.Index(left["id"]).get_indexer(pairs["origin_id"]).astype(np.int64)
    j = pd.Index(right["id"]).get_indexer(pairs["destination_id"]).astype(np.int64)
    return i, j, pairs["distance_m"].to_numpy(dtype=np.float64)


# ----------------------------------------------------------------------------------------------- isochrones
def isochrones(
    graph: WalkGraph,
    origin: gpd.GeoDataFrame,
    *,
    tiers_m: Mapping[str, float] | None = None,
    gates: gpd.GeoDataFrame | None = None,
    buffer_m: float = settings.WALK_ISOCHRONE_BUFFER_M,
    max_link_m: float | None = None,
) -> gpd.GeoDataFrame:
    """The area within each walking tier of one place: the streets reached, buffered.

    Parameters
    ----------
    graph
        From :func:`walk_graph`.
    origin
        One place (a compound) with ``id``, the graph's CRS.
    tiers_m
        ``{tier: metres}``; default ``settings.LIVING_CIRCLE_TIERS_M`` (5 / 10 / 15 minutes = 300 / 500 /
        1,000 m).
    gates
        The compound's gates (``compound_id``), as in :func:`walk_distances`.
    buffer_m
        Half-width (m) of the band drawn along each reached street, 1–500; default
        ``settings.WALK_ISOCHRONE_BUFFER_M``.
    max_link_m
        As in :func:`walk_distances`.

    Returns
    -------
    GeoDataFrame
        One row per tier, nearest first: ``tier``, ``distance_m``, ``reached_m`` (metres of street
        within the tier); geometry = the reached streets (each piece up to the point where the tier's
        distance runs out) and the links buffered by ``buffer_m``, with the place itself; graph's CRS.
    """
    from analytics.living_circle import check_tiers

    tiers = check_tiers(tiers_m)
    top = max(tiers.values())
    _, link = _check_query(graph, [("origin", origin, ["id"]), ("gates", gates, ["compound_id"])],
                           min(top, MAX_SEARCH_M), max_link_m)
    width = check_distance_m(buffer_m, "buffer_m", low=1, high=500)
    if len(origin) != 1:
        raise InputError(f"`origin` has {len(origin)} rows but must have exactly one place.")
    links = _links(graph, origin, "origin", link, gates, depth=1)
    run = _run_graph(graph, links, 1, _Links.empty(), 0)
    dd = dijkstra(run.matrix, directed=True, indices=run.source_node[0], limit=_beyond(top))
    pa, pb, pw = run.pieces
    da, db = dd[pa], dd[pb]
    place = np.asarray(origin.geometry.values, dtype=object)[0]
    rows = []
    for name, limit in tiers.items():
        reach_a = np.clip(limit - da, 0, pw)  # metres walked into the piece from its end a
        reach_b = np.clip(limit - db, 0, pw)
        reach_a[~np.isfinite(da)] = 0
        reach_b[~np.isfinite(db)] = 0
        full = reach_a + reach_b >= pw
        reach_a = np.where(full, pw, reach_a)
        reach_b = np.where(full, 0, reach_b)
        segs = []
        for start, stop, reach in ((pa, pb, reach_a), (pb, pa, reach_b)):
            on = reach > 0
            frac = (reach[on] / np.where(pw[on] > 0, pw[on], 1))[:, None]
            p0 = run.xy[start[on]]
            p1 = p0 + frac * (run.xy[stop[on]] - p0)
            segs.append(np.stack([p0, p1], axis=1))
        lines = list(shapely.linestrings(np.concatenate(segs))) if sum(len(s) for s in segs) else []
        reached_m = float(sum(np.sum(np.hypot(*(s[:, 1] - s[:, 0]).T)) for s in segs))
        # links from the place (or its gates) that end within the tier
        link_ok = links.link_m <= limit
        if link_ok.any():
            ends = run.xy[run.link_end[link_ok]]
            lines += list(shapely.linestrings(np.stack([links.start[link_ok], ends], axis=1)))
        area = shapely.buffer(shapely.multilinestrings(lines), width) if lines else shapely.Polygon()
        area = shapely.union(area, place)
        rows.append({"tier": name, "distance_m": float(limit), "reached_m": reached_m, "geometry": area})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=graph.crs)
