"""The Spark engine: the same clusters, scores, labels, reasons and rejects as one machine.

Spark tests share the suite's one local[2] session (``spark``, conftest.py) and are marked
``spark``; they skip, saying why, when PySpark or Java is missing. The cluster-semantics tests
at the top need neither: they pin down the candidate-edge rule both engines implement.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import spark_missing
from spamflood.cluster import ClusterFinder, band_keys
from spamflood.criteria.registry import FEATURES
from spamflood.detector import Detector
from spamflood.errors import InputError
from spamflood.io.fieldmap import FieldMap

# PySpark 4 warns that it does not yet fully support pandas 3; the engine hands Spark Arrow
# data only (mapInArrow), so the warning does not concern it.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")

K = 128
CST = timezone(timedelta(hours=8))
START = datetime(2026, 9, 14, 0, 0, 0, tzinfo=CST)  # eleven days before Mid-Autumn 2026 (25 September)


# --------------------------------------------------------------------------- one rule for both engines


def _reference_components(sig: np.ndarray, bands: int, rows: int, need: int) -> np.ndarray:
    """Components of the documented edge set, by brute force: in every bucket, each member to
    the bucket's smallest member and to its predecessor, kept when the signatures agree on at
    least ``need`` values; the root is the component's smallest row."""
    n = sig.shape[0]
    keys = band_keys(sig, bands, rows)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for band in range(bands):
        buckets: dict[int, list[int]] = {}
        for i in range(n):
            buckets.setdefault(int(keys[i, band]), []).append(i)
        for members in buckets.values():
            for j in range(1, len(members)):
                for other in (members[0], members[j - 1]):
                    if np.count_nonzero(sig[members[j]] == sig[other]) >= need:
                        a, b = find(members[j]), find(other)
                        parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(n)])


def _family(rng: np.random.Generator, size: int, agree: float) -> np.ndarray:
    base = rng.integers(0, 2**32, size=K, dtype=np.uint32)
    out = np.repeat(base[None, :], size, axis=0)
    for row in out:
        change = rng.choice(K, size=round((1 - agree) * K), replace=False)
        row[change] = rng.integers(0, 2**32, size=change.size, dtype=np.uint32)
    return out


@given(
    seed=st.integers(0, 2**32 - 1),
    families=st.lists(st.tuples(st.integers(2, 12), st.floats(0.55, 0.95)), min_size=1, max_size=6),
    noise=st.integers(0, 30),
)
def test_one_machine_clusters_are_the_components_of_the_bucket_edges(seed, families, noise):
    rng = np.random.default_rng(seed)
    parts = [_family(rng, size, agree) for size, agree in families]
    parts.append(rng.integers(0, 2**32, size=(noise, K), dtype=np.uint32))
    sig = np.concatenate(parts)
    sig = sig[rng.permutation(sig.shape[0])]
    finder = ClusterFinder(threshold=0.7, num_perm=K)
    need = int(np.ceil(0.7 * K - 1e-9))
    expected = _reference_components(sig, finder.bands, finder.rows, need)
    assert finder.components(sig).tolist() == expected.tolist()


def test_band_keys_are_the_documented_hash_of_each_band():
    sig = np.arange(2 * K, dtype=np.uint32).reshape(2, K) * np.uint32(2654435761)
    keys = band_keys(sig, 25, 5)
    mask = (1 << 64) - 1
    for i in range(2):
        for band in (0, 7, 24):
            h = (0x9E3779B97F4A7C15 * (band + 1)) & mask
            for j in range(5):
                h ^= int(sig[i, band * 5 + j])
                h = (h * 0xBF58476D1CE4E5B9) & mask
                h ^= h >> 31
            assert int(keys[i, band]) == h
    assert keys.dtype == np.uint64 and keys.shape == (2, 25)


