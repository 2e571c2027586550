"""Elevator cost sharing: hand-computed shares per preset, exact sums to the fen, candidates, bad input."""

from __future__ import annotations

import random
from fractions import Fraction

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from analytics import settings, store
from analytics.elevators import (
    CANDIDATE_COLUMNS,
    SHARE_COLUMNS,
    coefficient,
    default_subsidy_wan,
    elevator_candidates,
    share_costs,
    shares_by_floor,
)
from analytics.errors import InputError


def per_household_fen(frame: pd.DataFrame) -> list[int]:
    return frame["amount_fen"].tolist()


# 6-floor unit, 2 households per floor, 45万 cost, 20万 subsidy -> residents pay 250,000.00 yuan = 25,000,000 fen.
def test_hangzhou_six_floors_hand_computed():
    got = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="hangzhou")
    assert list(got.columns) == SHARE_COLUMNS
    # 3F 8 % = 20,000 yuan (10,000 each), 4F 20 % 50,000, 5F 31 % 77,500, 6F 41 % 102,500
    assert got["amount_yuan"].tolist() == [0, 0, 0, 0, 10_000, 10_000, 25_000, 25_000, 38_750, 38_750, 51_250, 51_250]
    assert got["floor"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert got["household"].tolist() == [1, 2] * 6
    assert got.loc[got.floor == 5, "floor_share"].tolist() == pytest.approx([0.31, 0.31])
    assert got.loc[got.floor == 5, "share"].tolist() == pytest.approx([0.155, 0.155])
    assert got.attrs["residents_yuan"] == 250_000.0 and got.attrs["cost_yuan"] == 450_000.0


def test_shanghai_six_floors_hand_computed():
    # The settings table adds up to 102 % (6+12+20+28+36); shares are scaled to 100 %: floor f pays pct/102.
    assert sum(settings.ELEVATOR_SHARE_PRESETS["shanghai"].values()) == pytest.approx(1.02)
    got = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="shanghai")
    # exact per household (fen): 2F 735,294.12  3F 1,470,588.24  4F 2,450,980.39  5F 3,431,372.55  6F 4,411,764.71
    # floors sum to 24,999,996; the 4 leftover fen go to the largest remainders: 6F (.71) ×2, 5F (.55) ×2.
    assert per_household_fen(got) == [0, 0, 735_294, 735_294, 1_470_588, 1_470_588, 2_450_980, 2_450_980,
                                      3_431_373, 3_431_373, 4_411_765, 4_411_765]
    assert got.loc[got.floor == 6, "floor_share"].iloc[0] == pytest.approx(36 / 102)


def test_coefficient_six_floors_hand_computed():
    got = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="coefficient")
    # coefficients 0, 0, .7, .8, .9, 1.0 per household (sum 6.8): 3F 2,573,529.41, 4F 2,941,176.47,
    # 5F 3,308,823.53, 6F 3,676,470.59 fen; 4 leftover fen -> 6F (.59) ×2 and 5F (.53) ×2.
    assert per_household_fen(got) == [0, 0, 0, 0, 2_573_529, 2_573_529, 2_941_176, 2_941_176,
                                      3_308_824, 3_308_824, 3_676_471, 3_676_471]
    # with flats of 90 and 60 m² on each floor: weight = coefficient × area, total 3.4 × 150 = 510
    areas = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="coefficient", floor_area_m2=[90, 60])
    # remainders: 3F .29/.53, 4F .76/.18, 5F .24/.82, 6F .71/.47 -> +1 fen to 5F-2, 4F-1, 6F-1, 3F-2
    assert per_household_fen(areas) == [0, 0, 0, 0, 3_088_235, 2_058_824, 3_529_412, 2_352_941,
                                        3_970_588, 2_647_059, 4_411_765, 2_941_176]
    # one area for every household is the same as no area at all
    assert per_household_fen(share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="coefficient",
                                         floor_area_m2=88.5)) == per_household_fen(got)


