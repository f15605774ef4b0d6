"""Speed of ``normalize`` and ``shingle_text`` against plain NFKC + casefold, in one run.

Rates are posts per CPU second of this process (one core), the best of ``--repeat`` passes.
Builds a deterministic corpus of mixed Chinese/English posts (about 110 characters each, with
full-width punctuation, emoji, prices, links, mentions, some traditional characters and some
evasion), then prints posts/s for:

* the baseline ``unicodedata.normalize("NFKC", t).casefold()``,
* ``normalize``, ``shingle_text``, and ``shingle_text(normalized=True)`` of the normalized
  text (what a pipeline that needs both forms pays for the second one),
* ``normalize_many`` / ``shingle_many`` over the whole list,

with each one's ratio to the baseline, and saves the figures to
``benchmarks/results/normalize_speed.json``. Target: ``shingle_text`` >= 100k posts/s per core.

With ``--pool-posts N`` it also times, in wall-clock seconds, both forms of N posts spread
over ``--processes`` worker processes (the pipeline's "1M posts on 2 cores" question); wall
time counts whatever else the machine runs meanwhile.

    python benchmarks/normalize_speed.py [--posts 100000] [--seed 7] [--repeat 3]
        [--pool-posts 1000000 --processes 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))

from spamflood.normalize import (  # noqa: E402
    normalize,
    normalize_many,
    shingle_many,
    shingle_text,
)

ZH_HOOKS = [
    "限时特价！", "【双十一狂欢】", "新品上市，", "今日福利：", "朋友们看过来～", "震撼来袭！！",
    "年终大促，", "清仓甩卖：", "早安☀️ ", "好消息！", "限时特价！", "优惠活动，",
]
ZH_BODIES = [
    "全场商品一律五折，数量有限先到先得", "进口护肤套装原价￥399现价只要￥99", "加微信领取专属优惠券，名额只有100个",
    "今天下单立减五十元，全国包邮到家", "正品保证，假一赔十，七天无理由退换", "每天坚持一点点，成功就在不远处",
    "代理招募中，零投资零风险月入过万", "转发这条微博抽三位送新款手机", "会员专享价19.9元，再送精美礼品一份",
    "门市同步发售，数量有限售完即止", "关注我们获取更多优惠资讯", "春节不打烊，下单即送新春大礼包",
]
# Posts written in traditional characters (Hong Kong, Taiwan): a share of the Chinese posts.
ZH_TRADITIONAL = [
    "限時特價！全場商品一律五折，數量有限先到先得", "門市同步發售，數量有限售完即止", "關注我們獲取更多優惠資訊",
    "進口護膚套裝原價￥399現價只要￥99", "會員專享價19.9元，再送精美禮品一份", "轉發這條微博抽三位送新款手機",
]
ZH_CALLS = [
    "详情加V：abc{n}", "戳链接 http://t.cn/A6{n}x", "咨询电话138{n}", "点击 https://bit.ly/{n}q 立即抢购",
    "私信 @小美{n} 了解", "扫码加 微 信 {n}", "w.e.c.h.a.t：sh{n}", "加\u200b微\u200b信 {n}",
    "ＶＸ：ｋｋ{n}", "www.shop{n}.com 官网直达",
]
ZH_TAGS = ["", "", " #好物推荐#", " #双十一#", " @品牌官方", " 【转发有礼】"]
EMOJI = ["🔥", "🎁", "💰", "👉", "❤️", "✨", "🧧", "💯", "👍🏻", ""]
EN_POSTS = [
    "Big sale today only! Get 50% off all items at our store, free shipping on orders over $50.",
    "Just finished my morning run, feeling great. Who else is training for the marathon this year?",
    "Limited offer: buy one get one free, use code SAVE{n} at checkout http://bit.ly/s{n}",
    "I can't believe how good this new coffee place is. Highly recommend the latte and a "
    "croissant.",
    "Follow @deals{n} for more amazing offers every day. Don't miss out, prices go up at midnight!",
    "Work from home and earn $5000 a month, no experience needed. DM me for details now.",
]


def make_corpus(posts: int, seed: int) -> list[str]:
    """``posts`` texts, the same for the same seed: Chinese ads (52% simplified, 8% traditional),
    17% English, 15% Chinese and English mixed; about 110 characters on average."""
    rng = random.Random(seed)
    out = []
    for _ in range(posts):
        kind = rng.random()
        n = rng.randrange(1000, 99999)
        if kind < 0.52:
            parts = [
                rng.choice(ZH_HOOKS), rng.choice(ZH_BODIES), rng.choice(EMOJI), "，",
                rng.choice(ZH_BODIES), "！", rng.choice(ZH_BODIES), "，", rng.choice(ZH_BODIES),
                "。", rng.choice(ZH_CALLS).format(n=n), rng.choice(EMOJI), rng.choice(ZH_TAGS),
            ]
            text = "".join(parts)
        elif kind < 0.60:
            parts = [
                rng.choice(ZH_TRADITIONAL), rng.choice(EMOJI), "，", rng.choice(ZH_TRADITIONAL),
                "！", rng.choice(ZH_TRADITIONAL), "。", rng.choice(ZH_CALLS).format(n=n),
                rng.choice(EMOJI),
            ]
            text = "".join(parts)
        elif kind < 0.77:
            text = rng.choice(EN_POSTS).format(n=n)
            while len(text) < 120:
                text += " " + rng.choice(EN_POSTS).format(n=n)
        else:
            text = (
                rng.choice(ZH_HOOKS) + rng.choice(EN_POSTS).format(n=n)[:50] + " "
                + rng.choice(ZH_BODIES) + rng.choice(EMOJI) + "，" + rng.choice(ZH_BODIES)
                + rng.choice(ZH_CALLS).format(n=n) + rng.choice(ZH_TAGS)
            )
        out.append(text[:150])
    return out


# CPU time of this process: on a shared machine it measures what one core does, undisturbed by
# other processes that wall time would count.
clock = time.process_time


def rate(func: Callable[[str], object], corpus: list[str], repeat: int) -> float:
    """Best posts/s (per CPU second) of ``repeat`` passes of ``func`` over every text."""
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        for text in corpus:
            func(text)
        best = min(best, clock() - started)
    return len(corpus) / best


def rate_batch(func: Callable[[list[str]], object], corpus: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        func(corpus)
        best = min(best, clock() - started)
    return len(corpus) / best


def _both_forms(texts: list[str]) -> int:
    """Worker: both forms of a chunk (the tables are built once per process)."""
    forms = normalize_many(texts)
    return len(shingle_many(forms, normalized=True))


def pool_wall_time(posts: int, seed: int, processes: int) -> float:
    """Wall seconds for both forms of ``posts`` posts over ``processes`` worker processes."""
    import multiprocessing

    corpus = make_corpus(posts, seed)
    chunk = 20_000
    chunks = [corpus[i : i + chunk] for i in range(0, len(corpus), chunk)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_both_forms, [["warm up"]] * processes)
        started = time.perf_counter()
        done = sum(pool.map(_both_forms, chunks))
        elapsed = time.perf_counter() - started
    assert done == posts
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pool-posts", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)

    corpus = make_corpus(args.posts, args.seed)
    mean_len = sum(map(len, corpus)) / len(corpus)
    ascii_share = sum(t.isascii() for t in corpus) / len(corpus)

    started = time.perf_counter()
    normalize("warm up: 加载表")
    build_s = time.perf_counter() - started

    normalized = normalize_many(corpus)

    def baseline(t: str) -> str:
        return unicodedata.normalize("NFKC", t).casefold()

    figures = {
        "baseline_nfkc_casefold": rate(baseline, corpus, args.repeat),
        "normalize": rate(normalize, corpus, args.repeat),
        "shingle_text": rate(shingle_text, corpus, args.repeat),
        "shingle_text_normalized_true": rate(
            lambda t: shingle_text(t, normalized=True), normalized, args.repeat
        ),
        "normalize_many": rate_batch(normalize_many, corpus, args.repeat),
        "shingle_many": rate_batch(shingle_many, corpus, args.repeat),
    }
    base = figures["baseline_nfkc_casefold"]
    print(
        f"corpus: {len(corpus):,} posts, mean {mean_len:.0f} chars, {ascii_share:.0%} ASCII-only; "
        f"tables built in {build_s:.2f} s"
    )
    for name, value in figures.items():
        print(f"{name:28s} {value:12,.0f} posts/s   {value / base:5.2f}x baseline")
    both = 1 / (1 / figures["normalize"] + 1 / figures["shingle_text_normalized_true"])
    label = "both forms (normalize once)"
    print(f"{label:28s} {both:12,.0f} posts/s   {both / base:5.2f}x baseline")
    print(
        f"1M posts on 2 processes: shingling form alone about "
        f"{1e6 / figures['shingle_text'] / 2:.1f} s, both forms about {1e6 / both / 2:.1f} s"
    )

    pool = None
    if args.pool_posts:
        pool = pool_wall_time(args.pool_posts, args.seed, args.processes)
        print(
            f"both forms of {args.pool_posts:,} posts on {args.processes} processes: "
            f"{pool:.1f} s wall"
        )

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "normalize_speed.json"
    out.write_text(
        json.dumps(
            {
                "posts": len(corpus),
                "seed": args.seed,
                "mean_chars": round(mean_len, 1),
                "ascii_share": round(ascii_share, 3),
                "table_build_s": round(build_s, 3),
                "posts_per_s": {k: round(v) for k, v in figures.items()},
                "ratio_to_baseline": {k: round(v / base, 3) for k, v in figures.items()},
                "both_forms_posts_per_s": round(both),
                "pool": None
                if pool is None
                else {"posts": args.pool_posts, "processes": args.processes, "wall_s": round(pool, 2)},
                "python": platform.python_version(),
                "unicode": unicodedata.unidata_version,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
