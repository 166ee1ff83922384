"""What every blueprint uses: the access rules every view passes through, error pages,
safe redirects.

Access is deny-by-default: a view is reachable without log-in only when marked `public`;
a view (or a whole blueprint) marked admin-only answers 403 to staff.

A request is one transaction and the one place it ends (`end_transaction`): views and services
only flush. A GET never writes, so it always rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from shopmail.core.boundary import commits
from shopmail.extensions import db, login
from shopmail.models import User
from shopmail.web.api_auth import is_api_blueprint
from shopmail.web.json_errors import http_error

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


@commits("the request boundary")
def end_transaction(response: Response) -> Response:
    """Commit a state-changing request that succeeded (below 400); roll back everything else.

    An exception never gets here: the session is removed (rolled back) at teardown.
    """
    if request.method in READ_ONLY_METHODS or response.status_code >= 400:
        db.session.rollback()
    else:
        db.session.commit()
    return response


def public(view: Callable) -> Callable:
    view.public = True
    return view


def admin_only(view: Callable) -> Callable:
    view.admin_only = True
    return view


def admin_blueprint(bp: Blueprint) -> Blueprint:
    bp.admin_only = True
    return bp


def requires_admin(app: Flask, endpoint: str) -> bool:
    view = app.view_functions.get(endpoint)
    bp = app.blueprints.get(endpoint.rpartition(".")[0]) if "." in endpoint else None
    return bool(getattr(view, "admin_only", False) or getattr(bp, "admin_only", False))


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes home."""
    if not target:
        return url_for("home.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.dashboard")
    if "\\" in target:
        return url_for("home.dashboard")
    return target


def _enforce_access(app: Flask):
    def check():
        endpoint = request.endpoint
        if endpoint is None or endpoint == "static":
            return None
        view = app.view_functions.get(endpoint)
        if getattr(view, "public", False):
            return None
        if is_api_blueprint(app.blueprints.get(request.blueprint or "")):
            return None  # the API authenticates with its own bearer tokens (web.api_auth)
        if not current_user.is_authenticated:
            return login.unauthorized()
        if requires_admin(app, endpoint) and not current_user.is_admin:
            abort(403)
        return None

    return check


def _load_user(user_id: str) -> User | None:
    ident, _, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    # A deactivated user, or one whose password changed, loses every older session.
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _error_pages(app: Flask) -> None:
    messages = {
        400: (
            _l("Bad request"),
            _l("The form was stale or incomplete. Please reload and try again."),
        ),
        403: (_l("Forbidden"), _l("Your role does not allow this page.")),
        404: (_l("Not found"), _l("There is no such page.")),
        405: (_l("Method not allowed"), _l("This page does not accept that request.")),
        413: (_l("File too large"), _l("The file is too large.")),
        429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    }

    def handler(error):
        code = getattr(error, "code", 500) or 500
        title, message = messages.get(code, (_l("Error"), _l("Something went wrong.")))
        if code == 413:
            limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
            message = _l(
                "The file is larger than the limit of %(mb)s MB. Split it into smaller files "
                "and upload them one after the other.",
                mb=limit,
            )
        if isinstance(error, CSRFError):
            message = _l(
                "The form has expired or was not sent from this site. "
                "Please reload the page and try again."
            )
        if request.path.startswith("/api/") and isinstance(error, HTTPException):
            # URLs under the API that match no route still answer in the API's JSON shape.
            return http_error(error)
        return render_template("errors/error.html", code=code, title=title, message=message), code

    for code in messages:
        app.register_error_handler(code, handler)


# Scripts only from the desk itself (no inline script, no eval); styles may be inline (the
# mail previews and a few style attributes); mail previews may show remote images. Nothing
# may frame the desk, and forms post only to it.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https: http:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """The access rules, error pages, navigation and labels every blueprint shares."""
    from shopmail.web import labels, nav, partials

    login.user_loader(_load_user)
    login.login_view = "auth.login"
    login.login_message = None
    app.before_request(_enforce_access(app))
    app.after_request(end_transaction)  # registered first, so it runs after every other hook
    app.after_request(_security_headers)
    _error_pages(app)
    nav.init_app(app)
    labels.init_app(app)
    partials.init_app(app)
