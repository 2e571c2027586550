"""Labels of the printed handouts (打印版 / 导出 PDF)."""

LABELS: dict[str, tuple[str, str]] = {
    "handout.print": ("打印版 / 导出 PDF", "Print / PDF"),
    "handout.help": ("横版一页，含地图、指标、排名、统计口径与数据来源。",
                     "One landscape page with the map, figures, ranking, period and source."),
    "handout.paper.A4": ("A4 横版 PDF", "A4 landscape PDF"),
    "handout.paper.A3": ("A3 横版 PDF", "A3 landscape PDF"),
    "handout.overview_title": ("济宁市老旧小区改造工作总览", "Jining old compound renovation — overview"),
    "handout.overview_unit_title": ("济宁市老旧小区改造工作总览 · {unit}", "Jining old compound renovation — {unit}"),
    "handout.ranking_title": ("各县（市、区）老旧小区改造进度排名", "Old compound renovation progress by county"),
    "handout.ranking": ("各县（市、区）{indicator}排名", "Counties ranked by {indicator}"),
    "handout.ranked_by": ("排名依据：{indicator}", "Ranked by {indicator}"),
    "handout.made": ("济宁市老旧小区改造工作指挥部办公室 · 打印于 {date}",
                     "Jining old compound renovation HQ office · printed {date}"),
}
