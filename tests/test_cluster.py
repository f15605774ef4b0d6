"""LSH banding, verified components and cluster statistics, on signatures with known overlap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.cluster import (
    BAND_HASH_VERSION,
    ClusterFinder,
    band_keys,
    candidate_probability,
    cluster_stats,
    fingerprint_words,
    labels_from_roots,
    lsh_params,
    signature_digest,
)
from spamflood.errors import ConfigError

K = 128


def copies(base: np.ndarray, n: int, agree: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` signatures that each agree with ``base`` on exactly ``agree`` of positions."""
    out = np.repeat(base[None, :], n, axis=0)
    change = int(round((1 - agree) * K))
    for row in out:
        pos = rng.choice(K, size=change, replace=False)
        row[pos] = rng.integers(0, 2**32, size=change, dtype=np.uint32)
    return out


def test_band_hash_version_1_gives_these_keys():
    """The stream engine stores band keys (Redis) under BAND_HASH_VERSION: a change of the hash
    must bump the version, so an index keyed by the old hash is refused, not silently missed."""
    sig = (np.arange(12, dtype=np.uint32) * 1000003).reshape(1, 12)
    assert BAND_HASH_VERSION == 1
    assert band_keys(sig, 3, 4)[0].tolist() == [0x2D9DDF4450D43F8B, 0x33BF2AB8D314EE94, 0x12C173BB2707CD60]


def test_lsh_params_choose_recall_at_threshold():
    bands, rows = lsh_params(0.7, 128)
    assert (bands, rows) == (25, 5)
    assert candidate_probability(0.7, bands, rows) >= 0.98
    assert candidate_probability(0.3, bands, rows) < 0.06


@pytest.mark.parametrize(
    "kwargs, message",
    [
        pytest.param({"threshold": 1.5}, "'threshold' parameter must be in \\(0, 1\\)", id="threshold"),
        pytest.param({"bands": 4}, "Give both 'bands' and 'rows'", id="bands-alone"),
        pytest.param({"bands": 30, "rows": 5}, "at most num_perm=128", id="too-many"),
    ],
)
def test_finder_validates(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClusterFinder(**kwargs)


def test_planted_groups_are_found_and_noise_stays_out():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 2**32, size=(300, K), dtype=np.uint32)
    flood = copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 40, 0.85, rng)
    pair = copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 2, 0.95, rng)
    sig = np.concatenate([noise[:100], flood, noise[100:], pair])
    labels = ClusterFinder().find(sig)
    assert set(labels[:100]) == {-1} and set(labels[140:340]) == {-1}
    assert len(set(labels[100:140])) == 1 and labels[100] >= 0
    assert labels[340] == labels[341] >= 0 and labels[340] != labels[100]
    assert list(np.unique(labels[labels >= 0])) == [0, 1]  # dense ids in order of first post


def test_dissimilar_candidates_are_not_joined():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**32, size=K, dtype=np.uint32)
    # Share the first band (so they are candidates) but agree on only 40% overall.
    far = copies(base, 5, 0.4, rng)
    far[:, :5] = base[:5]
    sig = np.concatenate([base[None, :], far])
    assert set(ClusterFinder().find(sig)) == {-1}


