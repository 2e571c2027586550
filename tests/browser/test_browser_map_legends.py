"""What the shared map builder draws, read off the screen: legend swatches look like the fills they name.

Maps are built with :mod:`dashboard.maps` and exported as the offline HTML file, then opened in Chromium with
the network cut; colours are read from the screenshot's pixels, not from the map's options.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image

from analytics import settings
from dashboard import export, maps
from dashboard.formatting import fmt_pct

pytestmark = pytest.mark.browser

SIZE = {"width": 1200, "height": 900}

# The Leaflet map of a standalone page.
MAP_JS = """const theMap = () => Object.keys(window).map(name => {
    try { return window.L && window[name] instanceof L.Map ? window[name] : null; } catch (e) { return null; }
}).find(Boolean);"""
# For each county: a point (page pixels) inside it and on top of every other feature (its label anchor).
COUNTY_POINTS_JS = MAP_JS + """(anchors) => {
    const map = theMap(), box = map.getContainer().getBoundingClientRect(), out = {};
    for (const [code, lat, lon] of anchors) {
        const p = map.latLngToContainerPoint([lat, lon]);
        out[code] = {x: Math.round(p.x + box.left), y: Math.round(p.y + box.top)};
    }
    return out;
}"""
# Each legend row: its label and the centre of its swatch (page pixels).
SWATCHES_JS = """(title) => {
    const legend = [...document.querySelectorAll('.jiugai-legend')].find(l => l.innerText.includes(title));
    return [...legend.querySelectorAll('span')].map(span => {
        const r = span.getBoundingClientRect();
        return {label: span.parentElement.innerText.trim(), x: Math.round(r.left + r.width / 2),
                y: Math.round(r.top + r.height / 2)};
    });
}"""


@pytest.fixture(scope="module")
def chromium(headless_chromium):
    """The session's headless Chromium, without a dashboard server (the maps are built here)."""
    return headless_chromium


def screenshot_of(chromium, html: str):
    """The page ``html`` offline; returns (page, screenshot) once drawn."""
    context = chromium.new_context(viewport=SIZE)
    context.route("**/*", lambda route: route.abort("blockedbyclient"))
    page = context.new_page()
    page.set_content(html, wait_until="load")
    page.wait_for_timeout(400)
    return page, Image.open(io.BytesIO(page.screenshot())).convert("RGB")


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 3) -> bool:
    return max(abs(x - y) for x, y in zip(a, b)) <= tolerance


def test_choropleth_fills_match_their_legend_swatches(chromium, demo_layers):
    """Each county is drawn in exactly the colour of its class's swatch (a full class is not the one below)."""
    counties = demo_layers["counties"]
    codes = sorted(counties["county_code"])
    # 0 and 100 % fix the five classes at 20 % steps; the others sit mid-class, so every class is used
    mids = [0.1, 0.3, 0.5, 0.7, 0.9]
    values = pd.Series([0.0, 1.0, *(mids[i % 5] for i in range(len(codes) - 2))], index=codes)
    m = maps.base_map(counties, basemap="none")
    maps.add_counties(m, counties, values=values, value_label="完工率", unit="%", fmt=fmt_pct, labels=False)
    anchors = [[u.code, u.anchor[1], u.anchor[0]] for u in maps.county_labels(counties)]
    page, shot = screenshot_of(chromium, export.standalone_map_html(m))
    try:
        points = page.evaluate(COUNTY_POINTS_JS, anchors)
        swatches = page.evaluate(SWATCHES_JS, "完工率")
    finally:
        page.context.close()
    assert len(swatches) == 5
    swatch_rgb = [shot.getpixel((s["x"], s["y"])) for s in swatches]
    assert len(set(swatch_rgb)) == 5, swatch_rgb  # five classes, five colours on screen
    for code, value in values.items():
        drawn = shot.getpixel((points[code]["x"], points[code]["y"]))
        klass = min(int(value * 5), 4)  # 20 % classes, the top one closed
        assert close(drawn, swatch_rgb[klass]), (code, value, klass, drawn, swatch_rgb)
        others = [c for i, c in enumerate(swatch_rgb) if i != klass]
        assert not any(close(drawn, c) for c in others), (code, value, drawn, swatch_rgb)


def test_cluster_fills_match_their_legend_swatches(chromium, demo_layers):
    """Cluster hulls drawn over the map's background show their swatch's colour."""
    counties = demo_layers["counties"].to_crs(settings.ANALYSIS_CRS)
    hulls = counties.assign(cluster_id=[f"k{i}" for i in range(len(counties))],
                            score=[float(i) for i in range(len(counties))])[["cluster_id", "score", "geometry"]]
    hulls["geometry"] = hulls.geometry.centroid.buffer(2500)
    m = maps.base_map(hulls, basemap="none")
    maps.add_clusters(m, hulls, value_label="综合得分")
    anchors = [[k, p.y, p.x] for k, p in zip(hulls["cluster_id"], hulls.geometry.centroid.to_crs(4326))]
    page, shot = screenshot_of(chromium, export.standalone_map_html(m))
    try:
        points = page.evaluate(COUNTY_POINTS_JS, anchors)
        swatches = page.evaluate(SWATCHES_JS, "综合得分")
    finally:
        page.context.close()
    swatch_rgb = [shot.getpixel((s["x"], s["y"])) for s in swatches]
    top = hulls["cluster_id"].iloc[-1]  # the highest score: the top class
    drawn = shot.getpixel((points[top]["x"], points[top]["y"]))
    assert close(drawn, swatch_rgb[-1]), (drawn, swatch_rgb)
