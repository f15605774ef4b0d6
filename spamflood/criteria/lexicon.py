"""Lexicon files and the one Aho-Corasick pass that matches all of them over a whole batch.

A lexicon is a UTF-8 text file under ``spamflood/data/lexicons/``, one entry a line::

    # comment lines and blank lines are skipped
    加微信
    link in bio
    discount*            (a trailing * matches any word ending: discounts, discounted)
    中秋<TAB>mid_autumn  (an optional tag after a tab, for lists that need one)

A first line ``#! ids-follow`` marks a list of handles (``vx``, ``qq``, ``whatsapp``) whose
Latin entries may be followed directly by digits, an account number (``vx123456``); in other
lists a digit after a Latin entry breaks the word (``win7`` is not ``win``).

Every entry goes through :func:`spamflood.normalize.normalize`, the same function the texts go
through, so ``V信``, ``Ｖ信`` and ``v信`` are one entry and traditional spellings need no line
of their own. A corrupt entry (bad UTF-8, control characters, an empty or over-long term, a
misplaced ``*``, an unknown tag) raises :class:`~spamflood.errors.ConfigError` naming the file
and the line.

Latin edges match on word boundaries, CJK ones anywhere: an entry whose first (last) character
is a Latin letter or digit does not match when the text has a Latin letter or digit just before
(after) it, so ``sale`` stays out of ``wholesale`` and ``618`` out of ``6180``, while ``加v``
matches inside ``快加v吧`` and ``促销`` anywhere.

:class:`Scanner` builds one automaton over every list it is given and matches a whole batch in
one pass: the texts are joined with NUL separators, so per-post Python work is replaced by work
per *match*, and positions map back to posts with one ``searchsorted``. Regular expressions for
the few things that are not word lists (prices, links, phone numbers) run the same way.
Within one list, a match lying inside a longer match of the same list is not counted again
(``大优惠`` counts once, not also as ``优惠``), so counts are phrases, not substrings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick_rs
import numpy as np

from spamflood.errors import ConfigError

__all__ = ["LEXICON_DIR", "Cover", "Lexicon", "Match", "Router", "Scan", "Scanner", "load_lexicon"]

LEXICON_DIR = Path(__file__).resolve().parent.parent / "data" / "lexicons"
"""Where the lexicon, feature and threshold files live."""

MAX_TERM_CHARS = 64
SEPARATOR = "\x00"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TAG = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One list: normalized ``terms``, with a tag per term (``""`` when untagged)."""

    name: str
    terms: tuple[str, ...]
    tags: tuple[str, ...]
    prefix: tuple[bool, ...]
    """``True`` for a ``*`` entry: no word boundary is required after it."""
    path: Path
    ids_follow: bool = False
    """Digits may follow a Latin entry directly (a handle and its account number)."""


def _normalizer() -> Callable[[str], str]:
    from spamflood.normalize import normalize

    return normalize


def load_lexicon(path: Path, *, tags: Iterable[str] | None = None) -> Lexicon:
    """Read, validate and normalize one lexicon file.

    ``tags``: the allowed tags; ``None`` means the file must have none. Raises
    :class:`ConfigError` naming the file and line of a corrupt entry.
    """
    normalize = _normalizer()
    allowed = None if tags is None else frozenset(tags)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Lexicon file {path} cannot be read: {exc.strerror or exc}") from None
    terms: list[str] = []
    term_tags: list[str] = []
    prefix: list[bool] = []
    seen: dict[str, tuple[int, str, bool]] = {}
    ids_follow = raw.lstrip(b"\xef\xbb\xbf").startswith(b"#! ids-follow")
    for lineno, line_bytes in enumerate(raw.split(b"\n"), start=1):
        where = f"Lexicon file {path}, line {lineno}"
        try:
            line = line_bytes.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: not valid UTF-8; save the file as UTF-8") from None
        if lineno == 1 and line.startswith("\ufeff"):
            line = line[1:]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) > 2:
            raise ConfigError(f"{where}: expected 'term' or 'term<TAB>tag', got {len(parts) - 1} tabs")
        term = parts[0].strip()
        tag = parts[1].strip() if len(parts) == 2 else ""
        if _CONTROL.search(term):
            raise ConfigError(f"{where}: the term {term!r} holds a control character")
        is_prefix = term.endswith("*")
        if is_prefix:
            term = term[:-1]
        if "*" in term:
            raise ConfigError(f"{where}: '*' may only end a term (a prefix entry); got {parts[0]!r}")
        normal = normalize(term)
        if not normal:
            raise ConfigError(f"{where}: the term {parts[0]!r} is empty after normalization")
        if len(normal) > MAX_TERM_CHARS:
            raise ConfigError(f"{where}: the term is {len(normal)} characters; at most {MAX_TERM_CHARS}")
        if allowed is None and tag:
            raise ConfigError(f"{where}: this list takes no tags; got {tag!r} after a tab")
        if allowed is not None:
            if not tag:
                raise ConfigError(f"{where}: every entry needs a tag after a tab, one of {sorted(allowed)}")
            if not _TAG.match(tag) or tag not in allowed:
                raise ConfigError(f"{where}: unknown tag {tag!r}; expected one of {sorted(allowed)}")
        if normal in seen:
            first, first_tag, first_prefix = seen[normal]
            if first_tag != tag or first_prefix != is_prefix:
                raise ConfigError(
                    f"{where}: {parts[0]!r} normalizes to {normal!r} like line {first}, "
                    f"with a different tag or '*'; keep one of them"
                )
            continue
        seen[normal] = (lineno, tag, is_prefix)
        terms.append(normal)
        term_tags.append(tag)
        prefix.append(is_prefix)
    if not terms:
        raise ConfigError(f"Lexicon file {path} has no entries")
    return Lexicon(path.stem, tuple(terms), tuple(term_tags), tuple(prefix), path, ids_follow)


