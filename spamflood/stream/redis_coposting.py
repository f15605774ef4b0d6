"""The co-posting network in Redis: one account network for every monitor sharing a server.

:class:`RedisCoPosting` is :class:`~spamflood.stream.coposting.CoPosting` with its state in
Redis (layout in :mod:`spamflood.stream.coposting_lua`): each post is one Lua script run on
the server, which pairs it with the object's recent posts, counts the pairs' occasions,
applies the edge rule, updates the union-find groups and forgets what fell behind the
horizon, atomically, so monitors in several processes see one network and never race. The
script returns the post's group (its accounts, edge weights, objects, posts and their span)
and :func:`~spamflood.stream.coposting.group_counts` words it as in memory, so a monitor on
Redis and one in memory give the same ``coordinated`` counts, labels and reasons.

It rides on a :class:`~spamflood.stream.RedisStore`: the same connection, retries, key
prefix, and its pipelined round trips (:meth:`add_many` sends a batch's scripts in one).

Groups are kept by union-find in Redis hashes rather than recomputed from the stored edges
for each post: on the issue's campaign (120 accounts, 3,600 posts, 7,140 edges) a post costs
about 1.6 ms of redis-server CPU all told (0.5 ms in memory), where finding its component
alone by a walk over the stored edges costs about 7 ms
(``benchmarks/stream_coordination.py --stores``). The price is the memory store's: an edge that is lost (rare: its occasions expire, or an
account's own occasions outgrow the pair's) rebuilds the groups from the edges, in that
post's script, blocking the server while it runs (a walk over every edge, like the 7 ms
above for 7,140 edges); once a horizon a sweep walks the objects held (not the pairs: a count
per object of the pairs that co-posted it says which are still co-posted) to forget those
nobody posts any more.

Costs (20,000 posts at 10 a second with three 20-account campaigns, batches of 256, 2 shared
cores at load 13-14): the network adds some 180-200 us of redis-server CPU a post (about 50 us
in memory: most pairs of a popular hashtag's posters are new, and each is written, then
forgotten), so a monitor on Redis judged 1,079 posts a second against 4,199 without
``coordinated`` (3,206 in memory in the same run); every verdict equals the memory store's.

Keys renew on write (``ttl`` = horizon + two intervals + margin, wall seconds), as the store's
do: event time is taken to move about as fast as the clock, so a stream replayed slower than
it happened can lose state to the TTLs before the horizon forgets it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from spamflood.coordination import MAX_NEIGHBOURS
from spamflood.errors import ConfigError
from spamflood.stream.coposting import GroupCounts, Posting, group_counts
from spamflood.stream.coposting_lua import COPOST
from spamflood.stream.redis_store import RedisStore
from spamflood.stream.store import StoreError

__all__ = ["RedisCoPosting"]


def _escape(text: str) -> str:
    """``text`` without the two bytes the script joins fields with (NUL, \\x01), reversibly:
    an account, post id or object named with them must not split a stored record."""
    return text.replace("%", "%25").replace("\0", "%00").replace("\1", "%01")


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: _PLAIN[m.group()], text)


_PLAIN = {"%25": "%", "%00": "\0", "%01": "\1"}
_ESCAPED = re.compile("%25|%00|%01")


class RedisCoPosting:
    """:class:`~spamflood.stream.coposting.CoPosting` kept in the Redis of ``store``.

    Parameters are :class:`~spamflood.stream.coposting.CoPosting`'s; ``ttl_margin`` is how
    many seconds the keys outlive a horizon and two intervals of silence (they expire by
    themselves when a deployment stops). Monitors sharing a key prefix must use the same
    parameters (others are refused with :class:`~spamflood.errors.ConfigError`).
    """

    def __init__(
        self,
        store: RedisStore,
        *,
        interval: float,
        min_coposts: int,
        min_overlap: float,
        horizon: float,
        ttl_margin: float = 60.0,
    ) -> None:
        self.store = store
        self.interval = interval
        self.min_coposts = min_coposts
        self.min_overlap = min_overlap
        self.horizon = horizon
        self.ttl = math.ceil(horizon + 2 * interval + ttl_margin)  # a slot is forgotten up to two intervals late
        self.settings = (
            f"interval={interval!r} min_coposts={min_coposts} min_overlap={min_overlap!r} horizon={horizon!r} "
            f"max_neighbours={MAX_NEIGHBOURS}"
        )
        self._script = store._redis.register_script(COPOST)
        self._prefix = f"{store.key_prefix}:co"
        self._common = [
            store.key_prefix,
            self.settings,
            repr(float(interval)),
            min_coposts,
            repr(float(min_overlap)),
            repr(float(horizon)),
            self.ttl,
            MAX_NEIGHBOURS,
        ]

    def __repr__(self) -> str:
        return f"RedisCoPosting({self.store!r}, {self.settings})"

    def add_many(self, posts: Sequence[Posting]) -> list[GroupCounts | None]:
        """Each post's group counts so far (``None``: no group's post), in order, in one round
        trip: a post without an account only names its objects (see
        :meth:`~spamflood.stream.coposting.CoPosting.add_many`)."""
        batch: list[list[Any]] = []
        where: list[int] = []
        for i, (post_id, account, time, objects) in enumerate(posts):
            if not objects:  # nothing to co-post: no state to touch
                continue
            mode = "note" if account is None else "add"
            flat = [x for name, shown in objects.items() for x in (_escape(name), shown)]
            batch.append([*self._common, mode, _escape(post_id), _escape(account or ""), repr(float(time)), *flat])
            where.append(i)
        out: list[GroupCounts | None] = [None] * len(posts)
        if batch:
            for i, reply in zip(where, self.store._roundtrip(batch, self._script, ())):
                out[i] = self._parse(reply)
        return out

    def add(self, post_id: str, account: str, time: float, objects: dict[str, str]) -> GroupCounts | None:
        """Record one post and give its group's counts so far (as :meth:`CoPosting.add
        <spamflood.stream.coposting.CoPosting.add>`)."""
        return self.add_many([(post_id, account, time, objects)])[0]

    def note(self, objects: dict[str, str]) -> None:
        """Note the objects of a post that cannot co-post (as :meth:`CoPosting.note
        <spamflood.stream.coposting.CoPosting.note>`)."""
        self.add_many([("", None, math.nan, objects)])

    def _parse(self, reply: Any) -> GroupCounts | None:
        if isinstance(reply, Exception):
            raise StoreError(f"Redis at {self.store.url} refused the co-posting update: {reply}")
        kind = reply[0]
        if kind == b"none":
            return None
        if kind == b"config":
            raise ConfigError(
                f"Redis key prefix {self.store.key_prefix!r} at {self.store.url} holds a co-posting network with other "
                f"settings ({reply[1].decode()}); this monitor has ({self.settings}). Use another key_prefix, or the "
                "same settings."
            )
        _, accounts, posts, first, last, flat_weights, flat_objects = reply
        weights = Counter({int(flat_weights[i]): int(flat_weights[i + 1]) for i in range(0, len(flat_weights), 2)})
        objects: dict[str, int] = {}
        rank: dict[str, tuple[bool, int, str]] = {}
        for i in range(0, len(flat_objects), 3):
            name = flat_objects[i].decode()
            repost, seq, shown = flat_objects[i + 2].split(b"\0", 2)
            objects[name] = int(flat_objects[i + 1])
            rank[name] = (repost == b"1", int(seq), shown.decode())
        return group_counts(int(accounts), weights, objects, rank, int(posts), float(first), float(last), self.min_overlap)

    # ------------------------------------------------------------------ for tests and metrics

    def _run(self, what: str, fn: Any, *args: Any) -> Any:
        return self.store._call(what, fn, *args)

    def groups(self) -> list[frozenset[str]]:
        """The groups now: each one's accounts."""
        r, c = self.store._redis, self._prefix
        roots = self._run("groups", r.smembers, f"{c}:roots")
        members = [self._run("groups", r.smembers, f"{c}:gm:".encode() + root) for root in roots]
        return [frozenset(_unescape(a.decode()) for a in accounts) for accounts in members]

    def size(self) -> dict[str, int]:
        """What the state holds, as :meth:`CoPosting.size <spamflood.stream.coposting.CoPosting.size>`."""
        r, c = self.store._redis, self._prefix
        pipe = r.pipeline(transaction=False)
        pipe.scard(f"{c}:owners")
        pipe.scard(f"{c}:pairs")
        pipe.hlen(f"{c}:ed")
        pipe.hlen(f"{c}:rank")
        pipe.scard(f"{c}:seen")
        accounts, pairs, edges, objects, posts = self._run("size", pipe.execute)
        return {"accounts": accounts, "pairs": pairs, "edges": edges, "objects": objects, "posts": posts}

    def close(self) -> None:
        """Nothing of its own to release (the store's connection is the store's)."""
