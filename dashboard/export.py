"""The one export engine: plotly charts to PNG/SVG/PDF and maps to offline HTML/PNG, on one Chromium per process.

Kaleido 1.x drives a headless Chromium. This module keeps **one** Kaleido browser open for the life of
the process (opened on first use, closed at exit) on a private asyncio loop thread, and serialises every
call behind one ``threading.Lock``: kaleido's own shared sync server hands results to the wrong caller
under concurrent calls, and Streamlit runs sessions (and deferred downloads) on many threads. A batch of
figures goes to Chromium in one call and renders on the session's tabs in parallel.

Before anything is rendered, :func:`preflight` checks the two system packages the engine needs —
``chromium`` and ``fonts-noto-cjk`` — so a button can say which one to install instead of producing a
file full of boxes.

Maps: :func:`standalone_map_html` inlines every script and stylesheet of a folium map (Leaflet and jQuery
from ``static/vendor`` or their ``xstatic`` pip packages) so the file works with no internet;
:func:`map_png` screenshots that file in the same Chromium session, for slides. Pages: ``engine().pdf``
prints an HTML page to PDF in that session (the handouts, ``dashboard.handout``).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import html as html_lib
import logging
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import plotly.graph_objects as go

from analytics import settings
from analytics.errors import InputError, JiugaiError
from dashboard import _internals
from dashboard.charts import EXPORT_HEIGHT_PX, EXPORT_WIDTH_PX, resolve_lang
from dashboard.labels import t

log = logging.getLogger(__name__)

ImageFormat = Literal["png", "svg", "pdf"]
FORMATS: tuple[ImageFormat, ...] = ("png", "svg", "pdf")
MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "html": "text/html"}

PNG_SCALE = 2  # print resolution: every PNG is written at twice its CSS pixel size
RENDER_TIMEOUT_S = 60
CALL_TIMEOUT_S = 180
TABS = 1  # one tab: Chromium opens in ~2 s instead of ~4 s; a batch still goes over in one call

# Where Chromium may be: the environment first (JIUGAI_CHROMIUM, then kaleido's BROWSER_PATH), then PATH.
CHROMIUM_ENV = ("JIUGAI_CHROMIUM", "BROWSER_PATH")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium")
# Where fonts-noto-cjk puts its files (used when fontconfig's fc-list is not available).
CJK_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts/noto-cjk")
CJK_FONT_PATTERNS = {"sans": "NotoSansCJK*-{weight}.tt[cf]", "serif": "NotoSerifCJK*-{weight}.tt[cf]"}

APT_CHROMIUM = "chromium"
APT_CJK_FONTS = "fonts-noto-cjk"


def missing_text(packages: Sequence[str], lang: str | None = None) -> str:
    """One sentence in ``lang``: which system packages are missing and the command that installs them."""
    lang = resolve_lang(lang)
    if not packages:
        return ""
    return t("export.missing", lang, packages=(", " if lang == "en" else "、").join(packages),
             command=f"sudo apt-get install {' '.join(packages)}")


class ExportUnavailable(JiugaiError):
    """A system package the export needs is missing; ``packages`` names the apt packages to install."""

    def __init__(self, message: str, packages: Sequence[str]):
        super().__init__(message, code="export.missing", packages=list(packages),
                         command=f"sudo apt-get install {' '.join(packages)}")
        self.packages = tuple(packages)

    def text(self, lang: str | None = None) -> str:
        """What is missing and how to install it, in ``lang``."""
        return missing_text(self.packages, lang)


# ------------------------------------------------------------------------------------------ preflight


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (``index`` is the face number inside a .ttc collection)."""

    path: Path
    index: int
    family: str


