"""Errors users can read: every code a domain error carries has a label in both languages that its
parameters fill, the dashboard shows the label (never the developer's English unless the label asks for
it), and the analyses raise the codes the calculator and the progress pages rely on."""

from __future__ import annotations

import ast
import string
from datetime import date
from pathlib import Path

import pytest

from analytics import progress, settings
from analytics.elevators import share_costs
from analytics.errors import DataError, ImportRejected, InputError, JiugaiError, PermissionDenied
from dashboard import ui
from dashboard.labels import _LABELS, t

ROOT = Path(settings.ROOT_DIR)
ERRORS = {"JiugaiError", "InputError", "CRSError", "DataError", "ImportRejected", "PermissionDenied",
          "SignInFailed", "SignInThrottled", "DatabaseLocked", "ExportUnavailable"}


def raised_codes() -> dict[str, set[str]]:
    """Every ``code="..."`` given to a domain error in analytics/ and dashboard/, with its keyword names."""
    found: dict[str, set[str]] = {}
    for path in [*ROOT.glob("analytics/**/*.py"), *ROOT.glob("dashboard/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in ERRORS and name != "__init__":
                continue
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            code = keywords.get("code")
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.setdefault(code.value, set()).update(k for k in keywords if k != "code")
    return found


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_raised_code_has_a_label_its_parameters_fill():
    codes = raised_codes()
    assert {"elevator.custom_zero", "progress.before_first_report", "permission.signed_out"} <= set(codes)
    for code, params in codes.items():
        key = f"error.{code}"
        assert key in _LABELS, f"no label for the error code {code!r}"
        for text in _LABELS[key]:
            missing = placeholders(text) - params - {"detail"}
            assert not missing, f"{key} shows {missing} but the error gives only {sorted(params)}"


def test_label_filled_in_both_languages():
    exc = InputError("`subsidy_wan` was 20.0 but must not exceed `cost_wan` 15.0.", code="elevator.subsidy_above_cost",
                     subsidy=20.0, cost=15.0)
    assert ui.error_text(exc) == "政府补贴（20 万元）不能超过电梯总费用（15 万元）。"
    import streamlit as st

    st.session_state["lang"] = "en"
    try:
        assert ui.error_text(exc) == "The subsidy (20) cannot exceed the elevator cost (15, 10k yuan)."
        listed = InputError("x", code="elevator.custom_empty", floors=[3, 4])
        assert ui.error_text(listed) == "The custom table has no value for floor(s) 3, 4; fill in every floor (0 for none)."
    finally:
        del st.session_state["lang"]
    assert ui.error_text(InputError("x", code="elevator.custom_empty", floors=[3, 4])) == (
        "自定义表第 3、4 层未填写数值；每层都要填写（不出资填 0）。"
    )


def test_parameters_that_are_codes_are_named():
    exc = InputError("…", code="elevator.preset_floors", preset="hangzhou", floors=9)
    assert ui.error_text(exc) == "杭州方案只规定了 1–6 层，本单元有 9 层；请改用“系数×面积”或自定义表。"
    denied = PermissionDenied("User 'v' (role 'viewer') may not import; nothing was changed.", code="permission.role",
                              permission="import", role="viewer")
    assert ui.error_text(denied).startswith("领导（只读）账号无权导入数据，未作任何修改。")


def test_an_error_without_a_label_shows_its_class_and_not_the_english():
    text = ui.error_text(InputError("`plan_year` was None but must be a year such as 2020."))
    assert text == t("error.input") and "plan_year" not in text
    assert ui.error_text(DataError("stored data is odd", code="no.such.code")) == t("error.data")
    assert ui.error_text(JiugaiError("?")) == t("error.error")


def test_an_import_refusal_names_its_kind():
    exc = ImportRejected("The zip member '../x.shp' has an unsafe path.", kind="zip_unsafe")
    assert exc.code == "import.zip_unsafe" and exc.kind == "zip_unsafe"
    assert ui.error_text(exc).startswith("压缩包不安全：")


# ------------------------------------------------------------------------------ codes the analyses raise
@pytest.mark.parametrize(
    ("kwargs", "code", "params"),
    [
        ({"cost_wan": 0.0}, "elevator.cost_zero", {}),
        ({"cost_wan": 15.0, "subsidy_wan": 20.0}, "elevator.subsidy_above_cost", {"subsidy": 20.0, "cost": 15.0}),
        ({"preset": "custom", "custom": {1: 0, 2: None, 3: None, 4: 1}}, "elevator.custom_empty", {"floors": [2, 3]}),
        ({"preset": "custom", "custom": {1: 0, 2: 0, 3: 1}}, "elevator.custom_empty", {"floors": [4]}),
        ({"preset": "custom", "custom": {1: -1, 2: 0, 3: -2, 4: 1}}, "elevator.custom_negative", {"floors": [1, 3]}),
        ({"preset": "custom", "custom": {1: 0, 2: 0, 3: 0, 4: 0}}, "elevator.custom_zero", {}),
        ({"preset": "coefficient", "floor_area_m2": [80.0, None, 0.0]}, "elevator.areas", {"positions": [2, 3]}),
    ],
)
def test_calculator_inputs_raise_their_code(kwargs, code, params):
    args = {"cost_wan": 45.0, "subsidy_wan": 18.0, **kwargs}
    hpf = len(args["floor_area_m2"]) if isinstance(args.get("floor_area_m2"), list) else 2
    with pytest.raises(InputError) as caught:
        share_costs(4, hpf, **args)
    assert caught.value.code == code and caught.value.params == params


def test_a_preset_too_short_for_the_building_and_nobody_paying():
    with pytest.raises(InputError) as caught:
        share_costs(9, 2, preset="shanghai")
    assert (caught.value.code, caught.value.params) == ("elevator.preset_floors", {"preset": "shanghai", "floors": 9})
    with pytest.raises(InputError) as caught:
        share_costs(2, 2, preset="hangzhou")
    assert (caught.value.code, caught.value.params) == ("elevator.nobody_pays", {"preset": "hangzhou", "floors": 2})


def test_a_date_before_the_first_report(demo_con):
    with pytest.raises(DataError) as caught:
        progress.county_progress(demo_con, as_of=date(2020, 1, 3))
    first = demo_con.execute("SELECT min(report_date) FROM progress_reports").fetchone()[0]
    assert caught.value.code == "progress.before_first_report"
    assert caught.value.params == {"as_of": date(2020, 1, 3), "first": first}
    assert ui.error_text(caught.value) == (
        f"2020-01-03 及以前没有进度周报；第一份周报的日期是 {first.isoformat()}，请选择更晚的日期。"
    )


def test_plan_refusals_name_the_compound_the_field_and_the_rule_in_both_languages():
    import pandas as pd

    from analytics.planning import build_plan

    pool = pd.DataFrame({
        "id": ["A", "B"], "county_code": ["370811", "370812"], "built_year": [1990, 1995], "households": [300, -3],
        "floor_area_m2": [24_000, 16_000], "cost_wan": [700, 400], "willingness_pct": [90, 80],
        "contributing_pct": [50, 50], "name": ["甲院", "乙院"], "procedures_complete": True, "demolition_planned": False,
    })
    refusals = []
    for frame, options in [
        (pool, {}),
        (pool.assign(households=[300, 200]), {"targets": pd.DataFrame({"unit_code": ["370811"], "households": [-1]})}),
        (pool.assign(households=[300, 200]), {"bundles": pd.DataFrame({"bundle_id": ["X"], "member_ids": [["A", "B"]],
                                                                          "bonus_pct": [150.0]})}),
    ]:
        with pytest.raises(InputError) as caught:
            build_plan(frame, budget_wan=1000, year=2027, **options)
        refusals.append(caught.value)
    assert [ui.error_text(e) for e in refusals] == [
        "候选小区 B 的户数为 -3，不能为负数；请更正后再编制。",
        "任城区的户数目标（-1）不能为负数。",
        "共享设施加成须在 0–100% 之间（现为 150.0）。",
    ]
    import streamlit as st

    st.session_state["lang"] = "en"
    try:
        assert [ui.error_text(e) for e in refusals] == [
            "Candidate B has Households -3; it cannot be negative. Correct it first.",
            "Rencheng's households target (-1) cannot be negative.",
            "The shared-facility bonus must be between 0 and 100 % (it is 150.0).",
        ]
    finally:
        del st.session_state["lang"]
