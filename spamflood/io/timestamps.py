"""Timestamps of any common export as epoch seconds (UTC).

Accepted: ISO 8601 (``2026-02-17T08:00:00+08:00``, ``...Z``, date and space-separated forms),
epoch seconds and milliseconds (numbers or numeric strings), and Twitter's
``Wed Oct 10 20:19:24 +0000 2018``. Times without an offset are read in ``tz``.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from spamflood.errors import ConfigError

__all__ = ["parse_iso_column", "parse_time", "resolve_tz"]

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
        return UTC
    if name[:1] in "+-" and len(name) in (3, 5, 6):
        try:
            return datetime.fromisoformat("2000-01-01T00:00:00" + name).tzinfo or UTC
        except ValueError:
            pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Unknown time zone '{name}'; use an IANA name like 'Asia/Shanghai', 'UTC' or an offset like '+08:00'."
        ) from None


def iso_utc(epoch: float) -> str | None:
    """``epoch`` as ISO 8601 UTC (``...Z``), or None for a missing (NaN) time."""
    if epoch != epoch:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def _from_epoch(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"epoch value {value!r} is not a finite number")
    seconds = value / 1000.0 if abs(value) >= _MS_CUTOFF else float(value)
    if not _MIN_EPOCH <= seconds <= _MAX_EPOCH:
        raise ValueError(f"epoch value {value!r} is outside 1990..2100 (seconds or milliseconds expected)")
    return seconds


def parse_time(value: object, tz: tzinfo = UTC) -> float:
    """``value`` as epoch seconds; raises ``ValueError`` with a reason when it cannot be read."""
    if type(value) is not str:  # strings are the common case: straight to them
        if isinstance(value, bool):
            raise ValueError("a boolean is not a time")
        if isinstance(value, (int, float)):
            try:
                return _from_epoch(float(value))
            except OverflowError:
                what = f"of {value.bit_length()} bits" if isinstance(value, int) else repr(value)
                raise ValueError(f"epoch value {what} is far outside 1990..2100") from None
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
            with contextlib.suppress(ValueError):
                number = float(text)
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


# ---------------------------------------------------------------- a column of ISO 8601 times
# Exports write one time layout for every row, so a column is read as a fixed-width byte
# matrix: digits and separators checked and fields converted for all rows at once. Only what
# parse_time reads the same way is taken (a fixed layout, calendar-valid, in 1990..2100);
# every other value is left to parse_time.

_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_SEPARATORS = ((4, b"-"), (7, b"-"), (13, b":"), (16, b":"))
_DAYS_BEFORE_MONTH = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)
_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def parse_iso_column(values: list[object], tz: tzinfo = UTC) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of the ISO 8601 strings in ``values`` and a mask of those read: exactly
    what :func:`parse_time` returns for each of them. Values not read (other layouts or types,
    invalid dates, times outside 1990..2100, naive times in a zone with daylight saving) are
    ``False`` in the mask; give them to :func:`parse_time` for their value or error."""
    n = len(values)
    seconds = np.full(n, np.nan)
    read = np.zeros(n, dtype=np.bool_)
    fixed = tz.utcoffset(None) if isinstance(tz, timezone) else None
    # Rows grouped by width and by what follows the seconds ("", ".", "Z", "+", "-"): one
    # layout a group, read from its first row.
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    if set(map(type, values)) == {str}:  # the usual column: one layout, found at once
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)  # type: ignore[arg-type]
        marks = [v[19:20] for v in values]  # type: ignore[index]
        if len(set(marks)) == 1:
            for width in np.unique(lengths).tolist():
                if 19 <= width <= 32:
                    groups[(width, marks[0])] = np.flatnonzero(lengths == width).tolist()
        else:
            for i, (width, mark) in enumerate(zip(lengths.tolist(), marks)):
                if 19 <= width <= 32:
                    groups[(width, mark)].append(i)
    else:
        for i, value in enumerate(values):
            if value.__class__ is str and 19 <= len(value) <= 32:
                groups[(len(value), value[19:20])].append(i)
    for (width, _), rows in groups.items():
        index = np.array(rows, dtype=np.int64)
        text = "".join(values) if len(rows) == n else "".join([values[i] for i in rows])  # type: ignore[misc,arg-type]
        if not text.isascii():
            continue
        chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(len(rows), width)
        found = _read_layout(chars, fixed)
        if found is not None:
            ok, epoch = found
            seconds[index[ok]] = epoch[ok]
            read[index[ok]] = True
    return seconds, read


