"""The HTML report: what it shows for a planted feed, that hostile text stays text, that the
page is self-contained, and that its size does not grow with the feed."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_coordination import campaign, organic_trend  # the hand-built coordinated campaign and organic trend

from spamflood import Detector, PostBatch
from spamflood.cluster import ClusterTable
from spamflood.detector import ScoreResult
from spamflood.errors import ConfigError
from spamflood.io.rows import Reject
from spamflood.report import build_report, render, report_command, write_report
from spamflood.report.build import (
    NICE_STEPS,
    aggregate,
    evidence_terms,
    highlight_spans,
    name_pattern,
    timeline,
)
from spamflood.report.html import marked

BASE = 1771243200  # 2026-02-16T12:00:00Z, 20:00 on Spring Festival eve in Beijing
DAY = 86400

AD_ZH = "限时特价¥99！网红同款美妆礼盒买一送一，加V：mm8812 抢购，今晚12点恢复原价，数量有限先到先得"
AD_EN = "Flash sale today only: best-selling vitamin gummies 50% off, DM me or tap the link in bio https://shop.example/deal"
HOLIDAY = "新春快乐！马年大吉，XX银行祝您和家人万事如意，阖家幸福，新春开户即送888元红包"
SLOGAN = "每天一杯好茶，健康生活从XX茶开始！"

WHO = ["我", "同事", "老妈", "邻居家的小孩", "室友", "表哥", "Our team", "My sister", "The neighbours", "A friend"]
DID = [
    "今天去公园跑了五公里",
    "周末包了三种馅的饺子",
    "在地铁上看完了一本小说",
    "下午开会讨论了预算",
    "晚上煮了一锅番茄牛腩",
    "finally fixed the bike chain",
    "tried a new lentil soup recipe",
    "watched the lantern show downtown",
    "spent the morning repainting the fence",
    "got lost on the way to the museum",
]
END = [
    "，心情不错",
    "，有点累",
    "，下次还去",
    "，拍了好多照片",
    " and it rained",
    " — worth it",
    "，哈哈",
    " again",
    "。",
    "!",
]


def demo_feed(seed: int = 7) -> list[dict]:
    """A feed with planted floods (Chinese and English, batch-made names) and organic posts."""
    rng = random.Random(seed)
    posts: list[dict] = []

    def add(pid, text, author, t, name, created, followers):
        posts.append(
            {
                "id": pid,
                "text": text,
                "author": author,
                "time": float(t),
                "author_name": name,
                "author_created": float(created),
                "followers": float(followers),
            }
        )

    made = BASE - 37 * DAY
    for k in range(80):  # screen-sweeping: 80 accounts made within two hours, one ad in 15 minutes
        text = AD_ZH + rng.choice(["", " 🔥", " ✨✨", "【转发有礼】"])
        if k % 7 == 3:
            text = text.replace("加V", "加 V")
        name = f"美妆小助手{rng.randrange(10_000):04d}"
        add(
            f"zh{k}",
            text,
            f"acct_zh{k}",
            BASE + rng.uniform(0, 900),
            name,
            made + rng.uniform(0, 7200),
            rng.randrange(4),
        )
    for k in range(36):  # an English flood from "shop_deal_####" accounts over 40 minutes
        name = f"shop_deal_{rng.randrange(10_000):04d}"
        add(
            f"en{k}",
            AD_EN,
            f"acct_en{k}",
            BASE + 5400 + rng.expovariate(1 / 600),
            name,
            made + rng.uniform(0, 3 * DAY),
            rng.randrange(20),
        )
    for k in range(14):  # festival copy hung on by many branches within three hours
        add(
            f"hol{k}",
            HOLIDAY,
            f"bank{k}",
            BASE - 3600 + rng.uniform(0, 3 * 3600),
            f"XX银行{rng.choice('东南西北')}城支行{k}",
            made - rng.uniform(300, 2000) * DAY,
            rng.randrange(800, 9000),
        )
    for k in range(4):  # one account repeating its slogan over days
        add(f"rep{k}", SLOGAN, "teaguy", BASE - DAY + k * 20_000, "茶先生", made - 400 * DAY, 120)
    combos = [(w, d, e) for w in WHO for d in DID for e in END]
    rng.shuffle(combos)
    for k, (w, d, e) in enumerate(combos[:360]):  # organic users across two days
        add(
            f"o{k}",
            f"{w}{' ' if w.isascii() else ''}{d}{e}",
            f"user{k % 150}",
            BASE - DAY + rng.uniform(0, 2 * DAY),
            f"user{k % 150}",
            made - rng.uniform(100, 3000) * DAY,
            rng.randrange(50, 3000),
        )
    rng.shuffle(posts)
    return posts


def with_evidence(result: ScoreResult) -> ScoreResult:
    """Add soft_ad evidence in the criteria's reason format where the detector gives none yet."""
    for i, text in enumerate(result.batch.texts):
        if any(r.startswith("soft_ad:") for r in result.reasons[i]):
            continue
        if text.startswith("限时特价"):
            result.reasons[i] = result.reasons[i] + [
                'soft_ad: price "¥99", disguised handle "加v", call to action "抢购", urgency "限时"'
            ]
        elif text.startswith("Flash sale"):
            result.reasons[i] = result.reasons[i] + [
                'soft_ad: discount "50% off", contact handle "dm me", "link in bio", urgency "today only"'
            ]
    return result


