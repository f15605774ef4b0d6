"""FloodMonitor with the memory store, and watch(): given posts in, verdicts out."""

from __future__ import annotations

import gzip
import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood import Detector
from spamflood.cluster import band_keys
from spamflood.errors import ConfigError, InputError
from spamflood.minhash import MinHasher
from spamflood.posts import Post
from spamflood.stream import FloodMonitor, MemoryStore, Verdict, cluster_id, watch
from spamflood.stream.reorder import ReorderBuffer
from spamflood.stream.sketch import Sketcher
from spamflood.stream.watch import read_lines

T0 = 1_700_000_000.0
AD = "限时抢购！加微信 abc123 领取优惠券，仅限今天，先到先得"
COPY = "下班路上看到一只橘猫趴在邮筒上晒太阳，好可爱，拍了好多张照片"  # no criterion fires on it
OTHER = [
    "今天天气不错，去公园散步看到很多人在放风筝",
    "After work I cycled around the lake, the cherry trees are blooming",
    "刚才带孩子去了博物馆，顺便买了两斤草莓回家",
    "finished episode 18 of the new show, pretty satisfied, good night all",
]


def post(i: int | str, text: str, author: str, t: float) -> Post:
    return Post(id=str(i), text=text, author=author, time=T0 + t)


def copies(n: int, *, text: str = AD, start: float = 0.0, step: float = 60.0, prefix: str = "p") -> list[Post]:
    """``n`` copies of ``text`` by ``n`` different accounts, one every ``step`` seconds."""
    return [post(f"{prefix}{i}", text, f"{prefix}u{i}", start + i * step) for i in range(n)]


@pytest.fixture
def monitor() -> FloodMonitor:
    return FloodMonitor(window="1h", min_authors=5, min_copies=3)


# ----------------------------------------------------------------------------- floods


def test_flood_fires_at_exactly_min_authors_distinct_accounts(monitor: FloodMonitor) -> None:
    verdicts = [monitor.add(p) for p in copies(6, text=COPY)]
    assert [v.flood for v in verdicts] == [False, False, False, False, True, True]
    assert [v.cluster_authors for v in verdicts] == [1, 2, 3, 4, 5, 6]
    assert len({v.cluster for v in verdicts}) == 1
    fifth = verdicts[4]
    assert fifth.labels == ("mass_share",)
    assert fifth.reasons == ("mass_share: 5 near-identical posts from 5 accounts within 4 min",)
    assert fifth.score == pytest.approx(0.5)  # the batch detector's curve: 0.5 at min_authors


def test_an_ad_flood_lists_its_ad_from_the_first_copy_and_the_flood_from_the_fifth(monitor: FloodMonitor) -> None:
    verdicts = [monitor.add(p) for p in copies(5)]
    ad = 'soft_ad: discount "优惠券"; contact handle "加微信"; call to action "抢购"; urgency "限时", "仅限今天", "先到先得"'
    assert [v.labels for v in verdicts] == [("soft_ad",)] * 4 + [("soft_ad", "mass_share")]
    assert verdicts[0].reasons == (ad,) and verdicts[0].score == pytest.approx(0.6)
    assert verdicts[4].reasons == (ad, "mass_share: 5 near-identical posts from 5 accounts within 4 min")
    assert verdicts[4].score == pytest.approx(1 - 0.4 * 0.5)  # noisy-or of 0.6 and 0.5


def test_one_account_repeating_is_not_a_flood(monitor: FloodMonitor) -> None:
    verdicts = [monitor.add(post(f"r{i}", AD, "spammer", i * 30.0)) for i in range(6)]
    assert not any(v.flood for v in verdicts)
    assert [v.cluster_authors for v in verdicts] == [1] * 6


def test_repetition_fires_at_min_copies_by_one_account(monitor: FloodMonitor) -> None:
    verdicts = [monitor.add(post(f"r{i}", COPY, "spammer", i * 30.0)) for i in range(3)]
    assert [v.labels for v in verdicts] == [(), (), ("repetition",)]
    assert verdicts[2].reasons == ("repetition: account spammer posted 3 near-identical copies within 60 s",)
    assert verdicts[2].author_copies == 3
    assert verdicts[2].score == pytest.approx(0.5)


