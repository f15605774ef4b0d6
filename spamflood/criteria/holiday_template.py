"""holiday_template: festival copy hung on every date, whether the brand fits or not.

The article lists the festivals (Spring Festival, Lantern, Valentine's, May Day, Dragon Boat,
Mid-Autumn, Mother's Day, Children's Day, "and other large and small festivals at home and
abroad") as marketing nodes on which every brand sweeps the screen. Three things measure it:

* a festival named together with promotion in the same post (``HOLIDAY_TEMPLATE_PROMO``);
  a personal greeting ("祝爸妈中秋快乐") names the festival but sells nothing;
* how many days the post comes before (or after) that festival's real date, from the
  ``holidays`` package (``HOLIDAY_TEMPLATE_DAYS_TO``);
* a template skeleton: the text with brand-like tokens (bracketed names, Latin words, shop and
  company names, the sender's own display name), numbers, links, mentions and symbols masked; when several distinct accounts
  in the batch post one skeleton, the copy is a shared template (``HOLIDAY_TEMPLATE_SKELETON_SHARED``).
  A caller that counts the sharing itself gives the counts
  (:attr:`~spamflood.criteria.context.Columns.template_shares`): the stream engine, which
  keeps no batch, counts a festival post's near-duplicate cluster inside the window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import lru_cache

import numpy as np

from spamflood.criteria import soft_ad
from spamflood.criteria.context import Context, lexicon
from spamflood.criteria.festivals import FESTIVALS, days_to
from spamflood.criteria.sender import sender_masked

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "shared_snippet", "skeleton", "snippets", "template_key"]

FAMILY = "holiday_template"

LISTS: dict[str, Callable[[], Iterable[str]] | None] = {
    "holiday_names": FESTIVALS.keys,
    "holiday_greetings": None,
    **soft_ad.LISTS,
}
PATTERNS = dict(soft_ad.PATTERNS)

MIN_SKELETON_CHARS = 8
_EPOCH = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1)
def _mask_rx() -> re.Pattern[str]:
    suffixes = "|".join(sorted(lexicon("holiday_org_suffixes").terms, key=len, reverse=True))
    return re.compile(
        r"https?://\S+|www\.\S+"
        r"|@[^\s@:,]+"
        r"|\[[^\]\x00]{1,20}\]|<[^>\x00]{1,20}>|#[^#\x00]{1,20}#"
        r"|[\u4e00-\u9fffa-z0-9]{1,8}?(?:" + suffixes + r")(?=祝|恭祝|敬祝|携|提醒|送|给|:|,|!|$)"
        r"|[0-9x]+(?:[.,:/\-][0-9x]+)*(?![a-z])"
    )


_LATIN_WORD = re.compile(r"[a-z][a-z0-9'&.\-]*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CAPITALIZED = re.compile(r"[A-Z][A-Za-z0-9&'\-]+")
_DROP = re.compile(r"[^\w\u0001]|_", re.UNICODE)


def _brand_words(original: str) -> set[str]:
    """Capitalized words that do not start a sentence: names of brands, shops, people."""
    out: set[str] = set()
    for m in _CAPITALIZED.finditer(original):
        before = original[: m.start()].rstrip()
        if before and before[-1] not in ".!?:\"'(":
            out.add(m.group().casefold())
    return out


def skeleton(text: str, original: str | None = None) -> tuple[str, int]:
    """The template skeleton of a normalized text, and how many slots were masked.

    In mostly-Chinese text every Latin word is brand-like and masked; in Latin text only the
    words capitalized mid-sentence in ``original`` are.

    >>> skeleton("[小米]祝您中秋快乐,全场8折") == skeleton("[华为]祝您中秋快乐,全场7折")
    True
    """
    slots = 0

    def mask(_m: re.Match[str]) -> str:
        nonlocal slots
        slots += 1
        return "\u0001"

    masked = _mask_rx().sub(mask, text)
    latin = len(_LATIN_WORD.findall(masked))
    if len(_CJK.findall(masked)) >= latin:
        masked = _LATIN_WORD.sub(mask, masked)
    elif original:
        brands = _brand_words(original)
        if brands:
            masked = _LATIN_WORD.sub(lambda m: mask(m) if m.group() in brands else m.group(), masked)
    return _DROP.sub("", masked), slots


def template_key(text: str, original: str, sender: str | None) -> str | None:
    """The skeleton a festival post shares with other accounts' copies, or ``None`` when it
    has no masked slot or is too short to be a template (the post then counts on its own).

    ``text`` is the normalized text, ``original`` the text as written, ``sender`` the display
    name of its account (masked where the post names it). Every engine keys templates with it.

    >>> template_key("新春快乐|暖绒坊祝您新年大吉", "", "暖绒坊") == template_key("新春快乐|学霸通祝您新年大吉", "", "学霸通")
    True
    """
    named = 0
    if sender:
        text, named = sender_masked(text, sender)
    skel, slots = skeleton(text, original)
    if slots + named == 0 or len(skel) < MIN_SKELETON_CHARS:
        return None
    return skel


def _festival_matrix(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(post, festival index) pairs of festival mentions, and the festival counts per post."""
    scan = ctx.scan
    return scan.tagged["holiday_names"], ctx.count("holiday_names")


