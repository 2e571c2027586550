"""Project priority: hand-computed scores under several weightings, eligibility reasons, ties, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics import store
from analytics.errors import InputError
from analytics.priority import COMPONENTS, DEFAULT_WEIGHTS, normalise_weights, priority_scores


def compounds() -> pd.DataFrame:
    return pd.DataFrame(
        [
            # id, name, built, households, willingness %, contributing %, procedures, demolition, county
            ("P1", "一号院", 1980, 400, 90.0, 60.0, True, False, "370811"),
            ("P2", "二号院", 2000, 200, 80.0, 50.0, False, False, "370812"),
            ("P3", "三号院", 1990, 100, 100.0, 20.0, True, False, "370811"),
            ("P4", "四号院", 2005, 200, 80.0, 50.0, False, None, "370883"),  # built in the cutoff year: eligible
            ("X1", "新建院", 2008, 300, 95.0, 90.0, True, False, "370811"),
            ("X2", "拆迁院", 1995, 300, 95.0, 90.0, True, True, "370812"),
            ("X3", "新拆院", 2010, 300, 95.0, 90.0, True, True, "370812"),
            ("X4", "无年代", None, 300, 95.0, 90.0, True, False, "370883"),
        ],
        columns=["id", "name", "built_year", "households", "willingness_pct", "contributing_pct",
                 "procedures_complete", "demolition_planned", "county_code"],
    )


# as_of_year 2020: ages 40, 20, 30, 15 (oldest 40); households 400, 200, 100, 200 (largest 400).
C_AGE = {"P1": 1.0, "P2": 0.5, "P3": 0.75, "P4": 0.375}
C_BENEFIT = {"P1": 1.0, "P2": 0.5, "P3": 0.25, "P4": 0.5}


def by_id(frame: pd.DataFrame, column: str) -> dict:
    return dict(zip(frame["id"], frame[column]))


def test_default_weights_hand_computed():
    ranked, ineligible = priority_scores(compounds(), as_of_year=2020)
    # P1 .25×1 + .15×.9 + .2×.6 + .2×1 + .2×1 = .905; P3 .1875 + .15 + .04 + .2 + .05 = .6275;
    # P2 .125 + .12 + .1 + 0 + .1 = .445; P4 .09375 + .12 + .1 + 0 + .1 = .41375
    assert ranked["id"].tolist() == ["P1", "P3", "P2", "P4"]
    assert ranked["score"].tolist() == pytest.approx([0.905, 0.6275, 0.445, 0.41375], abs=1e-12)
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert by_id(ranked, "c_age") == pytest.approx(C_AGE)
    assert by_id(ranked, "c_benefit") == pytest.approx(C_BENEFIT)
    assert by_id(ranked, "c_willingness") == pytest.approx({"P1": 0.9, "P2": 0.8, "P3": 1.0, "P4": 0.8})
    assert by_id(ranked, "c_contributing") == pytest.approx({"P1": 0.6, "P2": 0.5, "P3": 0.2, "P4": 0.5})
    assert by_id(ranked, "c_procedures") == {"P1": 1.0, "P2": 0.0, "P3": 1.0, "P4": 0.0}
    assert by_id(ranked, "part_age") == pytest.approx({k: 0.25 * v for k, v in C_AGE.items()})
    parts = ranked[[f"part_{c}" for c in COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(parts, ranked["score"], atol=1e-12)
    assert by_id(ranked, "age_years") == {"P1": 40, "P2": 20, "P3": 30, "P4": 15}
    assert ranked["county_code"].tolist() == ["370811", "370811", "370812", "370883"]
    assert (ranked["missing_inputs"] == "").all()


def test_ineligible_are_listed_with_every_reason():
    _, ineligible = priority_scores(compounds(), as_of_year=2020)
    assert by_id(ineligible, "reason") == {
        "X1": "built_after_cutoff",
        "X2": "demolition_planned",
        "X3": "built_after_cutoff;demolition_planned",
        "X4": "built_year_missing",
    }
    assert list(ineligible.columns[:5]) == ["id", "name", "reason", "built_year", "demolition_planned"]
    assert ineligible["name"].tolist() == ["新建院", "拆迁院", "新拆院", "无年代"]


def test_user_weights_are_normalised_and_ties_break_on_willingness():
    ranked, _ = priority_scores(compounds(), weights={"age": 2, "benefit": 2}, as_of_year=2020)
    # .5 × age + .5 × benefit: P1 1.0, P2 .5, P3 .5, P4 .4375; P3 beats P2 on willingness (100 > 80)
    assert ranked["id"].tolist() == ["P1", "P3", "P2", "P4"]
    assert ranked["score"].tolist() == pytest.approx([1.0, 0.5, 0.5, 0.4375], abs=1e-12)
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert ranked["part_willingness"].eq(0).all()
    equal, _ = priority_scores(compounds(), weights=dict.fromkeys(COMPONENTS, 1), as_of_year=2020)
    assert by_id(equal, "score") == pytest.approx({"P1": 0.9, "P2": 0.46, "P3": 0.64, "P4": 0.435})


def test_equal_score_and_willingness_share_a_rank():
    ranked, _ = priority_scores(compounds(), weights={"procedures": 1}, as_of_year=2020)
    # P1 and P3 score 1 (P3 first on willingness); P2 and P4 score 0 with the same willingness: shared rank 3
    assert ranked["id"].tolist() == ["P3", "P1", "P2", "P4"]
    assert ranked["rank"].tolist() == [1, 2, 3, 3]


def test_normalise_weights():
    assert normalise_weights() == pytest.approx(DEFAULT_WEIGHTS)
    assert sum(normalise_weights().values()) == pytest.approx(1.0)
    assert normalise_weights({"age": 3, "benefit": 1}) == {
        "age": 0.75, "willingness": 0.0, "contributing": 0.0, "procedures": 0.0, "benefit": 0.25}


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"age": 1, "beauty": 1}, r"`weights` has unknown component\(s\) \['beauty'\]"),
        ({"age": -1, "benefit": 2}, r"`weights\['age'\]` was -1 but must be ≥ 0"),
        ({"age": 0, "benefit": 0}, r"`weights` were \{'age': 0, 'benefit': 0\} but at least one must be > 0"),
        ({}, r"at least one must be > 0"),
        ({"age": float("nan")}, r"`weights\['age'\]` was nan but must be a finite number"),
        ({"age": True}, r"`weights\['age'\]` was True but must be a finite number"),
        ({"age": "1"}, r"`weights\['age'\]` was '1' but must be a finite number"),
        ([1, 2, 3], r"`weights` was a list but must be a dict"),
    ],
)
def test_bad_weights_raise(weights, match):
    with pytest.raises(InputError, match=match):
        priority_scores(compounds(), weights=weights, as_of_year=2020)


def test_bad_compounds_raise():
    with pytest.raises(InputError, match=r"`compounds` was a list but must be a \(Geo\)DataFrame"):
        priority_scores([1, 2], as_of_year=2020)
    with pytest.raises(InputError, match=r"`compounds` lacks the column\(s\) \['willingness_pct'\]"):
        priority_scores(compounds().drop(columns="willingness_pct"), as_of_year=2020)
    dup = compounds()
    dup.loc[1, "id"] = "P1"
    with pytest.raises(InputError, match=r"`compounds` has duplicate id 'P1'"):
        priority_scores(dup, as_of_year=2020)
    bad = compounds()
    bad.loc[2, "willingness_pct"] = 120.0
    with pytest.raises(InputError, match=r"`compounds.willingness_pct` was 120.0 for 'P3' but must be between 0 and 100"):
        priority_scores(bad, as_of_year=2020)
    bad = compounds()
    bad.loc[0, "households"] = -5
    with pytest.raises(InputError, match=r"`compounds.households` was -5.0 for 'P1' but must be ≥ 0"):
        priority_scores(bad, as_of_year=2020)
    bad = compounds().astype({"built_year": "object"})
    bad.loc[0, "built_year"] = "八十年代"
    with pytest.raises(InputError, match=r"`compounds.built_year` has non-numeric value '八十年代'"):
        priority_scores(bad, as_of_year=2020)
    with pytest.raises(InputError, match=r"`as_of_year` was '2020' but must be a whole year"):
        priority_scores(compounds(), as_of_year="2020")
    with pytest.raises(InputError, match=r"`as_of_year` was 2004 but eligible compounds were built as late as 2005"):
        priority_scores(compounds(), as_of_year=2004)


def test_missing_inputs_count_as_zero_with_a_warning():
    frame = compounds().astype({"procedures_complete": "object"})
    frame.loc[0, "willingness_pct"] = np.nan
    frame.loc[0, "procedures_complete"] = None
    with pytest.warns(UserWarning, match=r"1 eligible compound\(s\) lack willingness"):
        ranked, _ = priority_scores(frame, weights=dict.fromkeys(COMPONENTS, 1), as_of_year=2020)
    p1 = ranked.set_index("id").loc["P1"]
    assert p1.missing_inputs == "willingness_pct;procedures_complete"
    assert (p1.c_willingness, p1.c_procedures) == (0.0, 0.0)
    assert p1.score == pytest.approx(0.2 * (1 + 0 + 0.6 + 0 + 1))


def test_empty_and_all_ineligible():
    ranked, ineligible = priority_scores(compounds().iloc[0:0], as_of_year=2020)
    assert ranked.empty and ineligible.empty
    assert "score" in ranked.columns and "reason" in ineligible.columns
    ranked, ineligible = priority_scores(compounds().iloc[4:], as_of_year=2020)
    assert ranked.empty and len(ineligible) == 4


def test_geodataframe_input_and_demo(demo_con):
    frame = compounds()
    geo = gpd.GeoDataFrame(frame, geometry=[shapely.Point(i, 0) for i in range(len(frame))], crs=4548)
    plain, _ = priority_scores(frame, as_of_year=2020)
    pd.testing.assert_frame_equal(priority_scores(geo, as_of_year=2020).ranked, plain)
    demo = store.read_layer(demo_con, "compounds")
    ranked, ineligible = priority_scores(demo, as_of_year=2025)
    assert len(ranked) + len(ineligible) == len(demo) == 1_465  # 1,125 planned (2020–2026) and 340 candidates
    assert (ineligible["reason"] == "demolition_planned").sum() == 9 == int(demo.demolition_planned.sum())
    assert ranked["score"].between(0, 1).all() and ranked["score"].is_monotonic_decreasing
