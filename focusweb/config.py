"""Configuration read from environment variables (see README, "Configuration")."""

import os
import secrets
from pathlib import Path

ENVIRONMENTS = ("development", "production", "testing")


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL, or SQLite in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "focusweb.db")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options for the database at ``url``.

    PostgreSQL: the planner's cost of a random page read is set to 1.1 (its default, 4, models
    spinning disks). FocusWeb's pages pick a few thousand cards out of hundreds of thousands by
    index; at 4 PostgreSQL prefers to read the whole table instead (the team view: 230 ms instead
    of 50 ms on two years of history). PG_RANDOM_PAGE_COST overrides it; empty leaves the server's.
    """
    options: dict = {"pool_pre_ping": True}
    cost = os.environ.get("PG_RANDOM_PAGE_COST", "1.1").strip()
    if url.startswith("postgresql") and cost:
        options["connect_args"] = {"options": f"-c random_page_cost={float(cost)}"}
    return options


def _dev_secret_key(instance_path: str) -> str:
    """A development key kept in instance/ so sessions survive restarts and workers."""
    path = Path(instance_path) / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from the process environment."""
    env = os.environ.get("FOCUSWEB_ENV", "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"FOCUSWEB_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret_key = os.environ.get("SECRET_KEY", "").strip()
    if not secret_key:
        if env == "production":
            raise RuntimeError("SECRET_KEY must be set in production (see README, Configuration)")
        secret_key = _dev_secret_key(instance_path)
    production = env == "production"
    return {
        "FOCUSWEB_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url(instance_path)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Every static URL carries a content hash (see focusweb.assets), so it may be cached for a year.
        "SEND_FILE_MAX_AGE_DEFAULT": 31_536_000,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25") or 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(os.environ.get("MAIL_USE_TLS")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "FocusWeb <focusweb@localhost>"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # How many reverse proxies (load balancers) stand in front and set X-Forwarded-*.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0") or 0),
    }
