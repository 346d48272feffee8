"""What really happened, in the shape the evaluation reads: persons, base_map, links,
findings and injected_errors (see ``docs`` in ``generate_county``).

True pids are written ``H`` + 8 digits. The canonical base row of a human is his earliest
``person_id`` (duplicates are created later, so it is the original row).
"""

from __future__ import annotations

import polars as pl

from .corrupt import ROLES
from .households import MARITAL
from .styles import HEADERS

_ROLE_PIDS = {
    "population": (("person", "true_pid"),),
    "hukou": (("person", "true_pid"),),
    "death": (("person", "true_pid"),),
    "marriage": (("husband", "husband_pid"), ("wife", "wife_pid")),
    "birth_certificate": (
        ("child", "child_pid"),
        ("mother", "mother_pid"),
        ("father", "father_pid"),
    ),
    "maternity_insurance": (("person", "true_pid"),),
    "vaccination": (
        ("child", "child_pid"),
        ("mother", "mother_pid"),
        ("guardian", "guardian_pid"),
    ),
    "school": (("person", "true_pid"), ("guardian", "guardian_pid")),
}
#: (source, child's pid column, the pid columns that may name the child's mother), in the
#: order the one case of a child takes its own record from
CHILD_RECORDS = (
    ("birth_certificate", "child_pid", ("mother_pid",)),
    ("vaccination", "child_pid", ("mother_pid", "guardian_pid")),
    ("school", "true_pid", ("guardian_pid",)),
)
#: records queried only when nobody on them is known here (a family from elsewhere)
FAMILY_QUERIED = (("vaccination", "guardian"), ("school", "guardian"))
#: records whose person, when neither the base nor 户籍 holds them, is queried where they are
#: registered (跨县协查): the deceased, a mother who delivered here, a claimant, a spouse, the
#: guardian of a child whose family is registered elsewhere
QUERIED = (
    ("death", "person"),
    ("birth_certificate", "mother"),
    ("maternity_insurance", "person"),
    ("marriage", "husband"),
    ("marriage", "wife"),
    *FAMILY_QUERIED,
)
FINDING_COLUMNS = (
    "finding_type",
    "person_id",
    "other_person_id",
    "source",
    "source_record_id",
    "role",
    "field",
    "base_value",
    "source_value",
    "destination",
    "true_pid",
)


def hid(col: str | pl.Expr) -> pl.Expr:
    """Integer pid → ``H00001234`` (null/negative → null)."""
    c = pl.col(col) if isinstance(col, str) else col
    return pl.when(c >= 0).then(pl.lit("H") + c.cast(pl.String).str.zfill(8))


def _by_person_id(base: pl.DataFrame) -> pl.DataFrame:
    """The base in person_id order (it is built that way: sorting 1M strings is the slow
    path, kept for frames from elsewhere)."""
    return base if base["person_id"].is_sorted() else base.sort("person_id")


def canonical(base: pl.DataFrame) -> pl.DataFrame:
    """Per human: canonical person_id, all person_ids, and the canonical row's status."""
    rows = _by_person_id(base.select("person_id", "true_pid", "status", "marital_status"))
    first = rows.filter(pl.col("true_pid").is_first_distinct())
    several = rows.filter(pl.col("true_pid").is_duplicated())
    joined = several.group_by("true_pid").agg(
        pl.col("person_id").str.join(";").alias("all_person_ids")
    )
    return first.join(joined, on="true_pid", how="left", maintain_order="left").select(
        "true_pid",
        pl.col("person_id").alias("canonical"),
        pl.coalesce("all_person_ids", "person_id").alias("all_person_ids"),
        pl.col("status").alias("canonical_status"),
        pl.col("marital_status").alias("base_marital"),
    )


