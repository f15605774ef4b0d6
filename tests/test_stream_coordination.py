"""``coordinated`` on a live stream: the account network of :mod:`spamflood.coordination`,
grown one post at a time by the FloodMonitor (:mod:`spamflood.stream.coposting`), in memory
or in a real redis-server shared by several monitors (:mod:`spamflood.stream.redis_coposting`)."""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis_server import RedisServer
from test_coordination import BASE, campaign, news_shared_by_readers_and_two_bots, organic_trend, varied

from spamflood import Detector
from spamflood.posts import Post
from spamflood.stream import FloodMonitor, Verdict
from spamflood.stream.coposting import GroupCounts
from spamflood.stream.monitor import COORDINATED_FEATURES

ACCOUNTS, WAVES = 7, 5
REASON = re.compile(
    r"coordinated: #BuyNow from (\d+) accounts, (\d+) posts in [^;]+; (\d+) pairs co-posted within 60 s, median ([\d.]+) times"
)


def _in_time_order(posts: list[Post]) -> list[Post]:
    return sorted(posts, key=lambda p: (p.time, p.id))


FEED = _in_time_order(campaign(ACCOUNTS, WAVES) + organic_trend())
"""Seven accounts pushing #BuyNow in five waves over 13 h (each wave within 30 s, varied
text), among 300 people using #WorldCup over a day."""


def _wave(post_id: str) -> int:
    return int(post_id.rsplit("-", 1)[1])


def _coordinated(verdict: Verdict) -> list[str]:
    return [r for r in verdict.reasons if r.startswith("coordinated:")]


@pytest.fixture(scope="module")
def streamed() -> dict[str, Verdict]:
    monitor = FloodMonitor(horizon="1d")
    assert "coordinated" in monitor.families
    return {v.id: v for v in monitor.add_many(FEED)}


def test_a_campaign_streamed_live_raises_coordinated_once_its_group_forms(streamed: dict[str, Verdict]) -> None:
    bots = [p for p in FEED if p.id.startswith("bot")]
    # two waves give each pair two occasions: below min_coposts (3), no edge yet
    assert not any("coordinated" in streamed[p.id].labels for p in bots if _wave(p.id) < 2)
    # the third wave forms the group: its fifth account completes it (min_authors 5)
    third = [streamed[p.id] for p in bots if _wave(p.id) == 2]
    flagged = [v for v in third if "coordinated" in v.labels]
    assert flagged and third.index(flagged[0]) == 4 and all(v in flagged for v in third[4:])
    first = REASON.fullmatch(_coordinated(flagged[0])[0])
    assert first is not None and first.group(1) == "5" and first.group(3) == "10" and first.group(4) == "3"
    # every later post of the campaign is the group's, and says the counts so far
    later = [streamed[p.id] for p in bots if _wave(p.id) > 2]
    assert all("coordinated" in v.labels for v in later)
    counts = [REASON.fullmatch(_coordinated(v)[0]) for v in later]
    assert all(m is not None and m.group(1) == str(ACCOUNTS) and m.group(3) == "21" for m in counts)
    posts = [int(m.group(2)) for m in counts if m is not None]
    assert posts == sorted(posts) and posts[-1] == ACCOUNTS * WAVES


def test_an_organic_trend_on_the_same_stream_is_not_coordinated(streamed: dict[str, Verdict]) -> None:
    fans = [v for v in streamed.values() if v.id.startswith("o")]
    assert len(fans) > 300 and not any("coordinated" in v.labels or _coordinated(v) for v in fans)


def test_the_last_post_of_the_stream_gives_the_batch_reason(streamed: dict[str, Verdict]) -> None:
    batch = {r["id"]: r for r in Detector().score(FEED).records()}
    last = next(p for p in reversed(FEED) if p.id.startswith("bot"))
    assert _coordinated(streamed[last.id]) == [r for r in batch[last.id]["reasons"] if r.startswith("coordinated:")]
    assert _coordinated(streamed[last.id]) == [
        f"coordinated: #BuyNow from {ACCOUNTS} accounts, {ACCOUNTS * WAVES} posts in 13 h 24 min; 21 pairs co-posted "
        "within 60 s, median 5 times"
    ]


