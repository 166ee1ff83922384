"""API token scopes as a client meets them: a token without the scope a resource needs gets
403 in the API's JSON error shape, in the request's language, and nothing is written; a token
with it gets through. A GET is allowed by `read` or by the scope of what it reads."""

from __future__ import annotations

import pytest

from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, Broadcast, Member, Order
from tests.factories import BroadcastFactory

NEEDS = "次のいずれかのスコープが必要です"
EVERY = ("records", "members", "broadcasts", "read")
ORDER = {
    "store": "own",
    "number": "R-1",
    "ordered_at": "2025-04-01T10:15:00+09:00",
    "buyer": {"email": "taro@example.jp"},
    "lines": [{"name": "有田焼 マグカップ 藍", "unit_price": 2200}],
}
SHIPMENT = {"store": "own", "number": "S-1", "order_number": "R-1"}
QUOTE = {"store": "own", "number": "Q-1", "issued_at": "2025-04-01", "lines": [{"name": "x"}]}
MEMBER = {"number": "M000001", "email": "m1@example.jp"}
BROADCAST = {
    "store": "own",
    "subject": "[COMPANY] 様",
    "body": "本文",
    "audience": {"filter": ""},
}
# (method, path, body, the scopes that allow it)
CALLS = [
    ("POST", "/orders", {"orders": [ORDER]}, {"records"}),
    ("POST", "/shipments", {"shipments": [SHIPMENT]}, {"records"}),
    ("POST", "/quotes", {"quotes": [QUOTE]}, {"records"}),
    ("POST", "/members", {"members": [MEMBER]}, {"members"}),
    ("GET", "/orders/own/R-1/messages", None, {"records", "read"}),
    ("GET", "/members/M000001", None, {"members", "read"}),
    ("POST", "/broadcasts", BROADCAST, {"broadcasts"}),
    ("POST", "/broadcasts/{bid}/start", None, {"broadcasts"}),
    ("POST", "/broadcasts/{bid}/pause", None, {"broadcasts"}),
    ("POST", "/broadcasts/{bid}/resume", None, {"broadcasts"}),
    ("POST", "/broadcasts/{bid}/cancel", None, {"broadcasts"}),
    ("GET", "/broadcasts/{bid}", None, {"broadcasts", "read"}),
    ("GET", "/broadcasts/{bid}/refused", None, {"broadcasts", "read"}),
]


@pytest.fixture
def draft(app, store):
    return BroadcastFactory(store=store)


def call(app, scopes, method, path, body, bid, **headers):
    _, secret = create_token("連携", actor="test", scopes=scopes)
    db.session.commit()
    return app.test_client().open(
        "/api/v1" + path.format(bid=bid),
        method=method,
        json=body,
        headers={"Authorization": f"Bearer {secret}", **headers},
    )


def _written() -> tuple[int, ...]:
    db.session.expire_all()
    counts = [db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (Order, Member)]
    audit = db.session.scalar(
        db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action != "api_token.created")
    )
    return (*counts, audit)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), CALLS)
def test_a_token_without_the_scope_gets_403_and_nothing_is_written(
    app, store, draft, method, path, body, allowed
):
    others = [s for s in EVERY if s not in allowed]
    response = call(app, others, method, path, body, draft.id)
    assert response.status_code == 403
    needed = ", ".join(s for s in EVERY if s in allowed)
    assert response.json == {
        "error": "forbidden",
        "message": f"このトークンではこの操作はできません。{NEEDS}: {needed}。",
    }
    assert _written() == (0, 0, 0)
    db.session.refresh(draft)
    assert draft.state == "draft"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), CALLS)
def test_a_token_with_the_scope_gets_through(app, store, draft, method, path, body, allowed):
    for scope in allowed:
        response = call(app, [scope], method, path, body, draft.id)
        assert response.status_code not in (401, 403), (scope, response.json)


def test_the_403_speaks_the_language_the_request_asks_for(app, store, draft):
    response = call(
        app,
        ["read"],
        "POST",
        "/broadcasts",
        BROADCAST,
        draft.id,
        **{"Accept-Language": "en-US,en;q=0.8"},
    )
    assert response.status_code == 403
    assert response.json == {
        "error": "forbidden",
        "message": "This token may not do that: it needs one of these scopes: broadcasts.",
    }


def test_a_read_token_reads_but_never_writes(app, store, draft):
    assert call(app, ["read"], "GET", "/broadcasts/{bid}", None, draft.id).status_code == 200
    assert (
        call(app, ["read"], "POST", "/broadcasts/{bid}/cancel", None, draft.id).status_code == 403
    )
    db.session.expire_all()
    assert db.session.get(Broadcast, draft.id).state == "draft"


def test_the_broadcast_api_wants_a_token_like_the_rest_of_the_api(app, draft):
    client = app.test_client()
    for method, path in (("POST", "/broadcasts"), ("GET", f"/broadcasts/{draft.id}")):
        response = client.open(f"/api/v1{path}", method=method, json=BROADCAST)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