def _read_layout(chars: np.ndarray, fixed: timedelta | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of one width in the layout of the first row: ``YYYY-MM-DD[T ]HH:MM:SS``, then an
    optional fraction of 3 or 6 digits, then nothing, ``Z`` or ``+HH:MM``."""
    first = bytes(chars[0])
    tail = first[19:]
    fraction = 0
    if tail[:1] == b".":
        fraction = 6 if tail[1:7].isdigit() and len(tail) in (7, 8, 13) else 3
        if len(tail) < 1 + fraction:  # a shorter fraction (".5"): left to parse_time
            return None
        tail = tail[1 + fraction :]
    if tail not in (b"", b"Z") and not (len(tail) == 6 and tail[:1] in (b"+", b"-") and tail[3:4] == b":"):
        return None
    if not tail and fixed is None:
        return None  # a naive time in a zone with daylight saving: parse_time resolves it
    digit = (chars >= 48) & (chars <= 57)
    ok = digit[:, _DIGITS].all(axis=1)
    for at, sep in _SEPARATORS:
        ok &= chars[:, at] == sep[0]
    ok &= (chars[:, 10] == ord("T")) | (chars[:, 10] == ord(" "))

    def number(start: int, size: int) -> np.ndarray:
        out = np.zeros(chars.shape[0], dtype=np.int64)
        for k in range(start, start + size):
            out = out * 10 + (chars[:, k].astype(np.int64) - 48)
        return out

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
    micro = np.zeros(chars.shape[0], dtype=np.int64)
    at = 19
    if fraction:
        ok &= chars[:, 19] == ord(".")
        ok &= digit[:, 20 : 20 + fraction].all(axis=1)
        micro = number(20, fraction) * (1000 if fraction == 3 else 1)
        at = 20 + fraction
    offset = np.zeros(chars.shape[0], dtype=np.int64)
    if tail == b"Z":
        ok &= chars[:, at] == ord("Z")
    elif tail:
        sign = np.where(chars[:, at] == ord("-"), -1, 1)
        ok &= (chars[:, at] == ord("+")) | (chars[:, at] == ord("-"))
        ok &= digit[:, [at + 1, at + 2, at + 4, at + 5]].all(axis=1) & (chars[:, at + 3] == ord(":"))
        off_hour, off_minute = number(at + 1, 2), number(at + 4, 2)
        ok &= (off_hour <= 23) & (off_minute <= 59)
        offset = sign * (off_hour * 3600 + off_minute * 60)
    else:
        offset[:] = int(fixed.total_seconds())  # type: ignore[union-attr]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    safe_month = np.where(month_ok, month, 1)
    month_days = _MONTH_DAYS[safe_month] - ((safe_month == 2) & ~leap)
    ok &= month_ok & (day >= 1) & (day <= month_days) & (hour <= 23) & (minute <= 59) & (second <= 59)
    # days since 1970-01-01 of the proleptic Gregorian date
    before = year - 1
    days = (
        before * 365 + before // 4 - before // 100 + before // 400
        + _DAYS_BEFORE_MONTH[safe_month] + ((safe_month > 2) & leap) + day - 1
        - 719162
    )
    whole = days * 86400 + hour * 3600 + minute * 60 + second - offset
    epoch = (whole * 1_000_000 + micro) / 1e6 if fraction else whole.astype(np.float64)
    ok &= (epoch >= _MIN_EPOCH) & (epoch <= _MAX_EPOCH)
    return ok, epoch
