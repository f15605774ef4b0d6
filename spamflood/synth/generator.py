"""The synthetic feed as a stream of ``(post, truth)`` records in time order.

How it streams in bounded memory: the world (festivals, disasters, viral stories, hourly
volume) is planned up front and is sized by days, not posts. Campaigns are planned at the start
of each day and wait in a heap keyed by their next post time. Then each hour's posts are made:
that hour's organic posts, the story shares falling in it, and the campaign posts due before
its end, sorted by time and numbered. A campaign's truth record is handed out as soon as its
last post is written, and the campaign is dropped. People's profiles sit in a bounded cache.
So memory follows the number of campaigns running at once, never the length of the feed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from spamflood.synth.accounts import AccountIds, AccountMaker, Population
from spamflood.synth.bank import load_bank
from spamflood.synth.campaigns import Campaign, Ctx
from spamflood.synth.clock import Clock
from spamflood.synth.mutate import Mutator
from spamflood.synth.organic import Organic
from spamflood.synth.params import SynthParams
from spamflood.synth.planner import Planner
from spamflood.synth.rand import Stream, np_rng, py_rng
from spamflood.synth.world import World

__all__ = ["generate"]

HOUR = 3600
_POSTS_PER_PERSON_DAY = 0.4  # the average person posts about every two and a half days

Record = dict[str, Any]


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
    on_campaign: Callable[[Record], None] | None = None,
) -> Iterator[tuple[Record, Record]]:
    """Yield exactly ``posts`` ``(post_record, truth_record)`` pairs of a synthetic feed, in time order.

    ``zh_ratio`` is the share of Chinese-writing accounts (0 English only, 1 Chinese only);
    ``spam_ratio`` the share of campaign posts; ``evasion`` the chance that a post of an evading
    campaign (mass share, auto posting, soft ad, micro-business, repetition) is disguised at
    level 1-3. ``start`` is the first day (a date or naive time is local to ``tz``) and the feed
    covers ``days`` days. ``on_campaign`` receives each campaign's truth record when its last
    post has been yielded (so in order of campaign end, not campaign id).

    Parameters are checked at once (before the first ``next``); a bad one raises
    :class:`~spamflood.errors.ConfigError` naming it. The same arguments give the same records.

    >>> post, truth = next(generate(100, seed=1))
    >>> sorted(post) == sorted(["id", "text", "author", "time", "author_name", "author_bio",
    ...     "author_created", "followers", "following", "statuses", "repost_of"])
    True
    >>> list(truth)
    ['id', 'labels', 'campaign', 'evasion', 'organic_kind']
    """
    params = SynthParams.check(
        posts, seed=seed, zh_ratio=zh_ratio, start=start, days=days, spam_ratio=spam_ratio, tz=tz, evasion=evasion
    )
    return _stream(params, on_campaign)


def _stream(params: SynthParams, on_campaign: Callable[[Record], None] | None) -> Iterator[tuple[Record, Record]]:
    bank = load_bank()
    clock = Clock(params.tz)
    budget = round(params.posts * params.spam_ratio)
    organic_total = params.posts - budget
    ids = AccountIds(params.seed)
    maker = AccountMaker(bank, params.seed, params.first, ids)
    people = max(50, round(organic_total / (params.days * _POSTS_PER_PERSON_DAY)))
    world = World(params, bank, clock, maker, organic_total, people)
    population = Population(bank, params.seed, people, params.zh_ratio, params.first, params.days, ids)
    organic = Organic(bank, population, world, maker, clock)
    ctx = Ctx(bank, params, clock, world, population, maker, Mutator(bank))
    planner = Planner(ctx, budget, keep_members=on_campaign is not None)
    width = max(7, len(str(params.posts)))
    serial = 0
    waiting: list[tuple[int, int, Campaign]] = []
    for d in range(params.days):
        for campaign in planner.plan_day(d):
            heapq.heappush(waiting, (campaign.times[0], campaign.seq, campaign))
        for hour in range(24):
            h = d * 24 + hour
            lo = params.first + h * HOUR
            hi = lo + HOUR
            clock.prepare(lo, hi)
            rng = py_rng(params.seed, Stream.HOUR, h)
            items: list[tuple[int, int, int, Any, Any]] = organic.hour(h, lo, hi, rng, np_rng(params.seed, Stream.HOUR_NP, h))
            while waiting and waiting[0][0] < hi:
                t, seq, campaign = heapq.heappop(waiting)
                j = campaign.cursor
                campaign.cursor += 1
                items.append((t, 2, seq, j, campaign))
                if campaign.cursor < len(campaign.times):
                    heapq.heappush(waiting, (campaign.times[campaign.cursor], seq, campaign))
            items.sort()
            for item in items:
                serial += 1
                pid = f"p{serial:0{width}d}"
                if item[1] == 2:
                    campaign, j = item[4], item[3]
                    pair = campaign.render(j, pid, rng)
                    if j == len(campaign.times) - 1:
                        if on_campaign is not None:
                            on_campaign(campaign.record())
                        campaign.release()
                else:
                    pair = organic.render(item, pid, rng)
                yield pair
    if serial != params.posts or waiting:
        raise RuntimeError(f"synthetic feed: made {serial} posts for {params.posts} asked ({len(waiting)} campaigns left)")
