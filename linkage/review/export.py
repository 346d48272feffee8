"""``renkou review export``: the open clerical pairs as an offline HTML page or an Excel
workbook, for the analyst to decide.

One file, a part per source (a section of the page, a sheet of the workbook; ``source``
restricts it to one), the pairs in the order of :mod:`linkage.review.pairs` (what a decision
would change most first). Each pair shows its key, what deciding it would change, the model's
probability and weight, the source record beside the base person field by field, and its
waterfall (prior and each comparison's partial match weight). ID numbers are masked as in
every file that leaves the database (``[privacy]``); names stay — the analyst judges on them.

How the answer comes back:

- the **workbook**: the cell 判定 of each pair's first row (a drop-down: 同一人 match,
  不是同一人 non_match, 跳过 skip), read back by ``renkou review import``;
- the **page**: each pair has three radio buttons; the button 保存判定 writes
  ``review-decisions.csv`` (columns ``pair_key,decision``) through a ``data:`` URL — no
  server, no network — and ``renkou review import`` reads that file.

Every export is recorded (``review_exports``, with the file's SHA-256) and is an audit entry.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from linkage import tables
from linkage.audit import AuditLog, file_sha256
from linkage.catalog import source_zh
from linkage.cells import neutral
from linkage.errors import RenkouError
from linkage.review.pairs import impact_zh, open_pairs, sides, waterfalls
from linkage.standardise.ids import mask_id, mask_ids_in_text
from linkage.store import Store

#: what the analyst chooses, as the workbook's drop-down and the page's buttons say it
CHOICES = {"match": "同一人 match", "non_match": "不是同一人 non_match", "skip": "跳过 skip"}
#: the header of the decision cell in the workbook, and its column (1-based)
DECISION_HEADER = "判定"
DECISION_COLUMN = 6
KEY_HEADER = "配对编号"
FORMATS = (".html", ".xlsx")


@dataclass
class ReviewExport:
    """What one export wrote."""

    path: Path
    export_id: str
    pairs: dict[str, int] = field(default_factory=dict)  # source → pairs


def _masker(store: Store) -> tuple[Any, Any]:
    s = store.settings

    def one(value: str) -> str:
        if not value:
            return value
        frame = pl.DataFrame({"v": [value]})
        return str(frame.select(mask_id(pl.col("v"), s.mask_keep_head, s.mask_keep_tail))[0, 0])

    def text(value: str) -> str:
        if not value:
            return value
        frame = pl.DataFrame({"v": [value]})
        expr = mask_ids_in_text(pl.col("v"), s.mask_keep_head, s.mask_keep_tail)
        return str(frame.select(expr)[0, 0])

    return one, text


def review_items(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    """The open pairs with everything a file shows of them, IDs masked, in review order."""
    pairs = open_pairs(store, source)
    if pairs.is_empty():
        return []
    fields, falls = sides(store, pairs), waterfalls(store, pairs)
    mask_one, mask_text = _masker(store)
    items = []
    for pair in pairs.iter_rows(named=True):
        key = pair["pair_key"]
        shown = [
            (
                label,
                mask_one(rec) if label == "身份证号" else mask_text(rec),
                mask_one(base) if label == "身份证号" else mask_text(base),
            )
            for label, rec, base in fields.get(key, [])
        ]
        items.append(
            {
                **pair,
                "impact": impact_zh(pair),
                "fields": shown,
                "waterfall": falls.get(key, []),
            }
        )
    return items


def export_review(
    store: Store, out: Path, *, operator: str, source: str | None = None
) -> ReviewExport:
    """Write the open clerical pairs to ``out`` (``.html`` or ``.xlsx``); record and audit it.

    Raises:
        RenkouError: ``out`` is neither format, or the link stage never ran.
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise RenkouError(
            f"{out.name}: renkou writes the review as an HTML page or an Excel workbook. "
            "Fix: name the file FILE.html or FILE.xlsx"
        )
    if not store.has_table("clerical"):
        raise RenkouError(
            f"{store.home} has no clerical pairs yet. Fix: run the link stage first "
            "(renkou link, or a night: renkou run)"
        )
    items = review_items(store, source)
    export_id = f"R{dt.datetime.now():%Y%m%d%H%M%S%f}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        out.write_text(_page(store, items, export_id), "utf-8")
    else:
        _workbook(out, items, export_id)
    result = ReviewExport(out, export_id)
    for item in items:
        result.pairs[item["source"]] = result.pairs.get(item["source"], 0) + 1
    digest = file_sha256(out)
    tables.ensure(store.con, "review")
    store.con.execute(
        f"INSERT INTO {tables.REVIEW_EXPORTS} VALUES (?, ?, ?, ?, ?, ?, current_timestamp, ?)",
        [export_id, out.name, digest, suffix[1:], source, len(items), operator],
    )
    AuditLog.for_home(store.home).append(
        "review.export",
        details={
            "export_id": export_id,
            "file": out.name,
            "sha256": digest,
            "format": suffix[1:],
            "source": source,
            "pairs": result.pairs,
        },
    )
    return result


