"""Administration (系统管理): accounts (create, reset password, disable/enable, role) and the write log."""

import streamlit as st

from analytics import settings
from analytics.services import auth
from dashboard import auth_ui, ui
from dashboard.downloads import show_table
from dashboard.formatting import unit_name
from dashboard.labels import t

ui.page_header("page.admin", t("admin.caption"))
user = auth_ui.current_user()
if user is None or user.role != "admin":
    st.info(t("admin.admins_only"), icon=":material/lock:")
    st.stop()

auth_ui.page_notice()
county_options = [None, *settings.COUNTIES]


def county_name(code: str | None) -> str:
    return t("admin.no_county") if code is None else f"{code} {unit_name(code)}"


tab_users, tab_log = st.tabs([t("admin.tab.users"), t("admin.tab.log")])

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

with tab_log:
    limit = st.number_input(t("admin.log_rows"), min_value=10, max_value=10_000, value=200, step=50, key="admin_log_rows")
    log = ui.attempt(auth_ui.audit_frame, int(limit), stop=False)
    if log is not None:
        show_table(log, "audit_log", key="admin-log")
