"""Test data: factory_boy factories for the models, with Japanese-looking values (Faker ja_JP).

Every factory writes through `db.session` (the test's app context) and *commits* on
`create()`: requests run in their own app context and session (`IsolatedClient`), so a row a
test made must be committed before a request can see it. `build()` makes an object without
touching the database (unit tests). For hundreds of rows, `create_many()` builds them and
commits once.

Values a test asserts on are passed explicitly; the defaults are only plausible.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from shopmail.core.i18n import TOKYO
from shopmail.extensions import db
from shopmail.models import (
    ApiToken,
    AuditEntry,
    Broadcast,
    BroadcastTemplate,
    KindSetting,
    Member,
    Message,
    Order,
    OrderLine,
    OrderMailTemplate,
    QuotaMonth,
    Quote,
    QuoteLine,
    RecordMailing,
    RecordMailTemplate,
    Shipment,
    Store,
    User,
)
from shopmail.models.types import utcnow

PASSWORD = "correct-horse-battery"
JA = "ja_JP"


def ja(provider: str, **kwargs) -> factory.Faker:
    return factory.Faker(provider, locale=JA, **kwargs)


@cache
def password_hash(password: str) -> str:
    """Hashing is slow on purpose; every test user with the same password shares one hash."""
    return generate_password_hash(password)


def create_many(factory_class: type[factory.Factory], size: int, **kwargs) -> list:
    """`size` objects built by `factory_class` and committed together (one commit, not `size`)."""
    objects = factory_class.build_batch(size, **kwargs)
    db.session.add_all(objects)
    db.session.commit()
    return objects


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = db.session  # scoped to the current app context
        sqlalchemy_session_persistence = "commit"


class StoreFactory(BaseFactory):
    """A store on the desk's own relay, with a Japanese name and sender."""

    class Meta:
        model = Store

    code = factory.Sequence(lambda n: f"store{n}")
    name = factory.Sequence(lambda n: f"さくら雑貨 {n}号店")
    channel = "own"
    from_addr = factory.LazyAttribute(lambda o: f"{o.code}@sakura.example.jp")
    from_name = factory.SelfAttribute("name")
    reply_to = factory.LazyAttribute(lambda o: f"support-{o.code}@sakura.example.jp")
    signature_pc = factory.LazyAttribute(lambda o: f"--\n{o.name}\nTEL 075-000-0000")
    signature_mobile = factory.LazyAttribute(lambda o: f"--\n{o.name}")
    relay_mode = "system"


class MailStoreFactory(StoreFactory):
    """A store that sends through the test SMTP server (`smtp_server=` the fixture)."""

    class Params:
        smtp_server = None

    code = "own"
    name = "さくら雑貨 本店"
    from_addr = "shop@sakura.example.jp"
    reply_to = "support@sakura.example.jp"
    bcc = "archive@sakura.example.jp"
    signature_pc = "--\nさくら雑貨 本店\nTEL 075-000-0000"
    signature_mobile = "--\nさくら雑貨"
    relay_mode = "own"
    smtp_host = factory.LazyAttribute(lambda o: o.smtp_server.host)
    smtp_port = factory.LazyAttribute(lambda o: o.smtp_server.port)
    smtp_security = "none"


class UserFactory(BaseFactory):
    """Someone who uses the desk; logs in with `PASSWORD` unless given `password=`."""

    class Meta:
        model = User

    class Params:
        password = PASSWORD

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = ja("name")
    role = "staff"
    language = "ja"
    password_hash = factory.LazyAttribute(lambda o: password_hash(o.password))


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"連携 {n}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


class MemberFactory(BaseFactory):
    """A B2B member who wants mail."""

    class Meta:
        model = Member

    number = factory.Sequence(lambda n: f"M{n:06d}")
    company = ja("company")
    contact_name = ja("name")
    email = factory.Sequence(lambda n: f"member{n}@example.jp")
    wants_mail = True
    industry = "食品"
    business_type = "小売"
    tel = ja("phone_number")


class OrderLineFactory(BaseFactory):
    """A line of an order; build it and put it in `OrderFactory(lines=[...])`."""

    class Meta:
        model = OrderLine

    position = 1
    name = "有田焼 マグカップ 藍"
    unit_price = 2200
    quantity = 1


def _line_total(o) -> int:
    return sum(line.unit_price * line.quantity for line in o.lines)


