"""The Razorpay stand-in (see app.py) and a way to serve it on 127.0.0.1."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from payments.razorpay_standin.app import StandIn, Webhook

__all__ = ["StandIn", "Webhook", "serving"]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 (the stdlib's name)
        pass


@contextmanager
def serving(standin: StandIn, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `standin` over real HTTP in a thread (a free port by default); yields its
    base URL, the value RAZORPAY_API_BASE_URL takes."""
    server = make_server(
        host, port, standin, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="razorpay-standin", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
