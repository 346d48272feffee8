"""The catalog: every source and every finding type, declared once; everything else reads it.

A **source** is a department's delivery: its inbox folder (``key``), the label township staff
read (``zh``), its data contract (``data_contracts``), the person records each row yields by
role (``roles``: person column ← source column, or a literal) and whether it is linked to the
base each night (its linkage settings are ``sources/<key>.toml``). Adding a source is one
contract module, one entry here and one settings file.

A **finding type** is one module of ``linkage.findings`` (its rule and its wording); adding
one is that module, its line in :data:`FINDING_TYPES` and, if it needs them, settings
(docs/rules.md shows a worked example).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from data_contracts import (
    BirthCertificate,
    Contract,
    Death,
    Hukou,
    Marriage,
    MaternityInsurance,
    Population,
    School,
    Vaccination,
)
from linkage.findings import (
    attribute_conflict,
    cross_county_query,
    duplicate_person,
    incoming_query,
    married_out,
    moved_out,
    suspected_death,
    transfer,
    uncertain_link,
    unregistered_birth,
    unregistered_person,
    unverified_person,
)
from linkage.findings.base import FindingType
from linkage.tables import source_table

#: a person column ← a source column, or ("literal", value)
RoleColumns = Mapping[str, "str | tuple[str, str]"]


@dataclass(frozen=True)
class Source:
    """One department's delivery (see the module docstring)."""

    key: str
    zh: str
    contract: type[Contract]
    roles: Mapping[str, RoleColumns]
    linked: bool = True
    optional_roles: tuple[str, ...] = ()
    household_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def table(self) -> str:
        """The table of its delivered rows."""
        return source_table(self.key)

    def scored_roles(self) -> tuple[str, ...]:
        """The roles the person model scores: all but children linked only through their
        parents' households (no ID column of their own)."""
        return tuple(
            r
            for r in self.roles
            if not (r in self.household_roles and "id_number" not in self.roles[r])
        )

    @property
    def record_key(self) -> str:
        """The column that identifies one of its records."""
        return self.contract.record_key


