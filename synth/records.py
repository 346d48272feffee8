"""Departmental records of the period's events, still clean: death (火化 and 死亡医学证明),
marriage registrations, 出生医学证明 and 生育保险 claims; and the children of the reference
date: 预防接种个案 (0-6) and 在校学生名册 (3-11).

Each frame carries, besides the interface columns, the true pid of every role
(``<role>_pid``), the delivery it comes in (1 = first half of the period, 2 = second) and
its ``file_kind`` (the death record's origin). Noise is applied afterwards (``corrupt``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .config import CountyConfig
from .events import Events
from .geography import Geography
from .identity import as_date, day
from .names_table import COUNTY_HOSPITALS, EMPLOYER_COMPANIES, EMPLOYERS


def _delivery(cfg: CountyConfig, days: pl.Expr) -> pl.Expr:
    """Deliveries: the first and the second half of the period."""
    mid = day(cfg.period_start) + cfg.period_days // 2
    return pl.when(days < mid).then(1).otherwise(2).cast(pl.Int8).alias("delivery")


def _seq(frame: pl.DataFrame, by: str, width: int, start: int = 1) -> pl.Series:
    """Running number in date order (ties by pid), zero padded."""
    order = frame.select(pl.struct(by, "true_pid").rank("ordinal")).to_series()
    return pl.Series(order.cast(pl.Int64) + start - 1).cast(pl.String).str.zfill(width)


def _home(rng: np.random.Generator, registered: pl.Series, current: pl.Series) -> pl.Series:
    """The address a department writes down: mostly the registered one, else where the
    person lives (people working in Guangdong give that address too)."""
    use_current = pl.Series(rng.random(len(current)) < 0.2) | registered.is_null()
    return pl.select(pl.when(use_current).then(current).otherwise(registered)).to_series()


def _address_variant(rng: np.random.Generator, geo: Geography, address: pl.Series) -> pl.Series:
    """Addresses as typed: full, or from the county on."""
    k = rng.integers(2, size=len(address))
    short = (
        geo.prefix[geo.prefix.index(geo.county_name) :]
        if geo.county_name in geo.prefix
        else geo.prefix
    )
    return (
        pl.select(
            pl.when(pl.Series(k == 1))
            .then(address.str.replace(geo.prefix, short, literal=True))
            .otherwise(address)
        )
        .to_series()
        .alias(address.name)
    )


def death_records(
    rng: np.random.Generator, cfg: CountyConfig, geo: Geography, truth: pl.DataFrame
) -> pl.DataFrame:
    cov = cfg.coverage
    dead = truth.filter(pl.col("death") >= 0)
    resident = (dead["origin"] != "nonresident_deceased").to_numpy()
    u = rng.random((dead.height, 2))
    cremated = np.where(resident, u[:, 0] < cov["cremation"], u[:, 0] < 0.4)
    certified = np.where(resident, u[:, 1] < cov["death_certificate"], ~cremated)
    parts = []
    for origin, mask, prefix in (("火化", cremated, "HH"), ("死亡医学证明", certified, "SW")):
        rows = dead.filter(pl.Series(mask)).rename({"pid": "true_pid"})
        rows = rows.with_columns(
            (
                pl.lit(f"{prefix}{cfg.code}-{cfg.reference_date.year}-") + _seq(rows, "death", 5)
            ).alias("record_id"),
            pl.lit(origin).alias("origin"),
            pl.lit(origin).alias("file_kind"),
            _address_variant(
                rng, geo, _home(rng, rows["hukou_address"], rows["address"]).alias("address")
            ),
            _delivery(cfg, pl.col("death")),
        )
        parts.append(rows)
    return pl.concat(parts).select(
        "record_id",
        "name",
        "sex",
        "id_number",
        "birth_date",
        "death_date",
        "address",
        "origin",
        "true_pid",
        "delivery",
        "file_kind",
    )


def marriage_records(
    cfg: CountyConfig, geo: Geography, truth: pl.DataFrame, events: Events
) -> pl.DataFrame:
    person = truth.select("pid", "name", "id_number", "birth_date")
    frame = events.marriages
    for role in ("husband", "wife"):
        frame = frame.join(
            person.rename({c: f"{role}_{c}" for c in person.columns if c != "pid"}),
            left_on=role,
            right_on="pid",
            how="left",
        )
    letter = pl.when(pl.col("kind") == "结婚").then(pl.lit("J")).otherwise(pl.lit("L"))
    frame = frame.with_columns(
        pl.col("day").rank("ordinal").over("kind").cast(pl.Int64).alias("__n")
    )
    return (
        frame.with_columns(
            (
                letter
                + pl.lit(f"{cfg.code}-{cfg.reference_date.year}-")
                + pl.col("__n").cast(pl.String).str.zfill(6)
            ).alias("record_id"),
            pl.col("kind").alias("registration_type"),
            as_date(frame["day"]).alias("registration_date"),
            pl.lit(f"{geo.county_name}民政局婚姻登记处").alias("registry_office"),
            pl.col("husband").alias("husband_pid"),
            pl.col("wife").alias("wife_pid"),
            _delivery(cfg, pl.col("day")),
            pl.lit("").alias("file_kind"),
        )
        .select(
            "record_id",
            "registration_type",
            "registration_date",
            "husband_name",
            "husband_id_number",
            "husband_birth_date",
            "wife_name",
            "wife_id_number",
            "wife_birth_date",
            "registry_office",
            "husband_pid",
            "wife_pid",
            "delivery",
            "file_kind",
        )
        .sort("record_id")
    )


def birth_certificates(
    rng: np.random.Generator, cfg: CountyConfig, geo: Geography, truth: pl.DataFrame, events: Events
) -> pl.DataFrame:
    """One certificate per child delivered in the county (twins: two, consecutive numbers)."""
    births = events.births.filter(~pl.col("elsewhere")).sort("day", "birth_event", "child")
    k = births.height
    person = truth.select("pid", "name", "id_number", "township", "address", "hukou_address")
    frame = births
    for role in ("child", "mother", "father"):
        frame = frame.join(
            person.rename({c: f"{role}_{c}" for c in person.columns if c != "pid"}),
            left_on=role,
            right_on="pid",
            how="left",
            maintain_order="left",
        )
    named = rng.random(k) < cfg.coverage["father_on_certificate"]
    start = int(rng.integers(1_000_000, 3_000_000))
    hospitals = [f"{geo.county_name}{h}" for h in COUNTY_HOSPITALS]
    place = rng.integers(len(hospitals) + 1, size=k)
    township = frame["mother_township"].fill_null("").to_list()
    birth_place = [
        hospitals[p] if p < len(hospitals) else (f"{t}卫生院" if t else hospitals[0])
        for p, t in zip(place.tolist(), township, strict=True)
    ]
    sex = truth["sex"].gather(frame["child"])
    return frame.with_columns(
        (pl.lit("R43") + pl.Series(np.arange(start, start + k)).cast(pl.String).str.zfill(7)).alias(
            "record_id"
        ),
        pl.col("child_name"),
        sex.alias("sex"),
        as_date(frame["day"]).alias("birth_date"),
        pl.Series("birth_place", birth_place, dtype=pl.String),
        pl.when(pl.Series(named))
        .then(pl.col("father_name"))
        .otherwise(pl.lit(""))
        .alias("father_name"),
        pl.when(pl.Series(named))
        .then(pl.col("father_id_number"))
        .otherwise(pl.lit(""))
        .alias("father_id_number"),
        _home(rng, frame["mother_hukou_address"], frame["mother_address"]).alias("address"),
        pl.col("child").alias("child_pid"),
        pl.col("mother").alias("mother_pid"),
        pl.when(pl.Series(named)).then(pl.col("father")).otherwise(-1).alias("father_pid"),
        _delivery(cfg, pl.col("day")),
        pl.lit("").alias("file_kind"),
    ).select(
        "record_id",
        "child_name",
        "sex",
        "birth_date",
        "birth_place",
        "mother_name",
        "mother_id_number",
        "father_name",
        "father_id_number",
        "address",
        "child_pid",
        "mother_pid",
        "father_pid",
        "birth_event",
        "delivery",
        "file_kind",
    )


def maternity_claims(
    rng: np.random.Generator, cfg: CountyConfig, geo: Geography, truth: pl.DataFrame, events: Events
) -> pl.DataFrame:
    """Claims of insured county mothers: 生育医疗费 and/or 生育津贴, one row each."""
    deliveries = (
        events.births.filter(pl.col("insured"))
        .group_by("birth_event", maintain_order=True)
        .agg(pl.col("mother").first(), pl.col("day").first(), pl.col("babies").first())
        .sort("day", "birth_event")
    )
    k = deliveries.height
    both = rng.random(k) < cfg.coverage["both_benefits"]
    only = np.where(rng.random(k) < 0.5, "生育医疗费", "生育津贴")
    employers = [f"{geo.county_name}{e}" for e in EMPLOYERS] + list(EMPLOYER_COMPANIES)
    claims = pl.concat(
        [
            deliveries.with_columns(pl.Series("benefit_type", only)),
            deliveries.filter(pl.Series(both)).with_columns(
                pl.Series(
                    "benefit_type", np.where(only[both] == "生育津贴", "生育医疗费", "生育津贴")
                )
            ),
        ]
    )
    work = pl.Series(
        np.asarray(employers, dtype=object)[
            rng.integers(len(employers), size=truth.height)
        ].tolist()
    )
    claims = claims.join(
        truth.select("pid", "name", "id_number"), left_on="mother", right_on="pid", how="left"
    ).sort("day", "birth_event", "benefit_type")
    lag = rng.integers(20, 120, size=claims.height)
    month = as_date(claims["day"].to_numpy() + lag).dt.strftime("%Y%m")
    return claims.with_columns(
        (
            pl.lit("SY")
            + month
            + pl.Series(np.arange(1, claims.height + 1)).cast(pl.String).str.zfill(6)
        ).alias("record_id"),
        work.gather(claims["mother"]).alias("employer"),
        as_date(claims["day"]).alias("delivery_date"),
        pl.col("mother").alias("true_pid"),
        _delivery(cfg, pl.col("day")),
        pl.lit("").alias("file_kind"),
    ).select(
        "record_id",
        "name",
        "id_number",
        "employer",
        "benefit_type",
        "delivery_date",
        "babies",
        "true_pid",
        "birth_event",
        "delivery",
        "file_kind",
    )


#: (lowest, highest) age in whole years at the reference date of a kindergarten pupil, and the
#: grade names of kindergarten (3-5) and primary school (6-11) by age
KINDERGARTEN_AGES = (3, 5)
GRADES = {3: "小班", 4: "中班", 5: "大班", 6: "一年级", 7: "二年级", 8: "三年级", 9: "四年级"}
GRADES |= {10: "五年级", 11: "六年级"}


def _age(truth: pl.DataFrame, cfg: CountyConfig) -> pl.Expr:
    """Age in whole years at the reference date."""
    ref = pl.lit(cfg.reference_date)
    years = ref.dt.year() - pl.col("birth_date").dt.year()
    before = (pl.col("birth_date").dt.month() > ref.dt.month()) | (
        (pl.col("birth_date").dt.month() == ref.dt.month())
        & (pl.col("birth_date").dt.day() > ref.dt.day())
    )
    return (years - before.cast(pl.Int32)).alias("age")


def _guardian(rng: np.random.Generator, frame: pl.DataFrame, father_share: float) -> pl.Series:
    """The guardian written down: the father at ``father_share`` (where there is one), else
    the mother."""
    father = frame["father"].to_numpy()
    mother = frame["mother"].to_numpy()
    use_father = (rng.random(frame.height) < father_share) & (father >= 0) | (mother < 0)
    return pl.Series("guardian_pid", np.where(use_father, father, mother))


def _children(truth: pl.DataFrame, cfg: CountyConfig, ages: tuple[int, int]) -> pl.DataFrame:
    """County children alive and living here at the reference date, aged ``ages``, and the
    children of outside mothers born here (``outside_child``)."""
    return truth.with_columns(_age(truth, cfg)).filter(
        pl.col("alive")
        & pl.col("age").is_between(*ages)
        & (pl.col("in_county") | (pl.col("origin") == "outside_child"))
        & (pl.col("origin") != "nonresident_deceased")
    )


def _people(truth: pl.DataFrame, frame: pl.DataFrame, pid: str, prefix: str) -> pl.DataFrame:
    person = truth.select("pid", "name", "id_number")
    return frame.join(
        person.rename({"name": f"{prefix}_name", "id_number": f"{prefix}_id_number"}),
        left_on=pid,
        right_on="pid",
        how="left",
        maintain_order="left",
    )


def vaccination_records(
    rng: np.random.Generator, cfg: CountyConfig, geo: Geography, truth: pl.DataFrame
) -> pl.DataFrame:
    """预防接种个案: one per child 0-6 under immunisation care in the county (most county
    children, and the children of families from elsewhere who live here)."""
    cov = cfg.coverage
    kids = _children(truth, cfg, (0, 6))
    floating = (kids["origin"] == "outside_child").to_numpy()
    share = np.where(floating, cov["floating_vaccinated"], cov["vaccinated"])
    kids = kids.filter(pl.Series(rng.random(kids.height) < share)).sort("birth_date", "pid")
    k = kids.height
    kids = kids.with_columns(_guardian(rng, kids, cov["guardian_father_vaccination"]))
    kids = _people(truth, kids, "mother", "mother")
    kids = _people(truth, kids, "guardian_pid", "guardian")
    with_id = rng.random(k) < cov["vaccination_child_id"]
    clinics = [f"{t or geo.seat}卫生院预防接种门诊" for t in kids["township"].fill_null("")]
    start = int(rng.integers(100_000, 900_000))
    opened = kids["birth"].to_numpy() + rng.integers(0, 60, size=k)
    ref = day(cfg.reference_date)
    mid = cfg.period_start + dt.timedelta(cfg.period_days // 2)
    return kids.with_columns(
        (
            pl.lit(cfg.code) + pl.Series(np.arange(start, start + k)).cast(pl.String).str.zfill(10)
        ).alias("record_id"),
        pl.col("name").alias("child_name"),
        pl.when(pl.Series(with_id))
        .then(pl.col("id_number"))
        .otherwise(pl.lit(""))
        .alias("id_number"),
        pl.col("mother_name").fill_null(""),
        pl.col("guardian_id_number").fill_null(""),
        _home(rng, kids["hukou_address"], kids["address"]).alias("address"),
        pl.Series("clinic", clinics, dtype=pl.String),
        as_date(np.minimum(opened, ref)).alias("registered_on"),
        pl.col("pid").alias("child_pid"),
        pl.col("mother").alias("mother_pid"),
        (pl.col("age") == 0).alias("__infant"),
        # the delivery: children first seen in the second half of the period come then
        pl.when(pl.col("birth_date") >= pl.lit(mid))
        .then(2)
        .otherwise(1)
        .cast(pl.Int8)
        .alias("delivery"),
        pl.lit("").alias("file_kind"),
    ).select(
        "record_id",
        "child_name",
        "sex",
        "birth_date",
        "id_number",
        "mother_name",
        "guardian_id_number",
        "address",
        "clinic",
        "registered_on",
        "child_pid",
        "mother_pid",
        "guardian_pid",
        "__infant",
        "delivery",
        "file_kind",
    )


def school_rolls(
    rng: np.random.Generator, cfg: CountyConfig, geo: Geography, truth: pl.DataFrame
) -> pl.DataFrame:
    """在校学生名册: one row per pupil of a county kindergarten (3-5) or primary school
    (6-11), with a guardian (the mother or the father) by name and ID."""
    cov = cfg.coverage
    kids = _children(truth, cfg, (KINDERGARTEN_AGES[0], max(GRADES)))
    kids = kids.filter(pl.Series(rng.random(kids.height) < cov["school_enrolled"])).sort(
        "township", "birth_date", "pid"
    )
    k = kids.height
    kids = kids.with_columns(_guardian(rng, kids, cov["guardian_father_school"]))
    kids = _people(truth, kids, "guardian_pid", "guardian")
    with_id = rng.random(k) < cov["school_child_id"]
    kinder = (kids["age"] <= KINDERGARTEN_AGES[1]).to_numpy()
    towns = kids["township"].fill_null(geo.seat).to_list()
    school = [
        f"{t}{'中心幼儿园' if small else '中心完全小学'}"
        for t, small in zip(towns, kinder.tolist(), strict=True)
    ]
    start = int(rng.integers(1_000_000, 9_000_000))
    return kids.with_columns(
        (pl.lit("L" + cfg.code) + pl.Series(np.arange(start, start + k)).cast(pl.String)).alias(
            "record_id"
        ),
        pl.when(pl.Series(with_id))
        .then(pl.col("id_number"))
        .otherwise(pl.lit(""))
        .alias("id_number"),
        pl.col("guardian_name").fill_null(""),
        pl.col("guardian_id_number").fill_null(""),
        _home(rng, kids["hukou_address"], kids["address"]).alias("address"),
        pl.Series("school", school, dtype=pl.String),
        pl.col("age").replace_strict(GRADES, return_dtype=pl.String).alias("grade"),
        pl.col("pid").alias("true_pid"),
        pl.Series("delivery", (rng.random(k) < 0.5).astype(np.int8) + 1, dtype=pl.Int8),
        pl.lit("").alias("file_kind"),
    ).select(
        "record_id",
        "name",
        "sex",
        "birth_date",
        "id_number",
        "guardian_name",
        "guardian_id_number",
        "address",
        "school",
        "grade",
        "true_pid",
        "guardian_pid",
        "delivery",
        "file_kind",
    )
