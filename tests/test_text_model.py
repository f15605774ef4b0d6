"""The text model: it reads the matching form (evasion folds), and a flag it drives is explained
by the n-grams that weighed most, quoted as the post wrote them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from spamflood.decision import Decider, Findings
from spamflood.errors import ModelError
from spamflood.model import FloodModel
from spamflood.model.text import N_FEATURES, text_pipeline, weighty_ngrams
from spamflood.model.text_kernel import compile_text, ngram_columns
from spamflood.normalize import normalize_many
from spamflood.scoring import RuleScorer

NAMES = ["SOFT_AD_PRICE", "SOFT_AD_LINK"]

HAM = ["今天天气不错，出去走走", "lunch with my sister today", "周末一起看电影吧", "the bus was late again"]
SPAM = ["加微信日赚五百", "free gift for you, 加微信", "日赚三千，加微信领取", "claim your free gift now"]


def _hand_made(weights: dict[str, float]) -> object:
    """A fitted text pipeline whose only nonzero coefficients are ``weights`` (n-gram -> weight)."""
    pipeline = text_pipeline().fit(normalize_many(HAM + SPAM), [0] * len(HAM) + [1] * len(SPAM))
    logistic = pipeline.steps[-1][1]
    logistic.coef_[:] = 0.0
    columns = ngram_columns(list(weights), N_FEATURES)
    logistic.coef_[0, columns] = list(weights.values())
    return pipeline


def test_the_heaviest_ngrams_are_quoted_as_written_overlapping_ones_joined():
    pipeline = _hand_made({"加微": 3.0, "微信": 2.0, "日赚": 1.0, "free": 0.5, "天气": -5.0})
    originals = ["日赚500，加 微 信", "ＦＲＥＥ gift, 日赚", "今天天气不错"]
    quotes = weighty_ngrams(compile_text(pipeline), normalize_many(originals), originals)
    # "加微" and "微信" are one stretch of the post, written spaced out: quoted as written, weights summed
    assert quotes[0] == ["加 微 信", "日赚"]
    assert quotes[1] == ["日赚", "ＦＲＥＥ"]  # full-width folded to "free" for the model, quoted as written
    assert quotes[2] == []  # only a negative n-gram: nothing raised it


def test_a_word_spread_out_by_evasion_is_quoted_whole_as_written():
    pipeline = _hand_made({"chat": 1.0})
    quoted = weighty_ngrams(compile_text(pipeline), normalize_many(["add w.e.c.h.a.t 88"]), ["add w.e.c.h.a.t 88"])
    assert quoted == [["w.e.c.h.a.t"]]  # the word "wechat" holds the n-gram "chat": the word, as written


def test_a_short_word_is_quoted_whole_and_a_chinese_sentence_by_its_ngrams():
    pipeline = _hand_made({"tock": 2.0, "售后": 1.0})
    originals = ["great stock here, 售后无忧 请私聊"]
    assert weighty_ngrams(compile_text(pipeline), normalize_many(originals), originals) == [["stock", "售后"]]


def test_a_link_is_quoted_by_its_pieces_and_a_lone_digit_is_no_quote():
    """A link is one long word: its n-grams are quoted by the pieces between its punctuation
    that hold them (the host's name, the referral number), never as "3" or "6"."""
    pipeline = _hand_made({"tliv": 2.0, "3": 1.0, "6": 1.0, "🎁": 1.0, "赚": 1.0})
    originals = ["see http://hackfbaccountlive.com/?ref=4166937 now", "call 3 now 🎁", "赚"]
    quotes = weighty_ngrams(compile_text(pipeline), normalize_many(originals), originals)
    assert sorted(quotes[0]) == ["4166937", "hackfbaccountlive"]
    assert quotes[1] == []  # "3" and "🎁" weigh, but one digit or one emoji says nothing to a moderator
    assert quotes[2] == ["赚"]  # one ideograph is a word


def test_a_phone_number_in_a_chinese_sentence_is_quoted_whole():
    """A Chinese sentence is one long word: its ideographs are quoted by their n-grams, but a
    number in it by the whole number, not "186" and "88"."""
    pipeline = _hand_made({"186": 1.0, "88": 1.0, "领取": 0.5})
    originals = ["快加微信18612345688领取红包"]
    assert weighty_ngrams(compile_text(pipeline), normalize_many(originals), originals) == [["18612345688", "领取"]]


def test_an_ngram_the_original_does_not_show_is_quoted_as_normalized():
    pipeline = _hand_made({"vx": 1.0})
    assert weighty_ngrams(compile_text(pipeline), ["vx 88"], ["(text withheld)"]) == [["vx"]]


def _flagging_model() -> FloodModel:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.4).astype(int)
    texts = [SPAM[i % 4] if v else HAM[i % 4] for i, v in enumerate(y)]
    X = {name: np.zeros(300) for name in NAMES} | {"text": texts}
    return FloodModel(features=NAMES, text=True, max_iter=20, random_state=0).fit(X, y)


