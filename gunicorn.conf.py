"""gunicorn settings: `gunicorn -c gunicorn.conf.py clinic_site.wsgi` (values from the environment).

Behind a reverse proxy that ends TLS; see README, "Production".
"""

import multiprocessing
import os


# Where to listen: "127.0.0.1:8000" behind a proxy on the same host, or "0.0.0.0:8000"
# in a container. PORT alone (as some platforms give it) means all interfaces.
def _bind() -> str:
    if os.environ.get("GUNICORN_BIND"):
        return os.environ["GUNICORN_BIND"]
    if os.environ.get("PORT"):
        return f"0.0.0.0:{os.environ['PORT']}"
    return "127.0.0.1:8000"


bind = _bind()

# Sync workers: each request (and the saga it runs) holds one worker. The default
# is gunicorn's usual 2 × cores + 1, capped so a big host does not exhaust the
# database's connections (each worker keeps one, CONN_MAX_AGE).
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
worker_class = "sync"

# A booking runs its whole saga in the request, payment call included: 30 s is
# generous. A worker stuck longer is killed and replaced; resume_sagas finishes
# whatever saga it was running.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (memory growth), with jitter so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# Which requests were HTTPS: only X-Forwarded-Proto, and only from the proxies listed in
# FORWARDED_ALLOW_IPS (comma-separated; default the proxy on this host). gunicorn's own
# default also trusts X-Forwarded-Ssl and X-Forwarded-Protocol, which a proxy that only
# sets and strips X-Forwarded-Proto would let a client forge. Django reads the same
# header (SECURE_PROXY_SSL_HEADER); see README, "Production".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Logs to stdout/stderr (the service manager collects them). The access line is
# key=value, with the path but never the query string (it may carry personal data).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# A password-reset token in a path is written as "[redacted]" (clinic_site/access_log.py).
logger_class = "clinic_site.access_log.RedactingLogger"
access_log_format = (
    'access remote=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s '
    'duration_ms=%(M)s user_agent="%(a)s"'
)
