"""Idle land near compounds: exact pairs against a brute-force shapely oracle, filters, summaries, errors."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from analytics import _spatial as idle_land  # the chunked, threaded pair search parcels_within runs on
from analytics._spatial import pairs_within_distance
from analytics.errors import CRSError, InputError
from analytics.idle_land import compound_idle_area, parcel_reach, parcels_within
from tests import geo_fixtures as gf


def oracle(compounds: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, d: float) -> dict[tuple[str, str], float]:
    """Every pair within ``d`` by measuring every compound against every parcel, one by one."""
    out = {}
    for (cid, cg), (pid, pg) in itertools.product(
        zip(compounds["id"], compounds.geometry), zip(parcels["id"], parcels.geometry)
    ):
        dist = cg.distance(pg)
        if dist <= d:
            out[(cid, pid)] = dist
    return out


def as_dict(pairs: pd.DataFrame) -> dict[tuple[str, str], float]:
    assert list(pairs.columns) == ["compound_id", "parcel_id", "distance_m"]
    assert not pairs.duplicated(["compound_id", "parcel_id"]).any()
    return {(c, p): d for c, p, d in zip(pairs.compound_id, pairs.parcel_id, pairs.distance_m)}


def assert_same_pairs(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for key, dist in want.items():
        assert got[key] == pytest.approx(dist, abs=0.01), key


# ----------------------------------------------------------------------------------------------- hand-built
def test_hand_built_pairs_at_500_m():
    pairs = parcels_within(gf.idle_compounds(), gf.idle_parcels(), max_distance_m=500)
    assert_same_pairs(as_dict(pairs), gf.IDLE_PAIRS_500)
    # compounds keep their input order
    assert pairs.compound_id.tolist() == ["C1", "C1", "C1", "C2", "C3"]


def test_touching_only_at_zero_and_everything_at_3000():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    assert as_dict(parcels_within(compounds, parcels, max_distance_m=0)) == {("C1", "P2"): 0.0}
    assert_same_pairs(as_dict(parcels_within(compounds, parcels, max_distance_m=3000)), oracle(compounds, parcels, 3000))
    # the 3,000 m answer by hand: every pair except those with P5 is in; the farthest is (C2, P6) = √(900² + 2500²) ≈ 2657.1
    got = as_dict(parcels_within(compounds, parcels, max_distance_m=3000))
    assert len(got) == 3 * 5 and not any(p == "P5" for _, p in got)
    assert got[("C2", "P6")] == pytest.approx(np.hypot(900, 2500), abs=0.01)


def test_exact_limit_is_inclusive():
    pairs = as_dict(parcels_within(gf.idle_compounds(), gf.idle_parcels(), max_distance_m=499.99))
    assert ("C3", "P6") not in pairs and ("C2", "P4") in pairs


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"parcel_types": "闲置用地"}, {("C1", "P1"), ("C3", "P6")}),
        ({"parcel_types": ["零星地块", "低效用地"]}, {("C1", "P2"), ("C2", "P4")}),
        ({"min_area_m2": 1000}, {("C1", "P1"), ("C2", "P4"), ("C3", "P6")}),
        ({"min_area_m2": 900}, set(gf.IDLE_PAIRS_500)),
        ({"ownership": ["集体", "企业"]}, {("C1", "P2"), ("C1", "P3"), ("C3", "P6")}),
        ({"county_code": "370812"}, {("C3", "P6")}),
        ({"county_code": "370811", "parcel_types": "闲置用地", "min_area_m2": 5000}, {("C1", "P1")}),
        ({"county_code": "370826"}, set()),
    ],
)
def test_filters(options, expected):
    pairs = parcels_within(gf.idle_compounds(), gf.idle_parcels(), max_distance_m=500, **options)
    assert set(as_dict(pairs)) == expected


def test_min_area_falls_back_to_geometry_area():
    parcels = gf.idle_parcels().drop(columns="area_m2")
    pairs = parcels_within(gf.idle_compounds(), parcels, min_area_m2=1000)
    assert set(as_dict(pairs)) == {("C1", "P1"), ("C2", "P4"), ("C3", "P6")}


def test_inputs_are_not_modified():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    before_c, before_p = compounds.copy(), parcels.copy()
    parcels_within(compounds, parcels, parcel_types="闲置用地", county_code="370811")
    pd.testing.assert_frame_equal(compounds, before_c)
    pd.testing.assert_frame_equal(parcels, before_p)


# ----------------------------------------------------------------------------------------------- oracle
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("distance", [0, 35.5, 300, 1000, 3000])
def test_random_layouts_match_oracle(seed, distance):
    compounds, parcels = gf.random_layout(seed)
    got = as_dict(parcels_within(compounds, parcels, max_distance_m=distance))
    assert_same_pairs(got, oracle(compounds, parcels, distance))


def test_threaded_chunks_match_oracle(monkeypatch):
    """Small chunks on two threads give the same answer as one pass (chunk borders, thread path)."""
    monkeypatch.setattr(idle_land, "_CHUNK", 7)
    monkeypatch.setattr(idle_land, "_THREADS_FROM", 1)
    monkeypatch.setattr(idle_land, "worker_count", lambda: 2)
    compounds, parcels = gf.random_layout(11, n_compounds=60, n_parcels=80)
    got = parcels_within(compounds, parcels, max_distance_m=400)
    assert_same_pairs(as_dict(got), oracle(compounds, parcels, 400))
    order = compounds.set_index("id").index.get_indexer(got.compound_id)
    assert (np.diff(order) >= 0).all()


def test_pairs_within_distance_positions():
    left = np.array([shapely.Point(0, 0), None, shapely.Point(10, 0)], dtype=object)
    right = np.array([shapely.Point(3, 4), shapely.Polygon(), shapely.Point(10, 1)], dtype=object)
    i, j, d = pairs_within_distance(left, right, 5)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 0), (2, 2)]
    assert d.tolist() == [5.0, 1.0]
    assert [len(a) for a in pairs_within_distance(left[:0], right, 5)] == [0, 0, 0]


def test_demo_county_matches_oracle(demo_layers):
    """On the demo data: the pairs of 邹城市's compounds equal the all-pairs oracle (distances ± 0.01 m)."""
    compounds, parcels = demo_layers["compounds"], demo_layers["parcels"]
    pairs = parcels_within(compounds, parcels, max_distance_m=500, county_code="370883")
    mine = compounds[compounds.county_code == "370883"]
    ci, pj = np.meshgrid(np.arange(len(mine)), np.arange(len(parcels)), indexing="ij")
    dist = shapely.distance(mine.geometry.values[ci.ravel()], parcels.geometry.values[pj.ravel()])
    keep = dist <= 500
    want = dict(zip(zip(mine.id.to_numpy()[ci.ravel()[keep]], parcels.id.to_numpy()[pj.ravel()[keep]]), dist[keep]))
    assert len(want) > 50  # the county has real work to do
    assert_same_pairs(as_dict(pairs), want)


