"""Watch a JSONL stream: one verdict per post as each line arrives, bad lines to a rejects file.

This is the engine of ``spamflood watch``. Lines are read one by one (so a pipe such as
``tail -f feed.jsonl | spamflood watch - -o -`` gets a verdict per post at once), validated
by :class:`~spamflood.io.rows.RowParser` exactly as the batch commands validate them, and
handed to a :class:`~spamflood.stream.FloodMonitor`. Every verdict line and every reject line
is flushed as soon as it is written, so nothing waits in a buffer and nothing is lost: every
non-blank line gives either a verdict (unless ``flags_only``) or a reject.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any

try:
    import orjson

    def _dumps(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record)

except ImportError:  # pragma: no cover
    import json

    def _dumps(record: dict[str, Any]) -> bytes:
        return json.dumps(record, ensure_ascii=False).encode("utf-8")


from spamflood.errors import ConfigError, InputError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.rows import Reject, RowParser, raw_text
from spamflood.stream.monitor import FloodMonitor

__all__ = ["WatchSummary", "watch"]

Sink = IO[bytes] | str | Path


@dataclass
class WatchSummary:
    """What a watch run saw: lines, verdicts, floods and rejects."""

    lines: int = 0
    """Non-blank lines read."""
    blank_lines: int = 0
    verdicts: int = 0
    """Posts that got a verdict (written, or skipped by ``flags_only``)."""
    written: int = 0
    """Verdict lines written."""
    flood_verdicts: int = 0
    late: int = 0
    rejected: int = 0
    first_reject: str | None = None
    """The first reject's message (line, field, reason), for a one-line summary."""
    flood_clusters: set[str] = field(default_factory=set)
    """Clusters that became floods during the run."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "verdicts": self.verdicts,
            "written": self.written,
            "flood_verdicts": self.flood_verdicts,
            "flood_clusters": len(self.flood_clusters),
            "late": self.late,
            "rejected": self.rejected,
        }


class _Out:
    """A binary sink that flushes after every line; opens and closes paths it was given."""

    def __init__(self, target: Sink, what: str) -> None:
        self._owned = False
        if isinstance(target, (str, Path)):
            if str(target) == "-":
                self.handle: IO[bytes] = sys.stdout.buffer
            else:
                parent = Path(target).parent
                if not parent.is_dir():
                    raise ConfigError(f"The {what} folder '{parent}' does not exist.")
                self.handle = open(target, "wb")  # noqa: SIM115 - closed by close(), the sink outlives a block
                self._owned = True
        elif hasattr(target, "write"):
            self.handle = target
        else:
            raise ConfigError(f"The {what} must be a path, '-' or a binary file object. Got {type(target).__name__}.")

    def line(self, record: dict[str, Any]) -> None:
        self.handle.write(_dumps(record) + b"\n")
        self.handle.flush()

    def close(self) -> None:
        if self._owned:
            self.handle.close()


def watch(
    input_lines: Iterable[bytes],
    output: Sink,
    *,
    monitor: FloodMonitor,
    field_map: FieldMap | None = None,
    tz: str | tzinfo = "UTC",
    flags_only: bool = False,
    rejects: Sink | None = None,
) -> WatchSummary:
    """Feed JSONL lines to ``monitor`` as they come; write a verdict per post, a reject per bad line.

    Parameters
    ----------
    input_lines : raw JSONL lines (``sys.stdin.buffer``, an open file, any iterable of bytes);
        numbered from 1, blank lines counted and skipped.
    output : where verdicts go, one JSON object per line (:meth:`Verdict.to_dict` plus the
        input ``line``): a path, ``"-"`` for stdout, or a binary file object.
    monitor : the :class:`FloodMonitor` that judges the posts (its store may be shared).
    field_map, tz : how fields are found and naive times read (as in ``spamflood score``).
    flags_only : write only the verdicts of posts in a flood.
    rejects : where bad lines go (path, ``"-"`` or binary file), one JSON object per line
        with ``line``, ``field``, ``reason`` and ``raw``; ``None`` counts them only.

    Returns the :class:`WatchSummary`. A store that stays unreachable raises
    :class:`~spamflood.stream.StoreUnavailableError` after its retries; every line before it
    has been written.
    """
    parser = RowParser(field_map, tz=tz)
    summary = WatchSummary()
    out = _Out(output, "output")
    bad = _Out(rejects, "rejects output") if rejects is not None else None
    try:
        for number, line in enumerate(input_lines, start=1):
            if not isinstance(line, (bytes, bytearray)):
                raise ConfigError(
                    f"watch() reads bytes lines (open the input in binary mode). Line {number} is {type(line).__name__}."
                )
            if not line.strip():
                summary.blank_lines += 1
                continue
            summary.lines += 1
            try:
                post = parser.parse(number, bytes(line))
                verdict = monitor.add(post)
            except InputError as exc:
                reject = Reject(number, exc.field, exc.reason, raw_text(bytes(line)))
                summary.rejected += 1
                if summary.first_reject is None:
                    summary.first_reject = reject.message()
                if bad is not None:
                    bad.line(reject.to_dict())
                continue
            summary.verdicts += 1
            summary.late += verdict.late
            if verdict.flood:
                summary.flood_verdicts += 1
                if verdict.cluster is not None:
                    summary.flood_clusters.add(verdict.cluster)
            if verdict.flood or not flags_only:
                record = verdict.to_dict()
                record["line"] = number
                out.line(record)
                summary.written += 1
    finally:
        out.close()
        if bad is not None:
            bad.close()
    return summary
