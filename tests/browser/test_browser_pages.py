"""Every page in headless Chromium with the network cut: it draws, shows no error, fetches nothing outside."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from harness import copy_database, start_streamlit, stop_streamlit
from playwright.sync_api import expect
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analytics import settings, store
from dashboard import maps
from dashboard.labels import t
from dashboard.navigation import PAGES

pytestmark = pytest.mark.browser

PAGE_TITLES = [(slug, title_key) for group in PAGES.values() for _, title_key, _, slug in group]
DEFAULT_SLUG = PAGE_TITLES[0][0]
# The presentation's heading is its first slide's title.
HEADING_KEYS = {"present": f"present.slide.{settings.PRESENTATION_SLIDES[0]}"}


def cluster_count(compounds: gpd.GeoDataFrame, gap_m: float) -> int:
    """Groups of two or more compounds of one county linked by gaps of at most ``gap_m`` (graph oracle)."""
    frame = compounds[["county_code", "geometry"]].reset_index(drop=True)
    near = gpd.sjoin(frame, frame, predicate="dwithin", distance=gap_m)
    near = near[near["county_code_left"] == near["county_code_right"]]
    i, j = near.index.to_numpy(), near["index_right"].to_numpy()
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(frame), len(frame)))
    _, labels = connected_components(graph, directed=False)
    return int((np.bincount(labels) >= 2).sum())


CITY_SUMMARY_PAGES = ("idle_land", "living_circle", "clusters")  # one counted circle per county until zoomed in


@pytest.fixture(scope="module")
def expected_maps(pristine_db, current_year) -> dict[str, list[dict[str, int]]]:
    """Features each page's maps must draw with its default settings, worked out from the data.

    The city-wide maps of :data:`CITY_SUMMARY_PAGES` draw these from zoom ``maps.SUMMARY_ZOOM`` on, and a
    counted circle per county below it.
    """
    con = store.connect(pristine_db, read_only=True)
    try:
        layers = {name: store.read_layer(con, name) for name in store.LAYERS}
    finally:
        con.close()
    compounds, counties = layers["compounds"], len(layers["counties"])
    return {
        "overview": [{"counties": counties, "compounds": int((compounds["plan_year"] == current_year).sum())}],
        "present": [{"counties": counties, "compounds": int((compounds["plan_year"] == current_year).sum())}],
        "idle_land": [{"counties": counties, "parcels": len(layers["parcels"]), "compounds": len(compounds)}],
        "living_circle": [{"counties": counties, "compounds": len(compounds),
                           "facilities": int((layers["facilities"]["facility_type"] == "elderly_care").sum())}],
        "clusters": [{"counties": counties, "compounds": len(compounds), "clusters": cluster_count(compounds, 150)}],
        # next year's plan: the map holds the whole candidate pool (compounds without a plan year)
        "plan": [{"counties": counties, "compounds": int(compounds["plan_year"].isna().sum())}],
    }


def heading(app):
    return app.page.locator('[data-testid="stMain"] h1').first


@pytest.mark.parametrize(("slug", "title_key"), PAGE_TITLES, ids=[slug for slug, _ in PAGE_TITLES])
def test_page_renders_offline(tour, expected_maps, slug, title_key):
    tour.visit("" if slug == DEFAULT_SLUG else slug)
    expect(heading(tour)).to_have_text(t(HEADING_KEYS.get(slug, title_key), lang="zh"))
    expected = expected_maps.get(slug, [])
    assert tour.map_count() == len(expected)
    for index, features in enumerate(expected):
        at_city = {"counties": features["counties"], "summary": features["counties"]}
        if slug in CITY_SUMMARY_PAGES:
            assert tour.map_features(index, expect=at_city) == at_city
            tour.screenshot(f"{slug}-city")
            tour.map_frame(index).evaluate(f"() => window.map.setZoom({maps.SUMMARY_ZOOM})")
        assert tour.map_features(index, expect=features) == features
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
        slug, title_key = next((s, k) for s, k in PAGE_TITLES if s != DEFAULT_SLUG and s not in HEADING_KEYS)
        app.goto(slug, lang="en")
        expect(heading(app)).to_have_text(t(title_key, lang="en"))
        app.assert_shell()
        app.goto(DEFAULT_SLUG)
        app.goto(slug, lang="en")
        expect(heading(app)).to_have_text(t(title_key, lang="en"))
        app.assert_shell()
    finally:
        stop_streamlit(fresh)
