"""Benchmark: read, validate, standardise and load a population file of N rows.

    .venv/bin/python benchmarks/bench_ingest.py --persons 1000000

Prints seconds per stage, rows/s and peak memory. Not a test: a figure to watch.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import county, peak_mb, timed  # noqa: E402
from linkage import pipeline  # noqa: E402
from linkage.store import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    root = county(args.persons, args.seed, args.work)
    inbox = Path(tempfile.mkdtemp(prefix="renkou-bench-inbox-"))
    shutil.copytree(root / "inbox" / "population", inbox / "population")
    home = Path(tempfile.mkdtemp(prefix="renkou-bench-home-"))
    results: dict[str, float] = {}
    print(f"ingest benchmark: population of {args.persons:,} persons")
    with Store(home) as store:
        with timed("ingest", results):
            done = pipeline.ingest(store, inbox)
    for part, seconds in done.seconds.items():
        print(f"  {part:<28} {seconds:8.1f} s")
    loaded = done.report.totals()["rows_loaded"]
    total = sum(results.values())
    print(f"rows loaded {loaded:,}; person records {done.person_records:,}")
    print(f"total {total:.1f} s = {loaded / total:,.0f} rows/s; peak memory {peak_mb():,.0f} MB")
    shutil.rmtree(inbox)
    shutil.rmtree(home)


if __name__ == "__main__":
    main()