def test_labels_strongest_first_and_score_is_noisy_or(monitor: FloodMonitor) -> None:
    for p in copies(5, text=COPY):
        monitor.add(p)
    last = None
    for i in range(4):  # one account now posts four more copies: 9 posts, 6 accounts
        last = monitor.add(post(f"s{i}", COPY, "pu0", 400.0 + i))
    assert last is not None
    assert last.labels == ("repetition", "mass_share")  # 1-.5**(5/3)=.69 > 1-.5**(5/5)=.5
    mass, rep = 1 - 0.5 ** (5 / 5), 1 - 0.5 ** (5 / 3)
    assert last.score == pytest.approx(1 - (1 - mass) * (1 - rep))
    assert last.author_copies == 5


def test_reasons_match_the_batch_detector_word_for_word() -> None:
    posts = copies(7, step=37.0)
    monitor = FloodMonitor(window="1h", min_authors=5)
    last = [monitor.add(p) for p in posts][-1]
    scored = Detector(window="1h", min_authors=5).score(posts)[len(posts) - 1]
    assert last.labels == tuple(scored.labels) == ("mass_share", "soft_ad")  # 7 of 5 accounts: 0.62 > 0.6
    assert last.reasons == tuple(scored.reasons)
    assert last.score == pytest.approx(scored.score)
    assert last.cluster_size == scored.cluster_size


def test_a_brand_signing_a_disaster_post_lists_hotspot_hijack_as_the_batch_does() -> None:
    signed = Post(id="b", text="杭州台风，暖绒坊与你同在", author="brand", time=T0, author_name="暖绒坊官方")
    person = Post(id="p", text="杭州台风，大家注意安全", author="me", time=T0 + 1, author_name="王大锤")
    monitor = FloodMonitor(window="1h", min_authors=5)
    verdicts = [monitor.add(signed), monitor.add(person)]
    scored = Detector(window="1h", min_authors=5).score([signed, person])
    assert [v.labels for v in verdicts] == [tuple(s.labels) for s in scored] == [("hotspot_hijack",), ()]
    assert verdicts[0].reasons == tuple(scored[0].reasons) == ('hotspot_hijack: event "台风" signed by its sender "暖绒坊"',)


def test_unrelated_posts_stay_alone(monitor: FloodMonitor) -> None:
    verdicts = [monitor.add(post(i, text, f"u{i}", i)) for i, text in enumerate(OTHER)]
    assert [v.cluster_size for v in verdicts] == [1, 1, 1, 1]
    assert len({v.cluster for v in verdicts}) == 4
    assert all(v.labels == () and v.score == 0.0 for v in verdicts)


@pytest.mark.parametrize(
    "variant",
    [
        "限时抢购！加 微 信 abc123 领取优惠券，仅限今天，先到先得",  # spaced out
        "限時搶購！加微信 abc123 領取優惠券，僅限今天，先到先得",  # traditional characters
        "限时抢购！加微\u200b信 ＡＢＣ１２３ 领取优惠券，仅限今天，先到先得",  # zero-width, full-width
        "限时抢购🔥加微信 abc999 领取优惠券❤仅限今天……先到先得！！",  # emoji, another number
    ],
    ids=["spaced", "traditional", "zero-width-full-width", "emoji-number"],
)
def test_evasion_variants_join_the_cluster(variant: str) -> None:
    monitor = FloodMonitor(window="1h", min_authors=2)
    first = monitor.add(post("a", AD, "x", 0))
    second = monitor.add(post("b", variant, "y", 10))
    assert second.cluster == first.cluster
    assert second.flood


# ------------------------------------------------------------------ window and forgetting


def test_posts_older_than_the_window_no_longer_match() -> None:
    monitor = FloodMonitor(window="10min", min_authors=2)
    first = monitor.add(post("a", AD, "x", 0))
    inside = monitor.add(post("b", AD, "y", 600))  # exactly one window later: still inside
    after = monitor.add(post("c", AD, "z", 1201))  # a and b are now older than the window
    assert inside.cluster == first.cluster and inside.cluster_size == 2
    assert after.cluster != first.cluster and after.cluster_size == 1


