"""``renkou records …``: an admin's view of one source record's history.

Mounted on the main app by ``linkage.cli``. ``renkou records versions SOURCE RECORD_ID``
prints every kept version of a record (``linkage.ingest.history``): when it held, which
delivery brought it, and what each correction changed. Unlike every other command it prints
personal data (the changed values): to the admin's terminal only (action
``records.versions``, admins only), never to a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from linkage.cli._common import open_store
from linkage.cli.tasks import _pad
from linkage.errors import RenkouError

if TYPE_CHECKING:
    from linkage.ingest.history import Version

records_app = typer.Typer(
    no_args_is_help=True, help="One source record's history (admins): its versions."
)

#: (title, display width) of the columns before "changed"
_COLUMNS = (("version", 7), ("valid_from", 19), ("valid_to", 19), ("load", 6), ("file", 28))


@records_app.command("versions")
def versions_cmd(
    source: Annotated[str, typer.Argument(help="The source, e.g. death, population.")],
    record_id: Annotated[
        str,
        typer.Argument(help="The record's id in that source (记录编号, 人员编号 for the base)."),
    ],
) -> None:
    """Every version of a source record, oldest first: valid from/to, the delivery (load id,
    file) and the fields each version changed. Prints personal data: admins only."""
    from linkage.ingest.history import versions

    with open_store("records.versions") as store:  # admins only
        found = versions(store, source, record_id)
    if not found:
        raise RenkouError(
            f"source {source} has no record with that id. Fix: the id as delivered "
            "(记录编号; 人员编号 for population)"
        )
    typer.echo(" ".join(_pad(t, w) for t, w in _COLUMNS) + " changed")
    for n, v in enumerate(found, start=1):
        cells = [n, _when(v.valid_from), "(current)" if v.current else _when(v.valid_to)]
        cells += [v.load_id, v.file or ""]
        changes = _describe(v, first=n == 1)
        typer.echo(
            " ".join(
                _pad(c, w, right=isinstance(c, int))
                for c, (_, w) in zip(cells, _COLUMNS, strict=True)
            )
            + " "
            + changes[0]
        )
        indent = " " * (sum(w for _, w in _COLUMNS) + len(_COLUMNS))
        for more in changes[1:]:
            typer.echo(indent + more)


def _when(value: Any) -> str:
    return str(value)[:19] if value is not None else "?"


def _describe(version: Version, *, first: bool) -> list[str]:
    """One line per changed field: ``field: before → after``; a withdrawn version says so."""
    end = ["(withdrawn by its department: 撤回)"] if version.withdrawn else []
    if first:
        return ["(first version kept)", *end]
    if not version.changed:
        return ["(no field changed)", *end]
    return [f"{k}: {_show(a)} → {_show(b)}" for k, (a, b) in version.changed.items()] + end


def _show(value: Any) -> str:
    return "∅" if value is None else str(value)
