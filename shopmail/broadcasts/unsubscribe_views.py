"""One-click unsubscribe: the link in every broadcast. No log-in; the token is the key.

GET shows a page with one button; POST unsubscribes. Mail clients POST the same URL with the
body ``List-Unsubscribe=One-Click`` (RFC 8058) and no CSRF token, so that POST is exempt.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from shopmail.broadcasts import unsubscribe as service
from shopmail.extensions import csrf
from shopmail.web import public

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


@bp.get("/<token>")
@public
def confirm(token: str):
    found = service.read_token(token)
    if found is None:
        return render_template("unsubscribe/invalid.html"), 404
    member, _broadcast_id = found
    return render_template("unsubscribe/confirm.html", member=member, token=token)


@bp.post("/<token>")
@public
def one_click(token: str):
    found = service.read_token(token)
    if found is None:
        return render_template("unsubscribe/invalid.html"), 404
    service.unsubscribe(*found)
    return render_template("unsubscribe/done.html")


csrf.exempt(one_click)
