"""Plan builder: a 6-candidate instance solved by hand, a brute-force oracle on random small instances,
bundles never split, infeasible minimums named with their shortfall, eligibility reasons, bad input."""

from __future__ import annotations

import itertools
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import settings
from analytics.errors import InputError
from analytics.planning import (
    INELIGIBLE_REASONS,
    PLAN_TABLE_COLUMNS,
    build_plan,
    bundles_by_area,
    bundles_from_clusters,
    compare_plans,
    estimate_costs,
    plan_table,
)
from analytics.priority import priority_scores

WILLINGNESS_ONLY = {"willingness": 1}  # score = willingness_pct / 100: every value below is checkable by hand
YEAR = 2027


def six() -> pd.DataFrame:
    """Two counties, three compounds each; costs in 万元, scores = willingness ÷ 100."""
    rows = [
        # id, name, county, built, households, floor area, cost, willingness %, street
        ("A", "甲院", "370811", 1990, 300, 24_000, 700, 90, "古槐街道"),
        ("B", "乙院", "370811", 1995, 200, 16_000, 400, 80, "古槐街道"),
        ("C", "丙院", "370811", 2003, 100, 8_000, 300, 85, "古槐街道"),
        ("D", "丁院", "370812", 1985, 150, 12_000, 500, 70, "鼓楼街道"),
        ("E", "戊院", "370812", 2001, 250, 20_000, 350, 75, "鼓楼街道"),
        ("F", "己院", "370812", 1998, 120, 9_000, 250, 95, "龙桥街道"),
    ]
    frame = pd.DataFrame(rows, columns=["id", "name", "county_code", "built_year", "households", "floor_area_m2",
                                        "cost_wan", "willingness_pct", "street"])
    frame["contributing_pct"] = 50.0
    frame["procedures_complete"] = True
    frame["demolition_planned"] = False
    return frame


def plan6(candidates: pd.DataFrame | None = None, **options):
    options = {"budget_wan": 1200, "weights": WILLINGNESS_ONLY, "min_county_share": 0, "year": YEAR, **options}
    return build_plan(six() if candidates is None else candidates, **options)


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["id"])


def reason_of(plan, cid: str) -> tuple[str, dict]:
    for frame in (plan.chosen, plan.rejected):
        hit = frame[frame["id"] == cid]
        if len(hit):
            return hit["reason"].iloc[0], hit["detail"].iloc[0]
    raise KeyError(cid)


# ----------------------------------------------------------------------------------------------- by hand
def test_six_candidates_by_hand():
    plan = plan6()
    # Budget 1,200. Ranking F .95 (250), A .90 (700), C .85 (300), B .80 (400), E .75 (350), D .70 (500):
    # greedy takes F and A (950) and nothing else fits the 250 left → 1.85. Best: F + C + B (950) → 2.60;
    # every set of four costs more than 1,200 and F+C+E (2.55), F+A+E (2.60 at 1,300) do not beat it.
    assert plan.status == "optimal" and plan.gap == 0
    assert ids(plan.chosen) == {"F", "C", "B"}
    assert plan.objective_value == pytest.approx(2.60)
    assert ids(plan.greedy) == {"F", "A"}
    assert plan.greedy_value == pytest.approx(1.85)
    assert plan.greedy_meets_minimums
    assert plan.chosen["id"].tolist() == ["F", "C", "B"]  # by rank
    assert plan.chosen["rank"].tolist() == [1, 3, 4]
    assert [reason_of(plan, c)[0] for c in "FCB"] == ["ranking", "optimiser", "optimiser"]
    for cid, cost in (("A", 700), ("E", 350), ("D", 500)):
        code, detail = reason_of(plan, cid)
        assert code == "budget"
        assert detail == pytest.approx({"cost_wan": cost, "remaining_wan": 250, "short_wan": cost - 250})
    city = plan.totals.set_index("unit_code").loc[settings.CITY_UNIT_CODE]
    assert (city["compounds"], city["households"], city["floor_area_m2"], city["net_cost_wan"]) == (3, 420, 33_000, 950)
    assert (city["greedy_compounds"], city["greedy_households"], city["greedy_net_cost_wan"]) == (2, 420, 950)
    assert city["budget_wan"] == 1200
    assert plan.totals["unit_code"].tolist() == ["370811", "370812", settings.CITY_UNIT_CODE]
    assert plan.n_candidates == plan.n_eligible == plan.n_model == 6


def test_six_candidates_households():
    plan = plan6(objective="households")
    # B + E + F (1,000 万元) reach 570 households; A + E 550, B + C + E 550, D + E + F 520.
    assert ids(plan.chosen) == {"B", "E", "F"}
    assert plan.objective_value == 570
    assert plan.status == "optimal"


def test_six_candidates_pre_2000_first():
    plan = plan6(first_tier_first=True)
    # First the most score from A, B, D, F (built ≤ 2000): F + B + D (1,150) → 2.45 beats F + A (1.85) and
    # A + B (1.70); the 50 万元 left buy nothing. Without the rule F + C + B won with only 1.75 from pre-2000.
    assert ids(plan.chosen) == {"F", "B", "D"}
    assert plan.first_tier_value == pytest.approx(2.45)
    assert plan.objective_value == pytest.approx(2.45)
    assert plan.chosen["first_tier"].all()
    assert ids(plan.greedy) == {"F", "A"}  # pre-2000 in rank order: F, A, then B (400) and D (500) no longer fit


