"""DRF's token authentication, refusing malformed keys before they reach the database."""

import re

from rest_framework import authentication, exceptions

# What rest_framework.authtoken issues: 20 random bytes, hex-encoded.
TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        # A key with a NUL byte would make PostgreSQL raise (a 500); any key not shaped
        # like ours is simply wrong, and costs no query.
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