@pytest.fixture(scope="module")
def demo():
    return with_evidence(Detector().score(demo_feed()))


@pytest.fixture(scope="module")
def page(demo):
    return build_report(demo, title="demo report", source="feed.jsonl", tz="Asia/Shanghai")


class Tags(HTMLParser):
    """Every start tag and its attributes, as the browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    p.close()
    return p


# ---------------------------------------------------------------------------- what it shows


def test_summary_counts_match_the_result(demo, page):
    s = demo.summary()
    assert page.startswith("<!DOCTYPE html>") and "<title>demo report</title>" in page
    assert f"<b>{s['scored']:,}</b><span>posts scored</span>" in page
    assert f"<b>{s['floods']:,}</b><span>floods (mass sharing)</span>" in page
    share = s["flagged"] / s["scored"] * 100
    assert f"flagged ({share:.1f}%, score ≥ 0.5)" in page
    assert "source: feed.jsonl" in page


def test_floods_are_ranked_by_accounts_with_their_text(demo, page):
    data = aggregate(demo, tz="Asia/Shanghai")
    assert [f.authors for f in data.floods][:2] == [80, 36]
    assert data.floods[0].representative_text.startswith("限时特价¥99")
    assert data.floods[1].representative_text == AD_EN
    assert page.index('id="flood-1"') < page.index('id="flood-2"')
    assert page.count('<article class="flood"') == len(data.floods) == data.floods_total


def test_flood_timeline_counts_posts_and_accounts(demo):
    flood = aggregate(demo).floods[0]
    line = flood.timeline
    assert line is not None and 2 <= len(line.posts) <= 60
    assert int(line.posts.sum()) + line.before + line.after == flood.size == 80
    assert (line.second <= line.posts).all() and line.second.sum() == 80  # one post per account
    assert line.step in NICE_STEPS  # buckets a reader can name: 15 s, 5 min, 1 h


def test_time_axis_is_labelled_in_the_readers_zone(page):
    # The Chinese flood starts at 20:00 Beijing time; its axis says so in wall-clock minutes.
    flood = page[page.index('id="flood-1"') : page.index('id="flood-2"')]
    ticks = re.findall(r'class="xtick"[^>]*>([^<]+)<', flood)
    assert "20:00" in ticks and "20:05" in ticks and "20:10" in ticks
    assert "Asia/Shanghai, UTC+08:00" in flood
    assert "per 15 s" in flood or "per 30 s" in flood


def test_label_chart_has_a_bar_per_label(demo, page):
    data = aggregate(demo)
    names = [name for name, _ in data.label_counts]
    assert {"mass_share", "repetition", "soft_ad", "batch_accounts"} <= set(names)
    counts = [count for _, count in data.label_counts]
    assert counts == sorted(counts, reverse=True)
    for name, count in data.label_counts:
        assert f"<title>{name}: {count:,} posts</title>" in page


def test_batch_made_names_are_grouped_by_pattern(demo, page):
    floods = aggregate(demo).floods
    zh, en = floods[0].accounts, floods[1].accounts
    assert zh.total == 80 and zh.patterns[0][:2] == ("美妆小助手####", 80)
    assert en.patterns[0][:2] == ("shop_deal_####", 36)
    assert zh.created_known == 80 and zh.created_last - zh.created_first <= 7200
    assert zh.created_densest_day == 80 and zh.followers_median is not None
    assert "80 of 80 accounts share a name pattern" in page
    assert "美妆小助手####" in page and "shop_deal_####" in page


def test_evidence_is_highlighted_in_the_representative_text(page):
    flood = page[page.index('id="flood-1"') : page.index('id="flood-2"')]
    quote = flood[flood.index('<blockquote class="post-text">') : flood.index("</blockquote>")]
    marks = re.findall(r"<mark>(.*?)</mark>", quote)  # adjacent matches merge into one mark
    assert all(any(word in m for m in marks) for word in ("¥99", "限时", "抢购", "加V"))
    english = page[page.index('id="flood-2"') :]
    quote = english[english.index('<blockquote class="post-text">') : english.index("</blockquote>")]
    marks = [m.lower() for m in re.findall(r"<mark>(.*?)</mark>", quote)]
    assert all(any(word in m for m in marks) for word in ("50% off", "dm me", "link in bio"))


def test_post_table_keeps_a_few_copies_per_cluster(demo):
    data = aggregate(demo, max_rows=50, per_cluster=2)
    clusters = [p.cluster for p in data.posts if p.cluster >= 0]
    assert clusters and max(clusters.count(c) for c in set(clusters)) <= 2
    assert [p.score for p in data.posts] == sorted((p.score for p in data.posts), reverse=True)
    assert all(p.score > 0 for p in data.posts)
    assert {p.flood_rank for p in data.posts if p.cluster == data.floods[0].cluster} == {1}


def test_overview_pins_link_to_floods(demo, page):
    overview = page[page.index('id="timeline"') : page.index('id="floods"')]
    for rank in range(1, aggregate(demo).floods_total + 1):
        assert f'href="#flood-{rank}"' in overview


def test_same_result_same_page(demo, page):
    assert build_report(demo, title="demo report", source="feed.jsonl", tz="Asia/Shanghai") == page


# ---------------------------------------------------------------------------- hostile input


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "nav",
    "a",
    "main",
    "section",
    "div",
    "b",
    "span",
    "svg",
    "line",
    "text",
    "rect",
    "polyline",
    "g",
    "path",
    "article",
    "dl",
    "dt",
    "dd",
    "aside",
    "blockquote",
    "mark",
    "ul",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "footer",
}
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> 免费领取 \"quoted\" & <b>bold</b>"


@pytest.fixture(scope="module")
def hostile_page():
    feed = [
        {
            "id": f"<i>{k}</i>",
            "text": HOSTILE,
            "author": f"a{k}",
            "time": BASE + 30 * k,
            "author_name": f"<img src=x onerror=alert({k})>",
        }
        for k in range(8)
    ]
    result = Detector().score(feed)
    result.reasons[0] = result.reasons[0] + ['soft_ad: call to action "<script>", free "免费领取"']
    result.rejects.append(Reject(line=99, field="text", reason="bad <script>alert(2)</script>", raw="{}"))
    result.summary = lambda: {**ScoreResult.summary(result), "rejected": 1}  # type: ignore[method-assign]
    return build_report(result, title="<script>alert('title')</script>", source="</title><script>x</script>")


def test_a_post_with_a_script_tag_stays_text(hostile_page):
    parsed = parse(hostile_page)
    names = {tag for tag, _ in parsed.tags}
    assert names <= ALLOWED_TAGS  # no script, img or i from the posts
    assert "<b>bold</b>" not in hostile_page and "&lt;b&gt;bold&lt;/b&gt;" in hostile_page
    assert not [(t, a) for t, attrs in parsed.tags for a in attrs if a.lower().startswith("on")]
    text = "".join(parsed.text)
    assert "<script>alert('x')</script>" in text  # shown to the reader, as text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in hostile_page
    assert "<mark>&lt;script&gt;</mark>" in hostile_page and "<mark>免费领取</mark>" in hostile_page
    assert "bad &lt;script&gt;alert(2)&lt;/script&gt;" in hostile_page


def test_page_forbids_scripts_and_network(page):
    parsed = parse(page)
    assert not [t for t, _ in parsed.tags if t in ("script", "link", "iframe", "img", "object", "embed")]
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    refs = [a[k] for _, a in parsed.tags for k in ("href", "src") if k in a]
    assert refs and all(r.startswith("#") for r in refs)
    assert "@import" not in page and "url(" not in page


def test_stylesheet_names_cjk_fonts(page):
    for font in ('"Noto Sans CJK SC"', '"Noto Sans SC"', '"Source Han Sans SC"', '"PingFang SC"', '"Microsoft YaHei"'):
        assert font in page


def test_unencodable_text_does_not_fail_the_file(tmp_path):
    result = Detector().score([{"id": "1", "text": "ok", "author": "a", "time": BASE}])
    result.batch.texts[0] = "broken \ud800 surrogate"
    result.score[0], result.flagged[0] = 0.9, True
    result.reasons[0] = ["soft_ad: x"]
    path = write_report(result, tmp_path / "r.html")
    assert "broken ? surrogate" in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- edge cases


def test_empty_result_still_renders():
    result = Detector().score([])
    page = build_report(result)
    assert "No post has a time" in page and "No near-duplicate clusters were found." in page


def test_feed_without_times_has_no_timeline():
    feed = [{"id": str(k), "text": AD_EN, "author": f"a{k}"} for k in range(6)]
    from spamflood.io.fieldmap import FieldMap

    result = Detector().score(feed, field_map=FieldMap.parse(None, optional=("time",)))
    data = aggregate(result)
    assert data.overview is None and data.floods and data.floods[0].timeline is None
    assert "No post has a time, so there is no timeline." in build_report(result)


def test_a_flood_without_times_beside_one_with_times_shows_unknown_not_1970():
    from spamflood.io.fieldmap import FieldMap

    timed = [{"id": f"t{k}", "text": AD_EN, "author": f"a{k}", "time": BASE + 60 * k} for k in range(6)]
    untimed = [
        {"id": f"u{k}", "text": "限时特价！网红同款面膜买二送一，今天下单立减50元，加V：mask8899", "author": f"b{k}"}
        for k in range(6)
    ]
    result = Detector().score(timed + untimed, field_map=FieldMap.parse(None, optional=("time",)))
    data = aggregate(result)
    assert len(data.floods) == 2 and data.overview is not None
    page = build_report(result)
    assert "1970" not in page and "<dt>span</dt><dd>unknown</dd>" in page and "<dt>span</dt><dd>5 min</dd>" in page
    # no post of the untimed flood has a time: no peak is known, where the timed one has its own
    assert "<dt>peak in 60 min</dt><dd>unknown</dd>" in page and "<dt>peak in 60 min</dt><dd>6 posts / 6 accounts</dd>" in page
    records = result.cluster_records()
    untimed_record = next(r for r in records if r["first_time"] is None)
    timed_record = next(r for r in records if r["first_time"] is not None)
    assert (untimed_record["peak_posts"], untimed_record["peak_authors"]) == (None, None)
    assert (timed_record["peak_posts"], timed_record["peak_authors"]) == (6, 6)


def test_without_floods_the_largest_clusters_are_shown():
    feed = [{"id": str(k), "text": AD_EN, "author": f"a{k % 2}", "time": BASE + k * DAY} for k in range(4)]
    page = build_report(Detector().score(feed))
    assert "Largest near-duplicate clusters" in page and 'id="flood-1"' in page


def test_top_and_max_rows_zero_leave_sections_out(demo):
    page = build_report(demo, top=0, max_rows=0)
    assert 'id="flood-1"' not in page and "Flood sections were left out (top=0)." in page
    assert "The post table was left out (max_rows=0)." in page and "<tr class=" not in page


# ---------------------------------------------------------------------------- coordinated groups


def coordinated_result(tag: str = "#BuyNow", prefix: str = "bot", accounts: int = 6) -> ScoreResult:
    """``tag`` pushed by ``accounts`` accounts in five tight waves at irregular hours, every post
    worded anew (no cluster), beside 300 people using #WorldCup over the same day."""
    return Detector().score(PostBatch.from_posts(campaign(accounts=accounts, tag=tag, prefix=prefix) + organic_trend()))


