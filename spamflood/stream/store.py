"""The one small interface behind which a :class:`~spamflood.stream.FloodMonitor` keeps its index.

The monitor turns a post into an :class:`Entry` (signature and LSH band keys) and words the
verdict; a store does everything in between as *one atomic step*, so that an in-memory store
and a Redis store shared by many workers behave alike:

1. find the *candidates*: the posts inside the window that are the newest of one of the
   entry's band buckets, in each time slice the window overlaps;
2. verify them: the best one whose signature agrees with the entry's in at least ``need`` of
   ``num_perm`` positions (the estimated Jaccard similarity reaches the threshold); ties go to
   the newest, then to the first found (slices oldest first, bands in order);
3. record the entry in that candidate's cluster, or found a new cluster named
   :func:`cluster_id` of the entry's post id;
4. answer with the cluster's counts inside the window (:class:`Counts`).

Because lookup and creation happen in one step (a Lua script on Redis), two workers that see
the first two copies of a flood at the same instant still end in one cluster, and two workers
adding to one cluster never lose a count.

Time is *event time*: a post's own ``time``. The store keeps a watermark, the latest time it
has seen, and the window is ``[watermark - window, watermark]``. A post older than the start
of the window (a *late* post) is not indexed; the answer is :class:`Late`. A post id already
recorded inside the window (a redelivery) is counted once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from spamflood.errors import SpamfloodError

__all__ = [
    "Counts",
    "Entry",
    "FloodStore",
    "IndexSize",
    "Late",
    "StoreError",
    "StoreUnavailableError",
    "cluster_id",
]


class StoreError(SpamfloodError):
    """The store refused or failed an operation (Redis answered with an error)."""


class StoreUnavailableError(StoreError, ConnectionError):
    """The store (Redis) could not be reached, even after retrying with backoff."""


def cluster_id(founder: str) -> str:
    """The id of a cluster founded by post ``founder``: 16 hex digits of its BLAKE2b hash.

    Deterministic, so a replay of a stream names its clusters the same way.

    >>> cluster_id("p1")
    'e81665c97894ce91'
    """
    return hashlib.blake2b(founder.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class Entry(NamedTuple):
    """One post as a store sees it: who, when, its band keys and its signature."""

    post_id: str
    author: str | None
    """The post's account; ``None`` for a post without one (no author, or its own id as
    author): it joins its cluster and counts in its size, but is no account and has no copies."""
    time: float
    band_keys: np.ndarray
    """uint64, one key per LSH band (the band's index is mixed into its key)."""
    signature: np.ndarray
    """uint32 ``(num_perm,)`` MinHash signature."""


class Counts(NamedTuple):
    """The counts inside the window of the cluster a post was recorded in.

    ``authors`` counts the distinct known accounts (a post without one counts in ``size``
    only); ``copies``, ``author_first`` and ``author_last`` are about the post's account (0 and
    NaN for a post without one).
    """

    cluster: str
    size: int
    authors: int
    copies: int
    first_time: float
    last_time: float
    author_first: float
    author_last: float


class Late(NamedTuple):
    """The post is older than the window (``time < watermark - window``) and was not indexed."""

    watermark: float


class IndexSize(NamedTuple):
    """What the index holds: posts (with signatures), live band-bucket entries, clusters of two
    or more posts, and the watermark."""

    posts: int
    buckets: int
    clusters: int
    watermark: float


@runtime_checkable
class FloodStore(Protocol):
    """The store interface shared by :class:`~spamflood.stream.MemoryStore` and
    :class:`~spamflood.stream.RedisStore`."""

    window: float
    """Window length in seconds (event time)."""

    def bind(self, settings: str, *, num_perm: int, need: int) -> None:
        """Serve monitors with these signature and LSH ``settings`` (the band hash's version,
        :data:`~spamflood.cluster.BAND_HASH_VERSION`, among them): signatures of ``num_perm``
        values, two posts being copies when at least ``need`` values agree. Refuses
        (:class:`~spamflood.errors.ConfigError`) settings that differ from those already using
        the store."""
        ...

    def add(self, entry: Entry) -> Counts | Late:
        """Find, verify, record and count ``entry`` in one atomic step (see the module doc)."""
        ...

    def add_many(self, entries: Sequence[Entry]) -> list[Counts | Late]:
        """:meth:`add` each entry in order (the Redis store pipelines the round trips)."""
        ...

    def size(self) -> IndexSize:
        """What the index holds (for tests, metrics and the bounded-memory guarantee)."""
        ...

    def close(self) -> None:
        """Release connections (a no-op in memory)."""
        ...
