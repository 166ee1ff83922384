"""Settings from the environment (a `.env` file is read by python-dotenv).

Every setting has a safe development default, so `make run` works on a fresh machine; production
sets the secrets and URLs through the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
load_dotenv(ROOT / ".env")


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url() -> str:
    return normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{var_dir() / 'shopmail.db'}")
    )


def normalise_database_url(url: str) -> str:
    """Plain postgres URLs mean psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


RELAY_LIMIT_DEFAULTS = {"SESSIONS": 4, "PER_MINUTE": 0, "PER_HOUR": 0, "PER_SESSION": 1000}


def relay_limits(prefix: str) -> dict[str, int]:
    """`SHOPMAIL_SMTP_SESSIONS` … (`SHOPMAIL_RAKUTEN_SMTP_SESSIONS` … for the Rakuten relay):
    sessions at once, messages per minute and per hour (0: no pace), per session (0: no limit)."""
    return {
        f"{prefix}_{name}": int(os.environ.get(f"{prefix}_{name}", default))
        for name, default in RELAY_LIMIT_DEFAULTS.items()
    }


SECRET_FILE, FERNET_FILE = "secret-key", "secret-keys"
# Values seen in examples and earlier versions: a desk signing with one of these is open.
KNOWN_DEVELOPMENT_SECRETS = frozenset(
    {"dev-only-secret-change-me", "dev", "development", "secret", "change-me", "changeme"}
)


def var_dir() -> Path:
    """Where `make run` keeps its database, Redis, mail and development secrets."""
    return Path(os.environ.get("SHOPMAIL_VAR_DIR") or ROOT / "var")


def _secret(name: str, file: str) -> str:
    value = os.environ.get(name, "").strip()
    path = var_dir() / file
    if not value and path.is_file():
        value = path.read_text("utf-8").strip()
    return value


def development_secrets() -> None:
    """`make run` on a fresh checkout: a random session secret and a separate Fernet key for
    secrets at rest, in var/ (mode 0600), created once and reused."""
    from cryptography.fernet import Fernet

    folder = var_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for file, make in (
        (SECRET_FILE, lambda: secrets.token_urlsafe(48)),
        (FERNET_FILE, lambda: Fernet.generate_key().decode()),
    ):
        path = folder / file
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(make() + "\n")


class MissingSecret(RuntimeError):
    """The app will not start: its secrets are missing or publicly known."""


def check_secrets(config: dict) -> None:
    """Outside tests: a SECRET_KEY that is set and not a known development value, and key
    material of its own for secrets at rest (never derived from SECRET_KEY)."""
    if config.get("TESTING"):
        config["SECRET_KEY"] = config.get("SECRET_KEY") or secrets.token_urlsafe(32)
        return
    key = config.get("SECRET_KEY") or ""
    if not key or key in KNOWN_DEVELOPMENT_SECRETS:
        raise MissingSecret(
            "shopmail will not start: SECRET_KEY is "
            + ("not set" if not key else "a publicly known development value")
            + ". Set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'), or use `make run`, which creates one in var/."
        )
    if not config.get("SHOPMAIL_SECRET_KEYS"):
        raise MissingSecret(
            "shopmail will not start: SHOPMAIL_SECRET_KEYS is not set (the Fernet key(s) that "
            "encrypt relay passwords and DKIM keys). Generate one with python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())', or use "
            "`make run`, which creates one in var/."
        )


def load() -> dict:
    """The app's configuration as a dict, read from the environment now."""
    return {
        # No default: `make run` creates random ones in var/ (see `development_secrets`);
        # elsewhere the app refuses to start without them (`check_secrets`).
        "SECRET_KEY": _secret("SECRET_KEY", SECRET_FILE),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Fernet key(s) for secrets at rest; several, comma-separated, allow rotation.
        "SHOPMAIL_SECRET_KEYS": _secret("SHOPMAIL_SECRET_KEYS", FERNET_FILE),
        "SHOPMAIL_SMTP_URL": os.environ.get("SHOPMAIL_SMTP_URL", "smtp://127.0.0.1:8025"),
        "SHOPMAIL_RAKUTEN_SMTP_URL": os.environ.get(
            "SHOPMAIL_RAKUTEN_SMTP_URL", "smtp+starttls://sub.fw.rakuten.ne.jp:587"
        ),
        **relay_limits("SHOPMAIL_SMTP"),
        **relay_limits("SHOPMAIL_RAKUTEN_SMTP"),
        # Seconds a relay session's lease lasts unless renewed (a killed worker frees its slot).
        # Worker processes `make run` starts (one per core); a send job takes its share of a
        # relay's sessions and leaves the rest to the others.
        "SHOPMAIL_WORKERS": int(os.environ.get("SHOPMAIL_WORKERS") or os.cpu_count() or 1),
        "SHOPMAIL_SESSION_LEASE": float(os.environ.get("SHOPMAIL_SESSION_LEASE", "60")),
        "SHOPMAIL_SMTP_TIMEOUT": float(os.environ.get("SHOPMAIL_SMTP_TIMEOUT", "30")),
        # Seconds before a worker's claim on outbox rows lapses (a worker that died).
        "SHOPMAIL_CLAIM_LEASE": float(os.environ.get("SHOPMAIL_CLAIM_LEASE", "300")),
        # Seconds between a running worker's heartbeats; after 6 missed beats the worker is
        # taken for dead and its claims are taken over (long before the claim lease lapses).
        "SHOPMAIL_HEARTBEAT": float(os.environ.get("SHOPMAIL_HEARTBEAT", "5")),
        # Back-off before each of the 4 retries after a temporary failure, in seconds.
        "SHOPMAIL_RETRY_DELAYS": [
            float(x) for x in os.environ.get("SHOPMAIL_RETRY_DELAYS", "60,300,900,3600").split(",")
        ],
        "SHOPMAIL_MAIL_DOMAIN": os.environ.get("SHOPMAIL_MAIL_DOMAIN", "mail.shopmail.example"),
        # Bounces: the envelope senders' domain (empty: "bounce." + the mail domain), where the
        # desk's SMTP endpoint for it listens, and mailboxes to poll (imaps://…, pop3s://…).
        "SHOPMAIL_BOUNCE_DOMAIN": os.environ.get("SHOPMAIL_BOUNCE_DOMAIN", ""),
        "SHOPMAIL_BOUNCE_LISTEN": os.environ.get("SHOPMAIL_BOUNCE_LISTEN", "127.0.0.1:2626"),
        "SHOPMAIL_BOUNCE_MAILBOX": os.environ.get("SHOPMAIL_BOUNCE_MAILBOX", ""),
        "SHOPMAIL_BASE_URL": os.environ.get("SHOPMAIL_BASE_URL", "http://127.0.0.1:5000"),
        "SHOPMAIL_QUEUE_PREFIX": os.environ.get("SHOPMAIL_QUEUE_PREFIX", "shopmail"),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute; 60 per hour"),
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        "BABEL_DEFAULT_LOCALE": "ja",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "shopmail" / "translations"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }
