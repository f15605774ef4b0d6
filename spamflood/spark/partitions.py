"""The work Spark hands to Python: pure functions from Arrow data to Arrow data.

Each function here runs inside one Spark task (``mapInArrow``) on the rows Spark routed to it,
with the same NumPy/numba code as one machine (:mod:`spamflood.detector`), so that both engines
compute the same numbers. None of them imports pyspark: they take and return ``pyarrow`` data
and can be called (and tested) without a cluster.

Why each step is exact on a part of the feed:

* :func:`prepare` (any partition): validation, normalization, signatures, band keys, and the
  criteria features that read one post at a time (the text families, and festival copy for
  posts whose template no other post can share).
* :func:`verify_edges` (any partition): the estimated-Jaccard test of a candidate edge, which
  reads two signatures (:func:`~spamflood.cluster.fingerprint_words` rule most candidates out before that).
* :func:`score_clusters` (partitions holding whole clusters): cluster statistics, the cluster
  features, the rule scorer and ``batch_accounts`` read only the posts of one cluster.
* :func:`score_templates` (partitions holding whole festival-template skeletons): the shared
  template count of ``holiday_template`` reads only the posts with one skeleton.
* :func:`score_posts` (partitions holding whole accounts): ``chicken_soup`` and
  ``auto_posting`` read only one account's posts; then every feature and label strength of a
  post is handed to :meth:`~spamflood.detector.Detector.decide` (the rules, or the trained
  model) as one machine does, in the same order and with the same float64 values.

The ``coordinated`` groups span accounts and objects at once, so no partition holds one:
:func:`prepare` keeps each post's objects as written (:data:`PREPARED_SCHEMA` ``objects``),
and :mod:`spamflood.spark.coordinated` finds the groups from them on the driver
(:data:`COORDINATED_SCHEMA`).

Values that depend on the whole feed (which optional account fields it has at all, how many
accounts' times carry seconds, each account's creation burst among all the feed's accounts)
are measured once over the feed and passed in (:class:`FeedFacts`). A post whose
author is its own id (what a reader gives a post without an author) is no account here either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spamflood.accounts.evidence import AccountEvidence
from spamflood.accounts.table import AccountTable
from spamflood.chunks import prepare_chunk
from spamflood.cluster import (
    FINGERPRINT_BITS,
    band_keys,
    cluster_stats,
    fingerprint_words,
)
from spamflood.coordination import Coordination, objects_as_written
from spamflood.criteria import holiday_template
from spamflood.criteria.compute import resolve_parameters
from spamflood.criteria.context import columns_from
from spamflood.criteria.registry import FAMILIES
from spamflood.criteria.registry import feature_names as registry_feature_names
from spamflood.decision import (
    ACCOUNT_FAMILIES,
    CLUSTER_FAMILIES,
    FEED_WIDE_FAMILIES,
    POST_FAMILIES,
    WHOLE_BATCH_FAMILIES,
    Findings,
)
from spamflood.detector import Detector
from spamflood.durations import human_duration, human_span
from spamflood.io.rows import RawRow, RowParser
from spamflood.io.timestamps import iso_utc
from spamflood.normalize import normalize_many
from spamflood.posts import ACCOUNT_NUMBER_FIELDS, ACCOUNT_TEXT_FIELDS, PostBatch, dense_codes, unknown_authors

__all__ = [
    "CLUSTER_PART",
    "CLUSTER_SCHEMA",
    "COORDINATED_SCHEMA",
    "EDGE_SCHEMA",
    "FINGERPRINT_BITS",
    "KIND_BLANK",
    "KIND_POST",
    "KIND_REJECT",
    "LINE_COLUMN",
    "NUMBERED_COLUMNS",
    "PREPARED_SCHEMA",
    "PROFILE_FIELDS",
    "REP_PART",
    "REP_TYPE",
    "SOURCES",
    "TEMPLATE_SCHEMA",
    "FeatureNames",
    "FeedFacts",
    "duplicate_raw",
    "feature_names",
    "fingerprint_matches",
    "fingerprints",
    "measure_accounts",
    "prepare",
    "read_csv_files",
    "score_clusters",
    "score_posts",
    "score_templates",
    "scored_schema",
    "verify_edges",
]

KIND_POST, KIND_REJECT, KIND_BLANK = 0, 1, 2
"""Values of the ``kind`` column of :data:`PREPARED_SCHEMA`: a valid post, a rejected row, or
a blank line of a JSONL file (skipped, counted, and numbered so that later lines keep their
line numbers)."""

LINE_COLUMN = "_spamflood_line"
"""The one column of a JSONL feed read as lines (:func:`spamflood.spark.files.read_feed`): each
line's bytes, without its line end."""

NUMBERED_COLUMNS = ("_spamflood_file", "_spamflood_lineno", "_spamflood_record")
"""The columns of a feed whose rows are already numbered (CSV, read whole per file): the file's
index, the row's line in it, and the record as JSON (ASCII, so that the lone surrogates a CSV
reader keeps for invalid bytes travel intact)."""

SOURCES = ("records", "lines", "numbered")
"""What :func:`prepare` reads: rows of records (Parquet, any DataFrame), JSONL lines
(:data:`LINE_COLUMN`), or numbered records (:data:`NUMBERED_COLUMNS`)."""

TEXT_DTYPE = np.dtype(np.float32)
"""The dtype of the text families' features on one machine (``prepare_chunk`` computes them in
float32, which holds their small counts exactly): carried and handed to ``decide`` as such."""

