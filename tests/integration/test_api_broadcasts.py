"""The broadcast API as a client meets it: a draft written and started over JSON is the very
broadcast the pages show, sent through the same outbox to a real SMTP server; every answer
(201, 202, 200, 404, 409, 422) in the API's JSON shape, audited with the token as actor."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shopmail.broadcasts import quota
from shopmail.core import outbox
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, Broadcast, DeskSettings, Member, QuotaMonth
from tests.conftest import run_worker
from tests.factories import BroadcastFactory, MemberFactory, StoreFactory

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")
MUST_BE_AN_OBJECT = "オブジェクトで指定してください"
ZERO = {"queued": 0, "sending": 0, "retrying": 0, "sent": 0, "failed": 0, "unknown": 0}


@pytest.fixture
def api(app):
    _, secret = create_token("配信システム", actor="test", scopes=["broadcasts"])
    db.session.commit()
    client = app.test_client()

    def call(method: str, path: str, language: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {secret}"}
        if language:
            headers["Accept-Language"] = language
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def members(n: int, start: int = 0, **fields) -> list[Member]:
    return [
        MemberFactory(
            **{
                "number": f"M{i:06d}",
                "company": f"株式会社テスト{i}",
                "contact_name": f"山田 {i}郎",
                "email": f"m{i}@example.jp",
                "industry": "食品",
                **fields,
            }
        )
        for i in range(start, start + n)
    ]


def broadcast(**changes) -> dict:
    return {
        "store": "own",
        "subject": "[COMPANY] 様 新商品のお知らせ",
        "body": "[MEMBER_NAME] 様\n会員番号 [MEMBER_ID]\n配信停止: [UNSUBSCRIBE_URL]\n",
        "format": "text",
        "audience": {"filter": "industry=食品"},
        "insert_signature": True,
        "only_wanting_mail": True,
        **changes,
    }


def set_quota(limit: int) -> None:
    DeskSettings.get().monthly_quota = limit
    db.session.commit()


def used_quota() -> int:
    db.session.expire_all()
    row = db.session.get(QuotaMonth, quota.month_of())
    return row.used if row else 0


def actions() -> list[tuple[str, str]]:
    db.session.expire_all()
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action.like("broadcast.%")).order_by(AuditEntry.id)
    )
    return [(e.action, e.actor) for e in entries]


def test_a_broadcast_written_and_started_over_the_api_reaches_every_member_once(
    app, api, admin_client, mail_store, smtp_server
):
    members(30)
    members(4, start=100, industry="衣料")  # not matched by the filter
    created = api("POST", "/broadcasts", json=broadcast())
    assert created.status_code == 201, created.json
    bid = created.json["id"]
    assert created.headers["Location"].endswith(f"/api/v1/broadcasts/{bid}")

    started = api("POST", f"/broadcasts/{bid}/start")
    assert started.status_code == 202, started.json
    assert started.json["state"] == "sending" and started.json["total"] == 30
    assert started.json["counts"] == {**ZERO, "queued": 30}

    run_worker(app)
    received = smtp_server.wait_for(30)
    to = Counter(a for m in received for a in m.rcpt_tos)
    assert set(to) == {f"m{i}@example.jp" for i in range(30)} and max(to.values()) == 1
    mail = next(m.message for m in received if m.rcpt_tos == ["m7@example.jp"])
    assert mail["Subject"] == "株式会社テスト7 様 新商品のお知らせ"
    assert "山田 7郎 様" in mail.get_content() and "会員番号 M000007" in mail.get_content()

    status = api("GET", f"/broadcasts/{bid}").json
    assert status["state"] == "done" and status["counts"] == {**ZERO, "sent": 30}
    assert all(ISO.fullmatch(status[k]) for k in ("created_at", "started_at", "finished_at"))
    # The very broadcast the pages show.
    page = admin_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "100%" in page and "メール送信を完了いたしました" in page
    listing = admin_client.get("/broadcasts/").get_data(as_text=True)
    assert f"/broadcasts/{bid}/progress" in listing and "新商品のお知らせ" in listing
    assert actions() == [
        ("broadcast.drafted", "api:配信システム"),
        ("broadcast.composed", "api:配信システム"),
        ("broadcast.started", "api:配信システム"),
    ]
    assert used_quota() == 30


def test_created_answers_with_the_counts_of_the_confirm_page(api, admin_client, mail_store):
    members(5)
    members(2, start=10, wants_mail=False)
    members(1, start=20, email_invalid=True)
    members(1, start=30, email="")
    response = api("POST", "/broadcasts", json=broadcast())
    assert response.status_code == 201
    bid = response.json["id"]
    assert response.json == {
        "id": bid,
        "state": "draft",
        "sendable": 5,
        "unsendable": 2,
        "matches": 9,
        "not_wanting_mail": 2,
    }
    confirm = admin_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    assert "5 通のメールを送信します" in confirm
    everyone = api("POST", "/broadcasts", json=broadcast(only_wanting_mail=False)).json
    assert everyone["sendable"] == 7


def test_the_audience_is_a_member_list_filter_or_member_numbers(app, api, mail_store, smtp_server):
    members(6)
    members(3, start=10, industry="衣料", business_type="卸売")
    by_filter = api(
        "POST", "/broadcasts", json=broadcast(audience={"filter": "?industry=衣料&page=2"})
    )
    assert by_filter.json["sendable"] == 3
    by_number = api(
        "POST",
        "/broadcasts",
        json=broadcast(audience={"members": ["M000002", "M000011", "M000002"]}),
    )
    assert by_number.status_code == 201 and by_number.json["sendable"] == 2
    assert api("POST", f"/broadcasts/{by_number.json['id']}/start").status_code == 202
    run_worker(app)
    received = smtp_server.wait_for(2)
    assert sorted(a for m in received for a in m.rcpt_tos) == ["m11@example.jp", "m2@example.jp"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"store": "nowhere"}, "store", "no store has this code"),
        ({"subject": "  "}, "subject", "must not be empty"),
        ({"format": "pdf"}, "format", "must be one of: text, html, mjml"),
        ({"insert_signature": "yes"}, "insert_signature", "must be true or false"),
        ({"colour": "red"}, "colour", "is not a known field"),
        ({"audience": {}}, "audience", "give either filter or members"),
        (
            {"audience": {"members": ["M000000", "M999999"]}},
            "audience.members[1]",
            "no member has this number",
        ),
        (
            {"audience": {"filter": "industy=食品"}},
            "audience.filter",
            "the member list has no filter industy",
        ),
        (
            {"audience": {"filter": "wants_mail=maybe"}},
            "audience.filter.wants_mail",
            "must be one of: yes, no",
        ),
        (
            {"audience": {"filter": "purchased_from=2025-13-01"}},
            "audience.filter",
            "“2025-13-01” is not a date (YYYY-MM-DD).",
        ),
        (
            {"subject": "[ORDER_NO] のお知らせ"},
            "subject",
            "Unknown tag in member mails: [ORDER_NO] (line 1, column 1)",
        ),
        ({"body": "<mjml><mj-body>", "format": "mjml"}, "body", "The MJML template has an error"),
        (
            {"audience": {"filter": "industry=家具"}},
            "audience",
            "No member can receive this broadcast.",
        ),
    ],
)
def test_a_draft_that_cannot_be_sent_is_422_naming_the_field_and_nothing_is_written(
    api, mail_store, changes, field, message
):
    members(1)
    response = api("POST", "/broadcasts", json=broadcast(**changes), language="en")
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation"
    assert response.json["message"] == "Some fields are not valid."
    problems = {e["field"]: e["message"] for e in response.json["errors"]}
    assert message in problems[field], problems
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Broadcast.id))) == 0
    assert actions() == []


def test_validation_messages_follow_the_request_language(api, mail_store):
    members(1)
    body = broadcast(body="[ORDER_NO] です", format="html")
    japanese = api("POST", "/broadcasts", json=body)
    assert japanese.status_code == 422
    assert japanese.json["message"] == "正しくない項目があります。"
    assert japanese.json["errors"][0]["field"] == "body"
    assert "使用できないタグがあります: [ORDER_NO]" in japanese.json["errors"][0]["message"]
    not_an_object = api("POST", "/broadcasts", json=["件名"])
    assert not_an_object.status_code == 422
    assert not_an_object.json["errors"] == [{"field": "request", "message": MUST_BE_AN_OBJECT}]


def test_a_store_without_a_from_address_is_named(api):
    StoreFactory(code="own", from_addr="")
    members(1)
    response = api("POST", "/broadcasts", json=broadcast(), language="en")
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "store", "message": "Choose a store that has a From address."}
    ]


def test_over_the_quota_is_409_naming_both_numbers(api, mail_store):
    members(25)
    set_quota(10)
    refused = api("POST", "/broadcasts", json=broadcast(), language="en")
    assert refused.status_code == 409
    assert refused.json == {
        "error": "quota_exceeded",
        "message": "This broadcast would send 25 mails, but only 10 are left this month.",
    }
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Broadcast.id))) == 0

    # The limit drops between writing and starting (another admin): the start is refused.
    set_quota(100)
    bid = api("POST", "/broadcasts", json=broadcast()).json["id"]
    set_quota(10)
    refused = api("POST", f"/broadcasts/{bid}/start")
    assert refused.status_code == 409 and refused.json["error"] == "quota_exceeded"
    assert refused.json["message"] == "この配信は 25 通を送信しますが、今月の残りは 10 通です。"
    db.session.expire_all()
    assert db.session.get(Broadcast, bid).state == "draft"
    assert outbox.count_by_state() == {} and used_quota() == 0


def test_starting_twice_is_409_and_queues_nothing_twice(api, mail_store):
    members(3)
    set_quota(5)  # once started, 2 are left: the second start is refused for its state
    bid = api("POST", "/broadcasts", json=broadcast()).json["id"]
    assert api("POST", f"/broadcasts/{bid}/start").status_code == 202
    again = api("POST", f"/broadcasts/{bid}/start", language="en")
    assert again.status_code == 409
    assert again.json == {
        "error": "wrong_state",
        "message": "This broadcast cannot do that in its current state.",
    }
    assert outbox.count_by_state(broadcast_id=bid) == {"queued": 3} and used_quota() == 3


def test_a_draft_from_the_pages_with_content_the_pages_refuse_is_422_on_start(api, mail_store):
    members(2)
    unknown_tag = BroadcastFactory(store=mail_store, body="[ORDER_NO] です")
    broken = BroadcastFactory(store=mail_store, body="<mjml><mj-body>", format="mjml")
    unwritten = BroadcastFactory(store=mail_store, subject="", body="")
    for draft, field, message in (
        (unknown_tag, "body", "Unknown tag in member mails: [ORDER_NO]"),
        (broken, "body", "The MJML template has an error"),
        (unwritten, "subject", "Write a subject and a body."),
    ):
        response = api("POST", f"/broadcasts/{draft.id}/start", language="en")
        assert response.status_code == 422, response.json
        assert response.json["errors"][0]["field"] == field
        assert message in response.json["errors"][0]["message"]
    assert outbox.count_by_state() == {} and used_quota() == 0


def test_pause_resume_and_cancel(app, api, mail_store, smtp_server):
    members(12)
    bid = api("POST", "/broadcasts", json=broadcast()).json["id"]
    for action in ("pause", "resume"):  # a draft has not started
        refused = api("POST", f"/broadcasts/{bid}/{action}")
        assert refused.status_code == 409 and refused.json["error"] == "wrong_state", action
    api("POST", f"/broadcasts/{bid}/start")

    paused = api("POST", f"/broadcasts/{bid}/pause")
    assert paused.status_code == 200 and paused.json["state"] == "paused"
    assert api("POST", f"/broadcasts/{bid}/pause").status_code == 409
    run_worker(app)
    assert smtp_server.messages == []

    resumed = api("POST", f"/broadcasts/{bid}/resume")
    assert resumed.status_code == 202 and resumed.json["state"] == "sending"
    cancelled = api("POST", f"/broadcasts/{bid}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert cancelled.json["counts"] == {**ZERO, "deleted": 12}
    assert ISO.fullmatch(cancelled.json["finished_at"])
    assert used_quota() == 0
    for action in ("pause", "resume", "cancel", "start"):
        assert api("POST", f"/broadcasts/{bid}/{action}").status_code == 409, action
    run_worker(app)
    assert smtp_server.messages == []
    assert [a for a, _ in actions()] == [
        "broadcast.drafted",
        "broadcast.composed",
        "broadcast.started",
        "broadcast.paused",
        "broadcast.resumed",
        "broadcast.cancelled",
    ]


def test_an_unknown_broadcast_is_404(api):
    for method, path in (
        ("GET", "/broadcasts/999"),
        ("GET", "/broadcasts/999/refused"),
        ("POST", "/broadcasts/999/start"),
        ("POST", "/broadcasts/999/pause"),
        ("POST", "/broadcasts/999/resume"),
        ("POST", "/broadcasts/999/cancel"),
    ):
        response = api(method, path, language="en")
        assert response.status_code == 404, path
        assert response.json == {"error": "not_found", "message": "There is no broadcast 999."}
    assert api("GET", "/broadcasts/999").json["message"] == "メール配信 999 はありません。"


def test_the_refused_addresses_are_those_of_the_result_page(
    app, api, admin_client, mail_store, smtp_server
):
    members(5)
    smtp_server.handler.refuse["m3@example.jp"] = (550, "5.1.1 <m3@example.jp>: User unknown")
    bid = api("POST", "/broadcasts", json=broadcast()).json["id"]
    api("POST", f"/broadcasts/{bid}/start")
    run_worker(app)
    smtp_server.wait_for(4)
    status = api("GET", f"/broadcasts/{bid}").json
    assert status["counts"] == {**ZERO, "sent": 4, "failed": 1}
    refused = api("GET", f"/broadcasts/{bid}/refused")
    assert refused.status_code == 200
    assert refused.json == {
        "id": bid,
        "refused": [
            {
                "number": "M000003",
                "company": "株式会社テスト3",
                "email": "m3@example.jp",
                "code": 550,
                "reply": refused.json["refused"][0]["reply"],
                "source": "smtp",
                "status": "",
                "flagged_invalid": False,
            }
        ],
    }
    assert "User unknown" in refused.json["refused"][0]["reply"]
    page = admin_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True)
    assert "M000003" in page and "m3@example.jp" in page
