"""The sender's own name in its post: how a brand or shop signs its copy.

A brand's copy names the brand that sends it ("暖绒坊官方" posts "新春快乐｜暖绒坊祝您新年大吉",
"VitaCore" posts "VitaCore stands with Houston after the flood"); people rarely name themselves
in their own posts. The display name is cut at an ending that is not the brand's
(``sender_suffixes``: 官方, Official) and looked for as a whole word in the post's matching form.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spamflood.criteria.context import lexicon

__all__ = ["MIN_CHARS", "sender_masked", "sender_spans"]

MIN_CHARS = 2
"""Fewest characters of a sender's name (CJK; twice as many Latin) worth looking for: a shorter
one is a word, not a name."""

_CJK = re.compile(r"[\u3400-\u9fff]")


_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
"""Characters that continue a word of the matching form: a name is found only where none touches it."""


@lru_cache(maxsize=65_536)
def _stem(name: str) -> str | None:
    """The matching form of a display name without its ending (``None``: too short to be a name).
    Cached by name: one account posts many times. A plain string, not a compiled pattern, so
    that a feed of many accounts costs no regular-expression compilation per account."""
    from spamflood.normalize import normalize

    stem = normalize(name)
    for suffix in _suffixes():
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)].rstrip(" _-.")
            break
    if len(stem) < (MIN_CHARS if _CJK.search(stem) else 2 * MIN_CHARS):
        return None
    return stem


def _spans(text: str, stem: str) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of ``stem`` in ``text``, left to right, not preceded or
    followed by a word character (:data:`_WORD`)."""
    out = []
    start, size = 0, len(stem)
    while (at := text.find(stem, start)) >= 0:
        end = at + size
        if (at == 0 or text[at - 1] not in _WORD) and (end == len(text) or text[end] not in _WORD):
            out.append((at, end))
            start = end
        else:
            start = at + 1
    return out


@lru_cache(maxsize=1)
def _suffixes() -> tuple[str, ...]:
    return tuple(sorted(lexicon("sender_suffixes").terms, key=len, reverse=True))


def sender_spans(text: str, name: str | None) -> list[tuple[int, int]]:
    """Where ``text`` (matching form) names its sender ``name`` (a display name as written).

    >>> sender_spans("新春快乐|暖绒坊祝您新年大吉", "暖绒坊官方")
    [(5, 8)]
    >>> sender_spans("vitacore stands with houston", "VitaCore"), sender_spans("savannah says hi", "Anna")
    ([(0, 8)], [])
    """
    stem = _stem(name) if name else None
    return _spans(text, stem) if stem is not None else []


def sender_masked(text: str, name: str | None) -> tuple[str, int]:
    """``text`` with its sender's own name masked (``\\u0001``), and how many times it was.

    >>> sender_masked("新春快乐|暖绒坊祝您新年大吉", "暖绒坊官方") == sender_masked("新春快乐|学霸通祝您新年大吉", "学霸通")
    True
    """
    stem = _stem(name) if name else None
    spans = _spans(text, stem) if stem is not None else []
    if not spans:
        return text, 0
    pieces: list[str] = []
    last = 0
    for at, end in spans:
        pieces += (text[last:at], "\u0001")
        last = end
    pieces.append(text[last:])
    return "".join(pieces), len(spans)
