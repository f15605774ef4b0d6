"""Flood evidence is monotone: more accounts sharing a near-duplicate never lower a post's score.

The features the registry marks ``monotone = 1`` (counts of accounts or copies sharing one text
or template, and a contact handle spelled to dodge filters) constrain every head of :class:`~spamflood.model.FloodModel`; the cluster stage
counts a cluster's accounts over its whole life as well as within one window, and neither the
span nor ``BATCH_ACCOUNTS_ACCOUNTS`` (missing outside a cluster) is a model input: how tight
a cluster is reaches the model as the share of its accounts inside its peak window, which an
account joining inside the window never lowers. The model here is trained on a small synthetic feed, whose viral organic stories
(many accounts sharing one news text, not spam) are what would teach an unconstrained model
that a very large cluster is innocent.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from spamflood import Detector
from spamflood.cluster import cluster_stats
from spamflood.criteria.registry import FEATURES
from spamflood.model import FloodModel, labelled_features
from spamflood.scoring import RuleScorer
from spamflood.synth import generate

MONOTONE = [f.name for f in FEATURES.values() if f.monotone == 1]
BASE = 1771286400.0  # 2026-02-17T00:00:00Z
HOUR = 3600.0


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Small matrices: OpenMP's threads cost more than they give, and far more on a busy machine."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def training() -> tuple[dict[str, np.ndarray], FloodModel]:
    """A 3,000-post synthetic feed's features and a small model with a head per planted label."""
    pairs = list(generate(3000, seed=5, days=3))
    data = labelled_features(
        Detector(), [post for post, _ in pairs], label_field="labels", truth={t["id"]: t["labels"] for _, t in pairs}
    )
    model = FloodModel(max_iter=40, min_positives=20, random_state=0).fit(data.frame(), data.y, labels=data.labels)
    return data.features, model


@pytest.fixture(scope="module")
def model(training: tuple[dict[str, np.ndarray], FloodModel]) -> FloodModel:
    return training[1]


def test_the_model_reads_every_monotone_feature_and_learned_label_heads(model: FloodModel) -> None:
    read = set(model.feature_names_in_)
    assert set(MONOTONE) <= read
    assert not read & {"MASS_SHARE_CLUSTER_SPAN", "BATCH_ACCOUNTS_ACCOUNTS"}
    assert len(model.label_names_) >= 3  # the property below holds for every head, not only the score


@settings(deadline=None, max_examples=60)
@given(
    row=st.integers(0, 2999),
    feature=st.sampled_from(MONOTONE),
    ladder=st.lists(st.floats(0, 500, allow_nan=False), min_size=2, max_size=8),
    others=st.dictionaries(
        st.sampled_from(sorted(f.name for f in FEATURES.values() if f.model_input)),
        st.one_of(st.just(np.nan), st.floats(0, 500, allow_nan=False)),
        max_size=6,
    ),
)
def test_raising_a_monotone_feature_never_lowers_the_score_or_a_sub_score(
    training: tuple[dict[str, np.ndarray], FloodModel], row: int, feature: str, ladder: list[float], others: dict[str, float]
) -> None:
    """From a real post's features, some others set at random, one monotone feature climbs."""
    features, model = training
    values = np.sort(np.asarray(ladder))
    X = {name: np.full(values.size, features[name][row % features[name].size]) for name in model.feature_names_in_}
    for name, value in others.items():
        X[name] = np.full(values.size, value)
    X[feature] = values
    spam, subs = model.score_all(X)
    for name, scores in {"score": spam, **subs}.items():
        assert np.all(np.diff(scores) >= 0), (name, feature, values.tolist(), scores.tolist())


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(40, 120))
def test_a_platt_calibration_that_would_reverse_the_order_is_held_flat(seed: int, rows: int) -> None:
    """Labels unrelated to the features (a head with nothing to learn): Platt's map fitted to
    out-of-fold scores often slopes the wrong way, which would rank more accounts lower."""
    rng = np.random.default_rng(seed)
    X = {"MASS_SHARE_CLUSTER_SIZE": rng.integers(0, 6, rows).astype(float), "SOFT_AD_PRICE": rng.random(rows)}
    y = np.r_[0, 1, rng.integers(0, 2, rows - 2)]
    fitted = FloodModel(features=list(X), calibration="sigmoid", max_iter=20, random_state=seed).fit(X, y)
    ladder = {"MASS_SHARE_CLUSTER_SIZE": np.arange(6.0), "SOFT_AD_PRICE": np.full(6, 0.5)}
    assert np.all(np.diff(fitted.predict_proba(ladder)[:, 1]) >= 0)


