"""soft_ad: product placement and calls to action.

The article's soft articles place a product in what reads like ordinary talk. What gives them
away is the machinery of selling: a price, a discount, a link, a contact handle (often spelled
to dodge filters: ``加V``, ``薇信``, ``扣扣``), a call to act, urgency, superlatives, and the
first-person testimonial ("I've been using X and ..."). Each is counted on its own; one of them
is ordinary speech, so the label's rule asks for several kinds together
(``SOFT_AD_SIGNALS``) or a disguised handle.

:func:`promotion` (any price, discount, link, contact or call to action) is the "selling" test
that the holiday, hotspot and chicken-soup families combine with their own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

import numpy as np

from spamflood.criteria.context import Context, lexicon
from spamflood.criteria.lexicon import Match

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "promotion", "snippets"]

FAMILY = "soft_ad"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "soft_ad_cta": None,
    "soft_ad_discount": None,
    "soft_ad_urgency": None,
    "soft_ad_superlative": None,
    "soft_ad_contact": None,
    "soft_ad_evasion": None,
    "soft_ad_testimonial": None,
    "soft_ad_shortlinks": None,
    "soft_ad_customer": None,
    "soft_ad_seller": None,
}

_D = r"[0-9x]"  # a digit, or a masked one (exports often mask digits as x)


def _price() -> re.Pattern[str]:
    return re.compile(
        r"(?:[¥$£€]|(?<![a-z])(?:rmb|usd|hkd|gbp)\s?)\s?" + _D + r"+(?:[.,]\d+)*"
        r"|(?<![0-9.])" + _D + r"+(?:\.\d+)?\s?(?:元|块钱|块|美元|英镑|欧元|港币|rmb(?![a-z])|usd(?![a-z]))"
        r"|(?<![0-9.a-z])\d{2,}r(?![a-z0-9])"  # chat shorthand: 100r = 100 yuan
        r"|(?<![0-9.])\d+(?:\.\d+)?p(?=/|pm\b|\s?per\b|\s?/?msg|\s?/?min|\s?/?wk)"  # UK pence: 150p/msg
        r"|(?<![0-9.])\d+(?:\.\d+)?\s?(?:dollars|bucks|pounds|quid|euros)(?![a-z])"
        r"|(?:仅需|只需|只要|低至|仅售|售价|原价|现价|特价|价格|仅)[:\s]?" + _D + r"+(?![0-9x]*(?:年|月|日|号|天|岁|人|个|次|名))"
        r"|[一二两三四五六七八九十百千万]+元"
        r"|(?<![0-9.])" + _D + r"+(?:\.[0-9x]+)?万(?:元|起)"
        r"|(?:售|总价|首付|月供|一口价|成本价)[:\s]?" + _D + r"+"
        r"|(?<![0-9.])\d+(?:\.\d+)?/(?:月|年|天|次|件|盒|斤|个|张|位|人|条|套|month|year|week|wk|day|min)(?![a-z])"
    )


def _discount() -> re.Pattern[str]:
    return re.compile(
        r"(?<![0-9.])" + _D + r"{1,2}(?:\.[0-9x])?\s?折(?!腾|叠|磨|服|射|断|返|回|合|算|旧|纸|线)"
        r"|[一二三四五六七八九]折(?!腾|叠|磨|服|射|断|返|回|合|算|旧|纸|线)"
        r"|\d{1,3}\s?%\s?off(?![a-z])|up to \d{1,3}\s?%"
        r"|满" + _D + r"+(?:元)?[减送返]" + _D + r"+|充" + _D + r"+送" + _D + r"+|买[0-9x一二三]送[0-9x一二三]"
        r"|(?:code|优惠码|兑换码|券码|邀请码)[:\s]*[a-z0-9]{4,}"
    )


@lru_cache(maxsize=1)
def _tlds() -> str:
    return "|".join(sorted(lexicon("soft_ad_tlds").terms, key=len, reverse=True))


def _link() -> re.Pattern[str]:
    return re.compile(
        r"https?://[^\s\x00]*[^\s\x00.,;:!?)\]]|www\.[^\s\x00]*[^\s\x00.,;:!?)\]]"
        r"|(?<![a-z0-9@.\-])[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:" + _tlds() + r")(?![a-z0-9.])(?:/[^\s\x00]*[^\s\x00.,;:!?)\]])?"
    )


def _phone() -> re.Pattern[str]:
    return re.compile(
        r"(?<![0-9x])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9])"  # China mobile
        r"|(?<![0-9])(?:0\d{2,3}|400|800)[- ]?\d{3,4}[- ]?\d{4}(?![0-9])"  # landline, 400 numbers
        r"|(?<![0-9])0[789]\d{8,9}(?![0-9])"  # UK mobile and premium numbers
        r"|(?<![0-9.,])\d{7,12}(?![0-9.,%年元])"  # a bare long number: phone, QQ
        r"|(?<![a-z0-9])x{11}(?![a-z0-9])|(?<![a-z0-9])x{3,4}-x{7,8}(?![a-z0-9])"  # masked numbers
        r"|(?<![a-z])(?:to|on|call|dial|txt|text)\s?\d{5}(?![0-9])"  # SMS short codes: text WIN to 80086
    )


def _email() -> re.Pattern[str]:
    return re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")


def _cta() -> re.Pattern[str]:
    return re.compile(
        r"(?<![a-z])(?:txt|text|send|reply|rply)\s+[a-z0-9]+(?:\s+[a-z0-9]+)?\s+(?:to|2)\s+\d{4,6}(?![0-9])"
        r"|(?<![a-z])(?:call|dial|ring)\s+(?:(?:now|free|freephone|on|us|from a landline)\s+)*(?:0[3589]\d{2}|\+?44)"
    )


PATTERNS: dict[str, Callable[[], re.Pattern[str]]] = {
    "soft_ad_cta_pattern": _cta,
    "soft_ad_price": _price,
    "soft_ad_discount_pattern": _discount,
    "soft_ad_link": _link,
    "soft_ad_phone": _phone,
    "soft_ad_email": _email,
}

# feature -> the lists and patterns it counts
SOURCES: dict[str, tuple[str, ...]] = {
    "SOFT_AD_PRICE": ("soft_ad_price",),
    "SOFT_AD_DISCOUNT": ("soft_ad_discount", "soft_ad_discount_pattern"),
    "SOFT_AD_LINK": ("soft_ad_link", "soft_ad_shortlinks"),
    "SOFT_AD_CONTACT": ("soft_ad_contact", "soft_ad_evasion", "soft_ad_phone", "soft_ad_email"),
    "SOFT_AD_EVASION": ("soft_ad_evasion",),
    "SOFT_AD_CTA": ("soft_ad_cta", "soft_ad_cta_pattern"),
    "SOFT_AD_CUSTOMER": ("soft_ad_customer",),
    "SOFT_AD_SELLER": ("soft_ad_seller",),
    "SOFT_AD_URGENCY": ("soft_ad_urgency",),
    "SOFT_AD_SUPERLATIVE": ("soft_ad_superlative",),
    "SOFT_AD_TESTIMONIAL": ("soft_ad_testimonial",),
}
SIGNAL_KINDS = (
    "SOFT_AD_PRICE",
    "SOFT_AD_DISCOUNT",
    "SOFT_AD_LINK",
    "SOFT_AD_CONTACT",
    "SOFT_AD_CTA",
    "SOFT_AD_URGENCY",
    "SOFT_AD_SUPERLATIVE",
    "SOFT_AD_TESTIMONIAL",
    "SOFT_AD_CUSTOMER",
    "SOFT_AD_SELLER",
)
PROMOTION_KINDS = (
    "SOFT_AD_PRICE",
    "SOFT_AD_DISCOUNT",
    "SOFT_AD_LINK",
    "SOFT_AD_CONTACT",
    "SOFT_AD_CTA",
    "SOFT_AD_CUSTOMER",
    "SOFT_AD_SELLER",
)

_WHAT = {
    "soft_ad_price": "price",
    "soft_ad_discount": "discount",
    "soft_ad_discount_pattern": "discount",
    "soft_ad_link": "link",
    "soft_ad_shortlinks": "short link",
    "soft_ad_contact": "contact handle",
    "soft_ad_evasion": "disguised handle",
    "soft_ad_phone": "phone/QQ number",
    "soft_ad_email": "e-mail address",
    "soft_ad_cta": "call to action",
    "soft_ad_cta_pattern": "call to action",
    "soft_ad_customer": "customer address",
    "soft_ad_seller": "seller's voice",
    "soft_ad_urgency": "urgency",
    "soft_ad_superlative": "superlative",
    "soft_ad_testimonial": "testimonial",
}


def _counts(ctx: Context) -> dict[str, np.ndarray]:
    found = ctx.cache.get("soft_ad")
    if found is None:
        found = {name: sum((ctx.count(s) for s in srcs), np.zeros(ctx.n)) for name, srcs in SOURCES.items()}
        ctx.cache["soft_ad"] = found
    return found


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every soft_ad feature for the batch."""
    out = dict(_counts(ctx))
    out["SOFT_AD_SIGNALS"] = sum(((out[k] > 0).astype(np.float64) for k in SIGNAL_KINDS), np.zeros(ctx.n))
    out["SOFT_AD_PHRASES"] = sum((out[k] for k in SIGNAL_KINDS), np.zeros(ctx.n))
    return out


