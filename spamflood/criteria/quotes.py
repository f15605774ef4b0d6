"""Quotes as written: a match found in a post's matching form, mapped back to its original text.

The lexicons and patterns run on :func:`spamflood.normalize.normalize`'s matching form (lower
case, full-width and traditional characters folded, spaced-out words joined, an emoji inside a
word removed), but evidence must quote what the post says: a short link is case-sensitive
(``bit.ly/AbC12`` is not ``bit.ly/abc12``), and a moderator searches for the words as written.

:func:`original` finds the match in the original text folded one character at a time (a fold
that keeps every position: ``Ｖ`` -> ``v``, ``價`` -> ``价``, ``A`` -> ``a``), and quotes the
same characters of the original; where normalization removed characters inside the match
(``加 微 信`` -> ``加微信``, ``V❤信`` -> ``v信``) it allows them between the match's characters.
A match that cannot be found so (a character that folds to two, ``ß`` -> ``ss``) is quoted in
its matching form, as before.

>>> original("限時特價 Bit.ly/AbC12", "限时特价 bit.ly/abc12", 5, 17)
'Bit.ly/AbC12'
>>> original("加 V ❤ 信", "加v信", 0, 3)
'加 V ❤ 信'
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["original"]


def _gap(ch: str) -> bool:
    """Whether normalization may have removed ``ch`` between two characters of a match: a
    space, punctuation, a symbol, an emoji, an invisible character (``[\\W_]`` in ``re``)."""
    return ch == "_" or not ch.isalnum()


def _fold_one(ch: str) -> str:
    from spamflood.normalize import normalize

    folded = normalize(ch)
    if len(folded) == 1:
        return folded
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


class _FoldTable(dict[int, int | str]):
    """A ``str.translate`` table: code point -> its one-character fold (:func:`_fold_one`), or
    itself; filled as characters are first seen (a thread racing another stores the same value)."""

    def __missing__(self, code: int) -> int | str:
        ch = chr(code)
        folded = _fold_one(ch)
        value = self[code] = folded if folded != ch else code
        return value


_FOLD_TABLE = _FoldTable()


@lru_cache(maxsize=4096)  # a post's evidence quotes several matches of it
def _folded(text: str) -> str:
    """``text`` with every character folded as the matching form folds it alone, where that
    fold is one character (so positions stay those of ``text``)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


def _spaced(text: str, target: str) -> list[tuple[int, int]]:
    """Where ``target``'s characters occur in ``text`` in order, with only removable characters
    (:func:`_gap`) between them: each occurrence's ``(start, end)``, left to right and not
    overlapping, the first of each start with the fewest characters skipped first (what
    ``re.finditer`` gives for the characters joined by ``[\\W_]*?``, without compiling a
    pattern per target)."""
    out: list[tuple[int, int]] = []
    at = text.find(target[0])
    while at >= 0:
        end = _spaced_end(text, target, at)
        if end is None:
            at = text.find(target[0], at + 1)
        else:
            out.append((at, end))
            at = text.find(target[0], end)
    return out


def _spaced_end(text: str, target: str, start: int) -> int | None:
    """The end of ``target`` spaced out in ``text`` from ``start`` (``text[start]`` is its first
    character), or ``None``. A depth-first search over (characters matched, position) that
    tries the next character before skipping one more, as a lazy regex backtracks; a state
    seen before has failed already."""
    size, width = len(text), len(target)
    pending = [(1, start + 1)]
    seen: set[tuple[int, int]] = set()
    while pending:
        state = pending.pop()
        matched, at = state
        if matched == width:
            return at
        if at >= size or state in seen:
            continue
        seen.add(state)
        ch = text[at]
        if _gap(ch):
            pending.append((matched, at + 1))  # skipped: tried after the match below
        if ch == target[matched]:
            pending.append((matched + 1, at + 1))
    return None


def _starts(text: str, target: str, stop: int | None = None) -> list[int]:
    """Where ``target`` occurs in ``text`` (overlaps included), up to position ``stop``."""
    out = []
    at = text.find(target)
    while at >= 0 and (stop is None or at <= stop):
        out.append(at)
        at = text.find(target, at + 1)
    return out


def original(text: str, normal: str, start: int, end: int) -> str:
    """The characters of ``text`` (as written) that ``normal[start:end]`` was made from, where
    ``normal`` is ``text``'s matching form; ``normal[start:end]`` itself when they cannot be
    told. Of several equal matches, the one with the same rank in the text."""
    target = normal[start:end]
    if not target or text == normal:
        return target
    if normal.find(target) == start and target in text:  # written as matched: most words of most posts
        return target
    rank = len(_starts(normal, target, start)) - 1
    folded = _folded(text)
    found = _starts(folded, target)
    if found:
        at = found[min(max(rank, 0), len(found) - 1)]
        return text[at : at + len(target)]
    spaced = _spaced(folded, target)
    if spaced:
        begin, end = spaced[min(max(rank, 0), len(spaced) - 1)]
        return text[begin:end]
    return target
