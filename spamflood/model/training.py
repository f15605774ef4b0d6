"""From a labelled export to a trained model: features, targets, cross-validation.

Labels come from a field of each post (``--label-field``) or from a truth file joined on the
post id (what ``spamflood synth --truth`` writes). A label value may be a boolean, ``0``/``1``,
one of the words in :data:`SPAM_WORDS`/:data:`HAM_WORDS`, or a list of label names (empty =
not spam; each name that is a known label also trains that label's head); or, when the export
has labels of its own (``scam``/``real``), one of the values given to ``label_values``
(``--label-values scam=1,real=0``), and then only those.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from spamflood.criteria.registry import LABELS
from spamflood.errors import ConfigError
from spamflood.io.readers import ReadStats
from spamflood.io.rows import Reject
from spamflood.model.metrics import binary_report

__all__ = [
    "HAM_WORDS",
    "SPAM_WORDS",
    "LabelledFeatures",
    "cross_validate",
    "label_report",
    "labelled_features",
    "parse_label",
    "parse_label_values",
]

SPAM_WORDS = frozenset({"1", "true", "yes", "spam", "ad", "ads", "advert", "junk", "flood", "marketing"})
HAM_WORDS = frozenset({"0", "false", "no", "ham", "not spam", "chat", "legit", "normal", "organic", "clean"})


def parse_label_values(spec: str) -> dict[str, int]:
    """``{"scam": 1, "real": 0}`` from ``scam=1,real=0``: the export's own label values.

    >>> parse_label_values("spam=1, ham=0")
    {'spam': 1, 'ham': 0}
    """
    values: dict[str, int] = {}
    for item in spec.split(","):
        name, sep, target = item.strip().rpartition("=")
        if not sep or not name.strip() or target.strip() not in ("0", "1"):
            raise ConfigError(f"--label-values item {item.strip()!r} must look like value=1 or value=0 (e.g. spam=1,ham=0).")
        values[name.strip().lower()] = int(target)
    if set(values.values()) != {0, 1}:
        raise ConfigError(f"--label-values {spec!r} must name a value for spam (=1) and one for not spam (=0).")
    return values


def parse_label(value: Any, values: Mapping[str, int] | None = None) -> tuple[int, list[str]] | None:
    """``(spam, label names)`` for one label value, or ``None`` when it is not a label.
    ``values``: the only values that are labels, and what each means (case-insensitive)."""
    if values is not None:
        target = values.get(str(value).strip().lower()) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        return None if target is None else (target, [])
    if isinstance(value, bool):
        return int(value), []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (int(value), []) if value in (0, 1) else None
    if isinstance(value, (list, tuple)):
        names = [str(v) for v in value]
        return int(bool(names)), [n for n in names if n in LABELS]
    if isinstance(value, str):
        word = value.strip().lower()
        if word in SPAM_WORDS:
            return 1, []
        if word in HAM_WORDS:
            return 0, []
        if word.startswith("["):
            try:
                return parse_label(json.loads(value))
            except ValueError:
                return None
    return None


@dataclass
class LabelledFeatures:
    """What training reads: feature columns, texts, targets, per-label targets, and the rows
    that could not be used (unreadable posts and posts without a readable label)."""

    features: dict[str, np.ndarray]
    texts: list[str]
    y: np.ndarray
    labels: dict[str, np.ndarray]
    ids: list[str]
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    score: np.ndarray | None = None
    """The scoring detector's score of each post (its model's, or the rule score)."""
    label_scores: dict[str, np.ndarray] = field(default_factory=dict)
    post_labels: list[list[str]] = field(default_factory=list)
    """The labels the scoring detector gave each post (as written in its output)."""
    read: ReadStats = field(default_factory=ReadStats)
    """What reading noticed beside the rejects: an input that broke off, optional values read
    as missing (see :class:`~spamflood.io.readers.ReadStats`)."""
    scorer: Any = None
    """The :class:`~spamflood.scoring.RuleScorer` of the detector that found the labels (its
    ``min_authors`` and ``min_copies``), for :meth:`decided_score`; ``None``: the defaults."""

    def frame(self) -> dict[str, Any]:
        """The model's ``X``: feature columns and ``text``."""
        return {**self.features, "text": self.texts}

    def decided_score(self, model: Any) -> np.ndarray:
        """The score ``spamflood score --model`` gives these posts with ``model``: its overall
        score, raised where a listed label's evidence is one the model does not weigh
        (:class:`~spamflood.decision.Decider`). The model's own probability where the posts'
        labels were not kept."""
        if not self.post_labels:
            return np.asarray(model.score_all(self.frame())[0], dtype=np.float64)
        from spamflood.criteria.registry import FAMILIES
        from spamflood.decision import Decider, Findings
        from spamflood.scoring import RuleScorer

        n = len(self.y)
        fired = {label: np.fromiter((label in listed for listed in self.post_labels), dtype=bool, count=n) for label in FAMILIES}
        findings = Findings(dict(self.features), fired, {label: {} for label in fired}, n)
        return Decider(self.scorer or RuleScorer(), model).score(findings, texts=self.texts)

    def take(self, index: np.ndarray) -> LabelledFeatures:
        return LabelledFeatures(
            {k: v[index] for k, v in self.features.items()},
            [self.texts[i] for i in index],
            self.y[index],
            {k: v[index] for k, v in self.labels.items()},
            [self.ids[i] for i in index],
            self.rejects,
            self.rows_read,
            None if self.score is None else self.score[index],
            {k: v[index] for k, v in self.label_scores.items()},
            [self.post_labels[i] for i in index] if self.post_labels else [],
            self.read,
            self.scorer,
        )


