"""The shared map builder: escaping of hostile text, offline assets, basemaps and GCJ-02, small payloads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon

from analytics import settings
from analytics.coords import wgs84_to_gcj02
from dashboard import maps

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`);alert(2);(`",
    "back\\slash\\`${x}",
    "</script><script>alert(3)</script>",
    "\"quoted\" & 'single'",
]


def js_view(page: str) -> str:
    """The text as the browser's JavaScript engine sees it: JSON ``\\uXXXX`` escapes decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def square(x: float, y: float, size: float = 80.0) -> Polygon:
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


@pytest.fixture
def hostile_compounds() -> gpd.GeoDataFrame:
    x, y = 470_000.0, 3_920_000.0  # Rencheng, EPSG:4548
    return gpd.GeoDataFrame(
        {
            "id": [f"c{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "county_code": "370811",
            "households": 100,
            "built_year": 1995,
            "status": ["未开工", "已立项", "已开工", "已完工", "已完工", "<b>bogus</b>"],
        },
        geometry=[square(x + 200 * i, y) for i in range(len(HOSTILE))],
        crs=settings.ANALYSIS_CRS,
    )


# ------------------------------------------------------------------------------------------- escaping
@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("${alert(1)}", "&#36;&#123;alert(1)&#125;"),
        ("{{ 7*7 }}", "&#123;&#123; 7*7 &#125;&#125;"),
        ("a`b", "a&#96;b"),
        ("a\\b", "a&#92;b"),
        ("\"x\" & 'y'", "&quot;x&quot; &amp; &#x27;y&#x27;"),
        ("任城区", "任城区"),
        (12, "12"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
    ],
)
def test_escape_text_known_answers(raw, escaped):
    assert maps.escape_text(raw) == escaped


def test_escaped_text_has_no_active_characters():
    for raw in HOSTILE:
        out = maps.escape_text(raw)
        assert not set(out) & set("<>`$\\\"'{}")


def test_hostile_names_are_inert_in_rendered_map(hostile_compounds):
    m = maps.base_map(hostile_compounds, basemap="none", show_notice=False)
    maps.add_compounds(m, hostile_compounds, name="<i>layer</i>`${1}`")
    maps.add_legend(m, "${title}", [("#ff0000", "<svg onload=alert(4)>"), ("javascript:alert(5)", "x")])
    facilities = gpd.GeoDataFrame(
        {"id": ["f1"], "facility_type": ["clinic"], "name": ["`+alert(6)+`"], "floor_area_m2": [120.0]},
        geometry=[Point(470_100, 3_920_300)], crs=settings.ANALYSIS_CRS,
    )
    maps.add_facilities(m, facilities)
    maps.finish(m)
    page = js_view(m.get_root().render())
    for raw in [*HOSTILE, "<i>layer</i>", "${title}", "<svg onload", "`+alert(6)+`", "javascript:alert"]:
        assert raw not in page, raw
    assert "${alert" not in page and "onerror=alert(1)>" not in page
    for raw in HOSTILE:  # each name is still there, as inert text
        assert maps.escape_text(raw) in page
    assert "&lt;i&gt;layer&lt;/i&gt;&#96;&#36;&#123;1&#125;&#96;" in page
    assert "&lt;svg onload=alert(4)&gt;" in page
    assert "&#96;+alert(6)+&#96;" in page
    assert "&lt;b&gt;bogus&lt;/b&gt;" in page  # an unknown status is shown as escaped text too


def test_tooltip_values_are_escaped_in_feature_properties(hostile_compounds):
    m = maps.base_map(basemap="none", show_notice=False)
    layer = maps.add_compounds(m, hostile_compounds)
    names = [f["properties"]["f0"] for f in layer.data["features"]]
    assert names == [maps.escape_text(n) for n in HOSTILE]
    assert {f["properties"]["layer"] for f in layer.data["features"]} == {"compounds"}
    assert [f["properties"]["key"] for f in layer.data["features"]] == list(hostile_compounds["id"])


