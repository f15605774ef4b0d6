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
from spamflood.criteria.lexicon import Cover, Match, Router

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
    "soft_ad_customer": None,
    "soft_ad_seller": None,
}

_D = r"[0-9x]"  # a digit, or a masked one (exports often mask digits as x)

# Each pattern is a tuple of small regexes, each starting with a literal or a character class so
# that the regex engine can skip ahead quickly (one big alternation is several times slower).
# Overlapping matches of one pattern count once (see Scanner.scan).
Patterns = tuple[re.Pattern[str], ...]


def _alts(*parts: str) -> Patterns:
    return tuple(re.compile(p) for p in parts)


_NOT_FOLD = r"(?!腾|叠|磨|服|射|断|返|回|合|算|旧|纸|线)"  # 折 in 折腾, 折叠 ... is no discount

# Every number, read once with what follows it; _route_number says what it is.
_NUMBER = (
    r"(?P<num>[0-9x](?<![0-9x][0-9x])(?<![0-9x][.,][0-9x])[0-9x]*(?:[.,][0-9x]+)*)"  # from the start of a number only
    # (a comma or point continues a number only after a digit: "，199元" is a price after a comma)
    r"(?:(?=[\s元块美英欧港万rudbpqe/折%])(?:\s?(?P<unit>元|块钱|块|美元|英镑|欧元|港币|万元|万起)"
    r"|\s?(?P<word>rmb|usd|dollars|bucks|pounds|quid|euros)(?![a-z])"
    r"|(?P<chat>r)(?![a-z0-9])"  # chat shorthand: 100r = 100 yuan
    r"|(?P<pence>p)(?=/|pm\b|\s?per\b|\s?/?msg|\s?/?min|\s?/?wk)"  # UK pence: 150p/msg
    r"|(?P<per>/(?:月|年|天|次|件|盒|斤|个|张|位|人|条|套|month|year|week|wk|day|min))(?![a-z])"
    r"|\s?(?P<zhe>折)" + _NOT_FOLD + r""
    r"|\s?(?P<off>%\s?off)(?![a-z]))"
    r"|(?P<bare>)(?<=[0-9x]{5})"  # no suffix: only numbers of 5+ characters (phones, short codes)
    r")"
)
_SHORT_CODE_BEFORE = ("to ", "on ", "call ", "dial ", "txt ", "text ", "to", "call", "txt", "text")


@lru_cache(maxsize=1)
def _reported_sum() -> re.Pattern[str]:
    """A sum the news reports (a fine, a loss, a company's revenue: ``罚款5万元``), not a price:
    the words of ``soft_ad_news_sums``, then at most a filler (人民币, 共计, 约), ending just
    before the number."""
    words = "|".join(sorted(map(re.escape, lexicon("soft_ad_news_sums").terms), key=len, reverse=True))
    return re.compile(r"(?:" + words + r")[:：\s]?(?:人民币|共计|合计|总计|高达|约|达|超|近|逾|超过|累计)?[:：\s]?$")


def _route_number(m: re.Match[str]) -> str | None:
    """price / discount / phone for one number and its suffix, or None for a plain number."""
    kind = m.lastgroup
    num = m.group("num")
    digits = len(num) - num.count("x") - num.count(".") - num.count(",")  # num is [0-9x.,]: its digits, by C calls
    if kind == "bare":
        if "." in num or "," in num:
            return None
        if len(num) == 5 and digits == 5:  # an SMS short code: text WIN to 80086
            before = m.string[max(0, m.start() - 5) : m.start()]
            return "soft_ad_phone" if before.endswith(_SHORT_CODE_BEFORE) else None
        if not 7 <= len(num) <= 12:
            return None
        # @2148273214: a QQ group mentions a member by number; @用户2097706736: Weibo's default
        # name for an account, quoted in every repost chain (//@用户2097706736:)
        if m.string[max(0, m.start() - 3) : m.start()].endswith(("@", "@用户")):
            return None
        nxt = m.string[m.end() : m.end() + 1]
        if nxt in ("%", "年", "元"):
            return None
        if digits == len(num) or digits >= 3 or num == "x" * 11:  # a phone or QQ number, maybe masked
            return "soft_ad_phone"
        return None
    if kind == "unit":
        before = m.string[max(0, m.start() - 10) : m.start()]
        return None if _reported_sum().search(before) else "soft_ad_price"
    if kind in ("word", "pence", "per"):
        return "soft_ad_price" if digits else None
    if kind == "chat":
        return "soft_ad_price" if digits == len(num) >= 2 else None
    if kind == "zhe":
        return "soft_ad_discount_pattern" if len(num) <= 4 else None
    if kind == "off":
        return "soft_ad_discount_pattern" if 0 < digits == len(num) <= 3 else None
    return None


