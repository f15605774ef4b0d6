"""hotspot_hijack: disasters, extreme weather and news used as a hook for promotion.

The article: "when smog comes" and "when a sandstorm comes" the copywriters get busy, and after
a plane crash the apps have copy ready; brands "leverage every social public event, extreme
weather, or even human disaster". The feature that fires is the *combination*: an event word
and promotion in the same post (``HOTSPOT_HIJACK_PROMO``). An event mentioned alone is news;
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
    **soft_ad.LISTS,
}
PATTERNS = dict(soft_ad.PATTERNS)


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every hotspot_hijack feature for the batch."""
    events = ctx.count("hotspot_events")
    sympathy = ctx.count("hotspot_sympathy")
    promo = (events > 0) & soft_ad.promotion(ctx)
    return {
        "HOTSPOT_HIJACK_EVENT": events,
        "HOTSPOT_HIJACK_SYMPATHY": np.where(events > 0, sympathy, 0.0),
        "HOTSPOT_HIJACK_PROMO": promo.astype(np.float64),
    }


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
            promo = soft_ad.promotion_matches(matches)
            out[name] = f"event {soft_ad.quote(ctx, i, events)} with promotion {soft_ad.quote(ctx, i, promo, 2)}"
        elif name == "HOTSPOT_HIJACK_EVENT":
            out[name] = f"event {soft_ad.quote(ctx, i, events)}"
        elif name == "HOTSPOT_HIJACK_SYMPATHY":
            found = [m for m in matches if m.source == "hotspot_sympathy"]
            if found:
                out[name] = f"sympathy {soft_ad.quote(ctx, i, found)}"
    return out
