"""Behaviour of spamflood.minhash: datasketch parity, determinism, accuracy, edge cases, errors."""

from __future__ import annotations

import doctest
import math
import pickle

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

import spamflood.minhash as minhash_module
from spamflood.errors import ConfigError, InputError
from spamflood.minhash import EMPTY_HASH, MinHasher, estimate_jaccard, exact_jaccard

FLOOD = "限时抢购加微信领取优惠券前100名送礼品"
POSTS = {
    "cjk": FLOOD,
    "latin": "limitedoffercontactusonwechatforcoupons",
    "mixed": "双十一Nike专柜正品只要199元加V领取",
    "astral": "\U0001f525爆款\U0001f525hotsale\U0001f381",
    "lone-surrogate": "ab\ud800cdefg",
    "short": "ab",
    "exactly-ngram": "abcde",
    "one-char": "中",
    "empty": "",
}


def fmix32(h: int) -> int:
    """MurmurHash3's final avalanche, written out here to check the hash independently."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def datasketch_signature(hasher: MinHasher, text: str) -> np.ndarray:
    """The same signature built the slow way, one shingle at a time through datasketch."""
    m = MinHash(num_perm=hasher.num_perm, seed=hasher.seed, hashfunc=hasher.shingle_hash)
    for shingle in hasher.shingles(text):
        m.update(shingle)
    return m.hashvalues


# --- parity with datasketch ------------------------------------------------------------------


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 0), (256, 42), (1, 7), (100, 2**32 - 1)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    hasher = MinHasher(num_perm=num_perm, seed=seed)
    expected = MinHash(num_perm=num_perm, seed=seed).permutations
    assert hasher.permutations.dtype == np.uint32
    assert hasher.permutations.shape == (2, num_perm)
    np.testing.assert_array_equal(hasher.permutations, expected)


def test_permutations_are_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        MinHasher().permutations[0, 0] = 2


@pytest.mark.parametrize("text", list(POSTS.values()), ids=list(POSTS))
def test_signature_is_bit_identical_to_datasketch(text: str) -> None:
    hasher = MinHasher()
    np.testing.assert_array_equal(hasher.signatures([text])[0], datasketch_signature(hasher, text))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    texts=st.lists(st.text(alphabet="ab中文字\U0001f525xyz", max_size=30), min_size=1, max_size=5),
    ngram=st.integers(1, 7),
    num_perm=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_batch_signatures_match_datasketch_for_any_texts(
    texts: list[str], ngram: int, num_perm: int, seed: int
) -> None:
    hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
    batch = hasher.signatures(texts)
    for row, text in zip(batch, texts):
        np.testing.assert_array_equal(row, datasketch_signature(hasher, text))


@pytest.mark.parametrize(
    ("shingle", "murmur3"),
    [
        ("a", 1455541201),
        ("hello", 3504533067),
        ("加微信", 242313285),
        ("限时抢购", 246765753),
        ("\U0001f525sale", 2578290364),
        ("ab\ud800", 4248696793),
    ],
    ids=["one-latin", "latin", "cjk-3", "cjk-4", "astral", "lone-surrogate"],
)
def test_shingle_hash_is_murmur3_of_utf32_before_its_final_mix(shingle: str, murmur3: int) -> None:
    # Reference values: MurmurHash3_x86_32, seed 0, of the UTF-32-LE bytes (the mmh3 package).
    h = MinHasher.shingle_hash(shingle)
    assert 0 <= h <= 0xFFFFFFFF
    assert fmix32(h) == murmur3


def test_shingle_hash_rejects_bytes() -> None:
    with pytest.raises(InputError, match="takes a str shingle. Got bytes instead"):
        MinHasher.shingle_hash(b"hello")  # type: ignore[arg-type]


# --- shingles and edge cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ngram", "expected"),
    [
        ("abcdef", 5, ["abcde", "bcdef"]),
        ("加微信领取", 3, ["加微信", "微信领", "信领取"]),
        ("abab", 2, ["ab", "ba", "ab"]),
        ("ab", 5, ["ab"]),
        ("abcde", 5, ["abcde"]),
        ("", 5, []),
    ],
    ids=["latin", "cjk", "repeats-kept", "shorter-than-ngram", "exactly-ngram", "empty"],
)
def test_shingles(text: str, ngram: int, expected: list[str]) -> None:
    assert MinHasher(ngram=ngram).shingles(text) == expected


def test_short_text_is_one_shingle_the_whole_text() -> None:
    hasher = MinHasher(ngram=5)
    short, longer = hasher.signatures(["ab", "xxab"])
    # "ab" hashed as one gram of width 2 equals the datasketch MinHash of the single shingle "ab"
    m = MinHash(num_perm=128, seed=1, hashfunc=hasher.shingle_hash)
    m.update("ab")
    np.testing.assert_array_equal(short, m.hashvalues)
    assert not np.array_equal(short, longer)


def test_empty_text_row_is_all_ones_and_others_unaffected() -> None:
    hasher = MinHasher(num_perm=16)
    sig = hasher.signatures(["", FLOOD, ""])
    assert sig.shape == (3, 16) and sig.dtype == np.uint32
    assert (sig[0] == EMPTY_HASH).all() and (sig[2] == EMPTY_HASH).all()
    np.testing.assert_array_equal(sig[1], hasher.signatures([FLOOD])[0])
    assert not (sig[1] == EMPTY_HASH).any()


def test_no_texts_gives_an_empty_array() -> None:
    sig = MinHasher(num_perm=32).signatures([])
    assert sig.shape == (0, 32) and sig.dtype == np.uint32


def test_any_iterable_of_texts_is_accepted() -> None:
    hasher = MinHasher()
    texts = [FLOOD, "abcdefg"]
    np.testing.assert_array_equal(hasher.signatures(t for t in texts), hasher.signatures(texts))
    np.testing.assert_array_equal(hasher.signatures(tuple(texts)), hasher.signatures(texts))


def test_chunked_batches_equal_one_text_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    alphabet = list("abcdef加微信领取优惠券")
    texts = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 60)))) for _ in range(200)]
    texts[17] = "x" * 500  # longer than a whole chunk
    hasher = MinHasher(num_perm=32)
    one_by_one = np.vstack([hasher.signatures([t]) for t in texts])
    monkeypatch.setattr(minhash_module, "_CHUNK_CODE_POINTS", 97)
    np.testing.assert_array_equal(hasher.signatures(texts), one_by_one)


def test_cjk_and_latin_copies_are_similar_and_different_posts_are_not() -> None:
    hasher = MinHasher()
    sig = hasher.signatures(
        [
            FLOOD,
            FLOOD + "快来",
            "limitedofferaddmeonwechatforcouponsnow",
            "limitedofferaddmeonwechatforcouponstoday",
            "今天天气很好我们去公园散步吧",
        ]
    )
    assert estimate_jaccard(sig[0], sig[1]) > 0.7
    assert estimate_jaccard(sig[2], sig[3]) > 0.7
    assert estimate_jaccard(sig[0], sig[4]) < 0.1
    assert estimate_jaccard(sig[2], sig[4]) < 0.1


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_same_signatures_other_seed_other_signatures() -> None:
    texts = list(POSTS.values())
    first = MinHasher(seed=5).signatures(texts)
    np.testing.assert_array_equal(first, MinHasher(seed=5).signatures(texts))
    other = MinHasher(seed=6).signatures(texts)
    non_empty = [i for i, t in enumerate(texts) if t]
    assert all(not np.array_equal(first[i], other[i]) for i in non_empty)


def test_pickled_hasher_gives_the_same_signatures() -> None:
    hasher = MinHasher(num_perm=64, ngram=4, seed=9)
    clone = pickle.loads(pickle.dumps(hasher))
    assert repr(clone) == "MinHasher(num_perm=64, ngram=4, seed=9)"
    np.testing.assert_array_equal(clone.signatures([FLOOD]), hasher.signatures([FLOOD]))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_hasher_sent_to_a_worker_keeps_its_permutations_read_only(protocol: int) -> None:
    from multiprocessing.reduction import ForkingPickler

    for clone in (pickle.loads(pickle.dumps(MinHasher(), protocol)), pickle.loads(ForkingPickler.dumps(MinHasher()))):
        assert not clone.permutations.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            clone.permutations[0, 0] = 1


# --- Jaccard estimates ------------------------------------------------------------------------


def test_estimate_jaccard_shapes() -> None:
    a = np.array([[1, 2, 3, 4], [1, 1, 1, 1]], dtype=np.uint32)
    b = np.array([[1, 2, 0, 0], [1, 1, 1, 1]], dtype=np.uint32)
    assert estimate_jaccard(a[0], b[0]) == 0.5
    assert isinstance(estimate_jaccard(a[0], b[0]), float)
    np.testing.assert_allclose(estimate_jaccard(a, b), [0.5, 1.0])
    np.testing.assert_allclose(estimate_jaccard(a[0], b), [0.5, 0.25])


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "match"),
    [
        ((4,), (5,), r"one length k > 0.*\(4,\) and \(5,\)"),
        ((2, 4), (3, 4), r"same number of rows.*\(2, 4\) and \(3, 4\)"),
        ((0,), (0,), "one length k > 0"),
        ((2, 2, 4), (2, 2, 4), "one length k > 0"),
    ],
    ids=["lengths-differ", "rows-differ", "empty", "3-d"],
)
def test_estimate_jaccard_rejects_mismatched_shapes(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        estimate_jaccard(np.zeros(a_shape, np.uint32), np.zeros(b_shape, np.uint32))


@pytest.mark.parametrize(
    ("a", "b", "ngram", "expected"),
    [
        ("abcdef", "abcdef", 5, 1.0),
        ("abcdef", "bcdefg", 5, 1 / 3),
        ("abcdef", "uvwxyz", 5, 0.0),
        ("ab", "ab", 5, 1.0),
        ("", "", 5, 1.0),
        ("", "abc", 5, 0.0),
    ],
    ids=["same", "shifted", "disjoint", "short-same", "both-empty", "one-empty"],
)
def test_exact_jaccard(a: str, b: str, ngram: int, expected: float) -> None:
    assert exact_jaccard(a, b, ngram) == pytest.approx(expected)


K = 128


def _error_bound(jaccard: float) -> float:
    # 4 standard deviations of the MinHash estimator (binomial, k trials) plus a little slack.
    return 4 * math.sqrt(jaccard * (1 - jaccard) / K) + 0.02


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    base=st.text(alphabet="abcd加微信", min_size=10, max_size=80),
    cut=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    insert=st.text(alphabet="abcdxy领取", max_size=40),
)
def test_estimate_is_within_minhash_error_of_exact_jaccard(
    base: str, cut: tuple[float, float], insert: str
) -> None:
    # b replaces a stretch of a, so the overlap runs from identical to disjoint.
    i, j = sorted(int(c * len(base)) for c in cut)
    other = base[:i] + insert + base[j:]
    hasher = MinHasher(num_perm=K, ngram=3)
    sig = hasher.signatures([base, other])
    exact = exact_jaccard(base, other, 3)
    assert abs(estimate_jaccard(sig[0], sig[1]) - exact) <= _error_bound(exact)


def test_estimates_are_unbiased_over_many_pairs() -> None:
    rng = np.random.default_rng(11)
    alphabet = np.array(list("abcdef加微信领取"))
    bases, others = [], []
    for _ in range(400):
        base = "".join(rng.choice(alphabet, size=int(rng.integers(20, 120))))
        chars = list(base)
        for pos in rng.choice(len(chars), size=int(rng.integers(0, len(chars) // 3)), replace=False):
            chars[pos] = str(rng.choice(alphabet))
        bases.append(base)
        others.append("".join(chars))
    hasher = MinHasher(num_perm=K, ngram=4, seed=3)
    estimates = estimate_jaccard(hasher.signatures(bases), hasher.signatures(others))
    exact = np.array([exact_jaccard(a, b, 4) for a, b in zip(bases, others)])
    errors = estimates - exact
    assert exact.min() < 0.4 < 0.8 < exact.max()  # the pairs span a wide range of overlap
    # Per pair sd <= 0.5/sqrt(128) = 0.044, so the mean of 400 errors has sd <= 0.0022.
    assert abs(errors.mean()) < 0.01
    assert np.abs(errors).max() < 0.2


# --- datasketch interoperability --------------------------------------------------------------


def test_to_lean_keeps_values_seed_and_scheme() -> None:
    hasher = MinHasher(seed=4)
    sig = hasher.signatures([FLOOD, FLOOD + "快来"])
    lean = hasher.to_lean(sig[0])
    assert isinstance(lean, LeanMinHash)
    assert lean.seed == 4 and lean.scheme == "affine32"
    np.testing.assert_array_equal(lean.hashvalues, sig[0])
    assert lean.jaccard(hasher.to_lean(sig[1])) == estimate_jaccard(sig[0], sig[1])
    restored = pickle.loads(pickle.dumps(lean))
    np.testing.assert_array_equal(restored.hashvalues, sig[0])


def test_lean_signatures_work_in_datasketch_lsh() -> None:
    hasher = MinHasher(num_perm=128)
    texts = [FLOOD, FLOOD + "快来", "今天天气很好我们去公园散步吧", "limitedofferaddmeonwechat"]
    leans = hasher.to_lean_many(hasher.signatures(texts))
    assert len(leans) == 4
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    for i, lean in enumerate(leans):
        lsh.insert(f"post{i}", lean)
    assert set(lsh.query(leans[0])) == {"post0", "post1"}
    assert lsh.query(leans[2]) == ["post2"]
    # A datasketch MinHash built the slow way finds the same copies.
    probe = MinHash(num_perm=128, seed=1, hashfunc=hasher.shingle_hash)
    for shingle in hasher.shingles(FLOOD + "快来"):
        probe.update(shingle)
    assert set(lsh.query(probe)) == {"post0", "post1"}


def test_to_lean_rejects_wrong_shapes() -> None:
    hasher = MinHasher(num_perm=8)
    with pytest.raises(ConfigError, match=r"one signature of shape \(8,\). Got shape \(2, 8\)"):
        hasher.to_lean(np.zeros((2, 8), np.uint32))
    with pytest.raises(ConfigError, match=r"shape \(n, 8\). Got shape \(16,\).*another num_perm"):
        hasher.to_lean_many(np.zeros(16, np.uint32))


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_perm": 0}, r"'num_perm' parameter of MinHasher must be >= 1. Got 0 instead"),
        ({"num_perm": -3}, r"'num_perm' .* must be >= 1. Got -3 instead"),
        ({"num_perm": 1.5}, r"'num_perm' .* must be an integer. Got 1.5 instead"),
        ({"num_perm": True}, r"'num_perm' .* must be an integer. Got True instead"),
        ({"ngram": 0}, r"'ngram' parameter of MinHasher must be >= 1. Got 0 instead.*shingle size"),
        ({"ngram": "5"}, r"'ngram' .* must be an integer. Got '5' instead"),
        ({"seed": -1}, r"'seed' parameter of MinHasher must be in \[0, 4294967295\]. Got -1 instead"),
        ({"seed": 2**32}, r"'seed' .* must be in \[0, 4294967295\]. Got 4294967296 instead"),
    ],
    ids=[
        "num_perm-zero",
        "num_perm-negative",
        "num_perm-float",
        "num_perm-bool",
        "ngram-zero",
        "ngram-str",
        "seed-negative",
        "seed-too-big",
    ],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MinHasher(**kwargs)  # type: ignore[arg-type]


def test_numpy_integers_are_accepted() -> None:
    hasher = MinHasher(num_perm=np.int64(16), ngram=np.int32(3), seed=np.uint32(2))
    assert (hasher.num_perm, hasher.ngram, hasher.seed) == (16, 3, 2)
    assert type(hasher.num_perm) is int


def test_one_string_instead_of_a_list_is_refused() -> None:
    with pytest.raises(InputError, match=r"not one string; wrap it: signatures\(\[text\]\)"):
        MinHasher().signatures(FLOOD)


@pytest.mark.parametrize(
    ("bad", "name"), [(5, "int"), (b"bytes", "bytes"), (None, "NoneType")], ids=["int", "bytes", "none"]
)
def test_a_text_that_is_not_a_string_is_named(bad: object, name: str) -> None:
    with pytest.raises(InputError, match=rf"texts\[1\] is {name}; every text must be a str"):
        MinHasher().signatures(["abc", bad, "def"])  # type: ignore[list-item]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(minhash_module).failed == 0


def test_signatures_from_codes_equal_signatures_of_the_same_texts():
    from spamflood.normalize import shingle_codes, shingle_many

    texts = ["限时特价 加V abc123", "", "hello world, a longer post", "ab"]
    hasher = MinHasher(num_perm=32)
    codes, offsets = shingle_codes(texts)
    assert np.array_equal(hasher.signatures_from_codes(codes, offsets), hasher.signatures(shingle_many(texts)))
    with pytest.raises(InputError, match="offsets"):
        hasher.signatures_from_codes(codes, offsets[::-1].copy())
