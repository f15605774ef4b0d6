"""The work Spark hands to Python: pure functions from Arrow data to Arrow data.

Each function here runs inside one Spark task (``mapInArrow``) on the rows Spark routed to it,
with the same NumPy/numba code as one machine (:mod:`spamflood.detector`), so that both engines
compute the same numbers. None of them imports pyspark: they take and return ``pyarrow`` data
and can be called (and tested) without a cluster.

Why each step is exact on a part of the feed:

* :func:`prepare` (any partition): validation, normalization, signatures, band keys and the
  text criteria read one post at a time.
* :func:`score_clusters` (partitions holding whole clusters): cluster statistics, the rule
  scorer and ``batch_accounts`` read only the posts of one cluster.
* :func:`score_templates` (partitions holding whole festival-template skeletons): the shared
  template count of ``holiday_template`` reads only the posts with one skeleton.
* :func:`score_posts` (partitions holding whole accounts): ``chicken_soup`` and
  ``auto_posting`` read only one account's posts; then every label's strength is combined into
  the post's score, labels and reasons as :class:`~spamflood.detector.Detector` does.

Values that depend on the whole feed (which optional account fields it has at all, whether its
times carry seconds) are measured once over the feed and passed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from spamflood.cluster import band_keys, cluster_stats, signature_digest
from spamflood.criteria import holiday_template
from spamflood.criteria.registry import FAMILIES
from spamflood.detector import (
    BATCH_FAMILIES,
    CRITERIA_STRENGTH,
    TEXT_FAMILIES,
    Detector,
    _Criteria,
    _criteria_reasons,
    _explain,
)
from spamflood.durations import human_duration
from spamflood.io.rows import RawRow, RowParser
from spamflood.normalize import normalize_many, shingle_many
from spamflood.posts import ACCOUNT_NUMBER_FIELDS, ACCOUNT_TEXT_FIELDS, PostBatch
from spamflood.scoring import combine

__all__ = [
    "CLUSTER_SCHEMA",
    "EDGE_SCHEMA",
    "KIND_POST",
    "KIND_REJECT",
    "PREPARED_SCHEMA",
    "SCORED_SCHEMA",
    "TEMPLATE_SCHEMA",
    "FeedFacts",
    "duplicate_raw",
    "prepare",
    "score_clusters",
    "score_posts",
    "score_templates",
    "verify_edges",
]

KIND_POST, KIND_REJECT = 0, 1
"""Values of the ``kind`` column of :data:`PREPARED_SCHEMA`: a valid post, or a rejected row."""

_STRINGS = pa.list_(pa.string())
_ACCOUNT_FIELDS: list[tuple[str, pa.DataType]] = [(n, pa.string()) for n in ACCOUNT_TEXT_FIELDS] + [
    (n, pa.float64()) for n in ACCOUNT_NUMBER_FIELDS
]

PREPARED_SCHEMA = pa.schema(
    [
        ("kind", pa.int8()),
        ("pid", pa.int32()),
        ("local", pa.int64()),
        ("id", pa.string()),
        ("text", pa.string()),
        ("author", pa.string()),
        ("time", pa.float64()),
        *_ACCOUNT_FIELDS,
        ("sig", pa.binary()),
        ("keys", pa.list_(pa.int64())),
        ("digest", pa.int64()),
        ("text_labels", _STRINGS),
        ("text_reasons", _STRINGS),
        ("hol_labels", _STRINGS),
        ("hol_reasons", _STRINGS),
        ("skel", pa.string()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
"""One row per input row: a post (``kind`` 0) with its signature, band keys and row-local
criteria, or a reject (``kind`` 1) with its field, reason and raw text. ``pid``/``local`` say
where the row was (partition, 1-based position in it), from which the engine numbers rows.
Missing numbers are null (not NaN)."""

EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])

CLUSTER_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("root", pa.int64()),
        ("size", pa.int64()),
        ("authors", pa.int64()),
        ("mass", pa.float64()),
        ("mass_reason", pa.string()),
        ("rep", pa.float64()),
        ("rep_reason", pa.string()),
        ("ba_labels", _STRINGS),
        ("ba_reasons", _STRINGS),
        ("is_rep", pa.bool_()),
        ("first_time", pa.string()),
        ("last_time", pa.string()),
        ("span", pa.string()),
        ("peak_posts", pa.int64()),
        ("peak_authors", pa.int64()),
        ("window", pa.string()),
    ]
)
"""Per clustered post: its cluster (by root row) and the cluster-label strengths and reasons;
on the cluster's representative post (``is_rep``) also the cluster's statistics."""

TEMPLATE_SCHEMA = pa.schema([("row", pa.int64()), ("hol_labels", _STRINGS), ("hol_reasons", _STRINGS)])

SCORED_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("id", pa.string()),
        ("score", pa.float64()),
        ("flagged", pa.bool_()),
        ("labels", _STRINGS),
        ("reasons", _STRINGS),
        ("root", pa.int64()),
        ("cluster_size", pa.int64()),
        ("cluster_authors", pa.int64()),
    ]
)


@dataclass(frozen=True)
class FeedFacts:
    """What the batch criteria need to know about the whole feed, measured once.

    ``present``: the optional account fields that at least one valid post has (one machine
    leaves a field out of the criteria when no post has it). ``has_seconds``: some post's time
    is not on a whole minute (``auto_posting`` ignores :00 seconds in a feed without seconds).
    """

    present: tuple[str, ...] = ()
    has_seconds: bool = False


# --------------------------------------------------------------------------- helpers


def _table(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    batches = list(batches)
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


def _floats(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric Arrow column as float64 with NaN for null."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> null


def _post_labels(criteria: _Criteria, n: int) -> tuple[list[list[str]], list[list[str]]]:
    """Per post: the criteria labels that fired (registry order) and their reason sentences."""
    sentences = _criteria_reasons(criteria.evidence)
    labels: list[list[str]] = [[] for _ in range(n)]
    reasons: list[list[str]] = [[] for _ in range(n)]
    for label in FAMILIES:
        fired = criteria.fired.get(label)
        if fired is None:
            continue
        said = sentences.get(label, {})
        for i in np.flatnonzero(fired).tolist():
            labels[i].append(label)
            reasons[i].append(said.get(i, label))
    return labels, reasons


def _frame(columns: Mapping[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(dict(columns))


def _sorted_by_row(table: pa.Table) -> pa.Table:
    return table.sort_by("row") if table.num_rows else table


# --------------------------------------------------------------------------- prepare


def prepare(
    batches: Iterable[pa.RecordBatch], parser: RowParser, detector: Detector, *, partition: int = 0
) -> Iterator[pa.RecordBatch]:
    """Validate, normalize and sign the input rows of one partition (:data:`PREPARED_SCHEMA`).

    Every input row comes out once, as a post or as a reject; rows are numbered 1, 2, ...
    within the partition in ``local``.
    """
    seen = 0
    for batch in batches:
        records = batch.to_pylist()
        rows: list[RawRow] = [(seen + k + 1, record) for k, record in enumerate(records)]
        seen += len(records)
        if rows:
            yield prepare_rows(rows, parser, detector, partition)


def prepare_rows(rows: Sequence[RawRow], parser: RowParser, detector: Detector, partition: int = 0) -> pa.RecordBatch:
    """:func:`prepare` for one list of raw rows ``(local line, record)``."""
    posts, rejects = parser.parse_many(rows)
    batch = PostBatch.from_posts(posts)
    n = len(batch)
    # As Detector._prepare_chunk: normalize once, shingle from that, sign.
    normalized = normalize_many(batch.texts)
    shingled = shingle_many(normalized, normalized=True)
    sig = detector.hasher.signatures(shingled)
    clusterable = np.fromiter((len(s) > 0 for s in shingled), dtype=np.bool_, count=n)
    keys = band_keys(sig, detector.finder.bands, detector.finder.rows).view(np.int64)
    digest = signature_digest(sig).view(np.int64)
    empty: list[list[str]] = [[] for _ in range(n)]
    text_labels, text_reasons = empty, empty
    hol_labels, hol_reasons = empty, empty
    skel: list[str | None] = [None] * n
    if detector.criteria and n:
        text = _Criteria.compute(normalized, None, TEXT_FAMILIES, detector.tz, normalized=True)
        text_labels, text_reasons = _post_labels(text, n)
        frame = _frame({"text": normalized, "author": batch.authors, "time": batch.times})
        holiday = _Criteria.compute(frame, None, ("holiday_template",), detector.tz, normalized=True)
        hol_labels, hol_reasons = _post_labels(holiday, n)
        skel = _template_keys(holiday, normalized, batch.texts)
    key_list = [keys[i].tolist() if clusterable[i] else None for i in range(n)]
    m = len(rejects)
    columns: dict[str, Any] = {
        "kind": [KIND_POST] * n + [KIND_REJECT] * m,
        "pid": [partition] * (n + m),
        "local": batch.lines.tolist() + [r.line for r in rejects],
        "id": batch.ids + [None] * m,
        "text": batch.texts + [None] * m,
        "author": batch.authors + [None] * m,
        "time": np.concatenate([batch.times, np.full(m, np.nan)]),
    }
    for name in ACCOUNT_TEXT_FIELDS:
        columns[name] = list(getattr(batch, name)) + [None] * m
    for name in ACCOUNT_NUMBER_FIELDS:
        columns[name] = np.concatenate([getattr(batch, name), np.full(m, np.nan)])
    columns.update(
        {
            "sig": [sig[i].tobytes() for i in range(n)] + [None] * m,
            "keys": key_list + [None] * m,
            "digest": digest.tolist() + [None] * m,
            "text_labels": text_labels + [None] * m,
            "text_reasons": text_reasons + [None] * m,
            "hol_labels": hol_labels + [None] * m,
            "hol_reasons": hol_reasons + [None] * m,
            "skel": skel + [None] * m,
            "field": [None] * n + [r.field for r in rejects],
            "reason": [None] * n + [r.reason for r in rejects],
            "raw": [None] * n + [r.raw for r in rejects],
        }
    )
    arrays = []
    for f in PREPARED_SCHEMA:
        value = columns[f.name]
        arrays.append(_nullable(value) if f.type == pa.float64() else pa.array(value, type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=PREPARED_SCHEMA)


def _template_keys(holiday: _Criteria, normalized: list[str], originals: list[str]) -> list[str | None]:
    """The festival-template skeleton of each post whose template count needs other posts.

    ``holiday_template`` counts the accounts sharing a skeleton among the posts that name a
    festival, skipping skeletons with no masked slot or fewer than ``MIN_SKELETON_CHARS``
    characters (those posts count 1 on their own). Those posts are final here; the others are
    scored again with every post of their skeleton (:func:`score_templates`).
    """
    mentions = holiday.values.get("HOLIDAY_TEMPLATE_FESTIVAL")
    out: list[str | None] = [None] * len(normalized)
    if mentions is None:
        return out
    for i in np.flatnonzero(mentions > 0).tolist():
        skel, slots = holiday_template.skeleton(normalized[i], originals[i])
        if slots and len(skel) >= holiday_template.MIN_SKELETON_CHARS:
            out[i] = skel
    return out


def duplicate_raw(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The rejects-file ``raw`` of posts dropped as duplicate ids, as one machine writes it.

    Input columns ``line, field, reason, id, text, author, time``; output ``line, field,
    reason, raw``.
    """
    for batch in batches:
        d = batch.to_pydict()
        times = _floats(batch.column("time"))
        raw = [
            json.dumps({"id": i, "text": t, "author": a, "time": float(tm)}, ensure_ascii=False)
            for i, t, a, tm in zip(d["id"], d["text"], d["author"], times)
        ]
        yield pa.RecordBatch.from_pydict(
            {"line": d["line"], "field": d["field"], "reason": d["reason"], "raw": raw},
            schema=pa.schema(
                [("line", pa.int64()), ("field", pa.string()), ("reason", pa.string()), ("raw", pa.string())]
            ),
        )


