"""``renkou init``, ``renkou contracts`` and ``renkou generate``: a home, its sources, a county
to try it on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkage.cli import app
from linkage.cli._common import state
from linkage.errors import RenkouError


@app.command()
def init(
    home: Annotated[Path, typer.Argument(help="The county's home folder (created if new).")],
    county: Annotated[str, typer.Option(help="6-digit county code, e.g. 433127.")],
    name: Annotated[str, typer.Option(help="County name as the province writes it.")],
) -> None:
    """Set up a county's home: HOME/config/ with its code and name, and every other setting
    commented out at its default (uncomment a key to change it)."""
    from linkage.operators import bootstrap
    from linkage.settings import init_home
    from linkage.store import private_home

    private_home(home)
    written = init_home(home, county_code=county, county_name=name)
    first = bootstrap(home)
    typer.echo(f"settings: {home / 'config'} ({len(written)} files)")
    if first is not None:
        typer.echo(
            f"first admin: {first.account} (register the others: renkou --home {home} "
            "operators add --account … --name … --role …)"
        )
    typer.echo(f"next: renkou --home {home} run --inbox DIR")


@app.command()
def contracts(
    source: Annotated[str | None, typer.Argument(help="One source; default all.")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown tables.")] = False,
) -> None:
    """Print the column reference of every data contract (Chinese and English)."""
    from linkage.contract_docs import render

    typer.echo(render(source, markdown=markdown))


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write inbox/ and truth/ into.")],
    persons: Annotated[int, typer.Option(min=10, help="Number of persons in the county.")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same county.")] = 1,
    error_model: Annotated[
        Path | None,
        typer.Option(help="TOML over the error model of the settings (error_model.toml)."),
    ] = None,
    layouts: Annotated[
        str,
        typer.Option(
            help="clean, or messy: the layouts offices export by hand (title rows, "
            "header variants, UTF-16, merged headers; docs/deliveries.md)."
        ),
    ] = "clean",
) -> None:
    """Generate a synthetic county with known truth (for trying renkou; package synth)."""
    from synth import generate_county

    if error_model is not None and not error_model.is_file():
        raise RenkouError(f"{error_model} is not a file. Fix: pass --error-model FILE.toml")
    summary = generate_county(
        persons=persons,
        seed=seed,
        out=out,
        error_model=error_model,
        home=state.home,
        layouts=layouts,
    )
    typer.echo(summary.describe())
    typer.echo(f"inbox: {out / 'inbox'}\ntruth: {out / 'truth'}")
