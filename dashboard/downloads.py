"""Tables, charts and maps with their downloads beside them, for every page.

Tables: CSV (UTF-8 with BOM) and XLSX from :mod:`dashboard.tables` (Chinese headers with units, frozen
header row, number formats, counties in the official order). Charts: the data as CSV/XLSX plus the chart
as PNG (2x, print resolution), SVG and PDF in the bulletin style. Maps: a standalone HTML file that works
offline and a PNG for slides.

Every file is made only when its button is clicked (Streamlit's deferred download: the button's data is a
function run on click), so a page rerun costs nothing for the downloads it offers. Image buttons check the
machine first (:func:`dashboard.export.preflight`) and, when Chromium or the CJK fonts are missing, say
which package to install instead of producing a file full of boxes.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import charts, export, tables, ui
from dashboard._internals import FileBuildFailed
from dashboard.charts import resolve_lang
from dashboard.labels import t

log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(df: pd.DataFrame, *, columns: tables.Columns = None, lang: str | None = None) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel and WPS open Chinese text correctly (headers as displayed)."""
    return tables.csv_bytes(df, columns=columns, lang=lang)


def xlsx_bytes(df: pd.DataFrame, *, sheet: str = "data", columns: tables.Columns = None,
               lang: str | None = None) -> bytes:
    """A one-sheet XLSX (Chinese headers with units, frozen header row, number formats); see ``tables``."""
    name = t("export.sheet.data", resolve_lang(lang)) if sheet == "data" else sheet
    return tables.xlsx_bytes({name: df}, columns=columns, lang=lang, notes=_notes(lang))


def _notes(lang: str | None) -> dict[str, str] | None:
    """Source, as-of date and demo mark for a workbook's notes sheet (None outside a running page)."""
    try:
        from dashboard import sidebar, state

        lang = resolve_lang(lang)
        demo = state.is_demo()
        notes = {
            t("export.notes.source", lang): t("common.demo_footer", lang) if demo else t("sidebar.own_data", lang),
        }
        as_of = sidebar.as_of()
        if as_of:
            notes[t("export.notes.as_of", lang)] = as_of.isoformat()
        if demo:
            notes[t("export.notes.demo", lang)] = t("export.chart.demo", lang)
        return notes
    except Exception:  # noqa: BLE001 - notes are a courtesy; the table itself must still download
        log.debug("no workbook notes outside a running page", exc_info=True)
        return None


def _deferred(make: Callable[[], bytes], what: str, lang: str | None = None) -> Callable[[], bytes]:
    """Wrap a file maker for a deferred download: a failure is logged with what was being made, and the
    user is told in their language under the button (:class:`dashboard._internals.FileBuildFailed`)."""
    lang = resolve_lang(lang)  # read now: the file is made outside the page's run

    def run() -> bytes:
        try:
            return make()
        except Exception as exc:
            log.exception("download of %s failed", what)
            raise FileBuildFailed(t("export.build_failed", lang, name=what)) from exc

    return run


def download_buttons(df: pd.DataFrame, name: str, *, key: str | None = None,
                     columns: tables.Columns = None) -> None:
    """CSV and XLSX download buttons for ``df``; files are called ``name``.csv / .xlsx (made on click)."""
    key = key or name
    lang = resolve_lang(None)
    notes = _notes(lang)
    left, right = st.columns(2)
    left.download_button(
        t("common.download_csv"), _deferred(lambda: tables.csv_bytes(df, columns=columns, lang=lang), f"{name}.csv"),
        f"{name}.csv", "text/csv", key=f"{key}-csv", on_click="ignore",
    )
    right.download_button(
        t("common.download_xlsx"),
        _deferred(lambda: tables.xlsx_bytes({name: df}, columns=columns, lang=lang, notes=notes), f"{name}.xlsx"),
        f"{name}.xlsx", XLSX_MIME, key=f"{key}-xlsx", on_click="ignore",
    )


def file_button(label: str, make: Callable[[], bytes], file_name: str, mime: str, *, key: str,
                disabled: bool = False) -> None:
    """A download button for a file ``make()`` builds on click (outside the page's run: give ``make`` the
    language and everything else it needs, rather than reading the session)."""
    st.download_button(label, _deferred(make, file_name), file_name, mime, key=key, on_click="ignore",
                       icon=":material/download:", disabled=disabled)


