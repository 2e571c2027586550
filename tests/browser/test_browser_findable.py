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
