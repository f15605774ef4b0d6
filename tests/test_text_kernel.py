"""The compiled text loop gives the fitted pipeline's probability on any text: English, Chinese,
emoji, empty, whitespace only, very long; the same alone or in a batch; its n-grams are
scikit-learn's ``char_wb`` n-grams; and a pipeline of other settings is not compiled."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from spamflood.model.ngrams import HashedNgrams
from spamflood.model.text import text_pipeline
from spamflood.model.text_kernel import WHITESPACE, compile_text, ngram_columns

CORPUS = [
    "加微信 领取 免费 红包", "今天 天气 很好", "win a FREE iphone now, dm me", "see you at lunch",
    "check out my channel 🔥🔥", "ΣΑΣ ΟΔΟΣ and İstanbul", "股票 内幕 加群 vx123", "the meeting moved to 3pm",
    "", "   ", "a", "ok ok ok ok ok ok",
]
SPAM = [1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]


def _fitted(**hash_params: object) -> Pipeline:
    pipeline = text_pipeline(0)
    if hash_params:
        pipeline.set_params(**{f"hash__{k}": v for k, v in hash_params.items()})
    return pipeline.fit(CORPUS * 4, SPAM * 4)


PIPELINE = _fitted()
COMPILED = compile_text(PIPELINE)


def _reference(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    return np.asarray(pipeline.predict_proba(texts)[:, 1], dtype=np.float64)


def test_the_shipped_settings_compile() -> None:
    assert COMPILED is not None
    assert (COMPILED.min_n, COMPILED.max_n, COMPILED.n_features) == (1, 4, 2**20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=12))  # (scikit-learn cannot hash an empty list)
def test_any_text_gets_the_pipelines_probability(texts: list[str]) -> None:
    assert COMPILED is not None
    got = COMPILED.proba(texts)
    assert got.shape == (len(texts),)
    assert np.allclose(got, _reference(PIPELINE, texts), rtol=0, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("加微信领取免费红包股票 abcXYZ ΣσςİI\u3000\u00a0\t\n\x1c😀🔥!.,0123"), max_size=60),
        min_size=1,
        max_size=8,
    )
)
def test_chinese_emoji_greek_and_odd_whitespace_get_the_pipelines_probability(texts: list[str]) -> None:
    assert COMPILED is not None
    assert np.allclose(COMPILED.proba(texts), _reference(PIPELINE, texts), rtol=0, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("加微信 abcXYZ ΣσςİI\u3000\u00a0\t\n\x1c😀!.0"), max_size=30), min_size=1, max_size=6),
    st.sampled_from([(1, 4), (2, 5), (3, 3), (5, 6), (1, 1)]),
)
def test_the_counted_ngrams_are_scikit_learns_char_wb_ngrams(texts: list[str], ngram_range: tuple[int, int]) -> None:
    """Each text's row counts, per column, exactly the n-grams scikit-learn's ``char_wb``
    analyzer makes of it (a short word once, padding spaces, lower-cased), each in the column
    :func:`ngram_columns` gives it."""
    counts = HashedNgrams(ngram_range=ngram_range, n_features=2**20).transform(texts)
    analyzer = HashingVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    for i, text in enumerate(texts):
        grams = analyzer(text)
        columns, times = np.unique(ngram_columns(grams, 2**20), return_counts=True) if grams else ([], [])
        row = counts.getrow(i)
        assert row.indices.tolist() == list(columns) and row.data.tolist() == list(times)


def test_hashed_columns_spread_evenly() -> None:
    """Distinct n-grams fill the columns as a random map would: a thousand columns get 100,000
    n-grams at about 100 each."""
    grams = ["".join(g) for g in itertools.product("abcdefgh 加微信领取免费红😀", repeat=4)][:100_000]
    per_column = np.bincount(ngram_columns(grams, 2**10), minlength=2**10)
    assert per_column.min() > 0 and per_column.std() < 1.5 * np.sqrt(len(grams) / 2**10)


@pytest.mark.parametrize("bad", [{"n_features": 1000}, {"n_features": 0}, {"ngram_range": (0, 2)}, {"ngram_range": (3, 2)}])
def test_settings_the_loop_cannot_count_are_refused_by_name(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        HashedNgrams(**bad).transform(["x"])  # type: ignore[arg-type]


def test_ngram_ranges_and_plain_counts_compile_to_the_same_numbers() -> None:
    pipeline = Pipeline(
        [
            ("hash", HashedNgrams(ngram_range=(2, 5), n_features=2**16, lowercase=False)),
            ("tfidf", TfidfTransformer(sublinear_tf=False, norm=None)),
            ("logistic", LogisticRegression(solver="liblinear")),
        ]
    ).fit(CORPUS * 2, SPAM * 2)
    compiled = compile_text(pipeline)
    assert compiled is not None
    texts = CORPUS + ["ABC abc Abc", "x"]
    assert np.allclose(compiled.proba(texts), _reference(pipeline, texts), rtol=0, atol=1e-9)


def test_empty_and_whitespace_only_texts_score_the_intercept() -> None:
    assert COMPILED is not None
    texts = ["", " ", "\t\n\u3000"]
    expected = 1.0 / (1.0 + np.exp(-PIPELINE.steps[-1][1].intercept_[0]))
    assert np.allclose(COMPILED.proba(texts), expected, rtol=0, atol=1e-12)
    assert COMPILED.proba([]).shape == (0,)


def test_a_very_long_text_gets_the_pipelines_probability() -> None:
    assert COMPILED is not None
    rng = np.random.default_rng(3)
    pieces = ["加微信", "free", "🔥", "ok", "股票", "hello", "vx123", "!!"]
    long = " ".join(rng.choice(pieces, size=40_000).tolist()) + "x" * 5_000  # one word of 5,000 characters too
    texts = [long, "a", long[:1000]]
    assert np.allclose(COMPILED.proba(texts), _reference(PIPELINE, texts), rtol=0, atol=1e-9)


def test_a_text_scores_the_same_alone_in_a_batch_and_run_after_run() -> None:
    assert COMPILED is not None
    texts = CORPUS + ["ΟΔΟΣ", "İİİ", "加微信 vx"]  # "İ" lower-cases to two characters: the texts are lowered one by one
    batch = COMPILED.proba(texts)
    alone = np.array([COMPILED.proba([t])[0] for t in texts])
    assert np.array_equal(batch, alone)
    assert np.array_equal(batch, COMPILED.proba(texts))
    assert np.array_equal(COMPILED.proba(texts[::-1]), batch[::-1])


def test_recurring_words_and_copies_score_as_the_pipeline_past_the_word_cache() -> None:
    """Each distinct word's columns are hashed once per call and copies of a text are scored
    once: posts that share words, exact copies, and more distinct words than the loop keeps
    (its word table and column pool fill up) all score as the pipeline does."""
    assert COMPILED is not None
    rng = np.random.default_rng(5)
    letters = np.array(list("abcdefghij加微信领取"))
    many = ["".join(rng.choice(letters, size=8).tolist()) for _ in range(70_000)]  # > the table's 65,536 words
    texts = [" ".join(many[k : k + 700]) for k in range(0, len(many), 700)]
    texts += ["加微信 领取 free", "free 加微信 领取", "加微信 领取 free", "free free 加微信", "加微信", "加微"] * 3
    assert np.allclose(COMPILED.proba(texts), _reference(PIPELINE, texts), rtol=0, atol=1e-9)
    assert np.array_equal(COMPILED.proba(texts[-6:]), np.array([COMPILED.proba([t])[0] for t in texts[-6:]]))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_a_texts_ngram_shares_sum_to_its_log_odds(text: str) -> None:
    """What names the n-grams behind a text score reads the same columns and weights as the
    score: the shares add up to the log-odds, less the intercept."""
    assert COMPILED is not None
    lowered, words, spans, shares = COMPILED.ngrams(text)
    grams = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 4)).build_analyzer()(text)
    assert sorted(lowered[a:b] for a, b in spans.tolist()) == sorted(g.strip(" ") for g in grams)  # the same n-grams
    assert words.tolist() == sorted(words.tolist()) and (len(words) == 0 or words[-1] == len(lowered.split()) - 1)
    assert np.isclose(shares.sum() + COMPILED.intercept, COMPILED.decision([text])[0], rtol=0, atol=1e-9)


def test_remembered_scores_are_the_scores_and_the_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compiled text part remembers the texts it scored (a flood's copies recur across
    chunks): a remembered score is the score, and past its bound it forgets and starts again."""
    import spamflood.model.text_kernel as kernel

    assert COMPILED is not None
    monkeypatch.setattr(kernel, "REMEMBERED_TEXTS", 50)
    fresh = compile_text(PIPELINE)
    assert fresh is not None
    texts = [f"加微信 {i % 70} free {i % 3}" for i in range(400)]
    got = np.concatenate([fresh.proba(texts[k : k + 30]) for k in range(0, len(texts), 30)])
    assert len(fresh.remembered) <= 50
    assert np.allclose(got, _reference(PIPELINE, texts), rtol=0, atol=1e-9)
    assert np.array_equal(got, np.array([compile_text(PIPELINE).proba([t])[0] for t in texts]))  # type: ignore[union-attr]


def test_the_whitespace_table_is_every_code_point_str_split_splits_on() -> None:
    assert set(WHITESPACE) == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@pytest.mark.parametrize(
    "change",
    [{"tfidf__norm": "l1"}],
)
def test_a_pipeline_of_other_settings_is_not_compiled(change: dict[str, object]) -> None:
    pipeline = text_pipeline(0).set_params(**change).fit(CORPUS * 4, SPAM * 4)
    assert compile_text(pipeline) is None


def test_what_is_not_such_a_pipeline_is_not_compiled() -> None:
    """A pipeline that hashed with scikit-learn's HashingVectorizer (MurmurHash of UTF-8 bytes:
    other columns) is left to scikit-learn."""
    murmur = Pipeline(
        [("hash", HashingVectorizer(analyzer="char_wb", ngram_range=(1, 4), alternate_sign=False, norm=None)), *text_pipeline(0).steps[1:]]
    ).fit(CORPUS * 4, SPAM * 4)
    assert compile_text(murmur) is None
    assert compile_text(LogisticRegression()) is None
    assert compile_text(Pipeline([("logistic", LogisticRegression())])) is None