def read_truth(path: str | Path, label_field: str) -> dict[str, Any]:
    """id -> label value from a JSONL truth file (one object per line with ``id``)."""
    out: dict[str, Any] = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"Truth file {path}, line {number}: not JSON ({exc}).") from None
            if "id" not in record or label_field not in record:
                raise ConfigError(f"Truth file {path}, line {number}: needs 'id' and '{label_field}'.")
            out[str(record["id"])] = record[label_field]
    return out


def labelled_features(
    detector: Any,
    posts: Any,
    *,
    label_field: str,
    truth: Mapping[str, Any] | None = None,
    field_map: Any = None,
    fmt: str | None = None,
    tz: str = "UTC",
    progress: Callable[[int], None] | None = None,
    layout: Any = None,
    label_values: Mapping[str, int] | None = None,
) -> LabelledFeatures:
    """Score ``posts`` with ``detector`` (criteria on) to get every feature and the detector's
    score, and read each post's label from ``label_field`` (or from ``truth``, by id).

    A post whose label is missing or unreadable (not one of ``label_values``, when given) goes
    to ``rejects`` with its line and the field, like any bad row; with several input files,
    with its file too.
    """
    from spamflood.io.fieldmap import FieldMap

    if truth is None:
        base = field_map or FieldMap.parse()
        field_map = FieldMap(paths=dict(base.paths), required=base.required, keep=tuple(base.keep) + (label_field,))
    result = detector.score(posts, field_map=field_map, fmt=fmt, tz=tz, progress=progress, layout=layout)
    batch = result.batch
    values = [truth.get(i) for i in batch.ids] if truth is not None else batch.extra.get(label_field, [None] * len(batch))
    keep: list[int] = []
    y: list[int] = []
    names: list[list[str]] = []
    rejects = list(result.rejects)
    for i, value in enumerate(values):
        parsed = parse_label(value, label_values)
        if parsed is None:
            known = "spam/ham, 0/1, a boolean or a list of labels" if label_values is None else "one of " + ", ".join(label_values)
            what = "no label" if value is None else f"label {value!r} is not {known}"
            where = "in the truth file" if truth is not None else ""
            rejects.append(
                Reject(line=int(batch.lines[i]), field=label_field, reason=f"{what} {where}".strip(), raw=_raw(batch, i, value))
            )
            continue
        keep.append(i)
        y.append(parsed[0])
        names.append(parsed[1])
    index = np.asarray(keep, dtype=np.int64)
    per_label = {
        label: np.fromiter((label in n for n in names), dtype=np.int64, count=len(names))
        for label in LABELS
        if any(label in n for n in names)
    }
    rejects.sort(key=lambda r: r.line)
    rejects = [result.read.place(r) for r in rejects]
    if isinstance(posts, (str, Path)) and str(posts) != "-":  # one file: each reject names it too
        rejects = [replace(r, file=str(posts)) for r in rejects]
    return LabelledFeatures(
        features={k: np.asarray(v)[index] for k, v in result.features.items()},
        texts=[batch.texts[i] for i in keep],
        y=np.asarray(y, dtype=np.int64),
        labels=per_label,
        ids=[batch.ids[i] for i in keep],
        rejects=rejects,
        rows_read=result.rows_read,
        score=np.asarray(result.score)[index],
        label_scores={k: np.asarray(v)[index] for k, v in result.label_scores.items()},
        post_labels=[result.labels[i] for i in keep],
        read=result.read,
        scorer=getattr(detector, "rules", None),
    )