@pytest.fixture(scope="module")
def coordinated():
    return coordinated_result()


def lanes_of(page: str) -> list[tuple[str, list[float]]]:
    """Per lane of the co-posting timelines, top down: the account's name as drawn and the x of
    each of its cells."""
    parsed = parse(page)
    names = [t for t in re.findall(r'<text class="lane-name"[^>]*>([^<]*)</text>', page) if t != "all accounts"]
    cells = [(float(a["x"]), float(a["y"])) for tag, a in parsed.tags if tag == "rect" and a.get("class") == "lane"]
    rows = sorted({y for _, y in cells})
    return [(html.unescape(n), [x for x, yy in cells if yy == y]) for n, y in zip(names, rows, strict=True)]


def test_a_coordinated_group_gets_a_section_with_its_object_accounts_and_timeline(coordinated):
    page = build_report(coordinated)
    assert page.count('<article class="group"') == 1
    section = page[page.index('<article class="group" id="group-1">') :]
    assert section.startswith('<article class="group" id="group-1">\n  <h3><span class="rank">#1</span> #BuyNow</h3>')
    assert "<dt>accounts</dt><dd>6</dd>" in section and "<dt>posts</dt><dd>30</dd>" in section
    assert "<dt>pairs co-posting within 60 s</dt><dd>15</dd>" in section
    assert "<dt>median co-posts per pair</dt><dd>5</dd>" in section and "<dt>span</dt><dd>13 h 24 min</dd>" in section
    assert "<li>coordinated: #BuyNow from 6 accounts, 30 posts in 13 h 24 min;" in section
    accounts = re.findall(r'<tr><td class="name">([^<]*)</td><td class="count">(\d+)</td></tr>', section)
    assert accounts == [(f"bot{a}", "5") for a in range(6)]
    # one lane per account, a cell in each of the five waves, the six lanes' cells in the same columns
    lanes = lanes_of(section)
    assert [name for name, _ in lanes] == [f"bot{a}" for a in range(6)]
    columns = lanes[0][1]
    assert len(columns) == 5 and all(cells == columns for _, cells in lanes)
    assert "fan" not in section  # the organic trend's people are in no group
    assert "<b>1</b><span>coordinated groups</span>" in page


