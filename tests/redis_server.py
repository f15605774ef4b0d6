"""A throwaway redis-server for tests: a free port, a temporary folder, no persistence.

    server = RedisServer(tmp_path).start()      # waits for PING
    server.url                                   # redis://127.0.0.1:<port>/0
    server.kill(); server.start()                # a crash and a restart on the same port
    server.stop()

Tests that use it are marked ``@pytest.mark.redis`` and skip (with :data:`SKIP_REASON`) when
``redis-server`` is not on PATH or the ``redis`` package is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server")
try:
    import redis as _redis
except ImportError:  # pragma: no cover
    _redis = None  # type: ignore[assignment]

SKIP_REASON = (
    "redis-server is not on PATH (apt-get install -y redis-server)"
    if REDIS_SERVER is None
    else "the redis package is not installed (pip install 'spamflood[redis]')"
    if _redis is None
    else ""
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process; ``start`` after ``kill`` restarts it on the same port, empty."""

    def __init__(self, folder: Path, *, password: str | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait for its PING. On a first start, a port that another process
        took meanwhile (tests run in parallel under pytest-xdist) is traded for a new free one;
        a restart keeps its port, as a client's URL names it."""
        assert REDIS_SERVER is not None and _redis is not None, SKIP_REASON
        for _ in range(1 if self._started else 5):
            if self._start_once(timeout):
                self._started = True
                return self
            self.port = free_port()
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING")

    def _start_once(self, timeout: float) -> bool:
        """One try on ``self.port``: whether this process (not another server) answers PING."""
        assert REDIS_SERVER is not None and _redis is not None, SKIP_REASON
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.folder)]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = _redis.Redis(port=self.port, password=self.password, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if client.ping() and client.info("server")["process_id"] == self.process.pid:
                        return True
                except _redis.exceptions.ConnectionError:
                    pass
                if self.process.poll() is not None:  # the port was taken: it could not bind
                    self.process = None
                    return False
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"redis-server on port {self.port} did not answer PING")
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL, as in a crash; the data is gone (no persistence)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        self.kill()
