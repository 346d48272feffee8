"""The four sections of the report page, in Chinese with English where it helps.

Each function turns :class:`~linkage.report.build.Figures` into HTML through
:class:`~linkage.report.render.Page` (which collects the chart specs). Wording only: every
number is computed in ``quality``, ``night``, ``fieldwork``, ``history`` or ``model_charts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from linkage.catalog import source_labels, type_labels
from linkage.report import quality, specs
from linkage.report.render import Page, card, count, esc, page_html, records

if TYPE_CHECKING:
    from linkage.report.build import Figures
    from linkage.report.model_charts import ModelSection

ROLE_ZH = {
    "person": "本人",
    "husband": "男方",
    "wife": "女方",
    "child": "新生儿",
    "mother": "母亲",
    "father": "父亲",
}
STATUS_ZH = {
    "open": "待下发 open",
    "sent": "已下发 sent",
    "confirmed": "属实 confirmed",
    "rejected": "不属实 rejected",
    "needs_more_info": "无法核实 needs more info",
    "closed": "已关闭 closed",
}
FIGURE_ZH = {
    "coverage": "户籍覆盖率 coverage",
    "completeness": "基本项完整率 completeness",
    "consistency": "逻辑一致率 consistency",
    "id_validity": "身份证号有效率 ID validity",
    "records": "记录数 records",
    "linked": "已链接 linked",
    "clerical": "待人工复核 clerical",
    "link_rate": "链接率 link rate",
    "open_findings": "未结线索 open findings",
    "rows_in": "读入行数 rows in",
    "rows_quarantined": "隔离行数 quarantined",
    "rows_loaded": "新增记录 new records",
}
NAV = (
    ("night", "今晚 The night"),
    ("model", "模型 The model"),
    ("quality", "数据质量 Data quality"),
    ("fieldwork", "实地核查 Field work"),
)


def _source_zh(source: str | None) -> str:
    return f"{source_labels().get(source or '', source)}"


def _role_label() -> pl.Expr:
    return (
        pl.col("source").replace_strict(source_labels(), default=pl.col("source"))
        + pl.lit("·")
        + pl.col("role").replace_strict(ROLE_ZH, default=pl.col("role"))
    )


def page(fig: Figures, county_name: str) -> str:
    """The whole report page of ``fig``."""
    p = Page()
    body = "\n".join(
        (_headline(fig), _night(p, fig), _models(p, fig), _quality(p, fig), _fieldwork(p, fig))
    )
    title = f"{county_name} 全员人口库比对报告 Population linkage report"
    meta = (
        f"运行 run <b>{esc(fig.run_id)}</b> · 生成 generated {esc(fig.generated_at)} · "
        f"数据载入 ingest {esc(fig.ingest_at or '—')} · 参考日期 as of {esc(fig.as_of)}"
    )
    nav = "".join(f'<a href="#{key}">{label}</a>' for key, label in NAV)
    footer = (
        "指标定义见 Definitions: docs/report.md, linkage/report/quality.py. "
        "本页不含完整身份证号；权重瀑布图和比对查看器显示姓名和脱敏身份证号（前6后4），"
        "仅限数据办内部使用。No whole ID number in this page; its waterfall charts and the "
        "comparison viewers show names and masked IDs (first 6 + last 4) and stay inside "
        "the data office."
    )
    return page_html(
        title=title,
        meta=meta,
        nav=nav,
        body=body,
        footer=footer,
        page=p,
        figures={**figures_json(fig), "chart_ids": p.ids},
    )


def figures_json(fig: Figures) -> dict[str, Any]:
    """Every number of the page, machine-readable (embedded as ``#renkou-figures``)."""
    return {
        "run_id": fig.run_id,
        "generated_at": fig.generated_at.isoformat(),
        "as_of": fig.as_of.isoformat(),
        "ingest_at": fig.ingest_at,
        "headline": records(fig.headline),
        "completeness": records(fig.completeness),
        "consistency": records(fig.consistency),
        "id_validity": records(fig.id_validity),
        "coverage": records(fig.coverage),
        "townships": records(fig.townships),
        "files": records(fig.files),
        "quarantine": records(fig.quarantine),
        "links": records(fig.links),
        "findings_by_type_township": records(fig.findings_by_type_township),
        "findings_by_status": records(fig.findings_by_status),
        "previous_run": fig.previous_run,
        "changes": records(fig.changes),
        "tasks": records(fig.tasks),
        "tasks_target": fig.tasks_target,
        "labels": records(fig.labels),
        "exchange_received": records(fig.exchange_received),
        "exchange_sent": records(fig.exchange_sent),
        "exchange_target": fig.exchange_target,
        "models": [
            {
                "source": m.source,
                "version": m.version,
                "trained_at": m.trained_at,
                "charts": sorted(m.charts),
                "waterfall_shown": m.shown,
                "waterfall_totals": m.totals,
                "viewer_file": m.viewer_file,
                "viewer_pairs": m.viewer_pairs,
                "exact_links": m.exact_links,
                "problem": m.problem,
                "check": m.check,
            }
            for m in fig.models
        ],
    }


# ----------------------------------------------------------------------------- headline


def _headline(fig: Figures) -> str:
    cards = []
    for row in fig.headline.iter_rows(named=True):
        detail = f"{count(row['numerator'])} / {count(row['denominator'])}"
        cards.append(card(row["label"], row["value"], row["target"], detail))
    return f'<div class="cards">{"".join(cards)}</div>'


# ----------------------------------------------------------------------------- the night


def _night(p: Page, fig: Figures) -> str:
    out = ['<section id="night"><h2>今晚 <span class="en">The night</span></h2>']
    out.append(_changes(fig))
    files = fig.files.with_columns(
        pl.col("source")
        .replace_strict(source_labels(), default=pl.col("source"))
        .alias("source_zh")
    )
    out.append("<h3>载入文件 <span class='en'>Files loaded tonight</span></h3>")
    out.append(
        p.table(
            files,
            [
                ("source_zh", "来源 source", "text"),
                ("files", "文件 files", "int"),
                ("files_rejected", "拒收 rejected", "int"),
                ("rows_in", "读入 rows in", "int"),
                ("rows_loaded", "新增 new", "int"),
                ("rows_updated", "更新 updated", "int"),
                ("rows_unchanged", "未变 unchanged", "int"),
                ("rows_quarantined", "隔离 quarantined", "int"),
                ("rows_with_issues", "有警告 with issues", "int"),
                ("records_now", "现有记录 records now", "int"),
            ],
            empty="今晚没有载入文件 no file was loaded",
        )
    )
    quarantine = fig.quarantine.with_columns(
        pl.col("source")
        .replace_strict(source_labels(), default=pl.col("source"))
        .alias("source_zh")
    )
    out.append("<h3>隔离原因 <span class='en'>Quarantined rows by reason</span></h3>")
    out.append(
        '<p class="note">一行违反两条规则时两处都计数 '
        "(a row breaking two rules counts under both).</p>"
    )
    out.append(
        p.table(
            quarantine,
            [
                ("source_zh", "来源 source", "text"),
                ("reason", "原因 reason", "text"),
                ("rows", "行数 rows", "int"),
            ],
            empty="今晚没有隔离行 no row was quarantined",
        )
    )
    out.append(_links(p, fig))
    out.append(_findings(p, fig))
    if fig.runs is not None:
        out.append("<h3>最近运行 <span class='en'>Recent runs</span></h3>")
        out.append(_runs(p, fig.runs))
    out.append("</section>")
    return "\n".join(out)


#: the run table: column of ``runs`` → heading and kind (the other columns stay in the table)
RUN_COLUMNS = (
    ("run_id", "运行 run", "text"),
    ("started", "开始 started", "text"),
    ("outcome", "结果 outcome", "text"),
    ("mode", "方式 mode", "text"),
    ("seconds", "用时(秒) seconds", "num"),
    ("files", "文件 files", "int"),
    ("rows_loaded", "新增行 rows loaded", "int"),
    ("rows_quarantined", "隔离行 quarantined", "int"),
    ("records_scored", "比对记录 scored", "int"),
    ("links", "链接 links", "int"),
    ("clerical", "待人工 clerical", "int"),
    ("findings_new", "新线索 new cases", "int"),
    ("findings_open", "未结线索 open cases", "int"),
    ("failed_stage", "失败环节 failed stage", "text"),
)
RUN_OUTCOMES = {
    "succeeded": "成功 succeeded",
    "partial": "部分成功 partial",
    "failed": "失败 failed",
    "interrupted": "中断 interrupted",
    "running": "运行中 running",
}


def _runs(p: Page, runs: pl.DataFrame) -> str:
    """The last runs with Chinese headings: outcome, timings and counts (no raw JSON)."""
    frame = runs.with_columns(
        (
            pl.col("started_at").cast(pl.String).str.slice(0, 16)
            if "started_at" in runs.columns
            else pl.lit(None, pl.String)
        ).alias("started"),
        (
            pl.col("status").replace(RUN_OUTCOMES)
            if "status" in runs.columns
            else pl.lit(None, pl.String)
        ).alias("outcome"),
    )
    columns = [c for c in RUN_COLUMNS if c[0] in frame.columns]
    return p.table(frame, columns)


def _changes(fig: Figures) -> str:
    head = "<h3>与上次运行相比 <span class='en'>Change since the previous run</span></h3>"
    if fig.previous_run is None or fig.changes is None:
        return head + (
            '<p class="note">首次运行，没有可比较的上次运行 '
            "(first run: nothing to compare with).</p>"
        )
    changes = fig.changes.filter(~pl.col("figure").str.starts_with("township_")).with_columns(
        pl.col("figure").replace_strict(FIGURE_ZH, default=pl.col("figure")).alias("label")
    )
    changes = changes.with_columns(
        pl.when(pl.col("figure") == "open_findings")
        .then(pl.col("scope").replace_strict(type_labels(), default=pl.col("scope")))
        .otherwise(pl.col("scope"))
        .alias("scope")
    )
    moved = changes.filter(pl.col("change").fill_null(1) != 0)
    note = (
        f'<p class="note">上次运行 previous run: <b>{esc(fig.previous_run)}</b>；'
        f"下表只列出有变化的指标 (only figures that changed; "
        f"{changes.height - moved.height} unchanged).</p>"
    )
    return (
        head
        + note
        + Page().table(
            moved,
            [
                ("label", "指标 figure", "text"),
                ("scope", "范围 scope", "text"),
                ("previous", "上次 previous", "num"),
                ("current", "本次 now", "num"),
                ("change", "变化 change", "signed"),
            ],
            empty="没有变化 nothing changed",
        )
    )


def _links(p: Page, fig: Figures) -> str:
    out = ["<h3>链接 <span class='en'>Links per source and role</span></h3>"]
    links = fig.links.with_columns(_role_label().alias("label"))
    if not links.is_empty():
        long = links.select(
            "label",
            pl.col("exact").alias("身份证号+姓名一致 exact"),
            pl.col("model").alias("模型 model"),
            pl.col("newborn").alias("新生儿 newborn"),
            pl.col("clerical").alias("待复核 clerical"),
            (pl.col("records") - pl.col("linked") - pl.col("clerical"))
            .clip(0)
            .alias("未链接 not linked"),
        ).unpivot(index="label", variable_name="how", value_name="records")
        order = [
            "身份证号+姓名一致 exact",
            "模型 model",
            "新生儿 newborn",
            "待复核 clerical",
            "未链接 not linked",
        ]
        out.append(
            p.chart(
                specs.stacked_bars(
                    long,
                    "label",
                    "records",
                    "how",
                    title="记录去向 where the records went",
                    category_title="来源·角色 source·role",
                    value_title="占比 share",
                    color_title="方式 how",
                    normalize=True,
                    color_order=order,
                )
            )
        )
    out.append(
        p.table(
            links,
            [
                ("label", "来源·角色 source·role", "text"),
                ("records", "记录 records", "int"),
                ("linked", "已链接 linked", "int"),
                ("exact", "其中精确 exact", "int"),
                ("model", "其中模型 model", "int"),
                ("newborn", "其中新生儿 newborn", "int"),
                ("clerical", "待复核 clerical", "int"),
                ("link_rate", "链接率 link rate", "pct"),
            ],
            empty="尚未运行比对 linkage has not run",
        )
    )
    return "\n".join(out)


def _findings(p: Page, fig: Figures) -> str:
    out = ["<h3>线索 <span class='en'>Findings (not closed) by type and township</span></h3>"]
    tt = fig.findings_by_type_township.with_columns(
        pl.col("finding_type")
        .replace_strict(type_labels(), default=pl.col("finding_type"))
        .alias("type_zh")
    )
    if not tt.is_empty():
        out.append(
            p.chart(
                specs.heatmap(
                    tt,
                    "township",
                    "type_zh",
                    "findings",
                    title="线索分布 findings per township",
                    x_title="乡镇 township",
                    y_title="类型 type",
                    value_title="线索 findings",
                )
            )
        )
    status = fig.findings_by_status.with_columns(
        pl.col("finding_type")
        .replace_strict(type_labels(), default=pl.col("finding_type"))
        .alias("type_zh"),
        pl.col("status").replace_strict(STATUS_ZH, default=pl.col("status")).alias("status_zh"),
    )
    out.append(
        p.table(
            status,
            [
                ("type_zh", "类型 type", "text"),
                ("status_zh", "状态 status", "text"),
                ("findings", "线索 findings", "int"),
            ],
            caption="按状态 by status (closed included)",
            empty="尚无线索 no findings yet",
        )
    )
    return "\n".join(out)


# ----------------------------------------------------------------------------- the model


def _models(p: Page, fig: Figures) -> str:
    out = [
        '<section id="model"><h2>模型 <span class="en">The model</span></h2>',
        '<p class="note">每个来源一个 Splink 模型（全员人口库去重一个）。瀑布图说明每一对记录的'
        "匹配权重由哪些比较构成 (a waterfall shows how each comparison adds up to the "
        "match weight of a pair).</p>",
    ]
    if not fig.models:
        out.append(
            '<p class="note">没有模型图表 no model charts (linkage has not run, or the '
            "report was built without them).</p>"
        )
    for i, m in enumerate(fig.models):  # the first open, the others one click away
        out.append(_model(p, m, opened=i == 0))
    out.append(
        "<h3>实地核查结果与匹配概率 <span class='en'>Field answers by match probability</span></h3>"
    )
    if fig.labels is None:
        out.append('<p class="note">尚无实地核查结果 no answers from the field yet.</p>')
    else:
        out.append(p.chart(specs.label_bands(fig.labels, title="核查结果 field answers")))
        labels = fig.labels.with_columns(
            pl.col("finding_type")
            .replace_strict(type_labels(), default=pl.col("finding_type"))
            .alias("type_zh")
        )
        out.append(
            p.table(
                labels,
                [
                    ("type_zh", "类型 type", "text"),
                    ("probability_band", "概率 band", "text"),
                    ("confirmed", "属实 confirmed", "int"),
                    ("rejected", "不属实 rejected", "int"),
                    ("unverifiable", "无法核实 unverifiable", "int"),
                    ("confirmation_rate", "属实率 confirmation rate", "pct"),
                ],
            )
        )
    out.append(_review(p, fig))
    out.append("</section>")
    return "\n".join(out)


def _review(p: Page, fig: Figures) -> str:
    """人工复核: the analyst's decisions on clerical pairs, by whom, agreement with the model."""
    out = ["<h3>人工复核 <span class='en'>Analyst review of the clerical band</span></h3>"]
    if fig.review is None:
        out.append(
            '<p class="note">尚无人工复核判定 no analyst decisions yet '
            "(<code>renkou review export</code>, <code>renkou review import</code>).</p>"
        )
        return "\n".join(out)
    out.append(
        '<p class="note">与模型一致：分析员的判定与模型的倾向相同的比例（概率 ≥ 0.5 倾向同一人）。'
        "Agreement: the share of decided pairs where the analyst chose the model's best guess "
        "(a match at probability ≥ 0.5). 判定在下一次运行时生效 decisions apply on the next night."
        "</p>"
    )
    out.append(
        p.table(
            fig.review,
            [
                ("operator", "操作员 operator", "text"),
                ("name", "姓名 name", "text"),
                ("decided", "已判定 decided", "int"),
                ("match", "同一人 match", "int"),
                ("non_match", "不是同一人 non-match", "int"),
                ("skip", "跳过 skipped", "int"),
                ("agreement", "与模型一致 agreement", "pct"),
            ],
        )
    )
    return "\n".join(out)


def _model(p: Page, m: ModelSection, *, opened: bool) -> str:
    name = (
        "全员人口库去重 base dedupe"
        if m.source == "population"
        else f"{_source_zh(m.source)} {m.source}"
    )
    out = [
        f'<details class="model"{" open" if opened else ""}><summary>{esc(name)} — 模型 model '
        f"{esc(m.version or '—')}，训练于 trained {esc(m.trained_at or '—')}</summary>"
    ]
    if m.problem:
        out.append(f'<p class="note warn">图表未生成 charts not made: {esc(m.problem)}</p>')
    rows = m.meta.get("rows") or {}
    facts = [
        f"链接阈值 link threshold: 概率 p ≥ {m.match_probability}"
        if m.match_probability is not None
        else None,
        f"人工复核 clerical: p ≥ {m.clerical_probability}"
        if m.clerical_probability is not None
        else None,
        "训练数据 trained on: " + ", ".join(f"{count(int(v))} rows" for v in rows.values())
        if rows
        else None,
        f"精确链接（不经模型）exact links (no model weight): {count(m.exact_links)}"
        if m.source != "population"
        else None,
    ]
    out.append('<p class="note">' + " · ".join(esc(f) for f in facts if f) + "</p>")
    out.append(_model_check(p, m))
    for key in ("match_weights", "m_u"):  # wide charts: one per row
        if key in m.charts:
            out.append(p.chart(m.charts[key], key=f"{m.source}/{key}"))
    if not m.weights.is_empty():
        threshold = specs.probability_to_weight(m.match_probability)
        clerical = specs.probability_to_weight(m.clerical_probability)
        out.append(
            p.chart(
                key=f"{m.source}/histogram",
                spec=specs.weight_histogram(
                    m.weights,
                    title="今晚决定所依据的匹配权重 match weights behind tonight's decisions",
                    threshold_weight=threshold,
                    clerical_weight=clerical,
                ),
            )
        )
    for kind, title in (
        ("near_threshold", "最接近阈值的模型链接 model links nearest the threshold"),
        ("clerical", "待人工复核的配对 clerical pairs"),
    ):
        total = m.totals.get(kind)
        if total is None:
            continue
        out.append(f"<h4>{title}</h4>")
        shown = m.shown.get(kind, 0)
        if not total:
            out.append('<p class="note">无 none tonight.</p>')
            continue
        cap = (
            "（最弱的前 {n} 个 the weakest {n}）"
            if kind == "near_threshold"
            else "（按权重取前 {n} 个 the strongest {n}）"
        ).format(n=shown)
        note = (
            f"共 {count(total)} 对，显示 {shown} 对{cap if shown < total else ''}"
            f" — {shown} of {count(total)} pairs shown; 用滑块切换 use the slider to step "
            f"through them."
        )
        key = f"waterfall_{kind}"
        out.append(
            p.chart(m.charts[key], note=esc(note), key=f"{m.source}/{key}")
            if key in m.charts
            else f'<p class="note">{esc(note)}</p>'
        )
    if m.viewer_file:
        out.append(
            f'<p><a href="{esc(m.viewer_file)}">打开比对查看器 open the comparison '
            f'viewer</a> <span class="note">（{m.viewer_pairs} 对，含姓名和脱敏身份证号 '
            f"{m.viewer_pairs} pairs with names and masked IDs; a separate file next "
            f"to this report）</span></p>"
        )
    out.append("</details>")
    return "\n".join(out)


#: why the model check flagged a level (``linkage.link.check.FLAGS``)
CHECK_FLAG_ZH = {
    "m_unsupported": "m 支持不足 too few pairs behind m",
    "u_unsupported": "u 支持不足 too few pairs behind u",
    "unstable": "权重随种子变化 weight moves across seeds",
    "saved_outside": "模型在区间外 saved model outside the interval",
}


def _probability(p: dict[str, Any]) -> str:
    """``0.959 [0.941, 0.959]``; a fixed or floored value says so."""
    if p["saved"] is None:
        return "—"
    text = f"{p['saved']:.3g}"
    if p.get("fixed"):
        return text + " 固定 fixed"
    if p.get("interval"):
        text += f" [{p['interval'][0]:.3g}, {p['interval'][1]:.3g}]"
    return text + (" 下限 floor" if p.get("floor") else "")


def _bits(w: dict[str, Any]) -> str:
    if w["saved"] is None:
        return "—"
    low_high = w.get("interval")
    bounds = f" [{low_high[0]:+.1f}, {low_high[1]:+.1f}]" if low_high else ""
    return f"{w['saved']:+.1f}{bounds}"


def _model_check(p: Page, m: ModelSection) -> str:
    """The table of the last ``renkou model check`` of the model, or how to run one."""
    title = (
        "<h4>模型检查 <span class='en'>Model check: m, u and weights with their "
        "intervals</span></h4>"
    )
    check = m.check
    if check is None:
        return (
            f'{title}<p class="note">尚未检查 no model check yet. Run '
            "<code>renkou --home HOME model check</code> (offline, minutes; not part of the "
            "night): every level's m, u and weight with an interval over re-trainings, the "
            "pairs behind them and their stability across seeds (docs/model.md).</p>"
        )
    settings = check["settings"]
    note = (
        f"检查于 checked {esc(check['checked_at'])}，模型 model {esc(check['model_version'])}："
        f"{settings['seeds']} 个种子 seeds + {settings['resamples']} 次重抽样 resamples of "
        f"{settings['resample_share']:.0%} of the records; interval = quantiles "
        f"{settings['interval'][0]:g}–{settings['interval'][1]:g} of the runs; support = "
        f"pairs behind m (matches EM counted) / u (non-matches sampled), flagged below "
        f"{settings['min_support']}; weights moving more than "
        f"{settings['max_weight_spread']:g} bits across seeds flagged."
    )
    out = [title, f'<p class="note">{note}</p>']
    if check["model_version"] != m.version:
        out.append(
            f'<p class="note warn">此检查针对旧模型 this check is of model '
            f"{esc(check['model_version'])}, the run used {esc(m.version)}: run "
            "<code>renkou model check</code> again.</p>"
        )
    rows = pl.DataFrame(
        [
            {
                "level": f"{lv['comparison']} / {lv['level']}",
                "label": lv["label"],
                "m": _probability(lv["m"]),
                "u": _probability(lv["u"]),
                "weight": _bits(lv["weight"]),
                "spread": lv["weight_spread_seeds"],
                "m_support": lv["m_support"],
                "u_support": lv["u_support"],
                "flags": "；".join(CHECK_FLAG_ZH.get(f, f) for f in lv["flags"]) or "—",
                "fix": lv["fix"] or "",
            }
            for lv in check["levels"]
        ],
        schema={
            "level": pl.String,
            "label": pl.String,
            "m": pl.String,
            "u": pl.String,
            "weight": pl.String,
            "spread": pl.Float64,
            "m_support": pl.Float64,
            "u_support": pl.Float64,
            "flags": pl.String,
            "fix": pl.String,
        },
    )
    flagged = check["flagged"]
    out.append(
        f'<p class="note{" warn" if flagged else ""}">'
        f"{flagged} 个级别被标记 levels flagged of {len(check['levels'])}.</p>"
    )
    out.append(
        p.table(
            rows,
            [
                ("level", "比较/级别 level", "text"),
                ("label", "说明 label", "text"),
                ("m", "m [区间 interval]", "text"),
                ("u", "u [区间 interval]", "text"),
                ("weight", "权重 weight, bits [区间]", "text"),
                ("spread", "种子间变化 spread, bits", "num"),
                ("m_support", "m 支持 pairs", "int"),
                ("u_support", "u 支持 pairs", "int"),
                ("flags", "标记 flags", "text"),
                ("fix", "处理 fix", "text"),
            ],
        )
    )
    return "\n".join(out)


# ----------------------------------------------------------------------------- quality


def _quality(p: Page, fig: Figures) -> str:
    out = [
        '<section id="quality"><h2>数据质量 <span class="en">Data quality of the base</span></h2>',
        '<p class="note">对象：全员人口库中人员状态为“正常”的人员 (active base persons). '
        "定义见 definitions: docs/report.md.</p>",
    ]
    out.append(
        p.table(
            fig.headline,
            [
                ("label", "指标 figure", "text"),
                ("value", "数值 value", "pct"),
                ("numerator", "分子 numerator", "int"),
                ("denominator", "分母 denominator", "int"),
                ("target", "目标 target", "pct"),
                ("meets_target", "达标 meets target", "bool"),
            ],
        )
    )
    comp = fig.completeness
    cons = fig.consistency
    out.append('<div class="grid"><div>')
    out.append("<h3>基本项完整率 <span class='en'>Completeness per item</span></h3>")
    out.append(
        p.chart(
            specs.rate_bars(
                comp,
                "item_zh",
                "rate",
                title="完整率 completeness",
                target=quality.QUALITY_TARGET,
                category_title="数据项 item",
                sort_by_rate=False,
            )
        )
    )
    out.append(
        p.table(
            comp,
            [
                ("item_zh", "数据项 item", "text"),
                ("persons", "人数 persons", "int"),
                ("valid", "有效 valid", "int"),
                ("rate", "完整率 rate", "pct"),
            ],
            targets={"rate": quality.QUALITY_TARGET},
        )
    )
    out.append("</div><div>")
    out.append("<h3>逻辑一致率 <span class='en'>Logical consistency per rule</span></h3>")
    out.append(
        p.chart(
            specs.rate_bars(
                cons.filter(pl.col("checked") > 0),
                "rule_zh",
                "rate",
                title="一致率 consistency",
                target=quality.QUALITY_TARGET,
                category_title="规则 rule",
                sort_by_rate=False,
            )
        )
    )
    out.append(
        p.table(
            cons,
            [
                ("rule_zh", "规则 rule", "text"),
                ("checked", "适用 checked", "int"),
                ("passed", "通过 passed", "int"),
                ("rate", "一致率 rate", "pct"),
            ],
            targets={"rate": quality.QUALITY_TARGET},
        )
    )
    out.append("</div></div>")
    out.append('<div class="grid"><div>')
    out.append("<h3>户籍覆盖 <span class='en'>Coverage of 户籍</span></h3>")
    out.append(
        p.table(
            fig.coverage,
            [
                ("hukou_active", "户籍正常人口 active 户籍", "int"),
                ("linked", "已入库 linked to the base", "int"),
                ("rate", "覆盖率 coverage", "pct"),
            ],
            targets={"rate": quality.COVERAGE_TARGET},
            empty="未载入户籍数据 no 户籍 data loaded",
        )
    )
    out.append("</div><div>")
    out.append("<h3>身份证号有效率 <span class='en'>ID validity</span></h3>")
    out.append(
        p.table(
            fig.id_validity,
            [
                ("persons", "人数 persons", "int"),
                ("with_id", "有号码 with an ID", "int"),
                ("valid", "有效 valid", "int"),
                ("rate", "有效率 rate", "pct"),
            ],
        )
    )
    out.append("</div></div>")
    out.append(_trend(p, fig))
    out.append(_townships(p, fig))
    out.append("</section>")
    return "\n".join(out)


def _trend(p: Page, fig: Figures) -> str:
    head = "<h3>历次运行趋势 <span class='en'>Trend across runs</span></h3>"
    if fig.trend is None or fig.trend.is_empty():
        return head + '<p class="note">尚无历史 no history yet.</p>'
    frame = fig.trend.with_columns(
        pl.col("figure").replace_strict(FIGURE_ZH, default=pl.col("figure")).alias("label"),
        pl.col("run_id").alias("run"),
    )
    runs = frame["run"].n_unique()
    note = (
        "首次运行：以后每次运行增加一个点 first run: each run adds a point."
        if runs == 1
        else f"最近 {runs} 次运行 the last {runs} runs."
    )
    targets = {
        "覆盖率目标 coverage target 95 %": quality.COVERAGE_TARGET,
        "完整率/一致率目标 quality target 90 %": quality.QUALITY_TARGET,
    }
    return head + p.chart(
        specs.trend_lines(frame, title="主要指标 headline figures", targets=targets), note=esc(note)
    )


def _townships(p: Page, fig: Figures) -> str:
    out = [
        "<h3>各乡镇排名 <span class='en'>Townships, weakest first</span></h3>",
        '<p class="note">按未达标项数、再按最低比率排序 ranked by targets missed, then by '
        "the lowest rate; 红色为未达标 red = below target.</p>",
    ]
    t = fig.townships
    out.append(
        p.table(
            t,
            [
                ("rank", "排名 rank", "int"),
                ("township", "乡镇 township", "text"),
                ("persons", "人数 persons", "int"),
                ("coverage", "覆盖率 coverage", "pct"),
                ("completeness", "完整率 completeness", "pct"),
                ("consistency", "一致率 consistency", "pct"),
                ("id_validity", "身份证号有效率 ID validity", "pct"),
                ("targets_missed", "未达标项 targets missed", "int"),
            ],
            targets={
                "coverage": quality.COVERAGE_TARGET,
                "completeness": quality.QUALITY_TARGET,
                "consistency": quality.QUALITY_TARGET,
            },
        )
    )
    grid = []
    for col, title, target in (
        ("coverage", "覆盖率 coverage", quality.COVERAGE_TARGET),
        ("completeness", "完整率 completeness", quality.QUALITY_TARGET),
        ("consistency", "一致率 consistency", quality.QUALITY_TARGET),
    ):
        part = t.filter(pl.col(col).is_not_null())
        if not part.is_empty():
            grid.append(
                p.chart(
                    specs.rate_bars(
                        part,
                        "township",
                        col,
                        title=title,
                        target=target,
                        category_title="乡镇 township",
                    )
                )
            )
    out.append('<div class="grid">' + "".join(f"<div>{g}</div>" for g in grid) + "</div>")
    return "\n".join(out)


# ----------------------------------------------------------------------------- field work


def _fieldwork(p: Page, fig: Figures) -> str:
    out = ['<section id="fieldwork"><h2>实地核查 <span class="en">Field work</span></h2>']
    if fig.tasks is None:
        out.append(
            '<p class="note">尚未下发核查任务 no task lists sent yet '
            "(<code>renkou tasks export</code>).</p>"
        )
        out.append(_exchange(p, fig))
        out.append("</section>")
        return "\n".join(out)
    tasks = fig.tasks
    per = tasks.filter(pl.col("township") != "合计")
    total = tasks.filter(pl.col("township") == "合计")
    if total.height:
        row = total.row(0, named=True)
        out.append(
            '<div class="cards">'
            + card(
                "反馈率 feedback rate",
                row["feedback_rate"],
                fig.tasks_target,
                f"{count(row['returned'])} / {count(row['sent'])}",
            )
            + card(
                "属实率 confirmation rate",
                row["confirmation_rate"],
                None,
                f"{count(row['confirmed'])} 属实 / {count(row['rejected'])} 不属实",
            )
            + f'<div class="card"><div class="label">逾期未反馈 overdue</div>'
            f'<div class="value">{count(row["overdue"])}</div>'
            f'<div class="target">截至 as of {esc(fig.as_of)}</div></div></div>'
        )
    if not per.is_empty():
        out.append(
            p.chart(
                specs.rate_bars(
                    per.filter(pl.col("feedback_rate").is_not_null()),
                    "township",
                    "feedback_rate",
                    title="各乡镇反馈率 feedback rate per township",
                    target=fig.tasks_target,
                    category_title="乡镇 township",
                )
            )
        )
    out.append(
        p.table(
            tasks,
            [
                ("township", "乡镇 township", "text"),
                ("sent", "下发 sent", "int"),
                ("withdrawn", "已撤回 withdrawn", "int"),
                ("returned", "已反馈 returned", "int"),
                ("on_time", "按时 on time", "int"),
                ("pending", "未到期 pending", "int"),
                ("overdue", "逾期 overdue", "int"),
                ("feedback_rate", "反馈率 feedback rate", "pct"),
                ("confirmed", "属实 confirmed", "int"),
                ("rejected", "不属实 rejected", "int"),
                ("confirmation_rate", "属实率 confirmation rate", "pct"),
            ],
            targets={"feedback_rate": fig.tasks_target},
        )
    )
    out.append(_exchange(p, fig))
    out.append("</section>")
    return "\n".join(out)


def _exchange(p: Page, fig: Figures) -> str:
    """跨县协查: queries received and sent per cycle and county, feedback against the target."""
    out = ['<h3>跨县协查 <span class="en">Cross-county queries</span></h3>']
    if fig.exchange_received is None and fig.exchange_sent is None:
        out.append(
            '<p class="note">尚无协查 no queries sent or received yet '
            "(<code>renkou exchange export|import</code>).</p>"
        )
        return "\n".join(out)
    target = {"feedback_rate": fig.exchange_target}
    if fig.exchange_received is not None:
        out.append("<h4>外县来函 queries received (our feedback)</h4>")
        out.append(
            p.table(
                fig.exchange_received,
                [
                    ("cycle", "周期 cycle", "text"),
                    ("from_county", "发起地 asking county", "text"),
                    ("received", "收到 received", "int"),
                    ("answered", "已反馈 answered", "int"),
                    ("visiting", "入户核实中 visiting", "int"),
                    ("waiting", "未反馈 waiting", "int"),
                    ("feedback_rate", "反馈率 feedback rate", "pct"),
                ],
                targets=target,
            )
        )
    if fig.exchange_sent is not None:
        overdue = int(fig.exchange_sent["overdue"].sum())
        out.append("<h4>本县发函 queries sent (their feedback)</h4>")
        if overdue:
            out.append(
                f'<p class="note">逾期未反馈 overdue: {count(overdue)} queries past their '
                "反馈期限 (<code>renkou exchange status</code>).</p>"
            )
        out.append(
            p.table(
                fig.exchange_sent,
                [
                    ("cycle", "周期 cycle", "text"),
                    ("to_county", "目标地 county asked", "text"),
                    ("sent", "发出 sent", "int"),
                    ("answered", "已反馈 answered", "int"),
                    ("in_time", "按期 in time", "int"),
                    ("overdue", "逾期 overdue", "int"),
                    ("waiting", "未到期 waiting", "int"),
                    ("feedback_rate", "反馈率 feedback rate", "pct"),
                ],
                targets=target,
            )
        )
    return "\n".join(out)
