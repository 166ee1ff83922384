"""Sending a broadcast again to the failed only, on real parts: a real worker sends through a real
SMTP server that defers two addresses until the retries run out, refuses one for good and drops
the connection after another's DATA (unknown: it may have arrived). The result page's button
and the API queue exactly the undelivered copies, once, within the quota; the unknown one is
listed apart and goes again only when ticked."""

from __future__ import annotations

import re
from html import unescape

import pytest

from shopmail.broadcasts import drafts as broadcasts
from shopmail.core.i18n import TOKYO
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings, Member, Message, QuotaMonth
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker
from tests.factories import MemberFactory

DEFERRED = ("m1@example.jp", "m4@example.jp")  # 451 every time: the retries run out
REFUSED = "m2@example.jp"  # 550: refused for good
DROPPED = "m3@example.jp"  # the connection dies after its DATA: unknown
SENT = ("m0@example.jp", "m5@example.jp")


def start_broadcast(store, admin, quota: int = 1000) -> int:
    for i in range(6):
        MemberFactory(number=f"M{i:06d}", company=f"株式会社テスト{i}", email=f"m{i}@example.jp")
    DeskSettings.get().monthly_quota = quota
    draft = broadcasts.create_draft({}, None, admin)
    content = broadcasts.Draft(
        store_id=store.id,
        subject="[COMPANY] 様 年末セールのお知らせ",
        body="[MEMBER_NAME] 様\n年末セールのご案内です。",
        format="text",
        insert_signature=False,
        only_wanting=False,
    )
    broadcasts.save_draft(draft, content, admin)
    db.session.commit()
    broadcasts.start(draft, admin)
    db.session.commit()
    return draft.id


@pytest.fixture
def ended(app, admin, mail_store, smtp_server):
    """A broadcast that has ended: 2 sent, 2 not delivered, 1 refused, 1 unknown."""
    handler = smtp_server.handler
    handler.defer_rcpt.update({addr: 100 for addr in DEFERRED})
    handler.refuse[REFUSED] = (550, f"5.1.1 <{REFUSED}>: User unknown")
    original, dropped = handler.handle_DATA, []

    async def drop_one(server, session, envelope):
        if DROPPED in envelope.rcpt_tos and not dropped:
            dropped.append(DROPPED)
            with handler.lock:
                handler.drop_after_data = 1
        return await original(server, session, envelope)

    handler.handle_DATA = drop_one
    bid = start_broadcast(mail_store, admin)
    run_worker(app)
    assert states() == {
        "m0@example.jp": "sent",
        "m1@example.jp": "failed",
        "m2@example.jp": "failed",
        "m3@example.jp": "unknown",
        "m4@example.jp": "failed",
        "m5@example.jp": "sent",
    }
    handler.defer_rcpt.clear()  # the receiving side accepts them now
    return bid


def states() -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(Message).where(Message.member_id.isnot(None)))
    return {m.to_addr: m.state for m in rows}


def arrivals(smtp_server, since: int) -> list[str]:
    return sorted(addr for m in smtp_server.messages[since:] for addr in m.rcpt_tos)


def page(client, path: str) -> str:
    return unescape(client.get(path).get_data(as_text=True))


def quota_used() -> int:
    db.session.expire_all()
    return db.session.get(QuotaMonth, utcnow().astimezone(TOKYO).strftime("%Y-%m")).used


def resent_audits() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(AuditEntry).filter_by(action="broadcast.sent_again").order_by(AuditEntry.id)
        )
    )


