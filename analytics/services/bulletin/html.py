"""The bulletin as HTML for the page's preview: the same header, blocks, tables and distribution as the files.

:func:`html_parts` cuts the document where the charts go, so the page can draw its own charts there;
:func:`to_html` is the whole document (charts as PNG images when given). Every text is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from analytics.services.bulletin.compose import DEMO_MARK, Block, Bulletin, ChartImage, Table, date_text

STYLE = """
<style>
.jiugai-bulletin{font-family:'FangSong','仿宋','Noto Serif CJK SC','Songti SC',serif;color:#111;line-height:1.75;
  max-width:50em;margin:0 auto;font-size:16px}
.jiugai-bulletin .title{font-family:'FZXiaoBiaoSong-B05S','方正小标宋简体','Noto Serif CJK SC',serif;color:#c0392b;
  font-size:28px;font-weight:bold;text-align:center;margin:0}
.jiugai-bulletin .centre{text-align:center;margin:0}
.jiugai-bulletin .issuer{display:flex;justify-content:space-between;border-bottom:3px solid #c0392b;margin:.3em 0 .6em}
.jiugai-bulletin .demo{color:#c0392b;font-weight:bold;text-align:center;margin:0}
.jiugai-bulletin h3{font-family:'SimHei','黑体','Noto Sans CJK SC',sans-serif;font-size:17px;font-weight:normal;
  margin:.8em 0 .2em;text-indent:2em}
.jiugai-bulletin p.body{text-indent:2em;margin:0}
.jiugai-bulletin .lead{font-family:'KaiTi','楷体','Noto Serif CJK SC',serif;font-weight:bold}
.jiugai-bulletin .caption{font-family:'SimHei','黑体','Noto Sans CJK SC',sans-serif;text-align:center;margin:.6em 0 .2em}
.jiugai-bulletin table{border-collapse:collapse;margin:0 auto;font-family:'SimSun','宋体','Noto Serif CJK SC',serif;
  font-size:13px;line-height:1.35}
.jiugai-bulletin th,.jiugai-bulletin td{border:1px solid #444;padding:2px 4px;white-space:nowrap}
.jiugai-bulletin th{font-family:'SimHei','黑体','Noto Sans CJK SC',sans-serif;font-weight:normal;background:#f2f2f2}
.jiugai-bulletin td.left{text-align:left}.jiugai-bulletin td.right{text-align:right}
.jiugai-bulletin td.center{text-align:center}.jiugai-bulletin tr.bold td{font-weight:bold}
.jiugai-bulletin .note{font-size:13px;margin:.2em 0 .6em}
.jiugai-bulletin .distribution{border-top:2px solid #111;border-bottom:2px solid #111;margin-top:1.5em;font-size:15px}
.jiugai-bulletin .distribution p{margin:0;border-bottom:1px solid #111;padding:.1em 0}
.jiugai-bulletin .distribution p:last-child{border-bottom:none}
.jiugai-bulletin figure{text-align:center;margin:.6em 0}.jiugai-bulletin figure img{max-width:100%}
</style>
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cell_text(text: str) -> str:
    return "<br>".join(_e(line) for line in text.split("\n"))


def table_html(table: Table) -> str:
    """One table: caption, a one- or two-row header (group labels over their columns), rows, note."""
    n = len(table.columns)
    out = []
    if table.caption:
        out.append(f'<p class="caption">{_e(table.caption)}</p>')
    out.append("<table><thead>")
    if table.has_groups:
        top: list[str] = []
        bottom: list[str] = []
        j = 0
        while j < n:
            column = table.columns[j]
            if column.group:
                k = j
                while k + 1 < n and table.columns[k + 1].group == column.group:
                    k += 1
                top.append(f'<th colspan="{k - j + 1}">{_cell_text(column.group)}</th>')
                bottom.extend(f"<th>{_cell_text(table.columns[m].label)}</th>" for m in range(j, k + 1))
                j = k + 1
            else:
                top.append(f'<th rowspan="2">{_cell_text(column.label)}</th>')
                j += 1
        out.append(f"<tr>{''.join(top)}</tr><tr>{''.join(bottom)}</tr>")
    else:
        out.append("<tr>" + "".join(f"<th>{_cell_text(c.label)}</th>" for c in table.columns) + "</tr>")
    out.append("</thead><tbody>")
    for i, values in enumerate(table.rows):
        start = table.spans.get(i)
        cells = []
        for j, (column, text) in enumerate(zip(table.columns, values)):
            if start is not None and j > start:
                break
            if start is not None and j == start:
                cells.append(f'<td class="center" colspan="{n - start}">{_e(text)}</td>')
            else:
                cells.append(f'<td class="{column.align}">{_e(text)}</td>')
        bold = ' class="bold"' if i in table.bold_rows else ""
        out.append(f"<tr{bold}>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{_e(table.note)}</p>')
    return "".join(out)


def block_html(block: Block) -> str:
    """One block (the charts' place gives an empty string)."""
    if block.kind == "heading":
        return f"<h3>{_e(block.text)}</h3>"
    if block.kind == "paragraph":
        lead = f'<span class="lead">{_e(block.lead)}</span>' if block.lead else ""
        return f'<p class="body">{lead}{_e(block.text)}</p>'
    if block.kind == "table" and block.table is not None:
        return table_html(block.table)
    return ""


def _header(bulletin: Bulletin) -> str:
    parts = [f'<p class="title">{_e(bulletin.title)}</p>', f'<p class="centre">{_e(bulletin.issue_text)}</p>',
             f'<p class="centre">{_e(bulletin.doc_number)}</p>',
             f'<div class="issuer"><span>{_e(bulletin.office)}</span><span>{_e(date_text(bulletin.date))}</span></div>']
    if bulletin.is_demo:
        parts.append(f'<p class="demo">{_e(DEMO_MARK)}</p>')
    parts.append(f'<p class="centre">统计周期：{_e(bulletin.period_text)}</p>')
    return "".join(parts)


def _footer(bulletin: Bulletin) -> str:
    lines = "".join(f"<p>{_e(text)}</p>" for text in [*bulletin.distribution_lines, bulletin.printed_line])
    return f'<div class="distribution">{lines}</div>'


def html_parts(bulletin: Bulletin) -> tuple[str, str]:
    """The document before and after the place of the charts, each a self-contained HTML fragment."""
    before: list[str] = []
    after: list[str] = []
    seen = False
    for block in bulletin.blocks:
        if block.kind == "charts":
            seen = True
            continue
        (after if seen else before).append(block_html(block))
    head = STYLE + '<div class="jiugai-bulletin">' + _header(bulletin)
    return (head + "".join(before) + "</div>",
            STYLE + '<div class="jiugai-bulletin">' + "".join(after) + _footer(bulletin) + "</div>")


def to_html(bulletin: Bulletin, *, charts: Sequence[ChartImage] = ()) -> str:
    """The whole document as one HTML fragment, charts as PNG images where the files have them."""
    figures = "".join(
        f'<figure><img alt="{_e(c.caption)}" src="data:image/png;base64,{base64.b64encode(c.png).decode()}">'
        f'<figcaption class="caption">图{i}  {_e(c.caption)}</figcaption></figure>'
        for i, c in enumerate(charts, start=1)
    )
    body = []
    for block in bulletin.blocks:
        body.append(figures if block.kind == "charts" else block_html(block))
    return STYLE + '<div class="jiugai-bulletin">' + _header(bulletin) + "".join(body) + _footer(bulletin) + "</div>"
