"""Evidence quotes the post as written: case kept, nothing glued on, digits of a link no phone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood import Detector
from spamflood.criteria import evaluate, reasons
from spamflood.criteria.quotes import original
from spamflood.normalize import normalize


def _reasons(text: str) -> list[str]:
    return reasons(evaluate([text], labels="all").evidence[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("抢购 bit.ly/AbC12 限时", 'soft_ad: link "bit.ly/AbC12"; call to action "抢购"; urgency "限时"', id="short-link-case"),
        pytest.param("Click HTTPS://Bit.ly/XyZ9 now", 'soft_ad: link "HTTPS://Bit.ly/XyZ9"; call to action "Click"', id="scheme-case"),
        pytest.param("点这里 bit.ly/abc🔥 限时特价", 'soft_ad: discount "特价"; link "bit.ly/abc"; urgency "限时"', id="emoji-after-link"),
        pytest.param("点击https://t.cn/A6xyz领取", 'soft_ad: link "https://t.cn/A6xyz"', id="words-glued-after-link"),
        pytest.param("https://x.com/item/13812345678", 'soft_ad: link "https://x.com/item/13812345678"', id="digits-in-link"),
        pytest.param("限时特价¥99，加V抢购", 'soft_ad: price "¥99"; discount "特价"; disguised handle "加V"; call to action "抢购"; urgency "限时"', id="handle-case"),
        pytest.param("限時特價 搶購", 'soft_ad: discount "特價"; call to action "搶購"; urgency "限時"', id="traditional"),
        pytest.param("加 微 信 ＷＥＣＨＡＴ８８８", 'soft_ad: contact handle "加 微 信", "ＷＥＣＨＡＴ"', id="spaced-and-full-width"),
        pytest.param("打折 加V❤信", 'soft_ad: discount "打折"; disguised handle "加V❤信"', id="emoji-inside-a-word"),
    ],
)
def test_a_reason_quotes_the_post_as_written(text: str, expected: str) -> None:
    assert _reasons(text) == [expected]


def test_the_digits_of_a_link_are_no_phone_number_but_a_number_beside_it_is() -> None:
    ev = evaluate(["https://x.com/item/13812345678", "https://x.com/item/1 电话13812345678"])
    assert ev.column("SOFT_AD_LINK").tolist() == [1.0, 1.0]
    assert ev.column("SOFT_AD_CONTACT").tolist() == [0.0, 1.0]
    # a link alone is one selling signal: no soft_ad (it fired on link + "phone" before)
    assert ev.labels["soft_ad"].tolist() == [0.0, 1.0]
    assert ev.sentences()["soft_ad"][1] == 'soft_ad: link "https://x.com/item/1"; phone/QQ number "13812345678"'


def test_the_detector_quotes_what_its_workers_matched_as_written() -> None:
    posts = [{"id": str(i), "text": "限時特價¥99，加V搶購 bit.ly/AbC12🔥", "author": f"a{i}", "time": 1.7e9 + i} for i in range(2)]
    result = Detector().score(posts)
    assert result.reasons[0] == [
        'soft_ad: price "¥99"; discount "特價"; link "bit.ly/AbC12"; disguised handle "加V"; call to action "搶購"; urgency "限時"'
    ]


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    word=st.sampled_from(["特價", "加V", "WeChat", "ＱＱ", "bit.ly/AbC", "限時", "Buy NOW"]),
    after=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)
def test_a_quote_is_always_a_piece_of_the_original_text(before: str, word: str, after: str) -> None:
    text = before + " " + word + " " + after
    normal = normalize(text)
    target = normalize(word)
    start = normal.find(target)
    if start < 0:  # the word ran into its neighbours (a joined letter chain): nothing to quote
        return
    quoted = original(text, normal, start, start + len(target))
    assert quoted == target or quoted in text
    if quoted in text:
        assert normalize(quoted) == target or target in normalize(quoted)


_SPACED_ALPHABET = st.sampled_from(list("ab.A_ 1-/\u2764\u00a0加V信") + ["\u200b", "ß"])


@settings(max_examples=400, deadline=None)
@given(text=st.text(_SPACED_ALPHABET, max_size=24), target=st.text(_SPACED_ALPHABET, min_size=1, max_size=5))
def test_a_spaced_out_match_is_where_the_lazy_regex_finds_it(text: str, target: str) -> None:
    import re

    from spamflood.criteria.quotes import _spaced

    pattern = re.compile(r"[\W_]*?".join(map(re.escape, target)))
    assert _spaced(text, target) == [m.span() for m in pattern.finditer(text)]


def test_a_match_spaced_out_by_emoji_and_dots_is_quoted_with_them() -> None:
    assert original("加 V ❤ 信 now", "加v信 now", 0, 3) == "加 V ❤ 信"
    assert original("see bit . ly/x", "see bit.ly/x", 4, 12) == "bit . ly/x"
