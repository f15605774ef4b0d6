"""Behaviour of spamflood.normalize: the matching form, the shingling form, their tables."""

from __future__ import annotations

import csv
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spamflood import normalize as nz
from spamflood.errors import ConfigError
from spamflood.normalize import (
    MENTION_MARK,
    NUMBER_MARK,
    URL_MARK,
    normalize,
    normalize_many,
    shingle_many,
    shingle_text,
)

# ---------------------------------------------------------------- evasions undone


@pytest.mark.parametrize(
    ("evaded", "plain"),
    [
        pytest.param("加\u200b微\u200b信", "加微信", id="zero-width-space-inside-weixin"),
        pytest.param("加\u200d微\ufeff信\u2060", "加微信", id="zwj-bom-word-joiner"),
        pytest.param("微\u00ad信", "微信", id="soft-hyphen"),
        pytest.param("微\U000e0041信", "微信", id="tag-character"),
        pytest.param("微\u202e信\u202c", "微信", id="bidi-override"),
        pytest.param("微\ue310信", "微信", id="private-use-emoji"),
        pytest.param("加 微 信", "加微信", id="spaced-cjk"),
        pytest.param("加-微-信", "加微信", id="hyphenated-cjk"),
        pytest.param("加　微　信", "加微信", id="ideographic-spaces"),
        pytest.param("加 V 信", "加v信", id="spaced-mixed-script"),
        pytest.param("扫码加 V 信", "扫码加v信", id="spaced-after-a-cjk-word"),
        pytest.param("加V❤信", "加v信", id="emoji-between-characters"),
        pytest.param("加V❤️信", "加v信", id="emoji-with-variation-selector"),
        pytest.param("微💗💗信", "微信", id="emoji-run-between-characters"),
        pytest.param("加 V ❤ 信", "加v信", id="spaced-emoji-separator"),
        pytest.param("w.e.c.h.a.t", "wechat", id="dotted-latin"),
        pytest.param("w-e-c-h-a-t", "wechat", id="hyphenated-latin"),
        pytest.param("w_e_c_h_a_t", "wechat", id="underscored-latin"),
        pytest.param("w e c h a t", "wechat", id="spaced-latin"),
        pytest.param("W . E . C . H . A . T", "wechat", id="spaced-dots"),
        pytest.param("ＷＥＣＨＡＴ", "wechat", id="full-width-latin"),
        pytest.param("ｗｅｃｈａｔ：１２３", "wechat:123", id="full-width-digits-and-colon"),
        pytest.param("𝐰𝐞𝐜𝐡𝐚𝐭", "wechat", id="math-bold-letters"),
        pytest.param("ⓦⓔⓒⓗⓐⓣ", "wechat", id="circled-letters"),
        pytest.param("🅦🅔🅒🅗🅐🅣", "wechat", id="negative-circled-letters"),
        pytest.param("ᴡᴇᴄʜᴀᴛ", "wechat", id="small-capitals"),
        pytest.param("b\u043e\u043ek", "book", id="cyrillic-o-in-book"),
        pytest.param("\u0412\u041e\u041eK", "book", id="cyrillic-capitals-in-book"),
        pytest.param(
            "\u0455\u0435\u0445\u0443 girls", "sexy girls", id="all-cyrillic-word-in-latin-text"
        ),
        pytest.param("ΗΕLLO", "hello", id="greek-capitals"),
        pytest.param("wéchät", "wechat", id="accents"),
        pytest.param("we\u0336c\u0336hat", "wechat", id="strike-through-marks"),
        pytest.param("优惠", "优惠", id="simplified-unchanged"),
        pytest.param("優惠", "优惠", id="traditional-to-simplified"),
        pytest.param("限時特價，關注我們", "限时特价,关注我们", id="traditional-sentence"),
        pytest.param("❶❷❸", "123", id="dingbat-digits"),
        pytest.param("١٢٣", "123", id="arabic-indic-digits"),
        pytest.param("「加微信」【领取】", '"加微信"[领取]', id="cjk-brackets"),
        pytest.param("  a\t\n  b  ", "a b", id="whitespace-collapsed"),
    ],
)
def test_evasion_is_undone(evaded: str, plain: str) -> None:
    assert normalize(evaded) == plain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Straße", "strasse", id="sharp-s"),
        pytest.param("ﬁnance", "finance", id="fi-ligature"),
        pytest.param("ǰ", "j", id="j-with-caron"),
        pytest.param("İstanbul", "istanbul", id="turkish-dotted-capital-i"),
        pytest.param("ΣΟΦΊΑ σοφία", "σοφια σοφια", id="greek-prose-case-and-accents"),
        pytest.param("Ⅻ", "xii", id="roman-numeral"),
    ],
)
def test_case_and_compatibility_folding(text: str, expected: str) -> None:
    assert normalize(text) == expected


