"""microbusiness: friend-circle sellers boasting of sales and recruiting agents.

The article describes micro-business sellers who "showed off their sales revenue of hundreds of
thousands or even millions", with "chat records and transfer records forged", and the pyramid
of lower-level agents behind them. The features count income boasting, sales boasting,
transfer/order screenshots, agent recruitment and the work-from-your-phone pitch; the label
fires on two kinds together, on a pitch (income, recruitment, home work) that gives a
contact handle or link, or on a boast with figures: a sales or payment-screenshot claim
stating the goods sold ("465 boxes", "289箱", "一天卖出300单"), the day the sold-out goods come
back ("没货了，下一批6号到"; the restock words are no boast of their own there) or how new the
business is (transfers from a business "started with raw honey just 6 days ago"), or a return boast: a sum
invested and a sum got back ("I invested $1000 and got $15 000", the testimonials posted under
finance accounts, the forged transfer records of the article). One sum of money is not enough
(提现的500元到账了 is a person's own payment), nor income, recruiting or work-from-home words
(刷满300单 ... 零花钱 is a task-scam pitch, 招聘 a job ad), nor 万 (news reports sales in 万).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context
from spamflood.criteria.lexicon import Router

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "microbusiness"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "microbusiness_income": None,
    "microbusiness_sales": None,
    "microbusiness_screenshot": None,
    "microbusiness_recruit": None,
    "microbusiness_home": None,
    **soft_ad.LISTS,
}


def _units() -> tuple[re.Pattern[str], ...]:
    # a count of goods sold or shipped: 465 boxes, 289箱, 444套, 30单. One regex, tried only
    # where a run of digits starts ((?<!\d\d) after its first digit) and reading the run once
    # (\d*+ gives nothing back): the run is followed by a unit or it is not.
    return (
        re.compile(
            r"\d(?<!\d\d)\d*+(?:\s?[单套箱盒件份瓶]|\s(?:orders|boxes|sets|units|packs|bottles|pieces|sales)(?![a-z]))"
        ),
    )


def _restock_day() -> tuple[re.Pattern[str], ...]:
    # the day a sold-out product's next batch lands: "restock on the 3rd", "下一批6号到". Each
    # holds one word of the sales list (restock, 下一批), which is no boast of its own here
    # (compute). The word comes first, its boundary looked behind: a leading \b would be tried
    # at every character
    return (
        re.compile(r"restock(?<!\wrestock)(?:ed|ing)? on the \d{1,2}(?:st|nd|rd|th)\b"),
        re.compile(r"下一批\d{1,2}号到"),
    )


def _started() -> tuple[re.Pattern[str], ...]:
    # how few days ago the business began, told beside the proof: "[screenshot] today's
    # transfers, started with raw honey just 6 days ago" (the newcomer's boast; "started running
    # 3 days ago" is no business)
    return (re.compile(r"started with (?<!\wstarted with )[^.!?\x00]{1,30}? just \d{1,3} days? ago"),)


# A sum of money and what the words just before it say it was: put in, or got back.
_MONEY = re.compile(r"[$£€]\s?\d[\d,.]*(?:\s\d{3}(?![\d,.]))?(?:\s?(?:k|grand|usd)(?![a-z]))?")
_PUT_IN = re.compile(r"(?:invest\w*|deposit\w*|start(?:ed|ing)? with|start-?up of|capital of|put in)[^$£€.!?]{0,16}$")
_GOT_BACK = re.compile(
    r"(?:got|get|made|make|earn\w*|receiv\w*|withdr[ae]w\w*|profit\w*|returns?|payout|cash(?:ed)? out)[^$£€.!?]{0,16}$"
)


def _route_money(m: re.Match[str]) -> str | None:
    """invested / returned for a sum of money, by the words in the 24 characters before it."""
    before = m.string[max(0, m.start() - 24) : m.start()]
    if _PUT_IN.search(before):
        return "microbusiness_invested"
    if _GOT_BACK.search(before):
        return "microbusiness_returned"
    return None


def _returns() -> Router:
    return Router(_MONEY, _route_money, ("microbusiness_invested", "microbusiness_returned"))


PATTERNS = {
    **soft_ad.PATTERNS,
    "microbusiness_units": _units,
    "microbusiness_restock_day": _restock_day,
    "microbusiness_started": _started,
    "microbusiness_returns": _returns,
}
_FIGURES = ("microbusiness_units", "microbusiness_restock_day", "microbusiness_started")

SOURCES = {
    "MICROBUSINESS_INCOME": "microbusiness_income",
    "MICROBUSINESS_SALES": "microbusiness_sales",
    "MICROBUSINESS_SCREENSHOT": "microbusiness_screenshot",
    "MICROBUSINESS_RECRUIT": "microbusiness_recruit",
    "MICROBUSINESS_HOME": "microbusiness_home",
}
_PITCH = ("MICROBUSINESS_INCOME", "MICROBUSINESS_RECRUIT", "MICROBUSINESS_HOME")
_WHAT = {
    "MICROBUSINESS_INCOME": "income boast",
    "MICROBUSINESS_SALES": "sales boast",
    "MICROBUSINESS_SCREENSHOT": "proof screenshot",
    "MICROBUSINESS_RECRUIT": "recruiting",
    "MICROBUSINESS_HOME": "work-from-phone pitch",
}


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every microbusiness feature for the batch."""
    out = {name: ctx.count(src) for name, src in SOURCES.items()}
    out["MICROBUSINESS_SIGNALS"] = sum(((v > 0).astype(np.float64) for v in out.values()), np.zeros(ctx.n))
    counts = soft_ad._counts(ctx)
    reach = (counts["SOFT_AD_CONTACT"] > 0) | (counts["SOFT_AD_LINK"] > 0)
    pitch = np.logical_or.reduce([out[k] > 0 for k in _PITCH])
    out["MICROBUSINESS_CONTACT_PITCH"] = (pitch & reach).astype(np.float64)
    # each restock day holds one sales word ("restock on the 3rd"): the boast must be another
    restock_days = ctx.count("microbusiness_restock_day")
    boast = (out["MICROBUSINESS_SALES"] - restock_days > 0) | (out["MICROBUSINESS_SCREENSHOT"] > 0)
    figures = np.logical_or.reduce([ctx.count(name) > 0 for name in _FIGURES])
    out["MICROBUSINESS_FIGURES"] = (boast & figures).astype(np.float64)
    returned = (ctx.raw_count("microbusiness_invested") > 0) & (ctx.raw_count("microbusiness_returned") > 0)
    out["MICROBUSINESS_RETURNS"] = returned.astype(np.float64)
    return out


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the microbusiness features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    out: dict[str, str] = {}
    for name in features:
        if name in SOURCES:
            found = [m for m in matches if m.source == SOURCES[name]]
            if found:
                out[name] = f"{_WHAT[name]} {soft_ad.quote(ctx, i, found)}"
        elif name == "MICROBUSINESS_CONTACT_PITCH":
            pitch = [m for m in matches if m.source in {SOURCES[k] for k in _PITCH}]
            reach = [m for m in matches if m.source in soft_ad.SOURCES["SOFT_AD_CONTACT"] + soft_ad.SOURCES["SOFT_AD_LINK"]]
            if pitch and reach:
                out[name] = f"pitch with contact {soft_ad.quote(ctx, i, reach, 2)}"
        elif name == "MICROBUSINESS_FIGURES":
            sold = [m for m in matches if m.source == "microbusiness_units"]
            restock = [m for m in matches if m.source == "microbusiness_restock_day"]
            started = [m for m in matches if m.source == "microbusiness_started"]
            figures = [f"goods sold {soft_ad.quote(ctx, i, sold, 2)}"] if sold else []
            figures += [f"restock day {soft_ad.quote(ctx, i, restock, 1)}"] if restock else []
            figures += [f"business days old {soft_ad.quote(ctx, i, started, 1)}"] if started else []
            if figures:  # the boast itself is quoted by its own feature
                out[name] = "; ".join(figures)
        elif name == "MICROBUSINESS_RETURNS":
            put = [m for m in matches if m.source == "microbusiness_invested"]
            got = [m for m in matches if m.source == "microbusiness_returned"]
            if put and got:
                out[name] = f"invested {soft_ad.quote(ctx, i, put, 1)}, got back {soft_ad.quote(ctx, i, got, 1)}"
    return out