# ----------------------------------------------------------------------------- matching

_LETTER, _DIGIT, _OTHER = 1, 2, 0
# what an entry's edge demands of its neighbour: WORD = no letter or digit there;
# LETTER_ONLY = no letter there (digits may follow: ids-follow lists)
_WORD, _LETTER_ONLY = 3, 1


def _edge_class(ch: str) -> int:
    if "0" <= ch <= "9":
        return _DIGIT
    if (ch.isascii() and ch.isalpha()) or "\u00c0" <= ch <= "\u024f":
        return _LETTER
    return _OTHER


def _classes(codepoints: np.ndarray) -> np.ndarray:
    """Per code point: 1 Latin letter, 2 digit, 0 anything else (vectorised :func:`_edge_class`)."""
    c = codepoints
    out = np.zeros(c.shape, dtype=np.int8)
    out[(c >= 48) & (c <= 57)] = _DIGIT
    out[((c >= 97) & (c <= 122)) | ((c >= 65) & (c <= 90)) | ((c >= 0xC0) & (c <= 0x24F))] = _LETTER
    return out


@dataclass(frozen=True, slots=True)
class Router:
    """One regex whose matches go to several patterns: ``route(match)`` names the pattern
    (one of ``names``) or returns ``None`` to drop the match.

    Numbers are the reason: one pass that reads every number with what follows it (``99元``,
    ``8折``, ``13812345678``) is several times faster than one pass per kind of number.
    """

    regex: re.Pattern[str]
    route: Callable[[re.Match[str]], str | None]
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cover:
    """Regexes whose matches hide the matches of other patterns (``hides``) lying inside them:
    the digits of a link (``x.com/item/13812345678``) are part of the link, no phone number."""

    regexes: tuple[re.Pattern[str], ...]
    hides: tuple[str, ...]


def _hide(spans: dict[str, list[tuple[int, int]]], covers: Mapping[str, tuple[str, ...]]) -> None:
    """Drop, in place, the spans of each covered pattern that lie inside a span of its cover."""
    for cover, hidden in covers.items():
        over = spans.get(cover)
        if not over or not any(name in spans for name in hidden):
            continue
        arr = np.array(over, dtype=np.int64).reshape(-1, 2)
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
        starts, reach = arr[:, 0], np.maximum.accumulate(arr[:, 1])
        for name in hidden:
            found = spans.get(name)
            if not found:
                continue
            f = np.array(found, dtype=np.int64).reshape(-1, 2)
            at = np.searchsorted(starts, f[:, 0], side="right") - 1
            # the cover spans starting at or before this span: the farthest of them reaches its end
            inside = (at >= 0) & (reach[np.maximum(at, 0)] >= f[:, 1])
            if inside.any():
                kept = [span for span, drop in zip(found, inside.tolist()) if not drop]
                if kept:
                    spans[name] = kept
                else:
                    del spans[name]


@dataclass(frozen=True, slots=True)
class Match:
    """One match in one text: the list (or pattern) name, the matched text, its tag, span."""

    source: str
    text: str
    tag: str
    start: int
    end: int


