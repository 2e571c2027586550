"""Labels of the plan builder page (年度计划编制): inputs, the plan and why, totals, scenarios, adoption, XLSX."""

LABELS: dict[str, tuple[str, str]] = {
    "plan.caption": (
        "按项目生成机制，在财政承受能力内从储备库中选出下一年度的改造小区：预算、目标任务、各县公平、2000年前建成的优先、"
        "相邻小区成片改造；逐一说明入选或未入选的原因，并与按排名依次选取的结果对比。",
        "Next year's list chosen from the candidate pool as the project selection mechanism asks, within the "
        "fiscal capacity: budget, targets, fairness between counties, pre-2000 compounds first, adjacent "
        "compounds renewed together; each compound's reason for being in or out, and the ranking's own answer "
        "beside it.",
    ),
    "plan.from_priority": ("按此权重编制年度计划", "Build next year's plan with these weights"),
    # ------------------------------------------------------------------------------------------ inputs
    "plan.year": ("计划年度", "Plan year"),
    "plan.budget": ("预算（万元）", "Budget (10k yuan)"),
    "plan.budget_help": (
        "当年可用于改造的资金总额（财政承受能力）。默认取该年度目标中的投资额，没有时取上一计划年度的计划投资。",
        "Money available for the year (fiscal capacity). Defaults to the year's investment target, else the "
        "previous plan year's planned investment.",
    ),
    "plan.objective": ("优化目标", "Objective"),
    "plan.objective.score": ("优先得分合计最高", "Highest total priority score"),
    "plan.objective.households": ("惠及户数最多", "Most households reached"),
    "plan.first_tier": ("2000年前建成的优先", "Compounds built before 2001 first"),
    "plan.first_tier_help": (
        "先在预算内尽可能多地安排2000年底前建成的小区，再用余下资金安排2001–2005年建成的小区。",
        "First as much as the budget allows of compounds built by end-2000, then 2001–2005 compounds with what "
        "is left.",
    ),
    "plan.min_willingness": ("最低改造意愿（%）", "Minimum willingness (%)"),
    "plan.min_willingness_help": (
        "同意改造的户数占比不低于此值的小区才可入选（默认三分之二）。",
        "Only compounds where at least this share of households agree can be chosen (default two thirds).",
    ),
    "plan.targets": ("目标任务", "Targets"),
    "plan.targets.source": ("目标来源", "Targets from"),
    "plan.targets.none": ("不设目标", "No targets"),
    "plan.targets.manual": ("手工输入（全市）", "Entered here (city)"),
    "plan.targets.stored": ("{year}年度目标任务表（按县市区）", "The {year} targets table (per county)"),
    "plan.targets.compounds": ("小区数（个）", "Compounds"),
    "plan.targets.households": ("户数（户）", "Households"),
    "plan.targets.floor_area": ("建筑面积（万平方米）", "Floor area (10k m²)"),
    "plan.targets.help": ("目标为最低要求，填 0 表示不设。", "Targets are minimums; 0 means none."),
    "plan.targets.caps": ("各县投资不超过目标表中的投资额", "Each county within its investment in the targets table"),
    "plan.fair_share": ("各县最低资金份额（%）", "Counties' minimum share (%)"),
    "plan.fair_share_help": (
        "有候选小区的县市区，至少获得按其候选投资占比分配预算的这一比例；0 表示不作要求。",
        "A county with candidates gets at least this share of its proportional part of the budget (by its "
        "candidates' cost); 0 turns this off.",
    ),
    "plan.weights": ("优先得分权重（与项目生成页相同）", "Priority weights (as on the priority page)"),
    "plan.bundling": ("成片改造", "Area-wide renewal"),
    "plan.bundle.none": ("不打包", "No bundles"),
    "plan.bundle.cluster": ("相邻小区成片（片区）", "Adjacent compounds (areas)"),
    "plan.bundle.street": ("按街道打包", "By street"),
    "plan.bundle.community": ("按社区打包", "By community"),
    "plan.bundle_rule": ("打包方式", "Bundles"),
    "plan.bundle_rule.optional": ("可整体实施，也可单个实施", "Whole or compound by compound"),
    "plan.bundle_rule.whole": ("必须整体实施", "Whole only"),
    "plan.saving": ("成片节约（%，假设）", "Saving as one project (%, assumed)"),
    "plan.saving_help": (
        "成片或打包实施时工程费用的节约比例，为测算假设，请按本地经验调整。",
        "How much cheaper an area is as one project; an assumption — adjust it to local experience.",
    ),
    "plan.bonus": ("共享设施加成（%）", "Shared-facility bonus (%)"),
    "plan.bonus_help": (
        "片区周边闲置用地可建设多数小区缺少的设施时，片区得分增加的比例。",
        "How much an area's value rises when idle land in reach can hold a facility most of its members lack.",
    ),
    "plan.time_limit": ("求解时限（秒）", "Solver time limit (s)"),
    "plan.advanced": ("更多设置", "More settings"),
    # ------------------------------------------------------------------------------------------ status
    "plan.status.optimal": ("已求得最优方案。", "The plan is optimal."),
    "plan.status.time_limit": (
        "求解达到时限，显示目前最好的方案；与最优方案的差距不超过 {gap}。",
        "The solver reached its time limit; this is the best plan found, at most {gap} short of the optimum.",
    ),
    "plan.status.time_limit_unknown": (
        "求解达到时限，显示目前最好的方案（差距未知）。",
        "The solver reached its time limit; this is the best plan found (gap unknown).",
    ),
    "plan.status.infeasible": (
        "以下要求在预算内无法全部满足，方案已尽量接近：",
        "These requirements cannot all be met within the budget; the plan comes as close as it can:",
    ),
    "plan.short.target": (
        "{unit}{measure}目标 {required}，最多可达 {reachable}，差 {short}。",
        "{unit}: {measure} target {required}, at most {reachable} reachable, {short} short.",
    ),
    "plan.short.fair_share": (
        "{unit}最低资金份额 {required} 万元，最多可安排 {reachable} 万元，差 {short} 万元。",
        "{unit}: minimum share {required} (10k yuan), at most {reachable} possible, {short} short.",
    ),
    "plan.setting.saving_pct": ("成片节约比例", "The saving as one project"),
    "plan.setting.facility_bonus_pct": ("共享设施加成", "The shared-facility bonus"),
    "plan.setting.bonus_pct": ("共享设施加成", "The shared-facility bonus"),
    "plan.measure.compounds": ("小区数", "compounds"),
    "plan.measure.households": ("户数", "households"),
    "plan.measure.floor_area_m2": ("建筑面积（平方米）", "floor area (m²)"),
    "plan.measure.net_cost_wan": ("投资", "investment"),
    "plan.no_pool": (
        "{year}年度没有候选小区：储备库为空（没有计划年度的小区）。请先在数据管理页导入储备库。",
        "There are no candidates for {year}: the candidate pool (compounds without a plan year) is empty. "
        "Import it on the data page first.",
    ),
    "plan.pool": (
        "储备库 {n} 个小区，其中符合条件 {eligible} 个；{estimated} 个的投资按面积和改造类型估算。",
        "{n} compounds in the pool, {eligible} eligible; {estimated} with the investment estimated from floor "
        "area and tier.",
    ),
    # ------------------------------------------------------------------------------------------ KPIs
    "plan.kpi.compounds": ("入选小区", "Compounds chosen"),
    "plan.kpi.households": ("惠及户数", "Households"),
    "plan.kpi.floor_area": ("建筑面积（万平方米）", "Floor area (10k m²)"),
    "plan.kpi.cost": ("计划投资（万元）", "Investment (10k yuan)"),
    "plan.kpi.cost_share": ("占预算 {share}", "{share} of the budget"),
    "plan.kpi.cost_help": ("预算 {budget} 万元；成片实施节约 {saving} 万元（按假设）。",
                           "Budget {budget}; areas as one project save {saving} (assumed; 10k yuan)."),
    "plan.kpi.vs_ranking": ("比按排名选取 {delta}", "{delta} vs the ranking"),
    "plan.kpi.ranking_help": (
        "按排名依次选取（不考虑目标和打包）：{n} 个小区、{households} 户。",
        "Going down the ranking (ignoring targets and bundles): {n} compounds, {households} households.",
    ),
    # ------------------------------------------------------------------------------------------ tabs
    "plan.tab.chosen": ("计划清单", "The list"),
    "plan.tab.rejected": ("未入选及原因", "Not chosen, and why"),
    "plan.tab.counties": ("分县市区", "By county"),
    "plan.tab.map": ("计划地图", "Map of the plan"),
    "plan.tab.charts": ("图表", "Charts"),
    "plan.chosen_note": (
        "“入选原因”说明每个小区为何入选：完成目标或各县份额所需、随片区整体实施、按排名在预算内，或与其他项目组合更能用足预算。",
        "“Why” says why each compound is in: needed for a target or a county's share, with its area as one "
        "project, within the budget by rank, or because together with the others it uses the budget better.",
    ),
    "plan.rejected_note": (
        "不符合条件的小区列出全部原因；符合条件但未入选的，列出起约束作用的条件（预算余额不足等）。",
        "Ineligible compounds show every rule they fail; eligible ones left out show the binding constraint "
        "(not enough budget left, and so on).",
    ),
    "plan.col.id": ("小区编号", "Compound id"),
    "plan.col.name": ("小区名称", "Compound"),
    "plan.col.county": ("县市区", "County"),
    "plan.col.street": ("街道", "Street"),
    "plan.col.bundle": ("所属片区/项目", "Area / project"),
    "plan.col.built_year": ("建成年代", "Built"),
    "plan.col.households": ("户数", "Households"),
    "plan.col.floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "plan.col.tier": ("改造类型", "Tier"),
    "plan.col.cost_wan": ("估算投资（万元）", "Estimated cost (10k yuan)"),
    "plan.col.net_cost_wan": ("计划投资（万元）", "Investment (10k yuan)"),
    "plan.col.score": ("优先得分", "Priority score"),
    "plan.col.rank": ("排名", "Rank"),
    "plan.col.eligible": ("符合条件", "Eligible"),
    "plan.col.why_in": ("入选原因", "Why in"),
    "plan.col.why_out": ("未入选原因", "Why not"),
    "plan.col.in_ranking": ("按排名也入选", "Also by rank"),
    "plan.col.unit": ("县市区", "Unit"),
    "plan.col.compounds": ("入选小区（个）", "Compounds"),
    "plan.col.target_compounds": ("目标小区数", "Target compounds"),
    "plan.col.target_households": ("目标户数", "Target households"),
    "plan.col.target_floor_area_m2": ("目标面积（平方米）", "Target floor area (m²)"),
    "plan.col.budget_wan": ("预算上限（万元）", "Budget cap (10k yuan)"),
    "plan.col.fair_share_wan": ("最低份额（万元）", "Minimum share (10k yuan)"),
    "plan.col.pool_compounds": ("符合条件的候选（个）", "Eligible candidates"),
    "plan.col.greedy_compounds": ("按排名：小区", "Ranking: compounds"),
    "plan.col.greedy_households": ("按排名：户数", "Ranking: households"),
    "plan.yes": ("是", "yes"),
    "plan.no": ("否", "no"),
    "plan.map_legend": ("计划", "Plan"),
    "plan.map.chosen": ("入选（单独实施）", "Chosen (alone)"),
    "plan.map.bundled": ("入选（成片实施）", "Chosen (with its area)"),
    "plan.map.left_out": ("符合条件未入选", "Eligible, left out"),
    "plan.map.ineligible": ("不符合条件", "Ineligible"),
    "plan.map_title": ("{year}年度改造计划（{status}）", "The {year} renovation plan ({status})"),
    "plan.chart.counties": ("分县市区户数：方案与目标、按排名选取对比", "Households per county: plan, target and ranking"),
    "plan.chart.plan": ("本方案", "This plan"),
    "plan.chart.chosen": ("入选", "Chosen"),
    "plan.chart.target": ("目标", "Target"),
    "plan.chart.ranking": ("按排名选取", "By ranking"),
    "plan.chart.households_unit": ("户", "households"),
    "plan.chart.value": ("得分与投资：入选与未入选", "Score and cost: chosen and left out"),
    "plan.chart.cost_axis": ("估算投资（万元）", "Estimated cost (10k yuan)"),
    "plan.chart.score_axis": ("优先得分", "Priority score"),
    # ------------------------------------------------------------------------------------------ download
    "plan.download": ("下载年度改造计划表（XLSX）", "Download the annual plan table (XLSX)"),
    "plan.xlsx.title": ("济宁市{year}年度老旧小区改造计划表", "Jining {year} old residential compound renovation plan"),
    "plan.xlsx.sheet": ("年度改造计划表", "Annual plan"),
    "plan.xlsx.unit_note": ("单位：户、平方米、万元", "Units: households, m², 10k yuan"),
    "plan.xlsx.total": ("合计", "Total"),
    "plan.xlsx.seq": ("序号", "No."),
    "plan.xlsx.unit_code": ("县市区", "County or zone"),
    "plan.xlsx.project_name": ("项目名称", "Project"),
    "plan.xlsx.name": ("小区名称", "Compound"),
    "plan.xlsx.built_year": ("建成年代", "Built"),
    "plan.xlsx.n_buildings": ("楼栋数", "Buildings"),
    "plan.xlsx.households": ("户数", "Households"),
    "plan.xlsx.floor_area_m2": ("建筑面积", "Floor area"),
    "plan.xlsx.tier": ("改造类型", "Tier"),
    "plan.xlsx.items": ("主要改造内容", "Main works"),
    "plan.xlsx.invest_wan": ("估算投资", "Estimated investment"),
    "plan.xlsx.planned_start": ("计划开工", "Planned start"),
    "plan.xlsx.planned_completion": ("计划竣工", "Planned completion"),
    # ------------------------------------------------------------------------------------------ scenarios
    "plan.scenarios": ("方案比较", "Scenarios"),
    "plan.scenarios_help": (
        "保存当前设置为一个方案（最多三个），与当前设置并列比较户数、面积、投资和覆盖的县市区。",
        "Save the current settings as a scenario (up to three) and compare households, area, money and "
        "counties side by side with the current settings.",
    ),
    "plan.scenario_name": ("方案名称", "Scenario name"),
    "plan.scenario_default": ("方案{n}", "Scenario {n}"),
    "plan.scenario_save": ("保存为方案", "Save as a scenario"),
    "plan.scenario_clear": ("清空方案", "Clear the scenarios"),
    "plan.scenario_current": ("当前设置", "Current settings"),
    "plan.scenario_full": ("最多保存三个方案；请先清空。", "Up to three scenarios; clear them first."),
    "plan.scenario_none": ("尚未保存方案。", "No scenario saved yet."),
    "plan.cmp.scenario": ("方案", "Scenario"),
    "plan.cmp.settings": ("设置", "Settings"),
    "plan.cmp.status": ("求解状态", "Status"),
    "plan.cmp.budget_wan": ("预算（万元）", "Budget (10k yuan)"),
    "plan.cmp.compounds": ("小区（个）", "Compounds"),
    "plan.cmp.households": ("户数", "Households"),
    "plan.cmp.floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "plan.cmp.net_cost_wan": ("投资（万元）", "Investment (10k yuan)"),
    "plan.cmp.counties": ("覆盖县市区（个）", "Counties"),
    "plan.cmp.d_households": ("户数差", "Δ households"),
    "plan.cmp.d_floor_area_m2": ("面积差（平方米）", "Δ floor area (m²)"),
    "plan.cmp.d_net_cost_wan": ("投资差（万元）", "Δ investment"),
    "plan.cmp.counties_changed": ("县市区变化", "Counties changed"),
    "plan.cmp.added_dropped": ("增/减小区", "Compounds +/−"),
    "plan.status_short.optimal": ("最优", "optimal"),
    "plan.status_short.time_limit": ("达到时限", "time limit"),
    "plan.status_short.infeasible": ("目标未全部满足", "targets not all met"),
    # ------------------------------------------------------------------------------------------ adoption
    "plan.adopt": ("采纳为{year}年度计划", "Adopt as the {year} plan"),
    "plan.adopt_help": (
        "采纳后：入选小区的计划年度设为{year}（计划开工、竣工日期和投资仅补全空缺），成片实施的片区登记为项目，"
        "{year}年度目标任务按本方案写入；一次完成并记入操作日志，可在此或数据管理页撤销。",
        "Adopting sets the chosen compounds' plan year to {year} (planned dates and investment only where "
        "missing), registers areas taken whole as projects and writes the {year} targets from this plan; all in "
        "one step, logged, and undoable here or on the data page.",
    ),
    "plan.adopt_admin_only": ("仅管理员可采纳计划；请先在侧栏登录。", "Only an administrator may adopt a plan; sign in first."),
    "plan.adopt_removed": (
        "{year}年度现有 {n} 个小区不在本方案中，将退回储备库：{names}",
        "{n} compounds now in {year} are not in this plan and go back to the pool: {names}",
    ),
    "plan.adopt_targets_exist": (
        "{year}年度已有目标任务（{source}）。默认保留原目标；勾选下方选项则按本方案替换。",
        "Targets for {year} are already stored ({source}). They are kept unless you tick the option below.",
    ),
    "plan.adopt_replace_targets": ("按本方案替换{year}年度目标任务", "Replace the {year} targets with this plan's"),
    "plan.adopt_stale": (
        "{n} 个入选小区已不再是候选（例如 {id}），请重新编制后再采纳。",
        "{n} chosen compounds are no longer candidates (e.g. {id}); build the plan again before adopting.",
    ),
    "plan.adopt_confirm": ("我已核对上述方案，确认采纳", "I have checked this plan and adopt it"),
    "plan.adopt_button": ("采纳", "Adopt"),
    "plan.adopted": (
        "已采纳为{year}年度计划：{n} 个小区，{projects} 个成片项目；目标任务{targets}。",
        "Adopted as the {year} plan: {n} compounds, {projects} area projects; targets {targets}.",
    ),
    "plan.adopted.targets_written": ("已按本方案写入", "written from this plan"),
    "plan.adopted.targets_kept": ("保留原目标", "kept as they were"),
    "plan.undo": ("撤销本次采纳", "Undo this adoption"),
    "plan.undone": ("已撤销采纳，数据已恢复到采纳前。", "Adoption undone; the data is as it was before."),
    # ------------------------------------------------------------------------------------------ reasons
    # filled with the row's detail (dashboard.views.plan.reason_text): numbers in 万元, unit and measure named
    "plan.reason.built_after_cutoff": ("建成于2005年12月31日之后", "Built after 2005-12-31"),
    "plan.reason.built_year_missing": ("建成年代不详", "Year built unknown"),
    "plan.reason.demolition_planned": ("已列入征收拆除计划", "Planned for demolition"),
    "plan.reason.willingness_below_min": (
        "改造意愿 {willingness_pct:.1f}%，低于 {min_pct:.1f}%", "Willingness {willingness_pct:.1f} %, below {min_pct:.1f} %"),
    "plan.reason.willingness_missing": ("改造意愿未调查", "Willingness not surveyed"),
    "plan.reason.disputed": ("存在争议，待意见统一后再实施", "Disputed; waits until residents agree"),
    "plan.reason.already_planned": ("已列入{plan_year}年度计划", "Already in the {plan_year} plan"),
    "plan.reason.already_started": ("已{status}", "Already {status}"),
    "plan.reason.too_expensive": (
        "单独实施需 {cost_wan:,.0f} 万元，超过预算上限 {limit_wan:,.0f} 万元",
        "Needs {cost_wan:,.0f} alone, more than the budget cap of {limit_wan:,.0f} (10k yuan)"),
    "plan.reason.budget": (
        "预算余额 {remaining_wan:,.0f} 万元，不足其 {cost_wan:,.0f} 万元（差 {short_wan:,.0f} 万元）",
        "{remaining_wan:,.0f} of the budget left, it needs {cost_wan:,.0f} ({short_wan:,.0f} short; 10k yuan)"),
    "plan.reason.budget_displaced": (
        "按排名本可入选，但预算用于完成目标、各县最低份额或得分合计更高的组合（余额 {remaining_wan:,.0f} 万元，不足其 {cost_wan:,.0f} 万元）",
        "The ranking alone would take it, but the budget went to the targets, the counties' minimum shares or "
        "combinations worth more ({remaining_wan:,.0f} left, it needs {cost_wan:,.0f}; 10k yuan)"),
    "plan.reason.county_budget": (
        "{unit}预算余额 {remaining_wan:,.0f} 万元，不足其 {cost_wan:,.0f} 万元",
        "{remaining_wan:,.0f} of {unit}'s budget left, it needs {cost_wan:,.0f} (10k yuan)"),
    "plan.reason.bundle_budget": (
        "须随片区“{bundle_name}”整体实施，共需 {cost_wan:,.0f} 万元，预算余额 {remaining_wan:,.0f} 万元",
        "Goes only with its area “{bundle_name}”: {cost_wan:,.0f} needed, {remaining_wan:,.0f} left (10k yuan)"),
    "plan.reason.no_value": ("优先得分为 0", "Priority score 0"),
    "plan.reason.not_reached": ("求解时限内未选入", "Not reached within the time limit"),
    "plan.reason.needed_for_target": ("完成{unit}{measure}目标所需", "Needed for {unit}'s {measure} target"),
    "plan.reason.needed_for_fair_share": ("保障{unit}最低资金份额所需", "Needed for {unit}'s minimum share"),
    "plan.reason.bundle": (
        "随片区“{bundle_name}”整体实施（节约 {saving_pct:g}%）",
        "With its area “{bundle_name}” as one project ({saving_pct:g} % saved)"),
    "plan.reason.ranking": ("排名第 {rank}，预算内依次入选", "Ranked {rank}, within the budget in rank order"),
    "plan.reason.optimiser": (
        "排名第 {rank}，与其他项目组合更能用足预算", "Ranked {rank}; with the others it makes better use of the budget"),
}

