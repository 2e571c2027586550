"""Printed handouts (打印版): the overview and the county ranking as PDF pages, A4 or A3 landscape.

Made on the server by the export engine's Chromium (``dashboard.export``): the page is composed as HTML
here — title, period, source and the demo mark; the KPI cards; the map as a picture; the ranking — and
Chromium prints it (``Page.printToPDF``), embedding the fonts it used (the CJK font that
``export.preflight`` checks for), so the file prints the same anywhere.

Chromium writes the CJK OpenType faces as Type 3 fonts (their glyphs in the file) whose text map names,
for a glyph an ideograph shares with a radical, the radical (⽼ for 老, ⻥ for 鱼): copied or searched text
came out wrong. :func:`searchable` maps those back to the ideographs, from the font's own character map.

Everything a handout says is decided in the page's run (its language, figures and rows) and handed over
as a :class:`Handout`; only the map's picture and the printing happen on the click.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import logging
import numbers
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import streamlit as st

from dashboard import export
from dashboard.charts import resolve_lang
from dashboard.formatting import MISSING
from dashboard.labels import t
from dashboard.ui import Kpi

log = logging.getLogger(__name__)

Paper = Literal["A4", "A3"]
PAPERS: tuple[Paper, ...] = ("A4", "A3")
PAPER_MM: dict[str, tuple[int, int]] = {"A4": (297, 210), "A3": (420, 297)}
"""Landscape page sizes, millimetres (width, height)."""
MARGIN_MM = 10
BASE_PT: dict[str, float] = {"A4": 9.0, "A3": 12.0}
"""Body type size per paper (the layout is the same, A3 is larger throughout)."""
MAP_PX = (720, 540)
"""The map picture's size in CSS pixels (its labels and legends keep their on-screen size relative to it)."""
MAP_SCALE = 4  # pixels per CSS pixel in the picture: ~500 dpi on A4, ~350 dpi on A3


@dataclass(frozen=True)
class Table:
    """A table of the handout: header and rows of text; ``numeric`` columns are right-aligned, ``bold``
    rows (the city total) and ``marked`` rows (the selected unit) stand out."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()
    bold: frozenset[int] = frozenset()
    marked: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Handout:
    """What one handout says (all text already in the reader's language)."""

    title: str
    meta: Sequence[str]  # period, source, ... one line each
    demo_mark: str | None  # "演示数据（非真实统计）" on demo data, else None
    kpis: Sequence[Kpi] = ()
    tables: Sequence[tuple[str, Table]] = ()  # (heading, table)
    map_title: str | None = None
    footer: str = ""
    lang: str = "zh"
    kpi_columns: int = 3
    notes: Sequence[str] = field(default_factory=tuple)


def table_of(frame: pd.DataFrame, *, decimals: dict[str, int] | None = None, bold: Sequence[int] = (),
             marked: Sequence[int] = ()) -> Table:
    """``frame`` (labelled columns) as a :class:`Table`: whole numbers with thousands separators, other
    numbers to ``decimals[column]`` places (default 1), missing values as the missing marker."""
    decimals = decimals or {}
    numeric = frozenset(i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c]))

    def cell(value: object, column: str) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
            return MISSING
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return str(value)
        if float(value).is_integer() and column not in decimals and pd.api.types.is_integer_dtype(frame[column]):
            return f"{int(value):,}"
        return f"{float(value):,.{decimals.get(column, 1)}f}"

    rows = [[cell(v, c) for v, c in zip(row, frame.columns)] for row in frame.itertuples(index=False)]
    return Table(list(frame.columns), rows, numeric=numeric, bold=frozenset(bold), marked=frozenset(marked))


