"""The project priority page (项目生成): the cached scores, cards, the ranked and ineligible tables, the chart."""

from __future__ import annotations

import warnings

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import priority
from dashboard import state
from dashboard.formatting import MISSING, codes_text, reasons_text, status_name, unit_name
from dashboard.labels import labelled, t
from dashboard.ui import Kpi


@st.cache_data(show_spinner=False, max_entries=64)
def _priority_scores(
    weights: tuple[tuple[str, float], ...],
    as_of_year: int,
    plan_years: tuple[int, ...],
    counties: tuple[str, ...],
    statuses: tuple[str, ...],
    version: str,
) -> priority.PriorityResult | None:
    compounds = state.layer("compounds", crs=None)
    chosen = compounds[
        compounds["plan_year"].isin(plan_years)
        & compounds["county_code"].isin(counties)
        & compounds["status"].isin(statuses)
    ]
    if chosen.empty:
        return None
    with warnings.catch_warnings():  # the page says how many compounds lack inputs (missing_inputs)
        warnings.filterwarnings("ignore", message=r".*lack willingness", category=UserWarning)
        return priority.priority_scores(chosen, weights=dict(weights), as_of_year=as_of_year)


def priority_scores(
    *,
    weights: dict[str, float],
    as_of_year: int,
    plan_years: list[int],
    counties: list[str],
    statuses: list[str],
) -> priority.PriorityResult | None:
    """``analytics.priority.priority_scores`` over the stored compounds of the chosen plan years, counties
    and statuses (scores are relative to that selection); ``None`` when the selection holds no compound."""
    return _priority_scores(
        tuple(sorted(weights.items())), as_of_year, tuple(sorted(plan_years)), tuple(sorted(counties)),
        tuple(sorted(statuses)), state.data_version(),
    )


COMPONENTS = ("age", "willingness", "contributing", "procedures", "benefit")


def priority_kpis(ranked: pd.DataFrame, ineligible: pd.DataFrame) -> list[Kpi]:
    """Cards: eligible and ineligible compounds, the best score."""
    return [
        Kpi(t("priority.kpi.eligible"), f"{len(ranked)}"),
        Kpi(t("priority.kpi.ineligible"), f"{len(ineligible)}"),
        Kpi(t("priority.kpi.top_score"), f"{ranked['score'].iloc[0]:.3f}" if len(ranked) else MISSING),
    ]


def weight_shares(shares: dict[str, float]) -> str:
    """``房龄 25% · 居民意愿 15% · …`` for normalised weights."""
    return " · ".join(f"{t(f'priority.comp.{c}')} {shares[c] * 100:.0f}%" for c in COMPONENTS)


def _identity(compounds: pd.DataFrame) -> dict[str, object]:
    """The columns that name a compound in both tables: id, name, county, plan year, status, built year."""
    return {
        "id": compounds["id"],
        "name": compounds["name"],
        "county": [unit_name(c) for c in compounds["county_code"]],
        "plan_year": compounds["plan_year"].astype("Int64"),
        "status": [status_name(s) for s in compounds["status"]],
        "built_year": compounds["built_year"],
    }


def priority_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """Ranked eligible compounds: rank, identity, inputs, components 0–1, weighted parts, score; labelled."""
    yes, no = t("priority.yes"), t("priority.no")
    out = pd.DataFrame({
        "rank": ranked["rank"].astype("int64"),
        **_identity(ranked),
        "age_years": ranked["age_years"],
        "households": ranked["households"],
        "willingness_pct": ranked["willingness_pct"],
        "contributing_pct": ranked["contributing_pct"],
        "procedures_complete": [yes if v is True or v == 1 else no for v in ranked["procedures_complete"]],
    })
    for col in (*(f"c_{c}" for c in COMPONENTS), *(f"part_{c}" for c in COMPONENTS), "score"):
        out[col] = ranked[col].astype(float).to_numpy()
    out["missing_inputs"] = [codes_text(v, "priority.missing") for v in ranked["missing_inputs"]]
    return labelled(out, "priority.col")


def priority_column_config() -> dict[str, object]:
    """Number formats for :func:`priority_table` (values keep full precision for the downloads)."""
    fmt = {f"c_{c}": "%.3f" for c in COMPONENTS} | {f"part_{c}": "%.3f" for c in COMPONENTS} | {"score": "%.3f"}
    config: dict[str, object] = {t(f"priority.col.{col}"): st.column_config.NumberColumn(format=f) for col, f in fmt.items()}
    config[t("priority.col.built_year")] = st.column_config.NumberColumn(format="%d")
    config[t("priority.col.plan_year")] = st.column_config.NumberColumn(format="%d")
    return config


def priority_figure(ranked: pd.DataFrame, *, top_n: int) -> tuple[go.Figure, pd.DataFrame]:
    """Horizontal stacked bars of the weighted components of the ``top_n`` best compounds (best on top)."""
    top = ranked.head(top_n)
    names = [f"{r}. {n}" for r, n in zip(top["rank"], top["name"])]
    fig = go.Figure()
    for comp in COMPONENTS:
        fig.add_trace(go.Bar(
            y=names, x=top[f"part_{comp}"], name=t(f"priority.comp.{comp}"), orientation="h",
            hovertemplate="%{y}: %{x:.3f}<extra>" + t(f"priority.comp.{comp}") + "</extra>",
        ))
    fig.update_layout(
        barmode="stack", xaxis_title=t("priority.chart.score"), height=max(360, 26 * len(top) + 160),
        yaxis={"autorange": "reversed"},
    )
    data = pd.DataFrame({"rank": top["rank"].to_numpy(), "id": top["id"].to_numpy(), "name": top["name"].to_numpy()})
    for comp in COMPONENTS:
        data[f"part_{comp}"] = top[f"part_{comp}"].to_numpy()
    data["score"] = top["score"].to_numpy()
    return fig, labelled(data, "priority.col")


def ineligible_table(ineligible: pd.DataFrame) -> pd.DataFrame:
    """Ineligible compounds with the reasons in the user's language; labelled."""
    out = pd.DataFrame({
        **_identity(ineligible),
        "reason": [reasons_text(r, "priority.reason") for r in ineligible["reason"]],
    })
    return labelled(out, "priority.col")


