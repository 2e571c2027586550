"""The benchmark runs end to end at smoke scale and prints a measured row for every step and page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.navigation import page_paths
from scripts import benchmark

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_benchmark_measures_every_row(tmp_path):
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "scripts.benchmark", "--scale", "smoke", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    rows = json.loads(out.read_text(encoding="utf-8"))
    failed = [(r["dataset"], r["step"], r["result"]) for r in rows if r["failed"]]
    assert not failed, failed
    assert done.returncode == 0, done.stderr[-2000:]

    found = {(r["dataset"], r["step"]): r for r in rows}
    expected = [(dataset, step) for dataset in ("demo", "smoke") for step in ("prepare", *benchmark.ANALYSIS_STEPS)]
    expected += [("demo", step) for step in benchmark.WALK_STEPS]
    expected += [("smoke province", "prepare"), ("smoke province", "walk_province")]
    expected += [("demo", f"page rerun: {Path(path).stem}") for path in page_paths()]
    expected += [("demo", "overview map payload")]
    assert sorted(set(expected) - set(found)) == []
    for key in expected:
        row = found[key]
        if key[1] == "overview map payload":
            assert row["extra"]["bytes"] > 10_000, "the overview map sent no features"
        else:
            assert row["seconds"] is not None and row["seconds"] >= 0, key
            assert row["peak_bytes"] > 50 * benchmark.MB, key
        assert row["target"], f"{key} is checked against no target"
    # idle land and its baseline agree on the pairs (the buffer polygon may miss a few right at 500 m)
    fast, base = found[("smoke", "idle_land")], found[("smoke", "idle_land_baseline")]
    assert base["extra"]["only_baseline"] == 0
    assert base["extra"]["only_fast"] <= 0.01 * fast["extra"]["pairs"]
    for key in expected:
        assert benchmark.STEP_LABELS.get(key[1], key[1]) in done.stdout
    # the walking rows measured a real street network: the demo's about 50,000 edges
    assert 40_000 <= found[("demo", "walk_network")]["extra"]["edges"] <= 60_000
    assert found[("smoke province", "walk_province")]["extra"]["edges"] > 40_000


def test_targets_are_checked():
    rows = [
        benchmark.Row("national", "idle_land", 9.0, 2 * benchmark.MB, extra={"speedup": 2.5}),
        benchmark.Row("national", "clustering", 16.0, 9 * 1024 * benchmark.MB),
        benchmark.Row("demo", "page rerun: overview", 0.4, benchmark.MB, extra={"errors": []}),
        benchmark.Row("demo", "overview map payload", extra={"bytes": 4 * benchmark.MB}),
        benchmark.Row("demo", "walk_network", 2.5, benchmark.MB),
        benchmark.Row("demo", "walk_access", 2.5, benchmark.MB),
        benchmark.Row("province", "walk_province", 50.0, 5 * 1024 * benchmark.MB),
    ]
    benchmark.check_targets(rows)
    assert [r.ok for r in rows] == [False, False, True, False, False, True, False]
    assert rows[-1].target == "≤ 8 GB, ≤ 60 s, ≤ 4 GB"
    assert rows[0].target == "≤ 8 GB, ≤ 10 s, ≥ 3× baseline"
    assert rows[1].target == "≤ 8 GB, ≤ 15 s"
    table = benchmark.format_table(rows)
    assert "| national | idle land: parcels within 500 m | 9.00 s | 2 MB |" in table
    assert table.count("**NO**") == 5


def test_browser_rows_are_checked_against_both_targets():
    rows = [
        benchmark.Row("demo", "browser: overview", 0.6, extra={"first_s": 3.2, "warm_s": [0.6]}),
        benchmark.Row("demo", "browser: idle_land", 1.6, extra={"first_s": 3.2, "warm_s": [1.6]}),
        benchmark.Row("demo", "browser: clusters", 0.6, extra={"first_s": 5.5, "warm_s": [0.6]}),
        benchmark.Row("demo", "browser: plan", 0.6, extra={"first_s": None, "warm_s": [0.6]}),
    ]
    benchmark.check_targets(rows)
    assert [r.ok for r in rows] == [True, False, False, False]
    assert rows[0].target == "warm ≤ 1.5 s, first ≤ 5 s"


def test_browser_table_formats_the_figures():
    from scripts import bench_browser

    pages = [bench_browser.PageTime("overview", 3.21, [0.5, 0.7, 0.6]),
             bench_browser.PageTime("progress", None, [], error="first visit: TimeoutError: x")]
    table = bench_browser.format_table(pages)
    assert "| overview | 3.21 s | 0.60 s | 0.50 · 0.70 · 0.60 | yes |" in table
    assert "| progress | — | — |  — first visit: TimeoutError: x | **NO** |" in table
    assert bench_browser.meets_targets(pages[0]) and not bench_browser.meets_targets(pages[1])


def test_unknown_steps_are_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as stopped:
        benchmark.main(["--scale", "smoke", "--steps", "planning,nope"])
    assert stopped.value.code == 2
    assert "unknown step(s) ['nope']" in capsys.readouterr().err