@dataclass
class Scan:
    """A batch's matches: per-post counts per list and per pattern, and tagged hits.

    ``lists[name]`` and ``patterns[name]`` are int arrays of length n (matches per post);
    ``tagged[name]`` holds ``(post, tag_index)`` pairs (deduplicated) for tagged lists, with
    ``tag_names[name]`` mapping the index back to the tag.
    """

    n: int
    lists: dict[str, np.ndarray]
    patterns: dict[str, np.ndarray]
    tagged: dict[str, np.ndarray]
    tag_names: dict[str, tuple[str, ...]]
    hits: ScanHits | None = None
    """Where each match was found (``Scanner.scan(..., keep_hits=True)``), for evidence; the
    scans :meth:`only`, :meth:`concat` and :meth:`take` make do not carry it."""

    def only(self, lists: Iterable[str], patterns: Iterable[str]) -> Scan:
        """The counts of these lists and patterns alone, each in the smallest unsigned integer
        type that holds it (most counts are 0 or 1): what a batch keeps for later families."""
        lists, patterns = list(lists), list(patterns)
        missing = [name for name in lists if name not in self.lists] + [
            name for name in patterns if name not in self.patterns
        ]
        if missing:
            raise ConfigError(f"This scan has no counts for {missing}; scan with the families that read them")
        return Scan(
            n=self.n,
            lists={name: _compact(self.lists[name]) for name in lists},
            patterns={name: _compact(self.patterns[name]) for name in patterns},
            tagged={name: pairs for name, pairs in self.tagged.items() if name in lists},
            tag_names={name: tags for name, tags in self.tag_names.items() if name in lists},
        )

    @classmethod
    def concat(cls, parts: Sequence[Scan]) -> Scan:
        """Scans of consecutive batches joined end to end (they must count the same names)."""
        if not parts:
            raise ConfigError("Scan.concat needs at least one scan")
        first = parts[0]
        for part in parts[1:]:
            if part.lists.keys() != first.lists.keys() or part.patterns.keys() != first.patterns.keys():
                raise ConfigError("Scan.concat: the scans count different lists or patterns")
        offsets = np.cumsum([0] + [p.n for p in parts])

        def join(arrays: list[np.ndarray]) -> np.ndarray:
            dtype = np.result_type(*arrays)
            return np.concatenate(arrays).astype(dtype, copy=False)

        tagged = {}
        for name in first.tagged:
            pairs = [p.tagged[name] + np.array([offsets[k], 0], dtype=np.int64) for k, p in enumerate(parts)]
            tagged[name] = np.concatenate(pairs).reshape(-1, 2)
        return cls(
            n=int(offsets[-1]),
            lists={name: join([p.lists[name] for p in parts]) for name in first.lists},
            patterns={name: join([p.patterns[name] for p in parts]) for name in first.patterns},
            tagged=tagged,
            tag_names=dict(first.tag_names),
        )

    def take(self, index: Sequence[int] | np.ndarray) -> Scan:
        """The posts at ``index``, in that order (as :meth:`PostBatch.take`)."""
        idx = np.asarray(index, dtype=np.int64).reshape(-1)
        tagged = {}
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        for name, pairs in self.tagged.items():
            # every new position whose old post has this pair: old posts may repeat in index
            lo = np.searchsorted(sorted_idx, pairs[:, 0], side="left")
            hi = np.searchsorted(sorted_idx, pairs[:, 0], side="right")
            reps = hi - lo
            which = np.repeat(np.arange(len(pairs)), reps)
            at = np.repeat(lo, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
            moved = np.stack([order[at], pairs[which, 1]], axis=1).astype(np.int64).reshape(-1, 2)
            tagged[name] = np.unique(moved, axis=0) if len(moved) else moved
        return Scan(
            n=len(idx),
            lists={name: col[idx] for name, col in self.lists.items()},
            patterns={name: col[idx] for name, col in self.patterns.items()},
            tagged=tagged,
            tag_names=dict(self.tag_names),
        )


@dataclass(frozen=True)
class ScanHits:
    """Every automaton hit and pattern match a scan found, by post, so that the evidence of
    the posts whose labels fired is assembled from them (:meth:`matches`) instead of running
    the automaton and every regex over those texts again.

    Hits: ``(begin, end, key, class before, class after)`` (end inclusive, offsets in the
    post's text) sorted by post, then end, then begin; events: ``(pattern, start, stop)`` in
    the order :meth:`Scanner._pattern_events` gives them, by post. A post whose text held the
    scan's separator was scanned with a space in its place (``redo``): its matches are found
    again.
    """

    scanner: Scanner
    texts: Sequence[str]
    hit_post: np.ndarray
    hits: np.ndarray
    event_post: np.ndarray
    event_name: np.ndarray
    event_span: np.ndarray
    event_names: tuple[str, ...]
    redo: frozenset[int] = frozenset()

    def matches(self, index: Sequence[int]) -> list[list[Match]]:
        """``[self.scanner.matches(texts[i]) for i in index]``, from the kept hits."""
        want = np.zeros(len(self.texts), dtype=bool)
        want[np.asarray(index, dtype=np.int64)] = True
        hits: dict[int, list[tuple[int, int, int, int, int]]] = {}
        chosen = want[self.hit_post]
        rows = self.hits[chosen].T.tolist()  # five columns: begin, end, key, class before, after
        for p, b, e, k, before, after in zip(self.hit_post[chosen].tolist(), *rows):
            found = hits.get(p)
            if found is None:
                found = hits[p] = []
            found.append((b, e, k, before, after))
        events: dict[int, list[tuple[str, int, int]]] = {}
        chosen = want[self.event_post]
        names = self.event_names
        rows = zip(self.event_post[chosen].tolist(), self.event_name[chosen].tolist(), self.event_span[chosen].tolist())
        for p, name, (start, stop) in rows:
            events.setdefault(p, []).append((names[name], start, stop))
        out = []
        for i in index:
            if i in self.redo:
                out.append(self.scanner.matches(self.texts[i]))
            elif i in hits or i in events:
                out.append(self.scanner._assemble(self.texts[i], hits.get(i, []), events.get(i, [])))
            else:
                out.append([])
        return out


def _joined(texts: Sequence[str]) -> tuple[str, np.ndarray]:
    """``texts`` joined by :data:`SEPARATOR`, and where each starts in the joined string."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    return SEPARATOR.join(texts), starts


def _compact(counts: np.ndarray) -> np.ndarray:
    top = int(counts.max()) if counts.size else 0
    return counts.astype(np.min_scalar_type(max(top, 0)), copy=False)


class Scanner:
    """One Aho-Corasick automaton over several lexicons plus named regexes (a plain structure).

    Built once per set of lists (see :func:`spamflood.criteria.scan.scanner_for`), then used
    for any number of batches; matching does not modify it, so threads may share it.
    """

    def __init__(self, lexicons: Sequence[Lexicon], patterns: Mapping[str, Any]) -> None:
        """``patterns``: name -> a regex, a sequence of regexes, a :class:`Router` or a :class:`Cover`."""
        if not lexicons:
            raise ConfigError("A Scanner needs at least one lexicon")
        self.list_names: tuple[str, ...] = tuple(lx.name for lx in lexicons)
        self._regexes: list[tuple[str, re.Pattern[str]]] = []
        self._routers: list[Router] = []
        self._covers: dict[str, tuple[str, ...]] = {}
        names: list[str] = []
        for name, spec in patterns.items():
            if isinstance(spec, Router):
                self._routers.append(spec)
                names.extend(spec.names)
            elif isinstance(spec, Cover):
                self._regexes.extend((name, rx) for rx in spec.regexes)
                self._covers[name] = spec.hides
                names.append(name)
            else:
                for rx in (spec,) if isinstance(spec, re.Pattern) else spec:
                    self._regexes.append((name, rx))
                names.append(name)
        self.pattern_names: tuple[str, ...] = tuple(dict.fromkeys(names))
        # A regex that starts with one of several words is searched where the words are (one
        # automaton pass for all of them), not by the regex engine at every character.
        anchors: dict[str, int] = {}
        self._anchored: list[np.ndarray | None] = []  # per regex: its anchors' keys, or None
        for _, rx in self._regexes:
            words = leading_words(rx)
            keys = None if words is None or len(words) < 2 else [anchors.setdefault(w, len(anchors)) for w in words]
            self._anchored.append(None if keys is None else np.array(sorted(set(keys)), dtype=np.int64))
        self._anchor_keys = list(anchors)
        self._anchor_automaton = _automaton(self._anchor_keys) if anchors else None
        tag_tables: list[tuple[str, ...]] = []
        for lx in lexicons:
            tag_tables.append(tuple(sorted({t for t in lx.tags if t})))
        self.tag_names = {name: table for name, table in zip(self.list_names, tag_tables) if table}
        # key -> entries (list index, needs-left, needs-right, tag index); a term may sit in several lists
        by_key: dict[str, list[tuple[int, int, int, int]]] = {}
        for li, lx in enumerate(lexicons):
            table = tag_tables[li]
            for term, tag, pre in zip(lx.terms, lx.tags, lx.prefix):
                left = _WORD if _edge_class(term[0]) != _OTHER else _OTHER
                last = _edge_class(term[-1])
                if pre or last == _OTHER:
                    right = _OTHER
                elif lx.ids_follow and last == _LETTER:
                    right = _LETTER_ONLY
                else:
                    right = _WORD
                tag_index = table.index(tag) if tag else -1
                by_key.setdefault(term, []).append((li, left, right, tag_index))
        self._keys: list[str] = list(by_key)
        indptr = [0]
        entries: list[tuple[int, int, int, int]] = []
        for term in self._keys:
            entries.extend(by_key[term])
            indptr.append(len(entries))
        self._automaton = _automaton(self._keys)
        self._indptr = np.array(indptr, dtype=np.int64)
        e = np.array(entries, dtype=np.int64).reshape(-1, 4)
        self._entry_list, self._entry_left, self._entry_right, self._entry_tag = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        # the same entries as Python values, per key, for matching one text (evidence reads them
        # match by match, where a NumPy scalar per field would cost more than the check itself)
        self._key_entries: list[tuple[tuple[int, int, str, str], ...]] = [
            tuple(
                (left, right, self.list_names[li], self.tag_names[self.list_names[li]][t] if t >= 0 else "")
                for li, left, right, t in by_key[term]
            )
            for term in self._keys
        ]

    # -- whole batches ---------------------------------------------------------------

    def scan(self, texts: Sequence[str], *, chunk: int = 20_000, keep_hits: bool = False) -> Scan:
        """Counts per post for every list and pattern; texts must already be normalized.
        ``keep_hits``: also keep where each match was (:class:`ScanHits`), for evidence."""
        n = len(texts)
        n_lists = len(self.list_names)
        counts = np.zeros((n, n_lists), dtype=np.int32)
        pattern_counts = {name: np.zeros(n, dtype=np.int32) for name in self.pattern_names}
        tagged_parts: dict[int, list[np.ndarray]] = {}
        located: list[tuple[np.ndarray, ...]] | None = [] if keep_hits else None
        redo: set[int] = set()  # the posts whose text held the separator
        for lo in range(0, n, chunk):
            part = list(texts[lo : lo + chunk])
            for j in [j for j, t in enumerate(part) if SEPARATOR in t]:
                part[j] = part[j].replace(SEPARATOR, " ")
                redo.add(lo + j)
            self._scan_chunk(part, lo, counts, pattern_counts, tagged_parts, located)
        tagged: dict[str, np.ndarray] = {}
        for li, name in enumerate(self.list_names):
            if name in self.tag_names:
                parts = tagged_parts.get(li, [])
                pairs = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
                tagged[name] = np.unique(pairs, axis=0) if len(pairs) else pairs
        hits = None
        if located is not None:
            empty = (np.zeros(0, np.int64), np.zeros((0, 5), np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.int64))
            parts = list(zip(*(located or [empty])))
            hit_post, hit_rows, event_post, event_rows = (np.concatenate(p) for p in parts)
            hits = ScanHits(
                self, texts, hit_post, hit_rows, event_post, event_rows[:, 0], event_rows[:, 1:3], self.pattern_names,
                frozenset(redo),
            )
        return Scan(
            n=n,
            lists={name: counts[:, li] for li, name in enumerate(self.list_names)},
            patterns=pattern_counts,
            tagged=tagged,
            tag_names=self.tag_names,
            hits=hits,
        )

    def _scan_chunk(
        self,
        part: list[str],
        offset: int,
        counts: np.ndarray,
        pattern_counts: dict[str, np.ndarray],
        tagged_parts: dict[int, list[np.ndarray]],
        located: list[tuple[np.ndarray, ...]] | None = None,
    ) -> None:
        m = len(part)
        if not m:
            return
        joined, starts = _joined(part)
        # patterns: one finditer per regex over the joined chunk; overlapping matches of one
        # pattern (its regexes may both see "¥99元") count once
        events = self._pattern_events(joined)
        by_name: dict[str, list[tuple[int, int]]] = {}
        for name, start, stop in events:
            by_name.setdefault(name, []).append((start, stop))
        arr, before, after = self._hits_with_edges(joined)
        key, begin, end = arr[:, 0], arr[:, 1], arr[:, 2] - 1  # inclusive ends from here on
        if located is not None:
            located.append(self._located(starts, offset, events, arr, before, after))
        for name, spans in by_name.items():
            spans_at = np.array(spans, dtype=np.int64)
            spans_at = spans_at[np.lexsort((-spans_at[:, 1], spans_at[:, 0]))]
            reach = np.maximum.accumulate(spans_at[:, 1])
            fresh = np.ones(spans_at.shape[0], dtype=bool)
            fresh[1:] = reach[:-1] <= spans_at[1:, 0]
            post = np.searchsorted(starts, spans_at[fresh, 0], side="right") - 1
            np.add.at(pattern_counts[name], post + offset, 1)
        if not arr.size:
            return
        # expand key -> entries
        reps = self._indptr[key + 1] - self._indptr[key]
        entry = np.repeat(self._indptr[key], reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
        end = np.repeat(end, reps)
        begin = np.repeat(begin, reps)
        before, after = np.repeat(before, reps), np.repeat(after, reps)
        left, right = self._entry_left[entry], self._entry_right[entry]
        ok = ~((left == _WORD) & (before != _OTHER))
        ok &= ~((right == _WORD) & (after != _OTHER))
        ok &= ~((right == _LETTER_ONLY) & (after == _LETTER))
        entry, begin, end = entry[ok], begin[ok], end[ok]
        if not entry.size:
            return
        lists = self._entry_list[entry]
        # within one list, a match inside a longer match of the same list is one phrase, not two
        # ("大优惠" is not also "优惠"): sort by list, start, longest first; a match is inside
        # another when an earlier one of its list reaches at least as far.
        order = np.lexsort((-end, begin, lists))
        lists, entry, begin, end = lists[order], entry[order], begin[order], end[order]
        reach = end + lists * (len(joined) + 1)
        running = np.maximum.accumulate(reach)
        inside = np.zeros(reach.shape[0], dtype=bool)
        inside[1:] = running[:-1] >= reach[1:]
        keep = ~inside
        lists, entry, begin = lists[keep], entry[keep], begin[keep]
        post = np.searchsorted(starts, begin, side="right") - 1
        n_lists = counts.shape[1]
        counts[offset : offset + m] += np.bincount(post * n_lists + lists, minlength=m * n_lists).reshape(m, n_lists).astype(
            counts.dtype
        )
        tag = self._entry_tag[entry]
        has_tag = tag >= 0
        if has_tag.any():
            for li in np.unique(lists[has_tag]):
                sel = has_tag & (lists == li)
                pairs = np.stack([post[sel] + offset, tag[sel]], axis=1)
                tagged_parts.setdefault(int(li), []).append(pairs)

    def _hits_with_edges(self, joined: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every automaton hit in ``joined`` as rows ``(key, start, stop)``, and the classes of
        the code points just before and after each (0 past either end; the separator between
        two texts is class 0, as the edge of a lone text is), which word edges check."""
        arr = np.array(self._find(joined), dtype=np.int64).reshape(-1, 3)
        codepoints = np.concatenate(([0], np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32), [0]))
        return arr, _classes(codepoints[arr[:, 1]]), _classes(codepoints[arr[:, 2] + 1])  # start-1, stop shifted

    def _located(
        self,
        starts: np.ndarray,
        offset: int,
        events: list[tuple[str, int, int]],
        found: np.ndarray,
        before: np.ndarray,
        after: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """A chunk's hits (``found``: key, start, stop in the joined chunk, with the classes
        around them) and events in :class:`ScanHits`' layout: per row its post (``offset``
        on), then ``(begin, end, key, class before, class after)`` for a hit, ``(pattern,
        start, stop)`` for an event, offsets in the post's own text."""
        order = np.lexsort((found[:, 1], found[:, 2]))  # by end, then start: by post, as matches() reads them
        key, begin, end = found[order, 0], found[order, 1], found[order, 2] - 1
        post = np.searchsorted(starts, begin, side="right") - 1
        base = starts[post]
        rows = np.stack([begin - base, end - base, key, before[order], after[order]], axis=1).astype(np.int64)
        index = {name: k for k, name in enumerate(self.pattern_names)}
        spans = np.array([(index[name], start, stop) for name, start, stop in events], dtype=np.int64).reshape(-1, 3)
        event_post = np.searchsorted(starts, spans[:, 1], side="right") - 1
        spans[:, 1:] -= starts[event_post][:, None]
        return post + offset, rows, event_post + offset, spans

    def _find(self, text: str) -> list[tuple[int, int, int]]:
        """Every occurrence of every key in ``text``, overlapping ones included, as
        ``(key, start, stop)`` in characters."""
        return _occurrences(self._automaton, text)

    def _hits_in_order(self, text: str) -> list[tuple[int, int, int]]:
        """``(begin, end, key)`` (inclusive end) of every key occurrence, by end, longest first."""
        return sorted([(begin, stop - 1, key) for key, begin, stop in self._find(text)], key=_by_end)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_automaton"], state["_anchor_automaton"]  # not picklable; rebuilt from the keys
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._automaton = _automaton(self._keys)
        self._anchor_automaton = _automaton(self._anchor_keys) if self._anchor_keys else None

    # -- texts one by one, for evidence --------------------------------------------

    def matches(self, text: str) -> list[Match]:
        """Every list and pattern match in one normalized text, in text order."""
        hits = []
        size = len(text)
        for begin, end, key in self._hits_in_order(text):
            before = _edge_class(text[begin - 1]) if begin > 0 else _OTHER
            after = _edge_class(text[end + 1]) if end + 1 < size else _OTHER
            hits.append((begin, end, key, before, after))
        return self._assemble(text, hits, self._pattern_events(text))

    def matches_many(self, texts: Sequence[str]) -> list[list[Match]]:
        """``[self.matches(t) for t in texts]``, from one pass over the joined texts.

        Evidence wants the matches of a few thousand posts of a batch; the regexes and the
        automaton then run once over all of them instead of once per post.
        """
        m = len(texts)
        joined, starts = _joined(texts)
        if joined.count(SEPARATOR) != max(m - 1, 0):  # a text holds the separator: one by one
            return [self.matches(t) for t in texts]
        if not m:
            return []
        events = self._pattern_events(joined)
        post, rows, event_post, spans = self._located(starts, 0, events, *self._hits_with_edges(joined))
        found = ScanHits(self, texts, post, rows, event_post, spans[:, 0], spans[:, 1:3], self.pattern_names)
        return found.matches(range(m))

    def _anchor_hits(self, text: str) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
        """Where the anchoring words (:func:`leading_words`) occur in ``text``: ``(word, start)``
        of each occurrence, overlaps included; ``(None, None)`` when no regex is anchored."""
        if self._anchor_automaton is None:
            return None, None
        rows = np.array(_occurrences(self._anchor_automaton, text), dtype=np.int64).reshape(-1, 3)
        return rows[:, 0], rows[:, 1]

    def _pattern_events(self, text: str, *, anchored: bool = True) -> list[tuple[str, int, int]]:
        """(pattern name, start, end) of every pattern match, regexes first, then routed numbers,
        each in text order: the order :meth:`_assemble` reads them in. ``anchored=False``:
        every regex searched by the regex engine alone (the same events; for tests)."""
        events: list[tuple[str, int, int]] = []
        anchor_key, anchor_start = self._anchor_hits(text) if anchored else (None, None)
        for (name, rx), keys in zip(self._regexes, self._anchored):
            if keys is None or anchor_key is None or anchor_start is None:
                events.extend((name, *mt.span()) for mt in rx.finditer(text))
                continue
            reach = 0  # as finditer: each match starts where the one before ended, or later
            for at in np.unique(anchor_start[np.isin(anchor_key, keys)]).tolist():
                if at >= reach and (mt := rx.match(text, at)) is not None:
                    events.append((name, at, mt.end()))
                    reach = mt.end()
        for router in self._routers:
            route = router.route
            for mt in router.regex.finditer(text):
                target = route(mt)
                if target is not None:
                    events.append((target, *mt.span()))
        if self._covers and events:
            spans: dict[str, list[tuple[int, int]]] = {}
            for name, start, end in events:
                spans.setdefault(name, []).append((start, end))
            _hide(spans, self._covers)
            kept = {(name, start, end) for name, found in spans.items() for start, end in found}
            events = [event for event in events if event in kept]
        return events

    def _assemble(
        self, text: str, hits: list[tuple[int, int, int, int, int]], events: list[tuple[str, int, int]]
    ) -> list[Match]:
        """Matches of one text from its automaton hits ``(begin, end, key, class before, class
        after)`` (inclusive end) and its pattern events: word edges checked, nested matches of
        one list dropped, in text order."""
        out: list[Match] = []
        for begin, end, key, before, after in hits:
            term = self._keys[key]
            for left, right, name, tag in self._key_entries[key]:
                if (left == _WORD and before != _OTHER) or (right == _WORD and after != _OTHER):
                    continue
                if right == _LETTER_ONLY and after == _LETTER:
                    continue
                out.append(Match(name, term, tag, begin, end + 1))
        if len(out) > 1:
            out.sort(key=_by_source)
            kept: list[Match] = []
            for m in out:  # drop a match inside a longer one of the same list, as scan() does
                if kept and kept[-1].source == m.source:
                    inside = False
                    for k in kept:
                        if k.source == m.source and k.start <= m.start and k.end >= m.end:
                            inside = True
                            break
                    if inside:
                        continue
                kept.append(m)
            out = kept
        if events:
            spans_by_name: dict[str, list[tuple[int, int]]] = {}
            for name, start, end in events:
                spans_by_name.setdefault(name, []).append((start, end))
            for name, spans in spans_by_name.items():
                reach = -1
                if len(spans) > 1:
                    spans.sort(key=_by_start_longest)
                for start, end in spans:
                    if start >= reach:
                        out.append(Match(name, text[start:end], "", start, end))
                    reach = max(reach, end)
        if len(out) > 1:
            out.sort(key=_by_position)
        return out


_META = frozenset("\\.^$*+?{}[]|()")
"""Characters that are not themselves in a regular expression."""


def leading_words(rx: re.Pattern[str]) -> list[str] | None:
    r"""Words one of which every match of ``rx`` starts with, read from its source: the literal
    start of each top-level alternative, or the alternatives of a leading ``(?:a|b|c)``
    group; ``None`` when some alternative starts otherwise (a class, an escape, a lookaround,
    an optional character) or ``rx`` has flags that change what a literal matches.

    >>> leading_words(re.compile(r"(?:txt|text|send)\s\d+")), leading_words(re.compile(r"up to \d+%|codes?[:\s]"))
    (['txt', 'text', 'send'], ['up to ', 'code'])
    >>> leading_words(re.compile(r"(?:a|b)?c")), leading_words(re.compile(r"[$¥]\d")), leading_words(re.compile(r"x|\d"))
    (None, None, None)
    >>> leading_words(re.compile(r"ab[]|]c|de")), leading_words(re.compile(r"ab[^]|]|(?i:x)"))
    (['ab', 'de'], None)
    """
    if rx.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    words: list[str] = []
    for branch in _top_level(rx.pattern):
        found = _leading_group(branch) if branch.startswith("(?:") else _leading_run(branch)
        if not found:
            return None
        words.extend(found)
    return words


def _top_level(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|`` (not inside a group or a class)."""
    out, depth, in_class, at, k = [], 0, False, 0, 0
    while k < len(pattern):
        ch = pattern[k]
        if ch == "\\":
            k += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            k += 2 if pattern[k + 1 : k + 3] == "^]" else 1 if pattern[k + 1 : k + 2] == "]" else 0  # a leading ] is literal
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[at:k])
            at = k + 1
        k += 1
    out.append(pattern[at:])
    return out


def _leading_run(branch: str) -> list[str] | None:
    """The literal characters ``branch`` starts with (one made optional by ``?``, ``*`` or
    ``{`` left out), as a one-word list; ``None`` if there are none."""
    run = ""
    for ch in branch:
        if ch in _META:
            if ch in "?*{":
                run = run[:-1]
            break
        run += ch
    return [run] if run else None


def _leading_group(branch: str) -> list[str] | None:
    """The alternatives of the ``(?:...)`` group ``branch`` starts with, when each is plain
    literal text and the group is not optional."""
    close = branch.find(")")
    if close < 0 or "(" in branch[1:close] or "\\" in branch[:close]:
        return None  # a group or an escape inside: not plain text
    if branch[close + 1 : close + 2] in ("?", "*", "{"):
        return None
    alternatives = branch[3:close].split("|")
    return alternatives if all(a and not _META.intersection(a) for a in alternatives) else None


def _automaton(keys: list[str]) -> Any:
    """An Aho-Corasick automaton over ``keys`` that reports every occurrence, overlaps included.

    ahocorasick_rs (the Rust ``aho-corasick`` crate), not pyahocorasick: a lexicon of a
    thousand terms gives pyahocorasick's root a thousand children, searched one by one for every
    character (about 55 ns a character here); this one runs at about 16 ns, same matches."""
    return ahocorasick_rs.AhoCorasick(keys, matchkind=ahocorasick_rs.MATCHKIND_STANDARD)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _occurrences(automaton: Any, text: str) -> list[tuple[int, int, int]]:
    """Every occurrence of every key of ``automaton`` in ``text``, overlapping ones included,
    as ``(key, start, stop)`` in characters; a lone surrogate (no key holds one) is matched as
    U+FFFD, which keeps every position."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=True)
    except UnicodeEncodeError:
        return automaton.find_matches_as_indexes(_SURROGATES.sub("\ufffd", text), overlapping=True)


def _by_end(hit: tuple[int, int, int]) -> tuple[int, int]:
    return hit[1], hit[0]


def _by_source(m: Match) -> tuple[str, int, int]:
    return (m.source, m.start, -m.end)


def _by_start_longest(span: tuple[int, int]) -> tuple[int, int]:
    return (span[0], -span[1])


def _by_position(m: Match) -> tuple[int, int]:
    return (m.start, m.end)
