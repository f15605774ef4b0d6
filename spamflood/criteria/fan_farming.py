"""fan_farming: followers begged for, or bought and sold.

The article's Weibo years: businesses "increase their Weibo followers and forward comments",
marketing software makes zombie accounts by the ten thousand, and a user "worried that they
cannot gain 10 fans in a month" can "directly gain 10,000 zombie fans by spending 10 yuan".
Both ends show in comments and posts: the poster begging readers to subscribe to or follow
them (``subscribe to me``, ``sub back``, ``求关注``, ``互粉``), and the sellers of followers,
likes, forwards and fake orders (``真人粉丝``, ``快速涨粉``, ``刷单``, ``buy followers``). Begging
for one's *own* followers fires the label, where naming a channel ("I subscribed to her
channel") is a fan talking and fires nothing. A sale fires it when it is offered: with
soft_ad's promotion (a price, a contact, a link, a call to action) or an income pitch
(``刷单日结``), since the police warn of 刷单 scams in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "fan_farming"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "fan_farming_beg": None,
    "fan_farming_sale": None,
    "microbusiness_income": None,
    **soft_ad.LISTS,
}

PATTERNS = soft_ad.PATTERNS

SOURCES = {
    "FAN_FARMING_BEG": "fan_farming_beg",
    "FAN_FARMING_SALE": "fan_farming_sale",
}
_WHAT = {
    "FAN_FARMING_BEG": "asks for followers",
    "FAN_FARMING_SALE": "sells followers or orders",
}


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every fan_farming feature for the batch."""
    out = {name: ctx.count(src) for name, src in SOURCES.items()}
    offered = soft_ad.promotion(ctx) | (ctx.raw_count("microbusiness_income") > 0)
    out["FAN_FARMING_OFFER"] = ((out["FAN_FARMING_SALE"] > 0) & offered).astype(np.float64)
    return out


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the fan_farming features of post ``i`` in ``hits`` (``values``: all its values)."""
    matches = ctx.matches(i)
    out: dict[str, str] = {}
    for name in hits:
        if name == "FAN_FARMING_OFFER":
            offer = soft_ad.promotion_matches(matches) + [m for m in matches if m.source == "microbusiness_income"]
            if offer:  # the sale itself is quoted by its own feature
                out[name] = f"offered with {soft_ad.quote(ctx, i, offer, 2)}"
            continue
        found = [m for m in matches if m.source == SOURCES.get(name)]
        if found:
            out[name] = f"{_WHAT[name]} {soft_ad.quote(ctx, i, found)}"
    return out
