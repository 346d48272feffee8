"""The 通报 on the ten-person base of the quality tests: the same numbers as ``renkou figures``
and the report, the ranking, the weakest named, progress since the last bulletin, the PDF."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from linkage.cli import app
from linkage.report import quality
from linkage.report.bulletin import FIGURES, period_of, write_bulletin
from linkage.store import Store
from tests.report.fixture import AS_OF, LX, SC, build_home


def _rows(path: Path) -> dict[str, dict[str, object]]:
    """The figures sheet: township (全县 for the county) → heading → value."""
    sheet = openpyxl.load_workbook(path)["通报"]
    heads = [c.value for c in sheet[4]]
    out = {}
    for row in sheet.iter_rows(min_row=6, values_only=True):
        if row[1] is None:
            break
        out[str(row[1])] = dict(zip(heads, row, strict=False))
    return out


def test_the_bulletin_shows_the_figures_ranked_and_names_the_weakest(tmp_path: Path) -> None:
    with Store(build_home(tmp_path)) as store:
        result = write_bulletin(store, tmp_path / "out", operator="t", day=AS_OF, pdf=False)
        figures = quality.assessment(store, as_of=AS_OF)
        head = {r["figure"]: r["value"] for r in quality.headline(store, as_of=AS_OF).to_dicts()}
    assert result.title == "永顺县全员人口信息清理工作2026年6月通报"
    rows = _rows(result.workbook)
    assert set(rows) == {"全县", LX, SC}
    for figure, (heading, _) in FIGURES.items():
        for town, shown in rows.items():
            want = figures["county"] if town == "全县" else figures["townships"][town]
            value = shown[heading]
            assert (value == "—") if want[figure] is None else value == pytest.approx(want[figure])
    assert rows["全县"]["户籍覆盖率"] == pytest.approx(head["coverage"])  # the report's number
    # 首车镇 misses more targets (coverage 0 %, consistency): ranked last, named
    assert [rows[LX]["排名"], rows[SC]["排名"]] == [1, 2]
    assert rows[SC]["未达标项"] >= rows[LX]["未达标项"]
    assert SC in result.below["coverage"] and LX not in result.below["coverage"]
    sheet = openpyxl.load_workbook(result.workbook)["通报"]
    said = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert any(s.startswith("户籍覆盖率未达95%：") and SC in s for s in said)
    assert any("7项底库未载" in s for s in said)  # not measurable: listed, not dropped
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9


def test_a_later_bulletin_says_what_changed(tmp_path: Path) -> None:
    with Store(build_home(tmp_path)) as store:
        first = write_bulletin(store, tmp_path / "a", operator="t", day=AS_OF, pdf=False)
        # K2 (首车镇) gets registered: coverage there goes from 0 % to 100 %
        store.con.execute("UPDATE links SET person_id = 'P05' WHERE source_record_id = 'K2'")
        later = AS_OF + dt.timedelta(days=7)
        second = write_bulletin(store, tmp_path / "b", operator="t", day=later, pdf=False)
    assert openpyxl.load_workbook(first.workbook)["较上期"]["A3"].value == "首期通报，无上期可比"
    changes = openpyxl.load_workbook(second.workbook)["较上期"]
    heads = [c.value for c in changes[3]]
    rows = {
        r[0]: dict(zip(heads, r, strict=False))
        for r in changes.iter_rows(min_row=4, values_only=True)
    }
    assert rows[SC]["户籍覆盖率"] == pytest.approx(1.0)
    assert rows[LX]["户籍覆盖率"] == pytest.approx(0.0)


def test_periods() -> None:
    day = dt.date(2026, 5, 14)  # a Thursday
    assert period_of("week", day) == (dt.date(2026, 5, 11), "2026年第20周")
    assert period_of("month", day) == (dt.date(2026, 5, 1), "2026年5月")
    assert period_of("quarter", day) == (dt.date(2026, 4, 1), "2026年第2季度")


def test_the_command_writes_it(tmp_path: Path) -> None:
    home = build_home(tmp_path)
    done = CliRunner().invoke(
        app,
        [
            "--home",
            str(home),
            "bulletin",
            "--out",
            str(tmp_path / "out"),
            "--period",
            "week",
            "--date",
            AS_OF.isoformat(),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "2026年第27周通报" in done.output
    wrong = CliRunner().invoke(
        app, ["--home", str(home), "bulletin", "--out", str(tmp_path / "o"), "--period", "year"]
    )
    assert wrong.exit_code == 2 and "Fix: one of week, month, quarter" in wrong.output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice not installed")
def test_the_bulletin_prints_to_a_pdf_with_hanzi(tmp_path: Path) -> None:
    with Store(build_home(tmp_path)) as store:
        result = write_bulletin(store, tmp_path / "out", operator="t", day=AS_OF)
    assert result.pdf is not None and result.pdf.stat().st_size > 0
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "全员人口信息清理工作2026年6月通报" in text and SC in text
