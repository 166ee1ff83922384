"""The desk's foundation as a user meets it: log-in, language, access rules, health."""

from __future__ import annotations

import pytest

from shopmail import create_app, demo
from shopmail.extensions import db, limiter
from shopmail.models import Member, Order, Quote, Shipment, Store
from tests.conftest import PASSWORD, csrf_token, log_in


def test_login_page_is_japanese_by_default(client_anon):
    page = client_anon.get("/login").get_data(as_text=True)
    assert "ログイン" in page
    assert "メールアドレス" in page


def test_english_is_one_click_away(client_anon):
    token = csrf_token(client_anon)
    client_anon.post("/language/en", data={"csrf_token": token, "next": "/login"})
    page = client_anon.get("/login").get_data(as_text=True)
    assert "Log in" in page and "ログイン" not in page


def test_pages_need_a_log_in(client_anon):
    response = client_anon.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_wrong_password_is_refused_with_a_message(client_anon, admin):
    response = client_anon.post(
        "/login",
        data={"email": admin.email, "password": "nope", "csrf_token": csrf_token(client_anon)},
    )
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません" in response.get_data(as_text=True)


def test_admin_logs_in_and_sees_the_demo_stores(client_anon, admin):
    created = demo.load()
    db.session.commit()
    assert created == {"stores": 5, "orders": 2000, "quotes": 200, "members": 5000}
    page = log_in(client_anon, admin).get("/").get_data(as_text=True)
    assert "さくら雑貨 楽天市場店" in page
    assert "さくら雑貨 Amazon店" in page
    assert "楽天市場" in page  # the channel, in Japanese


def test_demo_data_is_realistic_and_loading_it_twice_changes_nothing(app):
    demo.load()
    db.session.commit()
    assert demo.load() == {}
    assert db.session.query(Store).count() == 5
    assert db.session.query(Order).count() == 2000
    assert db.session.query(Quote).count() == 200
    assert db.session.query(Member).count() == 5000
    assert db.session.query(Shipment).filter(Shipment.confirmed_at.isnot(None)).count() > 1000
    assert db.session.query(Order).filter(Order.purchase_count > 1).count() > 100
    assert db.session.query(Member).filter_by(email_invalid=True).count() > 0
    assert db.session.query(Member).filter_by(wants_mail=False).count() > 500
    assert {s.channel for s in db.session.query(Store)} >= {"rakuten", "amazon", "own", "b2b"}


def test_post_without_csrf_token_is_refused(staff_client):
    response = staff_client.post("/logout")
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert staff_client.get("/").status_code == 200  # still logged in: nothing changed


def test_login_without_csrf_token_is_refused(client_anon, admin):
    response = client_anon.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client_anon.get("/").status_code == 302


def test_next_after_login_only_ever_lands_on_this_site(client_anon, admin):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client = client_anon.application.test_client()
        response = client.post(
            f"/login?next={target}",
            data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert response.headers["Location"] == "/", target
    client = client_anon.application.test_client()
    response = client.post(
        "/login?next=/users?page=2",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/users?page=2"


def test_a_deactivated_user_is_logged_out_on_the_next_request(staff_client, staff):
    assert staff_client.get("/").status_code == 200
    staff.active = False
    db.session.commit()
    assert staff_client.get("/").status_code == 302


def test_session_cookie_is_http_only_and_same_site(client_anon, admin):
    client_anon.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client_anon)},
    )
    cookie = client_anon.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_healthz_reports_database_and_redis(client_anon):
    response = client_anon.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_reports_redis_down(app, tmp_path):
    down = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": f"unix://{tmp_path}/no-redis.sock",
        }
    )
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("error")


def test_login_is_rate_limited(app, admin, monkeypatch):
    # The suite runs with a generous limit; this test puts the production one back.
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "10 per minute")
    try:
        client = app.test_client()
        token = csrf_token(client)
        codes = [
            client.post(
                "/login", data={"email": admin.email, "password": "wrong", "csrf_token": token}
            ).status_code
            for _ in range(12)
        ]
    finally:
        limiter.reset()
    assert codes[:10] == [200] * 10
    assert codes[-1] == 429


def test_pages_vary_on_htmx(staff_client):
    assert "HX-Request" in staff_client.get("/").headers["Vary"]


@pytest.fixture
def client_anon(app):
    return app.test_client()


def test_unknown_api_urls_answer_json(client_anon):
    response = client_anon.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    response = client_anon.delete("/api/v1/openapi.json")
    assert response.status_code == 405 and "error" in response.json
