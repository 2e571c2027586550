"""Links to pages: every page's slug opens that page (the default page's too) with no dialog, in the language
the link asks for — navigation included — and the browser tab names the page."""

from __future__ import annotations

import pytest

from analytics import settings
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


def expected(title_key: str, lang: str) -> dict:
    page = t(title_key, lang=lang)
    heading = page
    if title_key == "page.present":  # the presentation shows its first slide, named in the heading and the tab
        heading = t(f"present.slide.{settings.PRESENTATION_SLIDES[0]}", lang=lang)
        page = f"{heading} · {page}"
    return {
        "tab": t("app.tab_title", lang=lang, page=page),
        "heading": heading,
        "dialogs": [],
        "nav": [("*" if key == title_key else "") + t(key, lang=lang) for key in NAV_TITLES],
    }


def test_default_page_opens_by_its_own_slug(app):
    app.goto(DEFAULT_SLUG)
    assert shown_page(app) == expected("page.overview", "zh")
    app.assert_shell()
    app.assert_clean()


def test_every_page_link_opens_that_page_in_the_language_it_asks_for(app):
    """Each slug as a fresh visit (a bookmark, a link in a message), ``?lang=en`` and ``?lang=zh`` by turns."""
    for n, (slug, title_key) in enumerate(PAGE_TITLES):
        lang = "en" if n % 2 == 0 else "zh"
        app.goto(slug, lang=lang)
        assert shown_page(app) == expected(title_key, lang), slug
        app.assert_shell()
    app.assert_clean()


def test_progress_in_english_from_a_link(app):
    app.goto("progress", lang="en")
    assert shown_page(app) == expected("page.progress", "en")
    assert "lang=en" in app.page.url
    app.assert_clean()
