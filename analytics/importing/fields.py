"""Target fields of each importable table and the Chinese/English column names that map to them.

``propose_mapping(columns, kind)`` maps source columns to target fields by their normalised names (case,
width, spaces, punctuation and bracketed units ignored: ``"建筑面积（㎡）"`` matches ``建筑面积``), exact
matches first, then a source name that starts with a synonym. ``unit_factor`` reads the unit in brackets
(``"建筑面积(万㎡)"`` → ×10,000; ``"计划投资(元)"`` → ÷10,000) so values are stored in m² and 万元.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from analytics import settings
from analytics.errors import ImportRejected

Kind = Literal["compounds", "parcels", "facilities"]
KINDS: tuple[str, ...] = ("compounds", "parcels", "facilities")
FieldType = Literal["str", "int", "float", "date", "bool", "enum", "county", "zone", "coord", "wkt"]


@dataclass(frozen=True)
class Field:
    """One target field: its type, whether required, the names it is recognised by, and hard bounds.

    ``low``/``high`` are hard bounds (a value outside is an error); soft sanity bounds are checked in
    ``analytics.importing.validate`` and only warn. ``unit`` is ``"m2"``, ``"wan"`` or ``"pct"`` for fields
    whose header may carry a different unit.
    """

    name: str
    type: FieldType
    synonyms: tuple[str, ...] = ()
    required: bool = False
    low: float | None = None
    high: float | None = None
    unit: str | None = None


_ID = ("编号", "代码", "编码", "id", "code", "序号")
_COUNTY = ("所属县区", "县区", "县市区", "区县", "县市", "所在县区", "行政区", "所属区县", "县区名称", "行政区划",
           "行政区划代码", "县区代码", "county", "countycode", "county_code", "district", "xzq", "xzqdm")
_NAME = ("名称", "name")

COORD_FIELDS: tuple[Field, ...] = (
    Field("x", "coord", ("经度", "lon", "lng", "long", "longitude", "x", "x坐标", "横坐标", "东坐标", "easting",
                         "东向坐标", "坐标x", "zbx", "pointx", "中心点经度", "centerx")),
    Field("y", "coord", ("纬度", "lat", "latitude", "y", "y坐标", "纵坐标", "北坐标", "northing", "北向坐标",
                         "坐标y", "zby", "pointy", "中心点纬度", "centery")),
    Field("wkt", "wkt", ("wkt", "geometry", "geom", "几何", "shape", "空间信息", "图形")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "compounds": (
        Field("id", "str", ("小区编号", "小区代码", "小区编码", "项目编号", "项目代码", "compoundid", "compound_id") + _ID),
        Field("name", "str", ("小区名称", "小区名", "小区", "项目名称", "compoundname", "xqmc") + _NAME, required=True),
        Field("county_code", "county", _COUNTY),
        Field("zone_code", "zone", ("功能区", "所属功能区", "园区", "zone", "zonecode", "zone_code")),
        Field("street", "str", ("街道", "所属街道", "街道办事处", "街道办", "乡镇街道", "镇街", "street")),
        Field("community", "str", ("社区", "所属社区", "居委会", "社区居委会", "community")),
        Field("built_year", "int", ("建成年代", "建成年份", "建成时间", "建设年代", "建成年", "竣工年份", "建造年代",
                                    "builtyear", "built_year", "yearbuilt", "year"), required=True,
              low=1900, high=2030),
        Field("n_buildings", "int", ("楼栋数", "栋数", "楼栋数量", "幢数", "楼数", "楼栋", "nbuildings", "n_buildings",
                                     "buildings"), low=1, high=2000),
        Field("households", "int", ("户数", "总户数", "居民户数", "住户数", "涉及户数", "改造户数", "households", "hh"),
              required=True, low=1, high=100_000),
        Field("floor_area_m2", "float", ("建筑面积", "总建筑面积", "改造面积", "改造建筑面积", "面积", "floorarea",
                                         "floor_area_m2", "floor_area", "area"), required=True, low=1,
              high=50_000_000, unit="m2"),
        Field("max_floors", "int", ("最高层数", "层数", "楼层数", "最高楼层", "maxfloors", "max_floors", "floors"),
              low=1, high=100),
        Field("has_elevator", "bool", ("有无电梯", "是否有电梯", "是否已有电梯", "电梯", "haselevator", "has_elevator")),
        Field("plan_year", "int", ("计划年度", "改造年度", "年度", "实施年度", "计划年份", "改造年份", "批次",
                                   "planyear", "plan_year"), low=2000, high=2050),
        Field("tier", "enum", ("改造类别", "改造类型", "改造标准", "类别", "改造内容类别", "tier")),
        Field("items", "str", ("改造内容", "改造项目", "主要改造内容", "items")),
        Field("status", "enum", ("状态", "进展", "改造状态", "项目状态", "进度", "实施状态", "status")),
        Field("approved_date", "date", ("立项日期", "立项时间", "approveddate", "approved_date")),
        Field("start_date", "date", ("开工日期", "开工时间", "实际开工日期", "startdate", "start_date")),
        Field("completion_date", "date", ("完工日期", "竣工日期", "完工时间", "竣工时间", "实际完工日期",
                                          "completiondate", "completion_date")),
        Field("planned_start_date", "date", ("计划开工日期", "计划开工时间", "plannedstartdate", "planned_start_date")),
        Field("planned_completion_date", "date", ("计划完工日期", "计划竣工日期", "计划完工时间",
                                                  "plannedcompletiondate", "planned_completion_date")),
        Field("invest_planned_wan", "float", ("计划投资", "总投资", "计划总投资", "投资估算", "概算投资", "估算投资",
                                              "项目总投资", "investplannedwan", "invest_planned_wan",
                                              "plannedinvestment"), low=0, high=10_000_000, unit="wan"),
        Field("invest_done_wan", "float", ("完成投资", "累计完成投资", "已完成投资", "完成投资额", "investdonewan",
                                           "invest_done_wan"), low=0, high=10_000_000, unit="wan"),
        Field("willingness_pct", "float", ("改造意愿", "居民意愿", "同意率", "意愿比例", "居民同意率", "意愿",
                                           "willingness", "willingness_pct"), low=0, high=100, unit="pct"),
        Field("contributing_pct", "float", ("出资比例", "居民出资比例", "出资户比例", "出资户数比例", "contributing",
                                            "contributing_pct"), low=0, high=100, unit="pct"),
        Field("procedures_complete", "bool", ("手续完备", "手续齐全", "前期手续", "手续是否完备", "procedurescomplete",
                                              "procedures_complete")),
        Field("property_mgmt", "bool", ("物业管理", "长效管理", "有无物业", "是否有物业", "propertymgmt",
                                        "property_mgmt")),
        Field("demolition_planned", "bool", ("拟征收", "纳入征收", "征收拆迁", "拆迁", "是否拆迁", "列入征收",
                                             "demolitionplanned", "demolition_planned")),
    ),
    "parcels": (
        Field("id", "str", ("地块编号", "宗地编号", "宗地号", "地块代码", "地块编码", "parcelid", "parcel_id") + _ID),
        Field("county_code", "county", _COUNTY),
        Field("parcel_type", "enum", ("地块类型", "资源类型", "存量资源类型", "类型", "类别", "parceltype", "parcel_type",
                                      "type"), required=True),
        Field("area_m2", "float", ("地块面积", "用地面积", "宗地面积", "占地面积", "面积", "area_m2", "area"),
              low=1, high=10_000_000, unit="m2"),
        Field("ownership", "enum", ("权属", "产权", "所有权", "权属性质", "土地权属", "产权性质", "ownership")),
        Field("land_use", "enum", ("现状用途", "用地性质", "土地用途", "现状", "用途", "landuse", "land_use")),
        Field("note", "str", ("备注", "说明", "描述", "note", "remark", "remarks")),
    ),
    "facilities": (
        Field("id", "str", ("设施编号", "设施代码", "facilityid", "facility_id") + _ID),
        Field("county_code", "county", _COUNTY),
        Field("facility_type", "enum", ("设施类型", "设施类别", "类型", "类别", "facilitytype", "facility_type", "type"),
              required=True),
        Field("name", "str", ("设施名称",) + _NAME),
        Field("floor_area_m2", "float", ("建筑面积", "面积", "floorarea", "floor_area_m2", "area"), low=0,
              high=1_000_000, unit="m2"),
    ),
}

_STATUS_WORDS = {
    "未开工": ("未开工", "未启动", "not started", "notstarted", "planned", "计划"),
    "已立项": ("已立项", "立项", "approved"),
    "已开工": ("已开工", "开工", "在建", "施工中", "under way", "underway", "started", "in progress"),
    "已完工": ("已完工", "完工", "竣工", "已竣工", "completed", "complete", "done", "finished"),
}
_TIER_WORDS = {
    "基础类": ("基础类", "基础", "basic"),
    "完善类": ("完善类", "完善", "complete"),
    "提升类": ("提升类", "提升", "upgrade"),
}
_PARCEL_WORDS = {
    "闲置用地": ("闲置用地", "闲置土地", "闲置地", "空地", "idle", "idle land"),
    "低效用地": ("低效用地", "低效土地", "低效", "low efficiency", "low-efficiency", "inefficient"),
    "空置房屋": ("空置房屋", "空置楼宇", "闲置房屋", "空置用房", "闲置用房", "空置", "vacant building", "vacant"),
    "零星地块": ("零星地块", "零星用地", "边角地", "零星", "scattered", "scattered plot"),
}
_OWNERSHIP_WORDS = {
    "国有": ("国有", "国有土地", "国有建设用地", "state", "state-owned"),
    "集体": ("集体", "集体土地", "collective"),
    "企业": ("企业", "企业自有", "enterprise", "company"),
    "机关事业单位": ("机关事业单位", "机关", "事业单位", "行政事业单位", "public institution", "government"),
}
_LAND_USE_WORDS = {
    "工业": ("工业", "工业用地", "industrial"),
    "仓储": ("仓储", "仓储用地", "warehouse", "storage"),
    "商业": ("商业", "商服", "商业用地", "commercial"),
    "住宅": ("住宅", "居住", "住宅用地", "residential"),
    "公共管理": ("公共管理", "公共管理与公共服务", "公服", "public"),
    "其他": ("其他", "其它", "other"),
}
_FACILITY_WORDS = {
    "elderly_care": ("养老院", "日间照料中心", "日间照料", "老年服务站", "养老服务中心", "社区养老", "敬老院", "养老"),
    "kindergarten": ("幼儿园", "幼稚园", "幼教"),
    "childcare": ("托育", "托儿所", "托育机构", "托育中心", "托育园"),
    "clinic": ("卫生服务站", "卫生室", "社区卫生服务中心", "诊所", "卫生院", "医疗"),
    "service_station": ("社区服务中心", "党群服务中心", "便民服务中心", "社区服务站"),
    "market": ("菜市场", "超市", "综合超市", "农贸市场", "市场"),
    "parking": ("停车场", "停车位", "停车楼"),
    "sports": ("体育", "健身", "健身场地", "运动场", "体育场地", "全民健身"),
    "ev_charging": ("充电桩", "充电站", "充电设施", "电动车充电"),
    "culture": ("文化活动站", "文化活动室", "文化活动中心", "文化室", "活动室", "综合文化站", "文化站"),
    "meal": ("助餐点", "老年助餐点", "助餐", "社区食堂", "长者食堂", "老年食堂", "幸福食堂"),
    "housekeeping": ("家政", "家政服务", "家政服务站", "家政服务网点"),
    "convenience": ("便利店", "便民店", "便民超市"),
    "toilet": ("公厕", "公共厕所", "厕所", "卫生间"),
    "parcel_lockers": ("快递柜", "智能快件箱", "智能快递柜", "快递驿站", "菜鸟驿站", "快递点", "快递服务站", "丰巢"),
}


def _choices(words: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    out = {}
    for canonical, names in words.items():
        for name in (canonical, *names):
            out[normalise(name)] = canonical
    return out


def normalise(text: object) -> str:
    """A header or value reduced for matching: NFKC, lower case, no spaces, punctuation or bracketed units."""
    value = unicodedata.normalize("NFKC", str(text)).lower().split("\n")[0]
    value = re.sub(r"[(\[【（{].*?[)\]】）}]", "", value)
    return re.sub(r"[\s_\-./:：*#、,，'\"]+", "", value)


def enum_choices(kind: str, field_name: str) -> dict[str, str]:
    """Accepted (normalised) values of an enumerated field -> the stored value."""
    if field_name == "status":
        return _choices(_STATUS_WORDS)
    if field_name == "tier":
        return _choices(_TIER_WORDS)
    if field_name == "parcel_type":
        return _choices(_PARCEL_WORDS)
    if field_name == "ownership":
        return _choices(_OWNERSHIP_WORDS)
    if field_name == "land_use":
        return _choices(_LAND_USE_WORDS)
    if field_name == "facility_type":
        words = {code: (str(spec["zh"]), str(spec["en"]), *_FACILITY_WORDS.get(code, ()))
                 for code, spec in settings.FACILITY_TYPES.items()}
        return _choices(words)
    raise KeyError(f"{kind}.{field_name}")


def county_choices() -> dict[str, tuple[str, bool]]:
    """Accepted county values (code, full and short name, English, legacy) -> (code, is_legacy)."""
    out: dict[str, tuple[str, bool]] = {}
    for code, (zh, en, *_) in settings.COUNTIES.items():
        short = zh[:-1] if len(zh) > 2 else zh
        for name in (code, zh, short, en, f"{en} district", f"{en} county", f"{en} city", f"济宁市{zh}"):
            out[normalise(name)] = (code, False)
    for name, code in settings.LEGACY_COUNTY_NAMES.items():
        out[normalise(name)] = (code, True)
        if not name.isdigit():
            out[normalise(f"济宁市{name}")] = (code, True)
    return out


def zone_choices(zones: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Accepted function-zone values -> unit code (Z01 …).

    ``zones`` is ``analytics.units.zones(con)`` (unit code -> names, short name, national code), so a zone
    an administrator added is recognised; without it the default zones of ``settings``. The codes earlier
    data used (``settings.LEGACY_ZONE_CODES``: 370871 济宁高新区's national code, 370872, 370873) are
    accepted too.
    """
    out: dict[str, str] = {}
    shorts = {"Z01": ("高新区", "济宁高新技术产业开发区"), "Z02": ("太白湖", "太白湖区"),
              "Z03": ("经开区", "济宁经开区", "经济技术开发区")}
    known = zones if zones is not None else {code: names for code, names in settings.FUNCTION_ZONES.items()}
    for code, names in known.items():
        for name in (code, *names, *shorts.get(code, ())):
            out[normalise(name)] = code
    for old, code in settings.LEGACY_ZONE_CODES.items():
        if code in known:
            out.setdefault(normalise(old), code)
    return out


