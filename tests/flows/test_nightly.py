"""The nightly flow end to end on a small generated county, under Prefect's test harness.

Night 1 loads the county except one death certificate file; night 2 delivers that file. Every
scenario starts from a copy of night 1's home and is compared with an uninterrupted night 2.
Training uses a small u sample (a copy of ``configs/`` with ``u_max_pairs`` lowered): the
models are worse, but the same in every scenario, which is all these tests need.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from linkage.ingest.load import IngestReport
from linkage.runs import MARKER, StageFailed
from linkage.store import Store
from synth import generate_county

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PERSONAL = "王小明 43312719900101123X"


@dataclass(frozen=True)
class County:
    night1: Path  # inbox of the first night
    night2: Path  # inbox of the second night: one new death certificate file
    new_file: str


@dataclass(frozen=True)
class Night:
    home: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def fast_training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # one key over the shipped defaults: the layers merge key by key
    configs = tmp_path_factory.mktemp("configs")
    (configs / "renkou.toml").write_text("[linkage]\nu_max_pairs = 100_000\n", "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RENKOU_CONFIG", str(configs))
        yield


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    root = tmp_path_factory.mktemp("county")
    generate_county(persons=2000, seed=2026, out=root / "county")
    night1 = root / "night1"
    shutil.copytree(root / "county" / "inbox", night1)
    new = sorted((night1 / "death").glob("死亡医学证明_*"))[-1]
    night2 = root / "night2"
    (night2 / "death").mkdir(parents=True)
    shutil.move(new, night2 / "death" / new.name)
    return County(night1, night2, new.name)


def _nightly(inbox: Path, home: Path, **options: Any) -> dict[str, Any]:
    from flows.nightly import nightly

    options.setdefault("outputs", False)
    return nightly(inbox=str(inbox), home=str(home), **options)


def _copy(home: Path, to: Path) -> Path:
    shutil.copytree(home, to, ignore=shutil.ignore_patterns("run.lock"))
    return to


@pytest.fixture(scope="module")
def night1(county: County, tmp_path_factory: pytest.TempPathFactory) -> Night:
    home = tmp_path_factory.mktemp("night1") / "home"
    return Night(home, _nightly(county.night1, home))


@pytest.fixture(scope="module")
def night2(night1: Night, county: County, tmp_path_factory: pytest.TempPathFactory) -> Night:
    """The uninterrupted second night every other scenario must end up equal to."""
    home = _copy(night1.home, tmp_path_factory.mktemp("night2") / "home")
    return Night(home, _nightly(county.night2, home))


def results(home: Path) -> dict[str, pl.DataFrame]:
    """What a night produces, without run ids and timestamps."""
    with Store(home) as store:
        return {
            "links": store.frame("SELECT * EXCLUDE (explanation) FROM links ORDER BY ALL"),
            "findings": store.frame(
                "SELECT finding_id, finding_type, case_key, source_record_id, person_id, "
                "other_person_id, field, township, status, evidence FROM findings ORDER BY ALL"
            ),
            "ledger": store.frame(
                "SELECT source, file, rows_loaded FROM load_ledger "
                "WHERE status = 'loaded' ORDER BY ALL"
            ),
            "death": store.frame("SELECT record_id FROM src_death ORDER BY ALL"),
        }


def assert_same_night(home: Path, reference: Path, *, statuses: bool = True) -> None:
    got, want = results(home), results(reference)
    if not statuses:  # a task list export marks findings sent
        got["findings"], want["findings"] = (
            f.drop("status") for f in (got["findings"], want["findings"])
        )
    for name in want:
        assert_frame_equal(got[name], want[name], check_dtypes=False)
    assert got["ledger"].select("source", "file").is_duplicated().sum() == 0
    assert got["death"]["record_id"].is_duplicated().sum() == 0


def runs_table(home: Path) -> pl.DataFrame:
    with Store(home) as store:
        return store.frame(
            "SELECT run_id, status, failed_stage, error_class, error_message, "
            "restored FROM runs ORDER BY started_at"
        )


# ---------------------------------------------------------------------------- scenarios
def test_second_night_is_incremental_and_equals_a_full_run(
    night1: Night, night2: Night, county: County, tmp_path: Path
) -> None:
    assert night1.summary["stages"]["link"]["mode"] == "full"
    link = night2.summary["stages"]["link"]
    assert link["mode"] == "incremental" and link["trained"] == []
    new_records = night2.summary["stages"]["ingest"]["rows_loaded"]
    assert new_records > 0
    assert {k: v for k, v in link["scored"].items() if v} == {"death": new_records}
    assert set(link["models"].values()) == {"v0001"}

    full_home = _copy(night1.home, tmp_path / "full")
    full = _nightly(county.night2, full_home, full=True)
    assert full["stages"]["link"]["mode"] == "full"
    assert full["stages"]["link"]["trained"] == []
    assert_same_night(night2.home, full_home)
    before, after = results(night1.home)["links"], results(night2.home)["links"]
    assert after.height == before.height + new_records


def test_malformed_file_is_reported_and_the_rest_loaded(
    night1: Night, night2: Night, county: County, tmp_path: Path
) -> None:
    from linkage.cli import app
    from linkage.cli._common import EXIT_REJECTED

    inbox = shutil.copytree(county.night2, tmp_path / "inbox")
    (inbox / "marriage").mkdir()
    (inbox / "marriage" / "婚姻登记_损坏.csv").write_text("甲,乙\n1,2\n", "utf-8")
    (inbox / "hukou").mkdir()
    (inbox / "hukou" / "户籍人口_坏.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    home = _copy(night1.home, tmp_path / "home")

    result = CliRunner().invoke(
        app, ["--home", str(home), "run", "--inbox", str(inbox), "--no-outputs"]
    )
    # refused files are said with a distinct exit code, but the night is not a failed one:
    # it succeeded on the good file and nothing was restored
    assert result.exit_code == EXIT_REJECTED, result.output
    assert "files       3: 1 loaded, 2 rejected" in result.output
    assert "rejected    marriage/婚姻登记_损坏.csv: columns 1, 2 of the header row" in result.output
    assert "rejected    hukou/户籍人口_坏.xlsx: " in result.output
    assert "findings not closed, by township and type:" in result.output
    assert runs_table(home)["status"].to_list()[-1] == "succeeded"
    assert_same_night(home, night2.home)


def test_failed_stage_rolls_the_night_back_and_a_rerun_matches(
    night1: Night, night2: Night, county: County, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    import linkage.pipeline

    home = _copy(night1.home, tmp_path / "home")

    def merge(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"cannot merge {PERSONAL}")

    monkeypatch.setattr(linkage.pipeline, "merge", merge)
    with pytest.raises(StageFailed) as caught:
        _nightly(county.night2, home)
    assert (caught.value.stage, caught.value.error_class) == ("findings", "RuntimeError")
    assert "王小明" not in str(caught.value)
    assert_same_night(home, night1.home)  # ingest and link had committed: all undone
    failed = runs_table(home).row(-1, named=True)
    assert (failed["status"], failed["failed_stage"], failed["restored"]) == (
        "failed",
        "findings",
        True,
    )
    assert not (home / MARKER).exists()

    with Store(home) as store:
        flow_run_id = store.scalar(
            "SELECT flow_run_id FROM runs WHERE run_id = ?", [failed["run_id"]]
        )
    APILogHandler().flush()  # logs reach the API in batches
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
    assert any("stage 'findings' failed: RuntimeError" in log.message for log in logs)
    assert not any("王小明" in log.message or "43312719900101123X" in log.message for log in logs)

    monkeypatch.undo()
    rerun = _nightly(county.night2, home)
    assert rerun["status"] == "succeeded"
    assert_same_night(home, night2.home)

    from linkage.cli import app

    history = CliRunner().invoke(app, ["--home", str(home), "history"])
    assert history.exit_code == 0, history.output
    assert re.search(r"succeeded\s+incremental", history.output)
    assert re.search(r"failed\s+incremental.*findings \(RuntimeError\)", history.output)


def _kill_during_link(home: Path, inbox: Path, api_url: str) -> dict[str, Any]:
    """A night in its own process, killed (SIGKILL) after Splink scored and before the link
    tables publish: its ingest is committed, its link is not. Returns its runs row."""
    kill_during_link = textwrap.dedent("""
        import os, signal, sys
        import linkage.link.run
        def killed(*args, **kwargs):  # after Splink scored, before the link tables publish
            os.kill(os.getpid(), signal.SIGKILL)
        linkage.link.run._stage = killed
        from flows.nightly import nightly
        nightly(inbox=sys.argv[1], home=sys.argv[2], outputs=False)
    """)
    done = subprocess.run(
        [sys.executable, "-c", kill_during_link, str(inbox), str(home)],
        env={**_environ(), "PREFECT_API_URL": api_url},
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert (home / MARKER).exists()
    killed = runs_table(home).row(-1, named=True)
    assert killed["status"] == "running"
    return killed


def test_killed_run_is_restored_by_the_next_run(
    night1: Night, night2: Night, county: County, tmp_path: Path, prefect_harness: str
) -> None:
    home = _copy(night1.home, tmp_path / "home")
    killed = _kill_during_link(home, county.night2, prefect_harness)

    rerun = _nightly(county.night2, home)
    assert rerun["recovered"] == killed["run_id"]
    assert rerun["status"] == "succeeded"
    assert runs_table(home)["status"].to_list()[-2:] == ["interrupted", "succeeded"]
    assert_same_night(home, night2.home)


def test_the_mornings_answers_after_a_killed_night_survive_the_next_night(
    night1: Night, night2: Night, county: County, tmp_path: Path, prefect_harness: str
) -> None:
    """The probe of issue 16: task lists out, a night killed half-way, the townships'
    answers imported in the morning, the next night. The import is refused until
    `renkou recover`; then it is kept by the next night."""
    from linkage.cli import app
    from linkage.runs import NightInterrupted
    from tests.tasks.fixture import fill, task_positions

    home = _copy(night1.home, tmp_path / "home")
    cli = CliRunner()
    sent = cli.invoke(app, ["--home", str(home), "tasks", "export", "--out", str(tmp_path / "out")])
    assert sent.exit_code == 0, sent.output
    workbook = sorted((tmp_path / "out").glob("*.xlsx"))[0]
    task = sorted(task_positions(workbook))[0]
    today = dt.date.today().isoformat()
    fill(workbook, {task: {"核查结果": "属实", "核查人": "王丽", "核查日期": today}})
    killed = _kill_during_link(home, county.night2, prefect_harness)

    refused = cli.invoke(app, ["--home", str(home), "tasks", "import", str(workbook)])
    assert isinstance(refused.exception, NightInterrupted), refused.output
    assert killed["run_id"] in str(refused.exception) and "recover" in str(refused.exception)
    recovered = cli.invoke(app, ["--home", str(home), "recover"])
    assert recovered.exit_code == 0, recovered.output
    assert "back as they were before it" in recovered.output
    imported = cli.invoke(app, ["--home", str(home), "tasks", "import", str(workbook)])
    assert imported.exit_code == 0, imported.output

    def answers() -> tuple[object, ...]:
        with Store(home) as store:
            return (
                store.scalar("SELECT sum(applied) FROM task_imports"),
                store.scalar("SELECT count(*) FROM task_results"),
                store.scalar("SELECT status FROM findings WHERE finding_id = ?", [task]),
            )

    morning = answers()
    assert morning[:2] == (1, 1) and morning[2] == "confirmed"
    after = _nightly(county.night2, home)
    assert (after["status"], after["recovered"]) == ("succeeded", None)
    assert answers() == morning
    assert runs_table(home)["status"].to_list()[-2:] == ["interrupted", "succeeded"]
    assert_same_night(home, night2.home, statuses=False)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_transient_io_errors_are_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow

    import flows.ingest
    import linkage.pipeline

    calls: list[str] = []

    def ingest_inbox(store: Store, inbox: Path, *, run_id: str | None = None) -> IngestReport:
        calls.append(run_id or "")
        if run_id == "r1" and len(calls) == 1:
            raise duckdb.IOException("Could not set lock on file renkou.duckdb")
        if run_id == "r2":
            raise KeyError("a bug")
        return IngestReport()

    @flow(persist_result=False)
    def ingest_once(run_id: str) -> dict[str, Any]:
        task = flows.ingest.load_inbox.with_options(retry_delay_seconds=0)
        return task(str(tmp_path / "home"), str(tmp_path), run_id)

    monkeypatch.setattr(linkage.pipeline, "ingest_inbox", ingest_inbox)
    assert ingest_once("r1")["files"] == 0
    assert calls == ["r1", "r1"]
    with pytest.raises(StageFailed, match="stage 'ingest' failed: KeyError"):
        ingest_once("r2")
    assert calls.count("r2") == 1  # a bug is not retried


def test_outputs_run_after_the_commit_and_do_not_undo_it(
    night2: Night, county: County, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.outputs import output_stages

    installed = [stage for stage, _ in output_stages()]
    if not installed:
        pytest.skip("neither linkage.tasks.export nor linkage.report.build is installed")
    home = _copy(night2.home, tmp_path / "home")
    summary = _nightly(county.night2, home, outputs=True)
    assert [t["stage"] for t in summary["timings"]][-len(installed) :] == installed
    assert summary["status"] == "succeeded"

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["renkou-night"]))
        )
    texts = [a.data for a in artifacts if summary["run_id"] in str(a.data)]
    assert texts and "Findings not closed, by township and type" in texts[0]
    with Store(home) as store:
        names = set(
            store.frame("SELECT DISTINCT name FROM person_records WHERE length(name) >= 2")[
                "name"
            ].to_list()
        )
    assert not re.search(r"\d{17}[\dX]", texts[0])
    assert not [n for n in names if n in texts[0]]

    if "report" in installed:
        import linkage.report.build

        def broken(*args: Any, **kwargs: Any) -> None:
            raise PermissionError(13, "Permission denied", "reports/latest.html")

        monkeypatch.setattr(linkage.report.build, "nightly_report", broken)
        with pytest.raises(
            StageFailed,
            match="stage 'report' failed: PermissionError: Permission denied: reports/latest.html",
        ):
            _nightly(county.night2, home, outputs=True)
        last = runs_table(home).row(-1, named=True)
        assert (last["status"], last["failed_stage"], last["restored"]) == (
            "partial",
            "report",
            False,
        )
        assert_same_night(home, night2.home, statuses="tasks" not in installed)
