"""Facility siting (MCLP): optimum equals brute force, greedy never beats it, households recount directly."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse

from analytics import settings
from analytics.errors import CRSError, InputError
from analytics.siting import SitingResult, greedy_cover, site_facilities, solve_mclp
from tests import geo_fixtures as gf


def brute_force(compounds, parcels, facilities, *, facility_type, k, service_m, min_area):
    """Best households gain over every k-subset of the parcels meeting the area, by plain shapely."""
    existing = facilities[facilities.facility_type == facility_type].geometry.tolist()
    hh = compounds.households.to_numpy()
    before = np.array([any(g.distance(f) <= service_m for f in existing) for g in compounds.geometry])
    usable = parcels[parcels.area_m2 >= min_area]
    reach = {pid: np.array([g.distance(pg) <= service_m for g in compounds.geometry]) & ~before
             for pid, pg in zip(usable.id, usable.geometry)}
    best = 0
    for combo in itertools.combinations(reach, min(k, len(reach))):
        hit = np.zeros(len(hh), dtype=bool)
        for pid in combo:
            hit |= reach[pid]
        best = max(best, int(hh[hit].sum()))
    return int(hh[before].sum()), best


def recount(compounds, parcels, facilities, chosen_ids, *, facility_type, service_m):
    """Households within reach of an existing facility or a chosen parcel, counted directly."""
    sites = facilities[facilities.facility_type == facility_type].geometry.tolist()
    sites += parcels[parcels.id.isin(chosen_ids)].geometry.tolist()
    hit = [any(g.distance(s) <= service_m for s in sites) for g in compounds.geometry]
    return int(compounds.households[hit].sum())


# ----------------------------------------------------------------------------------------------- hand-built
def test_optimum_beats_greedy_on_the_row_of_compounds():
    compounds, parcels, facilities = gf.siting_layout()
    res = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=2)
    assert isinstance(res, SitingResult)
    assert res.households_total == 1900
    assert res.households_covered_before == 500
    assert res.households_covered_after == 1900
    assert res.greedy_households_after == 1600
    assert res.optimal and not res.time_limit_hit
    assert dict(zip(res.chosen.parcel_id, res.chosen.households_gained)) == {"PL": 700, "PR": 700}
    # greedy takes PM first (800), then PL (tie with PR, smallest id); S2 is nearer PL (155 m) than PM (175 m)
    assert dict(zip(res.greedy.parcel_id, res.greedy.households_gained)) == {"PL": 700, "PM": 400}
    assert list(res.gaining.columns) == ["compound_id", "households", "parcel_id", "distance_m"]
    gaining = res.gaining.set_index("compound_id")
    assert gaining.parcel_id.to_dict() == {"S1": "PL", "S2": "PL", "S3": "PR", "S4": "PR"}
    assert gaining.distance_m.to_dict() == {"S1": 175.0, "S2": 155.0, "S3": 175.0, "S4": 155.0}
    assert res.n_candidates == 4 and res.n_demand == 4  # PS too small, PX reaches only the covered S5
    assert res.chosen.crs.to_epsg() == 4548 and res.chosen.geometry.notna().all()
    assert res.min_area_m2 == 120 and res.service_distance_m == 300


def test_k_one_and_k_more_than_candidates():
    compounds, parcels, facilities = gf.siting_layout()
    one = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=1)
    assert one.chosen.parcel_id.tolist() == ["PM"] and one.households_covered_after == 1300
    many = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=5)
    assert many.households_covered_after == 1900 and many.optimal
    assert set(many.chosen.parcel_id) <= {"PL", "PM", "PR"}  # PR2 covers the same as PR and is never needed


def test_options_change_the_answer():
    compounds, parcels, facilities = gf.siting_layout()
    # 160 m: each parcel reaches only its nearer neighbour (155 m): PL→S2, PM→S3, PR→S4
    near = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=2, service_distance_m=160)
    assert set(near.chosen.parcel_id) == {"PL", "PM"} and near.households_covered_after == 500 + 800
    # with 20 m² allowed the tiny PS (50 m from S4) becomes a candidate
    small = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=2, min_area_m2=20)
    assert small.n_candidates == 5 and small.households_covered_after == 1900
    # a kindergarten needs 3,500 m²: nothing qualifies
    none = site_facilities(compounds, parcels, facilities, facility_type="kindergarten", k=2)
    assert none.chosen.empty and none.households_covered_after == none.households_covered_before == 0


def test_everything_already_covered():
    compounds, parcels, facilities = gf.siting_layout()
    clinics = gf.frame([{"id": f"F{n}", "facility_type": "clinic", "geometry": g.centroid}
                        for n, g in enumerate(compounds.geometry)])
    res = site_facilities(compounds, parcels, clinics, facility_type="clinic", k=3)
    assert res.households_covered_before == res.households_covered_after == res.households_total == 1900
    assert res.chosen.empty and res.greedy.empty and res.gaining.empty and res.optimal


def test_empty_inputs():
    compounds, parcels, facilities = gf.siting_layout()
    res = site_facilities(compounds.iloc[:0], parcels, facilities, facility_type="clinic", k=2)
    assert res.households_total == 0 and res.chosen.empty
    res = site_facilities(compounds, parcels.iloc[:0], facilities.iloc[:0], facility_type="clinic", k=2)
    assert res.households_covered_after == 0 and res.n_candidates == 0 and list(res.chosen.columns)[:2] == [
        "parcel_id", "households_gained"]


# ----------------------------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_optimum_equals_brute_force(seed, k):
    compounds, parcels, facilities = gf.random_siting(seed)
    res = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=k)
    before, gain = brute_force(compounds, parcels, facilities, facility_type="clinic", k=k, service_m=300,
                               min_area=120)
    assert res.households_covered_before == before
    assert res.households_covered_after == before + gain
    assert res.optimal and not res.time_limit_hit
    assert res.greedy_households_after <= res.households_covered_after
    assert len(res.chosen) <= k and (res.chosen.area_m2 >= 120).all()
    # a direct recount of the chosen parcels agrees, and the gaining list is exactly the new coverage
    assert recount(compounds, parcels, facilities, res.chosen.parcel_id, facility_type="clinic",
                   service_m=300) == res.households_covered_after
    assert recount(compounds, parcels, facilities, res.greedy.parcel_id, facility_type="clinic",
                   service_m=300) == res.greedy_households_after
    assert res.gaining.households.sum() == res.households_covered_after - before
    assert res.chosen.households_gained.sum() == res.gaining.households.sum()


def test_demo_county_optimum_equals_brute_force(demo_layers):
    """邹城市's compounds and parcels, 3 clinics: the solver's gain equals the best of every 3-subset."""
    compounds = demo_layers["compounds"][demo_layers["compounds"].county_code == "370883"]
    parcels, facilities = demo_layers["parcels"], demo_layers["facilities"]
    res = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=3)
    assert res.optimal and res.n_candidates >= 5
    # brute force over the candidates with vectorised distances, one bit mask per parcel
    usable = parcels[parcels.area_m2 >= 120]
    clinics = facilities[facilities.facility_type == "clinic"].geometry.values
    covered = np.array([shapely.dwithin(g, clinics, 300).any() for g in compounds.geometry.values])
    reach = np.array([shapely.dwithin(compounds.geometry.values, pg, 300) & ~covered for pg in usable.geometry.values])
    reach = reach[reach.any(axis=1)]
    hh = compounds.households.to_numpy()
    best = max(int(hh[reach[list(c)].any(axis=0)].sum()) for c in itertools.combinations(range(len(reach)), 3))
    assert res.households_covered_before == int(hh[covered].sum())
    assert res.households_covered_after - res.households_covered_before == best
    assert res.greedy_households_after <= res.households_covered_after


# ----------------------------------------------------------------------------------------------- solver parts
def test_greedy_cover_and_solver_on_a_matrix():
    # rows: demand weights 3, 4, 4, 3; columns L {0,1}, M {1,2}, R {2,3}
    cov = sparse.csc_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=float))
    w = np.array([3.0, 4.0, 4.0, 3.0])
    assert greedy_cover(cov, w, 2) == [1, 0]
    assert greedy_cover(cov, w, 3) == [1, 0, 2]
    cols, optimal, hit, seconds = solve_mclp(cov, w, 2, start=[1, 0], time_limit_s=5)
    assert sorted(cols) == [0, 2] and optimal and not hit and seconds > 0


def test_time_limit_is_reported():
    """A model CBC needs seconds to prove (≈ 7 s here) stopped at 0.05 s: reported, never below greedy."""
    rng = np.random.default_rng(7)
    n_rows, n_cols = 250, 150
    cov = sparse.random(n_rows, n_cols, density=0.04, random_state=rng, format="csc")
    cov.data[:] = 1.0
    w = rng.integers(50, 800, n_rows).astype(float)
    greedy = greedy_cover(cov, w, 12)
    cols, optimal, hit, _ = solve_mclp(cov, w, 12, start=greedy, time_limit_s=0.05)
    assert hit and not optimal
    if cols is not None:  # CBC kept the start (or better)
        value = w[np.asarray(cov[:, cols].sum(axis=1)).ravel() > 0].sum()
        assert value >= w[np.asarray(cov[:, greedy].sum(axis=1)).ravel() > 0].sum()


def test_time_limit_hit_returns_best_found_next_to_greedy(monkeypatch):
    from analytics import siting

    def stopped(coverage, weights, k, *, start, time_limit_s):
        return None, False, True, time_limit_s

    monkeypatch.setattr(siting, "solve_mclp", stopped)
    compounds, parcels, facilities = gf.siting_layout()
    res = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=2, time_limit_s=1)
    assert res.time_limit_hit and not res.optimal
    assert res.households_covered_after == res.greedy_households_after == 1600
    pd.testing.assert_frame_equal(res.chosen, res.greedy)


# ----------------------------------------------------------------------------------------------- errors
def test_wrong_crs_raises():
    compounds, parcels, facilities = gf.siting_layout()
    with pytest.raises(CRSError, match="`parcels` has CRS EPSG:4326; distances need a metric CRS"):
        site_facilities(compounds, parcels.to_crs(4326), facilities, facility_type="clinic", k=1)
    with pytest.raises(CRSError, match="`facilities` has CRS EPSG:3857 but `compounds` has EPSG:4548"):
        site_facilities(compounds, parcels, facilities.to_crs(3857), facility_type="clinic", k=1)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"facility_type": "hospital", "k": 1}, "`facility_type` was 'hospital' but must be one of"),
        ({"facility_type": "clinic", "k": 0}, "`k` was 0 but must be between 1 and 200"),
        ({"facility_type": "clinic", "k": 2.5}, "`k` was 2.5 but must be a whole number of parcels"),
        ({"facility_type": "clinic", "k": True}, "`k` was True but must be a whole number"),
        ({"facility_type": "clinic", "k": 1, "time_limit_s": 0}, "`time_limit_s` was 0 but must be more than 0"),
        ({"facility_type": "clinic", "k": 1, "service_distance_m": 4000},
         "`service_distance_m` was 4000 but must be between 0 and 3000"),
        ({"facility_type": "clinic", "k": 1, "min_area_m2": -1}, "`min_area_m2` was -1 but must be between 0"),
    ],
)
def test_bad_options_raise(options, match):
    compounds, parcels, facilities = gf.siting_layout()
    with pytest.raises(InputError, match=match):
        site_facilities(compounds, parcels, facilities, **options)


def test_bad_frames_raise():
    compounds, parcels, facilities = gf.siting_layout()
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['households'\]"):
        site_facilities(compounds.drop(columns="households"), parcels, facilities, facility_type="clinic", k=1)
    compounds.loc[2, "households"] = -5
    with pytest.raises(InputError, match="`compounds` has a missing or negative `households` value .compound 'S3'."):
        site_facilities(compounds, parcels, facilities, facility_type="clinic", k=1)


def test_defaults_follow_settings():
    compounds, parcels, facilities = gf.siting_layout()
    res = site_facilities(compounds, parcels, facilities, facility_type="market", k=1)
    assert res.service_distance_m == settings.FACILITY_TYPES["market"]["service_distance_m"] == 500
    assert res.min_area_m2 == settings.FACILITY_TYPES["market"]["min_area_m2"] == 300


# ----------------------------------------------------------------------------------------------- walking
def test_walking_sites_a_parcel_on_the_compound_s_own_bank():
    from analytics.network import walk_graph

    compounds = gf.river_compounds()  # A (300 households) north, A2 (200) south of the river

    def triangle(x, y, up):  # a parcel whose one corner (x, y) is its nearest point to the street
        d = 30 if up else -30
        return shapely.Polygon([(gf.X0 + x, gf.Y0 + y), (gf.X0 + x + 30, gf.Y0 + y + d), (gf.X0 + x - 30, gf.Y0 + y + d)])

    # P1 by the south street, 167 m from A and 64 m from A2 straight; P2 north of N, 204 m from A, 340 m from A2
    parcels = gf.frame([{"id": "P1", "area_m2": 1000.0, "geometry": triangle(50, -60, up=False)},
                        {"id": "P2", "area_m2": 1000.0, "geometry": triangle(-200, 60, up=True)}])
    facilities = gf.frame([{"id": "F", "facility_type": "market", "geometry": gf.point(5000, 5000)}])
    straight = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=1)
    assert straight.metric == "straight"
    assert straight.chosen.parcel_id.tolist() == ["P1"] and straight.households_covered_after == 500
    graph = walk_graph(gf.river_roads(), gf.river())
    walked = site_facilities(compounds, parcels, facilities, facility_type="clinic", k=1, graph=graph)
    assert walked.metric == "walk"
    # on foot P1 serves A2 only (50 + 50 + 10 m), P2 serves A (50 + 200 + 10 m): P2 brings more households
    assert walked.chosen.parcel_id.tolist() == ["P2"] and walked.households_covered_after == 300
    assert walked.gaining.to_dict("list") == {"compound_id": ["A"], "households": [300], "parcel_id": ["P2"],
                                              "distance_m": [pytest.approx(260)]}
