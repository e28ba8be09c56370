"""Kefu settings. Production differs from development only by environment variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KEFU_DATA_DIR", BASE_DIR.parent / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "kefu-development-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "kefu.core",
    "kefu.org",
    "kefu.customers",
    "kefu.tickets",
    "kefu.visits",
    "kefu.surveys",
    "kefu.reports",
    "kefu.appraisal",
    "kefu.notify",
    "kefu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files before sessions and the rest: a stylesheet costs no database query.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.RejectNulMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.org.context_processors.staff",
                "kefu.notify.context_processors.bell",
                "kefu.tickets.context_processors.approvals",
            ],
        },
    }
]

# SQLite is the embedded default: WAL so readers never wait for the writer, and
# IMMEDIATE transactions so a write transaction takes the lock at BEGIN instead of
# failing with "database is locked" when it later upgrades from a read lock.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kefu.sqlite3'}")
# Persistent connections: a thread of `kefu serve` keeps its connection between requests
# instead of opening one for each (on SQLite ~6 ms of CPU per API request, more on PostgreSQL;
# decision 0007); checked before reuse, so a restarted PostgreSQL costs no failed request.
# Django's development server still closes them after every request. CONN_MAX_AGE=0 turns it off.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
        ),
    }
# PostgreSQL: ticket intake sends its statements prepared (kefu/core/prepared.py, decision
# 0015). Off for a pooler in transaction mode that cannot keep prepared statements.
KEFU_PG_PREPARED = env_bool("KEFU_PG_PREPARED", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
if env_bool("KEFU_FAST_HASHER"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the static files from where they ship (the finders: kefu/static and the
# admin's), read once when a process starts, so nothing has to be collected (decision 0007).
# STATIC_ROOT is only for `kefu collectstatic` when a proxy in front is to serve /static/.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))

# Uploads: photos on tickets. Larger bodies are refused before they reach a view.
KEFU_MAX_PHOTO_BYTES = env_int("KEFU_MAX_PHOTO_BYTES", 5 * 1024 * 1024)
KEFU_MAX_PHOTOS = env_int("KEFU_MAX_PHOTOS", 6)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

KEFU_COMPANY_NAME = os.environ.get("KEFU_COMPANY_NAME", "")
KEFU_API_TOKEN_DAYS = env_int("KEFU_API_TOKEN_DAYS", 30)
# 首问责任: remind the first responder of an open ticket nothing has happened to for this long.
KEFU_STALL_HOURS = env_int("KEFU_STALL_HOURS", 24)

# Background work (Huey): the queue lives in a SQLite file next to the database, or in Redis
# when REDIS_URL is set (several machines). The durable state is always in the database.
# Under pytest tasks run inline at enqueue (djhuey's immediate mode, in-memory storage), so a
# test sees what a commit set off and no test writes a queue file.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY: dict[str, object] = {
    "name": "kefu",
    "results": False,
    "immediate": env_bool("KEFU_HUEY_IMMEDIATE", "pytest" in sys.modules),
    "consumer": {"workers": env_int("KEFU_WORKERS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3")})

# Notifications: e-mail over SMTP; WeCom robots and the SMS gateway are set in the admin
# (通知通道). KEFU_BASE_URL makes the links in e-mails and messages absolute.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 5)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kefu@localhost")
KEFU_BASE_URL = os.environ.get("KEFU_BASE_URL", "").rstrip("/")
KEFU_NOTIFY_MAX_ATTEMPTS = env_int("KEFU_NOTIFY_MAX_ATTEMPTS", 8)
KEFU_NOTIFY_TIMEOUT = env_int("KEFU_NOTIFY_TIMEOUT", 5)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
