"""User management and the account page, as an admin and a staff member meet them."""

from __future__ import annotations

import re

from shopmail.extensions import db
from shopmail.models import AuditEntry, User
from tests.conftest import PASSWORD, csrf_token, log_in

LAST_ADMIN = "最後の有効な管理者"


def post(client, path: str, data: dict | None = None, page: str = "/"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})})


def entries(action: str, by: User | None = None) -> list[AuditEntry]:
    """The entries of one action (made by `by`, when given)."""
    db.session.expire_all()
    query = db.select(AuditEntry).filter_by(action=action)
    if by is not None:
        query = query.filter_by(user_id=by.id)
    return db.session.scalars(query).all()


def shown_password(response) -> str:
    match = re.search(r'data-testid="new-password">([^<]+)<', response.get_data(as_text=True))
    assert match, "no generated password on the page"
    return match.group(1)


def test_users_page_lists_everyone_with_role_and_status(admin_client, staff):
    page = admin_client.get("/users").get_data(as_text=True)
    assert "ユーザー" in page
    assert "管理 太郎" in page and "店員 花子" in page
    assert "staff@example.com" in page
    assert "有効" in page


def test_admin_creates_a_user_who_can_log_in_with_the_password_shown_once(app, admin_client, admin):
    response = post(
        admin_client,
        "/users",
        {"email": " New@Example.com ", "name": "新人 一郎", "role": "staff", "language": "en"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "一度" in response.get_data(as_text=True) or "今しか" in response.get_data(as_text=True)
    password = shown_password(response)
    user = db.session.scalar(db.select(User).filter_by(email="new@example.com"))
    assert user.role == "staff" and user.language == "en" and user.name == "新人 一郎"
    assert log_in(app.test_client(), user, password).get("/").status_code == 200
    (entry,) = entries("user.created", by=admin)
    assert entry.object_id == str(user.id) and entry.details["role"] == "staff"
    assert password not in str(entry.details)


def test_creating_a_user_twice_or_with_a_bad_address_is_refused(admin_client, admin, staff):
    response = post(admin_client, "/users", {"email": "staff@example.com", "role": "staff"})
    assert response.status_code == 400
    assert "すでに登録されています" in response.get_data(as_text=True)
    response = post(admin_client, "/users", {"email": "not-an-address", "role": "staff"})
    assert "メールアドレスの形式が正しくありません" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 2
    assert entries("user.created", by=admin) == []


def test_admin_changes_a_role_and_it_is_recorded(admin_client, staff):
    response = post(admin_client, f"/users/{staff.id}/role", {"role": "admin"})
    assert response.headers["Location"] == "/users"
    db.session.expire_all()
    assert staff.role == "admin"
    assert "権限を変更しました" in admin_client.get("/users").get_data(as_text=True)
    (entry,) = entries("user.role_changed")
    assert entry.user.email == "admin@example.com"
    assert (entry.object_type, entry.object_id) == ("users", str(staff.id))
    assert entry.details["old"] == "staff" and entry.details["new"] == "admin"


def test_a_deactivated_user_is_logged_out_on_the_next_request_and_cannot_log_in(
    app, admin_client, staff_client, staff
):
    assert staff_client.get("/").status_code == 200
    post(admin_client, f"/users/{staff.id}/deactivate")
    response = staff_client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    client = app.test_client()
    refused = client.post(
        "/login",
        data={"email": staff.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 200 and "正しくありません" in refused.get_data(as_text=True)
    (entry,) = entries("user.deactivated")
    assert entry.user.email == "admin@example.com" and entry.object_id == str(staff.id)


def test_a_reactivated_user_can_log_in_again(app, admin_client, staff):
    post(admin_client, f"/users/{staff.id}/deactivate")
    post(admin_client, f"/users/{staff.id}/reactivate")
    assert "ログインできます" in admin_client.get("/users").get_data(as_text=True)
    db.session.expire_all()
    assert log_in(app.test_client(), staff).get("/").status_code == 200
    (entry,) = entries("user.reactivated")
    assert entry.user.email == "admin@example.com" and entry.object_id == str(staff.id)


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(admin_client, admin):
    for path, data in (
        (f"/users/{admin.id}/role", {"role": "staff"}),
        (f"/users/{admin.id}/deactivate", {}),
    ):
        response = post(admin_client, path, data)
        assert response.headers["Location"] == "/users"
        page = admin_client.get("/users").get_data(as_text=True)
        assert LAST_ADMIN in page, path
    db.session.expire_all()
    assert admin.role == "admin" and admin.active
    assert admin_client.get("/users").status_code == 200
    assert entries("user.role_changed") == [] and entries("user.deactivated") == []


def test_with_a_second_admin_the_first_may_step_down(admin_client, admin, make_user):
    make_user("boss@example.com", "admin")
    response = post(admin_client, f"/users/{admin.id}/role", {"role": "staff"})
    assert response.headers["Location"] == "/"  # no longer allowed on the users page
    db.session.expire_all()
    assert admin.role == "staff"
    assert admin_client.get("/users").status_code == 403


def test_a_password_reset_shows_a_new_password_once_and_ends_the_users_sessions(
    app, admin_client, staff_client, staff
):
    response = post(admin_client, f"/users/{staff.id}/password", page="/users")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response)
    assert staff_client.get("/").status_code == 302
    db.session.expire_all()
    assert log_in(app.test_client(), staff, password).get("/").status_code == 200
    (entry,) = entries("user.password_reset")
    assert entry.user.email == "admin@example.com" and entry.object_id == str(staff.id)
    assert password not in str(entry.details)


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, staff, staff_client):
    other = log_in(app.test_client(), staff)
    new = "a-much-longer-secret"
    response = post(
        staff_client,
        "/account/password",
        {"current": PASSWORD, "new": new, "confirm": new},
        page="/account",
    )
    assert response.headers["Location"] == "/account"
    assert "パスワードを変更しました" in staff_client.get("/account").get_data(as_text=True)
    assert other.get("/").status_code == 302
    db.session.expire_all()
    assert log_in(app.test_client(), staff, new).get("/").status_code == 200
    (entry,) = entries("account.password_changed")
    assert entry.user.email == staff.email and entry.object_id == str(staff.id)
    assert new not in str(entry.details)


def test_a_weak_or_unconfirmed_password_is_refused_with_a_clear_message(staff_client, staff):
    cases = {
        ("wrong-password", "a-much-longer-secret"): "現在のパスワードが正しくありません",
        (PASSWORD, "short"): "10文字以上",
        (PASSWORD, "aaaaaaaaaaaa"): "同じ文字だけ",
        (PASSWORD, "STAFF@example.com"): "メールアドレスと同じ",
    }
    for (current, new), message in cases.items():
        response = post(
            staff_client,
            "/account/password",
            {"current": current, "new": new, "confirm": new},
            page="/account",
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), new
    response = post(
        staff_client,
        "/account/password",
        {"current": PASSWORD, "new": "a-much-longer-secret", "confirm": "something-else"},
        page="/account",
    )
    assert "一致しません" in response.get_data(as_text=True)
    assert staff_client.get("/").status_code == 200  # still logged in: nothing changed
    assert entries("account.password_changed") == []


def test_a_user_chooses_english_on_the_account_page(staff_client, staff):
    response = post(staff_client, "/account/language", {"language": "en"}, page="/account")
    assert response.headers["Location"] == "/account"
    page = staff_client.get("/account").get_data(as_text=True)
    assert "My account" in page and "Change password" in page
    db.session.expire_all()
    assert staff.language == "en"
    (entry,) = entries("account.language_changed")
    assert entry.user.email == staff.email and entry.details == {"old": "ja", "new": "en"}


def test_the_topbar_language_switch_is_recorded_too(staff_client, staff):
    post(staff_client, "/language/en", {"next": "/account"})
    assert "My account" in staff_client.get("/account").get_data(as_text=True)
    (entry,) = entries("account.language_changed")
    assert entry.user.email == staff.email and entry.details == {"old": "ja", "new": "en"}


def test_an_admin_resetting_their_own_password_stays_logged_in(app, admin_client, admin):
    password = shown_password(post(admin_client, f"/users/{admin.id}/password"))
    assert admin_client.get("/users").status_code == 200
    db.session.expire_all()
    assert log_in(app.test_client(), admin, password).get("/").status_code == 200


def test_the_account_page_is_linked_from_every_page(staff_client):
    page = staff_client.get("/").get_data(as_text=True)
    assert 'href="/account"' in page and "アカウント設定" in page


def test_logging_out_ends_the_session_a_copied_cookie_and_remember_me_included(app, staff):
    client = app.test_client()
    client.post(
        "/login",
        data={
            "email": staff.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client),
        },
    )
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = app.test_client()
        thief.set_cookie(name, value)
        assert thief.get("/").status_code == 302, name  # back to the log-in page
    db.session.expire_all()
    assert log_in(app.test_client(), staff).get("/").status_code == 200  # the user can return


def test_the_csrf_token_is_renewed_at_log_in(app, staff):
    client = app.test_client()
    before = csrf_token(client)
    log_in(client, staff)
    after = csrf_token(client, "/")
    assert before != after
