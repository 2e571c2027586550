"""县区进度 County progress: the weekly dispatch / monthly bulletin ranking, the weekly trend against the plan,
plan and actual per county, and the compounds behind schedule."""

from __future__ import annotations

import streamlit as st

from analytics.services.bulletin import choose_rank_by
from dashboard import bulletin_ui, charts, handout, sidebar, state, ui
from dashboard.downloads import show_chart, show_table
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import progress as page

ui.page_header("page.progress", t("progress.caption"))

as_of = state.as_of_or_latest(sidebar.as_of())
if as_of is None:
    st.info(t("progress.no_reports"))
    st.stop()

period = ui.bind_choice("period", "week", page.PERIODS)
report_date, issue, interim = ui.attempt(page.bulletin_date, as_of, kind=period)
# like the bulletin: ranked by start rate while compounds remain to start, then by completion rate
default_rank_by = choose_rank_by(ui.attempt(page.county_progress, as_of=report_date))
rank_by = ui.bind_choice("rank_by", default_rank_by, page.RANK_INDICATORS)
order = ui.bind_choice("order", "official", page.ORDERS)

top = st.columns([2, 2, 2])
top[0].radio(t("progress.period"), page.PERIODS, key="period", horizontal=True,
             format_func=lambda p: t(f"progress.period.{p}"))
top[1].selectbox(t("progress.rank_by"), page.RANK_INDICATORS, key="rank_by",
                 format_func=lambda i: t(f"progress.ind.{i}"))
top[2].radio(t("progress.order"), page.ORDERS, key="order", horizontal=True,
             format_func=lambda o: t(f"progress.order.{o}"))

frame = ui.attempt(page.county_progress, as_of=report_date, rank_by=rank_by, all_units=True)
plan_year = frame.attrs["plan_year"]

issue_line = t(f"progress.issue.{period}", year=report_date.year, n=issue, as_of=report_date.isoformat())
st.caption(issue_line)
if interim:
    st.caption(t("progress.issue.interim"))

units = page.unit_options(frame)
unit = ui.bind_choice("unit", units[0], units)  # the county chosen below; its widget comes with the trend chart
ui.metric_cards(page.progress_kpis(frame, period=period, unit_code=unit))

st.subheader(t("progress.bulletin"))  # the 周调度 / 月通报 of this period: evaluation, preview, Word and PDF
bulletin_ui.bulletin_panel(as_of=as_of, kind=period, rank_by=rank_by)

st.subheader(t("progress.ranking"))
st.caption(t("progress.ranking_note"))
show_table(page.progress_ranking(frame, period=period, order=order), f"progress_ranking_{report_date}",
           key="progress-ranking", column_config=page.progress_column_config(),
           key_columns_shown=page.ranking_key_columns(rank_by))
handout.buttons(page.ranking_handout(frame, period=period, rank_by=rank_by, issue_line=issue_line),
                f"progress_ranking_{report_date}", key="progress-handout")
with st.expander(t("progress.outputs")):
    show_table(page.progress_outputs(frame, order=order), f"progress_outputs_{report_date}", key="progress-outputs",
               column_config=page.progress_column_config())

st.subheader(t("progress.plan_vs_actual"))
fig, data = page.plan_vs_actual_figure(frame)
ui.styled(fig, title=t("progress.plan_vs_actual.title"), unit=t("progress.weekly.unit"), as_of=report_date)
show_chart(fig, data, f"progress_plan_vs_actual_{report_date}", key="progress-plan")

st.divider()
st.selectbox(t("progress.unit_select"), units, key="unit", format_func=unit_name)

left, right = st.columns([1, 1])
with left:
    st.subheader(t("progress.weekly"))
    series = ui.attempt(page.weekly_series, plan_year=plan_year, unit_code=unit, until=report_date, stop=False)
    if series is not None:
        fig = charts.weekly_progress_chart(series)
        ui.styled(fig, title=t("progress.weekly.title", unit=unit_name(unit), year=plan_year),
                     unit=t("progress.weekly.unit"), as_of=report_date)
        show_chart(fig, page.weekly_table(series), f"progress_weekly_{unit}_{plan_year}", key="progress-weekly")
with right:
    st.subheader(t("progress.behind"))
    st.caption(t("progress.behind.caption", as_of=report_date.isoformat()))
    behind = ui.attempt(page.behind_schedule, as_of=report_date, unit_code=unit, stop=False)
    if behind is not None:
        if behind.empty:
            st.success(t("progress.behind.none"))
        else:
            st.markdown(t("progress.behind.count", n=len(behind)))
            show_table(page.behind_table(behind), f"progress_behind_{unit}_{report_date}", key="progress-behind")

