"""What a model reads and how it joins its parts: its feature columns as one matrix, the name of
the text part's column, and the blend of the text part's probability with the features'.

Kept apart from the estimator so that scoring with a compiled model
(:mod:`spamflood.model.compiled`) does not import scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spamflood.errors import ModelError

__all__ = ["TEXT_FEATURE", "blend_text", "feature_matrix"]

TEXT_FEATURE = "TEXT_MODEL"
"""Name of the text model's out-of-fold probability among a text-enabled model's features."""


def feature_matrix(features: Mapping[str, Any], names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` of a name -> column mapping (or DataFrame) as a float64 matrix.

    A feature the input lacks is an error naming it: a model must never score on a silently
    different feature set.
    """
    missing = [name for name in names if name not in features]
    if missing:
        raise ModelError(
            f"The model needs feature(s) {', '.join(missing)}, which the input does not have. "
            "Score with criteria on (the model reads every criteria feature)."
        )
    columns = [np.asarray(features[name], dtype=np.float64) for name in names]
    if not columns:
        return np.zeros((0, 0), dtype=np.float64)
    return np.column_stack(columns)


_EDGE = 1e-6
"""Probabilities are clipped to ``[_EDGE, 1 - _EDGE]`` before their log-odds are taken (an
isotonic head can say exactly 0 or 1)."""


def blend_text(features: np.ndarray, text: np.ndarray, weight: float) -> np.ndarray:
    """The named features' probability and the text model's, averaged in log-odds:
    ``expit((1 - weight) * logit(features) + weight * logit(text))``.

    Increasing in both, so flood evidence stays monotone; where the two agree the result is
    their common value, where they disagree it is between them.

    >>> blend_text(np.array([0.9, 0.9]), np.array([0.9, 0.1]), 0.5).round(3).tolist()
    [0.9, 0.5]
    """
    f = np.clip(np.asarray(features, dtype=np.float64), _EDGE, 1.0 - _EDGE)
    t = np.clip(np.asarray(text, dtype=np.float64), _EDGE, 1.0 - _EDGE)
    logit = (1.0 - weight) * (np.log(f) - np.log1p(-f)) + weight * (np.log(t) - np.log1p(-t))
    return 1.0 / (1.0 + np.exp(-logit))
