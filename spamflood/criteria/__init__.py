"""The article's criteria as named, labelled features (Chinese and English).

One module per feature family (:mod:`~spamflood.criteria.soft_ad`,
:mod:`~spamflood.criteria.holiday_template`, :mod:`~spamflood.criteria.hotspot_hijack`,
:mod:`~spamflood.criteria.microbusiness`, :mod:`~spamflood.criteria.chicken_soup`,
:mod:`~spamflood.criteria.fan_farming`,
:mod:`~spamflood.criteria.batch_accounts`, :mod:`~spamflood.criteria.auto_posting`); names,
labels, descriptions and examples in one registry (:mod:`~spamflood.criteria.registry`);
thresholds in ``rules.toml`` (:mod:`~spamflood.criteria.rules`); lexicons as data files matched
with Aho-Corasick (:mod:`~spamflood.criteria.lexicon`).
"""

from __future__ import annotations

from typing import Any

from spamflood.criteria.compute import scan_names, scan_texts
from spamflood.criteria.evidence import Evaluation, Evidence, evaluate, explain, reasons
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import (
    ARTICLE,
    COMPUTED_HERE,
    FAMILIES,
    FEATURES,
    LABELS,
    Feature,
    Label,
    feature_names,
)
from spamflood.criteria.rules import RULES, hits, label_scores

__all__ = [
    "ARTICLE",
    "COMPUTED_HERE",
    "FAMILIES",
    "FEATURES",
    "LABELS",
    "RULES",
    "CriteriaFeatures",
    "Evaluation",
    "Evidence",
    "Feature",
    "Label",
    "Scan",
    "evaluate",
    "explain",
    "feature_names",
    "hits",
    "label_scores",
    "reasons",
    "scan_names",
    "scan_texts",
]


def __getattr__(name: str) -> Any:
    # CriteriaFeatures imports scikit-learn (about a second); only code that asks for it pays.
    if name == "CriteriaFeatures":
        from spamflood.criteria.transformer import CriteriaFeatures

        return CriteriaFeatures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
