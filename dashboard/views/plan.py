"""The plan builder page (年度计划编制): the cached pool, bundles and plan, status, cards, tables with the reasons,
figures, the map's frame, the 年度改造计划表 workbook, saved scenarios, and the adoption's preview and write."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import cells, planning, priority, settings
from analytics.clusters import find_clusters
from analytics.importing import importer
from analytics.services import adoption
from dashboard import state
from dashboard.formatting import (
    MISSING,
    fmt_area_wan_m2,
    fmt_int,
    fmt_wan,
    join_names,
    share_of,
    status_name,
    unit_name,
)
from dashboard.labels import current_lang, t
from dashboard.ui import Kpi
from dashboard.views._common import CACHE

BUNDLINGS = ("none", "cluster", "street", "community")
TARGET_SOURCES = ("none", "manual", "stored")
MAX_SCENARIOS = 3
SCENARIOS_KEY = "plan_scenarios"
CLUSTER_EXTENT_M = 2 * settings.WALK_15MIN_M  # an area fits a 15-minute living circle
MAP_COLORS = {"chosen": "#1B4F72", "bundled": "#C0392B", "left_out": "#F5B041", "ineligible": "#BDC3C7"}


@dataclass(frozen=True)
class Settings:
    """One scenario: every input of the page (hashable, so it keys the cache and can be saved)."""

    year: int
    budget_wan: float
    objective: str = "score"
    first_tier_first: bool = True
    min_willingness_pct: float = round(100 * settings.PLAN_MIN_WILLINGNESS, 1)
    targets_source: str = "none"
    target_compounds: int = 0
    target_households: int = 0
    target_floor_area_wan_m2: float = 0.0
    county_caps: bool = False
    fair_share_pct: float = 100 * settings.PLAN_FAIR_SHARE
    weights: tuple[tuple[str, float], ...] = ()
    bundling: str = "cluster"
    bundle_rule: str = "optional"
    saving_pct: float = settings.PLAN_BUNDLE_SAVING_PCT
    bonus_pct: float = settings.PLAN_FACILITY_BONUS_PCT
    time_limit_s: float = settings.PLAN_TIME_LIMIT_S


@dataclass(frozen=True)
class Built:
    """A built plan with what it was built from: the pool (EPSG:4548) and the bundles offered."""

    settings: Settings
    pool: gpd.GeoDataFrame
    bundles: pd.DataFrame
    plan: planning.Plan


# ----------------------------------------------------------------------------------------------- data
@st.cache_data(**CACHE)
def _targets(year: int, version: str) -> pd.DataFrame:
    return state.cursor().execute(
        "SELECT unit_code, compounds, households, floor_area_m2, investment_wan, source FROM annual_targets "
        "WHERE year = ? ORDER BY unit_code", [year]).fetchdf()


def stored_targets(year: int) -> pd.DataFrame:
    """The ``annual_targets`` rows of ``year`` (county and city rows)."""
    return _targets(int(year), state.data_version())


@st.cache_data(**CACHE)
def _planned_investment(version: str) -> dict[int, float]:
    rows = state.cursor().execute(
        "SELECT plan_year, sum(invest_planned_wan) FROM compounds WHERE plan_year IS NOT NULL GROUP BY 1").fetchall()
    return {int(y): float(v or 0) for y, v in rows}


def default_year() -> int:
    """The year after the newest plan year (next year when there is none)."""
    years = state.plan_years()
    return (max(years) if years else date.today().year) + 1


def default_budget(year: int) -> float:
    """The city's investment target of ``year`` if stored, else the newest earlier plan year's planned
    investment, rounded to 100 万元 (10,000 万元 when neither exists)."""
    targets = stored_targets(year)
    city = targets[targets["unit_code"] == settings.CITY_UNIT_CODE]
    if len(city) and pd.notna(city["investment_wan"].iloc[0]) and city["investment_wan"].iloc[0] > 0:
        return float(round(float(city["investment_wan"].iloc[0]), -2))
    planned = {y: v for y, v in _planned_investment(state.data_version()).items() if y < year and v > 0}
    return float(round(planned[max(planned)], -2)) if planned else 10_000.0


def _targets_for(s: Settings) -> dict | pd.DataFrame | None:
    if s.targets_source == "manual":
        targets = {"compounds": s.target_compounds, "households": s.target_households,
                   "floor_area_m2": s.target_floor_area_wan_m2 * 1e4}
        return {k: v for k, v in targets.items() if v} or None
    if s.targets_source == "stored":
        rows = stored_targets(s.year)
        return rows if len(rows) else None
    return None


def _caps_for(s: Settings) -> dict[str, float] | None:
    if not (s.targets_source == "stored" and s.county_caps):
        return None
    rows = stored_targets(s.year)
    rows = rows[(rows["unit_code"] != settings.CITY_UNIT_CODE) & rows["investment_wan"].notna()]
    return {str(u): float(v) for u, v in zip(rows["unit_code"], rows["investment_wan"]) if v > 0} or None


@st.cache_data(**CACHE)
def _pool(year: int, version: str) -> gpd.GeoDataFrame:
    return planning.pool_of(state.layer("compounds"), year=year)


@st.cache_data(**CACHE)
def _bundles(year: int, bundling: str, saving_pct: float, bonus_pct: float, version: str) -> pd.DataFrame | None:
    """The bundles offered (cached apart from the plan: a new budget does not search the clusters again)."""
    pool = _pool(year, version)
    if bundling == "none" or pool.empty:
        return None
    if bundling in ("street", "community"):
        return planning.bundles_by_area(pool, by=bundling, saving_pct=saving_pct)
    found = find_clusters(pool, gap_m=settings.CLUSTER_GAP_M, max_extent_m=CLUSTER_EXTENT_M,
                          parcels=state.layer("parcels"), facilities=state.layer("facilities"))
    return planning.bundles_from_clusters(found, candidates=pool, saving_pct=saving_pct, facility_bonus_pct=bonus_pct)


@st.cache_data(**CACHE)
def _build(s: Settings, version: str) -> Built | None:
    pool = _pool(s.year, version)
    if pool.empty:
        return None
    bundles = _bundles(s.year, s.bundling, s.saving_pct, s.bonus_pct, version)
    plan = planning.build_plan(
        pool, budget_wan=s.budget_wan, targets=_targets_for(s), weights=dict(s.weights) or None,
        min_willingness=s.min_willingness_pct / 100, bundles=bundles, objective=s.objective,
        time_limit_s=s.time_limit_s, year=s.year, county_budget_wan=_caps_for(s),
        min_county_share=s.fair_share_pct / 100, first_tier_first=s.first_tier_first,
        bundle_rule=s.bundle_rule,
    )
    return Built(s, pool, bundles if bundles is not None else pd.DataFrame(), plan)


def build(s: Settings) -> Built | None:
    """The plan for ``s`` (``analytics.planning.build_plan`` on the candidate pool; cached until data
    changes); ``None`` when the pool is empty."""
    return _build(s, state.data_version())


# ----------------------------------------------------------------------------------------------- text
def _measure(code: str) -> str:
    return t(f"plan.measure.{code}")


def _number(measure: str, value: float) -> str:
    return fmt_wan(value) if measure == "net_cost_wan" else fmt_int(value)


def reason_text(code: str, detail: dict, *, in_ranking: bool = False) -> str:
    """A row's reason(s) in the user's language, filled with its ``detail`` (several rules joined by ；).

    A compound left out for want of budget that the ranking alone would have taken (``in_ranking``) says
    so: the money went to the minimums and to combinations worth more.
    """
    if code == "budget" and in_ranking:
        code = "budget_displaced"
    fill = dict(detail or {})
    if "unit_code" in fill:
        fill["unit"] = unit_name(fill["unit_code"])
    if "measure" in fill:
        fill["measure"] = _measure(fill["measure"])
    if "status" in fill:
        fill["status"] = status_name(fill["status"]) if fill["status"] else MISSING
    parts = []
    for part in str(code).split(";"):
        try:
            parts.append(t(f"plan.reason.{part}", **fill))
        except (KeyError, ValueError, TypeError):  # a parameter missing: the label without the figures
            parts.append(part)
    return ("；" if current_lang() == "zh" else "; ").join(parts)


def status_messages(plan: planning.Plan) -> list[tuple[str, str]]:
    """(kind, text) lines for the plan's status: ``success`` optimal, ``warning`` time limit, ``error`` infeasible."""
    if plan.status == "optimal":
        return [("success", t("plan.status.optimal"))]
    if plan.status == "time_limit":
        text = t("plan.status.time_limit", gap=f"{plan.gap:.2%}") if plan.gap is not None else \
            t("plan.status.time_limit_unknown")
        return [("warning", text)]
    lines = [t("plan.status.infeasible")]
    for _, row in plan.shortfalls.iterrows():
        fill = {"unit": unit_name(row["unit_code"]), "measure": _measure(row["measure"]),
                "required": _number(row["measure"], row["required"]),
                "reachable": _number(row["measure"], row["reachable"]),
                "short": _number(row["measure"], row["short_by"])}
        lines.append("- " + t(f"plan.short.{row['kind']}", **fill))
    return [("error", "\n".join(lines))]


