"""Bulletin style for every plotly chart, and the charts the weekly dispatch / monthly bulletin carries.

One palette, one CJK font stack, one frame: title, unit and as-of date on top, the source line below, and
a demo-data mark (corner label plus a faint watermark, so a cropped chart still shows it) when the data
is demo data. Nothing here imports Streamlit: the bulletin command uses it without a UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from dashboard.labels import t

# Fonts: the first one that exists on the machine is used. "Noto Sans CJK SC" is what `fonts-noto-cjk`
# installs on Linux (the export engine renders with it); the others cover Windows and macOS browsers.
FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
    '"SimHei", "WenQuanYi Micro Hei", sans-serif'
)

# One palette for every chart: deep blue first (the office's colour), then well separated hues.
PALETTE: tuple[str, ...] = (
    "#1f4e79", "#d9822b", "#2e8b57", "#c0392b", "#6c5b7b", "#17a2b8", "#8c6d31", "#7f7f7f",
)
STATUS_COLOURS: dict[str, str] = {"未开工": "#b0b7c3", "已立项": "#6fa8dc", "已开工": "#d9822b", "已完工": "#2e8b57"}
GOOD, BAD, NEUTRAL = "#2e8b57", "#c0392b", "#7f7f7f"

TITLE_SIZE, BODY_SIZE, SMALL_SIZE = 20, 13, 11
EXPORT_WIDTH_PX, EXPORT_HEIGHT_PX = 1000, 600  # CSS pixels; PNGs are written at 2x (2000 x 1200)


def _date_text(as_of: date | str, lang: str | None) -> str:
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    if (lang or _lang()) == "en":
        return as_of.isoformat()
    return f"{as_of.year}年{as_of.month}月{as_of.day}日"


def _lang() -> str:
    return resolve_lang(None)


def resolve_lang(lang: str | None) -> str:
    """``lang`` if given; else the Streamlit session's language inside a running page, Chinese outside one."""
    if lang:
        return lang
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return "zh"
    except ImportError:  # pragma: no cover - streamlit is pinned
        return "zh"
    from dashboard.labels import current_lang

    return current_lang()


def style_figure(
    fig: go.Figure,
    *,
    title: str,
    unit: str | None = None,
    as_of: date | str | None = None,
    source: str | None = None,
    demo: bool | None = None,
    lang: str | None = None,
) -> go.Figure:
    """Put ``fig`` in the bulletin style (in place, like ``update_layout``) and return it.

    Parameters
    ----------
    fig
        Any plotly figure.
    title
        Chart title, e.g. ``"各县区开工率"``.
    unit
        Unit of the values, shown under the title as "单位：…" (e.g. ``"%"``, ``"个"``, ``"万元"``).
    as_of
        Date the figures refer to, shown under the title as "截至 YYYY年M月D日".
    source
        Data source, shown in the bottom line as "数据来源：…".
    demo
        True marks the chart as demo data (red corner label and a faint watermark); None or False: no mark.
    lang
        ``"zh"`` or ``"en"`` for the frame's words; default the session's language (Chinese outside a UI).
    """
    lang = resolve_lang(lang)
    sub = []
    if unit:
        sub.append(t("export.chart.unit", lang, unit=unit))
    if as_of is not None:
        sub.append(t("export.chart.as_of", lang, date=_date_text(as_of, lang)))
    footer = []
    if source:
        footer.append(t("export.chart.source", lang, source=source))
    annotations = [a for a in (fig.layout.annotations or ()) if not (a.name or "").startswith("jiugai-")]
    if footer:
        annotations.append(go.layout.Annotation(
            name="jiugai-source", text=" · ".join(footer), xref="paper", yref="paper", x=0, y=0,
            yshift=-62, xanchor="left", yanchor="top", showarrow=False,
            font={"size": SMALL_SIZE, "color": NEUTRAL},
        ))
    if demo:
        mark = t("export.chart.demo", lang)
        annotations.append(go.layout.Annotation(
            name="jiugai-demo", text=f"<b>{mark}</b>", xref="paper", yref="paper", x=1, y=1, yshift=58,
            xanchor="right", yanchor="bottom", showarrow=False, bordercolor=BAD, borderwidth=1, borderpad=3,
            font={"size": SMALL_SIZE + 1, "color": BAD},
        ))
        annotations.append(go.layout.Annotation(
            name="jiugai-watermark", text=mark, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
            textangle=-20, opacity=0.07, font={"size": 72, "color": BAD},
        ))
    fig.update_layout(
        title={
            "text": f"<b>{title}</b>", "x": 0, "xanchor": "left", "xref": "paper", "y": 0.97, "yanchor": "top",
            "font": {"size": TITLE_SIZE, "color": "#1a1a1a"},
            "subtitle": {"text": " · ".join(sub), "font": {"size": SMALL_SIZE + 1, "color": NEUTRAL}},
        },
        font={"family": FONT_FAMILY, "size": BODY_SIZE, "color": "#333333"},
        colorway=list(PALETTE),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 70, "r": 30, "t": 100, "b": 95 if footer else 70},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        meta={"jiugai_style": True, "title": title, "subtitle": " · ".join(sub), "source": " · ".join(footer),
              "demo": t("export.chart.demo", lang) if demo else ""},
    )
    fig.layout.annotations = annotations  # replaces (update_layout ignores an empty list)
    fig.update_xaxes(showgrid=False, linecolor="#999999", ticks="outside", automargin=True)
    fig.update_yaxes(gridcolor="#e5e5e5", zerolinecolor="#999999", automargin=True)
    return fig


