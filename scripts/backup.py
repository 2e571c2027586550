"""Backups from the command line: snapshots of the database file, exported zips, and their restore.

    python -m scripts.backup snapshot TARGET.duckdb
    python -m scripts.backup restore-snapshot FILE.duckdb      # the data tables only; accounts stay
    python -m scripts.backup export TARGET.zip [--format geoparquet|gpkg]
    python -m scripts.backup restore FILE.zip

The work is done by ``analytics.services.backup``; the write is recorded under the login of whoever runs
the command. The database file may be open in one process only: stop the dashboard first.
"""

from __future__ import annotations

import argparse
import getpass
import logging
from pathlib import Path

from analytics import store
from analytics.services.auth import User
from analytics.services.backup import (
    CLI_RESTORE_MAX_MB,
    FORMATS,
    export_backup,
    restore_backup,
    restore_snapshot,
    snapshot,
)


def main(argv: list[str] | None = None) -> None:
    """``snapshot TARGET`` / ``restore-snapshot FILE`` / ``export TARGET [--format]`` / ``restore ZIP``."""
    parser = argparse.ArgumentParser(prog="python -m scripts.backup", description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=None, help="database file (default: JIUGAI_DB or data/jiugai.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("snapshot", help="consistent copy of the database file").add_argument("target")
    sub.add_parser("restore-snapshot", help="put a snapshot's data tables back").add_argument("snapshot")
    export = sub.add_parser("export", help="zip of GeoParquet/GeoPackage + XLSX")
    export.add_argument("target")
    export.add_argument("--format", choices=FORMATS, default="geoparquet")
    sub.add_parser("restore", help="restore an exported zip").add_argument("zip")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Whoever runs this command holds the database file itself; the write is recorded under their login.
    operator = User(f"cli:{getpass.getuser()}", "admin")
    con = store.connect(args.db)
    try:
        if args.command == "snapshot":
            snapshot(con, args.target)
        elif args.command == "restore-snapshot":
            restore_snapshot(con, args.snapshot, user=operator)
        elif args.command == "export":
            Path(args.target).write_bytes(export_backup(con, fmt=args.format, user=operator))
        else:
            data = Path(args.zip).read_bytes()
            # a file on the server's own disk, restored by its operator: larger than an upload may be
            restore_backup(con, data, user=operator, file_name=Path(args.zip).name,
                           max_mb=CLI_RESTORE_MAX_MB, max_total_mb=2 * CLI_RESTORE_MAX_MB)
    finally:
        con.close()


if __name__ == "__main__":
    main()
