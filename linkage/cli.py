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

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="renkou: link departmental exports to the county population base.")


class _State:
    home: Path = Path("var")


state = _State()


@app.callback()
def _main(
    home: Annotated[Path, typer.Option(
        "--home", envvar="RENKOU_HOME",
        help="Folder holding the DuckDB file and everything renkou writes.")] = Path("var"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    state.home = home
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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
            refresh_person_records(store, report.changed_sources or None)
    for problem in report.problems:
        typer.secho(f"problem: {problem}", fg="yellow", err=True)
    typer.echo(f"{'source':<20} {'file':<40} {'status':<15} {'in':>8} {'new':>8} "
               f"{'updated':>8} {'same':>8} {'quarant.':>8} {'issues':>8}")
    for f in report.files:
        typer.echo(f"{f.source:<20} {f.file[:40]:<40} {f.status:<15} {f.rows_in:>8} "
                   f"{f.rows_loaded:>8} {f.rows_updated:>8} {f.rows_unchanged:>8} "
                   f"{f.rows_quarantined:>8} {f.rows_with_issues:>8}")
        if f.status == "rejected":
            typer.secho(f"  rejected: {f.message}", fg="red", err=True)
    typer.echo(f"database: {state.home / 'renkou.duckdb'}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write inbox/ and truth/ into.")],
    persons: Annotated[int, typer.Option(help="Number of persons in the county.")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same county.")] = 1,
    error_model: Annotated[Path | None, typer.Option(
        help="TOML error model (default configs/error_model.toml).")] = None,
) -> None:
    """Generate a synthetic county with known truth."""
    from linkage.generate import generate_county

    summary = generate_county(persons=persons, seed=seed, out=out, error_model=error_model)
    typer.echo(summary.describe() if hasattr(summary, "describe") else str(summary))
    typer.echo(f"inbox: {out / 'inbox'}\ntruth: {out / 'truth'}")


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
