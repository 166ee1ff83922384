"""The bounces page's data: automatic and record mails that bounced, by store and kind, with
the order each belongs to; and the setting that flags addresses invalid after N hard bounces."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from shopmail.core import audit
from shopmail.core.mail_lists import MailFilter
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import DeskSettings, Message, Order, Store, User

KINDS: tuple[MessageKind, ...] = (*AUTOMATIC_KINDS, MessageKind.RECORD)
LIMIT = 500
MAX_FLAG_AFTER = 100


@dataclass(frozen=True)
class Bounce:
    message: Message
    order: Order | None


def mail_filter(store: str | None = None, kind: str | None = None) -> MailFilter:
    return MailFilter.parse(KINDS, store, kind)


def bounced(wanted: MailFilter) -> list[Bounce]:
    """The latest bounced mails (hard, or with temporary bounces counted), newest first."""
    query = wanted.apply(
        select(Message).where(or_(Message.state == MessageState.BOUNCED, Message.soft_bounces > 0))
    )
    newest = func.coalesce(Message.bounced_at, Message.updated_at).desc()
    rows = list(db.session.scalars(query.order_by(newest, Message.id.desc()).limit(LIMIT)))
    order_ids = {_order_id(row) for row in rows} - {None}
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    return [Bounce(row, orders.get(_order_id(row))) for row in rows]


def _order_id(row: Message) -> int | None:
    if row.order_id is not None:
        return row.order_id
    return row.record_id if row.record_type == "order" else None


def stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.id)))


def set_flag_after(count: int, actor: User) -> None:
    """Flag a member's address invalid by itself after `count` hard bounces (0: never)."""
    settings = DeskSettings.get()
    if settings.bounce_flag_after == count:
        return
    audit.record(
        actor,
        "desk_settings.bounce_flag_updated",
        None,
        before=settings.bounce_flag_after,
        after=count,
    )
    settings.bounce_flag_after = count
