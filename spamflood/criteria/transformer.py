"""``CriteriaFeatures``: the article's criteria as a scikit-learn transformer.

A transformer (it fits nothing from the data; ``fit`` checks the parameters and fixes the
output columns). ``transform`` takes what :class:`~spamflood.Detector` takes, read by the same
row parsing (:class:`~spamflood.io.rows.RowParser`): a list of dicts or a pandas DataFrame with
the canonical fields (``text``; optionally ``id``, ``author``, ``time`` as ISO 8601 text, epoch
seconds or milliseconds, or datetimes, ``author_name``, ``author_bio``, ``author_created``,
``followers``, ``following``, ``statuses``, and ``cluster``), a
:class:`~spamflood.posts.PostBatch`, or texts alone. It returns a float64 array with one column
per registry feature of the chosen families, one row per input row; a row the parsing rejects
(no text, an unreadable time) raises :class:`~spamflood.errors.InputError` naming its row and
field. The input is not modified.

Missing values are NaN, on purpose: a feature whose inputs are absent (texts alone have no
authors or times; an export may lack account fields or clusters) is *unknown*, not zero, and a
model should be able to tell the two apart. Feed the output to an estimator that takes NaN
(:class:`~sklearn.ensemble.HistGradientBoostingClassifier`) or put an imputer before one that
does not (``SimpleImputer(keep_empty_features=True)`` keeps a column that is NaN throughout).

>>> est = CriteriaFeatures(families=["soft_ad"]).fit(["x"])
>>> names = list(est.get_feature_names_out())
>>> X = est.transform(["限时特价¥99，加微信抢购", "今天很开心"])
>>> X[:, names.index("SOFT_AD_SIGNALS")].tolist()
[5.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from spamflood._params import validate_estimator
from spamflood.criteria.compute import (  # family_module, scan_*: re-exported, they were here first
    build_context,
    compute_values,
    family_module,
    resolve_parameters,
    scan_names,
    scan_texts,
)
from spamflood.criteria.context import Columns, Context, columns_from
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import feature_names
from spamflood.errors import InputError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.readers import iter_chunks
from spamflood.io.rows import RawRow, RowParser
from spamflood.posts import Post, PostBatch

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

    The parameters are checked in :meth:`fit` (scikit-learn's ``_parameter_constraints``, then
    the family names, the time zone and the duration); a bad one raises
    :class:`~spamflood.errors.ConfigError` naming it.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "families": [None, "array-like"],
        "tz": [str],
        "normalized": ["boolean"],
        "min_posts": [Interval(Integral, 2, None, closed="left")],
        "min_accounts": [Interval(Integral, 2, None, closed="left")],
        "created_window": [str, Interval(Real, 0, None, closed="neither")],
    }

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
        """Check the parameters and fix the output columns; nothing is learned from ``X``."""
        validate_estimator(self)
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
        if not isinstance(X, Sequence | np.ndarray | PostBatch) and not _is_frame(X):
            X = list(X)  # an iterable of texts or records, read once
        if _is_records(X):
            X = _read_rows(X, clusters, str(self.tz))
            clusters = None
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
        """Feature values, shape (n rows, n features), float64; NaN where an input is missing.

        ``X``: records, a DataFrame, a PostBatch or texts (see the module's docstring); times
        without an offset are read in ``tz``. ``clusters``: cluster id per post (-1 for none),
        overriding a ``cluster`` field.
        """
        check_is_fitted(self)
        _, values = self.transform_values(X, clusters)
        return np.column_stack([values[name] for name in self.feature_names_out_]).astype(np.float64, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Registry names of the output columns (see ``spamflood.criteria.FEATURES``)."""
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags


def _is_records(X: Any) -> bool:
    """Whether ``X`` holds rows with fields (a DataFrame, dicts, Posts), not texts alone."""
    if _is_frame(X):
        return True
    return isinstance(X, Sequence) and not isinstance(X, str) and len(X) > 0 and isinstance(X[0], Mapping | Post)


def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc")


def _read_rows(X: Any, clusters: Any, tz: str) -> Columns:
    """Records or a DataFrame as columns, validated by the same parsing as the detector's.

    Only ``text`` is needed: a row without ``id`` is named by its number, a field absent from
    every row is absent (its features NaN), a post without an author is its own account.
    """
    rows: list[RawRow] = [row for chunk in iter_chunks(X, chunk_rows=1 << 16) for row in chunk]
    records = [payload for _, payload in rows if isinstance(payload, Mapping)]

    def present(name: str) -> bool:
        return any(_given(record.get(name)) for record in records)

    if not all(_given(record.get("id")) for record in records):
        rows = [(line, p if not isinstance(p, Mapping) or _given(p.get("id")) else {**p, "id": f"#{line}"}) for line, p in rows]
    keep = ("cluster",) if present("cluster") else ()
    parser = RowParser(FieldMap(required=("id", "text"), keep=keep), tz=tz)
    batch, rejects = parser.parse_batch(rows)
    if rejects:
        first = rejects[0]
        others = len(rejects) - 1
        more = f" (and {others} more row{'s' * (others > 1)} that cannot be read)" if others else ""
        raise InputError(first.reason + more, line=first.line, field=first.field)
    cols = columns_from(batch, clusters)
    if not present("author"):
        cols.authors = None  # each post would be its own account: unknown, not a crowd of one-post accounts
    return cols


def _given(value: Any) -> bool:
    """Not missing, as the row parsing reads it (None or an empty str is missing)."""
    return not (value is None or (value.__class__ is str and not value))