def pool_caption(built: Built) -> str:
    plan = built.plan
    estimated = int(built.pool["cost_estimated"].sum()) if "cost_estimated" in built.pool.columns else 0
    return t("plan.pool", n=f"{plan.n_candidates:,}", eligible=f"{plan.n_eligible:,}", estimated=f"{estimated:,}")


def _city(totals: pd.DataFrame) -> pd.Series:
    return totals[totals["unit_code"] == settings.CITY_UNIT_CODE].iloc[0]


def _delta(value: float, ranking: float, fmt) -> str | None:
    diff = value - ranking
    if abs(diff) < 1e-9:
        return None
    return t("plan.kpi.vs_ranking", delta=("+" if diff > 0 else "−") + fmt(abs(diff)))


def plan_kpis(plan: planning.Plan) -> list[Kpi]:
    """Cards: compounds, households, floor area and investment, each against the ranking's answer."""
    c = _city(plan.totals)
    ranking = t("plan.kpi.ranking_help", n=fmt_int(c["greedy_compounds"]), households=fmt_int(c["greedy_households"]))
    return [
        Kpi(t("plan.kpi.compounds"), fmt_int(c["compounds"]), _delta(c["compounds"], c["greedy_compounds"], fmt_int),
            help=ranking),
        Kpi(t("plan.kpi.households"), fmt_int(c["households"]),
            _delta(c["households"], c["greedy_households"], fmt_int), help=ranking),
        Kpi(t("plan.kpi.floor_area"), fmt_area_wan_m2(c["floor_area_m2"]),
            _delta(c["floor_area_m2"], c["greedy_floor_area_m2"], fmt_area_wan_m2), help=ranking),
        Kpi(t("plan.kpi.cost"), fmt_wan(c["net_cost_wan"]),
            t("plan.kpi.cost_share", share=share_of(c["net_cost_wan"], c["budget_wan"])), plain_delta=True,
            help=t("plan.kpi.cost_help", budget=fmt_wan(c["budget_wan"]), saving=fmt_wan(c["saving_wan"]))),
    ]


