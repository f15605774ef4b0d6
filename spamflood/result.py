"""What a batch run produced: :class:`ScoreResult` holds every post's verdict as columns, beside
the clusters and the rejected rows; :class:`ScoredPost` is one post's verdict. Both give the
output fields (DESIGN.md) as rows, columns, a DataFrame or a summary.

>>> post = ScoredPost(id="p1", score=0.91, flagged=True, labels=["mass_share"],
...                   reasons=["mass_share: 12 near-identical posts from 9 accounts within 4 min"],
...                   cluster=0, cluster_size=12, cluster_authors=9)
>>> post
ScoredPost(id='p1', score=0.910, flagged=True, labels=['mass_share'], cluster=0)
>>> post.to_dict()["cluster_authors"]
9
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from spamflood.durations import human_duration, human_span
from spamflood.io.readers import ReadStats
from spamflood.io.timestamps import iso_utc

if TYPE_CHECKING:
    from spamflood.cluster import ClusterTable
    from spamflood.coordination import CoordinatedGroups
    from spamflood.io.rows import Reject
    from spamflood.posts import PostBatch

__all__ = ["ScoreResult", "ScoredPost", "aligned_frame"]


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
    groups: CoordinatedGroups | None = None
    """The coordinated groups (:mod:`spamflood.coordination`): accounts tied by repeated
    co-posting, with their objects, posts and figures; :meth:`group_records` gives them as
    rows. ``None`` when the engine did not look for groups."""

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
            peak_posts, peak_authors = table.shown_peak(c)
            rows.append(
                {
                    "cluster": c,
                    "size": int(table.size[c]),
                    "authors": int(table.authors[c]),
                    "first_time": iso_utc(float(table.first_time[c])),
                    "last_time": iso_utc(float(table.last_time[c])),
                    "span": human_span(float(table.last_time[c] - table.first_time[c])),
                    "peak_posts": peak_posts,
                    "peak_authors": peak_authors,
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

    @property
    def coordinated_ids(self) -> list[int]:
        """Groups on whose posts the ``coordinated`` label fired, most accounts first."""
        if self.groups is None:
            return []
        found = self.groups
        at = found.post_group
        fired = {int(at[i]) for i in np.flatnonzero(at >= 0).tolist() if "coordinated" in self.labels[i]}
        return sorted(fired, key=lambda k: (-int(found.accounts[k]), -int(found.posts[k]), k))

    def group_records(self, *, coordinated_only: bool = False) -> list[dict[str, Any]]:
        """One row per coordinated group (:attr:`groups`): ``group`` (its number),
        ``coordinated`` (the label fired on its posts; a group of fewer than ``min_authors``
        accounts is tied but not labelled), its co-posted ``objects`` (as shown, most
        co-posted first), ``accounts`` and ``account_ids``, ``posts`` and ``post_ids`` (input
        order), ``pairs`` of tied accounts and their ``median_coposts`` (occasions per pair, each a
        co-post within ``interval``),
        ``first_time``/``last_time``/``span`` of its posts, and the label's ``reason``
        (``None`` where it did not fire). Labelled groups first, then most accounts."""
        found = self.groups
        if found is None:
            return []
        labelled = set(self.coordinated_ids)
        _codes, names = self.batch.author_codes()
        rows: list[dict[str, Any]] = []
        for k, (posts, accounts) in enumerate(zip(found.members(), found.member_accounts())):
            if coordinated_only and k not in labelled:
                continue
            reason = next((r for i in posts.tolist() for r in self.reasons[i] if r.startswith("coordinated:")), None)
            first, last = float(found.first[k]), float(found.last[k])
            rows.append(
                {
                    "group": k,
                    "coordinated": k in labelled,
                    "objects": list(found.object_names[k]),
                    "accounts": int(found.accounts[k]),
                    "account_ids": sorted(names[a] for a in accounts.tolist()),
                    "posts": int(found.posts[k]),
                    "post_ids": [self.batch.ids[i] for i in posts.tolist()],
                    "pairs": int(found.pairs[k]),
                    "median_coposts": float(found.median[k]),
                    "interval": human_duration(found.interval),
                    "first_time": iso_utc(first),
                    "last_time": iso_utc(last),
                    "span": human_span(last - first),
                    "reason": reason,
                }
            )
        rows.sort(key=lambda r: (not r["coordinated"], -r["accounts"], -r["posts"], r["group"]))
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


def aligned_frame(result: ScoreResult, index: Any) -> Any:
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