NEWS_FEED = _in_time_order(campaign(6, 5) + news_shared_by_readers_and_two_bots() + organic_trend(people=100))
"""Six bots on #BuyNow in five bursts; after the third (the group formed) a story breaks, shared
by 40 readers and, within one minute, by bots 0 and 1."""


def test_a_story_two_group_accounts_share_by_chance_is_not_the_groups_on_a_stream() -> None:
    verdicts = {v.id: v for v in FloodMonitor(horizon="1d").add_many(NEWS_FEED)}
    third = [p.id for p in NEWS_FEED if p.id.startswith("bot") and p.id.endswith("-2")]
    assert "coordinated" in verdicts[third[-1]].labels  # the group holds when the story breaks
    assert not _coordinated(verdicts["botnews0"]) and not _coordinated(verdicts["botnews1"])
    assert not any(_coordinated(v) for v in verdicts.values() if not v.id.startswith("bot"))
    batch = {r["id"]: r for r in Detector().score(NEWS_FEED).records()}
    last = next(p.id for p in reversed(NEWS_FEED) if p.id.startswith("bot") and not p.id.startswith("botnews"))
    expected = ["coordinated: #BuyNow from 6 accounts, 30 posts in 13 h 24 min; 15 pairs co-posted within 60 s, median 5 times"]
    assert _coordinated(verdicts[last]) == [r for r in batch[last]["reasons"] if r.startswith("coordinated:")] == expected


@pytest.mark.redis
def test_a_story_two_group_accounts_share_by_chance_is_not_the_groups_in_redis(redis_url: str) -> None:
    with FloodMonitor(horizon="1d", store=redis_url, key_prefix="story") as monitor:
        shared = monitor.add_many(NEWS_FEED)
    alone = FloodMonitor(horizon="1d").add_many(NEWS_FEED)
    assert [(v.id, v.labels, v.reasons) for v in shared] == [(v.id, v.labels, v.reasons) for v in alone]
    assert not any(_coordinated(v) for v in shared if v.id.startswith("botnews"))


# a and b co-post #t twice, once with a link L (1 of 1 edges: L is the group's); c joins by
# co-posting #t with a, then with b: 1 of 3 edges co-posted L, under half, and L leaves the
# group, with no account or object added or removed (nothing else would recount its posts)
LEAVING = [
    ("p1", "a", 0.0, "#t L"), ("p2", "b", 5.0, "#t L"), ("p3", "c", 10.0, "#t"),
    ("p4", "a", 120.0, "#t"), ("p5", "b", 125.0, "#t"),
    ("p6", "a", 240.0, "L"),
    ("p7", "a", 360.0, "#t"), ("p8", "c", 365.0, "#t"),
    ("p9", "b", 480.0, "#t"), ("p10", "c", 485.0, "#t"),
]
LEAVING_PARAMS = {"interval": 60.0, "min_coposts": 2, "min_overlap": 0.5, "horizon": 86400.0}


def _leaving() -> list[Post]:
    return [Post(id=i, text=text.replace("L", "https://news.example.com/l"), author=a, time=BASE + t) for i, a, t, text in LEAVING]


def _postings(posts: list[Post]) -> list[tuple[str, str, float, dict[str, str]]]:
    from spamflood.coordination import objects_in

    return [(p.id, p.author, p.time, objects_in(p.text)) for p in posts]


def test_an_object_that_falls_under_the_groups_share_leaves_its_posts_on_a_stream() -> None:
    from spamflood.coordination import Coordination
    from spamflood.posts import PostBatch
    from spamflood.stream.coposting import CoPosting

    counts = CoPosting(**LEAVING_PARAMS).add_many(_postings(_leaving()))
    assert counts[5] is not None and counts[5].objects == 2  # a's lone post of L: still the group's
    coordination = Coordination(min_authors=2, min_coposts=2, min_overlap=0.5)
    values, _, _ = coordination.findings(PostBatch.from_posts(_leaving()))
    last = counts[-1]
    assert last is not None and (last.objects, last.pairs, last.posts) == (1, 3, 9)
    assert last.posts == values["COORDINATED_POSTS"][-1]


