"""A fitted text pipeline's probability in one compiled loop: scikit-learn's, to rounding.

The text part of a :class:`~spamflood.model.FloodModel` (:func:`spamflood.model.text.text_pipeline`)
is a scikit-learn pipeline: a :class:`~sklearn.feature_extraction.text.HashingVectorizer` over
character n-grams within word boundaries (``char_wb``), a
:class:`~sklearn.feature_extraction.text.TfidfTransformer` and a
:class:`~sklearn.linear_model.LogisticRegression`. Run by scikit-learn, every n-gram of every
post is a Python string, encoded and hashed one at a time, then a sparse matrix is built and
multiplied: 85 CPU seconds per million posts of a synthetic feed, against 11 for this loop, in
one run of ``benchmarks/text_speed.py`` (load average 22; the rest of scoring such a feed
costs about 60).

:func:`compile_text` reads the fitted parameters (n-gram range, columns, the IDF weights, the
coefficients and the intercept) once, and :meth:`CompiledText.proba` computes, per post, in one
numba loop (``cache=True``, ``nogil``) over the texts' code points what the pipeline computes:

1. lower-case (by Python's ``str.lower``, as scikit-learn's preprocessor; one C pass over the
   joined texts);
2. split into words at whitespace (``str.split()``'s characters) and pad each with a space;
3. per word, its character n-grams as ``_char_wb_ngrams`` makes them (a word shorter than ``n``
   gives itself once, and no longer n-gram);
4. each n-gram's UTF-8 bytes hashed by MurmurHash3 (x86, 32 bits, seed 0) and mapped to a
   column as ``FeatureHasher`` maps them (``abs(h) % n_features``; ``-2**31`` as it special-cases);
5. the counts per column, weighed ``(1 + log(count)) * idf`` (sublinear) or ``count * idf``,
   scaled to unit length (l2), summed against the coefficients, plus the intercept; the
   probability is ``expit`` of that. The counts gather in a small hash table per post, and the
   sums run in the order the columns first occur, not in scikit-learn's column order: sorting
   them cost more than half the loop again, and the two orders differ by rounding (a few units
   in the 16th digit), not by anything a threshold of 1e-9 could see.

Words recur (a feed's 50,000 posts hold about 26,000 distinct words in 277,000), so each
distinct word's columns are hashed once per call and copied where the word occurs again; and
the copies of one text in a call are scored once.

The pipeline stays the reference and the training path; a property test compares the two on
arbitrary text (``tests/test_text_kernel.py``). :func:`compile_text` returns ``None`` for a
pipeline with settings the loop does not reproduce (another analyzer, a preprocessor of its
own, accents stripped, alternating signs, binary counts, ...): the caller
then keeps the pipeline. A lone surrogate, which scikit-learn cannot encode (it raises), is
hashed as its three ``surrogatepass`` bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

__all__ = ["WHITESPACE", "CompiledText", "compile_text"]

WHITESPACE: tuple[int, ...] = tuple(c for c in range(0x3001) if chr(c).isspace())
"""Code points ``str.split()`` splits on (``str.isspace``; none above U+3000: a test checks
every code point)."""

_SPACE = np.zeros(0x3001, dtype=np.bool_)
_SPACE[list(WHITESPACE)] = True


@numba.njit(cache=True, nogil=True, inline="always")
def _murmur3_32(data: np.ndarray, start: int, stop: int) -> int:
    """MurmurHash3 x86 32-bit of ``data[start:stop]`` (bytes), seed 0, as a signed int
    (scikit-learn's ``murmurhash3_bytes_s32``)."""
    c1 = np.uint64(0xCC9E2D51)
    c2 = np.uint64(0x1B873593)
    mask = np.uint64(0xFFFFFFFF)
    h = np.uint64(0)
    length = stop - start
    blocks = start + (length // 4) * 4
    i = start
    while i < blocks:
        k = (
            np.uint64(data[i])
            | (np.uint64(data[i + 1]) << np.uint64(8))
            | (np.uint64(data[i + 2]) << np.uint64(16))
            | (np.uint64(data[i + 3]) << np.uint64(24))
        )
        k = (k * c1) & mask
        k = ((k << np.uint64(15)) | (k >> np.uint64(17))) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << np.uint64(13)) | (h >> np.uint64(19))) & mask
        h = (h * np.uint64(5) + np.uint64(0xE6546B64)) & mask
        i += 4
    tail = length & 3
    if tail:
        k = np.uint64(0)
        if tail == 3:
            k ^= np.uint64(data[blocks + 2]) << np.uint64(16)
        if tail >= 2:
            k ^= np.uint64(data[blocks + 1]) << np.uint64(8)
        k ^= np.uint64(data[blocks])
        k = (k * c1) & mask
        k = ((k << np.uint64(15)) | (k >> np.uint64(17))) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= np.uint64(length)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & mask
    h ^= h >> np.uint64(16)
    signed = np.int64(h)
    return int(signed - np.int64(0x100000000)) if signed >= np.int64(0x80000000) else int(signed)


