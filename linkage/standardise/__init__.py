"""Standardisation: pure, vectorised polars functions from delivered values to comparable ones.

Modules: ``ids`` (公民身份号码), ``names`` (cleaning, keys, surname split, pinyin), ``dates``
(formats, lunar alternative), ``codes`` (sex, marital status, ethnicity, statuses),
``addresses`` (prefix stripping, township / village / group). :func:`person_frame` puts them
together into the shared person-record shape of ``person_records`` (docs/architecture.md).
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from linkage.standardise._text import clean_text_expr
from linkage.standardise.addresses import (
    chinese_number_expr,
    clean_address_expr,
    standardise_address,
    strip_admin_prefix_expr,
)
from linkage.standardise.codes import (
    ETHNICITIES,
    ETHNICITY_VALUES,
    HUKOU_STATUSES,
    HUKOU_TYPES,
    MARITAL_STATUSES,
    PERSON_STATUSES,
    SEXES,
    ethnicity_expr,
    hukou_status_expr,
    hukou_type_expr,
    map_code_expr,
    marital_status_expr,
    person_status_expr,
    sex_expr,
    standardise_code,
    standardise_sex,
)
from linkage.standardise.dates import (
    add_lunar_alternative,
    lunar_alternative_expr,
    lunar_to_solar,
    parse_date_expr,
    standardise_dates,
    swap_month_day,
)
from linkage.standardise.ids import mask_id, normalise_id_expr, parse_id, standardise_id
from linkage.standardise.names import (
    clean_name_expr,
    name_pinyin,
    standardise_names,
    surname_split,
)

__all__ = [
    "ETHNICITIES",
    "ETHNICITY_VALUES",
    "HUKOU_STATUSES",
    "HUKOU_TYPES",
    "MARITAL_STATUSES",
    "PERSON_COLUMNS",
    "PERSON_INPUT_COLUMNS",
    "PERSON_STATUSES",
    "SEXES",
    "add_lunar_alternative",
    "chinese_number_expr",
    "clean_address_expr",
    "clean_name_expr",
    "ethnicity_expr",
    "hukou_status_expr",
    "hukou_type_expr",
    "lunar_alternative_expr",
    "lunar_to_solar",
    "map_code_expr",
    "marital_status_expr",
    "mask_id",
    "name_pinyin",
    "normalise_id_expr",
    "parse_date_expr",
    "parse_id",
    "person_frame",
    "person_status_expr",
    "sex_expr",
    "standardise_address",
    "standardise_code",
    "standardise_dates",
    "standardise_id",
    "standardise_names",
    "standardise_sex",
    "strip_admin_prefix_expr",
    "surname_split",
    "swap_month_day",
]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

#: Canonical per-person columns :func:`person_frame` reads; any may be missing.
PERSON_INPUT_COLUMNS = (
    "source",
    "record_id",
    "role",
    "name",
    "former_name",
    "sex",
    "id_number",
    "birth_date",
    "ethnicity",
    "address",
    "township",
    "village",
    "event_date",
    "household_id",
    "status",
    "marital_status",
    "hukou_type",
)

#: The columns of a standardised person record, in order.
PERSON_COLUMNS = (
    "rec_key",
    "source",
    "record_id",
    "role",
    "name",
    "name_key",
    "surname",
    "given_name",
    "name_py",
    "surname_py",
    "given_py",
    "former_name_key",
    "former_name_py",
    "name_snd",
    "name_snd_parts",
    "id_number",
    "id_raw",
    "id_status",
    "id_birth_date",
    "id_sex",
    "id_region",
    "birth_date",
    "birth_date_lunar_alt",
    "birth_date_lunar_leap_alt",
    "birth_year",
    "birth_month",
    "birth_day",
    "sex",
    "ethnicity",
    "township",
    "village",
    "village_group",
    "house_number",
    "address",
    "event_date",
    "household_id",
    "status",
    "marital_status",
    "hukou_type",
)


def person_frame(frame: FrameT) -> FrameT:
    """Standardise canonical per-person columns into a person record (:data:`PERSON_COLUMNS`).

    Missing input columns count as all-null. ``township``/``village`` keep a delivered value
    and fall back to the one parsed from ``address``; ``address`` is cleaned and loses its
    province/city/county prefix. ``birth_year``/``birth_month``/``birth_day`` come from
    ``birth_date`` only (not from the ID). Returns the same kind of frame it was given.

    Example:
        >>> rows = {"source": ["death"], "record_id": ["D1"], "role": ["person"],
        ...         "name": ["張　偉"], "birth_date": ["1950年8月15日"]}
        >>> result = person_frame(pl.DataFrame(rows))
        >>> result.select("rec_key", "name_key", "birth_date_lunar_alt").row(0)
        ('death|D1|person', '张伟', datetime.date(1950, 9, 26))
    """
    lf = frame.lazy()
    present = set(lf.collect_schema().names())
    lf = lf.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in PERSON_INPUT_COLUMNS if c not in present
    ).with_columns(pl.col("source", "record_id", "role").cast(pl.String))
    lf = standardise_names(lf, "name", "name")
    lf = standardise_names(lf, "former_name", "former_name")
    lf = standardise_id(lf, "id_number", "id")
    lf = standardise_dates(lf, "birth_date")
    lf = standardise_dates(lf, "event_date")
    lf = add_lunar_alternative(lf, "birth_date")
    lf = standardise_address(lf, "address", "__addr")
    birth = pl.col("birth_date")
    lf = lf.with_columns(
        rec_key=pl.concat_str("source", "record_id", "role", separator="|"),
        surname="name_surname",
        given_name="name_given",
        surname_py="name_surname_py",
        given_py="name_given_py",
        birth_year=birth.dt.year().cast(pl.Int32),
        birth_month=birth.dt.month().cast(pl.Int32),
        birth_day=birth.dt.day().cast(pl.Int32),
        sex=sex_expr(pl.col("sex")),
        ethnicity=ethnicity_expr(pl.col("ethnicity")),
        hukou_type=hukou_type_expr(pl.col("hukou_type")),
        township=pl.coalesce(clean_text_expr(pl.col("township")), pl.col("__addr_township")),
        village=pl.coalesce(clean_text_expr(pl.col("village")), pl.col("__addr_village")),
        village_group=pl.col("__addr_group"),
        house_number=pl.col("__addr_house"),
        address=pl.col("__addr"),
    )
    lf = lf.select(PERSON_COLUMNS)
    return lf.collect() if isinstance(frame, pl.DataFrame) else lf
