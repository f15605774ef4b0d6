"""Writers: records (dicts) out as JSONL, CSV or Parquet, streamed in chunks.

A file appears whole or not at all (:mod:`spamflood.io.atomic`): it is written beside its
target and renamed into place when the writer closes without error. Standard output (``-``)
is streamed as it is written.

Lists (``labels``, ``reasons``) stay lists in JSONL and Parquet; in CSV they are joined with
``;`` and `` | `` so a spreadsheet shows them in one cell.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

try:
    import orjson

    def _dumps(record: Any) -> bytes:
        return orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)

    _SPLITS = True
    """A JSON array of plain numbers splits on commas into each number's own encoding."""

except ImportError:  # pragma: no cover
    import json

    def _dumps(record: Any) -> bytes:
        return json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")

    _SPLITS = False


from spamflood.errors import ConfigError, SpamfloodError
from spamflood.io.atomic import AtomicOutput
from spamflood.io.readers import detect_format

__all__ = ["RecordWriter", "jsonl_of_columns", "jsonl_of_records", "open_writer", "write_records"]

_LIST_SEPARATORS = {"labels": ";", "reasons": " | "}


class RecordWriter:
    """Write dict records to one file; use as a context manager.

    The file is published when the ``with`` block ends normally (or :meth:`close` is called);
    if the block raises, any previous file is left as it was. A failure to write raises
    :class:`~spamflood.errors.OutputError` naming the file.
    """

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = str(path)
        self.format = detect_format(path, fmt, output=True)
        self.count = 0
        self._output: AtomicOutput | None = None
        self._closed = False
        self._handle: IO[bytes] | None = None
        self._text: io.TextIOWrapper | None = None
        self._csv: Any = None
        self._parquet: Any = None
        if self.format == "parquet" and self.path == "-":
            raise ConfigError("Parquet cannot be written to stdout; give an output file name.")
        if self.path != "-":
            parent = Path(self.path).parent
            if not parent.exists():
                raise ConfigError(f"Output folder '{parent}' does not exist.")

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._finish(error)

    def _file(self) -> IO[bytes]:
        """The temporary file beside the target, created on first use."""
        if self._output is None:
            self._output = AtomicOutput(self.path)
            self._output.open()
        assert self._output.file is not None
        return self._output.file

    def _binary(self) -> IO[bytes]:
        if self._handle is None:
            if self.path == "-":
                self._handle = sys.stdout.buffer
            elif self.path.endswith(".gz"):  # the header names the target, as gzip.open(target) would
                self._handle = gzip.GzipFile(filename=self.path, mode="wb", fileobj=self._file())  # type: ignore[assignment]
            else:
                self._handle = self._file()
        return self._handle  # type: ignore[return-value]

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return
        if self.format == "jsonl":
            self._binary().write(jsonl_of_records(records))
        elif self.format in ("csv", "tsv"):
            self._write_csv(records)
        else:
            self._write_parquet(records)
        self.count += len(records)

    def write_columns(self, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> None:
        """Write rows given as columns of equal length, fields in column order: the same bytes
        as :meth:`write_many` of the rows as dicts. For JSONL each column is encoded in one
        pass and the lines joined in C, so a million rows cost no Python step per row.

        Numeric NumPy columns are written as the Python numbers they hold (float32 widened to
        float64, as ``float()`` does); NaN is ``null``, as ``orjson`` writes a NaN float.
        """
        names = list(columns)
        if not names:
            return
        lengths = {name: len(col) for name, col in columns.items()}
        n = lengths[names[0]]
        if any(length != n for length in lengths.values()):
            raise ValueError(f"write_columns needs columns of one length; got {lengths}")
        if not n:
            return
        if self.format != "jsonl":
            values = [col.tolist() if isinstance(col, np.ndarray) else col for col in columns.values()]
            self.write_many([dict(zip(names, row)) for row in zip(*values)])
            return
        self._binary().write(jsonl_of_columns(columns))
        self.count += n

    def write_parts(self, encode: Callable[[int, int], bytes], n: int, *, jobs: int = 1, step: int = 50_000) -> None:
        """Write rows ``0..n`` of a JSONL file, ``encode(start, stop)`` giving the lines of
        rows ``start:stop`` (called for consecutive slices of at most ``step`` rows).

        With ``jobs > 1`` (and ``fork``), ``jobs - 1`` forked copies of this process encode
        the later shares of the rows into temporary files while this one encodes the first;
        the file gets the same bytes in the same order. Forked copies share the parent's
        memory (nothing is pickled), so ``encode`` may read any result in it.
        """
        if self.format != "jsonl":
            raise ConfigError(f"write_parts writes JSONL; this writer writes {self.format}.")
        handle = self._binary()
        steps = range(0, n, step)
        jobs = min(jobs, len(steps)) if hasattr(os, "fork") else 1
        if jobs <= 1:
            for start in steps:
                handle.write(encode(start, min(start + step, n)))
            self.count += n
            return
        cut = [steps[len(steps) * k // jobs] for k in range(jobs)] + [n]
        # (A child inherits this process's unwritten output buffer, but leaves with os._exit,
        # which writes no buffer: only its own part file is written.)
        children: list[tuple[int, IO[bytes]]] = []
        try:
            try:
                for k in range(1, jobs):
                    part = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the fork
                    pid = os.fork()
                    if pid == 0:  # the child: encode its share, then leave without any cleanup
                        code = 1
                        try:
                            for start in range(cut[k], cut[k + 1], step):
                                part.write(encode(start, min(start + step, cut[k + 1])))
                            part.flush()
                            code = 0
                        except BaseException:
                            traceback.print_exc()
                        finally:
                            os._exit(code)
                    children.append((pid, part))
                for start in range(cut[0], cut[1], step):
                    handle.write(encode(start, min(start + step, cut[1])))
            finally:
                failed = [pid for pid, _ in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
            if failed:
                raise SpamfloodError(f"writing {self.path}: {len(failed)} of the encoding processes failed (see above)")
            for _, written in children:
                written.seek(0)
                shutil.copyfileobj(written, handle, 1 << 20)
        finally:
            for _, written in children:
                written.close()
        self.count += n

    def _write_csv(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self._csv is None:
            self._text = io.TextIOWrapper(self._binary(), encoding="utf-8", newline="")
            self._csv = csv.DictWriter(
                self._text,
                fieldnames=list(records[0]),
                delimiter="\t" if self.format == "tsv" else ",",
                extrasaction="ignore",
            )
            self._csv.writeheader()
        for record in records:
            self._csv.writerow({k: _csv_cell(k, v) for k, v in record.items()})

    def _write_parquet(self, records: Sequence[Mapping[str, Any]]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ConfigError("Writing Parquet needs pyarrow: pip install 'spamflood[parquet]'.") from None
        if self._parquet is None:
            table = pa.Table.from_pylist(list(records))
            self._parquet = pq.ParquetWriter(self._file(), table.schema)
        else:
            table = pa.Table.from_pylist(list(records), schema=self._parquet.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        """Finish the file and publish it (raises :class:`~spamflood.errors.OutputError` if it
        cannot be written; any previous file is then left as it was)."""
        self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        """Close every layer over the file, then publish it if nothing failed (``error`` is
        what stopped the caller, if anything), or discard it."""
        if self._closed:
            return
        self._closed = True
        own: BaseException | None = None
        try:
            if error is None and self._output is None and self.path != "-":
                # An empty result is still a file the caller can read.
                if self.format == "parquet":
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    pq.write_table(pa.table({}), self._file())
                else:
                    self._file()
            self._close_layers(failed=error is not None)
        except BaseException as exc:
            own = exc
        output, self._output = self._output, None
        if output is not None:
            output.finish(error or own)  # raises OutputError naming the file for an OSError
        if own is not None:
            raise own

    def _close_layers(self, *, failed: bool) -> None:
        """Flush and close the Parquet, CSV and gzip writers over the file (after a failure,
        only close them: what they would still write is discarded)."""
        steps: list[Callable[[], object]] = []
        if self._parquet is not None:
            steps.append(self._parquet.close)
        if self._text is not None:
            steps.append(self._text.detach)  # flushes the CSV text into the binary file
        if self._handle is sys.stdout.buffer:
            steps.append(self._handle.flush)
        elif isinstance(self._handle, gzip.GzipFile):
            steps.append(self._handle.close)  # writes the gzip trailer; the file under it stays open
        self._parquet = self._text = self._csv = self._handle = None
        for step in steps:
            if failed:
                with suppress(Exception):
                    step()
            else:
                step()


_NUMBER_TYPES = frozenset({int, float, bool, type(None)})
_BOOLS = (b"false", b"true")
_ESCAPED = re.compile('[\x00-\x1f"\\\\]')
"""What a JSON string must escape (orjson escapes exactly these); other text is copied as UTF-8."""


def jsonl_of_columns(columns: Mapping[str, Sequence[Any] | np.ndarray]) -> bytes:
    """JSONL lines of rows given as columns of equal length, fields in column order (what
    :meth:`RecordWriter.write_columns` writes). Each column is encoded in one pass and the
    lines filled from one bytes template in C, so a million rows cost no Python step per row."""
    template = b""
    fragments: list[list[bytes]] = []
    for k, name in enumerate(columns):
        opening, values, closing = _encode_column(columns[name])
        head = ("{" if k == 0 else ",").encode() + _dumps(name) + b":" + opening
        template += head.replace(b"%", b"%%") + b"%b" + closing.replace(b"%", b"%%")
        fragments.append(values)
    template += b"}\n"
    return b"".join(map(template.__mod__, zip(*fragments)))


def jsonl_of_records(records: Iterable[Mapping[str, Any]]) -> bytes:
    """JSONL lines of dict records (what :meth:`RecordWriter.write_many` writes)."""
    return b"".join(_dumps(r) + b"\n" for r in records)


def _encode_column(column: Sequence[Any] | np.ndarray) -> tuple[bytes, list[bytes], bytes]:
    """Each value of ``column`` in JSON (what :func:`_dumps` gives for it), as constant bytes
    before every value, the values' own bytes, and constant bytes after (the quotes of a
    string column, so that its values are encoded all at once)."""
    if isinstance(column, np.ndarray):
        kind = column.dtype.kind
        if kind == "b":
            return b"", list(map(_BOOLS.__getitem__, column.tolist())), b""
        if kind == "f":
            return b"", _split_numbers(column.astype(np.float64, copy=False).tolist()), b""
        if kind in "iu":
            return b"", _split_numbers(column.tolist()), b""
        column = column.tolist()
    kinds = set(map(type, column))
    if _SPLITS and kinds <= _NUMBER_TYPES:
        return b"", _split_numbers(list(column)), b""
    if _SPLITS and kinds == {str} and not _ESCAPED.search("".join(column)):
        try:  # plain text: the UTF-8 bytes between quotes, split where the values meet
            return b'"', "\x00".join(column).encode("utf-8").split(b"\x00"), b'"'
        except UnicodeEncodeError:  # lone surrogates: let the encoder say what is wrong
            pass
    if kinds <= {list, tuple}:  # lists, most of them empty (labels, reasons of unflagged posts)
        found = _string_lists(column) if _SPLITS else None
        if found is not None:
            return b"", found, b""
        return b"", [_dumps(v) if v else b"[]" for v in column], b""
    return b"", list(map(_dumps, column)), b""


_CONTROL = re.compile("[\x02-\x1f]")


def _string_lists(column: Sequence[Any] | np.ndarray) -> list[bytes] | None:
    """Lists of strings in JSON, all escaped and encoded at once (``None`` when some item is
    not a string or holds a control character: those go through the encoder one by one).
    Most lists are empty (the labels of unflagged posts): only the others are encoded."""
    sizes = list(map(len, column))
    out = [b"[]"] * len(sizes)
    full = [i for i, size in enumerate(sizes) if size]
    if not full:
        return out
    lists = [column[i] for i in full] if len(full) < len(sizes) else list(column)
    if not set(map(type, chain.from_iterable(lists))) <= {str}:
        return None
    text = "\x00".join(map("\x01".join, lists))  # lists split by NUL, items by SOH
    joints = sum(sizes) - len(full)  # SOHs the joins put in: items - lists
    if _CONTROL.search(text) or text.count("\x00") != len(full) - 1 or text.count("\x01") != joints:
        return None  # a control character in some item: one by one
    try:
        data = text.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8")
    except UnicodeEncodeError:
        return None
    data = b'["' + data.replace(b"\x01", b'","').replace(b"\x00", b'"]\x00["') + b'"]'
    for i, encoded in zip(full, data.split(b"\x00")):
        out[i] = encoded
    return out


def _split_numbers(values: list[Any]) -> list[bytes]:
    """Plain numbers, None and bools, encoded as one array and split at its commas."""
    return _dumps(values)[1:-1].split(b",")


def _csv_cell(key: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return _LIST_SEPARATORS.get(key, ";").join(str(v) for v in value)
    if value is None:
        return ""
    return value


def open_writer(path: str | Path, fmt: str | None = None) -> RecordWriter:
    return RecordWriter(path, fmt)


def write_records(path: str | Path, records: Iterable[Mapping[str, Any]], fmt: str | None = None) -> int:
    """Write all ``records`` to ``path``; returns how many."""
    with RecordWriter(path, fmt) as writer:
        buffer: list[Mapping[str, Any]] = []
        for record in records:
            buffer.append(record)
            if len(buffer) >= 10_000:
                writer.write_many(buffer)
                buffer = []
        writer.write_many(buffer)
        return writer.count
