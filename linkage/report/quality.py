"""Data-quality figures of the population base, the ones the province asks the county for.

Every function returns a polars frame and takes ``by_township`` (keyword-only): ``False`` gives
one county-wide row per figure, ``True`` one row per township and figure. Ages and "empty"
are judged at ``as_of`` (default: today). All aggregate one frame of per-person flags
(:func:`person_flags`): pass it as ``flags=`` to compute several figures from one pass over the
base. The definitions are exact; the report, the exports and the tests all read them from here.

*Active base person*: a row of ``src_population`` with 人员状态 ``正常``. Its township is the
managing township of the base row, else the one parsed from its address
(``person_records.township``), else ``（未知乡镇）``.

Figures
-------
``coverage``       户籍覆盖率: active 户籍 persons (``src_hukou`` 户口状态 ``正常``) with a link
                   to an active base person (``links``: source ``hukou``, the person's
                   人员状态 ``正常``) / active 户籍 persons. Target ≥ 95 %. Township: the
                   linked base person's, else the 户籍 record's (parsed from its address),
                   else that of base persons of the same 户号.
``completeness``   数据项完整率, per item: active base persons whose item holds a non-empty,
                   valid value / active base persons; the county figure is all valid cells /
                   (persons × 10 items). Target ≥ 90 %. Valid means: 姓名 not a "none" token
                   and without digits; 公民身份号码 ``valid`` or ``upgraded_15``; 性别 男/女;
                   出生日期 a real date not after ``as_of``; 民族, 婚姻状况, 户口性质 a code of
                   their vocabulary; 户籍地, 现住地, 与户主关系 any text but a "none" token
                   (``codes.MISSING_TOKENS``).
``consistency``    逻辑一致率, per rule: persons passing / persons the rule applies to; the
                   county figure is all passes / all applicable checks. Target ≥ 90 %.
                   ``id_birth_date``  the ID's date = 出生日期 (both present);
                   ``id_sex``         the ID's sex digit = 性别 (both present);
                   ``marital_age``    ever married (初婚/再婚/复婚/已婚/离婚/丧偶) → aged at least
                                      the legal marriage age (男 22, 女 20, unknown sex 20);
                   ``spouse_ages``    户主 and 配偶 of a household holding both → each at least
                                      the legal age of their sex;
                   ``status_events``  linked to a death record or a 户籍 record → neither says
                                      the person died or left (死亡注销, 迁出注销) while the
                                      base holds them 正常 (reads the links: computed
                                      beside the cached base-only figures);
                   ``child_parent_gap`` a child of the head (子/女, 长子…, GB/T 4761 codes
                                      20-26, 29-36, 39; not adopted, step or in-law) → born at
                                      least 15 years after the youngest 户主/配偶 of the 户号.
``matching_rate``  匹配率: active base persons linked from an active 户籍 record / active
                   base persons. Target ≥ 95 %. Township: the base person's.
``accuracy``       准确率: over the linked pairs (active 户籍 record ↔ active base person),
                   the fields compared on both sides (姓名, 性别, 出生日期, 民族, 公民身份号码,
                   户号, 户口性质; compared as ``attribute_conflict`` compares them) on which
                   the base agrees with 公安 / the fields compared. A base ID missing where
                   公安 holds a valid one is compared, and disagrees. Target ≥ 90 %.
``timeliness``     更新及时率: of the events of the year before ``as_of`` whose window has closed
                   (dated from a year before ``as_of`` to ``timeliness_days`` before it), the
                   share the base reflects within ``timeliness_days`` of the event (its
                   更新日期 no later): a death (death record or 户籍 死亡注销) → 人员状态
                   死亡注销; a 户籍 迁出注销 → 迁出注销; a 结婚 / 离婚 registration → a married /
                   离婚 婚姻状况; a birth certificate → the child in the base. Per event kind;
                   township: the person's (a birth: the child's, else the mother's). Target
                   ≥ 90 % (the plans' 更新及时率).
``birth_coverage`` 出生人口数据库覆盖率 (plan 003, target ≥ 95 %): children aged 0-10 at
                   ``as_of`` known to any departmental source of children (出生医学证明,
                   预防接种, 在校学生: the ``household_roles`` of the catalog) who are in the
                   base / those children, each counted once: a linked child by its base
                   person, a child linked to nobody as the one child its records show
                   (``linkage.findings._children``: grouped by family, merged across sources).
                   Only children of county families count (a linked mother or guardian); a
                   child whose family is registered elsewhere goes out as a 协查 instead.
                   Age: the base person's birth date, else the record's. Township: the base
                   person's, else the family's.
``id_validity``    身份证号有效率: active base persons whose ID is ``valid``/``upgraded_15`` /
                   those with any ID (status not ``missing``). No province target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from linkage.findings.base import ACTIVE
from linkage.persons import PERSON_TABLE
from linkage.standardise.codes import MISSING_TOKENS
from linkage.store import Store

UNKNOWN_TOWNSHIP = "（未知乡镇）"
COVERAGE_TARGET = 0.95
QUALITY_TARGET = 0.90
LEGAL_AGE = {"男": 22, "女": 20}
#: the children of the birth database coverage (plan 003: the births of the last ten years)
CHILD_AGES = (0, 10)
MIN_PARENT_GAP_YEARS = 15

EVER_MARRIED = ("初婚", "再婚", "复婚", "已婚", "离婚", "丧偶")
HEAD = ("户主", "02")
SPOUSE = ("配偶", "夫", "妻", "10", "11", "12")
#: a child of the head (GB/T 4761: 20-26 and 29 sons, 30-36 and 39 daughters)
CHILD = (
    "子",
    "女",
    "儿子",
    "女儿",
    "独生子",
    "独生女",
    "长子",
    "次子",
    "三子",
    "四子",
    "五子",
    "长女",
    "次女",
    "三女",
    "四女",
    "五女",
    "其他儿子",
    "其他女儿",
    *(str(c) for c in (*range(20, 27), 29, *range(30, 37), 39)),
)


@dataclass(frozen=True)
class Item:
    key: str
    zh: str
    sql: str  # boolean SQL over the ``b`` row: the value is present and valid


def _lit(values: tuple[str, ...]) -> str:
    """A SQL list of constant strings (module constants only, never user values)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _text_ok(col: str) -> str:
    return f"({col} IS NOT NULL AND lower({col}) NOT IN ({_lit(MISSING_TOKENS)}))"