# ---------------------------------------------------------------- prose keeps its meaning


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "I think a book is a good gift, and I am sure.",
            "i think a book is a good gift, and i am sure.",
            id="english-single-letter-words",
        ),
        pytest.param("Plan a b, not c.", "plan a b, not c.", id="two-singles-not-joined"),
        pytest.param("Price: 19.9 USD", "price: 19.9 usd", id="decimal-kept"),
        pytest.param(
            "Привет, как дела? Это наш новый магазин.",
            "привет, как дела? это наш новый магазин.",
            id="russian-stays-cyrillic",
        ),
        pytest.param("Καλημέρα κόσμε", "καλημερα κοσμε", id="greek-stays-greek"),
        pytest.param("今天天气很好，我们去公园。", "今天天气很好,我们去公园.", id="chinese-sentence"),
        pytest.param(
            "Visit https://Example.com/A?b=1", "visit https://example.com/a?b=1", id="url-not-joined"
        ),
        pytest.param("किताब पढ़ो", "किताब पढ़ो", id="devanagari-marks-kept"),
    ],
)
def test_prose_keeps_its_meaning(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_russian_keeps_every_cyrillic_letter() -> None:
    out = normalize("Купите сейчас: скидка на все товары")
    assert all(not ("a" <= ch <= "z") for ch in out)


def test_mixed_word_is_folded_but_russian_word_beside_it_is_not() -> None:
    assert normalize("bооk магазин") == "book магазин"


# ---------------------------------------------------------------- the shingling form


def test_two_evaded_copies_of_one_ad_shingle_alike() -> None:
    a = "限时特价！￥99 加V: abc123 http://t.cn/xyz?utm=1 🔥🔥"
    b = "限時特價 ¥ 88 加V abc456 https://bit.ly/q"
    assert shingle_text(a) == shingle_text(b) == f"限时特价{NUMBER_MARK}加vabc{NUMBER_MARK}{URL_MARK}"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("加微信 wechat888", "加 微 信 ＷＥＣＨＡＴ ８８８", id="spacing-and-width"),
        pytest.param("加微信领取优惠", "加\u200b微\u200b信，领取優惠！！", id="invisible-punct-traditional"),
        pytest.param("Buy cheap pills now", "B.u.y сhеар p-i-l-l-s now!!!", id="latin-evasions"),
        pytest.param("关注@小美 了解", "关注 @大强 了解", id="mention-replaced"),
        pytest.param("官网 www.shop1.com 直达", "官网 t.cn/abc 直达", id="links-replaced"),
    ],
)
def test_shingle_equivalence(a: str, b: str) -> None:
    assert shingle_text(a) == shingle_text(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("see http://a.b/c?d=1 now", f"see{URL_MARK}now", id="http-link"),
        pytest.param("go www.example.org", f"go{URL_MARK}", id="www-link"),
        pytest.param("点 t.cn/A6x 抢", f"点{URL_MARK}抢", id="bare-short-link"),
        pytest.param("bit.ly/x", URL_MARK, id="bare-bitly"),
        pytest.param("wqkj777.top", URL_MARK, id="bare-domain-known-tld"),
        pytest.param("@alice hi @bob", f"{MENTION_MARK}hi{MENTION_MARK}", id="mentions"),
        pytest.param("只要19.9元", f"只要{NUMBER_MARK}元", id="decimal-price"),
        pytest.param("1,000 or 12:30", f"{NUMBER_MARK}or{NUMBER_MARK}", id="grouped-and-time"),
        pytest.param("abc123", f"abc{NUMBER_MARK}", id="digits-after-letters"),
    ],
)
def test_placeholders(text: str, expected: str) -> None:
    assert shingle_text(text) == expected


