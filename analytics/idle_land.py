"""Idle land (存量资源) near compounds: exact edge-to-edge compound–parcel pairs within a distance, and summaries.

Every distance is the exact minimum distance between the real shapes (``shapely.distance``, edge to edge,
0 when they touch or overlap), in metres in the inputs' metric CRS (EPSG:4548). Pairs come from the
shared spatial index in ``analytics._spatial`` (an STR tree queried with grown bounding boxes, exact
distances only for the candidates, threads on large inputs).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics._spatial import pairs_within_distance, parcel_area_m2
from analytics.checks import (
    as_choices,
    check_county_code,
    check_distance_m,
    check_frame,
    check_gdf,
    check_range,
    check_same_crs,
    check_unique_ids,
    drop_missing_geometries,
    warn_missing_geometries,
)
from analytics.errors import InputError
from analytics.network import WalkGraph, check_metric, metric_name, walk_positions

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------- pairs
def filter_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    parcel_types: str | Iterable[str] | None = None,
    min_area_m2: float | None = None,
    ownership: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Parcels of the given types and ownerships with at least ``min_area_m2`` m² (see :func:`parcel_area_m2`).

    ``parcel_types`` from ``settings.PARCEL_TYPES``, ``ownership`` from ``settings.OWNERSHIP_TYPES``; each a
    string, a list, or ``None`` for all. Options are validated; the input is not modified.
    """
    types = as_choices(parcel_types, "parcel_types", settings.PARCEL_TYPES)
    owners = as_choices(ownership, "ownership", settings.OWNERSHIP_TYPES)
    if min_area_m2 is not None:
        if isinstance(min_area_m2, bool) or not isinstance(min_area_m2, int | float | np.integer | np.floating):
            raise InputError(f"`min_area_m2` was {min_area_m2!r} but must be a number of m² ≥ 0.")
        check_range(min_area_m2, "min_area_m2", 0, float("inf"))
    for column, wanted in (("parcel_type", types), ("ownership", owners)):
        if wanted is not None and column not in parcels.columns:
            raise InputError(f"`parcels` lacks the column {column!r} needed to filter by it.")
    if types is None and owners is None and min_area_m2 is None:
        return parcels
    keep = np.ones(len(parcels), dtype=bool)
    if types is not None:
        keep &= parcels["parcel_type"].isin(types).to_numpy()
    if owners is not None:
        keep &= parcels["ownership"].isin(owners).to_numpy()
    if min_area_m2 is not None:
        keep &= (parcel_area_m2(parcels) >= float(min_area_m2)).to_numpy()
    return parcels[keep]


