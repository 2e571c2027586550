"""Plan builder page (年度计划编制): what it shows equals ``analytics.planning.build_plan`` for the same inputs;
shortfalls explained; scenarios compared; the 年度改造计划表 workbook; an admin adopts and undoes."""

from __future__ import annotations

import io
import shutil
from datetime import date

import pytest
import streamlit as st
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from analytics import planning, priority, settings, store
from analytics.services import auth
from dashboard.labels import t
from dashboard.views import plan as page
from tests.page_helpers import (
    APP,
    assert_clean,
    build_accounts_db,
    open_page,
    sign_in_session,
    table_with,
    use_copy,
)

PAGE = "pages/plan.py"
BUDGET = 30_000.0
QUERY = {"plan_budget": str(BUDGET), "plan_bundling": "street", "plan_first": "True"}
ADMIN = auth.User("setup", "admin")
POOL_SIZE = 300


@pytest.fixture(scope="module")
def pool_db(demo_db_path, tmp_path_factory):
    """The demo database with a candidate pool of at least ``POOL_SIZE`` compounds, opened by the app.

    Compounds without a plan year are the pool; while the demo holds fewer, the newest batch's compounds
    (not started) are made candidates.
    """
    path = tmp_path_factory.mktemp("plan") / "plan.duckdb"
    shutil.copyfile(demo_db_path, path)
    con = store.connect(path)
    try:
        short = POOL_SIZE - con.execute("SELECT count(*) FROM compounds WHERE plan_year IS NULL").fetchone()[0]
        if short > 0:
            con.execute(
                """UPDATE compounds SET plan_year = NULL, status = '未开工', approved_date = NULL, start_date = NULL,
                       completion_date = NULL, project_id = NULL
                   WHERE id IN (SELECT id FROM compounds WHERE plan_year IS NOT NULL
                                ORDER BY plan_year DESC, id LIMIT ?)""", [short])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "DB_PATH", path)
        st.cache_data.clear()  # the copy shares the demo's data version
        yield path
    st.cache_data.clear()


@pytest.fixture(scope="module")
def compounds(pool_db):
    con = store.connect(pool_db, read_only=True)
    try:
        return store.read_layer(con, "compounds")
    finally:
        con.close()


@pytest.fixture(scope="module")
def year(compounds) -> int:
    """The page's default plan year: the one after the newest plan year."""
    return int(compounds["plan_year"].max()) + 1


def expected_plan(compounds, year, **changes) -> planning.Plan:
    """What the page computes for ``QUERY`` (and ``changes``), called directly."""
    pool = planning.pool_of(compounds, year=year)
    options = {"budget_wan": BUDGET, "year": year, "first_tier_first": True, "min_willingness": 0.667,
               "min_county_share": settings.PLAN_FAIR_SHARE, "objective": "score",
               "weights": {k: round(v * 100) for k, v in priority.DEFAULT_WEIGHTS.items()},
               "bundles": planning.bundles_by_area(pool, by="street"), **changes}
    return planning.build_plan(pool, **options)


def test_the_page_shows_the_plan_build_plan_makes(compounds, year):
    at = open_page(PAGE, query=QUERY)
    plan = expected_plan(compounds, year)
    assert len(planning.pool_of(compounds, year=year)) >= 300  # the demo's candidate pool
    assert at.number_input(key="plan_year").value == year
    city = plan.totals.set_index("unit_code").loc[settings.CITY_UNIT_CODE]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["入选小区"] == f"{len(plan.chosen):,}"
    assert metrics["惠及户数"] == f"{round(city['households']):,}"
    assert metrics["计划投资（万元）"] == f"{city['net_cost_wan']:,.2f}"
    assert [s.value for s in at.success] == ["已求得最优方案。"]

    chosen = table_with(at, "所属片区/项目")
    assert chosen["小区编号"].tolist() == plan.chosen["id"].tolist()
    assert chosen["计划投资（万元）"].tolist() == pytest.approx(plan.chosen["net_cost_wan"].round(2).tolist())
    assert chosen["入选原因"].tolist() == [page.reason_text(c, d) for c, d in zip(plan.chosen["reason"], plan.chosen["detail"])]
    rejected = table_with(at, "符合条件")
    assert rejected["小区编号"].tolist() == plan.rejected["id"].tolist()
    assert rejected["未入选原因"].tolist() == [page.reason_text(c, d, in_ranking=g) for c, d, g in zip(
        plan.rejected["reason"], plan.rejected["detail"], plan.rejected["in_greedy"])]
    assert rejected["未入选原因"].str.startswith("按排名本可入选").sum() == (plan.rejected["in_greedy"]
                                                                   & (plan.rejected["reason"] == "budget")).sum()


