"""FloodMonitor on a real redis-server: shared by processes, atomic, forgetting, surviving restarts."""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from redis_server import SKIP_REASON, RedisServer, free_port
from test_stream import AUTHORLESS_COUNTS, EVENTS, authorless_posts, stream_of

from spamflood.cli import main
from spamflood.errors import ConfigError
from spamflood.posts import Post
from spamflood.stream import FloodMonitor, RedisStore, StoreError, StoreUnavailableError, Verdict

pytestmark = [pytest.mark.redis, pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON or "ok")]

T0 = 1_700_000_000.0
AD = "限时抢购！加微信 abc123 领取优惠券，仅限今天，先到先得"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield srv
    srv.stop()


_prefixes = iter(range(1_000_000))


@pytest.fixture
def prefix() -> str:
    return f"t{next(_prefixes)}"


def post(i: int | str, text: str, author: str, t: float) -> Post:
    return Post(id=str(i), text=text, author=author, time=T0 + t)


def campaign_stream(templates: int = 6, copies: int = 8, organic: int = 60) -> list[Post]:
    """Copies of distinct campaign texts (each by other accounts) among unrelated posts, all
    inside one window, interleaved deterministically."""
    import numpy as np

    rng = np.random.default_rng(11)

    def words(n: int) -> str:
        return "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FA5, size=n))

    texts = [f"{words(30)} 加V {c}{c}{c} 限时优惠 {words(10)}" for c in "abcdefghij"[:templates]]
    posts: list[Post] = []
    for k in range(copies):
        for j, text in enumerate(texts):
            edited = text + words(1) if k % 3 == 1 else text  # small edits, every copy still close
            posts.append(post(f"c{j}_{k}", edited, f"acct{j}_{k % 7}", len(posts)))
    for i in range(organic):
        posts.insert(int(rng.integers(0, len(posts))), post(f"o{i}", words(40), f"org{i}", 0))
    return [Post(id=p.id, text=p.text, author=p.author, time=T0 + i) for i, p in enumerate(posts)]


def floods(verdicts: list[Verdict]) -> tuple[set[frozenset[str]], dict[frozenset[str], tuple[int, int]]]:
    """Groups of post ids sharing a cluster that became a flood, and each group's final counts."""
    members: dict[str, set[str]] = {}
    final: dict[str, tuple[int, int]] = {}
    flooded = set()
    for v in verdicts:
        if v.cluster is None:
            continue
        members.setdefault(v.cluster, set()).add(v.id)
        size, authors = final.get(v.cluster, (0, 0))
        final[v.cluster] = (max(size, v.cluster_size), max(authors, v.cluster_authors))
        if v.flood:
            flooded.add(v.cluster)
    groups = {frozenset(members[c]) for c in flooded}
    return groups, {frozenset(members[c]): final[c] for c in flooded}


# --------------------------------------------------------------------- same as memory


def test_redis_gives_the_memory_store_verdicts(server: RedisServer, prefix: str) -> None:
    posts = campaign_stream()
    posts += [post(f"late{i}", AD, f"l{i}", -7200) for i in range(2)]  # late: older than the window
    posts += [post(f"next{i}", AD, f"n{i}", 4000 + 30 * i) for i in range(6)]  # after the window moved
    memory = FloodMonitor(window="30min", min_authors=4)
    redis_monitor = FloodMonitor(window="30min", min_authors=4, store=server.url, key_prefix=prefix)
    batched = FloodMonitor(window="30min", min_authors=4, store=server.url, key_prefix=prefix + "b")
    expected = [memory.add(p) for p in posts]
    assert [redis_monitor.add(p) for p in posts] == expected
    assert batched.add_many(posts, batch_size=16) == expected
    assert sum(v.flood for v in expected) > 20 and sum(v.late for v in expected) == 2


