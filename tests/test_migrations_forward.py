"""A database made by the last migrations before the edge moved to `portal` migrates
forward with its rows intact: models that changed apps kept their tables."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# Every app's last migration at main before the move (commit 8fa338b): bookings kept
# IdempotencyKey then, and the apps added since did not exist.
BEFORE_THE_MOVE = [
    ("bookings", "0006_idempotency_key"),
    ("pricing", "0003_clinic_settings_page"),
    ("quotas", "0002_default_settings"),
    ("payments", "0001_initial"),
    ("portal", None),
    ("scheduling", None),
    ("notifications", None),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    named = [(app, name) for app, name in targets if name is not None]
    return executor.loader.project_state(named).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_idempotency_keys_written_before_the_move_are_read_after_it(django_user_model):
    old = migrate(BEFORE_THE_MOVE)
    OldKey = old.get_model("bookings", "IdempotencyKey")
    user = old.get_model("auth", "User").objects.create(username="before-the-move")
    OldKey.objects.create(
        user_id=user.pk,
        key="order-1",
        fingerprint="f" * 64,
        state="done",
        response_status=201,
        response_body={"id": "kept"},
    )
    with pytest.raises(LookupError):
        old.get_model("portal", "IdempotencyKey")
    confirmed = old.get_model("bookings", "Booking").objects.create(
        user_id=user.pk,
        patient_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        payment_token="tok_ok",
        status="confirmed",
        clinic_day="2026-11-20",
        base_price="1200.00",
        final_price="1020.00",
        confirmation_code="CONF-BEFORE",
    )

    new = migrate(latest())

    moved = new.get_model("portal", "IdempotencyKey").objects.get(key="order-1")
    assert (moved.user_id, moved.response_status, moved.response_body) == (
        user.pk,
        201,
        {"id": "kept"},
    )
    with pytest.raises(LookupError):
        new.get_model("bookings", "IdempotencyKey")
    # A booking of the old layout reads back whole, as a walk-in (no appointment).
    kept = new.get_model("bookings", "Booking").objects.get(pk=confirmed.pk)
    assert (kept.status, str(kept.final_price), kept.confirmation_code) == (
        "confirmed",
        "1020.00",
        "CONF-BEFORE",
    )
    assert kept.appointment_start is None
    # The constraint still guards the moved table: one answer per user and key.
    from portal.models import IdempotencyKey

    assert IdempotencyKey.objects.filter(user_id=user.pk).count() == 1
