"""Helpers shared by the tests that drive the app's pages with streamlit's ``AppTest``."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from analytics import settings, store
from analytics.services import auth
from dashboard.auth_ui import TOKEN_KEY

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def open_page(page: str, *, query: dict | None = None, session: dict | None = None, clean: bool = True) -> AppTest:
    """The whole app, switched to ``page`` (a path such as ``"pages/funding.py"``).

    ``query`` is the link's query string, there from the first run (as when a copied link is opened);
    ``session`` sets session values before the page runs (e.g. the sidebar's ``lang``, ``as_of``,
    ``basemap``: because the repository has a ``pages/`` folder, AppTest runs only the page script after
    ``switch_page``, not app.py). With ``clean`` the page must show no error box either; without it only
    an exception fails (for a page expected to explain bad input). A ``session`` ``as_of`` also goes in the
    link as ``week=``, so the sidebar's year and week lists open on it (a week of another year is not among the
    first run's week options).
    """
    at = AppTest.from_file(str(APP), default_timeout=120)
    query = dict(query or {})
    if session and "as_of" in session:
        query.setdefault("week", session["as_of"])
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    if clean:
        assert_clean(at)
    else:
        assert not at.exception, at.exception
    return at


def rerun(at: AppTest, **session) -> AppTest:
    """Run again with ``session`` values set first; no exception and no error box."""
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page that has ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def plotly_values(array) -> list:
    """A plotly trace array as a list (plotly serialises numeric arrays as base64 ``bdata``)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def build_accounts_db(path: Path, *, admin_password: str, editor_password: str, actor: auth.User) -> Path:
    """A demo database at ``path`` with an administrator ``admin1`` and a 任城区 county editor ``rencheng``."""
    con = store.connect(path)
    auth.create_user(con, "admin1", admin_password, role="admin", actor=actor)
    auth.create_user(con, "rencheng", editor_password, role="county_editor", county_code="370811", actor=actor)
    con.execute("CHECKPOINT")
    con.close()
    return path


def use_copy(template: Path, path: Path, monkeypatch) -> Path:
    """A private copy of ``template`` at ``path`` that the app under test opens."""
    shutil.copy(template, path)
    monkeypatch.setattr(settings, "DB_PATH", path)
    return path


def sign_in_session(at: AppTest, db: Path, username: str | None) -> AppTest:
    """``at`` with a session of ``username`` started on the server (none for ``None``)."""
    if username:
        con = store.connect(db)
        try:
            at.session_state[TOKEN_KEY] = auth.start_session(con, auth.get_user(con, username))
        finally:
            con.close()
    return at


def without_reports(path: Path, monkeypatch) -> Iterator[Path]:
    """For a fixture to ``yield from``: a demo database at ``path`` with no progress report, opened by the app.

    Streamlit's data cache is cleared before and after: cached frames are keyed on the data version, which
    this database shares with the demo database.
    """
    con = store.connect(path)
    con.execute("DELETE FROM progress_reports")
    con.close()
    monkeypatch.setattr(settings, "DB_PATH", path)
    st.cache_data.clear()
    yield path
    st.cache_data.clear()


def record_downloads(monkeypatch) -> dict[str, dict]:
    """Keep each deferred download a page registers (``{file id: {"make": callable, "file_name": …}}``).

    A download button's file is made only when it is clicked; with this, a test can click it: take the
    button's ``proto.deferred_file_id`` and call ``make`` (see :func:`download_files`).
    """
    made: dict[str, dict] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        file_id = original(self, data_callable, mimetype, coordinates, file_name, **kwargs)
        made[file_id] = {"make": data_callable, "file_name": file_name, "mimetype": mimetype}
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def download_files(at: AppTest, made: dict[str, dict], *, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """Click every enabled download button on the page whose file name ends in one of ``suffixes``:
    ``{file name: the bytes it downloads}`` (a failure to build a file raises)."""
    files: dict[str, bytes] = {}
    for button in at.get("download_button"):
        proto = button.proto
        if proto.disabled or not proto.deferred_file_id:
            continue
        entry = made[proto.deferred_file_id]
        if str(entry["file_name"]).endswith(suffixes):
            files[entry["file_name"]] = entry["make"]()
    return files


def chart_title(fig) -> str:
    """A chart's title: a page draws it above the figure (``charts.for_screen`` keeps it in the figure's
    meta), a figure shown as it is (the bulletin's preview) has it inside."""
    meta = fig.layout.meta
    return str((meta.get("title") if isinstance(meta, dict) else None) or fig.layout.title.text or "")
