"""Write the weekly dispatch or monthly bulletin (周调度/月通报) for a date to a file, with no UI.

    python -m scripts.bulletin --kind week --date 2020-06-26 --out 周调度.docx
    python -m scripts.bulletin --kind month --date 2020-06-30 --out 月通报.pdf --db data/jiugai.duckdb

A weekly dispatch is made from the latest report on or before the date and compared with the week
before; a monthly bulletin from the last report of the latest month complete on the date (a month is
complete on its last Friday) and compared with the month before. Each issue made is entered in the
register, so making it again keeps its number. The format follows the file's extension (.docx or .pdf).

Schedulable (cron, systemd timer): exit status 0 when the file was written, 1 when the data has no report
for that date or a needed package is missing, 2 for bad arguments. Charts are included when Chromium is
installed (otherwise the document is written without them and a warning says so).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from analytics import settings, store
from analytics.errors import JiugaiError

log = logging.getLogger("scripts.bulletin")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`--date` was {text!r} but must be a date like 2020-06-26.") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.bulletin", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("week", "month"), required=True, help="week = 周调度, month = 月通报")
    parser.add_argument("--date", type=_date, required=True,
                        help="as-of date, YYYY-MM-DD (month: the latest month complete on that date)")
    parser.add_argument("--out", type=Path, required=True, help="output file, .docx or .pdf")
    parser.add_argument("--db", type=Path, default=None, help=f"database file (default {settings.DB_PATH})")
    parser.add_argument("--no-charts", action="store_true", help="leave the charts out (no Chromium needed)")
    args = parser.parse_args(argv)
    if args.out.suffix.lower() not in (".docx", ".pdf"):
        parser.error(f"`--out` was {str(args.out)!r} but must end in .docx or .pdf.")
    if args.db is not None and not args.db.is_file():
        parser.error(f"`--db` was {str(args.db)!r} but no such database file exists.")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("choreographer", "kaleido", "browser_proc", "logistro", "fontTools", "fpdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse_args(argv)
    from dashboard import export

    fmt = args.out.suffix.lower().lstrip(".")
    try:
        con = store.connect(args.db) if args.db is not None else store.connect()
        try:
            files = export.bulletin_files(con, as_of=args.date, kind=args.kind, formats=(fmt,),
                                          with_charts=not args.no_charts)
        finally:
            con.close()
    except JiugaiError as exc:
        log.error("%s", exc)
        return 1
    finally:
        export.shutdown()
    for note in files.notes:
        log.warning("%s", note)
    data = files.docx if fmt == "docx" else files.pdf
    if data is None:
        log.error("No %s was written.", fmt.upper())
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    log.info("%s → %s (%d bytes)", files.bulletin.full_title, args.out, len(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
