"""The record the account stages share: one row per account, as columns.

An :class:`AccountTable` comes from a profiles-only export (one row per account, read by
:func:`spamflood.io.profiles.read_profiles`) or from a feed of posts
(:meth:`AccountTable.from_posts`: each author's profile fields as their newest post carries
them, how many posts, when the first and last were written, and the labels their posts got).
A field the input lacks is ``None`` (the whole column); a value one account lacks is ``None``
for strings and NaN for numbers, so that features read "absent", never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spamflood.posts import PostBatch

__all__ = ["AccountTable", "PostEvidence"]


@dataclass(frozen=True, slots=True)
class PostEvidence:
    """What an account's posts showed, from a scored feed: per post label, on how many of
    its posts it fired and the reason given on the first; the mean score of its posts; and
    how many were flagged without a label, with the first one's ``score:`` reason.

    This is where anything decided per post reaches its account, whatever the label: a
    ``mass_share`` flood, a ``repetition``, and coordination on shared objects once posts
    carry such a label (``coordinated``) come through the same way.
    """

    label_posts: Mapping[str, int]
    label_reason: Mapping[str, str]
    mean_score: float
    score_posts: int = 0
    score_reason: str | None = None


@dataclass(slots=True, repr=False)
class AccountTable:
    """Accounts as columns. Build one with :meth:`from_profiles` or :meth:`from_posts`.

    ``lines``: where each account came from in the input (its profile row, or its first
    post), so that messages can point back at it. ``posts``, ``first_post`` and
    ``last_post`` are NaN for a profiles-only input; ``evidence`` is ``None`` there.
    """

    authors: list[str]
    lines: np.ndarray
    author_name: list[str | None] | None
    author_bio: list[str | None] | None
    author_created: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    statuses: np.ndarray
    posts: np.ndarray
    first_post: np.ndarray
    last_post: np.ndarray
    evidence: list[PostEvidence] | None = None
    cadence: dict[str, np.ndarray] | None = None
    """From a scored feed: the features of the criteria that read all posts of an author
    (scope ``account`` in the registry: ``auto_posting``'s gaps and clock, ``chicken_soup``),
    the value on the account's first post; ``None`` for profiles."""

    def __len__(self) -> int:
        return len(self.authors)

    def __repr__(self) -> str:
        return f"AccountTable(accounts={len(self)}, from_posts={self.evidence is not None})"

    def __post_init__(self) -> None:
        n = len(self.authors)
        for f in fields(self):
            column = getattr(self, f.name)
            if f.name == "cadence":
                continue
            if column is not None and len(column) != n:
                raise ValueError(f"AccountTable column '{f.name}' has {len(column)} rows, expected {n} like 'authors'")
        if len(set(self.authors)) != n:
            raise ValueError("AccountTable authors must be distinct: one row per account")

    @classmethod
    def from_profiles(
        cls,
        authors: Sequence[str],
        *,
        author_name: Sequence[str | None] | None = None,
        author_bio: Sequence[str | None] | None = None,
        author_created: Sequence[float] | np.ndarray | None = None,
        followers: Sequence[float] | np.ndarray | None = None,
        following: Sequence[float] | np.ndarray | None = None,
        statuses: Sequence[float] | np.ndarray | None = None,
        lines: Sequence[int] | None = None,
    ) -> AccountTable:
        """A table of profiles (no posts); an omitted column is a field the input lacks.

        >>> AccountTable.from_profiles(["a", "b"], followers=[3, 40])
        AccountTable(accounts=2, from_posts=False)
        """
        n = len(authors)

        def numbers(column: Sequence[float] | np.ndarray | None) -> np.ndarray:
            return np.full(n, np.nan) if column is None else np.asarray(column, dtype=np.float64).reshape(n)

        return cls(
            authors=list(authors),
            lines=np.arange(1, n + 1, dtype=np.int64) if lines is None else np.asarray(lines, dtype=np.int64),
            author_name=None if author_name is None else list(author_name),
            author_bio=None if author_bio is None else list(author_bio),
            author_created=numbers(author_created),
            followers=numbers(followers),
            following=numbers(following),
            statuses=numbers(statuses),
            posts=np.full(n, np.nan),
            first_post=np.full(n, np.nan),
            last_post=np.full(n, np.nan),
        )

    @classmethod
    def from_posts(cls, batch: PostBatch, result: Any = None) -> AccountTable:
        """One row per author of ``batch``: profile fields from the author's newest post
        that has each one, post count and first/last post time; with ``result`` (the
        :class:`~spamflood.result.ScoreResult` of the same batch) each account's
        :class:`PostEvidence`. A post without an author (its id as author) is no account.
        """
        n = len(batch)
        authors = np.asarray(batch.authors, dtype=object)
        known = np.flatnonzero(authors != np.asarray(batch.ids, dtype=object)) if n else np.zeros(0, dtype=np.int64)
        codes, names = _codes([batch.authors[i] for i in known.tolist()])
        k = len(names)
        times = batch.times[known]
        # rows of each account in time order (unknown times last): the newest value wins
        order = np.lexsort((np.where(np.isnan(times), -np.inf, times), codes))
        rows, account = known[order], codes[order]
        start = np.searchsorted(account, np.arange(k))
        posts = np.bincount(codes, minlength=k).astype(np.float64)
        with np.errstate(invalid="ignore"):
            first = np.full(k, np.nan)
            last = np.full(k, np.nan)
            np.fmin.at(first, codes, times)
            np.fmax.at(last, codes, times)

        def newest_number(column: np.ndarray) -> np.ndarray:
            values = column[rows]
            has = ~np.isnan(values)
            out = np.full(k, np.nan)
            out[account[has]] = values[has]  # later rows (newer posts) overwrite earlier ones
            return out

        def newest_text(column: list[str | None]) -> list[str | None] | None:
            values = np.asarray(column, dtype=object)[rows] if k else np.zeros(0, dtype=object)
            has = np.flatnonzero(values != None)  # noqa: E711 - elementwise, not identity
            if not has.size:
                return None
            # the last row with a value of each account (rows are in time order within it)
            last = has.size - 1 - np.unique(account[has][::-1], return_index=True)[1]
            out = np.full(k, None, dtype=object)
            out[account[has[last]]] = values[has[last]]
            return out.tolist()

        evidence = None if result is None else _evidence(result, known, codes, k)
        first_row = rows[start] if k else np.zeros(0, dtype=np.int64)
        cadence = (
            None if result is None else {name: np.asarray(result.features[name])[first_row] for name in _cadence_names(result)}
        )
        first_line = batch.lines[first_row]
        return cls(
            authors=names,
            lines=np.asarray(first_line, dtype=np.int64),
            author_name=newest_text(batch.author_name),
            author_bio=newest_text(batch.author_bio),
            author_created=newest_number(batch.author_created),
            followers=newest_number(batch.followers),
            following=newest_number(batch.following),
            statuses=newest_number(batch.statuses),
            posts=posts,
            first_post=first,
            last_post=last,
            evidence=evidence,
            cadence=cadence,
        )


def _cadence_names(result: Any) -> list[str]:
    """The features in ``result`` of the families that read all posts of an author."""
    from spamflood.criteria import FEATURES
    from spamflood.criteria.registry import families_in

    families = set(families_in("account"))
    return [name for name in result.features if name in FEATURES and FEATURES[name].label in families]


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Dense codes in order of first appearance, and the distinct values in that order."""
    table: dict[str, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64, count=len(values))
    return codes, list(table)


def _evidence(result: Any, known: np.ndarray, codes: np.ndarray, k: int) -> list[PostEvidence]:
    """Per account: the labels its posts got (how many posts, the first reason), their mean
    score, and its posts flagged without a label (how many, the first one's reason)."""
    scores = np.asarray(result.score, dtype=np.float64)[known]
    total = np.bincount(codes, weights=scores, minlength=k)
    count = np.bincount(codes, minlength=k)
    label_posts: list[dict[str, int]] = [{} for _ in range(k)]
    label_reason: list[dict[str, str]] = [{} for _ in range(k)]
    score_posts = [0] * k
    score_reason: list[str | None] = [None] * k
    labels, reasons = result.labels, result.reasons
    for i, a in zip(known.tolist(), codes.tolist()):
        post_labels = labels[i]
        if not post_labels:
            if reasons[i]:  # flagged on its score alone: its one reason says what raised it
                score_posts[a] += 1
                score_reason[a] = score_reason[a] or reasons[i][0]
            continue
        counts, first = label_posts[a], label_reason[a]
        for label, reason in zip(post_labels, reasons[i]):
            counts[label] = counts.get(label, 0) + 1
            first.setdefault(label, reason)
    with np.errstate(invalid="ignore"):
        mean = total / count
    return [PostEvidence(label_posts[a], label_reason[a], float(mean[a]), score_posts[a], score_reason[a]) for a in range(k)]
