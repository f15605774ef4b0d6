"""The figures a moderation team asks of a score: how many flags are right, how many spam posts
are caught, and which threshold reaches a precision they can live with."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["binary_report", "reliability", "threshold_for_precision"]


def reliability(y: Any, score: Any, *, bins: int = 10) -> dict[str, Any]:
    """Whether a score is a probability: the reliability table and the expected calibration error.

    The scores are cut into ``bins`` equal-width bins of [0, 1] (the last one closed); per bin,
    the posts in it, their mean score and their share of spam. A calibrated score has a spam
    share close to the mean score in every bin. The ECE is the gap averaged over posts:
    ``sum(posts_b / n * |spam_share_b - mean_score_b|)``. Empty bins are listed with 0 posts.

    >>> r = reliability([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.7], bins=2)
    >>> [(b["posts"], b["mean_score"], b["spam_share"]) for b in r["bins"]], round(r["ece"], 3)
    ([(2, 0.1, 0.0), (2, 0.8, 1.0)], 0.15)
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1; got {bins}.")
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if y.shape != score.shape:
        raise ValueError(f"y has {y.shape[0]} values but score has {score.shape[0]}.")
    if score.size and (np.isnan(score).any() or score.min() < 0.0 or score.max() > 1.0):
        raise ValueError("score must hold probabilities in [0, 1] (no NaN).")
    which = np.minimum((score * bins).astype(np.int64), bins - 1)
    posts = np.bincount(which, minlength=bins)
    score_sum = np.bincount(which, weights=score, minlength=bins)
    spam_sum = np.bincount(which, weights=y, minlength=bins)
    table = []
    ece = 0.0
    for b in range(bins):
        n = int(posts[b])
        mean = float(score_sum[b] / n) if n else None
        share = float(spam_sum[b] / n) if n else None
        if n:
            ece += n / y.size * abs(share - mean)  # type: ignore[operator]
        table.append({"low": b / bins, "high": (b + 1) / bins, "posts": n, "mean_score": mean, "spam_share": share})
    return {"bins": table, "ece": float(ece), "posts": int(y.size)}


def threshold_for_precision(y: np.ndarray, score: np.ndarray, target: float) -> dict[str, float] | None:
    """The lowest threshold whose flags reach ``target`` precision, with the recall it keeps.

    ``None`` when no threshold reaches it.
    """
    precision, recall, thresholds = precision_recall_curve(y, score)
    # precision/recall have one more entry than thresholds (the final point: recall 0).
    ok = np.flatnonzero(precision[:-1] >= target)
    if not ok.size:
        return None
    i = int(ok[0])
    return {"threshold": float(thresholds[i]), "precision": float(precision[i]), "recall": float(recall[i])}


def binary_report(
    y: Any, score: Any, *, threshold: float = 0.5, precision_target: float | None = None
) -> dict[str, Any]:
    """Precision, recall, F1 and the confusion matrix at ``threshold``; ROC-AUC, PR-AUC
    (average precision) and the Brier score over all thresholds; and, when asked, the
    threshold that reaches ``precision_target``."""
    y = np.asarray(y).astype(np.int64)
    score = np.asarray(score, dtype=np.float64)
    flagged = (score >= threshold).astype(np.int64)
    both = len(np.unique(y)) == 2
    tn, fp, fn, tp = confusion_matrix(y, flagged, labels=[0, 1]).ravel()
    report: dict[str, Any] = {
        "posts": int(y.shape[0]),
        "positives": int(y.sum()),
        "threshold": threshold,
        "precision": float(precision_score(y, flagged, zero_division=0)),
        "recall": float(recall_score(y, flagged, zero_division=0)),
        "f1": float(f1_score(y, flagged, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, score)) if both else None,
        "pr_auc": float(average_precision_score(y, score)) if both else None,
        "brier": float(brier_score_loss(y, score)) if both else None,
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }
    if precision_target is not None:
        report["precision_target"] = precision_target
        report["threshold_for_precision"] = threshold_for_precision(y, score, precision_target) if both else None
    return report
