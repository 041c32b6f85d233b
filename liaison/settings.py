"""Liaison settings, read from the environment.

With nothing set, the app runs locally on SQLite with Celery tasks executed
eagerly in-process. Production is the same file with variables set:
DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, ...
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "treebeard",
    "simple_history",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "django_ratelimit",
    "members",
    "pairings",
    "visits",
    "visits.notifications",
    "visits.requests",
    "visits.pledges",
    "reports",
    "liaison.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liaison.middleware.RejectNulMiddleware",
    "liaison.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "liaison.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "liaison.urls"
WSGI_APPLICATION = "liaison.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.context_processors.scope",
                "visits.notifications.context_processors.notifications",
            ],
        },
    },
]

# Database: DATABASE_URL (e.g. postgres://user@host:5432/liaison), else SQLite.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Persistent connections (seconds; 0 closes each after its request), checked before reuse so a
# connection the database or a proxy dropped is replaced instead of failing the next request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out login never reaches the others.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes): 5 failures per username and address, 30 minutes.
AXES_USERNAME_CALLABLE = "liaison.login.axes_username"  # a username cut to the accounts' limit
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Internationalisation: Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", pgettext_lazy("language name", "English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Files with personal data (visit photos) live here, outside MEDIA_ROOT and STATIC_ROOT:
# no web server serves this directory; only a view that checks who asks reads it. Shared
# by every web process; back it up with the database.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "var" / "private")
# Empty: Django streams private files itself. Behind nginx, e.g. "/protected/": the view
# answers with X-Accel-Redirect to that prefix, an `internal` location aliased to
# PRIVATE_MEDIA_ROOT.
PRIVATE_MEDIA_X_ACCEL_PREFIX = env.str("PRIVATE_MEDIA_X_ACCEL_PREFIX", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # No base URL: a private file has no public address (its .url raises).
    "private": {"BACKEND": "liaison.storage.PrivateStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Redis: broker for Celery and shared cache. Without it, tasks run eagerly in-process.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Where `celery beat` keeps the last run of each schedule (a file beside the code by default).
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "quota-status-nightly": {
        "task": "pairings.tasks.quota_compute_current_terms_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "requests-supervise-nightly": {
        "task": "visits.requests.tasks.requests_supervise_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "exports-clean-up-nightly": {
        "task": "reports.tasks.exports_clean_up_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "visit-reminders-daily": {
        "task": "visits.tasks.reminders_send_task",
        "schedule": crontab(hour=8, minute=0),
    },
}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # django-ratelimit names only django-redis; Django's own Redis cache increments atomically too.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The embedded default is one process, so a per-process cache is the shared cache.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Roster imports above this many rows go to a Celery worker with a progress page.
ROSTER_IMPORT_INLINE_MAX_ROWS = env.int("ROSTER_IMPORT_INLINE_MAX_ROWS", default=300)
ROSTER_IMPORT_MAX_BYTES = env.int("ROSTER_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Limits under which a roster workbook is parsed (members/roster.py check_workbook, _read_rows).
ROSTER_IMPORT_MAX_UNPACKED_BYTES = env.int("ROSTER_IMPORT_MAX_UNPACKED_BYTES", default=64 * 1024 * 1024)
ROSTER_IMPORT_MAX_ROWS = env.int("ROSTER_IMPORT_MAX_ROWS", default=20_000)
ROSTER_IMPORT_MAX_COLUMNS = env.int("ROSTER_IMPORT_MAX_COLUMNS", default=60)
DATA_UPLOAD_MAX_MEMORY_SIZE = ROSTER_IMPORT_MAX_BYTES

# Field work: a visit log can be edited by its author for this many days (and never
# after its term is closed). Photos: JPEG, PNG or WebP only, at most this many bytes
# each (refused while uploading) and this many pixels (refused before decoding); they
# are re-encoded without EXIF, their longest side brought down to VISIT_PHOTO_MAX_SIDE.
VISIT_EDIT_DAYS = env.int("VISIT_EDIT_DAYS", default=7)
VISIT_PHOTO_MAX_BYTES = env.int("VISIT_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
VISIT_PHOTO_MAX_PIXELS = env.int("VISIT_PHOTO_MAX_PIXELS", default=40_000_000)
VISIT_PHOTO_MAX_SIDE = env.int("VISIT_PHOTO_MAX_SIDE", default=2560)
VISIT_PHOTOS_PER_LOG = 6

# Satisfaction survey: links stay valid this many days after the term ends (or after
# they are sent, if later); the public pages allow this many requests per address.
SURVEY_LINK_DAYS = env.int("SURVEY_LINK_DAYS", default=30)
# Generous: a room of people on one Wi-Fi may answer at once; 192-bit tokens cannot be guessed anyway.
SURVEY_RATE_LIMIT = env.str("SURVEY_RATE_LIMIT", default="60/m")
# Behind a proxy every request comes from the proxy: name the header holding the client's
# address instead (e.g. HTTP_X_REAL_IP, which the proxy must set and clients cannot).
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None
# A `Ratelimited` raised anywhere is a 429 page (liaison.errors.permission_denied sends it there;
# this names the same view for django-ratelimit's own middleware, should it be added).
RATELIMIT_VIEW = "liaison.errors.too_many_requests"

# Ledger exports up to this many rows download at once; larger ones go to a Celery job
# whose file is kept in EXPORT_ROOT (shared by web and worker, never served publicly)
# for EXPORT_KEEP_DAYS.
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=5000)
EXPORT_ROOT = env.path("EXPORT_ROOT", default=BASE_DIR / "var" / "exports")
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)

# Security: strict by default outside DEBUG, so `check --deploy` is clean.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="liaison@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
