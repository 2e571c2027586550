"""Tables that leave the dashboard: XLSX and CSV a clerk can paste into a report as they are.

One display step for both formats (:func:`display_frame`): Chinese headers with the unit in the header
("建筑面积（平方米）"), rates as percentages (fractions 0–1 become 0–100 under a "（%）" header, changes
become percentage points), booleans as 是/否, lists joined with 、, a county-name column beside a county
code, and per-county tables in the official order (``settings.COUNTY_ORDER``, then function zones, then
the city row). XLSX adds a frozen bold header row, number formats, column widths, an autofilter, any
number of sheets and a notes sheet (source, as-of date, demo mark); CSV is UTF-8 with a BOM so Excel and
WPS open Chinese text right. Text that a spreadsheet program would run as a formula (a name starting with
``=`` from an upload) stays text in both (:mod:`analytics.cells`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from analytics import cells, settings
from analytics.progress import CITY_CODE
from dashboard.charts import resolve_lang
from dashboard.labels import has, t

Columns = Mapping[str, str] | Sequence[str] | None

OFFICIAL_ORDER: tuple[str, ...] = (*settings.COUNTY_ORDER, *settings.FUNCTION_ZONES, CITY_CODE)
COUNTY_KEYS = ("unit_code", "county_code")


@dataclass(frozen=True)
class ColumnFormat:
    """How one column is shown: its header text, Excel number format, and the factor applied to values."""

    header: str
    number_format: str | None = None
    factor: float = 1.0


def _is_rate(name: str) -> bool:
    return bool(re.search(r"(^|_)(rate|share)(_|$)", name)) and "_chg_" not in name


def _unit_key(name: str, series: pd.Series) -> str | None:
    if name.endswith(("_chg_week", "_chg_month")):
        return "pp"
    if _is_rate(name) or name.endswith("_pct"):
        return "pct"
    for suffix, key in (("_m2", "m2"), ("_wan", "wan"), ("_km", "km"), ("_m", "m")):
        if name.endswith(suffix):
            return key
    if name.startswith("households") or name.endswith("_households") or name == "households_within":
        return "households"
    if name.startswith("days_"):
        return "days"
    return None


def column_format(name: str, series: pd.Series, *, lang: str | None = None, header: str | None = None) -> ColumnFormat:
    """Header (label plus unit) and number format for column ``name`` holding ``series``."""
    lang = resolve_lang(lang)
    label = header or (t(f"export.col.{name}", lang) if has(f"export.col.{name}") else name)
    unit = _unit_key(name, series)
    if unit and not header:
        unit_text = t(f"export.unit.{unit}", lang)
        if lang == "en":
            label = f"{label[:-1]}, {unit_text})" if label.endswith(")") else f"{label} ({unit_text})"
        else:
            label = f"{label[:-1]}，{unit_text}）" if label.endswith("）") else f"{label}（{unit_text}）"
    factor = 100.0 if unit == "pp" or (unit == "pct" and not name.endswith("_pct")) else 1.0
    if pd.api.types.is_bool_dtype(series):
        fmt = None
    elif unit == "pp":
        fmt = "+0.0;-0.0;0.0"
    elif unit == "pct":
        fmt = "0.0"
    elif pd.api.types.is_integer_dtype(series):
        fmt = "0" if name.endswith("year") or name in ("rank", "plan_year") else "#,##0"
    elif pd.api.types.is_float_dtype(series):
        if name in ("rank",) or name.startswith("rank_"):
            fmt = "0"
        elif unit in ("m2", "m", "households", "days"):
            fmt = "#,##0"
        else:
            fmt = "#,##0.00"
    elif pd.api.types.is_datetime64_any_dtype(series) or _is_date_column(series):
        fmt = "yyyy-mm-dd"
    else:
        fmt = None
    return ColumnFormat(label, fmt, factor)


def _is_date_column(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    sample = series.dropna().head(20)
    return len(sample) > 0 and all(isinstance(v, date) for v in sample)


def dates_only(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each date-time column whose values are all at midnight shown as dates (``2020-11-17``, not
    ``2020-11-17 00:00:00``); a column with a time of day is left as it is."""
    out = df
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_datetime64_any_dtype(column) and not isinstance(column.dtype, pd.DatetimeTZDtype):
            present = column.dropna()
            if len(present) and (present == present.dt.normalize()).all():
                if out is df:
                    out = df.copy()
                out[name] = column.dt.date.astype(object).where(column.notna(), None)
    return out


