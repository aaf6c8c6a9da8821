"""A stand-in for Resend's e-mail API at its HTTP boundary, as the real one behaves.

`POST /emails` with `Authorization: Bearer <key>` and a JSON body (from, to, subject,
html, text, headers, attachments) answers 200 `{"id": "<uuid>"}`. With an
`Idempotency-Key` header (kept 24 hours) a repeated request with the same body is answered
with the first one's id and not sent again; the same key with another body is 409
`invalid_idempotent_request`. Every message it really sends is recorded (`sent`), every
request it dropped as a repeat counted (`replayed`).

For the crash tests, `on_request(n)` is called with the request's number before it is
handled, and may return "die_before" (the test kills the worker now: nothing sent) or
"die_after" (sent and recorded, then the worker is killed before it hears the answer).
"""

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "re_standin_key"


@dataclass
class Sent:
    id: str
    idempotency_key: str
    message_id: str
    to: list[str]
    subject: str


@dataclass
class ResendStandIn:
    kill: Callable[[], None] = lambda: None
    on_request: Callable[[int], str] = lambda n: ""
    sent: list[Sent] = field(default_factory=list)
    replayed: int = 0
    requests: int = 0
    _keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (body hash, id)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers, body: bytes) -> tuple[int, dict]:
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, {"name": "missing_api_key", "message": "Missing API key"}
        with self._lock:
            self.requests += 1
            n = self.requests
        fate = self.on_request(n)
        if fate == "die_before":
            self.kill()
            return 0, {}
        try:
            data = json.loads(body)
        except ValueError:
            return 422, {"name": "validation_error", "message": "Invalid JSON"}
        status, answer = self._send(data, key=headers.get("Idempotency-Key", ""), body=body)
        if fate == "die_after":  # taken (or dropped as a repeat); its answer never heard
            self.kill()
            return 0, {}
        return status, answer

    def _send(self, data: dict, *, key: str, body: bytes) -> tuple[int, dict]:
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            if key and key in self._keys:
                first_digest, first_id = self._keys[key]
                if first_digest != digest:
                    return 409, {
                        "name": "invalid_idempotent_request",
                        "message": "Same idempotency key used with a different request payload.",
                    }
                self.replayed += 1
                return 200, {"id": first_id}
            message_id = str(uuid.uuid4())
            if key:
                self._keys[key] = (digest, message_id)
            self.sent.append(
                Sent(
                    id=message_id,
                    idempotency_key=key,
                    message_id=(data.get("headers") or {}).get("Message-ID", ""),
                    to=data.get("to", []),
                    subject=data.get("subject", ""),
                )
            )
        return 200, {"id": message_id}


class _Handler(BaseHTTPRequestHandler):
    standin: ResendStandIn

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.rstrip("/") != "/emails":
            self._answer(404, {"name": "not_found", "message": "Not found"})
            return
        status, answer = self.standin.handle(self.headers, body)
        if status == 0:  # the worker was killed: nobody is left to answer
            self.close_connection = True
            return
        self._answer(status, answer)

    def _answer(self, status: int, answer: dict) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


class Server:
    def __init__(self, standin: ResendStandIn):
        handler = type("Handler", (_Handler,), {"standin": standin})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
