"""Access rules over every page the app has, read from its URL map rather than a hand list."""

from __future__ import annotations

import re

import pytest
from flask import Flask, url_for

from shopmail.web import requires_admin

# The value each converter gets; anything else gets "x".
SAMPLE_VALUES = {"int": 1, "float": 1.0, "uuid": "00000000-0000-0000-0000-000000000001"}
CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def get_pages(app: Flask) -> dict[str, str]:
    """Every endpoint answering GET (except static files and the token-checked API): a URL."""
    pages = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                continue
            if rule.rule.startswith("/api/"):  # every API blueprint checks its bearer tokens
                continue
            values = {
                name: SAMPLE_VALUES.get(converter or "default", "x")
                for converter, name in CONVERTER.findall(rule.rule)
            }
            pages[rule.endpoint] = url_for(rule.endpoint, **values)
    return pages


def is_public(app: Flask, endpoint: str) -> bool:
    return getattr(app.view_functions[endpoint], "public", False)


@pytest.fixture
def admin_pages(app) -> dict[str, str]:
    return {e: url for e, url in get_pages(app).items() if requires_admin(app, e)}


def test_the_admin_areas_are_known(admin_pages):
    assert admin_pages
    assert {"users.index", "audit.index"} <= set(admin_pages)


def test_staff_gets_403_on_every_admin_page(staff_client, admin_pages):
    for endpoint, url in admin_pages.items():
        response = staff_client.get(url)
        assert response.status_code == 403, f"{endpoint} {url}"
        assert "このページはご利用の権限では開けません" in response.get_data(as_text=True)


def test_every_page_but_the_public_ones_sends_a_stranger_to_log_in(app):
    client = app.test_client()
    private = {e: url for e, url in get_pages(app).items() if not is_public(app, e)}
    assert {"home.dashboard", "users.index", "audit.index", "account.index"} <= set(private)
    for endpoint, url in private.items():
        response = client.get(url)
        assert response.status_code == 302, f"{endpoint} {url}"
        assert response.headers["Location"].startswith("/login"), f"{endpoint} {url}"


def test_the_account_page_is_for_everyone(staff_client, admin_client):
    assert staff_client.get("/account").status_code == 200
    assert admin_client.get("/account").status_code == 200


def test_staff_sees_no_users_or_audit_links(staff_client, admin_client):
    page = staff_client.get("/").get_data(as_text=True)
    assert 'href="/users"' not in page and 'href="/audit"' not in page
    page = admin_client.get("/").get_data(as_text=True)
    assert 'href="/users"' in page and 'href="/audit"' in page


def test_staff_cannot_post_to_admin_actions(staff_client, admin):
    from tests.conftest import csrf_token

    token = csrf_token(staff_client, "/")
    for path in (f"/users/{admin.id}/deactivate", f"/users/{admin.id}/password", "/users"):
        assert staff_client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_every_answer_carries_the_security_headers(app, admin_client):
    client = app.test_client()
    answers = [
        client.get("/login"),  # a page
        client.get("/static/js/desk.js"),  # a file
        client.get("/no-such-page"),  # an error page
        client.get("/api/v1/openapi.json"),  # the API
        admin_client.get("/stores"),  # a page behind the log-in
    ]
    for answer in answers:
        csp = answer.headers["Content-Security-Policy"]
        script_src = next(p for p in csp.split("; ") if p.startswith("script-src"))
        assert script_src == "script-src 'self'"  # no inline script, no eval
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
