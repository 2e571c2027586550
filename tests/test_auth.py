"""Roles, accounts, passwords (never in plain text), sign-in throttling, session expiry, the users CLI."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from analytics import settings
from analytics.errors import ImportRejected, InputError, PermissionDenied, SignInFailed, SignInThrottled
from analytics.services import auth
from analytics.store import audit
from analytics.store import connection as store  # connect, and the raw open without migrations
from analytics.store.schema import migrate
from scripts import users as users_cli

T0 = datetime(2026, 3, 6, 9, 0, 0)
CLI = auth.User("cli:root", "admin")
SECRET = "Zq7-unique-Pa55phrase"  # searched for in database bytes and logs


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    """Cheap bcrypt cost in tests (the stored hash carries its cost, so checking is unchanged)."""
    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def con(mem_con):
    auth.create_user(mem_con, "admin1", "admin-password-1", role="admin", actor=CLI, now=T0)
    auth.create_user(mem_con, "rencheng", "editor-password-1", role="county_editor", county_code="370811",
                     actor=CLI, now=T0)
    auth.create_user(mem_con, "leader", "viewer-password-1", role="viewer", actor=CLI, now=T0)
    return mem_con


ADMIN = auth.User("admin1", "admin")
EDITOR = auth.User("rencheng", "county_editor", "370811")
VIEWER = auth.User("leader", "viewer")


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (None, set()),
        (VIEWER, set()),
        (EDITOR, {"submit_report"}),
        (ADMIN, {"submit_report", "import", "undo", "manage_users", "backup", "adopt_plan", "configure"}),
    ],
)
def test_role_matrix(user, allowed):
    for permission in ("submit_report", "import", "undo", "manage_users", "backup", "adopt_plan", "configure"):
        county = user.county_code if user is not None and user.role == "county_editor" else "370811"
        if permission in allowed:
            auth.require(user, permission, county_code=county)
        else:
            with pytest.raises(PermissionDenied, match="nothing was changed"):
                auth.require(user, permission, county_code=county)


def test_signed_out_user_is_told_to_sign_in():
    with pytest.raises(PermissionDenied, match=r"Signing in is required to submit report"):
        auth.require(None, "submit_report", county_code="370811")


def test_county_editor_cannot_write_for_a_forged_county():
    with pytest.raises(PermissionDenied, match=r"only for unit '370811', not '370812'"):
        auth.require(EDITOR, "submit_report", county_code="370812")
    with pytest.raises(PermissionDenied, match=r"only for unit '370811', not None"):
        auth.require(EDITOR, "submit_report")
    auth.require(EDITOR, "submit_report", county_code="370811")


def test_admin_may_submit_for_any_county():
    auth.require(ADMIN, "submit_report", county_code="370812")
    auth.require(ADMIN, "submit_report")


def test_unknown_permission_is_refused():
    with pytest.raises(PermissionDenied, match=r"`permission` was 'delete_all'"):
        auth.require(ADMIN, "delete_all")


def test_role_of_stored_account_comes_back_from_sign_in(con):
    assert auth.authenticate(con, "rencheng", "editor-password-1", now=T0) == EDITOR
    assert auth.authenticate(con, " Leader ", "viewer-password-1", now=T0) == VIEWER
    assert auth.authenticate(con, "admin1", "admin-password-1", now=T0) == ADMIN


# --- accounts ------------------------------------------------------------------------------------


def test_create_user_stores_a_bcrypt_hash_and_records_the_change(con):
    password_hash = con.execute("SELECT password_hash FROM users WHERE username = 'leader'").fetchone()[0]
    assert password_hash.startswith("$2b$04$") and len(password_hash) == 60
    assert auth.verify_password("viewer-password-1", password_hash)
    assert not auth.verify_password("viewer-password-2", password_hash)
    log = audit.read_log(con)
    assert list(log["action"]) == ["user_create"] * 3
    assert set(log["username"]) == {"cli:root"}
    assert json.loads(log["detail"].iloc[1]) == {"user": "rencheng", "role": "county_editor", "county_code": "370811"}


def test_passwords_are_never_stored_or_logged_in_plain_text(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "accounts.duckdb"
    con = store.connect(path)  # builds the demo database, then the schema
    auth.create_user(con, "admin1", SECRET, role="admin", actor=CLI, now=T0)
    auth.reset_password(con, "admin1", SECRET + "-2", actor=CLI, now=T0)
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "admin1", SECRET + "-wrong", now=T0)
    user = auth.authenticate(con, "admin1", SECRET + "-2", now=T0)
    token = auth.start_session(con, user, now=T0)
    wal = path.with_name(path.name + ".wal")
    before_checkpoint = wal.read_bytes() if wal.exists() else b""
    con.execute("CHECKPOINT")
    con.close()
    stored = path.read_bytes() + before_checkpoint
    for needle in (SECRET, SECRET + "-2", SECRET + "-wrong", token):
        assert needle.encode() not in stored
        assert needle.encode("utf-16-le") not in stored
        assert needle not in caplog.text
    assert b"$2b$04$" in stored  # the hash is what is stored
    assert "admin1" in caplog.text  # the log did record the events


def test_account_validation_messages(con):
    with pytest.raises(InputError, match=r"`username` was 'a' but must be 3–32"):
        auth.create_user(con, "a", "long-enough-pw", role="viewer", actor=ADMIN)
    with pytest.raises(InputError, match=r"`username` 'admin1' already has an account"):
        auth.create_user(con, "ADMIN1", "long-enough-pw", role="viewer", actor=ADMIN)
    with pytest.raises(InputError, match=r"`password` has 5 characters but must have at least 10"):
        auth.create_user(con, "newbie", "short", role="viewer", actor=ADMIN)
    with pytest.raises(InputError, match=r"`password` is 75 bytes in UTF-8 but may be at most 72"):
        auth.create_user(con, "newbie", "密" * 25, role="viewer", actor=ADMIN)
    with pytest.raises(InputError, match=r"`password` must not be the username"):
        auth.create_user(con, "newbie1234", "Newbie1234", role="viewer", actor=ADMIN)
    with pytest.raises(InputError, match=r"`role` was 'boss' but must be one of"):
        auth.create_user(con, "newbie", "long-enough-pw", role="boss", actor=ADMIN)
    with pytest.raises(InputError, match=r"`county_code` was None but an editor needs a reporting unit"):
        auth.create_user(con, "newbie", "long-enough-pw", role="county_editor", actor=ADMIN)
    with pytest.raises(InputError, match=r"`county_code` was '999999' but an editor needs a reporting unit"):
        auth.create_user(con, "newbie", "long-enough-pw", role="county_editor", county_code="999999", actor=ADMIN)
    with pytest.raises(InputError, match=r"`county_code` was '370811' but only a county editor has a county"):
        auth.create_user(con, "newbie", "long-enough-pw", role="viewer", county_code="370811", actor=ADMIN)
    with pytest.raises(InputError, match=r"`username` 'ghost' has no account"):
        auth.reset_password(con, "ghost", "long-enough-pw", actor=ADMIN)
    assert len(auth.list_users(con)) == 3
    assert len(audit.read_log(con)) == 3  # nothing was recorded for the refusals


@pytest.mark.parametrize("actor", [None, VIEWER, EDITOR])
def test_only_administrators_manage_accounts(con, actor):
    with pytest.raises(PermissionDenied, match="manage users"):
        auth.create_user(con, "newbie", "long-enough-pw", role="admin", actor=actor)
    with pytest.raises(PermissionDenied, match="manage users"):
        auth.reset_password(con, "admin1", "long-enough-pw", actor=actor)
    with pytest.raises(PermissionDenied, match="manage users"):
        auth.set_disabled(con, "admin1", True, actor=actor)
    with pytest.raises(PermissionDenied, match="manage users"):
        auth.set_role(con, "leader", role="admin", actor=actor)
    assert auth.authenticate(con, "admin1", "admin-password-1", now=T0) == ADMIN


def test_disable_signs_out_and_blocks_sign_in_enable_restores(con):
    token = auth.start_session(con, EDITOR, now=T0)
    auth.set_disabled(con, "rencheng", True, actor=ADMIN)
    assert auth.session_user(con, token, now=T0) is None
    assert auth.get_user(con, "rencheng") is None
    with pytest.raises(SignInFailed, match=r"'rencheng' is disabled"):
        auth.authenticate(con, "rencheng", "editor-password-1", now=T0)
    auth.set_disabled(con, "rencheng", False, actor=ADMIN)
    assert auth.authenticate(con, "rencheng", "editor-password-1", now=T0) == EDITOR
    assert _changes(con)[:2] == ["user_enable", "user_disable"]


def test_the_last_administrator_stays(con):
    with pytest.raises(InputError, match=r"`username` 'admin1' is your own account"):
        auth.set_disabled(con, "admin1", True, actor=ADMIN)
    with pytest.raises(InputError, match=r"'admin1' is the last enabled administrator"):
        auth.set_disabled(con, "admin1", True, actor=CLI)
    with pytest.raises(InputError, match=r"'admin1' is the last enabled administrator"):
        auth.set_role(con, "admin1", role="viewer", actor=CLI)
    auth.create_user(con, "admin2", "admin-password-2", role="admin", actor=CLI)
    auth.set_disabled(con, "admin1", True, actor=CLI)
    assert auth.get_user(con, "admin1") is None


def test_set_role_changes_permissions_and_ends_sessions(con):
    token = auth.start_session(con, VIEWER, now=T0)
    auth.set_role(con, "leader", role="county_editor", county_code="370812", actor=ADMIN)
    assert auth.session_user(con, token, now=T0) is None
    user = auth.authenticate(con, "leader", "viewer-password-1", now=T0)
    assert user == auth.User("leader", "county_editor", "370812")
    auth.require(user, "submit_report", county_code="370812")
    with pytest.raises(PermissionDenied):
        auth.require(user, "submit_report", county_code="370811")


def test_reset_password_replaces_the_old_one_and_ends_sessions(con):
    token = auth.start_session(con, VIEWER, now=T0)
    auth.reset_password(con, "leader", "brand-new-password", actor=ADMIN, now=T0)
    assert auth.session_user(con, token, now=T0) is None
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "leader", "viewer-password-1", now=T0)
    assert auth.authenticate(con, "leader", "brand-new-password", now=T0) == VIEWER


def test_change_own_password_needs_the_current_one(con):
    with pytest.raises(SignInFailed, match="current password is wrong"):
        auth.change_own_password(con, VIEWER, "not-my-password", "another-password-1")
    auth.change_own_password(con, VIEWER, "viewer-password-1", "another-password-1")
    assert auth.authenticate(con, "leader", "another-password-1", now=T0) == VIEWER
    assert _changes(con)[0] == "user_change_password"


def test_list_users_never_shows_hashes(con):
    users = auth.list_users(con, now=T0)
    assert list(users["username"]) == ["admin1", "leader", "rencheng"]
    assert "password_hash" not in users.columns
    assert not any(users.astype(str).apply(lambda col: col.str.contains(r"\$2b\$")).any())


# --- throttling ----------------------------------------------------------------------------------


def test_lock_seconds_grow_exponentially_to_the_cap(monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 3)
    monkeypatch.setattr(settings, "SIGN_IN_LOCK_BASE_S", 30)
    monkeypatch.setattr(settings, "SIGN_IN_LOCK_MAX_S", 900)
    assert [auth.lock_seconds(n) for n in range(1, 11)] == [0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert auth.lock_seconds(10_000) == 900


def test_repeated_failures_lock_the_username_even_for_the_right_password(con, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 3)
    monkeypatch.setattr(settings, "SIGN_IN_LOCK_BASE_S", 30)
    for _ in range(3):
        with pytest.raises(SignInFailed, match="username or password is wrong") as err:
            auth.authenticate(con, "leader", "wrong-password", now=T0)
        assert not isinstance(err.value, SignInThrottled)
    with pytest.raises(SignInThrottled, match="now locked; try again in 30 s") as err:
        auth.authenticate(con, "leader", "wrong-password", now=T0)
    assert err.value.retry_after_s == 30
    # the right password is refused while locked, and the refusal does not lengthen the lock
    with pytest.raises(SignInThrottled, match=r"try again in 10 s") as err:
        auth.authenticate(con, "leader", "viewer-password-1", now=T0 + timedelta(seconds=20))
    assert err.value.retry_after_s == 10
    # after the lock, one more wrong password doubles it
    with pytest.raises(SignInThrottled, match="try again in 60 s"):
        auth.authenticate(con, "leader", "wrong-password", now=T0 + timedelta(seconds=30))
    assert auth.list_users(con, now=T0 + timedelta(seconds=31)).set_index("username").loc["leader", "locked_until"] == (
        T0 + timedelta(seconds=90)
    )
    # other usernames are not affected
    assert auth.authenticate(con, "rencheng", "editor-password-1", now=T0) == EDITOR
    # after the lock the right password works and clears the count
    assert auth.authenticate(con, "leader", "viewer-password-1", now=T0 + timedelta(seconds=90)) == VIEWER
    with pytest.raises(SignInFailed) as err:
        auth.authenticate(con, "leader", "wrong-password", now=T0 + timedelta(seconds=91))
    assert not isinstance(err.value, SignInThrottled)
    # the lock is in the audit log once
    locks = audit.read_log(con).query("action == 'sign_in_locked'")
    assert len(locks) == 1 and json.loads(locks["detail"].iloc[0])["user"] == "leader"


def test_throttle_survives_a_restart(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 1)
    path = _empty_db(tmp_path / "restart.duckdb")
    con = store.connect(path)
    auth.create_user(con, "leader", "viewer-password-1", role="viewer", actor=CLI)
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "leader", "nope-nope-nope", now=T0)
    with pytest.raises(SignInThrottled):
        auth.authenticate(con, "leader", "nope-nope-nope", now=T0)
    con.close()
    con = store.connect(path)
    with pytest.raises(SignInThrottled, match="try again in 30 s"):
        auth.authenticate(con, "leader", "viewer-password-1", now=T0)
    con.close()


def test_unknown_usernames_are_throttled_with_the_same_message(con, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 1)
    with pytest.raises(SignInFailed, match="username or password is wrong"):
        auth.authenticate(con, "nobody", "whatever-password", now=T0)
    with pytest.raises(SignInThrottled, match="'nobody' is now locked"):
        auth.authenticate(con, "nobody", "whatever-password", now=T0)


def test_old_failures_are_forgotten(con, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 1)
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "leader", "wrong-password", now=T0)
    later = T0 + timedelta(hours=auth.FAILURE_MEMORY_H, seconds=1)
    with pytest.raises(SignInFailed) as err:
        auth.authenticate(con, "leader", "wrong-password", now=later)
    assert not isinstance(err.value, SignInThrottled)


def test_reset_clears_a_lock(con, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_FREE_FAILURES", 0)
    with pytest.raises(SignInThrottled):
        auth.authenticate(con, "leader", "wrong-password", now=T0)
    auth.reset_password(con, "leader", "fresh-password-9", actor=ADMIN, now=T0)
    assert auth.authenticate(con, "leader", "fresh-password-9", now=T0) == VIEWER


# --- sessions ------------------------------------------------------------------------------------


def test_session_lasts_until_its_absolute_expiry(con, monkeypatch):
    monkeypatch.setattr(settings, "SESSION_TTL_MIN", 120)
    monkeypatch.setattr(settings, "SESSION_IDLE_MIN", 60)
    token = auth.start_session(con, EDITOR, now=T0)
    stored = con.execute("SELECT token_sha256, expires_at FROM sessions").fetchall()
    assert stored[0][0] != token and len(stored[0][0]) == 64 and stored[0][1] == T0 + timedelta(minutes=120)
    # page views every 50 minutes keep it alive until the 120-minute limit
    for minutes in (50, 100, 119):
        assert auth.session_user(con, token, now=T0 + timedelta(minutes=minutes)) == EDITOR
    assert auth.session_user(con, token, now=T0 + timedelta(minutes=120)) is None
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def test_session_ends_after_idle_time(con, monkeypatch):
    monkeypatch.setattr(settings, "SESSION_IDLE_MIN", 60)
    token = auth.start_session(con, EDITOR, now=T0)
    assert auth.session_user(con, token, now=T0 + timedelta(minutes=59)) == EDITOR
    assert auth.session_user(con, token, now=T0 + timedelta(minutes=118)) == EDITOR
    assert auth.session_user(con, token, now=T0 + timedelta(minutes=178, seconds=1)) is None


def test_sign_out_and_unknown_tokens(con):
    token = auth.start_session(con, ADMIN, now=T0)
    assert auth.session_user(con, token + "x", now=T0) is None
    assert auth.session_user(con, None, now=T0) is None
    auth.end_session(con, token)
    assert auth.session_user(con, token, now=T0) is None
    auth.end_session(con, None)


# --- the command-line tool -----------------------------------------------------------------------


class _Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def _changes(con) -> list[str]:
    """Actions of the audit log that change data or accounts, newest first (sign-ins and refusals left out)."""
    return [a for a in audit.read_log(con)["action"] if a not in audit.ACCESS_ACTIONS]


def _empty_db(path):
    """A database file with the schema but no data (quicker than building the demo)."""
    con = store._raw_connect(path, read_only=False)
    migrate(con)
    con.close()
    return path


def _cli(db, *argv, stdin=""):
    out = io.StringIO()
    status = users_cli.run(["--db", str(db), *argv], stdin=_Stdin(stdin), stdout=out)
    return status, out.getvalue()


def test_cli_creates_the_first_administrator_and_manages_accounts(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    db = _empty_db(tmp_path / "cli.duckdb")
    assert _cli(db, "list")[1].startswith("no accounts yet")
    assert _cli(db, "add", "Chief", "--role", "admin", stdin=SECRET + "\n") == (0, "created chief (admin)\n")
    assert _cli(db, "add", "rencheng", "--role", "county_editor", "--county", "370811",
                stdin="editor-password-1\n")[0] == 0
    assert _cli(db, "reset", "rencheng", stdin="editor-password-2\r\n")[0] == 0
    assert _cli(db, "disable", "rencheng") == (0, "disabled rencheng\n")
    status, listing = _cli(db, "list")
    assert status == 0 and "chief" in listing and "county_editor" in listing and "$2b$" not in listing
    assert _cli(db, "enable", "rencheng")[0] == 0
    assert _cli(db, "role", "rencheng", "--role", "viewer")[0] == 0
    con = store.connect(db)
    assert auth.authenticate(con, "chief", SECRET) == auth.User("chief", "admin")
    assert auth.authenticate(con, "rencheng", "editor-password-2") == auth.User("rencheng", "viewer")
    changes = audit.read_log(con).query("action not in @audit.ACCESS_ACTIONS")
    assert list(changes["action"])[:6][::-1] == ["user_create", "user_create", "user_reset_password", "user_disable",
                                                 "user_enable", "user_set_role"]
    assert set(changes["username"][:6]) == {users_cli._actor().username}
    con.close()
    assert SECRET not in caplog.text and SECRET.encode() not in db.read_bytes()


def test_cli_refusals_exit_1_with_the_reason(tmp_path, caplog):
    db = _empty_db(tmp_path / "cli.duckdb")
    assert _cli(db, "add", "chief", "--role", "admin", stdin="short\n")[0] == 1
    assert "`password` has 5 characters" in caplog.text
    assert _cli(db, "add", "chief", "--role", "admin", stdin="")[0] == 1
    assert "No password on standard input" in caplog.text
    assert _cli(db, "reset", "ghost", stdin="long-enough-pw\n")[0] == 1
    assert "'ghost' has no account" in caplog.text
    with pytest.raises(SystemExit):
        _cli(db, "add", "chief", "--role", "boss")


def test_cli_reports_a_locked_database(tmp_path, caplog):
    db = _empty_db(tmp_path / "held.duckdb")

    code = f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "ok"
            assert _cli(db, "list")[0] == 1
            assert "in use by another process" in caplog.text
        finally:
            holder.kill()


# --- the weekly report write path with a signed-in county editor ------------------------------------


def test_signed_in_county_editor_cannot_store_another_countys_report(tmp_path):
    """The user comes from a real sign-in; the write function is called directly, county forged or not."""
    from datetime import date

    from analytics.services import reports

    con = store.connect(tmp_path / "reports.duckdb")
    try:
        auth.create_user(con, "rencheng", "editor-password-1", role="county_editor", county_code="370811", actor=CLI)
        auth.create_user(con, "zoucheng", "editor-password-2", role="county_editor", county_code="370883", actor=CLI)
        rencheng = auth.authenticate(con, "rencheng", "editor-password-1")
        zoucheng = auth.authenticate(con, "zoucheng", "editor-password-2")
        week = date(2021, 1, 8)
        data = reports.report_template(con, "370811", week)
        preview = reports.prepare_report(con, data, "任城周报.xlsx", county_code="370811", report_date=week,
                                         user=rencheng)
        count = "SELECT count(*) FROM progress_reports WHERE report_date = DATE '2021-01-08'"
        with pytest.raises(PermissionDenied, match=r"'zoucheng' may write only for unit '370883', not '370811'"):
            reports.submit_report(con, preview, user=zoucheng)
        with pytest.raises(PermissionDenied, match=r"Signing in is required to submit report"):
            reports.submit_report(con, preview, user=None)
        preview.county_code = "370883"  # forged to pass the role check: the rows are still 任城's
        with pytest.raises(ImportRejected, match=r"rows of compounds outside unit 370883"):
            reports.submit_report(con, preview, user=zoucheng)
        assert con.execute(count).fetchone()[0] == 0
        preview.county_code = "370811"
        result = reports.submit_report(con, preview, user=rencheng)
        assert con.execute(count).fetchone()[0] == result.rows_written > 0
        assert audit.read_log(con, limit=1)["username"].iloc[0] == "rencheng"
    finally:
        con.close()
