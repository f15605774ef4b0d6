"""The record every stage shares: a post, and a column-oriented batch of posts.

A feed is held as columns (:class:`PostBatch`) rather than one object per post so that a
million posts cost a few hundred megabytes and every later stage (signatures, clusters,
features, the model) can work on whole NumPy arrays at once.

Canonical fields
----------------
``id``, ``text``, ``author`` and ``time`` are the core fields; ``time`` is seconds since the
Unix epoch, UTC, as a float. The account fields are optional and carried through for the
account and cadence criteria; a missing value is ``None`` for strings and ``NaN`` for numbers.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

__all__ = [
    "ACCOUNT_NUMBER_FIELDS",
    "ACCOUNT_TEXT_FIELDS",
    "CORE_FIELDS",
    "POST_FIELDS",
    "Post",
    "PostBatch",
    "dense_codes",
    "unknown_authors",
]

CORE_FIELDS: tuple[str, ...] = ("id", "text", "author", "time")
"""Fields every post has (``author`` and ``time`` may be relaxed by the field map)."""

ACCOUNT_TEXT_FIELDS: tuple[str, ...] = ("author_name", "author_bio", "repost_of")
"""Optional text fields: display/screen name, profile description, id of the reposted post."""

ACCOUNT_NUMBER_FIELDS: tuple[str, ...] = ("author_created", "followers", "following", "statuses")
"""Optional numeric fields: account creation time (epoch s), follower, following, post counts."""

POST_FIELDS: tuple[str, ...] = CORE_FIELDS + ACCOUNT_TEXT_FIELDS + ACCOUNT_NUMBER_FIELDS


@dataclass(frozen=True, slots=True)
class Post:
    """One post after reading and validation.

    ``line`` is where the post came from in its input (1-based line, or row for Parquet and
    frames), so that any later message can point back at it. ``extra`` holds fields outside the
    canonical set that the caller asked to keep (a training label, for instance).
    """

    id: str
    text: str
    author: str
    time: float
    author_name: str | None = None
    author_bio: str | None = None
    repost_of: str | None = None
    author_created: float = math.nan
    followers: float = math.nan
    following: float = math.nan
    statuses: float = math.nan
    line: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True, repr=False)
class PostBatch:
    """Posts as columns: Python lists for strings, float64 arrays for numbers.

    Build one with :meth:`from_posts` or :meth:`concat`; index rows with :meth:`take`.
    """

    ids: list[str]
    texts: list[str]
    authors: list[str]
    times: np.ndarray
    lines: np.ndarray
    author_name: list[str | None]
    author_bio: list[str | None]
    repost_of: list[str | None]
    author_created: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    statuses: np.ndarray
    extra: dict[str, list[Any]] = field(default_factory=dict)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False)
    """What :meth:`author_codes` and :meth:`account_codes` computed (once per batch: several
    stages read them, and a million authors cost a fifth of a second each time)."""

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:  # counts, not a million texts
        return f"PostBatch(posts={len(self)}, extra={list(self.extra)})"

    def __post_init__(self) -> None:
        n = len(self.ids)
        for f in fields(self):
            if f.name == "extra" or not f.init:
                continue
            if len(getattr(self, f.name)) != n:
                raise ValueError(
                    f"PostBatch column '{f.name}' has {len(getattr(self, f.name))} rows, "
                    f"expected {n} like 'ids'"
                )
        for name, column in self.extra.items():
            if len(column) != n:
                raise ValueError(f"PostBatch extra column '{name}' has {len(column)} rows, expected {n}")

    @classmethod
    def empty(cls) -> PostBatch:
        return cls.from_posts([])

    @classmethod
    def from_posts(cls, posts: Iterable[Post]) -> PostBatch:
        """Collect validated :class:`Post` objects into columns."""
        posts = list(posts)
        extra_names: list[str] = []
        for p in posts:
            for k in p.extra:
                if k not in extra_names:
                    extra_names.append(k)

        def num(name: str) -> np.ndarray:
            return np.fromiter((getattr(p, name) for p in posts), dtype=np.float64, count=len(posts))

        return cls(
            ids=[p.id for p in posts],
            texts=[p.text for p in posts],
            authors=[p.author for p in posts],
            times=num("time"),
            lines=np.fromiter((p.line for p in posts), dtype=np.int64, count=len(posts)),
            author_name=[p.author_name for p in posts],
            author_bio=[p.author_bio for p in posts],
            repost_of=[p.repost_of for p in posts],
            author_created=num("author_created"),
            followers=num("followers"),
            following=num("following"),
            statuses=num("statuses"),
            extra={k: [p.extra.get(k) for p in posts] for k in extra_names},
        )

    @classmethod
    def concat(cls, batches: Sequence[PostBatch]) -> PostBatch:
        """Join batches end to end (extra columns missing from a batch are filled with None)."""
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]
        extra_names: list[str] = []
        for b in batches:
            for k in b.extra:
                if k not in extra_names:
                    extra_names.append(k)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or not f.init:
                continue
            first = getattr(batches[0], f.name)
            if isinstance(first, np.ndarray):
                kwargs[f.name] = np.concatenate([getattr(b, f.name) for b in batches])
            else:
                kwargs[f.name] = [x for b in batches for x in getattr(b, f.name)]
        kwargs["extra"] = {
            k: [x for b in batches for x in b.extra.get(k, [None] * len(b))] for k in extra_names
        }
        return cls(**kwargs)

    def take(self, index: Sequence[int] | np.ndarray) -> PostBatch:
        """The rows at ``index``, in that order."""
        idx = np.asarray(index, dtype=np.int64)
        kwargs: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra" or not f.init:
                continue
            col = getattr(self, f.name)
            kwargs[f.name] = col[idx] if isinstance(col, np.ndarray) else [col[i] for i in idx]
        kwargs["extra"] = {k: [v[i] for i in idx] for k, v in self.extra.items()}
        return type(self)(**kwargs)

    def post(self, i: int) -> Post:
        """Row ``i`` as a :class:`Post`."""
        return Post(
            id=self.ids[i],
            text=self.texts[i],
            author=self.authors[i],
            time=float(self.times[i]),
            author_name=self.author_name[i],
            author_bio=self.author_bio[i],
            repost_of=self.repost_of[i],
            author_created=float(self.author_created[i]),
            followers=float(self.followers[i]),
            following=float(self.following[i]),
            statuses=float(self.statuses[i]),
            line=int(self.lines[i]),
            extra={k: v[i] for k, v in self.extra.items()},
        )

    def __iter__(self) -> Iterator[Post]:
        for i in range(len(self)):
            yield self.post(i)

    def share_strings(self, table: dict[str | None, str | None] | None = None) -> dict[str | None, str | None]:
        """Make equal account strings (author, name, bio, reposted id) one object each, in
        place, and return the table of first-seen objects (pass it again for the next batch).

        An account posts many times: a million posts would otherwise hold a million copies of
        each name. The loop runs in C (``map`` over ``dict.setdefault``), about 0.1 us a value.
        """
        table = {} if table is None else table
        share = table.setdefault
        for name in ("authors", "author_name", "author_bio", "repost_of"):
            column = getattr(self, name)
            column[:] = map(share, column, column)
        return table

    def author_codes(self) -> tuple[np.ndarray, list[str]]:
        """Authors as dense int codes (for group statistics) and the code-to-name table.
        Computed once per batch: do not modify them."""
        found = self._derived.get("author_codes")
        if found is None:
            codes, names = dense_codes(self.authors)
            codes.flags.writeable = False  # shared by every reader of the batch
            found = self._derived["author_codes"] = (codes, names)
        return found

    def account_codes(self) -> np.ndarray:
        """Per post its account as a dense int code, -1 for a post without an author (see
        :func:`unknown_authors`: no account); accounts numbered in order of first appearance
        as a post's author. Computed once per batch: do not modify it."""
        found = self._derived.get("account_codes")
        if found is None:
            codes = self.author_codes()[0]
            known = ~unknown_authors(self.authors, self.ids)
            # the same author string may be a post's own id elsewhere: number accounts by
            # their first *known* post, as dense_codes over the known authors would
            uniq, first = np.unique(codes[known], return_index=True)
            rank = np.zeros(int(codes.max()) + 1 if codes.size else 0, dtype=np.int64)
            rank[uniq[np.argsort(first, kind="stable")]] = np.arange(uniq.size)
            found = np.full(codes.shape[0], -1, dtype=np.int64)
            found[known] = rank[codes[known]]
            found.flags.writeable = False
            self._derived["account_codes"] = found
        return found

    def known_author_codes(self, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``codes`` (from :meth:`author_codes`) with -1 at those ``rows`` whose author is unknown.

        A reader gives a post without an author its own id as author (so it is nobody else's
        account); that is no evidence of an account, and the cluster statistics must not count
        it as one (:func:`spamflood.cluster.cluster_stats`). Only ``rows`` are checked (the
        clustered posts, say): see :func:`unknown_authors`.
        """
        out = np.array(codes, dtype=np.int64)
        if rows.size:
            out[rows[self.account_codes()[rows] < 0]] = -1
        return out

    def to_frame(self) -> Any:
        """The batch as a pandas DataFrame (needs the ``parquet`` extra for pandas)."""
        import pandas as pd

        core = {"id": self.ids, "text": self.texts, "author": self.authors, "time": self.times}  # plural columns
        data: dict[str, Any] = {name: core[name] if name in core else getattr(self, name) for name in POST_FIELDS}
        data["line"] = self.lines
        data.update(self.extra)
        return pd.DataFrame(data)


def dense_codes(values: Sequence[Hashable]) -> tuple[np.ndarray, list[Any]]:
    """Each value's code, numbering distinct values 0, 1, ... in order of first appearance, and
    the distinct values in that order. C loops (``dict.fromkeys``, ``map``) do the per-value
    work: about 0.1 us a value, against 0.5 us for a Python-level ``setdefault`` loop."""
    table: dict[Any, Any] = dict.fromkeys(values)
    distinct = list(table)
    table.update(zip(distinct, range(len(distinct))))
    codes = np.fromiter(map(table.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, distinct


def unknown_authors(authors: Sequence[Any], ids: Sequence[Any], rows: np.ndarray | None = None) -> np.ndarray:
    """Per post (or per post at ``rows``): True where it has no author, i.e. its author is
    missing (None, empty) or its own id, which a reader gives a post without an author (so it
    is nobody else's account). A C loop (``map``), about 0.05 us a post."""
    if rows is not None:
        index = rows.tolist()
        authors = list(map(authors.__getitem__, index))
        ids = list(map(ids.__getitem__, index))
    same = np.fromiter(map(operator.eq, authors, ids), dtype=np.bool_, count=len(authors))
    empty = np.fromiter(map(operator.not_, authors), dtype=np.bool_, count=len(authors))
    return same | empty
