"""API tokens: admins create (shown once), list and revoke them; the CLI creates them too."""

from __future__ import annotations

import re

from shopmail.data_in.tokens import digest
from shopmail.extensions import db
from shopmail.models import ApiToken, AuditEntry
from tests.conftest import csrf_token


def test_admin_creates_a_token_that_is_shown_once_and_stored_hashed(app, admin_client):
    token = csrf_token(admin_client, "/api-tokens/")
    page = admin_client.post(
        "/api-tokens/", data={"name": "楽天 連携", "csrf_token": token}
    ).get_data(as_text=True)
    secret = re.search(r"(smk_[A-Za-z0-9_-]+)", page).group(1)
    assert "一度だけ" in page
    row = db.session.scalar(db.select(ApiToken))
    assert row.token_hash == digest(secret) and secret not in row.token_hash
    again = admin_client.get("/api-tokens/").get_data(as_text=True)
    assert "楽天 連携" in again and secret not in again
    api = app.test_client().get(
        "/api/v1/orders/own/1/messages", headers={"Authorization": f"Bearer {secret}"}
    )
    assert api.status_code == 404  # authenticated: only the store is unknown


def test_admin_revokes_a_token(app, admin_client):
    from shopmail.data_in.tokens import create_token

    row, secret = create_token("old system", actor="test")
    db.session.commit()
    token = csrf_token(admin_client, "/api-tokens/")
    response = admin_client.post(f"/api-tokens/{row.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert "失効" in admin_client.get("/api-tokens/").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/orders/a/b/messages", headers=headers).status_code == 401
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="api_token.revoked"))


def test_staff_cannot_see_tokens(staff_client):
    assert staff_client.get("/api-tokens/").status_code == 403


def test_the_cli_creates_a_token_and_prints_it_once(app):
    result = app.test_cli_runner().invoke(args=["create-api-token", "ERP"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    db.session.expire_all()
    row = db.session.scalar(db.select(ApiToken).filter_by(name="ERP"))
    assert row.token_hash == digest(secret)
    assert (
        app.test_client()
        .get("/api/v1/orders/a/b/messages", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 404
    )
