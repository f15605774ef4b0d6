"""Process memory housekeeping for large batches: pausing the cyclic collector, and handing
freed buffers back to the system."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "release_freed_memory"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector: code that makes many small objects without cycles
    (refcounting frees them) would otherwise trigger collections that each walk every object of
    the process, which for a large batch costs more than the work itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def release_freed_memory() -> None:
    """Give freed buffers back to the system: arrays unpickled from worker processes land in
    glibc's heap, whose mmap threshold has risen after the first large free, so freeing them
    keeps the pages and RSS would carry them to the end. A no-op where the C library is not
    glibc."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
