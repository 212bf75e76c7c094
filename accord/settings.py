"""Settings, all read from environment variables with strict parsers (see docs/configuration in README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from accord.lib.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_hours_table,
    env_int,
    env_list,
    env_optional,
    env_path,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

try:
    ACCORD_ENV = env_choice("ACCORD_ENV", "development", ("development", "test", "production"))
    DEBUG = env_bool("ACCORD_DEBUG", False)
    DATA_DIR = env_path("ACCORD_DATA_DIR", BASE_DIR / "var")
    _secret = env_optional("ACCORD_SECRET_KEY")
    ALLOWED_HOSTS = env_list(
        "ACCORD_ALLOWED_HOSTS",
        ["127.0.0.1", "localhost", "[::1]"] + (["testserver"] if ACCORD_ENV != "production" else []),
    )
    CSRF_TRUSTED_ORIGINS = env_list("ACCORD_CSRF_TRUSTED_ORIGINS", [])
    ACCORD_MAX_BODY_BYTES = env_int("ACCORD_MAX_BODY_BYTES", 1_048_576, minimum=1024, maximum=512 * 1_048_576)
    # The alliances' library: the largest file a document may attach (PDF, DOCX, XLSX). A file must also stay within
    # ACCORD_MAX_BODY_BYTES, the record core's limit for any attachment (and what peers accept): the smaller wins.
    ACCORD_LIBRARY_MAX_BYTES = env_int(
        "ACCORD_LIBRARY_MAX_BYTES", 20 * 1_048_576, minimum=1024, maximum=512 * 1_048_576
    )
    # POST /api/v1/alerts/batch: the most CAP documents, and bytes, one request may carry.
    ACCORD_ALERT_BATCH_MAX_ITEMS = env_int("ACCORD_ALERT_BATCH_MAX_ITEMS", 1000, minimum=1, maximum=100_000)
    ACCORD_ALERT_BATCH_MAX_BYTES = env_int(
        "ACCORD_ALERT_BATCH_MAX_BYTES", 64 * 1_048_576, minimum=1024, maximum=2048 * 1_048_576
    )
    ACCORD_NODE_NAME = env_optional("ACCORD_NODE_NAME")
    ACCORD_NODE_MEMBER = env_str("ACCORD_NODE_MEMBER", "SCO")
    ACCORD_NODE_PRIVATE_KEY = env_optional("ACCORD_NODE_PRIVATE_KEY")
    ACCORD_WORKER_HEARTBEAT_SECONDS = env_int("ACCORD_WORKER_HEARTBEAT_SECONDS", 5, minimum=1, maximum=300)
    ACCORD_WORKER_STALE_SECONDS = env_int("ACCORD_WORKER_STALE_SECONDS", 30, minimum=2, maximum=3600)
    ACCORD_AUDIT_CHECKPOINT_SECONDS = env_int("ACCORD_AUDIT_CHECKPOINT_SECONDS", 3600, minimum=10, maximum=7 * 86400)
    ACCORD_TOKEN_DAYS = env_int("ACCORD_TOKEN_DAYS", 90, minimum=1, maximum=3650)
    # How long a link to set a password (forgotten password, invitation of a new account) works, in seconds.
    PASSWORD_RESET_TIMEOUT = env_int("ACCORD_PASSWORD_RESET_SECONDS", 3600, minimum=300, maximum=7 * 86400)
    # The node's public base URL: every link in e-mails, feeds and webhook payloads starts with it
    # (accord/members/site.py). ACCORD_NODE_URL is its former name, still read.
    ACCORD_PUBLIC_URL = env_url("ACCORD_PUBLIC_URL") or env_url("ACCORD_NODE_URL") or ""
    ACCORD_FEDERATION_WINDOW_SECONDS = env_int("ACCORD_FEDERATION_WINDOW_SECONDS", 300, minimum=10, maximum=86400)
    ACCORD_FEDERATION_POLL_SECONDS = env_int("ACCORD_FEDERATION_POLL_SECONDS", 30, minimum=1, maximum=86400)
    ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS = env_int(
        "ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS", 900, minimum=5, maximum=7 * 86400
    )
    ACCORD_FEDERATION_PAGE = env_int("ACCORD_FEDERATION_PAGE", 200, minimum=1, maximum=1000)
    ACCORD_FEDERATION_TIMEOUT_SECONDS = env_int("ACCORD_FEDERATION_TIMEOUT_SECONDS", 15, minimum=1, maximum=600)
    _database_url = env_optional("DATABASE_URL")
    _tasks_backend = env_choice("ACCORD_TASKS_BACKEND", "database", ("database", "immediate"))
    EMAIL_HOST = env_str("ACCORD_SMTP_HOST", "127.0.0.1")
    EMAIL_PORT = env_int("ACCORD_SMTP_PORT", 25, minimum=1, maximum=65535)
    DEFAULT_FROM_EMAIL = env_str("ACCORD_MAIL_FROM", "accord@localhost")
    _email_backend = env_choice("ACCORD_EMAIL_BACKEND", "console", ("console", "smtp"))
    ACCORD_ACK_HOURS = env_hours_table(
        "ACCORD_ACK_HOURS", {"Extreme": 1, "Severe": 4, "Moderate": 24, "Minor": 72, "Unknown": 24}
    )
    ACCORD_NOTIFY_POLL_SECONDS = env_int("ACCORD_NOTIFY_POLL_SECONDS", 1, minimum=1, maximum=60)
    ACCORD_NOTIFY_CONCURRENCY = env_int("ACCORD_NOTIFY_CONCURRENCY", 8, minimum=1, maximum=256)
    ACCORD_NOTIFY_PER_HOST = env_int("ACCORD_NOTIFY_PER_HOST", 4, minimum=1, maximum=256)
    ACCORD_NOTIFY_TIMEOUT_SECONDS = env_int("ACCORD_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1, maximum=300)
    ACCORD_NOTIFY_LEASE_SECONDS = env_int("ACCORD_NOTIFY_LEASE_SECONDS", 60, minimum=2, maximum=3600)
    ACCORD_NOTIFY_RETRY_SECONDS = env_int("ACCORD_NOTIFY_RETRY_SECONDS", 30, minimum=1, maximum=86400)
    ACCORD_NOTIFY_RETRY_MAX_SECONDS = env_int("ACCORD_NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=1, maximum=7 * 86400)
    ACCORD_NOTIFY_MAX_ATTEMPTS = env_int("ACCORD_NOTIFY_MAX_ATTEMPTS", 8, minimum=1, maximum=100)
    ACCORD_NOTIFY_DISABLE_AFTER = env_int("ACCORD_NOTIFY_DISABLE_AFTER", 5, minimum=1, maximum=1000)
    ACCORD_NOTIFY_DIGEST_HOUR = env_int("ACCORD_NOTIFY_DIGEST_HOUR", 6, minimum=0, maximum=23)
    ACCORD_SURVEILLANCE_MAX_ROWS = env_int("ACCORD_SURVEILLANCE_MAX_ROWS", 50_000, minimum=1, maximum=1_000_000)
    # Limits on uploaded counts, checked before they are parsed (docs/surveillance.md, "Limits").
    ACCORD_UPLOAD_MAX_LINES = env_int("ACCORD_UPLOAD_MAX_LINES", 100_000, minimum=2, maximum=10_000_000)
    ACCORD_UPLOAD_MAX_COLUMNS = env_int("ACCORD_UPLOAD_MAX_COLUMNS", 100, minimum=4, maximum=16_384)
    ACCORD_UPLOAD_MAX_CELL_CHARS = env_int("ACCORD_UPLOAD_MAX_CELL_CHARS", 1_000, minimum=20, maximum=1_048_576)
    ACCORD_UPLOAD_MAX_CELLS = env_int("ACCORD_UPLOAD_MAX_CELLS", 500_000, minimum=4, maximum=100_000_000)
    ACCORD_UPLOAD_MAX_JSON_DEPTH = env_int("ACCORD_UPLOAD_MAX_JSON_DEPTH", 20, minimum=3, maximum=500)
    ACCORD_UPLOAD_MAX_PART_BYTES = env_int(
        "ACCORD_UPLOAD_MAX_PART_BYTES", 32 * 1_048_576, minimum=65_536, maximum=4 * 1_073_741_824
    )
    ACCORD_UPLOAD_MAX_UNZIPPED_BYTES = env_int(
        "ACCORD_UPLOAD_MAX_UNZIPPED_BYTES", 64 * 1_048_576, minimum=65_536, maximum=8 * 1_073_741_824
    )
    ACCORD_UPLOAD_MAX_RATIO = env_int("ACCORD_UPLOAD_MAX_RATIO", 100, minimum=2, maximum=100_000)
    ACCORD_UPLOAD_MAX_PARTS = env_int("ACCORD_UPLOAD_MAX_PARTS", 200, minimum=4, maximum=100_000)
    ACCORD_SURVEILLANCE_MONITOR_WEEKS = env_int("ACCORD_SURVEILLANCE_MONITOR_WEEKS", 4, minimum=1, maximum=52)
    ACCORD_SURVEILLANCE_JOINT_WEEKS = env_int("ACCORD_SURVEILLANCE_JOINT_WEEKS", 2, minimum=1, maximum=12)
    ACCORD_LOGIN_FAILURE_LIMIT = env_int("ACCORD_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
    ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1, maximum=100_000)
    ACCORD_LOGIN_COOLOFF_MINUTES = env_int("ACCORD_LOGIN_COOLOFF_MINUTES", 15, minimum=1, maximum=7 * 24 * 60)
    ACCORD_LOGIN_PROXY_COUNT = env_int("ACCORD_LOGIN_PROXY_COUNT", 0, minimum=0, maximum=10)
    ACCORD_2FA_REQUIRED_ROLES = env_list(
        "ACCORD_2FA_REQUIRED_ROLES",
        ["focal_point", "coordinator", "admin"] if ACCORD_ENV == "production" else [],
    )
    ACCORD_SESSION_IDLE_HOURS = env_int("ACCORD_SESSION_IDLE_HOURS", 12, minimum=1, maximum=24 * 30)
    ACCORD_ACCESS_LOG = env_bool("ACCORD_ACCESS_LOG", False)
    _hsts_seconds = env_int("ACCORD_HSTS_SECONDS", 31_536_000, minimum=0, maximum=2 * 31_536_000)
    _hsts_subdomains = env_bool("ACCORD_HSTS_INCLUDE_SUBDOMAINS", True)
    _hsts_preload = env_bool("ACCORD_HSTS_PRELOAD", False)
    _static_root = env_optional("ACCORD_STATIC_ROOT")
except ConfigError as error:
    raise ImproperlyConfigured(str(error)) from None

_DEVELOPMENT_SECRET = "accord-development-only-secret-key-do-not-use-in-production"  # noqa: S105
if _secret is None:
    if ACCORD_ENV == "production":
        raise ImproperlyConfigured("ACCORD_SECRET_KEY must be set when ACCORD_ENV=production")
    _secret = _DEVELOPMENT_SECRET
elif ACCORD_ENV == "production" and (_secret == _DEVELOPMENT_SECRET or len(_secret) < 32):
    raise ImproperlyConfigured("ACCORD_SECRET_KEY must be a private value of at least 32 characters in production")
SECRET_KEY = _secret

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Only for its bundled Swagger UI and ReDoc (static files): without it /api/v1/docs loads them from a CDN
    # with an inline script, which the Content-Security-Policy refuses.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accord.members",
    "accord.records",
    "accord.alerts",
    "accord.federation",
    "accord.surveillance",
    "accord.response",
    "accord.alliances",
    "accord.notify",
    "accord.desk",
    "accord.web",
]

MIDDLEWARE = [
    # First, and async: a static file is answered before any other middleware runs (no thread hop), streamed
    # with an async iterator. Its security headers come from accord.web.static.add_headers.
    "servestatic.middleware.ServeStaticMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "accord.web.middleware.SecurityHeadersMiddleware",
    "accord.web.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # An idle session ends before anything else looks at who is logged in.
    "accord.web.middleware.IdleSessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accord.members.middleware.TwoFactorMiddleware",
    "accord.members.preferences.AccountPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the login view's answer: it turns a locked-out attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accord.urls"
ASGI_APPLICATION = "accord.asgi.application"
AUTH_USER_MODEL = "members.Account"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # my desk
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accord.web.context.node",
                "accord.web.context.security",
            ],
            # `|bdi` and `|isolate` in every template without {% load %} (display safety of supplied text).
            "builtins": ["accord.web.templatetags.bidi"],
        },
    },
]

if _database_url is None:
    DATABASES: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "accord.sqlite3",
            # Keep connections between requests and worker rounds, as on PostgreSQL: opening one runs the pragmas
            # below and registers Django's SQL functions, which cost more than most requests' queries.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
                # failing half-way; the audit chain depends on appends being serialised.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
            "TEST": {"NAME": env_optional("ACCORD_TEST_SQLITE_NAME")},
        }
    }
else:
    try:
        DATABASES = {"default": dict(dj_database_url.parse(_database_url, conn_max_age=60))}
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {error}") from None
    # `accord serve` sets ACCORD_DB_POOL in its server processes. Django's ASGI handler answers each request in a
    # thread of its own, so a connection kept per thread (CONN_MAX_AGE) is a new connection per request, left open
    # until the thread is collected: under load they exhaust PostgreSQL's max_connections. A pool of at most
    # ACCORD_DB_POOL_SIZE connections per server process is used instead (docs/operations.md).
    ACCORD_DB_POOL = {
        "min_size": 1,
        "max_size": env_int("ACCORD_DB_POOL_SIZE", 8, minimum=1, maximum=200),
        "timeout": 30,
    }
    if env_bool("ACCORD_DB_POOL", False) and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = ACCORD_DB_POOL

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password log-ins are counted by django-axes (docs/accounts.md): the first backend refuses a locked-out
# account or address before the password is checked. API tokens do not pass here.
AUTHENTICATION_BACKENDS = [
    "accord.members.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
_ROLES = {"focal_point", "coordinator", "analyst", "expert", "viewer", "admin"}
_unknown_roles = sorted(set(ACCORD_2FA_REQUIRED_ROLES) - _ROLES)
if _unknown_roles:
    raise ImproperlyConfigured(f"ACCORD_2FA_REQUIRED_ROLES names unknown roles: {', '.join(_unknown_roles)}")
AXES_ENABLED = True
AXES_HANDLER = "accord.members.lockout.LockoutHandler"
# Locked out is either the account (by username, from any address) or the address (for any username); each
# has its own limit, which LockoutHandler folds into the one limit django-axes compares with.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = "accord.members.lockout.failure_limit"
AXES_COOLOFF_TIME = "accord.members.lockout.cool_off"
# Attempts while locked are refused without being counted, so the time to try again stays what we said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "accord.members.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accord.members.lockout.client_address"
AXES_USERNAME_FORM_FIELD = "username"
# What django-axes keeps of a failed attempt's form, besides the password it always masks.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken", "next"]
AXES_VERBOSE = False


def _totp_issuer(device: Any) -> str:
    from accord.members.twofactor import issuer

    return issuer()


# The name an authenticator app shows for the account: "Accord (<node name>)", so accounts on several nodes differ.
OTP_TOTP_ISSUER = _totp_issuer

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The three official and working languages, then the other members' (RIGHT_TO_LEFT: Urdu and Persian).
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Chinese")),
    ("ru", _("Russian")),
    ("kk", _("Kazakh")),
    ("ky", _("Kyrgyz")),
    ("tg", _("Tajik")),
    ("uz", _("Uzbek")),
    ("hi", _("Hindi")),
    ("ur", _("Urdu")),
    ("fa", _("Persian")),
    ("be", _("Belarusian")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
FORMAT_MODULE_PATH = ["accord.formats"]  # Kazakh, Kyrgyz, Urdu and Belarusian formats; Django has the others
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
# Collected (hashed names, gzip and brotli copies) by `accord serve` at start when the sources changed
# (accord.web.static.ensure_collected); ACCORD_STATIC_ROOT lets several data dirs share one collection.
STATIC_ROOT = Path(_static_root) if _static_root else DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "accord.web.storage.StaticStorage"},
}
# With ACCORD_DEBUG the files are served from the sources (no collection, unhashed names); otherwise from
# STATIC_ROOT by the manifest: hashed names cached for ever ("immutable"), other names for a minute.
SERVESTATIC_USE_FINDERS = DEBUG
SERVESTATIC_AUTOREFRESH = DEBUG
SERVESTATIC_MAX_AGE = 0 if DEBUG else 60


def _static_headers(headers: Any, path: str, url: str) -> None:
    from accord.web.static import add_headers

    add_headers(headers, path, url)


SERVESTATIC_ADD_HEADERS_FUNCTION = _static_headers

DATA_UPLOAD_MAX_MEMORY_SIZE = ACCORD_MAX_BODY_BYTES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The idle timeout (accord.web.middleware.IdleSessionTimeoutMiddleware); the cookie lives as long.
ACCORD_SESSION_IDLE_SECONDS = ACCORD_SESSION_IDLE_HOURS * 3600
SESSION_COOKIE_AGE = ACCORD_SESSION_IDLE_SECONDS
if ACCORD_ENV == "production":
    SESSION_COOKIE_SECURE = env_bool("ACCORD_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Strict-Transport-Security on every HTTPS response. SecurityMiddleware sends it only on requests made over
    # HTTPS; behind a TLS proxy on the same host, uvicorn takes the scheme from the proxy's X-Forwarded-Proto.
    SECURE_HSTS_SECONDS = _hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _hsts_subdomains
    SECURE_HSTS_PRELOAD = _hsts_preload

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if _tasks_backend == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default"],
    }
}

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if _email_backend == "smtp"
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_TIMEOUT = 10

# Secrets out of logs (accord/lib/redact.py): the filter sits on the handler, so whatever reaches the console is
# redacted, and on the loggers that log URLs and requests (Django's "Not Found: /feeds/t/<token>/..."), so the
# records are clean for any other handler too. `accord serve` puts it on uvicorn's loggers and handlers.
# (A logger's own filters see only the records logged on it, not those of its children: hence the list. Django's
# own "django" logger is left as Django configures it: the records it passes on come from these, already clean.)
_REDACTED_LOGGERS = (
    "django.request",
    "django.security",
    "accord",
    "accord.federation",
    "accord.notify",
    "accord.notify.stream",
    "accord.records",
    "accord.surveillance",
    "django_tasks_db",
)
_LOGGER_LEVELS = {"accord": "INFO", "django_tasks_db": "WARNING"}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "accord.lib.redact.RedactingFilter"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        # Django's request lines of `accord manage runserver`, as Django's default logging writes them, redacted.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING", "filters": ["redact"]},
    "loggers": {
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["redact"]},
        **{
            name: {"filters": ["redact"], **({"level": _LOGGER_LEVELS[name]} if name in _LOGGER_LEVELS else {})}
            for name in _REDACTED_LOGGERS
        },
    },
}
