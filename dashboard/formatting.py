"""How values are shown: numbers, per cent, changes, the one missing-value marker, and the names of codes.

Every page, table, map tooltip and card formats through here, so a figure reads the same everywhere:

- numbers with thousands separators (``12,345``; money ``1,234.56`` 万元; areas in 万 m² ``228.00``);
- fractions 0–1 as per cent with one decimal (``63.2%``); in table cells :func:`percent` keeps them
  numbers (0–100, rounded to 0.1) so sorting and the downloads still work;
- a missing value as :data:`MISSING` (``—``) wherever text is shown; a change column (▲▼) stays empty
  when there is nothing to compare with;
- codes as names in the user's language: reporting units (:func:`unit_name`: county, function zone or
  the city), statuses, facility types, parcel types and ownerships, funding sources.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from analytics import settings
from analytics.progress import CITY_CODE
from dashboard.labels import current_lang, has, t

MISSING = "—"
"""Shown in place of a value that is missing (no data, nothing to divide by)."""


def is_missing(value: object) -> bool:
    """``None``, NaN, ``pd.NA`` or ``NaT`` (a list or other non-scalar is never missing)."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------- numbers
def fmt_int(value: object) -> str:
    """``12,345`` (rounded to a whole number)."""
    return MISSING if is_missing(value) else f"{round(float(value)):,}"


def fmt_number(value: object) -> str:
    """A number with at most two decimals, thousands separated (``1,234.5``)."""
    return MISSING if is_missing(value) else f"{float(value):,.2f}".rstrip("0").rstrip(".")


def fmt_wan(value: object) -> str:
    """Money in 万元 with two decimals, ``1,234.56``."""
    return MISSING if is_missing(value) else f"{float(value):,.2f}"


def fmt_area_wan_m2(value_m2: object) -> str:
    """An area given in m² shown in 万 m² with two decimals (2,280,000 m² → ``228.00``)."""
    return MISSING if is_missing(value_m2) else f"{float(value_m2) / 1e4:,.2f}"


def fmt_m(value: object) -> str:
    """Metres, ``1,234 m``."""
    return MISSING if is_missing(value) else f"{round(float(value)):,} m"


def fmt_m2(value: object) -> str:
    """Square metres, ``1,234 m²``."""
    return MISSING if is_missing(value) else f"{round(float(value)):,} m²"


def fmt_pct(fraction: object) -> str:
    """A fraction 0–1 as per cent with one decimal, ``45.6%``."""
    return MISSING if is_missing(fraction) else f"{float(fraction) * 100:.1f}%"


def share_of(part: float, whole: float) -> str:
    """``part / whole`` as per cent (:data:`MISSING` when ``whole`` is 0)."""
    return fmt_pct(part / whole if whole else float("nan"))


def percent(fraction: pd.Series) -> pd.Series:
    """Fractions 0–1 as numbers in per cent rounded to 0.1, for table cells (missing stays missing)."""
    return (fraction.astype(float) * 100).round(1)


def arrow(change: float | None, *, digits: int = 1, scale: float = 1.0) -> str:
    """``▲ 2.5`` / ``▼ 1.0`` / ``— 0.0`` for a change (times ``scale``); empty when there is none (NaN)."""
    if change is None or (isinstance(change, float) and math.isnan(change)) or pd.isna(change):
        return ""
    value = round(float(change) * scale, digits)
    if value > 0:
        return f"▲ {value:.{digits}f}"
    if value < 0:
        return f"▼ {abs(value):.{digits}f}"
    return f"— {0:.{digits}f}"


# ----------------------------------------------------------------------------------------------- names
def list_separator() -> str:
    """``、`` in Chinese, ``, `` in English."""
    return "、" if current_lang() == "zh" else ", "


def join_names(names: Iterable[str]) -> str:
    """Names joined the way the user's language lists them (``任城区、兖州区`` / ``Rencheng, Yanzhou``)."""
    return list_separator().join(names)


def codes_text(codes: object, prefix: str, *, sep: str | None = None) -> str:
    """``"a;b"`` (codes joined by ``;``) as the labels ``{prefix}.a`` and ``{prefix}.b``, listed with ``sep``
    (default :func:`list_separator`); a code without a label is shown as given."""
    sep = list_separator() if sep is None else sep
    return sep.join(t(f"{prefix}.{c}") if has(f"{prefix}.{c}") else c for c in str(codes).split(";") if c)


def reasons_text(codes: object, prefix: str) -> str:
    """Reason codes (``"start_overdue;completion_overdue"``) as sentences-parts joined with ``；`` / ``; ``."""
    return codes_text(codes, prefix, sep="；" if current_lang() == "zh" else "; ")


def unit_name(code: object) -> str:
    """A reporting unit's name in the user's language: county, function zone, or the city (370800).

    An unknown code is shown as given; a missing one as :data:`MISSING`.
    """
    if is_missing(code) or code == "":
        return MISSING
    if code == CITY_CODE:
        return t("common.city_total")
    en = current_lang() == "en"
    if code in settings.COUNTIES:
        zh, english, *_ = settings.COUNTIES[code]
        return english if en else zh
    if code in settings.FUNCTION_ZONES:
        zh, english = settings.FUNCTION_ZONES[code]
        return english if en else zh
    names = _stored_unit_names()  # a unit an administrator added
    if code in names:
        zh, english = names[code]
        return english if en else zh
    return str(code)


def _stored_unit_names() -> dict[str, tuple[str, str]]:
    """The units table's names inside a running page (empty outside one: no database session)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return {}
        from dashboard import state

        return state.unit_names()
    except Exception:  # noqa: BLE001 - a name is never worth an error: the code is shown instead
        return {}


def facility_label(code: object) -> str:
    """A facility type's name in the user's language (``settings.FACILITY_TYPES``)."""
    spec = settings.FACILITY_TYPES.get(code)
    if spec is None:
        return MISSING if is_missing(code) else str(code)
    return str(spec["en"] if current_lang() == "en" else spec["zh"])


def category_label(kind: str, value: object) -> str:
    """Label of an enumerated data value (``kind`` in ``status``, ``tier``, ``parcel_type``, ``ownership``)."""
    if is_missing(value):
        return MISSING
    key = f"status.{value}" if kind == "status" else f"tier.{value}" if kind == "tier" else f"maps.{kind}.{value}"
    return t(key) if has(key) else str(value)


def status_name(status: object) -> str:
    """A compound status (未开工 / 已立项 / 已开工 / 已完工) in the user's language."""
    return category_label("status", status)


def source_name(code: str) -> str:
    """A funding source code in the user's language (``settings.FUNDING_SOURCES``; unknown codes as given)."""
    zh, en = settings.FUNDING_SOURCES.get(code, (code, code))
    return en if current_lang() == "en" else zh


def each(values: Iterable[object], label) -> list[str]:
    """``label(v)`` for every value, computing each distinct value's label once (labels look up the language)."""
    done: dict = {}
    return [done[v] if v in done else done.setdefault(v, label(v)) for v in values]
