"""``renkou model check``: how far each saved model's m and u can be trusted (offline).

Mounted on the main app by ``linkage.cli``. Not part of the night: it trains every model of
the last run again several times (``linkage.link.check``), minutes on a county. It prints the
flagged levels of each model with their fix and writes ``HOME/model_checks/<source>.json``,
which the next report shows.

Exit code: 0 when it ran, flagged levels or not (they are warnings for the analyst to weigh,
printed in yellow, and the report shows them); with ``--strict``, 4 when a level is flagged
(for a script that must stop on them). A mistake (no model yet, an unknown source) is 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from linkage.cli._common import EXIT_FLAGGED, echo_table, open_store

model_app = typer.Typer(
    no_args_is_help=True,
    help="The saved models: how far their m and u can be trusted (offline, not nightly).",
)


@model_app.command("check")
def check_cmd(
    source: Annotated[
        list[str] | None,
        typer.Option(help="Check only this model (repeat for more), e.g. death, population."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help=f"Exit {EXIT_FLAGGED} when a level is flagged.")
    ] = False,
) -> None:
    """Train each model of the last run again with other seeds and on resamples of its
    records: per comparison level m, u and weight with their interval, the pairs behind
    them, their stability across seeds. Flags what needs an explicit prior or a retrain
    (docs/model.md); the results show in the report's model section."""
    from linkage.audit import AuditLog, file_sha256
    from linkage.link.check import FLAGS, check_models, check_path

    with open_store("model.check") as store:
        results = check_models(store, tuple(source or ()))
        files = {s: check_path(store.home, s) for s in results}
        AuditLog.for_home(store.home).append(
            "model.check",
            details={
                "models": {s: r["model_version"] for s, r in results.items()},
                "flagged": {s: r["flagged"] for s, r in results.items()},
                "files": {p.name: file_sha256(p) for p in files.values()},
            },
        )
    flagged = 0
    for name, result in results.items():
        levels = [lv for lv in result["levels"] if lv["flags"]]
        flagged += len(levels)
        typer.echo(
            f"{name} {result['model_version']}: {len(result['levels'])} levels, "
            f"{len(levels)} flagged ({len(result['runs'])} trainings, {result['seconds']} s)"
        )
        if levels:
            echo_table(
                [("comparison", 12), ("level", 20), ("weight (bits)", 22), ("flags", 40)],
                [
                    [
                        lv["comparison"],
                        lv["level"],
                        _weight(lv["weight"]),
                        ", ".join(FLAGS[f] for f in lv["flags"]),
                    ]
                    for lv in levels
                ],
            )
            for lv in levels:
                typer.secho(f"  {lv['comparison']}/{lv['level']}: {lv['fix']}", fg="yellow")
        typer.echo(f"  written: {files[name]}")
    if flagged:
        typer.secho(
            f"{flagged} levels flagged: see the fixes above and docs/model.md "
            "(renkou report shows them in the model section)",
            fg="yellow",
            err=True,
        )
        if strict:
            raise typer.Exit(EXIT_FLAGGED)


def _weight(w: dict[str, object]) -> str:
    saved, bounds = w["saved"], w["interval"]
    if not isinstance(saved, float):
        return "—"
    if isinstance(bounds, list | tuple):
        return f"{saved:+.1f} [{bounds[0]:+.1f}, {bounds[1]:+.1f}]"
    return f"{saved:+.1f}"
