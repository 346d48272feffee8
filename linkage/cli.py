"""The ``renkou`` command line. Thin: parses options, opens the store, calls the domain.

Output is counts and file paths, never a name or an ID number.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from linkage.errors import RenkouError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="renkou: link departmental exports to the county population base.",
)


class _State:
    home: Path = Path("var")


state = _State()


@app.callback()
def _main(
    home: Annotated[
        Path,
        typer.Option(
            "--home",
            envvar="RENKOU_HOME",
            help="Folder holding the DuckDB file and everything renkou writes.",
        ),
    ] = Path("var"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    state.home = home
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _store():  # noqa: ANN202 - imported lazily so `renkou --help` stays fast
    from linkage.store import Store

    return Store(state.home)


@app.command()
def contracts(
    source: Annotated[str | None, typer.Argument(help="One source; default all.")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown tables.")] = False,
) -> None:
    """Print the column reference of every data contract (Chinese and English)."""
    from linkage.contract_docs import render

    typer.echo(render(source, markdown=markdown))


@app.command()
def ingest(
    inbox: Annotated[Path, typer.Option(help="Inbox folder: one sub-folder per source.")],
) -> None:
    """Read, validate, standardise and load every file in the inbox."""
    from linkage.ingest.load import ingest_inbox
    from linkage.persons import refresh_person_records

    with _store() as store:
        report = ingest_inbox(store, inbox)
        with store.transaction():
            refresh_person_records(store, report.changed_sources)
    for problem in report.problems:
        typer.secho(f"problem: {problem}", fg="yellow", err=True)
    typer.echo(
        f"{'source':<20} {'file':<40} {'status':<15} {'in':>8} {'new':>8} "
        f"{'updated':>8} {'same':>8} {'quarant.':>8} {'issues':>8}"
    )
    for f in report.files:
        typer.echo(
            f"{f.source:<20} {f.file[:40]:<40} {f.status:<15} {f.rows_in:>8} "
            f"{f.rows_loaded:>8} {f.rows_updated:>8} {f.rows_unchanged:>8} "
            f"{f.rows_quarantined:>8} {f.rows_with_issues:>8}"
        )
        if f.status == "rejected":
            typer.secho(f"  rejected: {f.message}", fg="red", err=True)
    typer.echo(f"database: {state.home / 'renkou.duckdb'}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write inbox/ and truth/ into.")],
    persons: Annotated[int, typer.Option(help="Number of persons in the county.")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same county.")] = 1,
    error_model: Annotated[
        Path | None, typer.Option(help="TOML error model (default configs/error_model.toml).")
    ] = None,
) -> None:
    """Generate a synthetic county with known truth."""
    from synth import generate_county

    summary = generate_county(persons=persons, seed=seed, out=out, error_model=error_model)
    typer.echo(summary.describe() if hasattr(summary, "describe") else str(summary))
    typer.echo(f"inbox: {out / 'inbox'}\ntruth: {out / 'truth'}")


@app.command()
def link(
    retrain: Annotated[bool, typer.Option("--retrain", help="Train new model versions.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Rescore every record.")] = False,
) -> None:
    """Link every ingested source to the base (and dedupe the base) with Splink."""
    from linkage.link import link_all

    with _store() as store:  # link_all publishes its tables in its own transaction
        report = link_all(store, retrain=retrain, full=full)
    typer.echo(
        f"mode: {report.mode}; records scored: "
        + ", ".join(f"{k} {v}" for k, v in report.scored.items())
    )
    typer.echo(f"{'source/role':<30} {'linked':>8} {'clerical':>9} {'none':>8}")
    for key, counts in sorted(report.decisions.items()):
        typer.echo(
            f"{key:<30} {counts.get('link', 0):>8} {counts.get('clerical', 0):>9} "
            f"{counts.get('none', 0):>8}"
        )
    typer.echo(
        "models: "
        + ", ".join(f"{k} {v}" for k, v in report.models.items())
        + (f" (trained now: {', '.join(report.trained)})" if report.trained else "")
    )
    typer.echo("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))


@app.command()
def findings() -> None:
    """Derive findings from the current links and merge them into the case list."""
    from linkage.casework import merge
    from linkage.findings import derive_findings

    with _store() as store, store.transaction():
        candidates = derive_findings(store, "links", "dedupe_pairs")
        outcome = merge(store, candidates, run_id=_run_id())
        counts = store.frame(
            "SELECT finding_type, status, count(*) AS n FROM findings GROUP BY ALL ORDER BY ALL"
        )
    for row in counts.iter_rows(named=True):
        typer.echo(f"{row['finding_type']:<22} {row['status']:<16} {row['n']:>8}")
    typer.echo("merge: " + ", ".join(f"{k} {v}" for k, v in outcome.items()))


def _run_id() -> str:
    import datetime as dt

    return dt.datetime.now().strftime("manual-%Y%m%dT%H%M%S")


export_app = typer.Typer(help="Write the machine-readable exports of docs/interfaces.md.")
app.add_typer(export_app, name="export")


@export_app.command("links")
def export_links(out: Annotated[Path, typer.Option(help="CSV file to write.")]) -> None:
    """Accepted person links, one row per source record and role."""
    from linkage.exports import write_links

    with _store() as store:
        n = write_links(store, out)
    typer.echo(f"{n} rows → {out}")


@export_app.command("findings")
def export_findings(out: Annotated[Path, typer.Option(help="CSV file to write.")]) -> None:
    """Every open finding."""
    from linkage.exports import write_findings

    with _store() as store:
        n = write_findings(store, out)
    typer.echo(f"{n} rows → {out}")


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="truth/ folder of a generated county.")],
    out: Annotated[
        Path | None, typer.Option(help="JSON file (default HOME/evaluation.json).")
    ] = None,
) -> None:
    """Precision, recall and F1 of links and findings, beside the exact-ID baseline."""
    from linkage.evaluate import evaluate as run_evaluation
    from linkage.evaluate import write_json

    with _store() as store:
        result = run_evaluation(store, truth)
    typer.echo(result.table())
    target = out or state.home / "evaluation.json"
    write_json(result, target)
    typer.echo(f"written: {target}")


# --- township tasks and the audit log (issue 7; commands in linkage/tasks/commands.py) ---
from linkage.tasks.commands import audit_app, tasks_app  # noqa: E402

app.add_typer(tasks_app, name="tasks")
app.add_typer(audit_app, name="audit")


# --- the nightly flow: run, serve, server, history (issue 6; flows in flows/) ---
def _prefect_env(home: Path) -> None:
    """Prefect's state under HOME; must run before prefect is first imported."""
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # prefect won't
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the ephemeral server migrates a fresh database on first use: slow on a busy machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="Inbox folder: one sub-folder per source.")],
    full: Annotated[
        bool, typer.Option("--full", help="Re-standardise and rescore every record.")
    ] = False,
    retrain: Annotated[bool, typer.Option("--retrain", help="Train new model versions.")] = False,
    outputs: Annotated[bool, typer.Option(help="Write task lists and the report.")] = True,
) -> None:
    """Run the nightly flow once, now, without a Prefect server to start (a temporary one
    runs for the night, as in Prefect's ephemeral mode; a configured PREFECT_API_URL wins)."""
    home = state.home.resolve()
    if not inbox.is_dir():
        raise RenkouError(f"inbox {inbox} is not a folder. Fix: pass --inbox DIR")
    _prefect_env(home)
    from flows.temporary_server import prefect_api
    from linkage.run_summary import describe
    from linkage.runs import RunInProgress, run_summary

    failed: Exception | None = None
    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    with prefect_api(Path(os.environ["PREFECT_HOME"]), timeout) as ready:
        from flows.nightly import nightly  # imports prefect: after the API is set

        with _store() as store:
            before = run_summary(store)
        ready()
        try:
            nightly(
                inbox=str(inbox.resolve()),
                home=str(home),
                full=full,
                retrain=retrain,
                outputs=outputs,
            )
        except RunInProgress:
            raise
        except Exception as err:  # recorded in the runs table (if the run began); below
            failed = err
    with _store() as store:
        summary = run_summary(store)
    if summary is not None and (before is None or summary["run_id"] != before["run_id"]):
        typer.echo(describe(summary))
    if failed is not None:
        typer.secho(f"error: {failed}", fg="red", err=True)
        raise typer.Exit(1)


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
    os.environ["PREFECT_API_URL"] = api_url
    _prefect_env(home)
    from flows.nightly import serve as serve_nightly

    s = load_settings(home)
    typer.echo(
        f"serving renkou-nightly/nightly at {cron or s.cron} ({timezone or s.timezone}) "
        f"on {api_url}; runs in the Prefect UI and in `renkou history`"
    )
    serve_nightly(
        str(inbox.resolve()), str(home), cron=cron or s.cron, timezone=timezone or s.timezone
    )