PHONE_TABLE_COLUMNS = 3
"""Columns a table shows at first on a phone (its key columns); the others are one tap away."""


def key_columns(headers: Sequence[str]) -> list[str]:
    """The columns that say what a row is and its first figures: the first :data:`PHONE_TABLE_COLUMNS`,
    a compound's code left out when its name follows (the name says it to a reader; the code is long)."""
    code, name = t("col.id"), t("col.name")  # 编号, 名称 — also the end of 小区编号, 小区名称
    named = any(h.endswith(name) for h in headers)
    keys = [h for h in headers if not (named and h.endswith(code))]
    return list(keys[:PHONE_TABLE_COLUMNS])


def show_table(df: pd.DataFrame, name: str, *, key: str | None = None, columns: tables.Columns = None,
               key_columns_shown: Sequence[str] | None = None, **dataframe_kwargs) -> None:
    """Show ``df`` with its CSV/XLSX downloads below it.

    ``columns``: a list picks and orders the columns shown and downloaded; a mapping ``{column: header}``
    also renames them (the downloads then use these headers). On a phone a wide table shows its key
    columns (``key_columns_shown``, default :func:`key_columns`) and the whole table behind a tap.
    """
    shown = tables.dates_only(df)  # 2020-11-17, not 2020-11-17 00:00:00
    if columns is not None:
        shown = shown[list(columns)]
        if isinstance(columns, dict):
            shown = shown.rename(columns=columns)
    show_frame(shown, key_columns_shown=key_columns_shown, **dataframe_kwargs)
    download_buttons(df, name, key=key, columns=columns)


def show_frame(shown: pd.DataFrame, *, key_columns_shown: Sequence[str] | None = None, **dataframe_kwargs) -> None:
    """``st.dataframe`` without the index; on a phone a wide table shows its key columns (``key_columns_shown``,
    default :func:`key_columns`) and the whole table one tap away, in an expander below it."""
    order = [str(c) for c in dataframe_kwargs.get("column_order") or shown.columns]
    if ui.is_phone() and len(order) > PHONE_TABLE_COLUMNS:
        keys = [c for c in (key_columns_shown or key_columns(order)) if c in order]
        st.dataframe(shown, hide_index=True, **{**dataframe_kwargs, "column_order": keys})
        with st.expander(t("common.table.all_columns", n=len(order)), icon=":material/table_view:"):
            st.dataframe(shown, hide_index=True, **dataframe_kwargs)
    else:
        st.dataframe(shown, hide_index=True, **dataframe_kwargs)


def _chart_frame() -> dict:
    """Title-independent frame values for exported charts: as-of date, source line, demo flag."""
    try:
        from dashboard import sidebar, state

        demo = state.is_demo()
        return {"as_of": sidebar.as_of(), "demo": demo,
                "source": t("common.demo_footer") if demo else t("sidebar.own_data")}
    except Exception:  # noqa: BLE001 - outside a running page the chart is exported without them
        return {"as_of": None, "demo": None, "source": None}


def export_figure(fig: go.Figure, *, title: str, unit: str | None = None, as_of=None, source: str | None = None,
                  demo: bool | None = None, lang: str | None = None) -> go.Figure:
    """A copy of ``fig`` in the bulletin style for export (the on-screen figure is left as it is)."""
    out = go.Figure(fig)
    if charts.is_styled(out):
        return out
    return charts.style_figure(out, title=title, unit=unit, as_of=as_of, source=source, demo=demo, lang=lang)


def image_buttons(fig: go.Figure, name: str, *, key: str, title: str | None = None, unit: str | None = None) -> None:
    """PNG / SVG / PDF download buttons for ``fig`` (rendered on click), or why they cannot work here."""
    check = export.preflight()
    lang = resolve_lang(None)
    heading = title or (fig.layout.title.text if fig.layout.title and fig.layout.title.text else name)
    frame = _chart_frame()
    for fmt in export.FORMATS:
        label = t(f"export.{fmt}")
        if not check.ok:
            st.download_button(label, b"", f"{name}.{fmt}", disabled=True, key=f"{key}-{fmt}",
                               help=check.message(lang))
            continue

        def make(fmt=fmt) -> bytes:
            styled = export_figure(fig, title=heading, unit=unit, lang=lang, **frame)
            return export.figure_bytes(styled, fmt)

        st.download_button(label, _deferred(make, f"{name}.{fmt}"), f"{name}.{fmt}", export.MIME_TYPES[fmt],
                           key=f"{key}-{fmt}", on_click="ignore")
    if not check.ok:
        st.caption(check.message(lang))


def show_chart(fig: go.Figure, data: pd.DataFrame, name: str, *, key: str | None = None,
               title: str | None = None, unit: str | None = None) -> None:
    """Show a plotly chart with the downloads of its data (CSV, XLSX) and of the chart (PNG, SVG, PDF).

    The chart files are in the bulletin style (:func:`dashboard.charts.style_figure`): if ``fig`` is not
    styled yet, ``title`` (default: the figure's title, else ``name``), ``unit``, the sidebar's as-of
    date, the data source and the demo mark are added to the exported copy.
    """
    key = key or name
    frame, shown = charts.for_screen(fig)
    if frame is not None:
        st.markdown(_frame_head(frame), unsafe_allow_html=True)
    # plotly's own toolbar would sit on the legend; the files are in the buttons below, full screen in Streamlit's
    st.plotly_chart(shown, key=f"{key}-chart", config={"displayModeBar": False})
    if frame is not None and frame.source:
        st.markdown(f'<div class="jiugai-chart-source">{html.escape(frame.source)}</div>', unsafe_allow_html=True)
    download_buttons(data, name, key=key)
    with st.popover(t("export.images"), icon=":material/image:"):
        image_buttons(fig, name, key=key, title=title, unit=unit)


def _frame_head(frame: charts.ScreenFrame) -> str:
    """The chart's title, subtitle and demo mark as HTML that wraps at any width (see ``charts.for_screen``)."""
    demo = f'<span class="jiugai-chart-demo">{html.escape(frame.demo)}</span>' if frame.demo else ""
    sub = f'<span class="jiugai-chart-sub">{html.escape(frame.subtitle)}</span>' if frame.subtitle else ""
    return (f'<div class="jiugai-chart-head"><div class="jiugai-chart-title">{html.escape(frame.title)}</div>'
            f'<div class="jiugai-chart-meta">{sub}{demo}</div></div>')


def map_downloads(folium_map, name: str, *, key: str | None = None, title: str | None = None) -> None:
    """Download the current map as a standalone HTML file that works offline, and as a PNG for slides.

    Call it after :func:`dashboard.maps.render` drew the map: the files hold the same layers. The page is
    rendered once, on the first click, under a lock (two clicks at once must not render one map together).
    """
    key = key or name
    lang = resolve_lang(None)
    frame = _chart_frame()
    caption = " · ".join(
        part for part in (
            t("export.chart.source", lang, source=frame["source"]) if frame["source"] else None,
            t("export.chart.as_of", lang, date=frame["as_of"].isoformat()) if frame["as_of"] else None,
        ) if part
    ) or None
    page = _MapPage(folium_map, title=title, caption=caption, demo=bool(frame["demo"]), lang=lang)
    left, right = st.columns(2)
    left.download_button(
        t("export.map_html"), _deferred(lambda: page.html().encode("utf-8"), f"{name}.html"),
        f"{name}.html", "text/html", key=f"{key}-html", on_click="ignore",
    )
    check = export.preflight()
    if check.ok:
        right.download_button(
            t("export.map_png"), _deferred(lambda: export.map_png(page.html()), f"{name}.png"),
            f"{name}.png", "image/png", key=f"{key}-png", on_click="ignore",
        )
    else:
        right.download_button(t("export.map_png"), b"", f"{name}.png", disabled=True, key=f"{key}-png",
                              help=check.message(lang))
        right.caption(check.message(lang))


class _MapPage:
    """A map's standalone page (with its title box), rendered once on first use; thread-safe."""

    def __init__(self, folium_map, *, title: str | None, caption: str | None, demo: bool, lang: str):
        self._map, self._options = folium_map, {"title": title, "caption": caption, "demo": demo, "lang": lang}
        self._lock = threading.Lock()
        self._html: str | None = None

    def html(self) -> str:
        with self._lock:
            if self._html is None:
                self._html = export.standalone_map_html(self._map, **self._options)
            return self._html