@pytest.mark.parametrize("agree, joined", [(90, True), (89, False)])
def test_a_pair_joins_exactly_at_the_threshold(agree, joined):
    # need = ceil(0.7 * 128) = 90 equal values; the fingerprint prefilter must not change that,
    # also when the differing values happen to share their fingerprint bits.
    rng = np.random.default_rng(agree)
    a = rng.integers(0, 2**32, size=K, dtype=np.uint32)
    b = a.copy()
    b[agree:] = a[agree:] ^ np.uint32(1)  # a small change: often the same top bits after mixing
    assert list(ClusterFinder().find(np.stack([a, b])) >= 0) == [joined, joined]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    agree=st.floats(0.0, 1.0),
    num_perm=st.sampled_from([16, 64, 100, 128]),
)
def test_fingerprints_differ_at_most_where_the_signatures_do(seed, agree, num_perm):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**32, size=(20, num_perm), dtype=np.uint32)
    b = np.where(rng.random((20, num_perm)) < agree, a, rng.integers(0, 2**32, size=(20, num_perm), dtype=np.uint32))
    fa, fb = fingerprint_words(a), fingerprint_words(b)
    assert fa.dtype == np.uint64 and fa.shape == (20, -(-num_perm // 16))
    nibbles = np.unpackbits((fa ^ fb).view(np.uint8), axis=1).reshape(20, -1, 4).any(axis=2)
    assert np.all(nibbles.sum(axis=1) <= np.count_nonzero(a != b, axis=1))
    assert not fingerprint_words(a[:, :0]).size


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), num_perm=st.sampled_from([1, 15, 16, 37, 100, 128]))
def test_fingerprints_are_laid_out_as_documented(seed, num_perm):
    # value j's nibble is the top 4 bits of its mix; byte b holds values 2b (high) and 2b + 1 (low)
    sig = np.random.default_rng(seed).integers(0, 2**32, size=(5, num_perm), dtype=np.uint32)
    nibbles = ((sig.astype(np.uint64) * 0x9E3779B1) & 0xFFFFFFFF) >> 28
    data = fingerprint_words(sig).view(np.uint8)
    for j in range(num_perm):
        byte = data[:, j // 2]
        assert np.array_equal((byte >> 4) if j % 2 == 0 else (byte & 0x0F), nibbles[:, j])
    assert not data[:, -(-num_perm // 2) :].any()  # the padding of a short last word is zero


def test_invalid_rows_never_cluster():
    sig = np.full((4, K), 7, dtype=np.uint32)
    labels = ClusterFinder().find(sig, valid=np.array([True, False, True, False]))
    assert list(labels) == [0, -1, 0, -1]


def test_wrong_signature_width_says_why():
    with pytest.raises(ValueError, match="shape \\(n, 128\\)"):
        ClusterFinder().find(np.zeros((3, 64), dtype=np.uint32))


def test_labels_from_roots_drop_singletons():
    assert list(labels_from_roots(np.array([0, 1, 0, 3, 3, 5]))) == [0, -1, 0, 1, 1, -1]


def test_result_does_not_depend_on_row_order():
    rng = np.random.default_rng(2)
    groups = [copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 6, 0.8, rng) for _ in range(5)]
    sig = np.concatenate(groups + [rng.integers(0, 2**32, size=(50, K), dtype=np.uint32)])
    labels = ClusterFinder().find(sig)
    perm = rng.permutation(sig.shape[0])
    shuffled = ClusterFinder().find(sig[perm])
    # Same partition up to renaming.
    pairs = {(a, b) for a, b in zip(labels[perm], shuffled)}
    assert len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs})


def test_cluster_stats_window_peaks_and_representative():
    labels = np.array([0, 0, 0, 0, 0, 1, 1, -1])
    times = np.array([0.0, 60.0, 120.0, 7200.0, 7260.0, 0.0, 99999.0, 5.0])
    authors = np.array([0, 1, 1, 2, 3, 4, 4, 5])
    digests = np.array([9, 8, 8, 8, 7, 1, 2, 3], dtype=np.uint64)
    table = cluster_stats(labels, times, authors, window=600.0, digests=digests)
    assert list(table.size) == [5, 2]
    assert list(table.authors) == [4, 1]
    assert list(table.peak_posts) == [3, 1]
    assert list(table.peak_authors) == [2, 1]
    assert table.first_time[0] == 0.0 and table.last_time[0] == 7260.0
    assert table.representative[0] == 1  # most common digest (8), earliest post
    assert table.representative[1] == 5  # a tie between two digests: the earliest post
    assert list(table.per_post(table.size, fill=1)) == [5, 5, 5, 5, 5, 2, 2, 1]
    c = table.cluster(0)
    assert c.span == 7260.0 and list(c.members) == [0, 1, 2, 3, 4]