_STRINGS = pa.list_(pa.string())
_FLOATS = pa.list_(pa.float64())
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
        ("fp", pa.list_(pa.int64())),
        ("keys", pa.list_(pa.int64())),
        ("digest", pa.int64()),
        ("tvals", pa.list_(pa.float32())),
        ("text_labels", _STRINGS),
        ("text_reasons", _STRINGS),
        ("hvals", _FLOATS),
        ("hol_labels", _STRINGS),
        ("hol_reasons", _STRINGS),
        ("skel", pa.string()),
        ("objects", pa.string()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
"""One row per input row: a post (``kind`` 0) with its signature (``sig``, raw uint32 bytes),
its fingerprint (``fp``), band keys and row-local criteria, or a reject (``kind`` 1) with its
field, reason and raw text. ``pid``/``local`` say where the row was (partition, 1-based
position in it), from which the engine numbers rows. ``tvals``/``hvals``: the values of the
text-family and ``holiday_template`` features in :func:`feature_names` order (NaN kept as NaN;
empty lists when the detector runs without criteria). ``objects``: the post's links, hashtags
and mentions as written, one space apart (:func:`~spamflood.coordination.objects_as_written`;
null where it has none). Missing numbers are null (not NaN)."""

EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])

CLUSTER_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("author", pa.string()),
        ("cluster", pa.int64()),
        ("size", pa.int64()),
        ("authors", pa.int64()),
        ("cvals", _FLOATS),
        ("mass", pa.float64()),
        ("mass_reason", pa.string()),
        ("rep", pa.float64()),
        ("rep_reason", pa.string()),
        ("bvals", _FLOATS),
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
"""Per clustered post: its cluster id, the cluster features (``cvals``) and ``batch_accounts``
values (``bvals``), the cluster-label strengths and reasons; on the cluster's representative
post (``is_rep``) also the cluster's statistics."""

COORDINATED_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("author", pa.string()),
        ("covals", _FLOATS),
        ("co_reason", pa.string()),
    ]
)
"""Per post of a coordinated group: the ``coordinated`` features (``covals``, in
:attr:`FeatureNames.coordinated` order) and the label's reason where it fired (null where the
group is too small for the label)."""

TEMPLATE_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("author", pa.string()),
        ("hvals", _FLOATS),
        ("hol_labels", _STRINGS),
        ("hol_reasons", _STRINGS),
    ]
)

REP_TYPE = pa.struct(
    [
        ("size", pa.int64()),
        ("authors", pa.int64()),
        ("first_time", pa.string()),
        ("last_time", pa.string()),
        ("span", pa.string()),
        ("peak_posts", pa.int64()),
        ("peak_authors", pa.int64()),
        ("window", pa.string()),
        ("text", pa.string()),
    ]
)
"""The cluster statistics and text carried by a cluster's representative post (null on others)."""


def scored_schema(names: Sequence[str] = (), *, features: bool = False) -> pa.Schema:
    """What :func:`score_posts` returns: the CLI's columns plus ``row`` and ``rep``; with
    ``features``, also ``label_scores`` (a map of the labels' sub-scores above 0) and
    ``features`` (one float per name in ``names``, null for NaN), as ``--features`` writes."""
    fields = [
        ("row", pa.int64()),
        ("id", pa.string()),
        ("score", pa.float64()),
        ("flagged", pa.bool_()),
        ("labels", _STRINGS),
        ("reasons", _STRINGS),
        ("cluster", pa.int64()),
        ("cluster_size", pa.int64()),
        ("cluster_authors", pa.int64()),
    ]
    if features:
        fields.append(("label_scores", pa.map_(pa.string(), pa.float64())))
        fields.append(("features", pa.struct([(name, pa.float64()) for name in names])))
    fields.append(("rep", REP_TYPE))
    return pa.schema(fields)


def _no_accounts() -> AccountEvidence:
    return AccountEvidence.empty(int(resolve_parameters(CLUSTER_FAMILIES)[1]["min_accounts"]))


@dataclass(frozen=True)
class FeedFacts:
    """What the batch criteria need to know about the whole feed, measured once.

    ``present``: the optional account fields that at least one valid post has (one machine
    leaves a field out of the criteria when no post has it). ``seconds_accounts``: the accounts
    with a timed post and those with a time off the whole minute, from which ``auto_posting``
    judges each account's timestamp precision by the *other* accounts of the feed
    (:func:`spamflood.criteria.auto_posting.second_precise`), as one machine does.
    ``accounts``: each account's own ``batch_accounts`` evidence among all the feed's accounts
    (:func:`measure_accounts`; none measured when the feed has no creation times).
    """

    present: tuple[str, ...] = ()
    seconds_accounts: tuple[int, int] = (0, 0)
    accounts: AccountEvidence = field(default_factory=_no_accounts)


PROFILE_FIELDS: tuple[str, ...] = ("author_name", "author_bio", "author_created", "followers", "following")
"""The profile fields the account rule of ``batch_accounts`` reads, one row per account."""


def measure_accounts(profiles: pa.Table) -> AccountEvidence:
    """Every account's own ``batch_accounts`` evidence among all the feed's accounts, from one
    row per account: ``author`` and the :data:`PROFILE_FIELDS` the feed has, as its newest post
    carries them (its last row). The same measure one machine takes over its batch
    (:meth:`AccountEvidence.measure`), so both engines quote the same facts."""
    names = set(profiles.column_names)

    def texts(name: str) -> list[str | None] | None:
        return profiles.column(name).to_pylist() if name in names else None

    def numbers(name: str) -> np.ndarray | None:
        return _floats(profiles.column(name)) if name in names else None

    table = AccountTable.from_profiles(
        profiles.column("author").to_pylist(),
        author_name=texts("author_name"),
        author_bio=texts("author_bio"),
        author_created=numbers("author_created"),
        followers=numbers("followers"),
        following=numbers("following"),
    )
    return AccountEvidence.measure(table, min_accounts=_no_accounts().min_accounts)


