"""Sessions and sign-in: rate limits (memory and Redis), session rotation, password change,
cookie flags, SECRET_KEY, and the open-redirect guard."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from flask_login import current_user

from focusweb import config
from focusweb.auth.views import safe_next
from focusweb.extensions import db
from tests.conftest import PASSWORD

WRONG_PASSWORD = "wrong password"
REDIS_URL = "redis://127.0.0.1:6379/7"
# Flask-Limiter's singleton keeps the first key prefix it is given: one per test process.
KEY_PREFIX = f"focusweb-test-{uuid.uuid4().hex[:12]}"


def _redis_or_skip():
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_URL} ({error}); the Redis rate-limit test needs it (CI has it)")
    return connection


@pytest.fixture
def app_config(request):
    """Rate limits on, 3 sign-in attempts a minute, counted in memory or in Redis."""
    storage = getattr(request, "param", None)
    if storage is None:
        return {}
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": KEY_PREFIX,
        "LOGIN_RATE_LIMIT": "3 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if storage == "redis":
        connection = _redis_or_skip()
        for key in connection.scan_iter(f"*{KEY_PREFIX}*"):
            connection.delete(key)
        settings["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return settings


STORAGES = pytest.mark.parametrize("app_config", ["memory", "redis"], indirect=True)


def attempt(client, email, address, password=WRONG_PASSWORD, headers=None):
    token = client.csrf_token()
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
        csrf=False,
    )


@STORAGES
def test_sign_in_is_limited_per_email_across_addresses(app, client, factory, tally):
    victim = factory.user("seller")
    for n in range(3):
        assert attempt(client, victim.email, f"10.0.0.{n}").status_code == 422
    refused = attempt(client, victim.email, "10.0.0.99", password=PASSWORD)
    assert refused.status_code == 429, "the right password is refused too while the e-mail is paused"
    assert client.get("/").status_code == 303, "and it signs no one in"
    assert attempt(client, "someone.else@example.test", "10.0.0.100").status_code == 422
    tally["sessions: sign-in attempts against the rate limit"] += 5
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        assert any(_redis_or_skip().scan_iter(f"*{KEY_PREFIX}*")), "the counts are kept in Redis"


@STORAGES
def test_sign_in_is_limited_per_address_across_emails(app, client, factory, tally):
    for n in range(3):
        assert attempt(client, f"guess{n}@example.test", "10.1.1.1").status_code == 422
    assert attempt(client, "guess9@example.test", "10.1.1.1").status_code == 429
    assert attempt(client, "guess9@example.test", "10.1.1.2").status_code == 422
    tally["sessions: sign-in attempts against the rate limit"] += 5


@STORAGES
def test_429_says_what_happened_and_when_to_retry(app, client):
    for _ in range(3):
        attempt(client, "x@example.test", "10.2.2.2")
    response = attempt(client, "x@example.test", "10.2.2.2")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    match = re.search(
        r"Too many sign-in attempts in a short time: signing in is paused. Try again in (\d+) seconds.", page
    )
    assert match, page
    assert 1 <= int(match.group(1)) <= 60
    assert 1 <= int(response.headers["Retry-After"]) <= 60


@STORAGES
def test_a_boosted_sign_in_form_gets_the_whole_429_page_and_htmx_swaps_it_in(app, client):
    for _ in range(3):
        attempt(client, "x@example.test", "10.3.3.3")
    boosted = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://localhost/login"}
    response = attempt(client, "x@example.test", "10.3.3.3", headers=boosted)
    assert response.status_code == 429
    assert "<html" in response.get_data(as_text=True) and "Try again in" in response.get_data(as_text=True)
    assert "HX-Reswap" not in response.headers
    assert htmx_swaps(client.get("/login").get_data(as_text=True), 429)


def htmx_swaps(page: str, status: int) -> bool:
    """What htmx 2 does with a response of ``status``: the first responseHandling entry whose code matches."""
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1)
    for entry in json.loads(meta)["responseHandling"]:
        if re.search(entry["code"], str(status)):
            return entry["swap"]
    return False


@pytest.mark.parametrize("status", [400, 404, 413, 429, 500])
def test_error_pages_are_swapped_in_for_boosted_requests_but_never_into_a_fragment(client, status):
    page = client.get("/login").get_data(as_text=True)
    assert htmx_swaps(page, status), f"a boosted form or link answered {status} would show nothing"
    assert not htmx_swaps(page, 401), "401 carries HX-Redirect to sign in instead"
    fragment = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and fragment.headers["HX-Reswap"] == "none"


def test_a_pre_login_session_cookie_is_not_signed_in_after_login(client, factory):
    seller = factory.user("seller")
    client.get("/login")
    before = client.get_cookie("session").value
    old_token = client.csrf_token()
    assert client.post("/login", data={"email": seller.email, "password": PASSWORD}).status_code == 303
    after = client.get_cookie("session").value
    assert after != before
    assert client.csrf_token() != old_token, "the CSRF token is rotated with the session"
    client.set_cookie("session", before)
    assert client.get("/").status_code == 303, "the cookie from before sign-in does not carry the sign-in"


def test_a_planted_cookie_does_not_follow_the_victim_in(app, factory):
    """Session fixation: an attacker's cookie given to the victim stays anonymous after the victim signs in."""
    seller = factory.user("seller")
    attacker = app.test_client()
    attacker.get("/login")
    planted = attacker.get_cookie("session").value
    victim = app.test_client()
    victim.set_cookie("session", planted)
    victim.post("/login", data={"email": seller.email, "password": PASSWORD})
    attacker.set_cookie("session", planted)
    assert attacker.get("/").status_code == 303


