"""Settings, read from the environment (see .env.example).

The embedded default database is SQLite so `make run` works with only Python;
production and the tests use PostgreSQL through DATABASE_URL.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# No default secret outside DEBUG: a production deploy without SECRET_KEY must not start.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY in the environment (or DEBUG=true for local use)."
        )
    SECRET_KEY = "insecure-local-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    # Hindi versions of the catalogue's text (bookings/translation.py,
    # scheduling/translation.py); before the admin, as the library requires.
    "modeltranslation",
    # Django's admin with every changelist's filters guarded (clinic_site/admin_site.py).
    "clinic_site.admin_site.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets served by the app (no CDN)
    "axes",  # login lockout across the API, web and admin login doors
    # Before django_q: its `qcluster` command is ours (clinic_site/management/commands).
    "clinic_site",
    "django_q",  # the background worker (manage.py qcluster), its queue in our database
    "phonenumber_field",
    # The saga's participants. Signal receivers run in connection order, which is
    # the order of these apps' ready(): on CompensationTriggered, quotas and payments
    # undo their own work before bookings marks the booking failed (the last word).
    # scheduling first: it gives a slot back before the discount and the money (the
    # order API.md gives a cancellation's events).
    "scheduling",
    "pricing",
    "quotas",
    "payments",
    "confirmations",
    # billing after confirmations: on PaymentCompleted it issues a receipt only for a
    # booking that confirmation has just confirmed (a reversed capture gets none).
    "billing",
    "notifications",
    "bookings",
    # The edges (pages, API, recovery): they read every participant, nobody reads them.
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (settings below; per-path in the class).
    "clinic_site.middleware.ContentSecurityPolicy",
    # Static files straight from the app (gunicorn), compressed and cached forever by name.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outermost of ours: a database that cannot be reached is a 503, never a 500 trace.
    "clinic_site.middleware.DatabaseUnavailableMiddleware",
    "clinic_site.middleware.IgnoreMalformedSessionCookie",
    # Before anything reads the query string: a NUL in it is a 400, not a database error.
    "clinic_site.middleware.RefuseNulInQueryString",
    # Inside the 503 handler: JSON 404s and no-store for everything under /api/.
    "clinic_site.middleware.ApiResponseHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the language switch (a cookie), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After CSRF and auth: an admin action's selection that is no id of its list is a 400.
    "clinic_site.middleware.RefuseMalformedAdminSelection",
    # Last: turns a login refused by the lockout into a 429 (portal/login_guard.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic_site.urls"

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
                "portal.web.context_processors.clinic",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic_site.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Each saga step is its own short transaction; a request-wide transaction would
# hold the hot quota row across the payment call.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # An unreachable database fails fast (a 503), instead of holding a worker until it dies.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
    # psycopg's prepared statements: server-side binding, each statement prepared on the
    # connection after DB_PREPARE_THRESHOLD uses: about 30% less PostgreSQL CPU per
    # booking (README, Performance). Turn off for a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"]["OPTIONS"].update(
            server_side_binding=True,
            prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=5),
        )
elif "sqlite" in DATABASES["default"]["ENGINE"]:
    # `make run`: the web server and the worker share one file. WAL lets reads go on
    # during a write; IMMEDIATE transactions queue for the write lock (up to 20 s)
    # instead of failing with "database is locked" halfway through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its hook revokes the user's API tokens whenever a password is set.
    {"NAME": "bookings.tokens.RevokeTokensOnPasswordChange"},
]

LANGUAGE_CODE = "en"
# Patient pages, e-mails and SMS in English and Hindi (locale/hi; `make` compiles the .mo).
LANGUAGES = [("en", "English"), ("hi", "हिन्दी")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The catalogue's text in both languages (django-modeltranslation): `name_en`, `name_hi`…
# beside each translated field; reading `name` gives the active language's, English
# when the Hindi is blank. English is the one a manager must fill in.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "hi")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Code that creates a row with `name=...` (tests, the desk, the bench) fills the English
# column whatever language is active: a row never lacks its English text.
MODELTRANSLATION_AUTO_POPULATE = "default"
USE_TZ = True
# The clinic's zone: "today", birthdays and the quota day all turn at midnight IST.
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Asia/Kolkata")

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names + gzip/brotli, served by WhiteNoise; needs `manage.py collectstatic`
    # at deploy (with DEBUG on, the unhashed files are served from the apps as usual).
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- HTTPS and security headers (`manage.py check --deploy` is clean in production) ---
# TLS usually ends at a reverse proxy: it must set X-Forwarded-Proto (and strip any
# the client sent); then set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https so
# Django knows the request was HTTPS (otherwise SECURE_SSL_REDIRECT loops).
_proxy_ssl_header = env.tuple("SECURE_PROXY_SSL_HEADER", default=())
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# HSTS: browsers refuse plain HTTP for this long. Sticky: lower it (or 0) while trying
# HTTPS out; a year, subdomains included, is the production default.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images and fetches from this
# origin only, no plugins, no framing, no <base> tricks. The patient pages need no
# inline script or style; the admin and /api/docs/ may also use inline <style>
# (clinic_site/middleware.py). Swagger UI's set-up is served as a file, not inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # NONCE: only a page that uses request.csp_nonce gets one (the review page's
        # checkout script); the gateway's origins are added by that page alone.
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Login lockout (django-axes) --------------------------------------------------
# Every login door (POST /api/auth/token, /accounts/login/, /admin/login/) goes through
# authenticate(); axes' backend refuses it once this username has AXES_FAILURE_LIMIT
# failures from this client address (together: failures from elsewhere cannot lock a
# staff member out), or this address LOGIN_ADDRESS_FAILURE_LIMIT failures for any
# usernames (portal/login_guard.py), within the cool-off, counted in the database: one
# count for every worker and host. A correct password does not clear the count (it
# would let a guesser with an account of their own reset their address's count).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_HANDLER = "portal.login_guard.AddressCappedHandler"
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "portal.login_guard.client_address"
AXES_LOCKOUT_CALLABLE = "portal.login_guard.lockout_response"
# Per client address and per e-mail address, counted in the database (portal/login_guard.py).
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/hour")
SIGNUP_RATE = env.str("SIGNUP_RATE", default="10/hour")

# How long a password-reset link works (Django's default is 3 days): an hour is enough to
# read the mail, and a link found later (a forwarded mail, a shared inbox) is dead.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

# Patient pages (Django's auth views under /accounts/).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A provider's API instead of SMTP: EMAIL_BACKEND=anymail.backends.<provider>.EmailBackend
# and ANYMAIL={...} (django-anymail's settings; JSON in the environment). Resend drops a
# repeated send: EMAIL_BACKEND=notifications.email.ResendEmailBackend (an interrupted send
# is then tried again with its key, notifications/sender.py).
ANYMAIL = env.json("ANYMAIL", default={})
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
# E-mails go out from the worker: a mail server that stops answering costs one
# worker seconds, then the row is retried later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic <bookings@clinic.example>")

# --- Background work: django-q2's worker, its queue in our own database ---------
# `manage.py qcluster` on one or more hosts (README "Production").
Q_CLUSTER = {
    "name": "clinic",
    "orm": "default",  # the ORM broker: no Redis, same database as the app
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),  # a task running longer is killed
    "retry": env.int("Q_RETRY", default=180),  # must exceed timeout
    # Our tasks are periodic or retry themselves (the outbox): django-q never repeats one.
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,  # a worker that was down runs each schedule once, not once per miss
    "poll": env.float("Q_POLL", default=0.5),
    "save_limit": 1000,
    "label": "Background tasks",
}
# On SIGTERM each worker finishes its task in hand; one still busy after this long is
# killed, so the worker stops within it (clinic_site/management/commands/qcluster.py).
WORKER_STOP_SECONDS = env.float("WORKER_STOP_SECONDS", default=7)
# Worker heartbeat: /healthz says "late" when not heard from for this long.
WORKER_LATE_AFTER_SECONDS = env.int("WORKER_LATE_AFTER_SECONDS", default=120)

# --- Notifications (the outbox) -----------------------------------------------
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_SECONDS = env.int("NOTIFICATION_RETRY_SECONDS", default=60)  # doubled each try
# The worker watches the outbox (notifications.sender.watch): each run polls every POLL
# seconds for WATCH seconds, then queues the next (short tasks: a stopping worker waits).
NOTIFICATION_WATCH_SECONDS = env.int("NOTIFICATION_WATCH_SECONDS", default=5)
NOTIFICATION_POLL_SECONDS = env.float("NOTIFICATION_POLL_SECONDS", default=1.0)
# A row "sending" this long belongs to a dead worker (far above EMAIL_TIMEOUT/SMS_TIMEOUT).
NOTIFICATION_SENDING_TIMEOUT_SECONDS = env.int("NOTIFICATION_SENDING_TIMEOUT_SECONDS", default=600)
# Set true only for a mail provider that drops a repeated send with the same key.
EMAIL_BACKEND_TAKES_IDEMPOTENCY_KEY = env.bool("EMAIL_BACKEND_TAKES_IDEMPOTENCY_KEY", default=False)
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleBackend")
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)
MSG91_URL = env.str("MSG91_URL", default="https://control.msg91.com/api/v2/sendsms")
MSG91_AUTH_KEY = env.str("MSG91_AUTH_KEY", default="")
MSG91_SENDER_ID = env.str("MSG91_SENDER_ID", default="CLINIC")
PHONENUMBER_DEFAULT_REGION = "IN"

# --- The saga -------------------------------------------------------------
# Simulated gateway: share of otherwise-good cards declined at random (0..1), for demos.
PAYMENT_FAILURE_RATE = env.float("PAYMENT_FAILURE_RATE", default=0.0)
# "simulated" (the card-token gateway of shared/API.md) or "razorpay" (online: UPI, cards,
# netbanking); a gateway class's dotted path is still taken. `manage.py check` refuses
# anything else (payments.E001) instead of a 500 at booking time.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="simulated")
RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
# The SDK's own base (paths start with /v1/); the local stand-in's URL in development and
# tests, which a system check refuses with DEBUG off unless RAZORPAY_STANDIN_ALLOWED.
RAZORPAY_API_BASE_URL = env.str("RAZORPAY_API_BASE_URL", default="https://api.razorpay.com")
RAZORPAY_STANDIN_ALLOWED = env.bool("RAZORPAY_STANDIN_ALLOWED", default=False)
# Seconds a call to the gateway may take: an unanswered one is settled by reconciliation.
RAZORPAY_TIMEOUT_SECONDS = env.float("RAZORPAY_TIMEOUT_SECONDS", default=10.0)
# How long an online order may wait for its payment (the slot and discount are held).
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=15)
# Razorpay's checkout.js (the stand-in's own under `make run`). The review page's
# Content-Security-Policy allows this script's origin and the API's (its frames and the
# hosted page's form) on the pages that open the checkout, nothing else.
RAZORPAY_CHECKOUT_JS_URL = env.str(
    "RAZORPAY_CHECKOUT_JS_URL", default="https://checkout.razorpay.com/v1/checkout.js"
)
# A patient who has not paid this long after the order was made gets one "finish your
# payment" message (e-mail and SMS) with the link to the booking's page.
PAYMENT_NUDGE_MINUTES = env.int("PAYMENT_NUDGE_MINUTES", default=3)
# The address patients reach the site at, for links in messages sent by the worker.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# A pending saga older than this is stuck; past the hard deadline it is compensated.
SAGA_TIMEOUT_SECONDS = env.int("SAGA_TIMEOUT_SECONDS", default=60)
SAGA_HARD_DEADLINE_SECONDS = env.int("SAGA_HARD_DEADLINE_SECONDS", default=600)
# Loud in tests: a crashing receiver is compensated and then re-raised so the test
# that caused it fails. In production it is only logged and compensated.
SAGA_RERAISE_RECEIVER_ERRORS = env.bool("SAGA_RERAISE_RECEIVER_ERRORS", default=False)

# --- The HTTP API (shared/API.md) -------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request gets 401 with WWW-Authenticate, not 403.
    # Session auth (for the browser) keeps its CSRF check.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: any other body is a 415.
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # drf-spectacular's, plus the errors every operation can meet (400 for a NUL, 503, …).
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.ClinicAutoSchema",
    # No OPTIONS self-description (405): the OpenAPI schema is the description.
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "portal.api.errors.api_exception_handler",
    # Proxies in front of the app: 0 means the client's address is REMOTE_ADDR and a
    # client-sent X-Forwarded-For is ignored (it cannot dodge the per-address throttles).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}


def default_cache_url(*, debug: bool) -> str:
    """The throttles, the sign-up and reset limits count in the default cache, which must
    be one place for every worker and host: in production (DEBUG off) the database cache,
    whose table `migrate` makes (portal/cache_table.py). `make run` (DEBUG on) keeps
    memory. CACHE_URL overrides either (redis://… with the redis package installed)."""
    return "locmemcache://" if debug else "dbcache://clinic_cache"


CACHES = {"default": env.cache_url("CACHE_URL", default=default_cache_url(debug=DEBUG))}
# Throttle rates in DRF's format ("N/second|minute|hour|day"), read on every request
# (portal/throttles.py) so a test or an operator can change them.
THROTTLE_REGISTER_RATE = env.str("THROTTLE_REGISTER_RATE", default="30/hour")
THROTTLE_LOGIN_RATE = env.str("THROTTLE_LOGIN_RATE", default="30/minute")
THROTTLE_BOOKING_RATE = env.str("THROTTLE_BOOKING_RATE", default="60/minute")
# Idempotency keys of POST /api/booking are kept at least this long, then purged
# by `manage.py purge_idempotency_keys`.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
# The fallback only (SQLite, a half-open connection): on PostgreSQL a key whose request
# died is free at once (portal/idempotency.py). Past this long a retry takes it over.
IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS = env.int(
    "IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS", default=300
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic booking API",
    "DESCRIPTION": "The mobile-app API: accounts, catalogue, quota and bookings (the saga).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two fields named "status" with different choices: name each enum after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "bookings.models.BookingStatus",
        "RefundStatusEnum": ["refunded", "pending", "none"],
    },
}

# One JSON object per line (clinic_site/log_format.py): saga lines carry correlation_id,
# event, step and booking_id; never personal data. LOG_FORMAT=plain for reading by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "saga_context": {"()": "clinic_site.log_format.SagaContextFilter"},
        # No password-reset token in any line (Django logs a 404's path, for one).
        "redact_secrets": {"()": "clinic_site.redaction.RedactSecrets"},
    },
    "formatters": {
        "json": {"()": "clinic_site.log_format.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "plain" else "json",
            "filters": ["saga_context", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Appointments: how many clinic days ahead patients may book a slot.
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=60)
# Where patients come: shown as "Where" on the pages and e-mails, and the .ics LOCATION.
CLINIC_ADDRESS = env.str(
    "CLINIC_ADDRESS", default="Demo Clinic, 12 MG Road, Bengaluru 560001, Karnataka"
)
# The site as patients reach it: the e-mails' links (a receipt, a refund note) start with
# it, since the worker that sends them has no request to take a host from.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
