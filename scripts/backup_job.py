"""Scheduled database snapshots with rotation, and the restore of a whole database file from one.

    python -m scripts.backup_job snapshot --dir /var/backups/jiugai --keep 14   # nightly (systemd timer)
    python -m scripts.backup_job list --dir /var/backups/jiugai
    python -m scripts.backup_job verify FILE
    python -m scripts.backup_job restore FILE [--db PATH]                         # dashboard stopped

A snapshot is a consistent copy made by ``analytics.services.backup.snapshot`` (one transaction, not a copy of
a file being written), named ``jiugai-YYYYMMDD-HHMMSS.duckdb``; only the newest ``--keep`` such files
stay. ``restore`` puts a verified snapshot in place of the database file — accounts and the write log
included — keeping the replaced file beside it as ``<db>.before-restore-<time>``, and records the
restore in the write log. To restore only the data tables into a running system (keeping accounts),
use ``python -m scripts.backup restore-snapshot FILE`` instead. The database file may be open in one
process only: stop the dashboard first (the systemd units do this for the scheduled run).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from analytics import settings, store
from analytics.errors import InputError, JiugaiError
from analytics.services import backup
from analytics.services.auth import User, require
from analytics.store import audit, connection
from analytics.store.schema import LATEST_VERSION

log = logging.getLogger(__name__)

SNAPSHOT_PATTERN = re.compile(r"^jiugai-(\d{8})-(\d{6})\.duckdb$")
DEFAULT_DIR = Path(os.environ.get("JIUGAI_BACKUP_DIR", settings.DATA_DIR / "backups"))
DEFAULT_KEEP = int(os.environ.get("JIUGAI_BACKUP_KEEP", "14"))


@dataclass(frozen=True)
class SnapshotInfo:
    """A checked snapshot: its schema version and row count per table."""

    path: Path
    schema_version: int
    rows: dict[str, int]


def snapshot_name(when: datetime) -> str:
    """``jiugai-YYYYMMDD-HHMMSS.duckdb`` for ``when``."""
    return f"jiugai-{when:%Y%m%d-%H%M%S}.duckdb"


def list_snapshots(folder: Path | str) -> list[Path]:
    """The snapshot files in ``folder``, oldest first (other files are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and SNAPSHOT_PATTERN.match(p.name))


def rotate(folder: Path | str, *, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` snapshots in ``folder``; return the deleted paths."""
    if keep < 1:
        raise InputError(f"`keep` was {keep!r} but must be at least 1.")
    old = list_snapshots(folder)[:-keep]
    for path in old:
        path.unlink()
        log.info("removed old snapshot %s", path.name)
    return old


def take_snapshot(
    con: duckdb.DuckDBPyConnection, folder: Path | str, *, keep: int = DEFAULT_KEEP, now: datetime | None = None
) -> Path:
    """Write a consistent snapshot of ``con``'s database into ``folder``, then keep the newest ``keep``."""
    if keep < 1:
        raise InputError(f"`keep` was {keep!r} but must be at least 1.")
    folder = Path(folder)
    target = backup.snapshot(con, folder / snapshot_name(now or datetime.now()))
    verify_snapshot(target)
    rotate(folder, keep=keep)
    log.info("snapshot %s (%.1f MB); %d kept in %s", target.name, target.stat().st_size / 1e6,
             len(list_snapshots(folder)), folder)
    return target


def verify_snapshot(path: Path | str) -> SnapshotInfo:
    """Open ``path`` read-only and check it is a database of this dashboard; return its facts.

    Raises ``InputError`` when the file is missing, not a DuckDB file, not this dashboard's, or from a
    newer schema version.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"`path` {str(path)!r} does not exist; see `list` for the snapshots.")
    try:
        con = connection._raw_connect(path, read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"`path` {path.name!r} is not a DuckDB database ({str(exc)[:100]}).") from None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"schema_version", "compounds", "audit_log"} <= tables:
            raise InputError(f"`path` {path.name!r} is not a database of this dashboard.")
        version = int(con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)
        if version > LATEST_VERSION:
            raise InputError(
                f"`path` {path.name!r} has schema version {version}, newer than this dashboard's {LATEST_VERSION}; "
                "install the newer dashboard first."
            )
        rows = {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in sorted(tables)}
    finally:
        con.close()
    return SnapshotInfo(path, version, rows)


def restore_file(snapshot_path: Path | str, db_path: Path | str, *, actor: User, now: datetime | None = None) -> Path:
    """Replace the database file ``db_path`` with a verified copy of ``snapshot_path``; audited.

    The replaced file is kept as ``<db_path>.before-restore-<time>``. Nothing changes when the snapshot
    does not verify or the database is open in another process (``DatabaseLocked``).

    Returns
    -------
    Path
        Where the replaced file was kept (or ``db_path`` itself if there was none).
    """
    require(actor, "backup")
    info = verify_snapshot(snapshot_path)
    db_path = Path(db_path)
    stamp = f"{now or datetime.now():%Y%m%d-%H%M%S}"
    if db_path.exists():
        connection._raw_connect(db_path, read_only=False).close()  # raises DatabaseLocked while the dashboard runs
    incoming = db_path.with_name(db_path.name + ".restoring")
    shutil.copyfile(info.path, incoming)
    con = store.connect(incoming)  # brings an older snapshot up to this version's schema
    try:
        audit.record(con, username=actor.username, action="restore_file", file_name=info.path.name,
                     rows_written=sum(info.rows.values()),
                     detail={"snapshot": str(info.path), "schema_version": info.schema_version})
        con.execute("CHECKPOINT")
    finally:
        con.close()
    kept = db_path
    if db_path.exists():
        kept = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
        os.replace(db_path, kept)
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            os.replace(wal, kept.with_name(kept.name + ".wal"))
    os.replace(incoming, db_path)
    log.info("restored %s from %s; the replaced file is %s", db_path, info.path.name, kept)
    return kept


def _operator() -> User:
    login = os.environ.get("SUDO_USER") or getpass.getuser()
    return User(f"cli:{login}", "admin")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.backup_job", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="take a snapshot and keep the newest --keep")
    snap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    snap.add_argument("--keep", type=int, default=DEFAULT_KEEP)
    snap.add_argument("--db", type=Path, default=None)
    listing = commands.add_parser("list", help="list the snapshots, newest last")
    listing.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    commands.add_parser("verify", help="check that a snapshot opens and is this dashboard's").add_argument("file")
    restore = commands.add_parser("restore", help="replace the database file with a snapshot (dashboard stopped)")
    restore.add_argument("file")
    restore.add_argument("--db", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.command == "snapshot":
            con = store.connect(args.db or settings.DB_PATH)
            try:
                take_snapshot(con, args.dir, keep=args.keep)
            finally:
                con.close()
        elif args.command == "list":
            for path in list_snapshots(args.dir):
                sys.stdout.write(f"{path}\t{path.stat().st_size / 1e6:.1f} MB\n")
        elif args.command == "verify":
            info = verify_snapshot(args.file)
            sys.stdout.write(f"{info.path}: schema version {info.schema_version}, "
                             f"{info.rows.get('compounds', 0)} compounds, {info.rows.get('audit_log', 0)} log rows\n")
        else:
            restore_file(args.file, args.db or settings.DB_PATH, actor=_operator())
    except JiugaiError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
