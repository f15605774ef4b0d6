"""The rule score (``--rules``), and the cluster labels ``mass_share`` and ``repetition``.

Where each label fires is decided by its rule in ``rules.toml`` (for these two: at least
``min_authors`` accounts within one window, at least ``min_copies`` copies by one account).
The rule score gives each fired label a strength, a simple, readable curve:

* ``mass_share``: ``a`` = the most distinct accounts that posted the cluster's text within one
  window; strength ``1 - 0.5 ** (a / min_authors)``, counted only when ``a >= min_authors``
  (so it is exactly 0.5 at ``min_authors`` accounts and 0.75 at twice that).
* ``repetition``: ``c`` = near-identical copies one account posted; strength
  ``1 - 0.5 ** (c / min_copies)`` when ``c >= min_copies``.
* ``coordinated``: ``g`` = accounts in the post's co-posting group
  (:mod:`spamflood.coordination`); strength ``1 - 0.5 ** (g / min_authors)`` where it fired.

A missing time or author is unknown (see :func:`spamflood.cluster.cluster_stats`): accounts are
the cluster's *known* authors, so posts without an author never make a flood, and a copy
without an author is no one's repetition (its feature NaN); a span is of the timed posts, and
a reason says so when some or all of a cluster's posts lack a time.

Every other label that fires counts :data:`CRITERIA_STRENGTH`. A post's rule score combines
its labels as independent evidence (noisy-or):
``1 - prod(1 - strength)``. Labels are listed strongest first, each with a reason that carries
its evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from spamflood.cluster import ClusterTable
from spamflood.criteria.rules import RULES, Rules, label_scores
from spamflood.durations import human_duration
from spamflood.errors import ConfigError

__all__ = [
    "CRITERIA_STRENGTH",
    "LabelScores",
    "RuleScorer",
    "combine",
    "label_strength",
    "mass_share_reason",
    "repetition_reason",
    "rule_strength",
]

CRITERIA_STRENGTH = 0.6
"""The rule score's strength of a fired criteria label (soft_ad, holiday_template, ...): one
alone flags a post at the default threshold."""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class LabelScores:
    """Per-label strengths (n posts each) and the reason sentence per post where a label fired."""

    strength: dict[str, np.ndarray]
    reasons: dict[str, dict[int, str]]


def label_strength(count: np.ndarray | float, minimum: int) -> np.ndarray:
    """The curve of both cluster labels: ``1 - 0.5 ** (count / minimum)`` from ``minimum`` on, else 0.

    Works on one count or an array of counts (a scalar gives a 0-d array; ``float()`` it).
    """
    count = np.asarray(count, dtype=np.float64)
    return np.where(count >= minimum, 1.0 - 0.5 ** (count / minimum), 0.0)


def mass_share_reason(
    size: int,
    authors: int,
    span: float,
    window: float,
    *,
    peak_authors: int = 0,
    peak_start: float = 0.0,
    untimed: int = 0,
) -> str:
    """The ``mass_share`` sentence: the cluster's size and accounts, and over what time.

    A cluster that spans more than one ``window`` also says how many accounts fell within
    one window (``peak_authors``) and from when (``peak_start``, epoch seconds). ``span`` is
    NaN when no post has a time (the sentence then says the times are unknown); ``untimed``
    posts without a time are named, since the span is of the others.
    """
    head = f"mass_share: {size} near-identical posts from {authors} accounts"
    if span != span:
        return f"{head}, times unknown"
    tail = f" ({untimed} without a time)" if untimed else ""
    if span <= window:
        return f"{head} within {human_duration(span)}{tail}"
    return f"{head}; {peak_authors} accounts within {human_duration(window)} from {_iso(peak_start)}{tail}"


def repetition_reason(author: str, copies: int, span: float) -> str:
    """The ``repetition`` sentence: which account posted how many copies, over what time
    (``span`` NaN: no copy has a time)."""
    head = f"repetition: account {author} posted {copies} near-identical copies"
    return f"{head}, times unknown" if span != span else f"{head} within {human_duration(span)}"


def rule_strength(fired: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray], scorer: RuleScorer) -> dict[str, np.ndarray]:
    """Per fired label, its rule-score strength where it fired (0 elsewhere): the curves of the
    cluster labels over their counts, :data:`CRITERIA_STRENGTH` for the others."""
    out: dict[str, np.ndarray] = {}
    for label, on in fired.items():
        if not on.any():  # most labels fire on no post of a batch (or of the one post a stream judges)
            out[label] = np.zeros(len(on))
            continue
        if label == "mass_share":
            curve = label_strength(values["MASS_SHARE_AUTHORS_IN_WINDOW"], scorer.min_authors)
        elif label == "repetition":
            curve = label_strength(values["REPETITION_SAME_AUTHOR_COPIES"], scorer.min_copies)
        elif label == "coordinated":
            curve = label_strength(values["COORDINATED_ACCOUNTS"], scorer.min_authors)
        else:
            curve = np.full(len(on), CRITERIA_STRENGTH)
        # a fired cluster label is at its minimum count or above, so its curve is above 0
        out[label] = np.where(on, np.maximum(curve, 1e-9), 0.0)
    return out


def combine(strength: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Noisy-or of the label strengths: the post's score in [0, 1]."""
    keep = np.ones(n, dtype=np.float64)
    for values in strength.values():
        if values.any():  # a label that fired nowhere leaves the score as it is
            keep *= 1.0 - np.clip(values, 0.0, 1.0)
    return 1.0 - keep


