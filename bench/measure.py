"""The benchmark's database-side work: users, bulk data, query counts, plans."""

import json
import re
import tempfile
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from bookings.models import Booking, MedicalService
from bookings.services import clinic_today
from portal.ops.invariants import find_violations
from pricing.rules import PRICE_THRESHOLD
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import set_daily_limit

READER_BOOKINGS = 10


def _birthday_that_is_not_today() -> str:
    today = clinic_today()
    return "1980-01-01" if (today.month, today.day) != (1, 1) else "1980-01-02"


def _body(services: list[MedicalService]) -> str:
    return json.dumps(
        {
            "patient_name": "Bench Patient",
            "gender": "male",
            "date_of_birth": _birthday_that_is_not_today(),
            "service_ids": [s.pk for s in services],
            "payment_token": "tok_visa",
        }
    )


def _walk_in_services() -> tuple[list[MedicalService], list[MedicalService]]:
    """Walk-ins (no slot to choose): the cheapest alone, and the fewest of the dearest
    whose total is above the discount threshold (a panel of lab tests)."""
    walk_ins = list(
        MedicalService.objects.filter(active=True, requires_appointment=False).order_by("price")
    )
    panel: list[MedicalService] = []
    for service in reversed(walk_ins):
        panel.append(service)
        if sum(s.price for s in panel) > PRICE_THRESHOLD:
            break
    return walk_ins[:1], panel


def _tokens_file(users) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
    for user in users:
        handle.write(Token.objects.get_or_create(user=user)[0].key + "\n")
    handle.close()
    return handle.name


def prepare(clients: int) -> dict:
    user_model = get_user_model()
    # With e-mail addresses, as registration requires: each booking sends its confirmation.
    users = [
        user_model.objects.create_user(f"bench{n}", f"bench{n}@example.in", password=None)
        for n in range(clients)
    ]
    reader = user_model.objects.create_user("reader", "reader@example.in", password=None)
    cheap, panel = _walk_in_services()
    client = Client()
    token = Token.objects.get_or_create(user=reader)[0].key
    for _ in range(READER_BOOKINGS):
        answer = client.post(
            "/api/booking",
            _body(cheap),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        )
        assert answer.status_code == 201, answer.content
    return {
        "tokens_file": _tokens_file(users),
        "reader_tokens_file": _tokens_file([reader]),
        "reader_token": token,
        "reader_booking": str(Booking.objects.filter(user=reader).order_by("created_at")[5].pk),
        "no_discount_body": _body(cheap),
        "eligible_body": _body(panel),
        "describe": (
            f"walk-ins; no-discount: {cheap[0].name} ₹{cheap[0].price}; eligible: "
            f"{' + '.join(s.name for s in panel)} ₹{sum(s.price for s in panel)}"
        ),
    }


def queries_per_booking(setup: dict) -> dict:
    """Statements one successful booking costs through the API, in process."""
    client = Client()
    counts = {}
    for label, body in (("no_discount", setup["no_discount_body"]),
                        ("eligible", setup["eligible_body"])):  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            answer = client.post(
                "/api/booking",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {setup['reader_token']}",
            )
        assert answer.status_code == 201, answer.content
        statements = [q["sql"] for q in queries]
        counts[label] = {
            "all": len(statements),
            "without_transaction_control": statements_without_transaction_control(statements),
        }
    # Leave today's quota as the race expects to find it.
    QuotaReservation.objects.all().delete()
    DiscountQuota.objects.all().delete()
    return counts


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"}


def statements_without_transaction_control(statements: list[str]) -> int:
    """How many of `statements` do work (BEGIN, COMMIT and savepoints left out)."""
    return sum(1 for s in statements if s.split()[0] not in TRANSACTION_CONTROL)


def reset_today_quota(limit: int) -> None:
    day = clinic_today()
    set_daily_limit(day=day, limit=max(limit, DiscountQuota.objects.get_or_create(
        day=day, defaults={"limit": limit})[0].used), actor="bench")  # fmt: skip
    quota = DiscountQuota.objects.get(day=day)
    if quota.used:
        raise RuntimeError(f"today's quota already has {quota.used} discounts used")


