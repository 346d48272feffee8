"""Open findings → task rows in Chinese: who to visit, what the clue is, why the system thinks so.

Personal data comes from the DuckDB tables: the base person from ``person_records``
(``source = 'population'``) and ``src_population`` (户籍地址), the evidence record from
``src_<source>`` and its ``person_records`` row, the reason from ``links.explanation``. IDs are
masked here (``configs/renkou.toml [privacy]``); nothing in this module logs a row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from linkage.persons import PERSON_TABLE, ROLES
from linkage.settings import Settings
from linkage.standardise.ids import mask_id
from linkage.store import Store
from linkage.tasks.wording import (
    DEATH_ORIGIN_ZH,
    FIELD_ZH,
    SOURCE_ZH,
    TYPE_ZH,
    action_zh,
    explain_zh,
)

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

Row = dict[str, Any]


def source_table(source: str | None) -> tuple[str, str] | None:
    """``(src_<source>, key column)`` of a known source; None for anything else (a value
    read from a table never becomes an identifier unchecked)."""
    if source not in ROLES:
        return None
    return f"src_{source}", "person_id" if source == "population" else "record_id"


def row_hashes(store: Store, records: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Current ``_row_hash`` of source records: a changed hash means the record changed."""
    wanted: dict[str, set[str]] = {}
    for source, record_id in records:
        wanted.setdefault(source, set()).add(record_id)
    out: dict[tuple[str, str], str] = {}
    for source, ids in wanted.items():
        known = source_table(source)
        if known is None:
            continue
        table, key = known
        rows = _by_ids(store, table, key, ids, f'"{key}", _row_hash')
        out.update({(source, k): r["_row_hash"] for k, r in rows.items()})
    return out


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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _evidence(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _records(finding: Row) -> list[str]:
    """Every evidence record of a finding (a death may be told by several records)."""
    listed = _evidence(finding.get("evidence")).get("records")
    ids = [str(r) for r in listed] if isinstance(listed, list) else []
    own = finding.get("source_record_id")
    return ids or ([own] if own else [])


# ------------------------------------------------------------------------- data access


def _by_ids(
    store: Store, table: str, key: str, ids: set[str], columns: str = "*", where: str = ""
) -> dict[str, Row]:
    if not ids or not store.has_table(table):
        return {}
    frame = pl.DataFrame({"id": sorted(ids)}, schema={"id": pl.String})
    store.con.register("tmp_renkou_task_ids", frame)
    try:
        rows = store.frame(
            f'SELECT {columns} FROM "{table}" WHERE "{key}" IN '
            f"(SELECT id FROM tmp_renkou_task_ids) {where}"
        )
    finally:
        store.con.unregister("tmp_renkou_task_ids")
    return {str(r[key]): r for r in rows.iter_rows(named=True)}


def _base_persons(store: Store, ids: set[str]) -> dict[str, Row]:
    people = _by_ids(
        store,
        PERSON_TABLE,
        "record_id",
        ids,
        "record_id, name, name_py, id_number, sex, birth_date, household_id, "
        "address, township, village",
        "AND source = 'population'",
    )
    for pid, row in _by_ids(
        store, "src_population", "person_id", ids, "person_id, hukou_address"
    ).items():
        if pid in people and row.get("hukou_address"):
            people[pid]["address"] = row["hukou_address"]
    return people


def _source_rows(store: Store, findings: list[Row]) -> dict[tuple[str, str], Row]:
    wanted: dict[str, set[str]] = {}
    for f in findings:
        if f.get("source"):
            wanted.setdefault(f["source"], set()).update(_records(f))
    out: dict[tuple[str, str], Row] = {}
    for source, ids in wanted.items():
        known = source_table(source)
        if known is None:
            continue
        for rid, row in _by_ids(store, *known, ids).items():
            out[(source, rid)] = row
    return out


def _source_persons(store: Store, findings: list[Row]) -> dict[tuple[str, str, str], Row]:
    keys = {
        f"{f['source']}|{f['source_record_id']}|{f['role']}"
        for f in findings
        if f.get("source") and f.get("source_record_id") and f.get("role")
    }
    rows = _by_ids(
        store,
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
            (f["source"], f["source_record_id"], _link_role(f), _link_person(f))
            for f in findings
            if f.get("source") and f.get("source_record_id") and _link_person(f)
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


def _link_role(f: Row) -> str:
    if f["finding_type"] == "unregistered_birth" and f.get("source") == "birth_certificate":
        return "mother"
    return f.get("role") or "person"


def _link_person(f: Row) -> str | None:
    """The base person the finding's link points at (the mother for a birth)."""
    if f["finding_type"] == "unregistered_birth":
        return f.get("other_person_id")
    if f["finding_type"] == "duplicate_person":
        return f.get("other_person_id")
    return f.get("person_id")


# ------------------------------------------------------------------------- wording


def compare_zh(a: Row | None, b: Row | None) -> str:
    """Why two person records look alike, in words, from their standardised values."""
    if not a or not b:
        return ""
    out = []
    if a.get("name") and b.get("name"):
        if a["name"] == b["name"]:
            out.append("姓名相同")
        elif a.get("name_py") and a.get("name_py") == b.get("name_py"):
            out.append("姓名同音")
    ia, ib = a.get("id_number"), b.get("id_number")
    if ia and ib:
        if ia == ib:
            out.append("身份证号相同")
        elif len(ia) == len(ib) and sum(x != y for x, y in zip(ia, ib, strict=True)) == 1:
            out.append("身份证号错一位")
    if a.get("birth_date") and a.get("birth_date") == b.get("birth_date"):
        out.append("出生日期一致")
    if a.get("sex") and a.get("sex") == b.get("sex"):
        out.append("性别一致")
    if a.get("household_id") and a.get("household_id") == b.get("household_id"):
        out.append("同一户")
    return "、".join(out)


def _clue(f: Row, src: dict[tuple[str, str], Row], base: dict[str, Row], mask: _Masks) -> str:
    kind, source = f["finding_type"], f.get("source") or ""
    rows = [src[(source, r)] for r in _records(f) if (source, r) in src]
    row = rows[0] if rows else {}
    if kind == "suspected_death":
        parts = []
        for r in rows or [{}]:
            origin = r.get("origin")
            label = DEATH_ORIGIN_ZH.get(origin or "", SOURCE_ZH["death"])
            what = "火化" if origin == "火化" else "死亡"
            parts.append(f"{label} {_text(r.get('death_date'))} {what}".replace("  ", " "))
        return "；".join(parts)
    if kind == "moved_out":
        text = f"公安户籍 {_text(row.get('change_date'))} 迁出注销"
        return text + (f"，迁往{row['moved_to']}" if row.get("moved_to") else "")
    if kind == "unregistered_person":
        household = row.get("household_id")
        return "公安户籍在册" + (f"（户号 {household}）" if household else "") + "，人口库无此人"
    if kind == "unregistered_birth":
        mother = base.get(f.get("other_person_id") or "", {}).get("name") or ""
        if source == "maternity_insurance":
            babies = row.get("babies")
            return (
                f"生育保险 {_text(row.get('delivery_date'))} 生育"
                + (f"（{babies}胎）" if babies else "")
                + f"；母亲 {mother}"
            )
        sex = f"（{row['sex']}）" if row.get("sex") else ""
        place = f"，{row['birth_place']}" if row.get("birth_place") else ""
        return f"出生医学证明 {_text(row.get('birth_date'))} 出生{sex}{place}；母亲 {mother}"
    if kind == "attribute_conflict":
        field = f.get("field") or ""
        old, new = f.get("base_value"), f.get("source_value")
        if field == "id_number":
            old, new = mask(old), mask(new)
        if source == "marriage":
            ev = _evidence(f.get("evidence"))
            return (
                f"婚姻登记 {ev.get('registration_date') or ''} "
                f"{ev.get('registration_type') or ''}；人口库婚姻状况：{old or ''}"
            )
        label = FIELD_ZH.get(field, field)
        return f"{SOURCE_ZH.get(source, source)}{label}：{new or ''}；人口库：{old or ''}"
    if kind == "duplicate_person":
        keep = base.get(f.get("other_person_id") or "", {})
        return (
            f"人口库另有记录 {f.get('other_person_id') or ''}：{keep.get('name') or ''}，"
            f"身份证号 {mask(keep.get('id_number'))}"
        )
    return SOURCE_ZH.get(source, source)


def _subject(
    f: Row,
    base: dict[str, Row],
    src: dict[tuple[str, str], Row],
    persons: dict[tuple[str, str, str], Row],
    mask: _Masks,
) -> tuple[str, str, str]:
    """(姓名, 身份证号 masked, 户籍地址) of the person the visit is about."""
    kind = f["finding_type"]
    if kind == "unregistered_birth":
        mother = base.get(f.get("other_person_id") or "", {})
        child = persons.get(
            (f.get("source") or "", f.get("source_record_id") or "", f.get("role") or ""), {}
        )
        child_name = child.get("name") if f.get("source") == "birth_certificate" else None
        name = f"{child_name or '新生儿（未取名）'}（母：{mother.get('name') or ''}）"
        mid = mask(mother.get("id_number"))
        return name, f"母：{mid}" if mid else "", mother.get("address") or ""
    if kind == "unregistered_person":
        person = persons.get(
            (f.get("source") or "", f.get("source_record_id") or "", f.get("role") or ""), {}
        )
        row = src.get((f.get("source") or "", f.get("source_record_id") or ""), {})
        return (
            person.get("name") or "",
            mask(person.get("id_number")),
            row.get("hukou_address") or person.get("address") or "",
        )
    person = base.get(f.get("person_id") or "", {})
    return person.get("name") or "", mask(person.get("id_number")), person.get("address") or ""


def _basis(
    f: Row,
    explanations: dict[tuple[str, str, str, str], str],
    base: dict[str, Row],
    persons: dict[tuple[str, str, str], Row],
) -> str:
    kind = f["finding_type"]
    key = (
        f.get("source") or "",
        f.get("source_record_id") or "",
        _link_role(f),
        _link_person(f) or "",
    )
    said = explain_zh(explanations.get(key))
    if kind == "unregistered_person":
        return "户籍在册、户口状态正常，人口库中未找到对应人员"
    if kind == "duplicate_person":
        return said or compare_zh(
            base.get(f.get("person_id") or ""), base.get(f.get("other_person_id") or "")
        )
    if kind == "unregistered_birth":
        return f"母亲比对：{said or '已匹配'}；人口库中未找到该新生儿"
    if not said:
        said = compare_zh(
            base.get(f.get("person_id") or ""),
            persons.get(
                (f.get("source") or "", f.get("source_record_id") or "", f.get("role") or "")
            ),
        )
    if kind == "attribute_conflict":
        label = FIELD_ZH.get(f.get("field") or "", f.get("field") or "")
        return (said + "；" if said else "") + f"{label}不一致"
    return said


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
    out = []
    for f in rows:
        name, id_masked, address = _subject(f, base, src, persons, mask)
        out.append(
            {
                "核查类型": TYPE_ZH.get(f["finding_type"], f["finding_type"]),
                "姓名": name,
                "身份证号": id_masked,
                "户籍地址": address,
                "线索来源及内容": _clue(f, src, base, mask),
                "系统判断依据": _basis(f, explanations, base, persons),
                "建议处理": action_zh(f.get("suggested_action")),
            }
        )
    extra = pl.DataFrame(out, schema={c: pl.String for c in TASK_COLUMNS})
    return pl.concat([findings, extra], how="horizontal")
