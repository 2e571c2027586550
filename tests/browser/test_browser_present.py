"""汇报模式 in a real browser: every slide fills the screen with nothing to scroll and nothing outside it, in type
a room can read, with its period and the demo mark; a clicker's keys page through the slides and the URL
follows; a county clicked on the map filters the next slides; the stage scales to other screens; slides
advance by themselves when asked to. Screenshots of every slide go to artifacts/screenshots/."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import guarded_tab
from harness import time_until_drawn

from analytics import settings, store
from analytics.progress import behind_schedule
from dashboard.labels import t

pytestmark = pytest.mark.browser

SLIDES = settings.PRESENTATION_SLIDES
PROJECTOR = {"width": 1920, "height": 1080}

# What a room sees and cannot see: scrolling anywhere, elements outside the window, and the type sizes of
# every piece of text (figures: KPI values, table figures, big counts; labels: everything else), with the
# page's scale factor applied (the stage is zoomed to the window).
STAGE_JS = """() => {
    const vw = window.innerWidth, vh = window.innerHeight, problems = [];
    const root = document.scrollingElement;
    if (root.scrollWidth > vw + 1 || root.scrollHeight > vh + 1) problems.push('page scrolls');
    const stage = document.querySelector('[data-testid="stMainBlockContainer"]');
    const zoom = parseFloat(getComputedStyle(stage).zoom) || 1;
    const figures = [], labels = [];
    for (const el of stage.querySelectorAll('*')) {
        const style = getComputedStyle(el);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
            problems.push('outside: ' + (el.dataset.testid || el.className || el.tagName) + ' ' + [r.left, r.top, r.right, r.bottom].map(Math.round));
        if (['auto', 'scroll'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1)
            problems.push('scrolls: ' + (el.dataset.testid || el.className));
        const own = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join(' ');
        if (!own || el.closest('[data-baseweb="select"], [data-testid="stTooltipIcon"], [data-testid="stIconMaterial"]')) continue;
        const size = parseFloat(style.fontSize) * zoom;
        const figure = el.closest('[data-testid="stMetricValue"], td.figure, .jiugai-big');
        (figure ? figures : labels).push([own.slice(0, 30), size]);
    }
    return {problems, figures, labels, zoom, stage: stage.getBoundingClientRect().toJSON(),
            header: document.querySelector('[data-testid="stMain"] .jiugai-slide-meta')?.innerText || ''};
}"""
# The map's own labels and legends (inside its frame), with their sizes.
MAP_TEXT_JS = """() => [...document.querySelectorAll('.jiugai-label, .jiugai-legend > div')]
    .map(el => parseFloat(getComputedStyle(el).fontSize))"""


def slide_of(app) -> str | None:
    return parse_qs(urlparse(app.page.url).query).get("slide", [None])[0]


def open_slide(app, slide: str, **query: str) -> None:
    app.goto("present", slide=slide, **query)
    time_until_drawn(app.page, app.page.evaluate("performance.now()"), hold_ms=300)


def check_stage(app, *, figure_px: float = 28, label_px: float = 18) -> dict:
    drawn = app.page.evaluate(STAGE_JS)
    assert drawn["problems"] == [], drawn["problems"][:10]
    small = [(text, size) for text, size in drawn["labels"] if size < label_px - 0.01]
    assert not small, small[:10]
    assert drawn["figures"] and min(size for _, size in drawn["figures"]) >= figure_px, drawn["figures"][:10]
    return drawn


@pytest.fixture(scope="module")
def projector(browser, server):
    """One 1920 × 1080 tab for the module."""
    with guarded_tab(browser, server) as tab:
        tab.page.set_viewport_size(PROJECTOR)
        yield tab


def test_every_slide_fills_the_projector_in_large_type(projector):
    app = projector
    for slide in SLIDES:
        open_slide(app, slide)
        drawn = check_stage(app)
        assert "截至" in drawn["header"] and t("present.demo", lang="zh") in drawn["header"], drawn["header"]
        assert abs(drawn["stage"]["width"] - PROJECTOR["width"]) <= 1 and abs(drawn["stage"]["height"] - PROJECTOR["height"]) <= 1
        app.screenshot(f"present-{slide}")
    open_slide(app, SLIDES[0])
    sizes = app.map_frame(0).evaluate(MAP_TEXT_JS)
    assert sizes and min(sizes) >= 18, sizes
    app.assert_clean()


def test_a_clickers_keys_page_through_the_slides_and_the_url_follows(projector):
    app = projector
    open_slide(app, SLIDES[0])
    for key, expected in (("ArrowRight", 1), ("PageDown", 2), ("PageUp", 1), ("ArrowLeft", 0), ("ArrowLeft", 0)):
        mark = app.runs()
        app.page.keyboard.press(key)
        app.wait_rerun(mark)
        assert slide_of(app) == SLIDES[expected], key
        assert app.page.locator('[data-testid="stMain"] h1').first.inner_text() == t(f"present.slide.{SLIDES[expected]}", lang="zh")
    # a click on the map takes the focus into its frame; the clicker still works
    app.map_frame(0).locator("#map_div").click(position={"x": 5, "y": 300})
    mark = app.runs()
    app.page.keyboard.press("PageDown")
    app.wait_rerun(mark)
    assert slide_of(app) == SLIDES[1]
    mark = app.runs()
    app.page.locator(".st-key-present-previous button").click()
    app.wait_rerun(mark)
    assert slide_of(app) == SLIDES[0]
    app.assert_clean()


def test_a_county_clicked_on_the_map_filters_the_next_slides(projector, pristine_db):
    con = store.connect(pristine_db, read_only=True)
    try:
        as_of = con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
        late = behind_schedule(con, as_of=as_of)
    finally:
        con.close()
    code = late["unit_code"].value_counts().index[0]
    name = settings.COUNTIES[code][0]
    app = projector
    open_slide(app, "overview")
    app.click_map_feature("counties", code)
    assert parse_qs(urlparse(app.page.url).query)["county"] == [code]
    assert t("present.filtered", lang="zh", unit=name) in app.page.locator(".jiugai-slide-meta").first.inner_text()
    for slide in SLIDES[1:]:
        mark = app.runs()
        app.page.keyboard.press("ArrowRight")
        app.wait_rerun(mark)
        assert slide_of(app) == slide and parse_qs(urlparse(app.page.url).query)["county"] == [code]
        if slide == "ranking":
            assert app.page.locator("tr.jiugai-chosen td").nth(1).inner_text() == name
        if slide == "behind":
            units = app.page.locator(".jiugai-table tbody tr td:nth-child(2)").all_inner_texts()
            assert units and set(units) == {name}
            assert app.page.locator(".jiugai-big").first.inner_text() == str(int((late["unit_code"] == code).sum()))
        check_stage(app)
    mark = app.runs()
    app.page.locator(".st-key-present-clear button").click()
    app.wait_rerun(mark)
    assert parse_qs(urlparse(app.page.url).query).get("county", [""]) == [""]
    assert not app.page.locator(".jiugai-filter").count()
    app.assert_clean()


@pytest.mark.parametrize("screen", [{"width": 1366, "height": 768}, {"width": 3840, "height": 2160}],
                         ids=["laptop", "4k"])
def test_the_stage_scales_to_other_screens(browser, server, screen):
    with guarded_tab(browser, server) as app:
        app.page.set_viewport_size(screen)
        for slide in ("overview", "ranking"):
            open_slide(app, slide)
            scale = min(screen["width"] / PROJECTOR["width"], screen["height"] / PROJECTOR["height"])
            drawn = check_stage(app, figure_px=28 * scale, label_px=18 * scale)
            assert drawn["zoom"] == pytest.approx(scale, rel=0.01)
            assert drawn["stage"]["width"] == pytest.approx(PROJECTOR["width"] * scale, abs=2)
        app.screenshot(f"present-ranking-{screen['width']}")
        app.assert_clean()


def test_slides_advance_by_themselves_when_asked(projector):
    app = projector
    seconds = settings.PRESENTATION_ADVANCE_S[0]
    open_slide(app, SLIDES[-1], advance=str(seconds))
    assert app.page.locator(".st-key-present_auto input").is_checked()
    app.page.wait_for_function(f"() => new URL(location.href).searchParams.get('slide') === {SLIDES[0]!r}",
                               timeout=(seconds + 15) * 1000)  # after the last, the first again
    mark = app.runs()
    app.page.locator(".st-key-present_auto label").click()  # off again
    app.wait_rerun(mark)
    assert parse_qs(urlparse(app.page.url).query)["advance"] == ["0"]
    app.assert_clean()
