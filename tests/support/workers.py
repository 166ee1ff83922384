"""Real worker processes for fault tests: `python worker.py --burst` on the test's database
and Redis, which a test may kill like an operator's `kill -9`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_env(app, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SECRET_KEY=app.config["SECRET_KEY"],
        SHOPMAIL_SECRET_KEYS=app.config["SHOPMAIL_SECRET_KEYS"],
        SHOPMAIL_QUEUE_PREFIX=app.config["SHOPMAIL_QUEUE_PREFIX"],
        SHOPMAIL_RETRY_DELAYS=",".join(str(d) for d in app.config["SHOPMAIL_RETRY_DELAYS"]),
        SHOPMAIL_SMTP_TIMEOUT=str(app.config["SHOPMAIL_SMTP_TIMEOUT"]),
        SHOPMAIL_BASE_URL=app.config["SHOPMAIL_BASE_URL"],
    )
    env.update(extra)
    return env


def start_worker(app, *, burst: bool = True, **extra: str) -> subprocess.Popen:
    args = [sys.executable, str(ROOT / "worker.py")]
    if burst:
        args.append("--burst")
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=worker_env(app, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
