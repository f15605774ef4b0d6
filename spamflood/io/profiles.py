"""Reading a profiles-only export: one row per account, no post text.

The rows come from the same readers as posts (:func:`~spamflood.io.readers.iter_chunks`: JSONL,
CSV, TSV, Parquet, frames, records) and the fields from the same :class:`FieldMap`
(``--map author=id,author_name=name,followers=followers_count``); only ``author`` is required.
Here the profile *is* the data, so a value that is present but cannot be read (a follower
count ``"many"``, a creation time ``"yesterday"``) rejects its row, naming the line and the
field, where a post would keep going without it; so does a second row for an account already
read. A missing value (absent key, JSON null, empty CSV cell, the ``NULL`` of a database dump)
is NaN or ``None``. Every row is either in the table or in the rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import numpy as np

from spamflood.accounts.table import AccountTable
from spamflood.errors import InputError
from spamflood.io.fieldmap import MISSING, FieldMap
from spamflood.io.readers import ReadStats, iter_chunks
from spamflood.io.rows import Reject, RowParser, _count, _identifier, _text_field, raw_text
from spamflood.io.timestamps import resolve_tz

__all__ = ["PROFILE_FIELDS", "ProfileRead", "read_profiles"]

PROFILE_FIELDS: tuple[str, ...] = ("author", "author_name", "author_bio", "author_created", "followers", "following", "statuses")
"""The fields a profile row is read for (``author`` required, the rest optional)."""

_NULLS = frozenset({"NULL", "null"})
"""Literal missing values of database dumps (CSV cannot say null otherwise)."""


class ProfileRead:
    """The outcome of :func:`read_profiles`: the accounts, the rejected rows, what reading saw."""

    __slots__ = ("read", "rejects", "rows_read", "table")

    def __init__(self, table: AccountTable, rejects: list[Reject], rows_read: int, read: ReadStats) -> None:
        self.table = table
        self.rejects = rejects
        self.rows_read = rows_read
        self.read = read

    def __repr__(self) -> str:
        return f"ProfileRead(accounts={len(self.table)}, rejects={len(self.rejects)})"


def read_profiles(
    source: Any,
    *,
    field_map: FieldMap | None = None,
    fmt: str | None = None,
    tz: str | tzinfo = "UTC",
    strict: bool = False,
) -> ProfileRead:
    """Read ``source`` (a path, ``-``, a DataFrame or an iterable of dicts) as one profile a
    row. ``strict``: the first bad row raises :class:`InputError` instead of being rejected."""
    fm = field_map or FieldMap()
    if fm.compiled("author") is None:
        raise InputError("a profiles-only input needs the account's id: add --map author=<column>")
    zone = resolve_tz(tz) if isinstance(tz, str) else tz
    times = RowParser(fm, tz=zone)  # its time reading, with the cache for repeated strings
    present = [name for name in PROFILE_FIELDS if fm.compiled(name) is not None]
    stats = ReadStats()
    columns: dict[str, list[Any]] = {name: [] for name in PROFILE_FIELDS}
    lines: list[int] = []
    seen: dict[str, int] = {}
    rejects: list[Reject] = []
    rows_read = 0
    for chunk in iter_chunks(source, fmt=fmt, stats=stats, field_map=_header_map(fm)):
        for line, payload in chunk:
            rows_read += 1
            try:
                values = _profile(fm, times, line, payload, present)
                first = seen.get(values["author"])
                if first is not None:
                    raise InputError(f"duplicate account '{values['author']}' (first on line {first})", line=line, field="author")
            except InputError as exc:
                if strict:
                    raise
                rejects.append(Reject(line, exc.field, exc.reason, raw_text(payload)))
                continue
            seen[values["author"]] = line
            lines.append(line)
            for name in PROFILE_FIELDS:
                columns[name].append(values.get(name))
    if stats.truncated is not None and strict:
        raise InputError(stats.truncated.message())
    mapped = set(present)

    def numbers(name: str) -> list[float] | None:
        return [np.nan if v is None else v for v in columns[name]] if name in mapped else None

    table = AccountTable.from_profiles(
        columns["author"],
        author_name=columns["author_name"] if "author_name" in mapped else None,
        author_bio=columns["author_bio"] if "author_bio" in mapped else None,
        author_created=numbers("author_created"),
        followers=numbers("followers"),
        following=numbers("following"),
        statuses=numbers("statuses"),
        lines=lines,
    )
    return ProfileRead(table, rejects, rows_read, stats)


def _header_map(fm: FieldMap) -> FieldMap:
    """The map a CSV header is checked against: the account column is the one it must have."""
    return FieldMap(
        paths={"id": fm.paths["author"], "text": fm.paths["author"], "author": fm.paths["author"]},
        required=("id", "text", "author"),
    )


def _profile(fm: FieldMap, times: RowParser, line: int, payload: bytes | Mapping[str, Any], present: list[str]) -> dict[str, Any]:
    """The validated fields of one profile row (a missing optional one left out)."""
    record = RowParser._decode(line, payload)
    out: dict[str, Any] = {}
    for name in present:
        value = fm.lookup(record, name)
        if value is MISSING or (type(value) is str and (not value.strip() or value.strip() in _NULLS)):
            if name == "author":
                raise InputError("missing or empty", line=line, field="author")
            continue
        if name == "author":
            out[name] = _identifier(value, line, name)
        elif name in ("author_name", "author_bio"):
            out[name] = _text_field(value, line, name)
        elif name == "author_created":
            out[name] = times._time(value, line, name)
        else:
            out[name] = _count(value, line, name)
    return out
