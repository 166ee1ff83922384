"""Demo data: a fresh desk with realistic Japanese stores, orders, shipments, quotes and members.

Deterministic (seeded) and idempotent: a second run finds the demo stores and changes nothing.
Addresses are on example domains (and a few carrier domains to show mobile templates); the
development relay keeps every mail on this machine.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from faker import Faker

from shopmail.core import crypto
from shopmail.core.states import Channel, RelayMode
from shopmail.extensions import db
from shopmail.models import (
    Member,
    Order,
    OrderLine,
    Quote,
    QuoteLine,
    RecordMailTemplate,
    Shipment,
    Store,
)

STORES = [
    # code, name, channel, from, reply-to
    ("rakuten", "さくら雑貨 楽天市場店", Channel.RAKUTEN, "info@sakura-zakka.example.jp"),
    ("amazon", "さくら雑貨 Amazon店", Channel.AMAZON, "amazon@sakura-zakka.example.jp"),
    ("own", "さくら雑貨 本店", Channel.OWN, "shop@sakura-zakka.example.jp"),
    ("yahoo", "さくら雑貨 Yahoo!店", Channel.YAHOO, "yahoo@sakura-zakka.example.jp"),
    ("b2b", "さくら卸 B2B", Channel.B2B, "b2b@sakura-oroshi.example.jp"),
]
CARRIERS = ["ヤマト運輸", "佐川急便", "日本郵便"]
PAYMENTS = [
    ("クレジットカード", "card"),
    ("銀行振込", "bank_transfer"),
    ("代金引換", "cod"),
    ("コンビニ決済", "convenience"),
]
PRODUCTS = [
    ("有田焼 マグカップ 藍", 2200),
    ("今治タオル フェイスタオル 2枚組", 1980),
    ("南部鉄器 急須 0.6L", 8800),
    ("美濃焼 豆皿 5枚セット", 3300),
    ("箸置き 桜 5個入", 1100),
    ("手ぬぐい 麻の葉", 990),
    ("曲げわっぱ 弁当箱", 5500),
    ("信楽焼 一輪挿し", 2750),
    ("備前焼 ビアマグ", 4400),
    ("竹製 カトラリーセット", 1650),
]
OPTIONS = ["", "", "", "ギフト包装: あり", "のし: 御礼", "名入れ: 山田"]
BUSINESS_TYPES = ["小売", "卸売", "飲食", "ホテル・旅館", "EC"]
INDUSTRIES = ["雑貨", "食品", "アパレル", "インテリア", "ギフト"]
GROUPS = ["一般", "ゴールド", "プラチナ", "新規"]
MOBILE_DOMAINS = ["docomo.ne.jp", "ezweb.ne.jp", "softbank.ne.jp"]

N_ORDERS = 2000
N_QUOTES = 200
N_MEMBERS = 5000


def load(seed: int = 20261123) -> dict[str, int]:
    """Load the demo set unless it is there; returns what was created (empty when nothing)."""
    if db.session.scalar(db.select(Store.id).filter_by(code="rakuten")) is not None:
        return {}
    rng = random.Random(seed)
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    now = datetime.now(UTC)

    stores = _stores()
    members = _members(fake, rng, now)
    orders = _orders(fake, rng, now, stores, members)
    quotes = _quotes(fake, rng, now, stores["b2b"], members)
    db.session.add_all(
        [
            RecordMailTemplate(
                name="出荷のご案内",
                title="【[TENPO_NAME]】ご注文商品の出荷について",
                header="いつも[TENPO_NAME]をご利用いただきありがとうございます。\n"
                "下記のご注文について、ご連絡申し上げます。",
                footer="ご不明な点がございましたら、本メールにご返信ください。",
            ),
            RecordMailTemplate(
                name="お見積りのご案内",
                title="【[TENPO_NAME]】お見積りのご案内",
                header="お問い合わせいただきありがとうございます。\nお見積りをお送りいたします。",
                footer="ご検討のほど、よろしくお願い申し上げます。",
            ),
        ]
    )
    return {
        "stores": len(stores),
        "orders": orders,
        "quotes": quotes,
        "members": len(members),
    }


def _stores() -> dict[str, Store]:
    stores = {}
    for code, name, channel, addr in STORES:
        store = Store(
            code=code,
            name=name,
            channel=channel,
            from_addr=addr,
            from_name=name,
            reply_to=addr,
            bcc="",
            signature_pc=f"━━━━━━━━━━━━━━━━\n{name}\n〒600-8001 京都府京都市下京区四条通 1-2-3\n"
            f"TEL: 075-000-0000  営業時間 平日10:00〜17:00\nE-mail: {addr}\n━━━━━━━━━━━━━━━━",
            signature_mobile=f"--\n{name}\nTEL:075-000-0000",
            relay_mode=RelayMode.SYSTEM,
        )
        if channel == Channel.RAKUTEN:
            # Rakuten stores send through Rakuten's relay with their SMTP AUTH ID.
            store.relay_mode = RelayMode.RAKUTEN
            store.smtp_user = "demo-rakuten-auth-id"
            store.smtp_password_enc = crypto.encrypt("demo-rakuten-password")
        db.session.add(store)
        stores[code] = store
    db.session.flush()
    return stores


def _email(fake: Faker, rng: random.Random, i: int) -> str:
    local = f"{fake.user_name()}{i}"
    if rng.random() < 0.12:
        return f"{local}@{rng.choice(MOBILE_DOMAINS)}"
    return f"{local}@{rng.choice(['example.com', 'example.jp', 'example.co.jp', 'example.ne.jp'])}"


def _members(fake: Faker, rng: random.Random, now: datetime) -> list[Member]:
    members = []
    for i in range(1, N_MEMBERS + 1):
        roll = rng.random()
        email = "" if roll < 0.01 else _email(fake, rng, i)
        last = None if rng.random() < 0.2 else (now - timedelta(days=rng.randint(0, 900))).date()
        members.append(
            Member(
                number=f"M{i:06d}",
                company=fake.company(),
                contact_name=fake.name(),
                email=email,
                wants_mail=rng.random() < 0.8,
                email_invalid=bool(email) and rng.random() < 0.01,
                business_type=rng.choice(BUSINESS_TYPES),
                industry=rng.choice(INDUSTRIES),
                display_group=rng.choice(GROUPS),
                last_purchase_on=last,
                tel=fake.phone_number(),
            )
        )
    db.session.add_all(members)
    db.session.flush()
    return members


def _orders(fake, rng, now, stores: dict[str, Store], members: list[Member]) -> int:
    store_list = list(stores.values())
    # A pool of buyers that come back, so stage-2 (repeat) templates have real cases.
    buyers = [
        (
            fake.name(),
            _email(fake, rng, 100000 + i),
            fake.zipcode(),
            fake.address(),
            fake.phone_number(),
        )
        for i in range(1200)
    ]
    counts: dict[tuple[int, str], int] = {}
    created = []
    for i in range(1, N_ORDERS + 1):
        store = rng.choice(store_list)
        name, email, zipcode, address, tel = rng.choice(buyers)
        counts[(store.id, email)] = counts.get((store.id, email), 0) + 1
        ordered_at = now - timedelta(days=rng.uniform(0, 120))
        lines = [
            OrderLine(
                position=p,
                sku=f"SKU-{rng.randint(1000, 9999)}",
                name=prod,
                unit_price=price,
                quantity=rng.randint(1, 3),
                options=rng.choice(OPTIONS),
            )
            for p, (prod, price) in enumerate(rng.sample(PRODUCTS, rng.randint(1, 4)), start=1)
        ]
        item_total = sum(line.unit_price * line.quantity for line in lines)
        shipping_fee = 0 if item_total >= 5000 else 660
        points = rng.choice([0, 0, 0, 100, 300]) if store.channel == Channel.RAKUTEN else 0
        tax = item_total * 10 // 110
        payment, kind = rng.choice(PAYMENTS)
        other_recipient = rng.random() < 0.2
        order = Order(
            store_id=store.id,
            number=f"{store.code.upper()}-{ordered_at:%Y%m%d}-{i:05d}",
            ordered_at=ordered_at,
            status="new",
            member_id=rng.choice(members).id if store.channel == Channel.B2B else None,
            buyer_name=name,
            buyer_email=email,
            buyer_zip=zipcode,
            buyer_address=address,
            buyer_tel=tel,
            purchase_count=counts[(store.id, email)],
            ship_name=fake.name() if other_recipient else name,
            ship_company=fake.company() if store.channel == Channel.B2B else "",
            ship_zip=fake.zipcode() if other_recipient else zipcode,
            ship_address=fake.address() if other_recipient else address,
            ship_tel=fake.phone_number() if other_recipient else tel,
            shipping_instructions=rng.choice(["", "", "午前中指定", "置き配希望"]),
            delivery_method=rng.choice(CARRIERS),
            payment_method=payment,
            payment_kind=kind,
            item_total=item_total,
            tax=tax,
            shipping_fee=shipping_fee,
            points_used=points,
            total=item_total + shipping_fee - points,
            lines=lines,
        )
        created.append(order)
    db.session.add_all(created)
    db.session.flush()
    shipments = []
    for order in created:
        age = now - order.ordered_at
        if age > timedelta(days=2):
            order.status = "shipped"
            shipments.append(
                Shipment(
                    store_id=order.store_id,
                    order_id=order.id,
                    number=f"S{order.id:07d}",
                    carrier=order.delivery_method,
                    tracking_no=f"{rng.randint(10**11, 10**12 - 1)}",
                    confirmed_at=order.ordered_at + timedelta(days=rng.uniform(1, 2)),
                )
            )
    db.session.add_all(shipments)
    db.session.flush()
    return len(created)


def _quotes(fake, rng, now, store: Store, members: list[Member]) -> int:
    quotes = []
    for i in range(1, N_QUOTES + 1):
        member = rng.choice(members)
        lines = [
            QuoteLine(
                position=p,
                sku=f"SKU-{rng.randint(1000, 9999)}",
                name=prod,
                unit_price=int(price * 0.7),
                quantity=rng.choice([10, 20, 50, 100]),
            )
            for p, (prod, price) in enumerate(rng.sample(PRODUCTS, rng.randint(1, 5)), start=1)
        ]
        item_total = sum(line.unit_price * line.quantity for line in lines)
        issued = now - timedelta(days=rng.uniform(0, 60))
        quotes.append(
            Quote(
                store_id=store.id,
                number=f"Q{issued:%Y%m}-{i:04d}",
                member_id=member.id,
                issued_at=issued,
                expires_on=(issued + timedelta(days=30)).date(),
                company=member.company,
                contact_name=member.contact_name,
                email=member.email,
                zip=fake.zipcode(),
                address=fake.address(),
                tel=member.tel,
                item_total=item_total,
                tax=item_total // 10,
                shipping_fee=0,
                total=item_total + item_total // 10,
                lines=lines,
            )
        )
    db.session.add_all(quotes)
    db.session.flush()
    return len(quotes)
