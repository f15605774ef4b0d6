"""The batch detector: read -> normalize -> MinHash -> clusters -> labels -> scored posts.

Reading, validation, normalization and signatures run per chunk (:mod:`spamflood.chunks`, in
worker processes when ``n_jobs > 1``); clustering needs the whole batch and runs once in the
calling process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spamflood import _params
from spamflood._memory import collector_paused
from spamflood.chunks import ChunkWork, PreparedChunk, effective_jobs, input_chunks, join_chunks, map_chunks
from spamflood.cluster import ClusterFinder, cluster_stats, signature_digest
from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.durations import human_duration
from spamflood.errors import ConfigError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.readers import ReadStats
from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS, Reject, RowParser
from spamflood.minhash import MinHasher
from spamflood.model.store import DeferredModel
from spamflood.posts import PostBatch
from spamflood.result import ScoredPost, ScoreResult, aligned_frame
from spamflood.scoring import RuleScorer, combine

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
        data: PostBatch | list[str],
        clusters: np.ndarray | None,
        families: tuple[str, ...],
        tz: str,
        normalized: bool = False,
        scan: Any = None,
        dtype: Any = np.float64,
    ) -> _Criteria:
        from spamflood.criteria import evaluate

        n = len(data)
        if not families or not n:
            return cls({}, {}, {}, n)
        ev = evaluate(data, clusters, families=families, tz=tz, normalized=normalized, scan=scan, dtype=dtype)
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
        work = ChunkWork(parser, self.hasher, TEXT_FAMILIES if self.criteria else (), self.tz, self._jobs())
        stats = ReadStats()
        source = list(posts) if isinstance(posts, PostBatch) else posts
        chunks, by_line = input_chunks(source, fmt, work, self.chunk_rows, stats)
        parts: list[PreparedChunk] = []
        rows_read = 0
        shared: dict[str | None, str | None] = {}
        for part in map_chunks(chunks, work, by_line, on_fork=self._start_model_load):
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
        return aligned_frame(result, frame.index if is_frame else pd.RangeIndex(len(frame)))

    def _finish(
        self,
        parts: list[PreparedChunk],
        rows_read: int,
        blank_lines: int,
        strict: bool,
        line_signatures: list[np.ndarray] | None = None,
    ) -> ScoreResult:
        """Join the chunks (:func:`~spamflood.chunks.join_chunks`, which empties ``parts`` and
        ``line_signatures``), cluster and score."""
        joined = join_chunks(parts, line_signatures or [], self.hasher.num_perm, strict)
        batch, rejects, criteria, scan = joined.batch, joined.rejects, joined.criteria, joined.scan
        unclustered = None
        with ThreadPoolExecutor(1) as pool:  # the clustering kernels release the GIL
            clustering = pool.submit(self._cluster, joined.signatures, joined.clusterable, joined.digests)
            if self.criteria:
                early = tuple(f for f in BATCH_FAMILIES if f not in CLUSTER_FAMILIES)
                unclustered = _Criteria.compute(batch, None, early, self.tz, scan=scan)
            labels, digests = clustering.result()
        del joined, clustering  # the signatures, the largest array; scoring needs only the cluster labels
        return self._score(batch, labels, digests, rejects, rows_read, blank_lines, criteria, scan, unclustered)

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


def _model_name(model: Any) -> str:
    if model is None:
        return "rules"
    if isinstance(model, DeferredModel):  # named by its file, not unpickled for a repr
        return repr(model.path.name)
    return type(model).__name__


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
