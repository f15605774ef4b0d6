"""Forked: one call in a forked copy gives what the call gives here, errors included."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from spamflood._forked import Forked
from spamflood.errors import SpamfloodError

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform does not fork")


def _table(n: int, *, scale: float) -> dict[str, object]:
    values = np.arange(n, dtype=np.float64) * scale
    return {"values": values, "fired": values > n / 2, "sentences": {i: f"post {i}" for i in range(0, n, 7)}}


@needs_fork
def test_a_forked_call_returns_what_the_call_returns_here():
    big = np.arange(300_000, dtype=np.float64)  # read copy-on-write by the child, not pickled in
    forked = Forked(lambda scale: {"sum": float(big.sum() * scale), **_table(50_000, scale=scale)}, 2.0)
    here = Forked(lambda scale: {"sum": float(big.sum() * scale), **_table(50_000, scale=scale)}, 2.0, fork=False)
    a, b = forked.result(), here.result()
    assert a["sum"] == b["sum"] == 2.0 * big.sum()
    assert np.array_equal(a["values"], b["values"]) and np.array_equal(a["fired"], b["fired"])
    assert a["sentences"] == b["sentences"] and len(a["sentences"]) == 7143
    assert forked.result() is a  # asked again: the same value, the child is not run twice


@needs_fork
def test_the_child_does_not_see_what_the_parent_changes_after_the_fork():
    box = [1]
    forked = Forked(lambda: box[0])
    box[0] = 2
    assert forked.result() == 1


@needs_fork
def test_an_exception_in_the_child_is_raised_in_the_parent_with_its_type_and_words():
    def fails() -> None:
        raise ValueError("field 'time' of line 12: not a time")

    with pytest.raises(ValueError, match="field 'time' of line 12: not a time"):
        Forked(fails).result()


@needs_fork
def test_an_exception_that_does_not_pickle_still_reaches_the_parent_in_words():
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    def fails() -> None:
        raise Local("the lexicon file is unreadable")

    with pytest.raises(SpamfloodError, match="Local: the lexicon file is unreadable"):
        Forked(fails).result()


@needs_fork
def test_a_child_that_dies_without_a_result_is_a_loud_error():
    def dies() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    forked = Forked(dies)
    with pytest.raises(SpamfloodError, match="ended without a result"):
        forked.result()
    with pytest.raises(SpamfloodError, match="ended without a result"):
        forked.result()  # asked again: the same error, the call is not run here instead


@needs_fork
def test_close_without_reading_stops_and_reaps_the_child():
    import time

    forked = Forked(time.sleep, 60)  # a child that would run for a minute
    pid = forked._pid
    started = time.perf_counter()
    forked.close()
    assert time.perf_counter() - started < 5  # killed, not waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more
    forked.close()  # twice is harmless


def test_without_fork_the_call_runs_when_its_result_is_asked_for():
    calls = []
    here = Forked(lambda: calls.append(1) or len(calls), fork=False)
    assert calls == []
    assert here.result() == 1 and here.result() == 1 and calls == [1]
    here.close()
