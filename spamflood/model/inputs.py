"""What a model reads: its feature columns as one matrix, and the name of the text part's column.

Kept apart from the estimator so that scoring with a compiled model
(:mod:`spamflood.model.compiled`) does not import scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spamflood.errors import ModelError

__all__ = ["TEXT_FEATURE", "feature_matrix"]

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
