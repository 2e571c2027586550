r"""Column widths from the content of a table, for the Word and PDF layouts alike.

A column is as wide as its widest cell (unit names on one line, no number ever broken) and its header,
which may break only where its label says ("开工率\\n（%）"), or, when the table would not fit otherwise,
between Chinese characters (never inside a bracketed unit such as "（%）"). The spare width is shared out
in proportion, so the table runs across the text width. When even the narrowest headers do not fit,
there is no layout at that font size (``None``) and the caller tries a smaller one. Only a column of free
text (``Column.wrap``: a compound's name, a reason) may break its cells, at most 8 characters wide.

Word and WPS draw a table's columns at the widths given only with a fixed layout; the widths here go into
the grid, every cell and the table width (see ``docx``). Word's fonts are not on the server, so
:func:`word_width_pt` estimates a string's width from the faces the document names (宋体 for Chinese,
Times New Roman for digits and Latin letters), rounding every glyph up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from analytics.services.bulletin.compose import Table

Measure = Callable[[str], float]
WIDE = "国"  # a full-width character: the measure of Chinese text
WRAP_EM, WRAP_MIN_EM = 8, 4  # a column of free text is at most 8 characters wide, at least 4 when space is short

# Times New Roman advance widths in em (rounded up); anything not listed and not wide counts 0.72 em.
_LATIN_EM: dict[str, float] = {
    **dict.fromkeys("0123456789", 0.5), ".": 0.25, ",": 0.25, ":": 0.28, ";": 0.28, " ": 0.25, "+": 0.57,
    "-": 0.34, "%": 0.84, "(": 0.34, ")": 0.34, "/": 0.28, "*": 0.5, "#": 0.5,
    **dict.fromkeys("abcdeghknopqsuvxyz", 0.5), **dict.fromkeys("fijlrt", 0.34), "m": 0.78, "w": 0.72,
}
# A header may break after any Chinese character, but a bracketed unit and a number stay whole.
_HEADER_TOKEN = re.compile(r"（[^）]*）|\([^)]*\)|[0-9A-Za-z.,%+\-]+|.", re.DOTALL)


def word_width_pt(text: str, size_pt: float) -> float:
    """Estimated width in points of ``text`` set at ``size_pt`` in 宋体 / Times New Roman (never less than true)."""
    em = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F", "A") or ord(ch) >= 0x2E80:
            em += 1.0
        else:
            em += _LATIN_EM.get(ch, 0.72)
    return em * size_pt


def header_lines(label: str) -> list[str]:
    r"""The lines a header is printed in: its label split where it says ("\\n")."""
    return label.split("\n")


def narrowest_header(label: str, measure: Measure) -> float:
    """The width of the header's widest piece that may not break (a character or a bracketed unit)."""
    return max(measure(token) for line in header_lines(label) for token in _HEADER_TOKEN.findall(line) or [""])


def column_widths(table: Table, *, measure: Measure, available: float, padding: float) -> list[float] | None:
    """Widths (in ``measure``'s unit) for ``table``'s columns that fit in ``available``, or None.

    Parameters
    ----------
    table
        The table; cells of a spanned row from the span's start on are left out (they run to the row's end).
    measure
        Width of a string at the table's font size.
    available
        The width the table may take (the text width).
    padding
        Left plus right cell margin (added to every column's content width).

    Returns
    -------
    list of float or None
        Each column at least its widest cell and its header's widest line; a group header (the upper
        header row) at least as wide as its columns together; the whole exactly ``available`` wide. None
        when the columns cannot fit even with headers broken between characters.
    """
    n = len(table.columns)
    data = [0.0] * n
    for i, row in enumerate(table.rows):
        stop = table.spans.get(i, n)
        for j in range(min(stop, n)):
            data[j] = max(data[j], measure(row[j]) + padding)
    wrap_floor = [0.0] * n
    for j, column in enumerate(table.columns):
        if column.wrap:  # free text: as wide as WRAP_EM characters at most, at least WRAP_MIN_EM
            data[j] = min(data[j], measure(WIDE * WRAP_EM) + padding)
            wrap_floor[j] = min(data[j], measure(WIDE * WRAP_MIN_EM) + padding)
    header = [max(measure(line) for line in header_lines(c.label)) + padding for c in table.columns]
    tight = [narrowest_header(c.label, measure) + padding for c in table.columns]
    need = [max(d, h) for d, h in zip(data, header)]
    floor = [max(wf if c.wrap else d, t) for c, d, wf, t in zip(table.columns, data, wrap_floor, tight)]
    if sum(need) > available:
        if sum(floor) > available:
            return None
        # headers (and free text) break further: take the same share of each column's excess over its floor
        excess = [nd - fl for nd, fl in zip(need, floor)]
        cut = (sum(need) - available) / sum(excess)
        need = [fl + ex * (1 - cut) for fl, ex in zip(floor, excess)]
    need = _fit_groups(table, need, measure, padding)
    if sum(need) > available + 1e-9:
        return None
    spare = available - sum(need)
    total = sum(need)
    widths = [w + spare * w / total for w in need]
    for i, start in table.spans.items():  # a merged cell must hold its text too
        if measure(table.rows[i][start]) + padding > sum(widths[start:]) + 1e-9:
            return None
    return widths


def _fit_groups(table: Table, need: Sequence[float], measure: Measure, padding: float) -> list[float]:
    """Widen the columns under a group header that is wider than they are together (evenly)."""
    out = list(need)
    j = 0
    columns = table.columns
    while j < len(columns):
        group = columns[j].group
        k = j
        while k + 1 < len(columns) and group and columns[k + 1].group == group:
            k += 1
        if group:
            want = max(measure(line) for line in header_lines(group)) + padding
            have = sum(out[j:k + 1])
            if want > have:
                for m in range(j, k + 1):
                    out[m] += (want - have) / (k - j + 1)
        j = k + 1
    return out


def fit(table: Table, *, measure_at: Callable[[float], Measure], available: float, padding: float,
        sizes: Sequence[float]) -> tuple[float, list[float]]:
    """The largest font size of ``sizes`` (largest first) at which ``table`` fits, with its widths.

    When none fits, the smallest size with widths scaled down to ``available`` (headers and cells will
    wrap; logged by the caller).
    """
    for size in sizes:
        widths = column_widths(table, measure=measure_at(size), available=available, padding=padding)
        if widths is not None:
            return size, widths
    size = sizes[-1]
    measure = measure_at(size)
    raw = [max([measure(r[j]) + padding for i, r in enumerate(table.rows) if j < table.spans.get(i, len(r))] or [padding])
           for j in range(len(table.columns))]
    raw = [min(w, measure(WIDE * WRAP_MIN_EM) + padding) if c.wrap else w for c, w in zip(table.columns, raw)]
    scale = available / sum(raw)
    return size, [w * scale for w in raw]
