"""Faults: a writer killed mid-transaction leaves the old data or the new, never a mix; a locked file is explained.

Each kill runs a real writer process (``store.write_dataset`` replacing parcels and facilities with a large
synthetic set in one transaction) and SIGKILLs it at a known point, found from the lines it prints as it
goes. The database is then reopened the way the app opens it, and the app itself is run on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import settings, store
from analytics.errors import DatabaseLocked
from dashboard.labels import t

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
N_PARCELS = 60_000
N_FACILITIES = 20_000

# The writer: replace parcels and facilities in one transaction, saying "inserted <table>" after each insert.
WRITER = textwrap.dedent(
    """
    import sys
    from analytics import demo, store

    con = store.connect(sys.argv[1])
    data = demo.generate_synthetic(7, n_compounds=1_000, n_parcels=int(sys.argv[2]), n_facilities=int(sys.argv[3]))
    insert_frame = store.insert_frame

    def traced(con, table, frame):
        rows = insert_frame(con, table, frame)
        print("inserted", table, flush=True)
        return rows

    store.insert_frame = traced
    print("begin", flush=True)
    store.write_dataset(con, {"parcels": data["parcels"], "facilities": data["facilities"]})
    print("committed", flush=True)
    con.close()
    """
)


def state(path: Path) -> tuple[int, float, int]:
    """(parcels, total parcel area m², facilities) as the app sees them after reopening ``path``."""
    con = store.connect(path)
    try:
        parcels, area = con.execute("SELECT count(*), round(sum(area_m2), 1) FROM parcels").fetchone()
        facilities = con.execute("SELECT count(*) FROM facilities").fetchone()[0]
        store.read_layer(con, "parcels")  # geometries decode
    finally:
        con.close()
    return int(parcels), float(area), int(facilities)


def run_writer(path: Path, *, kill_after: str | None, delay_s: float = 0.0) -> list[str]:
    """Run the writer on ``path``; SIGKILL it ``delay_s`` after it prints ``kill_after`` (None: let it finish)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", WRITER, str(path), str(N_PARCELS), str(N_FACILITIES)]
    seen: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as writer:
        for line in writer.stdout:
            seen.append(line.strip())
            if kill_after is not None and line.strip() == kill_after:
                time.sleep(delay_s)
                writer.send_signal(signal.SIGKILL)
                break
        _, errors = writer.communicate(timeout=120)
    if kill_after is None:
        assert writer.returncode == 0, errors
    else:
        assert writer.returncode == -signal.SIGKILL, (seen, errors)
    return seen


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return store.build_demo_database(tmp_path_factory.mktemp("faults") / "pristine.duckdb")


@pytest.fixture(scope="module")
def old_and_new(pristine, tmp_path_factory) -> tuple[tuple, tuple]:
    """The state before any write, and after a write that was left to finish."""
    done = tmp_path_factory.mktemp("faults-done") / "done.duckdb"
    shutil.copyfile(pristine, done)
    seen = run_writer(done, kill_after=None)
    assert seen[-1] == "committed"
    old, new = state(pristine), state(done)
    assert old != new and new[0] == N_PARCELS and new[2] == N_FACILITIES
    return old, new


def run_app(monkeypatch, path: Path) -> AppTest:
    monkeypatch.setattr(settings, "DB_PATH", path)
    return AppTest.from_file(str(APP), default_timeout=120).run()


@pytest.mark.slow
def test_sigkill_mid_write_leaves_old_or_new(pristine, old_and_new, tmp_path, monkeypatch):
    old, new = old_and_new
    # (line to wait for, seconds after it): inside the transaction, and around its commit.
    kill_points = [("inserted parcels", 0.0), ("begin", 0.8), ("inserted facilities", 0.0),
                   ("inserted facilities", 0.2)]
    paths = [shutil.copyfile(pristine, tmp_path / f"kill{i}.duckdb") for i in range(len(kill_points))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda job: run_writer(job[0], kill_after=job[1][0], delay_s=job[1][1]),
                             zip(paths, kill_points)))
    for path, (point, delay), seen in zip(paths, kill_points, runs):
        assert "committed" not in seen, f"the writer finished before the kill at {point!r}+{delay}s"
        after = state(path)
        assert after in (old, new), f"kill at {point!r}+{delay}s left a mix: {after} (old {old}, new {new})"
        if point == "inserted parcels":
            assert after == old, "a transaction killed before its commit must leave the old data"
    at = run_app(monkeypatch, paths[0])
    assert not at.exception, at.exception
    assert at.title, "the app did not start on the database the killed writer left"


@pytest.fixture
def locked_db(pristine, tmp_path):
    """A copy of the demo database held open read-write by another process."""
    path = Path(shutil.copyfile(pristine, tmp_path / "locked.duckdb"))
    hold = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(120)"
    with subprocess.Popen([sys.executable, "-c", hold, str(path)], stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "locked"
        yield path
        holder.kill()


def test_locked_database_raises_database_locked(locked_db):
    with pytest.raises(DatabaseLocked, match="is in use by another process"):
        store.connect(locked_db)
    with pytest.raises(DatabaseLocked, match="is in use by another process"):
        store.connect(locked_db, read_only=True)


def test_locked_database_shows_the_message_not_a_traceback(locked_db, monkeypatch):
    at = run_app(monkeypatch, locked_db)
    assert not at.exception, at.exception
    assert t("common.db_locked") in [e.value for e in at.error]
