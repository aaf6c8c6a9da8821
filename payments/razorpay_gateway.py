"""Razorpay, on its official SDK: online payments (UPI, cards, netbanking) that finish
after the request, when the patient has paid in the gateway's checkout.

Amounts go to Razorpay in paise (integers); everything of ours stays Decimal rupees.
The booking id is the order's `receipt` and is in its `notes`; orders are created with
`payment_capture: 1`, so an authorised payment is captured by Razorpay itself.
`RAZORPAY_API_BASE_URL` is the SDK's base (its paths start with /v1/): Razorpay, or the
local stand-in (payments/razorpay_standin) that speaks the same protocol.
"""

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import razorpay
import requests
from django.conf import settings
from razorpay.errors import BadRequestError, SignatureVerificationError

from payments.gateway import ChargeResult, RefundDeclined, RefundPending
from payments.models import ONLINE_TOKEN

PAISE = Decimal(100)


def to_paise(amount: Decimal) -> int:
    return int((amount * PAISE).to_integral_exact())


def from_paise(paise: int) -> Decimal:
    return (Decimal(paise) / PAISE).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Order:
    order_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class GatewayPayment:
    payment_id: str
    order_id: str
    status: str  # created, authorized, captured, refunded, failed
    amount: Decimal
    currency: str
    instrument: str = ""  # Razorpay's `method`: upi, card, netbanking, wallet, emi…

    @property
    def captured(self) -> bool:
        # A refunded payment was captured first: its money still counts as taken once.
        return self.status in ("captured", "refunded")

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> "GatewayPayment":
        return cls(
            payment_id=str(entity["id"]),
            order_id=str(entity.get("order_id") or ""),
            status=str(entity["status"]),
            amount=from_paise(int(entity["amount"])),
            currency=str(entity.get("currency", "INR")),
            instrument=str(entity.get("method") or "")[:12],
        )


@dataclass(frozen=True)
class PaymentLink:
    link_id: str
    url: str  # short_url: what the QR code carries and the SMS links to


