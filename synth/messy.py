"""The inbox as offices really deliver it: the same rows as ``writers.write_inbox``, in the
layouts departments export by hand (issue 17, docs/deliveries.md).

- 全员人口库, second part: an Excel sheet with a title row, a blank row, header variants
  (身份证号, 乡镇（街道） with full-width brackets) and a footer (合计, 制表人).
- 户籍: a title row and a blank row above the header (XLSX, or the GB18030 CSV of a large
  county), 身份证号码 for 公民身份号码, a footer.
- 死亡: the first 火化 delivery as "Unicode text" (UTF-16, tab-separated); the first 死亡医学证明
  delivery with one ragged line (an extra field), the one row a department really breaks.
- 婚姻: the first delivery with IDs behind an apostrophe (how systems keep Excel from
  mangling them); the second as an Excel sheet with 男方身份证号 / 女方身份证号码 and a few IDs
  stored as Excel numbers (digits lost: the row must still link by name and birth date).
- 出生医学证明: a 填表说明 sheet first, then the data under a two-row merged header
  (新生儿 / 母亲 / 父亲 over 姓名, 身份证件号码 …).
- 生育保险: Parquet, as the clean inbox.
- 预防接种: an Excel sheet under a title row, headers as the immunisation system names them
  (受种者编号, 儿童身份证号, 监护人身份证号), a footer.
- 在校学生: GB18030 CSV with 全国学籍号 / 家长姓名 / 家长身份证号 and IDs behind an apostrophe.

``broken`` lists the rows written broken on purpose (source, file, line, record id): the only
rows that may sit in quarantine.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import polars as pl
import xlsxwriter

from .styles import HUKOU_XLSX_MAX_ROWS
from .writers import _XLSX_CREATED, _chinese, _csv, _halves

#: of the second marriage delivery, the share of its husband IDs (from the top, at least
#: one more than half) that the clerk's sheet holds as numbers: a column formatted as 常规,
#: not 文本, over the rows typed after the format was lost
NUMERIC_ID_SHARE = 0.6
FOOTER = (["合计"], ["制表人：", "", "审核人："])


def _rows(frame: pl.DataFrame) -> list[list[str | None]]:
    return [list(r) for r in frame.iter_rows()]


def _sheet_xlsx(
    path: Path,
    header: list[str],
    rows: list[list[str | None]],
    *,
    title: str | None = None,
    footer: bool = True,
    numbers: Collection[tuple[int, int]] = (),
) -> None:
    """One sheet: optional title and blank row, the header, the rows, a footer."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    book.set_properties({"created": _XLSX_CREATED, "author": ""})
    sheet = book.add_worksheet("Sheet1")
    r = 0
    if title:
        sheet.write_string(0, 0, title)
        r = 2  # a blank row under the title
    sheet.write_row(r, 0, header)
    for i, row in enumerate(rows, start=r + 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if (i - r - 1, c) in numbers and value.isdigit():
                sheet.write_number(i, c, float(value))  # Excel keeps 15 digits
            else:
                sheet.write_string(i, c, value)
    if footer:
        last = r + len(rows) + 2
        sheet.write_row(last, 0, [*FOOTER[0], str(len(rows))])
        sheet.write_row(last + 1, 0, FOOTER[1])
    book.close()


def _renamed(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    return frame.rename({k: v for k, v in names.items() if k in frame.columns})


def write_messy_inbox(
    out: Path, rendered: dict[str, pl.DataFrame], county: str, labels: tuple[str, str]
) -> tuple[list[str], pl.DataFrame]:
    """Write every source's files under ``out/inbox`` in office layouts; returns their paths
    relative to ``out`` and the rows broken on purpose."""
    inbox = out / "inbox"
    written: list[Path] = []
    broken: list[dict[str, object]] = []

    def target(source: str, name: str) -> Path:
        folder = inbox / source
        folder.mkdir(parents=True, exist_ok=True)
        written.append(folder / name)
        return folder / name

    pop = rendered["population"]
    towns = sorted(pop["township"].unique().to_list())
    first = pop["township"].is_in(towns[: (len(towns) + 1) // 2])
    _csv(
        _chinese("population", pop.filter(first)),
        target("population", f"全员人口库_{county}_第1部分.csv"),
        "utf-8",
    )
    second = _renamed(
        _chinese("population", pop.filter(~first)),
        {"公民身份号码": "身份证号", "乡镇(街道)": "乡镇（街道）", "村(社区)": "村（社区）"},
    )
    _sheet_xlsx(
        target("population", f"全员人口库_{county}_第2部分.xlsx"),
        second.columns,
        _rows(second),
        title=f"{county}全员人口信息导出（第2部分）",
    )

    hukou = _renamed(_chinese("hukou", rendered["hukou"]), {"公民身份号码": "身份证号码"})
    title = f"{county}户籍人口花名册"
    if hukou.height <= HUKOU_XLSX_MAX_ROWS:
        path = target("hukou", f"户籍人口_{county}.xlsx")
        _sheet_xlsx(path, hukou.columns, _rows(hukou), title=title)
    else:
        path = target("hukou", f"户籍人口_{county}.csv")
        body = hukou.write_csv(line_terminator="\r\n")
        path.write_bytes(f"{title}\r\n\r\n{body}合计,{hukou.height}\r\n".encode("gb18030"))

    for origin in ("火化", "死亡医学证明"):
        deaths = rendered["death"].filter(pl.col("file_kind") == origin)
        for d, rows in _halves(deaths):
            frame = _chinese("death", rows)
            unicode_text = (origin, d) == ("火化", 1)
            suffix = "txt" if unicode_text else "csv"
            path = target("death", f"{origin}_{county}_{labels[d - 1]}.{suffix}")
            if unicode_text:  # Excel's "Unicode text": UTF-16 LE, tabs
                text = frame.write_csv(separator="\t", line_terminator="\r\n")
                path.write_bytes(text.encode("utf-16"))
            elif (origin, d) == ("死亡医学证明", 1) and frame.height:
                lines = frame.write_csv(line_terminator="\r\n").split("\r\n")
                # a record of this delivery only (one delivered again would not be lost)
                again = set(deaths.filter(pl.col("delivery") == 2)["record_id"])
                ids = frame["记录编号"].to_list()
                k = 1 + next((i for i, r in enumerate(ids) if r not in again), 0)
                lines[k] += ",多余字段"  # line 1 is the header
                record = ids[k - 1]
                broken.append({"source": "death", "file": path.name, "line": k + 1,
                               "record_id": record})  # fmt: skip
                path.write_bytes("\r\n".join(lines).encode("gb18030"))
            else:
                _csv(frame, path, "gb18030")

    for d, rows in _halves(rendered["marriage"]):
        frame = _chinese("marriage", rows)
        ids = [h for h in frame.columns if h.endswith("证件号码")]
        if d == 1:
            frame = frame.with_columns(("'" + pl.col(c)).alias(c) for c in ids)
            _csv(frame, target("marriage", f"婚姻登记_{labels[d - 1]}.csv"), "utf-8-sig")
            continue
        frame = _renamed(frame, {"男方证件号码": "男方身份证号", "女方证件号码": "女方身份证号码"})
        column = frame.columns.index("男方身份证号")
        # the IDs Excel can take for numbers (all digits: not those ending in X)
        digits = [i for i, v in enumerate(frame["男方身份证号"]) if v and v.isdigit()]
        typed = max(len(digits) // 2 + 1, round(len(digits) * NUMERIC_ID_SHARE))
        numbers = {(i, column) for i in digits[:typed]}
        path = target("marriage", f"婚姻登记_{labels[d - 1]}.xlsx")
        _sheet_xlsx(path, frame.columns, _rows(frame), footer=False, numbers=numbers)

    for d, rows in _halves(rendered["birth_certificate"]):
        _two_row_header(
            target("birth_certificate", f"出生医学证明_{labels[d - 1]}.xlsx"),
            _chinese("birth_certificate", rows),
        )

    for d, rows in _halves(rendered["maternity_insurance"]):
        claims = _chinese("maternity_insurance", rows).with_columns(
            pl.col("生育胎数").cast(pl.Int64)
        )
        claims.write_parquet(target("maternity_insurance", f"生育保险待遇_{labels[d - 1]}.parquet"))
    for d, rows in _halves(rendered["vaccination"]):
        frame = _renamed(
            _chinese("vaccination", rows),
            {
                "受种者编码": "受种者编号",
                "身份证号码": "儿童身份证号",
                "监护人身份证号码": "监护人身份证号",
            },
        )
        _sheet_xlsx(
            target("vaccination", f"预防接种个案_{county}_{labels[d - 1]}.xlsx"),
            frame.columns,
            _rows(frame),
            title=f"{county}预防接种个案信息导出",
        )
    for d, rows in _halves(rendered["school"]):
        frame = _renamed(
            _chinese("school", rows),
            {"学籍号": "全国学籍号", "监护人姓名": "家长姓名", "监护人身份证号码": "家长身份证号"},
        )
        ids = ["身份证号码", "家长身份证号"]
        frame = frame.with_columns(("'" + pl.col(c)).alias(c) for c in ids)
        _csv(frame, target("school", f"在校学生名册_{labels[d - 1]}.csv"), "gb18030")
    schema = {"source": pl.String, "file": pl.String, "line": pl.Int64, "record_id": pl.String}
    return [str(p.relative_to(out)) for p in written], pl.DataFrame(broken, schema=schema)


#: the groups of the birth certificate's two-row header (a column whose header starts with one)
_GROUPS = ("新生儿", "母亲", "父亲")


def _two_row_header(path: Path, frame: pl.DataFrame) -> None:
    """A 填表说明 sheet, then the data under a merged two-row header."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    book.set_properties({"created": _XLSX_CREATED, "author": ""})
    notes = book.add_worksheet("填表说明")
    notes.write_string(0, 0, "请按出生医学证明原件填写，身份证件号码以文本格式录入。")
    sheet = book.add_worksheet("出生医学证明")
    columns = frame.columns
    spans: dict[str, list[int]] = {}
    for c, header in enumerate(columns):
        group = next((g for g in _GROUPS if header.startswith(g)), None)
        if group is None or header == "出生医学证明编号":
            sheet.merge_range(0, c, 1, c, header)
        else:
            spans.setdefault(group, []).append(c)
            sheet.write_string(1, c, header.removeprefix(group))
    for group, cols in spans.items():
        if len(cols) > 1:
            sheet.merge_range(0, cols[0], 0, cols[-1], group)
        else:
            sheet.write_string(0, cols[0], group)
    for r, row in enumerate(frame.iter_rows(), start=2):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    book.close()
