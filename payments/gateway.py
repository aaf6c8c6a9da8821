"""The payment gateway interface, and the simulated gateway behind it.

PAYMENT_GATEWAY names it: `simulated` (this module's card-token gateway) or
`razorpay` (payments/razorpay_gateway.py, online payments that finish later). Every
call carries an idempotency key, so asking twice never charges or refunds twice.
"""

import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Sum
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ChargeResult:
    captured: bool
    reference: str
    decline_reason: str = ""


class RefundDeclined(Exception):
    """The gateway answered and refused the refund (any other error: no answer yet)."""


class RefundPending(Exception):
    """The gateway accepted the refund but has not processed it yet (Razorpay's `pending`):
    its reference is known, the money is not back yet. Its webhook or reconciliation
    settles it later (payments.services.record_gateway_refund)."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"refund {reference} accepted, not processed yet")
        self.reference = reference


class PaymentGateway(Protocol):
    def accepts(self, token: str) -> bool:
        """Whether the token is one this gateway can try to charge."""

    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        """Charge once per idempotency key: the same key answers the first outcome.

        A network gateway should give up within seconds (well inside gunicorn's
        timeout, and far inside SAGA_HARD_DEADLINE_SECONDS): an outcome it never
        heard is settled later by `lookup`, while a charge that lands after
        recovery has compensated the booking is refunded at once, leaving the
        patient a charge and a refund on the statement.
        """

    def lookup(self, *, idempotency_key: str, token: str) -> ChargeResult | None:
        """The outcome of an earlier charge with this key, or None if there was none."""

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str:
        """Refund all or part of a captured charge once per key; returns its reference.

        Raises RefundDeclined when the gateway refuses, RefundPending when it accepted
        the refund without processing it yet; any other error means the outcome is not
        known yet, and the same call is safe to make again.
        """


class SimulatedGateway:
    """Outcomes by test token (see shared/API.md), kept in its own ledger table.

    Charging twice with one idempotency key answers the first outcome and takes
    no money twice; refunds are idempotent the same way.
    """

    # tok_refundDeclined: the charge is captured, but every refund of it is declined (the
    # card account was closed since), so a failed refund can be shown on demand.
    CAPTURE = {"tok_visa", "tok_mastercard", "tok_refundDeclined"}
    REFUND_DECLINED = "tok_refundDeclined"
    DECLINE = {
        "tok_chargeDeclined": "card_declined",
        "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    }

    def __init__(self, failure_rate: float | None = None) -> None:
        rate = settings.PAYMENT_FAILURE_RATE if failure_rate is None else failure_rate
        self.failure_rate = min(max(rate, 0.0), 1.0)

    def accepts(self, token: str) -> bool:
        return token in self.CAPTURE or token in self.DECLINE

    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        from payments.models import SimulatedGatewayCharge

        outcome = self._decide(token, idempotency_key)
        try:
            # Called outside any transaction (a remote call must never hold our locks),
            # so this insert commits on its own, like the provider's record would.
            record = SimulatedGatewayCharge.objects.create(
                idempotency_key=idempotency_key,
                token=token,
                amount=amount,
                captured=outcome.captured,
                reference=outcome.reference,
                decline_reason=outcome.decline_reason,
            )
        except IntegrityError:  # charged before with this key: the first answer stands
            record = SimulatedGatewayCharge.objects.get(idempotency_key=idempotency_key)
        return ChargeResult(record.captured, record.reference, record.decline_reason)

    def lookup(self, *, idempotency_key: str, token: str) -> ChargeResult | None:
        from payments.models import SimulatedGatewayCharge

        record = SimulatedGatewayCharge.objects.filter(idempotency_key=idempotency_key).first()
        if record is None:
            return None
        return ChargeResult(record.captured, record.reference, record.decline_reason)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str:
        from payments.models import SimulatedGatewayCharge, SimulatedGatewayRefund

        charge = SimulatedGatewayCharge.objects.filter(reference=reference, captured=True).first()
        if charge is None:
            raise RefundDeclined("no captured charge with this reference")
        refund_reference = "sim_re_" + _digest(idempotency_key)
        if charge.token == self.REFUND_DECLINED:  # never refunded: the same answer each time
            raise RefundDeclined("refund_declined: the card account is closed")
        try:
            SimulatedGatewayRefund.objects.create(
                idempotency_key=idempotency_key,
                charge_reference=reference,
                amount=amount,
                reference=refund_reference,
            )
        except IntegrityError:  # refunded before with this key: the first answer stands
            return refund_reference
        refunded = SimulatedGatewayRefund.objects.filter(charge_reference=reference).aggregate(
            total=Sum("amount")
        )["total"]
        if refunded >= charge.amount:  # nothing of the charge is kept any more
            SimulatedGatewayCharge.objects.filter(pk=charge.pk).update(
                refund_reference=refund_reference
            )
        return refund_reference

    def _decide(self, token: str, key: str) -> ChargeResult:
        reference = "sim_ch_" + _digest(key)
        if token in self.DECLINE:
            return ChargeResult(False, reference, self.DECLINE[token])
        if token not in self.CAPTURE:
            return ChargeResult(False, reference, "invalid_token")
        # Seeded by the key, so a demo's random declines are reproducible.
        if self.failure_rate and random.Random(key).random() < self.failure_rate:
            return ChargeResult(False, reference, "card_declined")
        return ChargeResult(True, reference)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24]


# PAYMENT_GATEWAY's short names; a dotted class path is also taken (tests plug in their own).
GATEWAYS = {
    "simulated": "payments.gateway.SimulatedGateway",
    "razorpay": "payments.razorpay_gateway.RazorpayGateway",
}


@cache
def _gateway_class(name: str) -> type:
    return import_string(GATEWAYS.get(name, name))


def gateway_class_problem(name: str) -> str | None:
    """Why PAYMENT_GATEWAY names no gateway (payments.E001 at start), or None."""
    if name in GATEWAYS:
        return None
    if "." not in name:
        return f"unknown gateway {name!r}: use one of {', '.join(GATEWAYS)}"
    try:
        found = _gateway_class(name)
    except ImportError as error:
        return f"{name!r} cannot be imported ({error})"
    if not all(callable(getattr(found, m, None)) for m in ("accepts", "charge", "refund")):
        return f"{name!r} is not a payment gateway (accepts, charge, refund)"
    return None


def get_gateway() -> PaymentGateway:
    return _gateway_class(settings.PAYMENT_GATEWAY)()