def _table_html(table: Table) -> str:
    head = "".join(f"<th class='{'num' if i in table.numeric else ''}'>{html.escape(c)}</th>"
                   for i, c in enumerate(table.columns))
    rows = []
    for r, row in enumerate(table.rows):
        css = " ".join(name for name, on in (("bold", r in table.bold), ("marked", r in table.marked)) if on)
        cells = "".join(f"<td class='{'num' if i in table.numeric else ''}'>{html.escape(str(v))}</td>"
                        for i, v in enumerate(row))
        rows.append(f"<tr class='{css}'>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page_html(handout: Handout, *, paper: Paper, map_png: bytes | None = None) -> str:
    """The handout as one HTML page sized for ``paper`` (landscape); ``map_png`` goes beside the KPIs."""
    width_mm, height_mm = PAPER_MM[paper]
    base = BASE_PT[paper]
    cards = "".join(
        f"<div class='kpi'><div class='label'>{html.escape(k.label)}</div>"
        f"<div class='value'>{html.escape(k.value)}</div>"
        + (f"<div class='delta'>{html.escape(k.delta)}</div>" if k.delta else "") + "</div>"
        for k in handout.kpis
    )
    tables = "".join(f"<h2>{html.escape(heading)}</h2>{_table_html(table)}" for heading, table in handout.tables)
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in handout.notes)
    side = ""
    if map_png is not None:
        data = base64.b64encode(map_png).decode("ascii")
        side = (f"<div class='map'>{f'<h2>{html.escape(handout.map_title)}</h2>' if handout.map_title else ''}"
                f"<img alt='map' src='data:image/png;base64,{data}'></div>")
    demo = f"<span class='demo'>{html.escape(handout.demo_mark)}</span>" if handout.demo_mark else ""
    meta = "".join(f"<div>{html.escape(line)}</div>" for line in handout.meta)
    body_cols = "grid-template-columns: 1fr 1.1fr;" if side else "grid-template-columns: 1fr;"
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if handout.lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(handout.title)}</title>
<style>
@page {{ size: {width_mm}mm {height_mm}mm; margin: {MARGIN_MM}mm; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", sans-serif; font-size: {base}pt;
    color: #1B2631; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
header {{ display: flex; justify-content: space-between; align-items: flex-start;
    border-bottom: 0.6mm solid #1F4E79; padding-bottom: 2mm; margin-bottom: 3mm; }}
h1 {{ font-size: {base * 2}pt; margin: 0 0 1mm 0; }}
h2 {{ font-size: {base * 1.25}pt; margin: 3mm 0 1.5mm 0; }}
.meta {{ color: #4D5656; font-size: {base}pt; line-height: 1.4; }}
.demo {{ color: #B03A2E; border: 0.4mm solid #B03A2E; border-radius: 1mm; padding: 0.5mm 2mm; font-weight: 700;
    font-size: {base * 1.1}pt; white-space: nowrap; }}
main {{ display: grid; {body_cols} gap: 6mm; }}
.kpis {{ display: grid; grid-template-columns: repeat({handout.kpi_columns}, 1fr); gap: 2mm; }}
.kpi {{ border: 0.3mm solid #AEB6BF; border-radius: 1.5mm; padding: 1.5mm 2.5mm; break-inside: avoid; }}
.kpi .label {{ color: #4D5656; font-size: {base * 0.95}pt; }}
.kpi .value {{ font-size: {base * 2}pt; font-weight: 700; line-height: 1.2; }}
.kpi .delta {{ color: #4D5656; font-size: {base * 0.9}pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: {base * 0.95}pt; }}
th {{ text-align: left; border-bottom: 0.4mm solid #5D6D7E; padding: 0.8mm 1.5mm; font-weight: 600;
    white-space: nowrap; }}
td {{ border-bottom: 0.2mm solid #D5D8DC; padding: 0.7mm 1.5mm; white-space: nowrap; }}
th.num, td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.bold td {{ font-weight: 700; border-top: 0.4mm solid #5D6D7E; }}
tr.marked td {{ background: #FADBD8; font-weight: 700; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
.map img {{ width: 100%; border: 0.3mm solid #AEB6BF; }}
.note {{ color: #4D5656; font-size: {base * 0.9}pt; margin: 1mm 0; }}
footer {{ margin-top: 3mm; color: #4D5656; font-size: {base * 0.85}pt; }}
</style></head><body>
<header><div><h1>{html.escape(handout.title)}</h1><div class="meta">{meta}</div></div>{demo}</header>
<main><div><div class="kpis">{cards}</div>{tables}{notes}</div>{side}</main>
<footer>{html.escape(handout.footer)}</footer>
</body></html>"""


def map_picture(folium_map) -> bytes:
    """The map as a PNG for print: :data:`MAP_PX` at :data:`MAP_SCALE`, without zoom buttons or layer list."""
    page = export.standalone_map_html(folium_map)
    hide = "<style>.leaflet-control-layers{display:none!important}</style>"
    page = page.replace("</head>", hide + "</head>", 1)
    return export.map_png(page, width=MAP_PX[0], height=MAP_PX[1], scale=MAP_SCALE, settle_ms=900)


def pdf(handout: Handout, *, paper: Paper, folium_map=None) -> bytes:
    """The handout printed to PDF by Chromium on ``paper`` (landscape), with the map's picture if given."""
    if paper not in PAPERS:
        raise ValueError(f"`paper` was {paper!r} but must be one of {PAPERS!r}.")
    return _pdf_with(handout, paper, _Picture(folium_map) if folium_map is not None else None)


RADICALS = ((0x2E80, 0x2FDF),)
"""CJK Radicals Supplement and Kangxi Radicals: text maps should name the ideograph, not these."""
IDEOGRAPHS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2FFFF))


@functools.lru_cache(maxsize=8)
def _radical_to_ideograph(font_name: str) -> dict[int, int]:
    """For the installed font whose PostScript name is ``font_name`` (subset prefix removed): each radical
    code point → the ideograph drawn with the same glyph (empty when the font is not found)."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    for path in export._font_files_from_fontconfig():
        try:
            holder = TTCollection(str(path), lazy=True) if path.suffix.lower() in (".ttc", ".otc") \
                else TTFont(str(path), lazy=True)
        except (OSError, TTLibError):
            continue
        try:
            for font in getattr(holder, "fonts", [holder]):
                if font["name"].getDebugName(6) == font_name:
                    return _radicals_of(font.getBestCmap())
        finally:
            holder.close()
    return {}


def _radicals_of(cmap: dict[int, str]) -> dict[int, int]:
    by_glyph: dict[str, int] = {}
    for code, glyph in sorted(cmap.items()):
        if any(lo <= code <= hi for lo, hi in IDEOGRAPHS):
            by_glyph.setdefault(glyph, code)
    return {code: by_glyph[glyph] for code, glyph in cmap.items()
            if any(lo <= code <= hi for lo, hi in RADICALS) and glyph in by_glyph}


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_SECTION = re.compile(rb"\d+\s+begin(bfchar|bfrange)(.*?)end\1", re.S)


def _cmap_entries(data: bytes) -> dict[int, str] | None:
    """The code → text map of a ToUnicode CMap (single-character targets), or None if it holds others."""
    entries: dict[int, str] = {}
    for kind, body in _SECTION.findall(data):
        if kind == b"bfchar":
            for src, dst in _BFCHAR.findall(body):
                entries[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        else:
            for lo, hi, dst in _BFRANGE.findall(body):
                first = bytes.fromhex(dst.decode()).decode("utf-16-be")
                if len(first) != 1:
                    return None
                for n, src in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    entries[src] = chr(ord(first) + n)
    return entries


def _cmap_bytes(entries: dict[int, str], width: int) -> bytes:
    lines = []
    items = sorted(entries.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{src:0{width}X}> <{text.encode('utf-16-be').hex().upper()}>" for src, text in chunk]
        lines.append("endbfchar")
    return "\n".join(lines).encode("ascii")


def searchable(pdf_bytes: bytes) -> bytes:
    """``pdf_bytes`` with every font's text map naming ideographs where it named radicals (see the module)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    changed = 0
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            name = str(descriptor.get_object().get("/FontName", "")) if descriptor is not None else ""
            name = name.lstrip("/").split("+", 1)[-1]
            stream = font.get("/ToUnicode")
            if not name or stream is None:
                continue
            mapping = _radical_to_ideograph(name)
            if not mapping:
                continue
            stream = stream.get_object()
            data = stream.get_data()
            entries = _cmap_entries(data)
            if entries is None:
                continue
            fixed = {src: chr(mapping.get(ord(text), ord(text))) if len(text) == 1 else text
                     for src, text in entries.items()}
            if fixed == entries:
                continue
            width = 2 if max(entries, default=0) <= 0xFF else 4
            body = _cmap_bytes(fixed, width)
            sections = list(_SECTION.finditer(data))
            new = data[:sections[0].start()] + body + data[sections[-1].end():]
            stream.set_data(new)
            stream[NameObject("/Filter")] = stream.get("/Filter", NameObject("/FlateDecode"))
            changed += 1
    if not changed:
        return pdf_bytes
    out = io.BytesIO()
    writer.write(out)
    log.info("handout: text maps of %d font(s) name ideographs instead of radicals", changed)
    return out.getvalue()


class _Picture:
    """A map's print picture, made once on the first click (two clicks at once must not render one map
    together)."""

    def __init__(self, folium_map) -> None:
        self._map, self._png, self._lock = folium_map, None, threading.Lock()

    def png(self) -> bytes:
        with self._lock:
            if self._png is None:
                self._png = map_picture(self._map)
            return self._png


def _pdf_with(handout: Handout, paper: Paper, picture: _Picture | None) -> bytes:
    export.preflight().require()
    width_mm, height_mm = PAPER_MM[paper]
    page = page_html(handout, paper=paper, map_png=picture.png() if picture is not None else None)
    return searchable(export.engine().pdf(page, width_in=width_mm / 25.4, height_in=height_mm / 25.4))


def buttons(handout: Handout, name: str, *, key: str, folium_map=None) -> None:
    """"打印版 / 导出 PDF": one button per paper (A4 and A3 landscape), the PDF made on the click.

    ``key``-``a4`` and ``key``-``a3`` are the buttons' keys; the files are ``name``-A4.pdf / -A3.pdf. Without
    Chromium or the CJK fonts the buttons are off and say which package is missing.
    """
    from dashboard.downloads import file_button

    lang = resolve_lang(None)
    check = export.preflight()
    picture = _Picture(folium_map) if folium_map is not None else None
    with st.popover(t("handout.print", lang), icon=":material/print:"):
        st.caption(t("handout.help", lang))
        for paper in PAPERS:
            file_button(t(f"handout.paper.{paper}", lang), lambda paper=paper: _pdf_with(handout, paper, picture),
                        f"{name}-{paper}.pdf", "application/pdf", key=f"{key}-{paper.lower()}", disabled=not check.ok)
        if not check.ok:
            st.caption(check.message(lang))
