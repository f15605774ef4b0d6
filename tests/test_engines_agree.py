"""Three engines, one decision: the batch detector, the stream monitor (memory and a real
redis-server) and Spark ``local[2]`` list the same labels with the same reasons.

The feed: three floods, each posted by more than ``min_authors`` accounts within the window
(plain copy; ad copy, on which ``soft_ad`` fires; festival copy a week before
Mid-Autumn 2024, on which ``holiday_template`` fires), among ordinary posts and one lone
self-promotion post (``fan_farming``, a family found from the registry like the others); and a
feed of accounts registered together, each posting alone, which lists ``batch_accounts`` from
each post's own account on the batch detector and Spark alike (the stream lists no
``batch_accounts``: it holds no feed of accounts to compare an account with). The batch
detector lists ``mass_share`` on every flood post whatever else it carries; the stream's
verdict on the post that completes a flood is the batch verdict on that post, and earlier
copies carry the counts so far; Spark gives the batch's labels and reasons on every post.

Coordinated groups (``coordinated``): a hashtag campaign whose every post is worded anew,
pushed by accounts in tight repeated waves, and a group co-retweeting the same originals
within seconds, among an organic trend on another hashtag; Spark finds the batch's groups
(labels, reasons and every ``COORDINATED_*`` value) through the API and the command line; the
stream on Redis gives the memory stream's verdict on every post, grows the batch's groups, and
gives each group's batch reason on its last post.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_coordination import BASE, campaign, organic_trend

from spamflood.detector import Detector
from spamflood.posts import Post
from spamflood.stream import FloodMonitor, Verdict

T0 = 1_725_926_400.0  # 2024-09-10 00:00 UTC: seven days before Mid-Autumn (17 September 2024)
MIN_AUTHORS = 5
ACCOUNTS = 7
PLAIN = "下班路上看到一只橘猫趴在邮筒上晒太阳，好可爱，拍了好多张照片"
AD = "限时抢购！加微信 abc123 领取优惠券，仅限今天，先到先得"
FESTIVAL = "【{brand}】祝您中秋快乐！月饼礼盒限时特惠¥{price}，全场8折，阖家团圆"
ORDINARY = [
    "今天天气不错，去公园散步看到很多人在放风筝",
    "After work I cycled around the lake, the cherry trees are blooming",
    "刚才带孩子去了博物馆，回来路上还下了一场小雨",
    "finished episode 18 of the new show, pretty satisfied, good night all",
    "周末打算把阳台的花重新种一遍，顺便整理一下书架",
    "Our team finally shipped the release after three long weeks",
]
FLOODS = ("plain", "ad", "festival")
BEGGING = "Subscribe to me if you like minecraft, I sub back!"


def _feed() -> list[Post]:
    """The three floods interleaved with ordinary posts, in time order: each flood's
    ``ACCOUNTS`` copies come a minute apart, all inside one hour."""
    posts: list[Post] = []
    t = T0
    for k in range(ACCOUNTS):
        texts = {
            "plain": PLAIN,
            "ad": AD,
            "festival": FESTIVAL.format(brand=("稻香村", "美心", "华美")[k % 3], price=88 + 10 * (k % 2)),
        }
        for flood in FLOODS:
            posts.append(Post(id=f"{flood}{k}", text=texts[flood], author=f"{flood}_acct{k}", time=t))
            t += 20.0
        posts.append(Post(id=f"o{k}", text=ORDINARY[k % len(ORDINARY)], author=f"person{k}", time=t))
        t += 5.0
    posts.append(Post(id="fan", text=BEGGING, author="kid", time=t))
    return posts


FEED = _feed()
LAST = {flood: f"{flood}{ACCOUNTS - 1}" for flood in FLOODS}


def _batch(model: bool) -> dict[str, tuple[list[str], list[str]]]:
    detector = Detector.load(min_authors=MIN_AUTHORS) if model else Detector(min_authors=MIN_AUTHORS)
    result = detector.score(FEED)
    return {r["id"]: (r["labels"], r["reasons"]) for r in result.records()}


@pytest.fixture(scope="module", params=["rules", "model"])
def scoring(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def batch(scoring: str) -> dict[str, tuple[list[str], list[str]]]:
    return _batch(scoring == "model")


def _monitor(scoring: str, **store: Any) -> FloodMonitor:
    if scoring == "model":
        return FloodMonitor.load(min_authors=MIN_AUTHORS, **store)
    return FloodMonitor(min_authors=MIN_AUTHORS, **store)


def test_the_batch_detector_lists_mass_share_on_every_flood_post(batch: dict[str, tuple[list[str], list[str]]]) -> None:
    for flood in FLOODS:
        posts = [p.id for p in FEED if p.id.startswith(flood)]
        assert len(posts) == ACCOUNTS
        assert all("mass_share" in batch[i][0] for i in posts), flood
    assert all(batch[f"ad{k}"][0].count("soft_ad") == 1 for k in range(ACCOUNTS))
    assert all("holiday_template" in batch[f"festival{k}"][0] for k in range(ACCOUNTS))
    assert all(not batch[f"o{k}"][0] for k in range(ACCOUNTS))  # the ordinary posts list nothing
    assert batch["fan"][0] == ["fan_farming"]
    expected = f"mass_share: {ACCOUNTS} near-identical posts from {ACCOUNTS} accounts within 6 min"
    assert all(expected in batch[p.id][1] for p in FEED if p.id.rstrip("0123456789") in FLOODS)


def _check_stream(verdicts: list[Verdict], batch: dict[str, tuple[list[str], list[str]]]) -> None:
    by_id = {v.id: v for v in verdicts}
    for flood in FLOODS:
        last = by_id[LAST[flood]]
        assert (list(last.labels), list(last.reasons)) == batch[LAST[flood]], flood
        assert last.flood and last.cluster_authors == ACCOUNTS
        for k in range(ACCOUNTS):  # before the last: the counts so far
            v = by_id[f"{flood}{k}"]
            assert v.cluster_authors == k + 1 and v.flood == (k + 1 >= MIN_AUTHORS)
            said = [r for r in v.reasons if r.startswith("mass_share:")]
            if v.flood:
                assert said and re.match(rf"mass_share: {k + 1} near-identical posts from {k + 1} accounts within", said[0])
            else:
                assert not said
    assert all(not by_id[f"o{k}"].labels for k in range(ACCOUNTS))
    assert (list(by_id["fan"].labels), list(by_id["fan"].reasons)) == batch["fan"]


def test_the_stream_in_memory_gives_the_batch_verdict_on_the_post_that_completes_each_flood(
    scoring: str, batch: dict[str, tuple[list[str], list[str]]]
) -> None:
    monitor = _monitor(scoring)
    verdicts = [monitor.add(p) for p in FEED]
    _check_stream(verdicts, batch)
    assert _monitor(scoring).add_many(FEED, batch_size=7) == verdicts


def test_the_stream_on_redis_gives_the_batch_verdict_on_the_post_that_completes_each_flood(
    scoring: str, batch: dict[str, tuple[list[str], list[str]]], redis_url: str
) -> None:
    monitor = _monitor(scoring, store=redis_url, key_prefix=f"agree-{scoring}")
    try:
        verdicts = monitor.add_many(FEED, batch_size=16)
    finally:
        monitor.close()
    _check_stream(verdicts, batch)
    assert verdicts == _monitor(scoring).add_many(FEED)  # memory and Redis agree on every post


def test_holiday_template_in_the_stream_counts_the_template_within_the_cluster_so_far() -> None:
    verdicts = FloodMonitor(min_authors=MIN_AUTHORS).add_many(FEED)
    said = {v.id: next(r for r in v.reasons if r.startswith("holiday_template:")) for v in verdicts if v.id.startswith("festival")}
    assert "the same festival template" not in said["festival1"]  # 2 accounts: below the rule's 3
    assert said["festival2"].endswith("the same festival template from 3 accounts (3 posts)")
    assert said["festival6"].endswith("the same festival template from 7 accounts (7 posts)")


# --------------------------------------------------------------------------------- Spark


def _scored_on_spark(spark: Any, path: Path, rows: list[dict[str, Any]], detector: Detector, row_group_size: int, **kwargs: Any) -> list[dict[str, Any]]:
    """``rows`` written to Parquet at ``path`` in row groups of ``row_group_size`` (several
    input parts), scored by the Spark engine on two partitions: its records, in feed order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spamflood.spark import score_dataframe

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    result = score_dataframe(spark, spark.read.parquet(str(path)), detector=detector, partitions=2, **kwargs)
    return [row.asDict(recursive=True) for row in result.scored.collect()]


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_gives_the_batch_labels_and_reasons_on_every_post(spark: Any, tmp_path: Path) -> None:
    records = [{"id": p.id, "text": p.text, "author": p.author, "time": p.time} for p in FEED]
    detector = Detector.load(min_authors=MIN_AUTHORS)
    expected = _batch(model=True)
    scored = _scored_on_spark(spark, tmp_path / "feed.parquet", records, detector, 8)
    got = {r["id"]: (r["labels"], r["reasons"]) for r in scored}
    assert got == expected