def test_a_cluster_without_any_time_is_one_window_with_unknown_times():
    table = cluster_stats(np.array([0, 0, 0]), np.array([np.nan] * 3), np.array([0, 1, 2]), window=60.0)
    assert table.peak_authors[0] == 3 and table.peak_posts[0] == 3
    assert np.isnan(table.first_time[0]) and np.isnan(table.last_time[0]) and np.isnan(table.peak_start[0])
    assert np.isnan(table.cluster(0).span)


def test_a_post_without_a_time_counts_in_size_but_not_in_the_time_statistics():
    t0 = 1_700_000_000.0
    labels = np.zeros(7, dtype=np.int64)
    times = np.array([t0 + 100 * k for k in range(6)] + [np.nan])  # six within 500 s, one copy untimed
    table = cluster_stats(labels, times, np.arange(7), window=3600.0)
    assert table.size[0] == 7 and table.authors[0] == 7
    assert table.first_time[0] == t0 and table.last_time[0] == t0 + 500
    assert table.peak_posts[0] == 6 and table.peak_authors[0] == 6 and table.peak_start[0] == t0


def test_unknown_authors_are_no_accounts():
    # codes below 0 are unknown authors: posts in the cluster, accounts nowhere
    labels = np.zeros(5, dtype=np.int64)
    table = cluster_stats(labels, np.arange(5.0), np.array([-1, -1, 3, 3, -1]), window=60.0)
    assert table.size[0] == 5 and table.authors[0] == 1 and table.peak_authors[0] == 1 and table.peak_posts[0] == 5


def _posts(rows):
    """(cluster, time or None, account code) rows as the arrays cluster_stats reads: cluster ids
    made dense 0..m-1 as the finder gives them (-1 stays outside), a missing time NaN."""
    labels = np.array([r[0] for r in rows], dtype=np.int64)
    _, dense = np.unique(labels[labels >= 0], return_inverse=True)
    labels[labels >= 0] = dense
    times = np.array([np.nan if r[1] is None else float(r[1]) for r in rows])
    return labels, times, np.array([r[2] for r in rows], dtype=np.int64)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 3), st.one_of(st.none(), st.integers(1_600_000_000, 1_600_100_000)), st.integers(-1, 5)),
        min_size=1,
        max_size=40,
    )
)
def test_cluster_times_come_from_the_posts_that_have_one(rows):
    labels, times, codes = _posts(rows)
    table = cluster_stats(labels, times, codes, window=3600.0)
    for c in range(len(table)):
        members = labels == c
        timed = times[members & ~np.isnan(times)]
        known = codes[members & (codes >= 0)]
        assert table.size[c] == members.sum() and table.authors[c] == np.unique(known).size
        if timed.size:
            assert table.first_time[c] == timed.min() and table.last_time[c] == timed.max()
            assert timed.min() <= table.peak_start[c] <= timed.max()
            assert 1 <= table.peak_posts[c] <= timed.size
        else:
            assert np.isnan(table.first_time[c]) and np.isnan(table.last_time[c]) and np.isnan(table.peak_start[c])
            assert table.peak_posts[c] == table.size[c]
        assert table.peak_authors[c] <= table.authors[c]


