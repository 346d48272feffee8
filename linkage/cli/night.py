"""The night's commands: ``ingest``, ``link``, ``findings`` one stage at a time, ``run`` the
whole night now, ``serve``/``server`` on a schedule, ``history`` of past nights, ``recover``
after a night that died (``linkage.runs``)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from linkage.cli import app
from linkage.cli._common import (
    EXIT_FAILED,
    EXIT_REJECTED,
    authorise,
    echo_table,
    open_store,
    require,
    state,
)
from linkage.errors import RenkouError
from linkage.ingest.load import check_inbox
from linkage.tables import LINKS, PERSON_TABLE

Inbox = Annotated[
    Path,
    typer.Option(help="Inbox folder: one sub-folder per source (population/, death/, …)."),
]


@app.command()
def ingest(inbox: Inbox) -> None:
    """Read, validate, standardise and load every file in the inbox.

    Exits with 3 when a file was refused whole (the good ones are loaded)."""
    from linkage import pipeline

    check_inbox(inbox)  # before the store: a typo must not create an empty home
    with open_store("ingest", create=True) as store:
        done = pipeline.ingest(store, inbox)
    report = done.report
    for problem in report.problems:
        typer.secho(f"problem: {problem}", fg="yellow", err=True)
    echo_table(
        [
            ("source", 20),
            ("file", 40),
            ("status", 15),
            ("in", -8),
            ("new", -8),
            ("updated", -8),
            ("same", -8),
            ("quarant.", -8),
            ("issues", -8),
            ("withdrawn", -9),
        ],
        [
            [
                f.source,
                f.file,
                f.status,
                f.rows_in,
                f.rows_loaded,
                f.rows_updated,
                f.rows_unchanged,
                f.rows_quarantined,
                f.rows_with_issues,
                f.rows_withdrawn,
            ]
            for f in report.files
        ],
    )
    for f in report.files:
        if f.status == "rejected":
            typer.secho(f"rejected: {f.source}/{f.file}: {f.message}", fg="red", err=True)
    typer.echo(f"database: {state.home / 'renkou.duckdb'}")
    if done.rejected_files:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def link(
    retrain: Annotated[bool, typer.Option("--retrain", help="Train new model versions.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Rescore every record.")] = False,
) -> None:
    """Link every ingested source to the base (and dedupe the base) with Splink."""
    from linkage import pipeline

    with open_store("link") as store:
        require(store, PERSON_TABLE, "load the deliveries first: renkou ingest --inbox DIR")
        report = pipeline.link(store, full=full, retrain=retrain)
    typer.echo(
        f"mode: {report.mode}; records scored: "
        + ", ".join(f"{k} {v}" for k, v in report.scored.items())
    )
    echo_table(
        [("source/role", 30), ("linked", -8), ("clerical", -9), ("none", -8)],
        [
            [key, c.get("link", 0), c.get("clerical", 0), c.get("none", 0)]
            for key, c in sorted(report.decisions.items())
        ],
    )
    typer.echo(
        "models: "
        + ", ".join(f"{k} {v}" for k, v in report.models.items())
        + (f" (trained now: {', '.join(report.trained)})" if report.trained else "")
    )
    typer.echo("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    for note in report.notes:  # what was skipped or degraded, the rest linked
        typer.secho(f"note: {note}", fg="yellow")


@app.command()
def findings() -> None:
    """Derive findings from the current links and merge them into the case list."""
    from linkage import pipeline

    with open_store("findings") as store:
        require(store, LINKS, "link first: renkou link")
        merged = pipeline.findings(store, dt.datetime.now().strftime("manual-%Y%m%dT%H%M%S"))
        counts = store.frame(
            "SELECT finding_type, status, count(*) AS n FROM findings GROUP BY ALL ORDER BY ALL"
        )
    echo_table([("finding_type", 22), ("status", 16), ("n", -8)], [list(r) for r in counts.rows()])
    for note in merged.notes:
        typer.secho(f"note: {note}", fg="yellow", err=True)
    typer.echo("merge: " + ", ".join(f"{k} {v}" for k, v in merged.outcome.items()))


def _prefect_env(home: Path) -> None:
    """Prefect's state under HOME; must run before prefect is first imported."""
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # prefect won't
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the ephemeral server migrates a fresh database on first use: slow on a busy machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _night(home: Path, inbox: Path, **options: bool) -> Exception | None:
    """The nightly flow on a Prefect API (a temporary server unless one is configured); the
    error of a night that failed (it is recorded in the runs table, if the run began)."""
    _prefect_env(home)
    from flows.temporary_server import prefect_api
    from linkage.runs import RunInProgress, WorkAfterSnapshot

    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    with prefect_api(Path(os.environ["PREFECT_HOME"]), timeout) as ready:
        from flows.nightly import nightly  # imports prefect: after the API is set

        ready()
        try:
            nightly(inbox=str(inbox.resolve()), home=str(home), **options)
        except (RunInProgress, WorkAfterSnapshot):
            raise
        except Exception as err:
            return err
    return None


