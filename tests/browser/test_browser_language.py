"""The language switch as a user meets it: every option follows the language, the choices stay, the URL keeps codes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from analytics import settings

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")


def switch_language(app, label: str) -> None:
    mark = app.runs()
    app.page.locator('[data-testid="stSidebar"] [data-testid="stRadio"] label').filter(has_text=label).click()
    app.wait_rerun(mark)


def options_of(app, key: str) -> list[str]:
    """The labels the selectbox ``key`` offers (its list opened and closed again)."""
    box = app.widget(key).locator('input[role="combobox"]')
    box.click()
    app.page.locator('[role="listbox"] [role="option"]').first.wait_for()
    labels = app.page.locator('[role="listbox"] [role="option"]').all_inner_texts()
    app.page.keyboard.press("Escape")
    app.page.wait_for_timeout(200)
    return [label.strip() for label in labels]


def url_query(app) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(app.page.url).query).items()}


def test_english_options_and_selection_kept_across_switches(app):
    app.open("")
    app.select("county", "太白湖新区")
    app.select("indicator", "开工率（按户数）")
    app.select("basemap", "OpenStreetMap（需联网）")
    chosen = url_query(app)
    assert chosen["county"] == "Z02" and chosen["indicator"] == "start_rate_households" and chosen["basemap"] == "osm", chosen

    switch_language(app, "English")
    for key in ("county", "indicator", "basemap"):
        shown = [app.selected(key), *options_of(app, key)]
        assert not any(HAN.search(label) for label in shown), (key, shown)
    assert app.selected("county") == settings.FUNCTION_ZONES["Z02"][1]
    assert app.selected("indicator") == "Start rate (households)"
    assert url_query(app) | {"lang": "zh"} == chosen | {"lang": "zh"}

    switch_language(app, "中文")
    assert app.selected("county") == "太白湖新区"
    assert app.selected("indicator") == "开工率（按户数）"
    assert url_query(app) == chosen | {"lang": "zh"}
    assert all(not HAN.search(value) for value in url_query(app).values()), url_query(app)
    app.blocked[:] = [url for url in app.blocked if "openstreetmap.org" not in url]  # the chosen basemap's tiles
    app.assert_clean()
