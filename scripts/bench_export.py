"""Benchmark the exports: Chromium start, one chart, a batch of 10, a map PNG, and the bulletin, on the demo data.

    python -m scripts.bench_export [--db PATH] [--repeat N]

Prints one line per step: wall-clock seconds (median of ``--repeat`` runs after the first, except the
start, which happens once per process). Steps: opening the export engine (Chromium via kaleido); one
styled chart as PNG (2x), SVG and PDF; ten charts as PNG in one batch; an offline map HTML and its PNG;
the 周调度 for 2020-06-26 as DOCX and PDF with its three charts (``export.bulletin_files``).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from datetime import date
from pathlib import Path

log = logging.getLogger("scripts.bench_export")


def _timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    for noisy in ("choreographer", "kaleido", "browser_proc", "logistro", "fontTools", "dashboard.export", "analytics"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_export")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    import folium
    import plotly.graph_objects as go

    from analytics import progress, store
    from dashboard import charts, export

    check = export.preflight()
    if not check.ok:
        log.error("%s", check.message("en"))
        return 1
    con = store.connect(args.db) if args.db else store.connect()
    frame = progress.county_progress(con, as_of=date(2020, 6, 26))

    def chart(i: int = 0) -> go.Figure:
        return charts.style_figure(charts.county_rates_chart(frame), title=f"各县区开工率、完工率 {i}", unit="%",
                                   as_of="2020-06-26", source="演示数据", demo=True)

    rows = []
    started = time.perf_counter()
    export.figure_bytes(chart(), "png")
    rows.append(("engine start + first PNG", time.perf_counter() - started))
    for fmt in ("png", "svg", "pdf"):
        rows.append((f"one chart {fmt.upper()}", _timed(lambda fmt=fmt: export.figure_bytes(chart(), fmt), args.repeat)))
    rows.append(("10 charts PNG, one batch",
                 _timed(lambda: export.figures_bytes([chart(i) for i in range(10)], "png"), args.repeat)))
    counties = store.read_layer(con, "counties", crs=4326)
    m = folium.Map(location=[35.4, 116.6], zoom_start=8, tiles=None, prefer_canvas=True)
    folium.GeoJson(counties[["name", "geometry"]].to_json()).add_to(m)
    rows.append(("map HTML (offline)", _timed(lambda: export.standalone_map_html(m), args.repeat)))
    rows.append(("map PNG 1600x1000 @2x", _timed(lambda: export.map_png(m), args.repeat)))
    rows.append(("bulletin week DOCX+PDF with 3 charts",
                 _timed(lambda: export.bulletin_files(con, as_of=date(2020, 6, 26), kind="week"), max(1, args.repeat // 2))))
    export.shutdown()
    con.close()
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        log.info("%s  %6.2f s", name.ljust(width), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