def fields_for(kind: str, *, tabular: bool) -> tuple[Field, ...]:
    """Target fields of ``kind``; CSV/XLSX sources also map the coordinate (x, y) or WKT columns."""
    if kind not in FIELDS:
        raise ImportRejected(f"`kind` was {kind!r} but must be one of {KINDS!r}.", kind="mapping")
    return FIELDS[kind] + (COORD_FIELDS if tabular else ())


def propose_mapping(columns: list[str], kind: str, *, tabular: bool) -> dict[str, str | None]:
    """Target field -> source column for ``columns`` (``None`` where nothing matched); each column used once."""
    return match_columns(columns, fields_for(kind, tabular=tabular))


def match_columns(columns: list[str], fields: tuple[Field, ...]) -> dict[str, str | None]:
    """Field name -> the column whose name matches one of the field's synonyms.

    A column matches when its normalised name equals a synonym; else, for Chinese names, when it starts with
    one; else when it is the start of one (shapefile field names are cut to 10 bytes: "建筑面" for 建筑面积).
    """
    keys = {col: normalise(col) for col in columns}
    mapping: dict[str, str | None] = {f.name: None for f in fields}
    used: set[str] = set()
    def matches(key: str, target: str, how: str) -> bool:
        if how == "exact":
            return key == target
        if target.isascii():
            return False
        if how == "prefix":  # "户数合计" for 户数
            return len(target) >= 2 and key.startswith(target)
        return len(key) >= 3 and not key.isascii() and target.startswith(key)  # "建筑面" cut from 建筑面积

    for how in ("exact", "prefix", "cut"):
        for f in fields:
            if mapping[f.name] is not None:
                continue
            for synonym in (*f.synonyms, f.name):
                target = normalise(synonym)
                hit = next((c for c in columns if c not in used and matches(keys[c], target, how)), None)
                if hit is not None:
                    mapping[f.name] = hit
                    used.add(hit)
                    break
    return mapping


