"""Per-post mutations of campaign copy: slot filling and the evasion levels.

Level 0 leaves the copy as written; 1 adds emoji and punctuation noise; 2 hides words with
zero-width characters, full-width letters and spaced-out characters (``加 微 信``,
``w.e.c.h.a.t``); 3 swaps Latin letters for Cyrillic look-alikes and writes Chinese in
traditional characters. Every choice comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
from functools import lru_cache

__all__ = ["evade"]

_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
_LOOKALIKES = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
_NOISE = ("！", "~", "…", "!!", "★", "【", "】")


@lru_cache(maxsize=1)
def _to_traditional():  # noqa: ANN202 - an opencc converter
    import opencc

    return opencc.OpenCC("s2t")


def _full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


def _pick_span(text: str, rng: random.Random, length: int) -> tuple[int, int]:
    letters = [i for i, ch in enumerate(text) if ch.isalnum()]
    if len(letters) < length:
        return 0, 0
    start = letters[rng.randrange(len(letters) - length + 1)]
    end = start
    taken = 0
    while end < len(text) and taken < length:
        if text[end].isalnum():
            taken += 1
        end += 1
    return start, end


def evade(text: str, level: int, rng: random.Random, emoji: list[str]) -> str:
    """``text`` rewritten at evasion ``level`` (0..3); higher levels include the lower ones."""
    if level <= 0:
        return text
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(words) + 1)
        words.insert(at, rng.choice(emoji) if rng.random() < 0.7 else rng.choice(_NOISE))
    text = " ".join(words)
    if level >= 2:
        for _ in range(2):
            start, end = _pick_span(text, rng, rng.randint(3, 4))
            if end <= start:
                break
            span = text[start:end]
            how = rng.randrange(3)
            if how == 0:
                span = rng.choice(_ZERO_WIDTH).join(span)
            elif how == 1:
                span = rng.choice((" ", ".", "-", "·")).join(ch for ch in span if not ch.isspace())
            else:
                span = "".join(_full_width(ch) for ch in span)
            text = text[:start] + span + text[end:]
    if level >= 3:
        text = "".join(_LOOKALIKES.get(ch, ch) if rng.random() < 0.5 else ch for ch in text)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            text = _to_traditional().convert(text)
    return text
