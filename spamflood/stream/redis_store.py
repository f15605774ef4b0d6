"""The Redis store: one index shared by every worker of a deployment.

Band tables, post records (with signatures) and cluster counts live in Redis (layout in
:mod:`spamflood.stream.lua`). Each post is one Lua script on the server, one round trip:
lookup, verification, lookup-or-create and counting happen atomically there, so workers never
race. Counts are sorted sets keyed by post id (a redelivered post counts once) and scored by
event time (``ZREMRANGEBYSCORE`` keeps the window); distinct accounts are a sorted set of
authors scored by their newest post. :meth:`RedisStore.add_many` pipelines the scripts of many
posts in one round trip; the server still runs them one after the other.

Connections come from the URL (``redis://[[user]:password@]host:port/db``, ``rediss://`` for
TLS, ``unix:///path.sock?db=0``), checked when the store is built: a URL without a host, with a
port or database that is not a number, is refused rather than read as localhost. A lost
connection is retried with exponential backoff (50 ms doubling, at most 1 s between attempts)
until ``retry_for`` seconds have passed since the first failed attempt began (the last attempt
may add up to ``socket_timeout``), so a Redis restart does not crash a worker; then
:class:`~spamflood.stream.StoreUnavailableError` says how long it really tried. Each outage is
logged as one warning on the ``spamflood.stream`` logger when it starts and one when the
connection is back. After a restart the script is loaded again and the index starts empty (what
Redis lost is lost: clusters re-form from the next posts). A call cut by a lost connection is
sent again, which is safe: a post that already went through finds its record and is counted
once. A refused password is not retried.

The store holds the near-duplicate index; the account network of ``coordinated`` rides on its
connection under the same prefix (:mod:`spamflood.stream.redis_coposting`).
"""

from __future__ import annotations

import logging
import math
import re
import time as _time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from spamflood.durations import parse_duration
from spamflood.errors import ConfigError
from spamflood.stream.lua import ADD
from spamflood.stream.store import (
    Counts,
    Entry,
    IndexSize,
    Late,
    StoreError,
    StoreUnavailableError,
    cluster_id,
)

__all__ = ["RedisStore"]

_log = logging.getLogger("spamflood.stream")

_PREFIX = re.compile(r"^[A-Za-z0-9_.:{}-]{1,64}$")
_SCHEMES = ("redis://", "rediss://", "unix://")


def _safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def _band_hash(settings: str) -> str:
    """The ``band_hash=N`` word of a settings string (empty: written before the hash had a version)."""
    return next((word for word in settings.split() if word.startswith("band_hash=")), "")


def _raise(exc: Exception) -> None:
    raise exc


def _check_url(url: str) -> None:
    """Refuse a Redis URL that redis-py would read as localhost or fail on later, naming it."""
    safe = _safe_url(url)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        if not parts.path:
            raise ConfigError(f"Bad Redis URL {safe!r}: no socket path (expected unix:///path/to/redis.sock?db=0).")
        return
    if not parts.hostname:
        raise ConfigError(f"Bad Redis URL {safe!r}: no host (expected {parts.scheme}://[:password@]host:6379/0).")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"Bad Redis URL {safe!r}: the port must be a number from 1 to 65535.")
    db = parts.path.removeprefix("/")
    if db and not (db.isascii() and db.isdigit()):
        raise ConfigError(f"Bad Redis URL {safe!r}: the database after the host must be a number, like /0.")


