"""Platform markup is not evidence: a post's labels come from what its author wrote.

Exports carry the platform's own wrapping: Twitter's ``t.co`` short link on every link, Weibo's
HTML (``<a href=...>网页链接</a>``, mentions as ``<a href="/n/name">@name</a>``, emoticons as
``<img src=...>``), retweet prefixes, WeChat's article links (``mp.weixin.qq.com``: the app's
name in a host is no handle), and news quoting a sum of money. None of them fires a
label by itself; the same markup around an ad leaves the ad's label standing. Checked through
the library's :class:`~spamflood.Detector` and through the command line in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spamflood import Detector, ScoredPost
from spamflood.criteria import evaluate

EMOTICON = (
    '<span class="url-icon"><img alt=[哈哈] src="https://h5.sinaimg.cn/m/emoticon/icon/default/'
    'd_haha-bdd3f5b0ac.png" style="width:1em; height:1em;" /></span>'
)
WEB_LINK = '<a data-url="http://t.cn/A6zYxW9q" href="https://weibo.cn/sinaurl?u=https%3A%2F%2Fwww.example.com%2F2026%2F1205" data-hide=""><span class="surl-text">网页链接</span></a>'
TOPIC = '<a href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D%23%E5%8F%B0%E9%A3%8E%23">#台风#</a>'

PLAIN = {
    "lone-tco": "https://t.co/AbC123xYz9",
    "tweet-with-tco": "What a game tonight, unbelievable finish https://t.co/AbC123xYz9 https://t.co/Qw12Er34Ty",
    "retweet-of-news": "RT @BBCBreaking: Earthquake of magnitude 6.1 hits central Italy https://t.co/xYz123AbC0",
    "news-fine-dollars": "Regulator fines bank $5 million over data breach https://t.co/Fine5Mil00",
    "weibo-web-link": f"今天的晚霞太好看了 {WEB_LINK}",
    "weibo-mention": '回复<a href="/n/小明同学">@小明同学</a>:说得对，明天见',
    "weibo-emoticons": f"下班啦{EMOTICON}{EMOTICON}{EMOTICON}",
    "weibo-topic-and-link": f"{TOPIC} 全市中小学明天停课，注意安全 {WEB_LINK}",
    "weibo-repost-of-news": f'转发微博 //<a href="/n/人民日报">@人民日报</a>:【某公司违规排污被罚款5万元】{WEB_LINK}',
    "news-single-fine": "某企业因违规排污被罚款5万元，责令限期整改。",
    "news-fine-and-gains": "市场监管局通报：某超市销售过期食品，罚款5万元，没收违法所得1200元。 http://t.cn/A6abcdE1",
    "wechat-article": "这篇文章写得很透彻 https://mp.weixin.qq.com/s/AbCdEf1234567890",
    "wechat-article-bare": "转一篇文章 mp.weixin.qq.com/s?__biz=MzA3ODQ2&mid=2650 值得一读",
    "wechat-site": "Read the statement on wechat.com/en/ about the outage",
}
AD = f"限时特价¥99，加V抢购 {WEB_LINK}"  # the same markup around an ad


def feed_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"id": name, "text": text, "author": f"user{k}", "time": 1_780_000_000 + 3_600 * k}
        for k, (name, text) in enumerate(PLAIN.items())
    ]
    rows.append({"id": "ad", "text": AD, "author": "shop", "time": 1_780_100_000})
    return rows


def expected_labels(post_id: str) -> list[str]:
    return ["soft_ad"] if post_id == "ad" else []


@pytest.fixture(scope="module")
def scored() -> dict[str, ScoredPost]:
    return {str(post.id): post for post in Detector().score(feed_rows())}


@pytest.mark.parametrize("name", list(PLAIN))
def test_markup_alone_fires_no_label_in_the_detector(scored: dict[str, ScoredPost], name: str) -> None:
    assert scored[name].labels == []


def test_markup_around_an_ad_keeps_its_label_and_quotes_the_shown_link(scored: dict[str, ScoredPost]) -> None:
    assert scored["ad"].labels == ["soft_ad"]
    assert 'link "网页链接"' in scored["ad"].reasons[0] and "sinaurl" not in scored["ad"].reasons[0]


@pytest.mark.parametrize(
    ("text", "links"),
    [
        pytest.param("Great game https://t.co/AbC123xYz9", 1, id="t.co-link"),
        pytest.param("戳 t.cn/A6xYz", 1, id="bare-short-link"),
        pytest.param(f"看这里 {WEB_LINK}", 1, id="weibo-link-card"),
        pytest.param(f"下班啦{EMOTICON}{EMOTICON}", 0, id="weibo-emoticons"),
        pytest.param('<a href="http://t.cn/A6xYz">http://t.cn/A6xYz</a>', 1, id="link-shown-as-itself"),
    ],
)
def test_a_posted_link_counts_once_and_markup_not_at_all(text: str, links: int) -> None:
    ev = evaluate([text])
    assert ev.values[0, ev.names.index("SOFT_AD_LINK")] == links


@pytest.mark.parametrize(
    ("text", "handles"),
    [
        pytest.param("https://mp.weixin.qq.com/s/AbCdEf1234567890", 0, id="wechat-article-link"),
        pytest.param("mp.weixin.qq.com/s?__biz=MzA3ODQ2", 0, id="bare-wechat-host"),
        pytest.param("加我weixin: abc123 详聊", 1, id="weixin-as-handle"),
        pytest.param("wechat me at abc123 for the price list", 1, id="wechat-as-handle"),
    ],
)
def test_a_messaging_apps_name_is_a_handle_but_not_inside_its_host_name(text: str, handles: int) -> None:
    ev = evaluate([text])
    assert ev.values[0, ev.names.index("SOFT_AD_CONTACT")] == handles


def _entry_points() -> list[list[str]]:
    found = [[sys.executable, "-m", "spamflood"]]
    script = shutil.which("spamflood")
    if script:
        found.append([script])
    return found


@pytest.mark.parametrize("command", _entry_points(), ids=lambda c: "script" if len(c) == 1 else "python-m")
def test_markup_alone_fires_no_label_on_the_command_line(tmp_path: Path, command: list[str]) -> None:
    feed, out = tmp_path / "feed.jsonl", tmp_path / "scored.jsonl"
    feed.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in feed_rows()), encoding="utf-8")
    proc = subprocess.run([*command, "score", str(feed), "-o", str(out), "-q"], capture_output=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    scored = {row["id"]: row["labels"] for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert scored == {row["id"]: expected_labels(str(row["id"])) for row in feed_rows()}
