"""hotspot_hijack: disasters, extreme weather and news used as a hook for promotion.

The article: "when smog comes" and "when a sandstorm comes" the copywriters get busy, and after
a plane crash the apps have copy ready; brands "leverage every social public event, extreme
weather, or even human disaster". The feature that fires is the *combination*: an event (a
disaster word, or a story presented as trending: 热搜, "everyone's talking about") and selling
in the same post (``HOTSPOT_HIJACK_PROMO``): soft_ad's promotion, a micro-business income
pitch (月入过万; recruiting words like 招聘 are too common in the news to count), or the sender
signing the post with its own name, a brand putting itself on the event ("台风来袭，暖绒坊与你同在"
from 暖绒坊官方; :mod:`spamflood.criteria.sender`). A link alone is not selling here: people
share the news with its link. An event mentioned alone is news; sympathy alone
("地震无情人有情，为灾区祈福") is what people say, and neither fires.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context
from spamflood.criteria.lexicon import Match
from spamflood.criteria.sender import sender_spans

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "hotspot_hijack"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "hotspot_events": None,
    "hotspot_sympathy": None,
    "microbusiness_income": None,
    **soft_ad.LISTS,
}
_PITCH = ("microbusiness_income",)


def _turn() -> tuple[re.Pattern[str], ...]:
    # a story asked, then the product "deserves more attention": "石家庄发现千年古墓？这款面膜更值得
    # 关注"; without the question before it the phrase is ordinary comment ("消费者权益更值得关注")
    return (re.compile(r"\?[^?!.\x00]{1,24}更值得关注"),)


PATTERNS = {**soft_ad.PATTERNS, "hotspot_turn": _turn}
_EVENTS = ("hotspot_events", "hotspot_turn")


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every hotspot_hijack feature for the batch."""
    events = sum((ctx.count(name) for name in _EVENTS), np.zeros(ctx.n))
    sympathy = ctx.count("hotspot_sympathy")
    selling = _selling(ctx)
    promo = (events > 0) & (selling | _signed(ctx, (events > 0) & ~selling))
    return {
        "HOTSPOT_HIJACK_EVENT": events,
        "HOTSPOT_HIJACK_SYMPATHY": np.where(events > 0, sympathy, 0.0),
        "HOTSPOT_HIJACK_PROMO": promo.astype(np.float64),
    }


def _selling(ctx: Context) -> np.ndarray:
    """soft_ad's promotion without the posts whose only selling signal is a link (a news share
    carries its link), or an income pitch."""
    counts = soft_ad._counts(ctx)
    link_only = (counts["SOFT_AD_LINK"] > 0) & ~np.logical_or.reduce(
        [counts[k] > 0 for k in soft_ad.SIGNAL_KINDS if k != "SOFT_AD_LINK"]
    )
    pitch = np.logical_or.reduce([ctx.count(name) > 0 for name in _PITCH])
    return (soft_ad.promotion(ctx) & ~link_only) | pitch


def _signed(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """True at ``rows`` where the post names its own sender (False without author names)."""
    out = np.zeros(ctx.n, dtype=bool)
    names = ctx.cols.author_name
    index = np.flatnonzero(rows).tolist()
    if names is None or not index:
        return out
    for i, text in zip(index, ctx.texts_at(index)):
        out[i] = bool(sender_spans(text, names[i]))
    return out


def _sender_matches(ctx: Context, i: int) -> list[Match]:
    names = ctx.cols.author_name
    text = ctx.text(i)
    spans = sender_spans(text, names[i]) if names is not None else []
    return [Match("sender", text[a:b], "", a, b) for a, b in spans]


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the hotspot_hijack features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    events = [m for m in matches if m.source in _EVENTS]
    out: dict[str, str] = {}
    for name in features:
        if not events:
            break
        if name == "HOTSPOT_HIJACK_PROMO":
            promo = soft_ad.promotion_matches(matches) + [m for m in matches if m.source in _PITCH]
            if promo:
                out[name] = f"event {soft_ad.quote(ctx, i, events)} with promotion {soft_ad.quote(ctx, i, promo, 2)}"
            else:
                signed = soft_ad.quote(ctx, i, _sender_matches(ctx, i), 1)
                out[name] = f"event {soft_ad.quote(ctx, i, events)} signed by its sender {signed}"
        elif name == "HOTSPOT_HIJACK_EVENT":
            out[name] = f"event {soft_ad.quote(ctx, i, events)}"
        elif name == "HOTSPOT_HIJACK_SYMPATHY":
            found = [m for m in matches if m.source == "hotspot_sympathy"]
            if found:
                out[name] = f"sympathy {soft_ad.quote(ctx, i, found)}"
    return out
