"""The trained score: a calibrated model over the named criteria features, saved with a manifest.

:class:`FloodModel` learns; :func:`save_model`/:func:`load_model` keep it with its SHA-256 and
provenance; :func:`labelled_features` and :func:`cross_validate` turn a labelled export into
training data and figures; :func:`binary_report` prints what a moderation team asks.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from spamflood.model.store import (
    BUNDLED_MODEL,
    DeferredModel,
    LoadedModel,
    ModelVersionWarning,
    bundled_model_path,
    load_model,
    save_model,
)

# The rest needs scikit-learn (about a second to import): each name loads its module when first
# asked for, so that loading a model file does not wait for it (see DeferredModel).
_LAZY = {
    "CONTEXT_KINDS": "estimator",
    "TEXT_FEATURE": "estimator",
    "FloodModel": "estimator",
    "HashedNgrams": "ngrams",
    "blend_text": "estimator",
    "feature_matrix": "estimator",
    "binary_report": "metrics",
    "reliability": "metrics",
    "threshold_for_precision": "metrics",
    "LabelledFeatures": "training",
    "cross_validate": "training",
    "label_report": "training",
    "labelled_features": "training",
    "parse_label": "training",
    "read_truth": "training",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"spamflood.model.{module}"), name)


__all__ = [
    "BUNDLED_MODEL",
    "CONTEXT_KINDS",
    "TEXT_FEATURE",
    "DeferredModel",
    "FloodModel",
    "HashedNgrams",
    "LabelledFeatures",
    "LoadedModel",
    "ModelVersionWarning",
    "binary_report",
    "blend_text",
    "bundled_model_path",
    "cross_validate",
    "feature_matrix",
    "label_report",
    "labelled_features",
    "load_model",
    "parse_label",
    "read_truth",
    "reliability",
    "save_model",
    "threshold_for_precision",
]
