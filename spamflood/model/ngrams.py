"""Hashed character n-gram counts as a scikit-learn transformer: the text model's first step.

:class:`HashedNgrams` counts the character n-grams within word boundaries of each text (the
n-grams of scikit-learn's ``char_wb`` analyzer) in hashed columns, by the compiled loop that
also scores posts (:mod:`spamflood.model.text_kernel`): what a model learns from a column is
what it reads at scoring, by construction. Like scikit-learn's ``HashingVectorizer`` it keeps
no vocabulary and learns nothing in ``fit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from spamflood.model.text_kernel import count_ngrams

__all__ = ["HashedNgrams"]

_BATCH = 20_000
"""Texts counted per call of the loop (its buffers are sized by the batch's characters)."""


class HashedNgrams(TransformerMixin, BaseEstimator):
    """Counts of each text's character n-grams (padded words, sizes ``ngram_range``) in
    ``n_features`` hashed columns (a power of two).

    Parameters
    ----------
    ngram_range : (int, int)
        The smallest and largest n-gram, in characters of the space-padded word.
    n_features : int
        Columns; a power of two (a column is the low bits of the n-gram's hash).
    lowercase : bool
        Lower-case the texts (``str.lower``) first.

    Examples
    --------
    >>> counts = HashedNgrams(ngram_range=(1, 2), n_features=2**10).transform(["ab ab"])
    >>> int(counts.sum())  # " ab " twice: " ", "a", "b", " ", " a", "ab", "b " each
    14
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), n_features: int = 2**20, lowercase: bool = True) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.lowercase = lowercase

    def fit(self, X: Iterable[str], y: Any = None) -> HashedNgrams:
        """Check the parameters (nothing is learned)."""
        self._check()
        return self

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        """The n-gram counts of each text of ``X``, one row per text (float64, columns sorted)."""
        self._check()
        texts = [t if isinstance(t, str) else str(t) for t in X]
        parts = []
        for start in range(0, max(len(texts), 1), _BATCH):
            batch = texts[start : start + _BATCH]
            data, indices, indptr = count_ngrams(batch, self.ngram_range, self.n_features, self.lowercase)
            parts.append(sparse.csr_matrix((data, indices, indptr), shape=(len(batch), self.n_features)))
        return parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csr")

    def _check(self) -> None:
        low, high = self.ngram_range
        if not (isinstance(low, (int, np.integer)) and isinstance(high, (int, np.integer)) and 1 <= low <= high):
            raise ValueError(f"ngram_range must be two integers 1 <= low <= high. Got {self.ngram_range!r} instead.")
        n = self.n_features
        if not isinstance(n, (int, np.integer)) or n < 1 or n & (n - 1) or n > 2**31:
            raise ValueError(f"n_features must be a power of two up to 2**31. Got {n!r} instead.")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
