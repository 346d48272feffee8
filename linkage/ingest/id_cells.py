"""ID cells that Excel stored as numbers: found per row, never used, said per file.

An 18-digit ID typed into a spreadsheet column of format 常规 (General) becomes a number;
Excel keeps 15 significant digits, so the last three are lost (``4.33127E+17``,
``433127199001011000``). Some damaged numbers still pass the check digit and would become
valid but wrong IDs. So such a cell is nulled (the record stays, linkable by name and birth
date), the row gets the issue ``<col>|stored_as_number``, and the file a warning with the fix.
No message quotes a cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_contracts import Contract
from data_contracts._base import ROW, column_meta
from linkage.standardise.ids import STORED_AS_NUMBER, stored_as_number

#: what the file warning asks the department to do
FIX = (
    "in the source system's export (or in Excel: select the column, 设置单元格格式 → 文本) "
    "keep ID columns as text, export again and deliver the file again; the lost digits "
    "cannot be recovered from this file"
)


@dataclass(frozen=True)
class NumberIds:
    """``frame`` with damaged IDs nulled; ``issues`` (``_row``, ``record_key``, ``rule``) per
    nulled cell; ``warnings`` per ID column that had any."""

    frame: pl.DataFrame
    issues: pl.DataFrame
    warnings: list[str]


def null_ids_stored_as_numbers(contract: type[Contract], frame: pl.DataFrame) -> NumberIds:
    """Find and null the ID cells of ``frame`` (canonical columns plus ``_row``) that Excel
    stored as numbers; see the module docstring."""
    issues: list[pl.DataFrame] = []
    warnings: list[str] = []
    columns = contract.data_columns()
    for col in contract.id_columns():
        if col not in frame.columns:
            continue
        damaged = stored_as_number(frame, col)
        count = int(damaged.sum())
        if not count:
            continue
        frame = frame.with_columns(
            pl.when(damaged).then(pl.lit(None, pl.String)).otherwise(pl.col(col)).alias(col)
        )
        issues.append(
            frame.filter(damaged).select(
                ROW,
                pl.col(contract.record_key).cast(pl.String).alias("record_key"),
                pl.lit(f"{col}|{STORED_AS_NUMBER}").alias("rule"),
            )
        )
        header = column_meta(columns[col])["header"]
        rows = "1 row" if count == 1 else f"{count} rows"
        warnings.append(
            f"{rows} of column {header} hold an ID stored as a number by Excel: digits lost, "
            f"so these IDs were not used (the records were loaded without them). Fix: {FIX}"
        )
    empty = pl.DataFrame(schema={ROW: pl.Int64, "record_key": pl.String, "rule": pl.String})
    return NumberIds(frame, pl.concat(issues) if issues else empty, warnings)
