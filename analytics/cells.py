"""Spreadsheet cells that cannot run: text a spreadsheet program would take for a formula stays text.

Names, file names and values come from uploads and county reports; a compound called
``=HYPERLINK("http://…","点击")`` must reach an administrator's workbook as those characters, not as a live
link or command. Excel, WPS and LibreOffice start a formula at ``=``, ``+``, ``-`` or ``@`` (and some
import tab- or return-led text the same way). One rule, :func:`looks_like_formula`, decides for every
writer of the project:

* XLSX — :func:`as_text` stores such a cell with the string type, so the file holds the text exactly
  and no formula (openpyxl would otherwise write any text starting with ``=`` as one);
* CSV — :func:`csv_value` prefixes it with ``'``, the usual mark for "text, not a formula".

Missing values (``None``, NaN, ``NaT``, ``pd.NA`` of the nullable dtypes) are empty cells in every writer:
:func:`excel_value` is the one conversion to what openpyxl can store.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """True for text that a spreadsheet program could read as a formula (leading spaces ignored)."""
    if not isinstance(value, str) or not value:
        return False
    return value.startswith(FORMULA_STARTS) or value.lstrip(" ").startswith(FORMULA_STARTS)


def csv_value(value: object) -> object:
    """``value`` for a CSV cell: formula-like text gets a leading ``'``; anything else is unchanged."""
    return "'" + value if isinstance(value, str) and looks_like_formula(value) else value


def as_text(cell):
    """Make an openpyxl ``cell`` (normal or write-only) hold its text as text, never as a formula.

    Returns the cell, so a write-only row can be built as ``[as_text(WriteOnlyCell(ws, v)) for v in …]``.
    """
    if isinstance(cell.value, str) and (cell.data_type == "f" or looks_like_formula(cell.value)):
        cell.data_type = "s"
    return cell


def is_missing(value: object) -> bool:
    """True for a missing scalar: ``None``, NaN, ``NaT`` or ``pd.NA`` (never for text, lists or arrays)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def excel_value(value: object) -> object:
    """Return ``value`` as openpyxl stores it.

    A missing value becomes ``None`` (an empty cell), numpy scalars Python numbers, timestamps naive
    ``datetime`` (local wall time kept).
    """
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value
