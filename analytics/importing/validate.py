"""Turn mapped source columns into typed table columns and report every row-level problem.

``validate(attributes, geometry, mapping, kind, row_numbers=...)`` returns the table rows (geometry in
EPSG:4326, a ``_row`` column with the source row number, ``_valid`` false for rows with an error) and the
problems, one per (row, field): ``row, field, code, problem, value, severity`` (``"error"`` makes the row
invalid, ``"warning"`` does not). Hard bounds are errors; the soft sanity bounds of ``settings`` (m² per
household, cost per m², built after 2005) only warn.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics import settings
from analytics.errors import ImportRejected
from analytics.importing.fields import (
    Field,
    county_choices,
    enum_choices,
    fields_for,
    normalise,
    unit_factor,
    zone_choices,
)

# Problem codes (the page shows a label for each).
PROBLEM_CODES: tuple[str, ...] = (
    "required", "not_a_number", "not_integer", "not_a_date", "not_a_boolean", "out_of_range", "unknown_value",
    "unknown_county", "unknown_zone", "legacy_county", "county_mismatch", "county_from_location",
    "duplicate_id", "duplicate_name", "id_generated", "missing_geometry", "wrong_geometry",
    "geometry_repaired", "point_geometry", "polygon_to_point", "outside_jining", "household_area",
    "cost_per_m2", "not_eligible", "invest_exceeds_plan", "date_order", "status_dates", "area_mismatch",
    "area_from_geometry", "percent_as_fraction", "candidates",
)
COUNTY_TOLERANCE_M = 2000.0  # boundaries are simplified (~30 m) and Amap-sourced (±500 m); Nansi Lake edges
_TRUE = {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "已", "具备", "完备", "齐全", "已完备", "有电梯"}
_FALSE = {"否", "无", "n", "no", "false", "f", "0", "×", "✗", "未", "不具备", "没有", "不完备", "无电梯"}
_EXCEL_EPOCH = date(1899, 12, 30)


class Problems:
    """Collects row-level problems."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, row: int | None, field: str, code: str, problem: str, value: object = None,
            *, severity: str = "error") -> None:
        """Record one problem (``value`` is kept as text, at most 200 characters)."""
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)[:200]
        self.rows.append({"row": row, "field": field, "code": code, "problem": problem, "value": text,
                          "severity": severity})

    def frame(self) -> pd.DataFrame:
        """The problems as a table: ``row, field, code, problem, value, severity``."""
        columns = ["row", "field", "code", "problem", "value", "severity"]
        out = pd.DataFrame(self.rows, columns=columns)
        out["row"] = out["row"].astype("Int64")
        return out.sort_values(["row", "field"], na_position="first", kind="stable").reset_index(drop=True)


