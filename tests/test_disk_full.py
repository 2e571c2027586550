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
