"""Hashed character n-grams of a text, counted and weighed in one compiled loop.

The text part of a :class:`~spamflood.model.FloodModel` (:func:`spamflood.model.text.text_pipeline`)
is a scikit-learn pipeline: :class:`~spamflood.model.ngrams.HashedNgrams` (the counts of each
text's character n-grams within word boundaries, hashed to columns), a
:class:`~sklearn.feature_extraction.text.TfidfTransformer` and a
:class:`~sklearn.linear_model.LogisticRegression`. The n-grams are those of scikit-learn's
``char_wb`` analyzer:

1. lower-case (by Python's ``str.lower``; one C pass over the joined texts);
2. split into words at whitespace (``str.split()``'s characters) and pad each with a space;
3. per word, its character n-grams of each size in the range (a padded word no longer than a
   size gives itself once, and no longer n-gram).

Each n-gram is hashed from its code points (FNV-1a over 64 bits, then a multiply-xorshift
mix) to one of ``n_features`` columns (a power of two: the low bits). Hashing code points
rather than UTF-8 bytes lets the hash of an n-gram grow one character at a time: the n-grams
starting at one character, of sizes 1 to 4, cost four steps together. The training path
(:class:`~spamflood.model.ngrams.HashedNgrams`) and the scoring path use the very same loop
(:func:`_word_columns`), so they agree on every column by construction.

:func:`compile_text` reads the fitted parameters once, and :meth:`CompiledText.proba` computes
per post what the pipeline computes: the counts per column, weighed ``(1 + log(count)) * idf``
(sublinear) or ``count * idf``, scaled to unit length (l2), summed against the coefficients,
plus the intercept; the probability is ``expit`` of that. The counts gather in a small hash
table per post, and the sums run in the order the columns first occur rather than in
scikit-learn's column order: the two differ by rounding (a few units in the 16th digit), not by
anything a threshold of 1e-9 could see (``tests/test_text_kernel.py``).

Words recur (a feed's 50,000 posts hold about 26,000 distinct words in 277,000), so each
distinct word's columns are hashed once per call and copied where the word occurs again; and
texts recur (a flood's copies), so each is scored once and remembered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

__all__ = ["WHITESPACE", "CompiledText", "compile_text", "count_ngrams", "ngram_columns"]

WHITESPACE: tuple[int, ...] = tuple(c for c in range(0x3001) if chr(c).isspace())
"""Code points ``str.split()`` splits on (``str.isspace``; none above U+3000: a test checks
every code point)."""

_SPACE = np.zeros(0x3001, dtype=np.bool_)
_SPACE[list(WHITESPACE)] = True

REMEMBERED_TEXTS = 100_000
"""Texts a compiled text part remembers the score of; past it, it forgets them all and starts
again (about 15 MB; a chunk worker of a million-post feed finds a fifth of its posts there)."""

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True, inline="always")
def _column(h: np.uint64, mask: np.uint64) -> np.int64:
    """The column of an n-gram's running FNV-1a hash ``h``: mixed (the low bits of FNV alone
    are weak), then its low bits."""
    h = h ^ (h >> np.uint64(29))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(32))
    return np.int64(h & mask)


@numba.njit(cache=True, nogil=True, inline="always")
def _is_space(c: int, space: np.ndarray) -> bool:
    """Whether code point ``c`` is one ``str.split()`` splits on (``space``: :data:`_SPACE`)."""
    return c < space.shape[0] and space[c]


@numba.njit(cache=True, nogil=True, inline="always")
def _word_columns(
    codes: np.ndarray,
    p: int,
    q: int,
    min_n: int,
    max_n: int,
    mask: np.uint64,
    columns: np.ndarray,
    count: int,
    spans: np.ndarray,
) -> int:
    """The columns of the n-grams of the word ``codes[p:q]`` (padded by a space at each end),
    written from ``columns[count]`` on; returns the count after them. ``spans`` (two columns;
    no rows: not asked) gets where each n-gram starts and stops in ``codes``, padding left out."""
    padded = q - p + 2
    for start in range(padded):
        h = _FNV_OFFSET
        for size in range(1, max_n + 1):
            end = start + size  # the n-gram is padded[start:end]
            if end > padded:
                break
            j = end - 1
            c = 32 if j == 0 or j == padded - 1 else codes[p + j - 1]
            h = (h ^ np.uint64(c)) * _FNV_PRIME
            # every n-gram of a size shorter than the padded word; the whole word once, also
            # when every size in the range is longer than it
            whole = start == 0 and size == padded
            if (size >= min_n and size < padded) or whole:
                columns[count] = _column(h, mask)
                if spans.shape[0]:
                    spans[count, 0] = max(p + start - 1, p)
                    spans[count, 1] = min(p + end - 1, q)
                count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _occurrences(codes: np.ndarray, space: np.ndarray, min_n: int, max_n: int, n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every n-gram of the text ``codes``: its word's index (among the text's words), where it
    starts and stops in ``codes`` (its padding spaces left out) and its column."""
    capacity = max_n * (3 * codes.shape[0] + 2) + 1
    columns = np.empty(capacity, dtype=np.int64)
    spans = np.empty((capacity, 2), dtype=np.int64)
    words = np.empty(capacity, dtype=np.int64)
    mask = np.uint64(n_features - 1)
    count = 0
    word = 0
    p = 0
    while p < codes.shape[0]:
        if _is_space(codes[p], space):
            p += 1
            continue
        q = p
        while q < codes.shape[0] and not _is_space(codes[q], space):
            q += 1
        after = _word_columns(codes, p, q, min_n, max_n, mask, columns, count, spans)
        words[count:after] = word
        count = after
        word += 1
        p = q
    return words[:count], spans[:count], columns[:count]


