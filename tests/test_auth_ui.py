"""Sign-in box, administration page and write paths in the running app (streamlit AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import settings, store
from analytics.errors import PermissionDenied
from analytics.services import auth
from analytics.store import audit
from dashboard.auth_ui import TOKEN_KEY
from dashboard.labels import t
from dashboard.navigation import page_paths
from tests.page_helpers import build_accounts_db, sign_in_session, table_with, use_copy

APP = Path(__file__).resolve().parent.parent / "app.py"
ADMIN_PAGE = APP.parent / "pages" / "admin.py"
CLI = auth.User("cli:root", "admin")
ADMIN_PW = "admin-password-1"
EDITOR_PW = "editor-password-1"


@pytest.fixture(scope="module")
def accounts_db(tmp_path_factory):
    """A demo database with an administrator and a county editor, built once per module."""
    path = tmp_path_factory.mktemp("auth-ui") / "template.duckdb"
    return build_accounts_db(path, admin_password=ADMIN_PW, editor_password=EDITOR_PW, actor=CLI)


@pytest.fixture
def db(accounts_db, tmp_path, monkeypatch):
    """A private copy of ``accounts_db`` that the app under test opens."""
    path = use_copy(accounts_db, tmp_path / "ui.duckdb", monkeypatch)
    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)
    return path


def _open(page: str | None = None) -> AppTest:
    """The whole app (first run: main script with the sidebar), optionally switched to ``page``.

    AppTest re-runs only the page script after the first run of a navigation app, so the sidebar is
    tested on its own with :func:`_box` and the administration page with :func:`_admin`.
    """
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def _sidebar_script() -> None:
    from dashboard import auth_ui

    auth_ui.sidebar_box()


def _box(token: str | None = None) -> AppTest:
    """The sign-in box alone, optionally with a session token already in the browser session."""
    at = AppTest.from_function(_sidebar_script, default_timeout=60)
    if token:
        at.session_state[TOKEN_KEY] = token
    return at.run()


def _admin(db: Path, username: str | None) -> AppTest:
    """The administration page, signed in as ``username`` (a session started on the server)."""
    at = sign_in_session(AppTest.from_file(str(ADMIN_PAGE), default_timeout=60), db, username)
    at.run()
    assert not at.exception, at.exception
    return at


def _button(block, label: str):
    matches = [b for b in block.button if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in block.button]}"
    return matches[0]


def _sign_in(at: AppTest, username: str, password: str, *, lang: str = "zh") -> AppTest:
    at.sidebar.text_input(key="auth_username").input(username)
    at.sidebar.text_input(key="auth_password").input(password)
    _button(at.sidebar, t("auth.submit", lang=lang)).click().run()
    assert not at.exception, at.exception
    return at


def _audit_rows(path: Path) -> int:
    """Rows of the audit log that record a change (sign-ins and refused permissions left out)."""
    con = store.connect(path)
    try:
        log = audit.read_log(con, limit=100_000)
        return int((~log["action"].isin(audit.ACCESS_ACTIONS)).sum())
    finally:
        con.close()


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(c.value) for c in at.sidebar.caption)


def test_signed_out_user_reads_every_page_and_reaches_no_write_path(db):
    before = _audit_rows(db)
    at = _open()
    assert at.sidebar.text_input(key="auth_username").label == t("auth.username")  # the box is in the app's sidebar
    for path in page_paths():
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        assert at.title, path
    at.switch_page("pages/admin.py").run()
    assert [i.value for i in at.info] == [t("admin.admins_only")]
    assert not at.dataframe and not at.main.button and not at.main.text_input
    for path in ("pages/data.py", "pages/admin.py"):
        at.switch_page(path).run()
        for index in range(len(at.main.button)):  # every button is disabled, or clicking it writes nothing
            if at.main.button[index].disabled:
                continue
            at.main.button[index].click().run()
            assert not at.exception, (path, at.exception)
    assert _audit_rows(db) == before


@pytest.mark.parametrize(
    ("write", "args"),
    [
        (auth.create_user, ("intruder", "long-enough-pw")),
        (auth.reset_password, ("admin1", "long-enough-pw")),
        (auth.set_disabled, ("admin1", True)),
        (auth.set_role, ("rencheng",)),
    ],
)
def test_account_write_functions_refuse_a_signed_out_caller(db, write, args):
    con = store.connect(db)
    kwargs = {"role": "admin"} if write in (auth.create_user, auth.set_role) else {}
    try:
        with pytest.raises(PermissionDenied, match="Signing in is required to manage users"):
            write(con, *args, actor=None, **kwargs)
        assert auth.authenticate(con, "admin1", ADMIN_PW) == auth.User("admin1", "admin")
        assert len(auth.list_users(con)) == 2
    finally:
        con.close()


def test_sign_in_and_out(db):
    at = _sign_in(_box(), " Admin1 ", ADMIN_PW)
    assert not at.error, [e.value for e in at.error]
    assert t("auth.signed_in_as", name="admin1", role=t("auth.role.admin")) in _sidebar_text(at)
    token = at.session_state[TOKEN_KEY]
    con = store.connect(db)
    try:
        assert auth.session_user(con, token) == auth.User("admin1", "admin")
    finally:
        con.close()
    _button(at.sidebar, t("auth.sign_out")).click().run()
    assert [i.value for i in at.sidebar.info] == [t("auth.signed_out")]
    assert at.sidebar.text_input(key="auth_username")
    con = store.connect(db)
    try:
        assert auth.session_user(con, token) is None
    finally:
        con.close()


def test_wrong_password_is_refused_in_the_users_language(db):
    at = _sign_in(_box(), "admin1", "not-the-password")
    assert [e.value for e in at.sidebar.error] == [t("auth.failed")]
    assert TOKEN_KEY not in at.session_state
    at = AppTest.from_function(_sidebar_script, default_timeout=60)
    at.session_state["lang"] = "en"
    at = _sign_in(at.run(), "nobody", "not-the-password", lang="en")
    assert [e.value for e in at.sidebar.error] == [t("auth.failed", lang="en")]


def test_repeated_failures_lock_the_sign_in(db, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 1)
    monkeypatch.setattr(settings, "SIGN_IN_LOCK_BASE_S", 30)
    at = _sign_in(_box(), "admin1", "not-the-password")
    at = _sign_in(at, "admin1", "not-the-password")
    assert [e.value for e in at.sidebar.error] == [t("auth.locked", seconds=30)]
    at = _sign_in(at, "admin1", ADMIN_PW)  # the right password waits for the lock too
    assert [e.value for e in at.sidebar.error][0] in {t("auth.locked", seconds=s) for s in (28, 29, 30)}
    assert TOKEN_KEY not in at.session_state


def test_administrator_manages_accounts_and_reads_the_log(db):
    at = _admin(db, "admin1")
    assert not at.error, [e.value for e in at.error]
    users = at.dataframe[0].value
    assert list(users[t("admin.col.username")]) == ["admin1", "rencheng"]
    assert "password_hash" not in users.columns and t("admin.col.role") in users.columns

    at.text_input(key="admin_new_username").input("Leader")
    at.selectbox(key="admin_new_role").set_value("viewer")
    at.text_input(key="admin_new_password").input("viewer-password-1")
    at.text_input(key="admin_new_password_repeat").input("viewer-password-1")
    _button(at.main, t("admin.do_create")).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [t("admin.created", name="leader")]
    assert list(at.dataframe[0].value[t("admin.col.username")]) == ["admin1", "leader", "rencheng"]

    # a refused change says why and changes nothing
    at.text_input(key="admin_new_username").input("x")
    at.text_input(key="admin_new_password").input("viewer-password-1")
    at.text_input(key="admin_new_password_repeat").input("viewer-password-1")
    _button(at.main, t("admin.do_create")).click().run()
    # the detail is shown as typed (Markdown signs escaped), so it reads "`username` was 'x'"
    assert len(at.error) == 1 and "`username` was 'x'" in re.sub(r"\\(.)", r"\1", at.error[0].value)
    at.text_input(key="admin_new_username").input("leader2")
    at.text_input(key="admin_new_password").input("viewer-password-1")
    at.text_input(key="admin_new_password_repeat").input("viewer-password-2")
    _button(at.main, t("admin.do_create")).click().run()
    assert [e.value for e in at.error] == [t("auth.passwords_differ")]

    at.selectbox(key="admin_disable_username").set_value("rencheng")
    at.radio(key="admin_disable_action").set_value(True)
    _button(at.main, t("admin.do_apply")).click().run()
    assert [s.value for s in at.success] == [t("admin.disabled_done", name="rencheng")]

    at.selectbox(key="admin_reset_username").set_value("leader")
    at.text_input(key="admin_reset_password").input("viewer-password-9")
    at.text_input(key="admin_reset_password_repeat").input("viewer-password-9")
    _button(at.main, t("admin.do_reset")).click().run()
    assert [s.value for s in at.success] == [t("admin.reset_done", name="leader")]

    log = table_with(at, t("admin.col.action"))  # the write-log tab
    assert list(log[t("admin.col.action")][:4]) == ["user_reset_password", "user_disable", "user_create", "user_create"]
    assert list(log[t("admin.col.username")][:3]) == ["admin1", "admin1", "admin1"]
    con = store.connect(db)
    try:
        assert auth.authenticate(con, "leader", "viewer-password-9") == auth.User("leader", "viewer")
        assert auth.get_user(con, "rencheng") is None
    finally:
        con.close()


@pytest.mark.parametrize("username", [None, "rencheng"])
def test_administration_is_refused_to_others(db, username):
    at = _admin(db, username)
    assert [i.value for i in at.info] == [t("admin.admins_only")]
    assert not at.dataframe and not at.text_input and not at.button


def test_county_editor_sees_their_county(db):
    at = _sign_in(_box(), "rencheng", EDITOR_PW)
    assert t("auth.signed_in_as", name="rencheng", role=t("auth.role.county_editor")) in _sidebar_text(at)
    assert t("auth.county", county="任城区") in _sidebar_text(at)


def test_expired_session_signs_the_browser_out(db):
    at = _admin(db, "admin1")
    assert at.dataframe
    con = store.connect(db)
    try:
        con.execute("UPDATE sessions SET expires_at = now()::TIMESTAMP - INTERVAL 1 MINUTE")
    finally:
        con.close()
    at.run()
    assert [i.value for i in at.info] == [t("admin.admins_only")]
    assert TOKEN_KEY not in at.session_state
    box = _box()
    assert box.sidebar.text_input(key="auth_username")


def test_disabled_account_is_signed_out_at_the_next_page_view(db):
    at = _box()
    at = _sign_in(at, "rencheng", EDITOR_PW)
    con = store.connect(db)
    try:
        auth.set_disabled(con, "rencheng", True, actor=CLI)
    finally:
        con.close()
    at.run()
    assert [w.value for w in at.sidebar.warning] == [t("auth.expired")]
    assert at.sidebar.text_input(key="auth_username")


def test_user_changes_own_password(db):
    at = _sign_in(_box(), "rencheng", EDITOR_PW)
    at.sidebar.text_input(key="auth_old_password").input(EDITOR_PW)
    at.sidebar.text_input(key="auth_new_password").input("editor-password-2")
    at.sidebar.text_input(key="auth_new_password_repeat").input("editor-password-2")
    _button(at.sidebar, t("auth.change_password")).click().run()
    assert [s.value for s in at.sidebar.success] == [t("auth.password_changed")]
    con = store.connect(db)
    try:
        assert auth.authenticate(con, "rencheng", "editor-password-2").role == "county_editor"
    finally:
        con.close()


def test_administrator_adds_a_zone_gives_it_an_editor_and_sets_the_bulletins_form(db):
    import streamlit as st

    st.cache_data.clear()  # cached frames are keyed on the data version, which other tests' databases share
    at = _admin(db, "admin1")
    at.text_input(key="admin_unit_name").input("曲阜文化建设示范区")
    at.radio(key="admin_unit_kind").set_value("zone")
    at.number_input(key="admin_unit_from").set_value(2021)
    _button(at.main, t("admin.unit.do_add")).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [t("admin.unit.added", name="曲阜文化建设示范区")]
    listed = table_with(at, t("admin.unit.col.unit_code"))
    assert listed[t("admin.unit.col.unit_code")].tolist()[-4:] == ["Z01", "Z02", "Z03", "Z04"]
    assert listed[t("admin.unit.col.name")].tolist()[-1] == "曲阜文化建设示范区"

    # the new zone can have an editor of its own
    at.text_input(key="admin_new_username").input("wenhua")
    at.selectbox(key="admin_new_role").set_value("county_editor")
    at.selectbox(key="admin_new_county").set_value("Z04")
    at.text_input(key="admin_new_password").input("editor-password-4")
    at.text_input(key="admin_new_password_repeat").input("editor-password-4")
    _button(at.main, t("admin.do_create")).click().run()
    assert [s.value for s in at.success] == [t("admin.created", name="wenhua")]

    # the bulletin's form: an unusable distribution line is refused, then a new prefix and rule are kept
    at.text_area(key="admin_bulletin_distribution").input("抄报 市政府")
    _button(at.main, t("admin.bulletin.save")).click().run()
    assert len(at.error) == 1 and "报" in at.error[0].value
    at.text_input(key="admin_bulletin_prefix").input("济旧改办")
    at.text_area(key="admin_bulletin_distribution").input("报：市政府。\n发：各县（市、区），曲阜文化建设示范区。")
    at.number_input(key="admin_bulletin_top").set_value(2)
    _button(at.main, t("admin.bulletin.save")).click().run()
    assert [s.value for s in at.success] == [t("admin.bulletin.saved")]
    assert t("admin.bulletin.rule_now", rule="按开工率排名，前二名通报表扬，后三名通报批评") in [m.value for m in at.markdown]
    con = store.connect(db)
    try:
        from analytics.services.bulletin import office

        saved = office.load(con)
        assert (saved.doc_prefix, saved.praise_top_n, saved.distribution) == (
            "济旧改办", 2, (("报", "市政府。"), ("发", "各县（市、区），曲阜文化建设示范区。")))
        assert auth.get_user(con, "wenhua") == auth.User("wenhua", "county_editor", "Z04")
    finally:
        con.close()


def test_sign_in_form_bounds_its_fields_and_the_app_bounds_its_log_lines(db):
    import logging

    at = _open()
    assert at.sidebar.text_input(key="auth_username").max_chars == 32
    assert at.sidebar.text_input(key="auth_password").max_chars == auth.BCRYPT_MAX_BYTES
    assert getattr(logging.getLogRecordFactory(), "_caps_messages", False)


def test_a_database_error_while_signing_in_is_a_message(db, monkeypatch):
    import duckdb

    def broken(*args, **kwargs):
        raise duckdb.IOException("IO Error: could not write to the database file")

    monkeypatch.setattr(auth, "start_session", broken)
    at = _sign_in(_box(), "admin1", ADMIN_PW)
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == [t("auth.unavailable")]
    assert TOKEN_KEY not in at.session_state


def test_the_sign_in_box_says_that_a_reload_signs_out(db):
    """The sign-in is kept in this browser tab only (no cookie holds the token): the box says so, before and after."""
    at = _box()
    assert t("auth.tab_only") in _sidebar_text(at)
    at = _sign_in(at, "admin1", ADMIN_PW)
    assert at.session_state[TOKEN_KEY]
    assert t("auth.tab_only_signed_in") in _sidebar_text(at)

