"""One-click unsubscribe: the link in every broadcast. No log-in; the token is the key.

GET shows a page with one button; POST unsubscribes. Mail clients POST the same URL with the
body ``List-Unsubscribe=One-Click`` (RFC 8058) and no CSRF token, so that POST is exempt.
The customer sees the name of the shop that sent the newsletter, never the desk's.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from shopmail.broadcasts import unsubscribe as service
from shopmail.extensions import csrf, db
from shopmail.models import Broadcast, Store
from shopmail.web import public

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


def _shop_name(broadcast_id: int) -> str:
    """The sending store's name as its mails show it (its From name), else its name."""
    broadcast = db.session.get(Broadcast, broadcast_id)
    store = db.session.get(Store, broadcast.store_id) if broadcast and broadcast.store_id else None
    return (store.from_name or store.name) if store else ""


@bp.get("/<token>")
@public
def confirm(token: str):
    found = service.read_token(token)
    if found is None:
        return render_template("unsubscribe/invalid.html"), 404
    member, broadcast_id = found
    return render_template(
        "unsubscribe/confirm.html", member=member, token=token, shop_name=_shop_name(broadcast_id)
    )


@bp.post("/<token>")
@public
def one_click(token: str):
    found = service.read_token(token)
    if found is None:
        return render_template("unsubscribe/invalid.html"), 404
    service.unsubscribe(*found)
    return render_template("unsubscribe/done.html", shop_name=_shop_name(found[1]))


csrf.exempt(one_click)
