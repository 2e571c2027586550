"""资金与电梯 Funding & elevators: the funding mix by source and county, compounds whose funding does not add up,
elevator candidates, and the elevator cost-sharing calculator."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import elevators, settings
from dashboard import state, ui, urlstate
from dashboard.downloads import show_chart, show_table
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import funding as page

ui.page_header("page.funding", t("funding.caption"))
mix_tab, check_tab, candidates_tab, calculator_tab = st.tabs(
    [t("funding.tab.mix"), t("funding.tab.mismatch"), t("funding.tab.elevators"), t("funding.tab.calculator")]
)
years = ["all", *state.plan_years()]

# ---------------------------------------------------------------------------------------------- funding mix
with mix_tab:
    year = urlstate.bind("fund_year", "all", options=years, cast=lambda raw: raw if raw == "all" else int(raw))
    measure = ui.bind_choice("measure", "amount", page.MEASURES)
    left, right = st.columns([1, 2])
    left.selectbox(t("funding.year"), years, key="fund_year", format_func=page.year_name)
    right.radio(t("funding.measure"), page.MEASURES, key="measure", horizontal=True,
                format_func=lambda m: t(f"funding.measure.{m}"))
    plan_year = None if year == "all" else year
    mix = ui.attempt(page.funding_mix, plan_year=plan_year, stop=False)
    if mix is not None:
        by_county, city, wide = mix
        if by_county.empty:
            st.info(t("common.no_data"))
        else:
            ui.metric_cards(page.funding_kpis(city))
            fig, data = page.funding_figure(by_county, measure=measure)
            ui.styled(fig, title=t("funding.chart.title", year=page.year_name(year)),
                      unit=t(f"funding.chart.unit_{measure}"), as_of=state.dataset_as_of())
            page.legend_right(fig)
            show_chart(fig, data, f"funding_mix_{year}", key="funding-mix")
            cols = st.columns([1, 2])
            with cols[0]:
                st.subheader(t("funding.city_mix"))
                show_table(page.funding_long_table(city), f"funding_city_{year}", key="funding-city")
            with cols[1]:
                st.subheader(t("funding.by_county"))
                show_table(page.funding_county_table(wide), f"funding_by_county_{year}", key="funding-county")

# ------------------------------------------------------------------------------------------ funding check
with check_tab:
    ui.bind_number("tolerance", settings.FUNDING_TOLERANCE * 100, low=0.0, high=50.0, cast=float)
    st.number_input(t("funding.tolerance"), min_value=0.0, max_value=50.0, step=0.5, key="tolerance")
    st.caption(t("funding.mismatch.caption", tol=f"{st.session_state['tolerance']:g}"))
    mismatches = ui.attempt(page.funding_mismatches, tolerance=st.session_state["tolerance"] / 100,
                            plan_year=plan_year, stop=False)
    if mismatches is not None:
        if mismatches.empty:
            st.success(t("funding.mismatch.none"))
        else:
            st.markdown(t("funding.mismatch.count", n=len(mismatches)))
            show_table(page.mismatch_table(mismatches), f"funding_mismatches_{year}", key="funding-mismatch")

# ------------------------------------------------------------------------------------ elevator candidates
with candidates_tab:
    counties = ["all", *settings.COUNTY_ORDER]
    county = ui.bind_choice("elev_county", "all", counties)
    st.selectbox(t("funding.elev.county"), counties, key="elev_county",
                 format_func=lambda c: t("common.all_counties") if c == "all" else unit_name(c))
    st.caption(t("funding.elev.caption", cost=f"{settings.ELEVATOR_COST_WAN:g}"))
    candidates = ui.attempt(page.elevator_candidates, county_code=None if county == "all" else county, stop=False)
    if candidates is not None:
        if candidates.empty:
            st.info(t("funding.elev.none"))
        else:
            ui.metric_cards(page.candidate_kpis(candidates))
            table = page.candidates_table(candidates)
            show_table(table, f"elevator_candidates_{county}", key="elevator-candidates",
                       column_order=[c for c in table.columns if c != t("funding.col.building_ids")])

def _edit_numbers(key: str, default: list[float], *, editor_key: str, index: tuple[str, str],
                  value: tuple[str, str], value_format: str) -> list[float | None]:
    """An editable table of ``len(default)`` numbers kept in the URL under ``key``; a blank cell is ``None``.

    ``index`` and ``value`` are (column, label key); a URL list of another length starts from ``default``.
    """
    start = urlstate.bind(key, default, cast=lambda raw: [float(v) for v in raw.split(",")])
    if len(start) != len(default):
        start = default
    edited = st.data_editor(
        pd.DataFrame({index[0]: range(1, len(default) + 1), value[0]: start}),
        key=editor_key, hide_index=True, num_rows="fixed",
        column_config={
            index[0]: st.column_config.NumberColumn(t(index[1]), disabled=True, format="%d"),
            value[0]: st.column_config.NumberColumn(t(value[1]), min_value=0.0, format=value_format),
        },
    )
    numbers = [None if pd.isna(v) else float(v) for v in edited[value[0]]]
    st.session_state[key] = numbers
    urlstate.sync(key)
    return numbers


# ---------------------------------------------------------------------------------- cost-sharing calculator
with calculator_tab:
    st.caption(t("funding.calc.caption"))
    # out-of-range numbers are kept as typed and refused below with the allowed range (never clamped)
    floors = ui.bind_number("floors", 6, low=2, high=elevators.MAX_FLOORS, clamp=False)
    ui.bind_number("hpf", 2, low=1, high=elevators.MAX_HOUSEHOLDS_PER_FLOOR, clamp=False)
    ui.bind_number("cost", settings.ELEVATOR_COST_WAN, low=0.0, high=elevators.MAX_COST_WAN, cast=float, clamp=False)
    ui.bind_number("subsidy", elevators.default_subsidy_wan(floors), low=0.0, high=elevators.MAX_COST_WAN, cast=float,
                   clamp=False)
    ui.bind_choice("preset", "hangzhou", elevators.PRESETS)
    custom_kind = ui.bind_choice("custom_kind", "share", page.CUSTOM_KINDS)

    def _floors_changed() -> None:
        st.session_state["subsidy"] = elevators.default_subsidy_wan(st.session_state["floors"])

    cols = st.columns(4)
    cols[0].number_input(t("funding.calc.floors"), step=1, key="floors", on_change=_floors_changed)
    cols[1].number_input(t("funding.calc.hpf"), step=1, key="hpf")
    cols[2].number_input(t("funding.calc.cost"), step=1.0, key="cost")
    subsidies = settings.ELEVATOR_SUBSIDY_WAN_BY_FLOORS
    cols[3].number_input(t("funding.calc.subsidy"), step=1.0, key="subsidy",
                         help=t("funding.calc.subsidy_help", s4=subsidies[4], s5=subsidies[5], s6=subsidies[6]))
    st.radio(t("funding.calc.preset"), elevators.PRESETS, key="preset", horizontal=True,
             format_func=lambda p: t(f"funding.preset.{p}"))
    st.caption(t(f"funding.preset_help.{st.session_state['preset']}"))
    floors, households_per_floor = int(st.session_state["floors"]), int(st.session_state["hpf"])
    preset = st.session_state["preset"]
    # numbers out of range: the message, and no figures of the last valid input left on screen
    valid = ui.attempt(elevators.check_unit, floors, households_per_floor, cost_wan=st.session_state["cost"],
                       subsidy_wan=st.session_state["subsidy"], stop=False) is not None

    if valid:
        custom = None
        if preset == "custom":
            st.radio(t("funding.calc.custom_kind"), page.CUSTOM_KINDS, key="custom_kind", horizontal=True,
                     format_func=lambda k: t(f"funding.custom_kind.{k}"))
            custom_kind = st.session_state["custom_kind"]
            custom = _edit_numbers("custom", page.preset_table(floors, custom_kind),
                                   editor_key=f"custom-editor-{floors}-{custom_kind}", index=("floor", "funding.col.floor"),
                                   value=("value", "funding.col.value"), value_format="%.2f")

        areas = None
        if preset == "coefficient" or (preset == "custom" and custom_kind == "coefficient"):
            areas = _edit_numbers("areas", [page.DEFAULT_AREA_M2] * households_per_floor,
                                  editor_key=f"areas-editor-{households_per_floor}", index=("position", "funding.col.position"),
                                  value=("area_m2", "funding.col.area_m2"), value_format="%.1f")

        shares = ui.attempt(
            page.share_costs,
            floors, households_per_floor, cost_wan=st.session_state["cost"], subsidy_wan=st.session_state["subsidy"],
            preset=preset, custom=tuple(custom) if custom else None, custom_kind=custom_kind,
            areas_m2=tuple(areas) if areas else None, stop=False,
        )
        if shares is not None:
            note = page.custom_scaled_note(custom, custom_kind) if preset == "custom" else None
            if note:
                st.info(note)
            ui.metric_cards(page.calculator_kpis(shares))
            st.subheader(t("funding.calc.by_floor"))
            show_table(page.floor_table(shares), f"elevator_shares_by_floor_{preset}", key="elevator-floors",
                       column_config=page.money_column_config())
            fig, data = page.calculator_figure(shares)
            ui.styled(fig, title=t("funding.calc.chart.title", preset=t(f"funding.preset.{preset}"), floors=floors,
                                   hpf=households_per_floor), unit=t("funding.calc.chart.unit"), data_chart=False)
            show_chart(fig, data, f"elevator_shares_{preset}", key="elevator-chart")
            with st.expander(t("funding.calc.by_household")):
                show_table(page.household_table(shares), f"elevator_shares_by_household_{preset}",
                           key="elevator-households", column_config=page.money_column_config())
