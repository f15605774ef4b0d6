"""Accounts scored on their own: from a profiles-only export or a feed of posts.

One idea per module: :mod:`.table` (one row per account), :mod:`.columns` (the ``ACCOUNT_*``
features), :mod:`.features` (them as a scikit-learn transformer), :mod:`.evidence` (labels and
reasons), :mod:`.scorer` (the estimator and its decisions), :mod:`.result` (what a run
produced), :mod:`.training` (the bundled model). The estimators load scikit-learn, so they are
imported when first named: the post detector reads an account's evidence without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from spamflood.accounts.columns import ACCOUNT_FEATURES
from spamflood.accounts.result import AccountResult
from spamflood.accounts.table import AccountTable, PostEvidence

__all__ = ["ACCOUNT_FEATURES", "AccountFeatures", "AccountResult", "AccountScorer", "AccountTable", "PostEvidence"]

_LAZY = {"AccountFeatures": "spamflood.accounts.features", "AccountScorer": "spamflood.accounts.scorer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