# -------------------------------------------------------------------------------------------- parsing
def is_blank(value: object) -> bool:
    """An empty cell: ``None``, NaN / NaT, or text meaning nothing (blank, "-", "—", "/", "无数据", "null" …)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or (isinstance(value, pd.Timestamp) and pd.isna(value)):
        return True
    return isinstance(value, str) and value.strip() in ("", "-", "—", "/", "无数据", "nan", "NaN", "None", "null")


def parse_number(value: object) -> float:
    """A number from a cell: numbers as they are; text without thousands separators or a trailing unit."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        out = float(value)
        if not math.isfinite(out):
            raise ValueError(value)
        return out
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    text = re.sub(r"^(约|共|合计)", "", text)
    match = re.fullmatch(r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*([^\d\s]*)", text)
    if not match or re.search(r"\d", match.group(2)):
        raise ValueError(value)
    return float(match.group(1))


def parse_year(value: object) -> int:
    """A year from a number, a date, or text starting with four digits (``"1998年"``, ``"1998-06"``)."""
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.year
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if float(value) != int(value):
            raise ValueError(value)
        return int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.match(r"^(\d{4})(?:\.0+)?(?:$|[年\-/.\s])", text)
    if not match:
        raise ValueError(value)
    return int(match.group(1))


def parse_date(value: object) -> date:
    """A date from a cell.

    Accepted: a date/datetime, an Excel serial number, ``YYYYMMDD`` or text such as ``2020-05-01``,
    ``2020/5/1``, ``2020.5.1``, ``2020年5月1日``.
    """
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        if 19000101 <= number <= 21001231 and number == int(number):
            text = str(int(number))
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if 10_000 <= number <= 80_000:
            return _EXCEL_EPOCH + timedelta(days=int(number))
        raise ValueError(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:$|[\sT])", text)
    if match:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ValueError(value)


def parse_bool(value: object) -> bool:
    """Yes/no from a cell: booleans, 1/0, and 是/否, 有/无, yes/no, true/false and the like."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value) in (0.0, 1.0):
        return bool(value)
    key = normalise(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(value)


def text_value(value: object) -> str:
    """Cell text: integral floats lose their ``.0`` (ids read from Excel), whitespace trimmed."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return unicodedata.normalize("NFKC", str(value)).strip() if isinstance(value, str) else str(value).strip()


# ------------------------------------------------------------------------------------------- geometry
@lru_cache(maxsize=1)
def _counties_metric() -> gpd.GeoDataFrame:
    """Bundled county polygons in EPSG:4548 (``code``), read once."""
    counties = gpd.read_file(settings.COUNTIES_GEOJSON)
    return counties[["code", "geometry"]].to_crs(settings.ANALYSIS_CRS)


def locate_counties(points: gpd.GeoSeries) -> pd.Series:
    """County code containing each point (EPSG:4326 in), within ``COUNTY_TOLERANCE_M``; ``None`` outside."""
    counties = _counties_metric()
    metric = points.to_crs(settings.ANALYSIS_CRS)
    out = pd.Series([None] * len(points), index=points.index, dtype=object)
    ok = ~(metric.is_empty | metric.isna())
    if not ok.any():
        return out
    pts = gpd.GeoDataFrame(geometry=metric[ok], crs=settings.ANALYSIS_CRS)
    hits = gpd.sjoin(pts, counties, how="left", predicate="within")
    inside = hits["code"].groupby(level=0).first()
    out.loc[inside.index] = inside.where(inside.notna(), None)
    missing = out.index[ok & out.isna()]
    if len(missing):
        near = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=metric.loc[missing], crs=settings.ANALYSIS_CRS),
                                 counties, how="left", max_distance=COUNTY_TOLERANCE_M)
        near = near["code"].groupby(level=0).first()
        out.loc[near.index] = near.where(near.notna(), None)
    return out


def _clean_geometry(geoms: np.ndarray, kind: str, rows: np.ndarray, problems: Problems,
                    has_area: np.ndarray) -> np.ndarray:
    """Shapes repaired (``make_valid``), flattened to 2D and checked against the kind's geometry type."""
    out = np.empty(len(geoms), dtype=object)
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    valid = shapely.is_valid(geoms)
    for i, geom in enumerate(geoms):
        row = int(rows[i])
        if missing[i]:
            problems.add(row, "geometry", "missing_geometry", "The row has no geometry (no shape or coordinates).")
            continue
        if kind in _LINE_KINDS:
            problem = _line_problem(geom, kind)
            if problem is not None:
                problems.add(row, "geometry", "wrong_geometry", problem, geom.geom_type)
                continue
            out[i] = geom if valid[i] or kind == "roads" else _repaired(geom, row, problems)
            continue
        if not valid[i]:
            reason = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom)
            if kind != "facilities":
                polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
                if polys:
                    geom = shapely.union_all(polys)
            problems.add(row, "geometry", "geometry_repaired", f"Invalid geometry ({reason}) was repaired.",
                         reason, severity="warning")
        gtype = geom.geom_type
        polygonal = gtype in ("Polygon", "MultiPolygon")
        punctual = gtype in ("Point", "MultiPoint")
        if kind == "facilities":
            if polygonal:
                geom = geom.representative_point()
                problems.add(row, "geometry", "polygon_to_point", "The facility polygon was reduced to a point.",
                             gtype, severity="warning")
            elif gtype == "MultiPoint":
                geom = shapely.get_parts(geom)[0]
            elif not punctual:
                problems.add(row, "geometry", "wrong_geometry", f"A facility needs a point, not a {gtype}.", gtype)
                continue
        elif not polygonal:
            if punctual and (kind == "compounds" or has_area[i]):
                problems.add(row, "geometry", "point_geometry",
                             "Stored as a point (no outline); distances are measured from the point.", gtype,
                             severity="warning")
            elif punctual:
                problems.add(row, "geometry", "wrong_geometry",
                             "A parcel given as a point needs its area (`area_m2`).", gtype)
                continue
            else:
                problems.add(row, "geometry", "wrong_geometry", f"A {kind[:-1]} needs a polygon, not a {gtype}.",
                             gtype)
                continue
        out[i] = geom
    return out