def test_custom_tables():
    pct = {1: 0, 2: 0, 3: 10, 4: 20, 5: 30, 6: 40}  # percentages adding up to 100: no warning
    got = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="custom", custom=pct)
    assert got["amount_yuan"].tolist() == [0, 0, 0, 0, 12_500, 12_500, 25_000, 25_000, 37_500, 37_500, 50_000, 50_000]
    fractions = {f: v / 100 for f, v in pct.items()}
    frame = pd.DataFrame({"floor": list(fractions), "value": list(fractions.values())})
    assert per_household_fen(share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="custom",
                                         custom=frame)) == per_household_fen(got)
    with pytest.warns(UserWarning, match=r"`custom` shares add up to 4.0, not 1 \(100 %\); they were scaled"):
        even = share_costs(6, 2, cost_wan=45.0, subsidy_wan=20.0, preset="custom",
                           custom={1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1})
    assert even["amount_yuan"].tolist() == [0, 0, 0, 0] + [31_250] * 8
    coef = share_costs(4, 1, cost_wan=10.0, subsidy_wan=0.0, preset="custom", custom_kind="coefficient",
                       custom={1: 0, 2: 1, 3: 1, 4: 2}, floor_area_m2=50)
    assert coef["amount_yuan"].tolist() == [0, 25_000, 25_000, 50_000]


def test_fewer_floors_rescale_the_preset_and_taller_units_refuse():
    got = share_costs(5, 1, cost_wan=45.0, subsidy_wan=18.0, preset="hangzhou")
    # floors 1–5 of Hangzhou: 0, 0, 8, 20, 31 -> scaled by 1/59; 270,000 yuan
    exact = [Fraction(27_000_000 * p, 59) for p in (0, 0, 8, 20, 31)]
    assert sum(per_household_fen(got)) == 27_000_000
    assert all(abs(a - e) < 1 for a, e in zip(per_household_fen(got), exact))
    with pytest.raises(InputError, match=r"`preset` 'hangzhou' covers floors 1–6 but the unit has 7 floors; use "
                                         r"preset='coefficient'"):
        share_costs(7, 2, preset="hangzhou")
    # coefficient extends +0.1 per floor above 9F
    assert coefficient(9) == Fraction(13, 10) and coefficient(11) == Fraction(15, 10)
    tall = share_costs(11, 2, cost_wan=50.0, subsidy_wan=20.0, preset="coefficient")
    by_floor = shares_by_floor(tall)
    assert by_floor.floor_share.iloc[10] == pytest.approx(1.5 / sum(float(coefficient(f)) for f in range(1, 12)))


def test_default_subsidy_and_cost():
    assert [default_subsidy_wan(f) for f in (3, 4, 5, 6, 7, 11)] == [0.0, 16.0, 18.0, 20.0, 20.0, 20.0]
    got = share_costs(6, 2)
    assert got.attrs["cost_yuan"] == 450_000.0 and got.attrs["subsidy_yuan"] == 200_000.0
    assert share_costs(6, 2, cost_wan=30.0, subsidy_wan=30.0)["amount_fen"].eq(0).all()


