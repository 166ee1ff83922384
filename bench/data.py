"""Bulk data for the benchmarks, written with set-based inserts (not the ORM) to be quick."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert, text

from shopmail.extensions import db
from shopmail.models import DeskSettings, Member, Order, OrderLine, Store
from shopmail.models.types import utcnow
from shopmail.people.users import create_user

INDUSTRIES = ["雑貨", "食品", "アパレル", "インテリア", "ギフト"]
GROUPS = ["一般", "ゴールド", "プラチナ", "新規"]
BUSINESS = ["小売", "卸売", "飲食", "ホテル・旅館", "EC"]


def desk(sink_port: int, sessions: int = 4):
    """A store relaying to the sink (its own relay, `sessions` SMTP sessions at once, no pace),
    the switches on, an admin to act as."""
    store = Store(
        code="b2b",
        name="さくら卸 B2B",
        channel="b2b",
        from_addr="news@sakura-oroshi.example.jp",
        from_name="さくら卸",
        reply_to="support@sakura-oroshi.example.jp",
        signature_pc="--\nさくら卸 B2B\nTEL 075-000-0000",
        relay_mode="own",
        smtp_host="127.0.0.1",
        smtp_port=sink_port,
        smtp_security="none",
        smtp_sessions=sessions,
        smtp_per_minute=0,
        smtp_per_hour=0,
    )
    db.session.add(store)
    settings = DeskSettings.get()
    settings.mail_server_running = True
    settings.auto_send = True
    settings.monthly_quota = 10_000_000
    admin = create_user("bench@example.jp", "bench-password-123", role="admin", actor="bench")
    db.session.commit()
    return store, admin


def members(n: int, start: int = 0, chunk: int = 20_000) -> None:
    rng = random.Random(n)
    today = utcnow().date()
    for first in range(start, start + n, chunk):
        rows = [
            {
                "number": f"M{i:08d}",
                "company": f"株式会社サンプル{i}",
                "contact_name": f"担当 {i}",
                "email": f"member{i}@bench.example.jp",
                "wants_mail": rng.random() < 0.8,
                "email_invalid": False,
                "invalid_reason": "",
                "business_type": rng.choice(BUSINESS),
                "industry": rng.choice(INDUSTRIES),
                "display_group": rng.choice(GROUPS),
                "last_purchase_on": today - timedelta(days=rng.randint(0, 900)),
                "tel": "075-000-0000",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for i in range(first, min(first + chunk, start + n))
        ]
        db.session.execute(insert(Member), rows)
        db.session.commit()
    analyze()


def members_sql(n: int) -> None:
    """PostgreSQL only: a million members generated inside the server."""
    db.session.execute(
        text(
            """
            INSERT INTO members (number, company, contact_name, email, wants_mail, email_invalid,
                invalid_reason, business_type, industry, display_group, last_purchase_on, tel,
                created_at, updated_at)
            SELECT 'M' || lpad(g::text, 8, '0'), '株式会社サンプル' || g, '担当 ' || g,
                'member' || g || '@bench.example.jp', (g % 5) <> 0, (g % 97) = 0, '',
                (ARRAY['小売','卸売','飲食','ホテル・旅館','EC'])[1 + g % 5],
                (ARRAY['雑貨','食品','アパレル','インテリア','ギフト'])[1 + (g / 5) % 5],
                (ARRAY['一般','ゴールド','プラチナ','新規'])[1 + (g / 25) % 4],
                CASE WHEN g % 7 = 0 THEN NULL ELSE current_date - (g % 900) END,
                '075-000-0000', now(), now()
            FROM generate_series(1, :n) AS g
            """
        ),
        {"n": n},
    )
    db.session.commit()
    analyze()


def orders(store: Store, n: int, chunk: int = 10_000) -> None:
    """`n` orders of the last few days, each with two lines, buyers 20 % on mobile domains."""
    now = utcnow()
    for first in range(0, n, chunk):
        count = min(chunk, n - first)
        order_rows = [
            {
                "store_id": store.id,
                "number": f"B-{i:07d}",
                "ordered_at": now - timedelta(minutes=i % 5000),
                "status": "new",
                "buyer_name": f"購入者 {i}",
                "buyer_email": f"buyer{i}@{'docomo.ne.jp' if i % 5 == 0 else 'bench.example.jp'}",
                "buyer_zip": "600-8001",
                "buyer_address": "京都府京都市下京区四条通 1-2-3",
                "buyer_tel": "075-000-0000",
                "purchase_count": 1 + i % 3,
                "ship_name": f"購入者 {i}",
                "ship_company": "",
                "ship_zip": "600-8001",
                "ship_address": "京都府京都市下京区四条通 1-2-3",
                "ship_tel": "075-000-0000",
                "shipping_instructions": "",
                "delivery_method": "ヤマト運輸",
                "payment_method": "クレジットカード",
                "payment_kind": "card",
                "item_total": 5280,
                "tax": 480,
                "shipping_fee": 0,
                "points_used": 0,
                "total": 5280,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(first, first + count)
        ]
        db.session.execute(insert(Order), order_rows)
        ids = db.session.scalars(
            db.select(Order.id).where(Order.number.in_([r["number"] for r in order_rows]))
        ).all()
        line_rows = [
            {
                "order_id": oid,
                "position": p,
                "sku": f"SKU-{p}",
                "name": name,
                "options": "",
                "unit_price": price,
                "quantity": 1,
            }
            for oid in ids
            for p, (name, price) in enumerate(
                [("有田焼 マグカップ 藍", 2200), ("今治タオル", 3080)], 1
            )
        ]
        db.session.execute(insert(OrderLine), line_rows)
        db.session.commit()
    analyze()


def analyze() -> None:
    """Statistics and visibility map after a bulk load, as autovacuum keeps them in production
    (it is off on this machine's PostgreSQL)."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
