"""The synthetic feed: deterministic, every label planted, truth consistent, streaming."""

from __future__ import annotations

import itertools
import json
import tracemalloc
from datetime import datetime

import pytest

from spamflood import synth
from spamflood.criteria.festivals import festival_date
from spamflood.errors import ConfigError
from spamflood.io import FieldMap, RowParser
from spamflood.posts import CORE_FIELDS

ALL_LABELS = {
    "mass_share", "repetition", "batch_accounts", "auto_posting", "soft_ad",
    "holiday_template", "hotspot_hijack", "microbusiness", "chicken_soup",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    feed, truth = folder / "feed.jsonl", folder / "truth.jsonl"
    summary = synth.write(feed, truth, posts=6000, seed=11)
    return feed, truth, folder / "truth.campaigns.jsonl", summary


def load(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, files):
    feed, truth, campaigns, _ = files
    synth.write(tmp_path / "a.jsonl", tmp_path / "t.jsonl", posts=6000, seed=11)
    assert (tmp_path / "a.jsonl").read_bytes() == feed.read_bytes()
    assert (tmp_path / "t.jsonl").read_bytes() == truth.read_bytes()
    assert (tmp_path / "t.campaigns.jsonl").read_bytes() == campaigns.read_bytes()
    synth.write(tmp_path / "b.jsonl", tmp_path / "u.jsonl", posts=6000, seed=12)
    assert (tmp_path / "b.jsonl").read_bytes() != feed.read_bytes()


def test_exact_post_count_every_label_and_truth_matches_feed(files):
    feed, truth, campaigns, summary = files
    posts, labels = load(feed), load(truth)
    assert len(posts) == summary.posts == 6000
    assert [p["id"] for p in posts] == [t["id"] for t in labels]
    assert len({p["id"] for p in posts}) == 6000
    assert set(summary.labels) == ALL_LABELS
    members = {m for c in load(campaigns) for m in c["members"]}
    assert members == {t["id"] for t in labels if t["campaign"]}


def test_records_are_valid_canonical_posts_in_time_order(files):
    posts = load(files[0])
    parser = RowParser(FieldMap())
    parsed = [parser.parse(i + 1, p) for i, p in enumerate(posts)]
    times = [p.time for p in parsed]
    assert times == sorted(times)
    assert all(set(CORE_FIELDS) <= set(p) for p in posts)


def test_flood_accounts_are_made_in_a_batch(files):
    posts = {p["id"]: p for p in load(files[0])}
    flood = next(c for c in load(files[2]) if c["label"] == "mass_share")
    members = [posts[m] for m in flood["members"]]
    created = [datetime.fromisoformat(p["author_created"]).timestamp() for p in members]
    assert max(created) - min(created) <= 3600
    names = {p["author_name"].rstrip("0123456789") for p in members}
    assert len(names) == 1  # one stem plus digits
    times = [datetime.fromisoformat(p["time"]).timestamp() for p in members]
    assert max(times) - min(times) <= 20 * 60
    assert len({p["author"] for p in members}) == len(members) >= 20


def test_festival_copy_sits_near_the_real_festival_date(files):
    posts = {p["id"]: p for p in load(files[0])}
    for campaign in (c for c in load(files[2]) if c["label"] == "holiday_template"):
        day = datetime.fromisoformat(campaign["params"]["festival_date"]).date()
        assert day == festival_date(_key(campaign["params"]["festival"]), day.year)
        for m in campaign["members"]:
            local = datetime.fromisoformat(posts[m]["time"]).date()
            assert -1 <= (local - day).days <= 4 or -4 <= (local - day).days <= 1


def _key(name: str) -> str:
    from spamflood.criteria.festivals import load_festivals

    return next(k for k, f in load_festivals().items() if f.name == name)


def test_evasion_levels_change_the_text(files):
    posts = {p["id"]: p for p in load(files[0])}
    level2 = [posts[t["id"]]["text"] for t in load(files[1]) if t["evasion"] >= 2]
    assert level2
    hidden = ("\u200b", "\u200c", "\u200d", "\u2060", " ", ".", "-", "·")
    assert all(any(ch in text for ch in hidden) or any(0xFF01 <= ord(ch) <= 0xFF5E for ch in text) for text in level2)


def test_organic_hard_negatives_are_present(files):
    kinds = {t["organic_kind"] for t in load(files[1]) if not t["campaign"]}
    assert {"festival_greeting", "disaster_sympathy", "product_praise", "quote", "news_share", "daily"} <= kinds


def test_scheduled_posts_keep_their_minute(files):
    posts = {p["id"]: p for p in load(files[0])}
    soup = next(c for c in load(files[2]) if c["label"] == "chicken_soup")
    minutes = {posts[m]["time"][11:19] for m in soup["members"]}
    assert minutes == {soup["params"]["local_time"] + ":00"}


def test_generation_streams_in_bounded_memory():
    tracemalloc.start()
    for _ in itertools.islice(synth.generate(20_000, seed=3), 20_000):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 25 * 2**20


@pytest.mark.parametrize(
    "kwargs, message",
    [
        pytest.param({"posts": 0}, "'posts' parameter must be a positive integer", id="posts"),
        pytest.param({"posts": 10, "zh_ratio": 1.5}, "'zh_ratio' parameter must be in \\[0, 1\\]", id="zh"),
        pytest.param({"posts": 10, "days": 0}, "'days' parameter", id="days"),
        pytest.param({"posts": 10, "tz": "Mars/Base"}, "Unknown time zone", id="tz"),
        pytest.param({"posts": 10, "start": "someday"}, "'start' parameter", id="start"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        next(synth.generate(**kwargs))
