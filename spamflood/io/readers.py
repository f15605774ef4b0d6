"""Readers: any supported input as chunks of raw rows ``(line, payload)``.

Readers do no validation (that is :class:`~spamflood.io.rows.RowParser`'s one job); they only
split the input into rows and number them, so that validation can run in worker processes.
JSONL payloads stay undecoded bytes for that reason. Line numbers are 1-based physical lines
for JSONL and CSV (the line a CSV record starts on), 1-based element numbers for a JSON array,
and 1-based row numbers for Parquet and in-memory data.

They also say what else they saw in :class:`ReadStats`, and refuse loudly what they cannot
read as rows: a compressed file that breaks off ends after its last complete line (the rest
is counted as lost, not read as a broken row), a UTF-8 byte order mark is dropped, a JSON array
is read as records, and so is a JSON object of records keyed by id (each with its key as
``@key``), other pretty-printed JSON and a CSV header without the mapped columns are
refused with what to do, and a CSV separated by ``;`` or tabs is read as such.

Plain inputs (the ``lines`` format, a CSV without a header) are read as a
:class:`~spamflood.io.layout.Layout` says, and several :class:`~spamflood.io.layout.InputFile`
as one feed: their rows are numbered on, file after file, and :meth:`ReadStats.place` gives a
reject back its own file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from spamflood.errors import ConfigError, InputError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.layout import ROW_KEY, InputFile, Layout
from spamflood.io.rows import (
    CSV_ERROR_KEY,
    CSV_RAW_KEY,
    FieldWarnings,
    RawRow,
    Reject,
    _JSONDecodeError,
    _loads,
)

__all__ = [
    "FORMATS",
    "JsonlSpan",
    "ReadStats",
    "Truncated",
    "detect_format",
    "iter_chunks",
    "json_layout",
    "jsonl_spans",
]

FORMATS = ("jsonl", "csv", "tsv", "parquet")
"""The formats read and written."""
INPUT_FORMATS = (*FORMATS, "lines")
"""The formats read: also ``lines``, plain text of one record a line (see :class:`~spamflood.io.layout.Layout`)."""
KEY_FIELD = "@key"
"""The field that holds each record's key in a JSON object of records (``{"<id>": {...}, ...}``)."""
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "lines",
}
DEFAULT_CHUNK_ROWS = 20_000


_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 20
_SNIFF = 1 << 16
"""Bytes at the start of an input that its layout is told from."""
_JSON_ARRAY_LIMIT = 1 << 29
"""Largest JSON array read (it is read whole, and its records take several times its size)."""


@dataclass(frozen=True)
class Truncated:
    """Where an input broke off: a compressed file that ends early or is corrupt, a Parquet row
    group that cannot be read. The rows up to ``line`` were read; what follows is lost."""

    path: str
    line: int
    """The last complete line (row, for Parquet) read; 0 when there was none."""
    reason: str
    offset: int | None = None
    """Bytes of (decompressed) content up to the end of that line."""
    unread: int | None = None
    """Bytes after that line that were decompressed but make no complete line (not read as a row)."""
    unit: str = "line"

    def message(self) -> str:
        where = f"after {self.unit} {self.line:,}" if self.line else f"before its first {self.unit}"
        if self.offset is not None:
            where += f" (byte {self.offset:,} of its content)"
        lost = "what follows is lost"
        if self.unread:
            lost = f"{self.unread:,} bytes after {self.unit} {self.line:,} unreadable and " + lost
        return f"input truncated: '{self.path}' breaks off {where}: {self.reason}; {lost}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadStats:
    """What reading saw besides rows: blank lines skipped (they hold no post), where the input
    broke off, optional values read as missing, and how the input was read when its shape asked
    for it (a JSON array, a ``;``-separated CSV)."""

    blank_lines: int = 0
    truncated: Truncated | None = None
    unreadable: FieldWarnings = field(default_factory=FieldWarnings)
    notes: list[str] = field(default_factory=list)
    files: list[tuple[int, str]] = field(default_factory=list)
    """With several inputs: ``(rows numbered before it, path)`` of each file, in reading order."""

    def where(self, line: int) -> tuple[str | None, int]:
        """The file and line of row ``line`` (``None`` and ``line`` when one input was read)."""
        if not self.files:
            return None, line
        starts = [start for start, _ in self.files]
        offset, path = self.files[max(0, bisect_left(starts, line) - 1)]  # the last file starting before it
        return path, line - offset

    def place(self, reject: Reject) -> Reject:
        """``reject`` with its own file and line, when several inputs were read as one (and
        so the line a repeated id was first seen on)."""
        if not self.files or reject.file is not None:
            return reject
        path, line = self.where(reject.line)
        reason = _FIRST_SEEN.sub(lambda m: "first seen in '{}', line {}".format(*self.where(int(m.group(1)))), reject.reason)
        return replace(reject, line=line, file=path, reason=reason)


