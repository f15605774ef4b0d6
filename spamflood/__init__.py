"""spamflood: find marketing floods in social feeds, and explain every score.

(``spamflood.normalize`` stays the module; its ``normalize`` function is not re-exported, so the
name keeps meaning the module.)
"""

from __future__ import annotations

from typing import Any

from spamflood.cluster import ClusterFinder, ClusterTable
from spamflood.criteria import FEATURES, LABELS, evaluate, explain
from spamflood.detector import Detector, ScoredPost, ScoreResult
from spamflood.errors import ConfigError, InputError, ModelError, SpamfloodError
from spamflood.io.fieldmap import FieldMap
from spamflood.minhash import MinHasher, estimate_jaccard, exact_jaccard
from spamflood.normalize import normalize_many, shingle_many, shingle_text
from spamflood.posts import Post, PostBatch
from spamflood.stream import FloodMonitor, Verdict

__version__ = "0.1.0"

__all__ = [
    "ClusterFinder",
    "ClusterTable",
    "ConfigError",
    "CriteriaFeatures",
    "Detector",
    "FEATURES",
    "FieldMap",
    "FloodMonitor",
    "InputError",
    "LABELS",
    "MinHasher",
    "ModelError",
    "Post",
    "PostBatch",
    "ScoreResult",
    "ScoredPost",
    "SpamfloodError",
    "Verdict",
    "__version__",
    "estimate_jaccard",
    "evaluate",
    "exact_jaccard",
    "explain",
    "normalize_many",
    "shingle_many",
    "shingle_text",
]


def __getattr__(name: str) -> Any:
    # CriteriaFeatures imports scikit-learn (about a second): loaded when first asked for.
    if name == "CriteriaFeatures":
        from spamflood.criteria.transformer import CriteriaFeatures

        return CriteriaFeatures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