#: the ten basic items (基本项), in the province's order
ITEMS: tuple[Item, ...] = (
    Item("name", "姓名", f"({_text_ok('b.name')} AND NOT regexp_matches(b.name, '[0-9]'))"),
    Item("id_number", "公民身份号码", "(b.id_status IN ('valid', 'upgraded_15'))"),
    Item("sex", "性别", "(b.sex IN ('男', '女'))"),
    Item("birth_date", "出生日期", "(b.birth_date IS NOT NULL AND b.birth_date <= $1)"),
    Item("ethnicity", "民族", "(b.ethnicity IS NOT NULL)"),
    Item("hukou_address", "户籍地", _text_ok("b.hukou_address")),
    Item("current_address", "现住地", _text_ok("b.current_address")),
    Item("marital_status", "婚姻状况", "(b.marital_status IS NOT NULL)"),
    Item("hukou_type", "户口性质", "(b.hukou_type IS NOT NULL)"),
    Item("relation_to_head", "与户主关系", _text_ok("b.relation")),
)

#: basic items plan 002 lists that the base's columns (docs/interfaces.md) do not carry: not
#: measurable, so listed with their count and never counted as complete or incomplete
NOT_MEASURABLE = (
    "出生地",
    "门牌号",
    "文化程度",
    "工作单位",
    "健康状况",
    "婚姻变动时间",
    "流动时间",
)

_LEGAL_AGE_SQL = f"CASE b.sex WHEN '男' THEN {LEGAL_AGE['男']} ELSE {LEGAL_AGE['女']} END"
_AGE_SQL = "date_sub('year', b.birth_date, $1)"

#: consistency rules: SQL that is NULL when the rule does not apply, else pass/fail
RULES: tuple[Item, ...] = (
    Item(
        "id_birth_date",
        "身份证号与出生日期一致",
        "CASE WHEN b.id_birth_date IS NOT NULL AND b.birth_date IS NOT NULL "
        "THEN b.id_birth_date = b.birth_date END",
    ),
    Item(
        "id_sex",
        "身份证号与性别一致",
        "CASE WHEN b.id_sex IS NOT NULL AND b.sex IS NOT NULL THEN b.id_sex = b.sex END",
    ),
    Item(
        "marital_age",
        "婚姻状况与年龄相符（已婚者达法定婚龄）",
        f"CASE WHEN b.marital_status IN ({_lit(EVER_MARRIED)}) AND b.birth_date IS NOT NULL "
        f"THEN {_AGE_SQL} >= {_LEGAL_AGE_SQL} END",
    ),
    Item(
        "spouse_ages",
        "户主与配偶均达法定婚龄",
        f"CASE WHEN (b.relation IN ({_lit(HEAD)}) OR b.relation IN ({_lit(SPOUSE)})) "
        f"AND h.has_head AND h.has_spouse AND b.birth_date IS NOT NULL "
        f"THEN {_AGE_SQL} >= {_LEGAL_AGE_SQL} END",
    ),
    Item(
        "child_parent_gap",
        f"子女比户主/配偶小{MIN_PARENT_GAP_YEARS}岁以上",
        f"CASE WHEN b.relation IN ({_lit(CHILD)}) AND b.birth_date IS NOT NULL "
        f"AND h.youngest_parent IS NOT NULL "
        f"THEN b.birth_date >= h.youngest_parent + INTERVAL {MIN_PARENT_GAP_YEARS} YEAR END",
    ),
)

ITEM_ZH = {i.key: i.zh for i in ITEMS}
RULE_ZH = {r.key: r.zh for r in RULES}