@dataclass(frozen=True)
class FeatureNames:
    """The named features :meth:`Detector.decide` receives, in one machine's order: the
    cluster features, the coordinated groups', then the text families', then the batch
    families' (``batch``)."""

    cluster: tuple[str, ...]
    coordinated: tuple[str, ...]
    text: tuple[str, ...]
    holiday: tuple[str, ...]
    batch: tuple[str, ...]
    batch_accounts: tuple[str, ...]
    accounts: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.cluster + self.coordinated + self.text + self.batch


@lru_cache(maxsize=8)
def _names(criteria: bool, tz: str) -> FeatureNames:
    empty = np.zeros(0, dtype=np.int64)
    from spamflood.scoring import RuleScorer

    cluster = tuple(RuleScorer().cluster_features(cluster_stats(empty, np.zeros(0), empty), empty))
    coordinated = tuple(Coordination().findings(PostBatch.empty())[0])
    if not criteria:
        return FeatureNames(cluster, coordinated, (), (), (), (), ())

    def of(families: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(registry_feature_names(resolve_parameters(families, tz=tz)[0]))

    return FeatureNames(
        cluster=cluster,
        coordinated=coordinated,
        text=of(POST_FAMILIES),
        holiday=of(FEED_WIDE_FAMILIES),
        batch=of(WHOLE_BATCH_FAMILIES),
        batch_accounts=of(CLUSTER_FAMILIES),
        accounts=of(ACCOUNT_FAMILIES),
    )


def feature_names(detector: Detector) -> FeatureNames:
    """The features ``detector`` hands to ``decide``, in the order one machine builds them."""
    return _names(bool(detector.criteria), str(detector.tz))


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


def _float_lists(columns: Sequence[np.ndarray], n: int, kind: pa.DataType = _FLOATS) -> pa.Array:
    """Per row, the values of ``columns`` as one list of ``kind`` (NaN stays NaN, not null)."""
    dtype = kind.value_type.to_pandas_dtype()
    k = len(columns)
    flat = np.column_stack(columns).reshape(-1) if k and n else np.zeros(0, dtype=dtype)
    offsets = np.arange(0, n * k + 1, k, dtype=np.int32) if k else np.zeros(n + 1, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat.astype(dtype, copy=False)), type=kind)


