"""Writers: records (dicts) out as JSONL, CSV or Parquet, streamed in chunks.

Lists (``labels``, ``reasons``) stay lists in JSONL and Parquet; in CSV they are joined with
``;`` and `` | `` so a spreadsheet shows them in one cell.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

try:
    import orjson

    def _dumps(record: Mapping[str, Any]) -> bytes:
        return orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)

except ImportError:  # pragma: no cover
    import json

    def _dumps(record: Mapping[str, Any]) -> bytes:
        return json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")


from spamflood.errors import ConfigError
from spamflood.io.readers import detect_format

__all__ = ["RecordWriter", "open_writer", "write_records"]

_LIST_SEPARATORS = {"labels": ";", "reasons": " | "}


class RecordWriter:
    """Write dict records to one file; use as a context manager."""

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = str(path)
        self.format = detect_format(path, fmt)
        self.count = 0
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

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _binary(self) -> IO[bytes]:
        if self._handle is None:
            if self.path == "-":
                self._handle = sys.stdout.buffer
            elif self.path.endswith(".gz"):
                self._handle = gzip.open(self.path, "wb")  # type: ignore[assignment]
            else:
                self._handle = open(self.path, "wb")
        return self._handle  # type: ignore[return-value]

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return
        if self.format == "jsonl":
            self._binary().write(b"".join(_dumps(r) + b"\n" for r in records))
        elif self.format in ("csv", "tsv"):
            self._write_csv(records)
        else:
            self._write_parquet(records)
        self.count += len(records)

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
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        else:
            table = pa.Table.from_pylist(list(records), schema=self._parquet.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._text is not None:
            self._text.flush()
            self._text.detach()
            self._text = None
        if self._handle is not None:
            if self._handle is sys.stdout.buffer:
                self._handle.flush()
            else:
                self._handle.close()
            self._handle = None
        elif self.path != "-" and self.count == 0:
            # An empty result is still a file the caller can read.
            if self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self.path)
            else:
                Path(self.path).write_bytes(b"")


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
