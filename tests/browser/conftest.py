"""Fixtures of the browser suite: a private demo database, the dashboard server, Chromium, a guarded tab.

The machinery lives in ``harness.py`` (also used by the concurrency tests).
"""

from __future__ import annotations

import fcntl
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DRAWN_JS,
    RUN_COUNTER_JS,
    VIEWPORT,
    AppPage,
    Server,
    chromium_missing_reason,
    copy_database,
    is_local,
    start_streamlit,
    stop_streamlit,
)

from analytics import store


@pytest.fixture(scope="session")
def machine_turn() -> Iterator[None]:
    """Browser runs on one machine take turns (a file lock in the temp dir).

    Each run starts a server and up to twenty Chromium sessions; two runs side by side on a small machine
    starve each other's servers into timeouts. A second run waits here, saying so, until the first ends.
    """
    with (Path(tempfile.gettempdir()) / "jiugai-browser-tests.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.__stderr__.write("\nwaiting for another browser test run on this machine to finish ...\n")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def pristine_db(machine_turn, tmp_path_factory) -> Path:
    """A freshly built demo database nobody opens; copy it with :func:`copy_database` for each server."""
    return store.build_demo_database(tmp_path_factory.mktemp("browser-db") / "pristine.duckdb")


@pytest.fixture(scope="session")
def current_year(pristine_db) -> int:
    """The year the dashboard opens on: that of the latest stored weekly report, read from the data."""
    con = store.connect(pristine_db, read_only=True)
    try:
        return int(con.execute("SELECT year(max(report_date)) FROM progress_reports").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="session")
def browser_db(pristine_db) -> Path:
    """The session server's private demo database (a running server holds its file open read-write)."""
    return copy_database(pristine_db, pristine_db.with_name("server.duckdb"))


@pytest.fixture(scope="session")
def server(browser_db, tmp_path_factory) -> Iterator[Server]:
    """``streamlit run app.py`` on a free port against the private demo database, for the whole session."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    running = start_streamlit(browser_db, ARTIFACTS / "browser" / "streamlit.log")
    yield running
    stop_streamlit(running)


# ----------------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def headless_chromium(machine_turn) -> Iterator:
    """One headless Chromium for the session, with or without a dashboard server.

    One only: Playwright's synchronous API holds the thread's event loop while it is open, so a second one
    (or ``asyncio.run``) in the same thread fails for the rest of the run.
    """
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser(server, headless_chromium) -> Iterator:
    """The session's headless Chromium, once the dashboard server runs."""
    yield headless_chromium


@contextmanager
def guarded_tab(browser, server: Server, **device) -> Iterator[AppPage]:
    """A browser context and tab on ``server``; every request outside localhost is aborted and recorded.

    ``device`` overrides the context's options (``viewport``, ``is_mobile``, ``user_agent``, ...): a phone.
    """
    options = {"viewport": VIEWPORT, "accept_downloads": True, "locale": "zh-CN", **device}
    context = browser.new_context(**options)
    tab = AppPage(page=None, server=server, log_offset=len(server.log_text()))

    def guard(route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            tab.blocked.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.add_init_script(RUN_COUNTER_JS)
    context.add_init_script(DRAWN_JS)  # harness.time_until_drawn
    tab.page = context.new_page()
    tab.page.on("pageerror", lambda exc: tab.page_errors.append(str(exc)))
    tab.page.on("response", lambda response: response.status >= 400 and tab.http_errors.append(
        f"{response.status} {response.url}"))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def app(browser, server) -> Iterator[AppPage]:
    """A fresh tab of its own (a new user session) for one test."""
    with guarded_tab(browser, server) as tab:
        yield tab


@pytest.fixture(scope="module")
def tour(browser, server) -> Iterator[AppPage]:
    """One tab shared by a module's tests, moving from page to page through the sidebar like a user does."""
    with guarded_tab(browser, server) as tab:
        yield tab
