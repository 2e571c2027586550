"""The demo dataset: calibrated to the 2020 plan, geometrically sound, internally consistent, the whole
programme 2020 to the demo's today with its targets, projects, money, after-care and findings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import planning, settings
from analytics.store import demo, demo_programme


@pytest.fixture(scope="module")
def data():
    return demo.generate(settings.DEMO_SEED)


def within(value, target, rel):
    return abs(value - target) <= rel * target


def test_2020_batch_matches_the_plan(data):
    c = data["compounds"]
    batch = c[c.plan_year == 2020]
    assert len(batch) == settings.PLAN_2020["compounds"] == 68
    assert batch.households.sum() == 26_000 and batch.floor_area_m2.sum() == 2_280_000  # exactly the plan
    assert set(batch.county_code) == set(settings.COUNTY_ORDER)


def test_all_years_total_floor_area(data):
    c = data["compounds"]
    assert set(c.plan_year.dropna()) == set(range(2020, 2027)) and settings.DEMO_YEAR == 2026
    goal = c[c.plan_year.between(*settings.GOAL_YEARS)]
    assert within(goal.floor_area_m2.sum(), settings.PLAN_TOTAL_2025_FLOOR_AREA_M2, 0.02)
    per_year = c.groupby("plan_year").floor_area_m2.sum()
    assert per_year.to_dict() == {y: area for y, (_, area, _) in demo.YEAR_TARGETS.items()}


def test_demo_today_is_the_last_friday_on_or_before_the_setting():
    assert settings.DEMO_TODAY == date(2026, 11, 27)
    assert demo.demo_as_of() == date(2026, 11, 27)  # a Friday itself
    assert demo.demo_as_of(date(2026, 12, 1)) == date(2026, 11, 27)  # Tuesday -> the Friday before
    assert demo.demo_as_of(date(2026, 11, 26)) == date(2026, 11, 20)
    assert demo.report_dates(2020)[0] == date(2020, 6, 26)  # the first Friday after the plan of 2020-06-20
    assert demo.report_dates(2021)[0] == date(2021, 3, 5) and demo.report_dates(2021)[-1] == date(2021, 12, 31)
    assert demo.report_dates(2026)[-1] == date(2026, 11, 27)


def test_candidate_pool(data):
    c = data["compounds"]
    pool = c[c.plan_year.isna()]
    assert len(pool) == settings.DEMO_CANDIDATES >= 300
    assert (pool.built_year <= 2005).all() and 0.2 < (pool.built_year <= 2000).mean() < 0.8
    assert (pool.status == "未开工").all() and pool[["approved_date", "start_date", "completion_date",
                                                      "planned_start_date", "project_id"]].isna().all().all()
    assert not set(pool.id) & set(data["progress_reports"].compound_id)
    assert not set(pool.id) & set(data["funding"].compound_id)
    assert set(pool.county_code) == set(settings.COUNTY_ORDER)
    # next year's list can be built from them: every field the plan builder needs, bundles by community
    candidates = planning.pool_of(c, year=settings.DEMO_YEAR + 1)
    assert set(candidates.id) == set(pool.id)
    assert candidates[list(planning.REQUIRED)].notna().all().all()
    assert len(planning.bundles_by_area(candidates, by="community")) >= 60


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
    c = data["compounds"].set_index("id")
    dates = sorted(set(r.report_date))
    assert dates[-1] == demo.demo_as_of()
    for year in range(2020, settings.DEMO_YEAR + 1):
        batch = set(c.index[c.plan_year == year])
        rows = r[r.compound_id.isin(batch)]
        year_dates = sorted(set(rows.report_date))
        assert year_dates == demo.report_dates(year), year
        assert all((b - a).days == 7 for a, b in zip(year_dates, year_dates[1:]))
        assert year_dates[0] > demo.plan_issued(year) and year_dates[0] >= date(year, 3, 1)  # never before the plan
        assert {d.year for d in year_dates} == {year}
        assert (rows.groupby("report_date").size() == len(batch)).all()  # every compound, every week
        last = rows[rows.report_date == year_dates[-1]]
        if year < settings.DEMO_YEAR:
            assert (last.status == "已完工").all(), year  # finished by the year's end
        # a season: approvals first, starts from about April, completions late in the year
        started = rows[rows.status.isin(["已开工", "已完工"])].groupby("compound_id").report_date.min()
        assert started.min() >= date(year, 4, 1) and pd.to_datetime(started).median() <= pd.Timestamp(year, 9, 30)
    last = r[r.report_date == dates[-1]]
    assert set(last.compound_id) == set(c.index[c.plan_year == settings.DEMO_YEAR])
    done_share = last.groupby("county_code").status.apply(lambda s: (s == "已完工").mean())
    assert done_share.max() - done_share.min() >= 0.5
    assert 0.05 < (last.status != "已完工").mean() < 0.6  # the current year is mid-flight
    assert (last.status.isin(["未开工", "已立项"])).any()  # and some compounds have not started
    # a compound never goes backwards
    order = {s: i for i, s in enumerate(settings.STATUSES)}
    steps = r.assign(k=r.status.map(order)).sort_values("report_date").groupby("compound_id").k.diff().dropna()
    assert (steps >= 0).all()


def test_annual_targets_differ_from_the_lists_only_where_planted(data):
    t = data["annual_targets"].set_index(["year", "unit_code"])
    c = data["compounds"]
    planned = c[c.plan_year.notna()].assign(unit_code=c.zone_code.fillna(c.county_code))
    lists = planned.groupby(["plan_year", "unit_code"]).agg(compounds=("id", "size"), households=("households", "sum"),
                                                          floor_area_m2=("floor_area_m2", "sum"))
    city = t.xs(settings.CITY_UNIT_CODE, level="unit_code")
    assert city.loc[2020, ["compounds", "households", "floor_area_m2"]].tolist() == [68, 26_000, 2_280_000]
    assert set(city.index) == set(range(2020, settings.DEMO_YEAR + 1))
    changed = set()
    for (year, unit), row in lists.iterrows():
        for measure in ("compounds", "households", "floor_area_m2"):
            target, listed = t.at[(year, unit), measure], row[measure]
            if abs(target / listed - 1) > settings.TARGET_MISMATCH_TOLERANCE:
                changed.add((year, unit, measure))
    assert changed == set(demo_programme.TARGET_CHANGES)
    assert (t.issued_date.map(lambda d: d.year) == t.index.get_level_values("year")).all()


def test_projects_hold_every_planned_compound(data):
    c = data["compounds"]
    p = data["projects"].set_index("id")
    planned = c[c.plan_year.notna()]
    assert planned.project_id.notna().all() and c[c.plan_year.isna()].project_id.isna().all()
    assert set(planned.project_id) == set(p.index)
    size = planned.groupby("project_id").size()
    assert 10 <= (size >= 2).sum() and size.max() <= 5
    assert (p.loc[size.index[size >= 2], "delivery_model"].isin(demo_programme.PACKAGE_MODELS)).all()
    assert (p.loc[size.index[size == 1], "delivery_model"] == "单独实施").all()
    first = planned.groupby("project_id").first()
    assert (first.plan_year == p.year[first.index]).all()
    assert (first.zone_code.fillna(first.county_code) == p.unit_code[first.index]).all()
    assert planned.groupby("project_id")[["plan_year", "street"]].nunique().max().max() == 1


def test_money_flows_lag_the_works_and_keep_their_order(data):
    f = data["fund_flows"]
    c = data["compounds"].set_index("id")
    today = demo.demo_as_of()
    assert f.id.is_unique and (f.flow_date <= today).all() and set(f.stage) == set(settings.FLOW_STAGES)
    assert "special_bonds" in set(f.source) and (f.amount_wan > 0).all()
    allocated = f[f.stage == "allocated"].set_index("compound_id").flow_date
    assert (allocated > c.approved_date[allocated.index]).all()  # allocated after approval
    paid = f[f.stage == "paid"].groupby("compound_id").flow_date.min()
    assert (paid > c.start_date[paid.index]).all()  # money paid after the works started
    # at every date: paid ≤ received ≤ allocated ≤ planned (per compound and source), but the planted errors
    planned = data["funding"].set_index(["compound_id", "source"]).amount_wan
    wide = f.pivot_table(index=["compound_id", "source", "flow_date"], columns="stage", values="amount_wan",
                         aggfunc="sum", fill_value=0.0).groupby(level=[0, 1]).cumsum()
    tol = 1 + settings.FLOW_TOLERANCE
    wrong = wide[(wide.paid > wide.received * tol) | (wide.received > wide.allocated * tol)]
    anomalies = {sorted(c.index[c.plan_year == y])[k] for y, k in demo_programme.FLOW_ANOMALIES}
    assert set(wrong.index.get_level_values(0)) == anomalies
    top = wide.groupby(level=[0, 1]).last()
    assert (top.allocated <= planned[top.index] * tol).all()
    # past years' money is allocated; the current year's not all paid
    past = c.index[c.plan_year < settings.DEMO_YEAR - 1]
    assert set(past) <= set(allocated.index)
    now = top[top.index.get_level_values(0).isin(c.index[c.plan_year == settings.DEMO_YEAR])]
    assert now.paid.sum() < 0.8 * now.allocated.sum()


def test_aftercare_for_completed_compounds_some_missing(data):
    a = data["aftercare"].set_index("compound_id")
    c = data["compounds"].set_index("id")
    done = c.index[c.completion_date.notna()]
    assert set(a.index) < set(done) and 0.02 < 1 - len(a) / len(done) < 0.15
    assert (a.accepted_date.dropna() > c.completion_date[a.accepted_date.dropna().index]).all()
    est = a[a.mgmt_established.eq(True)]
    assert (est.mgmt_established_date >= est.accepted_date).all() and (est.mgmt_mode != "无").all()
    assert a.mgmt_established.eq(False).any()
    assert set(a.mgmt_mode.dropna()) == set(settings.MGMT_MODES)
    assert a.satisfaction_pct.dropna().between(0, 100).all()


def test_findings_some_open_some_overdue(data):
    f = data["findings"]
    today = demo.demo_as_of()
    assert f.id.is_unique and set(f.status) <= set(settings.FINDING_STATUSES)
    assert set(f.category) <= set(settings.FINDING_CATEGORIES) and (f.found_date <= today).all()
    closed = f.status == settings.FINDING_CLOSED
    assert f.closed_date[closed].notna().all() and f.closed_date[~closed].isna().all()
    assert (~closed).sum() == 8 and ((~closed) & (f.deadline < today)).sum() == 4
    c = data["compounds"].set_index("id")
    assert (f.unit_code == c.zone_code.fillna(c.county_code)[f.compound_id].to_numpy()).all()
    assert (f.project_id == c.project_id[f.compound_id].to_numpy()).all()


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