# ----------------------------------------------------------------------------------------------- summaries
def test_parcel_reach_known_answer():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    pairs = parcels_within(compounds, parcels, max_distance_m=1000)
    # within 1 km: P1 ← C1 (50), C2 (750); P2 ← C1 (0), C2 (870); P3 ← C1 (424), C2 (644); P4 ← C2 (300);
    # P6 ← C3 (500); P5 ← nobody
    reach = parcel_reach(pairs, compounds, parcels).set_index("parcel_id")
    assert list(reach.columns) == ["n_compounds", "households_within", "compound_ids", "nearest_m"]
    assert reach.loc["P1", "households_within"] == 500 and reach.loc["P1", "compound_ids"] == ["C1", "C2"]
    assert reach.loc["P4", "households_within"] == 300 and reach.loc["P4", "n_compounds"] == 1
    assert reach.loc["P6", "compound_ids"] == ["C3"] and reach.loc["P6", "nearest_m"] == pytest.approx(500)
    assert reach.loc["P5", "n_compounds"] == 0 and reach.loc["P5", "compound_ids"] == []
    assert np.isnan(reach.loc["P5", "nearest_m"])
    assert reach.index.tolist()[:3] == ["P1", "P2", "P3"]  # most households first, ties by id


def test_compound_idle_area_known_answer():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    pairs = parcels_within(compounds, parcels, max_distance_m=500)
    area = compound_idle_area(pairs, parcels).set_index("compound_id")
    assert list(area.columns) == ["n_parcels", "idle_area_m2", "nearest_m"]
    assert area.loc["C1"].tolist() == [3, 10_000 + 900 + 900, 0.0]
    assert area.loc["C2"].tolist() == [1, 10_000, 300.0]
    assert area.loc["C3", "idle_area_m2"] == 10_000


