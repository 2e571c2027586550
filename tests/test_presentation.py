"""The presentation (汇报模式): the slide list an administrator sets, the slides' figures, the county filter,
paging, and the HTML bar charts the slides draw."""

from __future__ import annotations

import re
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from analytics import settings, store
from analytics.errors import InputError, PermissionDenied
from analytics.progress import behind_schedule, county_progress
from analytics.services import auth
from analytics.services import presentation as slides_setting
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import present
from tests.page_helpers import ROOT, build_accounts_db, open_page, rerun, sign_in_session, task_note, year_task

ADMIN = auth.User("cli:test", "admin")
EDITOR = auth.User("rencheng", "county_editor", county_code="370811")
AS_OF = date(2026, 11, 27)  # the demo's today: the current year, counties behind


@pytest.fixture
def con(tmp_path):
    con = store.connect(tmp_path / "slides.duckdb")
    yield con
    con.close()


# ------------------------------------------------------------------------------------------- the setting
def test_default_list_until_an_administrator_chooses(con):
    assert slides_setting.load_slides(con) == list(settings.PRESENTATION_SLIDES)
    chosen = ["ranking", "overview"]
    assert slides_setting.save_slides(con, chosen, user=ADMIN) == chosen
    assert slides_setting.load_slides(con) == chosen
    stored = con.execute("SELECT position, slide, updated_by FROM presentation_slides ORDER BY 1").fetchall()
    assert stored == [(0, "ranking", "cli:test"), (1, "overview", "cli:test")]
    audit = con.execute("SELECT action, rows_written FROM audit_log WHERE action = 'presentation_slides'").fetchall()
    assert audit == [("presentation_slides", 2)]


def test_the_default_order_is_stored_as_no_list(con):
    slides_setting.save_slides(con, ["land"], user=ADMIN)
    slides_setting.save_slides(con, list(settings.PRESENTATION_SLIDES), user=ADMIN)
    assert con.execute("SELECT count(*) FROM presentation_slides").fetchone()[0] == 0
    # a slide added to the default later reaches it
    assert slides_setting.load_slides(con, known=[*settings.PRESENTATION_SLIDES, "money"]) == [
        *settings.PRESENTATION_SLIDES, "money"]


@pytest.mark.parametrize(("slides", "code"), [
    ([], "presentation.empty"), (["ranking", "nonsense"], "presentation.unknown"),
    (["ranking", "ranking"], "presentation.twice"),
])
def test_unusable_lists_are_refused_and_nothing_changes(con, slides, code):
    slides_setting.save_slides(con, ["behind", "ranking"], user=ADMIN)
    with pytest.raises(InputError, match="slides") as caught:
        slides_setting.save_slides(con, slides, user=ADMIN)
    assert caught.value.code == code
    assert slides_setting.load_slides(con) == ["behind", "ranking"]


def test_only_administrators_choose_the_slides(con):
    for user in (EDITOR, None):
        with pytest.raises(PermissionDenied):
            slides_setting.save_slides(con, ["ranking"], user=user)
    assert slides_setting.load_slides(con) == list(settings.PRESENTATION_SLIDES)


def test_a_stored_slide_the_dashboard_no_longer_has_is_left_out(con):
    slides_setting.save_slides(con, ["ranking", "behind"], user=ADMIN)
    assert slides_setting.load_slides(con, known=["overview", "ranking"]) == ["ranking"]
    assert slides_setting.load_slides(con, known=["overview"]) == ["overview"]  # nothing left: the default


def test_every_default_slide_can_be_drawn():
    assert list(present.SLIDES) == list(settings.PRESENTATION_SLIDES)


