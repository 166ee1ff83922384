"""`make run` as an operator runs it: a real `flask run-desk` with its embedded Redis, its web
process, its worker and its cron scheduler, on a database of its own, sending to a sink on
loopback. Parts of it are killed with SIGKILL; the desk starts them again and loses no mail.

The desk is the same on SQLite and PostgreSQL (the takeover itself is tested on both in
test_faults.py), so this runs once, in the SQLite suite.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import requests

from shopmail.core import delivery
from tests.support.smtp import running_sink

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = [f"M{i:06d}" for i in range(1, 1201)]

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="run once, in the SQLite suite: the desk under test has a database of its own",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Desk:
    def __init__(self, tmp: Path, sink) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "desk.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            SHOPMAIL_VAR_DIR=str(tmp / "var"),
            DATABASE_URL=f"sqlite:///{tmp / 'desk.db'}",
            SHOPMAIL_SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
            SHOPMAIL_BOUNCE_LISTEN=f"127.0.0.1:{free_port()}",
            SECRET_KEY="desk-test-secret-key-not-for-production",
            SHOPMAIL_SECRET_KEYS="ZGVzay10ZXN0LWtleS1kZXNrLXRlc3Qta2V5LWRlc2s=",
            SHOPMAIL_WORKERS="1",
            SHOPMAIL_HEARTBEAT="0.5",  # a dead worker is noticed after 3 s
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run-desk", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_until(self.answers, 180, "the desk's pages")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return requests.get(f"{self.url}/login", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def children(self, needle: str) -> list[psutil.Process]:
        found = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if needle in " ".join(child.cmdline()) and child.status() != "zombie":
                    found.append(child)
            except psutil.NoSuchProcess:
                pass
        return found

    def workers(self) -> list[psutil.Process]:
        """The workers the desk started (each has a child: RQ's scheduler)."""
        return [
            p
            for p in self.children("worker.py")
            if "--cron" not in p.cmdline() and p.ppid() == self.process.pid
        ]

    def api(self) -> requests.Session:
        if not hasattr(self, "_api"):
            made = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "create-api-token", "desk-test"],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            )
            self._api = requests.Session()
            self._api.headers["Authorization"] = f"Bearer {made.stdout.splitlines()[-1]}"
        return self._api

    def broadcast(self, bid: int) -> dict:
        return self.api().get(f"{self.url}/api/v1/broadcasts/{bid}").json()

    def admin_session(self) -> requests.Session:
        text = (Path(self.env["SHOPMAIL_VAR_DIR"]) / "first-admin.txt").read_text()
        email, password = re.search(r"first admin: (\S+) / (\S+)", text).groups()
        session = requests.Session()
        session.post(
            f"{self.url}/login",
            data={"email": email, "password": password, "csrf_token": self.csrf(session)},
        ).raise_for_status()
        return session

    def csrf(self, session: requests.Session, path: str = "/login") -> str:
        page = session.get(f"{self.url}{path}").text
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


@pytest.fixture(scope="module")
def sink():
    with running_sink() as server:
        yield server


@pytest.fixture(scope="module")
def desk(tmp_path_factory, sink):
    desk = Desk(tmp_path_factory.mktemp("desk"), sink)
    try:
        admin = desk.admin_session()  # staff start the mail server, as on a new desk
        switched = admin.post(
            f"{desk.url}/stores/mail-server",
            data={"running": "1", "next": "/", "csrf_token": desk.csrf(admin, "/")},
        )
        assert switched.status_code == 200, switched.text
        yield desk
    finally:
        desk.stop()


