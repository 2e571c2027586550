"""Scheduled snapshots: consistent copy, rotation keeping the newest N, verify, and a tested restore."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from analytics import settings
from analytics.errors import DatabaseLocked, InputError, PermissionDenied
from analytics.services import auth, backup
from analytics.store import audit
from analytics.store import connection as store  # connect, and the raw open without migrations
from analytics.store.schema import LATEST_VERSION
from scripts import backup_job

CLI = auth.User("cli:root", "admin")
DEMO_COMPOUNDS = 1465  # the seeded demo: 1,125 compounds in plan years 2020–2026 and 340 candidates
T0 = datetime(2026, 3, 7, 2, 30, 0)


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(settings, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-template") / "jiugai.duckdb"
    con = store.connect(path)
    auth.create_user(con, "admin1", "admin-password-1", role="admin", actor=CLI)
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def live_db(template_db, tmp_path):
    """A demo database with one account, closed (as the nightly job finds it with the dashboard stopped)."""
    path = tmp_path / "live" / "jiugai.duckdb"
    path.parent.mkdir()
    shutil.copyfile(template_db, path)
    return path


def _checksums(path):
    con = store.connect(path)
    try:
        sums = backup.table_checksums(con, ("compounds", "progress_reports", "funding", "users"))
        return sums, len(audit.read_log(con, limit=100_000))
    finally:
        con.close()


def test_snapshot_names_sort_by_time():
    assert backup_job.snapshot_name(T0) == "jiugai-20260307-023000.duckdb"
    names = [backup_job.snapshot_name(T0 + timedelta(days=d, seconds=s)) for d, s in ((1, 0), (0, 5), (0, 0))]
    assert sorted(names) == [names[2], names[1], names[0]]


def test_nightly_snapshots_keep_the_newest_n(live_db, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a snapshot")
    con = store.connect(live_db)
    try:
        made = [backup_job.take_snapshot(con, folder, keep=3, now=T0 + timedelta(days=day)) for day in range(5)]
    finally:
        con.close()
    assert [p.name for p in backup_job.list_snapshots(folder)] == [p.name for p in made[2:]]
    assert (folder / "notes.txt").exists()
    assert not list(folder.glob("*.partial*"))
    assert backup_job.rotate(folder, keep=1) == made[2:4]
    assert backup_job.list_snapshots(folder) == [made[4]]


def test_snapshot_equals_the_database_and_verifies(live_db, tmp_path):
    con = store.connect(live_db)
    try:
        path = backup_job.take_snapshot(con, tmp_path / "b", keep=2, now=T0)
    finally:
        con.close()
    assert _checksums(path) == _checksums(live_db)
    info = backup_job.verify_snapshot(path)
    assert info.schema_version == LATEST_VERSION
    assert info.rows["users"] == 1 and info.rows["compounds"] == DEMO_COMPOUNDS


def test_restore_brings_back_the_snapshot_and_keeps_the_replaced_file(live_db, tmp_path):
    con = store.connect(live_db)
    try:
        snap = backup_job.take_snapshot(con, tmp_path / "b", keep=2, now=T0)
    finally:
        con.close()
    before = _checksums(live_db)
    # the day goes wrong: data deleted, an account added
    con = store.connect(live_db)
    try:
        con.execute("DELETE FROM progress_reports WHERE county_code = '370811'")
        con.execute("DELETE FROM compounds WHERE plan_year = 2025")
        auth.create_user(con, "intruder", "intruder-password", role="admin", actor=CLI)
    finally:
        con.close()
    damaged = _checksums(live_db)
    assert damaged[0] != before[0]

    kept = backup_job.restore_file(snap, live_db, actor=CLI, now=T0 + timedelta(hours=8))
    assert kept.name == "jiugai.duckdb.before-restore-20260307-103000"
    assert _checksums(kept)[0] == damaged[0]
    restored, log_rows = _checksums(live_db)
    assert restored == before[0]
    assert log_rows == before[1] + 1
    con = store.connect(live_db)
    try:
        last = audit.read_log(con, limit=1).iloc[0]
        assert (last["action"], last["username"], last["file_name"]) == ("restore_file", "cli:root", snap.name)
        assert auth.get_user(con, "intruder") is None
    finally:
        con.close()


def test_restore_into_a_missing_database(live_db, tmp_path):
    con = store.connect(live_db)
    try:
        snap = backup_job.take_snapshot(con, tmp_path / "b", keep=2, now=T0)
    finally:
        con.close()
    target = tmp_path / "new" / "jiugai.duckdb"
    target.parent.mkdir()
    assert backup_job.restore_file(snap, target, actor=CLI) == target
    assert _checksums(target)[0] == _checksums(live_db)[0]


def test_restore_refusals_change_nothing(live_db, tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    before = _checksums(live_db)
    with pytest.raises(InputError, match=r"`path` 'junk.duckdb' is not a DuckDB database"):
        backup_job.restore_file(junk, live_db, actor=CLI)
    with pytest.raises(InputError, match=r"does not exist; see `list`"):
        backup_job.restore_file(tmp_path / "missing.duckdb", live_db, actor=CLI)
    other = tmp_path / "other.duckdb"
    store._raw_connect(other, read_only=False).close()
    with pytest.raises(InputError, match=r"`path` 'other.duckdb' is not a database of this dashboard"):
        backup_job.restore_file(other, live_db, actor=CLI)
    with pytest.raises(PermissionDenied, match="may not backup"):
        backup_job.restore_file(junk, live_db, actor=auth.User("leader", "viewer"))
    with pytest.raises(InputError, match=r"`keep` was 0 but must be at least 1"):
        backup_job.rotate(tmp_path, keep=0)
    assert _checksums(live_db) == before
    assert not list(live_db.parent.glob("*.before-restore-*"))


def test_restore_refuses_while_the_dashboard_holds_the_database(live_db, tmp_path):
    con = store.connect(live_db)
    try:
        snap = backup_job.take_snapshot(con, tmp_path / "b", keep=2, now=T0)
    finally:
        con.close()
    code = f"import duckdb, time; c = duckdb.connect({str(live_db)!r}); print('ok', flush=True); time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "ok"
            with pytest.raises(DatabaseLocked, match="in use by another process"):
                backup_job.restore_file(snap, live_db, actor=CLI)
        finally:
            holder.kill()
    assert not list(live_db.parent.glob("*.restoring")) and not list(live_db.parent.glob("*.before-restore-*"))


def test_command_line_snapshot_list_verify_restore(live_db, tmp_path, capsys):
    folder = tmp_path / "cli-backups"
    con = store.connect(live_db)
    try:
        backup_job.take_snapshot(con, folder, keep=5, now=T0 - timedelta(days=30))
    finally:
        con.close()
    assert backup_job.main(["snapshot", "--dir", str(folder), "--keep", "1", "--db", str(live_db)]) == 0
    snaps = backup_job.list_snapshots(folder)
    assert len(snaps) == 1
    assert backup_job.main(["list", "--dir", str(folder)]) == 0
    assert snaps[0].name in capsys.readouterr().out
    assert backup_job.main(["verify", str(snaps[0])]) == 0
    assert f"{DEMO_COMPOUNDS} compounds" in capsys.readouterr().out
    assert backup_job.main(["verify", str(tmp_path / "nope.duckdb")]) == 1
    assert backup_job.main(["restore", str(snaps[0]), "--db", str(live_db)]) == 0
    assert len(list(live_db.parent.glob("*.before-restore-*"))) == 1
