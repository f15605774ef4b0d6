"""Watch a JSONL stream: one verdict per post as each line arrives, bad lines to a rejects file.

This is the engine of ``spamflood watch``. Lines are read one by one (so a pipe such as
``tail -f feed.jsonl | spamflood watch - -o -`` gets a verdict per post at once), validated
by :class:`~spamflood.io.rows.RowParser` exactly as the batch commands validate them, and
handed to a :class:`~spamflood.stream.FloodMonitor`. Every verdict line and every reject line
is flushed as soon as it is written, so nothing waits in a buffer and nothing is lost: every
non-blank line gives either a verdict or a reject.

Out-of-order input
------------------
The monitor judges a post against the window that ends at the newest post time seen (the
watermark); a post older than that window when it reaches the monitor is *late*: it gets a
verdict saying so (``late: true``, written even with ``flags_only``) but is not judged. A file
in newest-first order (as the Twitter and Weibo APIs return) is then almost all late.
``allowed_lateness`` holds posts in a small event-time-ordered buffer
(:class:`~spamflood.stream.reorder.ReorderBuffer`) and hands them to the monitor once the
newest time seen is that far past them, so posts that arrive up to that much out of order are
judged in time order; their verdicts then come out in time order (each names its input
``line``). ``sort`` reads the whole (finite) input first and judges it in time order.

"""

from __future__ import annotations

import gzip
import math
import sys
from collections.abc import Callable, Generator, Iterable
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


from spamflood.errors import ConfigError, InputError, OutputError
from spamflood.io.fieldmap import FieldMap
from spamflood.io.readers import _BREAKS, _open_binary
from spamflood.io.rows import Reject, RowParser, raw_text
from spamflood.posts import Post
from spamflood.stream.monitor import FloodMonitor
from spamflood.stream.reorder import ReorderBuffer
from spamflood.stream.verdict import Verdict

__all__ = ["WatchSummary", "read_lines", "watch"]

Sink = IO[bytes] | str | Path
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class WatchSummary:
    """What a watch run saw: lines, verdicts, floods, late posts and rejects."""

    lines: int = 0
    """Non-blank lines read."""
    blank_lines: int = 0
    verdicts: int = 0
    """Posts that got a verdict (written, or skipped by ``flags_only``): every post, late or not."""
    written: int = 0
    """Verdict lines written."""
    flood_verdicts: int = 0
    late: int = 0
    """Posts older than the window behind the watermark when they reached the monitor: their
    verdict says ``late`` and they were not judged."""
    out_of_order: int = 0
    """Posts that arrived older than a post read before them (whether or not a buffer put
    them back in order)."""
    released_early: int = 0
    """Posts the allowed-lateness buffer let go before their time because it was full."""
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
            "out_of_order": self.out_of_order,
            "released_early": self.released_early,
            "rejected": self.rejected,
        }


class _Out:
    """A binary sink that flushes after every line; opens and closes paths it was given."""

    def __init__(self, target: Sink, what: str) -> None:
        self._owned = False
        self.lines = 0
        self.failed = False
        self.name = "standard output" if str(target) == "-" else str(getattr(target, "name", target))
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
        """Write one JSON line. A live stream is written as it goes, not atomically: on a full
        disk or a reader gone, the error names the output and the lines it holds whole (a
        last, partial line may follow them in a file)."""
        try:
            self.handle.write(_dumps(record) + b"\n")
            self.handle.flush()
        except OSError as exc:
            self.failed = True
            why = "the reader left (broken pipe)" if isinstance(exc, BrokenPipeError) else (exc.strerror or str(exc))
            raise OutputError(
                f"Could not write {self.name}: {why}; {self.lines:,} complete lines were written before it.",
                path=self.name,
                errno=exc.errno,
            ) from None
        self.lines += 1

    def close(self) -> None:
        if self._owned:
            try:
                self.handle.close()
            except OSError:
                if not self.failed:  # else: the rest of the line whose write failed, already said
                    raise


def read_lines(path: str | Path) -> Generator[bytes, None, None]:
    """The lines of ``path`` (``-`` for stdin) as bytes, as they arrive; gzip data (a ``.gz``
    name or the gzip magic bytes) is decompressed.

    A missing file is refused with the batch readers' message, as a :class:`FileNotFoundError`
    (an error, not a usage mistake); gzip data that breaks off or is corrupt raises
    :class:`~spamflood.errors.InputError` naming the file and the line after the last one read
    (the lines before it have been yielded). The file is closed when the iterator ends or is
    closed; stdin is left open.
    """
    try:
        handle = _open_binary(path)
    except ConfigError as exc:  # the readers' "Input file '...' does not exist."
        raise FileNotFoundError(str(exc)) from None
    return _lines(handle, str(path))


def _lines(handle: IO[bytes], name: str) -> Generator[bytes, None, None]:
    owned = handle is not sys.stdin.buffer
    reader: IO[bytes] | gzip.GzipFile = handle
    number = 0
    try:
        if not isinstance(handle, gzip.GzipFile) and _peek(handle, 2) == _GZIP_MAGIC:
            reader = gzip.GzipFile(fileobj=handle, mode="rb")  # closing it leaves the file open
        try:
            for line in reader:
                number += 1
                yield line
        except _BREAKS as exc:
            where = "stdin" if name == "-" else name
            raise InputError(
                f"{where} is cut short or corrupt gzip data ({exc}); the {number:,} lines before it were read",
                line=number + 1,
            ) from None
    finally:
        if reader is not handle:
            reader.close()
        if owned:
            handle.close()