@app.command()
def server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4200,
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
def history(
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 10,
    run_id: Annotated[str | None, typer.Option("--run", help="Show one run in full.")] = None,
) -> None:
    """The nightly runs: outcome, counts, failing stage; or one run's summary and stages."""
    from linkage import runs
    from linkage.run_summary import describe

    with _store() as store:
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
    typer.echo(
        f"{'run':<21} {'started':<19} {'secs':>6} {'status':<11} {'mode':<11} "
        f"{'files':>5} {'rej':>3} {'rows new':>9} {'quar.':>6} {'scored':>8} "
        f"{'links':>8} {'find.new':>8} {'open':>6}  failed stage"
    )
    for r in frame.iter_rows(named=True):
        n = {
            k: "-" if v is None else f"{v:,.0f}"
            for k, v in r.items()
            if isinstance(v, int | float) or v is None
        }
        failed = f"{r['failed_stage']} ({r['error_class']})" if r["error_class"] else ""
        typer.echo(
            f"{r['run_id']:<21} {str(r['started_at'])[:19]:<19} {n['seconds']:>6} "
            f"{r['status']:<11} {r['mode'] or '-':<11} {n['files']:>5} "
            f"{n['files_rejected']:>3} {n['rows_loaded']:>9} {n['rows_quarantined']:>6} "
            f"{n['records_scored']:>8} {n['links']:>8} {n['findings_new']:>8} "
            f"{n['findings_open']:>6}  {failed}"
        )


# --- the county report (issue 8; linkage/report) ---
@app.command()
def report(
    out: Annotated[
        Path | None,
        typer.Option(
            help="HTML file to write. Default: HOME/reports/report-<run>.html and latest.html."
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id", help="Run the report is about (default: the newest run or ingest)."
        ),
    ] = None,
    model_charts: Annotated[
        bool,
        typer.Option(
            "--model-charts/--no-model-charts", help="Splink charts and comparison viewers."
        ),
    ] = True,
) -> None:
    """Write the HTML report: tonight's run, the model, data quality, field work (offline)."""
    from linkage.report import build_report, nightly_report

    with _store() as store:
        path = (
            build_report(store, out, run_id=run_id, model_charts=model_charts)
            if out
            else nightly_report(store, run_id, model_charts=model_charts)
        )
    typer.echo(f"report: {path}")


def main() -> None:
    """Console entry point: domain errors become one clear line and exit code 2."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        app()
    except RenkouError as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
