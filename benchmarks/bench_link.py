"""Benchmark: the link stage on a generated county (default 1,000,000 persons).

    .venv/bin/python benchmarks/bench_link.py --persons 1000000

Generates (or reuses) the county under --work, ingests it, then times the link stage twice:
the first run trains every model (u sampling, EM) and scores everything; the second reuses
the saved models and rescores everything (--full), which is what a night with a new base
costs. Prints seconds per stage, records scored and peak memory.
"""

from __future__ import annotations

import argparse
import shutil
import sys
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
    home = args.work / f"home_link_{args.persons}_{args.seed}"
    shutil.rmtree(home, ignore_errors=True)
    seconds: dict[str, float] = {}
    with Store(home) as store:
        with timed("ingest", seconds):
            ingested = pipeline.ingest(store, root / "inbox")
        print("   " + ", ".join(f"{k} {v:.1f}s" for k, v in ingested.seconds.items()))
        counts = store.frame(
            "SELECT source, count(*) AS n FROM person_records GROUP BY ALL ORDER BY ALL"
        )
        print("person records: " + ", ".join(f"{s} {n:,}" for s, n in counts.iter_rows()))
        with timed("link, training included", seconds):
            first = pipeline.link(store)
        print("   " + ", ".join(f"{k} {v:.1f}s" for k, v in first.seconds.items()))
        with timed("link, saved models (--full)", seconds):
            second = pipeline.link(store, full=True)
        print("   " + ", ".join(f"{k} {v:.1f}s" for k, v in second.seconds.items()))
    print(f"peak memory {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
