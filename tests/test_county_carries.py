"""A county chosen on one page's selector is the county the next page opens on (the selectors share ``county``)."""

from __future__ import annotations

from tests.page_helpers import assert_clean, open_page

WEISHAN = "370826"  # 微山县: a county, so every page's list holds it


def test_the_chosen_county_carries_from_page_to_page():
    at = open_page("pages/overview.py")
    at.selectbox(key="county").set_value(WEISHAN).run()
    for page in ("pages/idle_land.py", "pages/living_circle.py", "pages/clusters.py", "pages/programme.py",
                 "pages/overview.py"):
        at.switch_page(page)
        at.run()
        assert_clean(at)
        assert at.selectbox(key="county").value == WEISHAN, page
        assert at.query_params["county"] == WEISHAN, page


def test_a_zone_chosen_on_the_overview_opens_a_county_only_page_on_the_city():
    at = open_page("pages/overview.py")
    at.selectbox(key="county").set_value("Z01").run()
    assert at.selectbox(key="county").value == "Z01"
    at.switch_page("pages/clusters.py")
    at.run()
    assert_clean(at)
    assert at.selectbox(key="county").value == ""
