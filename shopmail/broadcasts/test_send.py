"""A broadcast's test send: one audience member's copy, exactly as the confirm step previews it,
to the addresses staff type (`core.test_sends`). Its unsubscribe link is the sample one: it
unsubscribes no one, so forwarding the test cannot take the real member off the list."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from shopmail.broadcasts import drafts
from shopmail.core import audit, test_sends
from shopmail.core.test_sends import TestSendError
from shopmail.extensions import db
from shopmail.mail.addresses import device_of
from shopmail.models import Broadcast, Member, Store, User
from shopmail.web.test_send import TestSendBox

CHOICES = 50  # audience members offered to pick from on the confirm step


def members_to_pick(broadcast: Broadcast) -> list[Member]:
    """The first audience members, in the order the broadcast sends to them."""
    return list(db.session.scalars(drafts.recipients_query(broadcast).limit(CHOICES)))


def audience_member(
    broadcast: Broadcast, member_id: int | None = None, number: str | None = None
) -> Member:
    """The chosen member (by id or member number) if the broadcast reaches them; none chosen,
    the first. Raises TestSendError when the choice is not in the audience."""
    query = drafts.recipients_query(broadcast)
    if member_id is not None:
        query = query.where(Member.id == member_id)
    elif number is not None:
        query = query.where(Member.number == number)
    member = db.session.scalar(query.limit(1))
    if member is None:
        if member_id is None and number is None:
            raise TestSendError(_l("No member can receive this broadcast."), "member")
        raise TestSendError(_l("This member is not among the broadcast's recipients."), "member")
    return member


def picked(broadcast: Broadcast, member_id: int | None) -> Member | None:
    """The member the confirm step previews: the one picked while the broadcast reaches them,
    else None (the first recipient)."""
    if member_id is None:
        return None
    return db.session.scalar(
        drafts.recipients_query(broadcast).where(Member.id == member_id).limit(1)
    )


def box(broadcast: Broadcast, member_id: int, typed: str = "") -> TestSendBox:
    """The confirm step's test-send box, for the member previewed."""
    action = url_for("broadcast_tests.test", bid=broadcast.id)
    return TestSendBox(action, {"member": member_id}, typed=typed, quota_free=True)


def send_test(
    broadcast: Broadcast, member: Member, typed: list[str], actor: User | str
) -> test_sends.TestSent:
    """Queue the member's copy to each typed address; returns what was queued. Nothing is sent
    when any address is refused or the broadcast has no subject or body yet."""
    to = test_sends.check_addresses(typed)
    if not broadcast.subject.strip() or not broadcast.body.strip():
        raise TestSendError(_l("Write a subject and a body."), "broadcast")
    member, copy = drafts.preview(broadcast, member)
    store = db.session.get(Store, broadcast.store_id) if broadcast.store_id else None
    source = f"broadcast:{broadcast.id}:member:{member.id}"
    sent = test_sends.queue_test(store, copy, device_of(member.email), to, actor, source)
    audit.record(
        actor, "broadcast.test_sent", broadcast, to=to, member=member.number, messages=sent.ids
    )
    return sent
