"""Reporting units as data: the official order, zone codes, an administrator's new unit, active years, the
migration of databases that used the made-up zone codes, and units without a task listed, not dropped."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import progress, settings, store, units
from analytics.errors import InputError, PermissionDenied
from analytics.importing.fields import normalise, zone_choices
from analytics.services.auth import User
from analytics.store import schema
from tests.bulletin_fixtures import build_reports

ADMIN = User("admin", "admin")
OFFICIAL = ["370811", "370812", "370881", "370883", "370826", "370827", "370828", "370829", "370830", "370831",
            "370832", "Z01", "Z02", "Z03"]


def test_units_in_the_citys_order_with_zone_codes_of_their_own(mem_con):
    assert units.unit_order(mem_con) == OFFICIAL == list(settings.UNIT_ORDER)  # 区, 县级市, 县, 功能区
    frame = units.units(mem_con).set_index("unit_code")
    assert frame.loc["370881", "category"] == "city" and frame.loc["370826", "category"] == "county"
    zones = frame[frame["kind"] == "zone"]
    assert list(zones["name"]) == ["济宁高新区", "太白湖新区", "济宁经济技术开发区"]
    # a zone's code can never be read as a national division code (six digits); 高新区 keeps its own
    assert all(re.fullmatch(settings.ZONE_CODE_PATTERN, c) and not re.fullmatch(r"\d{6}", c) for c in zones.index)
    assert zones["national_code"].tolist()[0] == "370871" and zones["national_code"].isna().tolist()[1:] == [True, True]
    assert units.names(mem_con)["Z02"] == ("太白湖新区", "Taibai Lake New District")


def test_an_administrator_adds_a_zone_that_reports_from_its_first_year(mem_con):
    code = units.add_unit(mem_con, name="曲阜文化建设示范区", kind="zone", short_name="文化示范区", active_from=2021,
                          user=ADMIN)
    assert code == "Z04"
    assert units.unit_order(mem_con) == [*OFFICIAL, "Z04"]  # the end of its kind
    assert "Z04" not in set(units.units(mem_con, year=2020)["unit_code"])
    assert "Z04" in set(units.units(mem_con, year=2021)["unit_code"])
    with pytest.raises(InputError, match="`unit_code` 'Z04' is not active in 2020"):
        units.check_unit(mem_con, "Z04", year=2020)
    assert units.check_unit(mem_con, "Z04", year=2022) == "Z04"
    action, detail = mem_con.execute("SELECT action, detail FROM audit_log").fetchone()
    assert action == "unit_added" and '"unit_code": "Z04"' in detail
    # its names are recognised in an imported file
    assert zone_choices(units.zones(mem_con))[normalise("文化示范区")] == "Z04"
    # a county-level division joins its category: a new district after 兖州区, before the county-level cities
    assert units.add_unit(mem_con, name="测试区", kind="county", category="district", national_code="370899",
                          user=ADMIN) == "370899"
    assert units.unit_order(mem_con)[:4] == ["370811", "370812", "370899", "370881"]
    units.set_active_years(mem_con, "370899", active_from=2019, active_to=2020, user=ADMIN)
    assert "370899" not in set(units.units(mem_con, year=2021)["unit_code"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "kind": "zone"}, "`name` was ''"),
        ({"name": "太白湖新区", "kind": "zone"}, "already a unit's name"),
        ({"name": "甲区", "kind": "city"}, "`kind` was 'city'"),
        ({"name": "甲区", "kind": "county", "national_code": "370899"}, "`category` was None"),
        ({"name": "甲区", "kind": "county", "category": "district"}, "needs its 6-digit `national_code`"),
        ({"name": "甲区", "kind": "county", "category": "district", "national_code": "370811"}, "already a unit's"),
        ({"name": "甲区", "kind": "zone", "national_code": "37087"}, "must be 6 digits"),
        ({"name": "甲区", "kind": "zone", "active_from": 2022, "active_to": 2021}, "before `active_from`"),
        ({"name": "甲区", "kind": "zone", "active_from": 1800}, "between 1990 and 2100"),
    ],
)
def test_a_unit_that_does_not_fit_is_refused(mem_con, kwargs, message):
    with pytest.raises(InputError, match=message):
        units.add_unit(mem_con, user=ADMIN, **kwargs)
    assert units.unit_order(mem_con) == OFFICIAL


def test_only_an_administrator_changes_the_units(mem_con):
    for user in (None, User("v", "viewer"), User("e", "county_editor", "370811")):
        with pytest.raises(PermissionDenied):
            units.add_unit(mem_con, name="曲阜文化建设示范区", kind="zone", user=user)
        with pytest.raises(PermissionDenied):
            units.set_active_years(mem_con, "Z01", active_from=2021, active_to=None, user=user)
    assert units.unit_order(mem_con) == OFFICIAL
    with pytest.raises(InputError, match="`unit_code` was '370872'"):
        units.check_unit(mem_con, "370872")


def test_a_version_6_database_moves_to_the_zone_codes_keeping_its_rows(tmp_path, monkeypatch):
    path = tmp_path / "v6.duckdb"
    con = duckdb.connect(str(path))
    store.load_spatial(con)
    monkeypatch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] <= 6])
    assert schema.migrate(con) == 6
    for cid, zone in (("A", "370871"), ("B", "370872"), ("C", None)):
        con.execute("INSERT INTO compounds (id, name, county_code, zone_code, built_year, households, floor_area_m2, "
                    "plan_year, geom) VALUES (?, ?, '370811', ?, 1990, 100, 8000.0, 2020, "
                    "ST_GeomFromText('POINT (116.6 35.4)'))", [cid, f"小区{cid}", zone])
        con.execute("INSERT INTO progress_reports (report_date, compound_id, county_code, status) "
                    "VALUES (DATE '2020-06-26', ?, '370811', '已开工')", [cid])
    con.execute("INSERT INTO progress_reports_history (report_date, compound_id, county_code, status) "
                "VALUES (DATE '2020-06-19', 'B', '370811', '已立项')")
    con.execute("INSERT INTO undo_compounds (import_id, id, zone_code) VALUES (3, 'B', '370872')")
    con.execute("INSERT INTO annual_targets (year, unit_code, compounds) VALUES (2020, '370873', 2), (2020, '370811', 9)")
    con.execute("INSERT INTO projects (id, name, unit_code) VALUES ('P', '片区', '370872')")
    con.execute("INSERT INTO findings (id, found_date, unit_code, category, description, status) "
                "VALUES ('F', DATE '2020-06-01', '370871', '开工', '问题', '交办')")
    con.execute("INSERT INTO users (username, password_hash, role, county_code, created_at, password_changed_at) "
                "VALUES ('gx', 'x', 'county_editor', '370871', now(), now())")
    con.close()
    monkeypatch.undo()
    con = store.connect(path)
    assert schema.current_version(con) == schema.LATEST_VERSION
    assert con.execute("SELECT id, zone_code FROM compounds ORDER BY id").fetchall() == [
        ("A", "Z01"), ("B", "Z02"), ("C", None)]
    assert con.execute("SELECT compound_id, county_code, unit_code FROM progress_reports ORDER BY 1").fetchall() == [
        ("A", "370811", "Z01"), ("B", "370811", "Z02"), ("C", "370811", "370811")]
    assert con.execute("SELECT unit_code FROM progress_reports_history").fetchall() == [("Z02",)]
    assert con.execute("SELECT zone_code FROM undo_compounds").fetchall() == [("Z02",)]
    assert con.execute("SELECT unit_code, compounds FROM annual_targets ORDER BY 1").fetchall() == [
        ("370811", 9), ("Z03", 2)]
    assert con.execute("SELECT unit_code FROM projects").fetchall() == [("Z02",)]
    assert con.execute("SELECT unit_code FROM findings").fetchall() == [("Z01",)]
    assert con.execute("SELECT county_code FROM users").fetchall() == [("Z01",)]
    assert "unit_code" in store.table_columns(con, "undo_progress_reports")
    con.close()


def test_county_progress_lists_units_in_the_official_order(mem_con):
    compounds = (("a", "370826", None), ("b", "370881", None), ("c", "370812", None), ("d", "370811", "Z02"),
                 ("e", "370811", "Z01"))
    for i, (cid, county, zone) in enumerate(compounds):
        mem_con.execute("INSERT INTO compounds (id, name, county_code, zone_code, built_year, households, floor_area_m2,"
                        " plan_year, geom) VALUES (?, ?, ?, ?, 1990, 100, 8000.0, 2020, ST_GeomFromText(?))",
                        [cid, cid, county, zone, f"POINT (116.{i} 35.4)"])
        mem_con.execute("INSERT INTO progress_reports (report_date, compound_id, county_code, unit_code, status) "
                        "VALUES (DATE '2020-06-26', ?, ?, ?, '已开工')", [cid, county, zone or county])
    got = progress.county_progress(mem_con, as_of=date(2020, 6, 26))
    # 兖州区 (district), 曲阜市 (county-level city), 微山县 (county), then the zones, the city last
    assert got["unit_code"].tolist() == ["370812", "370881", "370826", "Z01", "Z02", "370800"]
    assert got["name"].tolist()[3:5] == ["济宁高新区", "太白湖新区"]
    active = units.units(mem_con, year=2020)
    full = progress.with_units_without_task(got, active)
    assert full["unit_code"].tolist() == [*OFFICIAL, "370800"]  # every active unit, in the official order
    no_task = full.set_index("unit_code").loc["Z03"]
    assert (no_task.planned_compounds, no_task.started, np.isnan(no_task.start_rate_compounds),
            np.isnan(no_task["rank"]), bool(no_task.top_three)) == (0, 0, True, True, False)
    assert no_task["name"] == "济宁经济技术开发区"
    pd.testing.assert_frame_equal(full[full.planned_compounds > 0].reset_index(drop=True), got)


def test_a_zone_added_by_an_administrator_is_listed_without_a_task_in_the_bulletin(mem_con):
    from analytics.services import bulletin

    build_reports(mem_con, [date(2020, 6, 19), date(2020, 6, 26)])
    units.add_unit(mem_con, name="曲阜文化建设示范区", kind="zone", active_from=2020, user=ADMIN)
    units.set_active_years(mem_con, "Z03", active_from=None, active_to=2019, user=ADMIN)  # retired before 2020
    issue = bulletin.build_bulletin(mem_con, as_of=date(2020, 6, 26), kind="week")
    rows = issue.tables[0].rows
    assert [r[1] for r in rows] == ["任城区", *[n for n in ["兖州区", "曲阜市", "邹城市", "微山县", "鱼台县", "金乡县",
                                                         "嘉祥县", "汶上县", "泗水县", "梁山县", "济宁高新区",
                                                         "太白湖新区", "曲阜文化建设示范区"]], "全市"]
    assert rows[-2][2] == bulletin.NO_TASK and issue.tables[0].spans[len(rows) - 2] == 2
    assert "济宁经济技术开发区" not in [r[1] for r in rows]


def test_a_zone_that_has_not_reported_holds_back_the_citys_date(mem_con):
    fridays = [date(2020, 12, 4), date(2020, 12, 11)]
    for i, (cid, zone) in enumerate((("A", None), ("Z", "Z01"))):
        mem_con.execute("INSERT INTO compounds (id, name, county_code, zone_code, built_year, households, floor_area_m2,"
                        " plan_year, geom) VALUES (?, ?, '370811', ?, 1990, 100, 8000.0, 2020, ST_GeomFromText(?))",
                        [cid, cid, zone, f"POINT (116.{i} 35.4)"])
    for day in fridays:  # 任城区 reports both weeks, 济宁高新区 (in 任城区) only the first
        mem_con.execute("INSERT INTO progress_reports (report_date, compound_id, county_code, unit_code, status) "
                        "VALUES (?, 'A', '370811', '370811', '已开工')", [day])
    mem_con.execute("INSERT INTO progress_reports (report_date, compound_id, county_code, unit_code, status) "
                    "VALUES (?, 'Z', '370811', 'Z01', '已开工')", [fridays[0]])
    assert progress.city_as_of(mem_con) == fridays[0]
    assert progress.city_as_of(mem_con, share=0.5) == fridays[1]