class OrderFactory(BaseFactory):
    """An order placed an hour ago, paid by card, with one line; the totals add up."""

    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    number = factory.Sequence(lambda n: f"A{n:06d}")
    ordered_at = factory.LazyFunction(lambda: utcnow() - timedelta(hours=1))
    buyer_name = ja("name")
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@example.jp")
    buyer_zip = ja("zipcode")
    buyer_address = ja("address")
    buyer_tel = ja("phone_number")
    ship_name = factory.SelfAttribute("buyer_name")
    ship_zip = factory.SelfAttribute("buyer_zip")
    ship_address = factory.SelfAttribute("buyer_address")
    ship_tel = factory.SelfAttribute("buyer_tel")
    payment_method = "クレジットカード"
    payment_kind = "card"
    lines = factory.LazyFunction(lambda: [OrderLineFactory.build()])
    # Shop prices include the 10% consumption tax; `tax` is the part of it (内消費税).
    item_total = factory.LazyAttribute(_line_total)
    tax = factory.LazyAttribute(lambda o: o.item_total * 10 // 110)
    shipping_fee = 0
    points_used = 0
    total = factory.LazyAttribute(lambda o: o.item_total + o.shipping_fee - o.points_used)


class ShipmentFactory(BaseFactory):
    """A confirmed shipment of an order, by the order's store."""

    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    store = factory.SelfAttribute("order.store")
    number = factory.Sequence(lambda n: f"S{n:07d}")
    carrier = "ヤマト運輸"
    tracking_no = "123456789012"
    confirmed_at = factory.LazyFunction(utcnow)


class QuoteLineFactory(BaseFactory):
    class Meta:
        model = QuoteLine

    position = 1
    name = "美濃焼 豆皿 5枚セット"
    unit_price = 1540
    quantity = 100


class QuoteFactory(BaseFactory):
    """An open quote for a company, valid until 2030."""

    class Meta:
        model = Quote

    store = factory.SubFactory(StoreFactory)
    number = factory.Sequence(lambda n: f"Q{n:06d}")
    issued_at = factory.LazyFunction(utcnow)
    expires_on = date(2030, 1, 31)
    company = ja("company")
    contact_name = ja("name")
    email = factory.Sequence(lambda n: f"quote{n}@example.jp")
    zip = ja("zipcode")
    address = ja("address")
    tel = ja("phone_number")
    lines = factory.LazyFunction(lambda: [QuoteLineFactory.build()])
    # B2B quotes are priced before tax.
    item_total = factory.LazyAttribute(_line_total)
    tax = factory.LazyAttribute(lambda o: o.item_total // 10)
    total = factory.LazyAttribute(lambda o: o.item_total + o.tax + o.shipping_fee)
    shipping_fee = 0


class BroadcastTemplateFactory(BaseFactory):
    class Meta:
        model = BroadcastTemplate

    name = factory.Sequence(lambda n: f"お知らせ {n}")
    subject = "[COMPANY] 様 新商品のお知らせ"
    body = "[MEMBER_NAME] 様\n新商品のご案内です。\n配信停止: [UNSUBSCRIBE_URL]\n"
    format = "text"


class BroadcastFactory(BaseFactory):
    """A broadcast draft to every member, ready to start (store, subject and body set)."""

    class Meta:
        model = Broadcast

    class Params:
        store = factory.SubFactory(StoreFactory)

    state = "draft"
    store_id = factory.SelfAttribute("store.id")
    member_filter = factory.LazyFunction(dict)
    subject = "[COMPANY] 様 新商品のお知らせ"
    body = "[MEMBER_NAME] 様\n新商品のご案内です。\n"
    format = "text"
    only_wanting = True


class RecordMailTemplateFactory(BaseFactory):
    class Meta:
        model = RecordMailTemplate

    name = "ご注文の確認"
    title = "【[TENPO_NAME]】ご注文 [ORDER_NO] について"
    header = "[BUYER_NAME] 様"
    footer = "よろしくお願いいたします。"


class RecordMailingFactory(BaseFactory):
    """A manual mail draft to ticked records (orders unless `record_type=`)."""

    class Meta:
        model = RecordMailing

    record_type = "order"
    record_ids = factory.LazyFunction(list)
    title = "[TENPO_NAME] ご注文について"


class OrderMailTemplateFactory(BaseFactory):
    """A template of an automatic kind: the common default unless `scope=` says a store."""

    class Meta:
        model = OrderMailTemplate

    scope = "default"
    kind = "order_confirmation"
    device = "pc"
    variant = ""
    subject = "[TENPO_NAME] ご注文ありがとうございます"
    body = "[BUYER_NAME] 様\nご注文番号 [ORDER_NO]\n"


class KindSettingFactory(BaseFactory):
    class Meta:
        model = KindSetting

    kind = "order_confirmation"
    in_use = True
    started_at = factory.LazyFunction(utcnow)


class MessageFactory(BaseFactory):
    """An outbox row queued for a store's customer."""

    class Meta:
        model = Message

    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    kind = "record"
    state = "queued"
    store = factory.SubFactory(StoreFactory)
    to_addr = factory.Sequence(lambda n: f"customer{n}@example.jp")
    to_name = ja("name")
    subject = "ご注文ありがとうございます"
    body = factory.LazyAttribute(lambda o: f"{o.to_name} 様\nご注文ありがとうございます。\n")


class QuotaMonthFactory(BaseFactory):
    """A month of the broadcast quota (this Tokyo month unless `month=`), nothing used yet."""

    class Meta:
        model = QuotaMonth

    month = factory.LazyFunction(lambda: utcnow().astimezone(TOKYO).strftime("%Y-%m"))
    used = 0


class AuditEntryFactory(BaseFactory):
    class Meta:
        model = AuditEntry

    action = "store.updated"
    actor = "system"
    at = factory.LazyFunction(utcnow)
    details = factory.LazyFunction(dict)