def _days(ctx: Context) -> tuple[np.ndarray, dict[int, tuple[str, int, date]]]:
    """Signed days to the nearest mentioned festival per post (NaN without time or festival)."""
    found = ctx.cache.get("holiday_days")
    if found is not None:
        return found
    out = np.full(ctx.n, np.nan)
    detail: dict[int, tuple[str, int, date]] = {}
    pairs, _ = _festival_matrix(ctx)
    if ctx.has_times and len(pairs):
        day = ctx.local_day()
        names = ctx.scan.tag_names["holiday_names"]
        memo: dict[tuple[int, int], tuple[int, date] | None] = {}
        for post, tag in pairs.tolist():
            d = int(day[post])
            if d < 0:
                continue
            key = (d, tag)
            if key not in memo:
                memo[key] = days_to(names[tag], date.fromordinal(_EPOCH + d))
            hit = memo[key]
            if hit is None:
                continue
            if np.isnan(out[post]) or abs(hit[0]) < abs(out[post]):
                out[post] = hit[0]
                detail[post] = (names[tag], hit[0], hit[1])
    ctx.cache["holiday_days"] = (out, detail)
    return out, detail


def _shared(ctx: Context, mentions: np.ndarray) -> np.ndarray:
    """Distinct accounts in the batch sharing each festival post's skeleton: a post without an
    author is no account (NaN without authors, or where no post of the skeleton has one).
    Counts the caller gives (:attr:`Columns.template_shares`) stand for the batch's."""
    if ctx.cols.authors is None:
        return np.full(ctx.n, np.nan)
    if not mentions.any():  # no festival post: nothing shares a template (and no author codes needed)
        return np.zeros(ctx.n)
    codes = ctx.author_codes()
    assert codes is not None
    given = ctx.cols.template_shares
    out = np.zeros(ctx.n)
    index = np.flatnonzero(mentions).tolist()
    groups: dict[str, set[int]] = {}
    keys: dict[int, str] = {}
    names = ctx.cols.author_name
    for i, text in zip(index, ctx.texts_at(index)):
        skel = template_key(text, ctx.cols.texts[i], names[i] if names is not None else None)
        if skel is None:
            out[i] = 1.0 if codes[i] >= 0 else np.nan
            continue
        accounts = groups.setdefault(skel, set())
        if codes[i] >= 0:
            accounts.add(int(codes[i]))
        keys[i] = skel
    for i, skel in keys.items():
        shared = given[0][i] if given is not None else len(groups[skel])
        out[i] = float(shared) or np.nan
    ctx.cache["holiday_skeletons"] = keys
    return out


def shared_snippet(accounts: int, posts: int) -> str:
    """The evidence of a shared festival template."""
    return f"the same festival template from {accounts} accounts ({posts} posts)"


def _skeleton_counts(ctx: Context, codes: np.ndarray) -> dict[str, tuple[int, int]]:
    """Per shared skeleton: its accounts and posts (built once: evidence asks post by post)."""
    found = ctx.cache.get("holiday_skeleton_counts")
    if found is None:
        posts: dict[str, int] = {}
        accounts: dict[str, set[int]] = {}
        for j, k in ctx.cache.get("holiday_skeletons", {}).items():
            posts[k] = posts.get(k, 0) + 1
            known = accounts.setdefault(k, set())
            if codes[j] >= 0:
                known.add(int(codes[j]))
        found = {k: (len(accounts[k]), posts[k]) for k in posts}
        ctx.cache["holiday_skeleton_counts"] = found
    return found


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every holiday_template feature for the batch."""
    _, festivals = _festival_matrix(ctx)
    mentions = festivals > 0
    greetings = np.where(mentions, ctx.count("holiday_greetings"), 0.0)
    promo = np.zeros(ctx.n, dtype=bool)
    at = np.flatnonzero(mentions)
    promo[at] = soft_ad.promotion(ctx, at)  # summed for the festival posts alone
    days, _ = _days(ctx) if ctx.has_times else (np.full(ctx.n, np.nan), {})
    return {
        "HOLIDAY_TEMPLATE_FESTIVAL": festivals,
        "HOLIDAY_TEMPLATE_GREETING": greetings,
        "HOLIDAY_TEMPLATE_PROMO": promo.astype(np.float64),
        "HOLIDAY_TEMPLATE_DAYS_TO": days,
        "HOLIDAY_TEMPLATE_SKELETON_SHARED": _shared(ctx, mentions),
    }


def _describe_days(word: str, key: str, days: int, when: date) -> str:
    name = FESTIVALS[key].name
    if days == 0:
        rel = "on"
    elif days > 0:
        rel = f"{days} day{'s' if days != 1 else ''} before"
    else:
        rel = f"{-days} day{'s' if days != -1 else ''} after"
    return f'"{word}" {rel} {name} ({when.isoformat()})'


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the holiday_template features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    matches = ctx.matches(i)
    names = [m for m in matches if m.source == "holiday_names"]
    out: dict[str, str] = {}
    for name in features:
        if name == "HOLIDAY_TEMPLATE_PROMO" and names:
            promo = soft_ad.promotion_matches(matches)
            out[name] = f"festival {soft_ad.quote(ctx, i, names)} with promotion {soft_ad.quote(ctx, i, promo, 2)}"
        elif name == "HOLIDAY_TEMPLATE_DAYS_TO":
            _, detail = _days(ctx)
            if i in detail:
                key, days, when = detail[i]
                word = next((ctx.quote(i, m) for m in names if m.tag == key), FESTIVALS[key].name_zh)
                out[name] = _describe_days(word, key, days, when)
        elif name == "HOLIDAY_TEMPLATE_SKELETON_SHARED":
            codes = ctx.author_codes()
            keys = ctx.cache.get("holiday_skeletons", {})
            given = ctx.cols.template_shares
            if given is not None and i in keys:
                out[name] = shared_snippet(int(given[0][i]), int(given[1][i]))
            elif codes is not None and i in keys:
                out[name] = shared_snippet(*_skeleton_counts(ctx, codes)[keys[i]])
        elif name == "HOLIDAY_TEMPLATE_FESTIVAL" and names:
            out[name] = f"festival {soft_ad.quote(ctx, i, names)}"
    return out
