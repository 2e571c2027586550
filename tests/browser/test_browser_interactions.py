"""The key interactions in a real browser: each changes what the page shows, and what it exports, correctly.

Expected figures come from the data directly (the demo database read on the side, geopandas as the
oracle for distances), never from the page's own helpers.
"""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from PIL import Image

from analytics import idle_land, network, store
from analytics.network import walk_graph
from dashboard import maps
from dashboard.labels import t

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def layers(pristine_db):
    con = store.connect(pristine_db, read_only=True)
    try:
        yield {name: store.read_layer(con, name) for name in ("compounds", "parcels", "facilities", "roads", "barriers")}
    finally:
        con.close()


def query(app) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(app.page.url).query).items()}


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without the UTF-8 BOM Excel needs"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)


def test_overview_pick_a_county_on_the_map(app, layers, current_year):
    app.open("")  # opens on the current year
    plan = layers["compounds"][layers["compounds"]["plan_year"] == current_year]
    expected = {"counties": 11, "compounds": len(plan)}
    assert app.map_features(expect=expected) == expected

    app.click_map_feature("counties", "370830")
    assert app.selected("county") == "汶上县"
    assert query(app)["county"] == "370830"
    in_county = plan[plan["county_code"] == "370830"]
    expected = {"counties": 11, "selection": 1, "compounds": len(in_county)}
    assert app.map_features(expect=expected) == expected

    name, data = app.download("overview-compounds-csv")
    assert "370830" in name
    table = read_csv(data)
    assert sorted(table[t("col.id")]) == sorted(in_county["id"])
    assert set(table[t("col.county")]) == {"汶上县"}

    app.select("county", "邹城市")
    assert query(app)["county"] == "370883"
    expected = {"counties": 11, "selection": 1, "compounds": int((plan["county_code"] == "370883").sum())}
    assert app.map_features(expect=expected) == expected
    app.screenshot("overview-county")
    app.assert_clean()


