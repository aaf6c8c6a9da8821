"""gunicorn's logger with the access line's path and request line redacted
(clinic_site/redaction.py): `logger_class` in gunicorn.conf.py."""

from gunicorn.glogging import Logger

from clinic_site.redaction import redact

# Atoms that carry the path: %(U)s the path, %(r)s the request line, %(f)s the referer.
_PATH_ATOMS = ("U", "r", "f")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _PATH_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
