"""Browser harness: the dashboard under ``streamlit run`` on a free localhost port, driven by headless Chromium.

Every request that leaves localhost is aborted and recorded, so a page that tries to reach a CDN, a tile
server or a font service fails its test. The server runs against its own copy of the demo database.
Screenshots are written to ``artifacts/screenshots/`` (git-ignored) for a person to look at.

Chromium comes from the system (``/usr/bin/chromium``, installed by ``make setup``); without it every
browser test is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path(os.environ.get("JIUGAI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1440, "height": 1000}
SERVER_START_S = 90.0
RENDER_TIMEOUT_MS = 90_000
# Selectors of what a user would see as a failure: an exception block or an st.error box.
ERROR_SELECTORS = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')
FOLIUM_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (never 8501, which is reserved)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 8501:
            return port


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` package is not installed (pip install -r requirements.txt)"
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (run `make setup`, or `apt-get install chromium`)"
    return None


def is_local(url: str) -> bool:
    """True for URLs served by this machine (or carrying their own content: data:, blob:, about:)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in LOCAL_HOSTS


# ----------------------------------------------------------------------------------------------- server
@dataclass
class Server:
    """A running ``streamlit run app.py`` and where to reach it."""

    url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])


def start_streamlit(db_path: Path, log_path: Path, *, extra_env: dict[str, str] | None = None) -> Server:
    """Start the dashboard on a free port against ``db_path`` and wait until its health check answers."""
    port = free_port()
    env = {**os.environ, "JIUGAI_DB": str(db_path), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = Server(f"http://127.0.0.1:{port}", db_path, log_path, process)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            with direct.open(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_streamlit(server)
    raise RuntimeError(f"streamlit did not answer on {server.url} within {SERVER_START_S:.0f} s:\n{server.log_tail()}")


def stop_streamlit(server: Server) -> None:
    """Stop the server started by :func:`start_streamlit` (its own process group only)."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=15)


@dataclass
class AppPage:
    """One browser tab on the dashboard, with what it tried to fetch outside and what broke in it."""

    page: object
    server: Server
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    log_offset: int = 0

    # -- navigation ---------------------------------------------------------------------------------------
    def open(self, slug: str = "", **query: str) -> AppPage:
        """Open a page the way a user does: load the front door, then click the page in the sidebar.

        ``query`` goes on the front-door URL (``lang``, ``basemap``, ``week`` and page keys are read from it).
        """
        self.goto("", **query)
        if slug:
            self.navigate(slug)
        self.assert_shell()
        return self

    def goto(self, slug: str = "", **query: str) -> AppPage:
        """Load ``/<slug>?<query>`` directly (a deep link) and wait until the script has finished."""
        url = f"{self.server.url}/{slug}"
        if query:
            url += "?" + urlencode(query)
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_idle()
        return self

    def navigate(self, slug: str) -> AppPage:
        """Click the page's link in the sidebar navigation and wait for it to render.

        From a full-screen page (the presentation hides the sidebar) the page is opened by its link instead.
        """
        link = self.page.locator(f'[data-testid="stSidebarNav"] a[href="{self.server.url}/{slug}"]')
        if not link.is_visible():
            return self.goto(slug)
        mark = self.runs()
        link.click()
        self.page.wait_for_url(f"{self.server.url}/{slug}*")
        self.wait_rerun(mark)
        return self

    def visit(self, slug: str) -> AppPage:
        """Go to a page through the sidebar from wherever this tab is (loading the front door first if needed).

        Forgets what earlier pages fetched or broke, so :meth:`assert_clean` speaks of this page only.
        """
        self.blocked.clear()
        self.page_errors.clear()
        self.http_errors.clear()
        self.log_offset = len(self.server.log_text())
        if not self.page.url.startswith(self.server.url):
            return self.open(slug)
        self.navigate(slug)
        self.assert_shell()
        return self

    def assert_shell(self) -> None:
        """The page runs inside app.py: the shared sidebar (language switch, as-of week) is there."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        assert sidebar.locator('[data-testid="stRadio"]').count() >= 1, (
            "the page opened without the app shell (no language switch in the sidebar): "
            + sidebar.inner_text()[:200].replace("\n", " | ")
        )

    def runs(self) -> int:
        """How many script runs this tab has started so far (counted by :data:`RUN_COUNTER_JS`)."""
        return int(self.page.evaluate("() => window.__jiugaiRuns || 0"))

    def wait_rerun(self, mark: int, *, timeout_ms: int = 10_000) -> None:
        """Wait for a run started after ``runs()`` returned ``mark``, then for the page to be idle again."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function("(mark) => (window.__jiugaiRuns || 0) > mark", arg=mark, timeout=timeout_ms,
                                        polling=50)
        except PlaywrightTimeout:
            pass  # the action started no rerun; the page is as it was
        self.wait_idle()

    def wait_idle(self, *, timeout_ms: int = RENDER_TIMEOUT_MS, settle_ms: int = 400) -> None:
        """Wait until Streamlit has a title on screen and its script is not running (twice, ``settle_ms`` apart)."""
        self.page.wait_for_function(IDLE_JS, timeout=timeout_ms)
        self.page.wait_for_timeout(settle_ms)
        self.page.wait_for_function(IDLE_JS, timeout=timeout_ms)

    # -- what the user sees -------------------------------------------------------------------------------
    def error_texts(self) -> list[str]:
        """Texts of every exception block and error box on the page."""
        texts = []
        for selector in ERROR_SELECTORS:
            texts += self.page.locator(selector).all_inner_texts()
        return texts

    def server_errors(self) -> list[str]:
        """Tracebacks the server logged since this tab was opened."""
        text = self.server.log_text()[self.log_offset:]
        return [block for block in text.split("\n\n") if "Traceback" in block]

    def assert_clean(self) -> None:
        """No error box or exception, no JavaScript error, no failed request, no server traceback, nothing outside."""
        assert not self.error_texts(), f"error shown on the page: {self.error_texts()}"
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"
        refused = [e for e in self.http_errors if not BASE_PATH_PROBE.search(e)]
        assert not refused, f"requests the server refused: {refused}"
        assert not self.blocked, f"the page tried to reach the internet: {sorted(set(self.blocked))}"
        assert not self.server_errors(), f"server tracebacks: {self.server_errors()}"

    def screenshot(self, name: str) -> Path:
        """Save the whole page (grown to its scroll height, up to 8,000 px) as ``artifacts/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        size = self.page.viewport_size
        height = self.page.evaluate(PAGE_HEIGHT_JS)
        tall = min(max(int(height), size["height"]), 8_000)
        if tall > size["height"]:
            self.page.set_viewport_size({"width": size["width"], "height": tall})
            self.page.wait_for_timeout(600)
        try:
            self.page.screenshot(path=str(path))
        finally:
            if tall > size["height"]:
                self.page.set_viewport_size(size)
        return path

    def widget(self, key: str):
        """The element of the widget created with ``key=key`` (Streamlit marks it with ``st-key-<key>``)."""
        return self.page.locator(f".st-key-{key}")

    def download(self, key: str, *, popover: str | None = None, timeout_ms: int = RENDER_TIMEOUT_MS) -> tuple[str, bytes]:
        """Click the download button ``key`` (inside the popover labelled ``popover``); its file name and bytes."""
        if popover is not None:
            self.page.locator('[data-testid="stPopover"]').filter(has_text=popover).first.locator("button").click()
        button = self.widget(key).locator("button")
        button.wait_for(timeout=timeout_ms)
        with self.page.expect_download(timeout=timeout_ms) as info:
            button.click()
        download = info.value
        failure = download.failure()
        assert failure is None, f"download {key!r} failed: {failure}"
        if popover is not None:
            self.page.keyboard.press("Escape")
        return download.suggested_filename, Path(download.path()).read_bytes()

    def metric(self, label: str) -> str:
        """The value shown on the KPI card whose label is ``label``."""
        card = self.page.locator('[data-testid="stMetric"]').filter(
            has=self.page.locator('[data-testid="stMetricLabel"]').filter(has_text=label))
        return card.first.locator('[data-testid="stMetricValue"]').inner_text().strip()

    def click(self, key: str) -> None:
        """Click the button ``key`` and wait for the rerun it starts."""
        mark = self.runs()
        self.widget(key).locator("button").click()
        self.wait_rerun(mark)

    def press_slider(self, key: str, keys: str, times: int) -> None:
        """Focus the slider ``key`` and press ``keys`` (e.g. ``"ArrowLeft"``) ``times`` times, as a user would."""
        thumb = self.widget(key).locator('input[type="range"]')
        thumb.focus()
        mark = self.runs()
        for _ in range(times):
            thumb.press(keys)
        self.wait_rerun(mark)

    def slider_value(self, key: str) -> str:
        return self.widget(key).locator('input[type="range"]').input_value()

    def select(self, key: str, option: str) -> None:
        """Choose ``option`` (its label as shown) in the selectbox ``key`` and wait for the rerun."""
        box = self.widget(key).locator('input[role="combobox"]')
        box.click()
        box.fill(option)
        mark = self.runs()
        self.page.locator('[role="listbox"] [role="option"]').filter(has_text=option).first.click()
        self.wait_rerun(mark)

    def selected(self, key: str) -> str:
        """The label shown in the selectbox ``key``."""
        return self.widget(key).locator('input[role="combobox"]').input_value()

    # -- maps ---------------------------------------------------------------------------------------------
    def map_frame(self, index: int = 0):
        """The document of the ``index``-th streamlit-folium map on the page, once its features are drawn."""
        iframe = self.page.locator(FOLIUM_IFRAME).nth(index)
        iframe.wait_for(timeout=RENDER_TIMEOUT_MS)
        frame = iframe.element_handle().content_frame()
        frame.wait_for_function("() => window.map !== undefined && window.L !== undefined", timeout=RENDER_TIMEOUT_MS)
        return frame

    def map_count(self) -> int:
        return self.page.locator(FOLIUM_IFRAME).count()

    def map_features(self, index: int = 0, *, expect: dict[str, int] | None = None,
                     timeout_ms: int = 15_000) -> dict[str, int]:
        """Features drawn on a map, per theme (the ``layer`` property every feature carries).

        A map redraws shortly after the run that changed it; with ``expect``, keep reading until the
        counts equal it (or ``timeout_ms`` passes), otherwise until two reads 300 ms apart agree.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        last = None
        while True:
            try:
                counts = self.map_frame(index).evaluate(MAP_FEATURES_JS)
            except Exception:  # noqa: BLE001 - the frame was replaced while being read; read again
                counts = None
            done = counts == expect if expect is not None else (counts is not None and counts == last)
            if done or time.monotonic() > deadline:
                return counts
            last = counts
            self.page.wait_for_timeout(300)

    def click_map_feature(self, layer: str, key: str, index: int = 0) -> None:
        """Click (with the mouse) inside the feature ``key`` of theme ``layer`` on a map, then wait for the rerun."""
        self.page.locator(FOLIUM_IFRAME).nth(index).scroll_into_view_if_needed()
        self.page.wait_for_timeout(300)
        frame = self.map_frame(index)
        point = frame.evaluate(MAP_POINT_JS, {"layer": layer, "key": key})
        assert point is not None, f"no visible feature {key!r} in layer {layer!r} on the map"
        mark = self.runs()
        frame.locator("#map_div").click(position=point)
        self.wait_rerun(mark)


# Loaded at /<slug> (a deep link), Streamlit's page first asks /<slug>/_stcore/health and host-config in case
# the app is served under that prefix, then the root: those 404s are how it finds its server, not failures.
BASE_PATH_PROBE = re.compile(r"^404 https?://[^/]+/[^/]+/_stcore/(health|host-config)$")
# Height of everything the main area would show without scrolling.
PAGE_HEIGHT_JS = """() => Math.max(...[
    document.body,
    document.querySelector('[data-testid="stMain"]'),
    document.querySelector('[data-testid="stAppViewContainer"]'),
    document.querySelector('[data-testid="stMainBlockContainer"]'),
].filter(Boolean).map(el => el.scrollHeight))"""
# True when the app shows a page title, its script is not running and nothing is still loading.
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelector('[data-testid="stMain"] h1') !== null
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""
# Counts the script runs of a tab: every time Streamlit marks the app "running" (installed in every page).
RUN_COUNTER_JS = """
window.__jiugaiRuns = 0;
new MutationObserver(records => {
    for (const record of records) {
        if (record.target.getAttribute('data-test-script-state') === 'running') window.__jiugaiRuns += 1;
    }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
# Feature counts per theme of the Leaflet map in a streamlit-folium frame (canvas or SVG renderer alike).
MAP_FEATURES_JS = """() => {
    const counts = {};
    window.map.eachLayer(layer => {
        const props = layer.feature && layer.feature.properties;
        if (props && props.layer) counts[props.layer] = (counts[props.layer] || 0) + 1;
    });
    return counts;
}"""
# A point (map-container pixels) inside the given feature, on screen, and under no feature drawn after it that
# takes clicks (Leaflet draws features in the order they were added).
MAP_POINT_JS = """({layer, key}) => {
    let target = null;
    const others = [];  // features drawn after the target, so over it
    window.map.eachLayer(l => {
        const props = l.feature && l.feature.properties;
        if (!props) return;
        if (props.layer === layer && String(props.key) === key) target = l; else if (target !== null) others.push(l);
    });
    if (target === null) return null;
    const size = window.map.getSize();
    const inside = (l, latlng) => {
        const p = window.map.latLngToLayerPoint(latlng);
        if (l.getLatLng) {  // circle markers and markers: within their radius on screen, with a margin
            const radius = (l.getRadius ? l.getRadius() : 12) + 6;
            return window.map.latLngToLayerPoint(l.getLatLng()).distanceTo(p) <= radius;
        }
        if (!l.getBounds || !l.getBounds().contains(latlng)) return false;
        return l._containsPoint ? l._containsPoint(p) : true;
    };
    const bounds = target.getBounds();
    const sw = bounds.getSouthWest(), ne = bounds.getNorthEast();
    const candidates = [target.getCenter()];
    for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++)
        candidates.push(L.latLng(sw.lat + (ne.lat - sw.lat) * i / 12, sw.lng + (ne.lng - sw.lng) * j / 12));
    for (const latlng of candidates) {
        const pt = window.map.latLngToContainerPoint(latlng);
        if (pt.x < 5 || pt.y < 5 || pt.x > size.x - 5 || pt.y > size.y - 5) continue;
        if (!inside(target, latlng)) continue;
        // layers drawn with interactive: false let clicks through, so they hide nothing
        if (others.some(o => o.feature.properties.layer !== layer && o.options.interactive !== false
                             && inside(o, latlng))) continue;
        return {x: Math.round(pt.x), y: Math.round(pt.y)};
    }
    return null;
}"""


def copy_database(source: Path, target: Path) -> Path:
    """Copy a closed DuckDB file (and its WAL, if any) to ``target``."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


# ------------------------------------------------------------------------------------------------ timing
# Installed in every tab that is timed: ``window.__jiugaiDrawn(startMs, holdMs)`` resolves with the moment
# (ms on the tab's clock) from which the page was drawn and stayed so for ``holdMs``: Streamlit's script not
# running, a page title, no skeleton or spinner, every streamlit-folium map with its Leaflet map and
# features (and its county labels placed, where it has them), every plotly chart laid out.
DRAWN_JS = """
window.__jiugaiDrawn = (startMs, holdMs) => new Promise(resolve => {
    const ready = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
        if (!document.querySelector('[data-testid="stMain"] h1')) return false;
        if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
        for (const frame of document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')) {
            const win = frame.contentWindow;
            if (!win || !win.map || !win.L || win.document.readyState !== 'complete') return false;
            let features = 0;
            win.map.eachLayer(l => { if (l.feature) features += 1; });
            if (features === 0) return false;
            const labels = win.document.querySelectorAll('.jiugai-label');
            if (labels.length && [...labels].some(el => el.style.visibility !== 'visible')) return false;
        }
        for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
            const plot = chart.querySelector('.js-plotly-plot');
            if (!plot || !plot._fullLayout || !chart.querySelector('.main-svg')) return false;
        }
        return true;
    };
    let since = null;
    const poll = () => {
        const now = performance.now();
        if (now >= startMs && ready()) {
            if (since === null) since = now;
            if (now - since >= holdMs) return resolve(since);
        } else {
            since = null;
        }
        setTimeout(poll, 20);
    };
    poll();
});
"""


def time_until_drawn(page, start_ms: float, *, hold_ms: int = 600, timeout_ms: int = RENDER_TIMEOUT_MS) -> float:
    """Seconds from ``start_ms`` (the tab's ``performance.now()`` clock) until the page was drawn (see
    :data:`DRAWN_JS`, which the tab must have as an init script) and stayed drawn for ``hold_ms``."""
    page.set_default_timeout(timeout_ms)
    drawn = page.evaluate("([start, hold]) => window.__jiugaiDrawn(start, hold)", [start_ms, hold_ms])
    return (drawn - start_ms) / 1000
