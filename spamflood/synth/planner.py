"""How many campaign posts each day gets, and of which kinds.

The spam budget (``round(posts * spam_ratio)``) is paced over the days and split between the
kinds by :data:`KIND_SHARES`. Each morning the planner first serves the kinds tied to a date
(festival copy before its festival, hijacks after their disaster or story), spreading their
share over the days they can run; then it plans other campaigns, the kind furthest below its
share first, until the day's pace is met. Campaign posts may run into later days; posts that
would fall after the feed's end are dropped and their budget returns. On the last day,
personal-looking soft ads make up any remainder exactly, so the feed holds exactly ``posts``
posts. A kind that cannot run in the window (no festival near it) gives its share to the rest.
"""

from __future__ import annotations

import math
import random

from spamflood.synth.campaigns import KINDS, Campaign, Ctx, Hook, SoftAd
from spamflood.synth.rand import Stream, py_rng

__all__ = ["KIND_SHARES", "Planner"]

DAY = 86400

KIND_SHARES: dict[str, float] = {
    "mass_share": 0.28,
    "auto_posting": 0.15,
    "soft_ad": 0.13,
    "microbusiness": 0.11,
    "holiday_template": 0.10,
    "hotspot_hijack": 0.08,
    "chicken_soup": 0.08,
    "repetition": 0.07,
    "coordinated": 0.08,
}
"""Share of campaign posts per kind (before kinds that cannot run are dropped)."""

_DATED = ("holiday_template", "hotspot_hijack")
_FILLER_SIZE = 40


class Planner:
    """Plans the campaigns of each day; see the module docstring."""

    def __init__(self, ctx: Ctx, budget: int, keep_members: bool) -> None:
        self.ctx = ctx
        self.budget = budget
        self.keep_members = keep_members
        self.planned = 0
        self.count = 0
        self.width = max(4, len(str(budget)))
        params, world = ctx.params, ctx.world
        # Festival copy can run on any day of a festival's lead-up; hijacks start on the day of
        # their hook: every disaster, and some of the viral stories.
        self.feasible: dict[str, list[int]] = {"holiday_template": [], "hotspot_hijack": []}
        for d in range(params.days):
            lo = params.first + d * DAY
            if world.festivals_near(lo, min(lo + DAY, params.end)):
                self.feasible["holiday_template"].append(d)
        r = py_rng(params.seed, Stream.PLAN, 2**40)
        hooks: list[tuple[int, Hook]] = [(e.t, e) for e in world.events]
        hooks += [(s.t0, s) for s in world.stories if s.event is None and r.random() < 0.25]
        self.hooks = [((t - params.first) // DAY, hook) for t, hook in sorted(hooks, key=lambda h: h[0]) if t < params.end - 3600]
        self.feasible["hotspot_hijack"] = sorted({d for d, _ in self.hooks})
        shares = {k: v for k, v in KIND_SHARES.items() if k not in _DATED or self.feasible[k]}
        total = sum(shares.values())
        self.quota = {k: budget * v / total for k, v in shares.items()}
        self.by_kind = dict.fromkeys(self.quota, 0)

    def plan_day(self, d: int) -> list[Campaign]:
        """The campaigns that start on day block ``d``, with ids and sequence numbers set."""
        params = self.ctx.params
        r = py_rng(params.seed, Stream.PLAN, d)
        lo = params.first + d * DAY
        out: list[Campaign] = []
        for kind in _DATED:
            if kind not in self.quota or d not in self.feasible[kind]:
                continue
            if kind == "holiday_template":  # the kind's share, spread over the days it can run
                turns: list[Hook | None] = [None]
                left = sum(1 for x in self.feasible[kind] if x >= d)
            else:  # spread over the hooks still to come, each hook served on its day
                turns = [hook for day, hook in self.hooks if day == d]
                left = sum(1 for day, _ in self.hooks if day >= d)
            cls = KINDS[kind]
            for hook in turns:
                allot = (self.quota[kind] - self.by_kind[kind]) / max(1, left)
                left -= 1
                while allot >= cls.MIN / 2 and self.planned < self.budget:
                    cap = min(self.budget - self.planned, max(cls.MIN, math.ceil(allot)))
                    c = self._plan(cls, d, lo, cap, r, hook=hook)
                    if c is None:
                        break
                    out.append(c)
                    allot -= len(c.times)
        target = self.budget if d == params.days - 1 else round(self.budget * (d + 1) / params.days)
        tried = set(_DATED)
        while self.planned < target:
            open_kinds = [k for k in self.quota if k not in tried]
            if not open_kinds:
                break
            kind = max(open_kinds, key=lambda k: (self.quota[k] - self.by_kind[k]) / self.quota[k] + 0.25 * r.random())
            cls = KINDS[kind]
            room = max(cls.MIN, int(self.quota[kind] - self.by_kind[kind]) + cls.MIN)
            c = self._plan(cls, d, lo, min(self.budget - self.planned, room), r)
            if c is None:
                tried.add(kind)
                continue
            out.append(c)
        if d == params.days - 1:
            while self.planned < self.budget:
                size = min(_FILLER_SIZE, self.budget - self.planned)
                c = self._plan(SoftAd, d, lo, size, r, exact=size)
                if c is None:  # cannot happen: a filler always fits its posts in the last day
                    raise RuntimeError("synthetic feed: the last day could not hold the remaining campaign posts")
                out.append(c)
        return out

    def _plan(
        self, cls: type[Campaign], d: int, lo: int, cap: int, r: random.Random, *, exact: int = 0, hook: Hook | None = None
    ) -> Campaign | None:
        if cap < cls.MIN:
            return None
        c = cls.plan(self.ctx, d, lo, cap, r, exact=exact, hook=hook)
        if c is None:
            return None
        n = c.finalize(lo, self.ctx.params.end)
        if n == 0 or n > cap:
            if n > cap:
                raise RuntimeError(f"synthetic feed: a {cls.kind} campaign planned {n} posts for a cap of {cap}")
            return None
        self.count += 1
        c.seq = self.count
        c.cid = f"c{self.count:0{self.width}d}"
        if self.keep_members:
            c.members = []
        self.planned += n
        self.by_kind[cls.kind] = self.by_kind.get(cls.kind, 0) + n
        return c