# --------------------------------------------------------- accounts made in a batch, posting alone

OWN_WORDS = [
    "读完了一本关于城市规划的书，第三章写得特别好",
    "The bakery on our corner finally reopened, the rye bread is back",
    "下午和同事打了一场羽毛球，输了两局但是很开心",
    "Spent the evening fixing the old bicycle, new chain and brakes",
    "妈妈寄来了家乡的腊肠，晚饭蒸了一盘，满屋都是香味",
    "Tried a new hiking trail this morning and saw two deer",
]


def _batch_made_accounts() -> list[dict[str, Any]]:
    """Six accounts registered 40 s apart two days before they post, handles from one stem and
    empty profiles, each posting one text of its own (no two alike: no cluster); among six
    ordinary accounts years old with a bio, also posting alone."""
    made = [
        {"id": f"m{k}", "text": ORDINARY[k], "author": f"shopgirl{k:03d}", "time": T0 + 3600 * k,
         "author_name": f"小美{k}", "author_bio": "", "author_created": T0 - 2 * 86400 + 40 * k,
         "followers": 3.0, "following": 12.0}
        for k in range(6)
    ]
    people = [
        {"id": f"q{k}", "text": OWN_WORDS[k], "author": f"reader_{chr(97 + k)}", "time": T0 + 3600 * k + 600,
         "author_name": f"Reader {chr(65 + k)}", "author_bio": "books, tea and long walks",
         "author_created": T0 - 400 * 86400 * (k + 1), "followers": 150.0 + k, "following": 90.0}
        for k in range(6)
    ]
    return [row for pair in zip(made, people) for row in pair]


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_batch_made_accounts_posting_alone_list_batch_accounts_alike_on_spark(spark: Any, tmp_path: Path) -> None:
    rows = _batch_made_accounts()
    detector = Detector(min_authors=MIN_AUTHORS)
    expected = detector.score(rows).records(features=True)
    for record in expected:
        assert record["cluster"] is None, record["id"]  # every post alone
        made = record["id"].startswith("m")
        assert ("batch_accounts" in record["labels"]) == made, record["id"]
        if made:
            assert record["features"]["BATCH_ACCOUNTS_ACCOUNT_BURST"] == 6
            assert record["features"]["BATCH_ACCOUNTS_ACCOUNT_SIGN"] == 1
            assert any(r.startswith("batch_accounts: its account created 2024-09-08 00:0") for r in record["reasons"])
    # two parts: no task holds all six accounts, yet each post is judged among the whole feed's
    got = _scored_on_spark(spark, tmp_path / "accounts.parquet", rows, detector, 3, features=True)
    assert got == expected  # the same labels, reasons, feature values and scores on every post