def start_broadcast(desk: Desk, members: list[str]) -> tuple[int, int]:
    """Written and started over the API; returns its id and how many copies were queued."""
    created = desk.api().post(
        f"{desk.url}/api/v1/broadcasts",
        json={
            "store": "b2b",
            "subject": "[COMPANY] 様 新商品のお知らせ",
            "body": "[MEMBER_NAME] 様\n配信停止: [UNSUBSCRIBE_URL]\n",
            "format": "text",
            "audience": {"members": members},
            "insert_signature": False,
            "only_wanting_mail": False,
        },
    )
    assert created.status_code == 201, created.text
    bid = created.json()["id"]
    started = desk.api().post(f"{desk.url}/api/v1/broadcasts/{bid}/start")
    assert started.status_code == 202, started.text
    return bid, started.json()["total"]


def test_the_desk_sends_with_unsubscribe_links_on_the_port_it_serves(desk, sink):
    _, total = start_broadcast(desk, MEMBERS[:5])
    mails = sink.wait_for(total, timeout=60)
    body = mails[0].message.get_content()
    assert f"配信停止: http://127.0.0.1:{desk.port}/unsubscribe/" in body
    assert f"<http://127.0.0.1:{desk.port}/unsubscribe/" in mails[0].message["List-Unsubscribe"]


def test_a_worker_killed_mid_broadcast_is_started_again_and_its_rows_taken_over(desk, sink):
    before = len(sink.messages)
    # 20 ms per mail: a session sends under 50 a second, so its chunks stay at the smallest
    # size (`delivery.CHUNK`; a chunk is about a second of a session's sending).
    sink.handler.delay_after_data = 0.02
    bid, total = start_broadcast(desk, MEMBERS)
    wait_until(lambda: len(sink.messages) - before >= 100, 60, "the broadcast to start")
    [killed] = desk.workers()
    [its_scheduler] = killed.children()
    killed.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    sink.handler.delay_after_data = 0
    wait_until(lambda: [p.pid for p in desk.workers()] not in ([], [killed.pid]), 30, "a worker")
    assert desk.answers()  # the web pages stayed up all along
    its_scheduler.wait(10)  # it ended with its worker: no orphan left running
    # The new worker sees the dead one's heartbeat stop, takes over its rows and sends the
    # rest — long before the 300 s claim lease lapses.
    wait_until(lambda: desk.broadcast(bid)["state"] == "done", 90, "the broadcast to finish")
    assert time.monotonic() - killed_at < 60
    counts = desk.broadcast(bid)["counts"]
    arrived = Counter(m.rcpt_tos[0] for m in sink.messages[before:])
    assert max(arrived.values()) == 1  # nothing twice
    # Only the rows that were mid-SMTP when it died are `unknown` (they may have arrived);
    # everything else was sent.
    assert counts["sent"] + counts["unknown"] == total, counts
    assert 0 < counts["unknown"] <= delivery.CHUNK * 4, counts  # a chunk per session at most
    assert counts["sent"] <= len(arrived) <= total
    log = desk.log.read_text()
    assert re.search(r"desk: worker 1 stopped \(signal 9\)", log), log
    assert "desk: starting worker 1 again (restart 1)" in log


def test_a_killed_web_process_and_redis_come_back_and_mail_still_goes(desk, sink):
    [web] = desk.children("flask --app app run --port")
    [redis] = desk.children("redis-server")
    web.send_signal(signal.SIGKILL)
    redis.send_signal(signal.SIGKILL)
    wait_until(lambda: desk.children("redis-server") and desk.answers(), 60, "web and redis")
    assert desk.children("redis-server")[0].pid != redis.pid
    before = len(sink.messages)
    _, total = start_broadcast(desk, MEMBERS[1200 - 7 :])
    sink.wait_for(before + total, timeout=90)
    log = desk.log.read_text()
    assert "desk: web stopped (signal 9)" in log and "desk: redis stopped (signal 9)" in log


def test_sigterm_stops_every_process_it_started(desk):
    started = psutil.Process(desk.process.pid).children(recursive=True)
    assert len(started) >= 4  # redis, web, worker, cron
    desk.stop()
    assert desk.process.returncode == 0
    gone, alive = psutil.wait_procs(started, timeout=15)
    assert not alive, [p.cmdline() for p in alive]