def cross_validate(
    model: Any, data: LabelledFeatures, *, folds: int = 5, seed: int = 0, threshold: float = 0.5
) -> dict[str, Any]:
    """Stratified k-fold: a clone of ``model`` fitted on k-1 folds scores the held-out fold
    (its decided score: :meth:`LabelledFeatures.decided_score`).

    Returns the pooled out-of-fold report (:func:`binary_report`), the per-fold ROC-AUC, and,
    for label heads, per-label precision/recall/F1 at 0.5.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    if int(data.y.sum()) < folds or int((data.y == 0).sum()) < folds:
        raise ConfigError(f"{folds}-fold cross-validation needs at least {folds} spam and {folds} non-spam posts.")
    score = np.zeros(len(data.y), dtype=np.float64)
    label_score = {k: np.zeros(len(data.y), dtype=np.float64) for k in data.labels}
    fold_auc: list[float] = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    from sklearn.metrics import roc_auc_score

    for train, test in splitter.split(np.zeros(len(data.y)), data.y):
        part = data.take(train)
        fitted = clone(model).fit(part.frame(), part.y, labels=part.labels)
        held = data.take(test)
        _, subs = fitted.score_all(held.frame())
        spam = held.decided_score(fitted)  # what `spamflood score --model` would give the fold
        score[test] = spam
        for label, values in subs.items():
            label_score[label][test] = values
        if len(np.unique(held.y)) == 2:
            fold_auc.append(float(roc_auc_score(held.y, spam)))
    report = binary_report(data.y, score, threshold=threshold)
    report["folds"] = folds
    report["fold_roc_auc"] = fold_auc
    report["labels"] = {
        label: _label_figures(data.labels[label], label_score[label]) for label in data.labels if label_score[label].any()
    }
    return report


def label_report(data: LabelledFeatures) -> dict[str, dict[str, float]]:
    """Per label with truth: precision, recall and F1 of the labels the detector output."""
    return {
        label: _label_figures(truth, np.fromiter((label in ls for ls in data.post_labels), dtype=np.int64, count=len(truth)), 1)
        for label, truth in data.labels.items()
    }


def _label_figures(truth: np.ndarray, score: np.ndarray, at: float = 0.5) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score

    predicted = (score >= at).astype(np.int64)
    return {
        "positives": int(truth.sum()),
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted, zero_division=0)),
        "f1": float(f1_score(truth, predicted, zero_division=0)),
    }


def _raw(batch: Any, i: int, value: Any) -> str:
    return json.dumps({"id": batch.ids[i], "text": batch.texts[i], "label": value}, ensure_ascii=False, default=str)
