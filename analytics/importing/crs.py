"""Which coordinate system an upload is in: from the file, declared by the user, or detected from the ranges.

Jining lies wholly in the 3° Gauss-Krüger zone 39 (central meridian 117°E), which is also the 6° zone 20,
so the candidates are few and their coordinate ranges do not overlap:

======================  ============  ===============================  ===============================
hypothesis              EPSG          x range                          y range
======================  ============  ===============================  ===============================
degrees                 4326 / 4490   115.0 – 118.5 (longitude)        34.0 – 36.5 (latitude)
Gauss-Krüger CM 117E    4548          350,000 – 650,000                3,750,000 – 4,050,000
3° zone 39 prefix       4527          39,350,000 – 39,650,000          3,750,000 – 4,050,000
6° zone 20 prefix       4498          20,350,000 – 20,650,000          3,750,000 – 4,050,000
======================  ============  ===============================  ===============================

Each is also tried with x and y swapped (survey tables label the northing "X").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from analytics import settings
from analytics.coords import geometries_from_gcj02
from analytics.errors import ImportRejected

DEGREES_RANGE = ((115.0, 118.5), (34.0, 36.5))
NORTHING_RANGE = (3_750_000.0, 4_050_000.0)
HYPOTHESES: tuple[tuple[str, int, tuple[float, float], tuple[float, float]], ...] = (
    ("degrees", 4326, DEGREES_RANGE[0], DEGREES_RANGE[1]),
    ("gauss_kruger", 4548, (350_000.0, 650_000.0), NORTHING_RANGE),
    ("gauss_kruger_zone39", 4527, (39_350_000.0, 39_650_000.0), NORTHING_RANGE),
    ("gauss_kruger_zone20", 4498, (20_350_000.0, 20_650_000.0), NORTHING_RANGE),
)
# What the page offers to declare; "gcj02" means Amap/Gaode (GCJ-02) degrees, converted to WGS84.
DECLARABLE: tuple[int | str, ...] = (4326, 4490, 4548, 4527, 4498, "gcj02")


@dataclass(frozen=True)
class CRSChoice:
    """The CRS an upload is read in and how it was decided.

    ``epsg`` is the source CRS (for GCJ-02 sources 4326 after conversion); ``source`` is ``"file"``,
    ``"declared"`` or ``"detected"``; ``reason`` names the matched hypothesis (``"file"``, ``"declared"``,
    ``"degrees"``, ``"gauss_kruger"``, ``"gauss_kruger_zone39"``, ``"gauss_kruger_zone20"``); ``swapped``
    says x and y were exchanged; ``gcj02`` that GCJ-02 degrees were converted to WGS84.
    """

    epsg: int | None
    source: Literal["file", "declared", "detected"]
    reason: str
    swapped: bool = False
    gcj02: bool = False
    file_epsg: int | None = None
    wkt: str | None = None  # a file's CRS that has no EPSG code (e.g. a local Gauss-Krüger meridian)
    name: str | None = None

    @property
    def crs(self) -> int | str | None:
        """What pyproj/GeoPandas take: the EPSG code, else the WKT (``None`` when neither is known)."""
        return self.epsg if self.epsg is not None else self.wkt

    @property
    def label(self) -> str:
        """Short English description, e.g. ``"EPSG:4548 (detected, x/y swapped)"``."""
        extra: list[str] = [self.source]
        if self.swapped:
            extra.append("x/y swapped")
        if self.gcj02:
            extra.append("GCJ-02 converted to WGS84")
        name = "GCJ-02" if self.gcj02 else (f"EPSG:{self.epsg}" if self.epsg is not None else repr(self.name))
        return f"{name} ({', '.join(extra)})"


def _inside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (values >= bounds[0]) & (values <= bounds[1])


def classify(x: np.ndarray, y: np.ndarray) -> tuple[str, int, bool, float] | None:
    """Best hypothesis for coordinates ``x``, ``y``: ``(reason, epsg, swapped, share of points matching)``.

    The hypothesis matching the most points wins; ``None`` when none matches at least half of them.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return None
    best: tuple[str, int, bool, float] | None = None
    for reason, epsg, xr, yr in HYPOTHESES:
        for swapped, (a, b) in ((False, (x, y)), (True, (y, x))):
            share = float(np.mean(_inside(a, xr) & _inside(b, yr)))
            if best is None or share > best[3]:
                best = (reason, epsg, swapped, share)
    return best if best is not None and best[3] >= 0.5 else None


