"""Scoring accounts on their own: a score, a flag, labels and reasons per account.

:class:`AccountScorer` is a scikit-learn classifier over the ``ACCOUNT_*`` profile features
(:mod:`spamflood.accounts.features`): ``fit(table, y)`` with 1 for a batch-made or bought
account, ``predict_proba(table)``. :meth:`AccountScorer.score_accounts` adds what a
moderator reads: labels that fired (:mod:`spamflood.accounts.evidence`), their reasons and
the flag. The model scores; it never adds or hides a label. An unfitted scorer scores by the
rule score instead (each fired label ``CRITERIA_STRENGTH``, combined by noisy-or), as
``Detector()`` does for posts. With a feed of posts, an account's score is the noisy-or of its
profile's score and the mean score of its posts.

No flag without evidence: a flagged account that lists no label gets one reason, ``score:
raised by ...``, naming what raised its score most, as posts do. Each group of profile
features (:data:`~spamflood.accounts.evidence.FEATURE_GROUPS`) is weighed by the score minus
the score with the group at a typical ordinary account's values (``reference_``, the medians
of the negative class stored at fit time; :mod:`spamflood.model.contributions`), and the posts
of a feed by the share of the score their mean brings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

from spamflood.accounts.evidence import ACCOUNT_LABEL, FEATURE_GROUPS, POSTS_GROUP, batch_accounts, post_labels, score_reasons
from spamflood.accounts.features import BURST_WINDOW, PROFILE_FEATURES, AccountFeatures
from spamflood.accounts.result import AccountResult
from spamflood.accounts.table import AccountTable
from spamflood.criteria.rules import PARAMETERS
from spamflood.errors import ConfigError
from spamflood.model.contributions import group_contributions, reference_row

__all__ = ["BUNDLED_ACCOUNT_MODEL", "AccountScorer"]

BUNDLED_ACCOUNT_MODEL = "spamflood-accounts"
"""File stem of the account model shipped in ``models/`` (fitted on synthetic profiles)."""

MONOTONE: dict[str, int] = {
    "ACCOUNT_CREATED_BURST": 1,
    "ACCOUNT_NAME_TEMPLATE": 1,
    "ACCOUNT_HANDLE_TEMPLATE": 1,
    "ACCOUNT_DEFAULT_NAME": 1,
    "ACCOUNT_EMPTY_PROFILE": 1,
    "ACCOUNT_BOUGHT_FOLLOW": 1,
}
"""Batch evidence the score never falls with: with the rest of a profile unchanged, more
accounts created in the same minutes or sharing its name's stem never lower its score."""


