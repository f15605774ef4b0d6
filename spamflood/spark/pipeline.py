"""The detector's pipeline on Apache Spark (PySpark DataFrame API), with one machine's results.

:func:`score_dataframe` takes any DataFrame of posts (any schema the field map can read) and
returns three lazy DataFrames: the scored posts (the CLI's columns), the clusters (as
``spamflood clusters`` writes them) and the rejected rows (line, field, reason, raw).
:func:`score_parquet` reads and writes Parquet.

The stages, and what moves between machines::

    input rows --mapInArrow: validate, normalize, MinHash, band keys, text criteria--> prepared
    prepared --row numbers (partition offsets), duplicate ids dropped--> posts
    posts with objects (row, id, author, time, objects, repost_of) --to the driver:
        Coordination.findings--> coordinated part (the groups' posts)
    posts (signature, fingerprint, narrow columns) --hash by row, once--> by_row
    posts.keys --explode, by (band, key), NumPy per bucket--> candidate edges (by src)
    edges + fingerprints --prefilter--> few edges + full signatures --exact test--> edges
    edges --large-star / small-star, checkpoint per round--> (row, root)
    (row, cluster) + by_row by root --mapInArrow: cluster_stats, features, batch_accounts--> cluster part
    festival posts by skeleton --mapInArrow: holiday_template--> template part
    posts + the three parts by author --mapInArrow: chicken_soup, auto_posting, Detector.decide--> scored

Every Python step runs :mod:`spamflood`'s own NumPy/numba code (see
:mod:`spamflood.spark.partitions`), so that on the same input the scores, labels, reasons and
clusters equal :meth:`spamflood.detector.Detector.score`'s, cluster ids included (rows are
numbered in partition order, which for one Parquet file is the file's order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark import Broadcast, StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from spamflood.detector import Detector
from spamflood.errors import ConfigError, InputError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS, RowParser
from spamflood.posts import ACCOUNT_NUMBER_FIELDS, ACCOUNT_TEXT_FIELDS
from spamflood.spark import partitions as P
from spamflood.spark.components import (
    Checkpointer,
    candidate_edges,
    connected_components,
    dense_index,
    verified_edges,
)
from spamflood.spark.coordinated import coordinated_part

__all__ = ["SparkResult", "score_dataframe", "score_parquet", "shuffle_partitions"]

_ACCOUNT_FIELDS = list(ACCOUNT_TEXT_FIELDS + ACCOUNT_NUMBER_FIELDS)


def _spark_schema(schema: Any) -> StructType:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


@dataclass
class SparkResult:
    """What :func:`score_dataframe` returns; unpacks as ``scored, clusters, rejects``.

    ``scored``: one row per scored post, in input order: ``id, score, flagged, labels, reasons,
    cluster, cluster_size, cluster_authors``. ``clusters``: one row per cluster, floods first,
    with the columns of ``spamflood clusters``. ``rejects``: ``line, field, reason, raw`` by line.
    ``rows_read``: input rows (every one is scored or rejected); ``blank_lines``: blank lines
    of a JSONL input, skipped. ``numbered`` and ``last_row`` let the scored posts be fetched
    in input order a slice at a time (:func:`spamflood.spark.files.scored_tables`).
    """

    scored: DataFrame
    clusters: DataFrame
    rejects: DataFrame
    rows_read: int
    blank_lines: int = 0
    numbered: DataFrame | None = field(default=None, repr=False)
    """``scored`` with each post's input row number ``row`` first, unordered."""
    last_row: int = 0
    """The largest row (line) number of the input."""

    def __iter__(self) -> Any:
        return iter((self.scored, self.clusters, self.rejects))

    def summary(self) -> dict[str, int]:
        """Counts as the CLI prints them (runs a few small Spark jobs)."""
        flags = self.scored.agg(
            F.count(F.lit(1)).alias("scored"), F.sum(F.col("flagged").cast("long")).alias("flagged")
        ).collect()[0]
        floods = self.clusters.agg(
            F.count(F.lit(1)).alias("clusters"), F.sum(F.col("flood").cast("long")).alias("floods")
        ).collect()[0]
        return {
            "rows_read": self.rows_read,
            "scored": int(flags["scored"] or 0),
            "rejected": int(self.rejects.count()),
            "blank_lines": self.blank_lines,
            "flagged": int(flags["flagged"] or 0),
            "clusters": int(floods["clusters"] or 0),
            "floods": int(floods["floods"] or 0),
        }


