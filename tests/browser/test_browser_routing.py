"""Links to pages: every page's slug opens that page (the default page's too) with no dialog, in the language
the link asks for — navigation included — and the browser tab names the page."""

from __future__ import annotations

import pytest

from dashboard.labels import t
from dashboard.navigation import DEFAULT_SLUG, PAGES

pytestmark = pytest.mark.browser

PAGE_TITLES = [(slug, title_key) for group in PAGES.values() for _, title_key, _, slug in group]
NAV_TITLES = [title_key for _, title_key in PAGE_TITLES]


# Each navigation entry's label, the current one marked with "*".
NAV_JS = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]')]
    .map(a => (a.getAttribute('aria-current') === 'page' ? '*' : '') + a.querySelector('span[label]').getAttribute('label'))"""


def shown_page(app) -> dict:
    """What the tab shows: its title, the page heading, dialogs, and the navigation's entries."""
    app.page.wait_for_timeout(300)  # a "page not found" dialog arrives with the navigation message
    return {
        "tab": app.page.title(),
        "heading": app.page.locator('[data-testid="stMain"] h1').first.inner_text().strip(),
        "dialogs": app.page.locator('[role="dialog"]').all_inner_texts(),
        "nav": app.page.evaluate(NAV_JS),
    }


def assert_clean(app) -> None:
    """:meth:`AppPage.assert_clean`, except for Streamlit's own probes of a deep link's path as a base path.

    Loaded at ``/<slug>``, Streamlit's page first asks ``/<slug>/_stcore/health`` (and ``host-config``) in
    case the app is served under that prefix, then the root; those two 404s are how it finds its server.
    """
    probes = {f"404 {app.server.url}/{slug}/_stcore/{what}" for slug, _ in PAGE_TITLES for what in ("health", "host-config")}
    app.http_errors[:] = [error for error in app.http_errors if error not in probes]
    app.assert_clean()


def expected(title_key: str, lang: str) -> dict:
    return {
        "tab": t("app.tab_title", lang=lang, page=t(title_key, lang=lang)),
        "heading": t(title_key, lang=lang),
        "dialogs": [],
        "nav": [("*" if key == title_key else "") + t(key, lang=lang) for key in NAV_TITLES],
    }


def test_default_page_opens_by_its_own_slug(app):
    app.goto(DEFAULT_SLUG)
    assert shown_page(app) == expected("page.overview", "zh")
    app.assert_shell()
    assert_clean(app)


def test_every_page_link_opens_that_page_in_the_language_it_asks_for(app):
    """Each slug as a fresh visit (a bookmark, a link in a message), ``?lang=en`` and ``?lang=zh`` by turns."""
    for n, (slug, title_key) in enumerate(PAGE_TITLES):
        lang = "en" if n % 2 == 0 else "zh"
        app.goto(slug, lang=lang)
        assert shown_page(app) == expected(title_key, lang), slug
        app.assert_shell()
    assert_clean(app)


def test_progress_in_english_from_a_link(app):
    app.goto("progress", lang="en")
    assert shown_page(app) == expected("page.progress", "en")
    assert "lang=en" in app.page.url
    assert_clean(app)