def official_order(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with one-row-per-county tables in the official order (counties, zones, city); others unchanged.

    A table is per county when its ``unit_code`` (or ``county_code``) column holds each code once.
    """
    position = {code: i for i, code in enumerate(OFFICIAL_ORDER)}
    for key in COUNTY_KEYS:
        if key in df.columns and df[key].is_unique and len(df):
            order = df[key].astype(str).map(position).fillna(len(position))
            return df.iloc[np.argsort(order.to_numpy(), kind="stable")]
    return df


def _cell(value, factor: float, lang: str):
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return "、".join(str(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return t("export.bool.yes" if value else "export.bool.no", lang)
    if cells.is_missing(value):
        return None
    if factor != 1.0 and isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) * factor
    return cells.excel_value(value)


def display_frame(df: pd.DataFrame, *, columns: Columns = None, lang: str | None = None,
                  order_counties: bool = True) -> tuple[pd.DataFrame, list[str | None]]:
    """The table as people read it, and the Excel number format of each column.

    Parameters
    ----------
    df
        Any frame; a geometry column is dropped.
    columns
        A list picks and orders columns; a mapping ``{column: header}`` picks, orders and renames them
        (the header then replaces the built-in label and unit).
    lang
        ``"zh"`` or ``"en"``; default the session's language.
    order_counties
        Put per-county tables in the official order.
    """
    lang = resolve_lang(lang)
    frame = pd.DataFrame(df).drop(columns=[c for c in df.columns if c in ("geometry", "geom")], errors="ignore")
    if order_counties:
        frame = official_order(frame)
    if "county_code" in frame.columns and "county_name" not in frame.columns and not (
        "unit_code" in frame.columns or (columns is not None)
    ):
        names = {code: (zh if lang != "en" else en) for code, (zh, en, *_rest) in settings.COUNTIES.items()}
        frame.insert(frame.columns.get_loc("county_code") + 1, "county_name", frame["county_code"].map(names))
    headers: dict[str, str] = {}
    if isinstance(columns, Mapping):
        frame = frame[list(columns)]
        headers = dict(columns)
    elif columns is not None:
        frame = frame[list(columns)]
    out = {}
    formats: list[str | None] = []
    for name in frame.columns:
        spec = column_format(name, frame[name], lang=lang, header=headers.get(name))
        out[spec.header] = [_cell(v, spec.factor, lang) for v in frame[name]]
        formats.append(spec.number_format)
    return pd.DataFrame(out, columns=list(out)), formats


def csv_bytes(df: pd.DataFrame, *, columns: Columns = None, lang: str | None = None) -> bytes:
    """CSV in UTF-8 with a BOM (Excel and WPS read the Chinese right), headers and values as displayed."""
    frame, _ = display_frame(df, columns=columns, lang=lang)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, float)).any():
            frame[col] = frame[col].map(lambda v: round(v, 6) if isinstance(v, float) else v)
        elif not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].map(cells.csv_value)  # text that would run as a formula gets a '
    frame.columns = [cells.csv_value(c) for c in frame.columns]
    # CRLF line ends (as Excel writes CSV): a field holding a bare CR or LF is then quoted, so it cannot
    # start a new row whose first cell would escape the formula guard
    return frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n").encode("utf-8-sig")


def _text_width(value) -> int:
    text = "" if cells.is_missing(value) else (value.strftime("%Y-%m-%d") if isinstance(value, (date, datetime)) else str(value))
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def xlsx_bytes(
    frames: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    columns: Columns = None,
    lang: str | None = None,
    notes: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> bytes:
    """An XLSX workbook: one sheet per frame, then a notes sheet when ``notes`` is given.

    Each data sheet has the display headers (with units), a frozen bold header row, an autofilter,
    number formats per column and widths fitted to the content. ``frames`` is a frame (one sheet named
    ``sheet``, default "数据") or a mapping ``{sheet name: frame}``; ``columns`` applies to every sheet.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = resolve_lang(lang)
    if isinstance(frames, pd.DataFrame):
        frames = {sheet or t("export.sheet.data", lang): frames}
    short = t("export.sheet.data", lang)
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE6F0")
    used: set[str] = set()
    for name, df in frames.items():
        # a name that is no valid sheet name (too long, or with []:*?/\) is not cut: the sheet gets a short
        # name and the full title goes in its first row, above the table
        fits = _sheet_title(name, set()) == str(name)
        title = _sheet_title(name if fits else short, used)
        ws = workbook.create_sheet(title)
        top = 1
        if not fits:
            cells.as_text(ws.cell(row=1, column=1, value=str(name))).font = Font(bold=True, size=12)
            top = 2
        frame, formats = display_frame(df, columns=columns, lang=lang)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([cells.excel_value(v) for v in row])  # missing values (NaT, NaN, pd.NA): empty cells
        # text from uploads stays text, never a formula: the header row and every text column
        for cell in ws[top]:
            cells.as_text(cell)
        for j, name in enumerate(frame.columns, start=1):
            if not pd.api.types.is_numeric_dtype(frame[name]):
                for (cell,) in ws.iter_rows(min_row=top + 1, min_col=j, max_col=j):
                    cells.as_text(cell)
        for j, (header, fmt) in enumerate(zip(frame.columns, formats), start=1):
            head = ws.cell(row=top, column=j)
            head.font, head.fill = bold, fill
            head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=top + 1, min_col=j, max_col=j):
                    cell.number_format = fmt
            width = max([_text_width(header)] + [_text_width(v) for v in frame.iloc[:200, j - 1]])
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = f"A{top + 1}"
        if len(frame.columns):
            last = get_column_letter(len(frame.columns))
            ws.auto_filter.ref = f"A{top}:{last}{max(len(frame) + top, top)}"
    if notes:
        ws = workbook.create_sheet(_sheet_title(t("export.sheet.notes", lang), used))
        for key, value in notes.items():
            ws.append([key, value])
            for cell in ws[ws.max_row]:
                cells.as_text(cell)
            ws.cell(row=ws.max_row, column=1).font = bold
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 60
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip() or "Sheet"
    base = base[:31]
    title, i = base, 2
    while title.lower() in used:
        suffix = f"_{i}"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title
