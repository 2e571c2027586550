"""Every page opens on the demo data without an exception or an error box."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import page_paths

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.mark.parametrize("path", page_paths())
def test_page_opens(path, demo_db_path):
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    at.switch_page(path).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title, "page shows no title"
