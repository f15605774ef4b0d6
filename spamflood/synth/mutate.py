"""How campaign copy changes from post to post: variation, tracking links, evasion levels.

Variation (every campaign post, not counted as evasion): synonym swaps, a sibling brand in
place of the brand, an emoji, a fresh tracking query on the link. Evasion, applied to a post
at a level from 1 to 3 (each level includes the ones below):

1. emoji and punctuation noise (``🔥限时特价！！``, ``~~``, ``★``);
2. zero-width characters inside words, a key term spaced out (``加 微 信``, ``w.e.c.h.a.t``),
   digits and letters of a handle or price in full width (``ｖｘ１２３``); every level-2 post
   gets at least one zero-width character and one spaced-out term;
3. contact words in variant spellings (``薇信``, ``Whats@pp``), Latin letters swapped for
   look-alikes from other scripts (Cyrillic ``а`` for ``a``), Chinese in traditional characters.

A link stands in the copy as :data:`LINK` while it is mutated, so that evasion never breaks a
link (spammers need their links to work); :meth:`Mutator.finish` puts the real one in.
"""

from __future__ import annotations

import random
from functools import lru_cache

from spamflood.synth.bank import Bank

__all__ = ["LINK", "Mutator"]

LINK = "\x00"
"""Placeholder for the post's link while its copy is mutated."""

_FULL_WIDTH_SHIFT = 0xFEE0


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]  # an opencc converter
    import opencc

    return opencc.OpenCC("s2t")


@lru_cache(maxsize=4096)
def _traditional(text: str) -> str:
    """``text`` in traditional characters (copies repeat, so conversions are cached)."""
    return _converter().convert(text)


def _pick(seq, r: random.Random):  # type: ignore[no-untyped-def]
    return seq[int(r.random() * len(seq))]


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


class Mutator:
    """Per-post variation and evasion, all choices from the ``random.Random`` passed in."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self._glyph_keys = tuple(bank.homoglyphs)

    # ------------------------------------------------------------------ variation

    def link(self, base: str, r: random.Random) -> str:
        """``base`` with a fresh tracking query (one to three parameters)."""
        keys = self.bank.tracking_keys
        parts = []
        for key in r.sample(keys, 1 + int(r.random() * 3)):
            values = self.bank.tracking_values.get(key)
            value = _pick(values, r) if values else f"{int(r.random() * 10**7):07d}"
            parts.append(f"{key}={value}")
        return f"{base}?{'&'.join(parts)}"

    def swap(self, text: str, groups: tuple[tuple[str, ...], ...], r: random.Random, p: float) -> str:
        """Each word group present in ``text`` swaps its word for another member with chance ``p``."""
        for group in groups:
            if r.random() >= p:
                continue
            for word in group:
                if word in text:
                    other = _pick([w for w in group if w != word], r)
                    text = text.replace(word, other, 1)
                    break
        return text

    def finish(self, text: str, base: str | None, r: random.Random) -> str:
        """Put a tracked link where :data:`LINK` stands."""
        if LINK in text:
            text = text.replace(LINK, self.link(base or "", r))
        return text

    # ------------------------------------------------------------------ evasion

    def evade(self, text: str, level: int, lang: str, r: random.Random) -> str:
        """``text`` disguised at ``level`` (0..3); see the module docstring."""
        if level >= 3:
            text = self._variants(text, lang, r)
            if lang == "zh":
                text = _traditional(text)
            text = self._homoglyphs(text, r)
        if level >= 2:
            text = self._space_out(text, lang, r)
            if r.random() < 0.5:
                text = self._full_width(text)
            text = self._zero_width(text, r)
        if level >= 1:
            text = self._noise(text, r)
        return text

    def _noise(self, text: str, r: random.Random) -> str:
        emoji, noise = self.bank.emoji, self.bank.noise
        for _ in range(1 + int(r.random() * 3)):
            op = int(r.random() * 4)
            if op == 0:
                text = _pick(emoji, r) + text
            elif op == 1:
                text = text + _pick(emoji, r) * (1 + int(r.random() * 3))
            elif op == 2:
                text = text + _pick(noise, r)
            else:
                cut = [i for i, ch in enumerate(text) if ch in "，,。!！ "]
                at = _pick(cut, r) + 1 if cut else len(text)
                text = text[:at] + _pick(emoji + noise, r) + text[at:]
        return text

    def _space_out(self, text: str, lang: str, r: random.Random) -> str:
        terms = [t for t in self.bank.text[lang].key_terms if t in text]
        if terms:
            term = _pick(terms, r)
            at = text.index(term)
        else:  # no key term: space out a run of two to four letters or CJK characters
            at = _word_pair(text, r)
            if at < 0:
                return text
            at -= 1
            end = at
            while end < len(text) and _word(text[end]) and end - at < 2 + int(r.random() * 3):
                end += 1
            term = text[at:end]
        sep = _pick(self.bank.separators, r)
        spaced = sep.join(ch for ch in term if ch != " ")
        return text[:at] + spaced + text[at + len(term):]

    def _full_width(self, text: str) -> str:
        """The first run of three or more ASCII letters/digits in full width (a handle, a price)."""
        start = None
        for i, ch in enumerate(text + " "):
            if ch.isascii() and ch.isalnum():
                if start is None:
                    start = i
            else:
                if start is not None and i - start >= 3:
                    wide = "".join(chr(ord(c) + _FULL_WIDTH_SHIFT) for c in text[start:i])
                    return text[:start] + wide + text[i:]
                start = None
        return text

    def _zero_width(self, text: str, r: random.Random) -> str:
        spots = set()
        for _ in range(1 + int(r.random() * 4)):
            at = _word_pair(text, r)
            spots.add(at if at > 0 else max(1, int(r.random() * len(text))))
        for at in sorted(spots, reverse=True):
            text = text[:at] + _pick(self.bank.zero_width, r) + text[at:]
        return text

    def _variants(self, text: str, lang: str, r: random.Random) -> str:
        for term, alternatives in self.bank.text[lang].variants.items():
            if term in text and r.random() < 0.8:
                text = text.replace(term, _pick(alternatives, r), 1)
        return text

    def _homoglyphs(self, text: str, r: random.Random) -> str:
        glyphs = self.bank.homoglyphs
        return "".join(glyphs[ch] if ch in glyphs and r.random() < 0.5 else ch for ch in text)


def _word(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or _is_cjk(ch)


def _word_pair(text: str, r: random.Random, tries: int = 24) -> int:
    """A random index ``i`` with word characters at ``i - 1`` and ``i``, or -1 if none was found."""
    n = len(text)
    if n < 2:
        return -1
    for _ in range(tries):
        i = 1 + int(r.random() * (n - 1))
        if _word(text[i - 1]) and _word(text[i]):
            return i
    return -1