def test_summaries_of_no_pairs():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    pairs = parcels_within(compounds, parcels.iloc[:0])
    assert pairs.empty and list(pairs.columns) == ["compound_id", "parcel_id", "distance_m"]
    assert compound_idle_area(pairs, parcels).empty
    reach = parcel_reach(pairs, compounds, parcels)
    assert len(reach) == 6 and (reach.n_compounds == 0).all()


def test_empty_compounds():
    pairs = parcels_within(gf.idle_compounds().iloc[:0], gf.idle_parcels())
    assert pairs.empty and list(pairs.columns) == ["compound_id", "parcel_id", "distance_m"]


def test_summaries_reject_foreign_pairs():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    pairs = parcels_within(compounds, parcels)
    with pytest.raises(InputError, match="`pairs` refers to compound 'C1' that is not in `compounds`"):
        parcel_reach(pairs, compounds.iloc[1:], parcels)
    with pytest.raises(InputError, match="`pairs` refers to parcel 'P1' that is not in `parcels`"):
        compound_idle_area(pairs, parcels.iloc[1:])
    with pytest.raises(InputError, match=r"`pairs` lacks the column\(s\) \['distance_m'\]"):
        compound_idle_area(pairs.drop(columns="distance_m"), parcels)


# ----------------------------------------------------------------------------------------------- errors
def test_wrong_crs_raises():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    with pytest.raises(CRSError, match="`compounds` has CRS EPSG:4326; distances need a metric CRS"):
        parcels_within(compounds.to_crs(4326), parcels)
    with pytest.raises(CRSError, match="`parcels` has CRS EPSG:3857 but `compounds` has EPSG:4548"):
        parcels_within(compounds, parcels.to_crs(3857))
    with pytest.raises(CRSError, match="`parcels` has no CRS"):
        parcels_within(compounds, parcels.set_crs(None, allow_override=True))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_distance_m": -1}, "`max_distance_m` was -1 but must be between 0 and 3000"),
        ({"max_distance_m": 3000.5}, "`max_distance_m` was 3000.5 but must be between 0 and 3000"),
        ({"max_distance_m": "500"}, "`max_distance_m` was '500' but must be a number of metres"),
        ({"max_distance_m": float("nan")}, "`max_distance_m` was nan"),
        ({"parcel_types": "空地"}, "`parcel_types` had '空地' but must be one or more of"),
        ({"parcel_types": []}, r"`parcel_types` was \[\] but must be one or more of"),
        ({"ownership": ["国有", "私有"]}, "`ownership` had '私有' but must be one or more of"),
        ({"min_area_m2": -5}, "`min_area_m2` was -5 but must be between 0 and inf"),
        ({"county_code": 370811}, "`county_code` was 370811 but must be a six-digit county code"),
    ],
)
def test_bad_options_raise(options, match):
    with pytest.raises(InputError, match=match):
        parcels_within(gf.idle_compounds(), gf.idle_parcels(), **options)


