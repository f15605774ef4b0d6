"""Put a stream back in event-time order, within a bound: the allowed-lateness buffer of ``watch``.

A :class:`~spamflood.stream.FloodMonitor` judges posts in the order they arrive, against a
window that ends at the newest post time seen (the watermark); a post older than the window
when it arrives is *late* and cannot be judged. Feeds are often out of order: an API export
comes newest first, workers deliver a little out of step. :class:`ReorderBuffer` holds each
post until the newest time seen has passed it by ``allowed_lateness``, then releases it, so
posts leave in time order (ties in arrival order) as long as none arrives more than
``allowed_lateness`` behind the newest. One that does is released at once (it may then be late
for the monitor). ``allowed_lateness=math.inf`` holds everything until :meth:`ReorderBuffer.drain`:
a sort of a finite input.

Memory is bounded: at most ``max_held`` posts wait (the oldest leaves early beyond that,
counted in :attr:`ReorderBuffer.released_early`). A post without a time (``NaN``) is
released at once: it has no place in the order.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from typing import Generic, TypeVar

from spamflood.durations import parse_duration
from spamflood.errors import ConfigError

__all__ = ["ReorderBuffer"]

T = TypeVar("T")


class ReorderBuffer(Generic[T]):
    """Hold items keyed by event time; release them in time order once the newest time seen
    is ``allowed_lateness`` past them.

    Parameters
    ----------
    allowed_lateness : how far (seconds, or text like ``"5min"``) an item may arrive behind
        the newest one and still be put in its place; ``0`` releases every item at once (no
        reordering), ``math.inf`` holds them all until :meth:`drain`.
    max_held : the most items held at once (``None``: no bound, for a finite input that is
        sorted whole).

    Examples
    --------
    >>> buffer = ReorderBuffer(allowed_lateness=60)
    >>> buffer.push(100.0, "b"), buffer.push(70.0, "a"), buffer.push(161.0, "c")
    ([], [], ['a', 'b'])
    >>> buffer.drain()
    ['c']
    """

    def __init__(self, allowed_lateness: float | str = 0.0, *, max_held: int | None = 100_000) -> None:
        self.allowed_lateness = _lateness(allowed_lateness)
        if max_held is not None and (isinstance(max_held, bool) or not isinstance(max_held, int) or max_held < 1):
            raise ConfigError(
                f"The 'max_held' parameter of ReorderBuffer must be an integer >= 1 or None. Got {max_held!r} instead."
            )
        self.max_held = max_held
        self.newest = -math.inf
        """The newest time pushed so far."""
        self.released_early = 0
        """Items that left before their time because ``max_held`` were waiting."""
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()

    def __repr__(self) -> str:
        return f"ReorderBuffer(allowed_lateness={self.allowed_lateness!r}, max_held={self.max_held!r})"

    def __len__(self) -> int:
        """Items held now."""
        return len(self._heap)

    def push(self, time: float, item: T) -> list[T]:
        """Hold ``item`` at ``time``; the items now due, oldest first."""
        if math.isnan(time):
            return [item]
        heap = self._heap
        heapq.heappush(heap, (time, next(self._order), item))
        self.newest = max(self.newest, time)
        due = self.newest - self.allowed_lateness
        out = []
        while heap and heap[0][0] <= due:
            out.append(heapq.heappop(heap)[2])
        if self.max_held is not None:
            while len(heap) > self.max_held:
                out.append(heapq.heappop(heap)[2])
                self.released_early += 1
        return out

    def drain(self) -> list[T]:
        """Every item still held, oldest first (at the end of the input)."""
        out = [entry[2] for entry in sorted(self._heap)] if self._heap else []
        self._heap.clear()
        return out


_ZERO = re.compile(r"^\s*0+(?:\.0*)?\s*[a-z]*\s*$")


def _lateness(value: float | str) -> float:
    """Seconds of allowed lateness: a duration, or 0 (none), or ``math.inf`` (hold all)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, math.inf):
        return float(value)
    if isinstance(value, str) and _ZERO.match(value.lower()):
        return 0.0
    return parse_duration(value, name="allowed_lateness")