def test_optional_bundle_with_saving_is_taken_whole():
    bundles = pd.DataFrame({"bundle_id": ["S1"], "name": ["古槐片区"], "member_ids": [["B", "C"]],
                            "saving_pct": [15.0]})
    plan = plan6(bundles=bundles)
    # B + C as one project cost 700 × 0.85 = 595, so F + (B C) + E = 250 + 595 + 350 = 1,195 fits → 3.35.
    assert ids(plan.chosen) == {"F", "B", "C", "E"}
    assert plan.objective_value == pytest.approx(3.35)
    chosen = plan.chosen.set_index("id")
    assert chosen.loc[["B", "C"], "bundle_id"].tolist() == ["S1", "S1"]
    assert chosen.loc[["B", "C"], "net_cost_wan"].tolist() == pytest.approx([340, 255])
    assert chosen.loc[["B", "C"], "reason"].tolist() == ["bundle", "bundle"]
    assert chosen.at["B", "detail"]["bundle_name"] == "古槐片区"
    assert plan.bundles.set_index("bundle_id").at["S1", "taken"]
    city = plan.totals.set_index("unit_code").loc[settings.CITY_UNIT_CODE]
    assert (city["net_cost_wan"], city["saving_wan"]) == pytest.approx((1195, 105))


def test_bundle_bonus_for_shared_facilities():
    bundles = pd.DataFrame({"bundle_id": ["S2"], "member_ids": [["D", "E"]], "saving_pct": [0.0],
                            "bonus_pct": [50.0]})
    plan = plan6(bundles=bundles)
    # D + E taken together are worth (.70 + .75) × 1.5 = 2.175 for 850; with F (250) → 3.125 at 1,100.
    assert ids(plan.chosen) == {"D", "E", "F"}
    assert plan.objective_value == pytest.approx(3.125)
    assert plan.chosen.set_index("id").loc[["D", "E"], "value"].tolist() == pytest.approx([1.05, 1.125])


def test_whole_bundle_is_never_split():
    bundles = pd.DataFrame({"bundle_id": ["S3"], "name": ["东片"], "member_ids": [["A", "F"]], "saving_pct": [0.0]})
    whole = plan6(bundles=bundles, bundle_rule="whole")
    # F may only come with A (950 together, 1.85). Without them B + C + E (1,050) → 2.40 is best.
    assert ids(whole.chosen) == {"B", "C", "E"}
    assert whole.objective_value == pytest.approx(2.40)
    code, detail = reason_of(whole, "F")
    assert code == "bundle_budget"
    assert detail == pytest.approx({"bundle_name": "东片", "cost_wan": 950, "remaining_wan": 150, "short_wan": 800})
    # the ranking takes F with A as one unit first (950), then nothing fits
    assert ids(whole.greedy) == {"A", "F"}
    optional = plan6(bundles=bundles, bundle_rule="optional")
    assert ids(optional.chosen) == {"F", "C", "B"}  # F alone at full cost; the bundle is not taken
    assert not optional.bundles["taken"].any()
    assert optional.chosen["bundle_id"].isna().all()


def test_infeasible_city_target_names_the_constraint_and_the_shortfall():
    plan = plan6(targets={"households": 600})
    # At most 570 households fit in 1,200 万元 (B + E + F): the target is 30 short.
    assert plan.status == "infeasible"
    assert plan.shortfalls.to_dict("records") == [
        {"kind": "target", "unit_code": settings.CITY_UNIT_CODE, "measure": "households", "required": 600.0,
         "reachable": pytest.approx(570.0), "short_by": pytest.approx(30.0)}
    ]
    assert ids(plan.chosen) == {"B", "E", "F"}  # the closest plan: 570 households
    city = plan.totals.set_index("unit_code").loc[settings.CITY_UNIT_CODE]
    assert (city["target_households"], city["short_households"]) == pytest.approx((600, 30))


def test_infeasible_county_target():
    targets = pd.DataFrame({"year": [YEAR, YEAR], "unit_code": ["370811", "370812"],  # as read from annual_targets
                            "households": pd.array([600, pd.NA], dtype="Int64"), "floor_area_m2": [None, None],
                            "investment_wan": [5000.0, None]})
    plan = plan6(targets=targets)
    # 370811 holds exactly 600 households (A B C, 1,400 万元); within 1,200 A + B reach 500.
    assert plan.status == "infeasible"
    row = plan.shortfalls.iloc[0]
    assert (row["kind"], row["unit_code"], row["measure"]) == ("target", "370811", "households")
    assert (row["reachable"], row["short_by"]) == pytest.approx((500, 100))
    assert {"A", "B"} <= ids(plan.chosen)


def test_feasible_target_changes_the_plan_and_explains_why():
    plan = plan6(targets={"households": 550})
    # F + C + B reach only 420 households; the best score with ≥ 550 households: B + E + F (2.50, 570) beats
    # A + E (1.65, 550) and B + C + E (2.40, 550).
    assert plan.status == "optimal"
    assert ids(plan.chosen) == {"B", "E", "F"}
    assert plan.objective_value == pytest.approx(2.50)
    assert not plan.greedy_meets_minimums  # F + A: 420 households
    assert reason_of(plan, "E") == ("needed_for_target", {"unit_code": settings.CITY_UNIT_CODE,
                                                          "measure": "households", "rank": 5})