def test_a_flag_the_text_model_drives_names_the_ngrams_that_weighed_most():
    model = _flagging_model()
    posts = ["加 微 信，日赚八百", "今天天气不错，出去走走"]  # spaced out: folds to the learned 加微信
    findings = Findings({name: np.zeros(2) for name in NAMES}, {}, {}, 2)
    decision = Decider(RuleScorer(), model).decide(findings, texts=posts)
    assert decision.score[0] >= 0.5 > decision.score[1]
    assert decision.labels == [[], []]  # no rule fired: no label, the score alone flags it
    (reason,) = decision.reasons[0]
    assert reason.startswith('score: raised by text n-grams "')
    quoted = reason.removeprefix("score: raised by text n-grams ").split(", ")
    assert 1 <= len(quoted) <= 3 and all(q.startswith('"') and q.endswith('"') for q in quoted)
    assert all(q.strip('"') in posts[0] for q in quoted)  # quoted from the post as written
    assert any("加 微" in q or "日赚" in q for q in quoted)
    assert decision.reasons[1] == []


def test_the_text_model_reads_the_matching_form_so_evasion_scores_like_the_plain_text():
    model = _flagging_model()
    X = {name: np.zeros(3) for name in NAMES} | {"text": ["加微信日赚五百", "加 微 信 日 賺 五 百", "ＦＲＥＥ ＧＩＦＴ ＦＯＲ ＹＯＵ，加微信"]}
    plain, spaced, wide = model.text_model_.predict_proba(model._texts(X))[:, 1]
    assert spaced == pytest.approx(plain, abs=0.05)
    assert wide > 0.5


def test_a_model_without_a_text_part_explains_as_before():
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.4).astype(int)
    X = {"SOFT_AD_PRICE": y * 2.0, "SOFT_AD_LINK": np.zeros(300)}
    model = FloodModel(features=NAMES, max_iter=20).fit(X, y)
    findings = Findings({"SOFT_AD_PRICE": np.array([2.0]), "SOFT_AD_LINK": np.array([0.0])}, {}, {}, 1)
    decision = Decider(RuleScorer(), model).decide(findings, texts=["加微信日赚五百"])
    assert decision.reasons[0] == [decision.reasons[0][0]] and decision.reasons[0][0].startswith("score: raised by soft_ad features: ")
    with pytest.raises(ModelError, match="no text part"):
        model.text_evidence(["x"])


def _corpora(names: range | list[int], posts: int, seed: int) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """Corpora whose spam and ham each use their own three made-up words (no two corpora share
    one), and whose spam shows more prices: only the feature carries from one corpus to another."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    y, group, texts, price = [], [], [], []
    for name in names:
        spam_words, ham_words = (["".join(rng.choice(letters, 7)) for _ in range(3)] for _ in range(2))
        for _ in range(posts):
            spam = int(rng.random() < 0.4)
            y.append(spam)
            group.append(name)
            texts.append(" ".join(rng.choice(spam_words if spam else ham_words, 3)))
            price.append(rng.poisson(1.5 if spam else 0.3))
    X = {"SOFT_AD_PRICE": np.array(price, dtype=float), "SOFT_AD_LINK": np.zeros(len(y)), "text": texts}
    return X, np.array(y), np.array(group)


def test_with_corpora_as_groups_a_new_corpus_is_scored_by_what_carries_across_corpora():
    """Stratified folds let the text model see every corpus's words, so its out-of-fold score
    looks perfect and the heads trust it alone; on a corpus with new words it knows nothing and
    the ranking is lost. Grouped by corpus, the out-of-fold score is what the text model does on
    a corpus it never saw (nothing here), and the heads learn from the price feature instead."""
    X, y, corpus = _corpora(range(6), 150, 0)
    new_X, new_y, _ = _corpora([9], 300, 1)
    grouped = FloodModel(features=NAMES, text=True, text_join="stack", max_iter=30, random_state=0).fit(X, y, groups=corpus)
    stratified = FloodModel(features=NAMES, text=True, text_join="stack", max_iter=30, random_state=0).fit(X, y)
    assert roc_auc_score(new_y, grouped.predict_proba(new_X)[:, 1]) > 0.75
    assert roc_auc_score(new_y, stratified.predict_proba(new_X)[:, 1]) < 0.6


def test_blended_a_new_corpus_is_scored_by_what_carries_without_being_told_the_corpora():
    """The blend's heads never read the text score, so the price feature keeps its weight on a
    corpus whose words the text model never saw (where stacking without groups lost it)."""
    X, y, _ = _corpora(range(6), 150, 0)
    new_X, new_y, _ = _corpora([9], 300, 1)
    blended = FloodModel(features=NAMES, text=True, max_iter=30, random_state=0).fit(X, y)
    assert roc_auc_score(new_y, blended.predict_proba(new_X)[:, 1]) > 0.75
    assert roc_auc_score(y, blended.predict_proba(X)[:, 1]) > 0.99  # and the corpora it read, by their words
