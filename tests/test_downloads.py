"""Every table download on every page builds its file (CSV and XLSX), on the demo and on a database with
missing values; missing values are empty cells; a failed build is said to the user, in their language."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import streamlit as st

from analytics import settings, store
from analytics.services import auth
from dashboard.auth_ui import TOKEN_KEY
from tests.page_helpers import download_files, open_page, record_downloads, rerun

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
TABLE_FILES = (".csv", ".xlsx")

# nullable columns emptied in about every third row (by a hash of the key column): what an office's data holds
KEYS = {"compounds": "id", "buildings": "id", "progress_reports": "compound_id", "facilities": "id", "parcels": "id",
        "annual_plans": "county_code"}
MISSING = {
    "compounds": ("street", "community", "max_floors", "has_elevator", "planned_start_date",
                  "planned_completion_date", "invest_planned_wan", "invest_done_wan", "willingness_pct",
                  "contributing_pct", "tier", "items", "n_buildings"),
    "buildings": ("floor_area_m2", "has_elevator", "built_year"),
    "progress_reports": ("invest_done_wan", "elevators_added", "parking_spaces", "chargers", "facilities_added",
                         "pipes_km", "approved_date"),
    "facilities": ("name", "floor_area_m2"),
    "parcels": ("ownership", "land_use", "note"),
    "annual_plans": ("invest_planned_wan",),
}


@pytest.fixture(scope="module")
def gappy_db(demo_db_path, tmp_path_factory) -> Path:
    """A copy of the demo database with the nullable columns of every third row empty."""
    path = tmp_path_factory.mktemp("gappy") / "gappy.duckdb"
    path.write_bytes(demo_db_path.read_bytes())
    con = store.connect(path)
    # the newest batch becomes the candidate pool, so that 年度计划编制 builds a plan and its workbook
    con.execute("""UPDATE compounds SET plan_year = NULL, status = '未开工', approved_date = NULL, start_date = NULL,
                       completion_date = NULL, project_id = NULL
                   WHERE id IN (SELECT id FROM compounds ORDER BY plan_year DESC, id LIMIT 120)""")
    auth.create_user(con, "admin1", "admin-password-1", role="admin", actor=auth.User("setup", "admin"))
    for table, columns in MISSING.items():
        sets = ", ".join(f"{c} = NULL" for c in columns)
        con.execute(f"UPDATE {table} SET {sets} WHERE hash({KEYS[table]}) % 3 = 0")
    con.execute("CHECKPOINT")
    con.close()
    return path


def _check_files(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        if name.endswith(".xlsx"):
            workbook = openpyxl.load_workbook(io.BytesIO(data))
            first = workbook.worksheets[0]
            assert first.max_row >= 1 and first.cell(1, 1).value, name
        else:
            text = data.decode("utf-8-sig")
            assert text.split("\r\n")[0], name
            assert "<NA>" not in text and ",nan," not in text.lower() and "NaT" not in text, name


def _all_downloads(page: str, monkeypatch, *, admin_of: Path | None = None) -> dict[str, bytes]:
    """The table files of every download button on ``page`` (signed in as ``admin1`` of ``admin_of``)."""
    made = record_downloads(monkeypatch)
    session = {}
    if admin_of is not None:
        con = store.connect(admin_of)
        session[TOKEN_KEY] = auth.start_session(con, auth.get_user(con, "admin1"))
        con.close()
    at = open_page(page, session=session)
    files = download_files(at, made, suffixes=TABLE_FILES)
    if page == "pages/progress.py":  # the monthly view has its own ranking
        at.radio(key="period").set_value("month")
        rerun(at)
        files |= download_files(at, made, suffixes=TABLE_FILES)
    return files


@pytest.mark.parametrize("page", PAGES)
def test_every_table_download_builds_on_the_demo(page, demo_db_path, monkeypatch):
    files = _all_downloads(page, monkeypatch)
    _check_files(files)


@pytest.mark.parametrize("page", PAGES)
def test_every_table_download_builds_with_missing_values(page, gappy_db, monkeypatch):
    monkeypatch.setattr(settings, "DB_PATH", gappy_db)
    st.cache_data.clear()
    try:
        files = _all_downloads(page, monkeypatch, admin_of=gappy_db)
    finally:
        st.cache_data.clear()
    _check_files(files)
    if page in ("pages/admin.py", "pages/data.py", "pages/plan.py"):  # signed in / with a pool: files to make
        assert files, page


def test_ranking_workbooks_leave_units_without_a_task_blank(demo_db_path, monkeypatch):
    """The weekly and monthly rankings of 县区进度 (units without a task have no rank): the workbook holds
    the table as shown, with empty cells where the page shows none."""
    made = record_downloads(monkeypatch)
    at = open_page("pages/progress.py")
    for period in ("week", "month"):
        at.radio(key="period").set_value(period)
        rerun(at)
        shown = next(d.value for d in at.dataframe if "排名" in d.value.columns)
        files = download_files(at, made, suffixes=(".xlsx",))
        name = next(n for n in files if n.startswith("progress_ranking_"))
        ws = openpyxl.load_workbook(io.BytesIO(files[name])).worksheets[0]
        headers = [c.value for c in ws[1]]
        rank = [ws.cell(r, headers.index("排名") + 1).value for r in range(2, ws.max_row + 1)]
        assert len(rank) == len(shown)
        assert [None if pd.isna(v) else int(v) for v in shown["排名"]] == rank
        assert None in rank  # a unit without a task (and the city row) has no rank
