"""Typed exceptions. Library code raises these; only the CLI prints them."""

from __future__ import annotations

__all__ = ["ConfigError", "InputError", "ModelError", "OutputError", "SpamfloodError"]


class SpamfloodError(Exception):
    """Base class of every error spamflood raises on purpose."""


class InputError(SpamfloodError, ValueError):
    """A row of input could not be used.

    Carries the 1-based ``line`` (or row number for Parquet), the ``field`` at fault
    (or ``None`` when the whole line is unreadable), the ``reason``, and the ``file`` when
    several inputs were read as one.
    """

    def __init__(self, reason: str, *, line: int | None = None, field: str | None = None, file: str | None = None) -> None:
        self.reason = reason
        self.line = line
        self.field = field
        self.file = file
        where = [f"'{file}'"] if file is not None else []
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class ConfigError(SpamfloodError, ValueError):
    """A parameter, field map or data file is invalid."""


class ModelError(SpamfloodError):
    """A model file is missing, corrupt, tampered with or untrusted."""


class OutputError(SpamfloodError, OSError):
    """An output file could not be written (full disk, no permission, ...).

    The message names the file; ``path`` is that file and ``errno`` the system's error number.
    Whatever was at ``path`` before is left as it was (see :mod:`spamflood.io.atomic`).
    """

    def __init__(self, message: str, *, path: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno

    def __str__(self) -> str:  # the message alone, not OSError's "[Errno n] ..." layout
        return str(self.args[0])

    def __reduce__(self) -> tuple[object, ...]:
        return _output_error, (str(self), self.path, self.errno)


def _output_error(message: str, path: str, errno: int | None) -> OutputError:
    return OutputError(message, path=path, errno=errno)
