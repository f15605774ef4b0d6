"""FloodMonitor: one post in, one verdict out, over a sliding window that forgets.

For each post: normalize it for shingling (:func:`spamflood.normalize.shingle_text`), compute
its MinHash signature and LSH band keys (:class:`~spamflood.stream.sketch.Sketcher`); the
store finds the posts inside the window that share a band bucket, verifies them by estimated
Jaccard similarity against their stored signatures, and records the post in the best match's
cluster, or in a new one. It answers with the cluster's counts inside the window.

The verdict comes from the decision step every engine calls (:mod:`spamflood.decision`): the
monitor finds, per post, the post-scope criteria (``soft_ad``, ``hotspot_hijack``,
``microbusiness``, ``fan_farming``: the text alone, exactly as the batch detector computes them), the cluster
labels from the counts so far (``mass_share``, ``repetition``: the batch detector's features,
rules and sentences) and ``holiday_template``; a label is listed exactly when its own rule
fires, with the batch detector's reason. The score is the model's (``model``, as
``spamflood score`` has it) or the rule score. ``coordinated`` comes from the accounts'
co-posting so far (below). Families the stream cannot compute (an account's posting clock,
``auto_posting`` and ``chicken_soup``; ``batch_accounts``) have their features missing (NaN)
and are never listed; :attr:`FloodMonitor.families` says which families a monitor computes.

Coordinated groups
------------------
The monitor grows the batch's account network post by post (:mod:`spamflood.stream.coposting`,
the rules of :mod:`spamflood.coordination`; with a Redis store the same network lives in Redis,
:mod:`spamflood.stream.redis_coposting`, so every monitor sharing the server grows one): per object
the posts of the last ``interval``, per pair of accounts the interval slots in which they
co-posted, per account its own slots, and the groups (connected components) of the pairs that
meet the edge rule. A post whose author is in a group and that carries one of the group's
objects gets the group's counts so far, and ``coordinated`` with the batch's reason when the
group has ``min_authors`` accounts and a median of ``min_coposts`` occasions: the post that
completes a group raises the flag. Occasions and posts older than ``horizon`` (default: the
window) behind the newest post are forgotten, so a campaign whose waves are further apart
than the horizon is not seen as one group; on a stream in time order whose horizon holds it
all, the last post's verdict is the batch's. Posts without an author or a time of their own
never co-post. On Redis each post's update is one atomic script, so two workers that see two
accounts of a group at the same instant still count both, and a memory monitor and a Redis
monitor give the same counts, labels and reasons on the same stream. A store object of
another kind keeps no account network: such a monitor does not compute ``coordinated`` (its
features missing, the label never listed, ``families`` leaves it out).

``holiday_template`` reads how many accounts share a festival post's template, which the
batch detector counts over the whole feed by template skeleton. The stream keeps no feed:
in the stream a festival template's sharing is counted within the post's near-duplicate
cluster inside the window (its accounts and posts so far), so the same greeting sent by
brands whose copies are not near-duplicates of each other is not counted as shared.

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
detector counts them over the whole batch, and a post's verdict says the counts *so far*: it
is the batch detector's verdict on that post once the post's cluster is complete inside the
window (the last copy of a flood gets the batch labels and reasons; the earlier ones the
counts until then).
"""

from __future__ import annotations

import math
import os
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Self

import numpy as np

from spamflood import _params
from spamflood.cluster import BAND_HASH_VERSION, lsh_params
from spamflood.coordination import INTERVAL, MIN_OVERLAP, Coordination, coordinated_reason, objects_in
from spamflood.criteria.context import Columns
from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.criteria.rules import label_scores
from spamflood.decision import POST_FAMILIES, Decider, Findings
from spamflood.durations import human_duration
from spamflood.errors import ConfigError, InputError
from spamflood.io.rows import RowParser
from spamflood.minhash import MinHasher
from spamflood.model.store import DeferredModel
from spamflood.normalize import normalize, shingle_text
from spamflood.posts import Post
from spamflood.scoring import RuleScorer, mass_share_reason, repetition_reason
from spamflood.stream.coposting import CoPosting, GroupCounts
from spamflood.stream.memory_store import MemoryStore
from spamflood.stream.sketch import Sketcher
from spamflood.stream.store import Counts, Entry, FloodStore, IndexSize, Late
from spamflood.stream.verdict import Verdict

