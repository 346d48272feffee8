"""The messy inbox (``--layouts messy``): the same county, in the layouts offices export by
hand, and the same truth; each layout is really in the files (read back with openpyxl and
the bytes themselves)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from synth import generate_county

PERSONS, SEED = 1500, 5


@pytest.fixture(scope="module")
def counties(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("messy")
    generate_county(PERSONS, SEED, root / "clean")
    generate_county(PERSONS, SEED, root / "messy", layouts="messy")
    yield root / "clean", root / "messy"


def _one(folder: Path, pattern: str) -> Path:
    (path,) = sorted(folder.glob(pattern))
    return path


def test_the_truth_is_the_same_county(counties: tuple[Path, Path]) -> None:
    clean, messy = counties
    for table in ("links", "findings", "persons", "base_map"):
        assert pl.read_csv(clean / "truth" / f"{table}.csv", infer_schema=False).equals(
            pl.read_csv(messy / "truth" / f"{table}.csv", infer_schema=False)
        ), table
    broken = pl.read_csv(messy / "truth" / "broken_rows.csv")
    assert broken.height == 1 and broken["source"].to_list() == ["death"]
    assert not (clean / "truth" / "broken_rows.csv").exists()


def test_title_rows_header_variants_and_footers(counties: tuple[Path, Path]) -> None:
    inbox = counties[1] / "inbox"
    sheet = openpyxl.load_workbook(_one(inbox / "population", "*第2部分.xlsx")).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "全员人口" in str(rows[0][0]) and all(v is None for v in rows[1])
    assert "身份证号" in rows[2] and "乡镇（街道）" in rows[2] and "公民身份号码" not in rows[2]
    assert rows[-2][0] == "合计" and str(rows[-1][0]).startswith("制表人")
    hukou = openpyxl.load_workbook(_one(inbox / "hukou", "*.xlsx")).active
    assert "身份证号码" in [c.value for c in hukou[3]]


def test_unicode_text_ragged_line_apostrophes_and_numbers(counties: tuple[Path, Path]) -> None:
    inbox = counties[1] / "inbox"
    text = _one(inbox / "death", "火化_*.txt").read_bytes()
    assert text[:2] == b"\xff\xfe" and "\t".encode("utf-16-le") in text
    broken = pl.read_csv(counties[1] / "truth" / "broken_rows.csv")
    lines = (inbox / "death" / broken["file"][0]).read_bytes().decode("gb18030").split("\r\n")
    header = lines[0].count(",")
    ragged = [n for n, line in enumerate(lines, start=1) if line and line.count(",") != header]
    assert ragged == broken["line"].to_list()
    marriage = _one(inbox / "marriage", "*.csv").read_text("utf-8-sig").splitlines()
    assert ",'4" in marriage[1]
    book = openpyxl.load_workbook(_one(inbox / "marriage", "*.xlsx")).active
    column = [c.value for c in book[1]].index("男方身份证号")
    numbers = [r[column] for r in book.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, float) for v in numbers) and any(isinstance(v, str) for v in numbers)


def test_two_row_merged_header_after_an_instructions_sheet(counties: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(_one(counties[1] / "inbox" / "birth_certificate", "*0501.xlsx"))
    assert book.sheetnames == ["填表说明", "出生医学证明"]
    sheet = book["出生医学证明"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:A2" in merged  # 出生医学证明编号 over two rows
    top, sub = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    mother = top.index("母亲")
    assert sub[mother : mother + 2] == ["姓名", "身份证件号码"]


def test_no_record_is_lost_in_the_messy_layouts(
    counties: tuple[Path, Path], tmp_path: Path
) -> None:
    from linkage import pipeline
    from linkage.catalog import SOURCES
    from linkage.store import Store

    kept: dict[str, dict[str, set[str]]] = {}
    for name, county in zip(("clean", "messy"), counties, strict=True):
        with Store(tmp_path / name) as store:
            done = pipeline.ingest(store, county / "inbox")
            assert done.rejected_files == 0, [f.message for f in done.report.files]
            kept[name] = {
                s: set(store.frame(f'SELECT "{src.record_key}" AS k FROM {src.table}')["k"])
                for s, src in SOURCES.items()
            }
            if name == "messy":
                quarantined = store.frame("SELECT source, file, row FROM quarantine")
                flagged = store.scalar(
                    "SELECT count(*) FROM row_issues WHERE rule LIKE '%stored_as_number%'"
                )
    broken = pl.read_csv(counties[1] / "truth" / "broken_rows.csv")
    for source in kept["clean"]:
        lost = kept["clean"][source] - kept["messy"][source]
        expected = set(broken.filter(pl.col("source") == source)["record_id"])
        assert lost == expected, source
    assert sorted(zip(quarantined["source"], quarantined["row"], strict=True)) == sorted(
        zip(broken["source"], broken["line"], strict=True)
    )
    assert flagged and flagged > 0  # the IDs Excel stored as numbers, said per row
