"""The `commits` fixture (tests/support/commits.py) runs on-commit callbacks when the
code's own transaction would have committed, and only then."""

import pytest
from django.db import transaction

from bookings.models import MedicalService

pytestmark = pytest.mark.usefixtures("commits")


def test_outside_the_codes_own_atomic_a_callback_runs_at_once():
    ran = []
    transaction.on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


def test_a_callback_waits_for_the_outermost_atomic_block_of_the_code():
    ran = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("outer"))
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("inner"))
        assert ran == []  # an inner block's exit commits nothing
    assert ran == ["outer", "inner"]


def test_a_rolled_back_block_drops_its_callbacks_and_keeps_the_others():
    ran = []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("kept"))
        with pytest.raises(RuntimeError), transaction.atomic():
            transaction.on_commit(lambda: ran.append("dropped"))
            raise RuntimeError("undone")
    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(lambda: ran.append("dropped too"))
        raise RuntimeError("undone")
    assert ran == ["kept"]


def test_a_callback_that_commits_work_of_its_own_has_its_callbacks_run_too():
    ran = []

    def step():
        with transaction.atomic():
            MedicalService.objects.create(name="Test hook service", price="1.00")
            transaction.on_commit(lambda: ran.append("next step"))

    with transaction.atomic():
        transaction.on_commit(step)
    assert ran == ["next step"]
    assert MedicalService.objects.filter(name="Test hook service").exists()
