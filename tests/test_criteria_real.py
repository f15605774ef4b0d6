"""The text labels on real spam/ham collections: rare on ham, common on spam.

A fixed, seeded sample of each dataset in ../shared/data keeps this fast; the full figures are
printed by benchmarks/criteria_real.py. Skipped with a reason when a dataset is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_data
from spamflood.criteria import FEATURES, CriteriaFeatures, label_scores

TEXT_LABELS = tuple(dict.fromkeys(f.label for f in FEATURES.values() if f.kind == "text"))
SAMPLE = 1500  # per class and dataset at most


def _sms_uci(root: Path) -> tuple[list[str], list[bool]]:
    rows = [line.partition("\t") for line in (root / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()]
    return [r[2] for r in rows], [r[0] == "spam" for r in rows]


def _cn_sms(root: Path) -> tuple[list[str], list[bool]]:
    rows = [line.partition(",") for line in (root / "dataset.csv").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r[0] in ("0", "1")]
    return [r[2] for r in rows], [r[0] == "1" for r in rows]


def _qq(root: Path) -> tuple[list[str], list[bool]]:
    texts, labels = [], []
    for line in (root / "mc_qq_group.txt").read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rstrip("\r").rpartition("==")
        if sep and label.strip() in ("0", "1"):
            texts.append(text)
            labels.append(label.strip() == "1")
    return texts, labels


def _youtube(root: Path) -> tuple[list[str], list[bool]]:
    texts, labels = [], []
    for path in sorted(root.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                texts.append(row["CONTENT"])
                labels.append(str(row.get("TAG", row.get("CLASS"))).strip() == "1")
    return texts, labels


# dataset -> (loader, the least share of its spam that the union of text labels must catch)
DATASETS = {
    "sms_spam_uci": (_sms_uci, 0.70),
    "cn_sms_spam_50k": (_cn_sms, 0.60),
    "cn_qq_group_ads": (_qq, 0.15),
    "youtube_spam_2014_pilot": (_youtube, 0.55),  # self-promotion: fan_farming
}


@pytest.mark.parametrize("name", list(DATASETS))
def test_text_labels_fire_on_under_2_percent_of_real_ham(name: str) -> None:
    loader, spam_floor = DATASETS[name]
    texts, labels = loader(shared_data(name))
    y = np.array(labels)
    rng = np.random.default_rng(0)
    pick = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:SAMPLE] for c in (False, True)])
    est = CriteriaFeatures(families=list(TEXT_LABELS)).fit()
    scores = label_scores(est.transform([texts[i] for i in pick]), list(est.get_feature_names_out()))
    is_spam = y[pick]
    union = np.zeros(pick.size, dtype=bool)
    for label in TEXT_LABELS:
        fired = scores[label] > 0
        union |= fired
        assert fired[~is_spam].mean() < 0.02, f"{label} fires on {fired[~is_spam].mean():.1%} of {name} ham"
    assert union[is_spam].mean() >= spam_floor, f"text labels catch {union[is_spam].mean():.1%} of {name} spam"
