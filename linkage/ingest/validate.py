"""Apply a source's contract to a delivered frame: keep, warn or quarantine each row.

Soft at the edge: a row failing only soft rules is kept and its issues recorded; a row failing
a hard rule goes to quarantine with every reason, in words an operator can act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_contracts import Contract
from data_contracts._base import ROW, column_meta

_CHECK_WORDS = {
    "nullability": "is required but empty",
    "check__parses": "is not a date in a known format (e.g. 2021-03-05, 2021年3月5日)",
    "check__in_vocabulary": "has a value outside the allowed vocabulary",
    "check__is_integer": "is not a whole number in the allowed range",
    "check__id_valid": "is not a valid 公民身份号码 (length, date or check digit)",
    "stored_as_number": "was stored as a number by Excel: digits lost (the ID was not used)",
}


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one file."""

    kept: pl.DataFrame  # rows to load (text columns + _row)
    quarantined: pl.DataFrame  # _row, record_key, reasons, raw (JSON text)
    issues: pl.DataFrame  # _row, record_key, rule (soft failures on kept rows)


def clean_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim every text cell (incl. full-width spaces at the ends); empty → null."""
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars(" \t\r\n\u3000").str.len_chars() > 0)
        .then(pl.col(c).str.strip_chars(" \t\r\n\u3000"))
        .otherwise(None)
        .alias(c)
        for c in frame.columns
        if frame.schema[c] == pl.String
    )


def describe_rule(contract: type[Contract], rule: str) -> str:
    """Turn a dataframely rule name into a sentence naming the Chinese header."""
    column, sep, check = rule.partition("|")
    columns = contract.data_columns()
    if sep and column in columns:
        header = column_meta(columns[column])["header"]
        return f"{header} ({column}) {_CHECK_WORDS.get(check, check)}"
    if rule == "primary_key":
        return "the row number repeats (internal error)"
    method = getattr(contract, rule, None)
    method = getattr(method, "validation_fn", method)  # dataframely wraps the rule
    doc = (getattr(method, "__doc__", None) or "").strip().splitlines()
    return f"{rule}: {doc[0]}" if doc else rule


def validate(contract: type[Contract], frame: pl.DataFrame) -> Validated:
    """Validate ``frame`` (canonical text columns plus ``_row``) against ``contract``."""
    key = contract.record_key
    result = contract.filter(frame, cast=False)
    passed = result.result
    details = result.failure.details()
    rules = [c for c in details.columns if c not in frame.columns]
    empty_q = pl.DataFrame(
        schema={ROW: pl.Int64, "record_key": pl.String, "reasons": pl.String, "raw": pl.String}
    )
    empty_i = pl.DataFrame(schema={ROW: pl.Int64, "record_key": pl.String, "rule": pl.String})
    if details.is_empty():
        return Validated(passed, empty_q, empty_i)

    failed = details.select(
        ROW,
        pl.col(key).alias("record_key"),
        pl.concat_list(pl.when(pl.col(r) == "invalid").then(pl.lit(r)) for r in rules)
        .list.drop_nulls()
        .alias("rules"),
    )
    hard_rules = [r for r in rules if not contract.is_soft(r)]
    failed = failed.with_columns(
        pl.col("rules").list.eval(pl.element().is_in(hard_rules)).list.any().alias("hard")
    )
    soft_only = failed.filter(~pl.col("hard"))
    kept = pl.concat(
        [passed, frame.join(soft_only.select(ROW), on=ROW, how="semi").select(passed.columns)]
    ).sort(ROW)
    issues = (
        failed.select(ROW, "record_key", pl.col("rules").alias("rule"))
        .explode("rule")
        .filter(pl.col("rule").is_in(hard_rules).not_())
        .join(soft_only.select(ROW), on=ROW, how="semi")
    )
    hard = failed.filter(pl.col("hard"))
    descriptions = {r: describe_rule(contract, r) for r in rules}
    raw = frame.join(hard.select(ROW), on=ROW, how="semi")
    quarantined = hard.select(
        ROW,
        "record_key",
        pl.col("rules")
        .list.eval(pl.element().replace(descriptions))
        .list.join("; ")
        .alias("reasons"),
    ).join(
        raw.select(ROW, pl.struct(pl.exclude(ROW)).struct.json_encode().alias("raw")),
        on=ROW,
    )
    return Validated(kept, quarantined, issues)
