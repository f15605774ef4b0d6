"""Near-duplicate clusters from MinHash signatures: LSH bands, verified edges, components.

Each band of ``rows`` signature values is hashed to a 64-bit key (:func:`band_keys`); posts
that share a key in a band are candidates. The candidate edges are defined by the bucket alone,
not by the order of work: in every bucket, each member is paired with the bucket's smallest
member (its star centre) and with the member just before it (so drifting copies A~B~C still
chain), and an edge counts when the estimated Jaccard of its two ends reaches the threshold.
Clusters are the connected components of those edges. One machine walks the posts in order
with a union-find and skips the check of an edge whose ends are already connected (it cannot
change a component), so the cost is one pass over posts per band, not a pass over pairs, and a
flood of 10,000 copies costs about 10,000 checks; a distributed engine (``spamflood.spark``)
verifies the same edges and gets the same components.

Bands and rows are chosen for *recall* at the threshold (default: a pair at the threshold is a
candidate with probability >= 0.98); precision comes from the verification.

Per cluster, :func:`cluster_stats` gives size, distinct authors, first/last time, the peak
number of posts and of distinct authors in a sliding window, and a representative post. A
missing time or author is unknown, never 1970 or an account of its own (see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from spamflood.errors import ConfigError

__all__ = [
    "BAND_HASH_VERSION",
    "Cluster",
    "ClusterFinder",
    "ClusterTable",
    "band_keys",
    "cluster_stats",
    "fingerprint_words",
    "lsh_params",
    "signature_digest",
]


def lsh_params(threshold: float, num_perm: int, recall: float = 0.98) -> tuple[int, int]:
    """``(bands, rows)`` with the most rows per band whose candidate probability at
    ``threshold`` is at least ``recall`` (0.98 at the threshold gives 25 x 5 for 0.7 and 128 permutations: 0.998 at 0.75); fewer rows only when none reaches it."""
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"The 'threshold' parameter must be in (0, 1). Got {threshold} instead.")
    if not 0.0 < recall < 1.0:
        raise ConfigError(f"The 'recall' parameter must be in (0, 1). Got {recall} instead.")
    if num_perm < 2:
        raise ConfigError(f"The 'num_perm' parameter must be at least 2. Got {num_perm} instead.")
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that a pair with this Jaccard similarity shares at least one band."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


@numba.njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


FINGERPRINT_BITS = 4
"""Bits kept of each signature value in a fingerprint (:func:`fingerprint_words`)."""


@numba.njit(cache=True, nogil=True, inline="always")
def _popcount(x: np.uint64) -> np.uint64:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(cache=True, nogil=True)
def _fingerprint_rows(sig: np.ndarray, out: np.ndarray) -> None:
    n, k = sig.shape
    for i in range(n):
        for w in range(out.shape[1]):  # a word's 16 values gathered in a register, then stored once
            word = np.uint64(0)
            for t in range(min(16, k - 16 * w)):
                mixed = (np.uint64(sig[i, 16 * w + t]) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
                nibble = mixed >> np.uint64(32 - FINGERPRINT_BITS)
                # two values a byte, the even one in the high nibble
                word |= nibble << np.uint64(8 * (t // 2) + (4 if t % 2 == 0 else 0))
            out[i, w] = word


def fingerprint_words(signatures: np.ndarray) -> np.ndarray:
    """Per signature, :data:`FINGERPRINT_BITS` bits of every value packed into ``(n, ceil(k/16))``
    little-endian 64-bit words (a short last word padded with zero nibbles).

    Equal values have equal fingerprints, so two posts' fingerprints agree in at least as many
    places as their signatures: a pair whose fingerprints differ in more than ``k - need``
    places fails the estimated-Jaccard test for sure, read from one cache line instead of a
    whole signature. The bits come from a multiplicative mix of the whole value (a MinHash
    minimum is small, so its own top bits say little). Viewed as bytes, value ``2b`` is the
    high and ``2b + 1`` the low nibble of byte ``b``.
    """
    sig = np.ascontiguousarray(signatures, dtype=np.uint32)
    if sig.ndim != 2:
        raise ValueError(f"signatures must be 2-D; got shape {sig.shape}")
    out = np.zeros((sig.shape[0], (sig.shape[1] + 15) // 16), dtype=np.uint64)
    _fingerprint_rows(sig, out)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _similar(sig: np.ndarray, fp: np.ndarray, a: int, b: int, need: int) -> bool:
    k = sig.shape[1]
    differ = 0
    for w in range(fp.shape[1]):  # places where the fingerprints differ: one bit per nibble
        x = fp[a, w] ^ fp[b, w]
        x = (x | (x >> np.uint64(1)) | (x >> np.uint64(2)) | (x >> np.uint64(3))) & np.uint64(0x1111111111111111)
        differ += _popcount(x)  # type: ignore[assignment]  # a uint64 count, in numba
    if differ > k - need:
        return False
    equal = 0
    for j in range(k):  # no early exit: a branch-free count vectorises
        equal += sig[a, j] == sig[b, j]
    return equal >= need


BAND_HASH_VERSION = 1
"""The version of :func:`band_keys`' hash. The stream engine stores band keys (in Redis, for
as long as a window) and names this version in the settings its index is bound to, so an index
keyed by another hash is refused instead of silently finding no candidates: change the hash,
bump this (``tests/test_cluster.py`` pins the keys of version 1)."""


@numba.njit(cache=True, nogil=True, inline="always")
def _band_hash(sig: np.ndarray, i: int, band: int, base: int, rows: int) -> np.uint64:
    h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1)
    for j in range(rows):
        h ^= np.uint64(sig[i, base + j])
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


@numba.njit(cache=True, nogil=True)
def _band_key_rows(sig: np.ndarray, bands: int, rows: int, out: np.ndarray) -> None:
    for i in range(sig.shape[0]):
        for band in range(bands):
            out[i, band] = _band_hash(sig, i, band, band * rows, rows)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The ``(n, bands)`` uint64 LSH bucket keys of each signature, one per band.

    Band ``b`` hashes signature values ``b*rows`` to ``(b+1)*rows - 1``; two posts are
    candidates when they share a key in the same band. These are exactly the keys that
    :class:`ClusterFinder` buckets by, so another engine that groups by them finds the same
    candidates.
    """
    sig = np.ascontiguousarray(signatures)
    if sig.ndim != 2 or bands < 1 or rows < 1 or bands * rows > sig.shape[1]:
        raise ConfigError(
            f"band_keys() needs 2-D signatures with at least bands x rows = {bands} x {rows} values per row. "
            f"Got shape {sig.shape} instead."
        )
    out = np.empty((sig.shape[0], bands), dtype=np.uint64)
    _band_key_rows(sig, bands, rows, out)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _union(parent: np.ndarray, a: int, b: int) -> bool:
    """Join the components of ``a`` and ``b``; the smaller root stays the root, so the result
    does not depend on the order of the unions. False when they were joined already."""
    root_a = _find(parent, a)
    root_b = _find(parent, b)
    if root_a == root_b:
        return False
    if root_a < root_b:
        parent[root_b] = root_a
    else:
        parent[root_a] = root_b
    return True


