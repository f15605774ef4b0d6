"""Durations as people write them (``1h``, ``15min``, ``90s``, ``2d``) and as they read them."""

from __future__ import annotations

import re

from spamflood.errors import ConfigError

__all__ = ["human_duration", "parse_duration"]

_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_duration(value: str | float | int, *, name: str = "window") -> float:
    """Seconds in ``value``: a number of seconds or text like ``1h``, ``30min``, ``2d``."""
    if isinstance(value, bool):
        raise ConfigError(f"The '{name}' parameter must be a duration like '1h'. Got {value!r} instead.")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _PATTERN.match(str(value).lower())
        if not match or (match.group(2) not in _UNITS and match.group(2) != ""):
            raise ConfigError(
                f"The '{name}' parameter must be a duration like '90s', '15min', '1h' or '2d'. Got {value!r} instead."
            )
        seconds = float(match.group(1)) * _UNITS.get(match.group(2), 1.0)
    if not seconds > 0:
        raise ConfigError(f"The '{name}' parameter must be a positive duration. Got {value!r} instead.")
    return seconds


def human_span(seconds: float) -> str:
    """:func:`human_duration`, or ``"unknown"`` for a missing (NaN) span: a cluster none of whose
    posts has a time."""
    return "unknown" if seconds != seconds else human_duration(seconds)


def human_duration(seconds: float) -> str:
    """``45 s``, ``14 min``, ``2 h 5 min``, ``3 days``: for reasons people read."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{int(round(seconds))} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{int(round(minutes))} min"
    hours = minutes / 60
    if hours < 48:
        h = int(hours)
        m = int(round((hours - h) * 60))
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{int(round(hours / 24))} days"