def _rejected_files(summary: dict[str, Any]) -> int:
    return int(summary.get("stages", {}).get("ingest", {}).get("files_rejected") or 0)


@app.command()
def run(
    inbox: Inbox,
    full: Annotated[
        bool, typer.Option("--full", help="Re-standardise and rescore every record.")
    ] = False,
    retrain: Annotated[bool, typer.Option("--retrain", help="Train new model versions.")] = False,
    outputs: Annotated[bool, typer.Option(help="Write task lists and the report.")] = True,
) -> None:
    """Run the nightly flow once, now, without a Prefect server to start (a temporary one
    runs for the night, as in Prefect's ephemeral mode; a configured PREFECT_API_URL wins).

    Exits with 1 when the night failed (the database is as it was before), with 3 when a
    delivered file was refused whole (the night ran on the good ones), with 2 when another
    night works on the home (the message names it)."""
    home = state.home.resolve()
    check_inbox(inbox)
    from linkage import runs
    from linkage.run_summary import describe

    # the home's lock for the whole command: a second run is refused here, before a Prefect
    # server starts; the night (in this process) uses this lock, and the store opened here
    # is not refused for a night that died (the night puts it back first)
    with runs.holding(home, night=True):
        with open_store("run", create=True) as store:
            before = runs.run_summary(store)
        runs.check_recoverable(home)  # a dead night whose restore would lose work: say so now
        failed = _night(home, inbox, full=full, retrain=retrain, outputs=outputs)
        with open_store("run") as store:
            summary = runs.run_summary(store)
    new = summary is not None and (before is None or summary["run_id"] != before["run_id"])
    if summary is not None and new:
        typer.echo(describe(summary))
    if failed is not None:
        typer.secho(f"error: {failed}", fg="red", err=True)
        raise typer.Exit(EXIT_FAILED)
    if summary is not None and new and _rejected_files(summary):
        typer.secho(
            f"{_rejected_files(summary)} delivered file(s) refused whole; the night ran on "
            "the rest (see the files table above)",
            fg="yellow",
            err=True,
        )
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def serve(
    inbox: Annotated[Path, typer.Option(help="Inbox folder the departments deliver into.")],
    api_url: Annotated[
        str, typer.Option(envvar="PREFECT_API_URL", help="The Prefect server (`renkou server`).")
    ] = "http://127.0.0.1:4200/api",
    cron: Annotated[
        str | None, typer.Option(help="Cron schedule; default: [schedule] of the settings.")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of the schedule.")] = None,
) -> None:
    """Serve the nightly flow on its schedule until stopped (Ctrl-C, systemctl stop)."""
    from linkage.settings import load_settings

    home = state.home.resolve()
    authorise("serve")
    s = load_settings(home)
    check_inbox(inbox)
    os.environ["PREFECT_API_URL"] = api_url
    _prefect_env(home)
    from flows.nightly import serve as serve_nightly

    typer.echo(
        f"serving renkou-nightly/nightly at {cron or s.cron} ({timezone or s.timezone}) "
        f"on {api_url}; runs in the Prefect UI and in `renkou history`"
    )
    serve_nightly(
        str(inbox.resolve()), str(home), cron=cron or s.cron, timezone=timezone or s.timezone
    )


@app.command()
def server(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 4200,
) -> None:
    """Start a Prefect server (API, UI, scheduler) on 127.0.0.1, state in HOME/prefect-server."""
    prefect_home = state.home.resolve() / "prefect-server"
    prefect_home.mkdir(parents=True, exist_ok=True)  # prefect does not create parents
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    typer.echo(f"Prefect UI: http://127.0.0.1:{port}  (API http://127.0.0.1:{port}/api)")
    os.execve(
        sys.executable,
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env,
    )


@app.command()
def recover(
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Keep the database as it is (the dead night's data may be half-written) "
            "instead of putting back the copy from before the night; then run `renkou run "
            "--full`. For when work was recorded after the night died.",
        ),
    ] = False,
) -> None:
    """Put the database back as it was before a night that died (killed, power cut, out of
    memory), so that the office's commands work again; nothing done since is lost.

    Refuses, changing nothing, when work was recorded after the night began (the message
    says what to do). Also records nights that died with nothing half-written as interrupted.
    `renkou run` does the same before its night."""
    from linkage import runs
    from linkage.cli._common import database

    home = state.home
    if not database(home).is_file():
        raise RenkouError(
            f"no renkou database in {home}: nothing to recover. Fix: pass the right --home "
            "(or RENKOU_HOME)"
        )
    with runs.holding(home):  # a night that works is not dead: refused with its run
        authorise("recover")
        done = runs.recover(home, keep=keep)
    typer.echo(done.describe())


