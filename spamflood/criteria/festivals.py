"""Festival dates, from the ``holidays`` package, for the holiday-template criterion.

``festivals.toml`` names each festival and says how its date is found, with one of:

* ``fixed:MM-DD`` (Valentine's Day, Double 11, 618, ...);
* ``holidays:CC:Name``: the first day the ``holidays`` package names so in country ``CC``
  (National Day, Thanksgiving, Christmas, ...);
* ``lunisolar:NAME``: a method ``NAME_date`` of the package's Chinese lunisolar helper
  (``lunar_new_year``, ``dragon_boat``, ``mid_autumn``, ``double_ninth``);
* ``weekday:MM:DAY:N``: the N-th weekday ``DAY`` of month ``MM`` (Mother's Day: ``05:sun:2``);
* ``qixi``: the 7th day of the 7th lunar month, which the package lacks (see :func:`qixi_date`);

optionally followed by ``+N`` or ``-N`` days (Lantern Festival is ``lunisolar:lunar_new_year+14``,
Black Friday ``holidays:US:Thanksgiving+1``).

>>> festival_date("mid_autumn", 2026).isoformat()
'2026-09-25'
>>> festival_date("qixi", 2026).isoformat()
'2026-08-19'
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from spamflood.criteria.lexicon import LEXICON_DIR
from spamflood.errors import ConfigError

__all__ = ["FESTIVALS", "Festival", "days_to", "festival_date", "load_festivals", "qixi_date"]

_RULE = re.compile(
    r"^(?P<src>fixed:(?P<md>\d\d-\d\d)"
    r"|holidays:(?P<cc>[A-Z]{2}):(?P<hname>[^+\-]+)"
    r"|lunisolar:(?P<lun>[a-z_]+)"
    r"|weekday:(?P<wm>\d\d):(?P<wd>mon|tue|wed|thu|fri|sat|sun):(?P<wn>[1-5])"
    r"|qixi)(?P<off>[+-]\d+)?$"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LUNISOLAR = ("lunar_new_year", "dragon_boat", "mid_autumn", "double_ninth")


@dataclass(frozen=True, slots=True)
class Festival:
    """A festival: its key (the tag in ``holiday_names.txt``), display names, date rule."""

    key: str
    name: str
    name_zh: str
    rule: str


def load_festivals(path: Path | None = None) -> dict[str, Festival]:
    """Read and validate ``festivals.toml``; a bad rule raises :class:`ConfigError`."""
    path = path or LEXICON_DIR / "festivals.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Festival file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Festival file {path} is not valid TOML: {exc}") from None
    out: dict[str, Festival] = {}
    for key, body in data.items():
        where = f"Festival file {path}, [{key}]"
        if not re.match(r"^[a-z][a-z0-9_]*$", key) or not isinstance(body, dict):
            raise ConfigError(f"{where}: festival keys are lower_snake tables")
        for field in ("name", "name_zh", "rule"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ConfigError(f"{where}: needs a non-empty '{field}' string")
        m = _RULE.match(body["rule"])
        if not m:
            raise ConfigError(
                f"{where}: rule {body['rule']!r} is not one of fixed:MM-DD, holidays:CC:Name, "
                f"lunisolar:NAME, weekday:MM:DAY:N, qixi (each optionally +N/-N days)"
            )
        if m.group("lun") and m.group("lun") not in _LUNISOLAR:
            raise ConfigError(f"{where}: lunisolar rule must name one of {list(_LUNISOLAR)}")
        out[key] = Festival(key, body["name"], body["name_zh"], body["rule"])
    for key, festival in out.items():  # every rule must give a date for a sample year
        try:
            _date_from_rule(festival.rule, 2024)
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"Festival file {path}, [{key}]: rule gives no date ({exc})") from None
    return out


# --------------------------------------------------------------------------- astronomy for Qixi

_CHINA_OFFSET_DAYS = 8 / 24  # the Chinese calendar counts days in UTC+8


def _new_moon_jde(k: int) -> float:
    """Julian Ephemeris Day of new moon number ``k`` (k=0 near 2000-01-06), after Meeus, ch. 49.

    The largest periodic terms are kept; the error is a few minutes, which only matters for a
    new moon within minutes of midnight in China.
    """
    t = k / 1236.85
    jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    rad = math.radians
    m = rad(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    mp = rad(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4)
    f = rad(160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4)
    om = rad(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    sin = math.sin
    jde += (
        -0.40720 * sin(mp)
        + 0.17241 * e * sin(m)
        + 0.01608 * sin(2 * mp)
        + 0.01039 * sin(2 * f)
        + 0.00739 * e * sin(mp - m)
        - 0.00514 * e * sin(mp + m)
        + 0.00208 * e * e * sin(2 * m)
        - 0.00111 * sin(mp - 2 * f)
        - 0.00057 * sin(mp + 2 * f)
        + 0.00056 * e * sin(2 * mp + m)
        - 0.00042 * sin(3 * mp)
        + 0.00042 * e * sin(m + 2 * f)
        + 0.00038 * e * sin(m - 2 * f)
        - 0.00024 * e * sin(2 * mp - m)
        - 0.00017 * sin(om)
    )
    return jde


def _china_date(jd: float) -> date:
    return date.fromordinal(math.floor(jd + 0.5 + _CHINA_OFFSET_DAYS) - 1721425)


def _jd(d: date) -> float:
    """Julian Day at 00:00 UTC of ``d``."""
    return d.toordinal() + 1721424.5


def _solar_longitude(jd: float) -> float:
    """Apparent solar longitude in degrees (Meeus, ch. 25, low accuracy: about 0.01 degree)."""
    t = (jd - 2451545.0) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = math.radians(357.52911 + 35999.05029 * t - 0.0001537 * t * t)
    c = (1.914602 - 0.004817 * t) * math.sin(m) + 0.019993 * math.sin(2 * m) + 0.000289 * math.sin(3 * m)
    om = math.radians(125.04 - 1934.136 * t)
    return (l0 + c - 0.00569 - 0.00478 * math.sin(om)) % 360


def _chushu(year: int) -> date:
    """The China date of the major solar term Chushu (sun at 150 degrees), about Aug 23."""
    d = date(year, 8, 19)
    while _solar_longitude(_jd(d + timedelta(days=1)) - _CHINA_OFFSET_DAYS) < 150.0:
        d += timedelta(days=1)
    return d


def qixi_date(year: int) -> date:
    """The 7th day of the 7th lunar month (Qixi), anchored on the package's Mid-Autumn date.

    The package's lunisolar helper gives Mid-Autumn (8th month, day 15), so the 8th month starts
    14 days earlier; the 7th month starts at the previous new moon, unless that month begins
    after Chushu (the major solar term every regular 7th month holds), in which case it is a
    leap 7th month and the regular one starts one lunation earlier (as in 2006).
    """
    eighth = _lunisolar("mid_autumn", year) - timedelta(days=14)
    k = round((_jd(eighth) - 29.530588861 - 2451550.09766) / 29.530588861)
    starts = sorted(_china_date(_new_moon_jde(i)) for i in range(k - 2, k + 2))
    earlier = [d for d in starts if d < eighth - timedelta(days=20)]
    seventh = earlier[-1]
    if seventh > _chushu(year):
        seventh = earlier[-2]
    return seventh + timedelta(days=6)


# --------------------------------------------------------------------------- rules


@lru_cache(maxsize=1)
def _lunisolar_helper() -> Any:
    from holidays.calendars.chinese import _ChineseLunisolar

    return _ChineseLunisolar()


def _lunisolar(name: str, year: int) -> date:
    value, _estimated = getattr(_lunisolar_helper(), f"{name}_date")(year)
    if value is None:
        raise ValueError(f"the holidays package has no {name} date for {year}")
    return value


@lru_cache(maxsize=256)
def _country(cc: str, year: int) -> Any:
    import holidays

    return holidays.country_holidays(cc, years=year)


def _date_from_rule(rule: str, year: int) -> date:
    m = _RULE.match(rule)
    if not m:
        raise ValueError(f"bad rule {rule!r}")
    if m.group("md"):
        month, day = (int(x) for x in m.group("md").split("-"))
        d = date(year, month, day)
    elif m.group("cc"):
        days = _country(m.group("cc"), year).get_named(m.group("hname").strip(), lookup="exact")
        if not days:
            raise ValueError(f"holidays has no {m.group('hname')!r} in {m.group('cc')} for {year}")
        d = min(days)
    elif m.group("lun"):
        d = _lunisolar(m.group("lun"), year)
    elif m.group("wm"):
        month, weekday, nth = int(m.group("wm")), _WEEKDAYS.index(m.group("wd")), int(m.group("wn"))
        first = date(year, month, 1)
        d = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    else:
        d = qixi_date(year)
    if m.group("off"):
        d += timedelta(days=int(m.group("off")))
    return d


FESTIVALS: dict[str, Festival] = load_festivals()
"""key -> :class:`Festival`, from ``festivals.toml``."""


@lru_cache(maxsize=4096)
def festival_date(key: str, year: int) -> date:
    """The date of festival ``key`` in ``year`` (Gregorian)."""
    try:
        festival = FESTIVALS[key]
    except KeyError:
        raise ConfigError(f"Unknown festival {key!r}; expected one of {sorted(FESTIVALS)}") from None
    return _date_from_rule(festival.rule, year)


def days_to(key: str, day: date) -> tuple[int, date] | None:
    """Signed days from ``day`` to the nearest date of festival ``key`` (positive: before it).

    Ties go to the coming date. ``None`` when the package has no date near that year.
    """
    best: tuple[int, date] | None = None
    for year in (day.year - 1, day.year, day.year + 1):
        try:
            when = festival_date(key, year)
        except (ValueError, KeyError):
            continue
        diff = (when - day).days
        if best is None or abs(diff) < abs(best[0]) or (abs(diff) == abs(best[0]) and diff > best[0]):
            best = (diff, when)
    return best
