"""A bilingual feed with an organic population and planted campaigns, with ground truth.

How it streams: campaigns are planned first (parameters, accounts and post times only, a few
bytes per campaign post); organic posts are counted per hour; then the feed is produced one
hour at a time, organic and campaign posts of that hour merged by time. Memory grows with the
number of campaign posts and accounts, never with the text of the feed, so 10M posts work.

Every random choice comes from generators seeded by ``seed`` (never global state, never
``hash()`` of a string), so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from spamflood.errors import ConfigError
from spamflood.synth.mutate import evade

__all__ = ["CAMPAIGN_KINDS", "Campaign", "generate", "plan"]

CAMPAIGN_KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    # kind: (share of campaign posts, labels its posts truly carry)
    "mass_share": (0.34, ("batch_accounts", "mass_share", "soft_ad")),
    "soft_ad": (0.14, ("soft_ad",)),
    "auto_posting": (0.12, ("auto_posting", "soft_ad")),
    "microbusiness": (0.10, ("microbusiness",)),
    "holiday_template": (0.10, ("holiday_template", "soft_ad")),
    "hotspot_hijack": (0.08, ("hotspot_hijack", "soft_ad")),
    "chicken_soup": (0.07, ("chicken_soup",)),
    "repetition": (0.05, ("repetition",)),
}
"""Campaign kinds, their share of campaign posts, and the labels their posts carry."""

HOUR = 3600.0
DAY = 86400.0
# Organic activity by local hour (people sleep; evenings are busy).
_DIURNAL = np.array([3, 2, 1, 1, 1, 2, 4, 7, 9, 8, 7, 8, 10, 8, 7, 7, 8, 9, 11, 13, 14, 13, 10, 6], dtype=float)


@lru_cache(maxsize=4)
def _load(name: str) -> dict[str, Any]:
    text = (resources.files("spamflood") / "data" / "synth" / name).read_text("utf-8")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"Synthetic data file {name} is corrupt: {exc}") from None


@dataclass
class Account:
    id: str
    name: str
    bio: str
    created: float
    followers: int
    following: int
    statuses: int


@dataclass
class Campaign:
    """A planned campaign: what it is, who posts it, when, and how its copy mutates."""

    id: str
    kind: str
    lang: str
    labels: tuple[str, ...]
    accounts: list[Account]
    times: np.ndarray
    posters: np.ndarray
    template: str
    slots: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    start: float
    hours: int
    tz: ZoneInfo
    campaigns: list[Campaign]
    events: list[tuple[float, dict[str, str]]]
    festivals: list[tuple[float, str, str]]
    viral: list[tuple[float, dict[str, str], np.ndarray]]
    organic_per_hour: np.ndarray


def _check(posts: int, zh_ratio: float, days: int, spam_ratio: float, evasion: float) -> None:
    if isinstance(posts, bool) or not isinstance(posts, int) or posts < 1:
        raise ConfigError(f"The 'posts' parameter must be a positive integer. Got {posts!r} instead.")
    for name, value in (("zh_ratio", zh_ratio), ("spam_ratio", spam_ratio), ("evasion", evasion)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"The '{name}' parameter must be in [0, 1]. Got {value!r} instead.")
    if spam_ratio > 0.9:
        raise ConfigError(f"The 'spam_ratio' parameter must be at most 0.9 (a feed needs organic users). Got {spam_ratio}.")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise ConfigError(f"The 'days' parameter must be an integer in [1, 3660]. Got {days!r} instead.")


def _festivals_in(start: float, days: int, tz: ZoneInfo) -> list[tuple[float, str, str]]:
    """(local-noon epoch, English name, Chinese name) of festivals in the window, from the
    same date rules the holiday criteria use (the `holidays` package, lunar dates included)."""
    from spamflood.criteria.festivals import festival_date, load_festivals

    first = datetime.fromtimestamp(start, tz).date()
    last = first + timedelta(days=days)
    out = []
    for key, fest in load_festivals().items():
        for year in range(first.year, last.year + 1):
            day = festival_date(key, year)
            if first <= day < last:
                noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz).timestamp()
                out.append((noon, fest.name, fest.name_zh))
    return sorted(out)


def _fill(template: str, slots: dict[str, str]) -> str:
    for key, value in slots.items():
        template = template.replace("{" + key + "}", value)
    return template


class _Planner:
    def __init__(self, seed: int, zh_ratio: float, start: float, span: float, tz: ZoneInfo) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.zh_ratio = zh_ratio
        self.start = start
        self.span = span
        self.tz = tz
        self.data = _load("campaigns.json")
        self.account_count = 0

    def lang(self) -> str:
        return "zh" if self.rng.random() < self.zh_ratio else "en"

    def slots(self, lang: str, brand_index: int | None = None) -> dict[str, str]:
        d, r = self.data, self.rng
        b = r.randrange(len(d["brands"][lang])) if brand_index is None else brand_index
        return {
            "brand": d["brands"][lang][b],
            "product": r.choice(d["products"][lang]),
            "handle": f"{r.choice(['vx', 'wx', 'v', 'ww'])}{r.randrange(1000, 9999)}",
            "code": f"{r.choice(['SAVE', 'VIP', 'GO'])}{r.randrange(10, 99)}",
            "url": f"https://t.cn/{r.randrange(16**6):06x}",
        }

    def bot_accounts(self, cid: str, lang: str, count: int, made: float) -> list[Account]:
        """Accounts made in a batch: one stem plus digits, created minutes apart, bought look."""
        stem = self.rng.choice(self.data["account_stems"][lang])
        return [
            Account(
                id=f"{cid}a{k:03d}",
                name=f"{stem}{self.rng.randrange(1000, 9999)}",
                bio=self.rng.choice(self.data["bot_bios"]),
                created=made + self.rng.uniform(0, 40 * 60),
                followers=self.rng.randrange(0, 15),
                following=self.rng.randrange(300, 2000),
                statuses=self.rng.randrange(1, 40),
            )
            for k in range(count)
        ]

    def brand_accounts(self, cid: str, lang: str, count: int) -> list[Account]:
        """Ordinary-looking brand or seller accounts (old, real followers)."""
        org = _load("organic.json")
        out = []
        for k in range(count):
            word = self.rng.choice(org["name_words"][lang])
            out.append(
                Account(
                    id=f"{cid}a{k:03d}",
                    name=f"{self.rng.choice(self.data['brands'][lang])}{word}",
                    bio=self.rng.choice(org["bios"][lang]),
                    created=self.start - self.rng.uniform(200, 2000) * DAY,
                    followers=int(self.np.lognormal(7, 1.2)),
                    following=self.rng.randrange(50, 800),
                    statuses=self.rng.randrange(200, 8000),
                )
            )
        return out


def plan(
    posts: int,
    *,
    seed: int,
    zh_ratio: float,
    start: float,
    days: int,
    spam_ratio: float,
    tz: ZoneInfo,
) -> _Plan:
    """Campaigns, events, festivals and the hourly organic counts for a feed of ``posts``."""
    p = _Planner(seed, zh_ratio, start, days * DAY, tz)
    end = start + days * DAY
    festivals = _festivals_in(start, days, tz)
    events: list[tuple[float, dict[str, str]]] = []
    campaigns: list[Campaign] = []
    budget = int(round(posts * spam_ratio))
    shares = {k: v[0] for k, v in CAMPAIGN_KINDS.items()}
    if not festivals:
        shares.pop("holiday_template")
    total_share = sum(shares.values())
    for kind, share in shares.items():
        want = int(budget * share / total_share)
        while want > 0:
            c = _plan_campaign(p, kind, f"c{len(campaigns):05d}", min(want, _size_hint(p, kind, want)), festivals, events, end)
            if c is None or len(c.times) == 0:
                break
            campaigns.append(c)
            want -= len(c.times)
    planned = sum(len(c.times) for c in campaigns)
    organic = max(0, posts - planned)
    # Legitimate virality: a headline shared by many people within an hour (not a flood).
    viral = []
    org = _load("organic.json")
    for _ in range(max(1, organic // 4000)):
        size = min(organic // 10, p.rng.randint(8, 40))
        if size < 2:
            break
        t0 = p.rng.uniform(start, end - HOUR)
        viral.append((t0, p.rng.choice(org["headlines"]), np.sort(p.np.uniform(t0, t0 + HOUR, size))))
    organic -= sum(len(v[2]) for v in viral)
    hours = int(days * 24)
    local_hour = np.array([datetime.fromtimestamp(start + h * HOUR, tz).hour for h in range(hours)])
    weights = _DIURNAL[local_hour]
    per_hour = p.np.multinomial(max(organic, 0), weights / weights.sum()) if hours else np.zeros(0, int)
    return _Plan(start, hours, tz, campaigns, sorted(events, key=lambda e: e[0]), festivals, viral, per_hour)


def _size_hint(p: _Planner, kind: str, want: int) -> int:
    r = p.rng
    return {
        "mass_share": r.randint(20, 300),
        "soft_ad": r.randint(5, 30),
        "auto_posting": r.randint(40, 200),
        "microbusiness": r.randint(10, 60),
        "holiday_template": r.randint(6, 40),
        "hotspot_hijack": r.randint(5, 30),
        "chicken_soup": r.randint(10, 60),
        "repetition": r.randint(5, 15),
    }[kind]


def _plan_campaign(
    p: _Planner,
    kind: str,
    cid: str,
    size: int,
    festivals: list[tuple[float, str, str]],
    events: list[tuple[float, dict[str, str]]],
    end: float,
) -> Campaign | None:
    r, lang = p.rng, p.lang()
    template = r.choice(p.data[kind][lang])
    slots = p.slots(lang)
    params: dict[str, Any] = {"size": size}
    if kind == "mass_share":
        t0 = r.uniform(p.start + DAY, end - HOUR)
        accounts = p.bot_accounts(cid, lang, size, t0 - r.uniform(2, 30) * DAY)
        minutes = r.uniform(5, 20)
        times = np.sort(p.np.uniform(t0, t0 + minutes * 60, size))
        posters = np.arange(size)
        params.update(minutes=round(minutes, 1), accounts=size)
    elif kind == "repetition":
        accounts = p.brand_accounts(cid, lang, 1)
        times = np.sort(p.np.uniform(p.start, end, size))
        posters = np.zeros(size, dtype=int)
    elif kind == "auto_posting":
        accounts = p.bot_accounts(cid, lang, 1, p.start - r.uniform(5, 60) * DAY)
        interval = r.choice([15, 30, 60]) * 60.0
        first = (p.start // interval + 1 + r.randrange(0, 200)) * interval
        times = first + interval * np.arange(size)
        times = times[times < end]
        posters = np.zeros(len(times), dtype=int)
        params.update(interval_s=interval)
    elif kind == "chicken_soup":
        accounts = p.brand_accounts(cid, lang, 1)
        day0 = datetime.fromtimestamp(p.start, p.tz).date()
        hh, mm = r.choice([(7, 30), (8, 0), (22, 30), (6, 45)])
        moments = [
            datetime(d.year, d.month, d.day, hh, mm, tzinfo=p.tz).timestamp()
            for d in (day0 + timedelta(days=k) for k in range(int((end - p.start) // DAY) + 1))
        ]
        times = np.array([t for t in moments if p.start <= t < end][:size])
        template = p.data[kind][lang][0 if hh < 12 else 1]
        posters = np.zeros(len(times), dtype=int)
        params.update(local_time=f"{hh:02d}:{mm:02d}")
    elif kind == "holiday_template":
        noon, name_en, name_zh = r.choice(festivals)
        slots["festival"] = name_zh if lang == "zh" else name_en
        accounts = p.brand_accounts(cid, lang, max(3, size // 2))
        times = np.sort(p.np.uniform(noon - 3 * DAY, noon + 0.5 * DAY, size))
        times = times[(times >= p.start) & (times < end)]
        posters = np.arange(len(times)) % len(accounts)
        params.update(festival=name_en, festival_date=datetime.fromtimestamp(noon, p.tz).date().isoformat())
    elif kind == "hotspot_hijack":
        event = r.choice(p.data["events"])
        t_event = r.uniform(p.start, end - DAY)
        events.append((t_event, event))
        slots["event"] = event[lang]
        accounts = p.brand_accounts(cid, lang, max(2, size // 3))
        times = np.sort(p.np.uniform(t_event + HOUR, t_event + DAY, size))
        posters = np.arange(size) % len(accounts)
        params.update(event=event["en"], event_time=datetime.fromtimestamp(t_event, p.tz).isoformat())
    elif kind == "microbusiness":
        accounts = p.brand_accounts(cid, lang, r.randint(1, 4))
        times = np.sort(p.np.uniform(p.start, end, size))
        posters = np.array([r.randrange(len(accounts)) for _ in range(size)])
    else:  # soft_ad: testimonial posts from accounts that look like people
        accounts = p.brand_accounts(cid, lang, size)
        times = np.sort(p.np.uniform(p.start, end, size))
        posters = np.arange(size)
    labels = CAMPAIGN_KINDS[kind][1]
    return Campaign(cid, kind, lang, labels, accounts, times, posters, template, slots, params)


def _iso(epoch: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(round(epoch), tz).isoformat()


class _Organic:
    """The organic population: accounts as arrays, posts composed from phrase banks."""

    def __init__(self, seed: int, count: int, zh_ratio: float, start: float) -> None:
        g = np.random.default_rng([seed, 1])
        self.count = count
        self.zh = g.random(count) < zh_ratio
        self.created = start - g.uniform(30, 3650, count) * DAY
        self.followers = np.minimum(g.lognormal(5.5, 1.4, count).astype(int), 5_000_000)
        self.following = np.minimum(g.lognormal(5.0, 0.8, count).astype(int) + 5, 2000)
        self.statuses = g.integers(10, 20000, count)
        # Some people post much more than others, but no person posts like a machine.
        self.activity = np.minimum(g.lognormal(0.0, 0.9, count), 12.0)
        self.activity /= self.activity.sum()
        self.data = _load("organic.json")

    def account(self, k: int) -> Account:
        lang = "zh" if self.zh[k] else "en"
        d = self.data
        words = d["name_words"][lang]
        name = f"{d['handles'][lang][k % len(d['handles'][lang])]}{words[(k * 7) % len(words)]}{words[(k * 3 + 1) % len(words)]}"
        return Account(
            id=f"u{k:07d}",
            name=name if lang == "zh" else f"{name}_{words[(k // 11) % len(words)]}",
            bio=d["bios"][lang][k % len(d["bios"][lang])],
            created=float(self.created[k]),
            followers=int(self.followers[k]),
            following=int(self.following[k]),
            statuses=int(self.statuses[k]),
        )

    def text(self, k: int, t: float, r: random.Random, plan: _Plan) -> tuple[str, str]:
        lang = "zh" if self.zh[k] else "en"
        b = self.data[lang]
        roll = r.random()
        near_festival = next((f for f in plan.festivals if abs(f[0] - t) < 2 * DAY), None)
        recent_event = next((e for e in reversed(plan.events) if 0 < t - e[0] < 2 * DAY), None)
        if near_festival and roll < 0.15:
            name = near_festival[2] if lang == "zh" else near_festival[1]
            return r.choice(b["greetings"]).replace("{festival}", name), "festival_greeting"
        if recent_event and roll < 0.06:
            return r.choice(b["sympathy"]).replace("{event}", recent_event[1][lang]), "disaster_sympathy"
        if roll < 0.05:
            return r.choice(b["product_praise"]), "product_praise"
        if roll < 0.09:
            return r.choice(b["quotes"]), "quote"
        sep = "，" if lang == "zh" else ", "
        space = "" if lang == "zh" else " "
        clauses = [f"{r.choice(b['subjects'])}{space}{r.choice(b['activities'])}"]
        for detail in r.sample(b["details"], r.randint(1, 3)):
            clauses.append(detail.replace("{n}", str(r.randint(2, 60))))
        r.shuffle(clauses)
        text = sep.join(clauses) + sep + r.choice(b["feelings"]) + r.choice(b["tails"])
        return text, "daily"


def _record(pid: str, text: str, acct: Account, t: float, tz: ZoneInfo, repost_of: str | None = None) -> dict[str, Any]:
    return {
        "id": pid,
        "text": text,
        "author": acct.id,
        "time": _iso(t, tz),
        "author_name": acct.name,
        "author_bio": acct.bio,
        "author_created": _iso(acct.created, tz),
        "followers": acct.followers,
        "following": acct.following,
        "statuses": acct.statuses,
        "repost_of": repost_of,
    }


def generate(
    posts: int,
    *,
    seed: int = 0,
    zh_ratio: float = 0.5,
    start: str | date | datetime = "2026-01-20",
    days: int = 30,
    spam_ratio: float = 0.15,
    tz: str = "Asia/Shanghai",
    evasion: float = 0.5,
    campaigns_out: list[dict[str, Any]] | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield ``(post_record, truth_record)`` pairs of a synthetic feed, in time order.

    ``zh_ratio`` is the share of Chinese posts, ``spam_ratio`` the share of campaign posts,
    ``evasion`` the share of campaign posts rewritten at an evasion level 1-3. When
    ``campaigns_out`` is a list, one truth record per campaign is appended to it at the end.
    """
    _check(posts, zh_ratio, days, spam_ratio, evasion)
    try:
        zone = ZoneInfo(tz)
    except Exception:
        raise ConfigError(f"Unknown time zone '{tz}'; use an IANA name like 'Asia/Shanghai'.") from None
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start)
        except ValueError:
            raise ConfigError(f"The 'start' parameter must be an ISO date like '2026-01-20'. Got {start!r}.") from None
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    t_start = start.timestamp()
    the_plan = plan(posts, seed=seed, zh_ratio=zh_ratio, start=t_start, days=days, spam_ratio=spam_ratio, tz=zone)
    organic = _Organic(seed, max(20, posts // 12), zh_ratio, t_start)
    emoji = _load("campaigns.json")["emoji"]

    # Campaign and viral posts as one time-sorted index: (time, source, campaign, k).
    times, sources, owners, ks = [], [], [], []
    for ci, c in enumerate(the_plan.campaigns):
        times.append(c.times)
        sources.append(np.zeros(len(c.times), dtype=np.int8))
        owners.append(np.full(len(c.times), ci))
        ks.append(np.arange(len(c.times)))
    for vi, (_, _, vt) in enumerate(the_plan.viral):
        times.append(vt)
        sources.append(np.ones(len(vt), dtype=np.int8))
        owners.append(np.full(len(vt), vi))
        ks.append(np.arange(len(vt)))
    if times:
        ev_t = np.concatenate(times)
        order = np.lexsort((np.concatenate(ks), np.concatenate(owners), ev_t))
        ev_t, ev_src = ev_t[order], np.concatenate(sources)[order]
        ev_owner, ev_k = np.concatenate(owners)[order], np.concatenate(ks)[order]
    else:
        ev_t = np.zeros(0)
        ev_src = ev_owner = ev_k = np.zeros(0, dtype=int)

    serial = 0
    cursor = 0
    last_id: dict[int, str] = {}
    for h in range(the_plan.hours + 1):
        lo = t_start + h * HOUR
        hi = lo + HOUR
        rng = random.Random(seed * 1_000_003 + h)
        n_org = int(the_plan.organic_per_hour[h]) if h < the_plan.hours else 0
        items: list[tuple[float, int, int, int]] = []
        if n_org:
            g = np.random.default_rng([seed, 2, h])
            org_t = np.sort(g.uniform(lo, hi, n_org))
            org_who = g.choice(organic.count, size=n_org, p=organic.activity)
            items.extend((float(t), 2, int(w), 0) for t, w in zip(org_t, org_who))
        end_cursor = int(np.searchsorted(ev_t, hi, side="left")) if h < the_plan.hours else len(ev_t)
        items.extend(
            (float(ev_t[i]), int(ev_src[i]), int(ev_owner[i]), int(ev_k[i])) for i in range(cursor, end_cursor)
        )
        cursor = end_cursor
        items.sort()
        for t, src, owner, k in items:
            serial += 1
            pid = f"p{serial:08d}"
            if src == 2:
                acct = organic.account(owner)
                text, kind = organic.text(owner, t, rng, the_plan)
                repost = last_id.get(owner % 50) if rng.random() < 0.02 else None
                last_id[owner % 50] = pid
                yield _record(pid, text, acct, t, zone, repost), {
                    "id": pid, "labels": [], "campaign": None, "evasion": 0, "organic_kind": kind,
                }
            elif src == 1:
                _, headline, _ = the_plan.viral[owner]
                who = (owner * 7919 + k * 104729) % organic.count
                lang = "zh" if organic.zh[who] else "en"
                comment = rng.choice(organic.data[lang]["news_comments"])
                text = f"{comment}：{headline['zh']}" if lang == "zh" else f"{comment}: {headline['en']}"
                yield _record(pid, text, organic.account(who), t, zone), {
                    "id": pid, "labels": [], "campaign": None, "evasion": 0, "organic_kind": "news_share",
                }
            else:
                c = the_plan.campaigns[owner]
                acct = c.accounts[int(c.posters[k])]
                slots = dict(c.slots)
                slots["n"] = str(rng.choice([9, 19, 29, 39, 50, 88, 99, 199]))
                if c.kind == "mass_share" and rng.random() < 0.2:  # brand swap inside a flood
                    slots["brand"] = rng.choice(_load("campaigns.json")["brands"][c.lang])
                slots["url"] = f"{slots['url']}?utm_source={rng.choice(['wb', 'wx', 'qq'])}&id={rng.randrange(10**6)}"
                level = rng.randint(1, 3) if rng.random() < evasion else 0
                text = evade(_fill(c.template, slots), level, rng, emoji)
                if c.kind == "repetition":
                    text = _fill(c.template, c.slots)  # the same slogan, again and again
                    level = 0
                c.members.append(pid)
                yield _record(pid, text, acct, t, zone), {
                    "id": pid, "labels": list(c.labels), "campaign": c.id, "evasion": level, "organic_kind": None,
                }
    if campaigns_out is not None:
        for c in the_plan.campaigns:
            campaigns_out.append(
                {
                    "campaign": c.id,
                    "label": c.kind,
                    "labels": list(c.labels),
                    "lang": c.lang,
                    "members": c.members,
                    "accounts": sorted({c.accounts[int(i)].id for i in c.posters}),
                    "params": {**c.params, "brand": c.slots["brand"], "template": c.template},
                }
            )
