"""Faults: a writer killed mid-write leaves the old data or the new, never a mix; a locked file is explained.

Each kill runs a real writer process and SIGKILLs it at a known point:

* the import a user runs from the data page (``analytics.importing.importer.prepare`` + ``commit``, replacing the
  parcels with a 22,000-row GeoJSON; the commit also writes the audit log, the import batch, the undo
  snapshot and ``dataset_info``), and
* ``analytics.store.write_dataset`` replacing parcels and facilities with a large synthetic set.

"Inside the transaction" kills are deterministic: the writer prints ``holding`` after its rows are
inserted and then waits, still inside the transaction, until it is killed. "Around the commit" kills
land a few milliseconds after the writer says it is committing. The database is then reopened the way
the app opens it, every table the write touches is compared with the state before and after a write
that was allowed to finish, and the app itself is run on it.
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

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import settings, store
from analytics.errors import DatabaseLocked
from dashboard.labels import t

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
COPIES = 12  # the import file holds the demo parcels this many times, shifted, with new ids
N_PARCELS = 60_000
N_FACILITIES = 20_000

# Writer processes. argv: database, hold ("hold" or "go"), then the mode's own arguments. Each prints
# "begin" before it writes, "holding" (and waits on stdin) once its rows are in, "committing" just
# before the commit, and "committed" at the end.
IMPORT_WRITER = textwrap.dedent(
    """
    import sys
    from analytics import store
    from analytics.importing import importer
    from analytics.services.auth import User
    from analytics.importing import write

    path, hold, upload = sys.argv[1], sys.argv[2] == "hold", sys.argv[3]
    con = store.connect(path)
    preview = importer.prepare(open(upload, "rb").read(), "parcels.geojson", kind="parcels",
                                user=User("fault-test", "admin"))
    assert preview.n_invalid == 0, preview.problems
    insert_frame = importer.insert_frame
    in_transaction = write.in_transaction

    def traced_insert(con, table, frame):
        rows = insert_frame(con, table, frame)
        if hold:
            print("holding", flush=True)
            sys.stdin.readline()
        return rows

    def traced_transaction(con, work):
        def run():
            result = work()
            print("committing", flush=True)
            return result
        return in_transaction(con, run)

    importer.insert_frame = traced_insert
    write.in_transaction = traced_transaction
    print("begin", flush=True)
    importer.commit(con, preview, user=User("fault-test", "admin"), mode="replace")
    print("committed", flush=True)
    con.close()
    """
)
DATASET_WRITER = textwrap.dedent(
    """
    import sys
    from analytics.store import connection as store  # insert_frame patched where write_dataset calls it
    from analytics.store import demo

    path, hold, n_parcels, n_facilities = sys.argv[1], sys.argv[2] == "hold", int(sys.argv[3]), int(sys.argv[4])
    con = store.connect(path)
    data = demo.generate_synthetic(7, n_compounds=1_000, n_parcels=n_parcels, n_facilities=n_facilities)
    insert_frame = store.insert_frame

    def traced_insert(con, table, frame):
        rows = insert_frame(con, table, frame)
        if hold and table == "parcels":
            print("holding", flush=True)
            sys.stdin.readline()
        if table == "facilities":
            print("committing", flush=True)
        return rows

    store.insert_frame = traced_insert
    print("begin", flush=True)
    store.write_dataset(con, {"parcels": data["parcels"], "facilities": data["facilities"]})
    print("committed", flush=True)
    con.close()
    """
)


def state(path: Path) -> dict[str, object]:
    """What the app would see after reopening ``path``: every table a parcel import or dataset write touches."""
    con = store.connect(path)
    try:
        one = lambda sql: con.execute(sql).fetchone()  # noqa: E731 - a local shorthand
        store.read_layer(con, "parcels")  # the stored geometries decode
        return {
            "parcels": one("SELECT count(*), round(sum(area_m2), 1), min(id), max(id) FROM parcels"),
            "facilities": one("SELECT count(*), min(id), max(id) FROM facilities"),
            "audit_log": one("SELECT count(*), max(id) FROM audit_log"),
            "import_batches": one("SELECT count(*) FROM import_batches"),
            "undo_parcels": one("SELECT count(*) FROM undo_parcels"),
            # the time of an import differs from run to run; its presence does not
            "dataset_info": tuple(sorted((key, "<time>" if key.endswith("_at") else value)
                                         for key, value in con.execute("SELECT key, value FROM dataset_info").fetchall())),
        }
    finally:
        con.close()


def run_writer(script: str, path: Path, args: list[str], *, kill_after: str | None, delay_s: float = 0.0,
               hold: bool = False) -> list[str]:
    """Run a writer on ``path``; SIGKILL it ``delay_s`` after it prints ``kill_after`` (None: let it finish).

    Returns the lines it printed, plus ``"finished"`` when it completed before a timed kill reached it (a
    kill ``delay_s`` after a line can land after the end; a held writer is always killed).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", script, str(path), "hold" if hold else "go", *args]
    seen: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as writer:
        for line in writer.stdout:
            seen.append(line.strip())
            if kill_after is not None and line.strip() == kill_after:
                time.sleep(delay_s)
                writer.send_signal(signal.SIGKILL)
                break
        rest, errors = writer.communicate(timeout=180)
    if kill_after is None or (not hold and writer.returncode == 0):
        assert writer.returncode == 0, errors
        return [*seen, *rest.split(), "finished"]
    assert writer.returncode == -signal.SIGKILL, (seen, errors)
    return seen


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return store.build_demo_database(tmp_path_factory.mktemp("faults") / "pristine.duckdb")


