"""Coordinated groups on a live stream: the batch's account network, grown one post at a time.

The rules are :mod:`spamflood.coordination`'s; only the bookkeeping is incremental. For each
post with a known author and time, carrying objects (:func:`~spamflood.coordination.objects_in`):

* **co-posts**: per object, the posts of the last ``interval`` (newest last); the new post
  co-posts with each of them by another account, an *occasion* of the pair in the interval
  slot of the earlier post. As in the batch, an earlier post is paired with at most
  :data:`~spamflood.coordination.MAX_NEIGHBOURS` later posts of the object (its own account's
  among them);
* **occasions**: per pair, its slots and the objects it co-posted; per account, its own slots
  (those in which it posted an object);
* **edges**: a pair is an edge while it has at least ``min_coposts`` occasions and at least
  ``min_overlap`` of each account's; the rule is checked again whenever a pair's or one of its
  accounts' occasions change, so an edge can also be lost;
* **groups**: the connected components of the edges, by union-find with union by size; each
  group keeps its accounts, its edges' weights (a histogram, for the median), and per object
  how many of its edges co-posted it. A lost edge (rare: occasions that expire, an account
  whose own occasions outgrow a pair's) rebuilds the groups from the edges.

A group's objects are those it co-posted as a group, by the batch's rule
(:func:`~spamflood.coordination.object_floor`: ``min_overlap`` of its edges, or as many as its
most co-posted object), so a story its accounts share by chance with everyone else is not
its object. A post is its group's when its author is in a group and it carries one of the
group's objects; it then gets the group's counts so far (accounts, pairs, median occasions,
the posts of its accounts on its objects and their span): on a stream of posts in time order whose
horizon holds the whole stream, the last post's counts are those the batch finds on the whole
stream.

Bounded state: everything older than ``horizon`` behind the newest post time seen is
forgotten: a pair's and an account's occasions in slots that started before
``newest - horizon`` (a pair without occasions is deleted, with its objects), and the posts
an account made before then (which no longer count in a group's posts). So the state holds
one horizon of posts, their co-posting pairs (at most ``MAX_NEIGHBOURS`` per post and object)
and the groups over them. Redeliveries (a post id seen inside the horizon) are ignored.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from spamflood.coordination import MAX_NEIGHBOURS, object_floor

__all__ = ["CoPosting", "GroupCounts", "Posting", "group_counts", "group_objects"]


class GroupCounts(NamedTuple):
    """A group's counts at the moment of a post, and what its reason names."""

    accounts: int
    pairs: int
    median: float
    posts: int
    span: float
    top: str
    objects: int


Posting = tuple[str, str | None, float, dict[str, str]]
"""One post for :meth:`CoPosting.add_many`: its id, account (``None``: no account or no time
of its own, so it only names objects), time and objects (canonical -> as shown)."""


class _Recent:
    """One post of an object within the last interval: when, by whom, and how many later
    posts of the object it was paired with (at most ``MAX_NEIGHBOURS``)."""

    __slots__ = ("account", "paired", "slot", "time")

    def __init__(self, time: float, slot: int, account: str) -> None:
        self.time, self.slot, self.account, self.paired = time, slot, account, 0


@dataclass
class _Pair:
    slots: set[int] = field(default_factory=set)
    objects: dict[str, int] = field(default_factory=dict)
    """Each object the pair co-posted, and the latest slot it did."""


@dataclass
class _Group:
    members: list[str]
    weights: Counter[int] = field(default_factory=Counter)
    objects: Counter[str] = field(default_factory=Counter)

    @property
    def pairs(self) -> int:
        return sum(self.weights.values())

    def own(self, min_overlap: float) -> frozenset[str]:
        """The objects the group co-posted as a group (:func:`~spamflood.coordination.object_floor`)."""
        return frozenset(group_objects(self.objects, self.pairs, min_overlap))


