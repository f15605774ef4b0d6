"""The batch detector: read -> normalize -> MinHash -> clusters -> labels -> scored posts.

Reading, validation, normalization and signatures run per chunk (in worker processes when
``n_jobs > 1``); clustering needs the whole batch and runs once in the calling process.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from spamflood import _params
from spamflood._memory import collector_paused, release_freed_memory
from spamflood.cluster import (
    ClusterFinder,
    ClusterTable,
    cluster_stats,
    signature_digest,
)
from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.durations import human_duration, human_span
from spamflood.errors import ConfigError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.readers import (
    JsonlSpan,
    ReadStats,
    detect_format,
    iter_chunks,
    json_layout,
    jsonl_spans,
)
from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS, FieldWarnings, RawRow, Reject, RowParser
from spamflood.io.timestamps import iso_utc
from spamflood.minhash import MinHasher
from spamflood.model.store import DeferredModel
from spamflood.normalize import normalize_and_shingle_codes, shingle_codes, warm_up
from spamflood.posts import PostBatch
from spamflood.scoring import RuleScorer, combine

if TYPE_CHECKING:
    from spamflood.criteria.context import Columns

__all__ = ["Decision", "Detector", "ScoreResult", "ScoredPost"]

LABEL_FLOOR = 0.25
"""A trained model's label heads run only where the overall score reaches this (see
:meth:`spamflood.model.FloodModel.score_all`): every label is a kind of spam."""

FAMILY_FEATURES: dict[str, tuple[str, ...]] = {}
for _feature in FEATURES.values():
    FAMILY_FEATURES[_feature.label] = FAMILY_FEATURES.get(_feature.label, ()) + (_feature.name,)
del _feature

MODEL_SETTINGS: tuple[str, ...] = ("similarity", "window", "min_authors", "min_copies", "num_perm", "ngram", "seed", "tz")
"""Detector parameters that change feature values: saved with a model, restored by ``load``."""


@dataclass(frozen=True)
class Decision:
    """What :meth:`Detector.decide` concludes for n posts."""

    score: np.ndarray
    labels: list[list[str]]
    reasons: list[list[str]]
    label_scores: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True, repr=False)
class ScoredPost:
    """One post's verdict, with the evidence behind it."""

    id: str
    score: float
    flagged: bool
    labels: list[str]
    reasons: list[str]
    cluster: int | None
    cluster_size: int
    cluster_authors: int
    features: dict[str, float] = field(default_factory=dict)
    label_scores: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:  # the verdict; the features and reasons are a call away
        return (
            f"ScoredPost(id={self.id!r}, score={self.score:.3f}, flagged={self.flagged}, "
            f"labels={self.labels!r}, cluster={self.cluster})"
        )

    def to_dict(self, features: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "score": self.score,
            "flagged": self.flagged,
            "labels": self.labels,
            "reasons": self.reasons,
            "cluster": self.cluster,
            "cluster_size": self.cluster_size,
            "cluster_authors": self.cluster_authors,
        }
        if features:
            out["label_scores"] = self.label_scores
            out["features"] = self.features
        return out


# Criteria families that read one post's text alone run per chunk in the workers; the ones that
# compare posts (per account, per day, per cluster) run once over the whole batch.
TEXT_FAMILIES: tuple[str, ...] = ("soft_ad", "hotspot_hijack", "microbusiness")
BATCH_FAMILIES: tuple[str, ...] = ("holiday_template", "chicken_soup", "batch_accounts", "auto_posting")
CLUSTER_FAMILIES: tuple[str, ...] = ("batch_accounts",)
"""The batch families that read the clusters; the others run while the clusters are found."""
CRITERIA_STRENGTH = 0.6
"""Interim rule: a criteria label that fires counts as strength 0.6 (flagged alone at the
default threshold), until the trained model of a later issue replaces these constants."""


@dataclass
class _Criteria:
    """Criteria results for ``n`` posts: feature columns, fired labels, and per label the reason
    sentence of each post where it has evidence (sparse: most posts have none, and a million
    mostly-empty lists would be pickled from the workers and joined)."""

    values: dict[str, np.ndarray]
    fired: dict[str, np.ndarray]
    sentences: dict[str, dict[int, str]]
    n: int

    @classmethod
    def compute(
        cls,
        data: PostBatch | list[str] | Columns,
        clusters: np.ndarray | None,
        families: tuple[str, ...],
        tz: str,
        normalized: bool = False,
        scan: Any = None,
        dtype: Any = np.float64,
        originals: Sequence[str] | None = None,
    ) -> _Criteria:
        from spamflood.criteria import evaluate

        n = len(data)
        if not families or not n:
            return cls({}, {}, {}, n)
        ev = evaluate(
            data, clusters, families=families, tz=tz, normalized=normalized, scan=scan, dtype=dtype, originals=originals
        )
        values = {name: ev.values[:, j] for j, name in enumerate(ev.names)}
        fired = {label: col > 0 for label, col in ev.labels.items() if label in families}
        return cls(values, fired, ev.sentences(), n)

    @classmethod
    def concat(cls, parts: list[_Criteria]) -> _Criteria:
        if not parts:
            return cls({}, {}, {}, 0)
        names = list(parts[0].values)
        labels = list(parts[0].fired)
        sentences: dict[str, dict[int, str]] = {}
        at = 0
        for part in parts:
            for label, said in part.sentences.items():
                sentences.setdefault(label, {}).update((i + at, s) for i, s in said.items())
            at += part.n
        return cls(
            {k: np.concatenate([p.values[k] for p in parts]) for k in names},
            {k: np.concatenate([p.fired[k] for p in parts]) for k in labels},
            sentences,
            at,
        )

    @classmethod
    def join(cls, parts: list[_Criteria]) -> _Criteria:
        """The results of other families for the same posts, side by side: features and labels
        in registry order, as one :meth:`compute` over all the families gives them."""
        values = {k: v for p in parts for k, v in p.values.items()}
        fired = {k: v for p in parts for k, v in p.fired.items()}
        sentences = {k: v for p in parts for k, v in p.sentences.items()}
        return cls(
            {name: values[name] for name in FEATURES if name in values},
            {label: fired[label] for label in FAMILIES if label in fired},
            sentences,
            parts[0].n if parts else 0,
        )

    def take(self, index: np.ndarray) -> _Criteria:
        where: dict[int, list[int]] = {}
        for new, old in enumerate(index.tolist()):
            where.setdefault(old, []).append(new)
        sentences = {
            label: {new: s for old, s in said.items() for new in where.get(old, ())}
            for label, said in self.sentences.items()
        }
        return _Criteria(
            {k: v[index] for k, v in self.values.items()},
            {k: v[index] for k, v in self.fired.items()},
            sentences,
            len(index),
        )