def test_a_compound_in_a_function_zone_counts_in_its_zone():
    """Targets, caps, fair shares and totals are per reporting unit, as the annual targets and progress count."""
    frame = six().assign(zone_code=[None, None, None, None, "Z01", None])  # E lies in 济宁高新区
    targets = pd.DataFrame({"unit_code": ["Z01"], "households": [250]})
    plan = plan6(targets=targets, candidates=frame)
    # E (250 households, 350 万元) is the zone's only candidate, so it is in; of the 850 left F + C (1.80)
    # beat F + B (1.75).
    assert ids(plan.chosen) == {"C", "E", "F"} and plan.status == "optimal"
    assert reason_of(plan, "E") == ("needed_for_target", {"unit_code": "Z01", "measure": "households", "rank": 5})
    totals = plan.totals.set_index("unit_code")
    assert list(totals.index) == ["370811", "370812", "Z01", settings.CITY_UNIT_CODE]
    assert (totals.loc["370812", "pool_households"], totals.loc["Z01", "pool_households"]) == (270, 250)
    assert plan.chosen.set_index("id")["unit_code"].to_dict() == {"F": "370812", "C": "370811", "E": "Z01"}
    assert plan_table(plan, year=YEAR)["unit_code"].tolist() == ["370811", "370812", "Z01"]
    # 兖州区's own compounds hold 270 households: a target of 300 for it is more than its pool
    with pytest.raises(InputError) as caught:
        plan6(targets=pd.DataFrame({"unit_code": ["370812"], "households": [300]}), candidates=frame)
    assert caught.value.params["pool"] == 270
    # D and E share 鼓楼街道 but not a unit: no bundle
    assert bundles_by_area(frame, by="street")["bundle_id"].tolist() == ["370811:古槐街道"]


def test_fair_share_infeasible_by_hand():
    plan = plan6(min_county_share=1.0)
    # Shares of 1,200 by eligible cost (1,400 : 1,100): 370811 ≥ 672, 370812 ≥ 528. 370811's cheapest way past
    # 672 is 700 (A, or B + C), leaving 500: 370812 can reach 500 (D), 28 short (5 %); the other way round it
    # would be 272 short (40 %). The plan: B + C + D (2.35).
    assert plan.status == "infeasible"
    assert plan.shortfalls.to_dict("records") == [
        {"kind": "fair_share", "unit_code": "370812", "measure": "net_cost_wan", "required": pytest.approx(528.0),
         "reachable": pytest.approx(500.0), "short_by": pytest.approx(28.0)}
    ]
    assert ids(plan.chosen) == {"B", "C", "D"}
    totals = plan.totals.set_index("unit_code")
    assert totals["fair_share_wan"].tolist() == pytest.approx([672, 528, 1200])
    assert totals.at["370812", "short_fair_share_wan"] == pytest.approx(28)


def test_fair_share_met_by_hand():
    plan = plan6(min_county_share=0.5)
    # Minimums 336 (370811) and 264 (370812): F + C + B leaves 370812 at 250. 370811 needs B (400), A or B + C
    # (700); with B, 370812 has 800 for E + F (1.70) → 2.50; with B + C only 500 for E → 2.40; with A → 1.65.
    assert plan.status == "optimal"
    assert ids(plan.chosen) == {"B", "E", "F"}
    assert reason_of(plan, "B")[0] == "needed_for_fair_share"
    assert reason_of(plan, "E") == ("needed_for_fair_share", {"unit_code": "370812", "measure": "net_cost_wan",
                                                              "rank": 5})
    assert reason_of(plan, "F")[0] == "ranking"  # E alone keeps 370812 above 264


def test_county_budget_and_too_expensive_alone():
    plan = plan6(county_budget_wan={"370811": 500})
    # A (700) cannot fit 370811's 500 even alone; B and C together (700) neither. Best: C + E + F (2.55, 900).
    assert ids(plan.chosen) == {"C", "E", "F"}
    assert reason_of(plan, "A") == ("too_expensive", {"cost_wan": 700.0, "limit_wan": 500.0})
    code, detail = reason_of(plan, "B")
    assert code == "budget" and detail["remaining_wan"] == pytest.approx(300)
    assert plan.n_model == 5
    assert plan.totals.set_index("unit_code").at["370811", "budget_wan"] == 500


def test_county_budget_is_the_binding_reason():
    plan = plan6(budget_wan=2600, county_budget_wan={"370811": 800})
    # 370812 takes all three (1,100); 370811 at most 800: A (700) or B + C (700, 1.65) → B, C; A is blocked by
    # the county's 100 left although 800 of the city's budget remains.
    assert ids(plan.chosen) == {"B", "C", "D", "E", "F"}
    code, detail = reason_of(plan, "A")
    assert code == "county_budget"
    assert detail == pytest.approx({"unit_code": "370811", "cost_wan": 700, "remaining_wan": 100, "short_wan": 600})


# ----------------------------------------------------------------------------------------------- eligibility
def with_ineligible() -> pd.DataFrame:
    extra = pd.DataFrame([
        ("G", "新院", "370811", 2008, 100, 8000, 100, 99, None, None, False),
        ("H", "拆院", "370811", 1980, 100, 8000, 100, 99, None, None, True),
        ("I", "冷院", "370812", 1980, 100, 8000, 100, 60, None, None, False),
        ("J", "旧计划院", "370812", 1980, 100, 8000, 100, 99, 2025, None, False),
        ("K", "完工院", "370812", 1980, 100, 8000, 100, 99, None, "已完工", False),
        ("L", "争议院", "370811", 1980, 100, 8000, 100, 99, None, None, False),
        ("M", "未调查院", "370811", 1980, 100, 8000, 100, None, None, None, False),
        ("N", "两不院", "370811", 2010, 100, 8000, 100, 50, None, None, True),
        ("O", "明年院", "370811", 1980, 100, 8000, 100, 99, YEAR, "未开工", False),
    ], columns=["id", "name", "county_code", "built_year", "households", "floor_area_m2", "cost_wan",
                "willingness_pct", "plan_year", "status", "demolition_planned"])
    extra["contributing_pct"] = 50.0
    extra["procedures_complete"] = True
    extra["disputed"] = extra["id"] == "L"
    base = six().assign(plan_year=None, status="未开工", disputed=False)
    return pd.concat([base, extra], ignore_index=True)