def test_placeholders_are_private_use_characters() -> None:
    for mark in (URL_MARK, MENTION_MARK, NUMBER_MARK):
        assert len(mark) == 1 and unicodedata.category(mark) == "Co"
    assert (URL_MARK, MENTION_MARK, NUMBER_MARK) == ("\ue001", "\ue002", "\ue003")


def test_shingle_drops_punctuation_symbols_and_emoji_keeps_letters_and_marks() -> None:
    assert shingle_text("Hello, world! 🔥 ★ ¥ — 好的。") == "helloworld好的"
    assert shingle_text("किताब, पढ़ो!") == "किताबपढ़ो"


def test_batch_versions_match_single_calls() -> None:
    texts = ["加 微 信", "HELLO", "", "限時特價 http://t.cn/x 99"]
    assert normalize_many(texts) == [normalize(t) for t in texts]
    assert shingle_many(iter(texts)) == [shingle_text(t) for t in texts]


def test_empty_and_blank_text() -> None:
    assert normalize("") == "" and shingle_text("") == ""
    assert normalize(" \u200b\u3000\t") == "" and shingle_text(" \u200b\u3000\t") == ""


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("func", [normalize, shingle_text])
def test_non_str_is_a_type_error(func) -> None:
    with pytest.raises(TypeError, match=r"takes a str; got bytes instead"):
        func(b"bytes")


@pytest.mark.parametrize("func", [normalize_many, shingle_many])
def test_non_str_in_a_batch_is_a_type_error(func) -> None:
    with pytest.raises(TypeError, match=r"takes a str; got NoneType instead"):
        func(["ok", None])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "U+0430\ta\n", r"homoglyphs.tsv line 1: expected 3 tab-separated fields", id="missing-field"
        ),
        pytest.param(
            "0430\ta\tmixed\n", r"line 1: the code point must look like U\+0430", id="bad-code-point"
        ),
        pytest.param(
            "U+0430\tä\tmixed\n",
            r"line 1: the replacement must be ASCII letters or digits",
            id="bad-target",
        ),
        pytest.param(
            "U+0430\ta\tsometimes\n", r"line 1: scope must be 'always' or 'mixed'", id="bad-scope"
        ),
        pytest.param(
            "# c\nU+0430\ta\tmixed\nU+0430\ta\tmixed\n",
            r"line 3: U\+0430 is listed twice",
            id="duplicate",
        ),
        pytest.param(
            "U+110000\ta\tmixed\n",
            r"line 1: the code point U\+110000 is beyond U\+10FFFF",
            id="beyond-unicode",
        ),
    ],
)
def test_malformed_homoglyph_table_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "homoglyphs.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        nz.load_homoglyphs(path)


def test_malformed_range_and_tld_tables_are_refused(tmp_path: Path) -> None:
    ranges = tmp_path / "invisible.tsv"
    ranges.write_text("U+0010\tU+0001\tbackwards\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invisible.tsv line 1: the range U\+0010..U\+0001 ends"):
        nz.load_ranges(ranges)
    tlds = tmp_path / "tlds.txt"
    tlds.write_text("com\nC0M\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tlds.txt line 2: a top-level domain is 2-24 lower"):
        nz.load_tlds(tlds)