def _peek(handle: IO[bytes], size: int) -> bytes:
    """The first ``size`` bytes of ``handle`` without consuming them (``b""`` if it cannot peek)."""
    peek = getattr(handle, "peek", None)
    return peek(size)[:size] if peek is not None else b""


def watch(
    input_lines: Iterable[bytes],
    output: Sink,
    *,
    monitor: FloodMonitor,
    field_map: FieldMap | None = None,
    tz: str | tzinfo = "UTC",
    flags_only: bool = False,
    rejects: Sink | None = None,
    allowed_lateness: float | str = 0.0,
    sort: bool = False,
    max_held: int = 100_000,
    on_reject: Callable[[Reject], None] | None = None,
    batch_size: int = 1,
) -> WatchSummary:
    """Feed JSONL lines to ``monitor`` as they come; write a verdict per post, a reject per bad line.

    Parameters
    ----------
    input_lines : raw JSONL lines (:func:`read_lines`, ``sys.stdin.buffer``, an open file, any
        iterable of bytes); numbered from 1, blank lines counted and skipped.
    output : where verdicts go, one JSON object per line (:meth:`Verdict.to_dict` plus the
        input ``line``): a path, ``"-"`` for stdout, or a binary file object.
    monitor : the :class:`FloodMonitor` that judges the posts (its store may be shared).
    field_map, tz : how fields are found and naive times read (as in ``spamflood score``).
    flags_only : write only the verdicts of posts in a flood, and of late posts (a post that
        could not be judged is never passed over in silence).
    rejects : where bad lines go (path, ``"-"`` or binary file), one JSON object per line
        with ``line``, ``field``, ``reason`` and ``raw``; ``None`` counts them only.
    allowed_lateness : how far (seconds or text like ``"5min"``) a post may arrive behind the
        newest one read and still be judged in time order: posts wait in an event-time buffer
        until the newest time read is that far past them (0: judged as they arrive).
    sort : read the whole input, then judge it in time order (a finite input only; memory
        grows with it). Not with ``allowed_lateness``.
    max_held : the most posts the allowed-lateness buffer holds; beyond it the oldest is
        judged early (counted in :attr:`WatchSummary.released_early`).
    on_reject : called with each :class:`~spamflood.io.rows.Reject` as it happens (the
        command line prints the first few).
    batch_size : posts judged together (:meth:`FloodMonitor.add_many`: the criteria and the
        model run once per batch, which costs far less per post); their verdicts are written
        when the last of them has been read. 1 (a live stream): each verdict as its line
        arrives; the ``watch`` command batches a file, which is all there already.

    Returns the :class:`WatchSummary`. A store that stays unreachable raises
    :class:`~spamflood.stream.StoreUnavailableError` after its retries; every line before it
    has been written. When the input itself breaks (or the run is interrupted), the posts
    already read and held in the buffer are judged before the error goes on.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"The 'batch_size' parameter of watch must be an integer >= 1. Got {batch_size!r} instead.")
    buffer: ReorderBuffer[Post] = ReorderBuffer(allowed_lateness, max_held=max_held)
    if sort:
        if buffer.allowed_lateness:
            raise ConfigError(
                "Give 'sort' or 'allowed_lateness', not both: sort already puts the whole input in order."
            )
        buffer = ReorderBuffer(math.inf, max_held=None)
    parser = RowParser(field_map, tz=tz)
    summary = WatchSummary()
    out = _Out(output, "output")
    bad = _Out(rejects, "rejects output") if rejects is not None else None

    waiting: list[Post] = []

    def judge(posts: list[Post], *, last: bool = False) -> None:
        """Judge ``posts`` once ``batch_size`` are waiting (``last``: all that wait)."""
        waiting.extend(posts)
        while waiting and (last or len(waiting) >= batch_size):
            batch = waiting[:batch_size]
            del waiting[:batch_size]
            for post, verdict in zip(batch, monitor.add_many(batch, batch_size=batch_size)):
                write(post, verdict)

    def write(post: Post, verdict: Verdict) -> None:
        summary.verdicts += 1
        if verdict.late:
            summary.late += 1
        if verdict.flood:
            summary.flood_verdicts += 1
            if verdict.cluster is not None:
                summary.flood_clusters.add(verdict.cluster)
        if verdict.flood or verdict.late or not flags_only:
            record = verdict.to_dict()
            record["line"] = post.line
            out.line(record)
            summary.written += 1

    newest = -math.inf
    source = iter(input_lines)
    number = 0
    try:
        while True:
            try:
                line = next(source)
            except StopIteration:
                break
            except (Exception, KeyboardInterrupt):  # the input broke: judge what was read first
                judge(buffer.drain(), last=True)
                raise
            number += 1
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
            except InputError as exc:
                reject = Reject(number, exc.field, exc.reason, raw_text(bytes(line)))
                summary.rejected += 1
                if summary.first_reject is None:
                    summary.first_reject = reject.message()
                if bad is not None:
                    bad.line(reject.to_dict())
                if on_reject is not None:
                    on_reject(reject)
                continue
            if post.time < newest:
                summary.out_of_order += 1
            elif post.time > newest:
                newest = post.time
            judge(buffer.push(post.time, post))
        judge(buffer.drain(), last=True)
    finally:
        summary.released_early = buffer.released_early
        out.close()
        if bad is not None:
            bad.close()
    return summary