# -------------------------------------------------------------------------------------------- offline
def test_default_map_loads_nothing_from_the_internet(demo_layers):
    m = maps.base_map(demo_layers["counties"], basemap="none", show_notice=False)
    maps.add_counties(m, demo_layers["counties"])
    maps.add_compounds(m, demo_layers["compounds"].head(50))
    maps.add_parcels(m, demo_layers["parcels"].head(50))
    maps.add_facilities(m, demo_layers["facilities"].head(50))
    maps.finish(m)
    page = m.get_root().render()
    assert not re.search(r"https?://", page), re.findall(r"https?://\S{0,60}", page)[:5]
    assets = re.findall(r'<script[^>]+src="([^"]+)"', page) + re.findall(r'<link[^>]+href="([^"]+)"', page)
    assert sorted(assets) == sorted([
        "/app/static/vendor/leaflet/leaflet.js",
        "/app/static/vendor/jquery/jquery.min.js",
        "/app/static/vendor/leaflet/leaflet.css",
    ])


def test_offline_assets_exist_in_the_pip_packages_prepare_copies():
    import xstatic.pkg.jquery as jquery
    import xstatic.pkg.leaflet as leaflet

    roots = {"leaflet": leaflet.BASE_DIR, "jquery": jquery.BASE_DIR}
    for _, url in [*maps.OfflineMap.default_js, *maps.OfflineMap.default_css]:
        package, name = url.removeprefix(f"{maps.STATIC_URL}/").split("/", 1)
        assert (Path(roots[package]) / name).is_file(), url


# ------------------------------------------------------------------------------------------- basemaps
def test_resolve_basemap():
    assert maps.resolve_basemap("none") == maps.BasemapChoice("none")
    assert maps.resolve_basemap("bogus") == maps.BasemapChoice("none")
    assert maps.resolve_basemap("tianditu") == maps.BasemapChoice("none", notice="maps.tianditu_no_key")
    assert maps.resolve_basemap("tianditu", key="ab$c") == maps.BasemapChoice("none", notice="maps.tianditu_bad_key")
    good = maps.resolve_basemap("tianditu", key="0123456789abcdef0123456789abcdef")
    assert good.name == "tianditu" and not good.gcj02
    assert maps.resolve_basemap("gaode").gcj02


