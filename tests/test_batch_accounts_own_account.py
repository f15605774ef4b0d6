"""batch_accounts on a post from its own account: a batch-made account posting alone is in no
cluster, yet its post lists ``batch_accounts`` when its account holds the account rule among
the accounts of the batch, with the account's facts as ``spamflood accounts`` quotes them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.accounts import AccountScorer, AccountTable
from spamflood.accounts.evidence import AccountEvidence
from spamflood.criteria import evaluate
from spamflood.criteria.batch_accounts import account_evidence
from spamflood.criteria.context import columns_from
from spamflood.detector import Detector
from spamflood.errors import ConfigError
from spamflood.posts import Post, PostBatch

T0 = 1_725_926_400.0  # 2024-09-10 00:00 UTC
TEXTS = [
    "今天天气不错，去公园散步看到很多人在放风筝",
    "After work I cycled around the lake, the cherry trees are blooming",
    "刚才带孩子去了博物馆，回来路上还下了一场小雨",
    "finished episode 18 of the new show, pretty satisfied, good night all",
    "周末打算把阳台的花重新种一遍，顺便整理一下书架",
]


def _feed(created_gap: float = 40.0, bio: str | None = "") -> list[Post]:
    """Five accounts registered ``created_gap`` seconds apart three days ago, handles from one
    stem, each posting one unrelated text; and five ordinary accounts years old."""
    made = [
        Post(
            id=f"b{k}",
            text=TEXTS[k],
            author=f"shopgirl{k:03d}",
            time=T0 + 3600 * k,
            author_name=f"小美{k}",
            author_bio=bio,
            author_created=T0 - 3 * 86400 + created_gap * k,
        )
        for k in range(5)
    ]
    people = [
        Post(
            id=f"p{k}",
            text=TEXTS[k] + "!",
            author=f"person_{chr(97 + k)}",
            time=T0 + 3600 * k + 7,
            author_name=f"Person {chr(65 + k)}",
            author_bio="I like cats",
            author_created=T0 - 300 * 86400 * (k + 1),
        )
        for k in range(5)
    ]
    return made + people


def test_a_batch_made_account_posting_alone_lists_batch_accounts_with_its_account_facts() -> None:
    posts = _feed()
    result = Detector().score(posts)
    for k, post in enumerate(posts):
        if post.id.startswith("b"):
            assert result.labels[k] == ["batch_accounts"], post.id
            assert result.reasons[k] == [
                f"batch_accounts: its account created 2024-09-07 00:0{int(40 * k // 60)} UTC, 4 other accounts within 10 min; "
                f"handle '{post.author}' shares its stem with 4 others; empty profile"
            ]
        else:
            assert "batch_accounts" not in result.labels[k], post.id


def test_the_post_quotes_what_spamflood_accounts_says_of_its_account() -> None:
    posts = _feed()
    said = Detector().score(posts).reasons
    accounts = AccountScorer.load().score_accounts(AccountTable.from_posts(PostBatch.from_posts(posts)))
    of_account = dict(zip(accounts.table.authors, accounts.reasons))
    for k, post in enumerate(posts[:5]):
        account_reason = next(r for r in of_account[post.author] if r.startswith("batch_accounts: created"))
        assert said[k][0] == "batch_accounts: its account " + account_reason.removeprefix("batch_accounts: ")


def test_a_creation_burst_alone_or_a_spread_of_creation_times_is_not_enough() -> None:
    handles = ["lin", "zhou", "mei", "tao", "qian"]
    burst_only = [  # registered together, but own handles, own names and a real profile
        replace(p, author=handles[k], author_name=handles[k].title(), author_bio="摄影 | 旅行 | 咖啡") if k < 5 else p
        for k, p in enumerate(_feed())
    ]
    for posts in (burst_only, _feed(created_gap=3600.0)):
        ev = evaluate(PostBatch.from_posts(posts), None, families=["batch_accounts"])
        assert not ev.labels["batch_accounts"].any()


def test_without_creation_times_the_account_rule_is_missing_not_zero() -> None:
    posts = [replace(p, author_created=None) for p in _feed()]
    ev = evaluate(PostBatch.from_posts(posts), None, families=["batch_accounts"])
    assert np.isnan(ev.column("BATCH_ACCOUNTS_ACCOUNT_BURST")).all()
    assert not ev.labels["batch_accounts"].any()


def test_a_part_of_the_feed_given_the_feeds_account_evidence_judges_its_posts_as_the_whole_feed_does() -> None:
    # what the Spark engine does: a task holds some accounts, the evidence covers all of them
    posts = _feed()
    whole = evaluate(PostBatch.from_posts(posts), None, families=["batch_accounts"])
    profiles = AccountTable.from_posts(PostBatch.from_posts(posts))
    evidence = AccountEvidence.measure(profiles, min_accounts=3)
    part = [posts[k] for k in (0, 2, 5, 7)]  # two of the five batch-made accounts, two people
    cols = columns_from(PostBatch.from_posts(part))
    cols.accounts = evidence
    ev = evaluate(cols, families=["batch_accounts"])
    for j, k in enumerate((0, 2, 5, 7)):
        for name in ("BATCH_ACCOUNTS_ACCOUNT_BURST", "BATCH_ACCOUNTS_ACCOUNT_SIGN"):
            assert ev.column(name)[j] == whole.column(name)[k], (name, posts[k].id)
    assert ev.sentences()["batch_accounts"] == {0: whole.sentences()["batch_accounts"][0], 1: whole.sentences()["batch_accounts"][2]}
    # measured alone, a part with one batch-made account has neither a burst nor a pair: nothing fires
    alone = [posts[k] for k in (0, 5, 7)]
    assert not evaluate(PostBatch.from_posts(alone), None, families=["batch_accounts"]).labels["batch_accounts"].any()


def test_evidence_measured_for_another_min_accounts_is_a_loud_error() -> None:
    posts = _feed()
    cols = columns_from(PostBatch.from_posts(posts))
    cols.accounts = AccountEvidence.measure(AccountTable.from_posts(PostBatch.from_posts(posts)), min_accounts=4)
    with pytest.raises(ConfigError, match="min_accounts=4.*min_accounts=3"):
        evaluate(cols, families=["batch_accounts"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.booleans()), min_size=1, max_size=25))
def test_the_evidence_measured_apart_is_the_evidence_measured_inside(picks: list[tuple[int, bool]]) -> None:
    # the batch detector measures every account's evidence while the clusters are found
    # (account_evidence) and gives it to the criteria: the same values and reasons as when the
    # criteria measure the batch themselves, whatever the posts, repeats and authorless posts
    base = _feed()
    posts = [
        replace(base[k], id=f"x{j}", author=f"x{j}" if lost else base[k].author, time=base[k].time + j)
        for j, (k, lost) in enumerate(picks)
    ]
    batch = PostBatch.from_posts(posts)
    inside = evaluate(batch, None, families=["batch_accounts"])
    cols = columns_from(batch)
    cols.accounts = account_evidence(cols)
    apart = evaluate(cols, families=["batch_accounts"])
    for name in ("BATCH_ACCOUNTS_ACCOUNT_BURST", "BATCH_ACCOUNTS_ACCOUNT_SIGN"):
        np.testing.assert_array_equal(apart.column(name), inside.column(name))
    assert apart.sentences() == inside.sentences()


def test_a_cluster_pushed_by_a_batch_lists_batch_accounts_on_the_batch_not_on_the_brand_it_pushed() -> None:
    # a brand posts its copy; six accounts made together, one name stem, empty profiles, push it
    copy = "TeaJoy anniversary sale: jasmine tea 50% off the second one, grab yours"
    brand = Post(id="o", text=copy, author="teajoy", time=T0, author_name="TeaJoy Official",
                 author_bio="Tea for every day", author_created=T0 - 900 * 86400, followers=52000, following=80)
    pushed = [
        Post(id=f"c{k}", text=copy, author=f"u{k}", time=T0 + 60 + 30 * k, author_name=f"teafan{k:04d}",
             author_bio="", author_created=T0 - 5 * 86400 + 7 * k, followers=3, following=400)
        for k in range(6)
    ]
    result = Detector().score([brand, *pushed])
    assert (result.clusters.labels == result.clusters.labels[0]).all()
    assert "batch_accounts" not in result.labels[0] and "mass_share" in result.labels[0]
    assert result.features["BATCH_ACCOUNTS_OWN_SIGNS"][0] == 0.0
    for k in range(1, 7):
        assert "batch_accounts" in result.labels[k]
        (reason,) = [r for r in result.reasons[k] if r.startswith("batch_accounts")]
        assert reason.startswith("batch_accounts: 86% of the cluster's 7 accounts have templated names (stem + digits)")
        assert "its account one of them (templated name, created close to another, empty profile, " \
               "follows like a bought account, under 30 days old)" in reason


def _pair(names: tuple[str, str], created_gap: float) -> list[Post]:
    """Two accounts made ``created_gap`` seconds apart (handles with no stem, bios filled in),
    each posting alone; and five ordinary accounts of :func:`_feed`."""
    made = [
        Post(id=f"t{k}", text=TEXTS[k], author=f"u{k}", time=T0 + 3600 * k, author_name=name,
             author_bio="每天分享好物", author_created=T0 - 7 * 86400 + created_gap * k, followers=17, following=40)
        for k, name in enumerate(names)
    ]
    return made + [post for post in _feed() if post.id.startswith("p")]


def test_two_accounts_a_tool_made_together_under_one_name_stem_list_batch_accounts() -> None:
    posts = _pair(("福利社5639", "福利社0829"), 20.0)
    result = Detector().score(posts)
    assert result.labels[0] == result.labels[1] == ["batch_accounts"]
    assert result.reasons[0] == [
        "batch_accounts: its account created 2024-09-03 00:00 UTC, 1 other accounts within 10 min; "
        "name '福利社5639' shares its stem with 1 other account created within 10 min of it"
    ]
    assert result.features["BATCH_ACCOUNTS_ACCOUNT_TWIN"].tolist()[:2] == [1.0, 1.0]
    assert not any(result.labels[2:])
    # spamflood accounts says the same of the accounts
    accounts = AccountScorer.load().score_accounts(AccountTable.from_posts(PostBatch.from_posts(posts)))
    assert [accounts.labels[k][:1] for k in range(2)] == [["batch_accounts"], ["batch_accounts"]]


@pytest.mark.parametrize(
    ("names", "gap"),
    [
        pytest.param(("福利社5639", "福利社0829"), 3600.0, id="one-stem-an-hour-apart"),
        pytest.param(("手机用户5639", "手机用户0829"), 20.0, id="a-platform-default-name-is-no-stem"),
        pytest.param(("福利社5639", "小美0829"), 20.0, id="two-stems-made-together"),
    ],
)
def test_a_pair_without_a_shared_stem_made_together_is_no_batch(names: tuple[str, str], gap: float) -> None:
    result = Detector().score(_pair(names, gap))
    assert not any("batch_accounts" in labels for labels in result.labels)
