"""The same pipeline on Apache Spark, for feeds beyond one machine's memory.

``pip install 'spamflood[spark]'`` (PySpark, PyArrow, pandas) and Java 17. Then::

    from pyspark.sql import SparkSession
    from spamflood.spark import score_dataframe, score_parquet

    spark = SparkSession.builder.getOrCreate()
    scored, clusters, rejects = score_dataframe(spark, spark.read.parquet("feed/"))
    score_parquet(spark, "feed/", "scored.parquet", clusters_path="clusters.parquet")

On the same input the results equal :meth:`spamflood.detector.Detector.score`'s: the same
scores, labels, reasons and clusters. See ``docs/spark.md``.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from spamflood.errors import ConfigError

    raise ConfigError(
        "spamflood.spark needs PySpark (and Java 17): pip install 'spamflood[spark]'"
    ) from exc

from spamflood.spark.components import (
    candidate_edges,
    connected_components,
    verified_edges,
)
from spamflood.spark.files import SparkRun, read_feed, score_file
from spamflood.spark.pipeline import SparkResult, score_dataframe, score_parquet

__all__ = [
    "SparkResult",
    "SparkRun",
    "candidate_edges",
    "connected_components",
    "read_feed",
    "score_dataframe",
    "score_file",
    "score_parquet",
    "verified_edges",
]
