"""``renkou quarantine …``: what goes back to the departments (docs/deliveries.md).

``export``   one 数据退回修正清单 workbook per source and delivery with rows to fix
             (``linkage.quarantine``); only deliveries not yet returned unless ``--all``
``status``   per department: deliveries, rows quarantined / with warnings, returned or not,
             records withdrawn, files refused
``confirm-withdrawal``  let a refused snapshot delivery withdraw what it leaves out
             (``linkage.ingest.withdraw``); the next ingest loads it

Output is counts and file names, never a name or an ID number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkage.cli._common import open_store, operator_account

quarantine_app = typer.Typer(
    no_args_is_help=True,
    help="Rows the departments must fix (数据退回修正清单), and confirming withdrawals.",
)


@quarantine_app.command("export")
def export_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the workbooks (created if missing).")
    ],
    include_returned: Annotated[
        bool, typer.Option("--all", help="Also deliveries returned before (written again).")
    ] = False,
) -> None:
    """One workbook per source and delivery holding the rows to fix: file line, record number,
    column, problem and fix in Chinese, IDs masked. Only deliveries not returned yet."""
    from linkage.quarantine import export_returns

    with open_store("quarantine.export") as store:
        report = export_returns(
            store, out, operator=operator_account(), include_returned=include_returned
        )
    if not report.files:
        typer.echo("no delivery with rows to return" + ("" if include_returned else " (new)"))
        return
    typer.echo(f"{len(report.files)} workbook(s) in {out}")
    for f in report.files:
        typer.echo(f"  {f.source:<20} {f.rows:>6} rows  {f.path.name}")


@quarantine_app.command("status")
def status_cmd() -> None:
    """Per department: deliveries, rows quarantined, rows with warnings, deliveries with rows
    to return (returned / not yet), records withdrawn, files refused."""
    from linkage.cli._common import echo_table
    from linkage.quarantine import status

    with open_store("quarantine.status") as store:
        frame = status(store)
    if frame.is_empty():
        typer.echo("no delivery loaded yet")
        return
    header = [
        ("source", 20),
        ("deliveries", -10),
        ("quarantined", -11),
        ("warnings", -9),
        ("to_return", -9),
        ("returned", -8),
        ("not_returned", -12),
        ("withdrawn", -9),
        ("refused", -7),
    ]
    rows = [
        [
            r["source"],
            r["deliveries"],
            r["rows_quarantined"],
            r["rows_with_issues"],
            r["to_return"],
            r["returned"],
            r["not_returned"],
            r["withdrawn"],
            r["refused_files"],
        ]
        for r in frame.iter_rows(named=True)
    ]
    echo_table(header, rows)


@quarantine_app.command("confirm-withdrawal")
def confirm_cmd(
    source: Annotated[str, typer.Argument(help="The source, e.g. hukou.")],
    file: Annotated[str, typer.Argument(help="The refused file's name, as the refusal said.")],
) -> None:
    """Confirm that a refused snapshot delivery is the whole register: the next ingest loads
    it and withdraws the records it leaves out. Confirms that file's content (SHA-256) only."""
    from linkage.audit import AuditLog
    from linkage.ingest.withdraw import confirm

    with open_store("quarantine.confirm") as store:
        with store.transaction():
            done = confirm(store, source, file, operator=operator_account())
        AuditLog.for_home(store.home).append(
            "quarantine.confirm_withdrawal",
            details={
                "source": done.source,
                "file": done.file,
                "sha256": done.delivery_hash,
                "records": done.records,
                "withdraw": done.withdraw,
            },
        )
    typer.echo(
        f"confirmed: {source}/{file} may withdraw {done.withdraw:,} of {done.records:,} "
        "records; the next ingest (renkou ingest / renkou run) loads it"
    )