# ----------------------------------------------------------------------------------------------- tables
def _identity(rows: pd.DataFrame) -> dict:
    return {"id": rows["id"], "name": rows["name"], "county": [unit_name(c) for c in rows["unit_code"]]}


def _figures(rows: pd.DataFrame) -> dict:
    yes, no = t("plan.yes"), t("plan.no")
    return {
        "households": rows["households"].astype("Int64"),
        "floor_area_m2": rows["floor_area_m2"].round(0),
        "built_year": rows["built_year"],
        "tier": rows["tier"] if "tier" in rows.columns else None,
        "score": rows["score"].round(3),
        "rank": rows["rank"],
        "in_ranking": [yes if v else no for v in rows["in_greedy"]],
        "street": rows["street"] if "street" in rows.columns else None,
    }


def chosen_table(plan: planning.Plan) -> pd.DataFrame:
    """The list: compound, county, why it is in, its area or project, money, then its figures; labelled."""
    rows = plan.chosen
    out = pd.DataFrame({
        **_identity(rows),
        "why_in": [reason_text(c, d) for c, d in zip(rows["reason"], rows["detail"])],
        "bundle": [b if isinstance(b, str) else "" for b in rows["bundle_name"]],
        "net_cost_wan": rows["net_cost_wan"].round(2),
        "cost_wan": rows["cost_wan"].round(2),
        **_figures(rows),
    })
    return _labelled(out)