#: every source, the base first
SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            key="population",
            zh="全员人口库",
            contract=Population,
            linked=False,
            roles={
                "person": {
                    "record_id": "person_id",
                    "name": "name",
                    "sex": "sex",
                    "id_number": "id_number",
                    "birth_date": "birth_date",
                    "ethnicity": "ethnicity",
                    "address": "hukou_address",
                    "township": "township",
                    "village": "village",
                    "household_id": "household_id",
                    "status": "status",
                    "marital_status": "marital_status",
                    "hukou_type": "hukou_type",
                },
            },
        ),
        Source(
            key="hukou",
            zh="公安户籍",
            contract=Hukou,
            linked=True,
            roles={
                "person": {
                    "record_id": "record_id",
                    "name": "name",
                    "former_name": "former_name",
                    "sex": "sex",
                    "id_number": "id_number",
                    "birth_date": "birth_date",
                    "ethnicity": "ethnicity",
                    "address": "hukou_address",
                    "household_id": "household_id",
                    "hukou_type": "hukou_type",
                    "status": "hukou_status",
                    "event_date": "change_date",
                },
            },
        ),
        Source(
            key="death",
            zh="死亡记录",
            contract=Death,
            linked=True,
            roles={
                "person": {
                    "record_id": "record_id",
                    "name": "name",
                    "sex": "sex",
                    "id_number": "id_number",
                    "birth_date": "birth_date",
                    "address": "address",
                    "event_date": "death_date",
                },
            },
        ),
        Source(
            key="marriage",
            zh="婚姻登记",
            contract=Marriage,
            linked=True,
            roles={
                "husband": {
                    "record_id": "record_id",
                    "name": "husband_name",
                    "id_number": "husband_id_number",
                    "birth_date": "husband_birth_date",
                    "sex": ("literal", "男"),
                    "event_date": "registration_date",
                },
                "wife": {
                    "record_id": "record_id",
                    "name": "wife_name",
                    "id_number": "wife_id_number",
                    "birth_date": "wife_birth_date",
                    "sex": ("literal", "女"),
                    "event_date": "registration_date",
                },
            },
        ),
        Source(
            key="birth_certificate",
            zh="出生医学证明",
            contract=BirthCertificate,
            linked=True,
            roles={
                "child": {
                    "record_id": "record_id",
                    "name": "child_name",
                    "sex": "sex",
                    "birth_date": "birth_date",
                    "address": "address",
                    "event_date": "birth_date",
                },
                "mother": {
                    "record_id": "record_id",
                    "name": "mother_name",
                    "id_number": "mother_id_number",
                    "sex": ("literal", "女"),
                    "address": "address",
                    "event_date": "birth_date",
                },
                "father": {
                    "record_id": "record_id",
                    "name": "father_name",
                    "id_number": "father_id_number",
                    "sex": ("literal", "男"),
                    "address": "address",
                    "event_date": "birth_date",
                },
            },
            optional_roles=("father",),
            household_roles={"child": ("mother", "father")},
        ),
        Source(
            key="maternity_insurance",
            zh="生育保险",
            contract=MaternityInsurance,
            linked=True,
            roles={
                "person": {
                    "record_id": "record_id",
                    "name": "name",
                    "id_number": "id_number",
                    "sex": ("literal", "女"),
                    "event_date": "delivery_date",
                },
            },
        ),
        Source(
            key="vaccination",
            zh="预防接种",
            contract=Vaccination,
            linked=True,
            roles={
                # no event date: a child's age at its own birth would read as implausible
                "child": {
                    "record_id": "record_id",
                    "name": "child_name",
                    "sex": "sex",
                    "birth_date": "birth_date",
                    "id_number": "id_number",
                    "address": "address",
                },
                "mother": {
                    "record_id": "record_id",
                    "name": "mother_name",
                    "id_number": ("mother_id", "guardian_id_number"),
                    "sex": ("literal", "女"),
                    "address": "address",
                    "event_date": "birth_date",
                },
                "guardian": {
                    "record_id": "record_id",
                    "id_number": "guardian_id_number",
                    "address": "address",
                    "event_date": "birth_date",
                },
            },
            optional_roles=("mother", "guardian"),
            household_roles={"child": ("mother", "guardian")},
        ),
        Source(
            key="school",
            zh="在校学生",
            contract=School,
            linked=True,
            roles={
                "person": {
                    "record_id": "record_id",
                    "name": "name",
                    "sex": "sex",
                    "birth_date": "birth_date",
                    "id_number": "id_number",
                    "address": "address",
                },
                "guardian": {
                    "record_id": "record_id",
                    "name": "guardian_name",
                    "id_number": "guardian_id_number",
                    "address": "address",
                    "event_date": "birth_date",
                },
            },
            optional_roles=("guardian",),
            household_roles={"person": ("guardian",)},
        ),
    )
}
#: the base: every other source is linked to it
BASE = "population"
#: the sources linked to the base each night, in linking order
LINK_SOURCES: tuple[str, ...] = tuple(k for k, s in SOURCES.items() if s.linked)

#: (source, role) of every child linked through its parents' households
CHILD_ROLES: tuple[tuple[str, str], ...] = tuple(
    (k, r) for k, s in SOURCES.items() for r in s.household_roles
)

#: every finding type, in the order task lists and reports show them
FINDING_TYPES: dict[str, FindingType] = {
    m.FINDING.key: m.FINDING
    for m in (
        suspected_death,
        unregistered_birth,
        attribute_conflict,
        duplicate_person,
        moved_out,
        transfer,
        married_out,
        unregistered_person,
        unverified_person,
        uncertain_link,
        cross_county_query,
        incoming_query,
    )
}


def delivered_table(source: str | None) -> tuple[str, str] | None:
    """(table, record key column) of a known source; None for anything else, so that a value
    read from a table never becomes an identifier unchecked."""
    if source not in SOURCES:
        return None
    return SOURCES[source].table, SOURCES[source].record_key


def type_labels() -> dict[str, str]:
    """Finding type → 核查类型, in catalog order (read afresh: the catalog is the truth)."""
    return {k: t.zh for k, t in FINDING_TYPES.items()}


def source_labels() -> dict[str, str]:
    """Source → its label for people, in catalog order."""
    return {k: s.zh for k, s in SOURCES.items()}


def source_zh(key: str | None) -> str:
    """A source's label for people (the key itself for an unknown one)."""
    return source_labels().get(key or "", key or "")


def type_zh(key: str | None) -> str:
    """A finding type's 核查类型 (the key itself for an unknown one)."""
    return type_labels().get(key or "", key or "")


def action_zh(suggested_action: str | None) -> str:
    """A suggested action in words a village officer acts on."""
    said = {t.action: t.action_zh for t in FINDING_TYPES.values()}
    return said.get(suggested_action or "", suggested_action or "")
