"""Tables and charts with their data downloads beside them (CSV in UTF-8 with BOM, XLSX)."""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.labels import t


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel and WPS open Chinese text correctly."""
    return df.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, *, sheet: str = "data") -> bytes:
    """A one-sheet XLSX with a frozen header row."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        df.to_excel(writer, index=False, sheet_name=sheet[:31])
        writer.sheets[sheet[:31]].freeze_panes = "A2"
    return buf.getvalue()


def download_buttons(df: pd.DataFrame, name: str, *, key: str | None = None) -> None:
    """CSV and XLSX download buttons for ``df``; files are called ``name``.csv / .xlsx."""
    key = key or name
    left, right = st.columns(2)
    left.download_button(t("common.download_csv"), csv_bytes(df), f"{name}.csv", "text/csv", key=f"{key}-csv")
    right.download_button(
        t("common.download_xlsx"), xlsx_bytes(df), f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}-xlsx",
    )


def show_table(df: pd.DataFrame, name: str, *, key: str | None = None, **dataframe_kwargs) -> None:
    """Show ``df`` with its downloads below it."""
    st.dataframe(df, hide_index=True, **dataframe_kwargs)
    download_buttons(df, name, key=key)


def show_chart(fig: go.Figure, data: pd.DataFrame, name: str, *, key: str | None = None) -> None:
    """Show a plotly chart with the downloads of the data it draws."""
    st.plotly_chart(fig, key=f"{key or name}-chart")
    download_buttons(data, name, key=key)


def map_downloads(folium_map, name: str, *, key: str | None = None) -> None:
    """Download the current map as a standalone HTML file."""
    html = folium_map.get_root().render().encode("utf-8")
    st.download_button(t("common.download_map_html"), html, f"{name}.html", "text/html", key=f"{key or name}-html")
