"""One post's MinHash signature and LSH band keys, in one compiled call.

A stream signs posts one at a time, so the fixed cost of a call matters more than the cost
per shingle. :class:`Sketcher` runs the same numba kernel as
:meth:`spamflood.minhash.MinHasher.signatures` (so a post's signature is bit-identical to the
batch one, and to datasketch's ``affine32``) and hashes the bands in the same call, about three
times faster per post than going through ``signatures([text])``.
"""

from __future__ import annotations

import numba
import numpy as np

from spamflood.minhash import MinHasher, _signature_rows

__all__ = ["Sketcher"]


@numba.njit(cache=True, nogil=True)
def _sketch(
    codes: np.ndarray,
    ngram: int,
    a: np.ndarray,
    b: np.ndarray,
    bands: int,
    rows: int,
    sig: np.ndarray,
    keys: np.ndarray,
) -> None:
    """Signature of ``codes`` into ``sig`` (shape ``(1, num_perm)``) and one 64-bit key per band
    into ``keys``; the band's index is mixed in, so equal values in two bands differ."""
    offsets = np.empty(2, dtype=np.int64)
    offsets[0] = 0
    offsets[1] = codes.shape[0]
    _signature_rows(codes, offsets, ngram, a, b, sig)
    row = sig[0]
    for band in range(bands):
        h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1)
        base = band * rows
        for j in range(rows):
            h ^= np.uint64(row[base + j])
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
        keys[band] = h


class Sketcher:
    """Signs one shingled text and hashes its LSH bands (a plain structure, nothing learned).

    >>> from spamflood.minhash import MinHasher
    >>> sketcher = Sketcher(MinHasher(num_perm=128, seed=1), bands=25, rows=5)
    >>> sig, keys = sketcher("限时抢购加微信领取优惠券")
    >>> bool((sig == MinHasher(num_perm=128, seed=1).signatures(["限时抢购加微信领取优惠券"])[0]).all())
    True
    >>> keys.shape, keys.dtype
    ((25,), dtype('uint64'))
    """

    def __init__(self, hasher: MinHasher, *, bands: int, rows: int) -> None:
        if bands < 1 or rows < 1 or bands * rows > hasher.num_perm:
            raise ValueError(
                f"bands x rows must be at least 1 and at most num_perm={hasher.num_perm}. "
                f"Got {bands} x {rows} instead."
            )
        self.hasher = hasher
        self.bands = bands
        self.rows = rows
        self._a = np.ascontiguousarray(hasher.permutations[0])
        self._b = np.ascontiguousarray(hasher.permutations[1])

    def __call__(self, shingled: str) -> tuple[np.ndarray, np.ndarray]:
        """``(signature, band_keys)`` of a non-empty shingled text (see :mod:`spamflood.normalize`)."""
        codes = np.frombuffer(shingled.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        sig = np.empty((1, self.hasher.num_perm), dtype=np.uint32)
        keys = np.empty(self.bands, dtype=np.uint64)
        _sketch(codes, self.hasher.ngram, self._a, self._b, self.bands, self.rows, sig, keys)
        return sig[0], keys
