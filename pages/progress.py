"""县区进度 County progress: the weekly dispatch / monthly bulletin ranking, the weekly trend against the plan,
plan and actual per county, and the compounds behind schedule."""

from __future__ import annotations

import streamlit as st

from dashboard import cached_tables, sidebar, ui, urlstate, views
from dashboard.downloads import show_chart, show_table
from dashboard.labels import t

ui.page_header("page.progress", t("progress.caption"))

as_of = cached_tables.as_of_or_latest(sidebar.as_of())
if as_of is None:
    st.info(t("progress.no_reports"))
    st.stop()

period = urlstate.bind("period", "week", options=views.PERIODS)
rank_by = urlstate.bind("rank_by", "completion_rate", options=views.RANK_INDICATORS)
order = urlstate.bind("order", "official", options=views.ORDERS)

top = st.columns([2, 2, 2, 1])
top[0].radio(t("progress.period"), views.PERIODS, key="period", horizontal=True,
             format_func=lambda p: t(f"progress.period.{p}"))
top[1].selectbox(t("progress.rank_by"), views.RANK_INDICATORS, key="rank_by",
                 format_func=lambda i: t(f"progress.ind.{i}"))
top[2].radio(t("progress.order"), views.ORDERS, key="order", horizontal=True,
             format_func=lambda o: t(f"progress.order.{o}"))
bulletin_spot = top[3].container()  # the weekly dispatch / monthly bulletin button goes here (issue 5)

try:
    report_date, issue, interim = cached_tables.bulletin_date(as_of, kind=period)
    frame = cached_tables.county_progress(as_of=report_date, rank_by=rank_by)
except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
    ui.show_error(exc)
    st.stop()

st.caption(t(f"progress.issue.{period}", year=report_date.year, n=issue, as_of=report_date.isoformat()))
if interim:
    st.caption(t("progress.issue.interim"))

for card, (label, value, delta) in zip(st.columns(5), views.progress_kpis(frame, period=period)):
    card.metric(label, value, delta, border=True)

st.subheader(t("progress.ranking"))
st.caption(t("progress.ranking_note"))
show_table(views.progress_ranking(frame, period=period, order=order), f"progress_ranking_{report_date}",
           key="progress-ranking")
with st.expander(t("progress.outputs")):
    show_table(views.progress_outputs(frame, order=order), f"progress_outputs_{report_date}", key="progress-outputs")

st.subheader(t("progress.plan_vs_actual"))
fig, data = views.plan_vs_actual_figure(frame)
fig.update_layout(title=t("progress.plan_vs_actual.title"))
show_chart(fig, data, f"progress_plan_vs_actual_{report_date}", key="progress-plan")

st.divider()
units = views.unit_options(frame)
unit = urlstate.bind("unit", units[0], options=units)
st.selectbox(t("progress.unit_select"), units, key="unit", format_func=views.unit_name)

left, right = st.columns([1, 1])
with left:
    st.subheader(t("progress.weekly"))
    try:
        series = cached_tables.weekly_series(plan_year=frame.attrs["plan_year"], unit_code=unit)
    except Exception as exc:  # noqa: BLE001
        ui.show_error(exc)
    else:
        fig, data = views.weekly_figure(series)
        fig.update_layout(title=t("progress.weekly.title", unit=views.unit_name(unit), year=frame.attrs["plan_year"]))
        show_chart(fig, data, f"progress_weekly_{unit}", key="progress-weekly")
with right:
    st.subheader(t("progress.behind"))
    st.caption(t("progress.behind.caption", as_of=report_date.isoformat()))
    try:
        behind = cached_tables.behind_schedule(as_of=report_date, unit_code=unit)
    except Exception as exc:  # noqa: BLE001
        ui.show_error(exc)
    else:
        if behind.empty:
            st.success(t("progress.behind.none"))
        else:
            st.markdown(t("progress.behind.count", n=len(behind)))
            show_table(views.behind_table(behind), f"progress_behind_{unit}_{report_date}", key="progress-behind")
