"""The ``renkou`` command line: thin commands over ``linkage.pipeline`` and the output modules.

``home``     init, contracts, generate
``night``    ingest, link, findings, run, serve, server, recover, history
``outputs``  export, evaluate, report
``tasks``    tasks …, audit …
``records``  records versions (admins)
``quarantine``  quarantine export, status, confirm-withdrawal (returns to departments)
``admin``    operators …, db encrypt
``model``    model check (offline: how far each model's m and u can be trusted)
``review``   review export, import (the analyst decides the clerical pairs)

A mistake (a wrong option, a missing folder, an empty home, bad settings) is one line with the
fix and exit code 2, never a traceback; the exit codes are listed in ``renkou --help``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from linkage.cli._common import DEFAULT_HOME, EXIT_CODES, EXIT_MISTAKE, state
from linkage.errors import RenkouError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="renkou: link departmental exports to the county population base.",
    epilog=EXIT_CODES,
)


@app.callback()
def _main(
    home: Annotated[
        Path,
        typer.Option(
            "--home",
            envvar="RENKOU_HOME",
            help="Folder holding the DuckDB file, the county's config/ and everything renkou "
            "writes.",
        ),
    ] = DEFAULT_HOME,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    state.home = home
    os.umask(0o077)  # everything renkou writes is the owner's only (docs/security.md)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# the commands register themselves on ``app`` when imported
from linkage.cli import home as _home  # noqa: E402, F401
from linkage.cli import night as _night  # noqa: E402, F401
from linkage.cli import outputs as _outputs  # noqa: E402, F401
from linkage.cli.admin import db_app, operators_app  # noqa: E402
from linkage.cli.exchange import exchange_app  # noqa: E402
from linkage.cli.model import model_app  # noqa: E402
from linkage.cli.quarantine import quarantine_app  # noqa: E402
from linkage.cli.records import records_app  # noqa: E402
from linkage.cli.review import review_app  # noqa: E402
from linkage.cli.tasks import audit_app, tasks_app  # noqa: E402

app.add_typer(tasks_app, name="tasks")
app.add_typer(audit_app, name="audit")
app.add_typer(exchange_app, name="exchange")
app.add_typer(records_app, name="records")
app.add_typer(operators_app, name="operators")
app.add_typer(db_app, name="db")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(model_app, name="model")
app.add_typer(review_app, name="review")


def main() -> None:
    """Console entry point: a mistake becomes one line with its fix and exit code 2."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        app()
    except RenkouError as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        sys.exit(EXIT_MISTAKE)
    except duckdb.IOException as err:
        if "lock" not in str(err).lower():
            raise
        typer.secho(
            f"error: the database in {state.home} is in use by another process "
            f"({type(err).__name__}). Fix: wait for the running night (renkou history) or "
            "stop the other renkou",
            fg="red",
            err=True,
        )
        sys.exit(EXIT_MISTAKE)
