"""The criteria registry, its examples, the rules file and the lexicon files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.criteria import (
    FAMILIES,
    FEATURES,
    LABELS,
    CriteriaFeatures,
    evaluate,
    hits,
    label_scores,
    reasons,
)
from spamflood.criteria.lexicon import LEXICON_DIR, Lexicon, Scanner, load_lexicon
from spamflood.criteria.registry import ARTICLE, MAX_DESCRIPTION, load_registry
from spamflood.criteria.rules import load_rules
from spamflood.errors import ConfigError

ALL = CriteriaFeatures().fit()
NAMES = list(ALL.get_feature_names_out())


def _value(text: str, feature: str) -> float:
    return float(ALL.transform([text])[0, NAMES.index(feature)])


# ----------------------------------------------------------------------------- the registry


def test_every_label_has_a_description_a_citation_and_a_reported_feature() -> None:
    assert list(LABELS) == list(FAMILIES) or sorted(LABELS) == sorted(FAMILIES)
    for label in FAMILIES:
        assert LABELS[label].description and LABELS[label].citation
        assert any(f.reported for f in FEATURES.values() if f.label == label)


@pytest.mark.parametrize("feature", list(FEATURES.values()), ids=lambda f: f.name)
def test_feature_names_carry_their_label_prefix_and_short_descriptions(feature) -> None:
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", feature.name)
    assert feature.name.startswith(feature.label.upper() + "_")
    assert 0 < len(feature.description) <= MAX_DESCRIPTION


def test_text_features_all_have_examples_both_ways() -> None:
    missing = [f.name for f in FEATURES.values() if f.kind == "text" and not (f.examples_hit and f.examples_miss)]
    assert missing == []


def test_the_cluster_features_of_the_lead_are_registered() -> None:
    for name in (
        "MASS_SHARE_AUTHORS_IN_WINDOW",
        "MASS_SHARE_CLUSTER_SIZE",
        "MASS_SHARE_PEAK_RATE",
        "MASS_SHARE_CLUSTER_ACCOUNTS",
        "MASS_SHARE_WINDOW_SHARE",
        "REPETITION_SAME_AUTHOR_COPIES",
    ):
        assert FEATURES[name].kind == "cluster"
    assert "MASS_SHARE_CLUSTER_SIZE" not in NAMES  # filled by the cluster stage, not here


_HIT = [(f.name, ex) for f in FEATURES.values() for ex in f.examples_hit]
_MISS = [(f.name, ex) for f in FEATURES.values() for ex in f.examples_miss]


@pytest.mark.parametrize(("feature", "text"), _HIT, ids=[f"{n}-hit-{t[:24]}" for n, t in _HIT])
def test_registry_example_hits(feature: str, text: str) -> None:
    assert hits({feature: np.array([_value(text, feature)])})[feature][0], f"{feature} should hit {text!r}"


@pytest.mark.parametrize(("feature", "text"), _MISS, ids=[f"{n}-miss-{t[:24]}" for n, t in _MISS])
def test_registry_example_misses(feature: str, text: str) -> None:
    assert not hits({feature: np.array([_value(text, feature)])})[feature][0], f"{feature} should miss {text!r}"


@pytest.mark.parametrize(
    "text",
    [
        "祝爸妈中秋快乐，想你们",
        "地震无情人有情，为灾区祈福",
        "just got my new headphones, love them",
        "Merry Christmas everyone, see you next year!",
        "早安，今天也要加油",
        "台风过境，大家注意安全",
        "are you free tonight? call me",
        "我妈在家做饭，叫我回去吃",
        "Black Friday haul! got 3 shirts for $20",
        "新年快乐！祝大家万事如意",
        "有没有人知道这个电话是谁的 13812345678",
        "I subscribed to her channel years ago, still love her songs",  # a fan, not a beggar
        "警方提醒：谨防刷单诈骗，切勿轻信",  # a warning names the scam and sells nothing
        "I invested $1000 in index funds last year",  # a sum put in, nothing boasted back
        "某企业因违规排污被罚款5万元",  # a fine in the news is no price
    ],
)
def test_hard_negatives_fire_no_label(text: str) -> None:
    ev = evaluate([text])
    assert {label: float(v[0]) for label, v in ev.labels.items() if v[0]} == {}
    assert ev.evidence == [[]]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("限时特价¥99，加V抢购", "soft_ad"),
        ("中秋特惠，月饼礼盒全场8折，详询13812345678", "holiday_template"),
        ("雾霾来袭！防霾口罩限时特价¥39", "hotspot_hijack"),
        ("宝妈在家月入过万，诚招代理，加微信", "microbusiness"),
        ("早安！新的一天从【XX咖啡】开始，今日第二杯半价", "chicken_soup"),
        ("Call 09061701461 now to claim your £900 prize", "soft_ad"),
        ("Subscribe to me if you like minecraft, I sub back!", "fan_farming"),
        ("新人求关注，互粉互赞", "fan_farming"),
        ("微博真人粉丝，快速涨粉，加V详聊", "fan_farming"),
        ("i invested $2000 and got $22 000 in a week, thank you @trader_jane", "microbusiness"),
        ("giving out $5000 to the first 10 people to dm me", "soft_ad"),
        ("请把租金汇款到这个账户：农行6228480012345678912 户名王亚", "soft_ad"),
        ("持续为您解决资金问题，办理大额信用卡，小黄13812345678", "soft_ad"),
    ],
)
def test_marketing_copy_fires_its_label(text: str, label: str) -> None:
    assert evaluate([text]).labels[label][0] == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an influencer answering her followers with the product and its link
        ("被问了好多次用的什么普洱，统一回复：悦享茶，https://t.cn/2P5xKUL",
         'soft_ad: link "https://t.cn/2P5xKUL"; testimonial "被问了好多次", "统一回复"'),
        ("So many of you asked what meal shakes I use: it's SlimLeaf https://rb.gy/kJvR4xW",
         'soft_ad: link "https://rb.gy/kJvR4xW"; testimonial "So many of you asked"'),
        ("Not an ad!! FreshBox snack box is that good, bought it 5 times now, link here https://shorturl.at/wE4JUuP",
         'soft_ad: link "https://shorturl.at/wE4JUuP"; call to action "link here"'),
        ("Been trying SlimLeaf meal shakes and I'm shocked how well it works. hit my DMs",
         'soft_ad: contact handle "hit my DMs"; testimonial "how well it works"'),
        # a price written after a comma is a price: "，169元" (the comma once hid the number)
        ("美妍坊眼霜补货啦，169元起，https://url.cn/dXKhvQH", 'soft_ad: price "169元"; link "https://url.cn/dXKhvQH"'),
        ("终于找到好用的面霜了，雪肌源的，199元，私信我", 'soft_ad: price "199元"; contact handle "私信我"; testimonial "终于找到好用的"'),
        # a code to type at checkout, a countdown in hours, a giveaway's deadline
        ("红茶礼盒换成悦享茶之后再也回不去了，下单记得用码DEAL45",
         'soft_ad: discount "用码DEAL45"; call to action "下单"; testimonial "再也回不去了"'),
        ("冰丝凉席直降，最后9小时", 'soft_ad: discount "直降"; urgency "最后9小时"'),
        ("Trending: Rare comet visible tonight. Repost to win a water filter, 6 winners, only 8 hours left",
         "urgency \"hours left\""),
        # the micro-business boasts: the car the business bought, the team, the promised income
        ("做防晒霜的第25天，已经提车了，感谢团队", 'microbusiness: income boast "提车"; recruiting "感谢团队"'),
        ("Day 55 of my lipstick business and I just paid off my car, thank you team",
         'microbusiness: income boast "paid off my car"; recruiting "thank you team"'),
        ("订购热线：18962806220，全场8折", 'soft_ad: discount "8折"; contact handle "订购热线", "18962806220"'),
        ("[图片][图片] 今天的收款截图，手都.收软了", 'microbusiness: income boast "收软"; proof screenshot "收款", "截图"'),
        ("一个月前我还在上班，现在每天在家带娃也能收入32300", 'microbusiness: income boast "也能收入"; work-from-phone pitch "在家带娃"'),
        ("感恩客户的信任，防晒霜今天又出了438套", 'microbusiness: sales boast "感恩客户", "又出了"; goods sold "438套"'),
        ("Another mom joined my team and made $2k in her first month",
         'microbusiness: income boast "in her first month"; recruiting "joined my team"'),
    ],
)
def test_influencer_and_micro_seller_copy_fires_with_its_evidence(text: str, expected: str) -> None:
    assert expected in "; ".join(reasons(evaluate([text]).evidence[0]))


@pytest.mark.parametrize(
    "text",
    [
        "我也被问了好多次，统一回复：不知道",  # answering friends, nothing to sell
        "净享家的净水器真的好用，自己买的，不是广告",  # a buyer's praise, however it insists
        "BioBalance probiotics is genuinely good, paid for it myself, not an ad, 10/10",
        "刚在超市买了鸡蛋，12元一盒",  # a price after a comma, and nothing else
        "感谢团队这一年的付出",  # a team thanked at work
        "今天提车了，开心",  # a person's new car
        "对不起各位，今天的蛋糕真的没货了",  # a bakery's notice: one sales word
        "my phone only has 2 hours left of battery",
        # a phone line named for what it is for is one contact, not also a call to action
        "咨询热线：18962806220",
        # at home is anyone's day, not a work-from-home pitch, even beside a link
        "奶奶又在家族群里发养生文章了 https://t.cn/UEZsZ2s",
        "自己在家做了煎饼果子，味道还行 https://t.cn/UEZsZ2s",
    ],
)
def test_one_selling_word_from_the_widened_lexicons_is_no_label(text: str) -> None:
    assert evaluate([text]).evidence == [[]]


@pytest.mark.parametrize(
    "text",
    [
        # rows that fired soft_ad before its lexicons were narrowed (cn_sms_spam_50k's ham, the
        # synthetic feed's news shares): a phone line alone, QQ Music's share card, a buyer's
        # membership, a call that came in, a bank's loans in the news, a deed done for free
        "联系电话：18583870670",
        "咨询电话：86178350",
        "击败了全国71%的人试听地址&gt",
        "只好花了20元在腾讯视频里注册了一个月的好莱坞会员才得以重温",
        "最近一段时间南京政府服务热线每天能接到4000个市民来电",
        "向xx家小微企业发放贷款xxxx万元、授信额度xxxx万元",
        "Retired teacher, 78, has tutored kids for free for 40 years https://herald-online.com/qo3sf9je7m",
        "wow. Retired teacher, 78, has tutored kids for free... https://herald-online.com/qo3sf9je7m",
        # the words the new handle spellings come from: prestige, idealism
        "这件事损害了政府的威信",
        "他是个唯心主义者",
        # Weibo's default account name in a repost chain is no QQ number
        "好有道理//@用户2097706736:求天津懂行的人讲讲细节 载人飞船成功发射 https://news.dushibao.com/9c42bar55f",
    ],
)
def test_rows_that_fired_soft_ad_on_ordinary_talk_fire_no_label(text: str) -> None:
    assert evaluate([text]).evidence == [[]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the spam those entries were kept for still fires (cn_sms_spam_50k, UCI SMS, YouTube)
        ("尊敬的各位会员：张家港国购x楼户外探路者，x月x日—x月x日，三天秋冬款全部x折。", 'customer address "各位会员"'),
        ("免费试听课，欢迎报名", 'call to action "免费试听"'),
        ("有意请来电详谈，工厂包吃住", 'call to action "有意请", "请来电", "来电详谈"'),
        ("Enjoy The Whole Film For Free On This Internet Site www.movies4u.com", 'discount "For Free"'),
        # WeChat spelled to dodge filters, and sex chat sold (cn_app_post_spam's dating ads)
        ("嗨加癓信hgb998无低限德聊", 'disguised handle "癓信"'),
        ("老公出差了自己一个人无聊中加我维信jug238今晚上等你哦", 'disguised handle "维信"'),
        ("免费裸聊微信bll372", 'discount "免费"; seller\'s voice "裸聊"'),
        # an international number written in groups, asked to text (the synthetic feed's seller)
        ("StarQuest starter pack straight from the factory, 50% off the second one, text +44 7700 900700",
         'call to action "text +44"'),
        ("Been trying TeaJoy jasmine tea and I'm shocked how well it works. text +1 (415) 555-2442",
         'phone/QQ number "+1 (415) 555-2442"; call to action "text +1"'),
        ("I've been using BioBalance multivitamins for a month, use my code LOVE35 at checkout",
         'call to action "use my code"'),
    ],
)
def test_spam_the_narrowed_entries_were_kept_for_still_fires_soft_ad(text: str, expected: str) -> None:
    found = "; ".join(reasons(evaluate([text]).evidence[0]))
    assert found.startswith("soft_ad: ") and expected in found, found


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        # platform mentions (QQ groups name a member by number; Instagram replies start with the
        # handle) are no way to reach a seller: 55 of QQ's 72 ham "contacts", 81 Instagram ham rows
        ("@2148273214 禁止引战、带节奏", 0.0),
        ("来吗@2987439282", 0.0),
        ("@sandra.m.joe made a comedian laugh, bucketlist", 0.0),
        # a number to call and an address with its name stay contacts
        ("有需要加我 2148273214", 1.0),
        ("i only haf msn. it's yijue@hotmail.com", 1.0),
    ],
)
def test_a_platform_mention_is_no_contact_an_address_is(text: str, contact: float) -> None:
    assert _value(text, "SOFT_AD_CONTACT") == contact


def test_delivery_to_the_door_is_no_work_from_home_pitch() -> None:
    # 足不出户送到家 sells a delivery (a hijack of the blizzard here), it recruits nobody
    ev = evaluate(["暴雪天气别出门，冰丝凉席9折，足不出户送到家，点击链接https://t.cn/B5JPbsj"])
    assert ev.labels["microbusiness"][0] == 0.0
    assert ev.labels["soft_ad"][0] == 1.0 and ev.labels["hotspot_hijack"][0] == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a story presented as trending is an event; selling in the same post hijacks it
        (
            "热搜第一：跨海高铁全线贯通，全场买一送一，点击链接",
            'hotspot_hijack: event "热搜第一" with promotion "买一送一", "点击链接"',
        ),
        # "$14 off" is a discount (money taken off), so it is selling
        ("smog outside? Stay safe with WarmNest masks, $14 off today", 'hotspot_hijack: event "smog" with promotion "$14 off"'),
        # an income pitch hung on a disaster sells too
        ("台风过后在家也能月入过万", 'hotspot_hijack: event "台风" with promotion "月入过万"'),
        # a sales boast that counts the goods sold
        ("SOLD OUT again! 465 boxes of face masks gone in hours", 'microbusiness: sales boast "SOLD OUT"; goods sold "465 boxes"'),
        ("红茶礼盒又卖断货了！今天到的289箱全部清空", 'microbusiness: sales boast "卖断货"; goods sold "289箱"'),
        # a sell-out with the day the next batch lands
        ("对不起各位，面膜真的没货了，下一批6号到", 'microbusiness: sales boast "没货了", "下一批"; restock day "下一批6号到"'),
        (
            "Sorry everyone, probiotics is completely gone, restock on the 3rd",
            'microbusiness: sales boast "completely gone", "restock"; restock day "restock on the 3rd"',
        ),
        # transfers from a business days old: the newcomer's boast
        (
            "[screenshot] today's transfers, started with raw honey just 6 days ago",
            'microbusiness: proof screenshot "screenshot", "today\'s transfers"; business days old "started with raw honey just 6 days ago"',
        ),
        ("石家庄发现千年古墓？这款面膜更值得关注，立即下单", 'hotspot_hijack: event "？这款面膜更值得关注" with promotion "立即下单"'),
        # the turn from a story to the product presents the story as news to hang on
        (
            "Baby panda born at Boston zoo? You know what else is news? PetalSkin serum, tap the link https://petalskin.com/p/1",
            'hotspot_hijack: event "You know what else is news" with promotion "tap the link", "https://petalskin.com/p/1"',
        ),
        ("Snowed in? Stay warm with WarmNest sneakers, 50% off the second one", 'hotspot_hijack: event "Snowed in" with promotion "50% off"'),
        # a greeting headed with its sender's name
        ("[PawPal morning] Every day is a second chance", 'chicken_soup: greeting signed "[PawPal morning]"'),
        # a bare greeting opening the post ("Morning |", "睡前｜")
        (
            "Morning | Keep going. Today's fruit box deal: 50% off the second one, https://cutt.ly/tZmpdy7",
            'chicken_soup: inspirational "Morning |", "Keep going" carrying "50% off", "https://cutt.ly/tZmpdy7"',
        ),
        ("睡前｜今天的努力是明天的底气。睡前下单鱼油明早送达", 'chicken_soup: inspirational "睡前｜", "努力" carrying "下单"'),
        # +V is 加V written with a plus sign
        ("招募团队合伙人，门槛低，+V wangwang1172", 'microbusiness: recruiting "招募", "合伙人"; pitch with contact "+V"'),
    ],
)
def test_a_rule_fires_with_its_evidence_sentence(text: str, expected: str) -> None:
    assert expected in reasons(evaluate([text]).evidence[0])


@pytest.mark.parametrize(
    "text",
    [
        "太原迎来暴雪，航班大面积取消。详情：https://news.example.com/gr3ci5vjy8",  # news shared with its link
        "这个消息刷屏了：杭州暴雨后出现双彩虹 https://www.example.cn/b46tvyop26",
        "I saved $5 off my bill lol",  # one discount alone is a bargain told, not an ad
        "本月提现的500元到账了",  # a person's own payment: money is no count of goods sold
        "the concert sold out in 5 minutes",
        "年销量突破100万辆",
        "薪资3700元，招聘司机",
        "gm everyone, coffee first",  # a greeting with nothing to sell
        "早安呀，窗外阳光很好",
        "下一批疫苗6号到",  # the restock words are no boast of their own
        "the store will restock on the 3rd",
        "超市通知：鸡蛋补货6号到",
        "Our bakery sold out today! Back in stock on the 21st",
        "Tickets sold out. The festival started 3 days ago.",
        "sold out, thank you! I restarted the shop 3 days ago",
        "I started running just 3 days ago",
        "Morning | traffic is awful today",  # an opening greeting with nothing to sell
        "Morning: markets open lower",
        "you know what else is news? my cat learned to sit",  # the turn with nothing to sell
        "比起股价涨跌，消费者权益更值得关注。点击链接阅读全文",  # no story asked before it
    ],
)
def test_near_misses_of_the_widened_rules_fire_no_label(text: str) -> None:
    assert evaluate([text]).evidence == [[]]


def test_reasons_quote_the_evidence_in_one_sentence_per_label() -> None:
    ev = evaluate(["限时特价¥99，加V抢购"]).evidence[0]
    assert reasons(ev) == ['soft_ad: price "¥99"; discount "特价"; disguised handle "加V"; call to action "抢购"; urgency "限时"']
    assert all(e.label == "soft_ad" and e.value >= 1 for e in ev)
    assert str(ev[0]) == 'soft_ad: price "¥99"'


def test_label_scores_take_an_array_with_names_or_a_mapping() -> None:
    X = ALL.transform(["限时特价¥99，加V抢购", "今天很开心"])
    by_array = label_scores(X, NAMES)
    by_mapping = label_scores({n: X[:, j] for j, n in enumerate(NAMES)})
    assert by_array["soft_ad"].tolist() == by_mapping["soft_ad"].tolist() == [1.0, 0.0]
    assert set(by_array) == set(FAMILIES)
    assert label_scores({"MASS_SHARE_AUTHORS_IN_WINDOW": np.array([7.0, 2.0])})["mass_share"].tolist() == [1.0, 0.0]


def test_label_scores_need_names_for_an_array() -> None:
    with pytest.raises(ConfigError, match="need 'names'"):
        label_scores(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="'names' has 2 entries but the values have 3 columns"):
        label_scores(np.zeros((2, 3)), ["A", "B"])


_FEATURE_VALUES = st.sampled_from([float("nan"), -3.0, -2.0, 0.0, 0.05, 0.1, 0.5, 0.8, 0.9, 1.0, 2.0, 3.0, 5.0, 14.0, 50.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(list(FEATURES)), min_size=1, max_size=len(FEATURES), unique=True),
    st.data(),
)
def test_rules_compiled_for_a_column_order_fire_exactly_as_each_condition_and_rule_says(
    names: list[str], data: st.DataObject
) -> None:
    """The compiled plan (one comparison per operator) hits where each feature's own condition
    does, NaN never; a label fires where all features of one of its rules hit, over any subset
    and order of the features."""
    from spamflood.criteria.rules import RULES

    rows = data.draw(st.integers(1, 4))
    matrix = np.array([[data.draw(_FEATURE_VALUES) for _ in names] for _ in range(rows)])
    plan = RULES.plan(names)
    hit = plan.hits(matrix)
    for j, name in enumerate(names):
        expected = [RULES.hits[name](np.array([v]))[0] and v == v for v in matrix[:, j]]
        assert hit[:, j].tolist() == expected, name
    fired = plan.fired(hit)
    for label, rules in RULES.labels.items():
        expected = [
            any(all(name in names and hit[r, names.index(name)] for name in rule) for rule in rules) for r in range(rows)
        ]
        assert fired[label].tolist() == expected, label
    assert {k: v.tolist() for k, v in label_scores(matrix, names).items()} == {
        k: [float(x) for x in v] for k, v in fired.items()
    }


def test_the_article_is_cited_by_its_title() -> None:
    assert ARTICLE.startswith("The crisis is coming!")


# ----------------------------------------------------------------------------- data files refused


def _write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ok\n\u200b\u200b\n", r"line 2: the term .* is empty after normalization"),
        ("ok\nbad\x01term\n", r"line 2: the term .* holds a control character"),
        ("ok\nmid*dle\n", r"line 2: '\*' may only end a term"),
        ("ok\na\tb\tc\n", r"line 2: expected 'term' or 'term<TAB>tag', got 2 tabs"),
        ("ok\nx\tsome_tag\n", r"line 2: this list takes no tags"),
        ("ok\n" + "x" * 70 + "\n", r"line 2: the term is 70 characters"),
        ("ok\nOK*\n", r"line 2: 'OK\*' normalizes to 'ok' like line 1"),
        ("# only a comment\n", r"has no entries"),
    ],
    ids=["empty", "control", "star", "tabs", "tag", "long", "duplicate", "no-entries"],
)
def test_a_corrupt_lexicon_is_refused_naming_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = _write(tmp_path, "broken.txt", content)
    with pytest.raises(ConfigError, match=f"broken.txt.*{message}"):
        load_lexicon(path)


def test_a_lexicon_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin1.txt", b"ok\n\xe9t\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1.txt, line 2: not valid UTF-8"):
        load_lexicon(path)


def test_tags_are_checked_against_the_allowed_set(tmp_path: Path) -> None:
    path = _write(tmp_path, "tagged.txt", "中秋\tmid_autumn\n圣诞\txmas_typo\n")
    with pytest.raises(ConfigError, match=r"tagged.txt, line 2: unknown tag 'xmas_typo'"):
        load_lexicon(path, tags={"mid_autumn", "christmas"})


def test_every_shipped_lexicon_loads() -> None:
    for path in sorted(LEXICON_DIR.glob("*.txt")):
        tags = None
        if path.stem == "holiday_names":
            from spamflood.criteria.festivals import FESTIVALS

            tags = FESTIVALS
        assert load_lexicon(path, tags=tags).terms


def test_a_corrupt_rules_file_is_refused(tmp_path: Path) -> None:
    good = (LEXICON_DIR / "rules.toml").read_text(encoding="utf-8")
    path = _write(tmp_path, "rules.toml", good.replace('SOFT_AD_PRICE = ">= 1"', 'SOFT_AD_PRICE = "about 1"'))
    with pytest.raises(ConfigError, match=r"rules.toml, \[hits\] SOFT_AD_PRICE: expected 'OP NUMBER'"):
        load_rules(path)
    path = _write(tmp_path, "rules.toml", good.replace('hotspot_hijack = [["HOTSPOT_HIJACK_PROMO"]]', 'hotspot_hijack = [["SOFT_AD_PRICE"]]'))
    with pytest.raises(ConfigError, match=r"'SOFT_AD_PRICE' is not a reported feature of hotspot_hijack"):
        load_rules(path)


def test_a_corrupt_registry_is_refused(tmp_path: Path) -> None:
    good = (LEXICON_DIR / "features.toml").read_text(encoding="utf-8")
    path = _write(tmp_path, "features.toml", good.replace('name = "SOFT_AD_PRICE"', 'name = "PRICE_SOFT_AD"'))
    with pytest.raises(ConfigError, match=r"the name must start with the label's prefix SOFT_AD_"):
        load_registry(path)
    path = _write(tmp_path, "features.toml", good + "\n[[feature\n")
    with pytest.raises(ConfigError, match=r"features.toml is not valid TOML"):
        load_registry(path)


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("monotone = 2", r"feature #1 \(MASS_SHARE_AUTHORS_IN_WINDOW\): 'monotone' must be 1, -1 or 0; got 2"),
        ("monotone = true", r"'monotone' must be 1, -1 or 0; got True"),
        ("model_input = 0", r"'model_input' must be true or false"),
        ("model_input = false", r"'monotone' constrains the model, which 'model_input = false' keeps it out of"),
    ],
)
def test_a_bad_monotone_or_model_input_key_is_refused_naming_the_feature(tmp_path: Path, key: str, match: str) -> None:
    good = (LEXICON_DIR / "features.toml").read_text(encoding="utf-8")
    first = 'description = "most accounts posting the copy in one window"\nmonotone = 1\n'
    assert first in good
    replaced = first.replace("monotone = 1", key) if key.startswith("monotone") else first + key + "\n"
    with pytest.raises(ConfigError, match=match):
        load_registry(_write(tmp_path, "features.toml", good.replace(first, replaced)))


def test_flood_evidence_is_declared_monotone_and_what_has_no_order_is_no_model_input() -> None:
    """Counts of accounts or copies sharing one text or template, and the share of a cluster's
    accounts inside one window, only ever count against a post. A long span says neither flood nor innocence, and the batch_accounts count is missing
    outside a cluster (MASS_SHARE_CLUSTER_ACCOUNTS counts the same, 0 there): the model reads
    neither. A coordinated group's accounts and co-posting occasions are flood evidence too; its
    pair and post counts repeat them and its span has no order, so they are not read. A contact
    handle spelled to dodge filters is no sign of innocence either (fitted on corpora where it
    shows on a few ham rows, an unconstrained model read it as one)."""
    monotone = {f.name for f in FEATURES.values() if f.monotone == 1}
    assert monotone == {
        "MASS_SHARE_AUTHORS_IN_WINDOW",
        "MASS_SHARE_CLUSTER_SIZE",
        "MASS_SHARE_PEAK_RATE",
        "MASS_SHARE_CLUSTER_ACCOUNTS",
        "MASS_SHARE_WINDOW_SHARE",
        "REPETITION_SAME_AUTHOR_COPIES",
        "HOLIDAY_TEMPLATE_SKELETON_SHARED",
        "COORDINATED_ACCOUNTS",
        "COORDINATED_COPOSTS",
        "SOFT_AD_EVASION",
    }
    assert not any(f.monotone == -1 for f in FEATURES.values())
    # the post's own account's batch evidence is a label rule only until the bundled model is
    # retrained on it; of coordination the model reads the group's accounts and co-posts; a
    # post's own :00 seconds only says which of a scheduling account's posts auto_posting lists;
    # which of its cluster's batch signs a post's own account carries are bits, not an order
    assert [f.name for f in FEATURES.values() if not f.model_input] == [
        "MASS_SHARE_CLUSTER_SPAN",
        "BATCH_ACCOUNTS_ACCOUNTS",
        "BATCH_ACCOUNTS_OWN_SIGNS",
        "BATCH_ACCOUNTS_ACCOUNT_BURST",
        "BATCH_ACCOUNTS_ACCOUNT_SIGN",
        "BATCH_ACCOUNTS_ACCOUNT_TWIN",
        "AUTO_POSTING_ON_THE_MINUTE",
        "COORDINATED_PAIRS",
        "COORDINATED_POSTS",
        "COORDINATED_SPAN",
    ]


# ----------------------------------------------------------------------------- matching


def _scanner(*terms: str, ids_follow: bool = False) -> Scanner:
    from spamflood.normalize import normalize

    normal = tuple(normalize(t.rstrip("*")) for t in terms)
    lx = Lexicon("t", normal, ("",) * len(terms), tuple(t.endswith("*") for t in terms), Path("t"), ids_follow)
    return Scanner([lx], {})


@pytest.mark.parametrize(
    ("terms", "text", "count"),
    [
        (("sale",), "wholesale prices", 0),
        (("sale",), "big sale today", 1),
        (("discount*",), "discounted prices", 1),
        (("618",), "6180 items", 0),
        (("618",), "618大促", 1),
        (("加v",), "快加v吧", 1),
        (("win",), "win7 laptop", 0),
        (("优惠", "大优惠"), "大优惠", 1),
    ],
    ids=["inside-word", "word", "prefix", "digits", "cjk-after", "cjk-inside", "digit-after", "nested"],
)
def test_latin_entries_match_whole_words_and_cjk_anywhere(terms: tuple[str, ...], text: str, count: int) -> None:
    scanner = _scanner(*terms)
    assert int(scanner.scan([text]).lists["t"][0]) == count
    assert len(scanner.matches(text)) == count


def test_handle_lists_allow_an_account_number_after_the_handle() -> None:
    assert _scanner("vx", ids_follow=True).scan(["vx123456"]).lists["t"][0] == 1
    assert _scanner("vx", ids_follow=True).scan(["vxabc"]).lists["t"][0] == 0
    assert _scanner("vx").scan(["vx123456"]).lists["t"][0] == 0


@given(st.text(alphabet="ab微信加v \ud800😀", max_size=30))
def test_the_automaton_finds_every_occurrence_of_every_term_overlaps_included(text: str) -> None:
    terms = ["a", "ab", "ba", "bab", "微信", "加微信", "信", "v", "😀a"]
    scanner = Scanner([Lexicon("t", tuple(terms), ("",) * len(terms), (False,) * len(terms), Path("t"), False)], {})
    found = sorted((scanner._keys[key], start, stop) for key, start, stop in scanner._find(text))
    expected = sorted(
        (term, i, i + len(term)) for term in terms for i in range(len(text)) if text.startswith(term, i)
    )
    assert found == expected


def test_a_scanner_survives_pickling_with_the_same_matches() -> None:
    import pickle

    from spamflood.criteria import soft_ad
    from spamflood.criteria.context import scanner_for

    scanner = scanner_for(soft_ad.LISTS, soft_ad.PATTERNS)
    text = "限时特价¥99，加微信抢购 big sale"
    copy = pickle.loads(pickle.dumps(scanner))
    assert copy.matches(text) == scanner.matches(text) and len(scanner.matches(text)) >= 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="限时特价抢购加vx微信 sale99元wholesale8折0123456789.\n¥", max_size=40), min_size=1, max_size=8))
def test_batch_counts_equal_per_text_matches(texts: list[str]) -> None:
    from spamflood.criteria import soft_ad
    from spamflood.criteria.context import scanner_for
    from spamflood.normalize import normalize_many

    scanner = scanner_for(soft_ad.LISTS, soft_ad.PATTERNS)
    normal = normalize_many(texts)
    scan = scanner.scan(normal, chunk=3)
    for i, text in enumerate(normal):
        per_text: dict[str, int] = {}
        for m in scanner.matches(text):
            per_text[m.source] = per_text.get(m.source, 0) + 1
        for name, counts in {**scan.lists, **scan.patterns}.items():
            assert counts[i] == per_text.get(name, 0), (name, text)


@pytest.mark.parametrize(
    "module", ["registry", "festivals", "rules", "evidence", "transformer", "holiday_template"]
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"spamflood.criteria.{module}"))
    assert result.attempted and not result.failed


def test_promotion_of_some_posts_equals_the_whole_batchs_at_those_posts():
    # holiday_template and chicken_soup sum the selling kinds for their own posts alone
    from spamflood import synth
    from spamflood.criteria import soft_ad
    from spamflood.criteria.compute import build_context

    texts = [post["text"] for post, _ in synth.generate(600, seed=5)] + ["限时特价¥99 加V mask8899", "got 3 shirts for $20"]
    rows = np.array([601, 3, 600, 17, 3], dtype=np.int64)
    apart = build_context(texts, None, ("soft_ad",))
    some = soft_ad.promotion(apart, rows)
    whole = soft_ad.promotion(build_context(texts, None, ("soft_ad",)))
    assert some.tolist() == whole[rows].tolist() and some[2] and not some[0]
    assert soft_ad.promotion(apart, rows[:0]).shape == (0,)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab1 -_.x官方暖绒坊", max_size=30),
    st.text(alphabet="abAB1 官方暖绒坊", min_size=1, max_size=8),
)
def test_sender_name_is_found_as_a_whole_word_of_the_matching_form(text: str, name: str) -> None:
    """The sender's name (matching form, ending cut) is found and masked where no letter or
    digit continues it: what the pattern (?<![a-z0-9])NAME(?![a-z0-9]) finds, left to right."""
    from spamflood.criteria.sender import _stem, sender_masked, sender_spans

    stem = _stem(name)
    rx = None if stem is None else re.compile(r"(?<![a-z0-9])" + re.escape(stem) + r"(?![a-z0-9])")
    assert sender_spans(text, name) == ([] if rx is None else [m.span() for m in rx.finditer(text)])
    assert sender_masked(text, name) == ((text, 0) if rx is None else rx.subn("\u0001", text))