def test_tianditu_key_from_environment(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert maps.tianditu_key() is None
    monkeypatch.setenv("TIANDITU_KEY", " 0123456789abcdef0123456789abcdef ")
    assert maps.tianditu_key() == "0123456789abcdef0123456789abcdef"
    m = maps.base_map(basemap="tianditu", show_notice=False)
    page = m.get_root().render()
    assert "tianditu.gov.cn/vec_w/wmts" in page and "tianditu.gov.cn/cva_w/wmts" in page
    assert "tk=0123456789abcdef0123456789abcdef" in page


def test_tianditu_without_key_falls_back_to_no_tiles(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    m = maps.base_map(basemap="tianditu", show_notice=False)
    assert m.basemap == "none"
    assert "tianditu" not in m.get_root().render()


def test_osm_and_gaode_tiles():
    assert "tile.openstreetmap.org" in maps.base_map(basemap="osm").get_root().render()
    assert "is.autonavi.com/appmaptile" in maps.base_map(basemap="gaode").get_root().render()


def test_gaode_shifts_data_to_gcj02(hostile_compounds):
    plain = maps.base_map(basemap="none", show_notice=False)
    gaode = maps.base_map(basemap="gaode")
    a = maps.add_compounds(plain, hostile_compounds).data["features"][0]["geometry"]["coordinates"][0][0]
    b = maps.add_compounds(gaode, hostile_compounds).data["features"][0]["geometry"]["coordinates"][0][0]
    expected = wgs84_to_gcj02(*a)
    assert b == pytest.approx(expected, abs=2e-6)
    _, _, metres = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
    assert 400 < metres < 600


# -------------------------------------------------------------------------------------------- payload
def test_display_frame_simplifies_and_rounds(demo_layers):
    counties = demo_layers["counties"]
    shown = maps.display_frame(counties, simplify_m=200)
    assert shown.crs.to_epsg() == 4326
    assert shapely.get_num_coordinates(shown.values).sum() < shapely.get_num_coordinates(counties.geometry.values).sum()
    coords = shapely.get_coordinates(shown.values)
    assert np.array_equal(coords, np.round(coords, 6))
    # unsimplified, the vertices are those of the stored geometry to within the rounding (≈ 0.1 m)
    exact = maps.display_frame(counties, simplify_m=0)
    stored = shapely.get_coordinates(counties.to_crs(4326).geometry.values)
    assert np.abs(shapely.get_coordinates(exact.values) - stored).max() <= 5e-7 + 1e-12


def test_whole_city_map_stays_small(demo_layers):
    compounds = demo_layers["compounds"]
    m = maps.base_map(demo_layers["counties"], basemap="none", show_notice=False)
    maps.add_counties(m, demo_layers["counties"], values=compounds.groupby("county_code")["households"].sum(),
                      value_label="户数", fmt=maps.fmt_int, clickable=True)
    maps.add_compounds(m, compounds)
    assert maps.html_size_bytes(m) < 3_000_000


def test_empty_frames_add_no_layer(demo_layers):
    m = maps.base_map(basemap="none", show_notice=False)
    assert maps.add_compounds(m, demo_layers["compounds"].iloc[:0]) is None
    assert maps.add_facilities(m, demo_layers["facilities"].iloc[:0]) is None
    m.get_root().render()


# -------------------------------------------------------------------------------------- colours, clicks
def test_class_breaks_and_colours():
    assert maps.class_breaks([0.0, 10.0, 5.5, None]) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert maps.class_breaks([0, 10, 5, None]) == [0.0, 3.0, 6.0, 9.0, 11.0]  # counts: 0–2, 3–5, 6–8, 9–10
    assert maps.class_breaks([]) == [0.0, 0.0]
    breaks = maps.class_breaks([0.0, 0.5, 10.0])
    assert [maps.class_color(v, breaks) for v in (0, 1.9, 2, 5, 10)] == [
        maps.SEQUENTIAL[0], maps.SEQUENTIAL[0], maps.SEQUENTIAL[1], maps.SEQUENTIAL[2], maps.SEQUENTIAL[4]
    ]
    assert maps.class_color(float("nan"), breaks) == maps.NO_DATA
    assert maps.class_color(3, [3.0, 3.0]) == maps.SEQUENTIAL[-1]


def test_choropleth_colours_follow_the_values(demo_layers):
    counties = demo_layers["counties"]
    values = pd.Series(range(len(counties)), index=counties["county_code"], dtype=float)
    m = maps.base_map(basemap="none", show_notice=False)
    layer = maps.add_counties(m, counties, values=values, value_label="v", selected="370883")
    lowest, highest = values.idxmin(), values.idxmax()
    assert layer.style_function({"id": lowest})["fillColor"] == maps.SEQUENTIAL[0]
    assert layer.style_function({"id": highest})["fillColor"] == maps.SEQUENTIAL[-1]
    assert layer.style_function({"id": "370883"})["color"] == maps.HIGHLIGHT
    assert layer.style_function({"id": "370811"})["color"] == maps.COUNTY_LINE


def test_clicked_feature():
    result = {"last_active_drawing": {"type": "Feature", "properties": {"layer": "counties", "key": "370811"}}}
    assert maps.clicked_feature(result, layer="counties") == "370811"
    assert maps.clicked_feature(result) == "370811"
    assert maps.clicked_feature(result, layer="compounds") is None
    assert maps.clicked_feature({"last_active_drawing": None}) is None
    assert maps.clicked_feature({"last_active_drawing": {"type": "Feature"}}) is None
    assert maps.clicked_feature(None) is None


def test_legend_html_rejects_non_hex_colours():
    html = maps.legend_html("t", [("red;background:url(x)", "a"), ("#AbC123", "b")])
    assert "url(x)" not in html and maps.NO_DATA in html and "#AbC123" in html
    assert json.dumps(html)  # plain text, goes into the page as a JSON string


def test_compounds_switch_from_dots_to_outlines_with_zoom(hostile_compounds):
    m = maps.base_map(basemap="none", show_notice=False)
    outlines = maps.add_compounds(m, hostile_compounds, as_points="auto")
    layers = [c for c in m._children.values() if isinstance(c, maps.folium.GeoJson)]
    dots = next(layer for layer in layers if layer is not outlines)
    assert {f["geometry"]["type"] for f in outlines.data["features"]} == {"Polygon"}
    assert {f["geometry"]["type"] for f in dots.data["features"]} == {"Point"}
    assert not dots.control and outlines.control
    maps.finish(m)
    page = m.get_root().render()
    assert f"var far = {dots.get_name()}, near = {outlines.get_name()};" in page
    assert f"map.getZoom() >= {maps.OUTLINE_ZOOM}" in page
    assert len(maps.add_compounds(maps.base_map(basemap="none"), hostile_compounds, as_points=True).data["features"]) == 6


def test_template_syntax_in_data_is_never_evaluated(hostile_compounds):
    """folium compiles rendered output as Jinja again; data with ``{{ … }}`` must stay text (no 49, no error)."""
    compounds = hostile_compounds.copy()
    compounds["name"] = ["{{ 7*7 }}", "{% if true %}x{% endif %}", "{# c #}", "{{ lipsum.__globals__ }}", "{", "}"]
    compounds["id"] = ["{{ 6*7 }}", "b", "c", "d", "e", "f"]
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_compounds(m, compounds, name="{{ 5*5 }}")
    maps.add_legend(m, "{{ 4*4 }}", [("#000000", "{{ 3*3 }}")])
    maps.finish(m)
    page = js_view(m.get_root().render())
    assert "{{ 7*7 }}" not in page and "{% if" not in page and "lipsum.__globals__ }}" not in page
    for number in ("49", "25", "16", "9"):
        assert f'"{number}"' not in page and f">{number}<" not in page
    assert "&#123;&#123; 7*7 &#125;&#125;" in page and "&#123;&#123; 4*4 &#125;&#125;" in page
    assert '"{{ 6*7 }}"' in page  # the id is data handed to the script verbatim, not a template
    assert '"42"' not in page


def test_map_renders_once_after_streamlit_folium(hostile_compounds):
    """The download after the map was shown holds one map with each layer once."""
    m = maps.base_map(hostile_compounds, basemap="none", show_notice=False)
    maps.add_compounds(m, hostile_compounds)
    before = m.get_root().render()
    maps.render(m, key="test_map")  # outside a Streamlit run st_folium only builds its message
    after = m.get_root().render()
    assert after.count('class="folium-map"') == before.count('class="folium-map"') == 1
    assert after.count("L.map(") == 1
    assert after.count(".addData(") == before.count(".addData(") == 1
    assert abs(len(after) - len(before)) < 2_000  # same content


def test_map_rendered_after_streamlit_folium_defines_every_layer_it_adds(demo_layers):
    """What the HTML/PNG download renders after the page showed the map refers only to variables it defines."""
    m = maps.base_map(demo_layers["counties"], basemap="none", show_notice=False)
    maps.add_counties(m, demo_layers["counties"], values=pd.Series({"370811": 1.0, "370812": 0.5}), clickable=True)
    maps.add_compounds(m, demo_layers["compounds"], as_points="auto")
    maps.render(m, key="test_map")
    page = m.get_root().render()
    declared = set(re.findall(r"\b(?:var|let|const) ([a-z_]+_[0-9a-f]{32})\b", page))
    used = set(re.findall(r"\b([a-z_]+_[0-9a-f]{32})\b", page))
    layers = {name for name in declared if name.startswith("geo_json_")}
    assert len(layers) == 3  # counties, compound dots, compound outlines
    assert used - declared == set()  # no reference to a layer of an earlier render
    for layer in layers:
        assert len(re.findall(rf"\b{layer}\.addTo\(", page)) <= 1


def test_selected_county_outline_lets_clicks_through(demo_layers):
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_counties(m, demo_layers["counties"], selected="370883", clickable=True)
    layers = [c for c in m._children.values() if isinstance(c, maps.folium.GeoJson)]
    counties, outline = layers
    assert outline.options.get("interactive") is False and "interactive" not in counties.options
    assert [f["id"] for f in outline.data["features"]] == ["370883"]