def promotion(ctx: Context) -> np.ndarray:
    """True where a post sells: a price, discount, link, contact, call to action, customer
    address or the seller's own voice."""
    counts = _counts(ctx)
    return np.logical_or.reduce([counts[k] > 0 for k in PROMOTION_KINDS])


def quote(matches: Iterable[Match], limit: int = 3) -> str:
    """``"a", "b"``: the first distinct matched texts, quoted."""
    seen: list[str] = []
    for m in matches:
        if m.text not in seen:
            seen.append(m.text)
        if len(seen) == limit:
            break
    return ", ".join(f'"{s}"' for s in seen)


def promotion_matches(matches: list[Match]) -> list[Match]:
    wanted = {s for k in PROMOTION_KINDS for s in SOURCES[k]}
    return [m for m in matches if m.source in wanted]


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the soft_ad features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    out: dict[str, str] = {}
    for name in features:
        srcs = SOURCES.get(name)
        if not srcs:
            continue
        found = [m for m in matches if m.source in srcs]
        if name == "SOFT_AD_CONTACT" and "SOFT_AD_EVASION" in features:
            found = [m for m in found if m.source != "soft_ad_evasion"]
        if not found:
            continue
        what = _WHAT[found[0].source]
        out[name] = f"{what} {quote(found)}"
    return out