def test_overview_chart_png_download(app):
    app.open("")
    name, data = app.download("overview-ranking-png", popover=t("export.images"))
    assert name.endswith(".png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.width >= 1000 and image.height >= 500, image.size
    app.assert_clean()


def test_idle_land_distance_slider(app, layers):
    app.open("idle_land")
    compounds, parcels = layers["compounds"], layers["parcels"]

    graph = walk_graph(layers["roads"], layers["barriers"])  # the page walks along the demo's streets

    def oracle(distance_m: float) -> set[str]:
        pairs = idle_land.parcels_within(compounds, parcels, max_distance_m=distance_m, metric="walk", graph=graph)
        return set(pairs["parcel_id"])

    label = t("idle.kpi.parcels", metric=t("common.metric_short.walk"))
    assert app.metric(label) == f"{len(oracle(500)):,}"
    app.press_slider("distance", "ArrowLeft", 4)  # 500 m -> 300 m in steps of 50
    assert query(app)["distance"] == "300"
    within = oracle(300)
    assert app.metric(label) == f"{len(within):,}"
    circles = app.map_frame().evaluate("""() => { const n = {}; window.map.eachLayer(l => {
        const p = l.feature && l.feature.properties; if (p && p.layer === 'summary') n[p.key] = p.count; });
        return n; }""")  # the whole city: parcels within reach counted per county
    assert sum(circles.values()) == len(within)
    app.map_frame().evaluate(f"() => window.map.setZoom({maps.SUMMARY_ZOOM})")
    features = app.map_features()
    assert features["parcels"] == len(parcels) and features["compounds"] == len(compounds)

    name, data = app.download("idle-parcels-csv")
    assert "300m" in name
    table = read_csv(data)
    assert set(table[t("idle.col.parcel_id")]) == within
    app.screenshot("idle_land-300m")
    app.assert_clean()


def test_living_circle_run_siting(app, layers):
    app.open("living_circle")
    k = int(app.slider_value("k"))
    app.click("site_run")
    walk = t("common.metric_short.walk")
    before = int(app.metric(t("living.kpi.before", metric=walk)).replace(",", ""))
    after = int(app.metric(t("living.kpi.after", metric=walk)).replace(",", ""))
    assert 0 <= before <= after <= int(layers["compounds"]["households"].sum())
    assert app.map_count() >= 2, "the siting result has no map"
    chosen = app.map_features(app.map_count() - 1).get("sites", 0)
    assert 1 <= chosen <= k

    _, data = app.download("siting-chosen-csv")
    table = read_csv(data)
    assert len(table) == chosen
    assert list(table.iloc[:, 0]) == [str(i) for i in range(1, chosen + 1)]  # numbered as on the map
    assert set(table.iloc[:, 1]) <= set(layers["parcels"]["id"])
    app.screenshot("living_circle-siting")
    app.assert_clean()


def test_living_circle_isochrones_drawn(app, layers):
    compounds, facilities = layers["compounds"], layers["facilities"]
    origin = compounds[compounds["county_code"] == "370883"].iloc[[0]]
    app.goto("living_circle", iso=origin["id"].iloc[0])  # a link to the page with a compound chosen
    graph = walk_graph(layers["roads"], layers["barriers"])
    reached = network.walk_pairs(graph, origin, facilities, max_m=1000)["destination_id"]
    shown = set(facilities.loc[facilities["facility_type"] == "elderly_care", "id"]) | set(reached)
    counts = app.map_features()
    for _ in range(60):  # the map redraws once the isochrones are computed
        if counts and "isochrones" in counts:
            break
        app.page.wait_for_timeout(500)
        counts = app.map_features()
    assert app.selected("iso").startswith(origin["id"].iloc[0]), app.selected("iso")
    assert counts.get("isochrones") == 3 and counts.get("iso_street", 0) > 20, counts
    assert counts["facilities"] == len(shown) and counts["compounds"] == len(compounds), counts
    app.screenshot("living_circle-isochrones")
    # a click on a neighbouring compound shows its isochrones instead
    others = compounds[compounds["id"] != origin["id"].iloc[0]]
    neighbour = others.iloc[int(others.distance(origin.geometry.iloc[0]).to_numpy().argmin())]["id"]
    app.click_map_feature("compounds", neighbour)
    app.wait_idle()
    assert app.selected("iso").startswith(neighbour), app.selected("iso")
    assert query(app)["iso"] == neighbour
    app.assert_clean()


def test_progress_weekly_bulletin(app):
    app.open("progress")
    app.click("bulletin-make-week")
    docx_name, docx = app.download("bulletin-docx-week")
    pdf_name, pdf = app.download("bulletin-pdf-week")
    assert docx_name.endswith(".docx") and pdf_name.endswith(".pdf")
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        text = re.sub(r"<[^>]+>", "", archive.read("word/document.xml").decode("utf-8"))
    assert re.search(r"济宁市老旧小区改造工作周调度（\d{4}年第\d+期）", text), text[:300]
    assert pdf.startswith(b"%PDF-")
    app.screenshot("progress-bulletin")
    app.assert_clean()


def test_sidebar_year_then_week(app, pristine_db, current_year):
    con = store.connect(pristine_db, read_only=True)
    try:
        weeks = {year: [r[0].isoformat() for r in con.execute(
            "SELECT DISTINCT report_date FROM progress_reports WHERE year(report_date) = ? ORDER BY 1 DESC",
            [year]).fetchall()] for year in (2021, 2023)}
    finally:
        con.close()
    app.open("", week="2021-05-07")  # a link to a past week opens its year and that week
    assert (app.selected("as_of_year"), app.selected("as_of")) == ("2021年", "2021-05-07")
    assert "截至 2021-05-07" in app.page.inner_text("body")

    app.select("as_of_year", "2023年")  # another year: its latest week
    assert app.selected("as_of") == weeks[2023][0] and query(app)["week"] == weeks[2023][0]
    app.select("as_of", weeks[2023][5])
    assert query(app)["week"] == weeks[2023][5] and app.selected("as_of_year") == "2023年"

    app.navigate("programme")  # the week stays when the page changes
    assert (app.selected("as_of_year"), app.selected("as_of")) == ("2023年", weeks[2023][5])
    assert f"截至 {weeks[2023][5]}" in app.page.inner_text("body")
    app.assert_clean()
