"""``generate_county``: a synthetic county with known truth, written as an inbox and a truth.

Stages, each with its own random stream (so a change in one does not reshuffle the others):
places and households → people → the period's events → ID numbers and the hukou register →
the stale population base → departmental records → noise → files.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from linkage.errors import ConfigError

from .base import build_base
from .config import CountyConfig, ErrorModel
from .corrupt import corrupt
from .events import simulate
from .geography import build_geography
from .households import build_households
from .identity import surname_weights
from .messy import write_messy_inbox
from .noise import ErrorLog
from .population import build_people, destination_pool
from .records import (
    birth_certificates,
    death_records,
    marriage_records,
    maternity_claims,
    school_rolls,
    vaccination_records,
)
from .registers import assign_ids, hukou_register, truth_frame
from .styles import HUKOU_XLSX_MAX_ROWS
from .truth import (
    base_map,
    canonical,
    errors_table,
    findings_table,
    links_table,
    persons_table,
)
from .writers import render, write_inbox, write_truth

LAYOUTS = ("clean", "messy")
SOURCES = (
    "population",
    "hukou",
    "death",
    "marriage",
    "birth_certificate",
    "maternity_insurance",
    "vaccination",
    "school",
)


@dataclass(frozen=True)
class GenerateSummary:
    """Counts only: no names, no ID numbers."""

    seed: int
    persons: int  # residents at the start of the period
    humans: int  # everyone in truth/persons (newborns, outsiders, ...)
    base_rows: int
    county: str
    reference_date: str
    hukou_format: str  # xlsx or csv-gb18030 (by HUKOU_XLSX_MAX_ROWS)
    records: dict[str, int] = field(default_factory=dict)  # rows delivered per source
    errors: dict[str, int] = field(default_factory=dict)  # injected errors per family
    findings: dict[str, int] = field(default_factory=dict)  # true findings per type
    files: list[str] = field(default_factory=list)
    error_model: str = ""
    county_config: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        lines = [
            f"county {self.county}, reference date {self.reference_date}, seed "
            f"{self.seed}: {self.persons} residents, {self.base_rows} base rows, "
            f"{self.humans} humans in the truth"
        ]
        lines.append("records:  " + ", ".join(f"{k} {v}" for k, v in self.records.items()))
        lines.append("findings: " + ", ".join(f"{k} {v}" for k, v in self.findings.items()))
        lines.append(f"injected errors: {sum(self.errors.values())} in {len(self.errors)} families")
        return "\n".join(lines)


def _period_labels(cfg: CountyConfig) -> tuple[str, str]:
    """File labels of the two deliveries (first and second half of the period)."""
    start, end = cfg.period_start, cfg.reference_date
    mid = start + dt.timedelta(days=cfg.period_days // 2)
    return (f"{start:%Y%m%d}-{mid - dt.timedelta(days=1):%Y%m%d}", f"{mid:%Y%m%d}-{end:%Y%m%d}")


def _clear_previous(out: Path) -> None:
    """Remove the files a previous run wrote here (listed in its summary), nothing else."""
    summary = out / "truth" / "summary.json"
    if not summary.exists():
        return
    for name in json.loads(summary.read_text("utf-8")).get("files", []):
        path = out / name
        if path.is_file():
            path.unlink()
    summary.unlink(missing_ok=True)  # listed among the files too


def generate_county(
    persons: int,
    seed: int,
    out: Path,
    error_model: Path | None = None,
    *,
    county: Path | None = None,
    home: Path | None = None,
    layouts: str = "clean",
) -> GenerateSummary:
    """Generate a county of ``persons`` residents and write ``out/inbox`` and ``out/truth``.

    Args:
        persons: residents (true humans in county households) at the start of the period.
        seed: same seed, same files, byte for byte.
        out: folder for ``inbox/<source>/`` and ``truth/``.
        error_model: TOML merged over the layered ``error_model.toml`` (the package's, then
            ``HOME/config``'s, then ``$RENKOU_CONFIG``'s).
        county: TOML merged over the layered ``county.toml`` (county code, rates of events).
        home: the renkou home whose ``config/`` folder is one of the layers (read only).
        layouts: ``clean`` (one table a file, the interface's headers) or ``messy``: the
            same rows in the layouts offices export by hand (``synth/messy.py``), with
            ``truth/broken_rows.csv`` naming the rows broken on purpose.

    Truth (CSV UTF-8): ``persons``, ``base_map``, ``links``, ``findings``,
    ``injected_errors`` and ``summary.json``; columns and file formats are described in
    ``synth/README.md``.

    Raises:
        ConfigError: too few persons, or a configuration file that is unreadable or names
            tables, keys or rates the defaults do not know.

    Example:
        >>> generate_county(3000, seed=7, out=Path("var/county"))  # doctest: +SKIP
    """
    if persons < 10:
        raise ConfigError(
            f"persons = {persons}: too few for a county. Fix: ask for at "
            "least 10 (a realistic test county has a few thousand)"
        )
    cfg = CountyConfig.load(county, home)
    model = ErrorModel.load(error_model, home)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]

    geo = build_geography(cfg.code, cfg.seat, streams[0])
    pool = destination_pool(streams[0], cfg.code)
    members = build_households(streams[1], persons, cfg.households)
    people, homes = build_people(streams[1], cfg, geo, members, pool)
    events = simulate(streams[2], cfg, geo, people, homes, pool, surname_weights(cfg.surname_boost))
    log = ErrorLog()
    registered = assign_ids(streams[3], model, people, log)
    truth = truth_frame(people, homes, cfg)
    del people, members  # the truth frame holds all of it now
    hukou = hukou_register(streams[3], cfg, model, truth, registered, log)
    base = build_base(streams[4], cfg, model, truth, log)
    frames = {
        "population": base,
        "hukou": hukou,
        "death": death_records(streams[5], cfg, geo, truth),
        "marriage": marriage_records(cfg, geo, truth, events),
        "birth_certificate": birth_certificates(streams[5], cfg, geo, truth, events),
        "maternity_insurance": maternity_claims(streams[5], cfg, geo, truth, events),
        # a stream of their own: the other sources' records stay as they were
        "vaccination": vaccination_records(streams[8], cfg, geo, truth),
        "school": school_rolls(streams[8], cfg, geo, truth),
    }
    rendered = {
        source: render(source, corrupt(streams[6], source, frame, model.tables[source], truth, log))
        for source, frame in frames.items()
    }

    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)
    if layouts not in LAYOUTS:
        raise ConfigError(f"layouts = {layouts!r}. Fix: one of {', '.join(LAYOUTS)}")
    if layouts == "messy":
        files, broken = write_messy_inbox(out, rendered, cfg.code, _period_labels(cfg))
    else:
        files, broken = write_inbox(out, rendered, cfg.code, _period_labels(cfg)), None
    population = rendered["population"]
    errors = log.frame()
    tables = {
        "persons": persons_table(truth, population, hukou),
        "base_map": base_map(population),
        "links": links_table(rendered, canonical(population)),
        "findings": findings_table(rendered, population, truth, events.births, errors, cfg.code),
        "injected_errors": errors_table(errors),
    }
    if broken is not None:
        tables["broken_rows"] = broken
    files += write_truth(out, tables)
    summary = GenerateSummary(
        seed=seed,
        persons=persons,
        humans=truth.height,
        base_rows=population.height,
        county=f"{geo.prefix} ({cfg.code})",
        reference_date=cfg.reference_date.isoformat(),
        hukou_format="xlsx" if hukou.height <= HUKOU_XLSX_MAX_ROWS else "csv-gb18030",
        records={s: rendered[s].height for s in SOURCES},
        errors=dict(sorted(_counts(errors, "family").items())),
        findings=dict(sorted(_counts(tables["findings"], "finding_type").items())),
        files=files + ["truth/summary.json"],
        error_model=_relative(model.path),
        county_config=_relative(cfg.path),
    )
    payload = {**summary.as_dict(), "rates": model.tables}
    (out / "truth" / "summary.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    return summary


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {k: int(v) for k, v in frame[column].value_counts().iter_rows()}


def _relative(path: str) -> str:
    """Config paths without the machine's directories (summary.json must be reproducible)."""
    p = Path(path)
    return f"configs/{p.name}" if p.parent.name == "configs" else p.name