def _persons_sql() -> str:
    items = ", ".join(f'coalesce({i.sql}, false) AS "item__{i.key}"' for i in ITEMS)
    rules = ", ".join(f'{r.sql} AS "rule__{r.key}"' for r in RULES)
    return f"""
        WITH b AS (
            SELECT s.person_id, s.household_id, s.relation_to_head AS relation,
                   s.marital_status, s.hukou_type, s.hukou_address, s.current_address,
                   s.sex, s.birth_date, s.ethnicity, p.name, p.id_status, p.id_birth_date,
                   p.id_sex, coalesce(p.township, s.township, '{UNKNOWN_TOWNSHIP}') AS township
            FROM src_population s
            LEFT JOIN {PERSON_TABLE} p ON p.source = 'population' AND p.record_id = s.person_id
            WHERE s.status = '{ACTIVE}'
        ),
        h AS (
            SELECT household_id,
                   bool_or(relation IN ({_lit(HEAD)})) AS has_head,
                   bool_or(relation IN ({_lit(SPOUSE)})) AS has_spouse,
                   max(birth_date) FILTER (WHERE relation IN ({_lit(HEAD + SPOUSE)}))
                       AS youngest_parent
            FROM b WHERE household_id IS NOT NULL GROUP BY household_id
        )
        SELECT b.township, coalesce(b.id_status, 'missing') AS id_status, {items}, {rules}
        FROM b LEFT JOIN h USING (household_id)
    """


def person_flags(store: Store, *, as_of: dt.date | None = None) -> pl.DataFrame:
    """One row per active base person: ``township``, ``id_status``, a boolean
    ``item__<key>`` per item (valid value) and ``rule__<key>`` per rule (null when the rule
    does not apply). Every figure below aggregates this frame; compute it once and pass it as
    ``flags=`` when asking for several (1M persons: one pass over the base, ~40 MB)."""
    return store.frame(_persons_sql(), [as_of or dt.date.today()])


def _keys(by_township: bool) -> list[str]:
    return ["township"] if by_township else []


def _grouped(flags: pl.DataFrame, by_township: bool, aggs: list[pl.Expr]) -> pl.DataFrame:
    if by_township:
        return flags.group_by("township").agg(aggs).sort("township")
    return flags.select(aggs)