def persons_table(truth: pl.DataFrame, base: pl.DataFrame, hukou: pl.DataFrame) -> pl.DataFrame:
    rows = base.group_by("true_pid").agg(pl.len().alias("base_rows"))
    frame = truth.join(rows, left_on="pid", right_on="true_pid", how="left").with_columns(
        pl.col("pid").is_in(hukou["true_pid"].implode()).alias("in_hukou")
    )
    date = {
        c: pl.col(c).dt.strftime("%Y-%m-%d").fill_null("")
        for c in ("birth_date", "death_date", "move_date", "move_in_date", "rename_date")
    }
    return frame.sort("pid").select(
        hid("pid").alias("true_pid"),
        "name",
        "former_name",
        pl.col("sex").replace_strict({1: "男", 2: "女"}, return_dtype=pl.String),
        "id_number",
        date["birth_date"].alias("birth_date"),
        "ethnicity",
        pl.col("household_id").fill_null(""),
        pl.col("relation").alias("relation_to_head"),
        pl.col("township").fill_null(""),
        pl.col("village").fill_null(""),
        pl.col("hukou_address").fill_null(""),
        pl.col("address").alias("current_address"),
        pl.col("marital")
        .replace_strict(dict(enumerate(MARITAL)), return_dtype=pl.String)
        .alias("marital_status"),
        "origin",
        pl.col("in_county0").alias("in_county_at_start"),
        "in_county",
        "alive",
        date["death_date"].alias("death_date"),
        "moved_out",
        date["move_date"].alias("move_date"),
        "moved_to",
        "moved_in",
        date["move_in_date"].alias("move_in_date"),
        date["rename_date"].alias("rename_date"),
        hid("mother").alias("mother_pid"),
        hid("father").alias("father_pid"),
        hid("spouse").alias("spouse_pid"),
        "in_hukou",
        pl.col("base_rows").fill_null(0),
    )


def base_map(base: pl.DataFrame) -> pl.DataFrame:
    return _by_person_id(base).select(
        "person_id", hid("true_pid").alias("true_pid"), "is_duplicate", "status"
    )


def links_table(rendered: dict[str, pl.DataFrame], canon: pl.DataFrame) -> pl.DataFrame:
    """One row per (source, record, role) with the true human and his base rows."""
    parts = []
    for source, roles in _ROLE_PIDS.items():
        frame = rendered[source]
        key = "person_id" if source == "population" else "record_id"
        for role, pid in roles:
            rows = _first_delivery(frame).filter(pl.col(pid) >= 0)
            named = _names_someone(source, role)
            if named is not None:  # a guardian whose ID was left empty is nobody
                rows = rows.filter(named)
            parts.append(
                rows.select(
                    pl.lit(source).alias("source"),
                    pl.col(key).alias("source_record_id"),
                    pl.lit(role).alias("role"),
                    pl.col(pid).alias("pid"),
                )
            )
    links = pl.concat(parts).join(
        canon, left_on="pid", right_on="true_pid", how="left", maintain_order="left"
    )
    return links.select(
        "source",
        "source_record_id",
        "role",
        hid("pid").alias("true_pid"),
        pl.col("canonical").fill_null("").alias("person_id_truth"),
        pl.col("all_person_ids").fill_null(""),
    )


def _names_someone(source: str, role: str) -> pl.Expr | None:
    """For a role that may be left blank (a guardian of whom only an ID is written): the
    condition that the record still names the person; None for the other roles."""
    if role != "guardian":
        return None
    spec = next(r for r in ROLES[source] if r.role == role)
    columns = [c for c in (spec.name, spec.id) if c]
    return pl.any_horizontal(pl.col(c).fill_null("") != "" for c in columns)


def _first_delivery(frame: pl.DataFrame) -> pl.DataFrame:
    """Each record once: without the copies delivered again."""
    return frame.filter(~pl.col("__again")) if "__again" in frame.columns else frame


def _finding(kind: str, frame: pl.DataFrame, **cols: pl.Expr | str) -> pl.DataFrame:
    exprs = {c: pl.lit("") for c in FINDING_COLUMNS}
    exprs["finding_type"] = pl.lit(kind)
    for name, value in cols.items():
        exprs[name] = pl.lit(value) if isinstance(value, str) else value
    return frame.select([e.cast(pl.String).fill_null("").alias(c) for c, e in exprs.items()])


