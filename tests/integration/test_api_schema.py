"""The API answers as its OpenAPI document says: schemathesis generates requests from the
document, sends them to the app (WSGI, in-process) with a valid token, and checks every answer.
The document lists every API route with the scopes its view checks."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from shopmail import create_app
from shopmail.core.states import ApiScope
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db, limiter
from shopmail.web.api_auth import accepted_scopes, is_api_blueprint
from shopmail.web.api_document import document
from tests.factories import BroadcastFactory, MemberFactory, StoreFactory

# The document as served, built from the app's blueprints; made at import because parametrize
# needs it to collect tests (a test below checks that /api/v1/openapi.json serves exactly this).
with create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
    DOCUMENT = document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture
def bearer(app, monkeypatch):
    """A token with every scope, a store that can send, two members and a broadcast draft:
    the fuzzed requests reach the writes, not only the 404s."""
    # Hypothesis sends hundreds of requests: the production rate limit would answer 429.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    store = StoreFactory(code="own", name="さくら雑貨 本店", channel="own")
    MemberFactory.create_batch(2)
    broadcast = BroadcastFactory(store=store)
    _, secret = create_token("schemathesis", actor="test")
    db.session.commit()
    yield {"Authorization": f"Bearer {secret}"}, broadcast.id
    limiter.reset()


def test_the_served_document_is_the_one_tested(app):
    assert app.test_client().get("/api/v1/openapi.json").json == DOCUMENT


def _api_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path with its parameters as {}, scopes that allow it) for every API route."""
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        view = app.view_functions[rule.endpoint]
        if not is_api_blueprint(blueprint) or getattr(view, "public", False):
            continue
        # `<any(pause, resume, cancel):action>` is one route, three documented paths.
        choices = re.search(r"<any\(([^)]*)\):\w+>", rule.rule)
        paths = (
            [rule.rule.replace(choices[0], c.strip()) for c in choices[1].split(",")]
            if choices
            else [rule.rule]
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            scopes = [str(s) for s in accepted_scopes(view, method)]
            routes += [(method.lower(), re.sub(r"<[^>]+>", "{}", p), scopes) for p in paths]
    return routes


def test_every_api_route_is_documented_with_the_scopes_it_checks(app):
    documented = {
        ("/api/v1" + re.sub(r"\{[^}]+\}", "{}", path), method): [
            scope for alternative in operation["security"] for scope in alternative["bearer"]
        ]
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
    }
    routes = _api_routes(app)
    assert len(routes) == len(documented) >= 12
    for method, path, scopes in routes:
        assert documented.get((path, method)) == scopes, (method, path)
        assert scopes, f"{method} {path} checks no scope: it would answer 403 to every token"
    assert documented[("/api/v1/broadcasts/{}", "get")] == [ApiScope.BROADCASTS, ApiScope.READ]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_as_documented(case, app, bearer):
    headers, broadcast_id = bearer
    _use_the_real_store(case, broadcast_id)
    case.call_and_validate(
        app=app,
        base_url="http://localhost/api/v1",
        headers=headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    db.session.rollback()


def _use_the_real_store(case, broadcast_id: int) -> None:
    """Random store codes and ids only ever meet 404 or 422: point the records and broadcasts
    at the store and the broadcast that exist, so the writes themselves are fuzzed too."""
    if case.path_parameters and "store" in case.path_parameters:
        case.path_parameters["store"] = "own"
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = broadcast_id
    if isinstance(case.body, dict):
        if isinstance(case.body.get("store"), str):  # a broadcast's sending store
            case.body["store"] = "own"
        for items in case.body.values():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and "store" in item:
                    item["store"] = "own"
