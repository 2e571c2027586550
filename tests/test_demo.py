"""The demo dataset: calibrated to the 2020 plan, geometrically sound, internally consistent."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from analytics import settings
from analytics.store import demo


@pytest.fixture(scope="module")
def data():
    return demo.generate(settings.DEMO_SEED)


def within(value, target, rel):
    return abs(value - target) <= rel * target


def test_2020_batch_matches_the_plan(data):
    c = data["compounds"]
    batch = c[c.plan_year == 2020]
    assert len(batch) == settings.PLAN_2020["compounds"] == 68
    assert within(batch.households.sum(), 26_000, 0.005)
    assert within(batch.floor_area_m2.sum(), 2_280_000, 0.005)
    assert set(batch.county_code) == set(settings.COUNTY_ORDER)


def test_all_years_total_floor_area(data):
    c = data["compounds"]
    assert set(c.plan_year) == set(range(2020, 2026))
    assert within(c.floor_area_m2.sum(), settings.PLAN_TOTAL_2025_FLOOR_AREA_M2, 0.02)


def test_compound_fields_plausible(data):
    c = data["compounds"]
    assert c.id.is_unique and c.name.is_unique
    assert (c.built_year <= 2005).all()
    early = c[c.plan_year <= 2021]
    assert (early.built_year <= 2000).mean() > 0.8
    per_hh = c.floor_area_m2 / c.households
    assert per_hh.between(*settings.HOUSEHOLD_AREA_BOUNDS_M2).all()
    yuan_per_m2 = c.invest_planned_wan * 10_000 / c.floor_area_m2
    assert yuan_per_m2.between(150, settings.COST_FLAG_YUAN_PER_M2).all()
    assert set(c.status) <= set(settings.STATUSES)
    assert set(c.tier) == set(settings.TIERS)
    assert 1 <= c.demolition_planned.sum() <= 10
    assert c.willingness_pct.between(0, 100).all() and c.contributing_pct.between(0, 100).all()
    started = c[c.start_date.notna()]
    assert (started.approved_date < started.start_date).all(), "a compound started before it was approved"
    done = c[c.status == "已完工"]
    assert done.completion_date.notna().all() and (done.start_date <= done.completion_date).all()


def test_compounds_inside_county_and_disjoint(data):
    c = data["compounds"].to_crs(settings.ANALYSIS_CRS)
    counties = data["counties"].to_crs(settings.ANALYSIS_CRS).set_index("county_code")
    for code, group in c.groupby("county_code"):
        assert shapely.contains(counties.geometry[code], group.geometry.values).all()
    tree = shapely.STRtree(c.geometry.values)
    left, right = tree.query(c.geometry.values, predicate="intersects")
    assert (left == right).all(), "two compounds overlap"
    ratio = c.floor_area_m2 / c.geometry.area
    assert ratio.between(0.99, 2.51).all()


def test_buildings_add_up_to_their_compound(data):
    b = data["buildings"]
    c = data["compounds"].set_index("id")
    sums = b.groupby("compound_id").agg(hh=("households", "sum"), fa=("floor_area_m2", "sum"), n=("id", "size"),
                                         top=("floors", "max"))
    assert (sums.hh == c.households[sums.index]).all()
    assert np.allclose(sums.fa, c.floor_area_m2[sums.index], rtol=0.002)
    assert (sums.n == c.n_buildings[sums.index]).all()
    assert (sums.top == c.max_floors[sums.index]).all()
    assert (b.households == b.floors * b.units * b.households_per_floor).all()


def test_parcels_typed_sized_and_apart_from_compounds(data):
    p = data["parcels"].to_crs(settings.ANALYSIS_CRS)
    assert 1_000 <= len(p) <= 3_000
    assert set(p.parcel_type) == set(settings.PARCEL_TYPES)
    assert p.area_m2.between(99, 20_001).all()
    c = data["compounds"].to_crs(settings.ANALYSIS_CRS)
    hits = shapely.STRtree(c.geometry.values).query(p.geometry.values, predicate="intersects")
    assert hits.size == 0


def test_facilities_cover_every_type_with_gaps(data):
    f = data["facilities"]
    assert set(f.facility_type) == set(settings.FACILITY_TYPES)
    c = data["compounds"].to_crs(settings.ANALYSIS_CRS)
    elderly = f[f.facility_type == "elderly_care"].to_crs(settings.ANALYSIS_CRS)
    d = c.geometry.apply(lambda g: elderly.distance(g).min())
    assert (d <= 300).mean() > 0.2 and (d > 1000).mean() > 0.05


def test_progress_reports_weekly_and_counties_differ(data):
    r = data["progress_reports"]
    dates = sorted(set(r.report_date))
    assert all((b - a).days == 7 for a, b in zip(dates, dates[1:]))
    assert dates[-1] == demo.demo_as_of()
    last = r[r.report_date == dates[-1]]
    done_share = last.groupby("county_code").status.apply(lambda s: (s == "已完工").mean())
    assert done_share.max() - done_share.min() >= 0.5
    # a compound never goes backwards
    order = {s: i for i, s in enumerate(settings.STATUSES)}
    steps = r.assign(k=r.status.map(order)).sort_values("report_date").groupby("compound_id").k.diff().dropna()
    assert (steps >= 0).all()


def test_funding_sums_to_investment_except_the_planted_errors(data):
    f = data["funding"].groupby("compound_id").amount_wan.sum()
    c = data["compounds"].set_index("id").invest_planned_wan
    off = (f / c[f.index] - 1).abs() > settings.FUNDING_TOLERANCE
    assert off.sum() == len(demo.FUNDING_MISMATCH_FACTOR)
    assert set(data["funding"].source) <= set(settings.FUNDING_SOURCES)


def test_counties_real_boundaries(data):
    k = data["counties"]
    assert len(k) == 11 and set(k.county_code) == set(settings.COUNTY_ORDER)
    assert k.geometry.is_valid.all()
    minx, miny, maxx, maxy = k.total_bounds
    lo_x, lo_y, hi_x, hi_y = settings.JINING_BOUNDS_DEG
    assert lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y


def test_deterministic_for_a_seed():
    a, b = demo.generate(7), demo.generate(7)
    assert a["compounds"].drop(columns="geometry").equals(b["compounds"].drop(columns="geometry"))
    assert a["parcels"].geometry.geom_equals_exact(b["parcels"].geometry, 1e-9).all()
    assert not demo.generate(8)["compounds"].name.equals(a["compounds"].name)


def test_synthetic_scale_counts():
    s = demo.generate_synthetic(1, n_compounds=2_500, n_parcels=9_000, n_facilities=4_000)
    assert len(s["compounds"]) == 2_500 and len(s["parcels"]) == 9_000 and len(s["facilities"]) == 4_000
    tree = shapely.STRtree(s["compounds"].geometry.values)
    left, right = tree.query(s["parcels"].geometry.values, predicate="intersects")
    assert left.size == 0


def test_streets_and_barriers_stored_for_every_county_seat(data):
    roads, barriers = data["roads"], data["barriers"]
    assert roads.crs.to_epsg() == 4326 and barriers.crs.to_epsg() == 4326
    assert set(roads.county_code) == set(settings.COUNTIES) == set(barriers.county_code)
    assert set(roads.road_class) == {"主干路", "次干路", "支路"} and roads.walkable.all()
    assert set(roads.geom_type) == {"LineString"} and set(barriers.barrier_type) == {"河流"}
    assert roads.id.is_unique and barriers.id.is_unique
    assert 30_000 < len(roads) < 45_000


def test_compounds_and_parcels_fill_blocks_between_streets(data):
    roads = data["roads"].to_crs(settings.ANALYSIS_CRS).geometry.values
    river = data["barriers"].to_crs(settings.ANALYSIS_CRS).geometry.values
    tree = shapely.STRtree(roads)
    for name in ("compounds", "parcels"):
        shapes = data[name].to_crs(settings.ANALYSIS_CRS).geometry.values
        assert len(tree.query(shapes, predicate="intersects")[0]) == 0, name  # no street crosses one
        assert not shapely.intersects(np.asarray(shapes)[:, None], np.asarray(river)[None, :]).any(), name
    compounds = data["compounds"].to_crs(settings.ANALYSIS_CRS).geometry.values
    nearest = tree.query_nearest(compounds, return_distance=True)[1]
    assert nearest.max() < demo.CELL_M * 0.55 and np.median(nearest) < 40  # each faces a street of its block


def test_streets_leave_the_other_tables_unchanged(monkeypatch, data):
    from analytics.store import demo_city

    monkeypatch.setattr(demo_city, "demo_network", lambda cities, seed, **kwargs: {})
    without = demo.generate(settings.DEMO_SEED)
    assert "roads" not in without
    for name in ("compounds", "parcels", "facilities", "buildings", "progress_reports", "funding"):
        assert without[name].equals(data[name]), name


def test_stored_streets_build_the_same_graph(demo_con, data):
    from analytics.network import walk_graph
    from analytics.store import read_layer

    stored = walk_graph(read_layer(demo_con, "roads"), read_layer(demo_con, "barriers"))
    direct = walk_graph(data["roads"].to_crs(settings.ANALYSIS_CRS), data["barriers"].to_crs(settings.ANALYSIS_CRS))
    assert stored.n_edges == direct.n_edges and stored.n_nodes == direct.n_nodes
    assert abs(stored.length_m.sum() - direct.length_m.sum()) < 1.0
    assert stored.n_parts == direct.n_parts