# ------------------------------------------------------------- a festival template signed by each brand

BRANDS = ["暖绒坊官方", "学霸通", "鲜果汇", "云朵家纺", "茶香阁", "好运来超市"]


def _signed_greetings() -> list[dict[str, Any]]:
    """Six brands post one Mid-Autumn greeting, each signed with its own display name, hours
    apart; and six people greet their families in words of their own."""
    brands = [
        {"id": f"b{k}", "text": f"中秋快乐！{name.removesuffix('官方')}祝您阖家团圆，月圆人圆事事圆", "author": f"brand{k}",
         "author_name": name, "time": T0 + 5400 * k}
        for k, name in enumerate(BRANDS)
    ]
    people = [
        {"id": f"p{k}", "text": text, "author": f"person{k}", "author_name": f"小{k}", "time": T0 + 5400 * k + 600}
        for k, text in enumerate(["祝爸妈中秋快乐，今年回不去了", "中秋节和室友一起做了月饼", "中秋快乐，月亮好圆",
                                  "中秋的晚上在阳台赏月", "给奶奶打电话说中秋快乐", "中秋放假三天去爬山"])
    ]
    return [row for pair in zip(brands, people) for row in pair]


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_a_festival_template_signed_by_each_brand_is_one_template_on_spark_as_in_batch(spark: Any, tmp_path: Path) -> None:
    rows = _signed_greetings()
    detector = Detector(min_authors=MIN_AUTHORS)
    expected = detector.score(rows).records(features=True)
    for record in expected:
        shared = record["features"]["HOLIDAY_TEMPLATE_SKELETON_SHARED"]
        assert shared == (6 if record["id"].startswith("b") else 1), record["id"]
    assert any("the same festival template from 6 accounts (6 posts)" in r for r in expected[0]["reasons"])
    # brands in different tasks: a skeleton keyed without the sender's name would split them
    got = _scored_on_spark(spark, tmp_path / "greetings.parquet", rows, detector, 3, features=True)
    assert got == expected


