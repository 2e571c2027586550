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

Kind = Literal["compounds", "parcels", "facilities", "roads", "barriers", "annual_targets", "projects", "fund_flows",
               "aftercare", "findings"]
SPATIAL_KINDS: tuple[str, ...] = ("compounds", "parcels", "facilities", "roads", "barriers")
# The programme's tables: plain tables (CSV/XLSX) without geometry, read by ``analytics.importing.records``.
TABLE_KINDS: tuple[str, ...] = ("annual_targets", "projects", "fund_flows", "aftercare", "findings")
KINDS: tuple[str, ...] = SPATIAL_KINDS + TABLE_KINDS
# The columns that identify a row: a file may not hold a key twice, and appending refuses stored keys.
KEYS: dict[str, tuple[str, ...]] = {
    "compounds": ("id",), "parcels": ("id",), "facilities": ("id",), "roads": ("id",), "barriers": ("id",),
    "annual_targets": ("year", "unit_code"), "projects": ("id",), "fund_flows": ("id",), "aftercare": ("compound_id",),
    "findings": ("id",),
}
FieldType = Literal["str", "int", "float", "date", "bool", "enum", "county", "zone", "coord", "wkt", "unit", "ids"]


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
_UNIT = ("县区", "县市区", "所属县区", "区县", "县区名称", "县区代码", "责任单位", "填报单位", "单位", "单位代码", "行政区",
         "unit", "unitcode", "unit_code", "county", "countycode", "county_code")
