"""The one map builder every page uses: folium maps that work offline, with escaped text, legends and basemaps.

How a page draws a map::

    m = maps.base_map(compounds)                 # basemap from the sidebar, fitted to the frame
    maps.add_counties(m, counties)               # outlines (or a choropleth with ``values=``)
    maps.add_compounds(m, compounds)             # outlines coloured by status, with a legend
    maps.render(m, key="idle_map", returned_objects=["last_active_drawing"], on_change=callback)
    downloads.map_downloads(m, "idle_land_map")

Rules kept here so every page follows them:

- **Offline.** Leaflet and jQuery come from ``/app/static/vendor`` (copied from the ``xstatic-leaflet`` and
  ``xstatic-jquery`` pip packages by ``make setup``); no Bootstrap or icon fonts, so only ``GeoJson`` and
  ``CircleMarker`` are used. With the default basemap ``"none"`` the map fetches nothing from anywhere.
- **Escaped.** Every value from the data passes :func:`escape_text` before it reaches a tooltip or a
  legend: HTML-escaped and ``$``, backtick and backslash turned into entities, because folium writes
  tooltip/popup text into JavaScript template strings.
- **Small.** One ``GeoJson`` layer per theme; geometries simplified in EPSG:4548 (a few metres) and
  rounded to 6 decimals (≈ 0.1 m) in EPSG:4326; feature properties hold only the tooltip text.
- **Quiet.** ``prefer_canvas``; :func:`render` passes ``returned_objects`` so panning and zooming never
  rerun the script; a click reaches the page through ``on_change`` and :func:`clicked_feature`.
- **Basemaps.** ``"none"`` (county outlines only), ``"osm"``, ``"gaode"`` (data shifted from WGS84 to
  GCJ-02 with :mod:`analytics.coords` so it sits on Gaode's tiles), ``"tianditu"`` (needs a key from
  ``st.secrets["TIANDITU_KEY"]`` or the environment variable ``TIANDITU_KEY``; without one the map says
  so and falls back to ``"none"``).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template
from pyproj import Transformer
from shapely.geometry import mapping
from streamlit_folium import st_folium

from analytics import settings
from analytics.coords import geometries_to_gcj02
from dashboard._internals import EncodedOnce, GeoJsonLayer, drop_stale_renders, encode_geojson_once, keep_element_ids
from dashboard.formatting import (
    category_label,
    facility_label,
    fmt_int,
    fmt_m2,
    fmt_number,
    is_missing,
    status_name,
    unit_name,
)
from dashboard.labels import t

log = logging.getLogger(__name__)
encode_geojson_once()  # each layer's GeoJSON is encoded once per map, not on every render of it

Basemap = Literal["none", "osm", "gaode", "tianditu"]
BASEMAPS: tuple[str, ...] = ("none", "osm", "gaode", "tianditu")

STATIC_URL = "/app/static/vendor"
"""Where Streamlit serves ``static/vendor`` (``enableStaticServing``); see ``scripts/prepare.py``."""

SIMPLIFY_M = 3.0
"""Default simplification tolerance for polygons drawn on a map, metres in EPSG:4548."""
DECIMALS = 6
"""Decimals kept in drawn lon/lat coordinates (1e-6° ≈ 0.1 m)."""

# ---------------------------------------------------------------------------------------------- colours
STATUS_COLORS: dict[str, str] = {"未开工": "#9E9E9E", "已立项": "#2F80ED", "已开工": "#F2994A", "已完工": "#27AE60"}
PARCEL_TYPE_COLORS: dict[str, str] = {"闲置用地": "#8E44AD", "低效用地": "#D35400", "空置房屋": "#16A085", "零星地块": "#7F8C8D"}
FACILITY_COLORS: dict[str, str] = {
    "elderly_care": "#E74C3C", "kindergarten": "#F1C40F", "clinic": "#1ABC9C", "service_station": "#3498DB",
    "market": "#E67E22", "parking": "#34495E", "sports": "#2ECC71", "ev_charging": "#9B59B6",
    "childcare": "#F8C471", "culture": "#AF7AC5", "meal": "#DC7633", "housekeeping": "#76D7C4",
    "convenience": "#F5B041", "toilet": "#85929E", "parcel_lockers": "#5DADE2",
}
SEQUENTIAL = ("#EFF3FF", "#BDD7E7", "#6BAED6", "#3182BD", "#08519C")  # ColorBrewer Blues, 5 classes
HIGHLIGHT = "#C0392B"  # the app's primary colour: selections
SITE_COLOR = "#1B2631"  # proposed sites: near-black numbered badges, apart from every red, status and type colour
COUNTY_LINE = "#5D6D7E"
NO_DATA = "#D5D8DC"
MAP_BACKGROUND = "#F4F6F8"  # seen where no tiles are drawn (basemap "none")
CHOROPLETH_OPACITY = 1.0
"""Fill opacity of a choropleth: opaque, so a county shows exactly its legend swatch's colour."""


LEGEND_FONT_PX = {False: 12, True: 18}
"""Legend type size on a normal map and on a large (meeting, projector) one, pixels."""

