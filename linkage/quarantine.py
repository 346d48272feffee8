"""Returns to departments: the rows a delivery could not load, sent back to be fixed.

``renkou quarantine export`` writes one workbook per source and delivery (delivered file) that
has quarantined rows (a hard contract rule broken: not loaded) or rows loaded with a warning
(a soft rule, ``row_issues``). One line per problem: the line of the original file (the
spreadsheet row, header = 1), the record number (the source's record id), the name as
delivered (the department must find the row), the ID masked as on task lists
(``[privacy] mask_keep_head/tail``), the column (its Chinese header), the value delivered
(IDs inside it masked), the problem and the fix in Chinese, and whether the row was loaded.
Every text cell goes through :func:`linkage.cells.neutral`; workbooks never turn strings into
formulas.

What was sent is recorded in ``quarantine_returns`` by the delivery's SHA-256 (a second
export writes only deliveries not yet returned, unless ``include_returned``), with the
workbook's own SHA-256, and in one ``quarantine.export`` audit entry (files, hashes, counts:
never a name or an ID). :func:`status` counts per source: deliveries, rows quarantined, rows
with warnings, deliveries returned or not, records withdrawn.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from data_contracts import CONTRACTS, Contract
from data_contracts._base import column_meta
from linkage import tables
from linkage.audit import AuditLog, file_sha256
from linkage.cells import neutral
from linkage.ingest.validate import _CHECK_WORDS
from linkage.standardise.ids import mask_id, mask_ids_in_text
from linkage.store import Store

log = logging.getLogger(__name__)

#: column check → (problem, fix); ``{header}`` is the column's Chinese header
CHECKS: dict[str, tuple[str, str]] = {
    "nullability": ("必填项为空", "请补填“{header}”"),
    "check__parses": (
        "日期无法识别",
        "请按“年-月-日”格式填写“{header}”，如 2021-03-05 或 2021年3月5日",
    ),
    "check__in_vocabulary": (
        "取值不在规定的代码范围内",
        "请按规定代码填写“{header}”（可用值：{vocab}）",
    ),
    "check__is_integer": ("不是规定范围内的整数", "请将“{header}”填写为整数"),
    "check__id_valid": (
        "公民身份号码无效（位数、出生日期或校验位有误）",
        "请核对证件，填写正确的18位公民身份号码",
    ),
    "stored_as_number": (
        "身份号码被 Excel 存成了数字，后几位已丢失",
        "请将“{header}”列设为文本格式（设置单元格格式 → 文本），重新导出后报送",
    ),
}
#: row rule → (columns it concerns, problem, fix)
ROW_RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "id_agrees_with_birth_date": (
        ("id_number", "birth_date"),
        "公民身份号码中的出生日期与“出生日期”不一致",
        "请核对证件，更正公民身份号码或出生日期",
    ),
    "id_agrees_with_sex": (
        ("id_number", "sex"),
        "公民身份号码中的性别与“性别”不一致",
        "请核对证件，更正公民身份号码或性别",
    ),
    "husband_id_agrees_with_birth_date": (
        ("husband_id_number", "husband_birth_date"),
        "男方公民身份号码中的出生日期与男方出生日期不一致",
        "请核对证件，更正男方公民身份号码或出生日期",
    ),
    "wife_id_agrees_with_birth_date": (
        ("wife_id_number", "wife_birth_date"),
        "女方公民身份号码中的出生日期与女方出生日期不一致",
        "请核对证件，更正女方公民身份号码或出生日期",
    ),
    "change_not_before_birth": (
        ("change_date", "birth_date"),
        "变动（注销）日期早于出生日期",
        "请核对并更正变动日期或出生日期",
    ),
    "death_not_before_birth": (
        ("death_date", "birth_date"),
        "死亡日期早于出生日期（或身份号码中的出生日期）",
        "请核对并更正死亡日期、出生日期或公民身份号码",
    ),
    "registration_after_births": (
        (),
        "登记日期早于当事人出生日期",
        "请核对并更正登记日期或双方出生日期",
    ),
}
#: a rule this module has no words for
UNKNOWN = ("不符合数据规范：{rule}", "请核对后更正")
#: header → column width
COLUMNS = {
    "序号": 5,
    "原文件行号": 9,
    "记录编号": 16,
    "姓名": 10,
    "身份证号": 19,
    "问题列": 14,
    "填报值": 18,
    "问题": 30,
    "修改要求": 36,
    "处理情况": 16,
}
LOADED = "已入库（提示，请核实更正）"
NOT_LOADED = "未入库（请更正后重新报送）"


@dataclass(frozen=True)
class Problem:
    """One broken rule of one row, in Chinese."""

    column: str  # canonical column name ("" for a rule over the row)
    header: str  # the Chinese header(s) concerned
    problem: str
    fix: str


def _header(contract: type[Contract], column: str) -> str:
    columns = contract.data_columns()
    return str(column_meta(columns[column])["header"]) if column in columns else column


def describe(contract: type[Contract], rule: str) -> Problem:
    """A rule code (``birth_date|check__parses``, ``nullability``, a row rule) in Chinese."""
    column, sep, check = rule.partition("|")
    columns = contract.data_columns()
    if sep and column in columns:
        header = _header(contract, column)
        meta = column_meta(columns[column])
        problem, fix = CHECKS.get(check, (UNKNOWN[0].format(rule=check), UNKNOWN[1]))
        vocab = "、".join(meta.get("vocab") or [])
        return Problem(column, header, problem, fix.format(header=header, vocab=vocab))
    if rule in ROW_RULES:
        cols, problem, fix = ROW_RULES[rule]
        present = [c for c in cols if c in columns]
        headers = "、".join(_header(contract, c) for c in present)
        return Problem(present[0] if present else "", headers, problem, fix)
    return Problem("", "", UNKNOWN[0].format(rule=rule), UNKNOWN[1])


_SENTENCE = re.compile(r"^(?P<header>.+?) \((?P<column>\w+)\) (?P<words>.+)$")
#: lines the reader could not take (``linkage.ingest.readers``): undecodable, ragged
_UNDECODABLE = re.compile(r"^line \d+ is not valid (?P<encoding>\S+) text")
_RAGGED = re.compile(r"^line \d+ has (?P<fields>\d+) fields where the header has (?P<width>\d+)")


def parse_reasons(contract: type[Contract], reasons: str) -> list[Problem]:
    """The rules behind a quarantine row's ``reasons`` (the English sentences of
    ``linkage.ingest.validate.describe_rule``, joined by ``; ``), in Chinese."""
    by_words = {w: c for c, w in _CHECK_WORDS.items()}
    if found := _UNDECODABLE.match(reasons):
        return [
            Problem(
                "",
                "整行",
                f"该行含有无法识别的字符（不是 {found['encoding']} 编码）",
                "请以 UTF-8 或 GB18030 编码重新导出该行后报送",
            )
        ]
    if found := _RAGGED.match(reasons):
        return [
            Problem(
                "",
                "整行",
                f"该行有 {found['fields']} 列，表头有 {found['width']} 列",
                "请检查该行是否有多余或缺少的分隔符、引号或换行，更正后重新报送",
            )
        ]
    out = []
    for sentence in (s.strip() for s in reasons.split("; ") if s.strip()):
        found = _SENTENCE.match(sentence)
        if found and found["words"] in by_words:
            out.append(describe(contract, f"{found['column']}|{by_words[found['words']]}"))
            continue
        rule = sentence.split(":", 1)[0].strip()
        out.append(describe(contract, rule))
    return out


def _kind_columns(contract: type[Contract], kind: str) -> list[str]:
    return [n for n, c in contract.data_columns().items() if column_meta(c)["kind"] == kind]


@dataclass
class Delivery:
    """One delivered file with rows to send back."""

    source: str
    file: str
    load_id: int
    delivery_hash: str
    quarantined: int = 0
    with_issues: int = 0


def pending(store: Store, *, include_returned: bool = False) -> list[Delivery]:
    """Deliveries with quarantined rows or warnings, not yet returned (every one with
    ``include_returned``), oldest first."""
    tables.ensure(store.con, "returns")
    returned = (
        ""
        if include_returned
        else f"""AND NOT EXISTS (SELECT 1 FROM {tables.QUARANTINE_RETURNS} r
                   WHERE r.source = l.source AND r.delivery_hash = l.file_hash)"""
    )
    rows = store.con.execute(f"""
        SELECT l.source, l.file, l.load_id, l.file_hash,
               (SELECT count(*) FROM {tables.QUARANTINE} q WHERE q.load_id = l.load_id),
               (SELECT count(DISTINCT i."row") FROM {tables.ROW_ISSUES} i
                WHERE i.load_id = l.load_id)
        FROM {tables.LOAD_LEDGER} l
        WHERE l.status = 'loaded' AND (l.rows_quarantined > 0 OR l.rows_with_issues > 0)
          {returned}
        ORDER BY l.load_id
    """).fetchall()
    return [Delivery(s, f, int(i), str(h), int(q), int(n)) for s, f, i, h, q, n in rows]


def return_rows(store: Store, delivery: Delivery) -> pl.DataFrame:
    """The lines of one delivery's return workbook (:data:`COLUMNS`), by file line."""
    contract = CONTRACTS[delivery.source]
    s = store.settings
    names = _kind_columns(contract, "name")
    lines: list[list[Any]] = []
    quarantined = store.con.execute(
        f'SELECT "row", record_key, reasons, CAST(raw AS VARCHAR) FROM {tables.QUARANTINE} '
        'WHERE load_id = ? ORDER BY "row"',
        [delivery.load_id],
    ).fetchall()
    for row, record_key, reasons, raw_text in quarantined:
        raw: dict[str, Any] = json.loads(raw_text) if raw_text else {}
        for p in parse_reasons(contract, reasons or ""):
            lines.append(_line(contract, row, record_key, raw, p, NOT_LOADED, names))
    issues = store.con.execute(
        f'SELECT "row", record_key, rule FROM {tables.ROW_ISSUES} WHERE load_id = ? '
        'ORDER BY "row", rule',
        [delivery.load_id],
    ).fetchall()
    current = _current_rows(store, contract, [str(k) for _, k, _ in issues if k is not None])
    for row, record_key, rule in issues:
        raw = current.get(str(record_key), {})
        lines.append(_line(contract, row, record_key, raw, describe(contract, rule), LOADED, names))
    schema = {c: pl.String for c in COLUMNS} | {"_id": pl.String, "_value_is_id": pl.Boolean}
    frame = (
        pl.DataFrame(lines, schema=schema, orient="row") if lines else pl.DataFrame(schema=schema)
    )
    frame = frame.with_columns(pl.col("原文件行号").cast(pl.Int64).alias("_line")).sort(
        "_line", maintain_order=True
    )
    keep_head, keep_tail = s.mask_keep_head, s.mask_keep_tail
    masked_value = (
        pl.when(pl.col("_value_is_id"))
        .then(mask_id(pl.col("填报值"), keep_head, keep_tail))
        .otherwise(mask_ids_in_text(pl.col("填报值"), keep_head, keep_tail))
    )
    return frame.with_columns(
        mask_id(pl.col("_id"), keep_head, keep_tail).fill_null("").alias("身份证号"),
        masked_value.fill_null("").alias("填报值"),
        mask_ids_in_text(pl.col("姓名"), keep_head, keep_tail).alias("姓名"),
        mask_ids_in_text(pl.col("记录编号"), keep_head, keep_tail).alias("记录编号"),
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("序号"),
    ).select(list(COLUMNS))


