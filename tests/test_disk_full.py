"""A full disk is reported as a full disk (and logged), not as "another write is in progress"."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from analytics.errors import DataError
from analytics.importing import write

ROOT = Path(__file__).resolve().parent.parent
# What DuckDB 1.5 raises when the commit cannot be written (measured on a full 8 MB tmpfs, see below).
DUCKDB_FULL = ('TransactionContext Error: Failed to commit: Could not write file "/srv/jiugai.duckdb": '
               "No space left on device")


class _CommitFails:
    def __init__(self, con, error: Exception):
        self._con, self._error = con, error

    def execute(self, sql, *args):
        if sql == "COMMIT":
            raise self._error
        return self._con.execute(sql, *args)


def test_a_full_disk_is_named_and_logged(mem_con, caplog):
    caplog.set_level(logging.ERROR)
    con = _CommitFails(mem_con, duckdb.TransactionException(DUCKDB_FULL))
    with pytest.raises(DataError, match="disk holding the database is full") as caught:
        write.in_transaction(con, lambda: mem_con.execute("INSERT INTO dataset_info VALUES ('k', 'v')"))
    assert caught.value.code == "store.disk_full"
    assert any("disk holding the database is full" in r.getMessage() for r in caplog.records)
    assert mem_con.execute("SELECT count(*) FROM dataset_info WHERE key = 'k'").fetchone()[0] == 0


def test_a_write_conflict_is_still_a_conflict(mem_con):
    con = _CommitFails(mem_con, duckdb.TransactionException("TransactionContext Error: Conflict on tuple deletion!"))
    with pytest.raises(DataError, match="Another write to the same data was in progress") as caught:
        write.in_transaction(con, lambda: None)
    assert caught.value.code == "data"


CHILD = textwrap.dedent("""
    import sys
    from analytics.importing import write
    from analytics.errors import DataError
    from analytics.store.connection import _raw_connect
    from analytics.store.schema import migrate
    folder = sys.argv[1]
    con = _raw_connect(folder + "/jiugai.duckdb", read_only=False)
    migrate(con)
    con.execute("CHECKPOINT")
    with open(folder + "/filler", "wb") as filler:
        try:
            while True:
                filler.write(bytes(65536))
        except OSError:
            pass
    try:
        write.in_transaction(con, lambda: con.execute(
            "INSERT INTO dataset_info SELECT 'k' || i, repeat('x', 1000) FROM range(200000) t(i)"))
        print("stored")
    except DataError as exc:
        print(exc.code)
""")


@pytest.mark.skipif(shutil.which("unshare") is None or subprocess.run(
    ["unshare", "-rm", "true"], capture_output=True).returncode != 0,
    reason="no user namespaces here to mount a small disk")
def test_a_really_full_disk(tmp_path):
    """On an 8 MB file system filled up: DuckDB's own error, through the real write path."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=8m tmpfs "{folder}" && "{sys.executable}" "{script}" '
                                       f'"{folder}"'],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1:] == ["store.disk_full"], done.stderr[-2000:]


# ------------------------------------------------------------ writes outside the import's transaction helper
class _WritesFail:
    """A connection whose statements matching ``needle`` fail as DuckDB does on a full disk."""

    def __init__(self, con, needle: str):
        self._con, self._needle = con, needle

    def execute(self, sql, *args):
        if self._needle in sql:
            raise duckdb.TransactionException(DUCKDB_FULL)
        return self._con.execute(sql, *args)


@pytest.fixture
def quick_bcrypt(monkeypatch):
    from analytics import settings
    from analytics.services import auth

    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)
    auth._dummy_hash.cache_clear()
    yield auth
    auth._dummy_hash.cache_clear()


def test_an_account_change_on_a_full_disk_is_named_and_logged(mem_con, quick_bcrypt, caplog):
    auth = quick_bcrypt
    caplog.set_level(logging.ERROR)
    admin = auth.User("cli:test", "admin")
    with pytest.raises(DataError, match="disk holding the database is full") as caught:
        auth.create_user(_CommitFails(mem_con, duckdb.TransactionException(DUCKDB_FULL)), "leader",
                         "viewer-password-1", role="viewer", actor=admin)
    assert caught.value.code == "store.disk_full"
    assert any("an account change" in r.getMessage() and "disk" in r.getMessage() for r in caplog.records)
    assert mem_con.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_a_sign_in_on_a_full_disk_is_refused_and_the_log_names_the_cause(mem_con, quick_bcrypt, caplog):
    auth = quick_bcrypt
    from analytics.errors import SignInFailed

    auth.create_user(mem_con, "leader", "viewer-password-1", role="viewer", actor=auth.User("cli:test", "admin"))
    caplog.set_level(logging.ERROR)
    with pytest.raises(SignInFailed, match="could not be checked"):
        auth.authenticate(_WritesFail(mem_con, "INSERT INTO sign_in_failures"), "leader", "viewer-password-1")
    assert any("could not count the attempt (the disk holding the database is full)" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("error", [
    duckdb.TransactionException(DUCKDB_FULL),
    OSError(28, "No space left on device"),
], ids=["database", "temporary-file"])
def test_a_page_names_a_full_disk(error, monkeypatch, caplog):
    from dashboard import ui
    from dashboard.labels import t

    shown = []
    monkeypatch.setattr(ui.st, "error", shown.append)
    caplog.set_level(logging.ERROR)
    ui.show_error(error)
    assert shown == [t("common.error", msg=t("error.store.disk_full"))]
    assert any("disk holding the database is full" in r.getMessage() for r in caplog.records)
    shown.clear()
    ui.show_error(RuntimeError("something else"))
    assert shown == [t("common.error", msg="RuntimeError")]