def findings_table(
    rendered: dict[str, pl.DataFrame],
    base: pl.DataFrame,
    truth: pl.DataFrame,
    births: pl.DataFrame,
    errors: pl.DataFrame,
    county: str,
) -> pl.DataFrame:
    canon = canonical(base)
    in_base = canon["true_pid"].implode()
    hukou = rendered["hukou"]
    out = []

    # suspected_death: one per human still 正常, told by a death record or by 公安's own
    # 死亡注销; evidence = the first death record, else the 户籍 record
    death_records = (
        _first_delivery(rendered["death"])
        .sort("record_id")
        .group_by("true_pid", maintain_order=True)
        .first()
        .select("true_pid", "record_id", "death_date", pl.lit("death").alias("source"))
    )
    hukou_deaths = hukou.filter(
        (pl.col("hukou_status") == "死亡注销")
        & ~pl.col("true_pid").is_in(death_records["true_pid"].implode())
    ).select(
        "true_pid",
        "record_id",
        pl.col("change_date").cast(pl.String).alias("death_date"),
        pl.lit("hukou").alias("source"),
    )
    deaths = (
        pl.concat([death_records, hukou_deaths], how="vertical_relaxed")
        .join(canon, on="true_pid")
        .filter(pl.col("canonical_status") == "正常")
    )
    out.append(
        _finding(
            "suspected_death",
            deaths,
            person_id=pl.col("canonical"),
            source=pl.col("source"),
            source_record_id=pl.col("record_id"),
            role="person",
            field="status",
            base_value="正常",
            source_value=pl.col("death_date"),
            true_pid=hid("true_pid"),
        )
    )

    # unregistered_birth / unregistered_person: one case per child with no base row, whatever
    # records show it; its record is the first of certificate, immunisation record, school
    # roll (then the smallest number). A birth when a mother named on one of its records has
    # a base row; else a 黑户 child (unregistered_person) when a guardian has one and 户籍
    # does not hold the child (a child 户籍 holds is the 户籍 record's case)
    shown = []
    for order, (source, child, parents) in enumerate(CHILD_RECORDS):
        frame = _first_delivery(rendered[source])
        guardian = "guardian_pid" if "guardian_pid" in frame.columns else "father_pid"
        mothers = [pl.when(pl.col(p) == pl.col("mother_of_child")).then(pl.col(p)) for p in parents]
        shown.append(
            frame.join(
                truth.select(pl.col("pid"), pl.col("mother").alias("mother_of_child")),
                left_on=child,
                right_on="pid",
            ).select(
                pl.col(child).alias("child"),
                pl.lit(order).alias("order"),
                pl.lit(source).alias("source"),
                "record_id",
                pl.lit("person" if source == "school" else "child").alias("role"),
                pl.coalesce(mothers).alias("mother"),
                pl.col(guardian).alias("guardian"),
            )
        )
    in_hukou = hukou.filter(pl.col("hukou_status") == "正常")["true_pid"].implode()
    base_pids = canon.select("true_pid", "canonical")
    children = (
        pl.concat(shown)
        .filter(~pl.col("child").is_in(in_base))
        .join(
            base_pids.rename({"true_pid": "mother", "canonical": "base_mother"}),
            on="mother",
            how="left",
        )  # fmt: skip
        .join(
            base_pids.rename({"true_pid": "guardian", "canonical": "base_guardian"}),
            on="guardian",
            how="left",
        )  # fmt: skip
        .sort("child", "order", "record_id")
        .group_by("child", maintain_order=True)
        .agg(
            pl.col("source").first(),
            pl.col("record_id").first(),
            pl.col("role").first(),
            pl.col("base_mother").drop_nulls().first(),
            pl.col("base_guardian").drop_nulls().first(),
        )
    )
    out.append(
        _finding(
            "unregistered_birth",
            children.filter(pl.col("base_mother").is_not_null()),
            person_id=pl.col("base_mother"),
            source=pl.col("source"),
            source_record_id=pl.col("record_id"),
            role=pl.col("role"),
            true_pid=hid("child"),
        )
    )
    out.append(
        _finding(
            "unregistered_person",
            children.filter(
                pl.col("base_mother").is_null()
                & pl.col("base_guardian").is_not_null()
                & ~pl.col("child").is_in(in_hukou)
            ),
            other_person_id=pl.col("base_guardian"),
            source=pl.col("source"),
            source_record_id=pl.col("record_id"),
            role=pl.col("role"),
            true_pid=hid("child"),
        )
    )
    # ... and maternity claims for births without a county certificate
    unregistered = (
        births.filter(pl.col("elsewhere") & ~pl.col("child").is_in(in_base))["birth_event"]
        .unique()
        .implode()
    )
    claims = (
        _first_delivery(rendered["maternity_insurance"])
        .filter(pl.col("birth_event").is_in(unregistered))
        .join(canon, on="true_pid")
    )
    out.append(
        _finding(
            "unregistered_birth",
            claims,
            person_id=pl.col("canonical"),
            source="maternity_insurance",
            source_record_id=pl.col("record_id"),
            role="person",
            true_pid=hid("true_pid"),
        )
    )

    # attribute_conflict: base errors on the canonical row, evidenced by the hukou record;
    # a missing or 15-digit base ID counts where the hukou record holds the number
    wrong = (
        errors.filter(
            (pl.col("source") == "population")
            & (
                pl.col("family").str.starts_with("base_wrong_")
                | (pl.col("family") == "base_name_change_not_updated")
                | pl.col("family").is_in(["id_missing", "id_15_digit"])
            )
        )
        .select(pl.col("record_id").alias("person_id"), pl.col("column").alias("field"))
        .unique(maintain_order=True)
        .join(base.select("person_id", "true_pid"), on="person_id")
        .join(canon.select("true_pid", "canonical"), on="true_pid")
        .filter(pl.col("person_id") == pl.col("canonical"))
        .join(
            hukou.select(
                pl.col("true_pid"),
                pl.col("record_id"),
                pl.struct(list(HEADERS["hukou"])).alias("h"),
            ),
            on="true_pid",
        )
    )
    base_values = base.select("person_id", pl.struct(list(HEADERS["population"])).alias("b"))
    wrong = wrong.join(base_values, on="person_id").filter(
        (pl.col("field") != "id_number") | (pl.col("h").struct.field("id_number") != "")
    )
    fields = [f for f in HEADERS["population"] if f in HEADERS["hukou"]]
    pick_b = pl.lit(None, pl.String)
    pick_h = pl.lit(None, pl.String)
    for f in fields:
        pick_b = pl.when(pl.col("field") == f).then(pl.col("b").struct.field(f)).otherwise(pick_b)
        pick_h = pl.when(pl.col("field") == f).then(pl.col("h").struct.field(f)).otherwise(pick_h)
    out.append(
        _finding(
            "attribute_conflict",
            wrong,
            person_id=pl.col("person_id"),
            source="hukou",
            source_record_id=pl.col("record_id"),
            role="person",
            field=pl.col("field"),
            base_value=pick_b,
            source_value=pick_h,
            true_pid=hid("true_pid"),
        )
    )
    # ... and marital status not updated after a marriage or divorce
    marital = truth.select(
        "pid",
        pl.col("marital")
        .replace_strict(dict(enumerate(MARITAL)), return_dtype=pl.String)
        .alias("true_marital"),
    )
    regs = _first_delivery(rendered["marriage"])
    for role in ("husband", "wife"):
        rows = (
            regs.join(canon, left_on=f"{role}_pid", right_on="true_pid")
            .join(marital, left_on=f"{role}_pid", right_on="pid")
            .filter(pl.col("base_marital") != pl.col("true_marital"))
        )
        out.append(
            _finding(
                "attribute_conflict",
                rows,
                person_id=pl.col("canonical"),
                source="marriage",
                source_record_id=pl.col("record_id"),
                role=role,
                field="marital_status",
                base_value=pl.col("base_marital"),
                source_value=pl.col("true_marital"),
                true_pid=hid(f"{role}_pid"),
            )
        )

    # duplicate_person: every pair of active rows of one human
    active = base.filter(pl.col("status") == "正常").select("person_id", "true_pid")
    pairs = active.join(active, on="true_pid", suffix="_b").filter(
        pl.col("person_id") < pl.col("person_id_b")
    )
    out.append(
        _finding(
            "duplicate_person",
            pairs,
            person_id=pl.col("person_id"),
            other_person_id=pl.col("person_id_b"),
            true_pid=hid("true_pid"),
        )
    )

    # hukou 迁出注销 while the base row is 正常: out of the province moved_out (cancelled as
    # 移交外省管理), within it a transfer to the destination county (plan 000)
    moved = (
        hukou.filter(pl.col("hukou_status") == "迁出注销")
        .join(canon, on="true_pid")
        .filter(pl.col("canonical_status") == "正常")
    )
    province = pl.col("true_destination").str.slice(0, 2)
    home_province = county[:2]
    for kind, rows in (
        ("moved_out", moved.filter(province != home_province)),
        ("transfer", moved.filter(province == home_province)),
    ):
        out.append(
            _finding(
                kind,
                rows,
                person_id=pl.col("canonical"),
                source="hukou",
                source_record_id=pl.col("record_id"),
                role="person",
                field="status",
                base_value="正常",
                source_value="迁出注销",
                destination=pl.col("true_destination") if kind == "transfer" else "",
                true_pid=hid("true_pid"),
            )
        )

    # married_out (婚嫁外省): a county person who left with a spouse from another province,
    # told by their 结婚 registration, while the base row is 正常 (the 户口 stayed here)
    weddings = _first_delivery(rendered["marriage"]).filter(pl.col("registration_type") == "结婚")
    spouses = pl.concat(
        weddings.select(
            "record_id",
            pl.lit(role).alias("role"),
            pl.col(f"{role}_pid").alias("true_pid"),
            pl.col(f"{other}_pid").alias("spouse"),
        )
        for role, other in (("husband", "wife"), ("wife", "husband"))
    )
    regions = truth.select(
        pl.col("pid").alias("spouse"), pl.col("region").cast(pl.String).alias("spouse_region")
    )
    married_out = (
        spouses.join(
            truth.filter(pl.col("married_out") >= 0).select(pl.col("pid").alias("true_pid")),
            on="true_pid",
        )
        .join(regions, on="spouse")
        .filter(pl.col("spouse_region").str.slice(0, 2) != county[:2])
        .join(canon, on="true_pid")
        .filter(pl.col("canonical_status") == "正常")
        .unique("true_pid", keep="last", maintain_order=True)
    )
    out.append(
        _finding(
            "married_out",
            married_out,
            person_id=pl.col("canonical"),
            source="marriage",
            source_record_id=pl.col("record_id"),
            role=pl.col("role"),
            true_pid=hid("true_pid"),
        )
    )

    # cross_county_query: a record of someone in neither the base nor 户籍, to the county
    # where their ID was issued (the county itself names no one to ask)
    known = pl.concat([canon.select("true_pid"), hukou.select("true_pid")]).unique()
    registered = truth.select(
        pl.col("pid").alias("true_pid"), pl.col("region").cast(pl.String).alias("region")
    )
    for source, role in QUERIED:
        pid = dict(_ROLE_PIDS[source])[role]
        rows = (
            _first_delivery(rendered[source])
            .filter(pl.col(pid) >= 0)
            .select("record_id", pl.col(pid).alias("true_pid"))
            .join(known, on="true_pid", how="anti")
            .join(registered, on="true_pid")
        )
        if (source, role) in FAMILY_QUERIED:  # only when nobody on the record is known here
            others = [p for _, p in _ROLE_PIDS[source] if p != pid]
            nobody = _first_delivery(rendered[source]).filter(
                pl.all_horizontal(~pl.col(p).is_in(known["true_pid"].implode()) for p in others)
            )
            rows = rows.filter(pl.col("record_id").is_in(nobody["record_id"].implode()))
        out.append(
            _finding(
                "cross_county_query",
                rows,
                source=source,
                source_record_id=pl.col("record_id"),
                role=role,
                destination=pl.when(pl.col("region") != county).then(pl.col("region")),
                true_pid=hid("true_pid"),
            )
        )

    # unverified_person: an active base person whom no 户籍 record confirms, not told dead by
    # a death record and not one of several rows of a person (false entries, residents the
    # register lacks, newborns whose 户口 was never registered)
    active = base.filter(pl.col("status") == "正常")
    several = active.group_by("true_pid").len().filter(pl.col("len") > 1)["true_pid"]
    unverified = canon.filter(
        (pl.col("canonical_status") == "正常")
        & ~pl.col("true_pid").is_in(hukou["true_pid"].implode())
        & ~pl.col("true_pid").is_in(death_records["true_pid"].implode())
        & ~pl.col("true_pid").is_in(several.implode())
    )
    out.append(
        _finding(
            "unverified_person",
            unverified,
            person_id=pl.col("canonical"),
            source="population",
            source_record_id=pl.col("canonical"),
            role="person",
            true_pid=hid("true_pid"),
        )
    )

    # unregistered_person: active hukou rows of humans with no base row
    missing = hukou.filter((pl.col("hukou_status") == "正常") & ~pl.col("true_pid").is_in(in_base))
    out.append(
        _finding(
            "unregistered_person",
            missing,
            source="hukou",
            source_record_id=pl.col("record_id"),
            role="person",
            true_pid=hid("true_pid"),
        )
    )
    return pl.concat(out).sort(
        "finding_type",
        "person_id",
        "source",
        "source_record_id",
        "role",
        "field",
        "other_person_id",
        maintain_order=True,
    )


def errors_table(errors: pl.DataFrame) -> pl.DataFrame:
    return errors.select(
        "source",
        "record_id",
        "role",
        "family",
        "column",
        hid("true_pid").alias("true_pid"),
    ).sort("source", "family", "record_id", "role", "column", "true_pid", maintain_order=True)
