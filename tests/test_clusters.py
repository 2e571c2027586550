"""Renewal clusters: hand-built layouts with known groups, scores by hand, brute-force graph oracle."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import settings
from analytics.clusters import DEFAULT_WEIGHTS, find_clusters
from analytics.errors import CRSError, InputError
from tests import geo_fixtures as gf


def groups(clusters) -> set[frozenset[str]]:
    return {frozenset(m) for m in clusters.member_ids}


def oracle_groups(compounds, gap_m, *, same_county=True, min_size=2) -> set[frozenset[str]]:
    """Connected components of the "within gap_m" graph, measuring every pair one by one."""
    graph = nx.Graph()
    graph.add_nodes_from(compounds.id)
    rows = list(zip(compounds.id, compounds.geometry, compounds.county_code))
    for (a, ga, ca), (b, gb, cb) in itertools.combinations(rows, 2):
        if ga.distance(gb) <= gap_m and (ca == cb or not same_county):
            graph.add_edge(a, b)
    return {frozenset(c) for c in nx.connected_components(graph) if len(c) >= min_size}


# ----------------------------------------------------------------------------------------------- grouping
def test_chain_border_and_lone_compound():
    layout = gf.cluster_layout()
    split = find_clusters(layout, gap_m=100)
    # the chain holds together through B although A and C are 260 m apart; the border splits D from E;
    # L is alone and dropped (min_size=2)
    assert groups(split) == {frozenset("ABC"), frozenset({"D1", "D2"}), frozenset({"E1", "E2"})}
    joined = find_clusters(layout, gap_m=100, same_county=False)
    assert groups(joined) == {frozenset("ABC"), frozenset({"D1", "D2", "E1", "E2"})}
    assert sorted(joined.county_codes.tolist()) == [["370811"], ["370811", "370812"]]
    with_lone = find_clusters(layout, gap_m=100, min_size=1)
    assert frozenset({"L"}) in groups(with_lone) and len(with_lone) == 4
    assert groups(find_clusters(layout, gap_m=100, same_county=False, min_size=3)) == groups(joined)


def test_gap_limits_are_inclusive():
    layout = gf.cluster_layout()
    assert frozenset("ABC") in groups(find_clusters(layout, gap_m=80))
    below = find_clusters(layout, gap_m=79.9)  # the chain falls apart; the 50 m pairs stay
    assert groups(below) == {frozenset({"D1", "D2"}), frozenset({"E1", "E2"})}
    assert find_clusters(layout, gap_m=0).empty  # nothing touches


def test_attributes_by_hand():
    found = find_clusters(gf.cluster_layout(), gap_m=100)
    clusters = found.set_index(found.member_ids.map(lambda m: m[0]))  # members in input order: key = first
    chain = clusters.loc["A"]
    assert chain.member_ids == ["A", "B", "C"] and chain.n_compounds == 3
    assert chain.households == 600 and chain.floor_area_m2 == 48_000
    assert (chain.built_year_min, chain.built_year_max) == (1985, 1998)
    assert chain.tiers == ["基础类", "提升类"]
    assert chain.willingness_pct == pytest.approx((100 * 90 + 200 * 80 + 300 * 70) / 600)
    assert chain.extent_m == pytest.approx(np.hypot(460, 100))
    assert chain.geometry.equals(gf.box(0, 0, 460, 100))  # convex hull of the row
    d = clusters.loc["D1"]
    assert d.households == 500 and d.willingness_pct == pytest.approx(84.0) and d.tiers == ["完善类"]
    assert np.isnan(d.idle_area_m2) and d.shared_gaps == [] and np.isnan(d.score_gaps)


def test_max_extent_splits_a_row():
    row = gf.row_of_compounds(6)  # x 0–850, extent √(850² + 100²) ≈ 855.9 m
    assert groups(find_clusters(row, gap_m=60)) == {frozenset(f"X{k}" for k in range(1, 7))}
    assert len(find_clusters(row, gap_m=60, max_extent_m=900)) == 1
    halves = find_clusters(row, gap_m=60, max_extent_m=500)  # halves of 400 m: √(400² + 100²) ≈ 412.3
    assert groups(halves) == {frozenset({"X1", "X2", "X3"}), frozenset({"X4", "X5", "X6"})}
    assert (halves.extent_m <= 500).all()
    quarters = find_clusters(row, gap_m=60, max_extent_m=300)  # each half cut again: 1 + 2 compounds
    assert groups(quarters) == {frozenset({"X2", "X3"}), frozenset({"X5", "X6"})}
    assert len(find_clusters(row, gap_m=60, max_extent_m=300, min_size=1)) == 4


def test_max_extent_retakes_connected_parts_after_a_cut():
    hook = gf.hook_layout()
    assert groups(find_clusters(hook, gap_m=60)) == {frozenset({"P1", "P2", "P3", "Q"})}
    cut = find_clusters(hook, gap_m=60, max_extent_m=450, min_size=1)
    # cut across x at the median centroid: {P1, P2} | {Q, P3}; Q and P3 are 70.7 m apart, so they part
    assert groups(cut) == {frozenset({"P1", "P2"}), frozenset({"P3"}), frozenset({"Q"})}


# ----------------------------------------------------------------------------------------------- scores
def test_scores_by_hand_without_parcels_or_facilities():
    clusters = find_clusters(gf.cluster_layout(), gap_m=100)
    # components: households ÷ 600 and willingness ÷ 100; idle land and gaps unavailable → weights 0.5 / 0.5
    expected = {"A": (1 + 0.766667) / 2, "D1": (500 / 600 + 0.84) / 2, "E1": (500 / 600 + 0.60) / 2}
    got = dict(zip(clusters.member_ids.map(lambda m: m[0]), clusters.score))
    assert got == pytest.approx(expected, abs=1e-6)
    assert clusters.cluster_id.tolist() == [1, 2, 3] and clusters.member_ids.map(lambda m: m[0]).tolist() == [
        "A", "D1", "E1"]
    assert clusters.score_idle_land.isna().all() and clusters.score_gaps.isna().all()


def test_scores_with_parcels_and_facilities():
    layout = gf.cluster_layout()
    parcels = gf.frame([
        {"id": "Q1", "geometry": gf.box(0, -300, 100, -200)},  # 200 m from A, 215 m from B: chain only
        {"id": "Q2", "geometry": gf.box(0, 1300, 50, 1350)},  # 200 m from D1, 320 m from E1: both pairs
        {"id": "Q3", "geometry": gf.box(3000, 3000, 3100, 3100)},  # out of reach
    ])
    parcels["area_m2"] = [10_000.0, 2_500.0, 10_000.0]
    # one clinic 50 m below A and 139 m from B (within 300 m), 310 m from C: only C lacks a clinic
    facilities = gf.frame([{"id": "F1", "facility_type": "clinic", "geometry": gf.point(50, -50)}])
    clusters = find_clusters(layout, gap_m=100, parcels=parcels, facilities=facilities)
    by_first = clusters.set_index(clusters.member_ids.map(lambda m: m[0]))
    assert by_first.idle_area_m2.to_dict() == {"A": 10_000.0, "D1": 2_500.0, "E1": 2_500.0}
    # the chain lacks every other type everywhere (shared); only C lacks a clinic (1 of 3: not shared)
    n_types = len(settings.FACILITY_TYPES)
    assert "clinic" not in by_first.loc["A", "shared_gaps"] and len(by_first.loc["A", "shared_gaps"]) == n_types - 1
    assert len(by_first.loc["D1", "shared_gaps"]) == n_types
    gap_hh = {"A": (n_types - 1) * 600, "D1": n_types * 500, "E1": n_types * 500}
    top_gap = max(gap_hh.values())
    will = {"A": 0.766667, "D1": 0.84, "E1": 0.60}
    hh = {"A": 1.0, "D1": 500 / 600, "E1": 500 / 600}
    idle = {"A": 1.0, "D1": 0.25, "E1": 0.25}
    for key in ("A", "D1", "E1"):
        row = by_first.loc[key]
        assert row.score_households == pytest.approx(hh[key])
        assert row.score_idle_land == pytest.approx(idle[key])
        assert row.score_gaps == pytest.approx(gap_hh[key] / top_gap)
        assert row.score_willingness == pytest.approx(will[key], abs=1e-6)
        assert row.score == pytest.approx((hh[key] + idle[key] + gap_hh[key] / top_gap + will[key]) / 4, abs=1e-6)
    # weights are normalised: {"households": 2, "idle_land": 2} is the mean of those two
    weighted = find_clusters(layout, gap_m=100, parcels=parcels, facilities=facilities,
                             weights={"households": 2, "idle_land": 2})
    got = dict(zip(weighted.member_ids.map(lambda m: m[0]), weighted.score))
    assert got == pytest.approx({"A": 1.0, "D1": (500 / 600 + 0.25) / 2, "E1": (500 / 600 + 0.25) / 2})
    assert weighted.member_ids.map(lambda m: m[0]).tolist() == ["A", "D1", "E1"]  # tie D/E: first member first


def test_default_weights_are_equal():
    assert DEFAULT_WEIGHTS == {"households": 0.25, "idle_land": 0.25, "gaps": 0.25, "willingness": 0.25}


# ----------------------------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gap_m", [0, 40, 150])
def test_random_layouts_match_graph_oracle(seed, gap_m):
    compounds, _ = gf.random_layout(seed, n_compounds=60, extent_m=1500)
    compounds["floor_area_m2"] = compounds.households * 80.0
    compounds["built_year"] = 1990
    compounds["willingness_pct"] = 80.0
    for same_county in (True, False):
        got = groups(find_clusters(compounds, gap_m=gap_m, same_county=same_county))
        assert got == oracle_groups(compounds, gap_m, same_county=same_county)


def test_demo_clusters_match_graph_oracle(demo_layers):
    """All demo compounds: the clusters equal the components of a brute-force distance graph."""
    compounds = demo_layers["compounds"]
    clusters = find_clusters(compounds, gap_m=100)
    geoms = compounds.geometry.values
    i, j = np.triu_indices(len(compounds), 1)
    near = shapely.distance(geoms[i], geoms[j]) <= 100
    same = compounds.county_code.to_numpy()[i] == compounds.county_code.to_numpy()[j]
    graph = nx.Graph()
    graph.add_nodes_from(compounds.id)
    ids = compounds.id.to_numpy()
    graph.add_edges_from(zip(ids[i[near & same]], ids[j[near & same]]))
    want = {frozenset(c) for c in nx.connected_components(graph) if len(c) >= 2}
    assert len(want) > 10
    assert groups(clusters) == want
    assert clusters.households.sum() == compounds.set_index("id").households[
        list(set().union(*want))].sum()


def test_demo_max_extent_holds(demo_layers):
    compounds = demo_layers["compounds"]
    clusters = find_clusters(compounds, gap_m=150, max_extent_m=2000, min_size=1)
    assert (clusters.extent_m <= 2000).all()
    # every compound is in exactly one cluster, and every cluster is connected in the 150 m graph
    members = [m for ms in clusters.member_ids for m in ms]
    assert sorted(members) == sorted(compounds.id)
    geoms = compounds.set_index("id").geometry
    for ms in clusters.member_ids[clusters.n_compounds > 1]:
        graph = nx.Graph()
        graph.add_nodes_from(ms)
        graph.add_edges_from((a, b) for a, b in itertools.combinations(ms, 2) if geoms[a].distance(geoms[b]) <= 150)
        assert nx.is_connected(graph)


# ----------------------------------------------------------------------------------------------- edges and errors
def test_empty_input_gives_empty_frame_with_columns():
    empty = find_clusters(gf.cluster_layout().iloc[:0])
    assert empty.empty and "cluster_id" in empty.columns and "score_willingness" in empty.columns
    assert empty.crs.to_epsg() == 4548


def test_inputs_are_not_modified():
    layout = gf.cluster_layout()
    before = layout.copy()
    find_clusters(layout, gap_m=100, max_extent_m=300)
    pd.testing.assert_frame_equal(layout, before)


def test_wrong_crs_raises():
    layout = gf.cluster_layout()
    with pytest.raises(CRSError, match="`compounds` has CRS EPSG:4326; distances need a metric CRS"):
        find_clusters(layout.to_crs(4326))
    parcels = gf.idle_parcels().to_crs(3857)
    with pytest.raises(CRSError, match="`parcels` has CRS EPSG:3857 but `compounds` has EPSG:4548"):
        find_clusters(layout, parcels=parcels)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"gap_m": -1}, "`gap_m` was -1 but must be between 0 and 3000"),
        ({"max_extent_m": 0}, "`max_extent_m` was 0 but must be between 1 and 50000"),
        ({"min_size": 0}, "`min_size` was 0 but must be between 1 and inf"),
        ({"min_size": 2.5}, "`min_size` was 2.5 but must be a whole number"),
        ({"same_county": "yes"}, "`same_county` was 'yes' but must be True or False"),
        ({"weights": {"beauty": 1}}, "`weights` has the key 'beauty'"),
        ({"weights": {"households": -1}}, r"`weights\['households'\]` was -1 but must be a number ≥ 0"),
        ({"weights": {"households": 0}}, "at least one weight must be above 0"),
        ({"weights": {"idle_land": 1}}, "put all weight on components without data"),
        ({"reach_m": 5000}, "`reach_m` was 5000 but must be between 0 and 3000"),
    ],
)
def test_bad_options_raise(options, match):
    with pytest.raises(InputError, match=match):
        find_clusters(gf.cluster_layout(), **options)


def test_bad_frames_raise():
    layout = gf.cluster_layout()
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['willingness_pct'\]"):
        find_clusters(layout.drop(columns="willingness_pct"))
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['county_code'\]"):
        find_clusters(layout.drop(columns="county_code"))
    find_clusters(layout.drop(columns="county_code"), same_county=False)  # not needed then
    with pytest.raises(InputError, match=r"`facilities` lacks the column\(s\) \['facility_type'\]"):
        find_clusters(layout, facilities=gf.circle_facilities().drop(columns="facility_type"))


# ----------------------------------------------------------------------------------------------- barriers
def test_a_river_splits_a_cluster_that_straight_lines_join():
    compounds = gf.river_compounds()  # 223.6 m apart across the river
    joined = find_clusters(compounds, gap_m=250)
    assert joined["member_ids"].tolist() == [["A", "A2"]]
    split = find_clusters(compounds, gap_m=250, barriers=gf.river())
    assert split.empty
    singles = find_clusters(compounds, gap_m=250, barriers=gf.river(), min_size=1)
    assert sorted(map(tuple, singles["member_ids"])) == [("A",), ("A2",)]
    # a barrier elsewhere changes nothing
    far = gf.frame([{"id": "R2", "geometry": gf.line((-1000, 5000), (1000, 5000))}])
    assert find_clusters(compounds, gap_m=250, barriers=far)["member_ids"].tolist() == [["A", "A2"]]


def test_a_barrier_between_neighbours_in_a_row_cuts_the_row():
    row = gf.row_of_compounds(6, gap=50.0)
    # a railway (polygon) in the gap between X3 (x 300–400) and X4 (x 450–550)
    rail = gf.frame([{"id": "rail", "geometry": gf.box(420, -1000, 430, 1000)}])
    assert len(find_clusters(row, gap_m=60)) == 1
    got = find_clusters(row, gap_m=60, barriers=rail)
    assert sorted(len(m) for m in got["member_ids"]) == [3, 3]
    with pytest.raises(CRSError, match=r"`barriers` has CRS EPSG:4326"):
        find_clusters(row, gap_m=60, barriers=rail.to_crs(4326))
