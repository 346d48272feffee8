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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linkage.errors import RenkouError  # noqa: E402
from linkage.office import to_pdf  # noqa: E402


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
    try:
        pdfs = to_pdf(args.workbooks, args.out_dir)
    except RenkouError as err:
        raise SystemExit(str(err)) from None
    for pdf in pdfs:
        print(pdf)
    if args.png:
        print(page1_png(pdfs[0], args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