_LINE_KINDS = ("roads", "barriers")


def _line_problem(geom: shapely.Geometry, kind: str) -> str | None:
    """Why a road (lines only) or barrier (lines or polygons) cannot be stored as given; ``None`` if it can."""
    gtype = geom.geom_type
    lines = gtype in ("LineString", "MultiLineString")
    if kind == "roads" and not lines:
        return f"A road needs a line (LineString or MultiLineString), not a {gtype}."
    if kind == "barriers" and not (lines or gtype in ("Polygon", "MultiPolygon")):
        return f"A barrier needs a line or a polygon, not a {gtype}."
    if lines and not shapely.length(geom) > 0:
        return "The line has no length (all its points are the same)."
    if lines and not shapely.is_valid(geom):
        return f"Invalid line ({shapely.is_valid_reason(geom)})."
    return None


def _repaired(geom: shapely.Geometry, row: int, problems: Problems) -> shapely.Geometry:
    """An invalid barrier polygon made valid (its polygonal parts), reported as a warning."""
    reason = shapely.is_valid_reason(geom)
    parts = [g for g in shapely.get_parts(shapely.make_valid(geom)) if g.geom_type in ("Polygon", "MultiPolygon")]
    problems.add(row, "geometry", "geometry_repaired", f"Invalid geometry ({reason}) was repaired.", reason,
                 severity="warning")
    return shapely.union_all(parts)


# ------------------------------------------------------------------------------------------ converting
def convert_column(field: Field, values: pd.Series, header: str, rows: np.ndarray, kind: str,
             problems: Problems) -> pd.Series:
    """One source column converted to the field's type; unconvertible cells are errors (value -> None)."""
    out: list[object] = [None] * len(values)
    factor = unit_factor(header, field)
    choices = enum_choices(kind, field.name) if field.type == "enum" else None
    for i, value in enumerate(values.tolist()):
        if is_blank(value):
            continue
        try:
            if field.type == "str":
                out[i] = text_value(value)
            elif field.type == "int":
                number = parse_year(value) if field.name.endswith("year") else parse_number(value)
                if number != int(number):
                    problems.add(int(rows[i]), field.name, "not_integer", f"`{field.name}` must be a whole number.",
                                 value)
                    continue
                out[i] = int(number)
            elif field.type == "float":
                out[i] = parse_number(value) * factor
            elif field.type == "date":
                out[i] = parse_date(value)
            elif field.type == "bool":
                out[i] = parse_bool(value)
            elif field.type == "enum":
                key = normalise(value)
                if choices is None or key not in choices:
                    allowed = sorted(set(choices.values())) if choices else []
                    problems.add(int(rows[i]), field.name, "unknown_value",
                                 f"`{field.name}` must be one of {allowed!r}.", value)
                    continue
                out[i] = choices[key]
            else:
                out[i] = value
        except (ValueError, TypeError, OverflowError):
            code = {"int": "not_a_number", "float": "not_a_number", "date": "not_a_date",
                    "bool": "not_a_boolean"}.get(field.type, "unknown_value")
            what = {"not_a_number": "a number", "not_a_date": "a date such as 2020-05-01",
                    "not_a_boolean": "yes/no (是/否)"}.get(code, "a known value")
            problems.add(int(rows[i]), field.name, code, f"`{field.name}` must be {what}.", value)
    out = pd.Series(out, index=values.index, dtype=object)
    if field.unit == "pct":
        numbers = pd.to_numeric(out, errors="coerce")
        if numbers.notna().any() and numbers.max() <= 1 and ((numbers > 0) & (numbers < 1)).any() and "%" not in header:
            out = (numbers * 100).astype(object).where(numbers.notna(), None)
            problems.add(None, field.name, "percent_as_fraction",
                         f"`{field.name}` values are fractions 0–1; read as percentages ×100.", header,
                         severity="warning")
    return out