_FIRST_SEEN = re.compile(r"first seen on line (\d+)")


def detect_format(path: str | Path, given: str | None = None, *, output: bool = False) -> str:
    """The input format (``output``: the output format) from ``given`` or from the file
    extension (``.gz`` allowed). Only inputs can be ``lines``."""
    known = FORMATS if output else INPUT_FORMATS
    if given:
        if given not in known:
            raise ConfigError(f"Unknown format '{given}'. Known formats: {', '.join(known)}.")
        return given
    if str(path) == "-":
        return "jsonl"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and _EXTENSIONS.get(suffixes[-1]) in known:
        return _EXTENSIONS[suffixes[-1]]
    raise ConfigError(
        f"Cannot tell the format of '{path}' from its extension; pass --format ({', '.join(known)})."
    )


def _open_binary(path: str | Path, buffering: int = -1) -> IO[bytes]:
    if str(path) == "-":
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"Input file '{path}' does not exist.")
    if _compressed(p):
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return open(p, "rb", buffering=buffering)


def _compressed(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".gz"


_BREAKS = (EOFError, zlib.error, gzip.BadGzipFile)
"""What a compressed stream raises where it breaks off (truncated) or is corrupt."""


class _Guarded(io.RawIOBase):
    """An input's bytes handed on a complete line at a time, without a leading byte order mark,
    ending cleanly where a compressed input breaks off: the bytes after its last complete line
    are recorded in ``stats.truncated``, not handed on (a broken last line is no row)."""

    def __init__(self, inner: IO[bytes], path: str, stats: ReadStats) -> None:
        self._inner = inner
        self._read = getattr(inner, "read1", inner.read)
        self._path = path
        self._stats = stats
        self._ready = memoryview(b"")
        self._tail: list[bytes] = []  # bytes after the last line end read (no line end in them)
        self._lines = 0
        self._offset = 0
        self._started = False
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._ready and not self._done:
            self._fill()
        n = min(len(buffer), len(self._ready))
        buffer[:n] = self._ready[:n]
        self._ready = self._ready[n:]
        return n

    def _fill(self) -> None:
        try:
            block = self._read(_BLOCK)
        except _BREAKS as exc:
            unread = sum(map(len, self._tail))
            self._stats.truncated = Truncated(self._path, self._lines, _break_reason(exc), self._offset, unread)
            self._tail, self._done = [], True
            return
        if not self._started:  # a byte order mark is no part of the first row
            head = b"".join(self._tail) + block
            if block and len(head) < len(_BOM) and _BOM.startswith(head):  # wait for the rest of it
                self._tail = [head]
                return
            self._started = True
            if head.startswith(_BOM):
                head = head[len(_BOM) :]
                self._offset = len(_BOM)
            self._tail = []
            if block and not head:  # the mark alone so far
                return
            block = head
        if not block:  # the end: a last line without a line end is a line
            self._ready, self._tail, self._done = memoryview(b"".join(self._tail)), [], True
            return
        cut = block.rfind(b"\n") + 1
        if not cut:
            self._tail.append(block)
            return
        data = b"".join(self._tail) + block[:cut] if self._tail else block[:cut]  # (all of it: no copy)
        self._tail = [block[cut:]] if cut < len(block) else []
        self._lines += block.count(b"\n", 0, cut)
        self._offset += len(data)
        self._ready = memoryview(data)

    def close(self) -> None:
        if not self.closed and self._inner is not sys.stdin.buffer:
            self._inner.close()
        super().close()


def _break_reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the compressed data ends early (the file was cut short)"
    return f"corrupt compressed data ({exc})"


def _open_stream(path: str | Path, stats: ReadStats) -> io.BufferedReader:
    """``path`` (``-``: stdin) as a buffered binary stream without a leading byte order mark,
    whose ``peek`` shows the start of the input: a compressed file or stdin through
    :class:`_Guarded`; a plain file as it is (it cannot break off, and a file object iterates
    its lines twice as fast)."""
    if str(path) == "-" or _compressed(path):
        return io.BufferedReader(_Guarded(_open_binary(path), str(path), stats), buffer_size=_BLOCK)
    handle = _open_binary(path, buffering=_SNIFF)
    if handle.read(len(_BOM)) != _BOM:
        handle.seek(0)
    return handle  # type: ignore[return-value]


def iter_chunks(
    source: Any,
    *,
    fmt: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    stats: ReadStats | None = None,
    field_map: FieldMap | None = None,
    layout: Layout | None = None,
) -> Iterator[list[RawRow]]:
    """Chunks of raw rows from a path (or ``-`` for stdin), an :class:`InputFile` or a list of
    them (read as one feed), a DataFrame, or an iterable of dicts.

    ``field_map``: the map the rows will be read with; a CSV header without a column for one
    of its required fields is refused (:class:`~spamflood.errors.InputError`) before any row.
    ``layout``: how plain inputs read (a ``lines`` file, a CSV without a header).
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1. Got {chunk_rows} instead.")
    stats = stats if stats is not None else ReadStats()
    layout = layout if layout is not None else Layout()
    if isinstance(source, (str, Path)):
        kind = detect_format(source, fmt)
        layout.check(kind)
        if kind == "parquet":
            yield from _parquet_chunks(source, chunk_rows, stats)
            return
        rows: Iterable[RawRow] = _file_rows(source, kind, stats, field_map, layout)
    elif isinstance(source, InputFile) or (isinstance(source, (list, tuple)) and source and all(isinstance(s, InputFile) for s in source)):
        rows = _inputs_rows([source] if isinstance(source, InputFile) else list(source), fmt, chunk_rows, stats, field_map, layout)
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


def _file_rows(path: str | Path, kind: str, stats: ReadStats, field_map: FieldMap | None, layout: Layout) -> Iterator[RawRow]:
    if kind == "jsonl":
        return _jsonl_rows(path, stats)
    if kind == "lines":
        if field_map is not None:
            _check_header(list(layout.lines.names), field_map, path, "", given="--line-format")
        return layout.rows(_text_lines(path, stats), str(path))
    return _csv_rows(path, "\t" if kind == "tsv" else ",", stats, field_map, layout.columns)


def _inputs_rows(
    files: list[InputFile], fmt: str | None, chunk_rows: int, stats: ReadStats, field_map: FieldMap | None, layout: Layout
) -> Iterator[RawRow]:
    """The rows of several files as one feed, numbered on file after file (``stats.files``
    says where each starts), each with its file's constant fields."""
    kinds = [detect_format(f.path, fmt) for f in files]  # every format known before the first row
    for kind in kinds:
        layout.check(kind)
    offset = 0
    for file, kind in zip(files, kinds):
        stats.files.append((offset, file.path))
        last = 0
        if kind == "parquet":
            rows: Iterable[RawRow] = (row for chunk in _parquet_chunks(file.path, chunk_rows, stats) for row in chunk)
        else:
            rows = _file_rows(file.path, kind, stats, field_map, layout)
        for line, payload in rows:
            last = line
            yield offset + line, _with_fields(payload, file.fields)
        offset += last


def _with_fields(payload: Any, fields: Any) -> Any:
    if not fields:
        return payload
    if isinstance(payload, bytes):
        try:
            payload = _loads(payload)
        except _JSONDecodeError:
            return payload  # rejected as it is
    if not isinstance(payload, dict) or CSV_ERROR_KEY in payload:
        return payload
    return {**payload, **fields}


def _text_lines(path: str | Path, stats: ReadStats) -> Iterator[tuple[int, str]]:
    """The lines of a plain-text file, numbered from 1, without their line ends (``\\n`` or
    ``\\r\\n``); blank lines are skipped (counted in ``stats``). Invalid UTF-8 is kept
    visible (as lone surrogates) for the row parser to reject."""
    with _open_stream(path, stats) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="\n")
        for number, line in enumerate(text, start=1):
            line = line.removesuffix("\n").removesuffix("\r")
            if not line.strip():
                stats.blank_lines += 1
                continue
            yield number, line


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
        if self.start == 0 and data.startswith(_BOM):
            data = data[len(_BOM) :]
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
    time). Only for a file of JSON Lines (see :func:`json_layout`)."""
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


def json_layout(path: str | Path) -> str:
    """How a JSON input holds its records, told from its first bytes: ``"lines"`` (JSON Lines,
    one object a line), ``"array"`` (one JSON array) or ``"pretty"`` (objects spread over
    several lines, which cannot be read line by line)."""
    with _open_stream(path, ReadStats()) as stream:
        return _layout(stream.peek(_SNIFF)[:_SNIFF])


def _layout(head: bytes) -> str:
    text = head.lstrip()
    if text[:1] not in (b"[", b"{"):
        return "lines"
    first, _, rest = text.partition(b"\n")
    following = next((line for line in rest.split(b"\n", 16)[:16] if line.strip()), None)
    if _parses(first):  # a whole value on the first line: JSON Lines, unless it is the only line
        return "array" if text[:1] == b"[" and following is None else "lines"
    if text[:1] == b"[":
        return "array"
    opens = first.rstrip()[-1:] in (b"{", b"[")  # as a pretty printer ends the first line
    if opens and (first.strip() == b"{" or (following is not None and following[:1] in (b" ", b"\t"))):
        return "pretty"
    return "lines"  # a broken first line, say: rejected as such


def _parses(line: bytes) -> bool:
    try:
        _loads(line)
    except _JSONDecodeError:
        return False
    return True


def _jsonl_rows(path: str | Path, stats: ReadStats) -> Iterator[RawRow]:
    with _open_stream(path, stats) as stream:
        layout = _layout(stream.peek(_SNIFF)[:_SNIFF])
        if layout in ("array", "pretty"):
            yield from _json_document_rows(stream, path, stats, pretty=layout == "pretty")
            return
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                stats.blank_lines += 1
                continue
            yield number, line


def _json_document_rows(stream: IO[bytes], path: str | Path, stats: ReadStats, *, pretty: bool) -> Iterator[RawRow]:
    """The elements of a JSON array, or the records of a JSON object keyed by id (each with
    its key as :data:`KEY_FIELD`), as rows numbered from 1 (read whole, so up to 512 MiB).
    Other pretty-printed JSON is refused: its records cannot be told."""
    parts: list[bytes] = []
    size = 0
    while part := stream.read1(_BLOCK):  # type: ignore[attr-defined]
        size += len(part)
        if size > _JSON_ARRAY_LIMIT:
            raise InputError(
                f"'{path}' is a JSON document of more than {_JSON_ARRAY_LIMIT >> 20:,} MiB, too large to read whole. "
                f"Convert it to JSON Lines, which is read as it streams: jq -c '.[]' '{path}' > posts.jsonl"
            )
        parts.append(part)
    try:
        records = _loads(b"".join(parts))
    except _JSONDecodeError as exc:
        if pretty:
            records = None
        else:
            broken = f" ({stats.truncated.message()})" if stats.truncated else ""
            raise InputError(f"'{path}' looks like a JSON array but cannot be read: {exc}{broken}") from None
    if isinstance(records, dict) and records and all(isinstance(v, dict) for v in records.values()):
        stats.notes.append(
            f"'{path}' is a JSON object of {len(records):,} records keyed by id: read as rows (numbered from 1), "
            f"each with its key as '{KEY_FIELD}'"
        )
        yield from enumerate(({**record, KEY_FIELD: key} for key, record in records.items()), start=1)
        return
    if pretty:
        raise InputError(
            f"'{path}' holds pretty-printed JSON (an object spread over several lines), not JSON Lines "
            f"(one object a line). Convert it, e.g. jq -c . '{path}' > posts.jsonl "
            "(jq -c '.data[]' when the posts are a list under \"data\")."
        )
    if not isinstance(records, list):  # "[1] [2]" and the like
        raise InputError(f"'{path}' looks like a JSON array but holds a {type(records).__name__}.")
    stats.notes.append(f"'{path}' is a JSON array: its {len(records):,} elements were read as rows (numbered from 1)")
    yield from enumerate(records, start=1)


_DELIMITERS = (",", "\t", ";", "|")


def _csv_rows(
    path: str | Path, delimiter: str, stats: ReadStats, field_map: FieldMap | None, columns: tuple[str, ...] | None = None
) -> Iterator[RawRow]:
    """Rows of a CSV/TSV, keyed by its header, or by ``columns`` for a file without one (each
    row then also carries ``@row``, where it was read)."""
    csv.field_size_limit(2**31 - 1)
    binary = _open_stream(path, stats)
    # surrogateescape keeps invalid UTF-8 bytes visible (as lone surrogates) instead of failing
    # the whole file; RowParser rejects the rows that carry them.
    text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        if columns is None:
            delimiter = _sniff_delimiter(binary.peek(_SNIFF)[:_SNIFF], delimiter, path, stats)
        reader = csv.reader(text, delimiter=delimiter)
        if columns is None:
            try:
                header = next(reader)
            except StopIteration:
                return
            header = [h.lstrip("\ufeff").strip() for h in header]
        else:
            header = list(columns)
        if field_map is not None:
            _check_header(header, field_map, path, delimiter, given="--columns" if columns is not None else None)
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
            record = dict(zip(header, values))
            if columns is not None:
                record[ROW_KEY] = f"{path}:{line}"
            yield line, record
    finally:
        text.close()


def _sniff_delimiter(head: bytes, delimiter: str, path: str | Path, stats: ReadStats) -> str:
    """``delimiter``, or the one that splits the header line when ``delimiter`` does not (a CSV
    written with ``;`` by a spreadsheet in a comma-decimal locale, a tab-separated ``.csv``)."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    widths = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: widths[d])
    if widths.get(delimiter, 1) > 1 or widths[best] < 2:
        return delimiter
    name = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}
    stats.notes.append(f"'{path}' was read as {name[best]}-separated: its header has no {name[delimiter]}")
    return best


