"""The process-wide DuckDB connection, a cursor per session, and cached loaders keyed on the data version."""

from __future__ import annotations

from datetime import date

import duckdb
import geopandas as gpd
import pandas as pd
import streamlit as st

from analytics import network, progress, settings, store
from analytics import units as units_mod
from analytics.store import audit


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return store.connect(path)


def connection() -> duckdb.DuckDBPyConnection:
    """The one connection of this process (opened, and the demo database built, on first use)."""
    return _connection(str(settings.DB_PATH))


def cursor() -> duckdb.DuckDBPyConnection:
    """This session's own cursor on the shared connection (DuckDB cursors are not shared across threads)."""
    if "_duck_cursor" not in st.session_state:
        st.session_state["_duck_cursor"] = connection().cursor()
    return st.session_state["_duck_cursor"]


def data_version() -> str:
    """Changes whenever stored data changes (every write is logged in ``audit_log``); the cache key.

    The database's path, the newest data row's id and the time it was written (``analytics.store.audit.
    data_stamp``): a restored backup or another database file never meets the cached results of a state
    that had the same id. Sign-ins and other access records do not change it.
    """
    return f"{settings.DB_PATH}|{audit.data_stamp(cursor())}"


@st.cache_data(show_spinner=False, max_entries=64)
def _layer(name: str, crs: int | None, version: str) -> gpd.GeoDataFrame:
    return store.read_layer(cursor(), name, crs=crs)


def layer(name: str, *, crs: int | None = settings.ANALYSIS_CRS) -> gpd.GeoDataFrame:
    """A spatial table as a GeoDataFrame (EPSG:4548 unless ``crs`` says otherwise), cached until data changes."""
    return _layer(name, crs, data_version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _walk_graph(version: str) -> network.WalkGraph | None:
    roads = _layer("roads", settings.ANALYSIS_CRS, version)
    if roads.empty:
        return None
    barriers = _layer("barriers", settings.ANALYSIS_CRS, version)
    return network.walk_graph(roads, barriers if len(barriers) else None)


def walk_graph() -> network.WalkGraph | None:
    """The walking graph of the stored roads and barriers, built once per data version; ``None`` without roads."""
    return _walk_graph(data_version())


@st.cache_data(show_spinner=False)
def _info(version: str) -> dict[str, str]:
    return store.dataset_info(cursor())


def info() -> dict[str, str]:
    """Facts about the loaded dataset: source, is_demo, as_of."""
    return _info(data_version())


def is_demo() -> bool:
    return info().get("is_demo") == "true"


@st.cache_data(show_spinner=False)
def _report_dates(version: str) -> list[date]:
    rows = cursor().execute("SELECT DISTINCT report_date FROM progress_reports ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def report_dates() -> list[date]:
    """Dates of the stored weekly reports, oldest first."""
    return _report_dates(data_version())


@st.cache_data(show_spinner=False)
def _city_as_of(version: str) -> date | None:
    return progress.city_as_of(cursor())


def city_as_of() -> date | None:
    """The city's as-of date (``analytics.progress.city_as_of``): the latest week every county has reported."""
    return _city_as_of(data_version())


def dataset_as_of() -> date | None:
    """The loaded dataset's as-of date (``dataset_info``), if it has one."""
    value = info().get("as_of")
    return date.fromisoformat(value) if value else None


def as_of_or_latest(chosen: date | None) -> date | None:
    """``chosen`` (the sidebar's as-of date), or the city's as-of date (the latest week every county has
    reported: ``analytics.progress.city_as_of``); ``None`` without reports."""
    if chosen is not None:
        return chosen
    return city_as_of()


@st.cache_data(show_spinner=False, max_entries=8)
def _plan_years(version: str) -> list[int]:
    years = layer("compounds", crs=None)["plan_year"].dropna().astype(int).unique()
    return sorted(int(y) for y in years)


def plan_years() -> list[int]:
    """The plan years (annual batches) the stored compounds belong to, oldest first."""
    return _plan_years(data_version())


@st.cache_data(show_spinner=False, max_entries=8)
def _units(version: str) -> pd.DataFrame:
    return units_mod.units(cursor())


def units(*, year: int | None = None) -> pd.DataFrame:
    """The reporting units (``analytics.units.units``) in the official order; those active in ``year`` if given."""
    frame = _units(data_version())
    if year is None:
        return frame
    active = (frame["active_from"].fillna(0) <= year) & (frame["active_to"].fillna(9999) >= year)
    return frame[active].reset_index(drop=True)


def unit_codes(*, kind: str | None = None, year: int | None = None) -> list[str]:
    """Unit codes in the official order (counties and zones, or only ``kind``), active in ``year`` if given."""
    frame = units(year=year)
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    return list(frame["unit_code"])


def unit_names() -> dict[str, tuple[str, str]]:
    """Unit code -> (Chinese, English) name, from the units table."""
    frame = units()
    return {c: (zh, en if isinstance(en, str) and en else zh)
            for c, zh, en in zip(frame["unit_code"], frame["name"], frame["name_en"])}


def zones() -> dict[str, tuple[str, ...]]:
    """Function zones and every name a file may give them (``analytics.units.zones``), cached."""
    return _zones(data_version())


@st.cache_data(show_spinner=False, max_entries=8)
def _zones(version: str) -> dict[str, tuple[str, ...]]:
    return units_mod.zones(cursor())