def test_the_demos_2027_list_under_a_budget(compounds, year):
    """The demo's own candidate pool (its compounds without a plan year: none made up by ``pool_db``) gives the
    2027 list under a 3 亿 budget: optimal, within the budget, every candidate in or out with a reason."""
    unplanned, newest = int(compounds["plan_year"].isna().sum()), int(compounds["plan_year"].max())
    assert unplanned >= POOL_SIZE and year == newest + 1 == 2027
    at = open_page(PAGE, query=QUERY)
    assert at.number_input(key="plan_year").value == 2027
    plan = expected_plan(compounds, year)
    assert plan.status == "optimal" and [s.value for s in at.success] == ["已求得最优方案。"]
    assert plan.chosen["net_cost_wan"].sum() <= BUDGET + 1e-6
    assert len(plan.chosen) + len(plan.rejected) == len(planning.pool_of(compounds, year=year)) == unplanned
    assert plan.chosen["reason"].ne("").all() and plan.rejected["reason"].ne("").all()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["入选小区"] == f"{len(plan.chosen):,}"
    assert table_with(at, "所属片区/项目")["小区编号"].tolist() == plan.chosen["id"].tolist()


def test_reason_labels_fill_in_both_languages():
    samples = {
        "willingness_below_min": {"willingness_pct": 55.0, "min_pct": 200 / 3},
        "already_planned": {"plan_year": 2025},
        "already_started": {"status": "已开工"},
        "too_expensive": {"cost_wan": 900.0, "limit_wan": 500.0},
        "budget": {"cost_wan": 700.0, "remaining_wan": 250.0, "short_wan": 450.0},
        "county_budget": {"unit_code": "370811", "cost_wan": 700.0, "remaining_wan": 100.0, "short_wan": 600.0},
        "bundle_budget": {"bundle_name": "东片", "cost_wan": 950.0, "remaining_wan": 150.0, "short_wan": 800.0},
        "needed_for_target": {"unit_code": settings.CITY_UNIT_CODE, "measure": "households", "rank": 5},
        "needed_for_fair_share": {"unit_code": "370812", "measure": "net_cost_wan", "rank": 5},
        "bundle": {"bundle_name": "古槐片区", "saving_pct": 15.0, "rank": 3},
        "ranking": {"rank": 1},
        "optimiser": {"rank": 4},
    }
    for code in (*planning.INELIGIBLE_REASONS, *planning.LEFT_OUT_REASONS, *planning.CHOSEN_REASONS):
        for lang in ("zh", "en"):
            st.session_state["lang"] = lang
            try:
                text = page.reason_text(code, samples.get(code, {}))
            finally:
                del st.session_state["lang"]
            assert text and text != code and "{" not in text, (code, lang, text)
    assert page.reason_text("budget", samples["budget"]) == "预算余额 250 万元，不足其 700 万元（差 450 万元）"
    assert page.reason_text("needed_for_target", samples["needed_for_target"]) == "完成全市户数目标所需"
    assert page.reason_text("county_budget", samples["county_budget"]).startswith("任城区预算余额 100 万元")
    assert page.reason_text("built_after_cutoff;demolition_planned", {}) == "建成于2005年12月31日之后；已列入征收拆除计划"


