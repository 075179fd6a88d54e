"""Signing in and out."""

import pytest
from flask_login import current_user

from focusweb.extensions import db


def test_login_page_has_the_fixed_labels(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert ">Sign in</button>" in page


def test_sign_in_then_home(client, auth, factory):
    seller = factory.user("seller")
    response = auth.login(seller)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    with client:
        page = client.get("/").get_data(as_text=True)
        assert current_user.id == seller.id
    assert f"Hello, {seller.name}" in page


@pytest.mark.parametrize(
    ("email", "password"),
    [("seller1@example.test", "wrong password"), ("nobody@example.test", "correct horse battery"), ("", "")],
)
def test_wrong_credentials_say_so_and_sign_no_one_in(client, auth, factory, email, password):
    factory.user("seller")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Wrong e-mail or password." in page or "This field is required." in page
    assert client.get("/").status_code == 303


def test_email_is_case_insensitive(client, auth, factory):
    factory.user("seller", email="mixed@example.test")
    assert auth.login("  MIXED@example.TEST ").status_code == 303


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/accounts")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/accounts"


def test_next_is_followed_only_on_this_site(client, factory):
    seller = factory.user("seller")
    token = client.csrf_token()
    data = {"email": seller.email, "password": "correct horse battery", "csrf_token": token}
    response = client.post("/login?next=https://evil.example/x", data=data)
    assert response.headers["Location"] == "/"


def test_next_path_is_followed(client, factory):
    seller = factory.user("seller")
    response = client.post("/login?next=/accounts", data={"email": seller.email, "password": "correct horse battery"})
    assert response.headers["Location"] == "/accounts"


def test_htmx_request_without_session_gets_401_and_redirect_header(client):
    response = client.get("/accounts", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=/accounts")


def test_sign_out_ends_the_session_and_copied_cookies(client, auth, factory):
    seller = factory.user("seller")
    auth.login(seller)
    stolen = client.get_cookie("session").value
    response = auth.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 303
    client.set_cookie("session", stolen)
    assert client.get("/").status_code == 303, "a cookie copied before sign-out must not work after it"


def test_post_without_csrf_token_is_refused(client, factory):
    seller = factory.user("seller")
    response = client.post("/login", data={"email": seller.email, "password": "correct horse battery"}, csrf=False)
    assert response.status_code == 400
    assert client.get("/").status_code == 303


def test_session_cookie_flags(client, auth, factory):
    auth.login(factory.user("seller"))
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_password_is_hashed_slowly(factory):
    user = factory.user("seller")
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse battery" not in user.password_hash
    db.session.refresh(user)
    assert user.check_password("correct horse battery")
