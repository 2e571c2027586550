"""打印版 / 导出 PDF: the overview and the progress ranking printed on the server, A4 and A3 landscape — the
file holds the map's picture, the page's own KPI figures and ranking, the period, source and demo mark,
and carries its Chinese fonts with it."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from analytics import settings
from dashboard.labels import t

pytestmark = pytest.mark.browser

POINTS_PER_MM = 72 / 25.4
OVERVIEW_KPIS = ("overview.kpi.compounds", "overview.kpi.households", "overview.kpi.floor_area",
                 "overview.kpi.start_rate", "overview.kpi.completion_rate", "overview.kpi.invest_rate")
PROGRESS_KPIS = ("progress.kpi.started", "progress.kpi.completed", "progress.kpi.start_rate",
                 "progress.kpi.completion_rate", "progress.kpi.invest_rate")


def fold(text: str) -> str:
    """Text as compared here: the handout's text as a reader copies it (no radicals for ideographs)."""
    assert not any(0x2E80 <= ord(c) <= 0x2FDF for c in text), "radicals where ideographs belong"
    return text


def read_pdf(data: bytes) -> tuple[PdfReader, str]:
    """The PDF and its text as a reader sees it."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return reader, fold("\n".join(page.extract_text() for page in reader.pages))


def check_page_size(reader: PdfReader, width_mm: float, height_mm: float) -> None:
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(width_mm * POINTS_PER_MM, abs=1.5)
    assert float(box.height) == pytest.approx(height_mm * POINTS_PER_MM, abs=1.5)


def check_fonts_travel_with_the_file(reader: PdfReader) -> list[str]:
    """Every font's glyphs are in the file (a font program, or Type 3 glyph procedures); their names."""
    names = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            glyphs = font.get("/Subtype") == "/Type3" and len(font.get("/CharProcs", {})) > 0
            assert embedded or glyphs, f"font {font.get('/BaseFont') or descriptor.get('/FontName')} is not embedded"
            names.append(str(descriptor.get("/FontName") or font.get("/BaseFont")))
    assert any("CJK" in name for name in names), names
    return names


def test_overview_handout_on_a4_and_a3(app):
    app.open("")
    figures = {key: app.metric(t(key, lang="zh")) for key in OVERVIEW_KPIS}
    assert all(figures.values()), figures
    for paper, size in (("a4", (297, 210)), ("a3", (420, 297))):
        name, data = app.download(f"overview-handout-{paper}", popover=t("handout.print", lang="zh"))
        assert name.endswith(f"-{paper.upper()}.pdf")
        reader, text = read_pdf(data)
        check_page_size(reader, *size)
        images = [image for image in reader.pages[0].images]
        assert len(images) == 1, [i.name for i in images]
        width, height = images[0].image.size
        assert width >= 2000 and width / height == pytest.approx(720 / 540, rel=0.01)  # the map's picture
        for label, value in figures.items():
            assert fold(f"{t(label, lang='zh')}\n{value}") in text, (label, value)
        assert fold(t("handout.overview_title", lang="zh")) in text and "截至" in text
        assert fold(t("export.chart.demo", lang="zh")) in text
        for code in settings.COUNTIES:
            assert fold(settings.COUNTIES[code][0]) in text
        check_fonts_travel_with_the_file(reader)
    app.assert_clean()


def test_progress_ranking_handout(app):
    app.open("progress")
    figures = {key: app.metric(t(key, lang="zh", unit="全市")) for key in PROGRESS_KPIS}  # the city's cards
    name, data = app.download("progress-handout-a4", popover=t("handout.print", lang="zh"))
    reader, text = read_pdf(data)
    check_page_size(reader, 297, 210)
    assert not reader.pages[0].images
    for label, value in figures.items():
        assert fold(f"{t(label, lang='zh', unit='全市')}\n{value}") in text, (label, value)
    assert fold(t("handout.ranking_title", lang="zh")) in text and fold(t("export.chart.demo", lang="zh")) in text
    names = {fold(c[0]) for c in settings.COUNTIES.values()}
    lines = [line for line in text.splitlines() if names & set(line.split())]
    assert len(lines) == len(settings.COUNTIES), lines  # one row per county, rank first
    ranks = [int(line.split()[0]) for line in lines]
    assert ranks == sorted(ranks)
    check_fonts_travel_with_the_file(reader)
    app.assert_clean()
