"""Files in and out of the Spark engine, as one machine reads and writes them.

:func:`read_feed` reads a feed in any format the local engine reads (JSONL, CSV, TSV, Parquet;
``.gz`` too) into a DataFrame that :func:`~spamflood.spark.score_dataframe` validates with one
machine's own row parser, so that both engines see the same rows, line numbers and rejects.
:func:`score_file` is ``spamflood score --engine spark``: it scores a feed on Spark and writes
one file of scored posts with one machine's writer (the same bytes as the local engine), and
returns what the command line prints (:class:`SparkRun`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spamflood.errors import ConfigError
from spamflood.io.readers import ReadStats, detect_format, iter_chunks
from spamflood.io.rows import Reject
from spamflood.io.writers import RecordWriter
from spamflood.spark import partitions as P
from spamflood.spark.pipeline import SparkResult, score_dataframe

__all__ = ["SparkRun", "check_input", "check_output", "read_feed", "score_file", "scored_tables"]

ROWS_PER_FETCH = 250_000
"""Input rows whose scored posts come to the driver at once while a file is written."""


def _is_uri(path: str) -> bool:
    return "://" in path


def read_feed(spark: SparkSession, path: str, fmt: str | None = None) -> DataFrame:
    """The feed at ``path`` (a file, or a folder or glob of files, on any filesystem Spark
    reads) as a DataFrame for :func:`~spamflood.spark.score_dataframe`.

    ``fmt`` (``jsonl``, ``csv``, ``tsv``, ``parquet``) defaults to the extension's, as for the
    local engine. JSONL is read as lines (split in parallel; each line is parsed by one
    machine's parser, so no type inference and the same rejects); CSV and TSV files are read
    whole, one task a file, by one machine's reader (records may span lines), then spread.
    """
    kind = check_input(path, fmt)
    if kind == "parquet":
        return spark.read.parquet(path)
    if kind == "jsonl":
        lines = spark.read.option("lineSep", "\n").text(path)  # \n only, as one machine splits
        return lines.select(F.col("value").cast("binary").alias(P.LINE_COLUMN))
    files = spark.read.format("binaryFile").load(path)
    paths = sorted(r["path"] for r in files.select("path").collect())
    local = all(p.startswith("file:") for p in paths)
    read = partial(P.read_csv_files, fmt=kind, files={p: k for k, p in enumerate(paths)})
    schema = "{} int, {} long, {} string".format(*P.NUMBERED_COLUMNS)
    # A local file is opened where the task runs; another is read through Spark, whole.
    numbered = files.select("path", *([] if local else ["content"])).mapInArrow(read, schema)
    return numbered.repartition(max(1, 2 * spark.sparkContext.defaultParallelism))


def check_input(path: str, fmt: str | None = None) -> str:
    """The format of the feed at ``path``; a local file must be readable, with the local
    engine's own checks and messages (a cheap look at its first row; folders, globs and
    cluster paths are left to Spark). Raises :class:`~spamflood.errors.ConfigError`."""
    kind = detect_format(path, fmt)
    if kind == "lines":
        raise ConfigError("--engine spark reads JSONL, CSV/TSV and Parquet, not plain-text lines (use --engine local).")
    if path == "-":
        raise ConfigError("--engine spark reads files, not standard input: give a path (or use --engine local).")
    if not _is_uri(path) and not Path(path).is_dir() and not any(c in path for c in "*?["):
        next(iter_chunks(path, fmt=kind, chunk_rows=1), None)
    return kind


def check_output(path: str, fmt: str | None = None) -> str:
    """The format to write at ``path``, refusing what Spark cannot write there as one file: a
    path on a cluster filesystem. Raises :class:`~spamflood.errors.ConfigError`."""
    if _is_uri(path):
        raise ConfigError(
            f"--engine spark writes one file on this machine; '{path}' is not a local path. "
            "To write folders of Parquet part files on a cluster filesystem, use "
            "spamflood.spark.score_parquet (see docs/spark.md)."
        )
    return detect_format(path, fmt, output=True)


@dataclass
class SparkRun:
    """What :func:`score_file` did, in the shape the command line's summary reads from the
    local engine's result: :meth:`summary` (the counts), ``rejects`` (every rejected row, by
    line) and :meth:`cluster_records` (only the largest floods, which the summary shows)."""

    counts: dict[str, int]
    rejects: list[Reject]
    floods: list[dict[str, Any]] = field(default_factory=list)
    read: ReadStats = field(default_factory=ReadStats)
    """What reading noticed beside the rejects. The Spark readers note nothing here: optional
    values they cannot read are missing without a count, and an input that breaks off fails the
    Spark job (exit 1) instead of being scored up to the break."""

    @property
    def rows_read(self) -> int:
        return self.counts["rows_read"]

    def __len__(self) -> int:
        return self.counts["scored"]

    def summary(self) -> dict[str, int]:
        return dict(self.counts)

    def cluster_records(self) -> list[dict[str, Any]]:
        return list(self.floods)


def score_file(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    features: bool = False,
    top_floods: int = 5,
    **options: Any,
) -> SparkRun:
    """Score the feed at ``input_path`` on Spark and write its scored posts to one file at
    ``output_path`` (``-``: standard output), in the format the local engine writes there.

    The scored posts come to the driver a slice of :data:`ROWS_PER_FETCH` input rows at a time,
    in input order, and go through one machine's writer, so the file holds the same bytes as
    ``spamflood score`` writes. Other keyword arguments go to
    :func:`~spamflood.spark.score_dataframe`. The rejects are returned, not written.
    """
    check_output(output_path, output_format)
    writer = RecordWriter(output_path, output_format)  # refuses a bad path before any work
    result = score_dataframe(spark, read_feed(spark, input_path, input_format), features=features, **options)
    flagged = 0
    with writer:
        for table in scored_tables(result):
            flagged += int(pc.sum(table.column("flagged")).as_py() or 0)
            writer.write_columns(_columns(table))
    rejects = [Reject(r["line"], r["field"], r["reason"], r["raw"]) for r in _arrow(result.rejects).to_pylist()]
    clusters = result.clusters.localCheckpoint(eager=True)  # counted, then its floods fetched
    totals = clusters.agg(F.count(F.lit(1)).alias("clusters"), F.sum(F.col("flood").cast("long")).alias("floods")).first()
    floods = [r.asDict(recursive=True) for r in clusters.where("flood").limit(top_floods).collect()]
    counts = {
        "rows_read": result.rows_read,
        "scored": writer.count,
        "rejected": len(rejects),
        "blank_lines": result.blank_lines,
        "flagged": flagged,
        "clusters": int(totals["clusters"] or 0) if totals else 0,
        "floods": int(totals["floods"] or 0) if totals else 0,
    }
    if counts["scored"] + counts["rejected"] != counts["rows_read"]:  # every row is accounted for
        raise RuntimeError(f"{counts['rows_read']} rows read, but {counts['scored']} scored and {counts['rejected']} rejected")
    return SparkRun(counts=counts, rejects=rejects, floods=floods)


def scored_tables(result: SparkResult, rows: int = ROWS_PER_FETCH) -> Iterator[pa.Table]:
    """The scored posts of ``result`` on the driver, in input order, as Arrow tables of the
    posts of ``rows`` input rows each (so the driver never holds the whole feed)."""
    numbered = result.numbered
    if numbered is None:
        raise ValueError("this SparkResult has no row numbers (build it with score_dataframe)")
    for start in range(1, result.last_row + 1, rows):
        part = _arrow(numbered.where(F.col("row").between(start, start + rows - 1)))
        if part.num_rows:
            yield part.sort_by("row").drop_columns(["row"])


def _arrow(df: DataFrame) -> pa.Table:
    if hasattr(df, "toArrow"):  # PySpark 4
        return df.toArrow()
    return pa.Table.from_batches(df._collect_as_arrow(), schema=None)  # type: ignore[operator]  # pragma: no cover - PySpark 3.5


def _columns(table: pa.Table) -> dict[str, list[Any]]:
    """The columns as one machine's writer takes them: Python values, maps as dicts."""
    columns: dict[str, list[Any]] = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if pa.types.is_map(table.schema.field(name).type):
            values = [None if v is None else dict(v) for v in values]
        columns[name] = values
    return columns

