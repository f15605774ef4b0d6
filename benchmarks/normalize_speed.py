"""Speed of the normalization forms: the one-at-a-time reference against the batch loop.

Rates are posts per CPU second of this process (one core), the best of ``--repeat`` passes.
Builds a deterministic corpus of mixed Chinese/English posts (about 110 characters each, with
full-width punctuation, emoji, prices, links, mentions, some traditional characters and some
evasion), then prints posts/s for, all in the same run:

* the yardstick ``unicodedata.normalize("NFKC", t).casefold()``;
* the reference (the pure-Python path, one text at a time, which ``normalize`` and
  ``shingle_text`` still use): the matching form, the shingling form of it
  (``normalized=True``), both of them, and the shingling form of the raw text;
* the batch path: ``normalize_many``, ``shingle_many(forms, normalized=True)``, the two in a
  row (what the detector runs today), ``normalize_and_shingle_many`` (both in one pass),
  ``normalize_and_shingle_codes`` (shingling forms as code points for MinHash),
  ``shingle_many`` and ``shingle_codes`` of the raw texts;

each with its ratio to the matching reference figure. It checks that the batch path gives the
reference's output on the corpus, reports the share of posts the loop hands to the reference,
the loop's first-call time with numba's cache (a warm start) and, unless ``--no-cold``, without
it (a cold compile, in a subprocess with an empty cache), and saves the figures to
``benchmarks/results/normalize_speed.json``. Target: both forms >= 200k posts/s per core.

With ``--pool-posts N`` it also times, in wall-clock seconds, both forms of N posts spread
over ``--processes`` worker processes; wall time counts whatever else the machine runs.

    python benchmarks/normalize_speed.py [--posts 100000] [--seed 7] [--repeat 3] [--no-cold]
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

from spamflood import normalize as nz  # noqa: E402

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


def rate(func: Callable[[list[str]], object], corpus: list[str], repeat: int) -> float:
    """Best posts/s (per CPU second) of ``repeat`` passes of ``func`` over the whole corpus."""
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        func(corpus)
        best = min(best, clock() - started)
    return len(corpus) / best


def each(one: Callable[[str], object]) -> Callable[[list[str]], list[object]]:
    return lambda texts: [one(t) for t in texts]


def _both_forms(texts: list[str]) -> int:
    """Worker: both forms of a chunk (the tables are built once per process)."""
    _forms, shingles = nz.normalize_and_shingle_many(texts)
    return len(shingles)


def pool_wall_time(posts: int, seed: int, processes: int) -> float:
    """Wall seconds for both forms of ``posts`` posts over ``processes`` worker processes."""
    import multiprocessing

    corpus = make_corpus(posts, seed)
    chunk = 20_000
    chunks = [corpus[i : i + chunk] for i in range(0, len(corpus), chunk)]
    nz.warm_up()  # before the fork: every worker starts with the tables and the loop
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        started = time.perf_counter()
        done = sum(pool.map(_both_forms, chunks))
        elapsed = time.perf_counter() - started
    assert done == posts
    return elapsed


_FIRST_CALL = """
import time
started = time.perf_counter()
from spamflood import normalize as nz
imported = time.perf_counter()
nz.warm_up()
print(imported - started, time.perf_counter() - imported)
"""


def first_call_seconds(cold: bool) -> float:
    """Seconds of a fresh process's first batch call (tables built, loop loaded or compiled).

    ``cold``: with an empty numba cache, so the loop is compiled (what a new machine pays once).
    """
    import os
    import subprocess
    import tempfile

    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_CALL], env=env, cwd=HERE.parent, check=True,
            capture_output=True, text=True,
        ).stdout.split()
    return float(out[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cold", action="store_true", help="skip timing a cold compile")
    parser.add_argument("--pool-posts", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)

    corpus = make_corpus(args.posts, args.seed)
    mean_len = sum(map(len, corpus)) / len(corpus)
    ascii_share = sum(t.isascii() for t in corpus) / len(corpus)

    warm_s = first_call_seconds(cold=False)
    cold_s = None if args.no_cold else first_call_seconds(cold=True)
    nz.warm_up()

    # The batch path must give the reference's output; and how much of it is the loop's own.
    ref_forms = [nz._normalize_reference(t) for t in corpus]
    ref_shingles = [nz._shingle_reference(f, normalized=True) for f in ref_forms]
    forms, shingles = nz.normalize_and_shingle_many(corpus)
    assert forms == ref_forms and shingles == ref_shingles, "batch path differs from reference"
    assert nz.shingle_many(corpus) == [nz._shingle_reference(t) for t in corpus]
    kernel = nz._kernel()
    handed_over = len(nz._run_chunk(kernel, corpus, kernel.modes[0]).redo) / len(corpus)

    def ref_pair(texts: list[str]) -> None:
        for text in texts:
            nz._shingle_reference(nz._normalize_reference(text), normalized=True)

    def batch_pair(texts: list[str]) -> None:
        nz.shingle_many(nz.normalize_many(texts), normalized=True)

    r = args.repeat
    reference = {
        "normalize": rate(each(nz._normalize_reference), corpus, r),
        "shingle_normalized": rate(
            each(lambda f: nz._shingle_reference(f, normalized=True)), ref_forms, r
        ),
        "both_forms": rate(ref_pair, corpus, r),
        "shingle_raw": rate(each(nz._shingle_reference), corpus, r),
    }
    batch = {
        "normalize_many": rate(nz.normalize_many, corpus, r),
        "shingle_many_normalized": rate(
            lambda f: nz.shingle_many(f, normalized=True), ref_forms, r
        ),
        "normalize_many_then_shingle_many": rate(batch_pair, corpus, r),
        "normalize_and_shingle_many": rate(nz.normalize_and_shingle_many, corpus, r),
        "normalize_and_shingle_codes": rate(nz.normalize_and_shingle_codes, corpus, r),
        "shingle_many_raw": rate(nz.shingle_many, corpus, r),
        "shingle_codes_raw": rate(nz.shingle_codes, corpus, r),
    }
    compared_to = {
        "normalize_many": "normalize",
        "shingle_many_normalized": "shingle_normalized",
        "normalize_many_then_shingle_many": "both_forms",
        "normalize_and_shingle_many": "both_forms",
        "normalize_and_shingle_codes": "both_forms",
        "shingle_many_raw": "shingle_raw",
        "shingle_codes_raw": "shingle_raw",
    }
    yardstick = rate(each(lambda t: unicodedata.normalize("NFKC", t).casefold()), corpus, r)

    print(
        f"corpus: {len(corpus):,} posts, mean {mean_len:.0f} chars, {ascii_share:.0%} ASCII-only; "
        f"{handed_over:.2%} of posts go the reference way; batch output == reference output"
    )
    cold = "not timed" if cold_s is None else f"{cold_s:.1f} s"
    print(f"first batch call of a fresh process: {warm_s:.2f} s with numba's cache, {cold} cold")
    print(f"{'NFKC + casefold (yardstick)':34s} {yardstick:10,.0f} posts/s")
    for name, value in reference.items():
        print(f"{'reference ' + name:34s} {value:10,.0f} posts/s")
    for name, value in batch.items():
        base = reference[compared_to[name]]
        print(
            f"{name:34s} {value:10,.0f} posts/s  {value / base:5.2f}x reference "
            f"{compared_to[name]}"
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
                "handed_to_reference_share": round(handed_over, 4),
                "first_call_s": {
                    "warm_cache": round(warm_s, 2),
                    "cold_compile": None if cold_s is None else round(cold_s, 2),
                },
                "yardstick_nfkc_casefold_posts_per_s": round(yardstick),
                "reference_posts_per_s": {k: round(v) for k, v in reference.items()},
                "batch_posts_per_s": {k: round(v) for k, v in batch.items()},
                "ratio_to_reference": {
                    k: round(v / reference[compared_to[k]], 3) for k, v in batch.items()
                },
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
