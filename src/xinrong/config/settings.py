"""Django settings for xinrong, read from the environment.

Safe by default: DEBUG is off unless DEBUG=1; cookies are secure unless DEBUG or
XINRONG_INSECURE_COOKIES=1 (plain-HTTP demo on 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

# Generic Django classes (ModelAdmin[Model], QuerySet[Model]) subscriptable at run time (mypy).
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(os.environ.get("XINRONG_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("XINRONG_VAR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean from the environment ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated list from the environment."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, or one generated once into var/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


DEBUG = env_bool("DEBUG")
SECRET_KEY = _secret_key()
# Key for field encryption of personal identifiers (SM4); derived from SECRET_KEY unless set.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "127.0.0.1,localhost"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "xinrong.common",
    "xinrong.reference",
    "xinrong.audit",
    "xinrong.accounts",
    "xinrong.notifications",
    "xinrong.enterprises",
    "xinrong.workflows",
    "xinrong.datahub",
    "xinrong.credit",
    "xinrong.marketplace",
    "xinrong.policies",
    "xinrong.riskfund",
    "xinrong.evaluations",
    "xinrong.insight",
    "xinrong.web",
]

MIDDLEWARE = [
    # First: every response and log line of a request carries its id (X-Request-ID).
    "xinrong.common.requestid.RequestIdMiddleware",
    # One access-log line per request on logger xinrong.access (XINRONG_LOG_FORMAT, below).
    "xinrong.common.logs.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "xinrong.common.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xinrong.common.middleware.ExplicitLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # An over-long query string gets the Chinese 414 page (before the login redirect would carry
    # it along in ?next=).
    "xinrong.web.middleware.QueryStringLimitMiddleware",
    # Every page needs a login unless its view says otherwise (@login_not_required): a view that
    # forgets is closed, not open. The JSON API answers 401 itself.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Two-factor login: django-otp's device of the session, then the second step or enrolment
    # before any other page (before the one-time password change, which comes after it).
    "django_otp.middleware.OTPMiddleware",
    "xinrong.accounts.middleware.SecondFactorRequiredMiddleware",
    "xinrong.common.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every download (Content-Disposition: attachment) goes into the audit trail (docs/audit.md).
    "xinrong.audit.middleware.ExportAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees a view's exception first: a service error a page lets through becomes the
    # error page with the Chinese message and its 4xx status (the API has its own handlers).
    "xinrong.common.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "xinrong.config.urls"
# Error pages in the platform's layout, in Chinese, with the way forward (xinrong.web.errors):
# handler400/403/404/500 in config/urls.py; a failed CSRF check here.
CSRF_FAILURE_VIEW = "xinrong.web.errors.csrf_failure"
# The error page every service error shows (xinrong.common.http.error_page draws it through this).
XINRONG_ERROR_RENDERER = "xinrong.web.errors.render_error"
# Longest query string (characters) a page accepts; longer ones get the 414 page. `xinrong serve`
# lets gunicorn pass long request lines through so they reach this check.
XINRONG_MAX_QUERY_STRING = int(os.environ.get("XINRONG_MAX_QUERY_STRING", "4096"))
# {{ form }} and {{ field.as_field_group }} use web/_form.html and web/_field.html.
FORM_RENDERER = "xinrong.common.forms.FormRenderer"
WSGI_APPLICATION = "xinrong.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xinrong.web.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL names another (PostgreSQL via psycopg 3).
_default_sqlite = f"sqlite:///{VAR_DIR / 'xinrong.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the task worker share one file.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    # an unreachable server fails a request (and /healthz) in seconds, not at gunicorn's timeout
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# A read replica (a streaming standby of the PostgreSQL primary) for the dashboards and portraits:
# xinrong.config.routers sends only marked reads there; docs/scaling.md ("Read replica").
DATABASE_ROUTERS = ["xinrong.config.routers.ReplicaRouter"]
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=60, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read the test database
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Scale-out (docs/deployment.md): XINRONG_TASK_BACKEND=rq keeps tasks in Redis (REDIS_URL, or
# XINRONG_RQ_URL when the queue should use another Redis database than the cache) and
# `xinrong worker` runs RQ workers; any number of them, on any machine, share the queue.
XINRONG_TASK_BACKEND = os.environ.get("XINRONG_TASK_BACKEND", "db").strip().lower()
if XINRONG_TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {
            "URL": os.environ.get("XINRONG_RQ_URL", REDIS_URL) or "redis://127.0.0.1:6379/0",
            "DEFAULT_TIMEOUT": int(os.environ.get("XINRONG_RQ_TIMEOUT", "3600")),
        }
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
# `xinrong backup` / `xinrong restore` on PostgreSQL: the client programs (same major version as
# the server or newer).
XINRONG_PG_DUMP = os.environ.get("XINRONG_PG_DUMP", "pg_dump")
XINRONG_PG_RESTORE = os.environ.get("XINRONG_PG_RESTORE", "pg_restore")
XINRONG_PSQL = os.environ.get("XINRONG_PSQL", "psql")
# /healthz: the task queue is unhealthy when its oldest ready task has waited longer (seconds).
XINRONG_HEALTH_QUEUE_MAX_AGE = int(os.environ.get("XINRONG_HEALTH_QUEUE_MAX_AGE", "600"))

# Score drop (points) between two snapshots that raises an early-warning alert.
XINRONG_SCORE_DROP_ALERT = int(os.environ.get("XINRONG_SCORE_DROP_ALERT", "30"))
# Training on the platform's loan outcomes (credit.outcomes): a loan is bad when it defaults or is
# this many days overdue within the performance window; enough outcomes are needed to use them.
XINRONG_OUTCOME_MONTHS = int(os.environ.get("XINRONG_OUTCOME_MONTHS", "12"))
XINRONG_OUTCOME_BAD_DAYS = int(os.environ.get("XINRONG_OUTCOME_BAD_DAYS", "90"))
XINRONG_OUTCOME_MIN_BADS = int(os.environ.get("XINRONG_OUTCOME_MIN_BADS", "50"))
XINRONG_OUTCOME_MIN_ROWS = int(os.environ.get("XINRONG_OUTCOME_MIN_ROWS", "200"))
# Live loan events wait in an outbox this many seconds before one coalesced flush records them
# all as one ingest batch; rescoring requests wait as long before one drain rescores them all.
XINRONG_EVENT_FLUSH_SECONDS = float(os.environ.get("XINRONG_EVENT_FLUSH_SECONDS", "2"))
XINRONG_RESCORE_DRAIN_SECONDS = float(os.environ.get("XINRONG_RESCORE_DRAIN_SECONDS", "5"))
# Rows the ingestion pipeline validates and writes together (each chunk is one transaction).
XINRONG_INGEST_CHUNK_ROWS = int(os.environ.get("XINRONG_INGEST_CHUNK_ROWS", "100000"))
# Bounds of one delivery (docs/security.md): what an XLSX may expand to (checked before
# it is parsed), rows per batch, and row errors stored per batch (the rest are only counted).
XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES", str(100 * 1024 * 1024))
)
XINRONG_INGEST_MAX_ROWS = int(os.environ.get("XINRONG_INGEST_MAX_ROWS", "2000000"))
XINRONG_INGEST_MAX_STORED_ERRORS = int(os.environ.get("XINRONG_INGEST_MAX_STORED_ERRORS", "1000"))
# Deliveries whose content (an XLSX uncompressed) is larger go to the task worker.
XINRONG_INGEST_INLINE_BYTES = int(
    os.environ.get("XINRONG_INGEST_INLINE_BYTES", str(5 * 1024 * 1024))
)
# Recovery of interrupted ingestion (`xinrong worker` at start, and the periodic sweep): a batch
# with no progress for this long and no live task is restarted from its stored file, at most
# XINRONG_INGEST_MAX_ATTEMPTS runs in all; stored uploads no unfinished batch needs are deleted
# after XINRONG_UPLOAD_ORPHAN_HOURS; a RUNNING task whose worker cannot be checked is failed
# after XINRONG_TASK_STALE_HOURS.
XINRONG_INGEST_STALE_SECONDS = int(os.environ.get("XINRONG_INGEST_STALE_SECONDS", "900"))
XINRONG_INGEST_MAX_ATTEMPTS = int(os.environ.get("XINRONG_INGEST_MAX_ATTEMPTS", "3"))
XINRONG_UPLOAD_ORPHAN_HOURS = int(os.environ.get("XINRONG_UPLOAD_ORPHAN_HOURS", "24"))
XINRONG_TASK_STALE_HOURS = int(os.environ.get("XINRONG_TASK_STALE_HOURS", "24"))
# Rows per sheet of any Excel/CSV export (xinrong.common.exports); a last row says when cut.
XINRONG_EXPORT_MAX_ROWS = int(os.environ.get("XINRONG_EXPORT_MAX_ROWS", "100000"))
# 抢单: hours an institution holds a financing demand it took before it returns to the pool.
XINRONG_DEMAND_HOLD_HOURS = int(os.environ.get("XINRONG_DEMAND_HOLD_HOURS", "72"))
# Days an open demand may stay untaken before it is escalated to the platform operator.
XINRONG_DEMAND_ESCALATE_DAYS = int(os.environ.get("XINRONG_DEMAND_ESCALATE_DAYS", "7"))
# Minutes between the periodic sweeps `xinrong schedule` enqueues (demand holds, service
# levels, overdue loans); dispute deadlines are checked at most once a day.
XINRONG_SWEEP_MINUTES = int(os.environ.get("XINRONG_SWEEP_MINUTES", "60"))

AUTH_USER_MODEL = "accounts.User"
# The permission layer (xinrong.accounts.permissions, on the rules library) answers has_perm for
# the platform's own permissions; Django's model permissions serve the admin site.
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Unified sign-on (OIDC) with the provincial identity platform: inert unless
    # XINRONG_OIDC_ISSUER is set (docs/sign-on.md).
    "xinrong.accounts.sso.backend.SsoBackend",
]
# Unified sign-on (OIDC relying party; docs/sign-on.md). Off while XINRONG_OIDC_ISSUER is empty.
# Endpoints left empty are read from the issuer's /.well-known/openid-configuration.
XINRONG_OIDC_ISSUER = os.environ.get("XINRONG_OIDC_ISSUER", "").rstrip("/")
XINRONG_OIDC_CLIENT_ID = os.environ.get("XINRONG_OIDC_CLIENT_ID", "")
XINRONG_OIDC_CLIENT_SECRET = os.environ.get("XINRONG_OIDC_CLIENT_SECRET", "")
XINRONG_OIDC_AUTHORIZATION_ENDPOINT = os.environ.get("XINRONG_OIDC_AUTHORIZATION_ENDPOINT", "")
XINRONG_OIDC_TOKEN_ENDPOINT = os.environ.get("XINRONG_OIDC_TOKEN_ENDPOINT", "")
XINRONG_OIDC_USERINFO_ENDPOINT = os.environ.get("XINRONG_OIDC_USERINFO_ENDPOINT", "")
XINRONG_OIDC_JWKS_ENDPOINT = os.environ.get("XINRONG_OIDC_JWKS_ENDPOINT", "")
XINRONG_OIDC_SCOPES = os.environ.get("XINRONG_OIDC_SCOPES", "openid profile")
XINRONG_OIDC_SIGN_ALGO = os.environ.get("XINRONG_OIDC_SIGN_ALGO", "RS256")
XINRONG_OIDC_USCC_CLAIM = os.environ.get("XINRONG_OIDC_USCC_CLAIM", "uscc")
XINRONG_OIDC_ID_NUMBER_CLAIM = os.environ.get("XINRONG_OIDC_ID_NUMBER_CLAIM", "id_number")
XINRONG_OIDC_TIMEOUT = float(os.environ.get("XINRONG_OIDC_TIMEOUT", "10"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "xinrong.accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "xinrong.accounts.validators.CharacterClassValidator"},
    {"NAME": "xinrong.accounts.validators.GuessablePasswordValidator"},
]
# Argon2id (memory-hard) for new passwords; PBKDF2 still verifies older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Lock an account after this many failed logins within the window (seconds).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# A lock of the same (username, address) doubles each time, up to this (docs/security.md).
LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_MAX_SECONDS", str(24 * 3600)))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Figures grouped by thousands in both languages (xinrong/config/formats); USE_THOUSAND_SEPARATOR
# stays off so years and ids are not grouped: figures ask for it ("2g", intcomma, |figure, |money).
FORMAT_MODULE_PATH = ["xinrong.config.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
# JSON deliveries of up to 50,000 rows (about 10 MB); larger batches go as files.
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024

# Security: safe production defaults; the plain-HTTP demo opts out explicitly.
_insecure_cookies = DEBUG or env_bool("XINRONG_INSECURE_COOKIES")
SESSION_COOKIE_SECURE = not _insecure_cookies
CSRF_COOKIE_SECURE = not _insecure_cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("XINRONG_BEHIND_TLS_PROXY") else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "0" if _insecure_cookies else "31536000")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
# Content-Security-Policy (django-csp): the platform serves every script, style, font and image
# itself (government intranets are offline), and no page runs inline script or handlers; the
# static file xinrong/xinrong.js wires the few behaviours (auto-submit, confirm) by data-
# attributes. Inline style *attributes* are still allowed (style-src-attr) for a few templates;
# inline <style> elements are not. docs/security.md, "Headers".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (xinrong.common.middleware): features the platform never uses are off.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
# Addresses recorded for logins and account writes: REMOTE_ADDR, or behind this many trusted
# reverse proxies the matching X-Forwarded-For entry (accounts.auth.request_source).
XINRONG_TRUSTED_PROXIES = int(os.environ.get("XINRONG_TRUSTED_PROXIES", "0"))

# Logs go to stderr (the journal, docker logs). XINRONG_LOG_FORMAT=json writes one JSON object per
# line with the request id, and an access line per request (xinrong.common.logs); "plain" (the
# default, for the demo) is human-readable and leaves access lines to gunicorn.
XINRONG_LOG_FORMAT = os.environ.get("XINRONG_LOG_FORMAT", "plain").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "xinrong.common.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "xinrong.common.logs.JsonLinesFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if XINRONG_LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "xinrong.access": {"level": "INFO" if XINRONG_LOG_FORMAT == "json" else "WARNING"},
    },
}

# Credit reports (docs/credit-report.md).
# The CJK TrueType font embedded in report PDFs; STSong-Light (not embedded) when missing.
XINRONG_CJK_FONT = os.environ.get(
    "XINRONG_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
)
# Public address printed in reports for verification, e.g. https://xinrong.example.gov.cn;
# unset: the address the report was requested on.
XINRONG_PUBLIC_URL = os.environ.get("XINRONG_PUBLIC_URL", "").rstrip("/")
# Reports one user may generate for one entity per day.
XINRONG_REPORT_DAILY_LIMIT = int(os.environ.get("XINRONG_REPORT_DAILY_LIMIT", "20"))
# Rows printed per category (and query records) at most; the archive has the rest.
XINRONG_REPORT_MAX_ROWS = int(os.environ.get("XINRONG_REPORT_MAX_ROWS", "300"))
# Signed API requests (docs/bank-api.md): how far a request's timestamp may be from the server's
# clock, and how long the answer to a write is kept against its idempotency key.
XINRONG_API_CLOCK_SKEW_SECONDS = int(os.environ.get("XINRONG_API_CLOCK_SKEW_SECONDS", "300"))
XINRONG_API_IDEMPOTENCY_DAYS = int(os.environ.get("XINRONG_API_IDEMPOTENCY_DAYS", "30"))
# The bank-API feed serves a change only once it is this many seconds old, so a transaction that
# commits late with an earlier updated_at is not jumped over by an institution's cursor.
XINRONG_API_FEED_LAG_SECONDS = int(os.environ.get("XINRONG_API_FEED_LAG_SECONDS", "30"))

# Notifications (docs/configuration.md): every message lands in the in-app inbox; these channels
# also send it out. Names: "email", "sms", or a class path of a channel callable.
XINRONG_NOTIFICATION_CHANNELS = env_list("XINRONG_NOTIFICATION_CHANNELS", "email,sms")
# E-mail through Django's e-mail framework. XINRONG_EMAIL_BACKEND is "file" (one file per message
# under var/mail/, the default), "console", "smtp" (the default once EMAIL_HOST is set), "dummy"
# or a backend class path.
_EMAIL_BACKENDS = {
    name: f"django.core.mail.backends.{module}.EmailBackend"
    for name, module in {
        "file": "filebased",
        "console": "console",
        "smtp": "smtp",
        "locmem": "locmem",
        "dummy": "dummy",
    }.items()
}
XINRONG_EMAIL_BACKEND = os.environ.get(
    "XINRONG_EMAIL_BACKEND", "smtp" if os.environ.get("EMAIL_HOST") else "file"
)
EMAIL_BACKEND = _EMAIL_BACKENDS.get(XINRONG_EMAIL_BACKEND, XINRONG_EMAIL_BACKEND)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "信融平台 <noreply@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# SMS: XINRONG_SMS_BACKEND is "file" (JSON lines per day under var/sms/, the default), "console",
# "dummy" or the class path of a gateway backend (a subclass of
# xinrong.notifications.sms.BaseSmsBackend); its options come from XINRONG_SMS_OPTIONS (JSON).
_SMS_BACKENDS = {
    name: f"xinrong.notifications.sms.{cls}"
    for name, cls in {
        "file": "FileBackend",
        "console": "ConsoleBackend",
        "locmem": "LocmemBackend",
        "dummy": "DummyBackend",
    }.items()
}
_sms_backend = os.environ.get("XINRONG_SMS_BACKEND", "file")
XINRONG_SMS_BACKEND = _SMS_BACKENDS.get(_sms_backend, _sms_backend)
XINRONG_SMS_OPTIONS = json.loads(os.environ.get("XINRONG_SMS_OPTIONS", "{}"))
XINRONG_SMS_FILE_PATH = os.environ.get("XINRONG_SMS_FILE_PATH", str(VAR_DIR / "sms"))
# Only these notification kinds (or kind prefixes such as "credit.") go out by SMS; empty: all.
XINRONG_SMS_KINDS = env_list("XINRONG_SMS_KINDS")
# A longer message is shortened to this many 70-character segments.
XINRONG_SMS_MAX_SEGMENTS = int(os.environ.get("XINRONG_SMS_MAX_SEGMENTS", "3"))


# Two-factor login (docs/security.md, "两步验证"). Wrong codes count towards the login lockout
# (LOGIN_FAILURE_LIMIT), which a correct password clears; django-otp's own per-device delay
# (1, 2, 4, … seconds after each wrong code, cleared only by a right one) stays on, so a code
# cannot be guessed by logging in again and again.
OTP_TOTP_ISSUER = os.environ.get("XINRONG_OTP_ISSUER", "信融平台")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Demo installations: the second step shows the demo accounts' current code (labelled 演示环境).
XINRONG_DEMO_LOGINS = env_bool("XINRONG_DEMO_LOGINS")