def test_a_copy_weeks_away_from_its_clusters_flood_is_not_in_the_flood():
    # five accounts within 4 minutes, the same copy by a sixth account 20 days later, and one untimed copy
    day = 86400.0
    labels = np.zeros(7, dtype=np.int64)
    times = np.array([0.0, 60.0, 120.0, 180.0, 240.0, 20 * day, np.nan])
    table = cluster_stats(labels, times, np.arange(7), window=3600.0)
    assert table.peak_authors[0] == 5
    assert table.post_peak_authors.tolist() == [5, 5, 5, 5, 5, 1, 5]  # an untimed copy: the peak's
    assert table.post_peak_start[:6].tolist() == [0.0] * 5 + [20 * day]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 2), st.one_of(st.none(), st.integers(0, 20_000)), st.integers(-1, 5)),
        min_size=1,
        max_size=40,
    )
)
def test_a_posts_window_holds_the_most_accounts_of_any_window_holding_it(rows):
    labels, times, codes = _posts(rows)
    window = 3600.0
    table = cluster_stats(labels, times, codes, window=window)
    for i in np.flatnonzero((labels >= 0) & ~np.isnan(times)):
        timed = np.flatnonzero((labels == labels[i]) & ~np.isnan(times))
        starts = times[timed][(times[timed] <= times[i]) & (times[timed] >= times[i] - window)]
        most = max(len({codes[k] for k in timed if s <= times[k] <= s + window and codes[k] >= 0}) for s in starts)
        assert table.post_peak_authors[i] == most <= table.peak_authors[labels[i]]
        start = table.post_peak_start[i]
        assert start <= times[i] <= start + window
    assert (table.post_peak_authors[labels < 0] == 0).all()


def test_signature_digest_tells_rows_apart():
    sig = np.array([[1, 2, 3], [1, 2, 3], [3, 2, 1]], dtype=np.uint32)
    d = signature_digest(sig)
    assert d[0] == d[1] != d[2]


@pytest.mark.parametrize("bits", [1, 4, 9])
def test_bucketing_a_band_in_parts_finds_the_components_one_table_finds(bits):
    # (at 8,192 posts and more the bands are bucketed in parts of ~4,096 posts)
    from spamflood.cluster import _join_forests, _lsh_forest, fingerprint_words

    rng = np.random.default_rng(11)
    groups = [copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 40, agree, rng) for agree in (0.8, 0.9, 0.97) * 20]
    sig = np.concatenate(groups + [rng.integers(0, 2**32, size=(3000, K), dtype=np.uint32)])
    sig = sig[rng.permutation(sig.shape[0])]
    valid = rng.random(sig.shape[0]) > 0.05
    finder = ClusterFinder()
    fp, need = fingerprint_words(sig), int(np.ceil(finder.threshold * K - 1e-9))

    def roots(parts_bits):
        edges = np.empty((sig.shape[0], 2), dtype=np.int64)
        found = _lsh_forest(sig, fp, valid, 0, finder.bands, finder.rows, need, edges, parts_bits)
        return _join_forests(sig.shape[0], edges[:found])

    one_table = roots(0)
    assert np.array_equal(roots(bits), one_table)
    assert np.unique(one_table[valid]).size < valid.sum() - 1000  # many copies did join


@pytest.mark.parametrize("threads", [2, 3, 30])
def test_bands_walked_on_several_threads_give_the_same_components(threads):
    rng = np.random.default_rng(5)
    groups = [copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 8, agree, rng) for agree in (0.9, 0.95, 0.98)]
    chain = [copies(rng.integers(0, 2**32, size=K, dtype=np.uint32), 6, 0.84, rng) for _ in range(3)]  # near the threshold pairwise
    sig = np.concatenate(groups + chain + [rng.integers(0, 2**32, size=(200, K), dtype=np.uint32)])
    sig = sig[rng.permutation(sig.shape[0])]
    finder = ClusterFinder()
    assert np.array_equal(finder.components(sig, threads=threads), finder.components(sig))
    assert (finder.find(sig, threads=threads) >= 0).sum() >= 24


def test_representative_is_the_earliest_post_of_the_most_common_signature_in_any_order():
    # cluster 0: digest 4 twice (posts 3 and 6) beats digests 5 and 6; cluster 1: a tie -> post 1
    labels = np.array([0, 1, 0, 0, 1, -1, 0, 1])
    digests = np.array([5, 8, 6, 4, 9, 4, 4, 2**63 + 1], dtype=np.uint64)
    table = cluster_stats(labels, np.zeros(8), np.arange(8), window=60.0, digests=digests)
    assert list(table.representative) == [3, 1]