# ------------------------------------------------------------------- copies without an author

NEWS = "震惊！这款面霜用了三天皱纹全没了，点击链接了解详情 t.cn/A6abcd"


def _partial_feed(known: int) -> list[Post]:
    """Nine copies of one text a minute apart: ``known`` of them (every other one, the last
    among them) by distinct accounts, the others without an author (the reader gives such a
    post its own id as author); with four accounts the first two copies have none."""
    accounts = range(9 - 2 * known + 1, 9, 2)
    return [
        Post(id=f"n{k}", text=NEWS, author=f"acct{k}" if k in accounts else f"n{k}", time=T0 + 60.0 * k) for k in range(9)
    ]


@pytest.mark.parametrize("known", [MIN_AUTHORS, MIN_AUTHORS - 1])
def test_copies_without_an_author_count_in_the_cluster_but_as_no_account_on_every_engine(
    scoring: str, known: int, redis_url: str
) -> None:
    feed = _partial_feed(known)
    detector = Detector.load(min_authors=MIN_AUTHORS) if scoring == "model" else Detector(min_authors=MIN_AUTHORS)
    batch = {r["id"]: (r["labels"], r["reasons"]) for r in detector.score(feed).records()}
    flood = known >= MIN_AUTHORS
    assert all(("mass_share" in labels) == flood for labels, _ in batch.values())
    if flood:
        expected = f"mass_share: 9 near-identical posts from {known} accounts within 8 min"
        assert all(expected in reasons for _, reasons in batch.values())
    memory = _monitor(scoring).add_many(feed)
    redis_monitor = _monitor(scoring, store=redis_url, key_prefix=f"partial-{scoring}-{known}")
    try:
        on_redis = [redis_monitor.add(p) for p in feed]
    finally:
        redis_monitor.close()
    assert on_redis == memory
    last = memory[-1]
    assert (list(last.labels), list(last.reasons)) == batch[last.id]
    accounts = 0
    for p, v in zip(feed, memory):  # the counts so far: every copy in the size, accounts only
        accounts += p.author != p.id
        assert (v.cluster_size, v.cluster_authors) == (feed.index(p) + 1, accounts)
        assert v.author_copies == (1 if p.author != p.id else 0)
        assert ("mass_share" in v.labels) == (accounts >= MIN_AUTHORS)
        assert "repetition" not in v.labels