@numba.njit(cache=True, nogil=True)
def _tally(
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
    counting: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per text ``codes[starts[i]:stops[i]]`` (lower-cased code points): its n-grams' counts
    per column. ``counting``: returned as a CSR matrix's ``indptr, indices, data`` (columns
    ascending within a row); else each text's log-odds under ``weights`` (per column its IDF
    and its IDF times the coefficient, side by side: one cache line a column) and
    ``intercept``. Returns ``(log_odds, indptr, indices, data)``, the part not asked for empty."""
    n = starts.shape[0]
    mask = np.uint64(n_features - 1)
    out = np.empty(0 if counting else n, dtype=np.float64)
    indptr = np.zeros(n + 1 if counting else 0, dtype=np.int64)
    capacity = max_n * (codes.shape[0] + 2 * n) + 1 if counting else 0
    indices = np.empty(capacity, dtype=np.int32)
    data = np.empty(capacity, dtype=np.float64)
    written = 0
    longest = 0
    for i in range(n):
        longest = max(longest, stops[i] - starts[i])
    # a word of w code points padded to w + 2 gives at most w + 2 n-grams per size
    columns = np.empty(max_n * (3 * longest + 2) + 1, dtype=np.int64)
    used = np.empty(columns.shape[0], dtype=np.int64)
    slots = 64
    while slots < 2 * columns.shape[0]:
        slots *= 2
    keys = np.full(slots, -1, dtype=np.int64)
    runs = np.zeros(slots, dtype=np.int64)
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
    no_spans = np.empty((0, 2), dtype=np.int64)
    for i in range(n):
        count = 0
        p = starts[i]
        stop = stops[i]
        while p < stop:
            if _is_space(codes[p], space):
                p += 1
                continue
            q = p
            while q < stop and not _is_space(codes[q], space):
                q += 1
            length = q - p
            h = _FNV_OFFSET  # the word's own hash, to find it in the word table
            for j in range(p, q):
                h = (h ^ np.uint64(codes[j])) * _FNV_PRIME
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
                after = _word_columns(codes, p, q, min_n, max_n, mask, columns, count, no_spans)
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
        if counting:
            begin = written
            for k in range(distinct):
                indices[written] = keys[used[k]]
                written += 1
            row = np.sort(indices[begin:written])
            for k in range(distinct):
                indices[begin + k] = row[k]
            for k in range(distinct):
                slot = (np.int64(row[k]) * 0x9E3779B1) & table
                while keys[slot] != row[k]:
                    slot = (slot + 1) & table
                data[begin + k] = np.float64(runs[slot])
            indptr[i + 1] = written
            for k in range(distinct):
                keys[used[k]] = -1
            continue
        # sum(tf * idf * coef) / |tf * idf| over the columns
        squares = 0.0
        total = 0.0
        for k in range(distinct):
            slot = used[k]
            run = runs[slot]
            if run == 1:
                tf = 1.0
            else:
                tf = np.log(np.float64(run)) + 1.0 if sublinear else np.float64(run)
            column = keys[slot]
            weight = tf * weights[column, 0]
            squares += weight * weight
            total += tf * weights[column, 1]
            keys[slot] = -1
        if l2 and squares > 0.0:
            total /= np.sqrt(squares)
        out[i] = total + intercept
    return out, indptr, indices[:written], data[:written]


@numba.njit(cache=True, nogil=True)
def _gram_columns(codes: np.ndarray, starts: np.ndarray, stops: np.ndarray, n_features: int) -> np.ndarray:
    """The column of each n-gram ``codes[starts[i]:stops[i]]`` (as :func:`_word_columns` hashes it)."""
    mask = np.uint64(n_features - 1)
    out = np.empty(starts.shape[0], dtype=np.int64)
    for i in range(starts.shape[0]):
        h = _FNV_OFFSET
        for j in range(starts[i], stops[i]):
            h = (h ^ np.uint64(codes[j])) * _FNV_PRIME
        out[i] = _column(h, mask)
    return out


def ngram_columns(grams: Sequence[str], n_features: int) -> np.ndarray:
    """The column each n-gram (a string, padding spaces included) is counted in."""
    codes, starts, stops = _text_codes(list(grams), lowercase=False)
    return _gram_columns(codes, starts, stops, n_features)


def count_ngrams(texts: Sequence[str], ngram_range: tuple[int, int], n_features: int, lowercase: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's n-gram counts per column as a CSR matrix's ``(data, indices, indptr)``
    (what :class:`~spamflood.model.ngrams.HashedNgrams` returns)."""
    codes, starts, stops = _text_codes(list(texts), lowercase)
    empty = np.empty((0, 2))
    _, indptr, indices, data = _tally(
        codes, starts, stops, _SPACE, ngram_range[0], ngram_range[1], n_features, False, False, empty, 0.0, True
    )
    return data, indices, indptr


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
    remembered: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Texts scored so far and their log-odds (at most :data:`REMEMBERED_TEXTS`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", np.ascontiguousarray(np.column_stack([self.idf, self.idf * self.coef])))

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """The pipeline's log-odds of each text (``decision_function``). A text is scored once
        and remembered (:data:`REMEMBERED_TEXTS`): a flood's copies recur across the chunks of
        a feed, and a text's score does not depend on what it is scored with."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        memo = self.remembered
        distinct = dict.fromkeys(texts)
        new = [t for t in distinct if t not in memo]
        if len(memo) + len(new) > REMEMBERED_TEXTS:
            memo.clear()
            new = list(distinct)
        if new:
            memo.update(zip(new, self._decision(new).tolist()))
        return np.fromiter(map(memo.__getitem__, texts), dtype=np.float64, count=len(texts))

    def _decision(self, texts: list[str]) -> np.ndarray:
        codes, starts, stops = _text_codes(texts, self.lowercase)
        log_odds, _, _, _ = _tally(
            codes, starts, stops, _SPACE, self.min_n, self.max_n, self.n_features,
            self.sublinear, self.l2, self.weights, self.intercept, False,
        )  # fmt: skip
        return log_odds

    def ngrams(self, text: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
        """Every n-gram of ``text`` as the pipeline makes them (word by word), with
        what it adds to the log-odds: ``(lowered, words, spans, shares)``. ``lowered`` is the
        text as read (lower-cased if the pipeline does); n-gram ``k`` is
        ``lowered[spans[k, 0]:spans[k, 1]]`` padded by a space where it starts or ends its
        word (number ``words[k]`` of ``lowered.split()``); its share is its column's coefficient
        times the column's TF-IDF weight in this text, shared by the n-grams of that column (an
        n-gram that occurs twice has half each). The shares sum to :meth:`decision` minus the
        intercept."""
        lowered = text.lower() if self.lowercase else text
        codes = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        words, spans, columns = _occurrences(codes, _SPACE, self.min_n, self.max_n, self.n_features)
        distinct, inverse, counts = np.unique(columns, return_inverse=True, return_counts=True)
        tf = np.log(counts) + 1.0 if self.sublinear else counts.astype(np.float64)
        value = tf * self.idf[distinct]
        if self.l2 and (norm := float(np.sqrt(np.dot(value, value)))) > 0.0:
            value = value / norm
        return lowered, words, spans, (value * self.coef[distinct] / counts)[inverse]

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """The pipeline's probability that each text is spam (``predict_proba(texts)[:, 1]``)."""
        from scipy.special import expit

        return np.asarray(expit(self.decision(texts)), dtype=np.float64)