BAND_GROUP = 6
"""Bands whose keys :func:`_lsh_forest` hashes in one pass over the signatures (8 bytes a post
and band: 48 MB at a million posts)."""


@numba.njit(cache=True, nogil=True)
def _lsh_forest(
    sig: np.ndarray, fp: np.ndarray, valid: np.ndarray, band_lo: int, band_hi: int, rows: int, need: int,
    edges: np.ndarray, bits: int,
) -> int:  # fmt: skip
    """The verified edges of bands ``band_lo:band_hi`` that join two components: a spanning
    forest of those bands' similarity graph, written to ``edges``; returns how many.

    Each band's posts are first split by the top ``bits`` bits of their key (a stable counting
    sort, so a bucket's members stay in post order) and each part bucketed in a hash table small
    enough for the core's cache: a probe then hits the cache instead of a table of the size of
    the whole batch. A bucket lies in one part, so the buckets and their members are the ones
    one table over all posts would hold."""
    n = sig.shape[0]
    parent = np.arange(n, dtype=np.int64)
    parts = 1 << bits
    high = np.uint64(63 - bits)  # a key's part: (key >> high) >> 1, its top ``bits`` bits (0 parts: 0)
    one = np.uint64(1)
    # the keys of BAND_GROUP bands at a time, hashed in one pass over the signatures (a pass
    # per band would read a cache line of every signature for five values, band after band)
    group_keys = np.empty((min(BAND_GROUP, max(band_hi - band_lo, 1)), n), dtype=np.uint64)
    part_keys = np.empty(n, dtype=np.uint64)
    part_posts = np.empty(n, dtype=np.int32)
    starts = np.zeros(parts + 1, dtype=np.int64)
    used = np.empty(n, dtype=np.int64)
    size = 16
    table_keys = np.zeros(size, dtype=np.uint64)
    first = np.full(size, -1, dtype=np.int32)  # a bucket's smallest member and its latest one
    last = np.full(size, -1, dtype=np.int32)
    count = 0
    for band in range(band_lo, band_hi):
        at = (band - band_lo) % group_keys.shape[0]
        if at == 0:
            for i in range(n):
                if valid[i]:
                    for t in range(min(group_keys.shape[0], band_hi - band)):
                        group_keys[t, i] = _band_hash(sig, i, band + t, (band + t) * rows, rows)
        keys = group_keys[at]
        starts[:] = 0
        for i in range(n):
            if valid[i]:
                starts[np.int64((keys[i] >> high) >> one) + 1] += 1
        for p in range(parts):
            starts[p + 1] += starts[p]
        fill = starts[:parts].copy()
        for i in range(n):
            if valid[i]:
                part = np.int64((keys[i] >> high) >> one)
                part_keys[fill[part]] = keys[i]
                part_posts[fill[part]] = i
                fill[part] += 1
        biggest = 1
        for p in range(parts):
            biggest = max(biggest, starts[p + 1] - starts[p])
        if size < 2 * biggest + 2:
            while size < 2 * biggest + 2:
                size *= 2
            table_keys = np.zeros(size, dtype=np.uint64)
            first = np.full(size, -1, dtype=np.int32)
            last = np.full(size, -1, dtype=np.int32)
        mask = np.uint64(size - 1)
        for p in range(parts):
            taken = 0
            for k in range(starts[p], starts[p + 1]):
                h = part_keys[k]
                i = part_posts[k]
                slot = h & mask
                while first[slot] != -1 and table_keys[slot] != h:
                    slot = (slot + np.uint64(1)) & mask
                if first[slot] == -1:
                    table_keys[slot] = h
                    first[slot] = i
                    last[slot] = i
                    used[taken] = slot
                    taken += 1
                    continue
                # Edges to the bucket's smallest member and to the member before this one; an
                # edge whose ends are already connected is not checked (it cannot change a
                # component).
                for other in (first[slot], last[slot]):
                    if _find(parent, other) != _find(parent, i) and _similar(sig, fp, other, i, need):
                        _union(parent, other, i)
                        edges[count, 0] = other
                        edges[count, 1] = i
                        count += 1
                last[slot] = i
            for u in range(taken):  # empty the table for the next part
                first[used[u]] = -1
    return count