def test_a_post_without_an_author_counts_in_its_cluster_but_is_no_account_on_redis(server: RedisServer, prefix: str) -> None:
    monitor = FloodMonitor(window="10min", min_authors=2, min_copies=2, store=server.url, key_prefix=prefix)
    try:
        verdicts = [monitor.add(p) for p in authorless_posts()]
    finally:
        monitor.close()
    assert [(v.cluster_size, v.cluster_authors, v.author_copies) for v in verdicts] == AUTHORLESS_COUNTS
    assert verdicts == FloodMonitor(window="10min", min_authors=2, min_copies=2).add_many(authorless_posts())


@settings(max_examples=15, deadline=None)
@given(EVENTS)
def test_redis_counts_posts_without_an_author_as_the_memory_store_does(server: RedisServer, events: list[tuple[int, int, int]]) -> None:
    posts = stream_of(events)
    memory = FloodMonitor(window="5min", min_authors=3, min_copies=2).add_many(posts)
    monitor = FloodMonitor(window="5min", min_authors=3, min_copies=2, store=server.url, key_prefix=f"t{next(_prefixes)}")
    try:
        assert monitor.add_many(posts, batch_size=8) == memory
    finally:
        monitor.close()


# ------------------------------------------------------------------- shared by workers


def _work(url: str, prefix: str, posts: list[Post]) -> list[Verdict]:
    monitor = FloodMonitor(window="1h", min_authors=4, store=url, key_prefix=prefix)
    try:
        return [monitor.add(p) for p in posts]
    finally:
        monitor.close()


def test_four_workers_find_the_floods_of_one(server: RedisServer, prefix: str) -> None:
    posts = campaign_stream()
    single = _work(server.url, prefix + "one", posts)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        parts = pool.starmap(_work, [(server.url, prefix + "four", posts[i::4]) for i in range(4)])
    together = [v for part in parts for v in part]
    groups_one, counts_one = floods(single)
    groups_four, counts_four = floods(together)
    assert len(groups_one) == 6
    assert groups_four == groups_one
    assert counts_four == counts_one  # final size and accounts of every flood
    assert all(size == 8 and authors == 7 for size, authors in counts_one.values())


def test_racing_first_copies_end_in_one_cluster(server: RedisServer, prefix: str) -> None:
    n = 8
    barrier = threading.Barrier(n)
    verdicts: list[Verdict] = []
    lock = threading.Lock()

    def racer(i: int) -> None:
        monitor = FloodMonitor(window="1h", min_authors=n, store=server.url, key_prefix=prefix)
        barrier.wait()
        v = monitor.add(post(f"r{i}", AD, f"u{i}", i * 0.001))
        with lock:
            verdicts.append(v)
        monitor.close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({v.cluster for v in verdicts}) == 1
    assert sorted(v.cluster_size for v in verdicts) == list(range(1, n + 1))  # no count lost
    assert sum(v.flood for v in verdicts) == 1


# -------------------------------------------------------------------------- the window


def test_window_expires_in_event_time(server: RedisServer, prefix: str) -> None:
    monitor = FloodMonitor(window="10min", min_authors=2, store=server.url, key_prefix=prefix)
    first = monitor.add(post("a", AD, "x", 0))
    inside = monitor.add(post("b", AD, "y", 600))
    after = monitor.add(post("c", AD, "z", 1201))
    assert inside.cluster == first.cluster and inside.cluster_size == 2
    assert after.cluster != first.cluster and after.cluster_size == 1
    late = monitor.add(post("d", AD, "w", 0))
    assert late.late and late.cluster is None


def test_redis_index_forgets_old_slices_and_clusters(server: RedisServer, prefix: str) -> None:
    store = RedisStore(server.url, window="10min", key_prefix=prefix)
    monitor = FloodMonitor(window="10min", min_authors=3, store=store)
    for i in range(360):  # three windows, one post every 5 s; a flood copy every 4th post
        text = AD if i % 4 == 0 else f"{i} 今天的第{i}条流水账 " * 3 + str(i * 7919)
        monitor.add(post(i, text, f"u{i % 13}", 5.0 * i))
    slices = {k.rsplit(":", 1)[1] for k in store.key_names() if ":bt:" in k or ":po:" in k}
    assert len(slices) <= 3  # a 10 min window spans at most three 5 min slices
    size = store.size()
    assert size.posts <= 180 and size.clusters <= 2
    ttl = store._redis.ttl(f"{prefix}:po:{max(slices)}")
    assert 0 < ttl <= store.ttl == 600 + 300 + 60


# ------------------------------------------------------------------ restarts and auth


def test_worker_survives_a_redis_restart_and_warns_of_each_outage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    srv = RedisServer(tmp_path / "restart").start()
    try:
        monitor = FloodMonitor(window="1h", min_authors=3, store=srv.url, key_prefix="rs")
        with caplog.at_level(logging.WARNING, logger="spamflood.stream"):
            before = [monitor.add(post(f"a{i}", AD, f"u{i}", i)) for i in range(3)]
            assert before[-1].flood and not caplog.records  # a fresh server is not an outage
            srv.kill()
            restarter = threading.Timer(0.4, srv.start)
            restarter.start()
            after = [monitor.add(post(f"b{i}", AD, f"v{i}", 10 + i)) for i in range(3)]  # blocks, retries
            restarter.join()
        # Redis lost the index: the campaign starts over, and is flagged again
        assert [v.cluster_size for v in after] == [1, 2, 3] and after[-1].flood
        batch = monitor.add_many([post(f"c{i}", AD, f"w{i}", 20 + i) for i in range(2)])
        assert [v.cluster_size for v in batch] == [4, 5]
        monitor.close()
        warnings = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
        assert [w[:2] for w in warnings] == [("spamflood.stream", "WARNING")] * 3
        assert warnings[0][2].startswith(f"lost the connection to Redis at {srv.url} (")
        assert warnings[0][2].endswith("; retrying for up to 10 s")
        assert re.fullmatch(rf"reconnected to Redis at {re.escape(srv.url)} after \d+\.\d s", warnings[1][2])
        assert warnings[2][2].startswith(f"Redis at {srv.url} no longer has the spamflood script (restarted or flushed)")
    finally:
        srv.stop()


def _steady_worker(url: str, index: int, count: int, queue: multiprocessing.Queue) -> None:
    monitor = FloodMonitor(window="1h", min_authors=3, store=url, key_prefix="mp")
    done = 0
    try:
        for i in range(count):
            monitor.add(post(f"w{index}_{i}", AD, f"u{index}_{i}", index * 1000 + i))
            done += 1
            time.sleep(0.01)
        queue.put(("ok", done))
    except Exception as exc:
        queue.put(("error", repr(exc)))


def test_worker_processes_keep_going_through_a_restart(tmp_path: Path) -> None:
    srv = RedisServer(tmp_path / "restart-mp").start()
    try:
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        workers = [ctx.Process(target=_steady_worker, args=(srv.url, i, 60, queue)) for i in range(2)]
        for w in workers:
            w.start()
        time.sleep(0.25)
        srv.kill()
        time.sleep(0.3)
        srv.start()
        results = [queue.get(timeout=30) for _ in workers]
        for w in workers:
            w.join(timeout=10)
        assert results == [("ok", 60), ("ok", 60)]
    finally:
        srv.stop()


def test_unreachable_redis_gives_up_within_its_budget_and_says_how_long(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    srv = RedisServer(tmp_path / "gone")  # never started
    store = RedisStore(srv.url, window="1h", retry_for=1.0, socket_timeout=0.5)
    monitor = FloodMonitor(store=store)
    FloodMonitor().add(post("warm", AD, "x", 0))  # compile the signature code first: only Redis is timed
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError) as info:
        monitor.add(post("a", AD, "x", 0))
    took = time.monotonic() - start
    assert 1.0 <= took < 2.0
    assert re.match(
        rf"Redis at {re.escape(srv.url)} did not answer the add: gave up after 1\.\d s and \d+ attempts "
        r"\(the limit, retry_for, is 1 s\): Error 111 connecting",
        str(info.value),
    )
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [f"cannot reach Redis at {srv.url}"]


def run_main(args: list[str], stdin: bytes = b"", timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """``spamflood.cli.main(args)`` in a fresh interpreter; its return value is the exit code."""
    code = f"import sys; from spamflood.cli import main; sys.exit(main({args!r}))"
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, timeout=timeout, check=False)


LINE = json.dumps({"id": "a", "text": AD, "author": "x", "time": T0}).encode() + b"\n"


def test_watch_command_fails_on_an_unreachable_redis_within_redis_timeout() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    start = time.monotonic()
    proc = run_main(["watch", "-", "--redis", url, "--redis-timeout", "2"], stdin=LINE)
    took = time.monotonic() - start
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    # it waited the budget, by its own clock in the message below; the wall bound only catches a
    # hang or a retry loop (starting Python under two busy test workers can take seconds)
    assert 2.0 <= took < 30.0
    assert f"WARNING cannot reach Redis at {url} (" in err
    assert re.search(rf"ERROR Redis at {re.escape(url)} did not answer the ping: gave up after 2\.\d s", err)
    assert "hint: --redis-timeout SECONDS waits longer for Redis" in err
    assert proc.stdout == b""  # nothing judged without the shared index


def test_watch_command_warns_of_a_redis_restart_mid_stream(tmp_path: Path) -> None:
    srv = RedisServer(tmp_path / "restart-cli").start()
    code = f"import sys; from spamflood.cli import main; sys.exit(main({['watch', '-', '--redis', srv.url, '--min-authors', '3']!r}))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:

        def send(i: int) -> dict:
            proc.stdin.write(json.dumps({"id": f"p{i}", "text": AD, "author": f"u{i}", "time": T0 + i}).encode() + b"\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        assert [send(i)["cluster_size"] for i in range(2)] == [1, 2]
        srv.kill()
        restarter = threading.Timer(0.5, srv.start)
        restarter.start()
        assert send(2)["cluster_size"] == 1  # the restarted server lost the index
        restarter.join()
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        srv.stop()
    text = err.decode()
    assert proc.returncode == 0, text
    warnings = [line for line in text.splitlines() if line.startswith("WARNING")]
    assert [w.split(" Redis at ")[0] for w in warnings] == [
        "WARNING lost the connection to",
        "WARNING reconnected to",
        "WARNING",  # no longer has the script
    ]
    assert all(srv.url in w for w in warnings)
    assert "watch: 3 lines, 3 verdicts, 0 in floods, 0 late, 0 rejected" in text


def test_a_server_that_does_not_speak_redis_is_named_at_once() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_http() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

        server = threading.Thread(target=answer_http)
        server.start()
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        start = time.monotonic()
        with pytest.raises(StoreError) as info:
            RedisStore(url).ping()
        server.join()
    assert str(info.value).startswith(f"{url} gave an answer to the ping that is not Redis's (")
    assert str(info.value).endswith("is it a Redis server?") and time.monotonic() - start < 2


def test_password_from_the_url(tmp_path: Path) -> None:
    srv = RedisServer(tmp_path / "auth", password="s3cret").start()
    try:
        monitor = FloodMonitor(min_authors=2, store=srv.url, key_prefix="auth")
        assert monitor.add(post("a", AD, "x", 0)).cluster_size == 1
        assert monitor.add(post("b", AD, "y", 1)).flood
        url_without = f"redis://127.0.0.1:{srv.port}/0"
        with pytest.raises(StoreError, match="needs a password|refused the credentials"):
            FloodMonitor(store=url_without).add(post("c", AD, "z", 2))
        start = time.monotonic()
        with pytest.raises(StoreError, match="refused the credentials|needs a password") as info:
            FloodMonitor(store=f"redis://:wrong@127.0.0.1:{srv.port}/0").add(post("d", AD, "w", 3))
        assert "wrong" not in str(info.value)  # the password never shows
        assert time.monotonic() - start < 5  # a refused password is not retried

        proc = run_main(["watch", "-", "--redis", f"redis://:wrong@127.0.0.1:{srv.port}/0"], stdin=LINE)
        err = proc.stderr.decode()
        assert proc.returncode == 1, err
        assert err.startswith(f"ERROR Redis at redis://***@127.0.0.1:{srv.port}/0 refused the credentials (")
        assert "give it in the URL: redis://:PASSWORD@host:port/db." in err and "wrong" not in err
    finally:
        srv.stop()


# ------------------------------------------------------------------------ configuration


def test_monitors_with_other_settings_cannot_share_a_prefix(server: RedisServer, prefix: str) -> None:
    FloodMonitor(store=server.url, key_prefix=prefix).add(post("a", AD, "x", 0))
    other = FloodMonitor(store=server.url, key_prefix=prefix, num_perm=64)
    with pytest.raises(ConfigError, match=f"prefix '{prefix}' .* is used by monitors with other settings"):
        other.add(post("b", AD, "y", 1))
    FloodMonitor(store=server.url, key_prefix=prefix + "x", num_perm=64).add(post("b", AD, "y", 1))


def test_an_index_keyed_by_another_band_hash_is_refused_and_left_to_expire(server: RedisServer, prefix: str) -> None:
    # what a monitor of the same settings wrote before the band hash had a version
    old = "num_perm=128 ngram=5 seed=1 bands=25 rows=5 threshold=0.7 window=3600.0 slices=2"
    client = pytest.importorskip("redis").Redis(port=server.port)
    client.set(f"{prefix}:cfg", old, ex=100)
    monitor = FloodMonitor(store=server.url, key_prefix=prefix)
    with pytest.raises(ConfigError) as info:
        monitor.add(post("a", AD, "x", 0))
    assert str(info.value) == (
        f"Redis key prefix '{prefix}' at redis://127.0.0.1:{server.port}/0 holds an index keyed by another LSH band hash "
        "(band_hash before 1; this spamflood uses band_hash=1), whose buckets this monitor could never match. "
        f"Use another key_prefix, or wait until that index expires (its keys live {monitor.store.ttl} s after their last write)."
    )
    assert client.get(f"{prefix}:cfg") == old.encode()
    assert client.ttl(f"{prefix}:cfg") <= 100  # the refused monitor did not keep the old index alive
    assert monitor.size().posts == 0  # nothing was written under the old settings
    client.close()


@pytest.mark.parametrize(
    ("url", "kwargs", "match"),
    [
        ("http://localhost", {}, "must start with redis://, rediss:// \\(TLS\\) or unix://"),
        ("redis://localhost", {"key_prefix": "has space"}, "'key_prefix' parameter must be"),
        ("redis://localhost", {"slices": 0}, "'slices' parameter of RedisStore"),
        ("redis://localhost", {"retry_for": -1}, "'retry_for' parameter of RedisStore must be >= 0"),
    ],
    ids=["scheme", "prefix", "slices", "retry-for"],
)
def test_bad_store_parameters_are_refused(url: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RedisStore(url, **kwargs)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("redis://", "no host"),
        ("redis:///0", "no host"),
        ("redis://:hunter2@/0", "no host"),
        ("redis://host:notaport", "the port must be a number from 1 to 65535"),
        ("redis://host:99999/0", "the port must be a number from 1 to 65535"),
        ("redis://host:6379/zero", "the database after the host must be a number"),
        ("unix://", "no socket path"),
    ],
)
def test_malformed_urls_are_refused_not_read_as_localhost(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)) as info:
        RedisStore(url)
    assert str(info.value).startswith(f"Bad Redis URL '{url.replace(':hunter2@', '***@')}': ")


@pytest.mark.parametrize("url", ["redis//host", "http://x", "redis://host:notaport"])
def test_watch_command_refuses_a_malformed_redis_url_as_usage(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "-", "--redis", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR ") and f"'{url}'" in err


def test_tls_url_is_accepted() -> None:
    store = RedisStore("rediss://:pw@example.invalid:6380/2", window="1h")
    assert store._redis.connection_pool.connection_class.__name__ == "SSLConnection"
    assert "pw" not in repr(store)