class RuleScorer:
    """The cluster labels from cluster statistics (a plain structure, no fitting): their
    features, where their rules fire (``rules``, bound to ``min_authors`` and ``min_copies``),
    their strengths and reasons."""

    def __init__(self, *, min_authors: int = 5, min_copies: int = 3) -> None:
        if min_authors < 2:
            raise ConfigError(f"The 'min_authors' parameter must be at least 2. Got {min_authors} instead.")
        if min_copies < 2:
            raise ConfigError(f"The 'min_copies' parameter must be at least 2. Got {min_copies} instead.")
        self.min_authors = min_authors
        self.min_copies = min_copies
        self.rules: Rules = RULES.bind(min_authors=min_authors, min_copies=min_copies)

    def cluster_features(self, table: ClusterTable, author_codes: np.ndarray) -> dict[str, np.ndarray]:
        """Per-post cluster features, named as in the criteria registry; 0 for a post in no cluster.

        The accounts are counted twice: the most within one window that holds the post
        (``AUTHORS_IN_WINDOW``, the flood it is part of: a copy posted weeks before or after a
        flood of the same text is not in it) and in the whole cluster whenever they posted
        (``CLUSTER_ACCOUNTS``), so that
        copy spread over months by many accounts still counts as shared. ``author_codes``
        below 0 are unknown authors: such a post's copies are NaN, and so are both account
        counts of a cluster with no known author; the span and the peak rate are NaN for a
        cluster without a timed post. How tight a cluster is in time reaches the model as
        ``WINDOW_SHARE``, the share of its accounts inside its peak window (NaN without a known
        author): an account joining inside the window never lowers it, where the span has no
        such direction."""
        labels = table.labels
        n = labels.shape[0]
        copies = np.zeros(n, dtype=np.float64)
        inside = np.flatnonzero(labels >= 0)
        copies[inside[author_codes[inside] < 0]] = np.nan
        known = inside[author_codes[inside] >= 0]
        if known.size:
            key = labels[known] * (int(author_codes.max()) + 1) + author_codes[known]
            _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            copies[known] = counts[inverse]
        span = table.last_time - table.first_time
        # a cluster without a timed post has no rate: its copies may have come in a minute or a year
        rate = np.where(np.isnan(table.first_time), np.nan, table.peak_posts / (table.window / 3600.0))
        known_authors = table.authors > 0
        accounts = table.per_post(np.where(known_authors, table.peak_authors, np.nan))
        if table.post_peak_authors is not None:  # the post's own window, not the cluster's peak
            accounts = np.where(np.isnan(accounts) | (labels < 0), accounts, table.post_peak_authors)
        share = np.divide(table.peak_authors, table.authors, out=np.full(len(table), np.nan), where=known_authors)
        return {
            "MASS_SHARE_CLUSTER_SIZE": table.per_post(table.size.astype(np.float64)),
            "MASS_SHARE_AUTHORS_IN_WINDOW": accounts,
            "MASS_SHARE_PEAK_RATE": table.per_post(rate.astype(np.float64)),
            "MASS_SHARE_CLUSTER_SPAN": table.per_post(span.astype(np.float64)),
            "MASS_SHARE_CLUSTER_ACCOUNTS": table.per_post(np.where(known_authors, table.authors, np.nan)),
            "MASS_SHARE_WINDOW_SHARE": table.per_post(share),
            "REPETITION_SAME_AUTHOR_COPIES": copies,
        }

    def score(
        self,
        table: ClusterTable,
        author_codes: np.ndarray,
        authors: list[str],
        times: np.ndarray,
        features: Mapping[str, np.ndarray] | None = None,
    ) -> LabelScores:
        """Where the cluster labels fire, their strengths and reasons; ``features``: the
        table's :meth:`cluster_features` when the caller has them already."""
        if features is None:
            features = self.cluster_features(table, author_codes)
        fired = label_scores(features, rules=self.rules)
        strength = rule_strength({k: fired[k] > 0 for k in ("mass_share", "repetition")}, features, self)
        mass, rep = strength["mass_share"], strength["repetition"]
        reasons = {
            "mass_share": self._mass_reasons(table, mass, times),
            "repetition": self._repetition_reasons(table, rep, author_codes, authors, times),
        }
        return LabelScores(strength={"mass_share": mass, "repetition": rep}, reasons=reasons)

    @staticmethod
    def _mass_reasons(table: ClusterTable, mass: np.ndarray, times: np.ndarray) -> dict[int, str]:
        """Per fired post, its cluster's sentence quoting the window that holds the post (one
        sentence per cluster and window: most clusters have one)."""
        fired = np.flatnonzero(mass > 0)
        clusters = table.labels[fired]
        untimed_posts = table.labels[(table.labels >= 0) & np.isnan(np.asarray(times, dtype=np.float64))]
        untimed = np.bincount(untimed_posts, minlength=len(table))
        if table.post_peak_authors is None or table.post_peak_start is None:
            peaks, starts = table.peak_authors[clusters], table.peak_start[clusters]
        else:
            peaks, starts = table.post_peak_authors[fired], table.post_peak_start[fired]
        # a NaN start (no timed post) is never quoted; 0 keeps it a key equal to itself
        keys = list(zip(clusters.tolist(), peaks.tolist(), np.nan_to_num(starts, nan=0.0).tolist()))
        sentences = {
            key: mass_share_reason(
                int(table.size[key[0]]),
                int(table.authors[key[0]]),
                float(table.last_time[key[0]] - table.first_time[key[0]]),
                table.window,
                peak_authors=int(key[1]),
                peak_start=float(key[2]),
                untimed=int(untimed[key[0]]),
            )
            for key in dict.fromkeys(keys)
        }
        return dict(zip(fired.tolist(), map(sentences.__getitem__, keys)))

    @staticmethod
    def _repetition_reasons(
        table: ClusterTable, rep: np.ndarray, codes: np.ndarray, authors: list[str], times: np.ndarray
    ) -> dict[int, str]:
        out: dict[int, str] = {}
        fired = np.flatnonzero(rep > 0)
        if not fired.size:
            return out
        key = table.labels[fired] * (int(codes.max()) + 1) + codes[fired]
        order = np.argsort(key, kind="stable")
        fired, key = fired[order], key[order]
        t = np.asarray(times, dtype=np.float64)[fired]
        starts = np.flatnonzero(np.r_[True, np.diff(key) != 0])  # each (cluster, account) group
        ends = np.r_[starts[1:], fired.size]
        low, high = np.fmin.reduceat(t, starts), np.fmax.reduceat(t, starts)  # of the timed copies; NaN if none
        sentences = [
            repetition_reason(authors[i], copies, span)
            for i, copies, span in zip(fired[starts].tolist(), (ends - starts).tolist(), (high - low).tolist())
        ]
        return dict(zip(fired.tolist(), map(sentences.__getitem__, np.repeat(np.arange(starts.size), ends - starts).tolist())))
