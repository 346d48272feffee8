#!/usr/bin/env python3
"""Render task workbooks to PDF with LibreOffice (headless), as a township would print them.

    scripts/render_tasks_pdf.py OUT_DIR WORKBOOK.xlsx... [--png PAGE1.png]

Each workbook becomes OUT_DIR/<name>.pdf; ``--png`` also renders page 1 of the first PDF to a
PNG (``pdftoppm``, poppler-utils). Exit code non-zero when LibreOffice fails or writes no PDF.
Needs the Debian packages ``libreoffice-calc`` (``--no-install-recommends`` is enough),
``fonts-noto-cjk`` (hanzi; without it they print as boxes) and ``poppler-utils`` for ``--png``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def to_pdf(workbooks: list[Path], out_dir: Path, *, timeout: int = 180) -> list[Path]:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        raise SystemExit("libreoffice is not installed (apt-get install libreoffice-calc)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="renkou-lo-") as profile:
        # a private profile: parallel runs and a user's open LibreOffice do not collide
        done = subprocess.run(
            [
                office,
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
    if done.returncode != 0 or missing or "Error" in done.stderr:
        raise SystemExit(
            f"libreoffice failed (exit {done.returncode}; missing {missing}):\n"
            f"{done.stderr.strip()}"
        )
    return pdfs


def page1_png(pdf: Path, png: Path, *, dpi: int = 110) -> Path:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is not installed (apt-get install poppler-utils)")
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(png.with_suffix("")),
        ],
        check=True,
        timeout=120,
    )
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("workbooks", type=Path, nargs="+")
    parser.add_argument("--png", type=Path, help="render page 1 of the first PDF here")
    args = parser.parse_args(argv)
    pdfs = to_pdf(args.workbooks, args.out_dir)
    for pdf in pdfs:
        print(pdf)
    if args.png:
        print(page1_png(pdfs[0], args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
