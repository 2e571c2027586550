"""What a map costs to build and send: prepared geometries reused by content, each layer's GeoJSON encoded once."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import shapely

from dashboard import _internals, maps


@pytest.fixture
def compounds(demo_layers):
    return demo_layers["compounds"].iloc[:200].copy()


def test_prepared_geometries_are_reused_by_content(compounds):
    first = maps.drawable(compounds)
    assert maps.drawable(compounds.copy()) is first  # same geometries, another frame: no work
    assert maps.drawable(compounds, simplify_m=0) is not first
    assert maps.drawable(compounds, gcj02=True) is not first
    moved = compounds.copy()
    moved.geometry = moved.geometry.translate(xoff=1.0)
    assert maps.drawable(moved) is not first  # one metre east: drawn again


def test_prepared_geometries_are_what_display_frame_draws(compounds):
    drawn = maps.drawable(compounds)
    expected = maps.display_frame(compounds).to_numpy()
    assert len(drawn.geometries) == len(compounds) and drawn.keep.all()
    for geometry, shape in zip(drawn.geometries, expected):
        assert geometry["type"] == "Polygon"
        assert np.array_equal(np.asarray(geometry["coordinates"][0]), shapely.get_coordinates(shape.exterior))
    assert drawn.bounds == tuple(shapely.total_bounds(expected))
    assert not drawn.points


def test_missing_geometries_are_left_out(compounds):
    frame = compounds.iloc[:3].copy()
    frame.loc[frame.index[1], "geometry"] = None
    drawn = maps.drawable(frame)
    assert drawn.keep.tolist() == [True, False, True]
    m = maps.base_map(basemap="none", show_notice=False)
    layer = maps.add_layer(m, frame, layer="compounds", name="x")
    assert [f["id"] for f in layer.data["features"]] == [frame["id"].iloc[0], frame["id"].iloc[2]]


def test_each_layer_is_encoded_once_for_every_render(compounds):
    m = maps.base_map(basemap="none", show_notice=False)
    layer = maps.add_compounds(m, compounds)
    maps.finish(m)
    page = m.get_root().render()
    text = layer.data.__dict__["json_text"]  # made by the first render
    assert json.loads(text) == layer.data
    assert text.startswith('{"type":"FeatureCollection","features":[{"type":"Feature"')  # as built, not re-sorted
    maps.render(m, key="payload-test")  # streamlit-folium renders every element's script again
    assert layer.data.__dict__["json_text"] is text
    assert page.count(text.replace("&", "\\u0026").replace("'", "\\u0027")) == 1
    assert maps.escape_text(compounds["name"].iloc[0]) in page  # Chinese as UTF-8, not six-byte escapes


def test_encoded_text_is_escaped_like_any_other(compounds):
    frame = compounds.iloc[:1].copy()
    frame["name"] = ["</script><script>alert(1)</script>"]
    m = maps.base_map(basemap="none", show_notice=False)
    maps.add_compounds(m, frame)
    maps.finish(m)
    page = m.get_root().render()
    assert "<script>alert(1)" not in page
    assert "\\u0026lt;/script\\u0026gt;" in page  # escape_text's entities, then Jinja's &-escape


def test_without_jinja_policies_layers_are_encoded_as_before(monkeypatch, caplog):
    monkeypatch.setattr(_internals, "_warned", set())

    class Bare:
        environment = object()

    monkeypatch.setattr(_internals.folium.GeoJson, "_template", Bare())
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert _internals.encode_geojson_once() is False
    assert "encoding GeoJSON once per layer" in caplog.text
