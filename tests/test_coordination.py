"""Coordination on shared objects: the same hashtag, link, mention or repost from accounts that
post it within the coordination interval, again and again (``spamflood.coordination``)."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood import Detector
from spamflood.coordination import (
    Coordination,
    PostObjects,
    _unique_pairs,
    normalize_url,
    objects_in,
    post_objects,
    text_objects,
)
from spamflood.errors import ConfigError
from spamflood.posts import Post, PostBatch

BASE = 1_767_225_600.0  # 2026-01-01 00:00 UTC, a multiple of the 60 s interval
WORDS = (
    "sunrise harbour violet engine copper meadow lantern quartz falcon orchard velvet tundra "
    "marble pepper glacier cobalt saffron willow ember canyon thistle pebble nimbus cedar "
    "juniper mosaic tango walnut lagoon prairie ripple summit basil dune fern opal"
).split()


def varied(r: random.Random, tag: str) -> str:
    """A sentence nobody else writes, carrying ``tag``: no two are near-duplicates."""
    return " ".join(r.sample(WORDS, 9)) + f" {tag}"


def campaign(accounts: int = 6, bursts: int = 5, tag: str = "#BuyNow", prefix: str = "bot") -> list[Post]:
    """``accounts`` accounts each posting ``tag`` (varied text) within 30 s, in ``bursts``
    bursts at irregular hours."""
    r = random.Random(f"{prefix}{accounts}{bursts}")
    posts = []
    for b in range(bursts):
        start = BASE + 60 * (37 * b * b + 53 * b)  # irregular gaps, each burst inside one minute
        for a in range(accounts):
            posts.append(Post(id=f"{prefix}{a}-{b}", text=varied(r, tag), author=f"{prefix}{a}", time=start + r.randrange(30)))
    return posts


def organic_trend(people: int = 300, tag: str = "#WorldCup") -> list[Post]:
    """``people`` accounts using one popular hashtag 1-3 times each, spread over a day."""
    r = random.Random(7)
    return [
        Post(id=f"o{p}-{k}", text=varied(r, tag), author=f"fan{p}", time=BASE + r.random() * 86400)
        for p in range(people)
        for k in range(r.randint(1, 3))
    ]


def news_with_retweets() -> list[Post]:
    news = Post(id="news", text="Storm reaches the coast tonight https://news.example.com/storm?utm_source=tw", author="paper", time=BASE)
    retweets = [Post(id=f"rt{i}", text="RT storm", author=f"reader{i}", time=BASE + 20 + 7 * i, repost_of="news") for i in range(5)]
    return [news, *retweets]


STORY = "https://news.example.com/bridge-opens"


def news_shared_by_readers_and_two_bots(readers: int = 40) -> list[Post]:
    """A viral story: ``readers`` ordinary accounts share its link in their own words within an
    hour, two of them also post #BuyNow once; bots 0 and 1 of :func:`campaign` share the link
    too, within the same minute (a co-post by chance, on a pair the campaign made an edge: the
    story breaks between its third and fourth bursts, when a stream holds the group already)."""
    r = random.Random(11)
    story = BASE + 60 * 300
    posts = [Post(id=f"read{k}", text=varied(r, STORY), author=f"reader{k}", time=story + r.random() * 3600) for k in range(readers)]
    posts += [Post(id=f"tag{k}", text=varied(r, "#BuyNow"), author=f"reader{k}", time=story + 7200 + 900 * k) for k in range(2)]
    posts += [Post(id=f"botnews{a}", text=varied(r, STORY), author=f"bot{a}", time=story + 600 + 20 * a) for a in range(2)]
    return posts


def labelled(posts: list[Post], **params) -> dict[str, list[str]]:
    """Each post's ``coordinated`` reason (empty where the label did not fire)."""
    batch = PostBatch.from_posts(posts)
    _values, fired, sentences = Coordination(**params).findings(batch)
    return {batch.ids[i]: [sentences[i]] if fired[i] else [] for i in range(len(batch))}


def test_a_campaign_on_one_hashtag_with_varied_text_is_coordinated_and_its_reason_names_the_evidence() -> None:
    found = labelled(campaign() + organic_trend())
    reasons = {found[p.id][0] for p in campaign()}
    assert reasons == {
        "coordinated: #BuyNow from 6 accounts, 30 posts in 13 h 24 min; 15 pairs co-posted within 60 s, median 5 times"
    }
    assert not any(found[p.id] for p in organic_trend())


