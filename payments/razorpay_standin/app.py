"""A stand-in for Razorpay: the subset of its REST API the app calls, its hosted payment
page, and its signed callbacks and webhooks, as a small WSGI app.

It is the HTTP-boundary double of the team's standards: the app reaches it through
RAZORPAY_API_BASE_URL with the official SDK, so the code under test is the production
adapter. Served under /v1/ with Razorpay's JSON shapes and Basic auth (key id, secret):
  POST /v1/orders, GET /v1/orders/<id>, GET /v1/orders/<id>/payments,
  GET /v1/payments/<id>, POST /v1/payments/<id>/refund, GET /v1/payments/<id>/refunds,
  GET /v1/payments/<id>/refunds/<refund_id>, POST /v1/payment_links,
  GET /v1/payment_links/<id>.
A payment link's hosted page is /pl/<link_id> (its short_url: pay by UPI or card; sends
payment_link.paid). The checkout's hosted page is GET /checkout/<order_id>?callback_url=…
(pay by UPI or card, fail, or abandon), also reached as Razorpay's hosted checkout is, by
a form POSTed to /v1/checkout/embedded (key_id, order_id, callback_url, cancel_url);
paying posts the checkout's signed proof to callback_url from the browser and sends the
webhooks (payment.authorized, payment.captured, order.paid) over HTTP. GET
/v1/checkout.js is the stand-in's checkout.js: `new Razorpay(options).open()` shows the
same page in a frame over the merchant's page and calls `options.handler` with the
signed proof (`rzp.on("payment.failed", …)` and `options.modal.ondismiss` as Razorpay's
do). A refund sends refund.created, then refund.processed (at once, or when
`settle_refund` processes or fails a pending one: refund.failed), with Razorpay's
payload shapes.

Tests drive it from Python too (`pay`, `fail`, `pay_link`, `settle_refund`,
`hold_webhooks`, `deliver_held`), for
repeats, delays and reordering on demand. State lives in memory; never for production
(payments.E005 refuses its URL with DEBUG off).
"""

import base64
import html
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import requests

from payments.razorpay_gateway import sign

JSON = ("Content-Type", "application/json")
HTML = ("Content-Type", "text/html; charset=utf-8")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
PHONE_VIEWPORT = "width=device-width, initial-scale=1"  # the hosted page on a phone


@dataclass
class Webhook:
    event_id: str
    event: str
    body: bytes  # exactly the bytes signed and sent

    def signature(self, secret: str) -> str:
        return sign(secret, self.body)


