"""What every finding type is made of, and the SQL pieces the rules share.

A finding type is one module of this package with one subclass of :class:`FindingType`: its
rule (SQL over the links, returning candidate rows with :data:`COLUMNS`), what the township
is told (clue, subject, basis), what an answer teaches the model (label pairs), what a
confirmed case changes in the base (change-list row) and how ``renkou evaluate`` counts it.
``linkage.catalog.FINDING_TYPES`` lists the instances; everything else reads them there.

Class attributes are data (labels, actions, the cancellation reason the plans fix, the
default deadline); methods have defaults that fit a finding about one linked base person, so
a type overrides only what is its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from linkage.settings import Limit
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table
from linkage.wording import FIELD_ZH, compare_zh

#: the columns of a candidate finding (``linkage.casework`` adds ids and statuses)
COLUMNS = [
    "finding_type",
    "case_key",
    "source",
    "source_record_id",
    "role",
    "person_id",
    "other_person_id",
    "field",
    "base_value",
    "source_value",
    "match_probability",
    "township",
    "village",
    "suggested_action",
    "cancellation_reason",
    "priority",
    "evidence",
    "destination",
]

#: a base person whom the base still counts as present
ACTIVE = "正常"

Row = dict[str, Any]


#: a type's time limit: ``days`` counted in ``unit`` ("working" = 工作日, "calendar" = 日)
Deadline = Limit


@dataclass(frozen=True)
class Links:
    """The tables a rule reads: the links (the system's, or the exact-ID baseline's), the
    base dedupe pairs and the clerical pairs (None when there are none to read: the baseline
    has no review band), and the day the rules judge on (``today``: None is the clock's)."""

    links: str
    dedupe_pairs: str | None = None
    clerical: str | None = None
    today: dt.date | None = None

    @property
    def day(self) -> dt.date:
        """The day the rules judge on."""
        return self.today or dt.date.today()


@dataclass
class TaskContext:
    """What the task list knows about a batch of findings, looked up once for all of them.

    ``base``: base persons by id; ``src``: source rows by (source, record id); ``persons``:
    person records by (source, record id, role); ``explain``: the link explanation of
    (source, record, role, base person) in Chinese; ``mask``: an ID number as shown.
    """

    base: dict[str, Row]
    src: dict[tuple[str, str], Row]
    persons: dict[tuple[str, str, str], Row]
    explain: Callable[[tuple[str, str, str, str]], str]
    mask: Callable[[str | None], str]
    source_zh: Callable[[str], str]

    def rows(self, f: Row) -> list[Row]:
        """The source rows that are the evidence of ``f`` (a death may have several)."""
        source = f.get("source") or ""
        return [self.src[(source, r)] for r in records(f) if (source, r) in self.src]

    def person(self, f: Row) -> Row:
        """The person record of the finding's own source record and role."""
        key = (f.get("source") or "", f.get("source_record_id") or "", f.get("role") or "")
        return self.persons.get(key, {})

    def base_person(self, person_id: str | None) -> Row:
        return self.base.get(person_id or "", {})


def text(value: Any) -> str:
    """A value as printed in a task list (dates ISO, nothing for None)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def evidence(raw: str | None) -> dict[str, Any]:
    """The JSON evidence of a finding as a dict (``{}`` when absent or unreadable)."""
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def records(finding: Row) -> list[str]:
    """Every evidence record of a finding (a death may be told by several records)."""
    listed = evidence(finding.get("evidence")).get("records")
    ids = [str(r) for r in listed] if isinstance(listed, list) else []
    own = finding.get("source_record_id")
    return ids or ([own] if own else [])


def base_persons(alias: str = "b") -> str:
    """SQL: the base persons (``person_records`` of the population) as ``alias``."""
    return f"""(SELECT record_id AS person_id, name, sex, id_number, id_raw, id_status,
               birth_date, ethnicity, household_id, address, township, village, status,
               marital_status, hukou_type, name_key
               FROM {PERSON_TABLE} WHERE source = 'population') {alias}"""


def in_hukou(store: Store, alias: str) -> str:
    """SQL: whether the 户籍 register holds the person record ``alias`` (by ID number, or by
    name and birth date); ``false`` while no 户籍 has been delivered."""
    if not store.has_table(source_table("hukou")):
        return "false"
    return f"""EXISTS (SELECT 1 FROM {PERSON_TABLE} h WHERE h.source = 'hukou'
        AND (h.id_number = {alias}.id_number
             OR (h.name_key = {alias}.name_key AND h.birth_date = {alias}.birth_date)))"""


def candidates(store: Store, sql: str) -> pl.DataFrame:
    """Run a rule's SQL; the frame has exactly :data:`COLUMNS` (missing ones null)."""
    return as_candidates(store.frame(sql))


def as_candidates(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly :data:`COLUMNS`, in order (missing ones null)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing).select(
        [pl.col(c).cast(pl.Float64 if c == "match_probability" else pl.String) for c in COLUMNS]
    )


class FindingType:
    """One kind of case. Subclasses set the class attributes and write :meth:`rules`."""

    #: ``finding_type`` as exported (docs/interfaces.md)
    key: ClassVar[str]
    #: 核查类型, as township staff read it
    zh: ClassVar[str]
    #: a few letters for the night's summary table
    short: ClassVar[str]
    #: sources whose tables the rule reads; the rule is skipped while one is missing
    requires: ClassVar[tuple[str, ...]] = ()
    #: ``suggested_action`` of every case
    action: ClassVar[str]
    #: 建议处理: what the village officer is asked to do
    action_zh: ClassVar[str]
    #: the fixed cancellation reason (注销原因) when a confirmed case cancels a base row
    cancellation_reason: ClassVar[str | None] = None
    #: the type's own time limit (config ``[deadlines.finding_type]`` may override it); None:
    #: only the limit of the case's priority applies
    deadline: ClassVar[Deadline | None] = None
    #: 变更类型 of the change-list row of a confirmed case: 注销, 更正, 补登, 补录
    change: ClassVar[str]
    #: 变更项目 of that row
    change_item: ClassVar[str] = "人员状态"
    #: what makes two cases the same case for ``renkou evaluate``: "person" (the true human
    #: of ``person_id``), "person_field", "record" (source and record), "record_role" (source,
    #: record and role) or "pair"
    evaluation: ClassVar[str] = "person"
    #: (a confirmed answer says the link is a match, a rejected answer says it is not);
    #: None when the case rests on no link
    labels: ClassVar[tuple[bool, bool] | None] = (True, True)
    #: whether township staff verify the case at the household (task lists); False for a
    #: case the office sends elsewhere (cross_county_query: ``renkou exchange export``)
    fieldwork: ClassVar[bool] = True

    # ------------------------------------------------------------------ the rule
    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        """Candidate findings (frames with :data:`COLUMNS`, via :func:`candidates`)."""
        raise NotImplementedError

    def not_raised(self, store: Store) -> str | None:
        """Why the rule could not judge tonight although its sources were delivered (said in
        the night's summary), or None."""
        return None

    def applies(self, store: Store, tables: Links) -> bool:
        """Whether the rule can run: every source it reads has been delivered."""
        return all(store.has_table(source_table(s)) for s in self.requires)

    # ------------------------------------------------------------------ the task list
    def clue(self, f: Row, ctx: TaskContext) -> str:
        """线索来源及内容: which record says what."""
        return ctx.source_zh(f.get("source") or "")

    def subject(self, f: Row, ctx: TaskContext) -> tuple[str, str, str]:
        """(姓名, 身份证号 masked, 户籍地址) of the person the visit is about."""
        person = ctx.base_person(f.get("person_id"))
        return (
            person.get("name") or "",
            ctx.mask(person.get("id_number")),
            person.get("address") or "",
        )

    def link_pair(self, f: Row) -> tuple[str, str | None]:
        """(role, base person) of the link the case rests on."""
        return f.get("role") or "person", f.get("person_id")

    def basis(self, f: Row, ctx: TaskContext) -> str:
        """系统判断依据: why the system thinks so, from the link's comparison levels."""
        return self.link_explained(f, ctx) or compare_zh(
            ctx.base_person(f.get("person_id")), ctx.person(f)
        )

    def link_explained(self, f: Row, ctx: TaskContext) -> str:
        role, person = self.link_pair(f)
        key = (f.get("source") or "", f.get("source_record_id") or "", role, person or "")
        return ctx.explain(key) if person else ""

    # ------------------------------------------------------------------ answers and changes
    def label_pairs(self, label: Row) -> list[Row]:
        """The (source, record, role, base person) pairs an answer speaks about."""
        listed = json.loads(str(label["records"] or "[]")) or [label["source_record_id"]]
        return [
            {
                "source": label["source"],
                "source_record_id": r,
                "role": label["role"],
                "person_id": label["person_id"],
            }
            for r in listed
        ]

    def change_row(self, task: Row) -> Row | None:
        """The change-list columns of a confirmed case (besides 人员编号, 姓名, 身份证号, 依据);
        None when the case changes nothing in the base."""
        if self.cancellation_reason:
            return {
                "变更类型": self.change,
                "注销原因": self.cancellation_reason,
                "变更项目": self.change_item,
                "原值": ACTIVE,
                "新值": CANCELLED_STATUS.get(self.cancellation_reason, "注销"),
            }
        return {"变更类型": self.change, "变更项目": self.change_item}

    def field_zh(self, f: Row) -> str:
        field = f.get("field") or ""
        return FIELD_ZH.get(field, field)

    def __repr__(self) -> str:
        return f"<finding type {self.key}>"


#: cancellation reason → the base status a cancelled row gets
CANCELLED_STATUS = {
    "人口死亡登记": "死亡注销",
    "重复人口注销": "重复注销",
    "移交外省管理": "迁出注销",
    "错误信息注销": "错误注销",
}
