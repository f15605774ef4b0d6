"""Evidence behind the criteria: which features hit in a post, and what they matched.

:func:`evaluate` computes the features once and returns values, per-label rule scores and, for
every post, the evidence of its fired labels: ``(feature, label, value, snippet)`` where the
snippet quotes what was found (``price "¥99"``, ``"中秋" 2 days before Mid-Autumn Festival
(2026-09-25)``). :func:`reasons` turns a post's evidence into one sentence per label.

>>> ev = explain(["限时特价¥99，加V抢购"])[0]
>>> reasons(ev)[0]
'soft_ad: price "¥99"; discount "特价"; disguised handle "加v"; call to action "抢购"; urgency "限时"'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.criteria.rules import RULES, Rules, hits, label_scores
from spamflood.criteria.transformer import CriteriaFeatures, family_module

__all__ = ["Evaluation", "Evidence", "evaluate", "explain", "reasons"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One hitting, reported feature of one post, with a human snippet of what it found."""

    feature: str
    label: str
    value: float
    snippet: str

    def __str__(self) -> str:
        return f"{self.label}: {self.snippet}"


@dataclass
class Evaluation:
    """Values (n x k, columns ``names``), per-label scores, and per-post evidence."""

    names: list[str]
    values: np.ndarray
    labels: dict[str, np.ndarray]
    evidence: list[list[Evidence]]

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]


def evaluate(
    data: Any,
    clusters: Any = None,
    *,
    families: Sequence[str] | None = None,
    tz: str = "UTC",
    normalized: bool = False,
    labels: Literal["fired", "all"] = "fired",
    rules: Rules | None = None,
) -> Evaluation:
    """Features, label scores and evidence for a batch in one pass.

    ``labels="fired"`` gives evidence only for labels whose rule fired (what a reason shows);
    ``"all"`` for every reported feature that hits.
    """
    if labels not in ("fired", "all"):
        raise ValueError(f"The 'labels' parameter must be 'fired' or 'all'. Got {labels!r} instead.")
    rules = rules or RULES
    est = CriteriaFeatures(families=families, tz=tz, normalized=normalized).fit()
    ctx, values = est.transform_values(data, clusters)
    names = list(est.get_feature_names_out())
    n = ctx.n
    matrix = np.empty((n, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        matrix[:, j] = values[name]
    scores = label_scores(values, rules=rules)
    hit = hits(values, rules=rules)
    reported = [name for name in names if FEATURES[name].reported]
    evidence: list[list[Evidence]] = [[] for _ in range(n)]
    any_hit = np.zeros(n, dtype=bool)
    for name in reported:
        keep = hit[name]
        if labels == "fired":
            keep = keep & (scores[FEATURES[name].label] > 0)
        any_hit |= keep
    for i in np.flatnonzero(any_hit).tolist():
        for family in est.families_:
            fam_names = [nm for nm in names if FEATURES[nm].label == family]
            if labels == "fired" and not scores[family][i] > 0:
                continue
            chosen = [nm for nm in fam_names if FEATURES[nm].reported and hit[nm][i]]
            if not chosen:
                continue
            row = {nm: float(values[nm][i]) for nm in fam_names}
            snippets = family_module(family).snippets(ctx, i, chosen, row)
            for nm in chosen:
                if nm in snippets:
                    evidence[i].append(Evidence(nm, family, row[nm], snippets[nm]))
    return Evaluation(names, matrix, scores, evidence)


def explain(
    data: Any, clusters: Any = None, *, families: Sequence[str] | None = None, tz: str = "UTC"
) -> list[list[Evidence]]:
    """Per post, the evidence of the labels that fired (see :func:`evaluate`)."""
    return evaluate(data, clusters, families=families, tz=tz).evidence


def reasons(evidence: Sequence[Evidence]) -> list[str]:
    """One sentence per label, in label order: ``'soft_ad: price "¥99"; contact handle "加v"'``
    (features separated by ``;``, several matches of one feature by ``,``)."""
    by_label: dict[str, list[str]] = {}
    for e in evidence:
        by_label.setdefault(e.label, []).append(e.snippet)
    return [f"{label}: " + "; ".join(by_label[label]) for label in FAMILIES if label in by_label]