def test_the_model_reads_the_batch_cluster_features_on_the_post_that_completes_a_flood() -> None:
    # what the model scores must be what the batch gives it once the cluster is complete in the window
    rows = [
        {"id": f"c{k}", "text": "限时特价¥99，加V mask8899 抢购，仅限今天", "author": f"acct{k}", "time": T0 + 60 * k}
        for k in range(7)
    ]
    batch = Detector(min_authors=5).score(rows)
    seen: list[Any] = []
    with FloodMonitor(min_authors=5) as monitor:
        decide = monitor.decider.decide
        monitor.decider.decide = lambda findings, **kw: seen.append(findings) or decide(findings, **kw)  # type: ignore[method-assign]
        for row in rows:
            monitor.add(row)
    last = seen[-1]
    for name in ("MASS_SHARE_AUTHORS_IN_WINDOW", "MASS_SHARE_CLUSTER_SIZE", "MASS_SHARE_CLUSTER_ACCOUNTS", "MASS_SHARE_WINDOW_SHARE"):
        assert last.values[name][0] == batch.features[name][-1], name


# ------------------------------------------------------------------- coordinated groups


def _coordination_feed() -> list[Post]:
    """Seven accounts pushing one hashtag in five tight waves over 13 h (varied text), among
    300 people using another over a day (``tests/test_coordination.py``), in time order."""
    from test_coordination import campaign, organic_trend

    return sorted(campaign(7, 5) + organic_trend(), key=lambda p: (p.time, p.id))


def _accounts_said(reasons: list[str]) -> list[int]:
    return [int(re.search(r" from (\d+) accounts", r).group(1)) for r in reasons if r.startswith("coordinated:")]  # type: ignore[union-attr]


def test_the_stream_in_memory_finds_the_batch_groups_and_lists_coordinated_as_the_batch_on_the_last_wave(
    scoring: str,
) -> None:
    from spamflood.coordination import Coordination
    from spamflood.posts import PostBatch

    feed = _coordination_feed()
    detector = Detector.load(min_authors=MIN_AUTHORS) if scoring == "model" else Detector(min_authors=MIN_AUTHORS)
    result = detector.score(feed)
    batch = {r["id"]: (r["labels"], r["reasons"]) for r in result.records()}
    accounts = dict(zip((p.id for p in feed), result.features["COORDINATED_ACCOUNTS"]))
    monitor = _monitor(scoring, horizon="1d")
    verdicts = {v.id: v for v in monitor.add_many(feed)}
    # the same groups: the batch's connected components are the stream's once the feed is in
    found = Coordination(min_authors=MIN_AUTHORS).groups(PostBatch.from_posts(feed))
    names = PostBatch.from_posts(feed).author_codes()[1]
    expected = {frozenset(str(names[a]) for a in (found.group == g).nonzero()[0]) for g in range(len(found.accounts))}
    assert monitor.coposting is not None and set(monitor.coposting.groups()) == expected == {
        frozenset(f"bot{a}" for a in range(7))
    }
    last_wave = [p.id for p in feed if p.id.endswith("-4")]
    for post_id in last_wave:
        labels, reasons = batch[post_id]
        assert "coordinated" in labels and "coordinated" in verdicts[post_id].labels
        assert _accounts_said(list(verdicts[post_id].reasons)) == _accounts_said(reasons) == [int(accounts[post_id])] == [7]
    last = verdicts[last_wave[-1]]
    assert (list(last.labels), list(last.reasons)) == batch[last.id]
    assert not any("coordinated" in v.labels for v in verdicts.values() if v.id.startswith("o"))
    assert not any("coordinated" in batch[p.id][0] for p in feed if p.id.startswith("o"))


# ------------------------------------------------------------------ coordinated groups on Spark

CAMPAIGN = 7  # accounts pushing #BuyNow together, in 5 waves of seconds


def _coordinated_feed() -> list[Post]:
    """A hashtag campaign (varied text, ``CAMPAIGN`` accounts, 5 tight waves) with one copy
    whose author is unknown, five accounts retweeting four originals within seconds of each, and
    an organic trend (120 people on #WorldCup over a day), in time order."""
    posts = campaign(accounts=CAMPAIGN, bursts=5) + organic_trend(people=120)
    posts.append(Post(id="anon", text="join us #BuyNow now", author="anon", time=BASE + 10.0))  # no author: its own id
    for b in range(4):
        text = f"Storm update {b} https://news.example.com/s{b}"
        origin = Post(id=f"story{b}", text=text, author="paper", time=BASE + 9000 * b + 100)
        posts.append(origin)
        posts += [
            Post(id=f"rt{b}-{a}", text="RT", author=f"amp{a}", time=origin.time + 3 + a, repost_of=origin.id) for a in range(5)
        ]
    return sorted(posts, key=lambda p: (p.time, p.id))


