"""The data-in schema: orders, shipments, quotes and members as the JSON API receives them and
the CSV import reads them — defined once, here, as pydantic models.

Both ways in validate a record with `read`, so they accept the same data and refuse it with the
same messages; the OpenAPI document (`api_document`) is generated from these models. A field
that is not given (or, for numbers, flags and choices, given empty) is left out of `columns`,
so it keeps its stored value. Checks against the database live in `records`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopmail.data_in.values import (
    DATETIME_NOTE,
    KEEP_WHEN_EMPTY,
    Amount,
    Bad,
    Choice,
    Day,
    Email,
    Flag,
    Key,
    MaybeEmail,
    MaybeWhen,
    Text,
    When,
)
from shopmail.models.commerce import PAYMENT_KINDS

ORDER_STATUSES = ("new", "processing", "shipped", "completed", "cancelled")
QUOTE_STATUSES = ("open", "accepted", "declined", "expired")
MAX_RECORDS = 500  # records in one API request
KEEP_NOTE = "A field left out keeps its stored value (a new record gets the default)."
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
# Fields that are looked up or stored apart rather than copied onto the record's row.
REFERENCES = ("store", "number", "order_number", "member_number", "lines", "shipment")


class Record(BaseModel):
    """A part of a record: unknown keys are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class Party(Record):
    """A nested group of fields stored as prefixed columns (buyer.email → buyer_email)."""

    prefix: ClassVar[str]


class Buyer(Party):
    prefix: ClassVar[str] = "buyer_"
    name: Text(200) = None
    email: Email
    zip: Text(10) = None
    address: Text(1000, multiline=True) = None
    tel: Text(30) = None


class ShipTo(Party):
    prefix: ClassVar[str] = "ship_"
    name: Text(200) = None
    company: Text(200) = None
    zip: Text(10) = None
    address: Text(1000, multiline=True) = None
    tel: Text(30) = None


class Payment(Party):
    prefix: ClassVar[str] = "payment_"
    method: Text(60) = None
    kind: Choice(PAYMENT_KINDS) = None


class QuoteLine(Record):
    sku: Text(60) = ""
    name: Key(300)
    unit_price: Amount(-10_000_000, 10_000_000, description="Yen per unit (tax included).") = 0
    quantity: Amount(1, 100_000) = 1


class OrderLine(QuoteLine):
    options: Text(2000, multiline=True) = ""


ItemTotal = Amount(description="Yen; when left out, the sum of the lines.")
Tax = Amount(description="Yen (consumption tax included in the prices).")
Yen = Amount(description="Yen, a whole number.")
Total = Amount(description="Yen; when left out, item_total + shipping_fee − points_used.")


class ShipmentFields(Record):
    carrier: Text(40, description="Carrier; defaults to the order's delivery_method.") = None
    tracking_number: Text(60, serialization_alias="tracking_no") = None
    confirmed_at: Annotated[
        MaybeWhen,
        Field(
            description="When the shipment was confirmed (starts the shipping notice). "
            + DATETIME_NOTE
        ),
    ] = None


class OrderShipment(ShipmentFields):
    """The shipment given with an order; creates or updates a shipment row."""

    number: Text(60, description="Defaults to the order number.") = None


class Order(Record):
    __doc__ = KEEP_NOTE + " Lines, when given, replace the order's lines."
    store: Key(40, description="The store's code.")
    number: Key(60)
    ordered_at: When
    status: Choice(ORDER_STATUSES) = None
    member_number: Text(40, description="A member's number (B2B), or empty for none.") = None
    buyer: Buyer
    purchase_count: Amount(
        1,
        100_000,
        description="The buyer's orders at this store, this one included. When left out on a "
        "new order: counted from the orders of the same store with the same e-mail.",
    ) = None
    ship_to: Annotated[ShipTo | None, KEEP_WHEN_EMPTY] = None
    shipping_instructions: Text(2000, multiline=True) = None
    delivery_method: Text(40, description="Delivery method / carrier, e.g. ヤマト運輸.") = None
    delivery_date: Day = None
    payment: Annotated[Payment | None, KEEP_WHEN_EMPTY] = None
    item_total: ItemTotal = None
    tax: Tax = None
    shipping_fee: Yen = None
    points_used: Amount(description="Points used, in yen.") = None
    total: Total = None
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=1000)]
    shipment: OrderShipment | None = None

    @model_validator(mode="before")
    @classmethod
    def _buyer_is_needed(cls, data: Any) -> Any:
        # A missing buyer is reported as its missing e-mail, the field people have to fill.
        if isinstance(data, dict) and data.get("buyer") is None:
            return {**data, "buyer": {}}
        return data

    def payment_kind(self) -> str | None:
        """When no kind is given: the one the method names ("代金引換" → cod), else other."""
        if self.payment is None or self.payment.kind is not None or not self.payment.method:
            return None
        method = self.payment.method.lower()
        return next((kind for word, kind in PAYMENT_WORDS if word in method), "other")