def test_an_organic_trend_alone_is_not_coordinated() -> None:
    assert not any(labelled(organic_trend(people=600)).values())


def test_a_news_post_and_its_retweets_are_ordinary_sharing() -> None:
    assert not any(labelled(news_with_retweets()).values())


def test_a_tight_repeated_co_retweeting_group_is_coordinated() -> None:
    posts = []
    for b in range(4):  # four originals, each retweeted by the same five accounts within seconds
        origin = Post(id=f"n{b}", text=f"story {b}", author="paper", time=BASE + 7200 * b)
        posts.append(origin)
        posts += [
            Post(id=f"rt{b}-{a}", text="RT", author=f"amp{a}", time=BASE + 7200 * b + 5 + a, repost_of=origin.id) for a in range(5)
        ]
    found = labelled(posts)
    assert found["rt0-0"] == [
        "coordinated: repost of n0 (and 3 more objects) from 5 accounts, 20 posts in 6 h; "
        "10 pairs co-posted within 60 s, median 4 times"
    ]
    assert not found["n0"]  # the original is the object, not a co-post


def test_a_story_two_group_accounts_share_by_chance_is_not_the_groups_object() -> None:
    """The story's link is co-posted by one of the group's 15 edges (bots 0 and 1, once): not
    ``min_overlap`` (a tenth) of them, so the bots' shares of it are theirs, not the group's;
    the group's reason and counts are its tag's alone."""
    posts = campaign() + news_shared_by_readers_and_two_bots() + organic_trend(people=100)
    found = labelled(posts)
    assert {found[p.id][0] for p in campaign()} == {
        "coordinated: #BuyNow from 6 accounts, 30 posts in 13 h 24 min; 15 pairs co-posted within 60 s, median 5 times"
    }
    assert not found["botnews0"] and not found["botnews1"]
    assert not any(found[p.id] for p in posts if p.author.startswith(("reader", "fan")))
    groups = Coordination().groups(PostBatch.from_posts(posts))
    assert (len(groups), groups.object_names, groups.posts.tolist()) == (1, [["#BuyNow"]], [30])


def test_a_link_the_group_pushes_in_one_wave_is_its_object_beside_its_tag() -> None:
    """Five of the six bots push a link in one burst beside the tag: ten of the 15 edges co-post
    it, so it is the group's (a campaign that rotates its links keeps them)."""
    posts = campaign()
    r = random.Random(5)
    posts += [Post(id=f"push{a}", text=varied(r, "https://shop.example.com/new"), author=f"bot{a}", time=BASE + 60 * 150 + a) for a in range(5)]
    found = labelled(posts)
    assert all(found[f"push{a}"] for a in range(5))
    assert found["push0"][0].startswith("coordinated: #BuyNow (and 1 more object) from 6 accounts, 35 posts")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.sampled_from(["#a", "#b", "#a #b", "@c", "#a @c"])), min_size=2, max_size=60),
       st.sampled_from([0.0, 0.1, 0.6, 1.0]))
def test_every_group_has_an_object_and_posts_of_it_by_two_of_its_accounts(rows: list[tuple[int, int, str]], overlap: float) -> None:
    """Whatever share of its edges ``min_overlap`` asks of an object, the one most of them
    co-posted is the group's: no group is left without objects or posts."""
    posts = [Post(id=f"p{i}", text=f"x {text}", author=f"u{a}", time=BASE + 20.0 * t) for i, (a, t, text) in enumerate(rows)]
    batch = PostBatch.from_posts(posts)
    found = Coordination(min_coposts=2, min_overlap=overlap).groups(batch)
    account = batch.author_codes()[0]
    for k, members in enumerate(found.members()):
        assert found.object_names[k] and found.top[k] == found.object_names[k][0]
        assert len(set(account[members].tolist())) >= 2 and found.posts[k] == len(members)