def _check_header(header: list[str], field_map: FieldMap, path: str | Path, delimiter: str, *, given: str | None = None) -> None:
    """Refuse a header (or the fields ``given`` by ``--columns``/``--line-format``) without a
    column for a required field: every row would be rejected."""
    columns = set(header) | ({ROW_KEY} if given else set())
    wanted = {name: [".".join(parts) for parts in field_map.compiled(name) or ()] for name in field_map.required}
    absent = [(name, keys) for name, keys in wanted.items() if not columns.intersection(keys)]
    if not absent:
        return
    expected = ", ".join(name if keys == [name] else f"{name} (column {' or '.join(map(repr, keys))})" for name, keys in absent)
    if given:
        raise InputError(
            f"'{path}': {given} names no field for {expected}; it names {', '.join(map(repr, header))}. "
            f"Name it there, or map the field to one of them (--map {absent[0][0]}=<column>; {ROW_KEY} is where a row was read)."
        )
    found = ", ".join(map(repr, header[:12])) + (", ..." if len(header) > 12 else "")
    tsv = "; a tab-separated file needs --format tsv" if delimiter == "," else ""
    raise InputError(
        f"'{path}', line 1: the header has no column for {expected}; it has {len(header)} "
        f"column{'s' if len(header) > 1 else ''}: {found}. A file without a header line needs one; columns "
        f"with other names need --map (e.g. --map id=<column>,text=<column>) or a --preset{tsv}."
    )


def _parquet_chunks(path: str | Path, chunk_rows: int, stats: ReadStats) -> Iterator[list[RawRow]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("Reading Parquet needs pyarrow: pip install 'spamflood[parquet]'.") from None
    if not Path(path).exists():
        raise ConfigError(f"Input file '{path}' does not exist.")
    try:
        pfile = pq.ParquetFile(str(path))
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        reason = " ".join(str(exc).split())
        raise InputError(f"'{path}' is not a readable Parquet file (truncated or corrupt?): {reason}") from None
    number = 0
    batches = pfile.iter_batches(batch_size=chunk_rows)
    while True:
        try:
            rows = next(batches).to_pylist()
        except StopIteration:
            return
        except Exception as exc:  # a corrupt row group: the rows before it were read
            reason = " ".join(str(exc).split())  # pyarrow's messages span lines
            stats.truncated = Truncated(str(path), number, f"unreadable Parquet data ({reason})", unit="row")
            return
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