COORDINATED_FEED = _coordinated_feed()
CAMPAIGN_REASON = (
    f"coordinated: #BuyNow from {CAMPAIGN} accounts, 35 posts in 13 h 24 min; 21 pairs co-posted within 60 s, median 5 times"
)
RETWEET_REASON = (
    "coordinated: repost of story0 (and 3 more objects) from 5 accounts, 20 posts in 7 h 30 min; "
    "10 pairs co-posted within 60 s, median 4 times"
)


def _records(posts: list[Post]) -> list[dict[str, Any]]:
    """The posts as rows, ``repost_of`` in every one (null in most: a column for Parquet)."""
    return [{"id": p.id, "text": p.text, "author": p.author, "time": p.time, "repost_of": p.repost_of} for p in posts]


def _coordinated_ids(records: list[dict[str, Any]]) -> dict[str, str]:
    """Each post listing ``coordinated``, with that label's reason."""
    return {r["id"]: r["reasons"][r["labels"].index("coordinated")] for r in records if "coordinated" in r["labels"]}


def _check_groups(coordinated: dict[str, str]) -> None:
    assert {i: r for i, r in coordinated.items() if i.startswith("bot")} == {
        p.id: CAMPAIGN_REASON for p in COORDINATED_FEED if p.id.startswith("bot")
    }
    assert {i: r for i, r in coordinated.items() if i.startswith("rt")} == {
        p.id: RETWEET_REASON for p in COORDINATED_FEED if p.id.startswith("rt")
    }
    assert set(coordinated) == {p.id for p in COORDINATED_FEED if p.id.startswith(("bot", "rt"))}  # no trend, original, anon


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_finds_the_batch_coordinated_groups_with_the_same_labels_reasons_and_values(spark: Any, tmp_path: Path) -> None:
    detector = Detector(min_authors=MIN_AUTHORS, interval="1min", min_coposts=3)
    expected = detector.score(COORDINATED_FEED).records(features=True)
    _check_groups(_coordinated_ids(expected))
    anon = next(r for r in expected if r["id"] == "anon")["features"]
    assert anon["COORDINATED_ACCOUNTS"] is None  # no author: unknown, not 0
    got = _scored_on_spark(spark, tmp_path / "feed.parquet", _records(COORDINATED_FEED), detector, 64, features=True)
    assert got == expected  # scores, labels, reasons and every feature, COORDINATED_* included


@pytest.mark.redis
def test_the_stream_on_redis_gives_the_memory_verdicts_and_the_batch_groups_on_a_campaign_a_retweet_ring_and_a_trend(
    scoring: str, redis_url: str
) -> None:
    from spamflood.coordination import Coordination
    from spamflood.posts import PostBatch

    memory = _monitor(scoring, horizon="1d")
    with _monitor(scoring, store=redis_url, key_prefix=f"coordinated-{scoring}", horizon="1d") as on_redis:
        assert "coordinated" in on_redis.families == memory.families
        verdicts = on_redis.add_many(COORDINATED_FEED)
        assert on_redis.coposting is not None and memory.coposting is not None
        grown = set(on_redis.coposting.groups())
    # every post: the same cluster, labels, reasons (coordinated's counts so far) and score
    assert verdicts == memory.add_many(COORDINATED_FEED)
    batch = PostBatch.from_posts(COORDINATED_FEED)
    found = Coordination(min_authors=MIN_AUTHORS).groups(batch)
    names = batch.author_codes()[1]
    expected = {frozenset(str(names[a]) for a in (found.group == g).nonzero()[0]) for g in range(len(found.accounts))}
    assert grown == set(memory.coposting.groups()) == expected == {
        frozenset(f"bot{a}" for a in range(CAMPAIGN)),
        frozenset(f"amp{a}" for a in range(5)),
    }
    coordinated = _coordinated_ids([{"id": v.id, "labels": list(v.labels), "reasons": list(v.reasons)} for v in verdicts])
    # each group's last post, once its group is complete, gives the batch reason
    last_bot = next(p.id for p in reversed(COORDINATED_FEED) if p.id.startswith("bot"))
    last_rt = next(p.id for p in reversed(COORDINATED_FEED) if p.id.startswith("rt"))
    assert (coordinated[last_bot], coordinated[last_rt]) == (CAMPAIGN_REASON, RETWEET_REASON)
    # and nothing the batch leaves out is flagged: not the trend, the originals or the post without an author
    assert set(coordinated) <= {p.id for p in COORDINATED_FEED if p.id.startswith(("bot", "rt"))}


