"""``renkou operators …`` and ``renkou db encrypt``: who may use a home, and its key.

Mounted on the main app by ``linkage.cli``. Changes to operators are audit entries.
"""

from __future__ import annotations

from typing import Annotated

import typer

from linkage.cli._common import authorise, state

operators_app = typer.Typer(
    no_args_is_help=True,
    help="Real-name operators: OS accounts, their names, roles and townships.",
)
db_app = typer.Typer(no_args_is_help=True, help="The database file: encryption at rest.")


@operators_app.command("add")
def add_cmd(
    account: Annotated[str, typer.Option(help="The OS account (login name) of the person.")],
    name: Annotated[str, typer.Option(help="The person's real name (实名).")],
    role: Annotated[str, typer.Option(help="admin, analyst, township or service.")],
    township: Annotated[
        str | None, typer.Option(help="The township of a township operator.")
    ] = None,
) -> None:
    """Register an OS account (or change its entry). Admins only."""
    from linkage import operators

    authorise("operators.change")
    entry = operators.add(state.home, account=account, name=name, role=role, township=township)
    typer.echo(f"registered: {entry.describe()}")


@operators_app.command("remove")
def remove_cmd(
    account: Annotated[str, typer.Option(help="The OS account to remove.")],
) -> None:
    """Remove an OS account from the registry (the last admin stays). Admins only."""
    from linkage import operators

    authorise("operators.change")
    operators.remove(state.home, account)
    typer.echo(f"removed: {account}")


@operators_app.command("list")
def list_cmd() -> None:
    """The registered operators."""
    from linkage import operators

    authorise("operators.list")
    for entry in (operators.load(state.home) or {}).values():
        typer.echo(f"{entry.describe()}  added {entry.added_at[:10]} by {entry.added_by}")


@db_app.command("encrypt")
def encrypt_cmd() -> None:
    """Encrypt the home's database with the office's key (RENKOU_DB_KEY_FILE …); the plain
    file and its plain snapshots are removed. Admins only; not while a night runs."""
    from linkage.runs import office_guard
    from linkage.store import encrypt_database

    authorise("db.encrypt")
    with office_guard(state.home):  # not during a night, nor before a dead one is recovered
        removed = encrypt_database(state.home)
    typer.echo(f"encrypted: {state.home / 'renkou.duckdb'} ({removed} plain copies removed)")
