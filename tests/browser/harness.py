"""Browser harness: the dashboard under ``streamlit run`` on a free localhost port, driven by headless Chromium.

Every request that leaves localhost is aborted and recorded, so a page that tries to reach a CDN, a tile
server or a font service fails its test. The server runs against its own copy of the demo database.
Screenshots are written to ``artifacts/screenshots/`` (git-ignored) for a person to look at.

Chromium comes from the system (``/usr/bin/chromium``, installed by ``make setup``); without it every
browser test is skipped with the reason.
"""

from __future__ import annotations

import os
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
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
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
        """Click the page's link in the sidebar navigation and wait for it to render."""
        link = self.page.locator(f'[data-testid="stSidebarNav"] a[href="{self.server.url}/{slug}"]')
        link.click()
        self.page.wait_for_url(f"{self.server.url}/{slug}*")
        self.wait_running()
        self.wait_idle()
        return self

    def assert_shell(self) -> None:
        """The page runs inside app.py: the shared sidebar (language switch, as-of week) is there."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        assert sidebar.locator('[data-testid="stRadio"]').count() >= 1, (
            "the page opened without the app shell (no language switch in the sidebar): "
            + sidebar.inner_text()[:200].replace("\n", " | ")
        )

    def wait_running(self, *, timeout_ms: int = 3_000) -> None:
        """Wait (briefly) for a rerun to start after an interaction; a rerun that already ended is fine."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                """() => document.querySelector('[data-testid="stApp"]')
                    ?.getAttribute('data-test-script-state') === 'running'""",
                timeout=timeout_ms,
                polling=50,
            )
        except PlaywrightTimeout:
            pass

    def wait_idle(self, *, timeout_ms: int = RENDER_TIMEOUT_MS, settle_ms: int = 400) -> None:
        """Wait until Streamlit has a title on screen and its script is not running (twice, ``settle_ms`` apart)."""
        script = """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app !== null
                && app.getAttribute('data-test-script-state') === 'notRunning'
                && document.querySelector('[data-testid="stMain"] h1') !== null
                && document.querySelector('[data-testid="stSkeleton"]') === null;
        }"""
        self.page.wait_for_function(script, timeout=timeout_ms)
        self.page.wait_for_timeout(settle_ms)
        self.page.wait_for_function(script, timeout=timeout_ms)

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
        """No error box, no exception, no JavaScript error, no server traceback, nothing fetched from outside."""
        assert not self.error_texts(), f"error shown on the page: {self.error_texts()}"
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"
        assert not self.blocked, f"the page tried to reach the internet: {sorted(set(self.blocked))}"
        assert not self.server_errors(), f"server tracebacks: {self.server_errors()}"

    def title(self) -> str:
        return self.page.locator('[data-testid="stMain"] h1').first.inner_text()

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as ``artifacts/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    # -- maps ---------------------------------------------------------------------------------------------
    def map_frames(self) -> list:
        """The Leaflet documents of every streamlit-folium map on the page (waiting for each to draw)."""
        frames = []
        count = self.page.locator(FOLIUM_IFRAME).count()
        for i in range(count):
            frame = self.page.frame_locator(FOLIUM_IFRAME).nth(i)
            frame.locator(".leaflet-container").first.wait_for(timeout=RENDER_TIMEOUT_MS)
            frames.append(frame)
        return frames

    def map_feature_count(self, frame) -> int:
        """Drawn vector features (``path.leaflet-interactive``) plus markers in one map."""
        frame.locator(".leaflet-pane").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        paths = frame.locator("path.leaflet-interactive").count()
        markers = frame.locator(".leaflet-marker-icon").count()
        return paths + markers


def copy_database(source: Path, target: Path) -> Path:
    """Copy a closed DuckDB file (and its WAL, if any) to ``target``."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target