def test_counts_slide_with_the_window() -> None:
    monitor = FloodMonitor(window="10min", min_authors=3)
    sizes = [monitor.add(p).cluster_size for p in copies(8, step=180.0)]  # 3 min apart
    # a 10 min window holds the post and the three before it (9 min); older ones drop out
    assert sizes == [1, 2, 3, 4, 4, 4, 4, 4]


def test_late_post_beyond_the_window_is_not_indexed() -> None:
    monitor = FloodMonitor(window="10min", min_authors=2)
    monitor.add(post("a", AD, "x", 3600))
    late = monitor.add(post("old", AD, "y", 0))
    assert late.late and late.cluster is None and not late.flood
    assert monitor.size().posts == 1
    assert monitor.add(post("b", AD, "z", 3601)).cluster_size == 2  # the late one was not counted


def test_out_of_order_post_inside_the_window_is_counted() -> None:
    monitor = FloodMonitor(window="10min", min_authors=3)
    monitor.add(post("a", COPY, "x", 300))
    monitor.add(post("b", COPY, "y", 500))
    early = monitor.add(post("c", COPY, "z", 100))  # arrives last, happened first
    assert early.cluster_size == 3 and early.flood and not early.late
    assert early.reasons == ("mass_share: 3 near-identical posts from 3 accounts within 7 min",)


