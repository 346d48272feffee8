"""The exported workbook opens in LibreOffice (headless) and prints to PDF without errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from linkage.store import Store
from tests.tasks.fixture import copy_home, export_all

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_tasks_pdf.py"


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("libreoffice") is None,
    reason="LibreOffice not installed (apt-get install libreoffice-calc)",
)
def test_workbooks_convert_to_pdf(tmp_path: Path) -> None:
    with Store(copy_home(tmp_path / "home")) as store:
        files = export_all(store, tmp_path / "out")
    pdf_dir = tmp_path / "pdf"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(pdf_dir), *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for workbook in files.values():
        pdf = pdf_dir / (workbook.stem + ".pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
        if shutil.which("pdfinfo"):  # poppler-utils: pages and orientation
            info = subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout
            fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
            assert int(fields["Pages"]) >= 2  # task sheets + 填写说明
            width, _, height = fields["Page size"].split()[:3]
            assert float(width) > float(height)  # landscape


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("libreoffice") is None,
    reason="LibreOffice not installed (apt-get install libreoffice-calc)",
)
def test_a_file_saved_again_by_another_office_suite_reads_back(tmp_path: Path) -> None:
    """Townships use WPS or LibreOffice as often as Excel: the batch sheet, the hidden check
    codes and the answers must survive their save."""
    from linkage.tasks.returns import import_returns
    from tests.tasks.fixture import F_MOVED, SC, TODAY, fill

    with Store(copy_home(tmp_path / "home")) as store:
        files = export_all(store, tmp_path / "out")
        fill(files[SC], {F_MOVED: {"核查结果": "属实", "核查人": "赵五", "核查日期": "2025-10-10"}})
        resaved = tmp_path / "resaved"
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [
                    "libreoffice",
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "xlsx",
                    "--outdir",
                    str(resaved),
                    str(files[SC]),
                ],
                capture_output=True,
                timeout=300,
                check=True,
            )
        report = import_returns(store, [resaved / files[SC].name], operator="t", today=TODAY)
        assert report.errors == [] and report.files[0].applied == 1
        assert (
            store.scalar("SELECT status FROM findings WHERE finding_id = ?", [F_MOVED])
            == "confirmed"
        )
