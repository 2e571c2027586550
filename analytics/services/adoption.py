"""Adopting a plan (采纳为年度计划): the chosen compounds get plan year N and the year's targets are written.

One transaction: the chosen compounds get ``plan_year`` N (and, where missing, the planned start and
completion dates and the estimated investment), bundles taken whole become projects (成片捆绑 / 打包),
compounds of year N the plan left out go back to the candidate pool, the list's totals (``annual_plans``)
follow, and the year's targets (``annual_targets``) are written from the plan's totals — unless targets for
N already exist, which are kept unless the caller asks to replace them. The write is recorded in the audit
log (action ``adopt_plan``) and snapshotted like an import, so the existing undo puts everything back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics import settings
from analytics.errors import DataError, InputError
from analytics.importing import write
from analytics.planning import STARTED_STATUSES, Plan
from analytics.services.auth import User, require
from analytics.store import audit, insert_frame

log = logging.getLogger(__name__)

ACTION = "adopt_plan"
TARGET_SOURCE = "年度计划编制"
DELIVERY_MODEL = {"cluster": "成片捆绑"}  # other bundle bases (street, community, given) → 打包
DEFAULT_DELIVERY_MODEL = "打包"


@dataclass(frozen=True)
class AdoptionPreview:
    """What :func:`adopt_plan` would change.

    ``chosen_ids`` get the plan year; ``removed_ids`` are compounds of that year the plan left out (they go
    back to the pool); ``stale`` lists chosen compounds that are no longer candidates (``id``, ``plan_year``,
    ``status``; adoption is refused while any are); ``targets`` are the rows the year's targets would get
    (``unit_code, compounds, households, floor_area_m2, investment_wan``); ``existing_targets`` the rows
    stored for the year now (kept unless replaced); ``projects`` the projects bundles would become.
    """

    year: int
    chosen_ids: list[str]
    removed_ids: list[str]
    stale: pd.DataFrame
    targets: pd.DataFrame
    existing_targets: pd.DataFrame
    projects: pd.DataFrame


@dataclass(frozen=True)
class AdoptionResult:
    """``audit_id`` is the write's audit-log id (the key the undo uses)."""

    audit_id: int
    year: int
    compounds_planned: int
    compounds_returned: int
    projects_written: int
    targets_written: int
    targets_kept: bool


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 2006 <= year <= 2100:
        raise InputError(f"`year` was {year!r} but must be a plan year between 2006 and 2100.", code="plan.year",
                         year=year)
    return int(year)


def _targets(plan: Plan) -> pd.DataFrame:
    totals = plan.totals[plan.totals["compounds"] > 0]
    return pd.DataFrame({
        "unit_code": totals["unit_code"].astype(str),
        "compounds": totals["compounds"].astype("int64"),
        "households": totals["households"].round().astype("int64"),
        "floor_area_m2": totals["floor_area_m2"].astype(float),
        "investment_wan": totals["net_cost_wan"].round(2),
    }).reset_index(drop=True)