@numba.njit(cache=True, nogil=True, inline="always")
def _column(h: int, n_features: int) -> int:
    """``FeatureHasher``'s column of hash ``h``."""
    if h == -2147483648:
        return (2147483647 - (n_features - 1)) % n_features
    if n_features & (n_features - 1) == 0:  # a power of two (scikit-learn's advice): a mask
        return abs(h) & (n_features - 1)
    return abs(h) % n_features


@numba.njit(cache=True, nogil=True, inline="always")
def _word_columns(
    codes: np.ndarray, p: int, q: int, word: np.ndarray, at: np.ndarray,
    min_n: int, max_n: int, n_features: int, columns: np.ndarray, count: int,
) -> int:
    """The columns of the n-grams of the word ``codes[p:q]``, written from ``columns[count]``
    on; returns the count after them."""
    # the padded word: " " codes[p:q] " "
    chars = q - p + 2
    word[0] = 32
    at[0] = 0
    b = 1
    for j in range(p, q):
        at[j - p + 1] = b
        c = codes[j]
        if c < 0x80:
            word[b] = c
            b += 1
        elif c < 0x800:
            word[b] = 0xC0 | (c >> 6)
            word[b + 1] = 0x80 | (c & 0x3F)
            b += 2
        elif c < 0x10000:
            word[b] = 0xE0 | (c >> 12)
            word[b + 1] = 0x80 | ((c >> 6) & 0x3F)
            word[b + 2] = 0x80 | (c & 0x3F)
            b += 3
        else:
            word[b] = 0xF0 | (c >> 18)
            word[b + 1] = 0x80 | ((c >> 12) & 0x3F)
            word[b + 2] = 0x80 | ((c >> 6) & 0x3F)
            word[b + 3] = 0x80 | (c & 0x3F)
            b += 4
    at[chars - 1] = b
    word[b] = 32
    at[chars] = b + 1
    for size in range(min_n, max_n + 1):
        if size >= chars:  # the whole padded word once, and no longer n-gram
            columns[count] = _column(_murmur3_32(word, 0, b + 1), n_features)
            count += 1
            break
        for offset in range(chars - size + 1):
            columns[count] = _column(_murmur3_32(word, at[offset], at[offset + size]), n_features)
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _log_odds(
    codes: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    space: np.ndarray,
    min_n: int,
    max_n: int,
    n_features: int,
    sublinear: bool,
    l2: bool,
    weights: np.ndarray,
    intercept: float,
) -> np.ndarray:
    """Per text ``codes[starts[i]:stops[i]]`` (code points, lower-cased): the pipeline's
    decision value (see the module docstring). ``weights[column]``: the column's IDF and its
    IDF times its coefficient, side by side (one cache line a column)."""
    n = starts.shape[0]
    out = np.empty(n, dtype=np.float64)
    longest = 0
    for i in range(n):
        longest = max(longest, stops[i] - starts[i])
    # a word of w code points padded to w + 2 gives at most (w + 2) n-grams per n
    columns = np.empty(max_n * (3 * longest + 2) + 1, dtype=np.int64)
    used = np.empty(columns.shape[0], dtype=np.int64)
    slots = 64
    while slots < 2 * columns.shape[0]:
        slots *= 2
    keys = np.full(slots, -1, dtype=np.int64)
    runs = np.zeros(slots, dtype=np.int64)
    word = np.empty(4 * (longest + 2), dtype=np.uint8)  # UTF-8 bytes of " " + word + " "
    at = np.empty(longest + 3, dtype=np.int64)  # byte offset of each code point of it
    # Words recur across posts: each distinct word's columns are hashed once per call and
    # kept in ``pool`` (the word found again by its code points, compared in full).
    word_mask = 1023
    while word_mask + 1 < min(codes.shape[0], 1 << 17):  # at most one word in two code points
        word_mask = 2 * word_mask + 1
    word_entry = np.full(word_mask + 1, -1, dtype=np.int64)
    word_hash = np.empty(word_mask // 2 + 1, dtype=np.uint64)
    word_length = np.empty(word_mask // 2 + 1, dtype=np.int64)
    word_start = np.empty(word_mask // 2 + 1, dtype=np.int64)
    word_pooled = np.empty(word_mask // 2 + 1, dtype=np.int64)
    word_columns = np.empty(word_mask // 2 + 1, dtype=np.int64)
    pool = np.empty(min(max_n * (codes.shape[0] + 2 * n) + 1, 1 << 20), dtype=np.int64)
    words = 0
    pooled = 0
    for i in range(n):
        count = 0
        p = starts[i]
        stop = stops[i]
        while p < stop:
            c = codes[p]
            if c < space.shape[0] and space[c]:
                p += 1
                continue
            q = p
            while q < stop and not (codes[q] < space.shape[0] and space[codes[q]]):
                q += 1
            length = q - p
            h = np.uint64(0xCBF29CE484222325)  # FNV-1a over the word's code points
            for j in range(p, q):
                h = (h ^ np.uint64(codes[j])) * np.uint64(0x100000001B3)
            slot = np.int64(h & np.uint64(word_mask))
            found = -1
            while word_entry[slot] != -1:
                e = word_entry[slot]
                if word_hash[e] == h and word_length[e] == length:
                    s = word_start[e]
                    j = 0
                    while j < length and codes[s + j] == codes[p + j]:
                        j += 1
                    if j == length:
                        found = e
                        break
                slot = (slot + 1) & word_mask
            if found >= 0:
                s = word_pooled[found]
                for j in range(word_columns[found]):
                    columns[count + j] = pool[s + j]
                count += word_columns[found]
            else:
                after = _word_columns(codes, p, q, word, at, min_n, max_n, n_features, columns, count)
                if words < word_mask // 2 and pooled + after - count <= pool.shape[0]:
                    word_entry[slot] = words
                    word_hash[words] = h
                    word_length[words] = length
                    word_start[words] = p
                    word_pooled[words] = pooled
                    word_columns[words] = after - count
                    for j in range(count, after):
                        pool[pooled] = columns[j]
                        pooled += 1
                    words += 1
                count = after
            p = q
        # the counts per column, in a small open-addressing table (columns in first-seen order)
        distinct = 0
        table = 63
        while table + 1 < 2 * count:  # a table this post fills at most half of: it stays in cache
            table = 2 * table + 1
        for k in range(count):
            column = columns[k]
            slot = (column * 0x9E3779B1) & table
            while keys[slot] != column and keys[slot] != -1:
                slot = (slot + 1) & table
            if keys[slot] == -1:
                keys[slot] = column
                runs[slot] = 0
                used[distinct] = slot
                distinct += 1
            runs[slot] += 1
        # sum(tf * idf * coef) / |tf * idf| over the columns, in the order they first occur,
        # where scikit-learn scales first and sums in column order (the sums differ by rounding)
        squares = 0.0
        total = 0.0
        for k in range(distinct):
            slot = used[k]
            count = runs[slot]
            if count == 1:
                tf = 1.0
            else:
                tf = np.log(np.float64(count)) + 1.0 if sublinear else np.float64(count)
            column = keys[slot]
            weight = tf * weights[column, 0]
            squares += weight * weight
            total += tf * weights[column, 1]
            keys[slot] = -1
        if l2 and squares > 0.0:
            total /= np.sqrt(squares)
        out[i] = total + intercept
    return out


@numba.njit(cache=True, nogil=True)
def _text_columns(codes: np.ndarray, space: np.ndarray, min_n: int, max_n: int, n_features: int) -> np.ndarray:
    """The column of every n-gram of the text ``codes`` (lower-cased code points), word by
    word, each word's n-grams by size and offset: the order :meth:`CompiledText.ngrams` names them."""
    columns = np.empty(max_n * (3 * codes.shape[0] + 2) + 1, dtype=np.int64)
    word = np.empty(4 * (codes.shape[0] + 2), dtype=np.uint8)
    at = np.empty(codes.shape[0] + 3, dtype=np.int64)
    count = 0
    p = 0
    stop = codes.shape[0]
    while p < stop:
        if codes[p] < space.shape[0] and space[codes[p]]:
            p += 1
            continue
        q = p
        while q < stop and not (codes[q] < space.shape[0] and space[codes[q]]):
            q += 1
        count = _word_columns(codes, p, q, word, at, min_n, max_n, n_features, columns, count)
        p = q
    return columns[:count]


@dataclass(frozen=True)
class CompiledText:
    """A fitted text pipeline's parameters, scored by one compiled loop (module docstring)."""

    min_n: int
    max_n: int
    n_features: int
    lowercase: bool
    sublinear: bool
    l2: bool
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    weights: np.ndarray = field(init=False, repr=False, compare=False)
    """Per column its IDF and IDF times coefficient, side by side: what the loop reads."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", np.ascontiguousarray(np.column_stack([self.idf, self.idf * self.coef])))

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """The pipeline's log-odds of each text (``decision_function``). A text that occurs
        several times (copies of one message) is scored once."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        first = dict.fromkeys(texts)
        if len(first) == len(texts):
            return self._decision(texts)
        distinct = list(first)
        scores = self._decision(distinct)
        for text, score in zip(distinct, scores.tolist(), strict=True):
            first[text] = score
        return np.fromiter(map(first.__getitem__, texts), dtype=np.float64, count=len(texts))

    def _decision(self, texts: list[str]) -> np.ndarray:
        codes, starts, stops = _code_points(texts, self.lowercase)
        return _log_odds(
            codes, starts, stops, _SPACE, self.min_n, self.max_n, self.n_features,
            self.sublinear, self.l2, self.weights, self.intercept,
        )

    def ngrams(self, text: str) -> list[tuple[str, float]]:
        """Every n-gram of ``text`` (padded by a space at a word's ends, as the pipeline makes
        them) with what it adds to the log-odds: its column's coefficient times the column's
        TF-IDF weight in this text, shared by the n-grams of that column (an n-gram that occurs
        twice is listed twice, with half each). The shares sum to :meth:`decision` minus the
        intercept."""
        lowered = text.lower() if self.lowercase else text
        grams: list[str] = []
        for word in lowered.split():
            padded = f" {word} "
            for size in range(self.min_n, self.max_n + 1):
                if size >= len(padded):
                    grams.append(padded)
                    break
                grams.extend(padded[k : k + size] for k in range(len(padded) - size + 1))
        if not grams:
            return []
        codes = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        columns = _text_columns(codes, _SPACE, self.min_n, self.max_n, self.n_features)
        distinct, inverse, counts = np.unique(columns, return_inverse=True, return_counts=True)
        tf = np.log(counts) + 1.0 if self.sublinear else counts.astype(np.float64)
        value = tf * self.idf[distinct]
        if self.l2 and (norm := float(np.sqrt(np.dot(value, value)))) > 0.0:
            value = value / norm
        share = (value * self.coef[distinct] / counts)[inverse]
        return list(zip(grams, share.tolist(), strict=True))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """The pipeline's probability that each text is spam (``predict_proba(texts)[:, 1]``)."""
        from scipy.special import expit

        return np.asarray(expit(self.decision(texts)), dtype=np.float64)


def _code_points(texts: list[str], lowercase: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts (lower-cased by ``str.lower`` if asked) as one UTF-32 array, and where each
    starts and stops in it. Joined by newlines and lower-cased in one call: a newline is
    neither cased nor case-ignorable, so a final sigma reads as in its own text; a text whose
    lower-case form is longer (``İ``) has the texts lower-cased one by one instead."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    joined = "\n".join(texts)
    if lowercase:
        lowered = joined.lower()
        if len(lowered) != len(joined):
            texts = [t.lower() for t in texts]
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            lowered = "\n".join(texts)
        joined = lowered
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
    return codes, starts, starts + lengths


def compile_text(pipeline: Any) -> CompiledText | None:
    """The compiled form of a fitted ``HashingVectorizer -> TfidfTransformer ->
    LogisticRegression`` pipeline (binary), or ``None`` when its settings are not those the
    loop reproduces (see the module docstring)."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    steps = [step for _, step in getattr(pipeline, "steps", [])]
    if len(steps) != 3:
        return None
    hasher, tfidf, logistic = steps
    if (
        type(hasher) is not HashingVectorizer
        or type(tfidf) is not TfidfTransformer
        or type(logistic) is not LogisticRegression
    ):
        return None
    if (
        hasher.analyzer != "char_wb"
        or hasher.input != "content"
        or hasher.preprocessor is not None
        or hasher.strip_accents is not None
        or hasher.alternate_sign
        or hasher.binary
        or hasher.norm is not None
        or np.dtype(hasher.dtype) != np.float64
        or tfidf.norm not in ("l2", None)
        or list(getattr(logistic, "classes_", [])) != [0, 1]
        or logistic.coef_.shape != (1, hasher.n_features)
    ):
        return None
    min_n, max_n = hasher.ngram_range
    if min_n < 1:
        return None
    idf = np.asarray(tfidf.idf_, dtype=np.float64) if tfidf.use_idf else np.ones(hasher.n_features)
    return CompiledText(
        min_n=int(min_n),
        max_n=int(max_n),
        n_features=int(hasher.n_features),
        lowercase=bool(hasher.lowercase),
        sublinear=bool(tfidf.sublinear_tf),
        l2=tfidf.norm == "l2",
        idf=np.ascontiguousarray(idf),
        coef=np.ascontiguousarray(logistic.coef_[0], dtype=np.float64),
        intercept=float(logistic.intercept_[0]),
    )

