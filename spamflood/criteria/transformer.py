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

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from spamflood.criteria.context import Context, columns_from, scanner_for
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import COMPUTED_HERE, feature_names
from spamflood.durations import parse_duration
from spamflood.errors import ConfigError

__all__ = ["CriteriaFeatures", "family_module", "scan_names", "scan_texts"]


def family_module(family: str) -> ModuleType:
    """The module computing ``family`` (one of :data:`~spamflood.criteria.registry.COMPUTED_HERE`)."""
    if family not in COMPUTED_HERE:
        raise ConfigError(
            f"The feature family {family!r} is not computed by spamflood.criteria; "
            f"expected one of {list(COMPUTED_HERE)} (mass_share and repetition come from the cluster stage)"
        )
    return importlib.import_module(f"spamflood.criteria.{family}")


def _sources(families: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The lexicons and patterns the families read, by name."""
    lists: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    for family in families:
        module = family_module(family)
        lists.update(module.LISTS)
        patterns.update(module.PATTERNS)
    return lists, patterns


def _scan_names(lists: dict[str, Any], patterns: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The count names a scan over these sources has: list names, and pattern names (a
    :class:`~spamflood.criteria.lexicon.Router` fills several)."""
    scanner = scanner_for(lists, patterns)
    return list(scanner.list_names), list(scanner.pattern_names)


def build_context(
    data: Any,
    clusters: Any,
    families: Sequence[str],
    *,
    tz: str = "UTC",
    normalized: bool = False,
    settings: dict[str, float] | None = None,
    scan: Scan | None = None,
) -> Context:
    """A :class:`Context` over ``data`` with one scanner for every list the families need.

    ``scan``: the batch's scan computed earlier (:func:`scan_texts`); it must count every list
    and pattern the families read.
    """
    lists, patterns = _sources(families)
    scanner = scanner_for(lists, patterns) if lists else None
    cols = columns_from(data, clusters)
    if scan is not None:
        if scan.n != len(cols):
            raise ConfigError(f"The 'scan' parameter covers {scan.n} posts; the data has {len(cols)}.")
        if scanner is not None:
            missing = [n for n in scanner.list_names if n not in scan.lists]
            missing += [n for n in scanner.pattern_names if n not in scan.patterns]
            if missing:
                raise ConfigError(
                    f"The 'scan' parameter lacks the counts of {missing}; compute it with "
                    f"scan_texts(texts, families) over these families ({list(families)})."
                )
    return Context(cols, tz=tz, normalized=normalized, settings=settings or {}, scanner=scanner, given_scan=scan)


def scan_texts(texts: Sequence[str], families: Sequence[str] | None = None, *, normalized: bool = False) -> Scan:
    """One lexicon scan of ``texts`` for every list and pattern ``families`` read (default:
    all), to hand to :func:`~spamflood.criteria.evaluate` later as ``scan=``.

    A pipeline that normalizes its texts in worker processes scans them there too, keeps
    :meth:`Scan.only` what the families evaluated later need, joins the chunks with
    :meth:`Scan.concat`, and so never normalizes or scans the batch again.
    """
    chosen = COMPUTED_HERE if families is None else tuple(families)
    lists, patterns = _sources(chosen)
    if not lists:
        raise ConfigError(f"The families {list(chosen)} read no text; there is nothing to scan.")
    if isinstance(texts, str):
        raise ConfigError("scan_texts expects a sequence of texts; got a single str")
    if not normalized:
        from spamflood.normalize import normalize_many

        texts = normalize_many(texts)
    return scanner_for(lists, patterns).scan(texts)


def scan_names(families: Sequence[str]) -> tuple[list[str], list[str]]:
    """The list and pattern names ``families`` read: what :meth:`Scan.only` keeps for them."""
    lists, patterns = _sources(tuple(families))
    if not lists:
        return [], []
    return _scan_names(lists, patterns)


def compute_values(ctx: Context, families: Sequence[str]) -> dict[str, np.ndarray]:
    """Every feature of ``families`` over the context, by name."""
    out: dict[str, np.ndarray] = {}
    for family in families:
        values = family_module(family).compute(ctx)
        for name in feature_names([family]):
            if name not in values:
                raise AssertionError(f"family {family} did not compute {name}")  # a bug, not bad input
            out[name] = np.asarray(values[name], dtype=np.float64)
    return out


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
        if self.families is None:
            families = COMPUTED_HERE
        else:
            if isinstance(self.families, str):
                raise ConfigError(
                    f"The 'families' parameter of CriteriaFeatures must be a list of family names. Got {self.families!r} instead."
                )
            families = tuple(self.families)
            if not families:
                raise ConfigError("The 'families' parameter of CriteriaFeatures must name at least one family. Got [] instead.")
            for family in families:
                family_module(family)
            families = tuple(f for f in COMPUTED_HERE if f in families)
        try:
            ZoneInfo(str(self.tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"The 'tz' parameter of CriteriaFeatures must be an IANA time zone like 'Asia/Shanghai'. Got {self.tz!r} instead."
            ) from None
        for name in ("min_posts", "min_accounts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
                raise ConfigError(f"The '{name}' parameter of CriteriaFeatures must be an int >= 2. Got {value!r} instead.")
        window = parse_duration(self.created_window, name="created_window")
        settings = {"min_posts": float(self.min_posts), "min_accounts": float(self.min_accounts), "created_window": window}
        return families, settings

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
        ``scan``: the texts' lexicon scan computed earlier (see :func:`scan_texts`)."""
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