def _matrix(column: pa.Array | pa.ChunkedArray, n: int, k: int) -> np.ndarray:
    """A list column of floats whose lists all hold ``k`` values, as an (n, k) array of the
    lists' float type."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    dtype = column.type.value_type.to_pandas_dtype()
    if k == 0 or n == 0:
        return np.zeros((n, k), dtype=dtype)
    flat = np.array(pc.list_flatten(column).to_numpy(zero_copy_only=False), dtype=dtype)  # writable
    if flat.shape[0] != n * k:
        raise ValueError(f"expected {k} feature values per post, got {flat.shape[0]} for {n} posts")
    return flat.reshape(n, k)


def _post_labels(criteria: Findings, n: int) -> tuple[list[list[str]], list[list[str]]]:
    """Per post: the criteria labels that fired (registry order) and their reason sentences."""
    sentences = criteria.sentences
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


def _values(criteria: Findings, names: Sequence[str], n: int, dtype: Any = np.float64) -> list[np.ndarray]:
    """The feature columns ``names`` of ``criteria`` (NaN for one it lacks), checked to be of
    ``dtype``: carrying them in another could change a value."""
    out = []
    for name in names:
        column = criteria.values.get(name)
        if column is None:
            column = np.full(n, np.nan, dtype=dtype)
        elif column.dtype != np.dtype(dtype):
            raise TypeError(f"feature {name} is {column.dtype} on one machine; the Spark engine carries it as {np.dtype(dtype)}")
        out.append(column)
    return out


# --------------------------------------------------------------------------- prepare


def prepare(
    batches: Iterable[pa.RecordBatch],
    parser: RowParser,
    detector: Detector,
    *,
    partition: int = 0,
    source: str = "records",
) -> Iterator[pa.RecordBatch]:
    """Validate, normalize and sign the input rows of one partition (:data:`PREPARED_SCHEMA`).

    Every input row comes out once, as a post or as a reject (a blank JSONL line as a blank);
    rows are numbered 1, 2, ... within the partition in ``local`` (JSONL lines, blank ones
    included, as one machine numbers them), except ``numbered`` rows, which carry their file
    (``pid``) and line (``local``). See :data:`SOURCES`.
    """
    if source == "numbered":
        yield from _prepare_numbered(batches, parser, detector)
        return
    seen = 0
    for batch in batches:
        if source == "lines":
            # The payload is the line's bytes, as one machine's JSONL reader hands them over
            # (Spark's text reader drops the line end: orjson reads the same either way).
            lines = batch.column(0).to_pylist()
            rows, blank = [], []
            for number, line in enumerate(lines, start=seen + 1):
                if line.strip():
                    rows.append((number, line))
                else:
                    blank.append(number)
            seen += len(lines)
            if rows:
                yield prepare_rows(rows, parser, detector, partition)
            if blank:
                yield _blank_rows(blank, partition)
            continue
        records = batch.to_pylist()
        rows = [(seen + k + 1, record) for k, record in enumerate(records)]
        seen += len(records)
        if rows:
            yield prepare_rows(rows, parser, detector, partition)


def _prepare_numbered(batches: Iterable[pa.RecordBatch], parser: RowParser, detector: Detector) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        files = batch.column(0).to_pylist()
        lines = batch.column(1).to_pylist()
        records = batch.column(2).to_pylist()
        for file in dict.fromkeys(files):
            rows: list[RawRow] = [(line, json.loads(record)) for f, line, record in zip(files, lines, records) if f == file]
            yield prepare_rows(rows, parser, detector, file)


def read_csv_files(batches: Iterable[pa.RecordBatch], *, fmt: str, files: Mapping[str, int]) -> Iterator[pa.RecordBatch]:
    """CSV (or TSV) files as numbered records (:data:`NUMBERED_COLUMNS`), read by one machine's
    own reader (:func:`spamflood.io.readers.iter_chunks`: header, quoted line breaks, rows of
    the wrong width, the line each record starts on), one whole file per call.

    Input: Spark's ``binaryFile`` rows, ``path`` and, for a file not on a local filesystem,
    ``content``; ``files`` numbers the paths.
    """
    import tempfile
    from urllib.parse import unquote, urlparse

    from spamflood.io.readers import iter_chunks

    schema = pa.schema([(NUMBERED_COLUMNS[0], pa.int32()), (NUMBERED_COLUMNS[1], pa.int64()), (NUMBERED_COLUMNS[2], pa.string())])
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content").to_pylist() if "content" in batch.schema.names else [None] * len(paths)
        for path, content in zip(paths, contents):
            with tempfile.TemporaryDirectory(prefix="spamflood-csv-") as scratch:
                local = unquote(urlparse(path).path)
                if content is not None:  # a remote file: read through Spark, parsed here
                    local = f"{scratch}/feed.{fmt}" + (".gz" if path.endswith(".gz") else "")
                    with open(local, "wb") as handle:
                        handle.write(content)
                for chunk in iter_chunks(local, fmt=fmt):
                    yield pa.RecordBatch.from_arrays(
                        [
                            pa.array([files[path]] * len(chunk), type=pa.int32()),
                            pa.array([line for line, _ in chunk], type=pa.int64()),
                            pa.array([json.dumps(record, ensure_ascii=True) for _, record in chunk], type=pa.string()),
                        ],
                        schema=schema,
                    )


def _blank_rows(lines: Sequence[int], partition: int) -> pa.RecordBatch:
    n = len(lines)
    given = {"kind": pa.array([KIND_BLANK] * n, type=pa.int8()), "pid": pa.array([partition] * n, type=pa.int32()), "local": pa.array(lines, type=pa.int64())}
    return pa.RecordBatch.from_arrays([given.get(f.name, pa.nulls(n, type=f.type)) for f in PREPARED_SCHEMA], schema=PREPARED_SCHEMA)


def prepare_rows(rows: Sequence[RawRow], parser: RowParser, detector: Detector, partition: int = 0) -> pa.RecordBatch:
    """:func:`prepare` for one list of raw rows ``(local line, record)``.

    The chunk goes through one machine's own chunk step (:func:`spamflood.chunks.prepare_chunk`:
    parsing, normalization, signatures, one lexicon scan, the text features in its dtype), so
    both engines start from the same numbers; ``holiday_template`` then reads that chunk's scan
    as one machine's batch step does.
    """
    part = prepare_chunk(list(rows), parser, detector.hasher, POST_FAMILIES if detector.criteria else (), detector.tz)
    batch, sig, rejects = part.batch, part.signatures, part.rejects
    n = len(batch)
    names = feature_names(detector)
    keys = band_keys(sig, detector.finder.bands, detector.finder.rows).view(np.int64)
    digest = part.digests.view(np.int64)  # type: ignore[union-attr]
    fp = fingerprint_words(sig).view(np.int64)  # Spark has no unsigned longs; the JVM compares bits
    empty: list[list[str]] = [[] for _ in range(n)]
    text_labels, text_reasons = empty, empty
    hol_labels, hol_reasons = empty, empty
    text_values: list[np.ndarray] = []
    hol_values: list[np.ndarray] = []
    skel: list[str | None] = [None] * n
    if detector.criteria and n:
        text_labels, text_reasons = _post_labels(part.criteria, n)
        text_values = _values(part.criteria, names.text, n, TEXT_DTYPE)
        holiday = Findings.compute(batch, None, FEED_WIDE_FAMILIES, detector.tz, scan=part.scan)
        hol_labels, hol_reasons = _post_labels(holiday, n)
        hol_values = _values(holiday, names.holiday, n)
        skel = _template_keys(holiday, batch.texts, batch.author_name)
    key_list = [keys[i].tolist() if part.clusterable[i] else None for i in range(n)]
    objects = [found or None for found in objects_as_written(batch.texts)]
    m = len(rejects)
    none: list[Any] = [None] * m
    columns: dict[str, Any] = {
        "kind": [KIND_POST] * n + [KIND_REJECT] * m,
        "pid": [partition] * (n + m),
        "local": np.asarray(batch.lines).tolist() + [r.line for r in rejects],
        "id": list(batch.ids) + none,
        "text": list(batch.texts) + none,
        "author": list(batch.authors) + none,
        "time": np.concatenate([np.asarray(batch.times, dtype=np.float64), np.full(m, np.nan)]),
    }
    for name in ACCOUNT_TEXT_FIELDS:
        columns[name] = list(getattr(batch, name)) + none
    for name in ACCOUNT_NUMBER_FIELDS:
        columns[name] = np.concatenate([np.asarray(getattr(batch, name), dtype=np.float64), np.full(m, np.nan)])
    columns.update(
        {
            "sig": [sig[i].tobytes() for i in range(n)] + none,
            "fp": fp.tolist() + none,
            "keys": key_list + none,
            "digest": digest.tolist() + none,
            "text_labels": text_labels + none,
            "text_reasons": text_reasons + none,
            "hol_labels": hol_labels + none,
            "hol_reasons": hol_reasons + none,
            "skel": skel + none,
            "objects": objects + none,
            "field": [None] * n + [r.field for r in rejects],
            "reason": [None] * n + [r.reason for r in rejects],
            "raw": [None] * n + [r.raw for r in rejects],
        }
    )
    arrays = []
    for f in PREPARED_SCHEMA:
        if f.name in ("tvals", "hvals"):
            lists = _float_lists(text_values if f.name == "tvals" else hol_values, n, f.type)
            arrays.append(pa.concat_arrays([lists, pa.nulls(m, type=f.type)]) if m else lists)
            continue
        value = columns[f.name]
        arrays.append(_nullable(value) if f.type == pa.float64() else pa.array(value, type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=PREPARED_SCHEMA)


def _template_keys(holiday: Findings, originals: Sequence[str], senders: Sequence[str | None]) -> list[str | None]:
    """The festival-template key (:func:`~spamflood.criteria.holiday_template.template_key`) of
    each post whose template count needs other posts.

    ``holiday_template`` counts the accounts sharing a key among the posts that name a
    festival; a post without one counts 1 on its own and is final here. The others are scored
    again with every post of their key (:func:`score_templates`).
    """
    mentions = holiday.values.get("HOLIDAY_TEMPLATE_FESTIVAL")
    out: list[str | None] = [None] * len(originals)
    if mentions is None:
        return out
    index = np.flatnonzero(mentions > 0).tolist()
    for i, text in zip(index, normalize_many([originals[i] for i in index])):
        out[i] = holiday_template.template_key(text, originals[i], senders[i])
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


def fingerprints(sig: np.ndarray) -> np.ndarray:
    """Per signature, the packed 4-bit fingerprints of :func:`spamflood.cluster.fingerprint_words`
    as bytes (two values a byte): what the edge prefilter compares."""
    k = np.shape(sig)[1]
    return np.ascontiguousarray(fingerprint_words(sig).view(np.uint8)[:, : (k + 1) // 2])


def fingerprint_matches(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, in how many values the packed fingerprints ``a`` and ``b`` agree."""
    x = np.bitwise_xor(a, b)
    return np.count_nonzero((x & np.uint8(0xF0)) == 0, axis=1) + np.count_nonzero((x & np.uint8(0x0F)) == 0, axis=1)


