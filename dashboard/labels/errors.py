"""What users read when something cannot be done: ``error.<code>`` for each domain error's code.

``analytics`` raises errors with a code and parameters (``analytics.errors``); ``dashboard.ui.error_text``
fills the label of the code with them. ``{detail}`` is the analytics message (English, for support staff);
only the labels whose page tests pin that detail show it. A code without a label uses its class's label
(``error.input``, ``error.data``, …), which says what kind of problem it is and that the detail is logged.
"""

from dashboard.labels.common import LABELS as COMMON
from dashboard.labels.export import LABELS as EXPORT

LABELS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------------ by class (no specific label)
    "error.error": ("操作未能完成（详情已记入日志）。", "The operation could not be completed (details are in the log)."),
    "error.input": (
        "输入的内容无法使用，请检查后重试（详情已记入日志）。",
        "The input cannot be used; check it and try again (details are in the log).",
    ),
    "error.crs": (
        "坐标系不适用：距离须在以米为单位的投影坐标系中计算（详情已记入日志）。",
        "Unsuitable coordinate system: distances need a projected system in metres (details are in the log).",
    ),
    "error.data": (
        "所需数据缺失或不一致（详情已记入日志）。",
        "Data needed here is missing or inconsistent (details are in the log).",
    ),
    "error.permission": ("没有权限执行此操作，未作任何修改。", "You may not do this; nothing was changed."),
    "error.db_locked": COMMON["common.db_locked"],
    "error.export.missing": EXPORT["export.missing"],
    # ------------------------------------------------------------------------------------------ progress
    "error.progress.no_plan": (
        "{plan_year} 年度没有计划改造的小区；数据中的计划年度有：{years}。",
        "No compounds are planned for {plan_year}; the data has plan years {years}.",
    ),
    "error.progress.no_reports": ("还没有任何进度周报，请先导入周报。", "There are no progress reports yet; import them first."),
    "error.progress.before_first_report": (
        "{as_of} 及以前没有进度周报；第一份周报的日期是 {first}，请选择更晚的日期。",
        "There is no progress report on or before {as_of}; the first is dated {first}. Choose a later date.",
    ),
    "error.progress.no_report_for_plan": (
        "{plan_year} 年度的小区在 {as_of} 及以前没有进度周报；请选择更晚的日期或其他年度。",
        "The {plan_year} compounds have no progress report on or before {as_of}; choose a later date or "
        "another year.",
    ),
    # ------------------------------------------------------------------------- bulletin and its settings
    "error.bulletin.no_report_in_year": (
        "{year} 年没有周报，无法确定该年通报的第一期。", "There is no report in {year}, so its series has no first issue.",
    ),
    "error.bulletin.before_weekly_series": (
        "{year} 年周调度从 {first} 的周报起编为第1期；{report} 的周报在此之前。请选择更晚的日期，或在“系统管理”中修改起始期。",
        "The {year} weekly series starts with the report of {first}; the report of {report} comes before it. "
        "Choose a later date or change the first issue under Administration.",
    ),
    "error.bulletin.before_monthly_series": (
        "{year} 年月通报从 {first} 月起编为第1期；{month} 月在此之前。请选择更晚的日期，或在“系统管理”中修改起始期。",
        "The {year} monthly series starts in month {first}; month {month} comes before it. Choose a later date "
        "or change the first issue under Administration.",
    ),
    "error.units.unknown": ("没有代码为 {unit} 的填报单位。", "There is no reporting unit {unit}."),
    "error.units.inactive": ("填报单位 {unit} 在 {year} 年不填报。", "The unit {unit} does not report in {year}."),
    "error.units.year": ("年份须在 1990 至 2100 之间，或留空（现为 {value}）。",
                         "A year must be between 1990 and 2100, or empty ({value})."),
    "error.units.years_order": ("截止年份（{last}）早于起始年份（{first}）。",
                                "The last year ({last}) is before the first ({first})."),
    "error.units.name": ("名称须为 1 至 {limit} 个字（现为“{value}”）。", "A name needs 1 to {limit} characters (“{value}”)."),
    "error.units.kind": ("类型须为县市区或功能区（现为 {value}）。", "The kind must be a county or a zone ({value})."),
    "error.units.category": ("县市区须选择类别：区、县级市或县。", "A county-level division needs a category: district, city or county."),
    "error.units.national_code": ("国家行政区划代码须为 6 位数字（现为 {value}）。",
                                  "A national division code has 6 digits ({value})."),
    "error.units.county_needs_code": ("新增县市区须填写其国家行政区划代码。", "A new county-level division needs its national code."),
    "error.units.name_taken": ("已有名为“{value}”的单位。", "A unit is already named “{value}”."),
    "error.units.code_taken": ("代码 {value} 已被使用。", "The code {value} is already used."),
    "error.office.doc_prefix": (
        "文号前缀“{value}”不可用：须为1至20个字，不含括号，例如“济旧改指办”。",
        "The document number prefix “{value}” cannot be used: 1–20 characters without brackets, e.g. 济旧改指办.",
    ),
    "error.office.distribution": (
        "发送范围每行须为“{labels}”之一加冒号和单位，例如“报：市政府。”。",
        "Each distribution line must be one of {labels}, a colon and the recipients, e.g. 报：市政府。",
    ),
    "error.office.series_start": (
        "{year} 年的起始期须为该年的一个星期五（周报日期）和1至12之间的月份。",
        "The first issue of {year} must be a Friday of that year (a report date) and a month from 1 to 12.",
    ),
    "error.office.top_bottom_n": ("表扬、批评名次须为0至10的整数（现为 {value}）。",
                                  "The number praised or criticised must be a whole number from 0 to 10 ({value})."),
    "error.office.points": ("百分点须大于0且不超过100（现为 {value}）。",
                            "Percentage points must be above 0 and at most 100 ({value})."),
    "error.office.small_unit": ("小单位标注的小区数须为0至100的整数（现为 {value}）。",
                                "The small-unit mark needs a whole number of compounds from 0 to 100 ({value})."),
    "error.office.ranking_tables": ("排名表须为一张或两张（现为 {value}）。", "The ranking has one or two tables ({value})."),
    # ------------------------------------------------------------------------------------ the analyses
    "error.weights_zero": ("至少一项权重须大于 0。", "At least one weight must be above 0."),
    "error.clusters.weights_without_data": (
        "所选权重只落在没有数据的评分项上；请给户数或居民意愿一定权重。",
        "The weights fall only on score parts without data; give some weight to households or willingness.",
    ),
    "error.siting.too_large": (
        "选址模型过大（{rows:,} 个需求点 × {columns:,} 个候选地块）；请选择一个县区，或提高地块最小面积。",
        "The siting model is too large ({rows:,} demand points × {columns:,} candidate parcels); choose one "
        "county or raise the minimum parcel area.",
    ),
    "error.store.disk_full": (
        "服务器磁盘已满，未保存任何内容；请管理员清理服务器空间（旧备份、日志）后重试。",
        "The server's disk is full, so nothing was stored; ask the administrator to free space (old backups, "
        "logs) and try again.",
    ),
    "error.report.date_out_of_range": (
        "周报日期 {date} 不可用：周报最晚只能填到本周五（{last}），也不能早于第一个计划年度；请选择该周报所属的一周。",
        "A weekly report cannot be dated {date}: at the latest this coming Friday ({last}), and not before the "
        "first plan year; choose the report's own week.",
    ),
    "error.report.not_a_friday": (
        "周报日期须为周五，请重新上传该周报。", "A weekly report is dated on a Friday; upload it again.",
    ),
    "error.plan.empty_pool": (
        "储备库中没有候选小区，无法编制计划；请先导入储备库（没有计划年度的小区）。",
        "The candidate pool is empty, so there is nothing to plan; import it (compounds without a plan year) first.",
    ),
    "error.plan.cost_missing": (
        "{n} 个候选小区缺少估算投资（例如 {compound_id}）；请补填或按面积估算后再编制。",
        "{n} candidates lack an estimated investment (e.g. {compound_id}); fill it in or estimate it from the floor "
        "area first.",
    ),
    "error.plan.budget": ("预算须大于 0 万元（现为 {budget}）。", "The budget must be above 0 (it is {budget})."),
    "error.plan.target_above_pool": (
        "{county_code}的{measure}目标（{target:,.0f}）超过符合条件的候选小区合计（{pool:,.0f}）；请调低目标或补充储备库。",
        "{county_code}'s {measure} target ({target:,.0f}) is more than all its eligible candidates hold "
        "({pool:,.0f}); lower the target or add candidates.",
    ),
    "error.plan.cost_not_positive": (
        "候选小区 {compound_id} 的估算投资为 {value:g} 万元；估算投资须大于 0，请更正后再编制。",
        "Candidate {compound_id} has an estimated investment of {value:g} (10k yuan); it must be above 0. Correct "
        "it first.",
    ),
    "error.plan.negative": (
        "候选小区 {compound_id} 的{column}为 {value:g}，不能为负数；请更正后再编制。",
        "Candidate {compound_id} has {column} {value:g}; it cannot be negative. Correct it first.",
    ),
    "error.plan.value_missing": (
        "候选小区 {compound_id} 缺少{column}；请补填后再编制。",
        "Candidate {compound_id} has no {column}; fill it in first.",
    ),
    "error.plan.not_a_number": (
        "候选小区 {compound_id} 的{column}“{value}”不是数字；请更正后再编制。",
        "Candidate {compound_id} has {column} “{value}”, which is not a number; correct it first.",
    ),
    "error.plan.share_range": (
        "候选小区 {compound_id} 的{column}为 {value:g}%，须在 0–100% 之间；请更正后再编制。",
        "Candidate {compound_id} has {column} {value:g} %; it must be between 0 and 100 %. Correct it first.",
    ),
    "error.plan.duplicate_id": (
        "候选小区编号 {compound_id} 出现了两次；每个小区只能出现一次。",
        "The candidate id {compound_id} appears twice; each compound may appear once.",
    ),
    "error.plan.unit_cost": (
        "{tier}的单位造价（{value} 元/平方米）须大于 0；请在设置中更正。",
        "The unit cost of {tier} ({value} yuan/m²) must be above 0; correct it in the settings.",
    ),
    "error.plan.percentage": (
        "{setting}须在 0–{high:g}% 之间（现为 {value}）。",
        "{setting} must be between 0 and {high:g} % (it is {value}).",
    ),
    "error.plan.min_willingness": (
        "最低改造意愿须在 0–100% 之间（现为 {value}）。",
        "The minimum willingness must be between 0 and 100 % (it is {value}).",
    ),
    "error.plan.fair_share": (
        "各县区最低份额须在 0–100% 之间（现为 {value}）。",
        "The counties' minimum share must be between 0 and 100 % (it is {value}).",
    ),
    "error.plan.time_limit": (
        "求解时限须大于 0 秒且不超过 {high} 秒（现为 {value}）。",
        "The time limit must be above 0 and at most {high} seconds (it is {value}).",
    ),
    "error.plan.year": (
        "计划年度须在 2006–2100 年之间（现为 {year}）。", "The plan year must be between 2006 and 2100 (it is {year}).",
    ),
    "error.plan.target_twice": (
        "{county_code}的年度目标有两行；请只保留一行。", "{county_code} has two rows of annual targets; keep one.",
    ),
    "error.plan.target_measure": (
        "目标中有无法识别的指标 {names}；可用的指标：{measure}。",
        "The targets name unknown measure(s) {names}; the measures are: {measure}.",
    ),
    "error.plan.target_negative": (
        "{county_code}的{measure}目标（{value}）不能为负数。",
        "{county_code}'s {measure} target ({value}) cannot be negative.",
    ),
    "error.plan.county_budget": (
        "{county_code}的预算上限须大于 0 万元（现为 {value}）；不设上限请留空。",
        "{county_code}'s budget cap must be above 0 (10k yuan; it is {value}); leave it empty for no cap.",
    ),
    "error.plan.bundle_twice": (
        "打包项目编号 {bundle_id} 出现了两次；每个项目只能出现一次。",
        "The bundle id {bundle_id} appears twice; each bundle may appear once.",
    ),
    "error.plan.bundle_members": (
        "打包项目 {bundle_id} 没有列出成员小区；每个打包项目须列出其小区编号。",
        "The bundle {bundle_id} lists no member compounds; list the compound ids of each bundle.",
    ),
    "error.plan.bundle_stranger": (
        "打包项目 {bundle_id} 中的小区 {compound_id} 不在储备库中；请用同一储备库打包。",
        "The bundle {bundle_id} lists {compound_id}, which is not in the candidate pool; bundle the same pool.",
    ),
    "error.plan.bundle_overlap": (
        "小区 {compound_id} 同时属于两个打包项目（{bundles}）；一个小区只能属于一个项目。",
        "Compound {compound_id} is in two bundles ({bundles}); a compound may belong to one bundle only.",
    ),
    "error.adoption.empty": ("该方案没有选中任何小区，无可采纳。", "The plan chooses no compound; there is nothing to adopt."),
    "error.adoption.stale": (
        "有 {n} 个选中的小区已不再是候选（如 {compound_id}）；请重新生成方案，未作任何修改。",
        "{n} chosen compound(s) are no longer candidates (e.g. {compound_id}); build the plan again. Nothing "
        "was changed.",
    ),
    # --------------------------------------------------------------------------- elevator cost sharing
    "error.elevator.subsidy_above_cost": (
        "政府补贴（{subsidy:g} 万元）不能超过电梯总费用（{cost:g} 万元）。",
        "The subsidy ({subsidy:g}) cannot exceed the elevator cost ({cost:g}, 10k yuan).",
    ),
    "error.elevator.cost_zero": ("电梯总费用须大于 0。", "The elevator cost must be above 0."),
    "error.elevator.floors_range": (
        "楼层数须在 {low}–{high} 层之间（输入的是 {value}）。",
        "The number of floors must be {low}–{high} (you entered {value}).",
    ),
    "error.elevator.hpf_range": (
        "每层户数须在 {low}–{high} 户之间（输入的是 {value}）。",
        "Households per floor must be {low}–{high} (you entered {value}).",
    ),
    "error.elevator.cost_range": (
        "电梯总费用须在 {low}–{high:,.0f} 万元之间（输入的是 {value:,.10g}）。",
        "The elevator cost must be {low}–{high:,.0f} (10k yuan) (you entered {value:,.10g}).",
    ),
    "error.elevator.subsidy_range": (
        "政府补贴须在 {low}–{high:,.0f} 万元之间（输入的是 {value:,.10g}）。",
        "The subsidy must be {low}–{high:,.0f} (10k yuan) (you entered {value:,.10g}).",
    ),
    "error.elevator.preset_floors": (
        "{preset}方案只规定了 1–6 层，本单元有 {floors} 层；请改用“系数×面积”或自定义表。",
        "The {preset} rule covers floors 1–6 but the unit has {floors}; use “Coefficient × area” or a custom table.",
    ),
    "error.elevator.custom_empty": (
        "自定义表第 {floors} 层未填写数值；每层都要填写（不出资填 0）。",
        "The custom table has no value for floor(s) {floors}; fill in every floor (0 for none).",
    ),
    "error.elevator.custom_negative": (
        "自定义表的数值不能为负（第 {floors} 层）。",
        "Custom values cannot be negative (floor(s) {floors}).",
    ),
    "error.elevator.custom_zero": (
        "自定义表各层数值均为 0，至少一层须出资。",
        "Every floor in the custom table is 0; at least one floor must pay.",
    ),
    "error.elevator.areas": (
        "各户位面积须填写且大于 0（第 {positions} 户位）。",
        "Every household position needs an area above 0 (position(s) {positions}).",
    ),
    "error.elevator.nobody_pays": (
        "按此方案，{floors} 层的单元无人出资（1–2 层不分摊）；请换用其他方案。",
        "Under this rule nobody in a {floors}-floor unit pays (floors 1–2 do not share); choose another rule.",
    ),
    # --------------------------------------------------------------------------- accounts and permissions
    "error.action.import": ("导入数据", "import data"),
    "error.action.submit_report": ("填报周报", "submit weekly reports"),
    "error.action.undo": ("撤销导入", "undo imports"),
    "error.action.manage_users": ("管理账号", "manage accounts"),
    "error.action.backup": ("备份和恢复", "back up and restore"),
    "error.action.adopt_plan": ("采纳年度计划", "adopt a year's plan"),
    "error.action.configure": ("修改通报设置", "change the bulletin settings"),
    "error.permission.signed_out": (
        "{permission}需要先登录，未作任何修改。（{detail}）",
        "Signing in is needed to {permission}; nothing was changed. ({detail})",
    ),
    "error.permission.role": (
        "{role}账号无权{permission}，未作任何修改。（{detail}）",
        "A {role} account may not {permission}; nothing was changed. ({detail})",
    ),
    "error.permission.county": (
        "只能为本单位（{county_code}）填报，未作任何修改。（{detail}）",
        "You may write only for your own unit ({county_code}); nothing was changed. ({detail})",
    ),
    "error.auth.username_invalid": (
        "用户名“{username}”不可用：须为 3–32 位小写字母、数字或 _ . -，并以字母或数字开头。（{detail}）",
        "The username “{username}” cannot be used: 3–32 characters of a–z, 0–9, _ . -, starting with a "
        "letter or digit. ({detail})",
    ),
    "error.auth.username_taken": (
        "用户名“{username}”已有账号；如需新密码，请重置该账号的密码。",
        "“{username}” already has an account; reset its password instead.",
    ),
    "error.auth.no_account": ("用户名“{username}”没有账号。", "“{username}” has no account."),
    "error.auth.own_account": ("不能停用自己的账号，须由另一位管理员操作。", "You cannot disable your own account; ask another administrator."),
    "error.auth.last_admin": (
        "“{username}”是最后一位在用的管理员，请先创建另一位管理员。",
        "“{username}” is the last active administrator; create another one first.",
    ),
    "error.auth.password_short": ("密码至少需要 {min_length} 个字符。", "The password needs at least {min_length} characters."),
    "error.auth.password_long": (
        "密码过长：最多 72 字节（约 24 个汉字）。",
        "The password is too long: at most 72 bytes (about 24 Chinese characters).",
    ),
    "error.auth.password_is_username": ("密码不能与用户名相同。", "The password must not be the username."),
    "error.auth.editor_needs_county": ("填报员须指定所属单位（县市区或功能区）。",
                                       "An editor needs a reporting unit (a county or a function zone)."),
    "error.presentation.unknown": (
        "没有这些幻灯片：{slides}。请从列表中选择。",
        "There are no such slides: {slides}. Choose from the list.",
    ),
    "error.presentation.twice": (
        "幻灯片 {slides} 重复了，每张只能列一次。",
        "Slides {slides} are listed twice; list each once.",
    ),
    "error.presentation.empty": (
        "汇报模式至少需要一张幻灯片。",
        "The presentation needs at least one slide.",
    ),
    "error.auth.county_only_for_editors": (
        "只有填报员才有所属单位，请留空。",
        "Only an editor has a reporting unit; leave it empty.",
    ),
}
