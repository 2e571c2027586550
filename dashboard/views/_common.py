"""Frame helpers the spatial views share: the cache options, a county's rows, rows in a given id order."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

CACHE = {"show_spinner": False, "max_entries": 32}
"""``st.cache_data`` options of the views' cached loaders (each view keeps its recent results)."""


def of_county(frame: gpd.GeoDataFrame, county_code: str | None) -> gpd.GeoDataFrame:
    """The rows of ``county_code`` (all rows when it is ``None`` or empty)."""
    return frame if not county_code else frame[frame["county_code"] == county_code]


def rows_by_id(frame: pd.DataFrame, ids: pd.Series | list) -> pd.DataFrame:
    """Rows of ``frame`` (by ``id``) in the order of ``ids``."""
    return frame.set_index("id").loc[list(ids)].reset_index()
