"""MinHash signatures of character n-grams, for a whole batch of texts at once.

A post's shingles are its character n-grams over Unicode code points, so Chinese and English
are treated alike and no word segmentation is needed. Texts arrive already in shingling form
(``spamflood.normalize`` strips whitespace and punctuation first).

The signatures are bit-identical to datasketch's ``affine32`` scheme (datasketch 2.0's
default), so they convert to :class:`datasketch.LeanMinHash` and work in datasketch's LSH, LSH
Forest and storage backends:

- a shingle's 32-bit hash is MurmurHash3_x86_32 (seed 0) of its UTF-32-LE bytes. Its last step,
  the ``fmix32`` avalanche, is the very pre-mix that ``affine32`` applies to every input hash,
  so :meth:`MinHasher.shingle_hash` returns the hash *before* that step and datasketch, given
  it as ``hashfunc``, finishes it;
- permutation ``k`` maps a mixed hash ``h`` to ``a_k * h + b_k mod 2**32`` (``a_k`` odd), with
  ``a`` and ``b`` drawn exactly as datasketch draws them from ``seed``; a signature keeps the
  minimum over the shingles.

A whole chunk of texts is turned into one array of code points and one compiled loop (numba)
hashes every n-gram, applies every permutation and keeps the minima, with no Python object per
shingle. The loop releases the GIL, so threads can share a :class:`MinHasher`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from spamflood.errors import ConfigError, InputError

if TYPE_CHECKING:
    from datasketch import LeanMinHash

__all__ = ["EMPTY_HASH", "MinHasher", "estimate_jaccard", "exact_jaccard"]

EMPTY_HASH = 0xFFFFFFFF
"""Every value of the signature of an empty text (no shingles): datasketch's empty MinHash."""

_MASK = 0xFFFFFFFF
_SCHEME = "affine32"
# Code points per chunk: bounds the UTF-32 buffer (4 bytes each) whatever the batch size.
_CHUNK_CODE_POINTS = 1 << 22

# MurmurHash3_x86_32 constants: block multipliers, the per-block add, and the fmix32 multipliers.
_C1, _C2, _C3 = 0xCC9E2D51, 0x1B873593, 0xE6546B64
_F1, _F2 = 0x85EBCA6B, 0xC2B2AE35
_U = np.uint32
_UC1, _UC2, _UC3, _UF1, _UF2 = _U(_C1), _U(_C2), _U(_C3), _U(_F1), _U(_F2)
_UMAX = _U(EMPTY_HASH)