def test_a_group_with_many_accounts_draws_the_most_active_and_counts_the_rest():
    result = coordinated_result(accounts=9)
    data = aggregate(result, lanes=4, top_accounts=6)
    (group,) = data.groups
    assert group.lanes is not None and group.lanes.names == ["bot0", "bot1", "bot2", "bot3"]
    assert (group.lanes.hidden, group.lanes.hidden_posts) == (5, 25)
    assert int(group.lanes.counts.sum()) + group.lanes.hidden_posts == int(group.lanes.posts.sum()) == 45
    page = build_report(result)  # by default 30 lanes and names: all nine drawn and listed
    assert [name for name, _ in lanes_of(page)] == [f"bot{a}" for a in range(9)] and "more accounts." not in page
    small = render(data)
    assert "4 most active accounts drawn; 5 more (25 posts) are counted in the top strip only." in small
    assert "and 3 more accounts." in small and len(lanes_of(small)) == 4


def test_without_coordination_the_groups_section_says_so():
    alone = build_report(Detector().score(PostBatch.from_posts(organic_trend())))
    assert '<article class="group"' not in alone
    assert "No coordinated group was found" in alone and '<a href="#groups">Groups</a>' in alone


def test_top_zero_leaves_group_sections_out(coordinated):
    page = build_report(coordinated, top=0)
    assert '<article class="group"' not in page and "Group sections were left out (top=0)." in page