@dataclass(frozen=True)
class Preflight:
    """What the export engine found on this machine."""

    chromium: str | None
    cjk_font: FontFace | None

    @property
    def missing(self) -> tuple[str, ...]:
        """The apt packages to install, e.g. ``("chromium", "fonts-noto-cjk")``; empty when all is there."""
        return tuple(
            pkg for pkg, found in ((APT_CHROMIUM, self.chromium), (APT_CJK_FONTS, self.cjk_font)) if not found
        )

    @property
    def ok(self) -> bool:
        return not self.missing

    def message(self, lang: str | None = None) -> str:
        """One sentence for the user: which package is missing and the command that installs it."""
        if self.ok:
            return ""
        return missing_text(self.missing, lang)

    def require(self, *, chromium: bool = True, fonts: bool = True) -> None:
        """Raise :class:`ExportUnavailable` naming the missing package(s) among those asked for."""
        wanted = [p for p in self.missing if (p == APT_CHROMIUM and chromium) or (p == APT_CJK_FONTS and fonts)]
        if wanted:
            raise ExportUnavailable(
                f"Export needs the system package(s) {', '.join(wanted)}, which this machine lacks; install them "
                f"with `sudo apt-get install {' '.join(wanted)}` (or run `make setup`).",
                wanted,
            )


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for var in CHROMIUM_ENV:
        value = os.environ.get(var)
        if value:
            return value if Path(value).is_file() and os.access(value, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in CHROMIUM_PATHS:
        if Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


def _font_files_from_fontconfig() -> list[Path]:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({Path(line.split(":")[0].strip()) for line in out.stdout.splitlines() if line.strip()})


def _pick_face(path: Path) -> FontFace | None:
    """The Simplified Chinese face of ``path`` (a .ttc holds JP/KR/SC/TC/HK faces), else its first face."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            collection = TTCollection(str(path), lazy=True)
            faces = [f["name"].getDebugName(1) or "" for f in collection.fonts]
            collection.close()
        else:
            with TTFont(str(path), lazy=True) as font:
                faces = [font["name"].getDebugName(1) or ""]
    except (OSError, TTLibError, KeyError):
        return None
    for i, family in enumerate(faces):
        if family.endswith(" SC") or family.endswith("SC"):
            return FontFace(path, i, family)
    return FontFace(path, 0, faces[0]) if faces else None


def find_cjk_font(style: Literal["sans", "serif"] = "sans", *, bold: bool = False) -> FontFace | None:
    """A Noto CJK face (Simplified Chinese) of ``style`` and weight, or any Chinese font; None if none.

    Looks in the fonts-noto-cjk install folders first, then asks fontconfig for any font covering Chinese.
    """
    weight = "Bold" if bold else "Regular"
    pattern = CJK_FONT_PATTERNS[style].format(weight=weight)
    for folder in CJK_FONT_DIRS:
        for path in sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else ():
            face = _pick_face(path)
            if face:
                return face
    files = _font_files_from_fontconfig()
    wanted = "serif" if style == "serif" else "sans"
    ranked = sorted(files, key=lambda p: (wanted not in p.name.lower(), "noto" not in p.name.lower(),
                                          (weight.lower() not in p.name.lower()), str(p)))
    for path in ranked:
        face = _pick_face(path)
        if face:
            return face
    return None


@lru_cache(maxsize=1)
def _preflight_cached() -> Preflight:
    return Preflight(chromium=find_chromium(), cjk_font=find_cjk_font("sans"))


def preflight(*, refresh: bool = False) -> Preflight:
    """Check for Chromium and a CJK font (cached for the process; ``refresh=True`` looks again)."""
    if refresh:
        _preflight_cached.cache_clear()
    return _preflight_cached()


# --------------------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class FigureJob:
    """One figure to render: the figure, its format and its size in CSS pixels."""

    fig: go.Figure | dict
    fmt: ImageFormat = "png"
    width: int | None = None
    height: int | None = None
    scale: float = PNG_SCALE


def _opts(job: FigureJob) -> dict[str, Any]:
    if job.fmt not in FORMATS:
        raise InputError(f"`fmt` was {job.fmt!r} but must be one of {FORMATS!r}.")
    layout = job.fig.layout if isinstance(job.fig, go.Figure) else go.Layout(job.fig.get("layout", {}))
    width = job.width or layout.width or EXPORT_WIDTH_PX
    height = job.height or layout.height or EXPORT_HEIGHT_PX
    if width <= 0 or height <= 0:
        raise InputError(f"`width`/`height` were {width!r}/{height!r} but must be > 0 pixels.")
    return {"format": job.fmt, "width": width, "height": height, "scale": job.scale if job.fmt == "png" else 1}


class ExportEngine:
    """One persistent Kaleido/Chromium session on a private event-loop thread; calls serialised by a lock.

    Use the module functions (:func:`figure_bytes`, :func:`figures_bytes`, :func:`map_png`), which share
    the process's engine; construct one directly only to manage its lifetime yourself (tests).
    """

    def __init__(self, chromium: str, *, tabs: int = TABS, timeout_s: float = RENDER_TIMEOUT_S):
        self.chromium = chromium
        self.tabs = tabs
        self.timeout_s = timeout_s
        self.lock = threading.Lock()
        self.calls = 0
        self._exit_hook = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._shot_tab = None
        self._tmp = Path(tempfile.mkdtemp(prefix="jiugai-export-"))

    # lifecycle ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def _start(self) -> None:
        import kaleido

        started = time.perf_counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="jiugai-export", daemon=True)
        self._thread.start()

        async def open_browser():
            k = kaleido.Kaleido(n=self.tabs, timeout=self.timeout_s, mathjax=False, path=self.chromium,
                                browser_cls=_internals.chromium_with_web_security())
            await k.open()
            return k

        try:
            self._kaleido = self._submit(open_browser())
        except BaseException:
            self._stop_loop()
            raise
        if not self._exit_hook:
            # registered after Chromium's temporary folders exist, so it runs before their own clean-up
            atexit.register(self.close)
            self._exit_hook = True
        log.info("export engine: Chromium %s open with %d tabs in %.2f s", self.chromium, self.tabs,
                 time.perf_counter() - started)

    def _stop_loop(self) -> None:
        if self._loop is not None:

            async def cancel_pending():
                pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

            try:
                self._submit(cancel_pending(), timeout=10)
            except Exception:  # noqa: BLE001 - the loop is stopped below in any case
                log.debug("export engine: pending tasks did not finish cancelling", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
        self._loop = self._thread = None

    def close(self) -> None:
        """Close Chromium and the loop thread (the next call opens them again)."""
        with self.lock:
            self._close_unlocked()

    def _close_unlocked(self) -> None:
        if self._kaleido is not None:
            try:
                self._submit(self._kaleido.close(), timeout=30)
            except Exception:  # noqa: BLE001 - a dead browser cannot be closed more
                log.warning("export engine: Chromium did not close cleanly", exc_info=True)
            self._kaleido = self._shot_tab = None
        self._stop_loop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _submit(self, coro, *, timeout: float = CALL_TIMEOUT_S):
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"Chromium did not answer within {timeout:.0f} s.") from None

    def _browser_alive(self) -> bool:
        proc = getattr(self._kaleido, "subprocess", None)
        return proc is not None and proc.poll() is None

    def _call(self, make_coro):
        """Run ``make_coro(kaleido)`` under the lock; reopen Chromium once if it died."""
        with self.lock:
            self.calls += 1
            if not self.running:
                self._start()
            try:
                return self._submit(make_coro(self._kaleido))
            except (InputError, TypeError, ValueError, AttributeError):
                raise
            except Exception:
                if self._browser_alive():
                    raise
                log.warning("export engine: Chromium died; reopening it once", exc_info=True)
                self._close_unlocked()
                self._start()
                return self._submit(make_coro(self._kaleido))

    # work -----------------------------------------------------------------------------------------
    def render(self, jobs: Sequence[FigureJob]) -> list[bytes]:
        """Render every job in one call (in parallel on the session's tabs); results in the jobs' order."""
        specs = [(job.fig, _opts(job)) for job in jobs]
        if not specs:
            return []

        async def run(k):
            return await asyncio.gather(*(k.calc_fig(fig, opts) for fig, opts in specs))

        return list(self._call(run))

    def _page_folder(self) -> Path:
        """The folder the pages Chromium opens are written to, made again after :meth:`close` removed it;
        private (0700) either way: only this process reads the pages."""
        self._tmp.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._tmp.chmod(0o700)
        return self._tmp

    def screenshot(self, html: str, *, width: int, height: int, scale: float = PNG_SCALE,
                   settle_ms: int = 600) -> bytes:
        """PNG of the page ``html`` at ``width`` x ``height`` CSS pixels times ``scale``."""
        page = self._page_folder() / f"page-{threading.get_ident()}-{time.monotonic_ns()}.html"
        page.write_text(html, encoding="utf-8")

        async def run(k):
            if self._shot_tab is None:
                self._shot_tab = await k.create_tab("about:blank", width=width, height=height, window=True)
                _check(await self._shot_tab.send_command("Page.enable"))
            tab = self._shot_tab
            _check(await tab.send_command("Emulation.setDeviceMetricsOverride", params={
                "width": width, "height": height, "deviceScaleFactor": scale, "mobile": False}))
            loaded = tab.subscribe_once("Page.loadEventFired")
            _check(await tab.send_command("Page.navigate", params={"url": page.as_uri()}))
            await asyncio.wait_for(loaded, self.timeout_s)
            _check(await tab.send_command("Runtime.evaluate", params={
                "expression": f"new Promise(r => setTimeout(() => requestAnimationFrame(() => "
                              f"requestAnimationFrame(r)), {int(settle_ms)}))",
                "awaitPromise": True}))
            shot = _check(await tab.send_command("Page.captureScreenshot", params={"format": "png"}))
            return base64.b64decode(shot["result"]["data"])

        try:
            return self._call(run)
        finally:
            page.unlink(missing_ok=True)


    def pdf(self, html: str, *, width_in: float, height_in: float, settle_ms: int = 400) -> bytes:
        """The page ``html`` printed to PDF on paper of ``width_in`` x ``height_in`` inches (backgrounds
        printed, the page's own ``@page`` size preferred); Chromium embeds the fonts it used."""
        page = self._page_folder() / f"print-{threading.get_ident()}-{time.monotonic_ns()}.html"
        page.write_text(html, encoding="utf-8")

        async def run(k):
            if self._shot_tab is None:
                self._shot_tab = await k.create_tab("about:blank", width=1200, height=900, window=True)
                _check(await self._shot_tab.send_command("Page.enable"))
            tab = self._shot_tab
            loaded = tab.subscribe_once("Page.loadEventFired")
            _check(await tab.send_command("Page.navigate", params={"url": page.as_uri()}))
            await asyncio.wait_for(loaded, self.timeout_s)
            _check(await tab.send_command("Runtime.evaluate", params={
                "expression": f"document.fonts.ready.then(() => new Promise(r => setTimeout(r, {int(settle_ms)})))",
                "awaitPromise": True}))
            printed = _check(await tab.send_command("Page.printToPDF", params={
                "landscape": False, "printBackground": True, "preferCSSPageSize": True,
                "paperWidth": width_in, "paperHeight": height_in, "marginTop": 0, "marginBottom": 0,
                "marginLeft": 0, "marginRight": 0, "displayHeaderFooter": False}))
            return base64.b64decode(printed["result"]["data"])

        try:
            return self._call(run)
        finally:
            page.unlink(missing_ok=True)


def _check(response: dict) -> dict:
    if "error" in response:
        raise RuntimeError(f"Chromium refused a command: {response['error']}")
    return response


_ENGINE: ExportEngine | None = None
_ENGINE_GUARD = threading.Lock()


def engine() -> ExportEngine:
    """The process's export engine (Chromium opens on its first call); raises if Chromium is missing."""
    global _ENGINE
    with _ENGINE_GUARD:
        if _ENGINE is None:
            check = preflight()
            check.require(fonts=False)
            _ENGINE = ExportEngine(check.chromium)
        return _ENGINE


def shutdown() -> None:
    """Close the process's engine (registered at exit)."""
    global _ENGINE
    with _ENGINE_GUARD:
        if _ENGINE is not None:
            _ENGINE.close()
            _ENGINE = None


atexit.register(shutdown)


def figure_bytes(fig: go.Figure | dict, fmt: ImageFormat = "png", *, width: int | None = None,
                 height: int | None = None, scale: float = PNG_SCALE) -> bytes:
    """One figure as PNG (``scale`` x its size, default 2x), SVG or PDF bytes.

    Size in CSS pixels: ``width``/``height``, else the figure's layout size, else 1000 x 600.
    Raises :class:`ExportUnavailable` naming the package when Chromium or the CJK fonts are missing.
    """
    return figures_bytes([fig], fmt, width=width, height=height, scale=scale)[0]


def figures_bytes(figs: Sequence[go.Figure | dict], fmt: ImageFormat = "png", *, width: int | None = None,
                  height: int | None = None, scale: float = PNG_SCALE) -> list[bytes]:
    """Many figures in one format, rendered in one go; results in the order of ``figs``."""
    return export_batch([FigureJob(f, fmt, width, height, scale) for f in figs])


def export_batch(jobs: Sequence[FigureJob]) -> list[bytes]:
    """Render a batch of :class:`FigureJob` (any mix of figures and formats) in one call."""
    preflight().require()
    started = time.perf_counter()
    out = engine().render(jobs)
    log.info("exported %d figure(s) in %.2f s", len(jobs), time.perf_counter() - started)
    return out


# ------------------------------------------------------------------------------------------- maps

_TAG = re.compile(
    r"<script\b[^>]*\bsrc=\"(?P<src>[^\"]+)\"[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref=\"(?P<href>[^\"]+)\"[^>]*/?>",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:)(?P<url>[^)'\"]+)\1\)")


def _asset_roots() -> list[Path]:
    roots = [settings.STATIC_DIR / "vendor"]
    for module in ("xstatic.pkg.leaflet", "xstatic.pkg.jquery"):
        try:
            roots.append(Path(__import__(module, fromlist=["BASE_DIR"]).BASE_DIR))
        except ImportError:  # pragma: no cover - both are pinned in requirements.txt
            continue
    return [r for r in roots if r.is_dir()]


@lru_cache(maxsize=1)
def _asset_index() -> dict[str, Path]:
    """Basename -> local file for every offline asset we ship (static/vendor first, then xstatic)."""
    index: dict[str, Path] = {}
    for root in _asset_roots():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                index.setdefault(path.name, path)
    return index


def _local_asset(url: str) -> Path | None:
    """The local file behind ``url``: a path under the app's static folder, or a CDN URL of a file we ship."""
    clean = url.split("?")[0].split("#")[0]
    for prefix in ("/app/static/", "app/static/", "./app/static/", "/static/", "static/"):
        if clean.startswith(prefix):
            path = settings.STATIC_DIR / clean[len(prefix):]
            return path if path.is_file() else None
    name = clean.rsplit("/", 1)[-1]
    index = _asset_index()
    if name in index:
        return index[name]
    if re.fullmatch(r"jquery-[\d.]+(\.min)?\.js", name):  # code.jquery.com/jquery-3.7.1.min.js
        return index.get("jquery.min.js" if ".min." in name else "jquery.js")
    return None


def _inline_css(css: str, base: Path) -> str:
    def data_uri(match: re.Match) -> str:
        target = (base.parent / match.group("url")).resolve()
        if not target.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"

    return _CSS_URL.sub(data_uri, css)


def _leaflet_icon_shim() -> str:
    """Point Leaflet's default marker icons at inlined images (it otherwise looks them up next to its CSS)."""
    images = {}
    for key, name in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                      ("shadowUrl", "marker-shadow.png")):
        path = _asset_index().get(name)
        if path:
            images[key] = f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"
    if not images:
        return ""
    opts = ", ".join(f'{k}: "{v}"' for k, v in images.items())
    return f"<script>if (window.L) {{ L.Icon.Default.imagePath = ''; L.Icon.Default.mergeOptions({{{opts}}}); }}</script>"


def inline_assets(page: str) -> tuple[str, list[str]]:
    """Replace every external ``<script src>`` and stylesheet ``<link>`` in ``page`` by its inlined content.

    Returns the new page and the URLs that could not be found locally (those tags are removed, so the
    page never reaches for the internet).
    """
    dropped: list[str] = []

    def replace(match: re.Match) -> str:
        url = match.group("src") or match.group("href")
        is_script = match.group("src") is not None
        if not is_script and "stylesheet" not in match.group(0).lower():
            return match.group(0)
        path = _local_asset(url)
        if path is None:
            dropped.append(url)
            return f"<!-- {html_lib.escape(url)} is not available offline; omitted -->"
        text = path.read_text(encoding="utf-8")
        if is_script:
            shim = _leaflet_icon_shim() if path.name in ("leaflet.js", "leaflet-src.js") else ""
            return "<script>" + text.replace("</script", "<\\/script") + "</script>" + shim
        return "<style>" + _inline_css(text, path).replace("</style", "<\\/style") + "</style>"

    return _TAG.sub(replace, page), dropped


def _caption_block(title: str | None, caption: str | None, demo: bool, lang: str | None = None) -> str:
    if not (title or caption or demo):
        return ""
    parts = []
    if title:
        parts.append(f'<div style="font-size:20px;font-weight:bold">{html_lib.escape(title)}</div>')
    if caption:
        parts.append(f'<div style="font-size:12px;color:#555">{html_lib.escape(caption)}</div>')
    if demo:
        parts.append('<div style="font-size:13px;color:#c0392b;font-weight:bold">'
                     f'{html_lib.escape(t("export.chart.demo", resolve_lang(lang)))}</div>')
    return (
        '<div class="jiugai-map-caption" style="position:fixed;top:10px;left:60px;z-index:1000;'
        "background:rgba(255,255,255,.9);padding:6px 10px;border-radius:4px;"
        f'font-family:\'Noto Sans CJK SC\',\'Microsoft YaHei\',sans-serif">{"".join(parts)}</div>'
    )


def standalone_map_html(folium_map, *, title: str | None = None, caption: str | None = None,
                        demo: bool = False, lang: str | None = None) -> str:
    """The map as one self-contained HTML file that works offline (scripts, styles and icons inlined).

    ``title``/``caption``/``demo`` add a small box in the top-left corner (title, source and as-of line,
    demo-data mark). Tile layers that need the internet (OSM, Gaode, Tianditu) stay as they are: the
    map still works offline, without its basemap.
    """
    page = folium_map.get_root().render()
    page, dropped = inline_assets(page)
    if dropped:
        log.info("standalone map: %d asset(s) not available offline were left out: %s", len(dropped), dropped)
    block = _caption_block(title, caption, demo, lang)
    if block:
        page = page.replace("</body>", block + "</body>", 1) if "</body>" in page else page + block
    return page


def map_png(folium_map_or_html, *, width: int = 1600, height: int = 1000, scale: float = PNG_SCALE,
            title: str | None = None, caption: str | None = None, demo: bool = False,
            settle_ms: int = 600) -> bytes:
    """A PNG of the map for slides: ``width`` x ``height`` CSS pixels at ``scale`` (default 2x).

    Accepts a folium map or an already standalone HTML page. Raises :class:`ExportUnavailable` naming the
    package when Chromium or the CJK fonts are missing.
    """
    if width <= 0 or height <= 0:
        raise InputError(f"`width`/`height` were {width!r}/{height!r} but must be > 0 pixels.")
    preflight().require()
    if isinstance(folium_map_or_html, str):
        page = folium_map_or_html
        block = _caption_block(title, caption, demo)
        if block:
            page = page.replace("</body>", block + "</body>", 1)
    else:
        page = standalone_map_html(folium_map_or_html, title=title, caption=caption, demo=demo)
    # a picture has no use for the zoom buttons; the caption box moves into their place
    slide_css = ("<style>.leaflet-control-zoom{display:none!important}"
                 ".jiugai-map-caption{left:10px!important}</style>")
    page = page.replace("</head>", slide_css + "</head>", 1) if "</head>" in page else slide_css + page
    started = time.perf_counter()
    png = engine().screenshot(page, width=width, height=height, scale=scale, settle_ms=settle_ms)
    log.info("map PNG %dx%d in %.2f s", width * scale, height * scale, time.perf_counter() - started)
    return png


# --------------------------------------------------------------------------------------- bulletin


@dataclass(frozen=True)
class BulletinFiles:
    """One issue of the dispatch/bulletin as files, and what had to be left out (with the reason)."""

    bulletin: Any
    docx: bytes | None
    pdf: bytes | None
    notes: tuple[str, ...] = ()

    @property
    def file_stem(self) -> str:
        return self.bulletin.file_stem


def bulletin_figures(bulletin, *, lang: str = "zh") -> list[tuple[str, go.Figure]]:
    """The bulletin's key charts as styled plotly figures with their captions (bulletin style).

    County start/completion rates, investment completion rate, and the city's weekly cumulative
    starts/completions against the plan (when the series is known). The page's preview draws these; the
    files carry them as PNG (:func:`bulletin_charts`).
    """
    from analytics.services.bulletin import OFFICE
    from dashboard import charts

    frame = {"as_of": bulletin.report_date, "source": OFFICE, "demo": bulletin.is_demo, "lang": lang}
    progress, series = bulletin.facts.progress, bulletin.facts.series
    figures = [
        (t("export.chart.rates_title", lang), charts.county_rates_chart(progress, lang=lang), "%"),
        (t("export.chart.invest_title", lang), charts.invest_rate_chart(progress, lang=lang), "%"),
    ]
    if series is not None and len(series) > 1:
        figures.append((t("export.chart.weekly_title", lang), charts.weekly_progress_chart(series, lang=lang),
                        t("export.unit.compounds", lang)))
    return [(title, charts.style_figure(fig, title=title, unit=unit, **frame)) for title, fig, unit in figures]


def bulletin_charts(bulletin) -> list:
    """The bulletin's key charts as PNG images, rendered in one batch (Chinese, bulletin style)."""
    from analytics.services.bulletin import ChartImage
    from dashboard import charts

    figures = bulletin_figures(bulletin, lang="zh")
    pngs = figures_bytes([fig for _title, fig in figures], "png", width=EXPORT_WIDTH_PX,
                         height=charts.BULLETIN_CHART_HEIGHT_PX)
    return [ChartImage(title, png) for (title, _fig), png in zip(figures, pngs)]


def bulletin_pdf_fonts():
    """Noto Serif CJK SC for text and Noto Sans CJK SC Bold for headings (any CJK font as fallback)."""
    from analytics.services.bulletin import PdfFonts

    regular = find_cjk_font("serif") or find_cjk_font("sans")
    bold = find_cjk_font("sans", bold=True) or find_cjk_font("serif", bold=True) or regular
    if regular is None:
        raise ExportUnavailable(
            "The PDF needs a Chinese font and this machine has none; install `fonts-noto-cjk` "
            "(`sudo apt-get install fonts-noto-cjk`).", [APT_CJK_FONTS],
        )
    return PdfFonts((regular.path, regular.index), (bold.path, bold.index))


def bulletin_files(con, *, as_of, kind: Literal["week", "month"], formats: Sequence[str] = ("docx", "pdf"),
                   with_charts: bool = True, rank_by: str | None = None, lang: str = "zh", register: bool = True,
                   user=None) -> BulletinFiles:
    """Build one issue (``analytics.services.bulletin.build_bulletin``) and write it as DOCX and/or PDF.

    The issue is entered in the register (``register``; ``user`` made it), so a re-made one keeps its
    number. Charts need Chromium, the PDF needs a CJK font: when one is missing the document is still
    written without that part, and ``notes`` says (in ``lang``) what was left out and which package to install.
    """
    from analytics.services import bulletin as bulletin_mod

    unknown = [f for f in formats if f not in ("docx", "pdf")]
    if unknown or not formats:
        raise InputError(f"`formats` was {tuple(formats)!r} but must name 'docx' and/or 'pdf'.")
    started = time.perf_counter()
    issue = bulletin_mod.build_bulletin(con, as_of=as_of, kind=kind, rank_by=rank_by, register=register, user=user)
    notes: list[str] = []
    images = []
    if with_charts:
        try:
            images = bulletin_charts(issue)
        except ExportUnavailable as exc:
            notes.append(t("export.bulletin.no_charts", lang, reason=preflight().message(lang) or exc.text(lang)))
    docx = bulletin_mod.to_docx(issue, charts=images) if "docx" in formats else None
    pdf = None
    if "pdf" in formats:
        try:
            pdf = bulletin_mod.to_pdf(issue, fonts=bulletin_pdf_fonts(), charts=images)
        except ExportUnavailable as exc:
            notes.append(t("export.bulletin.no_pdf", lang, reason=preflight().message(lang) or exc.text(lang)))
    log.info("bulletin %s written in %.2f s (%d charts)", issue.full_title, time.perf_counter() - started, len(images))
    return BulletinFiles(issue, docx, pdf, tuple(notes))
