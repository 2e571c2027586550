"""Importing a road network and barriers: lines only, a row-level report, the demo's network replaced, undo."""

from __future__ import annotations

import pytest
import shapely

from analytics import living_circle, store
from analytics.errors import ImportRejected, PermissionDenied
from analytics.importing import importer
from analytics.network import walk_graph
from tests import geo_fixtures as gf
from tests.import_corpus import ADMIN, copy_database, geojson_bytes, gpkg_bytes, shapefile_zip


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return store.build_demo_database(tmp_path_factory.mktemp("roads") / "demo.duckdb")


@pytest.fixture
def con(template, tmp_path):
    connection = store.connect(copy_database(template, tmp_path / "db.duckdb"))
    yield connection
    connection.close()


def count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def road_file() -> bytes:
    """The river's streets with the names a survey gives, a point and a line of no length (rows 4 and 5)."""
    roads = gf.river_roads().rename(columns={"id": "道路编号", "road_class": "道路等级"})
    roads["道路名称"] = ["北岸路", "南岸路", "人民桥"]
    roads["单行"] = ["否", "是", None]
    bad = gf.frame([
        {"道路编号": "P", "道路等级": "支路", "道路名称": "点", "单行": None, "geometry": gf.point(0, 300)},
        {"道路编号": "Z", "道路等级": "主干", "道路名称": "零长", "单行": None,
         "geometry": gf.line((10, 300), (10, 300))},
    ])
    return geojson_bytes(gf.frame([*roads.to_dict("records"), *bad.to_dict("records")]))


def test_imported_roads_replace_the_demos_and_walks_run_along_them(con):
    demo_roads, demo_barriers = count(con, "roads"), count(con, "barriers")
    assert demo_roads > 30_000 and demo_barriers == 11
    preview = importer.prepare(road_file(), "道路.geojson", kind="roads", user=ADMIN)
    assert preview.mapping["id"] == "道路编号" and preview.mapping["road_class"] == "道路等级"
    assert preview.mapping["name"] == "道路名称" and preview.mapping["oneway"] == "单行"
    assert preview.n_rows == 5 and preview.n_valid == 3
    wrong = preview.problems[preview.problems["code"] == "wrong_geometry"]
    assert wrong["row"].tolist() == [4, 5]
    assert "not a Point" in wrong["problem"].iloc[0] and "no length" in wrong["problem"].iloc[1]
    with pytest.raises(ImportRejected, match="2 row"):
        importer.commit(con, preview, user=ADMIN)
    assert count(con, "roads") == demo_roads  # refused whole: nothing changed

    assert importer.stored_impact(con, preview)["replace_removes_barriers"] == demo_barriers
    result = importer.commit(con, preview, user=ADMIN, only_valid=True)
    assert result.rows_written == 3 and result.removed == {"barriers": demo_barriers}
    stored = store.read_layer(con, "roads")
    assert stored["id"].tolist() == ["B", "N", "S"]
    assert stored.set_index("id")["road_class"].to_dict() == {"B": "支路", "N": "次干路", "S": "次干路"}
    assert stored.set_index("id")["oneway"].tolist()[1:] == [False, True]
    assert count(con, "barriers") == 0

    barriers = gf.river().rename(columns={"id": "编号"}).assign(类型="河道", 名称="运河")
    preview = importer.prepare(gpkg_bytes(barriers, layer="水系"), "水系.gpkg", kind="barriers", user=ADMIN)
    assert preview.n_valid == 1 and not (preview.problems["severity"] == "error").any()
    importer.commit(con, preview, user=ADMIN)
    assert store.read_layer(con, "barriers")["barrier_type"].tolist() == ["河流"]

    # the graph is the imported one: a clinic 200 m away across the river is 900 m on foot
    graph = walk_graph(store.read_layer(con, "roads"), store.read_layer(con, "barriers"))
    assert graph.n_edges == 5 and graph.length_m.sum() == pytest.approx(2500, abs=0.01)
    access = living_circle.facility_access(gf.river_compounds(), gf.river_facilities(), facility_types="clinic",
                                           metric="walk", graph=graph).set_index("compound_id")
    assert access.loc["A", "nearest_m"] == pytest.approx(900, abs=0.01)
    assert access.loc["A", "straight_m"] == pytest.approx(200, abs=0.01)

    # undo, newest first: the barriers file, then the roads (the demo's network and river come back)
    importer.undo_last_import(con, user=ADMIN)
    assert count(con, "barriers") == 0 and count(con, "roads") == 3
    importer.undo_last_import(con, user=ADMIN)
    assert count(con, "roads") == demo_roads and count(con, "barriers") == demo_barriers


def test_imported_barriers_stay_when_roads_are_replaced(con):
    preview = importer.prepare(geojson_bytes(gf.river()), "river.geojson", kind="barriers", user=ADMIN,
                               mapping={"barrier_type": None})
    assert preview.error is not None and preview.error.kind == "mapping"  # the type is required
    frame = gf.river().assign(type="railway")
    importer.commit(con, importer.prepare(geojson_bytes(frame), "rail.geojson", kind="barriers", user=ADMIN),
                    user=ADMIN)
    roads = gf.river_roads()
    result = importer.commit(con, importer.prepare(geojson_bytes(roads), "r.geojson", kind="roads", user=ADMIN),
                             user=ADMIN)
    assert result.removed == {} and store.read_layer(con, "barriers")["barrier_type"].tolist() == ["铁路"]
    # a road without a class is 其他; a barrier polygon is kept as a polygon
    assert set(store.read_layer(con, "roads")["road_class"]) == {"次干路", "支路"}


def test_roads_from_a_gbk_shapefile_and_polygons_refused(con):
    roads = gf.river_roads().rename(columns={"road_class": "等级"}).assign(名称=["北岸路", "南岸路", "桥"])
    preview = importer.prepare(shapefile_zip(roads, prj=True, stem="道路"), "道路.zip", kind="roads", user=ADMIN)
    assert preview.encoding == "GBK" and preview.n_valid == 3
    assert preview.rows["name"].tolist() == ["北岸路", "南岸路", "桥"]
    roads.loc[2, "geometry"] = gf.box(0, 0, 10, 10)
    preview = importer.prepare(geojson_bytes(roads), "道路.geojson", kind="roads", user=ADMIN)
    bad = preview.problems[preview.problems["severity"] == "error"]
    assert bad[["row", "code"]].values.tolist() == [[3, "wrong_geometry"]]
    poly = gf.frame([{"id": "L1", "type": "湖泊", "geometry": shapely.make_valid(gf.box(0, 0, 100, 100))}])
    lake = importer.prepare(geojson_bytes(poly), "lake.geojson", kind="barriers", user=ADMIN)
    assert lake.n_valid == 1 and lake.rows["geometry"].iloc[0].geom_type == "Polygon"


def test_importing_roads_needs_the_permission():
    with pytest.raises(PermissionDenied):
        importer.prepare(geojson_bytes(gf.river_roads()), "r.geojson", kind="roads", user=None)
