"""What a :class:`~spamflood.stream.FloodMonitor` says about one post, the moment it arrives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One post's verdict: its near-duplicate cluster inside the window, and whether that
    cluster is a flood yet.

    Counts are those of the window ending at the store's watermark, *so far*: the verdict of
    the fifth copy of a flood says 5, the verdict of the first said 1.

    Attributes
    ----------
    id : the post's id.
    cluster : the cluster's id (16 hex digits, derived from the id of the post that founded it,
        so a replay gives the same ids), or ``None`` for a post with nothing to compare (no
        text left after normalization) or a late one.
    cluster_size : posts of the cluster inside the window (1 for a post alone).
    cluster_authors : distinct accounts among them (a post without an author, or with its own
        id as author, is no account: it counts in ``cluster_size`` only, as in the batch).
    author_copies : posts of the cluster inside the window by this post's account (0 for a
        post without one).
    flood : ``mass_share`` is listed: ``cluster_authors >= min_authors``.
    labels : the labels whose rules fired on the post (the cluster labels ``mass_share`` and
        ``repetition``, and the criteria the stream computes: ``soft_ad``, ``hotspot_hijack``,
        ``microbusiness``, ``fan_farming``, ``holiday_template``), strongest first (:mod:`spamflood.decision`).
    reasons : one sentence per label, in the batch detector's words; for a late post, the one
        sentence saying how late it was.
    score : the decision's score in [0, 1]: the model's probability, or without a model the
        labels' rule strengths combined (noisy-or).
    late : the post was older than the window behind the watermark (the newest post time the
        store has seen) when it arrived; it was not judged, indexed or counted.
    """

    id: str
    cluster: str | None
    cluster_size: int
    cluster_authors: int
    author_copies: int
    flood: bool
    labels: tuple[str, ...]
    reasons: tuple[str, ...]
    score: float
    late: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The verdict as a JSON-ready record (lists for labels and reasons)."""
        return {
            "id": self.id,
            "score": round(self.score, 6),
            "flood": self.flood,
            "labels": list(self.labels),
            "reasons": list(self.reasons),
            "cluster": self.cluster,
            "cluster_size": self.cluster_size,
            "cluster_authors": self.cluster_authors,
            "author_copies": self.author_copies,
            "late": self.late,
        }
