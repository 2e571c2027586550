"""The overview page (总览): the plan compounds at the as-of date, KPI cards, choropleth values, the ranking chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import settings
from analytics.progress import CITY_CODE, compound_status
from dashboard import state
from dashboard.formatting import each, fmt_area_wan_m2, fmt_int, fmt_pct, fmt_wan, status_name, unit_name
from dashboard.handout import Handout, Table
from dashboard.labels import current_lang, t
from dashboard.maps import HIGHLIGHT
from dashboard.ui import Kpi, data_source
from dashboard.views._common import CACHE


@st.cache_data(**CACHE)
def _plan_compounds(as_of: date, plan_year: int, version: str) -> gpd.GeoDataFrame:
    compounds = state.layer("compounds")
    status = compound_status(state.cursor(), as_of=as_of, plan_year=plan_year)
    plan = compounds[compounds["plan_year"] == plan_year].drop(columns=["status", "invest_done_wan"])
    plan = plan.merge(status[["compound_id", "status", "invest_done_wan"]].rename(columns={"compound_id": "id"}),
                      on="id", how="left")
    plan["unit_code"] = plan["zone_code"].where(plan["zone_code"].notna(), plan["county_code"])
    return plan


def plan_compounds(*, as_of: date, plan_year: int) -> gpd.GeoDataFrame:
    """The plan year's compounds (EPSG:4548) with their status and investment done at ``as_of``.

    Status from ``analytics.progress.compound_status``: the latest weekly report on or before ``as_of``;
    never reported means 未开工. ``unit_code`` is the reporting unit (function zone where the compound has one, else county).
    """
    return _plan_compounds(as_of, plan_year, state.data_version())


def compounds_of_unit(compounds: gpd.GeoDataFrame, unit_code: str | None) -> gpd.GeoDataFrame:
    """The compounds reported under ``unit_code`` (all when ``None`` or empty)."""
    return compounds if not unit_code else compounds[compounds["unit_code"] == unit_code]


def unit_compounds_table(compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plan compounds of a unit as a labelled table (status at the as-of date)."""
    frame = compounds.sort_values(["status", "id"], key=lambda s: s.map(_status_order) if s.name == "status" else s)
    return pd.DataFrame({
        t("col.id"): frame["id"].to_numpy(),
        t("col.name"): frame["name"].to_numpy(),
        t("col.county"): each(frame["unit_code"], unit_name),
        t("col.households"): frame["households"].to_numpy(),
        t("col.floor_area_m2"): frame["floor_area_m2"].round(0).to_numpy(),
        t("col.status"): each(frame["status"], status_name),
        t("overview.col.planned_completion"): frame["planned_completion_date"].to_numpy(),
        t("overview.col.invest_done_wan"): frame["invest_done_wan"].round(2).to_numpy(),
    })


def _status_order(status: str) -> int:
    return -settings.STATUSES.index(status) if status in settings.STATUSES else 1


OVERVIEW_INDICATORS: dict[str, str] = {
    # column of analytics.progress.county_progress -> "rate" (fraction 0–1) or "count"
    "completion_rate": "rate",
    "start_rate_compounds": "rate",
    "start_rate_households": "rate",
    "invest_rate": "rate",
    "planned_compounds": "count",
    "planned_households": "count",
    "started": "count",
    "completed": "count",
}


def _delta_week(value: object) -> str | None:
    return None if pd.isna(value) else t("overview.kpi.delta_week", value=float(value) * 100)


@dataclass(frozen=True)
class Task:
    """One measure of the year's task: the target set for it (``annual_targets``; ``None`` when none is
    stored) beside the compound list's own total, and the figure the rates are measured against."""

    target: float | None
    listed: float
    fmt: Callable[[object], str]

    @property
    def basis(self) -> float:
        """What the rates are measured against: the target, else (no target stored) the list's total."""
        return self.listed if self.target is None else self.target

    @property
    def differs(self) -> bool:
        """A target is stored and reads differently from the list's total (both are then shown)."""
        return self.target is not None and self.fmt(self.target) != self.fmt(self.listed)