def _broadcast(spark: SparkSession, detector: Detector) -> Broadcast:
    """The detector (its model included) as one broadcast variable, pickled with cloudpickle
    as Spark pickles functions, so that a subclass defined in the driver script travels too."""
    from pyspark import cloudpickle

    return spark.sparkContext.broadcast(cloudpickle.dumps(detector))


_LOADED: list[tuple[bytes, Detector]] = []


def _detector(shared: Broadcast) -> Detector:
    """The broadcast detector, unpickled once per Python worker (Spark reuses workers, and
    keeps a broadcast's bytes in one object per worker)."""
    data = shared.value
    if not _LOADED or _LOADED[0][0] is not data:
        import pickle

        _LOADED[:] = [(data, pickle.loads(data))]
    return _LOADED[0][1]


def _prepare_task(batches: Any, parser: RowParser, shared: Broadcast, source: str) -> Any:
    from pyspark import TaskContext

    context = TaskContext.get()
    partition = context.partitionId() if context is not None else 0
    yield from P.prepare(batches, parser, _detector(shared), partition=partition, source=source)


def _source(df: DataFrame) -> str:
    """What the rows of ``df`` are (:data:`spamflood.spark.partitions.SOURCES`)."""
    if df.columns == [P.LINE_COLUMN]:
        return "lines"
    if tuple(df.columns) == P.NUMBERED_COLUMNS:
        return "numbered"
    return "records"


def _with_detector(batches: Any, step: Callable[..., Any], shared: Broadcast, **options: Any) -> Any:
    """Run ``step`` with the broadcast detector (model included)."""
    yield from step(batches, _detector(shared), **options)


POSTS_PER_PART = (50_000, 100_000)
"""The fewest and most posts a shuffle part should hold: fewer, and the parts' fixed costs
(a task, a Python call, a file) dominate; more, and a part's cached signatures (about 700
bytes a post) crowd a default 1 GB executor."""


def shuffle_partitions(rows: int, cores: int) -> int:
    """How many parts to spread ``rows`` posts over: at most :data:`POSTS_PER_PART` posts a
    part, and two parts per core while parts keep at least the fewest (so 1 for 20,000 posts,
    10 for a million, 1,000 for 100 million)."""
    fewest, most = POSTS_PER_PART
    return max(1, math.ceil(rows / most), min(2 * max(1, cores), math.ceil(rows / fewest)))


_BROADCAST_ROWS = 1_000_000
"""Duplicate ids up to this many are joined as a broadcast table (no shuffle of the posts)."""