def test_unreachable_target_is_explained(compounds, year):
    pool = planning.pool_of(compounds, year=year)
    plan = expected_plan(compounds, year)
    need = int(plan.totals.set_index("unit_code").at[settings.CITY_UNIT_CODE, "households"] * 3)
    assert need < pool["households"].sum()
    at = open_page(PAGE, query={**QUERY, "plan_targets": "manual", "plan_t_households": str(need)}, clean=False)
    expected = expected_plan(compounds, year, targets={"households": need})
    assert expected.status == "infeasible"
    row = expected.shortfalls.iloc[0]
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert errors[0].startswith("以下要求在预算内无法全部满足")
    assert f"全市户数目标 {need:,}，最多可达 {round(row['reachable']):,}，差 {round(row['short_by']):,}。" in errors[0]


def test_a_target_above_the_pool_is_refused_in_words(compounds, year):
    pool = planning.pool_of(compounds, year=year)
    held = int(pool.loc[pool["demolition_planned"].ne(True), "households"].sum())
    at = open_page(PAGE, query={**QUERY, "plan_targets": "manual", "plan_t_households": str(held * 2)}, clean=False)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "全市的户数目标（" + f"{held * 2:,}" + "）超过符合条件的候选小区合计" in errors[0]
    assert not at.metric  # nothing computed, nothing shown as if it were a plan


def test_scenarios_side_by_side(compounds, year):
    at = open_page(PAGE, query=QUERY)
    at.text_input(key="plan_scenario_name").set_value("3亿")
    at.button(key="plan_scenario_save").click().run()
    at.number_input(key="plan_budget").set_value(40_000.0).run()
    assert_clean(at)
    shown = table_with(at, "户数差")
    current, saved = expected_plan(compounds, year, budget_wan=40_000.0), expected_plan(compounds, year)
    summary, _ = planning.compare_plans({"当前设置": current, "3亿": saved})
    assert shown["方案"].tolist() == ["当前设置", "3亿"]
    assert shown["户数"].tolist() == summary["households"].round().astype(int).tolist()
    assert shown["户数差"].tolist() == summary["d_households"].round().astype(int).tolist()
    assert shown["设置"].tolist()[1] == "预算（万元） 30,000.00"


def test_stored_targets_are_the_default_and_caps_apply(pool_db, tmp_path, monkeypatch, compounds, year):
    path = use_copy(pool_db, tmp_path / "targets.duckdb", monkeypatch)
    con = store.connect(path)
    try:
        con.execute("INSERT INTO annual_targets (year, unit_code, compounds, households, investment_wan, source) "
                    "VALUES (?, ?, 20, 3000, 30000, '省下达'), (?, '370811', 5, NULL, 6000, '省下达')",
                    [year, settings.CITY_UNIT_CODE, year])
        targets = con.execute("SELECT unit_code, compounds, households, floor_area_m2, investment_wan, source "
                              "FROM annual_targets WHERE year = ? ORDER BY unit_code", [year]).fetchdf()
    finally:
        con.close()
    st.cache_data.clear()
    try:
        at = open_page(PAGE, query={**QUERY, "plan_caps": "True"})
        assert at.radio(key="plan_targets").value == "stored"
        expected = expected_plan(compounds, year, targets=targets, county_budget_wan={"370811": 6000.0})
        assert expected.totals.set_index("unit_code").at["370811", "budget_wan"] == 6000
        chosen = table_with(at, "所属片区/项目")
        assert chosen["小区编号"].tolist() == expected.chosen["id"].tolist()
        counties = table_with(at, "最低份额（万元）").set_index("县市区")
        assert counties.at["任城区", "目标小区数"] == 5 and counties.at["任城区", "预算上限（万元）"] == 6000
        assert counties.at["全市", "目标户数"] == 3000
    finally:
        st.cache_data.clear()


