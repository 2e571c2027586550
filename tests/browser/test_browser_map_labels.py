"""The overview's choropleth names its counties: every county's label (name and the indicator's value, as the
data gives it) drawn on the map, no two labels or a label and a legend overlapping, each on its county or tied
to it by a leader line — on a desktop, on a phone and on the projector (large type)."""

from __future__ import annotations

import pytest

from analytics import settings, store
from analytics.progress import county_progress
from dashboard.labels import t

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}

# Every label and leader line of the map, in the map frame's pixels; for each, whether the point it stands
# for (the label's centre, or the leader's start) lies inside its county as Leaflet draws it.
LABELS_JS = """() => {
    const box = el => { const r = el.getBoundingClientRect(); return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
    const own = document.querySelector('#map_div').getBoundingClientRect();
    const counties = {};
    window.map.eachLayer(l => {
        const p = l.feature && l.feature.properties;
        if (p && p.layer === 'counties') counties[p.key] = l;
    });
    const within = (code, x, y) => {
        const layer = counties[code];
        return !!layer && layer._containsPoint(window.map.containerPointToLayerPoint([x - own.left, y - own.top]));
    };
    const labels = [...document.querySelectorAll('.jiugai-label')].map(el => {
        const b = box(el);
        return {code: el.dataset.code, lines: el.innerText.split('\\n').map(s => s.trim()).filter(Boolean),
                visible: getComputedStyle(el).visibility === 'visible', selected: el.classList.contains('jiugai-label-selected'),
                font: parseFloat(getComputedStyle(el).fontSize), box: b,
                centre_inside: within(el.dataset.code, (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2)};
    });
    const leaders = [...document.querySelectorAll('.jiugai-leader')].filter(el => el.style.display === 'block').map(el => {
        const start = window.map.layerPointToContainerPoint(L.DomUtil.getPosition(el));
        return {code: el.dataset.code, start_inside: within(el.dataset.code, start.x + own.left, start.y + own.top),
                length: parseFloat(el.style.width)};
    });
    const controls = [...document.querySelectorAll('.leaflet-control')].map(box).filter(b => b.x1 > b.x0);
    return {labels, leaders, controls, map: box(document.querySelector('#map_div'))};
}"""


def overlap(a: dict, b: dict) -> bool:
    return a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5 and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5


@pytest.fixture(scope="module")
def expected(pristine_db) -> dict[str, tuple[str, str]]:
    """County code → (name, completion rate as shown), from the stored weekly reports."""
    con = store.connect(pristine_db, read_only=True)
    try:
        as_of = con.execute("SELECT max(report_date) FROM progress_reports").fetchone()[0]
        progress = county_progress(con, as_of=as_of)
    finally:
        con.close()
    counties = progress[progress["kind"] == "county"]
    return {code: (settings.COUNTIES[code][0], f"{rate * 100:.1f}%")
            for code, rate in zip(counties["unit_code"], counties["completion_rate"])}


def check_labels(app, expected: dict[str, tuple[str, str]], *, selected: str | None = None) -> dict:
    """Every county labelled with its name (or short name) and value; nothing overlaps; each label is on its
    county or has a leader line from inside it."""
    frame = app.map_frame(0)
    frame.wait_for_function("() => document.querySelectorAll('.jiugai-label').length > 0", timeout=30_000)
    app.page.wait_for_timeout(500)  # a resize re-places the labels
    drawn = frame.evaluate(LABELS_JS)
    labels = {label["code"]: label for label in drawn["labels"]}
    assert sorted(labels) == sorted(expected)
    leaders = {leader["code"]: leader for leader in drawn["leaders"]}
    for code, (name, value) in expected.items():
        label = labels[code]
        assert label["visible"], code
        assert label["lines"] in ([name, value], [name[:-1], value]), (code, label["lines"])
        assert label["selected"] == (code == selected), code
        b, m = label["box"], drawn["map"]
        assert m["x0"] <= b["x0"] and b["x1"] <= m["x1"] and m["y0"] <= b["y0"] and b["y1"] <= m["y1"], (code, b, m)
        if code in leaders:
            assert leaders[code]["start_inside"] and leaders[code]["length"] > 0, (code, leaders[code])
        else:
            assert label["centre_inside"], (code, label)
    boxes = [label["box"] for label in drawn["labels"]]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)
        for control in drawn["controls"]:
            assert not overlap(a, control), (a, control)
    return drawn


def test_overview_map_names_every_county_with_its_value(app, expected):
    app.open("")
    drawn = check_labels(app, expected)
    assert min(label["font"] for label in drawn["labels"]) >= 12
    legend = app.map_frame(0).locator(".jiugai-legend").first.inner_text()
    assert legend.startswith(t("maps.legend_unit", lang="zh", label=t("overview.ind.completion_rate", lang="zh"),
                                 unit=t("overview.unit_pct", lang="zh")))
    app.screenshot("map-labels-desktop")
    app.assert_clean()


def test_phone_map_names_every_county(app, expected):
    app.page.set_viewport_size(PHONE)
    app.goto("")
    check_labels(app, expected)
    app.screenshot("map-labels-phone")
    app.assert_clean()


def test_selected_county_label_is_framed(app):
    app.open("", county="370830")  # the map opens on the county
    frame = app.map_frame(0)
    frame.wait_for_function("() => document.querySelectorAll('.jiugai-label').length === 11", timeout=30_000)
    # The map flies to the county after the labels are first placed; they are re-placed once it settles.
    try:
        frame.wait_for_function(f"() => ({LABELS_JS})().labels.some(l => l.selected && l.centre_inside)",
                                timeout=10_000)
    except Exception:  # noqa: BLE001 - the assertions below say what is wrong
        pass
    drawn = frame.evaluate(LABELS_JS)
    assert [label["code"] for label in drawn["labels"] if label["selected"]] == ["370830"]
    label = next(label for label in drawn["labels"] if label["selected"])
    b, m = label["box"], drawn["map"]
    assert m["x0"] <= b["x0"] and b["x1"] <= m["x1"] and m["y0"] <= b["y0"] and b["y1"] <= m["y1"]
    assert label["lines"] == [settings.COUNTIES["370830"][0], label["lines"][1]] and label["centre_inside"]
    app.assert_clean()


def test_projector_map_labels_are_large_and_apart(app, expected):
    app.page.set_viewport_size(PROJECTOR)
    app.open("", meeting="True")
    drawn = check_labels(app, expected)
    assert min(label["font"] for label in drawn["labels"]) >= 18
    app.screenshot("map-labels-projector")
    app.assert_clean()