def test_index_stays_bounded_over_three_windows() -> None:
    rng = np.random.default_rng(3)
    words = ["".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FA5, size=4)) for _ in range(400)]
    window, rate = 600.0, 5.0  # 3000 posts per window
    monitor = FloodMonitor(window=window, min_authors=5)
    sizes = []
    n = int(3 * window * rate)
    for i in range(n):
        if i % 10 == 0:  # a flood copy now and then, so clusters form and expire too
            text = AD + words[(i // 200) % len(words)]
        else:
            text = "".join(rng.choice(words, size=8))
        monitor.add(post(i, text, f"u{i % 997}", i / rate))
        if i % 500 == 499:
            sizes.append(monitor.size())
    per_window = window * rate
    # posts: at most one window plus one slice (half a window); buckets at most 25 per post
    assert max(s.posts for s in sizes) <= 1.5 * per_window + 1
    assert max(s.buckets for s in sizes) <= 25 * (1.5 * per_window + 1)
    assert max(s.clusters for s in sizes) <= 1.5 * per_window / 10 + 1
    late = sizes[len(sizes) // 2 :]
    assert max(s.posts for s in late) - min(s.posts for s in late) <= 0.5 * per_window + 1  # flat, not growing
    store = monitor.store
    assert isinstance(store, MemoryStore)
    assert store.memory_bytes() < 60e6


# --------------------------------------------------------------------- identity and input


def test_same_stream_gives_the_same_verdicts_and_cluster_ids() -> None:
    posts = copies(6) + [post(f"o{i}", t, f"o{i}", 400 + i) for i, t in enumerate(OTHER)] + copies(3, prefix="q")
    a = FloodMonitor(min_authors=3)
    b = FloodMonitor(min_authors=3)
    va, vb = [a.add(p) for p in posts], [b.add(p) for p in posts]
    assert va == vb
    assert va[0].cluster == cluster_id("p0")  # named after the post that founded it


def test_add_many_equals_add_one_by_one() -> None:
    posts = copies(7) + [post(f"o{i}", t, f"o{i}", i) for i, t in enumerate(OTHER)]
    single = FloodMonitor(min_authors=3)
    many = FloodMonitor(min_authors=3)
    assert many.add_many(posts, batch_size=3) == [single.add(p) for p in posts]


def test_redelivered_post_is_counted_once(monitor: FloodMonitor) -> None:
    posts = copies(3)
    for p in posts:
        monitor.add(p)
    again = monitor.add(posts[1])
    assert again.cluster_size == 3 and again.cluster_authors == 3
    assert monitor.add(post("new", AD, "n", 500)).cluster_size == 4


def test_mapping_input_is_validated_like_a_row(monitor: FloodMonitor) -> None:
    v = monitor.add({"id": 7, "text": AD, "author": "u", "time": "2023-11-14T22:13:20Z"})
    assert isinstance(v, Verdict) and v.id == "7"
    with pytest.raises(InputError, match="field 'text': missing or empty"):
        monitor.add({"id": "x", "author": "u", "time": T0})
    with pytest.raises(InputError, match="add\\(\\) takes a Post or a mapping"):
        monitor.add("just text")  # type: ignore[arg-type]


def test_post_without_time_takes_the_clock() -> None:
    monitor = FloodMonitor(min_authors=2, clock=lambda: T0 + 5)
    monitor.add(post("a", COPY, "x", 0))
    v = monitor.add(Post(id="b", text=COPY, author="y", time=math.nan))
    assert v.cluster_size == 2 and v.reasons == ("mass_share: 2 near-identical posts from 2 accounts within 5 s",)


def test_text_with_nothing_to_compare_is_alone(monitor: FloodMonitor) -> None:
    v = monitor.add(post("e", "🔥🔥🔥!!! …", "x", 0))
    assert v == Verdict("e", None, 1, 1, 1, False, (), (), 0.0)
    assert monitor.size().posts == 0


def test_verdict_is_frozen_and_serializes() -> None:
    v = FloodMonitor(min_authors=2).add(post("a", AD, "x", 0))
    with pytest.raises(AttributeError):
        v.flood = True  # type: ignore[misc]
    record = v.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record) == {
        "id", "score", "flood", "labels", "reasons", "cluster", "cluster_size", "cluster_authors", "author_copies", "late",
    }


# ------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 1.5}, "The 'threshold' parameter of FloodMonitor must be a float in the range \\(0.0, 1.0\\). Got 1.5 instead."),
        ({"window": "soon"}, "The 'window' parameter of FloodMonitor must be a positive duration"),
        ({"min_authors": 1}, "The 'min_authors' parameter of FloodMonitor must be an int in the range \\[2, inf\\). Got 1 instead."),
        ({"min_copies": 1}, "The 'min_copies' parameter of FloodMonitor must be an int in the range \\[2, inf\\). Got 1 instead."),
        ({"store": "postgres://me:secret@x"}, "The 'store' parameter of FloodMonitor must be 'memory', .*Got 'postgres://\\*\\*\\*@x' instead."),
        ({"store": 42}, "The 'store' parameter of FloodMonitor must be .* Got 42 instead."),
        ({"store": MemoryStore("2h")}, "store's window \\(2 h\\) differs from the monitor.s \\(60 min\\)"),
        ({"num_perm": 0}, "The 'num_perm' parameter of FloodMonitor must be an int in the range \\[2, inf\\). Got 0 instead."),
        ({"recall": 1.0}, "The 'recall' parameter of FloodMonitor must be a float in the range \\(0.0, 1.0\\). Got 1.0 instead."),
        ({"key_prefix": ""}, "The 'key_prefix' parameter of FloodMonitor must be a non-empty str. Got '' instead."),
    ],
    ids=["threshold", "window", "min-authors", "min-copies", "store-url", "store-type", "store-window", "num-perm", "recall", "key-prefix"],
)
def test_bad_parameters_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        FloodMonitor(**kwargs)


def test_a_memory_store_serves_one_kind_of_monitor() -> None:
    store = MemoryStore("1h")
    FloodMonitor(store=store)
    with pytest.raises(ConfigError, match="already serves a monitor with other settings"):
        FloodMonitor(store=store, num_perm=64)
    with pytest.raises(ConfigError, match="'slices' parameter of MemoryStore"):
        MemoryStore("1h", slices=0)


def test_store_password_is_hidden_in_messages() -> None:
    with pytest.raises(ConfigError) as info:
        FloodMonitor(store="mysql://root:hunter2@db/x")
    assert "hunter2" not in str(info.value)


# ------------------------------------------------------------------------ invariants


