"""Typed, unit-suffixed defaults for the whole project (paths, CRSs, distances, domain enums).

Every value here is a default that pages may let the user change; values marked *soft* come from
secondary sources (see ``DOMAIN.md`` facts reproduced in ``data/README.md``) and must stay editable.

Paths
    ``ROOT_DIR`` the repository; ``DATA_DIR`` its ``data/`` folder; ``DB_PATH`` the DuckDB file
    (override with the ``JIUGAI_DB`` environment variable, e.g. for tests); ``COUNTIES_GEOJSON`` the
    bundled county boundaries.
Coordinate reference systems
    ``STORAGE_CRS`` = 4326 (WGS84 lon/lat, how geometries are stored); ``ANALYSIS_CRS`` = 4548
    (CGCS2000 3-degree Gauss-Krüger CM 117E, metres, every distance is measured in it).
Living circle (GB 50180-2018)
    ``WALK_5MIN_M`` = 300, ``WALK_10MIN_M`` = 500, ``WALK_15MIN_M`` = 1000.
Walking along streets
    ``WALK_SNAP_M`` = 1 m (points this close become one street node), ``WALK_MAX_LINK_M`` = 500 m (longest
    straight link from a place to a street), ``WALK_ISOCHRONE_BUFFER_M`` = 40 m (band drawn along reached
    streets), ``WALK_SEARCH_M`` = 3,000 m (how far the nearest facility is looked for on foot).
Facility types
    ``FACILITY_TYPES``: code → names, living-circle tier, service distance, minimum area and the source of
    each figure (GB 50180-2018 附录B; 完整居住社区建设标准（试行）); figures without a source are soft.
Uploads
    ``UPLOAD_MAX_MB`` = the Streamlit configuration's ``server.maxUploadSize`` (50 in this repository).
Accounts and sign-in
    ``SESSION_TTL_MIN`` = 480 (a session's lifetime), ``SESSION_IDLE_MIN`` = 60 (ended after this long
    without a page view), ``SIGN_IN_FREE_FAILURES`` = 2 wrong passwords without consequence, the third
    locks the username for ``SIGN_IN_LOCK_BASE_S`` = 30 s, doubling up to ``SIGN_IN_LOCK_MAX_S`` = 900 s;
    ``SIGN_IN_UNKNOWN_NAMES_MAX`` = 10,000 throttled names without an account kept (as digests),
    ``PASSWORD_MIN_LENGTH`` = 10, ``BCRYPT_ROUNDS`` = 12.
Logging
    ``LOG_LINE_MAX_CHARS`` = 2,000: longer log messages are cut (a message may quote user input).
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import TypedDict

ROOT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT_DIR / "data"
DB_PATH = Path(os.environ.get("JIUGAI_DB", DATA_DIR / "jiugai.duckdb"))
COUNTIES_GEOJSON = DATA_DIR / "jining_counties.geojson"
STATIC_DIR = ROOT_DIR / "static"

STORAGE_CRS = 4326
ANALYSIS_CRS = 4548
GAUSS_KRUGER_ZONE_CRS = 4527  # same projection with the zone prefix 39 on eastings

# Jining's extent with a margin, WGS84 degrees: (min lon, min lat, max lon, max lat).
JINING_BOUNDS_DEG = (115.8, 34.4, 117.7, 36.0)

# County-level units: national code (GB/T 2260) -> (Chinese name, English name, seat lon, seat lat).
COUNTIES: dict[str, tuple[str, str, float, float]] = {
    "370811": ("任城区", "Rencheng", 116.590, 35.415),
    "370812": ("兖州区", "Yanzhou", 116.824, 35.557),
    "370826": ("微山县", "Weishan", 117.123, 34.810),
    "370827": ("鱼台县", "Yutai", 116.645, 34.999),
    "370828": ("金乡县", "Jinxiang", 116.305, 35.070),
    "370829": ("嘉祥县", "Jiaxiang", 116.337, 35.398),
    "370830": ("汶上县", "Wenshang", 116.482, 35.722),
    "370831": ("泗水县", "Sishui", 117.268, 35.653),
    "370832": ("梁山县", "Liangshan", 116.084, 35.802),
    "370881": ("曲阜市", "Qufu", 116.986, 35.593),
    "370883": ("邹城市", "Zoucheng", 116.961, 35.406),
}
# Reporting units come in the city's usual order for its documents: districts (区), county-level cities
# (县级市), counties (县), then function zones (功能区). UNIT_CATEGORIES names each county's category;
# COUNTY_ORDER and UNIT_ORDER are the default order every list of units follows (the ``units`` table,
# seeded with it, holds the order in force and the units an administrator adds).
UNIT_CATEGORY_ORDER: tuple[str, ...] = ("district", "city", "county", "zone")
UNIT_CATEGORIES: dict[str, str] = {
    "370811": "district", "370812": "district", "370881": "city", "370883": "city", "370826": "county",
    "370827": "county", "370828": "county", "370829": "county", "370830": "county", "370831": "county",
    "370832": "county",
}
COUNTY_ORDER: tuple[str, ...] = tuple(sorted(COUNTIES, key=lambda c: UNIT_CATEGORY_ORDER.index(UNIT_CATEGORIES[c])))

# Function zones have no boundary of their own; bulletins rank them beside the counties. They have no
# national division code (only 济宁高新区 has one, 370871), so each has a unit code of its own, Z and two
# digits, which can never be mistaken for a national code: unit code -> (Chinese name, English name).
FUNCTION_ZONES: dict[str, tuple[str, str]] = {
    "Z01": ("济宁高新区", "Jining Hi-tech Zone"),
    "Z02": ("太白湖新区", "Taibai Lake New District"),
    "Z03": ("济宁经济技术开发区", "Jining Economic Development Zone"),
}
ZONE_NATIONAL_CODES: dict[str, str] = {"Z01": "370871"}
# Codes earlier data used for the zones (370872 and 370873 were made up) -> their unit codes.
LEGACY_ZONE_CODES: dict[str, str] = {"370871": "Z01", "370872": "Z02", "370873": "Z03"}
ZONE_CODE_PATTERN = r"^Z\d{2,3}$"
UNIT_ORDER: tuple[str, ...] = (*COUNTY_ORDER, *FUNCTION_ZONES)

# Old names and codes still found in source data -> current county code (merged in 2013).
LEGACY_COUNTY_NAMES: dict[str, str] = {"市中区": "370811", "兖州市": "370812", "370802": "370811", "370882": "370812"}

# Living-circle tiers (GB 50180-2018), walking distance in metres.
WALK_5MIN_M = 300
WALK_10MIN_M = 500
WALK_15MIN_M = 1000
LIVING_CIRCLE_TIERS_M: dict[str, int] = {"5min": WALK_5MIN_M, "10min": WALK_10MIN_M, "15min": WALK_15MIN_M}

# Distances the analyses accept and start from, metres.
MAX_DISTANCE_LIMIT_M = 3000  # largest distance a compound–parcel or compound–facility search accepts
CLUSTER_GAP_M = 150  # renewal clusters: neighbours when their boundaries are at most this far apart

# Walking along streets (analytics/network.py).
WALK_SNAP_M = 1.0  # road ends and vertices closer than this become one node (survey undershoots)
WALK_MAX_LINK_M = 500.0  # longest straight link from a compound, gate, facility or parcel to a street
WALK_ISOCHRONE_BUFFER_M = 40.0  # half-width of the band drawn along each street reached within a tier
WALK_SEARCH_M = 3000.0  # the nearest facility is looked for within this walk (≥ every service distance allowed)

# Facility types: code -> Chinese and English name, living-circle tier (the smallest circle GB 50180-2018
# lists it in), service distance (m: how far a compound may be from it to count as served), minimum area
# (m² of floor, or of site where said; soft) and the source of each figure. Distances the standard gives
# as a service radius are cited; where it gives none, the tier's walking distance is used (marked soft).
_GB50180 = "GB 50180-2018 城市居住区规划设计标准, 附录B 配套设施设置规定"
_COMPLETE = "完整居住社区建设标准（试行）(2020)"
class FacilityType(TypedDict):
    """A facility type: names, tier, the walking distance it serves (m), smallest area (m², soft), source."""

    zh: str
    en: str
    tier: str
    service_distance_m: int
    min_area_m2: int
    source: str


FACILITY_TYPES: dict[str, FacilityType] = {
    "elderly_care": {
        "zh": "养老服务设施", "en": "Elderly care", "tier": "5min", "service_distance_m": WALK_5MIN_M, "min_area_m2": 350,
        "source": f"{_GB50180}: 老年人日间照料中心 5-minute circle, radius ≤ 300 m; {_COMPLETE}: 老年服务站 ≥ 350 m²"},
    "kindergarten": {
        "zh": "幼儿园", "en": "Kindergarten", "tier": "5min", "service_distance_m": WALK_5MIN_M, "min_area_m2": 3500,
        "source": f"{_GB50180}: 幼儿园 5-minute circle, radius ≤ 300 m; site ≥ 3,500 m² (soft)"},
    "childcare": {
        "zh": "托育（托儿所）", "en": "Childcare (under 3)", "tier": "5min", "service_distance_m": WALK_5MIN_M,
        "min_area_m2": 200,
        "source": f"{_GB50180}: 托儿所 5-minute circle, radius ≤ 300 m; {_COMPLETE}: 托儿所 ≥ 200 m² (soft)"},
    "clinic": {
        "zh": "社区卫生服务站", "en": "Community clinic", "tier": "5min", "service_distance_m": WALK_5MIN_M,
        "min_area_m2": 120, "source": f"{_GB50180}: 社区卫生服务站 5-minute circle (300 m soft); {_COMPLETE}: ≥ 120 m²"},
    "service_station": {
        "zh": "社区综合服务站", "en": "Community service station", "tier": "5min", "service_distance_m": WALK_5MIN_M,
        "min_area_m2": 800, "source": f"{_GB50180}: 社区服务站 5-minute circle, radius ≤ 300 m; {_COMPLETE}: ≥ 800 m²"},
    "market": {
        "zh": "综合超市/菜市场", "en": "Market / supermarket", "tier": "10min", "service_distance_m": WALK_10MIN_M,
        "min_area_m2": 300,
        "source": f"{_GB50180}: 菜市场或生鲜超市 10-minute circle, radius ≤ 500 m; {_COMPLETE}: 综合超市 ≥ 300 m²"},
    "parking": {
        "zh": "停车场", "en": "Parking", "tier": "5min", "service_distance_m": WALK_5MIN_M, "min_area_m2": 500,
        "source": f"{_GB50180}: 机动车停车场（库） 5-minute circle; 300 m and 500 m² soft"},
    "sports": {
        "zh": "体育健身场地", "en": "Sports ground", "tier": "10min", "service_distance_m": WALK_10MIN_M,
        "min_area_m2": 150,
        "source": f"{_GB50180}: 中型多功能运动场地 10-minute circle; {_COMPLETE}: 公共活动场地 ≥ 150 m²; 500 m soft"},
    "ev_charging": {
        "zh": "充电设施", "en": "EV charging", "tier": "5min", "service_distance_m": WALK_5MIN_M, "min_area_m2": 100,
        "source": f"{_COMPLETE}: 停车及充电设施; 300 m and 100 m² soft"},
    "culture": {
        "zh": "文化活动站（室）", "en": "Culture / activity room", "tier": "5min", "service_distance_m": WALK_10MIN_M,
        "min_area_m2": 250,
        "source": f"{_GB50180}: 文化活动站 5-minute circle, radius ≤ 500 m, floor area 250–1,200 m² (soft)"},
    "meal": {
        "zh": "助餐点（社区食堂）", "en": "Meal assistance point", "tier": "5min", "service_distance_m": WALK_5MIN_M,
        "min_area_m2": 100,
        "source": f"{_GB50180}: 社区食堂 5-minute circle, no radius given: 300 m soft; 100 m² soft"},
    "housekeeping": {
        "zh": "家政服务网点", "en": "Housekeeping service", "tier": "10min", "service_distance_m": WALK_10MIN_M,
        "min_area_m2": 50,
        "source": f"{_COMPLETE}: 家政服务网点 among the 便民商业网点, no radius: 500 m and 50 m² soft"},
    "convenience": {
        "zh": "便利店", "en": "Convenience store", "tier": "5min", "service_distance_m": WALK_5MIN_M, "min_area_m2": 50,
        "source": f"{_GB50180}: 社区商业网点 5-minute circle; {_COMPLETE}: 便利店; 300 m and 50 m² soft"},
    "toilet": {
        "zh": "公共厕所", "en": "Public toilet", "tier": "5min", "service_distance_m": WALK_10MIN_M, "min_area_m2": 30,
        "source": f"{_GB50180}: 公共厕所 5-minute circle, floor area 30–80 m²; 500 m soft"},
    "parcel_lockers": {
        "zh": "快递驿站/智能快件箱", "en": "Parcel lockers / express point", "tier": "5min",
        "service_distance_m": WALK_5MIN_M, "min_area_m2": 10,
        "source": f"{_COMPLETE}: 邮件和快件寄递服务设施 in every community; 300 m and 10 m² soft"},
}

STATUSES: tuple[str, ...] = ("未开工", "已立项", "已开工", "已完工")
TIERS: tuple[str, ...] = ("基础类", "完善类", "提升类")
TIER_ITEMS: dict[str, tuple[str, ...]] = {
    "基础类": ("拆违拆临", "安防", "环卫", "消防", "道路", "照明", "绿化", "水电气暖", "光纤", "建筑物修缮", "管线规整"),
    "完善类": ("社区和物业用房", "建筑节能改造", "加装电梯", "停车场", "文化设施", "体育健身", "充电设施", "无障碍设施"),
    "提升类": ("社区养老", "托幼", "医疗", "家政", "商业设施", "智慧社区"),
}
PARCEL_TYPES: tuple[str, ...] = ("闲置用地", "低效用地", "空置房屋", "零星地块")
OWNERSHIP_TYPES: tuple[str, ...] = ("国有", "集体", "企业", "机关事业单位")

# Funding sources: code -> (Chinese, English).
FUNDING_SOURCES: dict[str, tuple[str, str]] = {
    "central_subsidy": ("中央补助资金", "Central subsidy"),
    "central_budget": ("中央预算内投资", "Central budget investment"),
    "provincial": ("省级资金", "Provincial funds"),
    "local_fiscal": ("市县财政资金", "City/county fiscal funds"),
    "special_bonds": ("专项债券", "Special-purpose bonds"),
    "residents": ("居民出资", "Residents"),
    "utilities": ("专营单位", "Utility companies"),
    "owner_units": ("原产权单位", "Original owner units"),
    "social_capital": ("社会资本", "Social capital"),
}
FUNDING_TOLERANCE = 0.01  # parts must sum to the total within ±1 %

# The programme (2020 implementation plan).
PLAN_2020 = {"compounds": 68, "households": 26_000, "floor_area_m2": 2_280_000}
PLAN_TOTAL_2025_FLOOR_AREA_M2 = 16_900_000
ELIGIBLE_BUILT_ON_OR_BEFORE = date(2005, 12, 31)
FIRST_TIER_BUILT_ON_OR_BEFORE = date(2000, 12, 31)

# Plan builder (analytics/planning.py), all soft. A compound joins next year's list only when at least
# PLAN_MIN_WILLINGNESS of its households agree; an area renewed as one unit (成片) is assumed to cost
# PLAN_BUNDLE_SAVING_PCT less, and one whose idle land can hold a facility its members lack gains
# PLAN_FACILITY_BONUS_PCT on its value; each county with candidates gets at least PLAN_FAIR_SHARE of its
# proportional share of the budget (its share of the candidates' cost); the solver stops after
# PLAN_TIME_LIMIT_S. Works start and finish on PLAN_START_MMDD / PLAN_COMPLETION_MMDD of the plan year.
PLAN_MIN_WILLINGNESS = 2 / 3
PLAN_BUNDLE_SAVING_PCT = 5.0
PLAN_FACILITY_BONUS_PCT = 10.0
PLAN_FAIR_SHARE = 0.5
PLAN_TIME_LIMIT_S = 30.0
PLAN_START_MMDD = (4, 1)
PLAN_COMPLETION_MMDD = (12, 31)

# The programme through today: annual targets, projects, money flows, after-care, supervision findings.
CITY_UNIT_CODE = "370800"  # annual_targets row holding the whole city's task
# The city's as-of date (analytics.progress.city_as_of) is the latest report date at least this share of
# the counties has reached: 1 = every county, so one county reporting ahead never moves the city's view.
CITY_AS_OF_SHARE = 1.0
GOAL_YEARS: tuple[int, int] = (2020, 2025)  # the end-2025 goal (PLAN_TOTAL_2025_FLOOR_AREA_M2) counts these plan years
TARGET_MISMATCH_TOLERANCE = 0.01  # a target differing from the compound list by more than ±1 % is flagged
DELIVERY_MODELS: tuple[str, ...] = ("单独实施", "打包", "成片捆绑", "工程总承包")
# Money flow stages after the plan (计划 is the ``funding`` table): code -> (Chinese, English).
FLOW_STAGES: dict[str, tuple[str, str]] = {
    "allocated": ("下达", "Allocated"), "received": ("到位", "Received"), "paid": ("支付", "Paid"),
}
FLOW_TOLERANCE = 0.01  # paid ≤ received ≤ allocated ≤ planned, each within ±1 % of the next
MGMT_MODES: tuple[str, ...] = ("专业物业", "社区托管", "业主自治", "无")
FINDING_CATEGORIES: tuple[str, ...] = ("立项", "开工", "竣工", "改造内容", "资金支付", "长效管理", "质量安全", "其他")
FINDING_STATUSES: tuple[str, ...] = ("交办", "整改中", "已销号")
FINDING_CLOSED = "已销号"

# The weekly dispatch and monthly bulletin (周调度、月通报, analytics/services/bulletin). Defaults of the office's
# settings; an administrator changes them on the admin page (stored in ``office_settings``, these stay the
# defaults). BULLETIN_DOC_PREFIX heads the 文号 line: 济旧改指办〔2020〕17号. BULLETIN_SERIES_START gives, per
# year, the report date (a Friday) of the year's first weekly issue and the month of its first monthly issue
# (第1期); a year not listed starts both series at its first stored report. BULLETIN_DISTRIBUTION is the
# block at the end of the document (报/送/发 and their recipients).
BULLETIN_DOC_PREFIX = "济旧改指办"
BULLETIN_SERIES_START: dict[int, tuple[date, int]] = {}
BULLETIN_DISTRIBUTION: tuple[tuple[str, str], ...] = (
    ("报", "市委、市政府有关领导同志，市老旧小区改造工作指挥部领导同志。"),
    ("送", "市委督查室，市政府督查室。"),
    ("发", "各县（市、区）人民政府，济宁高新区、太白湖新区、济宁经济技术开发区、曲阜文化建设示范区管委会"
           "（推进办公室），市老旧小区改造工作指挥部各成员单位。"),
)
# 督导评价 (the plan: praise the fast, criticise the slow): the top BULLETIN_PRAISE_TOP_N units by the
# ranking indicator are praised; the bottom BULLETIN_CRITICISE_BOTTOM_N, and every unit at least
# BULLETIN_CRITICISE_BELOW_AVERAGE_PP percentage points below the city's rate (None: not used), are criticised.
# A unit tied with the best is never criticised, one tied with the worst never praised.
BULLETIN_PRAISE_TOP_N = 3
BULLETIN_CRITICISE_BOTTOM_N = 3
BULLETIN_CRITICISE_BELOW_AVERAGE_PP: float | None = None
# A unit whose annual task has fewer compounds than this is marked in the ranking (a rate from two
# compounds is read for what it is).
BULLETIN_SMALL_UNIT_COMPOUNDS = 3
# The ranking as one table of counties and function zones (as the city prints it) or two.
BULLETIN_RANKING_TABLES = "one"
# 存在问题: a unit whose payment rate (paid ÷ planned funds) is this many percentage points or more below its
# investment completion rate is named as paying slowly.
BULLETIN_PAYMENT_GAP_PP = 20.0
# Compounds listed in the document's behind-schedule table; the rest are counted in a note.
BULLETIN_MAX_BEHIND_ROWS = 50
# Cases of money out of order (paid above received …) named one by one in 三、资金支付; the rest are counted.
BULLETIN_MAX_ORDER_ITEMS = 20

# 汇报模式 (presentation): the slides a meeting is shown by default, in order; an administrator may choose
# others and another order (table ``presentation_slides``). Auto-advance choices in seconds.
PRESENTATION_SLIDES: tuple[str, ...] = ("overview", "ranking", "behind", "funding", "land", "programme")
PRESENTATION_ADVANCE_S: tuple[int, ...] = (15, 30, 60, 120)

# Sanity bounds (soft).
COST_FLAG_YUAN_PER_M2 = 1000
HOUSEHOLD_AREA_BOUNDS_M2 = (30.0, 200.0)
UNIT_COST_YUAN_PER_M2 = {"基础类": 260.0, "完善类": 340.0, "提升类": 430.0}

# Elevators (soft): cost per unit 万元 and Shandong subsidies per unit by storeys.
ELEVATOR_COST_WAN = 45.0
ELEVATOR_SUBSIDY_WAN_BY_FLOORS = {4: 16.0, 5: 18.0, 6: 20.0}
ELEVATOR_SHARE_PRESETS: dict[str, dict[int, float]] = {
    # share of the residents' part paid by each floor's households (per floor, all households on it)
    "hangzhou": {1: 0.0, 2: 0.0, 3: 0.08, 4: 0.20, 5: 0.31, 6: 0.41},
    "shanghai": {1: 0.0, 2: 0.06, 3: 0.12, 4: 0.20, 5: 0.28, 6: 0.36},
}
ELEVATOR_COEFFICIENTS = {1: 0.0, 2: 0.0, 3: 0.7, 4: 0.8, 5: 0.9, 6: 1.0, 7: 1.1, 8: 1.2, 9: 1.3}

# Demo data.
DEMO_SEED = 2020
# The demo's today: its latest weekly report is the last Friday on or before this day, so the current plan
# year (DEMO_YEAR) is mid-flight. The demo programme runs from DEMO_FIRST_YEAR to DEMO_YEAR, with
# DEMO_CANDIDATES compounds in the candidate pool (储备库, no plan year).
DEMO_TODAY = date(2026, 11, 27)
DEMO_YEAR = DEMO_TODAY.year
DEMO_FIRST_YEAR = 2020
DEMO_CANDIDATES = 340
DEMO_SOURCE_LABEL = "演示数据"

# Uploads: the limit the upload widget enforces, read from the Streamlit configuration beside the program
# (``.streamlit/config.toml``, ``[server] maxUploadSize``; on the server the installer puts
# ``deploy/streamlit-server.toml`` there), so the code checks the same size the browser refuses.
STREAMLIT_CONFIG = ROOT_DIR / ".streamlit" / "config.toml"


def _upload_limit_mb(config: Path) -> int:
    """``server.maxUploadSize`` in ``config`` (MB); Streamlit's own default, 200, when the file or key is absent."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 200
    return int(data.get("server", {}).get("maxUploadSize", 200))


