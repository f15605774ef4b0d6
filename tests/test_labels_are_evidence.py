"""Labels are evidence, on whole feeds: every listed label cites what was seen, and a label whose
inputs are absent (no authors, no times, no account fields) is never listed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamflood import Detector, synth
from spamflood.criteria.registry import FAMILIES
from spamflood.io.fieldmap import FieldMap

ACCOUNT_FIELDS = ("author_name", "author_bio", "author_created", "followers", "following", "statuses")

NEEDS: dict[str, set[str]] = {
    "mass_share": {"author"},
    "repetition": {"author"},
    "batch_accounts": {"author", "account"},
    "auto_posting": {"author", "time"},
}
"""Per label, the inputs without which it can never fire (chicken_soup may fire on branded
copy alone, holiday_template on festival copy with a promotion)."""

EVIDENCE = re.compile(r'\d|"[^"]+"')
"""What a reason quotes: a number (a count, a share, a time) or words from the post."""


@pytest.fixture(scope="module")
def feed() -> list[dict]:
    return [post for post, _ in synth.generate(1200, seed=23)]


def _without(rows: list[dict], drop: set[str]) -> list[dict]:
    fields = set()
    if "author" in drop:
        fields |= {"author"}
    if "time" in drop:
        fields |= {"time"}
    if "account" in drop:
        fields |= set(ACCOUNT_FIELDS)
    return [{k: v for k, v in row.items() if k not in fields} for row in rows]


def _check(result, drop: set[str]) -> None:
    for post in result:
        assert len(post.reasons) >= len(post.labels)
        for label, reason in zip(post.labels, post.reasons):
            assert reason.startswith(f"{label}: "), (post.id, label, reason)
            assert EVIDENCE.search(reason.split(": ", 1)[1]), (post.id, reason)
            assert not NEEDS.get(label, set()) & drop, (post.id, label, reason, drop)
        if post.flagged and not post.labels:  # a flag without a fired rule: the features that raised it
            assert post.reasons[0].startswith("score: ") and EVIDENCE.search(post.reasons[0])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drop=st.sets(st.sampled_from(["author", "time", "account"])),
    start=st.integers(0, 800),
    size=st.integers(20, 400),
)
def test_every_listed_label_cites_evidence_and_needs_its_inputs(feed, drop, start, size):
    rows = _without(feed[start : start + size], drop)
    optional = tuple(f for f in ("author", "time") if f in drop)
    result = Detector().score(rows, field_map=FieldMap.parse(None, optional=optional))
    _check(result, drop)


def test_the_bundled_model_lists_the_rules_labels_on_every_post(feed):
    rows = feed[:600]
    by_rules = Detector().score(rows)
    by_model = Detector.load().score(rows)
    assert [sorted(x) for x in by_model.labels] == [sorted(x) for x in by_rules.labels]
    _check(by_model, set())
    assert any(by_model.labels) and set(FAMILIES) >= {x for ls in by_model.labels for x in ls}


def test_a_flood_lists_mass_share_on_every_post_whatever_else_it_carries():
    t0 = 1_771_286_400  # 2026-02-17, Spring Festival
    copies = {
        "plain": "大家快来看看这个新出的手机壳设计，真的很好看",
        "ad": "限时特价¥99，加V mask8899 抢购，仅限今天",
        "festival": "春节快乐！新春特惠全场五折，加微信 shop666 下单",
    }
    rows = []
    for kind, text in copies.items():
        for k in range(7):
            rows.append({"id": f"{kind}{k}", "text": text, "author": f"{kind}-acct{k}", "time": t0 + 60 * k})
    rows += [{"id": f"o{k}", "text": f"今天天气不错，出去走走 {k}", "author": f"o{k}", "time": t0 + k} for k in range(20)]
    for detector in (Detector(), Detector.load()):
        result = detector.score(rows)
        flood = [p for p in result if p.id[0] != "o"]
        assert all("mass_share" in p.labels for p in flood)
        assert all(p.reasons[p.labels.index("mass_share")] == "mass_share: 7 near-identical posts from 7 accounts within 6 min" for p in flood)
        assert {"soft_ad"} <= set(result[7].labels) and "holiday_template" in result[14].labels
        assert not any(p.labels for p in result if p.id[0] == "o")


def test_short_common_comments_without_authors_are_no_flood():
    rows = [{"id": str(k), "text": "Nice song", "time": 1_771_286_400 + k} for k in range(72)]
    result = Detector().score(rows, field_map=FieldMap.parse(None, optional=("author",)))
    assert result.clusters.labels.max() >= 0  # the copies cluster...
    assert not any(p.labels for p in result)  # ...but no account posted them: no mass_share, no repetition
    assert np.isnan(result.features["MASS_SHARE_AUTHORS_IN_WINDOW"]).all()