class AccountScorer(ClassifierMixin, BaseEstimator):
    """Scores accounts; see the module docstring. Estimator: ``__init__`` only stores.

    ``threshold``: score at which an account is flagged; ``min_accounts``: accounts one
    registration burst needs to count (``batch_accounts``); ``burst_window``: seconds within
    which creation times count as one burst; ``max_iter``, ``random_state``: the booster's.

    >>> from spamflood.synth.profiles import synthetic_profiles
    >>> table, y = synthetic_profiles(3, people=300, batches=6)
    >>> scorer = AccountScorer(max_iter=20).fit(table, y)
    >>> result = scorer.score_accounts(table)
    >>> bool(result.flagged[y == 1].mean() > 0.9), bool(result.flagged[y == 0].mean() < 0.1)
    (True, True)
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_accounts: int = PARAMETERS["min_accounts"],
        burst_window: float = BURST_WINDOW,
        max_iter: int = 200,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        self.min_accounts = min_accounts
        self.burst_window = burst_window
        self.max_iter = max_iter
        self.random_state = random_state

    # ------------------------------------------------------------------ estimator

    def _check_params(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"The 'threshold' parameter of AccountScorer must be in [0, 1]. Got {self.threshold!r} instead.")
        if int(self.min_accounts) < 2:
            raise ConfigError(
                f"The 'min_accounts' parameter of AccountScorer must be at least 2. Got {self.min_accounts!r} instead."
            )

    def features(self, table: AccountTable) -> dict[str, np.ndarray]:
        """Every ``ACCOUNT_*`` feature of ``table`` as a named column, and from a feed the
        cadence features its posts carried (``AUTO_POSTING_*``, ``CHICKEN_SOUP_*``)."""
        columns = AccountFeatures(burst_window=self.burst_window).fit(table).columns(table)
        return columns | (table.cadence or {})

    def fit(self, X: AccountTable, y: Any) -> AccountScorer:
        """Fit the booster on the profile features of ``X``; ``y``: 1 for a batch-made account."""
        self._check_params()
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(f"y must hold one label per account: {len(X)} accounts, got shape {y.shape}.")
        self.classes_ = np.unique(y)
        if self.classes_.shape[0] != 2:
            raise ValueError(f"y must hold both classes (0 and 1). Got {self.classes_.tolist()} instead.")
        columns = self.features(X)
        # a feature the training data lacks entirely (no statuses in the export) is not read
        names = [name for name in PROFILE_FEATURES if not np.isnan(columns[name]).all()]
        matrix = self._matrix(columns, names)
        self.model_ = self.booster(names).fit(matrix, y)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.model_names_ = names
        # an ordinary account: what the reason of a flag without a label is weighed against
        self.reference_ = reference_row(matrix, (y != self.classes_[0]).astype(np.int64))
        return self

    def booster(self, names: Sequence[str] = PROFILE_FEATURES) -> HistGradientBoostingClassifier:
        """The unfitted booster :meth:`fit` fits on the features ``names`` (for
        cross-validating it on a fixed matrix)."""
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            random_state=self.random_state,
            monotonic_cst=[MONOTONE.get(name, 0) for name in names],
        )

    def predict_proba(self, X: AccountTable) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._matrix(self.features(X), self.model_names_))

    def predict(self, X: AccountTable) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.threshold).astype(np.int64)

    def profile_matrix(self, table: AccountTable) -> np.ndarray:
        """The booster's input for ``table``: the profile features (``PROFILE_FEATURES``), n x k."""
        return self._matrix(self.features(table))

    @staticmethod
    def _matrix(columns: Mapping[str, np.ndarray], names: Sequence[str] = PROFILE_FEATURES) -> np.ndarray:
        if not columns or not len(next(iter(columns.values()))):
            return np.zeros((0, len(names)))
        return np.column_stack([columns[name] for name in names])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # it reads an AccountTable, not a matrix
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ decisions

    def score_accounts(self, table: AccountTable) -> AccountResult:
        """Score, flag, labels and reasons of every account of ``table``."""
        from spamflood.scoring import CRITERIA_STRENGTH

        self._check_params()
        columns = self.features(table)
        fired, reason = batch_accounts(table, columns, min_accounts=int(self.min_accounts), burst_window=self.burst_window)
        labels, reasons = post_labels(table)
        for i in np.flatnonzero(fired).tolist():  # the account's own evidence first, once
            sentence = str(reason[i])
            if ACCOUNT_LABEL in labels[i]:  # its posts' clusters showed it too: one label, both facts
                at = labels[i].index(ACCOUNT_LABEL)
                sentence += "; and " + reasons[i][at].removeprefix(ACCOUNT_LABEL + " ")
                del labels[i][at], reasons[i][at]
            labels[i].insert(0, ACCOUNT_LABEL)
            reasons[i].insert(0, sentence)
        if hasattr(self, "model_"):
            profile = self.model_.predict_proba(self._matrix(columns, self.model_names_))[:, 1] if len(table) else np.zeros(0)
        else:
            counts = np.array([len(x) for x in labels], dtype=np.float64)
            profile = 1.0 - (1.0 - CRITERIA_STRENGTH) ** counts
        posts = np.zeros(len(table))
        if table.evidence is not None:
            posts = np.nan_to_num(np.array([e.mean_score for e in table.evidence], dtype=np.float64))
        score = np.asarray(1.0 - (1.0 - profile) * (1.0 - posts), dtype=np.float64)
        flagged = score >= self.threshold
        silent = [i for i in np.flatnonzero(flagged).tolist() if not labels[i]]
        if silent:
            raised = self._raised_by(table, columns, np.asarray(silent), profile, posts)
            for i, sentence in zip(silent, score_reasons(table, columns, silent, raised, burst_window=self.burst_window)):
                reasons[i] = [sentence]
        return AccountResult(table=table, score=score, flagged=flagged, labels=labels, reasons=reasons, features=columns)

    def _raised_by(
        self, table: AccountTable, columns: Mapping[str, np.ndarray], rows: np.ndarray, profile: np.ndarray, posts: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per group of features (and the posts, from a feed), how much it raised the score of
        the accounts ``rows``. The score is ``1 - (1 - profile) * (1 - posts)``: a profile
        group's share is its contribution to the profile's score times ``1 - posts``; the
        posts' share is ``posts * (1 - profile)``, against posts scoring 0."""
        raised: dict[str, np.ndarray] = {}
        if hasattr(self, "model_"):
            index = {name: j for j, name in enumerate(self.model_names_)}
            groups = {group: [index[name] for name in names if name in index] for group, names in FEATURE_GROUPS.items()}
            drops = group_contributions(
                lambda matrix: self.model_.predict_proba(matrix)[:, 1],
                self._matrix({name: columns[name][rows] for name in self.model_names_}, self.model_names_),
                self.reference_,
                groups,
            )
            raised = {group: drop * (1.0 - posts[rows]) for group, drop in drops.items()}
        else:  # the rule score reads no feature: the account's groups all weigh nothing
            raised = {group: np.zeros(rows.size) for group in FEATURE_GROUPS}
        if table.evidence is not None:
            raised[POSTS_GROUP] = posts[rows] * (1.0 - profile[rows])
        return raised

    def score(
        self,
        source: Any,
        *,
        kind: str = "auto",
        field_map: Any = None,
        fmt: str | None = None,
        tz: str = "UTC",
        strict: bool = False,
        detector: Any = None,
    ) -> AccountResult:
        """Read ``source`` and score its accounts.

        ``kind``: ``"profiles"`` (one row per account, no text; see
        :func:`spamflood.io.profiles.read_profiles`), ``"posts"`` (a feed, scored by
        ``detector``, by default ``Detector.load()``, and aggregated per author), or
        ``"auto"``: posts when the field map's ``text`` field is in the first row.
        """
        from spamflood.io.fieldmap import FieldMap

        if kind not in ("auto", "posts", "profiles"):
            raise ConfigError(f"The 'kind' parameter must be 'auto', 'posts' or 'profiles'. Got {kind!r} instead.")
        fm = field_map or FieldMap()
        if not isinstance(source, (str, Path)) and not hasattr(source, "columns"):
            source = list(source)  # records: read twice when the kind is sniffed
        if kind == "auto":
            kind = _sniff_kind(source, fm, fmt)
        if kind == "profiles":
            from spamflood.io.profiles import read_profiles

            read = read_profiles(source, field_map=fm, fmt=fmt, tz=tz, strict=strict)
            result = self.score_accounts(read.table)
            result.rejects, result.rows_read, result.read = read.rejects, read.rows_read, read.read
            return result
        if detector is None:
            from spamflood.detector import Detector

            detector = Detector.load()
        posts = detector.score(source, field_map=fm, fmt=fmt, tz=tz, strict=strict)
        result = self.score_accounts(AccountTable.from_posts(posts.batch, posts))
        result.rejects, result.rows_read, result.read = posts.rejects, posts.rows_read, posts.read
        return result

    # ------------------------------------------------------------------ files

    @classmethod
    def load(cls, path: str | Path | None = None, *, trusted: bool = False, **params: Any) -> AccountScorer:
        """The bundled account model (``path=None``), or a model file saved by :meth:`save`
        (``trusted=True``: loading a joblib file can run code); ``params`` override its own."""
        from spamflood.errors import ModelError
        from spamflood.model.store import load_model

        loaded = load_model(path, trusted=trusted, bundled_name=BUNDLED_ACCOUNT_MODEL)
        if not isinstance(loaded.model, AccountScorer):
            raise ModelError(f"{loaded.path} is not an account model (it holds a {type(loaded.model).__name__}).")
        if hasattr(loaded.model, "model_") and not hasattr(loaded.model, "reference_"):
            raise ModelError(
                f"{loaded.path} has no reference row to explain its flags with (saved by an older spamflood): fit and save it again."
            )
        return loaded.model.set_params(**params) if params else loaded.model

    def save(self, path: str | Path, *, training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None) -> Path:
        """Write the fitted scorer and its manifest; return the manifest's path."""
        from spamflood.model.store import save_model

        check_is_fitted(self, "model_")
        return save_model(self, path, settings={"burst_window": self.burst_window}, training=training, metrics=metrics)


def _sniff_kind(source: Any, fm: Any, fmt: str | None) -> str:
    """``"posts"`` when the first row holds the field map's text field, else ``"profiles"``."""
    from spamflood.errors import InputError
    from spamflood.io.fieldmap import MISSING
    from spamflood.io.readers import iter_chunks
    from spamflood.io.rows import RowParser

    if isinstance(source, (str, Path)) and str(source) == "-":
        raise ConfigError("an input on standard input needs --kind posts or --kind profiles (it cannot be read twice)")
    for chunk in iter_chunks(source, fmt=fmt, chunk_rows=1):
        line, payload = chunk[0]
        try:
            record = RowParser._decode(line, payload)
        except InputError:
            continue
        return "posts" if fm.lookup(record, "text") is not MISSING else "profiles"
    return "profiles"