# ------------------------------------------------------------------------------------------ the bar chart
def test_bars_scale_to_the_highest_value_and_mark_the_chosen_unit():
    page = present.bars([("任城区", 1.0, "100%"), ("汶上县", 0.25, "25%"), ("<b>x</b>", float("nan"), "—")],
                        high=1.0, chosen="汶上县", line=(0.5, "全市 50%"))
    widths = [float(w) for w in re.findall(r"class='jiugai-bar' style='width:([0-9.]+)%", page)]
    assert widths == [100.0, 25.0, 0.0]
    assert page.count("#C0392B") == 1 and "font-weight:700" in page.split("汶上县")[0].rsplit("jiugai-bar-row", 1)[1]
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "* 0.5000)" in page and "全市 50%" in page


# ----------------------------------------------------------------------------------------------- the page
def slide_page(slide: str, **session):
    return open_page("pages/present.py", query={"slide": slide},
                     session={"as_of": AS_OF.isoformat(), "slide": slide, **session})


def markdown_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_each_slide_opens_with_its_period_and_the_demo_mark(demo_db_path):
    for slide in settings.PRESENTATION_SLIDES:
        at = slide_page(slide)
        assert at.title[0].value == present.slide_title(slide)
        text = markdown_text(at)
        assert f"{AS_OF.year}年度改造计划 · 截至 {AS_OF.isoformat()}" in text and "演示数据" in text
        position = list(settings.PRESENTATION_SLIDES).index(slide)
        assert f"{position + 1} / {len(settings.PRESENTATION_SLIDES)}" in text
        assert at.button(key="present-previous").disabled == (position == 0)
        assert at.button(key="present-next").disabled == (position == len(settings.PRESENTATION_SLIDES) - 1)


def test_ranking_slide_lists_every_unit_in_rank_order(demo_con):
    at = slide_page("ranking")
    expected = county_progress(demo_con, as_of=AS_OF)
    rank_by = "completion_rate" if expected.loc[expected.kind == "city", "start_rate_compounds"].iloc[0] >= 1 \
        else "start_rate_compounds"
    expected = county_progress(demo_con, as_of=AS_OF, rank_by=rank_by)
    table = next(m.value for m in at.markdown if "jiugai-table" in m.value)
    rows = re.findall(r"<tr class='[^']*'><td class='[^']*'>([^<]*)</td><td class='[^']*'>([^<]*)</td>"
                      r"<td class='figure'>([^<]*)</td>", table)
    units = expected[expected.kind != "city"].sort_values(["rank", "unit_code"])
    assert [(r, v) for r, _, v in rows[:-1]] == [(str(int(k)), f"{x * 100:.1f}%") for k, x in zip(units["rank"], units[rank_by])]
    assert rows[-1][1] == "全市"


def test_a_county_filter_reaches_the_following_slides(demo_con):
    late = behind_schedule(demo_con, as_of=AS_OF)
    code = late["unit_code"].value_counts().index[0]  # the county with most compounds behind schedule
    name = settings.COUNTIES[code][0]
    at = slide_page("overview", county=code)
    assert f"筛选：{name}" in markdown_text(at)
    task = year_task(demo_con, AS_OF.year, code)  # the county's cards: its own targets, its list beside them
    assert [m.delta for m in at.metric[:2]] == [task_note(*task["compounds"], "个"), task_note(*task["households"], "户")]
    assert at.button(key="present-clear")
    at.button(key="present-next").click().run()
    assert at.session_state["slide"] == "ranking"
    table = next(m.value for m in at.markdown if "jiugai-table" in m.value)
    assert re.search(rf"<tr class='jiugai-chosen'><td class='num'>[0-9]+</td><td class=''>{name}</td>", table)
    at.button(key="present-next").click().run()
    text = markdown_text(at)
    assert f"<div class='jiugai-big'>{int((late.unit_code == code).sum())}</div>" in text
    table = next(m.value for m in at.markdown if "jiugai-table" in m.value)
    listed = re.findall(r"<tr class=''><td class=''>([^<]*)</td><td class=''>([^<]*)</td>", table)
    assert listed and {unit for _, unit in listed} == {name}
    assert {compound for compound, _ in listed} <= set(late.loc[late.unit_code == code, "name"])
    at.button(key="present-clear").click().run()
    assert at.session_state["county"] == "" and "筛选" not in markdown_text(at)
    assert f"<div class='jiugai-big'>{len(late)}</div>" in markdown_text(at)


