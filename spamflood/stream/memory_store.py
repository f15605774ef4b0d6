"""The in-process store: a band table that forgets, and per-cluster sliding-window counts.

Layout
------
* Posts inside the window live in *slots*: rows of a signature array, with their time and a
  generation number. The band table is one open-addressing hash table (NumPy arrays, probed by
  compiled numba code): (band key, time slice) -> the newest post of that slice in that
  bucket, as (slot, generation); a lookup reads the buckets of every slice the window overlaps.
  Looking a post up, reading every candidate's signature and verifying it (counting equal
  signature values) is one compiled call, so it costs about as much as signing the post.
* The time axis is cut into *slices* of ``window / slices`` seconds. When the watermark moves
  so that a whole slice is older than the window, its slots are freed at once: their
  generation is bumped, which turns every table cell that points at them into a dead cell
  (a later post in that bucket overwrites it; the table is rebuilt without dead cells when it
  is half full). So the index holds the posts of one window plus at most one slice, however
  long the stream runs.
* A cluster keeps the times of its posts inside the window, in order, overall and per author:
  size, distinct authors and one author's copies are exact sliding-window counts. A cluster
  whose last post left the window is deleted. A post alone (most posts) has no cluster state
  at all until a second post joins it.

Keeping only the newest post per bucket and slice bounds the work of a lookup whatever the
size of a flood: the newest copy is the likeliest match, and a flood's cluster lives on
through its latest members. The Redis store keeps the same buckets and decides ties the same
way, so both stores give the same verdicts on the same stream.

Not thread-safe: give each thread its own monitor and store (or share a Redis store).
"""

from __future__ import annotations

import math
from bisect import insort
from collections import deque
from collections.abc import Sequence

import numba
import numpy as np

from spamflood.durations import parse_duration
from spamflood.errors import ConfigError
from spamflood.stream.store import Counts, Entry, IndexSize, Late, cluster_id

__all__ = ["MemoryStore"]

_MIN_SLOTS = 1024
_MIN_CELLS = 1 << 14


@numba.njit(cache=True, nogil=True)
def _best_slot(
    table: np.ndarray,
    gens: np.ndarray,
    times: np.ndarray,
    sigs: np.ndarray,
    band_keys: np.ndarray,
    salts: np.ndarray,
    sig: np.ndarray,
    cutoff: float,
    need: int,
) -> int:
    """Slot of the best verified live candidate in ``band_keys``' buckets of the slices
    ``salts``, or -1.

    ``table`` rows are (band key ^ slice salt, slot + 1, generation); slot 0 marks an empty
    cell. Best: most equal signature values (at least ``need``), then the newest, then the
    first found (slices oldest first, bands in order), as the Redis store decides.
    """
    mask = np.uint64(table.shape[0] - 1)
    nb = band_keys.shape[0]
    k = sig.shape[0]
    checked = np.empty(nb * salts.shape[0], dtype=np.int64)
    n_checked = 0
    best = -1
    best_equal = need - 1
    for salt in salts:
        for b in range(nb):
            key = band_keys[b] ^ salt
            i = key & mask
            while True:
                s1 = table[i, 1]
                if s1 == 0:
                    break
                if table[i, 0] == key:
                    s = np.int64(s1) - 1
                    if table[i, 2] == gens[s] and times[s] >= cutoff:
                        seen = False
                        for c in range(n_checked):
                            if checked[c] == s:
                                seen = True
                                break
                        if not seen:
                            checked[n_checked] = s
                            n_checked += 1
                            equal = 0
                            for j in range(k):
                                if sigs[s, j] == sig[j]:
                                    equal += 1
                            if equal > best_equal or (equal == best_equal and best >= 0 and times[s] > times[best]):
                                best = int(s)
                                best_equal = equal
                    break
                i = (i + np.uint64(1)) & mask
    return best