@dataclass(frozen=True)
class CardFigures:
    """The figures of the overview's cards for one unit (or the city): the year's task per measure and what
    is done against it. The overview page, its meeting mode, the presentation's overview slide and the
    printed handout all show these."""

    compounds: Task
    households: Task
    floor_area_m2: Task
    investment_wan: Task
    started: int
    started_households: int
    completed: int
    started_floor_area_m2: float
    completed_floor_area_m2: float
    invest_done_wan: float
    start_rate: float  # fractions against ``basis`` (above 1 when more is done than the task asks)
    completion_rate: float
    invest_rate: float
    start_rate_chg_week: float
    completion_rate_chg_week: float
    invest_rate_chg_week: float

    @property
    def has_target(self) -> bool:
        """Any measure has a target stored."""
        return any(task.target is not None for task in (self.compounds, self.households, self.floor_area_m2,
                                                        self.investment_wan))


def _target(value: object) -> float | None:
    return None if pd.isna(value) else float(value)


def card_figures(row: pd.Series) -> CardFigures:
    """The card figures of one ``county_progress`` row: targets from ``annual_targets`` (``target_*``) beside
    the list's totals (``planned_*``); the rates are ``county_progress``'s, measured against the target (the
    list's total where none is stored)."""
    return CardFigures(
        compounds=Task(_target(row.target_compounds), float(row.planned_compounds), fmt_int),
        households=Task(_target(row.target_households), float(row.planned_households), fmt_int),
        floor_area_m2=Task(_target(row.target_floor_area_m2), float(row.planned_floor_area_m2), fmt_area_wan_m2),
        investment_wan=Task(_target(row.target_investment_wan), float(row.planned_invest_wan), fmt_wan),
        started=int(row.started), started_households=int(row.started_households), completed=int(row.completed),
        started_floor_area_m2=float(row.started_floor_area_m2),
        completed_floor_area_m2=float(row.completed_floor_area_m2), invest_done_wan=float(row.invest_done_wan),
        start_rate=float(row.start_rate_compounds), completion_rate=float(row.completion_rate),
        invest_rate=float(row.invest_rate), start_rate_chg_week=float(row.start_rate_compounds_chg_week),
        completion_rate_chg_week=float(row.completion_rate_chg_week),
        invest_rate_chg_week=float(row.invest_rate_chg_week),
    )


def task_note(task: Task, unit: str) -> str:
    """The year's task under a card: "目标 152 个"; "清单 150 个 · 目标 152 个" where the list differs from
    the target; "无下达目标，按计划清单 150 个" where no target is stored. ``unit`` is a label key's suffix
    (``count``, ``households``, ``area``)."""
    word = t(f"overview.kpi.unit_{unit}")
    if task.target is None:
        return t("overview.kpi.no_target", n=task.fmt(task.listed), unit=word)
    if task.differs:
        return t("overview.kpi.list_and_target", listed=task.fmt(task.listed), target=task.fmt(task.target),
                 unit=word)
    return t("overview.kpi.target", n=task.fmt(task.target), unit=word)


def _basis(task: Task, unit: str) -> str:
    """What a rate is measured against: "目标 152 个", or "计划清单 150 个（无下达目标）"."""
    word = t(f"overview.kpi.unit_{unit}")
    key = "overview.kpi.basis_list" if task.target is None else "overview.kpi.basis_target"
    return t(key, n=task.fmt(task.basis), unit=word)