def stream_of(events: list[tuple[int, int, int]]) -> list[Post]:
    """Posts from (text, author, time) triples; author 5 is none: the post's own id, which is
    what a reader gives a post without an author."""
    texts = [AD, OTHER[0], OTHER[1], AD + "今天"]
    return [post(i, texts[text], f"u{author}" if author < 5 else str(i), t) for i, (text, author, t) in enumerate(events)]


EVENTS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 900)), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None)
@given(EVENTS)
def test_counts_are_the_clusters_posts_and_accounts_inside_the_window_for_any_stream(events: list[tuple[int, int, int]]) -> None:
    monitor = FloodMonitor(window="5min", min_authors=3, min_copies=2)
    seen: list[tuple[str, float, str | None]] = []  # (cluster, time, account) of every indexed post
    watermark = -math.inf
    for p in stream_of(events):
        v = monitor.add(p)
        account = p.author if p.author != p.id else None
        watermark = max(watermark, p.time)
        if v.late:
            assert v.cluster is None and p.time < watermark - 300
            continue
        assert v.cluster is not None
        seen.append((v.cluster, p.time, account))
        members = [(t, a) for c, t, a in seen if c == v.cluster and t >= watermark - 300]
        assert v.cluster_size == len(members)
        assert v.cluster_authors == len({a for _, a in members if a is not None})  # no author: no account
        assert v.author_copies == (sum(a == account for _, a in members) if account is not None else 0)
        assert v.flood == (v.cluster_authors >= 3)
        assert ("repetition" in v.labels) == (v.author_copies >= 2)
        assert 0.0 <= v.score < 1.0


AUTHORLESS = [("a", None, 0), ("b", None, 60), ("c", "u1", 120), ("d", "u1", 180), ("e", None, 240), ("e", None, 240),
              ("f", "u2", 300), ("g", None, 900), ("alone", None, 960)]
"""A flood whose first copies have no author, a redelivered copy, a copy after the window
moved on, and a post alone without an author: (id, author or None, seconds)."""
AUTHORLESS_COUNTS = [(1, 0, 0), (2, 0, 0), (3, 1, 1), (4, 1, 2), (5, 1, 0), (5, 1, 0), (6, 2, 1), (2, 1, 0), (1, 0, 0)]
"""The verdicts' (cluster_size, cluster_authors, author_copies) on :data:`AUTHORLESS` with a
10-minute window."""


def authorless_posts() -> list[Post]:
    return [post(i, OTHER[3] if i == "alone" else AD, a or i, t) for i, a, t in AUTHORLESS]


def test_a_post_without_an_author_counts_in_its_cluster_but_is_no_account() -> None:
    monitor = FloodMonitor(window="10min", min_authors=2, min_copies=2)
    verdicts = [monitor.add(p) for p in authorless_posts()]
    assert [(v.cluster_size, v.cluster_authors, v.author_copies) for v in verdicts] == AUTHORLESS_COUNTS
    assert [v.id for v in verdicts if "repetition" in v.labels] == ["d"]  # u1's second copy; never a post without one
    assert [v.id for v in verdicts if v.flood] == ["f"]  # two accounts at last; at g only u2 is left in the window
    assert verdicts[6].reasons[-1] == "mass_share: 6 near-identical posts from 2 accounts within 5 min"


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_sketch_signature_and_band_keys_are_the_batch_engines(text: str) -> None:
    hasher = MinHasher(num_perm=128, seed=1)
    sig, keys = Sketcher(hasher, bands=25, rows=5)(text)
    batch = hasher.signatures([text])
    assert np.array_equal(sig, batch[0])
    assert keys.dtype == np.uint64
    assert keys.tolist() == band_keys(batch, 25, 5)[0].tolist()  # the clusterer's buckets, one hash


# ------------------------------------------------------------------------------ watch