def test_band_keys_refuse_too_short_signatures():
    from spamflood.errors import ConfigError

    with pytest.raises(ConfigError, match="bands x rows = 30 x 5"):
        band_keys(np.zeros((3, K), dtype=np.uint32), 30, 5)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    agree=st.floats(0.0, 1.0),
    num_perm=st.sampled_from([16, 64, 100, 128]),
)
def test_fingerprints_agree_at_least_where_the_signatures_do(seed, n, agree, num_perm):
    pytest.importorskip("pyspark", reason="spamflood.spark needs PySpark: pip install 'spamflood[spark]'")
    from spamflood.spark.partitions import (
        fingerprint_matches,
        fingerprint_words,
        fingerprints,
    )

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32)
    b = np.where(rng.random((n, num_perm)) < agree, a, rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32))
    exact = np.count_nonzero(a == b, axis=1)
    found = fingerprint_matches(fingerprints(a), fingerprints(b))
    assert np.all(found >= exact)  # so a pair ruled out by fingerprints fails the exact test too
    assert np.all(fingerprint_matches(fingerprints(a), fingerprints(a)) == num_perm)
    words = fingerprint_words(a)
    assert words.dtype == np.uint64 and words.shape == (n, -(-num_perm // 16))


# A text rich in what ends, starts or hides an object: sigils after words, '&' and '.', links
# cut by CJK punctuation, Weibo's #topic#, fullwidth sigils, digits-only tags, line breaks.
_OBJECT_PIECES = st.sampled_from(
    ["#", "＃", "@", "＠", "&", ".", " ", "\n", "，", "。", "!", "?", ")", "/", "x", "Tag", "话题", "39", "_",
     "http://", "https://", "www.", "ex.com", "?utm_source=a", "&id=3", "bit.ly/Ab", "ann@mail.com"]
)


@given(
    texts=st.lists(st.lists(_OBJECT_PIECES, max_size=12).map("".join), min_size=1, max_size=8),
    reposts=st.lists(st.sampled_from([None, "p1", "p2"]), min_size=8, max_size=8),
)
def test_the_objects_spark_ships_are_the_objects_of_the_texts(texts, reposts):
    """The driver finds the groups from each post's objects as written (what Spark collects),
    not its text: the same objects, numbered and first written in the same order."""
    from spamflood.coordination import objects_as_written, post_objects

    reposts = reposts[: len(texts)]
    stand_ins = objects_as_written(texts)
    full, shipped = post_objects(texts, reposts), post_objects(stand_ins, reposts)
    assert full.post.tolist() == shipped.post.tolist() and full.code.tolist() == shipped.code.tolist()
    assert (full.names, full.shown) == (shipped.names, shipped.shown)


# --------------------------------------------------------------------------- a feed with every label


def _iso(t: datetime) -> str:
    return t.isoformat()


def _account(name: str, rng: random.Random, *, created: datetime | None = None, bio: str | None = "") -> dict[str, Any]:
    return {
        "author": name,
        "author_name": name,
        "author_bio": bio if bio != "" else f"{name} 的日常，喜欢读书和旅行",
        "author_created": _iso(created or START - timedelta(days=rng.randint(200, 3000))),
        "followers": rng.randint(20, 5000),
        "following": rng.randint(20, 800),
    }


WORDS_ZH = ["今天", "天气", "公园", "跑步", "朋友", "晚饭", "电影", "地铁", "下雨", "周末", "读书", "咖啡", "猫咪", "工作", "会议", "加班", "回家", "做饭", "旅行", "照片"]
WORDS_EN = ["morning", "coffee", "river", "bike", "train", "movie", "garden", "rain", "walk", "book", "dinner", "music", "city", "park", "friend", "weekend"]


def feed(seed: int = 0) -> list[dict[str, Any]]:
    """Planted campaigns for every label, organic posts around them, and malformed rows."""
    rng = random.Random(seed)
    posts: list[dict[str, Any]] = []

    def add(text: str, account: dict[str, Any], when: datetime) -> None:
        posts.append({"id": f"p{len(posts)}", "text": text, "time": _iso(when), **account})

    for k in range(240):  # organic chatter from 90 people over ten days
        who = _account(f"user{k % 90}", rng)
        words = [rng.choice(WORDS_ZH if k % 2 else WORDS_EN) for _ in range(rng.randint(6, 14))]
        add(("" if k % 2 else " ").join(words), who, START + timedelta(seconds=rng.randint(0, 10 * 86400)))
    # mass_share + soft_ad + batch_accounts: 30 bought accounts (templated names, made the same
    # day, empty bios) sweep one ad, with small edits, within 20 minutes.
    made = START - timedelta(days=3)
    ad = "限时特价！网红同款面膜买二送一，今天下单立减50元，加V：mask8899 了解详情，数量有限先到先得"
    for k in range(30):
        who = _account(f"xiaomei{k:03d}", rng, created=made + timedelta(minutes=k), bio=None)
        text = ad if k % 3 else ad.replace("面膜", "面 膜") + " 🔥"
        add(text, who, START + timedelta(days=2, seconds=40 * k + rng.randint(0, 30)))
    # drifting copies: each edits the one before, so the last is far from the first
    text = "周末特惠活动开始啦全场商品八折起还有神秘礼品等你来拿快来看看吧"
    for k in range(6):
        add(text, _account(f"drift{k}", rng), START + timedelta(days=3, minutes=7 * k))
        chars = list(text)
        chars[rng.randrange(len(chars))] = rng.choice("啊哦嗯哈呀")
        text = "".join(chars)
    # repetition: one account, one slogan, five times over three days
    for k in range(5):
        add("每天一杯好茶，健康生活从XX茶开始！", _account("teaguy", rng), START + timedelta(days=1 + k * 0.6))
    # holiday_template: four brands hang one greeting on Mid-Autumn, five days before it
    for k, brand in enumerate(["小米", "华为", "格力", "美的"]):
        add(f"【{brand}】祝您中秋快乐，阖家团圆，全场{k + 6}折", _account(f"brand{k}", rng), START + timedelta(days=6, hours=k))
    # chicken_soup: the same branded good-morning post at 07:30 on five days
    for k in range(5):
        add(f"早安！坚持梦想，努力就有收获 #元气品牌# 第{k + 1}天", _account("soupshop", rng), START + timedelta(days=k, hours=7, minutes=30))
    # auto_posting: a scheduler posting every ten minutes on the dot
    for k in range(12):
        add(f"{WORDS_EN[k]} {WORDS_ZH[k]} update number {k * 7919 % 1000}", _account("robot", rng), START + timedelta(days=4, minutes=10 * k))
    # hotspot_hijack and microbusiness
    add("雾霾又来了，大家注意防护！某某空气净化器限时特价599元，点击链接抢购 http://t.cn/abc", _account("airshop", rng), START + timedelta(days=5))
    add("今天又出了58单，感谢宝宝们支持！招代理，在家也能月入过万，加微信详聊", _account("wechatseller", rng), START + timedelta(days=5, hours=2))
    rng.shuffle(posts)
    for k, p in enumerate(posts):
        p["id"] = f"p{k}"
    # malformed rows, spread through the feed
    good = dict(posts[10])
    bad = [
        {"id": None, "text": "a post without an id", "author": "x", "time": _iso(START)},
        {"id": "b1", "text": None, "author": "x", "time": _iso(START)},
        {"id": "b2", "text": "   ", "author": "x", "time": _iso(START)},
        {"id": "b3", "text": "a post with a bad time", "author": "x", "time": "yesterday at noon"},
        {"id": "b4", "text": "长" * 25_000, "author": "x", "time": _iso(START)},
        {**good},  # a duplicate id
        {"id": "b5", "text": "a post without an author", "author": None, "time": _iso(START)},
    ]
    for k, row in enumerate(bad):
        posts.insert(23 * (k + 1), row)
    return posts


def _write_parquet(records: list[dict[str, Any]], path: Path, row_group_size: int = 64) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=row_group_size)
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_parquet(feed(), tmp_path_factory.mktemp("spark") / "feed.parquet")


def _rows(df: Any) -> list[dict[str, Any]]:
    return [r.asDict(recursive=True) for r in df.collect()]


def _assert_same(result: Any, expected: Any, *, raw: bool = True) -> None:
    assert result.rows_read == expected.rows_read
    rejects = [r.to_dict() for r in expected.rejects]
    if not raw:  # a timestamp in a raw row reads in Spark's session zone (same instant)
        rejects = [{**r, "raw": None} for r in rejects]
    assert [{**r, "raw": r["raw"] if raw else None} for r in _rows(result.rejects)] == rejects
    assert _rows(result.scored) == expected.records()
    assert _rows(result.clusters) == expected.cluster_records()


# --------------------------------------------------------------------------- Spark tests


def _feature_reading_detector() -> Detector:
    """A detector whose decision reads every feature value, in order: the rules' labels and
    reasons, but a score from a position-weighted sum over all the features (swap two features,
    or change one value by one bit, and the score or the last reason changes), as a trained
    model's would; the last reason also spells every feature's dtype. Defined here so that Spark pickles it by value to its workers."""
    from spamflood.decision import Decision

    class FeatureReading(Detector):
        def decide(self, findings, **given):
            base = super().decide(findings, **given)
            features, n = findings.values, findings.n
            z = np.zeros(n)
            for j, name in enumerate(features):
                v = np.asarray(features[name], dtype=np.float64)
                z += ((j * 7919) % 13 + 1) / 13 * np.where(np.isnan(v), -1.0, np.log1p(np.abs(v)))
            score = 1.0 / (1.0 + np.exp(-(z - 10.0) / 5.0))
            dtypes = "".join(np.asarray(v).dtype.char for v in features.values())  # float32 'f', float64 'd'
            said = [r + [f"z={float(z[i])!r} over {dtypes}"] for i, r in enumerate(base.reasons)]
            return Decision(score, base.labels, said, base.label_scores)

    return FeatureReading()


def _assert_same_with_features(result: Any, expected: Any) -> None:
    assert result.rows_read == expected.rows_read
    assert _rows(result.rejects) == [r.to_dict() for r in expected.rejects]
    assert _rows(result.scored) == expected.records(features=True)
    assert _rows(result.clusters) == expected.cluster_records()


@pytest.mark.spark
def test_same_results_as_one_machine_on_a_split_parquet_feed(spark, planted):
    from spamflood.spark import score_dataframe

    detector = _feature_reading_detector()
    expected = detector.score(str(planted))
    # Every label of the feed fires on one machine, so the comparison covers them all.
    fired = {label for labels in expected.labels for label in labels}
    assert fired >= {
        "mass_share", "repetition", "soft_ad", "batch_accounts", "holiday_template",
        "chicken_soup", "auto_posting", "hotspot_hijack", "microbusiness",
    }
    assert set(expected.features) == set(FEATURES) and len(set(np.round(expected.score, 6))) > 10
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8k")  # several input partitions
    try:
        df = spark.read.parquet(str(planted))
        assert df.rdd.getNumPartitions() > 1
        result = score_dataframe(spark, df, detector=detector, features=True, partitions=3)
        # Same features (names, order, float64 values), same decisions, labels and reasons.
        _assert_same_with_features(result, expected)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    summary = result.summary()
    assert summary == {**expected.summary(), "blank_lines": 0}
    assert summary["rows_read"] == summary["scored"] + summary["rejected"]


@pytest.mark.spark
def test_the_bundled_model_scores_the_same_on_spark(spark, planted):
    from spamflood.spark import score_dataframe

    detector = Detector.load()  # the trained model decides: scores, label heads, reasons
    expected = detector.score(str(planted))
    assert detector.model is not None and expected.flagged.any()
    result = score_dataframe(spark, spark.read.parquet(str(planted)), detector=detector, features=True)
    _assert_same_with_features(result, expected)


@pytest.mark.spark
def test_same_results_with_cluster_labels_only_a_field_map_and_another_zone(spark, tmp_path):
    from spamflood.spark import score_dataframe

    def timestamp(value: str) -> datetime | None:  # Parquet timestamps (UTC-adjusted) in and out of Spark
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None

    records = [
        {"mid": r["id"], "content": r["text"], "user": {"id": r["author"]}, "created_at": timestamp(r["time"])}
        for r in feed(seed=1)
    ]
    path = _write_parquet(records, tmp_path / "nested.parquet")
    field_map = FieldMap.parse("id=mid,text=content,author=user.id,time=created_at")
    detector = Detector(criteria=False, window="30min", min_authors=4, tz="Asia/Shanghai")
    expected = detector.score(str(path), field_map=field_map, tz="Asia/Shanghai")
    result = score_dataframe(spark, spark.read.parquet(str(path)), detector=detector, field_map=field_map, tz="Asia/Shanghai")
    _assert_same(result, expected, raw=False)
    # Spark keeps the instant of a Parquet timestamp, not its offset: raw rows show it in the
    # session time zone (UTC here), one machine in the file's (+08:00).
    assert '"created_at": "2026-09-13 16:00:00+00:00"' in result.rejects.first()["raw"]
    assert '"created_at": "2026-09-14 00:00:00+08:00"' in expected.rejects[0].raw
    assert any("mass_share" in labels for labels in expected.labels)


def _precision_feed(seed: int = 5) -> list[dict[str, Any]]:
    """Accounts exported to the minute among accounts with seconds, a scheduler on exact
    minutes, and posts without an author inside a flood and a festival template."""
    rng = random.Random(seed)
    posts: list[dict[str, Any]] = []

    def add(text: str, author: str | None, when: datetime) -> None:
        posts.append({"id": f"p{len(posts)}", "text": text, "author": author, "time": _iso(when)})

    for k in range(20):  # 8 ordinary accounts to the minute, 12 with seconds, 8 posts each
        for _ in range(8):
            when = START + timedelta(seconds=rng.randint(0, 5 * 86400))
            words = " ".join(rng.choice(WORDS_EN) for _ in range(rng.randint(5, 9)))
            add(words, f"person{k}", when.replace(second=0) if k < 8 else when)
    minute = 0
    for j in range(12):  # on exact minutes at irregular gaps, never on the quarter hour
        minute += rng.randint(20, 200)
        minute += minute % 15 == 0
        add(f"{WORDS_EN[j]} offer {j}", "scheduler", START + timedelta(minutes=minute))
    ad = "限时特价！网红同款面膜买二送一，今天下单立减50元，加V：mask8899 了解详情"
    for k in range(12):  # six accounts and six posts without an author share one ad
        add(ad, f"fan{k}" if k % 2 else None, START + timedelta(days=1, seconds=37 * k))
    for k, brand in enumerate(["小米", "华为", "格力", "美的", "海尔", "联想"]):  # two shops lost their author
        add(f"【{brand}】祝您中秋快乐，阖家团圆", f"shop{k}" if k < 4 else None, START + timedelta(days=6, hours=k))
    rng.shuffle(posts)
    for k, p in enumerate(posts):
        p["id"] = f"p{k}"
    return posts


@pytest.mark.spark
def test_per_account_precision_and_posts_without_authors_as_on_one_machine(spark, tmp_path):
    from spamflood.spark import score_dataframe

    path = _write_parquet(_precision_feed(), tmp_path / "precision.parquet")
    field_map = FieldMap.parse(optional=("author",))
    detector = _feature_reading_detector()
    expected = detector.score(str(path), field_map=field_map)
    by_author = {}
    for record, author in zip(expected.records(features=True), expected.batch.authors):
        by_author.setdefault(author, []).append(record)
    # one machine: too few of the other accounts keep seconds for anyone's :00 seconds to be
    # evidence (a feed-wide "some time has seconds" made them so on Spark, firing auto_posting
    # on the eight accounts exported to the minute and on the scheduler)
    assert not any("auto_posting" in r["labels"] for rs in by_author.values() for r in rs)
    assert all(r["features"]["AUTO_POSTING_ZERO_SECONDS"] is None for rs in by_author.values() for r in rs)
    assert by_author["person0"][0]["features"]["AUTO_POSTING_ROUND_MINUTE"] is not None
    # the ad's cluster counts its six accounts, not the six posts without one
    flood = [c for c in expected.cluster_records() if c["size"] == 12]
    assert len(flood) == 1 and flood[0]["authors"] == 6
    template = [r for r in expected.records(features=True) if r["features"]["HOLIDAY_TEMPLATE_SKELETON_SHARED"] == 4.0]
    assert len(template) == 6  # four shops share it; the two posts without an author are counted in none
    result = score_dataframe(spark, spark.read.parquet(str(path)), detector=detector, field_map=field_map, features=True, partitions=3)
    _assert_same_with_features(result, expected)


@pytest.mark.spark
def test_score_parquet_writes_posts_rejects_and_clusters(spark, planted, tmp_path):
    import pyarrow.parquet as pq

    from spamflood.spark import score_parquet

    out = tmp_path / "scored.parquet"
    summary = score_parquet(
        spark, str(planted), str(out), clusters_path=str(tmp_path / "clusters.parquet"), checkpoint_dir=str(tmp_path / "ckpt")
    )
    scored = pq.read_table(out)
    assert scored.column_names == [
        "id", "score", "flagged", "labels", "reasons", "cluster", "cluster_size", "cluster_authors"
    ]
    rejects = pq.read_table(tmp_path / "scored.rejects.parquet").to_pylist()
    assert [r["field"] for r in rejects] == ["id", "text", "text", "time", "text", "id", "author"]
    assert rejects[5]["reason"].startswith("duplicate id 'p10' (first seen on line ")
    clusters = pq.read_table(tmp_path / "clusters.parquet").to_pylist()
    assert clusters[0]["flood"] and clusters[0]["authors"] == 30
    assert summary["scored"] == scored.num_rows and summary["rejected"] == len(rejects) == 7
    assert summary["rows_read"] == summary["scored"] + summary["rejected"]


@pytest.mark.spark
def test_strict_stops_at_the_first_rejected_row(spark, planted):
    from spamflood.spark import score_dataframe

    with pytest.raises(InputError, match=r"line 24, field 'id': missing or empty"):
        score_dataframe(spark, spark.read.parquet(str(planted)), detector=Detector(criteria=False), strict=True)


@pytest.mark.spark
@pytest.mark.parametrize("driver_edges", [0, 1000], ids=["rounds", "on-the-driver"])
def test_components_are_stars_on_the_smallest_row(spark, driver_edges):
    from spamflood.spark.components import Checkpointer, connected_components

    rng = random.Random(5)
    edges = [(2, 1), (3, 2), (4, 3), (10, 4), (20, 21), (22, 21), (23, 20), (30, 31)]
    edges += [(100 + k, 100 + rng.randrange(k)) for k in range(1, 40)]  # a random tree
    rng.shuffle(edges)
    df = spark.createDataFrame(edges, "src long, dst long")
    found = {
        r["row"]: r["root"]
        for r in connected_components(df, checkpoint=Checkpointer(spark), driver_edges=driver_edges).collect()
    }
    expected = dict.fromkeys((1, 2, 3, 4, 10), 1) | dict.fromkeys((20, 21, 22, 23), 20) | {30: 30, 31: 30}
    expected |= {100 + k: 100 for k in range(40)}
    assert found == expected


@pytest.mark.spark
def test_the_jvm_fingerprint_filter_counts_what_numpy_counts(spark):
    from spamflood.spark.components import fingerprint_disagreements
    from spamflood.spark.partitions import (
        fingerprint_matches,
        fingerprint_words,
        fingerprints,
    )

    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**32, size=(200, K), dtype=np.uint32)
    b = np.where(rng.random((200, K)) < rng.random((200, 1)), a, rng.integers(0, 2**32, size=(200, K), dtype=np.uint32))
    wa, wb = fingerprint_words(a).view(np.int64), fingerprint_words(b).view(np.int64)  # as prepare() hands them over
    rows = [(i, wa[i].tolist(), wb[i].tolist()) for i in range(200)]
    df = spark.createDataFrame(rows, "i long, a array<long>, b array<long>")
    found = {r["i"]: r["d"] for r in df.select("i", fingerprint_disagreements("a", "b").alias("d")).collect()}
    expected = K - fingerprint_matches(fingerprints(a), fingerprints(b))
    assert [found[i] for i in range(200)] == expected.tolist()


