"""Every page in headless Chromium with the network cut: it draws, shows no error, fetches nothing outside."""

from __future__ import annotations

import pytest
from harness import copy_database, start_streamlit, stop_streamlit
from playwright.sync_api import expect

from dashboard.labels import t
from dashboard.navigation import PAGES

pytestmark = pytest.mark.browser

PAGE_TITLES = [(slug, title_key) for group in PAGES.values() for _, title_key, _, slug in group]
DEFAULT_SLUG = PAGE_TITLES[0][0]


def heading(app):
    return app.page.locator('[data-testid="stMain"] h1').first


@pytest.mark.parametrize(("slug", "title_key"), PAGE_TITLES, ids=[slug for slug, _ in PAGE_TITLES])
def test_page_renders_offline(tour, slug, title_key):
    tour.visit("" if slug == DEFAULT_SLUG else slug)
    expect(heading(tour)).to_have_text(t(title_key, lang="zh"))
    tour.screenshot(slug)
    tour.assert_clean()


def test_english_from_the_url(app):
    app.open("", lang="en")
    expect(heading(app)).to_have_text(t("page.overview", lang="en"))
    sidebar = app.page.locator('[data-testid="stSidebar"]').inner_text()
    assert t("sidebar.demo_badge", lang="en") in sidebar
    app.screenshot("overview-en")
    app.assert_clean()


def test_deep_link_opens_inside_the_app_shell(app, pristine_db, tmp_path):
    """A shared link to a page, opened as the first visit after a restart, shows the page in its shell."""
    fresh = start_streamlit(copy_database(pristine_db, tmp_path / "fresh.duckdb"), tmp_path / "streamlit.log")
    try:
        app.server = fresh
        slug, title_key = PAGE_TITLES[1]
        app.goto(slug, lang="en")
        expect(heading(app)).to_have_text(t(title_key, lang="en"))
        app.assert_shell()
        app.goto(DEFAULT_SLUG)
        app.goto(slug, lang="en")
        expect(heading(app)).to_have_text(t(title_key, lang="en"))
        app.assert_shell()
    finally:
        stop_streamlit(fresh)
