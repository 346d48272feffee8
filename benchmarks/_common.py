"""Shared helpers of the benchmark scripts: timing, peak memory, a generated county on disk."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    print(f"  {label:<28} {results[label]:8.1f} s   peak {peak_mb():8.0f} MB", flush=True)


def county(persons: int, seed: int, root: Path) -> Path:
    """A generated county under ``root`` (reused when already there)."""
    from synth import generate_county

    out = root / f"county_{persons}_{seed}"
    if not (out / "truth" / "summary.json").exists():
        print(f"generating a county of {persons:,} persons into {out} …", flush=True)
        start = time.perf_counter()
        generate_county(persons=persons, seed=seed, out=out)
        print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    return out