@app.command()
def history(
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 10,
    run_id: Annotated[str | None, typer.Option("--run", help="Show one run in full.")] = None,
) -> None:
    """The nightly runs: outcome, counts, failing stage; or one run's summary and stages."""
    from linkage import runs
    from linkage.run_summary import describe

    # read even while a night works (its run shows as running); when the home is free, a
    # night that died with nothing half-written is recorded as interrupted first
    with runs.watching(state.home) as seen, open_store("history") as store:
        if seen.marker is not None:
            typer.secho(
                f"warning: {runs.interrupted_message(state.home, seen.marker)}",
                fg="yellow",
                err=True,
            )
        if run_id is not None:
            summary = runs.run_summary(store, run_id)
            if summary is None:
                raise RenkouError(f"no run {run_id}. Fix: pick one from `renkou history`")
            typer.echo(describe(summary))
            return
        frame = runs.history(store, limit)
    if frame.is_empty():
        typer.echo("no runs recorded yet (renkou run --inbox DIR)")
        return
    rows = []
    for r in frame.iter_rows(named=True):
        n = {
            k: "-" if v is None else f"{v:,.0f}"
            for k, v in r.items()
            if isinstance(v, int | float) or v is None
        }
        failed = r["error_class"] or ""  # Interrupted: the process ended, in no one stage
        if r["failed_stage"]:
            failed = f"{r['failed_stage']} ({failed})"
        rows.append(
            [
                r["run_id"],
                str(r["started_at"])[:19],
                n["seconds"],
                r["status"],
                r["mode"] or "-",
                n["files"],
                n["files_rejected"],
                n["rows_loaded"],
                n["rows_quarantined"],
                n["records_scored"],
                n["links"],
                n["findings_new"],
                n["findings_open"],
                failed,
            ]
        )
    echo_table(
        [
            ("run", 21),
            ("started", 19),
            ("secs", -6),
            ("status", 11),
            ("mode", 11),
            ("files", -5),
            ("rej", -3),
            ("rows new", -9),
            ("quar.", -6),
            ("scored", -8),
            ("links", -8),
            ("find.new", -8),
            ("open", -6),
            ("failed stage", 30),
        ],
        rows,
    )
