"""The map downloads of the pages, made the way a user makes them: after the page drew its map, by its buttons.

The HTML file is opened in Chromium with the network cut and its drawn features are counted against the
data; the PNG must be mostly map (well above the same frame with its features removed) and show a
county's fill at the county's known location.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from analytics import store

pytestmark = pytest.mark.browser

PNG_SIZE = (1600, 1000)  # CSS pixels of the map PNG (dashboard.export.map_png's default), written at 2x
BACKGROUND = (0xF4, 0xF6, 0xF8)  # the map's own background where nothing is drawn
RENCHENG = (35.415, 116.590)  # 任城区's centre (lat, lon), from the domain brief

# The Leaflet maps of a standalone page (global variables; some globals refuse to be read on about:blank).
MAPS_JS = """const leafletMaps = () => Object.keys(window).flatMap(name => {
    try { return window.L && window[name] instanceof L.Map ? [window[name]] : []; } catch (e) { return []; }
});"""
# The features on them per theme (the ``layer`` property).
FEATURES_JS = MAPS_JS + """() => {
    const maps = leafletMaps();
    const counts = {};
    for (const map of maps) map.eachLayer(layer => {
        const props = layer.feature && layer.feature.properties;
        if (props && props.layer) counts[props.layer] = (counts[props.layer] || 0) + 1;
    });
    return {maps: maps.length, counts};
}"""
# Where a point is on the page, and the fill a county feature is drawn with.
COUNTY_JS = MAPS_JS + """([lat, lon, code]) => {
    const map = leafletMaps()[0];
    let fill = null;
    map.eachLayer(layer => {
        const props = layer.feature && layer.feature.properties;
        if (props && props.layer === 'counties' && props.key === code)
            fill = {color: layer.options.fillColor, opacity: layer.options.fillOpacity};
    });
    const point = map.latLngToContainerPoint([lat, lon]);
    const box = map.getContainer().getBoundingClientRect();
    return {x: point.x + box.left, y: point.y + box.top, fill};
}"""
REMOVE_FEATURES_JS = MAPS_JS + """() => {
    for (const map of leafletMaps())
        map.eachLayer(layer => { if (layer instanceof L.GeoJSON) map.removeLayer(layer); });
}"""


@pytest.fixture(scope="module")
def layers(pristine_db):
    con = store.connect(pristine_db, read_only=True)
    try:
        yield {name: store.read_layer(con, name) for name in ("counties", "compounds", "parcels")}
    finally:
        con.close()


def open_offline(browser, html: str, *, scale: int = 1):
    """A page in its own context showing ``html`` with every request refused; returns (page, requests, errors)."""
    context = browser.new_context(viewport={"width": PNG_SIZE[0], "height": PNG_SIZE[1]}, device_scale_factor=scale)
    requests, errors = [], []

    def refuse(route) -> None:
        requests.append(route.request.url)
        route.abort("blockedbyclient")

    context.route("**/*", refuse)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(html, wait_until="load")
    page.wait_for_timeout(300)
    return page, requests, errors


def drawn_share(image: Image.Image) -> float:
    """Share of the pixels that are not the map's empty background."""
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    return float((np.abs(pixels - np.array(BACKGROUND)).max(axis=2) > 3).mean())


def blend(color: str, opacity: float) -> tuple[int, int, int]:
    """``color`` drawn at ``opacity`` over the map background."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(opacity * c + (1 - opacity) * b) for c, b in zip(rgb, BACKGROUND))


def check_html(browser, html: str, expected: dict[str, int]) -> None:
    page, requests, errors = open_offline(browser, html)
    try:
        drawn = page.evaluate(FEATURES_JS)
        assert errors == [], f"JavaScript errors in the exported map: {errors}"
        assert requests == [], f"the exported map fetched: {requests[:5]}"
        assert drawn == {"maps": 1, "counts": expected}
    finally:
        page.context.close()


def test_overview_map_downloads_show_the_map(app, browser, layers, current_year):
    app.open("")
    plan = layers["compounds"][layers["compounds"]["plan_year"] == current_year]
    expected = {"counties": len(layers["counties"]), "compounds": len(plan)}
    assert app.map_features(expect=expected) == expected

    name, html = app.download("overview-map-html")
    assert name.endswith(".html")
    html = html.decode("utf-8")
    check_html(browser, html, expected)

    name, png = app.download("overview-map-png")
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    assert name.endswith(".png") and shot.size == (2 * PNG_SIZE[0], 2 * PNG_SIZE[1])
    page, _, _ = open_offline(browser, html, scale=2)
    try:
        county = page.evaluate(COUNTY_JS, [*RENCHENG, "370811"])
        page.evaluate(REMOVE_FEATURES_JS)
        page.wait_for_timeout(200)
        empty = Image.open(io.BytesIO(page.screenshot()))
    finally:
        page.context.close()
    share, empty_share = drawn_share(shot), drawn_share(empty)
    assert empty_share < 0.15, f"the empty frame is {empty_share:.0%} drawn"
    assert share > max(0.2, 5 * empty_share), f"map PNG {share:.0%} drawn, the empty frame {empty_share:.0%}"
    # 任城区's centre shows 任城区's fill (compound dots sit there too: take the commonest colour within 30 px)
    x, y = round(2 * county["x"]), round(2 * county["y"])
    nearby = [shot.getpixel((x + dx, y + dy)) for dx in range(-60, 61, 6) for dy in range(-60, 61, 6)]
    seen = max(set(nearby), key=nearby.count)
    wanted = blend(county["fill"]["color"], county["fill"]["opacity"])
    assert max(abs(a - b) for a, b in zip(seen, wanted)) <= 3, (seen, wanted, county)
    app.assert_clean()


def test_idle_land_map_html_download_shows_the_map(app, browser, layers):
    app.open("idle_land")
    # the whole city: a counted circle per county in place of the parcels and compounds (shown from zoom 11 on)
    expected = {"counties": len(layers["counties"]), "summary": len(layers["counties"])}
    assert app.map_features(expect=expected) == expected
    name, html = app.download("idle-map-html")
    assert name.endswith(".html")
    check_html(browser, html.decode("utf-8"), expected)
    app.assert_clean()
