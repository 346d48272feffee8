"""Shared fixtures: a temporary renkou home and helpers to write inbox files."""

from __future__ import annotations

import csv
import io
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from linkage.cli._common import EXIT_OK
from linkage.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "home") as s:
        yield s


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8"
) -> Path:
    """Write a CSV as a department would (``utf-8``, ``utf-8-sig`` or ``gb18030``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return path


def write_parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=header, orient="row").write_parquet(path)
    return path


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prefect's test harness, once per session, with a temporary PREFECT_HOME (the harness
    still writes there). Yields the API URL of its server, for subprocesses."""
    prefect_home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_HOME", str(prefect_home))
        mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        mp.delenv("PREFECT_API_URL", raising=False)
        from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings
        from prefect.testing.utilities import prefect_test_harness

        # temporary_settings too: the env is read only if prefect was not imported yet
        with (
            temporary_settings(updates={PREFECT_HOME: prefect_home}),
            prefect_test_harness(server_startup_timeout=180),
        ):
            yield str(PREFECT_API_URL.value())


@dataclass(frozen=True)
class Result:
    """What one ``renkou`` command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Renkou = Callable[..., Result]


@pytest.fixture
def renkou(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Renkou:
    """Run ``renkou ARGS…`` through ``linkage.cli.main()``.

    An exception that escapes ``main()`` is what a user would see as a traceback and exit
    code 1: it is reported so, and the tests' ``"Traceback" not in …`` catches it.
    """
    from linkage.cli import main

    def run(*args: str | Path) -> Result:
        monkeypatch.setattr(sys, "argv", ["renkou", *map(str, args)])
        capsys.readouterr()  # forget what earlier steps of the test printed
        code: int
        crash = ""
        try:
            main()
            code = EXIT_OK
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except Exception:  # what the console script would print as a traceback
            code, crash = 1, traceback.format_exc()
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err + crash)

    return run