def _by_source(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        grouped.setdefault(item["source"], []).append(item)
    return grouped


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


# ------------------------------------------------------------------ the page
_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.2em;border-bottom:2px solid #446;margin-top:1.5em}
.pair{border:1px solid #bbb;border-radius:4px;padding:.6em 1em;margin:1em 0;
      page-break-inside:avoid}
.head{display:flex;gap:1.5em;flex-wrap:wrap;align-items:baseline}
.key{font-family:monospace;font-weight:bold} .impact{color:#a33}
table{border-collapse:collapse;margin:.4em 0} td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#eef} .same{color:#777} .diff{background:#fff3cd}
.wf td.w{text-align:right;font-family:monospace} .pos{color:#262} .neg{color:#a22}
.bar{display:inline-block;height:.8em} .choice label{margin-right:1em}
#save{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc}
"""
_SCRIPT = """
function saveDecisions(){
  var rows=["pair_key,decision,export_id"];
  document.querySelectorAll(".pair").forEach(function(p){
    var c=p.querySelector("input[type=radio]:checked");
    if(c){rows.push(p.dataset.key+","+c.value+","+document.body.dataset.export);}
  });
  var a=document.createElement("a");
  a.href="data:text/csv;charset=utf-8,"+encodeURIComponent("\\ufeff"+rows.join("\\r\\n")+"\\r\\n");
  a.download="review-decisions.csv";
  document.body.appendChild(a);a.click();a.remove();
  document.getElementById("saved").textContent=(rows.length-1)+" 条判定已保存 decisions saved";
}
"""


def _page(store: Store, items: list[dict[str, Any]], export_id: str) -> str:
    esc = html.escape
    county = store.settings.county_name
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{esc(county)} 人工复核 clerical review {export_id}</title>",
        f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head>",
        f"<body data-export='{export_id}'>",
        f"<h1>{esc(county)} 待人工复核的配对 clerical pairs for review</h1>",
        "<p>每一对：左为部门记录，右为人口库人员；判定后点“保存判定”，把下载的 "
        "review-decisions.csv 交 <code>renkou review import</code> 导入。 Decide each pair, "
        "press the button, import the downloaded file with <code>renkou review import</code>. "
        "排序：判定影响越大越靠前 (ordered by how much a decision changes the findings).</p>",
        "<div id='save'><button type='button' onclick='saveDecisions()'>保存判定 save "
        f"decisions</button> <span id='saved'></span> · 批次 export {export_id} · "
        f"{len(items)} 对 pairs</div>",
    ]
    if not items:
        parts.append("<p>没有待复核的配对 no open pairs.</p>")
    for source, group in _by_source(items).items():
        parts.append(f"<h2>{esc(source_zh(source))} {esc(source)} · {len(group)}</h2>")
        parts.extend(_pair_html(item) for item in group)
    parts.append("</body></html>")
    return "\n".join(parts)


def _pair_html(item: dict[str, Any]) -> str:
    esc = html.escape
    key = item["pair_key"]
    rows = "".join(
        f"<tr class='{'same' if rec == base else 'diff'}'><th>{esc(label)}</th>"
        f"<td>{esc(rec)}</td><td>{esc(base)}</td></tr>"
        for label, rec, base in item["fields"]
    )
    steps = []
    for name, level, weight in item["waterfall"]:
        width = min(abs(weight), 30) * 6
        cls = "pos" if weight >= 0 else "neg"
        steps.append(
            f"<tr><td>{esc(name)}</td><td>{esc(level)}</td>"
            f"<td class='w {cls}'>{weight:+.2f}</td><td><span class='bar' "
            f"style='width:{width:.0f}px;background:{'#6a6' if weight >= 0 else '#c66'}'>"
            "</span></td></tr>"
        )
    choice = "".join(
        f"<label><input type='radio' name='{key}' value='{value}'> {esc(text)}</label>"
        for value, text in CHOICES.items()
    )
    return (
        f"<div class='pair' data-key='{key}'><div class='head'>"
        f"<span class='key'>{key}</span><span>{esc(item['role'])}</span>"
        f"<span>概率 p = {_number(item['match_probability'], 4)}</span>"
        f"<span>权重 weight = {_number(item['match_weight'], 2)}</span>"
        f"<span class='impact'>{esc(item['impact'])}</span></div>"
        "<table><tr><th></th><th>部门记录 record</th><th>人口库 base person</th></tr>"
        f"{rows}</table>"
        "<table class='wf'><tr><th>比较 comparison</th><th>层级 level</th>"
        f"<th>权重 weight</th><th></th></tr>{''.join(steps)}</table>"
        f"<div class='choice'>{choice}</div></div>"
    )


# ------------------------------------------------------------------ the workbook
def _workbook(out: Path, items: list[dict[str, Any]], export_id: str) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDE3F0", "border": 1})
    head = book.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1})
    cell = book.add_format({"border": 1})
    diff = book.add_format({"border": 1, "bg_color": "#FCE4D6"})
    number = book.add_format({"border": 1, "num_format": "+0.00;-0.00"})
    ask = book.add_format({"border": 2, "bg_color": "#E2EFDA", "locked": False})
    about = book.add_worksheet("说明")
    about.set_column(0, 0, 100)
    for i, line in enumerate(
        [
            f"待人工复核的配对 · 批次 {export_id}",
            "每对配对的第一行“判定”一栏选择：同一人 match / 不是同一人 non_match / 跳过 skip。",
            "保存后用 renkou review import 文件名 导入；不要改动“配对编号”。",
            "排序：判定影响越大越靠前（可能注销人员的在前，其次关系出生登记、涉及未结核查的）。",
            "权重：先验与各比较项的部分匹配权重之和即模型的匹配权重（>0 倾向同一人）。",
        ]
    ):
        about.write(i, 0, line)
    about.write(7, 0, f"export_id={export_id}")
    for source, group in _by_source(items).items():
        sheet = book.add_worksheet(source_zh(source)[:31])
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 2, 30)
        sheet.set_column(3, 4, 12)
        sheet.set_column(DECISION_COLUMN - 1, DECISION_COLUMN - 1, 22)
        sheet.set_column(DECISION_COLUMN, DECISION_COLUMN, 40)
        headers = [KEY_HEADER, "部门记录", "人口库人员", "匹配概率", "匹配权重", DECISION_HEADER]
        sheet.write_row(0, 0, [*headers, "判定影响"], bold)
        sheet.freeze_panes(1, 0)
        row = 1
        for item in group:
            sheet.write(row, 0, item["pair_key"], head)
            sheet.write(row, 1, neutral(f"{item['source_record_id']} ({item['role']})"), head)
            sheet.write(row, 2, neutral(str(item["person_id"])), head)
            sheet.write_number(row, 3, item["match_probability"] or 0.0, head)
            sheet.write_number(row, 4, item["match_weight"] or 0.0, head)
            sheet.write_blank(row, DECISION_COLUMN - 1, None, ask)
            sheet.data_validation(
                row,
                DECISION_COLUMN - 1,
                row,
                DECISION_COLUMN - 1,
                {"validate": "list", "source": list(CHOICES.values())},
            )
            sheet.write(row, DECISION_COLUMN, item["impact"], head)
            row += 1
            for label, rec, base in item["fields"]:
                fmt = cell if rec == base else diff
                sheet.write(row, 0, label, fmt)
                sheet.write(row, 1, neutral(rec), fmt)
                sheet.write(row, 2, neutral(base), fmt)
                row += 1
            for name, level, weight in item["waterfall"]:
                sheet.write(row, 0, name, cell)
                sheet.write(row, 1, level, cell)
                sheet.write_number(row, 4, weight, number)
                row += 1
            row += 1
    book.set_custom_property("renkou_review_export", export_id)
    book.close()
