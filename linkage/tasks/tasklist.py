"""Open findings → task rows in Chinese: who to visit, what the clue is, why the system thinks so.

Personal data comes from the DuckDB tables: the base person from ``person_records``
(``source = 'population'``) and ``src_population`` (户籍地址), the evidence record from
``src_<source>`` and its ``person_records`` row, the reason from ``links.explanation``. IDs are
masked here (``configs/renkou.toml [privacy]``); nothing in this module logs a row.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.catalog import (
    FINDING_TYPES,
    SOURCES,
    action_zh,
    delivered_table,
    source_zh,
    type_zh,
)
from linkage.findings.base import FindingType, Row, TaskContext, records
from linkage.settings import Settings
from linkage.standardise.ids import mask_id
from linkage.store import Store
from linkage.tables import PERSON_TABLE
from linkage.wording import explain_zh

#: the columns of a task row that the workbook prints (Chinese) — besides the bookkeeping ones
TASK_COLUMNS = [
    "核查类型",
    "姓名",
    "身份证号",
    "户籍地址",
    "线索来源及内容",
    "系统判断依据",
    "建议处理",
]


def mask_ids(values: Iterable[str | None], s: Settings) -> list[str | None]:
    """Mask ID numbers as ``s`` says (``[privacy]``: first 6 + last 4 kept by default)."""
    series = pl.Series("id", list(values), dtype=pl.String)
    return (
        series.to_frame()
        .select(mask_id(pl.col("id"), s.mask_keep_head, s.mask_keep_tail))
        .to_series()
        .to_list()
    )


class _Masks:
    """Masked forms of every ID a batch of task rows shows, computed in one pass."""

    def __init__(self, values: Iterable[str | None], s: Settings) -> None:
        ids = sorted({v for v in values if v})
        self._settings = s
        self._masked = dict(zip(ids, mask_ids(ids, s), strict=True))

    def __call__(self, value: str | None) -> str:
        if not value:
            return ""
        return self._masked.get(value) or (mask_ids([value], self._settings)[0] or "")


# ------------------------------------------------------------------------- data access


def _base_persons(store: Store, ids: set[str]) -> dict[str, Row]:
    people = store.rows_by_ids(
        PERSON_TABLE,
        "record_id",
        ids,
        "record_id, name, name_py, id_number, sex, birth_date, household_id, "
        "address, township, village",
        "AND source = 'population'",
    )
    base = SOURCES["population"]
    for pid, row in store.rows_by_ids(
        base.table, base.record_key, ids, "person_id, hukou_address"
    ).items():
        if pid in people and row.get("hukou_address"):
            people[pid]["address"] = row["hukou_address"]
    return people


def _source_rows(store: Store, findings: list[Row]) -> dict[tuple[str, str], Row]:
    wanted: dict[str, set[str]] = {}
    for f in findings:
        if f.get("source"):
            wanted.setdefault(f["source"], set()).update(records(f))
    out: dict[tuple[str, str], Row] = {}
    for source, ids in wanted.items():
        known = delivered_table(source)
        if known is None:
            continue
        for rid, row in store.rows_by_ids(*known, ids).items():
            out[(source, rid)] = row
    return out


def _source_persons(store: Store, findings: list[Row]) -> dict[tuple[str, str, str], Row]:
    keys = {
        f"{f['source']}|{f['source_record_id']}|{f['role']}"
        for f in findings
        if f.get("source") and f.get("source_record_id") and f.get("role")
    }
    rows = store.rows_by_ids(
        PERSON_TABLE,
        "rec_key",
        keys,
        "rec_key, name, name_py, id_number, sex, birth_date, household_id, address",
    )
    return {tuple(k.split("|", 2)): v for k, v in rows.items()}  # type: ignore[misc]


def _explanations(store: Store, findings: list[Row]) -> dict[tuple[str, str, str, str], str]:
    if (
        not store.has_table("links")
        or "explanation" not in store.frame("SELECT * FROM links LIMIT 0").columns
    ):
        return {}
    keys = pl.DataFrame(
        [
            (f["source"], f["source_record_id"], *_kind(f).link_pair(f))
            for f in findings
            if f.get("source") and f.get("source_record_id") and _kind(f).link_pair(f)[1]
        ],
        schema={
            "source": pl.String,
            "source_record_id": pl.String,
            "role": pl.String,
            "person_id": pl.String,
        },
        orient="row",
    )
    if keys.is_empty():
        return {}
    store.con.register("tmp_renkou_task_links", keys)
    try:
        rows = store.frame("""
            SELECT l.source, l.source_record_id, l.role, l.person_id, any_value(l.explanation)
                   AS explanation
            FROM links l JOIN tmp_renkou_task_links k
              ON l.source = k.source AND l.source_record_id = k.source_record_id
             AND l.role = k.role AND l.person_id = k.person_id
            GROUP BY ALL
        """)
    finally:
        store.con.unregister("tmp_renkou_task_links")
    return {(r[0], r[1], r[2], r[3]): r[4] for r in rows.iter_rows() if r[4]}


def _kind(f: Row) -> FindingType:
    return FINDING_TYPES[f["finding_type"]]


def task_rows(store: Store, findings: pl.DataFrame) -> pl.DataFrame:
    """One task row per finding: the bookkeeping columns of ``findings`` + :data:`TASK_COLUMNS`."""
    rows = findings.to_dicts()
    base_ids = {v for f in rows for v in (f.get("person_id"), f.get("other_person_id")) if v}
    base = _base_persons(store, base_ids)
    src = _source_rows(store, rows)
    persons = _source_persons(store, rows)
    explanations = _explanations(store, rows)
    mask = _Masks(
        [p.get("id_number") for p in [*base.values(), *persons.values()]]
        + [
            v
            for f in rows
            if f.get("field") == "id_number"
            for v in (f.get("base_value"), f.get("source_value"))
        ],
        store.settings,
    )
    ctx = TaskContext(
        base=base,
        src=src,
        persons=persons,
        explain=lambda key: explain_zh(explanations.get(key)),
        mask=mask,
        source_zh=source_zh,
    )
    out = []
    for f in rows:
        kind = _kind(f)
        name, id_masked, address = kind.subject(f, ctx)
        out.append(
            {
                "核查类型": type_zh(f["finding_type"]),
                "姓名": name,
                "身份证号": id_masked,
                "户籍地址": address,
                "线索来源及内容": kind.clue(f, ctx),
                "系统判断依据": kind.basis(f, ctx),
                "建议处理": action_zh(f.get("suggested_action")),
            }
        )
    extra = pl.DataFrame(out, schema={c: pl.String for c in TASK_COLUMNS})
    return pl.concat([findings, extra], how="horizontal")
