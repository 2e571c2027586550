"""What a new user has to find on the maps: proposed sites, the selected county in meeting mode, features at city zoom."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dashboard import maps
from dashboard.labels import t

pytestmark = pytest.mark.browser

REDS = ("#C0392B", "#D73027", maps.FACILITY_COLORS["elderly_care"])  # selection, 仍未覆盖, elderly-care facilities

BADGES_JS = """() => [...document.querySelectorAll('.jiugai-site')].map(el => {
    const r = el.getBoundingClientRect();
    return {text: el.textContent, background: getComputedStyle(el).backgroundColor,
            x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width};
})"""
LEGENDS_JS = "() => [...document.querySelectorAll('.jiugai-legend')].map(l => l.innerText)"


def rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def test_proposed_sites_are_numbered_badges_with_a_legend_and_a_list_beside_the_map(app):
    app.open("living_circle")
    app.click("site_run")
    index = app.map_count() - 1
    sites = app.map_features(index).get("sites", 0)
    assert sites >= 1
    frame = app.map_frame(index)
    badges = frame.evaluate(BADGES_JS)
    assert sorted(int(b["text"]) for b in badges) == list(range(1, sites + 1))
    site_rgb = rgb(maps.SITE_COLOR)
    for badge in badges:
        assert badge["background"] == "rgb({}, {}, {})".format(*site_rgb)
    assert all(max(abs(a - b) for a, b in zip(site_rgb, rgb(red))) > 60 for red in REDS)
    assert any(t("living.sites_legend") in text for text in frame.evaluate(LEGENDS_JS))

    # drawn: the badges are on screen, mostly the site colour
    iframe = app.page.locator('iframe[title="streamlit_folium.st_folium"]').nth(index)
    iframe.scroll_into_view_if_needed()
    app.page.wait_for_timeout(300)
    shot = np.asarray(Image.open(io.BytesIO(iframe.screenshot())).convert("RGB"), dtype=int)
    for badge in frame.evaluate(BADGES_JS):
        x, y, r = round(badge["x"]), round(badge["y"]), round(badge["w"] / 2) - 3
        assert 0 <= x - r and x + r <= shot.shape[1] and 0 <= y - r and y + r <= shot.shape[0], (badge, shot.shape)
        patch = shot[y - r:y + r, x - r:x + r]
        dark = (np.abs(patch - np.array(site_rgb)).max(axis=2) <= 12).mean()
        assert dark > 0.3, (badge, dark)  # the rest: the white number and the circle's rim

    # the list stands beside the map
    box, listing = iframe.bounding_box(), app.widget("siting-list").bounding_box()
    assert listing["x"] >= box["x"] + box["width"] - 2
    assert listing["y"] < box["y"] + box["height"] and listing["y"] + listing["height"] > box["y"]
    assert app.widget("siting-list").locator('[data-testid="stDataFrame"]').count() == 1
    app.screenshot("living_circle-sites")
    app.assert_clean()


# The counted circles at city zoom: county code, count, size (pixels) and whether it is on screen.
SUMMARY_JS = """() => {
    const out = [];
    window.map.eachLayer(layer => {
        const props = layer.feature && layer.feature.properties;
        if (props && props.layer === 'summary') {
            const el = layer.getElement(), r = el.getBoundingClientRect();
            out.push({code: props.key, count: props.count, text: el.textContent, size: r.width});
        }
    });
    return out;
}"""

CITY_MAPS = [  # page, CSV of what is counted, its county column, the themes behind the circles
    ("idle_land", "idle-parcels-csv", "col.county", ("parcels", "compounds")),
    ("living_circle", "living-lacking-csv", "col.county", ("compounds", "facilities")),
    ("clusters", "clusters-table-csv", "clusters.col.county", ("clusters", "compounds")),
]


@pytest.mark.parametrize(("slug", "table", "county_column", "themes"), CITY_MAPS, ids=[c[0] for c in CITY_MAPS])
def test_city_maps_count_per_county_until_zoomed_in(app, slug, table, county_column, themes):
    import pandas as pd

    from analytics import settings

    app.open(slug)
    at_city = app.map_features(0)
    assert set(at_city) == {"counties", "summary"}, at_city  # no specks: one circle per county
    circles = app.map_frame(0).evaluate(SUMMARY_JS)
    assert sorted(c["code"] for c in circles) == sorted(settings.COUNTIES)
    assert all(c["text"] == str(c["count"]) for c in circles)

    _, data = app.download(table)
    rows = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    expected = rows[t(county_column)].value_counts().to_dict()
    got = {settings.COUNTIES[c["code"]][0]: c["count"] for c in circles if c["count"]}
    assert got == expected
    by_count = sorted(circles, key=lambda c: c["count"])
    assert all(a["size"] <= b["size"] for a, b in zip(by_count, by_count[1:]))  # larger count, larger circle
    assert by_count[-1]["size"] > by_count[0]["size"]

    frame = app.map_frame(0)
    frame.evaluate(f"() => window.map.setZoom({maps.SUMMARY_ZOOM})")
    app.page.wait_for_timeout(800)
    zoomed = app.map_features(0)
    assert "summary" not in zoomed and all(zoomed.get(theme, 0) > 0 for theme in themes), zoomed
    app.assert_clean()
