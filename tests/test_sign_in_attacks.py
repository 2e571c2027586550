"""Attacks on the sign-in box: filling the disk with usernames, parallel guesses, database errors, password
changes without a throttle, and access that left no trace in the audit log."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from datetime import datetime, timedelta

import duckdb
import pytest

from analytics import log_limits, settings
from analytics.errors import PermissionDenied, SignInFailed, SignInThrottled
from analytics.services import auth, backup
from analytics.store import audit
from analytics.store import connection as store

T0 = datetime(2026, 3, 2, 9, 0, 0)
CLI = auth.User("cli:test", "admin")
PASSWORD = "viewer-password-1"


@pytest.fixture
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def db(tmp_path, fast_bcrypt):
    path = tmp_path / "accounts.duckdb"
    con = store._raw_connect(path, read_only=False)
    from analytics.store.schema import migrate

    migrate(con)
    auth.create_user(con, "leader", PASSWORD, role="viewer", actor=CLI)
    auth.create_user(con, "admin1", "admin-password-1", role="admin", actor=CLI)
    con.close()
    return path


@pytest.fixture
def con(db):
    connection = store.connect(db)
    yield connection
    connection.close()


@pytest.fixture
def checks(monkeypatch):
    """Counts bcrypt checks (each slowed a little, as on a busy server, to widen any race)."""
    seen = []
    original = auth.verify_password

    def counted(password, password_hash):
        seen.append(password)
        time.sleep(0.02)
        return original(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", counted)
    return seen


def _failure_rows(con) -> list[tuple]:
    return con.execute("SELECT username, failures FROM sign_in_failures ORDER BY username").fetchall()


# ------------------------------------------------------------------------------- the box fills the disk
def test_a_name_that_cannot_be_a_username_stores_nothing_and_logs_nothing(db, con, checks, caplog):
    caplog.set_level(logging.DEBUG)
    audit_before = len(audit.read_log(con, limit=10_000))
    size_before = db.stat().st_size
    started = time.perf_counter()
    for i in range(10):
        with pytest.raises(SignInFailed, match="username or password is wrong"):
            auth.authenticate(con, f"{i}" + "x" * (5 * 1024 * 1024), "whatever-password", now=T0)
    assert time.perf_counter() - started < 5
    assert checks == []  # refused before the password is looked at
    assert _failure_rows(con) == []
    assert len(audit.read_log(con, limit=10_000)) == audit_before
    assert max((len(r.getMessage()) for r in caplog.records), default=0) < 300
    con.execute("CHECKPOINT")
    assert db.stat().st_size - size_before < 1024 * 1024


def test_names_without_an_account_are_kept_as_capped_digests_that_expire(con, monkeypatch):
    monkeypatch.setattr(settings, "SIGN_IN_UNKNOWN_NAMES_MAX", 5)
    for i in range(12):
        with pytest.raises(SignInFailed):
            auth.authenticate(con, f"ghost{i:02d}", "whatever-password", now=T0 + timedelta(seconds=i))
    rows = _failure_rows(con)
    assert len(rows) == 5
    assert all(name.startswith("#") and len(name) == 41 and "ghost" not in name for name, _ in rows)
    # the newest five are the ones kept: ghost11 is still counted (a second failure makes it 2)
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "ghost11", "whatever-password", now=T0 + timedelta(seconds=20))
    assert max(f for _, f in _failure_rows(con)) == 2
    # a day later every unlocked row has expired: the next failure leaves only its own row
    with pytest.raises(SignInFailed):
        auth.authenticate(con, "someone", "whatever-password", now=T0 + timedelta(hours=auth.FAILURE_MEMORY_H, seconds=30))
    assert [f for _, f in _failure_rows(con)] == [1]


def test_log_lines_are_capped():
    log_limits.install()
    log_limits.install()  # idempotent
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.log_limits")
    logger.addHandler(handler)
    try:
        logger.warning("upload %r refused", "名" * (5 * 1024 * 1024))
        logger.warning("short %s", "line")
    finally:
        logger.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert len(first) < settings.LOG_LINE_MAX_CHARS + 60 and "more characters cut" in first
    assert second == "short line"


def test_the_streamlit_message_limit_is_small():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for config in (root / ".streamlit" / "config.toml", root / "deploy" / "streamlit-server.toml"):
        assert tomllib.loads(config.read_text())["server"]["maxMessageSize"] <= 32, config


# ------------------------------------------------------------------------------------ parallel guesses
def test_parallel_guesses_check_at_most_three_passwords(db, checks):
    assert settings.SIGN_IN_FREE_FAILURES + 1 <= 3
    shared = store.connect(db)
    outcomes: list[str] = []
    start = threading.Barrier(24)

    def guess(i: int) -> None:
        cursor = shared.cursor()
        start.wait()
        try:
            auth.authenticate(cursor, "leader", f"guess-number-{i:02d}", now=T0)
            outcomes.append("signed in")
        except SignInThrottled:
            outcomes.append("throttled")
        except SignInFailed:
            outcomes.append("failed")
        except Exception as exc:  # noqa: BLE001 - any other exception is what the test looks for
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(checks) <= 3, f"{len(checks)} passwords were checked"
        assert set(outcomes) <= {"failed", "throttled"}, outcomes
        assert outcomes.count("throttled") >= 21
        # and the right password does not get in while the username is locked
        with pytest.raises(SignInThrottled):
            auth.authenticate(shared, "leader", PASSWORD, now=T0 + timedelta(seconds=1))
        assert len(auth._NAME_LOCKS) == 0  # no lock left behind for the usernames tried
    finally:
        shared.close()


class _FailingWrites:
    """A connection whose writes to ``sign_in_failures`` fail as a concurrent write would."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if "INSERT INTO sign_in_failures" in sql:
            raise duckdb.TransactionException("TransactionContext Error: Conflict on tuple deletion!")
        return self._con.execute(sql, *args)


