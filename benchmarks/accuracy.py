"""Accuracy on a generated county: generate → ingest → link → findings → evaluate.

    .venv/bin/python benchmarks/accuracy.py --persons 100000 --seed 11
    .venv/bin/python benchmarks/accuracy.py --persons 100000 --seed 11 --layouts messy
    .venv/bin/python benchmarks/accuracy.py --persons 100000 \
        --error-model configs/error_model_harsh.toml

Prints the evaluation table (system beside the exact-ID baseline), seconds per stage and peak
memory; writes the evaluation JSON next to the county. The numbers in docs/evaluation.md come
from this script.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import peak_mb, timed  # noqa: E402
from linkage import pipeline  # noqa: E402
from linkage.evaluate import evaluate, write_json  # noqa: E402
from linkage.store import Store  # noqa: E402
from synth import generate_county  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--error-model", type=Path, default=None)
    parser.add_argument(
        "--county", type=Path, default=None,
        help="TOML over configs/county.toml (geography, ethnicity, coverage)",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("var/accuracy"))
    parser.add_argument(
        "--layouts", choices=("clean", "messy"), default="clean",
        help="messy: the same county in the layouts offices export by hand (synth/messy.py)",
    )  # fmt: skip
    args = parser.parse_args()
    tag = f"{args.persons}_{args.seed}" + (f"_{args.error_model.stem}" if args.error_model else "")
    tag += "_messy" if args.layouts == "messy" else ""
    tag += f"_{args.county.parent.name}" if args.county else ""
    county, home = args.work / f"county_{tag}", args.work / f"home_{tag}"
    shutil.rmtree(county, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    seconds: dict[str, float] = {}
    print(
        f"accuracy: {args.persons:,} persons, seed {args.seed}, "
        f"error model {args.error_model or 'configs/error_model.toml'}, {args.layouts} layouts"
        + (f", county {args.county}" if args.county else "")
    )
    with timed("generate", seconds):
        generate_county(
            persons=args.persons,
            seed=args.seed,
            out=county,
            error_model=args.error_model,
            county=args.county,
            layouts=args.layouts,
        )
    with Store(home) as store:
        with timed("ingest", seconds):
            ingested = pipeline.ingest(store, county / "inbox")
        quarantined = store.scalar("SELECT count(*) FROM quarantine") or 0
        rejected = [f"{f.source}/{f.file}" for f in ingested.report.files if f.status == "rejected"]
        with timed("link (incl. training)", seconds):
            link = pipeline.link(store)
        with timed("findings", seconds):
            pipeline.findings(store, f"accuracy-{int(time.time())}")
        with timed("evaluate", seconds):
            result = evaluate(store, county / "truth")
    print()
    print(result.table())
    print("link stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in link.seconds.items()))
    print(f"peak memory {peak_mb():,.0f} MB")
    print(f"files refused whole: {len(rejected)} {rejected}; rows quarantined: {quarantined}")
    write_json(result, home / "evaluation.json")
    print(f"evaluation JSON: {home / 'evaluation.json'}")


if __name__ == "__main__":
    main()
