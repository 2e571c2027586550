"""The export engine: chart PNG/SVG/PDF, batches, the lock under concurrent calls, preflight, maps.

One Chromium session serves the whole module (the process's engine, closed at the end).
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata

import folium
import plotly.graph_objects as go
import pypdf
import pytest
from PIL import Image

from analytics.errors import InputError
from dashboard import _internals, charts, export

pytestmark = pytest.mark.skipif(not export.preflight().ok, reason="needs chromium and fonts-noto-cjk")


@pytest.fixture(scope="module", autouse=True)
def one_session():
    yield
    export.shutdown()


def bar(title: str, *, n: int = 3) -> go.Figure:
    fig = go.Figure(go.Bar(x=["任城区", "兖州区", "微山县"][:n], y=[0.5, 0.7, 0.2][:n]))
    return charts.style_figure(fig, title=title, unit="%", as_of="2020-06-26", source="演示数据", demo=True)


def svg_text(data: bytes) -> str:
    return data.decode("utf-8")


def test_style_figure_frame():
    fig = bar("各县区开工率")
    assert fig.layout.title.text == "<b>各县区开工率</b>"
    assert fig.layout.title.subtitle.text == "单位：% · 截至2020年6月26日"
    names = {a.name: a.text for a in fig.layout.annotations}
    assert names["jiugai-source"] == "数据来源：演示数据"
    assert "演示数据" in names["jiugai-demo"] and names["jiugai-watermark"] == "演示数据（非真实统计）"
    assert fig.layout.font.family.startswith('"Noto Sans CJK SC"')
    assert charts.is_styled(fig)
    # styling twice does not stack annotations; without demo there is no mark
    charts.style_figure(fig, title="各县区开工率", demo=False)
    assert {a.name for a in fig.layout.annotations} == set()
    assert charts.style_figure(go.Figure(), title="x", as_of="2020-06-26", lang="en").layout.title.subtitle.text == \
        "As of 2020-06-26"


def test_png_is_twice_the_css_size():
    png = export.figure_bytes(bar("开工率"), "png", width=800, height=500)
    assert Image.open(io.BytesIO(png)).size == (1600, 1000)
    default = export.figure_bytes(bar("开工率"))
    assert Image.open(io.BytesIO(default)).size == (2 * charts.EXPORT_WIDTH_PX, 2 * charts.EXPORT_HEIGHT_PX)
    three = export.figure_bytes(bar("开工率"), "png", width=400, height=300, scale=3)
    assert Image.open(io.BytesIO(three)).size == (1200, 900)


def test_svg_keeps_chinese_text_and_font():
    svg = svg_text(export.figure_bytes(bar("各县区开工率"), "svg"))
    assert svg.startswith("<svg")
    for text in ("各县区开工率", "任城区", "兖州区", "数据来源：演示数据", "演示数据（非真实统计）"):
        assert text in svg
    assert "Noto Sans CJK SC" in svg


def test_pdf_has_text_and_embedded_cjk_font():
    pdf = pypdf.PdfReader(io.BytesIO(export.figure_bytes(bar("各县区完工率"), "pdf")))
    # Chromium maps some ideographs to their Kangxi-radical twins in the text layer; NFKC folds them back
    text = unicodedata.normalize("NFKC", re.sub(r"\s+", "", pdf.pages[0].extract_text()))
    assert "各县区完工率" in text and "任城区" in text
    fonts = font_programs(pdf)
    assert fonts and set(fonts.values()) <= {"Type3", "FontFile2", "FontFile3"}, fonts  # nothing left to the viewer


def font_programs(reader: pypdf.PdfReader) -> dict[str, str]:
    """Every font used in the file -> where its glyphs come from: ``"FontFile*"`` (an embedded font
    program), ``"Type3"`` (glyph outlines drawn by the file itself) or ``"external"`` (the viewer's own
    fonts: Chinese would depend on the reader's machine)."""
    found: dict[str, str] = {}

    def walk(key, font):
        font = font.get_object()
        for desc in font.get("/DescendantFonts", []):
            walk(key, desc)
        if font.get("/Subtype") == "/Type0":
            return
        if font.get("/Subtype") == "/Type3":
            found[str(key)] = "Type3" if font.get("/CharProcs") else "external"
            return
        descriptor = (font.get("/FontDescriptor") or {})
        descriptor = descriptor.get_object() if descriptor else {}
        files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
        found[str(font.get("/BaseFont", key))] = files[0][1:] if files else "external"

    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for key, font in (resources.get("/Font") or {}).items():
            walk(key, font)
    return found


def test_batch_returns_each_figure_in_order():
    titles = [f"第{i}张图表" for i in range(6)]
    out = export.figures_bytes([bar(t) for t in titles], "svg")
    assert len(out) == 6
    for title, data in zip(titles, out):
        svg = svg_text(data)
        assert title in svg
        assert all(other not in svg for other in titles if other != title)
    mixed = export.export_batch([export.FigureJob(bar("甲"), "png", 300, 200), export.FigureJob(bar("乙"), "svg")])
    assert Image.open(io.BytesIO(mixed[0])).size == (600, 400) and "乙" in svg_text(mixed[1])
    assert export.figures_bytes([], "png") == []


def test_lock_serialises_concurrent_exports(monkeypatch):
    engine = export.engine()
    inside, peak, guard = [0], [0], threading.Lock()
    original = export.ExportEngine._submit

    def counting(self, coro, **kwargs):
        with guard:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            return original(self, coro, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(export.ExportEngine, "_submit", counting)
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []
    calls_before = engine.calls

    def work(i: int) -> None:
        try:
            results[i] = export.figure_bytes(bar(f"线程{i}的图", n=1 + i % 3), "svg", width=400 + 10 * i, height=300)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert engine.calls - calls_before == 8
    assert peak[0] == 1  # never two calls inside Chromium at once
    for i, data in results.items():
        svg = svg_text(data)
        assert f"线程{i}的图" in svg
        assert re.search(rf'<svg[^>]*width="{400 + 10 * i}"', svg), svg[:300]


def test_bad_arguments():
    with pytest.raises(InputError, match="`fmt` was 'gif'"):
        export.figure_bytes(bar("x"), "gif")
    with pytest.raises(InputError, match="`width`/`height` were -5/300"):
        export.figure_bytes(bar("x"), "png", width=-5, height=300)


def test_preflight_names_missing_chromium(monkeypatch, tmp_path):
    monkeypatch.setenv("JIUGAI_CHROMIUM", str(tmp_path / "no-such-chromium"))
    try:
        check = export.preflight(refresh=True)
        assert check.chromium is None and check.missing == ("chromium",)
        assert check.message("zh") == ("本机缺少系统软件包 chromium，无法导出图片（否则中文会显示为方框）。"
                                       "请安装：sudo apt-get install chromium")
        assert "sudo apt-get install chromium" in check.message("en")
        with pytest.raises(export.ExportUnavailable, match="chromium") as err:
            export.figure_bytes(bar("x"))
        assert err.value.packages == ("chromium",)
        with pytest.raises(export.ExportUnavailable, match="chromium"):
            export.map_png(folium.Map(tiles=None))
    finally:
        monkeypatch.undo()
        assert export.preflight(refresh=True).ok


def test_preflight_names_missing_fonts(monkeypatch):
    monkeypatch.setattr(export, "CJK_FONT_DIRS", ())
    monkeypatch.setattr(export, "_font_files_from_fontconfig", lambda: [])
    try:
        check = export.preflight(refresh=True)
        assert check.missing == ("fonts-noto-cjk",)
        assert "fonts-noto-cjk" in check.message("zh")
        with pytest.raises(export.ExportUnavailable, match="fonts-noto-cjk"):
            export.figure_bytes(bar("x"))
        with pytest.raises(export.ExportUnavailable, match="fonts-noto-cjk"):
            export.bulletin_pdf_fonts()
    finally:
        monkeypatch.undo()
        assert export.preflight(refresh=True).ok


def test_find_cjk_font_picks_the_simplified_chinese_face():
    face = export.find_cjk_font("sans")
    assert face is not None and face.family.endswith("SC")
    serif = export.find_cjk_font("serif")
    assert serif is not None and "Serif" in serif.family


def red_square_map() -> folium.Map:
    m = folium.Map(location=[35.4, 116.6], zoom_start=10, tiles=None, prefer_canvas=True)
    square = {"type": "Feature", "properties": {"name": "任城区"}, "geometry": {"type": "Polygon", "coordinates": [
        [[116.45, 35.3], [116.75, 35.3], [116.75, 35.5], [116.45, 35.5], [116.45, 35.3]]]}}
    folium.GeoJson(square, style_function=lambda _f: {"fillColor": "#ff0000", "color": "#ff0000", "fillOpacity": 1},
                   tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    m.fit_bounds([[35.3, 116.45], [35.5, 116.75]])
    return m


def test_standalone_map_html_works_offline():
    page = export.standalone_map_html(red_square_map(), title="县区图", caption="数据来源：演示数据", demo=True)
    # no script or stylesheet is fetched from anywhere: every src/href to a file is gone
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+rel=\"stylesheet\"", page)
    assert "L.map(" in page and "Leaflet" in page and "jQuery" in page  # both inlined
    assert "data:image/png;base64," in page  # Leaflet's images inlined into its CSS / icon shim
    assert "bootstrap" in page and "is not available offline; omitted" in page
    assert "县区图" in page and "演示数据（非真实统计）" in page


def test_map_png_size_and_drawn_content():
    png = export.map_png(red_square_map(), width=500, height=400, title="县区图", demo=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1000, 800)
    reds = sum(1 for r, g, b in image.getdata() if r > 200 and g < 60 and b < 60)
    assert reds > 0.05 * 1000 * 800  # the filled square was drawn by Leaflet, offline


def test_inline_assets_maps_cdn_and_static_urls(tmp_path, monkeypatch):
    vendor = tmp_path / "vendor" / "x"
    vendor.mkdir(parents=True)
    (vendor / "tool.js").write_text("var tool = '</script>';", encoding="utf-8")
    monkeypatch.setattr(export.settings, "STATIC_DIR", tmp_path)
    export._asset_index.cache_clear()
    try:
        page, dropped = export.inline_assets(
            '<script src="/app/static/vendor/x/tool.js"></script>'
            '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
            '<script src="https://example.invalid/unknown.js"></script>'
        )
    finally:
        export._asset_index.cache_clear()
    assert "var tool = '<\\/script>';" in page
    assert "jQuery" in page
    assert dropped == ["https://example.invalid/unknown.js"]


def test_engine_reopens_chromium_after_a_crash():
    engine = export.engine()
    export.figure_bytes(bar("崩溃之前"), "svg")
    process = engine._kaleido.subprocess
    process.kill()
    process.wait(timeout=10)
    assert "崩溃之后" in svg_text(export.figure_bytes(bar("崩溃之后"), "svg"))
    assert engine._kaleido.subprocess is not process and engine._kaleido.subprocess.poll() is None


def test_chromium_runs_with_web_security_on():
    """Charts and map pictures render without the flags that switch off the same-origin and file rules."""
    import psutil

    export.figure_bytes(bar("安全"), "png")
    export.map_png(red_square_map(), width=200, height=150)
    root = psutil.Process(export.engine()._kaleido.subprocess.pid)
    command_lines = [" ".join(p.cmdline()) for p in [root, *root.children(recursive=True)]]
    assert any("chromium" in line or "chrome" in line for line in command_lines)
    for flag in _internals.UNSAFE_CHROMIUM_FLAGS:
        assert not any(flag in line for line in command_lines), flag


def test_a_page_shows_the_frame_around_the_figure_and_keeps_the_export_whole():
    fig = bar("各县区开工率")
    frame, shown = charts.for_screen(fig)
    assert frame == charts.ScreenFrame(title="各县区开工率", subtitle="单位：% · 截至2020年6月26日",
                                       source="数据来源：演示数据", demo="演示数据（非真实统计）")
    # the figure on the page: no title, subtitle, corner mark or source line; the watermark stays
    assert not shown.layout.title.text and not shown.layout.title.subtitle.text
    assert [a.name for a in shown.layout.annotations] == ["jiugai-watermark"]
    # the legend sits at the top in the figure's own coordinates (the plot starts below however it wraps)
    assert (shown.layout.legend.yref, shown.layout.legend.y, shown.layout.legend.yanchor) == ("container", 1, "top")
    # the figure passed in keeps its whole frame for the files
    assert fig.layout.title.text == "<b>各县区开工率</b>"
    assert {a.name for a in fig.layout.annotations} == {"jiugai-source", "jiugai-demo", "jiugai-watermark"}
    plain = go.Figure(go.Bar(x=[1], y=[2]))
    assert charts.for_screen(plain) == (None, plain)
    frame, _ = charts.for_screen(charts.style_figure(go.Figure(), title="x", demo=False))
    assert (frame.demo, frame.source, frame.subtitle) == ("", "", "")


@pytest.mark.parametrize("render", ["screenshot", "pdf"])
def test_the_page_folder_is_private_also_when_made_again(render, monkeypatch):
    """Chromium opens the pages as files: after a close removed the folder, it is made again 0700."""
    import os
    import shutil

    engine = export.ExportEngine("/nonexistent/chromium")
    shutil.rmtree(engine._tmp)
    seen = []
    monkeypatch.setattr(engine, "_call", lambda run: seen.append(os.stat(engine._tmp).st_mode & 0o777) or b"")
    old = os.umask(0o022)
    try:
        if render == "screenshot":
            engine.screenshot("<p>1</p>", width=10, height=10)
        else:
            engine.pdf("<p>1</p>", width_in=8.27, height_in=11.69)
    finally:
        os.umask(old)
        shutil.rmtree(engine._tmp, ignore_errors=True)
    assert seen == [0o700]
