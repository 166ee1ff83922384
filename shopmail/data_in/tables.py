"""The fields of orders, shipments, quotes and members as pushed or imported: where each is
in the record's dict, which model attribute it feeds and how its value is read."""

from __future__ import annotations

from dataclasses import dataclass

from shopmail.data_in import fields as f
from shopmail.models.commerce import PAYMENT_KINDS

ORDER_STATUSES = ("new", "processing", "shipped", "completed", "cancelled")
QUOTE_STATUSES = ("open", "accepted", "declined", "expired")
KINDS = ("orders", "shipments", "quotes", "members")
# Payment method names as shops write them → the payment kind, when no kind is given.
PAYMENT_WORDS = (
    ("代金引換", "cod"),
    ("代引", "cod"),
    ("振込", "bank_transfer"),
    ("コンビニ", "convenience"),
    ("請求書", "invoice"),
    ("後払い", "invoice"),
    ("カード", "card"),
    ("card", "card"),
)


@dataclass(frozen=True)
class Field:
    path: str  # where it is in the pushed dict: "buyer.email"
    attr: str  # the model attribute
    read: f.Reader
    required: bool = False


BUYER = (
    Field("buyer.name", "buyer_name", f.text(200)),
    Field("buyer.email", "buyer_email", f.email(required=True), required=True),
    Field("buyer.zip", "buyer_zip", f.text(10)),
    Field("buyer.address", "buyer_address", f.text(1000, multiline=True)),
    Field("buyer.tel", "buyer_tel", f.text(30)),
)
SHIP_TO = (
    Field("ship_to.name", "ship_name", f.text(200)),
    Field("ship_to.company", "ship_company", f.text(200)),
    Field("ship_to.zip", "ship_zip", f.text(10)),
    Field("ship_to.address", "ship_address", f.text(1000, multiline=True)),
    Field("ship_to.tel", "ship_tel", f.text(30)),
)
AMOUNTS = (
    Field("item_total", "item_total", f.integer()),
    Field("tax", "tax", f.integer()),
    Field("shipping_fee", "shipping_fee", f.integer()),
    Field("total", "total", f.integer()),
)
ORDER_FIELDS = (
    Field("ordered_at", "ordered_at", f.when, required=True),
    Field("status", "status", f.choice(ORDER_STATUSES)),
    *BUYER,
    Field("purchase_count", "purchase_count", f.integer(1, 100_000)),
    *SHIP_TO,
    Field("shipping_instructions", "shipping_instructions", f.text(2000, multiline=True)),
    Field("delivery_method", "delivery_method", f.text(40)),
    Field("delivery_date", "delivery_date", f.day),
    Field("payment.method", "payment_method", f.text(60)),
    Field("payment.kind", "payment_kind", f.choice(PAYMENT_KINDS)),
    *AMOUNTS,
    Field("points_used", "points_used", f.integer()),
)
ORDER_LINE_FIELDS = (
    Field("sku", "sku", f.text(60)),
    Field("name", "name", f.key(300), required=True),
    Field("options", "options", f.text(2000, multiline=True)),
    Field("unit_price", "unit_price", f.integer(-10_000_000, 10_000_000)),
    Field("quantity", "quantity", f.integer(1, 100_000)),
)
SHIPMENT_FIELDS = (
    Field("carrier", "carrier", f.text(40)),
    Field("tracking_number", "tracking_no", f.text(60)),
    Field("confirmed_at", "confirmed_at", f.when),
)
QUOTE_FIELDS = (
    Field("issued_at", "issued_at", f.when, required=True),
    Field("expires_on", "expires_on", f.day),
    Field("status", "status", f.choice(QUOTE_STATUSES)),
    Field("company", "company", f.text(200)),
    Field("contact_name", "contact_name", f.text(200)),
    Field("email", "email", f.email(required=False)),
    Field("zip", "zip", f.text(10)),
    Field("address", "address", f.text(1000, multiline=True)),
    Field("tel", "tel", f.text(30)),
    *AMOUNTS,
    Field("notes", "notes", f.text(5000, multiline=True)),
)
QUOTE_LINE_FIELDS = tuple(line for line in ORDER_LINE_FIELDS if line.path != "options")
MEMBER_FIELDS = (
    Field("company", "company", f.text(200)),
    Field("contact_name", "contact_name", f.text(200)),
    Field("email", "email", f.email(required=False)),
    Field("wants_mail", "wants_mail", f.flag),
    Field("email_invalid", "email_invalid", f.flag),
    Field("business_type", "business_type", f.text(60)),
    Field("industry", "industry", f.text(60)),
    Field("display_group", "display_group", f.text(60)),
    Field("last_purchase_on", "last_purchase_on", f.day),
    Field("tel", "tel", f.text(30)),
)
# Keys read by hand rather than through a Field table.
EXTRA_KEYS = {
    "orders": ("store", "number", "member_number", "lines", "shipment"),
    "shipments": ("store", "number", "order_number"),
    "quotes": ("store", "number", "member_number", "lines"),
    "members": ("number",),
}
FIELDS = {
    "orders": ORDER_FIELDS,
    "shipments": SHIPMENT_FIELDS,
    "quotes": QUOTE_FIELDS,
    "members": MEMBER_FIELDS,
}