# ----------------------------------------------------------- projects, money paid, after-care, findings
st.divider()
st.subheader(t("followup.heading"))
st.caption(t("followup.unit_note", unit=unit_name(unit)))  # the lists follow the county chosen above
projects_tab, money_tab, aftercare_tab, findings_tab = st.tabs(
    [t("followup.tab.projects"), t("followup.tab.money"), t("followup.tab.aftercare"), t("followup.tab.findings")]
)

with projects_tab:
    st.caption(t("followup.projects.caption", year=plan_year, as_of=report_date.isoformat()))
    projects = ui.attempt(page.project_progress, as_of=report_date, plan_year=plan_year, stop=False)
    if projects is not None:
        projects = page.of_unit(projects, unit)
        if projects.empty:
            st.info(t("followup.projects.none"))
        else:
            show_table(page.projects_table(projects), f"progress_projects_{unit}_{plan_year}_{report_date}",
                       key="progress-projects")

with money_tab:
    st.caption(t("followup.money.caption", year=plan_year, as_of=report_date.isoformat()))
    by_unit = ui.attempt(page.money_flow, as_of=report_date, by=("unit_code",), plan_year=plan_year, stop=False)
    if by_unit is not None:
        if int(by_unit["n_flows"].sum()) == 0:
            st.info(t("followup.money.none"))
        else:
            ui.metric_cards(page.money_kpis(by_unit))
            fig, data = page.money_figure(by_unit)
            ui.styled(fig, title=t("followup.money.chart.title"), unit=t("followup.unit.wan"), as_of=report_date)
            show_chart(fig, data, f"progress_money_{plan_year}_{report_date}", key="progress-money")
            show_table(data, f"progress_money_by_unit_{plan_year}_{report_date}", key="progress-money-units")
            st.markdown(f"**{t('followup.money.by_source')}**")
            by_source = page.money_flow(as_of=report_date, by=("source",), plan_year=plan_year)
            show_table(page.money_table(by_source, key="source"), f"progress_money_by_source_{plan_year}_{report_date}",
                       key="progress-money-sources")
    # money out of order, named as in the bulletin's 三、资金支付 (this year's and earlier years' money)
    problems = ui.attempt(page.money_order, report_date=report_date, plan_year=plan_year, stop=False)
    if problems is not None:
        st.markdown(f"**{t('followup.money.problems')}**")
        problems = page.of_unit(problems, unit)
        if problems.empty:
            st.success(t("followup.money.problems.none"))
        else:
            st.markdown(t("followup.money.problems.count", n=len(problems)))
            st.markdown("\n".join(f"- {line}" for line in page.money_problem_lines(problems, frame)))
            show_table(page.money_problems_table(problems), f"progress_money_problems_{unit}_{plan_year}_{report_date}",
                       key="progress-money-problems")

with aftercare_tab:
    st.caption(t("followup.aftercare.caption", as_of=report_date.isoformat()))
    after = ui.attempt(page.aftercare_on, as_of=report_date, stop=False)
    if after is not None:
        summary, done = after
        if summary.empty:
            st.info(t("followup.aftercare.none"))
        else:
            ui.metric_cards(page.aftercare_kpis(summary))
            fig, data = page.modes_figure(summary)
            ui.styled(fig, title=t("followup.aftercare.chart.title"), unit=t("followup.unit.compounds"),
                      as_of=report_date)
            show_chart(fig, data, f"progress_aftercare_{report_date}", key="progress-aftercare")
            show_table(data, f"progress_aftercare_by_unit_{report_date}", key="progress-aftercare-units")
            with st.expander(t("followup.aftercare.missing")):
                show_table(page.aftercare_missing_table(page.of_unit(done, unit)),
                           f"progress_aftercare_missing_{unit}_{report_date}",
                           key="progress-aftercare-missing")

with findings_tab:
    st.caption(t("followup.findings.caption", as_of=report_date.isoformat()))
    found = ui.attempt(page.findings_on, as_of=report_date, stop=False)
    if found is not None:
        still_open, per_unit = found
        still_open = page.of_unit(still_open, unit)
        if still_open.empty:
            st.success(t("followup.findings.none"))
        else:
            st.markdown(t("followup.findings.count", n=len(still_open), m=int(still_open["overdue"].sum())))
            show_table(page.findings_table(still_open), f"progress_findings_{unit}_{report_date}",
                       key="progress-findings")
        if not per_unit.empty:
            st.markdown(f"**{t('followup.findings.by_unit')}**")
            show_table(page.findings_summary_table(per_unit), f"progress_findings_by_unit_{report_date}",
                       key="progress-findings-units")
