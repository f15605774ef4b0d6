"""One post's MinHash signature and LSH band keys.

A stream signs posts one at a time, so the fixed cost of a call matters more than the cost
per shingle. :class:`Sketcher` runs the same numba kernel as
:meth:`spamflood.minhash.MinHasher.signatures` (so a post's signature is bit-identical to the
batch one, and to datasketch's ``affine32``) on the text's code points directly, about three
times faster per post than going through ``signatures([text])``. The band keys are the batch
engine's own (:func:`spamflood.cluster.band_keys`): one band hash for every engine, versioned
by :data:`spamflood.cluster.BAND_HASH_VERSION` so that a stored index keyed by another hash is
refused (see :meth:`spamflood.stream.FloodStore.bind`).
"""

from __future__ import annotations

import numba
import numpy as np

from spamflood.cluster import band_keys
from spamflood.minhash import MinHasher, _signature_rows

__all__ = ["Sketcher"]


@numba.njit(cache=True, nogil=True)
def _sign(codes: np.ndarray, ngram: int, a: np.ndarray, b: np.ndarray, sig: np.ndarray) -> None:
    """Signature of ``codes`` (one text's code points) into ``sig`` (shape ``(1, num_perm)``)."""
    offsets = np.empty(2, dtype=np.int64)
    offsets[0] = 0
    offsets[1] = codes.shape[0]
    _signature_rows(codes, offsets, ngram, a, b, sig)


class Sketcher:
    """Signs one shingled text and keys its LSH bands as the batch engine does (a plain
    structure, nothing learned).

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
        _sign(codes, self.hasher.ngram, self._a, self._b, sig)
        return sig[0], band_keys(sig, self.bands, self.rows)[0]
