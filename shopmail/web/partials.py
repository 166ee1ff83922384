"""Page or partial: a view renders its whole page for navigation and only its `_part` when htmx
asks for a region — but the whole page again when htmx restores the history after a cache miss
(Back / Forward): htmx then puts the answer in place of the whole body, and a bare part would be
all the page shows.

Every view that branches on htmx asks `wants_partial()` (or renders with `page_or_partial`);
asking marks the answer as one that varies with the htmx headers (`Vary`, added after the
request), so no cache hands one kind for the other.
"""

from __future__ import annotations

from flask import Flask, Response, g, render_template

from shopmail.extensions import htmx

VARY = ("HX-Request", "HX-History-Restore-Request")


def wants_partial() -> bool:
    """True for an htmx request for a region; False for a full load or a history restore."""
    g.varies_with_htmx = True
    return bool(htmx) and not htmx.history_restore_request


def page_or_partial(page: str, partial: str, **context) -> str:
    """`partial` for an htmx region request, else the whole `page`."""
    return render_template(partial if wants_partial() else page, **context)


def _vary(response: Response) -> Response:
    if g.get("varies_with_htmx"):
        for header in VARY:
            response.vary.add(header)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary)