def test_the_result_page_sends_again_to_exactly_the_undelivered_members(
    app, ended, staff_client, smtp_server
):
    bid = ended
    result = page(staff_client, f"/broadcasts/{bid}/progress")
    numbers = dict(re.findall(r'data-outcome="(\w+)">([\d,]+)<', result))
    assert numbers == {
        "sent": "2",
        "refused": "1",
        "bounced": "0",
        "unknown": "1",
        "undelivered": "2",
        "total": "6",
    }
    form = result[result.index('id="resend-failed"') :]
    assert "未配信の2通をもう一度送信します" in form[: form.index(">")]  # the confirm dialog
    assert "1通はメールサーバに渡した後で接続が切れました" in result

    listing = page(staff_client, f"/broadcasts/{bid}/refused")
    unknown = listing[listing.index('id="unknown"') :]
    assert "届いている可能性があります" in unknown and DROPPED in unknown
    assert 'name="unknown_ids"' in unknown and "checked" not in unknown
    undelivered = listing[listing.index('id="undelivered"') : listing.index('id="unknown"')]
    assert all(addr in undelivered for addr in DEFERRED) and DROPPED not in undelivered

    before, used = len(smtp_server.messages), quota_used()
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    press = {"csrf_token": token, "all": "1", "back": "progress"}
    first = staff_client.post(f"/broadcasts/{bid}/send-again", data=press)
    assert first.status_code == 302 and first.location.endswith(f"/broadcasts/{bid}/progress")
    second = staff_client.post(f"/broadcasts/{bid}/send-again", data=press, follow_redirects=True)
    # The first press made the broadcast send again: the second is refused, nothing doubled.
    assert "再送信はメール配信が終わってからできます" in second.get_data(as_text=True)
    assert quota_used() == used + 2  # counted like any copy, once
    run_worker(app)

    assert arrivals(smtp_server, before) == sorted(DEFERRED)  # no sent, refused or unknown one
    assert states()[DROPPED] == "unknown" and states()[REFUSED] == "failed"
    assert all(states()[addr] == "sent" for addr in DEFERRED)
    [entry] = resent_audits()
    assert entry.details["count"] == 2 and entry.details["unknown"] == 0

    # Ticked on purpose, the unknown one goes again; nothing else does.
    db.session.expire_all()
    row = db.session.scalar(db.select(Message).filter_by(to_addr=DROPPED))
    before = len(smtp_server.messages)
    tick = {"csrf_token": csrf_token(staff_client, f"/broadcasts/{bid}/refused")}
    ticked = staff_client.post(
        f"/broadcasts/{bid}/send-again", data={**tick, "unknown_ids": str(row.id)}
    )
    assert ticked.status_code == 302
    run_worker(app)
    assert arrivals(smtp_server, before) == [DROPPED]
    assert resent_audits()[-1].details == {"count": 1, "unknown": 1}


def test_the_api_resends_the_failed_once_and_never_past_the_quota(app, ended, smtp_server):
    bid = ended
    _, secret = create_token("配信システム", actor="test", scopes=["broadcasts"])
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "ja"}
    DeskSettings.get().monthly_quota = quota_used() + 1  # room for one more, not two
    db.session.commit()

    over = client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=headers)
    assert over.status_code == 409 and over.json["error"] == "quota_exceeded"
    assert "今月の配信上限数を超えます" in over.json["message"]
    assert "何も再送信していません" in over.json["message"]
    assert [states()[addr] for addr in DEFERRED] == ["failed", "failed"]  # nothing queued
    assert resent_audits() == []

    DeskSettings.get().monthly_quota = 1000
    db.session.commit()
    before = len(smtp_server.messages)
    accepted = client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=headers)
    assert accepted.status_code == 202
    assert accepted.json == {"id": bid, "queued": 2, "unknown": 1}
    again = client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=headers)
    assert again.status_code == 409 and again.json["error"] == "wrong_state"
    run_worker(app)
    assert arrivals(smtp_server, before) == sorted(DEFERRED)
    ended_again = client.post(f"/api/v1/broadcasts/{bid}/resend-failed", headers=headers)
    assert ended_again.status_code == 202 and ended_again.json["queued"] == 0  # none left
    assert len(resent_audits()) == 1

    db.session.expire_all()
    member = db.session.scalar(db.select(Member).filter_by(email=REFUSED))
    assert not member.email_invalid  # resending never flags anyone