HOSTILE_TAG = "#<script>alert(1)</script>#"  # Weibo's #topic# takes anything but '#' and spaces
HOSTILE_NAME = "<img src=x onerror=alert(2)>"


def test_a_hostile_hashtag_and_account_names_in_a_group_stay_text():
    page = build_report(coordinated_result(tag=HOSTILE_TAG, prefix=HOSTILE_NAME))
    parsed = parse(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    assert not [(t, a) for t, attrs in parsed.tags for a in attrs if a.lower().startswith("on")]
    section = page[page.index('<article class="group" id="group-1">') :]
    assert "#1</span> #&lt;script&gt;alert(1)&lt;/script&gt;</h3>" in section
    assert [name for name, _ in lanes_of(section)] == [f"<img src=x o…lert(2)>{a}" for a in range(6)]  # cut in the middle
    text = "".join(parse(section).text)
    assert "#<script>alert(1)</script>" in text and f"{HOSTILE_NAME}0" in text  # shown to the reader, as text


def test_report_command_writes_and_reports(demo, tmp_path):
    info = report_command(demo, tmp_path / "out.html", source="feed.jsonl")
    assert info["path"] == str(tmp_path / "out.html") and info["bytes"] == (tmp_path / "out.html").stat().st_size
    assert info["floods_shown"] == info["floods"] == demo.summary()["floods"]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"top": -1}, r"'top' parameter of the report must be an integer >= 0\. Got -1"),
        ({"max_rows": 2.5}, r"'max_rows' parameter .* Got 2\.5"),
        ({"bins": 1}, r"'bins' parameter .* >= 2\. Got 1"),
        ({"tz": "Mars/Olympus"}, r"'tz' parameter must be an IANA time zone .* Got 'Mars/Olympus'"),
    ],
    ids=["negative-top", "float-rows", "one-bin", "unknown-zone"],
)
def test_bad_parameters_are_refused(demo, kw, match):
    with pytest.raises(ConfigError, match=match):
        build_report(demo, **kw)


