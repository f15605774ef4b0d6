"""hotspot_hijack: disasters, extreme weather and news used as a hook for promotion.

The article: "when smog comes" and "when a sandstorm comes" the copywriters get busy, and after
a plane crash the apps have copy ready; brands "leverage every social public event, extreme
weather, or even human disaster". The feature that fires is the *combination*: an event (a
disaster word, or a story presented as trending: 热搜, "everyone's talking about") and selling
in the same post (``HOTSPOT_HIJACK_PROMO``): soft_ad's promotion, or a micro-business income
pitch (月入过万; recruiting words like 招聘 are too common in the news to count). A link alone
is not selling here: people share the news with its link. An event mentioned alone is news;
sympathy alone ("地震无情人有情，为灾区祈福") is what people say, and neither fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "hotspot_hijack"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "hotspot_events": None,
    "hotspot_sympathy": None,
    "microbusiness_income": None,
    **soft_ad.LISTS,
}
_PITCH = ("microbusiness_income",)
PATTERNS = dict(soft_ad.PATTERNS)


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every hotspot_hijack feature for the batch."""
    events = ctx.count("hotspot_events")
    sympathy = ctx.count("hotspot_sympathy")
    promo = (events > 0) & _selling(ctx)
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


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the hotspot_hijack features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    events = [m for m in matches if m.source == "hotspot_events"]
    out: dict[str, str] = {}
    for name in features:
        if not events:
            break
        if name == "HOTSPOT_HIJACK_PROMO":
            promo = soft_ad.promotion_matches(matches) + [m for m in matches if m.source in _PITCH]
            out[name] = f"event {soft_ad.quote(ctx, i, events)} with promotion {soft_ad.quote(ctx, i, promo, 2)}"
        elif name == "HOTSPOT_HIJACK_EVENT":
            out[name] = f"event {soft_ad.quote(ctx, i, events)}"
        elif name == "HOTSPOT_HIJACK_SYMPATHY":
            found = [m for m in matches if m.source == "hotspot_sympathy"]
            if found:
                out[name] = f"sympathy {soft_ad.quote(ctx, i, found)}"
    return out
