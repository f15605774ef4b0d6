"""Text normalization: one canonical form for matching, one for shingling.

Copies of one marketing message are disguised cheaply: full-width letters, zero-width spaces
inside a word, Cyrillic look-alikes, ``加 微 信`` spelled out with spaces, ``V❤信`` with an
emoji in the middle, traditional characters. Two forms undo that:

* :func:`normalize` gives the *matching form* that lexicons (Aho-Corasick) run on: still
  readable text, lower case, with the disguises folded away.
* :func:`shingle_text` gives the *shingling form* that MinHash runs on: the matching form with
  links, @mentions and numbers each replaced by one placeholder character, and every space,
  punctuation mark, symbol and emoji removed, so two copies that differ only in those agree.

Both are idempotent and never raise on a ``str``; ``shingle_text(normalize(x)) ==
shingle_text(x)`` whenever ``x`` holds none of the three placeholder characters, so a caller
that needs both forms can normalize once and shingle the result with ``normalized=True``,
which skips the second normalization.

The character tables (look-alikes, punctuation, invisible characters, diacritic blocks, link
endings) are data files in ``spamflood/data/normalize/``; the traditional-to-simplified table is
built from the dictionary of ``opencc-python-reimplemented``. All of it is built once per
process, on first use, behind a lock, so the functions are safe to call from several threads.

One text or many
----------------
:func:`normalize` and :func:`shingle_text` run the rules below as regular expressions, one text
at a time: that path is the reference. The batch functions (:func:`normalize_many`,
:func:`shingle_many`, :func:`normalize_and_shingle_many`, and :func:`shingle_codes` /
:func:`normalize_and_shingle_codes`, which hand MinHash one array of code points) run the same
rules as one compiled loop over the whole batch (:mod:`spamflood._normalize_kernel`), several
times faster, and give exactly what the reference gives: a text the loop cannot follow
(combining marks, look-alike letters of other scripts, a few other rare characters) goes the
reference way. The loop is compiled on first use on a machine (several seconds, then cached);
:func:`warm_up` does that up front.

Joining spaced-out characters
-----------------------------
A *unit* is a character standing alone: an ideograph or kana (Chinese and Japanese write
words without spaces, so each is a word of its own), or a letter or digit with no letter,
digit or combining mark beside it. A *separator* is a run of spaces, or one punctuation mark
or symbol with optional spaces around it. In the matching form:

* three or more units in a row, one separator between each, are joined: ``加 微 信``,
  ``w.e.c.h.a.t``, ``w - e - c``, ``加 V ❤ 信`` -> ``加微信``, ``wechat``, ``wec``, ``加v信``;
  never inside a ``http(s)://`` or ``www.`` link;
* symbols and emoji between two letters or digits are removed: ``V❤信`` -> ``v信``;
* a space between an ideograph or kana and a unit is removed: ``加微 信`` -> ``加微信``,
  ``第 1 名`` -> ``第1名``.

Trade-offs, chosen on purpose
-----------------------------
* Cyrillic, Greek and Armenian look-alikes are folded only inside a word that also has Latin
  letters (``bооk``), or everywhere when every such letter in the text is a look-alike and the
  text has letters of another script (a Latin text in disguise, ``buy ѕеху``). Real Russian or
  Greek prose has letters without a Latin twin, so it stays as it is; a text made of look-alike
  letters alone (``сор``) is kept. :func:`shingle_text` folds look-alikes everywhere: its
  output is never read, only compared.
* Accents on Latin and Greek letters are dropped (``wéchat`` matches ``wechat``); Cyrillic
  ``й`` and ``ё`` keep theirs. Decimal digits of every script become ASCII digits.
* Ordinary English keeps its single-letter words: two units in a row (``a b``) are not joined,
  but three are (``x a b`` -> ``xab``), and so are runs of single letters in lists
  (``A, B, C`` -> ``abc``). Chinese punctuation between single ideographs (``好，好，好``)
  goes the same way. The matching form is for matching, not for display.
* Characters are converted traditional -> simplified one at a time; a few characters with two
  simplified readings (``乾``) always take the first.
* Private-use characters (old phone emoji, invisible in most fonts) are removed, but
  :func:`shingle_text` keeps U+E001-E003 since they are its own placeholders; input holding
  them keeps them. Flags (regional indicators) are left as symbols, not folded to letters.

>>> normalize("加 微 信：ＷＥＣＨＡＴ８８８")
'加微信:wechat888'
>>> normalize("限時優惠 bооk now")
'限时优惠 book now'
>>> a = shingle_text("限時特價！￥99 加V: abc123 http://t.cn/xyz")
>>> a == shingle_text("限时特价 ¥ 88 加v abc456 https://bit.ly/q")
True
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from spamflood.errors import ConfigError

__all__ = [
    "MENTION_MARK",
    "NUMBER_MARK",
    "URL_MARK",
    "normalize",
    "normalize_and_shingle_codes",
    "normalize_and_shingle_many",
    "normalize_many",
    "shingle_codes",
    "shingle_many",
    "shingle_text",
    "warm_up",
]

URL_MARK = "\ue001"
"""Placeholder (a private-use character) that :func:`shingle_text` puts in place of a link."""

MENTION_MARK = "\ue002"
"""Placeholder that :func:`shingle_text` puts in place of an ``@mention``."""

NUMBER_MARK = "\ue003"
"""Placeholder that :func:`shingle_text` puts in place of a number (``99``, ``19.9``, ``1,000``)."""

DATA_DIR = Path(__file__).resolve().parent / "data" / "normalize"
"""Where the character tables live."""

_MARKS = URL_MARK + MENTION_MARK + NUMBER_MARK

# Chinese and Japanese write words without spaces, so every ideograph or kana is a "word" of
# its own for the joining rules. (Hangul is left out: Korean separates words with spaces.)
_CJK_RANGES = (
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x3098),  # hiragana (U+3099-309A are combining marks, not letters)
    (0x309B, 0x30FF),  # kana signs, katakana
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)

# Where the one-time build looks for characters with properties that matter (format, marks,
# symbols, digits, compatibility forms, letters of look-alike scripts). The large blocks of
# plain letters (CJK ideographs, Hangul syllables) and the private-use planes are skipped:
# nothing in them is folded except by the traditional->simplified table, which is applied
# separately, and private use is deleted by one range.
_SCAN_RANGES = (
    (0x0000, 0x3400),
    (0x4DC0, 0x4E00),
    (0xA000, 0xAC00),
    (0xD7A4, 0x20000),
    (0x2F800, 0x2FA20),
    (0xE0000, 0xE1000),
)
_PRIVATE_USE_PLANES = (0xF0000, 0x10FFFF)
# Hangul conjoining jamo: NFKC composes them into syllables although they are not marks.
_CONJOINING_JAMO = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))

_WHITESPACE_CONTROLS = frozenset(c for c in range(0x20) if chr(c).isspace()) | {0x85}

# The first word of the Unicode name of every Latin letter.
_LATIN_WORD = "LATIN"


# --------------------------------------------------------------------------- data files


def _code_point(field: str, path: Path, lineno: int, column: str) -> int:
    """Parse ``U+XXXX`` into an int, or raise a ConfigError naming the file and line."""
    if not re.fullmatch(r"U\+[0-9A-Fa-f]{4,6}", field):
        raise ConfigError(
            f"{path.name} line {lineno}: {column} must look like U+0430; got {field!r} instead."
        )
    value = int(field[2:], 16)
    if value > 0x10FFFF:
        raise ConfigError(f"{path.name} line {lineno}: {column} {field} is beyond U+10FFFF.")
    return value


def _rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) of a tab-separated data file, skipping comments and blanks.

    Lines with fewer than ``columns`` fields raise :class:`ConfigError` naming the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read normalization table {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"normalization table {path} is not valid UTF-8") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < columns:
            raise ConfigError(
                f"{path.name} line {lineno}: expected {columns} tab-separated fields; "
                f"got {len(fields)} in {line!r}."
            )
        yield lineno, fields


def load_homoglyphs(path: Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Read the look-alike table: ``(always, mixed)`` maps from a character to its Latin twin.

    ``always`` characters are folded everywhere; ``mixed`` ones only where a word mixes them
    with Latin letters (see the module notes). Raises :class:`ConfigError` on a malformed line.
    """
    path = path or DATA_DIR / "homoglyphs.tsv"
    always: dict[str, str] = {}
    mixed: dict[str, str] = {}
    for lineno, fields in _rows(path, 3):
        char = chr(_code_point(fields[0], path, lineno, "the code point"))
        target, scope = fields[1], fields[2]
        if not target or not target.isascii() or not target.isalnum():
            raise ConfigError(
                f"{path.name} line {lineno}: the replacement must be ASCII letters or digits; "
                f"got {target!r} instead."
            )
        if scope not in ("always", "mixed"):
            raise ConfigError(
                f"{path.name} line {lineno}: scope must be 'always' or 'mixed'; got {scope!r}."
            )
        if char in always or char in mixed:
            raise ConfigError(f"{path.name} line {lineno}: {fields[0]} is listed twice.")
        (always if scope == "always" else mixed)[char] = target
    return always, mixed