def _check_int(name: str, value: Any, low: int, high: int | None, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(
            f"The '{name}' parameter of MinHasher must be an integer. Got {value!r} instead. {hint}"
        )
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ConfigError(f"The '{name}' parameter of MinHasher must be {bound}. Got {value} instead. {hint}")
    return int(value)


def _grams(text: str, ngram: int) -> list[str]:
    if not text:
        return []
    if len(text) <= ngram:
        return [text]
    return [text[i : i + ngram] for i in range(len(text) - ngram + 1)]


class MinHasher:
    """Computes MinHash signatures of character n-grams for batches of texts.

    A plain structure (not an estimator): the parameters are validated here and nothing is
    learned; :meth:`signatures` is a pure function of its input. The signatures are those of
    ``datasketch.MinHash(num_perm, seed=seed, hashfunc=hasher.shingle_hash)`` updated with
    :meth:`shingles` (scheme ``"affine32"``).

    Parameters
    ----------
    num_perm : number of permutations, the signature length.
    ngram : characters (code points) per shingle. A non-empty text shorter than ``ngram`` is
        one shingle, the whole text; an empty text has no shingles (see :meth:`signatures`).
    seed : seed of the permutations, as datasketch's ``seed`` (0 to 2**32 - 1).

    Attributes
    ----------
    permutations : read-only ``(2, num_perm)`` uint32 array, rows ``a`` (odd) and ``b``; equal to
        ``datasketch.MinHash(num_perm=num_perm, seed=seed).permutations``.

    Examples
    --------
    >>> hasher = MinHasher(num_perm=128, ngram=5, seed=1)
    >>> sig = hasher.signatures(["限时抢购加微信领取优惠券", "限时抢购加微信领取红包"])
    >>> sig.shape, sig.dtype
    ((2, 128), dtype('uint32'))
    >>> round(exact_jaccard("限时抢购加微信领取优惠券", "限时抢购加微信领取红包", ngram=5), 3)
    0.5
    >>> 0.3 < estimate_jaccard(sig[0], sig[1]) < 0.7
    True
    """

    def __init__(self, num_perm: int = 128, ngram: int = 5, seed: int = 1) -> None:
        self.num_perm = _check_int(
            "num_perm", num_perm, 1, None, "It is the signature length; 128 is datasketch's default."
        )
        self.ngram = _check_int("ngram", ngram, 1, None, "It is the shingle size in characters, e.g. 5.")
        self.seed = _check_int(
            "seed", seed, 0, _MASK, "It seeds numpy.random.RandomState, as datasketch's 'seed' does."
        )
        gen = np.random.RandomState(self.seed)
        # Drawn in datasketch's order, so that the permutations (and signatures) are its own.
        a = gen.randint(0, 1 << 31, self.num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, self.num_perm, dtype=np.uint32)
        self.permutations = np.array([a, b], dtype=np.uint32)
        self.permutations.setflags(write=False)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Pickling (to a worker process) drops the read-only flag: set it again, so that the
        # array stays read-only and the compiled kernel the parent loaded for it fits it.
        self.__dict__.update(state)
        self.permutations.setflags(write=False)

    def __repr__(self) -> str:
        return f"MinHasher(num_perm={self.num_perm}, ngram={self.ngram}, seed={self.seed})"

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """The ``(len(texts), num_perm)`` uint32 signatures of ``texts``, one row per text.

        ``texts`` is a list or tuple of str (another iterable is read into a list first). Work
        goes in chunks of about four million code points, so memory beyond the result stays
        bounded.

        An empty text has no shingles: its row is all :data:`EMPTY_HASH` (``0xFFFFFFFF``), as
        an empty datasketch MinHash. Two empty rows estimate a Jaccard similarity of 1, so
        callers exclude empty texts from clustering.
        """
        if isinstance(texts, str):
            raise InputError(
                "signatures() takes a sequence of texts, not one string; wrap it: signatures([text])"
            )
        if not isinstance(texts, (list, tuple)):
            texts = list(texts)
        n = len(texts)
        out = np.empty((n, self.num_perm), dtype=np.uint32)
        if n == 0:
            return out
        try:
            # A text that is not a str fails len() or the join; only then are the texts scanned.
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
            ends = np.cumsum(lengths)
            a, b = self.permutations[0], self.permutations[1]
            start = 0
            while start < n:
                budget = int(ends[start] - lengths[start]) + _CHUNK_CODE_POINTS
                end = max(start + 1, int(np.searchsorted(ends, budget, side="right")))
                joined = "".join(texts[start:end])
                codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                offsets = np.zeros(end - start + 1, dtype=np.int64)
                np.cumsum(lengths[start:end], out=offsets[1:])
                _signature_rows(codes, offsets, self.ngram, a, b, out[start:end])
                start = end
        except TypeError:
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise InputError(f"texts[{i}] is {type(text).__name__}; every text must be a str.") from None
            raise
        return out

    def signatures_from_codes(self, codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of texts given as one code-point array: text ``i`` is
        ``codes[offsets[i]:offsets[i + 1]]`` (the layout of
        :func:`spamflood.normalize.shingle_codes`), so no Python string per text is needed.
        Equal to :meth:`signatures` of the same texts."""
        codes = np.asarray(codes)
        offsets = np.asarray(offsets)
        if codes.ndim != 1 or codes.dtype != np.uint32:
            raise InputError(f"codes must be a 1-D uint32 array; got {codes.dtype} with shape {codes.shape}.")
        if offsets.ndim != 1 or offsets.dtype != np.int64 or offsets.size == 0:
            raise InputError("offsets must be a non-empty 1-D int64 array (one more entry than texts).")
        if offsets[0] != 0 or offsets[-1] != codes.size or (offsets.size > 1 and (np.diff(offsets) < 0).any()):
            raise InputError("offsets must start at 0, never decrease and end at len(codes).")
        out = np.empty((offsets.size - 1, self.num_perm), dtype=np.uint32)
        if out.shape[0]:
            _signature_rows(codes, offsets, self.ngram, self.permutations[0], self.permutations[1], out)
        return out

    def shingles(self, text: str) -> list[str]:
        """The character n-grams of ``text`` in order, repeats included (``[text]`` if shorter
        than ``ngram``, ``[]`` if empty)."""
        return _grams(text, self.ngram)

    @staticmethod
    def shingle_hash(shingle: str) -> int:
        """The 32-bit hash of one shingle before datasketch's ``affine32`` pre-mix.

        MurmurHash3_x86_32 (seed 0) of the shingle's UTF-32-LE bytes, without its final
        ``fmix32``, which datasketch applies: pass this as ``hashfunc`` to ``datasketch.MinHash``
        to reproduce :meth:`signatures` one shingle at a time.
        """
        if not isinstance(shingle, str):
            raise InputError(f"shingle_hash() takes a str shingle. Got {type(shingle).__name__} instead.")
        h = 0
        for ch in shingle:
            k = (ord(ch) * _C1) & _MASK
            k = ((k << 15) | (k >> 17)) & _MASK
            k = (k * _C2) & _MASK
            h ^= k
            h = ((h << 13) | (h >> 19)) & _MASK
            h = (h * 5 + _C3) & _MASK
        return h ^ ((4 * len(shingle)) & _MASK)

    def to_lean(self, signature: np.ndarray) -> LeanMinHash:
        """One signature row as a :class:`datasketch.LeanMinHash` (scheme ``affine32``, this seed)."""
        from datasketch import LeanMinHash

        row = np.asarray(signature)
        if row.shape != (self.num_perm,):
            raise ConfigError(
                f"to_lean() takes one signature of shape ({self.num_perm},). Got shape {row.shape} "
                "instead; use to_lean_many() for a 2-D array of signatures."
            )
        return LeanMinHash(seed=self.seed, hashvalues=row, scheme=_SCHEME)

    def to_lean_many(self, signatures: np.ndarray) -> list[LeanMinHash]:
        """Every row of a ``(n, num_perm)`` signature array as a :class:`datasketch.LeanMinHash`."""
        from datasketch import LeanMinHash

        sig = np.asarray(signatures)
        if sig.ndim != 2 or sig.shape[1] != self.num_perm:
            raise ConfigError(
                f"to_lean_many() takes signatures of shape (n, {self.num_perm}). Got shape "
                f"{sig.shape} instead. Did they come from a MinHasher with another num_perm?"
            )
        return [LeanMinHash(seed=self.seed, hashvalues=row, scheme=_SCHEME) for row in sig]


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Estimated Jaccard similarity: the share of positions where two signatures agree.

    Two 1-D signatures give a float; ``(n, k)`` against ``(n, k)`` (or one ``(k,)`` against
    ``(n, k)``) gives ``n`` similarities, row by row, as a float64 array.
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.ndim not in (1, 2) or y.ndim not in (1, 2) or x.shape[-1] != y.shape[-1] or x.shape[-1] == 0:
        raise ConfigError(
            f"estimate_jaccard() takes signatures of one length k > 0, as (k,) or (n, k). "
            f"Got shapes {x.shape} and {y.shape} instead."
        )
    if x.ndim == 2 and y.ndim == 2 and x.shape[0] != y.shape[0]:
        raise ConfigError(
            f"estimate_jaccard() compares row by row, so both arrays need the same number of rows. "
            f"Got shapes {x.shape} and {y.shape} instead."
        )
    agree = np.count_nonzero(x == y, axis=-1) / x.shape[-1]
    return float(agree) if np.ndim(agree) == 0 else agree


def exact_jaccard(text_a: str, text_b: str, ngram: int = 5) -> float:
    """Exact Jaccard similarity of two texts' n-gram sets, the quantity MinHash estimates.

    Two empty texts count as identical (1.0), as their signatures do.
    """
    sa, sb = set(_grams(text_a, ngram)), set(_grams(text_b, ngram))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


# The compiled kernel. numba promotes uint32 arithmetic to 64 bits, so every step is cast back
# with _U(...): the arithmetic is mod 2**32 as in datasketch's affine32.


@numba.njit(cache=True, nogil=True, inline="always")
def _rotl(x: Any, r: int) -> Any:
    return _U((x << _U(r)) | (x >> _U(32 - r)))


@numba.njit(cache=True, nogil=True)
def _gram_hashes(
    codes: np.ndarray, start: int, length: int, width: int, blocks: np.ndarray, out: np.ndarray
) -> None:
    """Fully mixed hashes of the ``length - width + 1`` grams of ``width`` code points in
    ``codes[start:start + length]``, into ``out``.

    Each code point's MurmurHash3 block mix is computed once into ``blocks`` and shared by the
    ``width`` grams that hold it; the loops over grams are innermost so that they vectorise.
    """
    count = length - width + 1
    for i in range(length):
        blocks[i] = _U(_rotl(_U(codes[start + i] * _UC1), 15) * _UC2)
    for i in range(count):
        out[i] = _U(0)
    for j in range(width):
        for i in range(count):
            out[i] = _U(_U(_rotl(out[i] ^ blocks[i + j], 13) * _U(5)) + _UC3)
    nbytes = _U(4 * width)
    for i in range(count):
        h = out[i] ^ nbytes
        h = _U((h ^ (h >> _U(16))) * _UF1)
        h = _U((h ^ (h >> _U(13))) * _UF2)
        out[i] = h ^ (h >> _U(16))


@numba.njit(cache=True, nogil=True)
def _signature_rows(
    codes: np.ndarray, offsets: np.ndarray, ngram: int, a: np.ndarray, b: np.ndarray, out: np.ndarray
) -> None:
    """Fill ``out[t]`` with the signature of ``codes[offsets[t]:offsets[t + 1]]`` for every t."""
    n = offsets.shape[0] - 1
    num_perm = a.shape[0]
    longest = 1
    for t in range(n):
        longest = max(longest, offsets[t + 1] - offsets[t])
    blocks = np.empty(longest, dtype=np.uint32)
    hashes = np.empty(longest, dtype=np.uint32)
    for t in range(n):
        row = out[t]
        for p in range(num_perm):
            row[p] = _UMAX
        start = offsets[t]
        length = offsets[t + 1] - start
        if length == 0:
            continue
        width = min(ngram, length)
        count = length - width + 1
        _gram_hashes(codes, start, length, width, blocks, hashes)
        # Shingles outside, permutations inside: the row stays in L1 and the inner loop
        # vectorises. Four shingles per pass share each load and store of a, b and the row.
        i = 0
        while i + 4 <= count:
            h0, h1, h2, h3 = hashes[i], hashes[i + 1], hashes[i + 2], hashes[i + 3]
            for p in range(num_perm):
                ap, bp = a[p], b[p]
                v01 = min(_U(_U(ap * h0) + bp), _U(_U(ap * h1) + bp))
                v23 = min(_U(_U(ap * h2) + bp), _U(_U(ap * h3) + bp))
                row[p] = min(row[p], min(v01, v23))
            i += 4
        while i < count:
            h = hashes[i]
            for p in range(num_perm):
                row[p] = min(row[p], _U(_U(a[p] * h) + b[p]))
            i += 1
