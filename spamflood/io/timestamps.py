"""Timestamps of any common export as epoch seconds (UTC).

Accepted: ISO 8601 (``2026-02-17T08:00:00+08:00``, ``...Z``, date and space-separated forms),
epoch seconds and milliseconds (numbers or numeric strings), and Twitter's
``Wed Oct 10 20:19:24 +0000 2018``. Times without an offset are read in ``tz``.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spamflood.errors import ConfigError

__all__ = ["parse_time", "resolve_tz"]

# Epoch values above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_MS_CUTOFF = 1e11
# Plausible range for a post: 1990-01-01 .. 2100-01-01.
_MIN_EPOCH = 631152000.0
_MAX_EPOCH = 4102444800.0
_TWITTER_FORMAT = "%a %b %d %H:%M:%S %z %Y"


@lru_cache(maxsize=64)
def resolve_tz(name: str) -> tzinfo:
    """A tzinfo for an IANA name (``Asia/Shanghai``), ``UTC``, or a fixed offset ``+08:00``."""
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    if name[:1] in "+-" and len(name) in (3, 5, 6):
        try:
            return datetime.fromisoformat("2000-01-01T00:00:00" + name).tzinfo or timezone.utc
        except ValueError:
            pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Unknown time zone '{name}'; use an IANA name like 'Asia/Shanghai', 'UTC' or an offset like '+08:00'."
        ) from None


def _from_epoch(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"epoch value {value!r} is not a finite number")
    seconds = value / 1000.0 if abs(value) >= _MS_CUTOFF else float(value)
    if not _MIN_EPOCH <= seconds <= _MAX_EPOCH:
        raise ValueError(f"epoch value {value!r} is outside 1990..2100 (seconds or milliseconds expected)")
    return seconds


def parse_time(value: object, tz: tzinfo = timezone.utc) -> float:
    """``value`` as epoch seconds; raises ``ValueError`` with a reason when it cannot be read."""
    if type(value) is not str:  # strings are the common case: straight to them
        if isinstance(value, bool):
            raise ValueError("a boolean is not a time")
        if isinstance(value, (int, float)):
            return _from_epoch(float(value))
        if isinstance(value, datetime):
            dt = value if value.tzinfo is not None else value.replace(tzinfo=tz)
            return _from_epoch(dt.timestamp())
        if not isinstance(value, str):
            raise ValueError(f"expected a string or number, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("empty time")
    first = text[0]
    if first.isdigit() or first in "+-":
        number = None
        if ":" not in text:  # a clock time is never a number: skip the failing float()
            try:
                number = float(text)
            except ValueError:
                pass
        if number is not None and (text.isdigit() or len(text) >= 9):
            return _from_epoch(number)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"unparseable time {text!r} (expected ISO 8601, epoch or Twitter format)") from None
    else:
        try:
            dt = datetime.strptime(text, _TWITTER_FORMAT)
        except ValueError:
            raise ValueError(f"unparseable time {text!r} (expected ISO 8601, epoch or Twitter format)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return _from_epoch(dt.timestamp())