def load_char_map(path: Path) -> dict[str, str]:
    """Read a ``code point<TAB>replacement`` table (the punctuation folds)."""
    table: dict[str, str] = {}
    for lineno, fields in _rows(path, 2):
        char = chr(_code_point(fields[0], path, lineno, "the code point"))
        if char in table:
            raise ConfigError(f"{path.name} line {lineno}: {fields[0]} is listed twice.")
        table[char] = fields[1]
    return table


def load_ranges(path: Path) -> list[tuple[int, int]]:
    """Read a ``first<TAB>last`` table of code point ranges (both ends included)."""
    ranges = []
    for lineno, fields in _rows(path, 2):
        first = _code_point(fields[0], path, lineno, "the first code point")
        last = _code_point(fields[1], path, lineno, "the last code point")
        if last < first:
            raise ConfigError(
                f"{path.name} line {lineno}: the range {fields[0]}..{fields[1]} ends before it "
                "starts; write the smaller code point first."
            )
        ranges.append((first, last))
    return ranges


def load_tlds(path: Path | None = None) -> list[str]:
    """Read the link endings that make a bare ``name.tld`` a link."""
    path = path or DATA_DIR / "tlds.txt"
    tlds = []
    for lineno, fields in _rows(path, 1):
        tld = fields[0].strip()
        if not re.fullmatch(r"[a-z]{2,24}", tld):
            raise ConfigError(
                f"{path.name} line {lineno}: a top-level domain is 2-24 lower-case ASCII "
                f"letters; got {tld!r} instead."
            )
        tlds.append(tld)
    return tlds


def traditional_to_simplified() -> dict[str, str]:
    """One-character traditional -> simplified map, from OpenCC's ``TSCharacters`` dictionary.

    Where OpenCC lists several simplified candidates the first (its default) is taken; entries
    whose result is more than one character are skipped. Chains are resolved, so no value is
    itself a key.
    """
    try:
        import opencc
    except ImportError:  # pragma: no cover - a declared dependency
        raise ConfigError(
            "traditional -> simplified folding needs the package opencc-python-reimplemented; "
            "install it with pip install opencc-python-reimplemented"
        ) from None
    path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    table: dict[str, str] = {}
    for _lineno, fields in _rows(path, 2):
        key, value = fields[0], fields[1].split(" ")[0].strip()
        if len(key) == 1 and len(value) == 1 and key != value:
            table[key] = value
    if not table:
        raise ConfigError(f"{path} holds no single-character conversions; reinstall opencc.")
    for key in list(table):
        seen = {key}
        value = table[key]
        while value in table and value not in seen:
            seen.add(value)
            value = table[value]
        if value == key:
            del table[key]
        else:
            table[key] = value
    return table


# --------------------------------------------------------------------------- regex building

_CLASS_SPECIAL = frozenset("\\]-^[")


def _escape(cp: int) -> str:
    """One code point as it may stand inside ``[...]``: literal unless it is special there."""
    ch = chr(cp)
    if ch in _CLASS_SPECIAL or cp < 0x20:
        return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"
    return ch


