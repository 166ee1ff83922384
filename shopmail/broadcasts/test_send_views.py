"""The broadcast confirm step's test send: the previewed member's copy to typed addresses."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_login import current_user

from shopmail.broadcasts import test_send
from shopmail.core.test_sends import TestSendError
from shopmail.extensions import db
from shopmail.models import Broadcast
from shopmail.web.test_send import answer, typed_addresses

bp = Blueprint("broadcast_tests", __name__, url_prefix="/broadcasts")


@bp.post("/<int:bid>/test")
def test(bid: int):
    b = db.get_or_404(Broadcast, bid)
    member_id = request.form.get("member", type=int)
    typed, addresses = typed_addresses()
    box = test_send.box(b, member_id or 0, typed)
    back = url_for("broadcasts.confirm", bid=b.id, member=member_id)
    try:
        member = test_send.audience_member(b, member_id)
        sent = test_send.send_test(b, member, addresses, current_user)
    except TestSendError as exc:
        return answer(box, back, error=exc.message)
    return answer(box, back, sent=sent.to)