if TYPE_CHECKING:
    from spamflood.stream.redis_coposting import RedisCoPosting

__all__ = ["FloodMonitor"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

STREAM_FAMILIES: tuple[str, ...] = (*POST_FAMILIES, "holiday_template")
"""The criteria families the stream computes per post: those that read one post, and
``holiday_template`` with its sharing counted in the post's cluster (see the module docstring)."""

CLUSTER_LABELS: tuple[str, ...] = ("mass_share", "repetition")
_CLUSTER_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES.values() if f.label in CLUSTER_LABELS)
_AUTHORS, _SIZE, _RATE, _SPAN, _COPIES, _ACCOUNTS, _SHARE = (
    _CLUSTER_FEATURES.index(name)
    for name in (
        "MASS_SHARE_AUTHORS_IN_WINDOW",
        "MASS_SHARE_CLUSTER_SIZE",
        "MASS_SHARE_PEAK_RATE",
        "MASS_SHARE_CLUSTER_SPAN",
        "REPETITION_SAME_AUTHOR_COPIES",
        "MASS_SHARE_CLUSTER_ACCOUNTS",
        "MASS_SHARE_WINDOW_SHARE",
    )
)
COORDINATED_FEATURES: tuple[str, ...] = (
    "COORDINATED_ACCOUNTS",
    "COORDINATED_COPOSTS",
    "COORDINATED_PAIRS",
    "COORDINATED_POSTS",
    "COORDINATED_SPAN",
)
"""The ``coordinated`` features, in the order of :class:`~spamflood.stream.coposting.GroupCounts`'
accounts, median, pairs, posts and span."""

MONITOR_SETTINGS: dict[str, str] = {
    "similarity": "threshold",
    "window": "window",
    "min_authors": "min_authors",
    "min_copies": "min_copies",
    "num_perm": "num_perm",
    "ngram": "ngram",
    "seed": "seed",
    "tz": "tz",
    "interval": "interval",
    "min_coposts": "min_coposts",
}
"""A model's saved detector settings (:data:`spamflood.detector.MODEL_SETTINGS`) and the
monitor parameter each sets."""


