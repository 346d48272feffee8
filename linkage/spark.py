"""The Spark side of the link stage (``[linkage] backend = "spark"``): a session, and tables
moved between the DuckDB store and Spark as Parquet.

The link stage has one body (linkage.link.run): the backend decides only where Splink's
linker runs (linkage.link.model). On Spark, the tables a link reads (the standardised base
and records, the base's term frequencies, confirmed pairs) are written by DuckDB as Parquet
under ``HOME/spark/`` and read by Spark; the scored pairs come back as Parquet into a DuckDB
table, and everything after (decisions, findings, reports) stays in DuckDB. The Parquet files
hold personal data: they live in the home (owner-only) and are removed when the linker is
done with them (:func:`cleanup`).

Spark needs Java and the ``spark`` extra (``pip install renkou[spark]``); without either,
:func:`unavailable` says what is missing and the stage stops with that fix.

Example::

    spark = session(store.settings)
    df = to_spark(store, "tmp_renkou_link_base")     # a Spark DataFrame over its Parquet
    to_duckdb(store, predictions_df, "tmp_renkou_spark_predictions")
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkage.errors import RenkouError

if TYPE_CHECKING:
    from linkage.settings import Settings
    from linkage.store import Store

#: the folder of the home that holds the Parquet files in transit
WORK_DIR = "spark"
_counter = itertools.count()


def unavailable() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed. Fix: pip install 'renkou[spark]'"
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else None
    if not (java and java.exists()) and shutil.which("java") is None:
        return (
            "Java is not installed (Spark runs on it). Fix: install a Java 17 runtime "
            "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    try:
        subprocess.run(
            [str(java) if java and java.exists() else "java", "-version"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return "Java does not start. Fix: reinstall the Java 17 runtime or correct JAVA_HOME"
    return None


def session(settings: Settings) -> Any:
    """The Spark session of ``settings`` (``[spark]``), created once with Splink's UDF jar."""
    reason = unavailable()
    if reason:
        raise RenkouError(f'[linkage] backend = "spark", but {reason}')
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark_cfg = settings.spark
    builder = (
        SparkSession.builder.master(spark_cfg.master)
        .appName("renkou-link")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", spark_cfg.driver_memory)
        .config("spark.sql.shuffle.partitions", str(spark_cfg.shuffle_partitions))
        .config("spark.default.parallelism", str(spark_cfg.shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # dates as DuckDB writes and reads them (no Julian/Gregorian rebasing of old dates)
        .config("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
        .config("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
        .config("spark.sql.session.timeZone", "UTC")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(_work(settings) / "checkpoints"))
    return spark


def _work(settings: Settings) -> Path:
    if settings.home is None:
        raise RenkouError("the Spark backend needs a home (its Parquet files live there)")
    folder = settings.home / WORK_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def to_spark(store: Store, table: str) -> Any:
    """``table`` of the store as a Spark DataFrame, through one Parquet file of the home.

    A temporary view of the same name (an earlier linker's input) is dropped: Splink
    registers the frame under that name."""
    session(store.settings).catalog.dropTempView(table)
    path = _work(store.settings) / f"{table}_{next(_counter)}.parquet"
    store.con.execute(f"COPY (SELECT * FROM \"{table}\") TO '{path}' (FORMAT parquet)")
    return session(store.settings).read.parquet(str(path))


def to_duckdb(store: Store, frame: Any, table: str) -> str:
    """The Spark DataFrame ``frame`` as the DuckDB table ``table`` (replaced), via Parquet."""
    path = _work(store.settings) / f"{table}_{next(_counter)}"
    frame.write.mode("overwrite").parquet(str(path))
    store.con.execute(
        f"CREATE OR REPLACE TABLE \"{table}\" AS SELECT * FROM read_parquet('{path}/*.parquet')"
    )
    return table


def cleanup(store: Store) -> None:
    """Remove the Parquet files in transit (personal data) once a linker is done."""
    if store.settings.home is not None:
        shutil.rmtree(store.settings.home / WORK_DIR, ignore_errors=True)