@pytest.mark.spark
def test_candidate_edges_of_random_buckets_are_the_documented_ones(spark):
    from spamflood.spark.components import candidate_edges

    rng = random.Random(11)
    rows = rng.sample(range(10_000), 300)
    keys = {row: [rng.randrange(40) for _ in range(4)] for row in rows}  # many shared buckets
    expected = set()
    for band in range(4):
        buckets: dict[int, list[int]] = {}
        for row in rows:
            buckets.setdefault(keys[row][band], []).append(row)
        for members in buckets.values():
            members.sort()
            for j in range(1, len(members)):
                expected |= {(members[j], members[0]), (members[j], members[j - 1])}
    df = spark.createDataFrame([(row, keys[row]) for row in rows], "row long, keys array<long>")
    found = [(r["src"], r["dst"]) for r in candidate_edges(df, partitions=3).collect()]
    assert len(found) == len(set(found)) and set(found) == expected


@pytest.mark.spark
def test_candidate_edges_pair_each_member_with_the_smallest_and_the_previous(spark):
    from spamflood.spark.components import candidate_edges

    keys = spark.createDataFrame(
        [(5, [7, 1]), (2, [7, 2]), (9, [7, 1]), (4, [8, 1]), (6, None)], "row long, keys array<long>"
    )
    edges = sorted((r["src"], r["dst"]) for r in candidate_edges(keys).collect())
    # band 0, key 7: rows 2 < 5 < 9; band 1, key 1: rows 4 < 5 < 9
    assert edges == [(5, 2), (5, 4), (9, 2), (9, 4), (9, 5)]


