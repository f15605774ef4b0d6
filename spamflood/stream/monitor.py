"""FloodMonitor: one post in, one verdict out, over a sliding window that forgets.

For each post: normalize it for shingling (:func:`spamflood.normalize.shingle_text`), compute
its MinHash signature and LSH band keys (:class:`~spamflood.stream.sketch.Sketcher`); the
store finds the posts inside the window that share a band bucket, verifies them by estimated
Jaccard similarity against their stored signatures, and records the post in the best match's
cluster, or in a new one. It answers with the cluster's counts inside the window; the labels,
strengths and reason sentences are those of the batch detector (:mod:`spamflood.scoring`).

The store does the lookup, the verification and the recording in one atomic step
(:mod:`spamflood.stream.store`), so monitors in several processes sharing one Redis store
never race.

Event time and late posts
-------------------------
The window is measured in the posts' own times, not the clock: the store keeps a *watermark*
(the latest post time seen, by any worker sharing the store) and the window is
``[watermark - window, watermark]``. A post that arrives out of order but still inside the
window is indexed and counted as usual (its verdict carries the counts of the window ending at
the watermark). A post older than ``watermark - window`` is *late*: it is neither indexed nor
counted, and its verdict has ``late=True``, no cluster, and one reason saying how late it was
(to judge an out-of-order feed in time order, reorder it first: ``spamflood watch
--allowed-lateness`` or ``--sort``, :class:`~spamflood.stream.reorder.ReorderBuffer`). Workers sharing a Redis store share
its watermark, so a worker that lags the others by more than a window sees its posts as late.
A post without a time (a feed read with ``--optional time``) takes the monitor's clock (wall
time) as its time.

A monitor is not thread-safe: give each thread or process its own (they may share a Redis
store through their own :class:`~spamflood.stream.RedisStore` objects).

Differences from the batch detector, by design
----------------------------------------------
A stream cannot revise the past: a post joins the cluster of the best verified candidate
among the newest posts of its buckets, and two clusters are never merged afterwards (a post
that resembles both joins the closer one). Counts are sliding-window counts at the moment of
the post, so ``repetition`` counts one account's copies inside the window, where the batch
detector counts them over the whole batch.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self

import numpy as np

from spamflood import _params
from spamflood.cluster import BAND_HASH_VERSION, lsh_params
from spamflood.durations import human_duration
from spamflood.errors import ConfigError, InputError
from spamflood.io.rows import RowParser
from spamflood.minhash import MinHasher
from spamflood.normalize import shingle_text
from spamflood.posts import Post
from spamflood.scoring import (
    RuleScorer,
    combine,
    label_strength,
    mass_share_reason,
    repetition_reason,
)
from spamflood.stream.memory_store import MemoryStore
from spamflood.stream.sketch import Sketcher
from spamflood.stream.store import Counts, Entry, FloodStore, IndexSize, Late
from spamflood.stream.verdict import Verdict

__all__ = ["FloodMonitor"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class FloodMonitor:
    """Watches a stream of posts and flags a flood the moment it forms.

    A plain structure (not an estimator): parameters are validated here; the state lives in
    the store. ``add`` is the streaming ``*_one`` method: one post in, one :class:`Verdict` out.

    Parameters
    ----------
    window : sliding window, seconds or text like ``"15min"``, ``"1h"`` (event time).
    min_authors : distinct accounts of one cluster inside the window that make a flood
        (``mass_share``).
    min_copies : posts of one cluster by one account inside the window that make ``repetition``.
    threshold : estimated Jaccard similarity (character n-grams) at which two posts are copies.
    store : ``"memory"``, a Redis URL (``redis://[:password@]host:port/db``, ``rediss://`` for
        TLS, ``unix://``) so that several workers share one index, or a store object
        (:class:`~spamflood.stream.MemoryStore`, :class:`~spamflood.stream.RedisStore`) with
        the same ``window``.
    num_perm, ngram, seed : MinHash signature length, shingle size and permutation seed (every
        worker sharing a store must use the same; the Redis store refuses others).
    key_prefix : prefix of every Redis key, one per deployment (ignored for other stores).
    recall : probability that a pair at ``threshold`` shares an LSH band
        (:func:`spamflood.cluster.lsh_params`); 0.98 gives 25 bands of 5 rows for 0.7 and 128.
    clock : the time given to posts that have none (default: wall time).

    Examples
    --------
    >>> monitor = FloodMonitor(window="1h", min_authors=3)
    >>> text = "限时抢购！加微信 abc123 领取优惠券，仅限今天"
    >>> verdicts = [monitor.add({"id": f"p{i}", "text": text, "author": f"u{i}", "time": 1_700_000_000 + 60 * i})
    ...             for i in range(3)]
    >>> [v.flood for v in verdicts]
    [False, False, True]
    >>> verdicts[-1].reasons[0]
    'mass_share: 3 near-identical posts from 3 accounts within 2 min'
    """

    def __init__(
        self,
        *,
        window: float | str = "1h",
        min_authors: int = 5,
        min_copies: int = 3,
        threshold: float = 0.7,
        store: str | FloodStore = "memory",
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        key_prefix: str = "spamflood",
        recall: float = 0.98,
        clock: Callable[[], float] = _time.time,
    ) -> None:
        owner = "FloodMonitor"
        self.window = _params.duration(owner, "window", window)
        self.rules = RuleScorer(
            min_authors=_params.integer(owner, "min_authors", min_authors, 2),
            min_copies=_params.integer(owner, "min_copies", min_copies, 2),
        )
        self.threshold = _params.real(owner, "threshold", threshold, 0.0, 1.0, closed="neither")
        num_perm = _params.integer(owner, "num_perm", num_perm, 2)
        ngram = _params.integer(owner, "ngram", ngram, 1)
        seed = _params.integer(owner, "seed", seed, 0, 2**32 - 1)
        key_prefix = _params.text(owner, "key_prefix", key_prefix)
        recall = _params.real(owner, "recall", recall, 0.0, 1.0, closed="neither")
        if not callable(clock):
            _params.fail(owner, "clock", "a callable giving epoch seconds, like time.time", clock)
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
        self.bands, self.rows = lsh_params(self.threshold, num_perm, recall)
        self._need = math.ceil(self.threshold * num_perm - 1e-9)
        self._sketch = Sketcher(self.hasher, bands=self.bands, rows=self.rows)
        self._parser = RowParser()
        self._clock = clock
        self._added = 0
        self._scored: dict[tuple[int, int], tuple[tuple[str, ...], float]] = {}
        self.store: FloodStore = _make_store(store, self.window, key_prefix)
        self.store.bind(
            f"num_perm={num_perm} ngram={ngram} seed={seed} bands={self.bands} rows={self.rows} "
            f"threshold={self.threshold!r} band_hash={BAND_HASH_VERSION}",
            num_perm=num_perm,
            need=self._need,
        )

    def __repr__(self) -> str:
        return (
            f"FloodMonitor(window={human_duration(self.window)!r}, min_authors={self.rules.min_authors}, "
            f"min_copies={self.rules.min_copies}, threshold={self.threshold}, store={self.store!r})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def min_authors(self) -> int:
        return self.rules.min_authors

    @property
    def min_copies(self) -> int:
        return self.rules.min_copies

    def add(self, post: Post | Mapping[str, Any]) -> Verdict:
        """Index one post and give its verdict.

        ``post`` is a :class:`~spamflood.posts.Post` or a mapping with the canonical fields
        (``id``, ``text``, ``author``, ``time``; times as epoch seconds or ISO 8601 text), which
        is validated like an input row: a bad one raises :class:`~spamflood.errors.InputError`
        naming the field. A post seen again (same id and time) inside the window is counted once.
        """
        prepared = self._prepare(post)
        if isinstance(prepared, Verdict):
            return prepared
        return self._conclude(prepared, self.store.add(prepared))

    def add_many(self, posts: Iterable[Post | Mapping[str, Any]], *, batch_size: int = 256) -> list[Verdict]:
        """:meth:`add` every post, in order; the verdicts in the same order.

        The same verdicts as :meth:`add` one by one; the Redis store sends up to
        ``batch_size`` posts to the server in one pipelined round trip.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"The 'batch_size' parameter of add_many must be an integer >= 1. Got {batch_size!r} instead.")
        out: list[Verdict] = []
        batch: list[Post | Mapping[str, Any]] = []
        for post in posts:
            batch.append(post)
            if len(batch) >= batch_size:
                out.extend(self._add_batch(batch))
                batch = []
        if batch:
            out.extend(self._add_batch(batch))
        return out

    def _add_batch(self, batch: list[Post | Mapping[str, Any]]) -> list[Verdict]:
        verdicts: list[Verdict | None] = []
        entries: list[Entry] = []
        for post in batch:
            prepared = self._prepare(post)
            if isinstance(prepared, Verdict):
                verdicts.append(prepared)
            else:
                verdicts.append(None)
                entries.append(prepared)
        results = iter(zip(entries, self.store.add_many(entries)))
        return [v if v is not None else self._conclude(*next(results)) for v in verdicts]

    def _prepare(self, post: Post | Mapping[str, Any]) -> Entry | Verdict:
        """The post as the store sees it, or its verdict if it has nothing to compare."""
        self._added += 1
        if not isinstance(post, Post):
            if not isinstance(post, Mapping):
                raise InputError(
                    f"add() takes a Post or a mapping with id, text, author and time. Got {type(post).__name__} instead."
                )
            post = self._parser.parse(self._added, post)
        t = post.time
        if math.isnan(t):
            t = float(self._clock())
        elif not math.isfinite(t):
            raise InputError(f"time must be finite. Got {t} instead.", line=post.line or None, field="time")
        shingled = shingle_text(post.text)
        if not shingled:  # nothing left to compare (emoji or punctuation only): a post alone
            return Verdict(post.id, None, 1, 1, 1, False, (), (), 0.0)
        signature, keys = self._sketch(shingled)
        return Entry(post.id, post.author, t, keys, signature)

    def _conclude(self, entry: Entry, result: Counts | Late) -> Verdict:
        if isinstance(result, Late):
            reason = (
                f"late: {human_duration(result.watermark - entry.time)} older than the newest post seen, outside "
                f"the {human_duration(self.window)} window: not judged or counted"
            )
            return Verdict(entry.post_id, None, 1, 1, 1, False, (), (reason,), 0.0, late=True)
        return self._verdict(entry.post_id, entry.author, result)

    def size(self) -> IndexSize:
        """What the store's index holds now (posts, bucket entries, clusters, watermark)."""
        return self.store.size()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def _verdict(self, post_id: str, author: str, c: Counts) -> Verdict:
        rules = self.rules
        flood = c.authors >= rules.min_authors
        repeated = c.copies >= rules.min_copies
        if not flood and not repeated:
            return Verdict(post_id, c.cluster, c.size, c.authors, c.copies, False, (), (), 0.0)
        key = (c.authors if flood else 0, c.copies if repeated else 0)
        scored = self._scored.get(key)
        if scored is None:
            scored = self._score(*key)
        labels, score = scored
        reasons = []
        for label in labels:
            if label == "mass_share":
                reasons.append(mass_share_reason(c.size, c.authors, c.last_time - c.first_time, self.window))
            else:
                reasons.append(repetition_reason(author, c.copies, c.author_last - c.author_first))
        return Verdict(post_id, c.cluster, c.size, c.authors, c.copies, flood, labels, tuple(reasons), score)

    def _score(self, authors: int, copies: int) -> tuple[tuple[str, ...], float]:
        """Labels (strongest first) and score for these counts (0: the label did not fire),
        with the batch detector's curves; remembered, since counts repeat."""
        strength = {}
        if authors:
            strength["mass_share"] = label_strength(np.array([authors]), self.rules.min_authors)
        if copies:
            strength["repetition"] = label_strength(np.array([copies]), self.rules.min_copies)
        labels = tuple(sorted(strength, key=lambda name: (-float(strength[name][0]), name)))
        scored = (labels, float(combine(strength, 1)[0]))
        if len(self._scored) >= 65_536:
            self._scored.clear()
        self._scored[(authors, copies)] = scored
        return scored


def _make_store(store: str | FloodStore, window: float, key_prefix: str) -> FloodStore:
    if isinstance(store, str):
        if store == "memory":
            return MemoryStore(window)
        if store.startswith(_REDIS_SCHEMES):
            from spamflood.stream.redis_store import RedisStore

            return RedisStore(store, window=window, key_prefix=key_prefix)
    if isinstance(store, str) or not isinstance(store, FloodStore):
        shown = _safe(store) if isinstance(store, str) else store  # never a password in a message
        _params.fail(
            "FloodMonitor",
            "store",
            "'memory', a Redis URL (redis://host:6379/0, rediss:// for TLS, unix://) or a store object "
            "(lookup, commit, bind, size, close)",
            shown,
        )
    if store.window != window:
        raise ConfigError(
            f"The store's window ({human_duration(store.window)}) differs from the monitor's "
            f"({human_duration(window)}); build the store with window={window}."
        )
    return store


def _safe(url: str) -> str:
    """``url`` without a password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