class CoPosting:
    """Incremental coordinated groups over a stream (see the module docstring).

    Parameters are the batch :class:`~spamflood.coordination.Coordination`'s (``interval``,
    ``min_coposts``, ``min_overlap``), checked there, and ``horizon``: seconds of event time
    behind the newest post after which occasions and posts are forgotten.
    """

    def __init__(self, *, interval: float, min_coposts: int, min_overlap: float, horizon: float) -> None:
        self.interval = interval
        self.min_coposts = min_coposts
        self.min_overlap = min_overlap
        self.horizon = horizon
        self._recent: dict[str, deque[_Recent]] = {}
        self._own: dict[str, set[int]] = {}
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._partners: dict[str, set[str]] = {}
        self._posts: dict[str, deque[tuple[float, tuple[str, ...]]]] = {}
        self._seen: set[str] = set()
        # what to forget, in arrival order (slots nearly sorted: a pairing's is at most the one before)
        self._posts_due: deque[tuple[int, str, str]] = deque()  # (slot, account, post id)
        self._own_due: deque[tuple[int, str]] = deque()  # (slot, account)
        self._pairs_due: deque[tuple[int, tuple[str, str]]] = deque()  # (slot, pair)
        self._rank: dict[str, tuple[bool, int, str]] = {}  # object -> (repost, first seen, as shown)
        self._edges: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}  # edge -> its weight and objects as counted
        self._parent: dict[str, str] = {}
        self._groups: dict[str, _Group] = {}
        self._version = 0  # bumped when a group's accounts or objects change, or posts expire
        # root -> (version, the group's objects, posts, first, last): an edge that raises the
        # group's pairs can take an object off it without a version bump
        self._cache: dict[str, tuple[int, frozenset[str], int, float, float]] = {}
        self._newest = -math.inf
        self._swept = -math.inf
        self._seq = 0

    def size(self) -> dict[str, int]:
        """What the state holds: accounts with occasions, pairs, edges, objects held, posts."""
        return {
            "accounts": len(self._own),
            "pairs": len(self._pairs),
            "edges": len(self._edges),
            "objects": len(self._rank),
            "posts": len(self._seen),
        }

    def groups(self) -> list[frozenset[str]]:
        """The groups now: each one's accounts."""
        return [frozenset(group.members) for group in self._groups.values()]

    def note(self, objects: dict[str, str]) -> None:
        """Note the objects of a post that cannot co-post (no author or time): the batch names
        a group's objects in the order they first appear in the feed, whatever posts them."""
        for name, shown in objects.items():
            if name not in self._rank:
                self._rank[name] = (name.startswith("repost of "), self._seq, shown)
                self._seq += 1

    def add_many(self, posts: Sequence[Posting]) -> list[GroupCounts | None]:
        """:meth:`add` each post in order, or :meth:`note` the objects of one without an
        account (``None``); the interface the monitor uses, shared with
        :class:`~spamflood.stream.redis_coposting.RedisCoPosting` (which pipelines it)."""
        out: list[GroupCounts | None] = []
        for post_id, account, time, objects in posts:
            if account is None:
                self.note(objects)
                out.append(None)
            else:
                out.append(self.add(post_id, account, time, objects))
        return out

    def close(self) -> None:
        """Nothing to release."""

    def add(self, post_id: str, account: str, time: float, objects: dict[str, str]) -> GroupCounts | None:
        """Record one post (known account and time; ``objects`` canonical -> as shown) and give
        its group's counts so far, or ``None`` when it is no group's post."""
        if not objects or post_id in self._seen:
            return self._counts(account, objects, count=False) if objects else None
        self._newest = max(self._newest, time)
        self._expire()
        self.note(objects)
        slot = math.floor(time / self.interval)
        self._seen.add(post_id)
        self._posts.setdefault(account, deque()).append((time, tuple(objects)))
        self._posts_due.append((slot, account, post_id))
        touched: set[tuple[str, str]] = set()
        own = self._own.setdefault(account, set())
        if slot not in own:
            own.add(slot)
            self._own_due.append((slot, account))
            touched.update(self._pair_key(account, b) for b in self._partners.get(account, ()))
        interval, pairs, partners, due = self.interval, self._pairs, self._partners, self._pairs_due
        for name in objects:
            recent = self._recent.setdefault(name, deque())
            while recent and recent[0].time < time - interval:
                recent.popleft()
            for earlier in recent:
                if earlier.paired >= MAX_NEIGHBOURS or abs(time - earlier.time) > interval:
                    continue
                earlier.paired += 1
                other = earlier.account
                if other == account:
                    continue
                key = (other, account) if other < account else (account, other)
                pair = pairs.get(key)
                if pair is None:
                    pair = pairs[key] = _Pair()
                    partners.setdefault(other, set()).add(account)
                    partners.setdefault(account, set()).add(other)
                at = earlier.slot if earlier.time <= time else slot  # the earlier post's
                if at not in pair.slots:
                    pair.slots.add(at)
                    due.append((at, key))
                if pair.objects.get(name, at) <= at:
                    pair.objects[name] = at
                touched.add(key)
            recent.append(_Recent(time, slot, account))
        lost = False
        for key in touched:
            lost |= self._check(key)
        if lost:
            self._rebuild()
        return self._counts(account, objects, count=True)

    @staticmethod
    def _pair_key(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a < b else (b, a)

    # ------------------------------------------------------------------ edges and groups

    def _check(self, key: tuple[str, str]) -> bool:
        """Apply the edge rule to pair ``key`` and update the groups; True if an edge was lost
        (the groups must be rebuilt)."""
        pair = self._pairs.get(key)
        weight = len(pair.slots) if pair is not None else 0
        held = self._edges.get(key)
        if weight < self.min_coposts and held is None:  # most pairs: met once or twice, by chance
            return False
        busier = max(len(self._own.get(key[0], ())), len(self._own.get(key[1], ())))
        strong = weight >= self.min_coposts and weight >= self.min_overlap * busier
        if not strong:
            if held is None:
                return False
            del self._edges[key]
            return True
        assert pair is not None
        objects = tuple(pair.objects)
        if held == (weight, objects):
            return False
        if held is not None:
            self._uncount(key, held)
        self._edges[key] = (weight, objects)
        self._union(*key)
        self._count(key, (weight, objects))
        return False

    def _find(self, a: str) -> str:
        parent = self._parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def _union(self, a: str, b: str) -> None:
        for x in (a, b):
            if x not in self._parent:
                self._parent[x] = x
                self._groups[x] = _Group([x])
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        ga, gb = self._groups[ra], self._groups[rb]
        if len(ga.members) < len(gb.members):
            ra, rb, ga, gb = rb, ra, gb, ga
        self._parent[rb] = ra
        ga.members.extend(gb.members)
        ga.weights.update(gb.weights)
        ga.objects.update(gb.objects)
        del self._groups[rb]
        self._cache.pop(rb, None)
        self._version += 1

    def _count(self, key: tuple[str, str], held: tuple[int, tuple[str, ...]]) -> None:
        group = self._groups[self._find(key[0])]
        group.weights[held[0]] += 1
        for name in held[1]:
            if not group.objects[name]:
                self._version += 1  # a new object of the group: its posts must be counted again
            group.objects[name] += 1

    def _uncount(self, key: tuple[str, str], held: tuple[int, tuple[str, ...]]) -> None:
        group = self._groups[self._find(key[0])]
        group.weights[held[0]] -= 1
        for name in held[1]:
            group.objects[name] -= 1
            if not group.objects[name]:
                self._version += 1  # an object the group no longer co-posts: its posts change

    def _rebuild(self) -> None:
        """The groups again from the edges (after an edge was lost)."""
        self._parent.clear()
        self._groups.clear()
        self._cache.clear()
        self._version += 1
        for key, held in self._edges.items():
            self._union(*key)
            self._count(key, held)

    # ------------------------------------------------------------------ a post's counts

    def _counts(self, account: str, objects: dict[str, str], *, count: bool) -> GroupCounts | None:
        """The counts of the group of ``account`` if the post carries one of its objects."""
        if account not in self._parent:
            return None
        root = self._find(account)
        group = self._groups[root]
        if not any(group.objects[name] > 0 for name in objects):  # most posts: none of its edges' objects
            return None
        mine = group.own(self.min_overlap)
        if mine.isdisjoint(objects):
            return None
        cached = self._cache.get(root)
        if cached is not None and cached[:2] == (self._version, mine):
            _, _, posts, first, last = cached
            if count:  # this post, by one of the group's accounts on one of its objects
                time = self._posts[account][-1][0]
                posts, first, last = posts + 1, min(first, time), max(last, time)
        else:
            posts, first, last = self._group_posts(group, mine)
        self._cache[root] = (self._version, mine, posts, first, last)
        return group_counts(len(group.members), group.weights, group.objects, self._rank, posts, first, last, self.min_overlap)

    def _group_posts(self, group: _Group, mine: frozenset[str]) -> tuple[int, float, float]:
        """The posts held of the group's accounts that carry one of its objects (``mine``), first and last time."""
        times = [t for a in group.members for t, names in self._posts.get(a, ()) if not mine.isdisjoint(names)]
        return (len(times), min(times), max(times)) if times else (0, math.nan, math.nan)

    # ------------------------------------------------------------------ forgetting

    def _expire(self) -> None:
        """Forget the occasions of slots that started more than ``horizon`` before the newest
        post, and the posts made before then."""
        cutoff = math.floor((self._newest - self.horizon) / self.interval)
        since = cutoff * self.interval
        posts_due, own_due, pairs_due = self._posts_due, self._own_due, self._pairs_due
        if not any(queue and queue[0][0] < cutoff for queue in (posts_due, own_due, pairs_due)):
            return
        while posts_due and posts_due[0][0] < cutoff:
            _, account, post_id = posts_due.popleft()
            self._seen.discard(post_id)
            posts = self._posts.get(account)
            while posts and posts[0][0] < since:
                posts.popleft()
            if not posts:
                self._posts.pop(account, None)
            self._version += 1  # a group's posts may have left
        touched: set[tuple[str, str]] = set()
        while own_due and own_due[0][0] < cutoff:
            slot, account = own_due.popleft()
            own = self._own.get(account)
            if own is not None:
                own.discard(slot)
                touched.update(self._pair_key(account, b) for b in self._partners.get(account, ()))
                if not own:
                    del self._own[account]
        while pairs_due and pairs_due[0][0] < cutoff:
            slot, key = pairs_due.popleft()
            pair = self._pairs.get(key)
            if pair is None:
                continue
            pair.slots.discard(slot)
            for name in [n for n, last in pair.objects.items() if last <= slot]:
                del pair.objects[name]
            touched.add(key)
            if not pair.slots:
                a, b = key
                del self._pairs[key]
                for x, y in ((a, b), (b, a)):
                    self._partners[x].discard(y)
                    if not self._partners[x]:
                        del self._partners[x]
        if self._newest - self._swept >= self.horizon:  # once a horizon: objects nobody posts any more
            self._swept = self._newest
            for name in [n for n, recent in self._recent.items() if not recent or recent[-1].time < since]:
                del self._recent[name]
            live = set(self._recent)
            for pair in self._pairs.values():
                live.update(pair.objects)
            for name in [n for n in self._rank if n not in live]:
                del self._rank[name]
        lost = False
        for key in touched:
            lost |= self._check(key)
        if lost:
            self._rebuild()


def group_counts(
    accounts: int,
    weights: Mapping[int, int],
    objects: Mapping[str, int],
    rank: Mapping[str, tuple[bool, int, str]],
    posts: int,
    first: float,
    last: float,
    min_overlap: float,
) -> GroupCounts:
    """A group's :class:`GroupCounts` from its state, the one wording of every store's.

    ``weights`` counts the group's edges by weight (occasions), ``objects`` its edges by object
    co-posted (of which :func:`group_objects` are the group's), and ``rank`` gives each object
    (a repost, the order it was first seen, as shown): the reason names the object most of its
    edges co-posted, the first seen among equals, reposts after the rest, as the batch does.
    """
    pairs = sum(weights.values())
    ranked = [(-objects[name], rank[name][:2], name) for name in group_objects(objects, pairs, min_overlap)]
    top = rank[min(ranked)[2]][2]
    return GroupCounts(accounts, pairs, _median(weights), posts, last - first, top, len(ranked))


def group_objects(objects: Mapping[str, int], pairs: int, min_overlap: float) -> list[str]:
    """The group's objects among those its edges co-posted (``objects``: edges per object;
    ``pairs``: its edges): those at :func:`~spamflood.coordination.object_floor`."""
    most = max(objects.values(), default=0)
    if most <= 0:
        return []
    floor = object_floor(pairs, most, min_overlap)
    return [name for name, n in objects.items() if n > 0 and n >= floor]


def _median(weights: Mapping[int, int]) -> float:
    """The median of a histogram of edge weights (the mean of the two middle ones when even)."""
    n = sum(weights.values())
    lo, hi = (n - 1) // 2, n // 2
    seen, low = 0, math.nan
    for w in sorted(k for k, c in weights.items() if c > 0):
        seen += weights[w]
        if seen > lo and low != low:  # the first middle one (NaN until found)
            low = w
        if seen > hi:
            return (low + w) / 2
    return math.nan