@numba.njit(cache=True, nogil=True)
def _join_forests(n: int, edges: np.ndarray) -> np.ndarray:
    """Each post's root (its component's smallest index) once the ``edges`` are joined."""
    parent = np.arange(n, dtype=np.int64)
    for e in range(edges.shape[0]):
        _union(parent, edges[e, 0], edges[e, 1])
    for i in range(n):
        parent[i] = _find(parent, i)
    return parent


def _lsh_components(
    sig: np.ndarray, fp: np.ndarray, valid: np.ndarray, bands: int, rows: int, need: int, threads: int = 1
) -> np.ndarray:
    """Components of the verified candidate graph. With ``threads > 1`` each thread walks some
    of the bands (its own buckets and union-find; the kernels release the GIL) and the forests
    are joined: the graph, and so its components, is the same however the bands are split."""
    n = sig.shape[0]
    splits = max(1, min(threads, bands))
    bounds = [round(k * bands / splits) for k in range(splits + 1)]

    bits = max(0, min(12, int(n // 4096).bit_length() - 1))  # parts of about 4,096 posts

    def forest(k: int) -> np.ndarray:
        edges = np.empty((max(n - 1, 0), 2), dtype=np.int64)
        found = _lsh_forest(sig, fp, valid, bounds[k], bounds[k + 1], rows, need, edges, bits)
        return edges[:found].copy()

    if splits == 1:
        forests = [forest(0)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(splits) as pool:
            forests = list(pool.map(forest, range(splits)))
    return _join_forests(n, np.concatenate(forests) if forests else np.zeros((0, 2), dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _window_peaks(
    order: np.ndarray, starts: np.ndarray, times: np.ndarray, authors: np.ndarray, n_authors: int, window: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster: peak posts and peak known authors within ``window``, the peak's start, the
    distinct known authors, the first and last time; per post (by row): the most known authors
    within one ``window`` that holds the post, and that window's start (an untimed post: its
    cluster's peak). ``order`` holds each cluster's posts by time with the untimed (NaN) ones
    last; an author code below 0 is unknown and never counted."""
    m = starts.shape[0] - 1
    n = times.shape[0]
    own_authors = np.zeros(n, dtype=np.int64)
    own_start = np.full(n, np.nan)
    # per sorted position r of a cluster: its window's first position and known authors
    lefts = np.zeros(order.shape[0], dtype=np.int64)
    insides = np.zeros(order.shape[0], dtype=np.int64)
    queue = np.zeros(order.shape[0], dtype=np.int64)
    peak_posts = np.zeros(m, dtype=np.int64)
    peak_authors = np.zeros(m, dtype=np.int64)
    peak_start = np.full(m, np.nan)
    first = np.full(m, np.nan)
    last = np.full(m, np.nan)
    distinct = np.zeros(m, dtype=np.int64)
    count = np.zeros(n_authors, dtype=np.int64)
    for c in range(m):
        s = starts[c]
        e = starts[c + 1]
        timed = e  # untimed posts sort last: the timed ones are s..timed
        while timed > s and np.isnan(times[order[timed - 1]]):
            timed -= 1
        left = s
        inside = 0
        if timed > s:
            first[c] = times[order[s]]
            last[c] = times[order[timed - 1]]
            peak_start[c] = first[c]
        for r in range(s, timed):
            a = authors[order[r]]
            if a >= 0:
                count[a] += 1
                if count[a] == 1:
                    inside += 1
            while times[order[r]] - times[order[left]] > window:
                b = authors[order[left]]
                if b >= 0:
                    count[b] -= 1
                    if count[b] == 0:
                        inside -= 1
                left += 1
            lefts[r] = left
            insides[r] = inside
            if inside > peak_authors[c]:
                peak_authors[c] = inside
                peak_start[c] = times[order[left]]
            if r - left + 1 > peak_posts[c]:
                peak_posts[c] = r - left + 1
        # Each window holding post p lies inside the longest one ending at some r >= p whose
        # first position is <= p: the most authors over those r, a sliding maximum (both ends
        # only move forward), kept in a queue of positions with falling author counts.
        head = 0
        tail = 0
        r = s
        for p in range(s, timed):
            while r < timed and lefts[r] <= p:
                while tail > head and insides[queue[tail - 1]] <= insides[r]:
                    tail -= 1
                queue[tail] = r
                tail += 1
                r += 1
            while queue[head] < p:
                head += 1
            own_authors[order[p]] = insides[queue[head]]
            own_start[order[p]] = times[order[lefts[queue[head]]]]
        for r in range(left, timed):
            a = authors[order[r]]
            if a >= 0:
                count[a] -= 1
        # distinct known authors over the whole cluster, timed or not
        total = 0
        for r in range(s, e):
            a = authors[order[r]]
            if a >= 0:
                if count[a] == 0:
                    total += 1
                count[a] += 1
        for r in range(s, e):
            a = authors[order[r]]
            if a >= 0:
                count[a] = 0
        distinct[c] = total
        if timed == s:  # no post has a time: the cluster is one window
            peak_posts[c] = e - s
            peak_authors[c] = total
        for p in range(timed, e):  # an untimed post may belong to any window: the peak's
            own_authors[order[p]] = peak_authors[c]
            own_start[order[p]] = peak_start[c]
    return peak_posts, peak_authors, peak_start, distinct, first, last, own_authors, own_start


class ClusterFinder:
    """Finds clusters of near-duplicate posts in a batch of MinHash signatures.

    A plain structure (not an estimator): it validates its parameters here, and
    :meth:`find` is a pure function of the signatures.

    Parameters
    ----------
    threshold : estimated Jaccard similarity at which two posts are near-duplicates.
    num_perm : signature length the finder will be given.
    bands, rows : LSH banding; by default chosen by :func:`lsh_params` for ``recall``.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.7,
        num_perm: int = 128,
        bands: int | None = None,
        rows: int | None = None,
        recall: float = 0.98,
    ) -> None:
        auto_bands, auto_rows = lsh_params(threshold, num_perm, recall)
        if (bands is None) != (rows is None):
            raise ConfigError("Give both 'bands' and 'rows', or neither (then they follow from 'threshold').")
        if bands is not None and rows is not None:
            if bands < 1 or rows < 1 or bands * rows > num_perm:
                raise ConfigError(
                    f"'bands' x 'rows' must be at least 1 and at most num_perm={num_perm}. "
                    f"Got {bands} x {rows} instead."
                )
            auto_bands, auto_rows = bands, rows
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = auto_bands
        self.rows = auto_rows
        self.recall = recall

    def __repr__(self) -> str:
        return f"ClusterFinder(threshold={self.threshold}, num_perm={self.num_perm}, bands={self.bands}, rows={self.rows})"

    def components(self, signatures: np.ndarray, valid: np.ndarray | None = None, *, threads: int = 1) -> np.ndarray:
        """Root index (smallest member) of each post's component; singletons are their own root.
        ``threads``: the bands are walked on that many threads (same result)."""
        sig = np.ascontiguousarray(signatures)
        if sig.ndim != 2 or sig.shape[1] != self.num_perm:
            raise ValueError(
                f"signatures must have shape (n, {self.num_perm}); got {sig.shape}. "
                "Did the MinHasher use a different num_perm?"
            )
        if valid is None:
            valid = np.ones(sig.shape[0], dtype=np.bool_)
        need = int(math.ceil(self.threshold * self.num_perm - 1e-9))
        if sig.shape[0] >= 2**31 - 1:
            raise ValueError(f"at most {2**31 - 2:,} signatures per batch; got {sig.shape[0]:,}")
        fp = fingerprint_words(sig)
        return _lsh_components(sig, fp, np.asarray(valid, dtype=np.bool_), self.bands, self.rows, need, threads)

    def find(
        self, signatures: np.ndarray, valid: np.ndarray | None = None, min_size: int = 2, *, threads: int = 1
    ) -> np.ndarray:
        """Cluster id per post (``-1``: in no cluster of ``min_size`` or more).

        Ids are dense, numbered in order of each cluster's first post in the batch.
        """
        return labels_from_roots(self.components(signatures, valid, threads=threads), min_size)


def labels_from_roots(roots: np.ndarray, min_size: int = 2) -> np.ndarray:
    """Dense cluster ids from component roots, in order of first member; small ones get -1."""
    n = roots.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    uniq, first_index, inverse, counts = np.unique(roots, return_index=True, return_inverse=True, return_counts=True)
    keep = counts >= min_size
    order = np.argsort(first_index[keep], kind="stable")
    ids = np.full(uniq.shape[0], -1, dtype=np.int64)
    ids[np.flatnonzero(keep)[order]] = np.arange(order.shape[0])
    labels[:] = ids[inverse]
    return labels


def signature_digest(signatures: np.ndarray) -> np.ndarray:
    """A 64-bit digest per signature row: equal digests mean (almost surely) identical rows."""
    return _digest_rows(np.ascontiguousarray(signatures))


@numba.njit(cache=True, nogil=True)
def _digest_rows(sig: np.ndarray) -> np.ndarray:
    n, k = sig.shape
    digest = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(k):
            h = (h ^ np.uint64(sig[i, j])) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
        digest[i] = h
    return digest


@dataclass(frozen=True)
class Cluster:
    """One cluster, for people: what it is and how it spread."""

    id: int
    size: int
    authors: int
    first_time: float
    last_time: float
    peak_posts: int
    peak_authors: int
    peak_start: float
    window: float
    representative: int
    members: np.ndarray

    @property
    def span(self) -> float:
        """Seconds from the first to the last timed post (NaN when no post has a time)."""
        return self.last_time - self.first_time


@dataclass(repr=False)
class ClusterTable:
    """Per-post cluster ids and per-cluster statistics as arrays (index = cluster id)."""

    labels: np.ndarray
    size: np.ndarray
    authors: np.ndarray
    first_time: np.ndarray
    last_time: np.ndarray
    peak_posts: np.ndarray
    peak_authors: np.ndarray
    peak_start: np.ndarray
    representative: np.ndarray
    window: float
    post_peak_authors: np.ndarray | None = None
    """Per post: the most known authors of its cluster within one ``window`` that holds the
    post (0 in no cluster; an untimed post: its cluster's ``peak_authors``). A post of a
    cluster whose copy was also posted weeks before or after a flood is in the flood only
    when its own time is. ``None``: the cluster's peak stands for every post."""
    post_peak_start: np.ndarray | None = None
    """Per post: the start (epoch seconds) of that window (NaN in no cluster or untimed)."""

    def __len__(self) -> int:
        return int(self.size.shape[0])

    def __repr__(self) -> str:  # counts, not the arrays
        return f"ClusterTable(posts={self.labels.shape[0]}, clusters={len(self)}, window={self.window!r})"

    def members(self, cluster_id: int) -> np.ndarray:
        return np.flatnonzero(self.labels == cluster_id)

    def cluster(self, cluster_id: int) -> Cluster:
        c = cluster_id
        return Cluster(
            id=c,
            size=int(self.size[c]),
            authors=int(self.authors[c]),
            first_time=float(self.first_time[c]),
            last_time=float(self.last_time[c]),
            peak_posts=int(self.peak_posts[c]),
            peak_authors=int(self.peak_authors[c]),
            peak_start=float(self.peak_start[c]),
            window=self.window,
            representative=int(self.representative[c]),
            members=self.members(c),
        )

    def shown_peak(self, cluster_id: int) -> tuple[int | None, int | None]:
        """The peak posts and accounts within one window as an output shows them: ``(None,
        None)`` for a cluster none of whose posts has a time, where no peak is known (the
        label still reads such a cluster as one window: :func:`cluster_stats`)."""
        c = cluster_id
        if np.isnan(self.first_time[c]):
            return None, None
        return int(self.peak_posts[c]), int(self.peak_authors[c])

    def per_post(self, values: np.ndarray, fill: float = 0, *, start: int = 0, stop: int | None = None) -> np.ndarray:
        """A per-cluster array spread to posts ``start:stop`` (``fill`` for posts in no cluster)."""
        labels = self.labels[start:stop]
        out = np.full(labels.shape[0], fill, dtype=np.result_type(values.dtype, type(fill)))
        inside = labels >= 0
        out[inside] = values[labels[inside]]
        return out


def cluster_stats(
    labels: np.ndarray,
    times: np.ndarray,
    author_codes: np.ndarray,
    *,
    window: float = 3600.0,
    digests: np.ndarray | None = None,
) -> ClusterTable:
    """Statistics of every cluster in ``labels`` (ids ``0..m-1``; ``-1`` ignored).

    A missing time (NaN) is unknown, never an instant: ``first_time``, ``last_time``, the span
    and the peaks within ``window`` (``peak_posts``, ``peak_authors``, ``peak_start``) come from
    the cluster's posts that have a time, while ``size`` and ``authors`` count every post. A
    cluster none of whose posts has a time has NaN first/last time, span and ``peak_start``,
    and is taken as one window (its peaks are its size and its distinct authors), so a feed
    without times still finds its floods. An author code below 0 is an unknown author
    (:meth:`spamflood.posts.PostBatch.unknown_authors`): the post counts in ``size`` but is
    no account in ``authors`` or ``peak_authors``. The representative is the earliest post
    among the cluster's most common exact signature (``digests``), or its earliest timed post
    when no digests are given.
    """
    if window <= 0:
        raise ConfigError(f"The 'window' parameter must be positive seconds. Got {window} instead.")
    labels = np.asarray(labels, dtype=np.int64)
    n = labels.shape[0]
    m = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
    t = np.asarray(times, dtype=np.float64)
    inside = np.flatnonzero(labels >= 0)
    order = inside[np.lexsort((inside, t[inside], labels[inside]))]  # NaN times sort last
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(m + 1)).astype(np.int64)
    codes = np.asarray(author_codes, dtype=np.int64)
    n_authors = int(codes.max()) + 1 if n else 0
    peak_posts, peak_authors, peak_start, distinct, first_time, last_time, own_authors, own_start = _window_peaks(
        order, starts, t, codes, max(n_authors, 1), float(window)
    )
    size = np.diff(starts)
    representative = _representatives(labels, order, starts, digests) if m else np.zeros(0, dtype=np.int64)
    return ClusterTable(
        labels=labels,
        size=size,
        authors=distinct,
        first_time=first_time,
        last_time=last_time,
        peak_posts=peak_posts,
        peak_authors=peak_authors,
        peak_start=peak_start,
        representative=representative,
        window=float(window),
        post_peak_authors=own_authors,
        post_peak_start=own_start,
    )


def _representatives(labels: np.ndarray, order: np.ndarray, starts: np.ndarray, digests: np.ndarray | None) -> np.ndarray:
    m = starts.shape[0] - 1
    if digests is None:
        return order[starts[:-1]].astype(np.int64)
    idx = np.flatnonzero(labels >= 0)
    # Posts by (cluster, digest); the sort is stable, so each group starts at its earliest post.
    # (Two numeric keys: far cheaper than np.unique over a record array.)
    by_group = np.lexsort((digests[idx], labels[idx]))
    cluster_of, digest_of, post_of = labels[idx][by_group], digests[idx][by_group], idx[by_group]
    new_group = np.ones(by_group.shape[0], dtype=np.bool_)
    new_group[1:] = (cluster_of[1:] != cluster_of[:-1]) | (digest_of[1:] != digest_of[:-1])
    group_start = np.flatnonzero(new_group)
    counts = np.diff(np.append(group_start, by_group.shape[0]))
    earliest = post_of[group_start].astype(np.int64)
    group_cluster = cluster_of[group_start].astype(np.int64)
    # Pick per cluster the largest group, ties to the earliest post.
    pick = np.lexsort((earliest, -counts, group_cluster))
    first_of_cluster = np.searchsorted(group_cluster[pick], np.arange(m))
    return earliest[pick[first_of_cluster]]
