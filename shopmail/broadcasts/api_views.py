"""The broadcast API (`/api/v1/broadcasts`): write a draft, start, pause, resume and cancel it,
read its progress and the refused addresses. Every call goes through the services the pages use
(`drafts`, `runs`), so a broadcast made here is the one the pages show, audited with the token
as actor. Tokens, scopes, limits and JSON errors are those of every API blueprint
(`web.api_auth`); messages are in the request's language (Accept-Language)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from flask import Blueprint, abort, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shopmail.broadcasts import api_document, api_schema, drafts, results, runs, test_send
from shopmail.broadcasts import schedule as broadcast_schedule
from shopmail.broadcasts.api_schema import LISTED_STATES, Audience
from shopmail.broadcasts.rendering import ContentError, compile_content
from shopmail.core import member_filter, outbox
from shopmail.core.states import ApiScope, BroadcastState, MessageKind
from shopmail.core.test_sends import TestSendError
from shopmail.extensions import db
from shopmail.models import Broadcast, Member, Store
from shopmail.web.api_auth import actor, api_blueprint, needs
from shopmail.web.json_errors import error

bp = api_blueprint(Blueprint("broadcasts_api", __name__), openapi=api_document.PART)
# The member list's URL carries its page number beside the filter: allowed, and ignored.
IGNORED_KEYS = ("page",)
CHOICES = {
    "invalid": member_filter.YES_NO,
    "wants_mail": member_filter.YES_NO,
    "last_purchase": member_filter.LAST_PURCHASE,
    "address": member_filter.ADDRESS,
    "bounced": member_filter.YES_NO,
}
LOOKUP_BATCH = 500
NOT_NOW = _l("This broadcast cannot do that in its current state.")


@bp.post("/broadcasts")
@needs(ApiScope.BROADCASTS)
def create():
    wanted, problems = api_schema.read_request(request.get_json(silent=True))
    if wanted is None:
        return _invalid(problems)
    store = db.session.scalar(select(Store).filter_by(code=wanted.store))
    args, member_ids, problems = _audience(wanted.audience)
    if store is None:
        problems.insert(0, ("store", _l("no store has this code")))
    if problems:
        return _invalid(problems)
    try:
        # The compose page's two steps: a draft for the audience, then its content checked
        # and kept; refused content rolls both back.
        broadcast = drafts.create_draft(args, member_ids, actor())
        counts = drafts.save_draft(broadcast, _draft(wanted, store), actor())
    except (ContentError, drafts.BroadcastError) as exc:
        return _refused(exc)
    answer = {
        "id": broadcast.id,
        "state": broadcast.state,
        "sendable": counts.final,
        "unsendable": counts.unsendable,
        "matches": counts.matches,
        "not_wanting_mail": counts.sendable_no_mail,
    }
    return answer, 201, {"Location": url_for(".status", bid=broadcast.id)}


def _draft(wanted: api_schema.BroadcastRequest, store: Store) -> drafts.Draft:
    return drafts.Draft(
        store_id=store.id,
        subject=wanted.subject,
        body=wanted.body,
        format=wanted.format,
        insert_signature=wanted.insert_signature,
        only_wanting=wanted.only_wanting_mail,
    )


@bp.post("/broadcasts/<int:bid>/start")
@needs(ApiScope.BROADCASTS)
def start(bid: int):
    broadcast = _broadcast(bid)
    wanted, problems = api_schema.read_request(
        request.get_json(silent=True) or {}, api_schema.StartRequest
    )
    if wanted is None:
        return _invalid(problems)
    if wanted.send_at is not None:
        return _schedule(broadcast, wanted.send_at)
    if broadcast.state != BroadcastState.DRAFT:
        return _refused(drafts.WrongState(NOT_NOW))
    try:
        # The pages refuse such content when it is written; a draft from the pages may not
        # have been written yet, so it is checked again here.
        compile_content(broadcast.subject, broadcast.body, broadcast.format)
        started = drafts.start(broadcast, actor())
    except (ContentError, drafts.BroadcastError) as exc:
        return _refused(exc)
    if not started:  # another request started it a moment ago
        return _refused(drafts.WrongState(NOT_NOW))
    return _status(broadcast), 202


def _schedule(broadcast: Broadcast, send_at: datetime):
    """Start at `send_at`: schedule a draft, or move a scheduled broadcast's time."""
    try:
        compile_content(broadcast.subject, broadcast.body, broadcast.format)
        if broadcast.state == BroadcastState.SCHEDULED:
            broadcast_schedule.reschedule(broadcast, send_at, actor())
        else:
            broadcast_schedule.schedule(broadcast, send_at, actor())
    except (ContentError, drafts.BroadcastError) as exc:
        return _refused(exc)
    return _status(broadcast), 202


@bp.post("/broadcasts/<int:bid>/<any(pause, resume, cancel):action>")
@needs(ApiScope.BROADCASTS)
def control(bid: int, action: str):
    broadcast = _broadcast(bid)
    try:
        getattr(runs, action)(broadcast, actor())
    except drafts.BroadcastError as exc:
        return _refused(exc)
    # Resuming hands the rows to the workers; pausing and cancelling are done when answered.
    return _status(broadcast), 202 if action == "resume" else 200