def completeness(
    store: Store,
    *,
    as_of: dt.date | None = None,
    by_township: bool = False,
    flags: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per item: ``persons`` (active), ``valid``, ``rate`` (see the module docstring)."""
    flags = person_flags(store, as_of=as_of) if flags is None else flags
    keys = _keys(by_township)
    wide = _grouped(
        flags,
        by_township,
        [pl.len().alias("persons"), *(pl.col(f"item__{i.key}").sum().alias(i.key) for i in ITEMS)],
    )
    return (
        wide.unpivot(
            index=[*keys, "persons"],
            on=[i.key for i in ITEMS],
            variable_name="item",
            value_name="valid",
        )
        .with_columns(
            pl.col("item").replace_strict(ITEM_ZH).alias("item_zh"),
            pl.col("valid").cast(pl.Int64),
            pl.col("persons").cast(pl.Int64),
        )
        .with_columns((pl.col("valid") / pl.col("persons")).alias("rate"))
        .select(*keys, "item", "item_zh", "persons", "valid", "rate")
    )


def consistency(
    store: Store,
    *,
    as_of: dt.date | None = None,
    by_township: bool = False,
    flags: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per rule: ``checked`` (persons it applies to), ``passed``, ``rate``."""
    flags = person_flags(store, as_of=as_of) if flags is None else flags
    keys = _keys(by_township)
    aggs = []
    for r in RULES:
        aggs += [
            pl.col(f"rule__{r.key}").count().alias(f"checked__{r.key}"),
            pl.col(f"rule__{r.key}").sum().alias(f"passed__{r.key}"),
        ]
    wide = _grouped(flags, by_township, aggs)
    rows = [
        wide.select(
            *keys,
            pl.lit(r.key).alias("rule"),
            pl.col(f"checked__{r.key}").cast(pl.Int64).alias("checked"),
            pl.col(f"passed__{r.key}").cast(pl.Int64).alias("passed"),
        )
        for r in RULES
    ]
    long = pl.concat(rows)
    if by_township:
        long = long.sort("township", maintain_order=True)
    return long.with_columns(
        pl.col("rule").replace_strict(RULE_ZH).alias("rule_zh"),
        pl.when(pl.col("checked") > 0).then(pl.col("passed") / pl.col("checked")).alias("rate"),
    ).select(*keys, "rule", "rule_zh", "checked", "passed", "rate")


#: the consistency rule that needs the links (kept out of the base-only, cached figures)
STATUS_RULE = Item(
    "status_events",
    "人员状态与部门事件相符（无死亡、迁出记录而仍为正常）",
    "",
)


def _active_persons() -> str:
    """SQL: every active base person with their township (``person_id``, ``township``)."""
    return f"""SELECT s.person_id, coalesce(p.township, s.township, '{UNKNOWN_TOWNSHIP}')
                          AS township
               FROM src_population s
               LEFT JOIN {PERSON_TABLE} p ON p.source = 'population'
                                        AND p.record_id = s.person_id
               WHERE s.status = '{ACTIVE}'"""


def status_consistency(store: Store, *, by_township: bool = False) -> pl.DataFrame:
    """The rule ``status_events`` in :func:`consistency`'s columns: an active base person
    linked to a death record or a 户籍 record passes unless a death record, or a 户籍 record
    cancelled (死亡注销, 迁出注销), says they are no longer here. Empty without either source."""
    keys = _keys(by_township)
    sources = [s for s in ("death", "hukou") if store.has_table(f"src_{s}")]
    if not sources or not store.has_table("links"):
        return pl.DataFrame(
            schema={
                **{k: pl.String for k in keys},
                "rule": pl.String,
                "rule_zh": pl.String,
                "checked": pl.Int64,
                "passed": pl.Int64,
                "rate": pl.Float64,
            }
        )
    cancelled = "h.hukou_status IN ('死亡注销', '迁出注销')" if "hukou" in sources else "false"
    hukou = (
        "LEFT JOIN src_hukou h ON l.source = 'hukou' AND h.record_id = l.source_record_id"
        if "hukou" in sources
        else ""
    )
    cols = "township, " if by_township else ""
    group = "GROUP BY township ORDER BY township" if by_township else ""
    frame = store.frame(f"""
        WITH ev AS (
            SELECT l.person_id, bool_or(l.source = 'death' OR {cancelled}) AS contradicted
            FROM links l {hukou}
            WHERE l.person_id IS NOT NULL AND l.source IN ({_lit(tuple(sources))})
            GROUP BY l.person_id
        ),
        a AS ({_active_persons()})
        SELECT {cols}'{STATUS_RULE.key}' AS rule, '{STATUS_RULE.zh}' AS rule_zh,
               count(*) AS checked, count(*) FILTER (WHERE NOT contradicted) AS passed
        FROM a JOIN ev USING (person_id) {group}
    """)
    return frame.with_columns(
        pl.col("checked").cast(pl.Int64),
        pl.col("passed").cast(pl.Int64),
        pl.when(pl.col("checked") > 0).then(pl.col("passed") / pl.col("checked")).alias("rate"),
    ).select(*keys, "rule", "rule_zh", "checked", "passed", "rate")


def with_link_rules(store: Store, base: BaseFigures) -> BaseFigures:
    """``base`` with the consistency rule that reads the links (``status_events``) added:
    the base-only figures may come from a cache keyed on the base, this rule may not."""
    return dataclasses.replace(
        base,
        consistency=pl.concat(
            [base.consistency, status_consistency(store)], how="vertical_relaxed"
        ),
        consistency_by_township=pl.concat(
            [base.consistency_by_township, status_consistency(store, by_township=True)],
            how="vertical_relaxed",
        ),
    )


def id_validity(
    store: Store,
    *,
    as_of: dt.date | None = None,
    by_township: bool = False,
    flags: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``persons``, ``with_id`` (status not ``missing``), ``valid``, ``rate`` = valid / with_id."""
    flags = person_flags(store, as_of=as_of) if flags is None else flags
    status = pl.col("id_status")
    frame = _grouped(
        flags,
        by_township,
        [
            pl.len().cast(pl.Int64).alias("persons"),
            (status != "missing").sum().cast(pl.Int64).alias("with_id"),
            status.is_in(["valid", "upgraded_15"]).sum().cast(pl.Int64).alias("valid"),
        ],
    )
    return frame.with_columns(
        pl.when(pl.col("with_id") > 0).then(pl.col("valid") / pl.col("with_id")).alias("rate")
    )


def coverage(store: Store, *, by_township: bool = False) -> pl.DataFrame:
    """``hukou_active``, ``linked`` (to a base person), ``rate``; empty without 户籍 data."""
    keys = _keys(by_township)
    schema = {
        **{k: pl.String for k in keys},
        "hukou_active": pl.Int64,
        "linked": pl.Int64,
        "rate": pl.Float64,
    }
    if not store.has_table("src_hukou"):
        return pl.DataFrame(schema=schema)
    links = (
        "(SELECT source_record_id, any_value(person_id) AS person_id FROM links "
        "WHERE source = 'hukou' AND person_id IS NOT NULL GROUP BY source_record_id)"
        if store.has_table("links")
        else "(SELECT NULL::VARCHAR AS source_record_id, NULL::VARCHAR AS person_id WHERE false)"
    )
    cols = "township, " if by_township else ""
    group = "GROUP BY township ORDER BY township" if by_township else ""
    frame = store.frame(f"""
        WITH hk AS (
            SELECT h.record_id, coalesce(b.status = '{ACTIVE}', false) AS active,
                   coalesce(b.township, p.township, hh.township, '{UNKNOWN_TOWNSHIP}')
                       AS township
            FROM src_hukou h
            LEFT JOIN {links} l ON l.source_record_id = h.record_id
            LEFT JOIN {PERSON_TABLE} b ON b.source = 'population' AND b.record_id = l.person_id
            LEFT JOIN {PERSON_TABLE} p ON p.source = 'hukou' AND p.record_id = h.record_id
            LEFT JOIN (SELECT household_id, min(township) AS township FROM {PERSON_TABLE}
                       WHERE source = 'population' AND township IS NOT NULL
                       GROUP BY household_id) hh ON hh.household_id = h.household_id
            WHERE h.hukou_status = '{ACTIVE}'
        )
        SELECT {cols}count(*) AS hukou_active, count(*) FILTER (WHERE active) AS linked
        FROM hk {group}
    """)
    return _rate(frame, "linked", "hukou_active", schema)


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_coverage(
    store: Store, *, as_of: dt.date | None = None, by_township: bool = False
) -> pl.DataFrame:
    """``children`` (0-10, known to a source of children), ``in_base``, ``rate``; empty
    without such a source or links."""
    from linkage.catalog import CHILD_ROLES
    from linkage.findings._children import unregistered_children
    from linkage.tables import source_table

    keys = _keys(by_township)
    schema = {
        **{k: pl.String for k in keys},
        "children": pl.Int64,
        "in_base": pl.Int64,
        "rate": pl.Float64,
    }
    present = [(s, r) for s, r in CHILD_ROLES if store.has_table(source_table(s))]
    if not present or not store.has_table("links"):
        return pl.DataFrame(schema=schema)
    as_of = as_of or dt.date.today()
    youngest = _years_before(as_of, CHILD_AGES[1] + 1)  # born after it: at most 10
    roles = " OR ".join(f"(l.source = '{s}' AND l.role = '{r}')" for s, r in present)
    linked = store.frame(f"""
        SELECT DISTINCT b.record_id AS person_id,
               coalesce(b.township, '{UNKNOWN_TOWNSHIP}') AS township
        FROM links l JOIN {PERSON_TABLE} b ON b.source = 'population'
                                          AND b.record_id = l.person_id
        WHERE ({roles}) AND b.birth_date > DATE '{youngest}'
          AND b.birth_date <= DATE '{as_of}'
    """)
    missing = unregistered_children(store, "links").filter(
        (pl.col("birth_date") > youngest) & (pl.col("birth_date") <= as_of)
    )
    frame = pl.concat(
        [
            linked.select("township", pl.lit(True).alias("in_base")),
            missing.select(
                pl.col("township").fill_null(UNKNOWN_TOWNSHIP), pl.lit(False).alias("in_base")
            ),
        ]
    )
    grouped = frame.group_by(keys) if keys else frame.group_by(pl.lit(1).alias("_all"))
    counted = grouped.agg(
        pl.len().alias("children"), pl.col("in_base").sum().alias("in_base")
    ).drop("_all", strict=False)
    if keys:
        counted = counted.sort(keys)
    elif frame.is_empty():
        counted = pl.DataFrame({"children": [0], "in_base": [0]})
    return _rate(counted, "in_base", "children", schema)


def _hukou_links(store: Store) -> str | None:
    """SQL: the linked pairs of an active 户籍 record and an active base person, with the
    base person's township (``l`` link, ``p`` 户籍 person record, ``b`` base person); None
    without 户籍 data or links."""
    from linkage.findings.base import base_persons

    if not (store.has_table("src_hukou") and store.has_table("links")):
        return None
    return f"""links l
        JOIN {PERSON_TABLE} p ON p.source = 'hukou' AND p.record_id = l.source_record_id
        JOIN {base_persons()} ON b.person_id = l.person_id
        WHERE l.source = 'hukou' AND p.status = '{ACTIVE}' AND b.status = '{ACTIVE}'"""


def matching_rate(store: Store, *, by_township: bool = False) -> pl.DataFrame:
    """``base_active``, ``matched`` (linked from an active 户籍 record), ``rate``; empty
    without 户籍 data."""
    keys = _keys(by_township)
    schema = {
        **{k: pl.String for k in keys},
        "base_active": pl.Int64,
        "matched": pl.Int64,
        "rate": pl.Float64,
    }
    pairs = _hukou_links(store)
    if pairs is None:
        return pl.DataFrame(schema=schema)
    cols = "township, " if by_township else ""
    group = "GROUP BY township ORDER BY township" if by_township else ""
    frame = store.frame(f"""
        WITH matched AS (SELECT DISTINCT b.person_id FROM {pairs}),
        active AS ({_active_persons()})
        SELECT {cols}count(*) AS base_active,
               count(*) FILTER (WHERE person_id IN (SELECT person_id FROM matched)) AS matched
        FROM active {group}
    """)
    return _rate(frame, "matched", "base_active", schema)


def accuracy(store: Store, *, by_township: bool = False) -> pl.DataFrame:
    """Per field (and township): ``compared``, ``agreed``, ``rate``; empty without 户籍 data.
    The county figure is all agreements / all comparisons."""
    from linkage.findings.attribute_conflict import HUKOU_FIELDS

    keys = _keys(by_township)
    schema = {
        **{k: pl.String for k in keys},
        "field": pl.String,
        "compared": pl.Int64,
        "agreed": pl.Int64,
        "rate": pl.Float64,
    }
    pairs = _hukou_links(store)
    if pairs is None:
        return pl.DataFrame(schema=schema)
    fields = ", ".join(
        f"{{field: '{field}', b: CAST({base_cmp} AS VARCHAR), s: CAST({src_cmp} AS VARCHAR)}}"
        for field, _, base_cmp, src_cmp, _ in HUKOU_FIELDS
    )
    cols = "township, " if by_township else ""
    frame = store.frame(f"""
        SELECT {cols}f.field AS field,
               count(*) FILTER (WHERE f.b IS NOT NULL AND f.s IS NOT NULL) AS compared,
               count(*) FILTER (WHERE f.b = f.s) AS agreed
        FROM (SELECT coalesce(b.township, '{UNKNOWN_TOWNSHIP}') AS township,
                     unnest([{fields}]) AS f
              FROM {pairs})
        GROUP BY ALL ORDER BY ALL
    """)
    return _rate(frame, "agreed", "compared", schema)


MARRIED_STATUSES = ("初婚", "再婚", "复婚", "已婚")


def timeliness(
    store: Store, *, as_of: dt.date | None = None, by_township: bool = False
) -> pl.DataFrame:
    """Per event kind (and township): ``events``, ``in_time``, ``rate``; empty without
    links."""
    keys = _keys(by_township)
    schema = {
        **{k: pl.String for k in keys},
        "event": pl.String,
        "events": pl.Int64,
        "in_time": pl.Int64,
        "rate": pl.Float64,
    }
    if not store.has_table("links"):
        return pl.DataFrame(schema=schema)
    as_of = as_of or dt.date.today()
    days = store.settings.timeliness_days
    parts = []
    if store.has_table("src_death"):
        parts.append("""SELECT 'death' AS event, l.person_id, d.death_date AS day,
                   NULL::VARCHAR AS mother
            FROM links l JOIN src_death d ON d.record_id = l.source_record_id
            WHERE l.source = 'death' AND l.person_id IS NOT NULL""")
    if store.has_table("src_hukou"):
        parts.append("""SELECT CASE h.hukou_status WHEN '死亡注销' THEN 'death' ELSE 'move' END
                       AS event, l.person_id, h.change_date AS day, NULL::VARCHAR AS mother
            FROM links l JOIN src_hukou h ON h.record_id = l.source_record_id
            WHERE l.source = 'hukou' AND l.person_id IS NOT NULL
              AND h.hukou_status IN ('死亡注销', '迁出注销')""")
    if store.has_table("src_marriage"):
        parts.append("""SELECT CASE m.registration_type WHEN '结婚' THEN 'marriage'
                                                      ELSE 'divorce' END AS event,
                   l.person_id, m.registration_date AS day, NULL::VARCHAR AS mother
            FROM links l JOIN src_marriage m ON m.record_id = l.source_record_id
            WHERE l.source = 'marriage' AND l.person_id IS NOT NULL""")
    if store.has_table("src_birth_certificate"):  # a birth is an event whether linked or not
        # a county birth (child or mother in the base) is an event whether registered or not
        parts.append("""SELECT 'birth' AS event,
                   coalesce(c.person_id, '~certificate:' || b.record_id) AS person_id,
                   b.birth_date AS day, m.person_id AS mother
            FROM src_birth_certificate b
            LEFT JOIN links c ON c.source = 'birth_certificate' AND c.role = 'child'
                             AND c.source_record_id = b.record_id
            LEFT JOIN links m ON m.source = 'birth_certificate' AND m.role = 'mother'
                             AND m.source_record_id = b.record_id
            WHERE c.person_id IS NOT NULL OR m.person_id IS NOT NULL""")
    if not parts:
        return pl.DataFrame(schema=schema)
    married = ", ".join(f"'{m}'" for m in MARRIED_STATUSES)
    cols = "township, " if by_township else ""
    frame = store.frame(
        f"""
        WITH e AS (
            SELECT event, person_id, min(day) AS day, any_value(mother) AS mother
            FROM ({" UNION ALL ".join(parts)})
            WHERE day BETWEEN $as_of - INTERVAL 1 YEAR AND $as_of - to_days($days)
            GROUP BY event, person_id
        ),
        judged AS (
            SELECT coalesce(p.township, s.township, m.township, '{UNKNOWN_TOWNSHIP}')
                       AS township, e.event,
                   s.updated_at IS NOT NULL AND s.updated_at <= e.day + to_days($days)
                   AND CASE e.event
                       WHEN 'death' THEN s.status = '死亡注销'
                       WHEN 'move' THEN s.status = '迁出注销'
                       WHEN 'marriage' THEN s.marital_status IN ({married})
                       WHEN 'divorce' THEN s.marital_status = '离婚'
                       ELSE s.person_id IS NOT NULL END AS in_time
            FROM e
            LEFT JOIN src_population s ON s.person_id = e.person_id
            LEFT JOIN {PERSON_TABLE} p ON p.source = 'population' AND p.record_id = s.person_id
            LEFT JOIN {PERSON_TABLE} m ON m.source = 'population' AND m.record_id = e.mother
        )
        SELECT {cols}event, count(*) AS events, count(*) FILTER (WHERE in_time) AS in_time
        FROM judged GROUP BY ALL ORDER BY ALL
        """,
        {"as_of": as_of, "days": days},
    )
    return _rate(frame, "in_time", "events", schema)


def _rate(frame: pl.DataFrame, num: str, den: str, schema: Mapping[str, object]) -> pl.DataFrame:
    return (
        frame.with_columns(pl.col(num).cast(pl.Int64), pl.col(den).cast(pl.Int64))
        .with_columns(pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias("rate"))
        .select(list(schema))
    )


@dataclass(frozen=True)
class BaseFigures:
    """The figures drawn from the base alone (not from links), county and per township."""

    completeness: pl.DataFrame
    consistency: pl.DataFrame
    id_validity: pl.DataFrame
    completeness_by_township: pl.DataFrame
    consistency_by_township: pl.DataFrame
    id_validity_by_township: pl.DataFrame


def base_figures(store: Store, *, as_of: dt.date | None = None) -> BaseFigures:
    """Every base-only figure from one pass over the base (:func:`person_flags`)."""
    flags = person_flags(store, as_of=as_of)
    return BaseFigures(
        completeness(store, flags=flags),
        consistency(store, flags=flags),
        id_validity(store, flags=flags),
        completeness(store, by_township=True, flags=flags),
        consistency(store, by_township=True, flags=flags),
        id_validity(store, by_township=True, flags=flags),
    )


def county_coverage(by_township: pl.DataFrame) -> pl.DataFrame:
    """The county's row of :func:`coverage` from its per-township rows (one query less)."""
    if by_township.is_empty():  # no 户籍 data: no figure, as coverage() says
        return by_township.drop("township")
    total = by_township.select(pl.col("hukou_active").sum(), pl.col("linked").sum())
    return total.with_columns(
        pl.when(pl.col("hukou_active") > 0)
        .then(pl.col("linked") / pl.col("hukou_active"))
        .alias("rate")
    )


def _overall(frame: pl.DataFrame, num: str, den: str) -> tuple[int, int, float | None]:
    n, d = int(frame[num].sum()), int(frame[den].sum())
    return n, d, (n / d if d else None)


def headline(
    store: Store,
    *,
    as_of: dt.date | None = None,
    coverage_by_township: pl.DataFrame | None = None,
    base: BaseFigures | None = None,
) -> pl.DataFrame:
    """The county's figures: ``figure``, ``label``, ``numerator``, ``denominator``,
    ``value``, ``target`` (null when the province sets none), ``meets_target``."""
    base = with_link_rules(store, base_figures(store, as_of=as_of)) if base is None else base
    comp, cons, ids = base.completeness, base.consistency, base.id_validity
    cov = coverage(store) if coverage_by_township is None else county_coverage(coverage_by_township)
    rows = []
    for figure, label, frame, num, den, target in (
        (
            "coverage",
            "户籍人口入库覆盖率 (base coverage of 户籍)",
            cov,
            "linked",
            "hukou_active",
            COVERAGE_TARGET,
        ),
        (
            "completeness",
            "基本项完整率 (completeness of the basic items)",
            comp,
            "valid",
            "persons",
            QUALITY_TARGET,
        ),
        (
            "consistency",
            "逻辑一致率 (logical consistency)",
            cons,
            "passed",
            "checked",
            QUALITY_TARGET,
        ),
        (
            "matching_rate",
            "全员人口匹配率 (base persons matched by 户籍)",
            matching_rate(store),
            "matched",
            "base_active",
            COVERAGE_TARGET,
        ),
        (
            "accuracy",
            "主要项准确率 (accuracy against 公安)",
            accuracy(store),
            "agreed",
            "compared",
            QUALITY_TARGET,
        ),
        (
            "timeliness",
            "更新及时率 (events reflected in time)",
            timeliness(store, as_of=as_of),
            "in_time",
            "events",
            QUALITY_TARGET,
        ),
        (
            "birth_coverage",
            "出生人口数据库覆盖率 (children 0-10 known to a source, in the base)",
            birth_coverage(store, as_of=as_of),
            "in_base",
            "children",
            COVERAGE_TARGET,
        ),
        ("id_validity", "身份证号有效率 (ID validity)", ids, "valid", "with_id", None),
    ):
        n, d, value = _overall(frame, num, den)
        rows.append(
            {
                "figure": figure,
                "label": label,
                "numerator": n,
                "denominator": d,
                "value": value,
                "target": target,
                "meets_target": None if value is None or target is None else value >= target,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "figure": pl.String,
            "label": pl.String,
            "numerator": pl.Int64,
            "denominator": pl.Int64,
            "value": pl.Float64,
            "target": pl.Float64,
            "meets_target": pl.Boolean,
        },
    )


def township_ranking(
    store: Store,
    *,
    as_of: dt.date | None = None,
    coverage_by_township: pl.DataFrame | None = None,
    base: BaseFigures | None = None,
) -> pl.DataFrame:
    """One row per township with its four rates, weakest first.

    ``targets_missed`` counts coverage < 95 %, completeness < 90 %, consistency < 90 %;
    townships are ranked by it (most missed first), then by their lowest of those rates.
    """

    def per(frame: pl.DataFrame, num: str, den: str, name: str) -> pl.DataFrame:
        return (
            frame.group_by("township")
            .agg(pl.col(num).sum(), pl.col(den).sum())
            .select(
                "township", pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias(name)
            )
        )

    base = with_link_rules(store, base_figures(store, as_of=as_of)) if base is None else base
    comp, cons, ids = (
        base.completeness_by_township,
        base.consistency_by_township,
        base.id_validity_by_township,
    )
    persons = comp.group_by("township").agg(pl.col("persons").first())
    out = persons
    cov = (
        coverage(store, by_township=True) if coverage_by_township is None else coverage_by_township
    )
    for frame in (
        per(cov, "linked", "hukou_active", "coverage"),
        per(comp, "valid", "persons", "completeness"),
        per(cons, "passed", "checked", "consistency"),
        per(ids, "valid", "with_id", "id_validity"),
    ):
        out = out.join(frame, on="township", how="full", coalesce=True)
    missed = (
        (pl.col("coverage") < COVERAGE_TARGET).fill_null(False).cast(pl.Int32)
        + (pl.col("completeness") < QUALITY_TARGET).fill_null(False).cast(pl.Int32)
        + (pl.col("consistency") < QUALITY_TARGET).fill_null(False).cast(pl.Int32)
    )
    lowest = pl.min_horizontal("coverage", "completeness", "consistency")
    return (
        out.with_columns(
            pl.col("persons").fill_null(0).cast(pl.Int64),
            missed.alias("targets_missed"),
            lowest.alias("_lowest"),
        )
        .sort(
            ["targets_missed", "_lowest", "township"],
            descending=[True, False, False],
            nulls_last=True,
        )
        .drop("_lowest")
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
        .select(
            "rank",
            "township",
            "persons",
            "coverage",
            "completeness",
            "consistency",
            "id_validity",
            "targets_missed",
        )
    )


#: the figures of ``renkou figures``, in order
ASSESSED = (
    "coverage",
    "birth_coverage",
    "matching_rate",
    "completeness",
    "consistency",
    "accuracy",
    "timeliness",
    "feedback_rate",
    "on_time_feedback_rate",
    "confirmed_rate",
)


def assessment(store: Store, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Every assessed figure (:data:`ASSESSED`) for the county and per township, as
    ``{"as_of": …, "county": {figure: rate}, "townships": {乡镇: {figure: rate}},
    "not_measurable": {"items": […], "count": n}}``, the county also with the 协查 feedback
    rates (:data:`EXCHANGE_ASSESSED`); a rate is a fraction 0..1, None where
    there is nothing to count; ``not_measurable`` lists the basic items of plan 002 the base
    does not carry (completeness is over the ten it does). Township task rates are
    ``linkage.tasks.progress``'s (on time: answered by the deadline / tasks sent and not
    withdrawn; confirmed: 属实 / (属实 + 不属实))."""
    as_of = as_of or dt.date.today()
    base = with_link_rules(store, base_figures(store, as_of=as_of))
    # per township; the county is their sum (one pass per figure, as the headline does)
    parts: dict[str, tuple[pl.DataFrame, str, str]] = {
        "coverage": (coverage(store, by_township=True), "linked", "hukou_active"),
        "birth_coverage": (
            birth_coverage(store, as_of=as_of, by_township=True),
            "in_base",
            "children",
        ),
        "matching_rate": (matching_rate(store, by_township=True), "matched", "base_active"),
        "completeness": (base.completeness_by_township, "valid", "persons"),
        "consistency": (base.consistency_by_township, "passed", "checked"),
        "accuracy": (accuracy(store, by_township=True), "agreed", "compared"),
        "timeliness": (timeliness(store, as_of=as_of, by_township=True), "in_time", "events"),
    }
    county: dict[str, float | None] = dict.fromkeys(ASSESSED)
    towns: dict[str, dict[str, float | None]] = {}
    for figure, (by_town, num, den) in parts.items():
        if not by_town.height:
            continue
        county[figure] = _overall(by_town, num, den)[2]
        sums = by_town.group_by("township").agg(pl.col(num).sum(), pl.col(den).sum())
        for town, n, d in sums.select("township", num, den).iter_rows():
            towns.setdefault(town, dict.fromkeys(ASSESSED))[figure] = n / d if d else None
    county.update(_exchange_rates(store, as_of))
    tasks = _task_rates(store, as_of)
    for town, rates in tasks.items():
        target = county if town == "合计" else towns.setdefault(town, dict.fromkeys(ASSESSED))
        target.update(rates)
    return {
        "as_of": as_of.isoformat(),
        "county": county,
        "townships": dict(sorted(towns.items())),
        "not_measurable": {"items": list(NOT_MEASURABLE), "count": len(NOT_MEASURABLE)},
    }


#: county figures of the 协查 queries received (they have no township): ``renkou exchange
#: status``'s feedback rate (definite answers sent by each cycle's answer day / received) and
#: the share answered by the asking county's 反馈期限
EXCHANGE_ASSESSED = ("exchange_feedback_rate", "exchange_on_time_feedback_rate")


def _exchange_rates(store: Store, as_of: dt.date) -> dict[str, float | None]:
    rates: dict[str, float | None] = dict.fromkeys(EXCHANGE_ASSESSED)
    if not store.has_table("exchange_received"):
        return rates
    from linkage.exchange.incoming import received_status

    frame = received_status(store, as_of)
    received = int(frame["received"].sum()) if frame.height else 0
    if received:
        rates["exchange_feedback_rate"] = int(frame["by_answer_day"].sum()) / received
        rates["exchange_on_time_feedback_rate"] = int(frame["in_time"].sum()) / received
    return rates


def _task_rates(store: Store, as_of: dt.date) -> dict[str, dict[str, float | None]]:
    if not store.has_table("task_assignments"):
        return {}
    from linkage.tasks.progress import township_progress

    rows = township_progress(store, as_of, store.settings.tasks.target_rate)
    out = {}
    for r in rows.iter_rows(named=True):
        sent = (r["sent"] or 0) - (r["withdrawn"] or 0)
        out[str(r["township"])] = {
            "feedback_rate": _number(r["feedback_rate"]),
            "on_time_feedback_rate": r["on_time"] / sent if sent else None,
            "confirmed_rate": _number(r["confirmation_rate"]),
        }
    return out


def _number(value: object) -> float | None:
    """A rate as JSON holds it: NaN (nothing to count) becomes None."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number
