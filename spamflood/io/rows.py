"""Turn one raw input row into a validated :class:`~spamflood.posts.Post`, or say why not.

Readers hand over *raw rows*: the 1-based line (or row) number and a payload, either the
undecoded bytes of a JSONL line or an already-parsed mapping (CSV, Parquet, DataFrame, dicts).
:class:`RowParser` does all validation in one place so every input format rejects the same
things with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import partial
from operator import itemgetter
from typing import Any

try:  # orjson is a declared dependency; the fallback keeps a broken install usable.
    import orjson

    _loads = orjson.loads
    _JSONDecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover
    import json

    _loads = json.loads  # type: ignore[assignment]
    _JSONDecodeError = ValueError

import numpy as np

from spamflood.errors import InputError
from spamflood.io.counts import parse_count
from spamflood.io.fieldmap import MISSING, FieldMap, _resolve
from spamflood.io.timestamps import parse_iso_column, parse_time, resolve_tz
from spamflood.posts import (
    POST_FIELDS,
    Post,
    PostBatch,
)

__all__ = ["DEFAULT_MAX_TEXT_CHARS", "FieldWarnings", "RawRow", "Reject", "RowParser"]

DEFAULT_MAX_TEXT_CHARS = 20_000
"""Longer texts are rejected as oversized (a post, not a book; protects memory and speed)."""

RawRow = tuple[int, "bytes | Mapping[str, Any]"]

CSV_ERROR_KEY = "\x00csv_error"
"""Key under which a CSV reader passes a row it could not split (value: the reason)."""
CSV_RAW_KEY = "\x00csv_raw"
"""Key under which it passes that row's raw values."""
CSV_ERROR_FIELD_KEY = "\x00csv_field"
"""Key under which it may name the field that could not be read (a line without a separator)."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that could not be scored: where, what, and the raw input, for the rejects file."""

    line: int
    field: str | None
    reason: str
    raw: str
    file: str | None = None
    """The input file the row is in, when several were read as one feed (else ``None``)."""

    def to_dict(self) -> dict[str, Any]:
        where = {"file": self.file} if self.file is not None else {}
        return {**where, "line": self.line, "field": self.field, "reason": self.reason, "raw": self.raw}

    def message(self) -> str:
        return str(InputError(self.reason, line=self.line, field=self.field, file=self.file))


