"""县区进度 County progress: the weekly dispatch / monthly bulletin ranking, the weekly trend against the plan,
plan and actual per county, and the compounds behind schedule."""

from __future__ import annotations

import streamlit as st

from analytics.services.bulletin import choose_rank_by
from dashboard import bulletin_ui, cached_tables, charts, sidebar, ui, views
from dashboard.downloads import show_chart, show_table
from dashboard.labels import t

ui.page_header("page.progress", t("progress.caption"))

as_of = cached_tables.as_of_or_latest(sidebar.as_of())
if as_of is None:
    st.info(t("progress.no_reports"))
    st.stop()

period = ui.bind_choice("period", "week", views.PERIODS)
try:
    report_date, issue, interim = cached_tables.bulletin_date(as_of, kind=period)
    # like the bulletin: ranked by start rate while compounds remain to start, then by completion rate
    default_rank_by = choose_rank_by(cached_tables.county_progress(as_of=report_date))
except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
    ui.show_error(exc)
    st.stop()
rank_by = ui.bind_choice("rank_by", default_rank_by, views.RANK_INDICATORS)
order = ui.bind_choice("order", "official", views.ORDERS)

top = st.columns([2, 2, 2])
top[0].radio(t("progress.period"), views.PERIODS, key="period", horizontal=True,
             format_func=lambda p: t(f"progress.period.{p}"))
top[1].selectbox(t("progress.rank_by"), views.RANK_INDICATORS, key="rank_by",
                 format_func=lambda i: t(f"progress.ind.{i}"))
top[2].radio(t("progress.order"), views.ORDERS, key="order", horizontal=True,
             format_func=lambda o: t(f"progress.order.{o}"))

try:
    frame = cached_tables.county_progress(as_of=report_date, rank_by=rank_by)
except Exception as exc:  # noqa: BLE001
    ui.show_error(exc)
    st.stop()
plan_year = frame.attrs["plan_year"]

st.caption(t(f"progress.issue.{period}", year=report_date.year, n=issue, as_of=report_date.isoformat()))
if interim:
    st.caption(t("progress.issue.interim"))

for card, (label, value, delta) in zip(st.columns(5), views.progress_kpis(frame, period=period)):
    card.metric(label, value, delta, border=True)

st.subheader(t("progress.bulletin"))  # the 周调度 / 月通报 of this period: evaluation, preview, Word and PDF
bulletin_ui.bulletin_panel(as_of=as_of, kind=period, rank_by=rank_by)

st.subheader(t("progress.ranking"))
st.caption(t("progress.ranking_note"))
show_table(views.progress_ranking(frame, period=period, order=order), f"progress_ranking_{report_date}",
           key="progress-ranking", column_config=views.progress_column_config())
with st.expander(t("progress.outputs")):
    show_table(views.progress_outputs(frame, order=order), f"progress_outputs_{report_date}", key="progress-outputs",
               column_config=views.progress_column_config())

st.subheader(t("progress.plan_vs_actual"))
fig, data = views.plan_vs_actual_figure(frame)
views.styled(fig, title=t("progress.plan_vs_actual.title"), unit=t("progress.weekly.unit"), as_of=report_date)
show_chart(fig, data, f"progress_plan_vs_actual_{report_date}", key="progress-plan")

st.divider()
units = views.unit_options(frame)
unit = ui.bind_choice("unit", units[0], units)
st.selectbox(t("progress.unit_select"), units, key="unit", format_func=views.unit_name)

left, right = st.columns([1, 1])
with left:
    st.subheader(t("progress.weekly"))
    try:
        series = cached_tables.weekly_series(plan_year=plan_year, unit_code=unit, until=report_date)
    except Exception as exc:  # noqa: BLE001
        ui.show_error(exc)
    else:
        fig = charts.weekly_progress_chart(series)
        views.styled(fig, title=t("progress.weekly.title", unit=views.unit_name(unit), year=plan_year),
                     unit=t("progress.weekly.unit"), as_of=report_date)
        show_chart(fig, views.weekly_table(series), f"progress_weekly_{unit}_{plan_year}", key="progress-weekly")
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
