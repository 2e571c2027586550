"""项目生成 Project priority: weight the selection criteria, see the ranked candidates and what their scores are
made of, and which compounds are ineligible and why."""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import priority, settings
from dashboard import sidebar, state, ui, urlstate
from dashboard.downloads import show_chart, show_table
from dashboard.formatting import status_name, unit_name
from dashboard.labels import t
from dashboard.views import priority as page

ui.page_header("page.priority", t("priority.caption"))

as_of = state.as_of_or_latest(sidebar.as_of())
as_of_year = as_of.year if as_of else date.today().year
years = state.plan_years()
counties = list(settings.COUNTY_ORDER)

for name, default in priority.DEFAULT_WEIGHTS.items():
    ui.bind_number(f"w_{name}", round(default * 100), low=0, high=100)
urlstate.bind("prio_years", years, cast=urlstate.list_of(years, item=int))
ui.bind_multi("prio_counties", counties, counties)
ui.bind_multi("prio_statuses", ["未开工", "已立项"], settings.STATUSES)
ui.bind_number("top_n", 20, low=5, high=50)

with st.expander(t("priority.weights"), expanded=True):
    st.caption(t("priority.weights_help"))
    for slot, name in zip(st.columns(len(priority.DEFAULT_WEIGHTS)), priority.DEFAULT_WEIGHTS):
        slot.slider(t(f"priority.comp.{name}"), 0, 100, step=5, key=f"w_{name}")
weights = {name: st.session_state[f"w_{name}"] for name in priority.DEFAULT_WEIGHTS}

with st.expander(t("priority.filters"), expanded=True):
    cols = st.columns([1, 2, 1])
    cols[0].multiselect(t("priority.plan_years"), years, key="prio_years")
    cols[1].multiselect(t("priority.counties"), counties, key="prio_counties", format_func=unit_name)
    cols[2].multiselect(t("priority.statuses"), settings.STATUSES, key="prio_statuses", format_func=status_name)
    st.caption(t("priority.filters_help"))

if not any(weights.values()):
    st.warning(t("error.weights_zero"))
    st.stop()
st.caption(t("priority.weights_share", shares=page.weight_shares(priority.normalise_weights(weights))))
st.page_link("pages/plan.py", label=t("plan.from_priority"), icon=":material/event_note:")

result = ui.attempt(
    page.priority_scores,
    weights=weights, as_of_year=as_of_year, plan_years=st.session_state["prio_years"],
    counties=st.session_state["prio_counties"], statuses=st.session_state["prio_statuses"],
)
if result is None:
    st.info(t("common.no_data"))
    st.stop()
ranked, ineligible = result

ui.metric_cards(page.priority_kpis(ranked, ineligible))

if len(ranked):
    st.subheader(t("priority.chart"))
    st.slider(t("priority.top_n"), 5, 50, step=5, key="top_n")
    fig, data = page.priority_figure(ranked, top_n=st.session_state["top_n"])
    ui.styled(fig, title=t("priority.chart.title", n=min(st.session_state["top_n"], len(ranked))),
                 unit=t("priority.chart.unit"), as_of=as_of)
    show_chart(fig, data, "priority_top", key="priority-chart")

    st.subheader(t("priority.ranked"))
    st.caption(t("priority.ranked_note"))
    n_missing = int((ranked["missing_inputs"] != "").sum())
    if n_missing:
        st.warning(t("priority.missing_inputs", n=n_missing))
    show_table(page.priority_table(ranked), "priority_ranked", key="priority-ranked",
               column_config=page.priority_column_config())

st.subheader(t("priority.ineligible"))
st.caption(t("priority.ineligible_note"))
if ineligible.empty:
    st.success(t("priority.ineligible_none"))
else:
    show_table(page.ineligible_table(ineligible), "priority_ineligible", key="priority-ineligible",
               column_config=page.priority_column_config())