def is_styled(fig: go.Figure) -> bool:
    """Whether ``style_figure`` has been applied to ``fig``."""
    meta = fig.layout.meta
    return isinstance(meta, dict) and bool(meta.get("jiugai_style"))


@dataclass(frozen=True)
class ScreenFrame:
    """The frame of a styled chart as a page draws it around the figure: plain text, wrapped by the page."""

    title: str
    subtitle: str
    source: str
    demo: str  # the demo mark, "" for real data


def for_screen(fig: go.Figure) -> tuple[ScreenFrame | None, go.Figure]:
    """A styled figure as a page shows it: the frame's words apart from the figure, and the figure without them.

    In a figure of a fixed size (an exported image, the bulletin) the title, subtitle, demo mark, legend and
    source line have their places. On a page the figure takes the width of its column, from a 390 px phone
    to a 1600 px screen, and text inside a plotly figure never wraps: a title runs into the demo mark, the
    legend into the subtitle, the source line into the names under the axis. So on a page the title,
    subtitle, demo mark and source are text around the figure (``ScreenFrame``, which the page lays out
    and wraps), and the figure keeps its plot, the legend above the plot — placed in the figure's own
    coordinates, so the plot area starts below it however many rows it wraps into — and the faint
    watermark. The figure passed in is not changed (its exported copies keep the whole frame). An
    unstyled figure is returned as it is, with no frame.
    """
    if not is_styled(fig):
        return None, fig
    meta = fig.layout.meta
    frame = ScreenFrame(title=str(meta.get("title", "")), subtitle=str(meta.get("subtitle", "")),
                        source=str(meta.get("source", "")), demo=str(meta.get("demo", "")))
    shown = go.Figure(fig)
    shown.layout.annotations = [a for a in (fig.layout.annotations or ())
                                if a.name not in ("jiugai-source", "jiugai-demo")]
    shown.update_layout(
        title={"text": "", "subtitle": {"text": ""}},
        margin={"l": 8, "r": 40, "t": 30, "b": 8},  # room above and right of the plot for a line's label, "100.0%"
        legend={"orientation": "h", "xref": "container", "x": 0, "xanchor": "left",
                "yref": "container", "y": 1, "yanchor": "top"},
    )
    return frame, shown


# --------------------------------------------------------------------------- the bulletin's charts


def _units(progress: pd.DataFrame) -> pd.DataFrame:
    """County and zone rows of a ``county_progress`` frame (the city-total row dropped)."""
    return progress[progress["kind"] != "city"]


def _city(progress: pd.DataFrame) -> pd.Series:
    return progress[progress["kind"] == "city"].iloc[0]


def _name_column(lang: str | None) -> str:
    return "name_en" if (lang or _lang()) == "en" else "name"


BULLETIN_CHART_HEIGHT_PX = 560  # the bulletin's charts: EXPORT_WIDTH_PX wide, this high
LABEL_SIZE = 12  # bar value labels, px, when they fit side by side
_PLOT_MARGIN_X_PX = 120  # style_figure's left and right margins and the y-axis tick labels
_PLOT_MARGIN_Y_PX = 305  # title block, legend, x tick labels (names turned upright when crowded), source line
_DIGIT_EM = 0.6  # width of a digit or point in the chart font, em (rounded up)
PERCENT_TICKS = {"tickvals": [0, 20, 40, 60, 80, 100], "ticktext": ["0%", "20%", "40%", "60%", "80%", "100%"]}


def value_labels(values: pd.Series, *, n_groups: int, bars_per_group: int, bargap: float,
                 width_px: int = EXPORT_WIDTH_PX, height_px: int = BULLETIN_CHART_HEIGHT_PX) -> tuple[dict, float]:
    """Text settings for bar value labels ("100.0") that never touch a neighbour's, and the y-axis top (%).

    A label sits above its bar. When the widest label fits across one bar (with 2 px either side) it is
    set level at ``LABEL_SIZE``; otherwise it is turned upright and its size chosen so that its height
    fits across the bar: then two neighbours can never overlap, whatever their values. The y axis is
    raised so the longest label stays inside the plot.
    """
    plot_w = max(width_px - _PLOT_MARGIN_X_PX, 100)
    plot_h = max(height_px - _PLOT_MARGIN_Y_PX, 100)
    bar_px = plot_w / max(n_groups, 1) * (1 - bargap) / bars_per_group
    chars = max((len(f"{v:.1f}") for v in values.dropna()), default=5)
    level_w = chars * _DIGIT_EM * LABEL_SIZE
    if level_w + 4 <= bar_px:
        size, angle, extent = LABEL_SIZE, 0, 1.3 * LABEL_SIZE
    else:
        size = max(6, min(LABEL_SIZE, int((bar_px - 2) / 1.25)))
        angle, extent = -90, chars * _DIGIT_EM * size
    top_value = max(100.0, float(values.max()) if values.notna().any() else 100.0)
    top = top_value / max(1 - (extent + 8) / plot_h, 0.5)
    text = {"textposition": "outside", "textangle": angle, "textfont": {"size": size}, "cliponaxis": False,
            "constraintext": "none", "texttemplate": "%{text:.1f}"}
    return text, top


