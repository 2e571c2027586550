"""Reporting units as data: the counties and function zones that report, rank and are ranked, in the city's order.

The ``units`` table holds each unit: ``kind`` county or zone, ``category`` (district 区, city 县级市, county
县, zone 功能区), name, English and short names, ``sort_order``, the years it is active in
(``active_from``..``active_to``, NULL: open) and a national division code where it has one. A county's
unit code is its national code (370811 …); a function zone's is Z and two or three digits (Z01 济宁高新区,
Z02 太白湖新区, Z03 济宁经济技术开发区, …), which can never be mistaken for a national code — 济宁高新区's
national code, 370871, is kept in ``national_code``.

**Official order** — every list of units follows it: categories in ``settings.UNIT_CATEGORY_ORDER``
(districts, county-level cities, counties, zones), then ``sort_order``, then the code. An administrator
adds a unit (e.g. 曲阜文化建设示范区, named in the 2020 plan's distribution list) with :func:`add_unit`:
it joins the end of its category and is active from the year given.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

import duckdb
import pandas as pd

from analytics import settings
from analytics.errors import InputError
from analytics.services.auth import User, require
from analytics.store import audit

log = logging.getLogger(__name__)

COLUMNS = ["unit_code", "kind", "category", "name", "name_en", "short_name", "sort_order", "active_from",
           "active_to", "national_code"]
KINDS: tuple[str, ...] = ("county", "zone")
COUNTY_CATEGORIES: tuple[str, ...] = ("district", "city", "county")
MAX_NAME_CHARS = 30
_NATIONAL = re.compile(r"^\d{6}$")


def _order_sql() -> str:
    ranks = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(settings.UNIT_CATEGORY_ORDER))
    return f"CASE category {ranks} ELSE {len(settings.UNIT_CATEGORY_ORDER)} END, sort_order, unit_code"


def units(con: duckdb.DuckDBPyConnection, *, year: int | None = None) -> pd.DataFrame:
    """The reporting units in the official order (only those active in ``year`` when given).

    Returns
    -------
    DataFrame
        ``COLUMNS``, one row per unit.
    """
    where, params = "", []
    if year is not None:
        where = "WHERE coalesce(active_from, 0) <= ? AND coalesce(active_to, 9999) >= ?"
        params = [int(year), int(year)]
    frame = con.execute(f"SELECT {', '.join(COLUMNS)} FROM units {where} ORDER BY {_order_sql()}", params).fetchdf()
    for col in ("active_from", "active_to"):
        frame[col] = frame[col].astype("Int64")
    return frame[COLUMNS]


def unit_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every unit's code in the official order."""
    return [r[0] for r in con.execute(f"SELECT unit_code FROM units ORDER BY {_order_sql()}").fetchall()]


def names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Unit code -> (Chinese name, English name; the Chinese one where none is stored)."""
    return {code: (zh, en or zh) for code, zh, en in con.execute("SELECT unit_code, name, name_en FROM units").fetchall()}


def zones(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Function zone code -> every name it may be given in a file (name, English, short name, national code)."""
    rows = con.execute("SELECT unit_code, name, name_en, short_name, national_code FROM units WHERE kind = 'zone'")
    return {code: tuple(v for v in (name, en, short, national) if v) for code, name, en, short, national in rows.fetchall()}


def kind_of(con: duckdb.DuckDBPyConnection, unit_code: str) -> str | None:
    """``"county"`` or ``"zone"`` for a known unit, else None."""
    row = con.execute("SELECT kind FROM units WHERE unit_code = ?", [unit_code]).fetchone()
    return None if row is None else str(row[0])


def check_unit(con: duckdb.DuckDBPyConnection, unit_code: object, *, year: int | None = None) -> str:
    """``unit_code`` as a string when it names a unit (active in ``year`` when given); else ``InputError``."""
    code = str(unit_code)
    known = units(con, year=year)
    if code not in set(known["unit_code"]):
        every = set(unit_order(con))
        if code in every:
            raise InputError(f"`unit_code` {code!r} is not active in {year}.", code="units.inactive", unit=code,
                             year=year)
        raise InputError(f"`unit_code` was {code!r} but must be one of {list(known['unit_code'])!r}.",
                         code="units.unknown", unit=code)
    return code


def next_zone_code(con: duckdb.DuckDBPyConnection) -> str:
    """The next free function-zone code (Z04 after Z01–Z03)."""
    taken = [int(c[1:]) for c in unit_order(con) if re.fullmatch(settings.ZONE_CODE_PATTERN, c)]
    return f"Z{max(taken, default=0) + 1:02d}"


