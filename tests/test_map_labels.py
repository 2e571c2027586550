"""County labels on the choropleth (dashboard/maps.py): where each label points, what it says, the legend's
title with its unit, the box of units without a boundary, and hostile text kept inert."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from analytics import settings
from dashboard import maps
from dashboard.formatting import fmt_pct


def payload(page: str) -> list:
    """The labels' data as the browser's script reads it (the one ``var data = [...]`` of the labels)."""
    match = re.search(r"var data = (\[.*?\]);\n", page)
    assert match, "no county labels in the page"
    return json.loads(match.group(1))


def distance_to_edge(polygon: Polygon, point) -> float:
    return float(polygon.exterior.distance(point)) if polygon.contains(point) else -1.0


def best_distance_on_grid(polygon: Polygon, n: int = 120) -> float:
    """Brute force: the largest distance to the edge over an ``n`` × ``n`` grid of inside points."""
    x0, y0, x1, y1 = polygon.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    points = shapely.points(xs.ravel(), ys.ravel())
    inside = shapely.contains(polygon, points)
    return float(shapely.distance(polygon.exterior, points[inside]).max())


@pytest.mark.parametrize(("name", "short"), [("任城区", "任城"), ("曲阜市", "曲阜"), ("汶上县", "汶上"),
                                             ("Rencheng", "Rencheng"), ("市区", "市区"), ("太白湖新区", "太白湖新")])
def test_short_names(name, short):
    assert maps.short_name(name) == short


def test_label_points_lie_deepest_inside_even_where_the_centroid_is_outside():
    """An L-shaped county (centroid outside it) and a county of two parts: the anchor is in the larger part,
    as far from the edge as the brute-force grid's best point (within the polylabel tolerance)."""
    x, y = 480_000.0, 3_900_000.0
    ell = Polygon([(x, y), (x + 30_000, y), (x + 30_000, y + 6_000), (x + 6_000, y + 6_000), (x + 6_000, y + 30_000),
                   (x, y + 30_000)])
    assert not ell.contains(ell.centroid)
    small = Polygon([(x + 40_000, y), (x + 42_000, y), (x + 42_000, y + 2_000), (x + 40_000, y + 2_000)])
    big = Polygon([(x + 50_000, y), (x + 70_000, y), (x + 70_000, y + 20_000), (x + 50_000, y + 20_000)])
    counties = gpd.GeoDataFrame({"county_code": ["370811", "370830"]},
                                geometry=[ell, shapely.MultiPolygon([small, big])], crs=settings.ANALYSIS_CRS)
    labels = maps.county_labels(counties, pd.Series({"370811": 0.5, "370830": 0.25}), fmt=fmt_pct)
    anchors = gpd.GeoSeries(gpd.points_from_xy([u.anchor[0] for u in labels], [u.anchor[1] for u in labels]),
                            crs=settings.STORAGE_CRS).to_crs(settings.ANALYSIS_CRS)
    assert distance_to_edge(ell, anchors[0]) >= best_distance_on_grid(ell) - 150
    assert distance_to_edge(big, anchors[1]) >= best_distance_on_grid(big) - 150  # the larger part: 10 km deep
    assert distance_to_edge(big, anchors[1]) > 9_000
    assert [(u.name, u.short, u.value) for u in labels] == [("任城区", "任城", "50.0%"), ("汶上县", "汶上", "25.0%")]
    assert len(labels[1].outline) >= 4  # the larger part's outline, for the fit test in the browser


def test_every_county_of_the_demo_is_labelled_with_its_value(demo_layers):
    counties = demo_layers["counties"]
    values = pd.Series(np.linspace(0, 1, len(counties)), index=counties["county_code"].to_numpy())
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_counties(m, counties, values=values, value_label="完工率", unit="%", fmt=fmt_pct, selected="370883",
                      unbounded=pd.Series({"Z02": 0.375}))
    maps.finish(m)
    page = m.get_root().render()
    labels = payload(page)
    assert [row[0] for row in labels] == list(counties["county_code"])
    assert [row[1] for row in labels] == [settings.COUNTIES[c][0] for c in counties["county_code"]]
    assert [row[3] for row in labels] == [f"{v * 100:.1f}%" for v in values]
    assert [row[6] for row in labels] == [c == "370883" for c in counties["county_code"]]
    shapes = counties.to_crs(settings.STORAGE_CRS).geometry
    for row, shape in zip(labels, shapes):
        assert shape.contains(shapely.Point(row[4])), row[1]  # each label points into its own county
    legends = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)  # as the script reads them
    assert "完工率（%）" in legends  # the legend names the indicator and its unit
    assert "功能区（无独立边界）" in legends and "太白湖新区 37.5%" in legends
    assert len(page.encode()) - len(page.replace(json.dumps(labels, ensure_ascii=False), "").encode()) < 20_000


def test_labels_follow_the_language(demo_layers):
    import streamlit as st

    counties = demo_layers["counties"]
    st.session_state["lang"] = "en"
    try:
        labels = maps.county_labels(counties, pd.Series(dtype=float), fmt=fmt_pct)
    finally:
        del st.session_state["lang"]
    assert [u.name for u in labels] == [settings.COUNTIES[c][1] for c in counties["county_code"]]
    assert {u.value for u in labels} == {"—"}  # no value: the missing marker


def test_outline_maps_and_unlabelled_choropleths_carry_no_labels(demo_layers):
    counties = demo_layers["counties"]
    for kwargs in ({}, {"values": pd.Series(1.0, index=counties["county_code"]), "labels": False}):
        m = maps.base_map(basemap="none", show_notice=False)
        maps.add_counties(m, counties, **kwargs)
        maps.finish(m)
        assert "jiugai-label" not in m.get_root().render()


def test_hostile_unit_names_stay_text(demo_layers):
    """A county code the settings do not know is shown as given: as JSON data set with textContent, never
    markup, never a template (folium compiles rendered output as Jinja again)."""
    counties = demo_layers["counties"].iloc[:2].copy()
    counties["county_code"] = ["</script><script>alert(1)</script>", "{{ 7*7 }}"]
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_counties(m, counties, values=pd.Series({"{{ 7*7 }}": 0.5}), fmt=fmt_pct)
    maps.finish(m)
    page = m.get_root().render()
    script = page[page.index("var data = "):]
    script = script[:script.index("})();")]  # the labels' script: its data and code
    assert "</script><script>alert(1)" not in page and '"49"' not in page and "{{ 7*7 }}" not in script
    names = [row[1] for row in payload(page)]
    assert names == ["</script><script>alert(1)</script>", "{{ 7*7 }}"]  # json.loads decodes the \\u escapes
    assert "textContent = d[3]" in script and "innerHTML" not in script
