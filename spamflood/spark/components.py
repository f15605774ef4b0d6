"""Near-duplicate clusters on Spark: candidate edges from band keys, verification, components.

The candidate edges are those of :mod:`spamflood.cluster` (one machine): in every LSH bucket,
each member paired with the bucket's smallest member and with the member just before it,
kept when the estimated Jaccard of the two signatures reaches the threshold. Most candidates
of a real feed fail that test (LSH is tuned for recall), so a 4-bit fingerprint of every
signature value rules them out before any full signature moves. Components are
found with the large-star / small-star iteration (Kiveris et al., "Connected Components in
MapReduce and Beyond", SoCC 2014) in the DataFrame API, checkpointing each round so that the
plan does not grow with the number of rounds. Every component comes out as a star on its
smallest row, which is how one machine names a component too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spamflood.spark.partitions import verify_edges

__all__ = [
    "Checkpointer",
    "candidate_edges",
    "connected_components",
    "dense_index",
    "fingerprint_disagreements",
    "verified_edges",
]

_LOCAL_MASK = (1 << 33) - 1  # monotonically_increasing_id(): partition id << 33 | position


class Checkpointer:
    """Cuts a DataFrame's lineage: reliable checkpoints in ``directory`` when given (they
    survive the loss of an executor), else local checkpoints on the executors (faster; a lost
    executor fails the job instead of recomputing)."""

    def __init__(self, spark: SparkSession, directory: str | None = None) -> None:
        self.reliable = directory is not None
        if directory is not None:
            spark.sparkContext.setCheckpointDir(directory)

    def __call__(self, df: DataFrame) -> DataFrame:
        return df.checkpoint(eager=True) if self.reliable else df.localCheckpoint(eager=True)


def candidate_edges(keys: DataFrame, *, partitions: int | None = None) -> DataFrame:
    """Distinct candidate edges ``(src, dst)``, ``src > dst``, from ``keys``: ``row`` and
    ``keys`` (``array<bigint>``, one key per band; null for a post that is not clustered).

    One shuffle brings every bucket (a band's key) to one task, where a window over the bucket
    ordered by row gives each member the bucket's smallest member and its predecessor (in the
    JVM: no Python, no collected lists); a second one spreads the edges by ``src``
    (``partitions`` parts, default ``spark.sql.shuffle.partitions``), where repeats from other
    bands are dropped, ready to join signatures partitioned by row.
    """
    parts = partitions or _shuffle_partitions(keys.sparkSession)
    exploded = keys.where(F.col("keys").isNotNull()).select("row", F.posexplode("keys").alias("band", "key"))
    bucket = Window.partitionBy("band", "key").orderBy("row")
    ranked = exploded.repartition(parts, "band", "key").select(
        "row", F.first("row").over(bucket).alias("first"), F.lag("row").over(bucket).alias("prev")
    )
    previous = F.when(F.col("prev") != F.col("first"), F.col("prev"))  # else it is the first: same edge
    edges = ranked.select(F.col("row").alias("src"), F.explode(F.array("first", previous)).alias("dst")).where(
        F.col("dst").isNotNull() & (F.col("src") != F.col("dst"))
    )
    return edges.repartition(parts, "src").distinct()


def fingerprint_disagreements(a: str, b: str) -> Column:
    """In how many values two fingerprints (``array<bigint>`` columns of packed 4-bit
    fingerprints, :func:`~spamflood.cluster.fingerprint_words`) differ, in the JVM:
    per word, the nibbles of ``a ^ b`` that are not zero."""
    x = "(x ^ y)"
    nonzero = f"({x} | shiftrightunsigned({x}, 1) | shiftrightunsigned({x}, 2) | shiftrightunsigned({x}, 3))"
    return F.expr(
        f"aggregate(zip_with({a}, {b}, (x, y) -> bit_count({nonzero} & {_NIBBLE_LOW_BITS})), 0, (acc, c) -> acc + c)"
    )


_NIBBLE_LOW_BITS = 0x1111111111111111


def verified_edges(candidates: DataFrame, signatures: DataFrame, *, num_perm: int, need: int) -> DataFrame:
    """The candidate edges whose two signatures agree on at least ``need`` of ``num_perm``
    values.

    ``signatures``: ``row``, ``sig`` (raw little-endian uint32 bytes) and ``fp`` (its packed
    fingerprints, :func:`~spamflood.cluster.fingerprint_words`); best
    hash-partitioned by ``row`` into as many parts as ``candidates`` and cached, so that it is
    never shuffled: then only the edges move. They move first with the 4-bit fingerprints of
    one end, which rule out most candidates for sure (fingerprints agree wherever values do) in
    a JVM filter; only the rest carry a full signature to the other end for the exact test.
    """
    src_fp = signatures.select(F.col("row").alias("src"), F.col("fp").alias("src_fp"))
    dst = signatures.select(F.col("row").alias("dst"), F.col("fp").alias("dst_fp"), F.col("sig").alias("dst_sig"))
    passing = (
        candidates.join(src_fp, "src")
        .join(dst, "dst")
        .where(fingerprint_disagreements("src_fp", "dst_fp") <= num_perm - need)
        .select("src", "dst", "dst_sig")
    )
    src_sig = signatures.select(F.col("row").alias("src"), F.col("sig").alias("src_sig"))
    both = passing.join(src_sig, "src").select("src", "dst", "src_sig", "dst_sig")
    return both.mapInArrow(partial(verify_edges, num_perm=num_perm, need=need), "src long, dst long")


def _shuffle_partitions(spark: SparkSession) -> int:
    return int(spark.conf.get("spark.sql.shuffle.partitions") or 200)


def _large_star(edges: DataFrame) -> DataFrame:
    # Each node u links every larger neighbour to the smallest of u and its neighbours.
    both = edges.select(F.col("src").alias("u"), F.col("dst").alias("v")).unionByName(
        edges.select(F.col("dst").alias("u"), F.col("src").alias("v"))
    )
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (
        both.where(F.col("v") > F.col("u"))
        .join(smallest, "u")
        .select(F.col("v").alias("src"), F.col("m").alias("dst"))
        .distinct()
    )


def _small_star(edges: DataFrame) -> DataFrame:
    # Each node u links itself and every smaller neighbour to the smallest of them.
    smallest = edges.groupBy("src").agg(F.min("dst").alias("m"))
    to_smallest = (
        edges.join(smallest, "src")
        .where(F.col("dst") != F.col("m"))
        .select(F.col("dst").alias("src"), F.col("m").alias("dst"))
    )
    return to_smallest.unionByName(smallest.select("src", F.col("m").alias("dst"))).distinct()


def _is_star_forest(edges: DataFrame) -> bool:
    """Every node has one parent and every parent is a root: components are stars (one job)."""
    parents = edges.groupBy("src").agg(F.count(F.lit(1)).alias("k"))
    two_parents = parents.where(F.col("k") > 1).select("src")
    parent_not_root = edges.join(parents.select(F.col("src").alias("dst")), "dst", "left_semi").select("src")
    return two_parents.unionByName(parent_not_root).isEmpty()


DRIVER_EDGES = 5_000_000
"""Graphs of at most this many edges (80 MB as two int64 columns) are joined on the driver."""


def connected_components(
    edges: DataFrame,
    *,
    checkpoint: Callable[[DataFrame], DataFrame],
    max_rounds: int = 64,
    driver_edges: int = DRIVER_EDGES,
) -> DataFrame:
    """``(row, root)`` for every row on an edge: ``root`` is the smallest row of its component.

    ``edges``: ``src, dst`` (undirected; any orientation). Rows on no edge are not listed.
    A graph of at most ``driver_edges`` edges is collected and joined on the driver (one
    machine's union-find): a round costs several Spark jobs, more than a small graph's work.
    """
    current = checkpoint(edges.select("src", "dst").where(F.col("src") != F.col("dst")))
    if current.count() <= driver_edges:
        return checkpoint(_components_on_driver(current))
    for _ in range(max_rounds):
        current = checkpoint(_small_star(_large_star(current)))
        if _is_star_forest(current):
            break
    else:  # pragma: no cover - the iteration converges in O(log^2 n) rounds
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    leaves = current.select(F.col("src").alias("row"), F.col("dst").alias("root"))
    roots = current.select(F.col("dst").alias("row"), F.col("dst").alias("root")).distinct()
    return leaves.unionByName(roots)


def _components_on_driver(edges: DataFrame) -> DataFrame:
    import numpy as np
    import pyarrow as pa

    from spamflood.cluster import _join_forests

    table = edges.toArrow() if hasattr(edges, "toArrow") else pa.Table.from_pylist([r.asDict() for r in edges.collect()])
    src = np.asarray(table.column("src").to_numpy(), dtype=np.int64)
    dst = np.asarray(table.column("dst").to_numpy(), dtype=np.int64)
    rows = np.unique(np.concatenate([src, dst]))
    pairs = np.column_stack([np.searchsorted(rows, src), np.searchsorted(rows, dst)]).astype(np.int64)
    roots = rows[_join_forests(rows.shape[0], pairs)]  # rows are sorted: the smallest index is the smallest row
    found = pa.table({"row": pa.array(rows, type=pa.int64()), "root": pa.array(roots, type=pa.int64())})
    spark = edges.sparkSession
    if hasattr(edges, "toArrow"):  # PySpark 4 takes Arrow tables
        return spark.createDataFrame(found)
    return spark.createDataFrame(found.to_pandas())  # pragma: no cover - PySpark 3.5


def dense_index(values: DataFrame, column: str, name: str, *, checkpoint: Callable[[DataFrame], DataFrame]) -> DataFrame:
    """``(column, name)``: the distinct values of ``column`` numbered 0, 1, ... in ascending order,
    computed across partitions (no single-partition window)."""
    spark = values.sparkSession
    ordered = checkpoint(
        values.select(column).distinct().orderBy(column).withColumn("_mid", F.monotonically_increasing_id())
    )
    counts = (
        ordered.groupBy(F.shiftright(F.col("_mid"), 33).alias("_p"))
        .agg(F.count(F.lit(1)).alias("_n"))
        .orderBy("_p")
        .collect()
    )
    offsets, total = [], 0
    for r in counts:
        offsets.append((int(r["_p"]), total))
        total += int(r["_n"])
    table = spark.createDataFrame(offsets, "_p long, _offset long")
    return (
        ordered.withColumn("_p", F.shiftright(F.col("_mid"), 33))
        .join(F.broadcast(table), "_p")
        .select(column, (F.col("_offset") + F.col("_mid").bitwiseAND(F.lit(_LOCAL_MASK))).alias(name))
    )
