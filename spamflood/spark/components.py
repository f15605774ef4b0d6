"""Near-duplicate clusters on Spark: candidate edges from band keys, verification, components.

The candidate edges are those of :mod:`spamflood.cluster` (one machine): in every LSH bucket,
each member paired with the bucket's smallest member and with the member just before it,
kept when the estimated Jaccard of the two signatures reaches the threshold. Components are
found with the large-star / small-star iteration (Kiveris et al., "Connected Components in
MapReduce and Beyond", SoCC 2014) in the DataFrame API, checkpointing each round so that the
plan does not grow with the number of rounds. Every component comes out as a star on its
smallest row, which is how one machine names a component too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spamflood.spark.partitions import verify_edges

__all__ = ["Checkpointer", "candidate_edges", "connected_components", "dense_index", "verified_edges"]

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


def candidate_edges(keys: DataFrame) -> DataFrame:
    """Distinct candidate edges ``(src, dst)``, ``src > dst``, from ``keys``: ``row`` and
    ``keys`` (``array<bigint>``, one key per band; null for a post that is not clustered)."""
    exploded = keys.where(F.col("keys").isNotNull()).select("row", F.posexplode("keys").alias("band", "key"))
    buckets = (
        exploded.groupBy("band", "key")
        .agg(F.array_sort(F.collect_list("row")).alias("m"))
        .where(F.size("m") > 1)
    )
    pairs = buckets.select(
        F.explode(
            F.expr(
                "flatten(transform(sequence(1, size(m) - 1), "
                "i -> array(named_struct('src', m[i], 'dst', m[0]), named_struct('src', m[i], 'dst', m[i - 1]))))"
            )
        ).alias("p")
    )
    return pairs.select(F.col("p.src").alias("src"), F.col("p.dst").alias("dst")).distinct()


def verified_edges(candidates: DataFrame, signatures: DataFrame, *, num_perm: int, need: int) -> DataFrame:
    """The candidate edges whose two signatures agree on at least ``need`` of ``num_perm``
    values (``signatures``: ``row``, ``sig`` as raw little-endian uint32 bytes)."""
    src = signatures.select(F.col("row").alias("src"), F.col("sig").alias("src_sig"))
    dst = signatures.select(F.col("row").alias("dst"), F.col("sig").alias("dst_sig"))
    both = candidates.join(src, "src").join(dst, "dst").select("src", "dst", "src_sig", "dst_sig")
    return both.mapInArrow(partial(verify_edges, num_perm=num_perm, need=need), "src long, dst long")


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


def connected_components(
    edges: DataFrame, *, checkpoint: Callable[[DataFrame], DataFrame], max_rounds: int = 64
) -> DataFrame:
    """``(row, root)`` for every row on an edge: ``root`` is the smallest row of its component.

    ``edges``: ``src, dst`` (undirected; any orientation). Rows on no edge are not listed.
    """
    current = checkpoint(edges.select("src", "dst").where(F.col("src") != F.col("dst")))
    for _ in range(max_rounds):
        current = checkpoint(_small_star(_large_star(current)))
        if _is_star_forest(current):
            break
    else:  # pragma: no cover - the iteration converges in O(log^2 n) rounds
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    leaves = current.select(F.col("src").alias("row"), F.col("dst").alias("root"))
    roots = current.select(F.col("dst").alias("row"), F.col("dst").alias("root")).distinct()
    return leaves.unionByName(roots)


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
