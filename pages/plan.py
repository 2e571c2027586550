"""年度计划编制 Plan builder: next year's list from the candidate pool under a budget and targets, each compound's
reason for being in or out, totals against budget and targets, map, charts, the 年度改造计划表 download,
scenarios side by side, and for an administrator the adoption as plan year N (undoable)."""

from __future__ import annotations

import streamlit as st

from analytics import priority, settings
from analytics.services import adoption
from dashboard import auth_ui, maps, state, ui, urlstate
from dashboard.downloads import XLSX_MIME, file_button, map_downloads, show_chart, show_table
from dashboard.labels import current_lang, t
from dashboard.views import plan as page

ui.page_header("page.plan", t("plan.caption"))

# ------------------------------------------------------------------------------------------------ inputs
year = int(ui.bind_number("plan_year", page.default_year(), low=2006, high=2100))
ui.bind_number("plan_budget", page.default_budget(year), low=1.0, high=1e8, cast=float)
ui.bind_choice("plan_objective", "score", ["score", "households"])
ui.bind_choice("plan_first", True, [True, False], cast=lambda s: s == "True")
stored = page.stored_targets(year)
ui.bind_choice("plan_targets", "stored" if len(stored) else "none", page.TARGET_SOURCES)
for key in ("plan_t_compounds", "plan_t_households"):
    ui.bind_number(key, 0, low=0, high=10_000_000)
ui.bind_number("plan_t_area", 0.0, low=0.0, high=100_000.0, cast=float)
ui.bind_choice("plan_caps", False, [True, False], cast=lambda s: s == "True")
ui.bind_choice("plan_bundling", "cluster", page.BUNDLINGS)
ui.bind_choice("plan_rule", "optional", ["optional", "whole"])
ui.bind_number("plan_saving", settings.PLAN_BUNDLE_SAVING_PCT, low=0.0, high=50.0, cast=float)
ui.bind_number("plan_bonus", settings.PLAN_FACILITY_BONUS_PCT, low=0.0, high=100.0, cast=float)
ui.bind_number("plan_will", round(100 * settings.PLAN_MIN_WILLINGNESS, 1), low=0.0, high=100.0, cast=float)
ui.bind_number("plan_fair", 100 * settings.PLAN_FAIR_SHARE, low=0.0, high=100.0, cast=float)
ui.bind_number("plan_time", settings.PLAN_TIME_LIMIT_S, low=5.0, high=120.0, cast=float)
for name, default in priority.DEFAULT_WEIGHTS.items():
    ui.bind_number(f"w_{name}", round(default * 100), low=0, high=100)

top = st.columns([1, 1.4, 2, 1.6], vertical_alignment="bottom")
top[0].number_input(t("plan.year"), 2006, 2100, step=1, key="plan_year")
top[1].number_input(t("plan.budget"), 1.0, 1e8, step=1_000.0, key="plan_budget", help=t("plan.budget_help"))
top[2].radio(t("plan.objective"), ["score", "households"], key="plan_objective", horizontal=True,
             format_func=lambda v: t(f"plan.objective.{v}"))
top[3].toggle(t("plan.first_tier"), key="plan_first", help=t("plan.first_tier_help"))

with st.expander(t("plan.targets"), expanded=True):
    sources = [s for s in page.TARGET_SOURCES if s != "stored" or len(stored)]
    if st.session_state["plan_targets"] not in sources:
        st.session_state["plan_targets"] = "none"
    st.radio(t("plan.targets.source"), sources, key="plan_targets", horizontal=True,
             format_func=lambda v: t(f"plan.targets.{v}", year=year))
    if st.session_state["plan_targets"] == "manual":
        cols = st.columns(3)
        cols[0].number_input(t("plan.targets.compounds"), 0, 10_000_000, step=10, key="plan_t_compounds")
        cols[1].number_input(t("plan.targets.households"), 0, 10_000_000, step=1_000, key="plan_t_households")
        cols[2].number_input(t("plan.targets.floor_area"), 0.0, 100_000.0, step=10.0, key="plan_t_area")
        st.caption(t("plan.targets.help"))
    elif st.session_state["plan_targets"] == "stored":
        show_table(page.stored_targets_table(stored), f"targets_{year}", key="plan-stored-targets")
        st.checkbox(t("plan.targets.caps"), key="plan_caps")