def _runs(points: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ``points`` as (first, last) runs of consecutive code points."""
    runs: list[list[int]] = []
    for p in sorted(set(points)):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return [(a, b) for a, b in runs]


def _ranges_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regex ``[...]`` for inclusive (first, last) ranges."""
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


def _char_class(points: Iterable[int]) -> str:
    """The inside of a regex ``[...]`` matching exactly ``points``."""
    return _ranges_class(_runs(points))


# The emoji area (symbols and pictographs), and within it the pictographs proper: the
# characters above U+FFFF that posts use most.
_EMOJI = (0x1F000, 0x1FBFF)
_PICTOGRAPHS = (0x1F300, 0x1FAFF)


def _one_of(points: Iterable[int]) -> str:
    """A regex matching one character of ``points`` that scans fast over text without them.

    Python's ``re`` keeps a character class's characters up to U+FFFF in a bitmap but tests the
    ones above it range by range, for every character of the text. A class with hundreds of such
    ranges would make every scan slow (each character not in the bitmap is tested against every
    range), so the class here holds the exact characters up to U+FFFF plus at most three coarse
    ranges above (below, inside and above the pictographs, so that emoji are rarely false hits),
    and a look-behind checks the exact set only on a hit. The pattern starts with a plain
    class, which lets ``re`` skip non-matching text quickly.
    """
    pts = sorted(set(points))
    bmp = [p for p in pts if p <= 0xFFFF]
    astral = [p for p in pts if p > 0xFFFF]
    if not astral:
        return f"[{_char_class(bmp)}]" if bmp else "(?!)"
    blocks = []
    for lo, hi in ((0x10000, _PICTOGRAPHS[0] - 1), _PICTOGRAPHS, (_PICTOGRAPHS[1] + 1, 0x10FFFF)):
        inside = [p for p in astral if lo <= p <= hi]
        if inside:
            blocks.append((inside[0], inside[-1]))
    coarse = _ranges_class(blocks)
    exact = f"(?<=[{_char_class(astral)}])"
    if bmp:
        exact = f"(?:(?<=[\\x00-\\uffff])|{exact})"  # a hit up to U+FFFF is exact already
    return f"[{_char_class(bmp)}{coarse}]{exact}"


# --------------------------------------------------------------------------- tables

# Characters so common in Chinese posts (full-width punctuation, the emoji presentation
# selector) that str.replace on each beats finding them with a regex.
_FREQUENT = "，。！：？、（）￥【】～\ufe0f"

# Bytes removed from the UTF-8 of the shingling form: ASCII other than letters and digits (the
# bytes of other characters are all >= 0x80). From ASCII-only input the three temporary
# placeholders \x01-\x03 stay (control characters are gone by then).
_ASCII_DROP = bytes(b for b in range(0x80) if not chr(b).isalnum())
_ASCII_DROP_KEEP_TEMPORARY = bytes(b for b in _ASCII_DROP if b not in (1, 2, 3))
_ASCII_MARKS = (("\x01", URL_MARK), ("\x02", MENTION_MARK), ("\x03", NUMBER_MARK))


@dataclass(frozen=True)
class _Tables:
    """Every map and pattern the steps need, built once by :func:`_build`.

    Most text needs few of the steps, so cheap searches decide which run: ``composing_rx``
    finds what NFKC could still change after the character folds (combining marks, conjoining
    jamo); ``scripty_rx`` finds look-alike letters and characters whose case folding needs the
    folds redone. The ``plain_`` patterns are the joining rules for text without combining
    marks, simpler and faster than the general ones.
    """

    pre_map: Mapping[str, str]  # before NFKC: invisibles removed, compatibility forms folded
    frequent: tuple[tuple[str, str], ...]
    pre_rx: re.Pattern[str]
    pre_keep_rx: re.Pattern[str]  # the same, leaving the three placeholders alone
    composing_rx: re.Pattern[str]
    unusual_rx: re.Pattern[str]
    any_rx: re.Pattern[str]  # pre or unusual: text without these skips both steps
    any_keep_rx: re.Pattern[str]
    post_map: Mapping[str, str]  # after NFKC: accents dropped, leftover decoration marks removed
    post_rx: re.Pattern[str]
    settle_rx: re.Pattern[str]
    settle_keep_rx: re.Pattern[str]
    symbols_rx: re.Pattern[str]
    plain_symbols_rx: re.Pattern[str]
    chain_hint_rx: re.Pattern[str]
    chain_rx: re.Pattern[str]
    plain_chain_rx: re.Pattern[str]
    ascii_chain_hint_rx: re.Pattern[str]
    ascii_chain_rx: re.Pattern[str]
    nonword_rx: re.Pattern[str]
    cjk_gap_rx: re.Pattern[str]
    plain_cjk_gap_rx: re.Pattern[str]
    scripty_rx: re.Pattern[str]
    lookalike_map: Mapping[str, str]
    lookalike_rx: re.Pattern[str]
    word_rx: re.Pattern[str]
    real_letter_rx: re.Pattern[str]
    other_letter_rx: re.Pattern[str]
    latin_rx: re.Pattern[str]
    control_rx: re.Pattern[str]
    scheme_url_rx: re.Pattern[str]
    url_span_rx: re.Pattern[str]
    bare_url_hint_rx: re.Pattern[str]
    bare_url_rx: re.Pattern[str]
    mention_rx: re.Pattern[str]
    number_rx: re.Pattern[str]
    drop_rx: re.Pattern[str]
    drop_plain_rx: re.Pattern[str]
    # The character classes themselves, for the compiled batch path (see _normalize_kernel).
    unusual_points: frozenset[int]
    symbol_points: frozenset[int]  # the symbols that are removed between two letters
    tlds: tuple[str, ...]


def _build() -> _Tables:
    """Read the data files, scan the Unicode database once, and compile every pattern."""
    always, mixed = load_homoglyphs()
    punctuation = load_char_map(DATA_DIR / "punctuation.tsv")
    invisible_ranges = load_ranges(DATA_DIR / "invisible.tsv")
    diacritic_ranges = load_ranges(DATA_DIR / "diacritics.tsv")
    tlds = load_tlds()
    t2s = traditional_to_simplified()

    diacritic: set[int] = set()
    for a, b in diacritic_ranges:
        diacritic.update(range(a, b + 1))

    # One scan collects every property class the rules need.
    deleted: set[int] = set()
    marks: set[int] = set()
    composing: set[int] = set()  # characters NFKC may reorder or compose with the one before
    symbols: set[int] = set()
    decomposable: list[int] = []
    decimal_digits: dict[str, str] = {}
    latin: set[int] = set()
    script_letters: set[int] = set()
    case_changing: list[tuple[int, str]] = []
    script_words = {unicodedata.name(c, "").split(" ")[0] for c in mixed}
    for start, stop in _SCAN_RANGES:
        for cp in range(start, stop):
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if cat == "Cn":
                continue
            if cat in ("Cf", "Cs", "Co") or (cat == "Cc" and cp not in _WHITESPACE_CONTROLS):
                deleted.add(cp)
                continue
            if unicodedata.combining(ch):
                composing.add(cp)
            decomposition = unicodedata.decomposition(ch)
            if decomposition:
                decomposable.append(cp)
                parts = decomposition.split()
                if len(parts) == 2 and not parts[0].startswith("<"):
                    composing.add(int(parts[1], 16))
            folded = ch.casefold()
            if folded != ch:
                case_changing.append((cp, folded))
            major = cat[0]
            if cat == "Nd" and cp > 0x7F:
                decimal_digits[ch] = str(unicodedata.decimal(ch))
            elif major == "M":
                marks.add(cp)
            elif cat in ("So", "Sk") and 0x7F < cp <= 0xFFFF:
                symbols.add(cp)
            elif major == "L":
                word = unicodedata.name(ch, "").split(" ")[0]
                if word == _LATIN_WORD:
                    latin.add(cp)
                elif word in script_words:
                    script_letters.add(cp)
    for a, b in invisible_ranges:
        deleted.update(range(a, b + 1))
    deleted.difference_update(_WHITESPACE_CONTROLS)
    deleted_chars = frozenset(chr(cp) for cp in deleted)

    # --- before NFKC: one character -> its folded form (compatibility, digits, punctuation,
    # always-folded look-alikes, traditional characters), invisibles -> nothing.
    unconditional: dict[str, str] = {**t2s, **punctuation, **always, **decimal_digits}

    def fold_once(text: str) -> str:
        out = [
            unconditional.get(ch, ch)
            for ch in unicodedata.normalize("NFKC", text)
            if ch not in deleted_chars
        ]
        return unicodedata.normalize("NFKC", "".join(out))

    def fold(ch: str) -> str:
        value = ch
        for _ in range(8):
            nxt = fold_once(value)
            if nxt == value:
                return value
            value = nxt
        raise ConfigError(  # pragma: no cover - would mean a cycle in the data files
            f"the character tables never settle for U+{ord(ch):04X}; check the data files in "
            f"{DATA_DIR} for a cycle"
        )

    pre_map: dict[str, str] = dict.fromkeys(deleted_chars, "")
    for ch in [chr(cp) for cp in decomposable] + list(unconditional):
        if ch not in pre_map:
            value = fold(ch)
            if value != ch:
                pre_map[ch] = value

    # --- after NFKC: accents dropped from Latin and Greek letters, decoration marks removed.
    post_map: dict[str, str] = {chr(cp): "" for cp in diacritic}
    for cp in decomposable:
        ch = chr(cp)
        nfd = unicodedata.normalize("NFD", ch)
        if len(nfd) < 2 or not all(ord(m) in diacritic for m in nfd[1:]):
            continue
        base = nfd[0]
        word = unicodedata.name(base, "").split(" ")[0]
        if word in (_LATIN_WORD, "GREEK") and unicodedata.category(base).startswith("L"):
            post_map[ch] = fold(base)
            # Folded before NFKC as well, so that text without combining marks skips this pass.
            pre_map.setdefault(ch, post_map[ch])
    post_points = {ord(c) for c in post_map}

    # The private-use planes 15-16 are deleted by the same rule, without map entries
    # (a hundred thousand entries would waste memory); see the engine's pre().
    pre_points = {ord(c) for c in pre_map} | set(
        range(_PRIVATE_USE_PLANES[0], _PRIVATE_USE_PLANES[1] + 1)
    )
    placeholders = {ord(c) for c in _MARKS}
    pre_keep_points = pre_points - placeholders
    for a, b in _CONJOINING_JAMO:
        composing.update(range(a, b + 1))
    composing |= marks | post_points
    exotic = pre_points | composing

    # Case folding runs after the folds; a few characters fold to something the folds change
    # again (Ø -> ø -> o), or to a look-alike letter, or to something not NFKC.
    lookalike_points = {ord(c) for c in mixed}
    recheck = {
        cp
        for cp, folded in case_changing
        if cp not in exotic
        and (
            any(ord(c) in exotic or ord(c) in lookalike_points for c in folded)
            or not unicodedata.is_normalized("NFKC", folded)
        )
    }

    unusual = composing | lookalike_points | recheck

    # --- the joining rules. They run after whitespace is collapsed to single spaces, and each
    # pattern starts with a plain class so that re skips text that cannot match. Classes are
    # spelled out for U+0000-U+FFFF where speed matters: re tests \w and \W through the Unicode
    # database, several times slower than a class's bitmap.
    word_bmp = [cp for cp in range(0x10000) if chr(cp).isalnum()]
    nonword_bmp = sorted(set(range(0x10000)) - set(word_bmp) - set(range(0xD800, 0xE000)))
    any_astral = "\\U00010000-\\U0010ffff"
    # A superset of [\W_] and of [^\W_] each: every character above U+FFFF is in both, but
    # the emoji area, which holds no letter or digit once the folds have run.
    nonword_or_astral = f"[{_char_class(nonword_bmp)}{any_astral}]"
    not_emoji = _ranges_class([(0x10000, _EMOJI[0] - 1), (_EMOJI[1] + 1, 0x10FFFF)])
    word_or_astral = f"[{_char_class(word_bmp)}{not_emoji}]"
    nonword_exact = "(?:(?<=[\\x00-\\uffff])|(?<=[\\W_]))"  # after a nonword_or_astral
    cjk = _ranges_class(_CJK_RANGES)
    mark = _one_of(marks)
    ph = "\\ue001-\\ue003"
    letter = "[^\\W_]"  # a letter or digit of any script
    non_cjk = f"[^\\W_{cjk}]"  # ... other than an ideograph or kana
    wordish = f"(?:{letter}|{mark})"
    sep_char = f"(?![ {ph}]|{mark})[\\W_]"  # punctuation or a symbol, not a space
    separator = f"(?: (?:{sep_char} ?)?|{sep_char} ?)"
    unit = f"(?:[{cjk}]|{non_cjk}(?!{wordish}))"  # a character standing alone (or any CJK)
    # ... ending just before the character consumed last:
    unit_before = f"(?:(?<=[{cjk}].)|(?<={non_cjk}.)(?<!{wordish}..))"
    first_sep = (
        f"[\\W_](?<![{ph}])(?<!{mark}){unit_before}(?:(?<= )(?:{sep_char} ?)?|(?<! ) ?)"
    )
    chain = f"{first_sep}{unit}(?:{separator}{unit})+"
    # The same rules for text without combining marks (most text), where they are simpler.
    plain_sep_char = f"(?:[^\\w {ph}]|_)"
    plain_separator = f"(?: (?:{plain_sep_char} ?)?|{plain_sep_char} ?)"
    plain_unit = f"(?:[{cjk}]|{non_cjk}(?!{letter}))"
    plain_unit_before = f"(?:(?<=[{cjk}].)|(?<={non_cjk}.)(?<!{letter}..))"
    plain_chain = (
        f"{nonword_or_astral}{nonword_exact}(?<![{ph}]){plain_unit_before}"
        f"(?:(?<= )(?:{plain_sep_char} ?)?|(?<! ) ?){plain_unit}(?:{plain_separator}{plain_unit})+"
    )
    plain_cjk_gap = (
        f" (?:(?<=[{cjk}] )(?={plain_unit})|(?<={non_cjk} )(?<!{letter}. )(?=[{cjk}]))"
    )
    # The same rule for lower-case ASCII text, where it reduces to plain classes.
    a_sep_char = "[^a-z0-9 ]"
    a_separator = f"(?: (?:{a_sep_char} ?)?|{a_sep_char} ?)"
    a_unit = "[a-z0-9](?![a-z0-9])"
    ascii_chain = (
        f"[^a-z0-9](?<=[a-z0-9].)(?<![a-z0-9]..)(?:(?<= )(?:{a_sep_char} ?)?|(?<! ) ?)"
        f"{a_unit}(?:{a_separator}{a_unit})+"
    )
    cjk_gap = f" (?:(?<=[{cjk}] )(?={unit})|(?<={non_cjk} )(?<!{wordish}. )(?=[{cjk}]))"
    # Emoji live above U+FFFF; the whole emoji area counts as symbols (unassigned code points
    # there are the emoji of Unicode versions newer than this Python's tables).
    symbol = f"[{_char_class(symbols - deleted)}{_ranges_class([_EMOJI])}]"
    symbols_between = f"{symbol}(?<={wordish}.){symbol}*(?={letter})"
    plain_symbols_between = f"{symbol}(?<={letter}.){symbol}*(?={letter})"
    drop_one = f"[\\W_](?<![{ph}])(?<!{mark})"
    # Without combining marks, after the ASCII separators are gone (see _ASCII_DROP):
    nonword_non_ascii = _char_class(
        cp for cp in nonword_bmp if cp > 0x7F and cp not in placeholders
    )
    drop_plain_one = f"[{nonword_non_ascii}{any_astral}]{nonword_exact}"

    # --- links, mentions, numbers (the text is lower case by then) ---------------------
    url_char = "[a-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]"
    label = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    tld = "|".join(sorted(set(tlds), key=lambda t: (-len(t), t)))
    scheme_url = f"https?://{url_char}+|www\\.{url_char}+"
    bare_url = (
        f"(?<![a-z0-9.\\-]){label}(?:\\.{label})*\\.(?:{tld})(?![a-z0-9\\-])(?:/{url_char}*)?"
        f"|(?<![a-z0-9.\\-]){label}(?:\\.{label})+/{url_char}*"
    )
    bare_url_hint = f"\\.(?:(?:{tld})(?![a-z0-9\\-])|{label}/)"

    return _Tables(
        pre_map=pre_map,
        frequent=tuple((ch, pre_map[ch]) for ch in _FREQUENT if ch in pre_map),
        pre_rx=re.compile(_one_of(pre_points)),
        pre_keep_rx=re.compile(_one_of(pre_keep_points)),
        composing_rx=re.compile(_one_of(composing)),
        unusual_rx=re.compile(_one_of(unusual)),
        any_rx=re.compile(_one_of(pre_points | unusual)),
        any_keep_rx=re.compile(_one_of(pre_keep_points | unusual)),
        post_map=post_map,
        post_rx=re.compile(_one_of(post_points)),
        settle_rx=re.compile(_one_of(pre_points | post_points)),
        settle_keep_rx=re.compile(_one_of(pre_keep_points | post_points)),
        symbols_rx=re.compile(symbols_between, re.DOTALL),
        plain_symbols_rx=re.compile(plain_symbols_between, re.DOTALL),
        chain_hint_rx=re.compile(
            f"{nonword_or_astral}(?<={word_or_astral}.){nonword_or_astral}{{0,2}}{word_or_astral}"
            f"{nonword_or_astral}{{1,3}}"
            f"(?:[{cjk}]|{word_or_astral}(?![^\\W_]))"
        ),
        chain_rx=re.compile(chain, re.DOTALL),
        plain_chain_rx=re.compile(plain_chain, re.DOTALL),
        ascii_chain_hint_rx=re.compile(
            "[^a-z0-9](?<=[a-z0-9].)[^a-z0-9]{0,2}[a-z0-9][^a-z0-9]{1,3}[a-z0-9](?![a-z0-9])"
        ),
        ascii_chain_rx=re.compile(ascii_chain),
        nonword_rx=re.compile("[\\W_]"),
        cjk_gap_rx=re.compile(cjk_gap, re.DOTALL),
        plain_cjk_gap_rx=re.compile(plain_cjk_gap, re.DOTALL),
        scripty_rx=re.compile(_one_of(lookalike_points | recheck)),
        lookalike_map=dict(mixed),
        lookalike_rx=re.compile(_one_of(lookalike_points)),
        word_rx=re.compile(f"(?:\\w|{mark})+"),
        real_letter_rx=re.compile(_one_of(script_letters - lookalike_points)),
        other_letter_rx=re.compile(f"(?!{_one_of(script_letters)})[^\\W\\d_]"),
        latin_rx=re.compile(_one_of(latin)),
        control_rx=re.compile("[\\x00-\\x08\\x0e-\\x1b\\x7f]"),
        scheme_url_rx=re.compile(scheme_url),
        url_span_rx=re.compile(f"((?:https?://|www\\.){url_char}+)", re.IGNORECASE),
        bare_url_hint_rx=re.compile(bare_url_hint),
        bare_url_rx=re.compile(bare_url),
        mention_rx=re.compile("@[\\w\\-]+"),
        # [0-9][0-9]* rather than [0-9]+: a pattern that starts with a plain class lets re skip.
        number_rx=re.compile("[0-9][0-9]*(?:[.,:][0-9]+)*"),
        drop_rx=re.compile(f"{drop_one}(?:{drop_one})*"),
        drop_plain_rx=re.compile(f"{drop_plain_one}(?:{drop_plain_one})*"),
        unusual_points=frozenset(unusual),
        symbol_points=frozenset(symbols - deleted) | frozenset(range(_EMOJI[0], _EMOJI[1] + 1)),
        tlds=tuple(tlds),
    )


_TABLES: _Tables | None = None
_LOCK = threading.Lock()


_KERNEL_ARRAYS: dict[str, np.ndarray] | None = None
"""The compiled loop's tables, when read from the cache with the reference's."""


def _tables() -> _Tables:
    """The tables, read from the cache of an earlier run or built (and kept) on first use;
    concurrent first callers wait for one build."""
    global _TABLES, _KERNEL_ARRAYS
    tables = _TABLES
    if tables is None:
        with _LOCK:
            if _TABLES is None:
                _TABLES, _KERNEL_ARRAYS = _kept_or_built()
            tables = _TABLES
    return tables


def _table_sources() -> list[Path]:
    """Every file the tables are derived from: the code that builds them, the data files and
    OpenCC's dictionary (see :mod:`spamflood._cache`)."""
    from importlib.util import find_spec

    here = Path(__file__).resolve()
    sources = [here, here.with_name("_normalize_kernel.py"), *sorted(DATA_DIR.iterdir())]
    spec = find_spec("opencc")
    if spec is not None and spec.origin is not None:
        sources.append(Path(spec.origin).resolve().parent / "dictionary" / "TSCharacters.txt")
    return sources


def _kernel_arrays(tables: _Tables) -> dict[str, np.ndarray]:
    """The compiled loop's tables (:func:`spamflood._normalize_kernel.build`) from the reference's."""
    from dataclasses import fields

    from spamflood import _normalize_kernel as k

    built = k.build(tables.pre_map, tables.unusual_points, tables.symbol_points, _CJK_RANGES, tables.tlds)
    return {f.name: getattr(built, f.name) for f in fields(k.KernelTables)}


def _kept_or_built() -> tuple[_Tables, dict[str, np.ndarray]]:
    """The reference's tables and the compiled loop's, from the cache when an earlier run kept
    them for these very sources, else built now and kept."""
    from dataclasses import fields

    from spamflood import _cache
    from spamflood import _normalize_kernel as k

    try:
        key = _cache.key_of(_table_sources())
    except OSError:  # a source cannot be read: build, and let the build say what is missing
        key = ""
    kept = _cache.load("normalize", key) if key else None
    if kept is not None:
        header, arrays = kept
        values: dict[str, object] = {}
        for f in fields(_Tables):
            kind, *data = header["tables"][f.name]
            if kind == "re":
                values[f.name] = re.compile(data[0], data[1])
            elif kind == "points":
                values[f.name] = frozenset(arrays[f.name].tolist())
            elif kind == "map":
                values[f.name] = data[0]
            elif kind == "pairs":
                values[f.name] = tuple((a, b) for a, b in data[0])
            else:
                values[f.name] = tuple(data[0])
        kernel = {f.name: arrays["kernel/" + f.name] for f in fields(k.KernelTables)}
        return _Tables(**values), kernel  # type: ignore[arg-type]
    tables = _build()
    kernel = _kernel_arrays(tables)
    described: dict[str, list[object]] = {}
    arrays = {"kernel/" + name: value for name, value in kernel.items()}
    for f in fields(_Tables):
        value = getattr(tables, f.name)
        if isinstance(value, re.Pattern):
            described[f.name] = ["re", value.pattern, value.flags]
        elif isinstance(value, frozenset):
            described[f.name] = ["points"]
            arrays[f.name] = np.array(sorted(value), dtype=np.int64)
        elif isinstance(value, Mapping):
            described[f.name] = ["map", dict(value)]
        elif f.name == "frequent":
            described[f.name] = ["pairs", [list(pair) for pair in value]]
        else:
            described[f.name] = ["strings", list(value)]
    if key:
        _cache.save("normalize", key, {"tables": described}, arrays)
    return tables, kernel


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class _Engine:
    """The two forms as closures over one set of tables (bound once: they run per post)."""

    normalize: Callable[[str], str]
    shingle: Callable[[str], str]
    shingle_normalized: Callable[[str], str]


def _make_engine(t: _Tables) -> _Engine:
    nfkc = partial(unicodedata.normalize, "NFKC")
    is_nfkc = partial(unicodedata.is_normalized, "NFKC")
    pre_get = t.pre_map.get
    post_get = t.post_map.__getitem__
    lookalike_get = t.lookalike_map.__getitem__
    nonword_sub = t.nonword_rx.sub
    composing_search = t.composing_rx.search
    unusual_search = t.unusual_rx.search
    frequent = t.frequent
    any_search, any_keep_search = t.any_rx.search, t.any_keep_rx.search
    pre_sub, pre_keep_sub = t.pre_rx.sub, t.pre_keep_rx.sub
    pre_findall, pre_keep_findall = t.pre_rx.findall, t.pre_keep_rx.findall
    post_search, post_sub = t.post_rx.search, t.post_rx.sub
    settle_search, settle_keep_search = t.settle_rx.search, t.settle_keep_rx.search
    symbols_sub, plain_symbols_sub = t.symbols_rx.sub, t.plain_symbols_rx.sub
    chain_hint, chain_finditer = t.chain_hint_rx.search, t.chain_rx.finditer
    plain_chain_finditer = t.plain_chain_rx.finditer
    plain_cjk_gap_sub = t.plain_cjk_gap_rx.sub
    ascii_chain_hint = t.ascii_chain_hint_rx.search
    ascii_chain_finditer = t.ascii_chain_rx.finditer
    cjk_gap_sub = t.cjk_gap_rx.sub
    scripty_search = t.scripty_rx.search
    lookalike_search, lookalike_sub = t.lookalike_rx.search, t.lookalike_rx.sub
    real_letter_search = t.real_letter_rx.search
    other_letter_search = t.other_letter_rx.search
    latin_search = t.latin_rx.search
    word_sub = t.word_rx.sub
    control_search, control_sub = t.control_rx.search, t.control_rx.sub
    scheme_sub = t.scheme_url_rx.sub
    bare_hint, bare_sub = t.bare_url_hint_rx.search, t.bare_url_rx.sub
    mention_sub = t.mention_rx.sub
    number_sub = t.number_rx.sub
    drop_sub, drop_plain_sub = t.drop_rx.sub, t.drop_plain_rx.sub

    def pre(match: re.Match[str]) -> str:
        value = pre_get(match.group())
        return "" if value is None else value  # None: planes 15-16, private use

    def post(match: re.Match[str]) -> str:
        return post_get(match.group())

    def lookalike(match: re.Match[str]) -> str:
        return lookalike_get(match.group())

    def join(match: re.Match[str]) -> str:
        return nonword_sub("", match.group())

    url_span_search, url_span_split = t.url_span_rx.search, t.url_span_rx.split

    def join_from(text: str, finditer: Callable[..., Iterator[re.Match[str]]], pos: int) -> str:
        out = []
        last = 0
        for match in finditer(text, pos):
            out.append(text[last : match.start()])
            out.append(nonword_sub("", match.group()))
            last = match.end()
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def join_chains(text: str, finditer: Callable[..., Iterator[re.Match[str]]], pos: int) -> str:
        """Join spaced-out characters from ``pos`` on (no chain starts before it), but never
        inside a link (``?a=b&c=d`` is no evasion)."""
        if not ("://" in text or "ww." in text or "WW." in text) or not url_span_search(text):
            return join_from(text, finditer, pos)
        parts = url_span_split(text)  # links at the odd positions
        return "".join(
            part if i % 2 else join_from(part, finditer, 0) for i, part in enumerate(parts)
        )

    def fold_word(match: re.Match[str]) -> str:
        word = match.group()
        if lookalike_search(word) and latin_search(word):
            return lookalike_sub(lookalike, word)
        return word

    def fold_lookalikes(text: str) -> str:
        """Fold Cyrillic/Greek/Armenian look-alikes where the text is Latin in disguise."""
        if not lookalike_search(text):
            return text
        if not real_letter_search(text) and other_letter_search(text):
            return lookalike_sub(lookalike, text)
        return word_sub(fold_word, text)

    def settle(text: str, keep: bool) -> str:
        """Redo the character folds and case folding until nothing changes."""
        search = settle_keep_search if keep else settle_search
        sub = pre_keep_sub if keep else pre_sub
        for _ in range(8):
            if search(text):
                text = post_sub(post, nfkc(sub(pre, text))).casefold()
            elif not is_nfkc(text):
                text = nfkc(text).casefold()
            else:
                break
        return text

    def matching_form(text: str, keep: bool) -> tuple[str, bool]:
        """The matching form, and whether it may hold combining marks (``keep``: for shingling,
        the three placeholders are left alone)."""
        for ch, value in frequent:
            if ch in text:
                text = text.replace(ch, value)
        first = (any_keep_search if keep else any_search)(text)  # anything to fold, or unusual
        unusual = None
        if first:
            found = (pre_keep_findall if keep else pre_findall)(text, first.start())
            if len(found) > 64:  # a long text: one pass, linear whatever it holds
                text = (pre_keep_sub if keep else pre_sub)(pre, text)
            elif found:
                # One str.replace per distinct character beats a callback per occurrence.
                for ch in dict.fromkeys(found):
                    folded = pre_get(ch)
                    text = text.replace(ch, "" if folded is None else folded)
            # Composing or scripty characters; the joins below only ever remove characters.
            unusual = unusual_search(text)
        exotic = unusual is not None and composing_search(text, unusual.start()) is not None
        if exotic:
            text = nfkc(text)
            if post_search(text):
                text = post_sub(post, text)
            text = " ".join(text.split())
            text = symbols_sub("", text)
            hint = chain_hint(text)
            if hint:
                text = join_chains(text, chain_finditer, hint.start())
            if " " in text:
                text = cjk_gap_sub("", text)
        else:
            text = " ".join(text.split())
            text = plain_symbols_sub("", text)
            hint = chain_hint(text)
            if hint:
                text = join_chains(text, plain_chain_finditer, hint.start())
            if " " in text:
                text = plain_cjk_gap_sub("", text)
        if (exotic or unusual is not None) and scripty_search(text):
            text = fold_lookalikes(text)
            text = fold_lookalikes(settle(text.casefold(), keep))
            return text, True
        if exotic:
            return settle(text.casefold(), keep), True
        return text.casefold(), False

    def normalize(text: str) -> str:
        if text.isascii():
            if control_search(text):
                text = control_sub("", text)
            text = " ".join(text.lower().split())
            hint = ascii_chain_hint(text)
            if hint:
                text = join_chains(text, ascii_chain_finditer, hint.start())
            return text
        return matching_form(text, False)[0]

    def shingle(text: str) -> str:
        if text.isascii():
            return shingle_ascii(normalize(text))
        return shingle_matching_form(*matching_form(text, True))

    def shingle_normalized(text: str) -> str:
        """:func:`shingle` of a text that :func:`normalize` returned (it skips normalizing)."""
        if text.isascii():
            return shingle_ascii(text)
        return shingle_matching_form(text, unusual_search(text) is not None)

    def shingle_ascii(text: str) -> str:
        """The shingling form of an ASCII matching form."""
        # The placeholders are ASCII controls here (the input has none left), so that the
        # removal can run on bytes; they become the real ones at the end.
        if "http" in text or "www." in text:
            text = scheme_sub("\x01", text)
        if "." in text and bare_hint(text):
            text = bare_sub("\x01", text)
        if "@" in text:
            text = mention_sub("\x02", text)
        text = number_sub("\x03", text)
        text = text.encode("ascii").translate(None, _ASCII_DROP_KEEP_TEMPORARY).decode("ascii")
        for temporary, final in _ASCII_MARKS:
            if temporary in text:
                text = text.replace(temporary, final)
        return text

    def shingle_matching_form(text: str, unusual: bool) -> str:
        """The shingling form of a matching form; ``unusual``: it may hold combining marks or
        look-alike letters."""
        if "http" in text or "www." in text:
            text = scheme_sub(URL_MARK, text)
        if "." in text and bare_hint(text):
            text = bare_sub(URL_MARK, text)
        if "@" in text:
            text = mention_sub(MENTION_MARK, text)
        text = number_sub(NUMBER_MARK, text)
        if not unusual:
            text = text.encode("utf-8").translate(None, _ASCII_DROP).decode("utf-8")
            return drop_plain_sub("", text)
        if lookalike_search(text):
            text = lookalike_sub(lookalike, text)
        text = drop_sub("", text)
        if not is_nfkc(text):
            # Removing a symbol between a letter and a mark can let NFKC compose the two.
            text = drop_sub("", settle(text, True))
        return text

    return _Engine(normalize=normalize, shingle=shingle, shingle_normalized=shingle_normalized)


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    engine = _ENGINE
    if engine is None:
        engine = _ENGINE = _make_engine(_tables())
    return engine


def _type_error(name: str, text: object) -> TypeError:
    return TypeError(f"{name}() takes a str; got {type(text).__name__} instead.")


def _normalize_reference(text: str) -> str:
    """:func:`normalize` by the pure-Python path, one text at a time: the reference that the
    compiled batch path is tested against (and falls back to)."""
    return _engine().normalize(text)


def _shingle_reference(text: str, *, normalized: bool = False) -> str:
    """:func:`shingle_text` by the pure-Python path (see :func:`_normalize_reference`)."""
    engine = _engine()
    return engine.shingle_normalized(text) if normalized else engine.shingle(text)


# --------------------------------------------------------------------------- the batch path

# Code points per call of the compiled loop: bounds the buffers whatever the batch size.
_CHUNK_CODE_POINTS = 1 << 22
# Below this many texts the per-call cost of the loop outweighs what it saves.
_SMALL_BATCH = 4


@dataclass(frozen=True)
class _Kernel:
    """The compiled loop (module :mod:`spamflood._normalize_kernel`) and its tables."""

    run: Callable[..., tuple[np.ndarray, ...]]
    args: tuple[np.ndarray, ...]
    modes: tuple[int, int, int]  # normalize, shingle, input normalized
    fallback: int


_KERNEL: _Kernel | None = None
_KERNEL_LOCK = threading.Lock()


def _kernel() -> _Kernel:
    """The loop and its tables, built on first use (after the reference's tables)."""
    global _KERNEL
    kernel = _KERNEL
    if kernel is None:
        tables = _tables()
        with _KERNEL_LOCK:
            if _KERNEL is None:
                from spamflood import _normalize_kernel as k

                # read with the reference's tables, or built from them (tables set by hand)
                kt = _KERNEL_ARRAYS if _KERNEL_ARRAYS is not None else _kernel_arrays(tables)
                _KERNEL = _Kernel(
                    run=k.run,
                    args=tuple(
                        kt[name]
                        for name in ("flags", "fold_start", "fold_len", "case_start", "case_len", "data", "tld_chars", "tld_len")
                    ),
                    modes=(k.MODE_NORMALIZE, k.MODE_SHINGLE, k.MODE_INPUT_NORMALIZED),
                    fallback=k.FALLBACK,
                )
            kernel = _KERNEL
    return kernel


@dataclass
class _Chunk:
    """One call's results: forms as code points with offsets, and the texts to redo."""

    norm: np.ndarray
    norm_offsets: np.ndarray
    shingle: np.ndarray
    shingle_offsets: np.ndarray
    redo: list[int]  # indices (in the chunk) that the reference must compute


def _chunks(lengths: np.ndarray) -> Iterator[tuple[int, int]]:
    """(start, end) ranges of texts of about _CHUNK_CODE_POINTS code points each."""
    ends = np.cumsum(lengths)
    start, n = 0, len(lengths)
    while start < n:
        budget = int(ends[start] - lengths[start]) + _CHUNK_CODE_POINTS
        end = max(start + 1, int(np.searchsorted(ends, budget, side="right")))
        yield start, end
        start = end


def _run_chunk(
    kernel: _Kernel, texts: list[str], mode: int, lengths: np.ndarray | None = None
) -> _Chunk:
    joined = "".join(texts)  # TypeError on a non-str: the caller falls back
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if lengths is None:
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] != len(codes):  # a str subclass with a len() of its own
        raise TypeError("the texts' lengths do not add up")
    norm, norm_off, shingle, shingle_off, status = kernel.run(codes, offsets, mode, *kernel.args)
    redo = np.flatnonzero(status == kernel.fallback).tolist()
    return _Chunk(norm, norm_off, shingle, shingle_off, redo)


