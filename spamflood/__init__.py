"""spamflood: find marketing floods in social feeds, and explain every score.

Every public name is imported when first used (``from spamflood import Detector``, or
``spamflood.Detector``): ``import spamflood`` alone, and so ``spamflood --version`` or a
submodule such as :mod:`spamflood.errors`, does not load numpy, numba and scikit-learn.

(``spamflood.normalize`` stays the module; its ``normalize`` function is not re-exported, so the
name keeps meaning the module.)
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from spamflood._version import __version__

if TYPE_CHECKING:  # what the names are, for type checkers and readers
    from spamflood.accounts import AccountResult, AccountScorer, AccountTable
    from spamflood.cluster import ClusterFinder, ClusterTable
    from spamflood.criteria import FEATURES, LABELS, evaluate, explain
    from spamflood.criteria.transformer import CriteriaFeatures
    from spamflood.detector import Detector
    from spamflood.errors import ConfigError, InputError, ModelError, SpamfloodError
    from spamflood.io.fieldmap import FieldMap
    from spamflood.minhash import MinHasher, estimate_jaccard, exact_jaccard
    from spamflood.normalize import normalize_many, shingle_many, shingle_text
    from spamflood.posts import Post, PostBatch
    from spamflood.result import ScoredPost, ScoreResult
    from spamflood.stream import FloodMonitor, Verdict

_LAZY = {
    "AccountResult": "accounts",
    "AccountScorer": "accounts",
    "AccountTable": "accounts",
    "ClusterFinder": "cluster",
    "ClusterTable": "cluster",
    "ConfigError": "errors",
    "CriteriaFeatures": "criteria.transformer",
    "Detector": "detector",
    "FEATURES": "criteria",
    "FieldMap": "io.fieldmap",
    "FloodMonitor": "stream",
    "InputError": "errors",
    "LABELS": "criteria",
    "MinHasher": "minhash",
    "ModelError": "errors",
    "Post": "posts",
    "PostBatch": "posts",
    "ScoreResult": "result",
    "ScoredPost": "result",
    "SpamfloodError": "errors",
    "Verdict": "stream",
    "estimate_jaccard": "minhash",
    "evaluate": "criteria",
    "exact_jaccard": "minhash",
    "explain": "criteria",
    "normalize_many": "normalize",
    "shingle_many": "normalize",
    "shingle_text": "normalize",
}
"""Public name -> the submodule that defines it."""

__all__ = [
    "FEATURES",
    "LABELS",
    "AccountResult",
    "AccountScorer",
    "AccountTable",
    "ClusterFinder",
    "ClusterTable",
    "ConfigError",
    "CriteriaFeatures",
    "Detector",
    "FieldMap",
    "FloodMonitor",
    "InputError",
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
    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and find_spec(f"spamflood.{name}") is not None:
            return import_module(f"spamflood.{name}")  # a submodule, as eager imports made it an attribute
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"spamflood.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
