"""Work is enqueued only after the commit that made it visible (real Redis): a service asks
with `dispatch.send_soon`, the session's after-commit hook enqueues; a rollback enqueues nothing.
A job is one transaction: committed when it returns, rolled back when it raises."""

from __future__ import annotations

import pytest

from shopmail.core import dispatch
from shopmail.extensions import db
from shopmail.models import AuditEntry
from tests.conftest import csrf_token, run_worker
from tests.factories import MessageFactory, StoreFactory


def waiting_send_jobs() -> list[str]:
    return dispatch.get_queue("mail").get_job_ids()


def test_sending_asked_for_in_a_rolled_back_transaction_enqueues_nothing(app, mail_store):
    MessageFactory(store=mail_store)
    db.session.flush()
    dispatch.send_soon([mail_store.id])
    db.session.rollback()
    assert waiting_send_jobs() == []
    db.session.commit()  # a later transaction carries nothing over
    assert waiting_send_jobs() == []


def test_sending_asked_for_is_enqueued_when_the_transaction_commits(app, mail_store):
    MessageFactory(store=mail_store)
    db.session.flush()
    dispatch.send_soon([mail_store.id])
    assert waiting_send_jobs() == []  # not yet: a worker could not see the row
    db.session.commit()
    assert waiting_send_jobs() == [f"send-store-{mail_store.id}"]


def test_a_send_job_goes_to_each_store_asked_for_that_has_mail_due_and_to_no_other(app, mail_store):
    other, idle = StoreFactory(), StoreFactory()
    MessageFactory(store=mail_store)
    MessageFactory(store=other)
    MessageFactory(store=idle, state="sent")
    db.session.commit()
    dispatch.send_soon([mail_store.id, idle.id])
    db.session.commit()
    assert waiting_send_jobs() == [f"send-store-{mail_store.id}"]
    dispatch.send_soon()  # every store
    db.session.commit()
    assert sorted(waiting_send_jobs()) == sorted(f"send-store-{s.id}" for s in (mail_store, other))


def test_a_job_asked_for_is_enqueued_only_by_the_commit(app, mail_store):
    dispatch.enqueue_after_commit("shopmail.jobs.reconcile", job_id="asked")
    assert dispatch.get_queue("default").get_job_ids() == []
    db.session.commit()
    assert dispatch.get_queue("default").get_job_ids() == ["asked"]


def test_a_rolled_back_savepoint_keeps_what_the_transaction_asked_for(app, mail_store):
    MessageFactory(store=mail_store)
    db.session.flush()
    dispatch.send_soon([mail_store.id])
    with pytest.raises(RuntimeError), db.session.begin_nested():
        raise RuntimeError("a failed insert, survived by its savepoint")
    db.session.commit()
    assert waiting_send_jobs() == [f"send-store-{mail_store.id}"]


def test_a_request_commits_and_then_enqueues_what_it_asked_for(app, staff_client, mail_store):
    MessageFactory(store=mail_store, state="held")
    db.session.commit()
    token = csrf_token(staff_client, "/automatic/queue")
    refused = staff_client.post("/automatic/queue/release", data={"held": "all"})
    assert refused.status_code == 400 and waiting_send_jobs() == []  # no CSRF token
    response = staff_client.post(
        "/automatic/queue/release", data={"held": "all", "csrf_token": token}
    )
    assert response.status_code == 302
    assert waiting_send_jobs() == [f"send-store-{mail_store.id}"]


def record_and_succeed() -> None:
    db.session.add(AuditEntry(actor="job", action="job.done", details={}))


def record_and_fail() -> None:
    db.session.add(AuditEntry(actor="job", action="job.failed", details={}))
    db.session.flush()
    raise RuntimeError("the job failed after writing")


def test_a_job_commits_when_it_returns_and_rolls_back_when_it_raises(app):
    for func in (record_and_succeed, record_and_fail):
        dispatch.get_queue().enqueue(f"{__name__}.{func.__name__}")
    run_worker(app)
    db.session.expire_all()
    actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert actions == {"job.done"}