def test_a_timeline_without_lanes_is_refused(demo):
    with pytest.raises(ConfigError, match=r"'lanes' parameter of the report must be an integer >= 1\. Got 0 instead"):
        aggregate(demo, lanes=0)


# ---------------------------------------------------------------------------- pieces


def test_a_damaged_template_is_refused(demo, monkeypatch):
    from spamflood.report import html as report_html

    monkeypatch.setattr(report_html, "template", lambda name: "<p>$nonsense</p>" if name == "page.html" else "")
    with pytest.raises(ConfigError, match=r"template 'page.html' .* placeholder .*'nonsense'.* Reinstall"):
        build_report(demo)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("美妆小助手0231", "美妆小助手####"),
        ("shop_deal_8812", "shop_deal_####"),
        ("alice", "alice"),
        ("a1b22", "a#b##"),
    ],
)
def test_name_pattern(name, pattern):
    assert name_pattern(name) == pattern


def test_numeric_ids_are_not_a_name_pattern():
    feed = [{"id": str(k), "text": AD_EN, "author": str(1_000_000_000 + k * 7919), "time": BASE + k} for k in range(6)]
    accounts = aggregate(Detector().score(feed)).floods[0].accounts
    assert accounts.total == 6 and accounts.patterns == []


def test_accounts_that_posted_once_are_listed_briefly(page):
    flood = page[page.index('id="flood-1"') : page.index('id="flood-2"')]
    assert "Each posted once: 美妆小助手" in flood and "and 74 more." in flood


def test_evidence_terms_are_the_quoted_words():
    reasons = ['soft_ad: price "¥99", contact handle "加V"', "mass_share: 80 posts", 'soft_ad: price "¥99"']
    assert evidence_terms(reasons) == ["¥99", "加V"]


@pytest.mark.parametrize(
    ("text", "terms", "marks"),
    [
        ("限时特价¥99，加V抢购", ["¥99", "加v"], ["¥99", "加V"]),
        ("限时特价，加 V 抢购", ["加v"], ["加 V"]),
        ("ｍａｓｋ 8899", ["mask"], ["ｍａｓｋ"]),
        ("加\u200b微\u200b信", ["加微信"], ["加\u200b微\u200b信"]),
        ("50% off today", ["50% off", "% off"], ["50% off"]),
        ("nothing here", ["¥99"], []),
    ],
    ids=["plain", "spaced", "fullwidth", "zero-width", "overlap", "absent"],
)
def test_highlight_spans_find_evidence_through_evasion(text, terms, marks):
    assert [text[a:b] for a, b in highlight_spans(text, terms)] == marks


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.lists(st.text(min_size=1, max_size=6), max_size=4))
def test_marking_never_changes_the_text(text, terms):
    out = marked(text, terms, limit=10_000)
    assert html.unescape(out.replace("<mark>", "").replace("</mark>", "")) == text
    assert "<" not in out.replace("<mark>", "").replace("</mark>", "")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=1e9, max_value=2e9, allow_nan=False), min_size=1, max_size=300),
    st.integers(min_value=2, max_value=80),
)
def test_timeline_accounts_for_every_post(times, bins):
    t = np.asarray(times)
    codes = np.arange(t.size) % 7
    line = timeline(t, accounts=codes, bins=bins, tz="Asia/Shanghai")
    assert len(line.posts) <= bins
    assert int(line.posts.sum()) + line.before + line.after == t.size
    assert (line.second <= line.posts).all()
    assert line.start <= t.min() or line.before > 0


def test_a_stray_copy_does_not_squash_the_peak():
    t = np.r_[BASE + np.arange(200) * 3.0, BASE + 30 * DAY]
    line = timeline(t, accounts=np.arange(t.size), bins=60)
    assert line.after == 1 and line.step <= 30


