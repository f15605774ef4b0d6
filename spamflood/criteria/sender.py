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
"""What may not touch a name on either side (the matching form is lower case): ``anna`` is not
in ``savannah``."""


@lru_cache(maxsize=65_536)  # by name: an account posts many times
def _stem(name: str) -> str | None:
    """The part of display name ``name`` a post would name (matching form, brand suffix cut), or
    ``None`` when it is too short to be a name."""
    from spamflood.normalize import normalize

    stem = normalize(name)
    for suffix in _suffixes():
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)].rstrip(" _-.")
            break
    if len(stem) < (MIN_CHARS if _CJK.search(stem) else 2 * MIN_CHARS):
        return None
    return stem


def _whole_words(text: str, stem: str) -> list[tuple[int, int]]:
    """The non-overlapping occurrences of ``stem`` in ``text`` with no Latin letter or digit
    just before or after, left to right. A ``str.find`` loop, not a regex per name: display
    names are mostly distinct, and compiling a pattern for each costs more than the search."""
    spans: list[tuple[int, int]] = []
    size, width = len(text), len(stem)
    at = text.find(stem)
    while at >= 0:
        end = at + width
        if (at == 0 or text[at - 1] not in _WORD) and (end == size or text[end] not in _WORD):
            spans.append((at, end))
            at = text.find(stem, end)
        else:
            at = text.find(stem, at + 1)
    return spans


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
    return _whole_words(text, stem) if stem is not None else []


def sender_masked(text: str, name: str | None) -> tuple[str, int]:
    """``text`` with its sender's own name masked (``\\u0001``), and how many times it was.

    >>> sender_masked("新春快乐|暖绒坊祝您新年大吉", "暖绒坊官方") == sender_masked("新春快乐|学霸通祝您新年大吉", "学霸通")
    True
    """
    spans = sender_spans(text, name)
    if not spans:
        return text, 0
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    return "\u0001".join(pieces), len(spans)