def check_bounds(field: Field, column: pd.Series, rows: np.ndarray, problems: Problems) -> pd.Series:
    """``column`` with every value outside the field's bounds reported as a problem and blanked."""
    if field.low is None and field.high is None:
        return column
    out = column.tolist()
    for i, value in enumerate(out):
        if value is None:
            continue
        if (field.low is not None and value < field.low) or (field.high is not None and value > field.high):
            problems.add(int(rows[i]), field.name, "out_of_range",
                         f"`{field.name}` must be between {field.low:g} and {field.high:g}.", value)
            out[i] = None
    return pd.Series(out, index=column.index, dtype=object)


def _counties(column: pd.Series | None, located: pd.Series, rows: np.ndarray, problems: Problems,
              known_zones: dict[str, tuple[str, ...]] | None = None) -> tuple[pd.Series, pd.Series]:
    """(county_code, zone_code) from the mapped county column, the location where missing or a zone."""
    counties, zones = county_choices(), zone_choices(known_zones)
    county: list[object] = [None] * len(located)
    zone: list[object] = [None] * len(located)
    raws = [None] * len(located) if column is None else column.tolist()
    for i, (raw, here) in enumerate(zip(raws, located.tolist())):
        row = int(rows[i])
        if raw is None or is_blank(raw):
            if here is not None:
                county[i] = here
                if column is not None:
                    problems.add(row, "county_code", "county_from_location",
                                 f"County taken from the location: {here}.", here, severity="warning")
            continue
        key = normalise(text_value(raw))
        if key in counties:
            code, legacy = counties[key]
            county[i] = code
            if legacy:
                problems.add(row, "county_code", "legacy_county",
                             f"Old name {text_value(raw)!r} read as county {code}.", raw, severity="warning")
            if here is not None and here != code:
                problems.add(row, "county_code", "county_mismatch",
                             f"The file says county {code} but the shape lies in {here}.", raw, severity="warning")
        elif key in zones:
            zone[i] = zones[key]
            county[i] = here
        else:
            problems.add(row, "county_code", "unknown_county",
                         "Not a Jining county code or name (e.g. 370811 or 任城区).", raw)
    return (pd.Series(county, index=located.index, dtype=object),
            pd.Series(zone, index=located.index, dtype=object))