def test_the_same_link_written_with_tracking_parameters_or_www_is_one_object() -> None:
    r = random.Random(3)
    links = ("https://shop.example.com/deal?utm_source=a", "http://www.shop.example.com/deal/", "https://shop.example.com/deal#x")
    posts = [
        Post(id=f"l{a}-{b}", text=varied(r, links[(a + b) % 3]), author=f"acc{a}", time=BASE + 3600 * b + 60 * (b % 2) + a)
        for a in range(5)
        for b in range(4)
    ]
    found = labelled(posts)
    assert all(found[p.id] and found[p.id][0].startswith("coordinated: shop.example.com/deal from 5 accounts") for p in posts)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Example.com/a/?utm_source=x&id=3#top", "example.com/a?id=3"),
        ("http://example.com/a?b=2&a=1&fbclid=zz", "example.com/a?a=1&b=2"),
        ("https://bit.ly/AbC12", "bit.ly/AbC12"),
        ("https://bitly.com/AbC12", "bit.ly/AbC12"),
        ("https://youtu.be/dQw4w9", "youtube.com/watch?v=dQw4w9"),
        ("https://example.com/x).", "example.com/x"),
    ],
    ids=["tracking-www-fragment", "sorted-query", "short-code-keeps-case", "shortener-alias", "youtu.be", "trailing-punctuation"],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_objects_of_posts() -> None:
    texts = ["mail me at ann@example.com", "#春节快乐# 大家好 #Tea", "&#39; #1 ok", "Hi ＠Ann and @ann", "plain"]
    found = post_objects(texts, [None, None, None, None, "p1"])
    got = sorted((int(p), found.names[c], found.shown[c]) for p, c in zip(found.post, found.code))
    assert got == [(1, "#tea", "#Tea"), (1, "#春节快乐", "#春节快乐"), (3, "@ann", "@Ann"), (4, "repost of p1", "repost of p1")]


def test_a_link_with_nothing_after_its_scheme_is_no_object() -> None:
    # 'http://#' normalizes to nothing: it used to stop the whole batch with an IndexError
    found = post_objects(["see http://# and http://. then #Tea", "http://?utm_source=x"], [None, None])
    assert [(int(p), found.names[c]) for p, c in zip(found.post, found.code)] == [(0, "#tea")]
    assert Detector().score([Post(id="a", text="see http://#", author="x", time=BASE)]).labels == [[]]


@settings(max_examples=25, deadline=None)
@given(extra=st.integers(0, 6), joins=st.lists(st.booleans(), min_size=5, max_size=5))
def test_more_co_posting_accounts_never_remove_the_label(extra: int, joins: list[bool]) -> None:
    base = campaign()
    r = random.Random(extra)
    more = [
        Post(id=f"x{a}-{b}", text=varied(r, "#BuyNow"), author=f"extra{a}", time=BASE + 60 * (37 * b * b + 53 * b) + r.randrange(30))
        for a in range(extra)
        for b in range(5)
        if joins[b]
    ]
    found = labelled(base + more)
    assert all(found[p.id] for p in base)


