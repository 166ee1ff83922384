"""Scheduled broadcasts on real parts: scheduled from the confirm step over HTTP, woken by the
desk's own job on a real worker, sent to a real SMTP server — with the schedule's clock moved
instead of waited for. The quota is reserved when a broadcast starts, never when it is
scheduled; one that would not fit is flagged on the list ahead of time and refused at start."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from shopmail.broadcasts import drafts, quota, schedule
from shopmail.core import outbox
from shopmail.core.dispatch import get_queue
from shopmail.core.i18n import TOKYO
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, Broadcast, QuotaMonth
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker
from tests.integration.test_broadcasts import add_members, compose, draft, settings

# A Tokyo morning a few days ahead, whole minutes: the form's precision.
SOON = (
    (utcnow() + timedelta(days=3))
    .astimezone(TOKYO)
    .replace(hour=10, minute=0, second=0, microsecond=0)
)


@pytest.fixture
def clock(monkeypatch):
    """The schedule's clock, set by the test: `clock.at(moment)`."""

    class Clock:
        now = SOON - timedelta(days=1)

        def at(self, moment: datetime) -> None:
            self.now = moment

    fake = Clock()
    monkeypatch.setattr(schedule, "clock", lambda: fake.now)
    return fake


def written(client, store, n_members: int | None = None) -> int:
    bid = draft(client)
    assert compose(client, bid, store).status_code == 302
    return bid


def schedule_at(client, bid: int, moment: datetime, action: str = "schedule"):
    local = moment.astimezone(TOKYO)
    return client.post(
        f"/broadcasts/{bid}/{action}",
        data={
            "csrf_token": csrf_token(client, f"/broadcasts/{bid}/confirm"),
            "send_date": local.strftime("%Y-%m-%d"),
            "send_time": local.strftime("%H:%M"),
        },
    )


def used_quota() -> int:
    """Reserved in the month the tests schedule in."""
    db.session.expire_all()
    row = db.session.get(QuotaMonth, quota.month_of(SOON))
    return row.used if row else 0


def tick(app) -> None:
    """What the cron scheduler does every minute: the job that starts due broadcasts."""
    queue = get_queue("default")
    queue.enqueue("shopmail.jobs.start_due_broadcasts")
    run_worker(app)
    assert FailedJobRegistry(queue=queue).get_job_ids() == []


def state(bid: int) -> str:
    db.session.expire_all()
    return db.session.get(Broadcast, bid).state


def actions(bid: int) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        db.select(AuditEntry.action)
        .where(AuditEntry.object_type == "broadcasts", AuditEntry.object_id == str(bid))
        .order_by(AuditEntry.id)
    )
    return list(rows)


def listing(client) -> str:
    return client.get("/broadcasts/").get_data(as_text=True)


def test_a_scheduled_broadcast_starts_at_its_time_and_not_before(
    app, staff_client, mail_store, smtp_server, clock
):
    settings(quota_limit=100)
    add_members(5)
    first = written(staff_client, mail_store)
    now_one = written(staff_client, mail_store)  # a later draft: still listed after it

    response = schedule_at(staff_client, first, SOON)
    assert response.headers["Location"].endswith("/broadcasts/")
    page = listing(staff_client)
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    assert "予約済み" in rows[1] and SOON.strftime("%Y-%m-%d %H:%M") + " に開始" in rows[1]
    assert f"/broadcasts/{first}/confirm" in rows[1] and f"/broadcasts/{now_one}/" in rows[2]
    # Scheduling reserved nothing and queued nothing; RQ will wake it at its time.
    assert used_quota() == 0 and outbox.count_by_state() == {}
    woken = ScheduledJobRegistry(queue=get_queue("default")).get_job_ids()
    assert woken == [f"broadcast-{first}-at-{int(SOON.timestamp())}"]

    clock.at(SOON - timedelta(minutes=1))
    tick(app)
    assert state(first) == "scheduled" and smtp_server.messages == [] and used_quota() == 0

    clock.at(SOON)
    tick(app)
    received = smtp_server.wait_for(5)
    assert sorted(str(m.message["To"]).rsplit("<")[-1] for m in received) == sorted(
        f"m{i}@example.jp>" for i in range(5)
    )
    assert state(first) == "done" and used_quota() == 5
    assert actions(first)[-2:] == ["broadcast.scheduled", "broadcast.started_by_schedule"]
    assert db.session.get(Broadcast, first).started_at == SOON

    tick(app)  # the minute job again, and the wake-up job: nothing starts twice
    assert len(smtp_server.messages) == 5 and used_quota() == 5
    assert actions(first).count("broadcast.started_by_schedule") == 1


def test_two_starts_of_one_scheduled_broadcast_send_it_once(
    app, staff_client, mail_store, smtp_server, clock
):
    """Two workers woken at once (the job at its time, the minute job) both found it due:
    the conditional UPDATE lets one of them start it."""
    settings(quota_limit=100)
    add_members(4)
    bid = written(staff_client, mail_store)
    schedule_at(staff_client, bid, SOON)
    seen_due = [db.session.get(Broadcast, bid) for _ in range(2)]
    started = []
    for broadcast in seen_due:
        started.append(drafts.start(broadcast, "schedule", now=SOON, scheduled=True))
        db.session.commit()
    assert started == [4, 0]
    run_worker(app)
    assert len(smtp_server.wait_for(4)) == 4 and used_quota() == 4
    assert actions(bid).count("broadcast.started_by_schedule") == 1


