"""A seeded corpus of mixed Chinese/English social posts for speed benchmarks.

Speed depends on how long the posts are and which code points they hold, not on what they
say, so the posts are made from a generated vocabulary (no lexicon is needed): Chinese words of
2-4 characters from the common CJK block, English words, numbers and prices, links, mentions,
hashtags, full- and half-width punctuation and a few emoji, about 110 characters a post before
stripping. A share of posts are edited copies of a few templates, as in a flood, so that a
benchmark which clusters the corpus finds near-duplicates in it.

    from _corpus import mixed_posts      # with benchmarks/ on sys.path
    texts = mixed_posts(100_000, seed=7)
"""

from __future__ import annotations

import numpy as np

__all__ = ["mixed_posts"]

_CJK_FIRST, _CJK_LAST = 0x4E00, 0x9FA5
_LATIN = "abcdefghijklmnopqrstuvwxyz"
_PUNCT_ZH = "，。！？、：；“”【】（）"
_PUNCT_EN = ",.!?:;-()'\""
_EMOJI = [chr(c) for c in (0x1F525, 0x1F4B0, 0x1F381, 0x2764, 0x1F44D, 0x1F389, 0x2B50, 0x1F4E3)]


def _vocabulary(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    zh = [
        "".join(chr(int(c)) for c in rng.integers(_CJK_FIRST, _CJK_LAST + 1, size=int(rng.integers(2, 5))))
        for _ in range(3000)
    ]
    en = ["".join(rng.choice(list(_LATIN), size=int(rng.integers(2, 9)))) for _ in range(1500)]
    return zh, en


def _zipf_pick(rng: np.random.Generator, words: list[str], size: int) -> list[str]:
    # Zipf-like ranks (a few words very common, a long tail), like real word frequencies.
    ranks = np.minimum(rng.zipf(1.15, size=size) - 1, len(words) - 1)
    return [words[r] for r in ranks]


def _post(rng: np.random.Generator, zh: list[str], en: list[str], target: int) -> str:
    # Draw every random number for the post at once (a post takes at most ``target`` pieces).
    english_share = float(rng.uniform(0.05, 0.6))
    rolls = rng.random(target)
    english = rng.random(target) < english_share
    zh_words = _zipf_pick(rng, zh, target)
    en_words = _zipf_pick(rng, en, target)
    numbers = rng.integers(0, 10_000, size=target)
    small = rng.integers(0, 1 << 30, size=target)
    parts: list[str] = []
    length = 0
    i = 0
    while length < target:
        roll = rolls[i]
        if roll < 0.06:
            piece = ("¥", "$", "")[small[i] % 3] + str(numbers[i])
        elif roll < 0.09:
            piece = "http://t.cn/" + format(int(small[i]), "x")
        elif roll < 0.12:
            piece = "@" + en_words[i] + str(numbers[i] % 100)
        elif roll < 0.14:
            piece = "#" + zh_words[i] + zh_words[-1 - i] + "#"
        elif roll < 0.16:
            piece = _EMOJI[small[i] % len(_EMOJI)]
        elif roll < 0.28:
            marks = _PUNCT_EN if english[i] else _PUNCT_ZH
            piece = marks[small[i] % len(marks)]
        elif english[i]:
            piece = " " + en_words[i] + " "
        else:
            piece = zh_words[i]
        parts.append(piece)
        length += len(piece)
        i += 1
    return "".join(parts)


def _edit(rng: np.random.Generator, text: str, zh: list[str]) -> str:
    """A flood copy: a few characters replaced and maybe a tail added (evading exact match)."""
    chars = list(text)
    for _ in range(int(rng.integers(0, 4))):
        chars[int(rng.integers(0, len(chars)))] = chr(int(rng.integers(_CJK_FIRST, _CJK_LAST + 1)))
    if rng.random() < 0.5:
        chars.extend(_zipf_pick(rng, zh, int(rng.integers(1, 3))))
    return "".join(chars)


def mixed_posts(n: int, seed: int = 7, flood_share: float = 0.3, mean_chars: int = 110) -> list[str]:
    """``n`` posts, the same for the same arguments; ``flood_share`` of them copy a template."""
    rng = np.random.default_rng(seed)
    zh, en = _vocabulary(rng)
    templates = [_post(rng, zh, en, mean_chars) for _ in range(max(1, n // 500))]
    lengths = np.clip(rng.normal(mean_chars, 25, size=n), 20, 280).astype(int)
    posts: list[str] = []
    for i in range(n):
        if rng.random() < flood_share:
            posts.append(_edit(rng, templates[int(rng.integers(0, len(templates)))], zh))
        else:
            posts.append(_post(rng, zh, en, int(lengths[i])))
    return posts