_COMPOUND_ID = ("小区编号", "小区代码", "小区编码", "compoundid", "compound_id")
_PROJECT_ID = ("项目编号", "项目代码", "项目编码", "所属项目", "所属项目编号", "projectid", "project_id")
_NOTE = ("备注", "说明", "note", "remark", "remarks")

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
        Field("project_id", "str", ("所属项目", "所属项目编号", "项目id", "projectid", "project_id")),
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
    "roads": (
        Field("id", "str", ("道路编号", "道路代码", "道路编码", "路段编号", "roadid", "road_id", "osm_id", "osmid")
              + _ID),
        Field("county_code", "county", _COUNTY),
        Field("road_class", "enum", ("道路等级", "道路类别", "道路类型", "等级", "类别", "类型", "roadclass",
                                     "road_class", "class", "fclass", "highway", "type")),
        Field("name", "str", ("道路名称", "路名", "街道名称", "roadname") + _NAME),
        Field("oneway", "bool", ("单行", "单行道", "单向", "是否单行", "oneway")),
        Field("walkable", "bool", ("可步行", "步行通行", "允许步行", "是否可步行", "walkable", "foot")),
    ),
    "barriers": (
        Field("id", "str", ("阻隔编号", "障碍编号", "barrierid", "barrier_id") + _ID),
        Field("county_code", "county", _COUNTY),
        Field("barrier_type", "enum", ("阻隔类型", "障碍类型", "类型", "类别", "barriertype", "barrier_type", "type",
                                       "class"), required=True),
        Field("name", "str", ("阻隔名称", "河流名称", "铁路名称") + _NAME),
    ),
    "annual_targets": (
        Field("year", "int", ("年度", "目标年度", "任务年度", "计划年度", "年份", "year", "targetyear"), required=True,
              low=2000, high=2050),
        Field("unit_code", "unit", _UNIT, required=True),
        Field("compounds", "int", ("小区数", "改造小区数", "目标小区数", "小区个数", "任务小区数", "小区", "compounds"),
              low=0, high=100_000),
        Field("households", "int", ("户数", "改造户数", "目标户数", "涉及户数", "households"), low=0, high=10_000_000),
        Field("floor_area_m2", "float", ("建筑面积", "改造面积", "改造建筑面积", "目标面积", "面积", "floorarea",
                                         "floor_area_m2", "area"), low=0, high=200_000_000, unit="m2"),
        Field("investment_wan", "float", ("计划投资", "总投资", "投资", "目标投资", "投资额", "investment_wan",
                                          "investment"), low=0, high=100_000_000, unit="wan"),
        Field("issued_date", "date", ("下达日期", "下达时间", "印发日期", "issueddate", "issued_date", "issued")),
        Field("source", "str", ("文件依据", "依据", "文件", "来源", "文号", "source")),
        Field("note", "str", _NOTE),
    ),
    "projects": (
        Field("id", "str", _PROJECT_ID + ("编号", "id"), required=True),
        Field("name", "str", ("项目名称", "项目", "name", "名称"), required=True),
        Field("year", "int", ("年度", "计划年度", "实施年度", "year"), low=2000, high=2050),
        Field("unit_code", "unit", _UNIT, required=True),
        Field("street", "str", ("街道", "所属街道", "镇街", "street")),
        Field("community", "str", ("社区", "所属社区", "community")),
        Field("delivery_model", "enum", ("实施方式", "组织方式", "实施模式", "建设模式", "deliverymodel",
                                         "delivery_model")),
        Field("contractor", "str", ("施工单位", "承建单位", "总承包单位", "中标单位", "contractor")),
        Field("invest_planned_wan", "float", ("计划投资", "总投资", "项目总投资", "投资", "investplannedwan",
                                              "invest_planned_wan"), low=0, high=10_000_000, unit="wan"),
        Field("compound_ids", "ids", ("包含小区", "包含小区编号", "涉及小区", "小区编号", "小区", "compoundids",
                                      "compound_ids", "compounds")),
        Field("note", "str", _NOTE),
    ),
    "fund_flows": (
        Field("id", "str", ("资金编号", "流水号", "记录编号", "编号", "id")),
        Field("flow_date", "date", ("日期", "资金日期", "下达日期", "到位日期", "拨付日期", "支付日期", "flowdate",
                                    "flow_date", "date"), required=True),
        Field("compound_id", "str", _COMPOUND_ID),
        Field("project_id", "str", _PROJECT_ID),
        Field("source", "enum", ("资金来源", "来源", "资金类型", "资金渠道", "source"), required=True),
        Field("stage", "enum", ("环节", "资金环节", "阶段", "类型", "stage"), required=True),
        Field("amount_wan", "float", ("金额", "资金", "资金金额", "amount", "amountwan", "amount_wan"), required=True,
              low=0, high=10_000_000, unit="wan"),
        Field("document", "str", ("文号", "凭证号", "文件", "document")),
        Field("note", "str", _NOTE),
    ),
    "aftercare": (
        Field("compound_id", "str", _COMPOUND_ID + ("编号", "id"), required=True),
        Field("accepted_date", "date", ("竣工验收日期", "验收日期", "竣工验收", "accepteddate", "accepted_date")),
        Field("mgmt_mode", "enum", ("物业管理模式", "管理模式", "物业模式", "物业管理方式", "物业管理", "mgmtmode",
                                    "mgmt_mode")),
        Field("mgmt_established", "bool", ("长效管理机制", "是否建立长效管理机制", "长效机制", "建立长效机制",
                                           "mgmtestablished", "mgmt_established")),
        Field("mgmt_established_date", "date", ("长效机制建立日期", "机制建立日期", "建立日期",
                                                "mgmtestablisheddate", "mgmt_established_date")),
        Field("satisfaction_pct", "float", ("满意度", "居民满意度", "满意率", "satisfaction", "satisfaction_pct"),
              low=0, high=100, unit="pct"),
        Field("survey_date", "date", ("调查日期", "问效日期", "测评日期", "surveydate", "survey_date")),
        Field("note", "str", _NOTE),
    ),
    "findings": (
        Field("id", "str", ("问题编号", "编号", "id")),
        Field("found_date", "date", ("发现日期", "检查日期", "督导日期", "日期", "founddate", "found_date"),
              required=True),
        Field("unit_code", "unit", _UNIT),
        Field("compound_id", "str", _COMPOUND_ID),
        Field("project_id", "str", _PROJECT_ID),
        Field("category", "enum", ("问题类别", "问题类型", "类别", "category"), required=True),
        Field("description", "str", ("问题描述", "存在问题", "问题", "描述", "description"), required=True),
        Field("deadline", "date", ("整改时限", "整改期限", "期限", "deadline")),
        Field("status", "enum", ("整改状态", "办理状态", "状态", "status"), required=True),
        Field("closed_date", "date", ("销号日期", "整改完成日期", "closeddate", "closed_date")),
        Field("found_by", "str", ("督导组", "检查组", "发现单位", "发现人", "foundby", "found_by")),
        Field("note", "str", _NOTE),
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

_ROAD_CLASS_WORDS = {
    "主干路": ("主干路", "主干道", "主干", "城市主干路", "arterial", "primary", "trunk"),
    "次干路": ("次干路", "次干道", "次干", "城市次干路", "secondary", "collector"),
    "支路": ("支路", "街巷", "小路", "巷道", "local", "tertiary", "residential", "unclassified", "living_street",
           "service"),
    "步行道": ("步行道", "步行街", "人行道", "步道", "绿道", "footway", "pedestrian", "path", "steps", "cycleway"),
    "其他": ("其他", "其它", "快速路", "高速公路", "高架", "other", "motorway", "expressway"),
}
_BARRIER_WORDS = {
    "河流": ("河流", "河道", "河", "水系", "水面", "湖泊", "沟渠", "river", "water", "canal", "stream"),
    "铁路": ("铁路", "铁道", "高铁", "rail", "railway"),
    "快速路": ("快速路", "高速公路", "高速", "高架", "快速干道", "expressway", "motorway"),
    "其他": ("其他", "其它", "围墙", "other", "wall"),
}


_DELIVERY_WORDS = {
    "单独实施": ("单独", "独立实施", "single"),
    "打包": ("打包实施", "打包招标", "bundled", "bundle", "package"),
    "成片捆绑": ("成片", "捆绑", "片区", "成片改造", "area"),
    "工程总承包": ("总承包", "epc", "工程总承包epc"),
}
_SOURCE_EXTRA = {
    "central_subsidy": ("中央补助", "中央财政补助", "中央补助资金"),
    "central_budget": ("中央预算内", "中央预算内资金"),
    "provincial": ("省级", "省级补助", "省级财政资金", "省补"),
    "local_fiscal": ("市县财政", "市级财政", "县级财政", "地方财政", "财政资金", "本级财政"),
    "special_bonds": ("专项债", "专项债券资金", "地方政府专项债券"),
    "residents": ("居民", "居民自筹"),
    "utilities": ("专营单位出资", "管线单位"),
    "owner_units": ("原产权单位出资", "产权单位"),
    "social_capital": ("社会资本出资", "社会资金"),
}
_STAGE_WORDS = {
    "allocated": ("下达", "资金下达", "已下达", "allocated", "allocation"),
    "received": ("到位", "资金到位", "已到位", "received"),
    "paid": ("支付", "拨付", "已支付", "已拨付", "资金支付", "资金拨付", "paid", "payment"),
}
_MGMT_WORDS = {
    "专业物业": ("物业公司", "专业化物业", "物业服务企业", "专业物业服务", "professional"),
    "社区托管": ("托管", "社区代管", "社区管理", "community"),
    "业主自治": ("自治", "居民自治", "业主自管", "selfmanaged", "self-managed"),
    "无": ("无物业", "暂无", "没有", "none"),
}
_CATEGORY_WORDS = {
    "立项": ("立项审批", "前期手续"), "开工": ("开工进度",), "竣工": ("竣工验收",), "改造内容": ("改造项目", "内容"),
    "资金支付": ("资金", "资金拨付", "payment"), "长效管理": ("物业", "物业管理", "长效机制"),
    "质量安全": ("质量", "安全", "施工安全", "quality", "safety"), "其他": ("其它", "other"),
}
_FINDING_STATUS_WORDS = {
    "交办": ("已交办", "待整改", "assigned", "open"),
    "整改中": ("正在整改", "整改", "inprogress", "in progress", "fixing"),
    "已销号": ("销号", "已整改", "整改完成", "closed"),
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
    if kind == "findings" and field_name == "status":
        return _choices(_FINDING_STATUS_WORDS)
    if field_name == "status":
        return _choices(_STATUS_WORDS)
    if field_name == "delivery_model":
        return _choices({m: _DELIVERY_WORDS.get(m, ()) for m in settings.DELIVERY_MODELS})
    if field_name == "source":
        return _choices({code: (zh, en, *_SOURCE_EXTRA.get(code, ()))
                         for code, (zh, en) in settings.FUNDING_SOURCES.items()})
    if field_name == "stage":
        return _choices({code: (zh, en, *_STAGE_WORDS.get(code, ())) for code, (zh, en) in settings.FLOW_STAGES.items()})
    if field_name == "mgmt_mode":
        return _choices({m: _MGMT_WORDS.get(m, ()) for m in settings.MGMT_MODES})
    if field_name == "category":
        return _choices({c: _CATEGORY_WORDS.get(c, ()) for c in settings.FINDING_CATEGORIES})
    if field_name == "tier":
        return _choices(_TIER_WORDS)
    if field_name == "parcel_type":
        return _choices(_PARCEL_WORDS)
    if field_name == "ownership":
        return _choices(_OWNERSHIP_WORDS)
    if field_name == "land_use":
        return _choices(_LAND_USE_WORDS)
    if field_name == "road_class":
        return _choices(_ROAD_CLASS_WORDS)
    if field_name == "barrier_type":
        return _choices(_BARRIER_WORDS)
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
    """Target fields of ``kind``; CSV/XLSX sources of a spatial table also map the coordinate (x, y) or WKT columns."""
    if kind not in FIELDS:
        raise ImportRejected(f"`kind` was {kind!r} but must be one of {KINDS!r}.", kind="mapping")
    return FIELDS[kind] + (COORD_FIELDS if tabular and kind in SPATIAL_KINDS else ())


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