def test_real_comment_export_with_authors_and_dates():
    from conftest import shared_data
    from spamflood.io.fieldmap import FieldMap

    path = shared_data("youtube_spam_2014_pilot") / "PewDiePie-gRyPjRrjS34_2014-12.csv"
    fields = FieldMap.parse("id=COMMENT_ID,text=CONTENT,author=AUTHOR,time=DATE")
    result = Detector(window="1d", min_authors=3).score(str(path), field_map=fields)
    page = build_report(result, source=path.name)
    assert "<b>300</b><span>posts scored</span>" in page and path.name in page
    overview = page[page.index('id="timeline"') : page.index('id="floods"')]
    assert ">2013<" in overview and ">2014<" in overview  # 14 months of comments, years marked
    assert "<script" not in page and len(page.encode()) < 200_000


# ---------------------------------------------------------------------------- scale


def synthetic_result(n: int, seed: int = 0) -> ScoreResult:
    """A ScoreResult of ``n`` posts built with NumPy (no detector): one giant flood, many small
    ones, and organic posts, every post with labels and reasons."""
    rng = np.random.default_rng(seed)
    labels = np.full(n, -1, dtype=np.int64)
    giant = n // 2
    labels[:giant] = 0
    small = rng.integers(1, 400, size=n // 4)
    labels[giant : giant + small.size] = small
    m = int(labels.max()) + 1
    authors_code = np.where(labels == 0, np.arange(n) % 40_000, rng.integers(0, n // 3, size=n))
    times = BASE + np.where(
        labels >= 0, labels * 600.0 + rng.exponential(300.0, size=n), rng.uniform(0, 30 * DAY, size=n)
    )
    ids = [f"p{i}" for i in range(n)]
    texts = np.array(
        ["限时特价¥99 加V mm8812 " + "x" * 40, "organic post about the weather today"]
        + [f"small flood {c} 加V" for c in range(1, m)]
    )
    text_of = np.where(labels == 0, 0, np.where(labels < 0, 1, labels + 1))
    authors = [f"a{c}" for c in authors_code]
    inside = labels >= 0
    size = np.bincount(labels[inside], minlength=m)
    pairs = np.unique(labels[inside] * n + authors_code[inside])
    distinct = np.bincount(pairs // n, minlength=m)
    first = np.full(m, np.inf)
    last = np.full(m, -np.inf)
    np.minimum.at(first, labels[inside], times[inside])
    np.maximum.at(last, labels[inside], times[inside])
    rep = np.full(m, n, dtype=np.int64)
    np.minimum.at(rep, labels[inside], np.flatnonzero(inside))
    table = ClusterTable(
        labels=labels,
        size=size,
        authors=distinct,
        first_time=first,
        last_time=last,
        peak_posts=size,
        peak_authors=distinct,
        peak_start=first,
        representative=rep,
        window=3600.0,
    )
    nan = np.full(n, np.nan)
    batch = PostBatch(
        ids=ids,
        texts=list(texts[text_of]),
        authors=authors,
        times=times,
        lines=np.arange(1, n + 1),
        author_name=[f"shop_deal_{c}" for c in authors_code],
        author_bio=[None] * n,
        repost_of=[None] * n,
        author_created=BASE - 100 * DAY + authors_code * 10.0,
        followers=nan,
        following=nan,
        statuses=nan,
    )
    score = np.where(inside, 0.9, 0.0)
    mass = ["mass_share"]
    reason = ["mass_share: many accounts", 'soft_ad: price "¥99", disguised handle "加v"']
    post_labels = [mass if x else [] for x in inside]
    post_reasons = [reason if x else [] for x in inside]
    return ScoreResult(
        batch=batch,
        clusters=table,
        score=score,
        flagged=score >= 0.5,
        labels=post_labels,
        reasons=post_reasons,
        features={},
        rejects=[],
        rows_read=n,
        blank_lines=0,
        threshold=0.5,
    )


def test_a_large_feed_gives_a_small_page():
    result = synthetic_result(200_000)
    page = build_report(result, top=10, max_rows=200)
    size = len(page.encode("utf-8"))
    assert size < 5_000_000
    assert size < 1_000_000  # in practice: bounded by top and max_rows, not by the feed
    assert page.count('<article class="flood"') == 10
    assert page.count("<tr class=") == 200
    assert page.count("<rect") < 10 * 61 + 61 + 20 + 10 * 30
    assert "≈ 100,000 posts" in page  # reason counts of a sampled flood are marked as estimates