def parcels_within(
    compounds: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 500,
    parcel_types: str | Iterable[str] | None = None,
    min_area_m2: float | None = None,
    ownership: str | Iterable[str] | None = None,
    county_code: str | None = None,
    metric: Literal["straight", "walk"] | None = None,
    graph: WalkGraph | None = None,
    gates: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Every compound–parcel pair within ``max_distance_m``, with the exact edge-to-edge or walking distance.

    Parameters
    ----------
    compounds
        Compound boundaries with a unique ``id`` (and ``county_code`` when ``county_code`` is given), in a
        metric CRS (EPSG:4548).
    parcels
        Idle / low-efficiency parcels, vacant buildings and scattered plots with a unique ``id``; the
        columns ``parcel_type``, ``ownership`` and ``area_m2`` are needed only by their filters (area
        falls back to the geometry's area). Same CRS as ``compounds``.
    max_distance_m
        Largest edge-to-edge distance in metres, 0–3000 (0 keeps touching or overlapping pairs only).
    parcel_types
        Keep only these types (``settings.PARCEL_TYPES``: 闲置用地, 低效用地, 空置房屋, 零星地块); ``None`` all.
    min_area_m2
        Keep only parcels of at least this many m².
    ownership
        Keep only these ownerships (``settings.OWNERSHIP_TYPES``: 国有, 集体, 企业, 机关事业单位); ``None`` all.
    county_code
        Keep only the compounds of this county (six-digit code); parcels of any county within reach stay,
        since land across a county border can still serve the compound.
    metric
        ``"straight"`` (edge to edge) or ``"walk"`` (along the streets of ``graph``, see
        ``analytics.network``: a parcel "within 500 m" is then 500 m away on foot); ``None`` walks when
        ``graph`` is given.
    graph
        Road graph from ``analytics.network.walk_graph`` (same CRS); needed for ``"walk"``.
    gates
        Compound gates (points with ``compound_id``) for ``"walk"``.

    Returns
    -------
    DataFrame
        ``compound_id``, ``parcel_id``, ``distance_m`` (exact minimum distance between the compound and
        the parcel, metres, 0 when they touch or overlap; or the walking distance). One row per pair, in
        the compounds' input order. Empty (with these columns) when nothing is within reach.
        ``attrs["metric"]`` says which metric was used.

    Raises
    ------
    InputError
        Not GeoDataFrames, missing columns, duplicate ids, or an option out of range / not allowed.
    CRSError
        No CRS, a geographic CRS, or the two frames in different CRSs.
    """
    check_gdf(compounds, "compounds", required=["id"] + (["county_code"] if county_code is not None else []))
    check_gdf(parcels, "parcels", required=["id"])
    check_same_crs(("compounds", compounds), ("parcels", parcels))
    d = check_distance_m(max_distance_m, "max_distance_m")
    county = check_county_code(county_code)
    walk = check_metric(metric, graph)
    chosen_metric = metric_name(walk)
    chosen = filter_parcels(parcels, parcel_types=parcel_types, min_area_m2=min_area_m2, ownership=ownership)
    check_unique_ids(compounds, "compounds")
    if county is not None:
        compounds = compounds[compounds["county_code"].astype(str) == county]
    compounds = drop_missing_geometries(compounds, "compounds")

    def check_parcels() -> None:
        # parcels without geometry never enter the spatial index, so these checks can run alongside
        check_unique_ids(parcels, "parcels")
        warn_missing_geometries(chosen, "parcels", stacklevel=4)

    start = time.perf_counter()
    if walk is not None:
        check_parcels()
        geoms = np.asarray(chosen.geometry.values, dtype=object)
        chosen = chosen[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]  # warned about just above
        i, j, dist = walk_positions(walk, compounds, chosen, d, gates=gates)
    else:
        i, j, dist = pairs_within_distance(compounds.geometry.values, chosen.geometry.values, d,
                                           alongside=check_parcels)
    out = pd.DataFrame({
        "compound_id": compounds["id"].array.take(i),
        "parcel_id": chosen["id"].array.take(j),
        "distance_m": dist,
    })
    out.attrs["metric"] = chosen_metric
    log.info(
        "parcels_within (%s): %d pairs within %g m between %d compounds and %d parcels in %.2f s",
        chosen_metric, len(out), d, len(compounds), len(chosen), time.perf_counter() - start,
    )
    return out


# ----------------------------------------------------------------------------------------------- summaries
def _check_pairs(pairs: object) -> None:
    check_frame(pairs, "pairs", required=["compound_id", "parcel_id", "distance_m"])


def _unknown(values: pd.Series, known: pd.Series, what: str, where: str) -> None:
    missing = values[~values.isin(known)]
    if len(missing):
        raise InputError(
            f"`pairs` refers to {what} {missing.iloc[0]!r} that is not in `{where}`; pass the same frames "
            "that made the pairs."
        )


def parcel_reach(pairs: pd.DataFrame, compounds: pd.DataFrame, parcels: pd.DataFrame) -> pd.DataFrame:
    """Per parcel: the compounds and households within reach (from :func:`parcels_within` pairs).

    Parameters
    ----------
    pairs
        Output of :func:`parcels_within`.
    compounds
        Compounds with ``id`` and ``households`` (every compound named in ``pairs``).
    parcels
        Parcels with ``id``; every parcel appears in the result, also those with no compound in reach.

    Returns
    -------
    DataFrame
        ``parcel_id``, ``n_compounds`` (compounds within reach), ``households_within`` (their households),
        ``compound_ids`` (list, nearest first), ``nearest_m`` (distance to the nearest compound, metres;
        NaN when none). Sorted by households within reach, most first, then ``parcel_id``.
    """
    _check_pairs(pairs)
    check_frame(compounds, "compounds", required=["id", "households"])
    check_frame(parcels, "parcels", required=["id"])
    check_unique_ids(compounds, "compounds")
    check_unique_ids(parcels, "parcels")
    _unknown(pairs["compound_id"], compounds["id"], "compound", "compounds")
    _unknown(pairs["parcel_id"], parcels["id"], "parcel", "parcels")
    households = pd.Series(pd.to_numeric(compounds["households"]).to_numpy(), index=compounds["id"].to_numpy())
    p = pairs[["parcel_id", "compound_id", "distance_m"]].sort_values(
        ["parcel_id", "distance_m", "compound_id"], kind="stable"
    )
    p = p.assign(households=households.reindex(p["compound_id"].to_numpy()).to_numpy())
    grouped = p.groupby("parcel_id", sort=False)
    agg = pd.DataFrame({
        "n_compounds": grouped.size(),
        "households_within": grouped["households"].sum(),
        "compound_ids": grouped["compound_id"].agg(list),
        "nearest_m": grouped["distance_m"].min(),
    })
    out = pd.DataFrame({"parcel_id": parcels["id"].to_numpy()}).join(agg, on="parcel_id")
    out["n_compounds"] = out["n_compounds"].fillna(0).astype("int64")
    out["households_within"] = out["households_within"].fillna(0).astype("int64")
    out["compound_ids"] = [ids if isinstance(ids, list) else [] for ids in out["compound_ids"]]
    out = out.sort_values(["households_within", "parcel_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[["parcel_id", "n_compounds", "households_within", "compound_ids", "nearest_m"]]


def compound_idle_area(pairs: pd.DataFrame, parcels: pd.DataFrame) -> pd.DataFrame:
    """Per compound: how many parcels and how much idle area lie within reach (from :func:`parcels_within`).

    Parameters
    ----------
    pairs
        Output of :func:`parcels_within`.
    parcels
        Parcels with ``id`` and ``area_m2`` or geometries (area per :func:`parcel_area_m2`).

    Returns
    -------
    DataFrame
        ``compound_id``, ``n_parcels``, ``idle_area_m2`` (total area of those parcels, m²), ``nearest_m``
        (distance to the nearest one, metres), one row per compound that has at least one parcel in
        reach, in the order of ``pairs``. Compounds with none are absent (reindex with 0 if needed).
    """
    _check_pairs(pairs)
    check_frame(parcels, "parcels", required=["id"])
    check_unique_ids(parcels, "parcels")
    _unknown(pairs["parcel_id"], parcels["id"], "parcel", "parcels")
    area = pd.Series(parcel_area_m2(parcels).to_numpy(), index=parcels["id"].to_numpy())
    p = pairs.assign(area_m2=area.reindex(pairs["parcel_id"].to_numpy()).to_numpy())
    grouped = p.groupby("compound_id", sort=False)
    out = pd.DataFrame({
        "n_parcels": grouped.size().astype("int64"),
        "idle_area_m2": grouped["area_m2"].sum(),
        "nearest_m": grouped["distance_m"].min(),
    })
    out.index.name = "compound_id"
    return out.reset_index()