def verify_edges(batches: Iterable[pa.RecordBatch], num_perm: int, need: int) -> Iterator[pa.RecordBatch]:
    """Keep the candidate edges whose ends agree on at least ``need`` of ``num_perm`` values.

    Input columns ``src, dst, src_sig, dst_sig`` (signatures as raw uint32 bytes); the estimated
    Jaccard test is :class:`~spamflood.cluster.ClusterFinder`'s, vectorised over the batch.
    """
    for batch in batches:
        n = batch.num_rows
        if not n:
            continue
        a = _fixed_width(batch.column("src_sig"), n).view(np.uint32)
        b = _fixed_width(batch.column("dst_sig"), n).view(np.uint32)
        if a.shape[1] != num_perm or b.shape[1] != num_perm:
            raise ValueError(f"a signature has {a.shape[1]} values, expected num_perm={num_perm}")
        keep = np.count_nonzero(a == b, axis=1) >= need
        yield pa.RecordBatch.from_arrays(
            [batch.column("src").filter(pa.array(keep)), batch.column("dst").filter(pa.array(keep))], schema=EDGE_SCHEMA
        )


def _fixed_width(column: pa.Array, n: int) -> np.ndarray:
    """A binary column whose values all have one length, as an (n, length) uint8 array."""
    # A binary column's data buffer holds the rows back to back.
    if column.null_count:
        raise ValueError("a candidate edge has an end without a signature")
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset : column.offset + n + 1]
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(n, -1)


# --------------------------------------------------------------------------- clusters


