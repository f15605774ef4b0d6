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

__all__ = ["binary_report", "threshold_for_precision"]


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
