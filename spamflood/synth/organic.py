"""Ordinary people's posts: the organic part of the feed, hard negatives included.

Each hour gets its planned number of posts (see :class:`~spamflood.synth.world.World`). A post's
author is drawn by activity and kept only if it is their time of day and not one of their silent
spells; some posts come in bursts from one person minutes apart. What a post is follows the
hour: mostly everyday chatter composed from topic phrase banks (food, work, study, commute,
weather, sports, tech, travel, pets, family, shows, ...), short reactions, questions, links,
reposts of recent posts; and the hard negatives a detector must leave alone:

* ``festival_greeting``: people greeting family and friends near a festival (many near-identical
  "新年快乐" from different accounts within an hour of midnight);
* ``disaster_sympathy``: sympathy, prayers and local reports after a disaster, and shares of its
  headline;
* ``product_praise`` / ``product_complaint``: first-person talk about things bought, brand names
  and prices included, but no contact, code or call to action;
* ``quote``, ``morning_greeting``, ``night_greeting``, ``checkin``: inspirational lines and daily
  check-ins with no brand, some from people with a daily habit (about the same time each day,
  never on the exact minute);
* ``news_share`` and ``news_post``: legitimate virality, a newsroom's headline shared by many
  people within minutes, each with their own words (a reaction of their own beside the
  headline, whole or cut short), some as reposts: many accounts on one link, not one copy
  pasted by many;
* ``secondhand_sale``: one person selling one used thing (a price and "DM me", once);
* ``deal_tip``: a person passing on a bargain they saw (a price and "go before it's gone");
* ``hashtag_trend``: the day's trending hashtag, added by many people to their own chatter
  all day long (thousands of accounts on one object, but no tight, repeated co-posting).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from itertools import accumulate
from typing import Any

import numpy as np

from spamflood.synth.accounts import AccountMaker, Person, Population
from spamflood.synth.bank import Bank, Slots
from spamflood.synth.calendar import FestivalDay
from spamflood.synth.clock import Clock
from spamflood.synth.world import Event, Story, World

__all__ = ["Organic"]

# Share of posts of each kind in an ordinary hour; the rest is everyday chatter ("daily").
_BASE_KINDS: tuple[tuple[str, float], ...] = (
    ("repost", 0.05),
    ("short", 0.09),
    ("product_praise", 0.025),
    ("product_complaint", 0.01),
    ("quote", 0.02),
    ("checkin", 0.012),
    ("question", 0.03),
    ("secondhand_sale", 0.003),
    ("link_share", 0.02),
    ("news_comment", 0.012),
    ("deal_tip", 0.004),
)
_TREND = 0.03  # share of posts joining the day's trending hashtag
_BURST = 0.06  # chance that a post follows its author's previous one within minutes
_REPOST_FROM = ("daily", "link_share", "quote", "news_share", "news_post", "short", "product_praise")

_WHOLE_HEADLINE = 0.4  # a share quotes the headline whole; otherwise cut after a few words
_TWO_REACTIONS = 0.4  # a sharer says two things about it
_REDRAWS = 50  # draws to find a person who has not shared a story yet

Item = tuple[int, int, int, Any, Any]


def _pick(seq, r: random.Random):  # type: ignore[no-untyped-def]
    return seq[int(r.random() * len(seq))]


def _quoted(headline: str, lang: str, rng: random.Random) -> str:
    """The part of a headline a sharer quotes: whole (:data:`_WHOLE_HEADLINE`), or cut after at
    least three words (six characters in Chinese), as people paste the start of a title."""
    units = list(headline) if lang == "zh" else headline.split(" ")
    least = 6 if lang == "zh" else 3
    if rng.random() < _WHOLE_HEADLINE or len(units) <= least:
        return headline
    k = least + int(rng.random() * (len(units) - least))
    cut = ("" if lang == "zh" else " ").join(units[:k]).rstrip(",.;:!?，。；：！？、")
    return cut + ("…" if lang == "zh" else "...")


class Organic:
    """Plans and writes the organic posts of each hour; see the module docstring."""

    def __init__(
        self, bank: Bank, population: Population, world: World, maker: AccountMaker, clock: Clock
    ) -> None:
        self.bank = bank
        self.population = population
        self.world = world
        self.maker = maker
        self.clock = clock
        self.recent: dict[str, deque[tuple[str, str, str]]] = {"zh": deque(maxlen=300), "en": deque(maxlen=300)}
        self._topic_cum = {
            lang: (list(accumulate(t.topic_weights)), sum(t.topic_weights)) for lang, t in bank.text.items()
        }
        self._kinds: list[str] = []
        self._cum: list[float] = []
        self._festival: FestivalDay | None = None
        self._day = 0  # the day (epoch days) of the hour being planned: its trending hashtag
        self._event: Event | None = None
        self._slots: dict[str, Slots] = {}

    # ------------------------------------------------------------------ planning an hour

    def hour(self, h: int, lo: int, hi: int, rng: random.Random, g: np.random.Generator) -> list[Item]:
        """The organic items of hour ``h`` (``[lo, hi)``), unsorted: ``(time, source, i, who, k)`` with
        source 0 a person's post, 1 a story post (``who`` the story), 3 a habit (``k`` its kind)."""
        world, pop = self.world, self.population
        local_hour = int(world.local_hours[h])
        day = h // 24
        n = int(world.hourly[h])
        items: list[Item] = []
        if n:
            times = g.integers(lo, hi, n).tolist()
            person_of = pop.person
            chosen: list[Person] = [person_of(k) for k in pop.authors(g, n, local_hour, day)]
            for j in range(1, n):
                if rng.random() < _BURST:
                    chosen[j] = chosen[j - 1]
                    times[j] = min(hi - 1, times[j - 1] + 15 + int(rng.random() * 600))
            items = [(times[j], 0, j, chosen[j], None) for j in range(n)]
        extra = n
        for t, story, k in world.shares_between(lo, hi):
            items.append((t, 1, extra, story, k))
            extra += 1
        for t, routine in world.routine_posts(h, lo, hi):
            items.append((t, 3, extra, pop.person(routine.rank), routine.kind))
            extra += 1
        self._prepare_kinds(lo, local_hour, rng)
        for lang, text in self.bank.text.items():
            self._slots[lang] = Slots(text.vocab, rng)
        return items

    def _prepare_kinds(self, lo: int, local_hour: int, rng: random.Random) -> None:
        kinds = list(_BASE_KINDS)
        if 5 <= local_hour <= 9:
            kinds.append(("morning_greeting", 0.07))
        if local_hour >= 21 or local_hour <= 1:
            kinds.append(("night_greeting", 0.05))
        self._festival, p_f = self.world.festival_greeting(lo + 1800)
        if self._festival is not None:
            kinds.append(("festival_greeting", p_f))
        kinds.append(("hashtag_trend", _TREND))
        self._day = lo // 86400
        self._event, p_d = self.world.disaster_reaction(lo + 1800)
        if self._event is not None:
            kinds.append(("disaster_sympathy", p_d))
        self._kinds = [k for k, _ in kinds]
        self._cum = list(accumulate(p for _, p in kinds))

    # ------------------------------------------------------------------ writing a post

    def render(self, item: Item, pid: str, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
        """The post record and truth record of an item planned by :meth:`hour`."""
        t, source, _i, who, k = item
        repost_of = None
        if source == 1:
            story: Story = who
            if k < 0:
                lang = self.world.langs[-1 - k]
                account = story.media[lang]
                slots = self._slot(lang)
                slots.update(headline=story.headline[lang], link=story.link[lang])
                text = _pick(self.bank.text[lang].kinds["news_origin"], rng).fill(slots)
                story.origin[lang] = pid
                kind = "news_post"
                created = account.created_iso
            else:
                person = self.population.person(self._sharer(story, rng))
                account, created = person.account, person.created_iso
                lang = account.lang
                text, kind = self._share(story, lang, rng)
                if rng.random() < 0.35:
                    repost_of = story.origin.get(lang)
        else:
            person = who
            account, created = person.account, person.created_iso
            lang = account.lang
            if source == 3:  # a daily habit
                kind = k
            else:
                idx = bisect_right(self._cum, rng.random())
                kind = self._kinds[idx] if idx < len(self._kinds) else "daily"
            text, kind, repost_of = self._compose(kind, lang, account.id, rng)
        if kind in _REPOST_FROM and (kind == "news_post" or rng.random() < 0.25):
            self.recent[lang].append((pid, account.name, text))
        record = {
            "id": pid,
            "text": text,
            "author": account.id,
            "time": self.clock.iso(t),
            "author_name": account.name,
            "author_bio": account.bio,
            "author_created": created,
            "followers": account.followers,
            "following": account.following,
            "statuses": account.statuses,
            "repost_of": repost_of,
        }
        truth: dict[str, Any] = {"id": pid, "labels": [], "campaign": None, "evasion": 0, "organic_kind": kind}
        return record, truth

    def _sharer(self, story: Story, rng: random.Random) -> int:
        """Who shares ``story`` next: a person drawn by activity who has not shared it yet (a
        person shares a story once; the most active would otherwise share it again and again).
        After :data:`_REDRAWS` draws of people who did, the last one shares it again."""
        rank = self.population.draw(rng.random())
        for _ in range(_REDRAWS):
            if rank not in story.sharers:
                break
            rank = self.population.draw(rng.random())
        story.sharers.add(rank)
        return rank

    def _slot(self, lang: str) -> Slots:
        slots = self._slots[lang]
        slots.clear()
        return slots

    def _compose(self, kind: str, lang: str, author: str, rng: random.Random) -> tuple[str, str, str | None]:
        text_bank = self.bank.text[lang]
        slots = self._slots[lang]
        slots.clear()
        if kind == "daily":
            return self._decorate(self._daily(lang, slots, rng), lang, rng), kind, None
        if kind == "hashtag_trend":
            tags = text_bank.vocab["hashtag"]
            tag = tags[(self._day * 7 + 3) % len(tags)]  # one trend a day, the same for everyone
            text = self._daily(lang, slots, rng)
            return (f"{tag}{text}" if lang == "zh" else f"{text} {tag}"), kind, None
        if kind == "repost":
            recent = self.recent[lang]
            if recent:
                pid, name, original = recent[int(rng.random() * len(recent))]
                comment = _pick(text_bank.kinds["repost_comment"], rng).fill(slots)
                if lang == "zh":
                    text = f"{comment}//@{name}:{original}" if rng.random() < 0.5 else comment
                else:
                    text = f"RT @{name}: {original}" if rng.random() < 0.4 else comment
                return text, kind, pid
            return self._decorate(self._daily(lang, slots, rng), lang, rng), "daily", None
        if kind == "festival_greeting" and self._festival is not None:
            slots["festival"] = self._festival.name(lang)
            text = _pick(self._festival.spec.greet[lang], rng).fill(slots)
            return self._decorate(text, lang, rng), kind, None
        if kind == "disaster_sympathy" and self._event is not None:
            event = self._event
            if rng.random() < 0.65:
                slots.update(event=event.name(lang), city=event.city[lang])
                text = _pick(text_bank.sympathy, rng).fill(slots)
            else:
                text = _pick(event.spec.local[lang], rng).fill(slots)
            return text, kind, None
        if kind in ("product_praise", "product_complaint"):
            brand = _pick(self.bank.everyday, rng)
            slots.update(brand=brand.zh if lang == "zh" else brand.en, product=self.maker.product(brand, lang, rng))
        templates = text_bank.kinds.get(kind)
        if not templates:  # festival/disaster kinds outside their window
            return self._decorate(self._daily(lang, slots, rng), lang, rng), "daily", None
        text = _pick(templates, rng).fill(slots)
        if kind in ("short", "question", "product_praise", "product_complaint", "morning_greeting", "night_greeting"):
            text = self._decorate(text, lang, rng)
        return text, kind, None

    def _share(self, story: Story, lang: str, rng: random.Random) -> tuple[str, str]:
        slots = self._slot(lang)
        text_bank = self.bank.text[lang]
        if story.event is not None and rng.random() < 0.5:
            slots.update(event=story.event.name(lang), city=story.event.city[lang])
            sympathy = _pick(text_bank.sympathy, rng).fill(slots)
            sep = " " if lang == "en" else ""
            tail = f"{sep}【{story.headline[lang]}】" if lang == "zh" else f" ({story.headline[lang]})"
            return sympathy + (tail if rng.random() < 0.6 else sep + story.link[lang]), "disaster_sympathy"
        kind = "disaster_sympathy" if story.event is not None else "news_share"
        reactions = text_bank.kinds["news_reaction"]
        own = _pick(reactions, rng).fill(slots)
        if rng.random() < _TWO_REACTIONS:
            own = f"{own}{'，' if lang == 'zh' else ', '}{_pick(reactions, rng).fill(slots)}"
        slots.update(headline=_quoted(story.headline[lang], lang, rng), link=story.link[lang])
        framed = _pick(text_bank.kinds["news_share"], rng).fill(slots)
        return (f"{own} {framed}" if rng.random() < 0.5 else f"{framed} {own}"), kind

    def _daily(self, lang: str, slots: Slots, rng: random.Random) -> str:
        topics = self.bank.text[lang].topics
        cum, total = self._topic_cum[lang]
        _topic, templates = topics[bisect_right(cum, rng.random() * total)]
        text = _pick(templates, rng).fill(slots)
        u = rng.random()
        if u < 0.22:
            more = _pick(templates, rng).fill(slots)
            text = f"{text}，{more}" if lang == "zh" else f"{text}, {more}"
        elif u < 0.30:
            feeling = _pick(slots.vocab["feeling"], rng)
            text = f"{text}，{feeling}" if lang == "zh" else f"{text}, {feeling}"
        elif u < 0.36:
            parts = [text] + [
                _pick(topics[bisect_right(cum, rng.random() * total)][1], rng).fill(slots)
                for _ in range(1 + int(rng.random() * 3))
            ]
            text = "。".join(parts) if lang == "zh" else ". ".join(parts)
        return text

    def _decorate(self, text: str, lang: str, rng: random.Random) -> str:
        vocab = self.bank.text[lang].vocab
        if rng.random() < 0.45:
            text += _pick(vocab["tail"], rng)
        u = rng.random()
        if u < 0.05:
            tag = _pick(vocab["hashtag"], rng)
            text = f"{tag}{text}" if lang == "zh" else f"{text} {tag}"
        elif u < 0.08:
            name = self.population.person(self.population.draw(rng.random())).account.name
            text = f"@{name} {text}"
        if lang == "en" and text and rng.random() < 0.3:
            text = text[0].lower() + text[1:]
        return text
