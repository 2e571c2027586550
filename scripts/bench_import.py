"""Benchmark: imports, undo, weekly reports and backups — wall time and peak memory, printed as a table.

    python -m scripts.bench_import [--rows 20000] [--json PATH]

Builds a demo database in a temporary folder, then times: reading and validating (``prepare``) a GBK
shapefile of ``--rows`` compounds in EPSG:4548 without .prj (CRS and encoding detected) and the same rows
as a CSV with lon/lat; ``commit`` (replace) and ``undo_last_import``; a county weekly report template,
its validation and submission; a GeoParquet and a GeoPackage backup and their restore; a snapshot of
the open database. Peak memory is the process's resident set high-water mark after each step (it only
grows), so read it as "at most".
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import resource
import tempfile
import time
import warnings
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from analytics import settings, store
from analytics.importing import importer
from analytics.services import backup, reports
from analytics.services.auth import User

OPERATOR = User("bench", "admin")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_compounds(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` compounds as 60 m × 50 m rectangles around the county seats, Chinese columns, EPSG:4548."""
    rng = np.random.default_rng(seed)
    to_metric = Transformer.from_crs(4326, 4548, always_xy=True)
    seats = np.array([to_metric.transform(v[2], v[3]) for v in settings.COUNTIES.values()])
    codes = np.array(list(settings.COUNTIES))
    pick = rng.integers(0, len(seats), n)
    x = seats[pick, 0] + rng.uniform(-3000, 3000, n)
    y = seats[pick, 1] + rng.uniform(-3000, 3000, n)
    households = rng.integers(40, 600, n)
    return gpd.GeoDataFrame({
        "小区编号": [f"B-{i:06d}" for i in range(n)],
        "小区名称": [f"测试小区{i}" for i in range(n)],
        "所属县区": [settings.COUNTIES[c][0] for c in codes[pick]],
        "建成年代": rng.integers(1980, 2006, n),
        "户数": households,
        "建筑面积": (households * rng.uniform(60, 110, n)).round(1),
        "计划年度": rng.integers(2021, 2026, n),
    }, geometry=shapely.box(x - 30, y - 25, x + 30, y + 25), crs=4548)


def shapefile_zip(gdf: gpd.GeoDataFrame) -> bytes:
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no CRS": a shapefile without .prj is the point
        pyogrio.write_dataframe(gdf.set_crs(None, allow_override=True), Path(tmp) / "c.shp", encoding="GBK")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for ext in (".shp", ".shx", ".dbf"):
                archive.write(Path(tmp) / f"c{ext}", f"小区{ext}")
        return buf.getvalue()


def run(rows: int) -> list[dict]:
    results = []

    def step(name: str, fn, *, n: int | None = None):
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
        results.append({"step": name, "rows": n, "seconds": round(seconds, 3), "peak_mb": round(_peak_mb(), 1)})
        return value

    with tempfile.TemporaryDirectory(prefix="jiugai-bench-") as tmp:
        con = store.connect(store.build_demo_database(Path(tmp) / "bench.duckdb"))
        gdf = synthetic_compounds(rows)
        shp = shapefile_zip(gdf)
        frame = pd.DataFrame(gdf.drop(columns="geometry"))
        lonlat = gdf.geometry.centroid.to_crs(4326)
        frame["经度"], frame["纬度"] = lonlat.x.round(7), lonlat.y.round(7)
        csv = frame.to_csv(index=False).encode("utf-8-sig")
        results.append({"step": f"input sizes: shapefile zip {len(shp) / 1e6:.1f} MB, CSV {len(csv) / 1e6:.1f} MB",
                        "rows": rows, "seconds": None, "peak_mb": round(_peak_mb(), 1)})

        preview = step("prepare GBK shapefile, CRS+encoding detected", lambda: importer.prepare(
            shp, "小区.zip", kind="compounds", user=OPERATOR), n=rows)
        assert preview.n_valid == rows and preview.crs.epsg == 4548 and preview.encoding == "GBK"
        step("prepare CSV lon/lat", lambda: importer.prepare(csv, "小区.csv", kind="compounds", user=OPERATOR), n=rows)
        step("commit (replace compounds, plans rebuilt)", lambda: importer.commit(con, preview, user=OPERATOR), n=rows)
        step("undo_last_import", lambda: importer.undo_last_import(con, user=OPERATOR))

        week = date(2021, 1, 8)
        template = step("weekly report template (任城)", lambda: reports.report_template(con, "370811", week))
        report = step("prepare_report", lambda: reports.prepare_report(con, template, "t.xlsx", county_code="370811",
                                                                       report_date=week, user=OPERATOR))
        step("submit_report", lambda: reports.submit_report(con, report, user=OPERATOR), n=report.n_rows)

        for fmt in backup.FORMATS:
            blob = step(f"export_backup {fmt}", lambda fmt=fmt: backup.export_backup(con, user=OPERATOR, fmt=fmt))
            results[-1]["step"] += f" ({len(blob) / 1e6:.1f} MB)"
            step(f"restore_backup {fmt}", lambda blob=blob: backup.restore_backup(con, blob, user=OPERATOR,
                                                                                  max_mb=500))
        step("snapshot of the open database", lambda: backup.snapshot(con, Path(tmp) / "snap.duckdb"))
        con.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_import", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="compounds in the synthetic import file")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = run(args.rows)
    width = max(len(r["step"]) for r in results)
    print(f"{'step':<{width}}  {'rows':>8}  {'seconds':>8}  {'peak MB':>8}")  # noqa: T201 - a report
    for r in results:
        rows = "" if r["rows"] is None else f"{r['rows']:,}"
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.2f}"
        print(f"{r['step']:<{width}}  {rows:>8}  {seconds:>8}  {r['peak_mb']:>8.0f}")  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