@pytest.mark.redis
def test_an_object_that_falls_under_the_groups_share_leaves_its_posts_in_redis(redis_url: str) -> None:
    from spamflood.stream import RedisStore
    from spamflood.stream.coposting import CoPosting
    from spamflood.stream.redis_coposting import RedisCoPosting

    store = RedisStore(redis_url, window="1h", key_prefix="leaving")
    try:
        got = RedisCoPosting(store, **LEAVING_PARAMS).add_many(_postings(_leaving()))
    finally:
        store.close()
    assert got == CoPosting(**LEAVING_PARAMS).add_many(_postings(_leaving()))
    assert got[-1] is not None and got[-1].posts == 9


def test_the_state_forgets_what_is_older_than_the_horizon() -> None:
    monitor = FloodMonitor(horizon="1d")
    monitor.add_many(FEED)
    assert monitor.coposting is not None
    held = monitor.coposting.size()
    assert held["edges"] == 21 and held["pairs"] > 21
    # two days later one post arrives: every occasion, pair and post before it has expired
    v = monitor.add(Post(id="late-news", text="back again #BuyNow", author="bot0", time=FEED[-1].time + 2 * 86400))
    assert "coordinated" not in v.labels
    assert monitor.coposting.size() == {"accounts": 1, "pairs": 0, "edges": 0, "objects": 1, "posts": 1}


def test_a_campaign_whose_waves_are_further_apart_than_the_horizon_is_not_one_group() -> None:
    # the default horizon is the window (1 h); the waves here are hours apart
    verdicts = FloodMonitor().add_many(FEED)
    assert not any("coordinated" in v.labels for v in verdicts)


# ------------------------------------------------------------ posts without author or time

KINDS = st.sampled_from(["known", "no author", "own id as author", "no time"])


@settings(max_examples=25, deadline=None)
@given(st.lists(KINDS, min_size=24, max_size=24))
def test_posts_without_an_author_or_a_time_never_coordinate(kinds: list[str]) -> None:
    posts = _in_time_order(campaign(6, 4))
    changed = []
    for p, kind in zip(posts, kinds):
        if kind == "no author":
            p = Post(id=p.id, text=p.text, author="", time=p.time)
        elif kind == "own id as author":
            p = Post(id=p.id, text=p.text, author=p.id, time=p.time)
        elif kind == "no time":
            p = Post(id=p.id, text=p.text, author=p.author, time=math.nan)
        changed.append(p)
    unknown = {p.id for p, kind in zip(changed, kinds) if kind != "known"}
    verdicts = FloodMonitor(horizon="1d", clock=lambda: BASE).add_many(changed)
    assert not any("coordinated" in v.labels for v in verdicts if v.id in unknown)
    # and they change nothing for the others: as if they had never been posted
    alone = FloodMonitor(horizon="1d").add_many([p for p in changed if p.id not in unknown])
    assert [(v.id, _coordinated(v)) for v in verdicts if v.id not in unknown] == [(v.id, _coordinated(v)) for v in alone]


# --------------------------------------------------------------------------- Redis


_PREFIXES = itertools.count()


def _same(a: GroupCounts | None, b: GroupCounts | None) -> bool:
    """Equal counts (NaN equal to NaN: a group whose held posts have all left)."""
    if a is None or b is None:
        return a is b
    return all(x == y or (x != x and y != y) for x, y in zip(a, b))


# an account (or None: a post without one), a time on a 20 s grid over some 13 min (slots shared
# or not, occasions past a short horizon), a post id drawn from few (redeliveries), the objects,
# and a jitter: the stream comes in time order give or take a minute (late posts too)
STREAM = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 5)),
        st.integers(0, 40),
        st.integers(0, 60),
        st.sampled_from(["#a", "#b", "#a #b", "@c", "#a @c", "word", "RT"]),
        st.integers(-2, 3),
    ),
    min_size=2,
    max_size=60,
)


