"""Benchmark of ``renkou generate``: seconds, persons per second and peak memory.

    .venv/bin/python benchmarks/bench_generate.py [--persons 1000000] [--seed 1]

The county is written into a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth import generate_county  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="renkou-bench-") as tmp:
        start = time.perf_counter()
        summary = generate_county(args.persons, args.seed, Path(tmp))
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024  # Linux: KiB
    cpu = usage.ru_utime + usage.ru_stime  # includes imports; shows contention on a busy box
    print(summary.describe())
    print(
        f"persons={args.persons} seconds={seconds:.1f} "
        f"persons_per_s={args.persons / seconds:,.0f} peak_mb={peak_mb:,.0f} "
        f"cpu_s={cpu:.1f} output_mb={size / 2**20:,.0f} hukou={summary.hukou_format}"
    )


if __name__ == "__main__":
    main()