with st.expander(t("plan.bundling")):
    cols = st.columns([1.4, 1.4, 1, 1])
    cols[0].selectbox(t("plan.bundling"), page.BUNDLINGS, key="plan_bundling", format_func=lambda v: t(f"plan.bundle.{v}"))
    cols[1].radio(t("plan.bundle_rule"), ["optional", "whole"], key="plan_rule",
                  format_func=lambda v: t(f"plan.bundle_rule.{v}"))
    cols[2].number_input(t("plan.saving"), 0.0, 50.0, step=1.0, key="plan_saving", help=t("plan.saving_help"))
    cols[3].number_input(t("plan.bonus"), 0.0, 100.0, step=5.0, key="plan_bonus", help=t("plan.bonus_help"))

with st.expander(t("plan.weights")):
    for slot, name in zip(st.columns(len(priority.DEFAULT_WEIGHTS)), priority.DEFAULT_WEIGHTS):
        slot.slider(t(f"priority.comp.{name}"), 0, 100, step=5, key=f"w_{name}")

with st.expander(t("plan.advanced")):
    cols = st.columns(3)
    cols[0].number_input(t("plan.min_willingness"), 0.0, 100.0, step=0.1, format="%.1f", key="plan_will",
                         help=t("plan.min_willingness_help"))
    cols[1].slider(t("plan.fair_share"), 0.0, 100.0, step=5.0, key="plan_fair", help=t("plan.fair_share_help"))
    cols[2].number_input(t("plan.time_limit"), 5.0, 120.0, step=5.0, key="plan_time")

urlstate.sync("plan_year", "plan_budget", "plan_objective", "plan_first", "plan_targets", "plan_t_compounds",
              "plan_t_households", "plan_t_area", "plan_caps", "plan_bundling", "plan_rule", "plan_saving",
              "plan_bonus", "plan_will", "plan_fair", "plan_time", *(f"w_{n}" for n in priority.DEFAULT_WEIGHTS))

current = page.settings_from(st.session_state)
if not any(w for _, w in current.weights):
    st.warning(t("error.weights_zero"))
    st.stop()
built = ui.attempt(page.build, current)
if built is None:
    st.info(t("plan.no_pool", year=year))
    st.stop()
plan = built.plan

# ------------------------------------------------------------------------------------------------ result
st.caption(page.pool_caption(built))
for kind, text in page.status_messages(plan):
    getattr(st, kind)(text)
ui.metric_cards(page.plan_kpis(plan))
lang, demo = current_lang(), state.is_demo()
file_button(t("plan.download"), lambda: page.plan_xlsx(plan, year=year, demo=demo, lang=lang),
            f"{t('plan.xlsx.title', year=year)}.xlsx", XLSX_MIME, key="plan-xlsx", disabled=plan.chosen.empty)

tabs = st.tabs([t("plan.tab.chosen"), t("plan.tab.rejected"), t("plan.tab.counties"), t("plan.tab.charts")])
with tabs[0]:
    st.caption(t("plan.chosen_note"))
    show_table(page.chosen_table(plan), f"plan_{year}_chosen", key="plan-chosen")
with tabs[1]:
    st.caption(t("plan.rejected_note"))
    show_table(page.rejected_table(plan), f"plan_{year}_rejected", key="plan-rejected")
with tabs[2]:
    show_table(page.totals_table(plan), f"plan_{year}_counties", key="plan-counties")
