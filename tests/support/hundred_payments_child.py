"""COUNT payments, card, cash and online mixed, committed at once over COUNT connections.

Run by tests/test_billing_hundred_connections.py as
    python -m tests.support.hundred_payments_child COUNT
with DJANGO_SETTINGS_MODULE=clinic_site.settings_test and DATABASE_URL at a migrated
database of a throwaway cluster whose max_connections allows COUNT and a few more (the
shared server's 100 do not). Prints one JSON line: what was issued, and how.

First, one at a time: COUNT bookings, each held just before its payment commits. Card and
cash ones stop after DiscountQuotaReserved (their payment step not yet run); online ones
wait on their Razorpay order (the stand-in, over HTTP), paid at the gateway, the capture
not yet reported. Then COUNT threads, each on its own connection (opened before a barrier
that lets them all go at once, so COUNT connections are open together), commit one
payment each through the real step: `charge_booking` for card and cash, `record_capture`
(the three messengers' common end) for online. Each runs the rest of the saga (the
confirmation, then billing's receipt with its number) in its own transactions.
"""

import json
import sys
import threading
import time
from datetime import time as clock_time
from decimal import Decimal

import django


def main(count: int) -> None:
    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from billing.models import Document, Series
    from bookings import events
    from bookings.models import Booking, BookingStatus
    from payments import online
    from payments.models import Payment, PaymentMethod
    from payments.razorpay_standin import StandIn, serving
    from payments.services import charge_booking
    from portal.flows import start_booking
    from portal.ops.invariants import find_violations
    from scheduling.models import OpeningHours
    from tests.support.factories import ADULT_BIRTHDAY, MedicalServiceFactory, UserFactory
    from tests.support.saga_hooks import listeners_replaced

    for weekday in range(7):  # walk-ins at whatever hour this runs
        OpeningHours.objects.update_or_create(
            weekday=weekday,
            defaults={"closed": False, "opens": clock_time.min, "closes": clock_time.max},
        )
    user = UserFactory()
    service = MedicalServiceFactory(price=Decimal("750.00"))
    standin = StandIn(seed=7)
    methods = [("card", "cash", "online")[n % 3] for n in range(count)]
    commits = []
    with serving(standin) as url:

        def razorpay():
            return override_settings(
                PAYMENT_GATEWAY="razorpay",
                RAZORPAY_KEY_ID=standin.key_id,
                RAZORPAY_KEY_SECRET=standin.key_secret,
                RAZORPAY_WEBHOOK_SECRET=standin.webhook_secret,
                RAZORPAY_API_BASE_URL=url,
            )

        for n, method in enumerate(methods):
            request = {
                "user": user,
                "patient_name": f"Patient {n}",
                "gender": "female",
                "date_of_birth": ADULT_BIRTHDAY,
                "service_ids": [service.pk],
            }
            if method == "online":
                with razorpay():
                    booking = start_booking(**request, payment_token="online")
                payment = Payment.objects.get(booking=booking)
                waiting = Booking.objects.get(pk=booking.pk).status
                assert waiting == BookingStatus.AWAITING_PAYMENT and payment.order_id
                proof = standin.pay(str(payment.order_id), method="upi")
                commits.append(
                    lambda order=payment.order_id, paid=proof, amount=payment.amount: (
                        online.record_capture(
                            order_id=str(order),
                            gateway_payment_id=paid["razorpay_payment_id"],
                            amount=amount,
                        )
                    )
                )
                continue
            with listeners_replaced(events.DiscountQuotaReserved, keep_apps=()):
                booking = start_booking(
                    **request,
                    payment_token="cash" if method == "cash" else "tok_visa",
                    cash_received_by="reception" if method == "cash" else None,
                )
            booking = Booking.objects.get(pk=booking.pk)
            assert booking.status == BookingStatus.PENDING and booking.final_price is not None
            commits.append(
                lambda cid=booking.correlation_id, price=booking.final_price: charge_booking(
                    correlation_id=cid, final_price=price
                )
            )
    assert not Document.objects.exists() and not Payment.objects.filter(status="captured")

    backends: list[int] = []
    errors: list[str] = []
    gate = threading.Barrier(count + 1)  # every thread connected, and the clock

    def commit(action) -> None:
        try:
            connection.ensure_connection()
            backends.append(connection.connection.info.backend_pid)
            gate.wait()
            action()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=commit, args=(action,)) for action in commits]
    for thread in threads:
        thread.start()
    gate.wait()  # all COUNT connections are open now
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started

    issued = Document.objects.filter(series=Series.DOCUMENTS).order_by("serial")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    print(
        json.dumps(
            {
                "connections": len(set(backends)),
                "max_connections": max_connections,
                "errors": errors,
                "seconds": round(seconds, 3),
                "serials": list(issued.values_list("serial", flat=True)),
                "numbers": list(issued.values_list("number", flat=True)),
                "methods": {
                    m: issued.filter(payment_method=m).count() for m in PaymentMethod.values
                },
                "captured": Payment.objects.filter(status="captured").count(),
                "confirmed": Booking.objects.filter(status=BookingStatus.CONFIRMED).count(),
                "violations": [str(v) for v in find_violations()],
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