def overview_kpis(row: pd.Series) -> list[Kpi]:
    """The six cards of the overview for one ``county_progress`` row (a unit or the city total).

    The year's target and what is done against it: started compounds and households over their targets,
    the target floor area, the three rates against the targets (above 100 % shown as it is). Where the
    compound list's total differs from the target both are stated; where no target is stored the list's
    totals are used and the card says so. The page, its meeting mode, the presentation's overview slide
    and the printed handout all draw these cards.
    """
    f = card_figures(row)
    weekly = t("overview.kpi.delta_help")
    area = f.floor_area_m2  # its value is the target (the list's total where none is stored): the note adds the other
    if area.target is None:
        area_note = task_note(area, "area")
    elif area.differs:
        area_note = t("overview.kpi.list_only", n=area.fmt(area.listed), unit=t("overview.kpi.unit_area"))
    else:
        area_note = t("overview.kpi.same_as_list")
    return [
        Kpi(t("overview.kpi.compounds"), fmt_int(f.started), task_note(f.compounds, "count"),
            help=t("overview.kpi.started_help", done=fmt_int(f.started), unit=t("overview.kpi.unit_count"),
                   basis=_basis(f.compounds, "count")),
            plain_delta=True),
        Kpi(t("overview.kpi.households"), fmt_int(f.started_households), task_note(f.households, "households"),
            help=t("overview.kpi.started_help", done=fmt_int(f.started_households),
                   unit=t("overview.kpi.unit_households"), basis=_basis(f.households, "households")),
            plain_delta=True),
        Kpi(t("overview.kpi.floor_area_list" if area.target is None else "overview.kpi.floor_area"),
            fmt_area_wan_m2(area.basis), area_note,
            help=t("overview.kpi.area_help", started=fmt_area_wan_m2(f.started_floor_area_m2),
                   completed=fmt_area_wan_m2(f.completed_floor_area_m2)),
            plain_delta=True),
        Kpi(t("overview.kpi.start_rate"), fmt_pct(f.start_rate), _delta_week(f.start_rate_chg_week),
            help=f"{t('overview.kpi.rate_help', done=fmt_int(f.started), basis=_basis(f.compounds, 'count'))} "
                 f"{weekly}"),
        Kpi(t("overview.kpi.completion_rate"), fmt_pct(f.completion_rate), _delta_week(f.completion_rate_chg_week),
            help=f"{t('overview.kpi.completed_help', done=fmt_int(f.completed), basis=_basis(f.compounds, 'count'))} "
                 f"{weekly}"),
        Kpi(t("overview.kpi.invest_rate"), fmt_pct(f.invest_rate), _delta_week(f.invest_rate_chg_week),
            help=f"{t('overview.kpi.invest_help', done=fmt_wan(f.invest_done_wan), basis=_basis(f.investment_wan, 'wan'))} "
                 f"{weekly}"),
    ]


def progress_row(progress: pd.DataFrame, unit_code: str | None) -> pd.Series:
    """The row of ``unit_code`` in a ``county_progress`` frame, or the city-total row."""
    rows = progress[progress["unit_code"] == unit_code] if unit_code else progress.iloc[0:0]
    if rows.empty:
        rows = progress[progress["kind"] == "city"]
    return rows.iloc[0]


def indicator_values(progress: pd.DataFrame, indicator: str) -> pd.Series:
    """``indicator`` per county (index ``unit_code``), for the choropleth; zones and the city left out."""
    counties = progress[progress["kind"] == "county"]
    return pd.Series(counties[indicator].astype(float).to_numpy(), index=counties["unit_code"].to_numpy())


def zone_values(progress: pd.DataFrame, indicator: str) -> pd.Series:
    """``indicator`` per function zone (index ``unit_code``): units the map has no boundary for."""
    zones = progress[progress["kind"] == "zone"]
    return pd.Series(zones[indicator].astype(float).to_numpy(), index=zones["unit_code"].to_numpy())


def indicator_format(indicator: str) -> Callable[[object], str]:
    """The tooltip/legend formatter of ``indicator`` (per cent for rates, integers for counts)."""
    return fmt_pct if OVERVIEW_INDICATORS[indicator] == "rate" else fmt_int


