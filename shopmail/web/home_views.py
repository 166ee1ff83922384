"""The dashboard and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, text

from shopmail.core.dispatch import redis_connection
from shopmail.extensions import db
from shopmail.models import Member, Message, Order, Store
from shopmail.web import public

bp = Blueprint("home", __name__)


@bp.get("/")
def dashboard():
    stores = db.session.scalars(db.select(Store).order_by(Store.id)).all()
    counts = {
        "orders": db.session.scalar(db.select(func.count(Order.id))),
        "members": db.session.scalar(db.select(func.count(Member.id))),
    }
    states = dict(
        db.session.execute(db.select(Message.state, func.count()).group_by(Message.state)).all()
    )
    return render_template("home/dashboard.html", stores=stores, counts=counts, states=states)


@bp.get("/healthz")
@public
def healthz():
    status = {"database": _check(lambda: db.session.execute(text("SELECT 1")))}
    status["redis"] = _check(lambda: redis_connection().ping())
    healthy = all(v == "ok" for v in status.values())
    return jsonify(status=("ok" if healthy else "error"), **status), (200 if healthy else 503)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not answering"
        db.session.rollback()
        return f"error: {type(exc).__name__}"
