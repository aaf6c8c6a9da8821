"""Settings for the test suite: the project's settings plus safe test defaults.

The tests run on PostgreSQL only (tests/conftest.py refuses anything else).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
# Loud: a crashing receiver is compensated, then fails the test that caused it.
os.environ.setdefault("SAGA_RERAISE_RECEIVER_ERRORS", "true")

from clinic_site.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
