"""``CriteriaFeatures``: the article's criteria as a scikit-learn transformer.

A transformer (it fits nothing from the data; ``fit`` validates the parameters and fixes the
output columns). ``transform`` takes a :class:`~spamflood.posts.PostBatch`, a pandas DataFrame
with canonical columns (``text``, and optionally ``author``, ``time`` as epoch seconds or
datetimes, ``author_name``, ``author_bio``, ``author_created``, ``followers``, ``following``,
``statuses``, ``cluster``), or a sequence of texts, and returns a float64 array with one column
per registry feature of the chosen families. A feature whose input is missing (no times, no
authors, no clusters, no account fields) is NaN, never an error. The input is not modified.

>>> est = CriteriaFeatures(families=["soft_ad"]).fit(["x"])
>>> names = list(est.get_feature_names_out())
>>> X = est.transform(["限时特价¥99，加微信抢购", "今天很开心"])
>>> X[:, names.index("SOFT_AD_SIGNALS")].tolist()
[5.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from spamflood.criteria.compute import (  # family_module, scan_*: re-exported, they were here first
    build_context,
    compute_values,
    family_module,
    resolve_parameters,
    scan_names,
    scan_texts,
)
from spamflood.criteria.context import Context
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import feature_names

__all__ = ["CriteriaFeatures", "family_module", "scan_names", "scan_texts"]


class CriteriaFeatures(TransformerMixin, BaseEstimator):
    """Named, labelled criteria features (see :mod:`spamflood.criteria.registry`).

    Parameters
    ----------
    families : sequence of str or None
        Feature families to compute (default: every family computed here, in registry order).
    tz : str
        IANA time zone for local days and minutes (festival dates, fixed posting times).
    normalized : bool
        Texts are already in :func:`spamflood.normalize.normalize` form (skip normalizing).
    min_posts : int
        Fewest posts by one author before the regularity features of auto_posting are given.
    min_accounts : int
        Fewest distinct accounts in a cluster before the batch_accounts shares are given.
    created_window : str or float
        Creation times this close (``"1d"``, ``"6h"`` or seconds) count as made together.
    """

    def __init__(
        self,
        *,
        families: Sequence[str] | None = None,
        tz: str = "UTC",
        normalized: bool = False,
        min_posts: int = 5,
        min_accounts: int = 3,
        created_window: str | float = "1d",
    ) -> None:
        self.families = families
        self.tz = tz
        self.normalized = normalized
        self.min_posts = min_posts
        self.min_accounts = min_accounts
        self.created_window = created_window

    def _validate(self) -> tuple[tuple[str, ...], dict[str, float]]:
        return resolve_parameters(
            self.families,
            tz=self.tz,
            min_posts=self.min_posts,
            min_accounts=self.min_accounts,
            created_window=self.created_window,
        )

    def fit(self, X: Any = None, y: Any = None) -> CriteriaFeatures:
        """Validate the parameters and fix the output columns; nothing is learned from ``X``."""
        families, settings = self._validate()
        self.families_ = families
        self.settings_ = settings
        self.feature_names_out_ = np.array(feature_names(families), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def context(self, X: Any, clusters: Any = None, *, scan: Scan | None = None) -> Context:
        """The :class:`Context` ``transform`` computes on (for evidence built on the same pass);
        ``scan``: the texts' lexicon scan computed earlier (see :func:`~spamflood.criteria.compute.scan_texts`)."""
        check_is_fitted(self)
        return build_context(
            X,
            clusters,
            self.families_,
            tz=str(self.tz),
            normalized=bool(self.normalized),
            settings=self.settings_,
            scan=scan,
        )

    def transform_values(
        self, X: Any, clusters: Any = None, *, scan: Scan | None = None
    ) -> tuple[Context, dict[str, np.ndarray]]:
        """The context and every feature by name (what ``transform`` stacks into columns)."""
        ctx = self.context(X, clusters, scan=scan)
        return ctx, compute_values(ctx, self.families_)

    def transform(self, X: Any, clusters: Any = None) -> np.ndarray:
        """Feature values, shape (n posts, n features), float64; NaN where an input is missing.

        ``clusters``: cluster id per post (-1 for none), overriding a ``cluster`` column.
        """
        check_is_fitted(self)
        _, values = self.transform_values(X, clusters)
        return np.column_stack([values[name] for name in self.feature_names_out_]).astype(np.float64, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Registry names of the output columns (see ``spamflood.criteria.FEATURES``)."""
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags
