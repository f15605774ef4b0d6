"""MinHash signature speed on one core: spamflood vs datasketch, rensa and a NumPy-only version.

One run, one seeded corpus of mixed Chinese/English posts (about 110 characters each before
stripping), put in shingling form first (``spamflood.normalize.shingle_text`` when that module
exists; else, or with ``--shingling regex``, whitespace and punctuation stripped by a regex);
only signatures are timed. Character 5-grams, 128 permutations, seed 1. The process is pinned to one CPU and numba is
given one thread. Rows:

- spamflood ``MinHasher.signatures`` on the whole corpus (median of ``--repeats`` runs after a
  warm-up; the JIT compile, or loading it from numba's cache, is timed apart, in fresh
  processes);
- the same algorithm written with NumPy only (vectorised over every n-gram of a chunk of
  posts; checked bit-identical to spamflood's output), the "does numba earn its place" row;
- datasketch ``MinHash.update`` per shingle (default SHA-1 hash, UTF-8 bytes), on a slice of
  ``--slow-posts`` posts, reported per second;
- datasketch ``MinHash.bulk`` and rensa ``RMinHash`` (one object per post: ``update`` with the
  post's shingle strings, then ``digest``) on the whole corpus; rensa's own batch call
  ``RMinHash.digest_matrix_from_token_sets`` as an extra row.

For the baselines the shingle lists are built before the clock starts ("hash only"), the
strict comparison used for the targets; building them is timed apart and shown as well.
Targets: spamflood >= 40x ``MinHash.bulk`` and >= 3x rensa ``RMinHash``.

    python benchmarks/minhash_speed.py [--posts 100000] [--slow-posts 2000] [--repeats 5]
                                       [--shingling auto|regex]

Results: benchmarks/results/minhash_speed.json
"""

from __future__ import annotations

import os

# One core: set before numba (and rensa's thread pool) are imported.
os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _corpus import mixed_posts  # noqa: E402

from spamflood.minhash import MinHasher  # noqa: E402

NUM_PERM, NGRAM, SEED = 128, 5, 1
TARGET_VS_BULK, TARGET_VS_RENSA = 40.0, 3.0


def pin_one_cpu() -> int | None:
    """Run this process on one CPU (Linux); the CPU number, or None where it can't be set."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def shingling_form(texts: list[str], how: str) -> tuple[list[str], str]:
    """Texts as the pipeline hands them to MinHash, and which normalizer made them."""
    if how == "auto":
        try:
            from spamflood.normalize import shingle_text
        except ImportError:
            pass
        else:
            return [shingle_text(t) for t in texts], "spamflood.normalize.shingle_text"
    strip = re.compile(r"[\W_]+")
    return [strip.sub("", t) for t in texts], r"regex: [\W_]+ removed"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# --- the NumPy-only variant: same hash, same permutations, no compiled loop ------------------

_U = np.uint32


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << _U(r)) | (x >> _U(32 - r))


def numpy_signatures(texts: Sequence[str], hasher: MinHasher, chunk: int = 250) -> np.ndarray:
    """MinHash signatures with whole-array NumPy operations, a chunk of posts at a time.

    Every n-gram of the chunk is hashed at once (one pass per character of the gram), then a
    (num_perm x n-grams) array of permuted values, computed in place in a reused buffer, is
    reduced to per-post minima with ``np.minimum.reduceat`` along its contiguous axis.
    """
    a = hasher.permutations[0][:, None]
    b = hasher.permutations[1][:, None]
    out = np.full((len(texts), hasher.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    buffer = np.empty(0, dtype=np.uint32)
    for s in range(0, len(texts), chunk):
        part = texts[s : s + chunk]
        lengths = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
        codes = np.frombuffer("".join(part).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if codes.size == 0:
            continue
        starts = np.cumsum(lengths) - lengths
        width = np.minimum(lengths, hasher.ngram)
        counts = np.where(lengths > 0, lengths - width + 1, 0)
        first = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(len(part)), counts)
        pos = starts[owner] + (np.arange(owner.size) - first[owner])
        gram_width = width[owner]
        h = np.zeros(owner.size, dtype=np.uint32)
        for j in range(hasher.ngram):
            k = codes[np.minimum(pos + j, codes.size - 1)] * _U(0xCC9E2D51)
            k = _rotl(k, 15) * _U(0x1B873593)
            mixed = _rotl(h ^ k, 13) * _U(5) + _U(0xE6546B64)
            h = np.where(j < gram_width, mixed, h)
        h ^= (gram_width * 4).astype(np.uint32)
        h ^= h >> _U(16)
        h *= _U(0x85EBCA6B)
        h ^= h >> _U(13)
        h *= _U(0xC2B2AE35)
        h ^= h >> _U(16)
        if buffer.size < hasher.num_perm * h.size:
            buffer = np.empty(hasher.num_perm * h.size, dtype=np.uint32)
        values = buffer[: hasher.num_perm * h.size].reshape(hasher.num_perm, h.size)
        np.multiply(a, h[None, :], out=values)
        np.add(values, b, out=values)
        has_grams = counts > 0
        out[s : s + len(part)][has_grams] = np.minimum.reduceat(values, first[has_grams], axis=1).T
    return out


# --- fresh-process compile timing -------------------------------------------------------------

_FIRST_CALL = (
    "import time; from spamflood.minhash import MinHasher; h = MinHasher(); "
    "t = time.perf_counter(); h.signatures(['warm up the kernel']); print(time.perf_counter() - t)"
)


def first_call_seconds(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(HERE.parent))
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the corpus (default 100000)")
    parser.add_argument("--slow-posts", type=int, default=2_000, help="slice for datasketch update (default 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the fast paths (default 5)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    parser.add_argument(
        "--shingling",
        choices=["auto", "regex"],
        default="auto",
        help="auto: spamflood.normalize.shingle_text if present; regex: only strip whitespace and "
        "punctuation (longer texts, no placeholders)",
    )
    args = parser.parse_args()

    cpu = pin_one_cpu()
    gen_s, raw = timed(lambda: mixed_posts(args.posts, seed=args.seed))
    norm_s, (texts, normalizer) = timed(lambda: shingling_form(raw, args.shingling))  # type: ignore[misc]
    raw_chars = float(np.mean([len(t) for t in raw]))
    chars = float(np.mean([len(t) for t in texts]))
    n = len(texts)
    print(f"corpus: {n:,} posts, {raw_chars:.1f} chars raw -> {chars:.1f} in shingling form "
          f"(generated {gen_s:.1f} s, normalized {norm_s:.1f} s: {normalizer})")
    print(f"one CPU: {cpu}, NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}; "
          f"{NGRAM}-grams, {NUM_PERM} permutations, seed {SEED}")

    hasher = MinHasher(num_perm=NUM_PERM, ngram=NGRAM, seed=SEED)
    rows: dict[str, dict[str, float]] = {}

    # Compile: a cold JIT in a fresh process, then a fresh process loading numba's cache.
    with tempfile.TemporaryDirectory() as cache_dir:
        compile_s = first_call_seconds(cache_dir)
        cache_load_s = first_call_seconds(cache_dir)
    in_process_first_s, _ = timed(lambda: hasher.signatures(["warm up the kernel"]))
    print(f"numba kernel: cold compile {compile_s:.2f} s, load from cache {cache_load_s * 1000:.0f} ms "
          "(fresh processes; excluded from the rates below)")

    # spamflood: one untimed-for-rate first full run (fresh memory), then the repeats.
    first_full_s, fast = timed(lambda: hasher.signatures(texts))
    runs = [timed(lambda: hasher.signatures(texts))[0] for _ in range(args.repeats)]
    spam_s = statistics.median(runs)
    rows["spamflood MinHasher.signatures"] = {"seconds": spam_s, "posts": n, "best_seconds": min(runs),
                                              "first_full_run_seconds": first_full_s}

    assert isinstance(fast, np.ndarray)
    # Converting signatures for datasketch's LSH (information, not a target); timed before the
    # baselines' millions of shingle strings exist, whose garbage collection would slow it.
    lean_n = min(n, 20_000)
    hasher.to_lean_many(fast[:1])  # imports datasketch
    lean_s, _ = timed(lambda: hasher.to_lean_many(fast[:lean_n]))

    # NumPy-only variant, checked equal first.
    np_first_s, slow_np = timed(lambda: numpy_signatures(texts, hasher))
    if not np.array_equal(slow_np, fast):
        raise SystemExit("NumPy variant disagrees with spamflood's signatures: the comparison is void")
    np_runs = [timed(lambda: numpy_signatures(texts, hasher))[0] for _ in range(max(1, args.repeats // 2))]
    rows["NumPy-only (same algorithm)"] = {"seconds": statistics.median(np_runs), "posts": n,
                                           "first_full_run_seconds": np_first_s}

    # Baselines get their shingle lists ready-made (hash only); building them is timed apart.
    build_s, shingle_lists = timed(lambda: [hasher.shingles(t) for t in texts])
    encode_s, byte_lists = timed(lambda: [[s.encode("utf-8") for s in grams] for grams in shingle_lists])
    assert isinstance(shingle_lists, list) and isinstance(byte_lists, list)

    from datasketch import MinHash

    slow = byte_lists[: args.slow_posts]

    def datasketch_update() -> None:
        for grams in slow:
            m = MinHash(num_perm=NUM_PERM, seed=SEED)
            for g in grams:
                m.update(g)

    rows["datasketch MinHash.update per shingle"] = {"seconds": timed(datasketch_update)[0], "posts": len(slow)}
    rows["datasketch MinHash.bulk"] = {
        "seconds": timed(lambda: MinHash.bulk(byte_lists, num_perm=NUM_PERM, seed=SEED))[0],
        "posts": n,
    }
    byte_lists.clear()  # free the bytes before rensa runs

    from rensa import RMinHash

    def rensa_per_post() -> None:
        for grams in shingle_lists:
            m = RMinHash(num_perm=NUM_PERM, seed=SEED)
            m.update(grams)
            m.digest()

    rows["rensa RMinHash (per post)"] = {"seconds": timed(rensa_per_post)[0], "posts": n}
    rows["rensa digest_matrix_from_token_sets (batch)"] = {
        "seconds": timed(lambda: RMinHash.digest_matrix_from_token_sets(shingle_lists, NUM_PERM, SEED))[0],
        "posts": n,
    }

    for row in rows.values():
        row["posts_per_s"] = row["posts"] / row["seconds"]
    spam_rate = rows["spamflood MinHasher.signatures"]["posts_per_s"]
    for row in rows.values():
        row["spamflood_speedup"] = spam_rate / row["posts_per_s"]

    build_rate = n / (build_s + encode_s)
    print()
    print(f"{'':45s} {'posts':>8s} {'seconds':>8s} {'posts/s':>10s} {'spamflood is':>13s}")
    for name, row in rows.items():
        print(f"{name:45s} {row['posts']:>8,} {row['seconds']:>8.2f} {row['posts_per_s']:>10,.0f} "
              f"{row['spamflood_speedup']:>12.1f}x")
    print(f"{'(baselines: building shingle lists, str+bytes)':45s} {n:>8,} {build_s + encode_s:>8.2f} "
          f"{build_rate:>10,.0f}")
    print(f"{'(spamflood: first full run, fresh memory)':45s} {n:>8,} {first_full_s:>8.2f} "
          f"{n / first_full_s:>10,.0f}")
    print(f"{'(to_lean_many, LeanMinHash objects)':45s} {lean_n:>8,} {lean_s:>8.2f} {lean_n / lean_s:>10,.0f}")

    vs_bulk = rows["datasketch MinHash.bulk"]["spamflood_speedup"]
    vs_rensa = rows["rensa RMinHash (per post)"]["spamflood_speedup"]
    vs_numpy = rows["NumPy-only (same algorithm)"]["spamflood_speedup"]
    checks = {
        "vs_datasketch_bulk": {"ratio": vs_bulk, "target": TARGET_VS_BULK, "pass": vs_bulk >= TARGET_VS_BULK},
        "vs_rensa_rminhash": {"ratio": vs_rensa, "target": TARGET_VS_RENSA, "pass": vs_rensa >= TARGET_VS_RENSA},
    }
    print()
    for name, c in checks.items():
        print(f"{name:22s} {c['ratio']:7.1f}x   target >= {c['target']:.0f}x   {'PASS' if c['pass'] else 'FAIL'}")
    print(f"{'numba vs NumPy-only':22s} {vs_numpy:7.1f}x   (same algorithm, same output)")

    RESULTS.mkdir(exist_ok=True)
    result = {
        "posts": n,
        "corpus_seed": args.seed,
        "mean_chars_raw": raw_chars,
        "mean_chars_shingling_form": chars,
        "normalizer": normalizer,
        "ngram": NGRAM,
        "num_perm": NUM_PERM,
        "seed": SEED,
        "cpu_pinned": cpu,
        "repeats": args.repeats,
        "spamflood_runs_seconds": runs,
        "compile_seconds_cold": compile_s,
        "compile_seconds_cache_load": cache_load_s,
        "first_call_in_process_seconds": in_process_first_s,
        "baseline_shingle_list_seconds": build_s + encode_s,
        "to_lean_many": {"rows": lean_n, "seconds": lean_s},
        "rows": rows,
        "checks": checks,
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "versions": {p: metadata.version(p) for p in ("numpy", "numba", "datasketch", "rensa")},
        },
    }
    (RESULTS / "minhash_speed.json").write_text(json.dumps(result, indent=2))
    print(f"\nsaved {RESULTS / 'minhash_speed.json'}")


if __name__ == "__main__":
    main()
