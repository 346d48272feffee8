"""Printing workbooks to PDF with LibreOffice (headless), where an office has it installed.

Task lists and bulletins are Excel workbooks laid out for A4; the province and the townships
often want the PDF too. LibreOffice is optional: :func:`office` says whether it is there, and
:func:`to_pdf` refuses clearly when it is not. Needs the Debian packages ``libreoffice-calc``
and ``fonts-noto-cjk`` (without a CJK font the hanzi print as boxes).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from linkage.errors import RenkouError


def office() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("libreoffice") or shutil.which("soffice")


def to_pdf(workbooks: list[Path], out_dir: Path, *, timeout: int = 180) -> list[Path]:
    """Each workbook as ``out_dir/<name>.pdf``.

    Raises:
        RenkouError: LibreOffice is not installed, or wrote no PDF.
    """
    program = office()
    if program is None:
        raise RenkouError(
            "LibreOffice is not installed, so no PDF. Fix: apt-get install libreoffice-calc "
            "fonts-noto-cjk (the workbook itself is written)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="renkou-lo-") as profile:
        # a private profile: parallel runs and a user's open LibreOffice do not collide
        done = subprocess.run(
            [
                program,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                *map(str, workbooks),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    pdfs = [out_dir / (w.stem + ".pdf") for w in workbooks]
    missing = [p.name for p in pdfs if not p.exists() or p.stat().st_size == 0]
    if done.returncode != 0 or missing:
        raise RenkouError(
            f"LibreOffice wrote no PDF for {', '.join(missing) or 'the workbooks'} (exit "
            f"{done.returncode}). Fix: open the workbook in LibreOffice once to see why"
        )
    return pdfs
