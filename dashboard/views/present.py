"""The presentation's slides (汇报模式): what each shows, sized for the 1920 × 1080 stage, in large type.

Each slide is a function drawing into the stage's body (``presentation.BODY_H`` pixels high) from the
same cached loaders as the pages, so its figures are the pages'. ``unit`` (a county or zone code, or
``""``) is the filter a click on a county sets; every slide follows it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from analytics import settings
from analytics.progress import CITY_CODE
from analytics.services.bulletin import choose_rank_by
from dashboard import maps, state, ui
from dashboard.formatting import (
    fmt_area_wan_m2,
    fmt_int,
    fmt_pct,
    fmt_wan,
    reasons_text,
    share_of,
    status_name,
    unit_name,
)
from dashboard.labels import has, t
from dashboard.presentation import BODY_H
from dashboard.views import clusters as clusters_view
from dashboard.views import funding as funding_view
from dashboard.views import idle_land as idle_view
from dashboard.views import overview as overview_view
from dashboard.views import programme as programme_view
from dashboard.views.progress import behind_schedule, county_progress, findings_on

MAP_KEY = "present_map"
TABLE_ROWS = 12  # rows a slide's table holds in large type; the rest are counted below it
FINDING_ROWS = 3  # overdue findings listed under the compounds behind schedule (they take that table's rows)
DESCRIPTION_CHARS = 22  # a finding's description cut to one line of the slide's table
IDLE_DISTANCE_M = 500


@dataclass(frozen=True)
class Period:
    """What every slide states: the plan year and the as-of date of its figures."""

    as_of: date
    plan_year: int

    def text(self) -> str:
        return t("present.period", plan_year=self.plan_year, as_of=self.as_of.isoformat())


def period(as_of: date) -> Period:
    """The period of the latest report on or before ``as_of`` (the sidebar's week)."""
    progress = county_progress(as_of=as_of)
    return Period(as_of, int(progress.attrs["plan_year"]))


def unit_options(as_of: date) -> list[str]:
    """The units a slide can be filtered to: ``""`` (the whole city), then counties and zones, official order."""
    return ["", *overview_view.unit_codes(county_progress(as_of=as_of))]


def header(title: str, when: Period, unit: str, *, on_clear: Callable[[], None]) -> None:
    """The slide's title, its period, the demo mark and the county filter (with the button that clears it)."""
    text, clear = st.columns([6, 1], vertical_alignment="center")
    meta = html.escape(when.text())
    if state.is_demo():
        meta += f"<span class='jiugai-demo'>{html.escape(t('present.demo'))}</span>"
    if unit:
        meta += f"<span class='jiugai-filter'>{html.escape(t('present.filtered', unit=unit_name(unit)))}</span>"
    text.title(title, anchor=False)
    text.markdown(f"<div class='jiugai-slide-meta'>{meta}</div>", unsafe_allow_html=True)
    if unit:
        clear.button(t("present.clear"), key="present-clear", on_click=on_clear, icon=":material/close:",
                     width="stretch")


def _table(columns: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset(), figure: set[int] = frozenset(),
           chosen: set[int] = frozenset(), city: set[int] = frozenset()) -> str:
    """An HTML table in the stage's type sizes; every cell escaped."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        css = "jiugai-chosen" if i in chosen else "jiugai-city" if i in city else ""
        cells = "".join(
            f"<td class='{'figure' if j in figure else 'num' if j in numeric else ''}'>{html.escape(str(v))}</td>"
            for j, v in enumerate(row)
        )
        body.append(f"<tr class='{css}'>{cells}</tr>")
    return f"<table class='jiugai-table'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def bars(items: list[tuple[str, float, str]], *, high: float, chosen: str | None = None,
         line: tuple[float, str] | None = None, color: str = "#1F4E79", room_px: int | None = None) -> str:
    """A horizontal bar chart in HTML: one row per ``(name, value, value text)``, bars scaled to ``high``.

    Drawn by the browser like text, so it is as sharp and as large as the stage at any screen size (a
    plotly chart measures its container, which a scaled stage would scale twice). ``chosen`` (a name) is
    drawn in the highlight colour; ``line`` = ``(value, label)`` draws a dashed line across the bars;
    ``room_px`` is the room kept right of the longest bar for its value text (stage pixels; the style's default
    fits a per cent).
    """
    rows = []
    for name, value, text in items:
        width = 0.0 if high <= 0 or pd.isna(value) else max(0.0, min(100.0, 100 * float(value) / high))
        fill = maps.HIGHLIGHT if name == chosen else color
        weight = "font-weight:700;" if name == chosen else ""
        rows.append(
            f"<div class='jiugai-bar-row' style='{weight}'><div class='jiugai-bar-name'>{html.escape(name)}</div>"
            f"<div class='jiugai-bar-track'><div class='jiugai-bar' style='width:{width:.2f}%;background:{fill}'></div>"
            f"<span class='jiugai-bar-value' style='left:{width:.2f}%'>{html.escape(text)}</span></div></div>"
        )
    mark = ""
    if line is not None and high > 0:
        at = max(0.0, min(100.0, 100 * line[0] / high))
        mark = (f"<div class='jiugai-bar-line' style='left:calc(var(--jiugai-bar-name) + (100% - var(--jiugai-bar-name) "
                f"- var(--jiugai-bar-room)) * {at / 100:.4f})'><span>{html.escape(line[1])}</span></div>")
    room = f" style='--jiugai-bar-room:{int(room_px)}px'" if room_px else ""
    return f"<div class='jiugai-bars'{room}>{mark}{''.join(rows)}</div>"


# ------------------------------------------------------------------------------------------------ slides
def overview_slide(as_of: date, unit: str, *, on_map_click: Callable[[], None]) -> None:
    """总体进展: the six KPI cards of the unit (or the city) beside the choropleth of completion."""
    progress = ui.attempt(county_progress, as_of=as_of)
    plan_year = int(progress.attrs["plan_year"])
    compounds = ui.attempt(overview_view.plan_compounds, as_of=as_of, plan_year=plan_year)
    counties = state.layer("counties")
    indicator = "completion_rate"
    row = overview_view.progress_row(progress, unit)
    selected = overview_view.county_of_unit(unit, compounds)
    cards, right = st.columns([1.2, 1.8])  # room for a card's note: the list's total beside the target
    with cards:
        ui.metric_cards(overview_view.overview_kpis(row), columns=2)
        st.caption(overview_view.plan_line(row))
        st.caption(t("present.map_hint"))
    m = maps.base_map(counties, basemap="none", show_notice=False)
    maps.add_counties(
        m, counties, values=overview_view.indicator_values(progress, indicator),
        value_label=t(f"overview.ind.{indicator}"), fmt=overview_view.indicator_format(indicator),
        unit=overview_view.indicator_unit(indicator), unbounded=overview_view.zone_values(progress, indicator),
        selected=selected, large=True, clickable=True,
    )
    maps.add_compounds(m, overview_view.compounds_of_unit(compounds, unit), large=True, as_points=True)
    with right:
        maps.render(m, key=MAP_KEY, returned_objects=["last_active_drawing"], height=BODY_H - 10,
                    on_change=on_map_click)


def ranking_slide(as_of: date, unit: str) -> None:
    """县区排名: the units ranked by the bulletin's indicator (chart and table), the chosen unit marked."""
    progress = ui.attempt(county_progress, as_of=as_of)
    rank_by = choose_rank_by(progress)
    progress = ui.attempt(county_progress, as_of=as_of, rank_by=rank_by)
    chart, table = st.columns([1.1, 1], gap="large")
    ranked = progress[progress["kind"] != "city"].sort_values(["rank", "unit_code"], na_position="last")
    city_rate = float(progress.loc[progress["kind"] == "city", rank_by].iloc[0])
    chart.markdown(f"<div class='jiugai-slide-meta'>{html.escape(t('present.ranking_by', indicator=t(f'overview.ind.{rank_by}')))}</div>"
                   + bars([(unit_name(c), float(v), fmt_pct(v)) for c, v in zip(ranked["unit_code"], ranked[rank_by])],
                          high=1.0, chosen=unit_name(unit) if unit else None,
                          line=(city_rate, t("overview.city_line", value=fmt_pct(city_rate)))),
                   unsafe_allow_html=True)
    city = progress[progress["kind"] == "city"]
    rows, chosen = [], set()
    for i, r in enumerate(ranked.itertuples()):
        change = getattr(r, f"{rank_by}_chg_week", None)
        rows.append([fmt_int(r.rank) if not pd.isna(r.rank) else "—", unit_name(r.unit_code),
                     fmt_pct(getattr(r, rank_by)), _pp(change), f"{int(r.started)} / {int(r.planned_compounds)}"])
        if r.unit_code == unit:
            chosen.add(i)
    for r in city.itertuples():
        rows.append(["", unit_name(r.unit_code), fmt_pct(getattr(r, rank_by)),
                     _pp(getattr(r, f"{rank_by}_chg_week", None)), f"{int(r.started)} / {int(r.planned_compounds)}"])
    columns = [t("present.col.rank"), t("present.col.unit"), t(f"overview.ind.{rank_by}"), t("present.col.change"),
               t("present.col.started")]
    table.markdown(_table(columns, rows, numeric={0, 3, 4}, figure={2}, chosen=chosen, city={len(rows) - 1}),
                   unsafe_allow_html=True)


def _pp(change: object) -> str:
    if change is None or pd.isna(change):
        return "—"
    value = float(change) * 100
    return t("present.pp", value=value) if abs(value) >= 0.05 else t("present.pp_zero")


def behind_slide(as_of: date, unit: str) -> None:
    """滞后项目: how many compounds are behind schedule, per unit, and the latest of them; then the
    supervision findings past their deadline (逾期未整改), the longest overdue first."""
    progress = ui.attempt(county_progress, as_of=as_of)
    behind = ui.attempt(behind_schedule, as_of=as_of, unit_code=unit or None)
    findings, _ = ui.attempt(findings_on, as_of=as_of)
    overdue = findings[findings["overdue"] & ((findings["unit_code"] == unit) if unit else True)]
    rows_for_behind = TABLE_ROWS - (FINDING_ROWS + 2 if len(overdue) else 0)
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        st.markdown(f"<div class='jiugai-big'>{fmt_int(len(behind))}</div>"
                    f"<div class='jiugai-slide-meta'>{html.escape(t('present.behind_count'))}</div>",
                    unsafe_allow_html=True)
        if len(behind):
            counts = behind.groupby("unit_code").size()
            order = [c for c in overview_view.unit_codes(progress) if c in counts.index]
            st.markdown(bars([(unit_name(c), int(counts[c]), fmt_int(counts[c])) for c in order],
                             high=float(counts.max()), chosen=unit_name(unit) if unit else None, color="#C0392B"),
                        unsafe_allow_html=True)
    with right:
        if behind.empty:
            st.markdown(f"<div class='jiugai-big' style='color:#1E8449'>{html.escape(t('present.behind_none'))}</div>",
                        unsafe_allow_html=True)
        else:
            latest = behind.sort_values(["days_late", "compound_id"], ascending=[False, True])
            rows = [[r.name, unit_name(r.unit_code), status_name(r.status), t("present.days", n=int(r.days_late)),
                     reasons_text(r.reason, "present.reason")]
                    for r in latest.head(rows_for_behind).itertuples()]
            columns = [t("present.col.compound"), t("present.col.unit"), t("present.col.status"),
                       t("present.col.late"), t("present.col.reason")]
            st.markdown(_table(columns, rows, numeric={3}), unsafe_allow_html=True)
            if len(latest) > rows_for_behind:
                st.markdown(f"<div class='jiugai-note'>{html.escape(t('present.more', n=len(latest) - rows_for_behind))}"
                            "</div>", unsafe_allow_html=True)
        if len(overdue):
            _overdue_findings(overdue)


def _overdue_findings(overdue: pd.DataFrame) -> None:
    """The findings past their deadline and not closed: their count and the longest overdue (already first)."""
    st.markdown(f"<div class='jiugai-slide-meta'><b>{html.escape(t('present.overdue_findings', n=len(overdue)))}</b>"
                "</div>", unsafe_allow_html=True)
    rows = [[unit_name(r.unit_code),
             t(f"followup.category.{r.category}") if has(f"followup.category.{r.category}") else str(r.category),
             _cut(str(r.description), DESCRIPTION_CHARS), t("followup.overdue_days", n=int(r.days_overdue))]
            for r in overdue.head(FINDING_ROWS).itertuples()]
    st.markdown(_table([t("present.col.unit"), t("present.col.category"), t("present.col.finding"),
                        t("present.col.overdue")], rows, numeric={3}), unsafe_allow_html=True)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def land_slide(as_of: date, unit: str) -> None:
    """存量资源与成片改造: idle land within 500 m of the compounds, and the renewal clusters, best first."""
    county = unit if unit in settings.COUNTIES else None
    idle = ui.attempt(idle_view.idle, max_distance_m=IDLE_DISTANCE_M, county_code=county,
                      metric=idle_view.default_metric())
    found = ui.attempt(clusters_view.find_clusters, gap_m=settings.CLUSTER_GAP_M, same_county=True, max_extent_m=None,
                       min_size=2, county_code=county, weights=dict.fromkeys(clusters_view.CLUSTER_COMPONENTS, 1.0))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"<div class='jiugai-slide-meta'><b>{html.escape(t('present.idle', m=IDLE_DISTANCE_M))}</b></div>",
                    unsafe_allow_html=True)
        ui.metric_cards(idle_view.idle_kpis(idle), columns=2)
        reach = idle_view.reachable(idle).head(6)
        parcels = idle.parcels.set_index("id")
        rows = [[pid, unit_name(parcels.at[pid, "county_code"]), f"{parcels.at[pid, 'area_m2']:,.0f}",
                 fmt_int(households)]
                for pid, households in zip(reach["parcel_id"], reach["households_within"])]
        st.markdown(_table([t("present.col.parcel"), t("present.col.unit"), t("present.col.area_m2"),
                            t("present.col.households_within")], rows, numeric={2, 3}), unsafe_allow_html=True)
    with right:
        st.markdown(f"<div class='jiugai-slide-meta'><b>{html.escape(t('present.clusters'))}</b></div>",
                    unsafe_allow_html=True)
        ui.metric_cards(clusters_view.cluster_kpis(found), columns=2)
        best = found.clusters.head(6)
        rows = [[str(int(c.cluster_id)), "、".join(unit_name(code) for code in c.county_codes), fmt_int(c.n_compounds),
                 fmt_int(c.households), fmt_area_wan_m2(c.floor_area_m2)]
                for c in best.itertuples()]
        st.markdown(_table([t("present.col.cluster"), t("present.col.unit"), t("present.col.compounds"),
                            t("present.col.households"), t("present.col.floor_area")], rows, numeric={0, 2, 3, 4}),
                    unsafe_allow_html=True)


