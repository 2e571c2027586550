"""Guards that keep the layout: nothing under ``analytics/`` imports Streamlit or the dashboard."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from analytics import settings

ANALYTICS = Path(settings.ROOT_DIR) / "analytics"
UI_PACKAGES = ("streamlit", "streamlit_folium", "dashboard", "pages", "folium")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (top level, inside functions and under TYPE_CHECKING alike)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_analytics_module_imports_the_ui():
    files = sorted(ANALYTICS.rglob("*.py"))
    assert len(files) > 30
    offending = {
        str(path.relative_to(ANALYTICS.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] in UI_PACKAGES)
        for path in files
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_guard_sees_an_import_hidden_in_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import streamlit as st\n    from dashboard.labels import t\n", encoding="utf-8")
    assert imported_modules(sample) == {"streamlit", "dashboard.labels"}


def test_importing_every_analytics_module_loads_no_ui_package():
    code = (
        "import importlib, pkgutil, sys\n"
        "import analytics\n"
        "for m in pkgutil.walk_packages(analytics.__path__, 'analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {UI_PACKAGES!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ANALYTICS.parent, capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip() == "[]"
