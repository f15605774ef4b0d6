"""The batch detector: read -> normalize -> MinHash -> clusters -> labels -> scored posts.

Reading, validation, normalization and signatures run per chunk (:mod:`spamflood.chunks`, in
worker processes when ``n_jobs > 1``); clustering needs the whole batch and runs once in the
calling process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spamflood import _params
from spamflood._forked import Forked
from spamflood._memory import collector_paused
from spamflood.chunks import ChunkWork, PreparedChunk, effective_jobs, input_chunks, join_chunks, map_chunks
from spamflood.cluster import ClusterFinder, cluster_stats, signature_digest
from spamflood.coordination import INTERVAL, CoordinatedGroups, Coordination, PostObjects
from spamflood.criteria.batch_accounts import account_evidence
from spamflood.criteria.context import Columns, columns_from
from spamflood.criteria.registry import feature_names
from spamflood.decision import (
    CLUSTER_FAMILIES,
    FEED_FAMILIES,
    POST_FAMILIES,
    Decider,
    Decision,
    Findings,
    cluster_findings,
)
from spamflood.durations import human_duration
from spamflood.errors import ConfigError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.layout import Layout
from spamflood.io.readers import ReadStats
from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS, Reject, RowParser
from spamflood.minhash import MinHasher
from spamflood.model.store import DeferredModel
from spamflood.posts import PostBatch
from spamflood.result import ScoredPost, ScoreResult, aligned_frame
from spamflood.scoring import RuleScorer

__all__ = ["Decision", "Detector", "ScoreResult", "ScoredPost"]

MODEL_SETTINGS: tuple[str, ...] = (
    "similarity", "window", "min_authors", "min_copies", "interval", "min_coposts", "num_perm", "ngram", "seed", "tz"
)
"""Detector parameters that change feature values: saved with a model, restored by ``load``."""

PARALLEL_ROWS = 50_000
"""Batches from this size on are clustered on threads and have their feed and cluster families
found in forked copies (with ``n_jobs > 1``); below it, starting them costs more than it saves."""


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
    interval : the coordination interval: two accounts posting the same link, hashtag,
        mention or repost within it co-post (seconds, or ``"1min"``; :mod:`spamflood.coordination`).
    min_coposts : co-posting occasions that tie two accounts into a ``coordinated`` group.
    num_perm, ngram, seed : MinHash signature length, shingle size and permutation seed.
    n_jobs : worker processes for reading, normalizing and hashing (``-1``: all cores).
    chunk_rows : rows read, checked and hashed together (one task of a worker).
    criteria : run the article's criteria families (soft ads, festival copy, hijacked news,
        micro-business, inspirational posts, batch accounts, auto posting) beside the clusters;
        ``False`` scores the cluster labels alone (faster).
    coordinated : look for coordinated groups on shared links, hashtags, mentions and reposts
        (the ``coordinated`` label, :mod:`spamflood.coordination`); ``False`` skips them: the
        label is never listed, its features are missing (NaN) and ``result.groups`` is ``None``
        (to measure what coordination costs, or where the export's accounts mean nothing).
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
        interval: float | str = INTERVAL,
        min_coposts: int = 3,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        n_jobs: int = 1,
        chunk_rows: int = 20_000,
        criteria: bool = True,
        coordinated: bool = True,
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
        self.coordinated = _params.boolean(owner, "coordinated", coordinated)
        self.tz = _params.time_zone(owner, "tz", tz)
        if model is not None and not isinstance(model, DeferredModel) and not callable(getattr(model, "score_all", None)):
            _params.fail(owner, "model", "None or a fitted FloodModel (see Detector.load)", model)
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
        self.finder = ClusterFinder(threshold=self.similarity, num_perm=num_perm)
        self.rules = RuleScorer(min_authors=min_authors, min_copies=min_copies)
        self.coordination = Coordination(interval=interval, min_authors=min_authors, min_coposts=min_coposts)
        self.model = model
        self.model_manifest: dict[str, Any] = {}
        self._compiled_text: tuple[Any, Any] | None = None  # (model, its compiled text part): compiled once per model
        self._decider: Decider | None = None  # kept while the rules, model and threshold are the same

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_compiled_text"] = state["_decider"] = None  # compiled again where it is unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("_compiled_text", None)
        state.setdefault("_decider", None)
        self.__dict__.update(state)

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
            "interval": self.coordination.interval,
            "min_coposts": self.coordination.min_coposts,
            "num_perm": self.hasher.num_perm,
            "ngram": self.hasher.ngram,
            "seed": self.hasher.seed,
            "tz": self.tz,
        }

    def __repr__(self) -> str:
        return (
            f"Detector(threshold={self.threshold}, similarity={self.similarity}, "
            f"window={human_duration(self.window)!r}, min_authors={self.rules.min_authors}, "
            f"min_copies={self.rules.min_copies}, interval={human_duration(self.coordination.interval)!r}, "
            f"min_coposts={self.coordination.min_coposts}, n_jobs={self.n_jobs}, "
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
        layout: Layout | None = None,
    ) -> ScoreResult:
        """Score ``posts``: a file path (JSONL/CSV/Parquet/lines, ``-`` for stdin), input files
        read as one feed (:class:`~spamflood.io.layout.InputFile`), a pandas DataFrame, a
        :class:`PostBatch`, or an iterable of dicts in the field map's shape. ``layout``: how
        plain inputs read (:class:`~spamflood.io.layout.Layout`).

        Rows that fail validation are not scored; they are in ``result.rejects`` with their line
        and reason. With ``strict=True`` the first one raises :class:`~spamflood.errors.InputError`.
        An optional field that cannot be read is taken as missing and counted in
        ``result.read.unreadable``. An input that breaks off (a truncated ``.gz``) gives the rows
        before the break, and ``result.read.truncated`` says where (``strict``: it raises).
        """
        parser = RowParser(field_map, tz=tz, max_text_chars=max_text_chars)
        work = ChunkWork(
            parser, self.hasher, POST_FAMILIES if self.criteria else (), self.tz, self._jobs(), self.coordinated, self._text_part()
        )
        stats = ReadStats()
        source = list(posts) if isinstance(posts, PostBatch) else posts
        chunks, by_line = input_chunks(source, fmt, work, self.chunk_rows, stats, layout)
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
        batch, rejects, post, scan = joined.batch, joined.rejects, joined.criteria, joined.scan
        fork = self._forks(len(batch))
        feed: Forked[Findings] = Forked(Findings.empty, len(batch), fork=False)
        columns = None
        if self.criteria:
            columns = columns_from(batch)  # read once by the feed and the cluster families
            feed = Forked(Findings.compute, columns, None, FEED_FAMILIES, self.tz, scan=scan, fork=fork)
        try:
            # the feed families run on another core (forked) or after this, on this thread: the
            # clustering takes the cores left (its kernels release the GIL)
            cores = self._jobs() if fork or not self.criteria else self._jobs() - 1
            with ThreadPoolExecutor(1) as pool:
                clustering = pool.submit(self._cluster, joined.signatures, joined.clusterable, joined.digests, cores)
                if columns is not None:
                    if not fork:
                        feed.result()
                    columns.accounts = account_evidence(columns)  # needs no cluster: measured meanwhile
                coordinated, groups = self._coordinated(batch, joined.objects)
                labels, digests = clustering.result()
            text_scores = joined.text_scores
            del joined, clustering  # the signatures, the largest array; scoring needs only the cluster labels
            found = _Found(batch, labels, digests, post, feed, coordinated, groups, scan, columns, text_scores)
            return self._score(found, rejects, rows_read, blank_lines, fork)
        finally:
            feed.close()

    def _forks(self, n: int) -> bool:
        """Whether the stages after the join run in forked copies beside this process: with
        several jobs, on a batch large enough to pay for the fork. A model loading on a thread
        is waited for first (a fork while it runs could leave its locks held in the copy)."""
        if self._jobs() <= 1 or n < PARALLEL_ROWS:
            return False
        if isinstance(self.model, DeferredModel):
            self.model.wait()
        return True

    def _cluster(
        self, signatures: np.ndarray, clusterable: np.ndarray, digests: np.ndarray | None = None, cores: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels, and each signature's digest (``digests`` when the chunks took them),
        on up to ``cores`` threads."""
        threads = max(1, cores) if len(signatures) >= PARALLEL_ROWS else 1
        labels = self.finder.find(signatures, clusterable, threads=threads)
        return labels, signature_digest(signatures) if digests is None else digests

    def _coordinated(
        self, batch: PostBatch, objects: PostObjects | None = None
    ) -> tuple[Findings, CoordinatedGroups | None]:
        """The coordinated groups and the ``coordinated`` label's findings
        (:mod:`spamflood.coordination`; ``objects``: the batch's, when the chunks found them).
        Not looked for (``coordinated=False``): no groups, the features missing."""
        if not self.coordinated:
            missing = {name: np.full(len(batch), np.nan) for name in feature_names(["coordinated"])}
            return Findings(missing, {"coordinated": np.zeros(len(batch), dtype=bool)}, {"coordinated": {}}, len(batch)), None
        groups = self.coordination.groups(batch, objects)
        values, fired, sentences = self.coordination.findings(batch, groups)
        return Findings(values, {"coordinated": fired}, {"coordinated": sentences}, len(batch)), groups

    def _text_part(self) -> Any:
        """The model's compiled text part, for the chunks to score each post's matching form
        where they hold it (:mod:`spamflood.model.text_kernel`), or ``None``: no model, criteria
        off, no text part, or one the loop does not reproduce (the model then reads the texts
        itself). A deferred model whose manifest records a text model gives the part of its
        trees file, or, without one, is loaded here, before the workers fork, so that they
        inherit the part."""
        model = self.model
        if model is None or not self.criteria:
            return None
        if isinstance(model, DeferredModel):
            if not self.model_manifest.get("training", {}).get("text_model"):
                return None
            if model.compiled is not None:  # read from the trees file: nothing to unpickle
                return model.compiled.text
            model = model.result()
        if not getattr(model, "text", False) or getattr(model, "text_form_", "raw") != "normalized":
            return None
        from spamflood.model.text_kernel import compile_text

        cached = self._compiled_text
        if cached is None or cached[0] is not model:
            cached = self._compiled_text = (model, compile_text(model.text_model_))
        return cached[1]

    def _start_model_load(self) -> None:
        if isinstance(self.model, DeferredModel) and self.criteria:  # without criteria it is not used
            self.model.start()

    def _jobs(self) -> int:
        return effective_jobs(self.n_jobs)

    @property
    def decider(self) -> Decider:
        """The decision step (:mod:`spamflood.decision`) with this detector's rules and model
        (the model only with criteria on: it reads every criteria feature). The same one while
        they are the same, so that the model is compiled once, not at every call."""
        model = self.model if self.criteria else None
        held = self._decider
        if held is None or held.scorer is not self.rules or held.model is not model or held.threshold != self.threshold:
            held = self._decider = Decider(self.rules, model, self.threshold)
        return held

    def decide(
        self,
        findings: Findings,
        *,
        texts: list[str] | None = None,
        text_scores: np.ndarray | None = None,
        beside: Callable[[Callable[[], list[str]]], Forked[list[str]]] | None = None,
    ) -> Decision:
        """Every post's score, labels (exactly those whose rule fired) and reasons, from what an
        engine found (:meth:`spamflood.decision.Decider.decide`). Every engine calls this."""
        return self.decider.decide(findings, texts=texts, text_scores=text_scores, beside=beside)

    def _score(self, found: _Found, rejects: list[Reject], rows_read: int, blank_lines: int, fork: bool = False) -> ScoreResult:
        """Cluster statistics, the cluster families (``fork``: in a forked copy, beside the
        cluster labels' findings here), and the decision over all the findings."""
        batch, labels = found.batch, found.labels
        clustered: Forked[Findings] = Forked(Findings.empty, len(batch), fork=False)
        if self.criteria:
            assert found.columns is not None  # (made with the criteria on)
            clustered = Forked(
                Findings.compute, columns_from(found.columns, labels), None, CLUSTER_FAMILIES, self.tz, scan=found.scan, fork=fork
            )
        try:
            codes, _names = batch.author_codes()
            codes = batch.known_author_codes(codes, np.flatnonzero(labels >= 0))  # a missing author is no account
            table = cluster_stats(labels, batch.times, codes, window=self.window, digests=found.digests)
            parts = [cluster_findings(self.rules, table, codes, batch.authors, batch.times), found.coordinated]
            if self.criteria:
                parts += [found.post, Findings.join([found.feed.result(), clustered.result()])]
        finally:
            clustered.close()
        findings = Findings(  # the parts' families are disjoint
            {k: v for p in parts for k, v in p.values.items()},
            {k: v for p in parts for k, v in p.fired.items()},
            {k: v for p in parts for k, v in p.sentences.items()},
            len(batch),
        )
        # with fork: a forked copy writes the score reasons while this process lists the labels
        # (with the compiled model only: scikit-learn's thread pool does not survive a fork)
        beside = functools.partial(Forked, fork=True) if fork and self.decider.compiled else None
        decision = self.decide(findings, texts=batch.texts, text_scores=found.text_scores, beside=beside)
        return ScoreResult(
            batch=batch,
            clusters=table,
            score=decision.score,
            flagged=decision.score >= self.threshold,
            labels=decision.labels,
            reasons=decision.reasons,
            label_scores=decision.label_scores,
            features=findings.values,
            rejects=rejects,
            rows_read=rows_read,
            blank_lines=blank_lines,
            threshold=self.threshold,
            groups=found.groups,
        )


@dataclass
class _Found:
    """What the chunks and the clustering found for a batch: the posts, their cluster ids and
    signature digests, the post families' findings (from the chunks), the feed families' (from
    a forked copy, or computed while the clusters were found) and the coordinated groups', and
    the lexicon counts the batch families read."""

    batch: PostBatch
    labels: np.ndarray
    digests: np.ndarray
    post: Findings
    feed: Forked[Findings]
    coordinated: Findings
    groups: CoordinatedGroups | None
    scan: Any = None
    columns: Columns | None = None
    """The batch as the criteria read it, with its accounts' own evidence (criteria on)."""
    text_scores: np.ndarray | None = None
    """The model's text score of each post, from the chunks (a model with a text part)."""


def _model_name(model: Any) -> str:
    if model is None:
        return "rules"
    if isinstance(model, DeferredModel):  # named by its file, not unpickled for a repr
        return repr(model.path.name)
    return type(model).__name__