class RedisStore:
    """A :class:`~spamflood.stream.FloodStore` on a Redis server (6.2 or newer), shared by
    every monitor that uses the same server and ``key_prefix``.

    A plain structure: parameters are checked here; the connection opens on first use.

    Parameters
    ----------
    url : ``redis://[:password@]host:port/db``, ``rediss://`` (TLS) or ``unix://`` URL.
    window : the sliding window (seconds or ``"1h"``), in event time; the same for every worker.
    key_prefix : prefix of every key, one per deployment (letters, digits, ``_.:{}-``).
    slices : time slices per window (see :mod:`spamflood.stream.memory_store`).
    ttl_margin : seconds every key outlives the window by (keys expire by themselves).
    retry_for : seconds to keep retrying a lost connection, from the first failed attempt,
        before giving up with :class:`~spamflood.stream.StoreUnavailableError`.
    socket_timeout : seconds to wait for one answer or connection.
    client : an existing ``redis.Redis`` client to use instead of ``url`` (its own retry
        settings apply to each attempt).
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        window: float | str = "1h",
        key_prefix: str = "spamflood",
        slices: int = 2,
        ttl_margin: float = 60.0,
        retry_for: float = 10.0,
        socket_timeout: float = 5.0,
        client: Any = None,
    ) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry as RedisRetry
        except ImportError:
            raise ConfigError("The Redis store needs the 'redis' package: pip install 'spamflood[redis]'.") from None
        self.window = parse_duration(window)
        if not isinstance(key_prefix, str) or not _PREFIX.match(key_prefix):
            raise ConfigError(
                f"The 'key_prefix' parameter must be 1-64 letters, digits or _.:{{}}- . Got {key_prefix!r} instead."
            )
        if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
            raise ConfigError(f"The 'slices' parameter of RedisStore must be an integer >= 1. Got {slices!r} instead.")
        for name, value in (("ttl_margin", ttl_margin), ("retry_for", retry_for), ("socket_timeout", socket_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"The '{name}' parameter of RedisStore must be >= 0 seconds. Got {value!r} instead.")
        self.key_prefix = key_prefix
        self.slices = slices
        self.width = self.window / slices
        self.ttl = math.ceil(self.window + self.width + ttl_margin)
        self.retry_for = float(retry_for)
        self.url = _safe_url(url) if client is None else repr(client)
        self._exceptions = redis.exceptions
        if client is None:
            if not isinstance(url, str) or not url.startswith(_SCHEMES):
                raise ConfigError(
                    f"The Redis URL must start with redis://, rediss:// (TLS) or unix://. Got {_safe_url(str(url))!r} instead."
                )
            _check_url(url)
            try:
                client = redis.Redis.from_url(
                    url,
                    retry=RedisRetry(NoBackoff(), 0),  # one attempt each: _call retries, with one deadline
                    socket_timeout=socket_timeout or None,
                    socket_connect_timeout=socket_timeout or None,
                )
            except ValueError as exc:
                raise ConfigError(f"Bad Redis URL {_safe_url(url)!r}: {exc}") from None
        self._redis = client
        self._conn: Any = None
        self._down_since: float | None = None
        """When the current outage began (monotonic seconds), or None while connected."""
        self._connected = False
        """Whether any call has gone through yet (a first failure is 'cannot reach', not 'lost')."""
        self._scripted = False
        """Whether the server has run the store's script (a NoScript reply after that means it
        restarted; the co-posting network's script is then loaded again without a word)."""
        self._script = client.register_script(ADD)
        p = key_prefix
        self._keys = [f"{p}:cfg", f"{p}:wm", f"{p}:lo", f"{p}:gc"]
        self._settings: str | None = None
        self._need = 0
        self._num_perm = 0
        self._common = [p, repr(self.width), repr(self.window), self.ttl]

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, window={self.window}, key_prefix={self.key_prefix!r})"

    def bind(self, settings: str, *, num_perm: int, need: int) -> None:
        full = f"{settings} window={self.window!r} slices={self.slices}"
        if self._settings is not None and self._settings != full:
            raise ConfigError(
                f"This RedisStore already serves a monitor with other settings ({self._settings}); "
                f"a monitor with {full} needs its own store object."
            )
        self._settings = full
        self._need = need
        self._num_perm = num_perm

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one Redis call, retrying a lost connection with backoff until ``retry_for``
        seconds have passed since the first failed attempt began, and turning redis-py's
        errors into spamflood's."""
        exc_mod = self._exceptions
        first_failure: float | None = None
        failures = 0
        while True:
            started = _time.monotonic()
            try:
                result = fn(*args, **kwargs)
            except exc_mod.AuthenticationError as exc:
                if self._conn is not None:
                    self._conn.disconnect()
                raise StoreError(
                    f"Redis at {self.url} refused the credentials ({exc}); if the server has a password, give "
                    "it in the URL: redis://:PASSWORD@host:port/db."
                ) from None
            except (exc_mod.ConnectionError, exc_mod.TimeoutError, TimeoutError) as exc:
                first_failure = started if first_failure is None else first_failure
                failures += 1
                self._lost(exc)
                now = _time.monotonic()
                left = self.retry_for - (now - first_failure)
                if left <= 0:
                    raise StoreUnavailableError(
                        f"Redis at {self.url} did not answer the {what}: gave up after {now - first_failure:.1f} s "
                        f"and {failures} attempt{'s' if failures > 1 else ''} "
                        f"(the limit, retry_for, is {self.retry_for:g} s): {exc}"
                    ) from None
                _time.sleep(min(left, 0.05 * 2 ** min(failures - 1, 5), 1.0))
                continue
            except exc_mod.ResponseError as exc:
                if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                    raise StoreError(
                        f"Redis at {self.url} needs a password ({exc}); give it in the URL: redis://:PASSWORD@host:port/db."
                    ) from None
                raise StoreError(f"Redis at {self.url} refused the {what}: {exc}") from None
            except exc_mod.RedisError as exc:  # an answer that is not Redis's protocol: the wrong server?
                if self._conn is not None:
                    self._conn.disconnect()
                raise StoreError(
                    f"{self.url} gave an answer to the {what} that is not Redis's ({exc}); is it a Redis server?"
                ) from None
            self._back()
            return result

    def _lost(self, error: Exception) -> None:
        """A call failed for want of a connection: drop this store's own connection (the next
        attempt opens a new one) and warn once per outage."""
        if self._conn is not None:
            self._conn.disconnect()
        if self._down_since is None:
            self._down_since = _time.monotonic()
            what = "lost the connection to" if self._connected else "cannot reach"
            _log.warning("%s Redis at %s (%s); retrying for up to %g s", what, self.url, error, self.retry_for)

    def _back(self) -> None:
        """A call went through: warn that an outage ended, if one had begun."""
        if self._down_since is not None:
            what = "reconnected to" if self._connected else "reached"
            _log.warning("%s Redis at %s after %.1f s", what, self.url, _time.monotonic() - self._down_since)
            self._down_since = None
        self._connected = True

    def _check_bound(self) -> None:
        if self._settings is None:
            raise ConfigError("This RedisStore has no monitor yet; pass it to FloodMonitor(store=...) first.")

    def _args(self, entry: Entry) -> list[Any]:
        return [
            *self._common,
            self._settings,
            self._need,
            repr(float(entry.time)),
            entry.post_id,
            entry.author or "",  # the script's word for no known account
            np.ascontiguousarray(entry.signature, dtype="<u4").tobytes(),
            cluster_id(entry.post_id),
            np.ascontiguousarray(entry.band_keys, dtype="<u8").tobytes(),
        ]

    def _parse(self, reply: Any) -> Counts | Late:
        if isinstance(reply, Exception):
            if isinstance(reply, self._exceptions.ResponseError) and ("NOAUTH" in str(reply) or "WRONGPASS" in str(reply)):
                self._call("add", _raise, reply)
            raise StoreError(f"Redis at {self.url} refused the add: {reply}")
        kind = reply[0]
        if kind == b"ok":
            _, cid, size, authors, copies, first, last, afirst, alast = reply
            return Counts(
                cid.decode(), int(size), int(authors), int(copies), float(first), float(last), float(afirst), float(alast)
            )
        if kind == b"late":
            return Late(float(reply[1]))
        if kind == b"config":
            theirs = reply[1].decode()
            if _band_hash(theirs) != _band_hash(self._settings or ""):
                raise ConfigError(
                    f"Redis key prefix {self.key_prefix!r} at {self.url} holds an index keyed by another LSH band hash "
                    f"({_band_hash(theirs) or 'band_hash before 1'}; this spamflood uses {_band_hash(self._settings or '')}), "
                    f"whose buckets this monitor could never match. Use another key_prefix, or wait until that index "
                    f"expires (its keys live {self.ttl} s after their last write)."
                )
            raise ConfigError(
                f"Redis key prefix {self.key_prefix!r} at {self.url} is used by monitors with other settings "
                f"({theirs}); this one has ({self._settings}). Use another key_prefix, or the same settings."
            )
        raise StoreError(f"Redis at {self.url} gave an unexpected reply {reply!r}")  # pragma: no cover

    def _roundtrip(self, batch: list[list[Any]], script: Any = None, keys: Sequence[str] | None = None) -> list[Any]:
        """Run the script (the store's, or ``script`` with ``keys``: the co-posting network's,
        :mod:`spamflood.stream.redis_coposting`) once per argument list, in order, in one
        round trip on this store's own connection (replies in order; an error reply is
        returned as its exception).

        Going straight to the connection skips the per-command bookkeeping of redis-py's
        client, which costs more than the round trip itself for one small script call; lost
        connections are retried by :meth:`_call` all the same.
        """
        exc_mod = self._exceptions
        script = self._script if script is None else script
        keys = self._keys if keys is None else keys

        def do() -> list[Any]:
            conn = self._conn
            if conn is None:
                conn = self._conn = self._redis.connection_pool.get_connection()
            sha = script.sha
            conn.send_packed_command(conn.pack_commands([("EVALSHA", sha, len(keys), *keys, *a) for a in batch]))
            replies: list[Any] = []
            for _ in batch:
                try:
                    replies.append(conn.read_response())
                except exc_mod.ResponseError as exc:
                    replies.append(exc)
            return replies

        replies = self._call("add", do)
        if any(isinstance(r, exc_mod.NoScriptError) for r in replies):  # a new or restarted server
            if script is self._script and self._scripted:
                _log.warning(
                    "Redis at %s no longer has the spamflood script (restarted or flushed): loaded it again; "
                    "what it lost of the index and the account network starts over from the next posts",
                    self.url,
                )
            script.sha = self._call("script load", self._redis.script_load, script.script)
            replies = self._call("add", do)
        self._scripted |= script is self._script
        return replies

    def add(self, entry: Entry) -> Counts | Late:
        self._check_bound()
        return self._parse(self._roundtrip([self._args(entry)])[0])

    def add_many(self, entries: Sequence[Entry]) -> list[Counts | Late]:
        """:meth:`add` each entry, in order, in one pipelined round trip (the server still runs
        the scripts one after the other, so the result is that of :meth:`add` one by one)."""
        self._check_bound()
        if not entries:
            return []
        return [self._parse(reply) for reply in self._roundtrip([self._args(entry) for entry in entries])]

    def size(self) -> IndexSize:
        """What the shared index holds (walks the prefix's cluster keys: for tests and metrics)."""
        r, p = self._redis, self.key_prefix
        wm_raw = self._call("size", r.get, f"{p}:wm")
        if wm_raw is None:
            return IndexSize(0, 0, 0, -math.inf)
        wm = float(wm_raw)
        lo, hi = math.floor((wm - self.window) / self.width), math.floor(wm / self.width)
        pipe = r.pipeline(transaction=False)
        for s in range(lo, hi + 1):
            pipe.hlen(f"{p}:po:{s}")
            pipe.hlen(f"{p}:bt:{s}")
        lengths = self._call("size", pipe.execute)
        clusters = len(self._call("size", lambda: list(r.scan_iter(match=f"{p}:cp:*", count=1000))))
        return IndexSize(sum(lengths[0::2]), sum(lengths[1::2]), clusters, wm)

    def key_names(self) -> list[str]:
        """Every key under this store's prefix (for tests and diagnostics)."""
        found = self._call("scan", lambda: list(self._redis.scan_iter(match=f"{self.key_prefix}:*", count=1000)))
        return sorted(k.decode() for k in found)

    def clear(self) -> int:
        """Delete every key under this store's prefix; returns how many. For tests and benchmarks."""
        names = [k.encode() for k in self.key_names()]
        for i in range(0, len(names), 1000):
            self._call("clear", self._redis.unlink, *names[i : i + 1000])
        return len(names)

    def ping(self) -> bool:
        """True when the server answers (retrying as for any call)."""
        return bool(self._call("ping", self._redis.ping))

    def close(self) -> None:
        """Close the connections (a later call opens them again)."""
        if self._conn is not None:
            self._redis.connection_pool.release(self._conn)
            self._conn = None
        self._redis.close()
