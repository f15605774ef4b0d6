"""Output files that appear whole or not at all.

Every file spamflood writes goes first to a hidden temporary file beside it
(``.NAME.1a2b3c4d.tmp``: same folder, so the same file system) and is renamed over ``NAME``
only once it is complete and on disk (flushed and fsynced). A full disk, a failed encoder or
Ctrl-C midway leaves any previous ``NAME`` exactly as it was, removes the temporary file and
raises :class:`~spamflood.errors.OutputError` naming ``NAME``. Only a process killed outright
can leave a temporary file behind; its hidden name says what it is.

Targets that are not regular files (``/dev/null``, ``/dev/stdout``, a named pipe) are written
straight through: there is nothing to replace. A symbolic link keeps pointing where it did: the
file it points to is the one replaced. Writing needs the right to create a file in the target's
folder (a writable file in a read-only folder is refused, not overwritten in place).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from spamflood.errors import OutputError

__all__ = ["AtomicOutput", "atomic_outputs"]


class AtomicOutput:
    """One output file, written whole or not at all.

    ``with AtomicOutput(path) as fh: fh.write(data)`` publishes ``path`` when the block ends
    normally and discards it otherwise. Long-lived writers call :meth:`open`, then
    :meth:`finish` with the error that stopped them, or ``None``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.temp: Path | None = None
        """The temporary file being written (``None`` before :meth:`open`, for a device or pipe, and once finished)."""
        self.file: IO[bytes] | None = None
        self.existed = False
        """Whether a file was at the target when :meth:`open` began."""
        self.published = False
        """Whether the file was renamed into place."""
        self._target = self.path

    def open(self) -> IO[bytes]:
        """Create the temporary file and return its binary handle (raises ``OSError``)."""
        target = Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        self._target, self.existed = target, mode is not None
        if mode is not None and not stat.S_ISREG(mode):  # a device or a pipe: written as a stream
            self.file = open(target, "wb")  # noqa: SIM115 - closed by finish()
            return self.file
        while True:
            temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            try:  # 0o666 less the umask, as open() would create the target itself
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                break
            except FileExistsError:
                continue
        self.temp = temp
        try:
            if mode is not None:  # a replaced file keeps its permissions, as one rewritten in place would
                os.fchmod(fd, stat.S_IMODE(mode))
            self.file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            self.discard()
            raise
        return self.file

    def seal(self) -> None:
        """Flush the file to disk and close it (raises ``OSError``: a full disk shows here at the latest)."""
        if self.file is None or self.file.closed:
            return
        self.file.flush()
        if self.temp is not None:
            os.fsync(self.file.fileno())
        self.file.close()

    def publish(self) -> None:
        """Rename the sealed temporary file over the target (raises ``OSError``)."""
        if self.temp is None:
            return
        os.replace(self.temp, self._target)
        self.temp = None
        self.published = True
        with contextlib.suppress(OSError):  # make the rename itself durable, where the platform can
            folder = os.open(self._target.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def discard(self) -> None:
        """Close and remove the temporary file, leaving the target as it was; never raises."""
        if self.file is not None:
            with contextlib.suppress(Exception):  # a full disk refuses the last flush too
                self.file.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):  # already gone, or the folder went read-only
                self.temp.unlink()
            self.temp = None

    def finish(self, error: BaseException | None) -> None:
        """Publish the file if ``error`` is ``None``, else discard it.

        Raises :class:`~spamflood.errors.OutputError` naming the file if publishing fails or
        ``error`` is an ``OSError``; any other ``error`` is the caller's to raise.
        """
        _finish([self], error)

    def __enter__(self) -> IO[bytes]:
        try:
            return self.open()
        except OSError as exc:
            raise _output_error([self], exc) from exc

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.finish(error)


@contextlib.contextmanager
def atomic_outputs(*paths: str | os.PathLike[str]) -> Iterator[list[IO[bytes]]]:
    """Binary handles to several files that are published together, in the order given, only
    once every one of them is complete: a failure while writing any leaves all as they were.

    The renames themselves are one after another, so a reader between them (or a crash) can
    see the first files new and the later ones old; put last the file that vouches for the
    others (a model's manifest).
    """
    outputs = [AtomicOutput(path) for path in paths]
    try:
        files = [output.open() for output in outputs]
    except BaseException as exc:
        _finish(outputs, exc)
        raise
    error: BaseException | None = None
    try:
        yield files
    except BaseException as exc:
        error = exc
        _finish(outputs, error)
        raise
    _finish(outputs, error)


def _finish(outputs: list[AtomicOutput], error: BaseException | None) -> None:
    if error is None:
        try:
            for output in outputs:
                output.seal()
            for output in outputs:
                output.publish()
            return
        except BaseException as exc:
            error = exc
            for output in outputs:
                output.discard()
            if isinstance(exc, OSError):
                raise _output_error(outputs, exc) from exc
            raise
    for output in outputs:
        output.discard()
    if isinstance(error, OSError) and not isinstance(error, OutputError):
        raise _output_error(outputs, error) from error


def _output_error(outputs: list[AtomicOutput], exc: OSError) -> OutputError:
    names = ", ".join(str(output.path) for output in outputs)
    reason = exc.strerror or str(exc)
    if exc.filename is not None and str(exc.filename) not in names:
        reason += f" ({exc.filename})"
    published = [str(output.path) for output in outputs if output.published]
    if published:
        outcome = f"{', '.join(published)} already replaced, the others left as they were"
    elif len(outputs) > 1:
        outcome = "all left as they were"
    else:
        outcome = "the previous file is unchanged" if outputs[0].existed else "no file was created"
    return OutputError(f"Could not write {names}: {reason}; {outcome}.", path=str(outputs[0].path), errno=exc.errno)