UPLOAD_MAX_MB = _upload_limit_mb(STREAMLIT_CONFIG)

# Accounts and sign-in (analytics/services/auth.py). Sessions end SESSION_TTL_MIN after sign-in, or after
# SESSION_IDLE_MIN without a page view. After SIGN_IN_FREE_FAILURES wrong passwords for one username,
# each further failure locks it for SIGN_IN_LOCK_BASE_S * 2**(extra failures - 1) s, at most SIGN_IN_LOCK_MAX_S:
# with 2, the third wrong password in a row starts a 30 s lock, so at most three passwords are tried
# before one. Names without an account are throttled the same way but kept only as digests, at most
# SIGN_IN_UNKNOWN_NAMES_MAX of them (the oldest dropped first).
SESSION_TTL_MIN = 480
SESSION_IDLE_MIN = 60
SIGN_IN_FREE_FAILURES = 2
SIGN_IN_LOCK_BASE_S = 30
SIGN_IN_LOCK_MAX_S = 900
SIGN_IN_UNKNOWN_NAMES_MAX = 10_000
LOG_LINE_MAX_CHARS = 2_000
PASSWORD_MIN_LENGTH = 10
BCRYPT_ROUNDS = 12

# Imports (analytics/importing/importer.py). Zip archives are checked before anything is extracted; XLSX files
# (zip inside) get the same checks. Rows and columns are limited while a file is read, and a zip may
# expand to at most ZIP_MAX_TOTAL_MB in total (twice the upload limit: a bigger archive is refused before
# anything is extracted). Rows × columns of the table read is limited too (IMPORT_MAX_CELLS, e.g.
# 200,000 rows of 50 columns): the row and column limits alone would let a few MB of sheet XML or a
# CSV of commas become 100 million cells. An XLSX file's shared-string table holds at most
# XLSX_MAX_SHARED_STRINGS texts (about 150 bytes of memory each once read; a full 200,000-row table
# with five distinct texts a row fits), and all other parts but the sheets (styles, workbook,
# relationships, pictures) expand to at most XLSX_MAX_OTHER_PARTS_MB together (Excel's limit of 64,000
# cell formats fits; openpyxl turns each MB of such XML into ~25 MB of objects). UNDO_DEPTH imports can
# be undone, newest first.
IMPORT_MAX_ROWS = 200_000
IMPORT_MAX_COLUMNS = 500
IMPORT_MAX_CELLS = 10_000_000
XLSX_MAX_SHARED_STRINGS = 1_000_000
XLSX_MAX_OTHER_PARTS_MB = 5
ZIP_MAX_MEMBERS = 200
ZIP_MAX_TOTAL_MB = 2 * UPLOAD_MAX_MB
ZIP_MAX_RATIO = 200  # uncompressed ÷ compressed size of any member larger than ZIP_RATIO_MIN_MB
ZIP_RATIO_MIN_MB = 1
UNDO_DEPTH = 10