def score_dataframe(
    spark: SparkSession,
    df: DataFrame,
    *,
    detector: Detector | None = None,
    field_map: FieldMap | None = None,
    tz: str = "UTC",
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    checkpoint_dir: str | None = None,
    partitions: int | None = None,
    strict: bool = False,
    features: bool = False,
) -> SparkResult:
    """Score every post of ``df`` on Spark, as ``detector.score`` would on one machine.

    ``field_map``, ``tz`` and ``max_text_chars`` are those of :meth:`Detector.score` (where
    fields live, the zone of naive timestamps, the longest text accepted). ``partitions``: how
    many parts clusters, accounts and templates are spread over (default: sized to the input,
    :func:`shuffle_partitions`; Spark's own default of 200 would make a small feed pay for
    hundreds of tiny tasks at every step). ``checkpoint_dir``: a directory every executor can reach
    (HDFS, S3, ...) for reliable checkpoints; without it, checkpoints are local to executors.
    With ``strict=True`` the first rejected row raises :class:`~spamflood.errors.InputError`.
    ``features=True`` adds the ``label_scores`` and ``features`` columns (every named feature
    value, null for NaN), as ``spamflood score --features`` writes them.

    The detector, with its trained model when it has one, is broadcast to the executors once;
    each post's features and label strengths go to its :meth:`~Detector.decide` there.
    The expensive intermediate tables are checkpointed as they are made (the signatures, the
    edges of each component round, the cluster part and the scored posts), so the returned
    DataFrames are cheap to write or collect more than once.
    """
    detector = detector or Detector()
    if not isinstance(detector, Detector):
        raise ConfigError(f"The 'detector' parameter must be a spamflood Detector. Got {type(detector).__name__} instead.")
    parser = RowParser(field_map, tz=tz, max_text_chars=max_text_chars)
    if partitions is not None and partitions < 1:
        raise ConfigError(f"The 'partitions' parameter must be at least 1. Got {partitions} instead.")
    keep = Checkpointer(spark, checkpoint_dir)
    shared = _broadcast(spark, detector)
    step = _Steps(spark)
    shuffle = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        return _score(spark, df, detector, shared, parser, partitions, keep, step, strict, features)
    finally:
        if shuffle is None:
            spark.conf.unset("spark.sql.shuffle.partitions")
        else:
            spark.conf.set("spark.sql.shuffle.partitions", shuffle)
        step(None)
        shared.unpersist(blocking=False)