@pytest.mark.redis
@settings(max_examples=60, deadline=None)
@given(STREAM, st.sampled_from([60.0, 120.0, 600.0, 86400.0]), st.sampled_from([0.1, 0.6]), st.sampled_from([2, 3]))
def test_the_network_in_redis_gives_the_memory_network_counts_for_every_post(
    redis_url: str, rows: list[tuple[int | None, int, int, str, int]], horizon: float, overlap: float, coposts: int
) -> None:
    from spamflood.coordination import objects_in
    from spamflood.stream import RedisStore
    from spamflood.stream.coposting import CoPosting
    from spamflood.stream.redis_coposting import RedisCoPosting

    # accounts and post ids with the bytes the script joins fields with, and its escape
    names = ["u0", "u\x001", "u\x012", "%003", "u:4", "%255"]
    posts = [
        (
            f"p%00{n}\x00",
            None if a is None else names[a],
            BASE + 20.0 * t,
            objects_in(f"x {text}", "story\x01" if text == "RT" else None),
        )
        for a, t, n, text, _ in sorted(rows, key=lambda row: row[1] + row[4])
    ]
    params = {"interval": 60.0, "min_coposts": coposts, "min_overlap": overlap, "horizon": horizon}
    memory = CoPosting(**params)
    store = RedisStore(redis_url, window="1h", key_prefix=f"net{next(_PREFIXES)}")
    redis = RedisCoPosting(store, **params)
    try:
        expected = memory.add_many(posts)
        half = len(posts) // 2  # pipelined, then one post a call
        got = redis.add_many(posts[:half]) + [redis.add(*p) if p[1] else redis.note(p[3]) for p in posts[half:]]
        assert all(_same(a, b) for a, b in zip(expected, got)), list(zip(expected, got))
        assert redis.size() == memory.size()
        assert set(redis.groups()) == set(memory.groups())
    finally:
        store.close()


@pytest.mark.redis
def test_two_watch_processes_sharing_one_redis_see_one_group(redis_url: str) -> None:
    """Bots 0-3 and half the trend through one ``spamflood watch``, the rest through another,
    dealt in time order: each alone would see four and three accounts (no group of five); on
    one Redis they see the seven, and give one memory monitor's verdict on every post."""
    script = shutil.which("spamflood")
    assert script is not None
    command = ["watch", "-", "--rules", "-q", "--window", "1d", "--redis", redis_url, "--key-prefix", "two-workers"]
    workers = [
        subprocess.Popen(start + command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        for start in ([script], [sys.executable, "-m", "spamflood"])
    ]
    verdicts = []
    try:
        for p in FEED:
            worker = workers[int(p.author[-1]) % 2 if p.author.startswith("fan") else int(int(p.author[3:]) >= 4)]
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps({"id": p.id, "text": p.text, "author": p.author, "time": p.time}) + "\n")
            worker.stdin.flush()
            verdicts.append(json.loads(worker.stdout.readline()))  # one verdict per line, as it arrives
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
            assert worker.wait(timeout=60) == 0
    alone = [v.to_dict() for v in FloodMonitor(window="1d").add_many(FEED)]
    keys = ("id", "labels", "reasons", "score")
    assert [{k: v[k] for k in keys} for v in verdicts] == [{k: v[k] for k in keys} for v in alone]
    last = next(v for v in reversed(verdicts) if v["id"].startswith("bot"))
    assert [r for r in last["reasons"] if r.startswith("coordinated:")] == [
        f"coordinated: #BuyNow from {ACCOUNTS} accounts, {ACCOUNTS * WAVES} posts in 13 h 24 min; 21 pairs co-posted "
        "within 60 s, median 5 times"
    ]