def test_ineligible_never_chosen_and_each_listed_with_its_reasons():
    for budget in (1200, 1_000_000):
        plan = build_plan(with_ineligible(), budget_wan=budget, weights=WILLINGNESS_ONLY, min_county_share=0,
                          year=YEAR)
        rejected = plan.rejected.set_index("id")
        assert rejected.loc[list("GHIJKLMN"), "reason"].to_dict() == {
            "G": "built_after_cutoff",
            "H": "demolition_planned",
            "I": "willingness_below_min",
            "J": "already_planned",
            "K": "already_started",
            "L": "disputed",
            "M": "willingness_missing",
            "N": "built_after_cutoff;demolition_planned;willingness_below_min",
        }
        assert not rejected.loc[list("GHIJKLMN"), "eligible"].any()
        assert not ids(plan.chosen) & set("GHIJKLMN")
        assert rejected.at["I", "detail"]["willingness_pct"] == 60
        assert rejected.at["I", "detail"]["min_pct"] == pytest.approx(200 / 3)
        assert rejected.at["J", "detail"]["plan_year"] == 2025
        assert plan.n_eligible == 7  # the six and O, whose plan year is the year being planned
    # with 1,200: O (100, .99) now comes first, then F, C, B as before, and the 150 left buy nothing else
    small = build_plan(with_ineligible(), budget_wan=1200, weights=WILLINGNESS_ONLY, min_county_share=0, year=YEAR)
    assert ids(small.chosen) == {"O", "F", "C", "B"}
    everything = build_plan(with_ineligible(), budget_wan=1_000_000, weights=WILLINGNESS_ONLY, min_county_share=0,
                            year=YEAR)
    assert ids(everything.chosen) == {"A", "B", "C", "D", "E", "F", "O"}
    for code in everything.rejected["reason"].str.split(";").explode():
        assert code in INELIGIBLE_REASONS


def test_min_willingness_is_a_setting():
    plan = build_plan(with_ineligible(), budget_wan=1_000_000, weights=WILLINGNESS_ONLY, min_county_share=0,
                      year=YEAR, min_willingness=0.5)
    assert "I" in ids(plan.chosen)  # 60 % ≥ 50 %
    assert reason_of(plan, "N")[0] == "built_after_cutoff;demolition_planned"


def test_bundle_members_that_are_ineligible_leave_the_bundle():
    bundles = pd.DataFrame({"bundle_id": ["X", "Y"], "member_ids": [["B", "C", "G"], ["H", "D"]],
                            "saving_pct": [15.0, 5.0]})
    plan = build_plan(with_ineligible(), budget_wan=1200, weights=WILLINGNESS_ONLY, min_county_share=0, year=YEAR,
                      bundles=bundles)
    info = plan.bundles.set_index("bundle_id")
    assert info.loc["X", ["n_members", "n_eligible", "dropped"]].tolist() == [3, 2, ""]
    assert info.loc["Y", ["n_members", "n_eligible", "dropped"]].tolist() == [2, 1, "too_few_eligible"]
    assert "G" not in ids(plan.chosen)


