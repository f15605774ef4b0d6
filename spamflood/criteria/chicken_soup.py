"""chicken_soup: scheduled inspirational morning and night posts that carry a brand.

The article: "a large number of morning and night inspirational messages and corporate product
news are continuously produced every day by dedicated Weibo operators and pushed to their fans
on a regular basis". Two features fire: inspirational or greeting copy that carries a brand or
an offer, or a greeting headed with its sender's name ("[PawPal morning]")
(``CHICKEN_SOUP_BRANDED``), and the same account posting such copy at the same minute of the
day on several days (``CHICKEN_SOUP_FIXED_TIME``, which needs times and authors).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "chicken_soup"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "chicken_soup_greeting": None,
    "chicken_soup_inspiration": None,
    **soft_ad.LISTS,
}


def _brand_mark() -> tuple[re.Pattern[str], ...]:
    # after normalization 【品牌】 reads [品牌]; ™ reads tm
    return (re.compile(r"\[[^\]\x00]{2,12}\]"), re.compile(r"®|tm(?<=[a-z0-9]tm)(?![a-z])"), re.compile(r"#[^#\x00]{2,20}#"))


def _signed_greeting() -> tuple[re.Pattern[str], ...]:
    # a greeting headed with its sender's name: [PawPal morning], 【茶语轩晚安】
    return (re.compile(r"\[[^\]\x00]{1,24}(?:morning|night|早安|晚安)\]"),)


def _opening_greeting() -> tuple[re.Pattern[str], ...]:
    # a bare greeting heading the post, set off by punctuation: "Morning | ...", "早！...",
    # "睡前｜..." (the lexicon's greetings are whole phrases, "good morning"; a bare "morning" or
    # 早 is a greeting only where it opens the post). It is weaker than the lexicon's ("Morning,
    # team", "早，到公司了"): it makes soup only with a brand or an offer (CHICKEN_SOUP_BRANDED),
    # never for the fixed minute of an account's posts. Each regex starts with its word and looks
    # behind it for the post's start: the regex engine finds a literal start fast, and would try
    # a leading lookbehind at every character
    return tuple(re.compile(rf"{w}(?<![^\x00]{w})\s?[!.,|~]") for w in ("morning", "早", "睡前"))


PATTERNS = {
    **soft_ad.PATTERNS,
    "chicken_soup_brand": _brand_mark,
    "chicken_soup_signed": _signed_greeting,
    "chicken_soup_opening": _opening_greeting,
}
_GREETINGS = ("chicken_soup_greeting", "chicken_soup_opening")

TOLERANCE_MINUTES = 1
"""Posts within this many minutes of the same minute of the day count as the same slot."""


def _soup(ctx: Context) -> np.ndarray:
    greeting = ctx.count("chicken_soup_greeting")
    inspiration = ctx.count("chicken_soup_inspiration")
    return (greeting > 0) | (inspiration >= 2) | (ctx.count("chicken_soup_signed") > 0)


def _fixed_time(ctx: Context, soup: np.ndarray) -> np.ndarray:
    """Distinct days on which the author posted soup at this post's minute of the day (+-1);
    NaN for a post without a time or an author."""
    codes = ctx.author_codes()
    if codes is None or not ctx.has_times:
        return np.full(ctx.n, np.nan)
    day, minute = ctx.local_day(), ctx.local_minute()
    known = (day >= 0) & (codes >= 0)
    out = np.where(known, 0.0, np.nan)
    idx = np.flatnonzero(soup & known)
    if not idx.size:
        return out
    # distinct (author, minute, day) triples, then days per (author, minute)
    triples = np.unique(np.stack([codes[idx], minute[idx], day[idx]], axis=1), axis=0)
    pair_keys, days_per = np.unique(triples[:, 0] * 1440 + triples[:, 1], return_counts=True)
    total = np.zeros(idx.size, dtype=np.int64)
    for dm in range(-TOLERANCE_MINUTES, TOLERANCE_MINUTES + 1):  # each neighbouring minute, all posts at once
        key = codes[idx] * 1440 + (minute[idx] + dm) % 1440
        at = np.minimum(np.searchsorted(pair_keys, key), pair_keys.size - 1)
        total += np.where(pair_keys[at] == key, days_per[at], 0)
    out[idx] = total
    return out


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every chicken_soup feature for the batch."""
    greeting = sum((ctx.count(name) for name in _GREETINGS), np.zeros(ctx.n))
    inspiration = ctx.count("chicken_soup_inspiration")
    soup = _soup(ctx)
    greeted = soup | (ctx.count("chicken_soup_opening") > 0)  # soup, or a bare opening greeting
    signed = ctx.count("chicken_soup_signed") > 0
    promo = np.zeros(ctx.n, dtype=bool)
    at = np.flatnonzero(greeted)
    promo[at] = soft_ad.promotion(ctx, at)  # summed for the inspirational posts alone
    branded = greeted & (promo | (ctx.count("chicken_soup_brand") > 0) | signed)
    return {
        "CHICKEN_SOUP_GREETING": greeting,
        "CHICKEN_SOUP_INSPIRATION": inspiration,
        "CHICKEN_SOUP_BRANDED": branded.astype(np.float64),
        "CHICKEN_SOUP_FIXED_TIME": _fixed_time(ctx, soup),
    }


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the chicken_soup features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    signed = [m for m in matches if m.source == "chicken_soup_signed"]
    words = [m for m in matches if m.source in (*_GREETINGS, "chicken_soup_inspiration")]
    soup = words or signed
    out: dict[str, str] = {}
    for name, value in features.items():
        if name == "CHICKEN_SOUP_BRANDED" and soup:
            brand = [m for m in matches if m.source == "chicken_soup_brand"] + soft_ad.promotion_matches(matches)
            if words:
                out[name] = f"inspirational {soft_ad.quote(ctx, i, words, 2)} carrying {soft_ad.quote(ctx, i, signed + brand, 2)}"
            else:
                out[name] = f"greeting signed {soft_ad.quote(ctx, i, signed)}" + (f" carrying {soft_ad.quote(ctx, i, brand, 2)}" if brand else "")
        elif name == "CHICKEN_SOUP_FIXED_TIME" and ctx.has_times:
            minute = int(ctx.local_minute()[i])
            if minute >= 0:
                days = value
                when = f"{minute // 60:02d}:{minute % 60:02d} {ctx.tz}"
                out[name] = f"inspirational post at {when}" + (f" on {int(days)} days" if days else "")
        elif name in ("CHICKEN_SOUP_GREETING", "CHICKEN_SOUP_INSPIRATION") and soup:
            out[name] = f"inspirational {soft_ad.quote(ctx, i, soup, 2)}"
    return out