class _Pending(NamedTuple):
    """A post read and signed, waiting for its counts: the store's entry (``None``: nothing
    to compare), its text as written and in matching form, its account (``None``: none) and the
    account's display name (``hotspot_hijack`` reads a sender signing its post)."""

    post_id: str
    account: str | None
    time: float
    text: str
    normalized: str
    entry: Entry | None
    name: str | None = None
    timed: bool = True
    """Whether the post came with its own time (else it took the clock's, and never co-posts)."""
    objects: dict[str, str] | None = None
    """Its shared objects (:func:`spamflood.coordination.objects_in`), when the monitor
    computes ``coordinated``."""


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
    tz : IANA time zone of the calendar criteria (a festival's day), as the detector's ``tz``.
    model : a fitted :class:`~spamflood.model.FloodModel` that gives the score (see
        :meth:`load`, which loads the bundled one as ``spamflood watch`` does); ``None``: the
        rule score. Either way the labels are those whose rules fired.
    interval, min_coposts, min_overlap : the ``coordinated`` label's co-posting interval,
        occasions per edge and share of each account's occasions, as the batch
        :class:`~spamflood.coordination.Coordination` (see "Coordinated groups" above).
    horizon : event time (seconds or text) over which co-posting occasions are remembered
        (``None``: the window, or the interval if longer); a campaign whose waves are further apart than that is not seen
        as one group.
    coordinated : keep the account network and compute the ``coordinated`` label, as the
        detector's ``coordinated``; ``False`` keeps no network (no memory or Redis keys for it):
        the label is never listed and its features are missing.

    Attributes
    ----------
    families : the criteria families this monitor computes; the features of the others are
        missing (NaN) and their labels never listed.
    coposting : the incremental account network: in process memory with a memory store
        (:class:`~spamflood.stream.coposting.CoPosting`), in Redis with a Redis store
        (:class:`~spamflood.stream.redis_coposting.RedisCoPosting`), ``None`` with a store of
        another kind or with ``coordinated=False`` (``coordinated`` is then not computed).

    Examples
    --------
    >>> monitor = FloodMonitor(window="1h", min_authors=3)
    >>> text = "限时抢购！加微信 abc123 领取优惠券，仅限今天"
    >>> verdicts = [monitor.add({"id": f"p{i}", "text": text, "author": f"u{i}", "time": 1_700_000_000 + 60 * i})
    ...             for i in range(3)]
    >>> [v.flood for v in verdicts]
    [False, False, True]
    >>> verdicts[-1].labels
    ('soft_ad', 'mass_share')
    >>> verdicts[-1].reasons[1]
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
        tz: str = "UTC",
        model: Any = None,
        interval: float | str = INTERVAL,
        min_coposts: int = 3,
        min_overlap: float = MIN_OVERLAP,
        horizon: float | str | None = None,
        coordinated: bool = True,
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
        self.tz = _params.time_zone(owner, "tz", tz)
        if model is not None and not isinstance(model, DeferredModel) and not callable(getattr(model, "score_all", None)):
            _params.fail(owner, "model", "None or a fitted FloodModel (see FloodMonitor.load)", model)
        self.model = model
        self.model_manifest: dict[str, Any] = {}
        self.decider = Decider(self.rules, model)
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
        self.bands, self.rows = lsh_params(self.threshold, num_perm, recall)
        self._need = math.ceil(self.threshold * num_perm - 1e-9)
        self._sketch = Sketcher(self.hasher, bands=self.bands, rows=self.rows)
        self._parser = RowParser()
        self._clock = clock
        self._added = 0
        self.store: FloodStore = _make_store(store, self.window, key_prefix)
        self.coordination = Coordination(
            interval=interval, min_authors=self.rules.min_authors, min_coposts=min_coposts, min_overlap=min_overlap
        )
        interval = self.coordination.interval
        if horizon is None:
            self.horizon = max(self.window, interval)
        else:
            self.horizon = _params.duration(owner, "horizon", horizon)
            if self.horizon < interval:
                _params.fail(owner, "horizon", f"a duration of at least the interval ({human_duration(interval)})", horizon)
        self.coposting: CoPosting | RedisCoPosting | None = None
        network: dict[str, Any] = {
            "interval": self.coordination.interval,
            "min_coposts": self.coordination.min_coposts,
            "min_overlap": self.coordination.min_overlap,
            "horizon": self.horizon,
        }
        if not _params.boolean(owner, "coordinated", coordinated):
            self.coposting = None  # no network: ``coordinated`` is not computed
        elif isinstance(self.store, MemoryStore):
            self.coposting = CoPosting(**network)
        else:
            from spamflood.stream.redis_coposting import RedisCoPosting
            from spamflood.stream.redis_store import RedisStore

            if isinstance(self.store, RedisStore):  # one network for every monitor sharing the server
                self.coposting = RedisCoPosting(self.store, **network)
        computed = {*CLUSTER_LABELS, *STREAM_FAMILIES, *(("coordinated",) if self.coposting is not None else ())}
        self.families: tuple[str, ...] = tuple(f for f in FAMILIES if f in computed)
        self._unknown = tuple(f.name for f in FEATURES.values() if f.label not in self.families)
        self.store.bind(
            f"num_perm={num_perm} ngram={ngram} seed={seed} bands={self.bands} rows={self.rows} "
            # accounts=known: a post without an author counts in a cluster's size but is no
            # account (monitors that counted such posts as accounts must not share the index)
            f"threshold={self.threshold!r} band_hash={BAND_HASH_VERSION} accounts=known",
            num_perm=num_perm,
            need=self._need,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, *, trusted: bool = False, **params: Any) -> FloodMonitor:
        """A monitor that scores with a trained model, as :meth:`spamflood.Detector.load`: the
        bundled one (``path=None``) or a file from ``spamflood train`` (``trusted=True``
        needed: a joblib file can run code). The model's feature settings (window,
        similarity, ...) come from the file; ``params`` override them and set the rest."""
        from spamflood.model import load_model

        loaded = load_model(None if path is None else Path(path), trusted=trusted)
        settings = {MONITOR_SETTINGS[k]: v for k, v in loaded.settings.items() if k in MONITOR_SETTINGS}
        monitor = cls(**{**settings, **params, "model": loaded.model})
        monitor.model_manifest = loaded.manifest
        return monitor

    def __repr__(self) -> str:
        model = "rules" if self.model is None else type(self.model).__name__
        return (
            f"FloodMonitor(window={human_duration(self.window)!r}, min_authors={self.rules.min_authors}, "
            f"min_copies={self.rules.min_copies}, threshold={self.threshold}, store={self.store!r}, model={model})"
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
        pending = self._prepare(post)
        result = self.store.add(pending.entry) if pending.entry is not None else None
        return self._decide([pending], [result])[0]

    def add_many(self, posts: Iterable[Post | Mapping[str, Any]], *, batch_size: int = 256) -> list[Verdict]:
        """:meth:`add` every post, in order; the verdicts in the same order.

        The same verdicts as :meth:`add` one by one; the Redis store sends up to
        ``batch_size`` posts to the server in one pipelined round trip, and the criteria and
        the model run once per batch.
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
        pending = [self._prepare(post) for post in batch]
        entries = [p.entry for p in pending if p.entry is not None]
        found = iter(self.store.add_many(entries))
        return self._decide(pending, [next(found) if p.entry is not None else None for p in pending])

    def _prepare(self, post: Post | Mapping[str, Any]) -> _Pending:
        """The post read, in matching form, and signed for the store."""
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
        account = post.author if post.author and post.author != post.id else None  # as the batch reads it
        normalized = normalize(post.text)
        shingled = shingle_text(normalized, normalized=True)
        entry = None
        if shingled:  # else nothing left to compare (emoji or punctuation only): a post alone
            signature, keys = self._sketch(shingled)
            entry = Entry(post.id, account, t, keys, signature)
        objects = objects_in(post.text, post.repost_of) if self.coposting is not None else None
        return _Pending(post.id, account, t, post.text, normalized, entry, post.author_name, not math.isnan(post.time), objects)

    def _decide(self, pending: Sequence[_Pending], results: Sequence[Counts | Late | None]) -> list[Verdict]:
        """The verdicts of posts whose store results are in: late ones say so; the others go
        through the decision step together (:meth:`spamflood.decision.Decider.decide`)."""
        verdicts: list[Verdict | None] = [None] * len(pending)
        judged: list[int] = []
        counts: list[Counts | None] = []
        for i, (p, result) in enumerate(zip(pending, results)):
            if isinstance(result, Late):
                reason = (
                    f"late: {human_duration(result.watermark - p.time)} older than the newest post seen, outside "
                    f"the {human_duration(self.window)} window: not judged or counted"
                )
                verdicts[i] = Verdict(p.post_id, None, 1, 1, 1, False, (), (reason,), 0.0, late=True)
            else:
                judged.append(i)
                counts.append(result)
        if judged:
            posts = [pending[i] for i in judged]
            decision = self.decider.decide(self._findings(posts, counts), texts=[p.text for p in posts])
            for j, i in enumerate(judged):
                c = counts[j]
                labels = tuple(decision.labels[j])
                mine = int(pending[i].account is not None)  # a post with nothing to compare: alone
                verdicts[i] = Verdict(
                    pending[i].post_id,
                    c.cluster if c is not None else None,
                    c.size if c is not None else 1,
                    c.authors if c is not None else mine,
                    c.copies if c is not None else mine,
                    "mass_share" in labels,
                    labels,
                    tuple(decision.reasons[j]),
                    float(decision.score[j]),
                )
        return [v for v in verdicts if v is not None]

    def _findings(self, posts: list[_Pending], counts: list[Counts | None]) -> Findings:
        """What the stream finds for these posts (see the module docstring): the cluster
        labels from the counts so far, the post families and ``holiday_template`` from the
        text, the rest missing."""
        n = len(posts)
        clustered = [c if c is not None and c.size >= 2 else None for c in counts]
        cluster = self._cluster_findings(posts, clustered)
        accounts = np.array(
            [c.authors if c is not None else int(p.account is not None) for p, c in zip(posts, clustered)], dtype=np.float64
        )
        shared = np.array([c.size if c is not None else 1 for c in clustered], dtype=np.float64)
        columns = Columns(
            texts=[p.normalized for p in posts],
            # always a list (None for a post without an account), so that a post's findings do
            # not depend on whether the other posts of its batch have accounts: add() and
            # add_many() give the same verdicts
            authors=[p.account for p in posts],
            times=np.array([p.time for p in posts], dtype=np.float64),
            author_name=[p.name for p in posts] if any(p.name for p in posts) else None,
            template_shares=(accounts, shared),
        )
        text = Findings.compute(
            columns, None, STREAM_FAMILIES, self.tz, normalized=True, originals=[p.text for p in posts]
        )
        unknown = np.full((len(self._unknown), n), np.nan)
        parts = [cluster, text, Findings(dict(zip(self._unknown, unknown)), {}, {}, n)]
        if self.coposting is not None:
            parts.append(self._coordinated_findings(posts, self.coposting))
        return Findings.join(parts)

    def _coordinated_findings(self, posts: list[_Pending], coposting: CoPosting | RedisCoPosting) -> Findings:
        """``coordinated`` from each post's group so far (:mod:`spamflood.stream.coposting`),
        named, fired and worded as the batch does: NaN for a post without an account or a time
        of its own, 0 for a post that is no group's."""
        n = len(posts)
        matrix = np.zeros((n, len(COORDINATED_FEATURES)))
        groups: dict[int, GroupCounts] = {}
        known = [p.account is not None and p.timed for p in posts]
        # in order: each post's counts include the posts before it (a post without an account
        # or a time of its own only names its objects)
        found = coposting.add_many(
            [(p.post_id, p.account if k else None, p.time, p.objects or {}) for p, k in zip(posts, known)]
        )
        for i, (g, k) in enumerate(zip(found, known)):
            if not k:
                matrix[i] = np.nan
            elif g is not None:
                groups[i] = g
                matrix[i] = (g.accounts, g.median, g.pairs, g.posts, g.span)
        values = dict(zip(COORDINATED_FEATURES, matrix.T))
        if groups:  # else every post is no group's (0) or unknown (NaN): the rule cannot fire
            fired = label_scores(values, rules=self.coordination.rules)["coordinated"] > 0
        else:
            fired = np.zeros(n, dtype=bool)
        interval = self.coordination.interval
        sentences = {
            i: coordinated_reason(g.top, g.objects, g.accounts, g.posts, g.span, g.pairs, interval, g.median)
            for i, g in groups.items()
            if fired[i]
        }
        return Findings(values, {"coordinated": fired}, {"coordinated": sentences}, n)

    def _cluster_findings(self, posts: list[_Pending], counts: list[Counts | None]) -> Findings:
        """``mass_share`` and ``repetition`` from each post's cluster counts inside the window,
        as the batch detector names, fires and words them (a post in no cluster of two or
        more: zeros, as the batch fills posts in no cluster)."""
        n = len(posts)
        hours = self.window / 3600.0
        matrix = np.zeros((n, len(_CLUSTER_FEATURES)))
        for i, c in enumerate(counts):
            if c is not None:
                row = matrix[i]
                row[_AUTHORS] = c.authors or math.nan  # no known account in the cluster: unknown, as in the batch
                # the stream's cluster is what the window holds: all its accounts are inside it
                row[_ACCOUNTS] = row[_AUTHORS]
                row[_SHARE] = 1.0 if c.authors else math.nan
                row[_SIZE] = c.size
                row[_RATE] = c.size / hours
                row[_SPAN] = c.last_time - c.first_time
                row[_COPIES] = c.copies if posts[i].account is not None else math.nan
        plan = self.rules.rules.plan(_CLUSTER_FEATURES)
        on = plan.fired(plan.hits(matrix))
        values = dict(zip(_CLUSTER_FEATURES, matrix.T))
        fired = {label: on[label] for label in CLUSTER_LABELS}
        sentences: dict[str, dict[int, str]] = {"mass_share": {}, "repetition": {}}
        for i in np.flatnonzero(fired["mass_share"]).tolist():
            c = counts[i]
            assert c is not None
            sentences["mass_share"][i] = mass_share_reason(c.size, c.authors, c.last_time - c.first_time, self.window)
        for i in np.flatnonzero(fired["repetition"]).tolist():
            c = counts[i]
            assert c is not None
            author = posts[i].account
            assert author is not None
            sentences["repetition"][i] = repetition_reason(author, c.copies, c.author_last - c.author_first)
        return Findings(values, fired, sentences, n)

    def size(self) -> IndexSize:
        """What the store's index holds now (posts, bucket entries, clusters, watermark)."""
        return self.store.size()

    def close(self) -> None:
        """Release the store's connections."""
        if self.coposting is not None:
            self.coposting.close()
        self.store.close()


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