def test_shuffle_parts_hold_50k_to_100k_posts_two_per_core_between():
    pytest.importorskip("pyspark", reason="spamflood.spark needs PySpark: pip install 'spamflood[spark]'")
    from spamflood.spark.pipeline import shuffle_partitions

    assert shuffle_partitions(20_000, cores=2) == 1
    assert shuffle_partitions(200_000, cores=2) == 4  # two per core, 50,000 posts each
    assert shuffle_partitions(1_000_000, cores=2) == 10  # no part over 100,000 posts
    assert shuffle_partitions(1_000_000, cores=64) == 20  # no part under 50,000 posts
    assert shuffle_partitions(100_000_000, cores=100) == 1000
    assert shuffle_partitions(0, cores=8) == 1


# --------------------------------------------------------------------------- the command line


def _jsonl_feed(records: list[dict[str, Any]]) -> bytes:
    """The planted feed as JSONL, with what real exports hold: blank lines, a line that is not
    JSON, a JSON array, invalid UTF-8, Windows line ends, and a last line cut off (no line end)."""
    import json

    lines = [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records]
    lines[3] = lines[3][:-1] + b"\r\n"
    lines[40:40] = [b"\n", b"   \n", b'{"id": "x1", "text": not json}\n', b"[1, 2]\n"]
    lines[90:90] = [b'{"id": "x2", "text": "caf\xe9", "author": "a", "time": "2026-09-14T08:00:00+08:00"}\n']
    return b"".join(lines) + b'{"id": "x3", "text": "cut off'


