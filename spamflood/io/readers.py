"""Readers: any supported input as chunks of raw rows ``(line, payload)``.

Readers do no validation (that is :class:`~spamflood.io.rows.RowParser`'s one job); they only
split the input into rows and number them, so that validation can run in worker processes.
JSONL payloads stay undecoded bytes for that reason. Line numbers are 1-based physical lines
for JSONL and CSV (the line a CSV record starts on) and 1-based row numbers for Parquet and
in-memory data.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from spamflood.errors import ConfigError
from spamflood.io.rows import CSV_ERROR_KEY, CSV_RAW_KEY, RawRow

__all__ = ["FORMATS", "JsonlSpan", "ReadStats", "detect_format", "iter_chunks", "jsonl_spans"]

FORMATS = ("jsonl", "csv", "tsv", "parquet")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
DEFAULT_CHUNK_ROWS = 20_000


@dataclass
class ReadStats:
    """What a reader saw besides rows: blank lines it skipped (they hold no post)."""

    blank_lines: int = 0


def detect_format(path: str | Path, given: str | None = None) -> str:
    """The input/output format from ``given`` or from the file extension (``.gz`` allowed)."""
    if given:
        if given not in FORMATS:
            raise ConfigError(f"Unknown format '{given}'. Known formats: {', '.join(FORMATS)}.")
        return given
    if str(path) == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    raise ConfigError(
        f"Cannot tell the format of '{path}' from its extension; pass --format ({', '.join(FORMATS)})."
    )


def _open_binary(path: str | Path) -> IO[bytes]:
    if str(path) == "-":
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"Input file '{path}' does not exist.")
    if p.suffix.lower() == ".gz":
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return open(p, "rb")


def iter_chunks(
    source: Any,
    *,
    fmt: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    stats: ReadStats | None = None,
) -> Iterator[list[RawRow]]:
    """Chunks of raw rows from a path (or ``-`` for stdin), a DataFrame, or an iterable of dicts."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1. Got {chunk_rows} instead.")
    stats = stats if stats is not None else ReadStats()
    if isinstance(source, (str, Path)):
        kind = detect_format(source, fmt)
        if kind == "jsonl":
            rows: Iterable[RawRow] = _jsonl_rows(source, stats)
        elif kind in ("csv", "tsv"):
            rows = _csv_rows(source, "\t" if kind == "tsv" else ",")
        else:
            yield from _parquet_chunks(source, chunk_rows)
            return
    elif _is_dataframe(source):
        rows = _frame_rows(source)
    else:
        rows = _record_rows(source)
    chunk: list[RawRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class JsonlSpan:
    """The lines of a JSONL file between two byte offsets, numbered from ``first_line``: a
    chunk that a worker process reads itself, so that the raw lines never pass through the
    parent process (reading and pickling them there cost the parent as much CPU as a worker)."""

    path: str
    start: int
    stop: int
    first_line: int
    lines: int = 0
    """Lines in the span (blank ones included): its rows are numbered ``first_line`` up to
    ``first_line + lines - 1``."""

    def rows(self) -> tuple[list[RawRow], int]:
        """The span's rows ``(line, payload)`` as :func:`iter_chunks` gives them (payloads keep
        their line ending), and how many blank lines it skipped."""
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            data = handle.read(self.stop - self.start)
        rows: list[RawRow] = []
        blank = 0
        for number, line in enumerate(io.BytesIO(data), start=self.first_line):  # splits on b"\n" only
            if line.strip():
                rows.append((number, line))
            else:
                blank += 1
        return rows, blank


def jsonl_spans(path: str | Path, *, rows_per_span: int = DEFAULT_CHUNK_ROWS) -> Iterator[JsonlSpan]:
    """A plain (not compressed) JSONL file as spans of about ``rows_per_span`` lines each, cut
    at line ends; the parent only finds the cuts and counts line ends (C speed, one buffer at a
    time)."""
    if rows_per_span < 1:
        raise ValueError(f"rows_per_span must be at least 1. Got {rows_per_span} instead.")
    p = Path(path)
    with _open_binary(p) as handle:  # read, not mapped: mapped pages would count in this process's RSS
        sample = handle.read(1 << 20)
        line_bytes = max(1, len(sample) // max(1, sample.count(b"\n")))
        span_bytes = max(1 << 16, rows_per_span * line_bytes)
        handle.seek(0)
        start, line = 0, 1
        while block := handle.read(span_bytes):
            if not block.endswith(b"\n"):
                block += handle.readline()  # on to the end of the line (or of the file)
            ends = block.count(b"\n")
            lines = ends + (not block.endswith(b"\n"))  # the last line may lack its line end
            yield JsonlSpan(str(p), start, start + len(block), line, lines)
            line += ends
            start += len(block)


def _jsonl_rows(path: str | Path, stats: ReadStats) -> Iterator[RawRow]:
    handle = _open_binary(path)
    try:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                stats.blank_lines += 1
                continue
            yield number, line
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _csv_rows(path: str | Path, delimiter: str) -> Iterator[RawRow]:
    csv.field_size_limit(2**31 - 1)
    binary = _open_binary(path)
    # surrogateescape keeps invalid UTF-8 bytes visible (as lone surrogates) instead of failing
    # the whole file; RowParser rejects the rows that carry them.
    text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [h.lstrip("\ufeff").strip() for h in header]
        width = len(header)
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, {CSV_ERROR_KEY: f"unreadable CSV: {exc}"}
                start = reader.line_num + 1
                continue
            line = start
            start = reader.line_num + 1
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                yield line, {
                    CSV_ERROR_KEY: f"row has {len(values)} fields but the header has {width}",
                    CSV_RAW_KEY: values,
                }
                continue
            yield line, dict(zip(header, values))
    finally:
        text.detach()
        if binary is not sys.stdin.buffer:
            binary.close()


def _parquet_chunks(path: str | Path, chunk_rows: int) -> Iterator[list[RawRow]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("Reading Parquet needs pyarrow: pip install 'spamflood[parquet]'.") from None
    if not Path(path).exists():
        raise ConfigError(f"Input file '{path}' does not exist.")
    try:
        pfile = pq.ParquetFile(str(path))
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise ConfigError(f"'{path}' is not a readable Parquet file: {exc}") from None
    number = 0
    for batch in pfile.iter_batches(batch_size=chunk_rows):
        rows = batch.to_pylist()
        yield [(number + i + 1, row) for i, row in enumerate(rows)]
        number += len(rows)


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "to_dict")


def _frame_rows(frame: Any) -> Iterator[RawRow]:
    columns = [str(c) for c in frame.columns]
    for number, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        yield number, {c: _frame_value(v) for c, v in zip(columns, values)}


def _frame_value(value: Any) -> Any:
    # pandas gives NaN/NaT/None for missing cells and Timestamps for datetimes.
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if type(value).__name__ in ("NaTType",):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _record_rows(records: Iterable[Any]) -> Iterator[RawRow]:
    from spamflood.posts import Post

    for number, record in enumerate(records, start=1):
        if isinstance(record, Post):
            record = {
                "id": record.id,
                "text": record.text,
                "author": record.author,
                "time": record.time,
                "author_name": record.author_name,
                "author_bio": record.author_bio,
                "repost_of": record.repost_of,
                "author_created": None if record.author_created != record.author_created else record.author_created,
                "followers": None if record.followers != record.followers else record.followers,
                "following": None if record.following != record.following else record.following,
                "statuses": None if record.statuses != record.statuses else record.statuses,
                **record.extra,
            }
        yield number, record
