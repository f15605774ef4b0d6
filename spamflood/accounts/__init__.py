"""Accounts scored on their own: from a profiles-only export or a feed of posts.

One idea per module: :mod:`.table` (one row per account), :mod:`.features` (the ``ACCOUNT_*``
features), :mod:`.evidence` (labels and reasons), :mod:`.scorer` (the estimator and its
decisions), :mod:`.result` (what a run produced), :mod:`.training` (the bundled model).
"""

from spamflood.accounts.features import ACCOUNT_FEATURES, AccountFeatures
from spamflood.accounts.result import AccountResult
from spamflood.accounts.scorer import AccountScorer
from spamflood.accounts.table import AccountTable, PostEvidence

__all__ = ["ACCOUNT_FEATURES", "AccountFeatures", "AccountResult", "AccountScorer", "AccountTable", "PostEvidence"]
