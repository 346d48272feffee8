"""Benchmark: how the first night grows with the county, on DuckDB and on Spark.

    .venv/bin/python benchmarks/bench_scale.py                       # the default sizes
    .venv/bin/python benchmarks/bench_scale.py --duckdb 0.1 --spark 0.1

For each backend and size (millions of persons): generate the county, ingest it (read,
validate, load; then standardise into person records) and link it (the first night: every
model trained, everything scored). Each (backend, size) is one step run in its own process
(peak memory is the step's own) whose result is saved as ``WORK/scale/<backend>_<size>.json``;
a step whose JSON is there is skipped, so an interrupted run resumes where it stopped
(``--redo`` runs the named steps again). Prints the table and each stage's growth exponent
(log-log slope between consecutive sizes: 1.0 is linear) and, when both backends ran the
same size, the share of record-roles linked identically; writes the table into docs/scale.md
between its ``<!-- scale-table -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import county, peak_mb, timed  # noqa: E402

STAGES = ("generate", "ingest", "standardise", "link")
DOC = Path(__file__).resolve().parent.parent / "docs" / "scale.md"
BEGIN, END = "<!-- scale-table: written by benchmarks/bench_scale.py -->", "<!-- /scale-table -->"


def _label(millions: float) -> str:
    return f"{millions:g}M"


def step(backend: str, millions: float, work: Path, seed: int, train: bool) -> dict[str, object]:
    """One size on one backend: generate (reused), ingest, link; seconds and peak memory.

    Spark links with the models the DuckDB step of the same size trained (its home must be
    there) unless ``train``: the same saved models on both, so their links can be compared,
    and what a province does (train once, predict everywhere)."""
    from linkage import pipeline
    from linkage.store import Store

    persons = round(millions * 1_000_000)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    root = county(persons, seed, work)
    seconds["generate"] = time.perf_counter() - start  # 0 when the county was reused
    home = work / f"home_{backend}_{persons}_{seed}"
    shutil.rmtree(home, ignore_errors=True)
    (home / "config").mkdir(parents=True)
    (home / "config" / "renkou.toml").write_text(f'[linkage]\nbackend = "{backend}"\n', "utf-8")
    trained_on = backend
    if backend == "spark" and not train:
        models = work / f"home_duckdb_{persons}_{seed}" / "models"
        if not models.is_dir():
            raise SystemExit(f"no DuckDB models at {models}: run the DuckDB step of this size")
        shutil.copytree(models, home / "models")
        trained_on = "duckdb"
    with Store(home) as store:
        with timed("ingest + standardise", seconds):
            ingested = pipeline.ingest(store, root / "inbox")
        seconds["ingest"] = ingested.seconds["load"]
        seconds["standardise"] = ingested.seconds["person_records"]
        with timed("link", seconds):
            linked = pipeline.link(store)
        records = int(store.scalar("SELECT count(*) FROM person_records") or 0)
    return {
        "backend": backend,
        "persons": persons,
        "person_records": records,
        "seconds": seconds,
        "link_parts": linked.seconds,
        "models_trained_on": trained_on,
        "peak_mb": peak_mb(),
        "home": str(home),
        "county_generated_now": seconds["generate"] > 1,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def _result_path(work: Path, backend: str, millions: float) -> Path:
    return work / "scale" / f"{backend}_{_label(millions)}.json"


def exponents(rows: list[dict]) -> dict[str, list[float]]:
    """Per stage, the log-log slope between consecutive sizes of one backend."""
    rows = sorted(rows, key=lambda r: r["persons"])
    out: dict[str, list[float]] = {}
    for stage in ("ingest", "standardise", "link"):
        slopes = []
        for a, b in zip(rows, rows[1:], strict=False):
            ta, tb = a["seconds"][stage], b["seconds"][stage]
            if ta > 0 and tb > 0:
                slopes.append(math.log(tb / ta) / math.log(b["persons"] / a["persons"]))
        out[stage] = slopes
    return out


def agreement_of(duck_home: Path, spark_home: Path) -> float:
    """Share of record-roles linked to the same person (or to nobody) in both homes."""
    from tests.link.test_spark import agreement  # the test's own measure

    share, _ = agreement(duck_home, spark_home)
    return share


#: the cluster the province estimate assumes (docs/scale.md states why)
CLUSTER_CORES, EFFICIENCY, PROVINCE = 400, 0.7, 100_000_000


def province_estimate(r: dict) -> str:
    """Hours of a province's link night from a Spark ``local[2]`` step, scaled linearly."""
    per_record_core_s = 2 * r["seconds"]["link"] / max(r["person_records"], 1)
    records = PROVINCE * r["person_records"] / r["persons"]
    hours = records * per_record_core_s / (CLUSTER_CORES * EFFICIENCY) / 3600
    return (
        f"Province estimate from Spark at {r['persons'] / 1e6:g}M: {per_record_core_s * 1e3:.2f} "
        f"core-ms per person record; {records / 1e6:,.0f} M records of {PROVINCE / 1e6:g} M "
        f"persons on {CLUSTER_CORES} cores at {EFFICIENCY:.0%} efficiency: {hours:.1f} h "
        f"(models trained on {r.get('models_trained_on', 'spark')}; linear growth assumed)."
    )