def county_rates_chart(progress: pd.DataFrame, *, lang: str | None = None, width_px: int = EXPORT_WIDTH_PX,
                       height_px: int = BULLETIN_CHART_HEIGHT_PX) -> go.Figure:
    """Grouped bars of each county's start and completion rate (%), best first, city rate as a line.

    ``progress`` is a frame from ``analytics.progress.county_progress`` (rates are fractions 0–1); units
    without a task are left out. Value labels are placed for a ``width_px`` x ``height_px`` figure so
    that neighbouring labels never collide (``value_labels``).
    """
    lang = resolve_lang(lang)
    units = _units(progress)
    units = units[units["planned_compounds"] > 0].sort_values(["start_rate_compounds", "completion_rate"],
                                                               ascending=False, kind="stable")
    names = units[_name_column(lang)]
    city = _city(progress)
    start, done = units["start_rate_compounds"] * 100, units["completion_rate"] * 100
    bargap = 0.25
    text, top = value_labels(pd.concat([start, done]), n_groups=len(units), bars_per_group=2, bargap=bargap,
                             width_px=width_px, height_px=height_px)
    fig = go.Figure()
    fig.add_bar(x=names, y=start, name=t("export.series.start_rate", lang), marker_color=PALETTE[0],
                text=start.round(1), **text)
    fig.add_bar(x=names, y=done, name=t("export.series.completion_rate", lang), marker_color=PALETTE[1],
                text=done.round(1), **text)
    fig.add_scatter(x=names, y=[city["start_rate_compounds"] * 100] * len(units), mode="lines",
                    line={"dash": "dash", "color": PALETTE[0], "width": 1.5},
                    name=t("export.series.city_start_rate", lang, value=city["start_rate_compounds"] * 100))
    fig.update_layout(barmode="group", bargap=bargap, bargroupgap=0, width=width_px, height=height_px)
    fig.update_yaxes(range=[0, top], **PERCENT_TICKS)
    return fig


def invest_rate_chart(progress: pd.DataFrame, *, lang: str | None = None, width_px: int = EXPORT_WIDTH_PX,
                      height_px: int = BULLETIN_CHART_HEIGHT_PX) -> go.Figure:
    """Bars of each county's investment completion rate (%), best first, city rate as a dashed line."""
    lang = resolve_lang(lang)
    units = _units(progress)
    units = units[units["planned_compounds"] > 0].sort_values("invest_rate", ascending=False, kind="stable")
    city = _city(progress)
    rates = units["invest_rate"] * 100
    bargap = 0.25
    text, top = value_labels(rates, n_groups=len(units), bars_per_group=1, bargap=bargap, width_px=width_px,
                             height_px=height_px)
    colours = [GOOD if r >= city["invest_rate"] else BAD for r in units["invest_rate"]]
    fig = go.Figure()
    fig.add_bar(x=units[_name_column(lang)], y=rates, marker_color=colours, name=t("export.series.invest_rate", lang),
                text=rates.round(1), **text)
    fig.add_scatter(x=units[_name_column(lang)], y=[city["invest_rate"] * 100] * len(units), mode="lines",
                    line={"dash": "dash", "color": NEUTRAL, "width": 1.5},
                    name=t("export.series.city_invest_rate", lang, value=city["invest_rate"] * 100))
    fig.update_layout(bargap=bargap, width=width_px, height=height_px)
    fig.update_yaxes(range=[0, top], **PERCENT_TICKS)
    return fig


def weekly_progress_chart(series: pd.DataFrame, *, lang: str | None = None) -> go.Figure:
    """Cumulative compounds started and completed per weekly report, with the annual plan as a line.

    ``series`` is a frame from ``analytics.progress.weekly_series`` (``report_date, started, completed,
    planned_compounds``).
    """
    lang = resolve_lang(lang)
    fig = go.Figure()
    fig.add_scatter(x=series["report_date"], y=series["started"], mode="lines+markers",
                    name=t("export.series.started", lang), line_color=PALETTE[0])
    fig.add_scatter(x=series["report_date"], y=series["completed"], mode="lines+markers",
                    name=t("export.series.completed", lang), line_color=PALETTE[2])
    if len(series):
        planned = float(series["planned_compounds"].iloc[-1])
        fig.add_hline(y=planned, line_dash="dot", line_color=BAD,
                      annotation_text=t("export.series.planned", lang, value=planned),
                      annotation_position="bottom right", annotation_font_color=BAD)
    fig.update_xaxes(tickformat="%m-%d")
    fig.update_yaxes(rangemode="tozero")
    return fig