def ranking_figure(progress: pd.DataFrame, indicator: str, *, selected: str | None = None):
    """Horizontal bars of ``indicator`` per county and zone, best on top, the city value as a dashed line.

    Returns the figure and the labelled data it draws (for the downloads). ``selected`` is drawn in the
    highlight colour.
    """
    rate = OVERVIEW_INDICATORS[indicator] == "rate"
    units = progress[progress["kind"] != "city"].copy()
    units["_value"] = units[indicator].astype(float) * (100 if rate else 1)
    units = units.sort_values(["_value", "unit_code"], ascending=[True, False], na_position="first")
    names = each(units["unit_code"], unit_name)
    colors = [HIGHLIGHT if c == selected else "#1f4e79" for c in units["unit_code"]]
    text = [fmt_pct(f) if rate else fmt_int(v) for f, v in zip(units[indicator], units["_value"])]
    fig = go.Figure(go.Bar(x=units["_value"], y=names, orientation="h", marker_color=colors, text=text,
                           textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>"))
    city = progress_row(progress, None)[indicator]
    if not pd.isna(city) and rate:
        value = float(city) * 100
        fig.add_vline(x=value, line_dash="dash", line_color="#7f7f7f",
                      annotation_text=t("overview.city_line", value=fmt_pct(city)), annotation_position="top")
    fig.update_layout(height=max(320, 34 * len(units) + 140), showlegend=False)
    if rate:
        high = units["_value"].max()  # a rate above 100 % (more done than the target asks) is drawn as it is
        fig.update_xaxes(range=[0, max(112.0, float(high) * 1.08) if pd.notna(high) else 112.0], ticksuffix="%")
    ranked = units.iloc[::-1]
    data = pd.DataFrame({
        t("overview.col.rank"): ranked["_value"].rank(method="min", ascending=False).astype("Int64").to_numpy(),
        t("overview.col.unit"): each(ranked["unit_code"], unit_name),
        t(f"overview.ind.{indicator}"): ranked["_value"].round(2).to_numpy(),
    })
    return fig, data


def unit_codes(progress: pd.DataFrame) -> list[str]:
    """The county and zone codes of a ``county_progress`` frame, in its (official) order."""
    return progress.loc[progress["kind"] != "city", "unit_code"].tolist()


def county_of_unit(unit_code: str | None, compounds: gpd.GeoDataFrame) -> str | None:
    """The county a unit lies in: itself for a county; for a function zone, the county of most of its compounds."""
    if not unit_code:
        return None
    if unit_code in settings.COUNTIES:
        return unit_code
    counties = compounds.loc[compounds["unit_code"] == unit_code, "county_code"]
    return str(counties.mode().iloc[0]) if len(counties) else None


def indicator_unit(indicator: str) -> str:
    """The unit shown beside an overview indicator."""
    if OVERVIEW_INDICATORS[indicator] == "rate":
        return t("overview.unit_pct")
    return t("overview.unit_households") if indicator == "planned_households" else t("overview.unit_count")


def plan_line(row: pd.Series) -> str:
    """One sentence with the year's task for a ``county_progress`` row: the targets and, where it differs,
    the compound list's totals beside them; the list's totals alone where no target is stored."""
    f = card_figures(row)
    tasks = (f.compounds, f.households, f.floor_area_m2, f.investment_wan)

    def figures(values: list[float | None]) -> dict[str, str]:
        return {name: task.fmt(value) for name, task, value in
                zip(("compounds", "households", "area", "invest"), tasks, values)}

    listed = figures([task.listed for task in tasks])
    if not f.has_target:
        return t("overview.plan_line_list", **listed)
    line = t("overview.plan_line", **figures([task.target for task in tasks]))
    if any(task.differs for task in tasks):
        return f"{line}{t('overview.plan_line_differs', **listed)}"
    return f"{line}{t('overview.plan_line_same')}"


def overview_handout(progress: pd.DataFrame, row: pd.Series, *, unit: str | None, indicator: str,
                     as_of: date) -> Handout:
    """The overview's printed page: the unit's (or the city's) six cards, the ranking of every unit by
    ``indicator`` with the city's value, the map's title; period, source and the demo mark."""
    fmt = indicator_format(indicator)
    units = progress[progress["kind"] != "city"]
    values = units[indicator].astype(float)
    ranks = values.rank(method="min", ascending=False)
    order = sorted(range(len(units)), key=lambda i: (pd.isna(values.iloc[i]), ranks.iloc[i]))
    rows = [[("" if pd.isna(ranks.iloc[i]) else str(int(ranks.iloc[i]))), unit_name(units["unit_code"].iloc[i]),
             fmt(values.iloc[i])] for i in order]
    rows.append(["", unit_name(CITY_CODE), fmt(progress_row(progress, None)[indicator])])
    chosen = [n for n, i in enumerate(order) if unit and units["unit_code"].iloc[i] == unit]
    name = t(f"overview.ind.{indicator}")
    table = Table([t("overview.col.rank"), t("overview.col.unit"), t("maps.legend_unit", label=name,
                                                                      unit=indicator_unit(indicator))],
                  rows, numeric=frozenset({0, 2}), bold=frozenset({len(rows) - 1}), marked=frozenset(chosen))
    plan_year = int(progress.attrs["plan_year"])
    return Handout(
        title=t("handout.overview_unit_title", unit=unit_name(unit)) if unit else t("handout.overview_title"),
        meta=[t("overview.caption", plan_year=plan_year, as_of=as_of.isoformat(), source=data_source()),
              plan_line(row)],
        demo_mark=t("export.chart.demo") if state.is_demo() else None,
        kpis=overview_kpis(row),
        tables=[(t("handout.ranking", indicator=name), table)],
        map_title=t("overview.map_title", indicator=name),
        footer=t("handout.made", date=date.today().isoformat()),
        lang=current_lang(),
    )
