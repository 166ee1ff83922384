"""The send loop: one store's due mail over as many SMTP sessions as its relay allows.

A send job leases session slots of the store's relay (`relays`), a share of the budget when
several workers run, and asks another worker to take the rest. Each slot is a thread with its
own database session and SMTP connection, sending chunk after chunk: the pace allows a count,
that many due rows are claimed and marked `sending` in the same transaction, sent, and their
results written in one statement. A 421 or "too many" stops the chunk: the rows not yet sent
wait (their retries untouched) and the relay is paused and slowed for every worker.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import func, select

from shopmail.core import audit, dispatch, dkim_keys, outbox, quiet_hours, relays, run_ends, verp
from shopmail.core.boundary import commits
from shopmail.core.sending import (
    Renderer,
    deliver,
    envelope,
    invalid_mail,
    mails_for,
    message_bytes,
    relay_for,
    sendable_kinds,
    switched_on_kinds,
)
from shopmail.core.sending import worker_name as process_name
from shopmail.extensions import db
from shopmail.mail.compose import Mail
from shopmail.mail.signing import Signer
from shopmail.mail.transport import AuthError, Outcome, Relay, RelayError, Result, SmtpSession
from shopmail.models import Store

# A session claims what it sends in about CHUNK_SECONDS, at least CHUNK and at most MAX_CHUNK
# rows: a slow relay keeps chunks small (rows wait `sending` for less time and every session
# ends at about the same moment), a fast one amortises the chunk's claim and result writes.
# MAX_CHUNK also bounds a worker's memory (a session renders its chunk before sending it): at
# 1,000 a 200,000-member broadcast's worker grew 20 % over a 20,000-member one's, at 500 4 %.
CHUNK = 50
MAX_CHUNK = 500
CHUNK_SECONDS = 1.0
LONGEST_WAIT = 10.0  # a session waits this long for the pace in the loop; longer, it stops
JOB_SECONDS = 60.0  # then the job ends and the next one (any worker's) goes on


@dataclass
class _Run:
    """What the sessions of one job share."""

    app: Flask
    store_id: int
    relay: Relay
    key: str
    limits: relays.Limits
    renderers: Mapping[str, Renderer]
    worker: str  # holds the session leases; each session claims rows as "<worker>/<slot>"
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter = field(default_factory=Counter)
    errors: list[BaseException] = field(default_factory=list)
    resume_in: float = 0.0  # the pace or a throttle asks to come back later
    # Sessions stop claiming after this (monotonic clock): jobs stay short, stores take turns.
    deadline: float = field(default_factory=lambda: time.monotonic() + JOB_SECONDS)


def send_store(
    store_id: int, renderers: Mapping[str, Renderer], worker: str | None = None
) -> dict[str, int]:
    """Send a store's due mail over this job's share of its relay's sessions.

    Returns counts by outcome ("throttled" for rows the relay made wait).
    """
    worker = worker or process_name()
    store = db.session.get(Store, store_id)
    if store is None or store.sending_paused_reason:
        return {}
    opens_in = quiet_hours.opens_in(store_id, switched_on_kinds())
    if opens_in is not None:  # mail waiting for its quiet hours to end goes when they do
        dispatch.send_later([store_id], opens_in)
    if not sendable_kinds():
        return {}
    key, limits = relays.relay_key(store), relays.limits_for(store)
    slots = _take_sessions(store, key, limits, worker)
    if not slots:
        return {}
    app = current_app._get_current_object()
    run = _Run(app, store_id, relay_for(store), key, limits, renderers, worker)
    threads = [
        threading.Thread(target=_session, args=(run, slot, f"{worker}/{slot}"), daemon=True)
        for slot in slots
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if run.errors:
        raise run.errors[0]
    if run.resume_in:
        # The pace or a throttle holds the relay: come back then, not at once.
        dispatch.send_later([store_id], run.resume_in)
    else:
        # The rest of this store's mail, and stores that waited for this relay's sessions.
        dispatch.send_soon()
    retry_in = outbox.next_try_in(store_id, sendable_kinds())
    if retry_in is not None:  # a retry goes on time, not when the reconciler next looks
        dispatch.send_later([store_id], retry_in)
    return dict(run.counts)


@commits(outbox.SEND_LOOP)
def _take_sessions(store: Store, key: str, limits: relays.Limits, worker: str) -> list[int]:
    """This job's share of the relay's free sessions — no more than the due rows can use.
    Nothing while the relay is paused or its pace is used up for longer than a session waits."""
    ready = relays.allowance(key, limits, 1)
    if ready.wait > LONGEST_WAIT:
        dispatch.send_later([store.id], ready.wait)
        db.session.commit()
        return []
    due = _due_count(store.id, limit=limits.sessions * CHUNK + 1)
    workers = max(1, int(current_app.config["SHOPMAIL_WORKERS"]))
    share = min(math.ceil(limits.sessions / workers), math.ceil(due / CHUNK))
    slots = relays.take_sessions(key, limits, worker, share)
    if slots and due > len(slots) * CHUNK:
        dispatch.send_soon([store.id])  # another worker takes more of the budget
    db.session.commit()
    return slots


def _due_count(store_id: int, limit: int) -> int:
    kinds = sendable_kinds()
    if not kinds:
        return 0
    due = outbox.due_query(store_id, kinds).limit(limit).subquery()
    return db.session.scalar(select(func.count()).select_from(due)) or 0


def _session(run: _Run, slot: int, holder: str) -> None:
    """One leased session slot: chunks over one SMTP connection until nothing is due."""
    with run.app.app_context():
        try:
            store = _store(run.store_id)
            if store is None:
                return  # deleted since the job began
            with SmtpSession(run.relay) as smtp:
                _send_chunks(run, smtp, _Slot(slot, holder, store))
        except BaseException as exc:  # noqa: BLE001 - handed to the job's thread
            run.stop.set()
            with run.lock:
                run.errors.append(exc)
        finally:
            try:
                _release(run.key, slot, run.worker)
            finally:
                db.session.remove()


@dataclass
class _Slot:
    """One session thread's own: its slot, the name its claims carry, the store as the job
    began (its sender settings change only while the mail server is stopped, which stops this
    loop), and when its lease was last renewed."""

    number: int
    holder: str
    store: Store
    renewed: float = field(default_factory=time.monotonic)


@commits(outbox.SEND_LOOP)
def _store(store_id: int) -> Store | None:
    store = db.session.get(Store, store_id)
    if store is not None:
        db.session.expunge(store)  # read by the renderers; never written here
    db.session.rollback()
    return store


def _send_chunks(run: _Run, smtp: SmtpSession, slot: _Slot) -> None:
    carried = 0  # messages over this connection, for the per-session limit
    per_session = run.limits.per_session
    size = CHUNK
    while not run.stop.is_set():
        wanted = min(size, per_session - carried) if per_session else size
        rows, wait = _next_chunk(run, slot, wanted)
        if wait:
            if wait > LONGEST_WAIT:
                run.resume_in = max(run.resume_in, wait)
                return
            run.stop.wait(wait)
            continue
        if not rows:
            return
        runs = run_ends.Runs(
            frozenset(r.broadcast_id for r in rows if r.broadcast_id is not None),
            frozenset(r.mailing_id for r in rows if r.mailing_id is not None),
        )
        started = time.monotonic()
        try:
            deliveries, throttle = _send_chunk(run, smtp, slot.store, rows, runs)
        except AuthError as exc:
            run.stop.set()
            _pause_store(run.store_id, str(exc), slot.holder)
            return
        size = _next_size(len(rows), time.monotonic() - started)
        unsent = sum(d.throttled for d in deliveries)
        pause = _throttled(run, throttle, unsent) if throttle else 0.0
        outbox.record(deliveries, current_app.config["SHOPMAIL_RETRY_DELAYS"], pause, runs)
        with run.lock:
            run.counts.update("throttled" if d.throttled else d.outcome.value for d in deliveries)
        if throttle:
            smtp.close()  # a fresh connection when the pause is over
            run.resume_in = max(run.resume_in, pause)
            return
        carried += len(rows)
        if per_session and carried >= per_session:
            smtp.close()  # the next send opens a new connection
            carried = 0


def _next_size(sent: int, seconds: float) -> int:
    """The next chunk: what this session sends in CHUNK_SECONDS at the pace of its last one."""
    rate = sent / seconds if seconds > 0 else MAX_CHUNK / CHUNK_SECONDS
    return max(CHUNK, min(MAX_CHUNK, int(rate * CHUNK_SECONDS)))


@commits(outbox.SEND_LOOP)
def _next_chunk(run: _Run, slot: _Slot, wanted: int) -> tuple[list[outbox.Claimed], float]:
    """The gates, the pace, the claim and the lease renewal, in one transaction."""
    kinds = sendable_kinds()
    if not kinds or _paused(run.store_id):
        db.session.rollback()
        return [], 0.0
    # The lease is renewed a few times within its length, not per chunk; a lease that lapsed
    # meanwhile (another holder has the slot) ends this session.
    if time.monotonic() - slot.renewed > relays.session_lease().total_seconds() / 4:
        if not relays.renew_session(run.key, slot.number, run.worker):
            db.session.rollback()
            return [], 0.0
        slot.renewed = time.monotonic()
    if time.monotonic() > run.deadline:
        db.session.rollback()  # this job's time is up; the next job goes on
        return [], 0.0
    allowed = relays.allowance(run.key, run.limits, wanted)
    if allowed.count == 0:
        db.session.commit()
        return [], allowed.wait
    rows = outbox.claim_chunk(slot.holder, run.store_id, kinds, allowed.count)
    relays.note_sent(run.key, len(rows))
    db.session.commit()
    return rows, 0.0


def _paused(store_id: int) -> bool:
    """The store stopped sending (its relay refused the credentials), or is gone."""
    reason = db.session.scalar(select(Store.sending_paused_reason).where(Store.id == store_id))
    return reason is None or bool(reason)


def _send_chunk(
    run: _Run, smtp: SmtpSession, store: Store, rows: list[outbox.Claimed], runs: run_ends.Runs
) -> tuple[list[outbox.Delivery], str]:
    """Each row's SMTP transaction; stops at the first "too many" (returned as its reply)."""
    deliveries: list[outbox.Delivery] = []
    signer = dkim_keys.signer_for(store)  # once per chunk: the key is parsed once per process
    mails = mails_for(rows, store, run.renderers)
    pending = [(row, _composed(mail, signer)) for row, mail in mails]
    envelope_sender = verp.envelope_senders(store)
    senders = [envelope_sender(row.id) for row, _ in pending]
    upcoming = _announcements(pending, senders)
    for index, (row, composed) in enumerate(pending):
        if isinstance(composed, Result):
            deliveries.append(
                outbox.Delivery(
                    row.id,
                    row.attempts + 1,
                    composed.outcome,
                    composed.code,
                    composed.reply,
                    stage=composed.stage,
                )
            )
            continue
        mail, data = composed
        try:
            delivery = deliver(smtp, row, mail, data, senders[index], then=upcoming[index])
        except AuthError:
            outbox.record(deliveries, current_app.config["SHOPMAIL_RETRY_DELAYS"], runs=runs)
            raise
        except RelayError as exc:
            delivery = outbox.Delivery(
                row.id, row.attempts + 1, Outcome.TEMPORARY, exc.code, str(exc)
            )
        if delivery.outcome is Outcome.TEMPORARY and relays.is_throttle(
            delivery.code, delivery.reply
        ):
            reply = f"{delivery.code or ''} {delivery.reply}".strip()
            waiting = [r for r, _ in pending[index:]]
            deliveries += [_throttled_row(r, delivery.code, reply) for r in waiting]
            return deliveries, reply
        deliveries.append(delivery)
    return deliveries, ""


