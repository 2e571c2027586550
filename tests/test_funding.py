"""Funding by source and mismatches: a hand-built database with known sums, the ±1 % boundary, the demo's three."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import settings, store
from analytics.errors import InputError
from analytics.funding import BREAKDOWN_COLUMNS, funding_by_source, funding_mismatches, funding_wide
from analytics.store import demo

KNOWN = list(settings.FUNDING_SOURCES)
SOURCES = KNOWN + ["lottery"]  # a code the data has but settings does not: kept, listed last


def build(con) -> None:
    rows = [
        # id, county, plan year, planned investment 万元
        ("F1", "370811", 2020, 100.0),
        ("F2", "370811", 2020, 200.0),
        ("F3", "370812", 2020, 100.0),
        ("F4", "370812", 2021, 300.0),
        ("F5", "370883", 2021, None),
        ("F6", "370883", 2021, 0.0),
    ]
    compounds = gpd.GeoDataFrame(
        [{"id": cid, "name": f"院{cid}", "county_code": county, "plan_year": year, "invest_planned_wan": inv,
          "built_year": 1990, "households": 100, "floor_area_m2": 9000.0,
          "geometry": shapely.box(500_000 + 300 * i, 3_900_000, 500_100 + 300 * i, 3_900_100)}
         for i, (cid, county, year, inv) in enumerate(rows)],
        geometry="geometry", crs=4548,
    )
    funding = pd.DataFrame(
        [
            ("F1", "central_subsidy", 10.0), ("F1", "special_bonds", 60.0), ("F1", "residents", 30.0),  # = 100
            ("F2", "central_budget", 100.0), ("F2", "local_fiscal", 102.0),  # 202: exactly +1 %, not a mismatch
            ("F3", "provincial", 50.0), ("F3", "social_capital", 48.9),  # 98.9: −1.1 %
            ("F5", "utilities", 5.0), ("F5", "lottery", 1.0),  # no planned investment
            ("GHOST", "owner_units", 7.0),  # compound does not exist
        ],
        columns=["compound_id", "source", "amount_wan"],
    )
    store.insert_frame(con, "compounds", compounds)
    store.insert_frame(con, "funding", funding)


@pytest.fixture
def tiny(mem_con):
    build(mem_con)
    return mem_con


def amounts(frame: pd.DataFrame, **keys) -> dict[str, float]:
    sel = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        sel &= (frame[k] == v).to_numpy()
    return dict(zip(frame.loc[sel, "source"], frame.loc[sel, "amount_wan"]))


def test_by_county_and_year_hand_computed(tiny):
    got = funding_by_source(tiny)
    assert list(got.columns) == ["county_code", "plan_year"] + BREAKDOWN_COLUMNS
    groups = got[["county_code", "plan_year"]].drop_duplicates().apply(tuple, axis=1).tolist()
    assert groups == [("370811", 2020), ("370812", 2020), ("370812", 2021), ("370883", 2021)]
    assert len(got) == 4 * len(SOURCES)
    assert got["source"].tolist()[: len(SOURCES)] == SOURCES
    ren = amounts(got, county_code="370811", plan_year=2020)
    assert ren == {**dict.fromkeys(SOURCES, 0.0), "central_subsidy": 10.0, "central_budget": 100.0,
                   "local_fiscal": 102.0, "special_bonds": 60.0, "residents": 30.0}
    first = got[(got.county_code == "370811") & (got.plan_year == 2020)].set_index("source")
    assert first.total_wan.unique().tolist() == [302.0] and first.invest_planned_wan.unique().tolist() == [300.0]
    assert first.share["local_fiscal"] == pytest.approx(102 / 302)
    assert first.share.sum() == pytest.approx(1.0)
    assert first.loc["special_bonds", "source_zh"] == "专项债券" and first.loc["lottery", "source_zh"] == "lottery"
    empty_group = got[(got.county_code == "370812") & (got.plan_year == 2021)]
    assert (empty_group.amount_wan == 0).all() and empty_group.share.isna().all()
    assert empty_group.invest_planned_wan.iloc[0] == 300.0
    zou = got[got.county_code == "370883"].set_index("source")
    assert zou.amount_wan["utilities"] == 5.0 and zou.amount_wan["lottery"] == 1.0
    assert zou.invest_planned_wan.iloc[0] == 0.0  # NULL and 0 planned


def test_city_total_and_wide_form(tiny):
    city = funding_by_source(tiny, by=())
    # the orphan GHOST row (owner_units 7) belongs to no compound and is left out
    assert amounts(city) == {**dict.fromkeys(SOURCES, 0.0), "central_subsidy": 10.0, "central_budget": 100.0,
                             "provincial": 50.0, "local_fiscal": 102.0, "special_bonds": 60.0, "residents": 30.0,
                             "utilities": 5.0, "social_capital": 48.9, "lottery": 1.0}
    assert city.total_wan.iloc[0] == pytest.approx(406.9) and city.invest_planned_wan.iloc[0] == 700.0
    wide = funding_wide(city)
    assert list(wide.columns) == SOURCES + ["total_wan", "invest_planned_wan", "gap_wan"]
    assert wide.gap_wan.iloc[0] == pytest.approx(406.9 - 700.0)
    by_year = funding_wide(funding_by_source(tiny, by=("plan_year",)))
    assert by_year.plan_year.tolist() == [2020, 2021]
    assert by_year.total_wan.tolist() == pytest.approx([400.9, 6.0])
    assert by_year.special_bonds.tolist() == [60.0, 0.0]
    # a group whose key is missing (compounds outside any zone) is kept
    by_zone = funding_wide(funding_by_source(tiny, by=("zone_code",)))
    assert len(by_zone) == 1 and pd.isna(by_zone.zone_code.iloc[0]) and by_zone.total_wan.iloc[0] == pytest.approx(406.9)


def test_filters_and_other_groupings(tiny):
    got = funding_by_source(tiny, by=("compound_id",), plan_year=2020, county_code="370811")
    assert got.compound_id.unique().tolist() == ["F1", "F2"]
    assert amounts(got, compound_id="F2")["local_fiscal"] == 102.0
    assert funding_by_source(tiny, plan_year=2030).empty
    assert list(funding_by_source(tiny, plan_year=2030).columns) == ["county_code", "plan_year"] + BREAKDOWN_COLUMNS


def test_mismatches_hand_computed(tiny):
    got = funding_mismatches(tiny)
    assert got.compound_id.tolist() == ["F4", "GHOST", "F5", "F3"]
    assert got.problem.tolist() == ["no_funding", "unknown_compound", "no_planned_investment", "parts_differ"]
    assert got.diff_wan.tolist() == pytest.approx([-300.0, 7.0, 6.0, -1.1])
    f3 = got.set_index("compound_id").loc["F3"]
    assert (f3.invest_planned_wan, f3.parts_wan, f3.n_sources) == (100.0, 98.9, 2)
    assert f3.diff_share == pytest.approx(-0.011)
    assert np.isnan(got.set_index("compound_id").loc["F5", "diff_share"])
    # F2 is exactly +1 %: inside the default tolerance, outside a tighter one
    tight = funding_mismatches(tiny, tolerance=0.005)
    assert "F2" in tight.compound_id.tolist() and "F1" not in tight.compound_id.tolist()
    assert funding_mismatches(tiny, tolerance=0.0).compound_id.tolist() == ["F4", "GHOST", "F5", "F2", "F3"]
    assert funding_mismatches(tiny, tolerance=0.02).compound_id.tolist() == ["F4", "GHOST", "F5"]
    assert funding_mismatches(tiny, plan_year=2020).compound_id.tolist() == ["F3"]


def test_bad_arguments_raise(tiny):
    with pytest.raises(InputError, match=r"`by` has unknown column\(s\) \['street'\]"):
        funding_by_source(tiny, by=("county_code", "street"))
    with pytest.raises(InputError, match=r"`by` was 'county_code' but must be a tuple"):
        funding_by_source(tiny, by="county_code")
    with pytest.raises(InputError, match=r"`by` was \('plan_year', 'plan_year'\) but names a column twice"):
        funding_by_source(tiny, by=("plan_year", "plan_year"))
    with pytest.raises(InputError, match=r"`plan_year` was '2020' but must be a whole year"):
        funding_by_source(tiny, plan_year="2020")
    with pytest.raises(InputError, match=r"`county_code` was 370811 but must be a county code string"):
        funding_mismatches(tiny, county_code=370811)
    for bad in (-0.01, 1.0, True, "1%"):
        with pytest.raises(InputError, match=r"`tolerance` was .* but must be a fraction 0 ≤ tolerance < 1"):
            funding_mismatches(tiny, tolerance=bad)
    with pytest.raises(InputError, match=r"`con` was a NoneType but must be a DuckDB connection"):
        funding_by_source(None)
    with pytest.raises(InputError, match=r"`breakdown` lacks the column\(s\)"):
        funding_wide(pd.DataFrame({"source": []}))


def test_empty_database(mem_con):
    assert funding_by_source(mem_con).empty
    assert funding_mismatches(mem_con).empty
    assert funding_wide(funding_by_source(mem_con)).empty


def test_demo_has_exactly_the_three_deliberate_mismatches(demo_con):
    got = funding_mismatches(demo_con)
    batch = demo_con.execute("SELECT id FROM compounds WHERE plan_year = 2020 ORDER BY id").fetchdf().id
    expected = dict(zip(batch.iloc[[3, 17, 41]], demo.FUNDING_MISMATCH_FACTOR))
    assert len(got) == 3 and set(got.compound_id) == set(expected)
    assert (got.problem == "parts_differ").all()
    for cid, share in zip(got.compound_id, got.diff_share):
        assert share == pytest.approx(expected[cid] - 1, abs=1e-4)
    by = funding_by_source(demo_con)
    assert by.groupby(["county_code", "plan_year"]).share.sum().to_numpy() == pytest.approx(1.0)
    city = funding_by_source(demo_con, by=())
    planned = demo_con.execute("SELECT sum(invest_planned_wan) FROM compounds WHERE plan_year IS NOT NULL").fetchone()[0]
    assert city.invest_planned_wan.iloc[0] == pytest.approx(planned)
    assert city.amount_wan.sum() == pytest.approx(demo_con.execute("SELECT sum(amount_wan) FROM funding").fetchone()[0])
