"""Page times in a real browser: from navigation until the page is drawn, per page, on the demo data.

    python -m scripts.bench_browser [--db PATH] [--warm N] [--pages overview,progress] [--json PATH]

"Drawn" is the moment from which Streamlit's script is not running, the page has its title and no
skeleton or spinner, every map has its Leaflet map with its features (and its county labels placed) and
every plotly chart is laid out — and stays so for 0.6 s (``DRAWN_JS`` in ``tests/browser/harness.py``).

For every page:

* **first visit** — a fresh server (``streamlit run`` on a copy of the database, as the browser tests
  start it), then the page opened by its link in a new browser tab: from the start of that navigation;
* **warm** — one server for all pages: the page visited once, then ``--warm`` times (default 5) reached
  from the sidebar (from the 系统管理 page, the lightest; for itself from 数据管理), timed from the click; the
  median is reported.

Headless Chromium with every request outside localhost refused, window 1440 × 1000. The machine's
1-minute load average is printed with the figures: other work on a 2-core machine slows every one.
``scripts.benchmark`` runs this as its ``browser`` step at ``--scale city`` and ``national``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))  # the browser tests' harness starts the server the same way

log = logging.getLogger("scripts.bench_browser")

WARM_VISITS = 5
WARM_MAX_S = 1.5
FIRST_MAX_S = 5.0
BASE_PAGES = ("admin", "data")  # where a warm visit starts: the page with the least on it (for itself: the next)


@dataclass
class PageTime:
    """One page's figures: seconds until drawn on the first visit after a server start, and warm."""

    slug: str
    first_s: float | None
    warm_s: list[float]
    runs_first: int = 0  # script runs the first visit took (a map's first value can cause a second)
    runs_warm: int = 0  # script runs of the last warm visit
    error: str = ""

    @property
    def warm_median_s(self) -> float | None:
        return statistics.median(self.warm_s) if self.warm_s else None


def _href(server_url: str, slug: str) -> str:
    from dashboard.navigation import DEFAULT_SLUG

    return f"{server_url}/" if slug == DEFAULT_SLUG else f"{server_url}/{slug}"


def _new_tab(browser):
    from harness import DRAWN_JS, RUN_COUNTER_JS, VIEWPORT, is_local

    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.route("**/*", lambda route: route.continue_() if is_local(route.request.url) else route.abort())
    context.add_init_script(DRAWN_JS)
    context.add_init_script(RUN_COUNTER_JS)
    return context, context.new_page()


def _click_and_time(page, server_url: str, slug: str) -> float:
    from harness import time_until_drawn

    link = page.locator(f'[data-testid="stSidebarNav"] a[href="{_href(server_url, slug)}"]')
    if not link.is_visible():  # a full-screen page (the presentation) hides the sidebar: leave it by the link
        page.goto(_href(server_url, slug), wait_until="commit")
        return time_until_drawn(page, 0.0)  # 0 = the start of this navigation on the tab's clock
    start = page.evaluate("performance.now()")
    link.click()
    return time_until_drawn(page, start)


def first_visit(browser, db: Path, workdir: Path, slug: str) -> tuple[float, int]:
    """Seconds until ``slug`` is drawn when it is the first page a fresh server serves; its script runs."""
    from harness import copy_database, start_streamlit, stop_streamlit, time_until_drawn

    server = start_streamlit(copy_database(db, workdir / f"first-{slug}.duckdb"), workdir / f"first-{slug}.log")
    try:
        context, page = _new_tab(browser)
        try:
            page.goto(_href(server.url, slug), wait_until="commit")
            seconds = time_until_drawn(page, 0.0)  # 0 = the start of this navigation on the tab's clock
            return seconds, int(page.evaluate("() => window.__jiugaiRuns || 0"))
        finally:
            context.close()
    finally:
        stop_streamlit(server)