def table(results: dict[str, dict[float, dict | None]], agreements: dict[str, float]) -> str:
    lines = [
        "| backend | persons | person records | ingest s | standardise s | link s "
        "| models trained on | s per 1k records (link) | peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for backend, sizes in results.items():
        for millions, r in sorted(sizes.items()):
            if r is None:
                lines.append(f"| {backend} | {_label(millions)} | not yet measured | | | | | | |")
                continue
            s = r["seconds"]
            per_k = 1000 * s["link"] / max(r["person_records"], 1)
            trained = r.get("models_trained_on", backend)
            lines.append(
                f"| {backend} | {_label(millions)} | {r['person_records']:,} | {s['ingest']:.1f} "
                f"| {s['standardise']:.1f} | {s['link']:.1f} | {trained} "
                f"| {per_k:.3f} | {r['peak_mb']:,.0f} |"
            )
    lines.append("")
    for backend, sizes in results.items():
        done = [r for r in sizes.values() if r is not None]
        if len(done) > 1:
            slopes = exponents(done)
            text = "; ".join(
                f"{stage} " + ", ".join(f"{x:.2f}" for x in xs) for stage, xs in slopes.items()
            )
            lines.append(f"Growth exponents on {backend} (between consecutive sizes): {text}.")
        else:
            lines.append(f"Growth exponents on {backend}: need two measured sizes.")
    spark_done = [r for r in results.get("spark", {}).values() if r is not None]
    if spark_done:
        lines.append("\n" + province_estimate(max(spark_done, key=lambda r: r["persons"])))
    for size, share in agreements.items():
        lines.append(
            f"\nAgreement DuckDB vs Spark at {size}: {100 * share:.2f} % of record-roles linked "
            "identically (same person or none)."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duckdb", type=float, nargs="*", default=[0.1, 0.3, 1, 3])
    parser.add_argument("--spark", type=float, nargs="*", default=[0.1, 1])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument("--redo", action="store_true", help="run the named steps again")
    parser.add_argument(
        "--spark-train", action="store_true",
        help="train the models on Spark too (default: Spark predicts with the DuckDB models)",
    )  # fmt: skip
    parser.add_argument("--step", nargs=2, metavar=("BACKEND", "MILLIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # the child process of one step
        backend, millions = args.step[0], float(args.step[1])
        result = step(backend, millions, args.work, args.seed, args.spark_train)
        path = _result_path(args.work, backend, millions)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2), "utf-8")
        return
    plan = {"duckdb": args.duckdb, "spark": args.spark}
    results: dict[str, dict[float, dict | None]] = {}
    for backend, sizes in plan.items():
        results[backend] = {}
        for millions in sizes:
            path = _result_path(args.work, backend, millions)
            if args.redo or not path.exists():
                print(f"== {backend} {_label(millions)}", flush=True)
                subprocess.run(
                    [sys.executable, __file__, "--work", str(args.work), "--seed",
                     str(args.seed), "--step", backend, str(millions)]
                    + (["--spark-train"] if args.spark_train else []),
                    check=True,
                )  # fmt: skip
            else:
                print(f"== {backend} {_label(millions)}: done before ({path})")
            results[backend][millions] = json.loads(path.read_text("utf-8"))
    # every size of the default plan appears, measured or not
    for backend, sizes in {"duckdb": [0.1, 0.3, 1, 3], "spark": [0.1, 1]}.items():
        for millions in sizes:
            path = _result_path(args.work, backend, millions)
            results.setdefault(backend, {}).setdefault(
                millions, json.loads(path.read_text("utf-8")) if path.exists() else None
            )
    agreements = {}
    for millions, r in results["spark"].items():
        d = results["duckdb"].get(millions)
        if r is not None and d is not None:
            agreements[_label(millions)] = agreement_of(Path(d["home"]), Path(r["home"]))
    text = table(results, agreements)
    print(text)
    doc = DOC.read_text("utf-8")
    head, rest = doc.split(BEGIN, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}{END}{rest.split(END, 1)[1]}", "utf-8")
    print(f"table written into {DOC}")


if __name__ == "__main__":
    main()