@numba.njit(cache=True, nogil=True)
def _insert(
    table: np.ndarray,
    gens: np.ndarray,
    times: np.ndarray,
    sigs: np.ndarray,
    band_keys: np.ndarray,
    salt: np.uint64,
    sig: np.ndarray,
    slot: int,
    t: float,
) -> int:
    """Store the post in ``slot`` and make it the newest post of each of its buckets in its
    slice (``salt``); returns how many cells it filled. A bucket already holding a live post
    newer than this one (a late post) keeps it."""
    times[slot] = t
    sigs[slot, :] = sig
    mask = np.uint64(table.shape[0] - 1)
    gen = gens[slot]
    s1_new = np.uint64(slot + 1)
    added = 0
    for b in range(band_keys.shape[0]):
        key = band_keys[b] ^ salt
        i = key & mask
        while True:
            s1 = table[i, 1]
            if s1 == 0:
                table[i, 0] = key
                table[i, 1] = s1_new
                table[i, 2] = gen
                added += 1
                break
            if table[i, 0] == key:
                s = np.int64(s1) - 1
                if table[i, 2] != gens[s] or times[s] <= t:
                    table[i, 1] = s1_new
                    table[i, 2] = gen
                break
            i = (i + np.uint64(1)) & mask
    return added


@numba.njit(cache=True, nogil=True)
def _live_cells(table: np.ndarray, gens: np.ndarray, times: np.ndarray, cutoff: float) -> np.ndarray:
    """Indices of the cells that point at a live post inside the window."""
    out = np.empty(table.shape[0], dtype=np.int64)
    n = 0
    for i in range(table.shape[0]):
        s1 = table[i, 1]
        if s1 == 0:
            continue
        s = np.int64(s1) - 1
        if table[i, 2] == gens[s] and times[s] >= cutoff:
            out[n] = i
            n += 1
    return out[:n]


@numba.njit(cache=True, nogil=True)
def _rehash(table: np.ndarray, cells: np.ndarray, capacity: int) -> np.ndarray:
    new = np.zeros((capacity, 3), dtype=np.uint64)
    mask = np.uint64(capacity - 1)
    for c in cells:
        i = table[c, 0] & mask
        while new[i, 1] != 0:
            i = (i + np.uint64(1)) & mask
        new[i, 0] = table[c, 0]
        new[i, 1] = table[c, 1]
        new[i, 2] = table[c, 2]
    return new