def funding_slide(as_of: date, unit: str) -> None:
    """资金到位: the plan year's money by county against its planned investment, and the city's (or county's) mix."""
    plan_year = period(as_of).plan_year
    by_county, city, wide = ui.attempt(funding_view.funding_mix, plan_year=plan_year)
    if wide.empty:
        st.markdown(f"<div class='jiugai-big'>{html.escape(t('common.no_data'))}</div>", unsafe_allow_html=True)
        return
    county = unit if unit in set(wide["county_code"]) else None
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        shown = by_county[by_county["county_code"] == county] if county else city
        ui.metric_cards(funding_view.funding_kpis(shown), columns=2)
        st.markdown(f"<div class='jiugai-slide-meta'>{html.escape(t('present.funding_note', year=plan_year))}</div>",
                    unsafe_allow_html=True)
    with right:
        st.markdown(f"<div class='jiugai-slide-meta'><b>{html.escape(t('present.funding_by_county'))}</b></div>",
                    unsafe_allow_html=True)
        items = [(unit_name(r.county_code), float(r.total_wan),
                  f"{fmt_wan(r.total_wan)}（{share_of(float(r.total_wan), float(r.invest_planned_wan))}）")
                 for r in wide.itertuples()]
        st.markdown(bars(items, high=max(float(wide["total_wan"].max()), 1e-9),
                         chosen=unit_name(county) if county else None, color="#2E8B57", room_px=260),
                    unsafe_allow_html=True)