def test_overview_slide_states_the_years_targets_and_what_is_done_against_them(demo_con):
    at = slide_page("overview")
    year, as_of = stated_period(at)
    task = year_task(demo_con, year)
    assert at.metric[0].delta == "清单 150 个 · 目标 152 个"  # the demo's 2026 list against its target
    assert at.metric[1].delta == task_note(*task["households"], "户")
    assert (at.metric[2].label, at.metric[2].value) == ("目标建筑面积（万m²）", f"{task['floor_area_m2'][0] / 1e4:,.2f}")
    completed = demo_con.execute(
        "SELECT count(*) FROM (SELECT arg_max(r.status, r.report_date) AS status FROM progress_reports r "
        "JOIN compounds c ON c.id = r.compound_id WHERE c.plan_year = ? AND r.report_date <= ? GROUP BY r.compound_id) "
        "WHERE status = '已完工'", [year, as_of]).fetchone()[0]
    assert at.metric[4].value == f"{completed / task['compounds'][0] * 100:.1f}%"
    assert any(c.value.startswith("年度目标：152 个小区") for c in at.caption)


def test_behind_slide_lists_the_findings_past_their_deadline(demo_con):
    at = slide_page("behind")
    _, as_of = stated_period(at)
    # open on the date (found by then, not closed by then) and due before it; the longest overdue first
    overdue = demo_con.execute(
        """SELECT unit_code, date_diff('day', deadline, $d) AS days FROM findings
           WHERE found_date <= $d AND deadline < $d
             AND NOT (coalesce(closed_date <= $d, false) OR (closed_date IS NULL AND status = '已销号'))
           ORDER BY days DESC, found_date, id""", {"d": as_of}).fetchall()
    assert overdue  # the demo plants overdue findings
    text = markdown_text(at)
    assert f"督导问题逾期未整改 {len(overdue)} 个" in text
    table = [m.value for m in at.markdown if "jiugai-table" in m.value][-1]
    rows = re.findall(r"<tr class=''><td class=''>([^<]*)</td><td class=''>[^<]*</td><td class=''>[^<]*</td>"
                      r"<td class='num'>超期 ([0-9]+) 天</td>", table)
    assert rows == [(unit_name(code), str(days)) for code, days in overdue[:present.FINDING_ROWS]]


def test_paging_stops_at_both_ends_and_the_slide_follows_the_url(demo_db_path):
    at = slide_page(settings.PRESENTATION_SLIDES[-1])
    assert at.button(key="present-next").disabled
    at.button(key="present-previous").click().run()
    assert at.session_state["slide"] == settings.PRESENTATION_SLIDES[-2]
    assert at.query_params["slide"] == settings.PRESENTATION_SLIDES[-2]
    rerun(at)


# ------------------------------------------------------------------------------------- the admin's choice
@pytest.fixture
def accounts(tmp_path, monkeypatch):
    path = build_accounts_db(tmp_path / "accounts.duckdb", admin_password="admin-password-1",
                             editor_password="editor-password-1", actor=auth.User("cli:root", "admin"))
    monkeypatch.setattr(settings, "DB_PATH", path)
    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)
    return path