@pytest.fixture(scope="module")
def upload(pristine, tmp_path_factory) -> Path:
    """A GeoJSON of parcels (EPSG:4326) the importer accepts whole: the demo's, shifted, several times over."""
    con = store.connect(pristine, read_only=True)
    try:
        base = store.read_layer(con, "parcels")
    finally:
        con.close()
    parts = []
    for k in range(COPIES):
        part = base.copy()
        part["id"] = [f"R{k:02d}{i:05d}" for i in range(len(part))]
        part["geometry"] = part.geometry.translate(15.0 * k, -10.0 * k)
        parts.append(part)
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=base.crs).to_crs(settings.STORAGE_CRS)
    path = tmp_path_factory.mktemp("faults-upload") / "parcels.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


def copies(pristine: Path, tmp_path: Path, n: int) -> list[Path]:
    return [Path(shutil.copyfile(pristine, tmp_path / f"db{i}.duckdb")) for i in range(n)]


def run_app(monkeypatch, path: Path) -> AppTest:
    monkeypatch.setattr(settings, "DB_PATH", path)
    return AppTest.from_file(str(APP), default_timeout=120).run()


@pytest.mark.slow
def test_import_killed_leaves_old_or_new_and_the_app_starts(pristine, upload, tmp_path, monkeypatch):
    # (held inside the transaction?, line to kill after, seconds after it); the last run is left to finish
    runs = [(True, "holding", 0.0), (False, "committing", 0.0), (False, "committing", 0.02),
            (False, "committing", 0.1), (False, None, 0.0)]
    paths = copies(pristine, tmp_path, len(runs))
    with ThreadPoolExecutor(max_workers=2) as pool:
        seen = list(pool.map(
            lambda job: run_writer(IMPORT_WRITER, job[0], [str(upload)], kill_after=job[1][1], delay_s=job[1][2],
                                   hold=job[1][0]),
            zip(paths, runs)))
    old, new = state(pristine), state(paths[-1])
    assert seen[-1][-2:] == ["committed", "finished"]
    assert new["parcels"][0] == COPIES * old["parcels"][0]
    assert new["audit_log"][0] == old["audit_log"][0] + 1 and new["import_batches"] == (1,)
    assert new["undo_parcels"] == (old["parcels"][0],)
    for path, (hold, point, delay), lines in zip(paths[:-1], runs[:-1], seen[:-1]):
        after = state(path)
        assert after in (old, new), f"kill at {point!r}+{delay}s left a mix: {after} (old {old}, new {new})"
        if hold:
            assert "committing" not in lines and after == old, "an import killed before its commit left data"
        if "finished" in lines:
            assert after == new
    at = run_app(monkeypatch, paths[0])
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.slow
def test_dataset_write_killed_leaves_old_or_new(pristine, tmp_path):
    runs = [(True, "holding", 0.0), (False, "begin", 0.8), (False, "committing", 0.0),
            (False, "committing", 0.2), (False, None, 0.0)]
    paths = copies(pristine, tmp_path, len(runs))
    with ThreadPoolExecutor(max_workers=2) as pool:
        seen = list(pool.map(
            lambda job: run_writer(DATASET_WRITER, job[0], [str(N_PARCELS), str(N_FACILITIES)], kill_after=job[1][1],
                                   delay_s=job[1][2], hold=job[1][0]),
            zip(paths, runs)))
    old, new = state(pristine), state(paths[-1])
    assert seen[-1][-2:] == ["committed", "finished"]
    assert new["parcels"][0] == N_PARCELS and new["facilities"][0] == N_FACILITIES
    for path, (hold, point, delay), lines in zip(paths[:-1], runs[:-1], seen[:-1]):
        after = state(path)
        assert after in (old, new), f"kill at {point!r}+{delay}s left a mix: {after} (old {old}, new {new})"
        if hold:
            assert "committing" not in lines and after == old, "a write killed before its commit left data"
        if "finished" in lines:
            assert after == new


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