def _csv_feed(records: list[dict[str, Any]]) -> bytes:
    """The planted feed as CSV, with a text spanning lines, a row of the wrong width and a
    blank line."""
    import csv
    import io

    names = ["id", "text", "author", "time", "author_name", "author_bio", "author_created", "followers", "following"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for k, r in enumerate(records):
        row = ["" if r.get(n) is None else r.get(n) for n in names]
        if k == 7:
            row[1] = "第一行\n第二行, \"quoted\""
        writer.writerow(row)
        if k == 30:
            out.write("only,three,fields\n\n")
    return out.getvalue().encode()


def _run_cli(runs: list[list[str]]) -> subprocess.CompletedProcess[str]:
    """``main(argv)`` for each run, in one fresh Python process (as a user's shell runs it)."""
    code = f"import sys; from spamflood.cli import main; sys.exit(max(main(a) for a in {runs!r}))"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=600)


def _read(path: Path) -> Any:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return path.read_bytes()


def _write_formats(folder: Path, records: list[dict[str, Any]]) -> None:
    (folder / "feed.jsonl").write_bytes(_jsonl_feed(records))
    (folder / "feed.csv").write_bytes(_csv_feed(records))
    _write_parquet(records, folder / "feed.parquet")


def _rejects_beside(output: Path) -> Path:
    return output.with_name(output.name.rsplit(".", 1)[0] + ".rejects.jsonl")