def test_an_administrator_orders_the_slides_on_the_admin_page(accounts):
    at = sign_in_session(AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=120), accounts, "admin1")
    at.run()
    assert not at.exception, at.exception
    assert at.multiselect(key="admin_present_slides").value == list(settings.PRESENTATION_SLIDES)
    at.multiselect(key="admin_present_slides").set_value(["ranking", "overview"]).run()
    at.button(key="admin-present-save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    con = store.connect(accounts)
    try:
        assert slides_setting.load_slides(con) == ["ranking", "overview"]
    finally:
        con.close()
    at.multiselect(key="admin_present_slides").set_value([]).run()
    at.button(key="admin-present-save").click().run()
    assert [e.value for e in at.error] == [t("common.error", msg=t("error.presentation.empty"))]


def stated_period(at) -> tuple[int, date]:
    """The plan year and as-of date the slide says its figures are for."""
    year, as_of = re.search(r"(\d{4})年度改造计划 · 截至 (\d{4}-\d{2}-\d{2})", markdown_text(at)).groups()
    return int(year), date.fromisoformat(as_of)


def test_funding_slide_shows_each_countys_money_against_its_planned_investment(demo_con):
    at = slide_page("funding")
    year, _ = stated_period(at)
    paid = dict(demo_con.execute(
        "SELECT c.county_code, sum(f.amount_wan) FROM funding f JOIN compounds c ON c.id = f.compound_id "
        "WHERE c.plan_year = ? GROUP BY 1", [year]).fetchall())
    planned = dict(demo_con.execute(
        "SELECT county_code, sum(invest_planned_wan) FROM compounds WHERE plan_year = ? GROUP BY 1", [year]).fetchall())
    chart = next(m.value for m in at.markdown if "class='jiugai-bars'" in m.value)
    shown = re.findall(r"jiugai-bar-name'>([^<]*)</div>.*?jiugai-bar-value'[^>]*>([^<]*)</span>", chart)
    assert len(shown) == len(paid) > 0
    names = {settings.COUNTIES[code][0]: code for code in paid}
    for name, text in shown:
        code = names[name]
        assert text == f"{paid[code]:,.2f}（{paid[code] / planned[code] * 100:.1f}%）", name


def test_programme_slide_shows_each_units_share_of_its_planned_area_done(demo_con):
    at = slide_page("programme")
    _, as_of = stated_period(at)
    # completed ÷ planned floor area of the plan years up to the as-of date's, per reporting unit (a function
    # zone or else the county), the status being the latest report on or before the date
    last = demo_con.execute(
        "SELECT compound_id, arg_max(status, report_date) AS status FROM progress_reports WHERE report_date <= ? "
        "GROUP BY 1", [as_of]).df().set_index("compound_id")["status"]
    compounds = demo_con.execute("SELECT id, coalesce(zone_code, county_code) AS unit, floor_area_m2 FROM compounds "
                                 "WHERE plan_year <= ?", [as_of.year]).df()
    compounds["done"] = compounds["id"].map(last).eq("已完工")
    by = compounds.groupby("unit")
    share = (by.apply(lambda g: g.loc[g["done"], "floor_area_m2"].sum()) / by["floor_area_m2"].sum())
    chart = next(m.value for m in at.markdown if "class='jiugai-bars'" in m.value)
    shown = dict(re.findall(r"jiugai-bar-name'>([^<]*)</div>.*?jiugai-bar-value'[^>]*>([^<]*)</span>", chart))
    assert len(shown) == len(share)
    for code, value in share.items():
        assert shown[unit_name(code)] == f"{value * 100:.1f}%", code


def test_programme_slide_of_a_county_shows_its_own_targets(demo_con):
    at = slide_page("programme", county="370811")
    cards = {m.label: m.value for m in at.metric}
    goal = demo_con.execute("SELECT sum(floor_area_m2) FROM annual_targets WHERE unit_code = '370811' "
                            "AND year BETWEEN 2020 AND 2025").fetchone()[0]
    assert "“十四五”目标（2020–2025，万m²）" not in cards
    assert cards["年度目标合计（2020–2025，万m²）"] == f"{goal / 1e4:,.2f}"
    planned = demo_con.execute("SELECT sum(floor_area_m2) FROM compounds WHERE coalesce(zone_code, county_code) = "
                               "'370811' AND plan_year BETWEEN 2020 AND 2025").fetchone()[0]
    assert cards["已列入计划（2020–2025，万m²）"] == f"{planned / 1e4:,.2f}"