def _composed(mail: Mail | Result, signer: Signer | None) -> tuple[Mail, bytes] | Result:
    """A mail and its bytes; a chunk's mails are all composed (and signed) before its first is
    sent. Composed one at a time between SMTP round trips, each cost three times the CPU: every
    wait for a reply left the processor's caches cold."""
    if isinstance(mail, Result):
        return mail
    try:
        return mail, message_bytes(mail, signer)
    except ValueError as exc:  # AddressError included
        return invalid_mail(exc)


def _announcements(
    pending: list[tuple[outbox.Claimed, tuple[Mail, bytes] | Result]], senders: list[str]
) -> list[tuple[str, list[str]] | None]:
    """For each mail, the envelope of the next mail that will be sent after it (announced
    behind its final dot, `transport`); None where none follows or it has no envelope."""
    upcoming: list[tuple[str, list[str]] | None] = []
    following = None
    for (_, composed), sender in zip(reversed(pending), reversed(senders), strict=True):
        upcoming.append(following)
        if not isinstance(composed, Result):
            following = envelope(composed[0], sender)
    return upcoming[::-1]


def _throttled_row(row: outbox.Claimed, code: int | None, reply: str) -> outbox.Delivery:
    return outbox.Delivery(row.id, row.attempts + 1, Outcome.TEMPORARY, code, reply, throttled=True)


@commits(outbox.SEND_LOOP)
def _throttled(run: _Run, reply: str, unsent: int) -> float:
    pause = relays.throttled(run.key, run.limits, reply, unsent)
    db.session.commit()
    return pause


@commits(outbox.SEND_LOOP)
def _release(key: str, slot: int, holder: str) -> None:
    db.session.rollback()
    relays.release_session(key, slot, holder)
    db.session.commit()


@commits(outbox.SEND_LOOP)
def _pause_store(store_id: int, reply: str, holder: str) -> None:
    outbox.release(holder)
    store = db.session.get(Store, store_id)
    if store is not None and not store.sending_paused_reason:
        store.sending_paused_reason = reply
        audit.record("system", "store.sending_paused", store, reply=reply)
    db.session.commit()