# ----------------------------------------------------------------------------------------------- brute force
def _oracle(cands: pd.DataFrame, *, budget, objective, first_tier_first, bundles, rule, caps, targets, share):
    """Best (first-tier value, value) over every subset and bundle choice, or None when nothing is feasible."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = priority_scores(cands, as_of_year=YEAR).ranked.set_index("id")
    n = len(cands)
    v = (ranked.loc[cands["id"], "score"].to_numpy() if objective == "score" else cands["households"].to_numpy(float))
    first = cands["built_year"].to_numpy() <= 2000
    cost = cands["cost_wan"].to_numpy(float)
    county = cands["county_code"].to_numpy()
    pos = {c: k for k, c in enumerate(cands["id"])}
    members = [np.array([pos[m] for m in ms]) for ms in bundles["member_ids"]]
    saving = bundles["saving_pct"].to_numpy(float) / 100
    bonus = bundles["bonus_pct"].to_numpy(float) / 100
    X = np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)
    pool_cost = pd.Series(cost).groupby(county).sum()
    fair = {c: share * min(budget, pool_cost.sum()) * pool_cost[c] / pool_cost.sum() for c in pool_cost.index} \
        if share > 0 else {}
    best = None
    for Y in itertools.product([False, True], repeat=len(members)):
        ok = np.ones(len(X), dtype=bool)
        spend = X @ cost
        spend_c = {c: X @ np.where(county == c, cost, 0) for c in pool_cost.index}
        value, value_first = X @ v, X @ np.where(first, v, 0)
        for b, taken in enumerate(Y):
            m = members[b]
            if rule == "whole":
                ok &= (X[:, m] == taken).all(axis=1)
            elif taken:
                ok &= X[:, m].all(axis=1)
            if taken:
                spend = spend - saving[b] * cost[m].sum()
                for c in spend_c:
                    spend_c[c] = spend_c[c] - saving[b] * cost[m][county[m] == c].sum()
                value = value + bonus[b] * v[m].sum()
                value_first = value_first + bonus[b] * v[m][first[m]].sum()
        ok &= spend <= budget + 1e-7
        for c, cap in caps.items():
            ok &= spend_c[c] <= cap + 1e-7
        for c, need in fair.items():
            ok &= spend_c[c] >= need - 1e-7
        for unit, row in targets.items():
            inside = np.ones(n, dtype=bool) if unit == settings.CITY_UNIT_CODE else county == unit
            for measure, need in row.items():
                per = np.ones(n) if measure == "compounds" else cands[measure].to_numpy(float)
                ok &= X @ np.where(inside, per, 0) >= need - 1e-7
        if not ok.any():
            continue
        key = np.round(value_first, 9) if first_tier_first else np.zeros(len(X))
        top = np.lexsort((-value[ok], -key[ok]))[0]
        cand = (float(key[ok][top]), float(value[ok][top]))
        if best is None or cand[0] > best[0] + 1e-9 or (abs(cand[0] - best[0]) <= 1e-9 and cand[1] > best[1]):
            best = cand
    return best


def random_instance(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = pd.DataFrame({
        "id": [f"R{k:02d}" for k in range(n)],
        "name": [f"随机{k}" for k in range(n)],
        "county_code": rng.choice(["370811", "370812", "370883"], n),
        "built_year": rng.integers(1975, 2006, n),
        "households": rng.integers(40, 600, n),
        "floor_area_m2": rng.integers(3_000, 50_000, n).astype(float),
        "cost_wan": rng.integers(50, 900, n).astype(float),
        "willingness_pct": rng.integers(67, 101, n).astype(float),
        "contributing_pct": rng.integers(0, 101, n).astype(float),
        "procedures_complete": rng.random(n) < 0.6,
        "demolition_planned": False,
    })
    return frame


@pytest.mark.parametrize("seed", range(24))
def test_brute_force_equals_the_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 13 if seed % 4 else 16))
    cands = random_instance(rng, n)
    budget = float(cands["cost_wan"].sum() * rng.uniform(0.25, 0.6))
    ids_ = list(cands["id"])
    rng.shuffle(ids_)
    n_bundles = int(rng.integers(0, 3))
    groups = [ids_[3 * b: 3 * b + int(rng.integers(2, 4))] for b in range(n_bundles)]
    bundles = pd.DataFrame({"bundle_id": [f"B{b}" for b in range(n_bundles)], "member_ids": groups,
                            "saving_pct": rng.choice([0.0, 5.0, 12.0], n_bundles),
                            "bonus_pct": rng.choice([0.0, 10.0, 30.0], n_bundles)})
    options = {
        "objective": ["score", "households"][seed % 2],
        "first_tier_first": bool(rng.random() < 0.4),
        "rule": ["optional", "whole"][int(rng.random() < 0.4)],
        "caps": {"370811": float(budget * 0.4)} if rng.random() < 0.3 else {},
        "share": float(rng.choice([0.0, 0.0, 0.3, 0.6])),
        "targets": {settings.CITY_UNIT_CODE: {"households": float(cands["households"].sum() * rng.uniform(0.1, 0.6))}}
        if rng.random() < 0.4 else {},
    }
    targets = options["targets"].get(settings.CITY_UNIT_CODE)
    plan = build_plan(cands, budget_wan=budget, objective=options["objective"], year=YEAR,
                      first_tier_first=options["first_tier_first"], bundles=bundles if n_bundles else None,
                      bundle_rule=options["rule"], county_budget_wan=options["caps"] or None,
                      min_county_share=options["share"], targets=targets)
    best = _oracle(cands, budget=budget, bundles=bundles, **options)
    if best is None:
        assert plan.status == "infeasible"
        assert len(plan.shortfalls) >= 1
        if options["share"] == 0:  # the target is the only minimum: reachable = the most households that fit
            most = _oracle(cands, budget=budget, bundles=bundles, **{**options, "objective": "households",
                                                                     "first_tier_first": False, "targets": {}})
            assert plan.shortfalls["reachable"].tolist() == pytest.approx([most[1]])
            assert plan.shortfalls["short_by"].tolist() == pytest.approx([targets["households"] - most[1]])
    else:
        assert plan.status == "optimal", options
        if options["first_tier_first"]:
            assert plan.first_tier_value == pytest.approx(best[0], rel=1e-7, abs=1e-7)
        assert plan.objective_value == pytest.approx(best[1], rel=1e-7, abs=1e-7)
    # the optimum is never worse than the ranking's answer when that meets every minimum
    if plan.greedy_meets_minimums and plan.status == "optimal":
        mine = (plan.first_tier_value if options["first_tier_first"] else 0.0, plan.objective_value)
        ranking = (plan.greedy_first_tier_value if options["first_tier_first"] else 0.0, plan.greedy_value)
        assert mine[0] >= ranking[0] - 1e-9
        assert mine[0] > ranking[0] + 1e-9 or mine[1] >= ranking[1] - 1e-9
    # a bundle taken is never split; under "whole" no bundle is ever partly chosen
    chosen = ids(plan.chosen)
    for _, b in plan.bundles.iterrows():
        members = set(bundles.set_index("bundle_id").at[b["bundle_id"], "member_ids"])
        if b["taken"]:
            assert members <= chosen
            assert set(plan.chosen.loc[plan.chosen["bundle_id"] == b["bundle_id"], "id"]) == members
        if options["rule"] == "whole" and b["dropped"] == "":
            assert len(members & chosen) in (0, len(members))
    # the plan keeps to its budgets
    assert plan.chosen["net_cost_wan"].sum() <= budget + 1e-6
    for code, cap in options["caps"].items():
        assert plan.chosen.loc[plan.chosen["county_code"] == code, "net_cost_wan"].sum() <= cap + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_unreachable_target_reports_the_most_reachable(seed):
    rng = np.random.default_rng(100 + seed)
    cands = random_instance(rng, 10)
    budget = float(cands["cost_wan"].sum() * 0.4)
    bundles = pd.DataFrame({"bundle_id": ["B0"], "member_ids": [list(cands["id"][:3])], "saving_pct": [10.0],
                            "bonus_pct": [0.0]})
    options = {"objective": "households", "first_tier_first": False, "rule": "optional", "caps": {}, "share": 0.0}
    most = _oracle(cands, budget=budget, bundles=bundles, targets={}, **options)[1]
    need = (most + float(cands["households"].sum())) / 2  # above what fits, within the pool
    plan = build_plan(cands, budget_wan=budget, year=YEAR, bundles=bundles, min_county_share=0,
                      targets={"households": need})
    assert plan.status == "infeasible"
    assert plan.shortfalls[["kind", "unit_code", "measure"]].values.tolist() == [
        ["target", settings.CITY_UNIT_CODE, "households"]]
    assert plan.shortfalls["reachable"].tolist() == pytest.approx([most])
    assert plan.shortfalls["short_by"].tolist() == pytest.approx([need - most])
    assert plan.chosen["households"].sum() == pytest.approx(most)  # the closest plan reaches it


def test_a_search_stopped_early_reports_its_gap(monkeypatch):
    from analytics import planning

    rng = np.random.default_rng(7)
    cands = random_instance(rng, 80)
    cands["households"] = (cands["cost_wan"] * rng.uniform(0.9, 1.1, 80)).round()  # costs and values alike
    monkeypatch.setattr(planning, "_CBC_OPTIONS", ["maxNodes 0"])  # CBC stops after the root, as at a time limit
    plan = build_plan(cands, budget_wan=float(cands["cost_wan"].sum() * 0.37), objective="households",
                      min_county_share=0, year=YEAR)
    assert plan.status == "time_limit"
    assert plan.bound > plan.objective_value
    assert plan.gap == pytest.approx((plan.bound - plan.objective_value) / plan.bound)
    assert 0 < plan.gap < 0.01
    assert plan.objective_value >= plan.greedy_value  # CBC started from the ranking's answer
    monkeypatch.setattr(planning, "_CBC_OPTIONS", [])
    full = build_plan(cands, budget_wan=float(cands["cost_wan"].sum() * 0.37), objective="households",
                      min_county_share=0, year=YEAR)
    assert full.status == "optimal" and full.gap == 0
    assert plan.objective_value <= full.objective_value <= plan.bound + 1e-6


def test_scenarios_side_by_side():
    summary, by_county = compare_plans({
        "1200": plan6(),                           # F C B: 420 households, 33,000 m²
        "2000": plan6(budget_wan=2000),            # all but D (2,000: 4.25) beats all but A (1,800: 4.05)
        "pre-2000": plan6(first_tier_first=True),  # F B D: 470 households, 37,000 m²
    })
    assert summary["scenario"].tolist() == ["1200", "2000", "pre-2000"]
    assert summary["compounds"].tolist() == [3, 5, 3]
    assert summary["households"].tolist() == [420, 970, 470]
    assert summary["d_households"].tolist() == [0, 550, 50]
    assert summary["d_floor_area_m2"].tolist() == [0, 44_000, 4_000]
    assert summary["added"].tolist() == [0, 2, 1]     # A, E; D
    assert summary["dropped"].tolist() == [0, 0, 1]   # C
    assert summary["counties"].tolist() == [2, 2, 2]
    assert summary["counties_added"].tolist() == [[], [], []]
    pre = by_county[by_county["scenario"] == "pre-2000"].set_index("unit_code")["households"].to_dict()
    assert pre == {"370811": 200, "370812": 270}  # B | F + D


# ----------------------------------------------------------------------------------------------- helpers
def test_estimate_costs_fills_only_what_is_missing():
    frame = pd.DataFrame({"floor_area_m2": [10_000.0, 20_000.0, 5_000.0, 8_000.0],
                          "tier": ["基础类", "提升类", None, "完善类"],
                          "invest_planned_wan": [None, 900.0, None, 0.0]})
    out = estimate_costs(frame)
    # 10,000 m² × 260 元 = 260 万元; planned 900 kept; untiered counts as 完善类 340 元; 0 is not an estimate
    assert out["cost_wan"].tolist() == pytest.approx([260.0, 900.0, 170.0, 272.0])
    assert out["cost_estimated"].tolist() == [True, False, True, True]
    assert "cost_wan" not in frame.columns


def test_bundles_by_street_and_from_clusters():
    by_street = bundles_by_area(six(), by="street")
    assert by_street["member_ids"].tolist() == [["A", "B", "C"], ["D", "E"]]  # 龙桥街道 has one compound
    assert by_street["bundle_id"].tolist() == ["370811:古槐街道", "370812:鼓楼街道"]
    assert by_street["saving_pct"].tolist() == [settings.PLAN_BUNDLE_SAVING_PCT] * 2
    clusters = pd.DataFrame({"cluster_id": [1, 2, 3], "member_ids": [["A", "B"], ["D", "E"], ["C", "F"]],
                             "shared_gaps": [["clinic"], ["kindergarten"], []],
                             "idle_area_m2": [150.0, 1_000.0, 9_000.0]})
    bundles = bundles_from_clusters(clusters, candidates=six(), saving_pct=4, facility_bonus_pct=12)
    # clinic needs ≥ 120 m² (150 in reach: bonus); kindergarten ≥ 3,500 (1,000: none); no shared gap: none
    assert bundles["bonus_pct"].tolist() == [12.0, 0.0, 0.0]
    assert bundles["saving_pct"].tolist() == [4.0] * 3
    assert bundles["bundle_id"].tolist() == ["C1", "C2", "C3"]
    # named after the members' street (C and F share none: the first listed wins the tie)
    assert bundles["name"].tolist() == ["古槐街道片区1", "鼓楼街道片区2", "古槐街道片区3"]
    assert bundles_from_clusters(clusters)["name"].tolist() == ["片区1", "片区2", "片区3"]


def test_plan_table_in_the_office_layout():
    bundles = pd.DataFrame({"bundle_id": ["S1"], "name": ["古槐片区"], "member_ids": [["B", "C"]],
                            "saving_pct": [15.0]})
    frame = six().assign(tier=["基础类", "完善类", "提升类", None, "完善类", "基础类"], n_buildings=[6, 4, 2, 3, 5, 2],
                         items=[None, None, None, None, "加装电梯、停车场", None])
    plan = build_plan(frame, budget_wan=1200, weights=WILLINGNESS_ONLY, min_county_share=0, year=YEAR,
                      bundles=bundles)
    table = plan_table(plan, year=YEAR)
    # 370811 first (official order): the bundle (C rank 3, B rank 4) as one project, then 370812: F (1), E (5)
    assert table["seq"].tolist() == [1, 2, 3, 4]
    assert table["name"].tolist() == ["丙院", "乙院", "己院", "戊院"]
    assert table["project_name"].tolist() == ["古槐片区老旧小区改造项目（成片）"] * 2 + [
        "己院老旧小区改造项目", "戊院老旧小区改造项目"]
    assert table["invest_wan"].tolist() == pytest.approx([255, 340, 250, 350])
    assert table["n_buildings"].tolist() == [2, 4, 2, 5]
    assert table["items"].tolist() == [
        "基础类、完善类内容及社区养老、托幼、医疗、家政、商业设施、智慧社区",
        "基础类内容及社区和物业用房、建筑节能改造、加装电梯、停车场、文化设施、体育健身、充电设施、无障碍设施",
        "拆违拆临、安防、环卫、消防、道路、照明、绿化、水电气暖、光纤、建筑物修缮、管线规整",
        "加装电梯、停车场",
    ]
    assert set(table["planned_start"]) == {date(YEAR, 4, 1)}
    assert set(table["planned_completion"]) == {date(YEAR, 12, 31)}
    assert list(table.columns) == PLAN_TABLE_COLUMNS


# ----------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("change", "message", "code", "params"), [
    ({"budget_wan": 0}, r"`budget_wan` was 0 but must be a number of 万元 above 0\.", "plan.budget", {"budget": 0}),
    ({"budget_wan": -5}, r"`budget_wan` was -5 but must be a number of 万元 above 0\.", "plan.budget", {"budget": -5}),
    ({"weights": {"age": 0, "benefit": 0}}, r"`weights` were \{'age': 0, 'benefit': 0\} but at least one must be > 0\.",
     "weights_zero", {}),
    ({"targets": {"households": 5000}},
     r"The households target of 5,000 for 370800 \(全市\) is larger than its pool of eligible candidates \(1,120\); "
     r"lower the target or add candidates\.",
     "plan.target_above_pool", {"measure": "households", "county_code": "370800", "target": 5000.0, "pool": 1120.0}),
    ({"targets": pd.DataFrame({"unit_code": ["370826"], "compounds": [1]})},
     r"The compounds target of 1 for 370826 \(微山县\) is larger than its pool of eligible candidates \(0\)",
     "plan.target_above_pool", {"measure": "compounds", "county_code": "370826", "target": 1.0, "pool": 0.0}),
    ({"targets": {"households": -1}}, r"The households target of 370800 was -1 but must be a number ≥ 0\.",
     "plan.target_negative", {"measure": "households", "county_code": "370800", "value": -1}),
    ({"targets": {"flats": 3}}, r"`targets` has unknown measure\(s\) \['flats'\]", "plan.target_measure",
     {"names": ["flats"], "measure": ["compounds", "households", "floor_area_m2"]}),
    ({"targets": pd.DataFrame({"unit_code": ["370811", "370811"], "compounds": [1, 2]})},
     r"`targets` has two rows for unit '370811'; keep one\.", "plan.target_twice", {"county_code": "370811"}),
    ({"min_willingness": 1.5}, r"`min_willingness` was 1.5 but must be a share between 0 and 1", "plan.min_willingness",
     {"value": 1.5}),
    ({"min_county_share": -0.1}, r"`min_county_share` was -0.1 but must be a share between 0 and 1\.",
     "plan.fair_share", {"value": -0.1}),
    ({"year": 1999}, r"`year` was 1999 but must be a plan year between 2006 and 2100\.", "plan.year", {"year": 1999}),
    ({"objective": "money"}, r"`objective` was 'money' but must be 'score' or 'households'\.", "input", {}),
    ({"time_limit_s": 0}, r"`time_limit_s` was 0 but must be more than 0 and at most 600 seconds\.", "plan.time_limit",
     {"value": 0, "high": 600}),
    ({"bundles": pd.DataFrame({"bundle_id": ["Z"], "member_ids": [["A", "Q"]]})},
     r"Bundle 'Z' lists 'Q', which is not among the candidates", "plan.bundle_stranger",
     {"bundle_id": "Z", "compound_id": "Q"}),
    ({"bundles": pd.DataFrame({"bundle_id": ["Z", "W"], "member_ids": [["A", "B"], ["B", "C"]]})},
     r"Compound 'B' is in two bundles \('Z' and 'W'\)", "plan.bundle_overlap",
     {"compound_id": "B", "bundles": ["Z", "W"]}),
    ({"bundles": pd.DataFrame({"bundle_id": ["Z", "Z"], "member_ids": [["A", "B"], ["C", "D"]]})},
     r"`bundles` has duplicate bundle_id 'Z'\.", "plan.bundle_twice", {"bundle_id": "Z"}),
    ({"bundles": pd.DataFrame({"bundle_id": ["Z"], "member_ids": [[]]})},
     r"`bundles.member_ids` of 'Z' is empty; a bundle needs members\.", "plan.bundle_members", {"bundle_id": "Z"}),
    ({"bundles": pd.DataFrame({"bundle_id": ["Z"], "member_ids": [["A", "B"]], "saving_pct": [80.0]})},
     r"`bundles.saving_pct\['Z'\]` was 80.0 but must be a percentage between 0 and 50\.", "plan.percentage",
     {"setting": "saving_pct", "value": 80.0, "high": 50.0, "bundle_id": "Z"}),
    ({"county_budget_wan": {"370811": -1}}, r"`county_budget_wan\['370811'\]` was -1 but must be a number of 万元",
     "plan.county_budget", {"county_code": "370811", "value": -1}),
])
def test_bad_options_are_refused(change, message, code, params):
    frame = six()
    before = frame.copy()
    options = {"budget_wan": 1200, "year": YEAR, **change}
    with pytest.raises(InputError, match=message) as caught:
        build_plan(frame, **options)
    assert (caught.value.code, caught.value.params) == (code, params)
    pd.testing.assert_frame_equal(frame, before)  # nothing changed


@pytest.mark.parametrize(("change", "message", "code", "params"), [
    (lambda f: f.iloc[0:0], r"`candidates` is empty; there is nothing to plan", "plan.empty_pool", {}),
    (lambda f: f.assign(cost_wan=f["cost_wan"].where(~f["id"].isin(["B", "E"]))),
     r"`candidates.cost_wan` is missing for 2 compound\(s\), e.g. 'B'; fill in the estimated investment \(万元\) "
     r"or estimate it", "plan.cost_missing", {"n": 2, "compound_id": "B"}),
    (lambda f: f.assign(cost_wan=f["cost_wan"].mask(f["id"] == "C", 0)),
     r"`candidates.cost_wan` was 0.0 for 'C' but must be above 0\.", "plan.cost_not_positive",
     {"value": 0.0, "compound_id": "C"}),
    (lambda f: f.assign(households=f["households"].mask(f["id"] == "D", -3)),
     r"`candidates.households` was -3.0 for 'D' but must be ≥ 0\.", "plan.negative",
     {"column": "households", "value": -3.0, "compound_id": "D"}),
    (lambda f: f.assign(floor_area_m2=f["floor_area_m2"].astype(object).mask(f["id"] == "A", None)),
     r"`candidates.floor_area_m2` is missing for 'A'; fill it in first\.", "plan.value_missing",
     {"column": "floor_area_m2", "compound_id": "A"}),
    (lambda f: f.assign(households=f["households"].astype(object).mask(f["id"] == "B", "many")),
     r"`candidates.households` has non-numeric value 'many' \(compound 'B'\); use numbers\.", "plan.not_a_number",
     {"column": "households", "value": "many", "compound_id": "B"}),
    (lambda f: f.assign(willingness_pct=f["willingness_pct"].mask(f["id"] == "F", 120)),
     r"`candidates.willingness_pct` was 120.0 for 'F' but must be between 0 and 100 \(%\)\.", "plan.share_range",
     {"column": "willingness_pct", "value": 120.0, "compound_id": "F"}),
    (lambda f: pd.concat([f, f.iloc[[0]]]), r"`candidates` has duplicate id 'A'", "plan.duplicate_id",
     {"compound_id": "A"}),
    (lambda f: f.drop(columns="cost_wan"), r"`candidates` lacks the column\(s\) \['cost_wan'\]", "input", {}),
])
def test_bad_candidates_are_refused(change, message, code, params):
    frame = change(six())
    before = frame.copy()
    with pytest.raises(InputError, match=message) as caught:
        build_plan(frame, budget_wan=100, year=YEAR)
    assert (caught.value.code, caught.value.params) == (code, params)
    pd.testing.assert_frame_equal(frame, before)


def test_bad_costs_and_bundle_options_are_refused():
    with pytest.raises(InputError, match=r"`unit_cost_yuan_per_m2\['提升类'\]` was 0 but must be") as caught:
        estimate_costs(six(), unit_cost_yuan_per_m2={"基础类": 260, "提升类": 0})
    assert (caught.value.code, caught.value.params) == ("plan.unit_cost", {"tier": "提升类", "value": 0})
    with pytest.raises(InputError, match=r"`saving_pct` was -1 but must be a percentage between 0 and 50\.") as caught:
        bundles_by_area(six(), by="street", saving_pct=-1)
    assert caught.value.code == "plan.percentage" and caught.value.params["setting"] == "saving_pct"


def test_pool_without_eligible_candidates_gives_an_empty_plan_with_reasons():
    frame = six().assign(built_year=2010)
    plan = build_plan(frame, budget_wan=1000, year=YEAR)
    assert plan.chosen.empty and plan.status == "optimal"
    assert (plan.rejected["reason"] == "built_after_cutoff").all() and len(plan.rejected) == 6
