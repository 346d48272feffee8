"""What every command shares: the home, how a store is opened, exit codes.

A command that only reads a home never creates one: it says which home it looked at and
what to run first. Output is counts and file paths, never a name or an ID number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from linkage.errors import RenkouError

if TYPE_CHECKING:
    from linkage.operators import Operator
    from linkage.store import Store

#: exit codes (documented in ``renkou --help``)
EXIT_OK = 0
#: the night failed (the database was restored), or renkou itself failed
EXIT_FAILED = 1
#: a mistake in the command, its options, the settings or an input: the message says the fix
EXIT_MISTAKE = 2
#: a delivered file was refused whole; the good files were loaded. Not a failed night.
EXIT_REJECTED = 3
#: ``renkou model check --strict`` flagged a level of a model (without --strict: 0, warned)
EXIT_FLAGGED = 4

EXIT_CODES = (
    f"Exit codes: {EXIT_OK} done; {EXIT_FAILED} the night failed (the database was restored) "
    f"or renkou failed; {EXIT_MISTAKE} a mistake in the command or its input (the message says "
    f"the fix); {EXIT_REJECTED} a delivered file was refused whole (the good ones were loaded; "
    f"see the ingest table and the load ledger); {EXIT_FLAGGED} `model check --strict` flagged "
    "a level of a model."
)

#: the default home when neither --home nor RENKOU_HOME is given
DEFAULT_HOME = Path("var")


class State:
    """The options of the main command, for the subcommands, and who runs the command."""

    home: Path = DEFAULT_HOME
    operator: Operator | None = None


state = State()


def home() -> Path:
    return state.home


def database(home_dir: Path) -> Path:
    from linkage.store import DB_FILE

    return home_dir / DB_FILE


def authorise(action: str) -> Operator:
    """The registered operator running ``action`` (:func:`linkage.operators.authorise`); a
    refusal is audited and ends the command with its fix."""
    from linkage.operators import authorise as check

    state.operator = check(state.home, action)
    return state.operator


def operator_account() -> str:
    """The OS account of the authorised operator (what audit entries and tables record)."""
    from linkage.operators import current_account

    return state.operator.account if state.operator else current_account()


@contextmanager
def open_store(action: str, *, create: bool = False) -> Iterator[Store]:
    """The home's store, for a registered operator whose role allows ``action`` (see
    ``linkage.operators.PERMISSIONS``). Unless ``create``, a home without a database is a
    mistake that says what to run first (and nothing is created)."""
    from linkage.store import Store

    if not create and not database(state.home).is_file():
        raise RenkouError(
            f"no renkou database in {state.home}. Fix: run a night first "
            f"(renkou --home {state.home} run --inbox DIR), or pass the right --home "
            "(or RENKOU_HOME)"
        )
    if create:
        from linkage.store import private_home

        private_home(state.home)
    authorise(action)
    from linkage.runs import office_guard

    # crash safety (linkage.runs): no command works on the home while a night does, nor
    # after one died half-written until `renkou recover`
    with office_guard(state.home):
        with Store(state.home) as store:
            yield store


def require(store: Store, table: str, fix: str) -> None:
    """A mistake unless ``table`` exists: ``fix`` says which command makes it."""
    if not store.has_table(table):
        raise RenkouError(f"{store.home} has no {table} yet. Fix: {fix}")


def echo_table(header: list[tuple[str, int]], rows: list[list[object]]) -> None:
    """A plain text table: (title, width) per column; a negative width aligns right."""

    def line(cells: list[object]) -> str:
        return " ".join(
            f"{str(c):>{-w}}" if w < 0 else f"{str(c)[:w]:<{w}}"
            for c, (_, w) in zip(cells, header, strict=True)
        )

    typer.echo(line([t for t, _ in header]))
    for row in rows:
        typer.echo(line(row))