# --------------------------------------------------------------------------- edges


def verify_edges(batches: Iterable[pa.RecordBatch], num_perm: int, need: int) -> Iterator[pa.RecordBatch]:
    """Keep the candidate edges whose ends agree on at least ``need`` of ``num_perm`` values.

    Input columns ``src, dst, src_sig, dst_sig`` (signatures as raw uint32 bytes); the estimated
    Jaccard test is :class:`~spamflood.cluster.ClusterFinder`'s, vectorised over the batch.
    """
    for batch in batches:
        n = batch.num_rows
        if not n:
            continue
        a = _signature_matrix(batch.column("src_sig"), n, num_perm)
        b = _signature_matrix(batch.column("dst_sig"), n, num_perm)
        keep = np.count_nonzero(a == b, axis=1) >= need
        yield pa.RecordBatch.from_arrays(
            [batch.column("src").filter(pa.array(keep)), batch.column("dst").filter(pa.array(keep))], schema=EDGE_SCHEMA
        )


def _signature_matrix(column: pa.Array, n: int, num_perm: int) -> np.ndarray:
    # A binary column's data buffer holds the rows back to back; every row has num_perm values.
    if column.null_count:
        raise ValueError("a candidate edge has an end without a signature")
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset : column.offset + n + 1]
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view(np.uint32).reshape(n, num_perm)