def race_outcome(limit: int, since) -> dict:
    quota = DiscountQuota.objects.get(day=clinic_today())
    return {
        "limit": limit,
        "bookings_in_race": Booking.objects.filter(created_at__gte=since).count(),
        "discounts_granted": Booking.objects.filter(
            created_at__gte=since, discount_applied=True, status="confirmed"
        ).count(),
        "used": quota.used,
        "live_reservations": QuotaReservation.objects.filter(
            quota_id=quota.day, released_at__isnull=True
        ).count(),
        "invariant_violations": find_violations(),
    }


def _model_defaults(model, given: set[str]) -> tuple[str, list]:
    """The columns of `model` a bulk INSERT does not set, filled with the model's own
    defaults: (", col1, col2", [value1, value2]). A column added later with a default
    loads without a change here; one with neither a default nor NULL is named."""
    columns, values, missing = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.null:
            continue
        if not field.has_default():
            missing.append(field.column)
            continue
        columns.append(connection.ops.quote_name(field.column))
        values.append(field.get_db_prep_save(field.get_default(), connection))
    if missing:
        raise RuntimeError(f"bulk_load_to sets no value for {model.__name__}'s {missing}")
    return "".join(", " + c for c in columns), values


def _placeholders(values: list) -> str:
    return "".join(", %s" for _ in values)


def bulk_load_to(size: int) -> None:
    """Grow the booking table to `size` rows (each with one item and five events)."""
    from bookings.models import BookingItem, SagaEvent

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking")
        have = cursor.fetchone()[0]
        if have >= size:
            return
        start, end = have + 1, size
        service = MedicalService.objects.filter(price__lte=1000).first()
        # Ten bookings a patient: the table grows by more patients, as a clinic's does.
        cursor.execute(
            """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                   email, is_staff, is_active, date_joined)
               SELECT '!', false, 'bulk' || %s || '_' || j, '', '', '', false, true, now()
               FROM generate_series(0, %s::int) j RETURNING id""",
            [start, (end - start) // 10],
        )
        first_user = min(row[0] for row in cursor.fetchall())
        booking_columns = (
            "id correlation_id user_id patient_name gender date_of_birth payment_token status "
            "clinic_day currency base_price discount_eligible eligibility_reason "
            "discount_percent discount_applied quota_exhausted discount_amount final_price "
            "confirmation_code created_at updated_at visit_date"
        ).split()
        more, defaults = _model_defaults(Booking, set(booking_columns))
        cursor.execute(
            f"""INSERT INTO bookings_booking ({", ".join(booking_columns)}{more})
               SELECT md5('b' || i)::uuid, md5('c' || i)::uuid, %s + (i - %s) / 10,
                   'Bulk Patient', 'male', DATE '1980-01-01', 'tok_visa', 'confirmed',
                   DATE '2020-01-01' + (i %% 2000), 'INR', %s, false, '', 12.00, false, false,
                   0.00, %s, 'B' || lpad(to_hex(i), 10, '0'),
                   now() - make_interval(secs => i), now(),
                   DATE '2020-01-01' + (i %% 2000){_placeholders(defaults)}
               FROM generate_series(%s::int, %s::int) i""",
            [first_user, start, service.price, service.price, *defaults, start, end],
        )
        item_columns = "booking_id service_id name price sac_code gst_rate".split()
        more, defaults = _model_defaults(BookingItem, {"id", *item_columns})
        cursor.execute(
            f"""INSERT INTO bookings_bookingitem ({", ".join(item_columns)}{more})
               SELECT md5('b' || i)::uuid, %s, %s, %s, %s, %s{_placeholders(defaults)}
               FROM generate_series(%s::int, %s::int) i""",
            [
                service.pk,
                service.name,
                service.price,
                service.sac_code,
                service.gst_rate,
                *defaults,
                start,
                end,
            ],
        )
        event_columns = "correlation_id event_type sequence payload created_at occurrence".split()
        more, defaults = _model_defaults(SagaEvent, {"id", *event_columns})
        cursor.execute(
            f"""INSERT INTO bookings_sagaevent ({", ".join(event_columns)}{more})
               SELECT md5('c' || i)::uuid, e.type, e.seq, '{{}}'::jsonb, now(), 1
                   {_placeholders(defaults)}
               FROM generate_series(%s::int, %s::int) i
               CROSS JOIN (VALUES ('BookingRequested', 1), ('PricingCalculated', 2),
                   ('DiscountQuotaReserved', 3), ('PaymentCompleted', 4),
                   ('BookingConfirmed', 5)) AS e(type, seq)""",
            [*defaults, start, end],
        )
        cursor.execute("ANALYZE")


def read_paths(setup: dict) -> dict:
    return {
        "status": f"/api/booking/{setup['reader_booking']}/status",
        "list": "/api/booking",
    }


def indexes_used(setup: dict, paths: dict | None = None) -> dict:
    """EXPLAIN every SELECT the reads run (the two booking reads unless `paths` says
    otherwise); name the indexes the plans use."""
    client = Client()
    found: dict[str, list[str]] = {}
    for label, path in (paths or read_paths(setup)).items():
        with CaptureQueriesContext(connection) as queries:
            client.get(path, HTTP_AUTHORIZATION=f"Token {setup['reader_token']}")
        names: list[str] = []
        with connection.cursor() as cursor:
            for query in queries:
                if not query["sql"].startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                for name in re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\S+)", plan):
                    names.append(name)
                names += re.findall(r"Bitmap Index Scan on (\S+)", plan)
                for table in re.findall(r"Seq Scan on ((?:bookings|scheduling)_\S+)", plan):
                    names.append("SEQ SCAN: " + table)
        found[label] = sorted(set(names))
    return found