def _numbers() -> Router:
    return Router(
        re.compile(_NUMBER), _route_number, ("soft_ad_price", "soft_ad_discount_pattern", "soft_ad_phone")
    )


def _price() -> Patterns:
    # the branches of one regex all start with a literal character, so the engine still skips
    # ahead on the set of first characters; numbers with units come from _numbers
    words = ["仅需", "只需", "只要", "低至", "仅售", "售价", "原价", "现价", "特价", "价格", "仅", "售", "总价", "首付", "月供", "一口价", "成本价"]
    lead = "|".join(w + r"[:\s]?" + _D + r"+(?![0-9x]*(?:年|月|日|号|天|岁|人|个|次|名))" for w in words)
    return _alts(
        # "$14 off" is a discount, not a price; "$5 million" is news, not a price
        r"[¥$£€]\s?" + _D + r"+(?:[.,]\d+)*(?![0-9x]|[.,][0-9x]|\s?(?:off|million|billion|bn|mn|trillion)(?![a-z]))",
        r"(?:rmb|usd|hkd|gbp)\s?" + _D + r"+(?:[.,]\d+)*",
        # 三百元: found at 元, widened for display; 5万元 is a number with its unit (_numbers)
        lead + r"|元(?<=[一二两三四五六七八九十百千万]元)(?<![0-9x][十百千万]元)",
    )


def _discount() -> Patterns:
    return _alts(
        r"一折" + _NOT_FOLD + r"|二折" + _NOT_FOLD + r"|三折" + _NOT_FOLD + r"|四折" + _NOT_FOLD
        + r"|五折" + _NOT_FOLD + r"|六折" + _NOT_FOLD + r"|七折" + _NOT_FOLD + r"|八折" + _NOT_FOLD
        + r"|九折" + _NOT_FOLD
        + r"|满" + _D + r"+(?:元)?[减送返]" + _D + r"+"
        + r"|充" + _D + r"+送" + _D + r"+"
        + r"|买[0-9x一二三]送[0-9x一二三]"
        + r"|优惠码[:\s]*[a-z0-9]{4,}|兑换码[:\s]*[a-z0-9]{4,}|券码[:\s]*[a-z0-9]{4,}|邀请码[:\s]*[a-z0-9]{4,}"
        + r"|用码[:\s]*[a-z0-9]{4,}|留了券[:\s]*[a-z0-9]{4,}",  # 下单记得用码VIP97: a code to type at checkout
        # "for free" offers (watch it for free, gift cards for free!); a deed done for free for
        # decades is news ("Retired teacher, 78, has tutored kids for free for 40 years"), and so
        # is a headline quoted and cut off there ("has tutored kids for free...", "for free for...")
        r"up to \d{1,3}\s?%|code[:\s]*[a-z0-9]{4,}"
        r"|for free(?<![a-z0-9]for free)(?![a-z0-9])(?!\.\.\.|…|\sfor(?:\.\.\.|…)|\s(?:for|over)\s(?:(?:the\s)?(?:past|last)\s)?"
        r"(?:[0-9]{2,}(?:\syears|\.\.\.|…)|many\syears|decades|years(?![a-z])))",
        r"[$£€¥]\s?\d+(?:[.,]\d+)?\s?off(?![a-z])",  # $14 off: money taken off a price
    )


@lru_cache(maxsize=1)
def _tlds() -> str:
    return "|".join(sorted(lexicon("soft_ad_tlds").terms, key=len, reverse=True))


