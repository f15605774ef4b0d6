"""The campaigns: the article's marketing behaviours, each planned as accounts, times and copy.

A campaign is planned at the start of a day (who posts, when, from which template) and its posts
are written one by one as the feed reaches their time. Each kind below is one behaviour of
the article; the labels a post carries are the behaviour's label, the content labels of the
template it was written from (``soft_ad`` only when the copy holds a price, discount, link,
contact, code, urgency or call to action), and ``batch_accounts`` when its author was
registered in a batch.

* :class:`MassShare` (screen-sweeping): a brand or seller posts a message and 20-300 accounts
  push the same copy within 2-20 minutes, some as reposts; mostly batch-made accounts (which
  also post a little camouflage), sometimes real people mobilised (an "employee matrix").
* :class:`Repetition`: one account posting the same slogan again and again over days.
* :class:`AutoPosting`: software posting on a fixed clock (every 10-60 minutes at exact minutes,
  round the clock), from one account or a batch; an account that posts one of its few variants
  at least ``Repetition.MIN`` times repeats it, and those posts are also ``repetition``.
* :class:`SoftAd`: product placement posing as personal posts ("not an ad!"), with codes,
  links and contact handles, from real-looking or batch accounts, spread over days.
* :class:`HolidayTemplate`: one festival template reused by several brands and shops, in the
  days before a real festival date and on the day (midnight posts included).
* :class:`HotspotHijack`: brands hooking their copy on a disaster or a viral story shortly
  after it happens, next to the people's sympathy.
* :class:`MicroBusiness`: a seller boasting of sales, posting transfer screenshots and sold-out
  claims and recruiting agents; the agents repost the boasts.
* :class:`ChickenSoup`: a brand's scheduled "good morning"/"good night" inspirational posts at
  the same minute every day (scheduled ones at ``hh:mm:00``, also labelled ``auto_posting``).
* :class:`Coordinated`: a hashtag or link pushed by a batch of 12-150 accounts for 2-8 hours
  in waves (every 2-17 minutes a share of them posts it within 5-45 seconds), every post
  worded anew from everyday phrases: screen-sweeping that no near-duplicate test sees.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from spamflood.synth.accounts import DIURNAL, Account, AccountMaker, Population
from spamflood.synth.bank import Bank, Brand, Slots, Template
from spamflood.synth.clock import Clock
from spamflood.synth.mutate import LINK, Mutator
from spamflood.synth.params import SynthParams
from spamflood.synth.world import Event, Story, World

__all__ = ["KINDS", "Campaign", "Ctx"]

HOUR = 3600
DAY = 86400

COPY, ORIGIN, CAMO, REPOST, AGENT = range(5)  # roles of a campaign's posts

Hook = Event | Story
"""What a hijack hooks on: a disaster or a viral story."""


def _pick(seq, r: random.Random):  # type: ignore[no-untyped-def]
    return seq[int(r.random() * len(seq))]


@dataclass
class Ctx:
    """What planning a campaign needs: material, parameters, the world and account makers."""

    bank: Bank
    params: SynthParams
    clock: Clock
    world: World
    population: Population
    maker: AccountMaker
    mutator: Mutator

    @property
    def first(self) -> int:
        return self.params.first

    @property
    def end(self) -> int:
        return self.params.end

    def lang(self, r: random.Random) -> str:
        return "zh" if r.random() < self.params.zh_ratio else "en"

    def human_time(self, d: int, r: random.Random, earliest: int = 8, latest: int = 23) -> int:
        """A time on day block ``d`` at an hour people are awake (weighted by the day curve)."""
        lo = self.first + d * DAY
        if d < self.params.days:
            hours = self.world.local_hours[d * 24 : d * 24 + 24]
        else:
            hours = np.array([self.clock.hour(lo + i * HOUR) for i in range(24)])
        weights = np.where((hours >= earliest) & (hours <= latest), DIURNAL[hours], 0.0)
        if weights.sum() == 0:
            weights = DIURNAL[hours]
        cum = np.cumsum(weights)
        i = int(np.searchsorted(cum, r.random() * cum[-1], side="right"))
        return lo + min(i, 23) * HOUR + int(r.random() * HOUR)

    def local_time(self, d: int, hour: int, minute: int, second: int = 0) -> int:
        """Epoch second of the local wall-clock time on day block ``d``."""
        return self.clock.at(self.clock.date_of(self.first + d * DAY + 12 * HOUR), hour, minute, second)

    def brand_slots(self, brand: Brand, lang: str, r: random.Random, name: str | None = None) -> dict[str, str]:
        """The fixed values of a brand's copy: name, product, price, code, handle, link."""
        text = self.bank.text[lang]
        lo, hi = self.bank.categories[brand.category]["price"]
        price = lo + (hi - lo) * r.random() ** 2
        price_s = str(max(1, int(price) - int(price) % 10 + 9)) if price >= 20 else f"{price:.1f}"
        slots = Slots(text.vocab, r)
        slots["slug"] = brand.slug
        if r.random() < 0.6:
            link = f"https://{_pick(text.shorteners, r)}/{''.join(_pick(_ALNUM, r) for _ in range(7))}"
        else:
            link = f"https://{_pick(text.landing, r).fill(slots)}"
        return {
            "brand": name or (brand.zh if lang == "zh" else brand.en),
            "slug": brand.slug,
            "product": self.maker.product(brand, lang, r),
            "price": price_s,
            "code": f"{_pick(self.bank.coupon_words, r)}{10 + int(r.random() * 90)}",
            "handle": _pick(text.handle, r).fill(slots),
            "phone": _pick(text.phone, r).fill(slots),
            "url": LINK,
            "_link": link,
        }

    def fill(self, template: Template, lang: str, values: dict[str, str], r: random.Random) -> str:
        slots = Slots(self.bank.text[lang].campaign_vocab, r)
        slots.update(values)
        if "quote" in template.fields and "quote" not in values:
            slots["quote"] = self.quote(lang, r)
        return template.fill(slots)

    def quote(self, lang: str, r: random.Random) -> str:
        return _pick(self.bank.text[lang].kinds["quote"], r).text

    def people(self, n: int, lang: str, r: random.Random) -> list[Account]:
        """Up to ``n`` distinct ordinary people writing in ``lang``."""
        out: dict[str, Account] = {}
        population, zh = self.population, lang == "zh"
        for _ in range(30 * n + 30):
            k = population.draw(r.random())
            if bool(population.zh[k]) == zh:
                account = population.person(k).account
                out.setdefault(account.id, account)
                if len(out) == n:
                    break
        return list(out.values())


