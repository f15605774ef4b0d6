"""The text part of a :class:`~spamflood.model.FloodModel`, and the n-grams that weighed most.

The text model reads the **matching form** of each post (:func:`spamflood.normalize.normalize_many`,
the form the lexicons match on), so that evasion folds before it counts: ``Ｖ.Ｘ``, ``加 微 信``
and ``領取`` give the n-grams of ``vx``, ``加微信`` and ``领取``. It hashes character n-grams
(no vocabulary to grow or to save; the same for Chinese and English), weighs the counts by
TF-IDF (sublinear: ``1 + log(count)``, times the n-gram's inverse document frequency in the
training posts, scaled to unit length) and fits a logistic regression. TF-IDF is what carries
the text model to a corpus it has never seen: leave-one-corpus-out ROC-AUC of the text model
alone, ``benchmarks/real_data.py``, rises from 0.901 to 0.965 on English SMS with it
(``models/README.md``): without it the n-grams every post has (spaces, ``的``, ``you``) weigh as
much as the rare ones that tell spam.

The n-grams are counted by :class:`~spamflood.model.ngrams.HashedNgrams` for training and by
the same compiled loop when a detector scores (:mod:`spamflood.model.text_kernel`, in the chunk
workers, which hold the matching forms already).

A post the text model flags is explained by its n-grams: each n-gram of the post weighs its
column's coefficient times its TF-IDF weight (the sum of these, plus the intercept, is the
model's log-odds). :func:`weighty_ngrams` quotes the heaviest, as written in the original post
where a stretch of it normalizes to the n-gram, overlapping ones joined.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from spamflood.criteria.quotes import original
from spamflood.model.text_kernel import CompiledText
from spamflood.normalize import normalize_many

__all__ = ["matching_forms", "text_pipeline", "weighty_ngrams"]

N_FEATURES = 2**20
"""Hashed columns: about a million, so that n-grams of the training posts rarely collide."""


def text_pipeline(random_state: int = 0) -> Any:
    """Hashed character 1-4-grams (within word boundaries) of the matching form, sublinear
    TF-IDF scaled to unit length, and a logistic regression (C = 1); the settings
    ``benchmarks/real_data.py`` measured best across corpora (see ``models/README.md``)."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from spamflood.model.ngrams import HashedNgrams

    return Pipeline(
        [
            ("hash", HashedNgrams(ngram_range=(1, 4), n_features=N_FEATURES)),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
            ("logistic", LogisticRegression(C=1.0, max_iter=1000, solver="liblinear", random_state=random_state)),
        ]
    )


def matching_forms(texts: Any) -> list[str]:
    """The matching form of every text (a missing one reads as empty)."""
    return normalize_many(["" if t is None else str(t) for t in texts])


WORD_QUOTED_WHOLE = 20
"""A word (between spaces) of at most this many characters and no CJK ideograph is quoted
whole, weighing what its n-grams weigh together ("stock", "sold-out!"). In a longer word (a
link, a Chinese sentence) each run of letters or digits other than ideographs of at most this
many characters is quoted whole in the same way ("hackfbaccountlive", "4166937", a phone
number); what is left of it (the ideographs) by its heaviest n-grams, overlapping ones joined."""

HEAVIEST_LOCATED = 6
"""The heaviest quotes looked for in the post as written (overlapping ones join, the rest rank)."""

_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_IDEOGRAPH = re.compile(f"[{_IDEOGRAPHS}]")
_WORD = re.compile(r"\S+")
_PIECE = re.compile(rf"[^\W_{_IDEOGRAPHS}]+")
"""A run of letters or digits other than ideographs: a long word's piece between its
punctuation, or a number or a Latin word inside a Chinese sentence."""
_NOT_ALNUM = re.compile(r"[\W_]+")


