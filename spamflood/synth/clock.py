"""Local time for the synthetic feed: ISO 8601 strings with offset, local hours and midnights.

Formatting a time with ``datetime.isoformat`` costs a few microseconds; a feed of millions of
posts formats each one, so :class:`Clock` formats with integer arithmetic inside a slice of
time whose UTC offset does not change (it checks both ends), and falls back to ``datetime``
across an offset change (daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

__all__ = ["Clock", "iso_utc"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=4096)
def _day_string(day_number: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day_number).isoformat()


def _offset_string(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def iso_utc(t: int) -> str:
    """``t`` (epoch seconds) as ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    day, sec = divmod(t, 86400)
    hh, rest = divmod(sec, 3600)
    return f"{_day_string(day)}T{hh:02d}:{rest // 60:02d}:{rest % 60:02d}+00:00"


class Clock:
    """Times in one zone. Call :meth:`prepare` for a slice, then :meth:`iso` inside it."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._offset = 0
        self._suffix = "+00:00"
        self._fast = False

    def offset(self, t: int) -> int:
        delta = datetime.fromtimestamp(t, self.tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds())

    def prepare(self, lo: int, hi: int) -> None:
        """Make :meth:`iso` fast for times in ``[lo, hi)`` when the offset is the same throughout."""
        first = self.offset(lo)
        self._fast = first == self.offset(hi - 1) and first % 60 == 0
        self._offset = first
        self._suffix = _offset_string(first)

    def iso(self, t: int) -> str:
        """``t`` as local ISO 8601 with offset, e.g. ``2026-02-17T08:00:00+08:00``."""
        if not self._fast:
            return datetime.fromtimestamp(t, self.tz).isoformat()
        day, sec = divmod(t + self._offset, 86400)
        hh, rest = divmod(sec, 3600)
        return f"{_day_string(day)}T{hh:02d}:{rest // 60:02d}:{rest % 60:02d}{self._suffix}"

    def local(self, t: int) -> datetime:
        return datetime.fromtimestamp(t, self.tz)

    def hour(self, t: int) -> int:
        """Local hour of day (0..23)."""
        return datetime.fromtimestamp(t, self.tz).hour

    def at(self, day: date, hour: int = 0, minute: int = 0, second: int = 0) -> int:
        """Epoch second of a local wall-clock time (in a DST gap, the moment after it)."""
        return int(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self.tz).timestamp())

    def midnight(self, day: date) -> int:
        return self.at(day)

    def date_of(self, t: int) -> date:
        return datetime.fromtimestamp(t, self.tz).date()