# -- password change -----------------------------------------------------------------------------


def change(client, current=PASSWORD, new="a brand new pass", again=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "new_password_again": new if again is None else again},
    )


def test_password_page_has_labelled_fields(client, auth, factory):
    auth.login(factory.user("seller"))
    page = client.get("/account/password").get_data(as_text=True)
    for label in ("Current password", "New password", "New password again"):
        assert f">{label}</label>" in page
    assert ">Change password</button>" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"current": "not my password"}, "current_password", "That is not your current password."),
        ({"new": "short"}, "new_password", "Use 10 to 200 characters."),
        ({"new": "x" * 201}, "new_password", "Use 10 to 200 characters."),
        ({"again": "something else"}, "new_password_again", "The two new passwords are not the same."),
        ({"current": ""}, "current_password", "Type your current password."),
    ],
)
def test_password_change_refused_with_a_message_on_the_field(client, auth, factory, fields, field, message):
    user = factory.user("seller")
    auth.login(user)
    before = user.password_hash
    response = change(client, **fields)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{message}</p>' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, factory):
    user = factory.user("seller")
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    auth.login(user)
    copied = client.get_cookie("session").value
    response = change(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client:
        assert client.get("/").status_code == 200
        assert current_user.id == user.id, "this device stays signed in"
    assert other_device.get("/").status_code == 303, "the other device is signed out"
    client.set_cookie("session", copied)
    assert client.get("/").status_code == 303, "a copy of the old cookie no longer works"
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 422
    assert fresh.post("/login", data={"email": user.email, "password": "a brand new pass"}).status_code == 303


def test_password_change_shows_what_happened(client, auth, factory):
    auth.login(factory.user("seller"))
    change(client)
    assert "Every other device signed in as you is now signed out." in client.get("/").get_data(as_text=True)


# -- cookies, secret key, redirects ---------------------------------------------------------------


def _sign_in_over_https(app, user):
    client = app.test_client()
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
    page = client.get("/login", **https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    return client.post("/login", data=data, **https)


def test_production_session_cookie_is_secure_httponly_lax(app, factory, production_app):
    user = factory.user("seller")
    response = _sign_in_over_https(production_app, user)
    assert response.status_code == 303
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= flags


def test_development_cookie_is_not_secure_so_http_works(monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSWEB_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SESSION_COOKIE_HTTPONLY"] and settings["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("env", "key", "required"),
    [
        ("production", "", True),
        ("production", "   ", True),
        ("development", "", False),
        ("testing", "", False),
    ],
)
def test_secret_key_is_required_outside_development_and_tests(monkeypatch, tmp_path, env, key, required):
    monkeypatch.setenv("FOCUSWEB_ENV", env)
    monkeypatch.setenv("SECRET_KEY", key)
    if required:
        with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
            config.from_environment(str(tmp_path))
    else:
        assert config.from_environment(str(tmp_path))["SECRET_KEY"]


HOSTILE_NEXT = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example/x",
    "http:/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_open_redirects_via_next_are_refused(client, factory, target):
    seller = factory.user("seller")
    response = client.post("/login", query_string={"next": target}, data={"email": seller.email, "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/accounts", "/accounts?kind=key", "/team/3/accounts"])
def test_same_site_next_is_followed(app, target):
    with app.test_request_context():
        assert safe_next(target) == target