def programme_slide(as_of: date, unit: str) -> None:
    """改造进程: the programme to date — the five-year goal (for a chosen unit: the sum of its own targets) and what
    is planned and done, each unit's share done."""
    summary = ui.attempt(programme_view.programme_summary, as_of=as_of, unit_code=unit or None)
    if summary.years.empty:
        st.markdown(f"<div class='jiugai-big'>{html.escape(t('programme.none'))}</div>", unsafe_allow_html=True)
        return
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        ui.metric_cards(programme_view.goal_kpis(summary), columns=2)
    with right:
        st.markdown(f"<div class='jiugai-slide-meta'><b>{html.escape(t('present.programme_by_unit'))}</b></div>",
                    unsafe_allow_html=True)
        units = summary.cumulative[summary.cumulative["unit_code"] != CITY_CODE]
        items = [(unit_name(r.unit_code), float(r.area_done_share), fmt_pct(r.area_done_share))
                 for r in units.itertuples()]
        st.markdown(bars(items, high=1.0, chosen=unit_name(unit) if unit else None), unsafe_allow_html=True)


SLIDES: dict[str, Callable[..., None]] = {
    "overview": overview_slide,
    "ranking": ranking_slide,
    "behind": behind_slide,
    "funding": funding_slide,
    "land": land_slide,
    "programme": programme_slide,
}
"""Every slide the dashboard can show, by id (``settings.PRESENTATION_SLIDES`` is the default list)."""


def slide_title(slide: str) -> str:
    return t(f"present.slide.{slide}")