def _salt(s: int) -> int:
    """The 64-bit value mixed into a band key to name its bucket in slice ``s``."""
    return (s * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF


def _time_of(item: tuple[float, str | None]) -> float:
    return item[0]


def _alone(cluster: str, t: float, author: str | None) -> Counts:
    """The counts of a post alone in its cluster."""
    if author is None:
        return Counts(cluster, 1, 0, 0, t, t, math.nan, math.nan)
    return Counts(cluster, 1, 1, 1, t, t, t, t)


def _power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


class _Cluster:
    """Times of a cluster's posts inside the window, overall and per account, oldest first (a
    post without an account, ``None``, counts in the size only)."""

    __slots__ = ("by_author", "times")

    def __init__(self) -> None:
        self.times: deque[tuple[float, str | None]] = deque()
        self.by_author: dict[str, deque[float]] = {}

    def add(self, time: float, author: str | None) -> None:
        times = self.times
        if not times or time >= times[-1][0]:
            times.append((time, author))
        else:  # a late post inside the window
            insort(times, (time, author), key=_time_of)
        if author is None:
            return
        mine = self.by_author.get(author)
        if mine is None:
            self.by_author[author] = mine = deque()
        if not mine or time >= mine[-1]:
            mine.append(time)
        else:
            insort(mine, time)

    def trim(self, cutoff: float) -> None:
        """Forget posts older than ``cutoff`` (the oldest post is also its author's oldest)."""
        times, by_author = self.times, self.by_author
        while times and times[0][0] < cutoff:
            _, author = times.popleft()
            if author is None:
                continue
            mine = by_author[author]
            mine.popleft()
            if not mine:
                del by_author[author]

    def counts(self, cluster: str, author: str | None) -> Counts:
        times, mine = self.times, self.by_author.get(author) if author is not None else None
        if not times:
            return Counts(cluster, 0, 0, 0, math.nan, math.nan, math.nan, math.nan)
        if not mine:
            return Counts(cluster, len(times), len(self.by_author), 0, times[0][0], times[-1][0], math.nan, math.nan)
        return Counts(cluster, len(times), len(self.by_author), len(mine), times[0][0], times[-1][0], mine[0], mine[-1])


class MemoryStore:
    """An in-memory :class:`~spamflood.stream.FloodStore` for one monitor in one process.

    A plain structure: parameters are validated here; arrays are sized when a monitor binds.

    Parameters
    ----------
    window : the sliding window (seconds, or text like ``"1h"``), in event time.
    slices : time slices per window; the index holds at most ``1 + 1/slices`` windows of posts.
    """

    def __init__(self, window: float | str = "1h", *, slices: int = 2) -> None:
        self.window = parse_duration(window)
        if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
            raise ConfigError(f"The 'slices' parameter of MemoryStore must be an integer >= 1. Got {slices!r} instead.")
        self.slices = slices
        self.width = self.window / slices
        self._settings: str | None = None
        self._need = 0
        self._watermark = -math.inf
        self._forget_at = -math.inf
        # Slots: signature rows and their metadata.
        self._sigs = np.zeros((0, 0), dtype=np.uint32)
        self._times = np.zeros(0, dtype=np.float64)
        self._gens = np.zeros(0, dtype=np.uint64)
        self._ids: list[str | None] = []
        self._authors: list[str | None] = []
        self._cluster_of: list[str | None] = []
        self._free: list[int] = []
        self._slot_of: dict[str, int] = {}
        self._slices: dict[int, list[int]] = {}
        self._slice_clusters: dict[int, set[str]] = {}  # clusters with state that posts of a slice joined
        # Band table: rows (key, slot + 1, generation).
        self._table = np.zeros((_MIN_CELLS, 3), dtype=np.uint64)
        self._used = 0
        self._salts: dict[tuple[int, int], np.ndarray] = {}
        self._clusters: dict[str, _Cluster] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(window={self.window}, slices={self.slices})"

    @property
    def watermark(self) -> float:
        """The latest post time seen (``-inf`` before the first post)."""
        return self._watermark

    def bind(self, settings: str, *, num_perm: int, need: int) -> None:
        if self._settings is None:
            self._settings = settings
            self._need = need
            self._sigs = np.zeros((0, num_perm), dtype=np.uint32)
        elif self._settings != settings:
            raise ConfigError(
                f"This MemoryStore already serves a monitor with other settings ({self._settings}); "
                f"a monitor with {settings} needs its own store."
            )

    def _check_bound(self) -> None:
        if self._settings is None:
            raise ConfigError("This MemoryStore has no monitor yet; pass it to FloodMonitor(store=...) first.")

    def _best(self, entry: Entry, now: float) -> int:
        """Slot of the best verified candidate of ``entry`` in the window ending at ``now``, or -1."""
        cutoff = now - self.window
        lo, hi = math.floor(cutoff / self.width), math.floor(now / self.width)
        salts = self._salts.get((lo, hi))
        if salts is None:
            salts = np.array([_salt(s) for s in range(lo, hi + 1)], dtype=np.uint64)
            self._salts = {(lo, hi): salts}
        return int(
            _best_slot(
                self._table, self._gens, self._times, self._sigs, entry.band_keys, salts, entry.signature, cutoff, self._need
            )
        )

    def add(self, entry: Entry) -> Counts | Late:
        if self._settings is None:
            self._check_bound()
        post_id, author, t, band_keys, signature = entry
        in_order = t >= self._watermark
        if t > self._watermark:
            self._watermark = t
            if t - self.window >= self._forget_at:
                self._forget(t - self.window)
        cutoff = self._watermark - self.window
        if t < cutoff:
            return Late(self._watermark)
        slot = self._slot_of.get(post_id)
        if slot is not None and self._times[slot] == t:  # redelivered (same id and time): counted once
            existing = self._cluster_of[slot]
            assert existing is not None
            state = self._clusters.get(existing)
            if state is None:  # a post alone
                return _alone(existing, float(self._times[slot]), author)
            state.trim(cutoff)
            return state.counts(existing, author)
        best = self._best(entry, self._watermark)
        cluster = cluster_id(post_id) if best < 0 else self._cluster_of[best]
        assert cluster is not None
        slot = self._free.pop() if self._free else self._allocate()
        self._ids[slot] = post_id
        self._authors[slot] = author
        self._cluster_of[slot] = cluster
        self._slot_of[post_id] = slot
        s = math.floor(t / self.width)
        members = self._slices.get(s)
        if members is None:
            self._slices[s] = members = []
            self._slice_clusters[s] = set()
        members.append(slot)
        if 2 * (self._used + band_keys.shape[0]) > self._table.shape[0]:
            self._rebuild(cutoff)
        salt = np.uint64(_salt(s))
        self._used += _insert(self._table, self._gens, self._times, self._sigs, band_keys, salt, signature, slot, t)
        state = self._clusters.get(cluster)
        if state is None:
            if best < 0:  # a new cluster: its counts are this post's
                return _alone(cluster, t, author)
            # The second post of a cluster: its founder, the match, had no state yet.
            self._clusters[cluster] = state = _Cluster()
            at = float(self._times[best])
            state.add(at, self._authors[best])
            self._touched(math.floor(at / self.width)).add(cluster)
        self._slice_clusters[s].add(cluster)
        state.add(t, author)
        if not in_order or state.times[0][0] < cutoff:
            state.trim(cutoff)
        return state.counts(cluster, author)

    def add_many(self, entries: Sequence[Entry]) -> list[Counts | Late]:
        return [self.add(entry) for entry in entries]

    def _allocate(self) -> int:
        """A free slot, growing the slot arrays (doubling) when none is left."""
        if not self._free:
            old = self._times.shape[0]
            new = max(_MIN_SLOTS, 2 * old)
            sigs = np.zeros((new, self._sigs.shape[1]), dtype=np.uint32)
            sigs[:old] = self._sigs
            self._sigs = sigs
            self._times = np.concatenate([self._times, np.full(new - old, -np.inf)])
            self._gens = np.concatenate([self._gens, np.zeros(new - old, dtype=np.uint64)])
            self._ids.extend([None] * (new - old))
            self._authors.extend([None] * (new - old))
            self._cluster_of.extend([None] * (new - old))
            self._free = list(range(new - 1, old - 1, -1))
        return self._free.pop()

    def _rebuild(self, cutoff: float) -> None:
        """Rehash the live cells into a table at most a quarter full (dead cells dropped)."""
        cells = _live_cells(self._table, self._gens, self._times, cutoff)
        capacity = max(_MIN_CELLS, _power_of_two(4 * (cells.shape[0] + 64)))
        self._table = _rehash(self._table, cells, capacity)
        self._used = int(cells.shape[0])

    def _forget(self, cutoff: float) -> None:
        """Free the slots of every slice that lies wholly before ``cutoff``; trim their clusters."""
        low = math.floor(cutoff / self.width)
        self._forget_at = (low + 1) * self.width
        ids, slot_of = self._ids, self._slot_of
        for s in [s for s in self._slices if s < low]:
            slots = self._slices.pop(s)
            for slot in slots:
                post_id = ids[slot]
                if slot_of.get(post_id) == slot:  # type: ignore[arg-type]
                    del slot_of[post_id]  # type: ignore[arg-type]
            for cluster in self._slice_clusters.pop(s, ()):
                state = self._clusters.get(cluster)
                if state is not None:
                    state.trim(cutoff)
                    if not state.times:
                        del self._clusters[cluster]
            index = np.asarray(slots, dtype=np.int64)
            self._gens[index] += np.uint64(1)
            self._times[index] = -np.inf
            self._free.extend(reversed(slots))

    def _touched(self, s: int) -> set[str]:
        touched = self._slice_clusters.get(s)
        if touched is None:
            self._slice_clusters[s] = touched = set()
        return touched

    def size(self) -> IndexSize:
        live = _live_cells(self._table, self._gens, self._times, self._watermark - self.window)
        return IndexSize(
            posts=sum(len(s) for s in self._slices.values()),
            buckets=int(live.shape[0]),
            clusters=len(self._clusters),
            watermark=self._watermark,
        )

    def memory_bytes(self) -> int:
        """Bytes held by the arrays (signatures, times, table): the bulk of the index."""
        return int(self._sigs.nbytes + self._times.nbytes + self._gens.nbytes + self._table.nbytes)

    def close(self) -> None:
        """Nothing to release."""

