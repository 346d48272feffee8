"""The only code of the generator that writes files: the inbox as departments send it and
the truth as CSV.

``render`` turns a source frame into text exactly as it will be written (dates in each row's
style, sex in the department's codes); the truth uses the same text for base/source values.
Files: population CSV UTF-8 in two parts; hukou XLSX (GB18030 CSV above
``HUKOU_XLSX_MAX_ROWS``); death GB18030 CSV, one file per origin and delivery; marriage
UTF-8-BOM CSV; birth_certificate XLSX; maternity_insurance Parquet; vaccination GB18030 CSV;
school XLSX (one file per delivery).
Everything is deterministic: XLSX gets a fixed creation date, rows a fixed order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from .noise import DATE_FORMATS
from .styles import DATE_COLUMNS, HEADERS, HUKOU_XLSX_MAX_ROWS, SEX_CODES

_XLSX_CREATED = dt.datetime(2026, 1, 1)


def _dates(values: pl.Series, styles: pl.Series) -> pl.Series:
    """Each date in its row's style (formatting each row once, style by style)."""
    out = pl.Series(values.name, [""] * len(values), dtype=pl.String)
    style = styles.to_numpy()
    for code in sorted(set(np.unique(style).tolist())):
        idx = np.flatnonzero(style == code)
        text = values.gather(idx).dt.strftime(DATE_FORMATS[code]).fill_null("")
        if len(idx) == len(values):
            return text.alias(values.name)
        out.scatter(idx, text)
    return out


def render(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The interface columns as text (``""`` for empty), other columns kept as they are."""
    exprs: list[pl.Expr | pl.Series] = []
    for column in HEADERS[source]:
        col = pl.col(column)
        if column in DATE_COLUMNS[source]:
            exprs.append(_dates(frame[column], frame[f"__fmt_{column}"]))
        elif column == "sex":
            male, female = SEX_CODES[source]
            exprs.append(
                col.replace_strict({1: male, 2: female}, default="", return_dtype=pl.String).alias(
                    column
                )
            )
        else:
            exprs.append(col.cast(pl.String).fill_null("").alias(column))
    return frame.with_columns(exprs)


def _chinese(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Interface columns under their Chinese headers, empty text as empty cells, rows in
    record order with redelivered rows at the end (appended to the later file)."""
    if source not in ("population", "hukou"):
        frame = frame.sort("__again", "record_id")
    elif source == "population" and not frame["person_id"].is_sorted():
        frame = frame.sort("person_id")
    headers = HEADERS[source]
    return frame.select(
        [pl.when(pl.col(c) != "").then(pl.col(c)).alias(h) for c, h in headers.items()]
    )


def _csv(frame: pl.DataFrame, path: Path, encoding: str) -> None:
    if encoding == "gb18030":  # as Excel on Chinese Windows saves it: GB18030, CRLF
        path.write_bytes(frame.write_csv(line_terminator="\r\n").encode("gb18030"))
    else:
        frame.write_csv(path, include_bom=encoding == "utf-8-sig")


def _xlsx(frame: pl.DataFrame, path: Path) -> None:
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False}
    )
    workbook.set_properties({"created": _XLSX_CREATED, "author": ""})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    workbook.close()


def _halves(frame: pl.DataFrame) -> list[tuple[int, pl.DataFrame]]:
    return [(d, frame.filter(pl.col("delivery") == d)) for d in (1, 2)]


def write_inbox(
    out: Path, rendered: dict[str, pl.DataFrame], county: str, labels: tuple[str, str]
) -> list[str]:
    """Write every source's files under ``out/inbox``; returns their paths relative to out."""
    inbox = out / "inbox"
    written: list[Path] = []

    def target(source: str, name: str) -> Path:
        folder = inbox / source
        folder.mkdir(parents=True, exist_ok=True)
        written.append(folder / name)
        return folder / name

    pop = rendered["population"]
    towns = sorted(pop["township"].unique().to_list())
    first = set(towns[: (len(towns) + 1) // 2])
    for part, mask in (
        (1, pop["township"].is_in(list(first))),
        (2, ~pop["township"].is_in(list(first))),
    ):
        _csv(
            _chinese("population", pop.filter(mask)),
            target("population", f"全员人口库_{county}_第{part}部分.csv"),
            "utf-8",
        )

    hukou = _chinese("hukou", rendered["hukou"])
    if hukou.height <= HUKOU_XLSX_MAX_ROWS:
        _xlsx(hukou, target("hukou", f"户籍人口_{county}.xlsx"))
    else:
        _csv(hukou, target("hukou", f"户籍人口_{county}.csv"), "gb18030")

    for origin in ("火化", "死亡医学证明"):
        deaths = rendered["death"].filter(pl.col("file_kind") == origin)
        for d, rows in _halves(deaths):
            _csv(
                _chinese("death", rows),
                target("death", f"{origin}_{county}_{labels[d - 1]}.csv"),
                "gb18030",
            )
    for d, rows in _halves(rendered["marriage"]):
        _csv(
            _chinese("marriage", rows),
            target("marriage", f"婚姻登记_{labels[d - 1]}.csv"),
            "utf-8-sig",
        )
    for d, rows in _halves(rendered["birth_certificate"]):
        _xlsx(
            _chinese("birth_certificate", rows),
            target("birth_certificate", f"出生医学证明_{labels[d - 1]}.xlsx"),
        )
    for d, rows in _halves(rendered["maternity_insurance"]):
        claims = _chinese("maternity_insurance", rows).with_columns(
            pl.col("生育胎数").cast(pl.Int64)
        )
        claims.write_parquet(target("maternity_insurance", f"生育保险待遇_{labels[d - 1]}.parquet"))
    for d, rows in _halves(rendered["vaccination"]):
        _csv(
            _chinese("vaccination", rows),
            target("vaccination", f"预防接种个案_{county}_{labels[d - 1]}.csv"),
            "gb18030",
        )
    for d, rows in _halves(rendered["school"]):
        _xlsx(_chinese("school", rows), target("school", f"在校学生名册_{labels[d - 1]}.xlsx"))
    return [str(p.relative_to(out)) for p in written]


def write_truth(out: Path, tables: dict[str, pl.DataFrame]) -> list[str]:
    """Truth tables as CSV UTF-8 (no BOM), one file per table."""
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        empty_as_null = [
            pl.when(pl.col(c) != "").then(pl.col(c)).alias(c)
            for c, t in frame.schema.items()
            if t == pl.String
        ]
        frame.with_columns(empty_as_null).write_csv(folder / f"{name}.csv")
    return [f"truth/{name}.csv" for name in tables]