def representative_xy(geometry: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """One coordinate per shape (its bounding-box centre), NaN for missing or empty shapes."""
    bounds = shapely.bounds(np.asarray(geometry.values, dtype=object))
    return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2


def _describe(x: np.ndarray, y: np.ndarray) -> str:
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return "no coordinates"
    return f"x {np.nanmin(x[ok]):,.6g}…{np.nanmax(x[ok]):,.6g}, y {np.nanmin(y[ok]):,.6g}…{np.nanmax(y[ok]):,.6g}"


def choose_crs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    file_crs: CRS | None,
    declared: int | str | None,
    swap: bool | None = None,
) -> CRSChoice:
    """Decide the source CRS of coordinates ``x``, ``y`` (one per row).

    Order: the ``declared`` CRS (an EPSG code or ``"gcj02"``); else the file's CRS, checked against the
    coordinate ranges (a file that says degrees but holds metres is refused with the detected CRS named);
    else the ranges alone (see the module table). ``swap`` forces (``True``/``False``) the x/y exchange;
    ``None`` detects it.

    Raises
    ------
    ImportRejected
        ``kind="crs"`` when no CRS can be told or the file's CRS contradicts the coordinates.
    """
    guess = classify(x, y)
    file_epsg = file_crs.to_epsg() if file_crs is not None else None
    if declared is not None:
        if declared == "gcj02":
            epsg, gcj02 = 4326, True
        else:
            try:
                epsg, gcj02 = int(CRS.from_user_input(declared).to_epsg() or declared), False
                CRS.from_epsg(epsg)
            except Exception:  # noqa: BLE001 - pyproj raises several types for unknown codes
                raise ImportRejected(
                    f"`crs` was {declared!r} but must be an EPSG code such as 4548 or 'gcj02'.", kind="crs"
                ) from None
        swapped = bool(swap) if swap is not None else _swapped_for(epsg, guess)
        return CRSChoice(epsg, "declared", "declared", swapped, gcj02, file_epsg)
    if file_crs is not None:
        lands = _share_in_jining(file_crs, x, y)
        swapped_lands = _share_in_jining(file_crs, y, x)
        if swap is None and max(lands, swapped_lands) < 0.5:
            hint = (f" look like EPSG:{guess[1]}{' with x/y swapped' if guess[2] else ''}" if guess
                    else " do not fall inside Jining")
            raise ImportRejected(
                f"The file says {_crs_name(file_crs)} but its coordinates ({_describe(x, y)}){hint}; fix the .prj "
                "or declare the CRS.",
                kind="crs",
            )
        swapped = bool(swap) if swap is not None else swapped_lands > lands
        return CRSChoice(file_epsg, "file", "file", swapped, False, file_epsg,
                         wkt=None if file_epsg else file_crs.to_wkt(), name=file_crs.name)
    if guess is None:
        raise ImportRejected(
            f"The coordinates ({_describe(x, y)}) are not degrees or CGCS2000 Gauss-Krüger metres inside Jining; "
            "declare the CRS or check the coordinate columns.",
            kind="crs",
        )
    reason, epsg, swapped, _ = guess
    if swap is not None:
        swapped = bool(swap)
    return CRSChoice(epsg, "detected", reason, swapped, False, None)


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else repr(crs.name)


def _share_in_jining(crs: CRS, x: np.ndarray, y: np.ndarray) -> float:
    """Share of the points (at most 500 of them) that ``crs`` places inside Jining's broad degree box."""
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))[:500]
    if len(ok) == 0:
        return 0.0
    try:
        lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x[ok], y[ok])
    except Exception:  # noqa: BLE001 - pyproj raises several types for impossible coordinates
        return 0.0
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return float(np.mean(_inside(lon, DEGREES_RANGE[0]) & _inside(lat, DEGREES_RANGE[1])))


def _swapped_for(epsg: int, guess: tuple[str, int, bool, float] | None) -> bool:
    """For a declared CRS, whether the detected ranges say x and y are exchanged."""
    return bool(guess and guess[2] and (guess[1] == epsg or (guess[0] == "degrees" and CRS.from_epsg(epsg).is_geographic)))


def to_storage(geometry: gpd.GeoSeries, choice: CRSChoice) -> gpd.GeoSeries:
    """Shapes converted to ``settings.STORAGE_CRS`` (EPSG:4326): swap, GCJ-02 conversion, reprojection."""
    geoms = np.asarray(geometry.values, dtype=object)
    if choice.swapped:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    series = gpd.GeoSeries(geoms, index=geometry.index, crs=choice.crs)
    if choice.gcj02:
        series = geometries_from_gcj02(series)
    return series.to_crs(settings.STORAGE_CRS)
