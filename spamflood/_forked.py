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
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from spamflood.errors import SpamfloodError

__all__ = ["Forked"]

T = TypeVar("T")


class Forked(Generic[T]):
    """``call(*args, **kwargs)``, started in a forked child now when ``fork`` is true and the
    platform forks; :meth:`result` gives its value or raises its exception. Fork only when no
    other thread of this process holds a lock the child needs (the child has only the thread
    that forked), and call :meth:`result` or :meth:`close` on every path: a child whose result
    is never read waits on its pipe until it is closed."""

    def __init__(self, call: Callable[..., T], *args: Any, fork: bool = True, **kwargs: Any) -> None:
        self._call: Callable[[], T] = lambda: call(*args, **kwargs)
        self._outcome: tuple[bool, Any] | None = None  # (True, value) or (False, exception), once known
        self._pid = 0
        self._read = -1
        if fork and hasattr(os, "fork"):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: run, send, leave without this process's exit handlers
                os.close(read)
                _run_and_send(self._call, write)
            os.close(write)
            self._pid, self._read = pid, read

    def result(self) -> T:
        """The call's value (its exception raised here, again at every ask)."""
        if self._outcome is None:
            self._outcome = self._receive() if self._pid else self._run_here()
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def _run_here(self) -> tuple[bool, Any]:
        try:
            return True, self._call()
        except Exception as error:
            return False, error

    def _receive(self) -> tuple[bool, Any]:
        with os.fdopen(self._read, "rb", closefd=True) as pipe:
            self._read = -1
            payload = pipe.read()
        self._reap()
        if not payload:
            return False, SpamfloodError("a forked copy of this process ended without a result (killed, or out of memory?)")
        outcome: tuple[bool, Any] = pickle.loads(payload)
        return outcome

    def close(self) -> None:
        """Give up the result (an error or Ctrl-C elsewhere): a child still running is killed,
        its pipe closed and the child reaped. After :meth:`result`, nothing is left to do."""
        if self._read >= 0:
            os.close(self._read)
            self._read = -1
            if self._pid:
                os.kill(self._pid, signal.SIGKILL)  # its result is not wanted: no need to finish
        self._reap()

    def _reap(self) -> None:
        if self._pid:
            os.waitpid(self._pid, 0)
            self._pid = 0


def _run_and_send(call: Callable[[], Any], write: int) -> None:
    """In the child: pickle ``(True, value)`` or ``(False, exception)`` into ``write``, then
    ``os._exit`` (the parent's buffers, files and exit handlers are not the child's to run)."""
    code = 0
    try:
        try:
            payload = pickle.dumps((True, call()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # every failure goes to the parent
            try:
                payload = pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that does not pickle: its words do
                payload = pickle.dumps((False, SpamfloodError(f"{type(error).__name__}: {error}")))
        with os.fdopen(write, "wb", closefd=True) as pipe:
            pipe.write(payload)
    except BaseException:  # the parent stopped reading (closed the pipe), or Ctrl-C
        code = 1
    finally:
        os._exit(code)
