"""Input checks shared by every analysis: run first, raise one clear sentence (see ``analytics.errors``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from analytics.errors import CRSError, InputError


def check_frame(
    frame: object,
    name: str,
    *,
    required: Iterable[str] = (),
    allow_empty: bool = True,
) -> None:
    """Check that ``frame`` is a DataFrame with the ``required`` columns (and rows unless ``allow_empty``)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` was a {type(frame).__name__} but must be a (Geo)DataFrame.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"`{name}` lacks the column(s) {missing!r}; it has {list(frame.columns)!r} — rename or add them first."
        )
    if not allow_empty and frame.empty:
        raise InputError(f"`{name}` is empty but needs at least one row.")


def check_gdf(
    gdf: object,
    name: str,
    *,
    required: Iterable[str] = ("id",),
    metric: bool = True,
    allow_empty: bool = True,
) -> None:
    """Check a GeoDataFrame argument: type, columns, a CRS set and (if ``metric``) projected in metres.

    Raises
    ------
    InputError
        Not a GeoDataFrame, missing columns, or empty when ``allow_empty`` is false.
    CRSError
        No CRS, or a geographic CRS where distances in metres are needed.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"`{name}` was a {type(gdf).__name__} but must be a GeoDataFrame.")
    check_frame(gdf, name, required=required, allow_empty=allow_empty)
    if gdf.crs is None:
        raise CRSError(f"`{name}` has no CRS; set it (e.g. `set_crs(4326)`) and call `to_crs(4548)` first.")
    if metric and not gdf.crs.is_projected:
        raise CRSError(
            f"`{name}` has CRS EPSG:{gdf.crs.to_epsg()}; distances need a metric CRS — call `to_crs(4548)` first."
        )
    if metric and gdf.crs.axis_info and gdf.crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise CRSError(f"`{name}` has CRS {gdf.crs.name!r} in {gdf.crs.axis_info[0].unit_name}; use metres (EPSG:4548).")


def check_same_crs(*pairs: tuple[str, gpd.GeoDataFrame]) -> None:
    """Raise ``CRSError`` unless every named frame has the same CRS."""
    first_name, first = pairs[0]
    for name, gdf in pairs[1:]:
        if gdf.crs != first.crs:
            raise CRSError(
                f"`{name}` has CRS EPSG:{gdf.crs.to_epsg()} but `{first_name}` has EPSG:{first.crs.to_epsg()}; "
                "bring both to the same CRS (EPSG:4548) first."
            )


def check_range(value: float, name: str, low: float, high: float) -> None:
    """Raise ``InputError`` unless ``low <= value <= high``."""
    if not (low <= value <= high):
        raise InputError(f"`{name}` was {value!r} but must be between {low} and {high}.")


def warn_centroids(name: str) -> None:
    """Warn that polygons of ``name`` were reduced to centroids."""
    warnings.warn(f"`{name}` polygons were reduced to their centroids.", UserWarning, stacklevel=3)
