"""The administration page's units and bulletin-settings tabs: the tables shown and the writes they make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from analytics.services.bulletin import office
from dashboard import auth_ui, state, ui
from dashboard.labels import labelled, t


def units_table() -> pd.DataFrame:
    """Every reporting unit in the official order, labelled (kind and category in words)."""
    frame = state.units().copy()
    frame["category"] = frame["category"].map(lambda c: t(f"admin.unit.category.{c}"))
    frame["kind"] = frame["kind"].map(lambda k: t(f"admin.unit.kind.{k}"))
    return labelled(frame.drop(columns="sort_order"), "admin.unit.col")


def write(fn: Callable[..., object], *args: object, success: str, **kwargs: object) -> None:
    """Run a units or settings change as the signed-in user; on success rerun showing ``success``."""
    try:
        fn(state.cursor(), *args, user=auth_ui.current_user(), **kwargs)
    except Exception as exc:  # noqa: BLE001 - a refusal, or the database failing (a full disk): a message
        ui.show_error(exc)
        return
    auth_ui.set_page_notice(success)
    st.rerun()


def year_or_none(value: int | float | None) -> int | None:
    """A number input's year; 0 (or empty) means open."""
    return int(value) if value else None


def settings_in_force() -> office.OfficeSettings:
    """The office's bulletin settings now in force."""
    return office.load(state.cursor())


def series_frame(current: office.OfficeSettings) -> pd.DataFrame:
    """The series' first issues as an editable table: year, first weekly report date, first month."""
    rows = [{"year": y, "first_week": d, "first_month": m} for y, (d, m) in sorted(current.series_start.items())]
    return pd.DataFrame(rows, columns=["year", "first_week", "first_month"]).astype(
        {"year": "Int64", "first_month": "Int64"})


def series_from(frame: pd.DataFrame) -> dict[int, tuple[date, int]]:
    """The edited table back as ``OfficeSettings.series_start`` (rows without a year are skipped)."""
    out = {}
    for _, row in frame.iterrows():
        if pd.isna(row["year"]):
            continue
        first = row["first_week"]
        first = pd.Timestamp(first).date() if not pd.isna(first) else None
        out[int(row["year"])] = (first, int(row["first_month"]) if not pd.isna(row["first_month"]) else 0)
    return out  # type: ignore[return-value]  # office.check refuses a missing date or month


def edited_settings(current: office.OfficeSettings, **values: object) -> office.OfficeSettings:
    """``current`` with the form's values."""
    return replace(current, **values)  # type: ignore[arg-type]
