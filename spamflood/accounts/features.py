"""The account features as a scikit-learn transformer (:mod:`.columns` computes them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from spamflood.accounts.columns import (
    ACCOUNT_FEATURES,
    BURST_WINDOW,
    PROFILE_FEATURES,
    account_columns,
    created_burst,
    template_counts,
)
from spamflood.accounts.table import AccountTable
from spamflood.errors import ConfigError

__all__ = ["ACCOUNT_FEATURES", "BURST_WINDOW", "PROFILE_FEATURES", "AccountFeatures", "created_burst", "template_counts"]


class AccountFeatures(TransformerMixin, BaseEstimator):
    """Scikit-learn transformer: :class:`AccountTable` -> the ``ACCOUNT_*`` features (n x k).

    Stateless (``fit`` learns nothing): the bursts and templates are counted among the accounts
    of the table transformed, the way a moderation team scores one export. ``burst_window``:
    seconds within which two creation times count as one registration burst.

    >>> t = AccountTable.from_profiles(["shop01", "shop02", "alice"], author_created=[0, 40, 9e8])
    >>> AccountFeatures().fit(t).transform(t)[:, 0].tolist()
    [1.0, 1.0, 0.0]
    """

    def __init__(self, *, burst_window: float = BURST_WINDOW) -> None:
        self.burst_window = burst_window

    def fit(self, X: AccountTable, y: Any = None) -> AccountFeatures:
        if not self.burst_window > 0:
            raise ConfigError(f"The 'burst_window' parameter of AccountFeatures must be > 0. Got {self.burst_window!r} instead.")
        self.n_features_out_ = len(ACCOUNT_FEATURES)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(list(ACCOUNT_FEATURES), dtype=object)

    def transform(self, X: AccountTable) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.column_stack(list(self.columns(X).values())) if len(X) else np.zeros((0, len(ACCOUNT_FEATURES)))

    def columns(self, t: AccountTable) -> dict[str, np.ndarray]:
        """Every feature as a named column, in :data:`ACCOUNT_FEATURES` order."""
        return account_columns(t, self.burst_window)