def rejected_table(plan: planning.Plan) -> pd.DataFrame:
    """Every compound left out, eligible ones first: why (the binding constraint or the rules it fails), then
    its cost and figures; labelled."""
    rows = plan.rejected
    yes, no = t("plan.yes"), t("plan.no")
    out = pd.DataFrame({
        **_identity(rows),
        "why_out": [reason_text(c, d, in_ranking=g)
                    for c, d, g in zip(rows["reason"], rows["detail"], rows["in_greedy"])],
        "eligible": [yes if v else no for v in rows["eligible"]],
        "cost_wan": rows["cost_wan"].round(2),
        **_figures(rows),
    })
    return _labelled(out)


def totals_table(plan: planning.Plan) -> pd.DataFrame:
    """Per county and for the city: the plan against its budget cap, minimum share, targets, pool and ranking."""
    totals = plan.totals
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in totals["unit_code"]],
        "compounds": totals["compounds"],
        "households": totals["households"].round(0).astype("int64"),
        "floor_area_m2": totals["floor_area_m2"].round(0),
        "net_cost_wan": totals["net_cost_wan"].round(2),
        "budget_wan": totals["budget_wan"].round(2),
        "fair_share_wan": totals["fair_share_wan"].round(2),
        "target_compounds": totals["target_compounds"],
        "target_households": totals["target_households"],
        "target_floor_area_m2": totals["target_floor_area_m2"],
        "pool_compounds": totals["pool_compounds"],
        "greedy_compounds": totals["greedy_compounds"],
        "greedy_households": totals["greedy_households"].round(0).astype("int64"),
    })
    return _labelled(out)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={c: t(f"plan.col.{c}") for c in frame.columns})


