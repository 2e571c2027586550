"""(Re)build the demo database file (演示数据) from its seed.

    python -m scripts.demo [--seed N] [--db PATH] [--force]

Without ``--force`` an existing file is left alone.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from analytics import settings, store


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and build the file."""
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description="Build the demo database (演示数据).")
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    parser.add_argument("--db", type=Path, default=settings.DB_PATH)
    parser.add_argument("--force", action="store_true", help="replace an existing database file")
    args = parser.parse_args(argv)
    if args.db.exists() and not args.force:
        print(f"{args.db} exists; use --force to rebuild it.")  # noqa: T201 - command-line output
        return
    if args.db.exists():
        args.db.unlink()
    store.build_demo_database(args.db, seed=args.seed)
    print(f"built {args.db}")  # noqa: T201


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
