"""A label whose inputs are absent is never listed, and its features are missing (NaN), not 0.

One feed on which every input-hungry label fires (a scheduler posting morning copy at one
minute, a festival template shared by several shops, a cluster of bought accounts) is scored
again without times, without authors, without account fields and without clusters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.criteria import evaluate, reasons
from spamflood.posts import Post, PostBatch

DAY = 86400.0
START = datetime(2026, 9, 20, 7, 0, 5, tzinfo=UTC).timestamp()  # five days before Mid-Autumn 2026
FAMILIES = ["batch_accounts", "auto_posting", "chicken_soup", "holiday_template"]


def _feed() -> list[dict]:
    rows = [{"text": "早安！每一天都充满正能量", "author": "soupbot", "time": START + d * DAY} for d in range(6)]
    for k, brand in enumerate(["小米", "华为", "格力", "美的"]):
        rows.append({"text": f"【{brand}】祝您中秋快乐，阖家团圆！", "author": f"shop{k}", "time": START + 3600.0 * k})
    for k in range(5):
        rows.append(
            {
                "text": "今天天气不错",
                "author": f"u{k}",
                "time": START + 7200.0 + k,
                "author_name": f"lucky_shop{1000 + k}",
                "author_bio": "",
                "author_created": START - 9 * DAY + 60.0 * k,
                "followers": 2.0,
                "following": 900.0,
            }
        )
    return rows


CLUSTERS = [-1] * 10 + [0] * 5


def _batch(rows: list[dict], drop: str) -> PostBatch:
    posts = []
    for i, row in enumerate(rows):
        row = dict(row)
        if drop == "times":
            row["time"] = float("nan")
        if drop == "authors":
            row["author"] = f"p{i}"  # what a reader gives a post without an author: its own id
        if drop == "account fields":
            for name in ("author_name", "author_bio", "author_created", "followers", "following"):
                row.pop(name, None)
        posts.append(Post(id=f"p{i}", **row))
    return PostBatch.from_posts(posts)


def _evaluate(drop: str):
    clusters = None if drop == "clusters" else CLUSTERS
    return evaluate(_batch(_feed(), drop), clusters, families=FAMILIES)


def test_on_the_whole_feed_every_one_of_these_labels_fires() -> None:
    ev = _evaluate("nothing")
    fired = {label for label, column in ev.labels.items() if column.any()}
    assert fired == {"batch_accounts", "auto_posting", "chicken_soup", "holiday_template"}
    said = ev.sentences()
    assert said["chicken_soup"][0] == "chicken_soup: inspirational post at 07:00 UTC on 6 days"
    assert said["auto_posting"][0] == "auto_posting: account soupbot posts at near-constant gaps (variation 0%); its gaps vary by 0 s"
    assert said["holiday_template"][6] == (
        'holiday_template: "中秋" 5 days before Mid-Autumn Festival (2026-09-25); the same festival template from 4 accounts (4 posts)'
    )
    assert said["batch_accounts"][10].startswith("batch_accounts: 100% of the cluster's 5 accounts have templated names")


@pytest.mark.parametrize(
    ("drop", "label", "missing"),
    [
        pytest.param("account fields", "batch_accounts", ["BATCH_ACCOUNTS_NAME_TEMPLATE", "BATCH_ACCOUNTS_CREATED_CLOSE",
                     "BATCH_ACCOUNTS_EMPTY_PROFILE", "BATCH_ACCOUNTS_FOLLOW_RATIO", "BATCH_ACCOUNTS_YOUNG",
                     "BATCH_ACCOUNTS_ACCOUNT_BURST"], id="batch_accounts-no-account-fields"),
        pytest.param("authors", "batch_accounts", ["BATCH_ACCOUNTS_ACCOUNTS", "BATCH_ACCOUNTS_NAME_TEMPLATE",
                     "BATCH_ACCOUNTS_ACCOUNT_BURST", "BATCH_ACCOUNTS_ACCOUNT_SIGN"], id="batch_accounts-no-authors"),
        pytest.param("clusters", "batch_accounts", ["BATCH_ACCOUNTS_ACCOUNTS", "BATCH_ACCOUNTS_NAME_TEMPLATE"], id="batch_accounts-no-clusters"),
        pytest.param("times", "batch_accounts", ["BATCH_ACCOUNTS_YOUNG"], id="batch_accounts-no-times-fires-on-the-rest"),
        pytest.param("times", "auto_posting", ["AUTO_POSTING_POSTS", "AUTO_POSTING_GAP_CV", "AUTO_POSTING_GAP_SPREAD", "AUTO_POSTING_ZERO_SECONDS",
                     "AUTO_POSTING_ON_THE_MINUTE", "AUTO_POSTING_ROUND_MINUTE", "AUTO_POSTING_DAILY_PEAK"], id="auto_posting-no-times"),
        pytest.param("authors", "auto_posting", ["AUTO_POSTING_POSTS", "AUTO_POSTING_GAP_CV", "AUTO_POSTING_GAP_SPREAD", "AUTO_POSTING_ZERO_SECONDS",
                     "AUTO_POSTING_ON_THE_MINUTE", "AUTO_POSTING_ROUND_MINUTE", "AUTO_POSTING_DAILY_PEAK"], id="auto_posting-no-authors"),
        pytest.param("times", "chicken_soup", ["CHICKEN_SOUP_FIXED_TIME"], id="chicken_soup-no-times"),
        pytest.param("authors", "chicken_soup", ["CHICKEN_SOUP_FIXED_TIME"], id="chicken_soup-no-authors"),
        pytest.param("times", "holiday_template", ["HOLIDAY_TEMPLATE_DAYS_TO"], id="holiday_template-no-times-fires-on-the-rest"),
        pytest.param("authors", "holiday_template", ["HOLIDAY_TEMPLATE_SKELETON_SHARED"], id="holiday_template-no-authors"),
    ],
)
def test_without_its_inputs_a_label_is_never_listed_and_its_features_are_missing(drop, label, missing) -> None:
    ev = _evaluate(drop)
    for name in missing:
        assert np.isnan(ev.column(name)).all(), name
    if drop == "times" and label in ("batch_accounts", "holiday_template"):
        # an account's age and the days to a festival need the time; the label's other evidence stands
        said = ev.sentences()[label]
        assert set(said) == set(np.flatnonzero(_evaluate("nothing").labels[label]).tolist())
        assert not any("days old" in s or "days before" in s for s in said.values())
        return
    if drop == "clusters" and label == "batch_accounts":
        # without clusters only the post's own account is judged: its rule needs no cluster
        said = ev.sentences()[label]
        assert said and all(s.startswith("batch_accounts: its account created ") for s in said.values())
        return
    assert not ev.labels[label].any()
    assert label not in ev.sentences()
    assert not any(r.startswith(label) for items in ev.evidence for r in reasons(items))


def test_a_post_without_an_author_is_no_account_among_posts_with_authors() -> None:
    rows = _feed()
    rows[0]["author"] = "p0"  # the first morning post lost its author: the bot has 5 posts left
    rows[9]["author"] = "p9"  # one festival shop lost its author: 3 accounts share the template
    rows[14]["author"] = "p14"  # one clustered account lost its author: 4 accounts in the cluster
    ev = evaluate(_batch(rows, "nothing"), CLUSTERS, families=FAMILIES)
    assert np.isnan(ev.column("AUTO_POSTING_POSTS")[0]) and ev.column("AUTO_POSTING_POSTS")[1] == 5.0
    assert np.isnan(ev.column("CHICKEN_SOUP_FIXED_TIME")[0]) and ev.column("CHICKEN_SOUP_FIXED_TIME")[1] == 5.0
    assert ev.column("HOLIDAY_TEMPLATE_SKELETON_SHARED")[6:10].tolist() == [3.0] * 4
    assert ev.column("BATCH_ACCOUNTS_ACCOUNTS")[10:15].tolist() == [4.0] * 5
    assert ev.labels["auto_posting"][:6].tolist() == [0.0] + [1.0] * 5


def test_posts_of_a_frame_without_an_author_are_no_accounts_not_one_account() -> None:
    pd = pytest.importorskip("pandas")
    # the same morning copy from six posts without an author: no account posted it six times
    frame = pd.DataFrame({"text": ["早安！每一天都充满正能量"] * 6, "author": [None] * 6, "time": [START + d * DAY for d in range(6)]})
    ev = evaluate(frame, families=["auto_posting", "chicken_soup"])
    assert np.isnan(ev.column("AUTO_POSTING_GAP_CV")).all() and np.isnan(ev.column("CHICKEN_SOUP_FIXED_TIME")).all()
    assert not ev.labels["auto_posting"].any() and not ev.labels["chicken_soup"].any()


# ----------------------------------------------------------------------------- any feed

COPY = [
    "限时特价¥99，加V抢购",
    "早安！每一天都充满正能量",
    "【小米】祝您中秋快乐，阖家团圆！全场8折",
    "【华为】祝您中秋快乐，阖家团圆！",
    "雾霾来袭！防霾口罩限时特价¥39",
    "宝妈在家月入过万，诚招代理，加微信",
    "抢购 bit.ly/AbC12 限时 WeChat",
    "https://x.com/item/13812345678",
    "Call 09061701461 now to claim your £900 prize",
    "今天天气不错",
]
ACCOUNT_FIELDS = {
    "author_name": st.sampled_from(["lucky_shop1001", "lucky_shop1002", "Ann", "雪儿"]),
    "author_bio": st.sampled_from(["", "teacher", "爱猫"]),
    "author_created": st.floats(START - 400 * DAY, START),
    "followers": st.sampled_from([2.0, 300.0]),
    "following": st.sampled_from([900.0, 200.0]),
}
NEEDS = {  # a feature's kind -> what it reads besides the text
    "cadence": ("authors", "times"),
    "calendar": ("times",),
    "account": ("authors", "clusters"),
    "profile": ("authors",),
    "cluster": ("authors",),
}
_QUOTED = re.compile(r'"([^"]+)"')


@st.composite
def _feeds(draw):
    has = {name: draw(st.booleans()) for name in ("authors", "times", "account fields", "clusters")}
    n = draw(st.integers(1, 14))
    rows = []
    for i in range(n):
        row = {"text": draw(st.sampled_from(COPY)), "author": f"p{i}", "time": float("nan")}
        if has["authors"] and draw(st.integers(0, 5)):  # now and then a post without one
            row["author"] = draw(st.sampled_from(["a", "b", "c", "d"]))
        if has["times"]:
            row["time"] = START + 60.0 * draw(st.integers(0, 7 * 1440)) + draw(st.sampled_from([0.0, 17.0]))
        if has["account fields"]:
            row.update({name: draw(strategy) for name, strategy in ACCOUNT_FIELDS.items()})
        rows.append(row)
    clusters = [draw(st.sampled_from([-1, 0, 1])) for _ in range(n)] if has["clusters"] else None
    return rows, clusters, has


@settings(max_examples=60, deadline=None)
@given(_feeds())
def test_on_any_feed_a_listed_label_quotes_what_is_there_and_needs_nothing_absent(feed) -> None:
    from spamflood.criteria import COMPUTED_HERE, FEATURES

    rows, clusters, has = feed
    batch = PostBatch.from_posts(Post(id=f"p{i}", **row) for i, row in enumerate(rows))
    ev = evaluate(batch, clusters, families=list(COMPUTED_HERE))
    authors = has["authors"] and any(r["author"] != f"p{i}" for i, r in enumerate(rows))
    present = {"authors": authors, "times": has["times"], "clusters": has["clusters"]}
    for name in ev.names:
        if any(not present[need] for need in NEEDS.get(FEATURES[name].kind, ())):
            assert np.isnan(ev.column(name)).all(), name
    if not (authors and has["times"]):
        assert not ev.labels["auto_posting"].any()
    if not (authors and has["account fields"]):  # without clusters, its own account's rule can fire
        assert not ev.labels["batch_accounts"].any()
    said = ev.sentences()
    for label, column in ev.labels.items():
        for i in np.flatnonzero(column).tolist():
            sentence = said[label][i]  # every listed label has its reason
            quotes = _QUOTED.findall(sentence)
            assert all(q in rows[i]["text"] for q in quotes), (sentence, rows[i]["text"])
            assert quotes or re.search(r"\d", sentence), sentence  # else a number or a count


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "p0", "p1", ""]), st.sampled_from(["p0", "p1", "p2", "p3"])), max_size=12))
def test_a_batch_numbers_its_accounts_by_their_first_post_with_an_author(rows: list[tuple[str, str]]) -> None:
    # an author that is the post's own id (or empty) is no account there, though the same
    # string may be another post's account; codes are computed once and read by every stage
    feed = [Post(id=pid if author == pid else f"{pid}-{k}", text="x", author=author, time=START + k) for k, (author, pid) in enumerate(rows)]
    batch = PostBatch.from_posts(feed)
    expected: dict[str, int] = {}
    codes = [
        -1 if author in ("", post_id) else expected.setdefault(author, len(expected))
        for author, post_id in zip(batch.authors, batch.ids)
    ]
    assert batch.account_codes().tolist() == codes
    assert batch.account_codes() is batch.account_codes()
    posts = evaluate(batch, families=["auto_posting"]).column("AUTO_POSTING_POSTS") if rows else np.zeros(0)
    assert [None if np.isnan(v) else int(v) for v in posts] == [None if c < 0 else codes.count(c) for c in codes]