with tabs[3]:
    fig, data = page.counties_figure(plan)
    ui.styled(fig, title=t("plan.chart.counties"), unit=t("plan.chart.households_unit"))
    show_chart(fig, data, f"plan_{year}_counties_chart", key="plan-counties-chart")
    fig, data = page.value_figure(plan)
    ui.styled(fig, title=t("plan.chart.value"), unit=t("plan.chart.score_axis"))
    show_chart(fig, data, f"plan_{year}_value_chart", key="plan-value-chart")

st.subheader(t("plan.tab.map"))
frame = page.map_frame(built)
m = maps.base_map(frame, max_zoom=15)
maps.add_counties(m, state.layer("counties"))
maps.add_compounds(m, frame, color_by="plan", palette=page.MAP_COLORS, labels=page.map_labels(),
                   legend_title=t("plan.map_legend"), as_points="auto")
maps.render(m, key="plan_map")
status = t(f"plan.status_short.{plan.status}")
map_downloads(m, f"plan_{year}_map", key="plan-map", title=t("plan.map_title", year=year, status=status))

# ------------------------------------------------------------------------------------------------ scenarios
st.subheader(t("plan.scenarios"))
st.caption(t("plan.scenarios_help"))
scenarios = page.saved_scenarios()
cols = st.columns([2, 1, 1], vertical_alignment="bottom")
name = cols[0].text_input(t("plan.scenario_name"), value=t("plan.scenario_default", n=len(scenarios) + 1),
                          key="plan_scenario_name")
if cols[1].button(t("plan.scenario_save"), key="plan_scenario_save"):
    if not page.save_scenario(name.strip() or t("plan.scenario_default", n=len(scenarios) + 1), current):
        st.warning(t("plan.scenario_full"))
if cols[2].button(t("plan.scenario_clear"), key="plan_scenario_clear", disabled=not scenarios):
    scenarios.clear()
if scenarios:
    others = {k: ui.attempt(page.build, s) for k, s in scenarios.items()}
    show_table(page.compare_table(built, {k: b for k, b in others.items() if b is not None}),
               f"plan_{year}_scenarios", key="plan-scenarios")
else:
    st.caption(t("plan.scenario_none"))

# ------------------------------------------------------------------------------------------------ adoption
st.subheader(t("plan.adopt", year=year))
st.caption(t("plan.adopt_help", year=year))
user = auth_ui.current_user()
notice = st.session_state.pop("plan_notice", None)
if notice:
    st.success(notice)
if user is None or user.role != "admin":
    st.info(t("plan.adopt_admin_only"))
elif not plan.chosen.empty:
    preview = ui.attempt(page.adoption_preview, built)
    if len(preview.stale):
        st.error(t("plan.adopt_stale", n=len(preview.stale), id=ui.literal(preview.stale["id"].iloc[0])))
    else:
        if preview.removed_ids:
            st.warning(t("plan.adopt_removed", year=year, n=len(preview.removed_ids), names=ui.literal(page.removed_names(preview))))
        replace_targets = False
        if len(preview.existing_targets):
            sources = page.join_sources(preview.existing_targets)
            st.info(t("plan.adopt_targets_exist", year=year, source=sources))
            replace_targets = st.checkbox(t("plan.adopt_replace_targets", year=year), key="plan_replace_targets")
        confirmed = st.checkbox(t("plan.adopt_confirm"), key="plan_adopt_confirm")
        if st.button(t("plan.adopt_button"), key="plan_adopt", type="primary", disabled=not confirmed):
            done = ui.attempt(adoption.adopt_plan, state.cursor(), plan, year=year, user=user,
                              replace_targets=replace_targets)
            st.session_state["plan_adopted"] = done.audit_id
            st.session_state.pop("plan_adopt_confirm", None)
            st.session_state["plan_notice"] = page.adopted_text(done)
            st.rerun()
    adopted = st.session_state.get("plan_adopted")
    if adopted is not None and page.undoable(adopted):
        if st.button(t("plan.undo"), key="plan_undo"):
            ui.attempt(page.undo_adoption, user)
            st.session_state.pop("plan_adopted", None)
            st.session_state["plan_notice"] = t("plan.undone")
            st.rerun()
