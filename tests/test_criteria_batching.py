"""The batched paths of the criteria give what the one-by-one paths give.

Evidence matches found for many posts in one pass, a scan computed earlier (per chunk, joined,
subset) and handed to ``evaluate``, and the sparse evidence of an :class:`Evaluation` must not
change one value, label or sentence.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.criteria import evaluate, reasons
from spamflood.criteria.compute import _sources, scan_names, scan_texts
from spamflood.criteria.context import scanner_for
from spamflood.criteria.registry import COMPUTED_HERE
from spamflood.errors import ConfigError
from spamflood.io.rows import RowParser
from spamflood.normalize import normalize_many
from spamflood.posts import PostBatch

TEXT_FAMILIES = ("soft_ad", "hotspot_hijack", "microbusiness")
BATCH_FAMILIES = ("holiday_template", "chicken_soup", "batch_accounts", "auto_posting")


@pytest.fixture(scope="module")
def feed() -> tuple[PostBatch, np.ndarray]:
    """A synthetic feed with every label, and clusters of exact copies (3+ posts)."""
    from spamflood.synth import generate

    rows = [(i + 1, post) for i, (post, _) in enumerate(generate(3000, seed=11))]
    posts, rejects = RowParser().parse_many(rows)
    assert not rejects
    batch = PostBatch.from_posts(posts)
    normal = normalize_many(batch.texts)
    ids: dict[str, int] = {}
    counts: dict[str, int] = {}
    for t in normal:
        counts[t] = counts.get(t, 0) + 1
    clusters = np.array([ids.setdefault(t, len(ids)) if counts[t] >= 3 else -1 for t in normal], dtype=np.int64)
    return batch, clusters


def _scanner():
    return scanner_for(*_sources(COMPUTED_HERE))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.text(alphabet="限时特价抢购加vx微信 中秋快乐早安sale99元wholesale8折0123456789.@/:¥\x00【】#xyz.com", max_size=40),
        max_size=8,
    )
)
def test_matches_of_many_texts_equal_matches_one_by_one(texts: list[str]) -> None:
    scanner = _scanner()
    normal = normalize_many(texts) + texts  # raw texts too: separators and all
    assert scanner.matches_many(normal) == [scanner.matches(t) for t in normal]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.text(alphabet="限时特价抢购加vx微信 中秋快乐早安sale99元wholesale8折0123456789.@/:¥\x00【】#xyz.com<a>", max_size=40),
        max_size=8,
    ),
    st.data(),
)
def test_matches_kept_by_a_scan_are_the_matches_found_again(texts: list[str], data) -> None:
    # a scan that keeps its hits gives the evidence of any posts, in any order and repeated,
    # as matching their texts again would (separators included), and the same counts
    scanner = _scanner()
    normal = normalize_many(texts) + texts
    kept = scanner.scan(normal, keep_hits=True, chunk=5)
    plain = scanner.scan(normal)
    assert kept.hits is not None and plain.hits is None
    assert {k: v.tolist() for k, v in kept.lists.items()} == {k: v.tolist() for k, v in plain.lists.items()}
    assert {k: v.tolist() for k, v in kept.patterns.items()} == {k: v.tolist() for k, v in plain.patterns.items()}
    index = data.draw(st.lists(st.integers(0, len(normal) - 1), max_size=12)) if normal else []
    assert kept.hits.matches(index) == [scanner.matches(normal[i]) for i in index]


def test_text_families_with_kept_hits_quote_the_same_evidence(feed) -> None:
    batch, _ = feed
    normal = normalize_many(batch.texts)
    wider = COMPUTED_HERE  # the scan looks for more families than are evaluated: their matches are not quoted
    kept = scan_texts(normal, wider, normalized=True, keep_hits=True)
    plain = evaluate(normal, families=TEXT_FAMILIES, normalized=True, originals=batch.texts)
    fast = evaluate(normal, families=TEXT_FAMILIES, normalized=True, scan=kept, originals=batch.texts)
    np.testing.assert_array_equal(plain.values, fast.values)
    assert plain.evidence == fast.evidence and sum(map(len, plain.evidence)) > 100
    assert kept.only(*scan_names(BATCH_FAMILIES)).hits is None  # what a worker sends on carries none


def test_matches_of_a_real_feed_equal_matches_one_by_one(feed) -> None:
    batch, _ = feed
    scanner = _scanner()
    normal = normalize_many(batch.texts)
    assert scanner.matches_many(normal) == [scanner.matches(t) for t in normal]


@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai"])
def test_a_scan_joined_from_chunks_gives_the_same_evaluation(feed, tz: str) -> None:
    batch, clusters = feed
    normal = normalize_many(batch.texts)
    lists, patterns = scan_names(BATCH_FAMILIES)
    bounds = [0, 700, 1900, len(batch)]
    parts = [
        scan_texts(normal[lo:hi], COMPUTED_HERE, normalized=True).only(lists, patterns)
        for lo, hi in zip(bounds, bounds[1:])
    ]
    joined = type(parts[0]).concat(parts)
    assert all(col.dtype.itemsize <= 2 for col in joined.lists.values())
    plain = evaluate(batch, clusters, families=BATCH_FAMILIES, tz=tz, labels="all")
    given_scan = evaluate(batch, clusters, families=BATCH_FAMILIES, tz=tz, labels="all", scan=joined)
    np.testing.assert_array_equal(plain.values, given_scan.values)
    assert {k: v.tolist() for k, v in plain.labels.items()} == {k: v.tolist() for k, v in given_scan.labels.items()}
    assert plain.evidence == given_scan.evidence
    assert any(e.label == "holiday_template" for es in plain.evidence for e in es)


def test_a_scan_taken_at_an_index_is_the_scan_of_those_posts(feed) -> None:
    batch, _ = feed
    normal = normalize_many(batch.texts)
    scan = scan_texts(normal, COMPUTED_HERE, normalized=True)
    index = np.array([5, 3, 3, 2999, 0] + list(range(100, 400)))
    taken = scan.take(index)
    direct = scan_texts([normal[i] for i in index], COMPUTED_HERE, normalized=True)
    assert taken.n == direct.n == len(index)
    for name in direct.lists:
        np.testing.assert_array_equal(taken.lists[name], direct.lists[name])
    for name in direct.patterns:
        np.testing.assert_array_equal(taken.patterns[name], direct.patterns[name])
    for name in direct.tagged:
        np.testing.assert_array_equal(taken.tagged[name], direct.tagged[name])


def test_text_families_on_a_given_scan_match_the_plain_path(feed) -> None:
    batch, _ = feed
    normal = normalize_many(batch.texts)
    scan = scan_texts(normal, COMPUTED_HERE, normalized=True)
    plain = evaluate(normal, families=TEXT_FAMILIES, normalized=True)
    fast = evaluate(normal, families=TEXT_FAMILIES, normalized=True, scan=scan, dtype=np.float32)
    assert fast.values.dtype == np.float32
    np.testing.assert_array_equal(plain.values, fast.values.astype(np.float64))
    assert plain.evidence == fast.evidence
    assert plain.found and all(plain.found[i] for i in plain.found)


def test_sentences_are_the_reasons_of_each_posts_evidence(feed) -> None:
    batch, clusters = feed
    ev = evaluate(batch, clusters)
    expected: dict[str, dict[int, str]] = {}
    for i, items in enumerate(ev.evidence):
        for sentence in reasons(items):
            expected.setdefault(sentence.split(":", 1)[0], {})[i] = sentence
    assert ev.sentences() == expected
    assert set(expected) >= {"soft_ad", "holiday_template"}


def test_a_scan_without_the_lists_a_family_reads_is_refused(feed) -> None:
    batch, _ = feed
    normal = normalize_many(batch.texts)
    soft_only = scan_texts(normal, ["soft_ad"], normalized=True)
    with pytest.raises(ConfigError, match="lacks the counts of .*holiday_names"):
        evaluate(batch, families=["holiday_template"], scan=soft_only)
    with pytest.raises(ConfigError, match="covers 10 posts; the data has 3000"):
        evaluate(batch, families=["soft_ad"], scan=soft_only.take(np.arange(10)))
    with pytest.raises(ConfigError, match="no counts for \\['nope'\\]"):
        soft_only.only(["nope"], [])


def test_families_that_read_no_text_have_nothing_to_scan() -> None:
    assert scan_names(["auto_posting", "batch_accounts"]) == ([], [])
    with pytest.raises(ConfigError, match="read no text"):
        scan_texts(["x"], ["auto_posting"])


# ----------------------------------------------------------------------------- batch accounts


def _reference_shares(cols, min_accounts: int, window: float) -> dict[str, list[float]]:
    """batch_accounts by its definition, one cluster at a time (the vectorised code must agree)."""
    import math
    import re

    from spamflood.criteria.batch_accounts import (
        FOLLOW_MIN,
        FOLLOW_RATIO,
        YOUNG_SECONDS,
    )
    from spamflood.criteria.context import lexicon
    from spamflood.normalize import normalize

    nan = math.nan
    out: dict[str, list[float]] = {k: [nan] * len(cols) for k in ("ACCOUNTS", "NAME", "CLOSE", "EMPTY", "FOLLOW", "YOUNG")}
    for c in sorted({int(x) for x in cols.clusters if x >= 0}):
        first: dict[str, int] = {}
        for i, (a, k) in enumerate(zip(cols.authors, cols.clusters)):
            if k == c:
                first.setdefault(a, i)
        rows = list(first.values())
        shares = {"ACCOUNTS": float(len(rows)), "NAME": nan, "CLOSE": nan, "EMPTY": nan, "FOLLOW": nan, "YOUNG": nan}
        if len(rows) >= min_accounts:
            stems = []
            for j in rows:
                m = re.match(r"^(.*?)[\s_\-.]*(\d{2,})$", normalize(cols.author_name[j])) if cols.author_name[j] else None
                stems.append(m.group(1) if m else None)
            defaults = set(lexicon("batch_default_names").terms)
            shares["NAME"] = sum(s is not None and (stems.count(s) >= 2 or s in defaults) for s in stems) / len(rows)
            phrases = lexicon("batch_default_bios").terms
            bios = [normalize(cols.author_bio[j]) if cols.author_bio[j] else "" for j in rows]
            shares["EMPTY"] = sum(not b or any(p in b for p in phrases) for b in bios) / len(rows)
            created = [(cols.author_created[j], j) for j in rows if not math.isnan(cols.author_created[j])]
            if len(created) >= min_accounts:
                close = sum(any(abs(t - u) <= window for u, q in created if q != j) for t, j in created)
                shares["CLOSE"] = close / len(created)
                ages = [cols.times[j] - t for t, j in created if not math.isnan(cols.times[j])]
                if len(ages) >= min_accounts:
                    shares["YOUNG"] = sum(age < YOUNG_SECONDS for age in ages) / len(ages)
            follow = [(cols.followers[j], cols.following[j]) for j in rows]
            follow = [(f, g) for f, g in follow if not (math.isnan(f) or math.isnan(g))]
            if len(follow) >= min_accounts:
                shares["FOLLOW"] = sum(g >= FOLLOW_MIN and g >= FOLLOW_RATIO * max(f, 1.0) for f, g in follow) / len(follow)
        for i, k in enumerate(cols.clusters):
            if k == c:
                for name, value in shares.items():
                    out[name][i] = value
    return out


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_batch_account_shares_follow_their_definition(data) -> None:
    from spamflood.criteria import batch_accounts
    from spamflood.criteria.context import Columns, Context

    n = data.draw(st.integers(1, 30))
    maybe_nan = st.one_of(st.just(float("nan")), st.floats(0, 3000, allow_nan=False))
    cols = Columns(
        texts=["x"] * n,
        authors=data.draw(st.lists(st.sampled_from("abcdefgh"), min_size=n, max_size=n)),
        times=np.array(data.draw(st.lists(st.one_of(st.just(float("nan")), st.floats(1.7e9, 1.71e9)), min_size=n, max_size=n))),
        author_name=data.draw(st.lists(st.sampled_from(["美妆小助手01", "美妆小助手02", "用户12345", "Tom", None, "", "shop_99", "12"]), min_size=n, max_size=n)),
        author_bio=data.draw(st.lists(st.sampled_from([None, "", "这个人很懒，什么都没有留下", "hello"]), min_size=n, max_size=n)),
        author_created=np.array(data.draw(st.lists(st.one_of(st.just(float("nan")), st.floats(1.69e9, 1.7e9)), min_size=n, max_size=n))),
        followers=np.array(data.draw(st.lists(maybe_nan, min_size=n, max_size=n))),
        following=np.array(data.draw(st.lists(maybe_nan, min_size=n, max_size=n))),
        clusters=np.array(data.draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))),
    )
    min_accounts = data.draw(st.integers(2, 4))
    window = data.draw(st.sampled_from([60.0, 86400.0, 1e8]))
    got = batch_accounts.compute(Context(cols, settings={"min_accounts": float(min_accounts), "created_window": window}))
    want = _reference_shares(cols, min_accounts, window)
    for short, value in want.items():
        name = {"NAME": "NAME_TEMPLATE", "CLOSE": "CREATED_CLOSE", "EMPTY": "EMPTY_PROFILE", "FOLLOW": "FOLLOW_RATIO"}.get(short, short)
        np.testing.assert_array_equal(got[f"BATCH_ACCOUNTS_{name}"], np.array(value), err_msg=name)


@pytest.mark.parametrize("family", ["batch_accounts", "auto_posting"])
def test_evidence_shared_between_posts_is_what_each_post_would_get(feed, family: str) -> None:
    from spamflood.criteria import FEATURES, hits
    from spamflood.criteria.compute import family_module
    from spamflood.criteria.transformer import CriteriaFeatures

    batch, clusters = feed
    ev = evaluate(batch, clusters, families=[family], labels="all")
    est = CriteriaFeatures(families=[family]).fit()
    ctx, values = est.transform_values(batch, clusters)
    hit = hits(values)
    names = list(values)
    checked = 0
    for i, items in ev.found.items():
        chosen = [nm for nm in names if FEATURES[nm].reported and hit[nm][i]]
        row = {nm: float(values[nm][i]) for nm in names}
        expected = family_module(family).snippets(ctx, i, chosen, row)
        assert [(e.feature, e.snippet) for e in items] == [(nm, expected[nm]) for nm in chosen if nm in expected]
        checked += 1
    assert checked > 20


def test_a_narrow_dtype_is_refused_where_it_would_round_a_value() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "text": ["same copy"] * 3,
            "author": ["a", "b", "c"],
            "author_name": ["shop01", "shop02", "Ann"],
            "cluster": [0, 0, 0],
        }
    )
    exact = evaluate(frame, families=["batch_accounts"])
    assert exact.column("BATCH_ACCOUNTS_NAME_TEMPLATE").tolist() == [2 / 3] * 3
    with pytest.raises(ConfigError, match="float32 cannot hold the values of BATCH_ACCOUNTS_NAME_TEMPLATE exactly"):
        evaluate(frame, families=["batch_accounts"], dtype=np.float32)


def test_posts_sharing_their_evidence_each_get_a_list_of_their_own(feed) -> None:
    # a cluster's posts are explained once and hold one list in ``found``; ``evidence`` hands
    # each post its own copy, so changing one post's list changes no other
    batch, clusters = feed
    ev = evaluate(batch, clusters, families=["holiday_template", "batch_accounts"])
    held: dict[int, list[int]] = {}
    for i, items in ev.found.items():
        held.setdefault(id(items), []).append(i)
    shared = next((posts for posts in held.values() if len(posts) > 1), None)
    assert shared is not None
    evidence = ev.evidence
    first, second = shared[:2]
    assert evidence[first] == evidence[second] and evidence[first] is not evidence[second]
    evidence[first].append(evidence[first][0])
    assert len(evidence[second]) == len(ev.found[second])
    sentences = ev.sentences()
    assert all(sentences[label].get(first) == sentences[label].get(second) for label in sentences)


_ANCHOR_PIECES = st.sampled_from(
    ["text", "txt", "send", "reply", "call", "ring", "dial", " ", "  ", "\n", "tm", "®", "rmb", "usd", "gbp", "up to ",
     "code", "for free", "一折", "五折", "仅需", "只需", "银行", "农行", "卡号", "99", "1234567", "%", ":", "a", "b", "x",
     "s", "bring", "atm", "12.5", "¥", "$", "元"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ANCHOR_PIECES, max_size=30).map("".join))
def test_a_regex_searched_from_its_leading_words_finds_what_the_regex_engine_finds(text: str) -> None:
    scanner = _scanner()
    assert any(words is not None for words in scanner._anchored)  # the alternation-led regexes are anchored
    assert scanner._pattern_events(text) == scanner._pattern_events(text, anchored=False)


def test_anchored_pattern_events_of_a_whole_feed_are_the_regex_engines(feed) -> None:
    from spamflood.criteria.lexicon import _joined

    batch, _ = feed
    joined, _ = _joined(normalize_many(batch.texts))
    scanner = _scanner()
    events = scanner._pattern_events(joined)
    assert events == scanner._pattern_events(joined, anchored=False)
    assert {name for name, _, _ in events} >= {"chicken_soup_brand", "soft_ad_discount_pattern", "soft_ad_price"}


_REGEX_ATOMS = st.sampled_from(
    ["a", "b", "c", "ab", "\\.", "\\d", ".", "[ab]", "[^a]", "[]a]", "[^]b]", "(?:a|bc)", "(?:ab|c)?", "(?:a|b)+",
     "(?=a)", "(?<!b)", "?", "*", "+", "{1,2}", "|", "(?:a)", "^", "$"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_REGEX_ATOMS, min_size=1, max_size=6).map("".join), st.text(alphabet="abc.1]|", max_size=20))
def test_every_match_of_a_regex_starts_with_one_of_its_leading_words(pattern: str, text: str) -> None:
    import re

    from spamflood.criteria.lexicon import leading_words

    try:
        rx = re.compile(pattern)
    except re.error:
        return  # not a regex: nothing to read
    words = leading_words(rx)
    if words is None:
        return
    assert all(words)
    for match in rx.finditer(text):
        assert any(text.startswith(word, match.start()) for word in words), (pattern, text, match.span(), words)