@pytest.mark.spark
def test_score_file_reads_and_writes_every_format_as_the_local_engine_does(spark, tmp_path):
    # Each format in and out, on the tests' one session: the file's bytes (Parquet: its rows)
    # and the rejects (line, field, reason and raw) are the local command's.
    import json

    from spamflood.cli import main
    from spamflood.spark import score_file

    _write_formats(tmp_path, feed(seed=2))
    rejects = {}
    for source, out in [("feed.jsonl", "csv"), ("feed.csv", "parquet"), ("feed.parquet", "jsonl")]:
        name = f"{Path(source).stem}-{Path(source).suffix[1:]}.{out}"
        local, on_spark = tmp_path / "local" / name, tmp_path / "spark" / name
        local.parent.mkdir(exist_ok=True)
        on_spark.parent.mkdir(exist_ok=True)
        assert main(["score", str(tmp_path / source), "-o", str(local), "--rules", "-q"]) == 0
        run = score_file(spark, str(tmp_path / source), str(on_spark), detector=Detector())
        assert _read(on_spark) == _read(local), name
        local_rejects = [json.loads(line) for line in _rejects_beside(local).read_text().splitlines()]
        assert [r.to_dict() for r in run.rejects] == local_rejects, name
        assert len(local_rejects) >= 7
        rejects[source] = "\n".join(r["reason"] for r in local_rejects)
    for said in ("malformed JSON", "expected a JSON object", "invalid UTF-8", "unexpected end of data"):
        assert said in rejects["feed.jsonl"]
    assert "row has 3 fields but the header has 9" in rejects["feed.csv"]


