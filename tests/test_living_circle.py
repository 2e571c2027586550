"""Living-circle audit: nearest facility, tiers, gaps and county coverage on hand-built layouts and oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import settings
from analytics.errors import CRSError, InputError
from analytics.living_circle import coverage_by_county, facility_access, facility_gaps, straight_not_walk, tier_of
from tests import geo_fixtures as gf

TYPES = ["clinic", "market", "elderly_care"]


def access_table(**options) -> pd.DataFrame:
    return facility_access(gf.circle_compounds(), gf.circle_facilities(), facility_types=TYPES, **options)


def test_nearest_and_tier_known_answer():
    access = access_table()
    assert list(access.columns) == ["compound_id", "facility_type", "nearest_m", "nearest_facility_id", "tier"]
    assert access.compound_id.tolist() == ["C1"] * 3 + ["C2"] * 3 + ["C3"] * 3
    assert access.facility_type.tolist() == TYPES * 3
    got = access.set_index(["compound_id", "facility_type"])
    expected = {
        ("C1", "clinic"): (0.0, "F1", "5min"),
        ("C1", "market"): (200.0, "F3", "5min"),
        ("C2", "clinic"): (350.0, "F2", "10min"),
        ("C2", "market"): (700.0, "F3", "15min"),
        ("C3", "clinic"): (np.hypot(950, 1550), "F2", None),
        ("C3", "market"): (np.hypot(200, 1900), "F3", None),
    }
    for key, (dist, fid, tier) in expected.items():
        assert got.loc[key, "nearest_m"] == pytest.approx(dist, abs=0.01), key
        assert got.loc[key, "nearest_facility_id"] == fid
        assert got.loc[key, "tier"] == tier
    none = got.xs("elderly_care", level="facility_type")
    assert none.nearest_m.isna().all() and none.nearest_facility_id.isna().all() and none.tier.isna().all()


def test_tiers_are_configurable():
    access = access_table(tiers_m={"walk": 360, "near": 150, "far": 2000}).set_index(["compound_id", "facility_type"])
    assert access.loc[("C1", "clinic"), "tier"] == "near"
    assert access.loc[("C1", "market"), "tier"] == "walk"
    assert access.loc[("C2", "clinic"), "tier"] == "walk"
    assert access.loc[("C3", "market"), "tier"] == "far"


def test_tier_edges_are_inclusive():
    tiers = settings.LIVING_CIRCLE_TIERS_M
    got = tier_of(np.array([0, 300, 300.001, 500, 1000, 1000.5, np.nan]), tiers).tolist()
    assert got == ["5min", "5min", "10min", "10min", "15min", None, None]


def test_default_types_are_all_types_in_settings_order():
    access = facility_access(gf.circle_compounds(), gf.circle_facilities())
    n = len(settings.FACILITY_TYPES)
    assert access.facility_type.tolist()[:n] == list(settings.FACILITY_TYPES)
    assert len(access) == 3 * len(settings.FACILITY_TYPES)


def test_ties_go_to_the_smallest_id():
    facilities = gf.frame([
        {"id": "F9", "facility_type": "clinic", "geometry": gf.point(200, 50)},
        {"id": "F2", "facility_type": "clinic", "geometry": gf.point(-100, 50)},
    ])
    access = facility_access(gf.circle_compounds().iloc[:1], facilities, facility_types="clinic")
    assert access.nearest_facility_id.tolist() == ["F2"] and access.nearest_m.tolist() == [100.0]


@pytest.mark.parametrize("seed", range(4))
def test_random_layout_matches_oracle(seed):
    compounds, _ = gf.random_layout(seed, n_compounds=30)
    rng = np.random.default_rng(seed)
    facilities = gf.frame([
        {"id": f"F{k:03d}", "facility_type": ("clinic", "market", "parking")[k % 3],
         "geometry": gf.point(*rng.uniform(-500, 3500, 2))}
        for k in range(40)
    ])
    access = facility_access(compounds, facilities, facility_types=["clinic", "market", "parking"])
    for (cid, ftype), row in access.set_index(["compound_id", "facility_type"]).iterrows():
        geom = compounds.set_index("id").geometry[cid]
        of_type = facilities[facilities.facility_type == ftype]
        dists = [geom.distance(g) for g in of_type.geometry]
        assert row.nearest_m == pytest.approx(min(dists), abs=0.01)
        assert row.nearest_facility_id in set(of_type.id[np.isclose(dists, min(dists))])


def test_gaps_with_default_service_distances():
    # clinic 300 m, market 500 m, elderly care 300 m (settings.FACILITY_TYPES)
    gaps = facility_gaps(access_table())
    assert list(gaps.columns) == ["compound_id", "missing_types", "n_missing"]
    assert gaps.missing_types.tolist() == [["elderly_care"], TYPES, TYPES]
    assert gaps.n_missing.tolist() == [1, 3, 3]


def test_gaps_with_custom_required_distances():
    access = access_table()
    assert facility_gaps(access, required_m=1000).missing_types.tolist() == [
        ["elderly_care"], ["elderly_care"], TYPES]
    mixed = facility_gaps(access, required_m={"clinic": 400})
    assert mixed.missing_types.tolist()[1] == ["market", "elderly_care"]


def test_coverage_by_county_known_answer():
    cov = coverage_by_county(access_table(), gf.circle_compounds())
    assert list(cov.columns) == ["county_code", "facility_type", "households", "households_covered", "share",
                                 "compounds", "compounds_covered"]
    assert cov.county_code.tolist() == ["370811"] * 3 + ["370812"] * 3
    assert cov.facility_type.tolist() == TYPES * 2
    ren = cov[cov.county_code == "370811"].set_index("facility_type")
    assert ren.households.tolist() == [500, 500, 500]
    assert ren.households_covered.tolist() == [200, 200, 0]
    assert ren.share.tolist() == [0.4, 0.4, 0.0]
    yan = cov[cov.county_code == "370812"]
    assert (yan.households == 150).all() and (yan.share == 0).all()
    # with 1 km for every type C2's clinic (350) and market (700) count as well
    wide = coverage_by_county(access_table(), gf.circle_compounds(), required_m=1000).set_index(
        ["county_code", "facility_type"])
    assert wide.loc[("370811", "clinic"), "share"] == 1.0
    assert wide.loc[("370811", "market"), "compounds_covered"] == 2


def test_demo_coverage_matches_direct_count(demo_layers):
    """On the demo data, the clinic coverage of each county equals a direct count with shapely.dwithin."""
    compounds, facilities = demo_layers["compounds"], demo_layers["facilities"]
    access = facility_access(compounds, facilities, facility_types="clinic")
    cov = coverage_by_county(access, compounds).set_index("county_code")
    clinics = facilities[facilities.facility_type == "clinic"].geometry.values
    served = np.array([shapely.dwithin(g, clinics, 300).any() for g in compounds.geometry.values])
    direct = compounds.households.where(served, 0).groupby(compounds.county_code).sum()
    assert cov.households_covered.to_dict() == direct.to_dict()
    assert cov.households.sum() == compounds.households.sum()
    assert 0 < cov.households_covered.sum() < cov.households.sum()


def test_empty_inputs():
    empty = facility_access(gf.circle_compounds().iloc[:0], gf.circle_facilities(), facility_types=TYPES)
    assert empty.empty and list(empty.columns) == ["compound_id", "facility_type", "nearest_m",
                                                    "nearest_facility_id", "tier"]
    assert facility_gaps(empty).empty
    assert coverage_by_county(empty, gf.circle_compounds()).empty
    none = facility_access(gf.circle_compounds(), gf.circle_facilities().iloc[:0], facility_types="clinic")
    assert none.nearest_m.isna().all() and len(none) == 3
    assert facility_gaps(none).n_missing.tolist() == [1, 1, 1]


def test_wrong_crs_raises():
    with pytest.raises(CRSError, match="`facilities` has CRS EPSG:4326; distances need a metric CRS"):
        facility_access(gf.circle_compounds(), gf.circle_facilities().to_crs(4326))
    with pytest.raises(CRSError, match="`facilities` has CRS EPSG:3857 but `compounds` has EPSG:4548"):
        facility_access(gf.circle_compounds(), gf.circle_facilities().to_crs(3857))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"facility_types": "hospital"}, "`facility_types` had 'hospital' but must be one or more of"),
        ({"tiers_m": {}}, r"`tiers_m` was \{\} but must be a non-empty mapping"),
        ({"tiers_m": {"5min": -300}}, r"`tiers_m\['5min'\]` was -300 but must be between 1 and 3000"),
        ({"tiers_m": {"a": 300, "b": 300}}, "each tier needs its own distance"),
        ({"tiers_m": [300, 500]}, r"`tiers_m` was \[300, 500\] but must be a non-empty mapping"),
    ],
)
def test_bad_options_raise(options, match):
    with pytest.raises(InputError, match=match):
        facility_access(gf.circle_compounds(), gf.circle_facilities(), **options)


def test_bad_summary_inputs_raise():
    access = access_table()
    with pytest.raises(InputError, match="`required_m` was -1 but must be between 0 and 3000"):
        facility_gaps(access, required_m=-1)
    with pytest.raises(InputError, match="`required_m` had 'hospital' but must be one or more of"):
        facility_gaps(access, required_m={"hospital": 300})
    with pytest.raises(InputError, match="`access` refers to compound 'C1' that is not in `compounds`"):
        coverage_by_county(access, gf.circle_compounds().iloc[1:])
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['households'\]"):
        coverage_by_county(access, gf.circle_compounds().drop(columns="households"))
    with pytest.raises(InputError, match=r"`facilities` lacks the column\(s\) \['facility_type'\]"):
        facility_access(gf.circle_compounds(), gf.circle_facilities().drop(columns="facility_type"))


def test_threaded_chunks_give_the_same_answer(monkeypatch):
    from analytics import living_circle

    compounds, _ = gf.random_layout(3, n_compounds=40)
    facilities = gf.frame([
        {"id": f"F{k:03d}", "facility_type": ("clinic", "market")[k % 2], "geometry": gf.point(100 * k % 3000, 37 * k)}
        for k in range(30)
    ])
    serial = facility_access(compounds, facilities, facility_types=["clinic", "market"])
    monkeypatch.setattr(living_circle, "_CHUNK", 3)
    monkeypatch.setattr(living_circle, "_THREADS_FROM", 1)
    monkeypatch.setattr(living_circle, "worker_count", lambda: 2)
    threaded = facility_access(compounds, facilities, facility_types=["clinic", "market"])
    pd.testing.assert_frame_equal(serial, threaded)


# ----------------------------------------------------------------------------------------------- walking
def test_tiers_apply_to_the_walking_distance():
    from analytics.network import walk_graph

    compounds, facilities = gf.river_compounds(), gf.river_facilities()
    straight = facility_access(compounds, facilities, facility_types="clinic")
    assert straight.attrs["metric"] == "straight"
    assert straight.set_index("compound_id").loc["A", ["nearest_m", "tier"]].tolist() == [pytest.approx(200), "5min"]
    graph = walk_graph(gf.river_roads(), gf.river())
    walked = facility_access(compounds, facilities, facility_types="clinic", graph=graph)
    assert walked.attrs["metric"] == "walk"
    assert list(walked.columns) == ["compound_id", "facility_type", "nearest_m", "nearest_facility_id", "tier",
                                    "straight_m"]
    a = walked.set_index("compound_id").loc["A"]
    assert (a["nearest_m"], a["nearest_facility_id"], a["tier"], a["straight_m"]) == \
        (pytest.approx(900), "F", "15min", pytest.approx(200))
    # A2 is on F's bank: 50 m to S, 100 m along it, 50 m to F (straight: to its edge (100, -100)–(60, -130))
    a2 = walked.set_index("compound_id").loc["A2"]
    assert (a2["nearest_m"], a2["tier"], a2["straight_m"]) == (pytest.approx(200), "5min", pytest.approx(67.082, abs=0.001))
    # the clinic's 300 m: A is served as the crow flies, not on foot
    assert facility_gaps(straight)["n_missing"].tolist() == [0, 0]
    assert facility_gaps(walked)["missing_types"].tolist() == [["clinic"], []]
    gap = straight_not_walk(walked)
    assert gap.to_dict("list") == {"compound_id": ["A", "A2"], "straight_only_types": [["clinic"], []],
                                   "n_straight_only": [1, 0]}
    # a straight metric may be asked for even with a graph
    assert facility_access(compounds, facilities, facility_types="clinic", graph=graph,
                           metric="straight").equals(straight)


def test_walking_metric_options_are_checked():
    with pytest.raises(InputError, match=r"`metric` was 'walk' but no `graph` was given"):
        facility_access(gf.river_compounds(), gf.river_facilities(), metric="walk")
    with pytest.raises(InputError, match=r"`metric` was 'car' but must be one of \('straight', 'walk'\)"):
        facility_access(gf.river_compounds(), gf.river_facilities(), metric="car")
    with pytest.raises(InputError, match=r"`graph` was a GeoDataFrame but must be a WalkGraph from `walk_graph`"):
        facility_access(gf.river_compounds(), gf.river_facilities(), graph=gf.river_roads())
    with pytest.raises(InputError, match=r"`access` has no `straight_m` column: it was measured in a straight line"):
        straight_not_walk(facility_access(gf.river_compounds(), gf.river_facilities()))


def test_unlinked_compound_warning_points_at_the_caller():
    from analytics.network import walk_graph

    graph = walk_graph(gf.river_roads(), gf.river())
    far = gf.river_compounds().assign(geometry=[gf.box(5000, 5000, 5100, 5100), gf.box(0, -200, 10, -190)])
    with pytest.warns(UserWarning, match=r"`origins` has 1 place\(s\) with no street within 500 m") as caught:
        access = facility_access(far, gf.river_facilities(), facility_types="clinic", graph=graph)
    assert caught[0].filename == __file__
    assert access["nearest_m"].isna().tolist() == [True, False]