def score_clusters(
    batches: Iterable[pa.RecordBatch], detector: Detector, facts: FeedFacts
) -> Iterator[pa.RecordBatch]:
    """Cluster statistics and features, ``mass_share``/``repetition`` and ``batch_accounts``
    for whole clusters.

    Input: every post of some clusters with ``row, root`` (the cluster's smallest row),
    ``cluster`` (its id), ``id, author, time, digest`` and the account fields. Output:
    :data:`CLUSTER_SCHEMA`.
    """
    table = _sorted_by_row(_table(batches))
    if not table.num_rows:
        return
    names = feature_names(detector)
    roots = table.column("root").to_numpy()
    # Roots are the clusters' first rows, so sorted roots number clusters by first post.
    _, labels = np.unique(roots, return_inverse=True)
    labels = labels.astype(np.int64)
    authors = table.column("author").to_pylist()
    codes, _ = dense_codes(authors)
    codes[unknown_authors(authors, table.column("id").to_pylist())] = -1  # a post without an author is no account
    times = _floats(table.column("time"))
    digests = table.column("digest").to_numpy().view(np.uint64)
    stats = cluster_stats(labels, times, codes, window=detector.window, digests=digests)
    scores = detector.rules.score(stats, codes, authors, times)
    cluster_values = detector.rules.cluster_features(stats, codes)
    n = table.num_rows
    ba_labels: list[list[str]] = [[] for _ in range(n)]
    ba_reasons: list[list[str]] = [[] for _ in range(n)]
    ba_values: list[np.ndarray] = []
    if detector.criteria:
        frame = columns_from(_criteria_frame(table, facts.present, texts=False), labels)
        frame.accounts = facts.accounts  # these clusters hold only some of the feed's accounts
        accounts = Findings.compute(frame, None, CLUSTER_FAMILIES, detector.tz)
        ba_labels, ba_reasons = _post_labels(accounts, n)
        ba_values = _values(accounts, names.batch_accounts, n)
    is_rep = np.zeros(n, dtype=bool)
    is_rep[stats.representative] = True
    nothing: list[Any] = [None] * n
    first, last, span, peak_posts, peak_authors, window = (list(nothing) for _ in range(6))
    for c, i in enumerate(stats.representative.tolist()):
        first[i] = iso_utc(float(stats.first_time[c]))
        last[i] = iso_utc(float(stats.last_time[c]))
        span[i] = human_span(float(stats.last_time[c] - stats.first_time[c]))
        peak_posts[i], peak_authors[i] = stats.shown_peak(c)
        window[i] = human_duration(stats.window)
    mass_reason, rep_reason = scores.reasons["mass_share"], scores.reasons["repetition"]
    columns = {
        "row": table.column("row"),
        "author": table.column("author"),
        "cluster": table.column("cluster"),
        "size": pa.array(stats.size[labels]),
        "authors": pa.array(stats.authors[labels]),
        "cvals": _float_lists([cluster_values[name] for name in names.cluster], n),
        "mass": pa.array(scores.strength["mass_share"], type=pa.float64()),
        "mass_reason": pa.array([mass_reason.get(i) for i in range(n)], type=pa.string()),
        "rep": pa.array(scores.strength["repetition"], type=pa.float64()),
        "rep_reason": pa.array([rep_reason.get(i) for i in range(n)], type=pa.string()),
        "bvals": _float_lists(ba_values, n),
        "ba_labels": pa.array(ba_labels, type=_STRINGS),
        "ba_reasons": pa.array(ba_reasons, type=_STRINGS),
        "is_rep": pa.array(is_rep),
        "first_time": pa.array(first, type=pa.string()),
        "last_time": pa.array(last, type=pa.string()),
        "span": pa.array(span, type=pa.string()),
        "peak_posts": pa.array(peak_posts, type=pa.int64()),
        "peak_authors": pa.array(peak_authors, type=pa.int64()),
        "window": pa.array(window, type=pa.string()),
    }
    yield pa.Table.from_pydict(columns, schema=CLUSTER_SCHEMA).combine_chunks().to_batches()[0]




