"""Adopting a plan as plan year N: exactly the chosen compounds get N, targets and list totals follow the plan,
bundles become projects, one audit row, undo restores every table exactly; refusals change nothing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics import settings, store
from analytics.errors import DataError, InputError, PermissionDenied
from analytics.importing import importer
from analytics.planning import build_plan, bundles_by_area, candidate_pool
from analytics.services.adoption import adopt_plan, adoption_preview
from tests.import_corpus import ADMIN, EDITOR_RENCHENG, VIEWER, copy_database

YEAR = 2027
TABLES = ("compounds", "annual_targets", "annual_plans", "projects")


@pytest.fixture
def con(demo_db_path, tmp_path):
    """A copy of the demo database where 40 more compounds are candidates (no plan year, not started)."""
    connection = store.connect(copy_database(demo_db_path, tmp_path / "db.duckdb"))
    connection.execute(
        """UPDATE compounds SET plan_year = NULL, status = '未开工', approved_date = NULL, start_date = NULL,
               completion_date = NULL, planned_start_date = NULL, planned_completion_date = NULL,
               project_id = NULL, willingness_pct = greatest(coalesce(willingness_pct, 80), 70),
               demolition_planned = false
           WHERE id IN (SELECT id FROM compounds ORDER BY id LIMIT 40)"""
    )
    yield connection
    connection.close()


def _rows(con, table: str) -> list[tuple]:
    columns = [c for c in store.table_columns(con, table) if c != "geom"]
    order = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"SELECT {order} FROM {table} ORDER BY {order}").fetchall()


def _plan(con, budget_wan: float = 6_000):
    pool = candidate_pool(con, year=YEAR)
    return build_plan(pool, budget_wan=budget_wan, year=YEAR, bundles=bundles_by_area(pool, by="street"),
                      min_county_share=0, time_limit_s=20, bundle_rule="whole")


def test_adopt_writes_exactly_the_plan_and_undo_restores_everything(con):
    plan = _plan(con)
    assert len(plan.chosen) >= 5 and plan.bundles["taken"].any()  # the fixture gives a plan worth adopting
    before = {table: _rows(con, table) for table in TABLES}
    result = adopt_plan(con, plan, year=YEAR, user=ADMIN)

    chosen = set(plan.chosen["id"])
    in_year = set(con.execute("SELECT id FROM compounds WHERE plan_year = ?", [YEAR]).fetchdf()["id"])
    assert in_year == chosen
    assert result.compounds_planned == len(chosen) and result.compounds_returned == 0
    dates = con.execute("SELECT DISTINCT planned_start_date, planned_completion_date FROM compounds "
                        "WHERE plan_year = ?", [YEAR]).fetchall()
    assert dates == [(date(YEAR, 4, 1), date(YEAR, 12, 31))]

    # the year's targets are the plan's totals, per county and for the city
    targets = con.execute("SELECT unit_code, compounds, households, floor_area_m2, investment_wan, source "
                          "FROM annual_targets WHERE year = ? ORDER BY unit_code", [YEAR]).fetchdf()
    totals = plan.totals[plan.totals["compounds"] > 0].sort_values("unit_code")
    assert targets["unit_code"].tolist() == totals["unit_code"].tolist()
    assert targets["compounds"].tolist() == totals["compounds"].tolist()
    assert targets["households"].tolist() == totals["households"].round().astype(int).tolist()
    assert targets["investment_wan"].tolist() == pytest.approx(totals["net_cost_wan"].tolist(), abs=0.01)
    assert set(targets["source"]) == {"年度计划编制"}
    assert result.targets_written == len(targets) and not result.targets_kept

    # the list's totals follow the compounds
    plans = con.execute("SELECT county_code, compounds, households FROM annual_plans WHERE plan_year = ? "
                        "ORDER BY county_code", [YEAR]).fetchdf()
    by_county = plan.chosen.groupby("county_code").agg(compounds=("id", "size"), households=("households", "sum"))
    assert plans.set_index("county_code")["compounds"].to_dict() == by_county["compounds"].to_dict()
    assert plans.set_index("county_code")["households"].to_dict() == by_county["households"].to_dict()

    # every bundle taken is one project holding exactly its members
    taken = plan.chosen[plan.chosen["bundle_id"].map(lambda b: isinstance(b, str))]
    projects = con.execute("SELECT id, delivery_model, year FROM projects WHERE year = ?", [YEAR]).fetchdf()
    assert sorted(projects["id"]) == sorted(f"{YEAR}-{b}" for b in taken["bundle_id"].unique())
    assert set(projects["delivery_model"]) == {"打包"}
    members = con.execute("SELECT id, project_id FROM compounds WHERE project_id LIKE ?", [f"{YEAR}-%"]).fetchdf()
    assert dict(zip(members["id"], members["project_id"])) == {
        i: f"{YEAR}-{b}" for i, b in zip(taken["id"], taken["bundle_id"])}

    # recorded once, undoable through the existing undo
    log = con.execute("SELECT action, username, rows_in, file_name FROM audit_log WHERE id = ?",
                      [result.audit_id]).fetchone()
    assert log == ("adopt_plan", "admin", len(chosen), f"{YEAR}年度改造计划")
    assert importer.undo_candidate(con)["import_id"] == result.audit_id
    assert importer.import_history(con)["action"].iloc[0] == "adopt_plan"
    undo = importer.undo_last_import(con, user=ADMIN)
    assert undo.undone_import_id == result.audit_id and undo.action == "adopt_plan"
    assert {table: _rows(con, table) for table in TABLES} == before


def test_existing_targets_are_kept_unless_replaced(con):
    con.execute("INSERT INTO annual_targets (year, unit_code, compounds, households, source) "
                "VALUES (?, ?, 70, 25000, '省下达')", [YEAR, settings.CITY_UNIT_CODE])
    plan = _plan(con)
    preview = adoption_preview(con, plan, year=YEAR)
    assert preview.existing_targets["source"].tolist() == ["省下达"]
    kept = adopt_plan(con, plan, year=YEAR, user=ADMIN)
    assert kept.targets_kept and kept.targets_written == 0
    assert con.execute("SELECT compounds, households, source FROM annual_targets WHERE year = ?",
                       [YEAR]).fetchall() == [(70, 25000, "省下达")]
    importer.undo_last_import(con, user=ADMIN)
    replaced = adopt_plan(con, plan, year=YEAR, user=ADMIN, replace_targets=True)
    assert not replaced.targets_kept
    assert con.execute("SELECT count(*) FROM annual_targets WHERE year = ? AND source = '省下达'",
                       [YEAR]).fetchone()[0] == 0


def test_readoption_returns_left_out_compounds_to_the_pool(con):
    first = _plan(con, budget_wan=6_000)
    adopt_plan(con, first, year=YEAR, user=ADMIN)
    smaller = _plan(con, budget_wan=2_000)  # the pool still holds this year's compounds
    preview = adoption_preview(con, smaller, year=YEAR)
    left_out = set(first.chosen["id"]) - set(smaller.chosen["id"])
    assert left_out and set(preview.removed_ids) == left_out
    result = adopt_plan(con, smaller, year=YEAR, user=ADMIN)
    assert result.compounds_returned == len(left_out)
    back = con.execute("SELECT id, plan_year, project_id FROM compounds WHERE list_contains(?, id)",
                       [sorted(left_out)]).fetchdf()
    assert back["plan_year"].isna().all() and back["project_id"].isna().all()
    assert set(con.execute("SELECT id FROM compounds WHERE plan_year = ?", [YEAR]).fetchdf()["id"]) == set(
        smaller.chosen["id"])


@pytest.mark.parametrize("user", [None, VIEWER, EDITOR_RENCHENG])
def test_only_an_admin_may_adopt(con, user):
    plan = _plan(con)
    before = {table: _rows(con, table) for table in TABLES}
    with pytest.raises(PermissionDenied, match="nothing was changed"):
        adopt_plan(con, plan, year=YEAR, user=user)
    assert {table: _rows(con, table) for table in TABLES} == before


def test_a_stale_plan_is_refused_and_nothing_changes(con):
    plan = _plan(con)
    gone = plan.chosen["id"].iloc[0]
    con.execute("UPDATE compounds SET plan_year = 2026 WHERE id = ?", [gone])  # planned elsewhere meanwhile
    before = {table: _rows(con, table) for table in TABLES}
    with pytest.raises(DataError, match=rf"1 chosen compound\(s\) are no longer candidates \(e.g. '{gone}': plan "
                                        r"year 2026.*build the plan again — nothing was changed\."):
        adopt_plan(con, plan, year=YEAR, user=ADMIN)
    assert {table: _rows(con, table) for table in TABLES} == before


def test_an_empty_plan_is_not_adopted(con):
    pool = candidate_pool(con, year=YEAR)
    plan = build_plan(pool, budget_wan=0.01, year=YEAR, min_county_share=0)
    assert plan.chosen.empty
    with pytest.raises(InputError, match=r"The plan chooses no compound; there is nothing to adopt\."):
        adopt_plan(con, plan, year=YEAR, user=ADMIN)
    with pytest.raises(InputError, match=r"`year` was 1990 but must be a plan year"):
        adoption_preview(con, _plan(con), year=1990)


def test_candidate_pool_is_unplanned_or_future(con):
    con.execute("UPDATE compounds SET plan_year = 2028 WHERE id = (SELECT max(id) FROM compounds)")
    pool = candidate_pool(con, year=YEAR)
    stored = con.execute("SELECT id, plan_year FROM compounds").fetchdf()
    expected = stored[stored["plan_year"].isna() | (stored["plan_year"] >= YEAR)]
    assert sorted(pool["id"]) == sorted(expected["id"])
    assert pool.crs.to_epsg() == settings.ANALYSIS_CRS
    assert pool["cost_wan"].notna().all() and (pool["cost_wan"] > 0).all()
    assert isinstance(pool, pd.DataFrame)


def test_targets_count_a_zone_compound_in_its_zone_as_progress_does(con):
    con.execute(
        """UPDATE compounds SET plan_year = NULL, status = '未开工', approved_date = NULL, start_date = NULL,
               completion_date = NULL, project_id = NULL, willingness_pct = 90, demolition_planned = false,
               built_year = 1995
           WHERE id IN (SELECT id FROM compounds WHERE zone_code IS NOT NULL ORDER BY id LIMIT 6)"""
    )
    plan = _plan(con, budget_wan=50_000)
    assert plan.chosen["zone_code"].notna().sum() >= 2  # the fixture puts zone compounds in the plan
    adopt_plan(con, plan, year=YEAR, user=ADMIN)
    targets = con.execute("SELECT unit_code, compounds, households FROM annual_targets WHERE year = ? AND "
                          "unit_code <> ? ORDER BY unit_code", [YEAR, settings.CITY_UNIT_CODE]).fetchall()
    # the units progress measures the year's list in: a zone compound in its zone, every other in its county
    planned = con.execute(
        """SELECT coalesce(zone_code, county_code) AS unit_code, count(*), sum(households) FROM compounds
           WHERE plan_year = ? GROUP BY 1 ORDER BY 1""", [YEAR]).fetchall()
    assert targets == planned
    assert any(code.startswith("Z") for code, _, _ in targets)
