"""The generator's parameters, checked once, with messages that name the parameter."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from numbers import Real

from spamflood.errors import ConfigError
from spamflood.io.timestamps import resolve_tz

__all__ = ["SynthParams"]

MAX_POSTS = 1_000_000_000
MAX_DAYS = 3660


def _share(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"The '{name}' parameter must be a number in [0, 1]. Got {value!r} instead.")
    return float(value)


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"The '{name}' parameter must be an integer in [{low}, {high}]. Got {value!r} instead.")
    return int(value)


@dataclass(frozen=True)
class SynthParams:
    """Validated parameters of one synthetic feed (see :func:`spamflood.synth.generate`)."""

    posts: int
    seed: int
    zh_ratio: float
    start: datetime
    days: int
    spam_ratio: float
    tz: tzinfo
    evasion: float

    @property
    def first(self) -> int:
        """Epoch second of the feed's first instant."""
        return int(self.start.timestamp())

    @property
    def end(self) -> int:
        """Epoch second just after the feed's last instant."""
        return self.first + self.days * 86400

    @classmethod
    def check(
        cls,
        posts: object,
        *,
        seed: object = 0,
        zh_ratio: object = 0.5,
        start: object = "2026-01-20",
        days: object = 30,
        spam_ratio: object = 0.15,
        tz: object = "Asia/Shanghai",
        evasion: object = 0.5,
    ) -> SynthParams:
        """Check every parameter; raise :class:`ConfigError` naming the first bad one."""
        n = _whole("posts", posts, 1, MAX_POSTS)
        s = _whole("seed", seed, 0, 2**63 - 1)
        if not isinstance(tz, str):
            raise ConfigError(f"The 'tz' parameter must be a time zone name like 'Asia/Shanghai'. Got {tz!r} instead.")
        try:
            zone = resolve_tz(tz)
        except ConfigError as exc:
            raise ConfigError(f"The 'tz' parameter is not a known time zone: {exc}") from None
        return cls(
            posts=n,
            seed=s,
            zh_ratio=_share("zh_ratio", zh_ratio),
            start=_start(start, zone),
            days=_whole("days", days, 1, MAX_DAYS),
            spam_ratio=_share("spam_ratio", spam_ratio),
            tz=zone,
            evasion=_share("evasion", evasion),
        )


def _start(value: object, zone: tzinfo) -> datetime:
    """The first instant: a date or naive time is local to ``zone``; an aware time is kept."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(
                f"The 'start' parameter must be an ISO date like '2026-01-20' or a time like "
                f"'2026-01-20T08:00:00+08:00'. Got {value!r} instead."
            ) from None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=zone)
    else:
        raise ConfigError(f"The 'start' parameter must be a date, datetime or ISO string. Got {value!r} instead.")
    if not 2001 <= moment.year <= 2090 or not math.isfinite(moment.timestamp()):
        raise ConfigError(
            f"The 'start' parameter must fall in the years 2001..2090 (festival calendars). Got {value!r} instead."
        )
    return moment