@dataclass
class StandIn:
    key_id: str = "rzp_test_standin"
    key_secret: str = "standin-key-secret"
    webhook_secret: str = "standin-webhook-secret"
    webhook_url: str = ""  # the app's /webhooks/razorpay; empty: webhooks are only kept
    seed: int = 23
    # "processed" at once, or "pending": settle_refund(id) later processes or fails it
    # (refund.processed / refund.failed), as a bank does days later.
    refund_status: str = "processed"
    # The next N refund calls are made but answered 502, as if the answer were lost.
    lose_refund_answers: int = 0
    orders: dict[str, dict] = field(default_factory=dict)
    payments: dict[str, dict] = field(default_factory=dict)
    payment_links: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    sent: list[tuple[Webhook, int]] = field(default_factory=list)  # (webhook, app's status)
    held: list[Webhook] = field(default_factory=list)
    holding: bool = False
    requests_seen: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)

    # --- ids and clocks -------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        with self._lock:
            return prefix + "".join(self._random.choice(ALPHABET) for _ in range(14))

    # --- the REST API ---------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        self.requests_seen.append((method, path))
        if path.startswith("/checkout/"):
            return self._checkout_page(environ, start_response, path.removeprefix("/checkout/"))
        if path.startswith("/pl/"):
            return self._link_page(environ, start_response, path.removeprefix("/pl/"))
        if path == "/v1/checkout.js":
            start_response("200 OK", [("Content-Type", "application/javascript; charset=utf-8")])
            return [CHECKOUT_JS.encode()]
        if path == "/v1/checkout/embedded" and method == "POST":
            return self._hosted_checkout(environ, start_response)
        if not path.startswith("/v1/"):
            return self._error(
                start_response, 404, "The requested URL was not found on the server."
            )
        if not self._authorised(environ):
            return self._error(start_response, 401, "The api key provided is invalid")
        parts = path.removeprefix("/v1/").strip("/").split("/")
        body = self._json_body(environ) if method == "POST" else {}
        if body is None:
            return self._error(start_response, 400, "The request body is not valid JSON")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        route = (method, parts[0], len(parts), parts[2] if len(parts) >= 3 else "")
        handlers = {
            ("POST", "orders", 1, ""): lambda: self._create_order(body),
            ("GET", "orders", 1, ""): lambda: self._collection(
                o
                for o in self.orders.values()
                if o["receipt"] == query.get("receipt", o["receipt"])
            ),
            ("GET", "orders", 2, ""): lambda: self._order(parts[1]),
            ("GET", "orders", 3, "payments"): lambda: self._order_payments(parts[1]),
            ("GET", "payments", 2, ""): lambda: self._payment(parts[1]),
            ("POST", "payments", 3, "refund"): lambda: self._refund(parts[1], body),
            ("GET", "payments", 3, "refunds"): lambda: self._payment_refunds(parts[1]),
            ("GET", "payments", 4, "refunds"): lambda: self._payment_refund(parts[1], parts[3]),
            ("POST", "payment_links", 1, ""): lambda: self._create_link(body, environ),
            ("GET", "payment_links", 2, ""): lambda: self._link(parts[1]),
        }
        handler = handlers.get(route)
        if handler is None:
            return self._error(
                start_response, 404, "The requested URL was not found on the server."
            )
        status, answer = handler()
        if status != 200:
            return self._error(start_response, status, answer)
        start_response("200 OK", [JSON])  # a new list: wsgiref adds to it
        return [json.dumps(answer).encode()]

    def _authorised(self, environ: dict) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        return given == f"{self.key_id}:{self.key_secret}"

    @staticmethod
    def _json_body(environ: dict) -> dict | None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        try:
            found = json.loads(raw or b"{}")
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    @staticmethod
    def _error(start_response: Callable, status: int, description: str) -> list[bytes]:
        reason = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 502: "Bad Gateway"}[
            status
        ]
        start_response(f"{status} {reason}", [JSON])
        code = "SERVER_ERROR" if status >= 500 else "BAD_REQUEST_ERROR"
        error = {"code": code, "description": description, "source": "NA"}
        return [json.dumps({"error": error}).encode()]

    @staticmethod
    def _collection(items: Iterable[dict]) -> tuple[int, dict]:
        found = list(items)
        return 200, {"entity": "collection", "count": len(found), "items": found}

    def _create_order(self, body: dict) -> tuple[int, Any]:
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return 400, "The amount must be atleast INR 1.00"
        if body.get("currency", "INR") != "INR":
            return 400, "Currency is not supported"
        order: dict[str, Any] = {
            "id": self._id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": "INR",
            "receipt": str(body.get("receipt", "")),
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": body.get("notes") or {},
            "created_at": int(time.time()),
        }
        with self._lock:
            self.orders[order["id"]] = order
        return 200, order

    def _order(self, order_id: str) -> tuple[int, Any]:
        order = self.orders.get(order_id)
        return (200, order) if order else (400, "The id provided does not exist")

    def _order_payments(self, order_id: str) -> tuple[int, Any]:
        if order_id not in self.orders:
            return 400, "The id provided does not exist"
        return self._collection(p for p in self.payments.values() if p["order_id"] == order_id)

    def _payment(self, payment_id: str) -> tuple[int, Any]:
        payment = self.payments.get(payment_id)
        return (200, payment) if payment else (400, "The id provided does not exist")

    def _payment_refunds(self, payment_id: str) -> tuple[int, Any]:
        if payment_id not in self.payments:
            return 400, "The id provided does not exist"
        return self._collection(r for r in self.refunds.values() if r["payment_id"] == payment_id)

    def _payment_refund(self, payment_id: str, refund_id: str) -> tuple[int, Any]:
        refund = self.refunds.get(refund_id)
        if refund is None or refund["payment_id"] != payment_id:
            return 400, "The id provided does not exist"
        return 200, refund

    def _refund(self, payment_id: str, body: dict) -> tuple[int, Any]:
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 400, "The id provided does not exist"
            if not payment["captured"]:
                return 400, "The payment has not been captured"
            left = payment["amount"] - payment["amount_refunded"]
            amount = body.get("amount", left)
            if not isinstance(amount, int) or amount <= 0 or amount > left:
                return 400, "The total refund amount is greater than the refund payment amount"
            refund: dict[str, Any] = {
                "id": "rfnd_" + "".join(self._random.choice(ALPHABET) for _ in range(14)),
                "entity": "refund",
                "amount": amount,
                "currency": "INR",
                "payment_id": payment_id,
                "notes": body.get("notes") or {},
                "receipt": None,
                "acquirer_data": {"arn": None},
                "created_at": int(time.time()),
                "batch_id": None,
                "status": self.refund_status,
                "speed_processed": "normal",
                "speed_requested": "normal",
            }
            self.refunds[refund["id"]] = refund
            payment["amount_refunded"] += amount
            payment["refund_status"] = (
                "full" if payment["amount_refunded"] == payment["amount"] else "partial"
            )
            if payment["refund_status"] == "full":
                payment["status"] = "refunded"
        self._send("refund.created", refund=refund, payment=payment)
        if refund["status"] == "processed":
            self._send("refund.processed", refund=refund, payment=payment)
        with self._lock:
            lost, self.lose_refund_answers = (
                self.lose_refund_answers > 0,
                max(self.lose_refund_answers - 1, 0),
            )
        if lost:  # made, but the answer never reaches the app
            return 502, "The answer was lost on its way (stand-in)"
        return 200, refund

    def settle_refund(self, refund_id: str, *, status: str = "processed") -> dict:
        """A pending refund ends as the bank settles it: `processed`, or `failed` (its
        amount is then refundable again); sends refund.processed or refund.failed."""
        assert status in ("processed", "failed")
        with self._lock:
            refund = self.refunds[refund_id]
            assert refund["status"] == "pending", "only a pending refund settles"
            refund["status"] = status
            payment = self.payments[refund["payment_id"]]
            if status == "failed":
                payment["amount_refunded"] -= refund["amount"]
                payment["refund_status"] = "partial" if payment["amount_refunded"] else None
                payment["status"] = "captured"
            else:
                refund["acquirer_data"] = {"arn": f"{74012345678901234567 + len(self.refunds)}"}
            answer = dict(refund)
        self._send(f"refund.{status}", refund=answer, payment=dict(payment))
        return answer

    # --- payment links (the front desk's) ---------------------------------------------

    def _create_link(self, body: dict, environ: dict) -> tuple[int, Any]:
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return 400, "The amount must be atleast INR 1.00"
        if body.get("currency", "INR") != "INR":
            return 400, "Currency is not supported"
        expire_by = body.get("expire_by") or 0
        if expire_by and expire_by < time.time() + 15 * 60:
            return 400, "expire_by should be at least 15 minutes after current time"
        link_id = self._id("plink_")
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "127.0.0.1")
        link: dict[str, Any] = {
            "id": link_id,
            "accept_partial": bool(body.get("accept_partial", False)),
            "amount": amount,
            "amount_paid": 0,
            "cancelled_at": 0,
            "created_at": int(time.time()),
            "currency": "INR",
            "customer": body.get("customer") or {},
            "description": body.get("description", ""),
            "expire_by": expire_by,
            "expired_at": 0,
            "first_min_partial_amount": 0,
            "notes": body.get("notes") or {},
            "notify": body.get("notify") or {"sms": False, "email": False},
            "order_id": "",
            "payments": None,
            "reference_id": str(body.get("reference_id", "")),
            "reminder_enable": bool(body.get("reminder_enable", False)),
            "reminders": [],
            "short_url": f"{environ.get('wsgi.url_scheme', 'http')}://{host}/pl/{link_id}",
            "status": "created",
            "updated_at": int(time.time()),
            "upi_link": False,
            "user_id": "",
        }
        with self._lock:
            self.payment_links[link_id] = link
        return 200, link

    def _link(self, link_id: str) -> tuple[int, Any]:
        link = self.payment_links.get(link_id)
        return (200, link) if link else (400, "The id provided does not exist")

    def pay_link(self, link_id: str, *, method: str = "upi") -> dict:
        """The patient pays the desk's link on their phone: an order is made for it, the
        payment captured; sends payment.authorized, payment.captured, order.paid and
        payment_link.paid (payment_link, order and payment entities, as Razorpay does)."""
        with self._lock:
            link = self.payment_links[link_id]
            assert link["status"] == "created", "only an unpaid link is paid"
            order: dict[str, Any] = {
                "id": "order_" + "".join(self._random.choice(ALPHABET) for _ in range(14)),
                "entity": "order",
                "amount": link["amount"],
                "amount_paid": link["amount"],
                "amount_due": 0,
                "currency": "INR",
                "receipt": link["reference_id"],
                "offer_id": None,
                "status": "paid",
                "attempts": 1,
                "notes": link["notes"],
                "created_at": int(time.time()),
            }
            self.orders[order["id"]] = order
            payment = self._new_payment(order, method=method, amount=link["amount"])
            payment.update(status="captured", captured=True)
            link.update(
                status="paid",
                amount_paid=link["amount"],
                order_id=order["id"],
                updated_at=int(time.time()),
                payments=[
                    {
                        "amount": payment["amount"],
                        "created_at": payment["created_at"],
                        "method": method,
                        "payment_id": payment["id"],
                        "status": "captured",
                    }
                ],
            )
            link_now, order_now, paid = dict(link), dict(order), dict(payment)
        self._send("payment.authorized", payment=dict(paid, status="authorized", captured=False))
        self._send("payment.captured", payment=paid)
        self._send("order.paid", payment=paid, order=order_now)
        self._send("payment_link.paid", payment_link=link_now, order=order_now, payment=paid)
        return paid

    def _link_page(self, environ: dict, start_response: Callable, link_id: str):
        """The link's hosted page, as the patient's phone opens it from the QR code."""
        link = self.payment_links.get(link_id)
        if link is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"No such payment link."]
        if environ["REQUEST_METHOD"] == "POST" and link["status"] == "created":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {
                k: v[-1] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
            }
            if form.get("action") in ("upi", "card"):
                self.pay_link(link_id, method=form["action"])
        rupees = f"{link['amount'] / 100:.2f}"
        if link["status"] == "paid":
            body = f"<h1>Paid ₹{rupees}</h1><p>You may close this page.</p>"
        else:
            body = (
                f"<h1>Pay ₹{rupees}</h1><p>{html.escape(link['description'])} "
                "(stand-in, no money moves)</p><form method=post>"
                '<button name="action" value="upi">Pay by UPI</button> '
                '<button name="action" value="card">Pay by card</button></form>'
            )
        start_response("200 OK", [HTML])
        page = "<!doctype html><meta charset=utf-8><title>Razorpay stand-in</title>" + body
        return [page.encode()]

    # --- paying (what the patient does at the checkout) ----------------------------

    def pay(self, order_id: str, *, method: str = "upi", amount: int | None = None) -> dict:
        """The patient pays the order (auto-captured); returns the checkout's signed proof.
        `amount` in paise, to make a capture of another amount than the order's."""
        with self._lock:
            order = self.orders[order_id]
            payment = self._new_payment(order, method=method, amount=amount or order["amount"])
            payment.update(status="captured", captured=True)
            order["attempts"] += 1
            order["amount_paid"] += payment["amount"]
            order["amount_due"] = max(order["amount"] - order["amount_paid"], 0)
            order["status"] = "paid"
        authorized = dict(payment, status="authorized", captured=False)
        self._send("payment.authorized", payment=authorized)
        self._send("payment.captured", payment=payment)
        self._send("order.paid", payment=payment, order=order)
        return self.proof(order_id, payment["id"])

    def fail(self, order_id: str, *, method: str = "upi") -> dict:
        """A payment attempt the bank declined: the order stays unpaid (it may be tried again)."""
        with self._lock:
            order = self.orders[order_id]
            payment = self._new_payment(order, method=method, amount=order["amount"])
            payment.update(
                status="failed",
                error_code="BAD_REQUEST_ERROR",
                error_description="Payment failed",
                error_reason="payment_failed",
            )
            order["attempts"] += 1
            order["status"] = "attempted"
        self._send("payment.failed", payment=payment)
        return {"error[code]": "BAD_REQUEST_ERROR", "error[description]": "Payment failed"}

    def proof(self, order_id: str, payment_id: str) -> dict:
        signature = sign(self.key_secret, f"{order_id}|{payment_id}".encode())
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        }

    def _new_payment(self, order: dict, *, method: str, amount: int) -> dict:
        payment = {
            "id": "pay_" + "".join(self._random.choice(ALPHABET) for _ in range(14)),
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "created",
            "order_id": order["id"],
            "invoice_id": None,
            "international": False,
            "method": method,
            "amount_refunded": 0,
            "refund_status": None,
            "captured": False,
            "description": None,
            "card_id": None,
            "bank": None,
            "wallet": None,
            "vpa": "success@razorpay" if method == "upi" else None,
            "email": "patient@example.com",
            "contact": "+919812345678",
            "notes": order["notes"],
            "fee": None,
            "tax": None,
            "error_code": None,
            "error_description": None,
            "error_reason": None,
            "created_at": int(time.time()),
        }
        self.payments[payment["id"]] = payment
        return payment

    # --- webhooks ------------------------------------------------------------------

    def _send(self, event: str, **entities: dict) -> None:
        envelope = {
            "entity": "event",
            "account_id": "acc_StandIn0000001",
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": dict(e)} for name, e in entities.items()},
            "created_at": int(time.time()),
        }
        webhook = Webhook(self._id("evt_"), event, json.dumps(envelope).encode())
        with self._lock:
            if self.holding or not self.webhook_url:
                self.held.append(webhook)
                return
        self.post(webhook)

    def hold_webhooks(self) -> None:
        """From now on webhooks wait in `held` until `deliver_held` (tests' reordering)."""
        self.holding = True

    def deliver_held(
        self, *, repeat: int = 1, shuffle_seed: int | None = None, delay: float = 0.0
    ) -> list[int]:
        """Send every held webhook `repeat` times, shuffled by `shuffle_seed` (None: in
        order), `delay` seconds apart, as Razorpay's retries and reordering would."""
        with self._lock:
            batch, self.held = self.held * repeat, []
            self.holding = False
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(batch)
        statuses = []
        for webhook in batch:
            statuses.append(self.post(webhook))
            if delay:
                time.sleep(delay)
        return statuses

    def post(self, webhook: Webhook, *, signature: str | None = None) -> int:
        """POST one webhook to the app as Razorpay does; returns the app's status code."""
        answer = requests.post(
            self.webhook_url,
            data=webhook.body,
            headers={
                "Content-Type": "application/json",
                "X-Razorpay-Signature": signature or webhook.signature(self.webhook_secret),
                "X-Razorpay-Event-Id": webhook.event_id,
            },
            timeout=10,
        )
        self.sent.append((webhook, answer.status_code))
        return answer.status_code

    # --- the hosted payment page -----------------------------------------------------

    def _checkout_page(self, environ: dict, start_response: Callable, order_id: str):
        order = self.orders.get(order_id)
        if order is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"No such order."]
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {
                k: v[-1] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
            }
            return self._checkout_answer(start_response, order, form)
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return self._payment_page(start_response, order, query)

    def _hosted_checkout(self, environ: dict, start_response: Callable):
        """Razorpay's hosted checkout: the merchant's page POSTs a form (no JavaScript)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[-1] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        order = self.orders.get(form.get("order_id", ""))
        if order is None or form.get("key_id") != self.key_id:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"Unknown order or key."]
        return self._payment_page(start_response, order, form)

    def _payment_page(self, start_response: Callable, order: dict, query: dict):
        order_id = order["id"]
        callback = html.escape(query.get("callback_url", ""))
        cancel = html.escape(query.get("cancel_url", ""))
        frame = html.escape(query.get("frame", ""))
        rupees = f"{order['amount'] / 100:.2f}"
        buttons = "".join(
            f'<button name="action" value="{value}">{label}</button> '
            for value, label in (
                ("upi", "Pay by UPI"),
                ("card", "Pay by card"),
                ("fail", "Fail the payment"),
                ("abandon", "Abandon"),
            )
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Razorpay stand-in</title>"
            f"<meta name=viewport content='{PHONE_VIEWPORT}'>"
            f"<h1>Pay ₹{rupees}</h1><p>Order {html.escape(order_id)} (stand-in, no money moves)</p>"
            f'<form method="post" action="/checkout/{html.escape(order_id)}">'
            f'<input type="hidden" name="callback_url" value="{callback}">'
            f'<input type="hidden" name="cancel_url" value="{cancel}">'
            f'<input type="hidden" name="frame" value="{frame}">'
            f"{buttons}</form>"
        )
        start_response("200 OK", [HTML])
        return [page.encode()]

    def _checkout_answer(self, start_response: Callable, order: dict, form: dict):
        action = form.get("action")
        callback = form.get("callback_url", "")
        if action in ("upi", "card"):
            fields = self.pay(order["id"], method=action)
        elif action == "fail":
            fields = self.fail(order["id"])
            fields["error[metadata]"] = json.dumps({"order_id": order["id"]})
        else:
            fields = {}
        if form.get("frame"):
            # Inside checkout.js's frame: the outcome goes to the merchant's page.
            outcome = "dismiss" if not fields else ("failed" if action == "fail" else "paid")
            message = json.dumps({"standin_checkout": outcome, "fields": fields})
            again = (
                f'<p>The payment failed. <a href="/checkout/{html.escape(order["id"])}?frame=1">'
                "Try again</a></p>"
                if outcome == "failed"
                else "<p>Returning to the clinic…</p>"
            )
            start_response("200 OK", [HTML])
            return [
                (
                    f"<!doctype html><meta charset=utf-8>{again}"
                    f"<script>parent.postMessage({message}, '*')</script>"
                ).encode()
            ]
        if not fields:
            cancel = html.escape(form.get("cancel_url", ""))
            back = f'<p><a href="{cancel}">Back to the clinic</a></p>' if cancel else ""
            start_response("200 OK", [HTML])
            return [
                f"<!doctype html><meta charset=utf-8><p>You left the payment.</p>{back}".encode()
            ]
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Returning to the clinic</title>"
            f'<form id="back" method="post" action="{html.escape(callback)}">{inputs}'
            "<button>Back to the clinic</button></form>"
            "<script>document.getElementById('back').submit()</script>"
        )
        start_response("200 OK", [HTML])
        return [page.encode()]


# The stand-in's checkout.js: Razorpay's contract (`new Razorpay(options)`, `.open()`,
# `.on("payment.failed", cb)`, `options.handler`, `options.modal.ondismiss`), its page in
# a frame over the merchant's page. Styles are set through the DOM (no inline <style>),
# so the merchant's Content-Security-Policy needs only script-src and frame-src for it.
CHECKOUT_JS = """(function () {
  var script = document.currentScript && document.currentScript.src || "";
  var base = script.replace(/\\/v1\\/checkout\\.js.*$/, "");
  function Razorpay(options) {
    if (!(this instanceof Razorpay)) { return new Razorpay(options); }
    this.options = options || {};
    this.listeners = {};
  }
  Razorpay.prototype.on = function (name, callback) { this.listeners[name] = callback; };
  Razorpay.prototype.close = function () {
    if (this.overlay) { this.overlay.remove(); this.overlay = null; }
    if (this.listener) { window.removeEventListener("message", this.listener); }
  };
  Razorpay.prototype.open = function () {
    var self = this, options = this.options;
    var overlay = document.createElement("div");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Razorpay Checkout");
    overlay.className = "razorpay-container";
    var s = overlay.style;
    s.position = "fixed"; s.top = "0"; s.left = "0"; s.width = "100%"; s.height = "100%";
    s.background = "rgba(0,0,0,0.6)"; s.zIndex = "2147483647";
    var frame = document.createElement("iframe");
    frame.title = "Razorpay Checkout";
    frame.className = "razorpay-checkout-frame";
    frame.src = base + "/checkout/" + encodeURIComponent(options.order_id) + "?frame=1";
    var f = frame.style;
    f.width = "100%"; f.height = "100%"; f.border = "0"; f.background = "#fff";
    overlay.appendChild(frame);
    document.body.appendChild(overlay);
    this.overlay = overlay;
    this.listener = function (event) {
      if (event.origin !== base || !event.data || !event.data.standin_checkout) { return; }
      var outcome = event.data.standin_checkout, fields = event.data.fields || {};
      if (outcome === "failed") {
        if (self.listeners["payment.failed"]) {
          self.listeners["payment.failed"]({error: {
            code: fields["error[code]"],
            description: fields["error[description]"],
            metadata: {order_id: options.order_id}
          }});
        }
        return;  /* Razorpay's checkout stays open after a failed attempt */
      }
      self.close();
      if (outcome === "paid" && options.handler) { options.handler(fields); }
      var modal = options.modal || {};
      if (outcome === "dismiss" && modal.ondismiss) { modal.ondismiss(); }
    };
    window.addEventListener("message", this.listener);
  };
  window.Razorpay = Razorpay;
})();
"""