@dataclass
class FieldWarnings:
    """Optional values that could not be read and were taken as missing, the post being kept
    (one unreadable follower count must not cost a post): per field, how many, and the line
    and reason of the first."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, name: str, line: int, reason: str) -> None:
        if name in self.counts:
            self.counts[name] += 1
        else:
            self.counts[name] = 1
            self.first[name] = (line, reason)

    def update(self, other: FieldWarnings) -> None:
        """Add the warnings of ``other`` (a later chunk, say) to these."""
        for name, count in other.counts.items():
            if name not in self.counts or other.first[name][0] < self.first[name][0]:
                self.first[name] = other.first[name]
            self.counts[name] = self.counts.get(name, 0) + count

    def __bool__(self) -> bool:
        return bool(self.counts)

    def messages(self) -> list[str]:
        """One line per field, in the order of :data:`~spamflood.posts.POST_FIELDS`."""
        out = []
        for name in sorted(self.counts, key=POST_FIELDS.index):
            line, reason = self.first[name]
            count = self.counts[name]
            out.append(
                f"field '{name}': {count:,} unreadable value{'s' if count > 1 else ''} read as missing "
                f"(first on line {line}: {reason})"
            )
        return out


def raw_text(payload: bytes | Mapping[str, Any], limit: int = 10_000) -> str:
    """The raw row as text for the rejects file: invalid bytes shown as ``\\xNN`` escapes."""
    if isinstance(payload, bytes):
        text = payload.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    elif CSV_ERROR_KEY in payload:
        values = payload.get(CSV_RAW_KEY)
        text = ",".join(values) if values else ""
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    else:
        try:
            text = _dumps_lenient(payload)
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except Exception:  # a raw row must never stop the run
            text = repr(payload)
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def _dumps_lenient(payload: Mapping[str, Any]) -> str:
    import json

    return json.dumps(payload, ensure_ascii=False, default=str)


def _has_surrogates(text: str) -> bool:
    # Lone surrogates are how `surrogateescape` carries invalid UTF-8 bytes through CSV reading.
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class RowParser:
    """Validates raw rows against a :class:`FieldMap`.

    Plain structure (not an estimator): checks its arguments at construction.
    """

    def __init__(
        self,
        field_map: FieldMap | None = None,
        *,
        tz: str | tzinfo = "UTC",
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    ) -> None:
        if max_text_chars < 1:
            raise ValueError(f"max_text_chars must be at least 1. Got {max_text_chars} instead.")
        self.field_map = field_map or FieldMap()
        self.tz = resolve_tz(tz) if isinstance(tz, str) else tz
        self.max_text_chars = max_text_chars
        self._times: dict[str, float] = {}
        self._plan = _plan(self.field_map)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_times"] = {}  # a cache, not worth pickling to every worker
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._plan = _plan(self.field_map)  # its _ABSENT must be this process's sentinel

    def parse_many(
        self, rows: Iterable[RawRow], warnings: FieldWarnings | None = None
    ) -> tuple[list[Post], list[Reject]]:
        """The valid rows as posts, and the rejects, in row order; optional values read as
        missing are counted in ``warnings``."""
        rejects: list[Reject] = []
        valid = self._valid(rows, rejects, warnings)
        # values: the fields before line and extra (mypy cannot see the tuple's length)
        posts = [Post(*values[:-1], line=line, extra=values[-1]) for line, values in valid]  # type: ignore[misc]
        return posts, rejects

    def parse_batch(
        self, rows: Iterable[RawRow], warnings: FieldWarnings | None = None
    ) -> tuple[PostBatch, list[Reject]]:
        """The valid rows as one :class:`PostBatch` (what ``PostBatch.from_posts`` makes of
        :meth:`parse_many`'s posts) and the rejects, in row order; optional values read as
        missing are counted in ``warnings``.

        Fields are checked a column at a time (type, emptiness, length and UTF-8 of a whole
        column in a few C calls); a row any column check cannot vouch for goes through the
        one-row validation (:meth:`parse`), which gives its values or its reject. So the
        result is the same as validating every row alone, at a fraction of the cost.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        columns, slow = self._screen_columns(rows)
        rejects: list[Reject] = []
        dropped: list[int] = []
        for i in sorted(slow):
            line, payload = rows[i]
            try:
                values = self._fields(line, payload, warnings)
            except InputError as exc:
                rejects.append(Reject(line, exc.field, exc.reason, raw_text(payload)))
                dropped.append(i)
                continue
            for column, value in zip(columns, values):
                column[i] = value
        lines = [line for line, _ in rows]
        if dropped:
            keep = np.ones(len(rows), dtype=np.bool_)
            keep[dropped] = False
            kept = np.flatnonzero(keep).tolist()
            columns = [[column[i] for i in kept] for column in columns]
            lines = [lines[i] for i in kept]
        n = len(lines)
        ids, texts, authors, times, names, bios, reposts, created, followers, following, statuses, extra = columns
        # one object per distinct account string in the chunk: pickled to the main process once
        shared: dict[str | None, str | None] = {}
        share = shared.setdefault
        for column in (authors, names, bios, reposts):
            column[:] = map(share, column, column)
        keep_names = tuple(dict.fromkeys(self.field_map.keep))
        batch = PostBatch(
            ids=ids,
            texts=texts,
            authors=authors,
            times=np.array(times, dtype=np.float64).reshape(n),
            lines=np.array(lines, dtype=np.int64).reshape(n),
            author_name=names,
            author_bio=bios,
            repost_of=reposts,
            author_created=np.array(created, dtype=np.float64).reshape(n),
            followers=np.array(followers, dtype=np.float64).reshape(n),
            following=np.array(following, dtype=np.float64).reshape(n),
            statuses=np.array(statuses, dtype=np.float64).reshape(n),
            extra={name: [row[name] for row in extra] for name in keep_names} if n else {},
        )
        return batch, rejects

    def _screen_columns(self, rows: list[RawRow]) -> tuple[list[list[Any]], set[int]]:
        """The fields of ``rows`` as columns (the :meth:`_fields` order), and the rows a column
        check could not vouch for (their entries are placeholders, to be validated alone)."""
        n = len(rows)
        keys, paths = self._plan
        present = tuple(dict.fromkeys(key for key in keys if key is not _ABSENT))
        fetch = _fetcher(present)
        # Fetch a record's fields as soon as it is decoded, while it is in cache; keep the
        # record itself only when nested paths or kept fields still need it.
        keep_records = bool(paths or self.field_map.keep)
        records: list[Any] = []
        fetched: list[tuple[Any, ...]] = []
        slow: set[int] = set()
        loads, error = _loads, _JSONDecodeError
        for i, (_, payload) in enumerate(rows):
            if payload.__class__ is bytes:
                try:
                    record = loads(payload)
                except error:
                    record = None
            else:
                record = payload
                if record.__class__ is dict and CSV_ERROR_KEY in record:
                    record = None
            if record.__class__ is not dict:  # not a JSON object, or unreadable: validated alone
                slow.add(i)
                record = _NO_RECORD
            try:
                fetched.append(fetch(record))
            except KeyError:
                fetched.append(tuple(map(record.get, present)))
            if keep_records:
                records.append(record)
        found = dict(zip(present, map(list, zip(*fetched)))) if n else {key: [] for key in present}
        raw = [found[key] if key is not _ABSENT else [None] * n for key in keys]
        for at, alternatives in paths:
            raw[at] = [None if v is MISSING else v for v in (_resolve(r, alternatives) for r in records)]
        post_id, text, author, raw_time, name, bio, repost, created, followers, following, statuses = raw
        required = self.field_map.required
        limit = self.max_text_chars

        def screened(values: list[Any], bad: list[int]) -> list[Any]:
            slow.update(bad)
            return values

        ids = screened(*_screen(post_id, _identifiers, _identifier_or_bad))
        texts = screened(*_screen(text, partial(_texts, limit=limit), partial(_text_or_bad, limit=limit)))
        if "author" in required:
            authors = screened(*_screen(author, _identifiers, _identifier_or_bad))
        else:
            authors = screened(*_screen(author, _optional_identifiers, _optional_identifier_or_bad))
            if None in authors:  # a post without an author is its own author
                authors = [post if who is None else who for who, post in zip(authors, ids)]
        times = screened(*self._screen_times(raw_time, "time" in required, remember=False))
        names = screened(*_screen(name, _optional_texts, _optional_text_or_bad))
        bios = screened(*_screen(bio, _optional_texts, _optional_text_or_bad))
        reposts = screened(*_screen(repost, _optional_identifiers, _optional_identifier_or_bad))
        created_at = screened(*self._screen_times(created, False, remember=True))
        counts = [screened(*_screen(column, _counts, _count_or_bad)) for column in (followers, following, statuses)]
        fm = self.field_map
        extra = [{k: fm.lookup_kept(r, k) for k in fm.keep} for r in records] if fm.keep else [{}] * n
        return [ids, texts, authors, times, names, bios, reposts, created_at, *counts, extra], slow

    def _screen_times(self, column: list[Any], required: bool, *, remember: bool) -> tuple[list[float], list[int]]:
        """Epoch seconds of a time column (NaN where missing), and the rows whose time cannot be
        read (or is missing though required). ISO 8601 strings are read a column at a time."""
        seconds, read = parse_iso_column(column, self.tz)
        out = seconds.tolist()
        bad: list[int] = []
        if read.all():
            return out, bad
        for i in np.flatnonzero(~read).tolist():
            value = column[i]
            if _missing(value) or value is MISSING:
                if required:
                    bad.append(i)
                continue  # NaN
            try:
                out[i] = self._time(value, 0, "", remember=remember)
            except InputError:
                bad.append(i)
        return out, bad

    def _valid(
        self, rows: Iterable[RawRow], rejects: list[Reject], warnings: FieldWarnings | None
    ) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """The line and validated fields of each good row; each bad one goes to ``rejects``."""
        for line, payload in rows:
            try:
                values = self._fields(line, payload, warnings)
            except InputError as exc:
                rejects.append(Reject(line, exc.field, exc.reason, raw_text(payload)))
                continue
            yield line, values

    def parse(
        self, line: int, payload: bytes | Mapping[str, Any], warnings: FieldWarnings | None = None
    ) -> Post:
        """One row as a Post; raises :class:`InputError` naming the line and field. An optional
        value that cannot be read is taken as missing (and counted in ``warnings``)."""
        values = self._fields(line, payload, warnings)
        return Post(*values[:-1], line=line, extra=values[-1])  # type: ignore[misc]  # the fields before line and extra

    def _fields(
        self, line: int, payload: bytes | Mapping[str, Any], warnings: FieldWarnings | None = None
    ) -> tuple[Any, ...]:
        """The validated fields of one row, in the order of :data:`~spamflood.posts.POST_FIELDS`
        (None or NaN for a missing optional one), then the kept extra fields.

        Only the required fields reject the row; an optional one that cannot be read is taken
        as missing, and counted in ``warnings`` (after every check that can reject, so that a
        rejected row counts no warning)."""
        record = self._decode(line, payload)
        fm = self.field_map
        keys, paths = self._plan
        # top-level keys fetched by one C loop; None and "" are missing, as in FieldMap.lookup
        values = [MISSING if _missing(v) else v for v in map(record.get, keys)]
        for at, alternatives in paths:
            values[at] = _resolve(record, alternatives)
        post_id, text, author, raw_time, name, bio, repost, created, followers, following, statuses = values
        required = fm.required

        if post_id is MISSING:
            raise InputError("missing or empty", line=line, field="id")
        post_id = _identifier(post_id, line, "id")
        if text is MISSING:
            raise InputError("missing or empty", line=line, field="text")
        if type(text) is not str and not isinstance(text, str):
            raise InputError(f"expected a string, got {type(text).__name__}", line=line, field="text")
        if not text.isascii() and _has_surrogates(text):
            raise InputError("invalid UTF-8 in text", line=line, field="text")
        if text.isspace():  # an empty text is MISSING above
            raise InputError("empty text", line=line, field="text")
        if len(text) > self.max_text_chars:
            raise InputError(
                f"oversized text: {len(text)} characters, the limit is {self.max_text_chars} (--max-text)",
                line=line,
                field="text",
            )
        if "author" in required:
            if author is MISSING:
                raise InputError("missing or empty", line=line, field="author")
            author = _identifier(author, line, "author")
        if "time" in required:
            if raw_time is MISSING:
                raise InputError("missing or empty", line=line, field="time")
            time = self._time(raw_time, line, "time", remember=False)
        # nothing below rejects the row
        if "author" not in required:  # a post without an author is its own author
            author = _lenient(_identifier, author, line, "author", warnings, None) or post_id
        if "time" not in required:
            time = _lenient(self._post_time, raw_time, line, "time", warnings, math.nan)
        name = _lenient(_text_field, name, line, "author_name", warnings, None)
        bio = _lenient(_text_field, bio, line, "author_bio", warnings, None)
        repost = _lenient(_identifier, repost, line, "repost_of", warnings, None)
        created = _lenient(self._time, created, line, "author_created", warnings, math.nan)
        followers = _lenient(_count, followers, line, "followers", warnings, math.nan)
        following = _lenient(_count, following, line, "following", warnings, math.nan)
        statuses = _lenient(_count, statuses, line, "statuses", warnings, math.nan)
        extra = {k: fm.lookup_kept(record, k) for k in fm.keep} if fm.keep else {}
        return post_id, text, author, time, name, bio, repost, created, followers, following, statuses, extra

    def _post_time(self, value: Any, line: int, name: str) -> float:
        return self._time(value, line, name, remember=False)

    def _time(self, value: Any, line: int, name: str, *, remember: bool = True) -> float:
        """``value`` as epoch seconds; a string seen before (an account's creation time, on
        each of its posts) is read once. ``remember=False`` for post times, rarely repeated."""
        if remember and type(value) is str:
            found = self._times.get(value)
            if found is not None:
                return found
        try:
            seconds = parse_time(value, self.tz)
        except ValueError as exc:
            raise InputError(str(exc), line=line, field=name) from None
        if remember and type(value) is str:
            if len(self._times) >= _TIME_CACHE:
                self._times.clear()
            self._times[value] = seconds
        return seconds

    @staticmethod
    def _decode(line: int, payload: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
        if not isinstance(payload, bytes):
            if not isinstance(payload, Mapping):
                raise InputError(f"expected a record (mapping), got {type(payload).__name__}", line=line)
            if CSV_ERROR_KEY in payload:
                raise InputError(str(payload[CSV_ERROR_KEY]), line=line, field=payload.get(CSV_ERROR_FIELD_KEY))
            return payload
        try:
            record = _loads(payload)
        except _JSONDecodeError as exc:
            # Tell invalid UTF-8 apart from bad JSON only on the error path (one decode fewer).
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise InputError(f"invalid UTF-8 at byte {bad.start}", line=line) from None
            raise InputError(f"malformed JSON: {exc}", line=line) from None
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}", line=line)
        return record


_TIME_CACHE = 1 << 16
"""Distinct time strings a parser remembers (then it starts over): bounded memory."""


def _lenient(
    read: Callable[[Any, int, str], Any], value: Any, line: int, name: str, warnings: FieldWarnings | None, missing: Any
) -> Any:
    """``read(value, line, name)``, or ``missing`` when the value is missing or unreadable (an
    unreadable one is counted in ``warnings``)."""
    if value is MISSING:
        return missing
    try:
        return read(value, line, name)
    except InputError as exc:
        if warnings is not None:
            warnings.add(name, line, exc.reason)
        return missing


# ---------------------------------------------------------------- column checks
# Each field has a whole-column check (a few C calls; ``None`` when it cannot vouch for every
# value) and a one-value check (the converted value, or _BAD). They accept only what the
# one-row validation (RowParser._fields) accepts, and convert it the same way; anything else
# is left to that validation, which says what is wrong.

_BAD: Any = object()
_NO_RECORD: dict[str, Any] = {}
"""Stands in for a row that is not a JSON object (it is validated alone)."""


def _screen(
    column: list[Any], whole: Callable[[list[Any]], list[Any] | None], one: Callable[[Any], Any]
) -> tuple[list[Any], list[int]]:
    """The converted column, and the rows whose value the checks could not vouch for (their
    entries are ``None`` placeholders)."""
    values = whole(column)
    if values is not None:
        return values, []
    values = list(map(one, column))
    bad = [i for i, v in enumerate(values) if v is _BAD]
    for i in bad:
        values[i] = None
    return values, bad


def _fetcher(keys: tuple[Any, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function giving a record's values of ``keys`` as a tuple (KeyError if one is absent)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    if keys:
        key = keys[0]
        return lambda record: (record[key],)
    return lambda record: ()


def _identifiers(column: list[Any]) -> list[str] | None:
    if set(map(type, column)) != {str} or not "".join(column).isascii():
        return None
    stripped = list(map(str.strip, column))
    if not all(stripped) or max(map(len, stripped)) > 256:
        return None
    return stripped


def _identifier_or_bad(value: Any) -> Any:
    if value.__class__ is str and value.isascii():
        text = value.strip()
        if text and len(text) <= 256:
            return text
    return _BAD


def _optional_identifiers(column: list[Any]) -> list[Any] | None:
    """The column's identifiers (str, or None where absent), or None if one needs a closer look."""
    kinds = set(map(type, column))
    if kinds == {type(None)}:
        return column
    if kinds == {str}:
        return _identifiers(column) if all(column) else None
    if kinds != {str, type(None)}:
        return None
    present = _identifiers([v for v in column if v is not None])  # (a repost column: mostly None)
    if present is None:
        return None
    given = iter(present)
    return [None if v is None else next(given) for v in column]


def _missing(value: Any) -> bool:
    """What the one-row validation reads as a missing field: None or an empty str."""
    return value is None or (value.__class__ is str and not value)


def _optional_identifier_or_bad(value: Any) -> Any:
    return None if _missing(value) else _identifier_or_bad(value)


def _texts(column: list[Any], limit: int) -> list[str] | None:
    if set(map(type, column)) != {str} or not all(column) or max(map(len, column)) > limit:
        return None
    if any(map(str.isspace, column)) or not _utf8(column):
        return None
    return column


def _text_or_bad(value: Any, limit: int) -> Any:
    if value.__class__ is not str or not value or len(value) > limit or value.isspace():
        return _BAD
    return value if value.isascii() or not _has_surrogates(value) else _BAD


def _optional_texts(column: list[Any]) -> list[str | None] | None:
    kinds = set(map(type, column))
    if kinds == {type(None)}:
        return column
    if not kinds <= {str, type(None)} or not _utf8(list(filter(None, column))):
        return None
    return [v or None for v in column] if "" in column else column  # "" is missing


def _optional_text_or_bad(value: Any) -> Any:
    if _missing(value):
        return None
    if value.__class__ is not str:
        return _BAD
    return value if value.isascii() or not _has_surrogates(value) else _BAD


def _utf8(texts: list[str]) -> bool:
    """No lone surrogates (invalid UTF-8 carried through by ``surrogateescape``) in ``texts``."""
    joined = "".join(texts)
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _counts(column: list[Any]) -> list[float] | None:
    if not set(map(type, column)) <= {int, float}:
        return None
    try:
        values = np.array(column, dtype=np.float64)
    except OverflowError:
        return None
    if not (np.isfinite(values).all() and (values >= 0).all() and (values < _HUGE_FLOAT).all()):
        return None  # (an int near 2**1023 may round up to it: the one-value check decides)
    return values.tolist()


def _count_or_bad(value: Any) -> Any:
    if _missing(value):
        return math.nan
    kind = value.__class__
    if (kind is float and math.isfinite(value) and value >= 0) or (kind is int and 0 <= value < _HUGE):
        return float(value)
    if kind is str:  # "1.2万", "3,456": read here, so that a column of them needs no one-row check
        try:
            return parse_count(value)
        except ValueError:
            pass
    return _BAD


def _text_field(value: Any, line: int, name: str) -> str | None:
    """An optional free-text field (name, bio): a string without invalid UTF-8, or None."""
    if value is MISSING:
        return None
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {type(value).__name__}", line=line, field=name)
    if not value.isascii() and _has_surrogates(value):
        raise InputError("invalid UTF-8", line=line, field=name)
    return value


_ABSENT = object()
"""A key no record has: fields outside the map, and fields read by path, fetch it."""


def _plan(fm: FieldMap) -> tuple[tuple[Any, ...], tuple[tuple[int, tuple[tuple[str, ...], ...]], ...]]:
    """How to read the fields of :data:`~spamflood.posts.POST_FIELDS`: the top-level key of each
    (``_ABSENT`` when it has none), and the position and path alternatives of those read by a
    dotted path or alternatives."""
    keys: list[Any] = []
    paths: list[tuple[int, tuple[tuple[str, ...], ...]]] = []
    for at, name in enumerate(POST_FIELDS):
        key = fm.simple_keys.get(name)
        keys.append(_ABSENT if key is None else key)
        alternatives = fm.compiled(name)
        if key is None and alternatives is not None:
            paths.append((at, alternatives))
    return tuple(keys), tuple(paths)


def _identifier(value: Any, line: int, name: str) -> str:
    if type(value) is str and value.isascii():  # the common case: no surrogates possible
        text = value.strip()
        if text and len(text) <= 256:
            return text
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"expected a string or integer, got {type(value).__name__}", line=line, field=name)
    text = str(value).strip()
    if not text:
        raise InputError("missing or empty", line=line, field=name)
    if len(text) > 256:
        raise InputError(f"identifier of {len(text)} characters is too long (limit 256)", line=line, field=name)
    if _has_surrogates(text):
        raise InputError("invalid UTF-8", line=line, field=name)
    return text


_HUGE = 2**1023
"""Integers from here on do not fit a float (they cannot be counts anyway)."""
_HUGE_FLOAT = float(_HUGE)


def _count(value: Any, line: int, name: str) -> float:
    kind = type(value)
    if (kind is float and value >= 0 and math.isfinite(value)) or (kind is int and 0 <= value < _HUGE):
        return float(value)
    if isinstance(value, bool):
        raise InputError("expected a number, got bool", line=line, field=name)
    if isinstance(value, int) and value >= _HUGE:
        raise InputError(f"number too large: {value.bit_length()} bits", line=line, field=name)
    if isinstance(value, str):
        try:
            return parse_count(value)
        except ValueError as exc:
            raise InputError(str(exc), line=line, field=name) from None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InputError(f"expected a non-negative number, got {value!r}", line=line, field=name)
    return float(value)
