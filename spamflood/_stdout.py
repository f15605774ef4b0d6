"""Standard output that knows how much of it reached the reader.

In ``spamflood score feed.jsonl -o - | head -1`` the reader leaves after one line; the next
write fails with EPIPE (Python ignores SIGPIPE, so it is a :class:`BrokenPipeError`). Written
through :func:`counted_stdout`, every write goes straight to file descriptor 1 (nothing waits in
a buffer) and the complete lines the pipe took are counted, so the command can say how many
rows were written before the reader left instead of claiming all of them.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LineCount", "counted_stdout"]


class LineCount(io.RawIOBase):
    """A binary sink on one file descriptor: each write is written whole (or fails), and the
    newlines of the bytes the descriptor took are counted."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.lines = 0
        """Complete lines written (JSONL: rows)."""
        self.broken = False
        """The reader left (EPIPE) before everything was written."""

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except BrokenPipeError:
            raise
        except OSError as exc:  # e.g. a full disk behind a redirection: say which file failed
            raise OSError(exc.errno, exc.strerror, "<standard output>") from None
        finally:
            if done:
                self.lines += (data if isinstance(data, bytes) else view[:done].tobytes()).count(b"\n", 0, done)
        return done


@contextmanager
def counted_stdout(enabled: bool = True) -> Iterator[LineCount]:
    """Within the block, ``sys.stdout`` writes through a :class:`LineCount`; a
    :class:`BrokenPipeError` ends the block quietly with ``broken`` set, and standard output
    then goes to ``/dev/null`` (so that no flush at exit fails again). Not ``enabled`` (or a
    ``sys.stdout`` with no file descriptor): the block runs as it is and the count stays 0."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno() if enabled else -1
    except (AttributeError, OSError, ValueError):  # a stand-in with no descriptor (a test's capture)
        fd, enabled = -1, False
    count = LineCount(fd)
    if not enabled:
        yield count
        return
    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(count, encoding="utf-8", newline="", write_through=True)
    try:
        yield count
    except BrokenPipeError:
        count.broken = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    finally:
        sys.stdout.detach()
        sys.stdout = saved