def _score(
    spark: SparkSession,
    df: DataFrame,
    detector: Detector,
    shared: Broadcast,
    parser: RowParser,
    partitions: int | None,
    keep: Checkpointer,
    step: _Steps,
    strict: bool,
    features: bool,
) -> SparkResult:
    # 1. Validate and sign every row where it lies; number rows across partitions.
    step("validate, normalize, sign")
    prepare = partial(_prepare_task, parser=parser, shared=shared, source=_source(df))
    prepared = keep(df.mapInArrow(prepare, _spark_schema(P.PREPARED_SCHEMA)))
    blank = (F.col("kind") == P.KIND_BLANK).cast("long")
    counts = (
        prepared.groupBy("pid")
        .agg(F.max("local").alias("last"), F.count(F.lit(1)).alias("n"), F.sum(blank).alias("blank"))
        .orderBy("pid")
        .collect()
    )
    # A part's rows follow the previous part's last line (its row count, or for numbered
    # rows its last line number), so rows number as lines do.
    offsets, end, rows_read, blank_lines = [], 0, 0, 0
    for r in counts:
        offsets.append((int(r["pid"]), end))
        end += int(r["last"])
        rows_read += int(r["n"]) - int(r["blank"])
        blank_lines += int(r["blank"])
    last_row = end
    parts = partitions or shuffle_partitions(rows_read, spark.sparkContext.defaultParallelism)
    # The shuffles Spark sizes itself (joins, groupings, the component rounds) get as many
    # parts, while this call runs (AQE may coalesce them further).
    spark.conf.set("spark.sql.shuffle.partitions", str(parts))
    offset_table = spark.createDataFrame(offsets, "pid int, offset long")
    numbered = (
        prepared.join(F.broadcast(offset_table), "pid")
        .withColumn("row", F.col("offset") + F.col("local"))
        .drop("pid", "local", "offset")
    )

    # 2. Duplicate ids: the first valid row keeps the id, later ones are rejected. Only ids
    # and rows move; the posts are joined against the (usually tiny) duplicates by broadcast.
    step("duplicate ids")
    valid = numbered.where(F.col("kind") == P.KIND_POST)
    firsts = keep(
        valid.groupBy("id")
        .agg(F.min("row").alias("first_row"), F.count(F.lit(1)).alias("n"))
        .where(F.col("n") > 1)
        .select("id", "first_row")
    )
    duplicates: DataFrame | None = None
    posts = valid
    repeated = firsts.count()
    if repeated:
        small = repeated <= _BROADCAST_ROWS
        duplicates = keep(
            valid.join(F.broadcast(firsts) if small else firsts, "id")
            .where(F.col("row") > F.col("first_row"))
            .select("row", "id", "text", "author", "time", "first_row")
        )
        dropped = duplicates.select("row")
        posts = valid.join(F.broadcast(dropped) if small else dropped, "row", "left_anti")
    rejects = _rejects(numbered, duplicates)
    if strict:
        first = rejects.orderBy("line").first()
        if first is not None:
            raise InputError(first["reason"], line=int(first["line"]), field=first["field"])
    step("feed facts")
    facts = _feed_facts(posts)
    if detector.criteria:
        step("feed accounts")
        facts = _with_accounts(posts, facts)

    # 3. Clusters: candidates from shared band keys, verified, connected. The signatures (and
    # the narrow columns the cluster step reads) move once, hash-partitioned by row.
    step("signatures by row")
    # Cached, not checkpointed: a cached table keeps its hash partitioning (a checkpoint's is
    # forgotten), so the joins below shuffle only the edges. Its lineage is one step long.
    # On disk: a part of 100,000 signatures built in memory (~100 MB, doubled as it grows)
    # exhausts a default 1 GB executor; written to disk, it is streamed.
    by_row = (
        posts.select("row", "sig", "fp", "id", "author", "time", "digest", "objects", *_ACCOUNT_FIELDS)
        .repartition(parts, "row")
        .persist(StorageLevel.DISK_ONLY)
    )
    by_row.count()
    try:
        # Coordinated groups, on the driver, from the cached posts (a scan of a few columns).
        step("coordinated groups")
        coordinated = coordinated_part(by_row, detector)
        step("candidate edges, verification, components")
        candidates = candidate_edges(posts.select("row", "keys"), partitions=parts)
        need = math.ceil(detector.finder.threshold * detector.finder.num_perm - 1e-9)
        edges = verified_edges(candidates, by_row, num_perm=detector.finder.num_perm, need=need)
        components = keep(connected_components(edges, checkpoint=keep))
        step("cluster ids")
        ids = dense_index(components, "root", "cluster", checkpoint=keep)

        # 4. Per cluster: statistics, cluster features and labels, batch accounts.
        step("cluster statistics and labels")
        members = components.join(ids, "root").select("row", "root", "cluster")
        cluster_part = keep(
            members.join(by_row.select("row", "id", "author", "time", "digest", *_ACCOUNT_FIELDS), "row")
            .repartition(parts, "root")
            .mapInArrow(
                partial(_with_detector, step=P.score_clusters, shared=shared, facts=facts), _spark_schema(P.CLUSTER_SCHEMA)
            )
        )

        # 5. Festival templates shared across accounts (only posts that name a festival).
        # The sender's display name is masked in its skeleton, as one machine does.
        sender = ["author_name"] if "author_name" in facts.present else []
        template_part = (
            posts.where(F.col("skel").isNotNull())
            .select("row", "skel", "id", "text", "author", "time", *sender)
            .repartition(parts, "skel")
            .select("row", "id", "text", "author", "time", *sender)
            .mapInArrow(partial(_with_detector, step=P.score_templates, shared=shared), _spark_schema(P.TEMPLATE_SCHEMA))
        )

        # 6. Per account: the remaining criteria, then every post's decision. Each part moves once,
        # to its account's task, where the parts of a post meet by row.
        step("templates, accounts, scores")
        post_fields = ["id", "text", "time", "tvals", "text_labels", "text_reasons", "hvals", "hol_labels", "hol_reasons"]
        by_author = (
            posts.select("row", "author", F.struct(*post_fields).alias("post"))
            .unionByName(
                cluster_part.select("row", "author", F.struct(*P.CLUSTER_PART, *P.REP_PART).alias("cl")),
                allowMissingColumns=True,
            )
            .unionByName(
                template_part.select("row", "author", F.struct("hvals", "hol_labels", "hol_reasons").alias("tp")),
                allowMissingColumns=True,
            )
            .unionByName(
                coordinated.select("row", "author", F.struct("covals", "co_reason").alias("co")), allowMissingColumns=True
            )
        )
        names = P.feature_names(detector)
        scored_schema = P.scored_schema(names.all, features=features)
        scored_rows = keep(
            by_author.repartition(parts, "author").mapInArrow(
                partial(_with_detector, step=P.score_posts, shared=shared, facts=facts, features=features),
                _spark_schema(scored_schema),
            )
        )
    finally:
        by_row.unpersist()
    output = [f.name for f in scored_schema if f.name not in ("row", "rep")]
    scored = scored_rows.orderBy("row").select(*output)
    clusters = _clusters(scored_rows)
    return SparkResult(
        scored=scored,
        clusters=clusters,
        rejects=rejects.orderBy("line"),
        rows_read=rows_read,
        blank_lines=blank_lines,
        numbered=scored_rows.select("row", *output),
        last_row=last_row,
    )


