"""Turn one raw input row into a validated :class:`~spamflood.posts.Post`, or say why not.

Readers hand over *raw rows*: the 1-based line (or row) number and a payload, either the
undecoded bytes of a JSONL line or an already-parsed mapping (CSV, Parquet, DataFrame, dicts).
:class:`RowParser` does all validation in one place so every input format rejects the same
things with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

try:  # orjson is a declared dependency; the fallback keeps a broken install usable.
    import orjson

    _loads = orjson.loads
    _JSONDecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover
    import json

    _loads = json.loads
    _JSONDecodeError = ValueError

from spamflood.errors import InputError
from spamflood.io.fieldmap import MISSING, FieldMap
from spamflood.io.timestamps import parse_time, resolve_tz
from spamflood.posts import ACCOUNT_NUMBER_FIELDS, ACCOUNT_TEXT_FIELDS, Post

__all__ = ["DEFAULT_MAX_TEXT_CHARS", "RawRow", "Reject", "RowParser"]

DEFAULT_MAX_TEXT_CHARS = 20_000
"""Longer texts are rejected as oversized (a post, not a book; protects memory and speed)."""

RawRow = tuple[int, "bytes | Mapping[str, Any]"]

CSV_ERROR_KEY = "\x00csv_error"
"""Key under which a CSV reader passes a row it could not split (value: the reason)."""
CSV_RAW_KEY = "\x00csv_raw"
"""Key under which it passes that row's raw values."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that could not be scored: where, what, and the raw input, for the rejects file."""

    line: int
    field: str | None
    reason: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason, "raw": self.raw}

    def message(self) -> str:
        return str(InputError(self.reason, line=self.line, field=self.field))


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

    def parse_many(self, rows: Iterable[RawRow]) -> tuple[list[Post], list[Reject]]:
        posts: list[Post] = []
        rejects: list[Reject] = []
        for line, payload in rows:
            try:
                posts.append(self.parse(line, payload))
            except InputError as exc:
                rejects.append(Reject(line, exc.field, exc.reason, raw_text(payload)))
        return posts, rejects

    def parse(self, line: int, payload: bytes | Mapping[str, Any]) -> Post:
        """One row as a Post; raises :class:`InputError` naming the line and field."""
        record = self._decode(line, payload)
        fm = self.field_map
        required = fm.required

        def get(name: str) -> Any:
            value = fm.lookup(record, name)
            if value is MISSING and name in required:
                raise InputError("missing or empty", line=line, field=name)
            return value

        post_id = _identifier(get("id"), line, "id")
        text = get("text")
        if not isinstance(text, str):
            raise InputError(f"expected a string, got {type(text).__name__}", line=line, field="text")
        if _has_surrogates(text):
            raise InputError("invalid UTF-8 in text", line=line, field="text")
        if not text.strip():
            raise InputError("empty text", line=line, field="text")
        if len(text) > self.max_text_chars:
            raise InputError(
                f"oversized text: {len(text)} characters, the limit is {self.max_text_chars} (--max-text)",
                line=line,
                field="text",
            )
        author = get("author")
        author = post_id if author is MISSING else _identifier(author, line, "author")
        raw_time = get("time")
        if raw_time is MISSING:
            time = math.nan
        else:
            try:
                time = parse_time(raw_time, self.tz)
            except ValueError as exc:
                raise InputError(str(exc), line=line, field="time") from None

        optional: dict[str, Any] = {}
        for name in ACCOUNT_TEXT_FIELDS:
            value = fm.lookup(record, name)
            if value is MISSING:
                continue
            if name == "repost_of":
                optional[name] = _identifier(value, line, name)
            elif isinstance(value, str):
                if _has_surrogates(value):
                    raise InputError("invalid UTF-8", line=line, field=name)
                optional[name] = value
            else:
                raise InputError(f"expected a string, got {type(value).__name__}", line=line, field=name)
        for name in ACCOUNT_NUMBER_FIELDS:
            value = fm.lookup(record, name)
            if value is MISSING:
                continue
            if name == "author_created":
                try:
                    optional[name] = parse_time(value, self.tz)
                except ValueError as exc:
                    raise InputError(str(exc), line=line, field=name) from None
            else:
                optional[name] = _count(value, line, name)
        extra = {k: fm.lookup_kept(record, k) for k in fm.keep}
        return Post(id=post_id, text=text, author=author, time=time, line=line, extra=extra, **optional)

    @staticmethod
    def _decode(line: int, payload: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
        if not isinstance(payload, bytes):
            if not isinstance(payload, Mapping):
                raise InputError(f"expected a record (mapping), got {type(payload).__name__}", line=line)
            if CSV_ERROR_KEY in payload:
                raise InputError(str(payload[CSV_ERROR_KEY]), line=line)
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


def _identifier(value: Any, line: int, name: str) -> str:
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


def _count(value: Any, line: int, name: str) -> float:
    if isinstance(value, bool):
        raise InputError("expected a number, got bool", line=line, field=name)
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").strip())
        except ValueError:
            raise InputError(f"expected a number, got {value!r}", line=line, field=name) from None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InputError(f"expected a non-negative number, got {value!r}", line=line, field=name)
    return float(value)