def test_a_handle_spelled_to_dodge_filters_never_lowers_the_score_where_training_saw_it_on_ham() -> None:
    """Outside the spam that hides from filters, evasion shows on a few ham rows (a WeChat
    article link, 'q群'): fitted on such rows, an unconstrained booster reads it as innocence,
    and a held-out corpus whose spam spells its handles so scored below plain contact posts."""
    rng = np.random.default_rng(0)
    rows = 600
    contact = rng.integers(0, 3, rows).astype(float)
    y = ((contact > 0) & (rng.random(rows) < 0.8)).astype(int)
    evasion = np.zeros(rows)
    evasion[np.flatnonzero((y == 0) & (contact > 0))[:40]] = 1.0  # only ham, and only with a contact
    X = {"SOFT_AD_CONTACT": contact, "SOFT_AD_EVASION": evasion}
    ladder = {"SOFT_AD_CONTACT": np.full(3, 1.0), "SOFT_AD_EVASION": np.arange(3.0)}
    free = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(np.column_stack(list(X.values())), y)
    assert np.diff(free.predict_proba(np.column_stack(list(ladder.values())))[:, 1])[0] < 0  # what the rows teach
    fitted = FloodModel(features=list(X), calibration="sigmoid", max_iter=30, random_state=0).fit(X, y)
    assert np.all(np.diff(fitted.predict_proba(ladder)[:, 1]) >= 0)


# ----------------------------------------------------------------------------- end to end

CLUSTER_COPY = {
    "plain": "Neighbourhood cleanup this Saturday at the north gate of the park, bring gloves and a bag",
    "ad": "Limited offer today: the ceramic travel mug set at half price, message shop2231 to order yours now",
    "festival": "【好物商城】祝您元宵节快乐！汤圆礼盒限时特价¥88，加微信 yuanxiao88 立即抢购",
}

ORGANIC = [
    "今天去公园跑了五公里，天气很好，心情也不错",
    "finally finished the book my sister lent me, the ending was a surprise",
    "下班路上堵了一个小时，回家只想睡觉",
    "made pancakes for the kids this morning, half of them ended up on the floor",
    "周末和朋友去爬山，山顶的风景太美了",
    "the new bus route saves me twenty minutes every day",
    "我家猫今天把花盆打翻了，满地都是土",
    "watched the match last night, what a comeback in the second half",
]

PROFILE = {"author_bio": "", "followers": 2, "following": 900, "author_created": "2026-02-10T08:00:00Z"}
"""One profile for every account of the cluster: joining accounts change no profile share."""


def _post(pid: str, text: str, author: str, time: float, profile: bool) -> dict:
    post = {"id": pid, "text": text, "author": author, "time": time}
    if profile:
        post |= {"author_name": f"shop{author[-3:]}", **PROFILE}
    return post


def _feed(copy: str, members: list[float], profile: bool) -> list[dict]:
    organic = [
        _post(f"o{k}", text, f"person{k:03d}", BASE - 6 * HOUR + 1811.7 * k, profile)
        for k, text in enumerate(ORGANIC)
    ]
    cluster = [_post(f"c{k}", copy, f"acct{k:03d}", time, profile) for k, time in enumerate(members)]
    return organic + cluster


def _cluster_scores(detector: Detector, feed: list[dict]) -> dict[str, float]:
    result = detector.score(feed)
    return {pid: float(s) for pid, s in zip(result.batch.ids, result.score) if pid.startswith("c")}


def _times(least: int, most: int = 12, *, over: float = 0.9 * HOUR) -> st.SearchStrategy[list[float]]:
    """Post times within ``over`` seconds (with a fraction of a second: the export keeps seconds)."""
    return st.lists(st.floats(0, over, allow_nan=False).map(lambda s: BASE + round(s, 1) + 0.5), min_size=least, max_size=most)


