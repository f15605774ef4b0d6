"""What happens in the synthetic world, planned before the first post: the calendar of the feed.

* Festivals (dates from :mod:`.calendar`): people greet each other near the date, brands hang
  copy on them.
* Disasters (smog, sandstorm, typhoon, earthquake, plane crash, ...): at a random time in a
  random city. People react with sympathy and local reports for a few days; a newsroom posts
  the headline and people share it; brands hijack it (see the campaigns).
* Viral news: an ordinary headline posted by a newsroom and then shared by many people within
  minutes, each with their own comment, some as reposts of the newsroom's post. This is
  legitimate virality: many accounts, one link, a short window, and no campaign behind it.
* Habits: a few people post every day at about the same time (a check-in, a morning greeting,
  a quote): a few minutes either side and not every day, the human shadow of a scheduler.
* Volume: how many ordinary posts each hour gets: the day/night curve in local time, busier
  weekends, day-to-day noise, and the midnight rush into a festival such as the Spring Festival.

All of it is sized by days (a few dozen items per week), never by posts, so it stays small.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from spamflood.synth.accounts import DIURNAL, Account, AccountMaker
from spamflood.synth.bank import Bank, Disaster, Slots
from spamflood.synth.calendar import FestivalDay, festivals_between
from spamflood.synth.clock import Clock
from spamflood.synth.params import SynthParams
from spamflood.synth.rand import Stream, np_rng, py_rng

__all__ = ["Event", "Story", "World"]

HOUR = 3600
DAY = 86400
_LANGS = ("zh", "en")


@dataclass
class Event:
    """A disaster: when, where, and its name and headline in each language."""

    t: int
    spec: Disaster
    city: dict[str, str]
    headline: dict[str, str]

    def name(self, lang: str) -> str:
        return self.spec.zh if lang == "zh" else self.spec.en


@dataclass(frozen=True)
class Routine:
    """A person's daily habit: post ``kind`` at about ``hour:minute`` on most days."""

    rank: int
    hour: int
    minute: int
    jitter: int
    kind: str
    chance: float


_GREET_REACH = 7  # no festival greets more than a week either side of its date

_ROUTINES = (  # kind, hours it may sit at, minutes of jitter either side
    ("morning_greeting", (6, 7, 7, 8), 15),
    ("checkin", (6, 7, 20, 21, 22), 20),
    ("quote", (7, 7, 22, 23), 10),
    ("night_greeting", (22, 23, 23), 15),
)


@dataclass
class Story:
    """A headline shared virally: the newsroom posts at ``t0``; people share at ``times``."""

    sid: int
    t0: int
    headline: dict[str, str]
    link: dict[str, str]
    media: dict[str, Account]
    times: np.ndarray
    event: Event | None = None
    origin: dict[str, str] = field(default_factory=dict)  # lang -> id of the newsroom post
    sharers: set[int] = field(default_factory=set)  # ranks of the people who shared it so far