# A link runs over the characters a URL is written with (RFC 3986, in the matching form's lower
# case) and does not end on punctuation: an emoji or a word glued on after it is not part of it.
_TAIL = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[a-z0-9\-_~/#\[@$&'(*+=%]"


def _link() -> Cover:
    return Cover(
        _alts(
            r"https?://" + _TAIL,
            r"网页链接",  # how Weibo shows a posted link, its address hidden in the markup
            r"www\." + _TAIL,
            # a bare domain, name.tld[/path]: found at its dot (the engine skips to dots quickly)
            r"\.(?<=[a-z0-9]\.)(?:" + _tlds() + r")(?![a-z0-9.])(?:/" + _TAIL + r")?",
        ),
        # the digits of a link (x.com/item/13812345678) are no phone number, price or discount
        hides=("soft_ad_phone", "soft_ad_price", "soft_ad_discount_pattern", "soft_ad_bank_account"),
    )


def _phone() -> Patterns:
    # bare long numbers (QQ, mobile, masked xxxxxxxxxxx) come from _numbers
    return _alts(
        # landlines and 400 numbers written with separators; a masked landline xxxx-xxxxxxx
        r"0\d{2,3}[- ]\d{3,4}[- ]?\d{4}(?![0-9])|400[- ]\d{3}[- ]?\d{4}(?![0-9])|800[- ]\d{3}[- ]?\d{4}(?![0-9])"
        r"|-x{8}(?<=x{3}-x{8})(?![a-z0-9])|-x{7}(?<=x{3}-x{7})(?![a-z0-9])"
        # an international number written in groups: +44 7700 900842, +1 (415) 555-2442
        r"|\+(?<![0-9a-z]\+)[1-9][0-9]{0,2}[ -]?\(?[0-9]{2,4}\)?[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}(?![0-9])",
    )


def _bank_account() -> Patterns:
    # a bank named, then a card number of 15 to 22 digits (masked or grouped): where to pay; the
    # bank-transfer scam is often nothing else ("农行6228... 王亚"), and fires the label alone
    banks = "农行|工行|建行|中行|招行|交行|邮储|邮政|信用社|农商行|浦发|民生|兴业|光大|中信|华夏|平安|银行"
    return _alts(r"(?:" + banks + r")[^0-9x]{0,8}(?<![0-9x])[0-9x](?:[ _-]?[0-9x]){14,21}(?![0-9x])")


def _urgency() -> Patterns:
    # a countdown: 最后9小时, 最后两个小时 (the hours left of a flash sale)
    return _alts(r"最后(?:[0-9x]{1,2}|[一二两三四五六七八九十几]{1,2})个?小时")


def _email() -> Patterns:
    # an address has a name before its @; "@sandra.m.joe" alone is a platform mention (a reply)
    return _alts(r"@(?<=[a-z0-9._%+\-]@)[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")


def _cta() -> Patterns:
    return _alts(
        r"(?:txt|text|send|reply|rply|call|dial|ring)\s"
        r"(?:(?<=(?:txt|ext|end|ply) )[a-z0-9]+(?:\s+[a-z0-9]+)?\s+(?:to|2)\s+\d{4,6}(?![0-9])"  # text WIN to 80086
        r"|(?<=(?:all|ial|ing) )(?:(?:now|free|freephone|on|us|from a landline)\s+)*(?:0[3589]\d{2}|\+?44)"  # call 0906..
        r"|(?<=(?:txt|ext|all|ial|ing) )\+[1-9][0-9]{0,2}(?=[ (]))",  # text +1 (415) 555-2442
    )


def _app_name(word: str) -> Patterns:
    """A messaging app's name as a handle ("加我weixin: abc123", "wechat me"), not as part of a
    host name: WeChat's own article links (``mp.weixin.qq.com/s/...``) are how its posts are
    shared, platform markup rather than a contact. The word comes first and its left edge is
    checked behind it, so the engine searches for the word as a literal; an id may follow
    (wechat888)."""
    return _alts(word + r"(?<![a-z0-9./\-]" + word + r")(?![a-z.\-])")


def _markup() -> Cover:
    """A platform's HTML tags (Weibo's ``<a href=...>``, its emoticons' ``<img src=...>``) are
    markup, not what the author wrote: a link, number or address inside a tag is hidden. A
    posted link still counts once, by the text Weibo shows for it (``网页链接``)."""
    return Cover(
        _alts(r"</?(?:a|img|span|i|br|div|p|em|b|strong|font|u)(?=[\s>/])[^<>]*>"),
        hides=(
            "soft_ad_link", "soft_ad_phone", "soft_ad_price", "soft_ad_discount_pattern", "soft_ad_email",
            "soft_ad_cta_pattern", "soft_ad_bank_account",
        ),
    )


PATTERNS: dict[str, Callable[[], Patterns | Router | Cover]] = {
    "soft_ad_markup": _markup,
    "soft_ad_numbers": _numbers,
    "soft_ad_cta_pattern": _cta,
    "soft_ad_price": _price,
    "soft_ad_discount_pattern": _discount,
    "soft_ad_link": _link,
    "soft_ad_phone": _phone,
    "soft_ad_bank_account": _bank_account,
    "soft_ad_email": _email,
    "soft_ad_urgency_pattern": _urgency,
    "soft_ad_evasion_pattern": lambda: _app_name("weixin"),
    "soft_ad_contact_pattern": lambda: _app_name("wechat"),
}

# feature -> the lists and patterns it counts
SOURCES: dict[str, tuple[str, ...]] = {
    "SOFT_AD_PRICE": ("soft_ad_price",),
    "SOFT_AD_DISCOUNT": ("soft_ad_discount", "soft_ad_discount_pattern"),
    "SOFT_AD_LINK": ("soft_ad_link",),
    "SOFT_AD_CONTACT": (
        "soft_ad_contact", "soft_ad_contact_pattern", "soft_ad_evasion", "soft_ad_evasion_pattern", "soft_ad_phone", "soft_ad_email",
    ),
    "SOFT_AD_PAY_ACCOUNT": ("soft_ad_bank_account",),
    "SOFT_AD_EVASION": ("soft_ad_evasion", "soft_ad_evasion_pattern"),
    "SOFT_AD_CTA": ("soft_ad_cta", "soft_ad_cta_pattern"),
    "SOFT_AD_CUSTOMER": ("soft_ad_customer",),
    "SOFT_AD_SELLER": ("soft_ad_seller",),
    "SOFT_AD_URGENCY": ("soft_ad_urgency", "soft_ad_urgency_pattern"),
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
    "SOFT_AD_PAY_ACCOUNT",
)
PROMOTION_KINDS = (
    "SOFT_AD_PRICE",
    "SOFT_AD_DISCOUNT",
    "SOFT_AD_LINK",
    "SOFT_AD_CONTACT",
    "SOFT_AD_CTA",
    "SOFT_AD_CUSTOMER",
    "SOFT_AD_SELLER",
    "SOFT_AD_PAY_ACCOUNT",
)

_WHAT = {
    "soft_ad_price": "price",
    "soft_ad_discount": "discount",
    "soft_ad_discount_pattern": "discount",
    "soft_ad_link": "link",
    "soft_ad_contact": "contact handle",
    "soft_ad_evasion": "disguised handle",
    "soft_ad_evasion_pattern": "disguised handle",
    "soft_ad_contact_pattern": "contact handle",
    "soft_ad_phone": "phone/QQ number",
    "soft_ad_email": "e-mail address",
    "soft_ad_bank_account": "bank account",
    "soft_ad_cta": "call to action",
    "soft_ad_cta_pattern": "call to action",
    "soft_ad_customer": "customer address",
    "soft_ad_seller": "seller's voice",
    "soft_ad_urgency": "urgency",
    "soft_ad_urgency_pattern": "urgency",
    "soft_ad_superlative": "superlative",
    "soft_ad_testimonial": "testimonial",
}


_KINDS = tuple(SOURCES)
_FLAT = tuple(src for srcs in SOURCES.values() for src in srcs)
_STARTS = np.cumsum([0] + [len(srcs) for srcs in SOURCES.values()][:-1])
_SIGNAL_ROWS = np.array([_KINDS.index(k) for k in SIGNAL_KINDS])
_OTHER_PROMOTION_ROWS = np.array([_KINDS.index(k) for k in PROMOTION_KINDS if k != "SOFT_AD_PRICE"])


def _count_rows(ctx: Context) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per kind (:data:`SOURCES`, in its order) the matches of its lists and patterns: a
    ``(kinds, n)`` matrix summed in a few whole-batch operations (a stream pays them per post),
    and its rows by name."""
    found = ctx.cache.get("soft_ad")
    if found is None:
        scan = ctx.scan
        # summed in int32, not float64: these sums stay cached while later families run
        flat = np.stack([scan.lists[s] if s in scan.lists else scan.patterns[s] for s in _FLAT], dtype=np.int32)
        matrix = np.add.reduceat(flat, _STARTS, axis=0)
        found = ctx.cache["soft_ad"] = (matrix, dict(zip(_KINDS, matrix)))
    return found


def _counts(ctx: Context) -> dict[str, np.ndarray]:
    return _count_rows(ctx)[1]


def _signals(ctx: Context) -> np.ndarray:
    """Per post, the kinds of selling signal it shows (:data:`SIGNAL_KINDS` with a match)."""
    found = ctx.cache.get("soft_ad_signals")
    if found is None:
        found = ctx.cache["soft_ad_signals"] = np.count_nonzero(_count_rows(ctx)[0][_SIGNAL_ROWS], axis=0)
    return found


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every soft_ad feature for the batch."""
    matrix, out = _count_rows(ctx)
    out = dict(out)
    out["SOFT_AD_SIGNALS"] = _signals(ctx).astype(np.float64)
    out["SOFT_AD_PHRASES"] = matrix[_SIGNAL_ROWS].sum(axis=0, dtype=np.float64)
    return out


def promotion(ctx: Context, rows: np.ndarray | None = None) -> np.ndarray:
    """True where a post sells: a discount, link, contact, call to action, customer address or
    the seller's own voice; or a price together with any other selling signal (a price alone
    is also what a buyer says: "got 3 shirts for $20").

    ``rows``: only these posts, in that order. A family that needs it for a few posts of a
    whole feed (festival or inspirational posts) then sums their counts alone, not every kind
    over every post."""
    found = ctx.cache.get("soft_ad_promotion")
    if found is None and (rows is None or "soft_ad" in ctx.cache):
        matrix, counts = _count_rows(ctx)
        others = (matrix[_OTHER_PROMOTION_ROWS] > 0).any(axis=0)
        found = others | ((counts["SOFT_AD_PRICE"] > 0) & (_signals(ctx) >= 2))
        ctx.cache["soft_ad_promotion"] = found
    if found is not None:
        return found if rows is None else found[rows]
    assert rows is not None  # the whole batch was summed above
    if not rows.size:
        return np.zeros(0, dtype=bool)
    scan = ctx.scan
    flat = np.stack([(scan.lists[s] if s in scan.lists else scan.patterns[s])[rows] for s in _FLAT], dtype=np.int32)
    matrix = np.add.reduceat(flat, _STARTS, axis=0)
    price = matrix[_KINDS.index("SOFT_AD_PRICE")] > 0
    signals = np.count_nonzero(matrix[_SIGNAL_ROWS], axis=0)
    return (matrix[_OTHER_PROMOTION_ROWS] > 0).any(axis=0) | (price & (signals >= 2))


def _outermost(matches: Iterable[Match]) -> list[Match]:
    """Drop a match that lies inside another one (``t.cn`` inside the link ``t.cn/a6xyz``)."""
    found = list(matches)
    if len(found) < 2:
        return found
    spans = [(o.start, o.end) for o in found]
    out = []
    for m in found:
        start, end = m.start, m.end
        length = end - start
        for o_start, o_end in spans:  # a plain loop: these lists are short, any() costs more
            if o_start <= start and o_end >= end and o_end - o_start > length:
                break
        else:
            out.append(m)
    return out


def quote(ctx: Context, i: int, matches: Iterable[Match], limit: int = 3) -> str:
    """``"a", "b"``: the first distinct matches of post ``i``, quoted as the post writes them
    (:meth:`Context.quote`); a match inside another is left out."""
    text = ctx.text(i)
    return _quoted(ctx, i, _outermost(_widen(text, m) for m in matches), limit)


def _quoted(ctx: Context, i: int, matches: list[Match], limit: int = 3) -> str:
    """:func:`quote` of matches already widened, none inside another."""
    seen: list[str] = []
    quotes: list[str] = []
    for m in matches:
        if m.text not in seen:
            seen.append(m.text)
            quotes.append(ctx.quote(i, m))
        if len(seen) == limit:
            break
    return ", ".join(f'"{q}"' for q in quotes)


def promotion_matches(matches: list[Match]) -> list[Match]:
    wanted = {s for k in PROMOTION_KINDS for s in SOURCES[k]}
    return [m for m in matches if m.source in wanted]


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


_WIDEN = {
    "soft_ad_link": _NAME_CHARS,
    "soft_ad_email": _NAME_CHARS,
    "soft_ad_price": frozenset("一二两三四五六七八九十百千万"),
    "soft_ad_phone": frozenset("x"),
}


def _widen(text: str, m: Match) -> Match:
    """Patterns found at an anchor (a domain at its '.', 三百元 at 元, xxxx-xxxxxxx at '-')
    start there; show what comes before the anchor too."""
    chars = _WIDEN.get(m.source)
    if chars is None or m.text[:1] not in (".", "@", "元", "-"):
        return m
    start = m.start
    while start > 0 and text[start - 1] in chars:
        start -= 1
    return Match(m.source, text[start : m.end], m.tag, start, m.end)


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the soft_ad features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    text = ctx.text(i)
    out: dict[str, str] = {}
    for name in features:
        srcs = SOURCES.get(name)
        if not srcs:
            continue
        found = [_widen(text, m) for m in matches if m.source in srcs]
        if name == "SOFT_AD_CONTACT" and "SOFT_AD_EVASION" in features:
            found = [m for m in found if m.source not in SOURCES["SOFT_AD_EVASION"]]
        if not found:
            continue
        found = _outermost(found)
        what = _WHAT[found[0].source]
        out[name] = f"{what} {_quoted(ctx, i, found)}"  # found: widened, none inside another
    return out