def weighty_ngrams(text: CompiledText, forms: Sequence[str], originals: Sequence[str], top: int = 3) -> list[list[str]]:
    """Per post, up to ``top`` quotes of what raised its text score most.

    ``text`` is the compiled text part (:func:`~spamflood.model.text_kernel.compile_text` of the
    pipeline), ``forms`` the posts' matching forms (what it reads), ``originals`` the posts as
    written. Each n-gram adds its share to the log-odds
    (:meth:`~spamflood.model.text_kernel.CompiledText.ngrams`); a short word, or a short run of
    letters or digits in a long one, weighs what its n-grams add together and is quoted whole
    (:data:`WORD_QUOTED_WHOLE`), the rest by n-grams; a quote without two letters or digits
    or an ideograph (a lone digit, an emoji) is none. The heaviest positive quotes
    (:data:`HEAVIEST_LOCATED`) are found in the original post (a stretch that normalizes to
    them; else quoted as normalized), overlapping stretches are joined, and the joined quotes
    are ranked by the weight they hold. A post where nothing weighs positive gets none.
    """
    out: list[list[str]] = []
    for form, written in zip(forms, originals, strict=True):
        lowered, words, spans, shares = text.ngrams(form)
        weight: dict[str, float] = {}
        left = np.ones(shares.shape[0], dtype=bool)  # the n-grams no word or run weighs whole
        for w, found in enumerate(_WORD.finditer(lowered)):
            word = found.group()
            if len(word) <= WORD_QUOTED_WHOLE and not _IDEOGRAPH.search(word):
                runs = [(0, len(word), word)]  # a short word weighs what its n-grams add together
            else:  # a long one, its short runs of letters or digits
                runs = [(m.start(), m.end(), m.group()) for m in _PIECE.finditer(word) if len(m.group()) <= WORD_QUOTED_WHOLE]
            for lo, hi, run in runs:
                inside = (words == w) & (spans[:, 0] >= found.start() + lo) & (spans[:, 1] <= found.start() + hi)
                left &= ~inside
                held = float(shares[inside].sum())
                if held > 0:
                    weight[run] = weight.get(run, 0.0) + held
        for k in np.flatnonzero(left & (shares > 0)).tolist():
            gram = lowered[spans[k, 0] : spans[k, 1]]
            if gram:  # (a padding space alone is no quote)
                weight[gram] = weight.get(gram, 0.0) + float(shares[k])
        heaviest = sorted(((v, q) for q, v in weight.items() if v > 0 and _quotable(q)), reverse=True)[:HEAVIEST_LOCATED]
        out.append(_quotes(heaviest, form, str(written), top))
    return out


def _quotable(quote: str) -> bool:
    """A quote says something: two letters or digits or more, or an ideograph ("赚"); not a
    lone digit, a bracket pair or an emoji."""
    return len(_NOT_ALNUM.sub("", quote)) >= 2 or _IDEOGRAPH.search(quote) is not None


def _quotes(heaviest: list[tuple[float, str]], form: str, written: str, top: int) -> list[str]:
    """The quotes as written in ``written`` (a stretch of its matching form ``form``, mapped back
    by :func:`~spamflood.criteria.quotes.original`), overlapping ones joined, heaviest first."""
    spans: list[tuple[int, int, float]] = []
    loose: dict[str, float] = {}
    for weight, quote in heaviest:
        at = form.find(quote)
        stretch = original(written, form, at, at + len(quote)) if at >= 0 else quote
        where = written.find(stretch) if stretch else -1
        if where < 0:  # the original does not show it (a fold that changes the length)
            loose[quote] = loose.get(quote, 0.0) + weight
        else:
            spans.append((where, where + len(stretch), weight))
    joined: list[list[Any]] = []
    for begin, stop, weight in sorted(spans):
        if joined and begin < joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], stop)
            joined[-1][2] += weight
        else:
            joined.append([begin, stop, weight])
    quotes = [(weight, written[begin:stop].strip()) for begin, stop, weight in joined]
    quotes += [(weight, quote) for quote, weight in loose.items()]
    ranked: list[str] = []
    for _, quote in sorted(quotes, key=lambda q: -q[0]):
        if quote and quote not in ranked:
            ranked.append(quote)
    return ranked[:top]