@pytest.mark.redis
def test_the_network_in_redis_forgets_what_is_older_than_the_horizon_and_every_key_expires(redis_url: str) -> None:
    from spamflood.stream import RedisStore

    store = RedisStore(redis_url, window="1h", key_prefix="horizon")
    with FloodMonitor(horizon="1d", store=store) as monitor:
        monitor.add_many(FEED)
        assert monitor.coposting is not None
        held = monitor.coposting.size()
        assert held["edges"] == 21 and held["pairs"] > 21
        assert {frozenset(f"bot{a}" for a in range(ACCOUNTS))} == set(monitor.coposting.groups())
        # two days later one post arrives: every occasion, pair and post before it has expired
        v = monitor.add(Post(id="late-news", text="back again #BuyNow", author="bot0", time=FEED[-1].time + 2 * 86400))
        assert "coordinated" not in v.labels
        assert monitor.coposting.size() == {"accounts": 1, "pairs": 0, "edges": 0, "objects": 1, "posts": 1}
        assert monitor.coposting.groups() == []
        # and what is left expires by itself if the deployment stops: a day, a minute and a margin
        client = store._redis
        network = [k for k in store.key_names() if k.startswith("horizon:co:")]
        assert network and all(0 < client.ttl(k) <= 86400 + 2 * 60 + 60 for k in network)
        assert len(network) < 30  # the shared keys, and the one post's account and object


def test_a_monitor_without_coordination_keeps_no_network_and_lists_no_coordinated(
    streamed: dict[str, Verdict],
) -> None:
    monitor = FloodMonitor(horizon="1d", coordinated=False)
    assert monitor.coposting is None and "coordinated" not in monitor.families
    without = monitor.add_many(FEED)
    assert not any("coordinated" in v.labels for v in without)
    # every other label is listed as with the network: only the one family is gone
    assert [tuple(x for x in streamed[v.id].labels if x != "coordinated") for v in without] == [
        v.labels for v in without
    ]


@pytest.mark.redis
def test_a_monitor_on_redis_without_coordination_writes_no_network_keys(redis_url: str) -> None:
    from spamflood.stream import RedisStore

    store = RedisStore(redis_url, window="1h", key_prefix="nocoord")
    with FloodMonitor(horizon="1d", store=store, coordinated=False) as monitor:
        verdicts = monitor.add_many(FEED)
        keys = store.key_names()
    assert not any("coordinated" in v.labels for v in verdicts)
    assert keys and not [k for k in keys if k.startswith("nocoord:co:")]


@pytest.mark.redis
def test_monitors_with_other_coordination_settings_cannot_share_a_network(redis_url: str) -> None:
    from spamflood.errors import ConfigError

    post = {"id": "p1", "text": "join us #BuyNow", "author": "bot0", "time": BASE}
    with FloodMonitor(horizon="1d", store=redis_url, key_prefix="settings") as first:
        first.add(post)
    with FloodMonitor(horizon="1d", min_coposts=4, store=redis_url, key_prefix="settings") as other:
        with pytest.raises(ConfigError, match=r"'settings' .* holds a co-posting network with other settings \(interval=60\.0 min_coposts=3 "):
            other.add({**post, "id": "p2"})


@pytest.mark.redis
def test_a_monitor_on_redis_keeps_going_through_a_restart_and_the_network_starts_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    posts = _in_time_order(campaign(6, 6))  # six accounts, six waves inside a day
    server = RedisServer(tmp_path / "restart").start()
    try:
        with FloodMonitor(horizon="1d", store=server.url, key_prefix="restart") as monitor:
            before = monitor.add_many([p for p in posts if _wave(p.id) < 3])
            assert "coordinated" in before[-1].labels  # three waves: three occasions a pair
            server.kill()
            server.start()  # empty: the index and the account network are gone
            with caplog.at_level(logging.WARNING, logger="spamflood.stream"):
                after = [monitor.add(p) for p in posts if _wave(p.id) >= 3]
    finally:
        server.stop()
    flagged = [_wave(v.id) for v in after if "coordinated" in v.labels]
    assert flagged and set(flagged) == {5}  # the group forms again from the third wave after
    said = [r.getMessage() for r in caplog.records if "no longer has the spamflood script" in r.getMessage()]
    assert len(said) == 1 and "the account network starts over" in said[0]


# ------------------------------------------------------------------ the watch command