# --------------------------------------------------------------------------- clusters


def score_clusters(
    batches: Iterable[pa.RecordBatch], detector: Detector, facts: FeedFacts
) -> Iterator[pa.RecordBatch]:
    """Cluster statistics, ``mass_share``/``repetition`` and ``batch_accounts`` for whole clusters.

    Input: every post of some clusters with ``row, root`` (the cluster's smallest row), ``id,
    text, author, time, digest`` and the account fields. Output: :data:`CLUSTER_SCHEMA`.
    """
    table = _sorted_by_row(_table(batches))
    if not table.num_rows:
        return
    roots = table.column("root").to_numpy()
    # Roots are the clusters' first rows, so sorted roots number clusters by first post.
    _, labels = np.unique(roots, return_inverse=True)
    labels = labels.astype(np.int64)
    authors = table.column("author").to_pylist()
    codes_table: dict[str, int] = {}
    codes = np.fromiter((codes_table.setdefault(a, len(codes_table)) for a in authors), dtype=np.int64, count=len(authors))
    times = _floats(table.column("time"))
    digests = table.column("digest").to_numpy().view(np.uint64)
    stats = cluster_stats(labels, times, codes, window=detector.window, digests=digests)
    scores = detector.rules.score(stats, codes, authors, times)
    n = table.num_rows
    ba_labels: list[list[str]] = [[] for _ in range(n)]
    ba_reasons: list[list[str]] = [[] for _ in range(n)]
    if detector.criteria:
        frame = _criteria_frame(table, facts.present)
        accounts = _Criteria.compute(frame, labels, ("batch_accounts",), detector.tz)
        ba_labels, ba_reasons = _post_labels(accounts, n)
    is_rep = np.zeros(n, dtype=bool)
    is_rep[stats.representative] = True
    nothing: list[Any] = [None] * n
    first, last, span, peak_posts, peak_authors, window = (list(nothing) for _ in range(6))
    for c, i in enumerate(stats.representative.tolist()):
        first[i] = _iso(float(stats.first_time[c]))
        last[i] = _iso(float(stats.last_time[c]))
        span[i] = human_duration(float(stats.last_time[c] - stats.first_time[c]))
        peak_posts[i] = int(stats.peak_posts[c])
        peak_authors[i] = int(stats.peak_authors[c])
        window[i] = human_duration(stats.window)
    mass_reason, rep_reason = scores.reasons["mass_share"], scores.reasons["repetition"]
    yield pa.RecordBatch.from_pydict(
        {
            "row": table.column("row").to_pylist(),
            "root": roots.tolist(),
            "size": stats.size[labels].tolist(),
            "authors": stats.authors[labels].tolist(),
            "mass": scores.strength["mass_share"].tolist(),
            "mass_reason": [mass_reason.get(i) for i in range(n)],
            "rep": scores.strength["repetition"].tolist(),
            "rep_reason": [rep_reason.get(i) for i in range(n)],
            "ba_labels": ba_labels,
            "ba_reasons": ba_reasons,
            "is_rep": is_rep.tolist(),
            "first_time": first,
            "last_time": last,
            "span": span,
            "peak_posts": peak_posts,
            "peak_authors": peak_authors,
            "window": window,
        },
        schema=CLUSTER_SCHEMA,
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def _criteria_frame(table: pa.Table, present: Sequence[str]) -> Any:
    """The posts as the criteria read them: text, author, time and the account fields the
    whole feed has (a field no post has is left out, as one machine does)."""
    columns: dict[str, Any] = {
        "text": table.column("text").to_pylist(),
        "author": table.column("author").to_pylist(),
        "time": _floats(table.column("time")),
    }
    for name in ACCOUNT_TEXT_FIELDS:
        if name in present:
            columns[name] = table.column(name).to_pylist()
    for name in ACCOUNT_NUMBER_FIELDS:
        if name in present:
            columns[name] = _floats(table.column(name))
    return _frame(columns)


# --------------------------------------------------------------------------- festival templates


def score_templates(batches: Iterable[pa.RecordBatch], detector: Detector) -> Iterator[pa.RecordBatch]:
    """``holiday_template`` for posts whose festival skeleton other posts may share.

    Input: every such post of some skeletons (``row, text, author, time``). Output:
    :data:`TEMPLATE_SCHEMA`.
    """
    table = _sorted_by_row(_table(batches))
    if not table.num_rows:
        return
    frame = _criteria_frame(table, ())
    holiday = _Criteria.compute(frame, None, ("holiday_template",), detector.tz)
    labels, reasons = _post_labels(holiday, table.num_rows)
    yield pa.RecordBatch.from_pydict(
        {"row": table.column("row").to_pylist(), "hol_labels": labels, "hol_reasons": reasons}, schema=TEMPLATE_SCHEMA
    )


# --------------------------------------------------------------------------- the score


# A time on a whole second that is not a whole minute, for the stand-in post below.
_SECONDS_PROBE_TIME = 1.0
_PROBE_AUTHOR = "\x00spamflood-probe"


def score_posts(batches: Iterable[pa.RecordBatch], detector: Detector, facts: FeedFacts) -> Iterator[pa.RecordBatch]:
    """The per-account criteria, then every post's score, labels and reasons.

    Input: every post of some accounts with ``row, id, text, author, time``, the account
    fields, ``text_labels/text_reasons``, ``hol_labels/hol_reasons`` and, for clustered posts,
    the columns of :data:`CLUSTER_SCHEMA` (null elsewhere). Output: :data:`SCORED_SCHEMA`
    (score rounded to 6 decimals as the CLI writes it).
    """
    table = _sorted_by_row(_table(batches))
    n = table.num_rows
    if not n:
        return
    mass = np.nan_to_num(_floats(table.column("mass")), nan=0.0)
    rep = np.nan_to_num(_floats(table.column("rep")), nan=0.0)
    strength: dict[str, np.ndarray] = {"mass_share": mass, "repetition": rep}
    reasons: dict[str, dict[int, str]] = {
        "mass_share": _present(table.column("mass_reason").to_pylist()),
        "repetition": _present(table.column("rep_reason").to_pylist()),
    }
    if detector.criteria:
        fired: dict[str, np.ndarray] = {}
        said: dict[str, dict[int, str]] = {}
        for prefix in ("text", "hol", "ba"):
            _collect(table.column(f"{prefix}_labels").to_pylist(), table.column(f"{prefix}_reasons").to_pylist(), fired, said, n)
        account_labels, account_reasons = _account_criteria(table, detector, facts)
        _collect(account_labels, account_reasons, fired, said, n)
        # Same order as Detector._score: text families, then batch families, registry order.
        for families in (TEXT_FAMILIES, BATCH_FAMILIES):
            for label in FAMILIES:
                if label in families:
                    strength[label] = np.where(fired.get(label, np.zeros(n, dtype=bool)), CRITERIA_STRENGTH, 0.0)
        reasons.update(said)
    score = combine(strength, n)
    post_labels, post_reasons = _explain(strength, reasons, n)
    root = table.column("root")
    size = np.nan_to_num(_floats(table.column("size")), nan=1.0).astype(np.int64)
    authors = np.nan_to_num(_floats(table.column("authors")), nan=1.0).astype(np.int64)
    yield pa.RecordBatch.from_pydict(
        {
            "row": table.column("row").to_pylist(),
            "id": table.column("id").to_pylist(),
            "score": [round(float(s), 6) for s in score],
            "flagged": (score >= detector.threshold).tolist(),
            "labels": post_labels,
            "reasons": post_reasons,
            "root": root.to_pylist(),
            "cluster_size": size.tolist(),
            "cluster_authors": authors.tolist(),
        },
        schema=SCORED_SCHEMA,
    )


def _present(values: list[str | None]) -> dict[int, str]:
    return {i: v for i, v in enumerate(values) if v is not None}


def _collect(
    labels: Sequence[Sequence[str] | None],
    reasons: Sequence[Sequence[str] | None],
    fired: dict[str, np.ndarray],
    said: dict[str, dict[int, str]],
    n: int,
) -> None:
    for i, (names, sentences) in enumerate(zip(labels, reasons)):
        for name, sentence in zip(names or (), sentences or ()):
            fired.setdefault(name, np.zeros(n, dtype=bool))[i] = True
            said.setdefault(name, {})[i] = sentence


def _account_criteria(table: pa.Table, detector: Detector, facts: FeedFacts) -> tuple[list[list[str]], list[list[str]]]:
    """``chicken_soup`` and ``auto_posting`` over whole accounts.

    ``auto_posting`` reads :00 seconds only when some time in the *feed* has seconds; when this
    part of the feed has none but the feed has, one stand-in post by an account of its own at
    00:00:01 tells it so (its own values are dropped; no other account's change).
    """
    n = table.num_rows
    frame = _criteria_frame(table, ())
    times = frame["time"].to_numpy()
    known = times[~np.isnan(times)]
    local_seconds = bool(np.any(np.floor(known) % 60 != 0))
    if facts.has_seconds and not local_seconds:
        import pandas as pd

        probe = pd.DataFrame({"text": [""], "author": [_PROBE_AUTHOR], "time": [_SECONDS_PROBE_TIME]})
        frame = pd.concat([frame, probe], ignore_index=True)
    accounts = _Criteria.compute(frame, None, ("chicken_soup", "auto_posting"), detector.tz)
    labels, reasons = _post_labels(accounts, len(frame))
    return labels[:n], reasons[:n]
