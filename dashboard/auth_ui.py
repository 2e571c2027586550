"""Sign-in on the UI side: the signed-in user of this browser session, the sidebar box, admin helpers.

The browser session keeps only a random session token in ``st.session_state``; every call of
:func:`current_user` checks it against the database (expiry, idle time, disabled account), so the
server decides who is signed in. Write functions in ``analytics`` check the returned user again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from analytics.errors import JiugaiError, SignInFailed, SignInThrottled
from analytics.services import auth
from analytics.services.auth import User
from analytics.store import audit
from dashboard import state, ui
from dashboard.formatting import unit_name
from dashboard.labels import labelled, t

log = logging.getLogger(__name__)

TOKEN_KEY = "_auth_token"
USERNAME_MAX_CHARS = 32  # the longest username auth.USERNAME_PATTERN allows
PASSWORD_MAX_CHARS = auth.BCRYPT_MAX_BYTES  # bcrypt reads at most 72 bytes
_NOTICE_KEY = "_auth_notice"
_PAGE_NOTICE_KEY = "_auth_page_notice"


def current_user() -> User | None:
    """The user signed in in this browser session, or None (signed out, expired, or disabled)."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        user = auth.session_user(state.cursor(), token)
    except (duckdb.Error, JiugaiError):  # the page shows the database problem itself; treat as signed out
        log.exception("could not check the session")
        return None
    if user is None:
        del st.session_state[TOKEN_KEY]
        st.session_state[_NOTICE_KEY] = ("warning", "auth.expired", {})
    return user


def role_label(role: str) -> str:
    return t(f"auth.role.{role}")


def _sign_in(username: str, password: str) -> None:
    con = state.cursor()
    try:
        user = auth.authenticate(con, username, password)
        token = auth.start_session(con, user)
    except SignInThrottled as exc:
        st.error(t("auth.locked", seconds=exc.retry_after_s))
        return
    except SignInFailed:
        st.error(t("auth.failed"))
        return
    except (duckdb.Error, JiugaiError):  # the session could not be stored: not signed in
        log.exception("could not start a session")
        st.error(t("auth.unavailable"))
        return
    st.session_state[TOKEN_KEY] = token
    st.rerun()


def _sign_out() -> None:
    try:
        auth.end_session(state.cursor(), st.session_state.pop(TOKEN_KEY, None))
    except duckdb.Error:  # the browser is signed out either way; the stored session expires on its own
        log.exception("could not end the session")
    st.session_state[_NOTICE_KEY] = ("info", "auth.signed_out", {})


def _change_password(user: User) -> None:
    with st.form("auth-change-password", clear_on_submit=True):
        old = st.text_input(t("auth.old_password"), type="password", key="auth_old_password",
                            max_chars=PASSWORD_MAX_CHARS)
        new = st.text_input(t("auth.new_password"), type="password", key="auth_new_password",
                            max_chars=PASSWORD_MAX_CHARS)
        repeat = st.text_input(t("auth.password_repeat"), type="password", key="auth_new_password_repeat",
                               max_chars=PASSWORD_MAX_CHARS)
        if st.form_submit_button(t("auth.change_password")):
            if new != repeat:
                st.error(t("auth.passwords_differ"))
            else:
                try:
                    auth.change_own_password(state.cursor(), user, old, new,
                                             keep_token=st.session_state.get(TOKEN_KEY))
                    st.success(t("auth.password_changed"))
                except SignInThrottled as exc:
                    st.error(t("auth.locked", seconds=exc.retry_after_s))
                except SignInFailed:
                    st.error(t("auth.failed"))
                except JiugaiError as exc:
                    ui.show_error(exc)


def sidebar_box() -> None:
    """The sign-in form (signed out) or the signed-in name with sign-out and change-password (signed in)."""
    user = current_user()
    with st.sidebar:
        st.divider()
        notice = st.session_state.pop(_NOTICE_KEY, None)
        if notice:
            kind, key, fmt = notice
            getattr(st, kind)(t(key, **fmt))
        if user is None:
            with st.expander(t("auth.sign_in"), icon=":material/login:"):
                st.caption(t("auth.sign_in_hint"))
                st.caption(t("auth.tab_only"))
                with st.form("auth-sign-in", clear_on_submit=True):
                    username = st.text_input(t("auth.username"), key="auth_username", autocomplete="username",
                                             max_chars=USERNAME_MAX_CHARS)
                    password = st.text_input(t("auth.password"), type="password", key="auth_password",
                                             autocomplete="current-password", max_chars=PASSWORD_MAX_CHARS)
                    if st.form_submit_button(t("auth.submit")):
                        _sign_in(username, password)
            return
        st.caption(t("auth.signed_in_as", name=user.username, role=role_label(user.role)))
        if user.county_code:
            county = unit_name(user.county_code)
            st.caption(t("auth.county", county=county))
        st.caption(t("auth.tab_only_signed_in"))
        if st.button(t("auth.sign_out"), key="auth_sign_out", icon=":material/logout:"):
            _sign_out()
            st.rerun()
        with st.expander(t("auth.change_password")):
            _change_password(user)


# --- helpers for the administration page ---------------------------------------------------------


def users_frame() -> pd.DataFrame:
    """Every account (no hashes) with role names and column headers in the user's language."""
    users = auth.list_users(state.cursor())
    users["role"] = users["role"].map(role_label)
    users["county_code"] = users["county_code"].map(lambda code: f"{code} {unit_name(code)}" if code else "")
    users["display_name"] = users["display_name"].fillna("")
    return labelled(users, "admin.col")


def usernames() -> list[str]:
    return list(auth.list_users(state.cursor())["username"])


def audit_frame(limit: int) -> pd.DataFrame:
    """The newest ``limit`` write-log rows, newest first, headers in the user's language."""
    return labelled(audit.read_log(state.cursor(), limit=limit), "admin.col")


def run_write(write: Callable[..., object], *args: object, success: str, **kwargs: object) -> None:
    """Run an account change as the signed-in user; on success rerun the page showing ``success``,
    otherwise show the reason it was refused (nothing was changed).

    The signed-in user is looked up again here (server side) and passed as ``actor``; the analytics
    function checks the permission itself.
    """
    try:
        write(state.cursor(), *args, actor=current_user(), **kwargs)
    except JiugaiError as exc:
        ui.show_error(exc)
        return
    st.session_state[_PAGE_NOTICE_KEY] = success
    st.rerun()


def set_page_notice(message: str) -> None:
    """Leave ``message`` for :func:`page_notice` to show after the next rerun."""
    st.session_state[_PAGE_NOTICE_KEY] = message


def page_notice() -> None:
    """Show the success message left by :func:`run_write` before its rerun."""
    message = st.session_state.pop(_PAGE_NOTICE_KEY, None)
    if message:
        st.success(message)
