"""API tokens: admins create them with their scopes (shown once), list and revoke them; the CLI
creates them too."""

from __future__ import annotations

import re

import pytest

from shopmail.data_in.tokens import TokenError, create_token, digest
from shopmail.extensions import db
from shopmail.models import ApiToken, AuditEntry
from tests.conftest import csrf_token

EVERY_SCOPE = ["records", "members", "broadcasts", "read"]


def test_admin_creates_a_token_that_is_shown_once_and_stored_hashed(app, admin_client):
    token = csrf_token(admin_client, "/api-tokens/")
    page = admin_client.post(
        "/api-tokens/", data={"name": "楽天 連携", "scopes": EVERY_SCOPE, "csrf_token": token}
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


def _secret(page: str) -> str:
    return re.search(r"(smk_[A-Za-z0-9_-]+)", page).group(1)


def test_the_tokens_page_offers_every_scope_ticked_in_japanese(admin_client):
    page = admin_client.get("/api-tokens/").get_data(as_text=True)
    for scope, label in (
        ("records", "受注・出荷・見積の登録"),
        ("members", "会員の登録"),
        ("broadcasts", "メール配信の作成と実行"),
        ("read", "すべての読み取り"),
    ):
        assert re.search(
            rf'<input checked[^>]*name="scopes" type="checkbox" value="{scope}">', page
        )
        assert label in page
    assert "スコープ(権限)" in page


def test_admin_creates_a_token_with_the_ticked_scopes_and_the_list_shows_them(app, admin_client):
    token = csrf_token(admin_client, "/api-tokens/")
    page = admin_client.post(
        "/api-tokens/",
        data={"name": "配信システム", "scopes": ["broadcasts", "read"], "csrf_token": token},
    ).get_data(as_text=True)
    secret = _secret(page)
    db.session.expire_all()
    row = db.session.scalar(db.select(ApiToken).filter_by(name="配信システム"))
    assert row.scopes == "broadcasts read"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="api_token.created"))
    assert entry.details == {"name": "配信システム", "scopes": ["broadcasts", "read"]}

    listing = admin_client.get("/api-tokens/").get_data(as_text=True)
    cells = re.search(r"<td>配信システム</td>\s*<td class=\"scopes\">(.*?)</td>", listing, re.S)
    assert "メール配信の作成と実行" in cells[1] and "すべての読み取り" in cells[1]
    assert "受注・出荷・見積の登録" not in cells[1] and "会員の登録" not in cells[1]

    # What the scopes allow, as the order system meets it.
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    assert client.get("/api/v1/orders/own/1/messages", headers=headers).status_code == 404
    refused = client.post("/api/v1/orders", json={"orders": []}, headers=headers)
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"


def test_a_token_without_any_scope_is_refused(admin_client):
    token = csrf_token(admin_client, "/api-tokens/")
    page = admin_client.post(
        "/api-tokens/", data={"name": "何もしない", "csrf_token": token}
    ).get_data(as_text=True)
    assert "スコープを1つ以上選んでください。" in page
    assert "smk_" not in page
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_the_cli_creates_a_token_with_every_scope_when_none_is_given(app):
    result = app.test_cli_runner().invoke(args=["create-api-token", "基幹システム"])
    assert result.exit_code == 0, result.output
    assert "scopes: records, members, broadcasts, read" in result.output
    db.session.expire_all()
    row = db.session.scalar(db.select(ApiToken).filter_by(name="基幹システム"))
    assert row.scopes == "records members broadcasts read"


def test_the_cli_creates_a_token_with_the_scopes_given(app):
    result = app.test_cli_runner().invoke(
        args=["create-api-token", "ERP", "--scope", "read", "--scope", "records"]
    )
    assert result.exit_code == 0, result.output
    assert "scopes: records, read" in result.output
    secret = result.output.strip().splitlines()[-1]
    db.session.expire_all()
    row = db.session.scalar(db.select(ApiToken).filter_by(name="ERP"))
    assert row.scopes == "records read" and row.token_hash == digest(secret)
    headers = {"Authorization": f"Bearer {secret}"}
    refused = app.test_client().post("/api/v1/members", json={"members": []}, headers=headers)
    assert refused.status_code == 403


def test_the_cli_refuses_an_unknown_scope_and_creates_nothing(app):
    result = app.test_cli_runner().invoke(args=["create-api-token", "ERP", "--scope", "everything"])
    assert result.exit_code == 2
    assert "'everything' is not one of 'records', 'members', 'broadcasts', 'read'" in result.output
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_create_token_refuses_an_unknown_scope(app):
    with app.test_request_context(), pytest.raises(TokenError) as refused:
        create_token("x", actor="test", scopes=["records", "write_all"])
    with app.test_request_context():
        assert "write_all" in str(refused.value)