class Shipment(ShipmentFields):
    __doc__ = KEEP_NOTE
    store: Key(40, description="The store's code.")
    number: Key(60)
    order_number: Key(60)


class Quote(Record):
    __doc__ = KEEP_NOTE
    store: Key(40, description="The store's code.")
    number: Key(60)
    issued_at: When
    expires_on: Day = None
    status: Choice(QUOTE_STATUSES) = None
    member_number: Text(40, description="A member's number, or empty for none.") = None
    company: Text(200) = None
    contact_name: Text(200) = None
    email: MaybeEmail = None
    zip: Text(10) = None
    address: Text(1000, multiline=True) = None
    tel: Text(30) = None
    item_total: ItemTotal = None
    tax: Tax = None
    shipping_fee: Yen = None
    total: Total = None
    notes: Text(5000, multiline=True) = None
    lines: Annotated[list[QuoteLine], Field(min_length=1, max_length=1000)]


class Member(Record):
    __doc__ = KEEP_NOTE
    number: Key(40)
    company: Text(200) = None
    contact_name: Text(200) = None
    email: MaybeEmail = None
    wants_mail: Flag = None
    email_invalid: Annotated[
        Flag, Field(description="Left out: kept, but cleared when the e-mail changes.")
    ] = None
    business_type: Text(60) = None
    industry: Text(60) = None
    display_group: Text(60) = None
    last_purchase_on: Day = None
    tel: Text(30) = None


MODELS: dict[str, type[Record]] = {
    "orders": Order,
    "shipments": Shipment,
    "quotes": Quote,
    "members": Member,
}


def read(kind: str, item: Any) -> tuple[Record | None, list[tuple[str, object]]]:
    """One record checked against the schema: the model, or (field, message) per problem."""
    try:
        return MODELS[kind].model_validate(item), []
    except ValidationError as exc:
        return None, [(field_name(e["loc"]), _message(e)) for e in exc.errors()]


def columns(record: Record) -> dict[str, Any]:
    """The given values by model attribute, nested groups flattened (payment.kind →
    payment_kind); references (store, lines, …) are left to the caller."""
    values: dict[str, Any] = {}
    for name, info in type(record).model_fields.items():
        if name not in record.model_fields_set or name in REFERENCES:
            continue
        value = getattr(record, name)
        if value is None and KEEP_WHEN_EMPTY in info.metadata:
            continue
        if isinstance(value, Party):
            values.update({value.prefix + k: v for k, v in columns(value).items()})
        else:
            values[info.serialization_alias or name] = value
    return values


def line_values(line: QuoteLine) -> dict[str, Any]:
    """Every value of an order or quote line, the defaults for those not given."""
    fields = type(line).model_fields
    return {
        name: info.default if getattr(line, name) is None else getattr(line, name)
        for name, info in fields.items()
    }


def field_name(loc: tuple) -> str:
    """pydantic's location as the API names fields: ("lines", 0, "name") → lines[0].name."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _message(error: dict) -> object:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, Bad):
        return cause.message
    kind = error["type"]
    if kind == "missing" or (kind == "list_type" and error["input"] is None):
        return _l("is required")
    if kind == "extra_forbidden":
        return _l("is not a known field")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _l("must be an object")
    if kind in ("list_type", "too_short"):
        return _l("must be a list of at least one line")
    if kind == "too_long":
        return _l("must be at most %(n)s lines", n=error["ctx"]["max_length"])
    return error["msg"]