def test_shares_add_up_to_the_fen_over_many_random_inputs():
    rng = random.Random(20201225)
    for _ in range(400):
        preset = rng.choice(["hangzhou", "shanghai", "coefficient", "custom"])
        # presets: 3–6 floors; coefficient: 3+ (1–2F pay 0); custom (top floor always pays): 2+
        floors = {"hangzhou": rng.randint(3, 6), "shanghai": rng.randint(2, 6), "coefficient": rng.randint(3, 30),
                  "custom": rng.randint(2, 30)}[preset]
        hpf = rng.randint(1, 6)
        cost_fen = rng.randint(1, 200_000_000)
        subsidy_fen = rng.randint(0, cost_fen)
        kwargs = {}
        if preset == "custom":
            kwargs["custom"] = {f: rng.choice([0, rng.random() * 3]) for f in range(1, floors + 1)}
            kwargs["custom"][floors] = 1.0
            kwargs["custom_kind"] = "coefficient"
        if preset in ("coefficient", "custom"):
            kwargs["floor_area_m2"] = [round(rng.uniform(30, 150), 2) for _ in range(hpf)]
        got = share_costs(floors, hpf, cost_wan=cost_fen / 1e6, subsidy_wan=subsidy_fen / 1e6, preset=preset, **kwargs)
        total = cost_fen - subsidy_fen
        assert got["amount_fen"].sum() == total
        assert (got["amount_fen"] >= 0).all()
        assert len(got) == floors * hpf
        exact = got["share"] * total
        assert ((got["amount_fen"] - exact).abs() < 1 + 1e-6).all()
        assert abs(got["amount_yuan"].sum() - total / 100) < 1e-6


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((1, 2), {}, r"`floors` was 1 but must be between 2 and 40"),
        ((6.0, 2), {}, r"`floors` was 6.0 but must be a whole number"),
        ((6, 0), {}, r"`households_per_floor` was 0 but must be between 1 and 20"),
        ((6, 2), {"cost_wan": -1.0}, r"`cost_wan` was -1.0 but must be between 0 and 10000 \(万元\)"),
        ((6, 2), {"cost_wan": 99_999_999.0}, r"`cost_wan` was 99999999.0 but must be between 0 and 10000"),
        ((6, 2), {"subsidy_wan": -5.0}, r"`subsidy_wan` was -5.0 but must be between 0 and 10000"),
        ((6, 2), {"cost_wan": 0.0}, r"`cost_wan` was 0.0 but must be > 0"),
        ((6, 2), {"cost_wan": float("nan")}, r"`cost_wan` was nan but must be a finite amount"),
        ((6, 2), {"cost_wan": 20.0, "subsidy_wan": 25.0}, r"`subsidy_wan` was 25.0 but must not exceed `cost_wan` 20.0"),
        ((6, 2), {"preset": "beijing"}, r"`preset` was 'beijing' but must be one of"),
        ((6, 2), {"preset": "custom"}, r"`custom` was None but preset='custom' needs a table"),
        ((6, 2), {"custom": {1: 1}}, r"`custom` was given but `preset` is 'hangzhou'"),
        ((4, 2), {"preset": "custom", "custom": {1: 0, 2: 0, 3: 1}}, r"`custom` lacks floors \[4\]"),
        ((3, 2), {"preset": "custom", "custom": {1: 0, 2: 0, 3: 1, 4: 1}}, r"`custom` has floors \[4\] but the unit has only 3"),
        ((3, 2), {"preset": "custom", "custom": {1: 0, 2: 0, 3: 0}}, r"`custom` values are all 0"),
        ((3, 2), {"preset": "custom", "custom": {1: 0, 2: -1, 3: 1}}, r"`custom\[2\]` was -1 but must be ≥ 0"),
        ((3, 2), {"preset": "custom", "custom": [0, 0, 1]}, r"`custom` was a list but must be a dict"),
        ((3, 2), {"preset": "custom", "custom": pd.DataFrame({"floor": [1.5], "value": [1]})},
         r"`custom.floor` has \[1.5\] but floors must be whole numbers"),
        ((3, 2), {"preset": "custom", "custom": {1: 0, 2: 0, 3: 1}, "custom_kind": "ratio"},
         r"`custom_kind` was 'ratio' but must be 'share' or 'coefficient'"),
        ((6, 2), {"preset": "coefficient", "floor_area_m2": [90]}, r"`floor_area_m2` has 1 values but the unit has 2"),
        ((6, 2), {"preset": "coefficient", "floor_area_m2": [90, 0]}, r"every area must be > 0"),
        ((6, 2), {"preset": "coefficient", "floor_area_m2": "90"}, r"`floor_area_m2` was '90' but must be m²"),
        ((2, 2), {"preset": "hangzhou"}, r"Under `preset` 'hangzhou' nobody on floors 1–2 pays"),
    ],
)
def test_bad_inputs_raise(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        share_costs(*args, **kwargs)


def buildings() -> gpd.GeoDataFrame:
    rows = [
        # id, compound, floors, units, households per floor, elevator
        ("B1", "c1", 6, 2, 2, False),
        ("B2", "c1", 4, 1, 2, False),
        ("B3", "c1", 3, 2, 2, False),  # too low
        ("B4", "c1", 6, 1, 2, True),  # has one
        ("B5", "c2", 5, 3, 3, None),  # unknown counts as none
        ("B6", "c3", 7, 1, 2, True),  # c3 has no candidate
        ("B7", "c4", 11, 2, 4, False),
    ]
    frame = pd.DataFrame(rows, columns=["id", "compound_id", "floors", "units", "households_per_floor", "has_elevator"])
    frame["county_code"] = frame.compound_id.map({"c1": "370811", "c2": "370812", "c3": "370812", "c4": "370883"})
    return gpd.GeoDataFrame(frame, geometry=[shapely.Point(i, 0) for i in range(len(frame))], crs=4548)


def test_candidates_hand_computed():
    got = elevator_candidates(buildings())
    assert list(got.columns) == CANDIDATE_COLUMNS
    assert got.compound_id.tolist() == ["c4", "c2", "c1"]
    # above the second floor: c4 4×2×9 = 72; c2 3×3×3 = 27; c1 2×2×4 + 2×1×2 = 20
    assert got.households_above_second.tolist() == [72, 27, 20]
    assert got.households_candidate.tolist() == [88, 45, 32]
    assert got.candidate_buildings.tolist() == [1, 1, 2]
    assert got.candidate_units.tolist() == [2, 3, 3]
    assert got.n_buildings.tolist() == [1, 1, 4]
    assert got.est_cost_wan.tolist() == [90.0, 135.0, 135.0]
    assert got.est_subsidy_wan.tolist() == [40.0, 54.0, 56.0]  # 2×20; 3×18; 2×20 + 1×16
    assert got.building_ids.tolist() == [["B7"], ["B5"], ["B1", "B2"]]
    assert got.county_code.tolist() == ["370883", "370812", "370811"]
    named = elevator_candidates(buildings(), pd.DataFrame({"id": ["c1", "c2", "c4"], "name": ["甲", "乙", "丁"]}))
    assert named.name.tolist() == ["丁", "乙", "甲"]
    five = elevator_candidates(buildings(), min_floors=5)
    assert five.households_above_second.tolist() == [72, 27, 16]


def test_candidates_empty_and_bad_input():
    assert elevator_candidates(buildings().iloc[0:0]).empty
    assert list(elevator_candidates(buildings()[buildings().has_elevator.eq(True)]).columns) == CANDIDATE_COLUMNS
    with pytest.raises(InputError, match=r"`buildings` lacks the column\(s\) \['has_elevator'\]"):
        elevator_candidates(buildings().drop(columns="has_elevator"))
    bad = buildings()
    bad.loc[1, "units"] = 0
    with pytest.raises(InputError, match=r"`buildings.units` was 0 for 'B2' but must be a whole number ≥ 1"):
        elevator_candidates(bad)
    with pytest.raises(InputError, match=r"`min_floors` was 2 but must be between 3 and 40"):
        elevator_candidates(buildings(), min_floors=2)


def test_candidates_on_demo(demo_con):
    got = elevator_candidates(store.read_layer(demo_con, "buildings"), store.read_layer(demo_con, "compounds"))
    expected = demo_con.execute(
        "SELECT sum(households_per_floor * units * (floors - 2)), sum(units), count(DISTINCT compound_id) "
        "FROM buildings WHERE floors >= 4 AND NOT coalesce(has_elevator, false)"
    ).fetchone()
    assert (got.households_above_second.sum(), got.candidate_units.sum(), len(got)) == expected
    assert got.name.notna().all()
