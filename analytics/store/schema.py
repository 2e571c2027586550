"""Database schema as ordered migrations; ``migrate`` brings any database up to ``LATEST_VERSION``."""

from __future__ import annotations

import functools
import logging

import duckdb

from analytics._sql import scalar

log = logging.getLogger(__name__)

# Each migration: (version, description, SQL statements). Never edit a released one; append a new one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "core tables",
        [
            """CREATE TABLE counties (
                id VARCHAR PRIMARY KEY, county_code VARCHAR NOT NULL, name VARCHAR NOT NULL,
                name_en VARCHAR, seat_lon DOUBLE, seat_lat DOUBLE, geom GEOMETRY NOT NULL)""",
            """CREATE TABLE compounds (
                id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, county_code VARCHAR NOT NULL,
                zone_code VARCHAR, street VARCHAR, community VARCHAR,
                built_year INTEGER NOT NULL, n_buildings INTEGER, households INTEGER NOT NULL,
                floor_area_m2 DOUBLE NOT NULL, max_floors INTEGER, has_elevator BOOLEAN,
                plan_year INTEGER NOT NULL, tier VARCHAR, items VARCHAR,
                status VARCHAR NOT NULL DEFAULT '未开工',
                approved_date DATE, start_date DATE, completion_date DATE,
                planned_start_date DATE, planned_completion_date DATE,
                invest_planned_wan DOUBLE, invest_done_wan DOUBLE,
                willingness_pct DOUBLE, contributing_pct DOUBLE,
                procedures_complete BOOLEAN, property_mgmt BOOLEAN, demolition_planned BOOLEAN,
                geom GEOMETRY NOT NULL)""",
            """CREATE TABLE buildings (
                id VARCHAR PRIMARY KEY, compound_id VARCHAR NOT NULL, county_code VARCHAR NOT NULL,
                floors INTEGER NOT NULL, units INTEGER NOT NULL, households_per_floor INTEGER NOT NULL,
                households INTEGER NOT NULL, floor_area_m2 DOUBLE, has_elevator BOOLEAN,
                built_year INTEGER, geom GEOMETRY NOT NULL)""",
            """CREATE TABLE parcels (
                id VARCHAR PRIMARY KEY, county_code VARCHAR NOT NULL, parcel_type VARCHAR NOT NULL,
                area_m2 DOUBLE NOT NULL, ownership VARCHAR, land_use VARCHAR, note VARCHAR,
                geom GEOMETRY NOT NULL)""",
            """CREATE TABLE facilities (
                id VARCHAR PRIMARY KEY, county_code VARCHAR NOT NULL, facility_type VARCHAR NOT NULL,
                name VARCHAR, floor_area_m2 DOUBLE, geom GEOMETRY NOT NULL)""",
            """CREATE TABLE progress_reports (
                report_date DATE NOT NULL, compound_id VARCHAR NOT NULL, county_code VARCHAR NOT NULL,
                status VARCHAR NOT NULL, approved_date DATE, start_date DATE, completion_date DATE,
                invest_done_wan DOUBLE, elevators_added INTEGER, parking_spaces INTEGER,
                chargers INTEGER, facilities_added INTEGER, pipes_km DOUBLE,
                source VARCHAR, submitted_by VARCHAR, submitted_at TIMESTAMP,
                PRIMARY KEY (report_date, compound_id))""",
            """CREATE TABLE funding (
                compound_id VARCHAR NOT NULL, source VARCHAR NOT NULL, amount_wan DOUBLE NOT NULL,
                PRIMARY KEY (compound_id, source))""",
            """CREATE TABLE annual_plans (
                plan_year INTEGER NOT NULL, county_code VARCHAR NOT NULL, compounds INTEGER NOT NULL,
                households INTEGER NOT NULL, floor_area_m2 DOUBLE NOT NULL, invest_planned_wan DOUBLE,
                PRIMARY KEY (plan_year, county_code))""",
            """CREATE SEQUENCE audit_log_seq START 1""",
            """CREATE TABLE audit_log (
                id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_seq'), logged_at TIMESTAMP NOT NULL,
                username VARCHAR, action VARCHAR NOT NULL, table_name VARCHAR, file_name VARCHAR,
                file_sha256 VARCHAR, mode VARCHAR, rows_in INTEGER, rows_written INTEGER,
                rows_rejected INTEGER, detail VARCHAR)""",
            """CREATE TABLE dataset_info (key VARCHAR PRIMARY KEY, value VARCHAR)""",
        ],
    ),
    (
        2,
        "accounts, sessions and sign-in throttling",
        [
            """CREATE TABLE users (
                username VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL,
                role VARCHAR NOT NULL CHECK (role IN ('viewer', 'county_editor', 'admin')),
                county_code VARCHAR, display_name VARCHAR, disabled BOOLEAN NOT NULL DEFAULT false,
                created_at TIMESTAMP NOT NULL, created_by VARCHAR, password_changed_at TIMESTAMP NOT NULL,
                last_login_at TIMESTAMP)""",
            """CREATE TABLE sessions (
                token_sha256 VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
                expires_at TIMESTAMP NOT NULL, last_seen_at TIMESTAMP NOT NULL)""",
            """CREATE TABLE sign_in_failures (
                username VARCHAR PRIMARY KEY, failures INTEGER NOT NULL, last_failure_at TIMESTAMP NOT NULL,
                locked_until TIMESTAMP)""",
        ],
    ),
    (
        3,
        "import undo snapshots and weekly report history",
        [
            # One row per undoable write (a file import or a county weekly report). ``scope`` is JSON
            # {table: {column: value}} naming the rows snapshotted before the write ({} = whole table);
            # ``undone_by`` is the audit id of the undo, NULL while it stands.
            """CREATE TABLE import_batches (
                import_id BIGINT PRIMARY KEY, logged_at TIMESTAMP NOT NULL, username VARCHAR,
                action VARCHAR NOT NULL, table_name VARCHAR, mode VARCHAR, file_name VARCHAR,
                scope VARCHAR NOT NULL, undone_by BIGINT, snapshot_dropped BOOLEAN NOT NULL DEFAULT false)""",
            # Previous state of the rows a write replaced, keyed by the write's import_id (= audit id).
            # A migration adding a column to one of these tables must add it to its undo_ twin too.
            *[
                f"CREATE TABLE undo_{table} AS SELECT CAST(NULL AS BIGINT) AS import_id, * FROM {table} LIMIT 0"
                for table in ("compounds", "buildings", "parcels", "facilities", "progress_reports", "funding",
                              "annual_plans", "dataset_info")
            ],
            # Weekly report rows replaced by a re-upload of the same week and county.
            """CREATE TABLE progress_reports_history AS
                SELECT *, CAST(NULL AS TIMESTAMP) AS replaced_at, CAST(NULL AS VARCHAR) AS replaced_by,
                       CAST(NULL AS BIGINT) AS replaced_by_import
                FROM progress_reports LIMIT 0""",
        ],
    ),
    (
        4,
        "the programme: annual targets, projects, money flows, after-care, supervision findings, candidate pool",
        [
            # Candidates (储备库) are compounds without a plan year; a compound may belong to a project.
            "ALTER TABLE compounds ALTER COLUMN plan_year DROP NOT NULL",
            "ALTER TABLE compounds ADD COLUMN project_id VARCHAR",
            "ALTER TABLE undo_compounds ADD COLUMN project_id VARCHAR",
            # The task assigned per year and unit (county, function zone, or 370800 for the whole city),
            # set independently of the compound list.
            """CREATE TABLE annual_targets (
                year INTEGER NOT NULL, unit_code VARCHAR NOT NULL, compounds INTEGER, households INTEGER,
                floor_area_m2 DOUBLE, investment_wan DOUBLE, issued_date DATE, source VARCHAR, note VARCHAR,
                PRIMARY KEY (year, unit_code))""",
            # Projects (项目) group one or more compounds (compounds.project_id).
            """CREATE TABLE projects (
                id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, year INTEGER, unit_code VARCHAR NOT NULL,
                street VARCHAR, community VARCHAR, delivery_model VARCHAR, contractor VARCHAR,
                invest_planned_wan DOUBLE, note VARCHAR)""",
            # Money allocated (下达), received (到位) and paid (拨付/支付), one row per movement; the planned
            # amount per source is in ``funding``.
            """CREATE TABLE fund_flows (
                id VARCHAR PRIMARY KEY, flow_date DATE NOT NULL, compound_id VARCHAR, project_id VARCHAR,
                source VARCHAR NOT NULL, stage VARCHAR NOT NULL, amount_wan DOUBLE NOT NULL, document VARCHAR,
                note VARCHAR, submitted_by VARCHAR, submitted_at TIMESTAMP)""",
            # After completion: acceptance, property management, long-term mechanism, residents' satisfaction.
            """CREATE TABLE aftercare (
                compound_id VARCHAR PRIMARY KEY, accepted_date DATE, mgmt_mode VARCHAR, mgmt_established BOOLEAN,
                mgmt_established_date DATE, satisfaction_pct DOUBLE, survey_date DATE, note VARCHAR,
                submitted_by VARCHAR, submitted_at TIMESTAMP)""",
            # Problems found by supervision (督导发现问题), tracked until closed (已销号).
            """CREATE TABLE findings (
                id VARCHAR PRIMARY KEY, found_date DATE NOT NULL, unit_code VARCHAR NOT NULL, compound_id VARCHAR,
                project_id VARCHAR, category VARCHAR NOT NULL, description VARCHAR NOT NULL, deadline DATE,
                status VARCHAR NOT NULL, closed_date DATE, found_by VARCHAR, note VARCHAR,
                submitted_by VARCHAR, submitted_at TIMESTAMP)""",
            *[
                f"CREATE TABLE undo_{table} AS SELECT CAST(NULL AS BIGINT) AS import_id, * FROM {table} LIMIT 0"
                for table in ("annual_targets", "projects", "fund_flows", "aftercare", "findings")
            ],
        ],
    ),
    (
        5,
        "bulletin register and the office's settings",
        [
            # Each dispatch/bulletin made, with the number it was given, so a re-made one keeps it. ``period``
            # is the report date of a weekly issue, the first day of the month of a monthly one.
            """CREATE TABLE bulletins (
                kind VARCHAR NOT NULL CHECK (kind IN ('week', 'month')), period DATE NOT NULL,
                year INTEGER NOT NULL, issue INTEGER NOT NULL, doc_number VARCHAR NOT NULL,
                report_date DATE NOT NULL, previous_date DATE, first_made_at TIMESTAMP NOT NULL,
                made_at TIMESTAMP NOT NULL, made_by VARCHAR,
                PRIMARY KEY (kind, period))""",
            # Settings an administrator changed from their defaults in ``analytics.settings`` (value: JSON).
            """CREATE TABLE office_settings (
                key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, updated_by VARCHAR)""",
        ],
    ),
    (
        6,
        "facility types: 幼儿园 is kindergarten, childcare is 托育 (托儿所)",
        [
            # ``childcare`` meant 托育/幼儿园 with a kindergarten's site; it now means 托育 alone. Rows whose
            # name says 托育 or 托儿 stay childcare, the others were kindergartens.
            *[
                f"""UPDATE {table} SET facility_type = 'kindergarten'
                    WHERE facility_type = 'childcare'
                      AND NOT (coalesce(name, '') LIKE '%托育%' OR coalesce(name, '') LIKE '%托儿%')"""
                for table in ("facilities", "undo_facilities")
            ],
        ],
    ),
    (
        7,
        "reporting units as data: counties and function zones (with unit codes of their own), reports keyed by unit",
        [
            # A reporting unit: a county (its national code) or a function zone (Z and two digits; a zone's
            # national code, where it has one, in national_code). Listed in the order of UNIT_CATEGORY_ORDER
            # (districts, county-level cities, counties, zones), then sort_order; active in the years
            # active_from..active_to (NULL: open).
            """CREATE TABLE units (
                unit_code VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL CHECK (kind IN ('county', 'zone')),
                category VARCHAR NOT NULL CHECK (category IN ('district', 'city', 'county', 'zone')),
                name VARCHAR NOT NULL UNIQUE, name_en VARCHAR, short_name VARCHAR, sort_order INTEGER NOT NULL,
                active_from INTEGER, active_to INTEGER, national_code VARCHAR, created_at TIMESTAMP,
                created_by VARCHAR)""",
            """INSERT INTO units (unit_code, kind, category, name, name_en, short_name, sort_order, national_code)
            VALUES
                ('370811', 'county', 'district', '任城区', 'Rencheng', '任城', 10, '370811'),
                ('370812', 'county', 'district', '兖州区', 'Yanzhou', '兖州', 20, '370812'),
                ('370881', 'county', 'city', '曲阜市', 'Qufu', '曲阜', 30, '370881'),
                ('370883', 'county', 'city', '邹城市', 'Zoucheng', '邹城', 40, '370883'),
                ('370826', 'county', 'county', '微山县', 'Weishan', '微山', 50, '370826'),
                ('370827', 'county', 'county', '鱼台县', 'Yutai', '鱼台', 60, '370827'),
                ('370828', 'county', 'county', '金乡县', 'Jinxiang', '金乡', 70, '370828'),
                ('370829', 'county', 'county', '嘉祥县', 'Jiaxiang', '嘉祥', 80, '370829'),
                ('370830', 'county', 'county', '汶上县', 'Wenshang', '汶上', 90, '370830'),
                ('370831', 'county', 'county', '泗水县', 'Sishui', '泗水', 100, '370831'),
                ('370832', 'county', 'county', '梁山县', 'Liangshan', '梁山', 110, '370832'),
                ('Z01', 'zone', 'zone', '济宁高新区', 'Jining Hi-tech Zone', '高新区', 120, '370871'),
                ('Z02', 'zone', 'zone', '太白湖新区', 'Taibai Lake New District', '太白湖', 130, NULL),
                ('Z03', 'zone', 'zone', '济宁经济技术开发区', 'Jining Economic Development Zone', '经开区', 140, NULL)""",
            # The zones' earlier codes (370871 for 济宁高新区; 370872 and 370873 were made up) -> unit codes.
            *[
                f"UPDATE {table} SET {column} = CASE {column} WHEN '370871' THEN 'Z01' WHEN '370872' THEN 'Z02' "
                f"WHEN '370873' THEN 'Z03' ELSE {column} END WHERE {column} IN ('370871', '370872', '370873')"
                for table, column in (
                    ("compounds", "zone_code"), ("undo_compounds", "zone_code"),
                    ("annual_targets", "unit_code"), ("undo_annual_targets", "unit_code"),
                    ("projects", "unit_code"), ("undo_projects", "unit_code"),
                    ("findings", "unit_code"), ("undo_findings", "unit_code"),
                    ("users", "county_code"),
                )
            ],
            # A weekly report row belongs to the unit that reported it: the compound's zone, else its county.
            *[
                stmt
                for table in ("progress_reports", "progress_reports_history", "undo_progress_reports")
                for stmt in (
                    f"ALTER TABLE {table} ADD COLUMN unit_code VARCHAR",
                    f"UPDATE {table} SET unit_code = coalesce("
                    f"(SELECT c.zone_code FROM compounds c WHERE c.id = {table}.compound_id), county_code)",
                )
            ],
        ],
    ),
    (
        8,
        "the presentation's slides, in an administrator's order",
        [
            # Empty: the default list (``settings.PRESENTATION_SLIDES``); otherwise the slides shown, in order.
            """CREATE TABLE presentation_slides (
                position INTEGER PRIMARY KEY, slide VARCHAR NOT NULL UNIQUE,
                updated_at TIMESTAMP NOT NULL, updated_by VARCHAR)""",
        ],
    ),
    (
        9,
        "the road network (centre-lines) and the barriers walks cannot cross",
        [
            # Road centre-lines: class 主干路 / 次干路 / 支路 / 步行道 / 其他; ``oneway`` concerns cars only
            # (walking ignores it); ``walkable`` false for expressways and railways (NULL counts as true).
            """CREATE TABLE roads (
                id VARCHAR PRIMARY KEY, county_code VARCHAR NOT NULL, road_class VARCHAR NOT NULL DEFAULT '其他',
                name VARCHAR, oneway BOOLEAN, walkable BOOLEAN, geom GEOMETRY NOT NULL)""",
            # Rivers, railways, expressways (lines or polygons): a walk crosses one only along a road.
            """CREATE TABLE barriers (
                id VARCHAR PRIMARY KEY, county_code VARCHAR NOT NULL, barrier_type VARCHAR NOT NULL,
                name VARCHAR, geom GEOMETRY NOT NULL)""",
            *[
                f"CREATE TABLE undo_{table} AS SELECT CAST(NULL AS BIGINT) AS import_id, * FROM {table} LIMIT 0"
                for table in ("roads", "barriers")
            ],
        ],
    ),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return the schema version stored in ``schema_version`` (0 for an empty database)."""
    exists = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
    if not exists:
        return 0
    return int(scalar(con, "SELECT max(version) FROM schema_version") or 0)


@functools.cache
def tables_at(version: int) -> frozenset[str]:
    """The tables a database of schema ``version`` holds (found by migrating an empty one that far)."""
    from analytics.store.connection import load_spatial

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": "false",
                                             "autoload_known_extensions": "false"})
    try:
        load_spatial(con)
        migrate(con, up_to=version)
        rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")
        return frozenset(name for (name,) in rows.fetchall())
    finally:
        con.close()


def migrate(con: duckdb.DuckDBPyConnection, *, up_to: int | None = None) -> int:
    """Apply every migration newer than the stored version, each in its own transaction; return the version.

    ``up_to`` stops after that version (default: all, up to ``LATEST_VERSION``).
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
    version = current_version(con)
    for number, description, statements in MIGRATIONS:
        if number <= version or (up_to is not None and number > up_to):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for sql in statements:
                con.execute(sql)
            con.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)", [number, description])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("schema migrated to version %d (%s)", number, description)
        version = number
    return version