def warm_visits(browser, db: Path, workdir: Path, slugs: list[str], visits: int) -> dict[str, tuple[list[float], int]]:
    """Per page: seconds from a sidebar click until drawn, ``visits`` times after a first visit; last runs."""
    from harness import copy_database, start_streamlit, stop_streamlit, time_until_drawn

    server = start_streamlit(copy_database(db, workdir / "warm.duckdb"), workdir / "warm.log")
    out: dict[str, tuple[list[float], int]] = {}
    try:
        context, page = _new_tab(browser)
        try:
            page.goto(_href(server.url, BASE_PAGES[0]))
            time_until_drawn(page, 0.0)
            for slug in slugs:
                base = next(b for b in BASE_PAGES if b != slug)
                times: list[float] = []
                runs = 0
                for visit in range(visits + 1):
                    _click_and_time(page, server.url, base)
                    mark = int(page.evaluate("() => window.__jiugaiRuns || 0"))
                    seconds = _click_and_time(page, server.url, slug)
                    runs = int(page.evaluate("() => window.__jiugaiRuns || 0")) - mark
                    if visit:  # the first visit fills the page's caches
                        times.append(seconds)
                out[slug] = (times, runs)
                log.info("warm %s: %s", slug, ", ".join(f"{s:.2f}" for s in times))
        finally:
            context.close()
    finally:
        stop_streamlit(server)
    return out


def measure(db: Path, *, slugs: list[str] | None = None, visits: int = WARM_VISITS) -> list[PageTime]:
    """First-visit and warm times of ``slugs`` (every page by default) on a copy of the database ``db``."""
    from harness import CHROMIUM, CHROMIUM_ARGS, chromium_missing_reason
    from playwright.sync_api import sync_playwright

    from dashboard.navigation import PAGES

    reason = chromium_missing_reason()
    if reason:
        raise RuntimeError(reason)
    slugs = slugs or [slug for group in PAGES.values() for *_, slug in group]
    results = {slug: PageTime(slug, None, []) for slug in slugs}
    with tempfile.TemporaryDirectory(prefix="jiugai-bench-browser-") as tmp, sync_playwright() as pw:
        workdir = Path(tmp)
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for slug in slugs:
                try:
                    results[slug].first_s, results[slug].runs_first = first_visit(browser, db, workdir, slug)
                    log.info("first %s: %.2f s", slug, results[slug].first_s)
                except Exception as exc:  # noqa: BLE001 - one page's failure is reported in its row
                    results[slug].error = f"first visit: {type(exc).__name__}: {str(exc)[:200]}"
            try:
                for slug, (times, runs) in warm_visits(browser, db, workdir, slugs, visits).items():
                    results[slug].warm_s, results[slug].runs_warm = times, runs
            except Exception as exc:  # noqa: BLE001
                for page in results.values():
                    page.error = page.error or f"warm visits: {type(exc).__name__}: {str(exc)[:200]}"
        finally:
            browser.close()
    return list(results.values())


def format_table(pages: list[PageTime]) -> str:
    """A Markdown table of the figures (pastes into the README as is)."""
    lines = ["| page | first visit after a server start | warm (median of clicks) | warm visits | met |",
             "|---|---:|---:|---|---|"]
    for p in pages:
        first = f"{p.first_s:.2f} s" if p.first_s is not None else "—"
        warm = f"{p.warm_median_s:.2f} s" if p.warm_median_s is not None else "—"
        met = "yes" if meets_targets(p) else "**NO**"
        note = " · ".join(f"{s:.2f}" for s in p.warm_s) + (f" — {p.error}" if p.error else "")
        lines.append(f"| {p.slug} | {first} | {warm} | {note} | {met} |")
    return "\n".join(lines)


def meets_targets(page: PageTime) -> bool:
    """Warm median ≤ ``WARM_MAX_S`` and first visit ≤ ``FIRST_MAX_S``."""
    return (not page.error and page.first_s is not None and page.first_s <= FIRST_MAX_S
            and page.warm_median_s is not None and page.warm_median_s <= WARM_MAX_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_browser", description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="database to copy (default: a fresh demo database)")
    parser.add_argument("--warm", type=int, default=WARM_VISITS, help="timed warm visits per page")
    parser.add_argument("--pages", help="comma-separated slugs (default: every page)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="jiugai-bench-db-") as tmp:
        db = args.db
        if db is None:
            from analytics import store

            db = store.build_demo_database(Path(tmp) / "demo.duckdb")
        else:
            db = Path(shutil.copyfile(db, Path(tmp) / "copy.duckdb"))
        started = time.perf_counter()
        pages = measure(db, slugs=args.pages.split(",") if args.pages else None, visits=args.warm)
    sys.stdout.write(f"Browser page times, {time.perf_counter() - started:.0f} s; 1-minute load average "
                     f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n\n{format_table(pages)}\n")
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in pages], indent=1), encoding="utf-8")
    return 1 if any(p.error for p in pages) else 0


if __name__ == "__main__":
    sys.exit(main())