class _Steps:
    """Names the Spark jobs of each stage (``spamflood: <stage>``), as the Spark UI, the event
    log and the history server show them."""

    def __init__(self, spark: SparkSession) -> None:
        self.context = spark.sparkContext

    def __call__(self, name: str | None) -> None:
        self.context.setJobDescription(None if name is None else f"spamflood: {name}")  # type: ignore[arg-type]  # None clears it


def _rejects(numbered: DataFrame, duplicates: DataFrame | None) -> DataFrame:
    parsed = numbered.where(F.col("kind") == P.KIND_REJECT).select(
        F.col("row").alias("line"), "field", "reason", "raw"
    )
    if duplicates is None:
        return parsed
    reason = F.format_string("duplicate id '%s' (first seen on line %d)", F.col("id"), F.col("first_row"))
    dropped = duplicates.select(
        F.col("row").alias("line"), F.lit("id").alias("field"), reason.alias("reason"), "id", "text", "author", "time"
    ).mapInArrow(P.duplicate_raw, "line long, field string, reason string, raw string")
    return parsed.unionByName(dropped)


def _feed_facts(posts: DataFrame) -> P.FeedFacts:
    """The optional account fields the feed has, and its accounts with a timed post and with a
    time off the whole minute (a post whose author is its own id is no account)."""
    account = _is_account()
    timed = account & F.col("time").isNotNull() & ~F.isnan("time")
    seconds = timed & (F.floor("time") % 60 != 0)
    row = posts.agg(
        *[F.count(F.col(name)).alias(name) for name in _ACCOUNT_FIELDS],
        F.countDistinct(F.when(timed, F.col("author"))).alias("_timed"),
        F.countDistinct(F.when(seconds, F.col("author"))).alias("_seconds"),
    ).first()
    if row is None:
        return P.FeedFacts()
    present = tuple(name for name in _ACCOUNT_FIELDS if row[name])
    return P.FeedFacts(present=present, seconds_accounts=(int(row["_timed"]), int(row["_seconds"])))


def _is_account() -> Any:
    """A post with an account: an author that is neither empty nor the post's own id (what a
    reader gives a post without one)."""
    return F.col("author").isNotNull() & (F.col("author") != "") & (F.col("author") != F.col("id"))


def _with_accounts(posts: DataFrame, facts: P.FeedFacts) -> P.FeedFacts:
    """``facts`` with each account's own ``batch_accounts`` evidence among all the feed's
    accounts (:func:`~spamflood.spark.partitions.measure_accounts`), which no task can measure
    on its part of the feed. One row per account (its author and the profile fields the feed
    has, from its last post) is collected to the driver and measured there; the evidence goes
    to the cluster and scoring tasks inside ``facts``. Without creation times there is no
    account rule to judge and nothing is collected."""
    if "author_created" not in facts.present:
        return facts
    fields = [name for name in P.PROFILE_FIELDS if name in facts.present]
    last = (
        posts.where(_is_account())
        .groupBy("author")
        .agg(F.max(F.struct("row", *fields)).alias("last"))  # rows are distinct: the account's last post
        .select("author", *(F.col(f"last.{name}").alias(name) for name in fields))
    )
    if hasattr(last, "toArrow"):
        profiles = last.toArrow()
    else:  # pragma: no cover - PySpark 3.5
        batches = last._collect_as_arrow()  # type: ignore[operator]
        if not batches:
            return facts
        profiles = pa.Table.from_batches(batches)
    return replace(facts, accounts=P.measure_accounts(profiles))