def _check_years(active_from: int | None, active_to: int | None) -> None:
    for name, year in (("active_from", active_from), ("active_to", active_to)):
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100):
            raise InputError(f"`{name}` was {year!r} but must be a year between 1990 and 2100, or empty.",
                             code="units.year", value=year)
    if active_from is not None and active_to is not None and active_to < active_from:
        raise InputError(f"`active_to` {active_to} is before `active_from` {active_from}.",
                         code="units.years_order", first=active_from, last=active_to)


def add_unit(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    kind: str,
    user: User | None,
    category: str | None = None,
    name_en: str | None = None,
    short_name: str | None = None,
    active_from: int | None = None,
    active_to: int | None = None,
    national_code: str | None = None,
) -> str:
    """Add a reporting unit (administrators only); it joins the end of its category. Return its unit code.

    Parameters
    ----------
    con
        Open project database.
    name
        Its name as documents print it, e.g. ``曲阜文化建设示范区``.
    kind
        ``"zone"`` (a function zone: gets the next free code, Z04 …) or ``"county"`` (a new county-level
        division: its code is its ``national_code``).
    user
        The administrator (permission ``configure``).
    category
        For a county: ``"district"``, ``"city"`` or ``"county"``; a zone's is ``"zone"``.
    name_en, short_name
        English name and a short name accepted in imported files (e.g. ``文化示范区``).
    active_from, active_to
        The years it reports in (empty: open).
    national_code
        Its 6-digit national division code, required for a county, optional for a zone.

    Raises
    ------
    PermissionDenied
        ``user`` may not change the units.
    InputError
        A name that is empty, too long or already used; a kind, category, code or years that do not fit.
    """
    user = require(user, "configure")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InputError(f"`name` was {name!r} but must be 1–{MAX_NAME_CHARS} characters.", code="units.name",
                         value=name, limit=MAX_NAME_CHARS)
    if kind not in KINDS:
        raise InputError(f"`kind` was {kind!r} but must be one of {KINDS!r}.", code="units.kind", value=kind)
    if kind == "zone":
        category = "zone"
    elif category not in COUNTY_CATEGORIES:
        raise InputError(f"`category` was {category!r} but a county must be one of {COUNTY_CATEGORIES!r}.",
                         code="units.category", value=category)
    national_code = (national_code or "").strip() or None
    if national_code is not None and not _NATIONAL.fullmatch(national_code):
        raise InputError(f"`national_code` was {national_code!r} but must be 6 digits, e.g. '370871'.",
                         code="units.national_code", value=national_code)
    if kind == "county" and national_code is None:
        raise InputError("A county needs its 6-digit `national_code`; it is its unit code.",
                         code="units.county_needs_code")
    _check_years(active_from, active_to)
    existing = units(con)
    if name in set(existing["name"]):
        raise InputError(f"`name` {name!r} is already a unit's name.", code="units.name_taken", value=name)
    if national_code is not None and national_code in set(existing["national_code"].dropna()):
        raise InputError(f"`national_code` {national_code!r} is already a unit's.", code="units.code_taken",
                         value=national_code)
    code = next_zone_code(con) if kind == "zone" else str(national_code)
    if code in set(existing["unit_code"]):
        raise InputError(f"The unit code {code!r} is already used.", code="units.code_taken", value=code)
    in_category = existing[existing["category"] == category]["sort_order"]
    order = int(in_category.max() if len(in_category) else existing["sort_order"].max() or 0) + 10
    stamp = datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """INSERT INTO units (unit_code, kind, category, name, name_en, short_name, sort_order, active_from,
                                  active_to, national_code, created_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [code, kind, category, name, (name_en or "").strip() or None, (short_name or "").strip() or None, order,
             active_from, active_to, national_code, stamp, user.username],
        )
        audit.record(con, username=user.username, action="unit_added", table_name="units", rows_written=1,
                     detail={"unit_code": code, "name": name, "kind": kind, "active_from": active_from,
                             "active_to": active_to})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("unit %s %s added by %s", code, name, user.username)
    return code


def set_active_years(con: duckdb.DuckDBPyConnection, unit_code: str, *, active_from: int | None,
                     active_to: int | None, user: User | None) -> None:
    """Change the years a unit reports in (administrators only; a unit is never deleted, its data stays)."""
    user = require(user, "configure")
    code = check_unit(con, unit_code)
    _check_years(active_from, active_to)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE units SET active_from = ?, active_to = ? WHERE unit_code = ?", [active_from, active_to, code])
        audit.record(con, username=user.username, action="unit_changed", table_name="units", rows_written=1,
                     detail={"unit_code": code, "active_from": active_from, "active_to": active_to})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