@pytest.mark.parametrize("password", [PASSWORD, "wrong-password"], ids=["right", "wrong"])
def test_a_database_error_counts_as_a_failure(con, checks, password):
    with pytest.raises(SignInFailed, match="could not be checked"):
        auth.authenticate(_FailingWrites(con), "leader", password, now=T0)
    assert checks == []  # the attempt could not be counted, so the password was never tried
    assert _failure_rows(con) == []


# ------------------------------------------------------------------------------------ password change
def test_changing_ones_password_is_throttled_and_ends_the_other_sessions(con, checks):
    user = auth.User("leader", "viewer")
    here = auth.start_session(con, user, now=T0)
    others = [auth.start_session(con, user, now=T0) for _ in range(2)]
    for _ in range(settings.SIGN_IN_FREE_FAILURES):
        with pytest.raises(SignInFailed, match="current password is wrong"):
            auth.change_own_password(con, user, "a-wrong-guess-1", "brand-new-password", now=T0)
    with pytest.raises(SignInThrottled):
        auth.change_own_password(con, user, "a-wrong-guess-2", "brand-new-password", now=T0)
    checked = len(checks)
    with pytest.raises(SignInThrottled):  # even the right one, while locked, and without checking it
        auth.change_own_password(con, user, PASSWORD, "brand-new-password", now=T0 + timedelta(seconds=5))
    assert len(checks) == checked
    later = T0 + timedelta(seconds=settings.SIGN_IN_LOCK_MAX_S + 1)
    auth.change_own_password(con, user, PASSWORD, "brand-new-password", keep_token=here, now=later)
    assert auth.session_user(con, here, now=later) == user
    assert [auth.session_user(con, token, now=later) for token in others] == [None, None]
    assert auth.authenticate(con, "leader", "brand-new-password", now=later) == user


# ---------------------------------------------------------------------------------------- audit trail
def test_access_is_in_the_audit_log_without_changing_the_data_version(con):
    version = audit.data_version(con)
    last = con.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    admin = auth.authenticate(con, "admin1", "admin-password-1", now=T0)
    token = auth.start_session(con, admin, now=T0)
    auth.end_session(con, token)
    with pytest.raises(PermissionDenied):
        auth.require(auth.User("leader", "viewer"), "backup", con=con)
    with pytest.raises(PermissionDenied):
        backup.export_backup(con, user=None)
    backup.export_backup(con, user=admin)
    rows = con.execute("SELECT action, username, detail FROM audit_log WHERE id > ? ORDER BY id", [last]).fetchall()
    assert [(action, name) for action, name, _ in rows] == [
        ("sign_in", "admin1"), ("sign_out", "admin1"), ("permission_refused", "leader"),
        ("permission_refused", None), ("backup_export", "admin1"),
    ]
    assert json.loads(rows[2][2])["permission"] == "backup"
    assert json.loads(rows[4][2])["tables"]["compounds"] == 0
    assert audit.data_version(con) == version  # cached pages stay valid