_ALNUM = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Campaign:
    """One planned campaign: accounts, post times and roles, and how each post is written."""

    kind: ClassVar[str] = ""
    MIN: ClassVar[int] = 1
    EVASIVE: ClassVar[bool] = True
    MAX_LEVEL: ClassVar[int] = 3

    def __init__(self, ctx: Ctx, lang: str, r: random.Random) -> None:
        self.ctx = ctx
        self.lang = lang
        self.cid = ""
        self.seq = 0
        self.accounts: list[Account] = []
        self.batch_ids: set[str] = set()
        self.plan_rows: list[tuple[int, int, int, int, Any]] = []  # (time, order, who, role, arg)
        self.times: list[int] = []
        self.who: list[int] = []
        self.roles: list[int] = []
        self.args: list[Any] = []
        self.cursor = 0
        self.members: list[str] | None = None
        self.authors: set[str] = set()
        self.labels_seen: set[str] = set()
        levels = (1, 1, 1, 1, 2, 2, 2, 3, 3, 3)
        self.pref_level = min(self.MAX_LEVEL, _pick(levels, r))
        self.params: dict[str, Any] = {"lang": lang}

    # -------------------------------------------------------------- planning helpers

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> Campaign | None:
        """A campaign starting on day block ``d`` (``lo`` its first second) with at most ``cap``
        posts (exactly ``exact`` when given and the kind allows it; on ``hook`` when it hooks on
        news), or ``None`` when this kind cannot run then."""
        raise NotImplementedError

    def add(self, t: int, who: int, role: int = COPY, arg: Any = None) -> None:
        self.plan_rows.append((int(t), len(self.plan_rows), who, role, arg))

    def finalize(self, lo: int, end: int) -> int:
        """Keep posts inside ``[lo, end)``, in time order; return how many."""
        rows = sorted(row for row in self.plan_rows if lo <= row[0] < end)
        self.plan_rows = []
        self.times = [row[0] for row in rows]
        self.who = [row[2] for row in rows]
        self.roles = [row[3] for row in rows]
        self.args = [row[4] for row in rows]
        return len(rows)

    def level(self, rng: random.Random) -> int:
        """This post's evasion level: 0 unless the campaign evades and the dice say so."""
        if not self.EVASIVE or rng.random() >= self.ctx.params.evasion:
            return 0
        if self.MAX_LEVEL == 1:
            return 1
        return self.pref_level if rng.random() < 0.7 else 1 + int(rng.random() * 3)

    def labels_for(self, who: int, *labels: str) -> list[str]:
        out = set(labels)
        if self.accounts[who].id in self.batch_ids:
            out.add("batch_accounts")
        return sorted(out)

    # -------------------------------------------------------------- writing posts

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        raise NotImplementedError

    def render(self, j: int, pid: str, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
        account = self.accounts[self.who[j]]
        text, labels, level, repost_of = self.compose(j, pid, rng)
        if self.members is not None:
            self.members.append(pid)
            self.authors.add(account.id)
            self.labels_seen.update(labels)
        record = {
            "id": pid,
            "text": text,
            "author": account.id,
            "time": self.ctx.clock.iso(self.times[j]),
            "author_name": account.name,
            "author_bio": account.bio,
            "author_created": account.created_iso,
            "followers": account.followers,
            "following": account.following,
            "statuses": account.statuses,
            "repost_of": repost_of,
        }
        truth = {"id": pid, "labels": labels, "campaign": self.cid, "evasion": level, "organic_kind": None}
        return record, truth

    def record(self) -> dict[str, Any]:
        """The campaign's truth record (after its last post was written)."""
        return {
            "campaign": self.cid,
            "label": self.kind,
            "labels": sorted(self.labels_seen),
            "members": self.members or [],
            "accounts": sorted(self.authors),
            "params": self.params,
        }

    def release(self) -> None:
        """Drop what the campaign holds once its record is out."""
        self.members = None
        self.authors = set()
        self.accounts = []
        self.times, self.who, self.roles, self.args = [], [], [], []

    def _copy(self, text: str, link: str | None, level: int, rng: random.Random) -> str:
        mutator = self.ctx.mutator
        return mutator.finish(mutator.evade(text, level, self.lang, rng), link, rng)

    def _post_accounts(self, n: int, r: random.Random, made: int, batch_share: float) -> list[Account]:
        """``n`` posting accounts: a batch (share ``batch_share``) or real-looking people."""
        if r.random() < batch_share:
            accounts, how = self.ctx.maker.batch(n, self.lang, made, r)
            self.batch_ids.update(a.id for a in accounts)
            self.params["batch"] = how
            return accounts
        people = self.ctx.people(n, self.lang, r)
        if len(people) < n:
            return self._post_accounts(n, r, made, 1.0)
        return people

    def _brand_or_shop(self, brand: Brand, r: random.Random, shop_share: float) -> Account:
        if r.random() < shop_share:
            product = self.ctx.maker.product(brand, self.lang, r)
            slots = self.ctx.brand_slots(brand, self.lang, r)
            return self.ctx.maker.seller(self.lang, product, slots["handle"], slots["phone"], r)
        return self.ctx.maker.brand(brand, self.lang)


def _loguniform(r: random.Random, lo: float, hi: float) -> int:
    return int(math.exp(math.log(lo) + r.random() * (math.log(hi) - math.log(lo))))


def _swaps_in(text: str, groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(g for g in groups if any(w in text for w in g))


# ------------------------------------------------------------------------------ kinds


class MassShare(Campaign):
    kind = "mass_share"
    MIN = 21
    base: str
    link: str
    tags: tuple[str, ...]
    brand_name: str
    siblings: tuple[str, ...]
    swaps: tuple[tuple[str, ...], ...]
    origin_pid: str | None

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> MassShare | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        bank, lang = ctx.bank, c.lang
        n = max(20, min(_loguniform(r, 20, 300), int((cap - 1) / 1.4)))
        n = min(n, cap - 1)
        t0 = ctx.human_time(d, r, 8, 22)
        # What is being pushed: a promotion, brand news, agent recruitment, or festival copy.
        families = bank.text[lang].families
        brand = _pick(bank.brands, r)
        u = r.random()
        festivals = ctx.world.festivals_near(t0, t0 + 1)
        if u < 0.08:
            template = _pick(families["micro_recruit"], r)
        elif u < 0.16 and festivals:
            template = _pick(families["holiday"], r)
        elif u < 0.36:
            template = _pick(families["brand_news"], r)
        else:
            template = _pick(families["promo"], r)
        values = ctx.brand_slots(brand, lang, r)
        if "festival" in template.fields:
            values["festival"] = festivals[0].name(lang)
            c.params.update(festival=festivals[0].key, festival_date=festivals[0].date.isoformat())
        c.base = ctx.fill(template, lang, values, r)
        c.link = values["_link"]
        c.tags = template.tags
        c.brand_name = values["brand"]
        c.siblings = tuple(
            (b.zh if lang == "zh" else b.en) for b in bank.brands if b.category == brand.category and b is not brand
        )
        c.swaps = _swaps_in(c.base, bank.text[lang].swaps)
        if "microbusiness" in template.tags:  # an upline pushing recruitment through downlines
            origin = ctx.maker.seller(lang, values["product"], values["handle"], values["phone"], r)
        else:
            origin = ctx.maker.brand(brand, lang)
        posters = c._post_accounts(n, r, t0 - int((3 + 87 * r.random()) * DAY), 0.75)
        c.accounts = [origin, *posters]
        window = (2 + 18 * r.random()) * 60
        c.add(t0, 0, ORIGIN)
        left = cap - 1 - len(posters)
        for i in range(len(posters)):
            delay = 5 + int(window * r.random() ** 1.6)
            c.add(t0 + delay, i + 1, REPOST if r.random() < 0.3 else COPY)
            if left > 0 and r.random() < 0.1:  # some accounts push it twice
                c.add(t0 + delay + 60 + int(r.random() * 600), i + 1, COPY)
                left -= 1
        if c.batch_ids:  # batch accounts pass time with a little camouflage
            for i in range(len(posters)):
                if left > 0 and r.random() < 0.25:
                    c.add(ctx.human_time(d + int(r.random() * 5), r, 7, 23), i + 1, CAMO)
                    left -= 1
        c.origin_pid = None
        c.params.update(
            brand=c.brand_name,
            template=template.text,
            accounts=len(posters),
            window_minutes=round(window / 60, 1),
            start=ctx.clock.iso(t0),
            mobilised="batch" if c.batch_ids else "people",
        )
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        role, who = self.roles[j], self.who[j]
        if role == CAMO:
            template = _pick(self.ctx.bank.text[self.lang].families["camouflage"], rng)
            return self.ctx.fill(template, self.lang, {}, rng), self.labels_for(who), 0, None
        text = self.base
        level = 0
        if role == ORIGIN:
            self.origin_pid = pid
        else:
            mutator = self.ctx.mutator
            text = mutator.swap(text, self.swaps, rng, 0.15)
            if self.siblings and rng.random() < 0.08:  # one agency, several client brands
                text = text.replace(self.brand_name, _pick(self.siblings, rng))
            if rng.random() < 0.2:
                text = text + _pick(self.ctx.bank.emoji, rng)
            level = self.level(rng)
        labels = self.labels_for(who, "mass_share", *self.tags)
        return self._copy(text, self.link, level, rng), labels, level, (self.origin_pid if role == REPOST else None)


class Repetition(Campaign):
    kind = "repetition"
    MIN = 5
    MAX_LEVEL = 1
    text: str
    link: str
    tags: tuple[str, ...]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> Repetition | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        n = min(cap, 8 + int(r.random() * 33))
        brand = _pick(ctx.bank.brands, r)
        c.accounts = [c._brand_or_shop(brand, r, 0.5)]
        template = _pick(ctx.bank.text[c.lang].families["slogan"], r)
        values = ctx.brand_slots(brand, c.lang, r)
        c.text, c.link, c.tags = ctx.fill(template, c.lang, values, r), values["_link"], template.tags
        span = 3 + int(r.random() * 12)
        for _ in range(n):
            c.add(ctx.human_time(d + int(r.random() * span), r, 7, 23), 0)
        c.params.update(brand=values["brand"], slogan=c.text.replace(LINK, values["_link"]), days=span)
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        level = self.level(rng)
        return self._copy(self.text, self.link, level, rng), self.labels_for(0, "repetition", *self.tags), level, None


class AutoPosting(Campaign):
    kind = "auto_posting"
    MIN = 12
    jitter: int
    variants: list[tuple[str, str, tuple[str, ...]]]
    copies: Counter[tuple[int, int]]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> AutoPosting | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        n_acc = 1 if r.random() < 0.55 else 2 + int(r.random() * 4)
        per = min(_loguniform(r, 24, 400), cap // n_acc)
        if per < cls.MIN:
            n_acc, per = 1, cap
        brand = _pick(ctx.bank.brands, r)
        if n_acc == 1:
            c.accounts = [c._brand_or_shop(brand, r, 0.5)]
        else:
            c.accounts = c._post_accounts(n_acc, r, lo - int((5 + 60 * r.random()) * DAY), 1.0)
        interval = _pick((10, 15, 20, 30, 60), r) * 60
        second = 0 if r.random() < 0.7 else 1 + int(r.random() * 30)
        c.jitter = 2 if r.random() < 0.2 else 0
        stagger = 0 if r.random() < 0.5 else 3 + int(r.random() * 18)
        base = lo
        first = lo + int(r.random() * 20 * HOUR)
        phase = int(r.random() * (interval // 60)) * 60
        start = base + ((first - base) // interval + 1) * interval + phase + second
        families = ctx.bank.text[lang].families
        c.variants = []
        for _ in range(2 + int(r.random() * 4)):
            template = _pick(families["hourly"], r)
            values = ctx.brand_slots(brand, lang, r)
            c.variants.append((ctx.fill(template, lang, values, r), values["_link"], template.tags))
        for a in range(len(c.accounts)):
            for i in range(per):
                shake = int(r.random() * (c.jitter + 1)) if c.jitter else 0
                c.add(start + i * interval + a * stagger + shake, a, COPY, i)
        c.params.update(
            brand=brand.zh if lang == "zh" else brand.en,
            interval_minutes=interval // 60,
            first=ctx.clock.iso(start),
            second_of_minute=second,
            jitter_seconds=c.jitter,
            accounts=len(c.accounts),
        )
        return c

    def finalize(self, lo: int, end: int) -> int:
        """As :meth:`Campaign.finalize`; then count how often each account posts each variant."""
        n = super().finalize(lo, end)
        self.copies = Counter((who, self._variant(j)) for j, who in enumerate(self.who))
        return n

    def _variant(self, j: int) -> int:
        return (self.args[j] + self.who[j]) % len(self.variants)

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        v = self._variant(j)
        text, link, tags = self.variants[v]
        level = self.level(rng)
        # The software posts each variant again and again: the article's repetition (one slogan
        # repeated), planted as a Repetition campaign plants it, at least Repetition.MIN copies.
        again = ("repetition",) if self.copies[(self.who[j], v)] >= Repetition.MIN else ()
        labels = self.labels_for(self.who[j], "auto_posting", *again, *tags)
        return self._copy(text, link, level, rng), labels, level, None


class SoftAd(Campaign):
    kind = "soft_ad"
    MIN = 1
    values: dict[str, str]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> SoftAd | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        n = exact or min(cap, 4 + int(r.random() * 27))
        n_acc = max(1, math.ceil(n / (1 + r.random())))
        c.accounts = c._post_accounts(n_acc, r, lo - int((10 + 200 * r.random()) * DAY), 0.3)
        brand = _pick(ctx.bank.brands, r)
        c.values = ctx.brand_slots(brand, c.lang, r)
        span = 1 + int(r.random() * 4)
        for i in range(n):
            t = ctx.human_time(d if exact else d + int(r.random() * span), r, 7, 23)
            c.add(t, i % len(c.accounts))
        c.params.update(brand=c.values["brand"], product=c.values["product"], code=c.values["code"], accounts=len(c.accounts))
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        families = self.ctx.bank.text[self.lang].families
        template = _pick(families["testimonial"] if rng.random() < 0.65 else families["promo"], rng)
        text = self.ctx.fill(template, self.lang, self.values, rng)
        text = self.ctx.mutator.swap(text, self.ctx.bank.text[self.lang].swaps, rng, 0.3)
        level = self.level(rng)
        labels = self.labels_for(self.who[j], *template.tags)
        return self._copy(text, self.values["_link"], level, rng), labels, level, None


class HolidayTemplate(Campaign):
    kind = "holiday_template"
    MIN = 3
    EVASIVE = False
    texts: list[tuple[str, str]]
    tags: tuple[str, ...]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> HolidayTemplate | None:
        if cap < cls.MIN:
            return None
        hi = min(lo + DAY, ctx.end)
        festivals = ctx.world.festivals_near(lo, hi)
        if not festivals:
            return None
        fest = _pick(festivals, r)
        start, stop = ctx.world.festival_window(fest)
        start, stop = max(start, lo), min(stop, ctx.end)
        if stop <= start:
            return None
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        own = fest.spec.brand[lang]
        template = _pick(own, r) if r.random() < 0.55 else _pick(ctx.bank.text[lang].families["holiday"], r)
        n_acc = min(3 + int(r.random() * 10), cap)
        brands = r.sample(ctx.bank.brands, min(n_acc, len(ctx.bank.brands)))
        c.texts = []
        for i in range(n_acc):
            brand = brands[i % len(brands)]
            account = c._brand_or_shop(brand, r, 0.0 if i < 8 else 0.8)
            values = ctx.brand_slots(brand, lang, r, name=None if account.id == ctx.maker.brand(brand, lang).id else account.name)
            values["festival"] = fest.name(lang)
            c.accounts.append(account)
            c.texts.append((ctx.fill(template, lang, values, r), values["_link"]))
        midnight = ctx.clock.at(fest.date)
        posts = min(cap, sum(1 + int(r.random() * 2) for _ in range(n_acc)))
        for i in range(posts):
            who = i % n_acc
            for _ in range(6):
                u = r.random()
                if u < 0.2:
                    t = midnight + int(r.random() * 360)  # scheduled for the stroke of midnight
                elif u < 0.6:
                    t = midnight + 7 * HOUR + int(r.random() * 15 * HOUR)
                else:
                    t = start + int(r.random() * max(1, midnight - start))
                if start <= t < stop:
                    c.add(t, who)
                    break
        c.tags = template.tags
        c.params.update(
            festival=fest.key,
            festival_name=fest.name(lang),
            festival_date=fest.date.isoformat(),
            lead_days=fest.spec.lead,
            template=template.text,
            accounts=n_acc,
        )
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        text, link = self.texts[self.who[j]]
        return self._copy(text, link, 0, rng), self.labels_for(self.who[j], *self.tags), 0, None


class HotspotHijack(Campaign):
    kind = "hotspot_hijack"
    MIN = 2
    EVASIVE = False
    texts: list[tuple[str, str, tuple[str, ...]]]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> HotspotHijack | None:
        if cap < cls.MIN:
            return None
        if hook is None:
            events, stories = ctx.world.hooks_near(lo, min(lo + DAY, ctx.end))
            if not events and not stories:
                return None
            hook = _pick(events, r) if events else _pick(stories, r)
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        families = ctx.bank.text[lang].families
        if isinstance(hook, Event):
            t_hook = hook.t
            candidates = (_pick(hook.spec.hijack[lang], r), _pick(families["hijack_disaster"], r))
            context = {"event": hook.name(lang), "city": hook.city[lang]}
            preferred = ctx.bank.brands_in(hook.spec.categories)
            c.params.update(hook="disaster", event=hook.spec.key, city=hook.city[lang], headline=hook.headline[lang])
        else:
            t_hook = hook.t0
            candidates = (_pick(families["hijack_news"], r), _pick(families["hijack_news"], r))
            context = {"headline": hook.headline[lang]}
            preferred = ctx.bank.brands
            c.params.update(hook="news", headline=hook.headline[lang])
        n_acc = min(2 + int(r.random() * 7), cap)
        c.texts = []
        for i in range(n_acc):
            brand = _pick(preferred, r) if r.random() < 0.7 else _pick(ctx.bank.brands, r)
            account = c._brand_or_shop(brand, r, 0.0 if i < 6 else 0.8)
            own = account.id == ctx.maker.brand(brand, lang).id
            values = ctx.brand_slots(brand, lang, r, name=None if own else account.name)
            values.update(context)
            template = _pick(candidates, r)
            c.accounts.append(account)
            c.texts.append((ctx.fill(template, lang, values, r), values["_link"], template.tags))
        posts = min(cap, sum(1 + (r.random() < 0.4) for _ in range(n_acc)))
        for i in range(posts):
            delay = 1200 + min(int(r.expovariate(1 / (4 * HOUR))), 36 * HOUR)
            c.add(t_hook + delay, i % n_acc)
        c.params.update(hook_time=ctx.clock.iso(t_hook), accounts=n_acc)
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        text, link, tags = self.texts[self.who[j]]
        return self._copy(text, link, 0, rng), self.labels_for(self.who[j], *tags), 0, None


class MicroBusiness(Campaign):
    kind = "microbusiness"
    MIN = 5
    _CATEGORIES = ("beauty", "beauty", "farm", "craft", "slimming", "health", "tea")
    _FAMILIES = (("micro_boast", 0.3), ("micro_screenshot", 0.25), ("micro_soldout", 0.15), ("micro_recruit", 0.3))
    handle: str
    handles: list[str]
    posts_text: list[tuple[str, tuple[str, ...]]]
    link: str

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> MicroBusiness | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        brand = _pick(ctx.bank.brands_in((_pick(cls._CATEGORIES, r),)), r)
        values = ctx.brand_slots(brand, lang, r)
        seller = ctx.maker.seller(lang, values["product"], values["handle"], values["phone"], r)
        n_agents = int(r.random() * 11)
        agents: list[Account] = []
        if n_agents:
            if r.random() < 0.5:
                agents = c._post_accounts(n_agents, r, lo - int((10 + 200 * r.random()) * DAY), 1.0)
            else:
                for _ in range(n_agents):
                    h = ctx.brand_slots(brand, lang, r)
                    agents.append(ctx.maker.seller(lang, values["product"], h["handle"], h["phone"], r))
        c.accounts = [seller, *agents]
        c.handle = values["handle"]
        c.handles = [values["handle"]] + [ctx.brand_slots(brand, lang, r)["handle"] for _ in agents]
        families = ctx.bank.text[lang].families
        c.posts_text = []
        span = 2 + int(r.random() * 7)
        budget = cap
        for day in range(span):
            for _ in range(2 + int(r.random() * 5)):
                if budget <= 0:
                    break
                u, acc = r.random(), 0.0
                fam = cls._FAMILIES[-1][0]
                for name, share in cls._FAMILIES:
                    acc += share
                    if u < acc:
                        fam = name
                        break
                template = _pick(families[fam], r)
                late = fam == "micro_screenshot" and r.random() < 0.5
                t = ctx.human_time(d + day, r, 22, 23) if late else ctx.human_time(d + day, r, 8, 23)
                c.add(t, 0, COPY, len(c.posts_text))
                c.posts_text.append((ctx.fill(template, lang, values, r), template.tags))
                budget -= 1
                if agents:
                    for a in range(len(agents)):
                        if budget > 0 and r.random() < 0.3:
                            c.add(t + 600 + int(r.random() * 6 * HOUR), a + 1, AGENT, len(c.posts_text) - 1)
                            budget -= 1
        c.link = values["_link"]
        c.params.update(product=values["product"], seller=seller.name, agents=len(agents), days=span)
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        who = self.who[j]
        text, tags = self.posts_text[self.args[j]]
        if who:
            text = text.replace(self.handle, self.handles[who])
        level = self.level(rng)
        return self._copy(text, self.link, level, rng), self.labels_for(who, *tags), level, None


class ChickenSoup(Campaign):
    kind = "chicken_soup"
    MIN = 4
    EVASIVE = False
    scheduled: bool
    slots_of: list[tuple[Template, dict[str, str]]]
    quotes: dict[Any, str]

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> ChickenSoup | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        families = ctx.bank.text[lang].families
        n_acc = 1 if r.random() < 0.7 else 2
        which = _pick((("morning",), ("night",), ("morning", "night")), r)
        span = min(5 + int(r.random() * 26), ctx.params.days - d + 1)
        per_day = n_acc * len(which)
        span = max(1, min(span, cap // per_day))
        if span * per_day < cls.MIN and cap >= cls.MIN:
            span = math.ceil(cls.MIN / per_day)
        c.scheduled = r.random() < 0.75
        c.slots_of = []
        schedule = {}
        for a, brand in enumerate(r.sample(ctx.bank.brands, n_acc)):
            account = c._brand_or_shop(brand, r, 0.35)
            c.accounts.append(account)
            own = account.id == ctx.maker.brand(brand, lang).id
            values = ctx.brand_slots(brand, lang, r, name=None if own else account.name)
            for part in which:
                if part == "morning":
                    hh, mm = _pick((6, 7, 7, 7, 8), r), _pick((0, 15, 20, 30, 45), r)
                else:
                    hh, mm = _pick((21, 22, 22, 23), r), _pick((0, 15, 30, 45), r)
                template = _pick(families["soup_morning" if part == "morning" else "soup_night"], r)
                c.slots_of.append((template, values))
                key = len(c.slots_of) - 1
                schedule[f"{values['brand']} {part}"] = f"{hh:02d}:{mm:02d}"
                for day in range(span):
                    if c.scheduled:
                        t = ctx.local_time(d + day, hh, mm, 0)
                    else:  # posted by hand around the same time
                        t = ctx.local_time(d + day, hh, mm, 0) + int((r.random() - 0.3) * 480)
                    c.add(t, a, COPY, key)
        c.quotes = {}
        c.params.update(schedule=schedule, scheduled=c.scheduled, days=span)
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        template, values = self.slots_of[self.args[j]]
        day = self.ctx.clock.date_of(self.times[j])
        quote = self.quotes.get(day)
        if quote is None:  # one quote a day, shared by the campaign's posts that day
            quote = self.quotes[day] = self.ctx.quote(self.lang, rng)
        text = self.ctx.fill(template, self.lang, {**values, "quote": quote}, rng)
        labels = ("chicken_soup", "auto_posting", *template.tags) if self.scheduled else ("chicken_soup", *template.tags)
        return self._copy(text, values["_link"], 0, rng), self.labels_for(self.who[j], *labels), 0, None


class Coordinated(Campaign):
    """A hashtag or a link pushed by a batch of accounts in waves, each post worded anew: every
    few minutes a share of the accounts posts it within seconds of each other, for hours."""

    kind = "coordinated"
    MIN = 40
    EVASIVE = False  # its disguise is the varied wording, not characters
    _TAG_WORDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "zh": ("粉丝节", "来了", "上新", "必买", "宠粉日", "狂欢"),
        "en": ("Day", "Now", "Fans", "Live", "Drop", "Week"),
    }
    pushed: str

    @classmethod
    def plan(
        cls, ctx: Ctx, d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> Coordinated | None:
        if cap < cls.MIN:
            return None
        c = cls(ctx, ctx.lang(r), r)
        lang = c.lang
        brand = _pick(ctx.bank.brands, r)
        values = ctx.brand_slots(brand, lang, r)
        if r.random() < 0.7:
            word = _pick(cls._TAG_WORDS[lang], r)
            c.pushed = f"#{values['brand']}{word}#" if lang == "zh" else f"#{brand.slug.title().replace('-', '')}{word}"
        else:
            c.pushed = values["_link"]
        cap = min(cap, _loguniform(r, cls.MIN, 700))
        n = min(_loguniform(r, 12, 150), max(6, cap // 8))  # each account posts some 6-40 times
        c.accounts = c._post_accounts(n, r, lo - int((5 + 120 * r.random()) * DAY), 0.85)
        t = ctx.human_time(d, r, 8, 20)
        end = t + int((2 + 6 * r.random()) * HOUR)
        share = 0.5 + 0.4 * r.random()  # of the accounts in each wave
        spread = 5 + int(40 * r.random())  # seconds a wave takes
        count = 0
        while t < end and count < cap:
            for who in range(n):
                if count < cap and r.random() < share:
                    c.add(t + int(spread * r.random()), who)
                    count += 1
            t += 120 + int(900 * r.random())
        c.params.update(pushed=c.pushed, brand=values["brand"], accounts=n, wave_share=round(share, 2), wave_seconds=spread)
        return c

    def compose(self, j: int, pid: str, rng: random.Random) -> tuple[str, list[str], int, str | None]:
        text_bank = self.ctx.bank.text[self.lang]
        slots = Slots(text_bank.vocab, rng)
        # two or three everyday fragments, so that no two posts are near-copies of each other
        parts = [_pick(_pick(text_bank.topics, rng)[1], rng).fill(slots) for _ in range(2)]
        if rng.random() < 0.5:
            parts.append(_pick(text_bank.kinds["short"], rng).fill(slots))
        rng.shuffle(parts)
        sep = "，" if self.lang == "zh" else ", "
        text = sep.join(parts)
        closed = self.pushed.endswith("#")  # Weibo's #topic# needs no space after it
        text = (f"{self.pushed}{text}" if closed else f"{self.pushed} {text}") if rng.random() < 0.5 else f"{text} {self.pushed}"
        return text, self.labels_for(self.who[j], "coordinated"), 0, None


KINDS: dict[str, type[Campaign]] = {
    cls.kind: cls
    for cls in (MassShare, Repetition, AutoPosting, SoftAd, HolidayTemplate, HotspotHijack, MicroBusiness, ChickenSoup, Coordinated)
}
"""Campaign kinds by their primary label."""
