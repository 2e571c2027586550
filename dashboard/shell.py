"""Make sure every page runs inside the app shell (navigation and sidebar from app.py).

Streamlit treats a folder called ``pages/`` next to the main script as its older multipage mode until the
first ``st.navigation`` call of the process. So the very first visit to a server through a deep link
(``/idle_land``) runs ``pages/idle_land.py`` by itself: no sidebar, navigation entries named after the
files. app.py marks the time it runs a page; a page that finds itself running without that mark runs
app.py instead (which runs the page again, inside the shell) and stops.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics import settings

APP_PATH = settings.ROOT_DIR / "app.py"
_running = threading.local()  # each session's script runs in its own thread


@contextmanager
def shell_running() -> Iterator[None]:
    """Mark the app shell as running around ``navigation.run()`` in app.py."""
    _running.active = True
    try:
        yield
    finally:
        _running.active = False


def ensure() -> None:
    """Called first by every page: outside the shell, run app.py (which runs this page) and stop here.

    A page file run as the main script itself (``streamlit run pages/data.py``, a page test) runs as is.
    """
    if getattr(_running, "active", False):
        return
    ctx = get_script_run_ctx()
    if ctx is None or Path(ctx.main_script_path).resolve() != APP_PATH:
        return
    runpy.run_path(str(APP_PATH), run_name="__main__")
    st.stop()