@settings(max_examples=25, deadline=None)
@given(missing=st.lists(st.sampled_from(["author", "time", "none"]), min_size=30, max_size=30))
def test_posts_without_an_author_or_a_time_never_coordinate(missing: list[str]) -> None:
    posts = [
        Post(id=p.id, text=p.text, author=p.id if how == "author" else p.author, time=math.nan if how == "time" else p.time)
        for p, how in zip(campaign(), missing)
    ]
    batch = PostBatch.from_posts(posts)
    values, fired, _ = Coordination().findings(batch)
    gone = np.array([how != "none" for how in missing])
    assert not fired[gone].any()
    assert np.isnan(values["COORDINATED_ACCOUNTS"][gone]).all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"interval": 0}, "'interval' parameter of Coordination"),
        ({"min_coposts": 1}, "'min_coposts' parameter of Coordination"),
        ({"min_authors": 1}, "'min_authors' parameter of Coordination"),
    ],
    ids=["interval", "min_coposts", "min_authors"],
)
def test_bad_parameters_are_refused(params: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Coordination(**params)


def test_the_detector_interval_and_min_coposts_reach_the_groups() -> None:
    posts = campaign() + organic_trend()
    assert sum("coordinated" in ls for ls in Detector().score(posts).labels) == 30
    assert sum("coordinated" in ls for ls in Detector(min_coposts=6).score(posts).labels) == 0  # 5 occasions a pair
    tight = Detector(interval="10s").score(posts)
    reasons = {r for rs in tight.reasons for r in rs if r.startswith("coordinated")}
    assert len(reasons) == 1 and "co-posted within 10 s" in reasons.pop()


def test_the_result_keeps_each_group_with_its_objects_accounts_and_posts() -> None:
    pushed, small = campaign(), campaign(accounts=3, tag="https://shop.example.com/deal?utm_source=a", prefix="few")
    result = Detector().score(pushed + small + organic_trend())
    assert result.groups is not None and len(result.groups) == 2
    by_account = {r["accounts"]: r for r in result.group_records()}
    assert [r["accounts"] for r in result.group_records()] == [6, 3]  # labelled first
    big, tied = by_account[6], by_account[3]
    assert (big["coordinated"], big["objects"], big["account_ids"]) == (True, ["#BuyNow"], [f"bot{a}" for a in range(6)])
    assert big["post_ids"] == [p.id for p in pushed] and (big["pairs"], big["median_coposts"], big["posts"]) == (15, 5.0, 30)
    assert big["reason"] is not None and big["reason"].startswith("coordinated: #BuyNow from 6 accounts")
    # three accounts tie on the link (normalized), but are fewer than min_authors: no label
    assert (tied["coordinated"], tied["objects"], tied["reason"]) == (False, ["shop.example.com/deal"], None)
    assert [r["accounts"] for r in result.group_records(coordinated_only=True)] == [6]
    members = result.groups.members()
    k = big["group"]
    assert [result.batch.ids[i] for i in members[k]] == big["post_ids"] and result.coordinated_ids == [k]


def test_the_bundled_model_flags_a_coordinated_post_it_reads_no_feature_of() -> None:
    result = Detector.load().score(campaign() + organic_trend() + news_with_retweets())
    rows = [i for i, ls in enumerate(result.labels) if "coordinated" in ls]
    assert len(rows) == 30 and result.flagged[rows].all()
    ids = np.array(result.batch.ids)
    assert not any("coordinated" in result.labels[i] for i in np.flatnonzero(~np.isin(ids, [p.id for p in campaign()])))


@pytest.mark.parametrize("entry", ["module", "script"])
def test_the_cli_lists_coordinated_with_its_reason(tmp_path, entry: str) -> None:
    feed = tmp_path / "feed.jsonl"
    posts = campaign() + organic_trend(people=40)
    feed.write_text("".join(json.dumps({"id": p.id, "text": p.text, "author": p.author, "time": p.time}) + "\n" for p in posts))
    command = [sys.executable, "-m", "spamflood"] if entry == "module" else [shutil.which("spamflood")]
    proc = subprocess.run([*command, "score", str(feed), "-o", str(tmp_path / "out.jsonl"), "--rules", "-q"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = {row["id"]: row for row in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    bot = rows["bot0-0"]
    assert "coordinated" in bot["labels"] and bot["flagged"]
    assert any(r.startswith("coordinated: #BuyNow from 6 accounts, 30 posts") for r in bot["reasons"])
    assert not any("coordinated" in row["labels"] for k, row in rows.items() if k.startswith("o"))


@pytest.mark.parametrize(
    ("options", "coordinated"),
    [([], 30), (["--min-coposts", "6"], 0), (["--interval", "5s"], 0), (["--interval", "2min", "--min-coposts", "5"], 30)],
)
def test_the_cli_interval_and_min_coposts_set_what_makes_a_group(tmp_path, options: list[str], coordinated: int) -> None:
    """The campaign's six accounts post within 30 s of each other in five bursts: five
    occasions per pair at a 1 min interval; none at 5 s slots; fewer than the six asked for."""
    feed = tmp_path / "feed.jsonl"
    posts = campaign() + organic_trend(people=40)
    feed.write_text("".join(json.dumps({"id": p.id, "text": p.text, "author": p.author, "time": p.time}) + "\n" for p in posts))
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "spamflood", "score", str(feed), "-o", str(out), "--rules", "-q", *options],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum("coordinated" in row["labels"] for row in rows) == coordinated


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--interval", "0"], "argument --interval: must be a positive duration"), (["--min-coposts", "1"], "argument --min-coposts: must be at least 2")],
)
def test_the_cli_refuses_an_interval_or_min_coposts_that_cannot_be(tmp_path, options: list[str], message: str) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "text": "hi #tag", "author": "x", "time": BASE}) + "\n")
    proc = subprocess.run([shutil.which("spamflood"), "score", str(feed), "-o", str(tmp_path / "out.jsonl"), *options],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "out.jsonl").exists()