# ----------------------------------------------------------------------------------------------- entry
def validate(
    attributes: pd.DataFrame,
    geometry: gpd.GeoSeries,
    mapping: dict[str, str | None],
    kind: str,
    *,
    row_numbers: np.ndarray,
    tabular: bool,
    zones: dict[str, tuple[str, ...]] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Typed rows of table ``kind`` from mapped source ``attributes`` and ``geometry`` (EPSG:4326).

    Returns ``(rows, problems)``; ``rows`` has the table's columns that could be filled, ``geometry`` in
    EPSG:4326, ``_row`` (source row number) and ``_valid`` (no error in the row). ``zones`` are the
    function zones a compound may name (``analytics.units.zones``; default: those of ``settings``).

    In phases: the mapping is checked, each mapped column converted and bounded, the shapes cleaned and
    located, the reporting unit (county, zone) set, defaults and required values, then the table's own
    rules; every problem is collected with its source row.

    Raises
    ------
    ImportRejected
        ``kind="mapping"`` when a required field is not mapped to any column.
    """
    fields = [f for f in fields_for(kind, tabular=tabular) if f.type not in ("coord", "wkt")]
    check_required_mapped(fields, mapping)
    problems = Problems()
    rows = np.asarray(row_numbers)
    attributes = attributes.reset_index(drop=True)
    out = _converted(fields, attributes, mapping, kind, rows, problems)
    geo, present, located = _located(geometry, out, kind, rows, problems)
    _reporting_units(out, attributes, mapping, located, kind, rows, problems, zones)
    required_values(fields, out, attributes, mapping, rows, problems)
    _table_rules(out, attributes, mapping, geo, kind, rows, problems)

    gdf = gpd.GeoDataFrame(out, geometry=geo, crs=settings.STORAGE_CRS)
    gdf["_row"] = rows
    report = problems.frame()
    bad_rows = set(report.loc[(report.severity == "error") & report.row.notna(), "row"].astype(int))
    gdf["_valid"] = ~gdf["_row"].isin(bad_rows) & present.to_numpy()
    gdf.loc[gdf["county_code"].isna(), "_valid"] = False
    return gdf, report


def check_required_mapped(fields: list[Field], mapping: dict[str, str | None], *,
                          either: tuple[str, ...] = ()) -> None:
    """Refuse a mapping that leaves a required field without a column (or none of ``either`` mapped)."""
    unmapped = [f.name for f in fields if f.required and mapping.get(f.name) is None]
    if either and not any(mapping.get(name) for name in either):
        unmapped.append(" or ".join(either))
    if unmapped:
        raise ImportRejected(
            f"The required field(s) {unmapped!r} are not mapped to any column; choose the columns in the mapping.",
            kind="mapping",
        )


def _converted(fields: list[Field], attributes: pd.DataFrame, mapping: dict[str, str | None], kind: str,
               rows: np.ndarray, problems: Problems) -> pd.DataFrame:
    """Each mapped column converted to its field's type and checked against its bounds (units come later)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(attributes)))
    for f in fields:
        source = mapping.get(f.name)
        if source is None or f.type in ("county", "zone"):
            continue
        column = convert_column(f, attributes[source], source, rows, kind, problems)
        out[f.name] = check_bounds(f, column, rows, problems)
    return out


def _located(geometry: gpd.GeoSeries, out: pd.DataFrame, kind: str, rows: np.ndarray,
             problems: Problems) -> tuple[gpd.GeoSeries, pd.Series, pd.Series]:
    """The cleaned shapes (EPSG:4326), which rows have one, and the county each lies in (None outside Jining)."""
    index = out.index
    has_area = out["area_m2"].notna().to_numpy() if "area_m2" in out else np.zeros(len(out), bool)
    geoms = _clean_geometry(np.asarray(geometry.values, dtype=object), kind, rows, problems, has_area)
    geo = gpd.GeoSeries(geoms, index=index, crs=settings.STORAGE_CRS)
    anchor = geo.copy()
    present = ~(geo.isna() | geo.is_empty)
    anchor[present] = geo[present].representative_point()
    west, south, east, north = settings.JINING_BOUNDS_DEG
    in_box = present & anchor.x.between(west, east) & anchor.y.between(south, north)
    located = pd.Series([None] * len(out), index=index, dtype=object)
    if in_box.any():
        located[in_box] = locate_counties(anchor[in_box])
    for i in np.flatnonzero(present & located.isna()):
        point = anchor.iat[i]
        problems.add(int(rows[i]), "geometry", "outside_jining",
                     f"The shape lies outside Jining (at {point.x:.5f}, {point.y:.5f} in WGS84).",
                     f"{point.x:.5f}, {point.y:.5f}")
    return geo, present, located


def _reporting_units(out: pd.DataFrame, attributes: pd.DataFrame, mapping: dict[str, str | None],
                     located: pd.Series, kind: str, rows: np.ndarray, problems: Problems,
                     zones: dict[str, tuple[str, ...]] | None) -> None:
    """Set each row's county (named or from its location); defaults of compounds and roads.

    Compounds also get their function zone (a named one must be known) and the default status; roads
    their default class.
    """
    county_column = attributes[mapping["county_code"]] if mapping.get("county_code") else None
    if county_column is None:
        problems.add(None, "county_code", "county_from_location",
                     "No county column was mapped; each row's county was taken from its location.",
                     severity="warning")
    out["county_code"], zone = _counties(county_column, located, rows, problems, zones)
    if kind == "compounds":
        if mapping.get("zone_code"):
            choices = zone_choices(zones)
            for k, raw in enumerate(attributes[mapping["zone_code"]].tolist()):
                if is_blank(raw):
                    continue
                key = normalise(text_value(raw))
                if key in choices:
                    zone.iat[k] = choices[key]
                else:
                    problems.add(int(rows[k]), "zone_code", "unknown_zone",
                                 f"Not a function zone; known are {sorted(set(choices.values()))!r}.", raw)
        out["zone_code"] = zone
        if "status" not in out:
            out["status"] = "未开工"
        out["status"] = out["status"].where(out["status"].notna(), "未开工")

    if kind == "roads":
        known_class = out["road_class"] if "road_class" in out else pd.Series(None, index=out.index, dtype=object)
        out["road_class"] = known_class.where(known_class.notna(), "其他")


def required_values(fields: list[Field], out: pd.DataFrame, attributes: pd.DataFrame,
                    mapping: dict[str, str | None], rows: np.ndarray, problems: Problems) -> None:
    """A required field left empty in the source is a problem of its row (a bad value was reported already)."""
    for f in fields:
        if f.required and f.name in out:
            source_values = attributes[mapping[f.name]].tolist()
            for i in np.flatnonzero(out[f.name].isna().to_numpy()):
                if is_blank(source_values[i]):
                    problems.add(int(rows[i]), f.name, "required", f"`{f.name}` is required but empty.")


def _table_rules(out: pd.DataFrame, attributes: pd.DataFrame, mapping: dict[str, str | None], geo: gpd.GeoSeries,
                 kind: str, rows: np.ndarray, problems: Problems) -> None:
    """The rules of table ``kind``: ids; compounds' own rules and plan years (none: a candidate); parcels' area."""
    _ids(out, mapping, kind, rows, problems)
    if kind == "compounds":
        _compound_rules(out, rows, problems)
        if "plan_year" not in out:
            out["plan_year"] = None
        source = mapping.get("plan_year")
        candidates = len(out) if source is None else sum(is_blank(v) for v in attributes[source].tolist())
        if candidates:  # an inventory without plan years: candidates of the pool (储备库), not refused
            problems.add(None, "plan_year", "candidates",
                         f"{candidates} compound(s) have no plan year; they are stored as candidates (储备库).",
                         candidates, severity="warning")
    elif kind == "parcels":
        _parcel_area(out, geo, rows, problems, mapped=mapping.get("area_m2") is not None)


def _ids(out: pd.DataFrame, mapping: dict, kind: str, rows: np.ndarray, problems: Problems) -> None:
    if mapping.get("id") is None:
        prefix = {"compounds": "", "parcels": "P", "facilities": "F", "roads": "R", "barriers": "B"}[kind]
        out["id"] = [f"{c or 'X'}-{prefix}{int(r):05d}" for c, r in zip(out["county_code"], rows)]
        problems.add(None, "id", "id_generated", "No id column was mapped; ids were made from county and row.",
                     severity="warning")
        return
    for i in np.flatnonzero(out["id"].isna().to_numpy()):
        problems.add(int(rows[i]), "id", "required", "`id` is required but empty.")
    ids = out["id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        problems.add(int(rows[i]), "id", "duplicate_id", "The id appears more than once in the file.", ids.iat[i])


def _compound_rules(out: pd.DataFrame, rows: np.ndarray, problems: Problems) -> None:
    """Soft sanity bounds and consistency of a compound's figures, dates and status (warnings)."""
    low, high = settings.HOUSEHOLD_AREA_BOUNDS_M2
    per_household = (pd.to_numeric(out["floor_area_m2"], errors="coerce")
                     / pd.to_numeric(out["households"], errors="coerce")).tolist()
    eligible_year = settings.ELIGIBLE_BUILT_ON_OR_BEFORE.year
    names = out["name"].where(out["name"].notna())
    dup_names = (names.notna() & names.duplicated(keep=False)).tolist()

    def column(name: str) -> list:
        return out[name].tolist() if name in out else [None] * len(out)

    known = lambda v: v is not None and not pd.isna(v)  # noqa: E731
    for i, (area_hh, year, invest, area, done, approved, start, end, status, name, dup) in enumerate(zip(
            per_household, column("built_year"), column("invest_planned_wan"), column("floor_area_m2"),
            column("invest_done_wan"), column("approved_date"), column("start_date"), column("completion_date"),
            column("status"), names.tolist(), dup_names)):
        row = int(rows[i])
        if known(area_hh) and not low <= area_hh <= high:
            problems.add(row, "floor_area_m2", "household_area",
                         f"{area_hh:.0f} m² per household is outside the usual {low:.0f}–{high:.0f} m².",
                         round(area_hh, 1), severity="warning")
        if known(year) and year > eligible_year:
            problems.add(row, "built_year", "not_eligible",
                         f"Built after {eligible_year}: not an eligible old compound.", year, severity="warning")
        if known(invest) and known(area) and area and invest * 10_000 / area > settings.COST_FLAG_YUAN_PER_M2:
            problems.add(row, "invest_planned_wan", "cost_per_m2",
                         f"{invest * 10_000 / area:.0f} yuan/m² exceeds {settings.COST_FLAG_YUAN_PER_M2}.",
                         invest, severity="warning")
        if known(done) and known(invest) and done > invest * 1.05:
            problems.add(row, "invest_done_wan", "invest_exceeds_plan",
                         "Completed investment exceeds the planned investment.", done, severity="warning")
        if known(start) and known(end) and end < start:
            problems.add(row, "completion_date", "date_order", "The completion date is before the start date.",
                         f"{start} / {end}")
        if known(approved) and any(known(d) and d < approved for d in (start, end)):
            problems.add(row, "approved_date", "date_order", "Approved (立项) after the start or completion date.",
                         approved, severity="warning")
        needs = {"已开工": "start_date", "已完工": "completion_date"}.get(status)
        if needs and not known(start if needs == "start_date" else end):
            problems.add(row, needs, "status_dates", f"Status {status} but no `{needs}`.", status, severity="warning")
        if dup:
            problems.add(row, "name", "duplicate_name", "The name appears more than once in the file.", name,
                         severity="warning")


def _parcel_area(out: pd.DataFrame, geo: gpd.GeoSeries, rows: np.ndarray, problems: Problems, *, mapped: bool) -> None:
    """Fill ``area_m2`` from polygons (EPSG:4548) where not given; warn where given and far from it."""
    metric = geo.to_crs(settings.ANALYSIS_CRS)
    polygonal = metric.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    computed = metric.area.round(1)
    areas = out["area_m2"].tolist() if "area_m2" in out else [None] * len(out)
    if not mapped and polygonal.any():
        problems.add(None, "area_m2", "area_from_geometry", "Parcel areas were computed from the polygons (m²).",
                     severity="warning")
    for i, given in enumerate(areas):
        if not polygonal[i]:
            continue
        if given is None or pd.isna(given):
            areas[i] = float(computed.iat[i])
        elif computed.iat[i] > 0 and abs(given - computed.iat[i]) / computed.iat[i] > 0.25:
            problems.add(int(rows[i]), "area_m2", "area_mismatch",
                         f"Given {given:.0f} m² but the polygon measures {computed.iat[i]:.0f} m².", given,
                         severity="warning")
    out["area_m2"] = pd.Series(areas, index=out.index, dtype=object)