# ----------------------------------------------------------------------------------------------- figures
def counties_figure(plan: planning.Plan) -> tuple[go.Figure, pd.DataFrame]:
    """Households per county: this plan, the target (when set) and the ranking's answer; and its data."""
    units = plan.totals[(plan.totals["unit_code"] != settings.CITY_UNIT_CODE)
                        & ((plan.totals["pool_compounds"] > 0) | plan.totals["target_households"].notna())]
    names = [unit_name(c) for c in units["unit_code"]]
    data = pd.DataFrame({
        t("plan.col.unit"): names,
        t("plan.chart.plan"): units["households"].round(0).to_numpy(),
        t("plan.chart.target"): units["target_households"].to_numpy(),
        t("plan.chart.ranking"): units["greedy_households"].round(0).to_numpy(),
    })
    fig = go.Figure()
    fig.add_bar(name=t("plan.chart.plan"), x=names, y=data[t("plan.chart.plan")], marker_color="#1B4F72")
    if units["target_households"].notna().any():
        fig.add_scatter(name=t("plan.chart.target"), x=names, y=data[t("plan.chart.target")], mode="markers",
                        marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": "#C0392B"}})
    fig.add_bar(name=t("plan.chart.ranking"), x=names, y=data[t("plan.chart.ranking")], marker_color="#AAB7B8")
    fig.update_layout(barmode="group")
    return fig, data


def value_figure(plan: planning.Plan) -> tuple[go.Figure, pd.DataFrame]:
    """Score against estimated cost for every eligible candidate, chosen and left out; and its data."""
    left = plan.rejected[plan.rejected["eligible"]]
    fig = go.Figure()
    for rows, label, color in ((plan.chosen, t("plan.chart.chosen"), MAP_COLORS["chosen"]),
                               (left, t("plan.map.left_out"), MAP_COLORS["left_out"])):
        fig.add_scatter(name=label, x=rows["cost_wan"], y=rows["score"], mode="markers", text=rows["name"],
                        marker={"color": color, "size": 7, "opacity": 0.8})
    fig.update_xaxes(title=t("plan.chart.cost_axis"))
    fig.update_yaxes(title=t("plan.chart.score_axis"))
    data = pd.concat([
        pd.DataFrame({t("plan.col.name"): plan.chosen["name"], t("plan.col.cost_wan"): plan.chosen["cost_wan"],
                      t("plan.col.score"): plan.chosen["score"], t("plan.map_legend"): t("plan.chart.chosen")}),
        pd.DataFrame({t("plan.col.name"): left["name"], t("plan.col.cost_wan"): left["cost_wan"],
                      t("plan.col.score"): left["score"], t("plan.map_legend"): t("plan.map.left_out")}),
    ], ignore_index=True)
    return fig, data


def map_frame(built: Built) -> gpd.GeoDataFrame:
    """The pool's compounds (stored CRS) with ``plan`` = chosen / bundled / left_out / ineligible."""
    plan = built.plan
    category = pd.Series("ineligible", index=plan.rejected["id"].astype(str))
    category[plan.rejected.loc[plan.rejected["eligible"], "id"].astype(str)] = "left_out"
    bundled = plan.chosen["bundle_id"].map(lambda b: isinstance(b, str)).to_numpy()
    chosen = pd.Series(["bundled" if b else "chosen" for b in bundled], index=plan.chosen["id"].astype(str))
    category = pd.concat([category, chosen])
    compounds = state.layer("compounds", crs=None)
    frame = compounds[compounds["id"].isin(category.index)].copy()
    frame["plan"] = category.reindex(frame["id"].astype(str)).to_numpy()
    return frame


def map_labels() -> dict[str, str]:
    return {k: t(f"plan.map.{k}") for k in MAP_COLORS}


# ----------------------------------------------------------------------------------------------- workbook
def _county_name(code: str, lang: str | None) -> str:
    names = settings.COUNTIES.get(code) or settings.FUNCTION_ZONES.get(code)
    if names is None:
        return str(code)
    return names[1] if (lang or current_lang()) == "en" else names[0]


def plan_xlsx(plan: planning.Plan, *, year: int, demo: bool, lang: str | None = None) -> bytes:
    """The 年度改造计划表 as an XLSX: title, unit line, header, one row per compound, the total row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    table = planning.plan_table(plan, year=year)
    columns = planning.PLAN_TABLE_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = t("plan.xlsx.sheet", lang)
    n = len(columns)
    title = t("plan.xlsx.title", lang, year=year) + (f"（{settings.DEMO_SOURCE_LABEL}）" if demo else "")
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=16)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.cell(row=2, column=n, value=t("plan.xlsx.unit_note", lang)).alignment = Alignment(horizontal="right")
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=3, column=j, value=t(f"plan.xlsx.{column}", lang))
        cell.font, cell.border = Font(bold=True), border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    formats = {"households": "#,##0", "n_buildings": "#,##0", "floor_area_m2": "#,##0", "invest_wan": "#,##0.00",
               "planned_start": "yyyy-mm-dd", "planned_completion": "yyyy-mm-dd"}
    for i, row in enumerate(table.itertuples(index=False), start=4):
        for j, column in enumerate(columns, start=1):
            value = getattr(row, column)
            if column == "unit_code":
                value = _county_name(value, lang)
            cell = cells.as_text(ws.cell(row=i, column=j, value=cells.excel_value(value)))  # names stay text, never formulas
            cell.border = border
            if column in formats:
                cell.number_format = formats[column]
            if column == "items":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    total_row = 4 + len(table)
    ws.cell(row=total_row, column=1, value=t("plan.xlsx.total", lang)).font = Font(bold=True)
    ws.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=4)
    for column in ("n_buildings", "households", "floor_area_m2", "invest_wan"):
        j = columns.index(column) + 1
        total = table[column].astype("float64").sum()
        cell = ws.cell(row=total_row, column=j, value=round(float(total), 2))
        cell.number_format, cell.font = formats[column], Font(bold=True)
    for j in range(1, n + 1):
        ws.cell(row=total_row, column=j).border = border
    widths = {"seq": 6, "unit_code": 10, "project_name": 30, "name": 18, "built_year": 9, "n_buildings": 8,
              "households": 9, "floor_area_m2": 12, "tier": 9, "items": 48, "invest_wan": 12, "planned_start": 12,
              "planned_completion": 12}
    for j, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths[column]
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------- scenarios
def saved_scenarios() -> dict[str, Settings]:
    """The scenarios saved in this browser session, oldest first."""
    return st.session_state.setdefault(SCENARIOS_KEY, {})


def save_scenario(name: str, s: Settings) -> bool:
    """Save ``s`` under ``name`` (replacing one of the same name); False when three are saved already."""
    scenarios = saved_scenarios()
    if name not in scenarios and len(scenarios) >= MAX_SCENARIOS:
        return False
    scenarios[name] = s
    return True


def settings_text(s: Settings, reference: Settings | None = None) -> str:
    """The scenario's settings that differ from ``reference`` (all key ones when there is none)."""
    shown = {
        "budget_wan": lambda v: f"{t('plan.budget')} {fmt_wan(v)}",
        "first_tier_first": lambda v: f"{t('plan.first_tier')}：{t('plan.yes') if v else t('plan.no')}",
        "objective": lambda v: t(f"plan.objective.{v}"),
        "bundling": lambda v: t(f"plan.bundle.{v}"),
        "min_willingness_pct": lambda v: f"{t('plan.min_willingness')} {v:g}",
        "fair_share_pct": lambda v: f"{t('plan.fair_share')} {v:g}",
        "targets_source": lambda v: t(f"plan.targets.{v}", year=s.year),
    }
    mine, theirs = asdict(s), asdict(reference) if reference else {}
    parts = [fmt(mine[k]) for k, fmt in shown.items() if reference is None or mine[k] != theirs[k]]
    return join_names(parts) if parts else MISSING


def compare_table(current: Built, scenarios: dict[str, Built]) -> pd.DataFrame:
    """The current settings and each saved scenario side by side (differences to the current)."""
    named = {t("plan.scenario_current"): current.plan, **{k: b.plan for k, b in scenarios.items()}}
    summary, _ = planning.compare_plans(named)
    settings_of = {t("plan.scenario_current"): current.settings, **{k: b.settings for k, b in scenarios.items()}}
    out = pd.DataFrame({
        "scenario": summary["scenario"],
        "settings": [settings_text(settings_of[name], None if k == 0 else current.settings)
                     for k, name in enumerate(summary["scenario"])],
        "status": [t(f"plan.status_short.{v}") for v in summary["status"]],
        "budget_wan": summary["budget_wan"].round(2),
        "compounds": summary["compounds"],
        "households": summary["households"].round(0).astype("int64"),
        "floor_area_m2": summary["floor_area_m2"].round(0),
        "net_cost_wan": summary["net_cost_wan"].round(2),
        "counties": summary["counties"],
        "d_households": summary["d_households"].round(0).astype("int64"),
        "d_floor_area_m2": summary["d_floor_area_m2"].round(0),
        "d_net_cost_wan": summary["d_net_cost_wan"].round(2),
        "added_dropped": [f"+{a} / −{d}" for a, d in zip(summary["added"], summary["dropped"])],
        "counties_changed": [
            join_names([*("+" + unit_name(c) for c in add), *("−" + unit_name(c) for c in drop)]) or MISSING
            for add, drop in zip(summary["counties_added"], summary["counties_dropped"])],
    })
    return out.rename(columns={c: t(f"plan.cmp.{c}") for c in out.columns})


# ----------------------------------------------------------------------------------------------- adoption
def adoption_preview(built: Built) -> adoption.AdoptionPreview:
    """What adopting the plan as its year would change (read only)."""
    return adoption.adoption_preview(state.cursor(), built.plan, year=built.settings.year)


def removed_names(preview: adoption.AdoptionPreview, limit: int = 10) -> str:
    compounds = state.layer("compounds", crs=None)
    names = compounds.set_index("id")["name"].reindex(preview.removed_ids[:limit]).fillna("").tolist()
    more = len(preview.removed_ids) - limit
    return join_names(names) + (f" …(+{more})" if more > 0 else "")


def join_sources(targets: pd.DataFrame) -> str:
    """The sources of stored targets (``省下达``, …), listed; :data:`MISSING` when none is given."""
    sources = [s for s in dict.fromkeys(targets["source"].dropna().astype(str)) if s]
    return join_names(sources) if sources else MISSING


def adopted_text(done: adoption.AdoptionResult) -> str:
    targets = t("plan.adopted.targets_kept") if done.targets_kept else t("plan.adopted.targets_written")
    return t("plan.adopted", year=done.year, n=fmt_int(done.compounds_planned), projects=done.projects_written,
             targets=targets)


def undoable(audit_id: int) -> bool:
    """True while the adoption ``audit_id`` is the newest write the undo would take back."""
    candidate = importer.undo_candidate(state.cursor())
    return candidate is not None and int(candidate["import_id"]) == int(audit_id)


def undo_adoption(user) -> None:
    """Undo the newest write (the adoption, see :func:`undoable`) as ``user``."""
    importer.undo_last_import(state.cursor(), user=user)


# ----------------------------------------------------------------------------------------------- inputs
def settings_from(session: dict) -> Settings:
    """The page's widgets (their session keys) as one :class:`Settings`."""
    return Settings(
        year=int(session["plan_year"]), budget_wan=float(session["plan_budget"]),
        objective=session["plan_objective"], first_tier_first=bool(session["plan_first"]),
        min_willingness_pct=float(session["plan_will"]), targets_source=session["plan_targets"],
        target_compounds=int(session["plan_t_compounds"]), target_households=int(session["plan_t_households"]),
        target_floor_area_wan_m2=float(session["plan_t_area"]), county_caps=bool(session["plan_caps"]),
        fair_share_pct=float(session["plan_fair"]),
        weights=tuple((name, float(session[f"w_{name}"])) for name in priority.DEFAULT_WEIGHTS),
        bundling=session["plan_bundling"], bundle_rule=session["plan_rule"], saving_pct=float(session["plan_saving"]),
        bonus_pct=float(session["plan_bonus"]), time_limit_s=float(session["plan_time"]),
    )


def stored_targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    """The year's stored targets, units named, labelled."""
    out = pd.DataFrame({
        "unit": [unit_name(c) for c in targets["unit_code"]],
        "target_compounds": targets["compounds"],
        "target_households": targets["households"],
        "target_floor_area_m2": targets["floor_area_m2"],
        "budget_wan": targets["investment_wan"],
    })
    return _labelled(out)