def _criteria_frame(table: pa.Table, present: Sequence[str], *, texts: bool = True) -> Any:
    """The posts as the criteria read them: text (empty strings when ``texts`` is False, for
    families that read none), id and author (a post whose author is its own id has none), time
    and the account fields the whole feed has (a field no post has is left out, as one machine
    does)."""
    columns: dict[str, Any] = {
        "text": table.column("text").to_pylist() if texts else [""] * table.num_rows,
        "id": table.column("id").to_pylist(),
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

    Input: every such post of some skeletons (``row, id, text, author, time``, and
    ``author_name`` when the feed has display names). Output: :data:`TEMPLATE_SCHEMA`.
    """
    table = _sorted_by_row(_table(batches))
    if not table.num_rows:
        return
    n = table.num_rows
    frame = _criteria_frame(table, [name for name in ("author_name",) if name in table.column_names])
    holiday = Findings.compute(frame, None, FEED_WIDE_FAMILIES, detector.tz)
    labels, reasons = _post_labels(holiday, n)
    yield pa.RecordBatch.from_arrays(
        [
            table.column("row").combine_chunks(),
            table.column("author").combine_chunks(),
            _float_lists(_values(holiday, feature_names(detector).holiday, n), n),
            pa.array(labels, type=_STRINGS),
            pa.array(reasons, type=_STRINGS),
        ],
        schema=TEMPLATE_SCHEMA,
    )


# --------------------------------------------------------------------------- the score


CLUSTER_PART: tuple[str, ...] = ("cluster", "size", "authors", "cvals", "mass", "mass_reason", "rep", "rep_reason", "bvals", "ba_labels", "ba_reasons")
REP_PART: tuple[str, ...] = ("is_rep", "first_time", "last_time", "span", "peak_posts", "peak_authors", "window")


def score_posts(
    batches: Iterable[pa.RecordBatch], detector: Detector, facts: FeedFacts, *, features: bool = False
) -> Iterator[pa.RecordBatch]:
    """The per-account criteria, then every post's score, labels and reasons from
    :meth:`Detector.decide <spamflood.detector.Detector.decide>`.

    Input: rows ``row, author`` with one of four struct columns set: ``post`` (every post:
    ``id, text, time``, ``tvals``, ``text_labels/text_reasons``, ``hvals``,
    ``hol_labels/hol_reasons``), ``cl`` (clustered posts: the columns of
    :data:`CLUSTER_SCHEMA`), ``tp`` (posts scored with their festival template:
    ``hvals, hol_labels, hol_reasons``, which replace the post's own) or ``co`` (posts of a
    coordinated group: ``covals, co_reason`` of :data:`COORDINATED_SCHEMA`). All rows of an
    account are in one call. Output: :func:`scored_schema` (score rounded to 6 decimals as the CLI
    writes it).
    """
    table = _table(batches)
    if not table.num_rows:
        return
    posts = _part(table, "post")
    n = posts.num_rows
    if not n:
        return
    names = feature_names(detector)
    rows = posts.column("row").to_numpy()
    cl = _part(table, "cl")
    tp = _part(table, "tp")
    co = _part(table, "co")
    at_cl = _positions(rows, cl)
    at_tp = _positions(rows, tp)
    at_co = _positions(rows, co)
    texts = posts.column("text").to_pylist()

    # Cluster features and cluster labels (posts in no cluster: 0, as one machine fills them).
    values: dict[str, np.ndarray] = {}
    cvals = _spread(_matrix(cl.column("cvals"), cl.num_rows, len(names.cluster)), at_cl, n, 0.0)
    for j, name in enumerate(names.cluster):
        values[name] = cvals[:, j]
    fired: dict[str, np.ndarray] = {
        "mass_share": _spread(_floats(cl.column("mass")), at_cl, n, 0.0) > 0,
        "repetition": _spread(_floats(cl.column("rep")), at_cl, n, 0.0) > 0,
    }
    said: dict[str, dict[int, str]] = {
        "mass_share": _spread_dict(cl.column("mass_reason").to_pylist(), at_cl),
        "repetition": _spread_dict(cl.column("rep_reason").to_pylist(), at_cl),
    }
    # Coordinated groups: the driver's values where a post is a group's; elsewhere 0, or NaN
    # where its author or time is unknown, as Coordination.findings fills them.
    ids = posts.column("id").to_pylist()
    times = _floats(posts.column("time"))
    absent = ~np.isfinite(times) | unknown_authors(posts.column("author").to_pylist(), ids)
    covals = _matrix(co.column("covals"), co.num_rows, len(names.coordinated))
    for j, name in enumerate(names.coordinated):
        values[name] = np.where(absent, np.nan, 0.0)
        values[name][at_co] = covals[:, j]
    said["coordinated"] = _spread_dict(co.column("co_reason").to_pylist(), at_co)
    fired["coordinated"] = np.zeros(n, dtype=bool)
    fired["coordinated"][list(said["coordinated"])] = True
    if detector.criteria:
        tvals = _matrix(posts.column("tvals"), n, len(names.text))
        for j, name in enumerate(names.text):
            values[name] = tvals[:, j]
        _collect(posts.column("text_labels").to_pylist(), posts.column("text_reasons").to_pylist(), fired, said, n)
        # holiday_template: the post's own, or its template's where it has one
        hvals = _matrix(posts.column("hvals"), n, len(names.holiday))
        hol_labels = posts.column("hol_labels").to_pylist()
        hol_reasons = posts.column("hol_reasons").to_pylist()
        if tp.num_rows:
            hvals[at_tp] = _matrix(tp.column("hvals"), tp.num_rows, len(names.holiday))
            for i, labels, sentences in zip(
                at_tp.tolist(), tp.column("hol_labels").to_pylist(), tp.column("hol_reasons").to_pylist()
            ):
                hol_labels[i], hol_reasons[i] = labels, sentences
        _collect(hol_labels, hol_reasons, fired, said, n)
        bvals = _spread(_matrix(cl.column("bvals"), cl.num_rows, len(names.batch_accounts)), at_cl, n, np.nan)
        ba_labels: list[Any] = [None] * n
        ba_reasons: list[Any] = [None] * n
        for i, labels, sentences in zip(at_cl.tolist(), cl.column("ba_labels").to_pylist(), cl.column("ba_reasons").to_pylist()):
            ba_labels[i], ba_reasons[i] = labels, sentences
        alone, own = _in_no_cluster(posts, at_cl, detector, facts)
        for j, name in enumerate(names.batch_accounts):
            bvals[alone, j] = own.values[name]
        for i, labels, sentences in zip(alone.tolist(), *_post_labels(own, own.n)):
            ba_labels[i], ba_reasons[i] = labels, sentences
        _collect(ba_labels, ba_reasons, fired, said, n)
        account = _account_criteria(posts, texts, detector, facts)
        account_labels, account_reasons = _post_labels(account, account.n)
        _collect(account_labels[:n], account_reasons[:n], fired, said, n)
        batch_values: dict[str, np.ndarray] = {}
        for j, name in enumerate(names.holiday):
            batch_values[name] = hvals[:, j]
        for j, name in enumerate(names.batch_accounts):
            batch_values[name] = bvals[:, j]
        for name in names.accounts:
            batch_values[name] = np.asarray(account.values[name][:n], dtype=np.float64)
        for name in names.batch:
            values[name] = batch_values[name]
        for label in POST_FAMILIES + WHOLE_BATCH_FAMILIES:  # a family that fired nowhere here
            fired.setdefault(label, np.zeros(n, dtype=bool))
    decision = detector.decide(Findings(values, fired, said, n), texts=texts)
    score = np.asarray(decision.score, dtype=np.float64)
    cluster = _spread_int(cl.column("cluster").to_numpy(zero_copy_only=False), at_cl, n)
    size = _spread_int(cl.column("size").to_numpy(zero_copy_only=False), at_cl, n, fill=1)
    authors = _spread_int(cl.column("authors").to_numpy(zero_copy_only=False), at_cl, n, fill=1)
    columns: dict[str, pa.Array] = {
        "row": pa.array(rows),
        "id": posts.column("id").combine_chunks(),
        "score": pa.array([round(float(s), 6) for s in score], type=pa.float64()),
        "flagged": pa.array(score >= detector.threshold),
        "labels": pa.array(decision.labels, type=_STRINGS),
        "reasons": pa.array(decision.reasons, type=_STRINGS),
        "cluster": pa.array(cluster, type=pa.int64(), mask=cluster < 0),
        "cluster_size": pa.array(size),
        "cluster_authors": pa.array(authors),
    }
    schema = scored_schema(names.all, features=features)
    if features:
        columns["label_scores"] = _label_scores(decision.label_scores, n)
        columns["features"] = _feature_struct(values, schema.field("features").type)
    columns["rep"] = _representatives(cl, at_cl, texts, n)
    yield pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema)


def _part(table: pa.Table, name: str) -> pa.Table:
    """The rows whose struct column ``name`` is set, as a table of ``row`` and its fields, by row."""
    column = table.column(name)
    keep = pc.is_valid(column)
    rows = table.column("row").filter(keep).combine_chunks()
    struct = column.filter(keep).combine_chunks()
    fields = {"row": rows, "author": table.column("author").filter(keep).combine_chunks()}
    for k in range(struct.type.num_fields):
        fields[struct.type.field(k).name] = struct.field(k)
    return _sorted_by_row(pa.table(fields))


def _positions(rows: np.ndarray, part: pa.Table) -> np.ndarray:
    """Where each row of ``part`` sits among the posts' ``rows`` (sorted)."""
    if not part.num_rows:
        return np.zeros(0, dtype=np.int64)
    wanted = part.column("row").to_numpy()
    at = np.searchsorted(rows, wanted)
    if np.any(at >= rows.shape[0]) or np.any(rows[np.minimum(at, rows.shape[0] - 1)] != wanted):
        raise ValueError("a cluster or template row has no post in its account's part")
    return at


def _spread(values: np.ndarray, at: np.ndarray, n: int, fill: float) -> np.ndarray:
    out = np.full((n,) + values.shape[1:], fill, dtype=np.float64)
    if at.size:
        out[at] = values
    return out


def _spread_int(values: np.ndarray, at: np.ndarray, n: int, fill: int = -1) -> np.ndarray:
    out = np.full(n, fill, dtype=np.int64)
    if at.size:
        out[at] = np.asarray(values, dtype=np.int64)
    return out


def _spread_dict(values: list[str | None], at: np.ndarray) -> dict[int, str]:
    return {int(i): v for i, v in zip(at.tolist(), values) if v is not None}


def _label_scores(scores: Mapping[str, np.ndarray], n: int) -> pa.Array:
    items: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    for label, column in scores.items():
        column = np.asarray(column, dtype=np.float64)
        for i in np.flatnonzero(column > 0).tolist():
            items[i].append((label, round(float(column[i]), 6)))
    return pa.array(items, type=pa.map_(pa.string(), pa.float64()))


def _feature_struct(values: Mapping[str, np.ndarray], kind: pa.DataType) -> pa.Array:
    children = [pa.array(np.asarray(values[kind.field(k).name], dtype=np.float64), type=pa.float64(), from_pandas=True) for k in range(kind.num_fields)]
    return pa.StructArray.from_arrays(children, fields=list(kind))


def _representatives(cl: pa.Table, at: np.ndarray, texts: list[str], n: int) -> pa.Array:
    """The ``rep`` struct: on each cluster's representative, its statistics and text."""
    reps = np.flatnonzero(np.asarray(cl.column("is_rep").to_numpy(zero_copy_only=False), dtype=bool)) if cl.num_rows else np.zeros(0, dtype=np.int64)
    items: list[dict[str, Any] | None] = [None] * n
    if reps.size:
        picked = {name: cl.column(name).take(pa.array(reps)).to_pylist() for name in ("size", "authors", *REP_PART[1:])}
        for k, j in enumerate(reps.tolist()):
            i = int(at[j])
            item = {name: picked[name][k] for name in picked}
            item["text"] = texts[i]
            items[i] = item
    return pa.array(items, type=REP_TYPE)


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


def _account_criteria(posts: pa.Table, texts: list[str], detector: Detector, facts: FeedFacts) -> Findings:
    """``chicken_soup`` and ``auto_posting`` over whole accounts, each account's timestamp
    precision judged by the other accounts of the whole feed (``facts.seconds_accounts``)."""
    ids = posts.column("id").to_pylist()
    cols = columns_from(
        _frame({"text": texts, "id": ids, "author": posts.column("author").to_pylist(), "time": _floats(posts.column("time"))})
    )
    cols.seconds_accounts = facts.seconds_accounts
    return Findings.compute(cols, None, ACCOUNT_FAMILIES, detector.tz)


def _in_no_cluster(
    posts: pa.Table, at_cl: np.ndarray, detector: Detector, facts: FeedFacts
) -> tuple[np.ndarray, Findings]:
    """The cluster families on the posts in no cluster (their positions, their findings):
    the cluster features are missing there, and ``batch_accounts`` judges the post's own
    account by the feed's evidence (``facts.accounts``), as one machine does for a batch-made
    account posting alone. No creation times in the feed: nothing to judge, all NaN."""
    alone = np.setdiff1d(np.arange(posts.num_rows), at_cl)
    if not alone.size or not len(facts.accounts):
        return alone[:0], Findings({name: np.zeros(0) for name in feature_names(detector).batch_accounts}, {}, {}, 0)
    part = posts.take(pa.array(alone))
    cols = columns_from(
        _frame(
            {
                "text": [""] * alone.size,  # batch_accounts reads no text
                "id": part.column("id").to_pylist(),
                "author": part.column("author").to_pylist(),
                "time": _floats(part.column("time")),
            }
        )
    )
    cols.accounts = facts.accounts
    return alone, Findings.compute(cols, None, CLUSTER_FAMILIES, detector.tz)