@dataclass
class _Prepared:
    batch: PostBatch
    signatures: np.ndarray
    clusterable: np.ndarray
    rejects: list[Reject]
    criteria: _Criteria
    scan: Any = None
    """The lexicon counts the batch families read (so the main process never rescans texts)."""
    blank_lines: int = 0
    """Blank lines skipped in the chunk (when the worker read the lines itself)."""
    digests: np.ndarray | None = None
    """:func:`~spamflood.cluster.signature_digest` of each signature, taken while it is in cache."""
    unreadable: FieldWarnings = field(default_factory=FieldWarnings)
    """Optional values of the chunk read as missing."""


@dataclass(repr=False)
class ScoreResult:
    """Everything a run produced, as columns; iterate it for :class:`ScoredPost` objects."""

    batch: PostBatch
    clusters: ClusterTable
    score: np.ndarray
    flagged: np.ndarray
    labels: list[list[str]]
    reasons: list[list[str]]
    features: dict[str, np.ndarray]
    rejects: list[Reject]
    rows_read: int
    blank_lines: int
    threshold: float
    label_scores: dict[str, np.ndarray] = field(default_factory=dict)
    """Per-label sub-scores: the model's label heads, or the rule strengths without a model."""
    read: ReadStats = field(default_factory=ReadStats)
    """What reading the input saw besides rows: where it broke off (``read.truncated``: the
    rows after it are lost), optional values read as missing (``read.unreadable``), notes."""

    def __len__(self) -> int:
        return len(self.batch)

    def __repr__(self) -> str:  # counts, not the batch (a million posts would print for minutes)
        return (
            f"ScoreResult(posts={len(self)}, flagged={int(self.flagged.sum())}, "
            f"clusters={len(self.clusters)}, rejects={len(self.rejects)})"
        )

    def __iter__(self) -> Iterator[ScoredPost]:
        for i in range(len(self)):
            yield self.post(i)

    def __getitem__(self, i: int) -> ScoredPost:
        return self.post(i)

    def post(self, i: int) -> ScoredPost:
        c = int(self.clusters.labels[i])
        return ScoredPost(
            id=self.batch.ids[i],
            score=float(self.score[i]),
            flagged=bool(self.flagged[i]),
            labels=self.labels[i],
            reasons=self.reasons[i],
            cluster=None if c < 0 else c,
            cluster_size=int(self.clusters.size[c]) if c >= 0 else 1,
            cluster_authors=int(self.clusters.authors[c]) if c >= 0 else 1,
            features={k: float(v[i]) for k, v in self.features.items()},
            label_scores={k: float(v[i]) for k, v in self.label_scores.items() if v[i] > 0},
        )

    def columns(self, *, start: int = 0, stop: int | None = None) -> dict[str, Any]:
        """The output fields of posts ``start:stop`` as columns (what :meth:`records` holds as
        rows), for writers that take columns without building a dict per post."""
        stop = len(self) if stop is None else min(stop, len(self))
        labels = self.clusters.labels[start:stop]
        return {
            "id": self.batch.ids[start:stop],
            "score": [round(x, 6) for x in self.score[start:stop].tolist()],
            "flagged": self.flagged[start:stop].tolist(),
            "labels": self.labels[start:stop],
            "reasons": self.reasons[start:stop],
            "cluster": [None if c < 0 else c for c in labels.tolist()],
            "cluster_size": self.clusters.per_post(self.clusters.size, 1, start=start, stop=stop).astype(np.int64),
            "cluster_authors": self.clusters.per_post(self.clusters.authors, 1, start=start, stop=stop).astype(np.int64),
        }

    def records(self, *, features: bool = False, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """Output rows (the fields of DESIGN.md) for posts ``start:stop``, built from columns."""
        stop = len(self) if stop is None else min(stop, len(self))
        labels = self.clusters.labels
        size = self.clusters.per_post(self.clusters.size, 1, start=start, stop=stop)
        authors = self.clusters.per_post(self.clusters.authors, 1, start=start, stop=stop)
        names = list(self.features) if features else []
        out = []
        for i in range(start, stop):
            c = int(labels[i])
            record: dict[str, Any] = {
                "id": self.batch.ids[i],
                "score": round(float(self.score[i]), 6),
                "flagged": bool(self.flagged[i]),
                "labels": self.labels[i],
                "reasons": self.reasons[i],
                "cluster": None if c < 0 else c,
                "cluster_size": int(size[i - start]),
                "cluster_authors": int(authors[i - start]),
            }
            if names:
                record["label_scores"] = {
                    k: round(float(v[i]), 6) for k, v in self.label_scores.items() if v[i] > 0
                }
                record["features"] = {k: _json_number(self.features[k][i]) for k in names}
            out.append(record)
        return out

    @property
    def flood_ids(self) -> list[int]:
        """Clusters in which ``mass_share`` fired, most accounts first."""
        fired = {int(self.clusters.labels[i]) for i, ls in enumerate(self.labels) if "mass_share" in ls}
        fired.discard(-1)
        return sorted(fired, key=lambda c: (-int(self.clusters.authors[c]), -int(self.clusters.size[c]), c))

    def cluster_records(self) -> list[dict[str, Any]]:
        """One row per cluster: its statistics, labels seen in it, and a representative text.

        ``first_time``/``last_time`` are of the posts that have a time (``None`` and a span of
        ``"unknown"`` when none has); ``authors`` counts known accounts only."""
        table = self.clusters
        floods = set(self.flood_ids)
        members_of: dict[int, list[int]] = {}
        for i in np.flatnonzero(table.labels >= 0).tolist():
            members_of.setdefault(int(table.labels[i]), []).append(i)
        rows: list[dict[str, Any]] = []
        for c in range(len(table)):
            members = members_of.get(c, [])
            label_count: dict[str, int] = {}
            for i in members:
                for name in self.labels[i]:
                    label_count[name] = label_count.get(name, 0) + 1
            rep = int(table.representative[c])
            rows.append(
                {
                    "cluster": c,
                    "size": int(table.size[c]),
                    "authors": int(table.authors[c]),
                    "first_time": iso_utc(float(table.first_time[c])),
                    "last_time": iso_utc(float(table.last_time[c])),
                    "span": human_span(float(table.last_time[c] - table.first_time[c])),
                    "peak_posts": int(table.peak_posts[c]),
                    "peak_authors": int(table.peak_authors[c]),
                    "window": human_duration(table.window),
                    "flood": c in floods,
                    "labels": sorted(label_count, key=lambda k: (-label_count[k], k)),
                    "max_score": round(float(self.score[members].max()), 6) if members else 0.0,
                    "representative_id": self.batch.ids[rep],
                    "representative_text": self.batch.texts[rep],
                }
            )
        rows.sort(key=lambda r: (not r["flood"], -r["authors"], -r["size"], r["cluster"]))
        return rows

    def to_frame(self, *, features: bool = False) -> Any:
        """The scored posts as a pandas DataFrame, one row per post in input order (index
        0..n-1): the output fields of :meth:`records`, ``cluster`` as a nullable integer
        (``Int64``, ``<NA>`` for a post in no cluster); ``features=True`` adds the feature
        columns (NaN where a feature's inputs are missing)."""
        import pandas as pd

        table = self.clusters
        clusters = table.labels
        frame = pd.DataFrame(
            {
                "id": self.batch.ids,
                "score": [round(x, 6) for x in self.score.tolist()],
                "flagged": np.asarray(self.flagged, dtype=np.bool_),
                "labels": self.labels,
                "reasons": self.reasons,
                "cluster": pd.arrays.IntegerArray(np.maximum(clusters, 0).astype(np.int64), clusters < 0),
                "cluster_size": table.per_post(table.size, 1).astype(np.int64),
                "cluster_authors": table.per_post(table.authors, 1).astype(np.int64),
            }
        )
        if features:
            for k, v in self.features.items():
                frame[k] = v
        return frame

    def summary(self) -> dict[str, Any]:
        """The run in counts. Two keys appear only when there is something to say:
        ``unreadable_fields`` (per field, optional values read as missing) and
        ``input_truncated`` (where the input broke off: :meth:`Truncated.to_dict`)."""
        summary: dict[str, Any] = {
            "rows_read": self.rows_read,
            "scored": len(self),
            "rejected": len(self.rejects),
            "blank_lines": self.blank_lines,
            "flagged": int(self.flagged.sum()),
            "clusters": len(self.clusters),
            "floods": len(self.flood_ids),
        }
        if self.read.unreadable:
            summary["unreadable_fields"] = dict(self.read.unreadable.counts)
        if self.read.truncated is not None:
            summary["input_truncated"] = self.read.truncated.to_dict()
        return summary


def _aligned_frame(result: ScoreResult, index: Any) -> Any:
    """:meth:`ScoreResult.to_frame` spread over the input's rows (``index``, one per row read,
    in order): each post at its row (``line - 1``), each reject's reason at its own."""
    import pandas as pd

    n = len(index)
    if result.rows_read != n:  # every row read is a post or a reject; anything else would misalign
        raise AssertionError(f"{result.rows_read} rows were read from an input of {n}")
    rows = np.asarray(result.batch.lines, dtype=np.int64) - 1  # the row each scored post came from
    scored = result.to_frame()
    missing = np.ones(n, dtype=np.bool_)
    missing[rows] = False
    columns: dict[str, Any] = {}
    for name in scored.columns:
        values = scored[name].to_numpy()
        if name == "score":
            column: Any = np.full(n, np.nan)
            column[rows] = values
        elif name == "flagged":
            flags = np.zeros(n, dtype=np.bool_)
            flags[rows] = values
            column = pd.arrays.BooleanArray(flags, missing)
        elif name in ("cluster", "cluster_size", "cluster_authors"):
            known = scored[name].to_numpy(dtype=np.int64, na_value=0)
            mask = missing.copy()
            mask[rows] = scored[name].isna().to_numpy()
            data = np.zeros(n, dtype=np.int64)
            data[rows] = known
            column = pd.arrays.IntegerArray(data, mask)
        else:
            column = np.full(n, None, dtype=object)
            column[rows] = values
        columns[name] = column
    reject = np.full(n, None, dtype=object)
    for r in result.rejects:
        reject[r.line - 1] = r.reason if r.field is None else f"field '{r.field}': {r.reason}"
    columns["reject"] = reject
    return pd.DataFrame(columns, index=index)




def _json_number(value: Any) -> float | None:
    value = float(value)
    return None if value != value else value


_LINE_SIGNATURES: np.ndarray | None = None
"""In a worker process: the array shared with the parent, one row per input line, into which
the worker writes the signatures of the spans it reads (see :func:`_line_signature_array`)."""


def _share_line_signatures(array: np.ndarray) -> None:
    """Worker initializer: keep the inherited shared array."""
    global _LINE_SIGNATURES
    _LINE_SIGNATURES = array


def _line_signature_array(lines: int, num_perm: int) -> np.ndarray:
    """A zeroed ``(lines, num_perm)`` array in anonymous shared memory: forked workers write
    their posts' signatures straight into it (row ``line - 1``), so signatures are neither
    pickled back to the parent nor copied into one array there."""
    size = lines * num_perm * 4
    buffer = mmap.mmap(-1, max(size, 1))  # MAP_SHARED: the forked workers see one copy
    return np.frombuffer(buffer, dtype=np.uint32, count=lines * num_perm).reshape(lines, num_perm)


def _prepare_chunk(
    rows: list[RawRow] | JsonlSpan, parser: RowParser, hasher: MinHasher, families: tuple[str, ...], tz: str
) -> _Prepared:
    blank_lines = 0
    by_line = isinstance(rows, JsonlSpan) and _LINE_SIGNATURES is not None
    if isinstance(rows, JsonlSpan):  # read here, in the worker
        rows, blank_lines = rows.rows()
    unreadable = FieldWarnings()
    batch, rejects = parser.parse_batch(rows, unreadable)
    if families:  # normalize once: the criteria match on this form, and shingling continues from it
        normalized, codes, offsets = normalize_and_shingle_codes(batch.texts)
    else:  # nothing reads the matching form: the shingling form alone, with no str per post
        normalized = batch.texts
        codes, offsets = shingle_codes(batch.texts)
    signatures = hasher.signatures_from_codes(codes, offsets)
    digests = signature_digest(signatures)
    if by_line:
        _LINE_SIGNATURES[batch.lines - 1] = signatures  # type: ignore[index]
        signatures = signatures[:0]
    clusterable = np.diff(offsets) > 0
    scan = None
    if families and len(batch):
        from spamflood.criteria import scan_names, scan_texts

        # One scan for every family that reads text; the batch families keep its counts.
        scan = scan_texts(normalized, TEXT_FAMILIES + BATCH_FAMILIES, normalized=True)
        # Text features are small counts: float32 holds them exactly (evaluate checks) in half the memory.
        criteria = _Criteria.compute(  # the texts as written, for the reasons to quote
            normalized, None, families, tz, normalized=True, scan=scan, dtype=np.float32, originals=batch.texts
        )
        scan = scan.only(*scan_names(BATCH_FAMILIES))
    else:
        criteria = _Criteria.compute(normalized, None, families, tz, normalized=True)
    return _Prepared(batch, signatures, clusterable, rejects, criteria, scan, blank_lines, digests, unreadable)


class Detector:
    """Scores a batch of posts for marketing floods and explains every score.

    A plain structure: nothing is learned from the data, and every parameter is checked here,
    once; a bad one raises :class:`~spamflood.errors.ConfigError` (a ``ValueError``) naming it
    in scikit-learn's words (``The 'similarity' parameter of Detector must be a float in the
    range (0.0, 1.0). Got 1.5 instead.``).

    Parameters
    ----------
    threshold : score at or above which a post is ``flagged``.
    similarity : estimated Jaccard similarity (character n-grams) that makes two posts copies.
    window : the sliding window for "many accounts at one instant" (seconds, or ``"1h"``).
    min_authors : distinct accounts within one window that make a cluster a ``mass_share`` flood.
    min_copies : near-identical posts by one account that make ``repetition``.
    num_perm, ngram, seed : MinHash signature length, shingle size and permutation seed.
    n_jobs : worker processes for reading, normalizing and hashing (``-1``: all cores).
    chunk_rows : rows read, checked and hashed together (one task of a worker).
    criteria : run the article's criteria families (soft ads, festival copy, hijacked news,
        micro-business, inspirational posts, batch accounts, auto posting) beside the clusters;
        ``False`` scores the cluster labels alone (faster).
    tz : IANA time zone of the calendar criteria (festival days, minute of day).
    model : a fitted :class:`~spamflood.model.FloodModel` that gives the score (see
        :meth:`load`); ``None`` combines the rule strengths.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        similarity: float = 0.7,
        window: float | str = "1h",
        min_authors: int = 5,
        min_copies: int = 3,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        n_jobs: int = 1,
        chunk_rows: int = 20_000,
        criteria: bool = True,
        tz: str = "UTC",
        model: Any = None,
    ) -> None:
        owner = "Detector"
        self.threshold = _params.real(owner, "threshold", threshold, 0.0, 1.0)
        self.similarity = _params.real(owner, "similarity", similarity, 0.0, 1.0, closed="neither")
        self.window = _params.duration(owner, "window", window)
        min_authors = _params.integer(owner, "min_authors", min_authors, 2)
        min_copies = _params.integer(owner, "min_copies", min_copies, 2)
        num_perm = _params.integer(owner, "num_perm", num_perm, 2)
        ngram = _params.integer(owner, "ngram", ngram, 1)
        seed = _params.integer(owner, "seed", seed, 0, 2**32 - 1)
        self.n_jobs = _params.jobs(owner, "n_jobs", n_jobs)
        self.chunk_rows = _params.integer(owner, "chunk_rows", chunk_rows, 1)
        self.criteria = _params.boolean(owner, "criteria", criteria)
        self.tz = _params.time_zone(owner, "tz", tz)
        if model is not None and not isinstance(model, DeferredModel) and not callable(getattr(model, "score_all", None)):
            _params.fail(owner, "model", "None or a fitted FloodModel (see Detector.load)", model)
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
        self.finder = ClusterFinder(threshold=self.similarity, num_perm=num_perm)
        self.rules = RuleScorer(min_authors=min_authors, min_copies=min_copies)
        self.model = model
        self.model_manifest: dict[str, Any] = {}

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, *, trusted: bool = False, **params: Any) -> Detector:
        """A detector that scores with a trained model: the bundled one (``path=None``) or a
        file from ``spamflood train`` (``trusted=True`` needed: a joblib file can run code).

        The model's feature settings (window, similarity, ...) come from the file; ``params``
        override them and set the rest (``threshold``, ``n_jobs``, ...). The file's SHA-256 is
        checked against its manifest first (:func:`spamflood.model.load_model`).
        """
        from spamflood.model import load_model

        loaded = load_model(None if path is None else Path(path), trusted=trusted, defer=True)  # unpickled while the posts are read
        settings = {k: v for k, v in loaded.settings.items() if k in MODEL_SETTINGS}
        detector = cls(**{**settings, **params, "model": loaded.model})
        detector.model_manifest = loaded.manifest
        return detector

    def settings(self) -> dict[str, Any]:
        """The parameters that change feature values, as saved beside a model."""
        return {
            "similarity": self.similarity,
            "window": self.window,
            "min_authors": self.rules.min_authors,
            "min_copies": self.rules.min_copies,
            "num_perm": self.hasher.num_perm,
            "ngram": self.hasher.ngram,
            "seed": self.hasher.seed,
            "tz": self.tz,
        }

    def __repr__(self) -> str:
        return (
            f"Detector(threshold={self.threshold}, similarity={self.similarity}, "
            f"window={human_duration(self.window)!r}, min_authors={self.rules.min_authors}, "
            f"min_copies={self.rules.min_copies}, n_jobs={self.n_jobs}, "
            f"model={_model_name(self.model)})"
        )

    def score(
        self,
        posts: Any,
        *,
        field_map: FieldMap | None = None,
        fmt: str | None = None,
        tz: str = "UTC",
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ScoreResult:
        """Score ``posts``: a file path (JSONL/CSV/Parquet, ``-`` for stdin), a pandas DataFrame,
        a :class:`PostBatch`, or an iterable of dicts in the field map's shape.

        Rows that fail validation are not scored; they are in ``result.rejects`` with their line
        and reason. With ``strict=True`` the first one raises :class:`~spamflood.errors.InputError`.
        An optional field that cannot be read is taken as missing and counted in
        ``result.read.unreadable``. An input that breaks off (a truncated ``.gz``) gives the rows
        before the break, and ``result.read.truncated`` says where (``strict``: it raises).
        """
        parser = RowParser(field_map, tz=tz, max_text_chars=max_text_chars)
        stats = ReadStats()
        source = list(posts) if isinstance(posts, PostBatch) else posts
        chunks: Iterable[list[RawRow] | JsonlSpan]
        by_line = None
        if self._jobs() > 1 and _plain_jsonl_file(source, fmt):
            # the workers read the lines, and write signatures into one array shared by line
            spans = list(jsonl_spans(source, rows_per_span=self.chunk_rows))
            by_line = _line_signature_array(sum(span.lines for span in spans), self.hasher.num_perm)
            chunks = spans
        else:
            chunks = iter_chunks(source, fmt=fmt, chunk_rows=self.chunk_rows, stats=stats, field_map=parser.field_map)
        parts: list[_Prepared] = []
        rows_read = 0
        shared: dict[str | None, str | None] = {}
        for part in self._map_chunks(chunks, parser, by_line):
            rows_read += len(part.batch) + len(part.rejects)
            if strict and part.rejects:
                from spamflood.errors import InputError

                first = part.rejects[0]
                raise InputError(first.reason, line=first.line, field=first.field)
            shared = part.batch.share_strings(shared)  # one object per account string across chunks
            stats.blank_lines += part.blank_lines
            stats.unreadable.update(part.unreadable)
            parts.append(part)
            if progress is not None:
                progress(rows_read)
        if strict and stats.truncated is not None:
            from spamflood.errors import InputError

            raise InputError(stats.truncated.message())
        line_signatures = [by_line] if by_line is not None else []
        del by_line
        with collector_paused():  # millions of acyclic lists and strings; see collector_paused
            result = self._finish(parts, rows_read, stats.blank_lines, strict, line_signatures)
        result.read = stats
        return result

    def score_frame(self, frame: Any, **kwargs: Any) -> Any:
        """Score a pandas DataFrame of posts (or a list of dicts): one output row per input row,
        with the input's index, so ``df["score"] = detector.score_frame(df)["score"]`` lines up.

        Columns: the output fields of :meth:`ScoreResult.to_frame` and ``reject``. A scored
        row has ``reject`` None; a rejected row (a bad field, a duplicate id) keeps its place
        with the reason in ``reject`` (``"field 'time': empty time"``), ``score`` NaN,
        ``flagged``, ``cluster``, ``cluster_size`` and ``cluster_authors`` ``<NA>`` (nullable
        ``boolean`` and ``Int64`` columns), and ``id``, ``labels``, ``reasons`` None.
        ``kwargs`` are those of :meth:`score`; ``strict=True`` raises at the first bad row.
        """
        import pandas as pd

        if isinstance(frame, (str, os.PathLike)):
            raise ConfigError(
                "score_frame() takes a DataFrame or a list of dicts; "
                "for a file, use score(path).to_frame() (rejected rows are in result.rejects)."
            )
        is_frame = isinstance(frame, pd.DataFrame)
        if not is_frame:
            frame = list(frame)  # read once, counted
        result = self.score(frame, **kwargs)
        return _aligned_frame(result, frame.index if is_frame else pd.RangeIndex(len(frame)))

    @property
    def _text_families(self) -> tuple[str, ...]:
        return TEXT_FAMILIES if self.criteria else ()

    def _map_chunks(
        self, chunks: Iterable[list[RawRow] | JsonlSpan], parser: RowParser, by_line: np.ndarray | None = None
    ) -> Iterator[_Prepared]:
        jobs = self._jobs()
        if jobs <= 1:
            for rows in chunks:
                yield _prepare_chunk(rows, parser, self.hasher, self._text_families, self.tz)
            return
        # Compile the kernels once here, so forked workers inherit them instead of each compiling.
        self.hasher.signatures(["warm up the kernel"])
        warm_up()
        if self._text_families:
            from spamflood.criteria import scan_texts

            scan_texts(["warm up"], TEXT_FAMILIES + BATCH_FAMILIES)  # lexicon automata built once, inherited
        context = multiprocessing.get_context("fork")
        pending: list[Future[_Prepared]] = []
        # Forked workers inherit this heap; frozen, their garbage collections do not walk it.
        gc.freeze()
        try:
            if by_line is None:
                pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
            else:
                pool = ProcessPoolExecutor(
                    max_workers=jobs, mp_context=context, initializer=_share_line_signatures, initargs=(by_line,)
                )
            with pool:
                for rows in chunks:
                    pending.append(
                        pool.submit(_prepare_chunk, rows, parser, self.hasher, self._text_families, self.tz)
                    )
                    if len(pending) == 1:  # the workers are forked now: threads are safe from here on
                        self._start_model_load()
                    if len(pending) >= 2 * jobs:
                        yield pending.pop(0).result()
                for future in pending:
                    yield future.result()
        finally:
            gc.unfreeze()

    def _finish(
        self,
        parts: list[_Prepared],
        rows_read: int,
        blank_lines: int,
        strict: bool,
        line_signatures: list[np.ndarray] | None = None,
    ) -> ScoreResult:
        """Join the chunks, drop duplicate ids, cluster and score. ``parts`` (and
        ``line_signatures``, the array the workers wrote signatures into by line, if they did)
        are emptied here, so that their memory goes as soon as it is not needed."""
        batch = PostBatch.concat([p.batch for p in parts])
        rejects = [r for p in parts for r in p.rejects]
        criteria = _Criteria.concat([p.criteria for p in parts])
        scans = [p.scan for p in parts if p.scan is not None]
        scan = None
        if scans and len(scans) == len(parts):
            from spamflood.criteria import Scan

            scan = Scan.concat(scans)
        clusterable = np.concatenate([p.clusterable for p in parts]) if parts else np.zeros(0, dtype=np.bool_)
        digests = np.concatenate([p.digests for p in parts]) if parts else np.zeros(0, dtype=np.uint64)
        by_line = line_signatures.pop() if line_signatures else None
        if by_line is not None:  # the workers wrote them by line: keep the lines that are posts
            signatures = by_line if len(batch) == len(by_line) else by_line[batch.lines - 1]
            del by_line  # (the last reference: line_signatures was emptied)
        else:
            signatures = self._join_signatures(parts)
        parts.clear()
        release_freed_memory()
        keep = self._unique_ids(batch, rejects, strict)
        if keep is not None:
            batch = batch.take(keep)
            signatures = signatures[keep]
            clusterable = clusterable[keep]
            digests = digests[keep]
            criteria = criteria.take(keep)
            scan = scan.take(keep) if scan is not None else None
        rejects.sort(key=lambda r: r.line)
        unclustered = None
        with ThreadPoolExecutor(1) as pool:  # the clustering kernels release the GIL
            clustering = pool.submit(self._cluster, signatures, clusterable, digests)
            if self.criteria:
                early = tuple(f for f in BATCH_FAMILIES if f not in CLUSTER_FAMILIES)
                unclustered = _Criteria.compute(batch, None, early, self.tz, scan=scan)
            labels, digests = clustering.result()
        del signatures, clustering  # the largest array; scoring needs only the cluster labels
        return self._score(batch, labels, digests, rejects, rows_read, blank_lines, criteria, scan, unclustered)

    def _join_signatures(self, parts: list[_Prepared]) -> np.ndarray:
        """The chunks' signatures as one array. Each chunk's copy is dropped as soon as it is
        copied, so the peak is one full array plus one chunk, not two full arrays."""
        signatures = np.empty((sum(len(p.batch) for p in parts), self.hasher.num_perm), dtype=np.uint32)
        at = 0
        for k, part in enumerate(parts):
            rows = part.signatures.shape[0]
            signatures[at : at + rows] = part.signatures
            part.signatures = np.empty((0, signatures.shape[1]), dtype=signatures.dtype)  # not a view of it
            at += rows
            if k % 8 == 7:
                release_freed_memory()  # the chunks' copies leave as the full array fills
        return signatures

    @staticmethod
    def _unique_ids(batch: PostBatch, rejects: list[Reject], strict: bool) -> np.ndarray | None:
        if len(set(batch.ids)) == len(batch.ids):  # the usual case, found by one C loop
            return None
        seen: dict[str, int] = {}
        duplicate: list[int] = []
        for i, post_id in enumerate(batch.ids):
            if post_id in seen:
                duplicate.append(i)
            else:
                seen[post_id] = i
        if not duplicate:
            return None
        for i in duplicate:
            first_line = int(batch.lines[seen[batch.ids[i]]])
            reject = Reject(
                line=int(batch.lines[i]),
                field="id",
                reason=f"duplicate id '{batch.ids[i]}' (first seen on line {first_line})",
                raw=_raw_post(batch, i),
            )
            if strict:
                from spamflood.errors import InputError

                raise InputError(reject.reason, line=reject.line, field="id")
            rejects.append(reject)
        mask = np.ones(len(batch), dtype=np.bool_)
        mask[duplicate] = False
        return np.flatnonzero(mask)

    def score_prepared(
        self,
        batch: PostBatch,
        signatures: np.ndarray,
        clusterable: np.ndarray,
        rejects: list[Reject] | None = None,
        rows_read: int | None = None,
        blank_lines: int = 0,
    ) -> ScoreResult:
        """Cluster and score a batch whose signatures are already computed (used by engines
        that compute signatures elsewhere, such as Spark)."""
        labels, digests = self._cluster(signatures, clusterable)
        with collector_paused():
            return self._score(batch, labels, digests, rejects, rows_read, blank_lines, None)

    def _cluster(
        self, signatures: np.ndarray, clusterable: np.ndarray, digests: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels, and each signature's digest (``digests`` when the chunks took them)."""
        threads = self._jobs() if len(signatures) >= 50_000 else 1  # threads cost more than they save below
        labels = self.finder.find(signatures, clusterable, threads=threads)
        return labels, signature_digest(signatures) if digests is None else digests

    def _start_model_load(self) -> None:
        if isinstance(self.model, DeferredModel) and self.criteria:  # without criteria it is not used
            self.model.start()

    def _fitted_model(self) -> Any:
        """The model, once a deferred one has finished loading."""
        return self.model.result() if isinstance(self.model, DeferredModel) else self.model

    def _jobs(self) -> int:
        return effective_jobs(self.n_jobs)

    def score_clustered(
        self,
        batch: PostBatch,
        labels: np.ndarray,
        digests: np.ndarray | None = None,
        rejects: list[Reject] | None = None,
        rows_read: int | None = None,
    ) -> ScoreResult:
        """Score a batch whose cluster ids (dense, ``-1`` for none) were found elsewhere."""
        with collector_paused():
            return self._score(batch, labels, digests, rejects, rows_read, 0, None)

    def decide(
        self,
        features: dict[str, np.ndarray],
        strength: dict[str, np.ndarray],
        reasons: dict[str, dict[int, str]],
        n: int,
        *,
        texts: list[str] | None = None,
    ) -> Decision:
        """Every post's score, fired labels with sub-scores, and reasons, strongest first.

        ``features``: named feature columns (the registry's names); ``strength``: the rule
        strength of each label in [0, 1]; ``reasons``: per label, the sentence of each post
        where it fired; ``texts``: the raw texts (read only by a model with a text part).
        With a model (and criteria on) the score is its calibrated probability; without, the
        noisy-or of the rule strengths. Every engine (one machine, Spark) calls this.
        """
        if self.model is None or not self.criteria:
            score = combine(strength, n)
            post_labels, post_reasons = _explain(strength, reasons, n)
            return Decision(score, post_labels, post_reasons, dict(strength))
        model = self._fitted_model()
        model_input: dict[str, Any] = dict(features)
        if getattr(model, "text", False):
            if texts is None:
                raise ConfigError("This model reads the post text; pass texts= to decide().")
            model_input["text"] = texts
        score, heads = model.score_all(model_input, label_floor=LABEL_FLOOR)
        flagged = np.flatnonzero(score >= self.threshold)
        sub_scores: dict[str, np.ndarray] = {}
        fired: dict[str, np.ndarray] = {}
        for label, rule in strength.items():
            if label in heads:
                sub_scores[label] = heads[label]
                fired[label] = heads[label] >= 0.5
            else:  # no head learned for it: the rule says whether it fired, the model how much it weighs
                sub_scores[label] = rule
                fired[label] = rule > 0
        weight = {label: values.copy() for label, values in sub_scores.items()}
        headless = [label for label in strength if label not in heads]
        if flagged.size and headless:
            rows = {k: np.asarray(v)[flagged] if k != "text" else [v[i] for i in flagged] for k, v in model_input.items()}
            drops = model.contributions(rows, {label: FAMILY_FEATURES.get(label, ()) for label in headless})
            for label, drop in drops.items():
                weight[label][flagged] = np.maximum(drop, 0.0)
        # A flag is always explained: a flagged post where no label fired shows its strongest.
        if flagged.size and weight:
            names = list(weight)
            stacked = np.column_stack([weight[k][flagged] for k in names])
            silent = ~np.column_stack([fired[k][flagged] for k in names]).any(axis=1)
            for row in np.flatnonzero(silent):
                best = int(np.argmax(stacked[row]))
                if stacked[row, best] > 0:
                    fired[names[best]][flagged[row]] = True  # arrays made above, not the caller's
        order = {label: np.where(fired[label], np.maximum(weight[label], 1e-9), 0.0) for label in weight}
        post_labels, post_reasons = _explain(order, reasons, n, fallback=lambda label, i: _feature_reason(label, features, i))
        return Decision(score, post_labels, post_reasons, sub_scores)

    def _score(
        self,
        batch: PostBatch,
        labels: np.ndarray,
        digests: np.ndarray | None,
        rejects: list[Reject] | None,
        rows_read: int | None,
        blank_lines: int,
        text_criteria: _Criteria | None,
        scan: Any = None,
        unclustered: _Criteria | None = None,
    ) -> ScoreResult:
        """``unclustered``: the batch families that do not read the clusters, when computed
        already (while the clusters were found)."""
        codes, _names = batch.author_codes()
        codes = batch.known_author_codes(codes, np.flatnonzero(labels >= 0))  # a missing author is no account
        table = cluster_stats(labels, batch.times, codes, window=self.window, digests=digests)
        label_scores = self.rules.score(table, codes, batch.authors, batch.times)
        features = self.rules.cluster_features(table, codes)
        strength = dict(label_scores.strength)
        reasons = dict(label_scores.reasons)
        n = len(batch)
        if self.criteria:
            if text_criteria is None:
                text_criteria = _Criteria.compute(batch, None, TEXT_FAMILIES, self.tz)
            if unclustered is None:
                batch_criteria = _Criteria.compute(batch, labels, BATCH_FAMILIES, self.tz, scan=scan)
            else:
                rest = tuple(f for f in BATCH_FAMILIES if f in CLUSTER_FAMILIES)
                batch_criteria = _Criteria.join([unclustered, _Criteria.compute(batch, labels, rest, self.tz, scan=scan)])
            for part in (text_criteria, batch_criteria):  # their labels are disjoint
                features.update(part.values)
                for label, fired in part.fired.items():
                    strength[label] = np.where(fired, CRITERIA_STRENGTH, 0.0)
                reasons.update(part.sentences)
        decision = self.decide(features, strength, reasons, n, texts=batch.texts)
        return ScoreResult(
            batch=batch,
            clusters=table,
            score=decision.score,
            flagged=decision.score >= self.threshold,
            labels=decision.labels,
            reasons=decision.reasons,
            label_scores=decision.label_scores,
            features=features,
            rejects=list(rejects or []),
            rows_read=n + len(rejects or []) if rows_read is None else rows_read,
            blank_lines=blank_lines,
            threshold=self.threshold,
        )


def effective_jobs(n_jobs: int) -> int:
    """Processes for ``n_jobs`` (``-1``: one per core)."""
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


def _model_name(model: Any) -> str:
    if model is None:
        return "rules"
    if isinstance(model, DeferredModel):  # named by its file, not unpickled for a repr
        return repr(model.path.name)
    return type(model).__name__


def _plain_jsonl_file(source: Any, fmt: str | None) -> TypeGuard[str | Path]:
    """Whether ``source`` is an uncompressed JSONL file on disk (not stdin, not a pipe), which
    worker processes can read by byte ranges."""
    if not isinstance(source, (str, Path)) or str(source) == "-":
        return False
    path = Path(source)
    return (
        path.suffix.lower() != ".gz"
        and path.is_file()
        and detect_format(path, fmt) == "jsonl"
        and json_layout(path) == "lines"  # a JSON array is read whole; pretty JSON is refused
    )


def _explain(
    strength: dict[str, np.ndarray],
    reasons: dict[str, dict[int, str]],
    n: int,
    fallback: Callable[[str, int], str] | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Labels that fired (strength > 0) per post, strongest first, with their reason sentences
    (``fallback(label, post)`` for a label without one)."""
    post_labels: list[list[str]] = [[] for _ in range(n)]
    post_reasons: list[list[str]] = [[] for _ in range(n)]
    if not strength or not n:
        return post_labels, post_reasons
    names = sorted(strength)  # columns in name order: a stable sort then breaks ties by name
    values = np.column_stack([np.asarray(strength[name], dtype=np.float64) for name in names])
    rows = np.flatnonzero((values > 0).any(axis=1))
    if not rows.size:
        return post_labels, post_reasons
    sub = values[rows]
    del values
    order = np.argsort(-sub, axis=1, kind="stable")  # strongest first; the fired ones lead
    fired = np.count_nonzero(sub > 0, axis=1)
    order[np.arange(order.shape[1]) >= fired[:, None]] = len(names)  # past the fired ones: none
    # Posts that fired the same labels in the same order form one group (a few dozen at most):
    # their lists are filled a group and a label at a time, by C loops over the posts.
    width = order.shape[1]
    if (len(names) + 1) ** width < 2**62:  # the pattern as a number
        key = order @ (len(names) + 1) ** np.arange(width - 1, -1, -1, dtype=np.int64)
    else:  # too many labels for that: the patterns numbered by sorting them
        key = np.unique(order, axis=0, return_inverse=True)[1].reshape(-1)
    by_key = np.argsort(key, kind="stable")
    key = key[by_key]
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    said = [reasons.get(name, {}) for name in names]
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        chosen = [j for j in order[by_key[lo]].tolist() if j < len(names)]
        members = rows[by_key[lo:hi]].tolist()
        labels = [names[j] for j in chosen]
        columns = []
        for j in chosen:
            column = list(map(said[j].get, members))
            if None in column or "" in column:  # a label without its sentence for some posts
                name = names[j]
                column = [r or (fallback(name, i) if fallback else name) for r, i in zip(column, members)]
            columns.append(column)
        for i, post_reasons_i in zip(members, zip(*columns)):
            post_labels[i] = labels.copy()
            post_reasons[i] = list(post_reasons_i)
    return post_labels, post_reasons


def _feature_reason(label: str, features: dict[str, np.ndarray], i: int) -> str:
    """A reason from feature values, for a label the model found without a rule's sentence."""
    shown = []
    for name in FAMILY_FEATURES.get(label, ()):
        column = features.get(name)
        if column is None:
            continue
        value = float(column[i])
        if value == value and value != 0:
            shown.append(f"{FEATURES[name].description} {value:g}")
        if len(shown) == 3:
            break
    return f"{label}: " + ("; ".join(shown) if shown else "the model's weighing of this post's features")


def _raw_post(batch: PostBatch, i: int) -> str:
    import json

    post = batch.post(i)
    return json.dumps(
        {"id": post.id, "text": post.text, "author": post.author, "time": post.time}, ensure_ascii=False
    )
