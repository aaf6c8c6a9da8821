"""Settings for the test suite: the project's settings plus safe test defaults.

The tests run on PostgreSQL only (tests/conftest.py refuses anything else).
"""

import hashlib
import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
# The checkout's own database name, as scripts/with-test-postgres.sh gives it, so a plain
# `pytest` in two checkouts on one server does not share one test database either.
_checkout = str(Path(__file__).resolve().parents[1]).encode()
os.environ.setdefault(
    "DATABASE_URL",
    f"postgres://postgres@127.0.0.1:5432/clinic_{hashlib.sha1(_checkout).hexdigest()[:10]}",
)
# Loud: a crashing receiver is compensated, then fails the test that caused it.
os.environ.setdefault("SAGA_RERAISE_RECEIVER_ERRORS", "true")
# The test client and live_server speak plain HTTP: no redirect to HTTPS, no
# Secure-only cookies, no HSTS (production defaults are tested by test_deploy_checks).
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
# The Razorpay stand-in (payments/razorpay_standin) serves on 127.0.0.1 in tests.
os.environ.setdefault("RAZORPAY_STANDIN_ALLOWED", "true")
# No collectstatic before the tests: plain storage, the files served from the apps.
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)

from clinic_site.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
# WhiteNoise as in development: the apps' static files found per request, no collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# In-process tests count throttles in memory (tests/conftest.py clears it before each
# test, database or not); production's shared database cache is tested in real
# processes (tests/test_shared_throttle_cache.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Unused in-process: its table is the production default's (dbcache://clinic_cache),
    # which `migrate` thereby makes in the test database for the production processes
    # the tests start (gunicorn, manage.py).
    "production_default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "clinic_cache",
    },
}
