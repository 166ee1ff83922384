"""The template editor's preview: a slot's subject and body as a real recent order gets them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shopmail.automatic import template_choice, templates
from shopmail.automatic.templates import Selection
from shopmail.core import merge
from shopmail.core.states import MessageKind
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.models import Order, Shipment, Store
from shopmail.models.types import utcnow


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    order: Order
    sample_shipment: bool = False  # the order has no confirmed shipment: its values are made up
    # Which template this order gets with the templates saved now, and why (template_choice).
    why: str = ""
    # The order gets another template than the slot being edited (the key of the one it gets).
    other_template: tuple | None = None


def sample_order(sel: Selection) -> tuple[Order, Shipment | None] | None:
    """A real, recent order that fits the slot as closely as the data allows."""
    wishes = []
    if sel.kind != MessageKind.ORDER_CONFIRMATION:
        shipped = select(Shipment.order_id).where(Shipment.confirmed_at.isnot(None))
        if sel.variant:
            wishes.append(Order.id.in_(shipped.where(Shipment.carrier == sel.variant)))
        wishes.append(Order.id.in_(shipped))
    elif sel.variant == "2":
        wishes.append(Order.purchase_count >= Store.repeat_from_count)
    if sel.device == "mobile":
        wishes.insert(0, Order.buyer_email.like("%.ne.jp"))
    query = select(Order).join(Store, Order.store_id == Store.id).order_by(Order.ordered_at.desc())
    if sel.store_id is not None:
        query = query.where(Order.store_id == sel.store_id)
    for i in range(len(wishes) + 1):
        order = db.session.scalar(query.where(*wishes[i:]).limit(1))
        if order is not None:
            confirmed = [s for s in order.shipments if s.confirmed_at]
            shipment = next((s for s in confirmed if s.carrier == sel.variant), None)
            return order, shipment or (confirmed[0] if confirmed else None)
    return None


def preview(sel: Selection, subject: str, body: str) -> Preview | None:
    """The slot's subject and body as a real order of the store (or of any store) would get them."""
    found = sample_order(sel)
    if found is None:
        return None
    order, shipment = found
    made_up = shipment is None and sel.kind != MessageKind.ORDER_CONFIRMATION
    if made_up:
        # Not attached to the order (nothing to write): only its values are read.
        carrier = sel.variant or order.delivery_method
        shipment = Shipment(number="S-0000", carrier=carrier, tracking_no="1234-5678-9012")
        shipment.confirmed_at = utcnow()
    values = {
        **merge.store_values(order.store),
        **merge.order_values(order, shipment, templates.bank_account_text()),
    }
    choice = template_choice.choose(
        templates.Resolver.load(), sel.kind, order.store, order, shipment, {}
    )
    other = choice.key if choice.key not in (None, sel.key) else None
    return Preview(
        tags.render(subject, values),
        tags.render(body, values),
        order,
        made_up,
        template_choice.describe(choice.why),
        other,
    )
