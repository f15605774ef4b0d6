"""Streaming: a FloodMonitor over a sliding-window LSH index, in memory or shared on Redis.

One idea per module: :mod:`.monitor` (the monitor), :mod:`.verdict` (what it says about a
post), :mod:`.store` (the store interface), :mod:`.memory_store` and :mod:`.redis_store` (the
two stores; :mod:`.lua` is the Redis store's server-side script), :mod:`.sketch` (one post's
signature and band keys), :mod:`.reorder` (an event-time buffer that puts an out-of-order
stream back in order), :mod:`.watch` (a JSONL stream in, verdicts out, for the ``watch``
command).
"""

from spamflood.stream.memory_store import MemoryStore
from spamflood.stream.monitor import FloodMonitor
from spamflood.stream.redis_store import RedisStore
from spamflood.stream.store import (
    FloodStore,
    IndexSize,
    StoreError,
    StoreUnavailableError,
    cluster_id,
)
from spamflood.stream.verdict import Verdict
from spamflood.stream.watch import WatchSummary, watch

__all__ = [
    "FloodMonitor",
    "FloodStore",
    "IndexSize",
    "MemoryStore",
    "RedisStore",
    "StoreError",
    "StoreUnavailableError",
    "Verdict",
    "WatchSummary",
    "cluster_id",
    "watch",
]