class _TimeoutSession(requests.Session):
    """The SDK passes no timeout: every call here gives up after RAZORPAY_TIMEOUT_SECONDS
    (an unanswered call is settled later by reconciliation, never by waiting)."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", settings.RAZORPAY_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


class RazorpayGateway:
    online = True

    def __init__(self) -> None:
        self.key_id = settings.RAZORPAY_KEY_ID
        self.client = razorpay.Client(
            session=_TimeoutSession(),
            auth=(settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET),
            base_url=settings.RAZORPAY_API_BASE_URL.rstrip("/"),
        )

    # --- the gateway interface (payments.gateway.PaymentGateway) -------------------

    def accepts(self, token: str) -> bool:
        return token == ONLINE_TOKEN  # no card tokens: the patient pays at the checkout

    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        raise NotImplementedError("online payments are awaited, never charged in a step")

    def lookup(self, *, idempotency_key: str, token: str) -> ChargeResult | None:
        return None  # nothing is ever charged by key (see charge)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str:
        """Refund `amount` of captured payment `reference` once per key.

        Razorpay takes no idempotency key for refunds: the key goes into the refund's
        notes, and the payment's refunds are listed first, so a retry finds the refund
        an earlier (unanswered) call made instead of refunding twice. A refund of the key
        that failed gave nothing back: it does not count, the retry makes a new one.
        Razorpay answers `processed` (returned), `pending` (RefundPending) or `failed`.
        """
        for existing in self.refunds_of(payment_id=reference):
            notes = existing.get("notes") or {}
            if notes.get("idempotency_key") == idempotency_key and existing["status"] != "failed":
                return _settled(existing)
        try:
            made = self.client.payment.refund(
                reference,
                {"amount": to_paise(amount), "notes": {"idempotency_key": idempotency_key}},
            )
        except BadRequestError as refused:  # an answer: Razorpay will not refund it
            raise RefundDeclined(str(refused)) from refused
        return _settled(made)

    def refund_status(self, *, payment_id: str, refund_id: str) -> str:
        """A refund's status at the gateway: pending, processed or failed (reconciliation)."""
        return str(self.client.payment.fetch_refund_id(payment_id, refund_id)["status"])

    # --- online payments -----------------------------------------------------------

    def create_order(self, *, amount: Decimal, booking_id: str, correlation_id: str) -> Order:
        made = self.client.order.create(
            {
                "amount": to_paise(amount),
                "currency": "INR",
                "receipt": booking_id,
                "notes": {"booking_id": booking_id, "correlation_id": correlation_id},
                "payment_capture": 1,
            }
        )
        return Order(str(made["id"]), from_paise(int(made["amount"])), str(made["currency"]))

    def payments_of(self, *, order_id: str) -> list[GatewayPayment]:
        found = self.client.order.payments(order_id)
        return [GatewayPayment.from_entity(item) for item in found.get("items", [])]

    def fetch_payment(self, *, payment_id: str) -> GatewayPayment:
        return GatewayPayment.from_entity(self.client.payment.fetch(payment_id))

    def create_payment_link(
        self,
        *,
        amount: Decimal,
        booking_id: str,
        correlation_id: str,
        phone: str,
        patient_name: str,
        expire_by: int,
    ) -> PaymentLink:
        """A Payment Link for the front desk (POST /v1/payment_links): Razorpay texts it to
        `phone`; the booking id is its reference_id and in its notes. `expire_by` is a Unix
        time (Razorpay wants it at least 15 minutes ahead)."""
        made = self.client.payment_link.create(
            {
                "amount": to_paise(amount),
                "currency": "INR",
                "accept_partial": False,
                "reference_id": booking_id,
                "description": f"Clinic booking {booking_id}",
                "customer": {"name": patient_name, "contact": phone},
                "notify": {"sms": True, "email": False},
                "reminder_enable": False,
                "expire_by": expire_by,
                "notes": {"booking_id": booking_id, "correlation_id": correlation_id},
            }
        )
        return PaymentLink(str(made["id"]), str(made["short_url"]))

    def payments_of_link(self, *, link_id: str) -> list[GatewayPayment]:
        """A payment link's payments (GET /v1/payment_links/<id>: its `payments` list)."""
        link = self.client.payment_link.fetch(link_id)
        return [
            GatewayPayment(
                payment_id=str(p["payment_id"]),
                order_id=str(link.get("order_id") or ""),
                status=str(p["status"]),
                amount=from_paise(int(p["amount"])),
                currency=str(link.get("currency", "INR")),
            )
            for p in link.get("payments") or []
        ]

    def refunds_of(self, *, payment_id: str) -> list[dict[str, Any]]:
        return list(self.client.payment.fetch_multiple_refund(payment_id).get("items", []))

    def checkout_proof_holds(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        """The checkout's signature: HMAC-SHA256 of `order_id|payment_id` under the key
        secret (the SDK's check, constant-time)."""
        if not (signature.isascii() and order_id.isascii() and payment_id.isascii()):
            return False  # the SDK's compare_digest would raise on them
        try:
            return bool(
                self.client.utility.verify_payment_signature(
                    {
                        "razorpay_order_id": order_id,
                        "razorpay_payment_id": payment_id,
                        "razorpay_signature": signature,
                    }
                )
            )
        except SignatureVerificationError:
            return False


def _settled(refund: dict[str, Any]) -> str:
    """A refund entity's id once processed; RefundPending or RefundDeclined otherwise."""
    if refund["status"] == "pending":
        raise RefundPending(str(refund["id"]))
    if refund["status"] == "failed":
        raise RefundDeclined(f"refund {refund['id']} failed at the gateway")
    return str(refund["id"])


def webhook_signature_holds(*, body: bytes, signature: str, secret: str) -> bool:
    """`X-Razorpay-Signature`: hex HMAC-SHA256 of the raw body under the webhook secret.
    Over the bytes as received (a re-serialised body would not match); an empty secret
    verifies nothing."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses non-ASCII str (a forged header must be a 400).
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def sign(secret: str, message: bytes) -> str:
    """The signatures Razorpay makes (used by the stand-in, which signs as Razorpay does)."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
