"""The compiled batch path of :mod:`spamflood.normalize`: both forms of many texts in one loop.

:mod:`spamflood.normalize` defines the two forms with regular expressions, one text at a time;
that pure-Python path is the reference. Most posts need only a few of its steps, and each step
costs a C call plus interpreter overhead, so per post the time goes to dozens of small calls.
Here the texts of a batch are one array of code points (UTF-32) and a numba loop runs the same
steps on it, each written out as the state machine its pattern describes:

1. the character folds (one code point -> zero or more) and whitespace collapsed to single
   spaces, in one pass;
2. symbols and emoji between two letters or digits removed;
3. spaced-out characters joined (``加 微 信``, ``w.e.c.h.a.t``), behind the same hint pattern
   and link gate as the reference, so that their quirks carry over;
4. a space between an ideograph or kana and a unit removed;
5. case folding; then, for the shingling form,
6. links replaced by their placeholder, then ``@mentions``, numbers and the removal of all
   but letters, digits and placeholders in one pass.

Steps run only when a flag gathered on the way says they could change something.

The loop handles only text whose characters behave simply under those steps. A text holding
any other character (combining marks, look-alike letters of other scripts, characters whose
case folding needs the folds redone, a character that is both a symbol and a letter, the few
letters that ``re.IGNORECASE`` equates with ASCII ones, code points beyond the tables) is
flagged, and the caller runs the reference on it. Correctness never rests on the loop covering
every case: the tables below decide per code point, and a property test compares the two paths
on arbitrary text.

The tables are built once per process from the reference's own data (:func:`build`). Only
:func:`run` is a numba function (``cache=True``); the helpers are compiled into it, which keeps
the first compilation to a few seconds. A forked worker reuses the parent's compiled code, a new
process loads it from numba's cache (``__pycache__``, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numba
import numpy as np
from numba.extending import register_jitable

# Code points below LIMIT have table entries (every assigned character up to CJK extension G).
# Above it only two ranges occur in practice, both deleted by the folds: the tag characters
# (U+E0000-E0FFF) and the private-use planes 15-16. Anything else up there is flagged.
LIMIT = 0x32000
_TAGS = (0xE0000, 0xE0FFF)
_PRIVATE_PLANES = 0xF0000

# Per code point flags.
F_ALNUM = 1  # str.isalnum(): a "letter" of the joining rules, \w but for "_"
F_SPACE = 2  # str.isspace(): what str.split() splits on
F_CJK = 4  # an ideograph or kana (the reference's _CJK_RANGES)
F_SYMBOL = 8  # removed between two letters (symbols and the emoji area)
F_FALLBACK = 16  # the loop cannot follow this character once folded: use the reference
F_UNUSUAL = 32  # the reference's "unusual" class: shingling a matching form needs the slow path
F_FOLDS = 64  # the character folds to something else before the steps (pre_map)
F_IN_FALLBACK = 128  # as input (before the folds) the loop cannot follow it
F_CASEFOLDS = 256  # str.casefold() changes it
F_LINKISH = 512  # "." or ":": without one, the link gate of the joining step stays shut

# Modes of run(): which forms to produce, and whether the input is a matching form already.
MODE_NORMALIZE = 1
MODE_SHINGLE = 2
MODE_INPUT_NORMALIZED = 4

# Status per text.
OK = 0
FALLBACK = 1

URL_MARK, MENTION_MARK, NUMBER_MARK = 0xE001, 0xE002, 0xE003

# re.IGNORECASE makes [a-z] and "s" match these four letters too (the link-span pattern runs
# with it): the loop does not model that, so text holding them goes the reference way.
_IGNORECASE_EXTRAS = (0x130, 0x131, 0x17F, 0x212A)


@dataclass(frozen=True)
class KernelTables:
    """Per code point tables (index < LIMIT) and the link endings, as arrays for the loop."""

    flags: np.ndarray  # uint16[LIMIT]
    fold_start: np.ndarray  # int32[LIMIT]: where the folded form starts in ``data``
    fold_len: np.ndarray  # uint8[LIMIT]
    case_start: np.ndarray  # int32[LIMIT]: where the case-folded form starts in ``data``
    case_len: np.ndarray  # uint8[LIMIT]
    data: np.ndarray  # uint32: the folded and case-folded forms, one after another
    tld_chars: np.ndarray  # uint32[n_tlds, 24]
    tld_len: np.ndarray  # int64[n_tlds]


def build(
    pre_map: Mapping[str, str],
    unusual: Iterable[int],
    symbols: Iterable[int],
    cjk_ranges: Iterable[tuple[int, int]],
    tlds: Iterable[str],
) -> KernelTables:
    """The loop's tables from the reference's classes (``normalize._build``'s data)."""
    chars = [chr(cp) for cp in range(LIMIT)]
    alnum = np.fromiter((c.isalnum() for c in chars), dtype=bool, count=LIMIT)
    space = np.fromiter((c.isspace() for c in chars), dtype=bool, count=LIMIT)
    flags = np.zeros(LIMIT, dtype=np.uint16)
    flags[alnum] |= F_ALNUM
    flags[space] |= F_SPACE
    flags[[ord("."), ord(":")]] |= F_LINKISH
    cjk = np.zeros(LIMIT, dtype=bool)
    for a, b in cjk_ranges:
        cjk[a : min(b, LIMIT - 1) + 1] = True
    flags[cjk] |= F_CJK
    symbol = np.zeros(LIMIT, dtype=bool)
    symbol[[cp for cp in symbols if cp < LIMIT]] = True
    flags[symbol] |= F_SYMBOL
    unusual_mask = np.zeros(LIMIT, dtype=bool)
    unusual_mask[[cp for cp in unusual if cp < LIMIT]] = True
    flags[unusual_mask] |= F_UNUSUAL

    # After the folds: characters whose behaviour the loop does not model.
    fallback = unusual_mask | (symbol & alnum) | (cjk & ~alnum)
    fallback[list(_IGNORECASE_EXTRAS)] = True
    fallback[0xD800:0xE000] = True  # lone surrogates: the folds delete them; never left after

    data: list[int] = []
    case_start = np.zeros(LIMIT, dtype=np.int32)
    case_len = np.zeros(LIMIT, dtype=np.uint8)
    for cp in range(LIMIT):
        folded = chars[cp].casefold()
        if folded != chars[cp]:
            flags[cp] |= F_CASEFOLDS
            case_start[cp] = len(data)
            case_len[cp] = len(folded)
            data.extend(map(ord, folded))
            # The case-folded form is final in the matching form and is read again when it is
            # shingled: it must hold nothing the shingling steps treat as unusual.
            if any(ord(c) >= LIMIT or unusual_mask[ord(c)] for c in folded):
                fallback[cp] = True
    flags[fallback] |= F_FALLBACK

    # Before the folds: each input character's folded form. A character whose folded form holds
    # another folded character is left to the reference, which folds in an order of its own.
    fold_start = np.zeros(LIMIT, dtype=np.int32)
    fold_len = np.zeros(LIMIT, dtype=np.uint8)
    in_fallback = np.zeros(LIMIT, dtype=bool)
    for key, value in pre_map.items():
        cp = ord(key)
        if cp >= LIMIT:
            continue  # tags and private use: deleted by rule in the loop
        flags[cp] |= F_FOLDS
        fold_start[cp] = len(data)
        fold_len[cp] = len(value)
        data.extend(map(ord, value))
        if any(ord(c) >= LIMIT or c in pre_map for c in value):
            in_fallback[cp] = True
    flags[in_fallback] |= F_IN_FALLBACK
    # The loop folds ASCII-only text as the reference's ASCII path does, which knows no
    # fallback: no ASCII character may need one, and only controls may fold (to nothing).
    if (flags[:128] & (F_FALLBACK | F_IN_FALLBACK)).any() or any(
        len(pre_map[chr(cp)]) for cp in range(128) if chr(cp) in pre_map
    ):  # pragma: no cover - would mean a change in the reference's tables
        raise ValueError("an ASCII character folds to something; the loop's ASCII path is wrong")
    # The loop treats every whitespace character as a space before looking at its fold.
    if any(k.isspace() and not (v and v.isspace()) for k, v in pre_map.items()):
        raise ValueError(  # pragma: no cover - as above
            "a whitespace character folds to something else; the loop's space rule is wrong"
        )

    tld_list = sorted(set(tlds))
    tld_chars = np.zeros((max(1, len(tld_list)), 24), dtype=np.uint32)
    tld_len = np.zeros(max(1, len(tld_list)), dtype=np.int64)
    for i, tld in enumerate(tld_list):
        tld_chars[i, : len(tld)] = [ord(c) for c in tld]
        tld_len[i] = len(tld)
    if int(case_len.max()) > 3:  # pragma: no cover - Unicode's longest case folding is 3
        raise ValueError("a case folding longer than 3 code points; widen run()'s buffers")
    return KernelTables(
        flags=flags,
        fold_start=fold_start,
        fold_len=fold_len,
        case_start=case_start,
        case_len=case_len,
        data=np.array(data, dtype=np.uint32),
        tld_chars=tld_chars,
        tld_len=tld_len,
    )


# --------------------------------------------------------------------------- the loop
#
# Every helper reads a text as ``src[s:e]`` and writes to ``dst`` from 0, returning the new
# length. Lookarounds of the reference's patterns read the text as it was before that step, as
# re.sub does; they never look past s or e (the start and end of the string the pattern ran on).


@register_jitable
def _copy(src, lo, hi, dst, w):  # type: ignore[no-untyped-def]
    """``src[lo:hi]`` appended to ``dst`` at ``w``; returns the new ``w``."""
    for k in range(lo, hi):
        dst[w] = src[k]
        w += 1
    return w


@register_jitable
def _is_placeholder(c):  # type: ignore[no-untyped-def]
    return URL_MARK <= c <= NUMBER_MARK


@register_jitable
def _nonword_or_astral(flags, c):  # type: ignore[no-untyped-def]
    # The hint's [\W_] superset: every character above U+FFFF counts.
    return c > 0xFFFF or (flags[c] & F_ALNUM) == 0


@register_jitable
def _word_or_astral(flags, c):  # type: ignore[no-untyped-def]
    # The hint's [^\W_] superset: every character above U+FFFF but the emoji area counts.
    if c > 0xFFFF:
        return not (0x1F000 <= c <= 0x1FBFF)
    return (flags[c] & F_ALNUM) != 0


@register_jitable
def _sep_char(flags, c):  # type: ignore[no-untyped-def]
    # plain_sep_char: punctuation or a symbol (or "_"), not a space or a placeholder.
    return (flags[c] & F_ALNUM) == 0 and c != 32 and not (URL_MARK <= c <= NUMBER_MARK)


@register_jitable
def _drop_symbols_between(src, n, dst, flags):  # type: ignore[no-untyped-def]
    """A run of symbols with a letter or digit on both sides is removed (``V❤信``)."""
    w = 0
    i = 0
    while i < n:
        c = src[i]
        if (flags[c] & F_SYMBOL) != 0 and i > 0 and (flags[src[i - 1]] & F_ALNUM) != 0:
            j = i + 1
            while j < n and (flags[src[j]] & F_SYMBOL) != 0:
                j += 1
            if j < n and (flags[src[j]] & F_ALNUM) != 0:
                i = j
                continue
        dst[w] = c
        w += 1
        i += 1
    return w


@register_jitable
def _chain_hint(src, n, flags):  # type: ignore[no-untyped-def]
    """Where the reference's chain_hint_rx first matches, or -1.

    NWA (?<=WOA.) NWA{0,2} WOA NWA{1,3} (?:[cjk] | WOA(?![^\\W_]))
    """
    for p in range(1, n):
        if not (_nonword_or_astral(flags, src[p]) and _word_or_astral(flags, src[p - 1])):
            continue
        for a in range(3):
            if a > 0 and (p + a >= n or not _nonword_or_astral(flags, src[p + a])):
                break
            w = p + a + 1
            if w >= n or not _word_or_astral(flags, src[w]):
                continue
            for b in range(1, 4):
                if w + b >= n or not _nonword_or_astral(flags, src[w + b]):
                    break
                z = w + b + 1
                if z < n:
                    cz = src[z]
                    if (flags[cz] & F_CJK) != 0:
                        return p
                    if _word_or_astral(flags, cz) and not (
                        z + 1 < n and (flags[src[z + 1]] & F_ALNUM) != 0
                    ):
                        return p
    return -1


@register_jitable
def _unit_end(src, q, e, flags):  # type: ignore[no-untyped-def]
    """plain_unit at q: an ideograph or kana, or a letter or digit with none after it."""
    if q >= e:
        return -1
    f = flags[src[q]]
    if (f & F_CJK) != 0:
        return q + 1
    if (f & F_ALNUM) != 0:
        if q + 1 < e and (flags[src[q + 1]] & F_ALNUM) != 0:
            return -1
        return q + 1
    return -1


@register_jitable
def _chain_end(src, s, e, p, flags):  # type: ignore[no-untyped-def]
    """End of a plain_chain match starting at p in src[s:e], or -1.

    A separator (a space, or one punctuation mark or symbol with optional spaces around it)
    after a unit, then a unit, then one or more (separator, unit) pairs.
    """
    c0 = src[p]
    if (flags[c0] & F_ALNUM) != 0 or _is_placeholder(c0) or p - 1 < s:
        return -1
    fu = flags[src[p - 1]]
    if (fu & F_CJK) == 0:
        if (fu & F_ALNUM) == 0:
            return -1
        if p - 2 >= s and (flags[src[p - 2]] & F_ALNUM) != 0:
            return -1
    q = p + 1
    if c0 == 32:
        if q < e and _sep_char(flags, src[q]):
            q += 1
            if q < e and src[q] == 32:
                q += 1
    elif q < e and src[q] == 32:
        q += 1
    end = _unit_end(src, q, e, flags)
    if end < 0:
        return -1
    units = 1
    while True:
        r = end
        if r < e and src[r] == 32:
            r += 1
            if r < e and _sep_char(flags, src[r]):
                r += 1
                if r < e and src[r] == 32:
                    r += 1
        elif r < e and _sep_char(flags, src[r]):
            r += 1
            if r < e and src[r] == 32:
                r += 1
        else:
            break
        nxt = _unit_end(src, r, e, flags)
        if nxt < 0:
            break
        end = nxt
        units += 1
    if units < 2:
        return -1
    return end


@register_jitable
def _next_chain(src, s, e, p, flags):  # type: ignore[no-untyped-def]
    """(start, end) of the first chain of src[s:e] starting at or after p, or (e, -1)."""
    while p < e:
        # A chain starts with a non-letter after a letter or ideograph: test that first.
        if (flags[src[p]] & F_ALNUM) == 0 and p > s and (
            flags[src[p - 1]] & (F_ALNUM | F_CJK)
        ) != 0:
            end = _chain_end(src, s, e, p, flags)
            if end >= 0:
                return p, end
        p += 1
    return e, -1


@register_jitable
def _join_part(src, s, e, start, dst, w, flags, only_if_found):  # type: ignore[no-untyped-def]
    """Join the chains of src[s:e] found from ``start`` on, appending to dst at w; returns
    the new w, or -1 if ``only_if_found`` and there is no chain (dst untouched)."""
    p, end = _next_chain(src, s, e, start, flags)
    if end < 0 and only_if_found:
        return -1
    w = _copy(src, s, p, dst, w)
    while end >= 0:
        for k in range(p, end):
            c = src[k]
            if (flags[c] & F_ALNUM) != 0:
                dst[w] = c
                w += 1
        q = end
        p, end = _next_chain(src, s, e, q, flags)
        w = _copy(src, q, p, dst, w)
    return w


@register_jitable
def _url_char_ignorecase(c):  # type: ignore[no-untyped-def]
    # [a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%] under re.IGNORECASE (the four extras are flagged).
    if 97 <= c <= 122 or 65 <= c <= 90 or 48 <= c <= 57:
        return True
    return (
        c == 45 or c == 46 or c == 95 or c == 126 or c == 58 or c == 47 or c == 63
        or c == 35 or c == 91 or c == 93 or c == 64 or c == 33 or c == 36 or c == 38
        or c == 39 or c == 40 or c == 41 or c == 42 or c == 43 or c == 44 or c == 59
        or c == 61 or c == 37
    )


@register_jitable
def _lower_ascii(c):  # type: ignore[no-untyped-def]
    return c + 32 if 65 <= c <= 90 else c


@register_jitable
def _url_span_end(src, i, n):  # type: ignore[no-untyped-def]
    """End of a url_span_rx match ((?:https?://|www\\.)url_char+, IGNORECASE) at i, or -1."""
    if i + 4 <= n and _lower_ascii(src[i]) == 104 and _lower_ascii(src[i + 1]) == 116 and (
        _lower_ascii(src[i + 2]) == 116 and _lower_ascii(src[i + 3]) == 112
    ):
        k = i + 4
        if k < n and _lower_ascii(src[k]) == 115:
            k += 1
        if k + 3 < n and src[k] == 58 and src[k + 1] == 47 and src[k + 2] == 47:
            if _url_char_ignorecase(src[k + 3]):
                j = k + 4
                while j < n and _url_char_ignorecase(src[j]):
                    j += 1
                return j
        return -1
    if i + 4 < n and _lower_ascii(src[i]) == 119 and _lower_ascii(src[i + 1]) == 119 and (
        _lower_ascii(src[i + 2]) == 119 and src[i + 3] == 46 and _url_char_ignorecase(src[i + 4])
    ):
        j = i + 5
        while j < n and _url_char_ignorecase(src[j]):
            j += 1
        return j
    return -1


@register_jitable
def _join_chains(src, n, dst, flags, lower_first, linkish):  # type: ignore[no-untyped-def]
    """The reference's chain step into dst, returning the new length; -1 when it changes
    nothing (dst untouched).

    As the reference: nothing unless the hint pattern matches; then, if the text may hold a
    link (``://``, ``ww.`` or ``WW.`` in it) and does, the parts between the links are joined
    each on its own; else the whole text from the hint on. ``lower_first``: the text is ASCII,
    which the reference lower-cases before this step (that matters to the link gate alone);
    ``linkish``: the text holds "." or ":" (without, the gate is shut).
    """
    hint = _chain_hint(src, n, flags)
    if hint < 0:
        return -1
    gate = False
    if linkish:
        for i in range(n - 2):
            c, d, f = src[i], src[i + 1], src[i + 2]
            if c == 58 and d == 47 and f == 47:
                gate = True
                break
            if f == 46:
                if lower_first:
                    c, d = _lower_ascii(c), _lower_ascii(d)
                if (c == 119 and d == 119) or (c == 87 and d == 87):
                    gate = True
                    break
    if not gate:
        return _join_part(src, 0, n, hint, dst, 0, flags, True)
    # Split around the links (re.split with a group): the parts between are joined each on
    # its own, from its start.
    w = 0
    part = 0
    i = 0
    found = False
    while i < n:
        end = _url_span_end(src, i, n)
        if end >= 0:
            found = True
            w = _join_part(src, part, i, part, dst, w, flags, False)
            w = _copy(src, i, end, dst, w)
            part = end
            i = end
        else:
            i += 1
    if found:
        return _join_part(src, part, n, part, dst, w, flags, False)
    return _join_part(src, 0, n, hint, dst, 0, flags, False)


@register_jitable
def _drop_cjk_gaps(src, n, dst, flags):  # type: ignore[no-untyped-def]
    """Remove a space between an ideograph or kana and a unit (``加微 信``, ``第 1 名``)."""
    w = 0
    for i in range(n):
        c = src[i]
        if c == 32 and 0 < i < n - 1:
            fp = flags[src[i - 1]]
            fn = flags[src[i + 1]]
            drop = False
            if (fp & F_CJK) != 0:
                if (fn & F_CJK) != 0:
                    drop = True
                elif (fn & F_ALNUM) != 0 and not (
                    i + 2 < n and (flags[src[i + 2]] & F_ALNUM) != 0
                ):
                    drop = True
            elif (fp & F_ALNUM) != 0 and (fn & F_CJK) != 0:
                drop = not (i - 2 >= 0 and (flags[src[i - 2]] & F_ALNUM) != 0)
            if drop:
                continue
        dst[w] = c
        w += 1
    return w


# --- the shingling steps (on a matching form; the regexes there are ASCII and lower case)


@register_jitable
def _url_char(c):  # type: ignore[no-untyped-def]
    # [a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%], case-sensitive.
    if 97 <= c <= 122 or 48 <= c <= 57:
        return True
    return (
        c == 45 or c == 46 or c == 95 or c == 126 or c == 58 or c == 47 or c == 63
        or c == 35 or c == 91 or c == 93 or c == 64 or c == 33 or c == 36 or c == 38
        or c == 39 or c == 40 or c == 41 or c == 42 or c == 43 or c == 44 or c == 59
        or c == 61 or c == 37
    )


@register_jitable
def _an(c):  # type: ignore[no-untyped-def]
    return 97 <= c <= 122 or 48 <= c <= 57


@register_jitable
def _scheme_link_end(src, i, n):  # type: ignore[no-untyped-def]
    """End of a scheme_url_rx match (https?://url_char+ | www\\.url_char+) at i, or -1."""
    c = src[i]
    end = -1
    if c == 104 and i + 4 <= n and src[i + 1] == 116 and src[i + 2] == 116 and src[i + 3] == 112:
        k = i + 4
        if k < n and src[k] == 115:
            k += 1
        if k + 3 < n and src[k] == 58 and src[k + 1] == 47 and src[k + 2] == 47:
            if _url_char(src[k + 3]):
                end = k + 4
                while end < n and _url_char(src[end]):
                    end += 1
    elif c == 119 and i + 4 < n and src[i + 1] == 119 and src[i + 2] == 119 and src[i + 3] == 46:
        if _url_char(src[i + 4]):
            end = i + 5
            while end < n and _url_char(src[end]):
                end += 1
    return end


@register_jitable
def _replace_scheme_links(src, n, dst):  # type: ignore[no-untyped-def]
    """https?://url_char+ | www\\.url_char+ -> URL_MARK; -1 when there is none (dst untouched)."""
    i = 0
    end = -1
    while i < n:
        c = src[i]
        if c == 104 or c == 119:
            end = _scheme_link_end(src, i, n)
            if end >= 0:
                break
        i += 1
    if end < 0:
        return -1
    for k in range(i):
        dst[k] = src[k]
    w = i
    while i < n:
        if end < 0:
            c = src[i]
            if c == 104 or c == 119:
                end = _scheme_link_end(src, i, n)
        if end >= 0:
            dst[w] = URL_MARK
            w += 1
            i = end
            end = -1
        else:
            dst[w] = src[i]
            w += 1
            i += 1
    return w


@register_jitable
def _is_tld(src, st, en, tld_chars, tld_len):  # type: ignore[no-untyped-def]
    length = en - st
    for t in range(tld_len.shape[0]):
        if tld_len[t] != length:
            continue
        same = True
        for k in range(length):
            if src[st + k] != tld_chars[t, k]:
                same = False
                break
        if same:
            return True
    return False


@register_jitable
def _bare_link_end(src, i, n, tld_chars, tld_len):  # type: ignore[no-untyped-def]
    """End of a bare_url_rx match at i (the look-behind already checked), or -1.

    label(\\.label)*\\.tld(?![a-z0-9-])(/url_char*)?  |  label(\\.label)+/url_char*
    A label is one whole dot-separated segment, so the first alternative takes the last link
    ending among the valid labels, and the second needs every segment valid up to a "/".
    """
    pos = i
    idx = 0
    best_end = -1
    last_end = -1
    valid_count = 0
    while True:
        st = pos
        while pos < n and (_an(src[pos]) or src[pos] == 45):
            pos += 1
        en = pos
        if not (en > st and _an(src[st]) and _an(src[en - 1])):
            break
        if idx > 0 and _is_tld(src, st, en, tld_chars, tld_len):
            best_end = en
        last_end = en
        valid_count = idx + 1
        if pos < n and src[pos] == 46:
            pos += 1
            idx += 1
            continue
        break
    end = -1
    if best_end >= 0:
        end = best_end
        if end < n and src[end] == 47:
            end += 1
            while end < n and _url_char(src[end]):
                end += 1
    elif valid_count >= 2 and last_end < n and src[last_end] == 47:
        end = last_end + 1
        while end < n and _url_char(src[end]):
            end += 1
    return end


@register_jitable
def _next_bare_link(src, i, n, tld_chars, tld_len):  # type: ignore[no-untyped-def]
    """(start, end) of the first bare link at or after i, or (n, -1).

    A link starts at [a-z0-9] after none of [a-z0-9.-] (the look-behind).
    """
    prev_host = i > 0 and (_an(src[i - 1]) or src[i - 1] == 46 or src[i - 1] == 45)
    while i < n:
        c = src[i]
        host = _an(c)
        if host and not prev_host:
            end = _bare_link_end(src, i, n, tld_chars, tld_len)
            if end >= 0:
                return i, end
        prev_host = host or c == 46 or c == 45
        i += 1
    return n, -1


@register_jitable
def _replace_bare_links(src, n, dst, tld_chars, tld_len):  # type: ignore[no-untyped-def]
    """bare_url_rx -> URL_MARK; -1 when there is none (dst untouched)."""
    start, end = _next_bare_link(src, 0, n, tld_chars, tld_len)
    if end < 0:
        return -1
    w = 0
    i = 0
    while end >= 0:
        w = _copy(src, i, start, dst, w)
        dst[w] = URL_MARK
        w += 1
        i = end
        start, end = _next_bare_link(src, i, n, tld_chars, tld_len)
    return _copy(src, i, n, dst, w)


@register_jitable
def _mentions_numbers_letters(src, n, dst, w, flags, ascii_marks):  # type: ignore[no-untyped-def]
    """The last three shingling steps in one pass, appending to dst at w: ``@[\\w\\-]+`` ->
    MENTION_MARK, then ``[0-9]+(?:[.,:][0-9]+)*`` -> NUMBER_MARK, then only letters, digits
    and placeholders kept.

    One pass gives what the three do one after another: a number never holds "@" and a mention
    swallows the digits it holds, so the matches are the same. ``ascii_marks``: the reference's
    ASCII path, where \\x01-\\x03 in the text stand for the placeholders.
    """
    i = 0
    while i < n:
        c = src[i]
        if c == 64:  # "@"
            j = i + 1
            while j < n:
                d = src[j]
                if (flags[d] & F_ALNUM) != 0 or d == 95 or d == 45:
                    j += 1
                else:
                    break
            if j > i + 1:
                dst[w] = MENTION_MARK
                w += 1
                i = j
            else:
                i += 1  # "@" alone: dropped
            continue
        if 48 <= c <= 57:
            j = i + 1
            while j < n and 48 <= src[j] <= 57:
                j += 1
            while j + 1 < n and (src[j] == 46 or src[j] == 44 or src[j] == 58) and (
                48 <= src[j + 1] <= 57
            ):
                j += 2
                while j < n and 48 <= src[j] <= 57:
                    j += 1
            dst[w] = NUMBER_MARK
            w += 1
            i = j
            continue
        if c < 128:
            if (flags[c] & F_ALNUM) != 0:
                dst[w] = c
                w += 1
            elif ascii_marks and 1 <= c <= 3:
                dst[w] = URL_MARK + c - 1
                w += 1
        elif (flags[c] & F_ALNUM) != 0 or (URL_MARK <= c <= NUMBER_MARK):
            dst[w] = c
            w += 1
        i += 1
    return w


@register_jitable
def _grow_copy(buf, used, need):  # type: ignore[no-untyped-def]
    """``buf`` with room for ``need`` code points after the first ``used`` (kept)."""
    if used + need <= buf.shape[0]:
        return buf
    out = np.empty(max(buf.shape[0] * 2, used + need + 64), dtype=np.uint32)
    out[:used] = buf[:used]
    return out


@register_jitable
def _folded_length(codes, s0, e0, flags, fold_len):  # type: ignore[no-untyped-def]
    """An upper bound of the length of text s0:e0 once folded."""
    m = 0
    for i in range(s0, e0):
        c = codes[i]
        if c < LIMIT and (flags[c] & F_FOLDS) != 0:
            m += fold_len[c]
        else:
            m += 1
    return m


@register_jitable
def _fold_text(codes, s0, e0, keep_marks, flags, fold_start, fold_len, data, x):  # type: ignore[no-untyped-def]
    # type: (...) -> tuple  # noqa
    """Step 1 and 2: fold every character and collapse whitespace, into x (which must hold
    the folded text: see _folded_length).

    Returns (length, ok, flags seen, ASCII only); ok is False when the text must go the
    reference way. (No array is reassigned inside the loops here: numba would count its
    references at every character, ten times the cost of the work.)
    """
    n = 0
    seen = 0
    high = 0
    pending = False
    slow = F_FOLDS | F_FALLBACK | F_IN_FALLBACK | F_SPACE
    for i in range(s0, e0):
        c = codes[i]
        high |= c
        f = flags[c] if c < LIMIT else slow
        if (f & slow) == 0:  # most characters: kept as they are
            if pending:
                x[n] = 32
                n += 1
                pending = False
                seen |= F_SPACE
            x[n] = c
            n += 1
            seen |= f
            continue
        if c >= LIMIT:
            if (_TAGS[0] <= c <= _TAGS[1]) or c >= _PRIVATE_PLANES:
                continue  # deleted
            return 0, False, seen, False
        if (f & F_SPACE) != 0:
            pending = n > 0
            continue
        if keep_marks and URL_MARK <= c <= NUMBER_MARK:
            return 0, False, seen, False  # kept by shingle_text, with rules of their own
        if (f & F_IN_FALLBACK) != 0 or (f & F_FOLDS) == 0:
            return 0, False, seen, False
        st = fold_start[c]
        for k in range(fold_len[c]):
            d = data[st + k]
            g = flags[d]
            if (g & F_FALLBACK) != 0:
                return 0, False, seen, False
            if (g & F_SPACE) != 0:
                pending = n > 0
                continue
            if pending:
                x[n] = 32
                n += 1
                pending = False
                seen |= F_SPACE
            x[n] = d
            n += 1
            seen |= g
    return n, True, seen, high < 128


@numba.njit(cache=True, nogil=True)
def run(codes, offsets, mode, flags, fold_start, fold_len, case_start, case_len, data,  # type: ignore[no-untyped-def]
        tld_chars, tld_len):
    """Both forms of every text ``codes[offsets[t]:offsets[t + 1]]``.

    Returns (matching forms, their offsets, shingling forms, their offsets, status per text);
    a text with status FALLBACK has empty forms here and must go through the reference.
    """
    n_texts = offsets.shape[0] - 1
    want_norm = (mode & MODE_NORMALIZE) != 0
    want_shingle = (mode & MODE_SHINGLE) != 0
    given_norm = (mode & MODE_INPUT_NORMALIZED) != 0
    keep_marks = want_shingle and not want_norm and not given_norm  # shingle_text(raw)
    status = np.zeros(n_texts, dtype=np.uint8)
    norm_off = np.zeros(n_texts + 1, dtype=np.int64)
    sh_off = np.zeros(n_texts + 1, dtype=np.int64)
    total = offsets[n_texts] - offsets[0]
    norm_buf = np.empty(total + 64 if want_norm else 1, dtype=np.uint32)
    sh_buf = np.empty(total + 64 if want_shingle else 1, dtype=np.uint32)
    max_fold = max(1, int(fold_len.max()))
    x = np.empty(1024, dtype=np.uint32)
    y = np.empty(1024, dtype=np.uint32)
    nw = 0
    sw = 0
    for t in range(n_texts):
        s0 = offsets[t]
        e0 = offsets[t + 1]
        ok = True
        ascii_text = True
        if given_norm:
            # The input is a matching form: shingle it as it is.
            n = e0 - s0
            if n + 16 > x.shape[0] or n + 16 > y.shape[0]:
                x = np.empty(2 * n + 64, dtype=np.uint32)
                y = np.empty(2 * n + 64, dtype=np.uint32)
            for i in range(n):
                c = codes[s0 + i]
                if c >= 128:
                    ascii_text = False
                x[i] = c
            if not ascii_text:
                for i in range(n):
                    c = x[i]
                    if c >= LIMIT or (0xD800 <= c < 0xE000) or (flags[c] & F_UNUSUAL) != 0:
                        ok = False
                        break
        else:
            # Room for the folded text, tripled by case folding at most.
            need = 3 * (e0 - s0) * max_fold + 64
            if need > x.shape[0] or need > y.shape[0]:
                if e0 - s0 > 4096:  # a long text: count rather than assume the worst
                    need = 3 * _folded_length(codes, s0, e0, flags, fold_len) + 64
                if need > x.shape[0] or need > y.shape[0]:
                    x = np.empty(need, dtype=np.uint32)
                    y = np.empty(need, dtype=np.uint32)
            n, ok, seen, ascii_text = _fold_text(
                codes, s0, e0, keep_marks, flags, fold_start, fold_len, data, x
            )
            if ok:
                # 3-5. symbols between letters, chains, gaps beside ideographs.
                if (seen & F_SYMBOL) != 0:
                    n = _drop_symbols_between(x, n, y, flags)
                    x, y = y, x
                joined = _join_chains(x, n, y, flags, ascii_text, (seen & F_LINKISH) != 0)
                if joined >= 0:
                    n = joined
                    x, y = y, x
                if (seen & F_CJK) != 0 and (seen & F_SPACE) != 0:
                    n = _drop_cjk_gaps(x, n, y, flags)
                    x, y = y, x
                # 6. case folding.
                if (seen & F_CASEFOLDS) != 0:
                    m = 0
                    for i in range(n):
                        c = x[i]
                        if (flags[c] & F_CASEFOLDS) != 0:
                            st = case_start[c]
                            for k in range(case_len[c]):
                                y[m] = data[st + k]
                                m += 1
                        else:
                            y[m] = c
                            m += 1
                    n = m
                    x, y = y, x
                if want_norm:
                    norm_buf = _grow_copy(norm_buf, nw, n)
                    norm_buf[nw : nw + n] = x[:n]
                    nw += n
        if ok and want_shingle:
            # 7. links, mentions, numbers; then letters, digits and placeholders only. The
            # link steps run only where their patterns could match.
            has_scheme = False
            dot_letter = False
            dot_alnum = False
            has_slash = False
            for i in range(n):
                c = x[i]
                if c == 46:
                    if 0 < i < n - 1 and _an(x[i - 1]):
                        d = x[i + 1]
                        if 97 <= d <= 122:
                            dot_letter = True
                        elif 48 <= d <= 57:
                            dot_alnum = True
                    if i >= 3 and x[i - 1] == 119 and x[i - 2] == 119 and x[i - 3] == 119:
                        has_scheme = True
                elif c == 47:
                    has_slash = True
                    if i >= 1 and x[i - 1] == 58 and i + 1 < n and x[i + 1] == 47:
                        has_scheme = True
            if has_scheme:
                m = _replace_scheme_links(x, n, y)
                if m >= 0:
                    n = m
                    x, y = y, x
            if dot_letter or (dot_alnum and has_slash):
                m = _replace_bare_links(x, n, y, tld_chars, tld_len)
                if m >= 0:
                    n = m
                    x, y = y, x
            sh_buf = _grow_copy(sh_buf, sw, n)
            sw = _mentions_numbers_letters(x, n, sh_buf, sw, flags, given_norm and ascii_text)
        if not ok:
            status[t] = FALLBACK
            nw = norm_off[t]
            sw = sh_off[t]
        norm_off[t + 1] = nw
        sh_off[t + 1] = sw
    return norm_buf, norm_off, sh_buf, sh_off, status
