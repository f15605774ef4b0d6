"""The trained score: a calibrated model over the named criteria features, saved with a manifest.

:class:`FloodModel` learns; :func:`save_model`/:func:`load_model` keep it with its SHA-256 and
provenance; :func:`labelled_features` and :func:`cross_validate` turn a labelled export into
training data and figures; :func:`binary_report` prints what a moderation team asks.
"""

from __future__ import annotations

from spamflood.model.estimator import CONTEXT_KINDS, TEXT_FEATURE, FloodModel, feature_matrix
from spamflood.model.metrics import binary_report, threshold_for_precision
from spamflood.model.store import (
    BUNDLED_MODEL,
    LoadedModel,
    ModelVersionWarning,
    bundled_model_path,
    load_model,
    save_model,
)
from spamflood.model.training import (
    LabelledFeatures,
    cross_validate,
    label_report,
    labelled_features,
    parse_label,
    read_truth,
)

__all__ = [
    "BUNDLED_MODEL",
    "CONTEXT_KINDS",
    "TEXT_FEATURE",
    "FloodModel",
    "LabelledFeatures",
    "LoadedModel",
    "ModelVersionWarning",
    "binary_report",
    "bundled_model_path",
    "cross_validate",
    "feature_matrix",
    "label_report",
    "labelled_features",
    "load_model",
    "parse_label",
    "read_truth",
    "save_model",
    "threshold_for_precision",
]