# ---------------------------------------------------------------------------------------------- escaping
_JS_TEMPLATE_ENTITIES = str.maketrans({"$": "&#36;", "`": "&#96;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def escape_text(value: object) -> str:
    """``value`` as text that is inert in HTML and inside a JavaScript template string.

    HTML-escapes ``& < > " '`` and turns ``$``, backtick and backslash into HTML entities, so that neither
    markup (``<img onerror=…>``) nor template-string interpolation (``${…}``, a closing backtick) survives.
    Braces become entities too: folium compiles rendered element output as a Jinja template again, so a
    ``{{ … }}`` from the data would otherwise be evaluated on the server. ``None``, NaN and ``pd.NA``
    become the empty string.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_ENTITIES)


# ---------------------------------------------------------------------------------------------- basemaps
@dataclass(frozen=True)
class BasemapChoice:
    """The basemap to draw, after checking what the user asked for against what is available."""

    name: str
    tianditu_key: str | None = None
    notice: str | None = None  # label key of a message to show (e.g. Tianditu without a key)

    @property
    def gcj02(self) -> bool:
        """Whether data must be shifted to GCJ-02 to sit on these tiles (Gaode)."""
        return self.name == "gaode"


_TIANDITU_KEY = re.compile(r"^[0-9A-Za-z]{16,64}$")


def tianditu_key() -> str | None:
    """The Tianditu browser key from ``st.secrets["TIANDITU_KEY"]`` or the ``TIANDITU_KEY`` environment variable."""
    key = None
    try:
        key = st.secrets.get("TIANDITU_KEY")
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        key = None
    key = key or os.environ.get("TIANDITU_KEY")
    return str(key).strip() if key else None


def resolve_basemap(requested: str | None, *, key: str | None = None) -> BasemapChoice:
    """Turn the sidebar's choice into a drawable basemap (``"none"`` when it cannot be drawn)."""
    if requested not in BASEMAPS:
        return BasemapChoice("none")
    if requested == "tianditu":
        if not key:
            return BasemapChoice("none", notice="maps.tianditu_no_key")
        if not _TIANDITU_KEY.match(key):
            return BasemapChoice("none", notice="maps.tianditu_bad_key")
        return BasemapChoice("tianditu", tianditu_key=key)
    return BasemapChoice(requested)


def _add_tiles(m: folium.Map, choice: BasemapChoice) -> None:
    if choice.name == "osm":
        folium.TileLayer("OpenStreetMap", name=t("basemap.osm"), control=False).add_to(m)
    elif choice.name == "gaode":
        folium.TileLayer(
            tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            attr="&copy; 高德地图 AutoNavi", subdomains="1234", name=t("basemap.gaode"), control=False, max_zoom=18,
        ).add_to(m)
    elif choice.name == "tianditu":
        for layer in ("vec", "cva"):
            folium.TileLayer(
                tiles=(
                    f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                    f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                    f"&TILECOL={{x}}&tk={choice.tianditu_key}"
                ),
                attr="&copy; 天地图 Tianditu", subdomains="01234567", name=t("basemap.tianditu"),
                overlay=layer == "cva", control=False, max_zoom=18,
            ).add_to(m)


# ------------------------------------------------------------------------------------------------ the map
class OfflineMap(folium.Map):
    """A ``folium.Map`` whose Leaflet and jQuery come from the app's own static files, not from CDNs."""

    default_js = [
        ("leaflet", f"{STATIC_URL}/leaflet/leaflet.js"),
        ("jquery", f"{STATIC_URL}/jquery/jquery.min.js"),
    ]
    default_css = [("leaflet_css", f"{STATIC_URL}/leaflet/leaflet.css")]

    #: set by :func:`base_map`: the basemap drawn, and whether data is shifted to GCJ-02 (Gaode tiles)
    basemap: str = "none"
    gcj02: bool = False
    _finished: bool = False


class _MetricScale(MacroElement):
    """The scale bar in metres and kilometres only (Leaflet's own adds miles and feet)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({"imperial": false, "metric": true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class _Background(MacroElement):
    """Paints the map's background (seen where no tiles are drawn)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.getContainer().style.background = {{ this.color|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, color: str):
        super().__init__()
        self._name = "Background"
        self.color = color


class Legend(MacroElement):
    """A legend box (Leaflet control) listing colour swatches and their labels; the text is escaped."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create('div', 'jiugai-legend');
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        items: Sequence[tuple[str, str]],
        *,
        shape: Literal["box", "circle", "line", "badge"] = "box",
        position: str = "bottomright",
        font_px: int = 12,
        fill_opacity: float = 1.0,
    ):
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.html = legend_html(title, items, shape=shape, font_px=font_px, fill_opacity=fill_opacity)


def legend_html(
    title: str, items: Sequence[tuple[str, str]], *, shape: str = "box", font_px: int = 12,
    fill_opacity: float = 1.0,
) -> str:
    """The legend's HTML: an escaped title and one row per ``(colour, label)``.

    ``fill_opacity`` below 1 draws each swatch as the layer draws its fill: the colour at that opacity over
    the map's background, so a swatch and the features it names look the same. ``shape="badge"`` draws the
    numbered badge of :func:`add_sites` (a "1" on the colour).
    """
    size = round(font_px * 1.1)
    radius = "50%" if shape in ("circle", "badge") else "2px"
    height = 3 if shape == "line" else size
    inner = "1" if shape == "badge" else ""
    badge = (f"color:#fff;font-size:{round(font_px * 0.8)}px;font-weight:700;line-height:{size}px;text-align:center;"
             if shape == "badge" else "")
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span style="display:inline-block;width:{size}px;height:{height}px;border-radius:{radius};{badge}'
        f'background:{_swatch(color, fill_opacity)};border:1px solid #555">{inner}</span>{escape_text(label)}</div>'
        for color, label in items
    )
    return (
        f'<div style="background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;'
        f'box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:{font_px}px;line-height:1.3;max-width:260px">'
        f'<div style="font-weight:600;margin-bottom:3px">{escape_text(title)}</div>{rows}</div>'
    )


_CSS_COLOR = re.compile(r"^#[0-9A-Fa-f]{3,8}$")


def _swatch(color: str, fill_opacity: float) -> str:
    """CSS background of a legend swatch: ``color`` at ``fill_opacity`` over the map's background."""
    color = _css_color(color)
    if fill_opacity >= 1.0 or len(color) != 7:
        return color
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    tint = f"rgba({r},{g},{b},{fill_opacity:g})"
    return f"linear-gradient({tint},{tint}),{MAP_BACKGROUND}"


def _css_color(color: str) -> str:
    return color if _CSS_COLOR.match(color) else NO_DATA


def base_map(
    fit: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    basemap: str | None = None,
    max_zoom: int = 17,
    show_notice: bool = True,
    padding_px: int = 0,
) -> OfflineMap:
    """An empty map with the sidebar's basemap (or ``basemap``), a scale bar, fitted to ``fit``.

    Parameters
    ----------
    fit
        Frame (any CRS) whose extent the map opens on; ``None`` opens on the whole city.
    basemap
        ``"none"``, ``"osm"``, ``"gaode"`` or ``"tianditu"``; ``None`` takes ``st.session_state["basemap"]``.
    max_zoom
        Closest zoom when fitting (a single compound should not fill the screen).
    show_notice
        Show the message when the chosen basemap cannot be drawn (Tianditu without a key).
    padding_px
        Room kept between ``fit``'s extent and the map's edge (symbols drawn at the edge stay whole).
    """
    requested = basemap if basemap is not None else st.session_state.get("basemap", "none")
    choice = resolve_basemap(requested, key=tianditu_key() if requested == "tianditu" else None)
    if choice.notice and show_notice:
        st.info(t(choice.notice), icon=":material/map:")
    m = OfflineMap(
        location=[35.4, 116.6], zoom_start=9, tiles=None, prefer_canvas=True, control_scale=False,
        max_zoom=18, min_zoom=6, zoom_snap=0.25, zoom_delta=0.5,
    )
    m.gcj02 = choice.gcj02
    m.basemap = choice.name
    _add_tiles(m, choice)
    _MetricScale().add_to(m)
    if choice.name == "none":
        _Background(MAP_BACKGROUND).add_to(m)
    fit_to(m, fit, max_zoom=max_zoom, padding_px=padding_px)
    return m


def fit_to(m: OfflineMap, frame: gpd.GeoDataFrame | gpd.GeoSeries | None, *, max_zoom: int = 17,
           padding_px: int = 0) -> None:
    """Open the map on ``frame``'s extent (the whole city when ``frame`` is ``None`` or empty)."""
    lon0, lat0, lon1, lat1 = settings.JINING_BOUNDS_DEG
    if frame is not None and len(frame) and frame.crs is not None:
        shown = display_frame(frame, gcj02=m.gcj02, simplify_m=0)
        b = shown.total_bounds
        if np.isfinite(b).all():
            lon0, lat0, lon1, lat1 = (float(v) for v in b)
    elif m.gcj02:
        (lon0, lon1), (lat0, lat1) = _shift_pair((lon0, lon1), (lat0, lat1))
    m.fit_bounds([[lat0, lon0], [lat1, lon1]], max_zoom=max_zoom,
                 **({"padding": (padding_px, padding_px)} if padding_px else {}))


def _shift_pair(lons: tuple[float, float], lats: tuple[float, float]) -> tuple[tuple, tuple]:
    from analytics.coords import wgs84_to_gcj02

    x, y = wgs84_to_gcj02(np.array(lons), np.array(lats))
    return (float(x[0]), float(x[1])), (float(y[0]), float(y[1]))


# ------------------------------------------------------------------------------------------ geometries
def display_frame(
    frame: gpd.GeoDataFrame | gpd.GeoSeries, *, gcj02: bool = False, simplify_m: float = SIMPLIFY_M
) -> gpd.GeoSeries:
    """``frame``'s geometries ready to draw: simplified in EPSG:4548, in EPSG:4326, shifted, rounded.

    Points are never simplified. ``gcj02`` shifts WGS84 to GCJ-02 (Gaode tiles). Coordinates are rounded
    to :data:`DECIMALS` decimals.
    """
    geo = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if geo.crs is None:
        raise ValueError("A frame drawn on a map needs a CRS; set it first (the store gives EPSG:4548).")
    epsg = geo.crs.to_epsg()
    if epsg not in (settings.ANALYSIS_CRS, settings.STORAGE_CRS):
        geo = geo.to_crs(settings.ANALYSIS_CRS)
        epsg = settings.ANALYSIS_CRS
    geoms = np.asarray(geo.values, dtype=object)
    if simplify_m > 0 and not geo.geom_type.isin(["Point", "MultiPoint"]).all():
        if epsg == settings.STORAGE_CRS:
            geoms = shapely.transform(geoms, _transformer(settings.STORAGE_CRS, settings.ANALYSIS_CRS))
            epsg = settings.ANALYSIS_CRS
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    if epsg == settings.ANALYSIS_CRS:
        geoms = shapely.transform(geoms, _transformer(settings.ANALYSIS_CRS, settings.STORAGE_CRS))
    shown = gpd.GeoSeries(geoms, index=geo.index, crs=settings.STORAGE_CRS)
    if gcj02:
        shown = geometries_to_gcj02(shown)
    rounded = shapely.transform(np.asarray(shown.values, dtype=object), lambda c: np.round(c, DECIMALS))
    return gpd.GeoSeries(rounded, index=geo.index, crs=settings.STORAGE_CRS)


@functools.cache
def _pyproj_transformer(source: int, target: int) -> Transformer:
    # pyproj builds the PROJ object again in every thread (and Streamlit runs each rerun in a new thread);
    # from EPSG codes that costs ~50 ms of database lookups, from the resolved pipeline well under 1 ms.
    return Transformer.from_pipeline(Transformer.from_crs(source, target, always_xy=True).definition)


def _transformer(source: int, target: int) -> Callable[[np.ndarray], np.ndarray]:
    """A coordinate function for ``shapely.transform`` from EPSG ``source`` to ``target`` (lon/lat order)."""
    transformer = _pyproj_transformer(source, target)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


# ------------------------------------------------------------------------------------------------ layers
Field = tuple[str, str] | tuple[str, str, Callable[[object], str]]
"""A tooltip row: ``(column, label)`` or ``(column, label, formatter)``; the label is already translated."""


@dataclass(frozen=True)
class Style:
    """How a layer is drawn (Leaflet path options)."""

    color: str = "#2C3E50"
    weight: float = 1.5
    fill_color: str | None = None
    fill_opacity: float = 0.35
    opacity: float = 0.9
    radius: float = 5.0  # points only, pixels
    dash: str | None = None

    def leaflet(self, color: str | None = None, fill: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "color": color or self.color,
            "weight": self.weight,
            "opacity": self.opacity,
            "fillColor": fill or self.fill_color or color or self.color,
            "fillOpacity": self.fill_opacity,
        }
        if self.dash:
            out["dashArray"] = self.dash
        return out


def add_layer(
    m: OfflineMap,
    frame: gpd.GeoDataFrame,
    *,
    layer: str,
    name: str,
    id_column: str = "id",
    fields: Sequence[Field] = (),
    style: Style = Style(),
    colors: Mapping[str, str] | pd.Series | None = None,
    line_colors: Mapping[str, str] | pd.Series | None = None,
    simplify_m: float = SIMPLIFY_M,
    highlight: bool = False,
    show: bool = True,
    interactive: bool = True,
) -> folium.GeoJson | None:
    """Add ``frame`` as one ``GeoJson`` layer with escaped tooltips; returns it (``None`` when empty).

    Parameters
    ----------
    frame
        Geometries in any CRS with a unique ``id_column``.
    layer
        Theme name stored in each feature (``"counties"``, ``"compounds"``, …) so a click can be told apart.
    name
        Layer name shown in the layer control (translated).
    fields
        Tooltip rows; every value is formatted and then passed through :func:`escape_text`.
    style
        Base style; ``colors`` (feature id → colour, a Series indexed by id or a dict) overrides the fill
        (and outline unless ``line_colors`` is given) per feature.
    highlight
        Thicken a feature's outline under the mouse (for clickable layers).
    interactive
        ``False`` lets clicks and hovers pass through to the layers below (outlines drawn on top).
    """
    if frame is None or len(frame) == 0:
        return None
    keys = frame[id_column].astype(str).to_numpy()
    drawn = drawable(frame, gcj02=m.gcj02, simplify_m=simplify_m)
    keep = drawn.keep
    if not keep.any():
        return None
    properties = _properties(frame, layer, keys, fields)
    features = [
        {"type": "Feature", "id": key, "properties": props, "geometry": geometry}
        for key, props, geometry, kept in zip(keys, properties, drawn.geometries, keep)
        if kept
    ]
    fill = _lookup(colors)
    line = _lookup(line_colors)
    by_colours: dict[tuple, dict[str, Any]] = {}
    styles: dict[str, dict[str, Any]] = {}
    for key in keys[keep]:
        colours = (line.get(key, fill.get(key)), fill.get(key))
        if colours not in by_colours:
            by_colours[colours] = style.leaflet(color=colours[0], fill=colours[1])
        styles[key] = by_colours[colours]

    def style_function(feature: dict) -> dict:
        return styles.get(feature["id"], style.leaflet())

    def highlight_function(feature: dict) -> dict:
        return {"weight": style.weight + 2.5, "fillOpacity": min(1.0, style.fill_opacity + 0.2)}

    points = drawn.points
    tooltip = None
    if fields:
        tooltip = folium.GeoJsonTooltip(
            fields=[f"f{i}" for i in range(len(fields))],
            aliases=[escape_text(field[1]) for field in fields],
            sticky=True,
        )
    b = drawn.bounds
    geojson = GeoJsonLayer(
        EncodedOnce({"type": "FeatureCollection", "features": features}),
        styles=styles,
        bounds=[[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]],
        name=escape_text(name),
        style_function=style_function,
        highlight_function=highlight_function if highlight else None,
        tooltip=tooltip,
        marker=folium.CircleMarker(radius=style.radius, fill=True) if points else None,
        show=show,
        smooth_factor=0.5,
        **({} if interactive else {"interactive": False}),
    )
    geojson.add_to(m)
    return geojson


@dataclass(frozen=True)
class Drawable:
    """A frame's geometries as drawn: GeoJSON geometry dicts (shared between maps: never modify them), which
    rows have one, whether all are points, and their bounds (lon0, lat0, lon1, lat1)."""

    geometries: list[dict | None]
    keep: np.ndarray
    points: bool
    bounds: tuple[float, float, float, float]


DRAWABLE_CACHE_ENTRIES = 48
"""Prepared layers kept in memory by :func:`drawable` (the demo's largest, every parcel, is ~2 MB)."""
_drawables: dict[tuple, Drawable] = {}
_drawables_lock = threading.Lock()


def drawable(frame: gpd.GeoDataFrame, *, gcj02: bool = False, simplify_m: float = SIMPLIFY_M) -> Drawable:
    """``frame``'s geometries ready for a GeoJSON layer (:func:`display_frame`, then GeoJSON dicts).

    Remembered by the geometries' content (a digest of their WKB), the CRS, ``gcj02`` and ``simplify_m``: the
    same layer drawn again — a rerun, another session, the same county — skips the reprojection,
    simplification and conversion, which were most of the time a page spent building its map.
    """
    geo = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    wkb = shapely.to_wkb(np.asarray(geo.values, dtype=object))
    digest = hashlib.blake2b(digest_size=16)
    for item in wkb:
        digest.update(item if item is not None else b"-")
    key = (digest.digest(), str(geo.crs), bool(gcj02), float(simplify_m))
    with _drawables_lock:
        found = _drawables.get(key)
    if found is not None:
        return found
    geoms = display_frame(frame, gcj02=gcj02, simplify_m=simplify_m).to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = tuple(float(v) for v in shapely.total_bounds(geoms[keep])) if keep.any() else (0.0, 0.0, 0.0, 0.0)
    made = Drawable(_geojson_geometries(geoms), keep, bool(np.all(shapely.get_type_id(geoms[keep]) == 0)), bounds)
    with _drawables_lock:
        if len(_drawables) >= DRAWABLE_CACHE_ENTRIES:
            _drawables.pop(next(iter(_drawables)))  # the oldest
        _drawables[key] = made
    return made


def _geojson_geometries(geoms: np.ndarray) -> list[dict | None]:
    """GeoJSON geometry dicts; points and hole-free polygons in bulk, anything else through shapely."""
    out: list[dict | None] = [None] * len(geoms)
    type_id = shapely.get_type_id(geoms)
    points = np.flatnonzero(type_id == 0)
    if len(points):
        for pos, xy in zip(points, shapely.get_coordinates(geoms[points]).tolist()):
            out[pos] = {"type": "Point", "coordinates": xy}
    simple = np.flatnonzero((type_id == 3) & (shapely.get_num_interior_rings(geoms) == 0))
    if len(simple):
        rings = shapely.get_exterior_ring(geoms[simple])
        coords, owner = shapely.get_coordinates(rings, return_index=True)
        cuts = np.flatnonzero(np.diff(owner)) + 1
        for pos, part in zip(simple, np.split(coords, cuts)):
            out[pos] = {"type": "Polygon", "coordinates": [part.tolist()]}
    for pos in np.flatnonzero(np.array([o is None for o in out])):
        if geoms[pos] is not None and not shapely.is_empty(geoms[pos]):
            out[pos] = mapping(geoms[pos])
    return out


def _lookup(colors: Mapping[str, str] | pd.Series | None) -> dict[str, str]:
    if colors is None:
        return {}
    items = colors.items()
    return {str(k): _css_color(str(v)) for k, v in items if isinstance(v, str)}


def _properties(frame: pd.DataFrame, layer: str, keys: np.ndarray, fields: Sequence[Field]) -> list[dict]:
    columns = []
    for field in fields:
        column, formatter = field[0], (field[2] if len(field) > 2 else None)
        values = frame[column].tolist() if column in frame.columns else [None] * len(frame)
        columns.append(_formatted(values, formatter))
    return [
        {"layer": layer, "key": key, **{f"f{i}": col[row] for i, col in enumerate(columns)}}
        for row, key in enumerate(keys)
    ]


def _formatted(values: list, formatter: Callable[[object], str] | None) -> list[str]:
    """Each value formatted and escaped; each distinct value only once (labels look up the session language)."""
    seen: dict[Any, str] = {}
    out = []
    for value in values:
        try:
            hash(value)
        except TypeError:  # unhashable (a list): format it every time
            out.append(escape_text(formatter(value) if formatter else value))
            continue
        if value not in seen:
            seen[value] = escape_text(formatter(value) if formatter else value)
        out.append(seen[value])
    return out


def add_legend(
    m: OfflineMap,
    title: str,
    items: Sequence[tuple[str, str]],
    *,
    shape: Literal["box", "circle", "line", "badge"] = "box",
    position: str = "bottomright",
    large: bool = False,
    fill_opacity: float = 1.0,
) -> Legend:
    """Add a legend box; ``items`` are ``(colour, label)`` pairs (labels escaped here).

    ``fill_opacity`` is the named layer's: its swatches are drawn at it (see :func:`legend_html`).
    """
    legend = Legend(title, items, shape=shape, position=position, font_px=LEGEND_FONT_PX[large],
                    fill_opacity=fill_opacity)
    legend.add_to(m)
    return legend


# ---------------------------------------------------------------------------------------------- themes
def class_breaks(values: Iterable[float], *, k: int = 5) -> list[float]:
    """At most ``k`` classes over the finite values: their edges, lowest first.

    Counts (whole numbers only) get whole-number classes that do not overlap: edge ``e`` starts a class,
    which ends at the next edge minus 1 (``[4, 6, 8, 10]`` is 4–5, 6–7, 8–9; see :func:`integer_classes`).
    Other values get ``k`` equal intervals (``k + 1`` edges). All-equal or no values give ``[v, v]``.
    """
    arr = np.asarray([v for v in values if not is_missing(v)], dtype=float)
    if arr.size == 0:
        return [0.0, 0.0]
    low, high = float(arr.min()), float(arr.max())
    if math.isclose(low, high):
        return [low, high]
    if integer_classes(arr):
        count = int(high - low) + 1
        width = math.ceil(count / min(k, count))
        return [float(e) for e in range(int(low), int(high) + 1, width)] + [high + 1.0]
    return [float(v) for v in np.linspace(low, high, k + 1)]


def integer_classes(values: Iterable[float]) -> bool:
    """True when every finite value is a whole number (counts): classes are then whole-number ranges."""
    arr = np.asarray([v for v in values if not is_missing(v)], dtype=float)
    return bool(arr.size) and bool(np.all(arr == np.round(arr)))


def class_color(value: object, breaks: Sequence[float], palette: Sequence[str] = SEQUENTIAL) -> str:
    """The colour of ``value``'s class (``NO_DATA`` grey for missing values)."""
    if is_missing(value):
        return NO_DATA
    if len(breaks) <= 2:
        return palette[-1] if len(breaks) == 2 and breaks[0] == breaks[1] else palette[0]
    n = len(breaks) - 1
    idx = int(np.searchsorted(breaks[1:-1], float(value), side="right"))
    return palette[round(idx * (len(palette) - 1) / max(n - 1, 1))]


def add_counties(
    m: OfflineMap,
    counties: gpd.GeoDataFrame,
    *,
    values: pd.Series | None = None,
    value_label: str | None = None,
    fmt: Callable[[object], str] = fmt_number,
    extra_fields: Sequence[Field] = (),
    selected: str | None = None,
    large: bool = False,
    clickable: bool = False,
    unit: str | None = None,
    labels: bool = True,
    unbounded: pd.Series | None = None,
) -> folium.GeoJson | None:
    """County outlines, or a choropleth of ``values`` (Series indexed by ``county_code``) with its legend.

    ``selected`` (a county code) is outlined in the highlight colour; ``clickable`` adds a hover effect.
    A choropleth's legend is titled ``value_label`` with ``unit``; with ``labels`` every county carries its
    name and value (:class:`CountyLabels`). ``unbounded`` holds the values of units without a boundary
    of their own (function zones, by code), listed in a box beside the map in their class colours.
    """
    frame = counties.assign(_label=[unit_name(c) for c in counties["county_code"]])
    fields: list[Field] = [("_label", t("col.county"))]
    colors = None
    if values is not None:
        frame["_value"] = frame["county_code"].map(values)
        fields.append(("_value", value_label or "", fmt))
        breaks = class_breaks(frame["_value"])
        colors = pd.Series([class_color(v, breaks) for v in frame["_value"]], index=frame["county_code"].astype(str))
        title = t("maps.legend_unit", label=value_label or "", unit=unit) if unit else value_label or ""
        add_legend(m, title, _class_items(breaks, fmt, integer=integer_classes(frame["_value"])), large=large,
                   position="bottomleft")
        if unbounded is not None and len(unbounded):
            add_legend(m, t("maps.unbounded"), [(class_color(v, breaks), f"{unit_name(code)} {fmt(v)}")
                                                for code, v in unbounded.items()], large=large)
        if labels:
            CountyLabels(county_labels(counties, values, fmt=fmt, selected=selected, gcj02=m.gcj02),
                         large=large).add_to(m)
    fields.extend(extra_fields)
    line = {str(c): (HIGHLIGHT if c == selected else COUNTY_LINE) for c in frame["county_code"]}
    style = Style(color=COUNTY_LINE, weight=3 if large else 2,
                  fill_opacity=CHOROPLETH_OPACITY if values is not None else 0.02,
                  fill_color="#FFFFFF")
    layer = add_layer(
        m, frame, layer="counties", name=t("maps.layer.counties"), id_column="county_code", fields=fields,
        style=style, colors=colors, line_colors=line, simplify_m=20.0, highlight=clickable,
    )
    if selected is not None and selected in set(frame["county_code"]):
        add_layer(
            m, frame[frame["county_code"] == selected], layer="selection", name=t("maps.layer.selection"),
            id_column="county_code", style=Style(color=HIGHLIGHT, weight=4, fill_opacity=0.0), simplify_m=20.0,
            interactive=False,  # a click on the selected county reaches the county layer below
        )
    return layer


def _class_items(breaks: Sequence[float], fmt: Callable[[object], str], *,
                 integer: bool = False) -> list[tuple[str, str]]:
    """Legend rows of ``breaks``; whole-number classes end one below the next class's start (no overlap)."""
    if len(breaks) <= 2 and not (integer and len(breaks) == 2 and breaks[1] > breaks[0]):
        return [(class_color(breaks[0], breaks), fmt(breaks[0]))]
    if integer:
        return [
            (class_color(lo, breaks), fmt(int(lo)) if hi - 1 <= lo else f"{fmt(int(lo))} – {fmt(int(hi - 1))}")
            for lo, hi in zip(breaks[:-1], breaks[1:])
        ]
    return [
        (class_color((lo + hi) / 2, breaks), f"{fmt(lo)} – {fmt(hi)}")
        for lo, hi in zip(breaks[:-1], breaks[1:])
    ]


def compound_fields() -> list[Field]:
    """The default tooltip rows of a compound."""
    return [
        ("name", t("col.name")),
        ("county_code", t("col.county"), unit_name),
        ("households", t("col.households"), fmt_int),
        ("built_year", t("col.built_year")),
        ("status", t("col.status"), status_name),
    ]


def add_compounds(
    m: OfflineMap,
    compounds: gpd.GeoDataFrame,
    *,
    color_by: str | None = "status",
    palette: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    legend_title: str | None = None,
    fields: Sequence[Field] | None = None,
    color: str = "#34495E",
    name: str | None = None,
    layer: str = "compounds",
    large: bool = False,
    weight: float = 1.5,
    as_points: bool | Literal["auto"] = False,
) -> folium.GeoJson | None:
    """Compound outlines, coloured by ``color_by`` (default: status, with its legend).

    ``palette`` maps each value of ``color_by`` to a colour and ``labels`` to its legend text (defaults
    for ``status``); ``color_by=None`` draws every compound in ``color``. ``as_points=True`` draws a dot at
    each compound instead (outlines vanish when a whole county is in view); ``"auto"`` draws dots below
    zoom :data:`OUTLINE_ZOOM` and outlines from it on.
    """
    colors = None
    if color_by is not None:
        palette = dict(palette or (STATUS_COLORS if color_by == "status" else {}))
        colors = pd.Series(
            [palette.get(v, color) for v in compounds[color_by]], index=compounds["id"].astype(str)
        )
        shown = [v for v in palette if v in set(compounds[color_by])]
        if shown:
            text = dict(labels or {})
            if color_by == "status" and not text:
                text = {v: category_label("status", v) for v in palette}
            add_legend(
                m, legend_title or t("col.status"), [(palette[v], text.get(v, str(v))) for v in shown], large=large,
                shape="circle" if as_points else "box",
            )
    fields = compound_fields() if fields is None else fields
    name = name or t("maps.layer.compounds")
    outlines = None
    if as_points is not True:
        outlines = add_layer(m, compounds, layer=layer, name=name, fields=fields, colors=colors,
                             style=Style(color=color, weight=weight, fill_opacity=0.45))
    if not as_points:
        return outlines
    dots = add_layer(
        m, compounds.set_geometry(compounds.geometry.representative_point()), layer=layer, name=name,
        fields=fields, colors=colors, line_colors={k: "#FFFFFF" for k in compounds["id"].astype(str)},
        style=Style(color="#FFFFFF", weight=1, fill_opacity=0.95, radius=7 if large else 5),
    )
    if outlines is not None and dots is not None:
        dots.control = False  # one entry in the layer control; the zoom decides which one shows
        ZoomSwitch(far=dots, near=outlines, zoom=OUTLINE_ZOOM).add_to(m)
    return outlines if outlines is not None else dots


OUTLINE_ZOOM = 14
"""From this zoom on, compounds are drawn as outlines; below it as dots (``add_compounds(as_points="auto")``)."""


class ZoomSwitch(MacroElement):
    """Shows ``far`` below ``zoom`` and ``near`` from ``zoom`` on (dots for the city, outlines up close)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var far = {{ this.far.get_name() }}, near = {{ this.near.get_name() }};
            function zoomSwitch() {
                var close = map.getZoom() >= {{ this.zoom|tojson }};
                if (close) { map.removeLayer(far); if (!map.hasLayer(near)) { map.addLayer(near); } }
                else { map.removeLayer(near); if (!map.hasLayer(far)) { map.addLayer(far); } }
            }
            map.on("zoomend", zoomSwitch);
            setTimeout(zoomSwitch, 0);  // after streamlit-folium has hooked its click handlers to both layers
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, far: folium.GeoJson, near: folium.GeoJson, zoom: int):
        super().__init__()
        self._name = "ZoomSwitch"
        self.far, self.near, self.zoom = far, near, int(zoom)


def add_parcels(
    m: OfflineMap,
    parcels: gpd.GeoDataFrame,
    *,
    highlight_ids: Iterable[str] | None = None,
    fields: Sequence[Field] | None = None,
    name: str | None = None,
    large: bool = False,
) -> folium.GeoJson | None:
    """Parcels coloured by type; with ``highlight_ids`` those are drawn strong and the rest faint."""
    fields = fields if fields is not None else [
        ("id", t("col.id")),
        ("parcel_type", t("maps.field.parcel_type"), lambda v: category_label("parcel_type", v)),
        ("area_m2", t("maps.field.area_m2"), fmt_m2),
        ("ownership", t("maps.field.ownership"), lambda v: category_label("ownership", v)),
    ]
    colors = pd.Series(
        [PARCEL_TYPE_COLORS.get(v, "#7F8C8D") for v in parcels["parcel_type"]], index=parcels["id"].astype(str)
    )
    present = [v for v in PARCEL_TYPE_COLORS if v in set(parcels["parcel_type"])]
    if present:
        add_legend(
            m, t("maps.field.parcel_type"),
            [(PARCEL_TYPE_COLORS[v], category_label("parcel_type", v)) for v in present],
            position="topright", large=large,
        )
    if highlight_ids is None:
        return add_layer(m, parcels, layer="parcels", name=name or t("maps.layer.parcels"), fields=fields,
                         style=Style(weight=1, fill_opacity=0.55), colors=colors)
    wanted = set(map(str, highlight_ids))
    strong = parcels["id"].astype(str).isin(wanted).to_numpy()
    add_layer(m, parcels[~strong], layer="parcels", name=t("maps.layer.parcels_other"), fields=fields,
              style=Style(weight=0.5, fill_opacity=0.12, opacity=0.35), colors=colors)
    return add_layer(m, parcels[strong], layer="parcels", name=name or t("maps.layer.parcels_reachable"),
                     fields=fields, style=Style(weight=1.5, fill_opacity=0.75), colors=colors)


def add_facilities(
    m: OfflineMap,
    facilities: gpd.GeoDataFrame,
    *,
    fields: Sequence[Field] | None = None,
    name: str | None = None,
    radius: float = 4.0,
    large: bool = False,
) -> folium.GeoJson | None:
    """Facility points as small circles coloured by ``facility_type``, with a legend of the types shown."""
    fields = fields if fields is not None else [
        ("name", t("col.name")),
        ("facility_type", t("maps.field.facility_type"), facility_label),
        ("floor_area_m2", t("col.floor_area_m2"), fmt_m2),
    ]
    colors = pd.Series(
        [FACILITY_COLORS.get(v, "#7F8C8D") for v in facilities["facility_type"]], index=facilities["id"].astype(str)
    )
    present = [v for v in FACILITY_COLORS if v in set(facilities["facility_type"])]
    if present:
        add_legend(m, t("maps.field.facility_type"), [(FACILITY_COLORS[v], facility_label(v)) for v in present],
                   shape="circle", position="topright", large=large)
    return add_layer(m, facilities, layer="facilities", name=name or t("maps.layer.facilities"), fields=fields,
                     style=Style(color="#FFFFFF", weight=1, fill_opacity=0.9, radius=radius), colors=colors,
                     line_colors={k: "#FFFFFF" for k in colors.index})


def add_selection(
    m: OfflineMap,
    frame: gpd.GeoDataFrame,
    *,
    fields: Sequence[Field] = (),
    name: str | None = None,
    color: str = HIGHLIGHT,
    id_column: str = "id",
) -> folium.GeoJson | None:
    """The selected item(s) drawn on top in the highlight colour, thick outline and light fill."""
    return add_layer(m, frame, layer="selection", name=name or t("maps.layer.selection"), id_column=id_column,
                     fields=fields, style=Style(color=color, weight=4, fill_opacity=0.25, radius=7))


def add_sites(
    m: OfflineMap,
    sites: gpd.GeoDataFrame,
    *,
    number_column: str,
    legend: str,
    id_column: str = "id",
    fields: Sequence[Field] = (),
    name: str | None = None,
    large: bool = False,
) -> folium.GeoJson | None:
    """Proposed sites: outlined in :data:`SITE_COLOR`, each with a numbered badge on top, and a legend entry.

    ``number_column`` holds each site's number (as listed beside the map); ``legend`` is the legend's text.
    The badges let clicks through to the outlines (tooltips, ``layer="sites"``).
    """
    layer = add_layer(m, sites, layer="sites", name=name or t("maps.layer.sites"), id_column=id_column,
                      fields=fields, style=Style(color=SITE_COLOR, weight=3, fill_opacity=0.2, radius=8),
                      highlight=True)
    if layer is None:
        return None
    points = display_frame(sites.geometry.representative_point(), gcj02=m.gcj02, simplify_m=0)
    SiteBadges([(str(n), float(p.y), float(p.x)) for n, p in zip(sites[number_column], points)],
               large=large).add_to(m)
    add_legend(m, t("maps.layer.sites"), [(SITE_COLOR, legend)], shape="badge", position="topright", large=large)
    return layer


class SiteBadges(MacroElement):
    """A numbered badge at each proposed site (``(number, lat, lon)``), above every layer, letting clicks through."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .jiugai-site{display:flex;align-items:center;justify-content:center;border-radius:50%;
          background:{{ this.color }};color:#fff;border:2px solid #fff;box-shadow:0 0 0 1.5px {{ this.color }};
          font:700 {{ this.font_px }}px/1 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, size = {{ this.size_px }};
            {{ this.payload }}.forEach(function (d) {
                var icon = L.divIcon({className: "jiugai-site", html: "", iconSize: [size, size]});
                var marker = L.marker([d[1], d[2]], {icon: icon, interactive: false, keyboard: false,
                                                     zIndexOffset: 1000}).addTo(map);
                marker.getElement().textContent = d[0];
                marker.getElement().setAttribute("data-site", d[0]);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, badges: Sequence[tuple[str, float, float]], *, large: bool = False):
        super().__init__()
        self._name = "SiteBadges"
        self.color = SITE_COLOR
        self.font_px = 16 if large else 12
        self.size_px = 30 if large else 22
        self.payload = _inert_json([[n, round(lat, DECIMALS), round(lon, DECIMALS)] for n, lat, lon in badges])


# ---------------------------------------------------------------------------------- city-wide summary
SUMMARY_ZOOM = 11
"""Below this zoom a city-wide theme is drawn as one counted circle per county (:func:`add_county_summary`)."""
SUMMARY_COLOR = "#2E4053"
SUMMARY_EMPTY_COLOR = "#AAB7B8"
SUMMARY_DIAMETER_PX = (22, 64)
"""Smallest and largest circle of :func:`add_county_summary` (pixels; area grows with the count)."""


def county_counts(frame: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> pd.Series:
    """How many rows of ``frame`` lie in each county, every county listed (0 for none), indexed by county code.

    A row's county is its ``county_code`` when the frame has one, else the county its representative point
    falls in (rows outside every county are not counted).
    """
    codes = counties["county_code"].astype(str)
    if "county_code" in frame.columns:
        found = frame["county_code"].astype(str)
    elif len(frame):
        points = gpd.GeoDataFrame(geometry=frame.geometry.representative_point().to_crs(counties.crs))
        joined = gpd.sjoin(points, counties[["county_code", "geometry"]], predicate="within", how="inner")
        found = joined["county_code"].astype(str)
    else:
        found = pd.Series([], dtype=str)
    return found.value_counts().reindex(codes, fill_value=0).astype(int)


def add_county_summary(
    m: OfflineMap,
    counties: gpd.GeoDataFrame,
    counts: pd.Series,
    *,
    legend: str,
    themes: Sequence[str],
    zoom: int = SUMMARY_ZOOM,
    large: bool = False,
) -> None:
    """At city zoom one circle per county with its count written in it (area growing with the count), in place of
    the layers of ``themes`` (``"parcels"``, ``"compounds"``, …), which show from ``zoom`` on; a click on a
    circle zooms into that county.

    ``counts`` is indexed by county code (:func:`county_counts`); ``legend`` titles the legend entry. Call it
    after the layers it stands for are on the map.
    """
    peak = max(int(counts.max()), 1) if len(counts) else 1
    low, high = SUMMARY_DIAMETER_PX
    data = []
    for label in county_labels(counties, gcj02=m.gcj02):
        n = int(counts.get(label.code, 0))
        size = round(low + (high - low) * math.sqrt(n / peak)) if n else low - 4
        data.append([label.code, label.name, n, round(label.anchor[1], DECIMALS), round(label.anchor[0], DECIMALS),
                     size + (8 if large else 0)])
    CountySummary(data, themes=themes, zoom=zoom, large=large).add_to(m)
    add_legend(m, legend, [(SUMMARY_COLOR, t("maps.summary.hint"))], shape="badge", position="topright", large=large)


class CountySummary(MacroElement):
    """Counted circles per county below ``zoom`` (``layer="summary"`` features), the ``near`` layers from it on."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .jiugai-count{display:flex;align-items:center;justify-content:center;border-radius:50%;cursor:zoom-in;
          background:{{ this.color }};color:#fff;border:2px solid #fff;opacity:.92;box-shadow:0 1px 3px rgba(0,0,0,.4);
          font:700 {{ this.font_px }}px/1 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}
        .jiugai-count.jiugai-count-empty{background:{{ this.empty_color }};cursor:default}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, zoom = {{ this.zoom }};
            var themes = {{ this.themes }}, near = null;
            var group = L.featureGroup();
            {{ this.payload }}.forEach(function (d) {
                var icon = L.divIcon({className: "jiugai-count" + (d[2] ? "" : " jiugai-count-empty"),
                                      html: String(d[2]), iconSize: [d[5], d[5]]});
                var marker = L.marker([d[3], d[4]], {icon: icon, keyboard: false, title: d[1] + "：" + d[2]});
                marker.feature = {type: "Feature", properties: {layer: "summary", key: d[0], count: d[2]}};
                if (d[2]) { marker.on("click", function () { map.setView([d[3], d[4]], zoom); }); }
                group.addLayer(marker);
            });
            function summarySwitch() {
                if (near === null) {  // the layers it stands for, found once (later they are off the map)
                    near = [];
                    map.eachLayer(function (layer) {
                        var first = layer instanceof L.GeoJSON ? layer.getLayers()[0] : null;
                        if (first && first.feature && themes.indexOf(first.feature.properties.layer) >= 0) {
                            near.push(layer);
                        }
                    });
                }
                var close = map.getZoom() >= zoom;
                near.forEach(function (layer) {
                    if (close) { if (!map.hasLayer(layer)) { map.addLayer(layer); } } else { map.removeLayer(layer); }
                });
                if (close) { map.removeLayer(group); } else if (!map.hasLayer(group)) { map.addLayer(group); }
            }
            map.on("zoomend", summarySwitch);
            setTimeout(summarySwitch, 0);  // after streamlit-folium has hooked its click handlers to the layers
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: list[list], *, themes: Sequence[str], zoom: int, large: bool = False):
        super().__init__()
        self._name = "CountySummary"
        self.themes = _inert_json(list(themes))
        self.zoom = int(zoom)
        self.color, self.empty_color = SUMMARY_COLOR, SUMMARY_EMPTY_COLOR
        self.font_px = 17 if large else 13
        self.payload = _inert_json(data)


def add_clusters(
    m: OfflineMap,
    clusters: gpd.GeoDataFrame,
    *,
    fields: Sequence[Field] = (),
    value_column: str = "score",
    value_label: str | None = None,
    fmt: Callable[[object], str] = fmt_number,
    large: bool = False,
) -> folium.GeoJson | None:
    """Cluster hulls (one feature per ``cluster_id``) coloured by ``value_column`` classes, with a legend."""
    breaks = class_breaks(clusters[value_column]) if len(clusters) else [0.0, 0.0]
    colors = pd.Series(
        [class_color(v, breaks) for v in clusters[value_column]], index=clusters["cluster_id"].astype(str)
    )
    style = Style(color="#1B4F72", weight=2, fill_opacity=0.45, dash="6 4")
    if len(clusters):
        add_legend(m, value_label or value_column, _class_items(breaks, fmt, integer=integer_classes(clusters[value_column])),
                   position="bottomleft", large=large,
                   fill_opacity=style.fill_opacity)
    return add_layer(m, clusters, layer="clusters", name=t("maps.layer.clusters"), id_column="cluster_id",
                     fields=fields, style=style,
                     colors=colors, line_colors={k: "#1B4F72" for k in colors.index}, highlight=True)


# ------------------------------------------------------------------------------------------------ render
def finish(m: OfflineMap) -> OfflineMap:
    """Add the layer control last (it must come after every layer); idempotent."""
    if not m._finished:
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
        m._finished = True
    return m


def render(
    m: OfflineMap,
    *,
    key: str,
    returned_objects: Sequence[str] = (),
    height: int = 520,
    on_change: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Draw the map with streamlit-folium; only ``returned_objects`` changes rerun the page.

    Use ``["last_active_drawing"]`` with ``on_change`` to react to clicks (see :func:`clicked_feature`);
    the default ``()`` never reruns the script.
    """
    finish(m)
    with keep_element_ids(m):
        result = st_folium(
            m, key=key, height=height, use_container_width=True, returned_objects=list(returned_objects),
            on_change=on_change,
        )
    drop_stale_renders(m)
    return result or {}


def clicked_feature(result: Mapping[str, Any] | None, *, layer: str | None = None) -> str | None:
    """The ``key`` (feature id) of the last clicked feature in ``result`` (from :func:`render`), if on ``layer``."""
    if not result:
        return None
    drawing = result.get("last_active_drawing")
    if not isinstance(drawing, Mapping):
        return None
    props = drawing.get("properties")
    if not isinstance(props, Mapping):
        return None
    if layer is not None and props.get("layer") != layer:
        return None
    key = props.get("key")
    return str(key) if key is not None else None


def clicked(key: str, *, layer: str | None = None) -> str | None:
    """:func:`clicked_feature` for the map drawn with ``key`` (call it from the map's ``on_change``)."""
    return clicked_feature(st.session_state.get(key), layer=layer)


def html_size_bytes(m: folium.Map) -> int:
    """Size of the map's standalone HTML in bytes (what the browser receives for it)."""
    finish(m)
    return len(m.get_root().render().encode("utf-8"))


# ------------------------------------------------------------------------------------------ county labels
LABEL_SIMPLIFY_M = 150.0
"""Outline kept for placing a county's label (metres, EPSG:4548): enough to tell whether a label fits."""
LABEL_FONT_PX = {False: 13, True: 22}
"""Label type size on a normal map and on a large (meeting, projector) one, pixels."""
_SHORTENED_SUFFIXES = ("区", "县", "市")


def short_name(name: str) -> str:
    """A county's name without its 区/县/市 (``任城区`` → ``任城``), for a county too small for its full name."""
    if len(name) >= 3 and name.endswith(_SHORTENED_SUFFIXES):
        return name[:-1]
    return name


@dataclass(frozen=True)
class UnitLabel:
    """What a county's label says, where it points, and the outline it should fit in (lon/lat, WGS84)."""

    code: str
    name: str
    short: str
    value: str
    anchor: tuple[float, float]  # lon, lat inside the county (its pole of inaccessibility)
    outline: list[tuple[float, float]]  # the largest part's exterior, simplified
    selected: bool = False


def county_labels(
    counties: gpd.GeoDataFrame,
    values: pd.Series | None = None,
    *,
    fmt: Callable[[object], str] = fmt_number,
    selected: str | None = None,
    gcj02: bool = False,
) -> list[UnitLabel]:
    """One :class:`UnitLabel` per county: its name in the session language and ``values[county_code]``.

    The anchor is the point of the county's largest part farthest from its edge (a label there has the
    most room); ``gcj02`` shifts anchors and outlines like the map's data.
    """
    if counties is None or len(counties) == 0:
        return []
    shapes = counties.geometry.to_crs(settings.ANALYSIS_CRS) if counties.crs else counties.geometry
    parts = [max(getattr(g, "geoms", [g]), key=lambda p: p.area) for g in shapes]
    simple = [shapely.simplify(p, LABEL_SIMPLIFY_M, preserve_topology=True) for p in parts]
    anchors = [shapely.ops.polylabel(p, tolerance=max(p.length / 400, 10.0)) for p in simple]
    metric = gpd.GeoSeries([*anchors, *(p.exterior for p in simple)], crs=settings.ANALYSIS_CRS)
    shown = display_frame(metric, gcj02=gcj02, simplify_m=0)
    n = len(anchors)
    labels = []
    for i, code in enumerate(counties["county_code"].astype(str)):
        name = unit_name(code)
        value = values.get(code) if values is not None else None
        labels.append(UnitLabel(
            code=code, name=name, short=short_name(name),
            value=fmt(value) if values is not None else "",
            anchor=(float(shown.iloc[i].x), float(shown.iloc[i].y)),
            outline=[(float(x), float(y)) for x, y in shown.iloc[n + i].coords],
            selected=code == selected,
        ))
    return labels


def _inert_json(value: object) -> str:
    """``value`` as JSON that stays inert inside a ``<script>`` and through folium's second template pass."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("{", "\\u007b"), ("}", "\\u007d")):
        text = text.replace(char, code)  # braces only occur inside strings: the payload is lists, no objects
    return text


class CountyLabels(MacroElement):
    """Each county's name and value written on the map, placed so that no two labels overlap.

    Placed again on every zoom (in the browser, where the type's size on screen is known): a label stays on
    its county's interior point when it fits inside the county there, with the short name if only that fits;
    otherwise it moves out, short-named, to the nearest free spot and a leader line points to its county. Labels keep clear
    of each other and of the map's controls (legends, zoom buttons); the selected county's label is framed
    in the highlight colour. Text is set with ``textContent`` (never parsed as HTML).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .jiugai-label{position:absolute;left:0;top:0;white-space:nowrap;text-align:center;line-height:1.15;
          color:#1B2631;font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;
          text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff,0 0 1px #fff;pointer-events:none;padding:1px 3px}
        .jiugai-label .jiugai-label-name{font-weight:600}
        .jiugai-label .jiugai-label-value{font-weight:700}
        .jiugai-label.jiugai-label-selected{background:rgba(255,255,255,.92);border:2px solid {{ this.highlight }};
          border-radius:4px;color:{{ this.highlight }};text-shadow:none}
        .jiugai-leader{position:absolute;left:0;top:0;height:0;border-top:1.5px solid #34495E;
          transform-origin:0 0;pointer-events:none}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.payload }};
            var font = {{ this.font_px }};
            var pane = map.getPane("jiugaiLabels") || map.createPane("jiugaiLabels");
            pane.style.zIndex = 620;
            pane.style.pointerEvents = "none";
            var items = data.map(function (d) {
                var el = L.DomUtil.create("div", "jiugai-label" + (d[6] ? " jiugai-label-selected" : ""), pane);
                el.setAttribute("data-code", d[0]);
                el.style.fontSize = font + "px";
                var name = L.DomUtil.create("div", "jiugai-label-name", el);
                if (d[3] !== "") {
                    var value = L.DomUtil.create("div", "jiugai-label-value", el);
                    value.textContent = d[3];
                }
                var line = L.DomUtil.create("div", "jiugai-leader", pane);
                line.setAttribute("data-code", d[0]);
                return {d: d, el: el, name: name, line: line, anchor: L.latLng(d[4][1], d[4][0]),
                        ring: d[5].map(function (p) { return L.latLng(p[1], p[0]); })};
            });
            function inside(poly, x, y) {
                var hit = false;
                for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
                    var a = poly[i], b = poly[j];
                    if ((a.y > y) !== (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) { hit = !hit; }
                }
                return hit;
            }
            function fits(poly, r) {
                var xs = [r.x0, (r.x0 + r.x1) / 2, r.x1], ys = [r.y0, (r.y0 + r.y1) / 2, r.y1];
                for (var i = 0; i < 3; i++) { for (var j = 0; j < 3; j++) {
                    if (!inside(poly, xs[i], ys[j])) { return false; }
                } }
                return true;
            }
            function hits(r, boxes, gap) {
                for (var i = 0; i < boxes.length; i++) {
                    var b = boxes[i];
                    if (r.x0 < b.x1 + gap && b.x0 < r.x1 + gap && r.y0 < b.y1 + gap && b.y0 < r.y1 + gap) { return true; }
                }
                return false;
            }
            function within(r, v) { return r.x0 >= v.x0 && r.y0 >= v.y0 && r.x1 <= v.x1 && r.y1 <= v.y1; }
            function boxAt(cx, cy, w, h) { return {x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2}; }
            function controls() {
                var origin = map.containerPointToLayerPoint([0, 0]), own = map.getContainer().getBoundingClientRect();
                return Array.prototype.map.call(map.getContainer().querySelectorAll(".leaflet-control"), function (c) {
                    var r = c.getBoundingClientRect();
                    return {x0: r.left - own.left + origin.x, y0: r.top - own.top + origin.y,
                            x1: r.right - own.left + origin.x, y1: r.bottom - own.top + origin.y};
                }).filter(function (b) { return b.x1 > b.x0 && b.y1 > b.y0; });
            }
            function show(it, r, leader) {
                L.DomUtil.setPosition(it.el, L.point(r.x0, r.y0));
                it.el.style.visibility = "visible";
                it.box = r;
                if (!leader) { it.line.style.display = "none"; return; }
                var cx = Math.max(r.x0, Math.min(it.a.x, r.x1)), cy = Math.max(r.y0, Math.min(it.a.y, r.y1));
                var dx = cx - it.a.x, dy = cy - it.a.y;
                L.DomUtil.setPosition(it.line, it.a);
                it.line.style.width = Math.sqrt(dx * dx + dy * dy) + "px";
                it.line.style.transform += " rotate(" + Math.atan2(dy, dx) + "rad)";
                it.line.style.display = "block";
            }
            function place() {
                var size = map.getSize(), origin = map.containerPointToLayerPoint([0, 0]), margin = 4;
                var view = {x0: origin.x + margin, y0: origin.y + margin,
                            x1: origin.x + size.x - margin, y1: origin.y + size.y - margin};
                var taken = controls();
                items.forEach(function (it) {
                    it.poly = it.ring.map(function (ll) { return map.latLngToLayerPoint(ll); });
                    it.a = map.latLngToLayerPoint(it.anchor);
                    var area = 0;
                    for (var i = 0, j = it.poly.length - 1; i < it.poly.length; j = i++) {
                        area += (it.poly[j].x + it.poly[i].x) * (it.poly[j].y - it.poly[i].y);
                    }
                    it.area = Math.abs(area / 2);
                    it.box = null;
                    it.el.style.visibility = "hidden";
                });
                var spots = items.map(function (it) { return boxAt(it.a.x, it.a.y, 6, 6); });
                var order = items.slice().sort(function (p, q) { return (q.d[6] - p.d[6]) || (q.area - p.area); });
                order.forEach(function (it) {  // on its county, full name or else short name
                    var names = it.d[1] === it.d[2] ? [it.d[1]] : [it.d[1], it.d[2]];
                    for (var k = 0; k < names.length && !it.box; k++) {
                        it.name.textContent = names[k];
                        var r = boxAt(it.a.x, it.a.y, it.el.offsetWidth, it.el.offsetHeight);
                        var seen = it.a.x > view.x0 && it.a.x < view.x1 && it.a.y > view.y0 && it.a.y < view.y1;
                        if (seen && !within(r, view)) { continue; }  // cut by the map's edge: moved in below
                        if (fits(it.poly, r) && !hits(r, taken, 2)) { taken.push(r); show(it, r, false); }
                    }
                });
                order.slice().reverse().forEach(function (it) {  // the rest: the nearest free spot, a leader line
                    if (it.box) { return; }
                    it.name.textContent = it.d[2];  // moved off its county: the short name keeps the map clear
                    var w = it.el.offsetWidth, h = it.el.offsetHeight, best = null, fallback = null;
                    var others = spots.filter(function (s, i) { return items[i] !== it; });
                    for (var step = 1; step <= 40 && !best; step++) {
                        var radius = Math.sqrt(w * w + h * h) / 2 + 6 + step * font * 0.8;
                        for (var k = 0; k < 24 && !best; k++) {
                            var angle = -Math.PI / 2 + k * Math.PI / 12;
                            var r = boxAt(it.a.x + radius * Math.cos(angle), it.a.y + radius * Math.sin(angle), w, h);
                            if (!within(r, view)) { continue; }
                            if (hits(r, taken, 3)) { continue; }
                            if (hits(r, others, 2)) { fallback = fallback || r; continue; }
                            best = r;
                        }
                    }
                    var chosen = best || fallback || boxAt(it.a.x, it.a.y, w, h);
                    taken.push(chosen);
                    show(it, chosen, true);
                });
            }
            function hide() { pane.style.display = "none"; }
            function redraw() { pane.style.display = ""; place(); }
            map.on("zoomstart", hide);
            map.on("zoomend viewreset resize", redraw);
            setTimeout(redraw, 0);  // after the controls (legends) are on the map
            if (document.fonts && document.fonts.ready) { document.fonts.ready.then(redraw); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, labels: Sequence[UnitLabel], *, large: bool = False):
        super().__init__()
        self._name = "CountyLabels"
        self.font_px = LABEL_FONT_PX[bool(large)]
        self.highlight = HIGHLIGHT
        self.payload = _inert_json([
            [u.code, u.name, u.short, u.value, [round(c, DECIMALS) for c in u.anchor],
             [[round(x, 5), round(y, 5)] for x, y in u.outline], u.selected]
            for u in labels
        ])
