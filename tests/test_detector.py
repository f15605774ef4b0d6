"""The batch detector end to end: planted floods (with evasion) found, organic posts left alone."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood import Detector
from spamflood.errors import ConfigError, InputError

BASE = 1771286400  # 2026-02-17T00:00:00Z

AD_ZH = "限时特价！网红同款面膜买二送一，今天下单立减50元，加V：mask8899 了解详情，数量有限先到先得"
AD_EN = "Flash sale today only: our best-selling vitamin gummies 50% off, DM me or tap the link in bio"

ORGANIC = [
    "今天去公园跑了五公里，天气很好，心情也不错",
    "Just finished reading a great novel about sailing across the Pacific",
    "周末和朋友一起包饺子，第一次自己擀皮，形状有点丑哈哈",
    "The new bridge downtown finally opened; traffic was lighter this morning",
    "加班到十点，地铁上人还是很多，回家煮个面就睡了",
    "My cat knocked a glass off the table again and looked very proud of it",
    "下午的会议讨论了下季度的预算，还要再改一版方案",
    "Does anyone know a good place to fix a bike chain near the station?",
    "冬天的第一场雪，小区里的孩子们都在堆雪人",
    "Tried a new recipe for lentil soup, needs more garlic next time",
]


def evade(text: str, level: int, rng: random.Random) -> str:
    """Evasion variants the issue names: zero-width characters, spacing, emoji, brand swaps."""
    if level == 1:
        return text.replace("，", " 🔥 ", 1) + " ✨✨"
    if level == 2:
        return "\u200b".join(text[:20]) + text[20:]
    if level == 3:
        return text.replace("加V", "加 V").replace("面膜", "面 膜").replace("mask", "ｍａｓｋ")
    if level == 4:
        return text.replace("网红", "爆款").replace("vitamin", "collagen")
    return text


def planted_feed(seed: int = 0):
    rng = random.Random(seed)
    posts = []
    for k in range(60):  # a screen-sweeping flood: 60 accounts in 12 minutes
        text = evade(AD_ZH if k % 2 else AD_EN, k % 5, rng)
        posts.append({"id": f"f{k}", "text": text, "author": f"shop{k:03d}", "time": BASE + 12 * k})
    for k in range(4):  # one account repeating its slogan over days
        posts.append({"id": f"r{k}", "text": "每天一杯好茶，健康生活从XX茶开始！", "author": "teaguy", "time": BASE + 86400 * k})
    for k, text in enumerate(ORGANIC * 3):  # organic users, some texts shared by 3 people over a day
        posts.append({"id": f"o{k}", "text": text + ("" if k < 10 else f" ({k})"), "author": f"user{k}", "time": BASE + 3000 * k})
    rng.shuffle(posts)
    return posts


@pytest.fixture(scope="module")
def result():
    return Detector().score(planted_feed())


def by_id(result):
    return {p.id: p for p in result}


def test_every_post_is_scored(result):
    assert len(result) == 60 + 4 + 30 and not result.rejects


def test_planted_flood_recovered_as_one_cluster_with_all_evasions(result):
    posts = by_id(result)
    zh = {posts[f"f{k}"].cluster for k in range(1, 60, 2)}
    en = {posts[f"f{k}"].cluster for k in range(0, 60, 2)}
    assert len(zh) == 1 and None not in zh
    assert len(en) == 1 and None not in en
    flood = posts["f1"]
    assert flood.flagged and flood.labels[0] == "mass_share"
    assert flood.cluster_authors == 30
    assert flood.reasons[0].startswith("mass_share: 30 near-identical posts from 30 accounts within")


def test_repetition_by_one_account(result):
    post = by_id(result)["r0"]
    assert "repetition" in post.labels and "mass_share" not in post.labels
    assert post.reasons == ["repetition: account teaguy posted 4 near-identical copies within 3 days"]


def test_organic_posts_are_not_flagged(result):
    posts = by_id(result)
    organic = [posts[f"o{k}"] for k in range(30)]
    assert not any(p.flagged for p in organic)
    # Three people sharing one line over a day is a cluster, not a flood.
    assert all("mass_share" not in p.labels for p in organic)


def test_cluster_records_lead_with_floods(result):
    rows = result.cluster_records()
    assert rows[0]["flood"] and rows[0]["authors"] == 30
    assert set(rows[0]) >= {"cluster", "size", "authors", "first_time", "last_time", "peak_authors", "representative_text"}


def test_same_input_same_output():
    a = Detector().score(planted_feed(1))
    b = Detector().score(planted_feed(1))
    assert a.records() == b.records()


def test_a_detector_keeps_its_decision_step_until_its_rules_model_or_threshold_change():
    import pickle

    detector = Detector.load()
    decider = detector.decider
    assert detector.decider is decider  # the model is compiled once, not at every decide()
    detector.threshold = 0.7
    assert detector.decider is not decider and detector.decider.threshold == 0.7
    feed = planted_feed(3)
    before = detector.score(feed).records()
    copy = pickle.loads(pickle.dumps(detector))  # the compiled parts are not shipped: compiled again there
    assert copy._decider is None and copy._compiled_text is None
    assert copy.score(feed).records() == before


def test_two_workers_give_the_same_result():
    feed = planted_feed(2)
    one = Detector(chunk_rows=17).score(feed).records()
    two = Detector(chunk_rows=17, n_jobs=2).score(feed).records()
    assert one == two


def test_workers_reading_a_jsonl_file_themselves_give_one_process_result(tmp_path):
    # With n_jobs > 1 the workers read byte ranges of the file; line numbers, rejects and
    # blank lines must be what one process reading it line by line finds.
    import json

    lines = [json.dumps(post, ensure_ascii=False).encode() for post in planted_feed(seed=3)]
    lines[5:5] = [b"", b"   \r", b"{not json", b"\xff\xfe"]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(lines * 300))  # no final line end; large enough for several spans
    one = Detector(n_jobs=1, chunk_rows=500).score(str(path))
    two = Detector(n_jobs=2, chunk_rows=500).score(str(path))
    assert [p.to_dict() for p in one] == [p.to_dict() for p in two]
    assert [(r.line, r.field, r.reason) for r in one.rejects] == [(r.line, r.field, r.reason) for r in two.rejects]
    assert one.blank_lines == two.blank_lines == 600 and len(one.rejects) > 300
    assert one.rows_read == two.rows_read == len(one) + len(one.rejects)


def test_workers_writing_signatures_by_line_into_shared_memory_cluster_as_one_process(tmp_path):
    # every line a post: the shared array the workers filled is used as it is, not copied
    import json

    posts = [dict(post, id=f"{k}-{post['id']}") for k in range(40) for post in planted_feed(seed=4)]
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps(post, ensure_ascii=False) + "\n" for post in posts), encoding="utf-8")
    one = Detector(n_jobs=1, chunk_rows=700, criteria=False).score(str(path))
    two = Detector(n_jobs=2, chunk_rows=700, criteria=False).score(str(path))
    assert not two.rejects and len(two) == len(posts)
    assert two.clusters.labels.tolist() == one.clusters.labels.tolist()
    assert [p.to_dict() for p in one] == [p.to_dict() for p in two]
    assert two.clusters.size.max() >= 40 * 5  # the planted flood, copied 40 times, is one cluster


def test_duplicate_ids_go_to_rejects():
    feed = planted_feed()[:5]
    feed.append(dict(feed[0], text="a different text"))
    result = Detector().score(feed)
    assert len(result) == 5 and len(result.rejects) == 1
    reject = result.rejects[0]
    assert reject.field == "id" and reject.line == 6 and "first seen on line 1" in reject.reason


def test_strict_raises_at_the_first_bad_row():
    feed = planted_feed()[:3] + [{"id": "x", "text": "", "author": "a", "time": BASE}]
    with pytest.raises(InputError, match="line 4, field 'text'"):
        Detector().score(feed, strict=True)


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    result = Detector().score(pd.DataFrame(planted_feed()))
    assert len(result) == 94 and result.to_frame().shape[0] == 94


def _feed_with_rejects():
    """The planted feed (94 posts) with four bad rows among them: an unreadable time, a missing
    text, a duplicate id, an empty author. (An unreadable follower count is read as missing, not
    rejected: it is an optional field.)"""
    feed = [dict(post) for post in planted_feed()]
    feed[10]["time"] = "yesterday"
    feed[11]["text"] = ""
    feed[40]["id"] = feed[39]["id"]
    feed[70]["author"] = ""
    return feed


@pytest.mark.parametrize("index", ["strings", "shuffled ints"])
def test_score_frame_keeps_the_callers_index_and_every_row(index):
    pd = pytest.importorskip("pandas")
    feed = _feed_with_rejects()
    labels = [f"row-{k}" for k in range(len(feed))] if index == "strings" else random.Random(3).sample(range(1000), len(feed))
    frame = pd.DataFrame(feed, index=labels)
    out = Detector(chunk_rows=7).score_frame(frame)  # several chunks: rows numbered across them
    assert out.index.equals(frame.index) and len(out) == len(feed)
    rejected = {labels[k] for k in (10, 11, 40, 70)}
    assert set(out.index[out["reject"].notna()]) == rejected
    assert out.loc[labels[10], "reject"].startswith("field 'time': ")
    assert out.loc[labels[40], "reject"].startswith("field 'id': duplicate id")
    bad = out.loc[sorted(rejected, key=labels.index)]
    assert bad["score"].isna().all() and bad["flagged"].isna().all() and bad["cluster"].isna().all()
    assert bad["id"].isna().all() and bad["cluster_size"].isna().all()
    # each scored row carries its own post's verdict: the one score() gives for that id
    by_post = {p.id: p for p in Detector().score(feed)}
    good = out[out["reject"].isna()]
    assert (good["id"] == [feed[labels.index(i)]["id"] for i in good.index]).all()
    assert good["score"].tolist() == [round(by_post[i].score, 6) for i in good["id"]]
    assert good["flagged"].tolist() == [by_post[i].flagged for i in good["id"]]
    assert good["cluster"].tolist() == [pd.NA if by_post[i].cluster is None else by_post[i].cluster for i in good["id"]]
    # the reason for all this: assigning a column lines up by index
    frame["score"] = out["score"]
    assert frame.loc[labels[12], "score"] == round(by_post[feed[12]["id"]].score, 6)
    assert out.dtypes.to_dict() | {"id": None, "reject": None, "labels": None, "reasons": None} == {
        "id": None, "score": np.dtype("float64"), "flagged": pd.BooleanDtype(), "labels": None, "reasons": None,
        "cluster": pd.Int64Dtype(), "cluster_size": pd.Int64Dtype(), "cluster_authors": pd.Int64Dtype(), "reject": None,
    }


@given(
    st.lists(st.sampled_from(["ok", "ok", "ok", "no text", "bad time", "no id"]), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_score_frame_puts_every_verdict_and_every_reject_on_its_own_row(kinds, rng):
    pd = pytest.importorskip("pandas")
    rows = []
    for k, kind in enumerate(kinds):
        row = {"id": f"p{k}", "text": f"{AD_ZH} {k % 3}", "author": f"u{k}", "time": BASE + 60 * k}
        if kind == "no text":
            row["text"] = None
        elif kind == "bad time":
            row["time"] = "soon"
        elif kind == "no id":
            row["id"] = None
        rows.append(row)
    index = rng.sample(range(-50, 50), len(rows))
    out = Detector().score_frame(pd.DataFrame(rows, index=index))
    assert out.index.tolist() == index
    for label, row, kind in zip(index, rows, kinds):
        if kind == "ok":
            assert out.loc[label, "id"] == row["id"] and out.loc[label, "score"] >= 0 and pd.isna(out.loc[label, "reject"])
        else:
            field = {"no text": "text", "bad time": "time", "no id": "id"}[kind]
            assert out.loc[label, "reject"].startswith(f"field '{field}': ") and np.isnan(out.loc[label, "score"])


def test_score_frame_of_a_list_of_dicts_is_indexed_by_position_and_refuses_a_path(tmp_path):
    pytest.importorskip("pandas")
    feed = _feed_with_rejects()
    out = Detector().score_frame(iter(feed))
    assert out.index.tolist() == list(range(len(feed))) and out["reject"].notna().sum() == 4
    with pytest.raises(ConfigError, match=r"for a file, use score\(path\).to_frame\(\)"):
        Detector().score_frame(str(tmp_path / "feed.jsonl"))


def test_to_frame_gives_cluster_as_a_nullable_integer():
    pd = pytest.importorskip("pandas")
    result = Detector().score(planted_feed() + [{"id": "e", "text": "🔥🔥", "author": "a", "time": BASE}])
    frame = result.to_frame()
    assert frame["cluster"].dtype == pd.Int64Dtype() and frame.index.equals(pd.RangeIndex(len(result)))
    assert frame["cluster"].tolist() == [pd.NA if p.cluster is None else p.cluster for p in result]
    assert frame["cluster"].isna().any() and frame["cluster"].notna().any()
    assert frame["score"].tolist() == [r["score"] for r in result.records()]
    assert frame["cluster_size"].tolist() == [r["cluster_size"] for r in result.records()]


def test_a_result_and_a_post_print_as_counts_not_the_batch(result):
    assert repr(result) == (
        f"ScoreResult(posts=94, flagged={int(result.flagged.sum())}, clusters={len(result.clusters)}, rejects=0)"
    )
    post = by_id(result)["f0"]
    assert repr(post) == (
        f"ScoredPost(id='f0', score={post.score:.3f}, flagged=True, labels={post.labels!r}, cluster={post.cluster})"
    )


def test_emoji_only_post_is_scored_but_never_clusters():
    feed = [{"id": str(k), "text": "🔥🔥🔥", "author": f"a{k}", "time": BASE} for k in range(10)]
    result = Detector().score(feed)
    assert len(result) == 10 and all(p.cluster is None for p in result)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"similarity": 1.5}, "The 'similarity' parameter of Detector must be a float in the range (0.0, 1.0). Got 1.5 instead."),
        ({"threshold": "high"}, "The 'threshold' parameter of Detector must be a float in the range [0.0, 1.0]. Got 'high' instead."),
        ({"threshold": 2}, "The 'threshold' parameter of Detector must be a float in the range [0.0, 1.0]. Got 2 instead."),
        ({"window": "soon"}, "The 'window' parameter of Detector must be a positive duration like '90s', '15min', '1h', '2d' or seconds. Got 'soon' instead."),
        ({"window": 0}, "The 'window' parameter of Detector must be a positive duration"),
        ({"min_authors": 1}, "The 'min_authors' parameter of Detector must be an int in the range [2, inf). Got 1 instead."),
        ({"min_copies": 2.5}, "The 'min_copies' parameter of Detector must be an int in the range [2, inf). Got 2.5 instead."),
        ({"num_perm": 1}, "The 'num_perm' parameter of Detector must be an int in the range [2, inf). Got 1 instead."),
        ({"ngram": 0}, "The 'ngram' parameter of Detector must be an int in the range [1, inf). Got 0 instead."),
        ({"seed": -1}, "The 'seed' parameter of Detector must be an int in the range [0, 4294967295]. Got -1 instead."),
        ({"n_jobs": 0}, "The 'n_jobs' parameter of Detector must be an int in the range [1, inf) or -1 (one per core). Got 0 instead."),
        ({"chunk_rows": 0}, "The 'chunk_rows' parameter of Detector must be an int in the range [1, inf). Got 0 instead."),
        ({"criteria": "yes"}, "The 'criteria' parameter of Detector must be an instance of 'bool'. Got 'yes' instead."),
        ({"tz": "Mars/Olympus"}, "The 'tz' parameter of Detector must be an IANA time zone like 'Asia/Shanghai' or 'UTC'. Got 'Mars/Olympus' instead."),
        ({"model": "models/x.joblib"}, "The 'model' parameter of Detector must be None or a fitted FloodModel (see Detector.load)."),
    ],
)
def test_a_bad_parameter_is_refused_at_construction_by_name(params, message):
    with pytest.raises(ConfigError) as caught:
        Detector(**params)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)  # the CLI maps it to exit 2


def test_features_are_named():
    result = Detector().score(planted_feed())
    assert "MASS_SHARE_AUTHORS_IN_WINDOW" in result.features
    assert np.all(result.features["MASS_SHARE_AUTHORS_IN_WINDOW"] >= 0)


def test_features_and_label_scores_keep_one_order():
    # The batch families are computed in two parts (those that read the clusters after them),
    # but the columns come in registry order, family after family, as the output writes them.
    from spamflood.criteria.registry import FAMILIES, feature_names
    from spamflood.decision import POST_FAMILIES as TEXT_FAMILIES
    from spamflood.decision import WHOLE_BATCH_FAMILIES as BATCH_FAMILIES

    result = Detector.load().score(planted_feed())
    criteria = set(feature_names(TEXT_FAMILIES + BATCH_FAMILIES))
    criteria_columns = [name for name in result.features if name in criteria]
    assert criteria_columns == feature_names(TEXT_FAMILIES) + feature_names(BATCH_FAMILIES)
    criteria_labels = [label for label in result.label_scores if label in TEXT_FAMILIES + BATCH_FAMILIES]
    assert criteria_labels == [f for f in FAMILIES if f in criteria_labels]  # labels in registry order


def test_criteria_labels_come_with_evidence(result):
    post = by_id(result)["f1"]  # the Chinese ad: price, discount, contact handle
    assert "soft_ad" in post.labels
    reason = next(r for r in post.reasons if r.startswith("soft_ad:"))
    assert "加v" in reason.lower() or "mask8899" in reason.lower()
    assert any(name.startswith("SOFT_AD_") for name in result.features)


def test_criteria_can_be_switched_off():
    result = Detector(criteria=False).score(planted_feed())
    assert all(set(p.labels) <= {"mass_share", "repetition"} for p in result)


def test_scoring_with_the_rules_does_not_load_scikit_learn():
    # scikit-learn costs about a second to import; only CriteriaFeatures and the model need it
    import subprocess
    import sys

    code = (
        "import sys, spamflood\n"
        "r = spamflood.Detector().score([{'id': '1', 'text': '限时特价加微信', 'author': 'a', 'time': 1771286400}])\n"
        "assert r.features, 'criteria computed'\n"
        "print('sklearn' in sys.modules)\n"
        "spamflood.Detector.load()  # the model file is checked, and unpickled when first needed\n"
        "print('sklearn' in sys.modules)\n"
        "spamflood.CriteriaFeatures\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]


# -- missing times and authors: unknown, never 1970 and never an account -----------------------------

FLOOD_COPY = "Limited offer today: the ceramic travel mug set at half price, message shop2231 to order yours now"


def _flood(accounts: int, *, spacing: float | None = 120.0, author: bool = True) -> list[dict]:
    posts = []
    for k in range(accounts):
        post = {"id": f"m{k}", "text": FLOOD_COPY}
        if author:
            post["author"] = f"buyer{k:02d}"
        if spacing is not None:
            post["time"] = BASE + spacing * k
        posts.append(post)
    return posts


def _optional(*fields: str):
    from spamflood.io import FieldMap

    return FieldMap.parse(None, optional=fields)


def test_a_copy_without_a_time_neither_stretches_the_span_nor_hides_the_flood():
    # six accounts within 10 minutes, and a seventh copy whose time is missing
    feed = _flood(6, spacing=120.0) + [{"id": "late", "text": FLOOD_COPY, "author": "buyer99"}]
    result = Detector().score(feed, field_map=_optional("time"))
    record = result.cluster_records()[0]
    assert record["size"] == 7 and record["authors"] == 7 and record["span"] == "10 min"
    assert record["first_time"] == "2026-02-17T00:00:00Z" and record["last_time"] == "2026-02-17T00:10:00Z"
    for post in result:
        assert "mass_share" in post.labels
        (reason,) = [r for r in post.reasons if r.startswith("mass_share")]
        assert reason == "mass_share: 7 near-identical posts from 7 accounts within 10 min (1 without a time)"
        assert "1970" not in reason


def test_a_feed_without_times_still_finds_its_floods_and_prints_no_time():
    result = Detector().score(_flood(8, spacing=None), field_map=_optional("time"))
    assert all("mass_share" in post.labels for post in result)
    assert {r for post in result for r in post.reasons if r.startswith("mass_share")} == {
        "mass_share: 8 near-identical posts from 8 accounts, times unknown"
    }
    record = result.cluster_records()[0]
    assert (record["first_time"], record["last_time"], record["span"]) == (None, None, "unknown")


def test_a_cluster_without_a_timed_post_has_no_copy_rate_and_no_reason_says_per_hour():
    untimed = [{"id": f"u{k}", "text": "i love you so much my friend", "author": f"fan{k}"} for k in range(3)]
    result = Detector.load().score(untimed + _flood(6, spacing=120.0), field_map=_optional("time"))
    rate = result.features["MASS_SHARE_PEAK_RATE"]
    assert np.isnan(rate[:3]).all()  # copies at unknown times: a minute or a year apart
    assert (rate[3:] == 6.0).all()  # six copies inside the one-hour window
    assert not any("per hour" in r for post in list(result)[:3] for r in post.reasons)


def test_posts_without_authors_are_no_accounts_for_mass_share_or_repetition():
    # 72 short common comments, no author anywhere: nothing says who wrote them
    feed = [{"id": f"c{k}", "text": "Nice song", "time": BASE + 30 * k} for k in range(72)]
    result = Detector().score(feed, field_map=_optional("author"))
    assert (result.clusters.labels >= 0).all() and result.clusters.authors[0] == 0
    assert not any({"mass_share", "repetition"} & set(post.labels) for post in result)
    assert np.isnan(result.features["MASS_SHARE_AUTHORS_IN_WINDOW"]).all()
    assert np.isnan(result.features["REPETITION_SAME_AUTHOR_COPIES"]).all()


def test_known_authors_still_make_a_flood_beside_posts_without_one():
    feed = _flood(5) + [{"id": f"x{k}", "text": FLOOD_COPY, "time": BASE + 10 * k} for k in range(20)]
    result = Detector().score(feed, field_map=_optional("author"))
    assert result.clusters.authors[0] == 5 and all("mass_share" in post.labels for post in result)
    assert {r for post in result for r in post.reasons if r.startswith("mass_share")} == {
        "mass_share: 25 near-identical posts from 5 accounts within 8 min"
    }


def test_the_cli_finds_a_flood_in_an_export_without_times(tmp_path):
    import json
    import subprocess
    import sys

    feed = tmp_path / "no_times.jsonl"
    feed.write_text("".join(json.dumps(p) + "\n" for p in _flood(8, spacing=None)), encoding="utf-8")
    out = tmp_path / "clusters.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "spamflood", "clusters", str(feed), "-o", str(out), "--rules", "--optional", "time", "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["flood"] and "mass_share" in row["labels"] and row["span"] == "unknown" and row["first_time"] is None


def test_a_copy_posted_weeks_from_a_flood_of_its_text_is_not_part_of_the_flood():
    # six accounts within 10 minutes; the same copy from two other accounts three weeks later,
    # and a second flood of it from five more accounts five weeks later (one campaign's copy reused)
    weeks = 7 * 86400.0
    feed = _flood(6) + [
        {"id": f"late{k}", "text": FLOOD_COPY, "author": f"reader{k}", "time": BASE + 3 * weeks + 600 * k} for k in range(2)
    ] + [{"id": f"again{k}", "text": FLOOD_COPY, "author": f"pusher{k}", "time": BASE + 5 * weeks + 60 * k} for k in range(5)]
    result = Detector().score(feed)
    assert len(set(result.clusters.labels.tolist())) == 1  # one cluster of 13 copies
    listed = {post.id: "mass_share" in post.labels for post in result}
    assert listed == {**{f"m{k}": True for k in range(6)}, "late0": False, "late1": False, **{f"again{k}": True for k in range(5)}}
    said = {post.id: next(r for r in post.reasons if r.startswith("mass_share")) for post in result if listed[post.id]}
    assert said["m0"] == "mass_share: 13 near-identical posts from 13 accounts; 6 accounts within 60 min from 2026-02-17 00:00 UTC"
    assert said["again0"] == "mass_share: 13 near-identical posts from 13 accounts; 5 accounts within 60 min from 2026-03-24 00:00 UTC"
    assert result.features["MASS_SHARE_AUTHORS_IN_WINDOW"].tolist() == [6.0] * 6 + [2.0] * 2 + [5.0] * 5


def test_feed_and_cluster_families_found_in_forked_copies_give_the_one_process_result(monkeypatch):
    # From PARALLEL_ROWS posts on, with several jobs, the feed and the cluster families run in
    # forked copies of the process beside the clustering; the result is the same to the bit.
    import spamflood.detector as detector_module

    feed = [dict(post, id=f"{k}-{post['id']}") for k in range(3) for post in planted_feed(seed=5)]
    one = Detector(n_jobs=1, chunk_rows=400).score(feed)
    forked = []

    class Recorded(detector_module.Forked):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            forked.append(self._pid != 0)

    monkeypatch.setattr(detector_module, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(detector_module, "Forked", Recorded)
    two = Detector(n_jobs=2, chunk_rows=400).score(feed)
    assert forked.count(True) == 2  # the feed families and the cluster families
    assert [p.to_dict() for p in one] == [p.to_dict() for p in two]
    assert np.array_equal(one.score, two.score)
    assert list(one.features) == list(two.features)
    assert all(np.array_equal(one.features[k], two.features[k], equal_nan=True) for k in one.features)
    assert any(p.labels for p in two)  # the planted floods are found
