"""Labels of the shared map builder: layer names, legends, tooltip fields, basemap messages."""

LABELS: dict[str, tuple[str, str]] = {
    "maps.layer.counties": ("县区", "Counties"),
    "maps.layer.compounds": ("老旧小区", "Compounds"),
    "maps.layer.parcels": ("存量用地", "Parcels"),
    "maps.layer.parcels_other": ("其他地块", "Other parcels"),
    "maps.layer.parcels_reachable": ("范围内地块", "Parcels within reach"),
    "maps.layer.facilities": ("现有设施", "Existing facilities"),
    "maps.layer.selection": ("选中", "Selected"),
    "maps.layer.clusters": ("成片区域", "Clusters"),
    "maps.layer.sites": ("建议选址", "Proposed sites"),
    "maps.summary.hint": ("放大地图或点击圆圈查看各个要素", "Zoom in or click a circle to see each one"),
    "maps.legend_unit": ("{label}（{unit}）", "{label} ({unit})"),
    "maps.unbounded": ("功能区（无独立边界）", "Zones (no boundary of their own)"),
    "maps.field.parcel_type": ("地块类型", "Parcel type"),
    "maps.field.area_m2": ("面积", "Area"),
    "maps.field.ownership": ("权属", "Ownership"),
    "maps.field.facility_type": ("设施类型", "Facility type"),
    "maps.tianditu_no_key": (
        "未配置天地图密钥：请在 .streamlit/secrets.toml 中设置 TIANDITU_KEY，或设置环境变量 TIANDITU_KEY。"
        "地图暂以无底图方式显示。",
        "No Tianditu key is set: put TIANDITU_KEY in .streamlit/secrets.toml or the TIANDITU_KEY environment "
        "variable. The map is shown without a basemap for now.",
    ),
    "maps.tianditu_bad_key": (
        "天地图密钥格式不正确（应为字母和数字），地图暂以无底图方式显示。",
        "The Tianditu key does not look right (letters and digits only); the map is shown without a basemap.",
    ),
    "maps.parcel_type.闲置用地": ("闲置用地", "Idle land"),
    "maps.parcel_type.低效用地": ("低效用地", "Low-efficiency land"),
    "maps.parcel_type.空置房屋": ("空置房屋", "Vacant building"),
    "maps.parcel_type.零星地块": ("零星地块", "Scattered plot"),
    "maps.ownership.国有": ("国有", "State"),
    "maps.ownership.集体": ("集体", "Collective"),
    "maps.ownership.企业": ("企业", "Enterprise"),
    "maps.ownership.机关事业单位": ("机关事业单位", "Public institution"),
    "maps.land_use.工业": ("工业", "Industrial"),
    "maps.land_use.仓储": ("仓储", "Warehousing"),
    "maps.land_use.商业": ("商业", "Commercial"),
    "maps.land_use.住宅": ("住宅", "Residential"),
    "maps.land_use.公共管理": ("公共管理", "Public administration"),
    "maps.land_use.其他": ("其他", "Other"),
}
