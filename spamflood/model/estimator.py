"""The trained score: calibrated gradient boosting over the named criteria features.

:class:`FloodModel` follows scikit-learn's conventions (parameters in ``__init__``, learned
state ending in ``_``, ``fit``/``predict_proba``, ``clone`` and pickling work). It learns

* one **overall head**: the probability that a post is marketing spam (the post's ``score``);
* optionally one **head per label** (``mass_share``, ``soft_ad``, ...) when the training data say
  which behaviours each post shows; these are the per-label sub-scores that decide the labels.

Each head is a :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (missing values are
native, so an export without account fields still scores) wrapped in
:class:`~sklearn.calibration.CalibratedClassifierCV` (one booster fitted on all data, the
calibration map fitted on out-of-fold scores), so a score of 0.8 means about 80 % of such posts
are spam in data like the training data.

``text=True`` adds a hashed character n-gram model of the post's matching form (the normalized
text the lexicons read, so evasion folds; :mod:`spamflood.model.text`); its probability is the
``TEXT_MODEL`` column and :meth:`FloodModel.text_evidence` names the n-grams that raised it. How
it joins the named features is ``text_join``:

* ``"blend"`` (default): the heads read the named features only, and the overall score is
  their calibrated probability and the text model's averaged in log-odds with weight
  ``text_weight`` (:func:`blend_text`). Each part keeps what it learned on its own, so a text
  model near perfect within its training corpora cannot take over: leaving a real corpus out,
  the blend ranks YouTube comments 0.956 against 0.878 stacked (the named features alone 0.942).
  The weight 0.6 is the smallest at which, leaving each real corpus out in turn, the other five
  all rank at least as well as the plain TF-IDF baseline and flag under 1 % of their ham
  (chosen without the corpus left out, the same for each: README, "Real corpora").
* ``"stack"``: its out-of-fold probability is one more feature of the boosters (as models
  fitted before ``text_join`` existed, which load as ``"stack"``).

The bundled model has the text part, blended at weight 0.6 (``models/README.md``).

``context_dropout`` teaches the model to score posts whose context is unknown: that share of the
training rows is added a second time with the account, cadence and calendar features missing
(what a bare export of messages without accounts or times looks like); a copy is calibrated in
the fold of the post it copies.

Flood evidence is monotone. A feature the registry marks ``monotone = 1`` (a count of accounts
or copies sharing one text or template) is a ``monotonic_cst`` of every booster, and both
calibrations keep the booster's order (isotonic is non-decreasing; a Platt map whose slope
would reverse it is refitted with slope 0, see :func:`_keep_order`): with the other features
fixed, more of it never lowers a score or a sub-score. A missing value is not "less": a
feature going from missing to known may move the score either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import PredefinedSplit, StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from spamflood._params import validate_estimator
from spamflood.criteria.registry import FEATURES
from spamflood.errors import ConfigError, ModelError
from spamflood.model.contributions import group_contributions, reference_row
from spamflood.model.inputs import TEXT_FEATURE, blend_text, feature_matrix
from spamflood.model.text import matching_forms, text_pipeline, weighty_ngrams
from spamflood.model.text_kernel import compile_text

__all__ = ["CONTEXT_KINDS", "TEXT_FEATURE", "FloodModel", "blend_text", "feature_matrix"]

CONTEXT_KINDS: tuple[str, ...] = ("account", "cadence", "calendar")
"""Feature kinds that need account fields or times, dropped by ``context_dropout``."""


class FloodModel(ClassifierMixin, BaseEstimator):
    """Calibrated probability that a post is marketing spam, and per-label sub-scores.

    Parameters
    ----------
    features : the feature names to read (default: every registered criteria feature the
        registry does not keep out of the model, ``model_input = false``).
    text : add the hashed character n-gram text model (``X`` then needs a ``text`` column).
    text_join : ``"blend"``: the overall score averages the features' calibrated probability
        and the text model's in log-odds (:func:`blend_text`); ``"stack"``: the text model's
        out-of-fold probability is a feature of the heads (see the module docstring).
    text_weight : the text model's weight in the blend (0-1; 0.6, see the module docstring).
    max_iter, learning_rate, max_leaf_nodes, l2_regularization : the boosters' settings.
    calibration : ``"isotonic"`` or ``"sigmoid"`` (Platt); ``"auto"`` picks, per head, isotonic
        when it has at least 1,000 positives and negatives, sigmoid otherwise (isotonic overfits
        small data).
    cv : folds for calibration and for the text model's out-of-fold feature (grouped when
        :meth:`fit` is given ``groups``).
    context_dropout : share of training rows added again with context features missing.
    min_positives : a label head is learned only with at least this many positive posts.
    random_state : seed of every random choice (folds, dropout rows, boosters).

    The parameters are checked at the start of :meth:`fit` against ``_parameter_constraints``
    (scikit-learn's validation); a bad one raises :class:`~spamflood.errors.ConfigError` naming it.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "features": [None, "array-like"],
        "text": ["boolean"],
        "text_join": [StrOptions({"blend", "stack"})],
        "text_weight": [Interval(Real, 0, 1, closed="both")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "calibration": [StrOptions({"auto", "isotonic", "sigmoid"})],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "context_dropout": [Interval(Real, 0, 1, closed="both")],
        "min_positives": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both")],
    }

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        text: bool = False,
        text_join: str = "blend",
        text_weight: float = 0.6,
        max_iter: int = 100,
        learning_rate: float = 0.15,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 1.0,
        calibration: str = "auto",
        cv: int = 3,
        context_dropout: float = 0.0,
        min_positives: int = 30,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.text = text
        self.text_join = text_join
        self.text_weight = text_weight
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.cv = cv
        self.context_dropout = context_dropout
        self.min_positives = min_positives
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def fit(
        self, X: Any, y: Any, *, labels: Mapping[str, Any] | None = None, groups: Any = None, sample_weight: Any = None
    ) -> FloodModel:
        """Learn from ``X`` (a DataFrame or name -> column mapping of features, plus ``text``
        when ``text=True``) and ``y`` (1/True = spam). ``labels``: optional per-label 0/1
        columns (which behaviours each post shows) for the label heads.

        ``groups``: optional group of each post (its copy group: identical texts, one
        template). Every fold then keeps a group on one side: the calibration folds, and for a
        stacked model (``text_join="stack"``) the text model's out-of-fold probabilities, which
        then come from a text model that never saw a copy of the post, so the heads learn how
        far ``TEXT_MODEL`` holds on new text, not on copies of the training text. (Whole corpora as groups ranked a corpus
        left out worse: ``models/README.md``.) Without it the folds are stratified by ``y``
        alone, as before ``groups`` existed."""
        validate_estimator(self)
        names = list(self.features) if self.features is not None else [f.name for f in FEATURES.values() if f.model_input]
        matrix = feature_matrix(X, names)
        target = _binary(y, "y")
        if target.shape[0] != matrix.shape[0]:
            raise ConfigError(f"X has {matrix.shape[0]} rows but y has {target.shape[0]}.")
        if len(np.unique(target)) < 2:
            raise ModelError("Training needs both spam and non-spam posts; the labels hold only one class.")
        group = self._groups(groups, target.shape[0])
        weight = self._weights(sample_weight, target.shape[0])
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.classes_ = np.array([0, 1])
        text_column = None
        if self.text:
            self.text_form_ = "normalized"
            texts = self._texts(X)
            self.text_model_ = text_pipeline(self.random_state)
            fit_params = {} if weight is None else {"logistic__sample_weight": weight}
            if self.text_join == "stack":
                out_of_fold = cross_val_predict(
                    text_pipeline(self.random_state), texts, target, cv=self._split(target, group), method="predict_proba", params=fit_params
                )[:, 1]
                matrix = np.column_stack([matrix, out_of_fold])
            self.text_model_.fit(texts, target, **fit_params)
            if self.text_join == "blend":  # the heads read the features alone; the text column is the model's own
                text_column = self.text_model_.predict_proba(texts)[:, 1]
        self.model_names_ = names + ([TEXT_FEATURE] if self.text else [])
        heads = {"spam": target}
        for label, column in (labels or {}).items():
            values = _binary(column, f"labels[{label!r}]")
            if values.shape[0] != target.shape[0]:
                raise ConfigError(f"labels[{label!r}] has {values.shape[0]} rows but y has {target.shape[0]}.")
            if values.sum() >= self.min_positives and (values == 0).sum() >= self.min_positives:
                heads[label] = values
        train_x, train_heads, origin = self._augment(matrix, heads)
        train_weight = None if weight is None else weight[origin]
        folds = {name: self._folds(values, origin, group) for name, values in heads.items()}
        self.empty_features_ = self._empty(train_x, folds)
        matrix[:, self.empty_features_] = 0.0
        train_x[:, self.empty_features_] = 0.0
        self.calibration_ = {name: self._calibration_method(values) for name, values in train_heads.items()}
        self.heads_ = {
            name: self._fit_head(train_x, values, self.calibration_[name], folds[name], train_weight)
            for name, values in train_heads.items()
        }
        self.label_names_ = [name for name in self.heads_ if name != "spam"]
        # What a post with nothing remarkable looks like: per feature, the median over
        # non-spam posts. Contributions replace a family's features with these values.
        self.reference_ = reference_row(matrix if text_column is None else np.column_stack([matrix, text_column]), target)
        return self

    def _texts(self, X: Any) -> list[str]:
        """What the text model reads: the matching form of ``X``'s ``text`` column (a model
        fitted before the text model read it, ``text_form_`` absent, reads the raw text)."""
        raw = _texts(X)
        return matching_forms(raw) if getattr(self, "text_form_", "raw") == "normalized" else raw

    def text_evidence(self, texts: Sequence[str], top: int = 3) -> list[list[str]]:
        """Per post (``texts`` as written), up to ``top`` quotes of the n-grams that raised its
        text score most, heaviest first (:func:`~spamflood.model.text.weighty_ngrams`)."""
        check_is_fitted(self, "heads_")
        if not self.text:
            raise ModelError("This model has no text part (text=False): it has no n-grams to name.")
        compiled = compile_text(self.text_model_)
        if compiled is None:  # the pipeline is always text_pipeline()'s: only an edited model gets here
            raise ModelError("This model's text pipeline has settings its n-grams cannot be read back for.")
        originals = ["" if t is None else str(t) for t in texts]
        return weighty_ngrams(compiled, self._texts({"text": originals}), originals, top)

    def _augment(
        self, matrix: np.ndarray, heads: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """The training rows, the context-dropout copies appended, and the post each row is."""
        origin = np.arange(matrix.shape[0])
        if not self.context_dropout:
            return matrix, heads, origin
        rng = np.random.default_rng(self.random_state)
        rows = np.flatnonzero(rng.random(matrix.shape[0]) < self.context_dropout)
        context = [j for j, name in enumerate(self.model_names_) if name in FEATURES and FEATURES[name].kind in CONTEXT_KINDS]
        extra = matrix[rows].copy()
        extra[:, context] = np.nan
        augmented = {k: np.concatenate([v, v[rows]]) for k, v in heads.items()}
        return np.vstack([matrix, extra]), augmented, np.concatenate([origin, rows])

    def _groups(self, groups: Any, rows: int) -> np.ndarray | None:
        """``fit``'s ``groups`` as one label per row (``None`` stays ``None``), checked."""
        if groups is None:
            return None
        group = np.asarray(groups)
        if group.ndim != 1 or group.shape[0] != rows:
            raise ConfigError(f"groups must hold one value per row of X ({rows}); got shape {group.shape}.")
        if len(np.unique(group)) < self.cv:
            raise ConfigError(f"groups holds {len(np.unique(group))} distinct group(s); cv={self.cv} folds need at least {self.cv}.")
        return group

    @staticmethod
    def _weights(sample_weight: Any, rows: int) -> np.ndarray | None:
        """``fit``'s ``sample_weight`` as one finite, non-negative float per row (``None`` stays ``None``)."""
        if sample_weight is None:
            return None
        weight = np.asarray(sample_weight, dtype=np.float64)
        if weight.ndim != 1 or weight.shape[0] != rows:
            raise ConfigError(f"sample_weight must hold one value per row of X ({rows}); got shape {weight.shape}.")
        if not np.isfinite(weight).all() or (weight < 0).any() or not weight.any():
            raise ConfigError("sample_weight must be finite, non-negative and not all zero.")
        return weight

    def _split(self, target: np.ndarray, group: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
        """``cv`` folds of the posts, stratified by ``target``; with ``group``, no group on
        both sides of a fold."""
        placeholder = np.zeros((target.shape[0], 1))
        if group is None:
            return list(StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(placeholder, target))
        splitter = StratifiedGroupKFold(self.cv, shuffle=True, random_state=self.random_state)
        return list(splitter.split(placeholder, target, group))

    def _folds(self, target: np.ndarray, origin: np.ndarray, group: np.ndarray | None = None) -> PredefinedSplit:
        """Calibration folds over the augmented rows: the posts are split (stratified by
        ``target``, one value per post; with ``group``, a group on one side) and a
        context-dropout copy goes with its post.

        Split apart, a post would train the booster of a fold whose out-of-fold scores include
        its own copy (the same text and cluster features, only the context missing): the
        calibration would learn from scores too sure of themselves. Held-out synthetic feeds
        flag fewer organic posts with the copies kept together (see ``models/README.md``).
        """
        fold = np.empty(target.shape[0], dtype=np.int64)
        for k, (_, test) in enumerate(self._split(target, group)):
            fold[test] = k
        # One fold number per row, not the folds' index lists: the head keeps its ``cv``, and
        # lists of row indices would weigh megabytes in the saved model.
        return PredefinedSplit(fold[origin])

    def _empty(self, matrix: np.ndarray, folds: Mapping[str, PredefinedSplit]) -> np.ndarray:
        """Features held at 0 in training and scoring alike, because they teach nothing: those
        missing on every row (an export without account fields, say), and those missing on every
        row a head trains one of its calibration folds on (a feature known on a post or two;
        scikit-learn cannot bin a column without a value)."""
        missing = np.isnan(matrix)
        empty = missing.all(axis=0)
        for splits in folds.values():
            for train, _ in splits.split():
                empty |= missing[train].all(axis=0)
        return np.flatnonzero(empty)

    def _calibration_method(self, target: np.ndarray) -> str:
        if self.calibration != "auto":
            return self.calibration
        return "isotonic" if min(int(target.sum()), int((target == 0).sum())) >= 1000 else "sigmoid"

    def _fit_head(
        self, matrix: np.ndarray, target: np.ndarray, method: str, folds: PredefinedSplit, weight: np.ndarray | None = None
    ) -> CalibratedClassifierCV:
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            # The registry's direction per feature; the text model's probability is free.
            monotonic_cst=[FEATURES[name].monotone if name in FEATURES else 0 for name in self.model_names_[: matrix.shape[1]]],
            early_stopping=False,
            random_state=self.random_state,
        )
        head = CalibratedClassifierCV(clone(booster), method=method, cv=folds, ensemble=False)
        return _keep_order(head.fit(matrix, target, sample_weight=weight), target)

    # ------------------------------------------------------------------ scoring

    def _matrix(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "heads_")
        matrix = feature_matrix(X, list(self.feature_names_in_))
        matrix[:, self.empty_features_] = 0.0
        if self.text:
            text_score = self.text_model_.predict_proba(self._texts(X))[:, 1]
            matrix = np.column_stack([matrix, text_score])
        return matrix

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)``: probability of not spam, of spam."""
        p = self._head(self._matrix(X), "spam")
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def label_proba(self, X: Any) -> dict[str, np.ndarray]:
        """Per-label sub-scores: the probability that the post shows each learned behaviour."""
        matrix = self._matrix(X)
        return {name: self._head(matrix, name) for name in self.label_names_}

    def score_all(
        self, X: Any, *, label_floor: float = 0.0, block_rows: int = 65_536
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The overall score and the per-label sub-scores, from one pass over the features.

        ``label_floor``: the label heads run only on posts whose overall score reaches it (0
        elsewhere). Every label is a kind of spam, so a post unlikely to be spam is unlikely to
        show any label; a floor of 0.25 skips most posts of a feed at no cost in labels.
        Rows are scored ``block_rows`` at a time, so the float matrix never holds the whole feed.
        """
        check_is_fitted(self, "heads_")
        if not isinstance(X, Mapping):  # a DataFrame: its columns once, then slices of them
            X = {column: X[column].to_numpy() for column in X.columns}
        n = _rows(X)
        spam = np.zeros(n, dtype=np.float64)
        subs = {name: np.zeros(n, dtype=np.float64) for name in self.label_names_}
        for start in range(0, n, block_rows):
            stop = min(start + block_rows, n)
            matrix = self._matrix(_block(X, start, stop))
            block = self._head(matrix, "spam")
            spam[start:stop] = block
            rows = np.flatnonzero(block >= label_floor)
            if not rows.size:
                continue
            picked = matrix if rows.size == matrix.shape[0] else matrix[rows]
            for name in self.label_names_:
                subs[name][start + rows] = self._head(picked, name)
        return spam, subs

    def weighed_features(self) -> frozenset[str]:
        """The named features the overall score weighs: those a tree of the ``spam`` head
        splits on. A feature it reads but never splits on (one that was constant, or nearly,
        in training) cannot move the score."""
        check_is_fitted(self, "heads_")
        names = list(self.feature_names_in_)
        used: set[int] = set()
        for fold in self.heads_["spam"].calibrated_classifiers_:
            predictors = getattr(fold.estimator, "_predictors", None)
            if predictors is None:  # not a booster this can read: every feature counts as weighed
                return frozenset(names)
            for per_iteration in predictors:
                for tree in per_iteration:
                    used.update(tree.nodes["feature_idx"][tree.nodes["is_leaf"] == 0].tolist())
        return frozenset(names[j] for j in used if j < len(names))  # (a stacked text column is not named)

    def contributions(self, X: Any, groups: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
        """How much each group of features (a label's family) raises the overall score.

        Per post and group: the score minus the score with that group's features set to what
        a typical non-spam post shows (:attr:`reference_`;
        :func:`~spamflood.model.contributions.group_contributions`). Positive = the group
        pushed the score up. A group of features the model does not read is left out.
        """
        index = {name: j for j, name in enumerate(self.model_names_)}
        columns = {group: [index[name] for name in names if name in index] for group, names in groups.items()}
        return group_contributions(lambda m: self._head(m, "spam"), self._matrix(X), self.reference_, columns)

    def _head(self, matrix: np.ndarray, name: str) -> np.ndarray:
        """Head ``name``'s probability on ``matrix`` (the columns of :attr:`model_names_`); a
        blended model's heads read the features alone, and its ``spam`` head is blended with
        the text column (:func:`blend_text`)."""
        if not matrix.shape[0]:
            return np.zeros(0, dtype=np.float64)
        if not (self.text and self.text_join == "blend"):
            return self.heads_[name].predict_proba(matrix)[:, 1]
        p = self.heads_[name].predict_proba(matrix[:, :-1])[:, 1]
        return blend_text(p, matrix[:, -1], self.text_weight) if name == "spam" else p

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model saved before ``text_join`` existed stacked its text part.
        state.setdefault("text_join", "stack")
        state.setdefault("text_weight", 0.5)
        super().__setstate__(state)


def _keep_order(head: CalibratedClassifierCV, target: np.ndarray) -> CalibratedClassifierCV:
    """Make ``head``'s calibration non-decreasing in its booster's score, so that it keeps the
    boosters' monotone constraints.

    Platt's map is ``expit(-(a * score + b))``: a slope ``a > 0`` reverses the order. It happens
    when the out-of-fold scores rank spam below non-spam (a head that learned nothing, on small
    or noisy data); the best map that keeps the order is then the constant one (``a = 0``, the
    likelihood being concave), with ``b`` at the mean of Platt's smoothed targets. Isotonic
    calibration is non-decreasing already.
    """
    positives = float(target.sum())
    negatives = float(target.shape[0]) - positives
    mean = (positives * (positives + 1.0) / (positives + 2.0) + negatives / (negatives + 2.0)) / target.shape[0]
    for calibrated in head.calibrated_classifiers_:
        for calibrator in calibrated.calibrators:
            if getattr(calibrator, "a_", 0.0) > 0.0:
                calibrator.a_, calibrator.b_ = 0.0, math.log((1.0 - mean) / mean)  # expit(-b) = mean
    return head


def _rows(X: Mapping[str, Any]) -> int:
    for value in X.values():
        return len(value)
    return 0


def _block(X: Mapping[str, Any], start: int, stop: int) -> dict[str, Any]:
    return {k: v[start:stop] for k, v in X.items()}


def _texts(X: Any) -> list[str]:
    if "text" not in X:
        raise ModelError("This model reads the post text (text=True), but the input has no 'text' column.")
    return [str(t) for t in X["text"]]


def _binary(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array.astype(np.int64)
    try:
        numeric = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must hold 0/1 or booleans; got values like {array[:3].tolist()}.") from None
    if not np.isin(numeric, (0.0, 1.0)).all():
        bad = numeric[~np.isin(numeric, (0.0, 1.0))][:3].tolist()
        raise ConfigError(f"{name} must hold 0/1 or booleans; got {bad}.")
    return numeric.astype(np.int64)
