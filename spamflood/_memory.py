"""Process memory housekeeping for large batches: pausing the cyclic collector, handing freed
buffers back to the system, and asking for ordinary pages."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "ordinary_pages", "release_freed_memory"]


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


def ordinary_pages() -> None:
    """Stop NumPy asking the kernel for 2 MiB pages (``madvise``) for its large arrays: the
    ``NUMPY_MADVISE_HUGEPAGE=0`` environment variable, set here unless the user set it (NumPy
    reads it when first imported; if it is imported already, its switch is turned).

    A batch run allocates gigabytes of arrays it writes once; where transparent huge pages are
    given on request (``madvise``, a common default), each first write of a 2 MiB page can
    wait for the kernel to find and clear one, and a large run's system time is mostly such
    waits (``benchmarks/end_to_end.py``). For the command line only: a program that imports
    spamflood keeps its own setting.
    """
    import os
    import sys

    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    numpy = sys.modules.get("numpy")
    switch = getattr(getattr(getattr(numpy, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
    if switch is not None:
        switch(os.environ["NUMPY_MADVISE_HUGEPAGE"] != "0")
