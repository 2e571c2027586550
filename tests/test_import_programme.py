"""The programme's tables in and out of the two-step import: the candidate pool (compounds without a plan
year), annual targets, projects, money flows, after-care and supervision findings — known rows stored,
row reports pinned, undo back to the exact rows."""

from __future__ import annotations

import pytest

from analytics import store
from analytics.importing import importer
from tests.import_corpus import ADMIN, attribute_table, csv_bytes, xlsx_bytes


@pytest.fixture
def con():
    connection = store.connect(":memory:")
    yield connection
    connection.close()


def _rows(con, table: str, columns: str) -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()


# ------------------------------------------------------------------------------------------ candidates
def test_inventory_without_plan_year_column_is_a_candidate_pool(con):
    """A county's inventory without a plan-year column is accepted: every compound is a candidate."""
    frame = attribute_table("lonlat").drop(columns=["计划年度"])
    preview = importer.prepare(csv_bytes(frame), "储备库.csv", kind="compounds", user=ADMIN)
    assert preview.n_valid == 3 and preview.error is None
    notes = preview.problems[preview.problems.code == "candidates"]
    assert notes[["field", "value", "severity"]].values.tolist() == [["plan_year", "3", "warning"]]
    assert notes["row"].isna().all()
    importer.commit(con, preview, user=ADMIN)
    assert _rows(con, "compounds", "id, plan_year, households") == [
        ("JN-001", None, 120), ("JN-002", None, 80), ("JN-003", None, 200)]
    assert con.execute("SELECT count(*) FROM annual_plans").fetchone()[0] == 0  # in no year's plan


def test_empty_plan_years_are_candidates_beside_planned_ones(con):
    frame = attribute_table("lonlat")
    frame["计划年度"] = [2021, None, ""]
    preview = importer.prepare(xlsx_bytes(frame), "inventory.xlsx", kind="compounds", user=ADMIN)
    assert preview.n_invalid == 0
    assert preview.problems.loc[preview.problems.code == "candidates", "value"].tolist() == ["2"]
    importer.commit(con, preview, user=ADMIN)
    assert _rows(con, "compounds", "id, plan_year") == [("JN-001", 2021), ("JN-002", None), ("JN-003", None)]
    assert _rows(con, "annual_plans", "plan_year, county_code, compounds, households") == [(2021, "370811", 1, 120)]
    importer.undo_last_import(con, user=ADMIN)
    assert con.execute("SELECT count(*) FROM compounds").fetchone()[0] == 0


def test_a_bad_plan_year_is_still_an_error_not_a_candidate(con):
    frame = attribute_table("lonlat")
    frame["计划年度"] = [2021, "明年", 1890]
    preview = importer.prepare(csv_bytes(frame), "bad.csv", kind="compounds", user=ADMIN)
    errors = preview.problems[preview.problems.severity == "error"]
    assert errors[["row", "field", "code"]].values.tolist() == [
        [3, "plan_year", "not_a_number"], [4, "plan_year", "out_of_range"]]
    assert "candidates" not in set(preview.problems.code)
