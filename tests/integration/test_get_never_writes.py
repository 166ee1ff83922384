"""A GET never writes (DESIGN.md): every GET route of the app, crawled as an admin over a desk
with data in it, runs no INSERT, UPDATE or DELETE.

The routes come from `app.url_map`; each URL parameter is filled with the ids (or keys) of rows
that exist. The desk settings and kind settings rows are left out on purpose: reading them must
not create them. Writes are counted with SQLAlchemy's `before_cursor_execute` event.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from shopmail.broadcasts.unsubscribe import make_token
from shopmail.core import audit
from shopmail.core.states import BroadcastState, MessageKind, MessageState, RecordMailingState
from shopmail.data_in import imports, tokens
from shopmail.extensions import db
from shopmail.models import (
    ApiToken,
    Broadcast,
    BroadcastTemplate,
    DeskSettings,
    KindSetting,
    Member,
    Message,
    Order,
    RecordMailing,
    RecordMailTemplate,
    Store,
    User,
)
from shopmail.models.types import utcnow
from tests.factories import (
    BroadcastFactory,
    BroadcastTemplateFactory,
    MemberFactory,
    MessageFactory,
    OrderFactory,
    QuoteFactory,
    RecordMailingFactory,
    RecordMailTemplateFactory,
    ShipmentFactory,
    StoreFactory,
)

WRITE = re.compile(r"^\s*(WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.I | re.S)


@pytest.fixture
def desk(app, admin, tmp_path, monkeypatch):
    """A store with orders, shipments, quotes, members, broadcasts in every state, record
    mailings, messages in the send queue and history, templates, a token, an upload, audit."""
    monkeypatch.setitem(app.config, "SHOPMAIL_IMPORT_DIR", str(tmp_path))
    store = StoreFactory()
    orders = [OrderFactory(store=store) for _ in range(3)]
    ShipmentFactory(order=orders[0], store=store)
    QuoteFactory(store=store)
    members = [MemberFactory() for _ in range(3)]
    template = BroadcastTemplateFactory()
    broadcasts = {
        state: BroadcastFactory(store=store, state=state, template_id=template.id)
        for state in BroadcastState
    }
    RecordMailTemplateFactory()
    mailings = {
        state: RecordMailingFactory(record_ids=[o.id for o in orders], state=state)
        for state in RecordMailingState
    }
    db.session.flush()
    rows = [
        # A broadcast still "sending" whose rows have all ended, and a record mailing the
        # same: a progress page must not be the one to mark them done.
        MessageFactory(
            store=store,
            kind=MessageKind.BROADCAST,
            state=MessageState.SENT,
            broadcast_id=broadcasts[BroadcastState.SENDING].id,
            member_id=members[0].id,
        ),
        MessageFactory(
            store=store,
            kind=MessageKind.BROADCAST,
            state=MessageState.FAILED,
            last_code=550,
            broadcast_id=broadcasts[BroadcastState.DONE].id,
            member_id=members[1].id,
        ),
        MessageFactory(
            store=store,
            state=MessageState.SENT,
            mailing_id=mailings[RecordMailingState.SENDING].id,
            record_type="order",
            record_id=orders[0].id,
        ),
        MessageFactory(store=store, kind=MessageKind.ORDER_CONFIRMATION, order_id=orders[1].id),
        MessageFactory(
            store=store,
            kind=MessageKind.SHIPPING_NOTICE,
            state=MessageState.HELD,
            order_id=orders[0].id,
        ),
        MessageFactory(
            store=store,
            kind=MessageKind.FOLLOW_UP,
            state=MessageState.FAILED,
            order_id=orders[2].id,
            sent_at=utcnow() - timedelta(hours=1),
        ),
    ]
    broadcasts[BroadcastState.SENDING].total = 1
    tokens.create_token("shop system", actor=admin)
    audit.record(admin, "store.updated", store, fields=["name"])
    db.session.flush()
    csv = b"number,ordered_at,buyer_email\nX-1,2026-01-01 10:00,x@example.jp\n"
    with app.test_request_context():  # column names are guessed in the user's language
        imports.save_upload(tmp_path, "orders", "orders.csv", csv, admin)
    db.session.execute(db.delete(DeskSettings))
    db.session.execute(db.delete(KindSetting))
    db.session.commit()
    yield {"rows": rows}
    app.config.pop("SHOPMAIL_IMPORT_DIR")


def values(app) -> dict[str, list]:
    """What each URL parameter may be: the ids or keys of rows that exist."""
    ids = lambda model: list(db.session.scalars(db.select(model.id)))  # noqa: E731
    member_broadcasts = itertools.product(ids(Member)[:1], ids(Broadcast)[:1])
    return {
        "message_id": ids(Message),
        "mailing_id": ids(RecordMailing),
        "template_id": ids(RecordMailTemplate),
        "member_id": ids(Member),
        "bid": ids(Broadcast),
        "tid": ids(BroadcastTemplate),
        "store_id": ids(Store),
        "user_id": ids(User),
        "token_id": ids(ApiToken),
        "token": [make_token(m, b) for m, b in member_broadcasts],
        "upload_id": [
            u.id for u in imports.recent_uploads(Path(app.config["SHOPMAIL_IMPORT_DIR"]))
        ],
        "store": list(db.session.scalars(db.select(Store.code))),
        "number": [
            *db.session.scalars(db.select(Order.number)),
            *db.session.scalars(db.select(Member.number)),
        ],
    }


def get_urls(app) -> list[str]:
    known = values(app)
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            wanted = sorted(a for a in rule.arguments if a not in (rule.defaults or {}))
            missing = [a for a in wanted if a not in known and not _choices(rule, a)]
            assert not missing, f"{rule.rule}: no values for {missing} — add them to values()"
            for combo in itertools.product(*(_choices(rule, a) or known[a] for a in wanted)):
                urls.append(url_for(rule.endpoint, **dict(zip(wanted, combo, strict=True))))
    return urls


def _choices(rule, argument: str) -> list[str]:
    # `<any(order, shipment, quote):record_type>` names its own values.
    return list(getattr(rule._converters.get(argument), "items", []) or [])


def test_no_get_route_writes(app, admin_client, desk):
    urls = get_urls(app)
    secret = tokens.create_token("crawler")[1]
    db.session.commit()
    writes: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if WRITE.match(statement):
            writes.append(statement.split("\n")[0][:120])

    problems = {}
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for url in urls:
            headers = {"Authorization": f"Bearer {secret}"} if url.startswith("/api/") else {}
            for partial in ({}, {"HX-Request": "true"}):
                writes.clear()
                response = admin_client.get(url, headers={**headers, **partial})
                assert response.status_code < 500, url
                if writes:
                    problems[url] = sorted(set(writes))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(urls) > 40  # every route, several ids each
    assert problems == {}