def _current_rows(
    store: Store, contract: type[Contract], ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The loaded rows (delivered text) of records with warnings, by record id."""
    table = tables.source_table(contract.source)
    if not ids or not store.has_table(table):
        return {}
    key = contract.record_key
    wanted = pl.DataFrame({"record_id": ids}, schema={"record_id": pl.String})
    store.con.register("__renkou_ids", wanted)
    try:
        frame = store.con.execute(
            f'SELECT * FROM "{table}" WHERE CAST("{key}" AS VARCHAR) IN '
            "(SELECT record_id FROM __renkou_ids)"
        ).pl()
    finally:
        store.con.unregister("__renkou_ids")
    out = {}
    for rec in frame.iter_rows(named=True):
        # the delivered text of a typed column is kept as <col>__raw
        out[str(rec[key])] = {
            c: rec.get(f"{c}__raw", rec.get(c)) for c in contract.data_columns() if c in rec
        }
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _line(
    contract: type[Contract],
    row: Any,
    record_key: Any,
    raw: dict[str, Any],
    p: Problem,
    handling: str,
    names: list[str],
) -> list[Any]:
    key = contract.record_key
    name = next((str(raw[n]) for n in names if raw.get(n)), "")
    id_col = _subject_id(contract, p.column)
    value = _text(raw.get(p.column)) if p.column else None
    is_id = bool(p.column) and column_meta(contract.data_columns()[p.column])["kind"] == "id"
    return [
        "",
        str(row),
        _text(raw.get(key)) or _text(record_key) or "",
        name,
        "",  # 身份证号: ``_id`` masked
        p.header,
        value,
        p.problem,
        p.fix,
        handling,
        _text(raw.get(id_col)) if id_col else None,
        is_id,
    ]


def _subject_id(contract: type[Contract], column: str) -> str | None:
    """The ID column that identifies the row's person: the problem's own ID column, else
    the ID column of the same role (``mother_…``), else the first."""
    ids = _kind_columns(contract, "id")
    if not ids:
        return None
    if column in ids:
        return column
    role = column.split("_", 1)[0]
    return next((c for c in ids if c.startswith(role + "_")), ids[0])


def _write_xlsx(path: Path, frame: pl.DataFrame, title_text: str) -> None:
    import xlsxwriter  # the Excel package, only when a workbook is written

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "in_memory": True})
    ws = book.add_worksheet("退回修正清单")
    title = book.add_format(
        {"font_name": "SimHei", "font_size": 15, "bold": True, "align": "center",
         "valign": "vcenter"}
    )  # fmt: skip
    base = {"font_name": "SimSun", "font_size": 10, "valign": "vcenter", "text_wrap": True,
            "border": 1}  # fmt: skip
    head = book.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"})
    body = book.add_format(base)
    headers = list(COLUMNS)
    ws.merge_range(0, 0, 0, len(headers) - 1, neutral(title_text), title)
    ws.set_row(0, 28)
    ws.write_row(1, 0, headers, head)
    for col, header in enumerate(headers):
        ws.set_column(col, col, COLUMNS[header])
    for r, row in enumerate(frame.select(headers).iter_rows(), start=2):
        for col, value in enumerate(row):
            ws.write_string(r, col, neutral("" if value is None else str(value)), body)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, 1 + frame.height, len(headers) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
    ws.repeat_rows(0, 1)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&9经办人：&C&9第 &P 页，共 &N 页&R&9复核人：")
    book.close()


@dataclass(frozen=True)
class Returned:
    source: str
    file: str
    path: Path
    sha256: str
    rows: int


@dataclass
class ExportReport:
    files: list[Returned] = field(default_factory=list)


def _out_name(d: Delivery) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", Path(d.file).stem)[:60]
    return f"退回修正_{d.source}_{stem}_{d.delivery_hash[:8]}.xlsx"


def export_returns(
    store: Store, out_dir: Path, *, operator: str, include_returned: bool = False
) -> ExportReport:
    """One return workbook per delivery not yet returned (every one with
    ``include_returned``) in ``out_dir``; recorded in ``quarantine_returns`` and audited."""
    report = ExportReport()
    deliveries = pending(store, include_returned=include_returned)
    if not deliveries:
        return report
    out_dir.mkdir(parents=True, exist_ok=True)
    county = store.settings.county_name
    today = dt.date.today().isoformat()
    written: list[tuple[Delivery, Returned]] = []
    try:
        for d in deliveries:
            frame = return_rows(store, d)
            if frame.is_empty():
                continue
            path = out_dir / _out_name(d)
            department = CONTRACTS[d.source].title
            _write_xlsx(
                path,
                frame,
                f"{county} {department} 数据退回修正清单 {d.file}  生成日期 {today}  "
                f"共 {frame.height} 条",
            )
            written.append((d, Returned(d.source, d.file, path, file_sha256(path), frame.height)))
        now = dt.datetime.now()
        rows = pl.DataFrame(
            [
                {
                    "source": d.source,
                    "file": d.file,
                    "load_id": d.load_id,
                    "delivery_hash": d.delivery_hash,
                    "rows_quarantined": d.quarantined,
                    "rows_with_issues": d.with_issues,
                    "out_file": r.path.name,
                    "file_hash": r.sha256,
                    "exported_at": now,
                    "operator": operator,
                }
                for d, r in written
            ],
            schema={
                "source": pl.String,
                "file": pl.String,
                "load_id": pl.Int64,
                "delivery_hash": pl.String,
                "rows_quarantined": pl.Int64,
                "rows_with_issues": pl.Int64,
                "out_file": pl.String,
                "file_hash": pl.String,
                "exported_at": pl.Datetime,
                "operator": pl.String,
            },
        )
        with store.transaction():
            store.append(tables.QUARANTINE_RETURNS, rows)
    except BaseException:
        for _, r in written:
            r.path.unlink(missing_ok=True)
        raise
    report.files = [r for _, r in written]
    if written:
        AuditLog.for_home(store.home).append(
            "quarantine.export",
            details={
                "files": [
                    {
                        "file": r.path.name,
                        "sha256": r.sha256,
                        "rows": r.rows,
                        "source": r.source,
                        "delivery": d.file,
                        "delivery_sha256": d.delivery_hash,
                    }
                    for d, r in written
                ]
            },
        )
    log.info("quarantine export: %d workbook(s)", len(written))
    return report


def status(store: Store) -> pl.DataFrame:
    """Per source (department): deliveries loaded, rows quarantined, rows with warnings,
    deliveries with rows to return, of them returned and not yet, records withdrawn."""
    tables.ensure(store.con, "returns")
    frame = store.frame(f"""
        WITH l AS (SELECT * FROM {tables.LOAD_LEDGER} WHERE status = 'loaded'),
        r AS (SELECT DISTINCT source, delivery_hash FROM {tables.QUARANTINE_RETURNS}),
        w AS (SELECT source, count(*) AS n FROM {tables.WITHDRAWALS} GROUP BY source),
        refused AS (SELECT source, count(*) AS n FROM {tables.LOAD_LEDGER}
                    WHERE status = 'rejected' GROUP BY source)
        SELECT l.source,
               count(*) AS deliveries,
               sum(l.rows_quarantined) AS rows_quarantined,
               sum(l.rows_with_issues) AS rows_with_issues,
               count(*) FILTER (WHERE l.rows_quarantined > 0 OR l.rows_with_issues > 0)
                   AS to_return,
               count(*) FILTER (WHERE (l.rows_quarantined > 0 OR l.rows_with_issues > 0)
                                AND r.delivery_hash IS NOT NULL) AS returned,
               any_value(coalesce(w.n, 0)) AS withdrawn,
               any_value(coalesce(refused.n, 0)) AS refused_files
        FROM l LEFT JOIN r ON r.source = l.source AND r.delivery_hash = l.file_hash
        LEFT JOIN w ON w.source = l.source
        LEFT JOIN refused ON refused.source = l.source
        GROUP BY l.source ORDER BY l.source
    """)
    titles = pl.DataFrame(
        {"source": list(CONTRACTS), "department": [c.title for c in CONTRACTS.values()]}
    )
    return (
        frame.join(titles, on="source", how="left")
        .with_columns((pl.col("to_return") - pl.col("returned")).alias("not_returned"))
        .select(
            "source",
            "department",
            "deliveries",
            "rows_quarantined",
            "rows_with_issues",
            "to_return",
            "returned",
            "not_returned",
            "withdrawn",
            "refused_files",
        )
    )
