"""One call run in a forked copy of this process while this process goes on.

The batch detector's stages after the join are mostly Python, so threads would take turns on
the GIL. A forked copy sees every array of the batch copy-on-write (nothing is pickled on the
way in), runs one call on the other core and sends its result back through a pipe. Where
``fork`` is missing, or when it is not wanted, the call runs in this process the first time
its result is asked for: the same result either way.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Generic, TypeVar

from spamflood.errors import SpamfloodError

__all__ = ["Forked"]

T = TypeVar("T")


class Forked(Generic[T]):
    """``call(*args, **kwargs)``, started in a forked child now when ``fork`` is true and the
    platform forks; :meth:`result` gives its value or raises its exception. Fork only when no
    other thread of this process holds a lock the child needs (the child has only the thread
    that forked), and call :meth:`result` or :meth:`close` on every path: a child whose result
    is never read waits on its pipe until it is closed.

    With ``steps=True`` the call returns an iterator, and :meth:`next` gives its values one at
    a time, each sent as soon as the child has it: the parent goes on with a first part (say,
    the features a score reads) while the child makes the next (their reasons).
    """

    def __init__(self, call: Callable[..., Any], *args: Any, fork: bool = True, steps: bool = False, **kwargs: Any) -> None:
        self._steps: Iterator[Any] | None = None  # the call's steps, when run here
        self._call: Callable[[], Iterator[Any]] = (
            (lambda: call(*args, **kwargs)) if steps else (lambda: iter((call(*args, **kwargs),)))
        )
        self._outcome: tuple[bool, Any] | None = None  # the single result: (True, value) or (False, exception)
        self._pid = 0
        self._pipe: BinaryIO | None = None
        if fork and hasattr(os, "fork"):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: run, send, leave without this process's exit handlers
                os.close(read)
                _run_and_send(self._call, write)
            os.close(write)
            self._pid, self._pipe = pid, os.fdopen(read, "rb", closefd=True)

    def result(self) -> T:
        """The call's value (its exception raised here, again at every ask)."""
        if self._outcome is None:
            self._outcome = self._next()
            self.close()  # nothing more comes: the child is done
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def next(self) -> Any:
        """The next value of a ``steps`` call (its exception raised here)."""
        ok, value = self._next()
        if not ok:
            self.close()
            raise value
        return value

    def _next(self) -> tuple[bool, Any]:
        if self._pipe is not None:
            return self._receive(self._pipe)
        if not self._pid:  # run here, a step at a time
            try:
                if self._steps is None:
                    self._steps = self._call()
                return True, next(self._steps)
            except Exception as error:
                return False, error
        return False, SpamfloodError("a forked copy of this process was asked for more than it sent")

    def _receive(self, pipe: BinaryIO) -> tuple[bool, Any]:
        head = pipe.read(_HEAD.size)
        payload = pipe.read(_HEAD.unpack(head)[0]) if len(head) == _HEAD.size else b""
        if not payload:
            self.close()
            return False, SpamfloodError("a forked copy of this process ended without a result (killed, or out of memory?)")
        outcome: tuple[bool, Any] = pickle.loads(payload)
        return outcome

    def close(self) -> None:
        """Give up what is still to come (an error or Ctrl-C elsewhere): a child still running
        is killed, its pipe closed and the child reaped. After the last value, nothing is left
        to do."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
            if self._pid:  # what is left is not wanted: no need to finish (a child done already is not hurt)
                os.kill(self._pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        if self._pid:
            os.waitpid(self._pid, 0)
            self._pid = 0


_HEAD = struct.Struct("<Q")
"""Each value the child sends: its pickle's length, then the pickle."""


def _run_and_send(call: Callable[[], Iterator[Any]], write: int) -> None:
    """In the child: send each of the call's values as ``(True, value)``, or its failure as
    ``(False, exception)``, pickled into ``write``; then ``os._exit`` (the parent's buffers,
    files and exit handlers are not the child's to run)."""
    code = 0
    try:
        with os.fdopen(write, "wb", closefd=True) as pipe:
            try:
                for value in call():
                    _send(pipe, (True, value))
            except BaseException as error:  # every failure goes to the parent
                try:
                    _send(pipe, (False, error))
                except Exception:  # an exception that does not pickle: its words do
                    _send(pipe, (False, SpamfloodError(f"{type(error).__name__}: {error}")))
    except BaseException:  # the parent stopped reading (closed the pipe), or Ctrl-C
        code = 1
    finally:
        os._exit(code)


def _send(pipe: BinaryIO, outcome: tuple[bool, Any]) -> None:
    payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEAD.pack(len(payload)))
    pipe.write(payload)
    pipe.flush()