def test_missing_or_undecodable_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read normalization table .*nope.tsv"):
        nz.load_char_map(tmp_path / "nope.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"U+3002\t\xff\n")
    with pytest.raises(ConfigError, match=r"bad.tsv is not valid UTF-8"):
        nz.load_char_map(bad)


def test_shipped_tables_load() -> None:
    always, mixed = nz.load_homoglyphs()
    assert always["ᴀ"] == "a" and mixed["о"] == "o" and mixed["Η"] == "H"
    assert nz.load_char_map(nz.DATA_DIR / "punctuation.tsv")["。"] == "."
    assert "cn" in nz.load_tlds()
    t2s = nz.traditional_to_simplified()
    assert t2s["優"] == "优" and t2s["門"] == "门"
    assert not set(t2s.values()) & set(t2s)  # chains resolved


def test_tables_build_once_under_concurrent_first_use(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from spamflood import _cache

    monkeypatch.setattr(_cache, "CACHE_DIR", tmp_path)  # nothing kept yet: a build
    monkeypatch.setattr(nz, "_TABLES", None)
    monkeypatch.setattr(nz, "_KERNEL_ARRAYS", None)
    monkeypatch.setattr(nz, "_ENGINE", None)
    builds = []
    real_build = nz._build

    def counting_build() -> nz._Tables:
        builds.append(1)
        return real_build()

    monkeypatch.setattr(nz, "_build", counting_build)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(shingle_text("加 微 信"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["加微信"] * 8
    assert len(builds) == 1


def _fresh_tables(monkeypatch: pytest.MonkeyPatch) -> tuple[nz._Tables, dict[str, np.ndarray]]:
    """The tables as a new process gets them (from the cache if one is kept)."""
    monkeypatch.setattr(nz, "_TABLES", None)
    monkeypatch.setattr(nz, "_KERNEL_ARRAYS", None)
    tables = nz._tables()
    assert nz._KERNEL_ARRAYS is not None
    return tables, nz._KERNEL_ARRAYS


def _same_tables(a: tuple[nz._Tables, dict[str, np.ndarray]], b: tuple[nz._Tables, dict[str, np.ndarray]]) -> bool:
    from dataclasses import fields

    for f in fields(nz._Tables):
        x, y = getattr(a[0], f.name), getattr(b[0], f.name)
        if isinstance(x, re.Pattern):
            x, y = (x.pattern, x.flags), (y.pattern, y.flags)
        if x != y:
            return False
    return a[1].keys() == b[1].keys() and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])


def test_tables_kept_by_one_run_are_read_by_the_next_as_they_were_built(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from spamflood import _cache

    monkeypatch.setattr(_cache, "CACHE_DIR", tmp_path)
    built = _fresh_tables(monkeypatch)
    kept = list(tmp_path.glob("normalize.*.tables"))
    assert len(kept) == 1
    monkeypatch.setattr(nz, "_build", lambda: pytest.fail("built again although kept"))
    read = _fresh_tables(monkeypatch)
    assert _same_tables(built, read)
    monkeypatch.setattr(nz, "_ENGINE", None)
    monkeypatch.setattr(nz, "_KERNEL", None)
    texts = ["加 微 信 ＶＸ：abc123", "Ｃｈｅｃｋ ｏｕｔ https://Bit.ly/AbC 限時特價 ¥99", "çafé  naïve"]
    assert normalize_many(texts) == [nz._normalize_reference(t) for t in texts]


def test_a_changed_source_or_a_damaged_file_is_built_again_and_an_unwritable_folder_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from spamflood import _cache

    folder = tmp_path / "cache"
    monkeypatch.setattr(_cache, "CACHE_DIR", folder)
    extra = tmp_path / "homoglyphs-notes.txt"
    extra.write_text("one")
    sources = nz._table_sources()
    monkeypatch.setattr(nz, "_table_sources", lambda: [*sources, extra])
    built = _fresh_tables(monkeypatch)
    first = next(folder.glob("normalize.*.tables"))
    extra.write_text("two")  # a source changed: a new key, the old file dropped
    assert _same_tables(built, _fresh_tables(monkeypatch))
    (second,) = folder.glob("normalize.*.tables")
    assert second != first
    second.write_bytes(second.read_bytes()[:1000])  # cut short: built again, and kept again whole
    assert _same_tables(built, _fresh_tables(monkeypatch))
    assert second.stat().st_size > 1000
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(_cache, "CACHE_DIR", blocked / "cache")
    assert _same_tables(built, _fresh_tables(monkeypatch))  # nothing kept, nothing raised


# ---------------------------------------------------------------- properties

# Characters that stress the steps' interplay: case folding that expands or needs NFKC again,
# look-alikes, CJK (traditional and simplified), full-width forms, invisibles, marks,
# separators and symbols, digits of other scripts, and the placeholders themselves.
TRICKY = list(
    "ßẞﬁﬀǰİıŉΐΰᾼͅſKÅΩǅǲﬅẛ"
    "аеорсухіјѕһԁԛԝӏАВЕКМНОРСТХԀαορικνυχεηΑΒΕΗΙΚΟΡΤΧϹσς"
    "優惠門們關乾著后后发髮麼么加微信限时特价好的一二三〇々ー"
    "ＡＺａｚ０９，。！：？、（）￥【】～\u3000"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\ufe0f\U000e0041\ue001\ue002\ue003\ue310"
    "\u0301\u0336\u0308\u3099\u309a\u093f\u0941\u094d\u0e31\u1100\u1161\u11a8"
    "カガｶﾞﾟ가각"
    " \t\n.-_*/|@:#❤💗🔥👍🏻🅰ᴀⓐ⒜❶١٣²½⅓Ⅻ℃™…·"
    "aAbBcCiIlL019wWeEhHtT"
)
tricky_text = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=40)
any_text = st.text(max_size=60)
# Lone surrogates appear in str decoded with surrogateescape; nothing may raise on them.
text_with_surrogates = st.text(
    alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30
)

INVISIBLE_CATEGORIES = {"Cf", "Cc", "Cs", "Co"}
INVISIBLE_RANGES = nz.load_ranges(nz.DATA_DIR / "invisible.tsv")


def _invisible(ch: str, *, allow_marks: bool) -> bool:
    if allow_marks and ch in (URL_MARK, MENTION_MARK, NUMBER_MARK):
        return False
    if ch == " ":
        return False
    cp = ord(ch)
    extra = any(a <= cp <= b for a, b in INVISIBLE_RANGES)
    return extra or unicodedata.category(ch) in INVISIBLE_CATEGORIES or ch.isspace()


# The properties of one output share a test (each example is generated once and checked for
# all of them: generating it costs far more than checking it).


@settings(max_examples=600, deadline=None)
@given(st.one_of(tricky_text, any_text))
@example("ß")
@example("ﬁ")
@example("İ")
@example("ǰ")
@example("ΐ")
@example("a b c d")
@example("b о о k")
@example("x ❤ a b")
@example("ǅ ß c")
@example("1 2 3")
@example("\ue003a\ue003b\ue003c")
def test_normalize_is_idempotent_stripped_single_spaced_nfkc_and_visible(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == " ".join(once.split())
    assert unicodedata.is_normalized("NFKC", once)
    assert once == once.casefold()
    assert not [c for c in once if _invisible(c, allow_marks=False)]


@settings(max_examples=600, deadline=None)
@given(st.one_of(tricky_text, any_text))
@example("a1b2c")
@example("か!\u3099")
@example("t.cn/http://x")
@example("\ue001 a . b . c")
def test_shingle_text_is_idempotent_visible_and_only_letters_marks_numerals_and_placeholders(text: str) -> None:
    once = shingle_text(text)
    assert shingle_text(once) == once
    assert not [c for c in once if _invisible(c, allow_marks=True)]
    for ch in once:
        category = unicodedata.category(ch)
        assert ch in (URL_MARK, MENTION_MARK, NUMBER_MARK) or category[0] in "LMN", (ch, category)


@settings(max_examples=400, deadline=None)
@given(st.one_of(tricky_text, any_text))
@example("ＡＢＣ 1 2")
@example("Ｂооk ́ @a.b")
def test_shingling_normalized_text_with_or_without_the_flag_matches_shingling_the_original(text: str) -> None:
    text = text.replace(URL_MARK, "").replace(MENTION_MARK, "").replace(NUMBER_MARK, "")
    assert shingle_text(normalize(text)) == shingle_text(text)
    assert shingle_text(normalize(text), normalized=True) == shingle_text(text)


def test_batch_shingling_of_normalized_texts() -> None:
    texts = ["限時特價！￥99 http://t.cn/x", "Buy сheap NOW 50% off", "加 微 信", "किताब 12"]
    forms = normalize_many(texts)
    assert shingle_many(forms, normalized=True) == shingle_many(texts)


@settings(max_examples=300, deadline=None)
@given(text_with_surrogates)
def test_never_raises_on_any_str(text: str) -> None:
    out = normalize(text)
    shingled = shingle_text(text)
    assert isinstance(out, str) and isinstance(shingled, str)
    out.encode("utf-8")  # no lone surrogate survives
    shingled.encode("utf-8")


# ---------------------------------------------------------------- real data


def _real_texts(limit: int) -> list[str]:
    from conftest import shared_data

    folder = shared_data("cn_sms_spam_50k")
    with open(folder / "dataset.csv", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        return [row[1] for _, row in zip(range(limit), rows) if len(row) > 1]


def test_real_chinese_sms_are_idempotent_in_both_forms() -> None:
    texts = _real_texts(3000)
    normalized = normalize_many(texts)
    assert normalize_many(normalized) == normalized
    shingled = shingle_many(texts)
    assert shingle_many(shingled) == shingled
    assert shingle_many(normalized) == shingled


def test_docstring_examples_run() -> None:
    import doctest

    failures, attempted = doctest.testmod(nz)
    assert attempted >= 5 and failures == 0


# ---------------------------------------------------------------- the compiled batch path
#
# The batch functions run a compiled loop and must give exactly what the one-at-a-time
# reference gives, for every input (texts the loop cannot follow go the reference way).


def _outcome(func, *args, **kwargs):
    """A call's result, or the type of the exception it raised."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        return type(exc)


def _reference_forms(texts: list[str]) -> dict[str, object]:
    forms = [nz._normalize_reference(t) for t in texts]
    return {
        "normalize": forms,
        "shingle": [nz._shingle_reference(t) for t in texts],
        "shingle_normalized": _outcome(
            lambda: [nz._shingle_reference(t, normalized=True) for t in texts]
        ),
        "shingle_of_forms": [nz._shingle_reference(f, normalized=True) for f in forms],
    }


def _codes_to_strings(codes, offsets) -> list[str]:
    ends = offsets.tolist()
    return [codes[a:b].tobytes().decode("utf-32-le") for a, b in zip(ends, ends[1:])]


def _assert_batch_matches_reference(texts: list[str]) -> None:
    want = _reference_forms(texts)
    assert normalize_many(texts) == want["normalize"]
    assert shingle_many(texts) == want["shingle"]
    assert _outcome(shingle_many, texts, normalized=True) == want["shingle_normalized"]
    forms, shingles = nz.normalize_and_shingle_many(texts)
    assert forms == want["normalize"] and shingles == want["shingle_of_forms"]
    assert _codes_to_strings(*nz.shingle_codes(texts)) == want["shingle"]
    forms, codes, offsets = nz.normalize_and_shingle_codes(texts)
    assert forms == want["normalize"]
    assert _codes_to_strings(codes, offsets) == want["shingle_of_forms"]


# Characters the loop handles itself (so the properties below exercise it, not the fallback),
# and pieces of links, mentions, numbers and spaced-out words to combine.
LOOP_PIECES = (
    list("abcehlmnqrstwxyzABCHTWSXZ0123456789 .-_/:@,;!?#%&*+=~'\"()[]")
    + list("加微信一二三好优惠門們關〇々ーカガｶ가　，。！：？、（）￥【】～「」")
    + list("\u200b\u00ad\ufe0f\t\n❤💗🔥👍🏻★☆→✓™©®°±×÷¥€•…·ＡＺａｚ０９①❶ⓦ𝐰\U00020000")
    + ["http://", "https://", "HTTP://", "www.", "WwW.", "Www.", ".com", ".cn", "t.cn/", ".top/"]
    + ["@", "19.9", "1,000", "12:30", "a b c", "w.e.c", "加 微 信", "x ❤ y", " 1 2 3 "]
)
loop_text = st.lists(st.sampled_from(LOOP_PIECES), max_size=25).map("".join)
# Any character at all, weighted towards the ones the steps treat specially.
broad_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(TRICKY),
        st.sampled_from([p for p in LOOP_PIECES if len(p) == 1]),
        st.characters(),
        st.characters(max_codepoint=0x7F),
        st.characters(min_codepoint=0x2000, max_codepoint=0x2BFF),
        st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
        st.characters(min_codepoint=0x1F000, max_codepoint=0x1FBFF),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(loop_text, min_size=nz._SMALL_BATCH, max_size=8))
def test_batch_path_matches_reference_on_text_the_loop_handles(texts: list[str]) -> None:
    _assert_batch_matches_reference(texts)


@settings(max_examples=250, deadline=None)
@given(st.lists(broad_text, min_size=nz._SMALL_BATCH, max_size=8))
def test_batch_path_matches_reference_on_any_text(texts: list[str]) -> None:
    _assert_batch_matches_reference(texts)


@settings(max_examples=100, deadline=None)
@given(st.lists(text_with_surrogates, min_size=nz._SMALL_BATCH, max_size=6))
def test_batch_path_matches_reference_on_lone_surrogates(texts: list[str]) -> None:
    _assert_batch_matches_reference(texts)


# Inputs where the reference's patterns have quirks the loop must copy.
CRAFTED = [
    pytest.param("a b chttp://x.com", id="chain-before-a-link-needs-the-hint"),
    pytest.param("x y z a b chttp://x.com", id="parts-between-links-joined-apart"),
    pytest.param("wWw.a b c d 加", id="mixed-case-www-gate-shut-in-non-ascii"),
    pytest.param("wWw.a b c d", id="mixed-case-www-gate-open-in-ascii"),
    pytest.param("Www.a.b.c 加 微 信", id="www-link-kept-whole"),
    pytest.param("HTTPS://A.B/C d e f 加", id="upper-case-link-span"),
    pytest.param("t.cn/xhttp://a.b 加", id="bare-link-then-scheme-link"),
    pytest.param("@abc.com 加", id="mention-that-is-a-bare-link"),
    pytest.param("abc.com.foo.xyz abc.com.foo", id="bare-link-takes-the-last-tld"),
    pytest.param("a-.b.com -a.b.com a.b-/x a.b/x", id="labels-must-start-and-end-alnum"),
    pytest.param("1.2.3.4 19.9. 1,,2 12:30:45 a1.5", id="numbers"),
    pytest.param("@a-b_c @ @@x a@b 加", id="mentions"),
    pytest.param("加 V ❤ 信 第 1 名 加微 信", id="cjk-gaps-and-spaced-emoji"),
    pytest.param("a ❤❤ b ❤ 👍🏻c", id="symbols-between-letters"),
    pytest.param("A, B, C and x . y . z", id="list-of-single-letters"),
    pytest.param("好，好，好 好 , 好", id="cjk-punctuation-chain"),
    pytest.param("ẛ ẛ\u1e61 ǅ ǆ ά", id="folds-that-fold-again"),
    pytest.param("ı İ ſ K", id="ignorecase-extras"),
    pytest.param("b\u043e\u043ek ΗΕLLO wé\u0301", id="look-alikes-and-marks"),
    pytest.param("\ue001 \ue002 \ue003 a . b . c", id="placeholders-in-input"),
    pytest.param("x\U000e0041y\U000f0000z\U00100000 \U00030000\U00040000", id="astral-planes"),
    pytest.param("\x00\x01\x02\x03 \x1c\x1f\x7f HTTP://X \x01abc", id="ascii-controls"),
    pytest.param("\x85\xa0\u2028\u3000 a\u00a0b", id="unicode-spaces"),
    pytest.param("ﷺ ﷻ ㍻ ㋿ ﬁ ß ẞ Σσς", id="long-compatibility-folds"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", CRAFTED)
def test_batch_path_matches_reference_on_crafted_text(text: str) -> None:
    # Each text alone, in upper case, and beside the others in one batch.
    _assert_batch_matches_reference([text, text.upper(), " " + text + " ", text + "加"])


def test_batch_path_matches_reference_on_all_crafted_texts_together() -> None:
    _assert_batch_matches_reference([p.values[0] for p in CRAFTED])


def test_loop_handles_ordinary_posts_itself() -> None:
    # Speed rests on ordinary posts not going the reference way; correctness does not.
    posts = [
        "限时特价！全场商品一律五折，数量有限先到先得🔥，详情加V：abc123 http://t.cn/A6x",
        "門市同步發售，數量有限售完即止❤️ 私信 @小美88 了解",
        "Big sale today only! Get 50% off, free shipping on orders over $50. http://bit.ly/s1",
        "扫码加 微 信 888 w.e.c.h.a.t：sh123 加\u200b微\u200b信 ＶＸ：ｋｋ99 www.shop1.com 官网直达",
    ]
    chunk = nz._run_chunk(nz._kernel(), posts, nz._kernel().modes[0] | nz._kernel().modes[1])
    assert chunk.redo == []


def test_loop_hands_what_it_cannot_follow_to_the_reference() -> None:
    posts = ["b\u043e\u043ek now", "we\u0336c\u0336hat", "plain text", "Ελλάδα"]
    chunk = nz._run_chunk(nz._kernel(), posts, nz._kernel().modes[0])
    assert chunk.redo == [0, 1, 3]
    assert normalize_many(posts) == ["book now", "wechat", "plain text", "ελλαδα"]


def test_batches_larger_than_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nz, "_CHUNK_CODE_POINTS", 50)
    texts = [p.values[0] for p in CRAFTED] * 3 + ["加 微 信 " * 30, "b\u043e\u043ek"]
    _assert_batch_matches_reference(texts)


def test_shingle_codes_layout() -> None:
    codes, offsets = nz.shingle_codes(["限時 99", "", "ab", "b\u043e\u043ek"])
    assert codes.dtype == np.uint32 and offsets.dtype == np.int64
    assert offsets.tolist() == [0, 3, 3, 5, 9]
    assert codes.tolist() == [ord(c) for c in "限时\ue003abbook"]
    empty_codes, empty_offsets = nz.shingle_codes([])
    assert empty_codes.size == 0 and empty_offsets.tolist() == [0]


def test_batch_functions_take_any_iterable_and_are_deterministic() -> None:
    texts = [p.values[0] for p in CRAFTED]
    assert normalize_many(iter(texts)) == normalize_many(tuple(texts)) == normalize_many(texts)
    assert shingle_many(t for t in texts) == shingle_many(texts)


@pytest.mark.parametrize(
    "func",
    [
        normalize_many,
        shingle_many,
        nz.normalize_and_shingle_many,
        nz.shingle_codes,
        nz.normalize_and_shingle_codes,
    ],
)
def test_non_str_in_a_large_batch_is_a_type_error(func) -> None:
    with pytest.raises(TypeError, match=rf"{func.__name__}\(\) takes a str; got int instead"):
        func(["ok"] * nz._SMALL_BATCH + [7])


def test_batch_path_in_forked_workers() -> None:
    import multiprocessing

    nz.warm_up()
    texts = [p.values[0] for p in CRAFTED]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(normalize_many, [texts, texts[::-1]])
    assert results == [normalize_many(texts), normalize_many(texts[::-1])]


def test_real_chinese_sms_batch_path_matches_reference() -> None:
    texts = _real_texts(3000)
    _assert_batch_matches_reference(texts)


@settings(max_examples=150, deadline=None)
@given(st.lists(loop_text, min_size=nz._SMALL_BATCH, max_size=8))
def test_batch_forms_are_idempotent(texts: list[str]) -> None:
    forms, shingles = nz.normalize_and_shingle_many(texts)
    assert normalize_many(forms) == forms
    assert shingle_many(shingles) == shingles
    assert shingle_many(forms, normalized=True) == shingles


def test_batch_loop_builds_once_under_concurrent_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spamflood import _normalize_kernel as kernel_module

    monkeypatch.setattr(nz, "_KERNEL", None)
    monkeypatch.setattr(nz, "_KERNEL_ARRAYS", None)  # the loop's tables built, not read from the cache
    builds = []
    real_build = kernel_module.build

    def counting_build(*args, **kwargs):
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(kernel_module, "build", counting_build)
    results: list[list[str]] = []
    texts = ["加 微 信"] * nz._SMALL_BATCH
    threads = [threading.Thread(target=lambda: results.append(normalize_many(texts))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["加微信"] * nz._SMALL_BATCH] * 6
    assert len(builds) == 1


def test_long_texts_that_grow_when_folded() -> None:
    # Longer than the loop's worst-case buffer guess, and folding to many times the length.
    texts = ["ﷺ加 微 信 ß" * 1200, "㍻ a b c " * 900, "x" * 5000, "ﷺ" * 300]
    _assert_batch_matches_reference(texts)
