"""The dashboard (counts, and the last 30 Tokyo days of mail drawn per store and kind) and the
health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, text

from shopmail.core import mail_stats
from shopmail.core.dispatch import redis_connection
from shopmail.core.mail_lists import MailFilter
from shopmail.core.states import MessageKind
from shopmail.extensions import db
from shopmail.models import Member, Message, Order, Store
from shopmail.web import charts, public
from shopmail.web.labels import STATES
from shopmail.web.partials import page_or_partial

# Every mail a customer or member receives; the admin's copies of broadcasts are not counted.
CHART_KINDS = tuple(k for k in MessageKind if k != MessageKind.ADMIN_COPY)
CHART_DAYS = 30

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
    wanted = MailFilter.parse(CHART_KINDS, request.args.get("store"), request.args.get("kind"))
    days = mail_stats.daily(wanted, CHART_DAYS)
    return page_or_partial(
        "home/dashboard.html",
        "home/_daily.html",
        stores=stores,
        counts=counts,
        states=states,
        wanted=wanted,
        kinds=CHART_KINDS,
        days=days,
        totals=mail_stats.totals(days),
        day_states=mail_stats.DAY_STATES,
        chart=_daily_chart(days),
    )


def _daily_chart(days: list[mail_stats.DayCounts]) -> Markup:
    series = [
        charts.Series(state, str(STATES[state]), [d[state] for d in days])
        for state in mail_stats.DAY_STATES
    ]
    first, last = days[0].day, days[-1].day
    return charts.bars(
        "daily-chart",
        str(_l("Mails per day")),
        str(
            _l(
                "Mails sent, failed, bounced and of unknown outcome per day, %(first)s to "
                "%(last)s (Tokyo time). The table beside the chart gives the same numbers.",
                first=first.isoformat(),
                last=last.isoformat(),
            )
        ),
        [f"{d.day.month}/{d.day.day}" for d in days],
        series,
        every=5,
    )


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