@bp.post("/broadcasts/<int:bid>/test")
@needs(ApiScope.BROADCASTS)
def test(bid: int):
    broadcast = _broadcast(bid)
    wanted, problems = api_schema.read_request(
        request.get_json(silent=True), api_schema.TestSendRequest
    )
    if wanted is None:
        return _invalid(problems)
    try:
        member = test_send.audience_member(broadcast, number=wanted.member)
        sent = test_send.send_test(broadcast, member, wanted.to, actor())
    except TestSendError as exc:
        if exc.field == "rate_limit":
            return error(429, "too_many_requests", exc.message)
        return _invalid([(exc.field, exc.message)])
    return {
        "id": broadcast.id,
        "member": member.number,
        "to": sent.to,
        "subject": sent.subject,
    }, 202


@bp.get("/broadcasts/<int:bid>")
@needs(ApiScope.BROADCASTS)
def status(bid: int):
    return _status(_broadcast(bid))


@bp.get("/broadcasts/<int:bid>/refused")
@needs(ApiScope.BROADCASTS)
def refused(bid: int):
    broadcast = _broadcast(bid)
    return {
        "id": broadcast.id,
        "refused": [
            {
                "number": r.number,
                "company": r.company,
                "email": r.addr,
                "code": r.code,
                "reply": r.reply,
                "source": r.source,
                "status": r.status,
                "flagged_invalid": r.flagged,
            }
            for r in results.refused(broadcast)
        ],
    }


@bp.post("/broadcasts/<int:bid>/resend-failed")
@needs(ApiScope.BROADCASTS)
def resend_failed(bid: int):
    """The result page's "send the undelivered mails again" (`runs.send_again`, all of them)."""
    broadcast = _broadcast(bid)
    try:
        queued = runs.send_again(broadcast, None, actor())
    except drafts.BroadcastError as exc:
        return _refused(exc)
    return {"id": broadcast.id, "queued": queued, "unknown": len(results.unknown(broadcast))}, 202


def _broadcast(bid: int) -> Broadcast:
    broadcast = db.session.get(Broadcast, bid)
    if broadcast is None:
        abort(error(404, "not_found", str(_l("There is no broadcast %(id)s.", id=bid))))
    return broadcast


def _status(broadcast: Broadcast) -> dict:
    counts = outbox.count_by_state(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    store = db.session.get(Store, broadcast.store_id) if broadcast.store_id else None
    return {
        "id": broadcast.id,
        "state": broadcast.state,
        "store": store.code if store else None,
        "subject": broadcast.subject,
        "total": broadcast.total,
        "counts": {**{state: 0 for state in LISTED_STATES}, **counts},
        "created_at": _iso(broadcast.created_at),
        "send_at": _iso(broadcast.send_at),
        "started_at": _iso(broadcast.started_at),
        "finished_at": _iso(broadcast.finished_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _audience(audience: Audience) -> tuple[dict, list[int] | None, list[tuple[str, object]]]:
    """The filter arguments or the member ids the audience names, and what is wrong with it."""
    if audience.members is not None:
        ids = _member_ids(audience.members)
        unknown = [
            (f"audience.members[{i}]", _l("no member has this number"))
            for i, number in enumerate(audience.members)
            if number not in ids
        ]
        return {}, sorted(set(ids.values())), unknown
    pairs = parse_qsl((audience.filter or "").lstrip("?"), keep_blank_values=True)
    wanted = member_filter.parse_filter(MultiDict(pairs))
    problems: list[tuple[str, object]] = [("audience.filter", e) for e in wanted.errors]
    unknown = sorted({k for k, _ in pairs} - set(member_filter.FILTER_KEYS) - set(IGNORED_KEYS))
    if unknown:
        message = _l("the member list has no filter %(keys)s", keys=", ".join(unknown))
        problems.append(("audience.filter", message))
    for key, choices in CHOICES.items():
        if key in wanted.args and wanted.args[key] not in choices:
            message = _l("must be one of: %(choices)s", choices=", ".join(choices))
            problems.append((f"audience.filter.{key}", message))
    return wanted.args, None, problems


def _member_ids(numbers: list[str]) -> dict[str, int]:
    """Member number → id for the numbers that exist."""
    found: dict[str, int] = {}
    wanted = sorted(set(numbers))
    for at in range(0, len(wanted), LOOKUP_BATCH):
        chunk = wanted[at : at + LOOKUP_BATCH]
        query = select(Member.number, Member.id).where(Member.number.in_(chunk))
        found.update(dict(db.session.execute(query).all()))
    return found


def _invalid(problems: list[tuple[str, object]]):
    fields = [{"field": name, "message": str(message)} for name, message in problems]
    return error(422, "validation", str(_l("Some fields are not valid.")), errors=fields)


def _refused(exc: Exception):
    """The answer for what the services refused: 409 for the state or the quota, else 422."""
    if isinstance(exc, ContentError):
        return _invalid(exc.problems)
    if isinstance(exc, drafts.OverQuota):
        return error(409, "quota_exceeded", str(exc))
    if isinstance(exc, drafts.WrongState):
        return error(409, "wrong_state", str(exc))
    return _invalid([(getattr(exc, "field", None) or "broadcast", str(exc))])
