"""Two broadcasts started at the same moment, on PostgreSQL: the monthly quota holds.

Each start checks the quota left (a read), then reserves its rows (a conditional UPDATE in the
transaction that queues them). Run one after the other, the second start is refused by the
read alone; only when both have read before either writes does the reservation's own guard
(`used + n <= limit`) decide. A barrier on the database connection makes exactly that happen:
each thread waits, just before its first write to `quota_months`, until the other is there too.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from shopmail.broadcasts import drafts as broadcasts
from shopmail.broadcasts import quota
from shopmail.core import outbox
from shopmail.extensions import db
from shopmail.models import Broadcast, DeskSettings, QuotaMonth, User
from tests.factories import BroadcastFactory, MemberFactory, QuotaMonthFactory, create_many

MEMBERS = 20
LIMIT = 30  # room for one broadcast to every member, not for two


@pytest.fixture
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL): SQLite serialises writers with its file lock, "
            "so two starts can never reserve at the same moment"
        )


@pytest.fixture
def barrier_before_reserving(app):
    """A barrier both race threads meet at, on their first write to `quota_months`."""
    barrier = threading.Barrier(2, timeout=15)
    waited: set[str] = set()

    def wait_before_quota_write(conn, cursor, statement, parameters, context, executemany):
        name = threading.current_thread().name
        sql = " ".join(statement.split()).lower()
        writes_quota = sql.startswith(("update quota_months", "insert into quota_months"))
        if name.startswith("start-") and writes_quota and name not in waited:
            waited.add(name)
            barrier.wait()

    event.listen(db.engine, "before_cursor_execute", wait_before_quota_write)
    yield waited
    event.remove(db.engine, "before_cursor_execute", wait_before_quota_write)


def test_two_broadcasts_started_at_once_cannot_overrun_the_quota(
    app, postgresql, staff, mail_store, barrier_before_reserving
):
    DeskSettings.get().monthly_quota = LIMIT
    db.session.commit()
    QuotaMonthFactory(month=quota.month_of(), used=0)  # the month is already counting
    create_many(MemberFactory, MEMBERS)
    drafts = BroadcastFactory.create_batch(2, store=mail_store, created_by=staff.id)
    ids, staff_id = [b.id for b in drafts], staff.id
    outcomes: dict[int, object] = {}

    def start(broadcast_id: int) -> None:
        # Its own app context, so its own session and its own database connection.
        with app.test_request_context():
            try:
                broadcast = db.session.get(Broadcast, broadcast_id)
                actor = db.session.get(User, staff_id)
                queued = broadcasts.start(broadcast, actor)
                db.session.commit()
                outcomes[broadcast_id] = queued
            except broadcasts.BroadcastError as refused:
                db.session.rollback()
                outcomes[broadcast_id] = str(refused)
            except BaseException as exc:  # a broken barrier, a database error: the test fails
                db.session.rollback()
                outcomes[broadcast_id] = exc

    threads = [threading.Thread(target=start, args=(i,), name=f"start-{i}") for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a start never finished"
    assert len(barrier_before_reserving) == 2, "both starts should have reached the quota"

    errors = [o for o in outcomes.values() if isinstance(o, BaseException)]
    assert not errors, errors
    started = [i for i, o in outcomes.items() if o == MEMBERS]
    refused = [i for i, o in outcomes.items() if isinstance(o, str)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    # The quota-exceeded answer staff see: 20 mails wanted, 10 left.
    assert str(MEMBERS) in outcomes[refused[0]] and str(LIMIT - MEMBERS) in outcomes[refused[0]]

    db.session.expire_all()
    used = db.session.get(QuotaMonth, quota.month_of()).used
    assert used == MEMBERS <= LIMIT
    assert db.session.get(Broadcast, started[0]).state == "sending"
    assert db.session.get(Broadcast, refused[0]).state == "draft"
    assert outbox.count_by_state(broadcast_id=started[0], kind="broadcast") == {"queued": MEMBERS}
    assert outbox.count_by_state(broadcast_id=refused[0]) == {}
