"""A leader's phone (390 × 844, a phone's browser): every page fits the screen's width with nothing to scroll
sideways, the sidebar folded away, KPI cards two to a row, tables showing their key columns with the rest a tap
away, maps of a usable height; and every chart keeps its title, subtitle, demo mark, legend and plot apart,
on the phone and on a 1600 px screen. Screenshots of each phone page go to artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

import re

import pytest
from conftest import guarded_tab
from harness import time_until_drawn

from dashboard.labels import t
from dashboard.navigation import PAGES

pytestmark = pytest.mark.browser

SLUGS = [slug for group in PAGES.values() for *_, slug in group]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                  "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
}
WIDE = {"viewport": {"width": 1600, "height": 1000}}

# What makes a page scroll sideways: the document or the app's scrolling area wider than the window, or any
# shown element reaching outside it (unless an ancestor inside the window clips it, like a table's own
# scroller). The sidebar, folded away off the left edge, and plotly's off-screen text-measuring box are
# not shown.
OVERFLOW_JS = """() => {
    const vw = window.innerWidth, problems = [];
    const scrollers = [document.scrollingElement, document.querySelector('[data-testid="stMain"]'),
                       document.querySelector('[data-testid="stAppViewContainer"]')].filter(Boolean);
    for (const s of scrollers)
        if (s.scrollWidth > vw + 1) problems.push(`${s.dataset.testid || s.tagName} scrolls: ${s.scrollWidth} > ${vw}`);
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const folded = sidebar === null || sidebar.getBoundingClientRect().right <= 0 || !sidebar.checkVisibility();
    const inside = r => r.left >= -1 && r.right <= vw + 1;
    for (const el of document.body.querySelectorAll('*')) {
        if (folded && sidebar.contains(el)) continue;
        if (el.closest('#js-plotly-tester, .js-plotly-tester, .js-reference-point')) continue;
        const style = getComputedStyle(el);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || inside(r)) continue;
        let clipped = false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
            if (getComputedStyle(a).overflowX !== 'visible' && inside(a.getBoundingClientRect())) { clipped = true; break; }
        if (!clipped) problems.push(`outside: ${el.dataset.testid || el.getAttribute('class') || el.tagName} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    // a table's own sideways scroll is horizontal scrolling too: its shown columns fit its width
    for (const grid of document.querySelectorAll('[data-testid="stDataFrame"]')) {
        if (!grid.offsetParent) continue;  // in a closed expander
        const scroller = grid.querySelector('.dvn-scroller');
        if (scroller && scroller.scrollWidth > scroller.clientWidth + 1)
            problems.push(`table scrolls sideways: ${scroller.scrollWidth} > ${scroller.clientWidth}`);
    }
    const visible = sel => [...document.querySelectorAll(sel)].filter(el => el.offsetParent !== null)
        .map(el => el.getBoundingClientRect().toJSON());
    return {problems: problems.slice(0, 20), folded,
            cards: visible('[data-testid="stMetric"]'), maps: visible('iframe[title="streamlit_folium.st_folium"]'),
            scrollTop: document.querySelector('[data-testid="stMain"]').scrollTop, vw, vh: window.innerHeight};
}"""

# The laid-out boxes of every chart's frame: the title and subtitle lines and the demo mark above the
# figure (their text, not their blocks), and inside it the legend, the plot area and the annotations.
CHART_BOXES_JS = """() => {
    const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
    const text = el => { const range = document.createRange(); range.selectNodeContents(el); return box(range.getBoundingClientRect()); };
    const charts = [], all = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    const before = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
    for (const [i, chart] of all.entries()) {
        if (!chart.checkVisibility()) continue;  // e.g. the bulletin's preview in its closed expander
        // its frame: the last one before it, and after the chart before it
        const heads = [...document.querySelectorAll('.jiugai-chart-head')]
            .filter(h => before(h, chart) && (i === 0 || before(all[i - 1], h)));
        const head = heads[heads.length - 1];
        const parts = {};
        if (head) {
            parts.title = text(head.querySelector('.jiugai-chart-title'));
            const sub = head.querySelector('.jiugai-chart-sub'), demo = head.querySelector('.jiugai-chart-demo');
            if (sub) parts.subtitle = box(sub.getBoundingClientRect());
            if (demo) parts.demo = box(demo.getBoundingClientRect());
            parts.titleClipped = head.querySelector('.jiugai-chart-title').scrollWidth > head.clientWidth + 1;
        }
        const legend = chart.querySelector('.legend');
        if (legend) parts.legend = box(legend.getBoundingClientRect());
        parts.plot = box(chart.querySelector('.nsewdrag').getBoundingClientRect());
        parts.notes = [...chart.querySelectorAll('.annotation')].map(a => [a.textContent, box(a.getBoundingClientRect())]);
        parts.svg = box(chart.querySelector('.main-svg').getBoundingClientRect());
        parts.modebar = [...chart.querySelectorAll('.modebar-btn')].length;
        charts.push(parts);
    }
    return charts;
}"""


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5 and a["top"] < b["bottom"] - 0.5 \
        and b["top"] < a["bottom"] - 0.5


@pytest.fixture(scope="module")
def phone(browser, server):
    """One phone tab for the module."""
    with guarded_tab(browser, server, **PHONE) as tab:
        yield tab


def open_drawn(app, slug: str) -> None:
    app.blocked.clear()
    app.page_errors.clear()
    app.http_errors.clear()
    app.log_offset = len(app.server.log_text())
    app.goto(slug)
    time_until_drawn(app.page, app.page.evaluate("performance.now()"), hold_ms=400)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_fits_a_phone(phone, slug):
    open_drawn(phone, slug)
    drawn = phone.page.evaluate(OVERFLOW_JS)
    assert drawn["problems"] == [], drawn["problems"]
    assert drawn["folded"], "the sidebar is open over the page on a phone"
    if slug != "present":  # the presentation scales its 1920 × 1080 stage to the screen as a whole
        cards = drawn["cards"]
        if len(cards) >= 2:  # two to a row, each inside the screen
            assert abs(cards[0]["top"] - cards[1]["top"]) < 2, cards[:2]
            assert all(c["width"] < drawn["vw"] / 2 for c in cards), [c["width"] for c in cards]
        for frame in drawn["maps"]:
            assert 300 <= frame["height"] <= drawn["vh"], frame
    for frame in drawn["maps"]:
        assert frame["left"] >= 0 and frame["right"] <= drawn["vw"], frame
    phone.screenshot(f"phone-{slug}")
    phone.assert_clean()


def test_the_overview_map_follows_the_cards_within_the_first_screens(phone):
    open_drawn(phone, "overview")
    drawn = phone.page.evaluate(OVERFLOW_JS)
    assert len(drawn["cards"]) == 6 and drawn["maps"], drawn
    assert drawn["maps"][0]["top"] + drawn["scrollTop"] < 1.5 * drawn["vh"], drawn["maps"][0]


def test_a_phone_table_shows_key_columns_and_the_rest_behind_a_tap(phone):
    open_drawn(phone, "progress")
    ranking = phone.page.locator('[data-testid="stDataFrame"]').first
    headers = ranking.locator('[role="columnheader"]').all_text_contents()
    assert [h.strip() for h in headers if h.strip()] == [t("progress.col.rank", lang="zh"),
                                                        t("progress.col.unit", lang="zh"),
                                                        t("progress.col.completion_rate", lang="zh")]
    more = phone.page.locator('[data-testid="stExpander"]').filter(
        has=phone.page.locator("summary", has_text=re.compile(r"全部 \d+ 列"))).first
    label = more.locator("summary").inner_text()
    assert int(re.search(r"全部 (\d+) 列", label).group(1)) > 3, label
    more.locator("summary").click()
    full = more.locator('[data-testid="stDataFrame"]')
    full.wait_for(state="visible")
    full.locator('[role="columnheader"]').first.wait_for(state="attached")  # the grid's accessible (hidden) table
    all_headers = [h.strip() for h in full.locator('[role="columnheader"]').all_text_contents() if h.strip()]
    assert all_headers[:3] == [t("progress.col.rank", lang="zh"), t("progress.col.rank_chg", lang="zh"),
                               t("progress.col.unit", lang="zh")], all_headers
    phone.assert_clean()


@pytest.mark.parametrize("device", [PHONE, WIDE], ids=["390px", "1600px"])
def test_charts_keep_title_demo_mark_legend_and_plot_apart(browser, server, device):
    with guarded_tab(browser, server, **device) as app:
        for slug in ("progress", "overview"):
            open_drawn(app, slug)
            charts = app.page.evaluate(CHART_BOXES_JS)
            assert charts, slug
            for chart in charts:
                assert "title" in chart, f"a chart on {slug} without its title above it"
                assert not chart.pop("titleClipped"), chart
                assert chart.pop("modebar") == 0, "plotly's toolbar would cover the legend"
                svg, notes = chart.pop("svg"), chart.pop("notes")
                named = dict(chart)
                for name, part in named.items():
                    assert part["left"] >= svg["left"] - 1 and part["right"] <= svg["right"] + 1, (slug, name, part, svg)
                names = list(named)
                for i, a in enumerate(names):
                    for b in names[i + 1:]:
                        assert not overlap(named[a], named[b]), (slug, a, b, named[a], named[b])
                for text, note in notes:
                    if text == t("export.chart.demo", lang="zh"):
                        continue  # the faint watermark across the plot, meant to be under everything
                    assert "legend" not in named or not overlap(note, named["legend"]), (slug, text, note)
            app.assert_clean()
