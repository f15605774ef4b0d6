"""Features that need more than the text: festival dates, posting cadence, accounts, batches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.criteria import CriteriaFeatures, evaluate, reasons
from spamflood.criteria.festivals import (
    days_to,
    festival_date,
    load_festivals,
    qixi_date,
)
from spamflood.criteria.holiday_template import skeleton
from spamflood.errors import ConfigError
from spamflood.posts import Post, PostBatch

DAY = 86400.0


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _batch(rows: list[dict]) -> PostBatch:
    return PostBatch.from_posts(Post(id=str(i), **row) for i, row in enumerate(rows))


def _values(data, families: list[str], clusters=None, **params) -> dict[str, np.ndarray]:
    est = CriteriaFeatures(families=families, **params).fit()
    X = est.transform(data, clusters=clusters)
    return {name: X[:, j] for j, name in enumerate(est.get_feature_names_out())}


# ----------------------------------------------------------------------------- festival dates


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2006, "2006-07-31"), (2017, "2017-08-28"), (2023, "2023-08-22"), (2025, "2025-08-29"), (2026, "2026-08-19")],
)
def test_qixi_is_the_seventh_day_of_the_seventh_lunar_month(year: int, expected: str) -> None:
    # 2006 had a leap 7th month, 2025 a leap 6th: Qixi falls in the regular 7th month
    assert qixi_date(year).isoformat() == expected


@pytest.mark.parametrize(
    ("key", "year", "expected"),
    [
        ("spring_festival", 2026, "2026-02-17"),
        ("lantern", 2026, "2026-03-03"),
        ("mid_autumn", 2026, "2026-09-25"),
        ("dragon_boat", 2026, "2026-06-19"),
        ("mothers_day", 2026, "2026-05-10"),
        ("thanksgiving", 2026, "2026-11-26"),
        ("black_friday", 2026, "2026-11-27"),
        ("double_11", 2026, "2026-11-11"),
        ("national_day", 2026, "2026-10-01"),
    ],
)
def test_festival_dates_come_from_the_holidays_package(key: str, year: int, expected: str) -> None:
    assert festival_date(key, year).isoformat() == expected


def test_days_to_takes_the_nearest_occurrence_signed() -> None:
    assert days_to("mid_autumn", date(2026, 9, 23)) == (2, date(2026, 9, 25))
    assert days_to("mid_autumn", date(2026, 9, 27)) == (-2, date(2026, 9, 25))
    assert days_to("christmas", date(2027, 1, 2)) == (-8, date(2026, 12, 25))


def test_unknown_festival_and_bad_rules_are_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="Unknown festival 'xmas'"):
        festival_date("xmas", 2026)
    path = tmp_path / "festivals.toml"
    path.write_text('[oops]\nname = "Oops"\nname_zh = "哎"\nrule = "fixed:2-30"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[oops\]: rule 'fixed:2-30' is not one of"):
        load_festivals(path)


def test_days_to_the_named_festival_from_the_post_time() -> None:
    texts = ["中秋特惠，月饼礼盒全场8折，详询13812345678", "中秋特惠，月饼礼盒全场8折", "今天吃什么"]
    batch = _batch(
        [
            {"text": texts[0], "author": "a", "time": _epoch("2026-09-23T10:00:00")},
            {"text": texts[1], "author": "b", "time": float("nan")},
            {"text": texts[2], "author": "c", "time": _epoch("2026-09-23T10:00:00")},
        ]
    )
    v = _values(batch, ["holiday_template"])
    assert v["HOLIDAY_TEMPLATE_DAYS_TO"][0] == 2.0
    assert np.isnan(v["HOLIDAY_TEMPLATE_DAYS_TO"][1:]).all()  # no time / no festival
    ev = evaluate(batch, families=["holiday_template"]).evidence[0]
    assert [
        'holiday_template: festival "中秋" with promotion "特惠", "8折"; "中秋" 2 days before Mid-Autumn Festival (2026-09-25)'
    ] == reasons(ev)


def test_local_time_zone_moves_the_day() -> None:
    # 2026-09-24 20:00 UTC is already 09-25 in Shanghai: the festival day itself
    batch = _batch([{"text": "中秋特惠8折", "author": "a", "time": _epoch("2026-09-24T20:00:00")}])
    assert _values(batch, ["holiday_template"])["HOLIDAY_TEMPLATE_DAYS_TO"][0] == 1.0
    assert _values(batch, ["holiday_template"], tz="Asia/Shanghai")["HOLIDAY_TEMPLATE_DAYS_TO"][0] == 0.0


# ----------------------------------------------------------------------------- template skeletons


def test_skeleton_masks_brands_numbers_and_links() -> None:
    a = skeleton("[小米]祝您中秋快乐!全场8折 https://t.cn/a")
    b = skeleton("[华为]祝您中秋快乐!全场7折 https://t.cn/b")
    assert a == b and a[1] >= 3
    assert skeleton("招商银行祝您中秋快乐")[0] == skeleton("苏宁易购商城祝您中秋快乐")[0] == skeleton("xx银行祝您中秋快乐")[0]
    assert skeleton("祝您中秋快乐")[1] == 0


def test_a_festival_template_shared_by_several_accounts() -> None:
    brands = ["小米", "华为", "格力", "美的"]
    rows = [{"text": f"【{b}】祝您中秋快乐，阖家团圆！全场{i + 6}折", "author": f"shop{i}", "time": 0.0} for i, b in enumerate(brands)]
    rows.append({"text": "祝爸妈中秋快乐，想你们", "author": "me", "time": 0.0})
    v = _values(_batch(rows), ["holiday_template"])
    assert v["HOLIDAY_TEMPLATE_SKELETON_SHARED"].tolist() == [4.0, 4.0, 4.0, 4.0, 1.0]
    assert np.isnan(_values([r["text"] for r in rows], ["holiday_template"])["HOLIDAY_TEMPLATE_SKELETON_SHARED"]).all()


def test_brands_signing_one_festival_greeting_with_their_own_names_share_a_template() -> None:
    # no bracket, no shop ending, no number: the only slot is the sender's own name
    senders = [("暖绒坊官方", "暖绒坊"), ("学霸通官方微博", "学霸通"), ("星途游戏", "星途游戏")]
    rows = [{"text": f"新春快乐｜{brand}祝您新年大吉，阖家欢乐", "author": f"b{i}", "author_name": name, "time": 0.0}
            for i, (name, brand) in enumerate(senders)]
    rows += [{"text": f"{b} wishes you luck and joy this Spring Festival", "author": f"e{i}",
              "author_name": f"{b} Official", "time": 0.0} for i, b in enumerate(["ClearSpring", "VitaCore", "AirPure"])]
    rows.append({"text": "新春快乐｜小王祝您新年大吉，阖家欢乐", "author": "me", "author_name": "王大锤", "time": 0.0})
    v = _values(_batch(rows), ["holiday_template"])
    assert v["HOLIDAY_TEMPLATE_SKELETON_SHARED"].tolist() == [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 1.0]
    ev = evaluate(_batch(rows), families=["holiday_template"]).evidence
    assert "the same festival template from 3 accounts (3 posts)" in reasons(ev[0])[0]
    assert not reasons(ev[-1])


def test_a_brand_account_named_for_its_customer_service_or_store_signs_with_the_brand() -> None:
    # "净享家客服", "SnackNest Store", "GeekPalHQ" sign their greetings "净享家", "SnackNest",
    # "GeekPal": the ending is cut before the name is looked for, so the copies share a skeleton
    rows = [{"text": f"春节｜{brand}愿你被温柔以待", "author": f"b{i}", "author_name": name, "time": 0.0}
            for i, (name, brand) in enumerate([("净享家客服", "净享家"), ("茶语轩客服中心", "茶语轩"), ("潮衣阁", "潮衣阁")])]
    rows += [{"text": f"{brand} wishes you luck and joy this Lunar New Year", "author": f"e{i}", "author_name": name, "time": 0.0}
             for i, (name, brand) in enumerate([("SnackNest Store", "SnackNest"), ("GeekPalHQ", "GeekPal"), ("CleanNest_official", "CleanNest")])]
    v = _values(_batch(rows), ["holiday_template"])
    assert v["HOLIDAY_TEMPLATE_SKELETON_SHARED"].tolist() == [3.0] * 6
    assert evaluate(_batch(rows), families=["holiday_template"]).labels["holiday_template"].tolist() == [1.0] * 6


def test_a_brand_signing_its_name_on_a_disaster_hijacks_it_a_person_does_not() -> None:
    rows = [
        {"text": "杭州台风，暖绒坊与你同在", "author": "b", "author_name": "暖绒坊官方", "time": 0.0},
        {"text": "VitaCore stands with Houston after the flood", "author": "v", "author_name": "VitaCore", "time": 0.0},
        {"text": "杭州台风，大家注意安全", "author": "p", "author_name": "暖绒坊官方", "time": 0.0},
        {"text": "杭州台风，小王在家很安全", "author": "w", "author_name": "王大锤", "time": 0.0},
        {"text": "热搜第一：高铁通车，转发抽3人送耳机", "author": "s", "author_name": "someone", "time": 0.0},
    ]
    v = _values(_batch(rows), ["hotspot_hijack"])
    assert v["HOTSPOT_HIJACK_PROMO"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]
    ev = evaluate(_batch(rows), families=["hotspot_hijack"]).evidence
    assert reasons(ev[0]) == ['hotspot_hijack: event "台风" signed by its sender "暖绒坊"']
    assert reasons(ev[1]) == ['hotspot_hijack: event "flood" signed by its sender "VitaCore"']
    assert reasons(ev[4]) == ['hotspot_hijack: event "热搜第一" with promotion "转发抽"']
    # without author names nothing is signed
    assert _values([r["text"] for r in rows], ["hotspot_hijack"])["HOTSPOT_HIJACK_PROMO"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]



# ----------------------------------------------------------------------------- cadence


def test_a_scheduler_posts_at_regular_gaps_on_the_minute() -> None:
    start = _epoch("2026-03-01T08:00:00")
    bot = [{"text": f"post {i}", "author": "bot", "time": start + i * 3600.0} for i in range(24)]
    rng = np.random.default_rng(3)
    human_times = start + np.sort(rng.uniform(0, 5 * DAY, 8))
    human = [{"text": f"hi {i}", "author": "me", "time": float(t)} for i, t in enumerate(human_times)]
    few = [{"text": "once", "author": "rare", "time": start + 17.0}]
    v = _values(_batch(bot + human + few), ["auto_posting"])
    assert v["AUTO_POSTING_GAP_CV"][0] == pytest.approx(0.0)
    assert v["AUTO_POSTING_ZERO_SECONDS"][0] == 1.0
    assert v["AUTO_POSTING_ROUND_MINUTE"][0] == 1.0
    assert v["AUTO_POSTING_DAILY_PEAK"][0] == 16.0  # 08:00..23:00 on the first day
    assert v["AUTO_POSTING_GAP_CV"][24] > 0.3
    assert v["AUTO_POSTING_POSTS"][-1] == 1.0 and np.isnan(v["AUTO_POSTING_GAP_CV"][-1])
    ev = evaluate(_batch(bot), families=["auto_posting"]).evidence[0]
    assert "auto_posting: account bot posts at near-constant gaps (variation 0%)" in reasons(ev)[0]


def test_a_daily_post_by_hand_is_not_a_clock_though_its_day_long_gaps_vary_little() -> None:
    # "good night" by hand around 22:52 every evening: gaps of a day varying by minutes (a
    # variation under 0.1 of a day allows 2.4 h); a scheduler's gaps vary by seconds
    start = _epoch("2026-03-01T14:52:00")
    rng = np.random.default_rng(5)
    by_hand = [{"text": f"good night {i}", "author": "me", "time": start + i * DAY + float(rng.integers(-200, 300))} for i in range(12)]
    clock = [{"text": f"good night {i}", "author": "bot", "time": start + 3.0 + i * DAY} for i in range(12)]
    v = _values(_batch(by_hand + clock), ["auto_posting"])
    assert v["AUTO_POSTING_GAP_CV"][0] < 0.01 and v["AUTO_POSTING_GAP_SPREAD"][0] > 60
    assert v["AUTO_POSTING_GAP_SPREAD"][12] == 0.0
    labels = evaluate(_batch(by_hand + clock), families=["auto_posting"]).labels["auto_posting"]
    assert not labels[:12].any() and labels[12:].all()
    ev = evaluate(_batch(clock), families=["auto_posting"]).evidence[0]
    assert reasons(ev) == ["auto_posting: account bot posts at near-constant gaps (variation 0%); its gaps vary by 0 s"]


def test_a_person_posting_sixty_times_in_a_day_is_no_clock_by_volume_alone() -> None:
    start = _epoch("2026-03-01T00:00:00")
    rng = np.random.default_rng(11)
    times = start + np.sort(rng.uniform(0, DAY, 60)).round(1)  # irregular gaps, seconds anywhere
    heavy = [{"text": f"chat {i}", "author": "talker", "time": float(t)} for i, t in enumerate(times)]
    v = _values(_batch(heavy), ["auto_posting"])
    assert v["AUTO_POSTING_DAILY_PEAK"][0] >= 50 and v["AUTO_POSTING_GAP_CV"][0] > 0.3
    assert not evaluate(_batch(heavy), families=["auto_posting"]).labels["auto_posting"].any()


def test_times_without_seconds_say_nothing_about_zero_seconds() -> None:
    rows = [{"text": "x", "author": "a", "time": 1_700_000_040.0 + 60.0 * 7 * i} for i in range(6)]
    assert np.isnan(_values(_batch(rows), ["auto_posting"])["AUTO_POSTING_ZERO_SECONDS"]).all()


def _cadence_feed(minute_only: int, with_seconds: int, *, bot: bool = False, seed: int = 0) -> list[dict]:
    """Ordinary accounts posting 8 times at irregular moments over five days, some exported to
    the minute (every time at :00 seconds), the rest with seconds; ``bot``: one more account on
    exact minutes (never on the quarter hour, at irregular gaps) that only its seconds betray."""
    rng = np.random.default_rng(seed)
    start = _epoch("2026-03-01T00:00:00")
    rows = []
    for k in range(minute_only + with_seconds):
        for t in start + np.sort(rng.uniform(0, 5 * DAY, 8)):
            rows.append({"text": f"note {k}", "author": f"person{k}", "time": float(t // 60 * 60 if k < minute_only else t)})
    if bot:
        for j, gap in enumerate(rng.integers(20, 200, 12).cumsum()):
            minute = int(gap) if int(gap) % 15 else int(gap) + 1
            rows.append({"text": f"offer {j}", "author": "scheduler", "time": start + 60.0 * minute})
    return rows


def _auto_posting_fired(rows: list[dict]) -> set[str]:
    ev = evaluate(_batch(rows), families=["auto_posting"]).evidence
    return {rows[i]["author"] for i, e in enumerate(ev) if any(r.startswith("auto_posting") for r in reasons(e))}


@pytest.mark.parametrize(
    ("minute_only", "with_seconds"),
    [pytest.param(30, 0, id="minute-precision-export"), pytest.param(12, 18, id="mixed-precision-export")],
)
def test_times_at_whole_minutes_in_an_export_without_seconds_are_no_clock(minute_only, with_seconds) -> None:
    # Weibo shows many posts to the minute: such an account's :00 seconds are the export's, not a scheduler's
    rows = _cadence_feed(minute_only, with_seconds)
    assert _auto_posting_fired(rows) == set()
    values = _values(_batch(rows), ["auto_posting"])
    assert np.isnan(values["AUTO_POSTING_ZERO_SECONDS"][: 8 * minute_only]).all()


def test_exact_minutes_betray_the_one_account_of_an_export_that_keeps_seconds() -> None:
    rows = _cadence_feed(0, 12, bot=True)
    assert _auto_posting_fired(rows) == {"scheduler"}
    values = _values(_batch(rows), ["auto_posting"])
    assert values["AUTO_POSTING_ZERO_SECONDS"][-1] == 1.0 and values["AUTO_POSTING_ROUND_MINUTE"][-1] == 0.0
    assert np.nanmax(values["AUTO_POSTING_ZERO_SECONDS"][:-12]) < 0.5


def test_an_account_that_schedules_half_of_its_posts_is_auto_posting() -> None:
    # a brand's software posts at 07:30:00 every morning; the rest it posts by hand, with seconds.
    # A person lands on :00 seconds once in 60 posts; half of them there is the scheduler's doing.
    rows = _cadence_feed(0, 12, seed=4)
    start = _epoch("2026-03-01T07:30:00")
    rng = np.random.default_rng(5)
    for d in range(6):
        rows.append({"text": f"早安 {d}", "author": "brand", "time": start + d * DAY})
        rows.append({"text": f"新品 {d}", "author": "brand", "time": start + d * DAY + float(rng.uniform(3600, 36000))})
    assert _auto_posting_fired(rows) == {"brand"}
    assert _values(_batch(rows), ["auto_posting"])["AUTO_POSTING_ZERO_SECONDS"][-1] == pytest.approx(0.5, abs=0.09)


def test_a_brand_that_schedules_a_few_of_its_posts_is_auto_posting_on_those_posts_only() -> None:
    # a brand account's software posts its 23:00:00 good-night greeting on 4 days; its 22 other
    # posts (festival greetings, promotions) are typed by hand, with seconds. 4 of 26 posts on :00
    # seconds is no person's chance (1 in 60 a post); the label goes on the 4 scheduled posts only
    rows = _cadence_feed(0, 12, seed=6)
    start = _epoch("2026-03-01T23:00:00")
    rng = np.random.default_rng(7)
    brand = [{"text": f"晚安 {d}", "author": "brand", "time": start + d * DAY} for d in range(4)]
    brand += [{"text": f"新品 {k}", "author": "brand", "time": start + float(rng.uniform(60, 9 * DAY)) // 60 * 60 + 17}
              for k in range(22)]
    ev = evaluate(_batch(rows + brand), families=["auto_posting"])
    fired = ev.labels["auto_posting"][len(rows):]
    assert fired.tolist() == [1.0] * 4 + [0.0] * 22
    assert ev.labels["auto_posting"][: len(rows)].sum() == 0
    assert "this post at exactly :00 seconds, as 4 of account brand's are" in reasons(ev.evidence[len(rows)])[0]


def test_a_person_with_one_post_on_the_whole_minute_is_no_scheduler() -> None:
    # among a person's 6 posts one lands on :00 seconds, as one in 60 does: a share of 17%, one post
    rows = _cadence_feed(0, 12, seed=8)
    start = _epoch("2026-03-02T10:00:00")
    minutes = (0, 95, 260, 1700, 2900, 4410)  # irregular gaps, at 13 seconds past but one
    rows += [{"text": f"hi {k}", "author": "me", "time": start + 60.0 * m + (0 if k == 2 else 13)} for k, m in enumerate(minutes)]
    values = _values(_batch(rows), ["auto_posting"])
    assert values["AUTO_POSTING_ZERO_SECONDS"][-1] == pytest.approx(1 / 6)
    assert values["AUTO_POSTING_ON_THE_MINUTE"][-4] == 1.0
    assert _auto_posting_fired(rows) == set()


def test_chicken_soup_at_the_same_minute_every_day() -> None:
    start = _epoch("2026-03-01T07:00:05")
    rows = [{"text": "早安！每一天都充满正能量", "author": "brand", "time": start + d * DAY + d} for d in range(5)]
    rows.append({"text": "早安", "author": "me", "time": start + 3 * 3600})
    v = _values(_batch(rows), ["chicken_soup"])
    assert v["CHICKEN_SOUP_FIXED_TIME"].tolist() == [5.0] * 5 + [1.0]
    assert evaluate(_batch(rows), families=["chicken_soup"]).labels["chicken_soup"].tolist() == [1.0] * 5 + [0.0]


def test_a_bare_opening_greeting_is_soup_only_with_a_brand_or_an_offer_never_by_its_minute() -> None:
    # a person's "Morning." and "早，" at 07:00 every day is chat; the same opening with an offer is soup
    start = _epoch("2026-03-01T07:00:05")
    chat = ["Morning. Stocks open lower", "Morning, team. Standup moved", "早，到公司了", "Morning. Long shift ahead"]
    rows = [{"text": text, "author": "me", "time": start + d * DAY} for d, text in enumerate(chat)]
    rows.append({"text": "Morning | Keep going. Today's fruit box deal: 50% off", "author": "shop", "time": start})
    v = _values(_batch(rows), ["chicken_soup"])
    assert v["CHICKEN_SOUP_GREETING"].tolist() == [1.0] * 5
    assert v["CHICKEN_SOUP_FIXED_TIME"].tolist()[:4] == [0.0] * 4
    assert evaluate(_batch(rows), families=["chicken_soup"]).labels["chicken_soup"].tolist() == [0.0] * 4 + [1.0]


# ----------------------------------------------------------------------------- accounts


def _accounts(n: int, *, bought: bool) -> list[dict]:
    created = _epoch("2026-01-10T00:00:00")
    rows = []
    for i in range(n):
        rows.append(
            {
                "text": "限时特价¥99，加V抢购",
                "author": f"u{i}",
                "time": created + 5 * DAY + i,
                "author_name": f"lucky_shop{1000 + i}" if bought else ["Ann", "Bo Li", "kai", "雪儿", "Tom"][i % 5],
                "author_bio": "" if bought else ["teacher", "爱猫", "runner", "photos", "dad"][i % 5],
                "author_created": created + i * 60.0 if bought else created - (i + 1) * 400 * DAY,
                "followers": 2.0 if bought else 300.0 + i,
                "following": 900.0 if bought else 200.0,
            }
        )
    return rows


def test_accounts_made_in_a_batch() -> None:
    batch = _batch(_accounts(6, bought=True) + _accounts(5, bought=False))
    clusters = np.array([0] * 6 + [1] * 5)
    v = _values(batch, ["batch_accounts"], clusters=clusters)
    assert v["BATCH_ACCOUNTS_ACCOUNTS"].tolist() == [6.0] * 6 + [5.0] * 5
    for name in (
        "BATCH_ACCOUNTS_NAME_TEMPLATE",
        "BATCH_ACCOUNTS_CREATED_CLOSE",
        "BATCH_ACCOUNTS_EMPTY_PROFILE",
        "BATCH_ACCOUNTS_FOLLOW_RATIO",
        "BATCH_ACCOUNTS_YOUNG",
    ):
        assert v[name][:6].tolist() == [1.0] * 6, name
        assert v[name][6:].tolist() == [0.0] * 5, name
    ev = evaluate(batch, clusters, families=["batch_accounts"])
    assert ev.labels["batch_accounts"].tolist() == [1.0] * 6 + [0.0] * 5
    assert "100% of the cluster's 6 accounts have templated names (stem + digits)" in reasons(ev.evidence[0])[0]


def test_account_features_are_nan_without_clusters_or_fields() -> None:
    batch = _batch(_accounts(4, bought=True))
    assert np.isnan(_values(batch, ["batch_accounts"])["BATCH_ACCOUNTS_NAME_TEMPLATE"]).all()
    bare = _batch([{"text": "x", "author": f"u{i}", "time": 0.0} for i in range(4)])
    v = _values(bare, ["batch_accounts"], clusters=[0, 0, 0, -1])
    assert v["BATCH_ACCOUNTS_ACCOUNTS"][:3].tolist() == [3.0] * 3 and np.isnan(v["BATCH_ACCOUNTS_ACCOUNTS"][3])
    assert np.isnan(v["BATCH_ACCOUNTS_NAME_TEMPLATE"]).all() and np.isnan(v["BATCH_ACCOUNTS_FOLLOW_RATIO"]).all()


def test_clusters_can_come_from_the_batch() -> None:
    batch = _batch([{**row, "extra": {"cluster": 0}} for row in _accounts(3, bought=True)])
    assert _values(batch, ["batch_accounts"])["BATCH_ACCOUNTS_NAME_TEMPLATE"].tolist() == [1.0] * 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3), st.sampled_from([0, 1, 2, 719, 1438, 1439]), st.booleans()), max_size=20))
def test_chicken_soup_fixed_time_counts_the_days_an_author_posted_soup_at_the_minute_or_beside_it(
    posts: list[tuple[str, int, int, bool]],
) -> None:
    # per soup post: over the minute before, the minute and the minute after (round the clock),
    # the distinct days on which its author posted soup at that minute
    day0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    texts = {True: "早安！每一天都充满正能量", False: "今天去超市买了点水果"}
    batch = PostBatch.from_posts(
        [Post(id=str(k), text=texts[soup], author=a, time=day0 + 86400 * d + 60 * m + 7) for k, (a, d, m, soup) in enumerate(posts)]
    )
    got = evaluate(batch, families=["chicken_soup"]).column("CHICKEN_SOUP_FIXED_TIME") if posts else np.zeros(0)
    days = {(a, m, d) for a, d, m, soup in posts if soup}
    expected = [
        sum(len({d2 for a2, m2, d2 in days if a2 == a and m2 == (m + dm) % 1440}) for dm in (-1, 0, 1)) if soup else 0
        for a, _d, m, soup in posts
    ]
    assert got.tolist() == [float(x) for x in expected]
