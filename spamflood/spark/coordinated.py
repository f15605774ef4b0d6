"""Coordinated groups on Spark: found on the driver by one machine's :class:`~spamflood.coordination.Coordination`.

A group joins accounts that co-posted objects (links, hashtags, mentions, reposted posts)
within the coordination interval, again and again, and an edge needs its co-posts to be a
share of *all* each account's occasions: no partition by account, object or time holds what
one group reads. What it reads is small next to the posts, though: per post that carries an
object, its row, id, author, time, objects as written (:func:`~spamflood.coordination.objects_as_written`,
kept by :func:`~spamflood.spark.partitions.prepare` on the executors) and reposted id.
:func:`coordinated_part` collects those to the driver, runs ``Coordination.findings`` on
them (the batch detector's own code, with its ``interval`` and ``min_coposts``) and hands
back the posts of the groups with their feature values and reasons, to be joined to their
accounts' scoring step.

Why the driver's groups are one machine's: the stand-in texts give :func:`~spamflood.coordination.post_objects`
the same objects in the same order, and the posts keep their input order (rows), so objects
are numbered and first written as on one machine; a post without an object adds nothing
to a group or to an account's occasions. Posts left out (no object) get the values one
machine gives them: 0, or NaN where the author or time is unknown.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spamflood.detector import Detector
from spamflood.posts import PostBatch
from spamflood.spark import partitions as P

__all__ = ["COLLECTED_COLUMNS", "coordinated_part", "group_posts"]

COLLECTED_COLUMNS: tuple[str, ...] = ("row", "id", "author", "time", "objects", "repost_of")
"""What comes to the driver, per post carrying an object."""


def coordinated_part(posts: DataFrame, detector: Detector) -> DataFrame:
    """The posts of ``posts`` (the prepared, deduplicated posts, or any table with their
    :data:`COLLECTED_COLUMNS`) that belong to a coordinated group, as :data:`~spamflood.spark.partitions.COORDINATED_SCHEMA` rows; collects the posts
    that carry an object to the driver (see the module docstring)."""
    carrying = posts.where(F.col("objects").isNotNull() | F.col("repost_of").isNotNull()).select(*COLLECTED_COLUMNS)
    table = _arrow(carrying)
    found = group_posts(table, detector)
    spark = posts.sparkSession
    if hasattr(posts, "toArrow"):  # PySpark 4 takes Arrow tables
        return spark.createDataFrame(found, schema=_ddl())
    return spark.createDataFrame(found.to_pandas(), schema=_ddl())  # pragma: no cover - PySpark 3.5


def group_posts(table: pa.Table, detector: Detector) -> pa.Table:
    """``Coordination.findings`` over the collected posts (:data:`COLLECTED_COLUMNS`, any
    order): the rows of the groups' posts with their feature values and, where the label fired,
    its reason (:data:`~spamflood.spark.partitions.COORDINATED_SCHEMA`)."""
    if table.num_rows:
        table = table.sort_by("row")
    n = table.num_rows
    texts = [text or "" for text in table.column("objects").to_pylist()]
    nothing: list[str | None] = [None] * n
    nan = np.full(n, np.nan)
    batch = PostBatch(
        ids=table.column("id").to_pylist(),
        texts=texts,
        authors=table.column("author").to_pylist(),
        times=np.asarray(table.column("time").to_numpy(zero_copy_only=False), dtype=np.float64),
        lines=np.asarray(table.column("row").to_numpy(), dtype=np.int64),
        author_name=nothing,
        author_bio=list(nothing),
        repost_of=table.column("repost_of").to_pylist(),
        author_created=nan,
        followers=nan.copy(),
        following=nan.copy(),
        statuses=nan.copy(),
    )
    values, fired, sentences = detector.coordination.findings(batch)
    names = P.feature_names(detector).coordinated
    mine = np.flatnonzero(values[names[0]] > 0)  # a group's post has its group's accounts, 0 elsewhere
    return pa.table(
        {
            "row": pa.array(batch.lines[mine], type=pa.int64()),
            "author": pa.array([batch.authors[i] for i in mine.tolist()], type=pa.string()),
            "covals": pa.array(np.column_stack([values[name][mine] for name in names]).tolist(), type=pa.list_(pa.float64())),
            "co_reason": pa.array([sentences[i] if fired[i] else None for i in mine.tolist()], type=pa.string()),
        },
        schema=P.COORDINATED_SCHEMA,
    )


def _arrow(df: DataFrame) -> pa.Table:
    if hasattr(df, "toArrow"):  # PySpark 4
        return df.toArrow()
    return pa.Table.from_batches(df._collect_as_arrow(), schema=None)  # type: ignore[operator]  # pragma: no cover - PySpark 3.5


def _ddl() -> str:
    return "row long, author string, covals array<double>, co_reason string"