def _line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def test_watch_writes_a_verdict_per_post_and_a_reject_per_bad_line() -> None:
    lines = [_line({"id": f"p{i}", "text": AD, "author": f"u{i}", "time": T0 + i}) for i in range(3)]
    lines.insert(1, b"\n")
    lines.insert(2, b"{not json\n")
    lines.append(_line({"id": "x", "author": "u", "time": T0}))  # no text
    lines.append(b"\xff\xfe\n")
    out, rejects = io.BytesIO(), io.BytesIO()
    summary = watch(lines, out, monitor=FloodMonitor(min_authors=3), rejects=rejects)
    verdicts = [json.loads(x) for x in out.getvalue().splitlines()]
    bad = [json.loads(x) for x in rejects.getvalue().splitlines()]
    assert [v["line"] for v in verdicts] == [1, 4, 5]
    assert [v["flood"] for v in verdicts] == [False, False, True]
    assert [(b["line"], b["field"]) for b in bad] == [(3, None), (6, "text"), (7, None)]
    assert bad[0]["reason"].startswith("malformed JSON") and bad[2]["reason"].startswith("invalid UTF-8")
    assert summary.lines == summary.verdicts + summary.rejected == 6  # nothing lost
    assert (summary.blank_lines, summary.written, summary.flood_verdicts) == (1, 3, 1)
    assert summary.first_reject is not None and summary.first_reject.startswith("line 3")


def test_watch_flags_only_writes_floods_and_flushes_each_line(tmp_path) -> None:
    class Recorder(io.BytesIO):
        flushes = 0

        def flush(self) -> None:
            Recorder.flushes += 1

    lines = [_line({"id": f"p{i}", "text": AD, "author": f"u{i}", "time": T0 + i}) for i in range(4)]
    out = Recorder()
    summary = watch(iter(lines), out, monitor=FloodMonitor(min_authors=3), flags_only=True)
    assert [json.loads(x)["id"] for x in out.getvalue().splitlines()] == ["p2", "p3"]
    assert Recorder.flushes == 2 and summary.verdicts == 4 and len(summary.flood_clusters) == 1

    target = tmp_path / "verdicts.jsonl"
    watch(lines, str(target), monitor=FloodMonitor(min_authors=3), rejects=str(tmp_path / "bad.jsonl"))
    assert len(target.read_bytes().splitlines()) == 4
    assert (tmp_path / "bad.jsonl").read_bytes() == b""


def test_watch_uses_the_field_map_and_time_zone() -> None:
    from spamflood.io.fieldmap import FieldMap

    fm = FieldMap.parse("id=mid,text=content,author=user.id,time=created_at")
    lines = [
        _line({"mid": f"m{i}", "content": COPY, "user": {"id": f"u{i}"}, "created_at": f"2024-01-01 08:0{i}:00"})
        for i in range(2)
    ]
    out = io.BytesIO()
    watch(lines, out, monitor=FloodMonitor(min_authors=2), field_map=fm, tz="Asia/Shanghai")
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last["id"] == "m1" and last["reasons"] == ["mass_share: 2 near-identical posts from 2 accounts within 60 s"]


def test_watch_refuses_text_lines_and_missing_folders(tmp_path) -> None:
    with pytest.raises(ConfigError, match="reads bytes lines"):
        watch(["{}"], io.BytesIO(), monitor=FloodMonitor())  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="folder .* does not exist"):
        watch([], str(tmp_path / "missing" / "out.jsonl"), monitor=FloodMonitor())


# ------------------------------------------------------------------ out-of-order input


def newest_first_feed() -> list[bytes]:
    """50 posts over 5 h, newest first (as an API export): 8 copies of one ad by 8 accounts
    within 40 min, 2 h into the feed, among 42 unrelated posts."""
    rng = np.random.default_rng(5)
    posts = [
        {"id": f"o{i}", "text": "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FA5, size=30)), "author": f"u{i}",
         "time": T0 + 420 * i}
        for i in range(42)
    ]
    posts += [{"id": f"ad{i}", "text": AD, "author": f"spam{i}", "time": T0 + 7207 + 300 * i} for i in range(8)]
    posts.sort(key=lambda p: -p["time"])
    return [_line(p) for p in posts]


def verdicts_of(out: io.BytesIO) -> list[dict]:
    return [json.loads(x) for x in out.getvalue().splitlines()]


def counts(out: io.BytesIO) -> list[tuple[str, int, bool]]:
    return [(v["id"], v["cluster_size"], v["flood"]) for v in verdicts_of(out)]


