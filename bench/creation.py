"""Automatic mail creation: 100,000 orders become order confirmations; a second run adds none."""

from __future__ import annotations

import time

from bench import data, rig
from shopmail.automatic import creation as automatic
from shopmail.automatic import operations
from shopmail.extensions import db
from shopmail.models import Message


def run(database: str, orders: int) -> tuple[float, float, int]:
    """Returns (first run orders/s, second run seconds, rows created)."""
    with rig.redis() as redis_url, rig.database(database) as url:
        app = rig.make_app(url, redis_url)
        with app.app_context():
            store, admin = data.desk(2525)
            data.orders(store, orders)
            operations.set_kinds(admin, {"order_confirmation"})
            db.session.commit()
            started = time.perf_counter()
            first = automatic.create_mails(admin)
            db.session.commit()  # the job's boundary, as the worker would
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            second = automatic.create_mails(admin)
            db.session.commit()
            second_seconds = time.perf_counter() - started
            rows = db.session.query(Message).count()
    if first.total != orders or second.total != 0 or rows != orders:
        raise RuntimeError(f"created {first.total} then {second.total}; {rows} rows")
    return orders / first_seconds, second_seconds, rows