@pytest.mark.spark
def test_the_cli_scores_on_spark_as_the_local_engine_does(tmp_path):
    # What the command adds to score_file, in a process of its own as a shell runs it (one JVM
    # start, one feed; every format is the test above's): exit 0, the same file and rejects
    # file beside it as the local engine's, one summary a run, and no warning twice.
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    (tmp_path / "feed.jsonl").write_bytes(_jsonl_feed(feed(seed=2)))
    outputs = {engine: tmp_path / engine / "scored.csv" for engine in ("spark", "local")}
    runs = []
    for engine, target in outputs.items():
        target.parent.mkdir()
        argv = ["score", str(tmp_path / "feed.jsonl"), "-o", str(target), "--rules", "--engine", engine]
        runs.append([*argv, "--master", "local[2]"] if engine == "spark" else argv)
    done = _run_cli(runs)
    assert done.returncode == 0, done.stderr
    assert outputs["spark"].read_bytes() == outputs["local"].read_bytes()
    spark_rejects = _rejects_beside(outputs["spark"]).read_bytes()
    assert spark_rejects == _rejects_beside(outputs["local"]).read_bytes()
    assert spark_rejects.count(b"\n") >= 7 and b"malformed JSON" in spark_rejects
    err = done.stderr
    assert err.count("spamflood summary") == 2 and err.count("rows read") == 2
    assert "blank lines skipped" in err
    assert "PySpark does not yet fully support pandas" not in err
    warnings = [line for line in err.splitlines() if "Warning" in line]
    assert len(warnings) == len(set(warnings)), warnings