def test_late_posts_get_a_verdict_saying_so_and_are_counted() -> None:
    out = io.BytesIO()
    summary = watch(newest_first_feed(), out, monitor=FloodMonitor(window="1h", min_authors=5))
    verdicts = verdicts_of(out)
    late = [v for v in verdicts if v["late"]]
    assert summary.verdicts == summary.written == len(verdicts) == 50
    assert summary.late == len(late) == 41  # all but the hour after the newest post
    assert summary.out_of_order == 49 and summary.flood_verdicts == 0
    assert late[0]["reasons"] == ["late: 63 min older than the newest post seen, outside the 60 min window: not judged or counted"]
    assert all(v["cluster"] is None and not v["labels"] and not v["flood"] for v in late)


def test_flags_only_still_writes_the_late_verdicts() -> None:
    out = io.BytesIO()
    summary = watch(newest_first_feed(), out, monitor=FloodMonitor(window="1h", min_authors=5), flags_only=True)
    assert [v["late"] for v in verdicts_of(out)] == [True] * 41 and summary.written == 41


def test_sort_judges_a_newest_first_feed_as_the_same_feed_in_time_order() -> None:
    feed = newest_first_feed()
    sorted_out, in_order_out = io.BytesIO(), io.BytesIO()
    summary = watch(feed, sorted_out, monitor=FloodMonitor(window="1h", min_authors=5), sort=True)
    watch(feed[::-1], in_order_out, monitor=FloodMonitor(window="1h", min_authors=5))
    got, expected = verdicts_of(sorted_out), verdicts_of(in_order_out)
    assert summary.late == 0 and summary.flood_verdicts == 4  # the 5th to 8th copies
    assert [v["line"] for v in got] == list(range(50, 0, -1))  # time order, each naming its input line
    assert [{k: v for k, v in r.items() if k != "line"} for r in got] == [
        {k: v for k, v in r.items() if k != "line"} for r in expected
    ]


def test_allowed_lateness_puts_a_stream_back_in_order() -> None:
    in_order = [_line({"id": f"p{i}", "text": AD, "author": f"u{i}", "time": T0 + 60 * i}) for i in range(12)]
    shuffled = [in_order[i] for i in (1, 0, 3, 2, 4, 6, 5, 7, 9, 8, 11, 10)]  # each at most 1 min behind
    expected, got, unbuffered = io.BytesIO(), io.BytesIO(), io.BytesIO()
    watch(in_order, expected, monitor=FloodMonitor(window="10min", min_authors=3))
    summary = watch(shuffled, got, monitor=FloodMonitor(window="10min", min_authors=3), allowed_lateness="1min")
    watch(shuffled, unbuffered, monitor=FloodMonitor(window="10min", min_authors=3))
    assert counts(got) == counts(expected)
    assert counts(unbuffered) != counts(expected)  # judged as they arrived, the counts differ
    assert summary.out_of_order == 5 and summary.late == 0 and summary.released_early == 0


def test_a_full_lateness_buffer_releases_its_oldest_early() -> None:
    lines = [_line({"id": f"p{i}", "text": f"{OTHER[i % 4]} {i}", "author": f"u{i}", "time": T0 + i}) for i in range(10)]
    out = io.BytesIO()
    summary = watch(lines, out, monitor=FloodMonitor(), allowed_lateness="1h", max_held=3)
    assert [v["id"] for v in verdicts_of(out)] == [f"p{i}" for i in range(10)]
    assert summary.released_early == 7 and summary.verdicts == 10


def test_posts_held_when_the_input_breaks_are_judged_before_the_error() -> None:
    def broken():
        yield _line({"id": "a", "text": AD, "author": "x", "time": T0})
        yield _line({"id": "b", "text": AD, "author": "y", "time": T0 + 1})
        raise InputError("cut short", line=3)

    out = io.BytesIO()
    with pytest.raises(InputError, match="cut short"):
        watch(broken(), out, monitor=FloodMonitor(), allowed_lateness="1h")
    assert [v["id"] for v in verdicts_of(out)] == ["a", "b"]


