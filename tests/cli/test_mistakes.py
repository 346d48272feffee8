"""Every user mistake of the ``renkou`` command line: exit code 2 (or 3 for a refused file),
one line that says the fix, never a traceback.

The tests run the real entry point, ``linkage.cli.main()``, in-process with ``sys.argv`` set,
each on its own temporary home and a temporary ``PREFECT_HOME``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from linkage.cli._common import EXIT_MISTAKE, EXIT_OK, EXIT_REJECTED
from linkage.errors import ConfigError
from linkage.settings import load_settings
from linkage.store import Store
from tests.conftest import Renkou, Result, write_csv
from tests.findings.test_rules import BASE
from tests.headers import DEATH_HEADER, POP_HEADER


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary Prefect home, no renkou or Prefect settings from the caller's shell, and
    wide uncoloured terminal output (typer's usage errors come in a rich panel)."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    for name in ("RENKOU_HOME", "RENKOU_CONFIG", "RENKOU_OPERATOR", "PREFECT_API_URL"):
        monkeypatch.setenv(name, "")  # recorded, so that the delete below is undone too
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


def assert_mistake(result: Result, *words: str, code: int = EXIT_MISTAKE) -> None:
    """The exit code, the fix and the given words in the message, and no traceback."""
    assert result.code == code, result.text
    assert "Traceback" not in result.text, result.text
    for word in ("Fix", *words):
        assert word in result.text, result.text


# ------------------------------------------------------------------------ tiny inboxes
def population_inbox(inbox: Path) -> Path:
    write_csv(inbox / "population" / "base.csv", POP_HEADER, BASE)
    return inbox


def death_row(record: str, death_date: str) -> list[str]:
    return [record, "张伟", "男", "", "1940-01-01", death_date, "", "火化"]


@pytest.fixture
def ingested(tmp_path: Path, renkou: Renkou) -> Path:
    """A home with a database: the base population ingested with ``renkou ingest``."""
    home = tmp_path / "home"
    result = renkou("--home", home, "ingest", "--inbox", population_inbox(tmp_path / "inbox"))
    assert result.code == EXIT_OK, result.text
    return home


def count(home: Path, table: str) -> int:
    with Store(home) as store:
        return int(store.scalar(f'SELECT count(*) FROM "{table}"'))


# ------------------------------------------------------------- 1. a home without a database
READ_ONLY_COMMANDS = {
    "findings": ["findings"],
    "export links": ["export", "links", "--out", "{tmp}/links.csv"],
    "export findings": ["export", "findings", "--out", "{tmp}/findings.csv"],
    "evaluate": ["evaluate", "--truth", "{tmp}/truth"],
    "history": ["history"],
    "report": ["report"],
    "tasks status": ["tasks", "status"],
}


@pytest.mark.parametrize("command", list(READ_ONLY_COMMANDS))
def test_a_read_only_command_on_a_home_without_database_creates_nothing(
    tmp_path: Path, renkou: Renkou, command: str
) -> None:
    home = tmp_path / "home"
    (tmp_path / "truth").mkdir()
    args = [a.format(tmp=tmp_path) for a in READ_ONLY_COMMANDS[command]]
    result = renkou("--home", home, *args)
    assert_mistake(result, "no renkou database", str(home), "--home")
    assert not home.exists(), "a read-only command created an empty home"
    assert {p.name for p in tmp_path.iterdir()} <= {"truth", "prefect-home"}  # no CSV either


# ------------------------------------------------------------------ 2. a wrong truth folder
def test_evaluate_with_a_missing_truth_folder(
    tmp_path: Path, renkou: Renkou, ingested: Path
) -> None:
    missing = tmp_path / "no-such-truth"
    result = renkou("--home", ingested, "evaluate", "--truth", missing)
    assert_mistake(result, str(missing), "--truth")


def test_evaluate_with_a_folder_without_the_truth_files(
    tmp_path: Path, renkou: Renkou, ingested: Path
) -> None:
    empty = tmp_path / "empty-truth"
    empty.mkdir()
    result = renkou("--home", ingested, "evaluate", "--truth", empty)
    assert_mistake(result, "base_map.csv", "--truth")


# ---------------------------------------------------------------------- 3. unknown source
def test_contracts_of_an_unknown_source_lists_the_known_ones(renkou: Renkou) -> None:
    result = renkou("contracts", "nosuchsource")
    assert_mistake(result, "nosuchsource", "population", "death", "birth_certificate")


# ------------------------------------------------------------ 4. typer's own usage errors
@pytest.mark.parametrize("limit", ["-1", "0"])
def test_history_limit_below_one_is_a_usage_error(
    tmp_path: Path, renkou: Renkou, limit: str
) -> None:
    result = renkou("--home", tmp_path / "home", "history", "--limit", limit)
    assert result.code == EXIT_MISTAKE, result.text
    assert "Traceback" not in result.text, result.text
    assert "--limit" in result.err
    assert not (tmp_path / "home").exists()


# -------------------------------------------------------------------- 5./6. a wrong inbox
def test_ingest_pointed_one_level_above_the_inbox_names_the_inner_one(
    tmp_path: Path, renkou: Renkou
) -> None:
    outer = tmp_path / "delivery"
    population_inbox(outer / "inbox")
    result = renkou("--home", tmp_path / "home", "ingest", "--inbox", outer)
    assert_mistake(result, "point --inbox at", str(outer / "inbox"))
    assert not (tmp_path / "home").exists()  # a mistake creates no empty home


def test_ingest_of_a_missing_inbox(tmp_path: Path, renkou: Renkou) -> None:
    missing = tmp_path / "no-such-inbox"
    result = renkou("--home", tmp_path / "home", "ingest", "--inbox", missing)
    assert_mistake(result, str(missing), "--inbox")
    assert not (tmp_path / "home").exists()


# ------------------------------------------------------------ 7. refused files, bad rows
@pytest.mark.parametrize("bad", ["missing_header", "empty"])
def test_a_file_refused_whole_exits_3_and_the_good_file_is_loaded(
    tmp_path: Path, renkou: Renkou, bad: str
) -> None:
    inbox = population_inbox(tmp_path / "inbox")
    refused = inbox / "death" / "deaths.csv"
    if bad == "empty":
        refused.parent.mkdir(parents=True)
        refused.write_bytes(b"")
    else:
        header = [h for h in DEATH_HEADER if h != "死亡日期"]
        write_csv(refused, header, [["D1", "张伟", "男", "", "1940-01-01", "", "火化"]])
    home = tmp_path / "home"
    result = renkou("--home", home, "ingest", "--inbox", inbox)
    assert_mistake(result, "deaths.csv", code=EXIT_REJECTED)
    assert "rejected: death/deaths.csv" in result.err
    assert count(home, "src_population") == len(BASE)


def test_an_ingest_whose_only_problem_is_a_quarantined_row_exits_0(
    tmp_path: Path, renkou: Renkou
) -> None:
    inbox = population_inbox(tmp_path / "inbox")
    write_csv(
        inbox / "death" / "deaths.csv",
        DEATH_HEADER,
        [death_row("D1", "2026-03-05"), death_row("D2", "2026-13-45")],  # no 13th month
    )
    home = tmp_path / "home"
    result = renkou("--home", home, "ingest", "--inbox", inbox)
    assert result.code == EXIT_OK, result.text
    assert "Traceback" not in result.text
    assert count(home, "src_population") == len(BASE)
    assert count(home, "src_death") == 1
    assert count(home, "quarantine") == 1


# ------------------------------------------------------------------------------- 8. init
def test_init_writes_the_county_and_a_second_init_is_a_mistake(
    tmp_path: Path, renkou: Renkou
) -> None:
    home = tmp_path / "home"
    first = renkou("--home", home, "init", home, "--county", "433127", "--name", "永顺县")
    assert first.code == EXIT_OK, first.text
    assert "Traceback" not in first.text
    text = (home / "config" / "renkou.toml").read_text("utf-8")
    assert 'code = "433127"' in text and 'name = "永顺县"' in text
    settings = load_settings(home)
    assert (settings.county_code, settings.county_name) == ("433127", "永顺县")

    again = renkou("--home", home, "init", home, "--county", "433127", "--name", "永顺县")
    assert_mistake(again, "exists already", str(home / "config"))


def test_init_with_a_five_digit_county_code(tmp_path: Path, renkou: Renkou) -> None:
    home = tmp_path / "home"
    result = renkou("--home", home, "init", home, "--county", "12345", "--name", "永顺县")
    assert_mistake(result, "12345", "6 digits")
    assert not (home / "config").exists()


# ----------------------------------------------------------------- 9. a misspelt setting
def misspell_a_setting(home: Path) -> Path:
    config = home / "config" / "renkou.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[privacy]\nmask_keep_hed = 3\n", "utf-8")
    return config


def test_load_settings_names_the_file_and_the_misspelt_key(tmp_path: Path) -> None:
    config = misspell_a_setting(tmp_path / "home")
    with pytest.raises(ConfigError, match="mask_keep_hed") as raised:
        load_settings(tmp_path / "home")
    assert str(config.resolve()) in str(raised.value)
    assert "Fix" in str(raised.value)


def test_a_misspelt_setting_stops_a_command_that_reads_the_settings(
    tmp_path: Path, renkou: Renkou
) -> None:
    home = tmp_path / "home"
    Store(home).close()  # a database, so that the settings are what fails
    config = misspell_a_setting(home)
    result = renkou("--home", home, "tasks", "status")
    assert_mistake(result, "mask_keep_hed", str(config.resolve()))


def test_a_misspelt_setting_stops_serve_before_prefect(tmp_path: Path, renkou: Renkou) -> None:
    home = tmp_path / "home"
    config = misspell_a_setting(home)
    inbox = population_inbox(tmp_path / "inbox")
    result = renkou("--home", home, "serve", "--inbox", inbox)
    assert_mistake(result, "mask_keep_hed", str(config.resolve()))
    assert "serving" not in result.out
    assert not (home / "prefect").exists()


# ------------------------------------------------------------------- 10. CSV for Excel
def test_exported_links_are_utf8_with_a_bom(tmp_path: Path, renkou: Renkou) -> None:
    home = tmp_path / "home"
    links = pl.DataFrame(
        {
            "source": ["death"],
            "source_record_id": ["D1"],
            "role": ["deceased"],
            "person_id": ["P01"],
            "match_probability": [0.99],
            "match_weight": [12.5],
            "decided_by": ["model"],
            "explanation": ["姓名一致，身份证号一致"],
            "model_version": ["death-1"],
        }
    )
    with Store(home) as store:
        store.replace_table("links", links)
    out = tmp_path / "out" / "links.csv"
    result = renkou("--home", home, "export", "links", "--out", out)
    assert result.code == EXIT_OK, result.text
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(out)
    assert back.columns[0] == "source"
    assert back["explanation"].to_list() == ["姓名一致，身份证号一致"]


# ------------------------------------------------------------------- 11. a locked database
def test_a_database_in_use_by_another_process(tmp_path: Path, renkou: Renkou) -> None:
    home = tmp_path / "home"
    Store(home).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(30)",
            str(home / "renkou.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        result = renkou("--home", home, "export", "links", "--out", tmp_path / "links.csv")
        assert_mistake(result, "in use by another process", str(home))
    finally:
        holder.kill()
        holder.wait(timeout=10)