def _strings(buf: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The texts ``buf[offsets[i]:offsets[i + 1]]`` as str."""
    ends = offsets.tolist()
    whole = str(buf[: ends[-1]].data, "utf-32-le")
    return [whole[a:b] for a, b in zip(ends, ends[1:])]


def _splice(
    buf: np.ndarray, offsets: np.ndarray, redo: list[int], values: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``buf``/``offsets`` with the (empty) texts at ``redo`` replaced by ``values``."""
    if not redo:
        return buf[: offsets[-1]], offsets
    pieces = []
    lengths = np.diff(offsets)
    at = 0
    for i, value in zip(redo, values):
        pieces.append(buf[offsets[at] : offsets[i]])
        pieces.append(np.frombuffer(value.encode("utf-32-le"), dtype=np.uint32))
        lengths[i] = len(value)
        at = i + 1
    pieces.append(buf[offsets[at] : offsets[-1]])
    out_offsets = np.zeros_like(offsets)
    np.cumsum(lengths, out=out_offsets[1:])
    return np.concatenate(pieces), out_offsets


@dataclass
class _Forms:
    """What :func:`_batch` returns: the forms asked for, the others None."""

    forms: list[str] | None = None
    shingles: list[str] | None = None
    codes: tuple[np.ndarray, np.ndarray] | None = None


def _batch(
    texts: list[str], *, norm: bool, shingle: bool, given_norm: bool = False, codes: bool = False
) -> _Forms | None:
    """Forms of ``texts`` by the compiled loop, the reference redoing the texts it flags.

    ``norm``: the matching forms; ``shingle``: the shingling forms (of the matching forms when
    ``norm``; of ``texts`` as matching forms when ``given_norm``), as str or, when ``codes``,
    as one array of code points with offsets. Returns None when the reference should do the
    whole batch: a small one, or one holding something that is not a str (the reference then
    raises as it always has).
    """
    if len(texts) < _SMALL_BATCH and not codes:
        return None
    kernel = _kernel()
    normalize_mode, shingle_mode, given_mode = kernel.modes
    mode = (normalize_mode if norm else 0) | (shingle_mode if shingle else 0)
    mode |= given_mode if given_norm else 0
    engine = _engine()
    out = _Forms(forms=[] if norm else None, shingles=[] if shingle and not codes else None)
    code_parts: list[np.ndarray] = []
    offset_parts: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    done = 0
    try:
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    except TypeError:
        return None  # something is not a str: the reference raises the usual error
    for start, end in _chunks(lengths):
        part = texts[start:end]
        try:
            chunk = _run_chunk(kernel, part, mode, lengths[start:end])
        except TypeError:
            return None
        part_forms = None
        if out.forms is not None:
            part_forms = _strings(chunk.norm, chunk.norm_offsets)
            for i in chunk.redo:
                part_forms[i] = engine.normalize(part[i])
            out.forms.extend(part_forms)
        if not shingle:
            continue
        if part_forms is not None:
            redo = [engine.shingle_normalized(part_forms[i]) for i in chunk.redo]
        elif given_norm:
            redo = [engine.shingle_normalized(part[i]) for i in chunk.redo]
        else:
            redo = [engine.shingle(part[i]) for i in chunk.redo]
        if out.shingles is not None:
            part_shingles = _strings(chunk.shingle, chunk.shingle_offsets)
            for i, value in zip(chunk.redo, redo):
                part_shingles[i] = value
            out.shingles.extend(part_shingles)
        else:
            buf, offsets = _splice(chunk.shingle, chunk.shingle_offsets, chunk.redo, redo)
            code_parts.append(buf)
            offset_parts.append(offsets[1:] + done)
            done += int(offsets[-1])
    if codes:
        all_codes = np.concatenate(code_parts) if code_parts else np.empty(0, dtype=np.uint32)
        out.codes = (all_codes, np.concatenate(offset_parts))
    return out


# --------------------------------------------------------------------------- public API


def normalize(text: str) -> str:
    """The matching form of ``text``: what lexicons and exact comparisons should run on.

    NFKC; invisible and format characters removed; case folded; full-width, look-alike,
    accented and traditional characters folded; spaced-out characters (``加 微 信``,
    ``w.e.c.h.a.t``) and emoji between characters (``V❤信``) joined; whitespace collapsed to
    single spaces and stripped. Idempotent; never raises on a ``str``.

    >>> normalize("Ｗ.Ｅ.Ｃ.Ｈ.Ａ.Ｔ id: KK888")
    'wechat id: kk888'
    >>> normalize("加\u200b微\u200b信，領取優惠！")
    '加微信,领取优惠!'
    """
    try:
        return _engine().normalize(text)
    except (AttributeError, TypeError):
        if not isinstance(text, str):
            raise _type_error("normalize", text) from None
        raise


def shingle_text(text: str, *, normalized: bool = False) -> str:
    """The shingling form of ``text``: :func:`normalize`, then placeholders, then letters only.

    Links (``http(s)://...``, ``www....``, ``t.cn/abc``, ``bit.ly/x``) become
    :data:`URL_MARK`, ``@mentions`` :data:`MENTION_MARK`, numbers (``99``, ``19.9``)
    :data:`NUMBER_MARK`; look-alike letters are folded everywhere; then every space,
    punctuation mark, symbol, emoji and leftover control or private-use character is removed,
    keeping letters, combining marks, non-decimal numerals and the placeholders. Idempotent;
    never raises on a ``str``.

    ``normalized=True`` promises that ``text`` is an output of :func:`normalize`, and skips
    normalizing it again: a caller that needs both forms pays for the matching form once. The
    result is the same as from the original text (unless that held one of the placeholder
    characters, which :func:`normalize` removes); for other text it is unspecified.

    >>> shingle_text("限時特價！￥99 https://t.cn/x") == "限时特价" + NUMBER_MARK + URL_MARK
    True
    >>> shingle_text(normalize("加 微 信 ＶＸ８８"), normalized=True) == "加微信vx" + NUMBER_MARK
    True
    """
    try:
        engine = _engine()
        return engine.shingle_normalized(text) if normalized else engine.shingle(text)
    except (AttributeError, TypeError):
        if not isinstance(text, str):
            raise _type_error("shingle_text", text) from None
        raise


def normalize_many(texts: Iterable[str]) -> list[str]:
    """:func:`normalize` over many texts (one list, in order).

    The batch runs through a compiled loop (texts it cannot follow, such as ones with combining
    marks or look-alike letters, go the one-at-a-time way); the result is exactly
    ``[normalize(t) for t in texts]``.
    """
    texts = texts if isinstance(texts, list) else list(texts)
    done = _batch(texts, norm=True, shingle=False)
    if done is None or done.forms is None:
        return _many(_engine().normalize, texts, "normalize_many")
    return done.forms


def shingle_many(texts: Iterable[str], *, normalized: bool = False) -> list[str]:
    """:func:`shingle_text` over many texts (one list, in order), through the compiled loop
    as :func:`normalize_many`.

    For both forms of a batch, :func:`normalize_and_shingle_many` does in one pass what
    ``forms = normalize_many(texts)`` then ``shingle_many(forms, normalized=True)`` do in two.
    """
    texts = texts if isinstance(texts, list) else list(texts)
    done = _batch(texts, norm=False, shingle=True, given_norm=normalized)
    if done is None or done.shingles is None:
        engine = _engine()
        one = engine.shingle_normalized if normalized else engine.shingle
        return _many(one, texts, "shingle_many")
    return done.shingles


def normalize_and_shingle_many(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    """Both forms of many texts in one pass: ``(forms, shingles)``.

    The same as ``forms = normalize_many(texts)`` and
    ``shingles = shingle_many(forms, normalized=True)``, for a little more than the cost of
    the first.

    >>> normalize_and_shingle_many(["加 微 信：ＶＸ８８", "Hi @bob 99", "a b c"])
    (['加微信:vx88', 'hi @bob 99', 'abc'], ['加微信vx\\ue003', 'hi\\ue002\\ue003', 'abc'])
    """
    texts = texts if isinstance(texts, list) else list(texts)
    done = _batch(texts, norm=True, shingle=True)
    if done is None or done.forms is None or done.shingles is None:
        engine = _engine()
        forms = _many(engine.normalize, texts, "normalize_and_shingle_many")
        return forms, [engine.shingle_normalized(form) for form in forms]
    return done.forms, done.shingles


def shingle_codes(
    texts: Iterable[str], *, normalized: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The shingling forms of many texts as one array of code points: ``(codes, offsets)``.

    ``codes`` (uint32) holds the forms one after another and ``offsets`` (int64, one more than
    there are texts) where each starts: ``codes[offsets[i]:offsets[i + 1]]`` are the code
    points of ``shingle_text(texts[i], normalized=normalized)``. This is the layout MinHash
    hashes, with no Python string per text.

    >>> codes, offsets = shingle_codes(["限時 99", "", "ab"])
    >>> offsets.tolist(), codes[offsets[2]:].tolist()
    ([0, 3, 3, 5], [97, 98])
    """
    texts = texts if isinstance(texts, list) else list(texts)
    done = _batch(texts, norm=False, shingle=True, given_norm=normalized, codes=True)
    if done is None or done.codes is None:
        engine = _engine()
        one = engine.shingle_normalized if normalized else engine.shingle
        return _codes_of(_many(one, texts, "shingle_codes"))
    return done.codes


def normalize_and_shingle_codes(
    texts: Iterable[str],
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Matching forms as str and their shingling forms as code points, in one pass:
    ``(forms, codes, offsets)``, as :func:`normalize_and_shingle_many` and
    :func:`shingle_codes` give them. For a pipeline that matches lexicons on the matching
    forms and hashes the shingling forms."""
    texts = texts if isinstance(texts, list) else list(texts)
    done = _batch(texts, norm=True, shingle=True, codes=True)
    if done is None or done.forms is None or done.codes is None:
        engine = _engine()
        forms = _many(engine.normalize, texts, "normalize_and_shingle_codes")
        return (forms, *_codes_of([engine.shingle_normalized(form) for form in forms]))
    return (done.forms, *done.codes)


def warm_up() -> None:
    """Build the tables and load (or, the first time on a machine, compile) the batch loop now.

    Call it before forking worker processes, so that each worker starts ready. Idempotent.
    """
    _kernel()
    normalize_and_shingle_codes(["warm up: 加 微 信"] * _SMALL_BATCH)


def _codes_of(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=offsets[1:])
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, offsets


def _many(one: Callable[[str], str], texts: Iterable[str], name: str) -> list[str]:
    out: list[str] = []
    append = out.append
    for text in texts:
        try:
            append(one(text))
        except (AttributeError, TypeError):
            if not isinstance(text, str):
                raise _type_error(name, text) from None
            raise
    return out