def check_mapping(mapping: dict[str, str | None], columns: list[str], kind: str, *, tabular: bool) -> None:
    """Refuse a mapping naming unknown fields or columns, or using one column twice."""
    names = {f.name for f in fields_for(kind, tabular=tabular)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ImportRejected(f"`mapping` names unknown fields {unknown!r}; known are {sorted(names)!r}.", kind="mapping")
    chosen = [c for c in mapping.values() if c is not None]
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise ImportRejected(f"`mapping` names columns {missing!r} that the file does not have.", kind="mapping")
    twice = sorted({c for c in chosen if chosen.count(c) > 1})
    if twice:
        raise ImportRejected(f"`mapping` uses the column(s) {twice!r} for more than one field.", kind="mapping")


def unit_factor(header: str | None, field: Field) -> float:
    """Multiplier from the unit written in ``header`` to the stored unit of ``field`` (m², 万元, %)."""
    if header is None or field.unit is None:
        return 1.0
    text = unicodedata.normalize("NFKC", str(header)).lower().replace(" ", "")
    if field.unit == "m2" and re.search(r"万(平方米|m2|m²|㎡|平米)", text):
        return 10_000.0
    if field.unit == "m2" and re.search(r"(公顷|ha\b|hm2)", text):
        return 10_000.0
    if field.unit == "wan":
        if "亿元" in text:
            return 10_000.0
        if re.search(r"[(（]元[)）]|\(yuan\)", text):
            return 1e-4
    return 1.0


def find_header_row(grid: pd.DataFrame, kind: str) -> int:
    """Index of the header row among the first 15 rows: the one whose cells match the most field names."""
    return find_header(grid, fields_for(kind, tabular=True))


def find_header(grid: pd.DataFrame, fields: tuple[Field, ...]) -> int:
    """Index of the row among the first 15 whose cells match the most names of ``fields`` (0 if none)."""
    targets = {normalise(s) for f in fields for s in (f.name, *f.synonyms)}
    best, best_hits = 0, 0
    for i in range(min(15, len(grid))):
        hits = sum(1 for value in grid.iloc[i] if value is not None and normalise(value) in targets)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def header_columns(values: list[object]) -> list[str]:
    """Unique column names from a header row (blanks become ``column_N``, repeats get a suffix)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        name = str(value).strip() if value is not None and str(value).strip() else f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names
