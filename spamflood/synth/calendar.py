"""Festival dates for the synthetic feed, from the ``holidays`` package.

Each festival in ``festivals.json`` says how its date is found:

* ``{"holidays": "CN", "names": [...]}``: the first day that ``holidays.country_holidays``
  names so in that country and year. China's table gives Spring Festival, Dragon Boat and
  Mid-Autumn from the package's Chinese lunisolar calendar, and New Year, May Day and
  National Day; the US table gives Thanksgiving and Christmas.
* ``"offset"`` days are added after that. The Lantern Festival (1st lunar month, day 15) is
  Spring Festival + 14, exactly as the package itself places the 15th day of the first month
  (its ``_add_daeboreum_day``); Black Friday is Thanksgiving + 1.
* ``{"fixed": "MM-DD"}`` for calendar-day festivals (Valentine's Day, 520, 618, Double 11).
* ``{"weekday": "MM-DAY-N"}`` for the N-th weekday of a month (Mother's Day ``05-sun-2``).
* ``{"lunar": "qixi"}``: Qixi, the 7th day of the 7th lunar month, which the package does not
  list. It comes from :func:`spamflood.criteria.festivals.qixi_date`, the project's one
  implementation: it anchors on the package's Mid-Autumn date (8th month, day 15), steps back
  to the new moon that opens the 7th month, and handles a leap 7th month.

The detector finds festival dates with its own rules, so the truth here does not depend on it
(except for Qixi, which both take from the same function).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from spamflood.errors import ConfigError
from spamflood.synth.bank import FestivalSpec

__all__ = ["FestivalDay", "festival_date", "festivals_between"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class FestivalDay:
    """One festival on its date in one year."""

    spec: FestivalSpec
    date: date

    @property
    def key(self) -> str:
        return self.spec.key

    def name(self, lang: str) -> str:
        return self.spec.zh if lang == "zh" else self.spec.en


@lru_cache(maxsize=256)
def _country(code: str, year: int) -> tuple[tuple[date, str], ...]:
    import holidays

    try:
        table = holidays.country_holidays(code, years=year)
    except NotImplementedError:
        raise ConfigError(f"festivals.json: the holidays package has no country {code!r}") from None
    return tuple(sorted(table.items()))


def festival_date(spec: FestivalSpec, year: int) -> date | None:
    """The date of ``spec`` in ``year``, or ``None`` when the calendar has none that year."""
    rule = spec.date
    day: date | None
    if "holidays" in rule:
        names = rule.get("names") or []
        day = next(
            (d for d, name in _country(str(rule["holidays"]), year) if any(n in name.split("; ") for n in names)),
            None,
        )
    elif "fixed" in rule:
        month, dom = (int(x) for x in str(rule["fixed"]).split("-"))
        day = date(year, month, dom)
    elif "weekday" in rule:
        month_s, wd, nth = str(rule["weekday"]).split("-")
        first = date(year, int(month_s), 1)
        shift = (_WEEKDAYS.index(wd) - first.weekday()) % 7
        day = first + timedelta(days=shift + 7 * (int(nth) - 1))
    elif rule.get("lunar") == "qixi":
        from spamflood.criteria.festivals import qixi_date

        try:
            day = qixi_date(year)
        except (KeyError, ValueError, TypeError, IndexError):
            day = None
    else:
        raise ConfigError(f"festivals.json: festival {spec.key!r} has an unknown date rule {dict(rule)!r}")
    if day is None:
        return None
    return day + timedelta(days=spec.offset)


def festivals_between(specs: tuple[FestivalSpec, ...], first: date, last: date) -> list[FestivalDay]:
    """Festivals whose date falls in ``[first, last]``, in date order (ties by key)."""
    out = []
    for spec in specs:
        for year in range(first.year - 1, last.year + 2):
            day = festival_date(spec, year)
            if day is not None and first <= day <= last:
                out.append(FestivalDay(spec, day))
    return sorted(out, key=lambda f: (f.date, f.key))