class World:
    """Festivals, disasters, stories and hourly volume of one feed; see the module docstring."""

    def __init__(
        self, params: SynthParams, bank: Bank, clock: Clock, maker: AccountMaker, organic: int, people: int
    ) -> None:
        self.params = params
        self.bank = bank
        self.clock = clock
        first, end, days = params.first, params.end, params.days
        self.first, self.end, self.hours = first, end, days * 24
        langs = [lang for lang in _LANGS if (params.zh_ratio if lang == "zh" else 1 - params.zh_ratio) > 0]
        self.langs = langs
        d0 = clock.date_of(first)
        d1 = clock.date_of(end - 1)
        self.festivals: list[FestivalDay] = festivals_between(bank.festivals, d0 - timedelta(days=3), d1 + timedelta(days=20))
        r = py_rng(params.seed, Stream.WORLD)
        g = np_rng(params.seed, Stream.WORLD)
        self.local_hours = np.array([clock.hour(first + h * HOUR) for h in range(self.hours)], dtype=np.int64)

        # Disasters: about one a week, the first in the first 40% of the feed.
        span = end - first
        n_events = max(1, int(g.poisson(days / 7.0))) if days >= 1 else 0
        self.events: list[Event] = []
        for i in range(n_events):
            lo, hi = (first + span // 20, first + span * 2 // 5) if i == 0 else (first, end - span // 20)
            t = int(lo + r.random() * max(1, hi - lo))
            spec = bank.disasters[int(r.random() * len(bank.disasters))]
            city = {lang: _pick(bank.text[lang].vocab["city"], r) for lang in _LANGS}
            headline = {}
            for lang in _LANGS:
                slots = Slots(bank.text[lang].vocab, r)
                slots["city"] = city[lang]
                headline[lang] = _pick(spec.headline[lang], r).fill(slots)
            self.events.append(Event(t, spec, city, headline))
        self.events.sort(key=lambda e: e.t)

        # Stories: each disaster's headline, plus ordinary news about once a day.
        per_hour = organic / max(1, self.hours)
        wanted: list[tuple[int, Event | None]] = []
        for e in self.events:
            wanted.append((e.t + 600 + int(r.random() * 2400), e))
        for _ in range(int(g.poisson(0.7 * days))):
            wanted.append((int(first + r.random() * (span - HOUR)), None))
        wanted.sort(key=lambda w: w[0])
        self.stories: list[Story] = []
        budget = organic // 12  # virality takes at most a twelfth of the organic posts
        for t0, event in wanted:
            size = int(min(800, max(4, 1.5 * per_hour * math.exp(r.gauss(0, 0.7)))))
            cost = size + len(langs)
            if cost > budget or t0 >= end - 60:
                continue
            budget -= cost
            tau = 300 + r.random() * 3300  # shares fade with a time constant of 5 to 60 minutes
            times = np.sort(t0 + 20 + np.minimum(g.exponential(tau, size), DAY).astype(np.int64))
            times = np.minimum(times, end - 1)
            headline, link, media = {}, {}, {}
            j = int(r.random() * 1000)
            for lang in _LANGS:
                text = bank.text[lang]
                if event is not None:
                    headline[lang] = event.headline[lang]
                else:
                    headline[lang] = _pick(text.headlines, r).fill(Slots(text.vocab, r))
                path = "".join(_ALNUM[int(r.random() * len(_ALNUM))] for _ in range(10))
                link[lang] = f"https://{_pick(text.news_domains, r)}/{path}"
                media[lang] = maker.media(j, lang)
            self.stories.append(Story(len(self.stories), t0, headline, link, media, times, event))
        self.viral_posts = sum(len(s.times) + len(langs) for s in self.stories)
        self._next_story = 0
        self._running: list[Story] = []
        self._festival_dates = [f.date for f in self.festivals]

        # Hourly organic volume.
        weights = DIURNAL[self.local_hours].astype(float)
        day_noise = np.exp(g.normal(0, 0.12, days))
        weights *= np.repeat(day_noise, 24)[: self.hours]
        weekday = np.array([clock.local(first + h * HOUR).weekday() for h in range(0, self.hours, 24)])
        weights *= np.repeat(np.where(weekday >= 5, 1.12, 1.0), 24)[: self.hours]
        for f in self.festivals:
            if f.spec.midnight:
                at = (clock.at(f.date) - first) // HOUR
                for h in (at - 1, at):
                    if 0 <= h < self.hours:
                        weights[h] *= 3.0
        for e in self.events:
            h = (e.t - first) // HOUR
            weights[max(0, h): max(0, h + 6)] *= 1.3
        base = max(0, organic - self.viral_posts)
        self.hourly = g.multinomial(base, weights / weights.sum()) if self.hours else np.zeros(0, dtype=np.int64)

        # Habits, taken out of the hourly volume (an hour keeps at most its planned posts).
        self.routines: list[Routine] = []
        for _ in range(min(2000, people // 100)):
            kind, hours, jitter = _ROUTINES[int(r.random() * len(_ROUTINES))]
            rank = int(r.random() ** 2 * people)  # the habitual are more often active people
            hour = hours[int(r.random() * len(hours))]
            self.routines.append(Routine(rank, hour, int(r.random() * 60), jitter * 60, kind, 0.6 + 0.35 * r.random()))
        counts = np.zeros(self.hours, dtype=np.int64)
        for d in range(days):
            for t, _ in self._routine_day(d):
                h = (t - first) // HOUR
                if 0 <= h < self.hours:
                    counts[h] += 1
        self._routine_keep = np.minimum(counts, self.hourly)
        self.hourly = self.hourly - self._routine_keep
        self._routine_cache: dict[int, list[tuple[int, int]]] = {}

    # ------------------------------------------------------------------ queries

    def _routine_day(self, d: int) -> list[tuple[int, int]]:
        """(time, routine index) of the habitual posts of day block ``d`` (the same on every call)."""
        if not self.routines or d < 0 or d >= self.params.days:
            return []
        r = py_rng(self.params.seed, Stream.ROUTINE, d)
        noon = self.first + d * DAY + 12 * HOUR
        day = self.clock.date_of(noon)
        midnight = self.clock.at(day)
        shift = self.clock.offset(midnight) - self.clock.offset(noon)  # a daylight-saving day
        out = []
        for i, ro in enumerate(self.routines):
            go, u, s = r.random(), r.random(), r.random()
            if go < ro.chance:
                t = midnight + ro.hour * HOUR + ro.minute * 60 + (shift if ro.hour >= 3 else 0)
                out.append((t + int((2 * u - 1) * ro.jitter) + int(s * 60), i))
        return out

    def routine_posts(self, h: int, lo: int, hi: int) -> list[tuple[int, Routine]]:
        """The habitual posts of hour ``h`` (``[lo, hi)``), in time order."""
        keep = int(self._routine_keep[h]) if 0 <= h < self.hours else 0
        if not keep:
            return []
        d = h // 24
        for day in (d - 1, d, d + 1):
            if day not in self._routine_cache:
                self._routine_cache[day] = self._routine_day(day)
        for day in [k for k in self._routine_cache if k < d - 1]:
            del self._routine_cache[day]
        found = sorted(p for day in (d - 1, d, d + 1) for p in self._routine_cache[day] if lo <= p[0] < hi)
        return [(t, self.routines[i]) for t, i in found[:keep]]

    def festival_greeting(self, t: int) -> tuple[FestivalDay | None, float]:
        """The festival people greet at ``t`` and the share of their posts that are greetings."""
        best, rate = None, 0.0
        day = self.clock.date_of(t)
        hour = self.clock.hour(t)
        at = bisect_left(self._festival_dates, day - timedelta(days=_GREET_REACH))
        for f in self.festivals[at:]:
            if f.date > day + timedelta(days=_GREET_REACH):
                break
            delta = (day - f.date).days
            if not -f.spec.before <= delta <= f.spec.after:
                continue
            p = f.spec.rate * (1.0 if delta == 0 else 0.45)
            if f.spec.midnight and ((delta == -1 and hour == 23) or (delta == 0 and hour == 0)):
                p = min(0.8, f.spec.rate * 2.2)
            if p > rate:
                best, rate = f, p
        return best, rate

    def disaster_reaction(self, t: int) -> tuple[Event | None, float]:
        """The latest disaster before ``t`` within three days and the share of reactions to it."""
        for e in reversed(self.events):
            age = t - e.t
            if 0 <= age < 3 * DAY:
                return e, 0.12 * math.exp(-age / (8 * HOUR)) + 0.015
            if age >= 3 * DAY:
                break
        return None, 0.0

    def shares_between(self, lo: int, hi: int) -> list[tuple[int, Story, int]]:
        """(time, story, k) of the story posts in ``[lo, hi)``; ``k = -1`` for the newsroom post."""
        out: list[tuple[int, Story, int]] = []
        stories = self.stories  # sorted by t0; hours come in order, so keep the running ones
        while self._next_story < len(stories) and stories[self._next_story].t0 < hi:
            self._running.append(stories[self._next_story])
            self._next_story += 1
        self._running = [s for s in self._running if s.t0 + len(self.langs) > lo or (len(s.times) and s.times[-1] >= lo)]
        for s in self._running:
            out.extend((s.t0 + i, s, -1 - i) for i in range(len(self.langs)) if lo <= s.t0 + i < hi)
            a, b = np.searchsorted(s.times, [lo, hi])
            out.extend((int(s.times[k]), s, int(k)) for k in range(a, b))
        return out

    def festival_window(self, f: FestivalDay) -> tuple[int, int]:
        """When brand copy for ``f`` runs: from local midnight ``lead`` days before to the day's end."""
        return self.clock.at(f.date - timedelta(days=f.spec.lead)), self.clock.at(f.date + timedelta(days=1))

    def festivals_near(self, lo: int, hi: int) -> list[FestivalDay]:
        """Festivals whose brand-copy window meets ``[lo, hi)``."""
        out = []
        for f in self.festivals:
            start, stop = self.festival_window(f)
            if lo < stop and start < hi and start < self.end and stop > self.first:
                out.append(f)
        return out

    def hooks_near(self, lo: int, hi: int) -> tuple[list[Event], list[Story]]:
        """Disasters and ordinary stories from the last 30 hours up to ``hi`` (brands hook on them)."""
        events = [e for e in self.events if lo - 30 * HOUR <= e.t < hi]
        stories = [s for s in self.stories if s.event is None and lo - 30 * HOUR <= s.t0 < hi]
        return events, stories


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _pick(seq, r):  # type: ignore[no-untyped-def]
    return seq[int(r.random() * len(seq))]