def test_spamflood_watch_flags_a_campaign_whose_waves_fit_in_the_window(tmp_path: Path) -> None:
    import random

    r = random.Random(3)
    rows = [
        {"id": f"w{a}-{b}", "text": varied(r, "#FlashSale"), "author": f"seller{a}", "time": BASE + 600 * b + 4 * a}
        for b in range(4)
        for a in range(6)
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    script = shutil.which("spamflood")
    assert script is not None
    for command in ([script], [sys.executable, "-m", "spamflood"]):
        done = subprocess.run(
            [*command, "watch", str(feed), "--rules", "-q"], capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr
        verdicts = [json.loads(line) for line in done.stdout.splitlines()]
        assert [v["id"] for v in verdicts] == [row["id"] for row in rows]
        last_wave = [v for v in verdicts if v["id"].endswith("-3")]
        assert all("coordinated" in v["labels"] for v in last_wave)
        assert [r for r in last_wave[-1]["reasons"] if r.startswith("coordinated:")] == [
            "coordinated: #FlashSale from 6 accounts, 24 posts in 30 min; 15 pairs co-posted within 60 s, median 4 times"
        ]
        assert not any("coordinated" in v["labels"] for v in verdicts if not v["id"].endswith(("-2", "-3")))
    done = subprocess.run(
        [script, "watch", str(feed), "--rules", "-q", "--no-coordination"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(verdicts) == len(rows) and not any("coordinated" in v["labels"] for v in verdicts)


def test_the_coordination_parameters_are_checked_and_the_horizon_defaults_to_the_window() -> None:
    from spamflood.errors import ConfigError

    monitor = FloodMonitor(window="2h", interval="30s", min_coposts=4)
    assert (monitor.horizon, monitor.coordination.interval, monitor.coordination.min_coposts) == (7200.0, 30.0, 4)
    with pytest.raises(
        ConfigError, match=r"The 'horizon' parameter of FloodMonitor must be a duration of at least the interval \(60 s\)"
    ):
        FloodMonitor(horizon="10s")
    with pytest.raises(ConfigError, match="'min_coposts' parameter of Coordination"):
        FloodMonitor(min_coposts=1)
    assert FloodMonitor(window="30s").horizon == 60.0  # a short window: the horizon holds one interval
    assert FloodMonitor().families == (
        "mass_share",
        "repetition",
        "soft_ad",
        "holiday_template",
        "hotspot_hijack",
        "microbusiness",
        "coordinated",
        "fan_farming",
    )


# ------------------------------------------------------------------ the batch's network, grown


ROWS = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 60), st.sampled_from(["#a", "#b", "#a #b", "@c", "#a @c", "word"])),
    min_size=2,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ROWS, st.sampled_from([0.1, 0.6]), st.sampled_from([2, 3]))
def test_the_network_grown_post_by_post_is_the_batch_network(
    rows: list[tuple[int, int, str]], overlap: float, coposts: int
) -> None:
    from spamflood.coordination import Coordination, coordinated_reason, objects_in
    from spamflood.posts import PostBatch
    from spamflood.stream.coposting import CoPosting

    # six accounts, three objects, times on a 20 s grid: pairs meet in one slot, across two, or not
    posts = sorted(
        (Post(id=f"p{i}", text=f"x {text}", author=f"u{a}", time=BASE + 20.0 * t) for i, (a, t, text) in enumerate(rows)),
        key=lambda p: p.time,
    )
    batch = PostBatch.from_posts(posts)
    coordination = Coordination(min_authors=2, min_coposts=coposts, min_overlap=overlap)
    found = coordination.groups(batch)
    values, fired, sentences = coordination.findings(batch)
    network = CoPosting(interval=60.0, min_coposts=coposts, min_overlap=overlap, horizon=86400.0)
    counts = [network.add(p.id, p.author, p.time, objects_in(p.text)) for p in posts]
    names = batch.author_codes()[1]
    expected = {frozenset(str(names[a]) for a in (found.group == g).nonzero()[0]) for g in range(len(found.accounts))}
    assert set(network.groups()) == expected
    last = counts[-1]
    got = (0, 0, 0, 0, 0) if last is None else (last.accounts, last.median, last.pairs, last.posts, last.span)
    assert got == tuple(float(values[name][-1]) for name in COORDINATED_FEATURES)
    if fired[-1]:  # and the same sentence, down to which object it names first
        assert last is not None
        said = coordinated_reason(last.top, last.objects, last.accounts, last.posts, last.span, last.pairs, 60.0, last.median)
        assert said == sentences[len(posts) - 1]