def test_plan_workbook_in_the_office_layout(compounds, year):
    plan = expected_plan(compounds, year)
    book = load_workbook(io.BytesIO(page.plan_xlsx(plan, year=year, demo=True)))
    ws = book.active
    assert ws.title == "年度改造计划表"
    assert ws["A1"].value == f"济宁市{year}年度老旧小区改造计划表（演示数据）"
    header = [c.value for c in ws[3]]
    assert header == ["序号", "县市区", "项目名称", "小区名称", "建成年代", "楼栋数", "户数", "建筑面积", "改造类型",
                      "主要改造内容", "估算投资", "计划开工", "计划竣工"]
    table = planning.plan_table(plan, year=year)
    rows = list(ws.iter_rows(min_row=4, max_row=3 + len(table), values_only=True))
    assert [r[0] for r in rows] == list(range(1, len(table) + 1))
    assert [r[3] for r in rows] == table["name"].tolist()
    assert [r[6] for r in rows] == table["households"].tolist()
    assert rows[0][11].date() == date(year, 4, 1) and rows[0][12].date() == date(year, 12, 31)
    total = [c.value for c in ws[4 + len(table)]]
    assert total[0] == "合计"
    assert total[6] == pytest.approx(plan.chosen["households"].sum())
    assert total[10] == pytest.approx(plan.chosen["net_cost_wan"].sum(), abs=0.05)


@pytest.fixture
def admin_db(pool_db, tmp_path, monkeypatch):
    path = use_copy(pool_db, tmp_path / "admin.duckdb", monkeypatch)
    build_accounts_db(path, admin_password="plan-admin-pass-1", editor_password="plan-editor-pass-1", actor=ADMIN)
    st.cache_data.clear()  # the copy shares the demo's data version
    yield path
    st.cache_data.clear()


def _page_as(db, username: str | None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(QUERY)
    at.run()
    at.switch_page(PAGE)
    sign_in_session(at, db, username)
    at.run()
    assert_clean(at)
    return at


def test_an_admin_adopts_the_plan_and_undoes_it(admin_db, compounds, year):
    at = _page_as(admin_db, "admin1")
    plan = expected_plan(compounds, year)
    con = store.connect(admin_db)
    try:
        before = con.execute("SELECT id, plan_year FROM compounds ORDER BY id").fetchall()
    finally:
        con.close()
    assert at.button(key="plan_adopt").disabled  # not before the confirmation
    at.checkbox(key="plan_adopt_confirm").check().run()
    at.button(key="plan_adopt").click().run()
    assert_clean(at)
    assert any(s.value.startswith(f"已采纳为{year}年度计划：{len(plan.chosen)} 个小区") for s in at.success)
    con = store.connect(admin_db)
    try:
        planned = set(con.execute("SELECT id FROM compounds WHERE plan_year = ?", [year]).fetchdf()["id"])
        targets = con.execute("SELECT households FROM annual_targets WHERE year = ? AND unit_code = ?",
                              [year, settings.CITY_UNIT_CODE]).fetchone()
    finally:
        con.close()
    assert planned == set(plan.chosen["id"])
    assert targets == (round(plan.chosen["households"].sum()),)
    at.button(key="plan_undo").click().run()
    assert_clean(at)
    assert [s.value for s in at.success][-1] == "已撤销采纳，数据已恢复到采纳前。"
    con = store.connect(admin_db)
    try:
        assert con.execute("SELECT id, plan_year FROM compounds ORDER BY id").fetchall() == before
    finally:
        con.close()


@pytest.mark.parametrize("username", [None, "rencheng"])
def test_only_an_admin_sees_the_adoption(admin_db, username):
    at = _page_as(admin_db, username)
    assert not [b for b in at.button if b.key == "plan_adopt"]
    assert t("plan.adopt_admin_only") in [i.value for i in at.info]


def test_english_labels(pool_db):
    at = open_page(PAGE, query=QUERY, session={"lang": "en"})
    labels = {m.label for m in at.metric}
    assert {"Compounds chosen", "Households", "Investment (10k yuan)"} <= labels
    assert "Why in" in table_with(at, "Area / project").columns


def test_plan_workbook_keeps_formula_like_names_as_text(compounds, year):
    """A compound named like a formula (a valid import) reaches the 计划表 as text, never as a live formula."""
    import re
    import zipfile

    hostile = '=HYPERLINK("http://evil.example/x","点击")'
    renamed = compounds.copy()
    renamed["name"] = hostile
    plan = expected_plan(renamed, year)
    data = page.plan_xlsx(plan, year=year, demo=True)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert re.findall(rb"<f[ >]", sheet) == []
    names = [r[3] for r in load_workbook(io.BytesIO(data)).active.iter_rows(min_row=4, values_only=True)]
    assert hostile in names
