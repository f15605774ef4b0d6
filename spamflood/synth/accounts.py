"""The accounts of the synthetic feed: ordinary people, media, brands and campaign accounts.

People (:class:`Population`) are many and described lazily: person ``k`` (``k`` = rank by
activity, 0 the most active) gets a profile drawn from their own seeded stream the first time
they post, kept in a bounded cache. Their activity follows a heavy tail (a tenth of the
people write about two thirds of the posts, the most active about 80 times the average), they
favour their own hours of the day (early birds, night owls), some fall silent for days, and
their profiles vary: accounts from a few weeks to fifteen years old, log-normal follower
counts, bios from none to a line of interests, a few default names like ``用户5830291746``.

Campaign accounts (:class:`AccountMaker`) are made by the campaign planner: batches registered
together (close creation times, one name stem plus digits, empty or default bios, no or
bought followers), seller accounts, and the official accounts of brands and media.

Account ids are ``u`` plus nine digits from a seeded permutation of the account's index, so an
id says nothing about what kind of account it is.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from spamflood.synth.bank import Bank, Brand, Slots
from spamflood.synth.clock import iso_utc
from spamflood.synth.rand import Stream, np_rng, py_rng

__all__ = ["DIURNAL", "Account", "AccountMaker", "Person", "Population"]

DAY = 86400
_ID_PRIME = 999_999_937  # ids are a permutation of [0, prime)
_MEDIA_BASE = 300_000_000
_BRAND_BASE = 310_000_000
_CAMPAIGN_BASE = 400_000_000
_CACHE = 50_000  # people profiles kept (about 25 MB at most); bounded whatever the feed size

DIURNAL = np.array([3, 2, 1.2, 0.8, 0.6, 0.8, 2, 4.5, 7, 8, 7.5, 8, 10, 9, 7.5, 7.5, 8, 8.5, 10, 12, 13.5, 14, 11, 6.5])
"""Relative posting activity of people by local hour (asleep at 4am, busiest at 9pm)."""

_SHIFTS = (-1, 0, 0, 0, 0, 0, 1, 1, 2, 3)  # hours a person's day is shifted (night owls)
# Probability that a person with shift s, met at local hour h, posts then: their own curve
# relative to the crowd's, scaled so that the most favoured shift accepts always.
_PREF = np.array([[DIURNAL[(h - s) % 24] / DIURNAL[h] for s in range(-1, 4)] for h in range(24)])
_ACCEPT = _PREF / _PREF.max(axis=1, keepdims=True)


@dataclass(frozen=True, slots=True)
class Account:
    """What a post record says about its author."""

    id: str
    name: str
    bio: str
    created: int
    followers: int
    following: int
    statuses: int
    lang: str

    @property
    def created_iso(self) -> str:
        return iso_utc(self.created)


@dataclass(frozen=True, slots=True)
class Person:
    """An ordinary user as their posts show them (their rhythm lives in :class:`Population`)."""

    account: Account
    created_iso: str


class AccountIds:
    """Index -> ``u`` + 9 digits, a seeded affine permutation modulo a prime."""

    def __init__(self, seed: int) -> None:
        r = py_rng(seed, Stream.IDS)
        self.a = 1 + r.randrange(_ID_PRIME - 1)
        self.b = r.randrange(_ID_PRIME)

    def __call__(self, index: int) -> str:
        return f"u{(self.a * index + self.b) % _ID_PRIME:09d}"


def _lognormal(r: random.Random, mu: float, sigma: float, cap: int) -> int:
    return min(cap, int(math.exp(r.gauss(mu, sigma))))


class Population:
    """The organic users; see the module docstring.

    What decides *when* a person posts (language, chronotype, silent spell) is held in small
    NumPy arrays for everyone (about ten bytes a person), so that drawing the authors of an
    hour is vectorised; what a post shows (name, bio, counts) is drawn per person on first use
    and cached.
    """

    R0 = 0.002  # flattens the top of the activity curve: weight of rank fraction x is 1/(x + R0)

    def __init__(self, bank: Bank, seed: int, size: int, zh_ratio: float, first: int, days: int, ids: AccountIds) -> None:
        self.bank = bank
        self.seed = seed
        self.size = max(1, size)
        self.first = first
        self.days = days
        self.ids = ids
        self._log = math.log((1 + self.R0) / self.R0)
        self._cache: OrderedDict[int, Person] = OrderedDict()
        g = np_rng(seed, Stream.PERSON_NP)
        self.zh = g.random(self.size) < zh_ratio
        self.shift = np.asarray(_SHIFTS, dtype=np.int8)[g.integers(0, len(_SHIFTS), self.size)]
        silent = g.random(self.size) < 0.3
        begin = g.integers(-10, days, self.size)
        self.silent_from = np.where(silent, begin, -(10**6)).astype(np.int32)
        self.silent_to = np.where(silent, begin + 3 + g.integers(0, 18, self.size), -(10**6)).astype(np.int32)

    def ranks(self, g: np.random.Generator, n: int) -> np.ndarray:
        """``n`` people drawn by activity (inverse CDF of the 1/(x + R0) curve)."""
        x = self.R0 * np.exp(g.random(n) * self._log) - self.R0
        return np.minimum((x * self.size).astype(np.int64), self.size - 1)

    def draw(self, u: float) -> int:
        """The person at quantile ``u`` of the activity curve (one draw of :meth:`ranks`)."""
        x = self.R0 * math.exp(u * self._log) - self.R0
        return min(int(x * self.size), self.size - 1)

    def authors(self, g: np.random.Generator, n: int, local_hour: int, day: int) -> list[int]:
        """``n`` people who post at this local hour of day block ``day``: drawn by activity and
        kept when it is their time of day (chronotype) and not one of their silent spells."""
        chosen: list[np.ndarray] = []
        need, rounds = n, 0
        accept = _ACCEPT[local_hour]
        while need > 0:
            m = 2 * need + 16
            ranks = self.ranks(g, m)
            u = g.random(m)
            if rounds < 3:  # after three rounds, take whoever comes (never happens in practice)
                silent = (self.silent_from[ranks] <= day) & (day < self.silent_to[ranks])
                ranks = ranks[(u < accept[self.shift[ranks] + 1]) & ~silent]
            chosen.append(ranks[:need])
            need -= len(chosen[-1])
            rounds += 1
        return np.concatenate(chosen).tolist() if chosen else []

    def person(self, k: int) -> Person:
        found = self._cache.get(k)
        if found is not None:
            return found
        made = self._make(k)
        self._cache[k] = made
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return made

    def _make(self, k: int) -> Person:
        r = py_rng(self.seed, Stream.PERSON, k)
        lang = "zh" if self.zh[k] else "en"
        text = self.bank.text[lang]
        slots = Slots(text.vocab, r)
        frac = (k + 0.5) / self.size
        relative = 1.0 / ((frac + self.R0) * self._log)  # posts per day relative to the average person
        age_days = 20 + 5400 * r.random() ** 1.7
        created = self.first - int(age_days * DAY) - int(r.random() * DAY)
        statuses = max(1, int(0.4 * relative * age_days * math.exp(r.gauss(0, 0.6))))
        followers = _lognormal(r, 4.2 + 0.5 * math.log1p(relative), 1.5, 20_000_000)
        following = _lognormal(r, 5.2, 0.9, 5000)
        names = text.names
        if r.random() < 0.03:
            name = _pick(names["default"], r).fill(slots)
        else:
            name = _pick(names["organic"], r).fill(slots)
        bios = names["bio_organic"]
        bio = "" if r.random() < self.bank.bio_empty_share else _pick(bios, r).fill(slots)
        account = Account(self.ids(k), name, bio, created, followers, following, statuses, lang)
        return Person(account, iso_utc(created))


class AccountMaker:
    """Accounts that campaigns and newsrooms post from; see the module docstring."""

    def __init__(self, bank: Bank, seed: int, first: int, ids: AccountIds) -> None:
        self.bank = bank
        self.seed = seed
        self.first = first
        self.ids = ids
        self._next = _CAMPAIGN_BASE
        self._brands: dict[tuple[int, str], Account] = {}
        self._media: dict[tuple[int, str], Account] = {}

    def _index(self) -> int:
        self._next += 1
        return self._next

    def brand(self, brand: Brand, lang: str) -> Account:
        """The official account of ``brand`` in ``lang`` (one per brand and language)."""
        key = (brand.index, lang)
        found = self._brands.get(key)
        if found is None:
            index = _BRAND_BASE + 2 * brand.index + (lang == "en")
            r = py_rng(self.seed, Stream.BRAND, index)
            text = self.bank.text[lang]
            slots = Slots(text.vocab, r)
            slots.update(brand=brand.zh if lang == "zh" else brand.en, slug=brand.slug, product=self.product(brand, lang, r))
            found = Account(
                id=self.ids(index),
                name=_pick(text.names["brand"], r).fill(slots),
                bio=_pick(text.names["bio_brand"], r).fill(slots),
                created=self.first - int((600 + 3000 * r.random()) * DAY),
                followers=_lognormal(r, 10.5, 1.1, 30_000_000),
                following=50 + int(r.random() * 600),
                statuses=2000 + int(r.random() * 30000),
                lang=lang,
            )
            self._brands[key] = found
        return found

    def media(self, j: int, lang: str) -> Account:
        """Newsroom ``j`` (of the media names) in ``lang``."""
        text = self.bank.text[lang]
        j %= len(text.media)
        key = (j, lang)
        found = self._media.get(key)
        if found is None:
            index = _MEDIA_BASE + 2 * j + (lang == "en")
            r = py_rng(self.seed, Stream.MEDIA, index)
            slots = Slots(text.vocab, r)
            found = Account(
                id=self.ids(index),
                name=text.media[j].fill(slots),
                bio=_pick(text.media_bio, r),
                created=self.first - int((1500 + 2500 * r.random()) * DAY),
                followers=_lognormal(r, 12.5, 1.0, 80_000_000),
                following=20 + int(r.random() * 300),
                statuses=20_000 + int(r.random() * 200_000),
                lang=lang,
            )
            self._media[key] = found
        return found

    def product(self, brand: Brand, lang: str, r: random.Random) -> str:
        return _pick(self.bank.categories[brand.category][lang], r)

    def batch(self, count: int, lang: str, made: int, r: random.Random) -> tuple[list[Account], dict[str, str]]:
        """``count`` accounts registered together from ``made`` on, by one tool; and how.

        One tool gives one naming pattern (a stem plus digits, or the platform's default
        name), one bio (mostly empty or default) and one follower style: none (a few
        followers, following many) or bought (thousands of followers, few posts).
        """
        text = self.bank.text[lang]
        slots = Slots(text.vocab, r)
        default = r.random() < self.bank.batch_default_share
        if default:
            pattern = _pick(text.names["default"], r)
            stem = ""
        else:
            stem = _pick(text.names["stem"], r).text
            pattern = _pick(text.names["batch"], r)
            slots["stem"] = stem
        bios = text.names["bio_batch"]
        bio = _pick(bios, r).fill(slots)
        bought = r.random() < 0.35
        gap = 2 + 28 * r.random()  # seconds between registrations
        accounts, t = [], float(made)
        for _ in range(count):
            t += gap * (0.5 + r.random())
            if bought:
                followers, following = 2000 + int(r.random() * 48000), int(r.random() * 120)
            else:
                followers, following = int(r.random() * 20), 150 + int(r.random() * 1800)
            accounts.append(
                Account(
                    id=self.ids(self._index()),
                    name=pattern.fill(slots),
                    bio=bio if r.random() < 0.9 else _pick(bios, r).fill(slots),
                    created=int(t),
                    followers=followers,
                    following=following,
                    statuses=int(r.random() * 60),
                    lang=lang,
                )
            )
        how = {
            "created_from": iso_utc(made),
            "created_to": iso_utc(int(t)),
            "name_stem": stem or "(default name)",
            "followers": "bought" if bought else "few",
        }
        return accounts, how

    def seller(self, lang: str, product: str, handle: str, phone: str, r: random.Random) -> Account:
        """A micro-business seller: a year or more old, a friends-sized audience, a sales bio."""
        text = self.bank.text[lang]
        slots = Slots(text.vocab, r)
        slots.update(product=product, handle=handle, phone=phone)
        return Account(
            id=self.ids(self._index()),
            name=_pick(text.names["seller"], r).fill(slots),
            bio=_pick(text.names["bio_seller"], r).fill(slots),
            created=self.first - int((120 + 1200 * r.random()) * DAY),
            followers=_lognormal(r, 6.5, 0.8, 50_000),
            following=200 + int(r.random() * 2500),
            statuses=800 + int(r.random() * 15000),
            lang=lang,
        )


def _pick(seq, r: random.Random):  # type: ignore[no-untyped-def]
    return seq[int(r.random() * len(seq))]