TOKENS = st.sampled_from(
    ["#Tea", "#tea", "＃Tea", "#话题#", "#39", "#", "@Ann", "ann@mail.com", "&#39;", "https://www.Ex.com/a/?utm_source=x&b=2",
     "http://ex.com/a?b=2#top", "youtu.be/abc", "https://youtu.be/abc", "bit.ly/X", "word", "，", "\n", "x#tag", "@@b"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(TOKENS, max_size=8).map(" ".join), min_size=1, max_size=5),
    st.lists(st.sampled_from([None, "p1", "p2"]), min_size=5, max_size=5),
)
def test_one_post_alone_has_the_objects_the_batch_finds_in_it(texts: list[str], reposts: list[str | None]) -> None:
    # the stream reads each post alone (objects_in), the batch all at once (post_objects)
    reposts = reposts[: len(texts)]
    together = post_objects(texts, reposts)
    for i, (text, repost) in enumerate(zip(texts, reposts)):
        alone = objects_in(text, repost)
        assert set(alone) == {together.names[c] for p, c in zip(together.post, together.code) if p == i}
        one = post_objects([text], [repost])
        assert alone == {one.names[c]: one.shown[c] for c in one.code}  # names, as shown, in order


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(TOKENS, max_size=8).map(" ".join), min_size=1, max_size=12),
    st.lists(st.sampled_from([None, "p1", "p2"]), min_size=12, max_size=12),
    st.lists(st.integers(1, 11), max_size=4),
)
def test_objects_found_chunk_by_chunk_are_the_objects_of_the_whole_batch(
    texts: list[str], reposts: list[str | None], cuts: list[int]
) -> None:
    # the detector's workers find each chunk's objects (text_objects); joined, they are the batch's
    reposts = reposts[: len(texts)]
    bounds = sorted({0, len(texts), *(c for c in cuts if c < len(texts))})
    parts = [text_objects(texts[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    joined = PostObjects.join(parts, [b - a for a, b in zip(bounds[:-1], bounds[1:])], reposts)
    whole = post_objects(texts, reposts)
    assert (joined.post.tolist(), joined.code.tolist()) == (whole.post.tolist(), whole.code.tolist())
    assert (joined.names, joined.shown) == (whole.names, whole.shown)


def test_the_workers_objects_give_the_groups_the_batch_finds_alone(tmp_path) -> None:
    # a JSONL file with two jobs and small chunks: the chunks' objects, joined, give the same
    # groups and reasons as the batch scored in one piece; a repeated id drops the chunks'
    # objects (numbered over posts that are not kept) and the groups are found again
    posts = campaign() + organic_trend(people=60) + news_with_retweets()
    feed = tmp_path / "feed.jsonl"
    rows = [json.dumps({"id": p.id, "text": p.text, "author": p.author, "time": p.time, "repost_of": p.repost_of}) + "\n" for p in posts]
    feed.write_text("".join(rows))
    alone = labelled(posts)
    for path in (feed, tmp_path / "repeated.jsonl"):
        if path.name == "repeated.jsonl":
            path.write_text("".join(rows) + rows[3])
        result = Detector(n_jobs=2, chunk_rows=40).score(str(path))
        got = {i: [r for r in rs if r.startswith("coordinated")] for i, rs in zip(result.batch.ids, result.reasons)}
        assert got == alone


def test_without_coordination_no_group_is_looked_for_and_its_features_are_missing(tmp_path) -> None:
    posts = campaign() + organic_trend(people=40)
    result = Detector(coordinated=False).score(posts)
    assert result.groups is None and not any("coordinated" in ls for ls in result.labels)
    assert np.isnan(result.features["COORDINATED_ACCOUNTS"]).all()
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": p.id, "text": p.text, "author": p.author, "time": p.time}) + "\n" for p in posts))
    proc = subprocess.run(
        [sys.executable, "-m", "spamflood", "score", str(feed), "-o", str(tmp_path / "out.jsonl"), "--rules", "-q", "--no-coordination"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == len(posts) and not any("coordinated" in row["labels"] for row in rows)


def test_the_detector_refuses_a_coordinated_switch_that_is_not_a_bool() -> None:
    with pytest.raises(ConfigError, match="'coordinated' parameter of Detector"):
        Detector(coordinated="no")


_INT64 = st.integers(min_value=-(2**62), max_value=2**62)


@given(
    st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), max_size=60)
    | st.lists(st.tuples(_INT64, _INT64), max_size=12)
)
def test_unique_pairs_are_the_distinct_rows_in_lexicographic_order(pairs: list[tuple[int, int]]) -> None:
    """One int64 key per pair where they fit, rows sorted as records where not (pairs spanning
    2**62): either way exactly ``np.unique(np.stack([a, b]), axis=1)``."""
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    got = _unique_pairs(a, b)
    expected = sorted(set(pairs))
    assert got[0].tolist() == [p[0] for p in expected]
    assert got[1].tolist() == [p[1] for p in expected]
