"""Liaison settings, read from the environment.

With nothing set, the app runs locally on SQLite with Celery tasks executed
eagerly in-process. Production is the same file with variables set:
DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, ...
"""

import tempfile
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liaison.cache import redis_cache

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "members",
    "pairings",
    "visits",
    "visits.notifications",
    "visits.requests",
    "visits.pledges",
    "reports",
    "liaison.security",
    "liaison.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files leave here, before the session is read: no Cache-Control: no-store on them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liaison.middleware.RejectNulMiddleware",
    "liaison.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "liaison.security.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "liaison.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Both need the messages: the first ends idle or too old sessions, the second holds an account
    # that needs a second factor on the enrol and verify pages until it has given one.
    "liaison.security.middleware.SessionTimeoutMiddleware",
    "liaison.security.middleware.SecondFactorMiddleware",
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
                "liaison.context_processors.background",
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

# The client's address behind the production proxy: the number of proxies in front of the
# app that append to X-Forwarded-For (nginx's `$proxy_add_x_forwarded_for`: 1; a load
# balancer in front of nginx: 2). 0, the default, trusts no header: REMOTE_ADDR is the client.
# Too high a number lets a client choose its own address; too low makes every client look like
# the proxy, and a lockout of one secretary at that address locks them out everywhere.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login lockout (django-axes, members/lockout.py). Failures are counted per (login name,
# client address): 5 within 30 minutes lock that pair for 30 minutes. Someone who knows a
# secretary's login name can lock it only at their own address; the secretary keeps logging
# in from theirs. The tradeoff: guessing from many addresses is slowed (5 tries per address
# per 30 minutes), not stopped — a lock on the name alone would stop it, but would hand every
# stranger a switch that locks a named secretary out. Against a spray (many names from one
# address), an address with LOCKOUT_ADDRESS_FAILURE_LIMIT failures (any names) in the cool-off
# is locked as a whole; it is set well above one person's typing errors, since a campus or
# an office often reaches the site through one shared address (0 switches it off).
# Administrators see and lift lockouts in the admin (each lift is in the account log).
# The username django-axes records is cut to the accounts' limit (a longer one is no account).
AXES_USERNAME_CALLABLE = "liaison.login.axes_username"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOCKOUT_ADDRESS_FAILURE_LIMIT = env.int("LOCKOUT_ADDRESS_FAILURE_LIMIT", default=50)
AXES_HANDLER = "members.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "liaison.http.client_ip"
AXES_RESET_ON_SUCCESS = True  # a successful login clears that name's failures at that address
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failure, for the admin's "login failures" list
AXES_ENABLE_ADMIN = False  # registered on our own admin site, scoped (members/admin.py)
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "members.lockout.lockout_response"  # templates/registration/locked_out.html

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
# One task at a time per worker process: a job waiting behind a long one in a prefetch buffer
# would look "queued" while its worker is busy elsewhere.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A job's task is acknowledged once it ends (acks_late; liaison.jobs.JOB_TASK_OPTIONS): a task
# Redis has handed out but not seen acknowledged goes back to the queue after this many seconds.
# Longer than the longest job (an export of a million ledger rows takes about 20 minutes), or a
# job still running would be delivered a second time (harmless, the heartbeat keeps it to one
# run, but wasted).
BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600)
# Seconds to connect to Redis, and to wait on it, before a request gives up: with Redis down or
# hung, starting a job fails within a few seconds and the job says so (liaison.jobs.job_enqueue).
BROKER_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": BROKER_TIMEOUT,
    # Above the worker's one-second BRPOP, so waiting for work is never mistaken for a hang.
    "socket_timeout": max(BROKER_TIMEOUT, 2.0),
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Where `celery beat` keeps the last run of each schedule (a file beside the code by default).
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "jobs-reap-every-minute": {
        "task": "liaison.jobs.reap",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
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

# Seconds the shared cache waits for Redis to connect or answer: a dead Redis costs this, not
# the client's default 5 s, and the page goes on without the cache (liaison/cache.py).
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.25)
if REDIS_URL:
    # Django's RedisCache, answering as an empty cache (with a warning) while Redis is down.
    CACHES = {"default": redis_cache(REDIS_URL, socket_timeout=CACHE_SOCKET_TIMEOUT)}
    # django-ratelimit names only django-redis; Django's own Redis cache increments atomically too.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The embedded default is one process, so a per-process cache is the shared cache.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Background jobs (liaison.jobs): a running job writes a heartbeat at least every
# JOB_HEARTBEAT_SECONDS; one silent for JOB_STALE_SECONDS (its worker was killed or lost the
# database) is failed by the reaper, every minute, with "run it again", and so is a job still
# queued after JOB_QUEUED_MAX_SECONDS (no worker took it). A task delivered again after its
# worker died claims a silent job again, at most JOB_MAX_ATTEMPTS times in all. Temporary files
# go to a directory per job under JOB_TEMP_ROOT, removed when the job ends.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=300.0)
JOB_QUEUED_MAX_SECONDS = env.float("JOB_QUEUED_MAX_SECONDS", default=3600.0)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_TEMP_ROOT = env.path("JOB_TEMP_ROOT", default=Path(tempfile.gettempdir()) / "liaison-jobs")
if JOB_STALE_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_STALE_SECONDS must be at least three times JOB_HEARTBEAT_SECONDS.")
if JOB_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("JOB_MAX_ATTEMPTS must be at least 1.")

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
# Behind a proxy every request comes from the proxy: by default the client's address is read
# as the login lockout reads it (liaison.http.client_ip, TRUSTED_PROXY_COUNT); or name the
# header holding it (e.g. HTTP_X_REAL_IP, which the proxy must set and clients cannot).
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or "liaison.http.client_ip"
# A `Ratelimited` raised anywhere is a 429 page (liaison.errors.permission_denied sends it there;
# this names the same view for django-ratelimit's own middleware, should it be added).
RATELIMIT_VIEW = "liaison.errors.too_many_requests"
# Without the cache (Redis down) the survey page is not limited rather than broken: its links
# cannot be guessed and each answers once, so the limit only guards against load. The cache
# logs the outage (liaison/cache.py).
RATELIMIT_FAIL_OPEN = True

# Ledger exports up to this many rows download at once; larger ones go to a Celery job
# whose file is kept in EXPORT_ROOT (shared by web and worker, never served publicly)
# for EXPORT_KEEP_DAYS.
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=5000)
EXPORT_ROOT = env.path("EXPORT_ROOT", default=BASE_DIR / "var" / "exports")
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)

# Security: strict by default outside DEBUG, so `check --deploy` is clean.
SESSION_COOKIE_HTTPONLY = True
# A session ends after SESSION_IDLE_TIMEOUT_MINUTES without activity (background polling of job
# pages does not count), and SESSION_COOKIE_AGE seconds after its login whatever the activity
# (liaison.security.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
if SESSION_IDLE_TIMEOUT_MINUTES < 1:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT_MINUTES must be at least 1.")
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

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline <script>, no on*= attributes, no style= attributes or <style> elements (the pages'
# behaviour is in static/js/liaison.js); data: images for Bootstrap's inline SVG icons. No
# report-uri: violations show in the browser's console only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Two-factor authentication (django-otp, liaison/security/): TOTP apps, with single-use recovery
# codes. Required for superusers, committee administrators and inspectors; secretaries may enrol.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Liaison")
# After each wrong code the next try waits 1, 2, 4, 8 … seconds (django-otp's throttling).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
TWO_FACTOR_RECOVERY_CODES = 10

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="liaison@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