@settings(deadline=None, max_examples=40)
@given(
    copy=st.sampled_from(sorted(CLUSTER_COPY)),
    members=_times(1),
    joining=_times(1, 30),
    with_model=st.booleans(),
)
def test_more_accounts_in_the_cluster_never_lower_its_posts_scores(
    model: FloodModel, copy: str, members: list[float], joining: list[float], with_model: bool
) -> None:
    """New accounts post the same copy inside the window: every earlier post of the cluster (or
    the lone post that becomes one) keeps at least its score, under the model and under the
    rule score. No account fields."""
    detector = Detector(model=model if with_model else None)
    before = _cluster_scores(detector, _feed(CLUSTER_COPY[copy], members, profile=False))
    after = _cluster_scores(detector, _feed(CLUSTER_COPY[copy], members + joining, profile=False))
    lowered = {pid: (score, after[pid]) for pid, score in before.items() if after[pid] < score}
    assert not lowered


@settings(deadline=None, max_examples=12)
@given(
    copy=st.sampled_from(sorted(CLUSTER_COPY)),
    members=_times(5, 8, over=180 * 86400.0),
    with_model=st.booleans(),
)
def test_copy_spread_over_months_by_many_accounts_never_scores_below_the_same_posts_alone(
    model: FloodModel, copy: str, members: list[float], with_model: bool
) -> None:
    """A cluster spread over months is still evidence, not a sign of innocence: each of its
    posts scores at least what the same post scores in the feed without its copies."""
    detector = Detector(model=model if with_model else None)
    feed = _feed(CLUSTER_COPY[copy], members, profile=False)
    clustered = _cluster_scores(detector, feed)
    organic = feed[: len(ORGANIC)]
    alone = {post["id"]: _cluster_scores(detector, [*organic, post])[post["id"]] for post in feed[len(ORGANIC) :]}
    lowered = {pid: (score, clustered[pid]) for pid, score in alone.items() if clustered[pid] < score}
    assert not lowered


@settings(deadline=None, max_examples=20)
@given(copy=st.sampled_from(sorted(CLUSTER_COPY)), members=_times(3), joining=_times(1, 30))
def test_accounts_with_the_members_profile_never_lower_the_clusters_scores(
    model: FloodModel, copy: str, members: list[float], joining: list[float]
) -> None:
    """With account fields: joining accounts look like the members (templated name, empty bio,
    same creation day, same follow counts), so every profile share stays what it was. From three
    members on: below that the shares are missing (too few accounts to share anything), and
    missing is no point on a scale the model could be held to."""
    detector = Detector(model=model)
    before = _cluster_scores(detector, _feed(CLUSTER_COPY[copy], members, profile=True))
    after = _cluster_scores(detector, _feed(CLUSTER_COPY[copy], members + joining, profile=True))
    lowered = {pid: (score, after[pid]) for pid, score in before.items() if after[pid] < score}
    assert not lowered


# ----------------------------------------------------------------------------- the cluster's accounts


def test_the_clusters_accounts_count_copy_spread_over_months_that_no_window_holds() -> None:
    """Six accounts post one text a month apart: one account per window, six in the cluster."""
    labels = np.array([0] * 6 + [1, 1, -1])
    month = 30 * 86400.0
    times = np.array([BASE + k * month for k in range(6)] + [BASE, BASE + 60, BASE])
    codes = np.array([0, 1, 2, 3, 4, 5, -1, -1, 6])
    features = RuleScorer().cluster_features(cluster_stats(labels, times, codes, window=HOUR), codes)
    assert features["MASS_SHARE_AUTHORS_IN_WINDOW"][:6].tolist() == [1.0] * 6
    assert features["MASS_SHARE_CLUSTER_ACCOUNTS"][:6].tolist() == [6.0] * 6
    # a cluster without a known author: its accounts are unknown; a post in no cluster: none
    assert np.isnan(features["MASS_SHARE_CLUSTER_ACCOUNTS"][6:8]).all()
    assert features["MASS_SHARE_CLUSTER_ACCOUNTS"][8] == 0.0


def test_the_window_share_is_the_clusters_accounts_inside_its_peak_window() -> None:
    """Four accounts, three of them within the hour: 3/4 on every post of the cluster; a cluster
    without a known author: missing; a post in no cluster: 0."""
    labels = np.array([0, 0, 0, 0, 1, 1, -1])
    times = np.array([BASE, BASE + 600, BASE + 1200, BASE + 5 * 86400, BASE, BASE + 60, BASE])
    codes = np.array([0, 1, 2, 3, -1, -1, 4])
    share = RuleScorer().cluster_features(cluster_stats(labels, times, codes, window=HOUR), codes)["MASS_SHARE_WINDOW_SHARE"]
    assert share[:4].tolist() == [0.75] * 4
    assert np.isnan(share[4:6]).all()
    assert share[6] == 0.0
