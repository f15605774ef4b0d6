"""The text material of the synthetic feed, loaded from ``spamflood/data/synth`` and checked.

Every word a synthetic post holds comes from those JSON files (Chinese and English): phrase
banks by topic, vocabularies, brands, name patterns, festival and disaster copy, headlines,
evasion material. Code only decides which piece goes where.

Templates are ``str.format`` strings with named slots (``{dish}``, ``{brand}``). A slot is
filled from, in order: the context the caller sets (the campaign's brand, the festival's
name), the language's vocabulary (a random entry), or a number drawn by :data:`NUMBERS`.
The loader checks that every slot of every template can be filled where the template is
used, and that a campaign template's labels match its words: one tagged ``soft_ad`` must hold
a promotional slot (price, discount, link, contact, call to action, code, urgency), one
without the tag must hold none. So the truth file says exactly what each post carries.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from spamflood.errors import ConfigError

__all__ = [
    "LABELS",
    "NUMBERS",
    "PROMO_SLOTS",
    "Bank",
    "Brand",
    "Disaster",
    "FestivalSpec",
    "LangText",
    "Slots",
    "Template",
    "load_bank",
]

LABELS: tuple[str, ...] = (
    "auto_posting",
    "batch_accounts",
    "chicken_soup",
    "coordinated",
    "holiday_template",
    "hotspot_hijack",
    "mass_share",
    "microbusiness",
    "repetition",
    "soft_ad",
)
"""The label names of DESIGN.md, sorted."""

PROMO_SLOTS = frozenset({"price", "discount", "urgency", "cta", "contact", "url", "code", "handle", "phone"})
"""Slots whose presence makes copy a soft ad (a call to action, price, discount, link, contact)."""

_LANGS = ("zh", "en")
_LETTERS = string.ascii_lowercase
_ALNUM = string.ascii_letters + string.digits
_PRICES = (9.9, 19, 29, 35, 39, 49, 59, 69, 88, 99, 129, 159, 199, 249, 299, 399, 599, 899, 1299, 1999, 2999)


def _digits(k: int) -> Callable[[random.Random, Slots], str]:
    scale = 10**k
    return lambda r, s: f"{int(r.random() * scale):0{k}d}"


def _letters(k: int) -> Callable[[random.Random, Slots], str]:
    return lambda r, s: "".join(_LETTERS[int(r.random() * 26)] for _ in range(k))


def _link(site_slot: str) -> Callable[[random.Random, Slots], str]:
    def make(r: random.Random, s: Slots) -> str:
        sites = s.vocab[site_slot]
        path = "".join(_ALNUM[int(r.random() * 62)] for _ in range(7 + int(r.random() * 5)))
        return f"{sites[int(r.random() * len(sites))]}/{path}"

    return make


def _price(r: random.Random, s: Slots) -> str:
    p = _PRICES[int(r.random() * len(_PRICES))]
    return f"{p:g}"


NUMBERS: dict[str, Callable[[random.Random, Slots], str]] = {
    "n": lambda r, s: str(2 + int(r.random() * 58)),
    "n2": lambda r, s: str(1 + int(r.random() * 9)),
    "n3": lambda r, s: str(10 + int(r.random() * 990)),
    "price": _price,
    "pct": lambda r, s: str(5 * (1 + int(r.random() * 19))),
    "year": lambda r, s: str(2008 + int(r.random() * 18)),
    "year2": lambda r, s: f"{(80 + int(r.random() * 28)) % 100:02d}",
    "hour": lambda r, s: str(5 + int(r.random() * 4)),
    "km": lambda r, s: f"{1 + r.random() * 20:.1f}",
    "day_n": lambda r, s: str(1 + int(r.random() * 365)),
    "d2": _digits(2),
    "d3": _digits(3),
    "d4": _digits(4),
    "d8": _digits(8),
    "l2": _letters(2),
    "l3": _letters(3),
    "vlink": _link("video_site"),
    "blink": _link("blog_site"),
}
"""Slots filled with a fresh number, digit string or link each time they appear."""


class Slots(dict[str, Any]):
    """The values of one template fill: keys set by the caller, the rest drawn on demand.

    A missing key is drawn from ``vocab`` (a random entry, itself filled if it holds slots)
    or from :data:`NUMBERS`. Drawn values are not kept, so ``{dish}`` twice gives two dishes.
    """

    __slots__ = ("rng", "vocab")

    def __init__(self, vocab: Mapping[str, Sequence[str]], rng: random.Random) -> None:
        super().__init__()
        self.vocab = vocab
        self.rng = rng

    def __missing__(self, key: str) -> str:
        words = self.vocab.get(key)
        if words is not None:
            word = words[int(self.rng.random() * len(words))]
            return word.format_map(self) if "{" in word else word
        return NUMBERS[key](self.rng, self)


@dataclass(frozen=True, slots=True)
class Template:
    """One piece of copy: a format string, the content labels it carries, its slot names."""

    text: str
    tags: tuple[str, ...]
    fields: frozenset[str]

    def fill(self, slots: Slots) -> str:
        return self.text.format_map(slots)


@dataclass(frozen=True, slots=True)
class Brand:
    index: int
    zh: str
    en: str
    slug: str
    category: str


@dataclass(frozen=True, slots=True)
class FestivalSpec:
    """A festival as the data file describes it (its date is found by :mod:`.calendar`)."""

    key: str
    zh: str
    en: str
    date: Mapping[str, Any]
    offset: int
    lead: int
    before: int
    after: int
    rate: float
    midnight: bool
    greet: Mapping[str, tuple[Template, ...]]
    brand: Mapping[str, tuple[Template, ...]]


@dataclass(frozen=True, slots=True)
class Disaster:
    key: str
    zh: str
    en: str
    categories: tuple[str, ...]
    headline: Mapping[str, tuple[Template, ...]]
    local: Mapping[str, tuple[Template, ...]]
    hijack: Mapping[str, tuple[Template, ...]]


@dataclass(frozen=True)
class LangText:
    """Everything written in one language."""

    vocab: dict[str, tuple[str, ...]]
    campaign_vocab: dict[str, tuple[str, ...]]
    topics: tuple[tuple[str, tuple[Template, ...]], ...]
    topic_weights: tuple[float, ...]
    kinds: dict[str, tuple[Template, ...]]
    families: dict[str, tuple[Template, ...]]
    swaps: tuple[tuple[str, ...], ...]
    sympathy: tuple[Template, ...]
    headlines: tuple[Template, ...]
    names: dict[str, tuple[Template, ...]]
    media: tuple[Template, ...]
    media_bio: tuple[str, ...]
    news_domains: tuple[str, ...]
    shorteners: tuple[str, ...]
    landing: tuple[Template, ...]
    handle: tuple[Template, ...]
    phone: tuple[Template, ...]
    key_terms: tuple[str, ...]
    variants: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Bank:
    """All synthetic-feed material, by language where it is written in one."""

    text: dict[str, LangText]
    brands: tuple[Brand, ...]
    everyday: tuple[Brand, ...]
    categories: dict[str, dict[str, Any]]
    festivals: tuple[FestivalSpec, ...]
    disasters: tuple[Disaster, ...]
    batch_default_share: float
    bio_empty_share: float
    emoji: tuple[str, ...]
    noise: tuple[str, ...]
    zero_width: tuple[str, ...]
    separators: tuple[str, ...]
    homoglyphs: dict[str, str]
    tracking_keys: tuple[str, ...]
    tracking_values: dict[str, tuple[str, ...]]
    coupon_words: tuple[str, ...]

    def brands_in(self, categories: Sequence[str]) -> tuple[Brand, ...]:
        return tuple(b for b in self.brands if b.category in categories)


# ---------------------------------------------------------------------------------- loading

_CAMPAIGN_CONTEXT = frozenset(PROMO_SLOTS | {"brand", "product", "emoji", "quote", "city", "slug"})
_FAMILY_CONTEXT = {
    "holiday": {"festival"},
    "hijack_disaster": {"event"},
    "hijack_news": {"headline"},
}
_KIND_CONTEXT = {
    "product_praise": {"brand", "product"},
    "product_complaint": {"brand", "product"},
    "news_share": {"headline", "link"},
    "news_origin": {"headline", "link"},
}
_NAME_CONTEXT = frozenset({"stem", "brand", "product", "slug", "handle", "phone"})
_REQUIRED_FAMILIES = (
    "promo", "brand_news", "testimonial", "slogan", "hourly", "holiday", "hijack_disaster", "hijack_news",
    "micro_boast", "micro_screenshot", "micro_soldout", "micro_recruit", "soup_morning", "soup_night", "camouflage",
)
_REQUIRED_KINDS = (
    "short", "product_praise", "product_complaint", "quote", "morning_greeting", "night_greeting", "checkin",
    "question", "secondhand_sale", "link_share", "news_comment", "repost_comment", "news_share", "news_origin",
    "news_reaction",
)
_FORMATTER = string.Formatter()


def _read(name: str) -> dict[str, Any]:
    try:
        text = (resources.files("spamflood") / "data" / "synth" / name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Synthetic data file {name} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"Synthetic data file {name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Synthetic data file {name} must hold a JSON object at the top")
    return data


class _Checker:
    """Compiles templates, naming the file and place of anything wrong."""

    def __init__(self, vocab: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        self.vocab = vocab

    def template(
        self, where: str, lang: str, raw: Any, context: frozenset[str] | set[str], tags: Sequence[str] = ()
    ) -> Template:
        if isinstance(raw, dict):
            text, tags = raw.get("t"), raw.get("tags", tags)
        else:
            text = raw
        if not isinstance(text, str):
            raise ConfigError(f"{where}: a template must be a string or {{\"t\": ..., \"tags\": [...]}}; got {raw!r}")
        if not isinstance(tags, (list, tuple)) or any(t not in LABELS for t in tags):
            raise ConfigError(f"{where}: tags {tags!r} must be label names from {list(LABELS)}")
        fields: set[str] = set()
        try:
            for _literal, name, spec, conv in _FORMATTER.parse(text):
                if name is None:
                    continue
                if not name or spec or conv:
                    raise ValueError(f"slot '{{{name}}}' must be a plain name like {{dish}}")
                fields.add(name)
        except ValueError as exc:
            raise ConfigError(f"{where}: template {text!r} is malformed ({exc})") from None
        known = set(self.vocab[lang]) | set(NUMBERS) | set(context)
        unknown = sorted(fields - known)
        if unknown:
            raise ConfigError(
                f"{where}: template {text!r} uses unknown slot(s) {unknown}; slots here are vocabulary "
                f"words of vocab_{lang}.json, numbers {sorted(NUMBERS)} or context {sorted(context)}"
            )
        return Template(text, tuple(sorted(set(tags))), frozenset(fields))

    def many(
        self, where: str, lang: str, raw: Any, context: frozenset[str] | set[str], tags: Sequence[str] = ()
    ) -> tuple[Template, ...]:
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"{where}: expected a non-empty list of templates")
        return tuple(self.template(f"{where}[{i}]", lang, item, context, tags) for i, item in enumerate(raw))


def _words(where: str, raw: Any, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(raw, list) or (not raw and not allow_empty) or not all(isinstance(w, str) for w in raw):
        raise ConfigError(f"{where}: expected a non-empty list of strings")
    return tuple(raw)


def _check_promo(where: str, t: Template) -> None:
    promo = bool(t.fields & PROMO_SLOTS)
    if promo != ("soft_ad" in t.tags):
        say = "has no promotional slot but is tagged soft_ad" if not promo else "has a promotional slot but no soft_ad tag"
        raise ConfigError(f"{where}: template {t.text!r} {say} (promotional slots: {sorted(PROMO_SLOTS)})")


def _per_lang(where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or any(lang not in raw for lang in _LANGS):
        raise ConfigError(f"{where}: expected an object with 'zh' and 'en'")
    return raw


@lru_cache(maxsize=1)
def load_bank() -> Bank:
    """Read and check every synthetic data file once per process."""
    vocab: dict[str, dict[str, tuple[str, ...]]] = {}
    for lang in _LANGS:
        name = f"vocab_{lang}.json"
        raw = _read(name)
        vocab[lang] = {k: _words(f"{name}: '{k}'", v) for k, v in raw.items() if not k.startswith("_")}
    promo = _read("promo.json")
    names = _read("names.json")
    brands_raw = _read("brands.json")
    evasion = _read("evasion.json")
    events = _read("events.json")
    festivals_raw = _read("festivals.json")
    campaign_raw = {lang: _read(f"campaign_{lang}.json") for lang in _LANGS}
    # Campaign slot lists (discount, contact, ...) join the vocabulary campaign copy draws from.
    campaign_vocab: dict[str, dict[str, tuple[str, ...]]] = {}
    for lang in _LANGS:
        slots = campaign_raw[lang].get("slots")
        if not isinstance(slots, dict):
            raise ConfigError(f"campaign_{lang}.json: needs a 'slots' object")
        campaign_vocab[lang] = {**vocab[lang], **{k: _words(f"campaign_{lang}.json: slots.{k}", v) for k, v in slots.items()}}
    check = _Checker(vocab)
    ccheck = _Checker(campaign_vocab)
    for lang in _LANGS:  # nested slot values of campaign slots
        for key, values in campaign_raw[lang]["slots"].items():
            ccheck.many(f"campaign_{lang}.json: slots.{key}", lang, values, {"handle", "phone"})

    text: dict[str, LangText] = {}
    for lang in _LANGS:
        org_name = f"organic_{lang}.json"
        org = _read(org_name)
        topics_raw = org.get("topics")
        if not isinstance(topics_raw, dict) or not topics_raw:
            raise ConfigError(f"{org_name}: needs a non-empty 'topics' object")
        topics, weights = [], []
        for topic, body in topics_raw.items():
            if not isinstance(body, dict) or not isinstance(body.get("weight"), (int, float)) or body["weight"] <= 0:
                raise ConfigError(f"{org_name}: topics.{topic} needs a positive 'weight' and 'templates'")
            topics.append((topic, check.many(f"{org_name}: topics.{topic}", lang, body.get("templates"), set())))
            weights.append(float(body["weight"]))
        kinds_raw = org.get("kinds", {})
        missing = [k for k in _REQUIRED_KINDS if k not in kinds_raw]
        if missing:
            raise ConfigError(f"{org_name}: 'kinds' lacks {missing}")
        kinds = {
            k: check.many(f"{org_name}: kinds.{k}", lang, v, _KIND_CONTEXT.get(k, set())) for k, v in kinds_raw.items()
        }
        cname = f"campaign_{lang}.json"
        fam_raw = campaign_raw[lang].get("families", {})
        missing = [f for f in _REQUIRED_FAMILIES if f not in fam_raw]
        if missing:
            raise ConfigError(f"{cname}: 'families' lacks {missing}")
        families: dict[str, tuple[Template, ...]] = {}
        for fam, body in fam_raw.items():
            where = f"{cname}: families.{fam}"
            if not isinstance(body, dict):
                raise ConfigError(f"{where}: expected {{\"tags\": [...], \"templates\": [...]}}")
            context = _CAMPAIGN_CONTEXT | _FAMILY_CONTEXT.get(fam, set())
            families[fam] = ccheck.many(where, lang, body.get("templates"), context, body.get("tags", []))
            for i, t in enumerate(families[fam]):
                _check_promo(f"{where}[{i}]", t)
        swaps = campaign_raw[lang].get("swaps", [])
        if not isinstance(swaps, list) or not all(isinstance(g, list) and len(g) >= 2 for g in swaps):
            raise ConfigError(f"{cname}: 'swaps' must be a list of word groups (two or more words each)")
        name_pats = {
            "organic": check.many(f"names.json: organic.{lang}", lang, _per_lang("names.json: organic", names.get("organic"))[lang], _NAME_CONTEXT),
            "default": check.many(f"names.json: default.{lang}", lang, _per_lang("names.json: default", names.get("default"))[lang], _NAME_CONTEXT),
            "stem": tuple(Template(s, (), frozenset()) for s in _words(f"names.json: batch.stems.{lang}", names["batch"]["stems"][lang])),
            "batch": check.many("names.json: batch.patterns", lang, names["batch"]["patterns"], _NAME_CONTEXT),
            "brand": check.many(f"names.json: brand.{lang}", lang, names["brand"][lang], _NAME_CONTEXT),
            "seller": check.many(f"names.json: seller.{lang}", lang, names["seller"][lang], _NAME_CONTEXT),
        }
        bio = names.get("bio", {})
        for group in ("organic", "batch", "brand", "seller"):
            name_pats[f"bio_{group}"] = check.many(
                f"names.json: bio.{group}.{lang}", lang, _per_lang(f"names.json: bio.{group}", bio.get(group))[lang], _NAME_CONTEXT
            )
        variants_raw = _per_lang("evasion.json: variants", evasion.get("variants"))[lang]
        text[lang] = LangText(
            vocab=vocab[lang],
            campaign_vocab=campaign_vocab[lang],
            topics=tuple(topics),
            topic_weights=tuple(weights),
            kinds=kinds,
            families=families,
            swaps=tuple(tuple(g) for g in swaps),
            sympathy=check.many(f"events.json: sympathy.{lang}", lang, _per_lang("events.json: sympathy", events.get("sympathy"))[lang], {"event", "city"}),
            headlines=check.many(f"events.json: headlines.{lang}", lang, _per_lang("events.json: headlines", events.get("headlines"))[lang], set()),
            names=name_pats,
            media=check.many(f"brands.json: media.{lang}", lang, brands_raw["media"][lang], set()),
            media_bio=_words(f"brands.json: media_bio.{lang}", brands_raw["media_bio"][lang]),
            news_domains=_words(f"brands.json: news_domains.{lang}", brands_raw["news_domains"][lang]),
            shorteners=_words(f"promo.json: shorteners.{lang}", promo["shorteners"][lang]),
            landing=check.many(f"promo.json: landing.{lang}", lang, promo["landing"][lang], {"slug"}),
            handle=check.many(f"promo.json: handle.{lang}", lang, promo["handle"][lang], set()),
            phone=check.many(f"promo.json: phone.{lang}", lang, promo["phone"][lang], set()),
            key_terms=_words(f"evasion.json: key_terms.{lang}", evasion["key_terms"][lang]),
            variants={k: _words(f"evasion.json: variants.{lang}.{k}", v) for k, v in variants_raw.items()},
        )

    brands = []
    categories = brands_raw.get("categories", {})
    for i, b in enumerate(brands_raw.get("brands", [])):
        if not isinstance(b, dict) or not all(isinstance(b.get(k), str) for k in ("zh", "en", "slug", "category")):
            raise ConfigError(f"brands.json: brands[{i}] needs 'zh', 'en', 'slug' and 'category' strings")
        if b["category"] not in categories:
            raise ConfigError(f"brands.json: brands[{i}] has category {b['category']!r}, not one of {sorted(categories)}")
        brands.append(Brand(i, b["zh"], b["en"], b["slug"], b["category"]))
    for cat, body in categories.items():
        lo_hi = body.get("price")
        if not (isinstance(lo_hi, list) and len(lo_hi) == 2 and 0 <= lo_hi[0] <= lo_hi[1]):
            raise ConfigError(f"brands.json: categories.{cat}.price must be [low, high]")
        for lang in _LANGS:
            _words(f"brands.json: categories.{cat}.{lang}", body.get(lang))

    festivals = []
    for i, f in enumerate(festivals_raw.get("festivals", [])):
        where = f"festivals.json: festivals[{i}]"
        try:
            key, date_rule = f["key"], f["date"]
            spec = FestivalSpec(
                key=key,
                zh=f["zh"],
                en=f["en"],
                date=date_rule,
                offset=int(f.get("offset", 0)),
                lead=int(f["lead"]),
                before=int(f["organic"][0]),
                after=int(f["organic"][1]),
                rate=float(f["rate"]),
                midnight=bool(f.get("midnight", False)),
                greet={lang: check.many(f"{where}.greet.{lang}", lang, f["greet"][lang], {"festival"}) for lang in _LANGS},
                brand={
                    lang: ccheck.many(f"{where}.brand.{lang}", lang, f["brand"][lang], _CAMPAIGN_CONTEXT | {"festival"})
                    for lang in _LANGS
                },
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigError(f"{where}: missing or invalid field ({exc!r})") from None
        if not isinstance(date_rule, dict) or not ({"holidays", "fixed", "weekday", "lunar"} & set(date_rule)):
            raise ConfigError(f"{where}: 'date' must hold one of holidays, fixed, weekday, lunar")
        if not 0 <= spec.rate <= 1 or not 0 <= spec.lead <= 30:
            raise ConfigError(f"{where}: 'rate' must be in [0, 1] and 'lead' in [0, 30] days")
        if not (0 <= spec.before <= 7 and 0 <= spec.after <= 7):
            raise ConfigError(f"{where}: 'organic' days before and after must each be in [0, 7]")
        for lang in _LANGS:
            for j, t in enumerate(spec.brand[lang]):
                _check_promo(f"{where}.brand.{lang}[{j}]", t)
                if "holiday_template" not in t.tags:
                    raise ConfigError(f"{where}.brand.{lang}[{j}]: festival brand copy must be tagged holiday_template")
        festivals.append(spec)

    disasters = []
    for i, d in enumerate(events.get("disasters", [])):
        where = f"events.json: disasters[{i}]"
        try:
            dis = Disaster(
                key=d["key"],
                zh=d["zh"],
                en=d["en"],
                categories=tuple(d["categories"]),
                headline={lang: check.many(f"{where}.headline.{lang}", lang, d["headline"][lang], set()) for lang in _LANGS},
                local={lang: check.many(f"{where}.local.{lang}", lang, d["local"][lang], set()) for lang in _LANGS},
                hijack={
                    lang: ccheck.many(f"{where}.hijack.{lang}", lang, d["hijack"][lang], _CAMPAIGN_CONTEXT | {"event"})
                    for lang in _LANGS
                },
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{where}: missing or invalid field ({exc!r})") from None
        if not set(dis.categories) <= set(categories):
            raise ConfigError(f"{where}: categories {list(dis.categories)} must be brand categories of brands.json")
        for lang in _LANGS:
            for j, t in enumerate(dis.hijack[lang]):
                _check_promo(f"{where}.hijack.{lang}[{j}]", t)
        disasters.append(dis)
    everyday = _words("brands.json: everyday", brands_raw.get("everyday"))
    if not set(everyday) <= set(categories):
        raise ConfigError(f"brands.json: 'everyday' {list(everyday)} must be categories of brands.json")
    if not brands or not festivals or not disasters:
        raise ConfigError("Synthetic data files need at least one brand, festival and disaster")

    homoglyphs = evasion.get("homoglyphs", {})
    if not isinstance(homoglyphs, dict) or not all(len(k) == 1 and len(v) == 1 for k, v in homoglyphs.items()):
        raise ConfigError("evasion.json: 'homoglyphs' maps one Latin letter to one look-alike character")
    return Bank(
        text=text,
        brands=tuple(brands),
        everyday=tuple(b for b in brands if b.category in everyday),
        categories=categories,
        festivals=tuple(festivals),
        disasters=tuple(disasters),
        batch_default_share=float(names["batch"].get("default_share", 0.0)),
        bio_empty_share=float(bio.get("organic_empty_share", 0.0)),
        emoji=_words("evasion.json: emoji", evasion.get("emoji")),
        noise=_words("evasion.json: noise", evasion.get("noise")),
        zero_width=_words("evasion.json: zero_width", evasion.get("zero_width")),
        separators=_words("evasion.json: separators", evasion.get("separators")),
        homoglyphs=dict(homoglyphs),
        tracking_keys=_words("promo.json: tracking_keys", promo.get("tracking_keys")),
        tracking_values={k: _words(f"promo.json: tracking_values.{k}", v) for k, v in promo.get("tracking_values", {}).items()},
        coupon_words=_words("promo.json: coupon_words", promo.get("coupon_words")),
    )