def test_sort_and_allowed_lateness_are_not_given_together() -> None:
    with pytest.raises(ConfigError, match="'sort' or 'allowed_lateness', not both"):
        watch([], io.BytesIO(), monitor=FloodMonitor(), sort=True, allowed_lateness="5min")
    with pytest.raises(ConfigError, match="'allowed_lateness' parameter must be a duration"):
        watch([], io.BytesIO(), monitor=FloodMonitor(), allowed_lateness="soon")


def test_watch_tells_each_reject_as_it_happens() -> None:
    seen = []
    lines = [b"{broken\n", _line({"id": "a", "text": AD, "author": "x", "time": "tomorrow"})]
    watch(lines, io.BytesIO(), monitor=FloodMonitor(), on_reject=seen.append)
    assert [(r.line, r.field) for r in seen] == [(1, None), (2, "time")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 50), max_size=60),
    st.sampled_from([0.0, 1.0, 5.0, 20.0, math.inf]),
    st.sampled_from([None, 1, 4]),
)
def test_reorder_buffer_loses_nothing_and_orders_what_it_can(times: list[int], lateness: float, cap: int | None) -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(lateness, max_held=cap)
    released: list[int] = []
    for i, t in enumerate(times):
        released += buffer.push(float(t), i)
        assert cap is None or len(buffer) <= cap
    released += buffer.drain()
    assert sorted(released) == list(range(len(times)))  # every item, once
    newest_before = [max(times[:i], default=-math.inf) for i in range(len(times))]
    if buffer.released_early == 0 and all(newest_before[i] - t <= lateness for i, t in enumerate(times)):
        # nothing arrived further behind than allowed: out in time order, ties in arrival order
        assert released == sorted(range(len(times)), key=lambda i: (times[i], i))


def test_reorder_buffer_passes_a_post_without_time_at_once() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer("1h")
    assert buffer.push(10.0, "a") == [] and buffer.push(math.nan, "no time") == ["no time"]
    assert buffer.drain() == ["a"] and len(buffer) == 0


# ------------------------------------------------------------------------- input files


def test_read_lines_reads_gzip_by_name_or_by_magic_bytes(tmp_path) -> None:
    lines = [_line({"id": f"p{i}", "text": AD, "author": f"u{i}", "time": T0 + i}) for i in range(3)]
    named, disguised, plain = tmp_path / "feed.jsonl.gz", tmp_path / "feed-gz.jsonl", tmp_path / "feed.jsonl"
    named.write_bytes(gzip.compress(b"".join(lines)))
    disguised.write_bytes(gzip.compress(b"".join(lines)))
    plain.write_bytes(b"".join(lines))
    for path in (named, disguised, plain):
        assert list(read_lines(str(path))) == lines


def test_read_lines_names_the_file_and_line_where_gzip_breaks(tmp_path) -> None:
    lines = [_line({"id": f"p{i}", "text": f"{OTHER[i % 4]} {i}", "author": f"u{i}", "time": T0 + i}) for i in range(2000)]
    data = gzip.compress(b"".join(lines))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    read: list[bytes] = []
    with pytest.raises(InputError) as info:
        read.extend(read_lines(cut))
    assert 0 < len(read) < 2000 and read == lines[: len(read)]
    assert str(info.value) == (
        f"line {len(read) + 1}: {cut} is cut short or corrupt gzip data (Compressed file ended before the "
        f"end-of-stream marker was reached); the {len(read):,} lines before it were read"
    )


def test_read_lines_refuses_a_missing_file_as_the_batch_readers_do(tmp_path) -> None:
    from spamflood.io.readers import iter_chunks

    missing = tmp_path / "nope.jsonl"
    with pytest.raises(Exception) as batch:  # whichever class the readers use; the message is pinned below
        next(iter_chunks(str(missing)))
    with pytest.raises(FileNotFoundError) as stream:
        read_lines(str(missing))
    assert str(stream.value) == str(batch.value)
    assert f"'{missing}' does not exist" in str(stream.value)
    assert not isinstance(stream.value, ConfigError)  # an error (exit 1), not a usage mistake (exit 2)
