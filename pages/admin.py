"""Administration (系统管理): accounts (create, reset password, disable/enable, role), reporting units, the
bulletin's settings and the write log."""

import streamlit as st

from analytics import settings, units
from analytics.services import auth
from analytics.services.bulletin import office
from dashboard import auth_ui, state, ui
from dashboard.downloads import show_table
from dashboard.formatting import unit_name
from dashboard.labels import t
from dashboard.views import admin as page

ui.page_header("page.admin", t("admin.caption"))
user = auth_ui.current_user()
if user is None or user.role != "admin":
    st.info(t("admin.admins_only"), icon=":material/lock:")
    st.stop()

auth_ui.page_notice()
county_options = [None, *state.unit_codes()]  # an editor's reporting unit: a county or a function zone
unit_names = {code: unit_name(code) for code in county_options if code}  # names read once, in this run


def county_name(code: str | None) -> str:
    return t("admin.no_county") if code is None else f"{code} {unit_names.get(code, code)}"


tab_users, tab_units, tab_bulletin, tab_log = st.tabs(
    [t("admin.tab.users"), t("admin.tab.units"), t("admin.tab.bulletin"), t("admin.tab.log")])

with tab_users:
    users = ui.attempt(auth_ui.users_frame, stop=False)
    if users is not None and users.empty:
        st.info(t("admin.no_users"))
    elif users is not None:
        show_table(users, "users", key="admin-users")
    names = auth_ui.usernames() if users is not None else []
    st.caption(t("admin.password_rules", n=settings.PASSWORD_MIN_LENGTH))
    left, right = st.columns(2)

    with left.form("admin-create", clear_on_submit=True):
        st.subheader(t("admin.create"))
        new_name = st.text_input(t("auth.username"), key="admin_new_username")
        new_display = st.text_input(t("admin.display_name"), key="admin_new_display")
        new_role = st.selectbox(t("admin.role"), auth.ROLES, format_func=auth_ui.role_label, key="admin_new_role")
        new_county = st.selectbox(t("admin.county"), county_options, format_func=county_name, key="admin_new_county")
        new_pw = st.text_input(t("auth.password"), type="password", key="admin_new_password")
        new_pw2 = st.text_input(t("auth.password_repeat"), type="password", key="admin_new_password_repeat")
        if st.form_submit_button(t("admin.do_create")):
            if new_pw != new_pw2:
                st.error(t("auth.passwords_differ"))
            else:
                auth_ui.run_write(
                    auth.create_user, new_name, new_pw, role=new_role, county_code=new_county,
                    display_name=new_display or None, success=t("admin.created", name=new_name.strip().lower()),
                )

    with right.form("admin-reset", clear_on_submit=True):
        st.subheader(t("admin.reset"))
        reset_name = st.selectbox(t("admin.account"), names, key="admin_reset_username")
        reset_pw = st.text_input(t("auth.new_password"), type="password", key="admin_reset_password")
        reset_pw2 = st.text_input(t("auth.password_repeat"), type="password", key="admin_reset_password_repeat")
        if st.form_submit_button(t("admin.do_reset")) and reset_name:
            if reset_pw != reset_pw2:
                st.error(t("auth.passwords_differ"))
            else:
                auth_ui.run_write(auth.reset_password, reset_name, reset_pw, success=t("admin.reset_done", name=reset_name))

    with left.form("admin-disable"):
        st.subheader(t("admin.disable"))
        target = st.selectbox(t("admin.account"), names, key="admin_disable_username")
        disable = st.radio(
            t("admin.disable"), [True, False], horizontal=True, key="admin_disable_action",
            format_func=lambda d: t("admin.action_disable") if d else t("admin.action_enable"),
        )
        if st.form_submit_button(t("admin.do_apply")) and target:
            done = t("admin.disabled_done" if disable else "admin.enabled_done", name=target)
            auth_ui.run_write(auth.set_disabled, target, disable, success=done)

    with right.form("admin-role"):
        st.subheader(t("admin.set_role"))
        role_name = st.selectbox(t("admin.account"), names, key="admin_role_username")
        role = st.selectbox(t("admin.role"), auth.ROLES, format_func=auth_ui.role_label, key="admin_role_role")
        role_county = st.selectbox(t("admin.county"), county_options, format_func=county_name, key="admin_role_county")
        if st.form_submit_button(t("admin.do_apply")) and role_name:
            auth_ui.run_write(
                auth.set_role, role_name, role=role, county_code=role_county,
                success=t("admin.role_done", name=role_name, role=auth_ui.role_label(role)),
            )

