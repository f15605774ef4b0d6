"""Shared fixtures; the Spark tests' one worker under pytest-xdist; and a run in which no test
passed is a failed run."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from redis_server import SKIP_REASON, RedisServer

# CI machines are slow and shared: no per-example deadline (the first example may compile a
# numba kernel), and a fixed derandomized run so a red CI can be replayed.
settings.register_profile(
    "spamflood", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("spamflood")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(name: str) -> Path:
    """Path to a folder of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real dataset {path} is absent (it lives beside the repo in ../shared/data)")
    return path


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the module's tests (skipped with the reason without one)."""
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


def spark_missing() -> str | None:
    """Why Spark cannot run here (PySpark or Java missing), or ``None``."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'spamflood[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and Path(java_home, "bin", "java").exists()):
        return "Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The suite's one Spark session on ``local[2]``: a JVM start costs tens of seconds, so
    every Spark test shares it (a test that runs the command line starts its own, as a user's)."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("spamflood-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.sql.session.timeZone", "UTC")
        # The tests' jobs are small: the serial collector and the quick JIT alone take the JVM
        # about 40% less CPU than its defaults (17 against 29 s measured for a start and six jobs).
        .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@contextmanager
def mounted_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A new tmpfs of ``size`` (``"16k"``) on ``folder``: a disk that really fills up. Mounting
    needs root; where it cannot be done the test is skipped with the reason."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a {size} tmpfs here: {done.stderr.decode().strip() or 'not root'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _builds_per_module(item: pytest.Item) -> bool:
    """Whether the test uses a module-scoped fixture (a trained model, a scored feed, a server)."""
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values() if defs)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for ``--dist loadgroup``: each group runs on one worker. Every Spark test (marked
    ``spark``, or using the session) is in one, so one JVM is started; it goes first, so the
    longest share of the run starts at once while the other worker takes the rest (pyproject's
    addopts keep this order: --no-loadscope-reorder). The tests of a module that share a
    module-scoped fixture are in one group, so the fixture is built once, not on each worker.
    A test marked ``redis`` skips, with the reason, where no redis-server can be started
    (whether it takes the ``redis_url`` fixture or starts its own :class:`RedisServer`)."""
    if SKIP_REASON:
        for item in items:
            if item.get_closest_marker("redis") is not None:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
    on_spark = [item for item in items if item.get_closest_marker("spark") or "spark" in getattr(item, "fixturenames", ())]
    for item in on_spark:
        item.add_marker(pytest.mark.xdist_group("spark"))
    chosen = set(on_spark)
    rest = [item for item in items if item not in chosen]
    for item in rest:
        if _builds_per_module(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items[:] = on_spark + rest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pytest already exits 5 when nothing is collected; also fail when everything was skipped
    # or deselected, so that a CI run that tested nothing can never look green. Under xdist the
    # controller judges the whole run (its reporter counts every worker's results); a worker's
    # share may hold no pass, and its exit status is not the run's.
    if hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    if not reporter.stats.get("passed"):
        session.exitstatus = 1
