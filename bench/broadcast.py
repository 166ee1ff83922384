"""shopmail's broadcast path end to end: recipient rows, RQ workers, rendering, SMTP, statuses."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from bench import data, rig
from shopmail.broadcasts import drafts as broadcasts
from shopmail.core.states import MessageState
from shopmail.extensions import db
from shopmail.models import Broadcast, Message

UNFINISHED = (MessageState.QUEUED, MessageState.RETRYING, MessageState.SENDING)

BODY = (
    "[COMPANY]\n[MEMBER_NAME] 様\n\nいつもさくら卸をご利用いただきありがとうございます。\n"
    "冬の新商品のご案内です。有田焼の新作マグカップ、今治タオルのギフトセットなど、\n"
    "法人様向けの特別価格でご用意いたしました。\n\n"
    + "・新商品のご案内(詳細は会員ページをご覧ください)\n" * 12
    + "\n配信停止: [UNSUBSCRIBE_URL]\n"
)


@dataclass
class Run:
    database: str
    workers: int
    sessions: int
    delay: float
    members: int
    seconds: float
    received: int
    peak_rss: int
    span: float | None = None  # first to last message at the slow sink

    @property
    def rate(self) -> float:
        """End to end: from `broadcasts.start` (the workers already waiting, as in production)
        to the last row's outcome written."""
        return self.members / self.seconds

    @property
    def steady(self) -> float | None:
        """At the sink, from the first message to the last: without `broadcasts.start` and the
        first claim."""
        return (self.received - 1) / self.span if self.span else None


def _finished(broadcast_id: int) -> bool:
    """The broadcast reads finished: its last row's outcome is written (the send loop marks it
    done in that same transaction). One row to read, so polling it often costs nothing."""
    finished = db.session.scalar(select(Broadcast.finished_at).where(Broadcast.id == broadcast_id))
    db.session.rollback()  # no snapshot held between polls (SQLite's WAL could not checkpoint)
    return finished is not None


def run(
    database: str,
    workers: int,
    members: int,
    sessions: int = 4,
    delay: float = 0.0,
    timeout: float = 900,
) -> Run:
    """`members` mails from `workers` running workers over the store's relay of `sessions` SMTP
    sessions; the sink answers each final dot after `delay` seconds (0: Postfix's smtp-sink)."""
    with rig.sink(delay) as sink, rig.redis() as redis_url, rig.database(database) as url:
        app = rig.make_app(url, redis_url, SHOPMAIL_WORKERS=workers)
        with app.app_context():
            store, admin = data.desk(sink.port, sessions)
            data.members(members)
            draft = broadcasts.create_draft({}, None, admin)
            broadcasts.save_draft(
                draft,
                broadcasts.Draft(
                    store_id=store.id,
                    subject="【さくら卸】冬の新商品のご案内",
                    body=BODY,
                    format="text",
                    insert_signature=True,
                    only_wanting=False,
                ),
                admin,
            )
            db.session.commit()
            broadcast_id = draft.id
            with rig.workers(app, workers) as (procs, logs):
                started = time.perf_counter()
                queued = broadcasts.start(draft, admin)
                db.session.commit()
                peak = rig.wait_for(lambda: _finished(broadcast_id), procs, logs, timeout)
                seconds = time.perf_counter() - started
                left = db.session.scalar(
                    select(func.count()).select_from(Message).where(Message.state.in_(UNFINISHED))
                )
        if not delay:
            time.sleep(0.3)  # smtp-sink's counter line
        received = sink.received()
        span = sink.span()
    if queued != members or received != members or left:
        raise RuntimeError(
            f"queued {queued}, sink received {received}, {left} unfinished; expected {members}"
        )
    return Run(database, workers, sessions, delay, members, seconds, received, peak, span)
