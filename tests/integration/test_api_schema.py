"""The API answers as its OpenAPI document says: schemathesis generates requests from the
document, sends them to the app (WSGI, in-process) with a valid token, and checks every answer."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from shopmail.data_in.api_document import document
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db, limiter
from shopmail.models import Store

# The document as served; loaded at import because parametrize needs it to collect tests
# (a test below checks that /api/v1/openapi.json serves exactly this).
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def bearer(app, monkeypatch):
    # Hypothesis sends hundreds of requests: the production rate limit would answer 429.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    db.session.add(Store(code="own", name="さくら雑貨 本店", channel="own"))
    _, secret = create_token("schemathesis", actor="test")
    db.session.commit()
    yield {"Authorization": f"Bearer {secret}"}
    limiter.reset()


def test_the_served_document_is_the_one_tested(app):
    assert app.test_client().get("/api/v1/openapi.json").json == document()


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_as_documented(case, app, bearer):
    _use_the_real_store(case)
    case.call_and_validate(
        app=app,
        base_url="http://localhost/api/v1",
        headers=bearer,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    db.session.rollback()


def _use_the_real_store(case) -> None:
    """Random store codes only ever meet 404: point the records at the store that exists, so
    the writes themselves are fuzzed too."""
    if case.path_parameters and "store" in case.path_parameters:
        case.path_parameters["store"] = "own"
    if isinstance(case.body, dict):
        for items in case.body.values():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and "store" in item:
                    item["store"] = "own"