@pytest.mark.redis
def test_the_stream_on_redis_gives_the_memory_verdicts_on_a_synthetic_day_with_coordinated_campaigns(
    redis_url: str, tmp_path: Path
) -> None:
    import json
    import shutil
    import subprocess

    script = shutil.which("spamflood")
    assert script is not None
    feed, truth = tmp_path / "feed.jsonl", tmp_path / "truth.jsonl"
    made = subprocess.run(
        [script, "synth", "--posts", "4000", "--days", "1", "--seed", "3", "-o", str(feed), "--truth", str(truth), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    rows = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    labelled = {r["id"]: r for r in map(json.loads, truth.read_text(encoding="utf-8").splitlines())}
    memory = FloodMonitor(window="1h").add_many(rows)
    with FloodMonitor(window="1h", store=redis_url, key_prefix="synth") as on_redis:
        assert on_redis.add_many(rows) == memory  # every post: cluster, labels, reasons, score
    flagged = [v.id for v in memory if "coordinated" in v.labels]
    campaign = {i for i, r in labelled.items() if "coordinated" in r["labels"]}
    trend = {i for i, r in labelled.items() if r["organic_kind"] == "hashtag_trend"}
    assert flagged and set(flagged) <= campaign and trend  # campaigns flagged as they form; no organic trend


@pytest.mark.parametrize(("interval", "min_coposts"), [("1min", 3), ("1min", 6), ("10s", 2), ("5min", 2)])
def test_the_spark_driver_finds_the_batch_groups_with_the_detector_interval_and_min_coposts(
    interval: str, min_coposts: int
) -> None:
    pytest.importorskip("pyspark", reason="spamflood.spark needs PySpark: pip install 'spamflood[spark]'")
    import pyarrow as pa

    from spamflood.coordination import objects_as_written
    from spamflood.spark.coordinated import group_posts

    detector = Detector(min_authors=MIN_AUTHORS, interval=interval, min_coposts=min_coposts)
    expected = detector.score(COORDINATED_FEED)
    objects = objects_as_written([p.text for p in COORDINATED_FEED])
    shipped = [(row, p, found) for row, (p, found) in enumerate(zip(COORDINATED_FEED, objects), start=1) if found or p.repost_of]
    collected = pa.table(  # what Spark collects to its driver, in another order
        {
            "row": [row for row, _, _ in shipped][::-1],
            "id": [p.id for _, p, _ in shipped][::-1],
            "author": [p.author for _, p, _ in shipped][::-1],
            "time": [p.time for _, p, _ in shipped][::-1],
            "objects": [found or None for _, _, found in shipped][::-1],
            "repost_of": [p.repost_of for _, p, _ in shipped][::-1],
        }
    )
    found = group_posts(collected, detector).to_pylist()
    names = [name for name in expected.features if name.startswith("COORDINATED_")]
    in_group = np.flatnonzero(expected.features["COORDINATED_ACCOUNTS"] > 0)
    assert [r["row"] for r in found] == (in_group + 1).tolist()
    assert [r["covals"] for r in found] == [[float(expected.features[n][i]) for n in names] for i in in_group]
    said = [next((s for s in expected.reasons[i] if s.startswith("coordinated:")), None) for i in in_group]
    assert [r["co_reason"] for r in found] == said
    listed = {i for i, labels in enumerate(expected.labels) if "coordinated" in labels}
    assert listed == {i for i, s in zip(in_group.tolist(), said) if s}
    if (interval, min_coposts) == ("1min", 6):  # five waves are five occasions: no group
        assert not found
    else:
        assert listed
