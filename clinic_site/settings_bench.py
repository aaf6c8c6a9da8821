"""Settings for `make bench` only: production settings plus the baseline endpoint."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The benchmark measures the system, not the throttles.
for scope in ("REGISTER", "LOGIN", "BOOKING"):
    os.environ.setdefault(f"THROTTLE_{scope}_RATE", "1000000/second")

from clinic_site.settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # no console noise
SECURE_SSL_REDIRECT = False  # plain HTTP on loopback
