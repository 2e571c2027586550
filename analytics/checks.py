"""Input checks shared by every analysis: run first, raise one clear sentence (see ``analytics.errors``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, datetime

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics.errors import CRSError, InputError

Number = int | float | np.integer | np.floating
"""A number as callers pass it: Python's or numpy's."""


def check_connection(con: object) -> None:
    """Raise ``InputError`` unless ``con`` is an open DuckDB connection (``analytics.store.connect()``)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise InputError(f"`con` was a {type(con).__name__} but must be a DuckDB connection (`store.connect()`).")


def check_date(value: object, name: str = "as_of") -> date:
    """``value`` as a ``datetime.date`` (a ``datetime`` gives its date); anything else raises ``InputError``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InputError(f"`{name}` was {value!r} but must be a datetime.date, e.g. date(2026, 11, 27).")


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


def check_range(value: Number, name: str, low: float, high: float) -> None:
    """Raise ``InputError`` unless ``low <= value <= high``."""
    if not (low <= value <= high):
        raise InputError(f"`{name}` was {value!r} but must be between {low} and {high}.")


def check_unique_ids(frame: pd.DataFrame, name: str, column: str = "id") -> None:
    """Raise ``InputError`` if ``frame[column]`` has duplicates or missing values."""
    ids = pd.Index(frame[column])
    if ids.hasnans:
        raise InputError(f"`{name}` has {int(ids.isna().sum())} row(s) without `{column}`; every row needs one.")
    if not ids.is_unique:
        raise InputError(
            f"`{name}` has duplicate `{column}` values such as {ids[ids.duplicated()][0]!r}; they must be unique."
        )


def check_distance_m(value: object, name: str, *, high: float = settings.MAX_DISTANCE_LIMIT_M, low: float = 0) -> float:
    """Return ``value`` as a float after checking it is a number between ``low`` and ``high`` metres."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"`{name}` was {value!r} but must be a number of metres between {low:g} and {high:g}.")
    check_range(value, name, low, high)
    return float(value)


def as_choices(value: object, name: str, allowed: Iterable[str]) -> list[str] | None:
    """``None`` → ``None``; a string or an iterable of strings → a list, each checked against ``allowed``."""
    if value is None:
        return None
    allowed = tuple(allowed)
    values = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else None
    if not values:
        raise InputError(f"`{name}` was {value!r} but must be one or more of {allowed!r} (or None for all).")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InputError(f"`{name}` had {unknown[0]!r} but must be one or more of {allowed!r}.")
    return values


def check_county_code(value: object, name: str = "county_code") -> str | None:
    """``None`` or a six-digit division code string (e.g. ``"370811"``)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 6 or not value.isdigit():
        raise InputError(f"`{name}` was {value!r} but must be a six-digit county code such as '370811'.")
    return value


def warn_missing_geometries(gdf: gpd.GeoDataFrame, name: str, *, stacklevel: int = 2) -> np.ndarray:
    """Mask of rows whose geometry is missing or empty; a ``UserWarning`` naming how many if any.

    ``stacklevel`` counts from the caller of this function (1 = that caller), as ``warnings.warn`` does.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        first = gdf["id"].iloc[int(np.flatnonzero(bad)[0])] if "id" in gdf.columns else int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"`{name}` has {int(bad.sum())} row(s) without geometry (e.g. {first!r}); they were left out.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return bad


def drop_missing_geometries(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``gdf`` without rows whose geometry is missing or empty, with a ``UserWarning`` naming how many."""
    bad = warn_missing_geometries(gdf, name, stacklevel=3)
    return gdf[~bad] if bad.any() else gdf