@pytest.mark.spark
def test_the_cli_refuses_what_spark_cannot_write_as_one_file(tmp_path):
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    feed_path = _write_parquet(feed()[:20], tmp_path / "feed.parquet")
    done = _run_cli([["score", str(feed_path), "-o", "hdfs:///out/scored.parquet", "--engine", "spark", "--rules", "--master", "local[1]"]])
    assert done.returncode == 2
    assert "not a local path" in done.stderr and "score_parquet" in done.stderr


@pytest.mark.spark
def test_a_story_two_group_accounts_share_by_chance_is_not_the_groups_on_spark(spark, tmp_path):
    """The groups are found on the driver by the batch's rule: the bots' shares of a story that
    one of the group's 15 edges co-posted by chance are not the group's posts on Spark either."""
    from test_coordination import campaign, news_shared_by_readers_and_two_bots, organic_trend

    from spamflood.spark import score_dataframe

    posts = campaign() + news_shared_by_readers_and_two_bots() + organic_trend(people=60)
    records = [
        {"id": p.id, "text": p.text, "author": p.author, "time": datetime.fromtimestamp(p.time, UTC).isoformat()}
        for p in posts
    ]
    path = _write_parquet(records, tmp_path / "story.parquet")
    detector = Detector()
    expected = detector.score(str(path))
    result = score_dataframe(spark, spark.read.parquet(str(path)), detector=detector, partitions=2)
    _assert_same(result, expected)
    labelled = {r["id"] for r in expected.records() if "coordinated" in r["labels"]}
    assert labelled == {p.id for p in campaign()}