# --- /api/slots as the slot table grows -------------------------------------------

SLOT_PRACTITIONERS = 10
SLOTS_PER_DAY = 32  # 09:00–17:00 IST, every 15 minutes


def slot_day() -> date:
    """The day /api/slots is asked about: tomorrow, inside the booking horizon."""
    return clinic_today() + timedelta(days=1)


def slot_path() -> str:
    return f"/api/slots?date={slot_day().isoformat()}"


def bench_practitioners() -> list[int]:
    """Ten practitioners of the bench, each providing one appointment service."""
    from scheduling.models import Practitioner

    service = MedicalService.objects.filter(active=True, requires_appointment=True).first()
    ids = []
    for n in range(SLOT_PRACTITIONERS):
        doctor, _ = Practitioner.objects.get_or_create(
            registration_number=f"BENCH-{n}",
            defaults={"name": f"Dr. Bench {n:02d}", "specialty": "General Physician"},
        )
        doctor.services.add(service)
        ids.append(doctor.pk)
    return ids


def bulk_load_slots(practitioner_days: int) -> int:
    """Grow the slot table to `practitioner_days` days of the bench's practitioners
    (32 slots each): the asked-about day's first, then earlier days. The asked-about
    day's answer stays the same (10 × 32 slots); only the table around it grows.
    Returns how many slots the bench's practitioners have."""
    from scheduling.models import Slot, SlotDay
    from scheduling.services import clinic_zone

    doctors = bench_practitioners()
    # The day is the bench's alone: no schedule adds its slots around the bench's.
    SlotDay.objects.get_or_create(day=slot_day())
    days = max(1, practitioner_days // SLOT_PRACTITIONERS)
    first_start = datetime.combine(slot_day(), time(9), tzinfo=clinic_zone())
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO scheduling_slot (practitioner_id, start, "end", capacity, booked)
               SELECT p, s, s + interval '15 minutes', 3, 0
               FROM unnest(%s::int[]) p,
                    generate_series(0, %s::int) d,
                    generate_series(0, %s::int) m,
                    LATERAL (SELECT %s::timestamptz - make_interval(days => d)
                                    + make_interval(mins => 15 * m) AS s) t
               ON CONFLICT DO NOTHING""",
            [doctors, days - 1, SLOTS_PER_DAY - 1, first_start],
        )
        cursor.execute("ANALYZE scheduling_slot")
    return Slot.objects.filter(practitioner_id__in=doctors).count()


def slots_answer_size() -> int:
    """How many slots /api/slots gives for the asked-about day (a check on the setup)."""
    answer = Client().get(slot_path())
    assert answer.status_code == 200, answer.content
    return len(answer.json())


def today() -> date:
    return clinic_today()