def _text_codes(texts: list[str], lowercase: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts (lower-cased by ``str.lower`` if asked) as one UTF-32 array, and where each
    starts and stops in it. Joined by newlines and lower-cased in one call: a newline is
    neither cased nor case-ignorable, so a final sigma reads as in its own text; a text whose
    lower-case form is longer (``İ``) has the texts lower-cased one by one instead. A lone
    surrogate is its own code point."""
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
    """The compiled form of a fitted ``HashedNgrams -> TfidfTransformer -> LogisticRegression``
    pipeline (binary), or ``None`` for any other pipeline (one fitted before the n-grams were
    hashed here, with scikit-learn's ``HashingVectorizer``, among them): the caller then keeps
    the pipeline."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    from spamflood.model.ngrams import HashedNgrams

    steps = [step for _, step in getattr(pipeline, "steps", [])]
    if len(steps) != 3:
        return None
    hasher, tfidf, logistic = steps
    if type(hasher) is not HashedNgrams or type(tfidf) is not TfidfTransformer or type(logistic) is not LogisticRegression:
        return None
    if (
        tfidf.norm not in ("l2", None)
        or list(getattr(logistic, "classes_", [])) != [0, 1]
        or logistic.coef_.shape != (1, hasher.n_features)
    ):
        return None
    min_n, max_n = hasher.ngram_range
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