def test_the_time_is_checked(app, staff_client, mail_store, clock):
    settings(quota_limit=100)
    add_members(2)
    bid = written(staff_client, mail_store)
    for moment, said in (
        (clock.now - timedelta(minutes=1), "送信日時が過ぎています"),
        (clock.now + timedelta(days=91), "配信予約は 90 日先までです"),
    ):
        response = schedule_at(staff_client, bid, moment)
        assert response.headers["Location"].endswith(f"/broadcasts/{bid}/confirm")
        assert said in staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert state(bid) == "draft"


def test_reschedule_and_cancel_before_it_starts(app, staff_client, mail_store, smtp_server, clock):
    settings(quota_limit=100)
    add_members(3)
    bid = written(staff_client, mail_store)
    schedule_at(staff_client, bid, SOON)
    later = SOON + timedelta(hours=2)
    response = schedule_at(staff_client, bid, later, "reschedule")
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "送信日時を変更しました" in page
    assert later.strftime("%Y-%m-%d %H:%M") + "（日本時間）に開始する予約です" in page
    assert later.strftime("%Y-%m-%d %H:%M") + " に開始" in listing(staff_client)

    clock.at(SOON + timedelta(minutes=5))  # its first time has come: it was moved
    tick(app)
    assert state(bid) == "scheduled" and smtp_server.messages == []

    token = csrf_token(staff_client, f"/broadcasts/{bid}/confirm")
    response = staff_client.post(f"/broadcasts/{bid}/unschedule", data={"csrf_token": token})
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "予約を取り消しました" in page and state(bid) == "draft"
    clock.at(later)
    tick(app)
    assert state(bid) == "draft" and smtp_server.messages == [] and used_quota() == 0
    assert actions(bid)[-3:] == [
        "broadcast.scheduled",
        "broadcast.rescheduled",
        "broadcast.schedule_cancelled",
    ]
    # A draft again, it can be sent now as any draft.
    response = staff_client.post(f"/broadcasts/{bid}/send", data={"csrf_token": token})
    assert response.headers["Location"].endswith(f"/broadcasts/{bid}/progress")
    run_worker(app)
    assert len(smtp_server.wait_for(3)) == 3


def test_an_over_quota_schedule_is_flagged_ahead_and_refused_at_start(
    app, staff_client, mail_store, smtp_server, clock
):
    settings(quota_limit=8)
    add_members(5)
    early, late = written(staff_client, mail_store), written(staff_client, mail_store)
    schedule_at(staff_client, early, SOON)
    schedule_at(staff_client, late, SOON + timedelta(hours=1))

    # Each fits the quota alone; the later one does not after the earlier one.
    page = listing(staff_client)
    flagged = "現時点では上限に収まりません：5 通に対し、その時点の残りは 3 通です。"
    assert page.count(flagged) == 1
    assert page.index(flagged) > page.index(f"/broadcasts/{late}/confirm")
    confirm = staff_client.get(f"/broadcasts/{late}/confirm").get_data(as_text=True)
    assert "現時点では月間上限に収まりません" in confirm
    assert used_quota() == 0

    clock.at(SOON + timedelta(hours=1))  # both are due: the earlier one goes first
    tick(app)
    assert len(smtp_server.wait_for(5)) == 5
    assert state(early) == "done" and state(late) == "draft" and used_quota() == 5
    assert outbox.count_by_state(broadcast_id=late) == {}
    assert actions(late)[-1] == "broadcast.schedule_refused"
    refusal = "この配信は 5 通を送信しますが、今月の残りは 3 通です。"
    page = listing(staff_client)
    assert refusal in page and "上限に収まりません" not in page
    confirm = staff_client.get(f"/broadcasts/{late}/confirm")
    assert confirm.status_code == 302  # over the quota now: back to writing, with the reason
    assert refusal in staff_client.get(confirm.headers["Location"]).get_data(as_text=True)


def test_the_api_schedules_with_send_at_and_cancels_a_scheduled_broadcast(
    app, mail_store, smtp_server, clock
):
    settings(quota_limit=100)
    add_members(2)
    _, secret = create_token("配信システム", actor="test", scopes=["broadcasts"])
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {
        "store": mail_store.code,
        "subject": "[COMPANY] 様 お知らせ",
        "body": "[MEMBER_NAME] 様\n配信停止: [UNSUBSCRIBE_URL]\n",
        "audience": {"filter": ""},
    }
    bid = client.post("/api/v1/broadcasts", json=body, headers=headers).get_json()["id"]
    start = f"/api/v1/broadcasts/{bid}/start"

    for send_at, problem in (
        ("2026-12-24T10:00:00", "send_at"),  # no offset
        ((clock.now - timedelta(hours=1)).isoformat(), "send_at"),
        ("tomorrow", "send_at"),
    ):
        answer = client.post(start, json={"send_at": send_at}, headers=headers)
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["errors"][0]["field"] == problem

    answer = client.post(start, json={"send_at": SOON.isoformat()}, headers=headers)
    assert answer.status_code == 202
    status = answer.get_json()
    assert status["state"] == "scheduled" and status["total"] == 0
    assert datetime.fromisoformat(status["send_at"]) == SOON
    assert used_quota() == 0

    document = client.get("/api/v1/openapi.json").get_json()
    start_doc = document["paths"]["/broadcasts/{id}/start"]["post"]
    assert start_doc["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StartRequest"
    )
    send_at = document["components"]["schemas"]["StartRequest"]["properties"]["send_at"]
    assert send_at["format"] == "date-time" and "90 days" in send_at["description"]

    answer = client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["state"] == "cancelled"
    clock.at(SOON)
    tick(app)
    assert smtp_server.messages == [] and used_quota() == 0
