"""What raised a score: each group of features against a reference row of typical values.

A flagged row that no rule labelled still owes the moderator a reason. Its reason names the
groups of features that raised its score most: per row and group, the score minus the score
with that group's columns set to a typical negative row's values (:func:`reference_row`,
stored at fit time). Posts (:meth:`spamflood.model.FloodModel.contributions`, a family per
group) and accounts (:class:`spamflood.accounts.AccountScorer`) both explain this way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["group_contributions", "reference_row"]


def reference_row(matrix: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per column, the median over the negative rows (``y == 0``), missing values left out:
    what a row with nothing remarkable shows. NaN where a column has no value on them.

    >>> reference_row(np.array([[1.0, np.nan], [3.0, 2.0], [9.0, 9.0]]), np.array([0, 0, 1])).tolist()
    [2.0, 2.0]
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column's median is NaN
        return np.nanmedian(matrix[np.asarray(y) == 0], axis=0)


def group_contributions(
    predict: Callable[[np.ndarray], np.ndarray],
    matrix: np.ndarray,
    reference: np.ndarray,
    groups: Mapping[str, Sequence[int]],
) -> dict[str, np.ndarray]:
    """Per row of ``matrix`` and group of column indices: ``predict(matrix)`` minus
    ``predict`` of the same rows with the group's columns at ``reference``. Positive: the
    group pushed the score up. A group without columns is left out. One call of ``predict``
    for all groups (each row is predicted on its own, so the numbers are those of one call
    per group).

    >>> group_contributions(lambda m: m.sum(axis=1), np.array([[3.0, 1.0]]), np.zeros(2), {"a": [0], "b": [1]})
    {'a': array([3.]), 'b': array([1.])}
    """
    named = {group: list(columns) for group, columns in groups.items() if len(columns)}
    n = matrix.shape[0]
    if not n:
        return {group: np.zeros(0, dtype=np.float64) for group in named}
    changed = np.tile(matrix, (len(named) + 1, 1))
    for k, columns in enumerate(named.values(), start=1):
        changed[k * n : (k + 1) * n, columns] = reference[columns]
    scores = np.asarray(predict(changed), dtype=np.float64)
    base = scores[:n]
    return {group: base - scores[k * n : (k + 1) * n] for k, group in enumerate(named, start=1)}