def _clusters(scored: DataFrame) -> DataFrame:
    """One row per cluster, as ``spamflood clusters`` writes them, from the scored posts: the
    representative carries the cluster's statistics and text, the members its labels."""
    members = scored.where(F.col("cluster").isNotNull())
    label_counts = (
        members.select("cluster", F.explode("labels").alias("label"))
        .groupBy("cluster", "label")
        .agg(F.count(F.lit(1)).alias("k"))
        .groupBy("cluster")
        .agg(F.array_sort(F.collect_list(F.struct((-F.col("k")).alias("k"), F.col("label")))).alias("ranked"))
        .select("cluster", F.expr("transform(ranked, x -> x.label)").alias("labels"))
    )
    per_cluster = members.groupBy("cluster").agg(
        F.max("score").alias("max_score"), F.max(F.array_contains("labels", "mass_share")).alias("flood")
    )
    representatives = scored.where(F.col("rep").isNotNull()).select(
        "cluster",
        "rep.size",
        "rep.authors",
        "rep.first_time",
        "rep.last_time",
        "rep.span",
        "rep.peak_posts",
        "rep.peak_authors",
        "rep.window",
        F.col("id").alias("representative_id"),
        F.col("rep.text").alias("representative_text"),
    )
    return (
        representatives.join(per_cluster, "cluster")
        .join(label_counts, "cluster", "left")
        .select(
            "cluster",
            "size",
            "authors",
            "first_time",
            "last_time",
            "span",
            "peak_posts",
            "peak_authors",
            "window",
            "flood",
            F.coalesce("labels", F.array().cast("array<string>")).alias("labels"),
            "max_score",
            "representative_id",
            "representative_text",
        )
        .orderBy(F.col("flood").desc(), F.col("authors").desc(), F.col("size").desc(), F.col("cluster"))
    )


def score_parquet(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    *,
    rejects_path: str | None = None,
    clusters_path: str | None = None,
    mode: str = "errorifexists",
    **options: Any,
) -> dict[str, Any]:
    """Score a Parquet feed (a file or a folder of files, any filesystem Spark reads) and write
    Parquet: the scored posts to ``output_path``, the rejects to ``rejects_path`` (default
    ``<output>.rejects.parquet`` beside it) and, when ``clusters_path`` is given, the clusters.

    ``mode`` is Spark's save mode (``errorifexists``, ``overwrite``). Other keyword arguments go
    to :func:`score_dataframe`. Returns the run's summary counts and the paths written.
    """
    df = spark.read.parquet(input_path)
    result = score_dataframe(spark, df, **options)
    step = _Steps(spark)
    step("write")
    result.scored.write.mode(mode).parquet(output_path)
    rejects_path = rejects_path or _beside(output_path, ".rejects.parquet")
    result.rejects.write.mode(mode).parquet(rejects_path)
    if clusters_path:
        result.clusters.write.mode(mode).parquet(clusters_path)
    step("summary")
    # Counted from what was written: reading Parquet back is cheaper than recomputing the plans.
    written = SparkResult(
        scored=spark.read.parquet(output_path),
        clusters=spark.read.parquet(clusters_path) if clusters_path else result.clusters,
        rejects=spark.read.parquet(rejects_path),
        rows_read=result.rows_read,
        blank_lines=result.blank_lines,
    )
    summary: dict[str, Any] = dict(written.summary())
    step(None)
    summary.update({"output": output_path, "rejects": rejects_path, "clusters_path": clusters_path})
    return summary


def _beside(path: str, suffix: str) -> str:
    name = path.rstrip("/")
    for ext in (".parquet", ".pq"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return name + suffix if "://" in name else str(Path(name).with_name(Path(name).name + suffix))