with tab_units:
    st.caption(t("admin.unit.intro"))
    show_table(page.units_table(), "units", key="admin-units")
    left, right = st.columns(2)
    with left.form("admin-unit-add", clear_on_submit=True):
        st.subheader(t("admin.unit.add"))
        unit_name_new = st.text_input(t("admin.unit.name"), key="admin_unit_name")
        unit_kind = st.radio(t("admin.unit.kind"), units.KINDS, index=1, horizontal=True, key="admin_unit_kind",
                             format_func=lambda k: t(f"admin.unit.kind.{k}"))
        unit_category = st.selectbox(t("admin.unit.category"), units.COUNTY_CATEGORIES, key="admin_unit_category",
                                     format_func=lambda c: t(f"admin.unit.category.{c}"))
        unit_en = st.text_input(t("admin.unit.name_en"), key="admin_unit_name_en")
        unit_short = st.text_input(t("admin.unit.short_name"), key="admin_unit_short")
        unit_from = st.number_input(t("admin.unit.active_from"), min_value=0, max_value=2100, value=0, step=1,
                                    key="admin_unit_from")
        unit_to = st.number_input(t("admin.unit.active_to"), min_value=0, max_value=2100, value=0, step=1,
                                  key="admin_unit_to")
        unit_national = st.text_input(t("admin.unit.national_code"), key="admin_unit_national")
        if st.form_submit_button(t("admin.unit.do_add")):
            page.write(units.add_unit, name=unit_name_new, kind=unit_kind, category=unit_category, name_en=unit_en,
                       short_name=unit_short, active_from=page.year_or_none(unit_from),
                       active_to=page.year_or_none(unit_to), national_code=unit_national,
                       success=t("admin.unit.added", name=unit_name_new.strip()))
    with right.form("admin-unit-years"):
        st.subheader(t("admin.unit.years"))
        codes = state.unit_codes()
        year_unit = st.selectbox(t("admin.unit.unit"), codes, key="admin_unit_years_unit",
                                 format_func=county_name)
        year_from = st.number_input(t("admin.unit.active_from"), min_value=0, max_value=2100, value=0, step=1,
                                    key="admin_unit_years_from")
        year_to = st.number_input(t("admin.unit.active_to"), min_value=0, max_value=2100, value=0, step=1,
                                  key="admin_unit_years_to")
        if st.form_submit_button(t("admin.do_apply")) and year_unit:
            page.write(units.set_active_years, year_unit, active_from=page.year_or_none(year_from),
                       active_to=page.year_or_none(year_to), success=t("admin.unit.years_done", name=unit_name(year_unit)))

with tab_bulletin:
    current = page.settings_in_force()
    st.caption(t("admin.bulletin.intro"))
    with st.form("admin-bulletin"):
        prefix = st.text_input(t("admin.bulletin.doc_prefix"), value=current.doc_prefix, key="admin_bulletin_prefix")
        distribution = st.text_area(t("admin.bulletin.distribution"), value=office.distribution_text(current),
                                    height=150, key="admin_bulletin_distribution")
        cols = st.columns(3)
        top_n = cols[0].number_input(t("admin.bulletin.praise_top_n"), min_value=0, max_value=10,
                                     value=current.praise_top_n, step=1, key="admin_bulletin_top")
        bottom_n = cols[1].number_input(t("admin.bulletin.criticise_bottom_n"), min_value=0, max_value=10,
                                        value=current.criticise_bottom_n, step=1, key="admin_bulletin_bottom")
        below = cols[2].number_input(t("admin.bulletin.below_average_pp"), min_value=0.0, max_value=100.0,
                                     value=float(current.criticise_below_average_pp or 0.0), step=1.0,
                                     key="admin_bulletin_below")
        cols = st.columns(3)
        small = cols[0].number_input(t("admin.bulletin.small_unit"), min_value=0, max_value=100,
                                     value=current.small_unit_compounds, step=1, key="admin_bulletin_small")
        gap = cols[1].number_input(t("admin.bulletin.payment_gap_pp"), min_value=1.0, max_value=100.0,
                                   value=float(current.payment_gap_pp), step=1.0, key="admin_bulletin_gap")
        tables = cols[2].radio(t("admin.bulletin.ranking_tables"), ("one", "two"), horizontal=True,
                               index=0 if current.ranking_tables == "one" else 1, key="admin_bulletin_tables",
                               format_func=lambda v: t(f"admin.bulletin.tables.{v}"))
        st.caption(t("admin.bulletin.series"))
        series = st.data_editor(page.series_frame(current), num_rows="dynamic", key="admin_bulletin_series",
                                column_config={
                                    "year": st.column_config.NumberColumn(t("admin.bulletin.year"), format="%d"),
                                    "first_week": st.column_config.DateColumn(t("admin.bulletin.first_week")),
                                    "first_month": st.column_config.NumberColumn(t("admin.bulletin.first_month"),
                                                                                 min_value=1, max_value=12),
                                })
        if st.form_submit_button(t("admin.bulletin.save")):
            changed = ui.attempt(lambda: page.edited_settings(
                current, doc_prefix=prefix.strip(), distribution=office.parse_distribution(distribution),
                praise_top_n=int(top_n), criticise_bottom_n=int(bottom_n),
                criticise_below_average_pp=float(below) or None, small_unit_compounds=int(small),
                payment_gap_pp=float(gap), ranking_tables=tables, series_start=page.series_from(series)), stop=False)
            if changed is not None:
                page.write(office.save, changed, success=t("admin.bulletin.saved"))
    st.markdown(t("admin.bulletin.rule_now", rule=current.rule_text("开工率")))

with tab_log:
    limit = st.number_input(t("admin.log_rows"), min_value=10, max_value=10_000, value=200, step=50, key="admin_log_rows")
    log = ui.attempt(auth_ui.audit_frame, int(limit), stop=False)
    if log is not None:
        show_table(log, "audit_log", key="admin-log")