def _projects(plan: Plan, year: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Projects for the bundles taken whole, and compound id → project id."""
    chosen = plan.chosen[plan.chosen["bundle_id"].map(lambda b: isinstance(b, str))]
    info = plan.bundles.set_index("bundle_id")
    rows, project_of = [], {}
    for bundle_id, members in chosen.groupby("bundle_id", sort=True):
        project_id = f"{year}-{bundle_id}"
        counties = sorted(set(members["unit_code"].astype(str)))
        streets = members["street"].dropna() if "street" in members.columns else pd.Series(dtype=object)
        communities = members["community"].dropna() if "community" in members.columns else pd.Series(dtype=object)
        rows.append({
            "id": project_id, "name": f"{members['bundle_name'].iloc[0]}老旧小区改造项目", "year": year,
            "unit_code": counties[0] if len(counties) == 1 else settings.CITY_UNIT_CODE,
            "street": streets.iloc[0] if streets.nunique() == 1 else None,
            "community": communities.iloc[0] if communities.nunique() == 1 else None,
            "delivery_model": DELIVERY_MODEL.get(info.at[bundle_id, "basis"], DEFAULT_DELIVERY_MODEL),
            "invest_planned_wan": round(float(members["net_cost_wan"].sum()), 2),
            "note": f"{TARGET_SOURCE}：节约{info.at[bundle_id, 'saving_pct']:g}%（假设）",
        })
        project_of.update(dict.fromkeys(members["id"].astype(str), project_id))
    columns = ["id", "name", "year", "unit_code", "street", "community", "delivery_model", "invest_planned_wan", "note"]
    return pd.DataFrame(rows, columns=columns), project_of


def adoption_preview(con: duckdb.DuckDBPyConnection, plan: Plan, *, year: int) -> AdoptionPreview:
    """What adopting ``plan`` as plan year ``year`` would change (nothing is written)."""
    year = _check_year(year)
    if plan.chosen.empty:
        raise InputError("The plan chooses no compound; there is nothing to adopt.", code="adoption.empty")
    chosen_ids = plan.chosen["id"].astype(str).tolist()
    stored = con.execute(
        "SELECT id, plan_year, status FROM compounds WHERE list_contains(?, id)", [chosen_ids]
    ).fetchdf()
    missing = sorted(set(chosen_ids) - set(stored["id"]))
    stale = stored[(stored["plan_year"].notna() & (stored["plan_year"] < year))
                   | stored["status"].isin(STARTED_STATUSES)]
    stale = pd.concat([stale, pd.DataFrame({"id": missing, "plan_year": None, "status": None})],
                      ignore_index=True)
    started = "', '".join(STARTED_STATUSES)
    removed = con.execute(
        f"""SELECT id FROM compounds WHERE plan_year = ? AND NOT list_contains(?, id)
            AND coalesce(status, '') NOT IN ('{started}') ORDER BY id""", [year, chosen_ids]
    ).fetchdf()["id"].tolist()
    existing = con.execute(
        "SELECT unit_code, compounds, households, floor_area_m2, investment_wan, source FROM annual_targets "
        "WHERE year = ? ORDER BY unit_code", [year]
    ).fetchdf()
    projects, _ = _projects(plan, year)
    return AdoptionPreview(year, chosen_ids, removed, stale.reset_index(drop=True), _targets(plan), existing,
                           projects)


def adopt_plan(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    *,
    year: int,
    user: User | None,
    replace_targets: bool = False,
) -> AdoptionResult:
    """Adopt ``plan`` as plan year ``year`` in one transaction (see the module docstring); undoable.

    Parameters
    ----------
    con
        The database to write.
    plan
        From :func:`analytics.planning.build_plan`, for candidates read from this database.
    year
        The plan year the chosen compounds get.
    user
        The acting user; must hold the ``"adopt_plan"`` permission (admins).
    replace_targets
        Replace targets already stored for ``year`` with the plan's totals (default: keep them).

    Raises
    ------
    PermissionDenied
        ``user`` may not adopt a plan.
    DataError
        A chosen compound is no longer a candidate (planned for an earlier year, started, or gone): build
        the plan again; nothing was written.
    """
    user = require(user, "adopt_plan", con=con)
    preview = adoption_preview(con, plan, year=year)
    if len(preview.stale):
        first = preview.stale.iloc[0]
        raise DataError(
            f"{len(preview.stale)} chosen compound(s) are no longer candidates (e.g. {first['id']!r}: plan year "
            f"{first['plan_year']!r}, status {first['status']!r}); build the plan again — nothing was changed.",
            code="adoption.stale", n=len(preview.stale), compound_id=str(first["id"]),
        )
    year = preview.year
    projects, project_of = _projects(plan, year)
    start = date(year, *settings.PLAN_START_MMDD)
    completion = date(year, *settings.PLAN_COMPLETION_MMDD)
    updates = pd.DataFrame({
        "id": plan.chosen["id"].astype(str),
        "net_cost_wan": plan.chosen["net_cost_wan"].astype(float).round(2),
        "project_id": plan.chosen["id"].astype(str).map(project_of),
    })
    keep_targets = len(preview.existing_targets) > 0 and not replace_targets
    city = plan.totals[plan.totals["unit_code"] == settings.CITY_UNIT_CODE].iloc[0]
    label = f"{year}年度改造计划"  # what the import history and the undo show in the file column

    def work() -> AdoptionResult:
        audit_id = audit.record(
            con, username=user.username, action=ACTION, table_name="compounds", mode="adopt", file_name=label,
            rows_in=len(updates), rows_written=len(updates) + len(preview.removed_ids),
            detail={"year": year, "status": plan.status, "gap": plan.gap, "options": plan.options,
                    "compounds": int(city["compounds"]), "households": float(city["households"]),
                    "floor_area_m2": float(city["floor_area_m2"]), "investment_wan": float(city["net_cost_wan"]),
                    "returned_to_pool": preview.removed_ids, "projects": projects["id"].tolist(),
                    "targets": "kept" if keep_targets else "written"},
        )
        scope: write.Scope = {"compounds": {}, "annual_plans": {}, "annual_targets": {"year": year},
                              "projects": {"year": year}}
        write.start_batch(con, audit_id, scope, username=user.username, action=ACTION, table_name="compounds",
                          mode="adopt", file_name=label)
        if preview.removed_ids:
            con.execute("UPDATE compounds SET plan_year = NULL, project_id = NULL WHERE list_contains(?, id)",
                        [preview.removed_ids])
        con.execute(f"DELETE FROM projects WHERE year = ? AND id LIKE '{year}-%'", [year])
        insert_frame(con, "projects", projects)
        con.register("__adopted", updates)
        try:
            con.execute(
                """UPDATE compounds AS c SET plan_year = ?, project_id = a.project_id,
                       planned_start_date = coalesce(c.planned_start_date, ?),
                       planned_completion_date = coalesce(c.planned_completion_date, ?),
                       invest_planned_wan = coalesce(c.invest_planned_wan, a.net_cost_wan)
                   FROM __adopted AS a WHERE c.id = a.id""",
                [year, start, completion],
            )
        finally:
            con.unregister("__adopted")
        con.execute("DELETE FROM annual_plans")
        con.execute(
            """INSERT INTO annual_plans (plan_year, county_code, compounds, households, floor_area_m2,
                                         invest_planned_wan)
               SELECT plan_year, county_code, count(*), sum(households), sum(floor_area_m2), sum(invest_planned_wan)
               FROM compounds WHERE plan_year IS NOT NULL GROUP BY plan_year, county_code"""
        )
        written = 0
        if not keep_targets:
            con.execute("DELETE FROM annual_targets WHERE year = ?", [year])
            rows = preview.targets.assign(year=year, issued_date=date.today(), source=TARGET_SOURCE,
                                          note=f"{plan.options.get('objective')}; {plan.status}")
            written = insert_frame(con, "annual_targets", rows)
        return AdoptionResult(audit_id, year, len(updates), len(preview.removed_ids), len(projects), written,
                              keep_targets)

    result = write.in_transaction(con, work)
    log.info("adopted a plan as %d: %d compounds, %d back to the pool, %d projects, targets %s",
             year, result.compounds_planned, result.compounds_returned, result.projects_written,
             "kept" if result.targets_kept else f"written ({result.targets_written} rows)")
    return result