def test_bad_frames_raise():
    compounds, parcels = gf.idle_compounds(), gf.idle_parcels()
    with pytest.raises(InputError, match="`compounds` was a DataFrame but must be a GeoDataFrame"):
        parcels_within(pd.DataFrame(compounds), parcels)
    with pytest.raises(InputError, match=r"`parcels` lacks the column 'parcel_type' needed to filter by it"):
        parcels_within(compounds, parcels.drop(columns="parcel_type"), parcel_types="闲置用地")
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['county_code'\]"):
        parcels_within(compounds.drop(columns="county_code"), parcels, county_code="370811")
    dup = pd.concat([parcels, parcels.iloc[:1]])
    with pytest.raises(InputError, match="`parcels` has duplicate `id` values such as 'P1'"):
        parcels_within(compounds, dup)


def test_missing_geometries_are_left_out_with_a_warning():
    compounds = gf.idle_compounds()
    compounds.loc[1, "geometry"] = None
    with pytest.warns(UserWarning, match=r"`compounds` has 1 row\(s\) without geometry \(e.g. 'C2'\)") as caught:
        pairs = parcels_within(compounds, gf.idle_parcels())
    assert set(pairs.compound_id) == {"C1", "C3"}
    assert caught[0].filename == __file__  # the warning points at the caller
    parcels = gf.idle_parcels()
    parcels.loc[0, "geometry"] = None
    with pytest.warns(UserWarning, match=r"`parcels` has 1 row\(s\) without geometry \(e.g. 'P1'\)") as caught:
        pairs = parcels_within(gf.idle_compounds(), parcels)
    assert ("C1", "P1") not in as_dict(pairs) and ("C1", "P2") in as_dict(pairs)
    assert caught[0].filename == __file__


def test_parcel_checks_running_alongside_the_threads_still_raise(monkeypatch):
    monkeypatch.setattr(idle_land, "_CHUNK", 5)
    monkeypatch.setattr(idle_land, "_THREADS_FROM", 1)
    monkeypatch.setattr(idle_land, "worker_count", lambda: 2)
    compounds, parcels = gf.random_layout(5, n_compounds=40, n_parcels=30)
    parcels.loc[7, "id"] = parcels.loc[3, "id"]
    with pytest.raises(InputError, match="`parcels` has duplicate `id` values such as 'P003'"):
        parcels_within(compounds, parcels, max_distance_m=800)


# ----------------------------------------------------------------------------------------------- walking
def test_a_parcel_across_the_river_is_near_only_as_the_crow_flies():
    from analytics.network import walk_graph

    compounds = gf.river_compounds().iloc[[0]]
    # P across the water, a triangle whose corner (0, -100) is 200 m from A and 50 m from the south street
    q = shapely.Polygon([(gf.X0 + x, gf.Y0 + y) for x, y in ((400, 100), (440, 140), (360, 140))])
    p = shapely.affinity.translate(shapely.affinity.scale(q, yfact=-1, origin=(gf.X0, gf.Y0)), xoff=-400)
    parcels = gf.frame([{"id": "P", "geometry": p}, {"id": "Q", "geometry": q}])
    straight = parcels_within(compounds, parcels, max_distance_m=500)
    assert straight.attrs["metric"] == "straight"
    assert straight["parcel_id"].tolist() == ["P", "Q"]
    graph = walk_graph(gf.river_roads(), gf.river())
    walked = parcels_within(compounds, parcels, max_distance_m=500, graph=graph)
    assert walked.attrs["metric"] == "walk"
    # Q: 50 m to N, 400 m along it, 50 m up to its corner (400, 100)
    assert walked.to_dict("list") == {"compound_id": ["A"], "parcel_id": ["Q"], "distance_m": [pytest.approx(500)]}
    far = parcels_within(compounds, parcels, max_distance_m=1000, metric="walk", graph=graph)
    assert far.set_index("parcel_id")["distance_m"].to_dict() == {"Q": pytest.approx(500), "P": pytest.approx(900)}
    # the straight metric is still there on request
    assert parcels_within(compounds, parcels, max_distance_m=500, metric="straight", graph=graph).equals(straight)
