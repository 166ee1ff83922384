"""Scheduling a broadcast from its confirm step: send at a Tokyo date and time, move that time,
or cancel the schedule (the broadcast is a draft again). The confirm step shows the schedule."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.broadcasts import drafts
from shopmail.broadcasts import schedule as broadcast_schedule
from shopmail.extensions import db
from shopmail.models import Broadcast

bp = Blueprint("broadcast_schedule", __name__, url_prefix="/broadcasts")


def _send_at():
    form = request.form
    return broadcast_schedule.tokyo_time(form.get("send_date", ""), form.get("send_time", ""))


@bp.post("/<int:bid>/schedule")
def schedule(bid: int):
    b = db.get_or_404(Broadcast, bid)
    try:
        broadcast_schedule.schedule(b, _send_at(), current_user)
    except drafts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(url_for("broadcasts.confirm", bid=bid))
    flash(_l("The broadcast was scheduled."), "success")
    return redirect(url_for("broadcasts.index"))


@bp.post("/<int:bid>/reschedule")
def reschedule(bid: int):
    b = db.get_or_404(Broadcast, bid)
    try:
        broadcast_schedule.reschedule(b, _send_at(), current_user)
        flash(_l("The time to send at was changed."), "success")
    except drafts.BroadcastError as exc:
        flash(str(exc), "error")
    return redirect(url_for("broadcasts.confirm", bid=bid))


@bp.post("/<int:bid>/unschedule")
def unschedule(bid: int):
    b = db.get_or_404(Broadcast, bid)
    try:
        broadcast_schedule.unschedule(b, current_user)
        flash(_l("The schedule was cancelled: the broadcast is a draft again."), "success")
    except drafts.BroadcastError as exc:
        flash(str(exc), "error")
    return redirect(url_for("broadcasts.confirm", bid=bid))
