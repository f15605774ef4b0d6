"""The reliability table and expected calibration error (spamflood.model.reliability)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood.model import reliability


def test_hand_made_scores_give_the_table_and_ece_worked_out_by_hand() -> None:
    # bins of 0.2: [0, .2) holds 0.1, 0.1, 0.15 (1 spam of 3); [.4, .6) holds 0.5 (spam);
    # [.8, 1] holds 0.9, 0.95, 1.0 (2 spam of 3); the rest are empty.
    y = [0, 0, 1, 1, 1, 0, 1]
    score = [0.1, 0.1, 0.15, 0.5, 0.9, 0.95, 1.0]
    r = reliability(y, score, bins=5)
    assert [b["low"] for b in r["bins"]] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert [b["high"] for b in r["bins"]] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert [b["posts"] for b in r["bins"]] == [3, 0, 1, 0, 3]
    assert [b["mean_score"] for b in r["bins"]] == [pytest.approx(0.35 / 3), None, 0.5, None, pytest.approx(0.95)]
    assert [b["spam_share"] for b in r["bins"]] == [pytest.approx(1 / 3), None, 1.0, None, pytest.approx(2 / 3)]
    # 3/7 * |1/3 - 0.35/3| + 1/7 * |1 - 0.5| + 3/7 * |2/3 - 0.95|
    assert r["ece"] == pytest.approx(3 / 7 * 0.65 / 3 + 1 / 7 * 0.5 + 3 / 7 * (0.95 - 2 / 3))
    assert r["posts"] == 7


def test_a_score_that_matches_each_bins_spam_share_has_no_calibration_error() -> None:
    y = [1, 0, 0, 0] + [1, 0] + [1, 1, 1, 1, 0]
    score = [0.25] * 4 + [0.5] * 2 + [0.8] * 5
    assert reliability(y, score)["ece"] == pytest.approx(0.0, abs=1e-12)


def test_always_saying_half_on_all_spam_is_off_by_half() -> None:
    assert reliability(np.ones(10), np.full(10, 0.5))["ece"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("y", "score", "bins", "message"),
    [
        ([0, 1], [0.2, 0.8], 0, "bins must be at least 1; got 0"),
        ([0, 1], [0.2], 10, "y has 2 values but score has 1"),
        ([0, 1], [0.2, 1.2], 10, r"score must hold probabilities in \[0, 1\]"),
        ([0, 1], [0.2, float("nan")], 10, r"score must hold probabilities in \[0, 1\] \(no NaN\)"),
    ],
    ids=["no-bins", "lengths-differ", "above-one", "nan"],
)
def test_bad_input_is_refused_with_the_reason(y, score, bins, message) -> None:
    with pytest.raises(ValueError, match=message):
        reliability(y, score, bins=bins)


@given(
    st.lists(st.tuples(st.booleans(), st.floats(0.0, 1.0)), min_size=1, max_size=200),
    st.integers(1, 20),
)
def test_every_post_lands_in_the_bin_of_its_score_and_ece_is_the_posts_weighted_gap(rows, bins) -> None:
    y = np.array([s for s, _ in rows], dtype=float)
    score = np.array([p for _, p in rows])
    r = reliability(y, score, bins=bins)
    table = r["bins"]
    assert len(table) == bins and sum(b["posts"] for b in table) == len(rows)
    for b in table:
        if b["posts"]:
            assert b["low"] - 1e-12 <= b["mean_score"] <= b["high"] + 1e-12
            assert 0.0 <= b["spam_share"] <= 1.0
    gap = sum(b["posts"] / len(rows) * abs(b["spam_share"] - b["mean_score"]) for b in table if b["posts"])
    assert r["ece"] == pytest.approx(gap) and 0.0 <= r["ece"] <= 1.0
