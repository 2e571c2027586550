"""Crafted uploads against the readers: how each ends, its extra peak memory and its time, printed as a table.

    python -m scripts.bench_uploads [--max-mb 3000] [--max-s 120] [--json PATH]

Each file from ``tests/hostile_files.py`` (a sheet claiming 16,384 columns, 200,000 rows reaching column
500, a million shared strings, 300,000 cell formats, 45 MB of commas, a zip expanding to 480 MB, a
GeoPackage whose layer is a recursive view) is read in a fresh process (``tests.memory_probe``): memory
is the resident set above the process's own after imports, sampled every 5 ms; a call over ``--max-mb``
or ``--max-s`` is stopped and shown as such. The tests in ``tests/test_upload_limits.py`` hold the same
cases to 300 MB and 10 s. The machine's 1-minute load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

from tests import hostile_files
from tests.memory_probe import run_bounded

log = logging.getLogger(__name__)

READ = "files.read_upload(data, {name!r})"
REPORT = ("reports.prepare_report(con, data, {name!r}, county_code='370811', report_date=date(2020, 12, 25), "
          "user=EDITOR_RENCHENG)")
SETUP = (
    "from datetime import date\n"
    "from analytics import store\n"
    "from analytics.services import reports\n"
    "from analytics.importing import files\n"
    "from tests.import_corpus import EDITOR_RENCHENG\n"
    "data = open({path!r}, 'rb').read()\n"
    "con = store.connect(':memory:')\n"
)


def cases() -> list[tuple[str, bytes, str]]:
    """(what, file, call) for every crafted upload."""
    dimension = hostile_files.xlsx_declared_dimension()
    far = hostile_files.xlsx_far_column()
    return [
        ("xlsx claiming A1:XFD10000, import", dimension, READ.format(name="claims.xlsx")),
        ("xlsx claiming A1:XFD10000, weekly report", dimension, REPORT.format(name="claims.xlsx")),
        ("xlsx with a value in column XFD", hostile_files.xlsx_last_column(), READ.format(name="wide.xlsx")),
        ("xlsx of 200,000 rows reaching column 500, import", far, READ.format(name="far.xlsx")),
        ("xlsx of 200,000 rows reaching column 500, weekly report", far, REPORT.format(name="far.xlsx")),
        ("xlsx listing 1.2 million shared strings", hostile_files.xlsx_shared_strings(["a"], unused=1_200_000),
         READ.format(name="texts.xlsx")),
        ("xlsx listing 300,000 cell formats", hostile_files.xlsx_many_styles(), READ.format(name="styles.xlsx")),
        ("csv of 45 MB of commas", hostile_files.csv_of_commas(), READ.format(name="commas.csv")),
        ("zip whose .shp expands to 480 MB", hostile_files.shapefile_zip_expanding(480), READ.format(name="bomb.zip")),
        ("gpkg whose layer is a recursive view", hostile_files.gpkg_recursive_view(),
         "files.read_upload(data, 'view.gpkg', layer='bomb')"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=float, default=3000, help="stop a call above this extra memory (MB)")
    parser.add_argument("--max-s", type=float, default=120, help="stop a call after this many seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = []
    with tempfile.TemporaryDirectory(prefix="jiugai-bench-uploads-") as tmp:
        path = Path(tmp) / "upload.bin"
        for what, data, call in cases():
            path.write_bytes(data)
            probe = run_bounded(SETUP.format(path=str(path)), call, max_extra_mb=args.max_mb, max_seconds=args.max_s)
            ending = {"returned": "read", "raised": f"refused ({probe.kind or probe.error})"}.get(
                probe.outcome, probe.message or "stopped")
            rows.append({"file": what, "size_mb": round(len(data) / 1024 / 1024, 2), "outcome": ending,
                         "extra_mb": probe.extra_mb, "seconds": probe.seconds})
    log.info("load average (1 min): %.1f", os.getloadavg()[0])
    log.info("| crafted upload | size | outcome | extra peak memory | time |")
    log.info("|---|---|---|---|---|")
    for row in rows:
        log.info("| %s | %.2f MB | %s | %.0f MB | %.2f s |", row["file"], row["size_mb"], row["outcome"],
                 row["extra_mb"], row["seconds"])
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
